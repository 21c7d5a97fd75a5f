//! The ext4 superblock: parsing and validating it at mount (every derived
//! figure is bounded so later loops cannot run away), feature policy (what
//! we can read, what we can write), and its checksum. The raw 1024 bytes are
//! kept so fields we do not interpret are written back unchanged.

use super::csum::crc32c;
use super::layout::*;
use super::{EUCLEAN, KResult};
use crate::abi::Errno;

pub const SUPERBLOCK_OFFSET: u64 = 1024;
pub const SUPER_MAGIC: u16 = 0xEF53;

// s_feature_compat
pub const COMPAT_HAS_JOURNAL: u32 = 0x4;
pub const COMPAT_EXT_ATTR: u32 = 0x8;
pub const COMPAT_RESIZE_INODE: u32 = 0x10;
pub const COMPAT_DIR_INDEX: u32 = 0x20;
pub const COMPAT_SPARSE_SUPER2: u32 = 0x200;
pub const COMPAT_FAST_COMMIT: u32 = 0x400;
pub const COMPAT_ORPHAN_FILE: u32 = 0x1000;

// s_feature_incompat
pub const INCOMPAT_COMPRESSION: u32 = 0x1;
pub const INCOMPAT_FILETYPE: u32 = 0x2;
pub const INCOMPAT_RECOVER: u32 = 0x4;
pub const INCOMPAT_JOURNAL_DEV: u32 = 0x8;
pub const INCOMPAT_META_BG: u32 = 0x10;
pub const INCOMPAT_EXTENTS: u32 = 0x40;
pub const INCOMPAT_64BIT: u32 = 0x80;
pub const INCOMPAT_MMP: u32 = 0x100;
pub const INCOMPAT_FLEX_BG: u32 = 0x200;
pub const INCOMPAT_EA_INODE: u32 = 0x400;
pub const INCOMPAT_DIRDATA: u32 = 0x1000;
pub const INCOMPAT_CSUM_SEED: u32 = 0x2000;
pub const INCOMPAT_LARGEDIR: u32 = 0x4000;
pub const INCOMPAT_INLINE_DATA: u32 = 0x8000;
pub const INCOMPAT_ENCRYPT: u32 = 0x10000;
pub const INCOMPAT_CASEFOLD: u32 = 0x20000;

// s_feature_ro_compat
pub const RO_COMPAT_SPARSE_SUPER: u32 = 0x1;
pub const RO_COMPAT_LARGE_FILE: u32 = 0x2;
pub const RO_COMPAT_BTREE_DIR: u32 = 0x4;
pub const RO_COMPAT_HUGE_FILE: u32 = 0x8;
pub const RO_COMPAT_GDT_CSUM: u32 = 0x10;
pub const RO_COMPAT_DIR_NLINK: u32 = 0x20;
pub const RO_COMPAT_EXTRA_ISIZE: u32 = 0x40;
pub const RO_COMPAT_QUOTA: u32 = 0x100;
pub const RO_COMPAT_BIGALLOC: u32 = 0x200;
pub const RO_COMPAT_METADATA_CSUM: u32 = 0x400;
pub const RO_COMPAT_READONLY: u32 = 0x1000;
pub const RO_COMPAT_PROJECT: u32 = 0x2000;
pub const RO_COMPAT_VERITY: u32 = 0x8000;
pub const RO_COMPAT_ORPHAN_PRESENT: u32 = 0x10000;

/// Incompatible features this engine understands well enough to mount at all.
const INCOMPAT_READ: u32 = INCOMPAT_FILETYPE
    | INCOMPAT_RECOVER
    | INCOMPAT_META_BG
    | INCOMPAT_EXTENTS
    | INCOMPAT_64BIT
    | INCOMPAT_FLEX_BG
    | INCOMPAT_CSUM_SEED
    | INCOMPAT_LARGEDIR
    | INCOMPAT_MMP
    | INCOMPAT_INLINE_DATA;
/// Read-only-compatible features we keep consistent when writing.
const RO_COMPAT_WRITE: u32 = RO_COMPAT_SPARSE_SUPER
    | RO_COMPAT_LARGE_FILE
    | RO_COMPAT_BTREE_DIR
    | RO_COMPAT_HUGE_FILE
    | RO_COMPAT_GDT_CSUM
    | RO_COMPAT_DIR_NLINK
    | RO_COMPAT_EXTRA_ISIZE
    | RO_COMPAT_METADATA_CSUM
    | RO_COMPAT_PROJECT
    | RO_COMPAT_ORPHAN_PRESENT;

