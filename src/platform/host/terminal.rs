//! vkernel's own stdin/stdout/stderr and the host terminal behind them:
//! plain I/O on those host fds, terminal ioctls passed through, and the
//! raw-mode console (host terminal settings saved and restored on every
//! way out, async-signal-safe handlers for the signals that end or stop
//! vkernel, and a reader thread that hands host input to the console tty).

use parking_lot::Mutex;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicI32, AtomicU32, Ordering};

use crate::abi::{Errno, KResult, Termios, Winsize};

fn retry(mut f: impl FnMut() -> isize) -> KResult<usize> {
    loop {
        let r = f();
        if r >= 0 {
            return Ok(r as usize);
        }
        let e = Errno::last_host();
        if e != Errno::EINTR {
            return Err(e);
        }
    }
}

pub fn is_tty(fd: i32) -> bool {
    // SAFETY: isatty only queries the fd.
    unsafe { libc::isatty(fd) == 1 }
}

/// The open-file status flags of host fd `fd` (None when it is closed).
pub fn status_flags(fd: i32) -> Option<u32> {
    // SAFETY: F_GETFL only queries the fd.
    let fl = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    (fl >= 0).then_some(fl as u32)
}

/// What /proc/self/fd/N says host fd `fd` is (for /proc/<pid>/fd links).
pub fn fd_link(fd: i32) -> Option<Vec<u8>> {
    use std::os::unix::ffi::OsStrExt;
    std::fs::read_link(format!("/proc/self/fd/{fd}")).ok().map(|p| p.as_os_str().as_bytes().to_vec())
}

pub fn read(fd: i32, buf: &mut [u8]) -> KResult<usize> {
    // SAFETY: reading into a live buffer from one of our fds.
    retry(|| unsafe { libc::read(fd, buf.as_mut_ptr() as *mut libc::c_void, buf.len()) })
}

pub fn write(fd: i32, buf: &[u8]) -> KResult<usize> {
    // SAFETY: writing a live buffer to one of our fds.
    retry(|| unsafe { libc::write(fd, buf.as_ptr() as *const libc::c_void, buf.len()) })
}

pub fn pread(fd: i32, buf: &mut [u8], offset: u64) -> KResult<usize> {
    // SAFETY: pread into a live buffer from one of our fds.
    retry(|| unsafe { libc::pread(fd, buf.as_mut_ptr() as *mut libc::c_void, buf.len(), offset as i64) })
}

pub fn pwrite(fd: i32, buf: &[u8], offset: u64) -> KResult<usize> {
    // SAFETY: pwrite of a live buffer to one of our fds.
    retry(|| unsafe { libc::pwrite(fd, buf.as_ptr() as *const libc::c_void, buf.len(), offset as i64) })
}

pub fn lseek(fd: i32, offset: i64, whence: u32) -> KResult<u64> {
    // SAFETY: lseek on one of our fds.
    let r = unsafe { libc::lseek(fd, offset, whence as i32) };
    if r < 0 { Err(Errno::last_host()) } else { Ok(r as u64) }
}

/// Is host fd `fd` ready to read (`want_write` false) or write right now?
pub fn ready(fd: i32, want_write: bool) -> bool {
    let events = if want_write { libc::POLLOUT } else { libc::POLLIN };
    let mut p = libc::pollfd { fd, events, revents: 0 };
    // SAFETY: poll on one live pollfd with a zero timeout.
    unsafe { libc::poll(&mut p, 1, 0) > 0 && p.revents != 0 }
}

/// Writes all of `data` to host fd `fd` (the console's output); a host
/// error drops the rest, as a dead terminal would.
pub fn write_all(fd: i32, mut data: &[u8]) {
    while !data.is_empty() {
        // SAFETY: writing a live buffer to our own fd.
        let n = unsafe { libc::write(fd, data.as_ptr() as *const libc::c_void, data.len()) };
        if n > 0 {
            data = &data[n as usize..];
            continue;
        }
        match Errno::last_host() {
            Errno::EINTR => {}
            Errno::EAGAIN => {
                let mut p = libc::pollfd { fd, events: libc::POLLOUT, revents: 0 };
                // SAFETY: poll on one live pollfd.
                unsafe { libc::poll(&mut p, 1, -1) };
            }
            _ => return,
        }
    }
}

pub fn tcgets(fd: i32) -> KResult<Termios> {
    let mut t = Termios::default();
    // SAFETY: TCGETS writes a kernel struct termios (36 bytes, = Termios).
    if unsafe { libc::ioctl(fd, libc::TCGETS as _, &mut t as *mut Termios) } < 0 {
        return Err(Errno::last_host());
    }
    Ok(t)
}

