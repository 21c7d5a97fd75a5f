//! The inode interface every filesystem implements. Defaults answer the way
//! Linux does for an object that lacks the operation (e.g. `lookup` on a
//! regular file is ENOTDIR), so a filesystem implements only what it has.

use std::any::Any;
use std::sync::Arc;

use crate::abi::stat::{S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK, STATX_BASIC_STATS};
use crate::abi::{Errno, KResult, StatFs, Timespec};
use crate::fs::file::FileOps;
use crate::fs::posix_acl::{InitialAcls, PosixAcl};
use crate::fs::xattr::{ACL_ACCESS, ACL_DEFAULT};

pub type InodeRef = Arc<dyn Inode>;

/// `d_type` values for getdents64.
pub fn dtype_of_mode(mode: u32) -> u8 {
    match mode & S_IFMT {
        S_IFIFO => 1,
        S_IFCHR => 2,
        S_IFDIR => 4,
        S_IFBLK => 6,
        S_IFREG => 8,
        S_IFLNK => 10,
        S_IFSOCK => 12,
        _ => 0,
    }
}

/// An inode's metadata as `stat` reports it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Metadata {
    pub dev: u64,
    pub ino: u64,
    pub mode: u32,
    pub nlink: u64,
    pub uid: u32,
    pub gid: u32,
    pub rdev: u64,
    pub size: u64,
    pub blksize: u64,
    pub blocks: u64,
    pub atime: Timespec,
    pub mtime: Timespec,
    pub ctime: Timespec,
}

impl Metadata {
    /// `struct stat` for stat/fstat/newfstatat.
    pub fn to_stat(&self) -> crate::abi::Stat {
        crate::abi::Stat {
            st_dev: self.dev,
            st_ino: self.ino,
            st_nlink: self.nlink,
            st_mode: self.mode,
            st_uid: self.uid,
            st_gid: self.gid,
            pad0: 0,
            st_rdev: self.rdev,
            st_size: self.size as i64,
            st_blksize: self.blksize as i64,
            st_blocks: self.blocks as i64,
            st_atime: self.atime,
            st_mtime: self.mtime,
            st_ctime: self.ctime,
            reserved: [0; 3],
        }
    }

    /// `struct statx` with the basic stats (no birth time).
    pub fn to_statx(&self) -> crate::abi::Statx {
        use crate::fs::{dev_major, dev_minor};
        let ts = |t: Timespec| crate::abi::StatxTimestamp { tv_sec: t.tv_sec, tv_nsec: t.tv_nsec as u32, reserved: 0 };
        crate::abi::Statx {
            stx_mask: STATX_BASIC_STATS,
            stx_blksize: self.blksize as u32,
            stx_nlink: self.nlink as u32,
            stx_uid: self.uid,
            stx_gid: self.gid,
            stx_mode: self.mode as u16,
            stx_ino: self.ino,
            stx_size: self.size,
            stx_blocks: self.blocks,
            stx_atime: ts(self.atime),
            stx_ctime: ts(self.ctime),
            stx_mtime: ts(self.mtime),
            stx_rdev_major: dev_major(self.rdev),
            stx_rdev_minor: dev_minor(self.rdev),
            stx_dev_major: dev_major(self.dev),
            stx_dev_minor: dev_minor(self.dev),
            ..Default::default()
        }
    }

    pub fn file_type(&self) -> u32 {
        self.mode & S_IFMT
    }
    pub fn is_dir(&self) -> bool {
        self.file_type() == S_IFDIR
    }
}

/// Attribute changes for `setattr` (chmod, chown, truncate, utimensat).
#[derive(Clone, Copy, Debug, Default)]
pub struct SetAttr {
    pub mode: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub size: Option<u64>,
    pub atime: Option<Timespec>,
    pub mtime: Option<Timespec>,
}

/// One directory entry as `readdir` yields it.
pub struct DirEntry<'a> {
    pub ino: u64,
    pub dtype: u8,
    pub name: &'a [u8],
    /// The offset at which reading resumes after this entry.
    pub next_offset: u64,
}

