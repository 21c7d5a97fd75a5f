//! Futexes: wait queues keyed by guest address. Private futexes are keyed
//! by (address space, address); shared ones by the backing frame, so
//! processes sharing memory meet on the same queue. A waiter sleeps on its
//! task's own sleeper like every other wait in vkernel, so a signal ends
//! the wait (ERESTARTSYS) and so does a kill. The table lock is a leaf but
//! for the guest-memory read that compares the futex word (an `Mm` lock).

use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::abi::{Errno, KResult};
use crate::sched::time::Deadline;
use crate::sched::wait::{Sleeper, wait_any};

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum FutexKey {
    Private { mm: u64, addr: u64 },
    Shared { frame: u32, offset: u32 },
}

impl FutexKey {
    /// The queue key of the futex word at `uaddr` (EINVAL when misaligned,
    /// EFAULT when unmapped). Like Linux, a futex in a private mapping is
    /// keyed by address space and address even without FUTEX_PRIVATE_FLAG;
    /// one in shared memory meets other processes on its page.
    pub fn of(mm: &crate::mm::Mm, uaddr: u64, private: bool) -> KResult<FutexKey> {
        if uaddr % 4 != 0 {
            return Err(Errno::EINVAL);
        }
        if private {
            return Ok(FutexKey::Private { mm: mm.id, addr: uaddr });
        }
        mm.read::<u32>(uaddr)?;
        if !mm.is_shared_mapping(uaddr) {
            return Ok(FutexKey::Private { mm: mm.id, addr: uaddr });
        }
        match mm.frame_of(uaddr) {
            Some(frame) => Ok(FutexKey::Shared { frame, offset: (uaddr % 4096) as u32 }),
            None => Err(Errno::EFAULT),
        }
    }
}

/// One task waiting on a futex.
pub struct Waiter {
    bitset: u32,
    woken: AtomicBool,
    sleeper: Arc<Sleeper>,
    /// The queue it is on (requeue moves it).
    key: Mutex<FutexKey>,
}

impl Waiter {
    fn wake(&self) {
        self.woken.store(true, Ordering::Release);
        self.sleeper.wake();
    }

    pub fn is_woken(&self) -> bool {
        self.woken.load(Ordering::Acquire)
    }
}

#[derive(Default)]
pub struct FutexTable {
    queues: Mutex<HashMap<FutexKey, Vec<Arc<Waiter>>>>,
}

impl FutexTable {
    /// Queues a waiter on `key` if `still_equal()` holds; it runs under the
    /// table lock, so a wake after the value changed cannot be missed.
    /// EAGAIN when the value differs, EINVAL for an empty bitset.
    pub fn enqueue(&self, key: FutexKey, bitset: u32, sleeper: Arc<Sleeper>, still_equal: impl FnOnce() -> KResult<bool>) -> KResult<Arc<Waiter>> {
        if bitset == 0 {
            return Err(Errno::EINVAL);
        }
        let mut queues = self.queues.lock();
        if !still_equal()? {
            return Err(Errno::EAGAIN);
        }
        let me = Arc::new(Waiter { bitset, woken: AtomicBool::new(false), sleeper, key: Mutex::new(key) });
        queues.entry(key).or_default().push(me.clone());
        Ok(me)
    }

    /// Takes `waiter` off whatever queue it is on; true if it was still
    /// queued (not woken).
    pub fn dequeue(&self, waiter: &Arc<Waiter>) -> bool {
        let mut queues = self.queues.lock();
        let key = *waiter.key.lock();
        let Some(q) = queues.get_mut(&key) else { return false };
        let before = q.len();
        q.retain(|w| !Arc::ptr_eq(w, waiter));
        let found = q.len() != before;
        if q.is_empty() {
            queues.remove(&key);
        }
        found
    }

