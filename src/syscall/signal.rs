//! Signal system calls. Dispositions, masks and the alternate stack are
//! recorded exactly; delivery to handlers comes with the process work, so
//! for now a signal sent to oneself takes its default action or is ignored,
//! and one with a handler is refused with ENOSYS rather than faked.

use crate::abi::{Errno, KResult, KSigaction, Sigaltstack};
use crate::signal::*;
use crate::syscall::{Exit, Sys, SyscallDef};
use crate::syscalls;

pub const SYSCALLS: &[SyscallDef] = syscalls![
    __NR_rt_sigaction => sys_rt_sigaction,
    __NR_rt_sigprocmask => sys_rt_sigprocmask,
    __NR_sigaltstack => sys_sigaltstack,
    __NR_rt_sigpending => sys_rt_sigpending,
    __NR_kill => sys_kill,
    __NR_tkill => sys_tkill,
    __NR_tgkill => sys_tgkill,
];

const SIG_BLOCK: i32 = 0;
const SIG_UNBLOCK: i32 = 1;
const SIG_SETMASK: i32 = 2;
const SIGSET_SIZE: u64 = 8;

fn valid_signal(sig: i32) -> KResult<usize> {
    if (1..=NSIG as i32).contains(&sig) { Ok(sig as usize - 1) } else { Err(Errno::EINVAL) }
}

fn sys_rt_sigaction(sys: &mut Sys) -> KResult<u64> {
    let (sig, act_addr, old_addr, size) = (sys.arg_i32(0), sys.arg(1), sys.arg(2), sys.arg(3));
    if size != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let idx = valid_signal(sig)?;
    let mm = sys.mm();
    let new: Option<KSigaction> = if act_addr != 0 { Some(mm.read(act_addr)?) } else { None };
    if new.is_some() && (sig == SIGKILL || sig == SIGSTOP) {
        return Err(Errno::EINVAL);
    }
    let old = {
        let mut actions = sys.task.sigactions.lock().unwrap_or_else(|e| e.into_inner());
        let old = actions.actions[idx];
        if let Some(mut a) = new {
            a.mask &= !UNBLOCKABLE;
            actions.actions[idx] = a;
        }
        old
    };
    if old_addr != 0 {
        mm.write(old_addr, &old)?;
    }
    Ok(0)
}

fn sys_rt_sigprocmask(sys: &mut Sys) -> KResult<u64> {
    let (how, set_addr, old_addr, size) = (sys.arg_i32(0), sys.arg(1), sys.arg(2), sys.arg(3));
    if size != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let mm = sys.mm();
    let set: Option<u64> = if set_addr != 0 { Some(mm.read(set_addr)?) } else { None };
    let old = {
        let mut s = sys.task.signals.lock().unwrap_or_else(|e| e.into_inner());
        let old = s.blocked;
        if let Some(set) = set {
            let new = match how {
                SIG_BLOCK => old | set,
                SIG_UNBLOCK => old & !set,
                SIG_SETMASK => set,
                _ => return Err(Errno::EINVAL),
            };
            s.blocked = new & !UNBLOCKABLE;
        }
        old
    };
    if old_addr != 0 {
        mm.write(old_addr, &old)?;
    }
    Ok(0)
}

fn sys_sigaltstack(sys: &mut Sys) -> KResult<u64> {
    let (ss_addr, old_addr) = (sys.arg(0), sys.arg(1));
    let mm = sys.mm();
    let rsp = sys.regs.rsp;
    let mut state = sys.task.signals.lock().unwrap_or_else(|e| e.into_inner());
    let cur = state.altstack;
    let on_stack = cur.ss_size != 0 && rsp.wrapping_sub(cur.ss_sp) < cur.ss_size;
    let mut old = cur;
    old.ss_flags = if on_stack {
        SS_ONSTACK
    } else if cur.ss_size == 0 {
        SS_DISABLE
    } else {
        cur.ss_flags & SS_AUTODISARM
    };
    if ss_addr != 0 {
        let new: Sigaltstack = mm.read(ss_addr)?;
        if on_stack {
            return Err(Errno::EPERM);
        }
        let mode = new.ss_flags & !SS_AUTODISARM;
        if mode != 0 && mode != SS_DISABLE && mode != SS_ONSTACK {
            return Err(Errno::EINVAL);
        }
        if mode == SS_DISABLE {
            state.altstack = Sigaltstack::default();
        } else {
            if new.ss_size < MINSIGSTKSZ {
                return Err(Errno::ENOMEM);
            }
            state.altstack = Sigaltstack { ss_sp: new.ss_sp, ss_flags: new.ss_flags & SS_AUTODISARM, pad: 0, ss_size: new.ss_size };
        }
    }
    drop(state);
    if old_addr != 0 {
        mm.write(old_addr, &old)?;
    }
    Ok(0)
}

