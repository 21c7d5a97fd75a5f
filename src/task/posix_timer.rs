//! POSIX timers (Linux's kernel/time/posix-timers.c and posix-cpu-timers.c):
//! the per-process table timer_create fills, ids from 0 up. A timer runs on
//! CLOCK_REALTIME, CLOCK_MONOTONIC or a CPU clock and notifies with a
//! signal to its process (SIGEV_SIGNAL), to one of its threads
//! (SIGEV_THREAD_ID) or not at all (SIGEV_NONE, never scheduled: its time
//! is computed when asked). Wall-clock timers run on the kernel timer
//! thread; CPU-clock timers are sampled every few milliseconds, as
//! task/itimer.rs does. An expiry while the timer's last signal is still
//! pending counts as an overrun inside that signal (Linux re-arms at
//! delivery instead; the counts agree); re-arming or deleting a timer drops
//! its pending signal, as Linux 6.13+ does at delivery. All timers go at
//! exec and exit. Lock order: a timer's state before the signal locks of
//! its target; the table is taken alone.

use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use crate::abi::signal::SI_TIMER;
use crate::abi::time::{
    CLOCK_BOOTTIME, CLOCK_BOOTTIME_ALARM, CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE, CLOCK_MONOTONIC_RAW, CLOCK_REALTIME, CLOCK_REALTIME_ALARM,
    CLOCK_REALTIME_COARSE, CLOCK_TAI,
};
use crate::abi::{Errno, KResult};
use crate::sched::time::{Deadline, KTIME_MAX, realtime_to_monotonic_ns};
use crate::sched::timer::{TimerId, timers};
use crate::signal::{SigInfo, SigPending, send_to_process, send_to_task};
use crate::task::Task;
use crate::task::cpu_clock::{self, CpuClock};
use crate::task::process::Process;

/// How many timers one process may hold (Linux bounds them by memory).
const MAX_TIMERS: usize = 1 << 16;
/// A re-armed wall-clock timer waits at least this long before its kernel
/// timer runs again, so a tiny interval cannot monopolise the timer thread
/// (the missed expirations are still counted, from the clock).
const MIN_REARM: Duration = Duration::from_micros(100);
/// How often armed CPU-clock timers are checked (Linux's are tick based).
const CPU_SAMPLE: Duration = Duration::from_millis(4);

/// The clock a timer runs on.
pub enum TimerClock {
    Realtime,
    Monotonic,
    Cpu(CpuClock),
}

/// A clock timer_create accepts, before a CPU clock's target is checked.
pub enum ClockKind {
    Realtime,
    Monotonic,
    Cpu,
}

/// Which clocks can carry a timer (Linux's clockid_to_kclock and the
/// clocks with a timer_create): EINVAL for an unknown clock, EOPNOTSUPP
/// for one without timers (raw, coarse, alarm clocks without an RTC,
/// clock fds).
pub fn clock_kind(clockid: i32) -> KResult<ClockKind> {
    match clockid {
        CLOCK_REALTIME | CLOCK_TAI => Ok(ClockKind::Realtime),
        CLOCK_MONOTONIC | CLOCK_BOOTTIME => Ok(ClockKind::Monotonic),
        CLOCK_MONOTONIC_RAW | CLOCK_REALTIME_COARSE | CLOCK_MONOTONIC_COARSE | CLOCK_REALTIME_ALARM | CLOCK_BOOTTIME_ALARM => Err(Errno::EOPNOTSUPP),
        id if cpu_clock::is_cpu_clock(id) => Ok(ClockKind::Cpu),
        id if id < 0 => Err(Errno::EOPNOTSUPP),
        _ => Err(Errno::EINVAL),
    }
}

/// How a timer tells of an expiry.
pub enum Notify {
    None,
    Process { signo: i32, value: u64 },
    Thread { signo: i32, value: u64, task: Weak<Task> },
}

/// A process's timers.
#[derive(Default)]
pub struct PosixTimers {
    next_id: i32,
    timers: BTreeMap<i32, Arc<PosixTimer>>,
    /// A sampling timer checks this process's CPU-clock timers.
    cpu_sampling: bool,
}

struct TimerState {
    /// The next expiry on the timer's clock (monotonic nanoseconds, or CPU
    /// nanoseconds); None while disarmed. KTIME_MAX is never.
    expires: Option<i64>,
    interval_ns: i64,
    timer: Option<TimerId>,
    /// Bumped by every settime and delete: a kernel timer of an older
    /// setting does nothing.
    generation: u64,
    /// The overrun count of the signal sent last (counted in it while it
    /// is pending).
    overrun: i32,
    /// The overrun count of the signal delivered before that one.
    overrun_last: i32,
    deleted: bool,
    /// Armed with TIMER_ABSTIME on CLOCK_REALTIME/TAI: a clock set moves
    /// the expiry (Linux's realtime hrtimer base).
    realtime_abs: bool,
}

