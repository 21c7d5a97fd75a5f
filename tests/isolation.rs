//! What a guest must never do to the host: write outside its own tmpfs
//! with `--read-only` (EROFS), see the host's /tmp, hold host files in its
//! stub, run a stub without seccomp, or leave a stub behind when vkernel is
//! killed. These run only under vkernel (the programs would change the host
//! if run natively). tests/overlay.rs has the default, writable root.

mod common;

use common::{Input, Link};
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// A host directory for one test, removed when dropped.
struct HostDir(PathBuf);

impl HostDir {
    fn new(prefix: &str) -> HostDir {
        let dir = common::scratch_dir().join(common::unique_name(prefix));
        fs::create_dir_all(&dir).expect("create test directory");
        HostDir(dir)
    }
}

impl Drop for HostDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A host path removed when dropped (for things the guest must not create).
struct Cleanup(Vec<PathBuf>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = fs::remove_dir_all(p);
            let _ = fs::remove_file(p);
        }
    }
}

#[test]
fn read_only_root_writes_outside_tmpfs_get_erofs_and_tmp_stays_private() {
    let bin = common::build_in("sandbox", "isolation", Link::Static);
    let dir = HostDir::new("vk-iso");
    fs::write(dir.0.join("marker"), "host data\n").unwrap();
    fs::create_dir(dir.0.join("emptydir")).unwrap();
    let name = common::unique_name("vk-iso-guest");
    let host_tmp = PathBuf::from(format!("/tmp/{}", common::unique_name("vk-iso-host")));
    fs::write(&host_tmp, "host tmp\n").unwrap();
    let _cleanup = Cleanup(vec![
        host_tmp.clone(),
        PathBuf::from(format!("/etc/{name}")),
        PathBuf::from(format!("/{name}")),
        PathBuf::from(format!("/usr/{name}")),
        PathBuf::from(format!("/tmp/{name}")),
        PathBuf::from(format!("/tmp/{name}.d")),
        PathBuf::from(format!("/dev/shm/{name}")),
    ]);

    let out = common::run_vkernel_with(&["--read-only"], &bin, &[dir.0.to_str().unwrap(), &name, host_tmp.to_str().unwrap()], &Input::Null);

    // The host is unchanged whatever the guest reported.
    for p in [format!("/etc/{name}"), format!("/{name}"), format!("/usr/{name}"), format!("/tmp/{name}"), format!("/tmp/{name}.d"), format!("/dev/shm/{name}")]
    {
        assert!(!Path::new(&p).exists(), "guest created host path {p}");
    }
    assert_eq!(fs::read_to_string(dir.0.join("marker")).ok().as_deref(), Some("host data\n"), "host marker file changed");
    assert!(dir.0.join("emptydir").is_dir(), "host emptydir removed");
    assert!(!dir.0.join("renamed").exists(), "guest created a host file");
    assert!(host_tmp.exists(), "host /tmp file disappeared");

    assert!(out.status == 0 && !out.timed_out, "guest isolation checks failed (status {}):\n{}\nstderr:\n{}", out.status, out.stdout_str(), out.stderr_str());
}

#[test]
fn read_only_root_busybox_mkdir_in_etc_is_erofs_and_writes_to_tmp_stay_in_the_guest() {
    if !common::have_busybox("read_only_root_busybox_mkdir_in_etc_is_erofs_and_writes_to_tmp_stay_in_the_guest") {
        return;
    }
    let name = common::unique_name("vk-iso-bb");
    let etc = PathBuf::from(format!("/etc/{name}"));
    let tmp = PathBuf::from(format!("/tmp/{name}"));
    let _cleanup = Cleanup(vec![etc.clone(), tmp.clone()]);

    let mkdir = common::run_vkernel_with(&["--read-only"], common::BUSYBOX, &["mkdir", etc.to_str().unwrap()], &Input::Null);
    assert!(!etc.exists(), "guest mkdir reached the host: {}", etc.display());
    assert_eq!(mkdir.status, 1, "busybox mkdir /etc/x exit status");
    assert_eq!(mkdir.stderr_str(), format!("mkdir: can't create directory '{}': Read-only file system\n", etc.display()));

    let dd = common::run_vkernel(common::BUSYBOX, &["dd", "if=/etc/passwd", &format!("of={}", tmp.display())], &Input::Null);
    assert!(!tmp.exists(), "guest /tmp write reached the host /tmp");
    assert_eq!(dd.status, 0, "dd into guest /tmp failed: {}", dd.stderr_str());
}

