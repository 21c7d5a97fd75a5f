//! Filesystem types by name (Linux's file_systems list) and superblocks.
//! mount(2), /proc/filesystems and `mount` without `-t` (a probe over the
//! types that need a device) all come from here.
//!
//! How a filesystem registers: at boot (kernel/boot.rs, or a filesystem's
//! own `register()` called from there), pass `register` a
//! `FileSystemType` with
//! - `name`: what `mount -t` and /proc/filesystems say ("ext4", "tmpfs");
//! - `requires_device`: true for a disk filesystem (mount gets the claimed
//!   `BlockDevice` its source names), false for "nodev" ones (no device;
//!   the source is only a label);
//! - `mount`: builds a `SuperBlock` from a `MountRequest` (device, MS_*
//!   flags, option string). Refuse unknown options with EINVAL, a device
//!   that does not hold this filesystem with EINVAL (Linux's "wrong fs
//!   type, bad superblock"), corruption with EUCLEAN or EIO;
//! - `probe`: for device filesystems, a cheap look at the device ("is
//!   this mine?") for mounts without a type.
//!
//! A superblock's `SuperOps` hears sync and the final unmount (when the
//! last mount and open file of it are gone: the superblock is dropped).

use parking_lot::RwLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};

use crate::abi::{Errno, KResult};
use crate::block::BlockDevice;
use crate::fs::blkdev::Claimed;
use crate::fs::inode::InodeRef;

/// What a filesystem's mount function gets.
pub struct MountRequest<'a> {
    /// The source's block device (claimed) for a device filesystem.
    pub device: Option<Arc<dyn BlockDevice>>,
    /// Its number, which the filesystem's inodes report as st_dev; None
    /// for a nodev filesystem (it takes an anonymous one, `new_anon_dev`).
    pub dev: Option<u64>,
    /// The source as given ("/dev/vda1", "tmpfs", "none"), for a
    /// filesystem that names it in its messages or options.
    #[allow(dead_code)]
    pub source: &'a str,
    /// MS_* flags (MS_RDONLY decides a new superblock's read-only state).
    pub flags: u64,
    /// The option string (mount -o), without the generic flags `mount`
    /// turned into `flags`.
    pub options: &'a str,
}

/// Events a mounted filesystem wants to hear.
pub trait SuperOps: Send + Sync {
    /// sync(2)/syncfs(2): write everything back.
    fn sync(&self) -> KResult<()> {
        Ok(())
    }
    /// MS_REMOUNT with new flags and options (a switch to read-only must
    /// write everything back first). EINVAL for options it cannot change.
    fn remount(&self, _flags: u64, _options: &str) -> KResult<()> {
        Ok(())
    }
    /// The last mount is gone: write back and finish cleanly. Called once.
    fn unmount(&self) {}
}

/// A mounted filesystem instance (Linux's super_block): shared by every
/// mount of it (bind mounts, the same device mounted twice).
pub struct SuperBlock {
    pub root: InodeRef,
    pub fstype: &'static str,
    /// The st_dev of its inodes (the block device's number, or anonymous).
    pub dev: u64,
    /// Filesystem options /proc/mounts shows after the generic ones.
    pub options: RwLock<String>,
    read_only: AtomicBool,
    ops: Option<Box<dyn SuperOps>>,
    /// The block device it holds (released when the superblock goes).
    device: std::sync::OnceLock<Claimed>,
}

impl SuperBlock {
    /// A superblock over `root` (st_dev taken from it).
    pub fn new(root: InodeRef, fstype: &'static str, read_only: bool, options: String, ops: Option<Box<dyn SuperOps>>) -> Arc<SuperBlock> {
        let dev = root.metadata().map(|m| m.dev).unwrap_or(0);
        Arc::new(SuperBlock {
            root,
            fstype,
            dev,
            options: RwLock::new(options),
            read_only: AtomicBool::new(read_only),
            ops,
            device: std::sync::OnceLock::new(),
        })
    }

    pub fn read_only(&self) -> bool {
        self.read_only.load(Ordering::Relaxed)
    }

    pub fn set_read_only(&self, ro: bool) {
        self.read_only.store(ro, Ordering::Relaxed);
    }

    /// The block device's number, if it sits on one.
    pub fn block_device(&self) -> Option<u64> {
        self.device.get().map(|c| crate::fs::blkdev::rdev_of(&c.node))
    }

    pub fn sync(&self) -> KResult<()> {
        match &self.ops {
            Some(ops) => ops.sync(),
            None => Ok(()),
        }
    }

    pub fn remount(&self, flags: u64, options: &str) -> KResult<()> {
        match &self.ops {
            Some(ops) => ops.remount(flags, options),
            None => Ok(()),
        }
    }
}

impl Drop for SuperBlock {
    fn drop(&mut self) {
        if let Some(ops) = &self.ops {
            ops.unmount();
        }
    }
}

