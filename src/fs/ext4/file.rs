//! The data path: mapping file blocks to disk blocks (extents or the
//! indirect map behind one interface), reads, writes with allocation and
//! unwritten-extent conversion, and truncation. File data goes straight to
//! the device before the metadata that points at it commits (ordered mode).

use super::extent::{Extent, Lookup, MAX_INIT_LEN};
use super::fs::Inner;
use super::inode::{DiskInode, FL_EXTENTS, Time};
use super::{EUCLEAN, KResult};
use crate::abi::Errno;

/// One run of a file's logical blocks: mapped to `pblk..pblk+len`, or a hole
/// when `pblk` is 0. Unwritten runs read as zeros.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mapping {
    pub lblk: u64,
    pub len: u64,
    pub pblk: u64,
    pub unwritten: bool,
}

/// Most blocks one write moves in a single device call.
const MAX_RUN: u64 = 2048;

/// A run of a writeback done without the lock: file bytes [from, to) go
/// to the disk at block `pblk`; `unwritten` until converted.
#[derive(Clone, Copy, Debug)]
pub struct WriteRun {
    pub from: u64,
    pub to: u64,
    pub pblk: u64,
    pub unwritten: bool,
}

impl Inner {
    /// A goal for an inode's first blocks: the start of its group.
    pub fn inode_goal(&self, ino: u32) -> u64 {
        if ino == 0 || ino > self.g.inodes_count {
            return self.g.first_data_block;
        }
        self.g.group_first_block(self.g.group_of_inode(ino))
    }

    /// Adds `delta` filesystem blocks to i_blocks.
    pub fn inode_add_blocks(&mut self, inode: &mut DiskInode, delta: i64) -> KResult<()> {
        let per = self.g.block_size as i64 / 512;
        let cur = inode.sectors(self.g.block_size) as i64;
        let new = (cur + delta * per).max(0) as u64;
        inode.set_sectors(new, self.g.has_huge_file(), self.g.block_size)
    }

    fn max_lblk(&self, inode: &DiskInode) -> u64 {
        if inode.has_flag(FL_EXTENTS) { u32::MAX as u64 } else { self.indirect_limit() }
    }

    /// The run of blocks starting at `lblk`, at most `max` long.
    pub fn map_lookup(&mut self, ino: u32, inode: &DiskInode, lblk: u64, max: u64) -> KResult<Mapping> {
        let max = max.max(1);
        if lblk >= self.max_lblk(inode) {
            return Ok(Mapping { lblk, len: max, pblk: 0, unwritten: false });
        }
        if inode.has_flag(FL_EXTENTS) {
            match self.ext_lookup(ino, inode, lblk as u32)? {
                Lookup::Mapped(x) => {
                    let skip = lblk - x.lblk as u64;
                    Ok(Mapping { lblk, len: (x.len as u64 - skip).min(max), pblk: x.pblk + skip, unwritten: x.unwritten })
                }
                Lookup::Hole { next } => {
                    let end = next.map(|n| n as u64).unwrap_or(u32::MAX as u64);
                    Ok(Mapping { lblk, len: end.saturating_sub(lblk).clamp(1, max), pblk: 0, unwritten: false })
                }
            }
        } else {
            let (p, n) = self.map_lookup_indirect(inode, lblk, max)?;
            Ok(Mapping { lblk, len: n.max(1), pblk: p, unwritten: false })
        }
    }

    /// Maps new disk blocks `pblk..pblk+len` at `lblk` (a hole). Returns how
    /// many blocks were mapped; an extent insert is all or nothing, an
    /// indirect map may stop part way when an indirect block cannot be had.
    fn map_insert(&mut self, ino: u32, inode: &mut DiskInode, lblk: u64, pblk: u64, len: u64, unwritten: bool) -> (u64, KResult<()>) {
        let mut done = 0;
        if inode.has_flag(FL_EXTENTS) {
            while done < len {
                let n = (len - done).min(if unwritten { MAX_INIT_LEN as u64 - 1 } else { MAX_INIT_LEN as u64 });
                if let Err(e) = self.ext_insert(ino, inode, Extent { lblk: (lblk + done) as u32, len: n as u32, pblk: pblk + done, unwritten }) {
                    return (done, Err(e));
                }
                done += n;
            }
        } else {
            while done < len {
                if let Err(e) = self.map_set_indirect(ino, inode, lblk + done, pblk + done) {
                    return (done, Err(e));
                }
                done += 1;
            }
        }
        (done, Ok(()))
    }

