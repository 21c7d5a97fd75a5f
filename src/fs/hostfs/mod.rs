//! hostfs: a read-only view of a host directory (the `--root` tree).
//! vkernel opens host files itself, relative to one O_PATH fd on the root
//! and never following host symlinks (the VFS walk resolves guest symlinks
//! itself); metadata, dev and ino are the host's, so `stat` and `ls -i`
//! match a native run. Any change is EROFS. Data fds are opened lazily,
//! cached per inode within a global budget, and closed when the inode drops.

use parking_lot::Mutex;
use std::any::Any;
use std::collections::{HashMap, VecDeque};
use std::ffi::CString;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};

use crate::abi::stat::{S_IFDIR, S_IFLNK, S_IFMT, S_IFREG};
use crate::abi::statfs::ST_RDONLY;
use crate::abi::{Errno, KResult, StatFs};
use crate::fs::inode::{DirEntry, Inode, InodeRef, Metadata, SetAttr};
use crate::fs::make_dev;
use crate::fs::posix_acl::{self, AclCache, PosixAcl};
use crate::fs::xattr::{ACL_ACCESS, ACL_DEFAULT};
use crate::platform::host::files::{self as host, HostFd, HostStat, OpenAs, SharedFd};

/// Host fds kept open across calls, over all hostfs inodes; past this,
/// each operation opens and closes its own.
const CACHED_FD_BUDGET: usize = 256;
static CACHED_FDS: AtomicUsize = AtomicUsize::new(0);

/// Lookups remembered per view (a few MiB of vkernel's heap at most).
const ENTRY_CACHE: usize = 8192;

/// What a lookup found, by path relative to the root: the inode, or None
/// for a missing name; the oldest are forgotten first.
#[derive(Default)]
struct Entries {
    found: HashMap<CString, Option<InodeRef>>,
    order: VecDeque<CString>,
}

impl Entries {
    fn remember(&mut self, rel: CString, entry: Option<InodeRef>) {
        if self.found.insert(rel.clone(), entry).is_none() {
            self.order.push_back(rel);
        }
        while self.order.len() > ENTRY_CACHE {
            if let Some(old) = self.order.pop_front() {
                self.found.remove(&old);
            }
        }
    }
}

/// Inode numbers for directories vkernel supplies where the host tree has
/// none (mount points such as /tmp, /dev and /proc under a bare root).
const SYNTHETIC_INO_BASE: u64 = 0xffff_ff00_0000_0000;

pub struct HostFs {
    root: HostFd,
    /// Names at the root that read as empty directories when missing on the host.
    synthetic: Vec<Vec<u8>>,
    root_md: Metadata,
    /// The lookup cache, owned by the root inode: it holds inodes, which
    /// hold this, so owning it here would keep the view alive for good.
    entries: Weak<Mutex<Entries>>,
}

pub struct HostInode {
    fs: Arc<HostFs>,
    /// Path relative to the root fd ("." for the root itself).
    rel: CString,
    md: Metadata,
    synthetic: bool,
    fd: Mutex<Option<HostFd>>,
    /// The fd its shared mappings map, while one lives (`host_file`).
    map_fd: SharedFd,
    /// The root's: the view's lookup cache (see `HostFs::entries`).
    entries: Option<Arc<Mutex<Entries>>>,
    /// The host object's POSIX ACLs, read at the first permission check
    /// or create that needs them (the host tree does not change under us).
    access_acl: AclCache,
    default_acl: AclCache,
}

fn cstring(bytes: &[u8]) -> KResult<CString> {
    host::cstring(bytes)
}

/// A host object's metadata as the guest sees it: the host's own numbers
/// (the host's dev_t is glibc's encoding, which equals Linux's new_encode_dev).
pub fn metadata_of(st: &HostStat) -> Metadata {
    Metadata {
        dev: make_dev(st.dev.0, st.dev.1),
        ino: st.ino,
        mode: st.mode,
        nlink: st.nlink,
        uid: st.uid,
        gid: st.gid,
        rdev: make_dev(st.rdev.0, st.rdev.1),
        size: st.size,
        blksize: st.blksize,
        blocks: st.blocks,
        atime: st.atime,
        mtime: st.mtime,
        ctime: st.ctime,
    }
}

