//! The system call fuzzer (`tests/fuzz/syscall_fuzz.c`) under vkernel, for
//! fixed seeds. Never natively: random system calls on the host kernel
//! could damage the machine (the program refuses to run unless it is PID 1
//! under vkernel). A run fails on:
//!   - a vkernel panic: "panicked" on stderr, or exit status 70 or 101;
//!     or a crash: an abort (failed allocation) or a fatal signal;
//!   - a hang: the guest must finish within its own time limit; vkernel is
//!     killed after `RUN_LIMIT`;
//!   - a process the kernel lost: the fuzzer's own report (a worker not
//!     gone 5 s after SIGKILL), or a stub (`vkernel-stub`) alive 2 s after
//!     vkernel exited (this test process is a child subreaper, so orphaned
//!     stubs become its children);
//!   - a change on the host: the fuzzer is pointed (-p) at a canary
//!     directory and runs with its cwd in a watched scratch directory; both
//!     must be exactly as before (names, sizes, modes, mtimes, contents),
//!     and no `vk-fuzz-*` directory may appear in the host's /tmp.
//! `bench/fuzz.sh` runs the same fuzzer for many seeds and millions of
//! calls; each failure it finds becomes a seed here or a reproducer in
//! `tests/FUZZ_FINDINGS.md`.

mod common;

use common::{Link, VKERNEL};
use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, Once};
use std::thread;
use std::time::{Duration, Instant};

/// The guest's own limit (-d) and how long vkernel may take in all.
const GUEST_SECONDS: u32 = 20;
const RUN_LIMIT: Duration = Duration::from_secs(50);

/// Flags that steer clear of findings not fixed yet (see
/// FUZZ_FINDINGS.md); none are left, so every seed tries everything.
const AVOID_KNOWN: &[&str] = &[];

unsafe extern "C" {
    fn prctl(option: i32, arg2: u64, arg3: u64, arg4: u64, arg5: u64) -> i32;
    fn waitpid(pid: i32, status: *mut i32, options: i32) -> i32;
}

/// Orphaned stubs of a dead vkernel are reparented to us, where they can
/// be found; only pids we identify are ever reaped.
fn become_subreaper() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        const PR_SET_CHILD_SUBREAPER: i32 = 36;
        // SAFETY: prctl(PR_SET_CHILD_SUBREAPER, 1) only changes how this
        // process's orphaned descendants are reparented.
        unsafe { prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    });
}

/// One fuzz run at a time: each has 4 busy workers and the machine 2 cores.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// A host directory for one run, removed when dropped.
struct HostDir(PathBuf);

impl Drop for HostDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Everything about a tree that a guest write could change.
fn snapshot(root: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(p) = stack.pop() {
        let Ok(md) = fs::symlink_metadata(&p) else { continue };
        let mut desc = format!("mode {:o} size {} mtime {}.{} uid {} nlink {}", md.mode(), md.size(), md.mtime(), md.mtime_nsec(), md.uid(), md.nlink());
        if md.file_type().is_symlink() {
            desc += &format!(" -> {:?}", fs::read_link(&p).ok());
        } else if md.is_file() {
            desc += &format!(" content {:?}", fs::read(&p).ok());
        } else if md.is_dir() {
            if let Ok(entries) = fs::read_dir(&p) {
                for e in entries.flatten() {
                    stack.push(e.path());
                }
            }
        }
        out.insert(p, desc);
    }
    out
}

fn host_tmp_fuzz_dirs() -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir("/tmp")
        .map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).filter(|n| n.starts_with("vk-fuzz-")).collect())
        .unwrap_or_default();
    v.sort();
    v
}

fn cmdline(pid: u32) -> String {
    fs::read(format!("/proc/{pid}/cmdline")).map(|b| String::from_utf8_lossy(&b).replace('\0', " ")).unwrap_or_default()
}

/// Stubs reparented to this process (their vkernel is gone).
fn orphaned_stubs() -> Vec<u32> {
    common::children_of(std::process::id()).into_iter().filter(|&p| cmdline(p).starts_with("vkernel-stub") && !common::is_dead(p)).collect()
}

