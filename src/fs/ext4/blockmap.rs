//! The ext2/ext3 indirect block map: 12 direct pointers, then single,
//! double and triple indirect blocks. Lookup with run detection, mapping of
//! new blocks (allocating indirect blocks on the way) and range removal that
//! frees indirect blocks left empty.

use super::KResult;
use super::fs::Inner;
use super::inode::DiskInode;
use super::layout::*;
use crate::abi::Errno;

const DIRECT: u64 = 12;

/// Where a logical block's pointer lives: the i_block slot, then the chain
/// of offsets inside indirect blocks.
fn path_of(lblk: u64, per: u64) -> KResult<(usize, Vec<usize>)> {
    if lblk < DIRECT {
        return Ok((lblk as usize, vec![]));
    }
    let mut l = lblk - DIRECT;
    if l < per {
        return Ok((12, vec![l as usize]));
    }
    l -= per;
    if l < per * per {
        return Ok((13, vec![(l / per) as usize, (l % per) as usize]));
    }
    l -= per * per;
    if l < per * per * per {
        return Ok((14, vec![(l / (per * per)) as usize, (l / per % per) as usize, (l % per) as usize]));
    }
    Err(Errno::EFBIG)
}

impl Inner {
    fn per_block(&self) -> u64 {
        self.g.bs() as u64 / 4
    }

    fn check_ptr(&self, p: u64) -> KResult<u64> {
        if p != 0 {
            self.check_data_run(p, 1)?;
        }
        Ok(p)
    }

    /// The physical block of `lblk` (0 for a hole) and how many following
    /// logical blocks continue physically contiguously (up to `max`).
    pub fn map_lookup_indirect(&mut self, inode: &DiskInode, lblk: u64, max: u64) -> KResult<(u64, u64)> {
        let per = self.per_block();
        let (slot, chain) = path_of(lblk, per)?;
        let mut p = self.check_ptr(r32(inode.i_block(), slot * 4) as u64)?;
        let mut last_block = None;
        for &off in &chain {
            if p == 0 {
                break;
            }
            let b = self.cache.get(p)?;
            last_block = Some((p, off));
            p = r32(b, off * 4) as u64;
            self.check_ptr(p)?;
        }
        if p == 0 {
            // Size the hole: to the end of this pointer block at most.
            let mut n = 1;
            if let Some((blk, off)) = last_block {
                let b = self.cache.get(blk)?;
                while n < max && off + (n as usize) < per as usize && r32(b, (off + n as usize) * 4) == 0 {
                    n += 1;
                }
            } else if chain.is_empty() {
                while n < max && slot + (n as usize) < 12 && r32(inode.i_block(), (slot + n as usize) * 4) == 0 {
                    n += 1;
                }
            }
            return Ok((0, n));
        }
        let mut n = 1;
        let (buf, off, limit): (Vec<u8>, usize, usize) = match last_block {
            Some((blk, off)) => (self.cache.get(blk)?.to_vec(), off, per as usize),
            None => (inode.i_block()[..48].to_vec(), slot, 12),
        };
        while n < max && off + (n as usize) < limit && r32(&buf, (off + n as usize) * 4) as u64 == p + n {
            n += 1;
        }
        Ok((p, n))
    }

    /// Points `lblk` at `pblk`, allocating indirect blocks as needed.
    pub fn map_set_indirect(&mut self, ino: u32, inode: &mut DiskInode, lblk: u64, pblk: u64) -> KResult<()> {
        let per = self.per_block();
        let (slot, chain) = path_of(lblk, per)?;
        if chain.is_empty() {
            w32(inode.i_block_mut(), slot * 4, pblk as u32);
            return Ok(());
        }
        let mut p = r32(inode.i_block(), slot * 4) as u64;
        if p == 0 {
            p = self.new_indirect(ino, inode, pblk)?;
            w32(inode.i_block_mut(), slot * 4, p as u32);
        }
        self.check_ptr(p)?;
        for (depth, &off) in chain.iter().enumerate() {
            if depth + 1 == chain.len() {
                w32(self.cache.get_mut(p)?, off * 4, pblk as u32);
                return Ok(());
            }
            let mut next = r32(self.cache.get(p)?, off * 4) as u64;
            if next == 0 {
                next = self.new_indirect(ino, inode, pblk)?;
                w32(self.cache.get_mut(p)?, off * 4, next as u32);
            }
            self.check_ptr(next)?;
            p = next;
        }
        Ok(())
    }

    fn new_indirect(&mut self, _ino: u32, inode: &mut DiskInode, goal: u64) -> KResult<u64> {
        let (b, _) = self.alloc_blocks(goal.saturating_sub(1), 1, true)?;
        self.cache.get_new(b)?;
        self.inode_add_blocks(inode, 1)?;
        Ok(b)
    }

    /// Unmaps [from, to), freeing data blocks and emptied indirect blocks.
    pub fn map_remove_indirect(&mut self, inode: &mut DiskInode, from: u64, to: u64) -> KResult<()> {
        let per = self.per_block();
        for slot in 0..15usize {
            let (start, span, levels) = match slot {
                0..=11 => (slot as u64, 1, 0),
                12 => (DIRECT, per, 1),
                13 => (DIRECT + per, per * per, 2),
                _ => (DIRECT + per + per * per, per * per * per, 3),
            };
            if start + span <= from || start >= to {
                continue;
            }
            let p = r32(inode.i_block(), slot * 4) as u64;
            if p == 0 {
                continue;
            }
            self.check_ptr(p)?;
            let empty = if levels == 0 {
                self.free_blocks(p, 1, false)?;
                self.inode_add_blocks(inode, -1)?;
                true
            } else {
                self.remove_in_indirect(inode, p, levels, start, from, to)?
            };
            if empty {
                w32(inode.i_block_mut(), slot * 4, 0);
            }
        }
        Ok(())
    }

    /// Returns whether the indirect block `blk` became empty (and was freed).
    fn remove_in_indirect(&mut self, inode: &mut DiskInode, blk: u64, levels: u32, start: u64, from: u64, to: u64) -> KResult<bool> {
        let per = self.per_block();
        let span = per.pow(levels - 1);
        let mut ptrs: Vec<u32> = {
            let b = self.cache.get(blk)?;
            (0..per as usize).map(|i| r32(b, i * 4)).collect()
        };
        let mut changed = false;
        for (i, ptr) in ptrs.iter_mut().enumerate() {
            let s = start + i as u64 * span;
            if *ptr == 0 || s + span <= from || s >= to {
                continue;
            }
            let p = self.check_ptr(*ptr as u64)?;
            let empty = if levels == 1 {
                self.free_blocks(p, 1, false)?;
                self.inode_add_blocks(inode, -1)?;
                true
            } else {
                self.remove_in_indirect(inode, p, levels - 1, s, from, to)?
            };
            if empty {
                *ptr = 0;
                changed = true;
            }
        }
        if ptrs.iter().all(|&p| p == 0) {
            self.free_blocks(blk, 1, true)?;
            self.inode_add_blocks(inode, -1)?;
            return Ok(true);
        }
        if changed {
            let b = self.cache.get_mut(blk)?;
            for (i, p) in ptrs.iter().enumerate() {
                w32(b, i * 4, *p);
            }
        }
        Ok(false)
    }

    /// Bound on indirect mapping: logical blocks beyond this need more than
    /// a triple indirect block.
    pub fn indirect_limit(&self) -> u64 {
        let per = self.per_block();
        (DIRECT + per + per * per + per * per * per).min(u32::MAX as u64)
    }
}
