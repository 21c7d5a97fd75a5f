//! overlay: a writable copy-on-write view of a read-only lower tree (the
//! host's `/` through hostfs) over an upper tmpfs in guest RAM, after
//! Linux's overlayfs (Documentation/filesystems/overlayfs.rst): copy-up on
//! change, whiteouts, opaque directories, redirects for renamed
//! directories (redirect_dir=on), merged readdir, and xino-style inode
//! numbers that survive copy-up. Nothing here ever writes to the lower
//! layer, and the guest never sees the upper layer's markers (char-device
//! 0:0 whiteouts, `trusted.overlay.*` xattrs) or its work directory.
//! Called by the VFS like any filesystem; mounted at / by kernel/boot.rs.
//!
//! Nodes are kept per directory while anyone holds them (an overlay-own
//! dentry cache), so every open file of a name shares one node and sees a
//! copy-up done through any of them. Locks, in order: a node's copy-up
//! lock, the filesystem's namespace lock (shared for lookups, exclusive
//! for changes), then node state and child tables (leaves). The namespace
//! lock is never held while a copy-up lock is awaited.

mod copy_up;
mod dir;

use parking_lot::{Mutex, RwLock};
use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use crate::abi::fcntl::{O_ACCMODE, O_RDONLY, RENAME_EXCHANGE, RENAME_NOREPLACE};
use crate::abi::stat::{S_IFCHR, S_IFDIR, S_IFMT, S_IFREG};
use crate::abi::statfs::OVERLAYFS_SUPER_MAGIC;
use crate::abi::{Errno, KResult, StatFs};
use crate::fs::file::FileOps;
use crate::fs::inode::{DirEntry, Inode, InodeRef, Metadata, SetAttr};
use crate::fs::posix_acl::{InitialAcls, PosixAcl};
use crate::fs::{check_name, new_anon_dev};

/// The upper layer's private attributes (Linux's trusted.overlay.*).
const PRIVATE_PREFIX: &[u8] = b"trusted.overlay.";
/// On an upper directory: nothing of the lower layers shows through it.
const OPAQUE: &[u8] = b"trusted.overlay.opaque";
/// On a renamed upper directory: the lower directory it merges with.
const REDIRECT: &[u8] = b"trusted.overlay.redirect";
/// On a copied-up object: the lower object's (dev, ino, nlink), which
/// keeps its inode number.
const ORIGIN: &[u8] = b"trusted.overlay.origin";

/// Inode numbers: the low `INO_BITS` are the real object's, the bits
/// above say which layer and device it came from (Linux's xino). The
/// lower root's device is 0, so most numbers are the host's own.
const INO_BITS: u32 = 58;
const FSID_UPPER: u64 = 1;
const FSID_OVERFLOW: u64 = (1 << (64 - INO_BITS)) - 1;

fn is_private(name: &[u8]) -> bool {
    name.starts_with(PRIVATE_PREFIX)
}

/// A whiteout: the upper layer's mark that a lower name is deleted.
fn is_whiteout(md: &Metadata) -> bool {
    md.mode & S_IFMT == S_IFCHR && md.rdev == 0
}

fn join(dir: &[u8], name: &[u8]) -> Vec<u8> {
    [dir, b"/", name].concat()
}

fn encode_origin(md: &Metadata) -> Vec<u8> {
    [md.dev.to_le_bytes(), md.ino.to_le_bytes(), md.nlink.to_le_bytes()].concat()
}

fn read_origin(upper: &InodeRef) -> Option<(u64, u64, u64)> {
    let v = upper.getxattr(ORIGIN).ok()?;
    let word = |i: usize| v.get(i * 8..i * 8 + 8).and_then(|b| b.try_into().ok()).map(u64::from_le_bytes);
    Some((word(0)?, word(1)?, word(2)?))
}

/// One mounted overlay.
pub struct OverlayFs {
    dev: u64,
    /// The upper tmpfs's root, holding `upper/` (the layer) and `work/`.
    upper_top: InodeRef,
    /// The layer's root: the root node's upper part from its first change,
    /// so until then / shows the lower root's own attributes.
    upper_root: InodeRef,
    work: InodeRef,
    lower_root: InodeRef,
    namespace: RwLock<()>,
    /// Lower devices by first sight; a device's index is its fsid (the
    /// lower root's is 0, the upper layer's is FSID_UPPER).
    lower_devs: Mutex<Vec<u64>>,
    overflow: Mutex<HashMap<(u64, u64), u64>>,
    next_temp: AtomicU64,
}

