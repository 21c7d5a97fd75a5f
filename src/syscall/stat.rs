//! stat, lstat, fstat, newfstatat, statx, statfs and fstatfs.

use crate::abi::fcntl::{AT_EMPTY_PATH, AT_FDCWD, AT_NO_AUTOMOUNT, AT_STATX_SYNC_TYPE, AT_SYMLINK_NOFOLLOW};
use crate::abi::stat::STATX_RESERVED;
use crate::abi::{Errno, KResult};
use crate::fs::inode::InodeRef;
use crate::fs::lookup::resolve_at;
use crate::fs::path::Path;
use crate::syscall::args::*;
use crate::syscall::{Sys, SyscallDef};
use crate::syscalls;

pub const SYSCALLS: &[SyscallDef] = syscalls![
    __NR_stat => sys_stat,
    __NR_lstat => sys_lstat,
    __NR_fstat => sys_fstat,
    __NR_newfstatat => sys_newfstatat,
    __NR_statx => sys_statx,
    __NR_statfs => sys_statfs,
    __NR_fstatfs => sys_fstatfs,
];

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
    sf.f_flags |= path.mount.statfs_flags();
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
