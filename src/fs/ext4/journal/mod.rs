//! The jbd2 journal inside the filesystem (inode 8): its superblock and
//! block formats, where its blocks live on disk, and the bookkeeping of the
//! running log (head, used space, blocks journaled since the last
//! checkpoint, revokes pending). `replay` recovers a log left by a crash;
//! `commit` writes transactions and checkpoints them.

pub mod commit;
pub mod replay;

use std::collections::HashSet;

use super::csum::crc32c;
use super::layout::*;
use super::{EUCLEAN, KResult};
use crate::abi::Errno;

pub const JBD2_MAGIC: u32 = 0xC03B_3998;
pub const BT_DESCRIPTOR: u32 = 1;
pub const BT_COMMIT: u32 = 2;
pub const BT_SB_V1: u32 = 3;
pub const BT_SB_V2: u32 = 4;
pub const BT_REVOKE: u32 = 5;

pub const COMPAT_CHECKSUM: u32 = 0x1;
pub const INCOMPAT_REVOKE: u32 = 0x1;
pub const INCOMPAT_64BIT: u32 = 0x2;
pub const INCOMPAT_ASYNC_COMMIT: u32 = 0x4;
pub const INCOMPAT_CSUM_V2: u32 = 0x8;
pub const INCOMPAT_CSUM_V3: u32 = 0x10;
pub const INCOMPAT_FAST_COMMIT: u32 = 0x20;
const INCOMPAT_KNOWN: u32 = INCOMPAT_REVOKE | INCOMPAT_64BIT | INCOMPAT_ASYNC_COMMIT | INCOMPAT_CSUM_V2 | INCOMPAT_CSUM_V3;

pub const TAG_ESCAPE: u32 = 1;
pub const TAG_SAME_UUID: u32 = 2;
pub const TAG_LAST: u32 = 8;

// Journal superblock fields (big-endian).
pub const JS_BLOCKSIZE: usize = 0xC;
pub const JS_MAXLEN: usize = 0x10;
pub const JS_FIRST: usize = 0x14;
pub const JS_SEQUENCE: usize = 0x18;
pub const JS_START: usize = 0x1C;
pub const JS_ERRNO: usize = 0x20;
pub const JS_COMPAT: usize = 0x24;
pub const JS_INCOMPAT: usize = 0x28;
pub const JS_RO_COMPAT: usize = 0x2C;
pub const JS_UUID: usize = 0x30;
pub const JS_NR_USERS: usize = 0x40;
pub const JS_CHECKSUM_TYPE: usize = 0x50;
pub const JS_CHECKSUM: usize = 0xFC;
pub const JBD2_CRC32C: u8 = 4;

pub struct Journal {
    /// Journal logical block -> disk block runs: (lblk, pblk, len).
    pub map: Vec<(u32, u64, u32)>,
    pub bs: usize,
    pub maxlen: u32,
    pub first: u32,
    /// Next transaction id.
    pub sequence: u32,
    /// Next log block to write.
    pub head: u32,
    /// Log blocks holding transactions not yet checkpointed.
    pub used: u32,
    pub sb: Vec<u8>,
    /// Blocks whose latest copy is in the log and not yet checkpointed.
    pub journaled: HashSet<u64>,
    /// Revoke records for the running transaction.
    pub revokes: Vec<u64>,
}

impl Journal {
    pub fn incompat(&self) -> u32 {
        b32(&self.sb, JS_INCOMPAT)
    }
    pub fn csum_v3(&self) -> bool {
        self.incompat() & INCOMPAT_CSUM_V3 != 0
    }
    pub fn csum_v2(&self) -> bool {
        self.incompat() & INCOMPAT_CSUM_V2 != 0
    }
    pub fn has_csum(&self) -> bool {
        self.csum_v2() || self.csum_v3()
    }
    pub fn is_64(&self) -> bool {
        self.incompat() & INCOMPAT_64BIT != 0
    }
    pub fn seed(&self) -> u32 {
        crc32c(!0, &self.sb[JS_UUID..JS_UUID + 16])
    }
    /// Bytes of one descriptor tag (without the UUID that may follow).
    pub fn tag_bytes(&self) -> usize {
        if self.csum_v3() {
            return 16;
        }
        let mut sz = 12;
        if self.csum_v2() {
            sz += 2;
        }
        if self.is_64() { sz } else { sz - 4 }
    }
    /// Space at the end of descriptor and revoke blocks for their checksum.
    pub fn tail_bytes(&self) -> usize {
        if self.has_csum() { 4 } else { 0 }
    }
    pub fn capacity(&self) -> u32 {
        self.maxlen - self.first
    }
    /// The log position `n` blocks after `pos`, wrapping.
    pub fn advance(&self, pos: u32, n: u32) -> u32 {
        let cap = self.capacity();
        self.first + ((pos - self.first) as u64 + n as u64).rem_euclid(cap as u64) as u32
    }
    /// Disk block of journal block `lblk`.
    pub fn pblk(&self, lblk: u32) -> KResult<u64> {
        let i = self.map.partition_point(|&(l, _, _)| l <= lblk);
        let &(l, p, n) = self.map.get(i.wrapping_sub(1)).ok_or(EUCLEAN)?;
        if lblk >= l + n {
            return Err(EUCLEAN);
        }
        Ok(p + (lblk - l) as u64)
    }

