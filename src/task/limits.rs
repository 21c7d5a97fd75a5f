//! Resource limits (getrlimit/setrlimit/prlimit64) with Linux's defaults.
// The RLIMIT_* table is Linux's whole list; not every entry is enforced yet.
#![allow(dead_code)]

use crate::abi::Rlimit;

pub const RLIMIT_CPU: usize = 0;
pub const RLIMIT_FSIZE: usize = 1;
pub const RLIMIT_DATA: usize = 2;
pub const RLIMIT_STACK: usize = 3;
pub const RLIMIT_CORE: usize = 4;
pub const RLIMIT_RSS: usize = 5;
pub const RLIMIT_NPROC: usize = 6;
pub const RLIMIT_NOFILE: usize = 7;
pub const RLIMIT_MEMLOCK: usize = 8;
pub const RLIMIT_AS: usize = 9;
pub const RLIMIT_LOCKS: usize = 10;
pub const RLIMIT_SIGPENDING: usize = 11;
pub const RLIMIT_MSGQUEUE: usize = 12;
pub const RLIMIT_NICE: usize = 13;
pub const RLIMIT_RTPRIO: usize = 14;
pub const RLIMIT_RTTIME: usize = 15;
pub const RLIM_NLIMITS: usize = 16;
pub const RLIM_INFINITY: u64 = u64::MAX;

/// PID 1 starts with the limits vkernel itself runs under, so programs see
/// what they would see natively.
pub fn initial() -> [Rlimit; RLIM_NLIMITS] {
    crate::platform::host::system::rlimits()
}
