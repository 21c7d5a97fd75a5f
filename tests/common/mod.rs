//! Shared helpers for the guest integration tests: building the C programs
//! under `tests/guest/` and `tests/sandbox/`, running a program natively and
//! under vkernel with the same arguments, environment, cwd and stdin, and
//! comparing the two runs with a readable diff.
//! Std only; every run has a timeout so that a hung guest fails one test
//! instead of stalling the suite.
#![allow(dead_code)]

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs;
use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

/// The vkernel binary cargo built for this test run.
pub const VKERNEL: &str = env!("CARGO_BIN_EXE_vkernel");

/// Guest RAM for every comparison run.
pub const GUEST_RAM: &str = "256m";

/// How long one run (native or vkernel) may take before it is killed;
/// `VK_TEST_TIMEOUT` (seconds) overrides it.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// After this many runs of one test binary timed out, vkernel is likely hung
/// everywhere; later runs get `SHORT_TIMEOUT` so CI still ends in time.
const TIMEOUTS_BEFORE_SHORTENING: usize = 3;
const SHORT_TIMEOUT: Duration = Duration::from_secs(5);
static TIMEOUTS_SEEN: AtomicUsize = AtomicUsize::new(0);

fn effective_timeout(asked: Duration) -> Duration {
    let base = std::env::var("VK_TEST_TIMEOUT").ok().and_then(|s| s.parse().ok()).map(Duration::from_secs).unwrap_or(asked);
    if TIMEOUTS_SEEN.load(Ordering::Relaxed) >= TIMEOUTS_BEFORE_SHORTENING { base.min(SHORT_TIMEOUT) } else { base }
}

/// Where busybox lives (the busybox-static package).
pub const BUSYBOX: &str = "/bin/busybox";

pub fn repo_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Scratch space cargo gives integration tests, kept between runs. Guests
/// see the host's files through vkernel's root overlay, except under /tmp
/// and /dev/shm, where vkernel mounts its own tmpfs: a checkout there uses
/// /var/tmp instead so guests can reach the test binaries and fixtures.
pub fn scratch_dir() -> PathBuf {
    let cargo_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let hidden = cargo_dir.starts_with("/tmp") || cargo_dir.starts_with("/dev/shm");
    if !hidden {
        return cargo_dir;
    }
    use std::os::unix::fs::MetadataExt;
    let uid = fs::metadata("/proc/self").map(|m| m.uid()).unwrap_or(0);
    let dir = PathBuf::from(format!("/var/tmp/vkernel-test-scratch-{uid}"));
    fs::create_dir_all(&dir).expect("create /var/tmp scratch directory");
    dir
}

/// A name no other test or test run uses at the same time.
/// Copies an executable to `dst` (mode 0755, renamed into place) with a
/// `cp` child: a copy written by this multi-threaded process would be
/// open for writing in any child another test thread forked meanwhile,
/// and exec of it fails with ETXTBSY until that child execs.
pub fn copy_executable(src: &Path, dst: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let tmp = dst.with_extension("partial");
    let status = Command::new("cp").arg(src).arg(&tmp).status().unwrap_or_else(|e| panic!("cp {}: {e}", src.display()));
    assert!(status.success(), "cp {} {} failed", src.display(), tmp.display());
    fs::set_permissions(&tmp, fs::Permissions::from_mode(0o755)).unwrap();
    fs::rename(&tmp, dst).unwrap();
}

pub fn unique_name(prefix: &str) -> String {
    static COUNTER: Mutex<u64> = Mutex::new(0);
    let mut n = COUNTER.lock().unwrap_or_else(|e| e.into_inner());
    *n += 1;
    let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    format!("{prefix}-{}-{}-{nanos}", std::process::id(), *n)
}

/// How a C program is linked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Link {
    Static,
    StaticPie,
    /// A dynamically linked PIE, loaded by the host's ld.so (PT_INTERP).
    Dynamic,
}

impl Link {
    fn suffix(self) -> &'static str {
        match self {
            Link::Static => "static",
            Link::StaticPie => "pie",
            Link::Dynamic => "dyn",
        }
    }

    fn flags(self) -> &'static [&'static str] {
        match self {
            Link::Static => &["-static"],
            Link::StaticPie => &["-static-pie", "-fPIE"],
            Link::Dynamic => &[],
        }
    }
}

