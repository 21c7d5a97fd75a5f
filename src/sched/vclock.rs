//! The guest's clocks, one definition read two ways: by the vDSO from the
//! data page (mm/vdso.rs) without a trap, and by vkernel itself (its
//! clock_gettime, timers, file times) from its own copy of the same words
//! with the same arithmetic, so the two never disagree.
//!
//! With a usable TSC the clocks are `base + (tsc - tsc_base) * mult`; a
//! kernel timer re-anchors the page every 100 ms against the host's
//! CLOCK_MONOTONIC, slewing the rate (never stepping back) to keep the guest
//! a hair (LEAD_NS) ahead of the host, so a host timer that fires at a guest
//! deadline always finds the guest clock past it. Without one, or once the
//! TSC and the host disagree, every read is the host clock plus an offset
//! and the vDSO makes the system call.

use parking_lot::{Mutex, MutexGuard};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering, fence};
use std::time::{Duration, Instant};

use crate::mm::vdso::layout::*;
use crate::platform::host::clock::{TscAux, tsc_ordered};

const NSEC_PER_SEC: u64 = 1_000_000_000;

/// How far ahead of the host's clock the guest's is kept.
const LEAD_NS: i128 = 10_000;
/// How often the page is re-anchored.
const UPDATE_INTERVAL: Duration = Duration::from_millis(100);
/// The first re-anchoring comes sooner, to refine the boot calibration.
const FIRST_UPDATE: Duration = Duration::from_millis(10);
/// The shortest baseline the boot calibration measures the TSC over, and
/// the longest it waits for one precise enough (see `enable`).
const MIN_CALIBRATION: Duration = Duration::from_micros(50);
const MAX_CALIBRATION: Duration = Duration::from_millis(2);
/// The boot rate is taken once the two samples' TSC brackets together are
/// at most this part of the baseline (an error of at most 250 ppm, which
/// the first update, FIRST_UPDATE later, finds well inside LEAD_NS and
/// measures again over the longer baseline).
const CALIBRATION_PRECISION: u64 = 4000;
/// Largest rate correction, in parts per million (NTP slews at 500).
const MAX_SLEW_PPM: i128 = 1000;
/// Farther than this from the host, the TSC is not trusted any more.
const TOLERANCE_NS: i128 = 1_000_000;
/// A change in the measured TSC rate larger than this (per million) between
/// two updates means the TSC is not steady.
const MAX_RATE_CHANGE_PPM: i128 = 10_000;
/// A host realtime offset that moves by more than this was set (a step).
const REALTIME_STEP_NS: i128 = 10_000;
/// Each new set of parameters starts this far in the future, at the value
/// the old set gives there: a reader that still passes its sequence check
/// with the old set read its TSC before that point, so it is never ahead of
/// one that reads the new set (no fence is needed after its rdtsc).
const ANCHOR_AHEAD_NS: u128 = 1_000;
/// A sample whose TSC bracket is wider than this was interrupted.
const MAX_SAMPLE_TICKS: u64 = 200_000;

/// The clocks the page carries (Linux's ids); every other id is the
/// system call's business.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    Realtime,
    Monotonic,
    MonotonicRaw,
    Boottime,
    Tai,
    RealtimeCoarse,
    MonotonicCoarse,
}

impl Clock {
    pub fn from_id(id: i32) -> Option<Clock> {
        Some(match id {
            0 => Clock::Realtime,
            1 => Clock::Monotonic,
            4 => Clock::MonotonicRaw,
            5 => Clock::RealtimeCoarse,
            6 => Clock::MonotonicCoarse,
            7 => Clock::Boottime,
            11 => Clock::Tai,
            _ => return None,
        })
    }

    /// The id whose base it reads, and whether it is the coarse variant.
    fn base(self) -> (u64, bool) {
        match self {
            Clock::Realtime => (0, false),
            Clock::Monotonic => (1, false),
            Clock::MonotonicRaw => (4, false),
            Clock::Boottime => (7, false),
            Clock::Tai => (11, false),
            Clock::RealtimeCoarse => (0, true),
            Clock::MonotonicCoarse => (1, true),
        }
    }
}

/// Ids with a base of their own (vdso.c's HRES_CLOCKS).
const HRES_IDS: [u64; 5] = [0, 1, 4, 7, 11];

