//! Facts about the host vkernel runs on and the few services it borrows:
//! the identity and limits vkernel started with, uname, randomness, CPU
//! clocks of host threads and processes, and CPU placement.

use crate::abi::{Errno, KResult, Rlimit};

/// The user and groups vkernel runs as: (uid, gid, euid, egid, groups).
pub fn identity() -> (u32, u32, u32, u32, Vec<u32>) {
    // SAFETY: plain identity queries without arguments.
    let (uid, gid, euid, egid) = unsafe { (libc::getuid(), libc::getgid(), libc::geteuid(), libc::getegid()) };
    let mut groups = vec![0 as libc::gid_t; 256];
    // SAFETY: the buffer holds 256 entries.
    let n = unsafe { libc::getgroups(256, groups.as_mut_ptr()) };
    groups.truncate(n.max(0) as usize);
    (uid, gid, euid, egid, groups)
}

/// vkernel's own umask (PID 1 starts with it).
pub fn umask() -> u32 {
    // SAFETY: umask has no preconditions; we put the old value back.
    unsafe {
        let old = libc::umask(0o022);
        libc::umask(old);
        old
    }
}

/// The host's name (the guest's hostname starts as this).
pub fn hostname() -> Vec<u8> {
    let mut buf = [0u8; 65];
    // SAFETY: gethostname into a local buffer of the stated size.
    unsafe { libc::gethostname(buf.as_mut_ptr() as *mut libc::c_char, 64) };
    buf.iter().take_while(|&&c| c != 0).copied().collect()
}

/// The host kernel's (release, version) strings.
pub fn kernel_release() -> (Vec<u8>, Vec<u8>) {
    // SAFETY: a zeroed utsname is a valid out-buffer.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: uname into a live local.
    unsafe { libc::uname(&mut u) };
    let field = |f: &[libc::c_char]| -> Vec<u8> { f.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect() };
    (field(&u.release), field(&u.version))
}

/// Fills `buf` from the host's random source.
pub fn fill_random(buf: &mut [u8]) -> KResult<()> {
    let mut done = 0;
    while done < buf.len() {
        // SAFETY: getrandom into the unfilled tail of a live buffer.
        let n = unsafe { libc::getrandom(buf[done..].as_mut_ptr() as *mut libc::c_void, buf.len() - done, 0) };
        if n < 0 {
            let e = Errno::last_host();
            if e == Errno::EINTR {
                continue;
            }
            return Err(e);
        }
        done += n as usize;
    }
    Ok(())
}

/// The host CPU the calling thread runs on.
pub fn current_cpu() -> u32 {
    // SAFETY: sched_getcpu has no preconditions.
    unsafe { libc::sched_getcpu() }.max(0) as u32
}

/// The host CPUs vkernel may use: its affinity when it started, before
/// kernel threads pin themselves (call once early, at boot).
pub fn allowed_cpus() -> &'static [usize] {
    static ALLOWED: std::sync::OnceLock<Vec<usize>> = std::sync::OnceLock::new();
    ALLOWED.get_or_init(|| {
        // SAFETY: cpu_set_t is plain data; sched_getaffinity on ourselves.
        let cpus: Vec<usize> = unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            if libc::sched_getaffinity(0, size_of::<libc::cpu_set_t>(), &mut set) != 0 {
                return vec![0];
            }
            (0..libc::CPU_SETSIZE as usize).filter(|&c| libc::CPU_ISSET(c, &set)).collect()
        };
        if cpus.is_empty() { vec![0] } else { cpus }
    })
}

/// The number of CPUs vkernel may use.
pub fn cpu_count() -> usize {
    allowed_cpus().len()
}

/// Linux's nr_cpu_ids: one more than the highest possible CPU number.
pub fn possible_cpus() -> usize {
    static POSSIBLE: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *POSSIBLE.get_or_init(|| {
        let from_sys = std::fs::read_to_string("/sys/devices/system/cpu/possible")
            .ok()
            .and_then(|s| s.trim().split(',').filter_map(|r| r.rsplit('-').next().and_then(|n| n.parse::<usize>().ok())).max().map(|m| m + 1));
        from_sys.unwrap_or(0).max(allowed_cpus().iter().max().map_or(1, |m| m + 1))
    })
}

