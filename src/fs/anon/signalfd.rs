//! signalfd (Linux's fs/signalfd.c): reading takes the caller's pending
//! signals in the file's mask (its own, then its process's) as
//! `signalfd_siginfo` records. Readiness depends on who asks, as on Linux:
//! poll looks at the calling task's signals. Pollers sleep on
//! `sched::current::signal_queued`, woken by every queued signal.

use std::any::Any;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::abi::poll::{POLLIN, POLLRDNORM};
use crate::abi::signal::{SI_KERNEL, SI_SIGIO, SI_TIMER, SI_USER, SIGBUS, SIGCHLD, SIGFPE, SIGILL, SIGIO, SIGSEGV, SIGSYS, SIGTRAP};
use crate::abi::{Errno, KResult};
use crate::fs::file::{File, FileOps};
use crate::sched::current::signal_queued;
use crate::sched::wait::{WaitQueue, wait_any};

/// sizeof(struct signalfd_siginfo).
pub const SIGNALFD_SIGINFO_SIZE: usize = 128;

/// One signalfd: the signals it reads.
pub struct SignalFd {
    mask: AtomicU64,
}

impl SignalFd {
    pub fn new(mask: u64) -> SignalFd {
        SignalFd { mask: AtomicU64::new(mask) }
    }

    pub fn mask(&self) -> u64 {
        self.mask.load(Ordering::Relaxed)
    }

    /// signalfd4 on an existing signalfd: a new mask, and pollers look again.
    pub fn set_mask(&self, mask: u64) {
        self.mask.store(mask, Ordering::Relaxed);
        signal_queued().wake_all();
    }
}

/// How a siginfo's union is laid out (Linux's siginfo_layout).
#[derive(PartialEq, Eq)]
enum Layout {
    Kill,
    Timer,
    Poll,
    Fault,
    Chld,
    Rt,
    Sys,
}

fn layout(sig: i32, code: i32) -> Layout {
    if code > SI_USER && code < SI_KERNEL {
        // Signal-specific codes, up to each signal's NSIG* limit.
        let specific = match sig {
            SIGILL => Some((11, Layout::Fault)),
            SIGFPE => Some((15, Layout::Fault)),
            SIGSEGV => Some((10, Layout::Fault)),
            SIGBUS => Some((5, Layout::Fault)),
            SIGTRAP => Some((6, Layout::Fault)),
            SIGCHLD => Some((6, Layout::Chld)),
            SIGIO => Some((6, Layout::Poll)),
            SIGSYS => Some((2, Layout::Sys)),
            _ => None,
        };
        match specific {
            Some((limit, l)) if code <= limit => l,
            _ if code <= 6 => Layout::Poll,
            _ => Layout::Kill,
        }
    } else if code == SI_TIMER {
        Layout::Timer
    } else if code == SI_SIGIO {
        Layout::Poll
    } else if code < 0 {
        Layout::Rt
    } else {
        Layout::Kill
    }
}

/// A kernel siginfo as a signalfd_siginfo (Linux's signalfd_copyinfo).
pub fn signalfd_siginfo(info: &[u8; 128]) -> [u8; SIGNALFD_SIGINFO_SIZE] {
    let i32_at = |o: usize| i32::from_ne_bytes([info[o], info[o + 1], info[o + 2], info[o + 3]]);
    let u64_at = |o: usize| u64::from_ne_bytes(info[o..o + 8].try_into().unwrap_or([0; 8]));
    let mut out = [0u8; SIGNALFD_SIGINFO_SIZE];
    let mut put32 = |o: usize, v: i32| out[o..o + 4].copy_from_slice(&v.to_ne_bytes());
    let (signo, code) = (i32_at(0), i32_at(8));
    put32(0, signo);
    put32(4, i32_at(4));
    put32(8, code);
    let mut wide: Vec<(usize, u64)> = Vec::new();
    match layout(signo, code) {
        Layout::Kill => {
            put32(12, i32_at(16));
            put32(16, i32_at(20));
        }
        Layout::Timer => {
            put32(24, i32_at(16));
            put32(32, i32_at(20));
            put32(44, i32_at(24));
            wide.push((48, u64_at(24)));
        }
        Layout::Poll => {
            put32(28, u64_at(16) as u32 as i32);
            put32(20, i32_at(24));
        }
        Layout::Fault => wide.push((72, u64_at(16))),
        Layout::Chld => {
            put32(12, i32_at(16));
            put32(16, i32_at(20));
            put32(40, i32_at(24));
            wide.push((56, u64_at(32)));
            wide.push((64, u64_at(40)));
        }
        Layout::Rt => {
            put32(12, i32_at(16));
            put32(16, i32_at(20));
            put32(44, i32_at(24));
            wide.push((48, u64_at(24)));
        }
        Layout::Sys => {
            wide.push((88, u64_at(16)));
            put32(84, i32_at(24));
            put32(96, i32_at(28));
        }
    }
    for (o, v) in wide {
        out[o..o + 8].copy_from_slice(&v.to_ne_bytes());
    }
    out
}

