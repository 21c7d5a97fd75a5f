//! Guest address spaces: VMAs, vkernel's own page table, the fault path and
//! copies to and from guest memory. The page table here is the truth; a
//! stub's host mappings are a cache rebuilt on fault. Changes that the host
//! must see are queued as `HostOp`s and applied by the platform before the
//! guest runs again; frames unmapped from the page table are released only
//! after that, so a stale host mapping can never expose a reused frame.

pub mod accounting;
pub mod frame;
pub mod map;
pub mod oom;
pub mod page_cache;
pub mod patch;
pub mod scatter;
pub mod uaccess;
pub mod vdso;
pub mod vma;
pub mod writeback;

use parking_lot::{Mutex, MutexGuard};
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::abi::mman::{MAP_GROWSDOWN, MAP_PRIVATE, MAP_TYPE, PROT_EXEC, PROT_READ, PROT_WRITE};
use crate::abi::{Errno, KResult, PAGE_SIZE, Pod};
use frame::{Frame, PhysMemory};
use vma::{Backing, Vma};

/// Guest addresses are below this; the stub lives above it.
pub const TASK_SIZE: u64 = crate::platform::STUB_REGION_START;
/// Lowest address a guest may map (Linux's default vm.mmap_min_addr).
pub const MMAP_MIN_ADDR: u64 = 0x10000;
/// Pages mapped around a fault in one go (64 KiB).
const FAULT_AROUND_PAGES: u64 = 16;
/// The largest window an anonymous streak grows to (2 MiB, order 9).
const ANON_STREAK_MAX_PAGES: u64 = 512;
/// A private file mapping's fault also maps the pages around it (this
/// aligned window, 1 MiB) that the file's cache already holds: no I/O,
/// and code runs through a library in a few faults.
const FILE_AROUND_PAGES: u64 = 256;
/// Copy-on-write pages copied together on a write fault (aligned window).
const COW_AROUND_PAGES: u64 = 8;
/// Pages on each side of a fault whose present pages are mapped together.
const PRESENT_MAP_AROUND: u64 = 256;

/// Host calls a new host address space spends at most on mapping what the
/// old one mapped (one ptrace batch holds 73).
const REWARM_MAX_OPS: usize = 64;

pub use crate::platform::HostOp;

/// Adds page `vpn` to sorted runs [start, end) of page numbers, extending
/// the last run when it is the next page.
fn add_page_to_runs(runs: &mut Vec<(u64, u64)>, vpn: u64) {
    match runs.last_mut() {
        Some((_, end)) if *end == vpn => *end += 1,
        _ => runs.push((vpn, vpn + 1)),
    }
}

/// How the host maps a page now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostMapping {
    None,
    /// Mapped without write although the VMA allows it: copy-on-write.
    ReadOnly,
    Full,
}

#[derive(Clone, Copy, Debug)]
pub struct Pte {
    pub frame: Frame,
    /// Private page whose frame may be shared (after fork): copy on write.
    pub cow: bool,
    pub host: HostMapping,
}

/// Why a fault could not be resolved: the signal the guest gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultError {
    /// SIGSEGV with SEGV_MAPERR: nothing mapped there.
    MapErr,
    /// SIGSEGV with SEGV_ACCERR: mapped, but not with that access.
    AccErr,
    /// SIGBUS with BUS_ADRERR: a file mapping beyond the end of the file.
    Bus,
    /// Guest RAM is exhausted.
    OutOfMemory,
}

pub struct MmState {
    pub vmas: BTreeMap<u64, Vma>,
    pub pages: BTreeMap<u64, Pte>,
    pub brk_start: u64,
    pub brk: u64,
    pub mmap_base: u64,
    pub stack_top: u64,
    /// Size of guest RAM, for overcommit checks.
    pub ram_bytes: u64,
    pub arg_start: u64,
    pub arg_end: u64,
    pub env_start: u64,
    pub env_end: u64,
    /// The stack pointer a program started with, and its auxiliary vector
    /// (Linux's mm->start_stack and saved_auxv, for /proc).
    pub start_stack: u64,
    pub saved_auxv: Vec<(u64, u64)>,
    /// The process's limits on this address space, and its locked pages
    /// (see accounting.rs).
    pub limits: accounting::VmLimits,
    pub locked: accounting::Locked,
    host_ops: Vec<HostOp>,
    deferred_frees: Vec<Frame>,
    /// VMAs unmapped under the lock, dropped once it is released (see
    /// `MmGuard`).
    released: Vec<Vma>,
    /// Page runs [start, end) (page numbers) a new host address space maps
    /// at once (`forget_host_mappings`): a fork child's copy of what its
    /// parent's host mapped.
    rewarm: Vec<(u64, u64)>,
    /// Anonymous first-touch faults that walk up a VMA get windows that
    /// double (`anonymous_window`): the page the next window starts at,
    /// and its size in pages.
    anon_streak: (u64, u64),
    /// Rewritten system call sites (the seccomp platform's; see patch.rs).
    patches: patch::Patches,
}

/// `Mm::lock`'s guard. VMAs unmapped under it are dropped after the lock
/// is released: the last reference to a mapped file can end a lazily
/// unmounted filesystem, whose unmount writes back page caches, and a
/// writeback takes `Mm` locks (lock order: page cache `io`, then `Mm`).
pub struct MmGuard<'a> {
    guard: Option<MutexGuard<'a, MmState>>,
}

impl std::ops::Deref for MmGuard<'_> {
    type Target = MmState;
    fn deref(&self) -> &MmState {
        self.guard.as_deref().expect("an MmGuard holds its lock until dropped")
    }
}

impl std::ops::DerefMut for MmGuard<'_> {
    fn deref_mut(&mut self) -> &mut MmState {
        self.guard.as_deref_mut().expect("an MmGuard holds its lock until dropped")
    }
}

impl Drop for MmGuard<'_> {
    fn drop(&mut self) {
        let released = self.guard.as_mut().map(|st| std::mem::take(&mut st.released));
        self.guard = None;
        drop(released);
    }
}

pub struct Mm {
    pub id: u64,
    pub phys: Arc<PhysMemory>,
    state: Mutex<MmState>,
    /// Which host address space last ran this one (its pid); its host
    /// mappings are the ones `Pte.host` describes.
    host_owner: AtomicU64,
    /// Held by the platform from taking host changes until they are
    /// applied (several guest threads may run this address space).
    host_sync: parking_lot::Mutex<()>,
    /// Counts applications of host changes (see `handle_fault`).
    host_generation: AtomicU64,
}

static NEXT_MM_ID: AtomicU64 = AtomicU64::new(1);

