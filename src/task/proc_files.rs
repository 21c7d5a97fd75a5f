//! The per-process /proc files beyond stat, status and maps, in Linux's
//! formats (fs/proc/base.c, task_mmu.c): smaps, smaps_rollup, limits,
//! auxv, io, sched, schedstat, wchan, the OOM files, cgroup, personality,
//! coredump_filter, loginuid and sessionid; and the writes the writable
//! ones take.

use std::fmt::Write;
use std::sync::atomic::Ordering;

use crate::abi::capability::CAP_SYS_RESOURCE;
use crate::abi::mman::{MAP_GROWSDOWN, MAP_SHARED, PROT_EXEC, PROT_READ, PROT_WRITE};
use crate::abi::resource::{RLIM_INFINITY, RLIM_NLIMITS};
use crate::abi::{Errno, KResult, PAGE_SIZE};
use crate::fs::procfs::PidFile;
use crate::mm::vma::{Backing, Vma};
use crate::task::Task;
use crate::task::limits::{OOM_SCORE_ADJ_MAX, OOM_SCORE_ADJ_MIN};

/// What one VMA holds, in bytes.
#[derive(Default, Clone, Copy)]
struct Usage {
    rss: u64,
    private_clean: u64,
    private_dirty: u64,
    shared_dirty: u64,
    anonymous: u64,
    /// Resident pages that mlock or mlockall locked.
    locked: u64,
}

impl Usage {
    fn add(&mut self, o: &Usage) {
        self.rss += o.rss;
        self.private_clean += o.private_clean;
        self.private_dirty += o.private_dirty;
        self.shared_dirty += o.shared_dirty;
        self.anonymous += o.anonymous;
        self.locked += o.locked;
    }
}

/// Present pages of `vma`: anonymous ones are private and dirty, pages of
/// a private file mapping clean unless the mapping is writable (copied on
/// write), shared memory is shared.
fn usage(vma: &Vma, present_pages: u64) -> Usage {
    let bytes = present_pages * PAGE_SIZE;
    let mut u = Usage { rss: bytes, ..Default::default() };
    match &vma.backing {
        Backing::Shared { .. } => u.shared_dirty = bytes,
        Backing::File { .. } if vma.prot & PROT_WRITE == 0 => u.private_clean = bytes,
        _ => {
            u.private_dirty = bytes;
            u.anonymous = bytes;
        }
    }
    u
}

fn kb_line(s: &mut String, label: &str, bytes: u64) {
    let _ = writeln!(s, "{:<16}{:>8} kB", format!("{label}:"), bytes >> 10);
}

/// Linux's show_smap_vma_flags.
fn vm_flags(vma: &Vma, locked: bool) -> String {
    let shared = vma.flags & MAP_SHARED != 0;
    let mut f: Vec<&str> = Vec::new();
    if vma.prot & PROT_READ != 0 {
        f.push("rd");
    }
    if vma.prot & PROT_WRITE != 0 {
        f.push("wr");
    }
    if vma.prot & PROT_EXEC != 0 {
        f.push("ex");
    }
    if shared {
        f.push("sh");
    }
    f.push("mr");
    if !shared || vma.prot & PROT_WRITE != 0 {
        f.push("mw");
    }
    f.push("me");
    if shared {
        f.push("ms");
    }
    if vma.flags & MAP_GROWSDOWN != 0 {
        f.push("gd");
    }
    if locked {
        f.push("lo");
    }
    if !shared && vma.prot & PROT_WRITE != 0 {
        f.push("ac");
    }
    let mut out = f.join(" ");
    out.push(' ');
    out
}

