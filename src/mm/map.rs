//! Changing an address space's layout: mmap, munmap, mprotect, mremap, brk,
//! madvise. Argument checks mirror Linux's mm/mmap.c, mm/mremap.c and
//! mm/mprotect.c so guests see the same errno.

use crate::abi::mman::{
    MADV_COLD, MADV_DODUMP, MADV_DOFORK, MADV_DONTDUMP, MADV_DONTFORK, MADV_DONTNEED, MADV_FREE, MADV_HUGEPAGE, MADV_KEEPONFORK, MADV_MERGEABLE,
    MADV_NOHUGEPAGE, MADV_NORMAL, MADV_PAGEOUT, MADV_RANDOM, MADV_SEQUENTIAL, MADV_UNMERGEABLE, MADV_WILLNEED, MADV_WIPEONFORK, MAP_32BIT, MAP_FIXED,
    MAP_FIXED_NOREPLACE, MAP_GROWSDOWN, MAP_PRIVATE, MAP_SHARED, MAP_SHARED_VALIDATE, MAP_TYPE, MREMAP_DONTUNMAP, MREMAP_FIXED, MREMAP_MAYMOVE, PROT_EXEC,
    PROT_GROWSDOWN, PROT_GROWSUP, PROT_READ, PROT_WRITE,
};
use crate::abi::{Errno, KResult, PAGE_SIZE, page_align_up};
use crate::mm::vma::*;
use crate::mm::{MMAP_MIN_ADDR, Mm, MmState, TASK_SIZE};

/// One VMA's part of an MADV_REMOVE: the hole to punch (as fallocate's
/// PUNCH_HOLE|KEEP_SIZE) at byte `offset` of what it maps.
pub struct Removal {
    pub target: RemovalTarget,
    pub offset: u64,
    pub len: u64,
}

pub enum RemovalTarget {
    /// A mapped file: its filesystem punches (`FileData::punch_hole`).
    File(std::sync::Arc<dyn FileData>),
    /// Shared anonymous memory: its pages go (`PageCache::punch`).
    Memory(std::sync::Arc<crate::mm::page_cache::PageCache>),
}

/// A request to map something, already decoded by the syscall layer.
pub struct MapRequest {
    pub addr: u64,
    pub len: u64,
    pub prot: u32,
    pub flags: u32,
    pub backing: Backing,
    pub label: &'static str,
}

impl MmState {
    /// Finds a free range of `len` bytes, top-down below `mmap_base`.
    pub fn find_free(&self, len: u64, below: u64) -> Option<u64> {
        let mut top = below.min(TASK_SIZE);
        for (_, v) in self.vmas.range(..top).rev() {
            if v.end <= top && top - v.end >= len {
                return Some(top - len);
            }
            top = top.min(v.start);
        }
        if top >= MMAP_MIN_ADDR + len { Some(top - len) } else { None }
    }

    /// Finds a free range of `len` bytes in [from, to), bottom-up.
    fn find_free_above(&self, len: u64, from: u64, to: u64) -> Option<u64> {
        let mut bottom = from;
        for v in self.vmas.values() {
            if v.end <= bottom {
                continue;
            }
            if v.start >= bottom + len {
                break;
            }
            bottom = v.end;
        }
        bottom.checked_add(len).filter(|&e| e <= to).map(|_| bottom)
    }

    fn range_is_free(&self, start: u64, end: u64) -> bool {
        match self.first_vma_above(start) {
            Some(v) => v.start >= end,
            None => true,
        }
    }

    /// Splits VMAs so that `at` is a boundary.
    fn split_at(&mut self, at: u64) {
        let key = match self.vmas.range(..at).next_back() {
            Some((&k, v)) if v.end > at => k,
            _ => return,
        };
        if let Some(v) = self.vmas.get_mut(&key) {
            let tail = v.split_off(at);
            self.vmas.insert(at, tail);
        }
    }

