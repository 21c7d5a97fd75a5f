//! futex(2): FUTEX_WAIT, FUTEX_WAKE, their bitset forms and FUTEX_REQUEUE /
//! FUTEX_CMP_REQUEUE. Arguments are checked in Linux's order (the timeout
//! first, then the command, the bitset, the alignment, the word); the
//! waiting is task::futex's. The wake-op and priority-inheritance
//! operations are not offered (ENOSYS).

use crate::abi::futex::{
    FUTEX_BITSET_MATCH_ANY, FUTEX_CLOCK_REALTIME, FUTEX_CMP_REQUEUE, FUTEX_LOCK_PI, FUTEX_LOCK_PI2, FUTEX_PRIVATE_FLAG, FUTEX_REQUEUE, FUTEX_WAIT,
    FUTEX_WAIT_BITSET, FUTEX_WAIT_REQUEUE_PI, FUTEX_WAKE, FUTEX_WAKE_BITSET,
};
use crate::abi::{Errno, KResult, Timespec};
use crate::mm::Mm;
use crate::sched::time::{Deadline, timespec_ns};
use crate::syscall::{Sys, SyscallDef};
use crate::syscalls;
use crate::task::RestartBlock;
use crate::task::futex::FutexKey;

pub const SYSCALLS: &[SyscallDef] = syscalls![
    __NR_futex => sys_futex,
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
    let timed = timeout != 0 && has_timeout(cmd);
    if timed {
        let ts: Timespec = sys.mm().read(timeout)?;
        let ns = timespec_ns(&ts)?;
        deadline = if cmd == FUTEX_WAIT {
            // Relative, on CLOCK_MONOTONIC.
            Deadline::after_ns(ns)
        } else if op & FUTEX_CLOCK_REALTIME != 0 {
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
            wait(sys, uaddr, val, bitset, deadline, private, timed)
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
        _ => Err(Errno::ENOSYS),
    }
}

/// FUTEX_WAIT[_BITSET]: an interrupted untimed wait restarts per
/// SA_RESTART (ERESTARTSYS); a timed one goes through restart_syscall with
/// its absolute deadline (Linux: futex_wait_restart).
fn wait(sys: &Sys, uaddr: u64, val: u32, bitset: u32, deadline: Deadline, private: bool, timed: bool) -> KResult<u64> {
    if bitset == 0 {
        return Err(Errno::EINVAL);
    }
    let mm = sys.mm();
    let key = futex_key(&mm, uaddr, private)?;
    match sys.task.system.futexes.wait(key, bitset, deadline, || Ok(mm.read::<u32>(uaddr)? == val)) {
        Ok(()) => Ok(0),
        Err(Errno::ERESTARTSYS) if timed => {
            *sys.task.restart_block.lock() = Some(RestartBlock::FutexWait { uaddr, val, bitset, deadline, private });
            Err(Errno::ERESTART_RESTARTBLOCK)
        }
        Err(e) => Err(e),
    }
}

/// restart_syscall for an interrupted timed futex wait.
pub fn restart_wait(sys: &Sys, uaddr: u64, val: u32, bitset: u32, deadline: Deadline, private: bool) -> KResult<u64> {
    wait(sys, uaddr, val, bitset, deadline, private, true)
}
