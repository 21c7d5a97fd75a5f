//! The console. When vkernel's stdin is a host terminal (and vkernel is in
//! its foreground), the host terminal is put in raw mode and the console is
//! a real `Tty`: a reader thread feeds host input to the line discipline,
//! output goes to the host after output processing, host SIGWINCH resizes
//! it, and it is the controlling terminal of PID 1's session. Otherwise
//! guest fds 0-2 pass through to vkernel's own fds 0-2, keeping the host
//! fd's type (a pipe or file looks exactly as it would natively).
//! `restore_host_terminal` runs on every exit path: main, the panic hook,
//! and handlers for the signals that end or stop vkernel.

use parking_lot::Mutex;
use std::any::Any;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicI32, AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};

use crate::abi::fcntl::{O_ACCMODE, O_APPEND, O_LARGEFILE, O_NONBLOCK};
use crate::abi::ioctl::{
    FIONREAD, TCFLSH, TCGETS, TCSBRK, TCSETS, TCSETSF, TCSETSW, TCXONC, TIOCGPGRP, TIOCGSID, TIOCGWINSZ, TIOCNOTTY, TIOCOUTQ, TIOCSCTTY, TIOCSPGRP, TIOCSWINSZ,
};
use crate::abi::poll::{POLLIN, POLLOUT};
use crate::abi::stat::{S_IFMT, S_IFREG};
use crate::abi::termios::{
    BRKINT, CS8, CSIZE, ECHO, ECHONL, ICANON, ICRNL, IEXTEN, IGNBRK, IGNCR, INLCR, ISIG, ISTRIP, IXON, OPOST, PARENB, PARMRK, VMIN, VTIME,
};
use crate::abi::{Errno, KResult, StatFs, Termios, Timespec, Winsize};
use crate::fs::file::{FdTable, File, FileOps};
use crate::fs::inode::{Inode, InodeRef, Metadata};
use crate::fs::make_dev;
use crate::fs::path::{Path, WalkContext, walk};
use crate::kernel::Kernel;
use crate::task::Task;
use crate::tty::{Backend, Tty};

/// The foreground process group the guest set with TIOCSPGRP (0: none yet,
/// the caller's own group is reported).
static FOREGROUND_PGRP: AtomicI32 = AtomicI32::new(0);

/// The host terminal's settings before the guest first changed them.
static SAVED_TERMIOS: Mutex<Option<(i32, Termios)>> = Mutex::new(None);

fn retry<T: Copy + PartialOrd + Default>(mut f: impl FnMut() -> T) -> KResult<T> {
    loop {
        let r = f();
        if r >= T::default() {
            return Ok(r);
        }
        let e = Errno::last_host();
        if e != Errno::EINTR {
            return Err(e);
        }
    }
}

fn host_fstat(fd: i32) -> KResult<libc::stat> {
    // SAFETY: a zeroed stat is a valid out-buffer.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: fstat into a live out-buffer.
    if unsafe { libc::fstat(fd, &mut st) } < 0 {
        return Err(Errno::last_host());
    }
    Ok(st)
}

fn is_tty(fd: i32) -> bool {
    // SAFETY: isatty only queries the fd.
    unsafe { libc::isatty(fd) == 1 }
}

fn host_tcgets(fd: i32) -> KResult<Termios> {
    let mut t = Termios::default();
    // SAFETY: TCGETS writes a kernel struct termios (36 bytes, = Termios).
    if unsafe { libc::ioctl(fd, TCGETS as _, &mut t as *mut Termios) } < 0 {
        return Err(Errno::last_host());
    }
    Ok(t)
}

/// Puts the host terminal back as it was before vkernel or the guest
/// changed it.
pub fn restore_host_terminal() {
    if let Some(host) = HOST_TERMINAL.get() {
        host.restore();
        return;
    }
    let saved = *SAVED_TERMIOS.lock();
    if let Some((fd, t)) = saved {
        // SAFETY: TCSETS reads a kernel struct termios from a live value.
        unsafe { libc::ioctl(fd, TCSETS as _, &t as *const Termios) };
    }
}

