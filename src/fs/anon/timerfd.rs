//! timerfd (Linux's fs/timerfd.c): a timer whose expirations are read as a
//! count. Like Linux's, the kernel timer is not re-armed while unread
//! expirations wait: the count is brought up to date from the clock
//! whenever it is looked at (read, poll, gettime) and the timer is armed
//! again once the count is read, so a tiny interval costs nothing while
//! nobody reads. CLOCK_REALTIME deadlines are converted to the monotonic
//! clock when set, and moved by `clock_was_set` when guest root sets the
//! clock, which also cancels TFD_TIMER_CANCEL_ON_SET timers (a step of the
//! host clock is not noticed).

use parking_lot::Mutex;
use std::any::Any;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, Weak};

use crate::abi::event::{TFD_IOC_SET_TICKS, TFD_TIMER_ABSTIME, TFD_TIMER_CANCEL_ON_SET};
use crate::abi::poll::{POLLIN, POLLRDNORM};
use crate::abi::{Errno, KResult};
use crate::fs::file::{File, FileOps};
use crate::sched::CurrentTask;
use crate::sched::time::{Deadline, KTIME_MAX, ns_to_timespec, realtime_to_monotonic_ns};
use crate::sched::timer::{TimerId, timers};
use crate::sched::wait::{WaitQueue, wait_any};

struct TimerState {
    /// Expirations not read yet.
    ticks: u64,
    /// The next expiry on the monotonic clock (negative before boot,
    /// KTIME_MAX never); None while disarmed.
    deadline: Option<i64>,
    interval_ns: i64,
    /// The kernel timer, while one is scheduled.
    timer: Option<TimerId>,
    /// Bumped by every settime: a kernel timer of an older setting is stale.
    generation: u64,
    /// The flags of the last settime (fdinfo).
    flags: u32,
    /// Armed with TFD_TIMER_ABSTIME on a realtime clock: a clock set moves
    /// the deadline (Linux's realtime hrtimer base).
    realtime_abs: bool,
    /// Armed with TFD_TIMER_CANCEL_ON_SET on a realtime clock.
    cancel_on_set: bool,
    /// The clock was set since: the next read fails with ECANCELED.
    cancelled: bool,
}

/// One timerfd.
pub struct TimerFd {
    clockid: i32,
    realtime: bool,
    state: Mutex<TimerState>,
    queue: WaitQueue,
    events: AtomicU64,
    this: Weak<TimerFd>,
}

/// Timerfds armed with TFD_TIMER_ABSTIME on a realtime clock (with
/// Linux's cancel_list among them).
fn realtime_list() -> &'static Mutex<Vec<Weak<TimerFd>>> {
    static LIST: OnceLock<Mutex<Vec<Weak<TimerFd>>>> = OnceLock::new();
    LIST.get_or_init(Default::default)
}

/// CLOCK_REALTIME was set, moving by `step_ns`: an absolute realtime
/// deadline comes that much sooner on the monotonic clock, and every
/// TFD_TIMER_CANCEL_ON_SET timer becomes readable and its next read fails
/// with ECANCELED (Linux's timerfd_clock_was_set).
pub fn clock_was_set(step_ns: i128) {
    let list: Vec<Arc<TimerFd>> = realtime_list().lock().iter().filter_map(Weak::upgrade).collect();
    for t in list {
        let mut st = t.state.lock();
        if !st.realtime_abs {
            continue;
        }
        if let Some(d) = st.deadline.filter(|&d| d != KTIME_MAX) {
            st.deadline = Some((d as i128 - step_ns).clamp(i64::MIN as i128, KTIME_MAX as i128 - 1) as i64);
        }
        let cancel = st.cancel_on_set && !st.cancelled;
        if cancel {
            st.cancelled = true;
            st.ticks = st.ticks.saturating_add(1);
        }
        t.arm(&mut st);
        drop(st);
        if cancel {
            t.wake();
        }
    }
}

/// (value left, interval) in nanoseconds, as timerfd_gettime reports.
pub type Setting = (i64, i64);

fn monotonic_now() -> i64 {
    Deadline::after_ns(0).monotonic_ns()
}

