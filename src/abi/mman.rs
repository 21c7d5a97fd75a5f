//! Memory mappings: `mmap` protections and flags, `mremap`, `madvise`,
//! `msync` and `mlockall` flags (Linux: include/uapi/asm-generic/mman-common.h,
//! arch/x86/include/uapi/asm/mman.h, include/uapi/linux/mman.h).

// Linux's table; not every value is used yet.
#![allow(dead_code)]

use linux_raw_sys::general;

pub const PROT_READ: u32 = general::PROT_READ;
pub const PROT_WRITE: u32 = general::PROT_WRITE;
pub const PROT_EXEC: u32 = general::PROT_EXEC;
pub const PROT_GROWSDOWN: u32 = general::PROT_GROWSDOWN;
pub const PROT_GROWSUP: u32 = general::PROT_GROWSUP;

pub const MAP_SHARED: u32 = general::MAP_SHARED;
pub const MAP_PRIVATE: u32 = general::MAP_PRIVATE;
pub const MAP_SHARED_VALIDATE: u32 = general::MAP_SHARED_VALIDATE;
pub const MAP_TYPE: u32 = general::MAP_TYPE;
pub const MAP_FIXED: u32 = general::MAP_FIXED;
pub const MAP_ANONYMOUS: u32 = general::MAP_ANONYMOUS;
pub const MAP_GROWSDOWN: u32 = general::MAP_GROWSDOWN;
pub const MAP_DENYWRITE: u32 = general::MAP_DENYWRITE;
pub const MAP_EXECUTABLE: u32 = general::MAP_EXECUTABLE;
pub const MAP_LOCKED: u32 = general::MAP_LOCKED;
pub const MAP_NORESERVE: u32 = general::MAP_NORESERVE;
pub const MAP_POPULATE: u32 = general::MAP_POPULATE;
pub const MAP_NONBLOCK: u32 = general::MAP_NONBLOCK;
pub const MAP_STACK: u32 = general::MAP_STACK;
pub const MAP_HUGETLB: u32 = general::MAP_HUGETLB;
pub const MAP_SYNC: u32 = general::MAP_SYNC;
pub const MAP_FIXED_NOREPLACE: u32 = general::MAP_FIXED_NOREPLACE;
pub const MAP_32BIT: u32 = general::MAP_32BIT;

pub const MREMAP_MAYMOVE: u32 = general::MREMAP_MAYMOVE;
pub const MREMAP_FIXED: u32 = general::MREMAP_FIXED;
pub const MREMAP_DONTUNMAP: u32 = general::MREMAP_DONTUNMAP;

pub const MADV_NORMAL: u32 = general::MADV_NORMAL;
pub const MADV_RANDOM: u32 = general::MADV_RANDOM;
pub const MADV_SEQUENTIAL: u32 = general::MADV_SEQUENTIAL;
pub const MADV_WILLNEED: u32 = general::MADV_WILLNEED;
pub const MADV_DONTNEED: u32 = general::MADV_DONTNEED;
pub const MADV_FREE: u32 = general::MADV_FREE;
pub const MADV_REMOVE: u32 = general::MADV_REMOVE;
pub const MADV_DONTFORK: u32 = general::MADV_DONTFORK;
pub const MADV_DOFORK: u32 = general::MADV_DOFORK;
pub const MADV_MERGEABLE: u32 = general::MADV_MERGEABLE;
pub const MADV_UNMERGEABLE: u32 = general::MADV_UNMERGEABLE;
pub const MADV_HUGEPAGE: u32 = general::MADV_HUGEPAGE;
pub const MADV_NOHUGEPAGE: u32 = general::MADV_NOHUGEPAGE;
pub const MADV_DONTDUMP: u32 = general::MADV_DONTDUMP;
pub const MADV_DODUMP: u32 = general::MADV_DODUMP;
pub const MADV_WIPEONFORK: u32 = general::MADV_WIPEONFORK;
pub const MADV_KEEPONFORK: u32 = general::MADV_KEEPONFORK;
pub const MADV_COLD: u32 = general::MADV_COLD;
pub const MADV_PAGEOUT: u32 = general::MADV_PAGEOUT;

pub const MS_ASYNC: u32 = general::MS_ASYNC;
pub const MS_INVALIDATE: u32 = general::MS_INVALIDATE;
pub const MS_SYNC: u32 = general::MS_SYNC;

pub const MCL_CURRENT: u32 = general::MCL_CURRENT;
pub const MCL_FUTURE: u32 = general::MCL_FUTURE;
pub const MCL_ONFAULT: u32 = general::MCL_ONFAULT;