    /// Removes every VMA and page in [start, end).
    pub fn unmap_range(&mut self, start: u64, end: u64) {
        self.split_at(start);
        self.split_at(end);
        self.unmap_host_files(start, end);
        let keys: Vec<u64> = self.vmas.range(start..end).map(|(&k, _)| k).collect();
        for k in keys {
            if let Some(vma) = self.vmas.remove(&k) {
                self.released.push(vma);
            }
        }
        self.locked.remove(start, end);
        self.drop_pages(start, end);
    }

    /// Inserts a VMA (range already free), merging with neighbours.
    pub fn insert_vma(&mut self, vma: Vma) {
        self.table_wanted(vma.start, vma.end);
        let start = vma.start;
        self.vmas.insert(start, vma);
        self.merge_around(start);
    }

    fn merge_around(&mut self, start: u64) {
        // Merge with the next one.
        if let Some(v) = self.vmas.get(&start).cloned() {
            if let Some(next) = self.vmas.get(&v.end).cloned() {
                if v.can_merge(&next) {
                    self.vmas.remove(&next.start);
                    if let Some(cur) = self.vmas.get_mut(&start) {
                        cur.end = next.end;
                    }
                }
            }
        }
        // Merge into the previous one.
        let prev = self.vmas.range(..start).next_back().map(|(_, v)| v.clone());
        if let (Some(prev), Some(cur)) = (prev, self.vmas.get(&start).cloned()) {
            if prev.can_merge(&cur) {
                self.vmas.remove(&start);
                if let Some(p) = self.vmas.get_mut(&prev.start) {
                    p.end = cur.end;
                }
            }
        }
    }

    /// Maps a new region; returns its address.
    /// The address checks of mmap that come before anything about the
    /// file (do_mmap's get_unmapped_area and MAP_FIXED_NOREPLACE): ENOMEM
    /// for a length or fixed range beyond user space, EINVAL for an
    /// unaligned fixed address, EPERM below mmap_min_addr, EEXIST for an
    /// occupied MAP_FIXED_NOREPLACE range.
    pub fn check_map_address(&self, addr: u64, len: u64, flags: u32) -> KResult<()> {
        let len = page_align_up(len).ok_or(Errno::ENOMEM)?;
        if len == 0 || len > TASK_SIZE {
            return Err(Errno::ENOMEM);
        }
        if flags & (MAP_FIXED | MAP_FIXED_NOREPLACE) != 0 {
            let end = addr.checked_add(len).filter(|&e| e <= TASK_SIZE).ok_or(Errno::ENOMEM)?;
            if addr % PAGE_SIZE != 0 {
                return Err(Errno::EINVAL);
            }
            if addr < MMAP_MIN_ADDR {
                return Err(Errno::EPERM);
            }
            if flags & MAP_FIXED_NOREPLACE != 0 && flags & MAP_FIXED == 0 && !self.range_is_free(addr, end) {
                return Err(Errno::EEXIST);
            }
            if self.cuts_special_mapping(addr, end) {
                return Err(Errno::EINVAL);
            }
        }
        Ok(())
    }

