//! The host's wall clock, for subsystems that need "now" before a guest
//! clock exists (e.g. a filesystem mounted with default options).

use crate::abi::Timespec;

pub fn realtime() -> Timespec {
    let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    Timespec { tv_sec: d.as_secs() as i64, tv_nsec: d.subsec_nanos() as i64 }
}