/// One filesystem type.
#[derive(Clone, Copy)]
pub struct FileSystemType {
    pub name: &'static str,
    pub requires_device: bool,
    pub mount: fn(&MountRequest<'_>) -> KResult<Arc<SuperBlock>>,
    /// Does the device hold this filesystem? (device filesystems only)
    pub probe: Option<fn(&dyn BlockDevice) -> bool>,
}

static TYPES: RwLock<Vec<FileSystemType>> = RwLock::new(Vec::new());

/// Live superblocks on block devices, so a second mount of a device
/// shares the first's (Linux: sget on the bdev).
static DEVICE_SUPERS: RwLock<Vec<(u64, Weak<SuperBlock>)>> = RwLock::new(Vec::new());

/// Registers `t`; a type of the same name registered again replaces it.
pub fn register(t: FileSystemType) {
    let mut types = TYPES.write();
    types.retain(|x| x.name != t.name);
    types.push(t);
}

pub fn find(name: &str) -> Option<FileSystemType> {
    TYPES.read().iter().find(|t| t.name == name).copied()
}

/// /proc/filesystems, in registration order.
pub fn proc_filesystems() -> String {
    TYPES.read().iter().map(|t| format!("{}\t{}\n", if t.requires_device { "" } else { "nodev" }, t.name)).collect()
}

/// The first device filesystem whose probe recognises `device`.
pub fn probe(device: &dyn BlockDevice) -> Option<FileSystemType> {
    let types: Vec<FileSystemType> = TYPES.read().clone();
    types.into_iter().find(|t| t.requires_device && t.probe.is_some_and(|p| p(device)))
}

/// Mounts a new instance of `t` (or, for a device already mounted, shares
/// its superblock: EBUSY when it is mounted as another type). `rdev` is
/// the source device for a device filesystem.
pub fn get_super(t: &FileSystemType, rdev: Option<u64>, source: &str, flags: u64, options: &str) -> KResult<Arc<SuperBlock>> {
    let Some(rdev) = rdev else {
        return (t.mount)(&MountRequest { device: None, dev: None, source, flags, options });
    };
    {
        let mut supers = DEVICE_SUPERS.write();
        supers.retain(|(_, w)| w.strong_count() > 0);
        if let Some(sb) = supers.iter().filter(|(d, _)| *d == rdev).find_map(|(_, w)| w.upgrade()) {
            return if sb.fstype == t.name { Ok(sb) } else { Err(Errno::EBUSY) };
        }
    }
    // The superblock's own claim, by a token that is unique while it lives.
    static NEXT_HOLDER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);
    let holder = NEXT_HOLDER.fetch_add(1, Ordering::Relaxed) | (1 << (usize::BITS - 1));
    let claim = Claimed::claim(rdev, holder)?;
    let device = claim.node.device.clone();
    if claim.node.read_only() && flags & crate::abi::mount::MS_RDONLY == 0 {
        // Linux refuses a write-protected device for a read-write mount;
        // util-linux's mount then retries read-only.
        return Err(Errno::EACCES);
    }
    let sb = (t.mount)(&MountRequest { device: Some(device), dev: Some(rdev), source, flags, options })?;
    let _ = sb.device.set(claim);
    DEVICE_SUPERS.write().push((rdev, Arc::downgrade(&sb)));
    Ok(sb)
}

/// Every live superblock on a device (sync(2) and shutdown write them back).
#[allow(dead_code)]
pub fn device_superblocks() -> Vec<Arc<SuperBlock>> {
    DEVICE_SUPERS.read().iter().filter_map(|(_, w)| w.upgrade()).collect()
}

/// Splits a mount option string into options, each `name` or `name=value`.
pub fn options(s: &str) -> impl Iterator<Item = (&str, Option<&str>)> {
    s.split(',').filter(|o| !o.is_empty()).map(|o| match o.split_once('=') {
        Some((k, v)) => (k, Some(v)),
        None => (o, None),
    })
}

// ---- the built-in nodev filesystems ----

/// A nodev superblock over `root` whose only options are those it shows.
fn simple_super(root: InodeRef, name: &'static str, req: &MountRequest<'_>, shown: String) -> Arc<SuperBlock> {
    SuperBlock::new(root, name, req.flags & crate::abi::mount::MS_RDONLY != 0, shown, None)
}

/// Refuses any option: these filesystems take none yet (Linux would
/// accept some; a silently ignored option would be a lie).
fn no_options(req: &MountRequest<'_>) -> KResult<()> {
    if options(req.options).next().is_some() { Err(Errno::EINVAL) } else { Ok(()) }
}