fn reap(pids: &[u32]) {
    for &p in pids {
        let mut st = 0;
        // SAFETY: waitpid on a specific pid we identified as our zombie
        // child; WNOHANG never blocks.
        unsafe {
            waitpid(p as i32, &mut st, 1 /* WNOHANG */)
        };
    }
}

/// Reads a stream to its end, keeping only the last `TAIL` bytes: a guest
/// may open its console (/proc/1/fd/1) and send it gigabytes.
fn read_tail(r: &mut impl Read) -> Vec<u8> {
    const TAIL: usize = 1 << 20;
    let mut kept = Vec::new();
    let mut chunk = vec![0u8; 64 << 10];
    while let Ok(n) = r.read(&mut chunk) {
        if n == 0 {
            break;
        }
        kept.extend_from_slice(&chunk[..n]);
        if kept.len() > 2 * TAIL {
            kept.drain(..kept.len() - TAIL);
        }
    }
    kept
}

fn fuzz(seed: u64, calls: u32, flags: &[&str]) {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    become_subreaper();
    let bin = common::build_in("fuzz", "syscall_fuzz", Link::Static);
    let dir = HostDir(common::scratch_dir().join(common::unique_name("vk-fuzz")));
    let canary = dir.0.join("canary");
    let cwd = dir.0.join("cwd");
    fs::create_dir_all(canary.join("sub")).unwrap();
    fs::create_dir_all(&cwd).unwrap();
    fs::write(canary.join("file"), "canary data\n").unwrap();
    fs::write(canary.join("sub/inner"), "inner canary\n").unwrap();
    fs::write(cwd.join("cwd-file"), "in the guest's cwd\n").unwrap();
    std::os::unix::fs::symlink("file", canary.join("link")).unwrap();
    let before = snapshot(&dir.0);
    let tmp_before = host_tmp_fuzz_dirs();

    let seed_arg = seed.to_string();
    let calls_arg = calls.to_string();
    let guest_seconds = GUEST_SECONDS.to_string();
    let mut args: Vec<&str> = vec!["-w", "4", "-d", &guest_seconds, "-p", canary.to_str().unwrap()];
    args.extend_from_slice(flags);
    args.push(&seed_arg);
    args.push(&calls_arg);
    let reproduce = format!("cd {} && {VKERNEL} -m {} -- {} {}", cwd.display(), common::GUEST_RAM, bin.display(), args.join(" "));

    let mut cmd = common::vkernel();
    cmd.args(["-m", common::GUEST_RAM, "--"]).arg(&bin).args(&args).env_clear().envs(common::guest_env()).current_dir(&cwd);
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn vkernel");
    let vk_pid = child.id();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_reader = thread::spawn(move || read_tail(&mut out));
    let err_reader = thread::spawn(move || read_tail(&mut err));
    // Every stub seen while it runs must be gone after.
    let start = Instant::now();
    let mut stubs: Vec<u32> = Vec::new();
    let mut timed_out = false;
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait for vkernel") {
            break st;
        }
        for s in common::children_of(vk_pid) {
            if !stubs.contains(&s) {
                stubs.push(s);
            }
        }
        if start.elapsed() > RUN_LIMIT {
            timed_out = true;
            let _ = child.kill();
            break child.wait().expect("wait after kill");
        }
        thread::sleep(Duration::from_millis(20));
    };
    let elapsed = start.elapsed();
    let stdout = String::from_utf8_lossy(&out_reader.join().unwrap_or_default()).into_owned();
    let stderr = String::from_utf8_lossy(&err_reader.join().unwrap_or_default()).into_owned();
    let code = common::status_code(status);

    let deadline = Instant::now() + Duration::from_secs(2);
    let mut seen_orphans: Vec<u32> = Vec::new();
    let (alive, orphans) = loop {
        let alive: Vec<u32> = stubs.iter().copied().filter(|&s| !common::is_dead(s)).collect();
        let orphans = orphaned_stubs();
        seen_orphans.extend(orphans.iter().filter(|p| !stubs.contains(p)));
        if (alive.is_empty() && orphans.is_empty()) || Instant::now() > deadline {
            break (alive, orphans);
        }
        thread::sleep(Duration::from_millis(20));
    };
    // Stubs die as our (subreaper) children: reap those, and only those.
    reap(&stubs);
    reap(&seen_orphans);
    let after = snapshot(&dir.0);
    let tmp_after = host_tmp_fuzz_dirs();

    let mut problems = Vec::new();
    if timed_out {
        problems.push(format!("HANG: vkernel still running after {RUN_LIMIT:?} (the guest limit is {GUEST_SECONDS} s); killed"));
    }
    if stderr.contains("panicked") || stderr.contains("internal error") || code == 70 || code == 101 {
        problems.push(format!("PANIC: vkernel exit status {code}"));
    }
    if !timed_out && (code > 128 || stderr.contains("memory allocation of") || stderr.contains("fatal runtime error")) {
        problems.push(format!("CRASH: vkernel itself died (exit status {code}: an abort or a fatal signal)"));
    }
    if !stdout.contains("FUZZ RESULT: ok") {
        problems.push("the fuzzer did not report FUZZ RESULT: ok".to_string());
    }
    if code != 0 && !timed_out {
        problems.push(format!("exit status {code}, want 0"));
    }
    if !alive.is_empty() {
        problems.push(format!("LEFT BEHIND: stubs {alive:?} alive 2 s after vkernel exited"));
    }
    if !orphans.is_empty() {
        problems.push(format!("LEFT BEHIND: orphaned vkernel-stub processes {orphans:?}"));
        for &p in &orphans {
            // SAFETY: kill(2) of a stub process that is our own (reparented)
            // child, identified by its command line.
            unsafe { libc_kill(p as i32, 9) };
        }
        thread::sleep(Duration::from_millis(100));
        reap(&orphans);
    }
    if before != after {
        let mut d = String::new();
        for (k, v) in &before {
            if after.get(k) != Some(v) {
                d += &format!("  changed or removed: {} ({v})\n", k.display());
            }
        }
        for k in after.keys().filter(|k| !before.contains_key(*k)) {
            d += &format!("  new: {}\n", k.display());
        }
        problems.push(format!("HOST CHANGED under the scratch directory:\n{d}"));
    }
    let new_tmp: Vec<&String> = tmp_after.iter().filter(|n| !tmp_before.contains(n)).collect();
    if !new_tmp.is_empty() {
        problems.push(format!("HOST CHANGED: new entries in the host's /tmp: {new_tmp:?}"));
    }
    if !problems.is_empty() {
        let tail: Vec<&str> = stderr
            .lines()
            .filter(|l| l.contains("panicked") || !(l.trim_start().starts_with(|c: char| c.is_ascii_digit()) || l.contains("at /rustc/")))
            .collect();
        let tail = tail[tail.len().saturating_sub(40)..].join("\n");
        panic!(
            "fuzz seed {seed} failed after {elapsed:?}:\n  {}\nreproduce (any directory will do for -p; add -v -w 1 to trace every call): {reproduce}\n--- stdout ---\n{stdout}--- stderr (last lines) ---\n{tail}\n",
            problems.join("\n  ")
        );
    }
}

