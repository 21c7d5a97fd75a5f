//! Open files and fd tables. A `File` is one open file description (shared
//! by dup and fork); its behaviour comes from `FileOps`, which a filesystem
//! supplies for special files and the VFS supplies for regular files and
//! directories.

use parking_lot::Mutex;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::abi::fcntl::{
    O_ACCMODE, O_APPEND, O_ASYNC, O_CLOEXEC, O_DIRECT, O_EXCL, O_NDELAY, O_NOATIME, O_NOCTTY, O_NONBLOCK, O_PATH, O_RDONLY, O_RDWR, O_WRONLY, SEEK_CUR,
    SEEK_DATA, SEEK_END, SEEK_HOLE, SEEK_SET,
};
use crate::abi::poll::{POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM};
use crate::abi::stat::{S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFMT, S_IFREG};
use crate::abi::{Errno, KResult};
use crate::fs::fasync::FileOwner;
use crate::fs::inode::{DirEntry, InodeRef, Metadata};
use crate::fs::path::Path;
use crate::mm::uaccess::UserBuffers;
use crate::sched::CurrentTask;
use crate::sched::wait::WaitQueue;

/// The largest file offset (Linux's MAX_LFS_FILESIZE on 64-bit).
pub const MAX_FILE_OFFSET: u64 = i64::MAX as u64;

/// Linux's generic_file_llseek: SEEK_DATA/SEEK_HOLE treat the whole file
/// as data; a negative or overflowing result is EINVAL.
pub fn generic_llseek(pos: u64, offset: i64, whence: u32, size: impl FnOnce() -> KResult<u64>) -> KResult<u64> {
    let base: i128 = match whence {
        SEEK_SET => 0,
        SEEK_CUR => pos as i128,
        SEEK_END => size()? as i128,
        SEEK_DATA | SEEK_HOLE => {
            let size = size()?;
            if offset < 0 || offset as u64 >= size {
                return Err(Errno::ENXIO);
            }
            return Ok(if whence == SEEK_DATA { offset as u64 } else { size });
        }
        _ => return Err(Errno::EINVAL),
    };
    let new = base + offset as i128;
    if new < 0 || new > MAX_FILE_OFFSET as i128 {
        return Err(Errno::EINVAL);
    }
    Ok(new as u64)
}

/// Flags F_SETFL may change (Linux: fs/fcntl.c SETFL_MASK).
pub const SETFL_MASK: u32 = O_APPEND | O_NONBLOCK | O_NDELAY | O_DIRECT | O_NOATIME | O_ASYNC;

