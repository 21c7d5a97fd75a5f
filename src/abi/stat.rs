//! File modes, `statx` masks and `utimensat` special times
//! (Linux: include/uapi/linux/stat.h).

// Linux's table; not every value is used yet.
#![allow(dead_code)]

use linux_raw_sys::general;

pub const S_IFMT: u32 = general::S_IFMT;
pub const S_IFSOCK: u32 = general::S_IFSOCK;
pub const S_IFLNK: u32 = general::S_IFLNK;
pub const S_IFREG: u32 = general::S_IFREG;
pub const S_IFBLK: u32 = general::S_IFBLK;
pub const S_IFDIR: u32 = general::S_IFDIR;
pub const S_IFCHR: u32 = general::S_IFCHR;
pub const S_IFIFO: u32 = general::S_IFIFO;
pub const S_ISUID: u32 = general::S_ISUID;
pub const S_ISGID: u32 = general::S_ISGID;
pub const S_ISVTX: u32 = general::S_ISVTX;

/// type, mode, nlink, uid, gid, atime, mtime, ctime, ino, size, blocks.
pub const STATX_BASIC_STATS: u32 = general::STATX_BASIC_STATS;
/// Linux spells it `STATX__RESERVED`.
pub const STATX_RESERVED: u32 = general::STATX__RESERVED;

pub const UTIME_NOW: i64 = general::UTIME_NOW as i64;
pub const UTIME_OMIT: i64 = general::UTIME_OMIT as i64;
