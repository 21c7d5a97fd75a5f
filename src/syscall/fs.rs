//! File system calls: I/O on fds, the fd table, paths, metadata and
//! directories. Handlers decode and validate arguments in Linux's order,
//! then call the VFS (`fs::namei`, `FileOps`, inodes).

use std::sync::Arc;

use crate::abi::fcntl::{
    AT_EACCESS, AT_EMPTY_PATH, AT_FDCWD, AT_NO_AUTOMOUNT, AT_REMOVEDIR, AT_STATX_SYNC_TYPE, AT_SYMLINK_FOLLOW, AT_SYMLINK_NOFOLLOW, CLOSE_RANGE_CLOEXEC,
    CLOSE_RANGE_UNSHARE, F_ADD_SEALS, F_DUPFD, F_DUPFD_CLOEXEC, F_DUPFD_QUERY, F_GET_SEALS, F_GETFD, F_GETFL, F_GETLEASE, F_GETLK, F_GETOWN, F_GETOWN_EX,
    F_GETPIPE_SZ, F_GETSIG, F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW, F_RDLCK, F_SETFD, F_SETFL, F_SETLEASE, F_SETLK, F_SETLKW, F_SETOWN, F_SETOWN_EX,
    F_SETPIPE_SZ, F_SETSIG, F_UNLCK, F_WRLCK, FALLOC_FL_KEEP_SIZE, FD_CLOEXEC, O_APPEND, O_ASYNC, O_CLOEXEC, O_CREAT, O_NONBLOCK, O_PATH, O_TMPFILE, O_TRUNC,
    O_WRONLY, SEEK_SET,
};
use crate::abi::ioctl::{FIGETBSZ, FIOASYNC, FIOCLEX, FIONBIO, FIONCLEX, FIONREAD, FIOQSIZE, TIOCGPTPEER};
use crate::abi::limits::{XATTR_NAME_MAX, XATTR_SIZE_MAX};
use crate::abi::resource::RLIMIT_NOFILE;
use crate::abi::stat::{S_IFBLK, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK, STATX_RESERVED, UTIME_NOW, UTIME_OMIT};
use crate::abi::statfs::{ST_RDONLY, ST_RELATIME, ST_VALID};
use crate::abi::uio::{IOV_MAX, RWF_APPEND, RWF_DSYNC, RWF_HIPRI, RWF_NOWAIT, RWF_SYNC};
use crate::abi::{Errno, Iovec, KResult, Pod, Timespec, Timeval};
use crate::fs::file::{File, MAX_FILE_OFFSET};
use crate::fs::inode::{InodeRef, SetAttr};
use crate::fs::lookup::{MAY_EXEC, may_access, resolve_at};
use crate::fs::namei::{self, TimeArg};
use crate::fs::path::Path;
use crate::fs::{lock, make_dev};
use crate::syscall::{Sys, SyscallDef};
use crate::syscalls;
use crate::task::Task;

pub const SYSCALLS: &[SyscallDef] = syscalls![
    __NR_read => sys_read,
    __NR_write => sys_write,
    __NR_pread64 => sys_pread64,
    __NR_pwrite64 => sys_pwrite64,
    __NR_readv => sys_readv,
    __NR_writev => sys_writev,
    __NR_preadv => sys_preadv,
    __NR_pwritev => sys_pwritev,
    __NR_preadv2 => sys_preadv2,
    __NR_pwritev2 => sys_pwritev2,
    __NR_lseek => sys_lseek,
    __NR_open => sys_open,
    __NR_openat => sys_openat,
    __NR_creat => sys_creat,
    __NR_close => sys_close,
    __NR_close_range => sys_close_range,
    __NR_dup => sys_dup,
    __NR_dup2 => sys_dup2,
    __NR_dup3 => sys_dup3,
    __NR_fcntl => sys_fcntl,
    __NR_ioctl => sys_ioctl,
    __NR_flock => sys_flock,
    __NR_stat => sys_stat,
    __NR_lstat => sys_lstat,
    __NR_fstat => sys_fstat,
    __NR_newfstatat => sys_newfstatat,
    __NR_statx => sys_statx,
    __NR_statfs => sys_statfs,
    __NR_fstatfs => sys_fstatfs,
    __NR_getdents64 => sys_getdents64,
    __NR_getdents => sys_getdents,
    __NR_getcwd => sys_getcwd,
    __NR_chdir => sys_chdir,
    __NR_fchdir => sys_fchdir,
    __NR_chroot => sys_chroot,
    __NR_mkdir => sys_mkdir,
    __NR_mkdirat => sys_mkdirat,
    __NR_mknod => sys_mknod,
    __NR_mknodat => sys_mknodat,
    __NR_unlink => sys_unlink,
    __NR_unlinkat => sys_unlinkat,
    __NR_rmdir => sys_rmdir,
    __NR_rename => sys_rename,
    __NR_renameat => sys_renameat,
    __NR_renameat2 => sys_renameat2,
    __NR_link => sys_link,
    __NR_linkat => sys_linkat,
    __NR_symlink => sys_symlink,
    __NR_symlinkat => sys_symlinkat,
    __NR_readlink => sys_readlink,
    __NR_readlinkat => sys_readlinkat,
    __NR_access => sys_access,
    __NR_faccessat => sys_faccessat,
    __NR_faccessat2 => sys_faccessat2,
    __NR_truncate => sys_truncate,
    __NR_ftruncate => sys_ftruncate,
    __NR_fallocate => sys_fallocate,
    __NR_fsync => sys_fsync,
    __NR_fdatasync => sys_fsync,
    __NR_sync_file_range => sys_sync_file_range,
    __NR_sync => sys_sync,
    __NR_syncfs => sys_syncfs,
    __NR_fadvise64 => sys_fadvise64,
    __NR_readahead => sys_readahead,
    __NR_umask => sys_umask,
    __NR_utimensat => sys_utimensat,
    __NR_utimes => sys_utimes,
    __NR_futimesat => sys_futimesat,
    __NR_utime => sys_utime,
    __NR_chmod => sys_chmod,
    __NR_fchmod => sys_fchmod,
    __NR_fchmodat => sys_fchmodat,
    __NR_fchmodat2 => sys_fchmodat2,
    __NR_chown => sys_chown,
    __NR_lchown => sys_lchown,
    __NR_fchown => sys_fchown,
    __NR_fchownat => sys_fchownat,
    __NR_sendfile => sys_sendfile,
    __NR_copy_file_range => sys_copy_file_range,
    __NR_getxattr => sys_getxattr,
    __NR_lgetxattr => sys_lgetxattr,
    __NR_fgetxattr => sys_fgetxattr,
    __NR_listxattr => sys_listxattr,
    __NR_llistxattr => sys_llistxattr,
    __NR_flistxattr => sys_flistxattr,
    __NR_setxattr => sys_setxattr,
    __NR_lsetxattr => sys_lsetxattr,
    __NR_fsetxattr => sys_fsetxattr,
    __NR_removexattr => sys_removexattr,
    __NR_lremovexattr => sys_lremovexattr,
    __NR_fremovexattr => sys_fremovexattr,
];

/// Bytes moved per step of a large read or write.
const IO_CHUNK: usize = 1 << 20;
/// Linux caps one read or write at MAX_RW_COUNT bytes.
const MAX_RW_COUNT: usize = 0x7fff_f000;
/// The end of the user address range (TASK_SIZE_MAX): access_ok fails above it.
const USER_END: u64 = 0x7fff_ffff_f000;

// ---- small helpers ----

fn file_of(task: &Task, fd: i32) -> KResult<Arc<File>> {
    task.files().get(fd)
}

/// A file that may do I/O (not O_PATH).
fn io_file(task: &Task, fd: i32) -> KResult<Arc<File>> {
    let f = file_of(task, fd)?;
    if f.flags() & O_PATH != 0 {
        return Err(Errno::EBADF);
    }
    Ok(f)
}

fn nofile_limit(task: &Task) -> u64 {
    task.rlimit(RLIMIT_NOFILE).cur
}

/// Linux's access_ok: the range lies in the user half.
fn access_ok(addr: u64, len: usize) -> KResult<()> {
    match addr.checked_add(len as u64) {
        Some(end) if end <= USER_END || len == 0 => Ok(()),
        _ => Err(Errno::EFAULT),
    }
}

fn put<T: Pod>(sys: &Sys, addr: u64, v: &T) -> KResult<()> {
    sys.mm().write(addr, v)
}

