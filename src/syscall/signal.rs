//! Signal system calls: dispositions, masks, the alternate stack, sending
//! (kill, tkill, tgkill, sigqueue), waiting (sigsuspend, pause,
//! sigtimedwait) and rt_sigreturn. Delivery itself is in kernel/run.rs.

use crate::abi::signal::{
    MINSIGSTKSZ, SI_TKILL, SIG_BLOCK, SIG_SETMASK, SIG_UNBLOCK, SIGKILL, SIGSEGV, SIGSET_SIZE, SIGSTOP, SS_AUTODISARM, SS_DISABLE, SS_ONSTACK,
};
use crate::abi::{Errno, KResult, KSigaction, Sigaltstack, Timespec};
use crate::sched::time::{Deadline, timespec_ns};
use crate::signal::*;
use crate::syscall::{Sys, SyscallDef};
use crate::syscalls;

pub const SYSCALLS: &[SyscallDef] = syscalls![
    __NR_rt_sigaction => sys_rt_sigaction,
    __NR_rt_sigprocmask => sys_rt_sigprocmask,
    __NR_sigaltstack => sys_sigaltstack,
    __NR_rt_sigpending => sys_rt_sigpending,
    __NR_kill => sys_kill,
    __NR_tkill => sys_tkill,
    __NR_tgkill => sys_tgkill,
    __NR_rt_sigreturn => sys_rt_sigreturn,
    __NR_rt_sigsuspend => sys_rt_sigsuspend,
    __NR_pause => sys_pause,
    __NR_rt_sigtimedwait => sys_rt_sigtimedwait,
    __NR_rt_sigqueueinfo => sys_rt_sigqueueinfo,
    __NR_rt_tgsigqueueinfo => sys_rt_tgsigqueueinfo,
];

fn signal_index(sig: i32) -> KResult<usize> {
    valid_signal(sig)?;
    Ok(sig as usize - 1)
}