    pub fn map(&mut self, req: MapRequest) -> KResult<u64> {
        self.check_map_address(req.addr, req.len, req.flags)?;
        let len = page_align_up(req.len).ok_or(Errno::ENOMEM)?;
        let fixed = req.flags & (MAP_FIXED | MAP_FIXED_NOREPLACE) != 0;
        // RLIMIT_AS and RLIMIT_DATA, counting what a fixed mapping replaces.
        if !self.may_expand(len, 0, req.prot, req.flags) {
            let replaced = if fixed { req.addr.checked_add(len).map_or(0, |end| self.mapped_bytes_in(req.addr, end)) } else { 0 };
            if !self.may_expand(len, replaced, req.prot, req.flags) {
                return Err(Errno::ENOMEM);
            }
        }
        let addr = if fixed {
            self.unmap_range(req.addr, req.addr + len);
            req.addr
        } else {
            let hint = crate::abi::page_align_down(req.addr);
            // x86-64's MAP_32BIT (code built for the small model): a hint
            // below 2 GiB, else bottom-up in the second GiB.
            let top = if req.flags & MAP_32BIT != 0 { 0x8000_0000 } else { TASK_SIZE };
            if hint >= MMAP_MIN_ADDR && hint.checked_add(len).is_some_and(|e| e <= top && self.range_is_free(hint, e)) {
                hint
            } else if req.flags & MAP_32BIT != 0 {
                self.find_free_above(len, 0x4000_0000, top).ok_or(Errno::ENOMEM)?
            } else {
                self.find_free(len, self.mmap_base).ok_or(Errno::ENOMEM)?
            }
        };
        let mut flags = req.flags & (MAP_TYPE | MAP_GROWSDOWN | VMA_NO_MAYWRITE);
        if flags & MAP_TYPE == MAP_SHARED_VALIDATE {
            flags = (flags & !MAP_TYPE) | MAP_SHARED;
        }
        self.insert_vma(Vma { start: addr, end: addr + len, prot: req.prot, flags, backing: req.backing, label: req.label });
        if self.locked.future {
            self.locked.add(addr, addr + len);
        }
        Ok(addr)
    }

    pub fn protect(&mut self, start: u64, len: u64, prot: u32) -> KResult<()> {
        if start % PAGE_SIZE != 0 {
            return Err(Errno::EINVAL);
        }
        let mut prot = prot;
        let grows = prot & (PROT_GROWSDOWN | PROT_GROWSUP);
        if grows == PROT_GROWSDOWN | PROT_GROWSUP || prot & !(PROT_READ | PROT_WRITE | PROT_EXEC | grows) != 0 {
            return Err(Errno::EINVAL);
        }
        prot &= PROT_READ | PROT_WRITE | PROT_EXEC;
        let len = page_align_up(len).ok_or(Errno::ENOMEM)?;
        if len == 0 {
            return Ok(());
        }
        let end = start.checked_add(len).ok_or(Errno::ENOMEM)?;
        // As do_mprotect_pkey: the mapped run from `start` changes, and a
        // hole after it is ENOMEM then (nothing changes when `start`
        // itself is unmapped).
        // A VMA that may not become writable stops the run with EACCES.
        let requested_end = end;
        let mut cursor = start;
        let mut stop = Errno::ENOMEM;
        while cursor < end {
            match self.find_vma(cursor) {
                Some(v) if prot & PROT_WRITE != 0 && v.flags & VMA_NO_MAYWRITE != 0 => {
                    stop = Errno::EACCES;
                    break;
                }
                Some(v) => cursor = v.end,
                None => break,
            }
        }
        if cursor == start {
            return Err(stop);
        }
        let end = cursor.min(end);
        // A mapping cannot gain a protection it may never have (Linux's
        // VM_MAY* bits: EACCES), and the vDSO's cannot be split (EINVAL). A
        // shared file mapping opened read-only cannot become writable; our
        // shared mappings are anonymous, so nothing more to refuse yet.
        if self.vmas.range(..end).rev().take_while(|(_, v)| v.end > start).any(|(_, v)| prot & !crate::mm::vdso::max_prot(v) != 0) {
            return Err(Errno::EACCES);
        }
        if self.cuts_special_mapping(start, end) {
            return Err(Errno::EINVAL);
        }
        self.split_at(start);
        self.split_at(end);
        let keys: Vec<u64> = self.vmas.range(start..end).map(|(&k, _)| k).collect();
        // Taking permissions away only (RELRO, guard pages) keeps the host
        // mappings, with less access; anything else is refaulted.
        let only_less = keys.iter().all(|k| self.vmas.get(k).is_some_and(|v| prot & !v.prot == 0));
        for k in &keys {
            if let Some(v) = self.vmas.get_mut(k) {
                v.prot = prot;
            }
        }
        if only_less && prot != 0 {
            self.protect_host_range(start, end, prot);
        } else {
            self.unmap_host_range(start, end);
        }
        self.unmap_host_files(start, end);
        for k in keys {
            if self.vmas.contains_key(&k) {
                self.merge_around(k);
            }
        }
        if end < requested_end { Err(stop) } else { Ok(()) }
    }

