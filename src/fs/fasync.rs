//! Asynchronous notification of open files (Linux's fs/fcntl.c: f_owner,
//! fasync_helper, kill_fasync, send_sigio): a file's owner (F_SETOWN,
//! F_SETOWN_EX) and signal (F_SETSIG), and `FasyncList`, the O_ASYNC files
//! a pipe, terminal or socket signals when it becomes readable or
//! writable. A driver keeps a list, fills it from `FileOps::fasync` and
//! calls `kill`; dnotify sends through `send_sigio` as well. Signals go out
//! through `sched::processes`; no lock is held while sending.

use parking_lot::Mutex;
use std::sync::{Arc, Weak};

use crate::abi::KResult;
use crate::abi::fcntl::O_ASYNC;
use crate::abi::poll::{POLLERR, POLLHUP, POLLIN, POLLOUT, POLLPRI, POLLRDBAND, POLLRDNORM, POLLWRBAND, POLLWRNORM};
use crate::abi::signal::{
    POLL_ERR, POLL_HUP, POLL_IN, POLL_MSG, POLL_OUT, POLL_PRI, SI_KERNEL, SI_SIGIO, SIGBUS, SIGCHLD, SIGFPE, SIGILL, SIGIO, SIGSEGV, SIGSYS, SIGTRAP,
};
use crate::fs::file::File;
use crate::sched::processes::{SigioTarget, processes};

/// Whom a file's owner names (F_OWNER_TID, F_OWNER_PID, F_OWNER_PGRP).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OwnerKind {
    /// A thread; also what F_GETOWN_EX reports for a file with no owner.
    #[default]
    Thread,
    Process,
    Group,
}

/// A file's owner (Linux's fown_struct): the target, the signal F_SETSIG
/// chose (0: plain SIGIO) and the credentials of whoever set the owner,
/// which decide whether it may signal the target.
#[derive(Clone, Copy, Debug, Default)]
pub struct FileOwner {
    pub kind: OwnerKind,
    /// 0: no owner.
    pub id: i32,
    pub signum: i32,
    pub uid: u32,
    pub euid: u32,
}

impl FileOwner {
    fn target(&self) -> Option<SigioTarget> {
        if self.id <= 0 {
            return None;
        }
        Some(match self.kind {
            OwnerKind::Thread => SigioTarget::Thread(self.id),
            OwnerKind::Process => SigioTarget::Process(self.id),
            OwnerKind::Group => SigioTarget::Group(self.id),
        })
    }
}

/// The poll band a SIGIO reason reports in si_band (Linux's band_table).
fn band(reason: i32) -> i64 {
    const POLLMSG: u16 = 0x400;
    (match reason {
        POLL_IN => POLLIN | POLLRDNORM,
        POLL_OUT => POLLOUT | POLLWRNORM | POLLWRBAND,
        POLL_MSG => POLLIN | POLLRDNORM | POLLMSG,
        POLL_ERR => POLLERR,
        POLL_PRI => POLLPRI | POLLRDBAND,
        POLL_HUP => POLLHUP | POLLERR,
        _ => return -1,
    }) as i64
}

/// Signals with si_codes of their own, for which a SIGIO reason would be
/// ambiguous (Linux's sig_specific_sicodes).
fn has_own_codes(sig: i32) -> bool {
    matches!(sig, SIGILL | SIGFPE | SIGSEGV | SIGBUS | SIGTRAP | SIGCHLD | SIGIO | SIGSYS)
}

/// Linux's send_sigio: tells the owner `owner` that fd `fd` is ready for
/// `reason` (POLL_IN, POLL_OUT, POLL_MSG...): the F_SETSIG signal with
/// si_code, si_band and si_fd, or plain SIGIO without F_SETSIG.
pub fn send_sigio(owner: FileOwner, fd: i32, reason: i32) {
    let Some(target) = owner.target() else { return };
    let Some(procs) = processes() else { return };
    let mut info = [0u8; 128];
    let (signo, code) = match owner.signum {
        0 => (SIGIO, SI_KERNEL),
        s if s != SIGIO && has_own_codes(s) => (s, SI_SIGIO),
        s => (s, reason),
    };
    info[0..4].copy_from_slice(&signo.to_ne_bytes());
    info[8..12].copy_from_slice(&code.to_ne_bytes());
    if owner.signum != 0 {
        info[16..24].copy_from_slice(&band(reason).to_ne_bytes());
        info[24..28].copy_from_slice(&fd.to_ne_bytes());
    }
    procs.send_sigio(target, owner.uid, owner.euid, info);
}

/// The O_ASYNC files to signal, each with the fd O_ASYNC was set through
/// (Linux's fasync_struct list).
#[derive(Default)]
pub struct FasyncList {
    entries: Mutex<Vec<(Weak<File>, i32)>>,
}

impl FasyncList {
    pub const fn new() -> FasyncList {
        FasyncList { entries: Mutex::new(Vec::new()) }
    }

    /// fasync_helper: adds `file` (or updates its fd), or with `on` false
    /// removes it.
    pub fn update(&self, file: &Arc<File>, fd: i32, on: bool) {
        let mut e = self.entries.lock();
        e.retain(|(w, _)| w.strong_count() > 0 && !std::ptr::eq(w.as_ptr(), Arc::as_ptr(file)));
        if on {
            e.push((Arc::downgrade(file), fd));
        }
    }

    /// kill_fasync(SIGIO, reason): every listed file still in O_ASYNC mode
    /// signals its owner.
    pub fn kill(&self, reason: i32) {
        let targets: Vec<(Arc<File>, i32)> = {
            let e = self.entries.lock();
            if e.is_empty() {
                return;
            }
            e.iter().filter_map(|(w, fd)| Some((w.upgrade()?, *fd))).collect()
        };
        for (file, fd) in targets {
            if file.flags() & O_ASYNC != 0 {
                send_sigio(file.owner(), fd, reason);
            }
        }
    }
}

/// F_SETFL and FIOASYNC: new status flags for `file` (reached through
/// `fd`); turning O_ASYNC on or off tells the file's driver first, as
/// Linux's setfl does.
pub fn set_status_flags(file: &Arc<File>, fd: i32, flags: u32) -> KResult<()> {
    if (file.flags() ^ flags) & O_ASYNC != 0 {
        file.ops.fasync(file, fd, flags & O_ASYNC != 0)?;
    }
    file.set_status_flags(flags);
    Ok(())
}
