//! The console: guest fds 0-2 at boot are vkernel's own fds 0-2, and
//! /dev/tty and /dev/console reach the host terminal. Terminal ioctls are
//! answered from the host tty for now (the line discipline moves into
//! vkernel later); a redirected fd keeps the host's type, so a guest sees
//! a pipe or a regular file exactly as it would natively.
//! Call `restore_host_terminal` on every exit path once TCSETS may have run.

use std::any::Any;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use crate::abi::{Errno, KResult, StatFs, Termios, Timespec, Winsize};
use crate::fs::file::{FdTable, File, FileOps, O_APPEND, O_LARGEFILE, O_NONBLOCK, POLLIN, POLLOUT};
use crate::fs::inode::{Inode, InodeRef, Metadata, S_IFMT, S_IFREG};
use crate::fs::make_dev;
use crate::kernel::Kernel;
use crate::task::Task;

pub const TCGETS: u32 = 0x5401;
pub const TCSETS: u32 = 0x5402;
pub const TCSETSW: u32 = 0x5403;
pub const TCSETSF: u32 = 0x5404;
pub const TCSBRK: u32 = 0x5409;
pub const TCXONC: u32 = 0x540a;
pub const TCFLSH: u32 = 0x540b;
pub const TIOCSCTTY: u32 = 0x540e;
pub const TIOCGPGRP: u32 = 0x540f;
pub const TIOCSPGRP: u32 = 0x5410;
pub const TIOCOUTQ: u32 = 0x5411;
pub const TIOCGWINSZ: u32 = 0x5413;
pub const TIOCSWINSZ: u32 = 0x5414;
pub const FIONREAD: u32 = 0x541b;
pub const TIOCNOTTY: u32 = 0x5422;
pub const TIOCGSID: u32 = 0x5429;

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

/// Puts the host terminal back as it was before the guest changed it.
pub fn restore_host_terminal() {
    let saved = *SAVED_TERMIOS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((fd, t)) = saved {
        // SAFETY: TCSETS reads a kernel struct termios from a live value.
        unsafe { libc::ioctl(fd, TCSETS as _, &t as *const Termios) };
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
                    let mut saved = SAVED_TERMIOS.lock().unwrap_or_else(|e| e.into_inner());
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

/// /dev/tty: the controlling terminal, ENXIO without one (as natively).
pub fn open_tty() -> KResult<Arc<dyn FileOps>> {
    let fd = host_tty().ok_or(Errno::ENXIO)?;
    Ok(Arc::new(ConsoleFile::new(fd, fd)))
}

/// /dev/console: the host terminal if there is one, else vkernel's stdin
/// and stdout.
pub fn open_console() -> KResult<Arc<dyn FileOps>> {
    match host_tty() {
        Some(fd) => Ok(Arc::new(ConsoleFile::new(fd, fd))),
        None => Ok(Arc::new(ConsoleFile::new(0, 1))),
    }
}

pub fn console_file(host_fd: i32, inode: InodeRef, flags: u32) -> Arc<File> {
    File::new(inode, None, Arc::new(ConsoleFile::new(host_fd, host_fd)), flags)
}

/// PID 1's fd table: guest fds 0, 1 and 2 are vkernel's own, with the
/// host fds' access modes and O_APPEND; a closed host fd stays closed.
pub fn stdio_fd_table(_kernel: &Arc<Kernel>) -> FdTable {
    let mut table = FdTable::new();
    for fd in 0..3 {
        // SAFETY: F_GETFL only queries the fd.
        let fl = unsafe { libc::fcntl(fd, libc::F_GETFL) };
        if fl < 0 {
            continue;
        }
        let flags = (fl as u32 & (crate::fs::file::O_ACCMODE | O_APPEND | O_NONBLOCK)) | O_LARGEFILE;
        let inode: InodeRef = Arc::new(ConsoleInode::new(fd));
        table.put(fd, console_file(fd, inode, flags), false);
    }
    table
}