/// What an open file does. `pos` is the file position for seekable files;
/// stream files ignore it.
pub trait FileOps: Send + Sync {
    fn read(&self, file: &File, buf: &mut [u8], pos: &mut u64) -> KResult<usize>;
    fn write(&self, file: &File, buf: &[u8], pos: &mut u64) -> KResult<usize>;
    /// Whether lseek/pread/pwrite work (ESPIPE otherwise).
    fn seekable(&self) -> bool {
        true
    }
    /// Streams (pipes, ttys, sockets) return what is there; regular files
    /// are read in full by looping syscalls.
    fn is_stream(&self) -> bool {
        false
    }
    /// A device-specific ioctl; `caller` is the calling task (most
    /// ioctls read or write a structure in its memory).
    fn ioctl(&self, _file: &File, _caller: &dyn CurrentTask, _cmd: u32, _arg: u64) -> KResult<u64> {
        Err(Errno::ENOTTY)
    }
    /// lseek. The default is Linux's generic_file_llseek over `size`.
    fn llseek(&self, file: &File, pos: &mut u64, offset: i64, whence: u32) -> KResult<u64> {
        if !self.seekable() {
            return Err(Errno::ESPIPE);
        }
        if whence == SEEK_DATA || whence == SEEK_HOLE {
            // Where holes are is the filesystem's to say (Linux: ext4_llseek,
            // shmem_file_llseek; generic_file_llseek elsewhere).
            let size = self.size(file)?;
            if offset < 0 || offset as u64 >= size {
                return Err(Errno::ENXIO);
            }
            let new = file.inode.seek_data_hole(offset as u64, size, whence == SEEK_DATA)?;
            *pos = new;
            return Ok(new);
        }
        let new = generic_llseek(*pos, offset, whence, || self.size(file))?;
        *pos = new;
        Ok(new)
    }
    /// pread64: a read at `offset` that leaves the file position alone.
    fn pread(&self, file: &File, buf: &mut [u8], offset: u64) -> KResult<usize> {
        let mut pos = offset;
        self.read(file, buf, &mut pos)
    }
    /// pwrite64: a write at `offset` that leaves the file position alone.
    fn pwrite(&self, file: &File, buf: &[u8], offset: u64) -> KResult<usize> {
        let mut pos = offset;
        self.write(file, buf, &mut pos)
    }
    fn poll(&self, _file: &File) -> u16 {
        POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM
    }
    /// Where a poller sleeps until `poll` may answer differently; woken on
    /// every readiness change. None: readiness never changes (always ready).
    fn wait_queue(&self) -> Option<&WaitQueue> {
        None
    }
    /// Whether the file has a poll method of its own (epoll_ctl refuses
    /// the others with EPERM, as Linux does regular files and /dev/null).
    fn can_poll(&self) -> bool {
        self.wait_queue().is_some()
    }
    /// A count that moves with every event on the file, so edge-triggered
    /// epoll sees new data even while the file stays readable. None: epoll
    /// falls back to readiness bits appearing.
    fn event_count(&self) -> Option<u64> {
        None
    }
    /// The pipe behind a pipe or FIFO file (F_GETPIPE_SZ/F_SETPIPE_SZ;
    /// Linux's get_pipe_info).
    fn pipe(&self) -> Option<&crate::fs::pipe::Pipe> {
        None
    }
    /// The object behind special files that system calls must recognise
    /// (an epoll instance for epoll_ctl).
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        None
    }
    /// Directory reading for getdents64.
    fn readdir(&self, _file: &File, _pos: &mut u64, _sink: &mut dyn FnMut(DirEntry<'_>) -> bool) -> KResult<()> {
        Err(Errno::ENOTDIR)
    }
    /// A read straight into guest memory, for files that must not lose
    /// data when the copy faults (a pipe keeps what it could not copy out,
    /// as Linux's pipe_read does). None: the data path reads into a kernel
    /// buffer with `read`/`pread` and copies that out.
    fn read_to_user(&self, _file: &File, _bufs: &UserBuffers) -> Option<KResult<usize>> {
        None
    }
    /// Writes take the whole count without reading the caller's buffer
    /// (/dev/null and /dev/zero: Linux's write_null never looks at it).
    fn discards_writes(&self) -> bool {
        false
    }
    /// fsync/fdatasync: the inode's data and metadata reach the disk by
    /// default; a device file flushes its device.
    fn fsync(&self, file: &File) -> KResult<()> {
        file.inode.sync()
    }
    /// The size for SEEK_END; the inode's size by default.
    fn size(&self, file: &File) -> KResult<u64> {
        Ok(file.inode.metadata()?.size)
    }
    /// A read at `pos` that hands the bytes to `sink` in pieces (see
    /// `Inode::read_pieces`); None: read through a buffer.
    fn read_pieces(&self, _file: &File, _pos: u64, _len: usize, _sink: &mut dyn FnMut(&[u8]) -> KResult<()>) -> Option<KResult<usize>> {
        None
    }
    /// A read at `pos` into pinned guest pages (see `Inode::read_into`);
    /// None: no such path.
    fn read_into(&self, _file: &File, _pos: u64, _bufs: &mut [&mut [u8]]) -> Option<KResult<usize>> {
        None
    }
    /// A write at `*pos` (moved past what was written) from pinned guest
    /// pages (see `Inode::write_gather`); None: no such path.
    fn write_gather(&self, _file: &File, _src: &[&[u8]], _pos: &mut u64) -> Option<KResult<usize>> {
        None
    }
    /// Lines /proc/<pid>/fdinfo/<fd> shows after the common ones
    /// (eventfd-count, a timerfd's ticks, a pidfd's Pid).
    fn fdinfo(&self, _file: &File) -> String {
        String::new()
    }
    /// O_ASYNC turned on or off for `file`, reached through `fd`: a driver
    /// that signals readiness (pipes, terminals, sockets) adds the file to
    /// its `fs::fasync::FasyncList` or removes it (Linux's ->fasync).
    /// Files without one just keep the flag.
    fn fasync(&self, _file: &Arc<File>, _fd: i32, _on: bool) -> KResult<()> {
        Ok(())
    }
}

/// One open file description.
pub struct File {
    pub inode: InodeRef,
    /// Where it was opened, for /proc/<pid>/fd and fchdir; None for
    /// anonymous files (pipes, sockets).
    pub path: Option<Path>,
    pub ops: Arc<dyn FileOps>,
    flags: AtomicU32,
    pub pos: Mutex<u64>,
    /// F_SETOWN / F_SETSIG: whom O_ASYNC and dnotify signal.
    owner: Mutex<FileOwner>,
}

