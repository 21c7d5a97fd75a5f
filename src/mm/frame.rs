//! Guest physical memory: one memfd of exactly `-m` bytes, mapped once into
//! vkernel, handed out as 4 KiB frames by a buddy allocator so that runs of
//! frames are contiguous in the memfd (one host mmap per run). Frames are
//! reference counted; a frame whose count drops to zero is freed and its
//! pages are punched out of the memfd so the host gets the memory back.

use parking_lot::Mutex;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use crate::abi::{Errno, KResult, PAGE_SIZE};
use crate::platform::host::ram::GuestRam;

/// Largest block: 2^10 frames = 4 MiB.
const MAX_ORDER: usize = 10;

/// A frame number: the memfd offset divided by the page size.
pub type Frame = u32;

struct Buddy {
    free: [BTreeSet<Frame>; MAX_ORDER + 1],
}

impl Buddy {
    fn new(frames: u32) -> Buddy {
        let mut b = Buddy { free: Default::default() };
        let mut start = 0u32;
        while start < frames {
            // The largest aligned block that fits from `start`.
            let mut order = MAX_ORDER;
            while order > 0 && (start % (1 << order) != 0 || start + (1 << order) > frames) {
                order -= 1;
            }
            b.free[order].insert(start);
            start += 1 << order;
        }
        b
    }

    fn alloc(&mut self, order: usize) -> Option<Frame> {
        let found = (order..=MAX_ORDER).find(|&o| !self.free[o].is_empty())?;
        let block = self.free[found].pop_first()?;
        // Split down, returning the upper halves to the free lists.
        for o in (order..found).rev() {
            self.free[o].insert(block + (1 << o));
        }
        Some(block)
    }

    fn free(&mut self, mut frame: Frame, mut order: usize) {
        while order < MAX_ORDER {
            let buddy = frame ^ (1 << order);
            if !self.free[order].remove(&buddy) {
                break;
            }
            frame = frame.min(buddy);
            order += 1;
        }
        self.free[order].insert(frame);
    }
}

/// The guest's RAM.
pub struct PhysMemory {
    ram: GuestRam,
    frames: u32,
    buddy: Mutex<Buddy>,
    refs: Box<[AtomicU32]>,
    free_frames: AtomicU64,
    /// Free frames whose pages the host still holds (one bit per frame):
    /// freeing only marks them, `return_free_pages` punches them out a
    /// moment later, and an allocation that gets one zeroes it itself.
    /// Reusing a resident page is far cheaper than a host page fault.
    dirty: Box<[AtomicU64]>,
    dirty_count: AtomicU64,
}

impl PhysMemory {
    /// Creates the memfd of `size` bytes (a whole number of pages) and maps it.
    pub fn new(size: u64) -> std::io::Result<PhysMemory> {
        let frames = u32::try_from(size / PAGE_SIZE).map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
        let ram = GuestRam::new(frames as u64 * PAGE_SIZE)?;
        // Zeroed allocation: the counts of frames never used stay untouched
        // (and so take no host memory).
        // SAFETY: an all-zero AtomicU32 is a valid count of zero.
        let refs = unsafe { Box::<[AtomicU32]>::new_zeroed_slice(frames as usize).assume_init() };
        // SAFETY: as for `refs`: all-zero AtomicU64s are valid.
        let dirty = unsafe { Box::<[AtomicU64]>::new_zeroed_slice((frames as usize).div_ceil(64)).assume_init() };
        Ok(PhysMemory {
            ram,
            frames,
            buddy: Mutex::new(Buddy::new(frames)),
            refs,
            free_frames: AtomicU64::new(frames as u64),
            dirty,
            dirty_count: AtomicU64::new(0),
        })
    }

    pub fn memfd(&self) -> i32 {
        self.ram.memfd()
    }

    /// The host object behind guest RAM (for the platform).
    pub fn ram(&self) -> &GuestRam {
        &self.ram
    }

