//! fork, vfork, clone and clone3: decode the request, let task::fork make
//! the child, and hand it to the run loop to start.

use crate::abi::sched::{CLONE_VFORK, CLONE_VM};
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

/// clone3 is not offered; glibc falls back to clone on ENOSYS.
fn sys_clone3(_sys: &mut Sys) -> KResult<u64> {
    Err(Errno::ENOSYS)
}
