//! The machine's disks: the images `-r` (read-write virtio disks vda…vdp)
//! and `-c` (read-only CD-ROMs sr0…) name, opened and locked at boot, with
//! their partitions, under Linux's names and device numbers. It owns the
//! claims that make a mounted device EBUSY for an exclusive open.
//! Reached from the VFS only through `BlockDriver` (fs::blkdev's table).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};

use super::partition::{self, Slice};
use super::qcow2::Qcow2;
use super::raw::RawImage;
use super::{BlockDevice, BlockDriver};
use crate::abi::{Errno, KResult};

/// virtio-blk's major: Linux gives it a dynamic one, the first free from
/// 254 down, which is 254 on a machine like this one.
pub const VIRTIO_BLK_MAJOR: u32 = 254;
/// SCSI CD-ROMs (sr).
pub const SCSI_CDROM_MAJOR: u32 = 11;
/// Partitions past a disk's own minors (Linux's BLOCK_EXT_MAJOR, blkext).
pub const BLOCK_EXT_MAJOR: u32 = 259;
/// Minors per virtio disk: the disk and 15 partitions (PART_BITS 4).
pub const VIRTIO_MINORS: u32 = 16;
/// `-r` disks, vda…vdp.
pub const MAX_DISKS: usize = 16;
/// `-c` CD-ROMs, sr0…sr15.
pub const MAX_CDROMS: usize = 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageFormat {
    Raw,
    Qcow2,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiskKind {
    Virtio,
    Cdrom,
}

/// Who holds a device exclusively: a mounted filesystem or an O_EXCL open
/// (Linux's bd_holder), by an identity token the holder chooses.
#[derive(Default)]
struct Claim {
    holder: usize,
    count: usize,
}

/// A disk or a partition as its device node shows it (Linux's
/// block_device): name, numbers, the data, and geometry.
pub struct BlockNode {
    pub name: String,
    pub major: u32,
    pub minor: u32,
    pub device: Arc<dyn BlockDevice>,
    /// 0 for a whole disk.
    pub partition: u32,
    /// First 512-byte sector on the whole disk (0 for a disk).
    pub start_sector: u64,
    pub logical_block_size: u32,
    pub physical_block_size: u32,
    pub kind: DiskKind,
    /// The whole disk's name for a partition (sysfs nests partitions).
    pub disk_name: String,
    /// Opens of this node (a partition's count makes BLKRRPART EBUSY).
    opens: Mutex<usize>,
    /// BLKROSET's software write protection.
    forced_read_only: std::sync::atomic::AtomicBool,
}

impl BlockNode {
    fn new(
        name: String,
        major: u32,
        minor: u32,
        device: Arc<dyn BlockDevice>,
        partition: u32,
        start_sector: u64,
        kind: DiskKind,
        disk_name: String,
    ) -> Arc<BlockNode> {
        let block = if kind == DiskKind::Cdrom { 2048 } else { 512 };
        Arc::new(BlockNode {
            name,
            major,
            minor,
            device,
            partition,
            start_sector,
            logical_block_size: block,
            physical_block_size: block,
            kind,
            disk_name,
            opens: Mutex::new(0),
            forced_read_only: Default::default(),
        })
    }

    /// Size in 512-byte sectors (sysfs `size`, BLKGETSIZE).
    pub fn sectors(&self) -> u64 {
        self.device.size() / 512
    }

    /// Read-only media, or write-protected by BLKROSET.
    pub fn read_only(&self) -> bool {
        self.device.read_only() || self.forced_read_only.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// BLKROSET: protects (or unprotects) the device against writes
    /// through its node and new read-write mounts; read-only media stay so.
    pub fn set_read_only(&self, ro: bool) {
        self.forced_read_only.store(ro, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn note_open(&self) {
        *self.opens.lock() += 1;
    }

    pub fn note_close(&self) {
        let mut n = self.opens.lock();
        *n = n.saturating_sub(1);
    }
}

/// One disk: its node, its image, its partitions.
pub struct Disk {
    pub node: Arc<BlockNode>,
    pub image: PathBuf,
    pub format: ImageFormat,
    partitions: RwLock<Vec<Arc<BlockNode>>>,
}

impl Disk {
    pub fn partitions(&self) -> Vec<Arc<BlockNode>> {
        self.partitions.read().clone()
    }

    /// Scans the partition table (at open and on BLKRRPART); CD-ROMs have
    /// none (Linux's sr has one minor).
    fn scan(&self, next_ext_minor: &mut u32) -> Vec<Arc<BlockNode>> {
        let node = &self.node;
        if node.kind == DiskKind::Cdrom {
            return Vec::new();
        }
        partition::scan(&*node.device, node.logical_block_size).into_iter().map(|p| self.partition_node(p, next_ext_minor)).collect()
    }

    /// The node of partition `p` of this disk: its own minor below 16,
    /// blkext's past that.
    fn partition_node(&self, p: partition::PartitionEntry, next_ext_minor: &mut u32) -> Arc<BlockNode> {
        let node = &self.node;
        let (major, minor) = if p.number < VIRTIO_MINORS {
            (node.major, node.minor / VIRTIO_MINORS * VIRTIO_MINORS + p.number)
        } else {
            *next_ext_minor += 1;
            (BLOCK_EXT_MAJOR, *next_ext_minor - 1)
        };
        let slice = Slice::new(node.device.clone(), p.start * 512, p.sectors * 512);
        BlockNode::new(format!("{}{}", node.name, p.number), major, minor, slice, p.number, p.start, node.kind, node.name.clone())
    }
}

/// Every disk of the machine; installed once at boot.
pub struct Registry {
    disks: Vec<Arc<Disk>>,
    next_ext_minor: Mutex<u32>,
    /// Claims by device name; one lock for all, so checking a disk and its
    /// partitions together needs no lock order.
    claims: Mutex<HashMap<String, Claim>>,
}

static REGISTRY: RwLock<Option<Arc<Registry>>> = RwLock::new(None);

/// The machine's registry (empty before boot installs one).
pub fn registry() -> Arc<Registry> {
    REGISTRY.read().clone().unwrap_or_else(|| Arc::new(Registry { disks: Vec::new(), next_ext_minor: Mutex::new(0), claims: Mutex::new(HashMap::new()) }))
}

/// The linux name of the `index`th virtio disk: vda … vdz, vdaa …
fn virtio_name(index: usize) -> String {
    let mut n = index;
    let mut suffix = Vec::new();
    loop {
        suffix.push(b'a' + (n % 26) as u8);
        if n < 26 {
            break;
        }
        n = n / 26 - 1;
    }
    suffix.reverse();
    format!("vd{}", String::from_utf8_lossy(&suffix))
}

/// Formats vkernel knows by their header but does not read.
fn foreign_format(header: &[u8]) -> Option<&'static str> {
    let at = |off: usize, magic: &[u8]| header.get(off..off + magic.len()) == Some(magic);
    if at(0, b"QFI\xfb") {
        return Some("qcow (version 1)");
    }
    if at(0, b"KDMV") || at(0, b"# Disk DescriptorFile") {
        return Some("vmdk");
    }
    if at(0x40, &[0x7f, 0x10, 0xda, 0xbe]) {
        return Some("vdi");
    }
    if at(0, b"vhdxfile") {
        return Some("vhdx");
    }
    if at(0, b"conectix") {
        return Some("vpc (vhd)");
    }
    if at(0, b"QED\0") {
        return Some("qed");
    }
    None
}

/// Opens one image; the error is one sentence naming the option and file.
fn open_image(option: &str, path: &Path, read_only: bool) -> Result<(Arc<dyn BlockDevice>, ImageFormat), String> {
    let what = format!("{option} {}", path.display());
    let raw = RawImage::open(path, read_only).map_err(|e| match e {
        Errno::ENOENT => format!("{what}: no such file (create an image first, e.g. truncate -s 1G {})", path.display()),
        Errno::EACCES | Errno::EPERM if read_only => format!("{what}: permission denied (vkernel needs to read the image)"),
        Errno::EACCES | Errno::EPERM | Errno::EROFS => {
            format!("{what}: not writable (vkernel needs read and write access to a -r disk; use -c for a read-only one)")
        }
        Errno::EISDIR => format!("{what}: is a directory, not a disk image"),
        Errno::EBUSY => format!("{what}: in use by another vkernel or program (it holds a lock on the image)"),
        e => format!("{what}: cannot open: {e}"),
    })?;
    let mut header = vec![0u8; 512.min(raw.size() as usize)];
    raw.read_at(0, &mut header).map_err(|e| format!("{what}: cannot read: {e}"))?;
    if header.starts_with(b"QFI\xfb") && header.len() >= 8 && matches!(u32::from_be_bytes([header[4], header[5], header[6], header[7]]), 2 | 3) {
        // imago opens its own descriptors and takes the locks itself; the
        // raw open above was only to check access and read the header.
        drop(raw);
        let image = Qcow2::open(path, read_only).map_err(|e| format!("{what}: {e}"))?;
        return Ok((image, ImageFormat::Qcow2));
    }
    if let Some(format) = foreign_format(&header) {
        return Err(format!("{what}: a {format} image, which vkernel does not read (convert it: qemu-img convert -O raw or -O qcow2)"));
    }
    Ok((raw, ImageFormat::Raw))
}

/// Opens every `-r` disk and `-c` CD-ROM, scans partition tables, and
/// installs the registry. The error is one line for a person.
pub fn open_at_boot(disks: &[PathBuf], cdroms: &[PathBuf]) -> Result<Arc<Registry>, String> {
    if disks.len() > MAX_DISKS {
        return Err(format!("too many -r disks ({}): at most {MAX_DISKS} (vda to vdp)", disks.len()));
    }
    if cdroms.len() > MAX_CDROMS {
        return Err(format!("too many -c images ({}): at most {MAX_CDROMS}", cdroms.len()));
    }
    let mut all = Vec::new();
    for (i, path) in disks.iter().enumerate() {
        let (device, format) = open_image("-r", path, false)?;
        let name = virtio_name(i);
        let node = BlockNode::new(name.clone(), VIRTIO_BLK_MAJOR, i as u32 * VIRTIO_MINORS, device, 0, 0, DiskKind::Virtio, name);
        all.push(Arc::new(Disk { node, image: path.clone(), format, partitions: RwLock::new(Vec::new()) }));
    }
    for (i, path) in cdroms.iter().enumerate() {
        let (device, format) = open_image("-c", path, true)?;
        let name = format!("sr{i}");
        let node = BlockNode::new(name.clone(), SCSI_CDROM_MAJOR, i as u32, device, 0, 0, DiskKind::Cdrom, name);
        all.push(Arc::new(Disk { node, image: path.clone(), format, partitions: RwLock::new(Vec::new()) }));
    }
    let registry = Arc::new(Registry { disks: all, next_ext_minor: Mutex::new(0), claims: Mutex::new(HashMap::new()) });
    for disk in &registry.disks {
        let parts = disk.scan(&mut registry.next_ext_minor.lock());
        *disk.partitions.write() = parts;
    }
    *REGISTRY.write() = Some(registry.clone());
    Ok(registry)
}

impl Registry {
    pub fn disks(&self) -> &[Arc<Disk>] {
        &self.disks
    }

    /// Every node: each disk, then its partitions.
    pub fn all_nodes(&self) -> Vec<Arc<BlockNode>> {
        let mut out = Vec::new();
        for d in &self.disks {
            out.push(d.node.clone());
            out.extend(d.partitions());
        }
        out
    }

    fn disk_of(&self, node: &BlockNode) -> Option<&Arc<Disk>> {
        self.disks.iter().find(|d| d.node.name == node.disk_name)
    }

    /// Claims `node` for `holder` (a mount or an O_EXCL open): EBUSY when
    /// another holder has it, its whole disk, or one of its partitions
    /// (Linux's bd_may_claim, which also marks the whole disk).
    pub fn claim(&self, node: &BlockNode, holder: usize) -> KResult<()> {
        let disk = self.disk_of(node).ok_or(Errno::ENXIO)?;
        let related: Vec<Arc<BlockNode>> = if node.partition == 0 { disk.partitions() } else { vec![disk.node.clone()] };
        let mut claims = self.claims.lock();
        let busy = |name: &str| claims.get(name).is_some_and(|c| c.count > 0 && c.holder != holder);
        if busy(&node.name) || related.iter().any(|n| busy(&n.name)) {
            return Err(Errno::EBUSY);
        }
        let claim = claims.entry(node.name.clone()).or_default();
        claim.holder = holder;
        claim.count += 1;
        Ok(())
    }

    pub fn release(&self, node: &BlockNode, holder: usize) {
        let mut claims = self.claims.lock();
        if let Some(claim) = claims.get_mut(&node.name) {
            if claim.count > 0 && claim.holder == holder {
                claim.count -= 1;
            }
        }
    }

    pub fn is_claimed(&self, node: &BlockNode) -> bool {
        self.claims.lock().get(&node.name).is_some_and(|c| c.count > 0)
    }

    /// BLKRRPART: rescans a whole disk's table. EINVAL on a partition,
    /// EBUSY while a partition is open or claimed (Linux: bdev_disk_changed).
    pub fn reread_partitions(&self, node: &BlockNode) -> KResult<()> {
        if node.partition != 0 || node.kind == DiskKind::Cdrom {
            return Err(Errno::EINVAL);
        }
        let disk = self.disk_of(node).ok_or(Errno::ENXIO)?;
        if disk.partitions().iter().any(|p| self.is_claimed(p) || *p.opens.lock() > 0) {
            return Err(Errno::EBUSY);
        }
        let parts = disk.scan(&mut self.next_ext_minor.lock());
        *disk.partitions.write() = parts;
        Ok(())
    }
}

/// BLKPG's operations (block/ioctl.c: blkpg_do_ioctl).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartitionChange {
    Add,
    Delete,
    Resize,
}

impl Registry {
    /// BLKPG on a whole disk: adds, deletes or resizes partition `number`
    /// (`start`, `len` in bytes, already checked against the disk by the
    /// caller). EINVAL on a partition or a CD-ROM, EBUSY for an overlap,
    /// a taken number or a partition in use, ENXIO for a missing one.
    pub fn change_partition(&self, node: &BlockNode, change: PartitionChange, number: u32, start: u64, len: u64) -> KResult<()> {
        if node.partition != 0 || node.kind == DiskKind::Cdrom {
            return Err(Errno::EINVAL);
        }
        if number == 0 || number >= partition::MAX_PARTITIONS {
            return Err(Errno::EINVAL);
        }
        let disk = self.disk_of(node).ok_or(Errno::ENXIO)?;
        let mut parts = disk.partitions.write();
        let (start, sectors) = (start / 512, len / 512);
        let overlaps = |p: &BlockNode| p.partition != number && start < p.start_sector + p.sectors() && p.start_sector < start + sectors;
        let existing = parts.iter().position(|p| p.partition == number);
        match change {
            PartitionChange::Add => {
                if existing.is_some() || parts.iter().any(|p| overlaps(p)) {
                    return Err(Errno::EBUSY);
                }
                let entry = partition::PartitionEntry { number, start, sectors };
                let new = disk.partition_node(entry, &mut self.next_ext_minor.lock());
                parts.push(new);
                parts.sort_by_key(|p| p.partition);
            }
            PartitionChange::Delete => {
                let i = existing.ok_or(Errno::ENXIO)?;
                if self.is_claimed(&parts[i]) || *parts[i].opens.lock() > 0 {
                    return Err(Errno::EBUSY);
                }
                parts.remove(i);
            }
            PartitionChange::Resize => {
                let i = existing.ok_or(Errno::ENXIO)?;
                if parts[i].start_sector != start {
                    return Err(Errno::EINVAL);
                }
                if parts.iter().any(|p| overlaps(p)) {
                    return Err(Errno::EBUSY);
                }
                let entry = partition::PartitionEntry { number, start, sectors };
                let old = parts[i].clone();
                let mut new = disk.partition_node(entry, &mut self.next_ext_minor.lock());
                // The same device numbers: open files and mounts keep it.
                if let Some(n) = Arc::get_mut(&mut new) {
                    n.major = old.major;
                    n.minor = old.minor;
                }
                parts[i] = new;
            }
        }
        Ok(())
    }
}

impl BlockDriver for Registry {
    fn node(&self, major: u32, minor: u32) -> Option<Arc<BlockNode>> {
        self.all_nodes().into_iter().find(|n| n.major == major && n.minor == minor)
    }
    fn nodes(&self) -> Vec<Arc<BlockNode>> {
        self.all_nodes()
    }
    fn claim(&self, node: &BlockNode, holder: usize) -> KResult<()> {
        Registry::claim(self, node, holder)
    }
    fn release(&self, node: &BlockNode, holder: usize) {
        Registry::release(self, node, holder)
    }
    fn reread_partitions(&self, node: &BlockNode) -> KResult<()> {
        Registry::reread_partitions(self, node)
    }
    fn change_partition(&self, node: &BlockNode, change: PartitionChange, number: u32, start: u64, len: u64) -> KResult<()> {
        Registry::change_partition(self, node, change, number, start, len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtio_names_follow_linux() {
        assert_eq!(virtio_name(0), "vda");
        assert_eq!(virtio_name(15), "vdp");
        assert_eq!(virtio_name(25), "vdz");
        assert_eq!(virtio_name(26), "vdaa");
    }

    #[test]
    fn foreign_formats_are_named() {
        assert_eq!(foreign_format(b"KDMV\x01\0\0\0"), Some("vmdk"));
        assert_eq!(foreign_format(&[0u8; 512]), None);
    }
}
