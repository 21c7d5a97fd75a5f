//! open, openat, openat2, creat, close, close_range and the dup family: the fd
//! table side of opening and closing files.

use std::sync::Arc;

use crate::abi::fcntl::{
    AT_FDCWD, CLOSE_RANGE_CLOEXEC, CLOSE_RANGE_UNSHARE, O_ACCMODE, O_APPEND, O_ASYNC, O_CLOEXEC, O_CREAT, O_DIRECT, O_DIRECTORY, O_EXCL, O_LARGEFILE,
    O_NOATIME, O_NOCTTY, O_NOFOLLOW, O_NONBLOCK, O_PATH, O_SYNC, O_TMPFILE, O_TRUNC, O_WRONLY,
};
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
    __NR_openat2 => sys_openat2,
    __NR_creat => sys_creat,
    __NR_close => sys_close,
    __NR_close_range => sys_close_range,
    __NR_dup => sys_dup,
    __NR_dup2 => sys_dup2,
    __NR_dup3 => sys_dup3,
];

/// The open family: build_open_flags' O_TMPFILE rules (it must come as
/// O_TMPFILE without O_CREAT, for writing: EINVAL otherwise; O_PATH drops
/// it) before the path is read, then the lookup and the new fd.
fn do_open(sys: &Sys, dirfd: i32, path_addr: u64, flags: u32, mode: u32) -> KResult<u64> {
    let tmpfile_bit = O_TMPFILE & !O_DIRECTORY;
    if flags & O_PATH == 0 && flags & tmpfile_bit != 0 && (flags & (O_TMPFILE | O_CREAT) != O_TMPFILE || flags & O_ACCMODE == 0) {
        return Err(Errno::EINVAL);
    }
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

/// `struct open_how` (openat2), version 0: 24 bytes.
#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

/// Linux's VALID_OPEN_FLAGS: openat2 refuses any other bit.
const VALID_OPEN_FLAGS: u64 = (O_ACCMODE
    | O_CREAT
    | O_EXCL
    | O_NOCTTY
    | O_TRUNC
    | O_APPEND
    | O_NONBLOCK
    | O_SYNC
    | O_ASYNC
    | O_DIRECT
    | O_LARGEFILE
    | O_DIRECTORY
    | O_NOFOLLOW
    | O_NOATIME
    | O_CLOEXEC
    | O_PATH
    | O_TMPFILE) as u64;
const RESOLVE_NO_XDEV: u64 = 0x01;
const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
const RESOLVE_NO_SYMLINKS: u64 = 0x04;
const RESOLVE_BENEATH: u64 = 0x08;
const RESOLVE_IN_ROOT: u64 = 0x10;
const RESOLVE_CACHED: u64 = 0x20;

/// openat2: the size (EINVAL below version 0, E2BIG above a page or with
/// nonzero bytes past what is known), then build_open_flags' strict checks
/// (unknown flag or resolve bits, BENEATH with IN_ROOT, a mode without
/// O_CREAT/O_TMPFILE or beyond 07777: EINVAL), then openat. RESOLVE_CACHED
/// refuses what would create or truncate (EAGAIN) and otherwise looks up
/// as usual; the other RESOLVE_* restrictions are not offered (ENOSYS,
/// which callers take as "use openat").
fn sys_openat2(sys: &mut Sys) -> KResult<u64> {
    let (dirfd, path, how_addr, size) = (sys.arg_i32(0), sys.arg(1), sys.arg(2), sys.arg(3));
    const VER0: u64 = std::mem::size_of::<OpenHow>() as u64;
    if size < VER0 {
        return Err(Errno::EINVAL);
    }
    if size > crate::abi::PAGE_SIZE {
        return Err(Errno::E2BIG);
    }
    let how: OpenHow = sys.mm().read(how_addr)?;
    if size > VER0 && sys.mm().read_bytes(how_addr + VER0, (size - VER0) as usize)?.iter().any(|&b| b != 0) {
        return Err(Errno::E2BIG);
    }
    if how.flags & !VALID_OPEN_FLAGS != 0 {
        return Err(Errno::EINVAL);
    }
    let known = RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH | RESOLVE_IN_ROOT | RESOLVE_CACHED;
    if how.resolve & !known != 0 || how.resolve & (RESOLVE_BENEATH | RESOLVE_IN_ROOT) == RESOLVE_BENEATH | RESOLVE_IN_ROOT {
        return Err(Errno::EINVAL);
    }
    let flags = how.flags as u32;
    let creates = flags & O_CREAT != 0 || flags & O_TMPFILE == O_TMPFILE;
    if if creates { how.mode & !0o7777 != 0 } else { how.mode != 0 } {
        return Err(Errno::EINVAL);
    }
    if how.resolve & RESOLVE_CACHED != 0 && flags & (O_TRUNC | O_CREAT | O_TMPFILE & !O_DIRECTORY) != 0 {
        return Err(Errno::EAGAIN);
    }
    if how.resolve & !RESOLVE_CACHED != 0 {
        return Err(Errno::ENOSYS);
    }
    do_open(sys, dirfd, path, flags, how.mode as u32)
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
