//! `clone` flags (Linux: include/uapi/linux/sched.h).

// Linux's table; not every value is used yet.
#![allow(dead_code)]

use linux_raw_sys::general;

pub const CSIGNAL: u64 = general::CSIGNAL as u64;
pub const CLONE_VM: u64 = general::CLONE_VM as u64;
pub const CLONE_FS: u64 = general::CLONE_FS as u64;
pub const CLONE_FILES: u64 = general::CLONE_FILES as u64;
pub const CLONE_SIGHAND: u64 = general::CLONE_SIGHAND as u64;
pub const CLONE_PIDFD: u64 = general::CLONE_PIDFD as u64;
pub const CLONE_PTRACE: u64 = general::CLONE_PTRACE as u64;
pub const CLONE_VFORK: u64 = general::CLONE_VFORK as u64;
pub const CLONE_PARENT: u64 = general::CLONE_PARENT as u64;
pub const CLONE_THREAD: u64 = general::CLONE_THREAD as u64;
pub const CLONE_NEWNS: u64 = general::CLONE_NEWNS as u64;
pub const CLONE_SYSVSEM: u64 = general::CLONE_SYSVSEM as u64;
pub const CLONE_SETTLS: u64 = general::CLONE_SETTLS as u64;
pub const CLONE_PARENT_SETTID: u64 = general::CLONE_PARENT_SETTID as u64;
pub const CLONE_CHILD_CLEARTID: u64 = general::CLONE_CHILD_CLEARTID as u64;
pub const CLONE_DETACHED: u64 = general::CLONE_DETACHED as u64;
pub const CLONE_UNTRACED: u64 = general::CLONE_UNTRACED as u64;
pub const CLONE_CHILD_SETTID: u64 = general::CLONE_CHILD_SETTID as u64;
pub const CLONE_NEWCGROUP: u64 = general::CLONE_NEWCGROUP as u64;
pub const CLONE_NEWUTS: u64 = general::CLONE_NEWUTS as u64;
pub const CLONE_NEWIPC: u64 = general::CLONE_NEWIPC as u64;
pub const CLONE_NEWUSER: u64 = general::CLONE_NEWUSER as u64;
pub const CLONE_NEWPID: u64 = general::CLONE_NEWPID as u64;
pub const CLONE_NEWNET: u64 = general::CLONE_NEWNET as u64;
pub const CLONE_IO: u64 = general::CLONE_IO as u64;