fn mtime(path: &Path) -> Option<SystemTime> {
    fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Compile `tests/<dir>/<name>.c` (dir is "guest" or "sandbox") and return
/// the binary's path. Rebuilt only when the source or `common.h` is newer
/// than the binary.
pub fn build_in(dir: &str, name: &str, link: Link) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<(String, Link), PathBuf>>> = OnceLock::new();
    let built = BUILT.get_or_init(|| Mutex::new(HashMap::new()));
    // One compile at a time keeps the cache logic simple and the 2-core
    // machines responsive; each binary is built at most once per test run.
    let mut built = built.lock().unwrap_or_else(|e| e.into_inner());
    let key = (format!("{dir}/{name}"), link);
    if let Some(path) = built.get(&key) {
        return path.clone();
    }
    let src = repo_dir().join("tests").join(dir).join(format!("{name}.c"));
    // Any header in tests/guest (common.h, proc.h, ...) may be included.
    let headers: Vec<PathBuf> = fs::read_dir(repo_dir().join("tests/guest"))
        .map(|d| d.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "h")).collect())
        .unwrap_or_default();
    let out_dir = scratch_dir().join("guest-bin");
    fs::create_dir_all(&out_dir).expect("create the guest binary directory");
    let out = out_dir.join(format!("{name}.{}", link.suffix()));
    let newest_input = std::iter::once(mtime(&src)).chain(headers.iter().map(|h| mtime(h))).flatten().max();
    let fresh = match (mtime(&out), newest_input) {
        (Some(o), Some(i)) => o > i,
        _ => false,
    };
    if !fresh {
        let tmp = out_dir.join(format!(".{name}.{}.{}", link.suffix(), std::process::id()));
        let result = Command::new("cc")
            .args(["-O1", "-Wall", "-g0"])
            .args(link.flags())
            .arg("-I")
            .arg(repo_dir().join("tests/guest"))
            .arg("-o")
            .arg(&tmp)
            .arg(&src)
            .output()
            .expect("run cc (is a C compiler installed?)");
        if !result.status.success() {
            panic!("cc failed for {}:\n{}", src.display(), String::from_utf8_lossy(&result.stderr));
        }
        fs::rename(&tmp, &out).expect("move the built binary into place");
    }
    built.insert(key, out.clone());
    out
}

/// Build a program from `tests/guest/`.
pub fn build(name: &str, link: Link) -> PathBuf {
    build_in("guest", name, link)
}

/// The fixed environment every run gets, natively and under vkernel.
pub fn guest_env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("PATH", "/usr/local/bin:/usr/bin:/bin"),
        ("HOME", "/"),
        ("LANG", "C"),
        ("LC_ALL", "C"),
        ("TZ", "UTC"),
        ("TERM", "dumb"),
        ("VK_TEST_VAR", "hello world"),
    ]
}

/// Where the program's input comes from.
#[derive(Clone, Debug)]
pub enum Input {
    Null,
    File(PathBuf),
}

/// What one run did. `status` is the exit code, or 128+N when killed by
/// signal N, the way a shell and vkernel report it.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub status: i32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub timed_out: bool,
    pub elapsed: Duration,
    pub command: String,
}

impl Outcome {
    pub fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    pub fn stderr_str(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

pub fn status_code(status: ExitStatus) -> i32 {
    match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(sig)) => 128 + sig,
        (None, None) => -1,
    }
}

unsafe extern "C" {
    fn fcntl(fd: i32, cmd: i32, ...) -> i32;
    fn close(fd: i32) -> i32;
}

/// Close every inherited fd above 2 that would survive exec, so that the
/// native run sees exactly fds 0, 1, 2 (as a guest does) whatever the test
/// runner inherited. Rust's own CLOEXEC status pipe is left alone.
fn close_inherited_fds(cmd: &mut Command) {
    const F_GETFD: i32 = 1;
    const FD_CLOEXEC: i32 = 1;
    // SAFETY: runs in the child between fork and exec, and calls only
    // fcntl(2) and close(2), which are async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            for fd in 3..1024 {
                let flags = fcntl(fd, F_GETFD);
                if flags >= 0 && flags & FD_CLOEXEC == 0 {
                    close(fd);
                }
            }
            Ok(())
        });
    }
}

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        let a = a.to_string_lossy();
        if a.is_empty() || a.contains(' ') {
            let _ = write!(s, " '{a}'");
        } else {
            let _ = write!(s, " {a}");
        }
    }
    s
}

