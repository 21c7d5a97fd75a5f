//! Virtual memory areas: what a range of guest addresses is backed by and
//! with which permissions, and the caches private file mappings share.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;

use crate::mm::page_cache::PageCache;

/// File data as a private file mapping reads it. Filesystems implement it
/// for their files (mm never names fs).
pub trait FileData: Send + Sync {
    fn size(&self) -> crate::abi::KResult<u64>;
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> crate::abi::KResult<usize>;
    /// Identity and version: (dev, ino, mtime seconds, mtime nanoseconds,
    /// size). Pages cached for one version are never shown for another.
    fn version(&self) -> crate::abi::KResult<(u64, u64, i64, i64, u64)>;
    /// Punches a hole in the file over [offset, offset+len), as
    /// fallocate(PUNCH_HOLE|KEEP_SIZE) through a file open for writing
    /// (MADV_REMOVE); EOPNOTSUPP where its filesystem cannot.
    fn punch_hole(&self, _offset: u64, _len: u64) -> crate::abi::KResult<()> {
        Err(crate::abi::Errno::EOPNOTSUPP)
    }
    /// The pathname /proc/<pid>/maps shows for a shared mapping of it
    /// (None: an anonymous shared mapping's "/dev/zero (deleted)").
    fn maps_name(&self) -> Option<Vec<u8>> {
        None
    }
}

#[derive(Clone)]
pub enum Backing {
    /// Private anonymous memory: zero on first touch.
    Anonymous,
    /// Shared memory; `pgoff` is the page offset of the VMA's start.
    /// `file` is the mapped file, held as Linux's vm_file is, so its
    /// mount stays busy while mapped (and /proc/<pid>/maps names it);
    /// None for anonymous shared memory.
    Shared { memory: Arc<PageCache>, pgoff: u64, file: Option<Arc<dyn FileData>> },
    /// A private mapping of a file: pages are copied from the file on first
    /// touch. Bytes at file offsets >= `file_end` read as zero (an ELF
    /// segment's bss tail shares its last file page).
    /// `cache` holds the file's pages shared by every private mapping of
    /// it (copy-on-write), so repeated execs of one binary share frames.
    File { file: Arc<dyn FileData>, offset: u64, file_end: u64, name: Vec<u8>, dev: u64, ino: u64, cache: Option<Arc<PageCache>> },
    /// A shared mapping of a host file (a `--share` file, or one of the
    /// read-only host view): the host maps the file itself
    /// (`HostOp::MapFile`, the whole VMA at its first fault), so its pages
    /// are the host's page cache, never guest RAM, and the guest,
    /// vkernel's reads and writes of the file and host processes all see
    /// one copy. vkernel reaches the pages through `host` (opened for
    /// writing when the mapping may write). `mapped`: the host maps the
    /// whole VMA (or the order is queued). `may_exec`: neither the guest's
    /// mount nor the host's is noexec (Linux's VM_MAYEXEC: mprotect may
    /// not add PROT_EXEC otherwise, and the host would refuse the map).
    HostFile { file: Arc<dyn FileData>, host: crate::platform::HostFile, offset: u64, dev: u64, ino: u64, mapped: bool, may_exec: bool },
}

impl Backing {
    /// The page cache whose reverse map must hold a mapping of this
    /// (`PageCache::add_mapper`): a shared mapping's memory, or the cache
    /// a private file mapping shares pages from.
    pub fn page_cache(&self) -> Option<&Arc<PageCache>> {
        match self {
            Backing::Shared { memory, .. } => Some(memory),
            Backing::File { cache, .. } => cache.as_ref(),
            Backing::Anonymous | Backing::HostFile { .. } => None,
        }
    }

    /// A host-file mapping the host maps now (see `Backing::HostFile`).
    pub fn host_file_mapped(&self) -> bool {
        matches!(self, Backing::HostFile { mapped: true, .. })
    }

