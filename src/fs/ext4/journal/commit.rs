//! Writing the journal: opening it at mount (recovering first if needed),
//! committing the running transaction (revoke blocks, descriptor blocks
//! with their tags, the logged metadata, then — after a flush that also
//! makes the ordered file data durable — the commit block), checkpointing
//! committed blocks home, and closing it cleanly at unmount. Without a
//! journal a commit writes the changed blocks home directly.

use super::replay::recover;
use super::*;
use crate::fs::ext4::fs::Inner;
use crate::fs::ext4::superblock::{INCOMPAT_RECOVER, S_FEATURE_INCOMPAT, S_MNT_COUNT, S_MTIME, S_STATE, STATE_VALID, Superblock};

impl Inner {
    /// Finds the journal, replays it if the last mount did not end cleanly.
    pub fn open_journal(&mut self) -> KResult<()> {
        let ino = self.g.journal_inum;
        if ino == 0 || ino > self.g.inodes_count {
            return Err(EUCLEAN);
        }
        let inode = self.read_inode(ino)?;
        let bs = self.g.bs() as u64;
        let blocks = inode.size() / bs;
        if !(64..=(1 << 24)).contains(&blocks) || blocks > self.g.blocks_count {
            return Err(EUCLEAN);
        }
        let mut map = Vec::new();
        let mut lblk = 0u64;
        while lblk < blocks {
            let m = self.map_lookup(ino, &inode, lblk, blocks - lblk)?;
            if m.pblk == 0 || m.unwritten {
                return Err(EUCLEAN);
            }
            self.check_data_run(m.pblk, m.len)?;
            map.push((lblk as u32, m.pblk, m.len as u32));
            lblk += m.len;
        }
        let mut sb = vec![0u8; bs as usize];
        let first = map.first().map(|m| m.1).ok_or(EUCLEAN)?;
        self.dev.read_at(first * bs, &mut sb)?;
        let mut j = Journal::load(sb, map.clone(), bs as usize, blocks)?;
        if j.needs_recovery() {
            if self.dev.read_only() {
                if cfg!(not(test)) {
                    eprintln!("vkernel: ext4: the journal needs recovery but the device is read-only");
                }
                return Err(Errno::EROFS);
            }
            let end = recover(self.dev.as_ref(), &j, self.g.blocks_count)?;
            j.sequence = end.wrapping_add(1);
            bw32(&mut j.sb, JS_START, 0);
            bw32(&mut j.sb, JS_SEQUENCE, j.sequence);
            j.seal_sb();
            self.dev.write_at(first * bs, &j.sb)?;
            // The replay rewrote metadata under us: start again from disk.
            self.cache.drop_all();
            self.verified.clear();
            let mut raw = vec![0u8; 1024];
            self.dev.read_at(SUPERBLOCK_OFFSET_BYTES, &mut raw)?;
            let (sb, g) = Superblock::parse(raw, self.dev.size())?;
            self.sb = sb;
            self.g = g;
            if self.read_only {
                let v = self.sb.get32(S_FEATURE_INCOMPAT) & !INCOMPAT_RECOVER;
                self.sb.set32(S_FEATURE_INCOMPAT, v);
                self.sb.update_csum();
                self.dev.write_at(SUPERBLOCK_OFFSET_BYTES, &self.sb.raw)?;
            }
            self.dev.flush()?;
            self.check_group_descs()?;
        }
        self.journal_extents = map;
        self.journal = Some(j);
        Ok(())
    }

    /// A read-write mount begins: the journal is reset to an empty log and
    /// the superblock says needs_recovery until a clean unmount.
    pub fn start_writing(&mut self) -> KResult<()> {
        let (csum, is_64) = (self.g.has_csum(), self.g.is_64bit());
        if let Some(j) = self.journal.as_mut() {
            j.set_features(csum, is_64);
            j.head = j.first;
            j.used = 0;
            bw32(&mut j.sb, JS_START, j.first);
            bw32(&mut j.sb, JS_SEQUENCE, j.sequence);
            bw32(&mut j.sb, JS_ERRNO, 0);
            j.seal_sb();
            let at = j.pblk(0)? * j.bs as u64;
            self.dev.write_at(at, &j.sb)?;
            let v = self.sb.get32(S_FEATURE_INCOMPAT) | INCOMPAT_RECOVER;
            self.sb.set32(S_FEATURE_INCOMPAT, v);
        } else {
            let s = self.sb.get16(S_STATE) & !STATE_VALID;
            self.sb.set16(S_STATE, s);
        }
        let n = self.sb.get16(S_MNT_COUNT).wrapping_add(1);
        self.sb.set16(S_MNT_COUNT, n);
        let now = self.now();
        self.sb.set32(S_MTIME, now.tv_sec as u32);
        self.write_sb_direct()?;
        self.dev.flush()
    }

