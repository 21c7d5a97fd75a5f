//! Real programs from the host, natively and under vkernel's default
//! overlay root, with identical stdout, stderr and exit status: bash,
//! coreutils, tar | xz -T2, python3, gcc and g++, make -j2, git, perl and
//! the sqlite3 shell. Each test is a bash script in `tests/userland/` that
//! builds its own input in an empty working directory.
//!
//! Both runs use the same paths: a scratch directory under /var/tmp with
//! `work/` (the cwd), `home/` (HOME) and `tmp/` (TMPDIR). vkernel runs
//! first, seeing them through the overlay, and they must still be empty
//! on the host afterwards; then the native run writes in them. When the
//! tests run as root, both runs are uid 65534 (setpriv), so a native run
//! cannot write outside its scratch directory and both see the same owner.
//! `make_j2_in_a_shared_directory` uses `--share` instead: the build must
//! land on the host.
//!
//! `VK_SELFCHECK=1` compares two native runs, to check that a script is
//! deterministic without vkernel.

mod common;

use common::Input;
use std::fs;
use std::os::unix::fs::{PermissionsExt, chown};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

const NOBODY: u32 = 65534;

/// Compiles and xz take longer than the 30 s of a single guest program.
const TIMEOUT: Duration = Duration::from_secs(240);

/// A directory every user can enter, holding a copy of vkernel (the build
/// tree may not be reachable by uid 65534) and one directory per test.
/// Not under /tmp: the guest's /tmp is vkernel's own tmpfs.
fn public_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        const PREFIX: &str = "vk-userland-tests-";
        // Remove what earlier runs whose process is gone left behind.
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

/// vkernel, copied where uid 65534 can run it.
fn vkernel() -> PathBuf {
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let dst = public_dir().join("vkernel");
    if !dst.exists() {
        common::copy_executable(Path::new(common::VKERNEL), &dst);
    }
    dst
}

