//! A task's scheduling attributes as the guest sets and reads them:
//! policy, real-time priority, nice value, SCHED_DEADLINE parameters,
//! reset-on-fork and the I/O priority, with Linux's permission rules
//! (kernel/sched/syscalls.c, kernel/sys.c set_one_prio, block/ioprio.c).
//! They are the guest kernel's own bookkeeping: vkernel's host threads keep
//! their host priority whatever a guest asks for.

use crate::abi::capability::{CAP_SYS_ADMIN, CAP_SYS_NICE};
use crate::abi::resource::{RLIMIT_NICE, RLIMIT_RTPRIO};
use crate::abi::{Errno, KResult};
use crate::task::Task;

pub const SCHED_NORMAL: u32 = 0;
pub const SCHED_FIFO: u32 = 1;
pub const SCHED_RR: u32 = 2;
pub const SCHED_BATCH: u32 = 3;
pub const SCHED_IDLE: u32 = 5;
pub const SCHED_DEADLINE: u32 = 6;
/// sched_ext; without a BPF scheduler loaded its tasks run as SCHED_NORMAL.
pub const SCHED_EXT: u32 = 7;

pub const MIN_NICE: i32 = -20;
pub const MAX_NICE: i32 = 19;
/// Real-time priorities are 1..=MAX_RT_PRIO-1.
pub const MAX_RT_PRIO: u32 = 100;
/// The SCHED_RR time slice (Linux's RR_TIMESLICE: 100 ms).
pub const RR_TIMESLICE_NS: u64 = 100_000_000;

pub fn valid_policy(policy: u32) -> bool {
    matches!(policy, SCHED_NORMAL | SCHED_FIFO | SCHED_RR | SCHED_BATCH | SCHED_IDLE | SCHED_DEADLINE | SCHED_EXT)
}

pub fn rt_policy(policy: u32) -> bool {
    matches!(policy, SCHED_FIFO | SCHED_RR)
}

/// The policies whose tasks have a nice value that counts.
pub fn fair_policy(policy: u32) -> bool {
    matches!(policy, SCHED_NORMAL | SCHED_BATCH | SCHED_EXT)
}

/// SCHED_DEADLINE's parameters, in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Deadline {
    pub runtime: u64,
    pub deadline: u64,
    pub period: u64,
    pub flags: u64,
}

/// What a task was asked to run with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SchedParams {
    pub policy: u32,
    pub rt_priority: u32,
    pub nice: i32,
    pub deadline: Deadline,
    pub reset_on_fork: bool,
    /// ioprio_set's value (0: none set, "the CPU nice decides").
    pub ioprio: u16,
}

impl Default for SchedParams {
    fn default() -> Self {
        SchedParams { policy: SCHED_NORMAL, rt_priority: 0, nice: 0, deadline: Deadline::default(), reset_on_fork: false, ioprio: 0 }
    }
}

impl SchedParams {
    /// What a new task (fork, clone) starts with: its parent's, except that
    /// reset-on-fork sends a real-time or deadline child back to
    /// SCHED_NORMAL and a negative nice back to 0 (Linux's sched_fork).
    pub fn for_child(&self) -> SchedParams {
        let mut child = *self;
        if self.reset_on_fork {
            if rt_policy(self.policy) || self.policy == SCHED_DEADLINE {
                child.policy = SCHED_NORMAL;
                child.rt_priority = 0;
                child.deadline = Deadline::default();
                child.nice = 0;
            } else {
                child.nice = child.nice.max(0);
            }
            child.reset_on_fork = false;
        }
        child
    }
}

/// The nice value as RLIMIT_NICE counts it (Linux's nice_to_rlimit).
pub fn nice_to_rlimit(nice: i32) -> u64 {
    (MAX_NICE - nice + 1) as u64
}

/// Linux's can_nice: may `target` have its nice lowered to `nice` by the
/// caller (RLIMIT_NICE of the target, or CAP_SYS_NICE)?
fn can_nice(caller: &Task, target: &Task, nice: i32) -> bool {
    nice_to_rlimit(nice) <= target.rlimit(RLIMIT_NICE).cur || caller.creds().capable(CAP_SYS_NICE)
}

/// Linux's cap_safe_nice: a target holding capabilities the caller lacks
/// needs CAP_SYS_NICE.
fn safe_nice(caller: &Task, target: &Task) -> KResult<()> {
    let (me, them) = (caller.creds(), target.creds());
    if them.caps.permitted & !me.caps.permitted != 0 && !me.capable(CAP_SYS_NICE) {
        return Err(Errno::EPERM);
    }
    Ok(())
}

