//! Extended attributes: in the inode's extra space and in one attribute
//! block (shared blocks are copied on write), with entry and block hashes
//! and the block checksum as e2fsck checks them. POSIX ACLs are converted
//! between the VFS xattr format and ext4's compact on-disk one.

use super::csum::crc32c;
use super::fs::Inner;
use super::inode::DiskInode;
use super::layout::*;
use super::{EUCLEAN, KResult};
use crate::abi::Errno;

const MAGIC: u32 = 0xEA02_0000;
const BLOCK_HDR: usize = 32;
const ENTRY_HDR: usize = 16;
pub const XATTR_CREATE: u32 = 1;
pub const XATTR_REPLACE: u32 = 2;
const XATTR_SIZE_MAX: usize = 65536;

const PREFIXES: &[(u8, &[u8])] = &[
    (2, b"system.posix_acl_access"),
    (3, b"system.posix_acl_default"),
    (8, b"system.richacl"),
    (1, b"user."),
    (4, b"trusted."),
    (6, b"security."),
    (7, b"system."),
];

#[derive(Clone, Debug, PartialEq, Eq)]
struct Attr {
    index: u8,
    name: Vec<u8>,
    value: Vec<u8>,
}

fn split_name(full: &[u8]) -> KResult<(u8, Vec<u8>)> {
    if full.len() > 255 || full.is_empty() {
        return Err(Errno::ERANGE);
    }
    for &(idx, p) in PREFIXES {
        if (idx == 2 || idx == 3 || idx == 8) && full == p {
            return Ok((idx, Vec::new()));
        }
        if idx != 2 && idx != 3 && idx != 8 && full.starts_with(p) {
            if full.len() == p.len() {
                return Err(Errno::EINVAL);
            }
            return Ok((idx, full[p.len()..].to_vec()));
        }
    }
    Err(Errno::EOPNOTSUPP)
}

fn full_name(index: u8, name: &[u8]) -> Option<Vec<u8>> {
    let p = PREFIXES.iter().find(|(i, _)| *i == index)?.1;
    let mut v = p.to_vec();
    v.extend_from_slice(name);
    Some(v)
}

fn pad4(n: usize) -> usize {
    (n + 3) & !3
}

fn entry_len(name_len: usize) -> usize {
    pad4(ENTRY_HDR + name_len)
}

fn entry_hash(name: &[u8], value: &[u8]) -> u32 {
    let mut h = 0u32;
    for &c in name {
        h = (h << 5) ^ (h >> 27) ^ c as u32;
    }
    let mut padded = value.to_vec();
    padded.resize(pad4(value.len()), 0);
    for w in padded.chunks(4) {
        h = (h << 16) ^ (h >> 16) ^ r32(w, 0);
    }
    h
}

/// Parses entries starting at `start` in `area`; values at `base + offs`.
fn parse_entries(area: &[u8], start: usize, base: usize) -> KResult<Vec<Attr>> {
    let mut out = Vec::new();
    let mut off = start;
    for _ in 0..area.len() / ENTRY_HDR + 1 {
        if off + 4 > area.len() {
            return Err(EUCLEAN);
        }
        if r32(area, off) == 0 {
            return Ok(out);
        }
        let name_len = r8(area, off) as usize;
        let index = r8(area, off + 1);
        let voff = r16(area, off + 2) as usize;
        let vinum = r32(area, off + 4);
        let vsize = r32(area, off + 8) as usize;
        if off + entry_len(name_len) > area.len() || vinum != 0 {
            return Err(EUCLEAN);
        }
        let name = area[off + ENTRY_HDR..off + ENTRY_HDR + name_len].to_vec();
        let vstart = base + voff;
        if vstart.checked_add(vsize).is_none_or(|e| e > area.len()) {
            return Err(EUCLEAN);
        }
        out.push(Attr { index, name, value: area[vstart..vstart + vsize].to_vec() });
        off += entry_len(name_len);
    }
    Err(EUCLEAN)
}