/// A node's parts as a lookup found them.
struct Parts {
    upper: Option<InodeRef>,
    lower: Option<InodeRef>,
    /// The lower object's path from the lower root ("/etc/passwd"); for a
    /// redirected directory the redirect.
    lower_path: Vec<u8>,
    origin: Option<(u64, u64, u64)>,
    is_dir: bool,
}

/// What a name in a directory is.
enum Found {
    /// Absent, or whited out.
    Missing,
    Entry(Parts),
}

struct NodeState {
    parent: Option<Arc<OvlInode>>,
    name: Vec<u8>,
    upper: Option<InodeRef>,
    lower: Option<InodeRef>,
    lower_path: Vec<u8>,
    origin: Option<(u64, u64, u64)>,
    removed: bool,
}

/// Live children of a directory node by name.
#[derive(Default)]
struct Children {
    map: HashMap<Vec<u8>, Weak<OvlInode>>,
    prune_at: usize,
}

pub struct OvlInode {
    fs: Arc<OverlayFs>,
    me: Weak<OvlInode>,
    is_dir: bool,
    state: Mutex<NodeState>,
    copy_lock: Mutex<()>,
    children: Mutex<Children>,
}

impl OverlayFs {
    fn map_ino(&self, fsid: u64, dev: u64, ino: u64) -> u64 {
        if fsid < FSID_OVERFLOW && ino < 1 << INO_BITS {
            return fsid << INO_BITS | ino;
        }
        let mut overflow = self.overflow.lock();
        let next = overflow.len() as u64 + 1;
        *overflow.entry((dev, ino)).or_insert(FSID_OVERFLOW << INO_BITS | next)
    }

    fn map_lower(&self, dev: u64, ino: u64) -> u64 {
        let fsid = {
            let mut devs = self.lower_devs.lock();
            match devs.iter().position(|&d| d == dev) {
                Some(0) => 0,
                Some(i) => i as u64 + FSID_UPPER,
                None => {
                    devs.push(dev);
                    devs.len() as u64
                }
            }
        };
        self.map_ino(fsid, dev, ino)
    }

    fn map_upper(&self, ino: u64) -> u64 {
        self.map_ino(FSID_UPPER, u64::MAX, ino)
    }

    /// The number of an object with an upper part: its origin's while the
    /// origin is a directory or had one link (Linux's ovl_getattr: a
    /// copied-up hard link is a new file), else the upper's own.
    fn ino_of(&self, origin: Option<(u64, u64, u64)>, upper_ino: u64, is_dir: bool) -> u64 {
        match origin {
            Some((dev, ino, nlink)) if is_dir || nlink <= 1 => self.map_lower(dev, ino),
            _ => self.map_upper(upper_ino),
        }
    }

    fn temp_name(&self) -> Vec<u8> {
        format!("#{}", self.next_temp.fetch_add(1, Ordering::Relaxed)).into_bytes()
    }

    /// The lower object at `path` from the lower root.
    fn lower_walk(&self, path: &[u8]) -> KResult<InodeRef> {
        let mut cur = self.lower_root.clone();
        for comp in path.split(|&c| c == b'/').filter(|c| !c.is_empty()) {
            cur = cur.lookup(comp)?;
        }
        Ok(cur)
    }

    /// Removes a prepared object from the work directory after a failure.
    fn discard(&self, temp: &[u8], is_dir: bool) {
        let _ = if is_dir { self.work.rmdir(temp) } else { self.work.unlink(temp) };
    }

    /// A whiteout in the work directory, ready to be renamed into place
    /// (allocated first, so a full upper layer fails before any change).
    fn prepare_whiteout(&self) -> KResult<Vec<u8>> {
        let temp = self.temp_name();
        self.work.create(&temp, S_IFCHR, 0, 0, 0)?;
        Ok(temp)
    }
}

/// A new overlay of `lower_root` under an upper tmpfs of `upper_bytes`.
pub fn new_overlay(lower_root: InodeRef, upper_bytes: u64) -> KResult<InodeRef> {
    let lmd = lower_root.metadata()?;
    let top = crate::fs::tmpfs::new_tmpfs(upper_bytes, 0o755, 0, 0);
    let upper = top.create(b"upper", S_IFDIR | (lmd.mode & 0o7777), 0, lmd.uid, lmd.gid)?;
    upper.setattr(&SetAttr { atime: Some(lmd.atime), mtime: Some(lmd.mtime), ..Default::default() })?;
    let work = top.create(b"work", S_IFDIR | 0o700, 0, 0, 0)?;
    let fs = Arc::new(OverlayFs {
        dev: new_anon_dev(),
        upper_top: top,
        upper_root: upper,
        work,
        lower_root: lower_root.clone(),
        namespace: RwLock::new(()),
        lower_devs: Mutex::new(vec![lmd.dev]),
        overflow: Mutex::new(HashMap::new()),
        next_temp: AtomicU64::new(1),
    });
    let parts = Parts { upper: None, lower: Some(lower_root), lower_path: Vec::new(), origin: Some((lmd.dev, lmd.ino, lmd.nlink)), is_dir: true };
    Ok(OvlInode::new(fs, None, b"/".to_vec(), parts))
}

