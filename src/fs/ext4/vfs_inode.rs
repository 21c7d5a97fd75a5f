//! The VFS inode of an ext4 filesystem: `fs::inode::Inode` by inode number
//! on the engine. Regular file data goes through the page cache (reads,
//! writes, mappings); directories, symlinks and metadata go to the engine,
//! which journals them. Times follow Linux: mtime/ctime at write(), atime
//! by relatime rules on reads.

use std::any::Any;
use std::sync::Arc;

use super::vfs::{Ext4Fs, InodeHandle, NameState};
use super::{Attr, SetAttr as EngineSetAttr};
use crate::abi::fcntl::{FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, RENAME_EXCHANGE};
use crate::abi::stat::{S_IFDIR, S_IFMT};
use crate::abi::statfs::EXT4_SUPER_MAGIC;
use crate::abi::{Errno, KResult, PAGE_SIZE, StatFs, Timespec};
use crate::fs::inode::{DirEntry, Inode, InodeRef, Metadata, SetAttr};
use crate::fs::posix_acl::{self, PosixAcl};
use crate::fs::xattr::{ACL_ACCESS, ACL_DEFAULT};
use crate::mm::page_cache::PageCache;

/// ext4's EXT4_EXTENTS_FL: the file maps its blocks with an extent tree.
const FL_EXTENTS: u32 = 0x0008_0000;
/// Within this, write() does not set mtime again (Linux's coarse clock tick).
const MTIME_GRANULARITY_NS: i128 = 4_000_000;

pub struct Ext4Inode {
    handle: Arc<InodeHandle>,
    /// The type bits of the mode (they never change).
    file_type: u32,
    cache: Option<Arc<PageCache>>,
}

fn ns(t: Timespec) -> i128 {
    t.tv_sec as i128 * 1_000_000_000 + t.tv_nsec as i128
}

/// Linux's relatime: atime moves when it is not newer than mtime or
/// ctime, or is a day old.
fn needs_atime(a: &Attr, now: Timespec) -> bool {
    a.atime <= a.mtime || a.atime <= a.ctime || now.tv_sec - a.atime.tv_sec >= 24 * 3600
}

impl Ext4Inode {
    pub fn new(handle: Arc<InodeHandle>, mode: u32, cache: Option<Arc<PageCache>>) -> Ext4Inode {
        Ext4Inode { handle, file_type: mode & S_IFMT, cache }
    }

    fn fs(&self) -> &Arc<Ext4Fs> {
        &self.handle.fs
    }

    fn ino(&self) -> u32 {
        self.handle.ino
    }

    fn engine(&self) -> &super::Ext4 {
        &self.handle.fs.engine
    }

    fn child(&self, ino: u32) -> KResult<InodeRef> {
        Ok(self.fs().inode(ino)?)
    }

