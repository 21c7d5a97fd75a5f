//! Event and notification files: eventfd, timerfd, signalfd, inotify and
//! pidfds (Linux's fs/eventfd.c, fs/timerfd.c, fs/signalfd.c,
//! fs/notify/inotify/inotify_user.c, kernel/pid.c). Decodes and checks in
//! Linux's order, then calls fs::anon (or task::pidfd) for the work.

use std::sync::Arc;

use crate::abi::event::{
    ALL_INOTIFY_BITS, EFD_CLOEXEC, EFD_NONBLOCK, EFD_SEMAPHORE, IN_CLOEXEC, IN_DONT_FOLLOW, IN_MASK_ADD, IN_MASK_CREATE, IN_NONBLOCK, IN_ONLYDIR,
    PIDFD_NONBLOCK, PIDFD_SIGNAL_PROCESS_GROUP, PIDFD_SIGNAL_THREAD, PIDFD_SIGNAL_THREAD_GROUP, PIDFD_THREAD, SFD_CLOEXEC, SFD_NONBLOCK, TFD_CLOEXEC,
    TFD_NONBLOCK, TFD_SETTIME_FLAGS,
};
use crate::abi::fcntl::{AT_FDCWD, O_NONBLOCK, O_RDONLY, O_RDWR};
use crate::abi::signal::{SI_TKILL, SI_USER, SIGSET_SIZE};
use crate::abi::time::{CLOCK_BOOTTIME, CLOCK_BOOTTIME_ALARM, CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_REALTIME_ALARM};
use crate::abi::{Errno, Itimerspec, KResult};
use crate::fs::anon::eventfd::EventFd;
use crate::fs::anon::inotify::Inotify;
use crate::fs::anon::signalfd::SignalFd;
use crate::fs::anon::timerfd::TimerFd;
use crate::fs::anon::{anon_file, ops_of};
use crate::fs::file::File;
use crate::sched::time::{ns_to_timespec, timespec_ns};
use crate::signal::{SigInfo, UNBLOCKABLE, may_signal, send_to_process, send_to_task, valid_signal};
use crate::syscall::args::*;
use crate::syscall::{Sys, SyscallDef};
use crate::syscalls;
use crate::task::pidfd;

/// pidfd_send_signal's names for the caller itself (Linux 6.15).
const PIDFD_SELF_THREAD: i32 = -10000;
const PIDFD_SELF_THREAD_GROUP: i32 = -10001;

pub const SYSCALLS: &[SyscallDef] = syscalls![
    __NR_eventfd => sys_eventfd,
    __NR_eventfd2 => sys_eventfd2,
    __NR_timerfd_create => sys_timerfd_create,
    __NR_timerfd_settime => sys_timerfd_settime,
    __NR_timerfd_gettime => sys_timerfd_gettime,
    __NR_signalfd => sys_signalfd,
    __NR_signalfd4 => sys_signalfd4,
    __NR_pidfd_open => sys_pidfd_open,
    __NR_pidfd_send_signal => sys_pidfd_send_signal,
    __NR_pidfd_getfd => sys_pidfd_getfd,
    __NR_inotify_init => sys_inotify_init,
    __NR_inotify_init1 => sys_inotify_init1,
    __NR_inotify_add_watch => sys_inotify_add_watch,
    __NR_inotify_rm_watch => sys_inotify_rm_watch,
];

/// Installs a new file at the lowest free fd.
pub fn install(sys: &Sys, file: Arc<File>, cloexec: bool) -> KResult<u64> {
    let limit = nofile_limit(sys.task);
    Ok(sys.task.files().install(file, cloexec, 0, limit)? as u64)
}

// ---- eventfd ----

fn do_eventfd(sys: &Sys, initval: u32, flags: u32) -> KResult<u64> {
    if flags & !(EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE) != 0 {
        return Err(Errno::EINVAL);
    }
    let ops = Arc::new(EventFd::new(initval, flags & EFD_SEMAPHORE != 0));
    let file = anon_file("eventfd", ops, O_RDWR | (flags & O_NONBLOCK));
    install(sys, file, flags & EFD_CLOEXEC != 0)
}

fn sys_eventfd(sys: &mut Sys) -> KResult<u64> {
    do_eventfd(sys, sys.arg_u32(0), 0)
}

fn sys_eventfd2(sys: &mut Sys) -> KResult<u64> {
    do_eventfd(sys, sys.arg_u32(0), sys.arg_u32(1))
}