/// Word indexes of the page (vvar.h), and of the two words only vkernel's
/// copy has: the fallback clock's offset from the host's, and the realtime
/// offset, both read when the page says VK_CLOCK_SYSCALL.
const PAGE_WORDS: usize = (VK_VVAR_SIZE / 8) as usize;
const FALLBACK_OFFSET: usize = PAGE_WORDS;
const FALLBACK_REALTIME: usize = PAGE_WORDS + 1;
const FALLBACK_TAI: usize = PAGE_WORDS + 2;
const WORDS: usize = PAGE_WORDS + 3;

fn word(offset: u64) -> usize {
    (offset / 8) as usize
}

fn base_word(id: u64) -> usize {
    word(VK_VVAR_BASE + 16 * id)
}

/// vkernel's copy of the page, read under the same sequence count.
struct Published {
    words: [AtomicU64; WORDS],
}

/// What the writer knows beyond the page.
struct Writer {
    seq: u32,
    mode: u32,
    /// CLOCK_MONOTONIC at `tsc_base`: nanoseconds and a 2^-32 fraction.
    tsc_base: u64,
    mono_ns: u64,
    mono_frac: u64,
    mult: u64,
    /// The last calibration sample and the rate measured up to it.
    last: Sample,
    rate: u64,
    /// In system-call mode: guest CLOCK_MONOTONIC = host's + this.
    fallback_offset: u64,
    /// CLOCK_REALTIME - CLOCK_MONOTONIC on the host.
    host_realtime_offset: i128,
    /// What guest root added to the wall clock (clock_settime and
    /// settimeofday move the guest's clock, never the host's).
    guest_realtime_offset: i128,
    /// settimeofday's timezone (minutes west, DST type), as gettimeofday
    /// returns it.
    timezone: (i32, i32),
    /// CLOCK_TAI - CLOCK_REALTIME on the host: whole seconds, the leap
    /// seconds NTP told it (0 until told), read at boot.
    tai_offset: i128,
    coarse_ns: u64,
    getcpu_mode: u64,
    /// Why the TSC is not used (for -v).
    why_not_tsc: String,
}

struct Clocks {
    published: Published,
    writer: Mutex<Writer>,
}

fn clocks() -> &'static Clocks {
    static CLOCKS: OnceLock<Clocks> = OnceLock::new();
    CLOCKS.get_or_init(|| {
        let first = sample();
        let coarse_ns = crate::platform::host::clock::coarse_tick_ns().unwrap_or(4_000_000);
        let writer = Writer {
            seq: 0,
            mode: VK_CLOCK_SYSCALL as u32,
            tsc_base: 0,
            mono_ns: 0,
            mono_frac: 0,
            mult: 0,
            last: first,
            rate: 0,
            fallback_offset: 0,
            host_realtime_offset: first.realtime_offset,
            guest_realtime_offset: 0,
            timezone: (0, 0),
            tai_offset: crate::platform::host::clock::tai_offset_s() as i128 * NSEC_PER_SEC as i128,
            coarse_ns,
            getcpu_mode: VK_GETCPU_SYSCALL,
            why_not_tsc: "not calibrated yet".into(),
        };
        let clocks = Clocks { published: Published { words: std::array::from_fn(|_| AtomicU64::new(0)) }, writer: Mutex::new(writer) };
        {
            let mut w = clocks.lock_writer();
            clocks.publish(&mut w, |_, _| {});
        }
        clocks
    })
}

/// A host CLOCK_MONOTONIC reading (nanoseconds since vkernel's boot)
/// paired with the TSC, and the host's realtime offset.
#[derive(Clone, Copy, Debug)]
struct Sample {
    tsc: u64,
    host_ns: u64,
    realtime_offset: i128,
    /// The TSC bracket the host reading sits in.
    width: u64,
}

fn host_ns() -> u64 {
    crate::sched::clock::boot_instant().elapsed().as_nanos() as u64
}

fn host_realtime_ns() -> i128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as i128).unwrap_or(0)
}

/// The tightest of a few readings (an interrupt in the middle widens one).
fn sample() -> Sample {
    let mut best: Option<Sample> = None;
    for _ in 0..8 {
        let t1 = tsc_ordered();
        let h1 = host_ns();
        let t2 = tsc_ordered();
        let realtime = host_realtime_ns();
        let h2 = host_ns();
        let width = t2.wrapping_sub(t1);
        let s = Sample { tsc: t1.wrapping_add(width / 2), host_ns: h1, realtime_offset: realtime - (h1 as i128 + h2 as i128) / 2, width };
        if best.is_none_or(|b| s.width < b.width) {
            best = Some(s);
        }
    }
    best.expect("eight samples")
}

