//! `statfs`: filesystem magic numbers (`f_type`, Linux: include/uapi/linux/magic.h)
//! and mount flags (`f_flags`, Linux: include/linux/statfs.h, not a uapi header,
//! so linux-raw-sys lacks them and they are written here).

// Linux's table; not every value is used yet.
#![allow(dead_code)]

use linux_raw_sys::general;

pub const TMPFS_MAGIC: i64 = general::TMPFS_MAGIC as i64;
pub const OVERLAYFS_SUPER_MAGIC: i64 = general::OVERLAYFS_SUPER_MAGIC as i64;
pub const PIPEFS_MAGIC: i64 = general::PIPEFS_MAGIC as i64;
pub const PROC_SUPER_MAGIC: i64 = general::PROC_SUPER_MAGIC as i64;
pub const ANON_INODE_FS_MAGIC: i64 = general::ANON_INODE_FS_MAGIC as i64;
/// Linux spells it `DEVPTS_SUPER_MAGIC`.
pub const DEVPTS_MAGIC: i64 = general::DEVPTS_SUPER_MAGIC as i64;
/// ext2, ext3 and ext4 share one magic.
pub const EXT4_SUPER_MAGIC: i64 = general::EXT4_SUPER_MAGIC as i64;
pub const SOCKFS_MAGIC: i64 = general::SOCKFS_MAGIC as i64;

// Not in linux-raw-sys; from include/linux/statfs.h.
pub const ST_RDONLY: i64 = 0x0001;
pub const ST_NOSUID: i64 = 0x0002;
pub const ST_NODEV: i64 = 0x0004;
pub const ST_NOEXEC: i64 = 0x0008;
pub const ST_VALID: i64 = 0x0020;
pub const ST_RELATIME: i64 = 0x1000;