/// An optional uid/gid argument: -1 means "leave alone".
fn id_arg(v: u64) -> Option<u32> {
    let v = v as u32;
    if v == u32::MAX { None } else { Some(v) }
}

/// The place an fd refers to, for calls that work on an fd's file as on a
/// path (fchmod, fchown, futimens): anonymous files get a private path.
fn fd_path(file: &File) -> Path {
    match &file.path {
        Some(p) => p.clone(),
        None => crate::fs::procfs::anon_path(&file.inode),
    }
}

/// The object `path` names relative to `dirfd`, or with AT_EMPTY_PATH and
/// an empty path the fd itself (any fd, even an anonymous one).
fn resolve_or_fd(task: &Task, dirfd: i32, path: &[u8], follow: bool, empty_ok: bool) -> KResult<Path> {
    if path.is_empty() && empty_ok && dirfd != AT_FDCWD {
        return Ok(fd_path(&*file_of(task, dirfd)?));
    }
    resolve_at(task, dirfd, path, follow, empty_ok)
}

/// Reads a path argument that may be NULL or empty with AT_EMPTY_PATH.
fn read_path_flags(sys: &Sys, addr: u64, flags: u32) -> KResult<Vec<u8>> {
    if flags & AT_EMPTY_PATH != 0 {
        if addr == 0 {
            return Ok(Vec::new());
        }
        return sys.read_path_allow_empty(addr);
    }
    sys.read_path(addr)
}

// ---- read and write ----

/// Guest memory as one virtual buffer made of (address, length) pieces.
struct UserBuffers {
    segs: Vec<(u64, usize)>,
    total: usize,
}

impl UserBuffers {
    fn single(addr: u64, len: usize) -> KResult<UserBuffers> {
        let len = len.min(MAX_RW_COUNT);
        access_ok(addr, len)?;
        Ok(UserBuffers { segs: vec![(addr, len)], total: len })
    }

    /// An iovec array: EINVAL for a bad count or total, EFAULT for a bad array.
    fn iovec(sys: &Sys, addr: u64, count: i32) -> KResult<UserBuffers> {
        if !(0..=IOV_MAX).contains(&count) {
            return Err(Errno::EINVAL);
        }
        let raw = sys.mm().read_bytes(addr, count as usize * size_of::<Iovec>())?;
        let mut segs = Vec::with_capacity(count as usize);
        let mut total: usize = 0;
        for chunk in raw.chunks_exact(size_of::<Iovec>()) {
            let mut iov = Iovec::default();
            iov.as_bytes_mut().copy_from_slice(chunk);
            if iov.len > isize::MAX as u64 {
                return Err(Errno::EINVAL);
            }
            let len = (iov.len as usize).min(MAX_RW_COUNT - total);
            access_ok(iov.base, len)?;
            total += len;
            if len > 0 {
                segs.push((iov.base, len));
            }
        }
        Ok(UserBuffers { segs, total })
    }

    /// Copies `data` to the virtual buffer at `start`.
    fn copy_out(&self, sys: &Sys, start: usize, data: &[u8]) -> KResult<()> {
        let mm = sys.mm();
        let (mut at, mut done) = (0usize, 0usize);
        for &(addr, len) in &self.segs {
            if done == data.len() {
                break;
            }
            let seg_end = at + len;
            if seg_end > start + done {
                let off = start + done - at;
                let n = (len - off).min(data.len() - done);
                mm.write_bytes(addr + off as u64, &data[done..done + n])?;
                done += n;
            }
            at = seg_end;
        }
        Ok(())
    }

    /// Copies `len` bytes of the virtual buffer from `start`.
    fn copy_in(&self, sys: &Sys, start: usize, len: usize) -> KResult<Vec<u8>> {
        let mm = sys.mm();
        let mut out = Vec::with_capacity(len);
        let mut at = 0usize;
        for &(addr, seg_len) in &self.segs {
            if out.len() == len {
                break;
            }
            let seg_end = at + seg_len;
            let want = start + out.len();
            if seg_end > want {
                let off = want - at;
                let n = (seg_len - off).min(len - out.len());
                out.extend_from_slice(&mm.read_bytes(addr + off as u64, n)?);
            }
            at = seg_end;
        }
        Ok(out)
    }
}

/// read/readv/pread: chunked for regular files (the whole count, short
/// only at EOF), one step for streams. A copy fault after progress ends
/// the call with what was copied; the file position counts only that.
fn read_into(sys: &Sys, file: &File, bufs: &UserBuffers, offset: Option<u64>) -> KResult<usize> {
    if !file.readable() {
        return Err(Errno::EBADF);
    }
    let stream = file.ops.is_stream() || !file.ops.seekable();
    let mut pos_guard = if offset.is_none() && !stream { Some(file.pos.lock()) } else { None };
    let mut done = 0usize;
    loop {
        let chunk = (bufs.total - done).min(IO_CHUNK);
        let mut data = vec![0u8; chunk];
        let mut pos = match (offset, pos_guard.as_ref()) {
            (Some(off), _) => off + done as u64,
            (None, Some(g)) => **g,
            (None, None) => 0,
        };
        let r = if offset.is_some() { file.ops.pread(file, &mut data, pos) } else { file.ops.read(file, &mut data, &mut pos) };
        let n = match r {
            Ok(n) => n,
            Err(e) if done == 0 => return Err(e),
            Err(_) => return Ok(done),
        };
        if bufs.copy_out(sys, done, &data[..n]).is_err() {
            return if done == 0 { Err(Errno::EFAULT) } else { Ok(done) };
        }
        if let Some(g) = pos_guard.as_mut() {
            **g = pos;
        }
        done += n;
        if stream || n < chunk || done == bufs.total {
            return Ok(done);
        }
    }
}

/// write/writev/pwrite: the whole buffer unless the file takes less.
fn write_from(sys: &Sys, file: &File, bufs: &UserBuffers, offset: Option<u64>) -> KResult<usize> {
    if !file.writable() {
        return Err(Errno::EBADF);
    }
    let stream = file.ops.is_stream() || !file.ops.seekable();
    let mut pos_guard = if offset.is_none() && !stream { Some(file.pos.lock()) } else { None };
    let mut done = 0usize;
    loop {
        let chunk = (bufs.total - done).min(IO_CHUNK);
        let data = match bufs.copy_in(sys, done, chunk) {
            Ok(d) => d,
            Err(e) => return if done == 0 { Err(e) } else { Ok(done) },
        };
        let r = match (offset, pos_guard.as_mut()) {
            (Some(off), _) => file.ops.pwrite(file, &data, off + done as u64),
            (None, Some(pos)) => file.ops.write(file, &data, pos),
            (None, None) => {
                let mut p = 0;
                file.ops.write(file, &data, &mut p)
            }
        };
        let n = match r {
            Ok(n) => n,
            Err(e) if done == 0 => return Err(e),
            Err(_) => return Ok(done),
        };
        done += n;
        if n < chunk || done == bufs.total {
            return Ok(done);
        }
    }
}

fn sys_read(sys: &mut Sys) -> KResult<u64> {
    let file = io_file(sys.task, sys.arg_i32(0))?;
    if !file.readable() {
        return Err(Errno::EBADF);
    }
    let bufs = UserBuffers::single(sys.arg(1), sys.arg(2) as usize)?;
    Ok(read_into(sys, &file, &bufs, None)? as u64)
}

fn sys_write(sys: &mut Sys) -> KResult<u64> {
    let file = io_file(sys.task, sys.arg_i32(0))?;
    if !file.writable() {
        return Err(Errno::EBADF);
    }
    let bufs = UserBuffers::single(sys.arg(1), sys.arg(2) as usize)?;
    Ok(write_from(sys, &file, &bufs, None)? as u64)
}

/// Checks for pread/pwrite: EINVAL for a negative offset, then EBADF, then
/// ESPIPE for unseekable files (Linux: ksys_pread64, vfs_read).
fn positional(sys: &Sys, fd: i32, offset: u64, write: bool) -> KResult<Arc<File>> {
    if (offset as i64) < 0 {
        return Err(Errno::EINVAL);
    }
    let file = io_file(sys.task, fd)?;
    if (write && !file.writable()) || (!write && !file.readable()) {
        return Err(Errno::EBADF);
    }
    if !file.ops.seekable() {
        return Err(Errno::ESPIPE);
    }
    Ok(file)
}

