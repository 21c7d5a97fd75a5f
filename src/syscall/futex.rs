//! futex(2) and futex_waitv(2): WAIT and WAKE (and their bitset forms),
//! REQUEUE / CMP_REQUEUE, WAKE_OP, and the priority-inheritance locks
//! (LOCK_PI, LOCK_PI2, TRYLOCK_PI, UNLOCK_PI: ownership and hand-off, with
//! no priorities to inherit). Arguments are checked in Linux's order (the
//! timeout first, then the command, the bitset, the alignment, the word);
//! the queues are task::futex's. The requeue-PI pair is not offered
//! (ENOSYS: glibc uses it only for condition variables on PI mutexes).

use crate::abi::futex::{
    FUTEX_BITSET_MATCH_ANY, FUTEX_CLOCK_REALTIME, FUTEX_CMP_REQUEUE, FUTEX_LOCK_PI, FUTEX_LOCK_PI2, FUTEX_PRIVATE_FLAG, FUTEX_REQUEUE, FUTEX_TRYLOCK_PI,
    FUTEX_UNLOCK_PI, FUTEX_WAIT, FUTEX_WAIT_BITSET, FUTEX_WAIT_REQUEUE_PI, FUTEX_WAKE, FUTEX_WAKE_BITSET, FUTEX_WAKE_OP,
};
use crate::abi::{Errno, KResult, Timespec};
use crate::mm::Mm;
use crate::sched::time::{Deadline, timespec_ns};
use crate::syscall::{Sys, SyscallDef};
use crate::syscalls;
use crate::task::RestartBlock;
use crate::task::futex::{FutexKey, PiLock, WakeOp};

pub const SYSCALLS: &[SyscallDef] = syscalls![
    __NR_futex => sys_futex,
    __NR_futex_waitv => sys_futex_waitv,
];

fn futex_key(mm: &Mm, uaddr: u64, private: bool) -> KResult<FutexKey> {
    FutexKey::of(mm, uaddr, private)
}

/// Linux's futex_cmd_has_timeout.
fn has_timeout(cmd: u32) -> bool {
    matches!(cmd, FUTEX_WAIT | FUTEX_LOCK_PI | FUTEX_LOCK_PI2 | FUTEX_WAIT_BITSET | FUTEX_WAIT_REQUEUE_PI)
}

fn sys_futex(sys: &mut Sys) -> KResult<u64> {
    let (uaddr, op, val, timeout, uaddr2, val3) = (sys.arg(0), sys.arg_u32(1), sys.arg_u32(2), sys.arg(3), sys.arg(4), sys.arg_u32(5));
    let cmd = op & !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
    let private = op & FUTEX_PRIVATE_FLAG != 0;
    // The timeout is read and checked first (Linux: sys_futex, then
    // futex_init_timeout): EFAULT, EINVAL, then saturation.
    let mut deadline = Deadline::NEVER;
    let mut realtime = None;
    let timed = timeout != 0 && has_timeout(cmd);
    if timed {
        let ts: Timespec = sys.mm().read(timeout)?;
        let ns = timespec_ns(&ts)?;
        deadline = if cmd == FUTEX_WAIT {
            // Relative, on CLOCK_MONOTONIC.
            Deadline::after_ns(ns)
        } else if op & FUTEX_CLOCK_REALTIME != 0 || cmd == FUTEX_LOCK_PI {
            // FUTEX_LOCK_PI's timeout is always absolute CLOCK_REALTIME.
            realtime = Some(ns as i128);
            Deadline::at_realtime(ns as i128)
        } else {
            Deadline::at_monotonic(ns)
        };
    }
    if op & FUTEX_CLOCK_REALTIME != 0 && !matches!(cmd, FUTEX_WAIT_BITSET | FUTEX_WAIT_REQUEUE_PI | FUTEX_LOCK_PI2) {
        return Err(Errno::ENOSYS);
    }
    match cmd {
        FUTEX_WAIT | FUTEX_WAIT_BITSET => {
            let bitset = if cmd == FUTEX_WAIT { FUTEX_BITSET_MATCH_ANY } else { val3 };
            wait(sys, uaddr, val, bitset, deadline, realtime, private, timed)
        }
        FUTEX_WAKE | FUTEX_WAKE_BITSET => {
            let bitset = if cmd == FUTEX_WAKE { FUTEX_BITSET_MATCH_ANY } else { val3 };
            if bitset == 0 {
                return Err(Errno::EINVAL);
            }
            let key = futex_key(&sys.mm(), uaddr, private)?;
            sys.task.system.futexes.wake(key, val, bitset)
        }
        FUTEX_REQUEUE | FUTEX_CMP_REQUEUE => {
            // val: how many to wake; the timeout slot carries how many to
            // move (val2); FUTEX_CMP_REQUEUE first checks *uaddr == val3.
            let (wake, requeue) = (val as i32, timeout as i32);
            if wake < 0 || requeue < 0 {
                return Err(Errno::EINVAL);
            }
            let mm = sys.mm();
            let from = futex_key(&mm, uaddr, private)?;
            let to = futex_key(&mm, uaddr2, private)?;
            let compare = cmd == FUTEX_CMP_REQUEUE;
            sys.task.system.futexes.requeue(from, to, wake as u32, requeue as u32, || Ok(!compare || mm.read::<u32>(uaddr)? == val3))
        }
        FUTEX_WAKE_OP => {
            // val: waiters to wake on uaddr; the timeout slot: on uaddr2.
            let (wake, wake2) = (val, timeout as u32);
            let mm = sys.mm();
            let key1 = futex_key(&mm, uaddr, private)?;
            let key2 = futex_key(&mm, uaddr2, private)?;
            let op = WakeOp::decode(val3)?;
            sys.task.system.futexes.wake_op(key1, key2, wake, wake2, op, |apply| mm.atomic_update_u32(uaddr2, |v| Some(apply(v))))
        }
        FUTEX_LOCK_PI | FUTEX_LOCK_PI2 => lock_pi(sys, uaddr, private, deadline, realtime, false),
        FUTEX_TRYLOCK_PI => lock_pi(sys, uaddr, private, deadline, realtime, true),
        FUTEX_UNLOCK_PI => {
            let mm = sys.mm();
            let key = futex_key(&mm, uaddr, private)?;
            let tid = sys.task.tid() as u32;
            let cmpxchg = |old: u32, new: u32| mm.atomic_update_u32(uaddr, |v| (v == old).then_some(new));
            sys.task.system.futexes.unlock_pi(key, tid, &cmpxchg, &|| mm.read::<u32>(uaddr))
        }
        _ => Err(Errno::ENOSYS),
    }
}

