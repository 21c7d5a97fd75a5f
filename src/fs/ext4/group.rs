//! Block groups: descriptors (with their crc16 or crc32c checksum), the
//! block and inode bitmaps (verified on first read, synthesised for groups
//! still marked BLOCK_UNINIT/INODE_UNINIT), and the checks made at mount so
//! that no later pointer taken from a descriptor can leave the filesystem.

use super::csum::{crc16, crc32c};
use super::fs::Inner;
use super::layout::*;
use super::{EUCLEAN, KResult};

pub const BG_INODE_UNINIT: u16 = 0x1;
pub const BG_BLOCK_UNINIT: u16 = 0x2;
pub const BG_INODE_ZEROED: u16 = 0x4;

const BG_CHECKSUM: usize = 0x1E;

/// A group descriptor's fields the engine uses (the raw record keeps the rest).
#[derive(Clone, Copy, Debug, Default)]
pub struct GroupDesc {
    pub block_bitmap: u64,
    pub inode_bitmap: u64,
    pub inode_table: u64,
    pub free_blocks: u32,
    pub free_inodes: u32,
    pub used_dirs: u32,
    pub flags: u16,
    pub itable_unused: u32,
    pub block_bitmap_csum: u32,
    pub inode_bitmap_csum: u32,
}

impl GroupDesc {
    fn parse(b: &[u8], wide: bool) -> GroupDesc {
        let hi32 = |o: usize| if wide { r32(b, o) as u64 } else { 0 };
        let hi16 = |o: usize| if wide { r16(b, o) as u32 } else { 0 };
        GroupDesc {
            block_bitmap: r32(b, 0x0) as u64 | hi32(0x20) << 32,
            inode_bitmap: r32(b, 0x4) as u64 | hi32(0x24) << 32,
            inode_table: r32(b, 0x8) as u64 | hi32(0x28) << 32,
            free_blocks: r16(b, 0xC) as u32 | hi16(0x2C) << 16,
            free_inodes: r16(b, 0xE) as u32 | hi16(0x2E) << 16,
            used_dirs: r16(b, 0x10) as u32 | hi16(0x30) << 16,
            flags: r16(b, 0x12),
            itable_unused: r16(b, 0x1C) as u32 | hi16(0x32) << 16,
            block_bitmap_csum: r16(b, 0x18) as u32 | hi16(0x38) << 16,
            inode_bitmap_csum: r16(b, 0x1A) as u32 | hi16(0x3A) << 16,
        }
    }

    fn store(&self, b: &mut [u8], wide: bool) {
        w32(b, 0x0, self.block_bitmap as u32);
        w32(b, 0x4, self.inode_bitmap as u32);
        w32(b, 0x8, self.inode_table as u32);
        w16(b, 0xC, self.free_blocks as u16);
        w16(b, 0xE, self.free_inodes as u16);
        w16(b, 0x10, self.used_dirs as u16);
        w16(b, 0x12, self.flags);
        w16(b, 0x18, self.block_bitmap_csum as u16);
        w16(b, 0x1A, self.inode_bitmap_csum as u16);
        w16(b, 0x1C, self.itable_unused as u16);
        if wide {
            w32(b, 0x20, (self.block_bitmap >> 32) as u32);
            w32(b, 0x24, (self.inode_bitmap >> 32) as u32);
            w32(b, 0x28, (self.inode_table >> 32) as u32);
            w16(b, 0x2C, (self.free_blocks >> 16) as u16);
            w16(b, 0x2E, (self.free_inodes >> 16) as u16);
            w16(b, 0x30, (self.used_dirs >> 16) as u16);
            w16(b, 0x32, (self.itable_unused >> 16) as u16);
            w16(b, 0x38, (self.block_bitmap_csum >> 16) as u16);
            w16(b, 0x3A, (self.inode_bitmap_csum >> 16) as u16);
        }
    }
}

impl Inner {
    fn desc_location(&self, group: u32) -> (u64, usize) {
        let blk = self.g.desc_block(group);
        (blk, (group % self.g.descs_per_block) as usize * self.g.desc_size as usize)
    }

