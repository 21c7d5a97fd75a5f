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
    let action = parent_task.sigactions().get(SIGCHLD);
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

/// How a task's run ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// exit(2): this thread alone, with a wait status.
    Thread(i32),
    /// exit_group(2) or a fatal signal: every thread of the process, with
    /// a wait status (the first group exit's status wins).
    Group(i32),
}

/// Ends `task` (its kernel thread stops afterwards). The last thread of a
/// process to go ends the process. Returns the wait status the task
/// ended with.
pub fn exit_task(task: &Arc<Task>, ending: Ending) -> i32 {
    let process = task.process.clone();
    let status = match ending {
        Ending::Group(status) => process.start_group_exit(task, status),
        Ending::Thread(status) => status,
    };
    let (user, system) = crate::task::cpu_times(task);
    let remaining = {
        // Counted under the process state lock so exactly one thread sees
        // itself last, with every other thread's time already added.
        let mut st = process.state();
        let n = process.remove_thread(task);
        st.dead_threads_user_ns += user;
        st.dead_threads_system_ns += system;
        // A group stop this thread never parked for may be complete now.
        let stop_completed = if n > 0 { process.complete_group_stop(&mut st) } else { None };
        (n, stop_completed)
    };
    let (remaining, stop_completed) = remaining;
    if let Some(sig) = stop_completed {
        notify_parent(&process, CLD_STOPPED, sig);
    }
    if remaining > 0 {
        // Gone from the thread list and the task table before the joiner
        // wakes, so what it sees next (/proc/self/task, tgkill) no longer
        // has this thread.
        task.system.tasks.lock().remove(&task.tid());
        pass_children_to_a_sibling(task, &process);
        release_thread(task);
        drop_shared_state(task);
        process.thread_exited.wake_all();
        task.system.futexes.thread_died();
        return status;
    }
    // Without a group exit the last thread's status is the process's
    // (what Linux reports, whichever thread led).
    let status = process.group_exit_status().unwrap_or(status);
    release_thread(task);
    exit_process(task, status);
    process.thread_exited.wake_all();
    task.system.futexes.thread_died();
    status
}

/// What every exiting thread lets go of: its tid word (CLONE_CHILD_CLEARTID,
/// so a joiner wakes), the robust futexes it holds, a vfork parent.
fn release_thread(task: &Arc<Task>) {
    let mm = task.mm();
    exit_robust_list(task, &mm);
    let ctid = task.clear_child_tid.swap(0, Ordering::Relaxed);
    if ctid != 0 && mm.write(ctid, &0u32).is_ok() {
        if let Ok(key) = crate::task::futex::FutexKey::of(&mm, ctid, false) {
            let _ = task.system.futexes.wake(key, 1, u32::MAX);
        }
    }
    if let Some(done) = task.vfork_done.lock().take() {
        done.complete();
    }
}

/// Drops this task's share of the fd table, fs context and address space
/// (the last sharer's drop closes and frees them).
fn drop_shared_state(task: &Arc<Task>) {
    let files = task.set_files_table(Arc::new(parking_lot::Mutex::new(crate::fs::file::FdTable::new())));
    drop(files);
    task.set_mm(crate::mm::Mm::new(task.system.phys.clone()));
}

/// Linux's exit_robust_list: every futex on the dying thread's robust list
/// (and the one it was about to take or release) that it owns gets
/// FUTEX_OWNER_DIED, and one waiter is woken to recover it.
fn exit_robust_list(task: &Arc<Task>, mm: &Arc<crate::mm::Mm>) {
    const ROBUST_LIST_LIMIT: usize = 2048;
    let head = task.robust_list.swap(0, Ordering::Relaxed);
    if head == 0 {
        return;
    }
    // struct robust_list_head { list.next, futex_offset, list_op_pending }
    let Ok(first) = mm.read::<u64>(head) else { return };
    let Ok(offset) = mm.read::<i64>(head + 8) else { return };
    let Ok(pending) = mm.read::<u64>(head + 16) else { return };
    let futex_of = |entry: u64| (entry & !1).checked_add_signed(offset);
    let mut entry = first;
    for _ in 0..ROBUST_LIST_LIMIT {
        if entry & !1 == head {
            break;
        }
        // Read the next entry before the futex changes hands.
        let next = mm.read::<u64>(entry & !1);
        if entry != pending {
            if let Some(uaddr) = futex_of(entry) {
                futex_owner_died(task, mm, uaddr);
            }
        }
        match next {
            Ok(n) => entry = n,
            Err(_) => return,
        }
    }
    if pending != 0 {
        if let Some(uaddr) = futex_of(pending) {
            futex_owner_died(task, mm, uaddr);
        }
    }
}

