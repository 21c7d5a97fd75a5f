//! POSIX timer system calls: timer_create, timer_settime, timer_gettime,
//! timer_getoverrun, timer_delete (Linux's kernel/time/posix-timers.c), in
//! Linux's order of checks; task::posix_timer keeps the timers.

use crate::abi::event::{SIGEV_NONE, SIGEV_SIGNAL, SIGEV_THREAD, SIGEV_THREAD_ID, Sigevent};
use crate::abi::signal::{NSIG, SIGALRM};
use crate::abi::time::TIMER_ABSTIME;
use crate::abi::{Errno, KResult};
use crate::syscall::args::put;
use crate::syscall::event::{itimerspec_ns, read_itimerspec, to_itimerspec};
use crate::syscall::{Sys, SyscallDef};
use crate::syscalls;
use crate::task::cpu_clock;
use crate::task::posix_timer::{self, ClockKind, Notify, TimerClock};

pub const SYSCALLS: &[SyscallDef] = syscalls![
    __NR_timer_create => sys_timer_create,
    __NR_timer_settime => sys_timer_settime,
    __NR_timer_gettime => sys_timer_gettime,
    __NR_timer_getoverrun => sys_timer_getoverrun,
    __NR_timer_delete => sys_timer_delete,
];

/// Linux's good_sigevent: how the timer notifies, EINVAL for a bad kind,
/// a signal out of range, or a thread outside the caller's group.
fn notify_of(sys: &Sys, ev: &Sigevent) -> KResult<Notify> {
    let signal_ok = (1..=NSIG as i32).contains(&ev.sigev_signo);
    match ev.sigev_notify {
        SIGEV_NONE => Ok(Notify::None),
        SIGEV_SIGNAL | SIGEV_THREAD if signal_ok => Ok(Notify::Process { signo: ev.sigev_signo, value: ev.sigev_value }),
        SIGEV_THREAD_ID => {
            let task = sys.task.system.task(ev.sigev_notify_thread_id).filter(|t| t.tgid == sys.task.tgid).ok_or(Errno::EINVAL)?;
            if !signal_ok {
                return Err(Errno::EINVAL);
            }
            Ok(Notify::Thread { signo: ev.sigev_signo, value: ev.sigev_value, task: std::sync::Arc::downgrade(&task) })
        }
        _ => Err(Errno::EINVAL),
    }
}

fn sys_timer_create(sys: &mut Sys) -> KResult<u64> {
    let (clockid, ev_addr, id_addr) = (sys.arg_i32(0), sys.arg(1), sys.arg(2));
    let event: Option<Sigevent> = if ev_addr != 0 { Some(sys.mm().read(ev_addr)?) } else { None };
    let kind = posix_timer::clock_kind(clockid)?;
    let id = posix_timer::reserve_id(&sys.task.process)?;
    let notify = match &event {
        Some(ev) => notify_of(sys, ev)?,
        // No sigevent: SIGALRM to the process, carrying the timer id.
        None => Notify::Process { signo: SIGALRM, value: id as u64 },
    };
    put(sys, id_addr, &id)?;
    let clock = match kind {
        ClockKind::Realtime => TimerClock::Realtime,
        ClockKind::Monotonic => TimerClock::Monotonic,
        ClockKind::Cpu => TimerClock::Cpu(cpu_clock::decode(sys.task, clockid, false)?),
    };
    posix_timer::create(sys.task, id, clock, notify);
    Ok(0)
}

fn sys_timer_settime(sys: &mut Sys) -> KResult<u64> {
    let (id, flags, new_addr, old_addr) = (sys.arg_i32(0), sys.arg_u32(1), sys.arg(2), sys.arg(3));
    if new_addr == 0 {
        return Err(Errno::EINVAL);
    }
    let new = read_itimerspec(sys, new_addr)?;
    let (value, interval) = itimerspec_ns(&new)?;
    let timer = posix_timer::get(&sys.task.process, id)?;
    let old = timer.set(flags & TIMER_ABSTIME != 0, value, interval);
    if old_addr != 0 {
        put(sys, old_addr, &to_itimerspec(old))?;
    }
    Ok(0)
}

fn sys_timer_gettime(sys: &mut Sys) -> KResult<u64> {
    let timer = posix_timer::get(&sys.task.process, sys.arg_i32(0))?;
    put(sys, sys.arg(1), &to_itimerspec(timer.get()))?;
    Ok(0)
}

fn sys_timer_getoverrun(sys: &mut Sys) -> KResult<u64> {
    let timer = posix_timer::get(&sys.task.process, sys.arg_i32(0))?;
    Ok(timer.overrun() as u64)
}

fn sys_timer_delete(sys: &mut Sys) -> KResult<u64> {
    posix_timer::delete(&sys.task.process, sys.arg_i32(0))?;
    Ok(0)
}
