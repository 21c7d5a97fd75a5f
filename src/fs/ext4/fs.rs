//! The filesystem object: mount (superblock and descriptor checks, journal
//! recovery, orphan cleanup), the public operations by inode number, and
//! unmount. Each public call takes the one lock, does its work in the
//! running transaction, and commits when the transaction has grown large or
//! old; fsync and sync_fs commit at once. After an unexpected error (a
//! corrupt structure, an I/O error) the filesystem stops writing, as Linux's
//! errors=remount-ro does, so the disk keeps its last consistent state.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use super::alloc::SystemZones;
use super::cache::BufferCache;
use super::dir::dtype_of_ftype;
use super::file::Mapping;
use super::inode::{DiskInode, ROOT_INO, Time};
use super::journal::Journal;
use super::layout::*;
use super::superblock::*;
use super::{Attr, DirEntry, EUCLEAN, FsStat, KResult, SetAttr};
use crate::abi::{Errno, Timespec};
use crate::block::BlockDevice;

/// How the engine is mounted.
#[derive(Clone)]
pub struct MountOptions {
    pub read_only: bool,
    /// Metadata blocks the cache keeps (not counting pinned ones).
    pub cache_blocks: usize,
    /// Current time for timestamps (the guest's clock).
    pub clock: Arc<dyn Fn() -> Timespec + Send + Sync>,
    /// Commit the running transaction once it is this old.
    pub commit_interval: Duration,
}

impl Default for MountOptions {
    fn default() -> MountOptions {
        MountOptions { read_only: false, cache_blocks: 8192, clock: Arc::new(crate::platform::host::clock::realtime), commit_interval: Duration::from_secs(5) }
    }
}

pub struct Inner {
    pub dev: Arc<dyn BlockDevice>,
    pub g: Geometry,
    pub sb: Superblock,
    pub cache: BufferCache,
    pub journal: Option<Journal>,
    pub journal_extents: Vec<(u32, u64, u32)>,
    pub zones: SystemZones,
    /// Bitmap blocks whose checksum was verified (or that we built).
    pub verified: HashSet<u64>,
    pub free_blocks: u64,
    pub free_inodes: u64,
    /// Runs freed in the running transaction, applied at commit.
    pub pending_free: Vec<(u64, u64)>,
    /// Blocks promised to dirty pages of the page cache that have no disk
    /// blocks yet (delayed allocation): other allocations leave them free.
    pub delalloc_reserved: u64,
    pub sb_dirty: bool,
    pub read_only: bool,
    /// An unexpected error happened: no more writes or commits.
    pub errored: bool,
    pub clock: Arc<dyn Fn() -> Timespec + Send + Sync>,
    pub next_generation: u32,
    /// When the running transaction began (by `clock`).
    pub tx_started: Option<Timespec>,
    pub commit_interval: Duration,
    /// Test hook: commits allowed before the engine "loses power" and
    /// stops writing anything (None: unlimited).
    pub commit_budget: Option<u32>,
}

/// The mounted filesystem.
pub struct Ext4 {
    inner: Mutex<Inner>,
    pub geometry: Geometry,
}

fn sb_location(bs: usize) -> (u64, usize) {
    ((SUPERBLOCK_OFFSET / bs as u64), (SUPERBLOCK_OFFSET % bs as u64) as usize)
}

impl Inner {
    pub fn now(&self) -> Timespec {
        (self.clock)()
    }

    pub fn new_generation(&mut self) -> u32 {
        // Any value works; vary it so NFS-style handles differ on reuse.
        self.next_generation = self.next_generation.wrapping_mul(1_103_515_245).wrapping_add(12345);
        self.next_generation
    }

    /// Copies the in-memory superblock (with current counts) into its block
    /// in the cache, joining the running transaction.
    pub fn sb_to_cache(&mut self) -> KResult<()> {
        self.refresh_sb_counts();
        let (blk, off) = sb_location(self.g.bs());
        let raw = self.sb.raw.clone();
        let b = self.cache.get_mut(blk)?;
        b.get_mut(off..off + 1024).ok_or(EUCLEAN)?.copy_from_slice(&raw);
        self.sb_dirty = false;
        Ok(())
    }