impl File {
    pub fn new(inode: InodeRef, path: Option<Path>, ops: Arc<dyn FileOps>, flags: u32) -> Arc<File> {
        Arc::new(File {
            inode,
            path,
            ops,
            flags: AtomicU32::new(flags & !(O_CLOEXEC | O_NOCTTY | O_EXCL)),
            pos: Mutex::new(0),
            owner: Mutex::new(FileOwner::default()),
        })
    }

    /// Opens an inode reached by path, using its own ops if it has any.
    /// Device nodes on any filesystem reach their driver by device number
    /// (Linux's init_special_inode); O_PATH opens touch no driver at all.
    pub fn open_path(path: Path, flags: u32) -> KResult<Arc<File>> {
        let inode = path.inode().clone();
        if flags & O_PATH != 0 {
            return Ok(File::new(inode, Some(path), Arc::new(PathFile), flags));
        }
        let ops: Arc<dyn FileOps> = match inode.open(flags)? {
            Some(ops) => ops,
            None => {
                let md = inode.metadata()?;
                // A device node on a nodev mount opens no device (may_open).
                if matches!(md.mode & S_IFMT, S_IFCHR | S_IFBLK) && path.mount.nodev() {
                    return Err(Errno::EACCES);
                }
                match md.mode & S_IFMT {
                    S_IFDIR => Arc::new(DirectoryFile),
                    S_IFREG => Arc::new(RegularFile),
                    S_IFCHR => crate::fs::chrdev::open(md.rdev, flags)?,
                    S_IFIFO => crate::fs::pipe::open_fifo(&inode, flags)?,
                    S_IFBLK => crate::fs::blkdev::open(md.rdev, flags)?,
                    // Sockets have no driver.
                    _ => return Err(Errno::ENXIO),
                }
            }
        };
        Ok(File::new(inode, Some(path), ops, flags))
    }

    pub fn flags(&self) -> u32 {
        self.flags.load(Ordering::Relaxed)
    }

    pub fn set_status_flags(&self, new: u32) {
        let old = self.flags();
        self.flags.store((old & !SETFL_MASK) | (new & SETFL_MASK), Ordering::Relaxed);
    }

    pub fn readable(&self) -> bool {
        let acc = self.flags() & O_ACCMODE;
        self.flags() & O_PATH == 0 && (acc == O_RDONLY || acc == O_RDWR)
    }

    pub fn writable(&self) -> bool {
        let acc = self.flags() & O_ACCMODE;
        self.flags() & O_PATH == 0 && (acc == O_WRONLY || acc == O_RDWR)
    }

    pub fn nonblocking(&self) -> bool {
        self.flags() & O_NONBLOCK != 0
    }

    pub fn metadata(&self) -> KResult<Metadata> {
        self.inode.metadata()
    }

    pub fn owner(&self) -> FileOwner {
        *self.owner.lock()
    }

    pub fn set_owner(&self, owner: FileOwner) {
        *self.owner.lock() = owner;
    }
}

impl Drop for File {
    fn drop(&mut self) {
        crate::fs::lock::release_file_locks(self as *const File as usize);
        crate::fs::notify::closed(self);
    }
}

/// The caller's RLIMIT_FSIZE, if finite.
fn file_size_limit() -> Option<u64> {
    let limit = crate::sched::current()?.rlimit(crate::abi::resource::RLIMIT_FSIZE).cur;
    (limit != crate::abi::resource::RLIM_INFINITY).then_some(limit)
}

/// RLIMIT_FSIZE exceeded: SIGXFSZ to the caller, and EFBIG.
fn file_too_large() -> Errno {
    if let Some(task) = crate::sched::current() {
        task.send_signal_to_self(crate::abi::signal::SIGXFSZ);
    }
    Errno::EFBIG
}

/// Linux's generic_write_check_limits: a regular-file write of `len` bytes
/// at `pos` stops at RLIMIT_FSIZE; one that starts at or past it is EFBIG
/// with SIGXFSZ. Returns how many bytes may be written.
pub fn limit_write(pos: u64, len: usize) -> KResult<usize> {
    if len == 0 {
        return Ok(0);
    }
    match file_size_limit() {
        Some(limit) if pos >= limit => Err(file_too_large()),
        Some(limit) => Ok(len.min((limit - pos).min(usize::MAX as u64) as usize)),
        None => Ok(len),
    }
}

