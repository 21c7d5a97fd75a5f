//! Time system calls: clocks, gettimeofday, time, sleeps.

use std::time::{Duration, Instant};

use crate::sched::wait;
use crate::task::process::RealTimer;

use crate::abi::signal::{SIGALRM, SIGPROF, SIGVTALRM};
use crate::abi::time::{
    CLOCK_BOOTTIME, CLOCK_BOOTTIME_ALARM, CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE, CLOCK_MONOTONIC_RAW, CLOCK_PROCESS_CPUTIME_ID, CLOCK_REALTIME,
    CLOCK_REALTIME_ALARM, CLOCK_REALTIME_COARSE, CLOCK_TAI, CLOCK_THREAD_CPUTIME_ID, ITIMER_PROF, ITIMER_REAL, ITIMER_VIRTUAL, TIMER_ABSTIME,
};
use crate::abi::{Errno, Itimerval, KResult, Timespec, Timeval, Timezone};
use crate::syscall::{Sys, SyscallDef};
use crate::syscalls;

pub const SYSCALLS: &[SyscallDef] = syscalls![
    __NR_clock_gettime => sys_clock_gettime,
    __NR_clock_getres => sys_clock_getres,
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
    Ok(match id {
        CLOCK_REALTIME | CLOCK_REALTIME_COARSE | CLOCK_REALTIME_ALARM => crate::sched::clock::realtime_ns(),
        // TAI is 37 s ahead of UTC (with the host's default tai offset of 0,
        // Linux reports TAI == REALTIME; match that).
        CLOCK_TAI => crate::sched::clock::realtime_ns(),
        CLOCK_MONOTONIC | CLOCK_MONOTONIC_RAW | CLOCK_MONOTONIC_COARSE | CLOCK_BOOTTIME | CLOCK_BOOTTIME_ALARM => crate::sched::clock::monotonic_ns() as i128,
        CLOCK_PROCESS_CPUTIME_ID | CLOCK_THREAD_CPUTIME_ID => {
            let (u, s) = crate::task::cpu_times(sys.task);
            (u + s) as i128
        }
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
    clock_now(sys, id)?;
    let res = match id {
        // Coarse clocks tick at HZ (250 on common configs: 4 ms).
        CLOCK_REALTIME_COARSE | CLOCK_MONOTONIC_COARSE => 4_000_000,
        _ => 1,
    };
    if sys.arg(1) != 0 {
        sys.mm().write(sys.arg(1), &Timespec { tv_sec: 0, tv_nsec: res })?;
    }
    Ok(0)
}

fn sys_gettimeofday(sys: &mut Sys) -> KResult<u64> {
    let now = crate::sched::clock::realtime_ns();
    let mm = sys.mm();
    if sys.arg(0) != 0 {
        let tv = Timeval { tv_sec: now.div_euclid(1_000_000_000) as i64, tv_usec: (now.rem_euclid(1_000_000_000) / 1000) as i64 };
        mm.write(sys.arg(0), &tv)?;
    }
    if sys.arg(1) != 0 {
        mm.write(sys.arg(1), &Timezone::default())?;
    }
    Ok(0)
}

fn sys_time(sys: &mut Sys) -> KResult<u64> {
    let secs = crate::sched::clock::realtime_ns().div_euclid(1_000_000_000) as i64;
    if sys.arg(0) != 0 {
        sys.mm().write(sys.arg(0), &secs)?;
    }
    Ok(secs as u64)
}

fn read_timespec(sys: &Sys, addr: u64) -> KResult<Timespec> {
    let ts: Timespec = sys.mm().read(addr)?;
    if ts.tv_sec < 0 || !(0..1_000_000_000).contains(&ts.tv_nsec) {
        return Err(Errno::EINVAL);
    }
    Ok(ts)
}

/// Sleeps until `deadline`. When a signal interrupts, the remaining time
/// goes to `rem_addr` (if any) and the call is set up for restart_syscall,
/// as Linux does with ERESTART_RESTARTBLOCK: a handler turns it into EINTR,
/// a stop and SIGCONT resume the same sleep.
fn relative_sleep(sys: &Sys, clock: i32, deadline: Instant, rem_addr: u64) -> KResult<u64> {
    match wait::sleep_until(deadline) {
        Ok(()) => Ok(0),
        Err(Errno::ERESTARTSYS) => {
            if rem_addr != 0 {
                let left = deadline.saturating_duration_since(Instant::now());
                let rem = Timespec { tv_sec: left.as_secs() as i64, tv_nsec: left.subsec_nanos() as i64 };
                sys.mm().write(rem_addr, &rem)?;
            }
            *sys.task.restart_deadline.lock() = Some((clock, deadline, rem_addr));
            Err(Errno::ERESTART_RESTARTBLOCK)
        }
        Err(e) => Err(e),
    }
}

fn sys_nanosleep(sys: &mut Sys) -> KResult<u64> {
    let ts = read_timespec(sys, sys.arg(0))?;
    let deadline = Instant::now() + Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32);
    relative_sleep(sys, CLOCK_MONOTONIC, deadline, sys.arg(1))
}

/// restart_syscall(2): resumes an interrupted relative sleep.
fn sys_restart_syscall(sys: &mut Sys) -> KResult<u64> {
    let saved = sys.task.restart_deadline.lock().take();
    match saved {
        Some((clock, deadline, rem)) => relative_sleep(sys, clock, deadline, rem),
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
        _ => {
            clock_now(sys, id)?;
            return Err(Errno::EOPNOTSUPP);
        }
    }
    let ts = read_timespec(sys, req)?;
    let want = ts.tv_sec as i128 * 1_000_000_000 + ts.tv_nsec as i128;
    if flags & TIMER_ABSTIME != 0 {
        // Sleep until the clock reaches `want`, re-reading it; an
        // absolute sleep simply restarts after a signal (ERESTARTNOHAND).
        loop {
            let left = want - clock_now(sys, id)?;
            if left <= 0 {
                return Ok(0);
            }
            match wait::sleep_until(Instant::now() + Duration::from_nanos(left.min(u64::MAX as i128) as u64)) {
                Ok(()) => {}
                Err(Errno::ERESTARTSYS) => return Err(Errno::ERESTARTNOHAND),
                Err(e) => return Err(e),
            }
        }
    }
    let deadline = Instant::now() + Duration::from_nanos(want.min(u64::MAX as i128) as u64);
    relative_sleep(sys, id, deadline, rem)
}

fn to_timeval(d: Duration) -> Timeval {
    Timeval { tv_sec: d.as_secs() as i64, tv_usec: d.subsec_micros() as i64 }
}

fn from_timeval(tv: &Timeval) -> KResult<Duration> {
    if tv.tv_sec < 0 || !(0..1_000_000).contains(&tv.tv_usec) {
        return Err(Errno::EINVAL);
    }
    Ok(Duration::new(tv.tv_sec as u64, tv.tv_usec as u32 * 1000))
}

/// The current ITIMER_REAL setting (value left, interval).
fn real_timer_value(sys: &Sys) -> Itimerval {
    let t = sys.task.process.real_timer.lock();
    match t.as_ref() {
        Some(timer) => {
            let left = timer.deadline.saturating_duration_since(Instant::now());
            // An armed timer never reports zero left (Linux rounds up).
            let left = if left.is_zero() { Duration::from_micros(1) } else { left };
            Itimerval { it_interval: to_timeval(timer.interval), it_value: to_timeval(left) }
        }
        None => Itimerval::default(),
    }
}

/// Arms (or with a zero value disarms) ITIMER_REAL: SIGALRM at expiry,
/// then every `interval`.
fn set_real_timer(sys: &Sys, value: Duration, interval: Duration) {
    let process = sys.task.process.clone();
    let timers = crate::sched::timer::timers().clone();
    let mut slot = process.real_timer.lock();
    if let Some(old) = slot.take() {
        timers.cancel(old.id);
    }
    if value.is_zero() {
        return;
    }
    let deadline = Instant::now() + value;
    let id = arm(&timers, &process, deadline, interval);
    *slot = Some(RealTimer { id, deadline, interval });
}

fn arm(
    timers: &std::sync::Arc<crate::sched::timer::Timers>,
    process: &std::sync::Arc<crate::task::process::Process>,
    deadline: Instant,
    interval: Duration,
) -> crate::sched::timer::TimerId {
    let weak = std::sync::Arc::downgrade(process);
    let t2 = timers.clone();
    timers.schedule(deadline, move || {
        let Some(process) = weak.upgrade() else { return };
        if let Some(leader) = process.leader() {
            crate::signal::send_to_process(&leader, crate::signal::SigInfo::kernel(SIGALRM));
        }
        let mut slot = process.real_timer.lock();
        if interval.is_zero() {
            *slot = None;
        } else {
            let next = deadline + interval;
            let id = arm(&t2, &process, next, interval);
            *slot = Some(RealTimer { id, deadline: next, interval });
        }
    })
}

/// CPU time a CPU itimer counts: user for VIRTUAL, user+system for PROF.
fn process_cpu(task: &crate::task::Task, which: i32) -> u64 {
    let (user, system) = crate::task::cpu_times(task);
    if which == ITIMER_VIRTUAL { user } else { user + system }
}

fn cpu_timer_value(sys: &Sys, which: i32) -> Itimerval {
    let slot = sys.task.process.cpu_timers.lock()[(which - 1) as usize];
    match slot {
        Some(t) => {
            let left = t.expires_ns.saturating_sub(process_cpu(sys.task, which)).max(1000);
            Itimerval { it_interval: to_timeval(Duration::from_nanos(t.interval_ns)), it_value: to_timeval(Duration::from_nanos(left)) }
        }
        None => Itimerval::default(),
    }
}

/// Granularity of the CPU-time timers (Linux's are tick based too).
const CPU_TIMER_SAMPLE: Duration = Duration::from_millis(4);

fn set_cpu_timer(sys: &Sys, which: i32, value: Duration, interval: Duration) {
    let process = sys.task.process.clone();
    {
        let mut timers = process.cpu_timers.lock();
        timers[(which - 1) as usize] = (!value.is_zero()).then(|| crate::task::process::CpuTimer {
            expires_ns: process_cpu(sys.task, which) + value.as_nanos() as u64,
            interval_ns: interval.as_nanos() as u64,
        });
    }
    if !value.is_zero() && !process.cpu_timer_sampling.swap(true, std::sync::atomic::Ordering::Relaxed) {
        sample_cpu_timers(crate::sched::timer::timers().clone(), std::sync::Arc::downgrade(&process));
    }
}

/// Checks the CPU timers of a process every few milliseconds while any is
/// armed, sending SIGVTALRM / SIGPROF when they expire.
fn sample_cpu_timers(timers: std::sync::Arc<crate::sched::timer::Timers>, process: std::sync::Weak<crate::task::process::Process>) {
    let t2 = timers.clone();
    timers.schedule(Instant::now() + CPU_TIMER_SAMPLE, move || {
        let Some(p) = process.upgrade() else { return };
        let Some(leader) = p.leader() else { return };
        let mut armed = false;
        for (i, sig) in [(0usize, SIGVTALRM), (1, SIGPROF)] {
            let now = process_cpu(&leader, i as i32 + 1);
            let fire = {
                let mut slots = p.cpu_timers.lock();
                match slots[i] {
                    Some(t) if now >= t.expires_ns => {
                        slots[i] = (t.interval_ns > 0).then_some(crate::task::process::CpuTimer { expires_ns: now + t.interval_ns, ..t });
                        true
                    }
                    _ => false,
                }
            };
            if fire {
                crate::signal::send_to_process(&leader, crate::signal::SigInfo::kernel(sig));
            }
            armed |= p.cpu_timers.lock()[i].is_some();
        }
        if armed {
            sample_cpu_timers(t2, process);
        } else {
            p.cpu_timer_sampling.store(false, std::sync::atomic::Ordering::Relaxed);
        }
    });
}

fn sys_getitimer(sys: &mut Sys) -> KResult<u64> {
    let which = sys.arg_i32(0);
    let value = match which {
        ITIMER_REAL => real_timer_value(sys),
        ITIMER_VIRTUAL | ITIMER_PROF => cpu_timer_value(sys, which),
        _ => return Err(Errno::EINVAL),
    };
    sys.mm().write(sys.arg(1), &value)?;
    Ok(0)
}

fn sys_setitimer(sys: &mut Sys) -> KResult<u64> {
    let (which, new_addr, old_addr) = (sys.arg_i32(0), sys.arg(1), sys.arg(2));
    if !matches!(which, ITIMER_REAL | ITIMER_VIRTUAL | ITIMER_PROF) {
        return Err(Errno::EINVAL);
    }
    let new: Itimerval = if new_addr != 0 { sys.mm().read(new_addr)? } else { Itimerval::default() };
    let value = from_timeval(&new.it_value)?;
    let interval = from_timeval(&new.it_interval)?;
    let old = if which == ITIMER_REAL { real_timer_value(sys) } else { cpu_timer_value(sys, which) };
    if which == ITIMER_REAL {
        set_real_timer(sys, value, interval);
    } else {
        set_cpu_timer(sys, which, value, interval);
    }
    if old_addr != 0 {
        sys.mm().write(old_addr, &old)?;
    }
    Ok(0)
}

fn sys_alarm(sys: &mut Sys) -> KResult<u64> {
    let secs = sys.arg_u32(0);
    let old = real_timer_value(sys);
    set_real_timer(sys, Duration::from_secs(secs as u64), Duration::ZERO);
    // Whole seconds left, rounded to nearest (at least 1 if armed).
    let left = old.it_value.tv_sec as u64 + if old.it_value.tv_usec >= 500_000 { 1 } else { 0 };
    Ok(if left == 0 && (old.it_value.tv_sec != 0 || old.it_value.tv_usec != 0) { 1 } else { left })
}
