//! Time system calls: clocks, gettimeofday, time, sleeps.

use crate::sched::time::{Deadline, KTIME_MAX, ns_to_timespec, ns_to_timeval, timespec_ns, timeval_ns};
use crate::sched::vclock::{self, Clock};
use crate::sched::wait;
use crate::task::{RestartBlock, cpu_clock, itimer};

use crate::abi::time::{
    CLOCK_BOOTTIME, CLOCK_BOOTTIME_ALARM, CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE, CLOCK_PROCESS_CPUTIME_ID, CLOCK_REALTIME, CLOCK_REALTIME_ALARM,
    CLOCK_REALTIME_COARSE, CLOCK_TAI, CLOCK_THREAD_CPUTIME_ID, ITIMER_PROF, ITIMER_REAL, ITIMER_VIRTUAL, TIMER_ABSTIME,
};
use crate::abi::{Errno, Itimerval, KResult, Timespec, Timeval, Timezone};
use crate::syscall::{Sys, SyscallDef};
use crate::syscalls;

pub const SYSCALLS: &[SyscallDef] = syscalls![
    __NR_clock_gettime => sys_clock_gettime,
    __NR_clock_getres => sys_clock_getres,
    __NR_clock_settime => sys_clock_settime,
    __NR_settimeofday => sys_settimeofday,
    __NR_gettimeofday => sys_gettimeofday,
    __NR_time => sys_time,
    __NR_nanosleep => sys_nanosleep,
    __NR_clock_nanosleep => sys_clock_nanosleep,
    __NR_restart_syscall => sys_restart_syscall,
    __NR_getitimer => sys_getitimer,
    __NR_setitimer => sys_setitimer,
    __NR_alarm => sys_alarm,
];

/// The guest's clock `id` now, in nanoseconds.
fn clock_now(sys: &Sys, id: i32) -> KResult<i128> {
    // The clocks the vDSO answers are read exactly as it reads them.
    if let Some(clock) = Clock::from_id(id) {
        return Ok(vclock::now_ns(clock));
    }
    Ok(match id {
        CLOCK_REALTIME_ALARM => crate::sched::clock::realtime_ns(),
        CLOCK_BOOTTIME_ALARM => crate::sched::clock::monotonic_ns() as i128,
        // The CPU clocks, fixed and dynamic (clock_getcpuclockid,
        // pthread_getcpuclockid).
        id if cpu_clock::is_cpu_clock(id) => cpu_clock::decode(sys.task, id, true)?.now_ns() as i128,
        _ => return Err(Errno::EINVAL),
    })
}

fn to_timespec(ns: i128) -> Timespec {
    Timespec { tv_sec: ns.div_euclid(1_000_000_000) as i64, tv_nsec: ns.rem_euclid(1_000_000_000) as i64 }
}

fn sys_clock_gettime(sys: &mut Sys) -> KResult<u64> {
    let now = clock_now(sys, sys.arg_i32(0))?;
    sys.mm().write(sys.arg(1), &to_timespec(now))?;
    Ok(0)
}

fn sys_clock_getres(sys: &mut Sys) -> KResult<u64> {
    let id = sys.arg_i32(0);
    let res = match id {
        id if cpu_clock::is_cpu_clock(id) => cpu_clock::decode(sys.task, id, false)?.resolution_ns(),
        // Coarse clocks tick at the host's HZ (the vDSO says the same).
        CLOCK_REALTIME_COARSE | CLOCK_MONOTONIC_COARSE => vclock::coarse_tick_ns() as i64,
        _ => {
            clock_now(sys, id)?;
            vclock::HRES_NS as i64
        }
    };
    if sys.arg(1) != 0 {
        sys.mm().write(sys.arg(1), &Timespec { tv_sec: 0, tv_nsec: res })?;
    }
    Ok(0)
}

/// Linux's timespec64_valid_settod: a valid time no later than 30 years
/// before KTIME_MAX.
fn valid_settod(ts: &Timespec) -> bool {
    const TIME_SETTOD_SEC_MAX: i64 = i64::MAX / 1_000_000_000 - 30 * 365 * 86400;
    ts.tv_sec >= 0 && (0..1_000_000_000).contains(&ts.tv_nsec) && ts.tv_sec <= TIME_SETTOD_SEC_MAX
}

/// Linux's do_sys_settimeofday64: the values, then CAP_SYS_TIME, then the
/// guest's wall clock moves (never the host's): absolute realtime sleeps
/// measure again and TFD_TIMER_CANCEL_ON_SET timerfds are cancelled. The
/// timezone is what gettimeofday reports from then on (Linux's sys_tz;
/// its one-time warp of a local-time RTC does not apply: the guest's
/// clock is the host's UTC one).
fn set_time_of_day(sys: &Sys, time: Option<Timespec>, tz: Option<Timezone>) -> KResult<u64> {
    if time.is_some_and(|t| !valid_settod(&t)) {
        return Err(Errno::EINVAL);
    }
    if !sys.task.creds().capable(crate::abi::capability::CAP_SYS_TIME) {
        return Err(Errno::EPERM);
    }
    if tz.is_some_and(|tz| !(-15 * 60..=15 * 60).contains(&tz.tz_minuteswest)) {
        return Err(Errno::EINVAL);
    }
    if let Some(tz) = tz {
        vclock::set_timezone(tz.tz_minuteswest, tz.tz_dsttime);
    }
    if let Some(t) = time {
        let step = crate::sched::clock::set_realtime(t.tv_sec as i128 * 1_000_000_000 + t.tv_nsec as i128);
        crate::fs::anon::timerfd::clock_was_set(step);
        crate::task::posix_timer::clock_was_set(step);
    }
    Ok(0)
}