impl FileOps for SignalFd {
    /// As many records as fit and are pending; blocks for the first.
    fn read(&self, file: &File, buf: &mut [u8], _pos: &mut u64) -> KResult<usize> {
        let want = buf.len() / SIGNALFD_SIGINFO_SIZE;
        if want == 0 {
            return Err(Errno::EINVAL);
        }
        let Some(task) = crate::sched::current() else { return Err(Errno::EAGAIN) };
        let mask = self.mask();
        let nonblock = file.nonblocking();
        let first = wait_any(&[signal_queued()], None, || match task.dequeue_signal(mask) {
            Some(info) => Ok(Some(info)),
            None if nonblock => Err(Errno::EAGAIN),
            None => Ok(None),
        })?;
        buf[..SIGNALFD_SIGINFO_SIZE].copy_from_slice(&signalfd_siginfo(&first));
        let mut n = 1;
        while n < want {
            let Some(info) = task.dequeue_signal(mask) else { break };
            buf[n * SIGNALFD_SIGINFO_SIZE..(n + 1) * SIGNALFD_SIGINFO_SIZE].copy_from_slice(&signalfd_siginfo(&info));
            n += 1;
        }
        Ok(n * SIGNALFD_SIGINFO_SIZE)
    }

    fn write(&self, _file: &File, _buf: &[u8], _pos: &mut u64) -> KResult<usize> {
        Err(Errno::EINVAL)
    }

    fn seekable(&self) -> bool {
        false
    }

    fn llseek(&self, _file: &File, pos: &mut u64, _offset: i64, _whence: u32) -> KResult<u64> {
        Ok(*pos)
    }

    fn poll(&self, _file: &File) -> u16 {
        match crate::sched::current() {
            Some(t) if t.pending_signals() & self.mask() != 0 => POLLIN | POLLRDNORM,
            _ => 0,
        }
    }

    fn wait_queue(&self) -> Option<&WaitQueue> {
        Some(signal_queued())
    }

    fn as_any(&self) -> Option<&dyn Any> {
        Some(self)
    }

    fn size(&self, _file: &File) -> KResult<u64> {
        Ok(0)
    }

    fn fdinfo(&self, _file: &File) -> String {
        format!("sigmask:\t{:016x}\n", self.mask())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn siginfo_fields_land_where_signalfd_siginfo_has_them() {
        let mut info = [0u8; 128];
        info[0..4].copy_from_slice(&10i32.to_ne_bytes());
        info[8..12].copy_from_slice(&(-1i32).to_ne_bytes());
        info[16..20].copy_from_slice(&42i32.to_ne_bytes());
        info[20..24].copy_from_slice(&7i32.to_ne_bytes());
        info[24..32].copy_from_slice(&0x1234u64.to_ne_bytes());
        let out = signalfd_siginfo(&info);
        assert_eq!(&out[0..4], &10i32.to_ne_bytes());
        assert_eq!(&out[12..16], &42i32.to_ne_bytes());
        assert_eq!(&out[16..20], &7i32.to_ne_bytes());
        assert_eq!(&out[44..48], &0x1234i32.to_ne_bytes());
        assert_eq!(&out[48..56], &0x1234u64.to_ne_bytes());
    }
}
