//! On-disk inodes: the raw record with typed accessors (split lo/hi fields,
//! nanosecond timestamps with epoch bits, i_blocks units), reading and
//! writing them through the buffer cache with their checksum, and the
//! per-inode checksum seed used by extent, directory and xattr blocks.

use super::csum::crc32c;
use super::fs::Inner;
use super::layout::*;
use super::{EUCLEAN, KResult};
use crate::abi::{Errno, Timespec};

pub const I_MODE: usize = 0x0;
pub const I_UID: usize = 0x2;
pub const I_SIZE_LO: usize = 0x4;
pub const I_ATIME: usize = 0x8;
pub const I_CTIME: usize = 0xC;
pub const I_MTIME: usize = 0x10;
pub const I_DTIME: usize = 0x14;
pub const I_GID: usize = 0x18;
pub const I_LINKS: usize = 0x1A;
pub const I_BLOCKS_LO: usize = 0x1C;
pub const I_FLAGS: usize = 0x20;
pub const I_BLOCK: usize = 0x28;
pub const I_GENERATION: usize = 0x64;
pub const I_FILE_ACL_LO: usize = 0x68;
pub const I_SIZE_HI: usize = 0x6C;
pub const I_BLOCKS_HI: usize = 0x74;
pub const I_FILE_ACL_HI: usize = 0x76;
pub const I_UID_HI: usize = 0x78;
pub const I_GID_HI: usize = 0x7A;
pub const I_CSUM_LO: usize = 0x7C;
pub const I_EXTRA_ISIZE: usize = 0x80;
pub const I_CSUM_HI: usize = 0x82;
pub const I_CTIME_EXTRA: usize = 0x84;
pub const I_MTIME_EXTRA: usize = 0x88;
pub const I_ATIME_EXTRA: usize = 0x8C;
pub const I_CRTIME: usize = 0x90;
pub const I_CRTIME_EXTRA: usize = 0x94;

pub const I_BLOCK_LEN: usize = 60;

// i_flags
pub const FL_IMMUTABLE: u32 = 0x10;
pub const FL_APPEND: u32 = 0x20;
pub const FL_INDEX: u32 = 0x1000;
pub const FL_HUGE_FILE: u32 = 0x40000;
pub const FL_EXTENTS: u32 = 0x80000;
pub const FL_EA_INODE: u32 = 0x200000;
pub const FL_INLINE_DATA: u32 = 0x1000_0000;

pub const S_IFMT: u32 = 0o170000;
pub const S_IFSOCK: u32 = 0o140000;
pub const S_IFLNK: u32 = 0o120000;
pub const S_IFREG: u32 = 0o100000;
pub const S_IFBLK: u32 = 0o060000;
pub const S_IFDIR: u32 = 0o040000;
pub const S_IFCHR: u32 = 0o020000;
pub const S_IFIFO: u32 = 0o010000;

pub const ROOT_INO: u32 = 2;
pub const RESIZE_INO: u32 = 7;

/// Which of an inode's timestamps.
#[derive(Clone, Copy)]
pub enum Time {
    Access,
    Change,
    Modify,
    Create,
}

impl Time {
    fn offsets(self) -> (usize, usize) {
        match self {
            Time::Access => (I_ATIME, I_ATIME_EXTRA),
            Time::Change => (I_CTIME, I_CTIME_EXTRA),
            Time::Modify => (I_MTIME, I_MTIME_EXTRA),
            Time::Create => (I_CRTIME, I_CRTIME_EXTRA),
        }
    }
}

/// One inode record, as many bytes as the filesystem's inode size.
#[derive(Clone)]
pub struct DiskInode {
    pub raw: Vec<u8>,
}

