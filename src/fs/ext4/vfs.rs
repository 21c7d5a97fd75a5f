//! ext4 in the VFS: `Ext4Fs` is one mounted filesystem (the engine, its
//! device number, its live inodes); `vfs_inode::Ext4Inode` is the VFS
//! inode. Every live inode number has one `InodeHandle`, shared by all
//! its VFS objects and by its page cache (regular files keep their data
//! in an mm page cache, for which the handle is the `PageStore`). When the
//! last of them goes, an inode without links is freed (`Ext4::evict`): an
//! unlinked file stays on the orphan list while it is open or mapped.
//!
//! Lock order: `Ext4Fs::inodes` → the engine's lock; a handle's `cache`
//! lock is a leaf. The engine never calls back here, and no lock of this
//! file is held while calling into the page cache.

use parking_lot::Mutex;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};

use super::fs::{Ext4, MountOptions};
use super::vfs_inode::Ext4Inode;
use crate::abi::mount::MS_RDONLY;
use crate::abi::{Errno, KResult, PAGE_SIZE, Timespec};
use crate::block::BlockDevice;
use crate::fs::fstype::{self, FileSystemType, MountRequest, SuperBlock, SuperOps};
use crate::fs::inode::InodeRef;
use crate::fs::posix_acl::AclCache;
use crate::mm::page_cache::{PageCache, PageStore};

const PAGE: u64 = PAGE_SIZE;
/// Regular files whose caches stay after their last user (as Linux keeps
/// recently used inodes), so reading a file again reads no disk.
const RECENT_FILES: usize = 256;
/// Metadata blocks the engine caches (host memory, not guest RAM).
const METADATA_CACHE_BLOCKS: usize = 8192;

/// One mounted ext2/ext3/ext4 filesystem.
pub struct Ext4Fs {
    pub engine: Arc<Ext4>,
    /// st_dev of every inode (the block device's number).
    pub dev: u64,
    /// Mounted (or remounted) read-only.
    read_only: AtomicBool,
    /// "ext4", "ext3" or "ext2": what the filesystem was mounted as.
    pub fstype: &'static str,
    inodes: Mutex<HashMap<u32, Weak<InodeHandle>>>,
    recent: Mutex<VecDeque<(u32, Arc<PageCache>)>>,
    /// Names looked up or changed, by directory: Some(ino), or None for a
    /// name known absent. Every namespace change goes through the glue,
    /// which keeps it exact (the VFS has no dentry cache).
    names: Mutex<NameCache>,
    unmounted: AtomicBool,
    me: Weak<Ext4Fs>,
}

/// Every mounted filesystem, for sync(2) and shutdown.
static MOUNTED: Mutex<Vec<Weak<Ext4Fs>>> = Mutex::new(Vec::new());

/// Which of ext2/ext3/ext4 a superblock describes, as blkid names them
/// (None: not one). Used to pick a type when mount(2) names none.
pub fn probe(dev: &dyn BlockDevice) -> Option<&'static str> {
    let mut sb = [0u8; 1024];
    dev.read_at(1024, &mut sb).ok()?;
    if u16::from_le_bytes([sb[0x38], sb[0x39]]) != 0xEF53 {
        return None;
    }
    let compat = u32::from_le_bytes([sb[0x5c], sb[0x5d], sb[0x5e], sb[0x5f]]);
    let incompat = u32::from_le_bytes([sb[0x60], sb[0x61], sb[0x62], sb[0x63]]);
    let ro_compat = u32::from_le_bytes([sb[0x64], sb[0x65], sb[0x66], sb[0x67]]);
    const HAS_JOURNAL: u32 = 0x4;
    // Features ext3 lacks (blkid's EXT3_FEATURE_*_UNSUPPORTED).
    const EXT3_INCOMPAT: u32 = !(0x2 | 0x4 | 0x10);
    const EXT3_RO_COMPAT: u32 = !(0x1 | 0x2 | 0x4);
    if incompat & EXT3_INCOMPAT != 0 || ro_compat & EXT3_RO_COMPAT != 0 {
        Some("ext4")
    } else if compat & HAS_JOURNAL != 0 {
        Some("ext3")
    } else {
        Some("ext2")
    }
}

