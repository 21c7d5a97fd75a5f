//! What an address space counts against its process's limits: its size
//! and private writable size (RLIMIT_AS, RLIMIT_DATA: Linux's
//! may_expand_vm), how far its stack may grow (RLIMIT_STACK) and which
//! pages are locked (mlock, mlockall; RLIMIT_MEMLOCK is checked by the
//! caller, which knows the capabilities). Locking has no host effect:
//! guest memory is never swapped; it is bookkeeping that /proc and the
//! limits see. The task layer keeps `VmLimits` in step with the rlimits.

use std::collections::BTreeMap;

use crate::abi::mman::{MAP_GROWSDOWN, MAP_SHARED, MAP_TYPE, PROT_WRITE};
use crate::abi::{Errno, KResult, PAGE_SIZE};
use crate::mm::MmState;

/// The limits that bound an address space, in bytes (u64::MAX: none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VmLimits {
    pub address_space: u64,
    pub data: u64,
    /// The data limit's hard value (Linux lets a soft limit of 0 through
    /// up to it, for Valgrind).
    pub data_max: u64,
    pub stack: u64,
}

impl Default for VmLimits {
    fn default() -> Self {
        VmLimits { address_space: u64::MAX, data: u64::MAX, data_max: u64::MAX, stack: 8 << 20 }
    }
}

/// Locked pages: non-overlapping page ranges (start -> end), and whether
/// new mappings are locked too (mlockall MCL_FUTURE).
#[derive(Clone, Debug, Default)]
pub struct Locked {
    ranges: BTreeMap<u64, u64>,
    pub future: bool,
}

impl Locked {
    /// Bytes locked within [start, end).
    pub fn bytes_in(&self, start: u64, end: u64) -> u64 {
        self.ranges.iter().map(|(&s, &e)| e.min(end).saturating_sub(s.max(start))).sum()
    }

    pub fn bytes(&self) -> u64 {
        self.ranges.iter().map(|(s, e)| e - s).sum()
    }

    pub fn add(&mut self, start: u64, end: u64) {
        self.remove(start, end);
        let (mut s, mut e) = (start, end);
        if let Some((&ps, &pe)) = self.ranges.range(..=s).next_back() {
            if pe == s {
                self.ranges.remove(&ps);
                s = ps;
            }
        }
        if let Some(&ne) = self.ranges.get(&e) {
            self.ranges.remove(&e);
            e = ne;
        }
        self.ranges.insert(s, e);
    }

    pub fn remove(&mut self, start: u64, end: u64) {
        let overlapping: Vec<(u64, u64)> = self.ranges.range(..end).filter(|(_, e)| **e > start).map(|(&s, &e)| (s, e)).collect();
        for (s, e) in overlapping {
            self.ranges.remove(&s);
            if s < start {
                self.ranges.insert(s, start);
            }
            if e > end {
                self.ranges.insert(end, e);
            }
        }
    }

    pub fn clear(&mut self) {
        self.ranges.clear();
    }
}

/// Linux's is_data_mapping: private, writable and not a stack.
fn is_data(prot: u32, flags: u32) -> bool {
    prot & PROT_WRITE != 0 && flags & MAP_TYPE != MAP_SHARED && flags & MAP_GROWSDOWN == 0
}

impl MmState {
    /// Bytes mapped in total and as private writable data.
    fn vm_sizes(&self) -> (u64, u64) {
        let mut total = 0;
        let mut data = 0;
        for v in self.vmas.values() {
            total += v.len();
            if is_data(v.prot, v.flags) {
                data += v.len();
            }
        }
        (total, data)
    }

    /// Linux's may_expand_vm: may `grow` bytes with `prot`/`flags` be
    /// added (beyond `replaced` bytes a MAP_FIXED mapping takes over)?
    pub fn may_expand(&self, grow: u64, replaced: u64, prot: u32, flags: u32) -> bool {
        let l = self.limits;
        if l.address_space == u64::MAX && (l.data == u64::MAX || !is_data(prot, flags)) {
            return true;
        }
        let (total, data) = self.vm_sizes();
        let grow = grow.saturating_sub(replaced);
        if total.saturating_add(grow) > l.address_space {
            return false;
        }
        if is_data(prot, flags) && data.saturating_add(grow) > l.data {
            return l.data == 0 && data.saturating_add(grow) <= l.data_max;
        }
        true
    }

    /// Bytes of existing mappings in [start, end) (what MAP_FIXED replaces).
    pub fn mapped_bytes_in(&self, start: u64, end: u64) -> u64 {
        self.vmas.values().map(|v| v.end.min(end).saturating_sub(v.start.max(start))).sum()
    }

    /// Linux's apply_vma_lock_flags: locks or unlocks the mapped pages of
    /// [start, end) in order; a hole is ENOMEM (what came before it stays
    /// changed).
    pub fn set_locked(&mut self, start: u64, end: u64, lock: bool) -> KResult<()> {
        if end < start {
            return Err(Errno::EINVAL);
        }
        if end == start {
            return Ok(());
        }
        let mut cursor = start;
        while cursor < end {
            let Some((vs, ve)) = self.find_vma(cursor).map(|v| (v.start, v.end)) else { return Err(Errno::ENOMEM) };
            debug_assert!(vs <= cursor);
            let stop = ve.min(end);
            if lock {
                self.locked.add(cursor, stop);
            } else {
                self.locked.remove(cursor, stop);
            }
            cursor = stop;
        }
        Ok(())
    }

    /// Whether a mapping in [start, end) is PROT_NONE (mlock cannot fault
    /// it in).
    pub fn has_inaccessible(&self, start: u64, end: u64) -> bool {
        self.vmas.values().any(|v| v.start < end && v.end > start && v.prot == 0)
    }

    /// mlockall(MCL_CURRENT): every mapping is locked.
    pub fn lock_all_mappings(&mut self) {
        let ranges: Vec<(u64, u64)> = self.vmas.values().map(|v| (v.start, v.end)).collect();
        for (s, e) in ranges {
            self.locked.add(s, e);
        }
    }

    /// Pages of [start, end) that are locked (VmLck counts these).
    pub fn locked_bytes(&self) -> u64 {
        self.locked.bytes()
    }
}

/// A length rounded to whole pages from an address (Linux's
/// PAGE_ALIGN(len + offset_in_page(start))), with the aligned start.
pub fn page_range(addr: u64, len: u64) -> Option<(u64, u64)> {
    let start = addr & !(PAGE_SIZE - 1);
    let len = crate::abi::page_align_up(len.checked_add(addr - start)?)?;
    Some((start, start.checked_add(len)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locked_ranges_merge_and_split() {
        let mut l = Locked::default();
        l.add(0x1000, 0x3000);
        l.add(0x3000, 0x5000);
        assert_eq!(l.bytes(), 0x4000);
        l.remove(0x2000, 0x4000);
        assert_eq!(l.bytes(), 0x2000);
        assert_eq!(l.bytes_in(0, 0x3000), 0x1000);
        l.add(0x1800, 0x4800);
        assert_eq!(l.bytes(), 0x4000);
        l.clear();
        assert_eq!(l.bytes(), 0);
    }

    #[test]
    fn page_ranges_round_like_linux() {
        assert_eq!(page_range(0x1001, 1), Some((0x1000, 0x2000)));
        assert_eq!(page_range(0x1fff, 2), Some((0x1000, 0x3000)));
        assert_eq!(page_range(0x1000, 0), Some((0x1000, 0x1000)));
        assert_eq!(page_range(u64::MAX - 10, 100), None);
    }
}
