//! Process system calls: identity, exit, execve, limits, prctl, arch_prctl.

use std::sync::atomic::Ordering;

use crate::abi::fcntl::{AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW};
use crate::abi::limits::PATH_MAX;
use crate::abi::prctl::{
    ARCH_GET_CPUID, ARCH_GET_FS, ARCH_GET_GS, ARCH_SET_CPUID, ARCH_SET_FS, ARCH_SET_GS, PR_CAPBSET_READ, PR_GET_CHILD_SUBREAPER, PR_GET_DUMPABLE, PR_GET_NAME,
    PR_GET_NO_NEW_PRIVS, PR_GET_PDEATHSIG, PR_GET_SECCOMP, PR_GET_THP_DISABLE, PR_GET_TID_ADDRESS, PR_SET_CHILD_SUBREAPER, PR_SET_DUMPABLE, PR_SET_NAME,
    PR_SET_NO_NEW_PRIVS, PR_SET_PDEATHSIG, PR_SET_THP_DISABLE,
};
use crate::abi::resource::{RLIM_NLIMITS, RLIMIT_NOFILE, RUSAGE_CHILDREN, RUSAGE_SELF, RUSAGE_THREAD};
use crate::abi::{Errno, KResult, Rlimit, Rusage, Timeval, Tms};
use crate::syscall::{Exit, Sys, SyscallDef};
use crate::syscalls;

pub const SYSCALLS: &[SyscallDef] = syscalls![
    __NR_exit => sys_exit,
    __NR_exit_group => sys_exit_group,
    __NR_execve => sys_execve,
    __NR_execveat => sys_execveat,
    __NR_getpid => sys_getpid,
    __NR_getppid => sys_getppid,
    __NR_gettid => sys_gettid,
    __NR_getuid => sys_getuid,
    __NR_geteuid => sys_geteuid,
    __NR_getgid => sys_getgid,
    __NR_getegid => sys_getegid,
    __NR_getresuid => sys_getresuid,
    __NR_getresgid => sys_getresgid,
    __NR_getgroups => sys_getgroups,
    __NR_getpgrp => sys_getpgrp,
    __NR_getpgid => sys_getpgid,
    __NR_getsid => sys_getsid,
    __NR_set_tid_address => sys_set_tid_address,
    __NR_set_robust_list => sys_set_robust_list,
    __NR_get_robust_list => sys_get_robust_list,
    __NR_rseq => sys_rseq,
    __NR_prlimit64 => sys_prlimit64,
    __NR_getrlimit => sys_getrlimit,
    __NR_setrlimit => sys_setrlimit,
    __NR_getrusage => sys_getrusage,
    __NR_times => sys_times,
    __NR_arch_prctl => sys_arch_prctl,
    __NR_prctl => sys_prctl,
    __NR_personality => sys_personality,
];

/// Only the Linux personality exists; flags such as ADDR_NO_RANDOMIZE are
/// kept (vkernel does not randomise yet, so they change nothing).
fn sys_personality(sys: &mut Sys) -> KResult<u64> {
    let new = sys.arg_u32(0);
    let old = sys.task.personality.load(Ordering::Relaxed);
    if new != 0xffff_ffff {
        if new & 0xff != 0 {
            return Err(Errno::EINVAL);
        }
        sys.task.personality.store(new, Ordering::Relaxed);
    }
    Ok(old as u64)
}

fn sys_exit(sys: &mut Sys) -> KResult<u64> {
    // With one thread per process so far, exit ends the process.
    sys.exit = Some(Exit::Group(sys.arg_i32(0) & 0xff));
    Ok(0)
}

fn sys_exit_group(sys: &mut Sys) -> KResult<u64> {
    sys.exit = Some(Exit::Group(sys.arg_i32(0) & 0xff));
    Ok(0)
}

