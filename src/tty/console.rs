//! The console. When vkernel's stdin is a host terminal (and vkernel is in
//! its foreground), the host terminal is put in raw mode and the console is
//! a real `Tty`: a reader thread feeds host input to the line discipline,
//! output goes to the host after output processing, host SIGWINCH resizes
//! it, and it is the controlling terminal of PID 1's session. Otherwise
//! guest fds 0-2 pass through to vkernel's own fds 0-2, keeping the host
//! fd's type (a pipe or file looks exactly as it would natively).
//! `restore_host_terminal` runs on every exit path: main, the panic hook,
//! and handlers for the signals that end or stop vkernel.

use std::any::Any;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, OnceLock};

use crate::abi::fcntl::{O_ACCMODE, O_APPEND, O_LARGEFILE, O_NONBLOCK};
use crate::abi::ioctl::{
    FIONREAD, TCFLSH, TCGETS, TCSBRK, TCSETS, TCSETSF, TCSETSW, TCXONC, TIOCGPGRP, TIOCGSID, TIOCGWINSZ, TIOCNOTTY, TIOCOUTQ, TIOCSCTTY, TIOCSPGRP, TIOCSWINSZ,
};
use crate::abi::poll::{POLLIN, POLLOUT};
use crate::abi::stat::{S_IFMT, S_IFREG};
use crate::abi::{Errno, KResult, StatFs, Termios, Winsize};
use crate::fs::file::{FdTable, File, FileOps};
use crate::fs::inode::{Inode, InodeRef, Metadata};
use crate::fs::path::{MountTable, Path, WalkContext, walk};
use crate::sched::CurrentTask;
use crate::tty::{Backend, Tty};

/// The foreground process group the guest set with TIOCSPGRP (0: none yet,
/// the caller's own group is reported).
static FOREGROUND_PGRP: AtomicI32 = AtomicI32::new(0);

use crate::platform::host::terminal as host;

/// Puts the host terminal back as it was before vkernel or the guest
/// changed it.
pub fn restore_host_terminal() {
    host::restore();
}

static CONSOLE: OnceLock<Arc<Tty>> = OnceLock::new();

/// Writes console output to the host.
pub fn write_host(fd: i32, data: &[u8]) {
    host::write_all(fd, data);
}

/// Host terminal input reaches the console tty's line discipline.
struct ConsoleSink(Arc<Tty>);

impl host::ConsoleInput for ConsoleSink {
    fn input(&self, data: &[u8]) -> usize {
        self.0.receive(data)
    }
    fn resized(&self, size: Winsize) {
        self.0.set_winsize(size);
    }
    fn hung_up(&self) {
        self.0.hangup();
    }
}

/// Makes the console a real terminal if vkernel's stdin is a host terminal
/// whose foreground vkernel is in: raw mode, signal handlers, the reader
/// thread. The console starts as the controlling terminal of session 1
/// with PID 1's group in the foreground.
fn init_console() -> Option<Arc<Tty>> {
    let raw = host::enter_raw_mode()?;
    let tty = Tty::new(Backend::Console { out_fd: raw.out_fd }, raw.original, raw.winsize);
    {
        let mut st = tty.lock();
        st.session = 1;
        st.pgrp = 1;
    }
    if !raw.start_reader(ConsoleSink(tty.clone())) {
        return None;
    }
    let _ = CONSOLE.set(tty.clone());
    Some(tty)
}

/// What a host fd is, which decides seeking and blocking behaviour.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum HostKind {
    Tty,
    Regular,
    Other,
}

