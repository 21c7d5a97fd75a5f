//! Name and size limits a guest can observe (Linux: include/uapi/linux/limits.h).

// Linux's table; not every value is used yet.
#![allow(dead_code)]

use linux_raw_sys::general;

pub const PATH_MAX: usize = general::PATH_MAX as usize;
pub const NAME_MAX: usize = general::NAME_MAX as usize;
pub const NGROUPS_MAX: usize = general::NGROUPS_MAX as usize;
pub const XATTR_NAME_MAX: usize = general::XATTR_NAME_MAX as usize;
pub const XATTR_SIZE_MAX: u64 = general::XATTR_SIZE_MAX as u64;
pub const XATTR_LIST_MAX: u64 = general::XATTR_LIST_MAX as u64;
