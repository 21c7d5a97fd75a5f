//! Wait queues: how a task blocks in the kernel. Every wait is
//! interruptible: a signal for the task (or its death) wakes it and the
//! wait returns ERESTARTSYS, which the run loop turns into EINTR or a
//! restart. A blocked task sleeps on its own condition variable and costs
//! no CPU.

use parking_lot::{Condvar, Mutex};
use std::sync::{Arc, Weak};
use std::time::Instant;

use crate::abi::{Errno, KResult};

/// Where a task sleeps: a generation counter bumped by every wake-up, so a
/// wake between "check the condition" and "sleep" is never lost.
#[derive(Default)]
pub struct Sleeper {
    generation: Mutex<u64>,
    cond: Condvar,
}

impl Sleeper {
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
        let mut g = self.generation.lock();
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

/// A list of tasks waiting for something (data in a pipe, a child to exit).
#[derive(Default)]
pub struct WaitQueue {
    waiters: Mutex<Vec<Weak<Sleeper>>>,
}

impl WaitQueue {
    pub const fn new() -> WaitQueue {
        WaitQueue { waiters: Mutex::new(Vec::new()) }
    }

    /// Wakes every task waiting here; they re-check their conditions.
    pub fn wake_all(&self) {
        let waiters: Vec<Arc<Sleeper>> = self.waiters.lock().iter().filter_map(|w| w.upgrade()).collect();
        for s in waiters {
            s.wake();
        }
    }

    fn add(&self, sleeper: &Arc<Sleeper>) {
        self.waiters.lock().push(Arc::downgrade(sleeper));
    }

    fn remove(&self, sleeper: &Arc<Sleeper>) {
        let mut w = self.waiters.lock();
        if let Some(i) = w.iter().position(|x| std::ptr::eq(x.as_ptr(), Arc::as_ptr(sleeper))) {
            w.swap_remove(i);
        }
        w.retain(|x| x.strong_count() > 0);
    }

    /// Blocks the calling task until `ready` yields a value. See `wait_any`.
    pub fn wait_event<T>(&self, ready: impl FnMut() -> KResult<Option<T>>) -> KResult<T> {
        wait_any(&[self], None, ready)
    }
}

/// Blocks the calling task until `ready()` returns `Some`, waking whenever
/// one of `queues` is woken. Returns ERESTARTSYS when a signal becomes
/// pending (or the task is being killed) and ETIMEDOUT when `deadline`
/// passes. `ready` is called without any queue lock held.
pub fn wait_any<T>(queues: &[&WaitQueue], deadline: Option<Instant>, ready: impl FnMut() -> KResult<Option<T>>) -> KResult<T> {
    wait_on(queues, deadline, false, ready)
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
