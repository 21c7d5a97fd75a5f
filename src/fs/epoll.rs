//! epoll instances (Linux's fs/eventpoll.c). An instance keeps its
//! interest list keyed by (fd, file), like Linux, and a wake callback on
//! each watched file's wait queue that marks the item ready and wakes the
//! instance's waiters (Linux's ep_poll_callback): epoll_wait sleeps on the
//! instance alone, and an epoll file is itself pollable and nestable.
//! Ready items are polled to learn their events: level-triggered,
//! EPOLLONESHOT, EPOLLET (with `FileOps::event_count`), and EPOLLEXCLUSIVE
//! (of several instances with an exclusive item on one file, a wake-up
//! reaches the first that has a waiter). Items hold no reference to their
//! file: an item goes when its file's last reference does. Never holds the
//! item lock while polling a file; the callbacks take no lock but wait-queue
//! lists. The blocking wait is done by syscall/poll.rs.

use parking_lot::{Mutex, MutexGuard};
use std::any::Any;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};

use crate::abi::fcntl::O_RDWR;
use crate::abi::poll::{
    EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD, EPOLLERR, EPOLLET, EPOLLEXCLUSIVE, EPOLLHUP, EPOLLIN, EPOLLONESHOT, EPOLLOUT, EPOLLWAKEUP, POLLIN, POLLRDNORM,
};
use crate::abi::{Errno, KResult};
use crate::fs::file::{File, FileOps};
use crate::sched::wait::{WaitQueue, WakeCallback};

/// Bits that configure an item rather than name events.
const EP_PRIVATE_BITS: u32 = EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE;
/// What an EPOLLEXCLUSIVE item may also ask for.
pub const EPOLLEXCLUSIVE_OK_BITS: u32 = EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE;
/// Linux's EP_MAX_NESTS: how deep epoll instances may watch each other.
const EP_MAX_NESTS: usize = 4;

/// One watched (fd, file) pair.
struct EpItem {
    fd: i32,
    file: Weak<File>,
    /// The file's address: with `fd`, the item's identity (Linux's epitem key).
    file_id: usize,
    events: u32,
    data: u64,
    /// EPOLLET: the file's event count when last reported.
    reported_count: Option<u64>,
    /// EPOLLET for files without an event count: the last mask seen.
    last_mask: u32,
    /// On the ready list: set by the wake callback (and by ADD and MOD),
    /// cleared when a scan finds nothing to report or consumes the event.
    ready: Arc<AtomicBool>,
    /// The callback on the file's wait queue; None for a file without one
    /// (the host console), which every scan polls.
    callback: Option<Arc<WakeCallback>>,
}

/// What the wake callbacks reach: the instance's two queues.
struct EpQueues {
    /// Tasks in epoll_wait on this instance (Linux's ep->wq).
    waiters: WaitQueue,
    /// Pollers of the epoll file itself and instances watching it
    /// (Linux's ep->poll_wait).
    pollers: WaitQueue,
}

/// One epoll instance: the `FileOps` of an epoll file.
pub struct EventPoll {
    items: Mutex<Vec<EpItem>>,
    queues: Arc<EpQueues>,
}

/// Serialises the loop check of adding one epoll instance to another
/// (Linux's epnested_mutex).
static NESTING: Mutex<()> = Mutex::new(());

impl EventPoll {
    pub fn new() -> EventPoll {
        EventPoll { items: Mutex::new(Vec::new()), queues: Arc::new(EpQueues { waiters: WaitQueue::new(), pollers: WaitQueue::new() }) }
    }