impl OvlInode {
    fn new(fs: Arc<OverlayFs>, parent: Option<Arc<OvlInode>>, name: Vec<u8>, p: Parts) -> Arc<OvlInode> {
        Arc::new_cyclic(|me| OvlInode {
            fs,
            me: me.clone(),
            is_dir: p.is_dir,
            state: Mutex::new(NodeState { parent, name, upper: p.upper, lower: p.lower, lower_path: p.lower_path, origin: p.origin, removed: false }),
            copy_lock: Mutex::new(()),
            children: Mutex::new(Children::default()),
        })
    }

    fn arc(&self) -> Arc<OvlInode> {
        self.me.upgrade().unwrap_or_else(|| unreachable!("a live node has a strong reference"))
    }

    fn upper(&self) -> Option<InodeRef> {
        self.state.lock().upper.clone()
    }

    fn lower(&self) -> Option<InodeRef> {
        self.state.lock().lower.clone()
    }

    /// The layer holding the object now: the upper once copied up.
    fn real(&self) -> KResult<InodeRef> {
        let st = self.state.lock();
        st.upper.clone().or_else(|| st.lower.clone()).ok_or(Errno::EIO)
    }

    /// An overlay node of the same filesystem behind an `InodeRef`, or EXDEV.
    fn same_fs(&self, other: &InodeRef) -> KResult<Arc<OvlInode>> {
        let o = other.as_any().downcast_ref::<OvlInode>().ok_or(Errno::EXDEV)?;
        if !Arc::ptr_eq(&o.fs, &self.fs) {
            return Err(Errno::EXDEV);
        }
        Ok(o.arc())
    }

    fn ino(&self) -> KResult<u64> {
        let (upper, lower, origin) = {
            let st = self.state.lock();
            (st.upper.clone(), st.lower.clone(), st.origin)
        };
        self.parts_ino(upper.as_ref(), lower.as_ref(), origin, self.is_dir)
    }

    fn parts_ino(&self, upper: Option<&InodeRef>, lower: Option<&InodeRef>, origin: Option<(u64, u64, u64)>, is_dir: bool) -> KResult<u64> {
        if let Some(u) = upper {
            return Ok(self.fs.ino_of(origin, u.metadata()?.ino, is_dir));
        }
        let md = lower.ok_or(Errno::EIO)?.metadata()?;
        Ok(self.fs.map_lower(md.dev, md.ino))
    }

    /// What `name` in this directory is, from the layers (the caller holds
    /// the namespace lock, shared or exclusive).
    fn find(&self, name: &[u8]) -> KResult<Found> {
        if !self.is_dir {
            return Err(Errno::ENOTDIR);
        }
        let (upper, lower, lower_path) = {
            let st = self.state.lock();
            (st.upper.clone(), st.lower.clone(), st.lower_path.clone())
        };
        let child_path = join(&lower_path, name);
        let upper_entry = match upper.map(|u| u.lookup(name)) {
            Some(Ok(entry)) => Some(entry),
            Some(Err(Errno::ENOENT)) | None => None,
            Some(Err(e)) => return Err(e),
        };
        if let Some(entry) = upper_entry {
            let md = entry.metadata()?;
            if is_whiteout(&md) {
                return Ok(Found::Missing);
            }
            if !md.is_dir() {
                let origin = read_origin(&entry);
                return Ok(Found::Entry(Parts { upper: Some(entry), lower: None, lower_path: child_path, origin, is_dir: false }));
            }
            let (lower, lower_path) = if entry.getxattr(OPAQUE).is_ok() {
                (None, child_path)
            } else if let Ok(redirect) = entry.getxattr(REDIRECT) {
                (self.fs.lower_walk(&redirect).ok(), redirect)
            } else {
                (lower.and_then(|l| l.lookup(name).ok()), child_path)
            };
            let lower = lower.filter(|l| l.metadata().is_ok_and(|m| m.is_dir()));
            let origin = read_origin(&entry).or_else(|| lower.as_ref().and_then(|l| l.metadata().ok()).map(|m| (m.dev, m.ino, m.nlink)));
            return Ok(Found::Entry(Parts { upper: Some(entry), lower, lower_path, origin, is_dir: true }));
        }
        let Some(lower) = lower else { return Ok(Found::Missing) };
        match lower.lookup(name) {
            Ok(entry) => {
                let md = entry.metadata()?;
                Ok(Found::Entry(Parts {
                    upper: None,
                    lower: Some(entry),
                    lower_path: child_path,
                    origin: Some((md.dev, md.ino, md.nlink)),
                    is_dir: md.is_dir(),
                }))
            }
            Err(Errno::ENOENT) => Ok(Found::Missing),
            Err(e) => Err(e),
        }
    }

