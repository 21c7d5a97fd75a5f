//! Futexes: wait queues keyed by guest address. Private futexes are keyed
//! by (address space, address); shared ones by the backing frame, so
//! processes sharing memory meet on the same queue.

use parking_lot::{Condvar, Mutex};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use crate::abi::{Errno, KResult};

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum FutexKey {
    Private { mm: u64, addr: u64 },
    Shared { frame: u32, offset: u32 },
}

struct Waiter {
    bitset: u32,
    woken: bool,
}

#[derive(Default)]
pub struct FutexTable {
    queues: Mutex<HashMap<FutexKey, Vec<Arc<Mutex<Waiter>>>>>,
    wake: Condvar,
}

impl FutexTable {
    /// Sleeps while `still_equal()` holds at the time of queueing, until
    /// woken or `deadline` passes (ETIMEDOUT). `still_equal` runs under the
    /// queue lock, so a wake after the value changed cannot be missed.
    pub fn wait(&self, key: FutexKey, bitset: u32, deadline: Option<Instant>, still_equal: impl FnOnce() -> KResult<bool>) -> KResult<()> {
        if bitset == 0 {
            return Err(Errno::EINVAL);
        }
        let mut queues = self.queues.lock();
        if !still_equal()? {
            return Err(Errno::EAGAIN);
        }
        let me = Arc::new(Mutex::new(Waiter { bitset, woken: false }));
        queues.entry(key).or_default().push(me.clone());
        loop {
            if me.lock().woken {
                return Ok(());
            }
            match deadline {
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        if let Some(q) = queues.get_mut(&key) {
                            q.retain(|w| !Arc::ptr_eq(w, &me));
                            if q.is_empty() {
                                queues.remove(&key);
                            }
                        }
                        return Err(Errno::ETIMEDOUT);
                    }
                    self.wake.wait_for(&mut queues, d - now);
                }
                None => self.wake.wait(&mut queues),
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
            let mut w = w.lock();
            if (woken as u32) < count && w.bitset & bitset != 0 {
                w.woken = true;
                woken += 1;
                false
            } else {
                true
            }
        });
        if q.is_empty() {
            queues.remove(&key);
        }
        if woken > 0 {
            self.wake.notify_all();
        }
        Ok(woken)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const KEY: FutexKey = FutexKey::Private { mm: 1, addr: 0x1000 };

    #[test]
    fn wait_on_a_changed_value_is_eagain_and_timeout_is_etimedout() {
        let t = FutexTable::default();
        assert_eq!(t.wait(KEY, !0, None, || Ok(false)), Err(Errno::EAGAIN));
        let soon = Some(Instant::now() + Duration::from_millis(5));
        assert_eq!(t.wait(KEY, !0, soon, || Ok(true)), Err(Errno::ETIMEDOUT));
        assert_eq!(t.wake(KEY, 1, !0), Ok(0), "the timed-out waiter left the queue");
    }

    #[test]
    fn wake_reaches_a_waiter_with_a_matching_bitset_only() {
        let t = Arc::new(FutexTable::default());
        let t2 = t.clone();
        let waiter = std::thread::spawn(move || t2.wait(KEY, 0b10, Some(Instant::now() + Duration::from_secs(5)), || Ok(true)));
        while t.queues.lock().get(&KEY).is_none() {
            std::thread::yield_now();
        }
        assert_eq!(t.wake(KEY, 1, 0b01), Ok(0));
        assert_eq!(t.wake(KEY, 1, 0b10), Ok(1));
        assert_eq!(waiter.join().unwrap(), Ok(()));
    }
}