    fn lock(&self) -> MutexGuard<'_, Vec<EpItem>> {
        let mut items = self.items.lock();
        // Items of files whose last reference is gone are gone too.
        items.retain(|i| i.file.strong_count() > 0);
        items
    }

    /// Where epoll_wait sleeps: woken by every watched file's change and
    /// by epoll_ctl.
    pub fn waiters(&self) -> &WaitQueue {
        &self.queues.waiters
    }

    /// Whether some watched file has no wait queue, so a waiter must poll
    /// it again now and then.
    pub fn has_unqueued_items(&self) -> bool {
        self.lock().iter().any(|i| i.callback.is_none())
    }

    /// The files watched now.
    pub fn files(&self) -> Vec<Arc<File>> {
        self.lock().iter().filter_map(|i| i.file.upgrade()).collect()
    }

    fn changed(&self) {
        self.queues.waiters.wake_all();
        self.queues.pollers.wake_all();
    }

    /// The wake callback for an item (Linux's ep_poll_callback): the item
    /// goes on the ready list and the instance's waiters wake. For an
    /// exclusive item the result says whether a task waited here.
    fn callback(queues: &Arc<EpQueues>, ready: &Arc<AtomicBool>) -> Arc<WakeCallback> {
        let (queues, ready) = (Arc::downgrade(queues), ready.clone());
        WakeCallback::new(move || {
            ready.store(true, Ordering::Release);
            let Some(q) = queues.upgrade() else { return false };
            let woke = q.waiters.has_sleepers();
            q.waiters.wake_all();
            q.pollers.wake_all();
            woke
        })
    }

    /// epoll_ctl once the arguments are checked: `event` is (events, data)
    /// for ADD and MOD.
    pub fn ctl(&self, op: i32, fd: i32, file: &Arc<File>, event: (u32, u64)) -> KResult<()> {
        let file_id = Arc::as_ptr(file) as usize;
        let _nesting = match file.ops.as_any().and_then(|a| a.downcast_ref::<EventPoll>()) {
            Some(inner) if op == EPOLL_CTL_ADD => {
                let guard = NESTING.lock();
                if std::ptr::eq(inner, self) || inner.reaches(self, EP_MAX_NESTS) {
                    return Err(Errno::ELOOP);
                }
                Some(guard)
            }
            _ => None,
        };
        let mut items = self.lock();
        let pos = items.iter().position(|i| i.fd == fd && i.file_id == file_id);
        match (op, pos) {
            (EPOLL_CTL_ADD, Some(_)) => return Err(Errno::EEXIST),
            (EPOLL_CTL_ADD, None) => {
                // New items start on the ready list: the first scan polls
                // them (Linux's ep_insert polls at once).
                let ready = Arc::new(AtomicBool::new(true));
                let callback = file.ops.wait_queue().map(|q| {
                    let cb = EventPoll::callback(&self.queues, &ready);
                    q.add_callback(&cb, event.0 & EPOLLEXCLUSIVE != 0);
                    cb
                });
                items.push(EpItem {
                    fd,
                    file: Arc::downgrade(file),
                    file_id,
                    events: event.0 | EPOLLERR | EPOLLHUP,
                    data: event.1,
                    reported_count: None,
                    last_mask: 0,
                    ready,
                    callback,
                });
            }
            (EPOLL_CTL_DEL, Some(p)) => {
                let item = items.remove(p);
                if let (Some(cb), Some(q)) = (&item.callback, file.ops.wait_queue()) {
                    q.remove_callback(cb);
                }
            }
            (EPOLL_CTL_MOD, Some(p)) => {
                let item = &mut items[p];
                // An EPOLLEXCLUSIVE item cannot be modified (Linux: EINVAL).
                if item.events & EPOLLEXCLUSIVE != 0 {
                    return Err(Errno::EINVAL);
                }
                item.events = event.0 | EPOLLERR | EPOLLHUP;
                item.data = event.1;
                item.reported_count = None;
                item.last_mask = 0;
                item.ready.store(true, Ordering::Release);
            }
            (EPOLL_CTL_DEL | EPOLL_CTL_MOD, None) => return Err(Errno::ENOENT),
            _ => return Err(Errno::EINVAL),
        }
        drop(items);
        self.changed();
        Ok(())
    }

    /// Whether `target` is reachable through this instance's items within
    /// `depth` levels (a loop or too deep a nest: ELOOP).
    fn reaches(&self, target: &EventPoll, depth: usize) -> bool {
        if depth == 0 {
            return true;
        }
        for f in self.files() {
            if let Some(inner) = f.ops.as_any().and_then(|a| a.downcast_ref::<EventPoll>()) {
                if std::ptr::eq(inner, target) || inner.reaches(target, depth - 1) {
                    return true;
                }
            }
        }
        false
    }

    /// Up to `max` ready events as (events, data), consuming edge-triggered
    /// and one-shot readiness; `peek` only asks whether there is any.
    fn scan(&self, max: usize, peek: bool) -> Vec<(u32, u64)> {
        // Take the ready items off the ready list before polling them: a
        // wake-up while we poll puts them back, so none is lost.
        let watched: Vec<(i32, usize, Arc<File>, u32, Arc<AtomicBool>)> = self
            .lock()
            .iter()
            .filter(|i| i.events & !EP_PRIVATE_BITS != 0)
            .filter(|i| i.callback.is_none() || i.ready.swap(false, Ordering::AcqRel))
            .filter_map(|i| Some((i.fd, i.file_id, i.file.upgrade()?, i.events, i.ready.clone())))
            .collect();
        // Poll without the item lock: a file's poll may take its own locks
        // (or another epoll's items).
        let polled: Vec<(i32, usize, u32, Option<u64>, Arc<AtomicBool>)> =
            watched.iter().map(|(fd, id, f, events, ready)| (*fd, *id, f.ops.poll(f) as u32 & events, f.ops.event_count(), ready.clone())).collect();
        let mut out = Vec::new();
        let mut items = self.lock();
        let mut requeue = Vec::new();
        for (fd, id, mask, count, ready) in polled {
            if out.len() >= max || (peek && !out.is_empty()) {
                // Not looked at: still on the ready list.
                ready.store(true, Ordering::Release);
                continue;
            }
            let Some(p) = items.iter().position(|i| i.fd == fd && i.file_id == id) else { continue };
            let item = &mut items[p];
            let mask = mask & item.events;
            let edge = item.events & EPOLLET != 0;
            let report = mask != 0
                && (!edge
                    || match count {
                        Some(c) => item.reported_count != Some(c),
                        None => mask & !item.last_mask != 0,
                    });
            if !peek {
                item.last_mask = mask;
            }
            if !report {
                continue;
            }
            out.push((mask, item.data));
            if peek {
                ready.store(true, Ordering::Release);
                continue;
            }
            if edge {
                item.reported_count = count;
            }
            if item.events & EPOLLONESHOT != 0 {
                item.events &= EP_PRIVATE_BITS;
            } else if !edge {
                // Level-triggered: it stays ready until a scan finds it idle.
                ready.store(true, Ordering::Release);
                requeue.push(p);
            }
        }
        // Level-triggered items go to the back, so a small maxevents still
        // reaches every ready item in turn (Linux re-queues them at the tail).
        requeue.sort_unstable();
        let mut moved: Vec<EpItem> = requeue.into_iter().rev().map(|p| items.remove(p)).collect();
        moved.reverse();
        items.extend(moved);
        out
    }

    /// Takes up to `max` ready events.
    pub fn collect(&self, max: usize) -> Vec<(u32, u64)> {
        self.scan(max, false)
    }
}