    /// Commits the running transaction.
    pub fn commit(&mut self) -> KResult<()> {
        if self.read_only {
            return Ok(());
        }
        if self.errored {
            return Err(Errno::EROFS);
        }
        if let Some(b) = self.commit_budget {
            if b == 0 {
                // The test hook's power cut: nothing more reaches the disk.
                self.errored = true;
                return Err(Errno::EIO);
            }
            self.commit_budget = Some(b - 1);
        }
        self.tx_started = None;
        self.apply_pending_frees()?;
        let revokes_pending = self.journal.as_ref().is_some_and(|j| !j.revokes.is_empty());
        if self.cache.running_count() == 0 && !self.sb_dirty && !revokes_pending {
            return Ok(());
        }
        self.sb_to_cache()?;
        if self.journal.is_none() {
            self.cache.mark_committed();
            return self.cache.write_back_committed();
        }
        self.journal_commit()
    }

    fn journal_commit(&mut self) -> KResult<()> {
        let blocks: Vec<(u64, Vec<u8>)> = self.cache.running_blocks().into_iter().map(|(b, d)| (b, d.to_vec())).collect();
        let Some(j) = self.journal.as_mut() else { return Ok(()) };
        let logged: HashSet<u64> = blocks.iter().map(|(b, _)| *b).collect();
        let mut revokes: Vec<u64> = std::mem::take(&mut j.revokes).into_iter().filter(|b| !logged.contains(b)).collect();
        revokes.sort_unstable();
        revokes.dedup();
        // An operation that changed more blocks than the log holds (a huge
        // fragmented truncate) is logged as several transactions: each is
        // atomic, as Linux's transaction restarts are.
        let piece = (j.capacity() / 2) as usize;
        let mut first = true;
        for chunk in blocks.chunks(piece.max(1)) {
            let rv = if first { std::mem::take(&mut revokes) } else { Vec::new() };
            first = false;
            self.log_transaction(chunk, &rv)?;
            // Logged: a checkpoint before the next piece must write these home.
            let nums: Vec<u64> = chunk.iter().map(|(b, _)| *b).collect();
            self.cache.mark_committed_some(&nums);
            if let Some(j) = self.journal.as_mut() {
                j.journaled.extend(nums);
            }
        }
        if blocks.is_empty() {
            self.log_transaction(&[], &revokes)?;
        }
        let j = self.journal.as_mut().ok_or(EUCLEAN)?;
        let half = j.used > j.capacity() / 2;
        self.cache.mark_committed();
        if half {
            self.checkpoint()?;
        }
        Ok(())
    }

