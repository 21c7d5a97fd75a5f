//! execve and execveat: read the path, argv and envp, let task::exec load
//! the image and commit it.

use crate::abi::fcntl::{AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW};
use crate::abi::limits::PATH_MAX;
use crate::abi::{Errno, KResult};
use crate::syscall::{Sys, SyscallDef};
use crate::syscalls;

pub const SYSCALLS: &[SyscallDef] = syscalls![
    __NR_execve => sys_execve,
    __NR_execveat => sys_execveat,
];

/// Reads a NULL-terminated array of string pointers (argv, envp).
fn read_string_array(sys: &Sys, mut addr: u64) -> KResult<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    if addr == 0 {
        return Ok(out);
    }
    let mm = sys.mm();
    let mut total = 0usize;
    loop {
        let p: u64 = mm.read(addr)?;
        if p == 0 {
            return Ok(out);
        }
        // MAX_ARG_STRLEN (32 pages) counts the NUL.
        let s = mm.read_cstring(p, 128 * 1024 - 1).map_err(|e| if e == Errno::ENAMETOOLONG { Errno::E2BIG } else { e })?;
        total += s.len() + 1 + 8;
        if total > 6 << 20 || out.len() >= 0x7fff_ffff {
            return Err(Errno::E2BIG);
        }
        out.push(s);
        addr += 8;
    }
}

fn do_execve(sys: &mut Sys, dirfd: i32, path: Vec<u8>, argv: u64, envp: u64, flags: u32) -> KResult<u64> {
    // Right after the path, before the flags (do_execveat_common).
    crate::task::limits::exec_nproc_check(sys.task)?;
    if flags & !(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0 {
        return Err(Errno::EINVAL);
    }
    let argv = read_string_array(sys, argv)?;
    let envp = read_string_array(sys, envp)?;
    let image = crate::task::exec::load(sys.task, dirfd, &path, argv, envp, flags & AT_EMPTY_PATH != 0)?;
    // The other threads go first; then the point of no return: the new
    // image replaces the old one.
    crate::task::exec::de_thread(sys.task)?;
    let regs = crate::task::exec::commit(sys.task, image);
    *sys.regs = regs;
    sys.regs_replaced = true;
    Ok(0)
}

fn sys_execve(sys: &mut Sys) -> KResult<u64> {
    let path = sys.read_path(sys.arg(0))?;
    do_execve(sys, AT_FDCWD, path, sys.arg(1), sys.arg(2), 0)
}

fn sys_execveat(sys: &mut Sys) -> KResult<u64> {
    let path = sys.mm().read_cstring(sys.arg(1), PATH_MAX - 1)?;
    do_execve(sys, sys.arg_i32(0), path, sys.arg(2), sys.arg(3), sys.arg_u32(4))
}
