//! Host files and directories, reached only relative to directory fds vkernel
//! holds itself, never following host symlinks (the guest's VFS resolves
//! symlinks in the guest's namespace). Used by hostfs for the read-only
//! root and by share for host directory shares: `open_beneath` resolves a
//! path below a root fd so that no host symlink, `..` or rename race leads
//! outside it. Every host error becomes an `Errno` here.

use std::ffi::{CStr, CString};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use crate::abi::{Errno, KResult, StatFs, Timespec};

/// What `fstatat` tells about a host object, with device numbers split.
#[derive(Clone, Copy, Debug)]
pub struct HostStat {
    pub dev: (u32, u32),
    pub ino: u64,
    pub mode: u32,
    pub nlink: u64,
    pub uid: u32,
    pub gid: u32,
    pub rdev: (u32, u32),
    pub size: u64,
    pub blksize: u64,
    pub blocks: u64,
    pub atime: Timespec,
    pub mtime: Timespec,
    pub ctime: Timespec,
}

fn stat_of(st: &libc::stat) -> HostStat {
    let ts = |sec: i64, nsec: i64| Timespec { tv_sec: sec, tv_nsec: nsec };
    HostStat {
        dev: (libc::major(st.st_dev), libc::minor(st.st_dev)),
        ino: st.st_ino,
        mode: st.st_mode,
        nlink: st.st_nlink,
        uid: st.st_uid,
        gid: st.st_gid,
        rdev: (libc::major(st.st_rdev), libc::minor(st.st_rdev)),
        size: st.st_size as u64,
        blksize: st.st_blksize as u64,
        blocks: st.st_blocks as u64,
        atime: ts(st.st_atime, st.st_atime_nsec),
        mtime: ts(st.st_mtime, st.st_mtime_nsec),
        ctime: ts(st.st_ctime, st.st_ctime_nsec),
    }
}

/// How a host object is opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenAs {
    /// An O_PATH handle on a directory (a root to open things under).
    PathDirectory,
    /// Read-only data or directory listing.
    Read,
    ReadDirectory,
    /// An O_PATH handle on any object (a symlink itself, not its target).
    Path,
    /// Data for reading and writing, or writing only, or appending.
    ReadWrite,
    Write,
    Append,
}

impl OpenAs {
    fn flags(self) -> i32 {
        match self {
            OpenAs::PathDirectory => libc::O_PATH | libc::O_DIRECTORY,
            OpenAs::Read => libc::O_RDONLY,
            OpenAs::ReadDirectory => libc::O_RDONLY | libc::O_DIRECTORY,
            OpenAs::Path => libc::O_PATH,
            OpenAs::ReadWrite => libc::O_RDWR,
            OpenAs::Write => libc::O_WRONLY,
            OpenAs::Append => libc::O_WRONLY | libc::O_APPEND,
        }
    }
}

/// A host fd vkernel owns.
pub struct HostFd(OwnedFd);

/// An fd opened when first asked for and shared while anyone holds it
/// (the fd an inode's shared mappings map).
#[derive(Default)]
pub struct SharedFd(parking_lot::Mutex<std::sync::Weak<HostFd>>);

impl SharedFd {
    pub fn get_or_open(&self, open: impl FnOnce() -> KResult<HostFd>) -> KResult<std::sync::Arc<HostFd>> {
        let mut held = self.0.lock();
        if let Some(fd) = held.upgrade() {
            return Ok(fd);
        }
        let fd = std::sync::Arc::new(open()?);
        *held = std::sync::Arc::downgrade(&fd);
        Ok(fd)
    }
}

/// Repeats a host call interrupted by a host signal (vkernel's own kick
/// signal can land on any thread).
fn retry(mut f: impl FnMut() -> isize) -> KResult<usize> {
    loop {
        let r = f();
        if r >= 0 {
            return Ok(r as usize);
        }
        let e = Errno::last_host();
        if e != Errno::EINTR {
            return Err(e);
        }
    }
}

pub fn cstring(bytes: &[u8]) -> KResult<CString> {
    CString::new(bytes).map_err(|_| Errno::EINVAL)
}

