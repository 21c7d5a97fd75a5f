//! Allocation of blocks and inodes. Blocks come near a goal (the previous
//! block of the file, or the inode's flex group) as contiguous runs; freed
//! blocks go back to the bitmaps only when the running transaction commits,
//! so a crash can never show an old file pointing at a reused block. Every
//! run handed out is checked against the system zones (superblocks, group
//! descriptors, bitmaps, inode tables, the journal): a bitmap that offers
//! one is corrupt.

use super::fs::Inner;
use super::group::{BG_BLOCK_UNINIT, BG_INODE_UNINIT};
use super::layout::*;
use super::{EUCLEAN, KResult};
use crate::abi::Errno;

/// Sorted, merged ranges [start, end) of blocks that only metadata owns.
#[derive(Default)]
pub struct SystemZones {
    zones: Vec<(u64, u64)>,
}

impl SystemZones {
    pub fn add(&mut self, start: u64, len: u64) {
        self.zones.push((start, start.saturating_add(len)));
    }
    pub fn finish(&mut self) {
        self.zones.sort_unstable();
        let mut merged: Vec<(u64, u64)> = Vec::with_capacity(self.zones.len());
        for &(s, e) in &self.zones {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        self.zones = merged;
    }
    /// Whether [start, start+len) overlaps a system zone.
    pub fn overlaps(&self, start: u64, len: u64) -> bool {
        let end = start.saturating_add(len);
        let i = self.zones.partition_point(|&(_, e)| e <= start);
        self.zones.get(i).is_some_and(|&(s, _)| s < end)
    }
}

impl Inner {
    /// Builds the system zones from the descriptors (at mount, after the
    /// descriptors were checked).
    pub fn build_system_zones(&mut self) -> KResult<()> {
        let mut z = SystemZones::default();
        z.add(0, self.g.first_data_block + 1);
        let itb = self.g.inode_table_blocks() as u64;
        for group in 0..self.g.group_count {
            let first = self.g.group_first_block(group);
            let over = self.g.group_super_overhead(group) as u64;
            if over > 0 {
                z.add(first, over);
            }
            if self.g.has_meta_bg() {
                // Descriptor blocks of a meta group sit at its 1st, 2nd and last group.
                let dpb = self.g.descs_per_block;
                if group / dpb >= self.g.first_meta_bg && group % dpb == 0 {
                    z.add(self.g.desc_block(group), 1);
                }
            }
            let gd = self.group_desc(group)?;
            z.add(gd.block_bitmap, 1);
            z.add(gd.inode_bitmap, 1);
            z.add(gd.inode_table, itb);
        }
        for &(_, p, n) in &self.journal_extents {
            z.add(p, n as u64);
        }
        z.finish();
        self.zones = z;
        Ok(())
    }

    /// Checks a run of blocks read from an inode's map or tree: inside the
    /// filesystem and clear of system zones.
    pub fn check_data_run(&self, start: u64, len: u64) -> KResult<()> {
        if start == 0 || start.checked_add(len).is_none_or(|e| e > self.g.blocks_count) || self.zones.overlaps(start, len) {
            return Err(EUCLEAN);
        }
        Ok(())
    }

    /// Whether the next operation should start by committing, so that
    /// blocks freed in the running transaction become allocatable (never
    /// mid-operation: a commit must hold whole operations).
    pub fn wants_frees_applied(&self) -> bool {
        !self.pending_free.is_empty() && self.free_blocks < self.reserved_for_metadata() + self.delalloc_reserved + self.g.blocks_count / 16
    }

    /// Linux keeps min(2%, 4096) clusters back even from root so that
    /// metadata can still be allocated when data has filled the disk.
    fn reserved_for_metadata(&self) -> u64 {
        (self.g.blocks_count / 50).min(4096)
    }

    /// Whether `blocks` more can be promised to dirty pages: what is free
    /// beyond earlier promises and the metadata reserve.
    pub fn can_reserve(&self, blocks: u64) -> bool {
        self.free_blocks.saturating_sub(self.delalloc_reserved + self.reserved_for_metadata()) >= blocks
    }

    /// Allocates up to `want` contiguous blocks, near `goal`. `metadata`
    /// allocations (extent tree and indirect blocks, which writeback may
    /// need on a full disk) may use the last reserve; neither takes blocks promised
    /// to dirty pages (writeback releases its promise before allocating).
    /// Returns (first block, count).
    pub fn alloc_blocks(&mut self, goal: u64, want: u32, metadata: bool) -> KResult<(u64, u32)> {
        if want == 0 {
            return Err(Errno::EINVAL);
        }
        let keep = self.delalloc_reserved + if metadata { 0 } else { self.reserved_for_metadata() };
        let avail = self.free_blocks.saturating_sub(keep);
        if avail > 0 {
            let want = (want as u64).min(avail) as u32;
            if let Some(r) = self.alloc_blocks_scan(goal, want)? {
                return Ok(r);
            }
        }
        Err(Errno::ENOSPC)
    }

