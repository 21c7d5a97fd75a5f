//! Directory blocks: the entry format (with the metadata_csum tail), block
//! validation, and the directory operations over them — lookup, readdir,
//! insert and remove — choosing the htree path for indexed directories and
//! a linear scan otherwise. Converts a full one-block directory to an htree
//! as Linux does.

use super::csum::crc32c;
use super::fs::Inner;
use super::inode::{DiskInode, FL_INDEX, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK, Time};
use super::layout::*;
use super::{EUCLEAN, KResult};
use crate::abi::Errno;

pub const NAME_MAX: usize = 255;
const TAIL: usize = 12;
const TAIL_FT: u8 = 0xDE;

/// d_type-style file types stored in entries (with the filetype feature).
pub fn ftype_of_mode(mode: u32) -> u8 {
    match mode & S_IFMT {
        S_IFREG => 1,
        S_IFDIR => 2,
        S_IFCHR => 3,
        S_IFBLK => 4,
        S_IFIFO => 5,
        S_IFSOCK => 6,
        S_IFLNK => 7,
        _ => 0,
    }
}

/// The d_type getdents64 reports for an entry file type.
pub fn dtype_of_ftype(ft: u8) -> u8 {
    match ft {
        1 => 8,
        2 => 4,
        3 => 2,
        4 => 6,
        5 => 1,
        6 => 12,
        7 => 10,
        _ => 0,
    }
}

/// Bytes an entry with an `n`-byte name needs.
pub fn rec_len_for(n: usize) -> usize {
    (8 + n + 3) & !3
}

/// A readdir consumer: (name, inode, file type, next cookie) -> go on?
pub type DirSink<'a> = dyn FnMut(&[u8], u32, u8, u64) -> bool + 'a;

/// Where a name was found: (inode, file type, directory block, offset).
pub type DirHit = (u32, u8, u64, usize);

/// One parsed entry of a directory block.
#[derive(Clone, Debug)]
pub struct RawEntry {
    pub off: usize,
    pub ino: u32,
    pub rec_len: usize,
    pub ftype: u8,
    pub name: Vec<u8>,
}

fn decode_rec_len(v: u16, bs: usize) -> usize {
    // 64 KiB blocks store 65536 as 0 or 65535 (Linux's ext4_rec_len_from_disk).
    if bs >= 65536 && (v == 0 || v == 65535) { 65536 } else { v as usize }
}

fn encode_rec_len(n: usize) -> u16 {
    if n >= 65536 { 65535 } else { n as u16 }
}

impl Inner {
    pub fn dir_tail_len(&self) -> usize {
        if self.g.has_csum() { TAIL } else { 0 }
    }

    /// Parses and checks a leaf block's entries (Linux's ext4_check_dir_entry
    /// rules): every rec_len aligned, large enough for its name, inside the
    /// block; the chain ends exactly at the tail.
    pub fn parse_dir_block(&self, data: &[u8]) -> KResult<Vec<RawEntry>> {
        let bs = data.len();
        let end = bs - self.dir_tail_len();
        let mut out = Vec::new();
        let mut off = 0;
        while off < end {
            let ino = r32(data, off);
            let rec_len = decode_rec_len(r16(data, off + 4), bs);
            let name_len = r8(data, off + 6) as usize;
            let ftype = r8(data, off + 7);
            if rec_len < 12 || !rec_len.is_multiple_of(4) || rec_len < rec_len_for(name_len) || off + rec_len > end || ino > self.g.inodes_count {
                return Err(EUCLEAN);
            }
            if ino != 0 {
                out.push(RawEntry { off, ino, rec_len, ftype, name: data[off + 8..off + 8 + name_len].to_vec() });
            } else {
                out.push(RawEntry { off, ino, rec_len, ftype, name: Vec::new() });
            }
            off += rec_len;
        }
        Ok(out)
    }

    fn dir_block_csum(&self, seed: u32, data: &[u8]) -> u32 {
        crc32c(seed, &data[..data.len() - TAIL])
    }

