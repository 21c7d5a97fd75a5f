//! pidfds (Linux's kernel/pid.c and fs/pidfs.c): a file that refers to one
//! process for as long as it is open, whatever pid reuse does. It becomes
//! readable when the process exits and hangs up once it is reaped; the
//! syscall layer signals through it (pidfd_send_signal), takes fds from
//! its process (pidfd_getfd) and waits for it (waitid P_PIDFD). `open`
//! makes one for a process (pidfd_open, and CLONE_PIDFD for a new child).

use std::any::Any;
use std::sync::{Arc, Weak};

use crate::abi::fcntl::{O_NONBLOCK, O_RDWR};
use crate::abi::poll::{POLLHUP, POLLIN, POLLRDNORM};
use crate::abi::{Errno, KResult};
use crate::fs::file::{File, FileOps};
use crate::sched::wait::WaitQueue;
use crate::task::process::{Lifecycle, Process};
use crate::task::system::System;

/// The `FileOps` of a pidfd.
pub struct PidFd {
    pub process: Arc<Process>,
    system: Weak<System>,
}

impl PidFd {
    /// The process has exited (a zombie, or reaped).
    pub fn exited(&self) -> bool {
        matches!(self.process.state().lifecycle, Lifecycle::Zombie { .. })
    }

    /// The process has been reaped: its pid is free (or another's).
    pub fn reaped(&self) -> bool {
        match self.system.upgrade() {
            Some(system) => !system.process(self.process.tgid).is_some_and(|p| Arc::ptr_eq(&p, &self.process)),
            None => true,
        }
    }
}

/// A new pidfd file for `process` (O_RDWR, O_NONBLOCK if asked); the
/// caller installs it close-on-exec, as Linux does.
pub fn open(process: &Arc<Process>, system: &Arc<System>, nonblock: bool) -> Arc<File> {
    let ops = Arc::new(PidFd { process: process.clone(), system: Arc::downgrade(system) });
    crate::fs::anon::anon_file("pidfd", ops, O_RDWR | if nonblock { O_NONBLOCK } else { 0 })
}

/// The pidfd behind `file` (EBADF for any other file, as Linux's
/// pidfd_pid).
pub fn of(file: &File) -> KResult<&PidFd> {
    file.ops.as_any().and_then(|a| a.downcast_ref::<PidFd>()).ok_or(Errno::EBADF)
}

impl FileOps for PidFd {
    fn read(&self, _file: &File, _buf: &mut [u8], _pos: &mut u64) -> KResult<usize> {
        Err(Errno::EINVAL)
    }

    fn write(&self, _file: &File, _buf: &[u8], _pos: &mut u64) -> KResult<usize> {
        Err(Errno::EINVAL)
    }

    fn seekable(&self) -> bool {
        false
    }

    /// Readable once the process exited; hung up once it was reaped
    /// (Linux's pidfd_poll).
    fn poll(&self, _file: &File) -> u16 {
        if !self.exited() {
            return 0;
        }
        if self.reaped() { POLLIN | POLLRDNORM | POLLHUP } else { POLLIN | POLLRDNORM }
    }

    fn wait_queue(&self) -> Option<&WaitQueue> {
        Some(&self.process.exit_waiters)
    }

    fn as_any(&self) -> Option<&dyn Any> {
        Some(self)
    }

    fn size(&self, _file: &File) -> KResult<u64> {
        Ok(0)
    }

    fn fdinfo(&self, _file: &File) -> String {
        let pid = if self.reaped() { -1 } else { self.process.tgid };
        format!("Pid:\t{pid}\nNSpid:\t{pid}\n")
    }
}
