//! `futex` operations and flags (Linux: include/uapi/linux/futex.h).

// Linux's table; not every value is used yet.
#![allow(dead_code)]

use linux_raw_sys::general;

pub const FUTEX_WAIT: u32 = general::FUTEX_WAIT;
pub const FUTEX_WAKE: u32 = general::FUTEX_WAKE;
pub const FUTEX_WAIT_BITSET: u32 = general::FUTEX_WAIT_BITSET;
pub const FUTEX_WAKE_BITSET: u32 = general::FUTEX_WAKE_BITSET;
pub const FUTEX_PRIVATE_FLAG: u32 = general::FUTEX_PRIVATE_FLAG;
pub const FUTEX_CLOCK_REALTIME: u32 = general::FUTEX_CLOCK_REALTIME;
pub const FUTEX_BITSET_MATCH_ANY: u32 = general::FUTEX_BITSET_MATCH_ANY;