    pub fn revoke(&mut self, blk: u64) {
        if self.journaled.contains(&blk) {
            self.revokes.push(blk);
        }
    }

    pub fn sb_csum(sb: &[u8]) -> u32 {
        let mut s = sb[..1024].to_vec();
        bw32(&mut s, JS_CHECKSUM, 0);
        crc32c(!0, &s)
    }

    /// Parses and checks the journal superblock (the first log block).
    pub fn load(sb: Vec<u8>, map: Vec<(u32, u64, u32)>, fs_bs: usize, inode_blocks: u64) -> KResult<Journal> {
        let bt = b32(&sb, 4);
        if b32(&sb, 0) != JBD2_MAGIC || (bt != BT_SB_V1 && bt != BT_SB_V2) {
            return Err(EUCLEAN);
        }
        if b32(&sb, JS_BLOCKSIZE) as usize != fs_bs {
            return Err(EUCLEAN);
        }
        let maxlen = b32(&sb, JS_MAXLEN);
        let first = b32(&sb, JS_FIRST);
        if maxlen as u64 > inode_blocks || first == 0 || first >= maxlen || maxlen - first < 32 {
            return Err(EUCLEAN);
        }
        let j = Journal {
            map,
            bs: fs_bs,
            maxlen,
            first,
            sequence: b32(&sb, JS_SEQUENCE),
            head: first,
            used: 0,
            sb,
            journaled: HashSet::new(),
            revokes: Vec::new(),
        };
        if bt == BT_SB_V2 {
            if j.incompat() & !INCOMPAT_KNOWN != 0 {
                return Err(Errno::EINVAL);
            }
            if j.has_csum() && Journal::sb_csum(&j.sb) != b32(&j.sb, JS_CHECKSUM) {
                return Err(EUCLEAN);
            }
        }
        let start = b32(&j.sb, JS_START);
        if start != 0 && (start < first || start >= maxlen) {
            return Err(EUCLEAN);
        }
        Ok(j)
    }

    /// Whether the log holds transactions to replay.
    pub fn needs_recovery(&self) -> bool {
        b32(&self.sb, JS_START) != 0
    }

    /// Prepares the superblock for writing: features we write with, and
    /// its checksum.
    pub fn set_features(&mut self, csum: bool, is_64: bool) {
        if b32(&self.sb, 4) != BT_SB_V2 {
            bw32(&mut self.sb, 4, BT_SB_V2);
        }
        let mut incompat = self.incompat() | INCOMPAT_REVOKE;
        if csum {
            incompat = (incompat & !INCOMPAT_CSUM_V2) | INCOMPAT_CSUM_V3;
            let compat = b32(&self.sb, JS_COMPAT) & !COMPAT_CHECKSUM;
            bw32(&mut self.sb, JS_COMPAT, compat);
            self.sb[JS_CHECKSUM_TYPE] = JBD2_CRC32C;
        }
        if is_64 {
            incompat |= INCOMPAT_64BIT;
        }
        incompat &= !INCOMPAT_ASYNC_COMMIT;
        bw32(&mut self.sb, JS_INCOMPAT, incompat);
        if b32(&self.sb, JS_NR_USERS) == 0 {
            bw32(&mut self.sb, JS_NR_USERS, 1);
        }
    }

    pub fn seal_sb(&mut self) {
        if self.has_csum() {
            let c = Journal::sb_csum(&self.sb);
            bw32(&mut self.sb, JS_CHECKSUM, c);
        }
    }

    /// Checksum of a descriptor or revoke block (tail zeroed).
    pub fn block_tail_csum(&self, block: &[u8]) -> u32 {
        let mut b = block.to_vec();
        let t = b.len() - 4;
        bw32(&mut b, t, 0);
        crc32c(self.seed(), &b)
    }

    /// Checksum of a commit block (h_chksum[0] zeroed).
    pub fn commit_csum(&self, block: &[u8]) -> u32 {
        let mut b = block.to_vec();
        b[12] = 0;
        b[13] = 0;
        bw32(&mut b, 16, 0);
        crc32c(self.seed(), &b)
    }

    /// The v3 (or v2, truncated) checksum of a logged data block.
    pub fn tag_csum(&self, seq: u32, data: &[u8]) -> u32 {
        let s = crc32c(self.seed(), &seq.to_be_bytes());
        crc32c(s, data)
    }
}
