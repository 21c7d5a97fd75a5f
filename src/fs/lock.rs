//! Advisory file locks (Linux's fs/locks.c): POSIX record locks (fcntl
//! F_SETLK, owned by a process), open-file-description locks (F_OFD_SETLK,
//! owned by a File) and flock locks (owned by a File), keyed by (dev, ino)
//! in one table. A blocking request (F_SETLKW, F_OFD_SETLKW, flock without
//! LOCK_NB) sleeps on the lock wait queue, woken by every release; the wait
//! ends for a signal (ERESTARTSYS: EINTR, or a restart under SA_RESTART)
//! and a POSIX request that would wait on its own waiters is EDEADLK.
//! Process record locks go when the process closes any fd of the file or
//! exits (`release_process_locks`, `release_all_process_locks`).
//! Lock order: the table lock is a leaf; nobody sleeps holding it.

use parking_lot::Mutex;
use std::collections::HashMap;

use crate::abi::fcntl::{F_RDLCK, F_UNLCK, F_WRLCK, LOCK_EX, LOCK_NB, LOCK_SH, LOCK_UN, SEEK_CUR, SEEK_END, SEEK_SET};
use crate::abi::{Errno, KResult};
use crate::sched::wait::{WaitQueue, wait_any};

/// Who holds a lock.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Owner {
    /// A POSIX record lock of process `tgid`.
    Process(i32),
    /// An OFD or flock lock, by open file description address.
    File(usize),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Family {
    Record,
    Flock,
}

#[derive(Clone, Copy, Debug)]
pub struct Lock {
    pub owner: Owner,
    /// The process reported by F_GETLK (-1 for OFD locks, as Linux does).
    pub pid: i32,
    pub write: bool,
    pub start: u64,
    /// Exclusive end; u64::MAX reaches to any future end of file.
    pub end: u64,
    family: Family,
}

/// A file's identity: (dev, ino).
pub type Key = (u64, u64);

/// A request being waited for (for deadlock detection).
#[derive(Clone, Copy)]
struct Request {
    key: Key,
    write: bool,
    start: u64,
    end: u64,
}

#[derive(Default)]
struct Table {
    locks: HashMap<Key, Vec<Lock>>,
    /// POSIX owners blocked in F_SETLKW and what they wait for.
    waiting: HashMap<Owner, Request>,
}

static TABLE: Mutex<Option<Table>> = Mutex::new(None);
/// Woken whenever any lock is released or shrinks; waiters re-check.
static WAITERS: WaitQueue = WaitQueue::new();

fn with_table<R>(f: impl FnOnce(&mut Table) -> R) -> R {
    f(TABLE.lock().get_or_insert_with(Table::default))
}

fn conflicts(a: &Lock, family: Family, owner: Owner, write: bool, start: u64, end: u64) -> bool {
    a.family == family && a.owner != owner && (a.write || write) && a.start < end && start < a.end
}

/// The byte range a `struct flock` describes (Linux's flock_to_posix_lock):
/// `pos` is the file position, `size` the file size (read only for
/// SEEK_END). EINVAL for a bad whence or a range before offset 0.
pub fn record_range(whence: i16, start: i64, len: i64, pos: u64, size: impl FnOnce() -> KResult<u64>) -> KResult<(u64, u64)> {
    let base: i128 = match whence as u32 {
        SEEK_SET => 0,
        SEEK_CUR => pos as i128,
        SEEK_END => size()? as i128,
        _ => return Err(Errno::EINVAL),
    };
    let mut first = base + start as i128;
    let mut end: i128 = if len == 0 { u64::MAX as i128 } else { first + len as i128 };
    if len < 0 {
        end = first;
        first += len as i128;
    }
    if first < 0 {
        return Err(Errno::EINVAL);
    }
    // Linux: EOVERFLOW when the start or the last byte does not fit off_t.
    if first > i64::MAX as i128 || (len != 0 && end - 1 > i64::MAX as i128) {
        return Err(Errno::EOVERFLOW);
    }
    Ok((first as u64, end.min(u64::MAX as i128) as u64))
}

/// F_GETLK: the first lock that would block the described one.
pub fn test(key: Key, owner: Owner, write: bool, start: u64, end: u64) -> Option<Lock> {
    with_table(|t| t.locks.get(&key).and_then(|v| v.iter().find(|l| conflicts(l, Family::Record, owner, write, start, end)).copied()))
}