// s_state
pub const STATE_VALID: u16 = 0x1;
pub const STATE_ERROR: u16 = 0x2;

// s_flags
pub const FLAG_UNSIGNED_HASH: u32 = 0x2;

// Offsets of the fields the engine uses.
pub const S_INODES_COUNT: usize = 0x0;
pub const S_BLOCKS_COUNT_LO: usize = 0x4;
pub const S_R_BLOCKS_COUNT_LO: usize = 0x8;
pub const S_FREE_BLOCKS_COUNT_LO: usize = 0xC;
pub const S_FREE_INODES_COUNT: usize = 0x10;
pub const S_FIRST_DATA_BLOCK: usize = 0x14;
pub const S_LOG_BLOCK_SIZE: usize = 0x18;
pub const S_LOG_CLUSTER_SIZE: usize = 0x1C;
pub const S_BLOCKS_PER_GROUP: usize = 0x20;
pub const S_CLUSTERS_PER_GROUP: usize = 0x24;
pub const S_INODES_PER_GROUP: usize = 0x28;
pub const S_MTIME: usize = 0x2C;
pub const S_WTIME: usize = 0x30;
pub const S_MNT_COUNT: usize = 0x34;
pub const S_MAGIC: usize = 0x38;
pub const S_STATE: usize = 0x3A;
pub const S_REV_LEVEL: usize = 0x4C;
pub const S_FIRST_INO: usize = 0x54;
pub const S_INODE_SIZE: usize = 0x58;
pub const S_FEATURE_COMPAT: usize = 0x5C;
pub const S_FEATURE_INCOMPAT: usize = 0x60;
pub const S_FEATURE_RO_COMPAT: usize = 0x64;
pub const S_UUID: usize = 0x68;
pub const S_RESERVED_GDT_BLOCKS: usize = 0xCE;
pub const S_JOURNAL_INUM: usize = 0xE0;
pub const S_JOURNAL_DEV: usize = 0xE4;
pub const S_LAST_ORPHAN: usize = 0xE8;
pub const S_HASH_SEED: usize = 0xEC;
pub const S_DEF_HASH_VERSION: usize = 0xFC;
pub const S_DESC_SIZE: usize = 0xFE;
pub const S_FIRST_META_BG: usize = 0x104;
pub const S_BLOCKS_COUNT_HI: usize = 0x150;
pub const S_R_BLOCKS_COUNT_HI: usize = 0x154;
pub const S_FREE_BLOCKS_COUNT_HI: usize = 0x158;
pub const S_MIN_EXTRA_ISIZE: usize = 0x15C;
pub const S_WANT_EXTRA_ISIZE: usize = 0x15E;
pub const S_FLAGS: usize = 0x160;
pub const S_LOG_GROUPS_PER_FLEX: usize = 0x174;
pub const S_CHECKSUM_TYPE: usize = 0x175;
pub const S_KBYTES_WRITTEN: usize = 0x178;
pub const S_ERROR_COUNT: usize = 0x194;
pub const S_BACKUP_BGS: usize = 0x24C;
pub const S_CHECKSUM_SEED: usize = 0x270;
pub const S_ORPHAN_FILE_INUM: usize = 0x280;
pub const S_OVERHEAD_CLUSTERS: usize = 0x248;
pub const S_CHECKSUM: usize = 0x3FC;

/// Figures derived from the superblock at mount; immutable afterwards.
#[derive(Clone, Copy, Debug)]
pub struct Geometry {
    pub block_size: u32,
    pub log_block_size: u32,
    pub blocks_count: u64,
    pub first_data_block: u64,
    pub blocks_per_group: u32,
    pub inodes_per_group: u32,
    pub inodes_count: u32,
    pub inode_size: u32,
    pub first_ino: u32,
    pub desc_size: u32,
    pub group_count: u32,
    pub descs_per_block: u32,
    pub compat: u32,
    pub incompat: u32,
    pub ro_compat: u32,
    pub csum_seed: u32,
    pub hash_seed: [u32; 4],
    pub def_hash_version: u8,
    pub hash_unsigned: bool,
    pub reserved_gdt_blocks: u32,
    pub first_meta_bg: u32,
    pub log_groups_per_flex: u32,
    pub journal_inum: u32,
    pub want_extra_isize: u16,
    pub backup_bgs: [u32; 2],
    pub uuid: [u8; 16],
}

