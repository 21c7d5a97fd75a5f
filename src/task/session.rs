//! Process groups and sessions (Linux's setpgid and setsid, kernel/sys.c):
//! the rules for moving a process between groups and starting a session.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::abi::{Errno, KResult};
use crate::task::Task;

/// Linux's setpgid: moves process `pid` (0: the caller) into group
/// `pgid` (0: its own pid) of the caller's session.
pub fn setpgid(task: &Arc<Task>, pid: i32, pgid: i32) -> KResult<()> {
    if pgid < 0 || pid < 0 {
        return Err(Errno::EINVAL);
    }
    let me = &task.process;
    let kernel = &task.system;
    let target = if pid == 0 || pid == me.tgid {
        me.clone()
    } else {
        let t = kernel.processes.lock().get(&pid).cloned().ok_or(Errno::ESRCH)?;
        // Only oneself or one's own children.
        if t.parent().is_none_or(|p| !Arc::ptr_eq(&p, me)) {
            return Err(Errno::ESRCH);
        }
        if t.sid() != me.sid() {
            return Err(Errno::EPERM);
        }
        if t.leader().is_some_and(|l| l.exe_done_since_fork.load(Ordering::Relaxed)) {
            return Err(Errno::EACCES);
        }
        t
    };
    let pgid = if pgid == 0 { target.tgid } else { pgid };
    // A session leader cannot move.
    if target.sid() == target.tgid {
        return Err(Errno::EPERM);
    }
    if pgid != target.tgid && kernel.group_session(pgid) != Some(me.sid()) {
        return Err(Errno::EPERM);
    }
    target.set_pgid(pgid);
    Ok(())
}

/// Linux's ksys_setsid: the caller leads a new session and group.
pub fn setsid(task: &Arc<Task>) -> KResult<i32> {
    let me = &task.process;
    // A process group leader (or anyone whose pid names a group) cannot.
    if me.pgid() == me.tgid || task.system.group_session(me.tgid).is_some() {
        return Err(Errno::EPERM);
    }
    me.set_sid(me.tgid);
    me.set_pgid(me.tgid);
    Ok(me.tgid)
}