    pub fn advise(&mut self, start: u64, len: u64, advice: u32) -> KResult<()> {
        if start % PAGE_SIZE != 0 {
            return Err(Errno::EINVAL);
        }
        let known = matches!(
            advice,
            MADV_NORMAL
                | MADV_RANDOM
                | MADV_SEQUENTIAL
                | MADV_WILLNEED
                | MADV_DONTNEED
                | MADV_FREE
                | MADV_DONTFORK
                | MADV_DOFORK
                | MADV_MERGEABLE
                | MADV_UNMERGEABLE
                | MADV_HUGEPAGE
                | MADV_NOHUGEPAGE
                | MADV_DONTDUMP
                | MADV_DODUMP
                | MADV_WIPEONFORK
                | MADV_KEEPONFORK
                | MADV_COLD
                | MADV_PAGEOUT
        );
        if !known {
            return Err(Errno::EINVAL);
        }
        let len = page_align_up(len).ok_or(Errno::EINVAL)?;
        let end = start.checked_add(len).ok_or(Errno::EINVAL)?;
        if len == 0 {
            return Ok(());
        }
        // Linux applies the advice to mapped parts and returns ENOMEM if
        // any part of the range was unmapped.
        let mut unmapped = false;
        let mut cursor = start;
        while cursor < end {
            match self.first_vma_above(cursor).cloned() {
                Some(v) if v.start < end => {
                    if v.start > cursor {
                        unmapped = true;
                    }
                    let (s, e) = (cursor.max(v.start), end.min(v.end));
                    if matches!(advice, MADV_DONTNEED | MADV_FREE | MADV_PAGEOUT) {
                        // Private pages are dropped (zero or file data on
                        // next touch); shared pages persist in their object.
                        if advice != MADV_PAGEOUT {
                            self.drop_pages(s, e);
                            // A host file's pages stay in the file.
                            self.unmap_host_files(s, e);
                        }
                    }
                    cursor = v.end;
                }
                _ => {
                    unmapped = true;
                    break;
                }
            }
        }
        if unmapped { Err(Errno::ENOMEM) } else { Ok(()) }
    }

    /// MADV_REMOVE's walk over the VMAs of [start, start+len), as Linux's
    /// madvise_remove sees each in turn: the holes to punch, in order, and
    /// how the walk ends: a VMA's refusal (the holes before it are still
    /// punched), else ENOMEM when part of the range was unmapped. The
    /// caller punches with this address space's lock released (Linux
    /// drops mmap_lock too): a punch takes every mapper's lock.
    pub fn removals(&self, start: u64, len: u64) -> (Vec<Removal>, KResult<()>) {
        let mut holes = Vec::new();
        if !start.is_multiple_of(PAGE_SIZE) {
            return (holes, Err(Errno::EINVAL));
        }
        let Some(len) = page_align_up(len) else { return (holes, Err(Errno::EINVAL)) };
        let Some(end) = start.checked_add(len) else { return (holes, Err(Errno::EINVAL)) };
        let mut unmapped = false;
        let mut cursor = start;
        while cursor < end {
            let Some(v) = self.first_vma_above(cursor).filter(|v| v.start < end) else {
                unmapped = true;
                break;
            };
            unmapped |= v.start > cursor;
            let (s, e) = (cursor.max(v.start), end.min(v.end));
            // mm/madvise.c madvise_remove: VM_LOCKED, then a file at all
            // (shared anonymous memory is a shmem file), then
            // vma_is_shared_maywrite (Linux 6.7+; VM_WRITE before).
            if self.locked.bytes_in(s, e) > 0 {
                return (holes, Err(Errno::EINVAL));
            }
            let target = match &v.backing {
                Backing::Shared { memory, file, .. } => match file {
                    Some(f) => RemovalTarget::File(f.clone()),
                    None => RemovalTarget::Memory(memory.clone()),
                },
                // A special mapping ([vdso], [vvar]) has no file.
                Backing::File { file, .. } if v.label.is_empty() => RemovalTarget::File(file.clone()),
                Backing::HostFile { file, .. } => RemovalTarget::File(file.clone()),
                _ => return (holes, Err(Errno::EINVAL)),
            };
            if v.flags & MAP_TYPE == MAP_PRIVATE || v.flags & VMA_NO_MAYWRITE != 0 {
                return (holes, Err(Errno::EACCES));
            }
            let offset = match &v.backing {
                Backing::Shared { pgoff, .. } => pgoff * PAGE_SIZE,
                Backing::File { offset, .. } | Backing::HostFile { offset, .. } => *offset,
                Backing::Anonymous => 0,
            } + (s - v.start);
            holes.push(Removal { target, offset, len: e - s });
            cursor = v.end;
        }
        (holes, if unmapped { Err(Errno::ENOMEM) } else { Ok(()) })
    }

