//! Extent trees: lookup, insert (merging with neighbours, splitting full
//! nodes, growing the tree in depth) and range removal (trimming, splitting
//! and freeing extents and emptied nodes). Every node read is checked (magic,
//! counts, depth, order, checksum) before it is trusted; every index key is
//! kept equal to the first key below it, as e2fsck expects.

use super::csum::crc32c;
use super::fs::Inner;
use super::inode::DiskInode;
use super::layout::*;
use super::{EUCLEAN, KResult};

pub const EXT_MAGIC: u16 = 0xF30A;
const HDR: usize = 12;
const ENTRY: usize = 12;
/// Longest initialized extent, and longest unwritten one.
pub const MAX_INIT_LEN: u32 = 32768;
pub const MAX_UNWRITTEN_LEN: u32 = 32767;
const MAX_DEPTH: u16 = 5;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Extent {
    pub lblk: u32,
    pub len: u32,
    pub pblk: u64,
    pub unwritten: bool,
}

impl Extent {
    pub fn end(&self) -> u64 {
        self.lblk as u64 + self.len as u64
    }
}

/// The answer of a lookup: the extent covering the block, or the hole up to
/// the next mapped block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    Mapped(Extent),
    Hole { next: Option<u32> },
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum NodeRef {
    Root,
    Block(u64),
}

/// A tree node in memory: its header fields and raw entries.
#[derive(Clone)]
struct Node {
    at: NodeRef,
    depth: u16,
    max: u16,
    entries: Vec<[u8; ENTRY]>,
}

fn parse_extent(e: &[u8]) -> Extent {
    let raw_len = r16(e, 4) as u32;
    let (len, unwritten) = if raw_len > MAX_INIT_LEN { (raw_len - MAX_INIT_LEN, true) } else { (raw_len, false) };
    Extent { lblk: r32(e, 0), len, pblk: r32(e, 8) as u64 | (r16(e, 6) as u64) << 32, unwritten }
}

fn store_extent(x: &Extent) -> [u8; ENTRY] {
    let mut e = [0u8; ENTRY];
    w32(&mut e, 0, x.lblk);
    w16(&mut e, 4, if x.unwritten { (x.len + MAX_INIT_LEN) as u16 } else { x.len as u16 });
    w16(&mut e, 6, (x.pblk >> 32) as u16);
    w32(&mut e, 8, x.pblk as u32);
    e
}

fn index_key(e: &[u8]) -> u32 {
    r32(e, 0)
}

fn index_child(e: &[u8]) -> u64 {
    r32(e, 4) as u64 | (r16(e, 8) as u64) << 32
}

fn store_index(key: u32, child: u64) -> [u8; ENTRY] {
    let mut e = [0u8; ENTRY];
    w32(&mut e, 0, key);
    w32(&mut e, 4, child as u32);
    w16(&mut e, 8, (child >> 32) as u16);
    e
}

impl Node {
    fn is_full(&self) -> bool {
        self.entries.len() >= self.max as usize
    }
    fn first_key(&self) -> Option<u32> {
        self.entries.first().map(|e| r32(e, 0))
    }
}

/// An empty extent root for a new inode's i_block.
pub fn init_root(i_block: &mut [u8]) {
    i_block.fill(0);
    w16(i_block, 0, EXT_MAGIC);
    w16(i_block, 2, 0);
    w16(i_block, 4, 4);
    w16(i_block, 6, 0);
}

impl Inner {
    fn block_capacity(&self) -> u16 {
        ((self.g.bs() - HDR) / ENTRY) as u16
    }

    fn parse_node(&self, at: NodeRef, b: &[u8], want_depth: Option<u16>, seed: u32) -> KResult<Node> {
        let cap = match at {
            NodeRef::Root => 4,
            NodeRef::Block(_) => self.block_capacity(),
        };
        if r16(b, 0) != EXT_MAGIC {
            return Err(EUCLEAN);
        }
        let entries = r16(b, 2);
        let max = r16(b, 4);
        let depth = r16(b, 6);
        if max == 0 || max > cap || entries > max || depth > MAX_DEPTH || want_depth.is_some_and(|d| d != depth) {
            return Err(EUCLEAN);
        }
        if let NodeRef::Block(_) = at
            && self.g.has_csum()
        {
            let tail = HDR + ENTRY * max as usize;
            if tail + 4 > b.len() || crc32c(seed, &b[..tail]) != r32(b, tail) {
                return Err(EUCLEAN);
            }
        }
        let mut out = Vec::with_capacity(entries as usize);
        let mut prev_end: u64 = 0;
        for i in 0..entries as usize {
            let mut e = [0u8; ENTRY];
            e.copy_from_slice(b.get(HDR + i * ENTRY..HDR + (i + 1) * ENTRY).ok_or(EUCLEAN)?);
            if depth == 0 {
                let x = parse_extent(&e);
                if x.len == 0 || (x.lblk as u64) < prev_end || x.end() > 1 << 32 {
                    return Err(EUCLEAN);
                }
                self.check_data_run(x.pblk, x.len as u64)?;
                prev_end = x.end();
            } else {
                let k = index_key(&e) as u64;
                if i > 0 && k < prev_end {
                    return Err(EUCLEAN);
                }
                self.check_data_run(index_child(&e), 1)?;
                prev_end = k + 1;
            }
            out.push(e);
        }
        Ok(Node { at, depth, max, entries: out })
    }

