//! wait4/waitid's kernel side (Linux's do_wait): finding a child with a
//! state change to report (exit, stop, continue), consuming it, and
//! reaping zombies. The system call layer decodes the arguments and copies
//! the report out.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::abi::signal::{CLD_CONTINUED, CLD_STOPPED, SIGCHLD, SIGCONT};
use crate::abi::wait::{WALL, WCLONE, WCONTINUED, WEXITED, WNOHANG, WNOTHREAD, WNOWAIT, WSTOPPED};
use crate::abi::{Errno, KResult};
use crate::task::Task;
use crate::task::exit::{STATUS_CONTINUED, child_code, reap, status_stopped};
use crate::task::process::{Lifecycle, Process};

/// Which children a wait is about.
#[derive(Clone)]
pub enum Which {
    Any,
    Pid(i32),
    Group(i32),
    /// The process a pidfd refers to (waitid P_PIDFD): matched by
    /// identity, so a reused pid is not mistaken for it.
    Process(Arc<Process>),
}

/// A state change a waiter can consume.
pub struct Report {
    pub pid: i32,
    pub uid: u32,
    pub status: i32,
    pub code: i32,
    pub field: i32,
    pub user_ns: u64,
    pub system_ns: u64,
}

/// Finds a child matching `which` with something to report under
/// `options`, consuming it unless WNOWAIT. Ok(None): children exist but
/// none has news. ECHILD: no matching child at all.
fn find_report(task: &Arc<Task>, which: &Which, options: u32) -> KResult<Option<Report>> {
    let me = &task.process;
    let children: Vec<Arc<Process>> = me.children.lock().clone();
    let matching: Vec<&Arc<Process>> = children
        .iter()
        .filter(|c| match which {
            Which::Any => true,
            Which::Pid(p) => c.tgid == *p,
            Which::Group(g) => c.pgid() == *g,
            Which::Process(p) => Arc::ptr_eq(c, p),
        })
        // __WNOTHREAD: only children of this thread, not of its siblings.
        .filter(|c| options & WNOTHREAD == 0 || c.parent_thread() == task.tid())
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
                    reap(&task.system, me, child);
                }
                return Ok(Some(report));
            }
            Lifecycle::Stopped { signal, complete: true, reported: false } if options & WSTOPPED != 0 => {
                if options & WNOWAIT == 0 {
                    st.lifecycle = Lifecycle::Stopped { signal, complete: true, reported: true };
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

/// Linux's do_wait: waits (interruptibly) for a child matching `which`
/// to have a report under `options`; with WNOHANG returns Ok(None) at once.
pub fn do_wait(task: &Arc<Task>, which: Which, options: u32) -> KResult<Option<Report>> {
    if options & WNOHANG != 0 {
        return find_report(task, &which, options);
    }
    let queue = &task.process.child_events;
    crate::sched::wait::wait_any(&[queue], None, || find_report(task, &which, options).map(|r| r.map(Some)))
}
