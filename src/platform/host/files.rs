//! Host files and directories, reached only relative to directory fds vkernel
//! holds itself, never following host symlinks (the guest's VFS resolves
//! symlinks in the guest's namespace). Used by hostfs for the read-only
//! root; every host error becomes an `Errno` here.

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
}

impl OpenAs {
    fn flags(self) -> i32 {
        match self {
            OpenAs::PathDirectory => libc::O_PATH | libc::O_DIRECTORY,
            OpenAs::Read => libc::O_RDONLY,
            OpenAs::ReadDirectory => libc::O_RDONLY | libc::O_DIRECTORY,
        }
    }
}

/// A host fd vkernel owns.
pub struct HostFd(OwnedFd);

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