impl Default for EventPoll {
    fn default() -> Self {
        EventPoll::new()
    }
}

impl FileOps for EventPoll {
    fn read(&self, _file: &File, _buf: &mut [u8], _pos: &mut u64) -> KResult<usize> {
        Err(Errno::EINVAL)
    }

    fn write(&self, _file: &File, _buf: &[u8], _pos: &mut u64) -> KResult<usize> {
        Err(Errno::EINVAL)
    }

    fn seekable(&self) -> bool {
        false
    }

    /// Linux's eventpoll_fops use noop_llseek: the position, unchanged.
    fn llseek(&self, _file: &File, pos: &mut u64, _offset: i64, _whence: u32) -> KResult<u64> {
        Ok(*pos)
    }

    /// Readable while an event is ready.
    fn poll(&self, _file: &File) -> u16 {
        if self.scan(1, true).is_empty() { 0 } else { POLLIN | POLLRDNORM }
    }

    fn wait_queue(&self) -> Option<&WaitQueue> {
        Some(&self.queues.pollers)
    }

    fn as_any(&self) -> Option<&dyn Any> {
        Some(self)
    }

    fn size(&self, _file: &File) -> KResult<u64> {
        Ok(0)
    }

    /// One line per item, as Linux's ep_show_fdinfo.
    fn fdinfo(&self, _file: &File) -> String {
        let mut out = String::new();
        for item in self.lock().iter() {
            let Some(f) = item.file.upgrade() else { continue };
            let md = f.metadata().unwrap_or_default();
            let sdev = (crate::fs::dev_major(md.dev) << 20) | crate::fs::dev_minor(md.dev);
            let pos = *f.pos.lock();
            out.push_str(&format!("tfd: {:8} events: {:8x} data: {:16x}  pos:{} ino:{:x} sdev:{:x}\n", item.fd, item.events, item.data, pos, md.ino, sdev));
        }
        out
    }
}