fn sys_pread64(sys: &mut Sys) -> KResult<u64> {
    let file = positional(sys, sys.arg_i32(0), sys.arg(3), false)?;
    let bufs = UserBuffers::single(sys.arg(1), sys.arg(2) as usize)?;
    Ok(read_into(sys, &file, &bufs, Some(sys.arg(3)))? as u64)
}

fn sys_pwrite64(sys: &mut Sys) -> KResult<u64> {
    let file = positional(sys, sys.arg_i32(0), sys.arg(3), true)?;
    let bufs = UserBuffers::single(sys.arg(1), sys.arg(2) as usize)?;
    Ok(write_from(sys, &file, &bufs, Some(sys.arg(3)))? as u64)
}

fn sys_readv(sys: &mut Sys) -> KResult<u64> {
    let file = io_file(sys.task, sys.arg_i32(0))?;
    if !file.readable() {
        return Err(Errno::EBADF);
    }
    let bufs = UserBuffers::iovec(sys, sys.arg(1), sys.arg_i32(2))?;
    Ok(read_into(sys, &file, &bufs, None)? as u64)
}

fn sys_writev(sys: &mut Sys) -> KResult<u64> {
    let file = io_file(sys.task, sys.arg_i32(0))?;
    if !file.writable() {
        return Err(Errno::EBADF);
    }
    let bufs = UserBuffers::iovec(sys, sys.arg(1), sys.arg_i32(2))?;
    Ok(write_from(sys, &file, &bufs, None)? as u64)
}

/// preadv/pwritev and the v2 forms; offset -1 in the v2 forms means "the
/// file position". Only flags 0 and RWF_HIPRI (a hint) are accepted.
fn vectored_at(sys: &Sys, offset: u64, flags: Option<u64>, write: bool) -> KResult<u64> {
    if let Some(f) = flags {
        if f & !(RWF_HIPRI | RWF_DSYNC | RWF_SYNC | RWF_NOWAIT | RWF_APPEND) != 0 {
            return Err(Errno::EOPNOTSUPP);
        }
    }
    let fd = sys.arg_i32(0);
    if flags.is_some() && offset as i64 == -1 {
        let file = io_file(sys.task, fd)?;
        let bufs = UserBuffers::iovec(sys, sys.arg(1), sys.arg_i32(2))?;
        let n = if write { write_from(sys, &file, &bufs, None)? } else { read_into(sys, &file, &bufs, None)? };
        return Ok(n as u64);
    }
    let file = positional(sys, fd, offset, write)?;
    let bufs = UserBuffers::iovec(sys, sys.arg(1), sys.arg_i32(2))?;
    let n = if write { write_from(sys, &file, &bufs, Some(offset))? } else { read_into(sys, &file, &bufs, Some(offset))? };
    Ok(n as u64)
}

fn sys_preadv(sys: &mut Sys) -> KResult<u64> {
    vectored_at(sys, sys.arg(3), None, false)
}

fn sys_pwritev(sys: &mut Sys) -> KResult<u64> {
    vectored_at(sys, sys.arg(3), None, true)
}

fn sys_preadv2(sys: &mut Sys) -> KResult<u64> {
    vectored_at(sys, sys.arg(3), Some(sys.arg(5)), false)
}

fn sys_pwritev2(sys: &mut Sys) -> KResult<u64> {
    vectored_at(sys, sys.arg(3), Some(sys.arg(5)), true)
}

fn sys_lseek(sys: &mut Sys) -> KResult<u64> {
    let file = io_file(sys.task, sys.arg_i32(0))?;
    let (offset, whence) = (sys.arg(1) as i64, sys.arg_u32(2));
    if whence > 4 {
        return Err(Errno::EINVAL);
    }
    let mut pos = file.pos.lock();
    file.ops.llseek(&file, &mut pos, offset, whence)
}

// ---- opening and the fd table ----

fn do_open(sys: &Sys, dirfd: i32, path_addr: u64, flags: u32, mode: u32) -> KResult<u64> {
    let path = sys.read_path(path_addr)?;
    let mode = if flags & O_CREAT != 0 || flags & O_TMPFILE == O_TMPFILE { mode } else { 0 };
    let file = namei::open(&**sys.task, dirfd, &path, flags, mode)?;
    let limit = nofile_limit(sys.task);
    Ok(sys.task.files().install(file, flags & O_CLOEXEC != 0, 0, limit)? as u64)
}

fn sys_open(sys: &mut Sys) -> KResult<u64> {
    do_open(sys, AT_FDCWD, sys.arg(0), sys.arg_u32(1), sys.arg_u32(2))
}

fn sys_openat(sys: &mut Sys) -> KResult<u64> {
    do_open(sys, sys.arg_i32(0), sys.arg(1), sys.arg_u32(2), sys.arg_u32(3))
}

fn sys_creat(sys: &mut Sys) -> KResult<u64> {
    do_open(sys, AT_FDCWD, sys.arg(0), O_CREAT | O_WRONLY | O_TRUNC, sys.arg_u32(1))
}

fn closed(task: &Task, file: Arc<File>) {
    crate::fs::file::close_fd(file, task.tgid);
}

fn sys_close(sys: &mut Sys) -> KResult<u64> {
    let entry = sys.task.files().remove(sys.arg_i32(0))?;
    closed(sys.task, entry.file);
    Ok(0)
}

fn sys_close_range(sys: &mut Sys) -> KResult<u64> {
    let (first, last, flags) = (sys.arg_u32(0), sys.arg_u32(1), sys.arg_u32(2));
    if flags & !(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC) != 0 || first > last {
        return Err(Errno::EINVAL);
    }
    let mut gone = Vec::new();
    {
        let mut files = sys.task.files();
        for fd in files.fds() {
            let ufd = fd as u32;
            if ufd < first || ufd > last {
                continue;
            }
            if flags & CLOSE_RANGE_CLOEXEC != 0 {
                files.entry_mut(fd)?.cloexec = true;
            } else if let Ok(e) = files.remove(fd) {
                gone.push(e.file);
            }
        }
    }
    for f in gone {
        closed(sys.task, f);
    }
    Ok(0)
}

fn sys_dup(sys: &mut Sys) -> KResult<u64> {
    let limit = nofile_limit(sys.task);
    let mut files = sys.task.files();
    let file = files.get(sys.arg_i32(0))?;
    Ok(files.install(file, false, 0, limit)? as u64)
}

fn dup_to(sys: &Sys, old: i32, new: i32, cloexec: bool) -> KResult<u64> {
    if new < 0 || new as u64 >= nofile_limit(sys.task) {
        return Err(Errno::EBADF);
    }
    let replaced = {
        let mut files = sys.task.files();
        let file = files.get(old)?;
        files.put(new, file, cloexec)
    };
    if let Some(e) = replaced {
        closed(sys.task, e.file);
    }
    Ok(new as u64)
}

fn sys_dup2(sys: &mut Sys) -> KResult<u64> {
    let (old, new) = (sys.arg_i32(0), sys.arg_i32(1));
    if old == new {
        sys.task.files().get(old)?;
        return Ok(new as u64);
    }
    dup_to(sys, old, new, false)
}

fn sys_dup3(sys: &mut Sys) -> KResult<u64> {
    let (old, new, flags) = (sys.arg_i32(0), sys.arg_i32(1), sys.arg_u32(2));
    if flags & !O_CLOEXEC != 0 || old == new {
        return Err(Errno::EINVAL);
    }
    dup_to(sys, old, new, flags & O_CLOEXEC != 0)
}

/// `struct flock` (x86-64, 32 bytes).
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
struct Flock {
    l_type: i16,
    l_whence: i16,
    pad0: i32,
    l_start: i64,
    l_len: i64,
    l_pid: i32,
    pad1: i32,
}
// SAFETY: a #[repr(C)] struct of integers with explicit padding fields.
unsafe impl Pod for Flock {}