impl Mm {
    pub fn new(phys: Arc<PhysMemory>) -> Arc<Mm> {
        let ram = phys.total_frames() * PAGE_SIZE;
        Arc::new(Mm {
            id: NEXT_MM_ID.fetch_add(1, Ordering::Relaxed),
            phys,
            host_owner: AtomicU64::new(0),
            host_sync: parking_lot::Mutex::new(()),
            host_generation: AtomicU64::new(0),
            state: Mutex::new(MmState {
                vmas: BTreeMap::new(),
                pages: BTreeMap::new(),
                brk_start: 0,
                brk: 0,
                mmap_base: 0,
                stack_top: 0,
                ram_bytes: ram,
                arg_start: 0,
                arg_end: 0,
                env_start: 0,
                env_end: 0,
                start_stack: 0,
                saved_auxv: Vec::new(),
                limits: Default::default(),
                locked: Default::default(),
                host_ops: Vec::new(),
                deferred_frees: Vec::new(),
                released: Vec::new(),
                rewarm: Vec::new(),
                anon_streak: (0, 0),
                patches: Default::default(),
            }),
        })
    }

    pub fn lock(&self) -> MmGuard<'_> {
        MmGuard { guard: Some(self.state.lock()) }
    }

    /// Resolves a host fault at `addr`. Called when the stub got SIGSEGV;
    /// `generation` is the host generation the faulting thread saw when it
    /// resumed the guest. With several threads, a fault on a page another
    /// thread just mapped (or whose mapping is being applied) is stale: the
    /// guest simply runs again.
    pub fn handle_fault(&self, addr: u64, generation: u64) -> Result<(), FaultError> {
        let mut st = self.lock();
        let stale = generation != self.host_generation.load(Ordering::Acquire) || !st.host_ops.is_empty() || self.host_sync.is_locked();
        st.handle_fault(&self.phys, addr, stale)
    }

    /// Resolves a fault at `addr` before the guest takes it (exec's entry
    /// point and stack); a fault that would be a signal is left for the
    /// guest to take.
    pub fn prefault(&self, addr: u64) {
        let mut st = self.lock();
        // Only inside a VMA: a wild address must not grow a stack.
        if st.find_vma(addr).is_some() {
            let _ = st.handle_fault(&self.phys, addr, true);
        }
    }

    /// The current host generation (see `handle_fault`).
    pub fn host_generation(&self) -> u64 {
        self.host_generation.load(Ordering::Acquire)
    }

    /// Whether host mapping changes are queued or being applied (so the
    /// host may still map what the page table no longer does).
    pub fn host_changes_pending(&self) -> bool {
        self.host_sync.is_locked() || !self.lock().host_ops.is_empty()
    }

    /// Copies guest memory at `addr` into `buf`.
    pub fn read_bytes_into(&self, addr: u64, buf: &mut [u8]) -> KResult<()> {
        let mut st = self.lock();
        let mut done = 0;
        while done < buf.len() {
            let va = addr.checked_add(done as u64).ok_or(Errno::EFAULT)?;
            let off = (va % PAGE_SIZE) as usize;
            let n = (PAGE_SIZE as usize - off).min(buf.len() - done);
            if let Some((file, at)) = st.host_file_at(va, false)? {
                file.0.read_mapped(at, &mut buf[done..done + n])?;
            } else {
                let frame = st.frame_for_access(&self.phys, va, false)?;
                buf[done..done + n].copy_from_slice(&self.phys.frame_bytes(frame)[off..off + n]);
            }
            done += n;
        }
        Ok(())
    }

    /// Appends `len` bytes of guest memory at `addr` to `out`; on an error
    /// `out` is as it was.
    pub fn read_bytes_append(&self, addr: u64, len: usize, out: &mut Vec<u8>) -> KResult<()> {
        let from = out.len();
        out.resize(from + len, 0);
        let read = self.read_bytes_into(addr, &mut out[from..]);
        if read.is_err() {
            out.truncate(from);
        }
        read
    }

    pub fn read_bytes(&self, addr: u64, len: usize) -> KResult<Vec<u8>> {
        let mut v = vec![0u8; len];
        self.read_bytes_into(addr, &mut v)?;
        Ok(v)
    }

    /// Copies `data` into guest memory at `addr`.
    pub fn write_bytes(&self, addr: u64, data: &[u8]) -> KResult<()> {
        let mut st = self.lock();
        let mut done = 0;
        while done < data.len() {
            let va = addr.checked_add(done as u64).ok_or(Errno::EFAULT)?;
            let off = (va % PAGE_SIZE) as usize;
            let n = (PAGE_SIZE as usize - off).min(data.len() - done);
            if let Some((file, at)) = st.host_file_at(va, true)? {
                file.0.write_mapped(at, &data[done..done + n])?;
            } else {
                let frame = st.frame_for_access(&self.phys, va, true)?;
                self.phys.frame_bytes(frame)[off..off + n].copy_from_slice(&data[done..done + n]);
            }
            done += n;
        }
        Ok(())
    }

    /// Atomically updates the aligned u32 at `addr` as the guest's own
    /// atomic instructions would see it: `update` gets the current value
    /// and returns the new one (None leaves it). Returns the value found.
    /// Futex operations (wake-op, robust lists) use it.
    pub fn atomic_update_u32(&self, addr: u64, mut update: impl FnMut(u32) -> Option<u32>) -> KResult<u32> {
        if addr % 4 != 0 {
            return Err(Errno::EINVAL);
        }
        let mut st = self.lock();
        if let Some((file, at)) = st.host_file_at(addr, true)? {
            return file.0.with_mapped_u32(at, |word| update_word(word, update));
        }
        let frame = st.frame_for_access(&self.phys, addr, true)?;
        let off = (addr % PAGE_SIZE) as usize;
        let bytes = self.phys.frame_bytes(frame);
        // SAFETY: `off` is 4-aligned and inside the page, so the pointer is
        // a valid, aligned u32 in guest RAM that lives as long as `phys`;
        // guest threads touch it concurrently only with atomic accesses or
        // data races the guest owns, as with any shared memory.
        let word = unsafe { &*(bytes.as_mut_ptr().add(off) as *const std::sync::atomic::AtomicU32) };
        Ok(update_word(word, update))
    }

    /// Is `addr` in a shared mapping (MAP_SHARED, shm)? Futexes there are
    /// keyed by the page, elsewhere by address space and address.
    pub fn is_shared_mapping(&self, addr: u64) -> bool {
        matches!(self.lock().find_vma(addr).map(|v| &v.backing), Some(Backing::Shared { .. } | Backing::HostFile { .. }))
    }

    /// For a shared mapping of a host file: the file's identity and the
    /// offset `addr` maps (futexes there meet every process mapping it).
    pub fn host_file_position(&self, addr: u64) -> Option<(u64, u64, u64)> {
        let st = self.lock();
        let vma = st.find_vma(addr)?;
        match &vma.backing {
            Backing::HostFile { offset, dev, ino, .. } => Some((*dev, *ino, offset + (addr - vma.start))),
            _ => None,
        }
    }

    pub fn read<T: Pod>(&self, addr: u64) -> KResult<T> {
        let mut v = T::new_zeroed();
        self.read_bytes_into(addr, v.as_bytes_mut())?;
        Ok(v)
    }

    pub fn write<T: Pod>(&self, addr: u64, value: &T) -> KResult<()> {
        self.write_bytes(addr, value.as_bytes())
    }

    /// Reads a NUL-terminated string of at most `max` bytes (without the
    /// NUL); a longer one is ENAMETOOLONG, as for paths.
    pub fn read_cstring(&self, addr: u64, max: usize) -> KResult<Vec<u8>> {
        let mut st = self.lock();
        let mut out = Vec::new();
        let mut va = addr;
        loop {
            let frame = st.frame_for_access(&self.phys, va, false)?;
            let off = (va % PAGE_SIZE) as usize;
            let page = &self.phys.frame_bytes(frame)[off..];
            match page.iter().position(|&c| c == 0) {
                Some(n) => {
                    out.extend_from_slice(&page[..n]);
                    if out.len() > max {
                        return Err(Errno::ENAMETOOLONG);
                    }
                    return Ok(out);
                }
                None => {
                    out.extend_from_slice(page);
                    if out.len() > max {
                        return Err(Errno::ENAMETOOLONG);
                    }
                    va = va.checked_add(page.len() as u64).ok_or(Errno::EFAULT)?;
                }
            }
        }
    }

    /// fork: a copy of this address space. Private pages are shared
    /// copy-on-write (both sides lose host write access until they copy);
    /// shared pages are shared.
    pub fn fork_copy(&self) -> Arc<Mm> {
        let child = Mm::new(self.phys.clone());
        let mut st = self.lock();
        let mut cst = child.lock();
        cst.vmas = st.vmas.clone();
        // The child's new host address space maps its host files afresh.
        for vma in cst.vmas.values_mut() {
            vma.backing.forget_host_file();
        }
        (cst.brk_start, cst.brk, cst.mmap_base, cst.stack_top) = (st.brk_start, st.brk, st.mmap_base, st.stack_top);
        (cst.arg_start, cst.arg_end, cst.env_start, cst.env_end) = (st.arg_start, st.arg_end, st.env_start, st.env_end);
        (cst.start_stack, cst.saved_auxv) = (st.start_stack, st.saved_auxv.clone());
        // A child inherits the limits but no locked pages (Linux's dup_mmap).
        cst.limits = st.limits;
        cst.patches = st.patches.clone();
        let mut write_protect: Vec<(u64, u64, u32)> = Vec::new();
        let vmas: Vec<Vma> = st.vmas.values().cloned().collect();
        for vma in &vmas {
            let private = vma.flags & MAP_TYPE == MAP_PRIVATE;
            for (&vpn, pte) in st.pages.range_mut(vma.start / PAGE_SIZE..vma.end / PAGE_SIZE) {
                self.phys.get(pte.frame);
                if pte.host != HostMapping::None {
                    // The child's new host address space starts with what
                    // the parent's maps (Linux copies the page tables).
                    add_page_to_runs(&mut cst.rewarm, vpn);
                }
                if private {
                    if pte.host == HostMapping::Full && vma.prot & PROT_WRITE != 0 {
                        pte.host = HostMapping::ReadOnly;
                        let prot = vma.prot & !PROT_WRITE;
                        match write_protect.last_mut() {
                            Some((_, end, p)) if *end == vpn * PAGE_SIZE && *p == prot => *end += PAGE_SIZE,
                            _ => write_protect.push((vpn * PAGE_SIZE, vpn * PAGE_SIZE + PAGE_SIZE, prot)),
                        }
                    }
                    pte.cow = true;
                }
                cst.pages.insert(vpn, Pte { frame: pte.frame, cow: pte.cow, host: HostMapping::None });
            }
        }
        // The parent keeps running on its host mappings: writable private
        // pages become read-only so the first write faults and copies
        // (reads go on without a fault).
        for (start, end, prot) in write_protect {
            st.queue(HostOp::Protect { addr: start, len: end - start, prot });
        }
        let shared: Vec<Arc<page_cache::PageCache>> = vmas.iter().filter_map(|v| v.backing.page_cache().cloned()).collect();
        drop(cst);
        // The child is a mapper before the parent can unmap its copies, so
        // a look for writable mappings that finds the parent's gone finds
        // the child (PageCache::writably_mapped).
        for memory in shared {
            memory.add_mapper(&child);
        }
        drop(st);
        child
    }

    /// The frame now backing `addr`, if the page is present.
    pub fn frame_of(&self, addr: u64) -> Option<Frame> {
        self.lock().pages.get(&(addr / PAGE_SIZE)).map(|p| p.frame)
    }

    /// Resident guest pages (for /proc statm and status).
    pub fn resident_pages(&self) -> u64 {
        self.lock().pages.len() as u64
    }

    pub fn total_vm_pages(&self) -> u64 {
        self.lock().vmas.values().map(|v| v.len() / PAGE_SIZE).sum()
    }
}

