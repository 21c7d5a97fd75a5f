//! Resource limits (getrlimit/setrlimit/prlimit64) with Linux's defaults,
//! and what a process keeps for the rules around them: its OOM score
//! adjustment, its core-dump filter and whether it may dump core.

use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, Ordering};

use crate::abi::Rlimit;
use crate::abi::resource::RLIM_NLIMITS;

/// PID 1 starts with the limits vkernel itself runs under, so programs see
/// what they would see natively.
pub fn initial() -> [Rlimit; RLIM_NLIMITS] {
    crate::platform::host::system::rlimits()
}

/// Linux's default /proc/PID/coredump_filter: anonymous private and
/// shared memory, ELF headers and private huge pages (MMF_DUMP_FILTER_DEFAULT).
pub const DEFAULT_COREDUMP_FILTER: u32 = 0x33;

pub const OOM_SCORE_ADJ_MIN: i32 = -1000;
pub const OOM_SCORE_ADJ_MAX: i32 = 1000;

/// Per-process state for limits and core dumps (Linux keeps these in
/// signal_struct and mm->flags). Children inherit it; exec keeps it.
pub struct ProcessLimits {
    pub oom_score_adj: AtomicI32,
    /// The lowest adjustment an unprivileged write may set: what a
    /// privileged writer last chose (Linux's oom_score_adj_min).
    pub oom_score_adj_min: AtomicI32,
    /// /proc/PID/coredump_filter: which mappings a core file holds.
    pub coredump_filter: AtomicU32,
    /// PR_SET_DUMPABLE; cleared when the credentials change (Linux's
    /// commit_creds with suid_dumpable 0), set again by exec.
    pub dumpable: AtomicBool,
}

impl Default for ProcessLimits {
    fn default() -> Self {
        ProcessLimits {
            oom_score_adj: AtomicI32::new(0),
            oom_score_adj_min: AtomicI32::new(0),
            coredump_filter: AtomicU32::new(DEFAULT_COREDUMP_FILTER),
            dumpable: AtomicBool::new(true),
        }
    }
}

impl ProcessLimits {
    /// A child's copy at fork.
    pub fn inherit(&self, parent: &ProcessLimits) {
        let copy = |to: &AtomicI32, from: &AtomicI32| to.store(from.load(Ordering::Relaxed), Ordering::Relaxed);
        copy(&self.oom_score_adj, &parent.oom_score_adj);
        copy(&self.oom_score_adj_min, &parent.oom_score_adj_min);
        self.coredump_filter.store(parent.coredump_filter.load(Ordering::Relaxed), Ordering::Relaxed);
        self.dumpable.store(parent.dumpable.load(Ordering::Relaxed), Ordering::Relaxed);
    }
}
