//! Kernel timers: one thread sleeps until the earliest deadline and runs
//! the expired callbacks (SIGALRM for alarm/setitimer). Cancelling is by id.

use parking_lot::{Condvar, Mutex};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

type Callback = Box<dyn FnOnce() + Send>;

#[derive(Default)]
struct Queue {
    /// (deadline, id) -> callback.
    entries: BTreeMap<(Instant, u64), Callback>,
    next_id: u64,
}

pub struct Timers {
    queue: Mutex<Queue>,
    cond: Condvar,
}

/// A scheduled callback, for cancelling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimerId(Instant, u64);

/// The kernel's timer thread, started on first use.
pub fn timers() -> &'static Arc<Timers> {
    static TIMERS: std::sync::OnceLock<Arc<Timers>> = std::sync::OnceLock::new();
    TIMERS.get_or_init(Timers::start)
}

impl Timers {
    /// Starts a timer thread.
    pub fn start() -> Arc<Timers> {
        let timers = Arc::new(Timers { queue: Mutex::new(Queue::default()), cond: Condvar::new() });
        let t = timers.clone();
        let _ = std::thread::Builder::new().name("vkernel-timers".into()).spawn(move || t.run());
        timers
    }

    pub fn schedule(&self, deadline: Instant, callback: impl FnOnce() + Send + 'static) -> TimerId {
        let mut q = self.queue.lock();
        q.next_id += 1;
        let id = q.next_id;
        q.entries.insert((deadline, id), Box::new(callback));
        self.cond.notify_all();
        TimerId(deadline, id)
    }

    /// Cancels a timer; false if it already ran.
    pub fn cancel(&self, id: TimerId) -> bool {
        self.queue.lock().entries.remove(&(id.0, id.1)).is_some()
    }

    fn run(&self) {
        crate::platform::host::system::unpin_service_thread();
        let mut q = self.queue.lock();
        loop {
            let now = Instant::now();
            let due: Vec<(Instant, u64)> = q.entries.range(..=(now, u64::MAX)).map(|(k, _)| *k).collect();
            if !due.is_empty() {
                let callbacks: Vec<Callback> = due.iter().filter_map(|k| q.entries.remove(k)).collect();
                drop(q);
                // A callback that panics is reported and the thread goes on:
                // every other timer in the system still fires.
                for cb in callbacks {
                    if let Err(msg) = crate::sched::panic::guarded(cb) {
                        crate::sched::panic::report("a kernel timer", &msg);
                    }
                }
                q = self.queue.lock();
                continue;
            }
            match q.entries.keys().next() {
                Some(&(deadline, _)) => {
                    self.cond.wait_for(&mut q, deadline.saturating_duration_since(now).max(Duration::from_micros(1)));
                }
                None => self.cond.wait(&mut q),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[test]
    fn timers_fire_in_order_and_cancelled_ones_do_not() {
        let timers = Timers::start();
        let hits = Arc::new(AtomicU32::new(0));
        let h = hits.clone();
        let now = Instant::now();
        timers.schedule(now + Duration::from_millis(5), move || {
            h.fetch_add(1, Ordering::SeqCst);
        });
        let h2 = hits.clone();
        let cancelled = timers.schedule(now + Duration::from_millis(10), move || {
            h2.fetch_add(100, Ordering::SeqCst);
        });
        assert!(timers.cancel(cancelled));
        let deadline = Instant::now() + Duration::from_secs(5);
        while hits.load(Ordering::SeqCst) == 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(hits.load(Ordering::SeqCst), 1);
    }
}