    /// Allocates up to `want` blocks near `goal` and maps them at `lblk`;
    /// blocks that could not be mapped go back. (first block, count).
    fn alloc_and_map(&mut self, ino: u32, inode: &mut DiskInode, lblk: u64, want: u32, goal: u64, unwritten: bool) -> KResult<(u64, u64)> {
        let (p, n) = self.alloc_blocks(goal, want, false)?;
        self.inode_add_blocks(inode, n as i64)?;
        let (mapped, r) = self.map_insert(ino, inode, lblk, p, n as u64, unwritten);
        if mapped < n as u64 {
            self.inode_add_blocks(inode, -((n as u64 - mapped) as i64))?;
            self.free_blocks(p + mapped, n as u64 - mapped, false)?;
        }
        if mapped == 0 {
            return Err(r.err().unwrap_or(Errno::ENOSPC));
        }
        Ok((p, mapped))
    }

    /// Unmaps [from, to), freeing the blocks.
    pub fn map_remove(&mut self, ino: u32, inode: &mut DiskInode, from: u64, to: u64) -> KResult<()> {
        let to = to.min(self.max_lblk(inode));
        if from >= to {
            return Ok(());
        }
        if inode.has_flag(FL_EXTENTS) { self.ext_remove(ino, inode, from as u32, to, true) } else { self.map_remove_indirect(inode, from, to) }
    }

    /// Allocates disk blocks for the hole at `m` (up to its length), mapping
    /// them; returns the new mapping. The caller writes every block.
    fn fill_hole(&mut self, ino: u32, inode: &mut DiskInode, m: Mapping, goal: u64) -> KResult<Mapping> {
        let want = m.len.min(MAX_INIT_LEN as u64) as u32;
        let (p, n) = self.alloc_and_map(ino, inode, m.lblk, want, goal, false)?;
        Ok(Mapping { lblk: m.lblk, len: n, pblk: p, unwritten: false })
    }

    /// Turns an unwritten run into a written one (the caller writes it all).
    fn convert_unwritten(&mut self, ino: u32, inode: &mut DiskInode, m: Mapping) -> KResult<Mapping> {
        // Cutting the run out of its extent and putting it back written
        // adds at most two entries to that leaf: get them first.
        self.ext_reserve_leaf(ino, inode, m.lblk as u32, 2)?;
        self.ext_remove(ino, inode, m.lblk as u32, m.lblk + m.len, false)?;
        self.ext_insert(ino, inode, Extent { lblk: m.lblk as u32, len: m.len as u32, pblk: m.pblk, unwritten: false })?;
        Ok(Mapping { unwritten: false, ..m })
    }

    /// Maps [lblk, lblk+count) for the page cache above: with `allocate`,
    /// holes get blocks and unwritten runs become written, and the caller
    /// must then write every block of the returned runs before its next
    /// fsync; without, holes are reported as they are.
    pub fn map_blocks(&mut self, ino: u32, lblk: u64, count: u64, allocate: bool) -> KResult<Vec<Mapping>> {
        let mut inode = self.read_inode(ino)?;
        if self.is_inline(&inode) {
            // No blocks: read such a file with `file_read`.
            return Err(Errno::EOPNOTSUPP);
        }
        let mut out = Vec::new();
        let mut pos = lblk;
        let end = lblk.saturating_add(count);
        let mut goal = self.inode_goal(ino);
        let mut changed = false;
        while pos < end && out.len() < 4096 {
            let mut m = self.map_lookup(ino, &inode, pos, end - pos)?;
            if allocate && pos >= self.max_lblk(&inode) {
                return Err(Errno::EFBIG);
            }
            if allocate && m.pblk == 0 {
                m = self.fill_hole(ino, &mut inode, m, goal)?;
                changed = true;
            } else if allocate && m.unwritten {
                m = self.convert_unwritten(ino, &mut inode, m)?;
                changed = true;
            }
            if m.pblk != 0 {
                goal = m.pblk + m.len;
            }
            pos += m.len.max(1);
            out.push(m);
        }
        if changed {
            self.write_inode(ino, &inode)?;
        }
        Ok(out)
    }