// ---- timerfd ----

fn sys_timerfd_create(sys: &mut Sys) -> KResult<u64> {
    let (clockid, flags) = (sys.arg_i32(0), sys.arg_u32(1));
    if flags & !(TFD_CLOEXEC | TFD_NONBLOCK) != 0
        || !matches!(clockid, CLOCK_MONOTONIC | CLOCK_REALTIME | CLOCK_REALTIME_ALARM | CLOCK_BOOTTIME | CLOCK_BOOTTIME_ALARM)
    {
        return Err(Errno::EINVAL);
    }
    // The alarm clocks need CAP_WAKE_ALARM (they behave as their plain
    // clocks here: nothing suspends).
    if matches!(clockid, CLOCK_REALTIME_ALARM | CLOCK_BOOTTIME_ALARM) && sys.task.creds().euid != 0 {
        return Err(Errno::EPERM);
    }
    let realtime = matches!(clockid, CLOCK_REALTIME | CLOCK_REALTIME_ALARM);
    let file = anon_file("timerfd", TimerFd::new(clockid, realtime), O_RDWR | (flags & O_NONBLOCK));
    install(sys, file, flags & TFD_CLOEXEC != 0)
}

/// An itimerspec argument as (value, interval) nanoseconds (EFAULT, then
/// EINVAL unless both are valid timespecs; huge values saturate).
pub fn read_itimerspec(sys: &Sys, addr: u64) -> KResult<Itimerspec> {
    sys.mm().read(addr)
}

pub fn itimerspec_ns(it: &Itimerspec) -> KResult<(i64, i64)> {
    Ok((timespec_ns(&it.it_value)?, timespec_ns(&it.it_interval)?))
}

pub fn to_itimerspec((value, interval): (i64, i64)) -> Itimerspec {
    Itimerspec { it_interval: ns_to_timespec(interval), it_value: ns_to_timespec(value) }
}

fn timerfd_of(sys: &Sys, fd: i32) -> KResult<Arc<File>> {
    let file = file_of(sys.task, fd)?;
    ops_of::<TimerFd>(&file)?;
    Ok(file)
}

fn sys_timerfd_settime(sys: &mut Sys) -> KResult<u64> {
    let (fd, flags, new_addr, old_addr) = (sys.arg_i32(0), sys.arg_u32(1), sys.arg(2), sys.arg(3));
    let new = read_itimerspec(sys, new_addr)?;
    if flags & !TFD_SETTIME_FLAGS != 0 {
        return Err(Errno::EINVAL);
    }
    let (value, interval) = itimerspec_ns(&new)?;
    let file = timerfd_of(sys, fd)?;
    let old = ops_of::<TimerFd>(&file)?.set(flags, value, interval);
    if old_addr != 0 {
        put(sys, old_addr, &to_itimerspec(old))?;
    }
    Ok(0)
}

fn sys_timerfd_gettime(sys: &mut Sys) -> KResult<u64> {
    let file = timerfd_of(sys, sys.arg_i32(0))?;
    let cur = ops_of::<TimerFd>(&file)?.get();
    put(sys, sys.arg(1), &to_itimerspec(cur))?;
    Ok(0)
}

// ---- signalfd ----

fn do_signalfd4(sys: &Sys, fd: i32, mask_addr: u64, size: u64, flags: u32) -> KResult<u64> {
    if flags & !(SFD_CLOEXEC | SFD_NONBLOCK) != 0 || size != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let mask: u64 = sys.mm().read(mask_addr)?;
    let mask = mask & !UNBLOCKABLE;
    if fd == -1 {
        let file = anon_file("signalfd", Arc::new(SignalFd::new(mask)), O_RDWR | (flags & O_NONBLOCK));
        return install(sys, file, flags & SFD_CLOEXEC != 0);
    }
    let file = file_of(sys.task, fd)?;
    ops_of::<SignalFd>(&file)?.set_mask(mask);
    Ok(fd as u64)
}

fn sys_signalfd(sys: &mut Sys) -> KResult<u64> {
    do_signalfd4(sys, sys.arg_i32(0), sys.arg(1), sys.arg(2), 0)
}

fn sys_signalfd4(sys: &mut Sys) -> KResult<u64> {
    do_signalfd4(sys, sys.arg_i32(0), sys.arg(1), sys.arg(2), sys.arg_u32(3))
}

// ---- pidfds ----