/// Reads a NULL-terminated array of string pointers (argv, envp).
fn read_string_array(sys: &Sys, mut addr: u64) -> KResult<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    if addr == 0 {
        return Ok(out);
    }
    let mm = sys.mm();
    let mut total = 0usize;
    loop {
        let p: u64 = mm.read(addr)?;
        if p == 0 {
            return Ok(out);
        }
        let s = mm.read_cstring(p, 128 * 1024).map_err(|e| if e == Errno::ENAMETOOLONG { Errno::E2BIG } else { e })?;
        total += s.len() + 1 + 8;
        if total > 6 << 20 || out.len() >= 0x7fff_ffff {
            return Err(Errno::E2BIG);
        }
        out.push(s);
        addr += 8;
    }
}

fn do_execve(sys: &mut Sys, dirfd: i32, path: Vec<u8>, argv: u64, envp: u64, flags: u32) -> KResult<u64> {
    if flags & !(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0 {
        return Err(Errno::EINVAL);
    }
    let argv = read_string_array(sys, argv)?;
    let envp = read_string_array(sys, envp)?;
    let image = crate::task::exec::load(sys.task, dirfd, &path, argv, envp, flags & AT_EMPTY_PATH != 0)?;
    // Point of no return: the new image replaces the old one.
    let task = sys.task;
    task.set_mm(image.mm);
    let closed = task.files().take_close_on_exec();
    for file in closed {
        crate::fs::file::close_fd(file, task.tgid);
    }
    task.sigactions.lock().reset_for_exec();
    task.signals.lock().altstack = Default::default();
    task.set_comm(&image.comm);
    *task.exe.lock() = image.exe_path;
    task.clear_child_tid.store(0, Ordering::Relaxed);
    task.robust_list.store(0, Ordering::Relaxed);
    task.exe_done_since_fork.store(true, Ordering::Relaxed);
    if let Some(done) = task.vfork_done.lock().take() {
        done.complete();
    }
    *sys.regs = image.regs;
    sys.regs_replaced = true;
    Ok(0)
}

fn sys_execve(sys: &mut Sys) -> KResult<u64> {
    let path = sys.read_path(sys.arg(0))?;
    do_execve(sys, AT_FDCWD, path, sys.arg(1), sys.arg(2), 0)
}

fn sys_execveat(sys: &mut Sys) -> KResult<u64> {
    let path = sys.mm().read_cstring(sys.arg(1), PATH_MAX - 1)?;
    do_execve(sys, sys.arg_i32(0), path, sys.arg(2), sys.arg(3), sys.arg_u32(4))
}

fn sys_getpid(sys: &mut Sys) -> KResult<u64> {
    Ok(sys.task.tgid as u64)
}

fn sys_getppid(sys: &mut Sys) -> KResult<u64> {
    Ok(sys.task.ppid() as u64)
}

fn sys_gettid(sys: &mut Sys) -> KResult<u64> {
    Ok(sys.task.tid as u64)
}

fn sys_getuid(sys: &mut Sys) -> KResult<u64> {
    Ok(sys.task.creds().uid as u64)
}

fn sys_geteuid(sys: &mut Sys) -> KResult<u64> {
    Ok(sys.task.creds().euid as u64)
}

fn sys_getgid(sys: &mut Sys) -> KResult<u64> {
    Ok(sys.task.creds().gid as u64)
}

fn sys_getegid(sys: &mut Sys) -> KResult<u64> {
    Ok(sys.task.creds().egid as u64)
}

fn sys_getresuid(sys: &mut Sys) -> KResult<u64> {
    let c = sys.task.creds();
    let mm = sys.mm();
    mm.write(sys.arg(0), &c.uid)?;
    mm.write(sys.arg(1), &c.euid)?;
    mm.write(sys.arg(2), &c.suid)?;
    Ok(0)
}

fn sys_getresgid(sys: &mut Sys) -> KResult<u64> {
    let c = sys.task.creds();
    let mm = sys.mm();
    mm.write(sys.arg(0), &c.gid)?;
    mm.write(sys.arg(1), &c.egid)?;
    mm.write(sys.arg(2), &c.sgid)?;
    Ok(0)
}

fn sys_getgroups(sys: &mut Sys) -> KResult<u64> {
    let size = sys.arg_i32(0);
    let groups = sys.task.creds().groups;
    if size < 0 {
        return Err(Errno::EINVAL);
    }
    if size == 0 {
        return Ok(groups.len() as u64);
    }
    if (size as usize) < groups.len() {
        return Err(Errno::EINVAL);
    }
    let bytes: Vec<u8> = groups.iter().flat_map(|g| g.to_ne_bytes()).collect();
    sys.mm().write_bytes(sys.arg(1), &bytes)?;
    Ok(groups.len() as u64)
}

fn sys_getpgrp(sys: &mut Sys) -> KResult<u64> {
    Ok(sys.task.pgid() as u64)
}

/// The process `pid` names (0: the caller), zombies included.
fn process_of(sys: &Sys, pid: i32) -> KResult<std::sync::Arc<crate::task::process::Process>> {
    if pid == 0 {
        return Ok(sys.task.process.clone());
    }
    if pid < 0 {
        return Err(Errno::ESRCH);
    }
    sys.task.system.process(pid).ok_or(Errno::ESRCH)
}

fn sys_getpgid(sys: &mut Sys) -> KResult<u64> {
    Ok(process_of(sys, sys.arg_i32(0))?.pgid() as u64)
}

fn sys_getsid(sys: &mut Sys) -> KResult<u64> {
    Ok(process_of(sys, sys.arg_i32(0))?.sid() as u64)
}

fn sys_set_tid_address(sys: &mut Sys) -> KResult<u64> {
    sys.task.clear_child_tid.store(sys.arg(0), Ordering::Relaxed);
    Ok(sys.task.tid as u64)
}

/// sizeof(struct robust_list_head) on x86-64.
const ROBUST_LIST_HEAD_SIZE: u64 = 24;

fn sys_set_robust_list(sys: &mut Sys) -> KResult<u64> {
    if sys.arg(1) != ROBUST_LIST_HEAD_SIZE {
        return Err(Errno::EINVAL);
    }
    sys.task.robust_list.store(sys.arg(0), Ordering::Relaxed);
    Ok(0)
}

fn sys_get_robust_list(sys: &mut Sys) -> KResult<u64> {
    let pid = sys.arg_i32(0);
    let task = if pid == 0 { sys.task.clone() } else { sys.task.system.task(pid).ok_or(Errno::ESRCH)? };
    let mm = sys.mm();
    mm.write(sys.arg(1), &task.robust_list.load(Ordering::Relaxed))?;
    mm.write(sys.arg(2), &ROBUST_LIST_HEAD_SIZE)?;
    Ok(0)
}

/// Restartable sequences are not provided (as on a kernel built without
/// CONFIG_RSEQ); glibc falls back when it sees ENOSYS.
fn sys_rseq(_sys: &mut Sys) -> KResult<u64> {
    Err(Errno::ENOSYS)
}

fn check_resource(resource: u32) -> KResult<usize> {
    if (resource as usize) < RLIM_NLIMITS { Ok(resource as usize) } else { Err(Errno::EINVAL) }
}

fn set_limit(sys: &Sys, resource: usize, new: Rlimit) -> KResult<()> {
    if new.cur > new.max {
        return Err(Errno::EINVAL);
    }
    let mut limits = sys.task.rlimits.lock();
    let old = limits[resource];
    // Raising the hard limit needs CAP_SYS_RESOURCE.
    if new.max > old.max && !sys.task.creds().is_root() {
        return Err(Errno::EPERM);
    }
    // Linux: RLIMIT_NOFILE may not exceed fs.nr_open (1048576 by default).
    if resource == RLIMIT_NOFILE && new.max > 1 << 20 {
        return Err(Errno::EPERM);
    }
    limits[resource] = new;
    Ok(())
}

fn sys_prlimit64(sys: &mut Sys) -> KResult<u64> {
    let (pid, resource, new_addr, old_addr) = (sys.arg_i32(0), sys.arg_u32(1), sys.arg(2), sys.arg(3));
    if pid != 0 && pid != sys.task.tgid && sys.task.system.task(pid).is_none() {
        return Err(Errno::ESRCH);
    }
    let resource = check_resource(resource)?;
    let mm = sys.mm();
    let new: Option<Rlimit> = if new_addr != 0 { Some(mm.read(new_addr)?) } else { None };
    let old = sys.task.rlimit(resource);
    if let Some(new) = new {
        set_limit(sys, resource, new)?;
    }
    if old_addr != 0 {
        mm.write(old_addr, &old)?;
    }
    Ok(0)
}

fn sys_getrlimit(sys: &mut Sys) -> KResult<u64> {
    let resource = check_resource(sys.arg_u32(0))?;
    sys.mm().write(sys.arg(1), &sys.task.rlimit(resource))?;
    Ok(0)
}

fn sys_setrlimit(sys: &mut Sys) -> KResult<u64> {
    let resource = check_resource(sys.arg_u32(0))?;
    let new: Rlimit = sys.mm().read(sys.arg(1))?;
    set_limit(sys, resource, new)?;
    Ok(0)
}

fn sys_getrusage(sys: &mut Sys) -> KResult<u64> {
    let who = sys.arg_i32(0);
    let mut ru = Rusage::default();
    match who {
        RUSAGE_SELF | RUSAGE_THREAD => {
            let (user, system) = crate::task::cpu_times(sys.task);
            ru.ru_utime = Timeval { tv_sec: (user / 1_000_000_000) as i64, tv_usec: ((user % 1_000_000_000) / 1000) as i64 };
            ru.ru_stime = Timeval { tv_sec: (system / 1_000_000_000) as i64, tv_usec: ((system % 1_000_000_000) / 1000) as i64 };
            // ru_maxrss in KiB.
            ru.rest[0] = (sys.mm().resident_pages() * 4) as i64;
        }
        RUSAGE_CHILDREN => {
            let st = sys.task.process.state();
            ru.ru_utime = Timeval { tv_sec: (st.children_user_ns / 1_000_000_000) as i64, tv_usec: ((st.children_user_ns % 1_000_000_000) / 1000) as i64 };
            ru.ru_stime = Timeval { tv_sec: (st.children_system_ns / 1_000_000_000) as i64, tv_usec: ((st.children_system_ns % 1_000_000_000) / 1000) as i64 };
        }
        _ => return Err(Errno::EINVAL),
    }
    sys.mm().write(sys.arg(1), &ru)?;
    Ok(0)
}

fn sys_times(sys: &mut Sys) -> KResult<u64> {
    let (user, system) = crate::task::cpu_times(sys.task);
    let ticks = |ns: u64| (ns / 10_000_000) as i64;
    let (cu, cs) = {
        let st = sys.task.process.state();
        (st.children_user_ns, st.children_system_ns)
    };
    let t = Tms { tms_utime: ticks(user), tms_stime: ticks(system), tms_cutime: ticks(cu), tms_cstime: ticks(cs) };
    if sys.arg(0) != 0 {
        sys.mm().write(sys.arg(0), &t)?;
    }
    Ok(crate::sched::clock::monotonic_ns() / 10_000_000 + crate::sched::clock::INITIAL_JIFFIES)
}

fn sys_arch_prctl(sys: &mut Sys) -> KResult<u64> {
    let (code, addr) = (sys.arg_u32(0), sys.arg(1));
    match code {
        ARCH_SET_FS | ARCH_SET_GS => {
            if addr >= crate::mm::TASK_SIZE {
                return Err(Errno::EPERM);
            }
            if code == ARCH_SET_FS {
                sys.regs.fs_base = addr;
            } else {
                sys.regs.gs_base = addr;
            }
            Ok(0)
        }
        ARCH_GET_FS => {
            sys.mm().write(addr, &sys.regs.fs_base)?;
            Ok(0)
        }
        ARCH_GET_GS => {
            sys.mm().write(addr, &sys.regs.gs_base)?;
            Ok(0)
        }
        // CPUID faulting is not offered: cpuid always works.
        ARCH_GET_CPUID => Ok(1),
        ARCH_SET_CPUID => Err(Errno::ENODEV),
        _ => Err(Errno::EINVAL),
    }
}

fn sys_prctl(sys: &mut Sys) -> KResult<u64> {
    let option = sys.arg_u32(0);
    let arg2 = sys.arg(1);
    let task = sys.task;
    match option {
        PR_SET_NAME => {
            let mut name = [0u8; 16];
            // Linux copies 16 bytes (faulting as a whole) and terminates at 15.
            sys.mm().read_bytes_into(arg2, &mut name[..16]).or_else(|_| {
                // A string near the end of a mapping may be shorter than 16 bytes.
                let s = sys.mm().read_cstring(arg2, 15).map_err(|_| Errno::EFAULT)?;
                name = [0; 16];
                name[..s.len()].copy_from_slice(&s);
                Ok::<(), Errno>(())
            })?;
            let len = name.iter().position(|&c| c == 0).unwrap_or(15).min(15);
            task.set_comm(&name[..len]);
            Ok(0)
        }
        PR_GET_NAME => {
            let mut name = [0u8; 16];
            let comm = task.comm();
            name[..comm.len()].copy_from_slice(&comm);
            sys.mm().write_bytes(arg2, &name)?;
            Ok(0)
        }
        PR_GET_DUMPABLE => Ok(1),
        PR_SET_DUMPABLE => {
            if arg2 > 1 {
                return Err(Errno::EINVAL);
            }
            Ok(0)
        }
        PR_GET_SECCOMP => Ok(0),
        PR_GET_NO_NEW_PRIVS => Ok(task.no_new_privs.load(Ordering::Relaxed) as u64),
        PR_SET_NO_NEW_PRIVS => {
            if arg2 != 1 || sys.arg(2) != 0 || sys.arg(3) != 0 || sys.arg(4) != 0 {
                return Err(Errno::EINVAL);
            }
            task.no_new_privs.store(true, Ordering::Relaxed);
            Ok(0)
        }
        PR_SET_PDEATHSIG => {
            if arg2 > 64 {
                return Err(Errno::EINVAL);
            }
            task.pdeath_signal.store(arg2 as i32, Ordering::Relaxed);
            Ok(0)
        }
        PR_GET_PDEATHSIG => {
            sys.mm().write(arg2, &task.pdeath_signal.load(Ordering::Relaxed))?;
            Ok(0)
        }
        PR_CAPBSET_READ => {
            if arg2 > 40 {
                return Err(Errno::EINVAL);
            }
            Ok(task.creds().is_root() as u64)
        }
        PR_GET_TID_ADDRESS => {
            sys.mm().write(arg2, &task.clear_child_tid.load(Ordering::Relaxed))?;
            Ok(0)
        }
        PR_SET_CHILD_SUBREAPER => {
            task.process.child_subreaper.store(arg2 != 0, Ordering::Relaxed);
            Ok(0)
        }
        PR_GET_CHILD_SUBREAPER => {
            sys.mm().write(arg2, &(task.process.child_subreaper.load(Ordering::Relaxed) as i32))?;
            Ok(0)
        }
        PR_GET_THP_DISABLE => Ok(0),
        PR_SET_THP_DISABLE => Ok(0),
        _ => Err(Errno::EINVAL),
    }
}