    pub fn remap(&mut self, old: u64, old_len: u64, new_len: u64, flags: u32, new_addr: u64) -> KResult<u64> {
        if flags & !(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP) != 0 || old % PAGE_SIZE != 0 {
            return Err(Errno::EINVAL);
        }
        if flags & MREMAP_FIXED != 0 && flags & MREMAP_MAYMOVE == 0 {
            return Err(Errno::EINVAL);
        }
        if flags & MREMAP_DONTUNMAP != 0 {
            // Not offered yet; Linux kernels before 5.7 answer EINVAL too.
            return Err(Errno::EINVAL);
        }
        let old_len = page_align_up(old_len).ok_or(Errno::EINVAL)?;
        let new_len = page_align_up(new_len).ok_or(Errno::EINVAL)?;
        if new_len == 0 {
            return Err(Errno::EINVAL);
        }
        let vma = self.find_vma(old).cloned().ok_or(Errno::EFAULT)?;
        if old_len == 0 {
            // Duplicating a shared mapping: only for MAP_SHARED (Linux).
            return Err(Errno::EINVAL);
        }
        let old_end = old.checked_add(old_len).ok_or(Errno::EINVAL)?;
        if old_end > vma.end {
            return Err(Errno::EFAULT);
        }
        // The vDSO's mappings move whole (CRIU does) but never grow
        // (VM_DONTEXPAND: EFAULT) nor split (EINVAL).
        let special = crate::mm::vdso::is_special(&vma);
        let split_special = special && (old != vma.start || old_end != vma.end || new_len < old_len);
        if flags & MREMAP_FIXED != 0 {
            if new_addr % PAGE_SIZE != 0 {
                return Err(Errno::EINVAL);
            }
            let new_end = new_addr.checked_add(new_len).ok_or(Errno::EINVAL)?;
            if new_end > TASK_SIZE {
                return Err(Errno::EINVAL);
            }
            if new_addr < old_end && old < new_end {
                return Err(Errno::EINVAL);
            }
            if self.cuts_special_mapping(new_addr, new_end) {
                return Err(Errno::EINVAL);
            }
            if special && new_len > old_len {
                return Err(Errno::EFAULT);
            }
            if split_special {
                return Err(Errno::EINVAL);
            }
            self.unmap_range(new_addr, new_end);
            return self.move_range(&vma, old, old_len, new_addr, new_len);
        }
        if special && new_len > old_len {
            return Err(Errno::EFAULT);
        }
        if split_special {
            return Err(Errno::EINVAL);
        }
        if new_len <= old_len {
            self.unmap_range(old + new_len, old_end);
            return Ok(old);
        }
        if !self.may_expand(new_len - old_len, 0, vma.prot, vma.flags) {
            return Err(Errno::ENOMEM);
        }
        // Grow in place when this is the VMA's tail and the gap is free.
        let grow_end = old.checked_add(new_len).ok_or(Errno::ENOMEM)?;
        if old_end == vma.end && grow_end <= TASK_SIZE && self.range_is_free(old_end, grow_end) {
            self.unmap_host_files(vma.start, vma.end);
            if let Some(v) = self.vmas.get_mut(&vma.start) {
                v.end = grow_end;
            }
            return Ok(old);
        }
        if flags & MREMAP_MAYMOVE == 0 {
            return Err(Errno::ENOMEM);
        }
        let dest = self.find_free(new_len, self.mmap_base).ok_or(Errno::ENOMEM)?;
        self.move_range(&vma, old, old_len, dest, new_len)
    }