/// clock_settime: only CLOCK_REALTIME can be set; every other clock is
/// EINVAL before the time is read.
fn sys_clock_settime(sys: &mut Sys) -> KResult<u64> {
    if sys.arg_i32(0) != CLOCK_REALTIME {
        return Err(Errno::EINVAL);
    }
    let ts: Timespec = sys.mm().read(sys.arg(1))?;
    set_time_of_day(sys, Some(ts), None)
}

fn sys_settimeofday(sys: &mut Sys) -> KResult<u64> {
    let (tv_addr, tz_addr) = (sys.arg(0), sys.arg(1));
    let time = if tv_addr != 0 {
        let tv: Timeval = sys.mm().read(tv_addr)?;
        if !(0..1_000_000).contains(&tv.tv_usec) {
            return Err(Errno::EINVAL);
        }
        Some(Timespec { tv_sec: tv.tv_sec, tv_nsec: tv.tv_usec * 1000 })
    } else {
        None
    };
    let tz: Option<Timezone> = if tz_addr != 0 { Some(sys.mm().read(tz_addr)?) } else { None };
    set_time_of_day(sys, time, tz)
}

fn sys_gettimeofday(sys: &mut Sys) -> KResult<u64> {
    let now = crate::sched::clock::realtime_ns();
    let mm = sys.mm();
    if sys.arg(0) != 0 {
        let tv = Timeval { tv_sec: now.div_euclid(1_000_000_000) as i64, tv_usec: (now.rem_euclid(1_000_000_000) / 1000) as i64 };
        mm.write(sys.arg(0), &tv)?;
    }
    if sys.arg(1) != 0 {
        let (tz_minuteswest, tz_dsttime) = vclock::timezone();
        mm.write(sys.arg(1), &Timezone { tz_minuteswest, tz_dsttime })?;
    }
    Ok(0)
}

fn sys_time(sys: &mut Sys) -> KResult<u64> {
    // Linux's time() is the coarse wall clock's seconds (as the vDSO's).
    let secs = vclock::now_ns(Clock::RealtimeCoarse).div_euclid(1_000_000_000) as i64;
    if sys.arg(0) != 0 {
        sys.mm().write(sys.arg(0), &secs)?;
    }
    Ok(secs as u64)
}

/// A guest timespec argument as nanoseconds (EFAULT, EINVAL as Linux;
/// huge values saturate to "forever").
fn read_timespec_ns(sys: &Sys, addr: u64) -> KResult<i64> {
    let ts: Timespec = sys.mm().read(addr)?;
    timespec_ns(&ts)
}

/// Sleeps until `deadline`. When a signal interrupts, the remaining time
/// goes to `rem_addr` (if any) and the call is set up for restart_syscall,
/// as Linux does with ERESTART_RESTARTBLOCK: a handler turns it into EINTR,
/// a stop and SIGCONT resume the same sleep.
fn relative_sleep(sys: &Sys, deadline: Deadline, rem_addr: u64) -> KResult<u64> {
    match wait::sleep_until(deadline.instant()) {
        Ok(()) => Ok(0),
        Err(Errno::ERESTARTSYS) => {
            if rem_addr != 0 {
                sys.mm().write(rem_addr, &ns_to_timespec(deadline.remaining_ns()))?;
            }
            *sys.task.restart_block.lock() = Some(RestartBlock::Sleep { deadline, rem_addr });
            Err(Errno::ERESTART_RESTARTBLOCK)
        }
        Err(e) => Err(e),
    }
}

fn sys_nanosleep(sys: &mut Sys) -> KResult<u64> {
    let ns = read_timespec_ns(sys, sys.arg(0))?;
    relative_sleep(sys, Deadline::after_ns(ns), sys.arg(1))
}

/// restart_syscall(2): resumes the call the restart block describes.
fn sys_restart_syscall(sys: &mut Sys) -> KResult<u64> {
    let saved = sys.task.restart_block.lock().take();
    match saved {
        Some(RestartBlock::Sleep { deadline, rem_addr }) => relative_sleep(sys, deadline, rem_addr),
        Some(RestartBlock::FutexWait { uaddr, val, bitset, deadline, realtime, private }) => {
            crate::syscall::futex::restart_wait(sys, uaddr, val, bitset, deadline, realtime, private)
        }
        Some(RestartBlock::Poll { fds, nfds, deadline }) => crate::syscall::poll::restart_poll(sys, fds, nfds, deadline),
        // Nothing to restart: Linux's default restart block gives EINTR.
        None => Err(Errno::EINTR),
    }
}

