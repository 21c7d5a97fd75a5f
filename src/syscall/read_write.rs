//! read, write and their positional and vectored forms, and lseek: decode
//! the buffers and offsets, then the VFS data path (fs::io) moves the bytes.

use std::sync::Arc;

use crate::abi::uio::{RWF_APPEND, RWF_DSYNC, RWF_HIPRI, RWF_NOWAIT, RWF_SYNC};
use crate::abi::{Errno, KResult};
use crate::fs::file::File;
use crate::fs::io::{read_into, write_from};
use crate::mm::uaccess::UserBuffers;
use crate::syscall::args::*;
use crate::syscall::{Sys, SyscallDef};
use crate::syscalls;

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
];

fn sys_read(sys: &mut Sys) -> KResult<u64> {
    let file = io_file(sys.task, sys.arg_i32(0))?;
    if !file.readable() {
        return Err(Errno::EBADF);
    }
    let bufs = UserBuffers::single(sys.mm(), sys.arg(1), sys.arg(2) as usize)?;
    Ok(read_into(&file, &bufs, None)? as u64)
}

fn sys_write(sys: &mut Sys) -> KResult<u64> {
    let file = io_file(sys.task, sys.arg_i32(0))?;
    if !file.writable() {
        return Err(Errno::EBADF);
    }
    let bufs = UserBuffers::single(sys.mm(), sys.arg(1), sys.arg(2) as usize)?;
    Ok(write_from(&file, &bufs, None)? as u64)
}

/// Checks for pread/pwrite: EINVAL for a negative offset, then EBADF for
/// the fd, ESPIPE for unseekable files (before the access mode: the wrong
/// end of a pipe is ESPIPE), then EBADF for the access mode (Linux:
/// ksys_pread64, then vfs_read).
fn positional(sys: &Sys, fd: i32, offset: u64, write: bool) -> KResult<Arc<File>> {
    if (offset as i64) < 0 {
        return Err(Errno::EINVAL);
    }
    let file = io_file(sys.task, fd)?;
    if !file.ops.seekable() {
        return Err(Errno::ESPIPE);
    }
    if (write && !file.writable()) || (!write && !file.readable()) {
        return Err(Errno::EBADF);
    }
    Ok(file)
}

fn sys_pread64(sys: &mut Sys) -> KResult<u64> {
    let file = positional(sys, sys.arg_i32(0), sys.arg(3), false)?;
    let bufs = UserBuffers::single(sys.mm(), sys.arg(1), sys.arg(2) as usize)?;
    Ok(read_into(&file, &bufs, Some(sys.arg(3)))? as u64)
}

fn sys_pwrite64(sys: &mut Sys) -> KResult<u64> {
    let file = positional(sys, sys.arg_i32(0), sys.arg(3), true)?;
    let bufs = UserBuffers::single(sys.mm(), sys.arg(1), sys.arg(2) as usize)?;
    Ok(write_from(&file, &bufs, Some(sys.arg(3)))? as u64)
}

fn sys_readv(sys: &mut Sys) -> KResult<u64> {
    let file = io_file(sys.task, sys.arg_i32(0))?;
    if !file.readable() {
        return Err(Errno::EBADF);
    }
    let bufs = UserBuffers::iovec(sys.mm(), sys.arg(1), sys.arg_i32(2))?;
    Ok(read_into(&file, &bufs, None)? as u64)
}

fn sys_writev(sys: &mut Sys) -> KResult<u64> {
    let file = io_file(sys.task, sys.arg_i32(0))?;
    if !file.writable() {
        return Err(Errno::EBADF);
    }
    let bufs = UserBuffers::iovec(sys.mm(), sys.arg(1), sys.arg_i32(2))?;
    Ok(write_from(&file, &bufs, None)? as u64)
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
        let bufs = UserBuffers::iovec(sys.mm(), sys.arg(1), sys.arg_i32(2))?;
        let n = if write { write_from(&file, &bufs, None)? } else { read_into(&file, &bufs, None)? };
        return Ok(n as u64);
    }
    let file = positional(sys, fd, offset, write)?;
    let bufs = UserBuffers::iovec(sys.mm(), sys.arg(1), sys.arg_i32(2))?;
    let n = if write { write_from(&file, &bufs, Some(offset))? } else { read_into(&file, &bufs, Some(offset))? };
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
