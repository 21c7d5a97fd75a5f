//! File system calls: I/O on fds, paths, metadata, directories.

use crate::abi::{Errno, KResult};
use crate::syscall::{Sys, SyscallDef};
use crate::syscalls;

pub const SYSCALLS: &[SyscallDef] = syscalls![
    __NR_read => sys_read,
    __NR_write => sys_write,
];

const IO_CHUNK: usize = 1 << 20;

fn sys_read(sys: &mut Sys) -> KResult<u64> {
    let (fd, buf, count) = (sys.arg_i32(0), sys.arg(1), sys.arg(2) as usize);
    let file = sys.task.files().get(fd)?;
    if !file.readable() {
        return Err(Errno::EBADF);
    }
    let mut data = vec![0u8; count.min(IO_CHUNK)];
    let n = {
        let mut pos = file.pos.lock().unwrap_or_else(|e| e.into_inner());
        file.ops.read(&file, &mut data, &mut pos)?
    };
    sys.mm().write_bytes(buf, &data[..n])?;
    Ok(n as u64)
}

fn sys_write(sys: &mut Sys) -> KResult<u64> {
    let (fd, buf, count) = (sys.arg_i32(0), sys.arg(1), sys.arg(2) as usize);
    let file = sys.task.files().get(fd)?;
    if !file.writable() {
        return Err(Errno::EBADF);
    }
    let data = sys.mm().read_bytes(buf, count.min(IO_CHUNK))?;
    let mut pos = file.pos.lock().unwrap_or_else(|e| e.into_inner());
    Ok(file.ops.write(&file, &data, &mut pos)? as u64)
}
