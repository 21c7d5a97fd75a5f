//! Resource limits (getrlimit/setrlimit/prlimit64) with Linux's defaults.
// The RLIMIT_* table is Linux's whole list; not every entry is enforced yet.
#![allow(dead_code)]

use crate::abi::Rlimit;
use crate::abi::resource::{RLIM_INFINITY, RLIM_NLIMITS};

/// How far a stack may grow below its initial top.
pub const STACK_MAX_GROWTH: u64 = 8 << 20;

/// PID 1 starts with the limits vkernel itself runs under, so programs see
/// what they would see natively.
pub fn initial() -> [Rlimit; RLIM_NLIMITS] {
    let mut l = [Rlimit { cur: RLIM_INFINITY, max: RLIM_INFINITY }; RLIM_NLIMITS];
    for (i, slot) in l.iter_mut().enumerate() {
        let mut r = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: querying our own limits into a local.
        if unsafe { libc::getrlimit(i as libc::__rlimit_resource_t, &mut r) } == 0 {
            *slot = Rlimit { cur: r.rlim_cur, max: r.rlim_max };
        }
    }
    l
}
