//! An interactive busybox shell under vkernel, driven through a host
//! pseudo-terminal the way a person at a terminal would drive it: the test
//! owns the pty master, vkernel runs on the slave as its controlling
//! terminal (stdin, stdout and stderr), and the test types bytes and waits
//! for text to appear. Std only: the few libc calls (posix_openpt, ioctl,
//! tcgetattr, poll, setsid) are declared here.
//!
//! Checked: the prompt appears, typed text echoes, ^C interrupts
//! `sleep 100` and the shell survives, ^Z stops a job and `fg` resumes it,
//! ^\ quits a job, `stty -a` shows settings made by `stty`, a resize of the
//! host pty reaches `stty size` (and SIGWINCH), and the host terminal's
//! settings are the same after vkernel exits (normally, or killed by
//! SIGTERM/SIGHUP) as before it started.
//!
//! `VK_SELFCHECK=1` runs the same sessions with busybox directly on the
//! pty instead of under vkernel, to check the tests themselves.
//!

mod common;

use std::ffi::CStr;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use common::{BUSYBOX, VKERNEL};

#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Termios {
    c_iflag: u32,
    c_oflag: u32,
    c_cflag: u32,
    c_lflag: u32,
    c_line: u8,
    c_cc: [u8; 32],
    c_ispeed: u32,
    c_ospeed: u32,
}

#[repr(C)]
struct Winsize {
    ws_row: u16,
    ws_col: u16,
    ws_xpixel: u16,
    ws_ypixel: u16,
}

#[repr(C)]
struct PollFd {
    fd: i32,
    events: i16,
    revents: i16,
}

unsafe extern "C" {
    fn posix_openpt(flags: i32) -> i32;
    fn grantpt(fd: i32) -> i32;
    fn unlockpt(fd: i32) -> i32;
    fn ptsname_r(fd: i32, buf: *mut std::ffi::c_char, len: usize) -> i32;
    fn ioctl(fd: i32, request: u64, ...) -> i32;
    fn tcgetattr(fd: i32, t: *mut Termios) -> i32;
    fn setsid() -> i32;
    fn poll(fds: *mut PollFd, n: u64, timeout: i32) -> i32;
    fn kill(pid: i32, sig: i32) -> i32;
}

const O_RDWR: i32 = 2;
const O_NOCTTY: i32 = 0o400;
const O_CLOEXEC: i32 = 0o2000000;
const TIOCSCTTY: u64 = 0x540E;
const TIOCSWINSZ: u64 = 0x5414;
const POLLIN: i16 = 1;
const SIGTERM: i32 = 15;
const SIGHUP: i32 = 1;

/// How long to wait for any one piece of expected output.
const EXPECT_TIMEOUT: Duration = Duration::from_secs(20);

const PROMPT: &str = "vk-prompt> ";

fn selfcheck() -> bool {
    std::env::var_os("VK_SELFCHECK").is_some()
}

/// One pty with a shell (under vkernel, or directly for VK_SELFCHECK) on
/// its slave side.
struct Session {
    master: File,
    slave: File,
    child: Child,
    /// Everything read from the master so far.
    transcript: Vec<u8>,
    /// Where the next `expect` starts looking.
    mark: usize,
    /// The slave's settings before the shell started.
    initial: Termios,
}