impl HostFd {
    /// Opens a host path given on vkernel's command line (follows symlinks,
    /// as the user's shell would).
    pub fn open_path(path: &[u8], how: OpenAs) -> KResult<HostFd> {
        let p = cstring(path)?;
        let fd = retry(|| {
            // SAFETY: p is NUL-terminated; the result is a new fd we own.
            unsafe { libc::open(p.as_ptr(), how.flags() | libc::O_CLOEXEC | libc::O_NOCTTY) as isize }
        })?;
        // SAFETY: fd was just returned by open and is owned by no one else.
        Ok(HostFd(unsafe { OwnedFd::from_raw_fd(fd as i32) }))
    }

    /// Opens `rel` under this directory, never following a final symlink.
    pub fn open_at(&self, rel: &CStr, how: OpenAs) -> KResult<HostFd> {
        let fd = retry(|| {
            // SAFETY: rel is NUL-terminated; the result is a new fd we own.
            unsafe { libc::openat(self.raw(), rel.as_ptr(), how.flags() | libc::O_CLOEXEC | libc::O_NOFOLLOW | libc::O_NOCTTY) as isize }
        })?;
        // SAFETY: fd was just returned by openat and is owned by no one else.
        Ok(HostFd(unsafe { OwnedFd::from_raw_fd(fd as i32) }))
    }

    pub fn raw(&self) -> i32 {
        self.0.as_raw_fd()
    }

    /// `fstatat(self, rel, AT_SYMLINK_NOFOLLOW)`; "" or "." is the fd itself.
    pub fn lstat_at(&self, rel: &CStr) -> KResult<HostStat> {
        // SAFETY: a zeroed stat is a valid out-buffer.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: rel is NUL-terminated; st is a live out-buffer.
        let r = unsafe { libc::fstatat(self.raw(), rel.as_ptr(), &mut st, libc::AT_SYMLINK_NOFOLLOW | libc::AT_EMPTY_PATH) };
        if r < 0 {
            return Err(Errno::last_host());
        }
        Ok(stat_of(&st))
    }

    pub fn statfs(&self) -> KResult<StatFs> {
        fstatfs(self.raw())
    }

    /// The target of symlink `rel` under this directory.
    pub fn readlink_at(&self, rel: &CStr) -> KResult<Vec<u8>> {
        let mut buf = vec![0u8; 4096];
        // SAFETY: rel is NUL-terminated; buf is a live buffer of its length.
        let n = unsafe { libc::readlinkat(self.raw(), rel.as_ptr(), buf.as_mut_ptr() as *mut libc::c_char, buf.len()) };
        if n < 0 {
            return Err(Errno::last_host());
        }
        buf.truncate(n as usize);
        Ok(buf)
    }

    pub fn pread(&self, buf: &mut [u8], offset: u64) -> KResult<usize> {
        if offset > i64::MAX as u64 {
            return Ok(0);
        }
        // SAFETY: pread into a live buffer from our own fd.
        retry(|| unsafe { libc::pread(self.raw(), buf.as_mut_ptr() as *mut libc::c_void, buf.len(), offset as i64) })
    }

    /// Lists a directory fd from `offset` (a host cookie), calling `sink`
    /// with (ino, next cookie, d_type, name) until it returns false.
    /// The caller serializes users of the fd (the position is shared).
    pub fn read_dir_from(&self, offset: u64, sink: &mut dyn FnMut(u64, u64, u8, &[u8]) -> bool) -> KResult<()> {
        // SAFETY: lseek on our own directory fd.
        if unsafe { libc::lseek(self.raw(), offset as i64, libc::SEEK_SET) } < 0 {
            return Err(Errno::last_host());
        }
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            // SAFETY: getdents64 into a live buffer of the given length.
            let n = retry(|| unsafe { libc::syscall(libc::SYS_getdents64, self.raw(), buf.as_mut_ptr(), buf.len()) as isize })?;
            if n == 0 {
                return Ok(());
            }
            let mut off = 0usize;
            while off + 19 <= n {
                let rec = &buf[off..n];
                let word = |at: usize| u64::from_ne_bytes(rec[at..at + 8].try_into().unwrap_or_default());
                let (ino, next) = (word(0), word(8));
                let reclen = u16::from_ne_bytes([rec[16], rec[17]]) as usize;
                let dtype = rec[18];
                if reclen < 19 || reclen > rec.len() {
                    return Err(Errno::EIO);
                }
                let name_area = &rec[19..reclen];
                let name = &name_area[..name_area.iter().position(|&c| c == 0).unwrap_or(name_area.len())];
                if !sink(ino, next, dtype, name) {
                    return Ok(());
                }
                off += reclen;
            }
        }
    }
}

