//! Interval timers of a process (Linux's kernel/time/itimer.c): ITIMER_REAL
//! (and alarm) on the kernel timer thread, SIGALRM at each expiry;
//! ITIMER_VIRTUAL and ITIMER_PROF against the process's CPU time, sampled
//! every few milliseconds, with RLIMIT_CPU (SIGXCPU at the soft limit and
//! each second past it, SIGKILL at the hard limit). All times are
//! nanoseconds, saturating at
//! KTIME_MAX: a timer armed past that is armed "forever" and never fires,
//! and a huge interval re-arms it for forever, as on Linux.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;

use crate::abi::resource::{RLIM_INFINITY, RLIMIT_CPU};
use crate::abi::signal::{SIGALRM, SIGKILL, SIGPROF, SIGVTALRM, SIGXCPU};
use crate::abi::time::ITIMER_VIRTUAL;
use crate::sched::time::{Deadline, KTIME_MAX};
use crate::sched::timer::{TimerId, timers};
use crate::signal::{SigInfo, send_to_process};
use crate::task::Task;
use crate::task::process::Process;

/// ITIMER_REAL: when it fires next, its period, and the timer-thread entry
/// (none while the deadline is beyond what the host clock can hold).
pub struct RealTimer {
    pub id: Option<TimerId>,
    pub deadline: Deadline,
    pub interval_ns: i64,
}

/// ITIMER_VIRTUAL / ITIMER_PROF: expiry and period in process CPU time.
#[derive(Clone, Copy, Debug, Default)]
pub struct CpuTimer {
    pub expires_ns: u64,
    pub interval_ns: u64,
}

/// (value left, interval) of ITIMER_REAL in nanoseconds; (0, 0) disarmed.
pub fn real_timer(process: &Process) -> (i64, i64) {
    match process.real_timer.lock().as_ref() {
        // An armed timer never reports zero left (Linux rounds up).
        Some(t) => (t.deadline.remaining_ns().max(1), t.interval_ns),
        None => (0, 0),
    }
}

/// Arms ITIMER_REAL (a zero `value_ns` disarms it): SIGALRM after
/// `value_ns`, then every `interval_ns`.
pub fn set_real_timer(process: &Arc<Process>, value_ns: i64, interval_ns: i64) {
    let mut slot = process.real_timer.lock();
    if let Some(old) = slot.take().and_then(|t| t.id) {
        timers().cancel(old);
    }
    if value_ns <= 0 {
        return;
    }
    let deadline = Deadline::after_ns(value_ns);
    let id = arm(process, deadline, interval_ns);
    *slot = Some(RealTimer { id, deadline, interval_ns });
}

/// Cancels ITIMER_REAL (the process exits).
pub fn cancel_real_timer(process: &Process) {
    if let Some(id) = process.real_timer.lock().take().and_then(|t| t.id) {
        timers().cancel(id);
    }
}

fn arm(process: &Arc<Process>, deadline: Deadline, interval_ns: i64) -> Option<TimerId> {
    let at = deadline.instant()?;
    let weak = Arc::downgrade(process);
    Some(timers().schedule(at, move || {
        let Some(process) = weak.upgrade() else { return };
        if let Some(leader) = process.leader() {
            send_to_process(&leader, SigInfo::kernel(SIGALRM));
        }
        let mut slot = process.real_timer.lock();
        if interval_ns <= 0 {
            *slot = None;
        } else {
            let next = deadline.plus_ns(interval_ns);
            let id = arm(&process, next, interval_ns);
            *slot = Some(RealTimer { id, deadline: next, interval_ns });
        }
    }))
}

/// CPU time a CPU itimer counts: user for VIRTUAL, user+system for PROF.
fn process_cpu(task: &Task, which: i32) -> u64 {
    let (user, system) = crate::task::process_cpu_times(task);
    if which == ITIMER_VIRTUAL { user } else { user + system }
}

