//! The guest's clocks: CLOCK_MONOTONIC counts from vkernel's boot,
//! CLOCK_REALTIME follows the host's wall clock (so host clock adjustments
//! show through as on a real machine) plus whatever guest root set it to.
//! Both are read as the vDSO reads them (sched/vclock.rs), so a guest sees
//! one clock either way.

use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

struct Boot {
    at: Instant,
    realtime_ns: i128,
}

fn boot() -> &'static Boot {
    static BOOT: OnceLock<Boot> = OnceLock::new();
    BOOT.get_or_init(|| Boot { at: Instant::now(), realtime_ns: wall_clock_ns().unwrap_or(0) })
}

fn wall_clock_ns() -> Option<i128> {
    SystemTime::now().duration_since(UNIX_EPOCH).ok().map(|d| d.as_nanos() as i128)
}

/// Starts the clocks (the moment of boot); later calls do nothing.
pub fn start() {
    boot();
}

/// The host instant of boot.
pub fn boot_instant() -> Instant {
    boot().at
}

/// Nanoseconds since boot (CLOCK_MONOTONIC for the guest).
pub fn monotonic_ns() -> u64 {
    super::vclock::now_ns(super::vclock::Clock::Monotonic) as u64
}

/// CLOCK_REALTIME in nanoseconds since the epoch.
pub fn realtime_ns() -> i128 {
    super::vclock::now_ns(super::vclock::Clock::Realtime)
}

/// Guest root set CLOCK_REALTIME to `ns` (Linux's do_settimeofday64):
/// the clock moves, and absolute realtime sleepers waiting on
/// `realtime_set_queue` wake to measure again. Returns how far the clock
/// moved.
pub fn set_realtime(ns: i128) -> i128 {
    let step = super::vclock::set_realtime(ns);
    REALTIME_SETS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    realtime_set_queue().wake_all();
    step
}

static REALTIME_SETS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How many times CLOCK_REALTIME was set (a sleeper sees a change).
pub fn realtime_sets() -> u64 {
    REALTIME_SETS.load(std::sync::atomic::Ordering::SeqCst)
}

/// Woken whenever the guest's CLOCK_REALTIME is set.
pub fn realtime_set_queue() -> &'static super::wait::WaitQueue {
    static QUEUE: super::wait::WaitQueue = super::wait::WaitQueue::new();
    &QUEUE
}

/// The wall-clock time of boot (btime in /proc/stat): setting the clock
/// moves it too, as Linux's getboottime.
pub fn boot_realtime_ns() -> i128 {
    boot().realtime_ns + super::vclock::realtime_set_offset()
}

/// times() counts clock ticks from boot.
pub const INITIAL_JIFFIES: u64 = 0;