impl Geometry {
    pub fn has_csum(&self) -> bool {
        self.ro_compat & RO_COMPAT_METADATA_CSUM != 0
    }
    pub fn has_gdt_csum(&self) -> bool {
        self.ro_compat & RO_COMPAT_GDT_CSUM != 0
    }
    /// Either kind of group descriptor checksum (uninit_bg or metadata_csum):
    /// both enable the BLOCK_UNINIT/INODE_UNINIT lazy-init flags.
    pub fn has_group_csum(&self) -> bool {
        self.has_csum() || self.has_gdt_csum()
    }
    pub fn has_extents(&self) -> bool {
        self.incompat & INCOMPAT_EXTENTS != 0
    }
    pub fn is_64bit(&self) -> bool {
        self.incompat & INCOMPAT_64BIT != 0
    }
    pub fn has_flex_bg(&self) -> bool {
        self.incompat & INCOMPAT_FLEX_BG != 0
    }
    pub fn has_filetype(&self) -> bool {
        self.incompat & INCOMPAT_FILETYPE != 0
    }
    pub fn has_journal(&self) -> bool {
        self.compat & COMPAT_HAS_JOURNAL != 0
    }
    pub fn has_dir_index(&self) -> bool {
        self.compat & COMPAT_DIR_INDEX != 0
    }
    pub fn has_largedir(&self) -> bool {
        self.incompat & INCOMPAT_LARGEDIR != 0
    }
    pub fn has_dir_nlink(&self) -> bool {
        self.ro_compat & RO_COMPAT_DIR_NLINK != 0
    }
    pub fn has_huge_file(&self) -> bool {
        self.ro_compat & RO_COMPAT_HUGE_FILE != 0
    }
    pub fn has_large_file(&self) -> bool {
        self.ro_compat & RO_COMPAT_LARGE_FILE != 0
    }
    pub fn has_xattr(&self) -> bool {
        self.compat & COMPAT_EXT_ATTR != 0
    }
    pub fn has_meta_bg(&self) -> bool {
        self.incompat & INCOMPAT_META_BG != 0
    }
    pub fn has_sparse_super(&self) -> bool {
        self.ro_compat & RO_COMPAT_SPARSE_SUPER != 0
    }
    pub fn has_sparse_super2(&self) -> bool {
        self.compat & COMPAT_SPARSE_SUPER2 != 0
    }
    pub fn has_orphan_file(&self) -> bool {
        self.compat & COMPAT_ORPHAN_FILE != 0
    }
    pub fn bs(&self) -> usize {
        self.block_size as usize
    }
    /// Inodes of one inode-table block.
    pub fn inodes_per_block(&self) -> u32 {
        self.block_size / self.inode_size
    }
    /// Blocks one group's inode table occupies.
    pub fn inode_table_blocks(&self) -> u32 {
        self.inodes_per_group.div_ceil(self.inodes_per_block())
    }
    pub fn group_first_block(&self, group: u32) -> u64 {
        self.first_data_block + group as u64 * self.blocks_per_group as u64
    }
    /// Blocks in `group` (the last one may be short).
    pub fn blocks_in_group(&self, group: u32) -> u32 {
        let start = self.group_first_block(group);
        (self.blocks_count - start).min(self.blocks_per_group as u64) as u32
    }
    pub fn group_of_block(&self, block: u64) -> u32 {
        ((block.saturating_sub(self.first_data_block)) / self.blocks_per_group as u64) as u32
    }
    pub fn group_of_inode(&self, ino: u32) -> u32 {
        (ino - 1) / self.inodes_per_group
    }
    /// Whether `group` holds a superblock backup (sparse_super: 0, 1 and
    /// powers of 3, 5, 7; sparse_super2: the two listed groups).
    pub fn group_has_super(&self, group: u32) -> bool {
        if group == 0 {
            return true;
        }
        if self.has_sparse_super2() {
            return group == self.backup_bgs[0] || group == self.backup_bgs[1];
        }
        if group <= 1 || !self.has_sparse_super() {
            return true;
        }
        if group & 1 == 0 {
            return false;
        }
        let is_power = |mut g: u32, base: u32| {
            while g.is_multiple_of(base) {
                g /= base;
            }
            g == 1
        };
        is_power(group, 3) || is_power(group, 5) || is_power(group, 7)
    }
    /// Blocks at the start of `group` taken by the superblock backup, the
    /// group descriptor table and its reserved growth blocks.
    pub fn group_super_overhead(&self, group: u32) -> u32 {
        if self.has_meta_bg() {
            let meta_group = group / self.descs_per_block;
            let idx = group % self.descs_per_block;
            let sb = self.group_has_super(group) as u32;
            if meta_group >= self.first_meta_bg {
                let desc = (idx == 0 || idx == 1 || idx == self.descs_per_block - 1) as u32;
                return sb + desc;
            }
            if sb == 0 {
                return 0;
            }
            return 1 + self.first_meta_bg.min(self.gdt_blocks()) + self.reserved_gdt_blocks;
        }
        if !self.group_has_super(group) {
            return 0;
        }
        1 + self.gdt_blocks() + self.reserved_gdt_blocks
    }
    pub fn gdt_blocks(&self) -> u32 {
        self.group_count.div_ceil(self.descs_per_block)
    }
    /// Block holding group descriptor `group`'s table entry (primary copy).
    pub fn desc_block(&self, group: u32) -> u64 {
        let index = group / self.descs_per_block;
        if self.has_meta_bg() && index >= self.first_meta_bg {
            let first_group = index * self.descs_per_block;
            return self.group_first_block(first_group) + self.group_has_super(first_group) as u64;
        }
        self.first_data_block + 1 + index as u64
    }
    pub fn flex_size(&self) -> u32 {
        if self.has_flex_bg() && self.log_groups_per_flex < 31 { 1 << self.log_groups_per_flex } else { 1 }
    }
    /// Longest logical block number a file may use, and the byte limit.
    pub fn max_file_size(&self, extents: bool) -> u64 {
        let bs = self.block_size as u64;
        if extents {
            // 2^32 - 1 logical blocks, and i_blocks counted in 512-byte
            // sectors unless huge_file.
            let mut max = (u32::MAX as u64) * bs;
            if !self.has_huge_file() {
                max = max.min(((1u64 << 32) - 1) * 512);
            }
            max
        } else {
            let p = bs / 4;
            let blocks = 12 + p + p * p + p * p * p;
            let mut max = blocks.min(u32::MAX as u64) * bs;
            if !self.has_huge_file() {
                max = max.min(((1u64 << 32) - 1) * 512 - bs * (p + 2));
            }
            if !self.has_large_file() {
                max = max.min((1 << 31) - 1);
            }
            max
        }
    }
}

