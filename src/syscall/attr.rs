//! Attributes: access checks, sizes (truncate, fallocate), times (the
//! utime family), modes and owners, and the umask.

use crate::abi::fcntl::{AT_EACCESS, AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW, FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE};
use crate::abi::stat::{S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, UTIME_NOW, UTIME_OMIT};
use crate::abi::{Errno, KResult, Timespec, Timeval};
use crate::fs::file::MAX_FILE_OFFSET;
use crate::fs::inode::SetAttr;
use crate::fs::lookup::resolve_at;
use crate::fs::namei::{self, TimeArg};
use crate::syscall::args::*;
use crate::syscall::{Sys, SyscallDef};
use crate::syscalls;

pub const SYSCALLS: &[SyscallDef] = syscalls![
    __NR_access => sys_access,
    __NR_faccessat => sys_faccessat,
    __NR_faccessat2 => sys_faccessat2,
    __NR_truncate => sys_truncate,
    __NR_ftruncate => sys_ftruncate,
    __NR_fallocate => sys_fallocate,
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
];

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

/// truncate: a negative length is EINVAL before the path is read.
fn sys_truncate(sys: &mut Sys) -> KResult<u64> {
    let len = sys.arg(1) as i64;
    if len < 0 {
        return Err(Errno::EINVAL);
    }
    let path = sys.read_path(sys.arg(0))?;
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
    crate::fs::file::check_new_size(md.size, len as u64)?;
    file.inode.setattr(&SetAttr { size: Some(len as u64), ..Default::default() })?;
    crate::fs::notify::modify(&file);
    Ok(0)
}

/// fallocate's modes (linux/falloc.h): one of these, or none (allocate).
const FALLOC_FL_COLLAPSE_RANGE: u32 = 0x08;
const FALLOC_FL_ZERO_RANGE: u32 = 0x10;
const FALLOC_FL_INSERT_RANGE: u32 = 0x20;
const FALLOC_FL_UNSHARE_RANGE: u32 = 0x40;
const FALLOC_FL_WRITE_ZEROES: u32 = 0x80;
const FALLOC_FL_MODE_MASK: u32 =
    FALLOC_FL_PUNCH_HOLE | FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_ZERO_RANGE | FALLOC_FL_INSERT_RANGE | FALLOC_FL_UNSHARE_RANGE | FALLOC_FL_WRITE_ZEROES;

/// fallocate in ksys_fallocate/vfs_fallocate's order: the fd, the range,
/// the mode (modes are exclusive; PUNCH_HOLE needs KEEP_SIZE, the range
/// shifting ones refuse it), write access, the file type, the size limit.
/// Each filesystem answers the valid modes it has (allocation, and hole
/// punching where it can) and EOPNOTSUPP for the rest.
fn sys_fallocate(sys: &mut Sys) -> KResult<u64> {
    let (fd, mode, offset, len) = (sys.arg_i32(0), sys.arg_u32(1), sys.arg(2) as i64, sys.arg(3) as i64);
    let file = io_file(sys.task, fd)?;
    if offset < 0 || len <= 0 {
        return Err(Errno::EINVAL);
    }
    if mode & !(FALLOC_FL_MODE_MASK | FALLOC_FL_KEEP_SIZE) != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    let keep = mode & FALLOC_FL_KEEP_SIZE != 0;
    match mode & FALLOC_FL_MODE_MASK {
        0 | FALLOC_FL_UNSHARE_RANGE | FALLOC_FL_ZERO_RANGE => {}
        FALLOC_FL_PUNCH_HOLE if keep => {}
        FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_INSERT_RANGE | FALLOC_FL_WRITE_ZEROES if !keep => {}
        _ => return Err(Errno::EOPNOTSUPP),
    }
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
    let end = (offset as u64).checked_add(len as u64).filter(|&e| e <= MAX_FILE_OFFSET).ok_or(Errno::EFBIG)?;
    if mode & FALLOC_FL_KEEP_SIZE == 0 {
        crate::fs::file::check_new_size(md.size, end)?;
    }
    file.inode.fallocate(mode, offset as u64, len as u64)?;
    crate::fs::notify::modify(&file);
    Ok(0)
}

fn sys_umask(sys: &mut Sys) -> KResult<u64> {
    let mut fs = sys.task.fs();
    let old = fs.umask;
    fs.umask = sys.arg_u32(0) & 0o777;
    Ok(old as u64)
}

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