fn usage_lines(s: &mut String, u: &Usage, rollup: bool) {
    kb_line(s, "Rss", u.rss);
    kb_line(s, "Pss", u.rss);
    kb_line(s, "Pss_Dirty", u.private_dirty + u.shared_dirty);
    if rollup {
        kb_line(s, "Pss_Anon", u.anonymous);
        kb_line(s, "Pss_File", u.private_clean);
        kb_line(s, "Pss_Shmem", u.shared_dirty);
    }
    kb_line(s, "Shared_Clean", 0);
    kb_line(s, "Shared_Dirty", u.shared_dirty);
    kb_line(s, "Private_Clean", u.private_clean);
    kb_line(s, "Private_Dirty", u.private_dirty);
    kb_line(s, "Referenced", u.rss);
    kb_line(s, "Anonymous", u.anonymous);
    for label in ["KSM", "LazyFree", "AnonHugePages", "ShmemPmdMapped", "FilePmdMapped", "Shared_Hugetlb", "Private_Hugetlb", "Swap", "SwapPss"] {
        kb_line(s, label, 0);
    }
    kb_line(s, "Locked", u.locked);
}

/// /proc/<pid>/smaps and smaps_rollup.
fn smaps(task: &Task, rollup: bool) -> Vec<u8> {
    let mm = task.mm();
    let st = mm.lock();
    let mut s = String::new();
    let mut total = Usage::default();
    for vma in st.vmas.values() {
        let present = st.pages.range(vma.start / PAGE_SIZE..vma.end / PAGE_SIZE).count() as u64;
        let mut u = usage(vma, present);
        let is_locked = |vpn: &&u64| st.locked.bytes_in(**vpn * PAGE_SIZE, (**vpn + 1) * PAGE_SIZE) > 0;
        let locked_pages = if st.locked.bytes_in(vma.start, vma.end) == 0 {
            0
        } else {
            st.pages.range(vma.start / PAGE_SIZE..vma.end / PAGE_SIZE).map(|(k, _)| k).filter(is_locked).count() as u64
        };
        u.locked = locked_pages * PAGE_SIZE;
        total.add(&u);
        if rollup {
            continue;
        }
        s.push_str(&crate::task::proc::vma_line(vma));
        s.push('\n');
        kb_line(&mut s, "Size", vma.len());
        kb_line(&mut s, "KernelPageSize", PAGE_SIZE);
        kb_line(&mut s, "MMUPageSize", PAGE_SIZE);
        usage_lines(&mut s, &u, false);
        let _ = writeln!(s, "THPeligible:    {:>8}", 0);
        if crate::platform::host::clock::protection_keys_enabled() {
            // Every mapping has key 0: pkey_alloc is not offered.
            let _ = writeln!(s, "ProtectionKey:  {:>8}", 0);
        }
        let locked = st.locked.bytes_in(vma.start, vma.start + PAGE_SIZE) > 0;
        let _ = writeln!(s, "VmFlags: {}", vm_flags(vma, locked));
    }
    if rollup {
        let start = st.vmas.values().next().map(|v| v.start).unwrap_or(0);
        let end = st.vmas.values().last().map(|v| v.end).unwrap_or(0);
        let header = format!("{start:08x}-{end:08x} ---p 00000000 00:00 0 ");
        let _ = writeln!(s, "{header:<73}[rollup]");
        usage_lines(&mut s, &total, true);
    }
    s.into_bytes()
}

/// /proc/<pid>/limits (Linux's proc_pid_limits).
fn limits_file(task: &Task) -> Vec<u8> {
    const NAMES: [(&str, &str); RLIM_NLIMITS] = [
        ("Max cpu time", "seconds"),
        ("Max file size", "bytes"),
        ("Max data size", "bytes"),
        ("Max stack size", "bytes"),
        ("Max core file size", "bytes"),
        ("Max resident set", "bytes"),
        ("Max processes", "processes"),
        ("Max open files", "files"),
        ("Max locked memory", "bytes"),
        ("Max address space", "bytes"),
        ("Max file locks", "locks"),
        ("Max pending signals", "signals"),
        ("Max msgqueue size", "bytes"),
        ("Max nice priority", ""),
        ("Max realtime priority", ""),
        ("Max realtime timeout", "us"),
    ];
    let limits = *task.rlimits.lock();
    let value = |v: u64| if v == RLIM_INFINITY { "unlimited".to_string() } else { v.to_string() };
    let mut s = format!("{:<25} {:<20} {:<20} {:<10}\n", "Limit", "Soft Limit", "Hard Limit", "Units");
    for (i, (name, unit)) in NAMES.iter().enumerate() {
        let _ = write!(s, "{name:<25} {:<20} {:<20} ", value(limits[i].cur), value(limits[i].max));
        if unit.is_empty() {
            s.push('\n');
        } else {
            let _ = writeln!(s, "{unit:<10}");
        }
    }
    s.into_bytes()
}

