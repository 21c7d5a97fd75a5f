//! Process creation and reaping: fork, vfork, clone, wait4, waitid; and
//! process groups and sessions: setpgid, setsid.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::abi::sched::{CLONE_VFORK, CLONE_VM};
use crate::abi::signal::{CLD_CONTINUED, CLD_STOPPED, SIGCHLD, SIGCONT};
use crate::abi::wait::{P_ALL, P_PGID, P_PID, P_PIDFD, WALL, WCLONE, WCONTINUED, WEXITED, WNOHANG, WNOTHREAD, WNOWAIT, WSTOPPED, WUNTRACED};
use crate::abi::{Errno, KResult, Rusage, Timeval};
use crate::signal::SigInfo;
use crate::syscall::{Sys, SyscallDef};
use crate::syscalls;
use crate::task::exit::{STATUS_CONTINUED, child_code, reap, status_stopped};
use crate::task::fork::{self, CloneArgs};
use crate::task::process::{Lifecycle, Process};

pub const SYSCALLS: &[SyscallDef] = syscalls![
    __NR_fork => sys_fork,
    __NR_vfork => sys_vfork,
    __NR_clone => sys_clone,
    __NR_clone3 => sys_clone3,
    __NR_wait4 => sys_wait4,
    __NR_waitid => sys_waitid,
    __NR_setpgid => sys_setpgid,
    __NR_setsid => sys_setsid,
];

fn do_clone(sys: &mut Sys, args: CloneArgs) -> KResult<u64> {
    let new = fork::clone_process(sys.task, &args, sys.regs)?;
    let pid = new.task.tid;
    sys.spawn = Some(new);
    Ok(pid as u64)
}

fn sys_fork(sys: &mut Sys) -> KResult<u64> {
    do_clone(sys, CloneArgs { flags: SIGCHLD as u64, stack: 0, parent_tid: 0, child_tid: 0, tls: 0 })
}

fn sys_vfork(sys: &mut Sys) -> KResult<u64> {
    do_clone(sys, CloneArgs { flags: CLONE_VM | CLONE_VFORK | SIGCHLD as u64, stack: 0, parent_tid: 0, child_tid: 0, tls: 0 })
}

/// x86-64 argument order: flags, stack, parent_tid, child_tid, tls.
fn sys_clone(sys: &mut Sys) -> KResult<u64> {
    let args = CloneArgs { flags: sys.arg(0), stack: sys.arg(1), parent_tid: sys.arg(2), child_tid: sys.arg(3), tls: sys.arg(4) };
    do_clone(sys, args)
}

/// clone3 is not offered; glibc falls back to clone on ENOSYS.
fn sys_clone3(_sys: &mut Sys) -> KResult<u64> {
    Err(Errno::ENOSYS)
}

/// Which children a wait is about.
#[derive(Clone, Copy)]
enum Which {
    Any,
    Pid(i32),
    Group(i32),
}

/// A state change a waiter can consume.
struct Report {
    pid: i32,
    uid: u32,
    status: i32,
    code: i32,
    field: i32,
    user_ns: u64,
    system_ns: u64,
}

/// Finds a child matching `which` with something to report under
/// `options`, consuming it unless WNOWAIT. Ok(None): children exist but
/// none has news. ECHILD: no matching child at all.
fn find_report(sys: &Sys, which: Which, options: u32) -> KResult<Option<Report>> {
    let me = &sys.task.process;
    let children: Vec<Arc<Process>> = me.children.lock().clone();
    let matching: Vec<&Arc<Process>> = children
        .iter()
        .filter(|c| match which {
            Which::Any => true,
            Which::Pid(p) => c.tgid == p,
            Which::Group(g) => c.pgid() == g,
        })
        // __WCLONE selects children whose exit signal is not SIGCHLD.
        .filter(|c| options & WALL != 0 || ((c.exit_signal.load(Ordering::Relaxed) != SIGCHLD) == (options & WCLONE != 0)))
        .collect();
    if matching.is_empty() {
        return Err(Errno::ECHILD);
    }
    for child in matching {
        let uid = child.leader().map(|t| t.creds().uid).unwrap_or(0);
        let mut st = child.state();
        match st.lifecycle {
            Lifecycle::Zombie { status } if options & WEXITED != 0 => {
                let (code, field) = child_code(status);
                let report = Report {
                    pid: child.tgid,
                    uid,
                    status,
                    code,
                    field,
                    user_ns: st.user_ns + st.children_user_ns,
                    system_ns: st.system_ns + st.children_system_ns,
                };
                drop(st);
                if options & WNOWAIT == 0 {
                    reap(&sys.task.system, me, child);
                }
                return Ok(Some(report));
            }
            Lifecycle::Stopped { signal, reported: false } if options & WSTOPPED != 0 => {
                if options & WNOWAIT == 0 {
                    st.lifecycle = Lifecycle::Stopped { signal, reported: true };
                }
                return Ok(Some(Report { pid: child.tgid, uid, status: status_stopped(signal), code: CLD_STOPPED, field: signal, user_ns: 0, system_ns: 0 }));
            }
            _ if st.continued && options & WCONTINUED != 0 => {
                if options & WNOWAIT == 0 {
                    st.continued = false;
                }
                return Ok(Some(Report { pid: child.tgid, uid, status: STATUS_CONTINUED, code: CLD_CONTINUED, field: SIGCONT, user_ns: 0, system_ns: 0 }));
            }
            _ => {}
        }
    }
    Ok(None)
}