/// TCSETS, TCSETSW or TCSETSF (`cmd`, the guest's number, which is the host's).
pub fn tcsets(fd: i32, cmd: u32, t: &Termios) -> KResult<()> {
    if ![libc::TCSETS, libc::TCSETSW, libc::TCSETSF].contains(&(cmd as libc::Ioctl)) {
        return Err(Errno::EINVAL);
    }
    {
        let mut saved = SAVED_TERMIOS.lock();
        if saved.is_none() {
            *saved = Some((fd, tcgets(fd)?));
        }
    }
    // SAFETY: TCSETS* read a kernel struct termios from a live value.
    if unsafe { libc::ioctl(fd, cmd as _, t as *const Termios) } < 0 {
        return Err(Errno::last_host());
    }
    Ok(())
}

pub fn get_winsize(fd: i32) -> KResult<Winsize> {
    let mut w = Winsize::default();
    // SAFETY: TIOCGWINSZ writes a struct winsize.
    if unsafe { libc::ioctl(fd, libc::TIOCGWINSZ as _, &mut w as *mut Winsize) } < 0 {
        return Err(Errno::last_host());
    }
    Ok(w)
}

pub fn set_winsize(fd: i32, w: &Winsize) -> KResult<()> {
    // SAFETY: TIOCSWINSZ reads a struct winsize from a live value.
    if unsafe { libc::ioctl(fd, libc::TIOCSWINSZ as _, w as *const Winsize) } < 0 {
        return Err(Errno::last_host());
    }
    Ok(())
}

/// TCSBRK, TCXONC or TCFLSH: terminal ioctls that take an int by value.
pub fn line_control(fd: i32, cmd: u32, arg: i32) -> KResult<()> {
    if ![libc::TCSBRK, libc::TCXONC, libc::TCFLSH].contains(&(cmd as libc::Ioctl)) {
        return Err(Errno::EINVAL);
    }
    // SAFETY: these take an int by value.
    if unsafe { libc::ioctl(fd, cmd as _, arg as libc::c_int) } < 0 {
        return Err(Errno::last_host());
    }
    Ok(())
}

/// Bytes waiting to be read on host fd `fd` (FIONREAD).
pub fn bytes_readable(fd: i32) -> KResult<i32> {
    let mut n: i32 = 0;
    // SAFETY: FIONREAD writes an int.
    if unsafe { libc::ioctl(fd, libc::FIONREAD as _, &mut n as *mut i32) } < 0 {
        return Err(Errno::last_host());
    }
    Ok(n)
}

/// The host's controlling terminal, opened once on first use.
pub fn controlling_terminal() -> Option<i32> {
    static TTY: OnceLock<Option<OwnedFd>> = OnceLock::new();
    TTY.get_or_init(|| {
        // SAFETY: open with a NUL-terminated literal path.
        let fd = unsafe { libc::open(c"/dev/tty".as_ptr(), libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC) };
        // SAFETY: fd was just returned by open and is owned by no one else.
        (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd) })
    })
    .as_ref()
    .map(|f| f.as_raw_fd())
}

/// Is host fd `fd` the terminal on fd 0?
pub fn same_terminal_as_stdin(fd: i32) -> bool {
    if !is_tty(fd) {
        return false;
    }
    match (super::files::fstat(0), super::files::fstat(fd)) {
        (Ok(a), Ok(b)) => a.rdev == b.rdev,
        _ => false,
    }
}

// ---- the raw-mode console ----

/// The host terminal's settings before the guest first changed them
/// through a passed-through fd.
static SAVED_TERMIOS: Mutex<Option<(i32, Termios)>> = Mutex::new(None);

/// The host terminal vkernel drives in raw mode. Set once, before any
/// signal handler that reads it is installed.
struct RawTerminal {
    fd: i32,
    original: Termios,
    raw: Termios,
}

impl RawTerminal {
    /// Async-signal-safe: one ioctl.
    fn restore(&self) {
        // SAFETY: TCSETS reads a kernel struct termios from a live value.
        unsafe { libc::ioctl(self.fd, libc::TCSETS as _, &self.original as *const Termios) };
    }

    /// Async-signal-safe: raw mode again, unless vkernel was continued in
    /// the background (setting it there would stop vkernel with SIGTTOU).
    fn make_raw(&self) {
        // SAFETY: plain queries and a TCSETS from a live value.
        unsafe {
            if libc::tcgetpgrp(self.fd) == libc::getpgrp() {
                libc::ioctl(self.fd, libc::TCSETS as _, &self.raw as *const Termios);
            }
        }
    }
}

