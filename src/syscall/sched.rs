//! Scheduling policy and priority system calls: the sched_* policy family,
//! getpriority/setpriority and ioprio_get/ioprio_set. Decoding and the
//! argument checks come in Linux's order; the rules live in `task::sched`.

use std::sync::Arc;

use crate::abi::sched::{
    PRIO_PGRP, PRIO_PROCESS, PRIO_USER, SCHED_ATTR_SIZE_VER0, SCHED_ATTR_SIZE_VER1, SCHED_FLAG_ALL, SCHED_FLAG_KEEP_PARAMS, SCHED_FLAG_KEEP_POLICY,
    SCHED_FLAG_RESET_ON_FORK, SCHED_FLAG_UTIL_CLAMP, SCHED_RESET_ON_FORK, SchedAttr,
};
use crate::abi::{Errno, KResult, PAGE_SIZE, Timespec};
use crate::syscall::{Sys, SyscallDef};
use crate::syscalls;
use crate::task::Task;
use crate::task::sched::{
    self as policy, Deadline, MAX_NICE, MAX_RT_PRIO, MIN_NICE, RR_TIMESLICE_NS, SCHED_DEADLINE, SCHED_FIFO, SCHED_RR, SchedChange, nice_to_rlimit,
};

pub const SYSCALLS: &[SyscallDef] = syscalls![
    __NR_sched_setscheduler => sys_sched_setscheduler,
    __NR_sched_getscheduler => sys_sched_getscheduler,
    __NR_sched_setparam => sys_sched_setparam,
    __NR_sched_getparam => sys_sched_getparam,
    __NR_sched_get_priority_max => sys_sched_get_priority_max,
    __NR_sched_get_priority_min => sys_sched_get_priority_min,
    __NR_sched_rr_get_interval => sys_sched_rr_get_interval,
    __NR_sched_setattr => sys_sched_setattr,
    __NR_sched_getattr => sys_sched_getattr,
    __NR_getpriority => sys_getpriority,
    __NR_setpriority => sys_setpriority,
    __NR_ioprio_get => sys_ioprio_get,
    __NR_ioprio_set => sys_ioprio_set,
];

/// Linux's find_process_by_pid: 0 is the caller; any thread id names
/// that thread.
fn target(sys: &Sys, pid: i32) -> KResult<Arc<Task>> {
    if pid == 0 { Ok(sys.task.clone()) } else { sys.task.system.task(pid).ok_or(Errno::ESRCH) }
}

/// SETPARAM_POLICY (-1) keeps the policy; SCHED_RESET_ON_FORK may be or'ed
/// into the legacy calls' policy.
fn do_setscheduler(sys: &Sys, pid: i32, policy: i32, param: u64) -> KResult<u64> {
    if param == 0 || pid < 0 {
        return Err(Errno::EINVAL);
    }
    let priority: i32 = sys.mm().read(param)?;
    let t = target(sys, pid)?;
    let mut change = SchedChange {
        policy: None,
        priority: priority as u32,
        nice: t.sched.lock().nice,
        reset_on_fork: false,
        deadline: Deadline::default(),
        util_clamp: false,
    };
    if policy != -1 {
        let mut p = policy as u32;
        if p & SCHED_RESET_ON_FORK != 0 {
            change.reset_on_fork = true;
            p &= !SCHED_RESET_ON_FORK;
        }
        if (p as i32) < 0 {
            return Err(Errno::EINVAL);
        }
        change.policy = Some(p);
    }
    policy::set_scheduler(sys.task, &t, change)?;
    Ok(0)
}

fn sys_sched_setscheduler(sys: &mut Sys) -> KResult<u64> {
    let policy = sys.arg_i32(1);
    if policy < 0 {
        return Err(Errno::EINVAL);
    }
    do_setscheduler(sys, sys.arg_i32(0), policy, sys.arg(2))
}

fn sys_sched_setparam(sys: &mut Sys) -> KResult<u64> {
    do_setscheduler(sys, sys.arg_i32(0), -1, sys.arg(1))
}

fn sys_sched_getscheduler(sys: &mut Sys) -> KResult<u64> {
    let pid = sys.arg_i32(0);
    if pid < 0 {
        return Err(Errno::EINVAL);
    }
    let p = *target(sys, pid)?.sched.lock();
    Ok((p.policy | if p.reset_on_fork { SCHED_RESET_ON_FORK } else { 0 }) as u64)
}

fn sys_sched_getparam(sys: &mut Sys) -> KResult<u64> {
    let (pid, param) = (sys.arg_i32(0), sys.arg(1));
    if param == 0 || pid < 0 {
        return Err(Errno::EINVAL);
    }
    let p = *target(sys, pid)?.sched.lock();
    let priority: i32 = if policy::rt_policy(p.policy) { p.rt_priority as i32 } else { 0 };
    sys.mm().write(param, &priority)?;
    Ok(0)
}

