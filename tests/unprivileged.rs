//! vkernel as an unprivileged user: when the tests run as root, run guest
//! programs through `setpriv --reuid=65534 --regid=65534 --clear-groups`,
//! natively and under vkernel, and compare; check the stub is sealed too.
//! Skipped (with a message) when not root.

mod common;

use common::{Input, Link};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

const NOBODY: &str = "65534";

fn skip_unless_root(test: &str) -> bool {
    if common::is_root() {
        return false;
    }
    eprintln!("SKIPPED {test}: needs root to switch to uid 65534");
    true
}

/// A world-readable copy of vkernel and the guest binaries: the build tree
/// may sit under a directory the unprivileged user cannot enter. It lives in
/// /var/tmp, not /tmp: the guest's /tmp is vkernel's own tmpfs, so host
/// files there are invisible to guests.
fn public_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        const PREFIX: &str = "vk-unprivileged-tests-";
        // Remove copies left by earlier runs whose process is gone.
        for entry in fs::read_dir("/var/tmp").into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(pid) = name.strip_prefix(PREFIX) {
                if !Path::new(&format!("/proc/{pid}")).exists() {
                    let _ = fs::remove_dir_all(entry.path());
                }
            }
        }
        let dir = PathBuf::from(format!("/var/tmp/{PREFIX}{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create the public test directory");
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        dir
    })
}

fn publish(src: &Path) -> PathBuf {
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let dst = public_dir().join(src.file_name().expect("file name"));
    if !dst.exists() {
        common::copy_executable(src, &dst);
    }
    dst
}

fn as_nobody<S: AsRef<std::ffi::OsStr>>(program: &Path, args: &[S]) -> Command {
    let mut cmd = Command::new("setpriv");
    cmd.args([&format!("--reuid={NOBODY}"), &format!("--regid={NOBODY}"), "--clear-groups", "--"])
        .arg(program)
        .args(args)
        .env_clear()
        .envs(common::guest_env())
        .current_dir("/");
    cmd
}

fn vkernel_args(program: &str, args: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = common::vkernel().get_args().map(|a| a.to_string_lossy().into_owned()).collect();
    v.extend(["-m", common::GUEST_RAM, "--", program].map(String::from));
    v.extend(args.iter().map(|a| a.to_string()));
    v
}

fn check(program: &str, args: &[&str]) {
    if skip_unless_root(program) {
        return;
    }
    let bin = publish(&common::build(program, Link::Static));
    let vk = publish(Path::new(common::VKERNEL));
    let native = common::run_with(as_nobody(&bin, args), &Input::Null, common::TIMEOUT);
    let bin_str = bin.to_string_lossy().into_owned();
    let under = common::run_with(as_nobody(&vk, &vkernel_args(&bin_str, args)), &Input::Null, common::TIMEOUT);
    common::assert_same(&native, &under);
}

#[test]
fn startup_state_matches_as_nobody() {
    check("startup", &["x", "y z"]);
}

#[test]
fn identity_matches_as_nobody() {
    check("identity", &[]);
}

#[test]
fn memory_mappings_match_as_nobody() {
    check("mem_mmap", &[]);
}

#[test]
fn file_io_matches_as_nobody() {
    check("files_io", &[]);
}

#[test]
fn file_metadata_matches_as_nobody() {
    check("files_meta", &[]);
}

#[test]
fn bad_pointers_match_as_nobody() {
    check("bad_pointers", &[]);
}

#[test]
fn fpu_state_matches_as_nobody() {
    check("fpu", &[]);
}

#[test]
fn segfault_status_matches_as_nobody() {
    check("faults", &["null-write"]);
}

/// Unprivileged, SCM_RIGHTS meets the in-flight limit (ETOOMANYREFS) and
/// SCM_CREDENTIALS refuses other ids (EPERM).
#[test]
fn unix_socket_rights_and_credentials_match_as_nobody() {
    check("unix_rights", &[]);
}

/// Unprivileged, connecting needs write permission on the socket node.
#[test]
fn unix_socket_names_match_as_nobody() {
    check("unix_names", &[]);
}

#[test]
fn capability_rules_match_as_nobody() {
    check("creds_caps", &[]);
}

#[test]
fn proc_files_match_as_nobody() {
    check("proc_files", &[]);
}

/// Unprivileged, RLIMIT_MEMLOCK bounds mlock, mlockall and MAP_LOCKED.
#[test]
fn memory_locking_and_limits_match_as_nobody() {
    check("mem_lock", &[]);
}

/// Only as nobody: natively, root would set the host's names and clock.
#[test]
fn privileged_settings_and_priorities_refuse_as_on_linux_as_nobody() {
    check("admin_calls", &[]);
}

#[test]
fn memfd_create_matches_as_nobody() {
    check("mem_memfd", &[]);
}

/// Unprivileged, an undumpable process is out of reach and namespaces
/// cannot be entered or made.
#[test]
fn process_vm_rw_unshare_and_setns_match_as_nobody() {
    check("proc_share", &[]);
}

#[test]
fn stub_is_sealed_and_dies_with_vkernel_as_nobody() {
    if skip_unless_root("stub_is_sealed_and_dies_with_vkernel_as_nobody") {
        return;
    }
    let bin = publish(&common::build_in("sandbox", "idle", Link::Static));
    let vk = publish(Path::new(common::VKERNEL));
    let bin_str = bin.to_string_lossy().into_owned();
    // setpriv execs vkernel in place, so the child's pid is vkernel's.
    let mut cmd = as_nobody(&vk, &vkernel_args(&bin_str, &["sleep", "30"]));
    cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::inherit());
    let mut child = cmd.spawn().expect("spawn setpriv vkernel");
    let pid = child.id();
    thread::sleep(Duration::from_millis(500));
    let stubs = std::panic::catch_unwind(|| {
        let stubs = common::settled_stubs(pid);
        for &s in &stubs {
            let uid = common::status_field(s, "Uid").unwrap_or_default();
            assert!(uid.split_whitespace().all(|u| u == NOBODY), "stub {s} runs with Uid: {uid}");
        }
        stubs
    });
    let _ = child.kill();
    let _ = child.wait();
    let stubs = stubs.unwrap_or_else(|e| std::panic::resume_unwind(e));
    let deadline = Instant::now() + Duration::from_secs(2);
    while stubs.iter().any(|&s| !common::is_dead(s)) {
        assert!(Instant::now() < deadline, "stubs {stubs:?} outlived vkernel by 2 s");
        thread::sleep(Duration::from_millis(20));
    }
}