/// `update` applied to `word` with compare-and-exchange until it holds
/// (None leaves it); the value found.
fn update_word(word: &std::sync::atomic::AtomicU32, mut update: impl FnMut(u32) -> Option<u32>) -> u32 {
    let mut cur = word.load(Ordering::SeqCst);
    loop {
        let Some(new) = update(cur) else { return cur };
        match word.compare_exchange(cur, new, Ordering::SeqCst, Ordering::SeqCst) {
            Ok(_) => return cur,
            Err(seen) => cur = seen,
        }
    }
}

/// The platform's view: the host changes queued since the last switch.
impl crate::platform::AddressSpace for Mm {
    fn id(&self) -> u64 {
        self.id
    }

    fn host_sync(&self) -> &parking_lot::Mutex<()> {
        &self.host_sync
    }

    fn host_generation(&self) -> u64 {
        Mm::host_generation(self)
    }

    /// The host changes queued since the last call, and the frames that may
    /// be released once they are applied.
    fn take_host_changes(&self) -> crate::platform::HostChanges {
        let mut st = self.lock();
        crate::platform::HostChanges { ops: std::mem::take(&mut st.host_ops), deferred_frees: std::mem::take(&mut st.deferred_frees) }
    }

    fn host_changes_applied(&self, changes: crate::platform::HostChanges) {
        if !changes.ops.is_empty() {
            self.host_generation.fetch_add(1, Ordering::AcqRel);
        }
        self.phys.put_many(changes.deferred_frees);
    }

