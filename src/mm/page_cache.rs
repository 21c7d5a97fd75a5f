//! The page cache: one `PageCache` per file (and per MAP_SHARED anonymous
//! object), frames in guest RAM by page offset, shared by read, write and
//! every mapping. A cache with a `PageStore` (a file of a disk filesystem)
//! reads pages from it on demand, tracks dirty pages, writes them back
//! through it and gives clean pages back under memory pressure; a cache
//! without one (tmpfs, shared anonymous memory) holds the only copy of its
//! data. mm never names a filesystem: filesystems implement `PageStore`.
//!
//! Lock order: `io` → `Mm` state → `state` → the frame allocator; the
//! registries (`DIRTY`, `ALL`) are leaves taken under `state` at most. The
//! store is never called with `state` held, so it may take its own locks.

use parking_lot::{Mutex, RwLock, RwLockWriteGuard};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use crate::abi::{Errno, KResult, PAGE_SIZE};
use crate::mm::Mm;
use crate::mm::frame::{Frame, PhysMemory};
use crate::mm::scatter::{Gather, Scatter};

const PAGE: usize = PAGE_SIZE as usize;

/// The file behind a page cache, as the cache sees it. Space for pages
/// that have no disk blocks yet is reserved when they become dirty (so a
/// full disk is ENOSPC at write(), as with Linux's delayed allocation), in
/// units the store chooses (its blocks).
pub trait PageStore: Send + Sync {
    /// Fills consecutive pages from page `index` (the buffers are zeroed
    /// frames: holes need nothing). Returns, per page, the reservation
    /// units it would need if dirtied (its blocks without disk space).
    fn read_pages(&self, index: u64, bufs: &mut [&mut [u8]]) -> KResult<Vec<u8>>;
    /// Per page of [index, index+count): units it needs if dirtied.
    fn holes(&self, index: u64, count: u64) -> KResult<Vec<u8>>;
    /// Reserves `units` for dirty pages (ENOSPC when the disk cannot hold them).
    fn reserve(&self, units: u64) -> KResult<()>;
    /// Gives back a reservation (the pages went away without writeback).
    fn unreserve(&self, units: u64);
    /// Writes consecutive pages from page `index` (each PAGE_SIZE bytes;
    /// the file is `size` bytes long, so the tail of the last may not
    /// count), consuming `reserved` units reserved for them.
    fn write_pages(&self, index: u64, bufs: &[&[u8]], size: u64, reserved: u64) -> KResult<()>;
    /// Makes what was written durable (fsync of the file: data and metadata).
    fn sync(&self) -> KResult<()>;
    /// Reads the file's bytes from `offset` into `bufs` (any lengths, in
    /// order; holes read as zeros) straight from the disk, for a reader
    /// that bypasses the cache. None: the store cannot (use `read_pages`).
    fn read_direct(&self, _offset: u64, _bufs: &mut [&mut [u8]]) -> Option<KResult<()>> {
        None
    }
}

/// Which pages of a private mapping of a cache leave it with the cache's
/// pages (see `Mm::drop_file_pages`).
pub enum PrivatePages<'a> {
    /// Every page in the range, the mapping's own copies included.
    All,
    /// Only pages still sharing one of these frames (sorted) with the cache.
    Sharing(&'a [Frame]),
}

/// Pages a hole punch took out of a cache. Their frames are released when
/// this goes: until then none can be reused, so a private mapping's page
/// that still shares one is told by its frame (`unmap_punched`).
pub struct PunchedPages {
    phys: Arc<PhysMemory>,
    frames: Vec<Frame>,
}

impl Drop for PunchedPages {
    fn drop(&mut self) {
        self.phys.put_many(std::mem::take(&mut self.frames));
    }
}

#[derive(Clone, Copy)]
struct Page {
    frame: Frame,
    dirty: bool,
    /// Reservation units the page needs when dirtied (reserved while dirty).
    holes: u8,
}

#[derive(Default)]
struct State {
    pages: BTreeMap<u64, Page>,
    dirty: u64,
    /// When the oldest dirty page of the cache was dirtied.
    dirtied_at: Option<Instant>,
    /// Bumped when pages are dropped: a fill that began before must not
    /// insert what it read.
    generation: u64,
    /// Readahead: the page a sequential reader asks for next, and how many
    /// pages the next miss reads.
    next_sequential: u64,
    window: u64,
    /// A writeback error not yet reported (by fsync).
    error: Option<Errno>,
}

pub struct PageCache {
    phys: Arc<PhysMemory>,
    store: Option<Arc<dyn PageStore>>,
    state: Mutex<State>,
    size: AtomicU64,
    /// Address spaces that map it (a reverse map, for truncation and
    /// write-protection at writeback).
    mappers: Mutex<Vec<Weak<Mm>>>,
    /// Writeback and writes take it shared; truncation and hole punching
    /// exclusive, so no write-out races a range being freed.
    io: RwLock<()>,
    /// In `DIRTY` (changed under `state`).
    registered: AtomicBool,
    last_used: AtomicU64,
    /// Neither a store nor a refilling user: the pages are the data, and
    /// an absent page is a hole (tmpfs, shared anonymous memory).
    memory_only: bool,
}

/// Caches with dirty pages, held until they are clean (so the file's data
/// outlives its last opener until written).
static DIRTY: Mutex<Vec<Arc<PageCache>>> = Mutex::new(Vec::new());
/// Every reclaimable cache, for the memory-pressure path.
static ALL: Mutex<Vec<Weak<PageCache>>> = Mutex::new(Vec::new());
/// Dirty pages in all caches.
static DIRTY_PAGES: AtomicU64 = AtomicU64::new(0);
/// A use counter ordering caches for reclaim (least recently used first).
static CLOCK: AtomicU64 = AtomicU64::new(0);
/// Caches whose last reference the reclaim path would have dropped: dropping
/// one may end a file (its store), which must not happen inside an
/// allocation; the flusher drops them.
static DEFERRED_DROPS: Mutex<Vec<Arc<PageCache>>> = Mutex::new(Vec::new());

/// Most pages one write_pages call carries (4 MiB).
const WRITEBACK_RUN: usize = 1024;
/// Readahead window bounds, in pages.
const READAHEAD_MIN: u64 = 8;
const READAHEAD_MAX: u64 = 256;
/// A reader's run of at least this many pages missing from the cache of a
/// file that nothing maps is read from the store straight into its buffer
/// and not cached: the image's data is in the host's page cache already,
/// and caching it again would cost guest RAM, a fresh host page per page
/// and a second copy (gVisor reads unmapped host-backed files the same way).
const DIRECT_READ_MIN: u64 = 64;