fn sys_sched_get_priority_max(sys: &mut Sys) -> KResult<u64> {
    match sys.arg_i32(0) {
        p if p >= 0 && policy::rt_policy(p as u32) => Ok((MAX_RT_PRIO - 1) as u64),
        p if p >= 0 && policy::valid_policy(p as u32) => Ok(0),
        _ => Err(Errno::EINVAL),
    }
}

fn sys_sched_get_priority_min(sys: &mut Sys) -> KResult<u64> {
    match sys.arg_i32(0) {
        p if p >= 0 && policy::rt_policy(p as u32) => Ok(1),
        p if p >= 0 && policy::valid_policy(p as u32) => Ok(0),
        _ => Err(Errno::EINVAL),
    }
}

/// SCHED_RR's slice; 0 for FIFO, and for the fair class on a run queue
/// with nothing else to run (what an otherwise idle Linux answers).
fn sys_sched_rr_get_interval(sys: &mut Sys) -> KResult<u64> {
    let pid = sys.arg_i32(0);
    if pid < 0 {
        return Err(Errno::EINVAL);
    }
    let p = *target(sys, pid)?.sched.lock();
    let ns = if p.policy == SCHED_RR { RR_TIMESLICE_NS } else { 0 };
    sys.mm().write(sys.arg(1), &Timespec { tv_sec: (ns / 1_000_000_000) as i64, tv_nsec: (ns % 1_000_000_000) as i64 })?;
    Ok(0)
}

/// Linux's sched_copy_attr: a short struct is zero-filled, a longer one
/// must be zero past what the kernel knows (else E2BIG with our size
/// written back), a size outside [VER0, PAGE_SIZE] is E2BIG too.
fn read_sched_attr(sys: &Sys, addr: u64) -> KResult<SchedAttr> {
    let mm = sys.mm();
    let mut size: u32 = mm.read(addr)?;
    if size == 0 {
        size = SCHED_ATTR_SIZE_VER0;
    }
    let too_big = || -> KResult<SchedAttr> {
        mm.write(addr, &SCHED_ATTR_SIZE_VER1)?;
        Err(Errno::E2BIG)
    };
    if size < SCHED_ATTR_SIZE_VER0 || size as u64 > PAGE_SIZE {
        return too_big();
    }
    let known = size_of::<SchedAttr>();
    let bytes = mm.read_bytes(addr, size as usize)?;
    if bytes.len() > known && bytes[known..].iter().any(|&b| b != 0) {
        return too_big();
    }
    let mut full = [0u8; size_of::<SchedAttr>()];
    let n = bytes.len().min(known);
    full[..n].copy_from_slice(&bytes[..n]);
    let mut attr: SchedAttr = bytemuck::pod_read_unaligned(&full);
    if attr.sched_flags & SCHED_FLAG_UTIL_CLAMP != 0 && size < SCHED_ATTR_SIZE_VER1 {
        return Err(Errno::EINVAL);
    }
    attr.sched_nice = attr.sched_nice.clamp(MIN_NICE, MAX_NICE);
    Ok(attr)
}

fn sys_sched_setattr(sys: &mut Sys) -> KResult<u64> {
    let (pid, addr, flags) = (sys.arg_i32(0), sys.arg(1), sys.arg_u32(2));
    if addr == 0 || pid < 0 || flags != 0 {
        return Err(Errno::EINVAL);
    }
    let attr = read_sched_attr(sys, addr)?;
    if (attr.sched_policy as i32) < 0 {
        return Err(Errno::EINVAL);
    }
    let t = target(sys, pid)?;
    let mut change = SchedChange {
        policy: (attr.sched_flags & SCHED_FLAG_KEEP_POLICY == 0).then_some(attr.sched_policy),
        priority: attr.sched_priority,
        nice: attr.sched_nice,
        reset_on_fork: attr.sched_flags & SCHED_FLAG_RESET_ON_FORK != 0,
        deadline: Deadline { runtime: attr.sched_runtime, deadline: attr.sched_deadline, period: attr.sched_period, flags: attr.sched_flags },
        util_clamp: attr.sched_flags & SCHED_FLAG_UTIL_CLAMP != 0,
    };
    if change.policy.is_none() {
        change.reset_on_fork = t.sched.lock().reset_on_fork;
    }
    if attr.sched_flags & SCHED_FLAG_KEEP_PARAMS != 0 {
        let p = *t.sched.lock();
        change.priority = p.rt_priority;
        change.nice = p.nice;
        change.deadline = p.deadline;
    }
    if attr.sched_flags & !SCHED_FLAG_ALL != 0 {
        return Err(Errno::EINVAL);
    }
    policy::set_scheduler(sys.task, &t, change)?;
    Ok(0)
}