/// Lays out entries at `start` and values downward from `end`; value
/// offsets are relative to `base`. None if they do not fit.
fn build_entries(area: &mut [u8], attrs: &[Attr], start: usize, end: usize, base: usize) -> Option<()> {
    area[start..end].fill(0);
    let mut off = start;
    let mut vend = end;
    for a in attrs {
        let el = entry_len(a.name.len());
        let vl = pad4(a.value.len());
        if off + el + 4 > vend.checked_sub(vl)? {
            return None;
        }
        vend -= vl;
        area[vend..vend + a.value.len()].copy_from_slice(&a.value);
        w8(area, off, a.name.len() as u8);
        w8(area, off + 1, a.index);
        w16(area, off + 2, if a.value.is_empty() { 0 } else { (vend - base) as u16 });
        w32(area, off + 4, 0);
        w32(area, off + 8, a.value.len() as u32);
        w32(area, off + 12, entry_hash(&a.name, &a.value));
        area[off + ENTRY_HDR..off + ENTRY_HDR + a.name.len()].copy_from_slice(&a.name);
        off += el;
    }
    Some(())
}

fn space_needed(attrs: &[Attr]) -> usize {
    attrs.iter().map(|a| entry_len(a.name.len()) + pad4(a.value.len())).sum::<usize>() + 4
}

/// VFS posix_acl_xattr (version 2, 8-byte entries) to ext4's disk form.
fn acl_to_disk(v: &[u8]) -> KResult<Vec<u8>> {
    if v.len() < 4 || !(v.len() - 4).is_multiple_of(8) || r32(v, 0) != 2 {
        return Err(Errno::EINVAL);
    }
    let mut out = Vec::with_capacity(v.len());
    out.extend_from_slice(&1u32.to_le_bytes());
    for e in v[4..].chunks(8) {
        let tag = r16(e, 0);
        out.extend_from_slice(&e[0..4]);
        match tag {
            0x01 | 0x04 | 0x10 | 0x20 => {}
            0x02 | 0x08 => out.extend_from_slice(&e[4..8]),
            _ => return Err(Errno::EINVAL),
        }
    }
    Ok(out)
}

fn acl_from_disk(v: &[u8]) -> KResult<Vec<u8>> {
    if v.len() < 4 || r32(v, 0) != 1 {
        return Err(EUCLEAN);
    }
    let mut out = Vec::with_capacity(v.len() * 2);
    out.extend_from_slice(&2u32.to_le_bytes());
    let mut off = 4;
    while off < v.len() {
        if off + 4 > v.len() {
            return Err(EUCLEAN);
        }
        let tag = r16(v, off);
        out.extend_from_slice(&v[off..off + 4]);
        match tag {
            0x01 | 0x04 | 0x10 | 0x20 => {
                out.extend_from_slice(&u32::MAX.to_le_bytes());
                off += 4;
            }
            0x02 | 0x08 => {
                if off + 8 > v.len() {
                    return Err(EUCLEAN);
                }
                out.extend_from_slice(&v[off + 4..off + 8]);
                off += 8;
            }
            _ => return Err(EUCLEAN),
        }
    }
    Ok(out)
}

impl Inner {
    fn ibody_range(&self, i: &DiskInode) -> Option<(usize, usize)> {
        let start = 128 + i.extra_isize();
        let end = i.raw.len();
        if i.raw.len() <= 128 || start + 4 + ENTRY_HDR > end { None } else { Some((start, end)) }
    }

    fn ibody_attrs(&self, i: &DiskInode) -> KResult<Vec<Attr>> {
        let Some((start, _)) = self.ibody_range(i) else { return Ok(Vec::new()) };
        if r32(&i.raw, start) != MAGIC {
            return Ok(Vec::new());
        }
        parse_entries(&i.raw, start + 4, start + 4)
    }

    /// The "system.data" value holding inline data past i_block.
    pub fn inline_tail(&mut self, i: &DiskInode) -> KResult<Vec<u8>> {
        Ok(self.ibody_attrs(i)?.into_iter().find(|a| a.index == 7 && a.name == b"data").map(|a| a.value).unwrap_or_default())
    }

    fn xattr_block_csum(&self, blk: u64, data: &[u8]) -> u32 {
        let mut d = data.to_vec();
        w32(&mut d, 0x10, 0);
        let s = crc32c(self.g.csum_seed, &blk.to_le_bytes());
        crc32c(s, &d)
    }