/// The host's CPU list file /sys/devices/system/cpu/`which` ("online",
/// "possible", "present"), e.g. "0-1\n"; without one, the CPUs vkernel
/// may use.
pub fn cpu_list(which: &str) -> String {
    if matches!(which, "online" | "possible" | "present") {
        if let Ok(s) = std::fs::read_to_string(format!("/sys/devices/system/cpu/{which}")) {
            return s;
        }
    }
    format!("0-{}\n", possible_cpus().saturating_sub(1))
}

/// The limits vkernel itself runs under, resource by resource.
pub fn rlimits<const N: usize>() -> [Rlimit; N] {
    let mut l = [Rlimit { cur: u64::MAX, max: u64::MAX }; N];
    for (i, slot) in l.iter_mut().enumerate() {
        let mut r = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: querying our own limits into a local.
        if unsafe { libc::getrlimit(i as libc::__rlimit_resource_t, &mut r) } == 0 {
            *slot = Rlimit { cur: r.rlim_cur, max: r.rlim_max };
        }
    }
    l
}

/// Lifts vkernel's own soft limit on open files towards the hard one
/// (at most 65536): host directory shares keep fds open. Called after the
/// guest's limits were taken from vkernel's, so the guest sees the host's.
pub fn raise_open_file_limit() {
    let mut r = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: querying and setting our own limit through a local.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) == 0 && r.rlim_cur < 65536 {
            r.rlim_cur = r.rlim_max.min(65536).max(r.rlim_cur);
            libc::setrlimit(libc::RLIMIT_NOFILE, &r);
        }
    }
}

/// The calling host thread's id.
pub fn gettid() -> i32 {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::gettid() }
}

/// Reads a host CPU clock in nanoseconds (0 if it cannot be read).
fn read_cpu_clock(clock: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime into a local.
    if unsafe { libc::clock_gettime(clock, &mut ts) } == 0 { ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64 } else { 0 }
}

/// CPU time of host process `pid` (Linux's posix-cpu-timers encoding:
/// MAKE_PROCESS_CPUCLOCK with CPUCLOCK_SCHED).
pub fn process_cpu_ns(pid: i32) -> u64 {
    if pid > 0 { read_cpu_clock(((!pid) << 3) | 2) } else { 0 }
}

/// CPU time of host thread `tid` (MAKE_THREAD_CPUCLOCK with CPUCLOCK_SCHED).
pub fn thread_cpu_ns(tid: i32) -> u64 {
    if tid > 0 { read_cpu_clock(((!tid) << 3) | 6) } else { 0 }
}

/// Pins the calling host thread to one CPU, chosen round-robin among the
/// CPUs vkernel may use. Threads and processes it creates inherit the pin.
pub fn pin_to_next_cpu() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    // The CPUs vkernel started with, not the calling thread's: a kernel
    // thread made by a pinned one inherits its single CPU.
    let cpus = allowed_cpus();
    set_thread_cpus(0, &[cpus[NEXT.fetch_add(1, Ordering::Relaxed) % cpus.len()]]);
}

/// Lets host thread `tid` (0: the calling thread) run on `cpus` only.
pub fn set_thread_cpus(tid: i32, cpus: &[usize]) -> bool {
    // SAFETY: cpu_set_t is plain data; sched_setaffinity on ourselves or on
    // a thread of a process we created (same owner).
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for &c in cpus.iter().filter(|&&c| c < libc::CPU_SETSIZE as usize) {
            libc::CPU_SET(c, &mut set);
        }
        tid >= 0 && libc::sched_setaffinity(tid, size_of::<libc::cpu_set_t>(), &set) == 0
    }
}

/// A service thread started by a (perhaps pinned) kernel thread runs on
/// every CPU vkernel may use, not on its creator's.
pub fn unpin_service_thread() {
    set_thread_cpus(0, allowed_cpus());
}

