//! tmpfs: a read-write filesystem in vkernel's memory (used for /tmp,
//! /dev/shm and as the body of devfs). Directories keep their entries by a
//! monotonically increasing cookie, so getdents offsets stay valid while
//! entries come and go. Namespace changes (create, link, unlink, rename)
//! are serialized by one lock per filesystem; data I/O and lookups take
//! only the inode's own lock. Never call out of the filesystem holding a lock.

use parking_lot::{Mutex, MutexGuard};
use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use crate::abi::fcntl::{
    F_SEAL_EXEC, F_SEAL_FUTURE_WRITE, F_SEAL_GROW, F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_WRITE, FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, RENAME_EXCHANGE,
    RENAME_NOREPLACE,
};
use crate::abi::stat::{S_IFDIR, S_IFLNK, S_IFMT, S_IFREG};
use crate::abi::statfs::TMPFS_MAGIC;
use crate::abi::xattr::{XATTR_CREATE, XATTR_REPLACE};
use crate::abi::{Errno, KResult, PAGE_SIZE, StatFs, Timespec};
use crate::fs::inode::{DirEntry, Inode, InodeRef, Metadata, SetAttr, dtype_of_mode};
use crate::fs::posix_acl::{InitialAcls, PosixAcl};
use crate::fs::xattr::{ACL_ACCESS, ACL_DEFAULT, stored_namespace};
use crate::fs::{check_name, new_anon_dev, now};
use crate::mm::frame::guest_ram;
use crate::mm::page_cache::PageCache;

const PAGE: usize = PAGE_SIZE as usize;
/// Linux's shmem counts 20 bytes of directory size per entry.
const BOGO_DIRENT_SIZE: u64 = 20;
/// The first cookie handed to a directory entry; 0 and 1 are "." and "..".
const FIRST_COOKIE: u64 = 2;
/// Space for one inode's extended attributes, names and values together
/// (they live in vkernel's memory, not in guest RAM).
const XATTR_SPACE: usize = 64 * 1024;

/// One mounted tmpfs instance: its device number and its limits.
pub struct TmpFs {
    dev: u64,
    next_ino: AtomicU64,
    namespace: Mutex<()>,
    max_pages: u64,
    used_pages: AtomicU64,
    max_inodes: u64,
    inodes: AtomicU64,
}

pub struct TmpInode {
    fs: Arc<TmpFs>,
    ino: u64,
    me: Weak<TmpInode>,
    state: Mutex<State>,
    /// F_ADD_SEALS calls adding F_SEAL_WRITE that are making sure no
    /// shared mapping may write: while any is, new ones are EPERM (Linux's
    /// mapping_deny_writable, i_mmap_writable below zero).
    denying_writable_maps: AtomicU32,
}

struct State {
    mode: u32,
    uid: u32,
    gid: u32,
    nlink: u64,
    rdev: u64,
    atime: Timespec,
    mtime: Timespec,
    ctime: Timespec,
    kind: Kind,
    /// Extended attributes by name (Linux's simple_xattrs, sorted).
    xattrs: BTreeMap<Vec<u8>, Vec<u8>>,
    /// The POSIX ACLs, parsed (shmem keeps them in i_acl/i_default_acl,
    /// outside the xattr space).
    acls: InitialAcls,
    /// F_SEAL_* bits. Every inode starts with F_SEAL_SEAL, as shmem's do;
    /// only a memfd starts with fewer (`set_initial_seals`).
    seals: u32,
}

/// The seals that stop writes (Linux's is_write_sealed).
const WRITE_SEALS: u32 = F_SEAL_WRITE | F_SEAL_FUTURE_WRITE;

enum Kind {
    Dir(Dir),
    File(FileData),
    Symlink(Vec<u8>),
    /// FIFOs, sockets and device nodes: metadata only.
    Special,
}

struct Dir {
    entries: BTreeMap<u64, Entry>,
    names: HashMap<Vec<u8>, u64>,
    next_cookie: u64,
    parent: Weak<TmpInode>,
}

struct Entry {
    name: Vec<u8>,
    inode: Arc<TmpInode>,
}

/// File data: the file's page cache, in guest RAM, shared with MAP_SHARED
/// mappings of the file. Absent pages are holes reading as zero.
struct FileData {
    cache: Arc<PageCache>,
    size: u64,
    /// Pages charged to the filesystem: those write allocated. A fault
    /// in a hole of a MAP_SHARED mapping adds pages the filesystem never
    /// sees, so only these are uncharged (never more than are present).
    charged: u64,
}

impl FileData {
    fn new() -> FileData {
        let cache = PageCache::new(guest_ram().clone());
        cache.set_size(0);
        FileData { cache, size: 0, charged: 0 }
    }

    fn set_size(&mut self, size: u64) {
        self.size = size;
        self.cache.set_size(size);
    }
}

impl TmpFs {
    /// A new, empty tmpfs of at most `max_bytes` of file data; returns its
    /// root directory with the given mode and owner.
    pub fn new_root(max_bytes: u64, mode: u32, uid: u32, gid: u32) -> Arc<TmpInode> {
        let max_pages = (max_bytes / PAGE_SIZE).max(1);
        let fs = Arc::new(TmpFs {
            dev: new_anon_dev(),
            next_ino: AtomicU64::new(1),
            namespace: Mutex::new(()),
            max_pages,
            used_pages: AtomicU64::new(0),
            // Linux's default nr_inodes: half the RAM pages, here the data pages.
            max_inodes: max_pages.max(1024),
            inodes: AtomicU64::new(0),
        });
        let dir = Kind::Dir(Dir { entries: BTreeMap::new(), names: HashMap::new(), next_cookie: FIRST_COOKIE, parent: Weak::new() });
        let root = fs.alloc_inode(S_IFDIR | (mode & 0o7777), uid, gid, 0, dir).unwrap_or_else(|_| unreachable!("a fresh tmpfs has room for its root"));
        {
            let mut st = root.lock();
            st.nlink = 2;
            if let Kind::Dir(d) = &mut st.kind {
                d.parent = root.me.clone();
            }
        }
        root
    }

    fn alloc_inode(self: &Arc<Self>, mode: u32, uid: u32, gid: u32, rdev: u64, kind: Kind) -> KResult<Arc<TmpInode>> {
        if self.inodes.fetch_add(1, Ordering::Relaxed) >= self.max_inodes {
            self.inodes.fetch_sub(1, Ordering::Relaxed);
            return Err(Errno::ENOSPC);
        }
        let t = now();
        let nlink = if mode & S_IFMT == S_IFDIR { 2 } else { 1 };
        Ok(Arc::new_cyclic(|me| TmpInode {
            fs: self.clone(),
            ino: self.next_ino.fetch_add(1, Ordering::Relaxed),
            me: me.clone(),
            state: Mutex::new(State {
                mode,
                uid,
                gid,
                nlink,
                rdev,
                atime: t,
                mtime: t,
                ctime: t,
                kind,
                xattrs: BTreeMap::new(),
                acls: InitialAcls::default(),
                seals: F_SEAL_SEAL,
            }),
            denying_writable_maps: AtomicU32::new(0),
        }))
    }