fn sys_clock_nanosleep(sys: &mut Sys) -> KResult<u64> {
    let (id, flags, req, rem) = (sys.arg_i32(0), sys.arg_u32(1), sys.arg(2), sys.arg(3));
    match id {
        CLOCK_REALTIME | CLOCK_MONOTONIC | CLOCK_BOOTTIME | CLOCK_TAI | CLOCK_PROCESS_CPUTIME_ID => {}
        // Linux: sleeping on the calling thread's own CPU clock is EINVAL in
        // the kernel, but glibc answers EOPNOTSUPP before asking.
        CLOCK_THREAD_CPUTIME_ID => return Err(Errno::EOPNOTSUPP),
        // A dynamic CPU clock: the caller's own thread clock is EINVAL
        // (posix_cpu_nsleep); another clock sleeps as the process clock does.
        id if cpu_clock::is_cpu_clock(id) => {
            if cpu_clock::decode(sys.task, id, false)?.own_thread {
                return Err(Errno::EINVAL);
            }
        }
        _ => {
            clock_now(sys, id)?;
            return Err(Errno::EOPNOTSUPP);
        }
    }
    let want = read_timespec_ns(sys, req)?;
    if flags & TIMER_ABSTIME != 0 {
        // Sleep until the clock reaches `want`, re-reading it; an
        // absolute sleep simply restarts after a signal (ERESTARTNOHAND).
        loop {
            let sets = crate::sched::clock::realtime_sets();
            let left = (want as i128 - clock_now(sys, id)?).clamp(0, KTIME_MAX as i128) as i64;
            if left == 0 {
                return Ok(0);
            }
            // A realtime clock set meanwhile ends the sleep early (the
            // queue wakes it) so that the time left is measured again.
            let set = crate::sched::clock::realtime_set_queue();
            let queues: &[&wait::WaitQueue] = if matches!(id, CLOCK_REALTIME | CLOCK_TAI) { &[set] } else { &[] };
            match wait::wait_any(queues, Deadline::after_ns(left).instant(), || Ok((crate::sched::clock::realtime_sets() != sets).then_some(()))) {
                Ok(()) | Err(Errno::ETIMEDOUT) => {}
                Err(Errno::ERESTARTSYS) => return Err(Errno::ERESTARTNOHAND),
                Err(e) => return Err(e),
            }
        }
    }
    relative_sleep(sys, Deadline::after_ns(want), rem)
}

/// An itimerval in nanoseconds (EINVAL for a negative or >= 1e6 tv_usec,
/// or a negative tv_sec, as Linux's timeval_valid).
fn itimerval_ns(it: &Itimerval) -> KResult<(i64, i64)> {
    Ok((timeval_ns(&it.it_value)?, timeval_ns(&it.it_interval)?))
}

fn itimer_value(sys: &Sys, which: i32) -> Itimerval {
    let (value, interval) = if which == ITIMER_REAL { itimer::real_timer(&sys.task.process) } else { itimer::cpu_timer(sys.task, which) };
    Itimerval { it_interval: ns_to_timeval(interval), it_value: ns_to_timeval(value) }
}

fn sys_getitimer(sys: &mut Sys) -> KResult<u64> {
    let which = sys.arg_i32(0);
    if !matches!(which, ITIMER_REAL | ITIMER_VIRTUAL | ITIMER_PROF) {
        return Err(Errno::EINVAL);
    }
    let value = itimer_value(sys, which);
    sys.mm().write(sys.arg(1), &value)?;
    Ok(0)
}

fn sys_setitimer(sys: &mut Sys) -> KResult<u64> {
    let (which, new_addr, old_addr) = (sys.arg_i32(0), sys.arg(1), sys.arg(2));
    if !matches!(which, ITIMER_REAL | ITIMER_VIRTUAL | ITIMER_PROF) {
        return Err(Errno::EINVAL);
    }
    let new: Itimerval = if new_addr != 0 { sys.mm().read(new_addr)? } else { Itimerval::default() };
    let (value, interval) = itimerval_ns(&new)?;
    let old = itimer_value(sys, which);
    if which == ITIMER_REAL {
        itimer::set_real_timer(&sys.task.process, value, interval);
    } else {
        itimer::set_cpu_timer(sys.task, which, value, interval);
    }
    if old_addr != 0 {
        sys.mm().write(old_addr, &old)?;
    }
    Ok(0)
}

fn sys_alarm(sys: &mut Sys) -> KResult<u64> {
    let secs = sys.arg_u32(0);
    let old = itimer_value(sys, ITIMER_REAL);
    itimer::set_real_timer(&sys.task.process, secs as i64 * 1_000_000_000, 0);
    // Whole seconds left, rounded to nearest (at least 1 if armed).
    let left = old.it_value.tv_sec as u64 + if old.it_value.tv_usec >= 500_000 { 1 } else { 0 };
    Ok(if left == 0 && (old.it_value.tv_sec != 0 || old.it_value.tv_usec != 0) { 1 } else { left })
}