/// Pins the calling thread to one of `cpus`: the one it runs on if it is
/// among them, else the first.
pub fn pin_to_one_of(cpus: &[usize]) {
    let here = current_cpu() as usize;
    let cpu = if cpus.contains(&here) { here } else { cpus.first().copied().unwrap_or(here) };
    set_thread_cpus(0, &[cpu]);
}

/// The CPU the calling thread is pinned to, if it is pinned to one.
pub fn pinned_cpu() -> Option<usize> {
    // SAFETY: cpu_set_t is plain data; sched_getaffinity on ourselves.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, size_of::<libc::cpu_set_t>(), &mut set) != 0 || libc::CPU_COUNT(&set) != 1 {
            return None;
        }
        (0..libc::CPU_SETSIZE as usize).find(|&c| libc::CPU_ISSET(c, &set))
    }
}

/// The host's /proc/cpuinfo (the guest sees the CPUs it runs on).
pub fn cpuinfo() -> Vec<u8> {
    std::fs::read("/proc/cpuinfo").unwrap_or_else(|_| b"processor\t: 0\n\n".to_vec())
}

/// Gives host thread `tid` (of a stub process) the calling thread's CPU
/// affinity.
pub fn pin_like_caller(tid: i32) {
    // SAFETY: cpu_set_t is plain data; sched_{get,set}affinity on ourselves
    // and on a thread of a process we created (same owner).
    unsafe {
        let mut mine: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, size_of::<libc::cpu_set_t>(), &mut mine) == 0 {
            libc::sched_setaffinity(tid, size_of::<libc::cpu_set_t>(), &mine);
        }
    }
}

/// The CPU host thread `tid` of process `tgid` runs on (or last ran on),
/// from /proc (field 39 of its stat), or None when it cannot be read.
pub fn thread_cpu_of(tgid: i32, tid: i32) -> Option<u32> {
    if tgid <= 0 || tid <= 0 {
        return None;
    }
    let stat = std::fs::read_to_string(format!("/proc/{tgid}/task/{tid}/stat")).ok()?;
    // The name (field 2) may hold spaces and parentheses: count from the
    // last ')', after which field 3 (the state) comes first.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(39 - 3).and_then(|w| w.parse().ok())
}

/// CPU time of host thread `tid` of process `tgid` in nanoseconds, from
/// /proc (a thread CPU clock of another process cannot be read), or the
/// process clock when that fails.
pub fn thread_cpu_ns_of(tgid: i32, tid: i32) -> u64 {
    if tgid <= 0 {
        return 0;
    }
    std::fs::read_to_string(format!("/proc/{tgid}/task/{tid}/schedstat"))
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|w| w.parse().ok()))
        .unwrap_or_else(|| process_cpu_ns(tgid))
}

/// A host network sysctl under /proc/sys/net (e.g. "core/wmem_default"),
/// so that socket buffer sizes and queue limits answer as the host's
/// kernel would; None when it cannot be read.
pub fn net_sysctl(name: &str) -> Option<i64> {
    std::fs::read_to_string(format!("/proc/sys/net/{name}")).ok()?.trim().parse().ok()
}

/// The capability sets and securebits vkernel runs with (PID 1 starts
/// with them, so a guest holds what the same program would natively).
#[derive(Clone, Copy, Debug, Default)]
pub struct HostCapabilities {
    pub effective: u64,
    pub permitted: u64,
    pub inheritable: u64,
    pub bounding: u64,
    pub ambient: u64,
    pub securebits: u32,
}