/// The legacy oom_adj scale (-17..15) for an oom_score_adj.
fn oom_adj_of(score_adj: i32) -> i32 {
    if score_adj == OOM_SCORE_ADJ_MAX { 15 } else { score_adj * 17 / OOM_SCORE_ADJ_MAX }
}

/// Linux's proc_oom_score: badness (resident pages plus the adjustment
/// in thousandths of RAM) scaled to 0..2000, times 2/3; init and tasks at
/// OOM_SCORE_ADJ_MIN are never chosen (0).
fn oom_score(task: &Task) -> i64 {
    let adj = task.process.limits.oom_score_adj.load(Ordering::Relaxed);
    if task.process.is_init() || adj == OOM_SCORE_ADJ_MIN {
        return 0;
    }
    let total = crate::mm::frame::guest_ram().total_frames().max(1) as i64;
    let badness = task.mm().resident_pages() as i64 + adj as i64 * (total / 1000);
    ((1000 + badness * 1000 / total) * 2 / 3).max(0)
}

/// The contents of the files this module generates; None for the rest.
pub fn content(task: &Task, f: PidFile) -> Option<Vec<u8>> {
    let limits = &task.process.limits;
    Some(match f {
        PidFile::Smaps => smaps(task, false),
        PidFile::SmapsRollup => smaps(task, true),
        PidFile::Limits => limits_file(task),
        PidFile::Auxv => {
            let auxv = task.mm().lock().saved_auxv.clone();
            auxv.iter().flat_map(|(k, v)| k.to_ne_bytes().into_iter().chain(v.to_ne_bytes())).collect()
        }
        // vkernel keeps no per-task I/O counters yet.
        PidFile::Io => b"rchar: 0\nwchar: 0\nsyscr: 0\nsyscw: 0\nread_bytes: 0\nwrite_bytes: 0\ncancelled_write_bytes: 0\n".to_vec(),
        PidFile::Sched => sched(task),
        PidFile::Schedstat => {
            let (user, system) = crate::task::cpu_times(task);
            format!("{} 0 0\n", user + system).into_bytes()
        }
        PidFile::Wchan => b"0".to_vec(),
        PidFile::OomScore => format!("{}\n", oom_score(task)).into_bytes(),
        PidFile::OomScoreAdj => format!("{}\n", limits.oom_score_adj.load(Ordering::Relaxed)).into_bytes(),
        PidFile::OomAdj => format!("{}\n", oom_adj_of(limits.oom_score_adj.load(Ordering::Relaxed))).into_bytes(),
        // No cgroup hierarchy: every task sits at the root of cgroup v2.
        PidFile::Cgroup => b"0::/\n".to_vec(),
        PidFile::Personality => format!("{:08x}\n", task.personality.load(Ordering::Relaxed)).into_bytes(),
        PidFile::CoredumpFilter => format!("{:08x}\n", limits.coredump_filter.load(Ordering::Relaxed)).into_bytes(),
        // Audit is off: no login uid or session was ever set.
        PidFile::Loginuid | PidFile::Sessionid => b"4294967295".to_vec(),
        _ => return None,
    })
}

