//! Counts of the seccomp platform's hand-offs, for `-v` at exit: how
//! often each wait was over while spinning and how often it slept on its
//! futex (the split the benchmarks report, issue 10).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// One kind of wait: ended while spinning, or after a futex sleep.
pub struct Tally {
    spun: AtomicU64,
    slept: AtomicU64,
}

impl Tally {
    const fn new() -> Tally {
        Tally { spun: AtomicU64::new(0), slept: AtomicU64::new(0) }
    }

    pub fn count(&self, slept: bool) {
        if slept { &self.slept } else { &self.spun }.fetch_add(1, Relaxed);
    }

    fn show(&self, what: &str) -> String {
        let (spun, slept) = (self.spun.load(Relaxed), self.slept.load(Relaxed));
        let total = spun + slept;
        let pct = if total == 0 { 0.0 } else { 100.0 * spun as f64 / total as f64 };
        format!("{what} {total} ({spun} spun, {slept} slept: {pct:.0}% spun)")
    }
}

/// vkernel waiting for a guest thread's next event (after answering it).
pub static EVENTS: Tally = Tally::new();
/// A guest thread waiting for vkernel's answer: "slept" when the answer
/// had to wake it (the stub's own flag, as it read at the answer).
pub static ANSWERS: Tally = Tally::new();
/// vkernel waiting for the mapper to finish a batch.
pub static BATCHES: Tally = Tally::new();
/// Batches vkernel did not wait for: the answered thread's handler
/// waited for them (its own new mappings).
pub static HANDED: AtomicU64 = AtomicU64::new(0);
/// System calls from patched sites (no signal).
pub static FAST: AtomicU64 = AtomicU64::new(0);
/// Host calls in all batches.
pub static OPS: AtomicU64 = AtomicU64::new(0);

/// Stub processes: made by the factories (and the time it took them),
/// taken by contexts, and how long the takers waited for one; address
/// spaces that reused a spare host thread instead.
pub static STUBS_MADE: AtomicU64 = AtomicU64::new(0);
pub static STUBS_MAKE_NS: AtomicU64 = AtomicU64::new(0);
pub static STUBS_TAKEN: AtomicU64 = AtomicU64::new(0);
pub static STUBS_WAIT_NS: AtomicU64 = AtomicU64::new(0);
pub static SPARES_REUSED: AtomicU64 = AtomicU64::new(0);
/// Kernel threads moved between local and spread placement.
pub static PLACEMENT_MOVES: AtomicU64 = AtomicU64::new(0);

/// The line `-v` prints at exit.
pub fn report() -> String {
    let ms = |ns: &AtomicU64| ns.load(Relaxed) as f64 / 1e6;
    format!(
        "hand-offs: {}; {}; {}, {} more awaited by the answered thread, {} host calls; {} calls from patched sites; \
         stubs: {} made in {:.1} ms, {} taken after {:.1} ms of waiting, {} spares reused; {} placement moves",
        EVENTS.show("guest events"),
        ANSWERS.show("answers"),
        BATCHES.show("mapper batches"),
        HANDED.load(Relaxed),
        OPS.load(Relaxed),
        FAST.load(Relaxed),
        STUBS_MADE.load(Relaxed),
        ms(&STUBS_MAKE_NS),
        STUBS_TAKEN.load(Relaxed),
        ms(&STUBS_WAIT_NS),
        SPARES_REUSED.load(Relaxed),
        PLACEMENT_MOVES.load(Relaxed)
    )
}