    /// Reads file bytes at `off`; short at end of file.
    pub fn file_read(&mut self, ino: u32, off: u64, buf: &mut [u8]) -> KResult<usize> {
        let inode = self.read_inode(ino)?;
        if inode.is_dir() {
            return Err(Errno::EISDIR);
        }
        let size = inode.size();
        if off >= size || buf.is_empty() {
            return Ok(0);
        }
        let len = (buf.len() as u64).min(size - off) as usize;
        if self.is_inline(&inode) {
            let data = self.inline_bytes(&inode)?;
            let src = data.get(off as usize..off as usize + len).ok_or(EUCLEAN)?;
            buf[..len].copy_from_slice(src);
            return Ok(len);
        }
        let bs = self.g.block_size as u64;
        let mut done = 0usize;
        let mut iterations = 0u64;
        while done < len {
            iterations += 1;
            if iterations > 1 << 24 {
                return Err(EUCLEAN);
            }
            let pos = off + done as u64;
            let lblk = pos / bs;
            let in_block = (pos % bs) as usize;
            let last_blk = (off + len as u64 - 1) / bs;
            let m = self.map_lookup(ino, &inode, lblk, (last_blk - lblk + 1).min(MAX_RUN))?;
            let run_bytes = (m.len * bs) as usize - in_block;
            let n = run_bytes.min(len - done);
            let dst = &mut buf[done..done + n];
            if m.pblk == 0 || m.unwritten {
                dst.fill(0);
            } else {
                self.dev.read_at(m.pblk * bs + in_block as u64, dst)?;
            }
            done += n;
        }
        Ok(len)
    }

    /// Writes file bytes at `off`, allocating as needed; returns the count.
    pub fn file_write(&mut self, ino: u32, off: u64, data: &[u8]) -> KResult<usize> {
        let mut inode = self.read_inode(ino)?;
        if !inode.is_reg() {
            return Err(if inode.is_dir() { Errno::EISDIR } else { Errno::EINVAL });
        }
        if data.is_empty() {
            return Ok(0);
        }
        let max = self.g.max_file_size(inode.has_flag(FL_EXTENTS));
        if off >= max {
            return Err(Errno::EFBIG);
        }
        let len = (data.len() as u64).min(max - off) as usize;
        let (done, result) = self.write_runs(ino, &mut inode, off, &data[..len]);
        // Whatever was mapped is recorded, even when the write stopped early.
        let end = off + done as u64;
        if end > inode.size() {
            inode.set_size(end);
        }
        if done > 0 {
            let now = self.now();
            inode.set_time(Time::Modify, now);
            inode.set_time(Time::Change, now);
        }
        self.write_inode(ino, &inode)?;
        match result {
            Err(e) if done == 0 => Err(e),
            _ => Ok(done),
        }
    }

