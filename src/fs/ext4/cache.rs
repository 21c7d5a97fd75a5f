//! The metadata buffer cache: filesystem blocks by number, bounded in size.
//! A block changed in the running transaction is pinned until it commits;
//! a committed block may be written home (checkpointed) at any time, and is
//! written home before it is evicted. File data never lives here: the page
//! cache above the engine owns it. Used only under `Ext4`'s one lock.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

use super::{EUCLEAN, KResult};
use crate::block::BlockDevice;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    /// Same as on disk.
    Clean,
    /// Changed in the running transaction: must not reach its home location
    /// before that transaction commits.
    Running,
    /// Committed to the journal (or not journaled) but not yet at home.
    Committed,
}

struct Entry {
    data: Box<[u8]>,
    state: State,
}

pub struct BufferCache {
    dev: Arc<dyn BlockDevice>,
    bs: usize,
    blocks_count: u64,
    map: HashMap<u64, Entry>,
    /// Insertion order, for eviction (second chance for pinned entries).
    order: VecDeque<u64>,
    running: BTreeSet<u64>,
    committed: BTreeSet<u64>,
    cap: usize,
}

impl BufferCache {
    pub fn new(dev: Arc<dyn BlockDevice>, bs: usize, blocks_count: u64, cap: usize) -> BufferCache {
        BufferCache {
            dev,
            bs,
            blocks_count,
            map: HashMap::new(),
            order: VecDeque::new(),
            running: BTreeSet::new(),
            committed: BTreeSet::new(),
            cap: cap.max(64),
        }
    }

    pub fn dev(&self) -> &Arc<dyn BlockDevice> {
        &self.dev
    }

    fn check(&self, blk: u64) -> KResult<()> {
        // Block 0 holds the boot sector and (for 4 KiB blocks) the primary
        // superblock; no metadata pointer may name it except through the
        // superblock code, which reads it directly.
        if blk >= self.blocks_count { Err(EUCLEAN) } else { Ok(()) }
    }

    fn load(&mut self, blk: u64) -> KResult<()> {
        self.check(blk)?;
        if self.map.contains_key(&blk) {
            return Ok(());
        }
        let mut data = vec![0u8; self.bs].into_boxed_slice();
        self.dev.read_at(blk * self.bs as u64, &mut data)?;
        self.insert(blk, Entry { data, state: State::Clean })
    }

    fn insert(&mut self, blk: u64, e: Entry) -> KResult<()> {
        self.evict_if_full()?;
        self.map.insert(blk, e);
        self.order.push_back(blk);
        Ok(())
    }

    fn evict_if_full(&mut self) -> KResult<()> {
        let mut tries = self.order.len();
        while self.map.len() >= self.cap && tries > 0 {
            tries -= 1;
            let Some(blk) = self.order.pop_front() else { break };
            let Some(e) = self.map.get(&blk) else { continue };
            match e.state {
                State::Running => self.order.push_back(blk),
                State::Committed => {
                    self.dev.write_at(blk * self.bs as u64, &e.data)?;
                    self.committed.remove(&blk);
                    self.map.remove(&blk);
                }
                State::Clean => {
                    self.map.remove(&blk);
                }
            }
        }
        Ok(())
    }

    /// The block's bytes, read from disk if not cached.
    pub fn get(&mut self, blk: u64) -> KResult<&[u8]> {
        self.load(blk)?;
        self.map.get(&blk).map(|e| &e.data[..]).ok_or(EUCLEAN)
    }

    /// The block's bytes for changing: the block joins the running
    /// transaction.
    pub fn get_mut(&mut self, blk: u64) -> KResult<&mut [u8]> {
        self.load(blk)?;
        self.home_if_committed(blk)?;
        self.running.insert(blk);
        self.committed.remove(&blk);
        let e = self.map.get_mut(&blk).ok_or(EUCLEAN)?;
        e.state = State::Running;
        Ok(&mut e.data[..])
    }