impl Clocks {
    fn lock_writer(&self) -> MutexGuard<'_, Writer> {
        self.writer.lock()
    }

    /// Rewrites the page and vkernel's copy: the sequence count goes odd;
    /// once that is visible the TSC is read, and the new parameters start
    /// ANCHOR_AHEAD_NS after it (no reader passing its check with the old
    /// ones can have read a later TSC); `change` adjusts the writer at that
    /// anchor, and the new words go out with an even count.
    fn publish(&self, w: &mut Writer, change: impl FnOnce(&mut Writer, u64)) {
        let page = crate::mm::vdso::data_page();
        w.seq = w.seq.wrapping_add(1);
        let head = |w: &Writer| w.seq as u64 | (w.mode as u64) << 32;
        self.published.words[0].store(head(w), Ordering::Relaxed);
        if let Some(p) = page {
            p.store(VK_VVAR_SEQ, head(w), Ordering::Relaxed);
        }
        fence(Ordering::SeqCst);
        let ahead = if w.mult > 0 { ((ANCHOR_AHEAD_NS << VK_SHIFT) / w.mult as u128) as u64 } else { 0 };
        let anchor = tsc_ordered().saturating_add(ahead);
        change(w, anchor);
        let words = w.words();
        for (i, value) in words.iter().enumerate().skip(1) {
            self.published.words[i].store(*value, Ordering::Relaxed);
            if let (Some(p), true) = (page, i < PAGE_WORDS) {
                p.store(i as u64 * 8, *value, Ordering::Relaxed);
            }
        }
        w.seq = w.seq.wrapping_add(1);
        self.published.words[0].store(head(w), Ordering::Release);
        if let Some(p) = page {
            p.store(VK_VVAR_SEQ, head(w), Ordering::Release);
        }
    }

    /// Clock `clock` now: (seconds, nanoseconds).
    fn read(&self, clock: Clock) -> (u64, u64) {
        let words = &self.published.words;
        let (id, coarse) = clock.base();
        loop {
            let head = words[0].load(Ordering::Acquire);
            if head & 1 != 0 {
                std::hint::spin_loop();
                continue;
            }
            let coarse_ns = words[word(VK_VVAR_COARSE_NS)].load(Ordering::Relaxed);
            let (sec, ns) = if head >> 32 == VK_CLOCK_TSC {
                let now = tsc_ordered();
                let base = words[word(VK_VVAR_TSC_BASE)].load(Ordering::Relaxed);
                let mult = words[word(VK_VVAR_MULT)].load(Ordering::Relaxed);
                let sec = words[base_word(id)].load(Ordering::Relaxed);
                let snsec = words[base_word(id) + 1].load(Ordering::Relaxed);
                let mono_snsec = words[base_word(1) + 1].load(Ordering::Relaxed);
                evaluate(now, base, mult, sec, snsec, coarse.then_some((mono_snsec, coarse_ns)))
            } else {
                let mono = host_ns().wrapping_add(words[FALLBACK_OFFSET].load(Ordering::Relaxed));
                let offset = match id {
                    0 => words[FALLBACK_REALTIME].load(Ordering::Relaxed) as i64 as i128,
                    11 => words[FALLBACK_TAI].load(Ordering::Relaxed) as i64 as i128,
                    _ => 0,
                };
                let total = (mono as i128 + offset).max(0) as u64;
                let (sec, ns) = (total / NSEC_PER_SEC, total % NSEC_PER_SEC);
                if coarse { back_to_tick(sec, ns, mono, coarse_ns) } else { (sec, ns) }
            };
            fence(Ordering::Acquire);
            if words[0].load(Ordering::Relaxed) == head {
                return (sec, ns);
            }
        }
    }
}

/// The vDSO's read_clock (vdso.c), step for step: the same inputs give
/// the same nanosecond. `coarse` carries CLOCK_MONOTONIC's snsec and the
/// tick.
fn evaluate(now: u64, tsc_base: u64, mult: u64, sec: u64, snsec: u64, coarse: Option<(u64, u64)>) -> (u64, u64) {
    let delta = now.saturating_sub(tsc_base);
    let elapsed = delta as u128 * mult as u128;
    let (mut sec, mut ns) = (sec, ((elapsed + snsec as u128) >> VK_SHIFT) as u64);
    if let Some((mono_snsec, tick)) = coarse {
        let mono = ((elapsed + mono_snsec as u128) >> VK_SHIFT) as u64;
        (sec, ns) = back_to_tick(sec, ns, mono, tick);
    }
    if ns >= NSEC_PER_SEC {
        sec = sec.wrapping_add(ns / NSEC_PER_SEC);
        ns %= NSEC_PER_SEC;
    }
    (sec, ns)
}