// ---- the console as a real terminal ----

/// The host terminal vkernel drives in raw mode. Set once, before any
/// signal handler that reads it is installed.
struct HostTerminal {
    fd: i32,
    original: Termios,
    raw: Termios,
}

impl HostTerminal {
    /// Async-signal-safe: one ioctl.
    fn restore(&self) {
        // SAFETY: TCSETS reads a kernel struct termios from a live value.
        unsafe { libc::ioctl(self.fd, TCSETS as _, &self.original as *const Termios) };
    }

    /// Async-signal-safe: raw mode again, unless vkernel was continued in
    /// the background (setting it there would stop vkernel with SIGTTOU).
    fn make_raw(&self) {
        // SAFETY: plain queries and a TCSETS from a live value.
        unsafe {
            if libc::tcgetpgrp(self.fd) == libc::getpgrp() {
                libc::ioctl(self.fd, TCSETS as _, &self.raw as *const Termios);
            }
        }
    }
}

static HOST_TERMINAL: OnceLock<HostTerminal> = OnceLock::new();
static CONSOLE: OnceLock<Arc<Tty>> = OnceLock::new();
/// The write end of the pipe that wakes the reader thread from a handler.
static WAKE_FD: AtomicI32 = AtomicI32::new(-1);
/// Events handlers leave for the reader thread.
static EVENTS: AtomicU32 = AtomicU32::new(0);
const EVENT_RESIZE: u32 = 1;