/// A running vkernel whose stdout is read line by line.
struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Running {
    fn start(program: &Path, args: &[&str]) -> Running {
        let mut cmd = common::vkernel_command(program, args);
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::inherit());
        let mut child = cmd.spawn().expect("spawn vkernel");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Running { child, lines }
    }

    fn wait_for_line(&mut self, want: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line == want => return,
                Ok(_) => continue,
                Err(_) => {
                    let status = self.child.try_wait().ok().flatten();
                    let _ = self.child.kill();
                    panic!("guest never printed {want:?} (vkernel status {status:?})");
                }
            }
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn stubs_are_sealed_and_die_with_vkernel(mode: &[&str]) {
    let bin = common::build_in("sandbox", "idle", Link::Static);
    let mut vk = Running::start(&bin, mode);
    vk.wait_for_line("ready", Duration::from_secs(30));
    let vk_pid = vk.child.id();
    let stubs = common::settled_stubs(vk_pid);

    vk.child.kill().expect("SIGKILL vkernel");
    vk.child.wait().expect("reap vkernel");
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let alive: Vec<u32> = stubs.iter().copied().filter(|&s| !common::is_dead(s)).collect();
        if alive.is_empty() {
            break;
        }
        if Instant::now() > deadline {
            panic!("stubs {alive:?} still alive 2 s after vkernel was killed with SIGKILL");
        }
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn stub_of_a_sleeping_guest_holds_only_the_memfd_is_seccomped_and_dies_with_vkernel() {
    stubs_are_sealed_and_die_with_vkernel(&["sleep", "30"]);
}

#[test]
fn stub_of_a_spinning_guest_holds_only_the_memfd_is_seccomped_and_dies_with_vkernel() {
    stubs_are_sealed_and_die_with_vkernel(&["spin"]);
}

#[test]
fn stub_of_busybox_sleep_is_sealed_and_dies_with_vkernel() {
    if !common::have_busybox("stub_of_busybox_sleep_is_sealed_and_dies_with_vkernel") {
        return;
    }
    let mut cmd = common::vkernel_command(common::BUSYBOX, &["sleep", "5"]);
    cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::inherit());
    let mut child = cmd.spawn().expect("spawn vkernel");
    let pid = child.id();
    // No "ready" line from busybox: give it time to start sleeping.
    thread::sleep(Duration::from_millis(700));
    let stubs = std::panic::catch_unwind(|| common::settled_stubs(pid));
    let _ = child.kill();
    let _ = child.wait();
    let stubs = match stubs {
        Ok(s) => s,
        Err(e) => std::panic::resume_unwind(e),
    };
    let deadline = Instant::now() + Duration::from_secs(2);
    while stubs.iter().any(|&s| !common::is_dead(s)) {
        assert!(Instant::now() < deadline, "stubs {stubs:?} outlived vkernel by 2 s");
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn guest_exit_leaves_no_stub_behind() {
    let bin = common::build_in("sandbox", "idle", Link::Static);
    let mut vk = Running::start(&bin, &["sleep", "1"]);
    vk.wait_for_line("ready", Duration::from_secs(30));
    let stubs = common::settled_stubs(vk.child.id());
    let status = vk.child.wait().expect("wait for vkernel");
    assert_eq!(common::status_code(status), 0, "idle sleep 1 exit status");
    let deadline = Instant::now() + Duration::from_secs(2);
    while stubs.iter().any(|&s| !common::is_dead(s)) {
        assert!(Instant::now() < deadline, "stubs {stubs:?} outlived a clean exit");
        thread::sleep(Duration::from_millis(20));
    }
}
