//! Indexed (htree) directories: the three name hashes (legacy, half-MD4,
//! TEA, each with Linux's signed and unsigned-char variants), probing the
//! index, following hash-collision chains across leaves, and insertion with
//! leaf splits, index-node splits and root growth. Conversion of a full
//! one-block directory into an indexed one lives here too.

use super::csum::crc32c;
use super::dir::{DirHit, DirSink, RawEntry, rec_len_for};
use super::fs::Inner;
use super::inode::{DiskInode, FL_INDEX};
use super::layout::*;
use super::{EUCLEAN, KResult};
use crate::abi::Errno;

pub const DX_HASH_LEGACY: u8 = 0;
pub const DX_HASH_HALF_MD4: u8 = 1;
pub const DX_HASH_TEA: u8 = 2;
const UNSIGNED_DELTA: u8 = 3;

fn pack(msg: &[u8], signed: bool, out: &mut [u32]) {
    // Linux's str2hashbuf: 4 characters per word, padded with the length.
    let len = msg.len() as u32;
    let mut pad = len | (len << 8);
    pad |= pad << 16;
    let mut val = pad;
    let mut num = out.len() as i32;
    let take = msg.len().min(out.len() * 4);
    let mut w = 0;
    for (i, &c) in msg[..take].iter().enumerate() {
        let c = if signed { c as i8 as i32 as u32 } else { c as u32 };
        val = c.wrapping_add(val << 8);
        if i % 4 == 3 {
            out[w] = val;
            w += 1;
            val = pad;
            num -= 1;
        }
    }
    num -= 1;
    if num >= 0 {
        out[w] = val;
        w += 1;
    }
    while num > 0 {
        out[w] = pad;
        w += 1;
        num -= 1;
    }
}

fn half_md4(buf: &mut [u32; 4], input: &[u32; 8]) {
    let (mut a, mut b, mut c, mut d) = (buf[0], buf[1], buf[2], buf[3]);
    let f = |x: u32, y: u32, z: u32| z ^ (x & (y ^ z));
    let g = |x: u32, y: u32, z: u32| (x & y).wrapping_add((x ^ y) & z);
    let h = |x: u32, y: u32, z: u32| x ^ y ^ z;
    macro_rules! step {
        ($fn:expr, $a:ident, $b:ident, $c:ident, $d:ident, $x:expr, $s:expr) => {
            $a = $a.wrapping_add($fn($b, $c, $d)).wrapping_add($x).rotate_left($s);
        };
    }
    const K2: u32 = 0x5A82_7999;
    const K3: u32 = 0x6ED9_EBA1;
    let x = input;
    step!(f, a, b, c, d, x[0], 3);
    step!(f, d, a, b, c, x[1], 7);
    step!(f, c, d, a, b, x[2], 11);
    step!(f, b, c, d, a, x[3], 19);
    step!(f, a, b, c, d, x[4], 3);
    step!(f, d, a, b, c, x[5], 7);
    step!(f, c, d, a, b, x[6], 11);
    step!(f, b, c, d, a, x[7], 19);
    step!(g, a, b, c, d, x[1].wrapping_add(K2), 3);
    step!(g, d, a, b, c, x[3].wrapping_add(K2), 5);
    step!(g, c, d, a, b, x[5].wrapping_add(K2), 9);
    step!(g, b, c, d, a, x[7].wrapping_add(K2), 13);
    step!(g, a, b, c, d, x[0].wrapping_add(K2), 3);
    step!(g, d, a, b, c, x[2].wrapping_add(K2), 5);
    step!(g, c, d, a, b, x[4].wrapping_add(K2), 9);
    step!(g, b, c, d, a, x[6].wrapping_add(K2), 13);
    step!(h, a, b, c, d, x[3].wrapping_add(K3), 3);
    step!(h, d, a, b, c, x[7].wrapping_add(K3), 9);
    step!(h, c, d, a, b, x[2].wrapping_add(K3), 11);
    step!(h, b, c, d, a, x[6].wrapping_add(K3), 15);
    step!(h, a, b, c, d, x[1].wrapping_add(K3), 3);
    step!(h, d, a, b, c, x[5].wrapping_add(K3), 9);
    step!(h, c, d, a, b, x[0].wrapping_add(K3), 11);
    step!(h, b, c, d, a, x[4].wrapping_add(K3), 15);
    buf[0] = buf[0].wrapping_add(a);
    buf[1] = buf[1].wrapping_add(b);
    buf[2] = buf[2].wrapping_add(c);
    buf[3] = buf[3].wrapping_add(d);
}

