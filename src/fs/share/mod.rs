//! share: a host directory mounted in the guest read-write or read-only
//! (`--share HOST:GUEST[:ro]`), as a bind mount would show it: the host's
//! numbers, owners, modes and permission answers, metadata read fresh on
//! every use (a host-side change shows at once), fsync reaching the host
//! disk. Confined to HOST: an object is reached only from a directory fd
//! vkernel holds, one name at a time (`O_NOFOLLOW`), or by
//! `HostFd::open_beneath` from the share's root, so no `..`, host symlink
//! or host rename race makes a guest change land outside it. Symlinks are
//! handed to the VFS, which follows them in the guest's namespace. Never
//! creates device nodes on the host. Mounted by kernel/boot.rs.

use parking_lot::Mutex;
use std::any::Any;
use std::ffi::CString;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};

use crate::abi::fcntl::{O_ACCMODE, O_RDONLY, O_RDWR, O_WRONLY};
use crate::abi::stat::{S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK};
use crate::abi::statfs::ST_RDONLY;
use crate::abi::{Errno, KResult, StatFs};
use crate::fs::check_name;
use crate::fs::file::FileOps;
use crate::fs::hostfs::metadata_of;
use crate::fs::inode::{DirEntry, Inode, InodeRef, Metadata, SetAttr};
use crate::fs::path::Children;
use crate::platform::host::files::{self as host, HostFd, OpenAs, SharedFd};

/// Host fds kept open across calls over all share inodes; past this an
/// operation opens (and checks) its own.
const CACHED_FD_BUDGET: usize = 512;
static CACHED_FDS: AtomicUsize = AtomicUsize::new(0);

/// One mounted share.
pub struct ShareFs {
    root: HostFd,
    writable: bool,
}

/// The host fds of one object, each opened when first needed.
#[derive(Default)]
struct Fds {
    /// An O_PATH handle: metadata, attributes, and *at calls for directories.
    path: Option<Arc<HostFd>>,
    /// Reading: data, or a directory's entries.
    read: Option<Arc<HostFd>>,
    /// Writing (O_RDWR where the host allows it, else O_WRONLY).
    write: Option<Arc<HostFd>>,
    /// O_APPEND writes: at the host's end of the file, atomically with
    /// host processes appending too.
    append: Option<Arc<HostFd>>,
}

pub struct ShareInode {
    fs: Arc<ShareFs>,
    /// This inode, for its children's `Place`.
    me: Weak<ShareInode>,
    /// Its directory and name, which a rename through vkernel changes:
    /// they make the path from the share's root used with `open_beneath`.
    place: Mutex<Place>,
    /// Children looked up (or renamed here) that are still alive, so a
    /// lookup gives the same object back (the VFS's dentries stay) and a
    /// rename can move the one that exists.
    children: Mutex<Children<ShareInode>>,
    ftype: u32,
    /// The host object's (dev, ino) when looked up: a path that names
    /// another object later is ESTALE, not that object.
    identity: (u64, u64),
    fds: Mutex<Fds>,
    /// Serializes listing (the directory fd's position is shared).
    listing: Mutex<()>,
    /// The O_RDWR fd its shared mappings that may write map, while one
    /// lives (`host_file`).
    map_fd: SharedFd,
}

/// Where a share inode is: None and "." for the root.
struct Place {
    parent: Option<Arc<ShareInode>>,
    name: Vec<u8>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Path,
    Read,
    Write,
    Append,
}

/// A name for a host call: one component, never "." or "..".
fn component(name: &[u8]) -> KResult<CString> {
    if name.is_empty() || name == b"." || name == b".." || name.contains(&b'/') {
        return Err(Errno::ENOENT);
    }
    host::cstring(name)
}