    fn set_host_owner(&self, owner: u64) -> u64 {
        self.host_owner.swap(owner, Ordering::Relaxed)
    }

    /// Forgets every host mapping (the host address space was lost or is
    /// being rebuilt): the new one maps at once what the old one mapped (or
    /// a fork child's parent), up to REWARM_MAX_OPS host calls; the rest is
    /// mapped again on fault.
    fn forget_host_mappings(&self) {
        let mut st = self.lock();
        let mut runs = std::mem::take(&mut st.rewarm);
        for (&vpn, pte) in st.pages.iter_mut() {
            if pte.host != HostMapping::None {
                add_page_to_runs(&mut runs, vpn);
                pte.host = HostMapping::None;
            }
        }
        st.host_ops.clear();
        for vma in st.vmas.values_mut() {
            vma.backing.forget_host_file();
        }
        st.remap_table();
        st.map_runs_to_host(&runs, REWARM_MAX_OPS);
    }

    fn syscall_trapped(&self, site: u64, nr: u32, table: &crate::platform::SyscallTable) {
        self.lock().syscall_trapped(&self.phys, site, nr, table);
    }

    fn patched_site(&self, entry: u32) -> Option<(u64, u32)> {
        self.lock().patches.site(entry)
    }

    fn patched_site_at(&self, site: u64) -> Option<u32> {
        self.lock().patches.number_at(site)
    }
}

impl Drop for Mm {
    fn drop(&mut self) {
        let st = self.state.get_mut();
        let pages = std::mem::take(&mut st.pages);
        let deferred = std::mem::take(&mut st.deferred_frees);
        self.phys.put_many(pages.into_values().map(|p| p.frame).chain(deferred));
    }
}

impl MmState {
    /// The VMA containing `addr`.
    pub fn find_vma(&self, addr: u64) -> Option<&Vma> {
        self.vmas.range(..=addr).next_back().map(|(_, v)| v).filter(|v| addr < v.end)
    }

    /// The first VMA ending above `addr`.
    pub fn first_vma_above(&self, addr: u64) -> Option<&Vma> {
        if let Some(v) = self.find_vma(addr) {
            return Some(v);
        }
        self.vmas.range((Bound::Excluded(addr), Bound::Unbounded)).next().map(|(_, v)| v)
    }

    fn queue(&mut self, op: HostOp) {
        // Merge with the previous op when contiguous (common in munmap loops).
        if let (Some(HostOp::Unmap { addr, len }), HostOp::Unmap { addr: a2, len: l2 }) = (self.host_ops.last_mut(), &op) {
            if *addr + *len == *a2 {
                *len += l2;
                return;
            }
        }
        self.host_ops.push(op);
    }

    /// Drops pages in [start, end) from the page table; frames are released
    /// after the host unmap is applied.
    pub fn drop_pages(&mut self, start: u64, end: u64) {
        let keys: Vec<u64> = self.pages.range(start / PAGE_SIZE..end / PAGE_SIZE).map(|(&k, _)| k).collect();
        let mut host_mapped = false;
        for k in keys {
            if let Some(pte) = self.pages.remove(&k) {
                host_mapped |= pte.host != HostMapping::None;
                self.deferred_frees.push(pte.frame);
            }
        }
        if host_mapped {
            self.queue(HostOp::Unmap { addr: start, len: end - start });
        }
    }

    /// Whether a shared mapping here may write `memory`, now or after an
    /// mprotect (Linux counts such VMAs in i_mmap_writable: MAP_SHARED
    /// with VM_MAYWRITE, whatever their protection now).
    pub fn maps_writably(&self, memory: &page_cache::PageCache) -> bool {
        self.vmas.values().any(|v| match &v.backing {
            Backing::Shared { memory: m, .. } => std::ptr::eq(Arc::as_ptr(m), memory) && v.flags & vma::VMA_NO_MAYWRITE == 0,
            _ => false,
        })
    }

    /// The address ranges where VMAs map page offsets [first, end) of
    /// `memory`, with the page offset each range starts at.
    fn shared_ranges(&self, memory: &Arc<page_cache::PageCache>, first: u64, end: u64, writable_only: bool) -> Vec<(u64, u64, u64)> {
        self.vmas
            .values()
            .filter_map(|v| match &v.backing {
                Backing::Shared { memory: m, pgoff, .. } if Arc::ptr_eq(m, memory) && (!writable_only || v.prot & PROT_WRITE != 0) => {
                    let vma_pages = v.len() / PAGE_SIZE;
                    let lo = first.max(*pgoff);
                    let hi = end.min(pgoff.saturating_add(vma_pages));
                    (lo < hi).then(|| (v.start + (lo - pgoff) * PAGE_SIZE, v.start + (hi - pgoff) * PAGE_SIZE, lo))
                }
                _ => None,
            })
            .collect()
    }

    /// Drops the pages of every VMA mapping `memory` at page offsets in
    /// [first, end) (the file was truncated, or a hole punched): all of a
    /// shared mapping's, and of a private one's those `private` names.
    pub fn drop_file_pages(&mut self, memory: &Arc<page_cache::PageCache>, first: u64, end: u64, private: page_cache::PrivatePages) {
        for (start, end, _) in self.shared_ranges(memory, first, end, false) {
            self.drop_pages(start, end);
        }
        let private_ranges: Vec<(u64, u64)> = self
            .vmas
            .values()
            .filter_map(|v| match &v.backing {
                Backing::File { cache: Some(c), offset, .. } if Arc::ptr_eq(c, memory) => {
                    let pgoff = offset / PAGE_SIZE;
                    let lo = first.max(pgoff);
                    let hi = end.min(pgoff.saturating_add(v.len() / PAGE_SIZE));
                    (lo < hi).then(|| (v.start + (lo - pgoff) * PAGE_SIZE, v.start + (hi - pgoff) * PAGE_SIZE))
                }
                _ => None,
            })
            .collect();
        for (start, end) in private_ranges {
            match private {
                page_cache::PrivatePages::All => self.drop_pages(start, end),
                page_cache::PrivatePages::Sharing(frames) => {
                    let sharing: Vec<u64> = self
                        .pages
                        .range(start / PAGE_SIZE..end / PAGE_SIZE)
                        .filter(|(_, p)| p.cow && frames.binary_search(&p.frame).is_ok())
                        .map(|(&k, _)| k)
                        .collect();
                    for vpn in sharing {
                        self.drop_pages(vpn * PAGE_SIZE, (vpn + 1) * PAGE_SIZE);
                    }
                }
            }
        }
    }