    fn read_node(&mut self, inode: &DiskInode, at: NodeRef, want_depth: Option<u16>, seed: u32) -> KResult<Node> {
        match at {
            NodeRef::Root => self.parse_node(at, inode.i_block(), want_depth, seed),
            NodeRef::Block(b) => {
                let data = self.cache.get(b)?.to_vec();
                self.parse_node(at, &data, want_depth, seed)
            }
        }
    }

    fn write_node(&mut self, inode: &mut DiskInode, node: &Node, seed: u32) -> KResult<()> {
        let mut hdr = [0u8; HDR];
        w16(&mut hdr, 0, EXT_MAGIC);
        w16(&mut hdr, 2, node.entries.len() as u16);
        w16(&mut hdr, 4, node.max);
        w16(&mut hdr, 6, node.depth);
        match node.at {
            NodeRef::Root => {
                let b = inode.i_block_mut();
                b.fill(0);
                b[..HDR].copy_from_slice(&hdr);
                for (i, e) in node.entries.iter().enumerate().take(4) {
                    b[HDR + i * ENTRY..HDR + (i + 1) * ENTRY].copy_from_slice(e);
                }
                Ok(())
            }
            NodeRef::Block(blk) => {
                let csum = self.g.has_csum();
                let buf = self.cache.get_mut(blk)?;
                buf.fill(0);
                buf[..HDR].copy_from_slice(&hdr);
                for (i, e) in node.entries.iter().enumerate() {
                    if let Some(dst) = buf.get_mut(HDR + i * ENTRY..HDR + (i + 1) * ENTRY) {
                        dst.copy_from_slice(e);
                    }
                }
                if csum {
                    let tail = HDR + ENTRY * node.max as usize;
                    let c = crc32c(seed, &buf[..tail]);
                    w32(buf, tail, c);
                }
                Ok(())
            }
        }
    }

    /// Finds the extent mapping `lblk`, or the hole around it.
    pub fn ext_lookup(&mut self, ino: u32, inode: &DiskInode, lblk: u32) -> KResult<Lookup> {
        let seed = self.inode_seed(ino, inode.generation());
        let mut node = self.read_node(inode, NodeRef::Root, None, seed)?;
        // The next key to the right seen in any ancestor: where a hole ends
        // when the leaf has nothing further.
        let mut next_right: Option<u32> = None;
        for _ in 0..=MAX_DEPTH {
            if node.depth == 0 {
                for e in &node.entries {
                    let x = parse_extent(e);
                    if lblk < x.lblk {
                        return Ok(Lookup::Hole { next: Some(x.lblk) });
                    }
                    if (lblk as u64) < x.end() {
                        return Ok(Lookup::Mapped(x));
                    }
                }
                return Ok(Lookup::Hole { next: next_right });
            }
            let i = node.entries.iter().rposition(|e| index_key(e) <= lblk).unwrap_or(0);
            let Some(e) = node.entries.get(i) else {
                return Ok(Lookup::Hole { next: None });
            };
            if let Some(n) = node.entries.get(i + 1) {
                next_right = Some(index_key(n));
            }
            let child = index_child(e);
            node = self.read_node(inode, NodeRef::Block(child), Some(node.depth - 1), seed)?;
        }
        Err(EUCLEAN)
    }

    /// The nodes from the root to the leaf that should hold `lblk`, with the
    /// index entry taken at each index level.
    fn find_path(&mut self, inode: &DiskInode, lblk: u32, seed: u32) -> KResult<Vec<(Node, usize)>> {
        let mut path = Vec::new();
        let mut node = self.read_node(inode, NodeRef::Root, None, seed)?;
        for _ in 0..=MAX_DEPTH {
            if node.depth == 0 {
                path.push((node, 0));
                return Ok(path);
            }
            if node.entries.is_empty() {
                return Err(EUCLEAN);
            }
            let i = node.entries.iter().rposition(|e| index_key(e) <= lblk).unwrap_or(0);
            let child = index_child(&node.entries[i]);
            let depth = node.depth;
            path.push((node, i));
            node = self.read_node(inode, NodeRef::Block(child), Some(depth - 1), seed)?;
        }
        Err(EUCLEAN)
    }