impl HostFs {
    /// Opens `dir` as the root of a read-only view. `synthetic` names are
    /// root entries that appear as empty directories if the host lacks them.
    pub fn new_root(dir: &std::path::Path, synthetic: &[&str]) -> Result<InodeRef, String> {
        use std::os::unix::ffi::OsStrExt;
        let path = cstring(dir.as_os_str().as_bytes()).map_err(|_| format!("root directory {} has a NUL byte in its name", dir.display()))?;
        let root = HostFd::open_path(path.as_bytes(), OpenAs::PathDirectory)
            .map_err(|e| format!("cannot open root directory {}: {} (give an existing directory with --root)", dir.display(), e))?;
        let dot = cstring(b".").map_err(|e| e.to_string())?;
        let root_md = root.lstat_at(&dot).map(|st| metadata_of(&st)).map_err(|e| format!("cannot stat root directory {}: {e}", dir.display()))?;
        let entries = Arc::new(Mutex::new(Entries::default()));
        let fs = Arc::new(HostFs { root, synthetic: synthetic.iter().map(|s| s.as_bytes().to_vec()).collect(), root_md, entries: Arc::downgrade(&entries) });
        let mut root = HostInode::new(fs.clone(), dot, fs.root_md, false);
        root.entries = Some(entries);
        Ok(Arc::new(root))
    }
}

/// A host fd for one operation: the inode's cached one or a transient one.
enum FdGuard<'a> {
    Cached(parking_lot::MutexGuard<'a, Option<HostFd>>),
    Transient(HostFd),
}

impl FdGuard<'_> {
    fn get(&self) -> KResult<&HostFd> {
        match self {
            FdGuard::Cached(g) => g.as_ref().ok_or(Errno::EBADF),
            FdGuard::Transient(f) => Ok(f),
        }
    }
}

impl HostInode {
    fn new(fs: Arc<HostFs>, rel: CString, md: Metadata, synthetic: bool) -> HostInode {
        HostInode {
            fs,
            rel,
            md,
            synthetic,
            fd: Mutex::new(None),
            map_fd: SharedFd::default(),
            entries: None,
            access_acl: AclCache::default(),
            default_acl: AclCache::default(),
        }
    }

    fn child_path(&self, name: &[u8]) -> KResult<CString> {
        if self.rel.as_bytes() == b"." {
            cstring(name)
        } else {
            let mut p = self.rel.as_bytes().to_vec();
            p.push(b'/');
            p.extend_from_slice(name);
            cstring(&p)
        }
    }

    fn is_root(&self) -> bool {
        self.rel.as_bytes() == b"."
    }

    /// `lookup` of `name` (at `rel`) without the cache.
    fn look_up_on_host(&self, name: &[u8], rel: &CString) -> KResult<InodeRef> {
        match self.fs.root.lstat_at(rel).map(|st| metadata_of(&st)) {
            Ok(md) => Ok(Arc::new(HostInode::new(self.fs.clone(), rel.clone(), md, false))),
            Err(Errno::ENOENT) if self.is_root() => {
                let i = self.fs.synthetic.iter().position(|s| s == name).ok_or(Errno::ENOENT)?;
                let md =
                    Metadata { mode: S_IFDIR | 0o755, nlink: 2, uid: 0, gid: 0, ino: SYNTHETIC_INO_BASE + i as u64, size: 0, blocks: 0, ..self.fs.root_md };
                Ok(Arc::new(HostInode::new(self.fs.clone(), rel.clone(), md, true)))
            }
            Err(e) => Err(e),
        }
    }

    /// The inode's host fd, opened for reading on first use. Holding the
    /// guard serializes users of the fd (lseek + getdents must not interleave).
    fn fd(&self) -> KResult<FdGuard<'_>> {
        let mut g = self.fd.lock();
        if g.is_some() {
            return Ok(FdGuard::Cached(g));
        }
        let how = if self.md.is_dir() { OpenAs::ReadDirectory } else { OpenAs::Read };
        let fd = self.fs.root.open_at(&self.rel, how)?;
        if CACHED_FDS.fetch_add(1, Ordering::Relaxed) < CACHED_FD_BUDGET {
            *g = Some(fd);
            Ok(FdGuard::Cached(g))
        } else {
            CACHED_FDS.fetch_sub(1, Ordering::Relaxed);
            Ok(FdGuard::Transient(fd))
        }
    }
}

impl HostInode {
    /// Runs `f` on a host fd for the object itself: the cached data fd
    /// where there is one, else a transient O_PATH handle (symlinks,
    /// devices, files vkernel may not read).
    fn with_handle<T>(&self, f: impl FnOnce(&HostFd) -> KResult<T>) -> KResult<T> {
        if matches!(self.md.mode & S_IFMT, S_IFREG | S_IFDIR) {
            if let Ok(g) = self.fd() {
                return f(g.get()?);
            }
        }
        f(&self.fs.root.open_at(&self.rel, OpenAs::Path)?)
    }
}