pub struct PosixTimer {
    pub id: i32,
    clock: TimerClock,
    notify: Notify,
    process: Weak<Process>,
    this: Weak<PosixTimer>,
    /// A CPU-clock timer waiting to expire (read by the sampler).
    cpu_armed: AtomicBool,
    state: Mutex<TimerState>,
}

/// The next free id of `process`, consumed even if creating the timer then
/// fails, as in Linux (posix_timer_add comes before the checks).
pub fn reserve_id(process: &Process) -> KResult<i32> {
    let mut table = process.posix_timers.lock();
    if table.timers.len() >= MAX_TIMERS {
        return Err(Errno::EAGAIN);
    }
    loop {
        let id = table.next_id;
        table.next_id = if id == i32::MAX { 0 } else { id + 1 };
        if !table.timers.contains_key(&id) {
            return Ok(id);
        }
    }
}

/// Adds timer `id` (from `reserve_id`) to the caller's process.
pub fn create(task: &Arc<Task>, id: i32, clock: TimerClock, notify: Notify) -> Arc<PosixTimer> {
    let process = &task.process;
    let timer = Arc::new_cyclic(|this| PosixTimer {
        id,
        clock,
        notify,
        process: Arc::downgrade(process),
        this: this.clone(),
        cpu_armed: AtomicBool::new(false),
        state: Mutex::new(TimerState {
            expires: None,
            interval_ns: 0,
            timer: None,
            generation: 0,
            overrun: 0,
            overrun_last: 0,
            deleted: false,
            realtime_abs: false,
        }),
    });
    process.posix_timers.lock().timers.insert(id, timer.clone());
    timer
}

/// Timer `id` of `process` (EINVAL if there is none).
pub fn get(process: &Process, id: i32) -> KResult<Arc<PosixTimer>> {
    process.posix_timers.lock().timers.get(&id).cloned().ok_or(Errno::EINVAL)
}

/// timer_delete.
pub fn delete(process: &Process, id: i32) -> KResult<()> {
    let timer = process.posix_timers.lock().timers.remove(&id).ok_or(Errno::EINVAL)?;
    timer.shut_down();
    Ok(())
}

/// Every timer of `process` goes (exec, exit).
pub fn delete_all(process: &Process) {
    let all = std::mem::take(&mut process.posix_timers.lock().timers);
    for t in all.into_values() {
        t.shut_down();
    }
}

fn monotonic_now() -> i64 {
    Deadline::after_ns(0).monotonic_ns()
}

impl PosixTimer {
    fn now(&self) -> i64 {
        match &self.clock {
            TimerClock::Cpu(c) => c.now_ns().min(KTIME_MAX as u64) as i64,
            _ => monotonic_now(),
        }
    }

    fn signo(&self) -> Option<i32> {
        match self.notify {
            Notify::None => None,
            Notify::Process { signo, .. } | Notify::Thread { signo, .. } => Some(signo),
        }
    }

    /// Runs `f` on the pending queue the timer's signals go to.
    fn with_target_queue<R>(&self, f: impl FnOnce(&mut SigPending) -> R) -> Option<R> {
        match &self.notify {
            Notify::None => None,
            Notify::Process { .. } => Some(f(&mut self.process.upgrade()?.shared_pending.lock())),
            Notify::Thread { task, .. } => Some(f(&mut task.upgrade()?.signals.lock().pending)),
        }
    }

    fn is_mine(&self, info: &SigInfo) -> bool {
        let tid = i32::from_ne_bytes([info.bytes[16], info.bytes[17], info.bytes[18], info.bytes[19]]);
        Some(info.signo()) == self.signo() && info.code() == SI_TIMER && tid == self.id
    }

    /// Whether the signal sent last is still pending.
    fn signal_pending(&self) -> bool {
        self.with_target_queue(|q| q.find_mut(|i| self.is_mine(i)).is_some()).unwrap_or(false)
    }

    fn drop_pending_signal(&self) {
        self.with_target_queue(|q| q.remove_matching(|i| self.is_mine(i)));
    }