/// The host `statfs` of an open fd, in the guest's layout.
pub fn fstatfs(fd: i32) -> KResult<StatFs> {
    // SAFETY: a zeroed statfs is a valid out-buffer.
    let mut sf: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: sf is a live out-buffer; a bad fd is only an error.
    if unsafe { libc::fstatfs(fd, &mut sf) } < 0 {
        return Err(Errno::last_host());
    }
    const _: () = assert!(size_of::<libc::statfs>() == size_of::<StatFs>());
    // SAFETY: both are the kernel's 120-byte x86-64 struct statfs of plain
    // integers, and StatFs accepts any bit pattern.
    Ok(unsafe { std::mem::transmute::<libc::statfs, StatFs>(sf) })
}

/// `fstat` of one of vkernel's own fds.
pub fn fstat(fd: i32) -> KResult<HostStat> {
    // SAFETY: a zeroed stat is a valid out-buffer.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: fstat into a live out-buffer; a bad fd is only an error.
    if unsafe { libc::fstat(fd, &mut st) } < 0 {
        return Err(Errno::last_host());
    }
    Ok(stat_of(&st))
}

/// Turns a host call's -1 into the host's errno.
fn check(r: libc::c_int) -> KResult<()> {
    if r < 0 { Err(Errno::last_host()) } else { Ok(()) }
}

/// openat2's argument (Linux: include/uapi/linux/openat2.h).
#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

/// Whether openat2(2) works here (Linux 5.6 and later, and no seccomp
/// filter refusing it); probed once, on the first use.
fn have_openat2() -> bool {
    static HAVE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *HAVE.get_or_init(|| {
        let how = OpenHow { flags: (libc::O_PATH | libc::O_CLOEXEC) as u64, mode: 0, resolve: 0 };
        // SAFETY: "/" is NUL-terminated and `how` is a live open_how of the size passed.
        let fd = unsafe { libc::syscall(libc::SYS_openat2, libc::AT_FDCWD, c"/".as_ptr(), &how, size_of::<OpenHow>()) };
        if fd < 0 {
            return false;
        }
        // SAFETY: fd was just returned to us and is closed once.
        unsafe { libc::close(fd as i32) };
        true
    })
}

/// A NUL-terminated path to `/proc/self/fd/N`: path-based calls on it act
/// on the object an O_PATH fd holds (a symlink itself, never its target).
fn proc_fd_path(fd: i32) -> CString {
    CString::new(format!("/proc/self/fd/{fd}")).unwrap_or_default()
}

/// Reads a variable-sized answer (an xattr value or name list): asks for
/// the size, then reads, again if it grew meanwhile.
fn sized_read(mut call: impl FnMut(*mut libc::c_void, usize) -> isize) -> KResult<Vec<u8>> {
    loop {
        let n = retry(|| call(std::ptr::null_mut(), 0))?;
        let mut buf = vec![0u8; n];
        match retry(|| call(buf.as_mut_ptr() as *mut libc::c_void, buf.len())) {
            Ok(m) => {
                buf.truncate(m);
                return Ok(buf);
            }
            Err(Errno::ERANGE) => continue,
            Err(e) => return Err(e),
        }
    }
}

impl HostFd {
    fn owned(fd: usize) -> HostFd {
        // SAFETY: fd was just returned by an open call and is owned by no one else.
        HostFd(unsafe { OwnedFd::from_raw_fd(fd as i32) })
    }