    fn read_xattr_block(&mut self, blk: u64) -> KResult<Vec<u8>> {
        self.check_data_run(blk, 1)?;
        let data = self.cache.get(blk)?.to_vec();
        if r32(&data, 0) != MAGIC || r32(&data, 8) != 1 {
            return Err(EUCLEAN);
        }
        if self.g.has_csum() && self.xattr_block_csum(blk, &data) != r32(&data, 0x10) {
            return Err(EUCLEAN);
        }
        Ok(data)
    }

    fn block_attrs(&mut self, i: &DiskInode) -> KResult<Vec<Attr>> {
        let blk = i.file_acl();
        if blk == 0 {
            return Ok(Vec::new());
        }
        let data = self.read_xattr_block(blk)?;
        parse_entries(&data, BLOCK_HDR, 0)
    }

    pub fn getxattr(&mut self, ino: u32, full: &[u8]) -> KResult<Vec<u8>> {
        let (index, name) = split_name(full)?;
        let i = self.read_inode(ino)?;
        let mut all = self.ibody_attrs(&i)?;
        all.extend(self.block_attrs(&i)?);
        let a = all.into_iter().find(|a| a.index == index && a.name == name).ok_or(Errno::ENODATA)?;
        if index == 2 || index == 3 { acl_from_disk(&a.value) } else { Ok(a.value) }
    }

    pub fn listxattr(&mut self, ino: u32) -> KResult<Vec<Vec<u8>>> {
        let i = self.read_inode(ino)?;
        let mut all = self.ibody_attrs(&i)?;
        all.extend(self.block_attrs(&i)?);
        // "system.data" is inline file data, not an attribute (Linux hides it).
        Ok(all.iter().filter(|a| !(a.index == 7 && a.name == b"data")).filter_map(|a| full_name(a.index, &a.name)).collect())
    }

    /// Sets (`Some`) or removes (`None`) an attribute.
    pub fn setxattr(&mut self, ino: u32, full: &[u8], value: Option<&[u8]>, flags: u32) -> KResult<()> {
        let (index, name) = split_name(full)?;
        if value.is_some_and(|v| v.len() > XATTR_SIZE_MAX) {
            return Err(Errno::E2BIG);
        }
        if !self.g.has_xattr() {
            return Err(Errno::EOPNOTSUPP);
        }
        let value = match value {
            Some(v) if index == 2 || index == 3 => Some(acl_to_disk(v)?),
            Some(v) => Some(v.to_vec()),
            None => None,
        };
        let mut i = self.read_inode(ino)?;
        let mut inline = self.ibody_attrs(&i)?;
        let mut block = self.block_attrs(&i)?;
        let found_in = inline
            .iter()
            .position(|a| a.index == index && a.name == name)
            .map(|p| (true, p))
            .or_else(|| block.iter().position(|a| a.index == index && a.name == name).map(|p| (false, p)));
        match (found_in, &value) {
            (Some(_), Some(_)) if flags & XATTR_CREATE != 0 => return Err(Errno::EEXIST),
            (None, Some(_)) if flags & XATTR_REPLACE != 0 => return Err(Errno::ENODATA),
            (None, None) => return Err(Errno::ENODATA),
            _ => {}
        }
        match found_in {
            Some((true, p)) => {
                inline.remove(p);
            }
            Some((false, p)) => {
                block.remove(p);
            }
            None => {}
        }
        if let Some(v) = value {
            let a = Attr { index, name, value: v };
            let ibody_space = self.ibody_range(&i).map(|(s, e)| e - s - 4).unwrap_or(0);
            let mut trial = inline.clone();
            trial.push(a.clone());
            if space_needed(&trial) <= ibody_space {
                inline = trial;
            } else {
                block.push(a);
                block.sort_by(|x, y| (x.index, x.name.len(), &x.name).cmp(&(y.index, y.name.len(), &y.name)));
                if space_needed(&block) > self.g.bs() - BLOCK_HDR {
                    return Err(Errno::ENOSPC);
                }
            }
        }
        self.store_block_attrs(ino, &mut i, &block)?;
        self.store_ibody_attrs(&mut i, &inline)?;
        let now = self.now();
        i.set_time(super::inode::Time::Change, now);
        self.write_inode(ino, &i)
    }