    fn alloc_blocks_scan(&mut self, goal: u64, want: u32) -> KResult<Option<(u64, u32)>> {
        let goal = if goal < self.g.first_data_block || goal >= self.g.blocks_count { self.g.first_data_block } else { goal };
        let start_group = self.g.group_of_block(goal);
        let n = self.g.group_count;
        for i in 0..=n {
            let group = (start_group + i) % n;
            let gd = self.group_desc(group)?;
            if gd.free_blocks == 0 {
                continue;
            }
            let (bb, _) = self.block_bitmap(group)?;
            let first = self.g.group_first_block(group);
            let in_group = self.g.blocks_in_group(group) as usize;
            let from = if i == 0 { (goal - first) as usize } else { 0 };
            let bm = self.cache.get(bb)?;
            let mut found = None;
            // Search from the goal; on the first pass over the goal group
            // wrap to its start as a last resort (i == n).
            let ranges: [(usize, usize); 2] = if i == 0 { [(from, in_group), (0, 0)] } else { [(0, in_group), (0, 0)] };
            'outer: for (lo, hi) in ranges {
                let mut bit = lo;
                while bit < hi {
                    if test_bit(bm, bit) {
                        // Skip whole bytes of used blocks quickly.
                        if bit % 8 == 0 && bm.get(bit / 8) == Some(&0xff) {
                            bit += 8;
                        } else {
                            bit += 1;
                        }
                        continue;
                    }
                    let mut len = 1;
                    while len < want as usize && bit + len < hi && !test_bit(bm, bit + len) {
                        len += 1;
                    }
                    found = Some((bit, len));
                    break 'outer;
                }
            }
            let Some((bit, len)) = found else { continue };
            let start = first + bit as u64;
            if self.zones.overlaps(start, len as u64) {
                return Err(EUCLEAN);
            }
            let bm = self.cache.get_mut(bb)?;
            for b in bit..bit + len {
                set_bit(bm, b, true);
            }
            let mut gd = self.group_desc(group)?;
            if (gd.free_blocks as usize) < len {
                return Err(EUCLEAN);
            }
            gd.free_blocks -= len as u32;
            gd.flags &= !BG_BLOCK_UNINIT;
            self.update_bitmap_csums(group, &mut gd)?;
            self.set_group_desc(group, &gd)?;
            self.free_blocks = self.free_blocks.saturating_sub(len as u64);
            self.sb_dirty = true;
            return Ok(Some((start, len as u32)));
        }
        Ok(None)
    }

    /// Frees a run of blocks at the next commit. Any copy in the cache is
    /// dropped and any block still in the log is revoked — directory and
    /// symlink blocks are freed through the data path too — so neither a
    /// checkpoint nor a replay can write old contents over a new owner.
    pub fn free_blocks(&mut self, start: u64, len: u64, _metadata: bool) -> KResult<()> {
        if len == 0 {
            return Ok(());
        }
        if start.checked_add(len).is_none_or(|e| e > self.g.blocks_count) || self.zones.overlaps(start, len) {
            return Err(EUCLEAN);
        }
        for b in start..start + len {
            if self.cache.contains(b) {
                self.cache.forget(b);
            }
            if let Some(j) = self.journal.as_mut() {
                j.revoke(b);
            }
        }
        self.pending_free.push((start, len));
        Ok(())
    }

    /// Applies deferred frees to the bitmaps (part of the committing transaction).
    pub fn apply_pending_frees(&mut self) -> KResult<()> {
        let frees = std::mem::take(&mut self.pending_free);
        for (mut start, mut len) in frees {
            while len > 0 {
                let group = self.g.group_of_block(start);
                let first = self.g.group_first_block(group);
                let in_group = self.g.blocks_in_group(group) as u64;
                let n = len.min(first + in_group - start);
                let (bb, _) = self.block_bitmap(group)?;
                let bm = self.cache.get_mut(bb)?;
                let mut freed = 0u32;
                for b in (start - first)..(start - first + n) {
                    if test_bit(bm, b as usize) {
                        set_bit(bm, b as usize, false);
                        freed += 1;
                    }
                }
                let mut gd = self.group_desc(group)?;
                gd.free_blocks = (gd.free_blocks + freed).min(in_group as u32);
                self.update_bitmap_csums(group, &mut gd)?;
                self.set_group_desc(group, &gd)?;
                self.free_blocks += freed as u64;
                self.sb_dirty = true;
                start += n;
                len -= n;
            }
        }
        Ok(())
    }