impl TimerFd {
    /// `realtime`: the clock is CLOCK_REALTIME (or its alarm variant).
    pub fn new(clockid: i32, realtime: bool) -> Arc<TimerFd> {
        Arc::new_cyclic(|this| TimerFd {
            clockid,
            realtime,
            state: Mutex::new(TimerState {
                ticks: 0,
                deadline: None,
                interval_ns: 0,
                timer: None,
                generation: 0,
                flags: 0,
                realtime_abs: false,
                cancel_on_set: false,
                cancelled: false,
            }),
            queue: WaitQueue::new(),
            events: AtomicU64::new(0),
            this: this.clone(),
        })
    }

    fn wake(&self) {
        self.events.fetch_add(1, Ordering::Relaxed);
        self.queue.wake_all();
    }

    /// Counts the expirations that are due (Linux's hrtimer_forward_now
    /// at read time); a one-shot timer that expired is disarmed.
    fn expire(st: &mut TimerState) {
        let Some(deadline) = st.deadline else { return };
        let now = monotonic_now();
        if deadline > now || deadline == KTIME_MAX {
            return;
        }
        if st.interval_ns <= 0 {
            st.ticks = st.ticks.saturating_add(1);
            st.deadline = None;
            return;
        }
        let periods = (now.saturating_sub(deadline) / st.interval_ns).saturating_add(1);
        st.ticks = st.ticks.saturating_add(periods as u64);
        st.deadline = Some(deadline.saturating_add(periods.saturating_mul(st.interval_ns)));
    }

    /// Schedules the kernel timer for the current deadline, unless
    /// expirations wait unread (then the next read re-arms it) or the
    /// deadline is never.
    fn arm(&self, st: &mut TimerState) {
        if let Some(id) = st.timer.take() {
            timers().cancel(id);
        }
        if st.ticks > 0 {
            return;
        }
        let Some(at) = st.deadline.and_then(|d| Deadline::at_monotonic(d).instant()) else { return };
        let (weak, generation) = (self.this.clone(), st.generation);
        st.timer = Some(timers().schedule(at, move || {
            let Some(t) = weak.upgrade() else { return };
            let mut st = t.state.lock();
            if st.generation != generation {
                return;
            }
            st.timer = None;
            TimerFd::expire(&mut st);
            let fired = st.ticks > 0;
            // Fired early by the host's clock rounding: wait again.
            t.arm(&mut st);
            drop(st);
            if fired {
                t.wake();
            }
        }));
    }

    fn current(st: &mut TimerState) -> Setting {
        TimerFd::expire(st);
        match st.deadline {
            Some(d) => (d.saturating_sub(monotonic_now()).max(0), st.interval_ns),
            None => (0, st.interval_ns),
        }
    }

    /// timerfd_gettime.
    pub fn get(&self) -> Setting {
        let mut st = self.state.lock();
        let s = TimerFd::current(&mut st);
        self.arm(&mut st);
        s
    }

    /// timerfd_settime once the arguments are checked: `value_ns` 0
    /// disarms; with TFD_TIMER_ABSTIME it is a time on the timer's clock.
    /// Returns the old setting.
    pub fn set(&self, flags: u32, value_ns: i64, interval_ns: i64) -> Setting {
        let old = {
            let mut st = self.state.lock();
            let old = TimerFd::current(&mut st);
            st.generation += 1;
            st.ticks = 0;
            st.cancelled = false;
            st.flags = flags;
            st.interval_ns = interval_ns;
            st.deadline = match (value_ns, flags & TFD_TIMER_ABSTIME != 0) {
                (0, _) => None,
                (v, true) if self.realtime => Some(realtime_to_monotonic_ns(v as i128)),
                (v, true) => Some(v),
                (v, false) => Some(Deadline::after_ns(v).monotonic_ns()),
            };
            st.realtime_abs = self.realtime && flags & TFD_TIMER_ABSTIME != 0;
            st.cancel_on_set = st.realtime_abs && flags & TFD_TIMER_CANCEL_ON_SET != 0;
            self.arm(&mut st);
            old
        };
        let mut list = realtime_list().lock();
        list.retain(|w| w.strong_count() > 0 && !std::ptr::eq(w.as_ptr(), self));
        if self.state.lock().realtime_abs {
            list.push(self.this.clone());
        }
        drop(list);
        // Pollers see the cleared count.
        self.wake();
        old
    }