impl PageCache {
    fn build(phys: Arc<PhysMemory>, store: Option<Arc<dyn PageStore>>, size: u64, reclaimable: bool) -> Arc<PageCache> {
        let memory_only = store.is_none() && !reclaimable;
        let cache = Arc::new(PageCache {
            phys,
            store,
            state: Mutex::new(State { window: READAHEAD_MIN, ..Default::default() }),
            size: AtomicU64::new(size),
            mappers: Mutex::new(Vec::new()),
            io: RwLock::new(()),
            registered: AtomicBool::new(false),
            last_used: AtomicU64::new(CLOCK.fetch_add(1, Ordering::Relaxed)),
            memory_only,
        });
        // Clean pages only a reclaimable cache holds may be dropped under
        // pressure (they can be read again).
        if reclaimable {
            let mut all = ALL.lock();
            if all.len() >= 64 && all.len().is_power_of_two() {
                all.retain(|w| w.strong_count() > 0);
            }
            all.push(Arc::downgrade(&cache));
        }
        cache
    }

    /// Memory with no backing store (tmpfs files, MAP_SHARED anonymous
    /// memory): pages are created zeroed on first touch and never dropped.
    pub fn new(phys: Arc<PhysMemory>) -> Arc<PageCache> {
        Self::build(phys, None, u64::MAX, false)
    }

    /// The cache of a file on a store, `size` bytes long.
    pub fn with_store(phys: Arc<PhysMemory>, store: Arc<dyn PageStore>, size: u64) -> Arc<PageCache> {
        Self::build(phys, Some(store), size, true)
    }

    /// A cache of pages filled by their users (`frame_filled`) from a
    /// source that can fill them again, so clean pages may be dropped.
    pub fn refillable(phys: Arc<PhysMemory>) -> Arc<PageCache> {
        Self::build(phys, None, u64::MAX, true)
    }

    pub fn phys(&self) -> &Arc<PhysMemory> {
        &self.phys
    }

    pub fn has_store(&self) -> bool {
        self.store.is_some()
    }

    /// An absent page is a hole, not a page to fill (see `memory_only`).
    pub fn is_memory_only(&self) -> bool {
        self.memory_only
    }

    fn touch(&self) {
        self.last_used.store(CLOCK.fetch_add(1, Ordering::Relaxed), Ordering::Relaxed);
    }

    /// The file length bounding mappings (u64::MAX: anonymous memory).
    pub fn size(&self) -> u64 {
        self.size.load(Ordering::Acquire)
    }

    pub fn set_size(&self, size: u64) {
        self.size.store(size, Ordering::Release)
    }

    /// Raises the size to at least `size`.
    fn grow_size(&self, size: u64) {
        self.size.fetch_max(size, Ordering::AcqRel);
    }

    /// The frame at `pgoff` if the page is cached (a hole otherwise).
    pub fn lookup(&self, pgoff: u64) -> Option<Frame> {
        self.state.lock().pages.get(&pgoff).map(|p| p.frame)
    }

    /// The cached pages of [first, end) with their dirty bits, in order.
    pub fn cached_pages(&self, first: u64, end: u64) -> Vec<(u64, bool)> {
        self.state.lock().pages.range(first..end).map(|(&k, p)| (k, p.dirty)).collect()
    }

    /// For SEEK_DATA (`present`) and SEEK_HOLE on a cache that holds the
    /// only copy of its data: the first page at or after `from` that is
    /// cached, or that is not.
    pub fn next_page(&self, from: u64, present: bool) -> Option<u64> {
        let st = self.state.lock();
        if present {
            return st.pages.range(from..).next().map(|(&k, _)| k);
        }
        let mut at = from;
        for (&k, _) in st.pages.range(from..) {
            if k != at {
                break;
            }
            at += 1;
        }
        Some(at)
    }

    pub fn page_count(&self) -> u64 {
        self.state.lock().pages.len() as u64
    }

    /// Dirty pages of this cache.
    #[cfg(test)]
    pub fn dirty_count(&self) -> u64 {
        self.state.lock().dirty
    }

    /// The frame at `pgoff`, allocated (zeroed) on first use, without an
    /// extra reference (for a store-less cache whose owner serializes use).
    pub fn get_or_alloc(&self, pgoff: u64) -> KResult<Frame> {
        let mut st = self.state.lock();
        if let Some(p) = st.pages.get(&pgoff) {
            return Ok(p.frame);
        }
        let f = self.phys.alloc(0)?;
        st.pages.insert(pgoff, Page { frame: f, dirty: false, holes: 0 });
        Ok(f)
    }

    /// The frame at `pgoff` with a reference for the caller: read from the
    /// store on first use, or created zeroed without one.
    pub fn frame_at(self: &Arc<Self>, pgoff: u64) -> KResult<Frame> {
        self.frame_filled(pgoff, |_| {})
    }

    /// The frame at `pgoff` with a reference for the caller. A missing page
    /// comes from the store, or else is filled by `fill` (outside any lock).
    pub fn frame_filled(self: &Arc<Self>, pgoff: u64, fill: impl FnOnce(&mut [u8])) -> KResult<Frame> {
        self.touch();
        let mut fill = Some(fill);
        for _ in 0..8 {
            {
                let st = self.state.lock();
                if let Some(p) = st.pages.get(&pgoff) {
                    self.phys.get(p.frame);
                    return Ok(p.frame);
                }
            }
            if self.store.is_some() {
                self.fill(pgoff, 1)?;
                continue;
            }
            let f = self.phys.alloc(0)?;
            if let Some(fill) = fill.take() {
                fill(self.phys.frame_bytes(f));
            }
            let mut st = self.state.lock();
            if let Some(p) = st.pages.get(&pgoff) {
                // Someone else filled it meanwhile: theirs wins.
                let existing = p.frame;
                self.phys.get(existing);
                drop(st);
                self.phys.put(f);
                return Ok(existing);
            }
            st.pages.insert(pgoff, Page { frame: f, dirty: false, holes: 0 });
            self.phys.get(f);
            return Ok(f);
        }
        // Pages keep vanishing under us (reclaim racing each fill).
        Err(Errno::ENOMEM)
    }