/// A change sched_setscheduler, sched_setparam or sched_setattr asks for.
#[derive(Clone, Copy, Debug)]
pub struct SchedChange {
    /// None keeps the current policy (sched_setparam, SCHED_FLAG_KEEP_POLICY).
    pub policy: Option<u32>,
    pub priority: u32,
    pub nice: i32,
    pub reset_on_fork: bool,
    pub deadline: Deadline,
    /// SCHED_FLAG_UTIL_CLAMP was asked for (flags already checked against
    /// SCHED_FLAG_ALL).
    pub util_clamp: bool,
}

/// Linux's __sched_setscheduler for a call from user space.
pub fn set_scheduler(caller: &Task, target: &Task, change: SchedChange) -> KResult<()> {
    let current = *target.sched.lock();
    let (policy, reset_on_fork) = match change.policy {
        None => (current.policy, current.reset_on_fork),
        Some(p) if valid_policy(p) => (p, change.reset_on_fork),
        Some(_) => return Err(Errno::EINVAL),
    };
    if change.priority > MAX_RT_PRIO - 1 {
        return Err(Errno::EINVAL);
    }
    if (policy == SCHED_DEADLINE && !valid_deadline(&change.deadline)) || rt_policy(policy) != (change.priority != 0) {
        return Err(Errno::EINVAL);
    }
    check_permission(caller, target, &current, policy, &change, reset_on_fork)?;
    safe_nice(caller, target)?;
    // Utilization clamps are not kept: Linux built without
    // CONFIG_UCLAMP_TASK answers EOPNOTSUPP (uclamp_validate).
    if change.util_clamp {
        return Err(Errno::EOPNOTSUPP);
    }
    if policy == SCHED_DEADLINE && !deadline_admitted(&change.deadline) {
        return Err(Errno::EBUSY);
    }
    let mut params = target.sched.lock();
    params.policy = policy;
    params.reset_on_fork = reset_on_fork;
    params.rt_priority = change.priority;
    if fair_policy(policy) {
        params.nice = change.nice;
    }
    params.deadline = if policy == SCHED_DEADLINE { change.deadline } else { Deadline::default() };
    Ok(())
}

/// Linux's user_check_sched_setscheduler: what needs CAP_SYS_NICE.
fn check_permission(caller: &Task, target: &Task, current: &SchedParams, policy: u32, change: &SchedChange, reset_on_fork: bool) -> KResult<()> {
    let needs_privilege = (|| {
        if fair_policy(policy) && change.nice < current.nice && !can_nice(caller, target, change.nice) {
            return true;
        }
        if rt_policy(policy) {
            let rtprio = target.rlimit(RLIMIT_RTPRIO).cur;
            if policy != current.policy && rtprio == 0 {
                return true;
            }
            if change.priority > current.rt_priority && change.priority as u64 > rtprio {
                return true;
            }
        }
        if policy == SCHED_DEADLINE {
            return true;
        }
        if current.policy == SCHED_IDLE && policy != SCHED_IDLE && !can_nice(caller, target, current.nice) {
            return true;
        }
        let (me, them) = (caller.creds(), target.creds());
        if me.euid != them.euid && me.euid != them.uid {
            return true;
        }
        current.reset_on_fork && !reset_on_fork
    })();
    if needs_privilege && !caller.creds().capable(CAP_SYS_NICE) {
        return Err(Errno::EPERM);
    }
    Ok(())
}

/// Linux's __checkparam_dl: 1 us <= runtime <= deadline <= period (or
/// the deadline when no period), period within [100 us, 4.19 s].
fn valid_deadline(dl: &Deadline) -> bool {
    const DL_SCALE: u32 = 10;
    const PERIOD_MIN_NS: u64 = 100 * 1000;
    const PERIOD_MAX_NS: u64 = (1 << 22) * 1000;
    if dl.deadline == 0 || dl.runtime < 1 << DL_SCALE || dl.deadline & (1 << 63) != 0 || dl.period & (1 << 63) != 0 {
        return false;
    }
    let period = if dl.period == 0 { dl.deadline } else { dl.period };
    period >= dl.deadline && dl.deadline >= dl.runtime && (PERIOD_MIN_NS..=PERIOD_MAX_NS).contains(&period)
}

/// Deadline admission: Linux lets real-time and deadline tasks use 95% of
/// a CPU's time (sched_rt_runtime_us / sched_rt_period_us).
fn deadline_admitted(dl: &Deadline) -> bool {
    let period = if dl.period == 0 { dl.deadline } else { dl.period };
    (dl.runtime as u128) * 100 <= (period as u128) * 95
}