    /// Takes the expiration count, blocking while it is zero.
    pub fn take(&self, nonblock: bool) -> KResult<u64> {
        wait_any(&[&self.queue], None, || {
            let mut st = self.state.lock();
            TimerFd::expire(&mut st);
            // ECANCELED once per clock change (Linux's timerfd_canceled
            // takes the new clock offset as it reports).
            if st.cancelled {
                st.cancelled = false;
                st.ticks = 0;
                self.arm(&mut st);
                return Err(Errno::ECANCELED);
            }
            if st.ticks == 0 {
                return if nonblock { Err(Errno::EAGAIN) } else { Ok(None) };
            }
            let n = std::mem::take(&mut st.ticks);
            self.arm(&mut st);
            Ok(Some(n))
        })
    }
}

impl FileOps for TimerFd {
    fn read(&self, file: &File, buf: &mut [u8], _pos: &mut u64) -> KResult<usize> {
        if buf.len() < 8 {
            return Err(Errno::EINVAL);
        }
        let n = self.take(file.nonblocking())?;
        buf[..8].copy_from_slice(&n.to_ne_bytes());
        Ok(8)
    }

    fn write(&self, _file: &File, _buf: &[u8], _pos: &mut u64) -> KResult<usize> {
        Err(Errno::EINVAL)
    }

    fn seekable(&self) -> bool {
        false
    }

    fn llseek(&self, _file: &File, pos: &mut u64, _offset: i64, _whence: u32) -> KResult<u64> {
        Ok(*pos)
    }

    fn poll(&self, _file: &File) -> u16 {
        let mut st = self.state.lock();
        TimerFd::expire(&mut st);
        if st.ticks > 0 { POLLIN | POLLRDNORM } else { 0 }
    }

    fn wait_queue(&self) -> Option<&WaitQueue> {
        Some(&self.queue)
    }

    fn event_count(&self) -> Option<u64> {
        Some(self.events.load(Ordering::Relaxed))
    }

    /// TFD_IOC_SET_TICKS (checkpoint/restore): sets the unread count.
    fn ioctl(&self, _file: &File, caller: &dyn CurrentTask, cmd: u32, arg: u64) -> KResult<u64> {
        if cmd != TFD_IOC_SET_TICKS {
            return Err(Errno::ENOTTY);
        }
        let ticks: u64 = caller.mm().read(arg)?;
        if ticks == 0 {
            return Err(Errno::EINVAL);
        }
        let mut st = self.state.lock();
        st.ticks = ticks;
        self.arm(&mut st);
        drop(st);
        self.wake();
        Ok(0)
    }

    fn as_any(&self) -> Option<&dyn Any> {
        Some(self)
    }

    fn size(&self, _file: &File) -> KResult<u64> {
        Ok(0)
    }

    fn fdinfo(&self, _file: &File) -> String {
        let mut st = self.state.lock();
        let (value, interval) = TimerFd::current(&mut st);
        let (v, i) = (ns_to_timespec(value), ns_to_timespec(interval));
        format!(
            "clockid: {}\nticks: {}\nsettime flags: 0{:o}\nit_value: ({}, {})\nit_interval: ({}, {})\n",
            self.clockid, st.ticks, st.flags, v.tv_sec, v.tv_nsec, i.tv_sec, i.tv_nsec
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expirations_are_counted_from_the_clock_and_disarm_when_one_shot() {
        let t = TimerFd::new(1, false);
        assert_eq!(t.take(true), Err(Errno::EAGAIN));
        t.set(0, 1_000_000, 0);
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert_eq!(t.take(true), Ok(1));
        assert_eq!(t.get(), (0, 0));
        t.set(0, 1_000_000, 1_000_000);
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(t.take(true).unwrap() >= 10);
        assert_eq!(t.set(0, 0, 0).1, 1_000_000);
        assert_eq!(t.take(true), Err(Errno::EAGAIN));
        t.set(TFD_TIMER_ABSTIME, i64::MAX, i64::MAX);
        assert!(t.get().0 > 1_000_000_000_000_000_000);
    }

    #[test]
    fn cancel_on_set_needs_a_realtime_absolute_timer() {
        let rt = TimerFd::new(0, true);
        let mono = TimerFd::new(1, false);
        let far = crate::sched::clock::realtime_ns() as i64 + 1_000_000_000_000;
        rt.set(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, far, 0);
        mono.set(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, i64::MAX, 0);
        clock_was_set(0);
        assert_eq!(rt.take(true), Err(Errno::ECANCELED));
        assert_eq!(rt.take(true), Err(Errno::EAGAIN));
        assert_eq!(mono.take(true), Err(Errno::EAGAIN));
        rt.set(0, 0, 0);
        assert_eq!(rt.take(true), Err(Errno::EAGAIN));
    }
}