    fn cached_child(&self, name: &[u8]) -> Option<Arc<OvlInode>> {
        self.children.lock().map.get(name).and_then(Weak::upgrade)
    }

    /// Records `node` as the child `name`, unless another lookup got there
    /// first: then that one is the child.
    fn cache_child(&self, name: &[u8], node: Arc<OvlInode>) -> Arc<OvlInode> {
        let mut c = self.children.lock();
        if let Some(existing) = c.map.get(name).and_then(Weak::upgrade) {
            return existing;
        }
        if c.map.len() >= c.prune_at {
            c.map.retain(|_, w| w.strong_count() > 0);
            c.prune_at = (c.map.len() * 2).max(64);
        }
        c.map.insert(name.to_vec(), Arc::downgrade(&node));
        node
    }

    fn forget_child(&self, name: &[u8]) {
        self.children.lock().map.remove(name);
    }

    /// The child `name`, from the cache or the layers; the caller holds
    /// the namespace lock.
    fn child_locked(&self, name: &[u8]) -> KResult<Option<Arc<OvlInode>>> {
        if let Some(c) = self.cached_child(name) {
            return Ok(Some(c));
        }
        match self.find(name)? {
            Found::Missing => Ok(None),
            Found::Entry(parts) => {
                let node = OvlInode::new(self.fs.clone(), Some(self.arc()), name.to_vec(), parts);
                Ok(Some(self.cache_child(name, node)))
            }
        }
    }