    fn store_ibody_attrs(&mut self, i: &mut DiskInode, attrs: &[Attr]) -> KResult<()> {
        let Some((start, end)) = self.ibody_range(i) else {
            return if attrs.is_empty() { Ok(()) } else { Err(Errno::ENOSPC) };
        };
        if attrs.is_empty() {
            i.raw[start..end].fill(0);
            return Ok(());
        }
        w32(&mut i.raw, start, MAGIC);
        build_entries(&mut i.raw, attrs, start + 4, end, start + 4).ok_or(Errno::ENOSPC)
    }

    /// Rewrites the attribute block (allocating, copying a shared one, or
    /// freeing it when empty).
    fn store_block_attrs(&mut self, ino: u32, i: &mut DiskInode, attrs: &[Attr]) -> KResult<()> {
        let old = i.file_acl();
        if attrs.is_empty() {
            if old != 0 {
                self.xattr_release(ino, i)?;
            }
            return Ok(());
        }
        let bs = self.g.bs();
        let mut data = vec![0u8; bs];
        build_entries(&mut data, attrs, BLOCK_HDR, bs, 0).ok_or(Errno::ENOSPC)?;
        w32(&mut data, 0, MAGIC);
        w32(&mut data, 4, 1);
        w32(&mut data, 8, 1);
        // The block hash combines the entry hashes (Linux's ext4_xattr_rehash).
        let mut h = 0u32;
        let mut off = BLOCK_HDR;
        while r32(&data, off) != 0 {
            let eh = r32(&data, off + 12);
            h = (h << 16) ^ (h >> 16) ^ eh;
            off += entry_len(r8(&data, off) as usize);
        }
        w32(&mut data, 0xC, h);
        let blk = if old != 0 && r32(&self.read_xattr_block(old)?, 4) == 1 {
            old
        } else {
            let goal = self.inode_goal(ino);
            let (b, _) = self.alloc_blocks(goal, 1, false)?;
            if old != 0 {
                self.xattr_release(ino, i)?;
            }
            self.cache.get_new(b)?;
            self.inode_add_blocks(i, 1)?;
            i.set_file_acl(b);
            b
        };
        if self.g.has_csum() {
            let c = self.xattr_block_csum(blk, &data);
            w32(&mut data, 0x10, c);
        }
        self.cache.get_mut(blk)?.copy_from_slice(&data);
        Ok(())
    }

    /// Drops the inode's reference to its attribute block.
    pub fn xattr_release(&mut self, _ino: u32, i: &mut DiskInode) -> KResult<()> {
        let blk = i.file_acl();
        if blk == 0 {
            return Ok(());
        }
        let mut data = self.read_xattr_block(blk)?;
        let refs = r32(&data, 4);
        if refs > 1 {
            w32(&mut data, 4, refs - 1);
            if self.g.has_csum() {
                let c = self.xattr_block_csum(blk, &data);
                w32(&mut data, 0x10, c);
            }
            self.cache.get_mut(blk)?.copy_from_slice(&data);
        } else {
            self.free_blocks(blk, 1, true)?;
        }
        self.inode_add_blocks(i, -1)?;
        i.set_file_acl(0);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acl_round_trips_through_the_disk_format() {
        let mut v = 2u32.to_le_bytes().to_vec();
        for (tag, perm, id) in [(1u16, 6u16, u32::MAX), (2, 4, 1000), (4, 4, u32::MAX), (0x10, 7, u32::MAX), (0x20, 0, u32::MAX)] {
            v.extend_from_slice(&tag.to_le_bytes());
            v.extend_from_slice(&perm.to_le_bytes());
            v.extend_from_slice(&id.to_le_bytes());
        }
        let d = acl_to_disk(&v).unwrap();
        assert_eq!(d.len(), 4 + 4 * 4 + 8);
        assert_eq!(acl_from_disk(&d).unwrap(), v);
    }

    #[test]
    fn names_split_into_index_and_suffix() {
        assert_eq!(split_name(b"user.foo").unwrap(), (1, b"foo".to_vec()));
        assert_eq!(split_name(b"system.posix_acl_access").unwrap(), (2, vec![]));
        assert_eq!(split_name(b"bogus.x"), Err(Errno::EOPNOTSUPP));
    }
}