    /// Moves [old, old+old_len) of `vma` to `dest` with size `new_len`,
    /// keeping the frames (no copy).
    fn move_range(&mut self, vma: &Vma, old: u64, old_len: u64, dest: u64, new_len: u64) -> KResult<u64> {
        let mut moved = vma.clone();
        moved.start = old;
        moved.end = old + old_len;
        let delta = old - vma.start;
        match &mut moved.backing {
            Backing::Anonymous => {}
            Backing::Shared { pgoff, .. } => *pgoff += delta / PAGE_SIZE,
            Backing::File { offset, .. } | Backing::HostFile { offset, .. } => *offset += delta,
        }
        // Its new place is mapped at its first fault there.
        moved.backing.forget_host_file();
        let pages: Vec<(u64, crate::mm::Pte)> = self.pages.range(old / PAGE_SIZE..(old + old_len) / PAGE_SIZE).map(|(&k, &p)| (k, p)).collect();
        // Take the pages out without releasing their frames.
        for (k, p) in &pages {
            self.pages.remove(k);
            if p.host != crate::mm::HostMapping::None {
                self.queue(crate::mm::HostOp::Unmap { addr: k * PAGE_SIZE, len: PAGE_SIZE });
            }
        }
        self.unmap_range(old, old + old_len);
        moved.start = dest;
        moved.end = dest + new_len;
        if moved.label == "[stack]" {
            moved.label = "";
        }
        self.insert_vma(moved);
        let shift = dest as i128 - old as i128;
        for (k, mut p) in pages {
            if (k * PAGE_SIZE) < old + new_len.min(old_len) {
                p.host = crate::mm::HostMapping::None;
                let nk = ((k * PAGE_SIZE) as i128 + shift) as u64 / PAGE_SIZE;
                self.pages.insert(nk, p);
            } else {
                self.deferred_frees.push(p.frame);
            }
        }
        Ok(dest)
    }

    /// brk: moves the program break; returns the new (or unchanged) break.
    pub fn set_brk(&mut self, new: u64) -> u64 {
        if new < self.brk_start {
            return self.brk;
        }
        let Some(old_top) = page_align_up(self.brk) else { return self.brk };
        let Some(new_top) = page_align_up(new) else { return self.brk };
        if new_top > old_top {
            // Linux's overcommit heuristic refuses growth beyond all of RAM.
            if new_top - old_top > self.ram_bytes || new_top > self.mmap_base.min(TASK_SIZE) || !self.range_is_free(old_top, new_top) {
                return self.brk;
            }
            // RLIMIT_DATA bounds the heap (Linux's check_data_rlimit), and
            // both limits its growth (may_expand_vm).
            if new - self.brk_start > self.limits.data || !self.may_expand(new_top - old_top, 0, PROT_READ | PROT_WRITE, MAP_PRIVATE) {
                return self.brk;
            }
            self.insert_vma(Vma {
                start: old_top,
                end: new_top,
                prot: PROT_READ | PROT_WRITE,
                flags: MAP_PRIVATE,
                backing: Backing::Anonymous,
                label: "[heap]",
            });
        } else if new_top < old_top {
            self.unmap_range(new_top, old_top);
        }
        self.brk = new;
        new
    }
}

impl Mm {
    /// For tests; mmap itself takes the lock and maps, as it must ask a
    /// file's seals under it.
    #[cfg(test)]
    pub fn map(&self, req: MapRequest) -> KResult<u64> {
        self.lock().map(req)
    }