fn futex_owner_died(task: &Task, mm: &Arc<crate::mm::Mm>, uaddr: u64) {
    use crate::abi::futex::{FUTEX_OWNER_DIED, FUTEX_TID_MASK, FUTEX_WAITERS};
    let tid = task.tid() as u32;
    let Ok(old) = mm.atomic_update_u32(uaddr, |v| (v & FUTEX_TID_MASK == tid).then_some((v & FUTEX_WAITERS) | FUTEX_OWNER_DIED)) else { return };
    if old & FUTEX_TID_MASK == tid && old & FUTEX_WAITERS != 0 {
        if let Ok(key) = crate::task::futex::FutexKey::of(mm, uaddr, false) {
            let _ = task.system.futexes.wake(key, 1, u32::MAX);
        }
    }
}

/// Ends the process of `task`, its last thread, with wait status
/// `status`: files closed, memory released, children reparented, parent
/// told.
fn exit_process(task: &Arc<Task>, status: i32) {
    let kernel = &task.system;
    let process = task.process.clone();

    // Release what the process holds: open files first, so pipe peers see
    // EOF, then memory.
    drop_shared_state(task);
    crate::fs::lock::release_all_process_locks(process.tgid);

    crate::task::itimer::cancel_real_timer(&process);
    crate::task::posix_timer::delete_all(&process);
    // Children in other groups of our session, and our own group when our
    // parent is in another group of the session (we may have been its
    // last link outside), may be orphaned by this exit: Linux's
    // kill_orphaned_pgrp (checked before reparenting changes parents).
    let (pgid, sid) = (process.pgid(), process.sid());
    let mut groups: Vec<i32> = process.children.lock().iter().filter(|c| c.pgid() != pgid && c.sid() == sid).map(|c| c.pgid()).collect();
    if process.parent().is_some_and(|p| p.pgid() != pgid && p.sid() == sid) {
        groups.push(pgid);
    }
    groups.sort_unstable();
    groups.dedup();
    reparent_children(task, &process);
    // A session leader's exit hangs up its controlling terminal.
    if process.sid() == process.tgid {
        crate::tty::session_leader_exited(process.sid());
    }
    {
        let mut st = process.state();
        st.user_ns = st.dead_threads_user_ns;
        st.system_ns = st.dead_threads_system_ns;
        st.lifecycle = Lifecycle::Zombie { status };
    }
    process.exit_waiters.wake_all();
    for pgid in groups {
        hang_up_orphaned_group(kernel, pgid);
    }

    // Nobody will ever wait for it: a parent ignoring SIGCHLD or with
    // SA_NOCLDWAIT has its children reaped at once.
    let reap_now = match process.parent().and_then(|p| p.leader()) {
        Some(parent) => {
            let a = parent.sigactions().get(SIGCHLD);
            (a.handler == SIG_IGN || a.flags & SA_NOCLDWAIT != 0) && process.exit_signal.load(Ordering::Relaxed) == SIGCHLD
        }
        None => false,
    };
    kernel.tasks.lock().remove(&task.tid());
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
        send_pdeath_signals(&child);
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

/// A child's parent thread died: each of its threads that asked for a
/// signal (PR_SET_PDEATHSIG) gets it, sent to its process (Linux's
/// reparent_leader path in forget_original_parent).
fn send_pdeath_signals(child: &Arc<Process>) {
    for t in child.threads() {
        let sig = t.pdeath_signal.load(Ordering::Relaxed);
        if sig > 0 {
            signal::send_to_process(&t, SigInfo::kernel(sig));
        }
    }
}

/// A thread exits and its process lives on: the children it forked pass
/// to a live thread of the same process and hear of it through their
/// death signals, as in Linux, where the real parent is a thread.
fn pass_children_to_a_sibling(task: &Arc<Task>, process: &Arc<Process>) {
    let mine: Vec<Arc<Process>> = process.children.lock().iter().filter(|c| c.parent_thread() == task.tid()).cloned().collect();
    if mine.is_empty() {
        return;
    }
    let Some(heir) = process.threads().into_iter().find(|t| !Arc::ptr_eq(t, task)) else { return };
    for child in mine {
        child.set_parent_thread(heir.tid());
        send_pdeath_signals(&child);
    }
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
    drop(pst);
    // pidfds of the reaped process see POLLHUP.
    child.exit_waiters.wake_all();
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
    task.system.tasks.lock().remove(&task.tid());
    if process.remove_thread(task) > 0 {
        process.thread_exited.wake_all();
        return;
    }
    process.state().lifecycle = Lifecycle::Zombie { status };
    process.exit_waiters.wake_all();
    let (code, field) = child_code(status);
    notify_parent(&process, code, field);
}