/// /proc/<pid>/sched: the fields that mean something here, in Linux's
/// layout.
fn sched(task: &Task) -> Vec<u8> {
    let p = *task.sched.lock();
    let (user, system) = crate::task::cpu_times(task);
    let runtime = user + system;
    let threads = task.process.thread_count().max(1);
    let mut s = format!("{} ({}, #threads: {threads})\n{}\n", String::from_utf8_lossy(&task.comm()), task.tid(), "-".repeat(67));
    let ms = |ns: u64| format!("{}.{:06}", ns / 1_000_000, ns % 1_000_000);
    for (name, value) in [("se.exec_start", ms(crate::sched::clock::monotonic_ns())), ("se.vruntime", ms(runtime)), ("se.sum_exec_runtime", ms(runtime))] {
        let _ = writeln!(s, "{name:<45}:{value:>21}");
    }
    let prio = if crate::task::sched::rt_policy(p.policy) { 99 - p.rt_priority as i64 } else { 120 + p.nice as i64 };
    for (name, value) in [
        ("se.nr_migrations", 0i64),
        ("nr_switches", 0),
        ("nr_voluntary_switches", 0),
        ("nr_involuntary_switches", 0),
        ("se.load.weight", nice_weight(p.nice) * 1024),
        ("policy", p.policy as i64),
        ("prio", prio),
    ] {
        let _ = writeln!(s, "{name:<45}:{value:>21}");
    }
    s.into_bytes()
}

/// Linux's sched_prio_to_weight: the load weight of a nice value.
fn nice_weight(nice: i32) -> i64 {
    const WEIGHTS: [i64; 40] = [
        88761, 71755, 56483, 46273, 36291, 29154, 23254, 18705, 14949, 11916, 9548, 7620, 6100, 4904, 3906, 3121, 2501, 1991, 1586, 1277, 1024, 820, 655, 526,
        423, 335, 272, 215, 172, 137, 110, 87, 70, 56, 45, 36, 29, 23, 18, 15,
    ];
    WEIGHTS[(nice + 20).clamp(0, 39) as usize]
}

/// kstrtoint(strstrip(buf), 0): decimal, 0x hex or 0 octal, surrounding
/// blanks allowed.
fn parse_number(data: &[u8]) -> KResult<i64> {
    let text = std::str::from_utf8(data).map_err(|_| Errno::EINVAL)?.trim();
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let value = if let Some(hex) = digits.strip_prefix("0x").or_else(|| digits.strip_prefix("0X")) {
        i64::from_str_radix(hex, 16)
    } else if digits.len() > 1 && digits.starts_with('0') {
        i64::from_str_radix(&digits[1..], 8)
    } else {
        digits.parse::<i64>()
    }
    .map_err(|_| Errno::EINVAL)?;
    Ok(if negative { -value } else { value })
}

/// Linux's __set_oom_adj: below the floor (oom_score_adj_min, or the
/// current value for the legacy file) needs CAP_SYS_RESOURCE, whose
/// holder also moves the floor.
fn set_oom_score_adj(task: &Task, value: i32, legacy: bool) -> KResult<()> {
    let limits = &task.process.limits;
    let privileged = crate::task::current().is_some_and(|me| me.creds().capable(CAP_SYS_RESOURCE));
    let floor = if legacy { limits.oom_score_adj.load(Ordering::Relaxed) } else { limits.oom_score_adj_min.load(Ordering::Relaxed) };
    if value < floor && !privileged {
        return Err(Errno::EACCES);
    }
    limits.oom_score_adj.store(value, Ordering::Relaxed);
    if !legacy && privileged {
        limits.oom_score_adj_min.store(value, Ordering::Relaxed);
    }
    Ok(())
}

