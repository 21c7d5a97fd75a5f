//! System information calls: uname, sysinfo, getrandom, CPU affinity and
//! scheduling queries.

use crate::abi::random::{GRND_INSECURE, GRND_NONBLOCK, GRND_RANDOM};
use crate::abi::{Errno, KResult, Sysinfo, Utsname};
use crate::syscall::{Sys, SyscallDef};
use crate::syscalls;

pub const SYSCALLS: &[SyscallDef] = syscalls![
    __NR_uname => sys_uname,
    __NR_sysinfo => sys_sysinfo,
    __NR_getrandom => sys_getrandom,
    __NR_sched_getaffinity => sys_sched_getaffinity,
    __NR_sched_setaffinity => sys_sched_setaffinity,
    __NR_sched_yield => sys_sched_yield,
    __NR_getcpu => sys_getcpu,
];

/// The guest's uname: the host's release and version, the guest's own
/// host and domain names (sethostname, setdomainname; at boot the host's
/// name and "(none)").
pub fn utsname() -> Utsname {
    let mut u = Utsname { sysname: [0; 65], nodename: [0; 65], release: [0; 65], version: [0; 65], machine: [0; 65], domainname: [0; 65] };
    let put = |dst: &mut [u8; 65], s: &[u8]| {
        let n = s.len().min(64);
        dst[..n].copy_from_slice(&s[..n]);
    };
    let (release, version) = crate::platform::host::system::kernel_release();
    put(&mut u.sysname, b"Linux");
    put(&mut u.nodename, &crate::sched::sysctl::hostname());
    // Programs check the release to pick features; report the host's so
    // they behave as they would natively on this machine.
    put(&mut u.release, &release);
    put(&mut u.version, &version);
    put(&mut u.machine, b"x86_64");
    put(&mut u.domainname, &crate::sched::sysctl::domainname());
    u
}

fn sys_uname(sys: &mut Sys) -> KResult<u64> {
    let u = utsname();
    sys.mm().write(sys.arg(0), &u)?;
    Ok(0)
}

fn sys_sysinfo(sys: &mut Sys) -> KResult<u64> {
    let k = &sys.task.system;
    let info = Sysinfo {
        uptime: (crate::sched::clock::monotonic_ns() / 1_000_000_000) as i64,
        totalram: k.phys.total_frames() * 4096,
        freeram: k.phys.free_frame_count() * 4096,
        procs: k.live_tasks().len() as u16,
        mem_unit: 1,
        ..Default::default()
    };
    sys.mm().write(sys.arg(0), &info)?;
    Ok(0)
}

fn sys_getrandom(sys: &mut Sys) -> KResult<u64> {
    let (buf, len, flags) = (sys.arg(0), sys.arg(1) as usize, sys.arg_u32(2));
    if flags & !(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE) != 0 || flags & (GRND_RANDOM | GRND_INSECURE) == GRND_RANDOM | GRND_INSECURE {
        return Err(Errno::EINVAL);
    }
    // Linux returns at most 32 MiB - 1 per call.
    let len = len.min((32 << 20) - 1);
    let mut data = vec![0u8; len];
    crate::platform::host::system::fill_random(&mut data)?;
    sys.mm().write_bytes(buf, &data)?;
    Ok(len as u64)
}

/// Linux's cpumask_size(): nr_cpu_ids bits in whole longs.
fn cpumask_bytes() -> usize {
    crate::platform::host::system::possible_cpus().div_ceil(64) * 8
}

/// The task sched_{get,set}affinity names: 0 is the caller, else a
/// thread id (ESRCH when there is none).
fn affinity_target(sys: &Sys, pid: i32) -> KResult<std::sync::Arc<crate::task::Task>> {
    if pid < 0 {
        return Err(Errno::ESRCH);
    }
    if pid == 0 {
        return Ok(sys.task.clone());
    }
    sys.task.system.task(pid).ok_or(Errno::ESRCH)
}

fn sys_sched_getaffinity(sys: &mut Sys) -> KResult<u64> {
    // Linux's len is an unsigned int, and so is its bit count.
    let (pid, len, addr) = (sys.arg_i32(0), sys.arg_u32(1), sys.arg(2));
    // Linux: the buffer must hold nr_cpu_ids bits and be a multiple of long.
    if (len.wrapping_mul(8) as usize) < crate::platform::host::system::possible_cpus() || len % 8 != 0 {
        return Err(Errno::EINVAL);
    }
    let len = len as usize;
    let target = affinity_target(sys, pid)?;
    let mask = target.affinity.lock().clone();
    let bytes: Vec<u8> = mask.iter().flat_map(|w| w.to_ne_bytes()).take(cpumask_bytes().min(len)).collect();
    sys.mm().write_bytes(addr, &bytes)?;
    Ok(bytes.len() as u64)
}

/// Sets the CPUs a task may run on: the mask is cut to the CPUs vkernel
/// may use (EINVAL when nothing is left). Another user's task needs
/// CAP_SYS_NICE (EPERM).
fn sys_sched_setaffinity(sys: &mut Sys) -> KResult<u64> {
    let (pid, len, addr) = (sys.arg_i32(0), sys.arg_u32(1) as usize, sys.arg(2));
    let n = len.min(cpumask_bytes());
    let mut raw = vec![0u8; cpumask_bytes()];
    sys.mm().read_bytes_into(addr, &mut raw[..n])?;
    let target = affinity_target(sys, pid)?;
    let me = sys.task.creds();
    let them = target.creds();
    if me.euid != 0 && me.euid != them.uid && me.euid != them.euid {
        return Err(Errno::EPERM);
    }
    let allowed = crate::task::all_cpus_mask();
    let wanted: Vec<u64> = raw.chunks(8).map(|c| u64::from_ne_bytes(c.try_into().unwrap_or([0; 8]))).collect();
    let mask: Vec<u64> = allowed.iter().zip(wanted.iter().chain(std::iter::repeat(&0))).map(|(a, w)| a & w).collect();
    if mask.iter().all(|&w| w == 0) {
        return Err(Errno::EINVAL);
    }
    crate::task::set_affinity(&target, mask);
    Ok(0)
}

fn sys_sched_yield(_sys: &mut Sys) -> KResult<u64> {
    std::thread::yield_now();
    Ok(0)
}

fn sys_getcpu(sys: &mut Sys) -> KResult<u64> {
    let cpu = crate::task::current_cpu(&sys.task);
    let mm = sys.mm();
    if sys.arg(0) != 0 {
        mm.write(sys.arg(0), &cpu)?;
    }
    if sys.arg(1) != 0 {
        mm.write(sys.arg(1), &0u32)?;
    }
    Ok(0)
}