/// Linux's inode_newsize_ok for RLIMIT_FSIZE: growing a file (truncate,
/// fallocate) from `old_size` to past the limit is EFBIG with SIGXFSZ.
pub fn check_new_size(old_size: u64, new_size: u64) -> KResult<()> {
    match file_size_limit() {
        Some(limit) if new_size > old_size && new_size > limit => Err(file_too_large()),
        _ => Ok(()),
    }
}

/// Generic ops for regular files: data through the inode.
pub struct RegularFile;

impl FileOps for RegularFile {
    fn read(&self, file: &File, buf: &mut [u8], pos: &mut u64) -> KResult<usize> {
        let n = file.inode.read_at(*pos, buf)?;
        *pos += n as u64;
        Ok(n)
    }
    fn read_pieces(&self, file: &File, pos: u64, len: usize, sink: &mut dyn FnMut(&[u8]) -> KResult<()>) -> Option<KResult<usize>> {
        file.inode.read_pieces(pos, len, sink)
    }
    fn read_into(&self, file: &File, pos: u64, bufs: &mut [&mut [u8]]) -> Option<KResult<usize>> {
        file.inode.read_into(pos, bufs)
    }
    fn write_gather(&self, file: &File, src: &[&[u8]], pos: &mut u64) -> Option<KResult<usize>> {
        let len: usize = src.iter().map(|s| s.len()).sum();
        let append = file.flags() & O_APPEND != 0;
        // The same limits as `write`, on the end for appends.
        let limit_at = match append {
            true if file_size_limit().is_some() => match file.inode.metadata() {
                Ok(md) => md.size,
                Err(e) => return Some(Err(e)),
            },
            true => 0,
            false => *pos,
        };
        let allowed = match limit_write(limit_at, len) {
            Ok(n) => n,
            Err(e) => return Some(Err(e)),
        };
        let src = crate::fs::io::first_bytes(src, allowed);
        let (n, end) = match file.inode.write_gather((!append).then_some(*pos), &src)? {
            Ok(r) => r,
            Err(e) => return Some(Err(e)),
        };
        // Linux moves an appender's position only when something was written.
        if n > 0 || !append {
            *pos = end;
        }
        Some(Ok(n))
    }
    fn write(&self, file: &File, buf: &[u8], pos: &mut u64) -> KResult<usize> {
        if file.flags() & O_APPEND != 0 {
            // The limit is checked against the end as it is now; a racing
            // append may move it, as on Linux between check and write.
            let end = if file_size_limit().is_some() { file.inode.metadata()?.size } else { 0 };
            let allowed = limit_write(end, buf.len())?;
            let (n, end) = file.inode.append(&buf[..allowed])?;
            // Linux moves the position only when something was written.
            if n > 0 {
                *pos = end;
            }
            return Ok(n);
        }
        let allowed = limit_write(*pos, buf.len())?;
        let n = file.inode.write_at(*pos, &buf[..allowed])?;
        *pos += n as u64;
        Ok(n)
    }
}

/// An O_PATH file: a handle on a place in the tree, with no I/O at all
/// (the syscall layer answers EBADF before these are reached).
pub struct PathFile;

impl FileOps for PathFile {
    fn read(&self, _file: &File, _buf: &mut [u8], _pos: &mut u64) -> KResult<usize> {
        Err(Errno::EBADF)
    }
    fn write(&self, _file: &File, _buf: &[u8], _pos: &mut u64) -> KResult<usize> {
        Err(Errno::EBADF)
    }
    fn llseek(&self, _file: &File, _pos: &mut u64, _offset: i64, _whence: u32) -> KResult<u64> {
        Err(Errno::EBADF)
    }
    fn ioctl(&self, _file: &File, _caller: &dyn CurrentTask, _cmd: u32, _arg: u64) -> KResult<u64> {
        Err(Errno::EBADF)
    }
}

/// Generic ops for directories: getdents through the inode; read is EISDIR.
pub struct DirectoryFile;