    /// A freshly allocated block: zeroed without reading the disk, and part
    /// of the running transaction.
    pub fn get_new(&mut self, blk: u64) -> KResult<&mut [u8]> {
        self.check(blk)?;
        if !self.map.contains_key(&blk) {
            let data = vec![0u8; self.bs].into_boxed_slice();
            self.insert(blk, Entry { data, state: State::Clean })?;
        }
        self.home_if_committed(blk)?;
        self.running.insert(blk);
        self.committed.remove(&blk);
        let e = self.map.get_mut(&blk).ok_or(EUCLEAN)?;
        e.data.fill(0);
        e.state = State::Running;
        Ok(&mut e.data[..])
    }

    /// A committed block about to change again: its committed contents go
    /// home first, so a checkpoint that empties the log never leaves the
    /// last committed version of a block nowhere but in the old log.
    fn home_if_committed(&mut self, blk: u64) -> KResult<()> {
        if let Some(e) = self.map.get_mut(&blk)
            && e.state == State::Committed
        {
            self.dev.write_at(blk * self.bs as u64, &e.data)?;
            e.state = State::Clean;
            self.committed.remove(&blk);
        }
        Ok(())
    }

    /// Whether the block is cached (for read paths that bypass the cache).
    pub fn contains(&self, blk: u64) -> bool {
        self.map.contains_key(&blk)
    }

    /// A freed block: whatever was pending for it must never reach the disk.
    pub fn forget(&mut self, blk: u64) {
        self.map.remove(&blk);
        self.running.remove(&blk);
        self.committed.remove(&blk);
    }

    /// Drops every clean entry (after journal replay rewrote the disk).
    pub fn drop_all(&mut self) {
        self.map.clear();
        self.order.clear();
        self.running.clear();
        self.committed.clear();
    }

    /// Every cached block number (tests: where the metadata is).
    pub fn cached(&self) -> Vec<u64> {
        self.map.keys().copied().collect()
    }

    pub fn running_count(&self) -> usize {
        self.running.len()
    }

    /// The running transaction's blocks and their contents, in block order.
    pub fn running_blocks(&self) -> Vec<(u64, &[u8])> {
        self.running.iter().filter_map(|b| self.map.get(b).map(|e| (*b, &e.data[..]))).collect()
    }

    /// The running transaction committed: its blocks may now go home.
    pub fn mark_committed(&mut self) {
        for b in std::mem::take(&mut self.running) {
            if let Some(e) = self.map.get_mut(&b) {
                e.state = State::Committed;
                self.committed.insert(b);
            }
        }
    }

    /// Some blocks of the running transaction were logged (one piece of a
    /// transaction too large for the log).
    pub fn mark_committed_some(&mut self, blocks: &[u64]) {
        for b in blocks {
            if self.running.remove(b)
                && let Some(e) = self.map.get_mut(b)
            {
                e.state = State::Committed;
                self.committed.insert(*b);
            }
        }
    }

    /// Writes every committed block home, contiguous runs in one call.
    pub fn write_back_committed(&mut self) -> KResult<()> {
        let blocks: Vec<u64> = self.committed.iter().copied().collect();
        let mut i = 0;
        while i < blocks.len() {
            let mut j = i + 1;
            while j < blocks.len() && blocks[j] == blocks[j - 1] + 1 && j - i < 256 {
                j += 1;
            }
            let bufs: Vec<&[u8]> = blocks[i..j].iter().filter_map(|b| self.map.get(b).map(|e| &e.data[..])).collect();
            self.dev.write_vectored_at(blocks[i] * self.bs as u64, &bufs)?;
            i = j;
        }
        for b in blocks {
            if let Some(e) = self.map.get_mut(&b) {
                e.state = State::Clean;
            }
        }
        self.committed.clear();
        Ok(())
    }

    pub fn has_committed(&self) -> bool {
        !self.committed.is_empty()
    }
}