    /// Opens `rel` below this directory ("a/b/c", no "..") so that the result
    /// is inside it whatever happens meanwhile: no symlink is followed on
    /// the way or at the end, no `..`, no magic link. openat2 with
    /// RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS where the host has it, else one
    /// O_NOFOLLOW step per component. A symlink met is ELOOP (or ENOTDIR),
    /// except that `OpenAs::Path` opens a final symlink itself.
    pub fn open_beneath(&self, rel: &CStr, how: OpenAs) -> KResult<HostFd> {
        let bytes = rel.to_bytes();
        if bytes.first() == Some(&b'/') || bytes.split(|&c| c == b'/').any(|c| c == b"..") {
            return Err(Errno::EXDEV);
        }
        let mut flags = how.flags() | libc::O_CLOEXEC | libc::O_NOFOLLOW;
        // openat2 refuses flags O_PATH ignores.
        if flags & libc::O_PATH == 0 {
            flags |= libc::O_NOCTTY;
        }
        if have_openat2() {
            let open_how = OpenHow { flags: flags as u64, mode: 0, resolve: libc::RESOLVE_BENEATH | libc::RESOLVE_NO_SYMLINKS | libc::RESOLVE_NO_MAGICLINKS };
            let mut tries = 0;
            loop {
                // SAFETY: rel is NUL-terminated, open_how is live and of the size passed; the result is a new fd we own.
                let r = unsafe { libc::syscall(libc::SYS_openat2, self.raw(), rel.as_ptr(), &open_how, size_of::<OpenHow>()) };
                if r >= 0 {
                    return Ok(HostFd::owned(r as usize));
                }
                let e = Errno::last_host();
                // EAGAIN: the kernel saw a rename race it would not resolve.
                if e == Errno::EINTR || (e == Errno::EAGAIN && tries < 16) {
                    tries += 1;
                    continue;
                }
                return Err(e);
            }
        }
        self.open_stepwise(rel, how)
    }

    /// `open_beneath` without openat2: one O_NOFOLLOW step per component.
    fn open_stepwise(&self, rel: &CStr, how: OpenAs) -> KResult<HostFd> {
        let bytes = rel.to_bytes();
        let parts: Vec<&[u8]> = bytes.split(|&c| c == b'/').filter(|c| !c.is_empty() && *c != b".").collect();
        let Some((last, dirs)) = parts.split_last() else {
            return self.open_at(c".", how);
        };
        let mut dir: Option<HostFd> = None;
        for comp in dirs {
            let name = cstring(comp)?;
            let at = dir.as_ref().unwrap_or(self);
            dir = Some(at.open_at(&name, OpenAs::PathDirectory)?);
        }
        let name = cstring(last)?;
        dir.as_ref().unwrap_or(self).open_at(&name, how)
    }

    /// Creates and opens a regular file `name` in this directory
    /// (O_CREAT|O_EXCL: never an existing file, never through a symlink).
    pub fn create_at(&self, name: &CStr, how: OpenAs, mode: u32) -> KResult<HostFd> {
        let flags = how.flags() | libc::O_CREAT | libc::O_EXCL | libc::O_CLOEXEC | libc::O_NOFOLLOW | libc::O_NOCTTY;
        let fd = retry(|| {
            // SAFETY: name is NUL-terminated; the result is a new fd we own.
            unsafe { libc::openat(self.raw(), name.as_ptr(), flags, mode as libc::c_uint) as isize }
        })?;
        Ok(HostFd::owned(fd))
    }

    pub fn mkdir_at(&self, name: &CStr, mode: u32) -> KResult<()> {
        // SAFETY: name is NUL-terminated.
        check(unsafe { libc::mkdirat(self.raw(), name.as_ptr(), mode) })
    }

    /// mknodat for FIFOs and sockets (the only nodes a share creates).
    pub fn mknod_at(&self, name: &CStr, mode: u32) -> KResult<()> {
        // SAFETY: name is NUL-terminated; dev 0 is no device.
        check(unsafe { libc::mknodat(self.raw(), name.as_ptr(), mode, 0) })
    }

    pub fn symlink_at(&self, target: &CStr, name: &CStr) -> KResult<()> {
        // SAFETY: both are NUL-terminated; the target is only stored.
        check(unsafe { libc::symlinkat(target.as_ptr(), self.raw(), name.as_ptr()) })
    }