/// pidfd_open(pid, flags): EINVAL for bad flags or pid, ESRCH for no such
/// process (a zombie still counts), EINVAL for a thread that leads no
/// process unless PIDFD_THREAD. The fd is close-on-exec.
fn sys_pidfd_open(sys: &mut Sys) -> KResult<u64> {
    let (pid, flags) = (sys.arg_i32(0), sys.arg_u32(1));
    if flags & !(PIDFD_NONBLOCK | PIDFD_THREAD) != 0 || pid <= 0 {
        return Err(Errno::EINVAL);
    }
    let system = &sys.task.system;
    let process = match system.process(pid) {
        Some(p) => p,
        // A live thread that is not a group leader (threads come later).
        None if system.task(pid).is_some() => return Err(Errno::EINVAL),
        None => return Err(Errno::ESRCH),
    };
    let file = pidfd::open(&process, system, flags & PIDFD_NONBLOCK != 0);
    install(sys, file, true)
}

/// pidfd_send_signal(pidfd, sig, info, flags) in Linux's order: flags,
/// the fd (EBADF unless a pidfd; PIDFD_SELF_* name the caller), the
/// siginfo (EFAULT, EINVAL for another signal number, EPERM for a forged
/// code towards another process), then kill's checks.
fn sys_pidfd_send_signal(sys: &mut Sys) -> KResult<u64> {
    let (pidfd, sig, info_addr, flags) = (sys.arg_i32(0), sys.arg_i32(1), sys.arg(2), sys.arg_u32(3));
    let scopes = PIDFD_SIGNAL_THREAD | PIDFD_SIGNAL_THREAD_GROUP | PIDFD_SIGNAL_PROCESS_GROUP;
    if flags & !scopes != 0 || (flags & scopes).count_ones() > 1 {
        return Err(Errno::EINVAL);
    }
    let task = sys.task;
    let (target, thread_pidfd) = match pidfd {
        PIDFD_SELF_THREAD => (task.clone(), true),
        PIDFD_SELF_THREAD_GROUP => (task.system.process_leader(task.tgid).ok_or(Errno::ESRCH)?, false),
        fd => {
            let file = task.files().get(fd)?;
            let p = match pidfd::of(&file) {
                Ok(p) => p,
                Err(e) => {
                    // An open /proc/<pid> directory names its process
                    // too, and /proc/<tid> its thread's process (Linux
                    // signals the thread group of the task it names).
                    let pid = crate::fs::procfs::pid_dir_pid(&file.inode).ok_or(e)?;
                    match task.system.process_leader(pid) {
                        Some(leader) => return signal_by_pidfd(sys, leader, false, sig, info_addr, flags),
                        None if task.system.process(pid).is_some() => {
                            if sig != 0 {
                                valid_signal(sig)?;
                            }
                            return Ok(0);
                        }
                        None => match task.system.task(pid) {
                            Some(thread) => return signal_by_pidfd(sys, thread, false, sig, info_addr, flags),
                            None => return Err(Errno::ESRCH),
                        },
                    }
                }
            };
            match p.process.leader().filter(|_| !p.reaped() && !p.exited()) {
                Some(leader) => (leader, false),
                // A zombie takes signals and nothing happens; a reaped
                // process is gone.
                None if !p.reaped() => {
                    if sig != 0 {
                        valid_signal(sig)?;
                    }
                    return Ok(0);
                }
                None => return Err(Errno::ESRCH),
            }
        }
    };
    signal_by_pidfd(sys, target, thread_pidfd, sig, info_addr, flags)
}

/// The rest of pidfd_send_signal once the target is known: the siginfo
/// checks, then kill's.
fn signal_by_pidfd(sys: &mut Sys, target: Arc<crate::task::Task>, thread_pidfd: bool, sig: i32, info_addr: u64, flags: u32) -> KResult<u64> {
    let task = sys.task;
    let thread = flags & PIDFD_SIGNAL_THREAD != 0 || (thread_pidfd && flags == 0);
    let info = if info_addr != 0 {
        let mut info = SigInfo { bytes: [0; 128] };
        sys.mm().read_bytes_into(info_addr, &mut info.bytes)?;
        if info.signo() != sig {
            return Err(Errno::EINVAL);
        }
        let to_self = if thread { target.tid() == task.tid() } else { target.tgid == task.tgid };
        if (!to_self || flags & PIDFD_SIGNAL_PROCESS_GROUP != 0) && (info.code() >= 0 || info.code() == SI_TKILL) {
            return Err(Errno::EPERM);
        }
        info
    } else {
        let code = if thread { SI_TKILL } else { SI_USER };
        SigInfo::user(sig, code, task.tgid, task.creds().uid)
    };
    if sig != 0 {
        valid_signal(sig)?;
    }
    if flags & PIDFD_SIGNAL_PROCESS_GROUP != 0 {
        return crate::signal::kill(&task.system, task, -target.process.pgid(), sig).map(|_| 0);
    }
    if !may_signal(&task.creds(), &target, sig) {
        return Err(Errno::EPERM);
    }
    if sig != 0 {
        if thread { send_to_task(&target, info) } else { send_to_process(&target, info) }
    }
    Ok(0)
}