    fn refresh_sb_counts(&mut self) {
        let is_64 = self.g.is_64bit();
        self.sb.set_free_blocks(self.free_blocks, is_64);
        self.sb.set32(S_FREE_INODES_COUNT, self.free_inodes as u32);
        let now = self.now();
        self.sb.set32(S_WTIME, now.tv_sec as u32);
        self.sb.update_csum();
    }

    /// Writes the superblock straight to its home (mount and unmount only,
    /// when nothing about it is pending in the journal).
    pub fn write_sb_direct(&mut self) -> KResult<()> {
        self.refresh_sb_counts();
        let (blk, _) = sb_location(self.g.bs());
        self.cache.forget(blk);
        self.dev.write_at(SUPERBLOCK_OFFSET, &self.sb.raw)
    }

    /// First corruption seen while writing: the on-disk superblock says
    /// so (state ERROR_FS, error count), as Linux's ext4_handle_error does,
    /// so the next fsck checks. Only those fields change on disk.
    fn record_error(&mut self) {
        if self.read_only || self.dev.read_only() {
            return;
        }
        let mut raw = vec![0u8; 1024];
        if self.dev.read_at(SUPERBLOCK_OFFSET, &mut raw).is_err() || r16(&raw, S_MAGIC) != SUPER_MAGIC {
            return;
        }
        let mut sb = Superblock { raw };
        let state = sb.get16(S_STATE) | STATE_ERROR;
        sb.set16(S_STATE, state);
        let count = sb.get32(S_ERROR_COUNT).saturating_add(1);
        sb.set32(S_ERROR_COUNT, count);
        sb.update_csum();
        let _ = self.dev.write_at(SUPERBLOCK_OFFSET, &sb.raw);
        let _ = self.dev.flush();
    }

    pub fn check_writable(&self) -> KResult<()> {
        if self.read_only || self.errored { Err(Errno::EROFS) } else { Ok(()) }
    }

    fn attr_of(&self, ino: u32, i: &DiskInode) -> Attr {
        Attr {
            ino,
            mode: i.mode(),
            nlink: i.links() as u32,
            uid: i.uid(),
            gid: i.gid(),
            size: i.size(),
            blocks: i.sectors(self.g.block_size),
            rdev: if matches!(i.file_type(), super::inode::S_IFCHR | super::inode::S_IFBLK) { i.rdev() } else { 0 },
            atime: i.time(Time::Access),
            mtime: i.time(Time::Modify),
            ctime: i.time(Time::Change),
            crtime: i.time(Time::Create),
            blksize: self.g.block_size,
            generation: i.generation(),
            flags: i.flags(),
        }
    }

    pub fn getattr(&mut self, ino: u32) -> KResult<Attr> {
        let i = self.read_inode(ino)?;
        Ok(self.attr_of(ino, &i))
    }

    fn statfs(&mut self) -> KResult<FsStat> {
        let is_64 = self.g.is_64bit();
        let overhead = self.overhead_blocks()?;
        let reserved = self.sb.reserved_blocks(is_64);
        let pending: u64 = self.pending_free.iter().map(|&(_, n)| n).sum();
        // Blocks promised to dirty pages count as used, as on Linux.
        let free = (self.free_blocks + pending).saturating_sub(self.delalloc_reserved);
        let resv = (self.g.blocks_count / 50).min(4096);
        Ok(FsStat {
            block_size: self.g.block_size,
            blocks: self.g.blocks_count.saturating_sub(overhead),
            blocks_free: free,
            blocks_available: free.saturating_sub(reserved + resv),
            files: self.g.inodes_count as u64,
            files_free: self.free_inodes,
            name_max: super::dir::NAME_MAX as u32,
            fsid: {
                let u = &self.g.uuid;
                let w = |o: usize| r32(u, o);
                [w(0) ^ w(8), w(4) ^ w(12)]
            },
        })
    }

    /// Blocks statfs leaves out of f_blocks (Linux's "bsddf" overhead:
    /// superblocks, descriptors, bitmaps, inode tables, the journal).
    fn overhead_blocks(&mut self) -> KResult<u64> {
        let stored = self.sb.get32(S_OVERHEAD_CLUSTERS) as u64;
        if stored != 0 {
            return Ok(stored);
        }
        let mut total = self.g.first_data_block;
        let itb = self.g.inode_table_blocks() as u64;
        for group in 0..self.g.group_count {
            total += self.g.group_super_overhead(group) as u64 + 2 + itb;
        }
        total += self.journal_extents.iter().map(|&(_, _, n)| n as u64).sum::<u64>();
        Ok(total)
    }