/// Takes, converts or (F_UNLCK) releases [start, end) if nothing conflicts.
fn try_set(t: &mut Table, key: Key, owner: Owner, pid: i32, kind: i16, start: u64, end: u64) -> KResult<bool> {
    let write = kind == F_WRLCK;
    let v = t.locks.entry(key).or_default();
    if kind != F_UNLCK && v.iter().any(|l| conflicts(l, Family::Record, owner, write, start, end)) {
        return Err(Errno::EAGAIN);
    }
    // Cut our own locks out of the range, keeping the parts outside it.
    let mut released = false;
    let mut kept = Vec::with_capacity(v.len() + 2);
    for l in v.drain(..) {
        if l.family != Family::Record || l.owner != owner || l.end <= start || end <= l.start {
            kept.push(l);
            continue;
        }
        // Dropping or downgrading a range may let a waiter in.
        released |= l.write || kind == F_UNLCK;
        if l.start < start {
            kept.push(Lock { end: start, ..l });
        }
        if end < l.end {
            kept.push(Lock { start: end, ..l });
        }
    }
    if kind != F_UNLCK {
        kept.push(Lock { owner, pid, write, start, end, family: Family::Record });
    }
    *v = kept;
    if v.is_empty() {
        t.locks.remove(&key);
    }
    Ok(released)
}

/// Would `owner` waiting for `req` wait, through a chain of blocked
/// owners, on itself? (Linux's posix_locks_deadlock, which also stops
/// after a few steps.)
fn would_deadlock(t: &Table, owner: Owner, req: Request) -> bool {
    const MAX_STEPS: usize = 10;
    let (mut waiter, mut req) = (owner, req);
    for _ in 0..MAX_STEPS {
        let Some(blocker) = t.locks.get(&req.key).and_then(|v| v.iter().find(|l| conflicts(l, Family::Record, waiter, req.write, req.start, req.end))) else {
            return false;
        };
        if blocker.owner == owner {
            return true;
        }
        match t.waiting.get(&blocker.owner) {
            Some(next) => (waiter, req) = (blocker.owner, *next),
            None => return false,
        }
    }
    false
}

/// F_SETLK / F_SETLKW (`wait`) on [start, end) for `owner`: EAGAIN when
/// another owner's lock conflicts and the caller does not wait; a waiting
/// POSIX request that would deadlock is EDEADLK.
pub fn set(key: Key, owner: Owner, pid: i32, kind: i16, start: u64, end: u64, wait: bool) -> KResult<()> {
    if !matches!(kind, F_RDLCK | F_WRLCK | F_UNLCK) {
        return Err(Errno::EINVAL);
    }
    let attempt = |t: &mut Table| -> KResult<Option<()>> {
        match try_set(t, key, owner, pid, kind, start, end) {
            Ok(released) => {
                t.waiting.remove(&owner);
                if released {
                    WAITERS.wake_all();
                }
                Ok(Some(()))
            }
            Err(Errno::EAGAIN) if wait => {
                let req = Request { key, write: kind == F_WRLCK, start, end };
                if matches!(owner, Owner::Process(_)) && would_deadlock(t, owner, req) {
                    t.waiting.remove(&owner);
                    return Err(Errno::EDEADLK);
                }
                t.waiting.insert(owner, req);
                Ok(None)
            }
            Err(e) => Err(e),
        }
    };
    if !wait {
        return with_table(|t| attempt(t)).map(|_| ());
    }
    let r = wait_any(&[&WAITERS], None, || with_table(|t| attempt(t)));
    if r.is_err() {
        with_table(|t| t.waiting.remove(&owner));
    }
    r
}

/// flock(2) on a whole file (`op` is LOCK_SH, LOCK_EX or LOCK_UN, with
/// LOCK_NB): EWOULDBLOCK when held incompatibly by another open file
/// description and LOCK_NB is given, else it waits (interruptibly).
pub fn flock(key: Key, file: usize, op: u32) -> KResult<()> {
    let kind = op & !LOCK_NB;
    if !matches!(kind, LOCK_SH | LOCK_EX | LOCK_UN) {
        return Err(Errno::EINVAL);
    }
    let owner = Owner::File(file);
    let attempt = || -> KResult<Option<()>> {
        with_table(|t| {
            let v = t.locks.entry(key).or_default();
            // Converting drops the old lock first, as Linux's flock does
            // (another waiter may get in between).
            let before = v.len();
            v.retain(|l| !(l.family == Family::Flock && l.owner == owner));
            let released = v.len() != before;
            let mut result = Ok(Some(()));
            if kind != LOCK_UN {
                let write = kind == LOCK_EX;
                if v.iter().any(|l| conflicts(l, Family::Flock, owner, write, 0, u64::MAX)) {
                    result = if op & LOCK_NB != 0 { Err(Errno::EWOULDBLOCK) } else { Ok(None) };
                } else {
                    v.push(Lock { owner, pid: -1, write, start: 0, end: u64::MAX, family: Family::Flock });
                }
            }
            if v.is_empty() {
                t.locks.remove(&key);
            }
            if released {
                WAITERS.wake_all();
            }
            result
        })
    };
    if kind == LOCK_UN || op & LOCK_NB != 0 {
        return attempt().map(|_| ());
    }
    wait_any(&[&WAITERS], None, attempt)
}