/// FUTEX_LOCK_PI[2] and FUTEX_TRYLOCK_PI: take the lock word for the
/// caller, or (unless trying) wait until an unlock hands it over or its
/// owner dies. An interrupted wait restarts (Linux: ERESTARTNOINTR). A
/// CLOCK_REALTIME deadline (`realtime`) follows a set of the clock.
fn lock_pi(sys: &Sys, uaddr: u64, private: bool, deadline: Deadline, realtime: Option<i128>, try_only: bool) -> KResult<u64> {
    let mm = sys.mm();
    let key = futex_key(&mm, uaddr, private)?;
    let futexes = &sys.task.system.futexes;
    let tid = sys.task.tid() as u32;
    let cmpxchg = |old: u32, new: u32| mm.atomic_update_u32(uaddr, |v| (v == old).then_some(new));
    let read = || mm.read::<u32>(uaddr);
    let system = sys.task.system.clone();
    let alive = move |t: u32| system.task(t as i32).is_some();
    loop {
        match futexes.try_lock_pi(tid, &cmpxchg, &read, &alive)? {
            PiLock::Acquired => return Ok(0),
            PiLock::Busy if try_only => return Err(Errno::EAGAIN),
            PiLock::Busy => {}
        }
        let me = futexes.enqueue_pi(key, tid, sys.task.sleeper.clone());
        // The owner may have unlocked between the attempt and the enqueue:
        // look again before sleeping.
        let r = crate::sched::wait::wait_until(&[], deadline, realtime, || {
            if me.is_woken() {
                return Ok(Some(()));
            }
            let v = read()?;
            let owner = v & crate::abi::futex::FUTEX_TID_MASK;
            Ok((owner == 0 || !alive(owner)).then_some(()))
        });
        let queued = futexes.dequeue(&me);
        if futexes.was_handed(&me) {
            return Ok(0);
        }
        match r {
            Ok(()) => continue,
            Err(Errno::ERESTARTSYS) if !queued => continue,
            Err(Errno::ERESTARTSYS) => return Err(Errno::ERESTARTNOINTR),
            Err(e) => return Err(e),
        }
    }
}