    /// Marks a host-file mapping as not mapped on the host (it will be
    /// mapped whole at its next fault).
    pub fn forget_host_file(&mut self) {
        if let Backing::HostFile { mapped, .. } = self {
            *mapped = false;
        }
    }

    /// A private mapping of a host file through its version-keyed cache:
    /// nothing vkernel does changes the pages it shares, so a page copied
    /// early shows what a page copied at its first write would.
    pub fn is_frozen_file(&self) -> bool {
        matches!(self, Backing::File { cache: Some(c), .. } if !c.has_store() && !c.is_memory_only())
    }
}

/// The shared page cache for a file without one of its own (host files
/// seen through the read-only root), keyed by identity and version so a
/// file changed on the host gets a fresh cache. It lives while some
/// mapping holds it.
pub fn file_cache(file: &dyn FileData) -> Option<Arc<PageCache>> {
    type Key = (u64, u64, i64, i64, u64);
    static CACHES: std::sync::OnceLock<Mutex<HashMap<Key, std::sync::Weak<PageCache>>>> = std::sync::OnceLock::new();
    let key = file.version().ok()?;
    let size = key.4;
    let mut caches = CACHES.get_or_init(Default::default).lock();
    let cache = match caches.get(&key).and_then(|w| w.upgrade()) {
        Some(c) => c,
        None => {
            caches.retain(|_, w| w.strong_count() > 0);
            let cache = PageCache::refillable(crate::mm::frame::guest_ram().clone());
            cache.set_size(size);
            caches.insert(key, Arc::downgrade(&cache));
            cache
        }
    };
    drop(caches);
    keep_recent(&cache);
    Some(cache)
}

/// The cache a private mapping of a file shares pages from (copy-on-write,
/// so the mapping sees the file's later writes until it writes a page
/// itself, as on Linux): the file's own page cache, else the version-keyed
/// cache of a file without one (host files). A store-less cache's (tmpfs)
/// holes stay holes: only its present pages are shared (see populate).
pub fn private_file_cache(page_cache: Option<Arc<PageCache>>, file: &dyn FileData) -> Option<Arc<PageCache>> {
    match page_cache {
        Some(c) => Some(c),
        None => file_cache(file),
    }
}

/// Recently mapped host files keep their cached pages after the last
/// mapping goes (as Linux's page cache does), so running the same program
/// again reads nothing. Dropped when guest RAM runs out.
const RECENT_FILE_CACHES: usize = 16;

fn recent() -> &'static Mutex<std::collections::VecDeque<Arc<PageCache>>> {
    static RECENT: std::sync::OnceLock<Mutex<std::collections::VecDeque<Arc<PageCache>>>> = std::sync::OnceLock::new();
    RECENT.get_or_init(Default::default)
}

fn keep_recent(cache: &Arc<PageCache>) {
    let mut r = recent().lock();
    r.retain(|c| !Arc::ptr_eq(c, cache));
    r.push_front(cache.clone());
    r.truncate(RECENT_FILE_CACHES);
}

/// Frees the pages only the recent-file list holds (memory is short).
pub fn drop_recent_file_caches() {
    let dropped: Vec<Arc<PageCache>> = std::mem::take(&mut *recent().lock()).into();
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
            Backing::File { offset, .. } | Backing::HostFile { offset, .. } => *offset += delta,
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
            (Backing::Shared { memory: a, pgoff: pa, .. }, Backing::Shared { memory: b, pgoff: pb, .. }) => Arc::ptr_eq(a, b) && pa + self.len() / 4096 == *pb,
            (Backing::File { dev: da, ino: ia, offset: oa, file_end: ea, .. }, Backing::File { dev: db, ino: ib, offset: ob, file_end: eb, .. }) => {
                (da, ia) == (db, ib) && oa + self.len() == *ob && ea == eb
            }
            (Backing::HostFile { host: ha, offset: oa, mapped: ma, .. }, Backing::HostFile { host: hb, offset: ob, mapped: mb, .. }) => {
                ha == hb && oa + self.len() == *ob && ma == mb
            }
            _ => false,
        }
    }
}
