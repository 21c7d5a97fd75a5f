//! inotify instances (Linux's fs/notify/inotify): watches, each a
//! `notify::Mark` on one inode numbered by a watch descriptor, and the
//! queue of events read as `struct inotify_event` records. An event equal
//! to the last one queued and still unread is merged into it; past 16384
//! queued events one IN_Q_OVERFLOW stands for the rest. A watch goes with
//! IN_IGNORED when removed, when its inode goes, and after its one event
//! with IN_ONESHOT. Lock order: the instance's state and the mark table
//! are never held together.

use parking_lot::Mutex;
use std::any::Any;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use crate::abi::event::{IN_ALL_EVENTS, IN_IGNORED, IN_ISDIR, IN_MASK_ADD, IN_MASK_CREATE, IN_ONESHOT, IN_Q_OVERFLOW, IN_UNMOUNT};
use crate::abi::ioctl::FIONREAD;
use crate::abi::poll::{POLLIN, POLLRDNORM};
use crate::abi::{Errno, KResult};
use crate::fs::file::{File, FileOps};
use crate::fs::notify::{self, Key, Mark};
use crate::sched::CurrentTask;
use crate::sched::wait::{WaitQueue, wait_any};

/// /proc/sys/fs/inotify/max_queued_events.
const MAX_QUEUED_EVENTS: usize = 16384;
/// sizeof(struct inotify_event) without the name.
const EVENT_HEADER: usize = 16;

#[derive(Clone, PartialEq, Eq)]
struct Event {
    wd: i32,
    mask: u32,
    cookie: u32,
    name: Vec<u8>,
}

impl Event {
    /// The name field's length: NUL-terminated and padded to 16 bytes.
    fn name_len(&self) -> usize {
        if self.name.is_empty() { 0 } else { (self.name.len() + 1).div_ceil(EVENT_HEADER) * EVENT_HEADER }
    }

    fn size(&self) -> usize {
        EVENT_HEADER + self.name_len()
    }

    fn write_to(&self, out: &mut [u8]) {
        out[0..4].copy_from_slice(&self.wd.to_ne_bytes());
        out[4..8].copy_from_slice(&self.mask.to_ne_bytes());
        out[8..12].copy_from_slice(&self.cookie.to_ne_bytes());
        out[12..16].copy_from_slice(&(self.name_len() as u32).to_ne_bytes());
        let body = &mut out[EVENT_HEADER..self.size()];
        body.fill(0);
        body[..self.name.len()].copy_from_slice(&self.name);
    }
}

/// One watch: an inode, the events wanted (with IN_ONESHOT), and its
/// instance.
pub struct Watch {
    wd: i32,
    key: Key,
    mask: AtomicU32,
    group: Weak<Inotify>,
}

impl Mark for Watch {
    fn mask(&self) -> u32 {
        self.mask.load(Ordering::Relaxed) & IN_ALL_EVENTS
    }

    fn event(&self, mask: u32, cookie: u32, name: Option<&[u8]>) {
        let Some(g) = self.group.upgrade() else { return };
        g.queue_event(self.wd, mask & (IN_ALL_EVENTS | IN_ISDIR | IN_UNMOUNT), cookie, name.unwrap_or_default());
        if self.mask.load(Ordering::Relaxed) & IN_ONESHOT != 0 && g.forget(self.wd) {
            g.queue_event(self.wd, IN_IGNORED, 0, b"");
        }
    }

    fn stays(&self) -> bool {
        self.mask.load(Ordering::Relaxed) & IN_ONESHOT == 0 && self.group.strong_count() > 0
    }

    fn gone(&self) {
        if let Some(g) = self.group.upgrade() {
            if g.forget(self.wd) {
                g.queue_event(self.wd, IN_IGNORED, 0, b"");
            }
        }
    }
}

#[derive(Default)]
struct InotifyState {
    pending: VecDeque<Event>,
    bytes: usize,
    watches: BTreeMap<i32, Arc<Watch>>,
    by_key: HashMap<Key, i32>,
    last_wd: i32,
}

/// One inotify instance: the `FileOps` of an inotify file.
pub struct Inotify {
    state: Mutex<InotifyState>,
    queue: WaitQueue,
    events: AtomicU64,
    this: Weak<Inotify>,
}

impl Inotify {
    pub fn new() -> Arc<Inotify> {
        Arc::new_cyclic(|this| Inotify { state: Mutex::new(InotifyState::default()), queue: WaitQueue::new(), events: AtomicU64::new(0), this: this.clone() })
    }

