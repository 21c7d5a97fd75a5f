//! `personality` flags (Linux: include/uapi/linux/personality.h; linux-raw-sys
//! lacks this header, so the values are written here).

// Linux's table; not every value is used yet.
#![allow(dead_code)]

// Not in linux-raw-sys; from include/uapi/linux/personality.h.
/// select/ppoll leave the timeout alone.
pub const STICKY_TIMEOUTS: u32 = 0x0400_0000;