    fn namespace(&self) -> MutexGuard<'_, ()> {
        self.namespace.lock()
    }

    fn charge_page(&self) -> KResult<()> {
        if self.used_pages.fetch_add(1, Ordering::Relaxed) >= self.max_pages {
            self.used_pages.fetch_sub(1, Ordering::Relaxed);
            return Err(Errno::ENOSPC);
        }
        Ok(())
    }

    fn uncharge_pages(&self, n: u64) {
        self.used_pages.fetch_sub(n, Ordering::Relaxed);
    }
}

impl Drop for TmpInode {
    fn drop(&mut self) {
        let st = self.state.get_mut();
        if let Kind::File(f) = &st.kind {
            self.fs.uncharge_pages(f.charged);
        }
        self.fs.inodes.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Linux's relatime: update atime only when it is not newer than mtime or
/// ctime, or is more than a day old.
fn touch_atime(st: &mut State) {
    let t = now();
    if st.atime <= st.mtime || st.atime <= st.ctime || t.tv_sec - st.atime.tv_sec >= 24 * 3600 {
        st.atime = t;
    }
}

impl TmpInode {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock()
    }

    fn arc(&self) -> Arc<TmpInode> {
        self.me.upgrade().unwrap_or_else(|| unreachable!("a live inode has a strong reference"))
    }

    fn is_dir(&self) -> bool {
        matches!(self.lock().kind, Kind::Dir(_))
    }

    /// A tmpfs inode of the same filesystem behind an `InodeRef`, or EXDEV.
    fn same_fs(&self, other: &InodeRef) -> KResult<Arc<TmpInode>> {
        let t = other.as_any().downcast_ref::<TmpInode>().ok_or(Errno::EXDEV)?;
        if !Arc::ptr_eq(&t.fs, &self.fs) {
            return Err(Errno::EXDEV);
        }
        Ok(t.arc())
    }

    fn child(&self, name: &[u8]) -> KResult<Arc<TmpInode>> {
        let st = self.lock();
        let Kind::Dir(d) = &st.kind else { return Err(Errno::ENOTDIR) };
        let cookie = d.names.get(name).ok_or(Errno::ENOENT)?;
        Ok(d.entries[cookie].inode.clone())
    }

    /// Adds an entry; the caller holds the namespace lock and has checked
    /// that the name is free.
    fn insert(&self, name: &[u8], inode: Arc<TmpInode>) -> KResult<()> {
        let child_is_dir = inode.is_dir();
        let mut st = self.lock();
        if st.nlink == 0 {
            // A removed directory takes no new entries (Linux: IS_DEADDIR).
            return Err(Errno::ENOENT);
        }
        let Kind::Dir(d) = &mut st.kind else { return Err(Errno::ENOTDIR) };
        let cookie = d.next_cookie;
        d.next_cookie += 1;
        d.names.insert(name.to_vec(), cookie);
        d.entries.insert(cookie, Entry { name: name.to_vec(), inode });
        if child_is_dir {
            st.nlink += 1;
        }
        let t = now();
        st.mtime = t;
        st.ctime = t;
        Ok(())
    }

    /// Removes an entry and returns its inode; the caller holds the
    /// namespace lock. Directory link counts are the caller's business.
    fn remove(&self, name: &[u8]) -> KResult<Arc<TmpInode>> {
        let mut st = self.lock();
        let Kind::Dir(d) = &mut st.kind else { return Err(Errno::ENOTDIR) };
        let cookie = d.names.remove(name).ok_or(Errno::ENOENT)?;
        let entry = d.entries.remove(&cookie).ok_or(Errno::ENOENT)?;
        let t = now();
        st.mtime = t;
        st.ctime = t;
        Ok(entry.inode)
    }

    fn dir_is_empty(&self) -> bool {
        match &self.lock().kind {
            Kind::Dir(d) => d.entries.is_empty(),
            _ => false,
        }
    }

    fn set_parent(&self, parent: &Arc<TmpInode>) {
        if let Kind::Dir(d) = &mut self.lock().kind {
            d.parent = Arc::downgrade(parent);
        }
    }

    fn parent(&self) -> Option<Arc<TmpInode>> {
        match &self.lock().kind {
            Kind::Dir(d) => d.parent.upgrade(),
            _ => None,
        }
    }

    fn adjust_nlink(&self, delta: i64) {
        let mut st = self.lock();
        st.nlink = (st.nlink as i64 + delta).max(0) as u64;
        st.ctime = now();
    }

    /// Is `self` (a directory) `ancestor` or below it?
    fn is_within(&self, ancestor: &TmpInode) -> bool {
        let mut cur = self.arc();
        loop {
            if cur.ino == ancestor.ino {
                return true;
            }
            match cur.parent() {
                Some(p) if p.ino != cur.ino => cur = p,
                _ => return false,
            }
        }
    }

    /// Unlinks a victim inode (replaced by rename or removed): a directory
    /// loses both its links, anything else one.
    fn drop_victim(victim: &TmpInode, dir: &TmpInode) {
        if victim.is_dir() {
            let mut st = victim.lock();
            st.nlink = 0;
            st.ctime = now();
            drop(st);
            dir.adjust_nlink(-1);
        } else {
            victim.adjust_nlink(-1);
        }
    }

    fn truncate(&self, st: &mut State, size: u64) -> KResult<()> {
        let Kind::File(f) = &mut st.kind else {
            return Err(if matches!(st.kind, Kind::Dir(_)) { Errno::EISDIR } else { Errno::EINVAL });
        };
        if size > i64::MAX as u64 {
            return Err(Errno::EFBIG);
        }
        if size < f.size {
            let keep = size.div_ceil(PAGE_SIZE);
            f.cache.truncate_pages(keep);
            let excess = f.charged.saturating_sub(f.cache.page_count());
            f.charged -= excess;
            self.fs.uncharge_pages(excess);
            // Zero the tail of the last page so a later extension reads zeros.
            let off = (size % PAGE_SIZE) as usize;
            if off != 0 {
                if let Some(frame) = f.cache.lookup(size / PAGE_SIZE) {
                    f.cache.phys().frame_bytes(frame)[off..].fill(0);
                }
            }
        }
        f.set_size(size);
        Ok(())
    }
}

impl Inode for TmpInode {
    fn metadata(&self) -> KResult<Metadata> {
        let st = self.lock();
        let (size, blocks) = match &st.kind {
            Kind::Dir(d) => ((d.entries.len() as u64 + 2) * BOGO_DIRENT_SIZE, 0),
            Kind::File(f) => (f.size, f.cache.page_count() * (PAGE_SIZE / 512)),
            Kind::Symlink(t) => (t.len() as u64, 0),
            Kind::Special => (0, 0),
        };
        Ok(Metadata {
            dev: self.fs.dev,
            ino: self.ino,
            mode: st.mode,
            nlink: st.nlink,
            uid: st.uid,
            gid: st.gid,
            rdev: st.rdev,
            size,
            blksize: PAGE_SIZE,
            blocks,
            atime: st.atime,
            mtime: st.mtime,
            ctime: st.ctime,
        })
    }