impl ShareFs {
    /// Opens host directory `dir` (a path from vkernel's command line) as a share.
    pub fn new_root(dir: &std::path::Path, writable: bool) -> Result<InodeRef, String> {
        use std::os::unix::ffi::OsStrExt;
        let root = HostFd::open_path(dir.as_os_str().as_bytes(), OpenAs::PathDirectory).map_err(|e| format!("cannot open {}: {e}", dir.display()))?;
        let st = root.lstat_at(c"").map_err(|e| format!("cannot stat {}: {e}", dir.display()))?;
        let fs = Arc::new(ShareFs { root, writable });
        let md = metadata_of(&st);
        Ok(Arc::new_cyclic(|me| ShareInode {
            fs,
            me: me.clone(),
            place: Mutex::new(Place { parent: None, name: b".".to_vec() }),
            children: Mutex::new(Children::default()),
            ftype: S_IFDIR,
            identity: (md.dev, md.ino),
            fds: Mutex::new(Fds::default()),
            listing: Mutex::new(()),
            map_fd: SharedFd::default(),
        }))
    }
}

impl Drop for ShareInode {
    fn drop(&mut self) {
        let fds = self.fds.get_mut();
        let held = [fds.path.is_some(), fds.read.is_some(), fds.write.is_some(), fds.append.is_some()].iter().filter(|&&h| h).count();
        CACHED_FDS.fetch_sub(held, Ordering::Relaxed);
    }
}

impl ShareInode {
    /// The path from the share's root ("." for the root itself), as the
    /// renames made through vkernel left it.
    fn rel(&self) -> KResult<CString> {
        let mut names: Vec<Vec<u8>> = Vec::new();
        let (mut name, mut parent) = {
            let place = self.place.lock();
            (place.name.clone(), place.parent.clone())
        };
        // Every name but the root's, from here up.
        while let Some(dir) = parent {
            names.push(name);
            let place = dir.place.lock();
            (name, parent) = (place.name.clone(), place.parent.clone());
        }
        if names.is_empty() {
            return Ok(c".".to_owned());
        }
        names.reverse();
        host::cstring(&names.join(&b'/'))
    }

    fn check_writable(&self) -> KResult<()> {
        if self.fs.writable { Ok(()) } else { Err(Errno::EROFS) }
    }

    /// Opens the object again by its path below the root, as `how`,
    /// refusing a different object now at that path.
    fn open_fresh(&self, how: OpenAs) -> KResult<HostFd> {
        let fd = self.fs.root.open_beneath(&self.rel()?, how)?;
        let md = metadata_of(&fd.lstat_at(c"")?);
        if (md.dev, md.ino) != self.identity {
            return Err(Errno::ESTALE);
        }
        Ok(fd)
    }

    /// The fd of `kind`, cached when the budget allows.
    fn fd(&self, kind: Kind) -> KResult<Arc<HostFd>> {
        let mut fds = self.fds.lock();
        let slot = match kind {
            Kind::Path => &mut fds.path,
            Kind::Read => &mut fds.read,
            Kind::Write => &mut fds.write,
            Kind::Append => &mut fds.append,
        };
        if let Some(fd) = slot {
            return Ok(fd.clone());
        }
        let fd = Arc::new(match kind {
            Kind::Path => self.open_fresh(OpenAs::Path)?,
            Kind::Read if self.ftype == S_IFDIR => self.open_fresh(OpenAs::ReadDirectory)?,
            Kind::Read => self.open_fresh(OpenAs::Read)?,
            Kind::Write => match self.open_fresh(OpenAs::ReadWrite) {
                Err(Errno::EACCES) => self.open_fresh(OpenAs::Write)?,
                r => r?,
            },
            Kind::Append => self.open_fresh(OpenAs::Append)?,
        });
        if CACHED_FDS.fetch_add(1, Ordering::Relaxed) < CACHED_FD_BUDGET {
            *slot = Some(fd.clone());
        } else {
            CACHED_FDS.fetch_sub(1, Ordering::Relaxed);
        }
        Ok(fd)
    }