fn sys_fcntl(sys: &mut Sys) -> KResult<u64> {
    let (fd, cmd, arg) = (sys.arg_i32(0), sys.arg_u32(1), sys.arg(2));
    let task = sys.task;
    let file = file_of(task, fd)?;
    match cmd {
        F_DUPFD | F_DUPFD_CLOEXEC => {
            let limit = nofile_limit(task);
            if arg >= limit || arg > i32::MAX as u64 {
                return Err(Errno::EINVAL);
            }
            Ok(task.files().install(file, cmd == F_DUPFD_CLOEXEC, arg as i32, limit)? as u64)
        }
        F_GETFD => Ok(if task.files().entry(fd)?.cloexec { FD_CLOEXEC } else { 0 }),
        F_SETFD => {
            task.files().entry_mut(fd)?.cloexec = arg & FD_CLOEXEC != 0;
            Ok(0)
        }
        F_GETFL => Ok(file.flags() as u64),
        F_SETFL => {
            if file.flags() & O_PATH != 0 {
                return Err(Errno::EBADF);
            }
            file.set_status_flags(arg as u32);
            Ok(0)
        }
        F_GETLK | F_SETLK | F_SETLKW | F_OFD_GETLK | F_OFD_SETLK | F_OFD_SETLKW => record_lock(sys, &file, cmd, arg),
        F_GETOWN | F_GETSIG => Ok(0),
        F_SETOWN | F_SETSIG => Ok(0),
        F_GETOWN_EX => {
            put(sys, arg, &[0i32; 2])?;
            Ok(0)
        }
        F_SETOWN_EX => {
            sys.mm().read::<[i32; 2]>(arg)?;
            Ok(0)
        }
        F_GETLEASE => Ok(F_UNLCK as u64),
        F_DUPFD_QUERY => {
            let other = file_of(task, arg as i32)?;
            Ok(Arc::ptr_eq(&file, &other) as u64)
        }
        F_SETPIPE_SZ | F_GETPIPE_SZ => {
            let pipe = file.ops.pipe().ok_or(Errno::EBADF)?;
            if cmd == F_GETPIPE_SZ {
                return Ok(pipe.size() as u64);
            }
            // Linux takes the size as an unsigned int; CAP_SYS_RESOURCE
            // lifts the pipe-max-size limit.
            Ok(pipe.set_size(arg as u32, task.creds().euid == 0)? as u64)
        }
        F_SETLEASE | F_ADD_SEALS | F_GET_SEALS => Err(Errno::EINVAL),
        _ => Err(Errno::EINVAL),
    }
}

/// fcntl record locks (POSIX per process, OFD per open file).
fn record_lock(sys: &Sys, file: &Arc<File>, cmd: u32, arg: u64) -> KResult<u64> {
    if file.flags() & O_PATH != 0 {
        return Err(Errno::EBADF);
    }
    let mut fl: Flock = sys.mm().read(arg)?;
    let ofd = matches!(cmd, F_OFD_GETLK | F_OFD_SETLK | F_OFD_SETLKW);
    if ofd && fl.l_pid != 0 {
        return Err(Errno::EINVAL);
    }
    if !matches!(fl.l_type, F_RDLCK | F_WRLCK | F_UNLCK) {
        return Err(Errno::EINVAL);
    }
    let pos = *file.pos.lock();
    let (start, end) = lock::record_range(fl.l_whence, fl.l_start, fl.l_len, pos, || Ok(file.metadata()?.size))?;
    let md = file.metadata()?;
    let key = (md.dev, md.ino);
    let tgid = sys.task.tgid;
    let owner = if ofd { lock::Owner::File(Arc::as_ptr(file) as usize) } else { lock::Owner::Process(tgid) };
    if matches!(cmd, F_GETLK | F_OFD_GETLK) {
        match lock::test(key, owner, fl.l_type == F_WRLCK, start, end) {
            Some(l) => {
                fl.l_type = if l.write { F_WRLCK } else { F_RDLCK };
                fl.l_whence = SEEK_SET as i16;
                fl.l_start = l.start as i64;
                fl.l_len = if l.end == u64::MAX { 0 } else { (l.end - l.start) as i64 };
                fl.l_pid = l.pid;
            }
            None => fl.l_type = F_UNLCK,
        }
        put(sys, arg, &fl)?;
        return Ok(0);
    }
    if fl.l_type == F_RDLCK && !file.readable() || fl.l_type == F_WRLCK && !file.writable() {
        return Err(Errno::EBADF);
    }
    let pid = if ofd { -1 } else { tgid };
    lock::set(key, owner, pid, fl.l_type, start, end, matches!(cmd, F_SETLKW | F_OFD_SETLKW)).map(|_| 0)
}

fn sys_flock(sys: &mut Sys) -> KResult<u64> {
    let (fd, op) = (sys.arg_i32(0), sys.arg_u32(1));
    let file = io_file(sys.task, fd)?;
    let md = file.metadata()?;
    lock::flock((md.dev, md.ino), Arc::as_ptr(&file) as usize, op).map(|_| 0)
}

fn sys_ioctl(sys: &mut Sys) -> KResult<u64> {
    let (fd, cmd, arg) = (sys.arg_i32(0), sys.arg_u32(1), sys.arg(2));
    let task = sys.task;
    let file = io_file(task, fd)?;
    match cmd {
        FIOCLEX | FIONCLEX => {
            task.files().entry_mut(fd)?.cloexec = cmd == FIOCLEX;
            Ok(0)
        }
        FIONBIO | FIOASYNC => {
            let on: i32 = sys.mm().read(arg)?;
            let bit = if cmd == FIONBIO { O_NONBLOCK } else { O_ASYNC };
            let flags = file.flags();
            file.set_status_flags(if on != 0 { flags | bit } else { flags & !bit });
            Ok(0)
        }
        _ => {
            let md = file.metadata()?;
            let ftype = md.mode & S_IFMT;
            match cmd {
                FIONREAD if ftype == S_IFREG => {
                    let pos = *file.pos.lock();
                    let avail = md.size.saturating_sub(pos).min(i32::MAX as u64) as i32;
                    put(sys, arg, &avail)?;
                    Ok(0)
                }
                FIGETBSZ if ftype == S_IFREG || ftype == S_IFDIR => {
                    put(sys, arg, &(md.blksize as i32))?;
                    Ok(0)
                }
                FIOQSIZE if matches!(ftype, S_IFREG | S_IFDIR | S_IFLNK) => {
                    put(sys, arg, &(md.size as i64))?;
                    Ok(0)
                }
                TIOCGPTPEER => {
                    let root = task.fs().root.clone();
                    let flags = arg as u32;
                    let peer = crate::tty::pty::open_peer(&file, &root, &task.system.mounts, flags)?;
                    let limit = nofile_limit(task);
                    Ok(task.files().install(peer, flags & O_CLOEXEC != 0, 0, limit)? as u64)
                }
                _ => file.ops.ioctl(&file, &**task, cmd, arg),
            }
        }
    }
}

// ---- metadata ----

fn stat_path(sys: &Sys, dirfd: i32, path: &[u8], flags: u32) -> KResult<InodeRef> {
    if path.is_empty() && flags & AT_EMPTY_PATH != 0 && dirfd != AT_FDCWD {
        return Ok(file_of(sys.task, dirfd)?.inode.clone());
    }
    Ok(resolve_at(&**sys.task, dirfd, path, flags & AT_SYMLINK_NOFOLLOW == 0, flags & AT_EMPTY_PATH != 0)?.inode().clone())
}

fn write_stat(sys: &Sys, inode: &InodeRef, buf: u64) -> KResult<u64> {
    let st = inode.metadata()?.to_stat();
    put(sys, buf, &st)?;
    Ok(0)
}

fn sys_stat(sys: &mut Sys) -> KResult<u64> {
    let path = sys.read_path(sys.arg(0))?;
    let inode = stat_path(sys, AT_FDCWD, &path, 0)?;
    write_stat(sys, &inode, sys.arg(1))
}

fn sys_lstat(sys: &mut Sys) -> KResult<u64> {
    let path = sys.read_path(sys.arg(0))?;
    let inode = stat_path(sys, AT_FDCWD, &path, AT_SYMLINK_NOFOLLOW)?;
    write_stat(sys, &inode, sys.arg(1))
}

fn sys_fstat(sys: &mut Sys) -> KResult<u64> {
    let file = file_of(sys.task, sys.arg_i32(0))?;
    write_stat(sys, &file.inode, sys.arg(1))
}

fn sys_newfstatat(sys: &mut Sys) -> KResult<u64> {
    let (dirfd, flags) = (sys.arg_i32(0), sys.arg_u32(3));
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT) != 0 {
        return Err(Errno::EINVAL);
    }
    let path = read_path_flags(sys, sys.arg(1), flags)?;
    let inode = stat_path(sys, dirfd, &path, flags)?;
    write_stat(sys, &inode, sys.arg(2))
}