    /// Reads the missing pages of [pgoff, pgoff+count) that lie inside the
    /// file from the store (a fault window), in runs.
    pub fn ensure(self: &Arc<Self>, pgoff: u64, count: u64) -> KResult<()> {
        if self.store.is_none() {
            return Ok(());
        }
        let end = pgoff.saturating_add(count).min(self.size().div_ceil(PAGE_SIZE));
        let mut idx = pgoff;
        while idx < end {
            let missing = {
                let st = self.state.lock();
                let mut run = 0;
                while idx + run < end && !st.pages.contains_key(&(idx + run)) {
                    run += 1;
                }
                if run == 0 {
                    idx += 1;
                    continue;
                }
                run
            };
            self.fill(idx, missing)?;
            idx += missing;
        }
        Ok(())
    }

    /// Reads `count` pages from `index` from the store and inserts those
    /// still missing (inside the file, no truncation meanwhile).
    fn fill(self: &Arc<Self>, index: u64, count: u64) -> KResult<()> {
        let Some(store) = self.store.as_ref() else { return Ok(()) };
        let generation = self.state.lock().generation;
        let mut frames = Vec::with_capacity(count as usize);
        for _ in 0..count {
            match self.phys.alloc(0) {
                Ok(f) => frames.push(f),
                Err(e) if frames.is_empty() => return Err(e),
                Err(_) => break,
            }
        }
        self.phys.populate(&frames);
        let holes = {
            let mut bufs: Vec<&mut [u8]> = frames.iter().map(|&f| self.phys.frame_bytes(f)).collect();
            store.read_pages(index, &mut bufs)
        };
        let holes = match holes {
            Ok(h) => h,
            Err(e) => {
                self.phys.put_many(frames);
                return Err(e);
            }
        };
        let size = self.size();
        let mut unused = Vec::new();
        {
            let mut st = self.state.lock();
            for (i, f) in frames.into_iter().enumerate() {
                let idx = index + i as u64;
                let start = idx * PAGE_SIZE;
                if st.generation != generation || start >= size || st.pages.contains_key(&idx) {
                    unused.push(f);
                    continue;
                }
                if start + PAGE_SIZE > size {
                    // Bytes past the end of the file read as zero.
                    self.phys.frame_bytes(f)[(size - start) as usize..].fill(0);
                }
                st.pages.insert(idx, Page { frame: f, dirty: false, holes: holes.get(i).copied().unwrap_or(0) });
            }
        }
        self.phys.put_many(unused);
        Ok(())
    }

    /// read(2) on a file with a store: bytes at `off`, short at the end of
    /// the file. Misses read ahead when the reads are sequential.
    pub fn read(self: &Arc<Self>, off: u64, buf: &mut [u8]) -> KResult<usize> {
        let mut at = 0;
        self.read_pieces(off, buf.len(), &mut |piece| {
            buf[at..at + piece.len()].copy_from_slice(piece);
            at += piece.len();
            Ok(())
        })
    }

    /// read(2) without a kernel buffer: hands the bytes at `off` (at most
    /// `len`, short at the end of the file) to `sink` page by page, with no
    /// lock held while it runs (it copies to guest memory, which takes
    /// address-space locks). A sink error ends the read: an error if
    /// nothing was delivered, else the count so far.
    pub fn read_pieces(self: &Arc<Self>, off: u64, len: usize, sink: &mut dyn FnMut(&[u8]) -> KResult<()>) -> KResult<usize> {
        self.touch();
        let size = self.size();
        if off >= size || len == 0 {
            return Ok(0);
        }
        let n = (size - off).min(len as u64) as usize;
        let mut done = 0usize;
        let mut misses = 0;
        while done < n {
            // A batch of cached pages, each with a reference held.
            let (batch, missing) = {
                let st = self.state.lock();
                let mut batch: Vec<(Frame, usize, usize)> = Vec::new();
                let mut missing = None;
                let mut at = done;
                while at < n && batch.len() < 256 {
                    let pos = off + at as u64;
                    let (idx, in_page) = (pos / PAGE_SIZE, (pos % PAGE_SIZE) as usize);
                    let take = (PAGE - in_page).min(n - at);
                    match st.pages.get(&idx) {
                        Some(p) => {
                            self.phys.get(p.frame);
                            batch.push((p.frame, in_page, take));
                        }
                        None => {
                            missing = Some(idx);
                            break;
                        }
                    }
                    at += take;
                }
                (batch, missing)
            };
            let mut failed = None;
            for &(frame, from, take) in &batch {
                if failed.is_none() {
                    match sink(&self.phys.frame_bytes(frame)[from..from + take]) {
                        Ok(()) => done += take,
                        Err(e) => failed = Some(e),
                    }
                }
            }
            self.phys.put_many(batch.iter().map(|b| b.0));
            if let Some(e) = failed {
                return if done > 0 { Ok(done) } else { Err(e) };
            }
            if let Some(idx) = missing {
                misses += 1;
                if misses > 64 {
                    return if done > 0 { Ok(done) } else { Err(Errno::ENOMEM) };
                }
                let wanted = ((off + n as u64).div_ceil(PAGE_SIZE) - idx).max(1);
                let count = self.readahead(idx, wanted);
                if let Err(e) = self.ensure(idx, count) {
                    return if done > 0 { Ok(done) } else { Err(e) };
                }
            }
        }
        self.state.lock().next_sequential = (off + n as u64).div_ceil(PAGE_SIZE);
        Ok(n)
    }