    /// unlinkat; `dir` removes an empty directory (AT_REMOVEDIR).
    pub fn unlink_at(&self, name: &CStr, dir: bool) -> KResult<()> {
        // SAFETY: name is NUL-terminated.
        check(unsafe { libc::unlinkat(self.raw(), name.as_ptr(), if dir { libc::AT_REMOVEDIR } else { 0 }) })
    }

    /// A hard link `new_dir/new_name` to the object this fd holds (through
    /// /proc/self/fd, which needs no capability, unlike AT_EMPTY_PATH).
    pub fn link_into(&self, new_dir: &HostFd, new_name: &CStr) -> KResult<()> {
        let p = proc_fd_path(self.raw());
        // SAFETY: both paths are NUL-terminated.
        check(unsafe { libc::linkat(libc::AT_FDCWD, p.as_ptr(), new_dir.raw(), new_name.as_ptr(), libc::AT_SYMLINK_FOLLOW) })
    }

    /// renameat2 with RENAME_NOREPLACE / RENAME_EXCHANGE flags.
    pub fn rename_at(&self, old_name: &CStr, new_dir: &HostFd, new_name: &CStr, flags: u32) -> KResult<()> {
        // SAFETY: both names are NUL-terminated.
        let r = unsafe { libc::syscall(libc::SYS_renameat2, self.raw(), old_name.as_ptr(), new_dir.raw(), new_name.as_ptr(), flags) };
        check(r as libc::c_int)
    }

    /// fchmod, or chmod through /proc/self/fd for an O_PATH handle.
    pub fn chmod(&self, mode: u32) -> KResult<()> {
        // SAFETY: fchmod on our own fd.
        match check(unsafe { libc::fchmod(self.raw(), mode) }) {
            Err(Errno::EBADF) => {
                let p = proc_fd_path(self.raw());
                // SAFETY: p is NUL-terminated.
                check(unsafe { libc::fchmodat(libc::AT_FDCWD, p.as_ptr(), mode, 0) })
            }
            r => r,
        }
    }

    /// fchownat(fd, "", AT_EMPTY_PATH): the object itself, even a symlink.
    pub fn chown(&self, uid: Option<u32>, gid: Option<u32>) -> KResult<()> {
        let (u, g) = (uid.unwrap_or(u32::MAX), gid.unwrap_or(u32::MAX));
        // SAFETY: the empty path is NUL-terminated; AT_EMPTY_PATH acts on the fd.
        check(unsafe { libc::fchownat(self.raw(), c"".as_ptr(), u, g, libc::AT_EMPTY_PATH) })
    }

    /// futimens with `None` left alone, or utimensat through /proc/self/fd
    /// for an O_PATH handle.
    pub fn set_times(&self, atime: Option<Timespec>, mtime: Option<Timespec>) -> KResult<()> {
        let ts = |t: Option<Timespec>| match t {
            Some(t) => libc::timespec { tv_sec: t.tv_sec, tv_nsec: t.tv_nsec },
            None => libc::timespec { tv_sec: 0, tv_nsec: libc::UTIME_OMIT },
        };
        let times = [ts(atime), ts(mtime)];
        // SAFETY: times is a live array of two timespecs.
        match check(unsafe { libc::futimens(self.raw(), times.as_ptr()) }) {
            Err(Errno::EBADF) => {
                let p = proc_fd_path(self.raw());
                // SAFETY: p is NUL-terminated; times is live.
                check(unsafe { libc::utimensat(libc::AT_FDCWD, p.as_ptr(), times.as_ptr(), 0) })
            }
            r => r,
        }
    }

    pub fn truncate(&self, len: u64) -> KResult<()> {
        let len = i64::try_from(len).map_err(|_| Errno::EFBIG)?;
        // SAFETY: ftruncate on our own fd.
        retry(|| unsafe { libc::ftruncate(self.raw(), len) as isize }).map(|_| ())
    }