impl Session {
    fn start(rows: u16, cols: u16) -> Session {
        // SAFETY: plain libc calls on a fd we own; buffers are sized.
        let (master, slave_path) = unsafe {
            let fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
            assert!(fd >= 0, "posix_openpt: {}", std::io::Error::last_os_error());
            assert_eq!(grantpt(fd), 0, "grantpt");
            assert_eq!(unlockpt(fd), 0, "unlockpt");
            let mut buf = [0 as std::ffi::c_char; 128];
            assert_eq!(ptsname_r(fd, buf.as_mut_ptr(), buf.len()), 0, "ptsname_r");
            (File::from_raw_fd(fd), CStr::from_ptr(buf.as_ptr()).to_string_lossy().into_owned())
        };
        set_winsize(&master, rows, cols);
        let slave = OpenOptions::new().read(true).write(true).custom_flags_noctty().open(&slave_path).expect("open the pty slave");
        let initial = get_termios(&slave);
        let mut cmd = if selfcheck() {
            let mut c = Command::new(BUSYBOX);
            c.args(["sh", "-i"]);
            c
        } else {
            let mut c = common::vkernel();
            // The interactive shell runs as a child of PID 1, as a login
            // shell does on a real system: with the shell itself as init,
            // Linux treats every job's group as orphaned (init's children
            // do not count), so a background read gets EIO instead of the
            // SIGTTIN stop a user expects. "; exit" keeps sh -c from
            // exec'ing the shell in place.
            c.args(["-m", common::GUEST_RAM, "--", BUSYBOX, "sh", "-c", "/bin/busybox sh -i; exit"]);
            c
        };
        cmd.env_clear()
            .envs(common::guest_env())
            .env("TERM", "vt100")
            .env("PS1", PROMPT)
            .current_dir("/")
            .stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave.try_clone().unwrap()));
        // SAFETY: setsid and ioctl are async-signal-safe; they make the pty
        // the new session's controlling terminal, as a terminal emulator does.
        unsafe {
            cmd.pre_exec(|| {
                if setsid() < 0 || ioctl(0, TIOCSCTTY, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().expect("spawn the shell on the pty");
        Session { master, slave, child, transcript: Vec::new(), mark: 0, initial }
    }

    /// Read what is available within `wait`; false once the master reports
    /// EOF/EIO (no process has the slave open... other than us) or error.
    fn pump(&mut self, wait: Duration) -> bool {
        let mut pfd = PollFd { fd: self.master.as_raw_fd(), events: POLLIN, revents: 0 };
        // SAFETY: one valid pollfd.
        let n = unsafe { poll(&mut pfd, 1, wait.as_millis() as i32) };
        if n <= 0 {
            return true;
        }
        let mut buf = [0u8; 4096];
        match self.master.read(&mut buf) {
            Ok(0) | Err(_) => false,
            Ok(k) => {
                self.transcript.extend_from_slice(&buf[..k]);
                true
            }
        }
    }

    /// Wait for `needle` to appear after the mark; move the mark past it.
    fn expect(&mut self, needle: &str) {
        let deadline = Instant::now() + EXPECT_TIMEOUT;
        loop {
            if let Some(pos) = find(&self.transcript[self.mark..], needle.as_bytes()) {
                self.mark += pos + needle.len();
                return;
            }
            if Instant::now() > deadline {
                self.fail(&format!("timed out after {EXPECT_TIMEOUT:?} waiting for {needle:?}"));
            }
            if !self.pump(Duration::from_millis(100)) {
                // Give a last chance to anything already buffered.
                if find(&self.transcript[self.mark..], needle.as_bytes()).is_none() {
                    self.fail(&format!("the terminal closed while waiting for {needle:?}"));
                }
            }
        }
    }

    /// Collect output for a while (to check that something does NOT come).
    fn settle(&mut self, d: Duration) {
        let end = Instant::now() + d;
        while Instant::now() < end {
            if !self.pump(Duration::from_millis(50)) {
                break;
            }
        }
    }

    fn send(&mut self, bytes: &str) {
        self.master.write_all(bytes.as_bytes()).expect("write to the pty master");
    }

    /// Type a command line and wait for its echo, so the next expect
    /// matches the command's output and not the echoed text.
    fn line(&mut self, cmd: &str) {
        self.send(cmd);
        self.send("\r");
        self.expect(cmd);
        self.expect("\n");
    }

    fn unseen(&self) -> String {
        printable(&self.transcript[self.mark..])
    }

    fn fail(&mut self, why: &str) -> ! {
        let _ = self.child.kill();
        let _ = self.child.wait();
        panic!(
            "{why}\n{} session transcript (escaped; >>> marks how far expectations matched):\n{}>>>{}\n",
            if selfcheck() { "native (VK_SELFCHECK)" } else { "vkernel" },
            printable(&self.transcript[..self.mark]),
            printable(&self.transcript[self.mark..])
        );
    }

    /// Type `exit` and wait for the process to end; its exit status.
    fn exit(&mut self, status: i32) -> i32 {
        self.send(&format!("exit {status}\r"));
        self.wait_exit()
    }

    fn wait_exit(&mut self) -> i32 {
        let deadline = Instant::now() + EXPECT_TIMEOUT;
        loop {
            if let Ok(Some(st)) = self.child.try_wait() {
                return common::status_code(st);
            }
            if Instant::now() > deadline {
                self.fail("the shell did not exit");
            }
            self.pump(Duration::from_millis(20));
        }
    }

    fn termios(&self) -> Termios {
        get_termios(&self.slave)
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

trait NoCtty {
    fn custom_flags_noctty(&mut self) -> &mut Self;
}

impl NoCtty for OpenOptions {
    fn custom_flags_noctty(&mut self) -> &mut Self {
        use std::os::unix::fs::OpenOptionsExt;
        self.custom_flags(O_NOCTTY)
    }
}

fn set_winsize(master: &File, rows: u16, cols: u16) {
    let ws = Winsize { ws_row: rows, ws_col: cols, ws_xpixel: 0, ws_ypixel: 0 };
    // SAFETY: TIOCSWINSZ reads one struct winsize.
    let r = unsafe { ioctl(master.as_raw_fd(), TIOCSWINSZ, &ws as *const Winsize) };
    assert_eq!(r, 0, "TIOCSWINSZ: {}", std::io::Error::last_os_error());
}

fn get_termios(f: &File) -> Termios {
    let mut t = Termios { c_iflag: 0, c_oflag: 0, c_cflag: 0, c_lflag: 0, c_line: 0, c_cc: [0; 32], c_ispeed: 0, c_ospeed: 0 };
    // SAFETY: tcgetattr fills one struct termios.
    let r = unsafe { tcgetattr(f.as_raw_fd(), &mut t) };
    assert_eq!(r, 0, "tcgetattr: {}", std::io::Error::last_os_error());
    t
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

fn printable(bytes: &[u8]) -> String {
    let mut s = String::new();
    for &b in bytes {
        match b {
            b'\n' => s.push_str("\\n\n"),
            b'\r' => s.push_str("\\r"),
            0x1b => s.push_str("\\e"),
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s
}

/// Start a session and wait for the first prompt; None when gated off.
/// The terminal is wide so that busybox's line editor never wraps a
/// command line (a wrapped echo would not match the typed text).
fn session(test: &str) -> Option<Session> {
    session_sized(test, 24, 250)
}

fn session_sized(test: &str, rows: u16, cols: u16) -> Option<Session> {
    if !common::have_busybox(test) {
        return None;
    }
    let mut s = Session::start(rows, cols);
    s.expect(PROMPT);
    Some(s)
}

#[test]
fn prompt_appears_and_typed_text_echoes() {
    let Some(mut s) = session("prompt_appears_and_typed_text_echoes") else { return };
    // The echo of the typed characters, then the command's own output
    // (which is not in the typed text), then the next prompt.
    s.send("echo typed-$((6 * 7))");
    s.expect("echo typed-$((6 * 7))");
    s.send("\r");
    s.expect("typed-42\r\n");
    s.expect(PROMPT);
    s.line("tty");
    s.expect("/dev/");
    s.expect(PROMPT);
    s.line("test -t 0 && test -t 1 && echo both-ttys");
    s.expect("both-ttys");
    s.expect(PROMPT);
    assert_eq!(s.exit(3), 3, "exit status of `exit 3`");
}

#[test]
fn ctrl_c_interrupts_sleep_and_the_shell_survives() {
    let Some(mut s) = session("ctrl_c_interrupts_sleep_and_the_shell_survives") else { return };
    s.line("sleep 100");
    thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    s.send("\x03");
    s.expect(PROMPT);
    assert!(started.elapsed() < Duration::from_secs(10), "^C took {:?}", started.elapsed());
    s.line("echo status=$?");
    s.expect("status=130");
    s.expect(PROMPT);
    // ^C at an empty prompt just gives a new prompt.
    s.send("\x03");
    s.expect(PROMPT);
    // ^\ (SIGQUIT) ends a foreground job too.
    s.line("sleep 100");
    thread::sleep(Duration::from_millis(500));
    s.send("\x1c");
    s.expect(PROMPT);
    s.line("echo quit-status=$?");
    s.expect("quit-status=131");
    s.expect(PROMPT);
    // A trap in a child shell sees the ^C.
    s.line("sh -c 'trap \"echo caught-int; exit 5\" INT; sleep 100 & wait'");
    thread::sleep(Duration::from_millis(500));
    s.send("\x03");
    s.expect("caught-int");
    s.expect(PROMPT);
    s.line("echo still-alive-$((1 + 1))");
    s.expect("still-alive-2");
    assert_eq!(s.exit(0), 0);
}

#[test]
fn ctrl_z_stops_a_job_and_fg_resumes_it() {
    let Some(mut s) = session("ctrl_z_stops_a_job_and_fg_resumes_it") else { return };
    s.line("sh -c 'sleep 1; echo resumed-ok'");
    thread::sleep(Duration::from_millis(300));
    s.send("\x1a");
    s.expect("Stopped");
    s.expect(PROMPT);
    s.line("jobs");
    s.expect("Stopped");
    s.expect(PROMPT);
    // While stopped, it does not finish.
    s.settle(Duration::from_millis(1500));
    assert!(!s.unseen().contains("resumed-ok"), "the stopped job kept running:\n{}", s.unseen());
    s.line("fg");
    s.expect("resumed-ok");
    s.expect(PROMPT);
    s.line("echo fg-status=$?");
    s.expect("fg-status=0");
    s.expect(PROMPT);
    // bg: a stopped job continues in the background; wait collects it.
    s.line("sleep 100");
    thread::sleep(Duration::from_millis(300));
    s.send("\x1a");
    s.expect("Stopped");
    s.expect(PROMPT);
    s.line("bg");
    s.expect(PROMPT);
    s.line("kill %1; wait; echo after-kill");
    s.expect("after-kill");
    s.expect(PROMPT);
    // A background job reading the terminal is stopped by SIGTTIN.
    s.line("cat &");
    s.expect(PROMPT);
    thread::sleep(Duration::from_millis(300));
    s.line("jobs");
    s.expect("Stopped");
    s.expect(PROMPT);
    s.line("kill -9 %1");
    // The shell reports the death before a prompt or at a later `jobs`,
    // depending on when it notices: ask until it says so.
    for _ in 0..20 {
        s.settle(Duration::from_millis(300));
        if s.unseen().contains("Killed") {
            break;
        }
        s.send("jobs\r");
    }
    s.expect("Killed");
    s.expect(PROMPT);
    assert_eq!(s.exit(0), 0);
}

#[test]
fn stty_a_shows_settings_made_by_stty() {
    let Some(mut s) = session("stty_a_shows_settings_made_by_stty") else { return };
    s.line("stty intr ^G erase ^H -ixon; stty -a | tr ';' '\\n' | grep -E 'intr|erase|ixon' | tr -d ' '");
    s.expect("intr=^G");
    s.expect("erase=^H");
    s.expect("-ixon");
    s.expect(PROMPT);
    // ^G now interrupts, ^C does not.
    s.line("sleep 100");
    thread::sleep(Duration::from_millis(500));
    s.send("\x07");
    s.expect(PROMPT);
    s.line("echo after-^G=$?");
    s.expect("after-^G=130");
    s.expect(PROMPT);
    s.line("stty intr ^C erase ^? ixon; stty -a | tr ';' '\\n' | grep -E 'intr|erase' | tr -d ' '");
    s.expect("intr=^C");
    s.expect("erase=^?");
    s.expect(PROMPT);
    // Raw, no echo: a program reading one byte at a time gets it at once.
    s.line("stty raw -echo; dd bs=1 count=3 2>/dev/null | od -An -c; stty sane");
    thread::sleep(Duration::from_millis(300));
    s.send("a\x03z");
    s.expect("a 003   z");
    s.expect(PROMPT);
    // Canonical mode with a line typed ahead and edited by erase and kill.
    s.line("read -r v; echo \"got[$v]\"");
    // Type only once `read` waits in canonical mode: bytes that arrive
    // while the line editor still has the terminal raw are not edited.
    thread::sleep(Duration::from_millis(500));
    s.send("wrong\x15ab\x7fcd\r");
    s.expect("got[acd]");
    s.expect(PROMPT);
    assert_eq!(s.exit(0), 0);
}

#[test]
fn host_pty_resize_reaches_stty_size_and_sigwinch() {
    let Some(mut s) = session_sized("host_pty_resize_reaches_stty_size_and_sigwinch", 24, 80) else { return };
    s.line("stty size");
    s.expect("24 80");
    s.expect(PROMPT);
    set_winsize(&s.master, 50, 132);
    thread::sleep(Duration::from_millis(300));
    s.line("stty size");
    s.expect("50 132");
    s.expect(PROMPT);
    // A program waiting in the foreground gets SIGWINCH.
    s.line("sh -c 'trap \"echo winch; stty size; exit 0\" WINCH; sleep 100 & wait'");
    thread::sleep(Duration::from_millis(500));
    set_winsize(&s.master, 40, 100);
    s.expect("winch");
    s.expect("40 100");
    s.expect(PROMPT);
    // Setting the size from inside shows on the host side too.
    s.line("stty rows 33 cols 77; stty size");
    s.expect("33 77");
    s.expect(PROMPT);
    assert_eq!(s.exit(0), 0);
}

#[test]
fn host_terminal_settings_are_restored_after_exit() {
    if !common::have_busybox("host_terminal") {
        return;
    }
    for how in ["exit", "guest stty changes then exit", "SIGTERM to vkernel", "SIGHUP to vkernel"] {
        if selfcheck() && how != "exit" {
            // Natively the shell's stty changes the pty itself, an
            // interactive shell ignores SIGTERM, and SIGHUP leaves the pty
            // as its line editor had set it: only vkernel restores it.
            continue;
        }
        let mut s = Session::start(24, 80);
        let before = s.initial;
        s.expect(PROMPT);
        match how {
            "exit" => {
                assert_eq!(s.exit(0), 0);
            }
            "guest stty changes then exit" => {
                s.line("stty raw -echo -isig; echo changed");
                s.expect("changed");
                s.send("exit 4\n");
                assert_eq!(s.wait_exit(), 4, "{how}: exit status");
            }
            sig => {
                let signo = if sig.contains("TERM") { SIGTERM } else { SIGHUP };
                // SAFETY: signalling the child we spawned.
                unsafe { kill(s.child.id() as i32, signo) };
                let status = s.wait_exit();
                assert!(status != 0, "{how}: vkernel exited 0");
            }
        }
        let after = s.termios();
        assert_eq!(before, after, "{how}: host terminal settings differ after vkernel exited");
    }
}