    fn statfs(&self) -> KResult<StatFs> {
        let used = self.fs.used_pages.load(Ordering::Relaxed);
        let inodes = self.fs.inodes.load(Ordering::Relaxed);
        let free = self.fs.max_pages.saturating_sub(used);
        Ok(StatFs {
            f_type: TMPFS_MAGIC,
            f_bsize: PAGE_SIZE as i64,
            f_blocks: self.fs.max_pages,
            f_bfree: free,
            f_bavail: free,
            f_files: self.fs.max_inodes,
            f_ffree: self.fs.max_inodes.saturating_sub(inodes),
            f_fsid: [0, 0],
            f_namelen: 255,
            f_frsize: PAGE_SIZE as i64,
            f_flags: 0,
            f_spare: [0; 4],
        })
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn lookup(&self, name: &[u8]) -> KResult<InodeRef> {
        Ok(self.child(name)?)
    }

    fn create(&self, name: &[u8], mode: u32, rdev: u64, uid: u32, gid: u32) -> KResult<InodeRef> {
        self.create_with_acls(name, mode, rdev, uid, gid, &InitialAcls::default())
    }

    /// The ACLs are the inode's before its name appears.
    fn create_with_acls(&self, name: &[u8], mode: u32, rdev: u64, uid: u32, gid: u32, acls: &InitialAcls) -> KResult<InodeRef> {
        check_name(name)?;
        let _ns = self.fs.namespace();
        if !self.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        if self.child(name).is_ok() {
            return Err(Errno::EEXIST);
        }
        let kind = match mode & S_IFMT {
            S_IFDIR => Kind::Dir(Dir { entries: BTreeMap::new(), names: HashMap::new(), next_cookie: FIRST_COOKIE, parent: self.me.clone() }),
            S_IFREG | 0 => Kind::File(FileData::new()),
            S_IFLNK => return Err(Errno::EINVAL),
            _ => Kind::Special,
        };
        let mode = if mode & S_IFMT == 0 { mode | S_IFREG } else { mode };
        let inode = self.fs.alloc_inode(mode, uid, gid, rdev, kind)?;
        if !acls.is_empty() {
            // Only a directory keeps a default ACL, whoever asks.
            let mut st = inode.lock();
            st.acls.access = acls.access.clone();
            if mode & S_IFMT == S_IFDIR {
                st.acls.default = acls.default.clone();
            }
        }
        self.insert(name, inode.clone())?;
        Ok(inode)
    }

    fn symlink(&self, name: &[u8], target: &[u8], uid: u32, gid: u32) -> KResult<InodeRef> {
        check_name(name)?;
        if target.len() >= PAGE {
            return Err(Errno::ENAMETOOLONG);
        }
        let _ns = self.fs.namespace();
        if !self.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        if self.child(name).is_ok() {
            return Err(Errno::EEXIST);
        }
        let inode = self.fs.alloc_inode(S_IFLNK | 0o777, uid, gid, 0, Kind::Symlink(target.to_vec()))?;
        self.insert(name, inode.clone())?;
        Ok(inode)
    }

    fn link(&self, name: &[u8], target: &InodeRef) -> KResult<()> {
        check_name(name)?;
        let target = self.same_fs(target)?;
        let _ns = self.fs.namespace();
        if target.is_dir() {
            return Err(Errno::EPERM);
        }
        if self.child(name).is_ok() {
            return Err(Errno::EEXIST);
        }
        if target.lock().nlink == 0 {
            return Err(Errno::ENOENT);
        }
        self.insert(name, target.clone())?;
        target.adjust_nlink(1);
        Ok(())
    }

    fn unlink(&self, name: &[u8]) -> KResult<()> {
        let _ns = self.fs.namespace();
        let victim = self.child(name)?;
        if victim.is_dir() {
            return Err(Errno::EISDIR);
        }
        self.remove(name)?;
        victim.adjust_nlink(-1);
        Ok(())
    }

    fn rmdir(&self, name: &[u8]) -> KResult<()> {
        let _ns = self.fs.namespace();
        let victim = self.child(name)?;
        if !victim.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        if !victim.dir_is_empty() {
            return Err(Errno::ENOTEMPTY);
        }
        self.remove(name)?;
        TmpInode::drop_victim(&victim, self);
        Ok(())
    }

    fn rename(&self, old_name: &[u8], new_dir: &InodeRef, new_name: &[u8], flags: u32) -> KResult<()> {
        if flags & !(RENAME_NOREPLACE | RENAME_EXCHANGE) != 0 || flags == RENAME_NOREPLACE | RENAME_EXCHANGE {
            return Err(Errno::EINVAL);
        }
        let new_dir = self.same_fs(new_dir)?;
        check_name(new_name).map_err(|e| if e == Errno::EEXIST { Errno::EBUSY } else { e })?;
        let _ns = self.fs.namespace();
        let old_dir = self.arc();
        let source = self.child(old_name)?;
        // Moving a directory below itself (Linux: the lock_rename trap).
        if source.is_dir() && new_dir.is_within(&source) {
            return Err(Errno::EINVAL);
        }
        let target = match new_dir.child(new_name) {
            Ok(t) => Some(t),
            Err(Errno::ENOENT) => None,
            Err(e) => return Err(e),
        };
        if flags & RENAME_EXCHANGE != 0 {
            let target = target.ok_or(Errno::ENOENT)?;
            if target.is_dir() && old_dir.is_within(&target) {
                return Err(Errno::EINVAL);
            }
            if Arc::ptr_eq(&source, &target) {
                return Ok(());
            }
            let (sd, td) = (source.is_dir(), target.is_dir());
            old_dir.remove(old_name)?;
            new_dir.remove(new_name)?;
            new_dir.insert_raw(new_name, source.clone());
            old_dir.insert_raw(old_name, target.clone());
            if !Arc::ptr_eq(&old_dir, &new_dir) && sd != td {
                let delta = if sd { 1 } else { -1 };
                new_dir.adjust_nlink(delta);
                old_dir.adjust_nlink(-delta);
            }
            if sd {
                source.set_parent(&new_dir);
            }
            if td {
                target.set_parent(&old_dir);
            }
            source.adjust_nlink(0);
            target.adjust_nlink(0);
            return Ok(());
        }
        if let Some(target) = &target {
            if flags & RENAME_NOREPLACE != 0 {
                return Err(Errno::EEXIST);
            }
            // Two names for one inode: Linux does nothing and succeeds.
            if Arc::ptr_eq(&source, target) {
                return Ok(());
            }
            match (source.is_dir(), target.is_dir()) {
                (true, false) => return Err(Errno::ENOTDIR),
                (false, true) => return Err(Errno::EISDIR),
                (true, true) if !target.dir_is_empty() => return Err(Errno::ENOTEMPTY),
                _ => {}
            }
        }
        let moved_dir = source.is_dir();
        old_dir.remove(old_name)?;
        if let Some(target) = &target {
            new_dir.remove(new_name)?;
            TmpInode::drop_victim(target, &new_dir);
        }
        new_dir.insert(new_name, source.clone()).inspect_err(|_| old_dir.insert_raw(old_name, source.clone()))?;
        if moved_dir {
            // insert() counted the new parent's link; drop the old one's.
            old_dir.adjust_nlink(-1);
            source.set_parent(&new_dir);
        }
        source.adjust_nlink(0);
        Ok(())
    }

    fn readdir(&self, offset: u64, sink: &mut dyn FnMut(DirEntry<'_>) -> bool) -> KResult<()> {
        let mut st = self.lock();
        let Kind::Dir(d) = &st.kind else { return Err(Errno::ENOTDIR) };
        if offset == 0 && !sink(DirEntry { ino: self.ino, dtype: 4, name: b".", next_offset: 1 }) {
            return Ok(());
        }
        if offset <= 1 {
            let parent_ino = d.parent.upgrade().map(|p| p.ino).unwrap_or(self.ino);
            if !sink(DirEntry { ino: parent_ino, dtype: 4, name: b"..", next_offset: FIRST_COOKIE }) {
                return Ok(());
            }
        }
        for (&cookie, e) in d.entries.range(offset.max(FIRST_COOKIE)..) {
            // The child's own lock is separate from ours; mode never
            // changes type, so this cannot deadlock with a rename.
            let mode = e.inode.lock().mode;
            if !sink(DirEntry { ino: e.inode.ino, dtype: dtype_of_mode(mode), name: &e.name, next_offset: cookie + 1 }) {
                break;
            }
        }
        touch_atime(&mut st);
        Ok(())
    }

    fn page_cache(&self) -> Option<Arc<PageCache>> {
        match &self.lock().kind {
            Kind::File(f) => Some(f.cache.clone()),
            _ => None,
        }
    }

    fn seals(&self) -> Option<u32> {
        let st = self.lock();
        matches!(st.kind, Kind::File(_)).then_some(st.seals)
    }

    /// memfd_add_seals. Linux holds the inode lock throughout; here the
    /// look for writable mappings runs with no lock of ours held (it takes
    /// address-space locks, and a fault takes ours under those), so the
    /// seals are checked again when they are set.
    fn add_seals(&self, seals: u32) -> KResult<()> {
        let (cache, seals, deny) = {
            let st = self.lock();
            let Kind::File(f) = &st.kind else { return Err(Errno::EINVAL) };
            if st.seals & F_SEAL_SEAL != 0 {
                return Err(Errno::EPERM);
            }
            // F_SEAL_EXEC on a file that may be executed makes it
            // unchangeable too, W^X from then on; the write seal it
            // brings is held to the rule on mappings (current Linux's
            // memfd_add_seals adds it before looking).
            let seals = if seals & F_SEAL_EXEC != 0 && st.mode & 0o111 != 0 { seals | F_SEAL_SHRINK | F_SEAL_GROW | WRITE_SEALS } else { seals };
            (f.cache.clone(), seals, seals & F_SEAL_WRITE != 0 && st.seals & F_SEAL_WRITE == 0)
        };
        if deny {
            // New writable shared mappings fail from here on, and the
            // look sees every one made before.
            self.denying_writable_maps.fetch_add(1, Ordering::SeqCst);
            if cache.writably_mapped() {
                self.denying_writable_maps.fetch_sub(1, Ordering::SeqCst);
                return Err(Errno::EBUSY);
            }
        }
        let result = {
            let mut st = self.lock();
            if st.seals & F_SEAL_SEAL != 0 {
                // A racing F_ADD_SEALS sealed the seals meanwhile.
                Err(Errno::EPERM)
            } else {
                st.seals |= seals;
                Ok(())
            }
        };
        if deny {
            self.denying_writable_maps.fetch_sub(1, Ordering::SeqCst);
        }
        result
    }

    /// memfd_check_seals_mmap and mapping_map_writable.
    fn shared_mapping_may_write(&self, prot_write: bool) -> KResult<bool> {
        let st = self.lock();
        if st.seals & WRITE_SEALS != 0 {
            return if prot_write { Err(Errno::EPERM) } else { Ok(false) };
        }
        if self.denying_writable_maps.load(Ordering::SeqCst) != 0 {
            return Err(Errno::EPERM);
        }
        Ok(true)
    }

    fn readlink(&self) -> KResult<Vec<u8>> {
        let mut st = self.lock();
        match &st.kind {
            Kind::Symlink(t) => {
                let t = t.clone();
                touch_atime(&mut st);
                Ok(t)
            }
            _ => Err(Errno::EINVAL),
        }
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> KResult<usize> {
        let mut st = self.lock();
        let Kind::File(f) = &st.kind else {
            return Err(if matches!(st.kind, Kind::Dir(_)) { Errno::EISDIR } else { Errno::EINVAL });
        };
        if offset >= f.size || buf.is_empty() {
            return Ok(0);
        }
        let n = (f.size - offset).min(buf.len() as u64) as usize;
        let mut done = 0;
        while done < n {
            let pos = offset + done as u64;
            let (index, off) = (pos / PAGE_SIZE, (pos % PAGE_SIZE) as usize);
            let len = (PAGE - off).min(n - done);
            match f.cache.lookup(index) {
                Some(frame) => buf[done..done + len].copy_from_slice(&f.cache.phys().frame_bytes(frame)[off..off + len]),
                None => buf[done..done + len].fill(0),
            }
            done += len;
        }
        touch_atime(&mut st);
        Ok(n)
    }

    fn write_at(&self, offset: u64, buf: &[u8]) -> KResult<usize> {
        let mut st = self.lock();
        self.write_locked(&mut st, offset, buf)
    }

    /// Linux's shmem_file_llseek: a page the file holds is data, a missing
    /// one a hole.
    fn seek_data_hole(&self, offset: u64, size: u64, data: bool) -> KResult<u64> {
        let st = self.lock();
        let Kind::File(f) = &st.kind else { return Ok(if data { offset } else { size }) };
        let page = f.cache.next_page(offset / PAGE_SIZE, data).map(|p| (p * PAGE_SIZE).max(offset));
        match page {
            Some(at) if !data => Ok(at.min(size)),
            Some(at) if at < size => Ok(at),
            _ => Err(Errno::ENXIO),
        }
    }

    fn append(&self, buf: &[u8]) -> KResult<(usize, u64)> {
        let mut st = self.lock();
        let size = match &st.kind {
            Kind::File(f) => f.size,
            _ => 0,
        };
        let n = self.write_locked(&mut st, size, buf)?;
        Ok((n, size + n as u64))
    }

    /// Preallocation only sets the size (pages come with writes); a
    /// punched hole (KEEP_SIZE, the VFS checked) gives its whole pages
    /// back and zeroes the partial ones, as shmem_fallocate does, and the
    /// range's pages leave every mapping (a later touch reads zeros).
    fn fallocate(&self, mode: u32, offset: u64, len: u64) -> KResult<()> {
        let end = offset.checked_add(len).ok_or(Errno::EFBIG)?;
        if mode & FALLOC_FL_PUNCH_HOLE == 0 {
            if mode & !FALLOC_FL_KEEP_SIZE != 0 {
                return Err(Errno::EOPNOTSUPP);
            }
            let (size, seals) = {
                let st = self.lock();
                (if let Kind::File(f) = &st.kind { f.size } else { 0 }, st.seals)
            };
            // F_SEAL_GROW: no allocation past the end, even one that
            // keeps the size (shmem_fallocate).
            if seals & F_SEAL_GROW != 0 && end > size {
                return Err(Errno::EPERM);
            }
            if mode & FALLOC_FL_KEEP_SIZE == 0 && end > size {
                self.setattr(&SetAttr { size: Some(end), ..Default::default() })?;
            }
            return Ok(());
        }
        let mut st = self.lock();
        // A punched hole writes zeros: not under a write seal.
        if st.seals & WRITE_SEALS != 0 {
            return Err(Errno::EPERM);
        }
        let Kind::File(f) = &mut st.kind else { return Err(Errno::ENODEV) };
        let (first_whole, end_whole) = (offset.div_ceil(PAGE_SIZE), end / PAGE_SIZE);
        if first_whole > end_whole {
            // Inside one page.
            f.cache.zero_range_in_page(offset, end);
        } else {
            f.cache.zero_range_in_page(offset, first_whole * PAGE_SIZE);
            f.cache.zero_range_in_page(end_whole * PAGE_SIZE, end);
        }
        let cache = f.cache.clone();
        let punched = (first_whole < end_whole).then(|| {
            let punched = cache.punch_range(first_whole, end_whole);
            let excess = f.charged.saturating_sub(cache.page_count());
            f.charged -= excess;
            self.fs.uncharge_pages(excess);
            punched
        });
        let t = now();
        st.mtime = t;
        st.ctime = t;
        drop(st);
        if let Some(punched) = punched {
            cache.unmap_punched(first_whole, end_whole, punched);
        }
        Ok(())
    }

    fn setattr(&self, attr: &SetAttr) -> KResult<()> {
        let mut st = self.lock();
        // shmem_setattr: F_SEAL_EXEC keeps every exec bit as it is;
        // F_SEAL_SHRINK and F_SEAL_GROW forbid their way of resizing.
        if let Some(mode) = attr.mode
            && st.seals & F_SEAL_EXEC != 0
            && (st.mode ^ mode) & 0o111 != 0
        {
            return Err(Errno::EPERM);
        }
        if let (Some(size), Kind::File(f)) = (attr.size, &st.kind)
            && ((size < f.size && st.seals & F_SEAL_SHRINK != 0) || (size > f.size && st.seals & F_SEAL_GROW != 0))
        {
            return Err(Errno::EPERM);
        }
        let mut shrunk = None;
        if let Some(size) = attr.size {
            if let Kind::File(f) = &st.kind {
                if size < f.size {
                    shrunk = Some((f.cache.clone(), size.div_ceil(PAGE_SIZE)));
                }
            }
            self.truncate(&mut st, size)?;
            st.mtime = now();
        }
        if let Some(mode) = attr.mode {
            st.mode = (st.mode & S_IFMT) | (mode & 0o7777);
        }
        if let Some(uid) = attr.uid {
            st.uid = uid;
        }
        if let Some(gid) = attr.gid {
            st.gid = gid;
        }
        if let Some(t) = attr.atime {
            st.atime = t;
        }
        if let Some(t) = attr.mtime {
            st.mtime = t;
        }
        st.ctime = now();
        drop(st);
        // Mapped pages past the new end go away (touching them is SIGBUS).
        if let Some((cache, first)) = shrunk {
            cache.unmap_from_mappers(first);
        }
        Ok(())
    }

    fn getxattr(&self, name: &[u8]) -> KResult<Vec<u8>> {
        let mut st = self.lock();
        if let Some(slot) = acl_slot(&mut st.acls, name) {
            return slot.as_ref().map(|a| a.to_xattr()).ok_or(Errno::ENODATA);
        }
        if !stored_namespace(name) {
            return Err(Errno::EOPNOTSUPP);
        }
        st.xattrs.get(name).cloned().ok_or(Errno::ENODATA)
    }

    fn setxattr(&self, name: &[u8], value: &[u8], flags: u32) -> KResult<()> {
        if name == ACL_ACCESS || name == ACL_DEFAULT {
            // The VFS validated it; the overlay's copy-up hands over what
            // another filesystem stored, checked again here.
            let acl = PosixAcl::from_xattr(value)?.map(Arc::new);
            let mut st = self.lock();
            if name == ACL_DEFAULT && !matches!(st.kind, Kind::Dir(_)) {
                return Err(Errno::EACCES);
            }
            let Some(slot) = acl_slot(&mut st.acls, name) else { return Err(Errno::EOPNOTSUPP) };
            if (flags & XATTR_CREATE != 0 && slot.is_some()) || (flags & XATTR_REPLACE != 0 && slot.is_none()) {
                return Err(if slot.is_some() { Errno::EEXIST } else { Errno::ENODATA });
            }
            *slot = acl;
            st.ctime = now();
            return Ok(());
        }
        if !stored_namespace(name) {
            return Err(Errno::EOPNOTSUPP);
        }
        let mut st = self.lock();
        let present = st.xattrs.contains_key(name);
        if flags & XATTR_CREATE != 0 && present {
            return Err(Errno::EEXIST);
        }
        if flags & XATTR_REPLACE != 0 && !present {
            return Err(Errno::ENODATA);
        }
        let used: usize = st.xattrs.iter().filter(|(n, _)| n.as_slice() != name).map(|(n, v)| n.len() + v.len()).sum();
        if used + name.len() + value.len() > XATTR_SPACE {
            return Err(Errno::ENOSPC);
        }
        st.xattrs.insert(name.to_vec(), value.to_vec());
        st.ctime = now();
        Ok(())
    }

    /// The ACL names first, then the others in order (simple_xattr_list).
    fn listxattr(&self) -> KResult<Vec<Vec<u8>>> {
        let st = self.lock();
        let mut names = Vec::new();
        if st.acls.access.is_some() {
            names.push(ACL_ACCESS.to_vec());
        }
        if st.acls.default.is_some() {
            names.push(ACL_DEFAULT.to_vec());
        }
        names.extend(st.xattrs.keys().cloned());
        Ok(names)
    }

    fn removexattr(&self, name: &[u8]) -> KResult<()> {
        let mut st = self.lock();
        if let Some(slot) = acl_slot(&mut st.acls, name) {
            slot.take().ok_or(Errno::ENODATA)?;
            st.ctime = now();
            return Ok(());
        }
        if !stored_namespace(name) {
            return Err(Errno::EOPNOTSUPP);
        }
        st.xattrs.remove(name).ok_or(Errno::ENODATA)?;
        st.ctime = now();
        Ok(())
    }

    fn access_acl(&self) -> KResult<Option<Arc<PosixAcl>>> {
        Ok(self.lock().acls.access.clone())
    }

    fn default_acl(&self) -> KResult<Option<Arc<PosixAcl>>> {
        Ok(self.lock().acls.default.clone())
    }
}

/// The slot of an ACL name, None for other names.
fn acl_slot<'a>(acls: &'a mut InitialAcls, name: &[u8]) -> Option<&'a mut Option<Arc<PosixAcl>>> {
    if name == ACL_ACCESS {
        Some(&mut acls.access)
    } else if name == ACL_DEFAULT {
        Some(&mut acls.default)
    } else {
        None
    }
}

impl TmpInode {
    fn write_locked(&self, st: &mut State, offset: u64, buf: &[u8]) -> KResult<usize> {
        let seals = st.seals;
        let Kind::File(f) = &mut st.kind else {
            return Err(if matches!(st.kind, Kind::Dir(_)) { Errno::EISDIR } else { Errno::EINVAL });
        };
        if buf.is_empty() {
            return Ok(0);
        }
        let end = offset.checked_add(buf.len() as u64).filter(|&e| e <= i64::MAX as u64).ok_or(Errno::EFBIG)?;
        if seals & WRITE_SEALS != 0 {
            return Err(Errno::EPERM);
        }
        let mut buf = buf;
        if seals & F_SEAL_GROW != 0 && end > f.size {
            // shmem_write_begin refuses, a page at a time, the piece of a
            // write that would end past the end of the file: the pieces
            // before the page that holds the end are written, the rest is
            // not (EPERM when nothing was).
            let last_whole_page = f.size / PAGE_SIZE * PAGE_SIZE;
            if last_whole_page <= offset {
                return Err(Errno::EPERM);
            }
            buf = &buf[..(last_whole_page - offset) as usize];
        }
        let mut done = 0;
        while done < buf.len() {
            let pos = offset + done as u64;
            let (index, off) = (pos / PAGE_SIZE, (pos % PAGE_SIZE) as usize);
            let len = (PAGE - off).min(buf.len() - done);
            if f.cache.lookup(index).is_none() {
                if let Err(e) = self.fs.charge_page() {
                    if done == 0 {
                        return Err(e);
                    }
                    break;
                }
                if f.cache.get_or_alloc(index).is_err() {
                    // Guest RAM is full.
                    self.fs.uncharge_pages(1);
                    if done == 0 {
                        return Err(Errno::ENOSPC);
                    }
                    break;
                }
                f.charged += 1;
            }
            if let Some(frame) = f.cache.lookup(index) {
                f.cache.phys().frame_bytes(frame)[off..off + len].copy_from_slice(&buf[done..done + len]);
            }
            done += len;
        }
        let size = f.size.max(offset + done as u64);
        f.set_size(size);
        debug_assert!(offset + done as u64 <= end);
        let t = now();
        st.mtime = t;
        st.ctime = t;
        Ok(done)
    }

