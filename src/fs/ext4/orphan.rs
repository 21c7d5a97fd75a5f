//! The orphan list: inodes with no links that are still open, or whose
//! truncation is under way, chained from the superblock through i_dtime so
//! that mount after a crash can finish freeing them. Also drains the
//! orphan_file of newer filesystems at mount.

use super::fs::Inner;
use super::inode::DiskInode;
use super::layout::*;
use super::superblock::{RO_COMPAT_ORPHAN_PRESENT, S_FEATURE_RO_COMPAT, S_LAST_ORPHAN, S_ORPHAN_FILE_INUM};
use super::{EUCLEAN, KResult};
use crate::fs::ext4::csum::crc32c;

const ORPHAN_BLOCK_MAGIC: u32 = 0x0b10_ca04;

impl Inner {
    /// Puts `ino` at the head of the orphan chain (the caller writes `i`).
    pub fn orphan_add(&mut self, ino: u32, i: &mut DiskInode) -> KResult<()> {
        let head = self.sb.get32(S_LAST_ORPHAN);
        if head == ino {
            return Ok(());
        }
        i.set_dtime(head);
        self.sb.set32(S_LAST_ORPHAN, ino);
        self.sb_dirty = true;
        Ok(())
    }

    /// Unlinks `ino` from the orphan chain, wherever it is.
    pub fn orphan_remove(&mut self, ino: u32) -> KResult<()> {
        let mut prev: Option<u32> = None;
        let mut cur = self.sb.get32(S_LAST_ORPHAN);
        for _ in 0..self.g.inodes_count {
            if cur == 0 {
                return Ok(());
            }
            if cur > self.g.inodes_count {
                return Err(EUCLEAN);
            }
            let c = self.read_inode(cur)?;
            let next = c.dtime();
            if cur == ino {
                match prev {
                    None => {
                        self.sb.set32(S_LAST_ORPHAN, next);
                        self.sb_dirty = true;
                    }
                    Some(p) => {
                        let mut pi = self.read_inode(p)?;
                        pi.set_dtime(next);
                        self.write_inode(p, &pi)?;
                    }
                }
                return Ok(());
            }
            prev = Some(cur);
            cur = next;
        }
        Err(EUCLEAN)
    }

    /// Mount after a crash: free orphans without links, cut the others back
    /// to their size (an interrupted truncate).
    pub fn process_orphans(&mut self) -> KResult<()> {
        let mut cur = self.sb.get32(S_LAST_ORPHAN);
        let mut seen = std::collections::HashSet::new();
        let mut list = Vec::new();
        while cur != 0 {
            if cur > self.g.inodes_count || cur < self.g.first_ino || !seen.insert(cur) {
                // A damaged chain: stop here, as e2fsck would clear it.
                break;
            }
            let i = self.read_inode(cur)?;
            list.push(cur);
            cur = i.dtime();
        }
        self.sb.set32(S_LAST_ORPHAN, 0);
        self.sb_dirty = true;
        for ino in list {
            self.finish_orphan(ino)?;
        }
        self.drain_orphan_file()
    }

    /// Clean unmount: nobody holds anything open any more, so every inode
    /// still on the orphan list is finished now.
    pub fn finish_all_orphans(&mut self) -> KResult<()> {
        if self.sb.get32(S_LAST_ORPHAN) == 0 {
            return Ok(());
        }
        let mut cur = self.sb.get32(S_LAST_ORPHAN);
        let mut seen = std::collections::HashSet::new();
        let mut list = Vec::new();
        while cur != 0 && cur <= self.g.inodes_count && seen.insert(cur) {
            list.push(cur);
            cur = self.read_inode(cur)?.dtime();
        }
        self.sb.set32(S_LAST_ORPHAN, 0);
        self.sb_dirty = true;
        for ino in list {
            self.finish_orphan(ino)?;
        }
        Ok(())
    }

    fn finish_orphan(&mut self, ino: u32) -> KResult<()> {
        let mut i = self.read_inode(ino)?;
        if i.mode() == 0 {
            return Ok(());
        }
        if i.links() == 0 {
            self.release_blocks(ino, &mut i)?;
            let now = self.now();
            i.set_dtime(now.tv_sec as u32);
            self.write_inode(ino, &i)?;
            self.free_inode(ino, i.is_dir())
        } else {
            i.set_dtime(0);
            if i.is_reg() {
                let size = i.size();
                self.truncate_inode(ino, &mut i, size)?;
            }
            self.write_inode(ino, &i)
        }
    }

    /// An orphan file block's checksum: the file's inode seed, the block's
    /// disk address, then its entries.
    fn orphan_block_csum(&self, oino: u32, generation: u32, pblk: u64, data: &[u8]) -> u32 {
        let s = self.inode_seed(oino, generation);
        let s = crc32c(s, &pblk.to_le_bytes());
        crc32c(s, &data[..data.len() - 8])
    }

    /// The orphan_file feature: entries are inode numbers in the file's
    /// blocks, each block ending in a magic and a checksum.
    fn drain_orphan_file(&mut self) -> KResult<()> {
        if !self.g.has_orphan_file() || self.sb.get32(S_FEATURE_RO_COMPAT) & RO_COMPAT_ORPHAN_PRESENT == 0 {
            return Ok(());
        }
        let oino = self.sb.get32(S_ORPHAN_FILE_INUM);
        if oino == 0 || oino > self.g.inodes_count {
            return Err(EUCLEAN);
        }
        let of = self.read_inode(oino)?;
        let bs = self.g.bs();
        let blocks = (of.size() / bs as u64).min(1 << 16);
        for lblk in 0..blocks {
            let m = self.map_lookup(oino, &of, lblk, 1)?;
            if m.pblk == 0 {
                continue;
            }
            let data = self.cache.get(m.pblk)?.to_vec();
            if r32(&data, bs - 8) != ORPHAN_BLOCK_MAGIC {
                return Err(EUCLEAN);
            }
            if self.g.has_csum() && r32(&data, bs - 4) != self.orphan_block_csum(oino, of.generation(), m.pblk, &data) {
                return Err(EUCLEAN);
            }
            let mut changed = false;
            let mut data2 = data.clone();
            for k in 0..(bs - 8) / 4 {
                let ino = r32(&data, k * 4);
                if ino != 0 {
                    if ino >= self.g.first_ino && ino <= self.g.inodes_count {
                        self.finish_orphan(ino)?;
                    }
                    w32(&mut data2, k * 4, 0);
                    changed = true;
                }
            }
            if changed {
                if self.g.has_csum() {
                    let c = self.orphan_block_csum(oino, of.generation(), m.pblk, &data2);
                    w32(&mut data2, bs - 4, c);
                }
                self.cache.get_mut(m.pblk)?.copy_from_slice(&data2);
            }
        }
        let v = self.sb.get32(S_FEATURE_RO_COMPAT) & !RO_COMPAT_ORPHAN_PRESENT;
        self.sb.set32(S_FEATURE_RO_COMPAT, v);
        self.sb_dirty = true;
        Ok(())
    }
}
