//! fsync, fdatasync, sync, syncfs, sync_file_range, fadvise, readahead.
//! Writeback itself is the page cache's (`mm::page_cache`); durability is
//! the filesystem's (`Inode::sync`, `Inode::sync_fs`).

use crate::abi::stat::{S_IFBLK, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK};
use crate::abi::{Errno, KResult, PAGE_SIZE};
use crate::fs::lookup::FsCaller;
use crate::syscall::args::*;
use crate::syscall::{Sys, SyscallDef};
use crate::syscalls;

/// sync_file_range: start writeback of dirty pages in the range.
const SYNC_FILE_RANGE_WRITE: u32 = 2;

pub const SYSCALLS: &[SyscallDef] = syscalls![
    __NR_fsync => sys_fsync,
    __NR_fdatasync => sys_fsync,
    __NR_sync_file_range => sys_sync_file_range,
    __NR_sync => sys_sync,
    __NR_syncfs => sys_syncfs,
    __NR_fadvise64 => sys_fadvise64,
    __NR_readahead => sys_readahead,
];

/// fsync and fdatasync: the file's dirty pages written back, then its
/// filesystem makes data and metadata durable (one journal commit carries
/// both, so fdatasync does the same work).
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
        S_IFREG | S_IFDIR | S_IFBLK | S_IFLNK => {}
        _ => return Err(Errno::ESPIPE),
    }
    // SYNC_FILE_RANGE_WRITE starts writeback of the range (ours completes
    // at once, so the WAIT flags have nothing left to wait for).
    if flags & SYNC_FILE_RANGE_WRITE != 0
        && let Some(cache) = file.inode.page_cache()
    {
        let first = offset as u64 / PAGE_SIZE;
        let end = if nbytes == 0 { u64::MAX } else { (offset as u64).saturating_add(nbytes as u64).div_ceil(PAGE_SIZE) };
        cache.write_back(first, end)?;
    }
    Ok(0)
}

/// sync: every dirty page written back, then every mounted filesystem
/// made durable. Always succeeds, as on Linux.
fn sys_sync(sys: &mut Sys) -> KResult<u64> {
    let _ = crate::mm::page_cache::write_back_everything();
    for mount in sys.task.mounts().all() {
        let _ = mount.root.inode.sync_fs();
    }
    Ok(0)
}

fn sys_syncfs(sys: &mut Sys) -> KResult<u64> {
    let file = io_file(sys.task, sys.arg_i32(0))?;
    file.inode.sync_fs().map(|_| 0)
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