fn tea(buf: &mut [u32; 4], input: &[u32; 4]) {
    const DELTA: u32 = 0x9E37_79B9;
    let (mut sum, mut b0, mut b1) = (0u32, buf[0], buf[1]);
    let (a, b, c, d) = (input[0], input[1], input[2], input[3]);
    for _ in 0..16 {
        sum = sum.wrapping_add(DELTA);
        b0 = b0.wrapping_add(((b1 << 4).wrapping_add(a)) ^ b1.wrapping_add(sum) ^ ((b1 >> 5).wrapping_add(b)));
        b1 = b1.wrapping_add(((b0 << 4).wrapping_add(c)) ^ b0.wrapping_add(sum) ^ ((b0 >> 5).wrapping_add(d)));
    }
    buf[0] = buf[0].wrapping_add(b0);
    buf[1] = buf[1].wrapping_add(b1);
}

fn legacy(name: &[u8], signed: bool) -> u32 {
    let (mut h0, mut h1) = (0x12a3_fe2du32, 0x37ab_e8f9u32);
    for &c in name {
        let c = if signed { c as i8 as i32 } else { c as i32 };
        let mut h = h1.wrapping_add(h0 ^ (c.wrapping_mul(7_152_373) as u32));
        if h & 0x8000_0000 != 0 {
            h = h.wrapping_sub(0x7fff_ffff);
        }
        h1 = h0;
        h0 = h;
    }
    h0 << 1
}

/// The (major, minor) hash of a name for a given hash version (0..=5).
pub fn name_hash(name: &[u8], version: u8, seed: &[u32; 4]) -> KResult<(u32, u32)> {
    let mut buf = [0x6745_2301u32, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];
    if seed.iter().any(|&s| s != 0) {
        buf = *seed;
    }
    let signed = version < UNSIGNED_DELTA;
    let (hash, minor) = match version % UNSIGNED_DELTA {
        DX_HASH_LEGACY => (legacy(name, signed), 0),
        DX_HASH_HALF_MD4 => {
            let mut p = name;
            while !p.is_empty() {
                let mut input = [0u32; 8];
                pack(p, signed, &mut input);
                half_md4(&mut buf, &input);
                p = &p[p.len().min(32)..];
            }
            (buf[1], buf[2])
        }
        _ => {
            let mut p = name;
            while !p.is_empty() {
                let mut input = [0u32; 4];
                pack(p, signed, &mut input);
                tea(&mut buf, &input);
                p = &p[p.len().min(16)..];
            }
            (buf[0], buf[1])
        }
    };
    if version > 5 {
        return Err(EUCLEAN);
    }
    let mut hash = hash & !1;
    if hash == 0x7fff_ffff << 1 {
        hash = (0x7fff_ffff - 1) << 1;
    }
    Ok((hash, minor))
}

/// One index node on the path from the root.
#[derive(Clone, Debug)]
struct Frame {
    lblk: u64,
    pblk: u64,
    count_off: usize,
    limit: usize,
    /// (hash, child lblk); entry 0's hash is implicit (0).
    entries: Vec<(u32, u32)>,
    at: usize,
}

struct RootInfo {
    hash_version: u8,
    levels: u8,
}

impl Inner {
    fn dx_tail_len(&self) -> usize {
        if self.g.has_csum() { 8 } else { 0 }
    }
    fn dx_root_limit(&self) -> usize {
        (self.g.bs() - 0x20 - self.dx_tail_len()) / 8
    }
    fn dx_node_limit(&self) -> usize {
        (self.g.bs() - 8 - self.dx_tail_len()) / 8
    }
    fn dx_max_levels(&self) -> u8 {
        if self.g.has_largedir() { 3 } else { 2 }
    }

