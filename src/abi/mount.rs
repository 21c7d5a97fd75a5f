//! mount(2) and umount2(2) flags (include/uapi/linux/mount.h, fs.h).

// Linux's table; not every value is used.
#![allow(dead_code)]

use linux_raw_sys::general as g;

pub const MS_RDONLY: u64 = g::MS_RDONLY as u64;
pub const MS_NOSUID: u64 = g::MS_NOSUID as u64;
pub const MS_NODEV: u64 = g::MS_NODEV as u64;
pub const MS_NOEXEC: u64 = g::MS_NOEXEC as u64;
pub const MS_SYNCHRONOUS: u64 = g::MS_SYNCHRONOUS as u64;
pub const MS_REMOUNT: u64 = g::MS_REMOUNT as u64;
pub const MS_MANDLOCK: u64 = g::MS_MANDLOCK as u64;
pub const MS_DIRSYNC: u64 = g::MS_DIRSYNC as u64;
pub const MS_NOSYMFOLLOW: u64 = g::MS_NOSYMFOLLOW as u64;
pub const MS_NOATIME: u64 = g::MS_NOATIME as u64;
pub const MS_NODIRATIME: u64 = g::MS_NODIRATIME as u64;
pub const MS_BIND: u64 = g::MS_BIND as u64;
pub const MS_MOVE: u64 = g::MS_MOVE as u64;
pub const MS_REC: u64 = g::MS_REC as u64;
pub const MS_SILENT: u64 = g::MS_SILENT as u64;
pub const MS_POSIXACL: u64 = g::MS_POSIXACL as u64;
pub const MS_UNBINDABLE: u64 = g::MS_UNBINDABLE as u64;
pub const MS_PRIVATE: u64 = g::MS_PRIVATE as u64;
pub const MS_SLAVE: u64 = g::MS_SLAVE as u64;
pub const MS_SHARED: u64 = g::MS_SHARED as u64;
pub const MS_RELATIME: u64 = g::MS_RELATIME as u64;
pub const MS_KERNMOUNT: u64 = g::MS_KERNMOUNT as u64;
pub const MS_I_VERSION: u64 = g::MS_I_VERSION as u64;
pub const MS_STRICTATIME: u64 = g::MS_STRICTATIME as u64;
pub const MS_LAZYTIME: u64 = g::MS_LAZYTIME as u64;
pub const MS_NOUSER: u64 = g::MS_NOUSER as u64;
pub const MS_MGC_VAL: u64 = g::MS_MGC_VAL as u64;
pub const MS_MGC_MSK: u64 = g::MS_MGC_MSK as u64;

pub const MNT_FORCE: u32 = g::MNT_FORCE;
pub const MNT_DETACH: u32 = g::MNT_DETACH;
pub const MNT_EXPIRE: u32 = g::MNT_EXPIRE;
pub const UMOUNT_NOFOLLOW: u32 = g::UMOUNT_NOFOLLOW;