    fn desc_csum(&self, group: u32, raw: &[u8]) -> u16 {
        let ds = self.g.desc_size as usize;
        if self.g.has_csum() {
            let mut c = crc32c(self.g.csum_seed, &group.to_le_bytes());
            c = crc32c(c, &raw[..BG_CHECKSUM]);
            c = crc32c(c, &[0, 0]);
            if ds > BG_CHECKSUM + 2 {
                c = crc32c(c, &raw[BG_CHECKSUM + 2..ds]);
            }
            c as u16
        } else {
            let mut c = crc16(!0, &self.g.uuid);
            c = crc16(c, &group.to_le_bytes());
            c = crc16(c, &raw[..BG_CHECKSUM]);
            if self.g.is_64bit() && ds > BG_CHECKSUM + 2 {
                c = crc16(c, &raw[BG_CHECKSUM + 2..ds]);
            }
            c
        }
    }

    pub fn group_desc(&mut self, group: u32) -> KResult<GroupDesc> {
        if group >= self.g.group_count {
            return Err(EUCLEAN);
        }
        let (blk, off) = self.desc_location(group);
        let ds = self.g.desc_size as usize;
        let b = self.cache.get(blk)?;
        let raw = b.get(off..off + ds).ok_or(EUCLEAN)?;
        Ok(GroupDesc::parse(raw, self.g.is_64bit()))
    }

    pub fn set_group_desc(&mut self, group: u32, gd: &GroupDesc) -> KResult<()> {
        let (blk, off) = self.desc_location(group);
        let ds = self.g.desc_size as usize;
        let wide = self.g.is_64bit();
        let mut raw = self.cache.get(blk)?.get(off..off + ds).ok_or(EUCLEAN)?.to_vec();
        gd.store(&mut raw, wide);
        if self.g.has_group_csum() {
            let c = self.desc_csum(group, &raw);
            w16(&mut raw, BG_CHECKSUM, c);
        }
        self.cache.get_mut(blk)?.get_mut(off..off + ds).ok_or(EUCLEAN)?.copy_from_slice(&raw);
        Ok(())
    }

    /// Mount-time checks of every descriptor: checksum, and that bitmaps and
    /// inode tables lie inside the filesystem and not over the superblock or
    /// descriptor table of group 0.
    pub fn check_group_descs(&mut self) -> KResult<()> {
        let itb = self.g.inode_table_blocks() as u64;
        let meta_end = self.g.first_data_block + self.g.group_super_overhead(0) as u64;
        let (mut free_blocks, mut free_inodes) = (0u64, 0u64);
        for group in 0..self.g.group_count {
            let (blk, off) = self.desc_location(group);
            let ds = self.g.desc_size as usize;
            let raw = self.cache.get(blk)?.get(off..off + ds).ok_or(EUCLEAN)?.to_vec();
            if self.g.has_group_csum() && self.desc_csum(group, &raw) != r16(&raw, BG_CHECKSUM) {
                return Err(EUCLEAN);
            }
            let gd = GroupDesc::parse(&raw, self.g.is_64bit());
            let inside = |b: u64, n: u64| b >= meta_end && b.checked_add(n).is_some_and(|e| e <= self.g.blocks_count);
            if !inside(gd.block_bitmap, 1) || !inside(gd.inode_bitmap, 1) || !inside(gd.inode_table, itb) {
                return Err(EUCLEAN);
            }
            if gd.free_blocks > self.g.blocks_in_group(group) || gd.free_inodes > self.g.inodes_per_group || gd.itable_unused > self.g.inodes_per_group {
                return Err(EUCLEAN);
            }
            free_blocks += gd.free_blocks as u64;
            free_inodes += gd.free_inodes as u64;
        }
        self.free_blocks = free_blocks;
        self.free_inodes = free_inodes;
        Ok(())
    }

    fn bitmap_csum(&self, bitmap: &[u8], bits: u32) -> u32 {
        crc32c(self.g.csum_seed, &bitmap[..(bits as usize / 8).min(bitmap.len())])
    }

    /// The block bitmap of `group`, built in the cache (and so written with
    /// the next commit) if the group is still BLOCK_UNINIT.
    pub fn block_bitmap(&mut self, group: u32) -> KResult<(u64, GroupDesc)> {
        let gd = self.group_desc(group)?;
        let blk = gd.block_bitmap;
        if self.g.has_group_csum() && gd.flags & BG_BLOCK_UNINIT != 0 {
            if !self.cache.contains(blk) || !self.verified.contains(&blk) {
                self.init_block_bitmap(group, &gd)?;
            }
            return Ok((blk, gd));
        }
        if !self.verified.contains(&blk) {
            let data = self.cache.get(blk)?;
            if self.g.has_csum() {
                let c = crc32c(self.g.csum_seed, &data[..(self.g.blocks_per_group as usize / 8).min(data.len())]);
                let stored = if self.g.desc_size >= 64 { gd.block_bitmap_csum } else { gd.block_bitmap_csum & 0xffff };
                let c = if self.g.desc_size >= 64 { c } else { c & 0xffff };
                if c != stored {
                    return Err(EUCLEAN);
                }
            }
            self.verified.insert(blk);
        }
        Ok((blk, gd))
    }

