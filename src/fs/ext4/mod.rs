//! ext4 (and ext2/ext3): a read-write engine for disk images, with jbd2
//! journaling in ordered mode, metadata checksums, htree directories,
//! extended attributes and crash recovery. It names nothing in vkernel but
//! `crate::abi` and `crate::block`; the VFS glue wraps the `Ext4` object's
//! operations, which work by inode number.
//!
//! Lock order: `Ext4::inner` (one mutex per mounted filesystem) is the only
//! lock; it is held for a whole operation, including device I/O, and never
//! while calling back into the caller (readdir feeds its sink in batches
//! with the lock released).
//!
//! Corrupt on-disk data yields EUCLEAN (Linux's EFSCORRUPTED), never a
//! panic: every structure is checked before use and every walk is bounded
//! by on-disk limits. After such an error the filesystem stops writing.

// The VFS glue (Inode/FileOps, mounting, page cache) comes after the tree
// restructure; until then most of this API has callers only in tests.
#![allow(dead_code)]

mod alloc;
mod blockmap;
mod cache;
mod csum;
mod dir;
mod extent;
mod file;
mod fs;
mod group;
mod htree;
mod inline;
mod inode;
mod journal;
mod layout;
mod namei;
mod orphan;
mod superblock;
pub mod vfs;
mod vfs_inode;
mod xattr;

#[cfg(test)]
mod tests;

// The engine's public surface, for the VFS glue.
#[allow(unused_imports)]
pub use extent::Extent;
#[allow(unused_imports)]
pub use file::Mapping;
#[allow(unused_imports)]
pub use fs::{Ext4, MountOptions};
#[allow(unused_imports)]
pub use namei::{RENAME_EXCHANGE, RENAME_NOREPLACE};
#[allow(unused_imports)]
pub use superblock::Geometry;
#[allow(unused_imports)]
pub use xattr::{XATTR_CREATE, XATTR_REPLACE};

pub use crate::abi::{Errno, KResult, Timespec};

/// Linux's EFSCORRUPTED: a structure on disk is inconsistent.
pub const EUCLEAN: Errno = Errno(117);

/// The ext2/3/4 superblock magic, which statfs reports as f_type.
pub const EXT4_SUPER_MAGIC: u32 = 0xEF53;

/// An inode's attributes (what stat/statx report).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Attr {
    pub ino: u32,
    pub mode: u32,
    pub nlink: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    /// 512-byte sectors in use.
    pub blocks: u64,
    /// Device number (Linux dev_t encoding) of a device node.
    pub rdev: u64,
    pub atime: Timespec,
    pub mtime: Timespec,
    pub ctime: Timespec,
    pub crtime: Timespec,
    pub blksize: u32,
    pub generation: u32,
    /// ext4 inode flags (FS_IOC_GETFLAGS).
    pub flags: u32,
}

/// Changes for `setattr`; `None` leaves a field alone. ctime becomes now
/// unless given.
#[derive(Clone, Copy, Debug, Default)]
pub struct SetAttr {
    pub mode: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub size: Option<u64>,
    pub atime: Option<Timespec>,
    pub mtime: Option<Timespec>,
    pub ctime: Option<Timespec>,
}

/// statfs figures (in blocks of `block_size`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FsStat {
    pub block_size: u32,
    pub blocks: u64,
    pub blocks_free: u64,
    pub blocks_available: u64,
    pub files: u64,
    pub files_free: u64,
    pub name_max: u32,
    pub fsid: [u32; 2],
}

/// One directory entry handed to a readdir sink.
pub struct DirEntry<'a> {
    pub ino: u32,
    /// getdents64 d_type.
    pub dtype: u8,
    pub name: &'a [u8],
    /// Cookie to resume after this entry.
    pub next_cookie: u64,
}