/// futex_waitv(waiters, nr, flags, timeout, clockid): waits on up to 128
/// u32 futexes at once; returns the index of one that was woken.
fn sys_futex_waitv(sys: &mut Sys) -> KResult<u64> {
    const FUTEX2_SIZE_U32: u32 = 2;
    const FUTEX2_SIZE_MASK: u32 = 3;
    const FUTEX2_PRIVATE: u32 = 128;
    const FUTEX_WAITV_MAX: u64 = 128;
    let (waiters, nr, flags, timeout, clockid) = (sys.arg(0), sys.arg(1), sys.arg_u32(2), sys.arg(3), sys.arg_i32(4));
    if flags != 0 || nr == 0 || nr > FUTEX_WAITV_MAX || waiters == 0 {
        return Err(Errno::EINVAL);
    }
    let (mut deadline, mut realtime) = (Deadline::NEVER, None);
    if timeout != 0 {
        let ts: Timespec = sys.mm().read(timeout)?;
        let ns = timespec_ns(&ts)?;
        deadline = match clockid {
            crate::abi::time::CLOCK_MONOTONIC => Deadline::at_monotonic(ns),
            crate::abi::time::CLOCK_REALTIME => {
                realtime = Some(ns as i128);
                Deadline::at_realtime(ns as i128)
            }
            _ => return Err(Errno::EINVAL),
        };
    }
    let mm = sys.mm();
    // struct futex_waitv { u64 val; u64 uaddr; u32 flags; u32 __reserved; }
    let mut entries = Vec::with_capacity(nr as usize);
    for i in 0..nr {
        let at = waiters + i * 24;
        let (val, uaddr, wflags, reserved): (u64, u64, u32, u32) = (mm.read(at)?, mm.read(at + 8)?, mm.read(at + 16)?, mm.read(at + 20)?);
        if reserved != 0 || wflags & !(FUTEX2_SIZE_MASK | FUTEX2_PRIVATE) != 0 || wflags & FUTEX2_SIZE_MASK != FUTEX2_SIZE_U32 {
            return Err(Errno::EINVAL);
        }
        if uaddr % 4 != 0 {
            return Err(Errno::EINVAL);
        }
        // A u32 futex compares only the low 32 bits; more is EINVAL.
        if val > u32::MAX as u64 {
            return Err(Errno::EINVAL);
        }
        entries.push((uaddr, val as u32, futex_key(&mm, uaddr, wflags & FUTEX2_PRIVATE != 0)?));
    }
    let futexes = &sys.task.system.futexes;
    let keys: Vec<FutexKey> = entries.iter().map(|e| e.2).collect();
    let queued = futexes.enqueue_many(&keys, sys.task.sleeper.clone(), || {
        for &(uaddr, val, _) in &entries {
            if mm.read::<u32>(uaddr)? != val {
                return Ok(false);
            }
        }
        Ok(true)
    })?;
    // A CLOCK_REALTIME deadline follows a set of the clock.
    let r = crate::sched::wait::wait_until(&[], deadline, realtime, || Ok(queued.iter().position(|w| w.is_woken())));
    for w in &queued {
        futexes.dequeue(w);
    }
    // A wake that raced with the signal or the timeout counts.
    match queued.iter().position(|w| w.is_woken()) {
        Some(i) => Ok(i as u64),
        None => r.map(|i| i as u64),
    }
}

/// FUTEX_WAIT[_BITSET]: an interrupted untimed wait restarts per
/// SA_RESTART (ERESTARTSYS); a timed one goes through restart_syscall with
/// its absolute deadline (Linux: futex_wait_restart).
/// A CLOCK_REALTIME deadline (`realtime`) follows a set of the clock.
#[allow(clippy::too_many_arguments)]
fn wait(sys: &Sys, uaddr: u64, val: u32, bitset: u32, deadline: Deadline, realtime: Option<i128>, private: bool, timed: bool) -> KResult<u64> {
    if bitset == 0 {
        return Err(Errno::EINVAL);
    }
    let mm = sys.mm();
    let key = futex_key(&mm, uaddr, private)?;
    match sys.task.system.futexes.wait(key, bitset, deadline, realtime, || Ok(mm.read::<u32>(uaddr)? == val)) {
        Ok(()) => Ok(0),
        Err(Errno::ERESTARTSYS) if timed => {
            *sys.task.restart_block.lock() = Some(RestartBlock::FutexWait { uaddr, val, bitset, deadline, realtime, private });
            Err(Errno::ERESTART_RESTARTBLOCK)
        }
        Err(e) => Err(e),
    }
}

/// restart_syscall for an interrupted timed futex wait.
pub fn restart_wait(sys: &Sys, uaddr: u64, val: u32, bitset: u32, deadline: Deadline, realtime: Option<i128>, private: bool) -> KResult<u64> {
    wait(sys, uaddr, val, bitset, deadline, realtime, private, true)
}