/// One test's scratch directory: `script.sh`, `work/`, `home/`, `tmp/`.
struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    fn new(name: &str, script: &str) -> Scratch {
        let dir = public_dir().join(name);
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create the test directory");
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        let source = common::repo_dir().join("tests/userland").join(script);
        fs::copy(&source, dir.join("script.sh")).unwrap_or_else(|e| panic!("copy {}: {e}", source.display()));
        fs::set_permissions(dir.join("script.sh"), fs::Permissions::from_mode(0o644)).unwrap();
        let scratch = Scratch { dir };
        scratch.empty_dirs();
        scratch
    }

    fn work(&self) -> PathBuf {
        self.dir.join("work")
    }

    /// (Re)create `work/`, `home/` and `tmp/` empty, owned by the user the
    /// runs are.
    fn empty_dirs(&self) {
        for sub in ["work", "home", "tmp"] {
            let path = self.dir.join(sub);
            let _ = fs::remove_dir_all(&path);
            fs::create_dir(&path).expect("create a scratch directory");
            if common::is_root() {
                chown(&path, Some(NOBODY), Some(NOBODY)).expect("chown a scratch directory to 65534");
            }
        }
    }

    /// Names left in `work/`, `home/` and `tmp/` on the host.
    fn host_leftovers(&self) -> Vec<String> {
        let mut names = Vec::new();
        for sub in ["work", "home", "tmp"] {
            for entry in fs::read_dir(self.dir.join(sub)).into_iter().flatten().flatten() {
                names.push(format!("{sub}/{}", entry.file_name().to_string_lossy()));
            }
        }
        names
    }

    /// `program args`, as uid 65534 when root, with the fixed environment
    /// (HOME and TMPDIR in scratch) and cwd `work/`.
    fn command(&self, program: &Path, args: &[&str]) -> Command {
        let mut cmd = if common::is_root() {
            let mut c = Command::new("setpriv");
            c.args([&format!("--reuid={NOBODY}"), &format!("--regid={NOBODY}"), "--clear-groups", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        };
        cmd.args(args).env_clear().envs(common::guest_env());
        cmd.env("HOME", self.dir.join("home")).env("TMPDIR", self.dir.join("tmp")).current_dir(self.work());
        cmd
    }

    fn script(&self) -> String {
        self.dir.join("script.sh").to_string_lossy().into_owned()
    }

    fn run_native(&self) -> common::Outcome {
        let script = self.script();
        common::run_with(self.command(Path::new("/bin/bash"), &[&script]), &Input::Null, TIMEOUT)
    }

    fn run_vkernel(&self, options: &[&str]) -> common::Outcome {
        if std::env::var_os("VK_SELFCHECK").is_some() {
            return self.run_native();
        }
        let script = self.script();
        let mut args: Vec<&str> = options.to_vec();
        args.extend(["--", "/bin/bash", &script]);
        common::run_with(self.command(&vkernel(), &args), &Input::Null, TIMEOUT)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// Whether `program` is installed; in CI a missing one is a failure.
fn have(test: &str, program: &str) -> bool {
    if Path::new(program).exists() {
        return true;
    }
    assert!(std::env::var_os("CI").is_none(), "{program} is missing in CI: .ci/run must install it");
    eprintln!("SKIPPED {test}: {program} not found");
    false
}

/// Run `tests/userland/<script>` under vkernel's overlay root, check the
/// host directories stayed empty, run it natively, and compare.
fn check(test: &str, script: &str, programs: &[&str]) {
    if !programs.iter().all(|p| have(test, p)) {
        return;
    }
    let scratch = Scratch::new(test, script);
    let vk = scratch.run_vkernel(&[]);
    let leftovers = scratch.host_leftovers();
    if std::env::var_os("VK_SELFCHECK").is_some() {
        scratch.empty_dirs();
    } else {
        assert!(leftovers.is_empty(), "the guest's writes reached the host through the overlay: {leftovers:?}");
    }
    let native = scratch.run_native();
    common::assert_same(&native, &vk);
    assert_eq!(native.status, 0, "{script} fails natively:\n{}{}", native.stdout_str(), native.stderr_str());
}

#[test]
fn bash_arrays_tests_process_substitution_coprocesses_wait_n_mapfile_job_control() {
    check("bash", "bash.sh", &["/bin/bash"]);
}

#[test]
fn coreutils_sort_split_cp_du_df_ls_find_xargs() {
    check("coreutils", "coreutils.sh", &["/usr/bin/sort", "/usr/bin/find", "/usr/bin/xargs"]);
}

#[test]
fn tar_through_xz_with_two_threads_and_back() {
    check("tar_xz", "tar_xz.sh", &["/usr/bin/tar", "/usr/bin/xz"]);
}

#[test]
fn python_threads_futures_subprocess_pools_asyncio_sqlite_socketpair() {
    check("python", "python.sh", &["/usr/bin/python3"]);
}

#[test]
fn gcc_and_gxx_compile_link_and_run_beside_the_sources() {
    check("gcc", "gcc.sh", &["/usr/bin/gcc", "/usr/bin/g++"]);
}

#[test]
fn make_j2_builds_a_12_file_project() {
    check("make", "make.sh", &["/usr/bin/make", "/usr/bin/gcc"]);
}

#[test]
fn git_init_add_commit_log_diff_status_merge_clone() {
    check("git", "git.sh", &["/usr/bin/git"]);
}

#[test]
fn perl_text_files_fork_pipes_sockets_signals() {
    check("perl", "perl.sh", &["/usr/bin/perl"]);
}

#[test]
fn sqlite3_shell_in_the_working_directory() {
    check("sqlite3", "sqlite.sh", &["/usr/bin/sqlite3"]);
}

/// `--share WORK:WORK`: the same build, written through to the host
/// directory, whose result the native run then reproduces from scratch.
#[test]
fn make_j2_in_a_shared_directory() {
    let test = "make_j2_in_a_shared_directory";
    if !have(test, "/usr/bin/make") || !have(test, "/usr/bin/gcc") {
        return;
    }
    let scratch = Scratch::new("make-share", "make.sh");
    let work = scratch.work().to_string_lossy().into_owned();
    let vk = scratch.run_vkernel(&["--share", &format!("{work}:{work}")]);
    let mut built: Vec<String> =
        fs::read_dir(scratch.work().join("proj")).into_iter().flatten().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    built.sort();
    assert_eq!(built, ["Makefile", "app", "build", "include", "src"], "the shared build did not land on the host");
    let app = fs::metadata(scratch.work().join("proj/app")).map(|m| m.len()).unwrap_or(0);
    assert!(app > 0, "proj/app on the host is empty");
    scratch.empty_dirs();
    let native = scratch.run_native();
    common::assert_same(&native, &vk);
}

/// `xargs` fills a command line up to the kernel's limit (a quarter of the
/// stack limit), and past it execve is E2BIG.
#[test]
fn xargs_fills_command_lines_to_the_execve_limit() {
    if !have("xargs_fills_command_lines_to_the_execve_limit", "/usr/bin/xargs") {
        return;
    }
    let scratch = Scratch::new("xargs-limit", "xargs_limit.sh");
    let vk = scratch.run_vkernel(&[]);
    let native = scratch.run_native();
    common::assert_same(&native, &vk);
}
