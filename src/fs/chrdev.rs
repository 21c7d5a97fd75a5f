//! Character devices by number (Linux's chrdev table): a device node on
//! any filesystem reaches its driver through `open`. Drivers register a
//! range of minor numbers of a major at boot; the memory devices (1:x) are
//! devfs's own, terminals (5:x, 136:x) register from tty, so the VFS never
//! names a driver.

use parking_lot::RwLock;
use std::ops::RangeInclusive;
use std::sync::Arc;

use crate::abi::{Errno, KResult};
use crate::fs::file::FileOps;
use crate::fs::{dev_major, dev_minor};

/// A character device driver.
pub trait CharDevice: Send + Sync {
    /// Opens minor `minor` (one of the numbers it registered).
    fn open(&self, minor: u32, flags: u32) -> KResult<Arc<dyn FileOps>>;
}

struct Registration {
    major: u32,
    minors: RangeInclusive<u32>,
    driver: Arc<dyn CharDevice>,
}

static DEVICES: RwLock<Vec<Registration>> = RwLock::new(Vec::new());

/// Makes `driver` the one for `major`:`minors`. A later registration of
/// the same numbers takes precedence.
pub fn register(major: u32, minors: RangeInclusive<u32>, driver: Arc<dyn CharDevice>) {
    DEVICES.write().push(Registration { major, minors, driver });
}

/// The driver for character device `rdev`, opened; ENXIO when there is
/// none (Linux: chrdev_open).
pub fn open(rdev: u64, flags: u32) -> KResult<Arc<dyn FileOps>> {
    let (major, minor) = (dev_major(rdev), dev_minor(rdev));
    let driver = DEVICES.read().iter().rev().find(|r| r.major == major && r.minors.contains(&minor)).map(|r| r.driver.clone());
    match driver {
        Some(d) => d.open(minor, flags),
        None => Err(Errno::ENXIO),
    }
}