/// A clock's (sec, ns) at the last coarse tick, where ticks come every
/// `tick` ns from each whole second of CLOCK_MONOTONIC (`mono`'s
/// nanoseconds, of which only the part within the second counts).
fn back_to_tick(sec: u64, ns: u64, mono: u64, tick: u64) -> (u64, u64) {
    let since_tick = if tick > 0 { (mono % NSEC_PER_SEC) % tick } else { 0 };
    if ns < since_tick { (sec.wrapping_sub(1), ns + NSEC_PER_SEC - since_tick) } else { (sec, ns - since_tick) }
}

impl Writer {
    /// CLOCK_MONOTONIC at `tsc` as (nanoseconds, fraction), exactly as the
    /// readers compute it from the current parameters.
    fn mono_at(&self, tsc: u64) -> (u64, u64) {
        let total = tsc.saturating_sub(self.tsc_base) as u128 * self.mult as u128 + self.mono_frac as u128;
        (self.mono_ns.wrapping_add((total >> VK_SHIFT) as u64), (total & ((1 << VK_SHIFT) - 1)) as u64)
    }

    /// Moves the anchor to `tsc` without changing any reading.
    fn reanchor(&mut self, tsc: u64) {
        if self.mode == VK_CLOCK_TSC as u32 {
            (self.mono_ns, self.mono_frac) = self.mono_at(tsc);
        }
        self.tsc_base = tsc;
    }

    fn realtime_offset(&self) -> i128 {
        self.host_realtime_offset + self.guest_realtime_offset
    }

    /// The page's words (and the two of vkernel's copy) for the current
    /// state.
    fn words(&self) -> [u64; WORDS] {
        let mut words = [0u64; WORDS];
        words[0] = self.seq as u64 | (self.mode as u64) << 32;
        words[word(VK_VVAR_TSC_BASE)] = self.tsc_base;
        words[word(VK_VVAR_MULT)] = self.mult;
        words[word(VK_VVAR_COARSE_NS)] = self.coarse_ns;
        words[word(VK_VVAR_HRES_NS)] = 1;
        // The two i32s of the timezone, minutes west first (little-endian).
        words[word(VK_VVAR_TZ)] = self.timezone.0 as u32 as u64 | (self.timezone.1 as u32 as u64) << 32;
        words[word(VK_VVAR_GETCPU_MODE)] = self.getcpu_mode;
        for id in HRES_IDS {
            let offset = match id {
                0 => self.realtime_offset(),
                11 => self.realtime_offset() + self.tai_offset,
                _ => 0,
            };
            let total = (self.mono_ns as i128 + offset).max(0) as u64;
            words[base_word(id)] = total / NSEC_PER_SEC;
            words[base_word(id) + 1] = ((total % NSEC_PER_SEC) << VK_SHIFT) | self.mono_frac;
        }
        words[FALLBACK_OFFSET] = self.fallback_offset;
        words[FALLBACK_REALTIME] = self.realtime_offset() as i64 as u64;
        words[FALLBACK_TAI] = (self.realtime_offset() + self.tai_offset) as i64 as u64;
        words
    }

    /// Stops using the TSC: from here on the clocks are the host's plus
    /// the offset that keeps them where they are (never back).
    fn give_up_tsc(&mut self, tsc: u64, why: String) {
        if self.mode == VK_CLOCK_TSC as u32 {
            let (mono, _) = self.mono_at(tsc);
            self.fallback_offset = mono.saturating_sub(host_ns()).saturating_add(LEAD_NS as u64);
        }
        self.mode = VK_CLOCK_SYSCALL as u32;
        self.why_not_tsc = why;
    }
}

/// The rate `tsc` ticks to `ns` nanoseconds give, as a mult.
fn rate(ticks: u64, ns: u64) -> Option<u64> {
    if ticks == 0 {
        return None;
    }
    u64::try_from(((ns as u128) << VK_SHIFT) / ticks as u128).ok().filter(|&m| m > 0)
}

