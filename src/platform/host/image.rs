//! Disk image files on the host: positioned reads and writes (contiguous
//! runs in one call, vectored where the caller has several buffers),
//! fdatasync, and an exclusive advisory lock so two vkernels cannot write
//! one image. Host errors become errnos here, once.

use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::path::Path;

use crate::abi::{Errno, KResult};

pub struct HostImage {
    file: File,
    size: u64,
    read_only: bool,
}

/// At most this many iovecs per preadv/pwritev (Linux's UIO_MAXIOV is 1024).
const MAX_IOV: usize = 512;

impl HostImage {
    /// Opens `path`; a writable image is locked exclusively (EBUSY if another
    /// process holds it), a read-only one shared.
    pub fn open(path: &Path, read_only: bool) -> KResult<HostImage> {
        let file = OpenOptions::new().read(true).write(!read_only).open(path).map_err(Errno::from_host)?;
        let size = file.metadata().map_err(Errno::from_host)?.len();
        let op = if read_only { libc::LOCK_SH } else { libc::LOCK_EX } | libc::LOCK_NB;
        // SAFETY: flock on a descriptor we own; it touches no memory.
        if unsafe { libc::flock(file.as_raw_fd(), op) } != 0 {
            let e = Errno::last_host();
            return Err(if e == Errno::EAGAIN { Errno::EBUSY } else { e });
        }
        Ok(HostImage { file, size, read_only })
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn read_only(&self) -> bool {
        self.read_only
    }

    fn check(&self, off: u64, len: usize) -> KResult<()> {
        match off.checked_add(len as u64) {
            Some(end) if end <= self.size => Ok(()),
            _ => Err(Errno::EIO),
        }
    }

    pub fn read_at(&self, off: u64, buf: &mut [u8]) -> KResult<()> {
        self.check(off, buf.len())?;
        self.file.read_exact_at(buf, off).map_err(Errno::from_host)
    }

    pub fn write_at(&self, off: u64, buf: &[u8]) -> KResult<()> {
        if self.read_only {
            return Err(Errno::EROFS);
        }
        self.check(off, buf.len())?;
        self.file.write_all_at(buf, off).map_err(Errno::from_host)
    }

    pub fn read_vectored_at(&self, mut off: u64, bufs: &mut [&mut [u8]]) -> KResult<()> {
        let total: usize = bufs.iter().map(|b| b.len()).sum();
        self.check(off, total)?;
        for chunk in bufs.chunks_mut(MAX_IOV) {
            // Track progress through the chunk so short reads resume correctly.
            let mut first = 0usize;
            let mut skip = 0usize;
            while first < chunk.len() {
                let iov: Vec<libc::iovec> = chunk[first..]
                    .iter_mut()
                    .enumerate()
                    .map(|(i, b)| {
                        let s = if i == 0 { skip } else { 0 };
                        libc::iovec { iov_base: b[s..].as_mut_ptr().cast(), iov_len: b.len() - s }
                    })
                    .collect();
                // SAFETY: every iovec points into a live, exclusively borrowed
                // buffer of the stated length; preadv writes only within them.
                let n = unsafe { libc::preadv(self.file.as_raw_fd(), iov.as_ptr(), iov.len() as i32, off as i64) };
                if n < 0 {
                    let e = Errno::last_host();
                    if e == Errno::EINTR {
                        continue;
                    }
                    return Err(e);
                }
                if n == 0 {
                    return Err(Errno::EIO);
                }
                off += n as u64;
                let mut n = n as usize;
                while n > 0 && first < chunk.len() {
                    let left = chunk[first].len() - skip;
                    if n >= left {
                        n -= left;
                        first += 1;
                        skip = 0;
                    } else {
                        skip += n;
                        n = 0;
                    }
                }
                while first < chunk.len() && chunk[first].len() == skip {
                    first += 1;
                    skip = 0;
                }
            }
        }
        Ok(())
    }

    pub fn write_vectored_at(&self, mut off: u64, bufs: &[&[u8]]) -> KResult<()> {
        if self.read_only {
            return Err(Errno::EROFS);
        }
        let total: usize = bufs.iter().map(|b| b.len()).sum();
        self.check(off, total)?;
        for chunk in bufs.chunks(MAX_IOV) {
            let mut first = 0usize;
            let mut skip = 0usize;
            while first < chunk.len() {
                let iov: Vec<libc::iovec> = chunk[first..]
                    .iter()
                    .enumerate()
                    .map(|(i, b)| {
                        let s = if i == 0 { skip } else { 0 };
                        libc::iovec { iov_base: b[s..].as_ptr() as *mut libc::c_void, iov_len: b.len() - s }
                    })
                    .collect();
                // SAFETY: every iovec points into a live buffer of the stated
                // length; pwritev only reads from them.
                let n = unsafe { libc::pwritev(self.file.as_raw_fd(), iov.as_ptr(), iov.len() as i32, off as i64) };
                if n < 0 {
                    let e = Errno::last_host();
                    if e == Errno::EINTR {
                        continue;
                    }
                    return Err(e);
                }
                if n == 0 {
                    return Err(Errno::EIO);
                }
                off += n as u64;
                let mut n = n as usize;
                while n > 0 && first < chunk.len() {
                    let left = chunk[first].len() - skip;
                    if n >= left {
                        n -= left;
                        first += 1;
                        skip = 0;
                    } else {
                        skip += n;
                        n = 0;
                    }
                }
                while first < chunk.len() && chunk[first].len() == skip {
                    first += 1;
                    skip = 0;
                }
            }
        }
        Ok(())
    }

    /// fdatasync: the image's data (and the size) reach stable storage.
    pub fn sync_data(&self) -> KResult<()> {
        if self.read_only {
            return Ok(());
        }
        self.file.sync_data().map_err(Errno::from_host)
    }
}
