//! Clocks and timers: clock ids, `TIMER_ABSTIME`, interval timers
//! (Linux: include/uapi/linux/time.h).

// Linux's table; not every value is used yet.
#![allow(dead_code)]

use linux_raw_sys::general;

pub const CLOCK_REALTIME: i32 = general::CLOCK_REALTIME as i32;
pub const CLOCK_MONOTONIC: i32 = general::CLOCK_MONOTONIC as i32;
pub const CLOCK_PROCESS_CPUTIME_ID: i32 = general::CLOCK_PROCESS_CPUTIME_ID as i32;
pub const CLOCK_THREAD_CPUTIME_ID: i32 = general::CLOCK_THREAD_CPUTIME_ID as i32;
pub const CLOCK_MONOTONIC_RAW: i32 = general::CLOCK_MONOTONIC_RAW as i32;
pub const CLOCK_REALTIME_COARSE: i32 = general::CLOCK_REALTIME_COARSE as i32;
pub const CLOCK_MONOTONIC_COARSE: i32 = general::CLOCK_MONOTONIC_COARSE as i32;
pub const CLOCK_BOOTTIME: i32 = general::CLOCK_BOOTTIME as i32;
pub const CLOCK_REALTIME_ALARM: i32 = general::CLOCK_REALTIME_ALARM as i32;
pub const CLOCK_BOOTTIME_ALARM: i32 = general::CLOCK_BOOTTIME_ALARM as i32;
pub const CLOCK_TAI: i32 = general::CLOCK_TAI as i32;
pub const TIMER_ABSTIME: u32 = general::TIMER_ABSTIME;

pub const ITIMER_REAL: i32 = general::ITIMER_REAL as i32;
pub const ITIMER_VIRTUAL: i32 = general::ITIMER_VIRTUAL as i32;
pub const ITIMER_PROF: i32 = general::ITIMER_PROF as i32;

/// Dynamic CPU clock ids (Linux: include/linux/posix-timers_types.h):
/// MAKE_PROCESS_CPUCLOCK(pid, clock) is ((~pid) << 3) | clock, with bit 2
/// set for a thread's clock; a low-bits value of 3 is a clock fd.
pub const CPUCLOCK_PROF: i32 = 0;
pub const CPUCLOCK_VIRT: i32 = 1;
pub const CPUCLOCK_SCHED: i32 = 2;
pub const CPUCLOCK_MAX: i32 = 3;
pub const CPUCLOCK_PERTHREAD_MASK: i32 = 4;
pub const CPUCLOCK_CLOCK_MASK: i32 = 3;
pub const CLOCKFD: i32 = 3;
pub const CLOCKFD_MASK: i32 = CPUCLOCK_PERTHREAD_MASK | CPUCLOCK_CLOCK_MASK;