impl FileOps for DirectoryFile {
    fn read(&self, _file: &File, _buf: &mut [u8], _pos: &mut u64) -> KResult<usize> {
        Err(Errno::EISDIR)
    }
    fn write(&self, _file: &File, _buf: &[u8], _pos: &mut u64) -> KResult<usize> {
        Err(Errno::EISDIR)
    }
    /// Directory offsets are the filesystem's cookies: SEEK_SET and
    /// SEEK_CUR only (Linux: dcache_dir_lseek).
    fn llseek(&self, _file: &File, pos: &mut u64, offset: i64, whence: u32) -> KResult<u64> {
        let new = match whence {
            SEEK_SET => offset as i128,
            SEEK_CUR => *pos as i128 + offset as i128,
            _ => return Err(Errno::EINVAL),
        };
        if new < 0 || new > i64::MAX as i128 {
            return Err(Errno::EINVAL);
        }
        *pos = new as u64;
        Ok(*pos)
    }
    fn readdir(&self, file: &File, pos: &mut u64, sink: &mut dyn FnMut(DirEntry<'_>) -> bool) -> KResult<()> {
        let mut last = *pos;
        file.inode.readdir(*pos, &mut |e| {
            let next = e.next_offset;
            let more = sink(e);
            if more {
                last = next;
            }
            more
        })?;
        *pos = last;
        Ok(())
    }
}

/// One slot of an fd table.
#[derive(Clone)]
pub struct FdEntry {
    pub file: Arc<File>,
    pub cloexec: bool,
}

/// A task's file descriptor table (shared by CLONE_FILES).
#[derive(Clone, Default)]
pub struct FdTable {
    entries: Vec<Option<FdEntry>>,
}

impl FdTable {
    pub fn new() -> FdTable {
        FdTable { entries: Vec::new() }
    }

    pub fn get(&self, fd: i32) -> KResult<Arc<File>> {
        self.entry(fd).map(|e| e.file.clone())
    }

    pub fn entry(&self, fd: i32) -> KResult<&FdEntry> {
        if fd < 0 {
            return Err(Errno::EBADF);
        }
        self.entries.get(fd as usize).and_then(|e| e.as_ref()).ok_or(Errno::EBADF)
    }

    pub fn entry_mut(&mut self, fd: i32) -> KResult<&mut FdEntry> {
        if fd < 0 {
            return Err(Errno::EBADF);
        }
        self.entries.get_mut(fd as usize).and_then(|e| e.as_mut()).ok_or(Errno::EBADF)
    }

    /// Installs `file` at the lowest free fd >= `min` below `limit`.
    pub fn install(&mut self, file: Arc<File>, cloexec: bool, min: i32, limit: u64) -> KResult<i32> {
        let start = min.max(0) as usize;
        let slot = (start..).find(|&i| i >= self.entries.len() || self.entries[i].is_none()).unwrap_or(start);
        if slot as u64 >= limit {
            return Err(Errno::EMFILE);
        }
        self.put(slot as i32, file, cloexec);
        Ok(slot as i32)
    }

    /// Puts `file` at exactly `fd`, returning what was there (closed by the caller).
    pub fn put(&mut self, fd: i32, file: Arc<File>, cloexec: bool) -> Option<FdEntry> {
        let i = fd as usize;
        if i >= self.entries.len() {
            self.entries.resize(i + 1, None);
        }
        self.entries[i].replace(FdEntry { file, cloexec })
    }

    pub fn remove(&mut self, fd: i32) -> KResult<FdEntry> {
        if fd < 0 {
            return Err(Errno::EBADF);
        }
        let e = self.entries.get_mut(fd as usize).and_then(|e| e.take()).ok_or(Errno::EBADF)?;
        while matches!(self.entries.last(), Some(None)) {
            self.entries.pop();
        }
        Ok(e)
    }

    /// Every open fd, for close_range and /proc/<pid>/fd.
    pub fn fds(&self) -> Vec<i32> {
        self.entries.iter().enumerate().filter(|(_, e)| e.is_some()).map(|(i, _)| i as i32).collect()
    }

    /// Takes the close-on-exec fds out of the table (execve); the caller
    /// closes them with `close_fd`.
    pub fn take_close_on_exec(&mut self) -> Vec<Arc<File>> {
        let mut closed = Vec::new();
        for e in self.entries.iter_mut() {
            if e.as_ref().is_some_and(|e| e.cloexec) {
                closed.extend(e.take().map(|e| e.file));
            }
        }
        closed
    }
}

/// Process `tgid` closed one of its fds for `file` (close, dup2 over it,
/// close_range, close-on-exec): its POSIX record locks on the file go
/// (Linux: filp_close, locks_remove_posix). The open file description
/// itself ends when its last reference drops.
pub fn close_fd(file: Arc<File>, tgid: i32) {
    if let Ok(md) = file.inode.metadata() {
        crate::fs::lock::release_process_locks((md.dev, md.ino), tgid);
    }
    crate::fs::notify::dnotify_flush(&file, tgid);
    drop(file);
}