    /// After a node's first key changed, makes the index keys above it equal.
    fn fix_keys(&mut self, inode: &mut DiskInode, path: &mut [(Node, usize)], level: usize, seed: u32) -> KResult<()> {
        let mut level = level;
        while level > 0 {
            let Some(key) = path[level].0.first_key() else { return Ok(()) };
            let (parent, i) = &mut path[level - 1];
            let Some(e) = parent.entries.get_mut(*i) else { return Ok(()) };
            if index_key(e) == key {
                return Ok(());
            }
            w32(e, 0, key);
            let p = parent.clone();
            self.write_node(inode, &p, seed)?;
            if *i != 0 {
                return Ok(());
            }
            level -= 1;
        }
        Ok(())
    }

    /// Maps `x` (which must not overlap an existing extent) into the tree.
    /// May allocate tree blocks near `goal`; keeps i_blocks right.
    pub fn ext_insert(&mut self, ino: u32, inode: &mut DiskInode, x: Extent) -> KResult<()> {
        let seed = self.inode_seed(ino, inode.generation());
        for _ in 0..(2 * MAX_DEPTH as usize + 4) {
            let mut path = self.find_path(inode, x.lblk, seed)?;
            let leaf_level = path.len() - 1;
            let leaf = &mut path[leaf_level].0;
            let pos = leaf.entries.iter().position(|e| r32(e, 0) > x.lblk).unwrap_or(leaf.entries.len());
            if let Some(prev) = pos.checked_sub(1).map(|p| parse_extent(&leaf.entries[p]))
                && prev.end() > x.lblk as u64
            {
                return Err(EUCLEAN);
            }
            if let Some(e) = leaf.entries.get(pos)
                && x.end() > r32(e, 0) as u64
            {
                return Err(EUCLEAN);
            }
            let limit = if x.unwritten { MAX_UNWRITTEN_LEN } else { MAX_INIT_LEN };
            // Merge with the left neighbour.
            if pos > 0 {
                let mut prev = parse_extent(&leaf.entries[pos - 1]);
                if prev.unwritten == x.unwritten && prev.end() == x.lblk as u64 && prev.pblk + prev.len as u64 == x.pblk && prev.len + x.len <= limit {
                    prev.len += x.len;
                    // And with the right one, if the new run closes a gap.
                    if let Some(next) = leaf.entries.get(pos).map(|e| parse_extent(e))
                        && next.unwritten == x.unwritten
                        && next.lblk as u64 == prev.end()
                        && prev.pblk + prev.len as u64 == next.pblk
                        && prev.len + next.len <= limit
                    {
                        prev.len += next.len;
                        leaf.entries.remove(pos);
                    }
                    leaf.entries[pos - 1] = store_extent(&prev);
                    let l = leaf.clone();
                    self.write_node(inode, &l, seed)?;
                    return Ok(());
                }
            }
            // Merge with the right neighbour.
            if let Some(mut next) = leaf.entries.get(pos).map(|e| parse_extent(e))
                && next.unwritten == x.unwritten
                && x.end() == next.lblk as u64
                && x.pblk + x.len as u64 == next.pblk
                && next.len + x.len <= limit
            {
                next.lblk = x.lblk;
                next.pblk = x.pblk;
                next.len += x.len;
                leaf.entries[pos] = store_extent(&next);
                let l = leaf.clone();
                self.write_node(inode, &l, seed)?;
                return self.fix_keys(inode, &mut path, leaf_level, seed);
            }
            if !leaf.is_full() {
                leaf.entries.insert(pos, store_extent(&x));
                let l = leaf.clone();
                self.write_node(inode, &l, seed)?;
                if pos == 0 {
                    self.fix_keys(inode, &mut path, leaf_level, seed)?;
                }
                return Ok(());
            }
            // No room: make some, then walk down again.
            let levels = path.len();
            self.make_room(ino, inode, &mut path, x.lblk, seed, levels)?;
        }
        Err(EUCLEAN)
    }