    /// Whether the running transaction is older than the commit interval.
    fn tx_old(&self) -> bool {
        let Some(t) = self.tx_started else { return false };
        let now = self.now();
        let age_ns = (now.tv_sec - t.tv_sec) as i128 * 1_000_000_000 + (now.tv_nsec - t.tv_nsec) as i128;
        age_ns >= self.commit_interval.as_nanos() as i128
    }

    /// Commits when the running transaction is big or old enough.
    pub fn maybe_commit(&mut self) -> KResult<()> {
        let limit = match &self.journal {
            Some(j) => (j.capacity() / 4) as usize,
            None => 4096,
        };
        let old = self.tx_old();
        if self.cache.running_count() >= limit || old {
            self.commit()?;
        }
        Ok(())
    }
}

impl Ext4 {
    pub fn mount(dev: Arc<dyn BlockDevice>, read_only: bool) -> KResult<Arc<Ext4>> {
        Ext4::mount_with(dev, MountOptions { read_only, ..Default::default() })
    }

    pub fn mount_with(dev: Arc<dyn BlockDevice>, opts: MountOptions) -> KResult<Arc<Ext4>> {
        if !opts.read_only && dev.read_only() {
            return Err(Errno::EROFS);
        }
        let mut raw = vec![0u8; 1024];
        dev.read_at(SUPERBLOCK_OFFSET, &mut raw)?;
        let (sb, g) = Superblock::parse(raw, dev.size())?;
        if !opts.read_only
            && let Some(why) = sb.write_blocker()
        {
            if cfg!(not(test)) {
                eprintln!("vkernel: ext4: {why}; mount it read-only");
            }
            return Err(Errno::EROFS);
        }
        let cache = BufferCache::new(dev.clone(), g.bs(), g.blocks_count, opts.cache_blocks);
        let seed = (opts.clock)();
        let mut inner = Inner {
            dev: dev.clone(),
            g,
            sb,
            cache,
            journal: None,
            journal_extents: Vec::new(),
            zones: SystemZones::default(),
            verified: HashSet::new(),
            free_blocks: 0,
            free_inodes: 0,
            pending_free: Vec::new(),
            delalloc_reserved: 0,
            sb_dirty: false,
            read_only: opts.read_only,
            errored: false,
            clock: opts.clock.clone(),
            next_generation: (seed.tv_sec as u32) ^ (seed.tv_nsec as u32),
            tx_started: None,
            commit_interval: opts.commit_interval,
            commit_budget: None,
        };
        inner.check_group_descs()?;
        if inner.g.has_journal() {
            inner.open_journal()?;
        }
        inner.build_system_zones()?;
        if !inner.read_only {
            inner.start_writing()?;
            inner.process_orphans()?;
            inner.commit()?;
        }
        let geometry = inner.g;
        Ok(Arc::new(Ext4 { inner: Mutex::new(inner), geometry }))
    }

    /// Runs `f` under the lock; an unexpected error stops all writing.
    fn with<T>(&self, write: bool, f: impl FnOnce(&mut Inner) -> KResult<T>) -> KResult<T> {
        let mut inner = self.inner.lock();
        if write {
            inner.check_writable()?;
            if inner.wants_frees_applied() {
                inner.commit()?;
            }
            if inner.tx_started.is_none() {
                inner.tx_started = Some(inner.now());
            }
        }
        let r = f(&mut inner);
        match r {
            Err(e) if e == EUCLEAN || e == Errno::EIO => {
                if write && !inner.errored {
                    inner.record_error();
                    inner.errored = true;
                    if cfg!(not(test)) {
                        eprintln!("vkernel: ext4: error {e:?}: filesystem is now read-only");
                    }
                }
                Err(e)
            }
            Err(e) => Err(e),
            Ok(v) => {
                if write {
                    inner.maybe_commit()?;
                }
                Ok(v)
            }
        }
    }

    pub fn root(&self) -> u32 {
        ROOT_INO
    }

    pub fn is_read_only(&self) -> bool {
        let i = self.inner.lock();
        i.read_only || i.errored
    }

    pub fn lookup(&self, dir: u32, name: &[u8]) -> KResult<u32> {
        self.with(false, |i| i.lookup(dir, name))
    }

