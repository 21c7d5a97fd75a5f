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
use crate::sched::wait::{Sleeper, wait_until};

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum FutexKey {
    Private {
        mm: u64,
        addr: u64,
    },
    Shared {
        frame: u32,
        offset: u32,
    },
    /// In a shared mapping of a host file: the file and the word's offset.
    File {
        dev: u64,
        ino: u64,
        offset: u64,
    },
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
        if let Some((dev, ino, offset)) = mm.host_file_position(uaddr) {
            return Ok(FutexKey::File { dev, ino, offset });
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
    /// For a priority-inheritance lock: the waiting thread, which an
    /// unlock may make the owner.
    pi_tid: u32,
    /// An unlock handed this waiter the PI lock.
    handed: AtomicBool,
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

/// FUTEX_WAKE_OP's operation on the second word, and its comparison.
#[derive(Clone, Copy, Debug)]
pub struct WakeOp {
    op: u32,
    oparg: u32,
    cmp: u32,
    cmparg: i32,
}

impl WakeOp {
    /// Decodes val3 as Linux does: op in bits 28-31 (bit 31: the operand
    /// is a shift count), cmp in 24-27, oparg and cmparg 12 signed bits
    /// each. ENOSYS for an unknown op or comparison.
    pub fn decode(encoded: u32) -> KResult<WakeOp> {
        let mut op = (encoded >> 28) & 0xf;
        let cmp = (encoded >> 24) & 0xf;
        let mut oparg = ((encoded << 8) as i32 >> 20) as u32;
        let cmparg = (encoded << 20) as i32 >> 20;
        if op & 8 != 0 {
            // Linux masks a bad shift count to 0..31 (with a warning).
            oparg = 1u32 << (oparg & 31);
            op &= 7;
        }
        if op > 4 || cmp > 5 {
            return Err(Errno::ENOSYS);
        }
        Ok(WakeOp { op, oparg, cmp, cmparg })
    }

    fn apply(&self, old: u32) -> u32 {
        match self.op {
            0 => self.oparg,
            1 => old.wrapping_add(self.oparg),
            2 => old | self.oparg,
            3 => old & !self.oparg,
            _ => old ^ self.oparg,
        }
    }

    fn holds(&self, old: u32) -> bool {
        let (a, b) = (old as i32, self.cmparg);
        match self.cmp {
            0 => a == b,
            1 => a != b,
            2 => a < b,
            3 => a <= b,
            4 => a > b,
            _ => a >= b,
        }
    }
}

/// What a PI lock attempt found (see `FutexTable::try_lock_pi`).
pub enum PiLock {
    Acquired,
    /// Owned by another thread; the WAITERS bit is set.
    Busy,
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
        let me = Arc::new(Waiter::new(key, bitset, sleeper, 0));
        queues.entry(key).or_default().push(me.clone());
        Ok(me)
    }

    /// Queues one waiter per (key, bitset) if `all_equal()` holds, all
    /// under the table lock (futex_waitv).
    pub fn enqueue_many(&self, keys: &[FutexKey], sleeper: Arc<Sleeper>, all_equal: impl FnOnce() -> KResult<bool>) -> KResult<Vec<Arc<Waiter>>> {
        let mut queues = self.queues.lock();
        if !all_equal()? {
            return Err(Errno::EAGAIN);
        }
        Ok(keys
            .iter()
            .map(|&key| {
                let w = Arc::new(Waiter::new(key, crate::abi::futex::FUTEX_BITSET_MATCH_ANY, sleeper.clone(), 0));
                queues.entry(key).or_default().push(w.clone());
                w
            })
            .collect())
    }

    /// Linux's futex_wake_op: atomically applies `op` to the word at
    /// `uaddr2` (through `update`), wakes up to `wake` waiters on `key1`,
    /// and, if the old value passes the comparison, up to `wake2` on `key2`.
    pub fn wake_op(
        &self,
        key1: FutexKey,
        key2: FutexKey,
        wake: u32,
        wake2: u32,
        op: WakeOp,
        update: impl FnOnce(&dyn Fn(u32) -> u32) -> KResult<u32>,
    ) -> KResult<u64> {
        let mut queues = self.queues.lock();
        let old = update(&|v| op.apply(v))?;
        let mut woken = wake_locked(&mut queues, key1, wake, !0);
        if op.holds(old) {
            woken += wake_locked(&mut queues, key2, wake2, !0);
        }
        Ok(woken)
    }

    /// One attempt at a PI lock for thread `tid`, under the table lock:
    /// `cmpxchg(old, new)` is the atomic compare-and-swap on the lock word
    /// (returning the value found), `alive(tid)` whether a thread exists.
    /// Free (or its owner gone with OWNER_DIED set, or gone at all): take
    /// it, keeping OWNER_DIED. Ours: EDEADLK. Another's: set WAITERS.
    pub fn try_lock_pi(
        &self,
        tid: u32,
        cmpxchg: &dyn Fn(u32, u32) -> KResult<u32>,
        read: &dyn Fn() -> KResult<u32>,
        alive: &dyn Fn(u32) -> bool,
    ) -> KResult<PiLock> {
        use crate::abi::futex::{FUTEX_OWNER_DIED, FUTEX_TID_MASK, FUTEX_WAITERS};
        let _queues = self.queues.lock();
        loop {
            let v = read()?;
            let owner = v & FUTEX_TID_MASK;
            if owner == tid {
                return Err(Errno::EDEADLK);
            }
            let new = if owner == 0 || !alive(owner) {
                // A dead owner's lock passes on marked OWNER_DIED (Linux's
                // exit_pi_state_list does the same for the next waiter).
                let died = if owner == 0 { v & FUTEX_OWNER_DIED } else { FUTEX_OWNER_DIED };
                tid | died | (v & FUTEX_WAITERS)
            } else {
                v | FUTEX_WAITERS
            };
            if cmpxchg(v, new)? == v {
                return Ok(if new & FUTEX_TID_MASK == tid { PiLock::Acquired } else { PiLock::Busy });
            }
        }
    }

    /// Queues thread `tid` to wait for the PI lock on `key`.
    pub fn enqueue_pi(&self, key: FutexKey, tid: u32, sleeper: Arc<Sleeper>) -> Arc<Waiter> {
        let mut queues = self.queues.lock();
        let me = Arc::new(Waiter::new(key, crate::abi::futex::FUTEX_BITSET_MATCH_ANY, sleeper, tid));
        queues.entry(key).or_default().push(me.clone());
        me
    }

    /// Was `waiter` handed the PI lock by an unlock?
    pub fn was_handed(&self, waiter: &Waiter) -> bool {
        waiter.handed.load(Ordering::Acquire)
    }

    /// Linux's futex_unlock_pi for thread `tid`: EPERM unless it owns the
    /// lock; the first PI waiter becomes the owner (WAITERS kept while
    /// others wait), else the word becomes 0.
    pub fn unlock_pi(&self, key: FutexKey, tid: u32, cmpxchg: &dyn Fn(u32, u32) -> KResult<u32>, read: &dyn Fn() -> KResult<u32>) -> KResult<u64> {
        use crate::abi::futex::{FUTEX_TID_MASK, FUTEX_WAITERS};
        let mut queues = self.queues.lock();
        loop {
            let v = read()?;
            if v & FUTEX_TID_MASK != tid {
                return Err(Errno::EPERM);
            }
            let q = queues.get_mut(&key);
            let next = q.as_ref().and_then(|q| q.iter().position(|w| w.pi_tid != 0));
            let new = match (q.as_ref(), next) {
                (Some(q), Some(i)) => q[i].pi_tid | if q.iter().filter(|w| w.pi_tid != 0).count() > 1 { FUTEX_WAITERS } else { 0 },
                _ => 0,
            };
            if cmpxchg(v, new)? != v {
                continue;
            }
            if let (Some(q), Some(i)) = (q, next) {
                let w = q.remove(i);
                w.handed.store(true, Ordering::Release);
                w.wake();
                if q.is_empty() {
                    queues.remove(&key);
                }
            }
            return Ok(0);
        }
    }

    /// Wakes every PI lock waiter to look at its lock again: a thread died,
    /// and a lock it held passes on (Linux's exit_pi_state_list).
    pub fn thread_died(&self) {
        let queues = self.queues.lock();
        for w in queues.values().flatten().filter(|w| w.pi_tid != 0) {
            w.sleeper.wake();
        }
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
    /// or a signal or kill ends the wait (ERESTARTSYS). With `realtime`
    /// the deadline is that CLOCK_REALTIME time, measured again whenever
    /// the clock is set.
    pub fn wait(&self, key: FutexKey, bitset: u32, deadline: Deadline, realtime: Option<i128>, still_equal: impl FnOnce() -> KResult<bool>) -> KResult<()> {
        let sleeper = match crate::sched::current() {
            Some(task) => task.sleeper().clone(),
            // Not on a task's kernel thread: nothing can wait.
            None => {
                still_equal()?;
                return Err(Errno::EAGAIN);
            }
        };
        let me = self.enqueue(key, bitset, sleeper, still_equal)?;
        let r = wait_until(&[], deadline, realtime, || Ok(me.is_woken().then_some(())));
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
        Ok(wake_locked(&mut queues, key, count, bitset))
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

impl Waiter {
    fn new(key: FutexKey, bitset: u32, sleeper: Arc<Sleeper>, pi_tid: u32) -> Waiter {
        Waiter { bitset, woken: AtomicBool::new(false), sleeper, key: Mutex::new(key), pi_tid, handed: AtomicBool::new(false) }
    }
}

fn wake_locked(queues: &mut HashMap<FutexKey, Vec<Arc<Waiter>>>, key: FutexKey, count: u32, bitset: u32) -> u64 {
    let Some(q) = queues.get_mut(&key) else { return 0 };
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
    woken
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
    fn wake_op_decodes_like_linux() {
        // FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_GT, 0): glibc's old condvar.
        let op = WakeOp::decode((1 << 28) | (4 << 24) | (1 << 12)).unwrap();
        assert_eq!(op.apply(5), 6);
        assert!(op.holds(1) && !op.holds(0));
        // A shifted operand: OR with 1 << 3; a negative cmparg.
        let op = WakeOp::decode(((8 | 2) << 28) | (2 << 24) | (3 << 12) | 0xfff).unwrap();
        assert_eq!(op.apply(0), 8);
        assert!(op.holds(-2i32 as u32) && !op.holds(0));
        assert_eq!(WakeOp::decode(5 << 28).err(), Some(Errno::ENOSYS));
        assert_eq!(WakeOp::decode(6 << 24).err(), Some(Errno::ENOSYS));
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