    /// An inode of the same filesystem behind an `InodeRef`, or EXDEV.
    fn same_fs<'a>(&self, other: &'a InodeRef) -> KResult<&'a Ext4Inode> {
        let o = other.as_any().downcast_ref::<Ext4Inode>().ok_or(Errno::EXDEV)?;
        if !Arc::ptr_eq(o.fs(), self.fs()) {
            return Err(Errno::EXDEV);
        }
        Ok(o)
    }

    /// Records a new name's outcome in the name cache (the directory's
    /// times and link count changed too).
    fn named(&self, name: &[u8], attr: KResult<Attr>) -> KResult<Attr> {
        self.handle.forget_attr();
        let state = match &attr {
            Ok(a) => NameState::Is(a.ino),
            Err(_) => NameState::Forget,
        };
        self.fs().name_changed(self.ino(), name, state);
        attr
    }

    fn regular_cache(&self) -> KResult<&Arc<PageCache>> {
        match &self.cache {
            Some(c) => Ok(c),
            None if self.file_type == S_IFDIR => Err(Errno::EISDIR),
            None => Err(Errno::EINVAL),
        }
    }

    /// Relatime after a read of data, a directory or a link target.
    fn touch_atime(&self) {
        if self.fs().read_only() || self.fs().is_unmounted() {
            return;
        }
        let now = self.fs().now();
        if let Ok(a) = self.handle.attr()
            && needs_atime(&a, now)
        {
            let _ = self.engine().setattr(self.ino(), &EngineSetAttr { atime: Some(now), ctime: Some(a.ctime), ..Default::default() });
            self.handle.forget_attr();
        }
    }

    /// write() changed the file: mtime and ctime become now (at most once
    /// per clock tick).
    fn touch_mtime(&self) -> KResult<()> {
        let now = self.fs().now();
        let mut last = self.handle.mtime_set.lock();
        if last.is_some_and(|t| (ns(now) - ns(t)).abs() < MTIME_GRANULARITY_NS) {
            return Ok(());
        }
        let r = self.engine().setattr(self.ino(), &EngineSetAttr { mtime: Some(now), ctime: Some(now), ..Default::default() });
        self.handle.forget_attr();
        r?;
        *last = Some(now);
        Ok(())
    }

    /// A change of an ACL name drops the parsed copy.
    fn forget_acl(&self, name: &[u8]) {
        if name == ACL_ACCESS {
            self.handle.access_acl.forget();
        } else if name == ACL_DEFAULT {
            self.handle.default_acl.forget();
        }
    }

    fn max_file_size(&self) -> KResult<u64> {
        let a = self.handle.attr()?;
        Ok(self.engine().geometry.max_file_size(a.flags & FL_EXTENTS != 0))
    }

    fn write_data(&self, cache: &Arc<PageCache>, offset: u64, buf: &[u8]) -> KResult<usize> {
        self.write_gathered(cache, offset, &[buf])
    }

    /// A write of the pieces `src` (in order) at `offset`, up to the
    /// largest size the inode's format allows.
    fn write_gathered(&self, cache: &Arc<PageCache>, offset: u64, src: &[&[u8]]) -> KResult<usize> {
        let total: u64 = src.iter().map(|s| s.len() as u64).sum();
        if total == 0 {
            return Ok(0);
        }
        let max = self.max_file_size()?;
        if offset >= max {
            return Err(Errno::EFBIG);
        }
        let n = if total > max - offset {
            cache.write_gather(offset, &crate::fs::io::first_bytes(src, (max - offset) as usize))?
        } else {
            cache.write_gather(offset, src)?
        };
        self.touch_mtime()?;
        Ok(n)
    }

    /// truncate/ftruncate/O_TRUNC: the cache first (pages past the end go,
    /// the new last page's tail is zeroed), then the disk.
    fn set_size(&self, cache: &Arc<PageCache>, size: u64, attr: &EngineSetAttr) -> KResult<()> {
        if size > self.max_file_size()? {
            return Err(Errno::EFBIG);
        }
        let keep = size.div_ceil(PAGE_SIZE);
        let shrunk = {
            let _io = cache.io_exclusive();
            let old = cache.size();
            if size < old {
                cache.set_size(size);
                cache.truncate_pages(keep);
                cache.zero_from(size);
            }
            let r = self.engine().setattr(self.ino(), &EngineSetAttr { size: Some(size), ..*attr });
            self.handle.forget_attr();
            r?;
            cache.set_size(size);
            if size < old {
                // Blocks smaller than a page: the new last page lost some.
                cache.refresh_holes(size / PAGE_SIZE);
            }
            size < old
        };
        // Mapped pages past the new end go away (touching them is SIGBUS).
        if shrunk {
            cache.unmap_from_mappers(keep);
        }
        Ok(())
    }
}

impl Inode for Ext4Inode {
    fn metadata(&self) -> KResult<Metadata> {
        let a = self.handle.attr()?;
        // The page cache knows the size writes have reached; the disk
        // learns it at writeback.
        let size = match &self.cache {
            Some(c) => c.size(),
            None => a.size,
        };
        Ok(Metadata {
            dev: self.fs().dev,
            ino: a.ino as u64,
            mode: a.mode,
            nlink: a.nlink as u64,
            uid: a.uid,
            gid: a.gid,
            rdev: a.rdev,
            size,
            blksize: a.blksize as u64,
            blocks: a.blocks,
            atime: a.atime,
            mtime: a.mtime,
            ctime: a.ctime,
        })
    }