    fn check_leaf_tail(&self, seed: u32, data: &[u8]) -> KResult<()> {
        if !self.g.has_csum() {
            return Ok(());
        }
        let t = data.len() - TAIL;
        if r32(data, t) != 0 || r16(data, t + 4) != TAIL as u16 || r8(data, t + 6) != 0 || r8(data, t + 7) != TAIL_FT {
            return Err(EUCLEAN);
        }
        if r32(data, t + 8) != self.dir_block_csum(seed, data) {
            return Err(EUCLEAN);
        }
        Ok(())
    }

    /// Writes a leaf block's tail checksum after a change.
    pub fn seal_leaf(&self, seed: u32, data: &mut [u8]) {
        if !self.g.has_csum() {
            return;
        }
        let t = data.len() - TAIL;
        w32(data, t, 0);
        w16(data, t + 4, TAIL as u16);
        w8(data, t + 6, 0);
        w8(data, t + 7, TAIL_FT);
        let c = self.dir_block_csum(seed, data);
        w32(data, t + 8, c);
    }

    /// Physical block of directory block `lblk` (EUCLEAN for a hole).
    pub fn dir_pblk(&mut self, ino: u32, dir: &DiskInode, lblk: u64) -> KResult<u64> {
        let m = self.map_lookup(ino, dir, lblk, 1)?;
        if m.pblk == 0 || m.unwritten {
            return Err(EUCLEAN);
        }
        Ok(m.pblk)
    }

    /// Number of blocks of a directory, checked against its size.
    pub fn dir_blocks(&self, dir: &DiskInode) -> KResult<u64> {
        let bs = self.g.block_size as u64;
        let size = dir.size();
        if !size.is_multiple_of(bs) || size / bs > u32::MAX as u64 {
            return Err(EUCLEAN);
        }
        Ok(size / bs)
    }

    /// Whether a block of an indexed directory is an htree node (the root,
    /// or an internal node that looks like one empty entry of the whole block).
    pub fn is_dx_node(&self, dir: &DiskInode, lblk: u64, data: &[u8]) -> bool {
        if !dir.has_flag(FL_INDEX) {
            return false;
        }
        if lblk == 0 {
            return true;
        }
        r32(data, 0) == 0 && decode_rec_len(r16(data, 4), data.len()) == data.len() && r8(data, 6) == 0
    }

    /// A leaf block's entries, checked (checksum included).
    pub fn read_leaf(&mut self, ino: u32, dir: &DiskInode, lblk: u64) -> KResult<(u64, Vec<RawEntry>)> {
        let p = self.dir_pblk(ino, dir, lblk)?;
        let data = self.cache.get(p)?.to_vec();
        let seed = self.inode_seed(ino, dir.generation());
        self.check_leaf_tail(seed, &data)?;
        Ok((p, self.parse_dir_block(&data)?))
    }

    /// Finds `name` in directory `ino`: (inode, file type, leaf lblk, offset).
    pub fn dir_find(&mut self, ino: u32, dir: &DiskInode, name: &[u8]) -> KResult<Option<DirHit>> {
        if name.len() > NAME_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        if self.is_inline(dir) {
            let entries = self.inline_dir_entries(ino, dir)?;
            return Ok(entries.into_iter().find(|(_, e)| e.name == name).map(|(pos, e)| (e.ino, e.ftype, pos, 0)));
        }
        if dir.has_flag(FL_INDEX) && self.g.has_dir_index() {
            match self.dx_find(ino, dir, name) {
                Ok(r) => return Ok(r),
                // A damaged index still leaves the leaves readable: Linux
                // falls back to a linear search only for some errors; we
                // report the corruption.
                Err(e) => return Err(e),
            }
        }
        let blocks = self.dir_blocks(dir)?;
        for lblk in 0..blocks {
            let p = self.dir_pblk(ino, dir, lblk)?;
            let data = self.cache.get(p)?.to_vec();
            if self.is_dx_node(dir, lblk, &data) {
                if lblk == 0 {
                    for e in self.parse_dx_root_dots(&data)? {
                        if e.name == name {
                            return Ok(Some((e.ino, e.ftype, 0, e.off)));
                        }
                    }
                }
                continue;
            }
            let seed = self.inode_seed(ino, dir.generation());
            self.check_leaf_tail(seed, &data)?;
            for e in self.parse_dir_block(&data)? {
                if e.ino != 0 && e.name == name {
                    return Ok(Some((e.ino, e.ftype, lblk, e.off)));
                }
            }
        }
        Ok(None)
    }