    fn shut_down(&self) {
        let mut st = self.state.lock();
        st.deleted = true;
        st.generation += 1;
        st.expires = None;
        if let Some(id) = st.timer.take() {
            timers().cancel(id);
        }
        self.cpu_armed.store(false, Ordering::Relaxed);
        self.drop_pending_signal();
    }

    /// Counts the expirations due by `now` and moves the expiry past it
    /// (a one-shot timer disarms). None if nothing is due.
    fn expire(st: &mut TimerState, now: i64) -> Option<i32> {
        let e = st.expires?;
        if e > now || e == KTIME_MAX {
            return None;
        }
        if st.interval_ns <= 0 {
            st.expires = None;
            return Some(1);
        }
        let periods = ((now - e) / st.interval_ns).saturating_add(1);
        st.expires = Some(e.saturating_add(periods.saturating_mul(st.interval_ns)));
        Some(periods.min(i32::MAX as i64) as i32)
    }

    /// Tells of `periods` expirations: a signal, or an overrun in the one
    /// still pending.
    fn deliver(&self, st: &mut TimerState, periods: i32) {
        let (signo, value) = match &self.notify {
            Notify::None => return,
            Notify::Process { signo, value } | Notify::Thread { signo, value, .. } => (*signo, *value),
        };
        let counted = self.with_target_queue(|q| match q.find_mut(|i| self.is_mine(i)) {
            Some(info) => {
                let old = i32::from_ne_bytes([info.bytes[20], info.bytes[21], info.bytes[22], info.bytes[23]]);
                info.bytes[20..24].copy_from_slice(&old.saturating_add(periods).to_ne_bytes());
                true
            }
            None => false,
        });
        match counted {
            Some(true) => st.overrun = st.overrun.saturating_add(periods),
            Some(false) => {
                st.overrun_last = st.overrun;
                st.overrun = periods - 1;
                let info = SigInfo::timer(signo, self.id, st.overrun, value);
                match &self.notify {
                    Notify::Process { .. } => {
                        if let Some(leader) = self.process.upgrade().and_then(|p| p.leader()) {
                            send_to_process(&leader, info);
                        }
                    }
                    Notify::Thread { task, .. } => {
                        if let Some(t) = task.upgrade() {
                            send_to_task(&t, info);
                        }
                    }
                    Notify::None => {}
                }
            }
            // The target is gone: nobody to tell.
            None => {}
        }
    }

    /// Schedules the kernel timer (wall clocks) or the sampler (CPU
    /// clocks) for the current expiry; `not_before` spaces re-arms.
    fn arm(&self, st: &mut TimerState, not_before: Option<Instant>) {
        if let Some(id) = st.timer.take() {
            timers().cancel(id);
        }
        let Some(e) = st.expires else {
            self.cpu_armed.store(false, Ordering::Relaxed);
            return;
        };
        if matches!(self.notify, Notify::None) {
            return;
        }
        if let TimerClock::Cpu(_) = self.clock {
            self.cpu_armed.store(true, Ordering::Relaxed);
            if let Some(p) = self.process.upgrade() {
                start_cpu_sampling(&p);
            }
            return;
        }
        // A time before boot is simply due (at_monotonic clamps it to 0).
        let Some(mut at) = Deadline::at_monotonic(e).instant() else { return };
        if let Some(nb) = not_before {
            at = at.max(nb);
        }
        let (weak, generation) = (self.this.clone(), st.generation);
        st.timer = Some(timers().schedule(at, move || {
            let Some(t) = weak.upgrade() else { return };
            let mut st = t.state.lock();
            if st.generation != generation || st.deleted {
                return;
            }
            st.timer = None;
            let periods = PosixTimer::expire(&mut st, monotonic_now());
            if let Some(n) = periods {
                t.deliver(&mut st, n);
            }
            let spacing = periods.map(|_| Instant::now() + MIN_REARM);
            t.arm(&mut st, spacing);
        }));
    }

    /// (value left, interval) in nanoseconds, as timer_gettime reports:
    /// an interval timer whose expiry passed unhandled reports the next
    /// one; an armed one-shot timer about to fire reports 1 ns, an expired
    /// SIGEV_NONE one 0 (Linux's common_timer_get).
    pub fn get(&self) -> (i64, i64) {
        let st = self.state.lock();
        let Some(mut e) = st.expires else { return (0, st.interval_ns) };
        let now = self.now();
        if e <= now && e != KTIME_MAX {
            if st.interval_ns > 0 {
                let periods = ((now - e) / st.interval_ns).saturating_add(1);
                e = e.saturating_add(periods.saturating_mul(st.interval_ns));
            } else {
                return (if matches!(self.notify, Notify::None) { 0 } else { 1 }, 0);
            }
        }
        ((e - now).max(1), st.interval_ns)
    }