    pub fn getattr(&self, ino: u32) -> KResult<Attr> {
        self.with(false, |i| i.getattr(ino))
    }

    /// Creates a regular file, FIFO, socket or device node (`mode` has the
    /// type bits; directories go through `mkdir`).
    pub fn create(&self, dir: u32, name: &[u8], mode: u32, uid: u32, gid: u32, rdev: u64) -> KResult<Attr> {
        self.with(true, |i| i.create(dir, name, mode, uid, gid, rdev))
    }

    pub fn mkdir(&self, dir: u32, name: &[u8], mode: u32, uid: u32, gid: u32) -> KResult<Attr> {
        self.with(true, |i| i.mkdir(dir, name, mode, uid, gid))
    }

    pub fn symlink(&self, dir: u32, name: &[u8], target: &[u8], uid: u32, gid: u32) -> KResult<Attr> {
        self.with(true, |i| i.symlink(dir, name, target, uid, gid))
    }

    pub fn link(&self, ino: u32, dir: u32, name: &[u8]) -> KResult<()> {
        self.with(true, |i| i.link(ino, dir, name))
    }

    /// Removes a non-directory name. An inode left with no links stays (on
    /// the orphan list) until `evict` says nobody holds it open.
    pub fn unlink(&self, dir: u32, name: &[u8]) -> KResult<()> {
        self.with(true, |i| i.unlink(dir, name))
    }

    pub fn rmdir(&self, dir: u32, name: &[u8]) -> KResult<()> {
        self.with(true, |i| i.rmdir(dir, name))
    }

    /// renameat2: `flags` takes RENAME_NOREPLACE (1) and RENAME_EXCHANGE (2).
    pub fn rename(&self, old_dir: u32, old_name: &[u8], new_dir: u32, new_name: &[u8], flags: u32) -> KResult<()> {
        self.with(true, |i| i.rename(old_dir, old_name, new_dir, new_name, flags))
    }

    pub fn readlink(&self, ino: u32) -> KResult<Vec<u8>> {
        self.with(false, |i| i.readlink(ino))
    }

    pub fn read(&self, ino: u32, off: u64, buf: &mut [u8]) -> KResult<usize> {
        self.with(false, |i| i.file_read(ino, off, buf))
    }

    pub fn write(&self, ino: u32, off: u64, data: &[u8]) -> KResult<usize> {
        self.with(true, |i| i.file_write(ino, off, data))
    }

    /// Writeback of several pages (guest frames, not contiguous in memory)
    /// at consecutive file offsets, as one write.
    pub fn write_vectored(&self, ino: u32, off: u64, bufs: &[&[u8]]) -> KResult<usize> {
        let data: Vec<u8> = bufs.concat();
        self.write(ino, off, &data)
    }

    /// Writeback from the page cache: whole pages (`bufs`, consecutive
    /// from `off`) of a file `size` bytes long. Blocks are allocated for
    /// holes (`release` reserved blocks are consumed first) and the data is
    /// written, one vectored device write per mapped run, before the
    /// metadata that maps it can commit (ordered mode). The times are left
    /// alone (the write that dirtied the pages set them); i_size grows to
    /// `size` at most.
    pub fn write_pages(&self, ino: u32, off: u64, bufs: &[&[u8]], size: u64, release: u64) -> KResult<()> {
        // Extent files write their data without the lock (other calls,
        // including the writer dirtying more pages, need not wait for the
        // device): blocks mapped as unwritten first, converted after.
        let runs = self.with(true, |i| {
            i.delalloc_reserved = i.delalloc_reserved.saturating_sub(release);
            i.write_pages_prepare(ino, off, bufs, size)
        })?;
        let Some(runs) = runs else {
            return self.with(true, |i| i.file_write_pages(ino, off, bufs, size));
        };
        if runs.is_empty() {
            return Ok(());
        }
        let (dev, bs) = (self.device(), self.geometry.block_size as u64);
        for r in &runs {
            dev.write_vectored_at(r.pblk * bs, &super::file::byte_slices(bufs, r.from - off, r.to - off))?;
        }
        self.with(true, |i| i.write_pages_finish(ino, &runs, size))
    }