    /// The `.` and `..` entries of an htree root block.
    pub fn parse_dx_root_dots(&self, data: &[u8]) -> KResult<Vec<RawEntry>> {
        let dot_len = r16(data, 4) as usize;
        if r8(data, 6) != 1 || data.get(8) != Some(&b'.') || dot_len != 12 {
            return Err(EUCLEAN);
        }
        if r8(data, 12 + 6) != 2 || data.get(20..22) != Some(b"..") {
            return Err(EUCLEAN);
        }
        Ok(vec![
            RawEntry { off: 0, ino: r32(data, 0), rec_len: 12, ftype: r8(data, 7), name: b".".to_vec() },
            RawEntry { off: 12, ino: r32(data, 12), rec_len: data.len() - 12, ftype: r8(data, 19), name: b"..".to_vec() },
        ])
    }

    /// Calls `sink(name, ino, ftype, next_cookie)` for entries from `cookie`
    /// on (a byte offset in the directory); stops when it returns false.
    pub fn dir_iterate(&mut self, ino: u32, dir: &DiskInode, cookie: u64, sink: &mut DirSink<'_>) -> KResult<()> {
        if self.is_inline(dir) {
            let entries = self.inline_dir_entries(ino, dir)?;
            for (i, (pos, e)) in entries.iter().enumerate() {
                if *pos < cookie {
                    continue;
                }
                let next = entries.get(i + 1).map(|(p, _)| *p).unwrap_or(u64::MAX >> 1);
                if !sink(&e.name, e.ino, e.ftype, next) {
                    return Ok(());
                }
            }
            return Ok(());
        }
        if dir.has_flag(FL_INDEX) && self.g.has_dir_index() {
            return self.dx_iterate(ino, dir, cookie, sink);
        }
        let bs = self.g.block_size as u64;
        let blocks = self.dir_blocks(dir)?;
        let mut lblk = cookie / bs;
        let seed = self.inode_seed(ino, dir.generation());
        while lblk < blocks {
            let p = self.dir_pblk(ino, dir, lblk)?;
            let data = self.cache.get(p)?.to_vec();
            let entries = if self.is_dx_node(dir, lblk, &data) {
                if lblk == 0 { self.parse_dx_root_dots(&data)? } else { Vec::new() }
            } else {
                self.check_leaf_tail(seed, &data)?;
                self.parse_dir_block(&data)?
            };
            for e in entries {
                let here = lblk * bs + e.off as u64;
                if here < cookie || e.ino == 0 {
                    continue;
                }
                let next = here + e.rec_len as u64;
                if !sink(&e.name, e.ino, e.ftype, next) {
                    return Ok(());
                }
            }
            lblk += 1;
        }
        Ok(())
    }

    /// Whether a directory holds nothing but `.` and `..`.
    pub fn dir_is_empty(&mut self, ino: u32, dir: &DiskInode) -> KResult<bool> {
        let mut empty = true;
        self.dir_iterate(ino, dir, 0, &mut |name, _, _, _| {
            if name != b"." && name != b".." {
                empty = false;
                return false;
            }
            true
        })?;
        Ok(empty)
    }