/// pidfd_getfd(pidfd, fd, flags): a duplicate of another process's open
/// file, close-on-exec. EINVAL for flags, EBADF for a non-pidfd, ESRCH
/// once it has exited, EPERM unless the caller may trace it (root, or the
/// same user), EBADF for a closed fd there.
fn sys_pidfd_getfd(sys: &mut Sys) -> KResult<u64> {
    let (pidfd, fd, flags) = (sys.arg_i32(0), sys.arg_i32(1), sys.arg_u32(2));
    if flags != 0 {
        return Err(Errno::EINVAL);
    }
    let file = sys.task.files().get(pidfd)?;
    let p = pidfd::of(&file)?;
    let target = p.process.leader().filter(|_| !p.exited()).ok_or(Errno::ESRCH)?;
    if !may_trace(&sys.task.creds(), &target.creds()) {
        return Err(Errno::EPERM);
    }
    let theirs = target.files().get(fd)?;
    install(sys, theirs, true)
}

/// Linux's ptrace_may_access for PTRACE_MODE_ATTACH_REALCREDS, without
/// capabilities beyond root and without dumpability (not modelled).
fn may_trace(me: &crate::sched::Creds, them: &crate::sched::Creds) -> bool {
    me.euid == 0 || (me.uid == them.uid && me.uid == them.euid && me.uid == them.suid && me.gid == them.gid && me.gid == them.egid && me.gid == them.sgid)
}

// ---- inotify ----

fn do_inotify_init1(sys: &Sys, flags: u32) -> KResult<u64> {
    if flags & !(IN_CLOEXEC | IN_NONBLOCK) != 0 {
        return Err(Errno::EINVAL);
    }
    let file = anon_file("inotify", Inotify::new(), O_RDONLY | (flags & O_NONBLOCK));
    install(sys, file, flags & IN_CLOEXEC != 0)
}

fn sys_inotify_init(sys: &mut Sys) -> KResult<u64> {
    do_inotify_init1(sys, 0)
}

fn sys_inotify_init1(sys: &mut Sys) -> KResult<u64> {
    do_inotify_init1(sys, sys.arg_u32(0))
}

/// inotify_add_watch(fd, path, mask) in Linux's order: the mask, the fd
/// (EBADF, EINVAL unless inotify), the path (IN_DONT_FOLLOW, IN_ONLYDIR),
/// read permission on it, then the watch.
fn sys_inotify_add_watch(sys: &mut Sys) -> KResult<u64> {
    let (fd, path_addr, mask) = (sys.arg_i32(0), sys.arg(1), sys.arg_u32(2));
    if mask & IN_MASK_ADD != 0 && mask & IN_MASK_CREATE != 0 || mask & ALL_INOTIFY_BITS == 0 {
        return Err(Errno::EINVAL);
    }
    let file = file_of(sys.task, fd)?;
    let inotify = ops_of::<Inotify>(&file)?;
    let path = sys.read_path(path_addr)?;
    let p = crate::fs::lookup::resolve_at(&**sys.task, AT_FDCWD, &path, mask & IN_DONT_FOLLOW == 0, false)?;
    let md = p.metadata()?;
    if mask & IN_ONLYDIR != 0 && !md.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    crate::fs::lookup::may_access(&sys.task.creds(), &**p.inode(), &md, crate::fs::lookup::MAY_READ)?;
    Ok(inotify.add_watch((md.dev, md.ino), mask)? as u64)
}

fn sys_inotify_rm_watch(sys: &mut Sys) -> KResult<u64> {
    let file = file_of(sys.task, sys.arg_i32(0))?;
    ops_of::<Inotify>(&file)?.rm_watch(sys.arg_i32(1))?;
    Ok(0)
}