    fn queue_event(&self, wd: i32, mask: u32, cookie: u32, name: &[u8]) {
        let event = Event { wd, mask, cookie, name: name.to_vec() };
        {
            let mut st = self.state.lock();
            // Linux's inotify_merge: the same event again, unread, is one.
            if st.pending.back() == Some(&event) {
                return;
            }
            if st.pending.len() >= MAX_QUEUED_EVENTS {
                let overflow = Event { wd: -1, mask: IN_Q_OVERFLOW, cookie: 0, name: Vec::new() };
                if st.pending.back() == Some(&overflow) {
                    return;
                }
                st.bytes += overflow.size();
                st.pending.push_back(overflow);
            } else {
                st.bytes += event.size();
                st.pending.push_back(event);
            }
        }
        self.events.fetch_add(1, Ordering::Relaxed);
        self.queue.wake_all();
    }

    /// Drops watch `wd` from the instance; false if it was not there.
    fn forget(&self, wd: i32) -> bool {
        let mut st = self.state.lock();
        match st.watches.remove(&wd) {
            Some(w) => {
                st.by_key.remove(&w.key);
                true
            }
            None => false,
        }
    }

    /// inotify_add_watch once the path is resolved: a new watch on `key`,
    /// or the existing one with its events replaced (or added to, with
    /// IN_MASK_ADD; EEXIST with IN_MASK_CREATE).
    pub fn add_watch(&self, key: Key, mask: u32) -> KResult<i32> {
        let mut st = self.state.lock();
        let wanted = mask & !(IN_MASK_ADD | IN_MASK_CREATE);
        if let Some(&wd) = st.by_key.get(&key) {
            if mask & IN_MASK_CREATE != 0 {
                return Err(Errno::EEXIST);
            }
            if let Some(w) = st.watches.get(&wd) {
                if mask & IN_MASK_ADD != 0 {
                    w.mask.fetch_or(wanted, Ordering::Relaxed);
                } else {
                    w.mask.store(wanted, Ordering::Relaxed);
                }
            }
            return Ok(wd);
        }
        // Watch descriptors count up from 1 and are not reused soon
        // (Linux's idr_alloc_cyclic from the last one).
        let mut wd = st.last_wd;
        loop {
            wd = if wd == i32::MAX { 1 } else { wd + 1 };
            if !st.watches.contains_key(&wd) {
                break;
            }
        }
        st.last_wd = wd;
        let watch = Arc::new(Watch { wd, key, mask: AtomicU32::new(wanted), group: self.this.clone() });
        st.watches.insert(wd, watch.clone());
        st.by_key.insert(key, wd);
        drop(st);
        notify::add_mark(key, watch);
        Ok(wd)
    }

    /// inotify_rm_watch: EINVAL for an unknown wd; IN_IGNORED follows.
    pub fn rm_watch(&self, wd: i32) -> KResult<()> {
        let watch = {
            let mut st = self.state.lock();
            let w = st.watches.remove(&wd).ok_or(Errno::EINVAL)?;
            st.by_key.remove(&w.key);
            w
        };
        notify::remove_mark(watch.key, &(watch.clone() as Arc<dyn Mark>));
        self.queue_event(wd, IN_IGNORED, 0, b"");
        Ok(())
    }
}

impl Drop for Inotify {
    fn drop(&mut self) {
        let watches = std::mem::take(&mut self.state.get_mut().watches);
        for w in watches.into_values() {
            notify::remove_mark(w.key, &(w.clone() as Arc<dyn Mark>));
        }
    }
}

impl FileOps for Inotify {
    /// Whole events, as many as fit; EINVAL if the first does not.
    fn read(&self, file: &File, buf: &mut [u8], _pos: &mut u64) -> KResult<usize> {
        let nonblock = file.nonblocking();
        let n = wait_any(&[&self.queue], None, || {
            let mut st = self.state.lock();
            if st.pending.is_empty() {
                return if nonblock { Err(Errno::EAGAIN) } else { Ok(None) };
            }
            let mut done = 0;
            while let Some(ev) = st.pending.front() {
                let size = ev.size();
                if done + size > buf.len() {
                    if done == 0 {
                        return Err(Errno::EINVAL);
                    }
                    break;
                }
                ev.write_to(&mut buf[done..done + size]);
                done += size;
                st.bytes -= size;
                st.pending.pop_front();
            }
            Ok(Some(done))
        })?;
        Ok(n)
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

    fn ioctl(&self, _file: &File, caller: &dyn CurrentTask, cmd: u32, arg: u64) -> KResult<u64> {
        match cmd {
            FIONREAD => {
                let n = self.state.lock().bytes.min(i32::MAX as usize) as i32;
                caller.mm().write(arg, &n)?;
                Ok(0)
            }
            _ => Err(Errno::ENOTTY),
        }
    }

    fn poll(&self, _file: &File) -> u16 {
        if self.state.lock().pending.is_empty() { 0 } else { POLLIN | POLLRDNORM }
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
}