fn sys_sched_getattr(sys: &mut Sys) -> KResult<u64> {
    let (pid, addr, usize_, flags) = (sys.arg_i32(0), sys.arg(1), sys.arg_u32(2), sys.arg_u32(3));
    if addr == 0 || pid < 0 || usize_ as u64 > PAGE_SIZE || usize_ < SCHED_ATTR_SIZE_VER0 || flags != 0 {
        return Err(Errno::EINVAL);
    }
    let p = *target(sys, pid)?.sched.lock();
    let mut attr = SchedAttr { sched_policy: p.policy, ..Default::default() };
    if p.reset_on_fork {
        attr.sched_flags |= SCHED_FLAG_RESET_ON_FORK;
    }
    if p.policy == SCHED_DEADLINE {
        attr.sched_runtime = p.deadline.runtime;
        attr.sched_deadline = p.deadline.deadline;
        attr.sched_period = p.deadline.period;
        attr.sched_flags |= p.deadline.flags;
    } else if policy::rt_policy(p.policy) {
        attr.sched_priority = p.rt_priority;
    } else {
        attr.sched_nice = p.nice;
    }
    attr.sched_flags &= SCHED_FLAG_ALL;
    let n = (usize_ as usize).min(size_of::<SchedAttr>());
    attr.size = n as u32;
    crate::mm::uaccess::access_ok(addr, usize_ as usize)?;
    sys.mm().write_bytes(addr, &bytemuck::bytes_of(&attr)[..n])?;
    Ok(0)
}

/// The tasks `which`/`who` name for getpriority, setpriority and the
/// ioprio calls: one task, every thread of a process group, or every task
/// of a user (its real uid). None when `which` is unknown.
fn priority_targets(sys: &Sys, which: i32, who: i32) -> Option<Vec<Arc<Task>>> {
    let system = &sys.task.system;
    Some(match which {
        PRIO_PROCESS => target(sys, who).ok().into_iter().collect(),
        PRIO_PGRP => {
            let pgid = if who == 0 { sys.task.pgid() } else { who };
            system.process_group(pgid).iter().flat_map(|leader| leader.process.threads()).collect()
        }
        PRIO_USER => {
            let uid = if who == 0 { sys.task.creds().uid } else { who as u32 };
            system.live_tasks().into_iter().filter(|t| t.creds().uid == uid).collect()
        }
        _ => return None,
    })
}

/// The highest priority among the targets, as 20 - nice (1..40); glibc
/// turns it back into a nice value.
fn sys_getpriority(sys: &mut Sys) -> KResult<u64> {
    let targets = priority_targets(sys, sys.arg_i32(0), sys.arg_i32(1)).ok_or(Errno::EINVAL)?;
    targets.iter().map(|t| nice_to_rlimit(t.sched.lock().nice)).max().ok_or(Errno::ESRCH)
}

/// Every target is tried; the last failure is the answer, ESRCH only when
/// there was none to try.
fn sys_setpriority(sys: &mut Sys) -> KResult<u64> {
    let (which, who) = (sys.arg_i32(0), sys.arg_i32(1));
    let nice = sys.arg_i32(2).clamp(MIN_NICE, MAX_NICE);
    let targets = priority_targets(sys, which, who).ok_or(Errno::EINVAL)?;
    let mut result = Err(Errno::ESRCH);
    for t in targets {
        match policy::set_nice(sys.task, &t, nice) {
            Ok(()) if result == Err(Errno::ESRCH) => result = Ok(0),
            Ok(()) => {}
            Err(e) => result = Err(e),
        }
    }
    result
}

/// The ioprio calls number their `which` from 1 (IOPRIO_WHO_PROCESS,
/// _PGRP, _USER), one above PRIO_PROCESS, _PGRP, _USER.
fn ioprio_which(which: i32) -> i32 {
    if (1..=3).contains(&which) { which - 1 } else { -1 }
}

fn sys_ioprio_set(sys: &mut Sys) -> KResult<u64> {
    let (which, who, ioprio) = (ioprio_which(sys.arg_i32(0)), sys.arg_i32(1), sys.arg_i32(2));
    policy::check_ioprio(sys.task, ioprio)?;
    let targets = priority_targets(sys, which, who).ok_or(Errno::EINVAL)?;
    let mut result = Err(Errno::ESRCH);
    for t in targets {
        policy::set_ioprio(sys.task, &t, ioprio)?;
        result = Ok(0);
    }
    result
}

fn sys_ioprio_get(sys: &mut Sys) -> KResult<u64> {
    let (which, who) = (ioprio_which(sys.arg_i32(0)), sys.arg_i32(1));
    let targets = priority_targets(sys, which, who).ok_or(Errno::EINVAL)?;
    let mut values = targets.iter().map(|t| t.sched.lock().ioprio);
    let first = values.next().ok_or(Errno::ESRCH)?;
    if which == PRIO_PROCESS {
        return Ok(first as u64);
    }
    Ok(values.fold(first, policy::ioprio_best) as u64)
}

#[allow(dead_code)]
const _: () = assert!(SCHED_FIFO == 1 && size_of::<SchedAttr>() == SCHED_ATTR_SIZE_VER1 as usize);
