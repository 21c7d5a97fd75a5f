//! futex(2): FUTEX_WAIT, FUTEX_WAKE and their bitset forms. The requeue,
//! wake-op and priority-inheritance operations are not offered (ENOSYS).

use std::time::{Duration, Instant};

use crate::abi::futex::{FUTEX_BITSET_MATCH_ANY, FUTEX_CLOCK_REALTIME, FUTEX_PRIVATE_FLAG, FUTEX_WAIT, FUTEX_WAIT_BITSET, FUTEX_WAKE, FUTEX_WAKE_BITSET};
use crate::abi::{Errno, KResult, Timespec};
use crate::syscall::{Sys, SyscallDef};
use crate::syscalls;
use crate::task::futex::FutexKey;

pub const SYSCALLS: &[SyscallDef] = syscalls![
    __NR_futex => sys_futex,
];

fn sys_futex(sys: &mut Sys) -> KResult<u64> {
    let (uaddr, op, val, timeout, val3) = (sys.arg(0), sys.arg_u32(1), sys.arg_u32(2), sys.arg(3), sys.arg_u32(5));
    let cmd = op & !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
    if uaddr % 4 != 0 {
        return Err(Errno::EINVAL);
    }
    if op & FUTEX_CLOCK_REALTIME != 0 && cmd != FUTEX_WAIT_BITSET {
        return Err(Errno::ENOSYS);
    }
    let mm = sys.mm();
    let key = if op & FUTEX_PRIVATE_FLAG != 0 {
        FutexKey::Private { mm: mm.id, addr: uaddr }
    } else {
        // Shared futexes meet on the frame; resolving it also checks the address.
        mm.read::<u32>(uaddr)?;
        match mm.frame_of(uaddr) {
            Some(frame) => FutexKey::Shared { frame, offset: (uaddr % 4096) as u32 },
            None => return Err(Errno::EFAULT),
        }
    };
    let futexes = &sys.task.system.futexes;
    match cmd {
        FUTEX_WAIT | FUTEX_WAIT_BITSET => {
            let bitset = if cmd == FUTEX_WAIT { FUTEX_BITSET_MATCH_ANY } else { val3 };
            let deadline = if timeout == 0 {
                None
            } else {
                let ts: Timespec = mm.read(timeout)?;
                if ts.tv_sec < 0 || !(0..1_000_000_000).contains(&ts.tv_nsec) {
                    return Err(Errno::EINVAL);
                }
                let ns = ts.tv_sec as u128 * 1_000_000_000 + ts.tv_nsec as u128;
                Some(if cmd == FUTEX_WAIT {
                    // Relative timeout.
                    Instant::now() + Duration::from_nanos(ns.min(u64::MAX as u128) as u64)
                } else {
                    // Absolute, on CLOCK_MONOTONIC or CLOCK_REALTIME.
                    let now = if op & FUTEX_CLOCK_REALTIME != 0 { crate::sched::clock::realtime_ns() } else { crate::sched::clock::monotonic_ns() as i128 };
                    let left = (ns as i128 - now).max(0) as u64;
                    Instant::now() + Duration::from_nanos(left)
                })
            };
            futexes.wait(key, bitset, deadline, || Ok(mm.read::<u32>(uaddr)? == val))?;
            Ok(0)
        }
        FUTEX_WAKE | FUTEX_WAKE_BITSET => {
            let bitset = if cmd == FUTEX_WAKE { FUTEX_BITSET_MATCH_ANY } else { val3 };
            futexes.wake(key, val, bitset)
        }
        _ => Err(Errno::ENOSYS),
    }
}
