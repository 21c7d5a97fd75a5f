//! Time system calls: clocks, gettimeofday, time, sleeps.

use std::time::Duration;

use crate::abi::{Errno, KResult, Timespec, Timeval, Timezone};
use crate::syscall::{Sys, SyscallDef};
use crate::syscalls;

pub const SYSCALLS: &[SyscallDef] = syscalls![
    __NR_clock_gettime => sys_clock_gettime,
    __NR_clock_getres => sys_clock_getres,
    __NR_gettimeofday => sys_gettimeofday,
    __NR_time => sys_time,
    __NR_nanosleep => sys_nanosleep,
    __NR_clock_nanosleep => sys_clock_nanosleep,
];

const CLOCK_REALTIME: i32 = 0;
const CLOCK_MONOTONIC: i32 = 1;
const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;
const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
const CLOCK_MONOTONIC_RAW: i32 = 4;
const CLOCK_REALTIME_COARSE: i32 = 5;
const CLOCK_MONOTONIC_COARSE: i32 = 6;
const CLOCK_BOOTTIME: i32 = 7;
const CLOCK_REALTIME_ALARM: i32 = 8;
const CLOCK_BOOTTIME_ALARM: i32 = 9;
const CLOCK_TAI: i32 = 11;
const TIMER_ABSTIME: u32 = 1;

/// The guest's clock `id` now, in nanoseconds.
fn clock_now(sys: &Sys, id: i32) -> KResult<i128> {
    let k = &sys.task.kernel;
    Ok(match id {
        CLOCK_REALTIME | CLOCK_REALTIME_COARSE | CLOCK_REALTIME_ALARM => k.realtime_ns(),
        // TAI is 37 s ahead of UTC (with the host's default tai offset of 0,
        // Linux reports TAI == REALTIME; match that).
        CLOCK_TAI => k.realtime_ns(),
        CLOCK_MONOTONIC | CLOCK_MONOTONIC_RAW | CLOCK_MONOTONIC_COARSE | CLOCK_BOOTTIME | CLOCK_BOOTTIME_ALARM => k.monotonic_ns() as i128,
        CLOCK_PROCESS_CPUTIME_ID | CLOCK_THREAD_CPUTIME_ID => {
            let (u, s) = crate::task::cpu_times(sys.task);
            (u + s) as i128
        }
        _ => return Err(Errno::EINVAL),
    })
}

fn to_timespec(ns: i128) -> Timespec {
    Timespec { tv_sec: ns.div_euclid(1_000_000_000) as i64, tv_nsec: ns.rem_euclid(1_000_000_000) as i64 }
}

fn sys_clock_gettime(sys: &mut Sys) -> KResult<u64> {
    let now = clock_now(sys, sys.arg_i32(0))?;
    sys.mm().write(sys.arg(1), &to_timespec(now))?;
    Ok(0)
}

fn sys_clock_getres(sys: &mut Sys) -> KResult<u64> {
    let id = sys.arg_i32(0);
    clock_now(sys, id)?;
    let res = match id {
        // Coarse clocks tick at HZ (250 on common configs: 4 ms).
        CLOCK_REALTIME_COARSE | CLOCK_MONOTONIC_COARSE => 4_000_000,
        _ => 1,
    };
    if sys.arg(1) != 0 {
        sys.mm().write(sys.arg(1), &Timespec { tv_sec: 0, tv_nsec: res })?;
    }
    Ok(0)
}

fn sys_gettimeofday(sys: &mut Sys) -> KResult<u64> {
    let now = sys.task.kernel.realtime_ns();
    let mm = sys.mm();
    if sys.arg(0) != 0 {
        let tv = Timeval { tv_sec: now.div_euclid(1_000_000_000) as i64, tv_usec: (now.rem_euclid(1_000_000_000) / 1000) as i64 };
        mm.write(sys.arg(0), &tv)?;
    }
    if sys.arg(1) != 0 {
        mm.write(sys.arg(1), &Timezone::default())?;
    }
    Ok(0)
}

fn sys_time(sys: &mut Sys) -> KResult<u64> {
    let secs = sys.task.kernel.realtime_ns().div_euclid(1_000_000_000) as i64;
    if sys.arg(0) != 0 {
        sys.mm().write(sys.arg(0), &secs)?;
    }
    Ok(secs as u64)
}

fn read_timespec(sys: &Sys, addr: u64) -> KResult<Timespec> {
    let ts: Timespec = sys.mm().read(addr)?;
    if ts.tv_sec < 0 || !(0..1_000_000_000).contains(&ts.tv_nsec) {
        return Err(Errno::EINVAL);
    }
    Ok(ts)
}

fn sleep_ns(ns: i128) {
    if ns > 0 {
        std::thread::sleep(Duration::from_nanos(ns.min(u64::MAX as i128) as u64));
    }
}

fn sys_nanosleep(sys: &mut Sys) -> KResult<u64> {
    let ts = read_timespec(sys, sys.arg(0))?;
    sleep_ns(ts.tv_sec as i128 * 1_000_000_000 + ts.tv_nsec as i128);
    Ok(0)
}

fn sys_clock_nanosleep(sys: &mut Sys) -> KResult<u64> {
    let (id, flags, req) = (sys.arg_i32(0), sys.arg_u32(1), sys.arg(2));
    match id {
        CLOCK_REALTIME | CLOCK_MONOTONIC | CLOCK_BOOTTIME | CLOCK_TAI | CLOCK_PROCESS_CPUTIME_ID => {}
        // Linux: sleeping on the calling thread's own CPU clock is EINVAL in
        // the kernel, but glibc answers EOPNOTSUPP before asking.
        CLOCK_THREAD_CPUTIME_ID => return Err(Errno::EOPNOTSUPP),
        _ => {
            clock_now(sys, id)?;
            return Err(Errno::EOPNOTSUPP);
        }
    }
    let ts = read_timespec(sys, req)?;
    let want = ts.tv_sec as i128 * 1_000_000_000 + ts.tv_nsec as i128;
    if flags & TIMER_ABSTIME != 0 {
        // Sleep until the clock reaches `want`, re-reading it.
        loop {
            let left = want - clock_now(sys, id)?;
            if left <= 0 {
                break;
            }
            sleep_ns(left);
        }
    } else {
        sleep_ns(want);
    }
    Ok(0)
}