    /// Tries to place an entry in one leaf block; true when it fit.
    pub fn leaf_insert(&mut self, seed: u32, pblk: u64, name: &[u8], child: u32, ftype: u8) -> KResult<bool> {
        let data = self.cache.get(pblk)?.to_vec();
        let entries = self.parse_dir_block(&data)?;
        let need = rec_len_for(name.len());
        for e in &entries {
            let used = if e.ino == 0 { 0 } else { rec_len_for(e.name.len()) };
            if e.rec_len - used < need {
                continue;
            }
            let mut data = data.clone();
            let at = if e.ino == 0 {
                e.off
            } else {
                w16(&mut data, e.off + 4, encode_rec_len(used));
                e.off + used
            };
            let rec = e.rec_len - used;
            w32(&mut data, at, child);
            w16(&mut data, at + 4, encode_rec_len(rec));
            w8(&mut data, at + 6, name.len() as u8);
            w8(&mut data, at + 7, if self.g.has_filetype() { ftype } else { 0 });
            data[at + 8..at + 8 + name.len()].copy_from_slice(name);
            self.seal_leaf(seed, &mut data);
            self.cache.get_mut(pblk)?.copy_from_slice(&data);
            return Ok(true);
        }
        Ok(false)
    }

    /// A fresh leaf block holding `entries` (name, ino, ftype), packed.
    pub fn build_leaf(&self, seed: u32, entries: &[(Vec<u8>, u32, u8)]) -> KResult<Vec<u8>> {
        let bs = self.g.bs();
        let end = bs - self.dir_tail_len();
        let mut data = vec![0u8; bs];
        let mut off = 0;
        for (i, (name, ino, ft)) in entries.iter().enumerate() {
            let len = rec_len_for(name.len());
            let rec = if i + 1 == entries.len() { end - off } else { len };
            if off + len > end {
                return Err(Errno::ENOSPC);
            }
            w32(&mut data, off, *ino);
            w16(&mut data, off + 4, encode_rec_len(rec));
            w8(&mut data, off + 6, name.len() as u8);
            w8(&mut data, off + 7, if self.g.has_filetype() { *ft } else { 0 });
            data[off + 8..off + 8 + name.len()].copy_from_slice(name);
            off += rec;
        }
        if entries.is_empty() {
            w16(&mut data, 4, encode_rec_len(end));
        }
        self.seal_leaf(seed, &mut data);
        Ok(data)
    }

    /// Appends an empty block to a directory; returns (lblk, pblk).
    pub fn dir_grow(&mut self, ino: u32, dir: &mut DiskInode) -> KResult<(u64, u64)> {
        let blocks = self.dir_blocks(dir)?;
        let goal = if blocks > 0 { self.dir_pblk(ino, dir, blocks - 1)? + 1 } else { self.inode_goal(ino) };
        // Directory blocks leave Linux's reserve to the extent and map
        // blocks writeback may need (ext4_has_free_clusters).
        let (p, _) = self.alloc_blocks(goal, 1, false)?;
        self.inode_add_blocks(dir, 1)?;
        if let Err(e) = self.dir_map_block(ino, dir, blocks, p) {
            self.inode_add_blocks(dir, -1)?;
            self.free_blocks(p, 1, true)?;
            return Err(e);
        }
        self.cache.get_new(p)?;
        dir.set_size((blocks + 1) * self.g.block_size as u64);
        Ok((blocks, p))
    }

    fn dir_map_block(&mut self, ino: u32, dir: &mut DiskInode, lblk: u64, p: u64) -> KResult<()> {
        if dir.has_flag(super::inode::FL_EXTENTS) {
            self.ext_insert(ino, dir, super::extent::Extent { lblk: lblk as u32, len: 1, pblk: p, unwritten: false })
        } else {
            self.map_set_indirect(ino, dir, lblk, p)
        }
    }