/// (value left, interval) of ITIMER_VIRTUAL or ITIMER_PROF (`which` 1 or 2).
pub fn cpu_timer(task: &Task, which: i32) -> (i64, i64) {
    let slot = task.process.cpu_timers.lock()[(which - 1) as usize];
    match slot {
        Some(t) => {
            let left = t.expires_ns.saturating_sub(process_cpu(task, which)).max(1000);
            (clamp(left), clamp(t.interval_ns))
        }
        None => (0, 0),
    }
}

fn clamp(ns: u64) -> i64 {
    ns.min(KTIME_MAX as u64) as i64
}

/// Granularity of the CPU-time timers (Linux's are tick based too).
const CPU_TIMER_SAMPLE: Duration = Duration::from_millis(4);

/// Arms (or with a zero value disarms) ITIMER_VIRTUAL or ITIMER_PROF.
pub fn set_cpu_timer(task: &Task, which: i32, value_ns: i64, interval_ns: i64) {
    let process = task.process.clone();
    {
        let mut slots = process.cpu_timers.lock();
        slots[(which - 1) as usize] =
            (value_ns > 0).then(|| CpuTimer { expires_ns: process_cpu(task, which).saturating_add(value_ns as u64), interval_ns: interval_ns.max(0) as u64 });
    }
    if value_ns > 0 && !process.cpu_timer_sampling.swap(true, Ordering::Relaxed) {
        sample_cpu_timers(Arc::downgrade(&process));
    }
}

/// Starts watching the process's CPU time when RLIMIT_CPU is finite (after
/// setrlimit/prlimit, and for a forked child inheriting the limit).
pub fn watch_cpu_limit(task: &Task) {
    let process = &task.process;
    if task.rlimit(RLIMIT_CPU).cur != RLIM_INFINITY && !process.cpu_timer_sampling.swap(true, Ordering::Relaxed) {
        sample_cpu_timers(Arc::downgrade(process));
    }
}

/// Linux's check_process_timers for RLIMIT_CPU: past the hard limit the
/// process is killed; past the soft limit it gets SIGXCPU and the soft
/// limit moves one second on (so SIGXCPU comes once a second). Returns
/// whether a finite limit is still to be watched.
fn check_cpu_limit(leader: &Arc<Task>) -> bool {
    let (user, system) = crate::task::process_cpu_times(leader);
    let secs = (user + system) / 1_000_000_000;
    let signal = {
        let mut limits = leader.rlimits.lock();
        let limit = &mut limits[RLIMIT_CPU];
        if limit.cur == RLIM_INFINITY {
            return false;
        }
        if limit.max != RLIM_INFINITY && secs >= limit.max {
            Some(SIGKILL)
        } else if secs >= limit.cur {
            if limit.cur < limit.max {
                limit.cur += 1;
            }
            Some(SIGXCPU)
        } else {
            None
        }
    };
    if let Some(sig) = signal {
        send_to_process(leader, SigInfo::kernel(sig));
    }
    true
}

/// Checks the CPU timers of a process every few milliseconds while any is
/// armed, sending SIGVTALRM / SIGPROF when they expire.
fn sample_cpu_timers(process: Weak<Process>) {
    timers().schedule(std::time::Instant::now() + CPU_TIMER_SAMPLE, move || {
        let Some(p) = process.upgrade() else { return };
        let Some(leader) = p.leader() else { return };
        let mut armed = false;
        for (i, sig) in [(0usize, SIGVTALRM), (1, SIGPROF)] {
            let now = process_cpu(&leader, i as i32 + 1);
            let fire = {
                let mut slots = p.cpu_timers.lock();
                match slots[i] {
                    Some(t) if now >= t.expires_ns => {
                        slots[i] = (t.interval_ns > 0).then_some(CpuTimer { expires_ns: now.saturating_add(t.interval_ns), ..t });
                        true
                    }
                    _ => false,
                }
            };
            if fire {
                send_to_process(&leader, SigInfo::kernel(sig));
            }
            armed |= p.cpu_timers.lock()[i].is_some();
        }
        armed |= check_cpu_limit(&leader);
        if armed {
            sample_cpu_timers(process);
        } else {
            p.cpu_timer_sampling.store(false, Ordering::Relaxed);
        }
    });
}
