//! devfs: /dev as Linux's devtmpfs has it, a tmpfs populated at boot with
//! the character devices vkernel drives and a block special file for each
//! disk and partition in `blkdev` (kept current when a partition table is
//! re-read), plus the memory devices' driver (1:x: null, zero, full,
//! random, urandom), registered in `chrdev`.

use std::sync::Arc;

use crate::abi::stat::{S_IFBLK, S_IFCHR, S_IFDIR};
use crate::abi::{Errno, KResult};
use crate::fs::chrdev::{self, CharDevice};
use crate::fs::file::{File, FileOps};
use crate::fs::inode::InodeRef;
use crate::fs::{make_dev, tmpfs};

/// The "tty" group on Debian-like systems, owner of /dev/tty's group bits.
const TTY_GID: u32 = 5;

/// (name, major, minor, mode, gid)
const DEVICES: &[(&str, u32, u32, u32, u32)] = &[
    ("null", 1, 3, 0o666, 0),
    ("zero", 1, 5, 0o666, 0),
    ("full", 1, 7, 0o666, 0),
    ("random", 1, 8, 0o666, 0),
    ("urandom", 1, 9, 0o666, 0),
    ("tty", 5, 0, 0o666, TTY_GID),
    ("console", 5, 1, 0o600, 0),
    ("ptmx", 5, 2, 0o666, TTY_GID),
];

const LINKS: &[(&str, &str)] = &[("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")];

/// Debian's "disk" and "cdrom" groups, which own block devices.
const DISK_GID: u32 = 6;
const CDROM_GID: u32 = 24;

/// Every /dev built so far (one per devtmpfs mount), for block node updates.
static DEV_ROOTS: parking_lot::Mutex<Vec<std::sync::Weak<dyn crate::fs::inode::Inode>>> = parking_lot::Mutex::new(Vec::new());

/// Brings the block special files of `root` in line with `blkdev`'s
/// nodes: new partitions appear, vanished ones go (as devtmpfs does on a
/// partition rescan).
fn sync_block_nodes(root: &InodeRef) {
    let nodes = crate::fs::blkdev::all_nodes();
    let mut stale = Vec::new();
    let _ = root.readdir(0, &mut |e| {
        if e.dtype == 6 && !nodes.iter().any(|n| n.name.as_bytes() == e.name) {
            stale.push(e.name.to_vec());
        }
        true
    });
    for name in stale {
        let _ = root.unlink(&name);
    }
    for n in &nodes {
        let rdev = crate::fs::blkdev::rdev_of(n);
        if let Ok(existing) = root.lookup(n.name.as_bytes()) {
            if existing.metadata().is_ok_and(|m| m.rdev == rdev && m.mode & crate::abi::stat::S_IFMT == S_IFBLK) {
                continue;
            }
            let _ = root.unlink(n.name.as_bytes());
        }
        let gid = if n.kind == crate::block::registry::DiskKind::Cdrom { CDROM_GID } else { DISK_GID };
        let _ = root.create(n.name.as_bytes(), S_IFBLK | 0o660, rdev, 0, gid);
    }
}

/// The one devtmpfs instance (built on first use; boot mounts it on /dev).
pub fn devtmpfs() -> KResult<InodeRef> {
    static INSTANCE: std::sync::OnceLock<InodeRef> = std::sync::OnceLock::new();
    if let Some(root) = INSTANCE.get() {
        return Ok(root.clone());
    }
    let root = new_devfs()?;
    Ok(INSTANCE.get_or_init(|| root).clone())
}

/// Called after a disk's partitions changed (BLKRRPART).
pub fn refresh_block_nodes() {
    let roots: Vec<InodeRef> = DEV_ROOTS.lock().iter().filter_map(|w| w.upgrade()).collect();
    for root in roots {
        sync_block_nodes(&root);
    }
}

/// Builds a populated /dev. `shm` and `pts` are empty directories (boot
/// mounts a tmpfs on /dev/shm).
pub fn new_devfs() -> KResult<InodeRef> {
    let root = tmpfs::new_tmpfs(1 << 20, 0o755, 0, 0);
    sync_block_nodes(&root);
    if crate::fs::blkdev::all_nodes().iter().any(|n| n.name == "sr0") {
        root.symlink(b"cdrom", b"sr0", 0, 0)?;
    }
    let mut roots = DEV_ROOTS.lock();
    roots.retain(|w| w.strong_count() > 0);
    roots.push(Arc::downgrade(&root));
    drop(roots);
    for &(name, major, minor, mode, gid) in DEVICES {
        root.create(name.as_bytes(), S_IFCHR | mode, make_dev(major, minor), 0, gid)?;
    }
    for &(name, target) in LINKS {
        root.symlink(name.as_bytes(), target.as_bytes(), 0, 0)?;
    }
    root.create(b"shm", S_IFDIR | 0o1777, 0, 0, 0)?;
    root.create(b"pts", S_IFDIR | 0o755, 0, 0, 0)?;
    Ok(root)
}

