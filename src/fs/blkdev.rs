//! Block devices by number (Linux's bdev table): a block special file on
//! any filesystem reaches its disk through `open`, and mount(2) finds the
//! device a source path names. Drivers (`block::BlockDriver`) register a
//! major at boot; the VFS never names the registry that owns the disks.
//! An open block device file reads and writes the disk directly (no cache,
//! as with O_DIRECT), with Linux's block-device ioctls.

use parking_lot::RwLock;
use std::sync::Arc;

use crate::abi::fcntl::{O_ACCMODE, O_DIRECT, O_EXCL, O_RDONLY, SEEK_CUR, SEEK_END, SEEK_SET};
use crate::abi::ioctl::*;
use crate::abi::{Errno, KResult};
use crate::block::BlockDriver;
use crate::block::registry::{BlockNode, DiskKind, PartitionChange};
use crate::fs::file::{File, FileOps};
use crate::fs::{dev_major, dev_minor, make_dev};
use crate::sched::CurrentTask;

static DRIVERS: RwLock<Vec<(u32, Arc<dyn BlockDriver>)>> = RwLock::new(Vec::new());

/// Makes `driver` the one for block major `major` (a later one wins).
pub fn register(major: u32, driver: Arc<dyn BlockDriver>) {
    DRIVERS.write().push((major, driver));
}

fn driver(major: u32) -> Option<Arc<dyn BlockDriver>> {
    DRIVERS.read().iter().rev().find(|(m, _)| *m == major).map(|(_, d)| d.clone())
}

/// The device `rdev` names: ENXIO when no driver or no such disk (Linux:
/// blkdev_get_no_open).
pub fn lookup(rdev: u64) -> KResult<(Arc<dyn BlockDriver>, Arc<BlockNode>)> {
    let d = driver(dev_major(rdev)).ok_or(Errno::ENXIO)?;
    let node = d.node(dev_major(rdev), dev_minor(rdev)).ok_or(Errno::ENXIO)?;
    Ok((d, node))
}

/// Every block device node there is, each once, by device number.
pub fn all_nodes() -> Vec<Arc<BlockNode>> {
    let mut seen = Vec::new();
    let mut out: Vec<Arc<BlockNode>> = Vec::new();
    for (_, d) in DRIVERS.read().iter().rev() {
        if seen.iter().any(|s: &Arc<dyn BlockDriver>| Arc::ptr_eq(s, d)) {
            continue;
        }
        seen.push(d.clone());
        for n in d.nodes() {
            if !out.iter().any(|o| o.major == n.major && o.minor == n.minor) {
                out.push(n);
            }
        }
    }
    out
}

/// The dev_t of a node.
pub fn rdev_of(node: &BlockNode) -> u64 {
    make_dev(node.major, node.minor)
}

/// A block device claimed for exclusive use (a mount, an O_EXCL open);
/// dropping it releases the claim.
pub struct Claimed {
    driver: Arc<dyn BlockDriver>,
    pub node: Arc<BlockNode>,
    holder: usize,
}

impl Claimed {
    /// Claims `rdev` for `holder`, an identity token (several claims by
    /// one holder nest).
    pub fn claim(rdev: u64, holder: usize) -> KResult<Claimed> {
        let (driver, node) = lookup(rdev)?;
        driver.claim(&node, holder)?;
        Ok(Claimed { driver, node, holder })
    }
}

impl Drop for Claimed {
    fn drop(&mut self) {
        self.driver.release(&self.node, self.holder);
    }
}

/// Opens block device `rdev` (Linux: blkdev_open). A CD-ROM opened for
/// writing is EROFS (cdrom_open); O_EXCL claims it (EBUSY while mounted).
pub fn open(rdev: u64, flags: u32) -> KResult<Arc<dyn FileOps>> {
    let (driver, node) = lookup(rdev)?;
    if node.kind == DiskKind::Cdrom && flags & O_ACCMODE != O_RDONLY {
        return Err(Errno::EROFS);
    }
    let file = Arc::new(BlockFile { node: node.clone(), driver, claim: parking_lot::Mutex::new(None) });
    if flags & O_EXCL != 0 {
        let holder = Arc::as_ptr(&file) as usize;
        *file.claim.lock() = Some(Claimed::claim(rdev, holder)?);
    }
    node.note_open();
    Ok(file)
}

/// An open block device.
pub struct BlockFile {
    node: Arc<BlockNode>,
    driver: Arc<dyn BlockDriver>,
    claim: parking_lot::Mutex<Option<Claimed>>,
}

impl Drop for BlockFile {
    fn drop(&mut self) {
        self.node.note_close();
    }
}

/// Transfers go to the host in pieces of at most this much (a bounce
/// buffer in vkernel's memory).
const MAX_TRANSFER: usize = 1 << 20;

impl BlockFile {
    /// O_DIRECT needs offsets and lengths in whole logical blocks.
    fn check_direct(&self, file: &File, off: u64, len: usize) -> KResult<()> {
        let block = self.node.logical_block_size as u64;
        if file.flags() & O_DIRECT != 0 && (off % block != 0 || len as u64 % block != 0) {
            return Err(Errno::EINVAL);
        }
        Ok(())
    }