    pub fn unmap(&self, addr: u64, len: u64) -> KResult<()> {
        if addr % PAGE_SIZE != 0 || len == 0 {
            return Err(Errno::EINVAL);
        }
        let len = page_align_up(len).ok_or(Errno::EINVAL)?;
        let end = addr.checked_add(len).ok_or(Errno::EINVAL)?;
        if end > TASK_SIZE {
            return Err(Errno::EINVAL);
        }
        let mut st = self.lock();
        if st.cuts_special_mapping(addr, end) {
            return Err(Errno::EINVAL);
        }
        st.unmap_range(addr, end);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::mm::frame::PhysMemory;
    use crate::mm::{HostMapping, HostOp};
    use crate::platform::AddressSpace;

    fn mm() -> Arc<Mm> {
        let mm = Mm::new(Arc::new(PhysMemory::new(256 * PAGE_SIZE).unwrap()));
        mm.lock().mmap_base = 0x7000_0000_0000;
        mm
    }

    fn anon(addr: u64, len: u64, flags: u32) -> MapRequest {
        MapRequest { addr, len, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | flags, backing: Backing::Anonymous, label: "" }
    }

    #[test]
    fn adjacent_anonymous_mappings_merge_and_split_on_munmap() {
        let mm = mm();
        let a = mm.map(anon(0x10_0000, 2 * PAGE_SIZE, MAP_FIXED)).unwrap();
        mm.map(anon(a + 2 * PAGE_SIZE, PAGE_SIZE, MAP_FIXED)).unwrap();
        assert_eq!(mm.lock().vmas.len(), 1);
        mm.unmap(a + PAGE_SIZE, PAGE_SIZE).unwrap();
        let st = mm.lock();
        let ranges: Vec<(u64, u64)> = st.vmas.values().map(|v| (v.start, v.end)).collect();
        assert_eq!(ranges, vec![(a, a + PAGE_SIZE), (a + 2 * PAGE_SIZE, a + 3 * PAGE_SIZE)]);
    }

    #[test]
    fn fixed_noreplace_refuses_an_occupied_range() {
        let mm = mm();
        let a = mm.map(anon(0x20_0000, PAGE_SIZE, MAP_FIXED)).unwrap();
        assert_eq!(mm.map(anon(a, PAGE_SIZE, MAP_FIXED_NOREPLACE)), Err(Errno::EEXIST));
        assert_eq!(mm.map(anon(a + 1, PAGE_SIZE, MAP_FIXED)), Err(Errno::EINVAL));
    }

    #[test]
    fn written_pages_survive_mremap_move_and_unmapped_source_is_gone() {
        let mm = mm();
        let a = mm.map(anon(0x30_0000, 2 * PAGE_SIZE, MAP_FIXED)).unwrap();
        mm.write_bytes(a + PAGE_SIZE + 7, b"moved").unwrap();
        // Block in-place growth so the region must move.
        mm.map(anon(a + 2 * PAGE_SIZE, PAGE_SIZE, MAP_FIXED)).unwrap();
        let b = mm.lock().remap(a, 2 * PAGE_SIZE, 8 * PAGE_SIZE, MREMAP_MAYMOVE, 0).unwrap();
        assert_ne!(a, b);
        assert_eq!(mm.read_bytes(b + PAGE_SIZE + 7, 5).unwrap(), b"moved");
        assert_eq!(mm.read_bytes(a, 1), Err(Errno::EFAULT));
        assert_eq!(mm.lock().remap(b, PAGE_SIZE, PAGE_SIZE, MREMAP_FIXED, 0), Err(Errno::EINVAL));
    }

    #[test]
    fn mprotect_changes_the_mapped_run_before_a_hole_and_narrows_or_drops_host_mappings() {
        let mm = mm();
        let a = mm.map(anon(0x40_0000, 4 * PAGE_SIZE, MAP_FIXED)).unwrap();
        mm.handle_fault(a, mm.host_generation()).unwrap();
        let ops = mm.take_host_changes().ops;
        assert!(matches!(ops[0], HostOp::Map { addr, .. } if addr == a));
        // Unmapped at the start: nothing changes.
        assert_eq!(mm.lock().protect(a - PAGE_SIZE, 2 * PAGE_SIZE, PROT_READ), Err(Errno::ENOMEM));
        assert_eq!(mm.lock().find_vma(a).map(|v| v.prot), Some(PROT_READ | PROT_WRITE));
        // A hole after the mapping: the mapped run changes, then ENOMEM.
        assert_eq!(mm.lock().protect(a, 8 * PAGE_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC), Err(Errno::ENOMEM));
        assert_eq!(mm.lock().find_vma(a + 3 * PAGE_SIZE).map(|v| v.prot), Some(PROT_READ | PROT_WRITE | PROT_EXEC));
        mm.take_host_changes();
        mm.handle_fault(a, mm.host_generation()).unwrap();
        mm.take_host_changes();
        // Less access: the host mapping narrows with one mprotect.
        mm.lock().protect(a, PAGE_SIZE, PROT_READ).unwrap();
        let ops = mm.take_host_changes().ops;
        assert_eq!(ops, vec![HostOp::Protect { addr: a, len: PAGE_SIZE, prot: PROT_READ }]);
        assert_eq!(mm.lock().pages[&(a / PAGE_SIZE)].host, HostMapping::Full);
        // More access: dropped, refaulted with the new protection.
        mm.lock().protect(a, PAGE_SIZE, PROT_READ | PROT_EXEC).unwrap();
        assert_eq!(mm.take_host_changes().ops, vec![HostOp::Unmap { addr: a, len: PAGE_SIZE }]);
        assert_eq!(mm.lock().pages[&(a / PAGE_SIZE)].host, HostMapping::None);
        mm.lock().protect(a, PAGE_SIZE, PROT_READ).unwrap();
        // A write through the kernel now faults like the guest would.
        assert_eq!(mm.write_bytes(a, b"x"), Err(Errno::EFAULT));
    }

    #[test]
    fn fault_on_unmapped_address_is_maperr_and_on_prot_none_is_accerr() {
        let mm = mm();
        assert_eq!(mm.handle_fault(0x50_0000, mm.host_generation()), Err(crate::mm::FaultError::MapErr));
        let mut req = anon(0x50_0000, PAGE_SIZE, MAP_FIXED);
        req.prot = 0;
        mm.map(req).unwrap();
        assert_eq!(mm.handle_fault(0x50_0000, mm.host_generation()), Err(crate::mm::FaultError::AccErr));
    }

    #[test]
    fn brk_refuses_growth_beyond_ram_and_into_mappings() {
        let mm = mm();
        {
            let mut st = mm.lock();
            st.brk_start = 0x60_0000;
            st.brk = 0x60_0000;
            assert_eq!(st.set_brk(0x60_0000 + (1 << 40)), 0x60_0000);
            assert_eq!(st.set_brk(0x60_0100), 0x60_0100);
        }
        mm.map(anon(0x60_4000, PAGE_SIZE, MAP_FIXED)).unwrap();
        assert_eq!(mm.lock().set_brk(0x60_8000), 0x60_0100);
    }

    #[test]
    fn freed_frames_are_released_only_after_the_host_unmap() {
        let mm = mm();
        let a = mm.map(anon(0x70_0000, PAGE_SIZE, MAP_FIXED)).unwrap();
        mm.write_bytes(a, b"data").unwrap();
        let before = mm.phys.free_frame_count();
        mm.unmap(a, PAGE_SIZE).unwrap();
        assert_eq!(mm.phys.free_frame_count(), before, "frame held until the host change is applied");
        let changes = mm.take_host_changes();
        mm.host_changes_applied(changes);
        assert_eq!(mm.phys.free_frame_count(), before + 1);
    }
}