pub struct Superblock {
    pub raw: Vec<u8>,
}

fn corrupt(what: &str) -> Errno {
    log_mount_error(what);
    EUCLEAN
}

fn invalid(what: &str) -> Errno {
    log_mount_error(what);
    Errno::EINVAL
}

/// Mount errors are worth a line: a person pointed vkernel at the image.
fn log_mount_error(what: &str) {
    if cfg!(not(test)) {
        eprintln!("vkernel: ext4: {what}");
    }
}

impl Superblock {
    /// Parses and checks the superblock, returning it with its geometry.
    /// `dev_size` bounds the block count; `writable` asks whether the
    /// feature set allows writing (EROFS when not).
    pub fn parse(raw: Vec<u8>, dev_size: u64) -> KResult<(Superblock, Geometry)> {
        if raw.len() < 1024 || r16(&raw, S_MAGIC) != SUPER_MAGIC {
            return Err(invalid("no ext2/3/4 superblock (bad magic)"));
        }
        let sb = Superblock { raw };
        let b = &sb.raw;
        let ro_compat = r32(b, S_FEATURE_RO_COMPAT);
        if ro_compat & RO_COMPAT_METADATA_CSUM != 0 {
            if r8(b, S_CHECKSUM_TYPE) != 1 {
                return Err(corrupt("unknown superblock checksum type"));
            }
            if sb.compute_csum() != r32(b, S_CHECKSUM) {
                return Err(corrupt("superblock checksum does not match"));
            }
        }
        let log_block_size = r32(b, S_LOG_BLOCK_SIZE);
        if log_block_size > 6 {
            return Err(corrupt("block size out of range"));
        }
        let block_size = 1024u32 << log_block_size;
        if r32(b, S_LOG_CLUSTER_SIZE) != log_block_size || ro_compat & RO_COMPAT_BIGALLOC != 0 {
            return Err(invalid("bigalloc is not supported"));
        }
        let incompat = r32(b, S_FEATURE_INCOMPAT);
        let compat = r32(b, S_FEATURE_COMPAT);
        if incompat & !INCOMPAT_READ != 0 {
            return Err(invalid(&format!("unsupported incompatible features {:#x}", incompat & !INCOMPAT_READ)));
        }
        let rev = r32(b, S_REV_LEVEL);
        let (inode_size, first_ino) = if rev == 0 { (128, 11) } else { (r16(b, S_INODE_SIZE) as u32, r32(b, S_FIRST_INO)) };
        if inode_size < 128 || inode_size > block_size || !inode_size.is_power_of_two() {
            return Err(corrupt("inode size out of range"));
        }
        let blocks_per_group = r32(b, S_BLOCKS_PER_GROUP);
        let inodes_per_group = r32(b, S_INODES_PER_GROUP);
        if blocks_per_group == 0 || blocks_per_group > block_size * 8 || r32(b, S_CLUSTERS_PER_GROUP) != blocks_per_group {
            return Err(corrupt("blocks per group out of range"));
        }
        if inodes_per_group == 0 || inodes_per_group > block_size * 8 || !inodes_per_group.is_multiple_of(block_size / inode_size) {
            return Err(corrupt("inodes per group out of range"));
        }
        let is_64 = incompat & INCOMPAT_64BIT != 0;
        let mut blocks_count = r32(b, S_BLOCKS_COUNT_LO) as u64;
        if is_64 {
            blocks_count |= (r32(b, S_BLOCKS_COUNT_HI) as u64) << 32;
        }
        let first_data_block = r32(b, S_FIRST_DATA_BLOCK) as u64;
        if first_data_block != (block_size == 1024) as u64 || blocks_count <= first_data_block + 1 {
            return Err(corrupt("block count or first data block out of range"));
        }
        if blocks_count.checked_mul(block_size as u64).is_none_or(|n| n > dev_size) {
            return Err(invalid("the filesystem is larger than the device"));
        }
        let group_count = (blocks_count - first_data_block).div_ceil(blocks_per_group as u64);
        let inodes_count = r32(b, S_INODES_COUNT);
        if group_count > u32::MAX as u64 || group_count * inodes_per_group as u64 != inodes_count as u64 {
            return Err(corrupt("inode count does not match the group count"));
        }
        if first_ino < 11 || first_ino >= inodes_count {
            return Err(corrupt("first inode out of range"));
        }
        let desc_size = if is_64 { r16(b, S_DESC_SIZE) as u32 } else { 32 };
        if !(32..=1024).contains(&desc_size) || !desc_size.is_power_of_two() || (is_64 && desc_size < 64) {
            return Err(corrupt("group descriptor size out of range"));
        }
        let csum_seed = if incompat & INCOMPAT_CSUM_SEED != 0 { r32(b, S_CHECKSUM_SEED) } else { crc32c(!0, &b[S_UUID..S_UUID + 16]) };
        let mut hash_seed = [0u32; 4];
        for (i, h) in hash_seed.iter_mut().enumerate() {
            *h = r32(b, S_HASH_SEED + 4 * i);
        }
        let mut uuid = [0u8; 16];
        uuid.copy_from_slice(&b[S_UUID..S_UUID + 16]);
        let descs_per_block = block_size / desc_size;
        let reserved_gdt_blocks = r16(b, S_RESERVED_GDT_BLOCKS) as u32;
        if reserved_gdt_blocks > block_size / 4 {
            return Err(corrupt("reserved GDT block count out of range"));
        }
        let want = if inode_size > 128 { r16(b, S_WANT_EXTRA_ISIZE).max(32) } else { 0 };
        let g = Geometry {
            block_size,
            log_block_size,
            blocks_count,
            first_data_block,
            blocks_per_group,
            inodes_per_group,
            inodes_count,
            inode_size,
            first_ino,
            desc_size,
            group_count: group_count as u32,
            descs_per_block,
            compat,
            incompat,
            ro_compat,
            csum_seed,
            hash_seed,
            def_hash_version: r8(b, S_DEF_HASH_VERSION),
            hash_unsigned: r32(b, S_FLAGS) & FLAG_UNSIGNED_HASH != 0,
            reserved_gdt_blocks,
            first_meta_bg: r32(b, S_FIRST_META_BG),
            log_groups_per_flex: r8(b, S_LOG_GROUPS_PER_FLEX) as u32,
            journal_inum: r32(b, S_JOURNAL_INUM),
            want_extra_isize: want.min((inode_size as u16).saturating_sub(128)),
            backup_bgs: [r32(b, S_BACKUP_BGS), r32(b, S_BACKUP_BGS + 4)],
            uuid,
        };
        if g.has_meta_bg() && g.first_meta_bg > g.gdt_blocks() {
            return Err(corrupt("first_meta_bg out of range"));
        }
        // The descriptor table (and reserved blocks) must fit in group 0.
        if !g.has_meta_bg() && 1 + g.gdt_blocks() as u64 + g.reserved_gdt_blocks as u64 >= blocks_per_group as u64 {
            return Err(corrupt("group descriptor table larger than a group"));
        }
        Ok((sb, g))
    }