    fn read_at(&self, file: &File, buf: &mut [u8], off: u64) -> KResult<usize> {
        self.check_direct(file, off, buf.len())?;
        let size = self.node.device.size();
        if off >= size {
            return Ok(0);
        }
        let n = buf.len().min((size - off).min(MAX_TRANSFER as u64) as usize);
        self.node.device.read_at(off, &mut buf[..n])?;
        Ok(n)
    }

    fn write_at(&self, file: &File, buf: &[u8], off: u64) -> KResult<usize> {
        // Linux's blkdev_write_iter: EPERM on a read-only device, ENOSPC
        // at the end, a short write across it.
        if self.node.read_only() {
            return Err(Errno::EPERM);
        }
        self.check_direct(file, off, buf.len())?;
        if buf.is_empty() {
            return Ok(0);
        }
        let size = self.node.device.size();
        if off >= size {
            return Err(Errno::ENOSPC);
        }
        let n = buf.len().min((size - off).min(MAX_TRANSFER as u64) as usize);
        self.node.device.write_at(off, &buf[..n])?;
        Ok(n)
    }

    /// The soft block size Linux picks for a bdev (set_init_blocksize):
    /// the largest power of two up to a page that divides the size.
    fn soft_block_size(&self) -> u32 {
        let size = self.node.device.size();
        let mut bsize = self.node.logical_block_size as u64;
        while bsize < crate::abi::PAGE_SIZE && size & bsize == 0 {
            bsize <<= 1;
        }
        bsize as u32
    }

    /// BLKDISCARD/BLKZEROOUT's range: [start, len] in bytes, 512-aligned,
    /// inside the device, on a file open for writing.
    fn range_arg(&self, file: &File, caller: &dyn CurrentTask, arg: u64) -> KResult<(u64, u64)> {
        if !file.writable() {
            return Err(Errno::EBADF);
        }
        let range: [u64; 2] = caller.mm().read(arg)?;
        let (start, len) = (range[0], range[1]);
        if start % 512 != 0 || len % 512 != 0 {
            return Err(Errno::EINVAL);
        }
        match start.checked_add(len) {
            Some(end) if end <= self.node.device.size() => {}
            _ => return Err(Errno::EINVAL),
        }
        if self.node.read_only() {
            return Err(Errno::EPERM);
        }
        Ok((start, len))
    }
}

/// struct blkpg_ioctl_arg (x86-64).
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct BlkpgIoctlArg {
    op: i32,
    flags: i32,
    datalen: i32,
    _pad: i32,
    data: u64,
}

/// struct blkpg_partition.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct BlkpgPartition {
    start: i64,
    length: i64,
    pno: i32,
    devname: [u8; 64],
    volname: [u8; 64],
    _pad: i32,
}

const BLKPG_ADD_PARTITION: i32 = 1;
const BLKPG_DEL_PARTITION: i32 = 2;
const BLKPG_RESIZE_PARTITION: i32 = 3;

impl BlockFile {
    /// BLKPG's request, checked in blkpg_do_ioctl's order: EACCES without
    /// CAP_SYS_ADMIN, EFAULT, EINVAL on a partition, for a bad number, an
    /// unaligned or outside range, an unknown op.
    fn blkpg_arg(&self, caller: &dyn CurrentTask, arg: u64) -> KResult<(PartitionChange, u32, u64, u64)> {
        require_admin(caller)?;
        let mm = caller.mm();
        let req: BlkpgIoctlArg = mm.read(arg)?;
        let p: BlkpgPartition = mm.read(req.data)?;
        if self.node.partition != 0 || p.pno <= 0 {
            return Err(Errno::EINVAL);
        }
        if req.op == BLKPG_DEL_PARTITION {
            return Ok((PartitionChange::Delete, p.pno as u32, 0, 0));
        }
        let block = self.node.logical_block_size as i64;
        if p.start < 0 || p.length <= 0 || i64::MAX - p.length < p.start || (p.start | p.length) % block != 0 {
            return Err(Errno::EINVAL);
        }
        if (p.start + p.length) as u64 > self.node.device.size() {
            return Err(Errno::EINVAL);
        }
        let change = match req.op {
            BLKPG_ADD_PARTITION => PartitionChange::Add,
            BLKPG_RESIZE_PARTITION => PartitionChange::Resize,
            _ => return Err(Errno::EINVAL),
        };
        Ok((change, p.pno as u32, p.start as u64, p.length as u64))
    }
}

fn put<T: crate::abi::Pod>(caller: &dyn CurrentTask, arg: u64, value: &T) -> KResult<u64> {
    caller.mm().write(arg, value)?;
    Ok(0)
}

fn require_admin(caller: &dyn CurrentTask) -> KResult<()> {
    // Linux: capable(CAP_SYS_ADMIN); uid 0 holds every capability here.
    if caller.creds().euid == 0 { Ok(()) } else { Err(Errno::EACCES) }
}