/// Run `cmd` to completion (or `timeout`), capturing stdout and stderr.
pub fn run_with(mut cmd: Command, input: &Input, timeout: Duration) -> Outcome {
    let command = describe(&cmd);
    let stdin = match input {
        Input::Null => Stdio::null(),
        Input::File(p) => Stdio::from(fs::File::open(p).unwrap_or_else(|e| panic!("open stdin file {}: {e}", p.display()))),
    };
    cmd.stdin(stdin).stdout(Stdio::piped()).stderr(Stdio::piped());
    close_inherited_fds(&mut cmd);
    let start = Instant::now();
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn `{command}`: {e}"));
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let out_reader = thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let err_reader = thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let timeout = effective_timeout(timeout);
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() > timeout => {
                timed_out = true;
                TIMEOUTS_SEEN.fetch_add(1, Ordering::Relaxed);
                let _ = child.kill();
                break child.wait().expect("wait after kill");
            }
            Ok(None) => thread::sleep(Duration::from_millis(2)),
            Err(e) => panic!("wait for `{command}`: {e}"),
        }
    };
    let elapsed = start.elapsed();
    Outcome {
        status: status_code(status),
        stdout: out_reader.join().unwrap_or_default(),
        stderr: err_reader.join().unwrap_or_default(),
        timed_out,
        elapsed,
        command,
    }
}

/// A command with the fixed test environment and cwd `/`.
pub fn command(program: impl AsRef<Path>, args: &[&str]) -> Command {
    let mut cmd = Command::new(program.as_ref());
    cmd.args(args).env_clear().envs(guest_env()).current_dir("/");
    cmd
}

/// A vkernel command on the backend the test run asks for: with
/// VKERNEL_PLATFORM=ptrace|seccomp in the test's environment (CI runs the
/// guest-program tests a second time that way), `--platform` says it, as
/// the guest's environment is cleared.
pub fn vkernel() -> Command {
    let mut cmd = Command::new(VKERNEL);
    if let Ok(p) = std::env::var("VKERNEL_PLATFORM") {
        if !p.is_empty() {
            cmd.args(["--platform", &p]);
        }
    }
    cmd
}

/// The same program under vkernel: `vkernel -m 256m -- PROGRAM ARGS...`.
pub fn vkernel_command(program: impl AsRef<Path>, args: &[&str]) -> Command {
    vkernel_command_with(&[], program, args)
}

/// `vkernel -m 256m OPTIONS -- PROGRAM ARGS...` (e.g. `--read-only`, `--share`).
pub fn vkernel_command_with(options: &[&str], program: impl AsRef<Path>, args: &[&str]) -> Command {
    let mut cmd = vkernel();
    cmd.args(["-m", GUEST_RAM]).args(options).arg("--").arg(program.as_ref()).args(args).env_clear().envs(guest_env()).current_dir("/");
    cmd
}

pub fn run_vkernel_with(options: &[&str], program: impl AsRef<Path>, args: &[&str], input: &Input) -> Outcome {
    run_with(vkernel_command_with(options, program, args), input, TIMEOUT)
}

pub fn run_native(program: impl AsRef<Path>, args: &[&str], input: &Input) -> Outcome {
    run_with(command(program, args), input, TIMEOUT)
}

pub fn run_vkernel(program: impl AsRef<Path>, args: &[&str], input: &Input) -> Outcome {
    run_with(vkernel_command(program, args), input, TIMEOUT)
}

