//! The OOM killer (Linux's mm/oom_kill.c). When a page fault finds no
//! free frame, `out_of_memory` picks the process with the largest memory
//! footprint (badness: resident pages plus page-table pages, moved by
//! oom_score_adj in thousandths of RAM), never init, kills it with a line
//! like Linux's, and the faulting task retries once the victim's memory is
//! back. The task layer lists the processes and delivers the kill through
//! `OomTasks` (installed at boot); this module never names a task. Called
//! by the run loop with no lock held.

use parking_lot::Mutex;
use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, Instant};

use crate::abi::PAGE_SIZE;
use crate::mm::Mm;
use crate::mm::vma::Backing;

/// An oom_score_adj that takes a process out of the choice.
pub const OOM_SCORE_ADJ_MIN: i32 = -1000;

/// How long a victim may take to give its memory back before another is
/// chosen (Linux's oom_reaper frees a stuck victim's memory instead).
const VICTIM_TIMEOUT: Duration = Duration::from_secs(1);

/// A process as the OOM killer weighs it.
pub struct OomCandidate {
    pub tgid: i32,
    pub comm: Vec<u8>,
    pub uid: u32,
    pub mm: Arc<Mm>,
    pub oom_score_adj: i32,
    /// Never chosen: init (is_global_init), and a vfork child, which
    /// shares its parent's memory (in_vfork); the parent is chosen instead.
    pub unkillable: bool,
    /// SIGKILL is pending or the group is exiting.
    pub dying: bool,
}

/// The process table as the OOM killer sees it.
pub trait OomTasks: Send + Sync {
    /// Every live process.
    fn candidates(&self) -> Vec<OomCandidate>;
    /// Sends SIGKILL from the kernel to process `tgid`.
    fn kill(&self, tgid: i32);
}

static TASKS: OnceLock<Arc<dyn OomTasks>> = OnceLock::new();

/// Installs the process table (once, at boot).
pub fn install(tasks: Arc<dyn OomTasks>) {
    let _ = TASKS.set(tasks);
}

/// A process killed for memory that may not have given it back yet.
struct Victim {
    mm: Weak<Mm>,
    killed_at: Instant,
}

/// The victims in flight; its lock serialises OOM decisions (oom_lock).
static VICTIMS: Mutex<Vec<Victim>> = Mutex::new(Vec::new());

/// What the faulting task does next.
#[derive(Debug, PartialEq, Eq)]
pub enum OomOutcome {
    /// A victim was killed, or one is still on its way out: wait a moment
    /// and retry the access.
    Retry,
    /// Nothing can be killed (Linux panics: "Out of memory and no killable
    /// processes"); the caller kills the faulting task.
    NoVictim,
}

/// Pages a process holds, by kind, and its page-table size.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Footprint {
    pub anon: u64,
    pub file: u64,
    pub shmem: u64,
    pub pgtable_bytes: u64,
}

impl Footprint {
    pub fn resident(&self) -> u64 {
        self.anon + self.file + self.shmem
    }
}

/// Counts `mm`'s resident pages as Linux's MM_ANONPAGES, MM_FILEPAGES and
/// MM_SHMEMPAGES would (a private file page not yet written is a file
/// page), and the x86-64 page-table pages that would map them.
pub fn footprint(mm: &Mm) -> Footprint {
    let st = mm.lock();
    let mut f = Footprint::default();
    for vma in st.vmas.values() {
        for (_, pte) in st.pages.range(vma.start / PAGE_SIZE..vma.end / PAGE_SIZE) {
            match vma.backing {
                Backing::Anonymous => f.anon += 1,
                Backing::Shared { .. } => f.shmem += 1,
                Backing::File { .. } if pte.cow => f.file += 1,
                Backing::File { .. } => f.anon += 1,
                // The host's page cache, not guest RAM (it has no pages here).
                Backing::HostFile { .. } => {}
            }
        }
    }
    // One table page per 512 entries at each level that has any, plus the
    // top level.
    let mut tables = 1;
    for shift in [9, 18, 27] {
        let mut last = None;
        for &vpn in st.pages.keys() {
            let index = vpn >> shift;
            if last != Some(index) {
                tables += 1;
                last = Some(index);
            }
        }
    }
    f.pgtable_bytes = tables * PAGE_SIZE;
    f
}

