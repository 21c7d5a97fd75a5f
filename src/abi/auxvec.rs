//! ELF auxiliary vector entry types (Linux: include/uapi/linux/auxvec.h,
//! arch/x86/include/uapi/asm/auxvec.h).

// Linux's table; not every value is used yet.
#![allow(dead_code)]

use linux_raw_sys::auxvec;

pub const AT_NULL: u64 = auxvec::AT_NULL as u64;
pub const AT_PHDR: u64 = auxvec::AT_PHDR as u64;
pub const AT_PHENT: u64 = auxvec::AT_PHENT as u64;
pub const AT_PHNUM: u64 = auxvec::AT_PHNUM as u64;
pub const AT_PAGESZ: u64 = auxvec::AT_PAGESZ as u64;
pub const AT_BASE: u64 = auxvec::AT_BASE as u64;
pub const AT_FLAGS: u64 = auxvec::AT_FLAGS as u64;
pub const AT_ENTRY: u64 = auxvec::AT_ENTRY as u64;
pub const AT_UID: u64 = auxvec::AT_UID as u64;
pub const AT_EUID: u64 = auxvec::AT_EUID as u64;
pub const AT_GID: u64 = auxvec::AT_GID as u64;
pub const AT_EGID: u64 = auxvec::AT_EGID as u64;
pub const AT_PLATFORM: u64 = auxvec::AT_PLATFORM as u64;
pub const AT_HWCAP: u64 = auxvec::AT_HWCAP as u64;
pub const AT_CLKTCK: u64 = auxvec::AT_CLKTCK as u64;
pub const AT_SECURE: u64 = auxvec::AT_SECURE as u64;
pub const AT_RANDOM: u64 = auxvec::AT_RANDOM as u64;
pub const AT_HWCAP2: u64 = auxvec::AT_HWCAP2 as u64;
pub const AT_EXECFN: u64 = auxvec::AT_EXECFN as u64;
pub const AT_MINSIGSTKSZ: u64 = auxvec::AT_MINSIGSTKSZ as u64;
pub const AT_SYSINFO_EHDR: u64 = auxvec::AT_SYSINFO_EHDR as u64;
