//! Wait queues: how a task blocks in the kernel. Every wait is
//! interruptible: a signal for the task (or its death) wakes it and the
//! wait returns ERESTARTSYS, which the run loop turns into EINTR or a
//! restart. A blocked task sleeps on its own condition variable and costs
//! no CPU.

use parking_lot::{Condvar, Mutex};
use std::sync::{Arc, Weak};
use std::time::Instant;

use crate::abi::{Errno, KResult};
use crate::sched::time::Deadline;

/// Where a task sleeps: a generation counter bumped by every wake-up, so a
/// wake between "check the condition" and "sleep" is never lost.
#[derive(Default)]
pub struct Sleeper {
    generation: Mutex<u64>,
    cond: Condvar,
    /// In `sleep` now (what /proc shows as S or T rather than R).
    sleeping: std::sync::atomic::AtomicBool,
}

impl Sleeper {
    /// Whether the owner sleeps in the kernel now.
    pub fn is_sleeping(&self) -> bool {
        self.sleeping.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn generation(&self) -> u64 {
        *self.generation.lock()
    }

    pub fn wake(&self) {
        *self.generation.lock() += 1;
        self.cond.notify_all();
    }

    /// Sleeps until `done()` holds, re-checking after every wake-up. Not
    /// interruptible by signals: for job-control stops, which only SIGCONT
    /// and SIGKILL end.
    pub fn block_until(&self, mut done: impl FnMut() -> bool) {
        loop {
            let seen = self.generation();
            if done() {
                return;
            }
            self.sleep(seen, None);
        }
    }

    /// Sleeps until the generation moves past `seen` or `deadline` passes.
    fn sleep(&self, seen: u64, deadline: Option<Instant>) {
        // The guest thread waiting for this kernel thread's answer need
        // not spin for it.
        crate::platform::answer_takes_long();
        let mut g = self.generation.lock();
        self.sleeping.store(true, std::sync::atomic::Ordering::Relaxed);
        let _awake = Awake(&self.sleeping);
        while *g == seen {
            match deadline {
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return;
                    }
                    self.cond.wait_for(&mut g, d - now);
                }
                None => self.cond.wait(&mut g),
            }
        }
    }
}

/// Clears a sleeper's flag when its sleep ends, however it ends.
struct Awake<'a>(&'a std::sync::atomic::AtomicBool);

impl Drop for Awake<'_> {
    fn drop(&mut self) {
        self.0.store(false, std::sync::atomic::Ordering::Relaxed);
    }
}

/// A function a wait queue calls when it is woken, in the waker's context
/// and with no queue lock held (Linux's wait-queue entry with a wake
/// function: how an epoll instance hears of its files). It must be quick,
/// take no lock a waker may hold, and never block. Its result matters for
/// an exclusive entry only: true means "a waiter was woken here", which
/// ends the wake-up for the exclusive entries after it (EPOLLEXCLUSIVE).
pub struct WakeCallback {
    wake: Box<dyn Fn() -> bool + Send + Sync>,
}

impl WakeCallback {
    pub fn new(wake: impl Fn() -> bool + Send + Sync + 'static) -> Arc<WakeCallback> {
        Arc::new(WakeCallback { wake: Box::new(wake) })
    }
}

/// One entry of a wait queue. Entries hold no reference: a sleeper or a
/// callback that is gone is skipped and dropped at the next change.
enum Waiter {
    Sleeper(Weak<Sleeper>),
    Callback { callback: Weak<WakeCallback>, exclusive: bool },
}

impl Waiter {
    fn live(&self) -> bool {
        match self {
            Waiter::Sleeper(s) => s.strong_count() > 0,
            Waiter::Callback { callback, .. } => callback.strong_count() > 0,
        }
    }
}

/// A list of tasks waiting for something (data in a pipe, a child to exit).
#[derive(Default)]
pub struct WaitQueue {
    waiters: Mutex<Vec<Waiter>>,
}

impl WaitQueue {
    pub const fn new() -> WaitQueue {
        WaitQueue { waiters: Mutex::new(Vec::new()) }
    }

    /// Wakes every task waiting here (they re-check their conditions) and
    /// runs every callback, except that among exclusive callbacks only
    /// those up to the first that reports a woken waiter run (Linux's
    /// __wake_up with nr_exclusive 1).
    pub fn wake_all(&self) {
        enum Woken {
            Sleeper(Arc<Sleeper>),
            Callback(Arc<WakeCallback>, bool),
        }
        let woken: Vec<Woken> = {
            let waiters = self.waiters.lock();
            if waiters.is_empty() {
                return;
            }
            waiters
                .iter()
                .filter_map(|w| match w {
                    Waiter::Sleeper(s) => s.upgrade().map(Woken::Sleeper),
                    Waiter::Callback { callback, exclusive } => callback.upgrade().map(|c| Woken::Callback(c, *exclusive)),
                })
                .collect()
        };
        let mut exclusive_done = false;
        for w in woken {
            match w {
                Woken::Sleeper(s) => s.wake(),
                Woken::Callback(c, false) => {
                    (c.wake)();
                }
                Woken::Callback(c, true) => {
                    if !exclusive_done && (c.wake)() {
                        exclusive_done = true;
                    }
                }
            }
        }
    }

    /// Whether a task sleeps here now (not counting callbacks).
    pub fn has_sleepers(&self) -> bool {
        self.waiters.lock().iter().any(|w| matches!(w, Waiter::Sleeper(s) if s.strong_count() > 0))
    }

    /// Runs `callback` at every wake-up until it is removed or dropped.
    /// Exclusive callbacks are tried in the order they were added.
    pub fn add_callback(&self, callback: &Arc<WakeCallback>, exclusive: bool) {
        let mut w = self.waiters.lock();
        w.retain(Waiter::live);
        w.push(Waiter::Callback { callback: Arc::downgrade(callback), exclusive });
    }

