//! Process system calls: identity, exit, execve, limits, prctl, arch_prctl.

use std::sync::atomic::Ordering;

use crate::abi::prctl::{
    ARCH_GET_CPUID, ARCH_GET_FS, ARCH_GET_GS, ARCH_SET_CPUID, ARCH_SET_FS, ARCH_SET_GS, PR_GET_CHILD_SUBREAPER, PR_GET_DUMPABLE, PR_GET_NAME,
    PR_GET_NO_NEW_PRIVS, PR_GET_PDEATHSIG, PR_GET_SECCOMP, PR_GET_THP_DISABLE, PR_GET_TID_ADDRESS, PR_SET_CHILD_SUBREAPER, PR_SET_DUMPABLE, PR_SET_NAME,
    PR_SET_NO_NEW_PRIVS, PR_SET_PDEATHSIG, PR_SET_THP_DISABLE,
};
use crate::abi::{Errno, KResult};
use crate::syscall::{Exit, Sys, SyscallDef};
use crate::syscalls;

pub const SYSCALLS: &[SyscallDef] = syscalls![
    __NR_exit => sys_exit,
    __NR_exit_group => sys_exit_group,
    __NR_getpid => sys_getpid,
    __NR_getppid => sys_getppid,
    __NR_gettid => sys_gettid,
    __NR_set_tid_address => sys_set_tid_address,
    __NR_set_robust_list => sys_set_robust_list,
    __NR_get_robust_list => sys_get_robust_list,
    __NR_rseq => sys_rseq,
    __NR_arch_prctl => sys_arch_prctl,
    __NR_prctl => sys_prctl,
    __NR_personality => sys_personality,
];

/// Only the Linux personality exists; flags such as ADDR_NO_RANDOMIZE are
/// kept (vkernel does not randomise yet, so they change nothing).
fn sys_personality(sys: &mut Sys) -> KResult<u64> {
    let new = sys.arg_u32(0);
    let old = sys.task.personality.load(Ordering::Relaxed);
    if new != 0xffff_ffff {
        if new & 0xff != 0 {
            return Err(Errno::EINVAL);
        }
        sys.task.personality.store(new, Ordering::Relaxed);
    }
    Ok(old as u64)
}

fn sys_exit(sys: &mut Sys) -> KResult<u64> {
    sys.exit = Some(Exit::Thread(sys.arg_i32(0) & 0xff));
    Ok(0)
}

fn sys_exit_group(sys: &mut Sys) -> KResult<u64> {
    sys.exit = Some(Exit::Group(sys.arg_i32(0) & 0xff));
    Ok(0)
}

fn sys_getpid(sys: &mut Sys) -> KResult<u64> {
    Ok(sys.task.tgid as u64)
}

fn sys_getppid(sys: &mut Sys) -> KResult<u64> {
    Ok(sys.task.ppid() as u64)
}

fn sys_gettid(sys: &mut Sys) -> KResult<u64> {
    Ok(sys.task.tid() as u64)
}

fn sys_set_tid_address(sys: &mut Sys) -> KResult<u64> {
    sys.task.clear_child_tid.store(sys.arg(0), Ordering::Relaxed);
    Ok(sys.task.tid() as u64)
}

/// sizeof(struct robust_list_head) on x86-64.
const ROBUST_LIST_HEAD_SIZE: u64 = 24;

fn sys_set_robust_list(sys: &mut Sys) -> KResult<u64> {
    if sys.arg(1) != ROBUST_LIST_HEAD_SIZE {
        return Err(Errno::EINVAL);
    }
    sys.task.robust_list.store(sys.arg(0), Ordering::Relaxed);
    Ok(0)
}

fn sys_get_robust_list(sys: &mut Sys) -> KResult<u64> {
    let pid = sys.arg_i32(0);
    let task = if pid == 0 { sys.task.clone() } else { sys.task.system.task(pid).ok_or(Errno::ESRCH)? };
    let mm = sys.mm();
    mm.write(sys.arg(1), &task.robust_list.load(Ordering::Relaxed))?;
    mm.write(sys.arg(2), &ROBUST_LIST_HEAD_SIZE)?;
    Ok(0)
}

/// Restartable sequences are not provided (as on a kernel built without
/// CONFIG_RSEQ); glibc falls back when it sees ENOSYS.
fn sys_rseq(_sys: &mut Sys) -> KResult<u64> {
    Err(Errno::ENOSYS)
}