/// Why the host's TSC cannot be used for the clocks, if it cannot.
fn tsc_unusable() -> Option<String> {
    if std::env::var_os("VKERNEL_TEST_NO_TSC").is_some() {
        return Some("VKERNEL_TEST_NO_TSC is set".into());
    }
    let flags = crate::platform::host::clock::cpu_flags();
    for needed in ["constant_tsc", "nonstop_tsc"] {
        if !flags.iter().any(|f| f == needed) {
            return Some(format!("the CPU does not report {needed}"));
        }
    }
    // The host kernel checked the TSC (synchronised across CPUs, steady)
    // before it chose it; with another clocksource it may have found it
    // wanting.
    match crate::platform::host::clock::clocksource() {
        Some(cs) if cs == "tsc" => None,
        Some(cs) => Some(format!("the host keeps time with {cs}, not the TSC")),
        None => Some("the host's clocksource is unknown".into()),
    }
}

/// How the vDSO can learn the CPU: an instruction reading TSC_AUX, if the
/// CPU has one and the host keeps the CPU number there.
fn getcpu_mode() -> u64 {
    let flags = crate::platform::host::clock::cpu_flags();
    let has = |f: &str| flags.iter().any(|x| x == f);
    for (flag, how, mode) in [("rdpid", TscAux::Rdpid, VK_GETCPU_RDPID), ("rdtscp", TscAux::Rdtscp, VK_GETCPU_RDTSCP)] {
        if !has(flag) {
            continue;
        }
        // This thread may move between the two reads; one agreeing pair
        // of a few shows the host keeps the CPU there.
        let agrees = (0..8).any(|_| {
            let aux = crate::platform::host::clock::read_tsc_aux(how);
            aux & 0xfff == crate::platform::host::system::current_cpu()
        });
        if agrees {
            return mode;
        }
    }
    VK_GETCPU_SYSCALL
}

/// Boot, first thing: takes the calibration's first sample. `enable`
/// finishes it.
pub fn start() {
    let c = clocks();
    let mut w = c.lock_writer();
    w.last = sample();
}

/// Boot, before the first guest runs: calibrates the TSC against the host
/// (spinning for what is left of a precise enough baseline since `start`), fills the page
/// and starts its updates. Returns what -v reports.
pub fn enable() -> String {
    let c = clocks();
    let mut w = c.lock_writer();
    let getcpu = getcpu_mode();
    let first = w.last;
    let mut why = tsc_unusable();
    let mut calibrated = None;
    if why.is_none() {
        // Boot did its work since `start`; spin only for what is missing
        // of a baseline long enough for the samples' precision.
        let started = Duration::from_nanos(first.host_ns);
        let mut now = sample();
        loop {
            let baseline = Duration::from_nanos(now.host_ns.saturating_sub(first.host_ns));
            let precise = now.tsc.wrapping_sub(first.tsc) >= (first.width + now.width).saturating_mul(CALIBRATION_PRECISION);
            if (baseline >= MIN_CALIBRATION && precise) || Duration::from_nanos(host_ns()) >= started + MAX_CALIBRATION {
                break;
            }
            std::hint::spin_loop();
            now = sample();
        }
        match rate(now.tsc.wrapping_sub(first.tsc), now.host_ns.saturating_sub(first.host_ns)) {
            // A TSC between 100 MHz and 20 GHz: anything else is a broken
            // measurement.
            Some(mult) if (mult as u128) < (10u128 << VK_SHIFT) && (mult as u128) > ((1u128 << VK_SHIFT) / 20) => calibrated = Some((now, mult)),
            _ => why = Some("calibrating the TSC against the host clock failed".into()),
        }
    }
    c.publish(&mut w, |w, tsc| {
        w.getcpu_mode = getcpu;
        match (calibrated, why.clone()) {
            (Some((s, mult)), _) => {
                w.mode = VK_CLOCK_TSC as u32;
                w.mult = mult;
                w.rate = mult;
                w.last = s;
                // The guest's clock starts LEAD_NS ahead of the host's at
                // the anchor (the host at `tsc`, through the sample).
                let since = (tsc.saturating_sub(s.tsc) as u128 * mult as u128) >> VK_SHIFT;
                w.mono_ns = (s.host_ns as u128 + since + LEAD_NS as u128) as u64;
                w.mono_frac = 0;
                w.tsc_base = tsc;
                w.host_realtime_offset = s.realtime_offset;
                w.why_not_tsc.clear();
            }
            (None, Some(reason)) => w.give_up_tsc(tsc, reason),
            (None, None) => {}
        }
    });
    let report = describe(&w);
    drop(w);
    schedule_update(FIRST_UPDATE);
    report
}