    pub fn pwrite(&self, buf: &[u8], offset: u64) -> KResult<usize> {
        let offset = i64::try_from(offset).map_err(|_| Errno::EFBIG)?;
        // SAFETY: pwrite from a live buffer to our own fd.
        retry(|| unsafe { libc::pwrite(self.raw(), buf.as_ptr() as *const libc::c_void, buf.len(), offset) })
    }

    /// fsync, or fdatasync with `data_only`.
    pub fn sync(&self, data_only: bool) -> KResult<()> {
        // SAFETY: fsync/fdatasync on our own fd.
        retry(|| unsafe { (if data_only { libc::fdatasync(self.raw()) } else { libc::fsync(self.raw()) }) as isize }).map(|_| ())
    }

    pub fn allocate(&self, mode: u32, offset: u64, len: u64) -> KResult<()> {
        let (offset, len) = (i64::try_from(offset).map_err(|_| Errno::EFBIG)?, i64::try_from(len).map_err(|_| Errno::EFBIG)?);
        // SAFETY: fallocate on our own fd.
        retry(|| unsafe { libc::fallocate(self.raw(), mode as i32, offset, len) as isize }).map(|_| ())
    }

    /// The value of xattr `name` of the object this fd holds.
    pub fn getxattr(&self, name: &CStr) -> KResult<Vec<u8>> {
        let fd = self.raw();
        // SAFETY: name is NUL-terminated; the buffer is live for its length (or null with 0).
        match sized_read(|buf, len| unsafe { libc::fgetxattr(fd, name.as_ptr(), buf, len) }) {
            Err(Errno::EBADF) => {
                let p = proc_fd_path(fd);
                // SAFETY: as above, on the /proc path of the same object.
                sized_read(|buf, len| unsafe { libc::getxattr(p.as_ptr(), name.as_ptr(), buf, len) })
            }
            r => r,
        }
    }

    /// The names of the object's xattrs.
    pub fn listxattr(&self) -> KResult<Vec<Vec<u8>>> {
        let fd = self.raw();
        // SAFETY: the buffer is live for its length (or null with 0).
        let list = match sized_read(|buf, len| unsafe { libc::flistxattr(fd, buf as *mut libc::c_char, len) }) {
            Err(Errno::EBADF) => {
                let p = proc_fd_path(fd);
                // SAFETY: as above, on the /proc path of the same object.
                sized_read(|buf, len| unsafe { libc::listxattr(p.as_ptr(), buf as *mut libc::c_char, len) })?
            }
            r => r?,
        };
        Ok(list.split(|&c| c == 0).filter(|n| !n.is_empty()).map(|n| n.to_vec()).collect())
    }

    pub fn setxattr(&self, name: &CStr, value: &[u8], flags: u32) -> KResult<()> {
        let (v, n, f) = (value.as_ptr() as *const libc::c_void, value.len(), flags as i32);
        // SAFETY: name is NUL-terminated and value live for its length.
        match check(unsafe { libc::fsetxattr(self.raw(), name.as_ptr(), v, n, f) }) {
            Err(Errno::EBADF) => {
                let p = proc_fd_path(self.raw());
                // SAFETY: as above, on the /proc path of the same object.
                check(unsafe { libc::setxattr(p.as_ptr(), name.as_ptr(), v, n, f) })
            }
            r => r,
        }
    }