static RAW_TERMINAL: OnceLock<RawTerminal> = OnceLock::new();
/// The write end of the pipe that wakes the reader thread from a handler.
static WAKE_FD: AtomicI32 = AtomicI32::new(-1);
/// Events handlers leave for the reader thread.
static EVENTS: AtomicU32 = AtomicU32::new(0);
const EVENT_RESIZE: u32 = 1;

/// Puts the host terminal back as it was before vkernel or the guest
/// changed it. Safe to call from any exit path, including a panic hook.
pub fn restore() {
    if let Some(host) = RAW_TERMINAL.get() {
        host.restore();
        return;
    }
    if let Some((fd, t)) = *SAVED_TERMIOS.lock() {
        // SAFETY: TCSETS reads a kernel struct termios from a live value.
        unsafe { libc::ioctl(fd, libc::TCSETS as _, &t as *const Termios) };
    }
}

fn wake_reader() {
    let fd = WAKE_FD.load(Ordering::Relaxed);
    if fd >= 0 {
        // SAFETY: write of one byte from a static to our own pipe
        // (async-signal-safe).
        unsafe { libc::write(fd, b"x".as_ptr() as *const libc::c_void, 1) };
    }
}

/// SIGTERM, SIGHUP, SIGINT, SIGQUIT to vkernel: put the terminal back and
/// die of the signal (SA_RESETHAND made its action the default again).
extern "C" fn on_fatal_signal(sig: libc::c_int) {
    if let Some(host) = RAW_TERMINAL.get() {
        host.restore();
    }
    // SAFETY: raise is async-signal-safe; SA_NODEFER leaves sig unblocked.
    unsafe { libc::raise(sig) };
}

/// SIGTSTP to vkernel: put the terminal back and stop.
extern "C" fn on_stop_signal(_sig: libc::c_int) {
    if let Some(host) = RAW_TERMINAL.get() {
        host.restore();
    }
    // SAFETY: raise is async-signal-safe.
    unsafe { libc::raise(libc::SIGSTOP) };
}

/// SIGCONT: raw mode again; the window may have changed meanwhile.
extern "C" fn on_continue(_sig: libc::c_int) {
    if let Some(host) = RAW_TERMINAL.get() {
        host.make_raw();
    }
    EVENTS.fetch_or(EVENT_RESIZE, Ordering::Relaxed);
    wake_reader();
}

extern "C" fn on_window_change(_sig: libc::c_int) {
    EVENTS.fetch_or(EVENT_RESIZE, Ordering::Relaxed);
    wake_reader();
}

fn install_handler(sig: i32, handler: extern "C" fn(libc::c_int), flags: i32) {
    // SAFETY: a zeroed sigaction is valid; the handler only makes
    // async-signal-safe calls and reads statics set before installation.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = handler as usize;
        sa.sa_flags = flags;
        libc::sigemptyset(&mut sa.sa_mask);
        libc::sigaction(sig, &sa, std::ptr::null_mut());
    }
}

/// What the console tty does with what the host terminal delivers.
pub trait ConsoleInput: Send + 'static {
    /// Host input; returns how much was taken (0: the guest is not
    /// reading, try again later).
    fn input(&self, data: &[u8]) -> usize;
    fn resized(&self, size: Winsize);
    /// The host terminal is gone.
    fn hung_up(&self);
}

/// The host terminal in raw mode, once `enter_raw_mode` succeeded.
pub struct RawConsole {
    pub fd: i32,
    /// Where console output goes.
    pub out_fd: i32,
    /// The settings the host terminal had (the guest console starts with them).
    pub original: Termios,
    pub winsize: Winsize,
    wake_read: i32,
}

/// cfmakeraw: no input or output processing, no echo, no signals.
fn raw_termios(t: &Termios) -> Termios {
    let mut r = *t;
    r.c_iflag &= !(libc::IGNBRK | libc::BRKINT | libc::PARMRK | libc::ISTRIP | libc::INLCR | libc::IGNCR | libc::ICRNL | libc::IXON);
    r.c_oflag &= !libc::OPOST;
    r.c_lflag &= !(libc::ECHO | libc::ECHONL | libc::ICANON | libc::ISIG | libc::IEXTEN);
    r.c_cflag = (r.c_cflag & !(libc::CSIZE | libc::PARENB)) | libc::CS8;
    r.c_cc[libc::VMIN] = 1;
    r.c_cc[libc::VTIME] = 0;
    r
}