/// Linux's set_one_prio: setpriority on one task.
pub fn set_nice(caller: &Task, target: &Task, nice: i32) -> KResult<()> {
    let (me, them) = (caller.creds(), target.creds());
    if them.uid != me.euid && them.euid != me.euid && !me.capable(CAP_SYS_NICE) {
        return Err(Errno::EPERM);
    }
    if nice < target.sched.lock().nice && !can_nice(caller, target, nice) {
        return Err(Errno::EACCES);
    }
    safe_nice(caller, target)?;
    target.sched.lock().nice = nice;
    Ok(())
}

pub const IOPRIO_CLASS_SHIFT: u32 = 13;
pub const IOPRIO_CLASS_NONE: u32 = 0;
pub const IOPRIO_CLASS_RT: u32 = 1;
pub const IOPRIO_CLASS_BE: u32 = 2;
pub const IOPRIO_CLASS_IDLE: u32 = 3;

/// Linux's ioprio_check_cap: a valid class (and level 0 for "none"), and
/// CAP_SYS_NICE or CAP_SYS_ADMIN for the real-time class.
pub fn check_ioprio(caller: &Task, ioprio: i32) -> KResult<()> {
    let class = (ioprio as u32 >> IOPRIO_CLASS_SHIFT) & 7;
    let level = ioprio as u32 & 7;
    match class {
        IOPRIO_CLASS_RT => {
            let c = caller.creds();
            if !c.capable(CAP_SYS_NICE) && !c.capable(CAP_SYS_ADMIN) {
                return Err(Errno::EPERM);
            }
            Ok(())
        }
        IOPRIO_CLASS_BE | IOPRIO_CLASS_IDLE => Ok(()),
        IOPRIO_CLASS_NONE if level == 0 => Ok(()),
        _ => Err(Errno::EINVAL),
    }
}

/// Linux's set_task_ioprio.
pub fn set_ioprio(caller: &Task, target: &Task, ioprio: i32) -> KResult<()> {
    let (me, them) = (caller.creds(), target.creds());
    if them.uid != me.euid && them.uid != me.uid && !me.capable(CAP_SYS_NICE) {
        return Err(Errno::EPERM);
    }
    safe_nice(caller, target)?;
    target.sched.lock().ioprio = ioprio as u16;
    Ok(())
}

/// Linux's ioprio_best for ioprio_get over several tasks: an unset value
/// counts as best-effort at the normal level; the lower value wins.
pub fn ioprio_best(a: u16, b: u16) -> u16 {
    let normal = |p: u16| if (p as u32 >> IOPRIO_CLASS_SHIFT) & 7 == IOPRIO_CLASS_NONE { ((IOPRIO_CLASS_BE << IOPRIO_CLASS_SHIFT) | 4) as u16 } else { p };
    normal(a).min(normal(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadline_parameters_follow_linux_bounds() {
        let ok = Deadline { runtime: 10_000_000, deadline: 30_000_000, period: 30_000_000, flags: 0 };
        assert!(valid_deadline(&ok));
        assert!(!valid_deadline(&Deadline { deadline: 0, ..ok }));
        assert!(!valid_deadline(&Deadline { runtime: 512, ..ok }));
        assert!(!valid_deadline(&Deadline { runtime: 40_000_000, ..ok }));
        assert!(!valid_deadline(&Deadline { period: 10_000_000, ..ok }));
        assert!(!valid_deadline(&Deadline { runtime: 10_000, deadline: 50_000, period: 50_000, flags: 0 }));
        assert!(valid_deadline(&Deadline { period: 0, ..ok }));
    }

    #[test]
    fn reset_on_fork_returns_children_to_normal() {
        let p = SchedParams { policy: SCHED_FIFO, rt_priority: 10, nice: -5, reset_on_fork: true, ..Default::default() };
        let c = p.for_child();
        assert_eq!((c.policy, c.rt_priority, c.nice, c.reset_on_fork), (SCHED_NORMAL, 0, 0, false));
        let q = SchedParams { policy: SCHED_BATCH, nice: 3, ..Default::default() };
        assert_eq!(q.for_child(), q);
    }

    #[test]
    fn nice_counts_down_from_forty_for_rlimit_nice() {
        assert_eq!((nice_to_rlimit(-20), nice_to_rlimit(0), nice_to_rlimit(19)), (40, 20, 1));
        assert_eq!(ioprio_best(0, ((IOPRIO_CLASS_BE << IOPRIO_CLASS_SHIFT) | 7) as u16), ((IOPRIO_CLASS_BE << IOPRIO_CLASS_SHIFT) | 4) as u16);
    }
}
