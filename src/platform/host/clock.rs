//! The host's clocks: its wall clock, for subsystems that need "now" before
//! a guest clock exists (e.g. a filesystem mounted with default options),
//! and what the guest clock (sched/vclock.rs) is built from: the TSC, the
//! CPU number the host keeps in TSC_AUX, and the host's word on whether
//! the TSC may be trusted.

use crate::abi::Timespec;

pub fn realtime() -> Timespec {
    let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    Timespec { tv_sec: d.as_secs() as i64, tv_nsec: d.subsec_nanos() as i64 }
}

/// The TSC, not read before earlier loads (the vDSO's `lfence; rdtsc`).
pub fn tsc_ordered() -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: lfence and rdtsc touch no memory; rdtsc is allowed in user
    // mode unless CR4.TSD is set, which Linux sets only for processes that
    // ask (PR_SET_TSC), never for vkernel.
    unsafe { std::arch::asm!("lfence", "rdtsc", out("eax") lo, out("edx") hi, options(nostack, preserves_flags)) };
    ((hi as u64) << 32) | lo as u64
}

/// How a program reads TSC_AUX, where Linux keeps (node << 12) | cpu.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TscAux {
    Rdpid,
    Rdtscp,
}

/// TSC_AUX read the given way (the CPU must have the instruction).
pub fn read_tsc_aux(how: TscAux) -> u32 {
    match how {
        TscAux::Rdpid => {
            let aux: u64;
            // SAFETY: rdpid only writes its register; the caller checked
            // the CPU has it (the rdpid flag in /proc/cpuinfo).
            unsafe { std::arch::asm!("rdpid {}", out(reg) aux, options(nomem, nostack, preserves_flags)) };
            aux as u32
        }
        TscAux::Rdtscp => {
            let aux: u32;
            // SAFETY: rdtscp writes eax, edx and ecx only; the caller
            // checked the CPU has it (the rdtscp flag).
            unsafe { std::arch::asm!("rdtscp", out("eax") _, out("edx") _, out("ecx") aux, options(nomem, nostack, preserves_flags)) };
            aux
        }
    }
}

/// The flags of the first CPU in /proc/cpuinfo (empty if unreadable).
pub fn cpu_flags() -> Vec<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    info.lines()
        .find_map(|l| l.strip_prefix("flags").and_then(|rest| rest.trim_start().strip_prefix(':')))
        .map(|flags| flags.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default()
}

/// Whether the host kernel enabled memory protection keys (OSPKE): Linux
/// then prints a ProtectionKey line per mapping in smaps, and so do we.
pub fn protection_keys_enabled() -> bool {
    static ENABLED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ENABLED.get_or_init(|| cpu_flags().iter().any(|f| f == "ospke"))
}

/// The clocksource the host kernel keeps time with ("tsc", "kvm-clock",
/// "hpet", ...), if it says.
pub fn clocksource() -> Option<String> {
    let s = std::fs::read_to_string("/sys/devices/system/clocksource/clocksource0/current_clocksource").ok()?;
    Some(s.trim().to_string())
}

/// The host's tick: the resolution it gives CLOCK_MONOTONIC_COARSE.
pub fn coarse_tick_ns() -> Option<u64> {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_getres writes one timespec we own.
    let r = unsafe { libc::clock_getres(libc::CLOCK_MONOTONIC_COARSE, &mut ts) };
    (r == 0 && ts.tv_sec >= 0 && ts.tv_nsec > 0).then(|| ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64)
}

/// CLOCK_TAI - CLOCK_REALTIME on the host in whole seconds (the kernel's
/// TAI offset, 0 unless NTP set it).
pub fn tai_offset_s() -> i64 {
    let read = |clock| {
        let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: clock_gettime writes one timespec we own.
        let r = unsafe { libc::clock_gettime(clock, &mut ts) };
        (r == 0).then(|| ts.tv_sec as i128 * 1_000_000_000 + ts.tv_nsec as i128)
    };
    match (read(libc::CLOCK_REALTIME), read(libc::CLOCK_TAI)) {
        // Rounded: the two readings are a few nanoseconds apart.
        (Some(utc), Some(tai)) => ((tai - utc + 500_000_000).div_euclid(1_000_000_000)) as i64,
        _ => 0,
    }
}