    fn dx_csum(&self, seed: u32, data: &[u8], count_off: usize, count: usize, limit: usize) -> KResult<u32> {
        let used = count_off + count * 8;
        let tail = count_off + limit * 8;
        if used > data.len() || tail + 8 > data.len() {
            return Err(EUCLEAN);
        }
        let c = crc32c(seed, &data[..used]);
        let c = crc32c(c, &data[tail..tail + 4]);
        // Linux also folds in the (zero) checksum field itself.
        Ok(crc32c(c, &[0; 4]))
    }

    /// Recomputes an index node's checksum (after `..` changed in a root).
    pub fn dx_reseal(&self, seed: u32, data: &mut [u8], lblk: u64) -> KResult<()> {
        if !self.g.has_csum() {
            return Ok(());
        }
        let count_off = if lblk == 0 { 0x18 + r8(data, 0x1D) as usize } else { 8 };
        let limit = r16(data, count_off) as usize;
        let count = r16(data, count_off + 2) as usize;
        let c = self.dx_csum(seed, data, count_off, count, limit)?;
        let tail = count_off + limit * 8;
        w32(data, tail, 0);
        w32(data, tail + 4, c);
        Ok(())
    }

    fn root_info(&self, data: &[u8]) -> KResult<RootInfo> {
        let info_len = r8(data, 0x1D);
        let levels = r8(data, 0x1E);
        let hv = r8(data, 0x1C);
        if r32(data, 0x18) != 0 || info_len != 8 || levels >= self.dx_max_levels() || hv > DX_HASH_TEA {
            return Err(EUCLEAN);
        }
        Ok(RootInfo { hash_version: hv, levels })
    }

    fn dir_hash(&self, info: &RootInfo, name: &[u8]) -> KResult<u32> {
        let v = info.hash_version + if self.g.hash_unsigned { UNSIGNED_DELTA } else { 0 };
        Ok(name_hash(name, v, &self.g.hash_seed)?.0)
    }

    fn read_frame(&mut self, ino: u32, dir: &DiskInode, lblk: u64, root: bool, blocks: u64) -> KResult<(Frame, Vec<u8>)> {
        let pblk = self.dir_pblk(ino, dir, lblk)?;
        let data = self.cache.get(pblk)?.to_vec();
        let count_off = if root {
            0x20
        } else {
            let rec = r16(&data, 4) as usize;
            let covers = rec == self.g.bs() || (self.g.bs() >= 65536 && (rec == 0 || rec == 65535));
            if r32(&data, 0) != 0 || !covers {
                return Err(EUCLEAN);
            }
            8
        };
        let limit = r16(&data, count_off) as usize;
        let count = r16(&data, count_off + 2) as usize;
        let want = if root { self.dx_root_limit() } else { self.dx_node_limit() };
        if limit != want || count == 0 || count > limit {
            return Err(EUCLEAN);
        }
        if self.g.has_csum() {
            let seed = self.inode_seed(ino, dir.generation());
            let c = self.dx_csum(seed, &data, count_off, count, limit)?;
            if c != r32(&data, count_off + limit * 8 + 4) {
                return Err(EUCLEAN);
            }
        }
        let mut entries = Vec::with_capacity(count);
        for i in 0..count {
            let o = count_off + i * 8;
            let hash = if i == 0 { 0 } else { r32(&data, o) };
            let child = r32(&data, o + 4);
            if child as u64 >= blocks || child == 0 {
                return Err(EUCLEAN);
            }
            if i > 1 && hash < entries.last().map(|e: &(u32, u32)| e.0).unwrap_or(0) {
                return Err(EUCLEAN);
            }
            entries.push((hash, child));
        }
        Ok((Frame { lblk, pblk, count_off, limit, entries, at: 0 }, data))
    }

