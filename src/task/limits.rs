//! Resource limits (getrlimit/setrlimit/prlimit64) with Linux's defaults,
//! and what a process keeps for the rules around them: its OOM score
//! adjustment, its core-dump filter and whether it may dump core; and
//! RLIMIT_NPROC's rules at fork, set*uid and execve.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, Ordering};

use crate::abi::capability::{CAP_SYS_ADMIN, CAP_SYS_RESOURCE};
use crate::abi::resource::{RLIM_NLIMITS, RLIMIT_NPROC};
use crate::abi::{Errno, KResult, Rlimit};
use crate::task::Task;

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

/// RLIMIT_NPROC's count for user `uid`: tasks (threads included, zombies
/// until reaped, as Linux's ucounts) whose real user it is, `except` not
/// counted. Each task's credentials are looked at after the table lock.
fn tasks_of_user(task: &Arc<Task>, uid: u32, except: Option<&Arc<Task>>) -> u64 {
    let tasks: Vec<Arc<Task>> = task.system.tasks.lock().values().filter_map(|w| w.upgrade()).collect();
    tasks.iter().filter(|t| except.is_none_or(|e| !Arc::ptr_eq(t, e)) && t.creds().uid == uid).count() as u64
}

/// fork and clone (Linux's copy_process): EAGAIN when the caller's real
/// user already has as many tasks as its RLIMIT_NPROC, unless the user is
/// root or holds CAP_SYS_RESOURCE or CAP_SYS_ADMIN. A fork that passes
/// clears the caller's "over the limit after set*uid" mark (the child
/// inherits it).
pub fn fork_nproc_check(parent: &Arc<Task>) -> KResult<()> {
    let limit = parent.rlimit(RLIMIT_NPROC).cur;
    // Fewer tasks than the limit in all: nothing to count.
    if (parent.system.tasks.lock().len() as u64) >= limit {
        let creds = parent.creds();
        let exempt = creds.uid == 0 || creds.capable(CAP_SYS_RESOURCE) || creds.capable(CAP_SYS_ADMIN);
        if !exempt && tasks_of_user(parent, creds.uid, None) >= limit {
            return Err(Errno::EAGAIN);
        }
    }
    parent.nproc_exceeded.store(false, Ordering::Relaxed);
    Ok(())
}

/// After set*uid changed the caller's real user (Linux's
/// flag_nproc_exceeded, which kernel/sys.c calls only then): the caller
/// is marked when its new user, root aside, has more tasks than its
/// RLIMIT_NPROC without it (the call itself never fails for it: too many
/// programs ignore setuid's result), and unmarked otherwise; execve then
/// fails while the mark holds and the user is still over the limit.
pub fn setuid_nproc_mark(task: &Arc<Task>) {
    let (uid, limit) = (task.creds().uid, task.rlimit(RLIMIT_NPROC).cur);
    let over = uid != 0 && task.system.tasks.lock().len() as u64 > limit && tasks_of_user(task, uid, Some(task)) > limit;
    task.nproc_exceeded.store(over, Ordering::Relaxed);
}

/// execve's first check (Linux's do_execveat_common): EAGAIN when the
/// caller was marked by set*uid and its user, the caller counted, has
/// more tasks than its RLIMIT_NPROC; otherwise the mark goes, so later
/// execs do not fail.
pub fn exec_nproc_check(task: &Arc<Task>) -> KResult<()> {
    if task.nproc_exceeded.load(Ordering::Relaxed) {
        let uid = task.creds().uid;
        if tasks_of_user(task, uid, None) > task.rlimit(RLIMIT_NPROC).cur {
            return Err(Errno::EAGAIN);
        }
        task.nproc_exceeded.store(false, Ordering::Relaxed);
    }
    Ok(())
}