    /// Picks a group for a new inode: directories spread to groups with
    /// more than the average free inodes and the fewest directories
    /// (Orlov's idea), other inodes stay in their parent's group.
    fn pick_inode_group(&mut self, parent: u32, is_dir: bool) -> KResult<Option<u32>> {
        let n = self.g.group_count;
        let pgroup = if parent >= 1 && parent <= self.g.inodes_count { self.g.group_of_inode(parent) } else { 0 };
        if is_dir && n > 1 {
            let avg_inodes = self.free_inodes / n as u64;
            let avg_blocks = self.free_blocks / n as u64;
            let mut best: Option<(u32, u32)> = None;
            for i in 0..n {
                let group = (pgroup + i) % n;
                let gd = self.group_desc(group)?;
                if gd.free_inodes == 0 || (gd.free_inodes as u64) < avg_inodes || (gd.free_blocks as u64) < avg_blocks {
                    continue;
                }
                if best.is_none_or(|(_, dirs)| gd.used_dirs < dirs) {
                    best = Some((group, gd.used_dirs));
                }
            }
            if let Some((g, _)) = best {
                return Ok(Some(g));
            }
        }
        for i in 0..n {
            let group = (pgroup + i) % n;
            if self.group_desc(group)?.free_inodes > 0 {
                return Ok(Some(group));
            }
        }
        Ok(None)
    }

    /// Allocates an inode number (the record itself is written by the caller).
    pub fn alloc_inode(&mut self, parent: u32, is_dir: bool) -> KResult<u32> {
        if self.free_inodes == 0 {
            return Err(Errno::ENOSPC);
        }
        let n = self.g.group_count;
        let first = self.pick_inode_group(parent, is_dir)?.ok_or(Errno::ENOSPC)?;
        let ipg = self.g.inodes_per_group as usize;
        for i in 0..n {
            let group = (first + i) % n;
            if self.group_desc(group)?.free_inodes == 0 {
                continue;
            }
            let (ib, _) = self.inode_bitmap(group)?;
            let bm = self.cache.get(ib)?;
            let base = group * self.g.inodes_per_group;
            let lowest = if group == 0 { self.g.first_ino as usize - 1 } else { 0 };
            let Some(idx) = (lowest..ipg).find(|&i| !test_bit(bm, i)) else { continue };
            let bm = self.cache.get_mut(ib)?;
            set_bit(bm, idx, true);
            let mut gd = self.group_desc(group)?;
            if gd.free_inodes == 0 {
                return Err(EUCLEAN);
            }
            gd.free_inodes -= 1;
            if is_dir {
                gd.used_dirs += 1;
            }
            gd.flags &= !BG_INODE_UNINIT;
            if self.g.has_group_csum() {
                let used_to = (ipg as u32).saturating_sub(gd.itable_unused);
                if idx as u32 + 1 > used_to {
                    gd.itable_unused = ipg as u32 - (idx as u32 + 1);
                }
            }
            self.update_bitmap_csums(group, &mut gd)?;
            self.set_group_desc(group, &gd)?;
            self.free_inodes -= 1;
            self.sb_dirty = true;
            return Ok(base + idx as u32 + 1);
        }
        Err(Errno::ENOSPC)
    }

    pub fn free_inode(&mut self, ino: u32, is_dir: bool) -> KResult<()> {
        if ino < self.g.first_ino || ino > self.g.inodes_count {
            return Err(EUCLEAN);
        }
        let group = self.g.group_of_inode(ino);
        let idx = ((ino - 1) % self.g.inodes_per_group) as usize;
        let (ib, _) = self.inode_bitmap(group)?;
        let bm = self.cache.get_mut(ib)?;
        if !test_bit(bm, idx) {
            return Err(EUCLEAN);
        }
        set_bit(bm, idx, false);
        let mut gd = self.group_desc(group)?;
        gd.free_inodes = (gd.free_inodes + 1).min(self.g.inodes_per_group);
        if is_dir {
            gd.used_dirs = gd.used_dirs.saturating_sub(1);
        }
        self.update_bitmap_csums(group, &mut gd)?;
        self.set_group_desc(group, &gd)?;
        self.free_inodes += 1;
        self.sb_dirty = true;
        Ok(())
    }
}