    fn write_frame(&mut self, ino: u32, dir: &DiskInode, f: &Frame) -> KResult<()> {
        let mut data = self.cache.get(f.pblk)?.to_vec();
        let area_end = f.count_off + f.limit * 8;
        if area_end + self.dx_tail_len() > data.len() || f.entries.len() > f.limit {
            return Err(EUCLEAN);
        }
        data[f.count_off..area_end].fill(0);
        for (i, &(hash, child)) in f.entries.iter().enumerate() {
            let o = f.count_off + i * 8;
            if i > 0 {
                w32(&mut data, o, hash);
            }
            w32(&mut data, o + 4, child);
        }
        w16(&mut data, f.count_off, f.limit as u16);
        w16(&mut data, f.count_off + 2, f.entries.len() as u16);
        if self.g.has_csum() {
            let seed = self.inode_seed(ino, dir.generation());
            let c = self.dx_csum(seed, &data, f.count_off, f.entries.len(), f.limit)?;
            w32(&mut data, area_end, 0);
            w32(&mut data, area_end + 4, c);
        }
        self.cache.get_mut(f.pblk)?.copy_from_slice(&data);
        Ok(())
    }

    /// The index path for `hash` and the leaf it leads to.
    fn dx_probe(&mut self, ino: u32, dir: &DiskInode, hash: u32) -> KResult<(Vec<Frame>, u64, RootInfo)> {
        let blocks = self.dir_blocks(dir)?;
        let (mut frame, data) = self.read_frame(ino, dir, 0, true, blocks)?;
        self.parse_dx_root_dots(&data)?;
        let info = self.root_info(&data)?;
        let mut frames = Vec::new();
        for level in 0..=info.levels {
            frame.at = frame.entries.iter().rposition(|e| e.0 <= hash).unwrap_or(0);
            let child = frame.entries[frame.at].1 as u64;
            frames.push(frame);
            if level == info.levels {
                return Ok((frames, child, info));
            }
            frame = self.read_frame(ino, dir, child, false, blocks)?.0;
        }
        Err(EUCLEAN)
    }

    /// The next leaf in hash order if it continues `hash` (a collision chain).
    fn dx_next_leaf(&mut self, ino: u32, dir: &DiskInode, frames: &mut Vec<Frame>, hash: u32) -> KResult<Option<u64>> {
        match self.dx_step(ino, dir, frames)? {
            Some((leaf, key)) if key & !1 == hash => Ok(Some(leaf)),
            _ => Ok(None),
        }
    }

    /// Moves `frames` to the next leaf in hash order: (leaf, its index key).
    fn dx_step(&mut self, ino: u32, dir: &DiskInode, frames: &mut Vec<Frame>) -> KResult<Option<(u64, u32)>> {
        let blocks = self.dir_blocks(dir)?;
        let full = frames.len();
        let mut level = frames.len();
        // Climb to the lowest frame with an entry to the right.
        loop {
            if level == 0 {
                return Ok(None);
            }
            level -= 1;
            if frames[level].at + 1 < frames[level].entries.len() {
                break;
            }
        }
        frames[level].at += 1;
        let key = frames[level].entries[frames[level].at].0;
        frames.truncate(level + 1);
        // Walk down the leftmost path below the new position.
        let mut child = frames[level].entries[frames[level].at].1 as u64;
        while frames.len() < full {
            let (mut f, _) = self.read_frame(ino, dir, child, false, blocks)?;
            f.at = 0;
            child = f.entries[0].1 as u64;
            frames.push(f);
        }
        Ok(Some((child, key)))
    }