/// Where console output goes: fd 1 when it is the same terminal as fd 0,
/// else a write-only reopen of fd 0's terminal.
fn console_output_fd() -> i32 {
    if same_terminal_as_stdin(1) {
        return 1;
    }
    // SAFETY: open with a NUL-terminated literal path.
    let fd = unsafe { libc::open(c"/proc/self/fd/0".as_ptr(), libc::O_WRONLY | libc::O_NOCTTY | libc::O_CLOEXEC) };
    if fd >= 0 { fd } else { 0 }
}

/// Puts the host terminal on fd 0 in raw mode if it is one and vkernel is
/// in its foreground, with handlers that restore it when vkernel dies or
/// stops. None: fd 0 is not a terminal vkernel may take over.
pub fn enter_raw_mode() -> Option<RawConsole> {
    let fd = 0;
    // SAFETY: plain queries of our own fd and process.
    if !is_tty(fd) || unsafe { libc::tcgetpgrp(fd) != libc::getpgrp() } {
        return None;
    }
    let original = tcgets(fd).ok()?;
    let out_fd = console_output_fd();
    let mut pipe = [0i32; 2];
    // SAFETY: pipe2 into a two-element array.
    if unsafe { libc::pipe2(pipe.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } < 0 {
        return None;
    }
    let raw = raw_termios(&original);
    if RAW_TERMINAL.set(RawTerminal { fd, original, raw }).is_err() {
        return None;
    }
    WAKE_FD.store(pipe[1], Ordering::Relaxed);
    for sig in [libc::SIGTERM, libc::SIGHUP, libc::SIGINT, libc::SIGQUIT] {
        install_handler(sig, on_fatal_signal, libc::SA_RESETHAND | libc::SA_NODEFER);
    }
    install_handler(libc::SIGTSTP, on_stop_signal, libc::SA_RESTART);
    install_handler(libc::SIGCONT, on_continue, libc::SA_RESTART);
    install_handler(libc::SIGWINCH, on_window_change, libc::SA_RESTART);
    if let Some(host) = RAW_TERMINAL.get() {
        host.make_raw();
    }
    Some(RawConsole { fd, out_fd, original, winsize: get_winsize(fd).unwrap_or_default(), wake_read: pipe[0] })
}

impl RawConsole {
    /// Starts the reader thread: host input and window-size changes go to
    /// `sink` until the host terminal goes away.
    pub fn start_reader(&self, sink: impl ConsoleInput) -> bool {
        let (fd, wake) = (self.fd, self.wake_read);
        std::thread::Builder::new().name("vkernel-console".into()).spawn(move || read_host_input(sink, fd, wake)).is_ok()
    }
}

/// The console's reader thread: host input to the line discipline, and
/// window-size changes from the SIGWINCH handler. A panic in the console
/// code it calls is reported and the reader goes on (the console must not
/// die with it).
fn read_host_input(sink: impl ConsoleInput, fd: i32, wake: i32) {
    super::system::unpin_service_thread();
    loop {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read_loop(&sink, fd, wake))) {
            Ok(()) => return,
            Err(_) => eprintln!("vkernel: internal error in the console reader; it goes on"),
        }
    }
}

fn read_loop(sink: &impl ConsoleInput, fd: i32, wake: i32) {
    let mut buf = [0u8; 4096];
    loop {
        let mut fds = [libc::pollfd { fd, events: libc::POLLIN, revents: 0 }, libc::pollfd { fd: wake, events: libc::POLLIN, revents: 0 }];
        // SAFETY: poll on two live pollfds.
        if unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) } < 0 {
            continue;
        }
        if fds[1].revents != 0 {
            // SAFETY: draining our own non-blocking pipe into a live buffer.
            while unsafe { libc::read(wake, buf.as_mut_ptr() as *mut libc::c_void, buf.len()) } > 0 {}
            if EVENTS.swap(0, Ordering::Relaxed) & EVENT_RESIZE != 0 {
                if let Ok(w) = get_winsize(fd) {
                    sink.resized(w);
                }
            }
        }
        if fds[0].revents == 0 {
            continue;
        }
        // SAFETY: reading into a live buffer from our own fd.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr() as *mut libc::c_void, buf.len()) };
        if n < 0 && matches!(Errno::last_host(), Errno::EINTR | Errno::EAGAIN) {
            continue;
        }
        if n <= 0 {
            // The terminal is gone: readers see end of file.
            sink.hung_up();
            return;
        }
        let mut rest = &buf[..n as usize];
        while !rest.is_empty() {
            let taken = sink.input(rest);
            rest = &rest[taken..];
            if taken == 0 {
                // The guest is not reading; hold the rest, as a throttled
                // line would.
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        }
    }
}