    fn write_runs(&mut self, ino: u32, inode: &mut DiskInode, off: u64, data: &[u8]) -> (usize, KResult<()>) {
        let bs = self.g.block_size as u64;
        let len = data.len();
        let first_lblk = off / bs;
        let mut goal = self.inode_goal(ino);
        if first_lblk > 0 {
            match self.map_lookup(ino, inode, first_lblk - 1, 1) {
                Ok(prev) if prev.pblk != 0 => goal = prev.pblk + 1,
                Ok(_) => {}
                Err(e) => return (0, Err(e)),
            }
        }
        let mut done = 0usize;
        while done < len {
            let pos = off + done as u64;
            let lblk = pos / bs;
            let in_block = (pos % bs) as usize;
            let last_blk = (off + len as u64 - 1) / bs;
            let step = (|| -> KResult<usize> {
                let m = self.map_lookup(ino, inode, lblk, (last_blk - lblk + 1).min(MAX_RUN))?;
                let fresh = m.pblk == 0 || m.unwritten;
                // Read the partial edges of blocks that hold data before
                // remapping anything, so an I/O error changes nothing.
                let n_est = ((m.len * bs) as usize - in_block).min(len - done);
                let blocks_est = (in_block + n_est).div_ceil(bs as usize);
                let mut edges = (None, None);
                if !fresh {
                    let mut b = vec![0u8; bs as usize];
                    if in_block != 0 {
                        self.dev.read_at(m.pblk * bs, &mut b)?;
                        edges.0 = Some(b.clone());
                    }
                    if !(in_block + n_est).is_multiple_of(bs as usize) && (blocks_est > 1 || in_block == 0) {
                        self.dev.read_at((m.pblk + blocks_est as u64 - 1) * bs, &mut b)?;
                        edges.1 = Some(b);
                    }
                }
                let m = if m.pblk == 0 {
                    self.fill_hole(ino, inode, m, goal)?
                } else if m.unwritten {
                    self.convert_unwritten(ino, inode, m)?
                } else {
                    m
                };
                let n = ((m.len * bs) as usize - in_block).min(len - done);
                let blocks = (in_block + n).div_ceil(bs as usize);
                let mut buf = vec![0u8; blocks * bs as usize];
                if let Some(h) = edges.0 {
                    buf[..bs as usize].copy_from_slice(&h);
                }
                if let Some(t) = edges.1
                    && blocks == blocks_est
                {
                    let b = (blocks - 1) * bs as usize;
                    buf[b..].copy_from_slice(&t);
                }
                buf[in_block..in_block + n].copy_from_slice(&data[done..done + n]);
                self.dev.write_at(m.pblk * bs, &buf)?;
                goal = m.pblk + blocks as u64;
                Ok(n)
            })();
            match step {
                Ok(n) => done += n,
                Err(e) => return (done, Err(e)),
            }
        }
        (done, Ok(()))
    }

    /// Writeback of page-cache pages (see `Ext4::write_pages`). With
    /// block-aligned pages each mapped run goes to the device as one
    /// vectored write straight from the pages; otherwise (blocks larger
    /// than a page) through the byte path, which merges partial blocks.
    pub fn file_write_pages(&mut self, ino: u32, off: u64, bufs: &[&[u8]], size: u64) -> KResult<()> {
        let mut inode = self.read_inode(ino)?;
        if !inode.is_reg() {
            return Err(if inode.is_dir() { Errno::EISDIR } else { Errno::EINVAL });
        }
        let bs = self.g.block_size as u64;
        let total: u64 = bufs.iter().map(|b| b.len() as u64).sum();
        let max = self.g.max_file_size(inode.has_flag(FL_EXTENTS));
        // Whole blocks up to the one holding the last byte of the file.
        let end = off.saturating_add(total).min(size.div_ceil(bs).saturating_mul(bs)).min(max);
        if end <= off {
            return if off >= max { Err(Errno::EFBIG) } else { Ok(()) };
        }
        let aligned = off.is_multiple_of(bs) && bufs.iter().all(|b| (b.len() as u64).is_multiple_of(bs));
        let (done, result) = if aligned {
            self.write_runs_vectored(ino, &mut inode, off, bufs, end)
        } else {
            let data: Vec<u8> = bufs.concat();
            let len = (end - off).min(size.saturating_sub(off)) as usize;
            let (n, r) = self.write_runs(ino, &mut inode, off, &data[..len]);
            (n as u64, r)
        };
        let new_size = (off + done).min(size);
        if new_size > inode.size() {
            inode.set_size(new_size);
        }
        self.write_inode(ino, &inode)?;
        result
    }