    /// Writeback is about to clean pages [first, end) of `memory`: removes
    /// writable host mappings of them, so the next write through this
    /// address space faults and dirties the page again. Returns the page
    /// offsets this address space may have written since they were last
    /// clean: those it mapped writable, and with `pending` (host changes
    /// queued but not applied, so earlier write-protections may not have
    /// taken effect yet) every page it maps writable.
    pub fn write_protect_shared(&mut self, memory: &Arc<page_cache::PageCache>, first: u64, end: u64, pending: bool) -> Vec<u64> {
        let mut written = Vec::new();
        for (start, end, pgoff) in self.shared_ranges(memory, first, end, true) {
            let mut unmap: Vec<(u64, u64)> = Vec::new();
            for (&vpn, pte) in self.pages.range_mut(start / PAGE_SIZE..end / PAGE_SIZE) {
                let off = pgoff + (vpn - start / PAGE_SIZE);
                if pte.host == HostMapping::Full || pending {
                    written.push(off);
                }
                if pte.host == HostMapping::Full {
                    pte.host = HostMapping::None;
                    match unmap.last_mut() {
                        Some((_, e)) if *e == vpn * PAGE_SIZE => *e += PAGE_SIZE,
                        _ => unmap.push((vpn * PAGE_SIZE, vpn * PAGE_SIZE + PAGE_SIZE)),
                    }
                }
            }
            for (s, e) in unmap {
                self.queue(HostOp::Unmap { addr: s, len: e - s });
            }
        }
        written
    }

    /// mprotect that only takes permissions away: the host mappings in
    /// [start, end) get `prot` too (less for copy-on-write pages, which
    /// stay without write), one host mprotect per run of mapped pages.
    pub fn protect_host_range(&mut self, start: u64, end: u64, prot: u32) {
        let mut runs: Vec<(u64, u64, u32)> = Vec::new();
        for (&vpn, pte) in self.pages.range_mut(start / PAGE_SIZE..end / PAGE_SIZE) {
            let host_prot = match pte.host {
                HostMapping::None => continue,
                HostMapping::ReadOnly => prot & !PROT_WRITE,
                HostMapping::Full => prot,
            };
            pte.host = if host_prot == prot { HostMapping::Full } else { HostMapping::ReadOnly };
            match runs.last_mut() {
                Some((_, e, p)) if *e == vpn * PAGE_SIZE && *p == host_prot => *e += PAGE_SIZE,
                _ => runs.push((vpn * PAGE_SIZE, vpn * PAGE_SIZE + PAGE_SIZE, host_prot)),
            }
        }
        for (s, e, prot) in runs {
            self.queue(HostOp::Protect { addr: s, len: e - s, prot });
        }
    }

    /// Removes host mappings in [start, end) but keeps the pages.
    pub fn unmap_host_range(&mut self, start: u64, end: u64) {
        let mut any = false;
        for (_, pte) in self.pages.range_mut(start / PAGE_SIZE..end / PAGE_SIZE) {
            if pte.host != HostMapping::None {
                pte.host = HostMapping::None;
                any = true;
            }
        }
        if any {
            self.queue(HostOp::Unmap { addr: start, len: end - start });
        }
    }

    /// For a kernel access at `va` in a shared mapping of a host file: the
    /// file and the offset `va` maps (such pages have no frame). None
    /// elsewhere; EFAULT where the guest's own access would fault.
    fn host_file_at(&self, va: u64, write: bool) -> KResult<Option<(crate::platform::HostFile, u64)>> {
        let Some(vma) = self.find_vma(va) else { return Ok(None) };
        let Backing::HostFile { host, offset, .. } = &vma.backing else { return Ok(None) };
        let allowed = if write { vma.prot & PROT_WRITE != 0 } else { vma.prot & (PROT_READ | PROT_WRITE | PROT_EXEC) != 0 };
        if !allowed {
            return Err(Errno::EFAULT);
        }
        Ok(Some((host.clone(), offset + (va - vma.start))))
    }

    /// The frame backing `va` for a kernel access, faulting it in as the
    /// guest's own access would; EFAULT where the guest would get SIGSEGV.
    fn frame_for_access(&mut self, phys: &Arc<PhysMemory>, va: u64, write: bool) -> KResult<Frame> {
        let vpn = va / PAGE_SIZE;
        let vma = self.find_vma(va).ok_or(Errno::EFAULT)?;
        let allowed = if write { vma.prot & PROT_WRITE != 0 } else { vma.prot & (PROT_READ | PROT_WRITE | PROT_EXEC) != 0 };
        if !allowed {
            return Err(Errno::EFAULT);
        }
        // A kernel write into a shared file page dirties it as a guest
        // store would (space reservation included).
        let shared_file = match &vma.backing {
            Backing::Shared { memory, pgoff, .. } if write && memory.has_store() => Some((memory.clone(), pgoff + (vpn - vma.start / PAGE_SIZE))),
            _ => None,
        };
        if !self.pages.contains_key(&vpn) {
            let vma = vma.clone();
            self.populate(phys, &vma, vpn, vpn + 1).map_err(|e| match e {
                FaultError::OutOfMemory => Errno::ENOMEM,
                _ => Errno::EFAULT,
            })?;
        }
        let pte = *self.pages.get(&vpn).ok_or(Errno::EFAULT)?;
        if write && pte.cow {
            return self.break_cow(phys, vpn).map_err(|_| Errno::ENOMEM);
        }
        if let Some((memory, off)) = shared_file {
            memory.mark_dirty(off).map_err(|_| Errno::EFAULT)?;
        }
        Ok(pte.frame)
    }

    /// Gives a private page its own frame before a write.
    fn break_cow(&mut self, phys: &Arc<PhysMemory>, vpn: u64) -> Result<Frame, FaultError> {
        let pte = *self.pages.get(&vpn).ok_or(FaultError::MapErr)?;
        if phys.ref_count(pte.frame) == 1 {
            let p = self.pages.get_mut(&vpn).ok_or(FaultError::MapErr)?;
            p.cow = false;
            if p.host == HostMapping::ReadOnly {
                p.host = HostMapping::None;
                self.queue(HostOp::Unmap { addr: vpn * PAGE_SIZE, len: PAGE_SIZE });
            }
            return Ok(pte.frame);
        }
        let new = phys.alloc(0).map_err(|_| FaultError::OutOfMemory)?;
        phys.frame_bytes(new).copy_from_slice(phys.frame_bytes(pte.frame));
        self.deferred_frees.push(pte.frame);
        if pte.host != HostMapping::None {
            self.queue(HostOp::Unmap { addr: vpn * PAGE_SIZE, len: PAGE_SIZE });
        }
        self.pages.insert(vpn, Pte { frame: new, cow: false, host: HostMapping::None });
        Ok(new)
    }