fn describe(w: &Writer) -> String {
    let getcpu = match w.getcpu_mode {
        VK_GETCPU_RDPID => "rdpid",
        VK_GETCPU_RDTSCP => "rdtscp",
        _ => "system call",
    };
    if w.mode == VK_CLOCK_TSC as u32 {
        let mhz = (1u128 << VK_SHIFT) as f64 / w.mult as f64 * 1000.0;
        format!("vDSO clocks from the TSC ({mhz:.3} MHz), getcpu by {getcpu}")
    } else {
        format!("vDSO clocks by system call ({}), getcpu by {getcpu}", w.why_not_tsc)
    }
}

fn schedule_update(after: Duration) {
    crate::sched::timer::timers().schedule(Instant::now() + after, || {
        update();
        schedule_update(UPDATE_INTERVAL);
    });
}

/// One re-anchoring: measures where the guest clock stands against the
/// host's and sets the rate for the next interval so that it ends LEAD_NS
/// ahead (a clock behind the host steps forward at once); picks up a
/// host realtime step.
fn update() {
    let c = clocks();
    let mut w = c.lock_writer();
    let s = sample();
    if s.width > MAX_SAMPLE_TICKS {
        return;
    }
    let realtime_moved = (s.realtime_offset - w.host_realtime_offset).abs() > REALTIME_STEP_NS;
    if w.mode != VK_CLOCK_TSC as u32 {
        if realtime_moved {
            c.publish(&mut w, |w, tsc| {
                w.host_realtime_offset = s.realtime_offset;
                w.reanchor(tsc);
            });
        }
        return;
    }
    let (guest, _) = w.mono_at(s.tsc);
    let error = s.host_ns as i128 + LEAD_NS - guest as i128;
    let measured = rate(s.tsc.wrapping_sub(w.last.tsc), s.host_ns.saturating_sub(w.last.host_ns));
    let trouble = match measured {
        _ if error.abs() > TOLERANCE_NS => Some(format!("the TSC drifted {} µs from the host clock", error / 1000)),
        None => Some("the TSC stood still against the host clock".into()),
        Some(m) if (m as i128 - w.rate as i128).abs() * 1_000_000 > w.rate as i128 * MAX_RATE_CHANGE_PPM => {
            Some("the TSC rate changed against the host clock".into())
        }
        Some(_) => None,
    };
    let interval = UPDATE_INTERVAL.as_nanos() as i128;
    c.publish(&mut w, |w, tsc| {
        if let Some(why) = trouble {
            w.give_up_tsc(tsc, why);
            w.host_realtime_offset = s.realtime_offset;
            return;
        }
        let measured = measured.unwrap_or(w.rate);
        w.reanchor(tsc);
        // Behind the host: step forward (monotonic) to the lead.
        if guest < s.host_ns {
            w.mono_ns = w.mono_ns.saturating_add((s.host_ns as i128 + LEAD_NS - guest as i128) as u64);
        }
        let correction = if guest < s.host_ns { 0 } else { error.clamp(-MAX_SLEW_PPM * interval / 1_000_000, MAX_SLEW_PPM * interval / 1_000_000) };
        w.mult = (measured as i128 + measured as i128 * correction / interval).max(1) as u64;
        w.rate = measured;
        w.last = s;
        if realtime_moved {
            w.host_realtime_offset = s.realtime_offset;
        }
    });
}

/// Sets the guest's CLOCK_REALTIME (and with it TAI and the coarse
/// realtime clock) to read `ns` now; the monotonic clocks do not move.
/// Returns how far the clock moved.
pub fn set_realtime(ns: i128) -> i128 {
    let c = clocks();
    let step = ns - now_ns(Clock::Realtime);
    let mut w = c.lock_writer();
    c.publish(&mut w, |w, tsc| {
        w.guest_realtime_offset += step;
        w.reanchor(tsc);
    });
    step
}

/// How far guest root has moved the wall clock from the host's.
pub fn realtime_set_offset() -> i128 {
    clocks().lock_writer().guest_realtime_offset
}

