//! hostfs: a read-only view of a host directory (the `--root` tree).
//! vkernel opens host files itself, relative to one O_PATH fd on the root
//! and never following host symlinks (the VFS walk resolves guest symlinks
//! itself); metadata, dev and ino are the host's, so `stat` and `ls -i`
//! match a native run. Any change is EROFS. Data fds are opened lazily,
//! cached per inode within a global budget, and closed when the inode drops.

use parking_lot::Mutex;
use std::any::Any;
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::abi::limits::PATH_MAX;
use crate::abi::stat::{S_IFDIR, S_IFLNK, S_IFMT, S_IFREG};
use crate::abi::statfs::ST_RDONLY;
use crate::abi::{Errno, KResult, StatFs, Timespec};
use crate::fs::inode::{DirEntry, Inode, InodeRef, Metadata, SetAttr};
use crate::fs::make_dev;

/// Host fds kept open across calls, over all hostfs inodes; past this,
/// each operation opens and closes its own.
const CACHED_FD_BUDGET: usize = 256;
static CACHED_FDS: AtomicUsize = AtomicUsize::new(0);

/// Inode numbers for directories vkernel supplies where the host tree has
/// none (mount points such as /tmp, /dev and /proc under a bare root).
const SYNTHETIC_INO_BASE: u64 = 0xffff_ff00_0000_0000;

pub struct HostFs {
    root: OwnedFd,
    /// Names at the root that read as empty directories when missing on the host.
    synthetic: Vec<Vec<u8>>,
    root_md: Metadata,
}

pub struct HostInode {
    fs: Arc<HostFs>,
    /// Path relative to the root fd ("." for the root itself).
    rel: CString,
    md: Metadata,
    synthetic: bool,
    fd: Mutex<Option<OwnedFd>>,
}

fn host_err() -> Errno {
    Errno::last_host()
}

fn cstring(bytes: &[u8]) -> KResult<CString> {
    CString::new(bytes).map_err(|_| Errno::EINVAL)
}

fn ts(sec: i64, nsec: i64) -> Timespec {
    Timespec { tv_sec: sec, tv_nsec: nsec }
}

fn metadata_of(st: &libc::stat) -> Metadata {
    // The host's dev_t is glibc's encoding, which equals Linux's new_encode_dev.
    let dev = make_dev(libc::major(st.st_dev), libc::minor(st.st_dev));
    let rdev = make_dev(libc::major(st.st_rdev), libc::minor(st.st_rdev));
    Metadata {
        dev,
        ino: st.st_ino,
        mode: st.st_mode,
        nlink: st.st_nlink,
        uid: st.st_uid,
        gid: st.st_gid,
        rdev,
        size: st.st_size as u64,
        blksize: st.st_blksize as u64,
        blocks: st.st_blocks as u64,
        atime: ts(st.st_atime, st.st_atime_nsec),
        mtime: ts(st.st_mtime, st.st_mtime_nsec),
        ctime: ts(st.st_ctime, st.st_ctime_nsec),
    }
}

/// `fstatat(dirfd, path, AT_SYMLINK_NOFOLLOW)` on the host.
fn host_lstat(dirfd: i32, path: &CString) -> KResult<Metadata> {
    // SAFETY: a zeroed stat is a valid out-buffer.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: path is NUL-terminated; st is a live out-buffer.
    let r = unsafe { libc::fstatat(dirfd, path.as_ptr(), &mut st, libc::AT_SYMLINK_NOFOLLOW | libc::AT_EMPTY_PATH) };
    if r < 0 {
        return Err(host_err());
    }
    Ok(metadata_of(&st))
}

