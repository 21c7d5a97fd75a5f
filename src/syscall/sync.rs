//! fsync, fdatasync, sync, syncfs, sync_file_range, fadvise, readahead.

use crate::abi::stat::{S_IFBLK, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK};
use crate::abi::{Errno, KResult};
use crate::syscall::args::*;
use crate::syscall::{Sys, SyscallDef};
use crate::syscalls;

pub const SYSCALLS: &[SyscallDef] = syscalls![
    __NR_fsync => sys_fsync,
    __NR_fdatasync => sys_fsync,
    __NR_sync_file_range => sys_sync_file_range,
    __NR_sync => sys_sync,
    __NR_syncfs => sys_syncfs,
    __NR_fadvise64 => sys_fadvise64,
    __NR_readahead => sys_readahead,
];

fn sys_fsync(sys: &mut Sys) -> KResult<u64> {
    let file = io_file(sys.task, sys.arg_i32(0))?;
    file.ops.fsync(&file).map(|_| 0)
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
