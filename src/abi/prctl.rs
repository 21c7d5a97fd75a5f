//! `prctl` options (Linux: include/uapi/linux/prctl.h) and `arch_prctl`
//! codes (Linux: arch/x86/include/uapi/asm/prctl.h; linux-raw-sys has only
//! `ARCH_SET_FS` of these, so the rest are written here).

// Linux's table; not every value is used yet.
#![allow(dead_code)]

use linux_raw_sys::general;
use linux_raw_sys::prctl;

pub const PR_SET_PDEATHSIG: u32 = prctl::PR_SET_PDEATHSIG;
pub const PR_GET_PDEATHSIG: u32 = prctl::PR_GET_PDEATHSIG;
pub const PR_GET_DUMPABLE: u32 = prctl::PR_GET_DUMPABLE;
pub const PR_SET_DUMPABLE: u32 = prctl::PR_SET_DUMPABLE;
pub const PR_SET_NAME: u32 = prctl::PR_SET_NAME;
pub const PR_GET_NAME: u32 = prctl::PR_GET_NAME;
pub const PR_GET_SECCOMP: u32 = prctl::PR_GET_SECCOMP;
pub const PR_CAPBSET_READ: u32 = prctl::PR_CAPBSET_READ;
pub const PR_SET_CHILD_SUBREAPER: u32 = prctl::PR_SET_CHILD_SUBREAPER;
pub const PR_GET_CHILD_SUBREAPER: u32 = prctl::PR_GET_CHILD_SUBREAPER;
pub const PR_SET_NO_NEW_PRIVS: u32 = prctl::PR_SET_NO_NEW_PRIVS;
pub const PR_GET_NO_NEW_PRIVS: u32 = prctl::PR_GET_NO_NEW_PRIVS;
pub const PR_GET_TID_ADDRESS: u32 = prctl::PR_GET_TID_ADDRESS;
pub const PR_SET_THP_DISABLE: u32 = prctl::PR_SET_THP_DISABLE;
pub const PR_GET_THP_DISABLE: u32 = prctl::PR_GET_THP_DISABLE;
pub const PR_CAPBSET_DROP: u32 = prctl::PR_CAPBSET_DROP;
pub const PR_GET_KEEPCAPS: u32 = prctl::PR_GET_KEEPCAPS;
pub const PR_SET_KEEPCAPS: u32 = prctl::PR_SET_KEEPCAPS;
pub const PR_GET_SECUREBITS: u32 = prctl::PR_GET_SECUREBITS;
pub const PR_SET_SECUREBITS: u32 = prctl::PR_SET_SECUREBITS;
pub const PR_CAP_AMBIENT: u32 = prctl::PR_CAP_AMBIENT;
pub const PR_CAP_AMBIENT_IS_SET: u32 = prctl::PR_CAP_AMBIENT_IS_SET;
pub const PR_CAP_AMBIENT_RAISE: u32 = prctl::PR_CAP_AMBIENT_RAISE;
pub const PR_CAP_AMBIENT_LOWER: u32 = prctl::PR_CAP_AMBIENT_LOWER;
pub const PR_CAP_AMBIENT_CLEAR_ALL: u32 = prctl::PR_CAP_AMBIENT_CLEAR_ALL;

pub const ARCH_SET_FS: u32 = general::ARCH_SET_FS;
// Not in linux-raw-sys; from arch/x86/include/uapi/asm/prctl.h.
pub const ARCH_SET_GS: u32 = 0x1001;
pub const ARCH_GET_FS: u32 = 0x1003;
pub const ARCH_GET_GS: u32 = 0x1004;
pub const ARCH_GET_CPUID: u32 = 0x1011;
pub const ARCH_SET_CPUID: u32 = 0x1012;