    fn handle_fault(&mut self, phys: &Arc<PhysMemory>, addr: u64, stale: bool) -> Result<(), FaultError> {
        let vpn = addr / PAGE_SIZE;
        let vma = match self.find_vma(addr) {
            Some(v) => v.clone(),
            None => self.grow_stack_for(addr).ok_or(FaultError::MapErr)?,
        };
        if vma.prot & (PROT_READ | PROT_WRITE | PROT_EXEC) == 0 {
            return Err(FaultError::AccErr);
        }
        if let Backing::HostFile { .. } = vma.backing {
            return self.fault_host_file(vma.start, stale);
        }
        match self.pages.get(&vpn).copied() {
            Some(pte) if pte.host == HostMapping::Full => {
                if stale {
                    Ok(())
                } else {
                    Err(FaultError::AccErr)
                }
            }
            Some(pte) if pte.host == HostMapping::ReadOnly => {
                if vma.prot & PROT_WRITE == 0 {
                    return Err(FaultError::AccErr);
                }
                if let Backing::Shared { memory, pgoff, .. } = &vma.backing {
                    // The first write to a clean file page through a shared
                    // mapping (Linux's page_mkwrite): dirty it, map it writable.
                    let off = pgoff + (vpn - vma.start / PAGE_SIZE);
                    memory.clone().mark_dirty(off).map_err(|e| if e == Errno::ENOSPC { FaultError::Bus } else { FaultError::OutOfMemory })?;
                    if let Some(p) = self.pages.get_mut(&vpn) {
                        p.host = HostMapping::None;
                    }
                    self.map_to_host(&vma, vpn, vpn + 1);
                    return Ok(());
                }
                self.break_cow(phys, vpn)?;
                // Writes cluster (stacks, heaps, a library's data and
                // GOT): copy the neighbouring copy-on-write pages now, as
                // memcpy is far cheaper than a fault round trip each. Not
                // in a private mapping of a file vkernel writes: its
                // unwritten pages must go on showing the file's writes.
                let (first, end) = if matches!(vma.backing, Backing::Anonymous) || vma.backing.is_frozen_file() {
                    ((vpn & !(COW_AROUND_PAGES - 1)).max(vma.start / PAGE_SIZE), ((vpn | (COW_AROUND_PAGES - 1)) + 1).min(vma.end / PAGE_SIZE))
                } else {
                    (vpn, vpn + 1)
                };
                for other in first..end {
                    if other != vpn && self.pages.get(&other).is_some_and(|p| p.cow) && self.break_cow(phys, other).is_err() {
                        break;
                    }
                }
                self.map_to_host(&vma, first, end);
                Ok(())
            }
            Some(_) => {
                // Present but not mapped on the host (a fresh stub after
                // fork or exec of a shared space, after mprotect): map every
                // present page nearby in the VMA at once, not one window.
                let first = (vpn.saturating_sub(PRESENT_MAP_AROUND)).max(vma.start / PAGE_SIZE);
                let end = (vpn + PRESENT_MAP_AROUND).min(vma.end / PAGE_SIZE);
                self.map_to_host(&vma, first, end);
                Ok(())
            }
            None => {
                // Fault around: the aligned window containing the page, or
                // a growing one for first touches walking up anonymous memory.
                let win_start = (vpn & !(FAULT_AROUND_PAGES - 1)).max(vma.start / PAGE_SIZE);
                let win_end = ((vpn | (FAULT_AROUND_PAGES - 1)) + 1).min(vma.end / PAGE_SIZE);
                let (win_start, win_end) = self.anonymous_window(&vma, vpn).unwrap_or((win_start, win_end));
                match self.populate(phys, &vma, win_start, win_end) {
                    Ok(()) => {}
                    // Memory is tight: settle for the one page.
                    Err(FaultError::OutOfMemory) if win_end - win_start > 1 => self.populate(phys, &vma, vpn, vpn + 1)?,
                    Err(e) => return Err(e),
                }
                // A file window stops at the end of the file: if the
                // faulting page lies beyond it, that is SIGBUS.
                if !self.pages.contains_key(&vpn) {
                    return Err(FaultError::Bus);
                }
                // A program's data pages (GOT, relocated pointers) are
                // written nearly always: copy the faulting one now rather
                // than map it read-only and fault again for the write. Only
                // from a host file's version-keyed cache, which its
                // mappings see unchanged anyway; pages of a file vkernel
                // writes (tmpfs, ext4) must go on following its writes.
                if vma.backing.is_frozen_file() && vma.prot & PROT_WRITE != 0 && self.pages.get(&vpn).is_some_and(|p| p.cow) {
                    self.break_cow(phys, vpn)?;
                }
                let (map_start, map_end) = self.add_cached_file_pages(phys, &vma, vpn).unwrap_or((win_start, win_end));
                self.map_to_host(&vma, map_start.min(win_start), map_end.max(win_end));
                Ok(())
            }
        }
    }

    /// A fault in a shared mapping of a host file: the host maps the whole
    /// VMA from the file at once (it then faults pages in itself, and a
    /// page past the end of the file is its SIGBUS, which the guest gets).
    /// A fault where the host maps it already is the guest's protection
    /// fault, unless it may be stale.
    fn fault_host_file(&mut self, start: u64, stale: bool) -> Result<(), FaultError> {
        let vma = self.vmas.get_mut(&start).ok_or(FaultError::MapErr)?;
        let (addr, len, prot) = (vma.start, vma.len(), vma.prot);
        let Backing::HostFile { host, offset, mapped, .. } = &mut vma.backing else { return Err(FaultError::MapErr) };
        if *mapped {
            return if stale { Ok(()) } else { Err(FaultError::AccErr) };
        }
        *mapped = true;
        let op = HostOp::MapFile { addr, len, prot, offset: *offset, file: host.clone() };
        self.queue(op);
        Ok(())
    }

    /// Queues the host unmap of every host-file mapping reaching into
    /// [start, end) that the host maps now, whole (its flag is the VMA's),
    /// and marks them unmapped: a later fault maps the whole VMA again.
    pub fn unmap_host_files(&mut self, start: u64, end: u64) {
        let mut unmaps = Vec::new();
        for (_, vma) in self.vmas.range_mut(..end).rev().take_while(|(_, v)| v.end > start) {
            if vma.backing.host_file_mapped() {
                vma.backing.forget_host_file();
                unmaps.push((vma.start, vma.end));
            }
        }
        for (s, e) in unmaps.into_iter().rev() {
            self.queue(HostOp::Unmap { addr: s, len: e - s });
        }
    }