pub trait Inode: Send + Sync + Any {
    fn metadata(&self) -> KResult<Metadata>;

    /// The filesystem's `statfs` answer.
    fn statfs(&self) -> KResult<StatFs>;

    fn as_any(&self) -> &dyn Any;

    /// `other` is the same inode behind another object (for filesystems
    /// that wrap one shared inode in a new object per lookup); the dentry
    /// cache keeps a name's dentry while this holds.
    fn same_inode(&self, _other: &InodeRef) -> bool {
        false
    }

    // ---- directories ----
    fn lookup(&self, _name: &[u8]) -> KResult<InodeRef> {
        Err(Errno::ENOTDIR)
    }
    /// Creates a regular file, directory, FIFO, socket or device node; `mode`
    /// carries the type bits (already masked by umask). EEXIST if present.
    fn create(&self, _name: &[u8], _mode: u32, _rdev: u64, _uid: u32, _gid: u32) -> KResult<InodeRef> {
        Err(Errno::ENOTDIR)
    }
    fn symlink(&self, _name: &[u8], _target: &[u8], _uid: u32, _gid: u32) -> KResult<InodeRef> {
        Err(Errno::ENOTDIR)
    }
    /// Adds a hard link `name` to `target` (same filesystem: checked by caller).
    fn link(&self, _name: &[u8], _target: &InodeRef) -> KResult<()> {
        Err(Errno::ENOTDIR)
    }
    /// Removes a non-directory entry.
    fn unlink(&self, _name: &[u8]) -> KResult<()> {
        Err(Errno::ENOTDIR)
    }
    /// Removes an empty directory entry.
    fn rmdir(&self, _name: &[u8]) -> KResult<()> {
        Err(Errno::ENOTDIR)
    }
    /// Moves `old_name` in this directory to `new_name` in `new_dir` (same fs).
    fn rename(&self, _old_name: &[u8], _new_dir: &InodeRef, _new_name: &[u8], _flags: u32) -> KResult<()> {
        Err(Errno::ENOTDIR)
    }
    /// Calls `sink` for entries from `offset` on (including "." and "..");
    /// stops early when `sink` returns false.
    fn readdir(&self, _offset: u64, _sink: &mut dyn FnMut(DirEntry<'_>) -> bool) -> KResult<()> {
        Err(Errno::ENOTDIR)
    }

    // ---- symlinks ----
    fn readlink(&self) -> KResult<Vec<u8>> {
        Err(Errno::EINVAL)
    }

    // ---- data ----
    fn read_at(&self, _offset: u64, _buf: &mut [u8]) -> KResult<usize> {
        Err(Errno::EINVAL)
    }
    fn write_at(&self, _offset: u64, _buf: &[u8]) -> KResult<usize> {
        Err(Errno::EINVAL)
    }
    /// A read that hands the file's bytes from `offset` (at most `len`) to
    /// `sink` in pieces, straight from the page cache rather than through
    /// a kernel buffer; None: the filesystem has no such path (`read_at`).
    fn read_pieces(&self, _offset: u64, _len: usize, _sink: &mut dyn FnMut(&[u8]) -> KResult<()>) -> Option<KResult<usize>> {
        None
    }
    /// A read from `offset` into pinned guest pages (`bufs`, whose total
    /// is the count), straight from the page cache or the disk; None: the
    /// filesystem has no such path (`read_pieces`, `read_at`).
    fn read_into(&self, _offset: u64, _bufs: &mut [&mut [u8]]) -> Option<KResult<usize>> {
        None
    }
    /// A write of the pinned guest pages `src` (in order) at `offset`, or
    /// at the end for None (an O_APPEND write, as `append`), straight into
    /// the page cache. Returns the bytes written and the offset after
    /// them; None: the filesystem has no such path (`write_at`).
    fn write_gather(&self, _offset: Option<u64>, _src: &[&[u8]]) -> Option<KResult<(usize, u64)>> {
        None
    }
    /// lseek SEEK_DATA (`data`) or SEEK_HOLE from `offset`, which is below
    /// the file's `size`: the first data (ENXIO if none before the end) or
    /// hole (the end counts as one) at or after it. The default is Linux's
    /// generic one: the whole file is data.
    fn seek_data_hole(&self, offset: u64, size: u64, data: bool) -> KResult<u64> {
        Ok(if data { offset } else { size })
    }
    /// An O_APPEND write: at the end of the file, atomically with respect
    /// to other appends where the filesystem can manage it. Returns the
    /// bytes written and the new end.
    fn append(&self, buf: &[u8]) -> KResult<(usize, u64)> {
        let size = self.metadata()?.size;
        let n = self.write_at(size, buf)?;
        Ok((n, size + n as u64))
    }
    fn setattr(&self, _attr: &SetAttr) -> KResult<()> {
        Err(Errno::EPERM)
    }
    /// fsync/fdatasync: the file's data and metadata on stable storage.
    fn sync(&self) -> KResult<()> {
        Ok(())
    }
    /// syncfs: everything of this inode's filesystem on stable storage.
    fn sync_fs(&self) -> KResult<()> {
        Ok(())
    }

    /// fallocate(2) with a mode the VFS has validated: 0 or KEEP_SIZE
    /// (preallocate), PUNCH_HOLE|KEEP_SIZE. Without preallocation, a
    /// filesystem extends the size (what a guest can observe of it).
    fn fallocate(&self, mode: u32, offset: u64, len: u64) -> KResult<()> {
        use crate::abi::fcntl::FALLOC_FL_KEEP_SIZE;
        if mode & !FALLOC_FL_KEEP_SIZE != 0 {
            return Err(Errno::EOPNOTSUPP);
        }
        let end = offset.checked_add(len).ok_or(Errno::EFBIG)?;
        if mode & FALLOC_FL_KEEP_SIZE == 0 && end > self.metadata()?.size {
            self.setattr(&SetAttr { size: Some(end), ..Default::default() })?;
        }
        Ok(())
    }

    // ---- seals (F_ADD_SEALS, F_GET_SEALS; memfd_create sets the first) ----
    // Only tmpfs regular files carry seals, as only shmem's do on Linux
    // (mm/memfd.c); every other file answers EINVAL and maps freely.

    /// The file's seals (F_SEAL_*); None: it cannot carry any.
    fn seals(&self) -> Option<u32> {
        None
    }
    /// Adds `seals` (known bits, through a file open for writing: the
    /// caller checked both): EPERM once F_SEAL_SEAL is set, EBUSY for
    /// F_SEAL_WRITE while a shared mapping of the file may write.
    fn add_seals(&self, _seals: u32) -> KResult<()> {
        Err(Errno::EINVAL)
    }
    /// A MAP_SHARED mapping through a file open for writing is about to be
    /// made, under its address space's lock: may it ever write (Linux's
    /// VM_MAYWRITE, which a write seal takes away so mprotect cannot add
    /// PROT_WRITE)? EPERM for PROT_WRITE (`prot_write`) under a write seal,
    /// and for any such mapping while F_ADD_SEALS is making sure none
    /// exists (Linux's mapping_map_writable).
    fn shared_mapping_may_write(&self, _prot_write: bool) -> KResult<bool> {
        Ok(true)
    }

    // ---- extended attributes ----
    // The VFS (fs/xattr.rs) has checked permissions and the name: a
    // user.*, trusted.* or security.* name, or a POSIX ACL the VFS has
    // validated. A filesystem answers for the names it stores. The
    // defaults are Linux's for a filesystem without xattr handlers.

    /// The value of attribute `name`.
    fn getxattr(&self, _name: &[u8]) -> KResult<Vec<u8>> {
        Err(Errno::EOPNOTSUPP)
    }
    /// Sets `name`; `flags` is XATTR_CREATE (EEXIST when present),
    /// XATTR_REPLACE (ENODATA when absent) or 0.
    fn setxattr(&self, _name: &[u8], _value: &[u8], _flags: u32) -> KResult<()> {
        Err(Errno::EOPNOTSUPP)
    }
    /// Every attribute's name (the VFS hides trusted.* from the unprivileged).
    fn listxattr(&self) -> KResult<Vec<Vec<u8>>> {
        Ok(Vec::new())
    }
    fn removexattr(&self, _name: &[u8]) -> KResult<()> {
        Err(Errno::EOPNOTSUPP)
    }

    // ---- POSIX ACLs ----
    // A filesystem that stores system.posix_acl_* (Linux's IS_POSIXACL)
    // answers these from a parsed copy, never by reading storage on every
    // call, and keeps it in step with its setxattr/removexattr of those
    // names. The defaults are a filesystem without ACLs: permission checks
    // use the mode alone and new inodes get the umask.

    /// The access ACL permission checks consult (Linux's
    /// get_inode_acl(ACL_TYPE_ACCESS)); None when the inode has none.
    fn access_acl(&self) -> KResult<Option<Arc<PosixAcl>>> {
        Ok(None)
    }
    /// The default ACL a directory's new entries inherit (asked only of
    /// directories; `access_acl` never of a symlink: the VFS checks).
    fn default_acl(&self) -> KResult<Option<Arc<PosixAcl>>> {
        Ok(None)
    }
    /// `create` of an inode starting with `acls` (Linux's
    /// posix_acl_create result; the VFS asks only a directory whose
    /// `default_acl` gave one). A filesystem that can sets them before the
    /// name appears; by default they are set just after.
    fn create_with_acls(&self, name: &[u8], mode: u32, rdev: u64, uid: u32, gid: u32, acls: &InitialAcls) -> KResult<InodeRef> {
        let inode = self.create(name, mode, rdev, uid, gid)?;
        if let Some(acl) = &acls.access {
            inode.setxattr(ACL_ACCESS, &acl.to_xattr(), 0)?;
        }
        if let Some(acl) = &acls.default {
            inode.setxattr(ACL_DEFAULT, &acl.to_xattr(), 0)?;
        }
        Ok(inode)
    }

    /// Special files (devices, proc files with their own behaviour) return
    /// their own open-file operations; `None` means "a plain regular file or
    /// directory" and the VFS uses its generic ones.
    fn open(&self, _flags: u32) -> KResult<Option<Arc<dyn FileOps>>> {
        Ok(None)
    }

    /// The page cache of a file whose data lives in guest RAM (tmpfs, or
    /// a disk filesystem's cache): MAP_SHARED mappings map these frames, so
    /// they see write() and write() sees them. `None`: mappings get
    /// private copies.
    fn page_cache(&self) -> Option<Arc<crate::mm::page_cache::PageCache>> {
        None
    }

    /// The host file a regular file of a host filesystem is (a `--share`
    /// file, a file of the read-only host view), opened for reading and,
    /// with `write`, for writing: its MAP_SHARED mappings map it on the
    /// host, so they see host processes' changes and write() sees them.
    /// `None`: not a host file.
    fn host_file(&self, _write: bool) -> KResult<Option<crate::platform::HostFile>> {
        Ok(None)
    }

    /// For /proc/<pid>/fd-style "magic" links: the path the link resolves to
    /// directly, bypassing a textual walk. `None` for ordinary symlinks.
    fn magic_link(&self) -> Option<crate::fs::path::Path> {
        None
    }

    /// What /proc/<pid>/fd/N shows for an open file with no path
    /// ("pipe:[123]", "anon_inode:[eventfd]", a console's host name).
    /// `None` lets procfs derive it from the file type.
    fn link_name(&self) -> Option<Vec<u8>> {
        None
    }
}

/// An inode's data as mm reads it for a file mapping, and the path it
/// was mapped by: its mount stays in use while the mapping lives, as a
/// VMA's file keeps its mount busy on Linux (umount is EBUSY), and
/// inotify hears of what the mapping does to the file there.
pub struct MappedInode(pub InodeRef, pub Option<crate::fs::path::Path>);

impl crate::mm::vma::FileData for MappedInode {
    fn size(&self) -> KResult<u64> {
        Ok(self.0.metadata()?.size)
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> KResult<usize> {
        self.0.read_at(offset, buf)
    }

    fn version(&self) -> KResult<(u64, u64, i64, i64, u64)> {
        let md = self.0.metadata()?;
        Ok((md.dev, md.ino, md.mtime.tv_sec, md.mtime.tv_nsec, md.size))
    }

    /// vfs_fallocate's punch for MADV_REMOVE: a shared mapping that may
    /// write is of a regular file open for writing, so the checks left are
    /// the filesystem's (EOPNOTSUPP without hole punching, seals).
    fn punch_hole(&self, offset: u64, len: u64) -> KResult<()> {
        use crate::abi::fcntl::{FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE};
        self.0.fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, len)?;
        // A modification, as vfs_fallocate's fsnotify_modify.
        if let Some(path) = &self.1 {
            crate::fs::notify::path_event(path, crate::abi::event::IN_MODIFY);
        }
        Ok(())
    }
}

/// The file of a shared mapping: the inode, and the path it was mapped by
/// for /proc/<pid>/maps (" (deleted)" once unlinked, as d_path shows it).
pub struct MappedSharedFile {
    pub inode: MappedInode,
    pub name: Vec<u8>,
}

impl crate::mm::vma::FileData for MappedSharedFile {
    fn size(&self) -> KResult<u64> {
        self.inode.size()
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> KResult<usize> {
        self.inode.read_at(offset, buf)
    }

    fn punch_hole(&self, offset: u64, len: u64) -> KResult<()> {
        self.inode.punch_hole(offset, len)
    }

    fn version(&self) -> KResult<(u64, u64, i64, i64, u64)> {
        self.inode.version()
    }

    fn maps_name(&self) -> Option<Vec<u8>> {
        let mut name = self.name.clone();
        let unlinked = self.inode.0.metadata().is_ok_and(|md| md.nlink == 0);
        if unlinked && !name.ends_with(b" (deleted)") {
            name.extend_from_slice(b" (deleted)");
        }
        Some(name)
    }
}

/// The attributes of an inode on an internal filesystem (pipefs, sockfs):
/// permission bits, owner and times, all kept in memory.
pub struct PseudoAttrs {
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub atime: Timespec,
    pub mtime: Timespec,
    pub ctime: Timespec,
}

impl PseudoAttrs {
    /// Fresh attributes, all three times now.
    pub fn new(mode: u32, uid: u32, gid: u32) -> PseudoAttrs {
        let t = crate::fs::now();
        PseudoAttrs { mode, uid, gid, atime: t, mtime: t, ctime: t }
    }

    /// The inode's metadata: file type `kind`, no size, one link.
    pub fn metadata(&self, dev: u64, ino: u64, kind: u32) -> Metadata {
        Metadata {
            dev,
            ino,
            mode: kind | (self.mode & 0o7777),
            nlink: 1,
            uid: self.uid,
            gid: self.gid,
            rdev: 0,
            size: 0,
            blksize: crate::abi::PAGE_SIZE,
            blocks: 0,
            atime: self.atime,
            mtime: self.mtime,
            ctime: self.ctime,
        }
    }

    /// chmod, chown and utimes; the change time moves.
    pub fn apply(&mut self, attr: &SetAttr) {
        if let Some(m) = attr.mode {
            self.mode = m & 0o7777;
        }
        if let Some(u) = attr.uid {
            self.uid = u;
        }
        if let Some(g) = attr.gid {
            self.gid = g;
        }
        if let Some(t) = attr.atime {
            self.atime = t;
        }
        if let Some(t) = attr.mtime {
            self.mtime = t;
        }
        self.ctime = crate::fs::now();
    }
}
