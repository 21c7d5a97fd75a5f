//! open, openat, creat, close, close_range and the dup family: the fd
//! table side of opening and closing files.

use std::sync::Arc;

use crate::abi::fcntl::{AT_FDCWD, CLOSE_RANGE_CLOEXEC, CLOSE_RANGE_UNSHARE, O_CLOEXEC, O_CREAT, O_TMPFILE, O_TRUNC, O_WRONLY};
use crate::abi::{Errno, KResult};
use crate::fs::file::File;
use crate::fs::namei::{self};
use crate::syscall::args::*;
use crate::syscall::{Sys, SyscallDef};
use crate::syscalls;
use crate::task::Task;

pub const SYSCALLS: &[SyscallDef] = syscalls![
    __NR_open => sys_open,
    __NR_openat => sys_openat,
    __NR_creat => sys_creat,
    __NR_close => sys_close,
    __NR_close_range => sys_close_range,
    __NR_dup => sys_dup,
    __NR_dup2 => sys_dup2,
    __NR_dup3 => sys_dup3,
];

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