    /// First half of a writeback that writes without the lock (extent
    /// files with block-aligned pages): maps [off, off+total) — holes get
    /// new blocks as *unwritten* extents, which read as zeros until the
    /// second half converts them, so a commit in between exposes nothing —
    /// and returns the runs to write. None: this file takes the locked path.
    pub fn write_pages_prepare(&mut self, ino: u32, off: u64, bufs: &[&[u8]], size: u64) -> KResult<Option<Vec<WriteRun>>> {
        let mut inode = self.read_inode(ino)?;
        if !inode.is_reg() {
            return Err(if inode.is_dir() { Errno::EISDIR } else { Errno::EINVAL });
        }
        let bs = self.g.block_size as u64;
        let aligned = off.is_multiple_of(bs) && bufs.iter().all(|b| (b.len() as u64).is_multiple_of(bs));
        if !inode.has_flag(FL_EXTENTS) || !aligned {
            return Ok(None);
        }
        let total: u64 = bufs.iter().map(|b| b.len() as u64).sum();
        let max = self.g.max_file_size(true);
        let end = off.saturating_add(total).min(size.div_ceil(bs).saturating_mul(bs)).min(max);
        if end <= off {
            return if off >= max { Err(Errno::EFBIG) } else { Ok(Some(Vec::new())) };
        }
        let mut goal = self.inode_goal(ino);
        if off >= bs {
            let prev = self.map_lookup(ino, &inode, off / bs - 1, 1)?;
            if prev.pblk != 0 {
                goal = prev.pblk + 1;
            }
        }
        let mut runs = Vec::new();
        let mut pos = off;
        let mut result = Ok(());
        while pos < end {
            let lblk = pos / bs;
            let step = (|| -> KResult<Mapping> {
                let m = self.map_lookup(ino, &inode, lblk, ((end - pos) / bs).clamp(1, MAX_RUN))?;
                if m.pblk != 0 {
                    return Ok(m);
                }
                let want = m.len.min(MAX_INIT_LEN as u64 - 1) as u32;
                let (p, n) = self.alloc_and_map(ino, &mut inode, lblk, want, goal, true)?;
                Ok(Mapping { lblk, len: n, pblk: p, unwritten: true })
            })();
            match step {
                Ok(m) => {
                    let n = (m.len * bs).min(end - pos);
                    runs.push(WriteRun { from: pos, to: pos + n, pblk: m.pblk, unwritten: m.unwritten });
                    goal = m.pblk + n / bs;
                    pos += n;
                }
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        // What was mapped stays mapped (unwritten: it reads as zeros).
        self.write_inode(ino, &inode)?;
        result.map(|_| Some(runs))
    }

    /// Second half: the runs are on the device; unwritten ones become
    /// written and i_size grows to `size` at most.
    pub fn write_pages_finish(&mut self, ino: u32, runs: &[WriteRun], size: u64) -> KResult<()> {
        let bs = self.g.block_size as u64;
        let mut inode = self.read_inode(ino)?;
        for r in runs.iter().filter(|r| r.unwritten) {
            let m = Mapping { lblk: r.from / bs, len: (r.to - r.from) / bs, pblk: r.pblk, unwritten: true };
            self.convert_unwritten(ino, &mut inode, m)?;
        }
        let end = runs.last().map(|r| r.to).unwrap_or(0).min(size);
        if end > inode.size() {
            inode.set_size(end);
        }
        self.write_inode(ino, &inode)
    }

    /// Maps (allocating holes, converting unwritten runs) and writes
    /// [off, end) from `bufs`, block-aligned; returns the bytes written.
    fn write_runs_vectored(&mut self, ino: u32, inode: &mut DiskInode, off: u64, bufs: &[&[u8]], end: u64) -> (u64, KResult<()>) {
        let bs = self.g.block_size as u64;
        let mut goal = self.inode_goal(ino);
        if off >= bs {
            match self.map_lookup(ino, inode, off / bs - 1, 1) {
                Ok(prev) if prev.pblk != 0 => goal = prev.pblk + 1,
                Ok(_) => {}
                Err(e) => return (0, Err(e)),
            }
        }
        let mut pos = off;
        while pos < end {
            let step = (|| -> KResult<u64> {
                let lblk = pos / bs;
                let m = self.map_lookup(ino, inode, lblk, ((end - pos) / bs).clamp(1, MAX_RUN))?;
                let m = if m.pblk == 0 {
                    self.fill_hole(ino, inode, m, goal)?
                } else if m.unwritten {
                    self.convert_unwritten(ino, inode, m)?
                } else {
                    m
                };
                let n = (m.len * bs).min(end - pos);
                let iov = byte_slices(bufs, pos - off, pos - off + n);
                self.dev.write_vectored_at(m.pblk * bs, &iov)?;
                goal = m.pblk + n / bs;
                Ok(n)
            })();
            match step {
                Ok(n) => pos += n,
                Err(e) => return (pos - off, Err(e)),
            }
        }
        (pos - off, Ok(()))
    }

    /// Sets the file size, freeing blocks past a new end and zeroing the
    /// tail of a partial last block.
    pub fn truncate_inode(&mut self, ino: u32, inode: &mut DiskInode, size: u64) -> KResult<()> {
        let max = self.g.max_file_size(inode.has_flag(FL_EXTENTS));
        if size > max {
            return Err(Errno::EFBIG);
        }
        let bs = self.g.block_size as u64;
        let old = inode.size();
        if size < old || size == 0 {
            if !size.is_multiple_of(bs) {
                let m = self.map_lookup(ino, inode, size / bs, 1)?;
                if m.pblk != 0 && !m.unwritten {
                    let mut b = vec![0u8; bs as usize];
                    self.dev.read_at(m.pblk * bs, &mut b)?;
                    b[(size % bs) as usize..].fill(0);
                    self.dev.write_at(m.pblk * bs, &b)?;
                }
            }
            self.map_remove(ino, inode, size.div_ceil(bs), u64::MAX)?;
        }
        inode.set_size(size);
        Ok(())
    }

    /// Allocates unwritten extents over the holes of [off, off+len)
    /// (fallocate mode 0 or KEEP_SIZE). Extent-mapped files only.
    pub fn fallocate(&mut self, ino: u32, off: u64, len: u64, keep_size: bool) -> KResult<()> {
        let mut inode = self.read_inode(ino)?;
        if !inode.is_reg() {
            return Err(Errno::ENODEV);
        }
        if !inode.has_flag(FL_EXTENTS) {
            return Err(Errno::EOPNOTSUPP);
        }
        let end = off.checked_add(len).ok_or(Errno::EFBIG)?;
        if end > self.g.max_file_size(true) {
            return Err(Errno::EFBIG);
        }
        let bs = self.g.block_size as u64;
        let mut lblk = off / bs;
        let last = end.div_ceil(bs);
        let mut goal = self.inode_goal(ino);
        while lblk < last {
            let m = self.map_lookup(ino, &inode, lblk, last - lblk)?;
            if m.pblk == 0 {
                let want = m.len.min(MAX_INIT_LEN as u64 - 1) as u32;
                let (p, n) = match self.alloc_and_map(ino, &mut inode, lblk, want, goal, true) {
                    Ok(r) => r,
                    Err(e) => {
                        // What was allocated so far stays (Linux keeps it too).
                        self.write_inode(ino, &inode)?;
                        return Err(e);
                    }
                };
                goal = p + n;
                lblk += n;
            } else {
                goal = m.pblk + m.len;
                lblk += m.len;
            }
        }
        if !keep_size && end > inode.size() {
            inode.set_size(end);
        }
        let now = self.now();
        inode.set_time(Time::Change, now);
        self.write_inode(ino, &inode)
    }

    /// Frees [off, off+len) (fallocate PUNCH_HOLE); partial blocks are zeroed.
    pub fn punch_hole(&mut self, ino: u32, off: u64, len: u64) -> KResult<()> {
        let mut inode = self.read_inode(ino)?;
        if !inode.is_reg() {
            return Err(Errno::ENODEV);
        }
        let bs = self.g.block_size as u64;
        let end = off.saturating_add(len).min(inode.size());
        if off >= end {
            return Ok(());
        }
        let first_full = off.div_ceil(bs);
        let last_full = end / bs;
        // Zero the partial edges in place.
        for (a, b) in [(off, (first_full * bs).min(end)), ((last_full * bs).max(off), end)] {
            if a < b {
                let m = self.map_lookup(ino, &inode, a / bs, 1)?;
                if m.pblk != 0 && !m.unwritten {
                    let zeros = vec![0u8; (b - a) as usize];
                    self.dev.write_at(m.pblk * bs + a % bs, &zeros)?;
                }
            }
        }
        if first_full < last_full {
            self.map_remove(ino, &mut inode, first_full, last_full)?;
        }
        let now = self.now();
        inode.set_time(Time::Modify, now);
        inode.set_time(Time::Change, now);
        self.write_inode(ino, &inode)
    }
}

/// The pieces of consecutive buffers covering bytes [from, to) of their
/// concatenation.
pub fn byte_slices<'a>(bufs: &[&'a [u8]], from: u64, to: u64) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut base = 0u64;
    for b in bufs {
        let (start, end) = (base, base + b.len() as u64);
        if end > from && start < to {
            let lo = from.max(start) - start;
            let hi = to.min(end) - start;
            out.push(&b[lo as usize..hi as usize]);
        }
        base = end;
        if base >= to {
            break;
        }
    }
    out
}