unsafe extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}

/// `seeds!(name => seed, ...)`: one test per seed, 1000 calls each, with
/// the known findings avoided.
macro_rules! seeds {
    ($($name:ident => $seed:expr),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                fuzz($seed, 1000, AVOID_KNOWN);
            }
        )*
    };
}

seeds!(
    seed_1 => 1,
    seed_2 => 2,
    seed_3 => 3,
    seed_4 => 4,
);

/// Every argument kind, huge times and futexes included.
#[test]
fn full_seed_1() {
    fuzz(1, 4000, &[]);
}

#[test]
fn full_seed_2() {
    fuzz(2, 4000, &[]);
}

/// The harness itself: the fuzzer refuses to run outside vkernel (this is
/// the only time it is started natively, and it exits before any call).
#[test]
fn the_fuzzer_refuses_to_run_natively() {
    let bin = common::build_in("fuzz", "syscall_fuzz", Link::Static);
    let out = common::run_native(&bin, &["1", "10"], &common::Input::Null);
    assert_eq!(out.status, 2, "stdout: {}\nstderr: {}", out.stdout_str(), out.stderr_str());
    assert!(out.stderr_str().contains("refusing to run"), "stderr: {}", out.stderr_str());
    assert!(out.stdout.is_empty(), "stdout: {}", out.stdout_str());
}