    /// Re-inserts an entry without touching link counts or failing (used
    /// by rename, under the namespace lock, for names it just removed).
    fn insert_raw(&self, name: &[u8], inode: Arc<TmpInode>) {
        let mut st = self.lock();
        if let Kind::Dir(d) = &mut st.kind {
            let cookie = d.next_cookie;
            d.next_cookie += 1;
            d.names.insert(name.to_vec(), cookie);
            d.entries.insert(cookie, Entry { name: name.to_vec(), inode });
        }
        let t = now();
        st.mtime = t;
        st.ctime = t;
    }
}

/// memfd_create: the seals a new memfd starts with (fewer than the
/// F_SEAL_SEAL every tmpfs file has). EINVAL if `inode` is not a tmpfs
/// regular file.
pub fn set_initial_seals(inode: &InodeRef, seals: u32) -> KResult<()> {
    let t = inode.as_any().downcast_ref::<TmpInode>().ok_or(Errno::EINVAL)?;
    let mut st = t.lock();
    if !matches!(st.kind, Kind::File(_)) {
        return Err(Errno::EINVAL);
    }
    st.seals = seals;
    Ok(())
}

/// A fresh tmpfs root as an `InodeRef`.
pub fn new_tmpfs(max_bytes: u64, mode: u32, uid: u32, gid: u32) -> InodeRef {
    TmpFs::new_root(max_bytes, mode, uid, gid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fs() -> InodeRef {
        new_tmpfs(1 << 20, 0o1777, 0, 0)
    }

    fn file(dir: &InodeRef, name: &str, data: &[u8]) -> InodeRef {
        let f = dir.create(name.as_bytes(), S_IFREG | 0o644, 0, 0, 0).unwrap();
        f.write_at(0, data).unwrap();
        f
    }

    fn mkdir(dir: &InodeRef, name: &str) -> InodeRef {
        dir.create(name.as_bytes(), S_IFDIR | 0o755, 0, 0, 0).unwrap()
    }

    fn names(dir: &InodeRef, from: u64) -> Vec<(String, u64)> {
        let mut out = Vec::new();
        dir.readdir(from, &mut |e| {
            out.push((String::from_utf8_lossy(e.name).into_owned(), e.next_offset));
            true
        })
        .unwrap();
        out
    }

    fn read_all(f: &InodeRef) -> Vec<u8> {
        let mut buf = vec![0u8; f.metadata().unwrap().size as usize];
        let n = f.read_at(0, &mut buf).unwrap();
        buf.truncate(n);
        buf
    }

    #[test]
    fn unlinked_file_keeps_its_data_while_open() {
        let root = fs();
        let f = file(&root, "f", b"hello");
        root.unlink(b"f").unwrap();
        assert_eq!(root.lookup(b"f").err(), Some(Errno::ENOENT));
        assert_eq!(f.metadata().unwrap().nlink, 0);
        assert_eq!(read_all(&f), b"hello");
        f.write_at(5, b" world").unwrap();
        assert_eq!(read_all(&f), b"hello world");
    }

    #[test]
    fn readdir_offsets_survive_unlinks() {
        let root = fs();
        for n in ["a", "b", "c", "d"] {
            file(&root, n, b"");
        }
        let all = names(&root, 0);
        assert_eq!(all.iter().map(|e| e.0.as_str()).collect::<Vec<_>>(), [".", "..", "a", "b", "c", "d"]);
        // Stop after "b", remove "a" and "c", resume: "d" is next, nothing repeats.
        let after_b = all[3].1;
        root.unlink(b"a").unwrap();
        root.unlink(b"c").unwrap();
        file(&root, "e", b"");
        let rest = names(&root, after_b);
        assert_eq!(rest.iter().map(|e| e.0.as_str()).collect::<Vec<_>>(), ["d", "e"]);
    }

    #[test]
    fn hard_links_count_and_share_data() {
        let root = fs();
        let f = file(&root, "f", b"x");
        root.link(b"g", &f).unwrap();
        assert_eq!(f.metadata().unwrap().nlink, 2);
        assert_eq!(root.link(b"g", &f).err(), Some(Errno::EEXIST));
        let d = mkdir(&root, "d");
        assert_eq!(root.link(b"d2", &d).err(), Some(Errno::EPERM));
        root.unlink(b"f").unwrap();
        assert_eq!(read_all(&root.lookup(b"g").unwrap()), b"x");
        let other = fs();
        assert_eq!(other.link(b"x", &root.lookup(b"g").unwrap()).err(), Some(Errno::EXDEV));
    }

    #[test]
    fn directory_link_counts_follow_subdirectories() {
        let root = fs();
        let a = mkdir(&root, "a");
        assert_eq!(root.metadata().unwrap().nlink, 3);
        mkdir(&a, "b");
        assert_eq!(a.metadata().unwrap().nlink, 3);
        assert_eq!(a.metadata().unwrap().size, 3 * BOGO_DIRENT_SIZE);
        assert_eq!(root.rmdir(b"a").err(), Some(Errno::ENOTEMPTY));
        a.rmdir(b"b").unwrap();
        root.rmdir(b"a").unwrap();
        assert_eq!(root.metadata().unwrap().nlink, 2);
        assert_eq!(a.metadata().unwrap().nlink, 0);
        assert_eq!(a.create(b"x", S_IFREG | 0o644, 0, 0, 0).err(), Some(Errno::ENOENT));
    }

    #[test]
    fn rename_replaces_files_and_empty_directories() {
        let root = fs();
        file(&root, "a", b"one");
        file(&root, "b", b"two");
        root.rename(b"a", &root, b"b", 0).unwrap();
        assert_eq!(read_all(&root.lookup(b"b").unwrap()), b"one");
        assert!(root.lookup(b"a").is_err());
        let full = mkdir(&root, "full");
        file(&full, "x", b"");
        mkdir(&root, "empty");
        assert_eq!(root.rename(b"empty", &root, b"full", 0).err(), Some(Errno::ENOTEMPTY));
        assert_eq!(root.rename(b"full", &root, b"empty", 0), Ok(()));
        assert_eq!(root.metadata().unwrap().nlink, 3);
        assert_eq!(root.rename(b"empty", &root, b"b", 0).err(), Some(Errno::ENOTDIR));
        assert_eq!(root.rename(b"b", &root, b"empty", 0).err(), Some(Errno::EISDIR));
        assert_eq!(root.rename(b"b", &root, b"b", 0), Ok(()));
        assert_eq!(root.rename(b"missing", &root, b"x", 0).err(), Some(Errno::ENOENT));
    }

    #[test]
    fn rename_moves_directories_and_fixes_parents() {
        let root = fs();
        let a = mkdir(&root, "a");
        let b = mkdir(&a, "b");
        assert_eq!(root.rename(b"a", &b, b"c", 0).err(), Some(Errno::EINVAL));
        assert_eq!(a.rename(b"b", &root, b"b", 0), Ok(()));
        assert_eq!(a.metadata().unwrap().nlink, 2);
        assert_eq!(root.metadata().unwrap().nlink, 4);
        let dotdot = names(&b, 0).into_iter().find(|e| e.0 == "..").map(|_| ());
        assert!(dotdot.is_some());
        let mut parent_ino = 0;
        b.readdir(1, &mut |e| {
            parent_ino = e.ino;
            false
        })
        .unwrap();
        assert_eq!(parent_ino, root.metadata().unwrap().ino);
    }

    #[test]
    fn rename_flags() {
        let root = fs();
        file(&root, "a", b"1");
        file(&root, "b", b"22");
        let d = mkdir(&root, "d");
        assert_eq!(root.rename(b"a", &root, b"b", RENAME_NOREPLACE).err(), Some(Errno::EEXIST));
        assert_eq!(root.rename(b"a", &root, b"c", RENAME_NOREPLACE | RENAME_EXCHANGE).err(), Some(Errno::EINVAL));
        assert_eq!(root.rename(b"a", &root, b"zz", RENAME_EXCHANGE).err(), Some(Errno::ENOENT));
        root.rename(b"a", &root, b"b", RENAME_EXCHANGE).unwrap();
        assert_eq!(read_all(&root.lookup(b"a").unwrap()), b"22");
        assert_eq!(read_all(&root.lookup(b"b").unwrap()), b"1");
        // Exchanging a file and a directory across directories moves a link.
        file(&d, "f", b"");
        let sub = mkdir(&root, "sub");
        d.rename(b"f", &root, b"sub", RENAME_EXCHANGE).unwrap();
        assert_eq!(d.metadata().unwrap().nlink, 3);
        assert_eq!(root.metadata().unwrap().nlink, 3);
        assert!(root.lookup(b"sub").unwrap().metadata().unwrap().file_type() == S_IFREG);
        assert_eq!(sub.metadata().unwrap().nlink, 2);
    }

    #[test]
    fn sparse_truncate_reads_zeros_and_counts_blocks() {
        let root = fs();
        let f = file(&root, "f", b"abcdef");
        f.setattr(&SetAttr { size: Some(3), ..Default::default() }).unwrap();
        f.setattr(&SetAttr { size: Some(100_000), ..Default::default() }).unwrap();
        let md = f.metadata().unwrap();
        assert_eq!(md.size, 100_000);
        assert_eq!(md.blocks, 8);
        let mut buf = [9u8; 6];
        f.read_at(0, &mut buf).unwrap();
        assert_eq!(&buf, b"abc\0\0\0");
        f.write_at(50_000, b"z").unwrap();
        assert_eq!(f.metadata().unwrap().blocks, 16);
        assert_eq!(root.setattr(&SetAttr { size: Some(0), ..Default::default() }).err(), Some(Errno::EISDIR));
    }

    #[test]
    fn full_filesystem_is_enospc() {
        let root = new_tmpfs(2 * PAGE_SIZE, 0o755, 0, 0);
        let f = root.create(b"f", S_IFREG | 0o644, 0, 0, 0).unwrap();
        assert_eq!(f.write_at(0, &[1u8; 3 * PAGE]).unwrap(), 2 * PAGE);
        assert_eq!(f.write_at(2 * PAGE_SIZE, b"x").err(), Some(Errno::ENOSPC));
        root.unlink(b"f").unwrap();
        drop(f);
        assert_eq!(root.statfs().unwrap().f_bfree, 2);
    }

    #[test]
    fn concurrent_appends_never_overwrite_each_other() {
        let root = fs();
        let f = file(&root, "log", b"");
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let f = f.clone();
                std::thread::spawn(move || {
                    for _ in 0..500 {
                        f.append(b"0123456789").unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(f.metadata().unwrap().size, 4 * 500 * 10);
        assert!(read_all(&f).chunks(10).all(|c| c == b"0123456789"));
    }

    #[test]
    fn acls_are_kept_parsed_listed_first_and_given_at_create() {
        use crate::fs::posix_acl::{InitialAcls, PosixAcl};
        use crate::fs::xattr::{ACL_ACCESS, ACL_DEFAULT};
        let root = fs();
        let f = root.create(b"f", S_IFREG | 0o644, 0, 0, 0).unwrap();
        // Unnamed entries' ids are ignored in and read back as -1.
        let mut acl = 2u32.to_le_bytes().to_vec();
        for (tag, perm, id) in [(1u16, 6u16, 0u32), (2, 5, 65534), (4, 4, 0), (0x10, 7, 0), (0x20, 0, 0)] {
            acl.extend_from_slice(&tag.to_le_bytes());
            acl.extend_from_slice(&perm.to_le_bytes());
            acl.extend_from_slice(&id.to_le_bytes());
        }
        let canonical = PosixAcl::from_xattr(&acl).unwrap().unwrap().to_xattr();
        assert_ne!(canonical, acl);
        assert_eq!(f.getxattr(ACL_ACCESS).err(), Some(Errno::ENODATA));
        f.setxattr(b"user.a", b"1", 0).unwrap();
        f.setxattr(ACL_ACCESS, &acl, 0).unwrap();
        assert_eq!(f.getxattr(ACL_ACCESS).unwrap(), canonical);
        assert_eq!(f.listxattr().unwrap(), [ACL_ACCESS.to_vec(), b"user.a".to_vec()]);
        assert!(f.access_acl().unwrap().is_some());
        assert_eq!(f.setxattr(ACL_DEFAULT, &acl, 0).err(), Some(Errno::EACCES));
        assert_eq!(f.setxattr(ACL_ACCESS, &acl[..6], 0).err(), Some(Errno::EINVAL));
        f.removexattr(ACL_ACCESS).unwrap();
        assert_eq!(f.removexattr(ACL_ACCESS).err(), Some(Errno::ENODATA));
        assert!(f.access_acl().unwrap().is_none());
        // The ACLs a create hands over: a directory keeps the default one.
        let parsed = std::sync::Arc::new(PosixAcl::from_xattr(&acl).unwrap().unwrap());
        let acls = InitialAcls { access: Some(parsed.clone()), default: Some(parsed) };
        let d = root.create_with_acls(b"d", S_IFDIR | 0o755, 0, 0, 0, &acls).unwrap();
        assert_eq!(d.getxattr(ACL_DEFAULT).unwrap(), canonical);
        assert_eq!(d.getxattr(ACL_ACCESS).unwrap(), canonical);
        let g = root.create_with_acls(b"g", S_IFREG | 0o644, 0, 0, 0, &acls).unwrap();
        assert!(g.default_acl().unwrap().is_none());
        assert!(g.access_acl().unwrap().is_some());
    }

    #[test]
    fn xattrs_are_stored_replaced_and_removed() {
        let root = fs();
        let f = file(&root, "f", b"");
        assert_eq!(f.getxattr(b"user.a").err(), Some(Errno::ENODATA));
        f.setxattr(b"user.b", b"2", 0).unwrap();
        f.setxattr(b"user.a", b"1", XATTR_CREATE).unwrap();
        assert_eq!(f.setxattr(b"user.a", b"x", XATTR_CREATE).err(), Some(Errno::EEXIST));
        assert_eq!(f.setxattr(b"user.c", b"x", XATTR_REPLACE).err(), Some(Errno::ENODATA));
        f.setxattr(b"user.a", b"one", XATTR_REPLACE).unwrap();
        assert_eq!(f.getxattr(b"user.a").unwrap(), b"one");
        assert_eq!(f.listxattr().unwrap(), [b"user.a".to_vec(), b"user.b".to_vec()]);
        f.removexattr(b"user.b").unwrap();
        assert_eq!(f.removexattr(b"user.b").err(), Some(Errno::ENODATA));
        assert_eq!(f.setxattr(b"system.posix_acl_access", b"", 0).err(), Some(Errno::EINVAL));
        assert_eq!(f.setxattr(b"system.other", b"", 0).err(), Some(Errno::EOPNOTSUPP));
        assert_eq!(f.setxattr(b"bogus.x", b"", 0).err(), Some(Errno::EOPNOTSUPP));
        assert_eq!(f.setxattr(b"user.big", &vec![0u8; XATTR_SPACE], 0).err(), Some(Errno::ENOSPC));
    }

    #[test]
    fn seals_hold_on_writes_resizes_and_chmod() {
        let root = fs();
        let f = file(&root, "f", &[b'a'; PAGE + 10]);
        assert_eq!(f.seals(), Some(F_SEAL_SEAL));
        assert_eq!(f.add_seals(F_SEAL_GROW).err(), Some(Errno::EPERM));
        assert_eq!(root.seals(), None);
        set_initial_seals(&f, 0).unwrap();
        f.add_seals(F_SEAL_GROW | F_SEAL_SHRINK).unwrap();
        // A write across the end stops at the page that holds the end.
        assert_eq!(f.write_at(0, &[0u8; 3 * PAGE]), Ok(PAGE));
        assert_eq!(f.write_at(PAGE_SIZE + 4, b"xyzxyz"), Ok(6));
        assert_eq!(f.write_at(PAGE_SIZE + 8, b"xyz").err(), Some(Errno::EPERM));
        assert_eq!(f.append(b"x").err(), Some(Errno::EPERM));
        assert_eq!(f.write_at(99_999, b"").unwrap(), 0);
        let resize = |size| f.setattr(&SetAttr { size: Some(size), ..Default::default() });
        assert_eq!(resize(1).err(), Some(Errno::EPERM));
        assert_eq!(resize(PAGE_SIZE * 2).err(), Some(Errno::EPERM));
        assert_eq!(resize(PAGE_SIZE + 10), Ok(()));
        assert_eq!(f.fallocate(FALLOC_FL_KEEP_SIZE, 0, PAGE_SIZE * 2).err(), Some(Errno::EPERM));
        f.add_seals(F_SEAL_FUTURE_WRITE).unwrap();
        assert_eq!(f.write_at(0, b"x").err(), Some(Errno::EPERM));
        assert_eq!(f.fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 1).err(), Some(Errno::EPERM));
        assert_eq!(f.shared_mapping_may_write(true).err(), Some(Errno::EPERM));
        assert_eq!(f.shared_mapping_may_write(false), Ok(false));
        // F_SEAL_EXEC on an executable file brings the other seals.
        let g = file(&root, "g", b"");
        g.setattr(&SetAttr { mode: Some(0o755), ..Default::default() }).unwrap();
        set_initial_seals(&g, 0).unwrap();
        g.add_seals(F_SEAL_EXEC).unwrap();
        assert_eq!(g.seals(), Some(F_SEAL_EXEC | F_SEAL_SHRINK | F_SEAL_GROW | WRITE_SEALS));
        assert_eq!(g.setattr(&SetAttr { mode: Some(0o644), ..Default::default() }).err(), Some(Errno::EPERM));
        assert_eq!(g.setattr(&SetAttr { mode: Some(0o711), ..Default::default() }), Ok(()));
        g.add_seals(F_SEAL_SEAL).unwrap();
        assert_eq!(g.add_seals(0).err(), Some(Errno::EPERM));
    }

    #[test]
    fn symlinks_store_their_target() {
        let root = fs();
        let l = root.symlink(b"l", b"/some/where", 7, 8).unwrap();
        let md = l.metadata().unwrap();
        assert_eq!((md.mode, md.size, md.uid, md.gid), (S_IFLNK | 0o777, 11, 7, 8));
        assert_eq!(l.readlink().unwrap(), b"/some/where");
        assert_eq!(root.symlink(b"l", b"x", 0, 0).err(), Some(Errno::EEXIST));
        assert_eq!(root.readlink().err(), Some(Errno::EINVAL));
    }
}