    pub fn remove_callback(&self, callback: &Arc<WakeCallback>) {
        self.waiters.lock().retain(|w| w.live() && !matches!(w, Waiter::Callback { callback: c, .. } if std::ptr::eq(c.as_ptr(), Arc::as_ptr(callback))));
    }

    fn add(&self, sleeper: &Arc<Sleeper>) {
        self.waiters.lock().push(Waiter::Sleeper(Arc::downgrade(sleeper)));
    }

    fn remove(&self, sleeper: &Arc<Sleeper>) {
        let mut w = self.waiters.lock();
        if let Some(i) = w.iter().position(|x| matches!(x, Waiter::Sleeper(s) if std::ptr::eq(s.as_ptr(), Arc::as_ptr(sleeper)))) {
            w.remove(i);
        }
        w.retain(Waiter::live);
    }
}

/// Blocks the calling task until `ready()` returns `Some`, waking whenever
/// one of `queues` is woken. Returns ERESTARTSYS when a signal becomes
/// pending (or the task is being killed) and ETIMEDOUT when `deadline`
/// passes. `ready` is called without any queue lock held.
pub fn wait_any<T>(queues: &[&WaitQueue], deadline: Option<Instant>, ready: impl FnMut() -> KResult<Option<T>>) -> KResult<T> {
    wait_on(queues, deadline, false, ready)
}

/// `wait_any` until `deadline`, or with `realtime` until CLOCK_REALTIME
/// reads that time (nanoseconds since the epoch): then the deadline is
/// measured again whenever guest root sets the clock, so a jump past it
/// ends the wait at once (ETIMEDOUT) and one back makes it longer, as
/// Linux's absolute timers on the realtime clock base (futexes with
/// FUTEX_CLOCK_REALTIME, LOCK_PI, futex_waitv) behave.
pub fn wait_until<T>(queues: &[&WaitQueue], deadline: Deadline, realtime: Option<i128>, mut ready: impl FnMut() -> KResult<Option<T>>) -> KResult<T> {
    let Some(at) = realtime else { return wait_any(queues, deadline.instant(), ready) };
    let clock = crate::sched::clock::realtime_set_queue();
    let all: Vec<&WaitQueue> = queues.iter().copied().chain(std::iter::once(clock)).collect();
    loop {
        let sets = crate::sched::clock::realtime_sets();
        // Some(None): the clock was set; measure the deadline again.
        let r = wait_any(&all, Deadline::at_realtime(at).instant(), || {
            Ok(match ready()? {
                Some(v) => Some(Some(v)),
                None => (crate::sched::clock::realtime_sets() != sets).then_some(None),
            })
        });
        match r {
            Ok(Some(v)) => return Ok(v),
            Ok(None) => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Like `wait_any` on one queue, but only a kill ends the wait early
/// (Linux's TASK_KILLABLE): EINTR then, as the caller is dying anyway.
pub fn wait_killable<T>(queue: &WaitQueue, ready: impl FnMut() -> KResult<Option<T>>) -> KResult<T> {
    wait_on(&[queue], None, true, ready)
}

fn wait_on<T>(queues: &[&WaitQueue], deadline: Option<Instant>, killable_only: bool, mut ready: impl FnMut() -> KResult<Option<T>>) -> KResult<T> {
    let Some(task) = crate::sched::current() else {
        // Not on a task's kernel thread (boot): nothing to wait for.
        return ready()?.ok_or(Errno::EAGAIN);
    };
    let sleeper = task.sleeper().clone();
    for q in queues {
        q.add(&sleeper);
    }
    let result = loop {
        let seen = sleeper.generation();
        match ready() {
            Ok(Some(v)) => break Ok(v),
            Ok(None) => {}
            Err(e) => break Err(e),
        }
        if killable_only {
            if task.fatal_signal_pending() {
                break Err(Errno::EINTR);
            }
        } else if task.signal_pending() {
            break Err(Errno::ERESTARTSYS);
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break Err(Errno::ETIMEDOUT);
        }
        sleeper.sleep(seen, deadline);
    };
    for q in queues {
        q.remove(&sleeper);
    }
    result
}

/// Sleeps until `deadline` (None: until a signal) unless a signal
/// interrupts (ERESTARTSYS).
pub fn sleep_until(deadline: Option<Instant>) -> KResult<()> {
    match wait_any::<()>(&[], deadline, || Ok(None)) {
        Err(Errno::ETIMEDOUT) => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[test]
    fn callbacks_run_and_exclusive_ones_stop_at_the_first_that_woke_someone() {
        let q = WaitQueue::new();
        let hits = Arc::new(AtomicU32::new(0));
        let h = hits.clone();
        let plain = WakeCallback::new(move || {
            h.fetch_add(1, Ordering::SeqCst);
            false
        });
        let h = hits.clone();
        let idle = WakeCallback::new(move || {
            h.fetch_add(10, Ordering::SeqCst);
            false
        });
        let h = hits.clone();
        let first = WakeCallback::new(move || {
            h.fetch_add(100, Ordering::SeqCst);
            true
        });
        let h = hits.clone();
        let second = WakeCallback::new(move || {
            h.fetch_add(1000, Ordering::SeqCst);
            true
        });
        q.add_callback(&idle, true);
        q.add_callback(&first, true);
        q.add_callback(&second, true);
        q.add_callback(&plain, false);
        q.wake_all();
        assert_eq!(hits.load(Ordering::SeqCst), 111);
        q.remove_callback(&first);
        drop(idle);
        q.wake_all();
        assert_eq!(hits.load(Ordering::SeqCst), 111 + 1001);
    }
}