    /// read(2) into pinned guest pages `dst` (their total is the count):
    /// cached pages are copied from, and a long run of missing pages of a
    /// file nobody maps is read straight from the store (`DIRECT_READ_MIN`);
    /// shorter misses fill the cache with readahead. Short at the end of
    /// the file.
    pub fn read_into(self: &Arc<Self>, off: u64, dst: &mut [&mut [u8]]) -> KResult<usize> {
        self.touch();
        let size = self.size();
        let total: usize = dst.iter().map(|b| b.len()).sum();
        if off >= size || total == 0 {
            return Ok(0);
        }
        let n = (size - off).min(total as u64) as usize;
        let end_page = (off + n as u64).div_ceil(PAGE_SIZE);
        let mut out = Scatter::new(dst);
        let mut done = 0usize;
        let mut misses = 0;
        while done < n {
            let first = (off + done as u64) / PAGE_SIZE;
            // Cached pages from `first` (each with a reference held), or
            // else the length of the run of missing ones.
            let (batch, missing) = {
                let st = self.state.lock();
                let mut batch: Vec<Frame> = Vec::new();
                let mut idx = first;
                while idx < end_page && batch.len() < 256 {
                    match st.pages.get(&idx) {
                        Some(p) => {
                            self.phys.get(p.frame);
                            batch.push(p.frame);
                        }
                        None => break,
                    }
                    idx += 1;
                }
                let mut missing = 0;
                if batch.is_empty() {
                    while first + missing < end_page && !st.pages.contains_key(&(first + missing)) {
                        missing += 1;
                    }
                }
                (batch, missing)
            };
            for &frame in &batch {
                let pos = off + done as u64;
                let in_page = (pos % PAGE_SIZE) as usize;
                let take = (PAGE - in_page).min(n - done);
                out.put(&self.phys.frame_bytes(frame)[in_page..in_page + take]);
                done += take;
            }
            self.phys.put_many(batch.iter().copied());
            if missing == 0 {
                continue;
            }
            if missing >= DIRECT_READ_MIN && self.mappers.lock().iter().all(|w| w.strong_count() == 0) {
                let pos = off + done as u64;
                let len = ((first + missing) * PAGE_SIZE - pos).min((n - done) as u64) as usize;
                // Shared with writes and writeback; truncation and hole
                // punching (which free blocks) wait, so what the mapping
                // names is this file's until the read is done.
                let _io = self.io.read();
                if let Some(r) = self.store.as_ref().and_then(|s| s.read_direct(pos, &mut out.take(len))) {
                    match r {
                        Ok(()) => {
                            done += len;
                            continue;
                        }
                        Err(e) => return if done > 0 { Ok(done) } else { Err(e) },
                    }
                }
            }
            misses += 1;
            if misses > 64 {
                // Reclaim keeps taking what we read: give up with what we have.
                return if done > 0 { Ok(done) } else { Err(Errno::ENOMEM) };
            }
            let count = self.readahead(first, end_page - first);
            if let Err(e) = self.ensure(first, count) {
                return if done > 0 { Ok(done) } else { Err(e) };
            }
        }
        self.state.lock().next_sequential = end_page;
        Ok(n)
    }

    /// How many pages a miss at `idx` reads: what the caller wants, and more
    /// for a sequential reader (a window that doubles up to 1 MiB).
    fn readahead(&self, idx: u64, wanted: u64) -> u64 {
        let mut st = self.state.lock();
        if idx == st.next_sequential && idx != 0 {
            st.window = (st.window * 2).min(READAHEAD_MAX);
        } else if idx != 0 {
            st.window = READAHEAD_MIN;
        }
        wanted.max(st.window).min(READAHEAD_MAX.max(wanted))
    }

    /// write(2) on a file with a store: copies `data` into the cache at
    /// `off`, dirtying the pages (space for pages without disk blocks is
    /// reserved first: ENOSPC here, not at writeback). Partial pages that
    /// hold file data are read first. Returns the bytes written (short
    /// when the disk or memory fills part way).
    pub fn write(self: &Arc<Self>, off: u64, data: &[u8]) -> KResult<usize> {
        self.write_gather(off, &[data])
    }

