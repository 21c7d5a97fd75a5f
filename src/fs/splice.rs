//! splice, tee and vmsplice, the basics (Linux's fs/splice.c): bytes move
//! between a pipe and a file, or between two pipes, through a kernel
//! buffer (no page stealing, SPLICE_F_MOVE and SPLICE_F_GIFT are hints);
//! tee copies from one pipe to another without consuming. Waiting follows
//! Linux: for data in the source pipe (none and no writer: 0), then for
//! room in the destination pipe (no reader: EPIPE and SIGPIPE);
//! SPLICE_F_NONBLOCK, or O_NONBLOCK on a pipe end, makes either EAGAIN.
//! The syscall layer decodes offsets and copies guest memory.

use crate::abi::event::SPLICE_F_NONBLOCK;
use crate::abi::fcntl::{O_APPEND, O_NONBLOCK};
use crate::abi::{Errno, KResult};
use crate::fs::file::File;
use crate::fs::io::IO_CHUNK;
use crate::fs::notify;
use crate::fs::pipe::Pipe;

fn nonblocking(flags: u32, files: &[&File]) -> bool {
    flags & SPLICE_F_NONBLOCK != 0 || files.iter().any(|f| f.flags() & O_NONBLOCK != 0)
}

/// Reads `buf.len()` bytes at most from `file` at `off` (or its position).
fn file_read(file: &File, buf: &mut [u8], off: Option<&mut u64>) -> KResult<usize> {
    match off {
        Some(off) => {
            let n = file.ops.pread(file, buf, *off)?;
            *off += n as u64;
            Ok(n)
        }
        None => {
            let mut pos = file.pos.lock();
            file.ops.read(file, buf, &mut pos)
        }
    }
}

fn file_write(file: &File, buf: &[u8], off: Option<&mut u64>) -> KResult<usize> {
    match off {
        Some(off) => {
            let n = file.ops.pwrite(file, buf, *off)?;
            *off += n as u64;
            Ok(n)
        }
        None => {
            let mut pos = file.pos.lock();
            file.ops.write(file, buf, &mut pos)
        }
    }
}

/// splice(2) once the fds and offsets are decoded: at least one side is
/// a pipe (EINVAL otherwise); a pipe has no offset (ESPIPE); a file end
/// opened O_APPEND is EINVAL.
pub fn splice(input: &File, in_off: Option<&mut u64>, output: &File, out_off: Option<&mut u64>, len: usize, flags: u32) -> KResult<usize> {
    if !input.readable() || !output.writable() {
        return Err(Errno::EBADF);
    }
    let len = len.min(IO_CHUNK);
    match (input.ops.pipe(), output.ops.pipe()) {
        (Some(ipipe), Some(opipe)) => {
            if in_off.is_some() || out_off.is_some() {
                return Err(Errno::ESPIPE);
            }
            if std::ptr::eq(ipipe, opipe) {
                return Err(Errno::EINVAL);
            }
            pipe_to_pipe(ipipe, opipe, len, nonblocking(flags, &[input, output]), false)
        }
        (Some(ipipe), None) => {
            if in_off.is_some() {
                return Err(Errno::ESPIPE);
            }
            if out_off.is_some() && !output.ops.seekable() {
                return Err(Errno::EINVAL);
            }
            if output.flags() & O_APPEND != 0 {
                return Err(Errno::EINVAL);
            }
            if !ipipe.wait_data(nonblocking(flags, &[input]))? {
                return Ok(0);
            }
            let mut buf = vec![0u8; len];
            let n = ipipe.read(&mut buf, true)?;
            let w = file_write(output, &buf[..n], out_off)?;
            if w > 0 {
                notify::modify(output);
            }
            Ok(w)
        }
        (None, Some(opipe)) => {
            if out_off.is_some() {
                return Err(Errno::ESPIPE);
            }
            if in_off.is_some() && !input.ops.seekable() {
                return Err(Errno::EINVAL);
            }
            let room = opipe.wait_room(nonblocking(flags, &[output]))?;
            let mut buf = vec![0u8; len.min(room)];
            let n = file_read(input, &mut buf, in_off)?;
            if n == 0 {
                return Ok(0);
            }
            let (w, _) = opipe.write(&buf[..n], true, false);
            notify::access(input);
            w
        }
        (None, None) => Err(Errno::EINVAL),
    }
}

/// Moves (or for tee copies) what the input pipe holds, up to `len` and
/// the room in the output pipe.
fn pipe_to_pipe(ipipe: &Pipe, opipe: &Pipe, len: usize, nonblock: bool, copy: bool) -> KResult<usize> {
    if !ipipe.wait_data(nonblock)? {
        return Ok(0);
    }
    let room = opipe.wait_room(nonblock)?;
    let mut buf = vec![0u8; len.min(room)];
    let n = if copy { ipipe.peek(&mut buf) } else { ipipe.read(&mut buf, true)? };
    if n == 0 {
        return Ok(0);
    }
    opipe.write(&buf[..n], true, false).0
}

/// tee(2): both ends pipes, and not the same pipe (EINVAL).
pub fn tee(input: &File, output: &File, len: usize, flags: u32) -> KResult<usize> {
    if !input.readable() || !output.writable() {
        return Err(Errno::EBADF);
    }
    match (input.ops.pipe(), output.ops.pipe()) {
        (Some(i), Some(o)) if !std::ptr::eq(i, o) => pipe_to_pipe(i, o, len.min(IO_CHUNK), nonblocking(flags, &[input, output]), true),
        _ => Err(Errno::EINVAL),
    }
}

/// vmsplice(2) into a pipe: waits for room, then takes what fits of `data`
/// (`data` yields the guest bytes, at most the length asked).
pub fn vmsplice_to_pipe(file: &File, flags: u32, data: impl FnOnce(usize) -> KResult<Vec<u8>>) -> KResult<usize> {
    let pipe = file.ops.pipe().ok_or(Errno::EBADF)?;
    let room = pipe.wait_room(flags & SPLICE_F_NONBLOCK != 0)?;
    let bytes = data(room)?;
    pipe.write(&bytes, true, false).0
}

/// vmsplice(2) out of a pipe: like a read of up to `len` bytes.
pub fn vmsplice_from_pipe(file: &File, len: usize, flags: u32) -> KResult<Vec<u8>> {
    let pipe = file.ops.pipe().ok_or(Errno::EBADF)?;
    if !pipe.wait_data(flags & SPLICE_F_NONBLOCK != 0)? {
        return Ok(Vec::new());
    }
    let mut buf = vec![0u8; len.min(IO_CHUNK)];
    let n = pipe.read(&mut buf, true)?;
    buf.truncate(n);
    Ok(buf)
}
