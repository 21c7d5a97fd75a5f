//! What the OOM killer (mm::oom) sees of the process table: every live
//! process with its memory, credentials and oom_score_adj, and the kill it
//! sends. Installed at boot.

use crate::abi::signal::SIGKILL;
use crate::mm::oom::{OomCandidate, OomTasks};
use crate::signal::{SigInfo, send_to_process};
use crate::task::process::{Lifecycle, Process};
use crate::task::system::System;

/// The process's OOM score adjustment (/proc/PID/oom_score_adj): 0 for
/// every process until the procfs file that changes it exists.
fn oom_score_adj(_process: &Process) -> i32 {
    0
}

impl OomTasks for System {
    fn candidates(&self) -> Vec<OomCandidate> {
        let procs: Vec<_> = self.processes.lock().values().cloned().collect();
        procs
            .iter()
            .filter(|p| !matches!(p.state().lifecycle, Lifecycle::Zombie { .. }))
            .filter_map(|p| {
                let leader = p.leader()?;
                Some(OomCandidate {
                    tgid: p.tgid,
                    comm: leader.comm(),
                    uid: leader.creds().uid,
                    mm: leader.mm(),
                    oom_score_adj: oom_score_adj(p),
                    unkillable: p.is_init() || leader.vfork_done.lock().is_some(),
                    dying: p.group_exiting() || leader.sigkill_pending(),
                })
            })
            .collect()
    }

    fn kill(&self, tgid: i32) {
        if let Some(leader) = self.process(tgid).and_then(|p| p.leader()) {
            send_to_process(&leader, SigInfo::kernel(SIGKILL));
        }
    }
}