    pub fn total_frames(&self) -> u64 {
        self.frames as u64
    }

    pub fn free_frame_count(&self) -> u64 {
        self.free_frames.load(Ordering::Relaxed)
    }

    /// Allocates 2^order contiguous frames, each with a reference count of one.
    /// Their contents are zero (punched pages read as zero; a recently freed
    /// page still resident is cleared here).
    pub fn alloc(&self, order: usize) -> KResult<Frame> {
        let block = self.buddy.lock().alloc(order);
        let block = match block {
            Some(b) => Some(b),
            None => {
                // Short of memory: give back cached file pages and retry. A
                // failed multi-page block is fragmentation unless free
                // frames are scarce too (its callers fall back to pages).
                let batch = (self.frames as u64 / 64).max(1 << order);
                if order == 0 || self.free_frame_count() < batch {
                    crate::mm::vma::drop_recent_file_caches();
                    crate::mm::page_cache::reclaim(self, batch);
                }
                self.buddy.lock().alloc(order)
            }
        };
        let frame = block.ok_or(Errno::ENOMEM)?;
        for f in frame..frame + (1 << order) {
            self.refs[f as usize].store(1, Ordering::Relaxed);
            if self.take_dirty(f) {
                self.frame_bytes(f).fill(0);
            }
        }
        self.free_frames.fetch_sub(1 << order, Ordering::Relaxed);
        Ok(frame)
    }

    /// Takes another reference on a frame.
    pub fn get(&self, frame: Frame) {
        self.refs[frame as usize].fetch_add(1, Ordering::Relaxed);
    }

    pub fn ref_count(&self, frame: Frame) -> u32 {
        self.refs[frame as usize].load(Ordering::Relaxed)
    }

    /// Drops a reference; the last one frees the frame.
    pub fn put(&self, frame: Frame) {
        self.put_many([frame]);
    }

