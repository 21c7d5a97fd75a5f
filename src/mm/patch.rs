//! Patched system call sites, an address space's side (the seccomp
//! platform's fast path; see platform/seccomp). A `mov $nr, %eax; syscall`
//! in a program's text that keeps trapping is rewritten into
//! `jmp *TABLE+8k`: a jump through the platform's syscall table to the
//! trampoline of entry k, which hands the call to vkernel without a
//! signal. This module records which sites were rewritten (by entry), does
//! the rewrite — a copy of the page with the new bytes, swapped in the way
//! a copy-on-write fault swaps pages, so no thread ever runs a half-written
//! instruction — and undoes every site when the guest wants the table's
//! addresses for itself. The ptrace platform never calls it.

use std::collections::HashMap;
use std::sync::Arc;

use super::frame::PhysMemory;
use super::vma::Backing;
use super::{HostMapping, MmState, Pte};
use crate::abi::PAGE_SIZE;
use crate::abi::mman::{PROT_EXEC, PROT_READ, PROT_WRITE};
use crate::platform::{HostOp, SITE_LEN, SyscallTable};

/// Calls never patched: they replace or rebuild the thread's whole
/// context, so they take the signal path anyway (rt_sigreturn, clone,
/// fork, vfork, execve, exit, exit_group, execveat, clone3).
const NEVER: [u32; 9] = [15, 56, 57, 58, 59, 60, 231, 322, 435];

/// A site is rewritten at its second trap (one-off calls stay as they are).
const TRAPS_BEFORE_PATCH: u8 = 2;

/// Sites counted but not yet patched, at most (then the count restarts).
const MAX_COUNTED: usize = 4096;

/// An address space's patched sites.
#[derive(Clone, Default)]
pub struct Patches {
    /// (site, system call number) by table entry.
    sites: Vec<(u64, u32)>,
    by_site: HashMap<u64, u32>,
    /// Traps seen at sites not yet patched.
    traps: HashMap<u64, u8>,
    /// The table the sites jump through, once one is.
    table: Option<SyscallTable>,
    /// Given up: the guest mapped something where the table goes.
    disabled: bool,
}

impl Patches {
    pub fn site(&self, entry: u32) -> Option<(u64, u32)> {
        self.sites.get(entry as usize).copied()
    }

    pub fn number_at(&self, site: u64) -> Option<u32> {
        self.by_site.get(&site).and_then(|&k| self.site(k)).map(|(_, nr)| nr)
    }
}

/// The original bytes of a site for `nr`.
fn original(nr: u32) -> [u8; 7] {
    let n = nr.to_le_bytes();
    [0xb8, n[0], n[1], n[2], n[3], 0x0f, 0x05]
}

/// `jmp *abs32` through table entry `entry` (ModRM 0x24, SIB 0x25: an
/// absolute 32-bit address). The table's address puts 0x06 (undefined in
/// 64-bit mode) where the `syscall` began, so a thread that ran the old
/// `mov` and then finds the new bytes traps with SIGILL at site+5, which
/// the platform serves as the system call the site makes.
fn jump(table: &SyscallTable, entry: u32) -> [u8; 7] {
    let a = (table.addr + 8 * entry as u64) as u32;
    let a = a.to_le_bytes();
    [0xff, 0x24, 0x25, a[0], a[1], a[2], a[3]]
}

impl MmState {
    /// See `AddressSpace::syscall_trapped`.
    pub(super) fn syscall_trapped(&mut self, phys: &Arc<PhysMemory>, site: u64, nr: u32, table: &SyscallTable) {
        let p = &mut self.patches;
        if p.disabled || NEVER.contains(&nr) || p.by_site.contains_key(&site) || p.sites.len() >= table.entries as usize {
            return;
        }
        if p.traps.len() >= MAX_COUNTED {
            p.traps.clear();
        }
        let count = p.traps.entry(site).or_insert(0);
        *count += 1;
        if *count < TRAPS_BEFORE_PATCH {
            return;
        }
        p.traps.remove(&site);
        let first = p.table.is_none();
        if first {
            if self.vmas.range(..table.addr + table.len).next_back().is_some_and(|(_, v)| v.end > table.addr) {
                // The guest has something there already: no patching.
                self.patches.disabled = true;
                return;
            }
            self.patches.table = Some(*table);
        }
        let entry = self.patches.sites.len() as u32;
        if !self.rewrite_code(phys, site, &original(nr), &jump(table, entry), true) {
            return;
        }
        if first {
            self.queue(HostOp::Map { addr: table.addr, len: table.len, prot: PROT_READ, offset: table.offset });
        }
        self.patches.sites.push((site, nr));
        self.patches.by_site.insert(site, entry);
    }