/// struct hd_geometry.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct HdGeometry {
    heads: u8,
    sectors: u8,
    cylinders: u16,
    _pad: u32,
    start: u64,
}

impl FileOps for BlockFile {
    fn read(&self, file: &File, buf: &mut [u8], pos: &mut u64) -> KResult<usize> {
        let n = self.read_at(file, buf, *pos)?;
        *pos += n as u64;
        Ok(n)
    }
    fn write(&self, file: &File, buf: &[u8], pos: &mut u64) -> KResult<usize> {
        let n = self.write_at(file, buf, *pos)?;
        *pos += n as u64;
        Ok(n)
    }
    fn pread(&self, file: &File, buf: &mut [u8], offset: u64) -> KResult<usize> {
        self.read_at(file, buf, offset)
    }
    fn pwrite(&self, file: &File, buf: &[u8], offset: u64) -> KResult<usize> {
        self.write_at(file, buf, offset)
    }
    /// Linux's blkdev_llseek (fixed_size_llseek): no SEEK_DATA/SEEK_HOLE,
    /// nothing past the end.
    fn llseek(&self, _file: &File, pos: &mut u64, offset: i64, whence: u32) -> KResult<u64> {
        let size = self.node.device.size() as i128;
        let base = match whence {
            SEEK_SET => 0,
            SEEK_CUR => *pos as i128,
            SEEK_END => size,
            _ => return Err(Errno::EINVAL),
        };
        let new = base + offset as i128;
        if new < 0 || new > size {
            return Err(Errno::EINVAL);
        }
        *pos = new as u64;
        Ok(*pos)
    }
    fn size(&self, _file: &File) -> KResult<u64> {
        Ok(self.node.device.size())
    }
    fn fsync(&self, _file: &File) -> KResult<()> {
        self.node.device.flush()
    }
    fn ioctl(&self, file: &File, caller: &dyn CurrentTask, cmd: u32, arg: u64) -> KResult<u64> {
        let node = &self.node;
        let size = node.device.size();
        match cmd {
            BLKGETSIZE64 => put(caller, arg, &size),
            BLKGETSIZE => put(caller, arg, &(size / 512)),
            BLKSSZGET => put(caller, arg, &(node.logical_block_size as i32)),
            BLKPBSZGET => put(caller, arg, &node.physical_block_size),
            BLKBSZGET => put(caller, arg, &(self.soft_block_size() as i32)),
            BLKIOMIN => put(caller, arg, &node.physical_block_size),
            BLKIOOPT => put(caller, arg, &0u32),
            BLKALIGNOFF => put(caller, arg, &0i32),
            BLKROGET => put(caller, arg, &(node.read_only() as i32)),
            BLKDISCARDZEROES => put(caller, arg, &0u32),
            // virtio-blk does not say its disk is non-rotational.
            BLKROTATIONAL => put(caller, arg, &1u16),
            BLKRAGET | BLKFRAGET => put(caller, arg, &256u64),
            BLKSECTGET => put(caller, arg, &(u16::MAX)),
            BLKGETZONESZ | BLKGETNRZONES => put(caller, arg, &0u32),
            BLKROSET => {
                require_admin(caller)?;
                let ro: i32 = caller.mm().read(arg)?;
                node.set_read_only(ro != 0);
                Ok(0)
            }
            BLKFLSBUF => {
                require_admin(caller)?;
                node.device.flush().map(|_| 0)
            }
            BLKRRPART => {
                require_admin(caller)?;
                self.driver.reread_partitions(node)?;
                crate::fs::devfs::refresh_block_nodes();
                Ok(0)
            }
            BLKPG => {
                let (change, number, start, len) = self.blkpg_arg(caller, arg)?;
                self.driver.change_partition(node, change, number, start, len)?;
                crate::fs::devfs::refresh_block_nodes();
                Ok(0)
            }
            BLKDISCARD => {
                let (start, len) = self.range_arg(file, caller, arg)?;
                node.device.discard(start, len).map(|_| 0)
            }
            BLKZEROOUT => {
                let (start, len) = self.range_arg(file, caller, arg)?;
                if node.device.discard(start, len).is_err() {
                    let zeros = vec![0u8; MAX_TRANSFER];
                    let mut off = start;
                    while off < start + len {
                        let n = (start + len - off).min(MAX_TRANSFER as u64) as usize;
                        node.device.write_at(off, &zeros[..n])?;
                        off += n as u64;
                    }
                }
                Ok(0)
            }
            BLKSECDISCARD => {
                self.range_arg(file, caller, arg)?;
                Err(Errno::EOPNOTSUPP)
            }
            HDIO_GETGEO => {
                if node.kind == DiskKind::Cdrom {
                    return Err(Errno::ENOTTY);
                }
                // virtblk_getgeo without a geometry from the host.
                let geo = HdGeometry { heads: 1 << 6, sectors: 1 << 5, cylinders: (size / 512 >> 11) as u16, _pad: 0, start: node.start_sector };
                put(caller, arg, &geo)
            }
            _ => Err(Errno::ENOTTY),
        }
    }
}
