//! Kernel primitives every subsystem above mm builds on: how a kernel
//! thread sleeps and is woken (wait queues), kernel timers, credentials,
//! and the narrow handle on "the task this kernel thread runs" through
//! which filesystems, terminals and sockets reach task identity and
//! signals without naming the task layer.

pub mod clock;
pub mod cred;
pub mod current;
pub mod klog;
pub mod panic;
pub mod processes;
pub mod sysctl;
pub mod time;
pub mod timer;
pub mod vclock;
pub mod wait;

pub use cred::Creds;
pub use current::{CurrentTask, current};
