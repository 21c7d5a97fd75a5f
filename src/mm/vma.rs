//! Virtual memory areas: what a range of guest addresses is backed by and
//! with which permissions.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;

use crate::mm::frame::{Frame, PhysMemory};

/// File data as a private file mapping reads it. Filesystems implement it
/// for their files (mm never names fs).
pub trait FileData: Send + Sync {
    fn size(&self) -> crate::abi::KResult<u64>;
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> crate::abi::KResult<usize>;
    /// Identity and version: (dev, ino, mtime seconds, mtime nanoseconds,
    /// size). Pages cached for one version are never shown for another.
    fn version(&self) -> crate::abi::KResult<(u64, u64, i64, i64, u64)>;
}

/// Memory shared between mappings (MAP_SHARED anonymous, shm) and the
/// page cache of tmpfs files: frames by page offset, created on first touch.
/// For a file, `size` is its length: pages wholly beyond it are SIGBUS when
/// mapped.
pub struct SharedMemory {
    phys: Arc<PhysMemory>,
    pages: Mutex<HashMap<u64, Frame>>,
    size: std::sync::atomic::AtomicU64,
    /// Address spaces that map it (a reverse map, for truncation).
    mappers: Mutex<Vec<std::sync::Weak<crate::mm::Mm>>>,
}

impl SharedMemory {
    pub fn new(phys: Arc<PhysMemory>) -> Arc<SharedMemory> {
        Arc::new(SharedMemory { phys, pages: Mutex::new(HashMap::new()), size: std::sync::atomic::AtomicU64::new(u64::MAX), mappers: Mutex::new(Vec::new()) })
    }

    pub fn phys(&self) -> &Arc<PhysMemory> {
        &self.phys
    }

    fn pages(&self) -> parking_lot::MutexGuard<'_, HashMap<u64, Frame>> {
        self.pages.lock()
    }

    /// The frame at page offset `pgoff`, allocated (zeroed) on first use.
    /// The caller receives its own reference.
    pub fn frame_at(&self, pgoff: u64) -> crate::abi::KResult<Frame> {
        let frame = self.get_or_alloc(pgoff)?;
        self.phys.get(frame);
        Ok(frame)
    }

    /// The frame at `pgoff`, allocated on first use (no extra reference).
    pub fn get_or_alloc(&self, pgoff: u64) -> crate::abi::KResult<Frame> {
        let mut pages = self.pages();
        match pages.get(&pgoff) {
            Some(&f) => Ok(f),
            None => {
                let f = self.phys.alloc(0)?;
                pages.insert(pgoff, f);
                Ok(f)
            }
        }
    }

    /// The frame at `pgoff`, filled by `fill` when it is first created.
    pub fn get_or_fill(&self, pgoff: u64, fill: impl FnOnce(&mut [u8])) -> crate::abi::KResult<Frame> {
        let mut pages = self.pages();
        if let Some(&f) = pages.get(&pgoff) {
            return Ok(f);
        }
        let f = self.phys.alloc(0)?;
        fill(self.phys.frame_bytes(f));
        pages.insert(pgoff, f);
        Ok(f)
    }

    /// The frame at `pgoff` if the page exists (a hole otherwise).
    pub fn lookup(&self, pgoff: u64) -> Option<Frame> {
        self.pages().get(&pgoff).copied()
    }

    pub fn page_count(&self) -> u64 {
        self.pages().len() as u64
    }

    /// Drops pages at offsets >= `first`; returns how many.
    pub fn truncate_pages(&self, first: u64) -> u64 {
        let dropped: Vec<Frame> = {
            let mut pages = self.pages();
            let keys: Vec<u64> = pages.keys().copied().filter(|&k| k >= first).collect();
            keys.iter().filter_map(|k| pages.remove(k)).collect()
        };
        let n = dropped.len() as u64;
        self.phys.put_many(dropped);
        n
    }

    /// Records that `mm` maps this memory.
    pub fn add_mapper(&self, mm: &Arc<crate::mm::Mm>) {
        let mut m = self.mappers.lock();
        m.retain(|w| w.strong_count() > 0);
        if !m.iter().any(|w| std::ptr::eq(w.as_ptr(), Arc::as_ptr(mm))) {
            m.push(Arc::downgrade(mm));
        }
    }

    /// After a file shrank: removes pages at offsets >= `first` from every
    /// mapping, so touching them is SIGBUS as on Linux. Call without
    /// filesystem locks held (it takes address-space locks).
    pub fn unmap_from_mappers(self: &Arc<Self>, first: u64) {
        let mappers: Vec<Arc<crate::mm::Mm>> = self.mappers.lock().iter().filter_map(|w| w.upgrade()).collect();
        for mm in mappers {
            mm.lock().drop_shared_pages(self, first);
        }
    }

    /// The file length bounding mappings (u64::MAX: anonymous memory).
    pub fn size(&self) -> u64 {
        self.size.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn set_size(&self, size: u64) {
        self.size.store(size, std::sync::atomic::Ordering::Relaxed)
    }
}

