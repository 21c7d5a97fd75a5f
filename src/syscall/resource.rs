//! Resource limits and usage: getrlimit, setrlimit, prlimit64, getrusage,
//! times.

use std::sync::Arc;

use crate::abi::capability::CAP_SYS_RESOURCE;
use crate::abi::resource::{RLIM_NLIMITS, RLIMIT_AS, RLIMIT_CPU, RLIMIT_DATA, RLIMIT_NOFILE, RLIMIT_STACK, RUSAGE_CHILDREN, RUSAGE_SELF, RUSAGE_THREAD};
use crate::abi::{Errno, KResult, Rlimit, Rusage, Timeval, Tms};
use crate::syscall::{Sys, SyscallDef};
use crate::syscalls;
use crate::task::Task;

pub const SYSCALLS: &[SyscallDef] = syscalls![
    __NR_prlimit64 => sys_prlimit64,
    __NR_getrlimit => sys_getrlimit,
    __NR_setrlimit => sys_setrlimit,
    __NR_getrusage => sys_getrusage,
    __NR_times => sys_times,
];

fn check_resource(resource: u32) -> KResult<usize> {
    if (resource as usize) < RLIM_NLIMITS { Ok(resource as usize) } else { Err(Errno::EINVAL) }
}

/// Linux's do_prlimit for the limits of `target`'s process, set by
/// `caller`.
fn set_limit(caller: &Task, target: &Task, resource: usize, new: Rlimit) -> KResult<()> {
    if new.cur > new.max {
        return Err(Errno::EINVAL);
    }
    {
        let mut limits = target.rlimits.lock();
        let old = limits[resource];
        // Raising the hard limit needs CAP_SYS_RESOURCE.
        if new.max > old.max && !caller.creds().capable(CAP_SYS_RESOURCE) {
            return Err(Errno::EPERM);
        }
        // Linux: RLIMIT_NOFILE may not exceed fs.nr_open (1048576 by default).
        if resource == RLIMIT_NOFILE && new.max > 1 << 20 {
            return Err(Errno::EPERM);
        }
        limits[resource] = new;
    }
    if resource == RLIMIT_CPU {
        crate::task::itimer::watch_cpu_limit(target);
    }
    // The address space checks these itself.
    if matches!(resource, RLIMIT_AS | RLIMIT_DATA | RLIMIT_STACK) {
        target.sync_vm_limits();
    }
    Ok(())
}

/// Linux's check_prlimit_permission: another process's limits are the
/// caller's business when its real, effective and saved ids all equal the
/// caller's real id (uids and gids alike), or the caller has
/// CAP_SYS_RESOURCE.
fn may_prlimit(caller: &Task, target: &Task) -> bool {
    if caller.tgid == target.tgid {
        return true;
    }
    let (me, them) = (caller.creds(), target.creds());
    me.capable(CAP_SYS_RESOURCE)
        || (me.uid == them.uid && me.uid == them.euid && me.uid == them.suid && me.gid == them.gid && me.gid == them.egid && me.gid == them.sgid)
}

fn sys_prlimit64(sys: &mut Sys) -> KResult<u64> {
    let (pid, resource, new_addr, old_addr) = (sys.arg_i32(0), sys.arg_u32(1), sys.arg(2), sys.arg(3));
    let resource = check_resource(resource)?;
    let mm = sys.mm();
    let new: Option<Rlimit> = if new_addr != 0 { Some(mm.read(new_addr)?) } else { None };
    let target: Arc<Task> = if pid == 0 { sys.task.clone() } else { sys.task.system.task(pid).ok_or(Errno::ESRCH)? };
    if !may_prlimit(sys.task, &target) {
        return Err(Errno::EPERM);
    }
    let old = target.rlimit(resource);
    if let Some(new) = new {
        set_limit(sys.task, &target, resource, new)?;
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
    set_limit(sys.task, sys.task, resource, new)?;
    Ok(0)
}

fn sys_getrusage(sys: &mut Sys) -> KResult<u64> {
    let who = sys.arg_i32(0);
    let mut ru = Rusage::default();
    match who {
        RUSAGE_SELF | RUSAGE_THREAD => {
            let (user, system) = if who == RUSAGE_SELF { crate::task::process_cpu_times(sys.task) } else { crate::task::cpu_times(sys.task) };
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
    let (user, system) = crate::task::process_cpu_times(sys.task);
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
