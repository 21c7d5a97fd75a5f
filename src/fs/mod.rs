//! The VFS: inodes, dentries and mounts, open files, fd tables, and the
//! filesystems vkernel provides. Host files are reached only through
//! `hostfs` (read-only, the overlay's lower layer) and `share` (the
//! directories `--share` names, confined to them); every other filesystem,
//! the overlay's upper layer included, lives in guest RAM or vkernel's memory.

pub mod anon;
pub mod blkdev;
pub mod chrdev;
pub mod devfs;
pub mod devpts;
pub mod epoll;
pub mod ext4;
pub mod fasync;
pub mod file;
pub mod fstype;
pub mod hostfs;
pub mod inode;
pub mod io;
pub mod iso9660;
pub mod lock;
pub mod lookup;
pub mod mount;
pub mod namei;
pub mod notify;
pub mod overlay;
pub mod path;
pub mod pipe;
pub mod posix_acl;
pub mod procfs;
pub mod share;
pub mod splice;
pub mod sysfs;
pub mod tmpfs;
pub mod xattr;

use std::sync::atomic::{AtomicU64, Ordering};

use crate::abi::limits::NAME_MAX;
use crate::abi::{Errno, KResult, Timespec};
use path::Path;

/// A task's filesystem context (shared by CLONE_FS): root, cwd and umask.
#[derive(Clone)]
pub struct FsContext {
    pub root: Path,
    pub cwd: Path,
    pub umask: u32,
}

/// Device numbers for filesystems without a block device (Linux's
/// anonymous "0:N" devices).
static NEXT_ANON_DEV: AtomicU64 = AtomicU64::new(20);

pub fn new_anon_dev() -> u64 {
    make_dev(0, NEXT_ANON_DEV.fetch_add(1, Ordering::Relaxed) as u32)
}

/// Linux's new_encode_dev.
pub fn make_dev(major: u32, minor: u32) -> u64 {
    let (major, minor) = (major as u64, minor as u64);
    (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & !0xff) << 12) | ((major & !0xfff) << 32)
}

pub fn dev_major(dev: u64) -> u32 {
    (((dev >> 32) & 0xffff_f000) | ((dev >> 8) & 0xfff)) as u32
}

pub fn dev_minor(dev: u64) -> u32 {
    (((dev >> 12) & 0xffff_ff00) | (dev & 0xff)) as u32
}

/// Checks a name for a new directory entry.
pub fn check_name(name: &[u8]) -> KResult<()> {
    if name.is_empty() || name == b"." || name == b".." {
        return Err(Errno::EEXIST);
    }
    if name.len() > NAME_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    Ok(())
}

/// The current wall-clock time, for inode timestamps: the guest's
/// CLOCK_REALTIME, so a file written after a clock read is never older.
pub fn now() -> Timespec {
    let ns = crate::sched::clock::realtime_ns().max(0);
    Timespec { tv_sec: (ns / 1_000_000_000) as i64, tv_nsec: (ns % 1_000_000_000) as i64 }
}
