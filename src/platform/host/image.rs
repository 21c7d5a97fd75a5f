//! Disk image files on the host: positioned reads and writes (contiguous
//! runs in one call, vectored where the caller has several buffers),
//! fdatasync, hole punching, and an advisory lock so two vkernels cannot
//! write one image (exclusive for a writer, shared for readers). qcow2
//! images go through the `imago` crate (`Qcow2Image`), which does its own
//! host I/O here. Host errors become errnos here, once.

use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

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
    /// A directory is EISDIR; a host block device's size is its capacity.
    pub fn open(path: &Path, read_only: bool) -> KResult<HostImage> {
        use std::io::{Seek, SeekFrom};
        use std::os::unix::fs::FileTypeExt;
        let mut file = OpenOptions::new().read(true).write(!read_only).open(path).map_err(Errno::from_host)?;
        let md = file.metadata().map_err(Errno::from_host)?;
        if md.is_dir() {
            return Err(Errno::EISDIR);
        }
        let size = if md.file_type().is_block_device() { file.seek(SeekFrom::End(0)).map_err(Errno::from_host)? } else { md.len() };
        lock(&file, read_only)?;
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

    /// Deallocates `[off, off + len)`: it reads back as zeros (BLKDISCARD).
    pub fn punch_hole(&self, off: u64, len: u64) -> KResult<()> {
        if self.read_only {
            return Err(Errno::EROFS);
        }
        self.check(off, len.try_into().map_err(|_| Errno::EIO)?)?;
        let mode = libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE;
        // SAFETY: fallocate on a descriptor we own; it touches no memory.
        if unsafe { libc::fallocate(self.file.as_raw_fd(), mode, off as i64, len as i64) } != 0 {
            return Err(Errno::last_host());
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

/// Takes the image lock: shared for a reader, exclusive for a writer;
/// EBUSY when another process holds a conflicting one.
fn lock(file: &File, read_only: bool) -> KResult<()> {
    let op = if read_only { libc::LOCK_SH } else { libc::LOCK_EX } | libc::LOCK_NB;
    // SAFETY: flock on a descriptor we own; it touches no memory.
    if unsafe { libc::flock(file.as_raw_fd(), op) } != 0 {
        let e = Errno::last_host();
        return Err(if e == Errno::EAGAIN { Errno::EBUSY } else { e });
    }
    Ok(())
}

/// A qcow2 image (v2 or v3, backing chains included) through `imago`.
/// Writes go to the top image only; backing files are opened read-only
/// and locked shared, the top image exclusively when writable, for as long
/// as this lives.
pub struct Qcow2Image {
    access: parking_lot::RwLock<imago::FormatAccess<imago::file::File>>,
    _locks: Vec<File>,
    size: u64,
    read_only: bool,
}

/// How deep a backing chain vkernel follows to lock it (QEMU's limit is
/// far larger; real chains are short).
const MAX_BACKING_DEPTH: usize = 32;

impl Qcow2Image {
    /// Opens the qcow2 image at `path`. The error is a sentence for the
    /// person who named the image.
    pub fn open(path: &Path, read_only: bool) -> Result<Qcow2Image, String> {
        use imago::{FormatDriverBuilder, PermissiveImplicitOpenGate};
        let mut locks = Vec::new();
        let mut current = path.to_path_buf();
        let mut writer = !read_only;
        for _ in 0..MAX_BACKING_DEPTH {
            let f = OpenOptions::new().read(true).open(&current).map_err(|e| format!("{}: {e}", current.display()))?;
            lock(&f, !writer).map_err(|e| {
                if e == Errno::EBUSY {
                    format!("{} is in use by another program (it holds a lock on the image)", current.display())
                } else {
                    format!("{}: cannot lock: {e}", current.display())
                }
            })?;
            let backing = qcow2_backing_name(&f).map_err(|e| format!("{}: {e}", current.display()))?;
            locks.push(f);
            writer = false;
            match backing {
                Some(name) => {
                    let name = PathBuf::from(name);
                    current = if name.is_absolute() { name } else { current.parent().unwrap_or(Path::new(".")).join(name) };
                }
                None => break,
            }
        }
        let qcow2 = imago::qcow2::Qcow2::<imago::file::File>::builder_path(path)
            .write(!read_only)
            .open(PermissiveImplicitOpenGate::default())
            .map_err(|e| format!("not a usable qcow2 image: {e}"))?;
        let access = imago::FormatAccess::new(qcow2);
        let size = access.size();
        Ok(Qcow2Image { access: parking_lot::RwLock::new(access), _locks: locks, size, read_only })
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn read_only(&self) -> bool {
        self.read_only
    }

    fn check(&self, off: u64, len: u64) -> KResult<()> {
        match off.checked_add(len) {
            Some(end) if end <= self.size => Ok(()),
            _ => Err(Errno::EIO),
        }
    }

    pub fn read_at(&self, off: u64, buf: &mut [u8]) -> KResult<()> {
        self.check(off, buf.len() as u64)?;
        self.access.read().read(buf, off).map_err(|_| Errno::EIO)
    }

    pub fn write_at(&self, off: u64, buf: &[u8]) -> KResult<()> {
        if self.read_only {
            return Err(Errno::EROFS);
        }
        self.check(off, buf.len() as u64)?;
        self.access.read().write(buf, off).map_err(|e| if e.raw_os_error() == Some(libc::ENOSPC) { Errno::ENOSPC } else { Errno::EIO })
    }

    /// Discards to zeros: the clusters go, reads see zeros even over a
    /// backing file.
    pub fn discard(&self, off: u64, len: u64) -> KResult<()> {
        if self.read_only {
            return Err(Errno::EROFS);
        }
        self.check(off, len)?;
        self.access.write().discard_to_zero(off, len).map_err(|_| Errno::EIO)
    }

    /// Metadata caches written out, then fdatasync of the image file.
    pub fn sync(&self) -> KResult<()> {
        if self.read_only {
            return Ok(());
        }
        let access = self.access.read();
        access.flush().map_err(|_| Errno::EIO)?;
        access.sync().map_err(|_| Errno::EIO)
    }
}

/// The backing file name in a qcow2 header (offset 8: its offset, 16: its
/// length), if there is one.
fn qcow2_backing_name(f: &File) -> Result<Option<String>, String> {
    let mut header = [0u8; 20];
    f.read_exact_at(&mut header, 0).map_err(|e| format!("cannot read the image header: {e}"))?;
    // A raw backing file ends the chain.
    if &header[..4] != b"QFI\xfb" {
        return Ok(None);
    }
    let offset = u64::from_be_bytes(header[8..16].try_into().unwrap_or_default());
    let len = u32::from_be_bytes(header[16..20].try_into().unwrap_or_default());
    if offset == 0 || len == 0 {
        return Ok(None);
    }
    if len > 1023 {
        return Err("the backing file name in the qcow2 header is too long".into());
    }
    let mut name = vec![0u8; len as usize];
    f.read_exact_at(&mut name, offset).map_err(|e| format!("cannot read the backing file name: {e}"))?;
    String::from_utf8(name).map(Some).map_err(|_| "the backing file name is not UTF-8".into())
}