/// Linux's oom_badness: resident pages and page-table pages, plus
/// oom_score_adj thousandths of RAM; None for a process never chosen.
pub fn badness(c: &OomCandidate, fp: &Footprint, total_pages: u64) -> Option<i64> {
    if c.unkillable || c.oom_score_adj <= OOM_SCORE_ADJ_MIN {
        return None;
    }
    let points = (fp.resident() + fp.pgtable_bytes / PAGE_SIZE) as i64;
    Some(points + c.oom_score_adj as i64 * (total_pages / 1000) as i64)
}

/// Guest RAM ran out under a page fault: kills the worst process unless a
/// victim is still giving memory back.
pub fn out_of_memory() -> OomOutcome {
    let Some(tasks) = TASKS.get() else { return OomOutcome::NoVictim };
    let mut victims = VICTIMS.lock();
    victims.retain(|v| v.mm.strong_count() > 0 && v.killed_at.elapsed() < VICTIM_TIMEOUT);
    if !victims.is_empty() {
        return OomOutcome::Retry;
    }
    let candidates = tasks.candidates();
    let mut chosen: Option<(usize, i64, Footprint)> = None;
    for (i, c) in candidates.iter().enumerate() {
        if c.dying {
            continue;
        }
        let fp = footprint(&c.mm);
        let Some(points) = badness(c, &fp, c.mm.phys.total_frames()) else { continue };
        // Ties go to the later process, as oom_evaluate_task's `<` does.
        if chosen.as_ref().is_none_or(|&(_, best, _)| points >= best) {
            chosen = Some((i, points, fp));
        }
    }
    let Some((i, _, fp)) = chosen else { return OomOutcome::NoVictim };
    let victim = &candidates[i];
    let kb = |pages: u64| pages * PAGE_SIZE / 1024;
    eprintln!(
        "vkernel: Out of memory: Killed process {} ({}) total-vm:{}kB, anon-rss:{}kB, file-rss:{}kB, shmem-rss:{}kB, UID:{} pgtables:{}kB oom_score_adj:{}",
        victim.tgid,
        String::from_utf8_lossy(&victim.comm),
        kb(victim.mm.total_vm_pages()),
        kb(fp.anon),
        kb(fp.file),
        kb(fp.shmem),
        victim.uid,
        fp.pgtable_bytes / 1024,
        victim.oom_score_adj
    );
    tasks.kill(victim.tgid);
    // Every other process sharing the memory goes too (a vfork child), but
    // never init.
    for other in candidates.iter().filter(|o| o.tgid != victim.tgid && Arc::ptr_eq(&o.mm, &victim.mm)) {
        if other.tgid == 1 {
            eprintln!(
                "vkernel: oom killer {} ({}) has mm pinned by {} ({})",
                victim.tgid,
                String::from_utf8_lossy(&victim.comm),
                other.tgid,
                String::from_utf8_lossy(&other.comm)
            );
            continue;
        }
        tasks.kill(other.tgid);
    }
    victims.push(Victim { mm: Arc::downgrade(&victim.mm), killed_at: Instant::now() });
    OomOutcome::Retry
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(mm: Arc<Mm>, adj: i32, unkillable: bool) -> OomCandidate {
        OomCandidate { tgid: 2, comm: b"x".to_vec(), uid: 0, mm, oom_score_adj: adj, unkillable, dying: false }
    }

    #[test]
    fn badness_adds_thousandths_of_ram_and_skips_the_unkillable() {
        let phys = Arc::new(crate::mm::frame::PhysMemory::new(4 << 20).unwrap());
        let mm = Mm::new(phys);
        let fp = Footprint { anon: 100, file: 0, shmem: 0, pgtable_bytes: 4 * PAGE_SIZE };
        assert_eq!(badness(&candidate(mm.clone(), 0, false), &fp, 100_000), Some(104));
        assert_eq!(badness(&candidate(mm.clone(), 10, false), &fp, 100_000), Some(104 + 1000));
        assert_eq!(badness(&candidate(mm.clone(), -1000, false), &fp, 100_000), None);
        assert_eq!(badness(&candidate(mm.clone(), 0, true), &fp, 100_000), None);
    }

    #[test]
    fn an_empty_address_space_has_only_its_top_table() {
        let phys = Arc::new(crate::mm::frame::PhysMemory::new(4 << 20).unwrap());
        let fp = footprint(&Mm::new(phys));
        assert_eq!(fp, Footprint { anon: 0, file: 0, shmem: 0, pgtable_bytes: PAGE_SIZE });
    }
}