/// cfmakeraw: no input or output processing, no echo, no signals.
fn raw_termios(t: &Termios) -> Termios {
    let mut r = *t;
    r.c_iflag &= !(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
    r.c_oflag &= !OPOST;
    r.c_lflag &= !(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
    r.c_cflag = (r.c_cflag & !(CSIZE | PARENB)) | CS8;
    r.c_cc[VMIN] = 1;
    r.c_cc[VTIME] = 0;
    r
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
    if let Some(host) = HOST_TERMINAL.get() {
        host.restore();
    }
    // SAFETY: raise is async-signal-safe; SA_NODEFER leaves sig unblocked.
    unsafe { libc::raise(sig) };
}

/// SIGTSTP to vkernel: put the terminal back and stop.
extern "C" fn on_stop_signal(_sig: libc::c_int) {
    if let Some(host) = HOST_TERMINAL.get() {
        host.restore();
    }
    // SAFETY: raise is async-signal-safe.
    unsafe { libc::raise(libc::SIGSTOP) };
}

/// SIGCONT: raw mode again; the window may have changed meanwhile.
extern "C" fn on_continue(_sig: libc::c_int) {
    if let Some(host) = HOST_TERMINAL.get() {
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

fn host_winsize(fd: i32) -> Winsize {
    let mut w = Winsize::default();
    // SAFETY: TIOCGWINSZ writes a struct winsize.
    unsafe { libc::ioctl(fd, TIOCGWINSZ as _, &mut w as *mut Winsize) };
    w
}

/// Writes all of `data` to host fd `fd` (the console's output); a host
/// error drops the rest, as a dead terminal would.
pub fn write_host(fd: i32, mut data: &[u8]) {
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

/// Makes the console a real terminal if vkernel's stdin is a host terminal
/// whose foreground vkernel is in: raw mode, signal handlers, the reader
/// thread. The console starts as the controlling terminal of session 1
/// with PID 1's group in the foreground.
fn init_console(kernel: &Arc<Kernel>) -> Option<Arc<Tty>> {
    let fd = 0;
    // SAFETY: plain queries of our own fd and process.
    if !is_tty(fd) || unsafe { libc::tcgetpgrp(fd) != libc::getpgrp() } {
        return None;
    }
    let original = host_tcgets(fd).ok()?;
    let out_fd = console_output_fd();
    let mut pipe = [0i32; 2];
    // SAFETY: pipe2 into a two-element array.
    if unsafe { libc::pipe2(pipe.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } < 0 {
        return None;
    }
    let raw = raw_termios(&original);
    if HOST_TERMINAL.set(HostTerminal { fd, original, raw }).is_err() {
        return None;
    }
    WAKE_FD.store(pipe[1], Ordering::Relaxed);
    for sig in [libc::SIGTERM, libc::SIGHUP, libc::SIGINT, libc::SIGQUIT] {
        install_handler(sig, on_fatal_signal, libc::SA_RESETHAND | libc::SA_NODEFER);
    }
    install_handler(libc::SIGTSTP, on_stop_signal, libc::SA_RESTART);
    install_handler(libc::SIGCONT, on_continue, libc::SA_RESTART);
    install_handler(libc::SIGWINCH, on_window_change, libc::SA_RESTART);
    if let Some(host) = HOST_TERMINAL.get() {
        host.make_raw();
    }
    let tty = Tty::new(Backend::Console { out_fd }, kernel, original, host_winsize(fd));
    {
        let mut st = tty.lock();
        st.session = 1;
        st.pgrp = 1;
    }
    let reader = tty.clone();
    let wake_read = pipe[0];
    std::thread::Builder::new().name("vkernel-console".into()).spawn(move || read_host_input(reader, fd, wake_read)).ok()?;
    let _ = CONSOLE.set(tty.clone());
    Some(tty)
}

/// Where console output goes: fd 1 when it is the same terminal as fd 0,
/// else a write-only reopen of fd 0's terminal.
fn console_output_fd() -> i32 {
    if same_terminal(1) {
        return 1;
    }
    // SAFETY: open with a NUL-terminated literal path.
    let fd = unsafe { libc::open(c"/proc/self/fd/0".as_ptr(), libc::O_WRONLY | libc::O_NOCTTY | libc::O_CLOEXEC) };
    if fd >= 0 { fd } else { 0 }
}

/// Is host fd `fd` the terminal on fd 0?
fn same_terminal(fd: i32) -> bool {
    if !is_tty(fd) {
        return false;
    }
    match (host_fstat(0), host_fstat(fd)) {
        (Ok(a), Ok(b)) => a.st_rdev == b.st_rdev,
        _ => false,
    }
}

/// The console's reader thread: host input to the line discipline, and
/// window-size changes from the SIGWINCH handler.
fn read_host_input(tty: Arc<Tty>, fd: i32, wake: i32) {
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
                tty.set_winsize(host_winsize(fd));
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
            tty.hangup();
            return;
        }
        let mut rest = &buf[..n as usize];
        while !rest.is_empty() {
            let taken = tty.receive(rest);
            rest = &rest[taken..];
            if taken == 0 {
                // The guest is not reading; hold the rest, as a throttled
                // line would.
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        }
    }
}

/// What a host fd is, which decides seeking and blocking behaviour.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum HostKind {
    Tty,
    Regular,
    Other,
}

fn kind_of(fd: i32) -> HostKind {
    if is_tty(fd) {
        return HostKind::Tty;
    }
    match host_fstat(fd) {
        Ok(st) if st.st_mode & S_IFMT == S_IFREG => HostKind::Regular,
        _ => HostKind::Other,
    }
}

/// One of vkernel's own host fds (or the host terminal) as a guest file.
pub struct ConsoleFile {
    pub read_fd: i32,
    pub write_fd: i32,
    kind: HostKind,
}

impl ConsoleFile {
    pub fn new(read_fd: i32, write_fd: i32) -> ConsoleFile {
        ConsoleFile { read_fd, write_fd, kind: kind_of(read_fd) }
    }

    /// Is the host fd ready for `events` right now?
    fn ready(&self, fd: i32, events: i16) -> bool {
        let mut p = libc::pollfd { fd, events, revents: 0 };
        // SAFETY: poll on one live pollfd with a zero timeout.
        unsafe { libc::poll(&mut p, 1, 0) > 0 && p.revents != 0 }
    }

    fn tty_fd(&self) -> KResult<i32> {
        if self.kind == HostKind::Tty { Ok(self.read_fd) } else { Err(Errno::ENOTTY) }
    }
}

impl FileOps for ConsoleFile {
    fn read(&self, file: &File, buf: &mut [u8], _pos: &mut u64) -> KResult<usize> {
        if file.nonblocking() && self.kind != HostKind::Regular && !self.ready(self.read_fd, libc::POLLIN) {
            return Err(Errno::EAGAIN);
        }
        // SAFETY: reading into a live buffer from our own fd.
        retry(|| unsafe { libc::read(self.read_fd, buf.as_mut_ptr() as *mut libc::c_void, buf.len()) }).map(|n| n as usize)
    }

    fn write(&self, file: &File, buf: &[u8], _pos: &mut u64) -> KResult<usize> {
        if file.nonblocking() && self.kind != HostKind::Regular && !self.ready(self.write_fd, libc::POLLOUT) {
            return Err(Errno::EAGAIN);
        }
        // SAFETY: writing a live buffer to our own fd.
        retry(|| unsafe { libc::write(self.write_fd, buf.as_ptr() as *const libc::c_void, buf.len()) }).map(|n| n as usize)
    }

    fn pread(&self, _file: &File, buf: &mut [u8], offset: u64) -> KResult<usize> {
        if self.kind != HostKind::Regular {
            return Err(Errno::ESPIPE);
        }
        // SAFETY: pread into a live buffer from our own fd.
        retry(|| unsafe { libc::pread(self.read_fd, buf.as_mut_ptr() as *mut libc::c_void, buf.len(), offset as i64) }).map(|n| n as usize)
    }

    fn pwrite(&self, _file: &File, buf: &[u8], offset: u64) -> KResult<usize> {
        if self.kind != HostKind::Regular {
            return Err(Errno::ESPIPE);
        }
        // SAFETY: pwrite of a live buffer to our own fd.
        retry(|| unsafe { libc::pwrite(self.write_fd, buf.as_ptr() as *const libc::c_void, buf.len(), offset as i64) }).map(|n| n as usize)
    }

    /// A redirected regular file shares its offset with the host, as the
    /// guest's fd would with the shell that opened it.
    fn llseek(&self, _file: &File, pos: &mut u64, offset: i64, whence: u32) -> KResult<u64> {
        if self.kind != HostKind::Regular {
            return Err(Errno::ESPIPE);
        }
        // SAFETY: lseek on our own fd.
        let r = unsafe { libc::lseek(self.read_fd, offset, whence as i32) };
        if r < 0 {
            return Err(Errno::last_host());
        }
        *pos = r as u64;
        Ok(r as u64)
    }

    fn seekable(&self) -> bool {
        self.kind == HostKind::Regular
    }

    fn is_stream(&self) -> bool {
        self.kind != HostKind::Regular
    }

    fn size(&self, _file: &File) -> KResult<u64> {
        Ok(host_fstat(self.read_fd)?.st_size as u64)
    }

    fn poll(&self, _file: &File) -> u16 {
        let mut r = 0;
        if self.ready(self.read_fd, libc::POLLIN) {
            r |= POLLIN;
        }
        if self.ready(self.write_fd, libc::POLLOUT) {
            r |= POLLOUT;
        }
        r
    }

    fn ioctl_task(&self, _file: &File, task: &Task, cmd: u32, arg: u64) -> KResult<u64> {
        let mm = task.mm();
        match cmd {
            FIONREAD => {
                let mut n: i32 = 0;
                // SAFETY: FIONREAD writes an int.
                if unsafe { libc::ioctl(self.read_fd, FIONREAD as _, &mut n as *mut i32) } < 0 {
                    return Err(Errno::last_host());
                }
                mm.write(arg, &n)?;
                Ok(0)
            }
            TCGETS => {
                let t = host_tcgets(self.tty_fd()?)?;
                mm.write(arg, &t)?;
                Ok(0)
            }
            TCSETS | TCSETSW | TCSETSF => {
                let fd = self.tty_fd()?;
                let t: Termios = mm.read(arg)?;
                {
                    let mut saved = SAVED_TERMIOS.lock();
                    if saved.is_none() {
                        *saved = Some((fd, host_tcgets(fd)?));
                    }
                }
                // SAFETY: TCSETS* read a kernel struct termios from a live value.
                if unsafe { libc::ioctl(fd, cmd as _, &t as *const Termios) } < 0 {
                    return Err(Errno::last_host());
                }
                Ok(0)
            }
            TIOCGWINSZ => {
                let mut w = Winsize::default();
                // SAFETY: TIOCGWINSZ writes a struct winsize.
                if unsafe { libc::ioctl(self.tty_fd()?, TIOCGWINSZ as _, &mut w as *mut Winsize) } < 0 {
                    return Err(Errno::last_host());
                }
                mm.write(arg, &w)?;
                Ok(0)
            }
            TIOCSWINSZ => {
                let fd = self.tty_fd()?;
                let w: Winsize = mm.read(arg)?;
                // SAFETY: TIOCSWINSZ reads a struct winsize from a live value.
                if unsafe { libc::ioctl(fd, TIOCSWINSZ as _, &w as *const Winsize) } < 0 {
                    return Err(Errno::last_host());
                }
                Ok(0)
            }
            TCSBRK | TCXONC | TCFLSH => {
                // SAFETY: these take an int by value.
                if unsafe { libc::ioctl(self.tty_fd()?, cmd as _, arg as libc::c_int) } < 0 {
                    return Err(Errno::last_host());
                }
                Ok(0)
            }
            TIOCOUTQ => {
                self.tty_fd()?;
                mm.write(arg, &0i32)?;
                Ok(0)
            }
            TIOCGPGRP => {
                self.tty_fd()?;
                let fg = FOREGROUND_PGRP.load(Ordering::Relaxed);
                let pgrp = if fg > 0 { fg } else { task.pgid() };
                mm.write(arg, &pgrp)?;
                Ok(0)
            }
            TIOCSPGRP => {
                self.tty_fd()?;
                let pgrp: i32 = mm.read(arg)?;
                if pgrp < 0 {
                    return Err(Errno::EINVAL);
                }
                FOREGROUND_PGRP.store(pgrp, Ordering::Relaxed);
                Ok(0)
            }
            TIOCGSID => {
                self.tty_fd()?;
                mm.write(arg, &task.sid())?;
                Ok(0)
            }
            TIOCSCTTY | TIOCNOTTY => {
                self.tty_fd()?;
                Ok(0)
            }
            _ => Err(Errno::ENOTTY),
        }
    }
}

/// A console fd's inode: the host fd's own metadata, fetched each time.
pub struct ConsoleInode {
    pub host_fd: i32,
    link: Vec<u8>,
}

impl ConsoleInode {
    pub fn new(host_fd: i32) -> ConsoleInode {
        let link = std::fs::read_link(format!("/proc/self/fd/{host_fd}"))
            .map(|p| {
                use std::os::unix::ffi::OsStrExt;
                p.as_os_str().as_bytes().to_vec()
            })
            .unwrap_or_else(|_| b"/dev/console".to_vec());
        ConsoleInode { host_fd, link }
    }
}

impl Inode for ConsoleInode {
    fn metadata(&self) -> KResult<Metadata> {
        let st = host_fstat(self.host_fd)?;
        Ok(Metadata {
            dev: make_dev(libc::major(st.st_dev), libc::minor(st.st_dev)),
            ino: st.st_ino,
            mode: st.st_mode,
            nlink: st.st_nlink,
            uid: st.st_uid,
            gid: st.st_gid,
            rdev: make_dev(libc::major(st.st_rdev), libc::minor(st.st_rdev)),
            size: st.st_size as u64,
            blksize: st.st_blksize as u64,
            blocks: st.st_blocks as u64,
            atime: Timespec { tv_sec: st.st_atime, tv_nsec: st.st_atime_nsec },
            mtime: Timespec { tv_sec: st.st_mtime, tv_nsec: st.st_mtime_nsec },
            ctime: Timespec { tv_sec: st.st_ctime, tv_nsec: st.st_ctime_nsec },
        })
    }

    fn statfs(&self) -> KResult<StatFs> {
        crate::fs::hostfs::host_fstatfs(self.host_fd)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    /// Reopening through /proc/self/fd/N reaches the same host fd.
    fn open(&self, _flags: u32) -> KResult<Option<Arc<dyn FileOps>>> {
        Ok(Some(Arc::new(ConsoleFile::new(self.host_fd, self.host_fd))))
    }

    fn link_name(&self) -> Option<Vec<u8>> {
        Some(self.link.clone())
    }
}

/// The host's controlling terminal, opened once on first use.
fn host_tty() -> Option<i32> {
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

/// /dev/tty: the caller's controlling terminal, ENXIO without one. When
/// the console is not a terminal, PID 1's session (which natively would
/// have inherited vkernel's) reaches the host's controlling terminal.
pub fn open_tty(flags: u32) -> KResult<Arc<dyn FileOps>> {
    let task = crate::task::current();
    let sid = task.as_ref().map(|t| t.process.sid()).unwrap_or(1);
    if let Some(tty) = crate::tty::controlling_tty(sid) {
        return Ok(Arc::new(tty.open_slave(flags, false)));
    }
    if CONSOLE.get().is_some() || sid != 1 {
        return Err(Errno::ENXIO);
    }
    let fd = host_tty().ok_or(Errno::ENXIO)?;
    Ok(Arc::new(ConsoleFile::new(fd, fd)))
}

/// /dev/console: the console tty (never acquired as a controlling
/// terminal by opening it, as in Linux), else the host terminal if there
/// is one, else vkernel's stdin and stdout.
pub fn open_console(flags: u32) -> KResult<Arc<dyn FileOps>> {
    if let Some(tty) = CONSOLE.get() {
        return Ok(Arc::new(tty.open_slave(flags, false)));
    }
    match host_tty() {
        Some(fd) => Ok(Arc::new(ConsoleFile::new(fd, fd))),
        None => Ok(Arc::new(ConsoleFile::new(0, 1))),
    }
}

pub fn console_file(host_fd: i32, inode: InodeRef, flags: u32) -> Arc<File> {
    File::new(inode, None, Arc::new(ConsoleFile::new(host_fd, host_fd)), flags)
}

/// /dev/console in the guest's tree, which console fds show as their path
/// (so ttyname works).
fn console_node(kernel: &Arc<Kernel>) -> Option<Path> {
    let root = kernel.root();
    let search = |_: &Metadata| Ok(());
    let cx = WalkContext { mounts: &kernel.mounts, root: &root, start: &root, may_search: &search };
    walk(&cx, b"/dev/console", true).ok()
}

/// PID 1's fd table: guest fds 0, 1 and 2 are vkernel's own, with the
/// host fds' access modes and O_APPEND; a closed host fd stays closed.
/// Fds on the host terminal become the console tty when there is one.
pub fn stdio_fd_table(kernel: &Arc<Kernel>) -> FdTable {
    let mut table = FdTable::new();
    let console = init_console(kernel);
    for fd in 0..3 {
        // SAFETY: F_GETFL only queries the fd.
        let fl = unsafe { libc::fcntl(fd, libc::F_GETFL) };
        if fl < 0 {
            continue;
        }
        let flags = (fl as u32 & (O_ACCMODE | O_APPEND | O_NONBLOCK)) | O_LARGEFILE;
        if let Some(tty) = console.as_ref().filter(|_| same_terminal(fd)) {
            let ops = Arc::new(tty.open_slave(flags, false));
            let file = match console_node(kernel) {
                Some(path) => File::new(path.inode().clone(), Some(path), ops, flags),
                None => File::new(Arc::new(ConsoleInode::new(fd)), None, ops, flags),
            };
            table.put(fd, file, false);
            continue;
        }
        let inode: InodeRef = Arc::new(ConsoleInode::new(fd));
        table.put(fd, console_file(fd, inode, flags), false);
    }
    table
}