fn host_openat(dirfd: i32, path: &CString, flags: i32) -> KResult<OwnedFd> {
    loop {
        // SAFETY: path is NUL-terminated; the result is a new fd we own.
        let fd = unsafe { libc::openat(dirfd, path.as_ptr(), flags | libc::O_CLOEXEC | libc::O_NOFOLLOW | libc::O_NOCTTY) };
        if fd >= 0 {
            // SAFETY: fd was just returned by openat and is owned by no one else.
            return Ok(unsafe { OwnedFd::from_raw_fd(fd) });
        }
        let e = host_err();
        if e != Errno::EINTR {
            return Err(e);
        }
    }
}

/// The host `statfs` of an open fd, in the guest's layout.
pub fn host_fstatfs(fd: i32) -> KResult<StatFs> {
    // SAFETY: a zeroed statfs is a valid out-buffer.
    let mut sf: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: fd is ours; sf is a live out-buffer.
    if unsafe { libc::fstatfs(fd, &mut sf) } < 0 {
        return Err(host_err());
    }
    const _: () = assert!(size_of::<libc::statfs>() == size_of::<StatFs>());
    // SAFETY: both are the kernel's 120-byte x86-64 struct statfs of plain
    // integers, and StatFs is Pod.
    Ok(unsafe { std::mem::transmute::<libc::statfs, StatFs>(sf) })
}

impl HostFs {
    /// Opens `dir` as the root of a read-only view. `synthetic` names are
    /// root entries that appear as empty directories if the host lacks them.
    pub fn new_root(dir: &std::path::Path, synthetic: &[&str]) -> Result<InodeRef, String> {
        use std::os::unix::ffi::OsStrExt;
        let path = cstring(dir.as_os_str().as_bytes()).map_err(|_| format!("root directory {} has a NUL byte in its name", dir.display()))?;
        let root = host_openat(libc::AT_FDCWD, &path, libc::O_PATH | libc::O_DIRECTORY)
            .map_err(|e| format!("cannot open root directory {}: {} (give an existing directory with --root)", dir.display(), e))?;
        let dot = cstring(b".").map_err(|e| e.to_string())?;
        let root_md = host_lstat(root.as_raw_fd(), &dot).map_err(|e| format!("cannot stat root directory {}: {e}", dir.display()))?;
        let fs = Arc::new(HostFs { root, synthetic: synthetic.iter().map(|s| s.as_bytes().to_vec()).collect(), root_md });
        Ok(Arc::new(HostInode { rel: dot, md: fs.root_md, fs, synthetic: false, fd: Mutex::new(None) }))
    }
}

/// A host fd for one operation: the inode's cached one or a transient one.
enum FdGuard<'a> {
    Cached(parking_lot::MutexGuard<'a, Option<OwnedFd>>),
    Transient(OwnedFd),
}

impl FdGuard<'_> {
    fn raw(&self) -> i32 {
        match self {
            FdGuard::Cached(g) => g.as_ref().map(|f| f.as_raw_fd()).unwrap_or(-1),
            FdGuard::Transient(f) => f.as_raw_fd(),
        }
    }
}

impl HostInode {
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