/// A write to a writable per-process file.
pub fn write(task: &Task, f: PidFile, data: &[u8]) -> KResult<usize> {
    // Linux reads at most a short number (PROC_NUMBUF) from these files.
    let number = || parse_number(&data[..data.len().min(12)]);
    match f {
        PidFile::Comm => task.set_comm(data.strip_suffix(b"\n").unwrap_or(data)),
        PidFile::OomScoreAdj => {
            let v = number()?;
            if !(OOM_SCORE_ADJ_MIN as i64..=OOM_SCORE_ADJ_MAX as i64).contains(&v) {
                return Err(Errno::EINVAL);
            }
            set_oom_score_adj(task, v as i32, false)?;
        }
        PidFile::OomAdj => {
            let v = number()?;
            if !(-17..=15).contains(&v) {
                return Err(Errno::EINVAL);
            }
            let score = if v == 15 { OOM_SCORE_ADJ_MAX } else { v as i32 * OOM_SCORE_ADJ_MAX / 17 };
            set_oom_score_adj(task, score, true)?;
        }
        PidFile::CoredumpFilter => {
            let v = parse_number(data)?;
            let v = u32::try_from(v).map_err(|_| Errno::EINVAL)?;
            // Only the defined bits (MMF_DUMP_FILTER_BITS = 9) are kept.
            task.process.limits.coredump_filter.store(v & 0x1ff, Ordering::Relaxed);
        }
        _ => return Err(Errno::EINVAL),
    }
    Ok(data.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_parse_as_kstrtoint_base_zero() {
        assert_eq!(parse_number(b"0x33\n"), Ok(0x33));
        assert_eq!(parse_number(b" 017 "), Ok(15));
        assert_eq!(parse_number(b"-500"), Ok(-500));
        assert_eq!(parse_number(b"12a"), Err(Errno::EINVAL));
    }

    #[test]
    fn legacy_oom_adj_scale() {
        assert_eq!((oom_adj_of(1000), oom_adj_of(0), oom_adj_of(-1000), oom_adj_of(500)), (15, 0, -17, 8));
    }
}

/// What status, statm and stat report of an address space, in bytes.
#[derive(Default)]
pub struct MemCounts {
    pub total: u64,
    /// Private writable memory that is not stack (VmData).
    pub data: u64,
    pub stack: u64,
    /// The program's own executable text (VmExe) and other executable
    /// mappings (VmLib).
    pub exe: u64,
    pub lib: u64,
    pub rss_anon: u64,
    pub rss_file: u64,
    pub rss_shmem: u64,
    pub start_code: u64,
    pub end_code: u64,
    /// Locked by mlock or mlockall (VmLck).
    pub locked: u64,
}

pub fn mem_counts(task: &Task) -> MemCounts {
    let exe = task.exe.lock().clone();
    let mm = task.mm();
    let st = mm.lock();
    let mut c = MemCounts { locked: st.locked_bytes(), ..Default::default() };
    for vma in st.vmas.values() {
        let len = vma.len();
        c.total += len;
        let shared = vma.flags & MAP_SHARED != 0;
        let stack = vma.flags & MAP_GROWSDOWN != 0;
        if vma.prot & PROT_WRITE != 0 && !shared && !stack {
            c.data += len;
        }
        if stack {
            c.stack += len;
        }
        let main_program = matches!(&vma.backing, Backing::File { name, .. } if *name == exe);
        if vma.prot & PROT_EXEC != 0 && vma.prot & PROT_WRITE == 0 && !stack {
            if main_program {
                c.exe += len;
                c.start_code = if c.start_code == 0 { vma.start } else { c.start_code.min(vma.start) };
                c.end_code = c.end_code.max(vma.end);
            } else {
                c.lib += len;
            }
        }
        let present = st.pages.range(vma.start / PAGE_SIZE..vma.end / PAGE_SIZE).count() as u64 * PAGE_SIZE;
        match &vma.backing {
            Backing::Shared { .. } => c.rss_shmem += present,
            Backing::File { .. } if vma.prot & PROT_WRITE == 0 => c.rss_file += present,
            _ => c.rss_anon += present,
        }
    }
    c
}