/// Signals whose default action is to ignore them.
fn default_ignored(sig: i32) -> bool {
    matches!(sig, 17 | 18 | 23 | 28) // SIGCHLD SIGCONT SIGURG SIGWINCH
}

/// Signals whose default action is to stop.
fn default_stops(sig: i32) -> bool {
    matches!(sig, 19 | 20 | 21 | 22)
}

/// A signal sent by the task to itself (the only target that exists yet).
fn signal_self(sys: &mut Sys, sig: i32) -> KResult<u64> {
    if sig == 0 {
        return Ok(0);
    }
    let idx = valid_signal(sig)?;
    let action = sys.task.sigactions.lock().unwrap_or_else(|e| e.into_inner()).actions[idx];
    let blocked = sys.task.signals.lock().unwrap_or_else(|e| e.into_inner()).blocked & sigbit(sig) != 0;
    // PID 1 ignores signals it has no handler for (init semantics), except
    // that SIGKILL/SIGSTOP from inside are also ignored for init.
    let is_init = sys.task.tgid == 1;
    match action.handler {
        _ if is_init && action.handler == 0 => Ok(0),
        1 => Ok(0),
        0 if default_ignored(sig) => Ok(0),
        0 if default_stops(sig) => Err(Errno::ENOSYS),
        0 if blocked && sig != SIGKILL => Err(Errno::ENOSYS),
        0 => {
            sys.exit = Some(Exit::Signaled(sig));
            Ok(0)
        }
        _ => Err(Errno::ENOSYS),
    }
}

fn target_is_self(sys: &Sys, pid: i32) -> KResult<()> {
    let me = sys.task.tgid;
    if pid == me || pid == 0 || pid == -1 || pid == -me { Ok(()) } else { Err(Errno::ESRCH) }
}

fn sys_kill(sys: &mut Sys) -> KResult<u64> {
    let (pid, sig) = (sys.arg_i32(0), sys.arg_i32(1));
    if sig != 0 {
        valid_signal(sig)?;
    }
    target_is_self(sys, pid)?;
    signal_self(sys, sig)
}

fn sys_tkill(sys: &mut Sys) -> KResult<u64> {
    let (tid, sig) = (sys.arg_i32(0), sys.arg_i32(1));
    if tid <= 0 {
        return Err(Errno::EINVAL);
    }
    if sig != 0 {
        valid_signal(sig)?;
    }
    if tid != sys.task.tid {
        return Err(Errno::ESRCH);
    }
    signal_self(sys, sig)
}

fn sys_tgkill(sys: &mut Sys) -> KResult<u64> {
    let (tgid, tid, sig) = (sys.arg_i32(0), sys.arg_i32(1), sys.arg_i32(2));
    if tgid <= 0 || tid <= 0 {
        return Err(Errno::EINVAL);
    }
    if sig != 0 {
        valid_signal(sig)?;
    }
    if tgid != sys.task.tgid || tid != sys.task.tid {
        return Err(Errno::ESRCH);
    }
    signal_self(sys, sig)
}

/// Nothing is ever left pending yet (signals to oneself act at once), so
/// the pending set is empty.
fn sys_rt_sigpending(sys: &mut Sys) -> KResult<u64> {
    if sys.arg(1) != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    sys.mm().write(sys.arg(0), &0u64)?;
    Ok(0)
}