/// Waits for a report; with WNOHANG returns Ok(None) at once.
fn wait_for_child(sys: &Sys, which: Which, options: u32) -> KResult<Option<Report>> {
    if options & WNOHANG != 0 {
        return find_report(sys, which, options);
    }
    let queue = &sys.task.process.child_events;
    crate::sched::wait::wait_any(&[queue], None, || find_report(sys, which, options).map(|r| r.map(Some)))
}

fn timeval(ns: u64) -> Timeval {
    Timeval { tv_sec: (ns / 1_000_000_000) as i64, tv_usec: ((ns % 1_000_000_000) / 1000) as i64 }
}

fn sys_wait4(sys: &mut Sys) -> KResult<u64> {
    let (pid, status_addr, options, rusage_addr) = (sys.arg_i32(0), sys.arg(1), sys.arg_u32(2), sys.arg(3));
    if options & !(WNOHANG | WUNTRACED | WCONTINUED | WNOTHREAD | WALL | WCLONE) != 0 {
        return Err(Errno::EINVAL);
    }
    let which = match pid {
        -1 => Which::Any,
        0 => Which::Group(sys.task.process.pgid()),
        p if p < -1 => Which::Group(-p),
        p => Which::Pid(p),
    };
    if pid == i32::MIN {
        return Err(Errno::ESRCH);
    }
    let Some(r) = wait_for_child(sys, which, options | WEXITED)? else { return Ok(0) };
    let mm = sys.mm();
    if status_addr != 0 {
        mm.write(status_addr, &r.status)?;
    }
    if rusage_addr != 0 {
        let ru = Rusage { ru_utime: timeval(r.user_ns), ru_stime: timeval(r.system_ns), ..Default::default() };
        mm.write(rusage_addr, &ru)?;
    }
    Ok(r.pid as u64)
}

fn sys_waitid(sys: &mut Sys) -> KResult<u64> {
    let (idtype, id, info_addr, options, rusage_addr) = (sys.arg_u32(0), sys.arg_i32(1), sys.arg(2), sys.arg_u32(3), sys.arg(4));
    if options & !(WNOHANG | WNOWAIT | WEXITED | WSTOPPED | WCONTINUED | WNOTHREAD | WALL | WCLONE) != 0 || options & (WEXITED | WSTOPPED | WCONTINUED) == 0 {
        return Err(Errno::EINVAL);
    }
    let which = match idtype {
        P_ALL => Which::Any,
        P_PID if id > 0 => Which::Pid(id),
        P_PGID if id > 0 => Which::Group(id),
        P_PGID if id == 0 => Which::Group(sys.task.process.pgid()),
        // No pidfds exist in this kernel, so none can be valid.
        P_PIDFD => return Err(Errno::EBADF),
        _ => return Err(Errno::EINVAL),
    };
    let report = wait_for_child(sys, which, options)?;
    let mm = sys.mm();
    if info_addr != 0 {
        let info = match &report {
            Some(r) => SigInfo::child(r.code, r.pid, r.uid, r.field, (r.user_ns / 10_000_000) as i64, (r.system_ns / 10_000_000) as i64),
            // WNOHANG with nothing to report: si_pid (and si_signo) zero.
            None => SigInfo { bytes: [0; 128] },
        };
        mm.write_bytes(info_addr, &info.bytes)?;
    }
    if rusage_addr != 0 {
        let ru = match &report {
            Some(r) => Rusage { ru_utime: timeval(r.user_ns), ru_stime: timeval(r.system_ns), ..Default::default() },
            None => Rusage::default(),
        };
        mm.write(rusage_addr, &ru)?;
    }
    Ok(0)
}

fn sys_setpgid(sys: &mut Sys) -> KResult<u64> {
    let (pid, pgid) = (sys.arg_i32(0), sys.arg_i32(1));
    if pgid < 0 || pid < 0 {
        return Err(Errno::EINVAL);
    }
    let me = &sys.task.process;
    let kernel = &sys.task.system;
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
    Ok(0)
}

fn sys_setsid(sys: &mut Sys) -> KResult<u64> {
    let me = &sys.task.process;
    // A process group leader (or anyone whose pid names a group) cannot.
    if me.pgid() == me.tgid || sys.task.system.group_session(me.tgid).is_some() {
        return Err(Errno::EPERM);
    }
    me.set_sid(me.tgid);
    me.set_pgid(me.tgid);
    Ok(me.tgid as u64)
}