    /// Reserves `blocks` for dirty pages to be allocated at writeback
    /// (ENOSPC when they would not fit beside what is reserved already,
    /// keeping Linux's reserve for metadata).
    pub fn reserve_blocks(&self, blocks: u64) -> KResult<()> {
        if blocks == 0 {
            return Ok(());
        }
        let mut i = self.inner.lock();
        i.check_writable()?;
        if !i.can_reserve(blocks) && !i.pending_free.is_empty() {
            // Blocks freed in the running transaction become free at commit.
            i.commit()?;
        }
        if !i.can_reserve(blocks) {
            return Err(Errno::ENOSPC);
        }
        i.delalloc_reserved += blocks;
        Ok(())
    }

    /// Gives back reserved blocks (dirty pages dropped before writeback).
    pub fn unreserve_blocks(&self, blocks: u64) {
        let mut i = self.inner.lock();
        i.delalloc_reserved = i.delalloc_reserved.saturating_sub(blocks);
    }

    /// The device the filesystem lives on (the page cache reads data
    /// blocks found with `map_blocks` straight from it).
    pub fn device(&self) -> Arc<dyn BlockDevice> {
        self.inner.lock().dev.clone()
    }

    /// FS_IOC_SETFLAGS: the user-modifiable inode flags (immutable, append,
    /// noatime, ...); the VFS checks permission and enforces them.
    pub fn set_inode_flags(&self, ino: u32, flags: u32) -> KResult<Attr> {
        self.with(true, |i| i.set_inode_flags(ino, flags))
    }

    pub fn truncate(&self, ino: u32, size: u64) -> KResult<()> {
        self.with(true, |i| i.truncate(ino, size))
    }

    pub fn setattr(&self, ino: u32, attr: &SetAttr) -> KResult<Attr> {
        self.with(true, |i| i.setattr(ino, attr))
    }