    /// Adds `name -> child` to directory `ino` (the caller checked it is absent).
    pub fn dir_add(&mut self, ino: u32, dir: &mut DiskInode, name: &[u8], child: u32, ftype: u8) -> KResult<()> {
        if name.is_empty() || name.len() > NAME_MAX {
            return Err(if name.is_empty() { Errno::ENOENT } else { Errno::ENAMETOOLONG });
        }
        if dir.has_flag(FL_INDEX) && self.g.has_dir_index() {
            return self.dx_add(ino, dir, name, child, ftype);
        }
        if dir.has_flag(FL_INDEX) {
            // An htree directory on a filesystem without dir_index: Linux
            // clears the flag and treats it as linear.
            dir.set_flags(dir.flags() & !FL_INDEX);
        }
        let seed = self.inode_seed(ino, dir.generation());
        let blocks = self.dir_blocks(dir)?;
        for lblk in 0..blocks {
            let p = self.dir_pblk(ino, dir, lblk)?;
            let data = self.cache.get(p)?.to_vec();
            self.check_leaf_tail(seed, &data)?;
            if self.leaf_insert(seed, p, name, child, ftype)? {
                return Ok(());
            }
        }
        if blocks == 1 && self.g.has_dir_index() {
            self.dx_convert(ino, dir)?;
            return self.dx_add(ino, dir, name, child, ftype);
        }
        let (_, p) = self.dir_grow(ino, dir)?;
        let data = self.build_leaf(seed, &[(name.to_vec(), child, ftype)])?;
        self.cache.get_mut(p)?.copy_from_slice(&data);
        Ok(())
    }

    /// Removes the entry at (`lblk`, `off`) found by `dir_find`.
    pub fn dir_remove_at(&mut self, ino: u32, dir: &DiskInode, lblk: u64, off: usize) -> KResult<()> {
        let p = self.dir_pblk(ino, dir, lblk)?;
        let mut data = self.cache.get(p)?.to_vec();
        let entries = self.parse_dir_block(&data)?;
        let idx = entries.iter().position(|e| e.off == off).ok_or(EUCLEAN)?;
        if idx > 0 {
            let prev = &entries[idx - 1];
            w16(&mut data, prev.off + 4, encode_rec_len(prev.rec_len + entries[idx].rec_len));
        } else {
            w32(&mut data, off, 0);
        }
        // Clear the old name so deleted names do not linger on disk.
        let e = &entries[idx];
        let name_end = (e.off + 8 + e.name.len()).min(data.len());
        data[e.off + 8..name_end].fill(0);
        w8(&mut data, e.off + 6, 0);
        let seed = self.inode_seed(ino, dir.generation());
        self.seal_leaf(seed, &mut data);
        self.cache.get_mut(p)?.copy_from_slice(&data);
        Ok(())
    }

    /// Points the entry at (`lblk`, `off`) at another inode (rename over an
    /// existing name, or `..` of a moved directory).
    pub fn dir_set_at(&mut self, ino: u32, dir: &DiskInode, lblk: u64, off: usize, child: u32, ftype: u8) -> KResult<()> {
        let p = self.dir_pblk(ino, dir, lblk)?;
        let mut data = self.cache.get(p)?.to_vec();
        w32(&mut data, off, child);
        if self.g.has_filetype() {
            w8(&mut data, off + 7, ftype);
        }
        let seed = self.inode_seed(ino, dir.generation());
        if !self.is_dx_node(dir, lblk, &data) {
            self.seal_leaf(seed, &mut data);
        } else {
            self.dx_reseal(seed, &mut data, lblk)?;
        }
        self.cache.get_mut(p)?.copy_from_slice(&data);
        Ok(())
    }

    /// Writes the first block of a new directory: `.` and `..`.
    pub fn dir_init(&mut self, ino: u32, dir: &mut DiskInode, parent: u32) -> KResult<()> {
        let (_, p) = self.dir_grow(ino, dir)?;
        let seed = self.inode_seed(ino, dir.generation());
        let data = self.build_leaf(seed, &[(b".".to_vec(), ino, 2), (b"..".to_vec(), parent, 2)])?;
        self.cache.get_mut(p)?.copy_from_slice(&data);
        let now = self.now();
        dir.set_time(Time::Modify, now);
        Ok(())
    }
}