impl Drop for HostInode {
    fn drop(&mut self) {
        if self.fd.get_mut().take().is_some() {
            CACHED_FDS.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

impl Inode for HostInode {
    fn metadata(&self) -> KResult<Metadata> {
        Ok(self.md)
    }

    fn statfs(&self) -> KResult<StatFs> {
        let mut sf = self.fs.root.statfs()?;
        sf.f_flags |= ST_RDONLY;
        Ok(sf)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn lookup(&self, name: &[u8]) -> KResult<InodeRef> {
        if !self.md.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        if self.synthetic {
            return Err(Errno::ENOENT);
        }
        let rel = self.child_path(name)?;
        let entries = self.fs.entries.upgrade();
        if let Some(found) = entries.as_ref().and_then(|e| e.lock().found.get(&rel).cloned()) {
            return found.ok_or(Errno::ENOENT);
        }
        let found = self.look_up_on_host(name, &rel);
        // Only what the tree holds is remembered, not a failure to look.
        if let (Some(entries), Ok(_) | Err(Errno::ENOENT)) = (&entries, &found) {
            entries.lock().remember(rel, found.clone().ok());
        }
        found
    }

    fn create(&self, _name: &[u8], _mode: u32, _rdev: u64, _uid: u32, _gid: u32) -> KResult<InodeRef> {
        Err(Errno::EROFS)
    }
    fn symlink(&self, _name: &[u8], _target: &[u8], _uid: u32, _gid: u32) -> KResult<InodeRef> {
        Err(Errno::EROFS)
    }
    fn link(&self, _name: &[u8], _target: &InodeRef) -> KResult<()> {
        Err(Errno::EROFS)
    }
    fn unlink(&self, _name: &[u8]) -> KResult<()> {
        Err(Errno::EROFS)
    }
    fn rmdir(&self, _name: &[u8]) -> KResult<()> {
        Err(Errno::EROFS)
    }
    fn rename(&self, _old_name: &[u8], _new_dir: &InodeRef, _new_name: &[u8], _flags: u32) -> KResult<()> {
        Err(Errno::EROFS)
    }
    fn write_at(&self, _offset: u64, _buf: &[u8]) -> KResult<usize> {
        Err(Errno::EROFS)
    }
    fn setattr(&self, _attr: &SetAttr) -> KResult<()> {
        Err(Errno::EROFS)
    }

    fn getxattr(&self, name: &[u8]) -> KResult<Vec<u8>> {
        if self.synthetic {
            return Err(Errno::ENODATA);
        }
        let name = cstring(name)?;
        self.with_handle(|fd| fd.getxattr(&name))
    }
    fn listxattr(&self) -> KResult<Vec<Vec<u8>>> {
        if self.synthetic {
            return Ok(Vec::new());
        }
        self.with_handle(|fd| fd.listxattr())
    }
    fn setxattr(&self, _name: &[u8], _value: &[u8], _flags: u32) -> KResult<()> {
        Err(Errno::EROFS)
    }
    fn removexattr(&self, _name: &[u8]) -> KResult<()> {
        Err(Errno::EROFS)
    }

    fn access_acl(&self) -> KResult<Option<Arc<PosixAcl>>> {
        self.access_acl.get(|| posix_acl::stored(self.getxattr(ACL_ACCESS)))
    }

    fn default_acl(&self) -> KResult<Option<Arc<PosixAcl>>> {
        self.default_acl.get(|| posix_acl::stored(self.getxattr(ACL_DEFAULT)))
    }

    fn readdir(&self, offset: u64, sink: &mut dyn FnMut(DirEntry<'_>) -> bool) -> KResult<()> {
        if !self.md.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        if self.synthetic {
            if offset == 0 && !sink(DirEntry { ino: self.md.ino, dtype: 4, name: b".", next_offset: 1 }) {
                return Ok(());
            }
            if offset <= 1 {
                sink(DirEntry { ino: self.fs.root_md.ino, dtype: 4, name: b"..", next_offset: 2 });
            }
            return Ok(());
        }
        let fd = self.fd()?;
        fd.get()?.read_dir_from(offset, &mut |ino, next_offset, dtype, name| sink(DirEntry { ino, dtype, name, next_offset }))
    }

    fn readlink(&self) -> KResult<Vec<u8>> {
        if self.md.mode & S_IFMT != S_IFLNK {
            return Err(Errno::EINVAL);
        }
        self.fs.root.readlink_at(&self.rel)
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> KResult<usize> {
        match self.md.mode & S_IFMT {
            S_IFREG => {}
            S_IFDIR => return Err(Errno::EISDIR),
            _ => return Err(Errno::EINVAL),
        }
        let fd = self.fd()?;
        fd.get()?.pread(buf, offset)
    }

    /// Opening checks the host's own permission now (ACLs, capabilities),
    /// so a refusal shows at open as it would natively.
    fn open(&self, _flags: u32) -> KResult<Option<Arc<dyn crate::fs::file::FileOps>>> {
        if matches!(self.md.mode & S_IFMT, S_IFREG | S_IFDIR) && !self.synthetic {
            drop(self.fd()?);
        }
        Ok(None)
    }

    /// An fd of its own for the inode's mappings, shared by them while one
    /// lives (the cached fd's budget is for reads); the view is read-only,
    /// so never for writing.
    fn host_file(&self, write: bool) -> KResult<Option<crate::platform::HostFile>> {
        if self.md.mode & S_IFMT != S_IFREG || self.synthetic {
            return Ok(None);
        }
        if write {
            return Err(Errno::EROFS);
        }
        let fd = self.map_fd.get_or_open(|| {
            let fd = self.fs.root.open_at(&self.rel, OpenAs::Read)?;
            let st = host::fstat(fd.raw())?;
            if (make_dev(st.dev.0, st.dev.1), st.ino) != (self.md.dev, self.md.ino) {
                // Another file took the name on the host since it was looked up.
                return Err(Errno::ESTALE);
            }
            Ok(fd)
        })?;
        Ok(Some(crate::platform::HostFile(fd)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_metadata_matches_std() {
        use std::os::unix::fs::MetadataExt;
        let dir = std::env::temp_dir().join(format!("vk-hostfs-test-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("sub/file"), b"hello host").unwrap();
        std::os::unix::fs::symlink("sub/file", dir.join("link")).unwrap();
        let root = HostFs::new_root(&dir, &["proc"]).unwrap();
        let sub = root.lookup(b"sub").unwrap();
        let f = sub.lookup(b"file").unwrap();
        let native = std::fs::metadata(dir.join("sub/file")).unwrap();
        let md = f.metadata().unwrap();
        assert_eq!((md.ino, md.size, md.mode), (native.ino(), native.size(), native.mode()));
        let mut buf = [0u8; 64];
        let n = f.read_at(6, &mut buf).unwrap();
        assert_eq!(&buf[..n], b"host");
        assert_eq!(root.lookup(b"link").unwrap().readlink().unwrap(), b"sub/file");
        assert_eq!(f.write_at(0, b"x").err(), Some(Errno::EROFS));
        assert_eq!(root.lookup(b"nope").err(), Some(Errno::ENOENT));
        assert!(root.lookup(b"proc").unwrap().metadata().unwrap().is_dir());
        let mut names = Vec::new();
        sub.readdir(0, &mut |e| {
            names.push(e.name.to_vec());
            true
        })
        .unwrap();
        names.sort();
        assert_eq!(names, [b".".to_vec(), b"..".to_vec(), b"file".to_vec()]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn lookups_are_remembered_within_the_bound_and_do_not_keep_the_view() {
        let dir = std::env::temp_dir().join(format!("vk-hostfs-cache-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("sub/file"), b"x").unwrap();
        let root = HostFs::new_root(&dir, &[]).unwrap();
        let sub = root.lookup(b"sub").unwrap();
        let a = sub.lookup(b"file").unwrap();
        // Found again without the host: the same inode object, even once
        // the host name is gone; a missing name stays missing.
        assert_eq!(sub.lookup(b"absent").err(), Some(Errno::ENOENT));
        std::fs::remove_file(dir.join("sub/file")).unwrap();
        std::fs::write(dir.join("sub/absent"), b"y").unwrap();
        let b = sub.lookup(b"file").unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(sub.lookup(b"absent").err(), Some(Errno::ENOENT));
        // Past the bound the oldest entries go: "file" is looked up anew.
        let host = root.as_any().downcast_ref::<HostInode>().unwrap();
        let entries = host.entries.clone().unwrap();
        for i in 0..ENTRY_CACHE {
            assert_eq!(sub.lookup(format!("n{i}").as_bytes()).err(), Some(Errno::ENOENT));
        }
        assert_eq!(entries.lock().found.len(), ENTRY_CACHE);
        assert_eq!(sub.lookup(b"file").err(), Some(Errno::ENOENT));
        assert!(sub.lookup(b"absent").is_ok());
        // The cache belongs to the root: it goes with the view.
        drop((a, b, sub, root));
        assert_eq!(Arc::strong_count(&entries), 1);
        drop(entries);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
