//! fork, vfork, clone and clone3: decode the request, let task::fork make
//! the child, and hand it to the run loop to start.

use crate::abi::sched::{
    CLONE_ARGS_SIZE_VER0, CLONE_ARGS_SIZE_VER2, CLONE_CLEAR_SIGHAND, CLONE_INTO_CGROUP, CLONE_PARENT, CLONE_SIGHAND, CLONE_THREAD, CLONE_VFORK, CLONE_VM,
    CSIGNAL,
};
use crate::abi::signal::SIGCHLD;
use crate::abi::{Errno, KResult};
use crate::syscall::{Sys, SyscallDef};
use crate::syscalls;
use crate::task::fork::{self, CloneArgs};

pub const SYSCALLS: &[SyscallDef] = syscalls![
    __NR_fork => sys_fork,
    __NR_vfork => sys_vfork,
    __NR_clone => sys_clone,
    __NR_clone3 => sys_clone3,
];

fn do_clone(sys: &mut Sys, args: CloneArgs) -> KResult<u64> {
    let new = fork::clone_process(sys.task, &args, sys.regs)?;
    let pid = new.task.tid();
    sys.spawn = Some(new);
    Ok(pid as u64)
}

fn sys_fork(sys: &mut Sys) -> KResult<u64> {
    do_clone(sys, CloneArgs { flags: SIGCHLD as u64, stack: 0, parent_tid: 0, child_tid: 0, tls: 0 })
}

fn sys_vfork(sys: &mut Sys) -> KResult<u64> {
    do_clone(sys, CloneArgs { flags: CLONE_VM | CLONE_VFORK | SIGCHLD as u64, stack: 0, parent_tid: 0, child_tid: 0, tls: 0 })
}

/// x86-64 argument order: flags, stack, parent_tid, child_tid, tls.
fn sys_clone(sys: &mut Sys) -> KResult<u64> {
    let args = CloneArgs { flags: sys.arg(0), stack: sys.arg(1), parent_tid: sys.arg(2), child_tid: sys.arg(3), tls: sys.arg(4) };
    do_clone(sys, args)
}

/// clone3(args, size): `struct clone_args` of a known size (a larger one
/// only with zeros past what we know), checked as Linux's
/// copy_clone_args_from_user and clone3_args_valid do.
fn sys_clone3(sys: &mut Sys) -> KResult<u64> {
    let (addr, size) = (sys.arg(0), sys.arg(1) as usize);
    if size < CLONE_ARGS_SIZE_VER0 {
        return Err(Errno::EINVAL);
    }
    if size > 4096 {
        return Err(Errno::E2BIG);
    }
    let raw = sys.mm().read_bytes(addr, size)?;
    if raw.len() > CLONE_ARGS_SIZE_VER2 && raw[CLONE_ARGS_SIZE_VER2..].iter().any(|&b| b != 0) {
        return Err(Errno::E2BIG);
    }
    let field = |i: usize| -> u64 { raw.get(i * 8..i * 8 + 8).map_or(0, |b| u64::from_ne_bytes(b.try_into().unwrap_or([0; 8]))) };
    let (flags, _pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup) =
        (field(0), field(1), field(2), field(3), field(4), field(5), field(6), field(7), field(8), field(9), field(10));
    if exit_signal & !CSIGNAL != 0 {
        return Err(Errno::EINVAL);
    }
    // Linux: at most one pid per namespace level (32 levels).
    if set_tid_size > 32 || (set_tid == 0 && set_tid_size > 0) || (set_tid != 0 && set_tid_size == 0) {
        return Err(Errno::EINVAL);
    }
    if cgroup > i32::MAX as u64 {
        return Err(Errno::EINVAL);
    }
    let legacy = (1u64 << 32) - 1;
    if flags & !(legacy | CLONE_CLEAR_SIGHAND | CLONE_INTO_CGROUP) != 0 || flags & CSIGNAL != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & (CLONE_THREAD | CLONE_PARENT) != 0 && exit_signal != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & (CLONE_SIGHAND | CLONE_CLEAR_SIGHAND) == CLONE_SIGHAND | CLONE_CLEAR_SIGHAND {
        return Err(Errno::EINVAL);
    }
    if (stack == 0) != (stack_size == 0) {
        return Err(Errno::EINVAL);
    }
    if set_tid_size > 1 {
        // Only one pid namespace here: more pids than levels.
        return Err(Errno::EINVAL);
    }
    let wanted_tid = if set_tid_size == 1 {
        let tid: i32 = sys.mm().read(set_tid)?;
        if tid <= 0 {
            return Err(Errno::EINVAL);
        }
        Some(tid)
    } else {
        None
    };
    if flags & CLONE_INTO_CGROUP != 0 {
        // No cgroup filesystem here: no fd names a cgroup2 directory.
        return Err(Errno::EBADF);
    }
    let args = CloneArgs {
        flags: flags | exit_signal,
        // The stack grows down: the child starts at its top.
        stack: stack.wrapping_add(stack_size),
        parent_tid,
        child_tid,
        tls,
    };
    let new = fork::clone_process_with(sys.task, &args, sys.regs, wanted_tid)?;
    let pid = new.task.tid();
    sys.spawn = Some(new);
    Ok(pid as u64)
}