    /// An fd data can be read from: the read one, or an O_RDWR write one.
    fn read_fd(&self) -> KResult<Arc<HostFd>> {
        self.fd(Kind::Read)
    }

    /// The inode for `name` in this directory, from an O_PATH handle
    /// opened relative to this directory's own fd (never following it):
    /// the one already alive when it is still the object there, else a new
    /// one.
    fn child(&self, name: &[u8]) -> KResult<Arc<ShareInode>> {
        let cname = component(name)?;
        let dir = self.dir_fd()?;
        let handle = dir.open_at(&cname, OpenAs::Path)?;
        let md = metadata_of(&handle.lstat_at(c"")?);
        let mut children = self.children.lock();
        if let Some(known) = children.get(name) {
            if known.identity == (md.dev, md.ino) {
                return Ok(known);
            }
        }
        let inode = Arc::new_cyclic(|me| ShareInode {
            fs: self.fs.clone(),
            me: me.clone(),
            place: Mutex::new(Place { parent: self.me.upgrade(), name: name.to_vec() }),
            children: Mutex::new(Children::default()),
            ftype: md.mode & S_IFMT,
            identity: (md.dev, md.ino),
            fds: Mutex::new(Fds::default()),
            listing: Mutex::new(()),
            map_fd: SharedFd::default(),
        });
        if CACHED_FDS.fetch_add(1, Ordering::Relaxed) < CACHED_FD_BUDGET {
            inode.fds.lock().path = Some(Arc::new(handle));
        } else {
            CACHED_FDS.fetch_sub(1, Ordering::Relaxed);
        }
        children.insert(name, &inode);
        Ok(inode)
    }

    /// `name` left this directory (unlink, rmdir).
    fn forget_child(&self, name: &[u8]) {
        self.children.lock().take(name);
    }

    /// A rename moved `old_name` here to `new_name` in `new_dir` (with
    /// `exchange`, and the other way round): the inodes alive follow, so
    /// their paths (and their children's) are right again.
    fn moved(&self, old_name: &[u8], new_dir: &ShareInode, new_name: &[u8], exchange: bool) {
        // One directory's lock at a time: no order between them.
        let source = self.children.lock().take(old_name);
        let target = new_dir.children.lock().take(new_name);
        if let Some(s) = source {
            *s.place.lock() = Place { parent: new_dir.me.upgrade(), name: new_name.to_vec() };
            new_dir.children.lock().insert(new_name, &s);
        }
        if let Some(t) = target.filter(|_| exchange) {
            *t.place.lock() = Place { parent: self.me.upgrade(), name: old_name.to_vec() };
            self.children.lock().insert(old_name, &t);
        }
    }

    fn dir_fd(&self) -> KResult<Arc<HostFd>> {
        if self.ftype != S_IFDIR {
            return Err(Errno::ENOTDIR);
        }
        self.fd(Kind::Path)
    }

    /// After the host created `name` as vkernel's own user under its own
    /// umask: the mode and owner the VFS chose, where the host lets
    /// vkernel set them (a different owner needs vkernel to be root).
    fn settle(&self, name: &[u8], perm: Option<u32>, uid: u32, gid: u32) -> KResult<InodeRef> {
        let child = self.child(name)?;
        let md = child.metadata()?;
        let handle = child.fd(Kind::Path)?;
        if (md.uid, md.gid) != (uid, gid) {
            let _ = handle.chown(Some(uid).filter(|&u| u != md.uid), Some(gid).filter(|&g| g != md.gid));
        }
        if let Some(perm) = perm {
            if md.mode & 0o7777 != perm {
                handle.chmod(perm)?;
            }
        }
        Ok(child)
    }

    fn same_fs<'a>(&self, other: &'a InodeRef) -> KResult<&'a ShareInode> {
        let o = other.as_any().downcast_ref::<ShareInode>().ok_or(Errno::EXDEV)?;
        if !Arc::ptr_eq(&o.fs, &self.fs) {
            return Err(Errno::EXDEV);
        }
        Ok(o)
    }
}

