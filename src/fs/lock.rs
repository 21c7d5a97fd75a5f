//! Advisory file locks: POSIX record locks (fcntl F_SETLK, owned by a
//! process), open-file-description locks (F_OFD_SETLK, owned by a File)
//! and flock locks (owned by a File). Locks are keyed by (dev, ino) and
//! kept in one table; a lock whose owning process is gone is dropped the
//! next time the table is consulted, so exit needs no hook.

use parking_lot::Mutex;
use std::collections::HashMap;

use crate::abi::fcntl::{F_UNLCK, F_WRLCK, LOCK_EX, LOCK_UN};
use crate::abi::{Errno, KResult};

/// Who holds a lock.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Owner {
    /// A POSIX record lock of process `tgid`.
    Process(i32),
    /// An OFD lock, by open file description address.
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

type Key = (u64, u64);

static LOCKS: Mutex<Option<HashMap<Key, Vec<Lock>>>> = Mutex::new(None);

fn conflicts(a: &Lock, family: Family, owner: Owner, write: bool, start: u64, end: u64) -> bool {
    a.family == family && a.owner != owner && (a.write || write) && a.start < end && start < a.end
}

/// Runs `f` on the table after dropping locks of processes that are gone.
fn with_table<R>(alive: &dyn Fn(i32) -> bool, f: impl FnOnce(&mut HashMap<Key, Vec<Lock>>) -> R) -> R {
    let mut g = LOCKS.lock();
    let table = g.get_or_insert_with(HashMap::new);
    table.retain(|_, v| {
        v.retain(|l| !matches!(l.owner, Owner::Process(p) if !alive(p)));
        !v.is_empty()
    });
    f(table)
}

/// F_GETLK: the first lock that would block the described one.
pub fn test(key: Key, owner: Owner, write: bool, start: u64, end: u64, alive: &dyn Fn(i32) -> bool) -> Option<Lock> {
    with_table(alive, |t| t.get(&key).and_then(|v| v.iter().find(|l| conflicts(l, Family::Record, owner, write, start, end)).copied()))
}

/// F_SETLK: takes, converts or (with F_UNLCK) releases [start, end).
/// EAGAIN when another owner's lock conflicts.
pub fn set(key: Key, owner: Owner, pid: i32, kind: i16, start: u64, end: u64, alive: &dyn Fn(i32) -> bool) -> KResult<()> {
    let write = kind == F_WRLCK;
    with_table(alive, |t| {
        let v = t.entry(key).or_default();
        if kind != F_UNLCK && v.iter().any(|l| conflicts(l, Family::Record, owner, write, start, end)) {
            return Err(Errno::EAGAIN);
        }
        // Cut our own locks out of the range, keeping the parts outside it.
        let mut kept = Vec::with_capacity(v.len() + 2);
        for l in v.drain(..) {
            if l.family != Family::Record || l.owner != owner || l.end <= start || end <= l.start {
                kept.push(l);
                continue;
            }
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
            t.remove(&key);
        }
        Ok(())
    })
}

/// flock(2) on a whole file; EWOULDBLOCK when held incompatibly by another
/// open file description.
pub fn flock(key: Key, file: usize, op: u32, alive: &dyn Fn(i32) -> bool) -> KResult<()> {
    let owner = Owner::File(file);
    with_table(alive, |t| {
        let v = t.entry(key).or_default();
        v.retain(|l| !(l.family == Family::Flock && l.owner == owner));
        if op & LOCK_UN == 0 {
            let write = op & LOCK_EX != 0;
            if v.iter().any(|l| conflicts(l, Family::Flock, owner, write, 0, u64::MAX)) {
                return Err(Errno::EWOULDBLOCK);
            }
            v.push(Lock { owner, pid: -1, write, start: 0, end: u64::MAX, family: Family::Flock });
        }
        if v.is_empty() {
            t.remove(&key);
        }
        Ok(())
    })
}

/// close(2) drops the process's record locks on the file (POSIX).
pub fn release_process_locks(key: Key, tgid: i32) {
    let mut g = LOCKS.lock();
    if let Some(t) = g.as_mut() {
        if let Some(v) = t.get_mut(&key) {
            v.retain(|l| l.owner != Owner::Process(tgid));
            if v.is_empty() {
                t.remove(&key);
            }
        }
    }
}

/// The last reference to an open file description is gone: its OFD and
/// flock locks go with it.
pub fn release_file_locks(file: usize) {
    let mut g = LOCKS.lock();
    if let Some(t) = g.as_mut() {
        if t.is_empty() {
            return;
        }
        t.retain(|_, v| {
            v.retain(|l| l.owner != Owner::File(file));
            !v.is_empty()
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::fcntl::{F_RDLCK, LOCK_NB, LOCK_SH};

    const ALIVE: &dyn Fn(i32) -> bool = &|_| true;

    #[test]
    fn record_locks_conflict_split_and_release() {
        let key = (0xfeed, 1);
        let (a, b) = (Owner::Process(100), Owner::Process(200));
        set(key, a, 100, F_WRLCK, 0, 100, ALIVE).unwrap();
        assert_eq!(set(key, b, 200, F_RDLCK, 50, 60, ALIVE), Err(Errno::EAGAIN));
        // Unlocking the middle leaves two pieces.
        set(key, a, 100, F_UNLCK, 40, 70, ALIVE).unwrap();
        set(key, b, 200, F_WRLCK, 50, 60, ALIVE).unwrap();
        assert_eq!(test(key, b, false, 0, 10, ALIVE).map(|l| (l.start, l.end)), Some((0, 40)));
        assert!(test(key, a, true, 0, 10, ALIVE).is_none());
        release_process_locks(key, 100);
        assert!(test(key, b, true, 0, 100, ALIVE).is_none());
        // A dead owner's locks vanish.
        assert!(test(key, a, true, 0, 100, &|p| p != 200).is_none());
    }

    #[test]
    fn flock_is_per_open_file() {
        let key = (0xfeed, 2);
        flock(key, 1, LOCK_SH, ALIVE).unwrap();
        flock(key, 2, LOCK_SH, ALIVE).unwrap();
        assert_eq!(flock(key, 3, LOCK_EX | LOCK_NB, ALIVE), Err(Errno::EWOULDBLOCK));
        release_file_locks(1);
        flock(key, 2, LOCK_UN, ALIVE).unwrap();
        flock(key, 3, LOCK_EX, ALIVE).unwrap();
        release_file_locks(3);
    }
}