    fn log_transaction(&mut self, blocks: &[(u64, Vec<u8>)], revokes: &[u64]) -> KResult<()> {
        let Some(j) = self.journal.as_mut() else { return Ok(()) };
        let bs = j.bs;
        let tb = j.tag_bytes();
        let tail = j.tail_bytes();
        let space = bs - 12 - tail;
        let per_desc = 1 + (space - (tb + 16)) / tb;
        let rec = if j.is_64() { 8 } else { 4 };
        let per_revoke = (bs - 16 - tail) / rec;
        let descs = blocks.len().div_ceil(per_desc);
        let revs = revokes.len().div_ceil(per_revoke);
        let total = (blocks.len() + descs + revs + 1) as u32;
        if total + 1 > j.capacity() {
            return Err(EUCLEAN);
        }
        if j.used + total > j.capacity() {
            self.checkpoint()?;
        }
        let Some(j) = self.journal.as_mut() else { return Ok(()) };
        let seq = j.sequence;
        let mut writes: Vec<(u32, Vec<u8>)> = Vec::with_capacity(total as usize);
        let mut pos = j.head;
        let header = |bt: u32| {
            let mut b = vec![0u8; bs];
            bw32(&mut b, 0, JBD2_MAGIC);
            bw32(&mut b, 4, bt);
            bw32(&mut b, 8, seq);
            b
        };
        for chunk in revokes.chunks(per_revoke.max(1)) {
            let mut b = header(BT_REVOKE);
            let mut off = 16;
            for &blk in chunk {
                if rec == 8 {
                    bw64(&mut b, off, blk);
                } else {
                    bw32(&mut b, off, blk as u32);
                }
                off += rec;
            }
            bw32(&mut b, 12, off as u32);
            if j.has_csum() {
                let c = j.block_tail_csum(&b);
                bw32(&mut b, bs - 4, c);
            }
            writes.push((pos, b));
            pos = j.advance(pos, 1);
        }
        let uuid: Vec<u8> = j.sb[JS_UUID..JS_UUID + 16].to_vec();
        for chunk in blocks.chunks(per_desc.max(1)) {
            let mut d = header(BT_DESCRIPTOR);
            let desc_pos = pos;
            pos = j.advance(pos, 1);
            let mut off = 12;
            let mut data_writes = Vec::with_capacity(chunk.len());
            for (i, (blk, data)) in chunk.iter().enumerate() {
                let mut out = data.clone();
                let mut flags = 0;
                if b32(&out, 0) == JBD2_MAGIC {
                    bw32(&mut out, 0, 0);
                    flags |= TAG_ESCAPE;
                }
                if i > 0 {
                    flags |= TAG_SAME_UUID;
                }
                if i + 1 == chunk.len() {
                    flags |= TAG_LAST;
                }
                let csum = if j.has_csum() { j.tag_csum(seq, &out) } else { 0 };
                bw32(&mut d, off, *blk as u32);
                if j.csum_v3() {
                    bw32(&mut d, off + 4, flags);
                    bw32(&mut d, off + 8, (*blk >> 32) as u32);
                    bw32(&mut d, off + 12, csum);
                } else {
                    bw32(&mut d, off + 4, ((csum & 0xffff) << 16) | flags);
                    if j.is_64() {
                        bw32(&mut d, off + 8, (*blk >> 32) as u32);
                    }
                }
                off += tb;
                if i == 0 {
                    d[off..off + 16].copy_from_slice(&uuid);
                    off += 16;
                }
                data_writes.push((pos, out));
                pos = j.advance(pos, 1);
            }
            if j.has_csum() {
                let c = j.block_tail_csum(&d);
                bw32(&mut d, bs - 4, c);
            }
            writes.push((desc_pos, d));
            writes.extend(data_writes);
        }
        let mut c = header(BT_COMMIT);
        let now = (self.clock)();
        bw64(&mut c, 0x30, now.tv_sec as u64);
        bw32(&mut c, 0x38, now.tv_nsec as u32);
        let j = self.journal.as_ref().ok_or(EUCLEAN)?;
        if j.has_csum() {
            let s = j.commit_csum(&c);
            bw32(&mut c, 16, s);
        }
        let commit_pos = pos;
        // Log blocks in as few device calls as their layout allows.
        writes.sort_by_key(|(p, _)| *p);
        let mut i = 0;
        while i < writes.len() {
            let start = j.pblk(writes[i].0)?;
            let mut k = i + 1;
            while k < writes.len() && writes[k].0 == writes[k - 1].0 + 1 && j.pblk(writes[k].0)? == start + (k - i) as u64 && k - i < 256 {
                k += 1;
            }
            let bufs: Vec<&[u8]> = writes[i..k].iter().map(|(_, b)| &b[..]).collect();
            self.dev.write_vectored_at(start * bs as u64, &bufs)?;
            i = k;
        }
        // Ordered mode: file data and the log reach the disk before the
        // commit block can.
        self.dev.flush()?;
        self.dev.write_at(j.pblk(commit_pos)? * bs as u64, &c)?;
        self.dev.flush()?;
        let j = self.journal.as_mut().ok_or(EUCLEAN)?;
        j.head = j.advance(commit_pos, 1);
        j.used += total;
        j.sequence = seq.wrapping_add(1);
        Ok(())
    }

    /// Writes committed blocks home and empties the log.
    pub fn checkpoint(&mut self) -> KResult<()> {
        if self.read_only || self.errored {
            return Ok(());
        }
        self.cache.write_back_committed()?;
        let Some(j) = self.journal.as_mut() else { return Ok(()) };
        if j.used == 0 {
            return Ok(());
        }
        self.dev.flush()?;
        let j = self.journal.as_mut().ok_or(EUCLEAN)?;
        j.used = 0;
        j.journaled.clear();
        bw32(&mut j.sb, JS_START, j.head);
        bw32(&mut j.sb, JS_SEQUENCE, j.sequence);
        j.seal_sb();
        let at = j.pblk(0)? * j.bs as u64;
        let sb = j.sb.clone();
        self.dev.write_at(at, &sb)?;
        self.dev.flush()
    }

    /// Clean unmount: the log is empty and marked so; needs_recovery cleared.
    pub fn close_journal(&mut self) -> KResult<()> {
        if let Some(j) = self.journal.as_mut() {
            bw32(&mut j.sb, JS_START, 0);
            bw32(&mut j.sb, JS_SEQUENCE, j.sequence);
            j.seal_sb();
            let at = j.pblk(0)? * j.bs as u64;
            let sb = j.sb.clone();
            self.dev.write_at(at, &sb)?;
            self.dev.flush()?;
            let v = self.sb.get32(S_FEATURE_INCOMPAT) & !INCOMPAT_RECOVER;
            self.sb.set32(S_FEATURE_INCOMPAT, v);
        }
        let s = self.sb.get16(S_STATE) | STATE_VALID;
        self.sb.set16(S_STATE, s);
        self.write_sb_direct()?;
        self.dev.flush()
    }
}

const SUPERBLOCK_OFFSET_BYTES: u64 = crate::fs::ext4::superblock::SUPERBLOCK_OFFSET;
