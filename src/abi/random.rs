//! `getrandom` flags (Linux: include/uapi/linux/random.h).

// Linux's table; not every value is used yet.
#![allow(dead_code)]

use linux_raw_sys::general;

pub const GRND_NONBLOCK: u32 = general::GRND_NONBLOCK;
pub const GRND_RANDOM: u32 = general::GRND_RANDOM;
pub const GRND_INSECURE: u32 = general::GRND_INSECURE;