    /// `write` of the pieces `src`, in order (pinned guest pages: one
    /// copy from the writer's memory into the cache).
    pub fn write_gather(self: &Arc<Self>, off: u64, src: &[&[u8]]) -> KResult<usize> {
        let Some(store) = self.store.clone() else { return Err(Errno::EINVAL) };
        let len: usize = src.iter().map(|s| s.len()).sum();
        if len == 0 {
            return Ok(0);
        }
        let mut data = Gather::new(src);
        self.touch();
        let _io = self.io.read();
        let end = off.checked_add(len as u64).ok_or(Errno::EFBIG)?;
        let (first, last) = (off / PAGE_SIZE, (end - 1) / PAGE_SIZE);
        let size = self.size();
        // Edge pages keep bytes the write does not cover: read them first.
        for idx in [first, last] {
            let start = idx * PAGE_SIZE;
            let covered = (off.max(start), end.min(start + PAGE_SIZE));
            let keeps_data = (start < covered.0 && start < size) || (covered.1 < (start + PAGE_SIZE).min(size));
            if keeps_data && self.lookup(idx).is_none() {
                self.ensure(idx, 1)?;
            }
        }
        // What the pages that become dirty need reserved.
        let (absent, clean_need) = {
            let st = self.state.lock();
            let mut absent = false;
            let mut need = 0u64;
            for idx in first..=last {
                match st.pages.get(&idx) {
                    None => absent = true,
                    Some(p) if !p.dirty => need += p.holes as u64,
                    Some(_) => {}
                }
            }
            (absent, need)
        };
        let holes = if absent { store.holes(first, last - first + 1)? } else { Vec::new() };
        let hole_of = |idx: u64| holes.get((idx - first) as usize).copied().unwrap_or(0);
        let need = clean_need + {
            let st = self.state.lock();
            (first..=last).filter(|i| !st.pages.contains_key(i)).map(|i| hole_of(i) as u64).sum::<u64>()
        };
        // A full disk: write as many whole pages as fit (a short write).
        let (reserved, pages_allowed) = match store.reserve(need) {
            Ok(()) => (need, last - first + 1),
            Err(e) if need > 0 => {
                let mut got = 0u64;
                let mut pages = 0u64;
                for idx in first..=last {
                    let n = match self.state.lock().pages.get(&idx) {
                        Some(p) if p.dirty => 0,
                        Some(p) => p.holes as u64,
                        None => hole_of(idx) as u64,
                    };
                    if n > 0 && store.reserve(n).is_err() {
                        break;
                    }
                    got += n;
                    pages += 1;
                }
                if pages == 0 {
                    return Err(e);
                }
                (got, pages)
            }
            Err(e) => return Err(e),
        };
        // Frames for the new pages, taken before the cache's lock: memory
        // may have to come from this very cache's clean pages.
        let absent_pages = {
            let st = self.state.lock();
            (first..first + pages_allowed).filter(|i| !st.pages.contains_key(i)).count()
        };
        let mut spare = Vec::with_capacity(absent_pages);
        let mut result = Ok(());
        for _ in 0..absent_pages {
            match self.phys.alloc(0) {
                Ok(f) => spare.push(f),
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        self.phys.populate(&spare);
        let mut done = 0usize;
        let mut used = 0u64;
        {
            let mut st = self.state.lock();
            let mut newly_dirty = 0u64;
            for idx in first..first + pages_allowed {
                let start = idx * PAGE_SIZE;
                let (from, to) = (off.max(start), end.min(start + PAGE_SIZE));
                let page = match st.pages.get_mut(&idx) {
                    Some(p) => p,
                    None => match spare.pop() {
                        Some(f) => st.pages.entry(idx).or_insert(Page { frame: f, dirty: false, holes: hole_of(idx) }),
                        None => break,
                    },
                };
                data.get(&mut self.phys.frame_bytes(page.frame)[(from - start) as usize..(to - start) as usize]);
                if !page.dirty {
                    page.dirty = true;
                    used += page.holes as u64;
                    newly_dirty += 1;
                }
                done = (to - off) as usize;
            }
            if newly_dirty > 0 {
                self.note_dirty(&mut st, newly_dirty);
            }
            if done > 0 {
                self.grow_size(off + done as u64);
            }
        }
        self.phys.put_many(spare);
        // Pages dirtied by someone else meanwhile needed less than we took.
        if reserved > used {
            store.unreserve(reserved - used);
        } else if used > reserved {
            let _ = store.reserve(used - reserved);
        }
        drop(_io);
        balance_dirty_pages(self);
        match result {
            Err(e) if done == 0 => Err(e),
            _ => Ok(done),
        }
    }

    /// Records newly dirty pages (under `state`): the cache joins `DIRTY`.
    fn note_dirty(self: &Arc<Self>, st: &mut State, pages: u64) {
        st.dirty += pages;
        DIRTY_PAGES.fetch_add(pages, Ordering::Relaxed);
        if st.dirtied_at.is_none() {
            st.dirtied_at = Some(Instant::now());
        }
        if !self.registered.swap(true, Ordering::AcqRel) {
            DIRTY.lock().push(self.clone());
        }
    }

    /// A write through a shared mapping (a write fault on a page mapped
    /// read-only, or a kernel write into mapped memory): the page becomes
    /// dirty, its space reserved. ENOSPC when the disk is full (SIGBUS).
    pub fn mark_dirty(self: &Arc<Self>, pgoff: u64) -> KResult<()> {
        let Some(store) = self.store.as_ref() else { return Ok(()) };
        let need = {
            let mut st = self.state.lock();
            match st.pages.get_mut(&pgoff) {
                None => return Err(Errno::EFAULT),
                Some(p) if p.dirty => return Ok(()),
                Some(p) if p.holes == 0 => {
                    p.dirty = true;
                    self.note_dirty(&mut st, 1);
                    return Ok(());
                }
                Some(p) => p.holes as u64,
            }
        };
        store.reserve(need)?;
        let mut st = self.state.lock();
        match st.pages.get_mut(&pgoff) {
            Some(p) if !p.dirty => {
                let extra = need.saturating_sub(p.holes as u64);
                p.dirty = true;
                self.note_dirty(&mut st, 1);
                drop(st);
                if extra > 0 {
                    store.unreserve(extra);
                }
            }
            _ => {
                drop(st);
                store.unreserve(need);
            }
        }
        Ok(())
    }

    /// For mapping pages to the host: whether each page of [pgoff,
    /// pgoff+count) is dirty (a clean page of a file with a store is mapped
    /// read-only, so the first write through a mapping is seen).
    pub fn dirty_map(&self, pgoff: u64, count: u64) -> Vec<bool> {
        let st = self.state.lock();
        (pgoff..pgoff + count).map(|i| st.pages.get(&i).is_some_and(|p| p.dirty)).collect()
    }

    /// Exclusive guard for truncation, hole punching and preallocation.
    pub fn io_exclusive(&self) -> RwLockWriteGuard<'_, ()> {
        self.io.write()
    }

    /// Drops pages at offsets >= `first`; returns how many. Dirty ones give
    /// their reservation back.
    pub fn truncate_pages(&self, first: u64) -> u64 {
        self.drop_range(first, u64::MAX)
    }

    /// Drops the pages of [first, end) (truncation).
    pub fn drop_range(&self, first: u64, end: u64) -> u64 {
        let frames = self.take_range(first, end);
        let n = frames.len() as u64;
        self.phys.put_many(frames);
        n
    }

    /// Takes the pages of [first, end) out for a hole punch; their frames
    /// are released only when the result goes (see `PunchedPages`).
    pub fn punch_range(&self, first: u64, end: u64) -> PunchedPages {
        PunchedPages { phys: self.phys.clone(), frames: self.take_range(first, end) }
    }

    /// Removes the pages of [first, end) and returns their frames, still
    /// referenced. Dirty ones give their reservation back.
    fn take_range(&self, first: u64, end: u64) -> Vec<Frame> {
        if first >= end {
            return Vec::new();
        }
        let (frames, unreserve, dirty) = {
            let mut st = self.state.lock();
            st.generation += 1;
            let keys: Vec<u64> = st.pages.range(first..end).map(|(&k, _)| k).collect();
            let mut frames = Vec::with_capacity(keys.len());
            let (mut unreserve, mut dirty) = (0u64, 0u64);
            for k in keys {
                if let Some(p) = st.pages.remove(&k) {
                    if p.dirty {
                        unreserve += p.holes as u64;
                        dirty += 1;
                    }
                    frames.push(p.frame);
                }
            }
            st.dirty -= dirty;
            if st.dirty == 0 {
                st.dirtied_at = None;
            }
            (frames, unreserve, dirty)
        };
        DIRTY_PAGES.fetch_sub(dirty, Ordering::Relaxed);
        if unreserve > 0
            && let Some(s) = &self.store
        {
            s.unreserve(unreserve);
        }
        frames
    }

    /// Zeroes the bytes of the page holding offset `size` from there on (a
    /// file shrank to `size`, or a hole was punched up to a page boundary).
    pub fn zero_from(&self, size: u64) {
        let off = (size % PAGE_SIZE) as usize;
        if off == 0 {
            return;
        }
        let st = self.state.lock();
        if let Some(p) = st.pages.get(&(size / PAGE_SIZE)) {
            self.phys.frame_bytes(p.frame)[off..].fill(0);
        }
    }

    /// Zeroes bytes [from, to) within one cached page (hole punching's
    /// partial pages); absent pages need nothing.
    pub fn zero_range_in_page(&self, from: u64, to: u64) {
        let idx = from / PAGE_SIZE;
        if to <= from || (to - 1) / PAGE_SIZE != idx {
            return;
        }
        let st = self.state.lock();
        if let Some(p) = st.pages.get(&idx) {
            let base = idx * PAGE_SIZE;
            self.phys.frame_bytes(p.frame)[(from - base) as usize..(to - base) as usize].fill(0);
        }
    }

    /// The disk now holds blocks for [first, end) (preallocation): cached
    /// pages there need no reservation; returns the units dirty ones held.
    pub fn forget_holes(&self, first: u64, end: u64) -> u64 {
        let mut st = self.state.lock();
        let mut freed = 0u64;
        for (_, p) in st.pages.range_mut(first..end) {
            if p.dirty {
                freed += p.holes as u64;
            }
            p.holes = 0;
        }
        freed
    }

    /// The disk blocks under page `pgoff` changed without the cache (the
    /// file shrank into it, or a hole was punched through it): asks the
    /// store again what the page needs, adjusting a dirty page's reservation.
    pub fn refresh_holes(&self, pgoff: u64) {
        let Some(store) = self.store.as_ref() else { return };
        if !self.state.lock().pages.contains_key(&pgoff) {
            return;
        }
        let Ok(h) = store.holes(pgoff, 1) else { return };
        let now = h.first().copied().unwrap_or(0);
        let (was, dirty) = {
            let mut st = self.state.lock();
            match st.pages.get_mut(&pgoff) {
                Some(p) => {
                    let was = p.holes;
                    p.holes = now;
                    (was, p.dirty)
                }
                None => return,
            }
        };
        if dirty && now > was {
            // Space freed by the same change covers it (best effort).
            let _ = store.reserve((now - was) as u64);
        } else if dirty && now < was {
            store.unreserve((was - now) as u64);
        }
    }

    /// Takes the writeback error not yet reported (fsync reports it once).
    pub fn take_error(&self) -> Option<Errno> {
        self.state.lock().error.take()
    }

    /// Writes every dirty page back (fsync, sync, unmount).
    pub fn write_back_all(self: &Arc<Self>) -> KResult<()> {
        self.write_back(0, u64::MAX)
    }

    /// Writes the dirty pages of [first, end) back through the store, in
    /// runs of consecutive pages. Pages mapped writable somewhere are
    /// write-protected first and written too (a write through a mapping
    /// dirties nothing we could see); a later write faults and dirties.
    pub fn write_back(self: &Arc<Self>, first: u64, end: u64) -> KResult<()> {
        let Some(store) = self.store.clone() else { return Ok(()) };
        let _io = self.io.read();
        let through_mappings = self.write_protect_mappings(first, end);
        let size = self.size();
        // (index, frame, reserved units), each with a reference held.
        let mut batch: Vec<(u64, Frame, u64)> = Vec::new();
        {
            let mut st = self.state.lock();
            let mut cleaned = 0u64;
            for (&idx, p) in st.pages.range_mut(first..end) {
                if !(p.dirty || through_mappings.binary_search(&idx).is_ok()) {
                    continue;
                }
                if idx * PAGE_SIZE >= size {
                    continue;
                }
                self.phys.get(p.frame);
                let reserved = if p.dirty { p.holes as u64 } else { 0 };
                batch.push((idx, p.frame, reserved));
                if p.dirty {
                    p.dirty = false;
                    cleaned += 1;
                }
                p.holes = 0;
            }
            st.dirty -= cleaned;
            DIRTY_PAGES.fetch_sub(cleaned, Ordering::Relaxed);
            if st.dirty == 0 {
                st.dirtied_at = None;
            }
        }
        let mut result = Ok(());
        let mut i = 0;
        while i < batch.len() {
            let mut j = i + 1;
            while j < batch.len() && j - i < WRITEBACK_RUN && batch[j].0 == batch[j - 1].0 + 1 {
                j += 1;
            }
            let run = &batch[i..j];
            let last_idx = run[run.len() - 1].0;
            if (last_idx + 1) * PAGE_SIZE > size {
                // What a mapping wrote past the end of the file stays out.
                self.phys.frame_bytes(run[run.len() - 1].1)[(size - last_idx * PAGE_SIZE) as usize..].fill(0);
            }
            let bufs: Vec<&[u8]> = run.iter().map(|&(_, f, _)| &*self.phys.frame_bytes(f)).collect();
            let reserved: u64 = run.iter().map(|r| r.2).sum();
            if let Err(e) = store.write_pages(run[0].0, &bufs, size, reserved) {
                // The data is lost to the disk, as on Linux; fsync reports it.
                self.state.lock().error = Some(e);
                if result.is_ok() {
                    result = Err(e);
                }
            }
            i = j;
        }
        self.phys.put_many(batch.iter().map(|b| b.1));
        drop(_io);
        self.settle_registration();
        result
    }

    /// msync(MS_SYNC): writes back [first, end) and makes it durable;
    /// reports a writeback error not yet reported.
    pub fn sync_range(self: &Arc<Self>, first: u64, end: u64) -> KResult<()> {
        let Some(store) = self.store.clone() else { return Ok(()) };
        let written = self.write_back(first, end);
        if let Some(e) = self.take_error() {
            return Err(e);
        }
        written?;
        store.sync()
    }

    /// Leaves `DIRTY` once clean.
    fn settle_registration(self: &Arc<Self>) {
        let mut removed = None;
        {
            let st = self.state.lock();
            if st.dirty == 0 && self.registered.load(Ordering::Acquire) {
                let mut dirty = DIRTY.lock();
                if let Some(pos) = dirty.iter().position(|c| Arc::ptr_eq(c, self)) {
                    removed = Some(dirty.swap_remove(pos));
                }
                self.registered.store(false, Ordering::Release);
            }
        }
        drop(removed);
    }

    /// Write-protects the pages of [first, end) in every writable shared
    /// mapping; returns (sorted) the page offsets a mapping may have
    /// written since they were last clean.
    fn write_protect_mappings(self: &Arc<Self>, first: u64, end: u64) -> Vec<u64> {
        let mappers: Vec<Arc<Mm>> = self.mappers.lock().iter().filter_map(|w| w.upgrade()).collect();
        let mut written = Vec::new();
        for mm in mappers {
            let pending = mm.host_changes_pending();
            written.extend(mm.lock().write_protect_shared(self, first, end, pending));
        }
        written.sort_unstable();
        written.dedup();
        written
    }

    /// Whether any address space has a shared mapping that may write
    /// this memory (Linux's mapping_writably_mapped), for F_SEAL_WRITE.
    /// The caller has already made new such mappings fail. An address
    /// space that becomes a mapper while we look (a fork of one we have
    /// looked at) is looked at too: a fork registers its child before the
    /// parent's copy can go, so a copy cannot slip by.
    pub fn writably_mapped(&self) -> bool {
        // Held, not just remembered, so no new address space can reuse
        // one's address while we look.
        let mut seen: Vec<Arc<Mm>> = Vec::new();
        loop {
            let fresh: Vec<Arc<Mm>> = self.mappers.lock().iter().filter_map(|w| w.upgrade()).filter(|mm| !seen.iter().any(|s| Arc::ptr_eq(s, mm))).collect();
            if fresh.is_empty() {
                return false;
            }
            for mm in fresh {
                if mm.lock().maps_writably(self) {
                    return true;
                }
                seen.push(mm);
            }
        }
    }

    /// Records that `mm` maps this memory.
    pub fn add_mapper(&self, mm: &Arc<Mm>) {
        let mut m = self.mappers.lock();
        m.retain(|w| w.strong_count() > 0);
        if !m.iter().any(|w| std::ptr::eq(w.as_ptr(), Arc::as_ptr(mm))) {
            m.push(Arc::downgrade(mm));
        }
    }

    /// After a file shrank: removes pages at offsets >= `first` from every
    /// mapping, a private mapping's own copies too (Linux's
    /// truncate_pagecache unmaps with even_cows), so touching them is
    /// SIGBUS as on Linux. Call without filesystem locks held (it takes
    /// address-space locks).
    pub fn unmap_from_mappers(self: &Arc<Self>, first: u64) {
        for mm in self.live_mappers() {
            mm.lock().drop_file_pages(self, first, u64::MAX, PrivatePages::All);
        }
    }

    /// After a hole punch of [first, end): removes those pages from every
    /// shared mapping, and from private mappings the pages that still
    /// share a punched frame (a private mapping's own copies stay, as
    /// Linux's punch unmaps without even_cows); a later touch reads the
    /// hole. Then the punched frames are released.
    pub fn unmap_punched(self: &Arc<Self>, first: u64, end: u64, punched: PunchedPages) {
        let mut frames = punched.frames.clone();
        frames.sort_unstable();
        for mm in self.live_mappers() {
            mm.lock().drop_file_pages(self, first, end, PrivatePages::Sharing(&frames));
        }
        drop(punched);
    }

    /// Punches out the pages [first, end) of memory without a store
    /// (MADV_REMOVE in shared anonymous memory): they leave the cache and
    /// every mapping, and read as zeros after.
    pub fn punch(self: &Arc<Self>, first: u64, end: u64) {
        let punched = self.punch_range(first, end);
        self.unmap_punched(first, end, punched);
    }

    fn live_mappers(&self) -> Vec<Arc<Mm>> {
        self.mappers.lock().iter().filter_map(|w| w.upgrade()).collect()
    }

    /// Drops clean pages only this cache holds, up to `want`; returns the
    /// frames freed. Never waits for the cache's lock.
    fn evict_clean(&self, want: usize, out: &mut Vec<Frame>) {
        let Some(mut st) = self.state.try_lock() else { return };
        let victims: Vec<u64> = st.pages.iter().filter(|(_, p)| !p.dirty && self.phys.ref_count(p.frame) == 1).map(|(&k, _)| k).take(want).collect();
        if victims.is_empty() {
            return;
        }
        st.generation += 1;
        for k in victims {
            if let Some(p) = st.pages.remove(&k) {
                out.push(p.frame);
            }
        }
    }
}

impl Drop for PageCache {
    fn drop(&mut self) {
        let st = self.state.get_mut();
        let frames: Vec<Frame> = std::mem::take(&mut st.pages).into_values().map(|p| p.frame).collect();
        if st.dirty > 0 {
            // Only a discarded cache (an unmounted or dead filesystem) ends dirty.
            DIRTY_PAGES.fetch_sub(st.dirty, Ordering::Relaxed);
        }
        self.phys.put_many(frames);
    }
}

/// Dirty pages in all caches.
pub fn dirty_pages() -> u64 {
    DIRTY_PAGES.load(Ordering::Relaxed)
}

/// Dirty pages past which writers write back themselves (Linux's
/// dirty_ratio, 20%) and the flusher starts early (dirty_background_ratio).
fn dirty_limits(phys: &PhysMemory) -> (u64, u64) {
    let total = phys.total_frames();
    ((total / 5).max(64), (total / 10).max(32))
}

/// A writer that pushed the dirty total past the limit writes its own
/// file back before going on (Linux's balance_dirty_pages), so dirty data
/// never crowds guest RAM.
fn balance_dirty_pages(cache: &Arc<PageCache>) {
    let (hard, background) = dirty_limits(&cache.phys);
    let dirty = dirty_pages();
    if dirty > background {
        crate::mm::writeback::kick();
    }
    if dirty > hard {
        let _ = cache.write_back_all();
    }
}

/// Every cache with dirty pages.
pub fn dirty_caches() -> Vec<Arc<PageCache>> {
    DIRTY.lock().clone()
}

/// Writes back every cache that has been dirty for `age` or more (all of
/// them when the dirty total is past the background limit).
pub fn write_back_expired(age: Duration) {
    let now = Instant::now();
    let caches = dirty_caches();
    let over = caches.first().is_some_and(|c| dirty_pages() > dirty_limits(&c.phys).1);
    for c in caches {
        let old = c.state.lock().dirtied_at.is_some_and(|t| now.duration_since(t) >= age);
        if over || old {
            let _ = c.write_back_all();
        }
    }
    drop(std::mem::take(&mut *DEFERRED_DROPS.lock()));
}

/// Writes back every dirty page of every cache (sync(2), shutdown).
pub fn write_back_everything() -> KResult<()> {
    let mut result = Ok(());
    for c in dirty_caches() {
        if let Err(e) = c.write_back_all() {
            result = Err(e);
        }
    }
    result
}

/// Guest RAM ran out: frees clean cached pages (least recently used
/// caches first) until at least `want` frames are free again, or nothing
/// more can go. Returns the frames freed.
pub fn reclaim(phys: &PhysMemory, want: u64) -> u64 {
    let mut caches: Vec<Arc<PageCache>> = {
        let mut all = ALL.lock();
        all.retain(|w| w.strong_count() > 0);
        all.iter().filter_map(|w| w.upgrade()).filter(|c| std::ptr::eq(&*c.phys, phys)).collect()
    };
    caches.sort_by_key(|c| c.last_used.load(Ordering::Relaxed));
    let mut freed = Vec::new();
    for c in &caches {
        if freed.len() as u64 >= want {
            break;
        }
        c.evict_clean((want - freed.len() as u64) as usize, &mut freed);
    }
    let n = freed.len() as u64;
    phys.put_many(freed);
    // Ending a file (dropping its last cache reference) is the flusher's job.
    let last: Vec<Arc<PageCache>> = caches.into_iter().filter(|c| Arc::strong_count(c) == 1).collect();
    if !last.is_empty() {
        DEFERRED_DROPS.lock().extend(last);
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store in memory, counting calls.
    #[derive(Default)]
    struct MemStore {
        data: Mutex<Vec<u8>>,
        writes: AtomicU64,
        reserved: AtomicU64,
        capacity: u64,
    }

    impl PageStore for MemStore {
        fn read_pages(&self, index: u64, bufs: &mut [&mut [u8]]) -> KResult<Vec<u8>> {
            let data = self.data.lock();
            let mut holes = Vec::new();
            for (i, b) in bufs.iter_mut().enumerate() {
                let start = (index as usize + i) * PAGE;
                if start < data.len() {
                    let n = (data.len() - start).min(PAGE);
                    b[..n].copy_from_slice(&data[start..start + n]);
                    holes.push(0);
                } else {
                    holes.push(1);
                }
            }
            Ok(holes)
        }
        fn holes(&self, index: u64, count: u64) -> KResult<Vec<u8>> {
            let len = self.data.lock().len() as u64;
            Ok((index..index + count).map(|i| if i * PAGE_SIZE < len { 0 } else { 1 }).collect())
        }
        fn reserve(&self, units: u64) -> KResult<()> {
            if self.reserved.load(Ordering::SeqCst) + units > self.capacity {
                return Err(Errno::ENOSPC);
            }
            self.reserved.fetch_add(units, Ordering::SeqCst);
            Ok(())
        }
        fn unreserve(&self, units: u64) {
            self.reserved.fetch_sub(units, Ordering::SeqCst);
        }
        fn write_pages(&self, index: u64, bufs: &[&[u8]], size: u64, reserved: u64) -> KResult<()> {
            self.writes.fetch_add(1, Ordering::SeqCst);
            self.reserved.fetch_sub(reserved, Ordering::SeqCst);
            let mut data = self.data.lock();
            let end = (size as usize).max(data.len());
            data.resize(end, 0);
            for (i, b) in bufs.iter().enumerate() {
                let start = (index as usize + i) * PAGE;
                let n = PAGE.min(size as usize - start);
                data[start..start + n].copy_from_slice(&b[..n]);
            }
            data.truncate(size as usize);
            Ok(())
        }
        fn sync(&self) -> KResult<()> {
            Ok(())
        }
    }

    fn cache(store: &Arc<MemStore>) -> Arc<PageCache> {
        let phys = Arc::new(PhysMemory::new(256 * PAGE_SIZE).unwrap());
        let size = store.data.lock().len() as u64;
        PageCache::with_store(phys, store.clone(), size)
    }

    #[test]
    fn reads_fill_from_the_store_and_writes_go_back_in_one_run() {
        let store = Arc::new(MemStore { data: Mutex::new((0..3 * PAGE).map(|i| (i % 251) as u8).collect()), capacity: 100, ..Default::default() });
        let c = cache(&store);
        let mut buf = vec![0u8; 100];
        assert_eq!(c.read(PAGE_SIZE + 5, &mut buf).unwrap(), 100);
        assert_eq!(buf[0], ((PAGE + 5) % 251) as u8);
        // Extending write over an edge page already cached and new pages.
        let n = c.write(2 * PAGE_SIZE + 10, &vec![7u8; 3 * PAGE]).unwrap();
        assert_eq!(n, 3 * PAGE);
        assert_eq!(c.size(), 5 * PAGE_SIZE + 10);
        assert_eq!(c.dirty_count(), 4);
        // Page 2 had disk data (no reservation); pages 3..5 did not.
        assert_eq!(store.reserved.load(Ordering::SeqCst), 3);
        c.write_back_all().unwrap();
        assert_eq!(store.writes.load(Ordering::SeqCst), 1, "one run of consecutive pages");
        assert_eq!(store.reserved.load(Ordering::SeqCst), 0);
        let data = store.data.lock().clone();
        assert_eq!(data.len(), 5 * PAGE + 10);
        assert_eq!(data[2 * PAGE + 9], ((2 * PAGE + 9) % 251) as u8);
        assert!(data[2 * PAGE + 10..].iter().all(|&b| b == 7));
        assert_eq!(c.dirty_count(), 0);
    }

    #[test]
    fn a_full_store_makes_the_write_short_then_enospc() {
        let store = Arc::new(MemStore { capacity: 2, ..Default::default() });
        let c = cache(&store);
        assert_eq!(c.write(0, &vec![1u8; 3 * PAGE]).unwrap(), 2 * PAGE);
        assert_eq!(c.write(2 * PAGE_SIZE, b"x"), Err(Errno::ENOSPC));
        // Rewriting dirty pages needs nothing more.
        assert_eq!(c.write(0, b"abc").unwrap(), 3);
        // Truncation gives the reservation back.
        c.truncate_pages(1);
        assert_eq!(store.reserved.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn clean_pages_are_reclaimed_dirty_and_mapped_ones_stay() {
        let store = Arc::new(MemStore { data: Mutex::new(vec![5u8; 8 * PAGE]), capacity: 100, ..Default::default() });
        let c = cache(&store);
        let mut buf = vec![0u8; 8 * PAGE];
        c.read(0, &mut buf).unwrap();
        assert_eq!(c.page_count(), 8);
        c.write(0, b"dirty").unwrap();
        let mapped = c.frame_at(1).unwrap();
        let freed = reclaim(&c.phys, 100);
        assert_eq!(freed, 6);
        assert_eq!(c.page_count(), 2);
        c.phys.put(mapped);
        // A reclaimed page reads back from the store.
        let mut b = [0u8; 4];
        c.read(5 * PAGE_SIZE, &mut b).unwrap();
        assert_eq!(b, [5; 4]);
    }
}