impl Inode for ShareInode {
    fn metadata(&self) -> KResult<Metadata> {
        Ok(metadata_of(&self.fd(Kind::Path)?.lstat_at(c"")?))
    }

    fn statfs(&self) -> KResult<StatFs> {
        let mut sf = self.fs.root.statfs()?;
        if !self.fs.writable {
            sf.f_flags |= ST_RDONLY;
        }
        Ok(sf)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn lookup(&self, name: &[u8]) -> KResult<InodeRef> {
        Ok(self.child(name)?)
    }

    fn create(&self, name: &[u8], mode: u32, _rdev: u64, uid: u32, gid: u32) -> KResult<InodeRef> {
        check_name(name)?;
        self.check_writable()?;
        let cname = component(name)?;
        let dir = self.dir_fd()?;
        let perm = mode & 0o7777;
        match mode & S_IFMT {
            S_IFREG | 0 => {
                let fd = dir.create_at(&cname, OpenAs::ReadWrite, perm)?;
                let child = self.settle(name, Some(perm), uid, gid)?;
                if CACHED_FDS.fetch_add(1, Ordering::Relaxed) < CACHED_FD_BUDGET {
                    if let Some(c) = child.as_any().downcast_ref::<ShareInode>() {
                        c.fds.lock().write = Some(Arc::new(fd));
                    }
                } else {
                    CACHED_FDS.fetch_sub(1, Ordering::Relaxed);
                }
                Ok(child)
            }
            S_IFDIR => {
                dir.mkdir_at(&cname, perm)?;
                self.settle(name, Some(perm), uid, gid)
            }
            t @ (S_IFIFO | S_IFSOCK) => {
                dir.mknod_at(&cname, t | perm)?;
                self.settle(name, Some(perm), uid, gid)
            }
            // No device nodes on the host disk.
            _ => Err(Errno::EPERM),
        }
    }

    fn symlink(&self, name: &[u8], target: &[u8], uid: u32, gid: u32) -> KResult<InodeRef> {
        check_name(name)?;
        self.check_writable()?;
        let (cname, ctarget) = (component(name)?, host::cstring(target)?);
        self.dir_fd()?.symlink_at(&ctarget, &cname)?;
        self.settle(name, None, uid, gid)
    }

    fn link(&self, name: &[u8], target: &InodeRef) -> KResult<()> {
        check_name(name)?;
        self.check_writable()?;
        let target = self.same_fs(target)?;
        let cname = component(name)?;
        target.fd(Kind::Path)?.link_into(&*self.dir_fd()?, &cname)
    }

    fn unlink(&self, name: &[u8]) -> KResult<()> {
        self.check_writable()?;
        self.dir_fd()?.unlink_at(&component(name)?, false)?;
        self.forget_child(name);
        Ok(())
    }

    fn rmdir(&self, name: &[u8]) -> KResult<()> {
        self.check_writable()?;
        self.dir_fd()?.unlink_at(&component(name)?, true)?;
        self.forget_child(name);
        Ok(())
    }

    fn rename(&self, old_name: &[u8], new_dir: &InodeRef, new_name: &[u8], flags: u32) -> KResult<()> {
        self.check_writable()?;
        let new_dir = self.same_fs(new_dir)?;
        check_name(new_name).map_err(|e| if e == Errno::EEXIST { Errno::EBUSY } else { e })?;
        let (old, new) = (component(old_name)?, component(new_name)?);
        self.dir_fd()?.rename_at(&old, &*new_dir.dir_fd()?, &new, flags)?;
        self.moved(old_name, new_dir, new_name, flags & crate::abi::fcntl::RENAME_EXCHANGE != 0);
        Ok(())
    }

    fn readdir(&self, offset: u64, sink: &mut dyn FnMut(DirEntry<'_>) -> bool) -> KResult<()> {
        if self.ftype != S_IFDIR {
            return Err(Errno::ENOTDIR);
        }
        let fd = self.read_fd()?;
        let _listing = self.listing.lock();
        fd.read_dir_from(offset, &mut |ino, next_offset, dtype, name| sink(DirEntry { ino, dtype, name, next_offset }))
    }

    fn readlink(&self) -> KResult<Vec<u8>> {
        if self.ftype != S_IFLNK {
            return Err(Errno::EINVAL);
        }
        self.fd(Kind::Path)?.readlink_at(c"")
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> KResult<usize> {
        match self.ftype {
            S_IFREG => {}
            S_IFDIR => return Err(Errno::EISDIR),
            _ => return Err(Errno::EINVAL),
        }
        let fd = match self.read_fd() {
            Ok(fd) => fd,
            // A write-only open of a file vkernel may not read.
            Err(Errno::EACCES) => self.fd(Kind::Write)?,
            Err(e) => return Err(e),
        };
        fd.pread(buf, offset)
    }

    fn write_at(&self, offset: u64, buf: &[u8]) -> KResult<usize> {
        match self.ftype {
            S_IFREG => {}
            S_IFDIR => return Err(Errno::EISDIR),
            _ => return Err(Errno::EINVAL),
        }
        self.check_writable()?;
        self.fd(Kind::Write)?.pwrite(buf, offset)
    }

    /// pwrite on an O_APPEND fd writes at the end (Linux ignores the offset).
    fn append(&self, buf: &[u8]) -> KResult<(usize, u64)> {
        if self.ftype != S_IFREG {
            return Err(Errno::EINVAL);
        }
        self.check_writable()?;
        let fd = self.fd(Kind::Append)?;
        let n = fd.pwrite(buf, 0)?;
        Ok((n, metadata_of(&fd.lstat_at(c"")?).size))
    }

    fn setattr(&self, attr: &SetAttr) -> KResult<()> {
        self.check_writable()?;
        if let Some(size) = attr.size {
            match self.ftype {
                S_IFREG => self.fd(Kind::Write)?.truncate(size)?,
                S_IFDIR => return Err(Errno::EISDIR),
                _ => return Err(Errno::EINVAL),
            }
        }
        let handle = self.fd(Kind::Path)?;
        if attr.uid.is_some() || attr.gid.is_some() {
            handle.chown(attr.uid, attr.gid)?;
        }
        if let Some(mode) = attr.mode {
            handle.chmod(mode & 0o7777)?;
        }
        if attr.atime.is_some() || attr.mtime.is_some() {
            handle.set_times(attr.atime, attr.mtime)?;
        }
        Ok(())
    }

    fn fallocate(&self, mode: u32, offset: u64, len: u64) -> KResult<()> {
        self.check_writable()?;
        self.fd(Kind::Write)?.allocate(mode, offset, len)
    }

    /// fsync reaches the host disk: through the fd the data went through.
    fn sync(&self) -> KResult<()> {
        let written = self.fds.lock().write.clone();
        match written {
            Some(fd) => fd.sync(false),
            None if matches!(self.ftype, S_IFREG | S_IFDIR) => self.read_fd()?.sync(false),
            None => Ok(()),
        }
    }

    /// Opening asks the host now, so its refusals (permissions, a busy
    /// executable, a read-only host filesystem) show at open.
    fn open(&self, flags: u32) -> KResult<Option<Arc<dyn FileOps>>> {
        match self.ftype {
            S_IFREG => {
                let acc = flags & O_ACCMODE;
                if acc == O_WRONLY || acc == O_RDWR {
                    self.check_writable()?;
                    self.fd(Kind::Write)?;
                }
                if acc == O_RDONLY || acc == O_RDWR {
                    self.read_fd()?;
                }
            }
            S_IFDIR => {
                self.read_fd()?;
            }
            _ => {}
        }
        Ok(None)
    }

    /// Read-only mappings share the cached read fd; those that may write
    /// share an O_RDWR fd of their own (the cached write fd may be
    /// O_WRONLY).
    fn host_file(&self, write: bool) -> KResult<Option<crate::platform::HostFile>> {
        if self.ftype != S_IFREG {
            return Ok(None);
        }
        let fd = if write {
            self.check_writable()?;
            self.map_fd.get_or_open(|| self.open_fresh(OpenAs::ReadWrite))?
        } else {
            self.read_fd()?
        };
        Ok(Some(crate::platform::HostFile(fd)))
    }

    fn getxattr(&self, name: &[u8]) -> KResult<Vec<u8>> {
        self.fd(Kind::Path)?.getxattr(&host::cstring(name)?)
    }

    fn setxattr(&self, name: &[u8], value: &[u8], flags: u32) -> KResult<()> {
        self.check_writable()?;
        self.fd(Kind::Path)?.setxattr(&host::cstring(name)?, value, flags)
    }

    fn listxattr(&self) -> KResult<Vec<Vec<u8>>> {
        self.fd(Kind::Path)?.listxattr()
    }

    fn removexattr(&self, name: &[u8]) -> KResult<()> {
        self.check_writable()?;
        self.fd(Kind::Path)?.removexattr(&host::cstring(name)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(tag: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("vk-share-test-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("share/d")).unwrap();
        std::fs::create_dir_all(dir.join("outside")).unwrap();
        dir
    }

    #[test]
    fn changes_reach_the_host_and_metadata_is_fresh() {
        let dir = tree("rw");
        let root = ShareFs::new_root(&dir.join("share"), true).unwrap();
        let f = root.create(b"f", S_IFREG | 0o600, 0, 0, 0).unwrap();
        assert_eq!(f.write_at(0, b"hello").unwrap(), 5);
        assert_eq!(std::fs::read(dir.join("share/f")).unwrap(), b"hello");
        std::fs::write(dir.join("share/f"), b"host wrote more").unwrap();
        assert_eq!(f.metadata().unwrap().size, 15);
        let d = root.lookup(b"d").unwrap();
        root.rename(b"f", &d, b"g", 0).unwrap();
        assert!(dir.join("share/d/g").exists());
        assert_eq!(root.create(b"dev", crate::abi::stat::S_IFCHR | 0o600, 0, 0, 0).err(), Some(Errno::EPERM));
        let ro = ShareFs::new_root(&dir.join("share"), false).unwrap();
        assert_eq!(ro.create(b"x", S_IFREG | 0o600, 0, 0, 0).err(), Some(Errno::EROFS));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_host_symlink_is_a_symlink_and_a_swapped_directory_keeps_writes_inside() {
        let dir = tree("swap");
        let root = ShareFs::new_root(&dir.join("share"), true).unwrap();
        std::os::unix::fs::symlink(dir.join("outside"), dir.join("share/link")).unwrap();
        let link = root.lookup(b"link").unwrap();
        assert_eq!(link.metadata().unwrap().mode & S_IFMT, S_IFLNK);
        assert_eq!(link.lookup(b"x").err(), Some(Errno::ENOTDIR));
        assert_eq!(link.create(b"x", S_IFREG | 0o644, 0, 0, 0).err(), Some(Errno::ENOTDIR));
        assert_eq!(root.lookup(b"..").err(), Some(Errno::ENOENT));
        // The host swaps d for a symlink after the guest looked d up: the
        // guest's d is still the directory (now d.old), inside the share.
        let d = root.lookup(b"d").unwrap();
        std::fs::rename(dir.join("share/d"), dir.join("share/d.old")).unwrap();
        std::os::unix::fs::symlink(dir.join("outside"), dir.join("share/d")).unwrap();
        d.create(b"f", S_IFREG | 0o644, 0, 0, 0).unwrap();
        assert!(dir.join("share/d.old/f").exists());
        assert_eq!(std::fs::read_dir(dir.join("outside")).unwrap().count(), 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