    fn mark_dirty(&self, f: Frame) {
        let bit = 1u64 << (f % 64);
        if self.dirty[f as usize / 64].fetch_or(bit, Ordering::AcqRel) & bit == 0 {
            self.dirty_count.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Clears `f`'s dirty bit; true if it was set.
    fn take_dirty(&self, f: Frame) -> bool {
        let bit = 1u64 << (f % 64);
        let was = self.dirty[f as usize / 64].fetch_and(!bit, Ordering::AcqRel) & bit != 0;
        if was {
            self.dirty_count.fetch_sub(1, Ordering::Relaxed);
        }
        was
    }

    /// Punches every free frame the host still holds out of the memfd, in
    /// whole free blocks. Runs a moment after frees (a kernel timer), so
    /// host memory follows the guest's use within a fraction of a second.
    pub fn return_free_pages(&self) {
        if self.dirty_count.load(Ordering::Relaxed) == 0 {
            return;
        }
        // Under the allocator lock: a block being punched cannot be handed
        // out meanwhile.
        let buddy = self.buddy.lock();
        for (order, list) in buddy.free.iter().enumerate() {
            for &block in list {
                let n = 1u32 << order;
                let mut any = false;
                for f in block..block + n {
                    any |= self.take_dirty(f);
                }
                if any {
                    self.punch(block, n);
                }
            }
        }
    }

    /// Drops one reference on each frame; frames freed by this go back to
    /// the allocator (and to the host at the next `return_free_pages`).
    pub fn put_many(&self, frames: impl IntoIterator<Item = Frame>) {
        let freed: Vec<Frame> = frames.into_iter().filter(|&f| self.refs[f as usize].fetch_sub(1, Ordering::AcqRel) == 1).collect();
        if freed.is_empty() {
            return;
        }
        for &f in &freed {
            self.mark_dirty(f);
        }
        let mut buddy = self.buddy.lock();
        for &f in &freed {
            buddy.free(f, 0);
        }
        self.free_frames.fetch_add(freed.len() as u64, Ordering::Relaxed);
    }

    /// Has the host back these frames now (in one call per contiguous
    /// run): frames about to be filled by a host read or a large copy.
    pub fn populate(&self, frames: &[Frame]) {
        let mut i = 0;
        while i < frames.len() {
            let mut j = i + 1;
            while j < frames.len() && frames[j] == frames[j - 1] + 1 {
                j += 1;
            }
            if j - i >= 4 {
                self.ram.populate(Self::offset_of(frames[i]), (j - i) as u64 * PAGE_SIZE);
            }
            i = j;
        }
    }

    /// Returns pages to the host; they read back as zeros.
    fn punch(&self, frame: Frame, count: u32) {
        self.ram.punch(frame as u64 * PAGE_SIZE, count as u64 * PAGE_SIZE);
    }

    /// The bytes of one frame through vkernel's own mapping.
    ///
    /// Guest threads may write the same frame concurrently through their own
    /// mappings, as on real hardware; callers copy in and out, never keep it.
    #[allow(clippy::mut_from_ref)]
    pub fn frame_bytes(&self, frame: Frame) -> &mut [u8] {
        self.ram.page(Self::offset_of(frame))
    }

    pub fn offset_of(frame: Frame) -> u64 {
        frame as u64 * PAGE_SIZE
    }
}

/// The platform borrows single pages (a stub's ops page).
impl crate::platform::GuestMemory for PhysMemory {
    fn ram(&self) -> &GuestRam {
        &self.ram
    }

    fn alloc_page(&self) -> Option<u64> {
        self.alloc(0).ok().map(Self::offset_of)
    }

    fn free_page(&self, offset: u64) {
        self.put((offset / PAGE_SIZE) as Frame);
    }

    fn alloc_pages(&self, order: usize) -> Option<u64> {
        self.alloc(order).ok().map(Self::offset_of)
    }
}

static GUEST_RAM: std::sync::OnceLock<std::sync::Arc<PhysMemory>> = std::sync::OnceLock::new();

/// Makes `phys` the guest RAM that filesystems keep their page caches in.
/// Called once at boot.
pub fn install_guest_ram(phys: std::sync::Arc<PhysMemory>) {
    let _ = GUEST_RAM.set(phys);
}

/// The guest RAM page caches live in. Unit tests that never booted get a
/// private 64 MiB one.
pub fn guest_ram() -> &'static std::sync::Arc<PhysMemory> {
    GUEST_RAM.get_or_init(|| std::sync::Arc::new(PhysMemory::new(64 << 20).expect("memfd for a test guest RAM")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buddy_splits_and_merges_back_to_one_block() {
        let mut b = Buddy::new(1 << MAX_ORDER);
        let a = b.alloc(0).unwrap();
        let c = b.alloc(4).unwrap();
        assert_ne!(a, c);
        assert_eq!(c % 16, 0, "order-4 blocks are aligned");
        for f in c..c + 16 {
            b.free(f, 0);
        }
        b.free(a, 0);
        assert_eq!(b.free[MAX_ORDER].len(), 1);
    }

    #[test]
    fn allocation_past_the_end_fails() {
        let mut b = Buddy::new(3);
        assert!(b.alloc(0).is_some());
        assert!(b.alloc(0).is_some());
        assert!(b.alloc(0).is_some());
        assert!(b.alloc(0).is_none());
        assert!(b.alloc(2).is_none());
    }

    #[test]
    fn freed_frames_read_as_zero_and_count_back() {
        let pm = PhysMemory::new(64 * PAGE_SIZE).unwrap();
        let f = pm.alloc(0).unwrap();
        pm.frame_bytes(f)[7] = 9;
        pm.put(f);
        assert_eq!(pm.free_frame_count(), 64);
        let g = pm.alloc(0).unwrap();
        assert_eq!(g, f);
        assert_eq!(pm.frame_bytes(g)[7], 0);
    }
}