/// Drops every lock `keep` rejects and wakes waiters if any went.
fn release(keep: impl Fn(&Key, &Lock) -> bool) {
    let released = with_table(|t| {
        let mut any = false;
        t.locks.retain(|k, v| {
            let before = v.len();
            v.retain(|l| keep(k, l));
            any |= v.len() != before;
            !v.is_empty()
        });
        any
    });
    if released {
        WAITERS.wake_all();
    }
}

/// The process closed an fd of the file: its record locks on the file go
/// (POSIX).
pub fn release_process_locks(key: Key, tgid: i32) {
    release(|k, l| *k != key || l.owner != Owner::Process(tgid));
}

/// The process exited: every record lock it held goes.
pub fn release_all_process_locks(tgid: i32) {
    release(|_, l| l.owner != Owner::Process(tgid));
    with_table(|t| t.waiting.remove(&Owner::Process(tgid)));
}

/// The last reference to an open file description is gone: its OFD and
/// flock locks go with it.
pub fn release_file_locks(file: usize) {
    if TABLE.lock().as_ref().is_none_or(|t| t.locks.is_empty()) {
        return;
    }
    release(|_, l| l.owner != Owner::File(file));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_locks_conflict_split_and_release() {
        let key = (0xfeed, 1);
        let (a, b) = (Owner::Process(100), Owner::Process(200));
        set(key, a, 100, F_WRLCK, 0, 100, false).unwrap();
        assert_eq!(set(key, b, 200, F_RDLCK, 50, 60, false), Err(Errno::EAGAIN));
        // Unlocking the middle leaves two pieces.
        set(key, a, 100, F_UNLCK, 40, 70, false).unwrap();
        set(key, b, 200, F_WRLCK, 50, 60, false).unwrap();
        assert_eq!(test(key, b, false, 0, 10).map(|l| (l.start, l.end)), Some((0, 40)));
        assert!(test(key, a, true, 0, 10).is_none());
        release_process_locks(key, 100);
        assert!(test(key, b, true, 0, 100).is_none());
        release_all_process_locks(200);
        assert!(test(key, a, true, 0, 100).is_none());
    }

    #[test]
    fn a_wait_that_closes_a_cycle_is_edeadlk() {
        let (k1, k2) = ((0xfeed, 3), (0xfeed, 4));
        let (a, b) = (Owner::Process(300), Owner::Process(400));
        set(k1, a, 300, F_WRLCK, 0, 10, false).unwrap();
        set(k2, b, 400, F_WRLCK, 0, 10, false).unwrap();
        // b waits for a's lock (as if blocked in F_SETLKW) ...
        with_table(|t| t.waiting.insert(b, Request { key: k1, write: true, start: 0, end: 10 }));
        // ... so a waiting for b's lock would wait on itself.
        assert_eq!(set(k2, a, 300, F_WRLCK, 0, 10, true), Err(Errno::EDEADLK));
        release_all_process_locks(300);
        release_all_process_locks(400);
    }

    #[test]
    fn ranges_follow_whence_and_negative_lengths() {
        assert_eq!(record_range(SEEK_SET as i16, 10, 0, 0, || Ok(0)), Ok((10, u64::MAX)));
        assert_eq!(record_range(SEEK_CUR as i16, -5, 5, 20, || Ok(0)), Ok((15, 20)));
        assert_eq!(record_range(SEEK_END as i16, 0, -10, 0, || Ok(30)), Ok((20, 30)));
        assert_eq!(record_range(SEEK_SET as i16, 5, -10, 0, || Ok(0)), Err(Errno::EINVAL));
        assert_eq!(record_range(7, 0, 0, 0, || Ok(0)), Err(Errno::EINVAL));
    }

    #[test]
    fn flock_is_per_open_file() {
        let key = (0xfeed, 2);
        flock(key, 1, LOCK_SH | LOCK_NB).unwrap();
        flock(key, 2, LOCK_SH | LOCK_NB).unwrap();
        assert_eq!(flock(key, 3, LOCK_EX | LOCK_NB), Err(Errno::EWOULDBLOCK));
        release_file_locks(1);
        flock(key, 2, LOCK_UN).unwrap();
        flock(key, 3, LOCK_EX | LOCK_NB).unwrap();
        release_file_locks(3);
    }
}
