//! sendfile and copy_file_range: decode offsets, then the VFS copy engine
//! (fs::io::copy_between) moves the bytes; splice, tee and vmsplice
//! (fs::splice).

use crate::abi::event::SPLICE_F_ALL;
use crate::abi::fcntl::O_APPEND;
use crate::abi::stat::{S_IFMT, S_IFREG};
use crate::abi::{Errno, KResult};
use crate::fs::file::MAX_FILE_OFFSET;
use crate::fs::io::{copy_between, verify_area};
use crate::mm::uaccess::{MAX_RW_COUNT, UserBuffers};
use crate::syscall::args::*;
use crate::syscall::{Sys, SyscallDef};
use crate::syscalls;

pub const SYSCALLS: &[SyscallDef] = syscalls![
    __NR_sendfile => sys_sendfile,
    __NR_copy_file_range => sys_copy_file_range,
    __NR_splice => sys_splice,
    __NR_tee => sys_tee,
    __NR_vmsplice => sys_vmsplice,
];

/// sendfile: the offset is read first (EFAULT) and written back even when
/// the copy fails, as Linux's sendfile64 does.
fn sys_sendfile(sys: &mut Sys) -> KResult<u64> {
    let (out_fd, in_fd, off_addr, count) = (sys.arg_i32(0), sys.arg_i32(1), sys.arg(2), sys.arg(3) as usize);
    if off_addr == 0 {
        return do_sendfile(sys, out_fd, in_fd, None, count);
    }
    let mut off: i64 = sys.mm().read(off_addr)?;
    let r = do_sendfile(sys, out_fd, in_fd, Some(&mut off), count);
    put(sys, off_addr, &off)?;
    r
}

/// Linux's do_sendfile order: the input (EBADF, ESPIPE for an offset on an
/// unseekable file, then rw_verify_area: EINVAL), the output (EBADF, then
/// EOVERFLOW past the largest offset, rw_verify_area and O_APPEND unless it
/// is a pipe), then the copy.
fn do_sendfile(sys: &Sys, out_fd: i32, in_fd: i32, off: Option<&mut i64>, count: usize) -> KResult<u64> {
    let src = io_file(sys.task, in_fd)?;
    if !src.readable() {
        return Err(Errno::EBADF);
    }
    if off.is_some() && !src.ops.seekable() {
        return Err(Errno::ESPIPE);
    }
    let pos = match &off {
        Some(off) => **off as u64,
        None => *src.pos.lock(),
    };
    verify_area(Some(pos), count)?;
    let mut count = count.min(MAX_RW_COUNT);
    let dst = io_file(sys.task, out_fd)?;
    if !dst.writable() {
        return Err(Errno::EBADF);
    }
    if pos + count as u64 > MAX_FILE_OFFSET {
        if pos >= MAX_FILE_OFFSET {
            return Err(Errno::EOVERFLOW);
        }
        count = (MAX_FILE_OFFSET - pos) as usize;
    }
    if dst.ops.pipe().is_none() {
        verify_area(Some(*dst.pos.lock()), count)?;
        if dst.flags() & O_APPEND != 0 {
            return Err(Errno::EINVAL);
        }
    }
    match off {
        Some(off) => {
            let mut at = pos;
            let n = copy_between(&src, &dst, count, Some(&mut at), None)?;
            *off = at as i64;
            Ok(n as u64)
        }
        None => Ok(copy_between(&src, &dst, count, None, None)? as u64),
    }
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

/// An optional loff_t argument of splice: EFAULT, or EINVAL if negative.
fn read_offset(sys: &Sys, addr: u64) -> KResult<Option<u64>> {
    if addr == 0 {
        return Ok(None);
    }
    let v: i64 = sys.mm().read(addr)?;
    if v < 0 { Err(Errno::EINVAL) } else { Ok(Some(v as u64)) }
}

/// splice in Linux's order: 0 for no length, EINVAL for flags, EBADF for
/// either fd, ESPIPE for an offset on a pipe, EFAULT for an offset, then
/// the move; the offsets are written back.
fn sys_splice(sys: &mut Sys) -> KResult<u64> {
    let (fd_in, off_in_addr, fd_out, off_out_addr, len, flags) = (sys.arg_i32(0), sys.arg(1), sys.arg_i32(2), sys.arg(3), sys.arg(4) as usize, sys.arg_u32(5));
    if len == 0 {
        return Ok(0);
    }
    if flags & !SPLICE_F_ALL != 0 {
        return Err(Errno::EINVAL);
    }
    let input = file_of(sys.task, fd_in)?;
    let output = file_of(sys.task, fd_out)?;
    if (input.ops.pipe().is_some() && off_in_addr != 0) || (output.ops.pipe().is_some() && off_out_addr != 0) {
        return Err(Errno::ESPIPE);
    }
    let mut out_off = read_offset(sys, off_out_addr)?;
    let mut in_off = read_offset(sys, off_in_addr)?;
    let n = crate::fs::splice::splice(&input, in_off.as_mut(), &output, out_off.as_mut(), len.min(MAX_RW_COUNT), flags)?;
    if let Some(off) = out_off {
        put(sys, off_out_addr, &(off as i64))?;
    }
    if let Some(off) = in_off {
        put(sys, off_in_addr, &(off as i64))?;
    }
    Ok(n as u64)
}

fn sys_tee(sys: &mut Sys) -> KResult<u64> {
    let (fd_in, fd_out, len, flags) = (sys.arg_i32(0), sys.arg_i32(1), sys.arg(2) as usize, sys.arg_u32(3));
    if flags & !SPLICE_F_ALL != 0 {
        return Err(Errno::EINVAL);
    }
    if len == 0 {
        return Ok(0);
    }
    let input = file_of(sys.task, fd_in)?;
    let output = file_of(sys.task, fd_out)?;
    Ok(crate::fs::splice::tee(&input, &output, len.min(MAX_RW_COUNT), flags)? as u64)
}

/// vmsplice: guest memory into a pipe opened for writing, or out of one
/// opened for reading (EBADF for anything else).
fn sys_vmsplice(sys: &mut Sys) -> KResult<u64> {
    let (fd, iov, nr_segs, flags) = (sys.arg_i32(0), sys.arg(1), sys.arg(2), sys.arg_u32(3));
    if flags & !SPLICE_F_ALL != 0 {
        return Err(Errno::EINVAL);
    }
    let file = file_of(sys.task, fd)?;
    let writing = file.writable();
    if !writing && !file.readable() {
        return Err(Errno::EBADF);
    }
    let count = i32::try_from(nr_segs).map_err(|_| Errno::EINVAL)?;
    let bufs = UserBuffers::iovec(sys.mm(), iov, count)?;
    if bufs.len() == 0 {
        return Ok(0);
    }
    if writing {
        let n = crate::fs::splice::vmsplice_to_pipe(&file, flags, |room| bufs.copy_in(0, room.min(bufs.len())))?;
        return Ok(n as u64);
    }
    let data = crate::fs::splice::vmsplice_from_pipe(&file, bufs.len(), flags)?;
    bufs.copy_out(0, &data)?;
    Ok(data.len() as u64)
}
