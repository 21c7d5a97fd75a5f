//! Guest times to kernel deadlines, overflow-safe. A guest may pass any
//! value; Linux accepts a timespec with tv_sec >= 0 and 0 <= tv_nsec < 1e9
//! (timespec64_valid), converts it to nanoseconds saturating at KTIME_MAX
//! (about 292 years), and a deadline past that means "never". Every place
//! that turns a guest time into a wait or a timer goes through here; no
//! `Instant + Duration` on a guest value anywhere else.

use std::time::{Duration, Instant};

use crate::abi::{Errno, KResult, Timespec, Timeval};

/// Linux's KTIME_MAX: the largest time in nanoseconds.
pub const KTIME_MAX: i64 = i64::MAX;
const NSEC_PER_SEC: i64 = 1_000_000_000;

/// A validated guest timespec as nanoseconds, saturated at KTIME_MAX
/// (Linux: timespec64_valid, then timespec64_to_ktime). EINVAL for a
/// negative tv_sec or a tv_nsec outside [0, 1e9).
pub fn timespec_ns(ts: &Timespec) -> KResult<i64> {
    if ts.tv_sec < 0 || !(0..NSEC_PER_SEC).contains(&ts.tv_nsec) {
        return Err(Errno::EINVAL);
    }
    Ok(ts.tv_sec.saturating_mul(NSEC_PER_SEC).saturating_add(ts.tv_nsec))
}

/// A validated guest timeval as nanoseconds, saturated (EINVAL for a
/// negative tv_sec or a tv_usec outside [0, 1e6)).
pub fn timeval_ns(tv: &Timeval) -> KResult<i64> {
    if tv.tv_sec < 0 || !(0..1_000_000).contains(&tv.tv_usec) {
        return Err(Errno::EINVAL);
    }
    Ok(tv.tv_sec.saturating_mul(NSEC_PER_SEC).saturating_add(tv.tv_usec * 1000))
}

/// Nanoseconds as a timespec (negative values clamp to zero).
pub fn ns_to_timespec(ns: i64) -> Timespec {
    let ns = ns.max(0);
    Timespec { tv_sec: ns / NSEC_PER_SEC, tv_nsec: ns % NSEC_PER_SEC }
}

/// Nanoseconds as a timeval, rounded up to whole microseconds as Linux's
/// itimer reports do (negative values clamp to zero).
pub fn ns_to_timeval(ns: i64) -> Timeval {
    let us = (ns.max(0) as u64).div_ceil(1000) as i64;
    Timeval { tv_sec: us / 1_000_000, tv_usec: us % 1_000_000 }
}

/// A point on the guest's monotonic clock (nanoseconds since boot), or
/// never. Arithmetic saturates at KTIME_MAX, which is never.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Deadline(i64);

impl Deadline {
    pub const NEVER: Deadline = Deadline(KTIME_MAX);

    /// `ns` nanoseconds from now on the monotonic clock.
    pub fn after_ns(ns: i64) -> Deadline {
        Deadline::at_monotonic(now_ns().saturating_add(ns.max(0)))
    }

    /// At `ns` on the guest's monotonic clock.
    pub fn at_monotonic(ns: i64) -> Deadline {
        Deadline(ns.max(0))
    }

    /// When CLOCK_REALTIME reads `ns` (converted with the clocks' offset
    /// now, as an absolute realtime timer is).
    pub fn at_realtime(ns: i128) -> Deadline {
        let offset = crate::sched::clock::realtime_ns() - now_ns() as i128;
        Deadline::at_monotonic(ns.saturating_sub(offset).clamp(0, KTIME_MAX as i128) as i64)
    }

    pub fn is_never(self) -> bool {
        self.0 == KTIME_MAX
    }

    /// This deadline plus `ns` (a timer's period), saturating to never.
    pub fn plus_ns(self, ns: i64) -> Deadline {
        Deadline(self.0.saturating_add(ns.max(0)))
    }

    pub fn monotonic_ns(self) -> i64 {
        self.0
    }

    /// Nanoseconds left until the deadline (0 once it passed).
    pub fn remaining_ns(self) -> i64 {
        self.0.saturating_sub(now_ns()).max(0)
    }

    pub fn has_passed(self) -> bool {
        !self.is_never() && now_ns() >= self.0
    }

    /// The host instant of the deadline; None for never (or so far away
    /// that the host cannot represent it, which is the same thing).
    pub fn instant(self) -> Option<Instant> {
        if self.is_never() {
            return None;
        }
        crate::sched::clock::boot_instant().checked_add(Duration::from_nanos(self.0 as u64))
    }
}

/// A CLOCK_REALTIME time on the monotonic clock (converted with the
/// clocks' offset now), saturating; negative for a time before boot, so a
/// periodic timer set in the past counts its expirations from the right
/// start.
pub fn realtime_to_monotonic_ns(ns: i128) -> i64 {
    let offset = crate::sched::clock::realtime_ns() - now_ns() as i128;
    ns.saturating_sub(offset).clamp(i64::MIN as i128, KTIME_MAX as i128) as i64
}

fn now_ns() -> i64 {
    i64::try_from(crate::sched::clock::monotonic_ns()).unwrap_or(KTIME_MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_times_saturate_to_never_and_bad_ones_are_einval() {
        let ts = Timespec { tv_sec: i64::MAX, tv_nsec: 999_999_999 };
        assert_eq!(timespec_ns(&ts), Ok(KTIME_MAX));
        assert!(Deadline::after_ns(KTIME_MAX).is_never());
        assert_eq!(Deadline::after_ns(KTIME_MAX).instant(), None);
        assert_eq!(timespec_ns(&Timespec { tv_sec: -1, tv_nsec: 0 }), Err(Errno::EINVAL));
        assert_eq!(timespec_ns(&Timespec { tv_sec: 0, tv_nsec: 1_000_000_000 }), Err(Errno::EINVAL));
        assert_eq!(timespec_ns(&Timespec { tv_sec: 0, tv_nsec: -1 }), Err(Errno::EINVAL));
        assert_eq!(timeval_ns(&Timeval { tv_sec: 0, tv_usec: 1_000_000 }), Err(Errno::EINVAL));
        assert!(Deadline::at_monotonic(5).plus_ns(KTIME_MAX).is_never());
        assert!(Deadline::at_realtime(i128::MAX).is_never());
        assert_eq!(Deadline::at_realtime(i128::MIN).monotonic_ns(), 0);
    }

    #[test]
    fn conversions_round_trip_and_round_up() {
        assert_eq!(ns_to_timespec(1_500_000_000), Timespec { tv_sec: 1, tv_nsec: 500_000_000 });
        assert_eq!(ns_to_timeval(1), Timeval { tv_sec: 0, tv_usec: 1 });
        assert_eq!(ns_to_timeval(-5), Timeval { tv_sec: 0, tv_usec: 0 });
        let d = Deadline::after_ns(1_000_000);
        assert!(d.remaining_ns() <= 1_000_000);
        assert!(d.instant().is_some());
    }
}
