//! Vectored I/O: the iovec limit and `preadv2`/`pwritev2` flags
//! (Linux: include/uapi/linux/uio.h, include/uapi/linux/fs.h).

// Linux's table; not every value is used yet.
#![allow(dead_code)]

use linux_raw_sys::general;

/// Linux calls it `UIO_MAXIOV`; glibc calls it `IOV_MAX`.
pub const IOV_MAX: i32 = general::UIO_MAXIOV as i32;

pub const RWF_HIPRI: u64 = general::RWF_HIPRI as u64;
pub const RWF_DSYNC: u64 = general::RWF_DSYNC as u64;
pub const RWF_SYNC: u64 = general::RWF_SYNC as u64;
pub const RWF_NOWAIT: u64 = general::RWF_NOWAIT as u64;
pub const RWF_APPEND: u64 = general::RWF_APPEND as u64;