    /// timer_settime once the arguments are checked: `value_ns` 0 disarms;
    /// `absolute` (TIMER_ABSTIME) makes it a time on the timer's clock.
    /// Returns the old setting.
    pub fn set(&self, absolute: bool, value_ns: i64, interval_ns: i64) -> (i64, i64) {
        let old = self.get();
        let mut st = self.state.lock();
        st.generation += 1;
        self.drop_pending_signal();
        st.overrun = 0;
        st.overrun_last = 0;
        if value_ns == 0 {
            st.expires = None;
            st.interval_ns = 0;
        } else {
            st.interval_ns = interval_ns;
            st.expires = Some(match (&self.clock, absolute) {
                (TimerClock::Realtime, true) => realtime_to_monotonic_ns(value_ns as i128),
                (TimerClock::Monotonic, true) => value_ns,
                (TimerClock::Cpu(_), true) => value_ns,
                (TimerClock::Cpu(c), false) => (c.now_ns().min(KTIME_MAX as u64) as i64).saturating_add(value_ns),
                (_, false) => Deadline::after_ns(value_ns).monotonic_ns(),
            });
        }
        st.realtime_abs = absolute && value_ns != 0 && matches!(self.clock, TimerClock::Realtime);
        self.arm(&mut st, None);
        if st.realtime_abs {
            drop(st);
            let mut list = realtime_list().lock();
            list.retain(|w| w.strong_count() > 0 && !std::ptr::eq(w.as_ptr(), self));
            list.push(self.this.clone());
        }
        old
    }

    /// timer_getoverrun: the overrun count of the last signal delivered.
    pub fn overrun(&self) -> i32 {
        let st = self.state.lock();
        if self.signal_pending() { st.overrun_last } else { st.overrun }
    }
}

/// Timers armed with TIMER_ABSTIME on a realtime clock (pruned as they
/// go or are set again).
fn realtime_list() -> &'static Mutex<Vec<Weak<PosixTimer>>> {
    static LIST: Mutex<Vec<Weak<PosixTimer>>> = Mutex::new(Vec::new());
    &LIST
}

/// CLOCK_REALTIME was set, moving by `step_ns`: absolute realtime expiries
/// come that much sooner on the monotonic clock (Linux's clock_was_set
/// retriggering the realtime hrtimer base).
pub fn clock_was_set(step_ns: i128) {
    let list: Vec<Arc<PosixTimer>> = {
        let mut list = realtime_list().lock();
        list.retain(|w| w.strong_count() > 0);
        list.iter().filter_map(Weak::upgrade).collect()
    };
    for t in list {
        let mut st = t.state.lock();
        if !st.realtime_abs || st.deleted {
            continue;
        }
        if let Some(e) = st.expires.filter(|&e| e != KTIME_MAX) {
            st.expires = Some((e as i128 - step_ns).clamp(i64::MIN as i128, KTIME_MAX as i128 - 1) as i64);
            t.arm(&mut st, None);
        }
    }
}

/// Starts the sampler of a process's CPU-clock timers if it is not running.
fn start_cpu_sampling(process: &Arc<Process>) {
    let mut table = process.posix_timers.lock();
    if table.cpu_sampling {
        return;
    }
    table.cpu_sampling = true;
    drop(table);
    sample_cpu_timers(Arc::downgrade(process));
}

/// Checks the CPU-clock timers of a process every few milliseconds while
/// any is armed.
fn sample_cpu_timers(process: Weak<Process>) {
    timers().schedule(Instant::now() + CPU_SAMPLE, move || {
        let Some(p) = process.upgrade() else { return };
        let list: Vec<Arc<PosixTimer>> = p.posix_timers.lock().timers.values().filter(|t| matches!(t.clock, TimerClock::Cpu(_))).cloned().collect();
        for t in list {
            if !t.cpu_armed.load(Ordering::Relaxed) {
                continue;
            }
            let mut st = t.state.lock();
            if st.deleted {
                continue;
            }
            if let Some(n) = PosixTimer::expire(&mut st, t.now()) {
                t.deliver(&mut st, n);
                if st.expires.is_none() {
                    t.cpu_armed.store(false, Ordering::Relaxed);
                }
            }
        }
        let mut table = p.posix_timers.lock();
        if table.timers.values().any(|t| t.cpu_armed.load(Ordering::Relaxed)) {
            drop(table);
            sample_cpu_timers(process);
        } else {
            table.cpu_sampling = false;
        }
    });
}