/// Registers ext4, ext3 and ext2 with the VFS's filesystem types (at
/// boot). All three are this engine; the name decides what the image
/// must be (ext2 and ext3 refuse ext4's features, ext3 needs a journal)
/// and what /proc/mounts shows.
pub fn register() {
    type MountFn = fn(&MountRequest<'_>) -> KResult<Arc<SuperBlock>>;
    type ProbeFn = fn(&dyn BlockDevice) -> bool;
    let types: [(&'static str, MountFn, ProbeFn); 3] = [
        ("ext4", |r| mount_request(r, "ext4"), |d| probe(d) == Some("ext4")),
        ("ext3", |r| mount_request(r, "ext3"), |d| probe(d) == Some("ext3")),
        ("ext2", |r| mount_request(r, "ext2"), |d| probe(d) == Some("ext2")),
    ];
    for (name, mount, probe) in types {
        fstype::register(FileSystemType { name, requires_device: true, mount, probe: Some(probe) });
    }
}

/// Mount options ext4 accepts (and keeps to what it does: ordered data,
/// errors=remount-ro, xattrs and ACLs always on).
fn check_options(options: &str) -> KResult<()> {
    for (name, value) in fstype::options(options) {
        let ok = match (name, value) {
            ("errors", Some("remount-ro" | "continue" | "panic")) => true,
            ("data", Some("ordered")) => true,
            ("barrier" | "nobarrier" | "user_xattr" | "acl" | "auto_da_alloc" | "delalloc", None) => true,
            ("commit", Some(v)) => v.parse::<u32>().is_ok(),
            _ => false,
        };
        if !ok {
            return Err(Errno::EINVAL);
        }
    }
    Ok(())
}

fn mount_request(req: &MountRequest<'_>, fstype: &'static str) -> KResult<Arc<SuperBlock>> {
    let device = req.device.clone().ok_or(Errno::ENOTBLK)?;
    check_options(req.options)?;
    let found = probe(&*device).ok_or(Errno::EINVAL)?;
    // Linux's "couldn't mount as ext2/ext3 due to feature incompatibilities".
    let compatible = match fstype {
        "ext2" => found != "ext4",
        "ext3" => found == "ext3",
        _ => true,
    };
    if !compatible {
        return Err(Errno::EINVAL);
    }
    let read_only = req.flags & MS_RDONLY != 0;
    let (fs, root) = mount(device, req.dev.unwrap_or_else(crate::fs::new_anon_dev), read_only, fstype)?;
    Ok(SuperBlock::new(root, fstype, read_only, String::new(), Some(Box::new(Ext4Super(fs)))))
}

/// What the VFS tells a mounted filesystem.
struct Ext4Super(Arc<Ext4Fs>);

impl SuperOps for Ext4Super {
    fn sync(&self) -> KResult<()> {
        self.0.sync()
    }
    fn remount(&self, flags: u64, options: &str) -> KResult<()> {
        check_options(options)?;
        self.0.remount(flags & MS_RDONLY != 0)
    }
    fn unmount(&self) {
        if let Err(e) = self.0.unmount() {
            eprintln!("vkernel: unmounting {} {}:{}: {e}", self.0.fstype, crate::fs::dev_major(self.0.dev), crate::fs::dev_minor(self.0.dev));
        }
    }
}

/// Mounts the filesystem on `device` as `fstype` with st_dev `dev`;
/// returns it and its root directory.
pub fn mount(device: Arc<dyn BlockDevice>, dev: u64, read_only: bool, fstype: &'static str) -> KResult<(Arc<Ext4Fs>, InodeRef)> {
    let opts = MountOptions { read_only, cache_blocks: METADATA_CACHE_BLOCKS, clock: Arc::new(crate::fs::now), ..Default::default() };
    let engine = Ext4::mount_with(device, opts)?;
    let fs = Arc::new_cyclic(|me| Ext4Fs {
        engine,
        dev,
        read_only: AtomicBool::new(read_only),
        fstype,
        inodes: Mutex::new(HashMap::new()),
        recent: Mutex::new(VecDeque::new()),
        names: Mutex::new(NameCache::default()),
        unmounted: AtomicBool::new(false),
        me: me.clone(),
    });
    let root = fs.inode(fs.engine.root())?;
    if !read_only {
        fs.register_periodic_commit();
    }
    let mut mounted = MOUNTED.lock();
    mounted.retain(|w| w.strong_count() > 0);
    mounted.push(Arc::downgrade(&fs));
    Ok((fs, root))
}

/// Every filesystem mounted and not yet unmounted.
pub fn mounted() -> Vec<Arc<Ext4Fs>> {
    MOUNTED.lock().iter().filter_map(|w| w.upgrade()).filter(|fs| !fs.unmounted.load(Ordering::Acquire)).collect()
}

/// Shutdown: every filesystem written back and unmounted cleanly.
/// Returns the ones that failed, with why.
pub fn unmount_all() -> Vec<(u64, Errno)> {
    mounted().into_iter().filter_map(|fs| fs.unmount().err().map(|e| (fs.dev, e))).collect()
}

impl Ext4Fs {
    fn arc(&self) -> Arc<Ext4Fs> {
        self.me.upgrade().unwrap_or_else(|| unreachable!("a live filesystem has a strong reference"))
    }

    /// The VFS inode for `ino` (sharing the handle and page cache of any
    /// live one).
    pub fn inode(&self, ino: u32) -> KResult<Arc<Ext4Inode>> {
        let live = self.inodes.lock().get(&ino).and_then(|w| w.upgrade());
        let handle = match live {
            Some(h) => h,
            None => {
                let attr = self.engine.getattr(ino)?;
                if attr.mode == 0 {
                    return Err(super::EUCLEAN);
                }
                let mut inodes = self.inodes.lock();
                match inodes.get(&ino).and_then(|w| w.upgrade()) {
                    Some(h) => h,
                    None => {
                        let h = Arc::new(InodeHandle {
                            fs: self.arc(),
                            ino,
                            cache: Mutex::new(Weak::new()),
                            append: Mutex::new(()),
                            mtime_set: Mutex::new(None),
                            attr: Mutex::new((0, Some(attr))),
                            unlinked: AtomicBool::new(false),
                            access_acl: AclCache::default(),
                            default_acl: AclCache::default(),
                        });
                        if inodes.len() >= 1024 && inodes.len().is_power_of_two() {
                            inodes.retain(|_, w| w.strong_count() > 0);
                        }
                        inodes.insert(ino, Arc::downgrade(&h));
                        h
                    }
                }
            }
        };
        let attr = handle.attr()?;
        let cache = if attr.mode & crate::abi::stat::S_IFMT == crate::abi::stat::S_IFREG {
            let cache = handle.page_cache(attr.size);
            self.keep_recent(ino, &cache);
            Some(cache)
        } else {
            None
        };
        Ok(Arc::new(Ext4Inode::new(handle, attr.mode, cache)))
    }

    fn keep_recent(&self, ino: u32, cache: &Arc<PageCache>) {
        let mut recent = self.recent.lock();
        if let Some(pos) = recent.iter().position(|(i, _)| *i == ino) {
            if pos == 0 {
                return;
            }
            recent.remove(pos);
        }
        recent.push_front((ino, cache.clone()));
        let old = if recent.len() > RECENT_FILES { recent.pop_back() } else { None };
        drop(recent);
        drop(old);
    }

    /// `ino` may have lost its last link: it must not linger in the
    /// recent list (its last user frees it).
    pub fn forget_if_unlinked(&self, ino: u32) {
        self.attr_changed(ino);
        if !self.engine.getattr(ino).is_ok_and(|a| a.nlink == 0) {
            return;
        }
        let removed = {
            let mut recent = self.recent.lock();
            recent.iter().position(|(i, _)| *i == ino).and_then(|pos| recent.remove(pos))
        };
        drop(removed);
        let live = self.inodes.lock().get(&ino).and_then(|w| w.upgrade());
        match live {
            // Its last user frees it.
            Some(h) => h.unlinked.store(true, Ordering::Release),
            // Nobody holds it: it goes now.
            None => {
                let _ = self.engine.evict(ino);
            }
        }
    }

    /// The engine changed `ino`'s attributes: its cached ones are stale.
    pub fn attr_changed(&self, ino: u32) {
        let live = self.inodes.lock().get(&ino).and_then(|w| w.upgrade());
        if let Some(h) = live {
            h.forget_attr();
        }
    }

    /// `name` in directory `dir`: from the name cache, else the engine.
    pub fn lookup(&self, dir: u32, name: &[u8]) -> KResult<u32> {
        if let Some(known) = self.names.lock().get(dir, name) {
            return known.ok_or(Errno::ENOENT);
        }
        match self.engine.lookup(dir, name) {
            Ok(ino) => {
                self.names.lock().set(dir, name, Some(ino));
                Ok(ino)
            }
            Err(Errno::ENOENT) => {
                self.names.lock().set(dir, name, None);
                Err(Errno::ENOENT)
            }
            Err(e) => Err(e),
        }
    }

    /// Records what `name` in `dir` now is (after a change the glue made),
    /// or forgets it (`Forget`) when the outcome is unknown (an error).
    pub fn name_changed(&self, dir: u32, name: &[u8], now: NameState) {
        let mut names = self.names.lock();
        match now {
            NameState::Is(ino) => names.set(dir, name, Some(ino)),
            NameState::Gone => names.set(dir, name, None),
            NameState::Forget => names.forget(dir, name),
        }
    }

    /// Directory `dir` was removed: its names go (its number may return).
    pub fn dir_removed(&self, dir: u32) {
        self.names.lock().forget_dir(dir);
    }

    /// The live page cache of `ino`, if any.
    pub fn live_cache(&self, ino: u32) -> Option<Arc<PageCache>> {
        let handle = self.inodes.lock().get(&ino).and_then(|w| w.upgrade())?;
        handle.cache.lock().upgrade()
    }

    fn live_caches(&self) -> Vec<Arc<PageCache>> {
        let handles: Vec<Arc<InodeHandle>> = self.inodes.lock().values().filter_map(|w| w.upgrade()).collect();
        handles.iter().filter_map(|h| h.cache.lock().upgrade()).collect()
    }

    /// Writes back every dirty page of this filesystem.
    pub fn write_back(&self) -> KResult<()> {
        let mut result = Ok(());
        for c in self.live_caches() {
            if let Err(e) = c.write_back_all() {
                result = Err(e);
            }
        }
        result
    }

    /// syncfs: dirty pages written, the journal committed and
    /// checkpointed, the device flushed.
    pub fn sync(&self) -> KResult<()> {
        if self.read_only() || self.is_unmounted() {
            return Ok(());
        }
        let written = self.write_back();
        self.engine.sync_fs()?;
        written
    }

    /// Clean unmount: everything written home, the journal emptied, the
    /// superblock clean (the host's e2fsck -fn finds nothing). Later
    /// writes fail with EROFS.
    pub fn unmount(&self) -> KResult<()> {
        if self.unmounted.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let written = if self.read_only() { Ok(()) } else { self.write_back() };
        let recent = std::mem::take(&mut *self.recent.lock());
        drop(recent);
        self.engine.unmount()?;
        written
    }

    pub fn is_unmounted(&self) -> bool {
        self.unmounted.load(Ordering::Acquire)
    }

    pub fn read_only(&self) -> bool {
        self.read_only.load(Ordering::Acquire)
    }

    /// MS_REMOUNT: to read-only, everything is written back and the disk
    /// left clean; back to read-write, the journal starts again.
    pub fn remount(&self, read_only: bool) -> KResult<()> {
        if self.is_unmounted() || read_only == self.read_only() {
            return Ok(());
        }
        if read_only {
            self.write_back()?;
            self.read_only.store(true, Ordering::Release);
            self.engine.unmount()
        } else {
            self.engine.remount_read_write()?;
            self.read_only.store(false, Ordering::Release);
            self.register_periodic_commit();
            Ok(())
        }
    }

    fn register_periodic_commit(&self) {
        // The journal's commit of an old transaction, after each background
        // writeback pass (about once a second).
        let weak = self.me.clone();
        crate::mm::writeback::register_periodic(move || match weak.upgrade() {
            Some(fs) if !fs.is_unmounted() && !fs.read_only() => {
                let _ = fs.engine.periodic_commit();
                true
            }
            _ => false,
        });
    }

    /// The current time for timestamps the VFS glue sets.
    pub fn now(&self) -> Timespec {
        crate::fs::now()
    }
}

/// What a name is after a change.
pub enum NameState {
    Is(u32),
    Gone,
    Forget,
}

/// Bounded cache of directory entries (positive and negative).
#[derive(Default)]
struct NameCache {
    dirs: HashMap<u32, HashMap<Vec<u8>, Option<u32>>>,
    entries: usize,
}

/// Entries the name cache holds before it starts over.
const NAME_CACHE_ENTRIES: usize = 65536;

impl NameCache {
    fn get(&self, dir: u32, name: &[u8]) -> Option<Option<u32>> {
        self.dirs.get(&dir)?.get(name).copied()
    }

    fn set(&mut self, dir: u32, name: &[u8], ino: Option<u32>) {
        if name == b"." || name == b".." {
            return;
        }
        if self.entries >= NAME_CACHE_ENTRIES {
            self.dirs.clear();
            self.entries = 0;
        }
        if self.dirs.entry(dir).or_default().insert(name.to_vec(), ino).is_none() {
            self.entries += 1;
        }
    }

    fn forget(&mut self, dir: u32, name: &[u8]) {
        if let Some(d) = self.dirs.get_mut(&dir)
            && d.remove(name).is_some()
        {
            self.entries -= 1;
        }
    }

    fn forget_dir(&mut self, dir: u32) {
        if let Some(d) = self.dirs.remove(&dir) {
            self.entries -= d.len();
        }
    }
}

/// What one inode number is while anything uses it: the VFS inodes and
/// the page cache share it; the last to go frees an unlinked inode.
pub struct InodeHandle {
    pub fs: Arc<Ext4Fs>,
    pub ino: u32,
    cache: Mutex<Weak<PageCache>>,
    /// Serializes O_APPEND writes (end of file, then write).
    pub append: Mutex<()>,
    /// When write() last set mtime and ctime: within one clock tick they
    /// are not set again (Linux's coarse file_update_time).
    pub mtime_set: Mutex<Option<Timespec>>,
    /// The inode's attributes as the engine last reported them; every
    /// glue operation that changes them forgets them (`forget_attr`).
    attr: Mutex<(u64, Option<super::Attr>)>,
    /// The glue saw its last link go: the last user frees it.
    unlinked: AtomicBool,
    /// The POSIX ACLs as last read (the glue's setxattr and removexattr
    /// of their names forget them).
    pub access_acl: AclCache,
    pub default_acl: AclCache,
}

impl InodeHandle {
    /// The inode's attributes (cached; see `forget_attr`).
    pub fn attr(&self) -> KResult<super::Attr> {
        let generation = {
            let cached = self.attr.lock();
            if let Some(a) = cached.1 {
                return Ok(a);
            }
            cached.0
        };
        let a = self.fs.engine.getattr(self.ino)?;
        // Kept only if nothing changed the inode meanwhile.
        let mut cached = self.attr.lock();
        if cached.0 == generation {
            cached.1 = Some(a);
        }
        Ok(a)
    }

    /// The engine changed this inode: the next `attr` asks it again.
    pub fn forget_attr(&self) {
        let mut cached = self.attr.lock();
        cached.0 += 1;
        cached.1 = None;
    }

    /// The file's page cache: the live one, or a new one of `size` bytes.
    fn page_cache(self: &Arc<Self>, size: u64) -> Arc<PageCache> {
        let mut slot = self.cache.lock();
        if let Some(c) = slot.upgrade() {
            return c;
        }
        let store: Arc<dyn PageStore> = self.clone();
        let c = PageCache::with_store(crate::mm::frame::guest_ram().clone(), store, size);
        *slot = Arc::downgrade(&c);
        c
    }

    fn block_size(&self) -> u64 {
        self.fs.engine.geometry.block_size as u64
    }

    /// Per page of [index, index+count): its blocks without disk space
    /// (a page inside one larger block counts that block).
    fn hole_units(&self, maps: &[super::Mapping], index: u64, count: u64) -> Vec<u8> {
        let bs = self.block_size();
        let mut holes = vec![0u8; count as usize];
        for m in maps.iter().filter(|m| m.pblk == 0) {
            let (from, to) = (m.lblk * bs, (m.lblk + m.len) * bs);
            for (i, h) in holes.iter_mut().enumerate() {
                let (ps, pe) = ((index + i as u64) * PAGE, (index + i as u64 + 1) * PAGE);
                let (lo, hi) = (from.max(ps), to.min(pe));
                if lo < hi {
                    *h = h.saturating_add((hi - lo).div_ceil(bs).max(1) as u8);
                }
            }
        }
        holes
    }

    /// The mappings of pages [index, index+count).
    fn mappings(&self, index: u64, count: u64) -> KResult<Vec<super::Mapping>> {
        let bs = self.block_size();
        let first = index * PAGE / bs;
        let last = ((index + count) * PAGE).div_ceil(bs);
        self.fs.engine.map_blocks(self.ino, first, last - first, false)
    }
}

impl PageStore for InodeHandle {
    fn read_pages(&self, index: u64, bufs: &mut [&mut [u8]]) -> KResult<Vec<u8>> {
        let count = bufs.len() as u64;
        let maps = match self.mappings(index, count) {
            Ok(m) => m,
            Err(Errno::EOPNOTSUPP) => {
                // Data in the inode itself (inline_data): the engine reads it.
                for (i, b) in bufs.iter_mut().enumerate() {
                    self.fs.engine.read(self.ino, (index + i as u64) * PAGE, b)?;
                }
                return Ok(vec![0; count as usize]);
            }
            Err(e) => return Err(e),
        };
        let bs = self.block_size();
        let device = self.fs.engine.device();
        let (start, end) = (index * PAGE, (index + count) * PAGE);
        for m in maps.iter().filter(|m| m.pblk != 0 && !m.unwritten) {
            let (from, to) = ((m.lblk * bs).max(start), ((m.lblk + m.len) * bs).min(end));
            if from >= to {
                continue;
            }
            // The pieces of the page buffers this run covers, in one read.
            let mut iov: Vec<&mut [u8]> = Vec::new();
            for (i, b) in bufs.iter_mut().enumerate() {
                let (ps, pe) = ((index + i as u64) * PAGE, (index + i as u64 + 1) * PAGE);
                let (lo, hi) = (from.max(ps), to.min(pe));
                if lo < hi {
                    iov.push(&mut b[(lo - ps) as usize..(hi - ps) as usize]);
                }
            }
            device.read_vectored_at(m.pblk * bs + (from - m.lblk * bs), &mut iov)?;
        }
        Ok(self.hole_units(&maps, index, count))
    }

    fn read_direct(&self, offset: u64, bufs: &mut [&mut [u8]]) -> Option<KResult<()>> {
        let total: u64 = bufs.iter().map(|b| b.len() as u64).sum();
        let end = offset + total;
        let (index, last) = (offset / PAGE, end.div_ceil(PAGE));
        let maps = match self.mappings(index, last - index) {
            Ok(m) => m,
            // Inline data: the cache's path reads it.
            Err(Errno::EOPNOTSUPP) => return None,
            Err(e) => return Some(Err(e)),
        };
        let bs = self.block_size();
        let device = self.fs.engine.device();
        // The pieces of `bufs` holding file bytes [from, to).
        fn pieces<'a>(bufs: &'a mut [&mut [u8]], offset: u64, from: u64, to: u64) -> Vec<&'a mut [u8]> {
            let mut at = offset;
            let mut out = Vec::new();
            for b in bufs.iter_mut() {
                let (bs, be) = (at, at + b.len() as u64);
                at = be;
                let (lo, hi) = (from.max(bs), to.min(be));
                if lo < hi {
                    out.push(&mut b[(lo - bs) as usize..(hi - bs) as usize]);
                }
                if be >= to {
                    break;
                }
            }
            out
        }
        let mut mapped: Vec<&super::Mapping> = maps.iter().filter(|m| m.pblk != 0 && !m.unwritten).collect();
        mapped.sort_by_key(|m| m.lblk);
        let mut at = offset;
        for m in mapped {
            let (from, to) = ((m.lblk * bs).max(offset), ((m.lblk + m.len) * bs).min(end));
            if from >= to {
                continue;
            }
            // Holes (and unwritten extents) before the run read as zeros.
            for p in pieces(bufs, offset, at, from) {
                p.fill(0);
            }
            // One vectored read per run of contiguous blocks.
            if let Err(e) = device.read_vectored_at(m.pblk * bs + (from - m.lblk * bs), &mut pieces(bufs, offset, from, to)) {
                return Some(Err(e));
            }
            at = at.max(to);
        }
        for p in pieces(bufs, offset, at, end) {
            p.fill(0);
        }
        Some(Ok(()))
    }

    fn holes(&self, index: u64, count: u64) -> KResult<Vec<u8>> {
        match self.mappings(index, count) {
            Ok(maps) => Ok(self.hole_units(&maps, index, count)),
            // Inline data is read-only: writes fail before anything is reserved.
            Err(Errno::EOPNOTSUPP) => Ok(vec![0; count as usize]),
            Err(e) => Err(e),
        }
    }

    fn reserve(&self, units: u64) -> KResult<()> {
        if self.fs.read_only() || self.fs.is_unmounted() {
            return Err(Errno::EROFS);
        }
        self.fs.engine.reserve_blocks(units)
    }

    fn unreserve(&self, units: u64) {
        self.fs.engine.unreserve_blocks(units)
    }

    fn write_pages(&self, index: u64, bufs: &[&[u8]], size: u64, reserved: u64) -> KResult<()> {
        let r = self.fs.engine.write_pages(self.ino, index * PAGE, bufs, size, reserved);
        self.forget_attr();
        r
    }

    fn sync(&self) -> KResult<()> {
        self.fs.engine.fsync(self.ino, false)
    }
}

impl Drop for InodeHandle {
    fn drop(&mut self) {
        {
            let mut inodes = self.fs.inodes.lock();
            if inodes.get(&self.ino).is_some_and(|w| w.strong_count() == 0) {
                inodes.remove(&self.ino);
            }
        }
        // The last user let go: an inode without links is freed now.
        if self.unlinked.load(Ordering::Acquire)
            && !self.fs.read_only()
            && !self.fs.is_unmounted()
            && self.fs.engine.getattr(self.ino).is_ok_and(|a| a.nlink == 0)
        {
            let _ = self.fs.engine.evict(self.ino);
        }
    }
}