fn sys_statx(sys: &mut Sys) -> KResult<u64> {
    let (dirfd, flags, mask) = (sys.arg_i32(0), sys.arg_u32(2), sys.arg_u32(3));
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE) != 0 || flags & AT_STATX_SYNC_TYPE == AT_STATX_SYNC_TYPE {
        return Err(Errno::EINVAL);
    }
    if mask & STATX_RESERVED != 0 {
        return Err(Errno::EINVAL);
    }
    let path = read_path_flags(sys, sys.arg(1), flags)?;
    let inode = stat_path(sys, dirfd, &path, flags)?;
    let stx = inode.metadata()?.to_statx();
    put(sys, sys.arg(4), &stx)?;
    Ok(0)
}

fn write_statfs(sys: &Sys, path: &Path, buf: u64) -> KResult<u64> {
    let mut sf = path.inode().statfs()?;
    sf.f_flags |= ST_VALID | ST_RELATIME;
    if path.mount.read_only {
        sf.f_flags |= ST_RDONLY;
    }
    put(sys, buf, &sf)?;
    Ok(0)
}

fn sys_statfs(sys: &mut Sys) -> KResult<u64> {
    let path = sys.read_path(sys.arg(0))?;
    let p = resolve_at(&**sys.task, AT_FDCWD, &path, true, false)?;
    write_statfs(sys, &p, sys.arg(1))
}

fn sys_fstatfs(sys: &mut Sys) -> KResult<u64> {
    let file = file_of(sys.task, sys.arg_i32(0))?;
    write_statfs(sys, &fd_path(&file), sys.arg(1))
}

// ---- directories ----

