//! Background writeback: one kernel thread that, about once a second,
//! writes back page caches dirty for longer than `EXPIRE` (every dirty
//! cache once dirty pages pass the background limit), then runs the
//! periodic hooks filesystems registered (a journal commit of a
//! transaction that has grown old). Writers past the dirty limit, or past
//! the background limit, `kick` it early. It does disk I/O, so it is its
//! own thread rather than a callback on the kernel timer thread (alarms
//! and interval timers must not wait behind an fdatasync).

use parking_lot::{Condvar, Mutex};
use std::sync::OnceLock;
use std::time::Duration;

/// Dirty data older than this is written back in the background.
pub const EXPIRE: Duration = Duration::from_secs(3);
/// How often the flusher looks.
pub const INTERVAL: Duration = Duration::from_secs(1);

type Hook = Box<dyn Fn() -> bool + Send + Sync>;

struct Flusher {
    kicked: Mutex<bool>,
    cond: Condvar,
    /// Periodic work; a hook returning false is done (its filesystem went).
    hooks: Mutex<Vec<Hook>>,
}

fn flusher() -> &'static Flusher {
    static FLUSHER: OnceLock<Flusher> = OnceLock::new();
    FLUSHER.get_or_init(|| {
        let _ = std::thread::Builder::new().name("vkernel-writeback".into()).spawn(run);
        Flusher { kicked: Mutex::new(false), cond: Condvar::new(), hooks: Mutex::new(Vec::new()) }
    })
}

fn run() {
    crate::platform::host::system::unpin_service_thread();
    let f = flusher();
    loop {
        {
            let mut kicked = f.kicked.lock();
            if !*kicked {
                f.cond.wait_for(&mut kicked, INTERVAL);
            }
            *kicked = false;
        }
        crate::mm::page_cache::write_back_expired(EXPIRE);
        // Hooks run without the list lock, so one may register another.
        let hooks = std::mem::take(&mut *f.hooks.lock());
        let kept: Vec<Hook> = hooks.into_iter().filter(|h| h()).collect();
        f.hooks.lock().splice(0..0, kept);
    }
}

/// Wakes the flusher now (too much dirty data).
pub fn kick() {
    let f = flusher();
    *f.kicked.lock() = true;
    f.cond.notify_one();
}

/// Runs `hook` on the flusher after each pass, until it returns false.
pub fn register_periodic(hook: impl Fn() -> bool + Send + Sync + 'static) {
    flusher().hooks.lock().push(Box::new(hook));
}