    /// Whether the upper directory has a whiteout at `name`.
    fn whiteout_at(upper_dir: &InodeRef, name: &[u8]) -> KResult<bool> {
        match upper_dir.lookup(name) {
            Ok(e) => Ok(is_whiteout(&e.metadata()?)),
            Err(Errno::ENOENT) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Whether a lower layer below this directory has `name` (so removing
    /// or moving it away needs a whiteout).
    fn lower_has(&self, name: &[u8]) -> bool {
        self.lower().is_some_and(|l| l.lookup(name).is_ok())
    }

    /// Puts a new upper object prepared in the work directory at `name`
    /// (over a whiteout, if there is one); for a directory there, marks it
    /// opaque so the deleted lower directory stays hidden.
    fn place_new(&self, upper_dir: &InodeRef, temp: &[u8], name: &[u8], is_dir: bool) -> KResult<()> {
        let whiteout = OvlInode::whiteout_at(upper_dir, name)?;
        if !whiteout {
            return self.fs.work.rename(temp, upper_dir, name, RENAME_NOREPLACE);
        }
        if !is_dir {
            // A non-directory replaces the whiteout in one rename.
            return self.fs.work.rename(temp, upper_dir, name, 0);
        }
        self.fs.work.lookup(temp)?.setxattr(OPAQUE, b"y", 0)?;
        upper_dir.unlink(name)?;
        self.fs.work.rename(temp, upper_dir, name, RENAME_NOREPLACE)
    }

    /// Creates an object through `make` (called on the work directory with
    /// a temporary name) and puts it at `name`.
    fn create_with(&self, name: &[u8], is_dir: bool, make: impl FnOnce(&InodeRef, &[u8]) -> KResult<InodeRef>) -> KResult<InodeRef> {
        check_name(name)?;
        if !self.is_dir {
            return Err(Errno::ENOTDIR);
        }
        let pu = self.arc().copy_up(true)?;
        let temp = self.fs.temp_name();
        let created = make(&self.fs.work, &temp)?;
        let _ns = self.fs.namespace.write();
        let placed = (|| {
            if self.state.lock().removed {
                return Err(Errno::ENOENT);
            }
            if self.child_locked(name)?.is_some() {
                return Err(Errno::EEXIST);
            }
            self.place_new(&pu, &temp, name, is_dir)
        })();
        if let Err(e) = placed {
            self.fs.discard(&temp, is_dir);
            return Err(e);
        }
        let parts = Parts { upper: Some(created), lower: None, lower_path: join(&self.state.lock().lower_path, name), origin: None, is_dir };
        let node = OvlInode::new(self.fs.clone(), Some(self.arc()), name.to_vec(), parts);
        Ok(self.cache_child(name, node))
    }

    /// Is this directory node `ancestor` or below it?
    fn is_within(&self, ancestor: &Arc<OvlInode>) -> bool {
        let mut cur = self.arc();
        loop {
            if Arc::ptr_eq(&cur, ancestor) {
                return true;
            }
            let parent = cur.state.lock().parent.clone();
            match parent {
                Some(p) => cur = p,
                None => return false,
            }
        }
    }

    /// Is this directory empty as the guest sees it (whiteouts and hidden
    /// lower entries aside)?
    fn is_empty_locked(&self) -> KResult<bool> {
        let mut empty = true;
        let names = self.upper_names()?;
        for name in &names {
            if !matches!(self.find(name)?, Found::Missing) {
                return Ok(false);
            }
        }
        if let Some(lower) = self.lower() {
            let mut lower_names = Vec::new();
            lower.readdir(0, &mut |e| {
                if e.name != b"." && e.name != b".." {
                    lower_names.push(e.name.to_vec());
                }
                true
            })?;
            for name in lower_names {
                if !names.contains(&name) {
                    empty = false;
                    break;
                }
            }
        }
        Ok(empty)
    }

    /// Names in the upper directory ("." and ".." aside).
    fn upper_names(&self) -> KResult<Vec<Vec<u8>>> {
        let mut names = Vec::new();
        if let Some(u) = self.upper() {
            u.readdir(0, &mut |e| {
                if e.name != b"." && e.name != b".." {
                    names.push(e.name.to_vec());
                }
                true
            })?;
        }
        Ok(names)
    }

    /// Removes the whiteouts an emptied upper directory still holds, so
    /// the upper filesystem lets it go.
    fn clear_whiteouts(&self) -> KResult<()> {
        let Some(u) = self.upper() else { return Ok(()) };
        for name in self.upper_names()? {
            if OvlInode::whiteout_at(&u, &name)? {
                u.unlink(&name)?;
            }
        }
        Ok(())
    }

    /// After `node` (a directory) moved to `name` in `parent`: what it
    /// merges with stays what it was, by a redirect where its lower
    /// directory is not the natural one, or opacity where it has none.
    fn set_dir_markers(node: &OvlInode, parent: &OvlInode, name: &[u8]) -> KResult<()> {
        let Some(upper) = node.upper() else { return Ok(()) };
        let (lower, lower_path) = {
            let st = node.state.lock();
            (st.lower.clone(), st.lower_path.clone())
        };
        let (parent_lower, parent_path) = {
            let st = parent.state.lock();
            (st.lower.clone(), st.lower_path.clone())
        };
        let natural = join(&parent_path, name);
        let ignore_missing = |r: KResult<()>| match r {
            Err(Errno::ENODATA) => Ok(()),
            r => r,
        };
        if lower.is_some() {
            if parent_lower.is_some() && natural == lower_path {
                ignore_missing(upper.removexattr(REDIRECT))?;
            } else {
                upper.setxattr(REDIRECT, &lower_path, 0)?;
            }
            ignore_missing(upper.removexattr(OPAQUE))?;
        } else {
            upper.setxattr(OPAQUE, b"y", 0)?;
            ignore_missing(upper.removexattr(REDIRECT))?;
            node.state.lock().lower_path = natural;
        }
        Ok(())
    }

    /// Moves a node in the cache and in its own state.
    fn moved(node: &Arc<OvlInode>, from: &OvlInode, from_name: &[u8], to: &Arc<OvlInode>, to_name: &[u8]) {
        from.forget_child(from_name);
        to.children.lock().map.insert(to_name.to_vec(), Arc::downgrade(node));
        let mut st = node.state.lock();
        st.parent = Some(to.clone());
        st.name = to_name.to_vec();
    }

    fn mark_removed(&self, name: &[u8], node: Option<&Arc<OvlInode>>) {
        self.forget_child(name);
        if let Some(n) = node {
            n.state.lock().removed = true;
        }
    }

    /// One rename attempt; None when a concurrent change got in between
    /// the copy-ups and the lock (the caller tries again).
    fn rename_once(&self, old_name: &[u8], new_dir: &Arc<OvlInode>, new_name: &[u8], flags: u32) -> KResult<Option<()>> {
        let old_dir = self.arc();
        let ou = old_dir.copy_up(true)?;
        let nu = new_dir.copy_up(true)?;
        let source = self.lookup_node(old_name)?.ok_or(Errno::ENOENT)?;
        let su = source.copy_up(true)?;
        let exchange = flags & RENAME_EXCHANGE != 0;
        let target_before = if exchange {
            let t = new_dir.lookup_node(new_name)?.ok_or(Errno::ENOENT)?;
            t.copy_up(true)?;
            Some(t)
        } else {
            None
        };
        let _ns = self.fs.namespace.write();
        if self.state.lock().removed || new_dir.state.lock().removed {
            return Err(Errno::ENOENT);
        }
        match self.child_locked(old_name)? {
            Some(s) if Arc::ptr_eq(&s, &source) => {}
            _ => return Ok(None),
        }
        if source.is_dir && new_dir.is_within(&source) {
            return Err(Errno::EINVAL);
        }
        let target = new_dir.child_locked(new_name)?;
        if exchange {
            let Some(target) = target else { return Err(Errno::ENOENT) };
            if !target_before.as_ref().is_some_and(|t| Arc::ptr_eq(t, &target)) {
                return Ok(None);
            }
            if Arc::ptr_eq(&source, &target) {
                return Ok(Some(()));
            }
            if target.is_dir && old_dir.is_within(&target) {
                return Err(Errno::EINVAL);
            }
            ou.rename(old_name, &nu, new_name, RENAME_EXCHANGE)?;
            self.children.lock().map.insert(old_name.to_vec(), Arc::downgrade(&target));
            new_dir.children.lock().map.insert(new_name.to_vec(), Arc::downgrade(&source));
            {
                let mut st = source.state.lock();
                st.parent = Some(new_dir.clone());
                st.name = new_name.to_vec();
            }
            {
                let mut st = target.state.lock();
                st.parent = Some(old_dir.clone());
                st.name = old_name.to_vec();
            }
            if source.is_dir {
                OvlInode::set_dir_markers(&source, new_dir, new_name)?;
            }
            if target.is_dir {
                OvlInode::set_dir_markers(&target, self, old_name)?;
            }
            return Ok(Some(()));
        }
        if let Some(target) = &target {
            if flags & RENAME_NOREPLACE != 0 {
                return Err(Errno::EEXIST);
            }
            if Arc::ptr_eq(&source, target) || target.upper().is_some_and(|tu| Arc::ptr_eq(&tu, &su)) {
                return Ok(Some(()));
            }
            match (source.is_dir, target.is_dir) {
                (true, false) => return Err(Errno::ENOTDIR),
                (false, true) => return Err(Errno::EISDIR),
                (true, true) if !target.is_empty_locked()? => return Err(Errno::ENOTEMPTY),
                _ => {}
            }
        }
        let whiteout = if self.lower_has(old_name) { Some(self.fs.prepare_whiteout()?) } else { None };
        let result = (|| {
            if let Some(t) = &target {
                if t.is_dir {
                    t.clear_whiteouts()?;
                }
            }
            if OvlInode::whiteout_at(&nu, new_name)? {
                nu.unlink(new_name)?;
            }
            ou.rename(old_name, &nu, new_name, 0)
        })();
        if let Err(e) = result {
            if let Some(w) = &whiteout {
                self.fs.discard(w, false);
            }
            return Err(e);
        }
        if let Some(w) = &whiteout {
            self.fs.work.rename(w, &ou, old_name, RENAME_NOREPLACE)?;
        }
        new_dir.mark_removed(new_name, target.as_ref());
        OvlInode::moved(&source, self, old_name, new_dir, new_name);
        if source.is_dir {
            OvlInode::set_dir_markers(&source, new_dir, new_name)?;
        }
        Ok(Some(()))
    }

    /// The child `name` under a shared namespace lock.
    fn lookup_node(&self, name: &[u8]) -> KResult<Option<Arc<OvlInode>>> {
        let _ns = self.fs.namespace.read();
        self.child_locked(name)
    }
}

impl Inode for OvlInode {
    fn metadata(&self) -> KResult<Metadata> {
        let (upper, lower, origin) = {
            let st = self.state.lock();
            (st.upper.clone(), st.lower.clone(), st.origin)
        };
        let mut md = match &upper {
            Some(u) => {
                let mut md = u.metadata()?;
                md.ino = self.fs.ino_of(origin, md.ino, self.is_dir);
                // Linux: merged directories report one link ("unknown" to find).
                if self.is_dir && lower.is_some() {
                    md.nlink = 1;
                }
                md
            }
            None => {
                let mut md = lower.ok_or(Errno::EIO)?.metadata()?;
                md.ino = self.fs.map_lower(md.dev, md.ino);
                md
            }
        };
        md.dev = self.fs.dev;
        Ok(md)
    }

    /// The upper layer's space and inodes, as Linux's ovl_statfs.
    fn statfs(&self) -> KResult<StatFs> {
        let mut sf = self.fs.upper_top.statfs()?;
        sf.f_type = OVERLAYFS_SUPER_MAGIC;
        Ok(sf)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn lookup(&self, name: &[u8]) -> KResult<InodeRef> {
        if !self.is_dir {
            return Err(Errno::ENOTDIR);
        }
        Ok(self.lookup_node(name)?.ok_or(Errno::ENOENT)?)
    }

    fn create(&self, name: &[u8], mode: u32, rdev: u64, uid: u32, gid: u32) -> KResult<InodeRef> {
        // Linux's ovl_mknod: the guest may not make a whiteout.
        self.create_with_acls(name, mode, rdev, uid, gid, &InitialAcls::default())
    }

    /// The ACLs go on the copy in the work directory, before it is put in
    /// place (as ovl_create_object has the upper filesystem inherit them).
    fn create_with_acls(&self, name: &[u8], mode: u32, rdev: u64, uid: u32, gid: u32, acls: &InitialAcls) -> KResult<InodeRef> {
        // Linux's ovl_mknod: the guest may not make a whiteout.
        if mode & S_IFMT == S_IFCHR && rdev == 0 {
            return Err(Errno::EPERM);
        }
        self.create_with(name, mode & S_IFMT == S_IFDIR, |work, temp| work.create_with_acls(temp, mode, rdev, uid, gid, acls))
    }

    fn symlink(&self, name: &[u8], target: &[u8], uid: u32, gid: u32) -> KResult<InodeRef> {
        self.create_with(name, false, |work, temp| work.symlink(temp, target, uid, gid))
    }

    /// A hard link to a lower file links its copy-up.
    fn link(&self, name: &[u8], target: &InodeRef) -> KResult<()> {
        check_name(name)?;
        let target = self.same_fs(target)?;
        if target.is_dir {
            return Err(Errno::EPERM);
        }
        let tu = target.copy_up(true)?;
        let pu = self.arc().copy_up(true)?;
        let _ns = self.fs.namespace.write();
        if self.state.lock().removed {
            return Err(Errno::ENOENT);
        }
        if self.child_locked(name)?.is_some() {
            return Err(Errno::EEXIST);
        }
        if OvlInode::whiteout_at(&pu, name)? {
            let temp = self.fs.temp_name();
            self.fs.work.link(&temp, &tu)?;
            self.fs.work.rename(&temp, &pu, name, 0).inspect_err(|_| self.fs.discard(&temp, false))?;
        } else {
            pu.link(name, &tu)?;
        }
        let origin = target.state.lock().origin;
        let parts = Parts { upper: Some(tu), lower: None, lower_path: join(&self.state.lock().lower_path, name), origin, is_dir: false };
        self.cache_child(name, OvlInode::new(self.fs.clone(), Some(self.arc()), name.to_vec(), parts));
        Ok(())
    }

    fn unlink(&self, name: &[u8]) -> KResult<()> {
        if !self.is_dir {
            return Err(Errno::ENOTDIR);
        }
        let pu = self.arc().copy_up(true)?;
        let _ns = self.fs.namespace.write();
        let victim = self.child_locked(name)?.ok_or(Errno::ENOENT)?;
        if victim.is_dir {
            return Err(Errno::EISDIR);
        }
        if self.lower_has(name) {
            let temp = self.fs.prepare_whiteout()?;
            let replace = if victim.upper().is_some() { 0 } else { RENAME_NOREPLACE };
            self.fs.work.rename(&temp, &pu, name, replace).inspect_err(|_| self.fs.discard(&temp, false))?;
        } else {
            pu.unlink(name)?;
        }
        self.mark_removed(name, Some(&victim));
        Ok(())
    }

    fn rmdir(&self, name: &[u8]) -> KResult<()> {
        if !self.is_dir {
            return Err(Errno::ENOTDIR);
        }
        let pu = self.arc().copy_up(true)?;
        let _ns = self.fs.namespace.write();
        let victim = self.child_locked(name)?.ok_or(Errno::ENOENT)?;
        if !victim.is_dir {
            return Err(Errno::ENOTDIR);
        }
        if !victim.is_empty_locked()? {
            return Err(Errno::ENOTEMPTY);
        }
        let whiteout = if self.lower_has(name) { Some(self.fs.prepare_whiteout()?) } else { None };
        if victim.upper().is_some() {
            let removed = victim.clear_whiteouts().and_then(|_| pu.rmdir(name));
            if let Err(e) = removed {
                if let Some(w) = &whiteout {
                    self.fs.discard(w, false);
                }
                return Err(e);
            }
        }
        if let Some(w) = &whiteout {
            self.fs.work.rename(w, &pu, name, RENAME_NOREPLACE)?;
        }
        self.mark_removed(name, Some(&victim));
        Ok(())
    }

    fn rename(&self, old_name: &[u8], new_dir: &InodeRef, new_name: &[u8], flags: u32) -> KResult<()> {
        if flags & !(RENAME_NOREPLACE | RENAME_EXCHANGE) != 0 || flags == RENAME_NOREPLACE | RENAME_EXCHANGE {
            return Err(Errno::EINVAL);
        }
        let new_dir = self.same_fs(new_dir)?;
        check_name(new_name).map_err(|e| if e == Errno::EEXIST { Errno::EBUSY } else { e })?;
        if !self.is_dir || !new_dir.is_dir {
            return Err(Errno::ENOTDIR);
        }
        // A concurrent rename can change what the names are between the
        // copy-ups and the lock; then look again.
        for _ in 0..16 {
            if let Some(()) = self.rename_once(old_name, &new_dir, new_name, flags)? {
                return Ok(());
            }
        }
        Err(Errno::EBUSY)
    }

    fn readdir(&self, offset: u64, sink: &mut dyn FnMut(DirEntry<'_>) -> bool) -> KResult<()> {
        let entries = self.arc().snapshot()?;
        dir::emit(&entries, offset, sink);
        Ok(())
    }

    fn readlink(&self) -> KResult<Vec<u8>> {
        self.real()?.readlink()
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> KResult<usize> {
        self.real()?.read_at(offset, buf)
    }

    fn write_at(&self, offset: u64, buf: &[u8]) -> KResult<usize> {
        self.arc().copy_up(true)?.write_at(offset, buf)
    }

    fn append(&self, buf: &[u8]) -> KResult<(usize, u64)> {
        self.arc().copy_up(true)?.append(buf)
    }

    /// Truncating to zero copies up without the data (it would be dropped).
    fn setattr(&self, attr: &SetAttr) -> KResult<()> {
        self.arc().copy_up(attr.size != Some(0))?.setattr(attr)
    }

    fn fallocate(&self, mode: u32, offset: u64, len: u64) -> KResult<()> {
        self.arc().copy_up(true)?.fallocate(mode, offset, len)
    }

    fn sync(&self) -> KResult<()> {
        self.real()?.sync()
    }

    fn sync_fs(&self) -> KResult<()> {
        self.real()?.sync_fs()
    }

    /// Opening a regular file for writing copies it up (Linux's
    /// ovl_open); directories read a merged snapshot per open file.
    fn open(&self, flags: u32) -> KResult<Option<Arc<dyn FileOps>>> {
        if self.is_dir {
            self.real()?.open(flags)?;
            return Ok(Some(Arc::new(dir::OvlDirFile::new(self.arc()))));
        }
        if self.metadata()?.mode & S_IFMT == S_IFREG && flags & O_ACCMODE != O_RDONLY {
            return self.arc().copy_up(true)?.open(flags);
        }
        self.real()?.open(flags)
    }

    fn page_cache(&self) -> Option<Arc<crate::mm::page_cache::PageCache>> {
        self.upper()?.page_cache()
    }

    /// A lower file not copied up maps the host file (Linux's ovl_mmap
    /// maps the real file of the moment too).
    fn host_file(&self, write: bool) -> KResult<Option<crate::platform::HostFile>> {
        self.real()?.host_file(write)
    }

    fn getxattr(&self, name: &[u8]) -> KResult<Vec<u8>> {
        if is_private(name) {
            return Err(Errno::EOPNOTSUPP);
        }
        self.real()?.getxattr(name)
    }

    fn setxattr(&self, name: &[u8], value: &[u8], flags: u32) -> KResult<()> {
        if is_private(name) {
            return Err(Errno::EOPNOTSUPP);
        }
        self.arc().copy_up(true)?.setxattr(name, value, flags)
    }

    fn listxattr(&self) -> KResult<Vec<Vec<u8>>> {
        Ok(self.real()?.listxattr()?.into_iter().filter(|n| !is_private(n)).collect())
    }

    /// The real object's: the lower one's until a copy-up, which copies
    /// the ACLs with the other xattrs.
    fn access_acl(&self) -> KResult<Option<Arc<PosixAcl>>> {
        self.real()?.access_acl()
    }

    fn default_acl(&self) -> KResult<Option<Arc<PosixAcl>>> {
        self.real()?.default_acl()
    }

    /// Removing an attribute the lower object lacks copies nothing up.
    fn removexattr(&self, name: &[u8]) -> KResult<()> {
        if is_private(name) {
            return Err(Errno::EOPNOTSUPP);
        }
        if self.upper().is_none() {
            self.real()?.getxattr(name)?;
        }
        self.arc().copy_up(true)?.removexattr(name)
    }
}

#[cfg(test)]
mod tests;
