//! Resource limits (getrlimit/setrlimit/prlimit64) with Linux's defaults.
// The RLIMIT_* table is Linux's whole list; not every entry is enforced yet.
#![allow(dead_code)]

use crate::abi::Rlimit;
use crate::abi::resource::RLIM_NLIMITS;

/// PID 1 starts with the limits vkernel itself runs under, so programs see
/// what they would see natively.
pub fn initial() -> [Rlimit; RLIM_NLIMITS] {
    crate::platform::host::system::rlimits()
}