/// The memory devices (Linux's drivers/char/mem.c), major 1.
struct MemoryDevices;

impl CharDevice for MemoryDevices {
    fn open(&self, minor: u32, _flags: u32) -> KResult<Arc<dyn FileOps>> {
        match minor {
            3 => Ok(Arc::new(Null)),
            5 => Ok(Arc::new(Zero)),
            7 => Ok(Arc::new(Full)),
            8 | 9 => Ok(Arc::new(Random)),
            _ => Err(Errno::ENXIO),
        }
    }
}

/// Registers the memory devices' driver (at boot).
pub fn register_devices() {
    chrdev::register(1, 0..=255, Arc::new(MemoryDevices));
}

/// lseek on the memory devices always lands at 0 (Linux: null_lseek).
fn seek_zero(pos: &mut u64) -> KResult<u64> {
    *pos = 0;
    Ok(0)
}

/// /dev/null: reads are EOF, writes vanish.
pub struct Null;

impl FileOps for Null {
    fn read(&self, _file: &File, _buf: &mut [u8], _pos: &mut u64) -> KResult<usize> {
        Ok(0)
    }
    fn write(&self, _file: &File, buf: &[u8], _pos: &mut u64) -> KResult<usize> {
        Ok(buf.len())
    }
    fn discards_writes(&self) -> bool {
        true
    }
    fn llseek(&self, _file: &File, pos: &mut u64, _offset: i64, _whence: u32) -> KResult<u64> {
        seek_zero(pos)
    }
}

/// /dev/zero: reads are zeros, writes vanish.
pub struct Zero;

impl FileOps for Zero {
    fn read(&self, _file: &File, buf: &mut [u8], _pos: &mut u64) -> KResult<usize> {
        buf.fill(0);
        Ok(buf.len())
    }
    fn write(&self, _file: &File, buf: &[u8], _pos: &mut u64) -> KResult<usize> {
        Ok(buf.len())
    }
    fn discards_writes(&self) -> bool {
        true
    }
    fn llseek(&self, _file: &File, pos: &mut u64, _offset: i64, _whence: u32) -> KResult<u64> {
        seek_zero(pos)
    }
}

/// /dev/full: reads are zeros, writes fail with ENOSPC.
pub struct Full;

impl FileOps for Full {
    fn read(&self, _file: &File, buf: &mut [u8], _pos: &mut u64) -> KResult<usize> {
        buf.fill(0);
        Ok(buf.len())
    }
    fn write(&self, _file: &File, _buf: &[u8], _pos: &mut u64) -> KResult<usize> {
        Err(Errno::ENOSPC)
    }
    fn llseek(&self, _file: &File, pos: &mut u64, _offset: i64, _whence: u32) -> KResult<u64> {
        seek_zero(pos)
    }
}

/// /dev/random and /dev/urandom: bytes from the host's getrandom; writes
/// (entropy contributions) are accepted and ignored.
pub struct Random;

impl FileOps for Random {
    fn read(&self, _file: &File, buf: &mut [u8], _pos: &mut u64) -> KResult<usize> {
        fill_random(buf)?;
        Ok(buf.len())
    }
    fn write(&self, _file: &File, buf: &[u8], _pos: &mut u64) -> KResult<usize> {
        Ok(buf.len())
    }
    fn llseek(&self, _file: &File, pos: &mut u64, _offset: i64, _whence: u32) -> KResult<u64> {
        seek_zero(pos)
    }
}

pub use crate::platform::host::system::fill_random;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::{dev_major, dev_minor};

    #[test]
    fn devfs_nodes_have_linux_numbers() {
        register_devices();
        let root = new_devfs().unwrap();
        let null = root.lookup(b"null").unwrap().metadata().unwrap();
        assert_eq!(null.mode, S_IFCHR | 0o666);
        assert_eq!((dev_major(null.rdev), dev_minor(null.rdev)), (1, 3));
        let tty = root.lookup(b"tty").unwrap().metadata().unwrap();
        assert_eq!((dev_major(tty.rdev), dev_minor(tty.rdev), tty.gid), (5, 0, 5));
        assert_eq!(root.lookup(b"stdout").unwrap().readlink().unwrap(), b"/proc/self/fd/1");
        assert!(chrdev::open(make_dev(1, 7), 0).is_ok());
        assert_eq!(chrdev::open(make_dev(42, 0), 0).err(), Some(Errno::ENXIO));
    }
}