/// Fills a getdents buffer; `record` lays out one entry (or None if it
/// does not fit). EINVAL when not even one entry fits.
fn getdents_common(sys: &Sys, record: &dyn Fn(&mut Vec<u8>, &crate::fs::inode::DirEntry<'_>, usize) -> bool) -> KResult<u64> {
    let (fd, buf, count) = (sys.arg_i32(0), sys.arg(1), sys.arg_u32(2) as usize);
    let file = io_file(sys.task, fd)?;
    access_ok(buf, count)?;
    let mut pos = file.pos.lock();
    let mut out = Vec::new();
    let mut new_pos = *pos;
    let mut too_small = false;
    file.ops.readdir(&file, &mut new_pos, &mut |e| {
        let fits = record(&mut out, &e, count);
        if !fits && out.is_empty() {
            too_small = true;
        }
        fits
    })?;
    if too_small {
        return Err(Errno::EINVAL);
    }
    sys.mm().write_bytes(buf, &out)?;
    *pos = new_pos;
    Ok(out.len() as u64)
}

fn sys_getdents64(sys: &mut Sys) -> KResult<u64> {
    getdents_common(sys, &|out, e, count| {
        let reclen = (19 + e.name.len() + 1 + 7) & !7;
        if out.len() + reclen > count {
            return false;
        }
        let start = out.len();
        out.extend_from_slice(&e.ino.to_ne_bytes());
        out.extend_from_slice(&(e.next_offset as i64).to_ne_bytes());
        out.extend_from_slice(&(reclen as u16).to_ne_bytes());
        out.push(e.dtype);
        out.extend_from_slice(e.name);
        out.resize(start + reclen, 0);
        true
    })
}

/// The old getdents: d_type sits in the last byte of the record.
fn sys_getdents(sys: &mut Sys) -> KResult<u64> {
    getdents_common(sys, &|out, e, count| {
        let reclen = (18 + e.name.len() + 2 + 7) & !7;
        if out.len() + reclen > count {
            return false;
        }
        let start = out.len();
        out.extend_from_slice(&e.ino.to_ne_bytes());
        out.extend_from_slice(&(e.next_offset as i64).to_ne_bytes());
        out.extend_from_slice(&(reclen as u16).to_ne_bytes());
        out.extend_from_slice(e.name);
        out.resize(start + reclen, 0);
        out[start + reclen - 1] = e.dtype;
        true
    })
}

fn sys_getcwd(sys: &mut Sys) -> KResult<u64> {
    let (buf, size) = (sys.arg(0), sys.arg(1) as usize);
    let (cwd, root) = {
        let fs = sys.task.fs();
        (fs.cwd.clone(), fs.root.clone())
    };
    // A removed working directory has no name (Linux: ENOENT).
    if cwd.metadata()?.nlink == 0 {
        return Err(Errno::ENOENT);
    }
    let mut text = cwd.to_bytes(&root);
    text.push(0);
    if text.len() > size {
        return Err(Errno::ERANGE);
    }
    sys.mm().write_bytes(buf, &text)?;
    Ok(text.len() as u64)
}

fn enter_dir(task: &Task, p: &Path) -> KResult<()> {
    let md = p.metadata()?;
    if !md.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    may_access(&task.creds(), &md, MAY_EXEC)
}

fn sys_chdir(sys: &mut Sys) -> KResult<u64> {
    let path = sys.read_path(sys.arg(0))?;
    let p = resolve_at(&**sys.task, AT_FDCWD, &path, true, false)?;
    enter_dir(sys.task, &p)?;
    sys.task.fs().cwd = p;
    Ok(0)
}

fn sys_fchdir(sys: &mut Sys) -> KResult<u64> {
    let file = file_of(sys.task, sys.arg_i32(0))?;
    let p = file.path.clone().ok_or(Errno::ENOTDIR)?;
    enter_dir(sys.task, &p)?;
    sys.task.fs().cwd = p;
    Ok(0)
}

fn sys_chroot(sys: &mut Sys) -> KResult<u64> {
    let path = sys.read_path(sys.arg(0))?;
    let p = resolve_at(&**sys.task, AT_FDCWD, &path, true, false)?;
    enter_dir(sys.task, &p)?;
    if !sys.task.creds().is_root() {
        return Err(Errno::EPERM);
    }
    sys.task.fs().root = p;
    Ok(0)
}

fn sys_mkdir(sys: &mut Sys) -> KResult<u64> {
    let path = sys.read_path(sys.arg(0))?;
    namei::mkdir(&**sys.task, AT_FDCWD, &path, sys.arg_u32(1)).map(|_| 0)
}

fn sys_mkdirat(sys: &mut Sys) -> KResult<u64> {
    let path = sys.read_path(sys.arg(1))?;
    namei::mkdir(&**sys.task, sys.arg_i32(0), &path, sys.arg_u32(2)).map(|_| 0)
}

/// Linux's new_decode_dev for the 32-bit dev_t of mknod.
fn decode_dev(dev: u32) -> u64 {
    let major = (dev & 0xfff00) >> 8;
    let minor = (dev & 0xff) | ((dev >> 12) & 0xfff00);
    make_dev(major, minor)
}

fn sys_mknod(sys: &mut Sys) -> KResult<u64> {
    let path = sys.read_path(sys.arg(0))?;
    namei::mknod(&**sys.task, AT_FDCWD, &path, sys.arg_u32(1), decode_dev(sys.arg_u32(2))).map(|_| 0)
}

fn sys_mknodat(sys: &mut Sys) -> KResult<u64> {
    let path = sys.read_path(sys.arg(1))?;
    namei::mknod(&**sys.task, sys.arg_i32(0), &path, sys.arg_u32(2), decode_dev(sys.arg_u32(3))).map(|_| 0)
}

fn sys_unlink(sys: &mut Sys) -> KResult<u64> {
    let path = sys.read_path(sys.arg(0))?;
    namei::unlink(&**sys.task, AT_FDCWD, &path).map(|_| 0)
}

fn sys_unlinkat(sys: &mut Sys) -> KResult<u64> {
    let flags = sys.arg_u32(2);
    if flags & !AT_REMOVEDIR != 0 {
        return Err(Errno::EINVAL);
    }
    let path = sys.read_path(sys.arg(1))?;
    if flags & AT_REMOVEDIR != 0 {
        namei::rmdir(&**sys.task, sys.arg_i32(0), &path).map(|_| 0)
    } else {
        namei::unlink(&**sys.task, sys.arg_i32(0), &path).map(|_| 0)
    }
}

fn sys_rmdir(sys: &mut Sys) -> KResult<u64> {
    let path = sys.read_path(sys.arg(0))?;
    namei::rmdir(&**sys.task, AT_FDCWD, &path).map(|_| 0)
}

fn do_rename(sys: &Sys, olddirfd: i32, old: u64, newdirfd: i32, new: u64, flags: u32) -> KResult<u64> {
    let old = sys.read_path(old)?;
    let new = sys.read_path(new)?;
    namei::rename(&**sys.task, olddirfd, &old, newdirfd, &new, flags).map(|_| 0)
}

fn sys_rename(sys: &mut Sys) -> KResult<u64> {
    do_rename(sys, AT_FDCWD, sys.arg(0), AT_FDCWD, sys.arg(1), 0)
}

fn sys_renameat(sys: &mut Sys) -> KResult<u64> {
    do_rename(sys, sys.arg_i32(0), sys.arg(1), sys.arg_i32(2), sys.arg(3), 0)
}

fn sys_renameat2(sys: &mut Sys) -> KResult<u64> {
    do_rename(sys, sys.arg_i32(0), sys.arg(1), sys.arg_i32(2), sys.arg(3), sys.arg_u32(4))
}

fn do_link(sys: &Sys, olddirfd: i32, old: u64, newdirfd: i32, new: u64, flags: u32) -> KResult<u64> {
    if flags & !(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let old = read_path_flags(sys, old, flags)?;
    let new = sys.read_path(new)?;
    // Linking an fd by AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH.
    if old.is_empty() && !sys.task.creds().is_root() {
        return Err(Errno::ENOENT);
    }
    let src = resolve_or_fd(&**sys.task, olddirfd, &old, flags & AT_SYMLINK_FOLLOW != 0, flags & AT_EMPTY_PATH != 0)?;
    namei::link(&**sys.task, &src, newdirfd, &new).map(|_| 0)
}

fn sys_link(sys: &mut Sys) -> KResult<u64> {
    do_link(sys, AT_FDCWD, sys.arg(0), AT_FDCWD, sys.arg(1), 0)
}

fn sys_linkat(sys: &mut Sys) -> KResult<u64> {
    do_link(sys, sys.arg_i32(0), sys.arg(1), sys.arg_i32(2), sys.arg(3), sys.arg_u32(4))
}

fn sys_symlink(sys: &mut Sys) -> KResult<u64> {
    let target = sys.read_path(sys.arg(0))?;
    let path = sys.read_path(sys.arg(1))?;
    namei::symlink(&**sys.task, &target, AT_FDCWD, &path).map(|_| 0)
}

fn sys_symlinkat(sys: &mut Sys) -> KResult<u64> {
    let target = sys.read_path(sys.arg(0))?;
    let path = sys.read_path(sys.arg(2))?;
    namei::symlink(&**sys.task, &target, sys.arg_i32(1), &path).map(|_| 0)
}

fn do_readlink(sys: &Sys, dirfd: i32, path: u64, buf: u64, size: i32) -> KResult<u64> {
    let path = sys.read_path_allow_empty(path)?;
    if size <= 0 {
        return Err(Errno::EINVAL);
    }
    if path.is_empty() && dirfd == AT_FDCWD {
        return Err(Errno::ENOENT);
    }
    let p = resolve_or_fd(&**sys.task, dirfd, &path, false, true)?;
    if p.metadata()?.mode & S_IFMT != S_IFLNK {
        return Err(Errno::EINVAL);
    }
    let target = p.inode().readlink()?;
    let n = target.len().min(size as usize);
    sys.mm().write_bytes(buf, &target[..n])?;
    Ok(n as u64)
}

fn sys_readlink(sys: &mut Sys) -> KResult<u64> {
    do_readlink(sys, AT_FDCWD, sys.arg(0), sys.arg(1), sys.arg_i32(2))
}

fn sys_readlinkat(sys: &mut Sys) -> KResult<u64> {
    do_readlink(sys, sys.arg_i32(0), sys.arg(1), sys.arg(2), sys.arg_i32(3))
}

fn do_access(sys: &Sys, dirfd: i32, path: u64, mode: u32, flags: u32) -> KResult<u64> {
    if mode & !7 != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & !(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let path = read_path_flags(sys, path, flags)?;
    let p = resolve_or_fd(&**sys.task, dirfd, &path, flags & AT_SYMLINK_NOFOLLOW == 0, flags & AT_EMPTY_PATH != 0)?;
    namei::access(&**sys.task, &p, mode, flags & AT_EACCESS != 0).map(|_| 0)
}

fn sys_access(sys: &mut Sys) -> KResult<u64> {
    do_access(sys, AT_FDCWD, sys.arg(0), sys.arg_u32(1), 0)
}

fn sys_faccessat(sys: &mut Sys) -> KResult<u64> {
    do_access(sys, sys.arg_i32(0), sys.arg(1), sys.arg_u32(2), 0)
}

fn sys_faccessat2(sys: &mut Sys) -> KResult<u64> {
    do_access(sys, sys.arg_i32(0), sys.arg(1), sys.arg_u32(2), sys.arg_u32(3))
}

// ---- sizes and syncing ----

fn sys_truncate(sys: &mut Sys) -> KResult<u64> {
    let path = sys.read_path(sys.arg(0))?;
    let len = sys.arg(1) as i64;
    if len < 0 {
        return Err(Errno::EINVAL);
    }
    let p = resolve_at(&**sys.task, AT_FDCWD, &path, true, false)?;
    namei::truncate_path(&**sys.task, &p, len as u64).map(|_| 0)
}

fn sys_ftruncate(sys: &mut Sys) -> KResult<u64> {
    let (fd, len) = (sys.arg_i32(0), sys.arg(1) as i64);
    if len < 0 {
        return Err(Errno::EINVAL);
    }
    let file = io_file(sys.task, fd)?;
    if !file.writable() {
        return Err(Errno::EINVAL);
    }
    let md = file.metadata()?;
    if md.mode & S_IFMT != S_IFREG {
        return Err(Errno::EINVAL);
    }
    file.inode.setattr(&SetAttr { size: Some(len as u64), ..Default::default() }).map(|_| 0)
}

fn sys_fallocate(sys: &mut Sys) -> KResult<u64> {
    let (fd, mode, offset, len) = (sys.arg_i32(0), sys.arg_u32(1), sys.arg(2) as i64, sys.arg(3) as i64);
    if offset < 0 || len <= 0 {
        return Err(Errno::EINVAL);
    }
    let file = io_file(sys.task, fd)?;
    if !file.writable() {
        return Err(Errno::EBADF);
    }
    let md = file.metadata()?;
    match md.mode & S_IFMT {
        S_IFREG => {}
        S_IFDIR => return Err(Errno::EISDIR),
        S_IFIFO => return Err(Errno::ESPIPE),
        _ => return Err(Errno::ENODEV),
    }
    if mode & !FALLOC_FL_KEEP_SIZE != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    let end = (offset as u64).checked_add(len as u64).filter(|&e| e <= MAX_FILE_OFFSET).ok_or(Errno::EFBIG)?;
    if mode & FALLOC_FL_KEEP_SIZE == 0 && end > md.size {
        file.inode.setattr(&SetAttr { size: Some(end), ..Default::default() })?;
    }
    Ok(0)
}

fn sys_fsync(sys: &mut Sys) -> KResult<u64> {
    let file = io_file(sys.task, sys.arg_i32(0))?;
    file.inode.sync().map(|_| 0)
}

fn sys_sync_file_range(sys: &mut Sys) -> KResult<u64> {
    let (offset, nbytes, flags) = (sys.arg(1) as i64, sys.arg(2) as i64, sys.arg_u32(3));
    if flags & !7 != 0 || offset < 0 || nbytes < 0 {
        return Err(Errno::EINVAL);
    }
    let file = io_file(sys.task, sys.arg_i32(0))?;
    match file.metadata()?.mode & S_IFMT {
        S_IFREG | S_IFDIR | S_IFBLK | S_IFLNK => Ok(0),
        _ => Err(Errno::ESPIPE),
    }
}

fn sys_sync(_sys: &mut Sys) -> KResult<u64> {
    Ok(0)
}

fn sys_syncfs(sys: &mut Sys) -> KResult<u64> {
    io_file(sys.task, sys.arg_i32(0))?;
    Ok(0)
}

fn sys_fadvise64(sys: &mut Sys) -> KResult<u64> {
    let (len, advice) = (sys.arg(2) as i64, sys.arg_u32(3));
    let file = io_file(sys.task, sys.arg_i32(0))?;
    let ftype = file.metadata()?.mode & S_IFMT;
    if ftype == S_IFIFO || ftype == S_IFSOCK {
        return Err(Errno::ESPIPE);
    }
    if advice > 5 || len < 0 {
        return Err(Errno::EINVAL);
    }
    Ok(0)
}

fn sys_readahead(sys: &mut Sys) -> KResult<u64> {
    let file = io_file(sys.task, sys.arg_i32(0))?;
    if !file.readable() {
        return Err(Errno::EBADF);
    }
    if file.metadata()?.mode & S_IFMT != S_IFREG {
        return Err(Errno::EINVAL);
    }
    Ok(0)
}

fn sys_umask(sys: &mut Sys) -> KResult<u64> {
    let mut fs = sys.task.fs();
    let old = fs.umask;
    fs.umask = sys.arg_u32(0) & 0o777;
    Ok(old as u64)
}

// ---- times, modes, owners ----

fn time_arg(ts: Timespec) -> KResult<TimeArg> {
    match ts.tv_nsec {
        UTIME_NOW => Ok(TimeArg::Now),
        UTIME_OMIT => Ok(TimeArg::Omit),
        0..=999_999_999 => Ok(TimeArg::At(ts)),
        _ => Err(Errno::EINVAL),
    }
}

/// The common body of the utime family once times are decoded.
fn do_utimes(sys: &Sys, dirfd: i32, path_addr: u64, times: Option<(TimeArg, TimeArg)>, flags: u32) -> KResult<u64> {
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let (atime, mtime) = times.unwrap_or((TimeArg::Now, TimeArg::Now));
    if atime == TimeArg::Omit && mtime == TimeArg::Omit {
        return Ok(0);
    }
    let p = if path_addr == 0 && dirfd != AT_FDCWD {
        // futimens: utimensat(fd, NULL, times, 0).
        if flags & AT_SYMLINK_NOFOLLOW != 0 {
            return Err(Errno::EINVAL);
        }
        fd_path(&*file_of(sys.task, dirfd)?)
    } else {
        let path = read_path_flags(sys, path_addr, flags)?;
        resolve_or_fd(&**sys.task, dirfd, &path, flags & AT_SYMLINK_NOFOLLOW == 0, flags & AT_EMPTY_PATH != 0)?
    };
    namei::set_times(&**sys.task, &p, atime, mtime).map(|_| 0)
}

fn sys_utimensat(sys: &mut Sys) -> KResult<u64> {
    let (dirfd, path, times_addr, flags) = (sys.arg_i32(0), sys.arg(1), sys.arg(2), sys.arg_u32(3));
    let times = if times_addr == 0 {
        None
    } else {
        let ts: [Timespec; 2] = sys.mm().read(times_addr)?;
        Some((time_arg(ts[0])?, time_arg(ts[1])?))
    };
    do_utimes(sys, dirfd, path, times, flags)
}

fn timeval_pair(sys: &Sys, addr: u64) -> KResult<Option<(TimeArg, TimeArg)>> {
    if addr == 0 {
        return Ok(None);
    }
    let tv: [Timeval; 2] = sys.mm().read(addr)?;
    let conv = |t: Timeval| {
        if !(0..1_000_000).contains(&t.tv_usec) {
            return Err(Errno::EINVAL);
        }
        Ok(TimeArg::At(Timespec { tv_sec: t.tv_sec, tv_nsec: t.tv_usec * 1000 }))
    };
    Ok(Some((conv(tv[0])?, conv(tv[1])?)))
}

fn sys_utimes(sys: &mut Sys) -> KResult<u64> {
    let times = timeval_pair(sys, sys.arg(1))?;
    sys.read_path(sys.arg(0))?;
    do_utimes(sys, AT_FDCWD, sys.arg(0), times, 0)
}

fn sys_futimesat(sys: &mut Sys) -> KResult<u64> {
    let times = timeval_pair(sys, sys.arg(2))?;
    do_utimes(sys, sys.arg_i32(0), sys.arg(1), times, 0)
}

fn sys_utime(sys: &mut Sys) -> KResult<u64> {
    let times = if sys.arg(1) == 0 {
        None
    } else {
        let t: [i64; 2] = sys.mm().read(sys.arg(1))?;
        Some((TimeArg::At(Timespec { tv_sec: t[0], tv_nsec: 0 }), TimeArg::At(Timespec { tv_sec: t[1], tv_nsec: 0 })))
    };
    sys.read_path(sys.arg(0))?;
    do_utimes(sys, AT_FDCWD, sys.arg(0), times, 0)
}

fn do_chmod(sys: &Sys, dirfd: i32, path: u64, mode: u32, flags: u32) -> KResult<u64> {
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let path = read_path_flags(sys, path, flags)?;
    let p = resolve_or_fd(&**sys.task, dirfd, &path, flags & AT_SYMLINK_NOFOLLOW == 0, flags & AT_EMPTY_PATH != 0)?;
    if p.metadata()?.mode & S_IFMT == S_IFLNK {
        return Err(Errno::EOPNOTSUPP);
    }
    namei::chmod(&**sys.task, &p, mode).map(|_| 0)
}

fn sys_chmod(sys: &mut Sys) -> KResult<u64> {
    do_chmod(sys, AT_FDCWD, sys.arg(0), sys.arg_u32(1), 0)
}

fn sys_fchmodat(sys: &mut Sys) -> KResult<u64> {
    do_chmod(sys, sys.arg_i32(0), sys.arg(1), sys.arg_u32(2), 0)
}

fn sys_fchmodat2(sys: &mut Sys) -> KResult<u64> {
    do_chmod(sys, sys.arg_i32(0), sys.arg(1), sys.arg_u32(2), sys.arg_u32(3))
}

fn sys_fchmod(sys: &mut Sys) -> KResult<u64> {
    let file = io_file(sys.task, sys.arg_i32(0))?;
    namei::chmod(&**sys.task, &fd_path(&file), sys.arg_u32(1)).map(|_| 0)
}

fn do_chown(sys: &Sys, dirfd: i32, path: u64, uid: u64, gid: u64, flags: u32) -> KResult<u64> {
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let path = read_path_flags(sys, path, flags)?;
    let p = resolve_or_fd(&**sys.task, dirfd, &path, flags & AT_SYMLINK_NOFOLLOW == 0, flags & AT_EMPTY_PATH != 0)?;
    namei::chown(&**sys.task, &p, id_arg(uid), id_arg(gid)).map(|_| 0)
}

fn sys_chown(sys: &mut Sys) -> KResult<u64> {
    do_chown(sys, AT_FDCWD, sys.arg(0), sys.arg(1), sys.arg(2), 0)
}

fn sys_lchown(sys: &mut Sys) -> KResult<u64> {
    do_chown(sys, AT_FDCWD, sys.arg(0), sys.arg(1), sys.arg(2), AT_SYMLINK_NOFOLLOW)
}

fn sys_fchownat(sys: &mut Sys) -> KResult<u64> {
    do_chown(sys, sys.arg_i32(0), sys.arg(1), sys.arg(2), sys.arg(3), sys.arg_u32(4))
}

fn sys_fchown(sys: &mut Sys) -> KResult<u64> {
    let file = io_file(sys.task, sys.arg_i32(0))?;
    namei::chown(&**sys.task, &fd_path(&file), id_arg(sys.arg(1)), id_arg(sys.arg(2))).map(|_| 0)
}

// ---- copying between files ----

/// Moves up to `count` bytes from `src` to `dst` through a kernel buffer.
/// `in_off` reads at an explicit offset (advanced), else at src's position.
fn copy_between(src: &File, dst: &File, count: usize, mut in_off: Option<&mut u64>, mut out_off: Option<&mut u64>) -> KResult<usize> {
    let mut done = 0usize;
    let mut buf = vec![0u8; count.min(IO_CHUNK).max(1)];
    while done < count {
        let want = (count - done).min(buf.len());
        let n = match in_off.as_deref_mut() {
            Some(off) => src.ops.pread(src, &mut buf[..want], *off),
            None => {
                let mut pos = src.pos.lock();
                src.ops.read(src, &mut buf[..want], &mut pos)
            }
        };
        let n = match n {
            Ok(n) => n,
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        };
        if n == 0 {
            break;
        }
        let w = match out_off.as_deref_mut() {
            Some(off) => dst.ops.pwrite(dst, &buf[..n], *off),
            None => {
                let mut pos = dst.pos.lock();
                dst.ops.write(dst, &buf[..n], &mut pos)
            }
        };
        let w = match w {
            Ok(w) => w,
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        };
        if let Some(off) = in_off.as_deref_mut() {
            *off += w as u64;
        }
        if let Some(off) = out_off.as_deref_mut() {
            *off += w as u64;
        }
        done += w;
        if w < n {
            // The reader moved past bytes the writer did not take.
            if in_off.is_none() && src.ops.seekable() {
                let mut pos = src.pos.lock();
                *pos = pos.saturating_sub((n - w) as u64);
            }
            break;
        }
        if src.ops.is_stream() && n < want {
            break;
        }
    }
    Ok(done)
}

fn sys_sendfile(sys: &mut Sys) -> KResult<u64> {
    let (out_fd, in_fd, off_addr, count) = (sys.arg_i32(0), sys.arg_i32(1), sys.arg(2), sys.arg(3) as usize);
    let src = io_file(sys.task, in_fd)?;
    let dst = io_file(sys.task, out_fd)?;
    if !src.readable() || !dst.writable() {
        return Err(Errno::EBADF);
    }
    if dst.flags() & O_APPEND != 0 {
        return Err(Errno::EINVAL);
    }
    let count = count.min(MAX_RW_COUNT);
    if off_addr != 0 {
        let off: i64 = sys.mm().read(off_addr)?;
        if off < 0 {
            return Err(Errno::EINVAL);
        }
        if !src.ops.seekable() {
            return Err(Errno::ESPIPE);
        }
        let mut off = off as u64;
        let n = copy_between(&src, &dst, count, Some(&mut off), None)?;
        put(sys, off_addr, &(off as i64))?;
        return Ok(n as u64);
    }
    Ok(copy_between(&src, &dst, count, None, None)? as u64)
}

fn sys_copy_file_range(sys: &mut Sys) -> KResult<u64> {
    let (fd_in, off_in_addr, fd_out, off_out_addr, len, flags) = (sys.arg_i32(0), sys.arg(1), sys.arg_i32(2), sys.arg(3), sys.arg(4) as usize, sys.arg_u32(5));
    if flags != 0 {
        return Err(Errno::EINVAL);
    }
    let src = io_file(sys.task, fd_in)?;
    let dst = io_file(sys.task, fd_out)?;
    if !src.readable() || !dst.writable() || dst.flags() & O_APPEND != 0 {
        return Err(Errno::EBADF);
    }
    let (smd, dmd) = (src.metadata()?, dst.metadata()?);
    if smd.is_dir() || dmd.is_dir() {
        return Err(Errno::EISDIR);
    }
    if smd.mode & S_IFMT != S_IFREG || dmd.mode & S_IFMT != S_IFREG {
        return Err(Errno::EINVAL);
    }
    let read_off = |addr: u64| -> KResult<Option<u64>> {
        if addr == 0 {
            return Ok(None);
        }
        let v: i64 = sys.mm().read(addr)?;
        if v < 0 { Err(Errno::EINVAL) } else { Ok(Some(v as u64)) }
    };
    let mut in_off = read_off(off_in_addr)?;
    let mut out_off = read_off(off_out_addr)?;
    let len = len.min(MAX_RW_COUNT);
    if (smd.dev, smd.ino) == (dmd.dev, dmd.ino) {
        let a = in_off.unwrap_or(*src.pos.lock());
        let b = out_off.unwrap_or(*dst.pos.lock());
        if a < b + len as u64 && b < a + len as u64 {
            return Err(Errno::EINVAL);
        }
    }
    let n = copy_between(&src, &dst, len, in_off.as_mut(), out_off.as_mut())?;
    if let Some(off) = in_off {
        put(sys, off_in_addr, &(off as i64))?;
    }
    if let Some(off) = out_off {
        put(sys, off_out_addr, &(off as i64))?;
    }
    Ok(n as u64)
}

// ---- extended attributes: none are stored; names are validated ----

fn xattr_name(sys: &Sys, addr: u64) -> KResult<Vec<u8>> {
    let name = sys.mm().read_cstring(addr, XATTR_NAME_MAX).map_err(|e| if e == Errno::ENAMETOOLONG { Errno::ERANGE } else { e })?;
    if name.is_empty() {
        return Err(Errno::ERANGE);
    }
    Ok(name)
}

fn xattr_known_namespace(name: &[u8]) -> bool {
    [&b"user."[..], b"trusted.", b"security.", b"system."].iter().any(|p| name.starts_with(p))
}

fn xattr_target(sys: &Sys, path_addr: u64, follow: bool) -> KResult<Path> {
    let path = sys.read_path(path_addr)?;
    resolve_at(&**sys.task, AT_FDCWD, &path, follow, false)
}

fn getxattr_common(sys: &Sys, name_addr: u64) -> KResult<u64> {
    let name = xattr_name(sys, name_addr)?;
    if !xattr_known_namespace(&name) {
        return Err(Errno::EOPNOTSUPP);
    }
    Err(Errno::ENODATA)
}

fn sys_getxattr(sys: &mut Sys) -> KResult<u64> {
    xattr_target(sys, sys.arg(0), true)?;
    getxattr_common(sys, sys.arg(1))
}

fn sys_lgetxattr(sys: &mut Sys) -> KResult<u64> {
    xattr_target(sys, sys.arg(0), false)?;
    getxattr_common(sys, sys.arg(1))
}

fn sys_fgetxattr(sys: &mut Sys) -> KResult<u64> {
    io_file(sys.task, sys.arg_i32(0))?;
    getxattr_common(sys, sys.arg(1))
}

fn sys_listxattr(sys: &mut Sys) -> KResult<u64> {
    xattr_target(sys, sys.arg(0), true)?;
    Ok(0)
}

fn sys_llistxattr(sys: &mut Sys) -> KResult<u64> {
    xattr_target(sys, sys.arg(0), false)?;
    Ok(0)
}

fn sys_flistxattr(sys: &mut Sys) -> KResult<u64> {
    io_file(sys.task, sys.arg_i32(0))?;
    Ok(0)
}

fn setxattr_common(sys: &Sys, p: &Path, name_addr: u64, size: u64, flags: u32) -> KResult<u64> {
    if flags & !3 != 0 {
        return Err(Errno::EINVAL);
    }
    let name = xattr_name(sys, name_addr)?;
    if size > XATTR_SIZE_MAX {
        return Err(Errno::E2BIG);
    }
    if p.mount.read_only {
        return Err(Errno::EROFS);
    }
    let _ = name;
    Err(Errno::EOPNOTSUPP)
}

fn sys_setxattr(sys: &mut Sys) -> KResult<u64> {
    let p = xattr_target(sys, sys.arg(0), true)?;
    setxattr_common(sys, &p, sys.arg(1), sys.arg(3), sys.arg_u32(4))
}

fn sys_lsetxattr(sys: &mut Sys) -> KResult<u64> {
    let p = xattr_target(sys, sys.arg(0), false)?;
    setxattr_common(sys, &p, sys.arg(1), sys.arg(3), sys.arg_u32(4))
}

fn sys_fsetxattr(sys: &mut Sys) -> KResult<u64> {
    let file = io_file(sys.task, sys.arg_i32(0))?;
    setxattr_common(sys, &fd_path(&file), sys.arg(1), sys.arg(3), sys.arg_u32(4))
}

fn removexattr_common(sys: &Sys, p: &Path, name_addr: u64) -> KResult<u64> {
    let name = xattr_name(sys, name_addr)?;
    if p.mount.read_only {
        return Err(Errno::EROFS);
    }
    if !xattr_known_namespace(&name) {
        return Err(Errno::EOPNOTSUPP);
    }
    Err(Errno::ENODATA)
}

fn sys_removexattr(sys: &mut Sys) -> KResult<u64> {
    let p = xattr_target(sys, sys.arg(0), true)?;
    removexattr_common(sys, &p, sys.arg(1))
}

fn sys_lremovexattr(sys: &mut Sys) -> KResult<u64> {
    let p = xattr_target(sys, sys.arg(0), false)?;
    removexattr_common(sys, &p, sys.arg(1))
}

fn sys_fremovexattr(sys: &mut Sys) -> KResult<u64> {
    let file = io_file(sys.task, sys.arg_i32(0))?;
    removexattr_common(sys, &fd_path(&file), sys.arg(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mknod_dev_decoding_matches_linux() {
        // makedev(1, 3) in glibc's 32-bit-compatible encoding.
        assert_eq!(decode_dev(0x0103), make_dev(1, 3));
        assert_eq!(decode_dev((0x12 << 8) | 0x34 | (0x56 << 12 << 8)), make_dev(0x12, 0x34 | (0x56 << 8)));
    }

    #[test]
    fn access_ok_rejects_kernel_and_wrapping_ranges() {
        assert!(access_ok(0x1000, 10).is_ok());
        assert!(access_ok(0xffff_8000_0000_0000, 10).is_err());
        assert!(access_ok(u64::MAX - 1, 10).is_err());
        assert!(access_ok(0xffff_8000_0000_0000, 0).is_ok());
    }
}