/// Line diff (longest common subsequence) of two texts, as `-native` /
/// `+vkernel` lines with a little context. Large inputs fall back to
/// showing the first differing line.
pub fn diff(native: &str, vk: &str) -> String {
    let a: Vec<&str> = native.lines().collect();
    let b: Vec<&str> = vk.lines().collect();
    if a.len() * b.len() > 4_000_000 {
        let i = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
        return format!(
            "  (outputs too long to diff; first difference at line {})\n- {}\n+ {}\n",
            i + 1,
            a.get(i).unwrap_or(&"<end of output>"),
            b.get(i).unwrap_or(&"<end of output>")
        );
    }
    // lcs[i][j] = LCS length of a[i..] and b[j..]
    let mut lcs = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    let mut ops: Vec<(char, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            ops.push((' ', a[i]));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            ops.push(('-', a[i]));
            i += 1;
        } else {
            ops.push(('+', b[j]));
            j += 1;
        }
    }
    const CONTEXT: usize = 2;
    const MAX_LINES: usize = 120;
    let near_change = |k: usize| {
        let lo = k.saturating_sub(CONTEXT);
        let hi = (k + CONTEXT + 1).min(ops.len());
        ops[lo..hi].iter().any(|(c, _)| *c != ' ')
    };
    let mut s = String::new();
    let mut shown = 0;
    let mut skipped = false;
    for (k, (c, line)) in ops.iter().enumerate() {
        if *c == ' ' && !near_change(k) {
            skipped = true;
            continue;
        }
        if skipped {
            s.push_str("  ...\n");
            skipped = false;
        }
        if shown == MAX_LINES {
            s.push_str("  (diff truncated)\n");
            break;
        }
        let _ = writeln!(s, "{c} {line}");
        shown += 1;
    }
    s
}

fn show_bytes(label: &str, bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut s = format!("--- {label} ({} bytes) ---\n", bytes.len());
    for line in text.lines().take(40) {
        let _ = writeln!(s, "  {line}");
    }
    if text.lines().count() > 40 {
        s.push_str("  ...\n");
    }
    s
}

/// Panic with a readable report unless both runs produced the same stdout,
/// stderr and exit status.
pub fn assert_same(native: &Outcome, vk: &Outcome) {
    assert_same_with(native, vk, |s| s.to_vec());
}

/// Like `assert_same`, comparing stdout after `normalize`.
pub fn assert_same_with(native: &Outcome, vk: &Outcome, normalize: impl Fn(&[u8]) -> Vec<u8>) {
    assert!(!native.timed_out, "the native run timed out: {}", native.command);
    let (n_out, v_out) = (normalize(&native.stdout), normalize(&vk.stdout));
    if native.status == vk.status && n_out == v_out && native.stderr == vk.stderr && !vk.timed_out {
        return;
    }
    let mut report = String::new();
    let _ = writeln!(report, "vkernel run differs from the native run");
    let _ = writeln!(report, "  native:  {}", native.command);
    let _ = writeln!(report, "  vkernel: {}", vk.command);
    if vk.timed_out {
        let _ = writeln!(report, "  vkernel TIMED OUT after {:?} and was killed", vk.elapsed);
    }
    let _ = writeln!(report, "  exit status: native {} vkernel {}{}", native.status, vk.status, if native.status == vk.status { "" } else { "   <-- differs" });
    if n_out != v_out {
        let _ = writeln!(report, "stdout differs (- native, + vkernel):");
        report.push_str(&diff(&String::from_utf8_lossy(&n_out), &String::from_utf8_lossy(&v_out)));
    } else {
        let _ = writeln!(report, "stdout identical ({} bytes)", n_out.len());
    }
    if native.stderr != vk.stderr {
        let _ = writeln!(report, "stderr differs (- native, + vkernel):");
        report.push_str(&diff(&native.stderr_str(), &vk.stderr_str()));
    } else if !vk.stderr.is_empty() {
        report.push_str(&show_bytes("stderr (both)", &vk.stderr));
    }
    panic!("{report}");
}

/// Run `program args` natively and under vkernel and require identical
/// results. Returns the native outcome for further checks.
pub fn compare(program: impl AsRef<Path>, args: &[&str], input: &Input) -> Outcome {
    let native = run_native(program.as_ref(), args, input);
    let vk = run_vkernel(program.as_ref(), args, input);
    assert_same(&native, &vk);
    native
}

