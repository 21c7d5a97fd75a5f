//! Process exit, zombies, reparenting and the child-state reports that
//! wait4/waitid consume. Linux's kernel/exit.c in spirit: a dead process
//! stays a zombie until its parent reaps it, unless the parent ignores
//! SIGCHLD; its children go to the nearest subreaper or to init.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::abi::signal::{CLD_CONTINUED, CLD_DUMPED, CLD_EXITED, CLD_KILLED, CLD_STOPPED, SA_NOCLDSTOP, SA_NOCLDWAIT, SIG_IGN, SIGCHLD, SIGCONT, SIGHUP};
use crate::signal::{self, SigInfo};
use crate::task::Task;
use crate::task::process::{Lifecycle, Process};

/// Wait status words (as in <sys/wait.h>).
pub fn status_exited(code: i32) -> i32 {
    (code & 0xff) << 8
}

pub fn status_signaled(sig: i32, core: bool) -> i32 {
    sig | if core { 0x80 } else { 0 }
}

pub fn status_stopped(sig: i32) -> i32 {
    (sig << 8) | 0x7f
}

pub const STATUS_CONTINUED: i32 = 0xffff;

/// The siginfo code and status field for a wait status word.
pub fn child_code(status: i32) -> (i32, i32) {
    if status & 0x7f == 0 {
        (CLD_EXITED, (status >> 8) & 0xff)
    } else if status & 0x80 != 0 {
        (CLD_DUMPED, status & 0x7f)
    } else {
        (CLD_KILLED, status & 0x7f)
    }
}

/// Tells `child`'s parent that the child changed state: SIGCHLD (unless
/// the parent asked not to hear of stops) and a wake-up of its waiters.
pub fn notify_parent(child: &Arc<Process>, code: i32, status: i32) {
    let Some(parent) = child.parent() else { return };
    let Some(parent_task) = parent.leader() else {
        parent.child_events.wake_all();
        return;
    };
    let action = parent_task.sigactions.lock().get(SIGCHLD);
    let stop_report = code == CLD_STOPPED || code == CLD_CONTINUED;
    let sig = if stop_report { SIGCHLD } else { child.exit_signal.load(Ordering::Relaxed) };
    if sig > 0 && !(stop_report && action.flags & SA_NOCLDSTOP != 0) {
        let uid = child.leader().map(|t| t.creds().uid).unwrap_or(0);
        let mut info = SigInfo::child(code, child.tgid, uid, status, 0, 0);
        if sig != SIGCHLD {
            info = SigInfo::user(sig, code, child.tgid, uid);
        }
        signal::send_to_process(&parent_task, info);
    }
    parent.child_events.wake_all();
}

/// Ends the process of `task` with wait status `status`: files closed,
/// memory released, children reparented, parent told. The caller's kernel
/// thread ends afterwards.
pub fn exit_process(task: &Arc<Task>, status: i32) {
    let kernel = &task.system;
    let process = task.process.clone();

    // CLONE_CHILD_CLEARTID: clear the tid word and wake a joiner.
    let ctid = task.clear_child_tid.swap(0, Ordering::Relaxed);
    if ctid != 0 {
        let mm = task.mm();
        if mm.write(ctid, &0u32).is_ok() {
            let key = crate::task::futex::FutexKey::Private { mm: mm.id, addr: ctid };
            let _ = kernel.futexes.wake(key, 1, u32::MAX);
            if let Some(frame) = mm.frame_of(ctid) {
                let _ = kernel.futexes.wake(crate::task::futex::FutexKey::Shared { frame, offset: (ctid % 4096) as u32 }, 1, u32::MAX);
            }
        }
    }

    if let Some(done) = task.vfork_done.lock().take() {
        done.complete();
    }

    // Release what the process holds: open files first, so pipe peers see
    // EOF, then memory.
    let files = std::mem::take(&mut *task.files());
    drop(files);
    crate::fs::lock::release_all_process_locks(process.tgid);
    let (user, system) = crate::task::cpu_times(task);
    task.set_mm(crate::mm::Mm::new(kernel.phys.clone()));

    crate::task::itimer::cancel_real_timer(&process);
    // Children in other groups of our session, and our own group, may be
    // orphaned by this exit (checked before reparenting changes parents).
    let mut groups: Vec<i32> = process.children.lock().iter().map(|c| c.pgid()).collect();
    groups.push(process.pgid());
    groups.sort_unstable();
    groups.dedup();
    reparent_children(task, &process);
    // A session leader's exit hangs up its controlling terminal.
    if process.sid() == process.tgid {
        crate::tty::session_leader_exited(process.sid());
    }
    {
        let mut st = process.state();
        st.user_ns = user;
        st.system_ns = system;
        st.lifecycle = Lifecycle::Zombie { status };
    }
    for pgid in groups {
        hang_up_orphaned_group(kernel, pgid);
    }

    // Nobody will ever wait for it: a parent ignoring SIGCHLD or with
    // SA_NOCLDWAIT has its children reaped at once.
    let reap_now = match process.parent().and_then(|p| p.leader()) {
        Some(parent) => {
            let a = parent.sigactions.lock().get(SIGCHLD);
            (a.handler == SIG_IGN || a.flags & SA_NOCLDWAIT != 0) && process.exit_signal.load(Ordering::Relaxed) == SIGCHLD
        }
        None => false,
    };
    kernel.tasks.lock().remove(&task.tid);
    let (code, field) = child_code(status);
    if reap_now {
        if let Some(parent) = process.parent() {
            reap(kernel, &parent, &process);
            parent.child_events.wake_all();
        }
    } else {
        notify_parent(&process, code, field);
    }
}