    /// The inode's host fd, opened for reading on first use. Holding the
    /// guard serializes users of the fd (lseek + getdents must not interleave).
    fn fd(&self) -> KResult<FdGuard<'_>> {
        let mut g = self.fd.lock();
        if g.is_some() {
            return Ok(FdGuard::Cached(g));
        }
        let flags = if self.md.is_dir() { libc::O_RDONLY | libc::O_DIRECTORY } else { libc::O_RDONLY };
        let fd = host_openat(self.fs.root.as_raw_fd(), &self.rel, flags)?;
        if CACHED_FDS.fetch_add(1, Ordering::Relaxed) < CACHED_FD_BUDGET {
            *g = Some(fd);
            Ok(FdGuard::Cached(g))
        } else {
            CACHED_FDS.fetch_sub(1, Ordering::Relaxed);
            Ok(FdGuard::Transient(fd))
        }
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
        let mut sf = host_fstatfs(self.fs.root.as_raw_fd())?;
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
        match host_lstat(self.fs.root.as_raw_fd(), &rel) {
            Ok(md) => Ok(Arc::new(HostInode { fs: self.fs.clone(), rel, md, synthetic: false, fd: Mutex::new(None) })),
            Err(Errno::ENOENT) if self.is_root() => {
                let i = self.fs.synthetic.iter().position(|s| s == name).ok_or(Errno::ENOENT)?;
                let md =
                    Metadata { mode: S_IFDIR | 0o755, nlink: 2, uid: 0, gid: 0, ino: SYNTHETIC_INO_BASE + i as u64, size: 0, blocks: 0, ..self.fs.root_md };
                Ok(Arc::new(HostInode { fs: self.fs.clone(), rel, md, synthetic: true, fd: Mutex::new(None) }))
            }
            Err(e) => Err(e),
        }
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
        let raw = fd.raw();
        // SAFETY: lseek on our own directory fd; the guard serializes it.
        if unsafe { libc::lseek(raw, offset as i64, libc::SEEK_SET) } < 0 {
            return Err(host_err());
        }
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            // SAFETY: getdents64 into a live buffer of the given length.
            let n = unsafe { libc::syscall(libc::SYS_getdents64, raw, buf.as_mut_ptr(), buf.len()) };
            if n < 0 {
                return Err(host_err());
            }
            if n == 0 {
                return Ok(());
            }
            let mut off = 0usize;
            while off + 19 <= n as usize {
                let rec = &buf[off..n as usize];
                let ino = u64::from_ne_bytes(rec[0..8].try_into().unwrap_or_default());
                let next = i64::from_ne_bytes(rec[8..16].try_into().unwrap_or_default()) as u64;
                let reclen = u16::from_ne_bytes(rec[16..18].try_into().unwrap_or_default()) as usize;
                let dtype = rec[18];
                if reclen < 19 || reclen > rec.len() {
                    return Err(Errno::EIO);
                }
                let name_area = &rec[19..reclen];
                let name = &name_area[..name_area.iter().position(|&c| c == 0).unwrap_or(name_area.len())];
                if !sink(DirEntry { ino, dtype, name, next_offset: next }) {
                    return Ok(());
                }
                off += reclen;
            }
        }
    }

    fn readlink(&self) -> KResult<Vec<u8>> {
        if self.md.mode & S_IFMT != S_IFLNK {
            return Err(Errno::EINVAL);
        }
        let mut buf = vec![0u8; PATH_MAX];
        // SAFETY: rel is NUL-terminated; buf is a live buffer of its length.
        let n = unsafe { libc::readlinkat(self.fs.root.as_raw_fd(), self.rel.as_ptr(), buf.as_mut_ptr() as *mut libc::c_char, buf.len()) };
        if n < 0 {
            return Err(host_err());
        }
        buf.truncate(n as usize);
        Ok(buf)
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> KResult<usize> {
        match self.md.mode & S_IFMT {
            S_IFREG => {}
            S_IFDIR => return Err(Errno::EISDIR),
            _ => return Err(Errno::EINVAL),
        }
        if offset > i64::MAX as u64 {
            return Ok(0);
        }
        let fd = self.fd()?;
        loop {
            // SAFETY: pread into a live buffer from our own fd.
            let n = unsafe { libc::pread(fd.raw(), buf.as_mut_ptr() as *mut libc::c_void, buf.len(), offset as i64) };
            if n >= 0 {
                return Ok(n as usize);
            }
            let e = host_err();
            if e != Errno::EINTR {
                return Err(e);
            }
        }
    }

    /// Opening checks the host's own permission now (ACLs, capabilities),
    /// so a refusal shows at open as it would natively.
    fn open(&self, _flags: u32) -> KResult<Option<Arc<dyn crate::fs::file::FileOps>>> {
        if matches!(self.md.mode & S_IFMT, S_IFREG | S_IFDIR) && !self.synthetic {
            drop(self.fd()?);
        }
        Ok(None)
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
}