    /// Why this filesystem cannot be written, if it cannot.
    pub fn write_blocker(&self) -> Option<String> {
        let ro = r32(&self.raw, S_FEATURE_RO_COMPAT);
        if ro & !RO_COMPAT_WRITE != 0 {
            return Some(format!("read-only-compatible features {:#x} are not supported for writing", ro & !RO_COMPAT_WRITE));
        }
        let incompat = r32(&self.raw, S_FEATURE_INCOMPAT);
        if incompat & INCOMPAT_INLINE_DATA != 0 {
            return Some("inline_data is supported read-only".into());
        }
        if incompat & INCOMPAT_MMP != 0 {
            return Some("multi-mount protection is not supported for writing".into());
        }
        let compat = r32(&self.raw, S_FEATURE_COMPAT);
        if compat & COMPAT_FAST_COMMIT != 0 {
            return Some("fast_commit journals are not supported for writing".into());
        }
        if r32(&self.raw, S_JOURNAL_DEV) != 0 && compat & COMPAT_HAS_JOURNAL != 0 && r32(&self.raw, S_JOURNAL_INUM) == 0 {
            return Some("external journals are not supported".into());
        }
        None
    }

    pub fn compute_csum(&self) -> u32 {
        crc32c(!0, &self.raw[..S_CHECKSUM])
    }

