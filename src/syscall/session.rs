//! Process groups and sessions: getpgrp, getpgid, getsid, setpgid, setsid
//! (the rules are in task::session).

use crate::abi::{Errno, KResult};
use crate::syscall::{Sys, SyscallDef};
use crate::syscalls;

pub const SYSCALLS: &[SyscallDef] = syscalls![
    __NR_setpgid => sys_setpgid,
    __NR_setsid => sys_setsid,
    __NR_getpgrp => sys_getpgrp,
    __NR_getpgid => sys_getpgid,
    __NR_getsid => sys_getsid,
];

fn sys_getpgrp(sys: &mut Sys) -> KResult<u64> {
    Ok(sys.task.pgid() as u64)
}

/// The process `pid` names (0: the caller), zombies included.
fn process_of(sys: &Sys, pid: i32) -> KResult<std::sync::Arc<crate::task::process::Process>> {
    if pid == 0 {
        return Ok(sys.task.process.clone());
    }
    if pid < 0 {
        return Err(Errno::ESRCH);
    }
    sys.task.system.process(pid).ok_or(Errno::ESRCH)
}

fn sys_getpgid(sys: &mut Sys) -> KResult<u64> {
    Ok(process_of(sys, sys.arg_i32(0))?.pgid() as u64)
}

fn sys_getsid(sys: &mut Sys) -> KResult<u64> {
    Ok(process_of(sys, sys.arg_i32(0))?.sid() as u64)
}

fn sys_setpgid(sys: &mut Sys) -> KResult<u64> {
    crate::task::session::setpgid(sys.task, sys.arg_i32(0), sys.arg_i32(1)).map(|_| 0)
}

fn sys_setsid(sys: &mut Sys) -> KResult<u64> {
    crate::task::session::setsid(sys.task).map(|sid| sid as u64)
}
