//! Block devices: the byte-addressed disks filesystems sit on (a raw image
//! file on the host, an in-memory disk for tests, a fault-injecting wrapper).
//! This layer never interprets what it stores; host I/O itself lives in
//! `platform::host::image`. Called by filesystems (ext4) and the device registry.

// The VFS glue that mounts block devices is coming after the tree
// restructure; until then most of this API has no caller outside tests.
#![allow(dead_code)]

pub mod partition;
pub mod qcow2;
pub mod raw;
pub mod registry;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use parking_lot::RwLock;

use crate::abi::{Errno, KResult};

/// A disk: reads and writes at byte offsets. Filesystems issue whole,
/// aligned blocks; implementations should pass contiguous runs to the host
/// in one call, never one call per block.
pub trait BlockDevice: Send + Sync {
    /// Size in bytes.
    fn size(&self) -> u64;
    /// Fills `buf` from `off`; EIO past the end.
    fn read_at(&self, off: u64, buf: &mut [u8]) -> KResult<()>;
    /// Writes `buf` at `off`; EIO past the end, EROFS on a read-only device.
    fn write_at(&self, off: u64, buf: &[u8]) -> KResult<()>;
    /// Reads consecutive bytes from `off` into several buffers (one host call
    /// where the backend can).
    fn read_vectored_at(&self, off: u64, bufs: &mut [&mut [u8]]) -> KResult<()> {
        let mut pos = off;
        for b in bufs.iter_mut() {
            self.read_at(pos, b)?;
            pos += b.len() as u64;
        }
        Ok(())
    }
    /// Writes several buffers to consecutive bytes from `off`.
    fn write_vectored_at(&self, off: u64, bufs: &[&[u8]]) -> KResult<()> {
        let mut pos = off;
        for b in bufs {
            self.write_at(pos, b)?;
            pos += b.len() as u64;
        }
        Ok(())
    }
    /// Makes every completed write durable (a cache flush / fdatasync).
    fn flush(&self) -> KResult<()>;
    /// Tells the disk that `len` bytes from `off` are no longer needed
    /// (BLKDISCARD, TRIM); they may read back as anything, zeros on the
    /// images vkernel writes. EOPNOTSUPP where the backend cannot.
    fn discard(&self, _off: u64, _len: u64) -> KResult<()> {
        Err(Errno::EOPNOTSUPP)
    }
    fn read_only(&self) -> bool;
}

/// A driver of block device nodes: what fs::blkdev's (major, minor) table
/// holds, so the VFS never names the registry that owns the disks.
pub trait BlockDriver: Send + Sync {
    /// The node `major`:`minor`, if it exists now.
    fn node(&self, major: u32, minor: u32) -> Option<Arc<registry::BlockNode>>;
    /// Every node this driver has (for /sys/block and /proc/partitions).
    fn nodes(&self) -> Vec<Arc<registry::BlockNode>>;
    /// Exclusive use by `holder` (a mount, an O_EXCL open); EBUSY if taken.
    fn claim(&self, node: &registry::BlockNode, holder: usize) -> KResult<()>;
    fn release(&self, node: &registry::BlockNode, holder: usize);
    /// BLKRRPART.
    fn reread_partitions(&self, node: &registry::BlockNode) -> KResult<()>;
    /// BLKPG: add, delete or resize one partition of a whole disk.
    fn change_partition(&self, node: &registry::BlockNode, change: registry::PartitionChange, number: u32, start: u64, len: u64) -> KResult<()>;
}

fn check_range(size: u64, off: u64, len: usize) -> KResult<()> {
    match off.checked_add(len as u64) {
        Some(end) if end <= size => Ok(()),
        _ => Err(Errno::EIO),
    }
}

/// A disk held in memory (tests, scratch disks).
pub struct MemDisk {
    data: RwLock<Vec<u8>>,
    read_only: bool,
}

impl MemDisk {
    pub fn new(size: usize) -> Arc<MemDisk> {
        Arc::new(MemDisk { data: RwLock::new(vec![0; size]), read_only: false })
    }
    pub fn from_bytes(data: Vec<u8>, read_only: bool) -> Arc<MemDisk> {
        Arc::new(MemDisk { data: RwLock::new(data), read_only })
    }
    /// A copy of the whole disk.
    pub fn snapshot(&self) -> Vec<u8> {
        self.data.read().clone()
    }
}