    /// The window of a first-touch fault at `vpn` in private anonymous
    /// memory when it continues a streak (the page right after the last
    /// window): twice the last one, up to ANON_STREAK_MAX_PAGES and the
    /// next present page, so touching 100 MiB in order takes tens of
    /// faults, not thousands (Linux's is a fault per page, but cheap).
    /// Records the streak either way; None for the usual window.
    fn anonymous_window(&mut self, vma: &Vma, vpn: u64) -> Option<(u64, u64)> {
        if !matches!(vma.backing, Backing::Anonymous) || vma.flags & MAP_TYPE != MAP_PRIVATE {
            return None;
        }
        let (next, size) = self.anon_streak;
        if vpn != next || size == 0 {
            self.anon_streak = (((vpn | (FAULT_AROUND_PAGES - 1)) + 1).min(vma.end / PAGE_SIZE), FAULT_AROUND_PAGES);
            return None;
        }
        let size = (size * 2).min(ANON_STREAK_MAX_PAGES);
        let mut end = (vpn + size).min(vma.end / PAGE_SIZE);
        if let Some((&present, _)) = self.pages.range(vpn..end).next() {
            end = present;
        }
        self.anon_streak = (end, size);
        Some((vpn, end.max(vpn + 1)))
    }

    /// Puts in the page table the whole file pages around `vpn` (its
    /// aligned FILE_AROUND_PAGES window) of a private file mapping that
    /// the file's cache holds already; returns the window.
    fn add_cached_file_pages(&mut self, phys: &Arc<PhysMemory>, vma: &Vma, vpn: u64) -> Option<(u64, u64)> {
        let Backing::File { offset, file_end, cache: Some(cache), .. } = &vma.backing else { return None };
        let first = (vpn & !(FILE_AROUND_PAGES - 1)).max(vma.start / PAGE_SIZE);
        let end = ((vpn | (FILE_AROUND_PAGES - 1)) + 1).min(vma.end / PAGE_SIZE);
        let cached: Vec<u64> = (first..end)
            .filter(|&page| {
                let file_off = offset + (page * PAGE_SIZE - vma.start);
                !self.pages.contains_key(&page)
                    && file_off % PAGE_SIZE == 0
                    && file_off + PAGE_SIZE <= *file_end
                    && cache.lookup(file_off / PAGE_SIZE).is_some()
            })
            .collect();
        // Through populate, a run of cached pages at a time (one look at
        // the file's size each), which shares them (or reads one that went
        // from the cache since the lookup, as a fault would).
        let mut runs: Vec<(u64, u64)> = Vec::new();
        for page in cached {
            add_page_to_runs(&mut runs, page);
        }
        for (from, to) in runs {
            if self.populate(phys, vma, from, to).is_err() {
                break;
            }
        }
        Some((first, end))
    }

    /// A fault just below a MAP_GROWSDOWN VMA extends it (stack growth)
    /// while the stack stays within RLIMIT_STACK and RLIMIT_AS.
    fn grow_stack_for(&mut self, addr: u64) -> Option<Vma> {
        let above = self.vmas.range(addr..).next().map(|(_, v)| v.clone())?;
        if above.flags & MAP_GROWSDOWN == 0 {
            return None;
        }
        let new_start = addr & !(PAGE_SIZE - 1);
        // Linux keeps a guard gap (stack_guard_gap, 256 pages) to the VMA below.
        let gap = 256 * PAGE_SIZE;
        if let Some(below) = self.vmas.range(..new_start).next_back().map(|(_, v)| v) {
            if below.end + gap > new_start {
                return None;
            }
        }
        if above.end - new_start > self.limits.stack || new_start < MMAP_MIN_ADDR {
            return None;
        }
        if !self.may_expand(above.start - new_start, 0, above.prot, above.flags) {
            return None;
        }
        let mut grown = self.vmas.remove(&above.start)?;
        grown.start = new_start;
        self.vmas.insert(new_start, grown.clone());
        Some(grown)
    }