    /// Linux's futex_wait: sleeps while the futex word holds the expected
    /// value (`still_equal`), until woken, `deadline` passes (ETIMEDOUT)
    /// or a signal or kill ends the wait (ERESTARTSYS).
    pub fn wait(&self, key: FutexKey, bitset: u32, deadline: Deadline, still_equal: impl FnOnce() -> KResult<bool>) -> KResult<()> {
        let sleeper = match crate::sched::current() {
            Some(task) => task.sleeper().clone(),
            // Not on a task's kernel thread: nothing can wait.
            None => {
                still_equal()?;
                return Err(Errno::EAGAIN);
            }
        };
        let me = self.enqueue(key, bitset, sleeper, still_equal)?;
        let r = wait_any(&[], deadline.instant(), || Ok(me.is_woken().then_some(())));
        match r {
            Ok(()) => Ok(()),
            Err(e) => {
                // A wake that raced with the signal or the timeout counts.
                if self.dequeue(&me) { Err(e) } else { Ok(()) }
            }
        }
    }

    /// Wakes up to `count` waiters on `key` whose bitset intersects `bitset`.
    pub fn wake(&self, key: FutexKey, count: u32, bitset: u32) -> KResult<u64> {
        if bitset == 0 {
            return Err(Errno::EINVAL);
        }
        let mut queues = self.queues.lock();
        let Some(q) = queues.get_mut(&key) else { return Ok(0) };
        let mut woken = 0u64;
        q.retain(|w| {
            if (woken as u32) < count && w.bitset & bitset != 0 {
                w.wake();
                woken += 1;
                false
            } else {
                true
            }
        });
        if q.is_empty() {
            queues.remove(&key);
        }
        Ok(woken)
    }

    /// Linux's futex_requeue without the compare: wakes up to `wake` waiters
    /// on `from`, moves up to `requeue` more to `to`. Returns woken + moved.
    pub fn requeue(&self, from: FutexKey, to: FutexKey, wake: u32, requeue: u32, still_equal: impl FnOnce() -> KResult<bool>) -> KResult<u64> {
        let mut queues = self.queues.lock();
        if !still_equal()? {
            return Err(Errno::EAGAIN);
        }
        let waiters = queues.remove(&from).unwrap_or_default();
        let (mut woken, mut moved) = (0u32, 0u32);
        let mut stay = Vec::new();
        let mut go = Vec::new();
        for w in waiters {
            if woken < wake {
                w.wake();
                woken += 1;
            } else if moved < requeue && from != to {
                *w.key.lock() = to;
                go.push(w);
                moved += 1;
            } else {
                stay.push(w);
            }
        }
        if !stay.is_empty() {
            queues.insert(from, stay);
        }
        if !go.is_empty() {
            queues.entry(to).or_default().extend(go);
        }
        Ok((woken + moved) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: FutexKey = FutexKey::Private { mm: 1, addr: 0x1000 };
    const OTHER: FutexKey = FutexKey::Private { mm: 1, addr: 0x2000 };

    #[test]
    fn a_changed_value_is_eagain_and_an_empty_bitset_einval() {
        let t = FutexTable::default();
        assert_eq!(t.enqueue(KEY, !0, Default::default(), || Ok(false)).err(), Some(Errno::EAGAIN));
        assert_eq!(t.enqueue(KEY, 0, Default::default(), || Ok(true)).err(), Some(Errno::EINVAL));
        assert_eq!(t.wake(KEY, 1, 0), Err(Errno::EINVAL));
    }

    #[test]
    fn wake_reaches_waiters_with_a_matching_bitset_only() {
        let t = FutexTable::default();
        let w = t.enqueue(KEY, 0b10, Default::default(), || Ok(true)).unwrap();
        assert_eq!(t.wake(KEY, 1, 0b01), Ok(0));
        assert_eq!(t.wake(KEY, 1, 0b10), Ok(1));
        assert!(w.is_woken());
        assert!(!t.dequeue(&w), "a woken waiter left the queue");
    }

    #[test]
    fn requeue_wakes_some_and_moves_the_rest() {
        let t = FutexTable::default();
        let ws: Vec<_> = (0..4).map(|_| t.enqueue(KEY, !0, Default::default(), || Ok(true)).unwrap()).collect();
        assert_eq!(t.requeue(KEY, OTHER, 1, 2, || Ok(true)), Ok(3));
        assert!(ws[0].is_woken());
        assert_eq!(t.wake(OTHER, 10, !0), Ok(2));
        assert_eq!(t.wake(KEY, 10, !0), Ok(1));
    }
}