    fn statfs(&self) -> KResult<StatFs> {
        let s = self.engine().statfs()?;
        Ok(StatFs {
            f_type: EXT4_SUPER_MAGIC,
            f_bsize: s.block_size as i64,
            f_blocks: s.blocks,
            f_bfree: s.blocks_free,
            f_bavail: s.blocks_available,
            f_files: s.files,
            f_ffree: s.files_free,
            f_fsid: [s.fsid[0] as i32, s.fsid[1] as i32],
            f_namelen: s.name_max as i64,
            f_frsize: s.block_size as i64,
            f_flags: 0,
            f_spare: [0; 4],
        })
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn same_inode(&self, other: &InodeRef) -> bool {
        other.as_any().downcast_ref::<Ext4Inode>().is_some_and(|o| Arc::ptr_eq(&o.handle, &self.handle))
    }

    fn lookup(&self, name: &[u8]) -> KResult<InodeRef> {
        let ino = self.fs().lookup(self.ino(), name)?;
        self.child(ino)
    }

    fn create(&self, name: &[u8], mode: u32, rdev: u64, uid: u32, gid: u32) -> KResult<InodeRef> {
        let attr = if mode & S_IFMT == S_IFDIR {
            self.engine().mkdir(self.ino(), name, mode & 0o7777, uid, gid)
        } else {
            self.engine().create(self.ino(), name, mode, uid, gid, rdev)
        };
        let attr = self.named(name, attr)?;
        self.child(attr.ino)
    }

    fn symlink(&self, name: &[u8], target: &[u8], uid: u32, gid: u32) -> KResult<InodeRef> {
        let attr = self.engine().symlink(self.ino(), name, target, uid, gid);
        let attr = self.named(name, attr)?;
        self.child(attr.ino)
    }

    fn link(&self, name: &[u8], target: &InodeRef) -> KResult<()> {
        let target = self.same_fs(target)?;
        let r = self.engine().link(target.ino(), self.ino(), name);
        self.handle.forget_attr();
        target.handle.forget_attr();
        match r {
            Ok(()) => {
                self.fs().name_changed(self.ino(), name, NameState::Is(target.ino()));
                Ok(())
            }
            Err(e) => {
                self.fs().name_changed(self.ino(), name, NameState::Forget);
                Err(e)
            }
        }
    }

    fn unlink(&self, name: &[u8]) -> KResult<()> {
        let victim = self.fs().lookup(self.ino(), name)?;
        let r = self.engine().unlink(self.ino(), name);
        self.handle.forget_attr();
        self.fs().attr_changed(victim);
        self.fs().name_changed(self.ino(), name, if r.is_ok() { NameState::Gone } else { NameState::Forget });
        r?;
        self.fs().forget_if_unlinked(victim);
        Ok(())
    }

    fn rmdir(&self, name: &[u8]) -> KResult<()> {
        let victim = self.fs().lookup(self.ino(), name)?;
        let r = self.engine().rmdir(self.ino(), name);
        self.handle.forget_attr();
        self.fs().attr_changed(victim);
        self.fs().name_changed(self.ino(), name, if r.is_ok() { NameState::Gone } else { NameState::Forget });
        r?;
        self.fs().dir_removed(victim);
        self.fs().forget_if_unlinked(victim);
        Ok(())
    }

    fn rename(&self, old_name: &[u8], new_dir: &InodeRef, new_name: &[u8], flags: u32) -> KResult<()> {
        let new_dir = self.same_fs(new_dir)?;
        let source = self.fs().lookup(self.ino(), old_name).ok();
        let target = self.fs().lookup(new_dir.ino(), new_name).ok();
        if target.is_some() && flags & RENAME_EXCHANGE == 0 {
            // Replacing a file: its new contents reach the disk with the
            // rename, not after (ext4's auto_da_alloc), so a crash leaves
            // the old file or the complete new one.
            if let Some(cache) = source.and_then(|s| self.fs().live_cache(s)) {
                cache.write_back_all()?;
            }
        }
        let r = self.engine().rename(self.ino(), old_name, new_dir.ino(), new_name, flags);
        let fs = self.fs();
        self.handle.forget_attr();
        new_dir.handle.forget_attr();
        for ino in [source, target].into_iter().flatten() {
            fs.attr_changed(ino);
        }
        match (&r, source) {
            (Ok(()), Some(src)) if source != target => {
                if flags & RENAME_EXCHANGE != 0 {
                    fs.name_changed(self.ino(), old_name, target.map_or(NameState::Forget, NameState::Is));
                } else {
                    fs.name_changed(self.ino(), old_name, NameState::Gone);
                }
                fs.name_changed(new_dir.ino(), new_name, NameState::Is(src));
            }
            (Ok(()), _) => {}
            _ => {
                fs.name_changed(self.ino(), old_name, NameState::Forget);
                fs.name_changed(new_dir.ino(), new_name, NameState::Forget);
            }
        }
        r?;
        if let Some(t) = target
            && flags & RENAME_EXCHANGE == 0
            && source != target
        {
            // A replaced directory is gone; so may be a replaced file.
            fs.dir_removed(t);
            fs.forget_if_unlinked(t);
        }
        Ok(())
    }

    fn readdir(&self, offset: u64, sink: &mut dyn FnMut(DirEntry<'_>) -> bool) -> KResult<()> {
        self.engine().readdir(self.ino(), offset, &mut |e| sink(DirEntry { ino: e.ino as u64, dtype: e.dtype, name: e.name, next_offset: e.next_cookie }))?;
        self.touch_atime();
        Ok(())
    }

    fn readlink(&self) -> KResult<Vec<u8>> {
        let target = self.engine().readlink(self.ino())?;
        self.touch_atime();
        Ok(target)
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> KResult<usize> {
        let cache = self.regular_cache()?;
        let n = cache.read(offset, buf)?;
        self.touch_atime();
        Ok(n)
    }

    fn read_pieces(&self, offset: u64, len: usize, sink: &mut dyn FnMut(&[u8]) -> KResult<()>) -> Option<KResult<usize>> {
        let cache = match self.regular_cache() {
            Ok(c) => c,
            Err(e) => return Some(Err(e)),
        };
        let r = cache.read_pieces(offset, len, sink);
        if r.is_ok() {
            self.touch_atime();
        }
        Some(r)
    }

    fn read_into(&self, offset: u64, bufs: &mut [&mut [u8]]) -> Option<KResult<usize>> {
        let cache = match self.regular_cache() {
            Ok(c) => c,
            Err(e) => return Some(Err(e)),
        };
        if bufs.is_empty() {
            return Some(Ok(0));
        }
        let r = cache.read_into(offset, bufs);
        if r.is_ok() {
            self.touch_atime();
        }
        Some(r)
    }

    /// Linux's ext4_llseek (iomap_seek_data/hole): written extents are
    /// data, holes are holes, and where no blocks are written yet (holes
    /// with delayed-allocation pages, unwritten extents) dirty pages, and
    /// for unwritten extents any cached page, are data.
    fn seek_data_hole(&self, offset: u64, size: u64, data: bool) -> KResult<u64> {
        let cache = self.regular_cache()?;
        let bs = self.engine().geometry.block_size as u64;
        let end_blk = size.div_ceil(bs);
        let mut pos = offset;
        while pos < size {
            let first = pos / bs;
            let maps = match self.engine().map_blocks(self.ino(), first, (end_blk - first).min(1 << 20), false) {
                Ok(m) => m,
                // Inline data: all of it is data.
                Err(Errno::EOPNOTSUPP) => return Ok(if data { pos } else { size }),
                Err(e) => return Err(e),
            };
            let Some(last) = maps.iter().map(|m| m.lblk + m.len).max() else { break };
            let pages = cache.cached_pages(first * bs / PAGE_SIZE, (last * bs).div_ceil(PAGE_SIZE));
            for m in &maps {
                let (a, b) = ((m.lblk * bs).max(pos), ((m.lblk + m.len) * bs).min(size));
                if a >= b {
                    continue;
                }
                if m.pblk != 0 && !m.unwritten {
                    if data {
                        return Ok(a);
                    }
                    continue;
                }
                let is_data = |page: u64| match pages.binary_search_by_key(&page, |p| p.0) {
                    Ok(i) => pages[i].1 || m.unwritten,
                    Err(_) => false,
                };
                if data {
                    let from = pages.partition_point(|p| p.0 < a / PAGE_SIZE);
                    if let Some(&(p, _)) = pages[from..].iter().take_while(|p| p.0 * PAGE_SIZE < b).find(|p| is_data(p.0)) {
                        return Ok((p * PAGE_SIZE).max(a));
                    }
                } else {
                    let mut x = a;
                    while x < b {
                        if !is_data(x / PAGE_SIZE) {
                            return Ok(x);
                        }
                        x = (x / PAGE_SIZE + 1) * PAGE_SIZE;
                    }
                }
            }
            if last * bs <= pos {
                break;
            }
            pos = last * bs;
        }
        if data { Err(Errno::ENXIO) } else { Ok(size) }
    }

    fn write_at(&self, offset: u64, buf: &[u8]) -> KResult<usize> {
        let cache = self.regular_cache()?;
        self.write_data(cache, offset, buf)
    }

    fn write_gather(&self, offset: Option<u64>, src: &[&[u8]]) -> Option<KResult<(usize, u64)>> {
        let cache = match self.regular_cache() {
            Ok(c) => c,
            Err(e) => return Some(Err(e)),
        };
        Some(match offset {
            Some(off) => self.write_gathered(cache, off, src).map(|n| (n, off + n as u64)),
            None => {
                let _one_at_a_time = self.handle.append.lock();
                let size = cache.size();
                self.write_gathered(cache, size, src).map(|n| (n, size + n as u64))
            }
        })
    }

    fn append(&self, buf: &[u8]) -> KResult<(usize, u64)> {
        let cache = self.regular_cache()?;
        let _one_at_a_time = self.handle.append.lock();
        let size = cache.size();
        let n = self.write_data(cache, size, buf)?;
        Ok((n, size + n as u64))
    }

    fn setattr(&self, attr: &SetAttr) -> KResult<()> {
        let mut a = EngineSetAttr { mode: attr.mode, uid: attr.uid, gid: attr.gid, atime: attr.atime, mtime: attr.mtime, ..Default::default() };
        if let Some(size) = attr.size {
            let cache = self.regular_cache()?;
            let now = self.fs().now();
            a.mtime = a.mtime.or(Some(now));
            return self.set_size(cache, size, &a);
        }
        let r = self.engine().setattr(self.ino(), &a);
        self.handle.forget_attr();
        r.map(|_| ())
    }

    fn sync(&self) -> KResult<()> {
        if let Some(c) = &self.cache {
            let written = c.write_back_all();
            if let Some(e) = c.take_error() {
                return Err(e);
            }
            written?;
        }
        self.engine().fsync(self.ino(), false)
    }

    fn sync_fs(&self) -> KResult<()> {
        self.fs().sync()
    }

    fn fallocate(&self, mode: u32, offset: u64, len: u64) -> KResult<()> {
        let cache = self.regular_cache()?;
        let end = offset.checked_add(len).ok_or(Errno::EFBIG)?;
        let (first, last) = (offset / PAGE_SIZE, end.div_ceil(PAGE_SIZE));
        if mode & FALLOC_FL_PUNCH_HOLE != 0 {
            let (full_first, full_end) = (offset.div_ceil(PAGE_SIZE), end / PAGE_SIZE);
            let (punched, r) = {
                let _io = cache.io_exclusive();
                // Whole pages leave the cache; partial ones are zeroed there.
                let punched = cache.punch_range(full_first, full_end);
                cache.zero_range_in_page(offset, end.min(full_first * PAGE_SIZE));
                cache.zero_range_in_page((full_end * PAGE_SIZE).max(offset), end);
                let r = self.engine().punch_hole(self.ino(), offset, len);
                self.handle.forget_attr();
                if r.is_ok() {
                    cache.refresh_holes(offset / PAGE_SIZE);
                    cache.refresh_holes((end - 1) / PAGE_SIZE);
                }
                (punched, r)
            };
            // The pages left the cache either way: no mapping may keep them.
            cache.unmap_punched(full_first, full_end, punched);
            return r;
        }
        if end > self.max_file_size()? {
            return Err(Errno::EFBIG);
        }
        let _io = cache.io_exclusive();
        let keep_size = mode & FALLOC_FL_KEEP_SIZE != 0;
        let r = self.engine().fallocate(self.ino(), offset, len, keep_size);
        self.handle.forget_attr();
        r?;
        // Pages there have disk blocks now: their reservations go back.
        let freed = cache.forget_holes(first, last);
        if freed > 0 {
            self.engine().unreserve_blocks(freed);
        }
        if !keep_size && end > cache.size() {
            cache.set_size(end);
        }
        Ok(())
    }

    fn getxattr(&self, name: &[u8]) -> KResult<Vec<u8>> {
        self.engine().getxattr(self.ino(), name)
    }

    fn listxattr(&self) -> KResult<Vec<Vec<u8>>> {
        self.engine().listxattr(self.ino())
    }

    fn setxattr(&self, name: &[u8], value: &[u8], flags: u32) -> KResult<()> {
        let r = self.engine().setxattr(self.ino(), name, value, flags);
        self.handle.forget_attr();
        self.forget_acl(name);
        r
    }

    fn removexattr(&self, name: &[u8]) -> KResult<()> {
        let r = self.engine().removexattr(self.ino(), name);
        self.handle.forget_attr();
        self.forget_acl(name);
        r
    }

    fn access_acl(&self) -> KResult<Option<Arc<PosixAcl>>> {
        self.handle.access_acl.get(|| posix_acl::stored(self.engine().getxattr(self.ino(), ACL_ACCESS)))
    }

    fn default_acl(&self) -> KResult<Option<Arc<PosixAcl>>> {
        self.handle.default_acl.get(|| posix_acl::stored(self.engine().getxattr(self.ino(), ACL_DEFAULT)))
    }

    fn page_cache(&self) -> Option<Arc<PageCache>> {
        self.cache.clone()
    }
}