    /// Splits the lowest full node on `path` whose parent has room, or grows
    /// the tree by one level when every node up to the root is full. Levels
    /// from `consider` down count as full whatever their fill.
    fn make_room(&mut self, ino: u32, inode: &mut DiskInode, path: &mut [(Node, usize)], lblk: u32, seed: u32, consider: usize) -> KResult<()> {
        // The deepest level whose node still has room.
        let room = (0..consider.min(path.len())).rev().find(|&l| !path[l].0.is_full());
        let goal = self.tree_goal(ino, inode, path);
        match room {
            None => {
                // Grow in depth: the root's entries move to a new block.
                let root = path[0].0.clone();
                if root.depth >= MAX_DEPTH {
                    return Err(EUCLEAN);
                }
                let (blk, _) = self.alloc_blocks(goal, 1, true)?;
                self.cache.get_new(blk)?;
                self.inode_add_blocks(inode, 1)?;
                let child = Node { at: NodeRef::Block(blk), depth: root.depth, max: self.block_capacity(), entries: root.entries.clone() };
                self.write_node(inode, &child, seed)?;
                let key = child.first_key().unwrap_or(0);
                let new_root = Node { at: NodeRef::Root, depth: root.depth + 1, max: 4, entries: vec![store_index(key, blk)] };
                self.write_node(inode, &new_root, seed)
            }
            Some(parent_level) => {
                let level = parent_level + 1;
                if level >= path.len() {
                    return Ok(());
                }
                let node = path[level].0.clone();
                let n = node.entries.len();
                // Appending past the end (sequential writes) moves only the
                // last entry, so nodes stay full; otherwise split in half.
                let appending = node.entries.last().is_some_and(|e| r32(e, 0) < lblk) && {
                    let (p, i) = &path[parent_level];
                    *i + 1 == p.entries.len()
                };
                let keep = if appending { n - 1 } else { n / 2 };
                let (blk, _) = self.alloc_blocks(goal, 1, true)?;
                self.cache.get_new(blk)?;
                self.inode_add_blocks(inode, 1)?;
                let mut left = node.clone();
                let right_entries = left.entries.split_off(keep);
                let right = Node { at: NodeRef::Block(blk), depth: node.depth, max: self.block_capacity(), entries: right_entries };
                self.write_node(inode, &left, seed)?;
                self.write_node(inode, &right, seed)?;
                let key = right.first_key().unwrap_or(lblk);
                let (parent, i) = &mut path[parent_level];
                parent.entries.insert(*i + 1, store_index(key, blk));
                let p = parent.clone();
                self.write_node(inode, &p, seed)
            }
        }
    }

    /// Makes sure the leaf that holds `lblk` has `slots` free entries, by
    /// splitting it or growing the tree; fails (ENOSPC) before changing
    /// anything when no block can be had. Lets a later remove-and-insert
    /// in that leaf run without allocating.
    pub fn ext_reserve_leaf(&mut self, ino: u32, inode: &mut DiskInode, lblk: u32, slots: usize) -> KResult<()> {
        let seed = self.inode_seed(ino, inode.generation());
        for _ in 0..(2 * MAX_DEPTH as usize + 4) {
            let mut path = self.find_path(inode, lblk, seed)?;
            let leaf = &path[path.len() - 1].0;
            if leaf.max as usize - leaf.entries.len() >= slots {
                return Ok(());
            }
            let leaf_level = path.len() - 1;
            self.make_room(ino, inode, &mut path, lblk, seed, leaf_level)?;
        }
        Err(EUCLEAN)
    }

    /// Where new tree blocks should go: next to the file's data.
    fn tree_goal(&self, ino: u32, _inode: &DiskInode, path: &[(Node, usize)]) -> u64 {
        if let Some((leaf, _)) = path.last()
            && let Some(e) = leaf.entries.last()
            && leaf.depth == 0
        {
            let x = parse_extent(e);
            return x.pblk + x.len as u64;
        }
        self.inode_goal(ino)
    }