impl DiskInode {
    pub fn mode(&self) -> u32 {
        r16(&self.raw, I_MODE) as u32
    }
    pub fn set_mode(&mut self, m: u32) {
        w16(&mut self.raw, I_MODE, m as u16)
    }
    pub fn file_type(&self) -> u32 {
        self.mode() & S_IFMT
    }
    pub fn is_dir(&self) -> bool {
        self.file_type() == S_IFDIR
    }
    pub fn is_reg(&self) -> bool {
        self.file_type() == S_IFREG
    }
    pub fn is_symlink(&self) -> bool {
        self.file_type() == S_IFLNK
    }
    pub fn uid(&self) -> u32 {
        r16(&self.raw, I_UID) as u32 | (r16(&self.raw, I_UID_HI) as u32) << 16
    }
    pub fn set_uid(&mut self, v: u32) {
        w16(&mut self.raw, I_UID, v as u16);
        w16(&mut self.raw, I_UID_HI, (v >> 16) as u16);
    }
    pub fn gid(&self) -> u32 {
        r16(&self.raw, I_GID) as u32 | (r16(&self.raw, I_GID_HI) as u32) << 16
    }
    pub fn set_gid(&mut self, v: u32) {
        w16(&mut self.raw, I_GID, v as u16);
        w16(&mut self.raw, I_GID_HI, (v >> 16) as u16);
    }
    pub fn size(&self) -> u64 {
        r32(&self.raw, I_SIZE_LO) as u64 | (r32(&self.raw, I_SIZE_HI) as u64) << 32
    }
    pub fn set_size(&mut self, v: u64) {
        w32(&mut self.raw, I_SIZE_LO, v as u32);
        w32(&mut self.raw, I_SIZE_HI, (v >> 32) as u32);
    }
    pub fn links(&self) -> u16 {
        r16(&self.raw, I_LINKS)
    }
    pub fn set_links(&mut self, v: u16) {
        w16(&mut self.raw, I_LINKS, v)
    }
    pub fn flags(&self) -> u32 {
        r32(&self.raw, I_FLAGS)
    }
    pub fn set_flags(&mut self, v: u32) {
        w32(&mut self.raw, I_FLAGS, v)
    }
    pub fn has_flag(&self, f: u32) -> bool {
        self.flags() & f != 0
    }
    pub fn generation(&self) -> u32 {
        r32(&self.raw, I_GENERATION)
    }
    pub fn dtime(&self) -> u32 {
        r32(&self.raw, I_DTIME)
    }
    pub fn set_dtime(&mut self, v: u32) {
        w32(&mut self.raw, I_DTIME, v)
    }
    pub fn file_acl(&self) -> u64 {
        r32(&self.raw, I_FILE_ACL_LO) as u64 | (r16(&self.raw, I_FILE_ACL_HI) as u64) << 32
    }
    pub fn set_file_acl(&mut self, v: u64) {
        w32(&mut self.raw, I_FILE_ACL_LO, v as u32);
        w16(&mut self.raw, I_FILE_ACL_HI, (v >> 32) as u16);
    }
    pub fn i_block(&self) -> &[u8] {
        &self.raw[I_BLOCK..I_BLOCK + I_BLOCK_LEN]
    }
    pub fn i_block_mut(&mut self) -> &mut [u8] {
        &mut self.raw[I_BLOCK..I_BLOCK + I_BLOCK_LEN]
    }
    pub fn extra_isize(&self) -> usize {
        if self.raw.len() > 128 { r16(&self.raw, I_EXTRA_ISIZE) as usize } else { 0 }
    }
    /// Whether the extra area covers a field ending at `end` (an offset).
    fn has_extra(&self, end: usize) -> bool {
        self.raw.len() > 128 && 128 + self.extra_isize() >= end
    }