impl BlockDevice for MemDisk {
    fn size(&self) -> u64 {
        self.data.read().len() as u64
    }
    fn read_at(&self, off: u64, buf: &mut [u8]) -> KResult<()> {
        let data = self.data.read();
        check_range(data.len() as u64, off, buf.len())?;
        let start = off as usize;
        buf.copy_from_slice(&data[start..start + buf.len()]);
        Ok(())
    }
    fn write_at(&self, off: u64, buf: &[u8]) -> KResult<()> {
        if self.read_only {
            return Err(Errno::EROFS);
        }
        let mut data = self.data.write();
        check_range(data.len() as u64, off, buf.len())?;
        let start = off as usize;
        data[start..start + buf.len()].copy_from_slice(buf);
        Ok(())
    }
    fn flush(&self) -> KResult<()> {
        Ok(())
    }
    fn discard(&self, off: u64, len: u64) -> KResult<()> {
        if self.read_only {
            return Err(Errno::EROFS);
        }
        let mut data = self.data.write();
        check_range(data.len() as u64, off, len.try_into().map_err(|_| Errno::EIO)?)?;
        data[off as usize..(off + len) as usize].fill(0);
        Ok(())
    }
    fn read_only(&self) -> bool {
        self.read_only
    }
}

/// A wrapper that simulates a power cut: after `budget` more write calls
/// succeed, every later write (and flush) is silently dropped, as if the
/// machine had died at that moment. Reads still see what reached the disk.
pub struct PowerCut {
    inner: Arc<dyn BlockDevice>,
    remaining: AtomicU64,
    armed: AtomicBool,
    cut: AtomicBool,
}

impl PowerCut {
    pub fn new(inner: Arc<dyn BlockDevice>) -> Arc<PowerCut> {
        Arc::new(PowerCut { inner, remaining: AtomicU64::new(0), armed: AtomicBool::new(false), cut: AtomicBool::new(false) })
    }
    /// Lets `writes` more write calls through, then cuts the power.
    pub fn arm(&self, writes: u64) {
        self.remaining.store(writes, Ordering::SeqCst);
        self.armed.store(true, Ordering::SeqCst);
    }
    /// True once writes are being dropped.
    pub fn is_cut(&self) -> bool {
        self.cut.load(Ordering::SeqCst)
    }
    fn pass(&self) -> bool {
        if self.cut.load(Ordering::SeqCst) {
            return false;
        }
        if !self.armed.load(Ordering::SeqCst) {
            return true;
        }
        let left = self.remaining.load(Ordering::SeqCst);
        if left == 0 {
            self.cut.store(true, Ordering::SeqCst);
            return false;
        }
        self.remaining.store(left - 1, Ordering::SeqCst);
        true
    }
}

impl BlockDevice for PowerCut {
    fn size(&self) -> u64 {
        self.inner.size()
    }
    fn read_at(&self, off: u64, buf: &mut [u8]) -> KResult<()> {
        self.inner.read_at(off, buf)
    }
    fn write_at(&self, off: u64, buf: &[u8]) -> KResult<()> {
        if self.pass() { self.inner.write_at(off, buf) } else { Ok(()) }
    }
    fn write_vectored_at(&self, off: u64, bufs: &[&[u8]]) -> KResult<()> {
        if self.pass() { self.inner.write_vectored_at(off, bufs) } else { Ok(()) }
    }
    fn flush(&self) -> KResult<()> {
        if self.is_cut() { Ok(()) } else { self.inner.flush() }
    }
    fn read_only(&self) -> bool {
        self.inner.read_only()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mem_disk_rejects_io_past_the_end() {
        let d = MemDisk::new(4096);
        let mut b = [0u8; 16];
        assert_eq!(d.read_at(4090, &mut b), Err(Errno::EIO));
        assert_eq!(d.write_at(u64::MAX, &b), Err(Errno::EIO));
        d.write_vectored_at(100, &[&[1, 2], &[3]]).unwrap();
        d.read_at(100, &mut b[..3]).unwrap();
        assert_eq!(&b[..3], &[1, 2, 3]);
    }

    #[test]
    fn power_cut_drops_writes_after_the_budget() {
        let d = MemDisk::new(4096);
        let p = PowerCut::new(d.clone());
        p.arm(1);
        p.write_at(0, &[1]).unwrap();
        p.write_at(1, &[1]).unwrap();
        assert!(p.is_cut());
        assert_eq!(&d.snapshot()[..2], &[1, 0]);
    }
}