fn sys_arch_prctl(sys: &mut Sys) -> KResult<u64> {
    let (code, addr) = (sys.arg_u32(0), sys.arg(1));
    match code {
        ARCH_SET_FS | ARCH_SET_GS => {
            if addr >= crate::mm::TASK_SIZE {
                return Err(Errno::EPERM);
            }
            if code == ARCH_SET_FS {
                sys.regs.fs_base = addr;
            } else {
                sys.regs.gs_base = addr;
            }
            Ok(0)
        }
        ARCH_GET_FS => {
            sys.mm().write(addr, &sys.regs.fs_base)?;
            Ok(0)
        }
        ARCH_GET_GS => {
            sys.mm().write(addr, &sys.regs.gs_base)?;
            Ok(0)
        }
        // CPUID faulting is not offered: cpuid always works.
        ARCH_GET_CPUID => Ok(1),
        ARCH_SET_CPUID => Err(Errno::ENODEV),
        _ => Err(Errno::EINVAL),
    }
}

fn sys_prctl(sys: &mut Sys) -> KResult<u64> {
    let option = sys.arg_u32(0);
    let arg2 = sys.arg(1);
    let task = sys.task;
    if let Some(result) = crate::syscall::creds::capability_prctl(sys, option, [arg2, sys.arg(2), sys.arg(3), sys.arg(4)]) {
        return result;
    }
    match option {
        PR_SET_NAME => {
            let mut name = [0u8; 16];
            // Linux copies 16 bytes (faulting as a whole) and terminates at 15.
            sys.mm().read_bytes_into(arg2, &mut name[..16]).or_else(|_| {
                // A string near the end of a mapping may be shorter than 16 bytes.
                let s = sys.mm().read_cstring(arg2, 15).map_err(|_| Errno::EFAULT)?;
                name = [0; 16];
                name[..s.len()].copy_from_slice(&s);
                Ok::<(), Errno>(())
            })?;
            let len = name.iter().position(|&c| c == 0).unwrap_or(15).min(15);
            task.set_comm(&name[..len]);
            Ok(0)
        }
        PR_GET_NAME => {
            let mut name = [0u8; 16];
            let comm = task.comm();
            name[..comm.len()].copy_from_slice(&comm);
            sys.mm().write_bytes(arg2, &name)?;
            Ok(0)
        }
        PR_GET_DUMPABLE => Ok(task.process.limits.dumpable.load(Ordering::Relaxed) as u64),
        PR_SET_DUMPABLE => {
            if arg2 > 1 {
                return Err(Errno::EINVAL);
            }
            task.process.limits.dumpable.store(arg2 == 1, Ordering::Relaxed);
            Ok(0)
        }
        PR_GET_SECCOMP => Ok(0),
        PR_GET_NO_NEW_PRIVS => Ok(task.no_new_privs.load(Ordering::Relaxed) as u64),
        PR_SET_NO_NEW_PRIVS => {
            if arg2 != 1 || sys.arg(2) != 0 || sys.arg(3) != 0 || sys.arg(4) != 0 {
                return Err(Errno::EINVAL);
            }
            task.no_new_privs.store(true, Ordering::Relaxed);
            Ok(0)
        }
        PR_SET_PDEATHSIG => {
            if arg2 > 64 {
                return Err(Errno::EINVAL);
            }
            task.pdeath_signal.store(arg2 as i32, Ordering::Relaxed);
            Ok(0)
        }
        PR_GET_PDEATHSIG => {
            sys.mm().write(arg2, &task.pdeath_signal.load(Ordering::Relaxed))?;
            Ok(0)
        }
        PR_GET_TID_ADDRESS => {
            sys.mm().write(arg2, &task.clear_child_tid.load(Ordering::Relaxed))?;
            Ok(0)
        }
        PR_SET_CHILD_SUBREAPER => {
            task.process.child_subreaper.store(arg2 != 0, Ordering::Relaxed);
            Ok(0)
        }
        PR_GET_CHILD_SUBREAPER => {
            sys.mm().write(arg2, &(task.process.child_subreaper.load(Ordering::Relaxed) as i32))?;
            Ok(0)
        }
        PR_GET_THP_DISABLE => Ok(0),
        PR_SET_THP_DISABLE => Ok(0),
        _ => Err(Errno::EINVAL),
    }
}