    /// readdir of an indexed directory in hash order, as Linux does, so a
    /// cookie survives leaf splits made between calls: `.` is 0, `..` 1,
    /// an entry's position is 3 + (major hash / 2, minor hash / 2).
    pub fn dx_iterate(&mut self, ino: u32, dir: &DiskInode, cookie: u64, sink: &mut DirSink<'_>) -> KResult<()> {
        let p0 = self.dir_pblk(ino, dir, 0)?;
        let root = self.cache.get(p0)?.to_vec();
        let dots = self.parse_dx_root_dots(&root)?;
        let info = self.root_info(&root)?;
        for (i, e) in dots.iter().enumerate() {
            if cookie <= i as u64 && !sink(&e.name, e.ino, e.ftype, i as u64 + 1) {
                return Ok(());
            }
        }
        let start_hash = if cookie <= 3 { 0 } else { (((cookie - 3) >> 32) << 1) as u32 };
        let v = info.hash_version + if self.g.hash_unsigned { UNSIGNED_DELTA } else { 0 };
        let (mut frames, mut leaf, _) = self.dx_probe(ino, dir, start_hash)?;
        let blocks = self.dir_blocks(dir)?;
        let mut visited = 0u64;
        loop {
            // A leaf and the leaves continuing its last hash form one batch,
            // so entries are handed out in position order.
            let mut batch: Vec<(u64, RawEntry)> = Vec::new();
            let mut next;
            loop {
                visited += 1;
                if visited > blocks + 1 {
                    return Err(EUCLEAN);
                }
                let (_, entries) = self.read_leaf(ino, dir, leaf)?;
                for e in entries.into_iter().filter(|e| e.ino != 0) {
                    let (h, m) = name_hash(&e.name, v, &self.g.hash_seed)?;
                    let pos = 3 + (((h >> 1) as u64) << 32 | (m >> 1) as u64);
                    if pos >= cookie {
                        batch.push((pos, e));
                    }
                }
                next = self.dx_step(ino, dir, &mut frames)?;
                match next {
                    Some((l, key)) if key & 1 != 0 => leaf = l,
                    _ => break,
                }
            }
            batch.sort_by(|a, b| (a.0, &a.1.name).cmp(&(b.0, &b.1.name)));
            for (pos, e) in batch {
                if !sink(&e.name, e.ino, e.ftype, pos + 1) {
                    return Ok(());
                }
            }
            match next {
                Some((l, _)) => leaf = l,
                None => return Ok(()),
            }
        }
    }

    /// Looks `name` up through the index.
    pub fn dx_find(&mut self, ino: u32, dir: &DiskInode, name: &[u8]) -> KResult<Option<DirHit>> {
        if name == b"." || name == b".." {
            let p = self.dir_pblk(ino, dir, 0)?;
            let data = self.cache.get(p)?.to_vec();
            for e in self.parse_dx_root_dots(&data)? {
                if e.name == name {
                    return Ok(Some((e.ino, e.ftype, 0, e.off)));
                }
            }
            return Ok(None);
        }
        let blocks = self.dir_blocks(dir)?;
        let probe_hash = {
            let p = self.dir_pblk(ino, dir, 0)?;
            let data = self.cache.get(p)?.to_vec();
            let info = self.root_info(&data)?;
            self.dir_hash(&info, name)?
        };
        let (mut frames, mut leaf, _) = self.dx_probe(ino, dir, probe_hash)?;
        for _ in 0..blocks.max(1) {
            let (_, entries) = self.read_leaf(ino, dir, leaf)?;
            for e in entries {
                if e.ino != 0 && e.name == name {
                    return Ok(Some((e.ino, e.ftype, leaf, e.off)));
                }
            }
            match self.dx_next_leaf(ino, dir, &mut frames, probe_hash)? {
                Some(next) => leaf = next,
                None => return Ok(None),
            }
        }
        Err(EUCLEAN)
    }

