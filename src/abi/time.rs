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
