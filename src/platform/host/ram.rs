//! Guest RAM on the host: one memfd of exactly `-m` bytes, mapped once
//! into vkernel. The frame allocator (mm/frame.rs) decides what lives
//! where; this file only owns the host object and its mapping.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use crate::abi::PAGE_SIZE;

pub struct GuestRam {
    memfd: OwnedFd,
    base: *mut u8,
    size: u64,
}

// SAFETY: `base` points at a shared mapping that lives as long as `self`;
// all access goes through `page`, and concurrent races on guest RAM are the
// guest's own (as on real hardware).
unsafe impl Send for GuestRam {}
// SAFETY: as above; the struct itself is immutable after creation.
unsafe impl Sync for GuestRam {}

impl GuestRam {
    /// Creates the memfd of `size` bytes (a whole number of pages) and maps it.
    pub fn new(size: u64) -> std::io::Result<GuestRam> {
        // SAFETY: memfd_create with a valid NUL-terminated name.
        let fd = unsafe { libc::memfd_create(c"vkernel-ram".as_ptr(), libc::MFD_CLOEXEC) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: fd was just returned by memfd_create and is owned by nobody else.
        let memfd = unsafe { OwnedFd::from_raw_fd(fd) };
        let len = i64::try_from(size).map_err(|_| std::io::Error::from_raw_os_error(libc::EINVAL))?;
        // SAFETY: ftruncate on our own memfd.
        if unsafe { libc::ftruncate(fd, len) } < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: a fresh shared mapping of the whole memfd; nothing else is at
        // the address the kernel picks.
        let base =
            unsafe { libc::mmap(std::ptr::null_mut(), size as usize, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_SHARED | libc::MAP_NORESERVE, fd, 0) };
        if base == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        Ok(GuestRam { memfd, base: base as *mut u8, size })
    }

    pub fn memfd(&self) -> i32 {
        self.memfd.as_raw_fd()
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// The bytes of the page at `offset` (page-aligned) through vkernel's
    /// own mapping. Guest threads may write the same page concurrently
    /// through their own mappings; callers copy in and out, never keep it.
    #[allow(clippy::mut_from_ref)]
    pub fn page(&self, offset: u64) -> &mut [u8] {
        assert!(offset % PAGE_SIZE == 0 && offset < self.size, "guest page out of range");
        // SAFETY: the page lies inside the mapping made in `new`, which
        // lives as long as self.
        unsafe { std::slice::from_raw_parts_mut(self.base.add(offset as usize), PAGE_SIZE as usize) }
    }

    /// Makes the host back [offset, offset+len) now, in one call, rather
    /// than page by page on first touch (best effort: kernels before 5.14
    /// lack MADV_POPULATE_WRITE, and then first touch does it).
    pub fn populate(&self, offset: u64, len: u64) {
        if offset.checked_add(len).is_none_or(|end| end > self.size) {
            return;
        }
        // SAFETY: madvise on a range inside our own mapping; populating
        // changes no contents.
        unsafe {
            libc::madvise(self.base.add(offset as usize) as *mut libc::c_void, len as usize, libc::MADV_POPULATE_WRITE);
        }
    }

    /// `len` bytes at `offset` through vkernel's own mapping (shared with
    /// guest threads, like `page`).
    #[allow(clippy::mut_from_ref)]
    pub fn bytes(&self, offset: u64, len: usize) -> &mut [u8] {
        assert!(offset.checked_add(len as u64).is_some_and(|end| end <= self.size), "guest RAM range out of range");
        // SAFETY: the range lies inside the mapping made in `new`, which
        // lives as long as self.
        unsafe { std::slice::from_raw_parts_mut(self.base.add(offset as usize), len) }
    }

    /// The aligned 32-bit word at `offset`, for words vkernel and a stub
    /// hand back and forth (and wait on with futexes).
    pub fn word(&self, offset: u64) -> &std::sync::atomic::AtomicU32 {
        assert!(offset % 4 == 0 && offset + 4 <= self.size, "guest RAM word out of range");
        // SAFETY: aligned, inside the mapping made in `new`, which lives as
        // long as self; AtomicU32 has the layout of u32.
        unsafe { &*(self.base.add(offset as usize) as *const std::sync::atomic::AtomicU32) }
    }

    /// Gives pages back to the host; they read back as zeros.
    pub fn punch(&self, offset: u64, len: u64) {
        // SAFETY: fallocate on our own memfd within its size.
        unsafe {
            libc::fallocate(self.memfd.as_raw_fd(), libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE, offset as i64, len as i64);
        }
    }
}

impl Drop for GuestRam {
    fn drop(&mut self) {
        // SAFETY: unmapping the mapping made in `new`; no references remain.
        unsafe { libc::munmap(self.base as *mut libc::c_void, self.size as usize) };
    }
}