    /// Inserts into an indexed directory, splitting as needed.
    pub fn dx_add(&mut self, ino: u32, dir: &mut DiskInode, name: &[u8], child: u32, ftype: u8) -> KResult<()> {
        let seed = self.inode_seed(ino, dir.generation());
        let hash = {
            let p = self.dir_pblk(ino, dir, 0)?;
            let data = self.cache.get(p)?.to_vec();
            let info = self.root_info(&data)?;
            self.dir_hash(&info, name)?
        };
        for _ in 0..16 {
            let (mut frames, leaf, info) = self.dx_probe(ino, dir, hash)?;
            let (pblk, _) = self.read_leaf(ino, dir, leaf)?;
            if self.leaf_insert(seed, pblk, name, child, ftype)? {
                return Ok(());
            }
            let bottom = frames.len() - 1;
            if frames[bottom].entries.len() < frames[bottom].limit {
                self.dx_split_leaf(ino, dir, &mut frames[bottom], leaf, &info, seed)?;
                continue;
            }
            match (0..frames.len()).rev().find(|&i| frames[i].entries.len() < frames[i].limit) {
                Some(i) => self.dx_split_node(ino, dir, &mut frames, i + 1)?,
                None if info.levels + 1 < self.dx_max_levels() => self.dx_add_level(ino, dir, &mut frames[0])?,
                None => return Err(Errno::ENOSPC),
            }
        }
        Err(EUCLEAN)
    }

    fn entry_hash(&self, info: &RootInfo, e: &RawEntry) -> KResult<u32> {
        self.dir_hash(info, &e.name)
    }

    fn dx_split_leaf(&mut self, ino: u32, dir: &mut DiskInode, parent: &mut Frame, leaf: u64, info: &RootInfo, seed: u32) -> KResult<()> {
        let (pblk, entries) = self.read_leaf(ino, dir, leaf)?;
        let mut live: Vec<(u32, RawEntry)> = Vec::new();
        for e in entries.into_iter().filter(|e| e.ino != 0) {
            live.push((self.entry_hash(info, &e)?, e));
        }
        if live.len() < 2 {
            return Err(Errno::ENOSPC);
        }
        live.sort_by_key(|(h, _)| *h);
        let total: usize = live.iter().map(|(_, e)| rec_len_for(e.name.len())).sum();
        let mut s = live.len();
        let mut upper = 0;
        while s > 1 && upper + rec_len_for(live[s - 1].1.name.len()) <= total / 2 {
            upper += rec_len_for(live[s - 1].1.name.len());
            s -= 1;
        }
        if s == live.len() {
            s -= 1;
        }
        // Prefer a split between different hashes.
        let mut cut = s;
        while cut < live.len() && live[cut].0 == live[cut - 1].0 {
            cut += 1;
        }
        if cut == live.len() {
            cut = s;
            while cut > 1 && live[cut].0 == live[cut - 1].0 {
                cut -= 1;
            }
            if live[cut].0 == live[cut - 1].0 {
                cut = s;
            }
        }
        let continued = live[cut].0 == live[cut - 1].0;
        let key = live[cut].0 | continued as u32;
        let (new_lblk, new_pblk) = self.dir_grow(ino, dir)?;
        let to_vec = |v: &[(u32, RawEntry)]| v.iter().map(|(_, e)| (e.name.clone(), e.ino, e.ftype)).collect::<Vec<_>>();
        let low = self.build_leaf(seed, &to_vec(&live[..cut]))?;
        let high = self.build_leaf(seed, &to_vec(&live[cut..]))?;
        self.cache.get_mut(pblk)?.copy_from_slice(&low);
        self.cache.get_mut(new_pblk)?.copy_from_slice(&high);
        parent.entries.insert(parent.at + 1, (key, new_lblk as u32));
        let p = parent.clone();
        self.write_frame(ino, dir, &p)
    }

    fn new_node_block(&mut self, ino: u32, dir: &mut DiskInode) -> KResult<(u64, u64)> {
        let (lblk, pblk) = self.dir_grow(ino, dir)?;
        let bs = self.g.bs();
        let b = self.cache.get_mut(pblk)?;
        b.fill(0);
        w16(b, 4, if bs >= 65536 { 65535 } else { bs as u16 });
        Ok((lblk, pblk))
    }

    fn dx_split_node(&mut self, ino: u32, dir: &mut DiskInode, frames: &mut [Frame], k: usize) -> KResult<()> {
        if k == 0 || k >= frames.len() {
            return Err(EUCLEAN);
        }
        let (lblk, pblk) = self.new_node_block(ino, dir)?;
        let node = &mut frames[k];
        let s = node.entries.len() / 2;
        let moved = node.entries.split_off(s);
        let key = moved[0].0;
        let right = Frame { lblk, pblk, count_off: 8, limit: self.dx_node_limit(), entries: moved, at: 0 };
        let left = node.clone();
        self.write_frame(ino, dir, &left)?;
        self.write_frame(ino, dir, &right)?;
        let parent = &mut frames[k - 1];
        parent.entries.insert(parent.at + 1, (key, lblk as u32));
        let p = parent.clone();
        self.write_frame(ino, dir, &p)
    }