    /// What Linux's ext4_init_block_bitmap computes: superblock backup and
    /// descriptor blocks, this group's own bitmaps and table if they lie in
    /// it, and the bits past the end of a short last group.
    fn init_block_bitmap(&mut self, group: u32, gd: &GroupDesc) -> KResult<()> {
        let first = self.g.group_first_block(group);
        let in_group = self.g.blocks_in_group(group) as u64;
        let bpg = self.g.blocks_per_group as usize;
        let mut bm = vec![0u8; self.g.bs()];
        for i in 0..self.g.group_super_overhead(group) as usize {
            set_bit(&mut bm, i, true);
        }
        let itb = self.g.inode_table_blocks() as u64;
        let mut mark = |b: u64| {
            if b >= first && b < first + in_group {
                set_bit(&mut bm, (b - first) as usize, true);
            }
        };
        mark(gd.block_bitmap);
        mark(gd.inode_bitmap);
        for b in gd.inode_table..gd.inode_table + itb {
            mark(b);
        }
        // With flex_bg other groups' metadata may live here too.
        if self.g.has_flex_bg() {
            let flex = self.g.flex_size();
            let base = group / flex * flex;
            for other in base..(base + flex).min(self.g.group_count) {
                if other == group {
                    continue;
                }
                let o = self.group_desc(other)?;
                for b in [o.block_bitmap, o.inode_bitmap] {
                    if b >= first && b < first + in_group {
                        set_bit(&mut bm, (b - first) as usize, true);
                    }
                }
                for b in o.inode_table..o.inode_table + itb {
                    if b >= first && b < first + in_group {
                        set_bit(&mut bm, (b - first) as usize, true);
                    }
                }
            }
        }
        for i in in_group as usize..self.g.bs() * 8 {
            set_bit(&mut bm, i, true);
        }
        let _ = bpg;
        self.cache.get_new(gd.block_bitmap)?.copy_from_slice(&bm);
        self.verified.insert(gd.block_bitmap);
        Ok(())
    }

    /// The inode bitmap of `group` (zeroed in the cache if INODE_UNINIT).
    pub fn inode_bitmap(&mut self, group: u32) -> KResult<(u64, GroupDesc)> {
        let gd = self.group_desc(group)?;
        let blk = gd.inode_bitmap;
        if self.g.has_group_csum() && gd.flags & BG_INODE_UNINIT != 0 {
            if !self.verified.contains(&blk) {
                let ipg = self.g.inodes_per_group as usize;
                let bm = self.cache.get_new(blk)?;
                for i in ipg..bm.len() * 8 {
                    set_bit(bm, i, true);
                }
                self.verified.insert(blk);
            }
            return Ok((blk, gd));
        }
        if !self.verified.contains(&blk) {
            let data = self.cache.get(blk)?;
            if self.g.has_csum() {
                let c = crc32c(self.g.csum_seed, &data[..(self.g.inodes_per_group as usize / 8).min(data.len())]);
                let stored = if self.g.desc_size >= 64 { gd.inode_bitmap_csum } else { gd.inode_bitmap_csum & 0xffff };
                let c = if self.g.desc_size >= 64 { c } else { c & 0xffff };
                if c != stored {
                    return Err(EUCLEAN);
                }
            }
            self.verified.insert(blk);
        }
        Ok((blk, gd))
    }

    /// Recomputes a group's bitmap checksums into its descriptor.
    pub fn update_bitmap_csums(&mut self, group: u32, gd: &mut GroupDesc) -> KResult<()> {
        if !self.g.has_csum() {
            return Ok(());
        }
        if gd.flags & BG_BLOCK_UNINIT == 0 {
            let data = self.cache.get(gd.block_bitmap)?.to_vec();
            gd.block_bitmap_csum = self.bitmap_csum(&data, self.g.blocks_per_group);
        }
        if gd.flags & BG_INODE_UNINIT == 0 {
            let data = self.cache.get(gd.inode_bitmap)?.to_vec();
            gd.inode_bitmap_csum = self.bitmap_csum(&data, self.g.inodes_per_group);
        }
        if self.g.desc_size < 64 {
            gd.block_bitmap_csum &= 0xffff;
            gd.inode_bitmap_csum &= 0xffff;
        }
        let _ = group;
        Ok(())
    }
}
