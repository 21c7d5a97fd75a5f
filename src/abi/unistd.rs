//! System call numbers vkernel names outside the dispatch table
//! (Linux: arch/x86/entry/syscalls/syscall_64.tbl).

// Linux's table; not every value is used yet.
#![allow(dead_code)]

use linux_raw_sys::general;

/// `restart_syscall(2)` (Linux spells it `__NR_restart_syscall`).
pub const NR_RESTART_SYSCALL: u64 = general::__NR_restart_syscall as u64;