/// tmpfs size=N[kmg%], mode=, uid=, gid=, nr_inodes= (ignored bound).
fn mount_tmpfs(req: &MountRequest<'_>) -> KResult<Arc<SuperBlock>> {
    let ram = crate::mm::frame::guest_ram().total_frames() * crate::abi::PAGE_SIZE;
    let (mut size, mut mode, mut uid, mut gid) = (ram / 2, 0o1777, 0, 0);
    let mut shown = Vec::new();
    for (name, value) in options(req.options) {
        let value = value.ok_or(Errno::EINVAL)?;
        match name {
            "size" => {
                size = parse_tmpfs_size(value, ram)?;
                shown.push(format!("size={}k", size / 1024));
            }
            "mode" => {
                mode = u32::from_str_radix(value, 8).map_err(|_| Errno::EINVAL)? & 0o7777;
                shown.push(format!("mode={mode:03o}"));
            }
            "uid" => {
                uid = value.parse().map_err(|_| Errno::EINVAL)?;
                shown.push(format!("uid={uid}"));
            }
            "gid" => {
                gid = value.parse().map_err(|_| Errno::EINVAL)?;
                shown.push(format!("gid={gid}"));
            }
            _ => return Err(Errno::EINVAL),
        }
    }
    let root = crate::fs::tmpfs::new_tmpfs(size, mode, uid, gid);
    Ok(simple_super(root, "tmpfs", req, shown.join(",")))
}

/// memparse with tmpfs's `%` of RAM.
fn parse_tmpfs_size(value: &str, ram: u64) -> KResult<u64> {
    let (digits, mult) = match value.chars().last() {
        Some('%') => {
            let pct: u64 = value[..value.len() - 1].parse().map_err(|_| Errno::EINVAL)?;
            return Ok(ram.saturating_mul(pct) / 100);
        }
        Some(c @ ('k' | 'K' | 'm' | 'M' | 'g' | 'G' | 't' | 'T')) => {
            let shift = match c.to_ascii_lowercase() {
                'k' => 10,
                'm' => 20,
                'g' => 30,
                _ => 40,
            };
            (&value[..value.len() - 1], 1u64 << shift)
        }
        _ => (value, 1),
    };
    let n: u64 = digits.parse().map_err(|_| Errno::EINVAL)?;
    n.checked_mul(mult).ok_or(Errno::EINVAL)
}

fn mount_proc(req: &MountRequest<'_>) -> KResult<Arc<SuperBlock>> {
    no_options(req)?;
    Ok(simple_super(crate::fs::procfs::new_procfs(), "proc", req, String::new()))
}

fn mount_devpts(req: &MountRequest<'_>) -> KResult<Arc<SuperBlock>> {
    no_options(req)?;
    Ok(simple_super(crate::fs::devpts::new_devpts(), "devpts", req, String::new()))
}

/// devtmpfs is one instance, wherever it is mounted (as on Linux).
fn mount_devtmpfs(req: &MountRequest<'_>) -> KResult<Arc<SuperBlock>> {
    no_options(req)?;
    Ok(simple_super(crate::fs::devfs::devtmpfs()?, "devtmpfs", req, String::new()))
}

fn mount_sysfs(req: &MountRequest<'_>) -> KResult<Arc<SuperBlock>> {
    no_options(req)?;
    Ok(simple_super(crate::fs::sysfs::new_sysfs(), "sysfs", req, String::new()))
}

/// overlay and hostfs exist (boot mounts the root and --share directories
/// with them, so /proc/filesystems lists them) but take host paths as
/// options, which a guest cannot name: mount(2) of them is EINVAL, as
/// Linux's overlay answers a mount without a usable lowerdir.
fn mount_boot_only(_req: &MountRequest<'_>) -> KResult<Arc<SuperBlock>> {
    Err(Errno::EINVAL)
}

/// Registers the filesystems every vkernel has (at boot).
pub fn register_builtin() {
    for (name, mount) in [
        ("tmpfs", mount_tmpfs as fn(&MountRequest<'_>) -> KResult<Arc<SuperBlock>>),
        ("proc", mount_proc),
        ("devpts", mount_devpts),
        ("devtmpfs", mount_devtmpfs),
        ("sysfs", mount_sysfs),
        ("overlay", mount_boot_only),
        ("hostfs", mount_boot_only),
    ] {
        register(FileSystemType { name, requires_device: false, mount, probe: None });
    }
    register(crate::fs::iso9660::filesystem_type());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tmpfs_sizes_parse_like_memparse() {
        assert_eq!(parse_tmpfs_size("16m", 1 << 30), Ok(16 << 20));
        assert_eq!(parse_tmpfs_size("50%", 1 << 30), Ok(1 << 29));
        assert_eq!(parse_tmpfs_size("4096", 0), Ok(4096));
        assert_eq!(parse_tmpfs_size("x", 0), Err(Errno::EINVAL));
    }

    #[test]
    fn options_split_into_names_and_values() {
        let v: Vec<_> = options("ro,size=1m,,mode=755").collect();
        assert_eq!(v, vec![("ro", None), ("size", Some("1m")), ("mode", Some("755"))]);
    }
}
