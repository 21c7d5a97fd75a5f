//! The top of vkernel: boot (guest RAM, the platform, the mount tree, PID
//! 1), the run loop that drives each guest task through the platform and
//! the system call table, and shutdown. The one place that names syscall
//! dispatch; nothing below names this module.

pub mod boot;
pub mod run;
pub mod shutdown;

use std::sync::{Arc, OnceLock};

use crate::platform::Platform;

static PLATFORM: OnceLock<Arc<dyn Platform>> = OnceLock::new();

/// The platform chosen at boot.
pub fn platform() -> &'static Arc<dyn Platform> {
    PLATFORM.get().expect("the platform is created at boot, before any task runs")
}