    fn dx_add_level(&mut self, ino: u32, dir: &mut DiskInode, root: &mut Frame) -> KResult<()> {
        let (lblk, pblk) = self.new_node_block(ino, dir)?;
        let node = Frame { lblk, pblk, count_off: 8, limit: self.dx_node_limit(), entries: root.entries.clone(), at: 0 };
        self.write_frame(ino, dir, &node)?;
        root.entries = vec![(0, lblk as u32)];
        let levels = {
            let data = self.cache.get(root.pblk)?;
            r8(data, 0x1E)
        };
        w8(self.cache.get_mut(root.pblk)?, 0x1E, levels + 1);
        let r = root.clone();
        self.write_frame(ino, dir, &r)
    }

    /// Turns a full one-block linear directory into an indexed one: block 0
    /// becomes the root, its entries move to a new leaf.
    pub fn dx_convert(&mut self, ino: u32, dir: &mut DiskInode) -> KResult<()> {
        let seed = self.inode_seed(ino, dir.generation());
        let (p0, entries) = self.read_leaf(ino, dir, 0)?;
        let live: Vec<&RawEntry> = entries.iter().filter(|e| e.ino != 0).collect();
        if live.len() < 2 || live[0].name != b"." || live[1].name != b".." {
            return Err(EUCLEAN);
        }
        let (self_ino, parent_ino) = (live[0].ino, live[1].ino);
        let rest: Vec<(Vec<u8>, u32, u8)> = live[2..].iter().map(|e| (e.name.clone(), e.ino, e.ftype)).collect();
        let (lblk, p1) = self.dir_grow(ino, dir)?;
        let leaf = self.build_leaf(seed, &rest)?;
        self.cache.get_mut(p1)?.copy_from_slice(&leaf);
        let bs = self.g.bs();
        let mut root = vec![0u8; bs];
        let ft = if self.g.has_filetype() { 2 } else { 0 };
        w32(&mut root, 0, self_ino);
        w16(&mut root, 4, 12);
        w8(&mut root, 6, 1);
        w8(&mut root, 7, ft);
        root[8] = b'.';
        w32(&mut root, 12, parent_ino);
        w16(&mut root, 16, if bs - 12 >= 65536 { 65535 } else { (bs - 12) as u16 });
        w8(&mut root, 18, 2);
        w8(&mut root, 19, ft);
        root[20] = b'.';
        root[21] = b'.';
        let hv = if self.g.def_hash_version <= DX_HASH_TEA { self.g.def_hash_version } else { DX_HASH_HALF_MD4 };
        w8(&mut root, 0x1C, hv);
        w8(&mut root, 0x1D, 8);
        self.cache.get_mut(p0)?.copy_from_slice(&root);
        dir.set_flags(dir.flags() | FL_INDEX);
        let frame = Frame { lblk: 0, pblk: p0, count_off: 0x20, limit: self.dx_root_limit(), entries: vec![(0, lblk as u32)], at: 0 };
        self.write_frame(ino, dir, &frame)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_pads_with_the_length() {
        let mut out = [0u32; 4];
        pack(b"ab", false, &mut out);
        let pad = 0x0202_0202u32;
        assert_eq!(out[0], (pad << 16) | (b'a' as u32) << 8 | b'b' as u32);
        assert_eq!(&out[1..], &[pad, pad, pad]);
    }

    #[test]
    fn hashes_clear_the_low_bit() {
        for v in 0..6 {
            let (h, _) = name_hash(b"some-file-name.txt", v, &[0; 4]).unwrap();
            assert_eq!(h & 1, 0);
        }
    }
}