fn kind_of(fd: i32) -> HostKind {
    if host::is_tty(fd) {
        return HostKind::Tty;
    }
    match crate::platform::host::files::fstat(fd) {
        Ok(st) if st.mode & S_IFMT == S_IFREG => HostKind::Regular,
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

    fn tty_fd(&self) -> KResult<i32> {
        if self.kind == HostKind::Tty { Ok(self.read_fd) } else { Err(Errno::ENOTTY) }
    }
}

impl FileOps for ConsoleFile {
    fn read(&self, file: &File, buf: &mut [u8], _pos: &mut u64) -> KResult<usize> {
        if file.nonblocking() && self.kind != HostKind::Regular && !host::ready(self.read_fd, false) {
            return Err(Errno::EAGAIN);
        }
        host::read(self.read_fd, buf)
    }

    fn write(&self, file: &File, buf: &[u8], _pos: &mut u64) -> KResult<usize> {
        if file.nonblocking() && self.kind != HostKind::Regular && !host::ready(self.write_fd, true) {
            return Err(Errno::EAGAIN);
        }
        host::write(self.write_fd, buf)
    }

    fn pread(&self, _file: &File, buf: &mut [u8], offset: u64) -> KResult<usize> {
        if self.kind != HostKind::Regular {
            return Err(Errno::ESPIPE);
        }
        host::pread(self.read_fd, buf, offset)
    }

    fn pwrite(&self, _file: &File, buf: &[u8], offset: u64) -> KResult<usize> {
        if self.kind != HostKind::Regular {
            return Err(Errno::ESPIPE);
        }
        host::pwrite(self.write_fd, buf, offset)
    }

    /// A redirected regular file shares its offset with the host, as the
    /// guest's fd would with the shell that opened it.
    fn llseek(&self, _file: &File, pos: &mut u64, offset: i64, whence: u32) -> KResult<u64> {
        if self.kind != HostKind::Regular {
            return Err(Errno::ESPIPE);
        }
        let r = host::lseek(self.read_fd, offset, whence)?;
        *pos = r;
        Ok(r)
    }

    fn seekable(&self) -> bool {
        self.kind == HostKind::Regular
    }

    fn is_stream(&self) -> bool {
        self.kind != HostKind::Regular
    }

    fn size(&self, _file: &File) -> KResult<u64> {
        Ok(crate::platform::host::files::fstat(self.read_fd)?.size)
    }

    /// A host pipe or terminal can be watched by epoll (re-polled, as it
    /// has no wait queue); a host regular file cannot, as on Linux.
    fn can_poll(&self) -> bool {
        self.kind != HostKind::Regular
    }

    fn poll(&self, _file: &File) -> u16 {
        let mut r = 0;
        if host::ready(self.read_fd, false) {
            r |= POLLIN;
        }
        if host::ready(self.write_fd, true) {
            r |= POLLOUT;
        }
        r
    }

    fn ioctl(&self, _file: &File, task: &dyn CurrentTask, cmd: u32, arg: u64) -> KResult<u64> {
        let mm = task.mm();
        match cmd {
            FIONREAD => {
                let n = host::bytes_readable(self.read_fd)?;
                mm.write(arg, &n)?;
                Ok(0)
            }
            TCGETS => {
                let t = host::tcgets(self.tty_fd()?)?;
                mm.write(arg, &t)?;
                Ok(0)
            }
            TCSETS | TCSETSW | TCSETSF => {
                let fd = self.tty_fd()?;
                let t: Termios = mm.read(arg)?;
                host::tcsets(fd, cmd, &t)?;
                Ok(0)
            }
            TIOCGWINSZ => {
                let w = host::get_winsize(self.tty_fd()?)?;
                mm.write(arg, &w)?;
                Ok(0)
            }
            TIOCSWINSZ => {
                let fd = self.tty_fd()?;
                let w: Winsize = mm.read(arg)?;
                host::set_winsize(fd, &w)?;
                Ok(0)
            }
            TCSBRK | TCXONC | TCFLSH => {
                host::line_control(self.tty_fd()?, cmd, arg as i32)?;
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
        let link = host::fd_link(host_fd).unwrap_or_else(|| b"/dev/console".to_vec());
        ConsoleInode { host_fd, link }
    }
}

impl Inode for ConsoleInode {
    fn metadata(&self) -> KResult<Metadata> {
        Ok(crate::fs::hostfs::metadata_of(&crate::platform::host::files::fstat(self.host_fd)?))
    }

    fn statfs(&self) -> KResult<StatFs> {
        crate::platform::host::files::fstatfs(self.host_fd)
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

/// /dev/tty: the caller's controlling terminal, ENXIO without one. When
/// the console is not a terminal, PID 1's session (which natively would
/// have inherited vkernel's) reaches the host's controlling terminal.
pub fn open_tty(flags: u32) -> KResult<Arc<dyn FileOps>> {
    let sid = crate::sched::current().map(|t| t.sid()).unwrap_or(1);
    if let Some(tty) = crate::tty::controlling_tty(sid) {
        return Ok(Arc::new(tty.open_slave(flags, false)));
    }
    if CONSOLE.get().is_some() || sid != 1 {
        return Err(Errno::ENXIO);
    }
    let fd = host::controlling_terminal().ok_or(Errno::ENXIO)?;
    Ok(Arc::new(ConsoleFile::new(fd, fd)))
}

/// /dev/console: the console tty (never acquired as a controlling
/// terminal by opening it, as in Linux), else the host terminal if there
/// is one, else vkernel's stdin and stdout.
pub fn open_console(flags: u32) -> KResult<Arc<dyn FileOps>> {
    if let Some(tty) = CONSOLE.get() {
        return Ok(Arc::new(tty.open_slave(flags, false)));
    }
    match host::controlling_terminal() {
        Some(fd) => Ok(Arc::new(ConsoleFile::new(fd, fd))),
        None => Ok(Arc::new(ConsoleFile::new(0, 1))),
    }
}

pub fn console_file(host_fd: i32, inode: InodeRef, flags: u32) -> Arc<File> {
    File::new(inode, None, Arc::new(ConsoleFile::new(host_fd, host_fd)), flags)
}

/// /dev/console in the guest's tree, which console fds show as their path
/// (so ttyname works).
fn console_node(root: &Path, mounts: &MountTable) -> Option<Path> {
    let search = |_: &dyn crate::fs::inode::Inode, _: &Metadata| Ok(());
    let cx = WalkContext { mounts, root, start: root, may_search: &search };
    walk(&cx, b"/dev/console", true).ok()
}

/// PID 1's fd table: guest fds 0, 1 and 2 are vkernel's own, with the
/// host fds' access modes and O_APPEND; a closed host fd stays closed.
/// Fds on the host terminal become the console tty when there is one.
pub fn stdio_fd_table(root: &Path, mounts: &MountTable) -> FdTable {
    let mut table = FdTable::new();
    let console = init_console();
    for fd in 0..3 {
        let Some(fl) = host::status_flags(fd) else { continue };
        let flags = (fl & (O_ACCMODE | O_APPEND | O_NONBLOCK)) | O_LARGEFILE;
        if let Some(tty) = console.as_ref().filter(|_| host::same_terminal_as_stdin(fd)) {
            let ops = Arc::new(tty.open_slave(flags, false));
            let file = match console_node(root, mounts) {
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
