//! inline_data (read-only): small files, directories and symlinks whose
//! contents live in the inode — the first 60 bytes in i_block, the rest in
//! the in-inode attribute "system.data". An inline directory starts with
//! its parent's inode number; its entries follow in the usual format.

use super::dir::{RawEntry, rec_len_for};
use super::fs::Inner;
use super::inode::{DiskInode, FL_INLINE_DATA, I_BLOCK_LEN};
use super::layout::*;
use super::{EUCLEAN, KResult};

impl Inner {
    pub fn is_inline(&self, i: &DiskInode) -> bool {
        i.has_flag(FL_INLINE_DATA)
    }

    /// All inline bytes: i_block, then the "system.data" value.
    pub fn inline_bytes(&mut self, i: &DiskInode) -> KResult<Vec<u8>> {
        let mut v = i.i_block().to_vec();
        v.extend(self.inline_tail(i)?);
        Ok(v)
    }

    /// Entries of an inline directory region, checked like a block's.
    fn inline_region(&self, data: &[u8], base: usize, out: &mut Vec<(usize, RawEntry)>) -> KResult<()> {
        let mut off = 0;
        while off < data.len() {
            let ino = r32(data, off);
            let rec_len = r16(data, off + 4) as usize;
            let name_len = r8(data, off + 6) as usize;
            if rec_len < 8
                || !rec_len.is_multiple_of(4)
                || off + rec_len > data.len()
                || ino > self.g.inodes_count
                || (ino != 0 && rec_len < rec_len_for(name_len))
            {
                return Err(EUCLEAN);
            }
            if ino != 0 {
                let name = data.get(off + 8..off + 8 + name_len).ok_or(EUCLEAN)?.to_vec();
                out.push((base + off, RawEntry { off, ino, rec_len, ftype: r8(data, off + 7), name }));
            }
            off += rec_len;
        }
        Ok(())
    }

    /// (position, entry) for ".", ".." and every entry of an inline directory.
    pub fn inline_dir_entries(&mut self, ino: u32, d: &DiskInode) -> KResult<Vec<(u64, RawEntry)>> {
        let parent = r32(d.i_block(), 0);
        let mut out = vec![
            (0u64, RawEntry { off: 0, ino, rec_len: 0, ftype: 2, name: b".".to_vec() }),
            (1u64, RawEntry { off: 0, ino: parent, rec_len: 0, ftype: 2, name: b"..".to_vec() }),
        ];
        let mut found = Vec::new();
        let ib = d.i_block().to_vec();
        self.inline_region(&ib[4..I_BLOCK_LEN], 4, &mut found)?;
        let tail = self.inline_tail(d)?;
        self.inline_region(&tail, I_BLOCK_LEN, &mut found)?;
        out.extend(found.into_iter().map(|(pos, e)| (pos as u64, e)));
        Ok(out)
    }
}
