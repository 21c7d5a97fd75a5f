//! Resource limits and usage (Linux: include/uapi/asm-generic/resource.h,
//! include/uapi/linux/resource.h).

// Linux's table; not every value is used yet.
#![allow(dead_code)]

use linux_raw_sys::general;

pub const RLIMIT_CPU: usize = general::RLIMIT_CPU as usize;
pub const RLIMIT_FSIZE: usize = general::RLIMIT_FSIZE as usize;
pub const RLIMIT_DATA: usize = general::RLIMIT_DATA as usize;
pub const RLIMIT_STACK: usize = general::RLIMIT_STACK as usize;
pub const RLIMIT_CORE: usize = general::RLIMIT_CORE as usize;
pub const RLIMIT_RSS: usize = general::RLIMIT_RSS as usize;
pub const RLIMIT_NPROC: usize = general::RLIMIT_NPROC as usize;
pub const RLIMIT_NOFILE: usize = general::RLIMIT_NOFILE as usize;
pub const RLIMIT_MEMLOCK: usize = general::RLIMIT_MEMLOCK as usize;
pub const RLIMIT_AS: usize = general::RLIMIT_AS as usize;
pub const RLIMIT_LOCKS: usize = general::RLIMIT_LOCKS as usize;
pub const RLIMIT_SIGPENDING: usize = general::RLIMIT_SIGPENDING as usize;
pub const RLIMIT_MSGQUEUE: usize = general::RLIMIT_MSGQUEUE as usize;
pub const RLIMIT_NICE: usize = general::RLIMIT_NICE as usize;
pub const RLIMIT_RTPRIO: usize = general::RLIMIT_RTPRIO as usize;
pub const RLIMIT_RTTIME: usize = general::RLIMIT_RTTIME as usize;
pub const RLIM_NLIMITS: usize = general::RLIM_NLIMITS as usize;
pub const RLIM_INFINITY: u64 = general::RLIM_INFINITY as u64;

pub const RUSAGE_SELF: i32 = general::RUSAGE_SELF as i32;
pub const RUSAGE_CHILDREN: i32 = general::RUSAGE_CHILDREN;
pub const RUSAGE_THREAD: i32 = general::RUSAGE_THREAD as i32;