/// Hands the children of a dying process to the nearest subreaper
/// ancestor, or to init.
fn reparent_children(task: &Arc<Task>, process: &Arc<Process>) {
    let kernel = &task.system;
    let children = std::mem::take(&mut *process.children.lock());
    if children.is_empty() {
        return;
    }
    let mut reaper = process.parent();
    while let Some(r) = reaper.clone() {
        if r.child_subreaper.load(Ordering::Relaxed) && !matches!(r.state().lifecycle, Lifecycle::Zombie { .. }) {
            break;
        }
        reaper = r.parent();
    }
    let reaper = reaper.or_else(|| kernel.processes.lock().get(&1).cloned());
    let Some(reaper) = reaper else { return };
    if Arc::ptr_eq(&reaper, process) {
        return;
    }
    for child in children {
        child.set_parent(&reaper);
        reaper.children.lock().push(child.clone());
        if let Some(leader) = child.leader() {
            let sig = leader.pdeath_signal.load(Ordering::Relaxed);
            if sig > 0 {
                signal::send_to_process(&leader, SigInfo::kernel(sig));
            }
        }
        let zombie = match child.state().lifecycle {
            Lifecycle::Zombie { status } => Some(status),
            _ => None,
        };
        if let Some(status) = zombie {
            let (code, field) = child_code(status);
            notify_parent(&child, code, field);
        }
    }
    reaper.child_events.wake_all();
}

/// Removes a zombie from its parent and the process table, adding its CPU
/// time to the parent's children totals.
pub fn reap(kernel: &crate::task::system::System, parent: &Arc<Process>, child: &Arc<Process>) {
    parent.children.lock().retain(|c| !Arc::ptr_eq(c, child));
    kernel.processes.lock().remove(&child.tgid);
    let (u, s, cu, cs) = {
        let st = child.state();
        (st.user_ns, st.system_ns, st.children_user_ns, st.children_system_ns)
    };
    let mut pst = parent.state();
    pst.children_user_ns += u + cu;
    pst.children_system_ns += s + cs;
}

/// POSIX: a process group that becomes orphaned while some member is
/// stopped gets SIGHUP then SIGCONT, so its jobs do not stay stopped with
/// no shell left to continue them.
fn hang_up_orphaned_group(kernel: &crate::task::system::System, pgid: i32) {
    let members = kernel.process_group(pgid);
    if members.is_empty() || !members.iter().any(|t| t.process.is_stopped()) {
        return;
    }
    if !is_orphaned_group(kernel, pgid) {
        return;
    }
    for t in &members {
        signal::send_to_process(t, SigInfo::kernel(SIGHUP));
        signal::send_to_process(t, SigInfo::kernel(SIGCONT));
    }
}

/// A group is orphaned when no member has a parent in another group of
/// the same session (Linux's will_become_orphaned_pgrp).
pub fn is_orphaned_group(kernel: &crate::task::system::System, pgid: i32) -> bool {
    kernel.process_group(pgid).iter().all(|t| match t.process.parent() {
        Some(p) => matches!(p.state().lifecycle, Lifecycle::Zombie { .. }) || p.pgid() == pgid || p.sid() != t.process.sid() || p.is_init(),
        None => true,
    })
}

/// What is left of an exit when `exit_process` itself failed (an internal
/// error): the process still becomes a zombie its parent can reap, so
/// nobody waits for it forever.
pub fn exit_after_error(task: &Arc<Task>, status: i32) {
    let process = task.process.clone();
    process.state().lifecycle = Lifecycle::Zombie { status };
    task.system.tasks.lock().remove(&task.tid);
    let (code, field) = child_code(status);
    notify_parent(&process, code, field);
}