impl Drop for SharedMemory {
    fn drop(&mut self) {
        let frames: Vec<Frame> = self.pages.get_mut().drain().map(|(_, f)| f).collect();
        self.phys.put_many(frames);
    }
}

#[derive(Clone)]
pub enum Backing {
    /// Private anonymous memory: zero on first touch.
    Anonymous,
    /// Shared memory; `pgoff` is the page offset of the VMA's start.
    Shared { memory: Arc<SharedMemory>, pgoff: u64 },
    /// A private mapping of a file: pages are copied from the file on first
    /// touch. Bytes at file offsets >= `file_end` read as zero (an ELF
    /// segment's bss tail shares its last file page).
    /// `cache` holds the file's pages shared by every private mapping of
    /// it (copy-on-write), so repeated execs of one binary share frames.
    File { file: Arc<dyn FileData>, offset: u64, file_end: u64, name: Vec<u8>, dev: u64, ino: u64, cache: Option<Arc<SharedMemory>> },
}

/// The shared page cache for a file without one of its own (host files
/// seen through the read-only root), keyed by identity and version so a
/// file changed on the host gets a fresh cache. It lives while some
/// mapping holds it.
pub fn file_cache(file: &dyn FileData) -> Option<Arc<SharedMemory>> {
    type Key = (u64, u64, i64, i64, u64);
    static CACHES: std::sync::OnceLock<Mutex<HashMap<Key, std::sync::Weak<SharedMemory>>>> = std::sync::OnceLock::new();
    let key = file.version().ok()?;
    let size = key.4;
    let mut caches = CACHES.get_or_init(Default::default).lock();
    let cache = match caches.get(&key).and_then(|w| w.upgrade()) {
        Some(c) => c,
        None => {
            caches.retain(|_, w| w.strong_count() > 0);
            let cache = SharedMemory::new(crate::mm::frame::guest_ram().clone());
            cache.set_size(size);
            caches.insert(key, Arc::downgrade(&cache));
            cache
        }
    };
    drop(caches);
    keep_recent(&cache);
    Some(cache)
}

/// Recently mapped host files keep their cached pages after the last
/// mapping goes (as Linux's page cache does), so running the same program
/// again reads nothing. Dropped when guest RAM runs out.
const RECENT_FILE_CACHES: usize = 16;

fn recent() -> &'static Mutex<std::collections::VecDeque<Arc<SharedMemory>>> {
    static RECENT: std::sync::OnceLock<Mutex<std::collections::VecDeque<Arc<SharedMemory>>>> = std::sync::OnceLock::new();
    RECENT.get_or_init(Default::default)
}

fn keep_recent(cache: &Arc<SharedMemory>) {
    let mut r = recent().lock();
    r.retain(|c| !Arc::ptr_eq(c, cache));
    r.push_front(cache.clone());
    r.truncate(RECENT_FILE_CACHES);
}

/// Frees the pages only the recent-file list holds (memory is short).
pub fn drop_recent_file_caches() {
    let dropped: Vec<Arc<SharedMemory>> = std::mem::take(&mut *recent().lock()).into();
    drop(dropped);
}

/// A Vma flag beside the MAP_* bits: a shared mapping of a file opened
/// without write access, which mprotect may never make writable (Linux's
/// VMA without VM_MAYWRITE).
pub const VMA_NO_MAYWRITE: u32 = 1 << 30;

#[derive(Clone)]
pub struct Vma {
    pub start: u64,
    pub end: u64,
    pub prot: u32,
    /// MAP_SHARED / MAP_PRIVATE plus MAP_GROWSDOWN etc.
    pub flags: u32,
    pub backing: Backing,
    /// For /proc/<pid>/maps: "[heap]", "[stack]" or empty.
    pub label: &'static str,
}

impl Vma {
    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    /// The part of this VMA from `at` on, with its backing offset adjusted.
    pub fn split_off(&mut self, at: u64) -> Vma {
        let mut tail = self.clone();
        tail.start = at;
        let delta = at - self.start;
        match &mut tail.backing {
            Backing::Anonymous => {}
            Backing::Shared { pgoff, .. } => *pgoff += delta / 4096,
            Backing::File { offset, .. } => *offset += delta,
        }
        self.end = at;
        tail
    }

    /// Can `next` (starting at our end) be merged into this VMA?
    pub fn can_merge(&self, next: &Vma) -> bool {
        if self.end != next.start || self.prot != next.prot || self.flags != next.flags || self.label != next.label {
            return false;
        }
        match (&self.backing, &next.backing) {
            (Backing::Anonymous, Backing::Anonymous) => true,
            (Backing::Shared { memory: a, pgoff: pa }, Backing::Shared { memory: b, pgoff: pb }) => Arc::ptr_eq(a, b) && pa + self.len() / 4096 == *pb,
            (Backing::File { dev: da, ino: ia, offset: oa, file_end: ea, .. }, Backing::File { dev: db, ino: ib, offset: ob, file_end: eb, .. }) => {
                (da, ia) == (db, ib) && oa + self.len() == *ob && ea == eb
            }
            _ => false,
        }
    }
}