    /// Unmaps [from, to) (logical blocks). Freed data blocks go back to the
    /// allocator when `free`; emptied tree blocks always do. Extents cut in
    /// two keep their tail by reinsertion.
    pub fn ext_remove(&mut self, ino: u32, inode: &mut DiskInode, from: u32, to: u64, free: bool) -> KResult<()> {
        if to <= from as u64 {
            return Ok(());
        }
        let seed = self.inode_seed(ino, inode.generation());
        let root = self.read_node(inode, NodeRef::Root, None, seed)?;
        let mut reinsert = Vec::new();
        let mut budget = 1usize << 20;
        let root = self.remove_in(inode, root, from, to, free, seed, &mut reinsert, &mut budget)?;
        let mut root = root;
        if root.entries.is_empty() && root.depth > 0 {
            root.depth = 0;
        }
        self.write_node(inode, &root, seed)?;
        for x in reinsert {
            self.ext_insert(ino, inode, x)?;
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn remove_in(
        &mut self,
        inode: &mut DiskInode,
        mut node: Node,
        from: u32,
        to: u64,
        free: bool,
        seed: u32,
        reinsert: &mut Vec<Extent>,
        budget: &mut usize,
    ) -> KResult<Node> {
        *budget = budget.checked_sub(1).ok_or(EUCLEAN)?;
        let from64 = from as u64;
        if node.depth == 0 {
            let mut out = Vec::with_capacity(node.entries.len());
            for e in &node.entries {
                let x = parse_extent(e);
                if x.end() <= from64 || x.lblk as u64 >= to {
                    out.push(*e);
                    continue;
                }
                let cut_start = from64.max(x.lblk as u64);
                let cut_end = to.min(x.end());
                if free {
                    let p = x.pblk + (cut_start - x.lblk as u64);
                    self.free_blocks(p, cut_end - cut_start, false)?;
                    self.inode_add_blocks(inode, -((cut_end - cut_start) as i64))?;
                }
                if (x.lblk as u64) < cut_start {
                    let left = Extent { len: (cut_start - x.lblk as u64) as u32, ..x };
                    out.push(store_extent(&left));
                }
                if cut_end < x.end() {
                    let skip = cut_end - x.lblk as u64;
                    let right = Extent { lblk: cut_end as u32, len: (x.end() - cut_end) as u32, pblk: x.pblk + skip, unwritten: x.unwritten };
                    if (x.lblk as u64) < cut_start {
                        // Split in two: the tail goes back in afterwards.
                        reinsert.push(right);
                    } else {
                        out.push(store_extent(&right));
                    }
                }
            }
            node.entries = out;
            return Ok(node);
        }
        let mut out = Vec::with_capacity(node.entries.len());
        let n = node.entries.len();
        for i in 0..n {
            let e = node.entries[i];
            let start = index_key(&e) as u64;
            let end = node.entries.get(i + 1).map(|n| index_key(n) as u64).unwrap_or(1 << 32);
            if end <= from64 || start >= to {
                out.push(e);
                continue;
            }
            let child_blk = index_child(&e);
            let child = self.read_node(inode, NodeRef::Block(child_blk), Some(node.depth - 1), seed)?;
            let child = self.remove_in(inode, child, from, to, free, seed, reinsert, budget)?;
            if child.entries.is_empty() {
                self.free_blocks(child_blk, 1, true)?;
                self.inode_add_blocks(inode, -1)?;
                continue;
            }
            self.write_node(inode, &child, seed)?;
            let key = child.first_key().unwrap_or(start as u32);
            out.push(store_index(key, child_blk));
        }
        node.entries = out;
        Ok(node)
    }

    /// Every extent of the file, in order (fiemap, tests, checks).
    pub fn ext_all(&mut self, ino: u32, inode: &DiskInode) -> KResult<Vec<Extent>> {
        let seed = self.inode_seed(ino, inode.generation());
        let root = self.read_node(inode, NodeRef::Root, None, seed)?;
        let mut out = Vec::new();
        let mut stack = vec![root];
        let mut budget = 1usize << 20;
        while let Some(node) = stack.pop() {
            budget = budget.checked_sub(1).ok_or(EUCLEAN)?;
            if node.depth == 0 {
                out.extend(node.entries.iter().map(|e| parse_extent(e)));
                continue;
            }
            for e in node.entries.iter().rev() {
                let child = self.read_node(inode, NodeRef::Block(index_child(e)), Some(node.depth - 1), seed)?;
                stack.push(child);
            }
        }
        Ok(out)
    }

    /// Frees every tree block (not data) of an inode whose extents are all
    /// gone: used when an inode is released.
    pub fn ext_tree_blocks(&mut self, ino: u32, inode: &DiskInode) -> KResult<Vec<u64>> {
        let seed = self.inode_seed(ino, inode.generation());
        let root = self.read_node(inode, NodeRef::Root, None, seed)?;
        let mut out = Vec::new();
        let mut stack = vec![root];
        while let Some(node) = stack.pop() {
            if node.depth == 0 || out.len() > 1 << 20 {
                continue;
            }
            for e in &node.entries {
                let b = index_child(e);
                out.push(b);
                stack.push(self.read_node(inode, NodeRef::Block(b), Some(node.depth - 1), seed)?);
            }
        }
        Ok(out)
    }
}