    /// Replaces the page holding `site` with a copy whose bytes at `site`
    /// are `to` instead of `from` (false, and nothing changed, when they
    /// are not `from` or the page cannot be copied). Patching (`patch`)
    /// rewrites only present pages of private, read-only, executable file
    /// mappings (a program's text).
    fn rewrite_code(&mut self, phys: &Arc<PhysMemory>, site: u64, from: &[u8; 7], to: &[u8; 7], patch: bool) -> bool {
        let off = (site % PAGE_SIZE) as usize;
        if off as u64 + SITE_LEN > PAGE_SIZE {
            return false;
        }
        let Some(vma) = self.find_vma(site).cloned() else { return false };
        let text = vma.prot & PROT_EXEC != 0 && vma.prot & PROT_WRITE == 0 && matches!(vma.backing, Backing::File { .. });
        if patch && !text {
            return false;
        }
        let vpn = site / PAGE_SIZE;
        let Some(pte) = self.pages.get(&vpn).copied() else { return false };
        if phys.frame_bytes(pte.frame)[off..off + 7] != from[..] {
            return false;
        }
        let Ok(copy) = phys.alloc(0) else { return false };
        let bytes = phys.frame_bytes(copy);
        bytes.copy_from_slice(phys.frame_bytes(pte.frame));
        bytes[off..off + 7].copy_from_slice(to);
        // The host maps the new page over the old in one mmap: threads
        // running the old page keep running it until then, and then run
        // the new one, whole (no fault to bring it in).
        self.deferred_frees.push(pte.frame);
        self.pages.insert(vpn, Pte { frame: copy, cow: false, host: HostMapping::None });
        if pte.host != HostMapping::None {
            self.map_to_host(&vma, vpn, vpn + 1);
        }
        true
    }

    /// A guest mapping is about to cover [start, end): if the table is
    /// there, every site gets its original bytes back, the table leaves
    /// the host and patching ends for this address space. Sites stay
    /// recorded, so a thread still on its way through one is served.
    pub(super) fn table_wanted(&mut self, start: u64, end: u64) {
        let Some(table) = self.patches.table else { return };
        if self.patches.disabled || end <= table.addr || start >= table.addr + table.len {
            return;
        }
        self.patches.disabled = true;
        let phys = super::frame::guest_ram().clone();
        let sites = self.patches.sites.clone();
        for (entry, (site, nr)) in sites.into_iter().enumerate() {
            self.rewrite_code(&phys, site, &jump(&table, entry as u32), &original(nr), false);
        }
        self.queue(HostOp::Unmap { addr: table.addr, len: table.len });
    }

    /// The host lost its mappings: the table is mapped again with the rest.
    pub(super) fn remap_table(&mut self) {
        if let (Some(table), false) = (self.patches.table, self.patches.disabled) {
            self.queue(HostOp::Map { addr: table.addr, len: table.len, prot: PROT_READ, offset: table.offset });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_jump_puts_an_undefined_opcode_where_syscall_began() {
        let table = SyscallTable { addr: 0x6006_0000, len: 0x8000, offset: 0, entries: 4096 };
        for entry in [0, 1, 4095] {
            let j = jump(&table, entry);
            assert_eq!(&j[..3], &[0xff, 0x24, 0x25]);
            assert_eq!((j[5], j[6]), (0x06, 0x60), "0x06 and 0x60 are both undefined in 64-bit mode");
            assert_eq!(u32::from_le_bytes([j[3], j[4], j[5], j[6]]) as u64, table.addr + 8 * entry as u64);
        }
        assert_eq!(original(39), [0xb8, 39, 0, 0, 0, 0x0f, 0x05]);
    }
}
