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
pub const FUTEX_REQUEUE: u32 = general::FUTEX_REQUEUE;
pub const FUTEX_CMP_REQUEUE: u32 = general::FUTEX_CMP_REQUEUE;
pub const FUTEX_WAKE_OP: u32 = general::FUTEX_WAKE_OP;
pub const FUTEX_LOCK_PI: u32 = general::FUTEX_LOCK_PI;
pub const FUTEX_LOCK_PI2: u32 = general::FUTEX_LOCK_PI2;
pub const FUTEX_UNLOCK_PI: u32 = general::FUTEX_UNLOCK_PI;
pub const FUTEX_TRYLOCK_PI: u32 = general::FUTEX_TRYLOCK_PI;
pub const FUTEX_WAIT_REQUEUE_PI: u32 = general::FUTEX_WAIT_REQUEUE_PI;
pub const FUTEX_CMP_REQUEUE_PI: u32 = general::FUTEX_CMP_REQUEUE_PI;
pub const FUTEX_WAITERS: u32 = general::FUTEX_WAITERS;
pub const FUTEX_OWNER_DIED: u32 = general::FUTEX_OWNER_DIED;
pub const FUTEX_TID_MASK: u32 = general::FUTEX_TID_MASK;
