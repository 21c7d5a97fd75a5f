//! The process table as the layers below the task layer see it: the few
//! questions job control asks (is a session alive, which session is a
//! group in, is a group orphaned) and kernel signals to processes and
//! groups (^C from a terminal, SIGHUP on hangup, SIGIO). The task layer
//! implements `Processes` and installs it at boot.

use std::sync::{Arc, OnceLock};

pub trait Processes: Send + Sync {
    /// Sends `sig` from the kernel (SI_KERNEL) to process `pid`.
    fn signal_process(&self, pid: i32, sig: i32);
    /// Sends `sig` from the kernel to the leader of session `sid`, if it
    /// still leads it (a terminal's hangup).
    fn signal_session_leader(&self, sid: i32, sig: i32);
    /// Sends `sig` from the kernel to every process in group `pgid`.
    fn signal_group(&self, pgid: i32, sig: i32);
    /// Does any live process belong to session `sid`?
    fn session_alive(&self, sid: i32) -> bool;
    /// The session of process group `pgid`, if any process (a zombie not
    /// yet reaped included) is in it.
    fn group_session(&self, pgid: i32) -> Option<i32>;
    /// Linux's is_current_pgrp_orphaned for group `pgid`.
    fn is_orphaned_group(&self, pgid: i32) -> bool;
    /// Sends the siginfo `info` to a file owner (fs/fcntl.c send_sigio):
    /// to every task of the target that credentials (`uid`, `euid`, of
    /// whoever set the owner) may signal (Linux's sigio_perm).
    fn send_sigio(&self, target: SigioTarget, uid: u32, euid: u32, info: [u8; 128]);
}

/// Whom a SIGIO goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SigioTarget {
    Thread(i32),
    Process(i32),
    Group(i32),
}

static PROCESSES: OnceLock<Arc<dyn Processes>> = OnceLock::new();

/// Installs the process table (once, at boot).
pub fn install(table: Arc<dyn Processes>) {
    let _ = PROCESSES.set(table);
}

/// The process table; None before boot installed it (unit tests).
pub fn processes() -> Option<&'static Arc<dyn Processes>> {
    PROCESSES.get()
}
