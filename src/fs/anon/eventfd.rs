//! eventfd (Linux's fs/eventfd.c): a 64-bit counter that write adds to and
//! read takes (all of it, or one in semaphore mode). Reads block while it
//! is zero, writes while the sum would reach u64::MAX; every change wakes
//! readers, writers and pollers.

use parking_lot::Mutex;
use std::any::Any;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use crate::abi::poll::{POLLERR, POLLIN, POLLOUT};
use crate::abi::{Errno, KResult};
use crate::fs::file::{File, FileOps};
use crate::sched::wait::{WaitQueue, wait_any};

/// An eventfd's counter and waiters.
pub struct EventFd {
    count: Mutex<u64>,
    semaphore: bool,
    queue: WaitQueue,
    /// Bumped with every change (edge-triggered epoll).
    events: AtomicU64,
    /// The eventfd-id fdinfo shows.
    id: u32,
}

impl EventFd {
    pub fn new(initial: u32, semaphore: bool) -> EventFd {
        static NEXT_ID: AtomicU32 = AtomicU32::new(1);
        EventFd {
            count: Mutex::new(initial as u64),
            semaphore,
            queue: WaitQueue::new(),
            events: AtomicU64::new(0),
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        }
    }

    fn wake(&self) {
        self.events.fetch_add(1, Ordering::Relaxed);
        self.queue.wake_all();
    }

    /// Takes the counter (or one of it), blocking while it is zero.
    pub fn take(&self, nonblock: bool) -> KResult<u64> {
        wait_any(&[&self.queue], None, || {
            let mut count = self.count.lock();
            if *count == 0 {
                return if nonblock { Err(Errno::EAGAIN) } else { Ok(None) };
            }
            let v = if self.semaphore { 1 } else { *count };
            *count -= v;
            drop(count);
            self.wake();
            Ok(Some(v))
        })
    }

    /// Adds `v`, blocking while the sum would reach u64::MAX (EINVAL for
    /// u64::MAX itself, which no wait could make fit).
    pub fn add(&self, v: u64, nonblock: bool) -> KResult<()> {
        if v == u64::MAX {
            return Err(Errno::EINVAL);
        }
        wait_any(&[&self.queue], None, || {
            let mut count = self.count.lock();
            if u64::MAX - *count <= v {
                return if nonblock { Err(Errno::EAGAIN) } else { Ok(None) };
            }
            *count += v;
            drop(count);
            if v > 0 {
                self.wake();
            }
            Ok(Some(()))
        })
    }
}

impl FileOps for EventFd {
    fn read(&self, file: &File, buf: &mut [u8], _pos: &mut u64) -> KResult<usize> {
        if buf.len() < 8 {
            return Err(Errno::EINVAL);
        }
        let v = self.take(file.nonblocking())?;
        buf[..8].copy_from_slice(&v.to_ne_bytes());
        Ok(8)
    }

    /// Exactly eight bytes (Linux: EINVAL for any other length, though a
    /// read may offer more).
    fn write(&self, file: &File, buf: &[u8], _pos: &mut u64) -> KResult<usize> {
        if buf.len() != 8 {
            return Err(Errno::EINVAL);
        }
        let v = super::u64_from(buf)?;
        self.add(v, file.nonblocking())?;
        Ok(8)
    }

    fn seekable(&self) -> bool {
        false
    }

    /// Linux's noop_llseek: the position, unchanged.
    fn llseek(&self, _file: &File, pos: &mut u64, _offset: i64, _whence: u32) -> KResult<u64> {
        Ok(*pos)
    }

    /// Linux's eventfd_poll: readable while non-zero, writable while one
    /// more can be added, an error at the (unreachable by write) maximum.
    fn poll(&self, _file: &File) -> u16 {
        let count = *self.count.lock();
        let mut mask = 0;
        if count > 0 {
            mask |= POLLIN;
        }
        if count == u64::MAX {
            mask |= POLLERR;
        }
        if u64::MAX - 1 > count {
            mask |= POLLOUT;
        }
        mask
    }

    fn wait_queue(&self) -> Option<&WaitQueue> {
        Some(&self.queue)
    }

    fn event_count(&self) -> Option<u64> {
        Some(self.events.load(Ordering::Relaxed))
    }

    fn as_any(&self) -> Option<&dyn Any> {
        Some(self)
    }

    fn size(&self, _file: &File) -> KResult<u64> {
        Ok(0)
    }

    fn fdinfo(&self, _file: &File) -> String {
        format!("eventfd-count: {:16x}\neventfd-id: {}\neventfd-semaphore: {}\n", *self.count.lock(), self.id, self.semaphore as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_and_semaphore_mode() {
        let e = EventFd::new(3, false);
        assert_eq!(e.take(true), Ok(3));
        assert_eq!(e.take(true), Err(Errno::EAGAIN));
        let s = EventFd::new(2, true);
        assert_eq!(s.take(true), Ok(1));
        assert_eq!(s.take(true), Ok(1));
        assert_eq!(s.take(true), Err(Errno::EAGAIN));
        assert_eq!(s.add(u64::MAX, true), Err(Errno::EINVAL));
        assert_eq!(s.add(u64::MAX - 1, true), Ok(()));
        assert_eq!(s.add(1, true), Err(Errno::EAGAIN));
    }
}