/// Whether busybox is here; outside CI a missing busybox skips the test
/// with a message, in CI (CI=true) it is a failure.
pub fn have_busybox(test: &str) -> bool {
    if Path::new(BUSYBOX).exists() {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("{BUSYBOX} is missing in CI: .ci/run must install busybox-static");
    }
    eprintln!("SKIPPED {test}: {BUSYBOX} not found (apt-get install busybox-static)");
    false
}

/// Whether the tests run as root.
pub fn is_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).and_then(|l| l.split_whitespace().nth(2).map(|e| e == "0")))
        .unwrap_or(false)
}

/// Children of `pid` across all its threads (vkernel's stubs).
pub fn children_of(pid: u32) -> Vec<u32> {
    let mut kids = Vec::new();
    let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else {
        return kids;
    };
    for task in tasks.flatten() {
        if let Ok(s) = fs::read_to_string(task.path().join("children")) {
            kids.extend(s.split_whitespace().filter_map(|p| p.parse::<u32>().ok()));
        }
    }
    kids.sort_unstable();
    kids.dedup();
    kids
}

/// A field of /proc/PID/status, e.g. `status_field(pid, "Seccomp")`.
pub fn status_field(pid: u32, field: &str) -> Option<String> {
    let s = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines().find_map(|l| l.strip_prefix(&format!("{field}:"))).map(|v| v.trim().to_string())
}

/// True once `pid` is gone or only a zombie waiting to be reaped.
pub fn is_dead(pid: u32) -> bool {
    match status_field(pid, "State") {
        None => true,
        Some(state) => state.starts_with('Z') || state.starts_with('X'),
    }
}

/// The fds of a process as (fd, link target).
pub fn fds_of(pid: u32) -> Result<Vec<(String, String)>, String> {
    let dir = fs::read_dir(format!("/proc/{pid}/fd")).map_err(|e| format!("/proc/{pid}/fd: {e}"))?;
    let mut fds = Vec::new();
    for entry in dir.flatten() {
        let target = fs::read_link(entry.path()).map(|t| t.to_string_lossy().into_owned()).unwrap_or_else(|e| format!("<{e}>"));
        fds.push((entry.file_name().to_string_lossy().into_owned(), target));
    }
    Ok(fds)
}

/// Problems with one stub, or none.
pub fn stub_problems(pid: u32) -> Vec<String> {
    let mut problems = Vec::new();
    match fds_of(pid) {
        Ok(fds) => {
            if fds.len() != 1 || !fds[0].1.starts_with("/memfd:") {
                problems.push(format!("stub {pid} must hold exactly one fd, the memfd; it holds {fds:?}"));
            }
        }
        Err(e) => problems.push(e),
    }
    match status_field(pid, "Seccomp") {
        Some(mode) if mode == "2" => {}
        other => problems.push(format!("stub {pid} has Seccomp: {other:?}, want 2 (filter)")),
    }
    problems
}

/// Wait until vkernel has at least one stub and every stub looks right
/// (a stub may still be setting itself up when first seen).
pub fn settled_stubs(vk_pid: u32) -> Vec<u32> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let stubs = children_of(vk_pid);
        let problems: Vec<String> = stubs.iter().flat_map(|&s| stub_problems(s)).collect();
        if !stubs.is_empty() && problems.is_empty() {
            return stubs;
        }
        if Instant::now() > deadline {
            if stubs.is_empty() {
                panic!("vkernel {vk_pid} has no child (stub) process while a guest runs");
            }
            panic!("stub check failed:\n{}", problems.join("\n"));
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// Whether a host tool (searched in PATH and the sbin directories) is
/// installed; outside CI a missing one skips the test with a message, in
/// CI (CI=true) it is a failure (.ci/run installs it).
pub fn have_tool(tool: &str) -> bool {
    let found = Command::new("sh").args(["-c", &format!("PATH=/usr/sbin:/sbin:$PATH command -v {tool}")]).output().is_ok_and(|o| o.status.success());
    if !found {
        assert!(std::env::var_os("CI").is_none(), "{tool} is missing (.ci/run installs it)");
        eprintln!("SKIPPED: {tool} is not installed");
    }
    found
}

/// A fresh directory below the scratch directory.
pub fn fresh_scratch(prefix: &str) -> PathBuf {
    let d = scratch_dir().join(unique_name(prefix));
    fs::create_dir_all(&d).expect("create a scratch directory");
    d
}