    /// Puts frames in the page table for absent pages in [first, end) of `vma`.
    fn populate(&mut self, phys: &Arc<PhysMemory>, vma: &Vma, first: u64, end: u64) -> Result<(), FaultError> {
        let absent: Vec<u64> = (first..end).filter(|v| !self.pages.contains_key(v)).collect();
        if absent.is_empty() {
            return Ok(());
        }
        match &vma.backing {
            // The host maps these itself (fault_host_file): no frames.
            Backing::HostFile { .. } => return Err(FaultError::MapErr),
            Backing::Anonymous => {
                // Each run of absent pages gets the largest contiguous
                // blocks that fit: one host mmap per block.
                let mut i = 0;
                while i < absent.len() {
                    let mut run = 1;
                    while i + run < absent.len() && absent[i + run] == absent[i] + run as u64 {
                        run += 1;
                    }
                    let mut order = (usize::BITS - 1 - run.leading_zeros()) as usize;
                    order = order.min(ANON_STREAK_MAX_PAGES.trailing_zeros() as usize);
                    let block = loop {
                        match phys.alloc(order) {
                            Ok(b) => break b,
                            Err(_) if order > 0 => order -= 1,
                            Err(_) => return Err(FaultError::OutOfMemory),
                        }
                    };
                    for k in 0..(1usize << order) {
                        self.pages.insert(absent[i + k], Pte { frame: block + k as u32, cow: false, host: HostMapping::None });
                    }
                    i += 1 << order;
                }
            }
            Backing::Shared { memory, pgoff, .. } => {
                let limit = memory.size().div_ceil(PAGE_SIZE);
                if memory.has_store() {
                    // One read from the store for the whole window.
                    let from = pgoff + (first - vma.start / PAGE_SIZE);
                    memory.ensure(from, end - first).map_err(|_| FaultError::Bus)?;
                }
                for vpn in absent {
                    let off = pgoff + (vpn - vma.start / PAGE_SIZE);
                    if off >= limit {
                        // A file page wholly past the end: SIGBUS.
                        break;
                    }
                    let f = memory.frame_at(off).map_err(|e| if e == Errno::ENOMEM { FaultError::OutOfMemory } else { FaultError::Bus })?;
                    self.pages.insert(vpn, Pte { frame: f, cow: false, host: HostMapping::None });
                }
            }
            Backing::File { file, offset, file_end, cache, .. } => {
                let size = file.size().map_err(|_| FaultError::Bus)?;
                let read_fully = |file_off: u64, buf: &mut [u8]| {
                    let mut got = 0;
                    while got < buf.len() {
                        match file.read_at(file_off + got as u64, &mut buf[got..]) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => got += n,
                        }
                    }
                    got
                };
                // A host file's pages missing from its cache come with one
                // read for the window, not one host read each.
                let file_off_of = |vpn: u64| offset + (vpn * PAGE_SIZE - vma.start);
                let mut window = (0u64, Vec::new());
                if let (Some(c), Some(&lo), Some(&hi)) = (cache.as_ref(), absent.first(), absent.last()) {
                    let missing = absent.iter().filter(|&&v| c.lookup(file_off_of(v) / PAGE_SIZE).is_none()).count();
                    if !c.has_store() && !c.is_memory_only() && missing > 1 {
                        let from = file_off_of(lo);
                        let to = (file_off_of(hi) + PAGE_SIZE).min(*file_end).min(size);
                        if to > from {
                            let mut buf = vec![0u8; (to - from) as usize];
                            let got = read_fully(from, &mut buf);
                            buf.truncate(got);
                            window = (from, buf);
                        }
                    }
                }
                let read_page = |file_off: u64, buf: &mut [u8]| {
                    let (from, data) = (window.0, &window.1);
                    if file_off >= from && file_off < from + data.len() as u64 {
                        let at = (file_off - from) as usize;
                        let n = buf.len().min(data.len() - at);
                        buf[..n].copy_from_slice(&data[at..at + n]);
                        if n < buf.len() {
                            // The window's end (the file's, or a short read).
                            read_fully(file_off + n as u64, &mut buf[n..]);
                        }
                        return;
                    }
                    read_fully(file_off, buf);
                };
                for vpn in absent {
                    let file_off = offset + (vpn * PAGE_SIZE - vma.start);
                    if file_off >= crate::abi::page_align_up(size).unwrap_or(u64::MAX) {
                        // Entirely past EOF: SIGBUS for the faulting page, and
                        // the window stops here.
                        if vpn == first {
                            return Err(FaultError::Bus);
                        }
                        break;
                    }
                    // A whole page of file data is shared from the cache,
                    // copy-on-write; a page the mapping cuts short (an ELF
                    // segment's bss tail) gets its own copy.
                    if let Some(cache) = cache.as_ref().filter(|_| file_off % PAGE_SIZE == 0 && file_off + PAGE_SIZE <= *file_end) {
                        if cache.has_store() && vpn == first {
                            // A file with its own page cache: one read for the window.
                            let _ = cache.ensure(file_off / PAGE_SIZE, end - first);
                        }
                        // A store-less cache (tmpfs) gets a zeroed page in
                        // a hole, as shmem's fault does, so the mapping sees
                        // what is written to the file until it writes itself.
                        let f = if cache.is_memory_only() {
                            cache.frame_at(file_off / PAGE_SIZE)
                        } else {
                            cache.frame_filled(file_off / PAGE_SIZE, |buf| read_page(file_off, buf))
                        };
                        let f = f.map_err(|_| FaultError::OutOfMemory)?;
                        self.pages.insert(vpn, Pte { frame: f, cow: true, host: HostMapping::None });
                        continue;
                    }
                    let f = phys.alloc(0).map_err(|_| FaultError::OutOfMemory)?;
                    let want = PAGE_SIZE.min(file_end.saturating_sub(file_off)) as usize;
                    if want > 0 {
                        read_page(file_off, &mut phys.frame_bytes(f)[..want]);
                    }
                    self.pages.insert(vpn, Pte { frame: f, cow: false, host: HostMapping::None });
                }
            }
        }
        Ok(())
    }

    /// Queues host mmaps for the present pages of `runs` (page numbers),
    /// each VMA's part with that VMA's protection, until `max_ops` host
    /// calls are queued.
    fn map_runs_to_host(&mut self, runs: &[(u64, u64)], max_ops: usize) {
        for &(first, end) in runs {
            let vmas: Vec<Vma> = self.vmas.range(..end * PAGE_SIZE).rev().take_while(|(_, v)| v.end > first * PAGE_SIZE).map(|(_, v)| v.clone()).collect();
            for vma in vmas.iter().rev() {
                if self.host_ops.len() >= max_ops {
                    return;
                }
                let from = first.max(vma.start / PAGE_SIZE);
                let to = end.min(vma.end / PAGE_SIZE);
                if from < to && vma.prot & (PROT_READ | PROT_WRITE | PROT_EXEC) != 0 {
                    self.map_to_host(vma, from, to);
                }
            }
        }
    }

    /// Queues host mmaps for the present, unmapped pages in [first, end),
    /// one per run of contiguous frames.
    fn map_to_host(&mut self, vma: &Vma, first: u64, end: u64) {
        let mut run: Option<(u64, u64, Frame, u32)> = None; // (start vpn, pages, first frame, prot)
        let mut ops = Vec::new();
        // Clean pages of a file with a store are mapped read-only in a
        // writable shared mapping, so the first write is seen (and dirties).
        let clean_file_pages = match &vma.backing {
            Backing::Shared { memory, pgoff, .. } if memory.has_store() && vma.prot & PROT_WRITE != 0 && first < end => {
                let from = pgoff + (first - vma.start / PAGE_SIZE);
                Some((first, memory.dirty_map(from, end - first)))
            }
            _ => None,
        };
        for (&vpn, pte) in self.pages.range_mut(first..end) {
            if pte.host != HostMapping::None {
                continue;
            }
            let private_writable = vma.flags & MAP_TYPE == MAP_PRIVATE && vma.prot & PROT_WRITE != 0;
            let clean = clean_file_pages.as_ref().is_some_and(|(base, dirty)| !dirty.get((vpn - base) as usize).copied().unwrap_or(false));
            let (prot, state) =
                if (pte.cow && private_writable) || clean { (vma.prot & !PROT_WRITE, HostMapping::ReadOnly) } else { (vma.prot, HostMapping::Full) };
            pte.host = state;
            match &mut run {
                Some((s, n, f, p)) if *s + *n == vpn && *f + *n as u32 == pte.frame && *p == prot => *n += 1,
                _ => {
                    if let Some(r) = run.take() {
                        ops.push(r);
                    }
                    run = Some((vpn, 1, pte.frame, prot));
                }
            }
        }
        ops.extend(run);
        for (s, n, f, prot) in ops {
            self.queue(HostOp::Map { addr: s * PAGE_SIZE, len: n * PAGE_SIZE, prot, offset: PhysMemory::offset_of(f) });
        }
    }
}