pub fn capabilities() -> HostCapabilities {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Clone, Copy, Default)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    let mut header = Header { version: 0x2008_0522, pid: 0 };
    let mut data = [Data::default(); 2];
    let mut caps = HostCapabilities::default();
    // SAFETY: capget into a live header and a two-word data array, as the
    // version 3 header asks for.
    if unsafe { libc::syscall(libc::SYS_capget, &mut header as *mut Header, data.as_mut_ptr()) } == 0 {
        let join = |lo: u32, hi: u32| lo as u64 | (hi as u64) << 32;
        caps.effective = join(data[0].effective, data[1].effective);
        caps.permitted = join(data[0].permitted, data[1].permitted);
        caps.inheritable = join(data[0].inheritable, data[1].inheritable);
    }
    (caps.bounding, caps.ambient) = status_cap_sets().unwrap_or_else(prctl_cap_sets);
    // SAFETY: a prctl query without arguments.
    let bits = unsafe { libc::prctl(libc::PR_GET_SECUREBITS, 0, 0, 0, 0) };
    caps.securebits = bits.max(0) as u32;
    caps
}

/// The bounding and ambient sets from /proc/self/status (CapBnd, CapAmb):
/// one read instead of two prctl queries per capability; None when /proc
/// does not say (then the prctls ask).
fn status_cap_sets() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| status.lines().find_map(|l| l.strip_prefix(name)).and_then(|v| u64::from_str_radix(v.trim(), 16).ok());
    Some((field("CapBnd:")?, field("CapAmb:")?))
}

/// The bounding and ambient sets asked of prctl, two queries per
/// capability.
fn prctl_cap_sets() -> (u64, u64) {
    let (mut bounding, mut ambient) = (0u64, 0u64);
    for cap in 0..64u64 {
        // SAFETY: prctl queries of our own bounding and ambient sets.
        let (b, a) = unsafe { (libc::prctl(libc::PR_CAPBSET_READ, cap, 0, 0, 0), libc::prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_IS_SET, cap, 0, 0)) };
        if b < 0 {
            break;
        }
        if b == 1 {
            bounding |= 1 << cap;
        }
        if a == 1 {
            ambient |= 1 << cap;
        }
    }
    (bounding, ambient)
}

/// One malloc arena for all of vkernel's threads: glibc gives each new
/// thread that allocates an arena of its own, and their partly used heaps
/// were about a fifth of an idle vkernel's private memory (-m 64m -- sh:
/// RssAnon 884 -> 692 KiB). Called first thing in main, before any thread.
pub fn single_malloc_arena() {
    // SAFETY: mallopt with constant arguments changes only an allocator
    // setting; no other thread exists yet.
    unsafe { libc::mallopt(libc::M_ARENA_MAX, 1) };
}

/// The host's highest capability number, if it says.
pub fn cap_last_cap() -> Option<u32> {
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap").ok()?.trim().parse().ok()
}

/// A host kernel sysctl under /proc/sys/kernel (e.g. "dmesg_restrict"),
/// for guest defaults that follow the host's configuration.
pub fn kernel_sysctl(name: &str) -> Option<i64> {
    std::fs::read_to_string(format!("/proc/sys/kernel/{name}")).ok()?.trim().parse().ok()
}

/// A memory barrier on every CPU running a stub (they register for
/// MEMBARRIER_CMD_GLOBAL_EXPEDITED when they start); falls back to the
/// slow global barrier when the host refuses. Guest membarrier(2) uses it.
pub fn membarrier_all_stubs() {
    const GLOBAL: libc::c_long = 1;
    const GLOBAL_EXPEDITED: libc::c_long = 2;
    // SAFETY: membarrier with constant arguments touches no memory of ours.
    unsafe {
        if libc::syscall(libc::SYS_membarrier, GLOBAL_EXPEDITED, 0, 0) != 0 {
            libc::syscall(libc::SYS_membarrier, GLOBAL, 0, 0);
        }
    }
}

/// Whether user code may use RDFSBASE/WRFSBASE (AT_HWCAP2's FSGSBASE bit).
pub fn has_fsgsbase() -> bool {
    const HWCAP2_FSGSBASE: u64 = 1 << 1;
    // SAFETY: getauxval has no preconditions.
    unsafe { libc::getauxval(libc::AT_HWCAP2) & HWCAP2_FSGSBASE != 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_cap_sets_agree_with_prctl() {
        assert_eq!(status_cap_sets(), Some(prctl_cap_sets()));
    }
}