    /// Directory entries from `cookie` on ("." and ".." included); `sink`
    /// returns false to stop (that entry is not consumed). Cookies are byte
    /// offsets in linear directories, hash positions in htree ones. The
    /// sink runs without the filesystem lock, so it may call back in.
    pub fn readdir(&self, dir: u32, cookie: u64, sink: &mut dyn FnMut(DirEntry<'_>) -> bool) -> KResult<()> {
        const BATCH: usize = 128;
        let mut cookie = cookie;
        loop {
            let mut batch: Vec<(Vec<u8>, u32, u8, u64)> = Vec::with_capacity(BATCH);
            self.with(false, |i| {
                let d = i.read_inode(dir)?;
                if !d.is_dir() {
                    return Err(Errno::ENOTDIR);
                }
                i.dir_iterate(dir, &d, cookie, &mut |name, ino, ft, next| {
                    batch.push((name.to_vec(), ino, ft, next));
                    batch.len() < BATCH
                })
            })?;
            let full = batch.len() == BATCH;
            for (name, ino, ft, next) in &batch {
                if !sink(DirEntry { ino: *ino, dtype: dtype_of_ftype(*ft), name, next_cookie: *next }) {
                    return Ok(());
                }
                cookie = *next;
            }
            if !full {
                return Ok(());
            }
        }
    }

    pub fn fallocate(&self, ino: u32, off: u64, len: u64, keep_size: bool) -> KResult<()> {
        self.with(true, |i| i.fallocate(ino, off, len, keep_size))
    }

    pub fn punch_hole(&self, ino: u32, off: u64, len: u64) -> KResult<()> {
        self.with(true, |i| i.punch_hole(ino, off, len))
    }

    /// File blocks to disk blocks for a page cache (see `Inner::map_blocks`).
    pub fn map_blocks(&self, ino: u32, lblk: u64, count: u64, allocate: bool) -> KResult<Vec<Mapping>> {
        self.with(allocate, |i| i.map_blocks(ino, lblk, count, allocate))
    }

    /// Reads whole disk blocks (data blocks found with `map_blocks`).
    pub fn read_disk_blocks(&self, pblk: u64, buf: &mut [u8]) -> KResult<()> {
        let dev = self.inner.lock().dev.clone();
        dev.read_at(pblk * self.geometry.block_size as u64, buf)
    }

    /// Tells the engine nobody holds `ino` any more: an inode with no links
    /// left is freed now.
    pub fn evict(&self, ino: u32) -> KResult<()> {
        self.with(true, |i| i.evict(ino))
    }

    pub fn statfs(&self) -> KResult<FsStat> {
        self.with(false, |i| i.statfs())
    }

    pub fn getxattr(&self, ino: u32, name: &[u8]) -> KResult<Vec<u8>> {
        self.with(false, |i| i.getxattr(ino, name))
    }

    /// `flags`: XATTR_CREATE (1), XATTR_REPLACE (2).
    pub fn setxattr(&self, ino: u32, name: &[u8], value: &[u8], flags: u32) -> KResult<()> {
        self.with(true, |i| i.setxattr(ino, name, Some(value), flags))
    }

    pub fn removexattr(&self, ino: u32, name: &[u8]) -> KResult<()> {
        self.with(true, |i| i.setxattr(ino, name, None, 2))
    }

    /// Full names ("user.x", "system.posix_acl_access", ...).
    pub fn listxattr(&self, ino: u32) -> KResult<Vec<Vec<u8>>> {
        self.with(false, |i| i.listxattr(ino))
    }

    /// Makes `ino`'s data and metadata durable. With one journal every
    /// commit carries all metadata, so this commits the running transaction.
    pub fn fsync(&self, _ino: u32, _datasync: bool) -> KResult<()> {
        let mut i = self.inner.lock();
        if i.read_only {
            return Ok(());
        }
        if i.errored {
            return Err(Errno::EIO);
        }
        i.commit()?;
        i.dev.flush()
    }

    /// For a kernel timer (every second or so): commits the running
    /// transaction once it is older than the commit interval, as jbd2's
    /// commit thread does, so idle filesystems reach the disk too.
    pub fn periodic_commit(&self) -> KResult<()> {
        let mut i = self.inner.lock();
        if i.read_only || i.errored {
            return Ok(());
        }
        if i.tx_old() {
            i.commit()?;
        }
        Ok(())
    }

    pub fn sync_fs(&self) -> KResult<()> {
        let mut i = self.inner.lock();
        if i.read_only {
            return Ok(());
        }
        if i.errored {
            return Err(Errno::EIO);
        }
        i.commit()?;
        i.checkpoint()?;
        i.dev.flush()
    }

    /// Clean unmount: everything written home, the journal emptied,
    /// needs_recovery cleared. The filesystem refuses calls afterwards.
    pub fn unmount(&self) -> KResult<()> {
        let mut i = self.inner.lock();
        if i.read_only {
            return Ok(());
        }
        if i.errored {
            return Err(Errno::EIO);
        }
        i.finish_all_orphans()?;
        i.commit()?;
        i.checkpoint()?;
        i.close_journal()?;
        i.read_only = true;
        Ok(())
    }

    /// Remount read-write after a read-only mount or a clean `unmount`
    /// (remount,rw): recovery was done at mount, so this starts writing
    /// as a read-write mount does.
    pub fn remount_read_write(&self) -> KResult<()> {
        let mut i = self.inner.lock();
        if !i.read_only {
            return Ok(());
        }
        if i.errored || i.dev.read_only() || i.sb.write_blocker().is_some() {
            return Err(Errno::EROFS);
        }
        if i.journal.as_ref().is_some_and(|j| j.needs_recovery()) {
            // A read-only mount of an unclean journal never replayed it.
            return Err(Errno::EROFS);
        }
        i.read_only = false;
        let r = (|| {
            i.start_writing()?;
            i.process_orphans()?;
            i.commit()
        })();
        if r.is_err() {
            i.read_only = true;
        }
        r
    }

    /// Test hook: allow `n` more commits, then drop every later write as if
    /// power were cut (the disk keeps what reached it).
    pub fn set_commit_budget(&self, n: Option<u32>) {
        self.inner.lock().commit_budget = n;
    }

    /// Metadata blocks read so far, and the journal's blocks (tests).
    pub fn metadata_blocks(&self) -> Vec<u64> {
        let i = self.inner.lock();
        let mut v = i.cache.cached();
        for &(_, p, n) in &i.journal_extents {
            v.extend(p..p + (n as u64).min(8));
        }
        v
    }

    /// Every extent of a file (tests and FIEMAP).
    pub fn extents(&self, ino: u32) -> KResult<Vec<super::extent::Extent>> {
        self.with(false, |i| {
            let inode = i.read_inode(ino)?;
            i.ext_all(ino, &inode)
        })
    }
}

impl Drop for Ext4 {
    fn drop(&mut self) {
        // Like a power cut when the caller did not unmount: the running
        // transaction is lost, the last commit stands.
    }
}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn f<T: Send + Sync>() {}
    f::<Ext4>();
}