    pub fn removexattr(&self, name: &CStr) -> KResult<()> {
        // SAFETY: name is NUL-terminated.
        match check(unsafe { libc::fremovexattr(self.raw(), name.as_ptr()) }) {
            Err(Errno::EBADF) => {
                let p = proc_fd_path(self.raw());
                // SAFETY: as above, on the /proc path of the same object.
                check(unsafe { libc::removexattr(p.as_ptr(), name.as_ptr()) })
            }
            r => r,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_beneath_refuses_symlinks_and_dot_dot_both_ways() {
        let dir = std::env::temp_dir().join(format!("vk-files-test-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("a/b")).unwrap();
        std::fs::write(dir.join("a/b/f"), b"x").unwrap();
        std::os::unix::fs::symlink("/", dir.join("a/up")).unwrap();
        std::os::unix::fs::symlink("b", dir.join("a/rel")).unwrap();
        let root = HostFd::open_path(dir.as_os_str().as_encoded_bytes(), OpenAs::PathDirectory).unwrap();
        for stepwise in [false, true] {
            let open = |rel: &CStr, how| if stepwise { root.open_stepwise(rel, how) } else { root.open_beneath(rel, how) };
            assert!(open(c"a/b/f", OpenAs::Read).is_ok());
            assert!(open(c".", OpenAs::PathDirectory).is_ok());
            assert!(matches!(open(c"a/up/etc", OpenAs::Path).err(), Some(Errno::ELOOP | Errno::ENOTDIR)));
            assert!(matches!(open(c"a/rel/f", OpenAs::Read).err(), Some(Errno::ELOOP | Errno::ENOTDIR)));
            assert_eq!(open(c"a/rel", OpenAs::Read).err(), Some(Errno::ELOOP));
            // O_PATH opens a final symlink itself.
            let link = open(c"a/rel", OpenAs::Path).unwrap();
            assert_eq!(link.readlink_at(c"").unwrap(), b"b");
        }
        assert_eq!(root.open_beneath(c"a/../a", OpenAs::Path).err(), Some(Errno::EXDEV));
        assert_eq!(root.open_beneath(c"/etc", OpenAs::Path).err(), Some(Errno::EXDEV));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// Writes all of `data` to host fd `fd` (ours).
pub fn write_all_fd(fd: i32, data: &[u8]) -> std::io::Result<()> {
    let mut written = 0;
    while written < data.len() {
        // SAFETY: writing from a live slice to our own fd.
        let n = unsafe { libc::write(fd, data[written..].as_ptr() as *const libc::c_void, data.len() - written) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if n == 0 {
            return Err(std::io::Error::from(std::io::ErrorKind::WriteZero));
        }
        written += n as usize;
    }
    Ok(())
}

/// What vkernel's own accesses to a host file's shared mapping do (a
/// system call reading or writing guest memory that the host maps from a
/// file, see mm's `Backing::HostFile`): through the fd, at the offset the
/// address maps, with the mapping's rules at the end of the file. vkernel
/// never maps these pages for a copy: a page past the end would be SIGBUS
/// in vkernel itself.
impl HostFd {
    fn size(&self) -> KResult<u64> {
        Ok(fstat(self.raw())?.size)
    }

    /// A shared mapping of `len` bytes of the file from `offset` in
    /// vkernel itself, unmapped when dropped; the host's errno when it
    /// refuses.
    fn map_in_vkernel(&self, len: usize, prot: i32, offset: u64) -> KResult<VkernelMapping> {
        let offset = i64::try_from(offset).map_err(|_| Errno::EOVERFLOW)?;
        // SAFETY: a fresh shared mapping of our own fd where the kernel
        // chooses the address: it overlaps nothing of ours.
        let base = unsafe { libc::mmap(std::ptr::null_mut(), len, prot, libc::MAP_SHARED, self.raw(), offset) };
        if base == libc::MAP_FAILED { Err(Errno::last_host()) } else { Ok(VkernelMapping { base, len }) }
    }

    /// Reads `buf.len()` bytes of the mapping at file offset `offset`: the
    /// tail of the last page past the end of the file reads as zeros, a
    /// page wholly past it is EFAULT (where the guest gets SIGBUS).
    pub fn read_mapped(&self, offset: u64, buf: &mut [u8]) -> KResult<()> {
        let mut got = 0;
        while got < buf.len() {
            match self.pread(&mut buf[got..], offset + got as u64).map_err(|_| Errno::EFAULT)? {
                0 => break,
                n => got += n,
            }
        }
        if got < buf.len() {
            let mapped_end = crate::abi::page_align_up(self.size()?).unwrap_or(u64::MAX);
            if offset + buf.len() as u64 > mapped_end {
                return Err(Errno::EFAULT);
            }
            buf[got..].fill(0);
        }
        Ok(())
    }

    /// Writes `data` into the mapping at file offset `offset`: EFAULT for a
    /// page wholly past the end of the file; bytes of the last page past
    /// the end are not written (the file does not grow, and the host's
    /// page keeps zeros there rather than the bytes a Linux page would
    /// hold until it is reclaimed).
    pub fn write_mapped(&self, offset: u64, data: &[u8]) -> KResult<()> {
        let size = self.size()?;
        let mapped_end = crate::abi::page_align_up(size).unwrap_or(u64::MAX);
        if offset + data.len() as u64 > mapped_end {
            return Err(Errno::EFAULT);
        }
        let inside = (size.saturating_sub(offset) as usize).min(data.len());
        let mut put = 0;
        while put < inside {
            match self.pwrite(&data[put..inside], offset + put as u64).map_err(|_| Errno::EFAULT)? {
                0 => return Err(Errno::EFAULT),
                n => put += n,
            }
        }
        Ok(())
    }

    /// The fd's access mode (O_RDONLY, O_WRONLY or O_RDWR).
    pub fn access_mode(&self) -> i32 {
        // SAFETY: F_GETFL on our own fd.
        let flags = unsafe { libc::fcntl(self.raw(), libc::F_GETFL) };
        if flags < 0 { libc::O_RDONLY } else { flags & libc::O_ACCMODE }
    }

    /// Which of `pages` pages from file offset `offset` (page-aligned) the
    /// host's page cache holds, one byte each as mincore gives them: the
    /// host's mincore of a PROT_NONE mapping of them, never touched.
    pub fn resident_pages(&self, offset: u64, pages: usize) -> KResult<Vec<u8>> {
        let mut out = vec![0u8; pages];
        if pages == 0 {
            return Ok(out);
        }
        let mapping = self.map_in_vkernel(pages * crate::abi::PAGE_SIZE as usize, libc::PROT_NONE, offset)?;
        // SAFETY: mincore of a live mapping into a buffer of one byte per
        // page of it.
        if unsafe { libc::mincore(mapping.base, mapping.len, out.as_mut_ptr()) } < 0 {
            return Err(Errno::last_host());
        }
        for b in &mut out {
            *b &= 1;
        }
        Ok(out)
    }

    /// Whether the host lets this fd be mapped shared with `prot` at
    /// `offset` (its filesystem may not map at all, a noexec mount refuses
    /// PROT_EXEC): a one-page mapping tried and dropped at once, so the
    /// guest's mmap gets the host's refusal rather than faults that never
    /// map.
    pub fn check_mappable(&self, prot: u32, offset: u64) -> KResult<()> {
        self.map_in_vkernel(crate::abi::PAGE_SIZE as usize, prot as i32, offset).map(drop)
    }

    /// Runs `f` on the aligned u32 at file offset `offset` of the mapping,
    /// the word the guest's own atomic instructions on the same host page
    /// see. vkernel maps the one page for this, after checking that the
    /// file reaches it; only a host process shrinking the file in that
    /// moment could make it SIGBUS.
    pub fn with_mapped_u32<R>(&self, offset: u64, f: impl FnOnce(&std::sync::atomic::AtomicU32) -> R) -> KResult<R> {
        let page = offset & !(crate::abi::PAGE_SIZE - 1);
        if page >= self.size()? {
            return Err(Errno::EFAULT);
        }
        let mapping = self.map_in_vkernel(crate::abi::PAGE_SIZE as usize, libc::PROT_READ | libc::PROT_WRITE, page).map_err(|_| Errno::EFAULT)?;
        // SAFETY: `offset - page` is below the page size and 4-aligned (the
        // caller checked the address's alignment, and mappings start at page
        // offsets), so this is an aligned u32 inside the mapping, which
        // lives until after `f` returns.
        let word = unsafe { &*((mapping.base as *mut u8).add((offset - page) as usize) as *const std::sync::atomic::AtomicU32) };
        Ok(f(word))
    }
}

/// A mapping of a host file in vkernel's own address space
/// (`HostFd::map_in_vkernel`), unmapped when dropped.
struct VkernelMapping {
    base: *mut libc::c_void,
    len: usize,
}

impl Drop for VkernelMapping {
    fn drop(&mut self) {
        // SAFETY: unmapping a mapping this value made and owns; nothing
        // borrows it past its life.
        unsafe { libc::munmap(self.base, self.len) };
    }
}