    /// 512-byte sectors the inode holds (data, tree and xattr blocks).
    pub fn sectors(&self, bs: u32) -> u64 {
        let lo = r32(&self.raw, I_BLOCKS_LO) as u64;
        let hi = r16(&self.raw, I_BLOCKS_HI) as u64;
        let n = lo | hi << 32;
        if self.has_flag(FL_HUGE_FILE) { n * (bs as u64 / 512) } else { n }
    }
    /// Sets i_blocks from a sector count; EFBIG if it cannot be represented.
    pub fn set_sectors(&mut self, sectors: u64, huge_file: bool, bs: u32) -> KResult<()> {
        let mut flags = self.flags() & !FL_HUGE_FILE;
        // Sectors fit in 32 bits, or 48 with huge_file; past that huge_file
        // counts in filesystem blocks.
        let value = if sectors < 1 << 32 || (huge_file && sectors < 1 << 48) {
            sectors
        } else if huge_file {
            flags |= FL_HUGE_FILE;
            sectors / (bs as u64 / 512)
        } else {
            return Err(Errno::EFBIG);
        };
        if value >= 1 << 48 {
            return Err(Errno::EFBIG);
        }
        self.set_flags(flags);
        w32(&mut self.raw, I_BLOCKS_LO, value as u32);
        w16(&mut self.raw, I_BLOCKS_HI, (value >> 32) as u16);
        Ok(())
    }

    pub fn time(&self, which: Time) -> Timespec {
        let (base, extra) = which.offsets();
        if matches!(which, Time::Create) && !self.has_extra(extra + 4) {
            return Timespec::default();
        }
        let mut sec = r32(&self.raw, base) as i32 as i64;
        let mut nsec = 0;
        if self.has_extra(extra + 4) {
            let x = r32(&self.raw, extra);
            sec += ((x & 3) as i64) << 32;
            nsec = (x >> 2) as i64;
            if nsec > 999_999_999 {
                nsec = 0;
            }
        }
        Timespec { tv_sec: sec, tv_nsec: nsec }
    }

    pub fn set_time(&mut self, which: Time, t: Timespec) {
        let (base, extra) = which.offsets();
        if matches!(which, Time::Create) && !self.has_extra(extra + 4) {
            return;
        }
        w32(&mut self.raw, base, t.tv_sec as u32);
        if self.has_extra(extra + 4) {
            // Bits 32..33 of the seconds, offset so that the signed 32-bit
            // base keeps its pre-1970 meaning (Linux's ext4_encode_extra_time).
            let epoch = (((t.tv_sec - (t.tv_sec as i32 as i64)) >> 32) & 3) as u32;
            w32(&mut self.raw, extra, epoch | ((t.tv_nsec.clamp(0, 999_999_999) as u32) << 2));
        }
    }

    /// The device number of a character or block device node.
    pub fn rdev(&self) -> u64 {
        let b = self.i_block();
        let old = r32(b, 0);
        if old != 0 {
            let major = (old >> 8) & 0xff;
            let minor = old & 0xff;
            return make_dev(major, minor);
        }
        let new = r32(b, 4);
        let major = (new & 0xfff00) >> 8;
        let minor = (new & 0xff) | ((new >> 12) & 0xfff00);
        make_dev(major, minor)
    }

    pub fn set_rdev(&mut self, dev: u64) {
        let (major, minor) = split_dev(dev);
        let b = self.i_block_mut();
        b.fill(0);
        if major < 256 && minor < 256 {
            w32(b, 0, (major << 8) | minor);
        } else {
            w32(b, 4, (minor & 0xff) | (major << 8) | ((minor & !0xff) << 12));
        }
    }
}

/// Linux's dev_t encoding (what `stat` shows in st_rdev).
pub fn make_dev(major: u32, minor: u32) -> u64 {
    ((major as u64 & 0xfff) << 8) | ((major as u64 & !0xfff) << 32) | (minor as u64 & 0xff) | ((minor as u64 & !0xff) << 12)
}

pub fn split_dev(dev: u64) -> (u32, u32) {
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    (major as u32, minor as u32)
}

impl Inner {
    /// Where inode `ino` lives: (block, byte offset in the block).
    pub fn inode_location(&mut self, ino: u32) -> KResult<(u64, usize)> {
        if ino == 0 || ino > self.g.inodes_count {
            return Err(EUCLEAN);
        }
        let group = self.g.group_of_inode(ino);
        let index = (ino - 1) % self.g.inodes_per_group;
        let table = self.group_desc(group)?.inode_table;
        let ipb = self.g.inodes_per_block();
        let block = table + (index / ipb) as u64;
        Ok((block, (index % ipb) as usize * self.g.inode_size as usize))
    }