    pub fn update_csum(&mut self) {
        if r32(&self.raw, S_FEATURE_RO_COMPAT) & RO_COMPAT_METADATA_CSUM != 0 {
            let c = self.compute_csum();
            w32(&mut self.raw, S_CHECKSUM, c);
        }
    }

    pub fn get32(&self, off: usize) -> u32 {
        r32(&self.raw, off)
    }
    pub fn set32(&mut self, off: usize, v: u32) {
        w32(&mut self.raw, off, v)
    }
    pub fn get16(&self, off: usize) -> u16 {
        r16(&self.raw, off)
    }
    pub fn set16(&mut self, off: usize, v: u16) {
        w16(&mut self.raw, off, v)
    }

    pub fn free_blocks(&self) -> u64 {
        self.get32(S_FREE_BLOCKS_COUNT_LO) as u64 | (self.get32(S_FREE_BLOCKS_COUNT_HI) as u64) << 32
    }
    pub fn set_free_blocks(&mut self, v: u64, is_64: bool) {
        self.set32(S_FREE_BLOCKS_COUNT_LO, v as u32);
        if is_64 {
            self.set32(S_FREE_BLOCKS_COUNT_HI, (v >> 32) as u32);
        }
    }
    pub fn reserved_blocks(&self, is_64: bool) -> u64 {
        let hi = if is_64 { (self.get32(S_R_BLOCKS_COUNT_HI) as u64) << 32 } else { 0 };
        self.get32(S_R_BLOCKS_COUNT_LO) as u64 | hi
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparse_super_backups_are_in_groups_0_1_and_powers_of_3_5_7() {
        let raw = vec![0u8; 1024];
        let _ = raw;
        let g = Geometry {
            block_size: 4096,
            log_block_size: 2,
            blocks_count: 1 << 30,
            first_data_block: 0,
            blocks_per_group: 32768,
            inodes_per_group: 8192,
            inodes_count: 0,
            inode_size: 256,
            first_ino: 11,
            desc_size: 64,
            group_count: 32768,
            descs_per_block: 64,
            compat: 0,
            incompat: 0,
            ro_compat: RO_COMPAT_SPARSE_SUPER,
            csum_seed: 0,
            hash_seed: [0; 4],
            def_hash_version: 1,
            hash_unsigned: false,
            reserved_gdt_blocks: 0,
            first_meta_bg: 0,
            log_groups_per_flex: 4,
            journal_inum: 8,
            want_extra_isize: 32,
            backup_bgs: [0; 2],
            uuid: [0; 16],
        };
        let with: Vec<u32> = (0..100).filter(|&x| g.group_has_super(x)).collect();
        assert_eq!(with, vec![0, 1, 3, 5, 7, 9, 25, 27, 49, 81]);
    }
}