/// Sets the timezone gettimeofday reports (Linux's sys_tz).
pub fn set_timezone(minuteswest: i32, dsttime: i32) {
    let c = clocks();
    let mut w = c.lock_writer();
    c.publish(&mut w, |w, tsc| {
        w.timezone = (minuteswest, dsttime);
        w.reanchor(tsc);
    });
}

/// The timezone gettimeofday reports.
pub fn timezone() -> (i32, i32) {
    clocks().lock_writer().timezone
}

/// Clock `clock` now, in nanoseconds (CLOCK_REALTIME from the epoch, the
/// others from vkernel's boot).
pub fn now_ns(clock: Clock) -> i128 {
    let (sec, ns) = clocks().read(clock);
    sec as i128 * NSEC_PER_SEC as i128 + ns as i128
}

/// The coarse clocks' tick (their resolution): the host's.
pub fn coarse_tick_ns() -> u64 {
    clocks().lock_writer().coarse_ns
}

/// The resolution of the other clocks.
pub const HRES_NS: u64 = 1;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evaluation_normalises_and_floors_coarse_to_the_tick() {
        // 1 ns per tick.
        let mult = 1u64 << VK_SHIFT;
        let (sec, ns) = evaluate(1_500_000_000, 0, mult, 7, 999_999_999 << VK_SHIFT, None);
        assert_eq!((sec, ns), (9, 499_999_999));
        // A TSC behind the base reads as the base.
        assert_eq!(evaluate(5, 10, mult, 3, 42 << VK_SHIFT, None), (3, 42));
        // Coarse: back to the last 4 ms tick of CLOCK_MONOTONIC, which runs
        // 1 ns ahead of this clock here, so the tick is this clock's 3_999_999.
        let (sec, ns) = evaluate(5_000_001, 0, mult, 100, 0, Some((1 << VK_SHIFT, 4_000_000)));
        assert_eq!((sec, ns), (100, 3_999_999));
        // The tick (6000 ns back on CLOCK_MONOTONIC) may fall in the
        // previous second of the clock read: 100 s + 1500 ns - 6000 ns.
        let (sec, ns) = evaluate(1_000, 0, mult, 100, 500 << VK_SHIFT, Some((5_000 << VK_SHIFT, 4_000_000)));
        assert_eq!((sec, ns), (99, 999_995_500));
    }

    #[test]
    fn clocks_advance_and_realtime_follows_the_host() {
        let a = now_ns(Clock::Monotonic);
        let r = now_ns(Clock::Realtime);
        let host = host_realtime_ns();
        assert!((r - host).abs() < 50_000_000, "realtime {r} host {host}");
        let b = now_ns(Clock::Monotonic);
        assert!(b >= a);
        assert!(now_ns(Clock::MonotonicCoarse) <= now_ns(Clock::Monotonic));
        assert_eq!(Clock::from_id(2), None);
        assert_eq!(Clock::from_id(6), Some(Clock::MonotonicCoarse));
    }

    #[test]
    fn a_writer_reanchors_without_moving_the_clock() {
        let mut w = Writer {
            seq: 0,
            mode: VK_CLOCK_TSC as u32,
            tsc_base: 1000,
            mono_ns: 5_000,
            mono_frac: 1 << 31,
            mult: (1 << VK_SHIFT) / 3,
            last: sample(),
            rate: 0,
            fallback_offset: 0,
            host_realtime_offset: 0,
            guest_realtime_offset: 0,
            timezone: (0, 0),
            tai_offset: 0,
            coarse_ns: 4_000_000,
            getcpu_mode: 0,
            why_not_tsc: String::new(),
        };
        let before: Vec<(u64, u64)> = (0..50).map(|i| w.mono_at(1000 + i * 7919)).collect();
        let words = w.words();
        let read = |words: &[u64; WORDS], tsc: u64| {
            evaluate(tsc, words[word(VK_VVAR_TSC_BASE)], words[word(VK_VVAR_MULT)], words[base_word(1)], words[base_word(1) + 1], None)
        };
        for (i, (ns, _)) in before.iter().enumerate() {
            let (s, n) = read(&words, 1000 + i as u64 * 7919);
            assert_eq!(s * NSEC_PER_SEC + n, *ns, "page and writer agree");
        }
        w.reanchor(1000 + 3 * 7919);
        for (i, b) in before.iter().enumerate().skip(3) {
            assert_eq!(w.mono_at(1000 + i as u64 * 7919), *b, "reanchoring keeps every later reading");
        }
    }
}