    /// The checksum seed of an inode's own metadata blocks.
    pub fn inode_seed(&self, ino: u32, generation: u32) -> u32 {
        let s = crc32c(self.g.csum_seed, &ino.to_le_bytes());
        crc32c(s, &generation.to_le_bytes())
    }

    fn inode_csum(&self, ino: u32, inode: &DiskInode) -> u32 {
        let mut raw = inode.raw.clone();
        w16(&mut raw, I_CSUM_LO, 0);
        let has_hi = inode.has_extra(I_CSUM_HI + 2);
        if has_hi {
            w16(&mut raw, I_CSUM_HI, 0);
        }
        let c = crc32c(self.inode_seed(ino, inode.generation()), &raw);
        if has_hi { c } else { c & 0xffff }
    }

    /// Reads inode `ino`, verifying its checksum.
    pub fn read_inode(&mut self, ino: u32) -> KResult<DiskInode> {
        let (block, off) = self.inode_location(ino)?;
        let size = self.g.inode_size as usize;
        let raw = self.cache.get(block)?.get(off..off + size).ok_or(EUCLEAN)?.to_vec();
        let inode = DiskInode { raw };
        if size > 128 && (128 + inode.extra_isize() > size || !inode.extra_isize().is_multiple_of(4)) {
            return Err(EUCLEAN);
        }
        if self.g.has_csum() {
            let stored = r16(&inode.raw, I_CSUM_LO) as u32 | if inode.has_extra(I_CSUM_HI + 2) { (r16(&inode.raw, I_CSUM_HI) as u32) << 16 } else { 0 };
            // An all-zero record (never used, lazily initialised table) has
            // no checksum to check.
            if stored != self.inode_csum(ino, &inode) && inode.raw.iter().any(|&b| b != 0) {
                return Err(EUCLEAN);
            }
        }
        Ok(inode)
    }

    /// Writes inode `ino` (with a fresh checksum) into the running transaction.
    pub fn write_inode(&mut self, ino: u32, inode: &DiskInode) -> KResult<()> {
        let (block, off) = self.inode_location(ino)?;
        let mut inode = inode.clone();
        if self.g.has_csum() {
            let c = self.inode_csum(ino, &inode);
            w16(&mut inode.raw, I_CSUM_LO, c as u16);
            if inode.has_extra(I_CSUM_HI + 2) {
                w16(&mut inode.raw, I_CSUM_HI, (c >> 16) as u16);
            }
        }
        let size = self.g.inode_size as usize;
        let buf = self.cache.get_mut(block)?;
        buf.get_mut(off..off + size).ok_or(EUCLEAN)?.copy_from_slice(&inode.raw);
        Ok(())
    }

    /// A blank in-memory inode record for a new inode.
    pub fn blank_inode(&self) -> DiskInode {
        let mut raw = vec![0u8; self.g.inode_size as usize];
        if raw.len() > 128 {
            w16(&mut raw, I_EXTRA_ISIZE, self.g.want_extra_isize);
        }
        DiskInode { raw }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_keep_nanoseconds_and_dates_past_2038() {
        let mut raw = vec![0u8; 256];
        w16(&mut raw, I_EXTRA_ISIZE, 32);
        let mut i = DiskInode { raw };
        for t in [
            Timespec { tv_sec: 1_700_000_000, tv_nsec: 123_456_789 },
            Timespec { tv_sec: 5_000_000_000, tv_nsec: 1 },
            Timespec { tv_sec: -1_000, tv_nsec: 999_999_999 },
        ] {
            i.set_time(Time::Modify, t);
            assert_eq!(i.time(Time::Modify), t);
        }
    }

    #[test]
    fn device_numbers_round_trip_in_both_encodings() {
        let mut i = DiskInode { raw: vec![0u8; 256] };
        for (ma, mi) in [(1, 3), (259, 70000), (8, 300)] {
            i.set_rdev(make_dev(ma, mi));
            assert_eq!(split_dev(i.rdev()), (ma, mi));
        }
    }
}