/// epoll_create1: a new epoll file (O_RDWR, like Linux's).
pub fn create_epoll() -> Arc<File> {
    crate::fs::anon::anon_file("eventpoll", Arc::new(EventPoll::new()), O_RDWR)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::pipe::create_pipe;

    fn write(f: &Arc<File>, data: &[u8]) {
        let mut pos = 0;
        f.ops.write(f, data, &mut pos).unwrap();
    }

    fn read(f: &Arc<File>, n: usize) -> usize {
        let mut buf = vec![0u8; n];
        let mut pos = 0;
        f.ops.read(f, &mut buf, &mut pos).unwrap()
    }

    fn ops(f: &Arc<File>) -> &EventPoll {
        f.ops.as_any().and_then(|a| a.downcast_ref::<EventPoll>()).unwrap()
    }

    #[test]
    fn level_triggered_reports_until_drained() {
        let ep = create_epoll();
        let (r, w) = create_pipe(0, 0, 0);
        let e = ops(&ep);
        e.ctl(EPOLL_CTL_ADD, 3, &r, (EPOLLIN, 7)).unwrap();
        assert_eq!(e.ctl(EPOLL_CTL_ADD, 3, &r, (EPOLLIN, 7)), Err(Errno::EEXIST));
        assert!(e.collect(8).is_empty());
        write(&w, b"abc");
        assert_eq!(e.collect(8), vec![(EPOLLIN, 7)]);
        assert_eq!(e.collect(8), vec![(EPOLLIN, 7)]);
        read(&r, 3);
        assert!(e.collect(8).is_empty());
        drop(w);
        assert_eq!(e.collect(8), vec![(EPOLLHUP, 7)]);
    }

    #[test]
    fn edge_triggered_reports_each_new_event_once() {
        let ep = create_epoll();
        let (r, w) = create_pipe(0, 0, 0);
        let e = ops(&ep);
        e.ctl(EPOLL_CTL_ADD, 3, &r, (EPOLLIN | EPOLLET, 1)).unwrap();
        write(&w, b"a");
        assert_eq!(e.collect(8).len(), 1);
        assert!(e.collect(8).is_empty());
        write(&w, b"b");
        assert_eq!(e.collect(8).len(), 1);
        assert!(e.collect(8).is_empty());
    }

    #[test]
    fn oneshot_disarms_until_modified() {
        let ep = create_epoll();
        let (r, w) = create_pipe(0, 0, 0);
        let e = ops(&ep);
        e.ctl(EPOLL_CTL_ADD, 3, &r, (EPOLLIN | EPOLLONESHOT, 1)).unwrap();
        write(&w, b"a");
        assert_eq!(e.collect(8).len(), 1);
        assert!(e.collect(8).is_empty());
        e.ctl(EPOLL_CTL_MOD, 3, &r, (EPOLLIN | EPOLLONESHOT, 2)).unwrap();
        assert_eq!(e.collect(8), vec![(EPOLLIN, 2)]);
    }

    #[test]
    fn items_go_with_their_file_and_loops_are_refused() {
        let ep = create_epoll();
        let e = ops(&ep);
        let (r, w) = create_pipe(0, 0, 0);
        e.ctl(EPOLL_CTL_ADD, 4, &w, (EPOLLOUT, 9)).unwrap();
        assert_eq!(e.collect(8), vec![(EPOLLOUT, 9)]);
        drop(w);
        assert!(e.collect(8).is_empty());
        assert_eq!(e.ctl(EPOLL_CTL_DEL, 4, &r, (0, 0)), Err(Errno::ENOENT));
        let ep2 = create_epoll();
        ops(&ep2).ctl(EPOLL_CTL_ADD, 5, &ep, (EPOLLIN, 0)).unwrap();
        assert_eq!(e.ctl(EPOLL_CTL_ADD, 6, &ep2, (EPOLLIN, 0)), Err(Errno::ELOOP));
    }

    #[test]
    fn small_maxevents_rotates_through_ready_items() {
        let ep = create_epoll();
        let e = ops(&ep);
        let (_r1, w1) = create_pipe(0, 0, 0);
        let (_r2, w2) = create_pipe(0, 0, 0);
        e.ctl(EPOLL_CTL_ADD, 1, &w1, (EPOLLOUT, 1)).unwrap();
        e.ctl(EPOLL_CTL_ADD, 2, &w2, (EPOLLOUT, 2)).unwrap();
        assert_eq!(e.collect(1), vec![(EPOLLOUT, 1)]);
        assert_eq!(e.collect(1), vec![(EPOLLOUT, 2)]);
        assert_eq!(e.collect(1), vec![(EPOLLOUT, 1)]);
    }

    #[test]
    fn a_nested_instance_wakes_its_watcher_and_exclusive_items_wake_one_waiter() {
        let (r, w) = create_pipe(0, 0, 0);
        let inner = create_epoll();
        let outer = create_epoll();
        ops(&inner).ctl(EPOLL_CTL_ADD, 3, &r, (EPOLLIN, 1)).unwrap();
        ops(&outer).ctl(EPOLL_CTL_ADD, 4, &inner, (EPOLLIN, 2)).unwrap();
        assert!(ops(&outer).collect(8).is_empty());
        write(&w, b"x");
        assert_eq!(ops(&outer).collect(8), vec![(EPOLLIN, 2)]);
        read(&r, 1);
        // Two instances with an exclusive item on one pipe and no waiter:
        // both callbacks run (neither woke anyone), both items are ready.
        let a = create_epoll();
        let b = create_epoll();
        ops(&a).ctl(EPOLL_CTL_ADD, 3, &r, (EPOLLIN | EPOLLEXCLUSIVE, 1)).unwrap();
        ops(&b).ctl(EPOLL_CTL_ADD, 3, &r, (EPOLLIN | EPOLLEXCLUSIVE, 1)).unwrap();
        assert!(ops(&a).collect(8).is_empty());
        assert!(ops(&b).collect(8).is_empty());
        write(&w, b"y");
        assert_eq!(ops(&a).collect(8).len(), 1);
        assert_eq!(ops(&b).collect(8).len(), 1);
    }
}