fn sys_rt_sigaction(sys: &mut Sys) -> KResult<u64> {
    let (sig, act_addr, old_addr, size) = (sys.arg_i32(0), sys.arg(1), sys.arg(2), sys.arg(3));
    if size != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let idx = signal_index(sig)?;
    let mm = sys.mm();
    let new: Option<KSigaction> = if act_addr != 0 { Some(mm.read(act_addr)?) } else { None };
    if new.is_some() && (sig == SIGKILL || sig == SIGSTOP) {
        return Err(Errno::EINVAL);
    }
    let old = {
        let mut actions = sys.task.sigactions();
        let old = actions.actions[idx];
        if let Some(mut a) = new {
            a.mask &= !UNBLOCKABLE;
            actions.actions[idx] = a;
        }
        // POSIX: setting a pending signal to be ignored discards it.
        if actions.ignores(sig) {
            sys.task.process.discard_pending(sigbit(sig));
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
        let mut s = sys.task.signals.lock();
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
    let mut state = sys.task.signals.lock();
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

fn sys_kill(sys: &mut Sys) -> KResult<u64> {
    let (pid, sig) = (sys.arg_i32(0), sys.arg_i32(1));
    kill(&sys.task.system, sys.task, pid, sig)?;
    Ok(0)
}

/// A signal for one thread (tkill/tgkill): `tgid` < 0 means any process.
fn signal_thread(sys: &Sys, tgid: i32, tid: i32, info: SigInfo) -> KResult<u64> {
    let sig = info.signo();
    if tid <= 0 {
        return Err(Errno::EINVAL);
    }
    if sig != 0 {
        valid_signal(sig)?;
    }
    let target = sys.task.system.task(tid).ok_or(Errno::ESRCH)?;
    if tgid >= 0 && target.tgid != tgid {
        return Err(Errno::ESRCH);
    }
    if !may_signal(&sys.task.creds(), &target, sig) {
        return Err(Errno::EPERM);
    }
    if sig != 0 {
        send_to_task(&target, info);
    }
    Ok(0)
}

fn sys_tkill(sys: &mut Sys) -> KResult<u64> {
    let info = SigInfo::user(sys.arg_i32(1), SI_TKILL, sys.task.tgid, sys.task.creds().uid);
    signal_thread(sys, -1, sys.arg_i32(0), info)
}

fn sys_tgkill(sys: &mut Sys) -> KResult<u64> {
    let tgid = sys.arg_i32(0);
    if tgid <= 0 {
        return Err(Errno::EINVAL);
    }
    let info = SigInfo::user(sys.arg_i32(2), SI_TKILL, sys.task.tgid, sys.task.creds().uid);
    signal_thread(sys, tgid, sys.arg_i32(1), info)
}

/// The pending set as rt_sigpending reports it: pending and blocked.
fn sys_rt_sigpending(sys: &mut Sys) -> KResult<u64> {
    if sys.arg(1) > SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let set = {
        let s = sys.task.signals.lock();
        let shared = sys.task.process.shared_pending.lock().set;
        (s.pending.set | shared) & s.blocked
    };
    sys.mm().write_bytes(sys.arg(0), &set.to_ne_bytes()[..sys.arg(1) as usize])?;
    Ok(0)
}

fn sys_rt_sigreturn(sys: &mut Sys) -> KResult<u64> {
    let mm = sys.mm();
    let restored = match frame::restore(&mm, sys.regs) {
        Ok(r) => r,
        Err(_) => {
            // A frame that cannot be read is fatal (Linux: force SIGSEGV).
            force_on_task(sys.task, SigInfo::kernel(SIGSEGV));
            sys.regs_replaced = true;
            return Ok(0);
        }
    };
    {
        let mut s = sys.task.signals.lock();
        s.blocked = restored.mask;
        // Restore the alternate stack unless we are running on it.
        if !frame::on_altstack(&s.altstack, sys.regs.rsp) {
            let a = restored.altstack;
            if a.ss_flags & SS_DISABLE != 0 || a.ss_size == 0 {
                s.altstack = Sigaltstack::default();
            } else if a.ss_size >= MINSIGSTKSZ {
                s.altstack = Sigaltstack { ss_sp: a.ss_sp, ss_flags: a.ss_flags & SS_AUTODISARM, pad: 0, ss_size: a.ss_size };
            }
        }
    }
    sys.xstate = restored.xstate;
    sys.regs_replaced = true;
    if restored.bad_selector {
        force_on_task(sys.task, SigInfo::kernel(SIGSEGV));
    }
    Ok(0)
}

/// Sleeps until a signal is delivered. Returns ERESTARTNOHAND, which the
/// run loop turns into EINTR once a handler runs (and into a restart if
/// the signal needed no handler).
fn wait_for_signal(_sys: &Sys) -> KResult<u64> {
    // With no condition, the wait ends only when a signal is pending.
    let _ = crate::sched::wait::wait_any::<()>(&[], None, || Ok(None));
    Err(Errno::ERESTARTNOHAND)
}

fn sys_rt_sigsuspend(sys: &mut Sys) -> KResult<u64> {
    if sys.arg(1) != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let mask: u64 = sys.mm().read(sys.arg(0))?;
    {
        let mut s = sys.task.signals.lock();
        s.saved_mask = Some(s.blocked);
        s.blocked = mask & !UNBLOCKABLE;
    }
    wait_for_signal(sys)
}

fn sys_pause(sys: &mut Sys) -> KResult<u64> {
    wait_for_signal(sys)
}

fn sys_rt_sigtimedwait(sys: &mut Sys) -> KResult<u64> {
    let (set_addr, info_addr, timeout_addr, size) = (sys.arg(0), sys.arg(1), sys.arg(2), sys.arg(3));
    if size != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let mm = sys.mm();
    let set: u64 = mm.read(set_addr)?;
    let set = set & !UNBLOCKABLE;
    // No timeout, or one saturated to "forever", waits until a signal.
    let deadline = if timeout_addr != 0 {
        let ts: Timespec = mm.read(timeout_addr)?;
        Deadline::after_ns(timespec_ns(&ts)?).instant()
    } else {
        None
    };
    let task = sys.task;
    let take = || -> Option<SigInfo> {
        let mut s = task.signals.lock();
        s.pending.take(!set).or_else(|| task.process.shared_pending.lock().take(!set))
    };
    // While waiting, the awaited signals are unblocked for wake-up
    // purposes only: they are taken here, never delivered.
    let info = if let Some(i) = take() {
        i
    } else {
        let saved = {
            let mut s = task.signals.lock();
            let saved = s.blocked;
            s.real_blocked = saved;
            s.blocked &= !set;
            saved
        };
        let r = crate::sched::wait::wait_any(&[], deadline, || Ok(take()));
        {
            let mut s = task.signals.lock();
            s.blocked = saved;
            s.real_blocked = 0;
        }
        match r {
            Ok(i) => i,
            Err(Errno::ETIMEDOUT) => return Err(Errno::EAGAIN),
            Err(Errno::ERESTARTSYS) => return Err(Errno::EINTR),
            Err(e) => return Err(e),
        }
    };
    if info_addr != 0 {
        mm.write_bytes(info_addr, &info.bytes)?;
    }
    Ok(info.signo() as u64)
}

/// sigqueue(3): the caller supplies siginfo; a process may not pretend to
/// be the kernel (si_code >= 0) when signalling another process.
fn queued_info(sys: &Sys, sig: i32, target_tgid: i32) -> KResult<SigInfo> {
    let mut info = SigInfo { bytes: [0; 128] };
    sys.mm().read_bytes_into(sys.arg(2), &mut info.bytes)?;
    if (info.code() >= 0 || info.code() == SI_TKILL) && target_tgid != sys.task.tgid {
        return Err(Errno::EPERM);
    }
    info.bytes[0..4].copy_from_slice(&sig.to_ne_bytes());
    Ok(info)
}

fn sys_rt_sigqueueinfo(sys: &mut Sys) -> KResult<u64> {
    let (pid, sig) = (sys.arg_i32(0), sys.arg_i32(1));
    valid_signal(sig)?;
    let info = queued_info(sys, sig, pid)?;
    let target = sys.task.system.process_leader(pid).ok_or(Errno::ESRCH)?;
    if !may_signal(&sys.task.creds(), &target, sig) {
        return Err(Errno::EPERM);
    }
    send_to_process(&target, info);
    Ok(0)
}

fn sys_rt_tgsigqueueinfo(sys: &mut Sys) -> KResult<u64> {
    let (tgid, tid, sig) = (sys.arg_i32(0), sys.arg_i32(1), sys.arg_i32(2));
    valid_signal(sig)?;
    let mut info = SigInfo { bytes: [0; 128] };
    sys.mm().read_bytes_into(sys.arg(3), &mut info.bytes)?;
    if (info.code() >= 0 || info.code() == SI_TKILL) && tgid != sys.task.tgid {
        return Err(Errno::EPERM);
    }
    info.bytes[0..4].copy_from_slice(&sig.to_ne_bytes());
    signal_thread(sys, tgid, tid, info)
}
