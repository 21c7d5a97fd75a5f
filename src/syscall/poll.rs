//! Readiness system calls: poll, ppoll, select, pselect6 (Linux's
//! fs/select.c) and the epoll family (fs/epoll.rs holds the epoll object).
//! A call resolves its fds once, then sleeps on the wait queues their
//! `FileOps` offer until one reports an event, the timeout passes or a
//! signal arrives (ERESTARTNOHAND, as Linux returns).

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::abi::fcntl::{O_CLOEXEC, O_PATH};
use crate::abi::personality::STICKY_TIMEOUTS;
use crate::abi::poll::{
    EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD, EPOLLEXCLUSIVE, POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLPRI, POLLRDBAND, POLLRDNORM, POLLWRBAND,
    POLLWRNORM,
};
use crate::abi::resource::RLIMIT_NOFILE;
use crate::abi::signal::SIGSET_SIZE;
use crate::abi::{Errno, KResult, Timespec, Timeval};
use crate::fs::epoll::{EPOLLEXCLUSIVE_OK_BITS, EventPoll};
use crate::fs::file::File;
use crate::sched::time::Deadline;
use crate::sched::wait::{WaitQueue, wait_any};
use crate::signal::UNBLOCKABLE;
use crate::syscall::{Sys, SyscallDef};
use crate::syscalls;
use crate::task::{RestartBlock, Task};

pub const SYSCALLS: &[SyscallDef] = syscalls![
    __NR_poll => sys_poll,
    __NR_ppoll => sys_ppoll,
    __NR_select => sys_select,
    __NR_pselect6 => sys_pselect6,
    __NR_epoll_create => sys_epoll_create,
    __NR_epoll_create1 => sys_epoll_create1,
    __NR_epoll_ctl => sys_epoll_ctl,
    __NR_epoll_wait => sys_epoll_wait,
    __NR_epoll_pwait => sys_epoll_pwait,
    __NR_epoll_pwait2 => sys_epoll_pwait2,
];

/// What select counts as readable, writable and exceptional.
const POLLIN_SET: u16 = POLLRDNORM | POLLRDBAND | POLLIN | POLLHUP | POLLERR;
const POLLOUT_SET: u16 = POLLWRBAND | POLLWRNORM | POLLOUT | POLLERR;
const POLLEX_SET: u16 = POLLPRI;
const NSEC_PER_SEC: i64 = 1_000_000_000;

/// How long a call may wait.
#[derive(Clone, Copy)]
pub enum Timeout {
    /// Look once, never sleep (a zero timeout).
    Now,
    /// Until `start + length` (a deadline past Instant's range is Never).
    For {
        start: Instant,
        length: Duration,
    },
    Never,
}

impl Timeout {
    pub fn from_duration(length: Duration) -> Timeout {
        if length.is_zero() { Timeout::Now } else { Timeout::For { start: Instant::now(), length } }
    }

    /// Linux's poll_select_set_timeout: EINVAL unless 0 <= nsec < 1e9 and sec >= 0.
    fn from_timespec(sec: i64, nsec: i64) -> KResult<Timeout> {
        if sec < 0 || !(0..NSEC_PER_SEC).contains(&nsec) {
            return Err(Errno::EINVAL);
        }
        Ok(Timeout::from_duration(Duration::new(sec as u64, nsec as u32)))
    }

    fn deadline(&self) -> Option<Instant> {
        match self {
            Timeout::For { start, length } => start.checked_add(*length),
            _ => None,
        }
    }

    /// Time left, for the select/ppoll/pselect6 write-back.
    fn remaining(&self) -> Duration {
        match self {
            Timeout::For { start, length } => length.saturating_sub(start.elapsed()),
            _ => Duration::ZERO,
        }
    }
}

/// How often files that cannot wake a waiter are polled again while a
/// call sleeps. Every kernel file has a wait queue; the exception is the
/// console passed through from vkernel's own host fds (a pipe or file the
/// host gave vkernel), whose readiness only the host knows.
const REPOLL_INTERVAL: Duration = Duration::from_millis(10);

/// Sleeps until `scan` finds something (Some), the timeout passes (None)
/// or a signal arrives (ERESTARTNOHAND), waking whenever one of `files`
/// (or `extra`) reports a change. Files with no wait queue are polled
/// again every REPOLL_INTERVAL; always-ready ones never make it sleep.
pub fn wait_ready<T>(files: &[Arc<File>], extra: &[&WaitQueue], timeout: Timeout, mut scan: impl FnMut() -> Option<T>) -> KResult<Option<T>> {
    let deadline = match timeout {
        Timeout::Now => return Ok(scan()),
        t => t.deadline(),
    };
    let mut queues: Vec<&WaitQueue> = extra.to_vec();
    let mut unqueued = false;
    for f in files {
        match f.ops.wait_queue() {
            Some(q) if !queues.iter().any(|x| std::ptr::eq(*x, q)) => queues.push(q),
            Some(_) => {}
            None => unqueued = true,
        }
    }
    loop {
        let tick = if unqueued { Some(Instant::now() + REPOLL_INTERVAL) } else { None };
        let until = match (tick, deadline) {
            (Some(t), Some(d)) => Some(t.min(d)),
            (t, d) => t.or(d),
        };
        match wait_any(&queues, until, || Ok(scan())) {
            Ok(v) => return Ok(Some(v)),
            Err(Errno::ETIMEDOUT) if deadline.is_none_or(|d| Instant::now() < d) => continue,
            Err(Errno::ETIMEDOUT) => return Ok(None),
            Err(Errno::ERESTARTSYS) => return Err(Errno::ERESTARTNOHAND),
            Err(e) => return Err(e),
        }
    }
}

/// A file as poll and select see it: O_PATH files are not there.
fn pollable(task: &Task, fd: i32) -> Option<Arc<File>> {
    task.files().get(fd).ok().filter(|f| f.flags() & O_PATH == 0)
}

// ---- poll and ppoll ----

/// `struct pollfd` is 8 bytes: int fd; short events; short revents.
const POLLFD_SIZE: usize = 8;

/// Linux's do_sys_poll: EINVAL past RLIMIT_NOFILE, EFAULT for the array,
/// then revents written back for every entry.
fn do_sys_poll(sys: &Sys, addr: u64, nfds: u32, timeout: Timeout) -> KResult<u64> {
    let task = sys.task;
    if nfds as u64 > task.rlimit(RLIMIT_NOFILE).cur {
        return Err(Errno::EINVAL);
    }
    let mm = sys.mm();
    let mut raw = mm.read_bytes(addr, nfds as usize * POLLFD_SIZE)?;
    // (fd slot, events filter, file) for every entry with fd >= 0.
    let mut entries: Vec<(usize, u16, Option<Arc<File>>)> = Vec::new();
    for (i, chunk) in raw.chunks_exact(POLLFD_SIZE).enumerate() {
        let fd = i32::from_ne_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        let events = u16::from_ne_bytes([chunk[4], chunk[5]]);
        if fd >= 0 {
            entries.push((i, events | POLLERR | POLLHUP, pollable(task, fd)));
        }
    }
    let files: Vec<Arc<File>> = entries.iter().filter_map(|e| e.2.clone()).collect();
    let scan_all = || -> (usize, Vec<(usize, u16)>) {
        let mut count = 0;
        let mut out = Vec::with_capacity(entries.len());
        for (i, filter, file) in &entries {
            let revents = match file {
                Some(f) => f.ops.poll(f) & filter,
                None => POLLNVAL,
            };
            if revents != 0 {
                count += 1;
            }
            out.push((*i, revents));
        }
        (count, out)
    };
    let result = wait_ready(&files, &[], timeout, || {
        let (count, out) = scan_all();
        (count > 0).then_some((count, out))
    })?;
    let (count, revents) = result.unwrap_or_else(|| (0, Vec::new()));
    // Every revents is written: zero for entries with fd < 0 or no events.
    for chunk in raw.chunks_exact_mut(POLLFD_SIZE) {
        chunk[6] = 0;
        chunk[7] = 0;
    }
    for (i, r) in revents {
        raw[i * POLLFD_SIZE + 6..i * POLLFD_SIZE + 8].copy_from_slice(&r.to_ne_bytes());
    }
    if nfds > 0 {
        mm.write_bytes(addr, &raw)?;
    }
    Ok(count as u64)
}

fn sys_poll(sys: &mut Sys) -> KResult<u64> {
    let ms = sys.arg_i32(2);
    let deadline = (ms >= 0).then(|| Deadline::after_ns(ms as i64 * 1_000_000));
    poll_until(sys, sys.arg(0), sys.arg_u32(1), deadline)
}

/// poll until `deadline` (None: no timeout). Interrupted by a signal, it
/// is set up to go on through restart_syscall with the time left (Linux's
/// do_restart_poll): a handler makes it EINTR, a stop and SIGCONT resume it.
fn poll_until(sys: &Sys, fds: u64, nfds: u32, deadline: Option<Deadline>) -> KResult<u64> {
    let timeout = match deadline {
        None => Timeout::Never,
        Some(d) => Timeout::from_duration(Duration::from_nanos(d.remaining_ns() as u64)),
    };
    match do_sys_poll(sys, fds, nfds, timeout) {
        Err(Errno::ERESTARTNOHAND) => {
            *sys.task.restart_block.lock() = Some(RestartBlock::Poll { fds, nfds, deadline });
            Err(Errno::ERESTART_RESTARTBLOCK)
        }
        r => r,
    }
}

/// restart_syscall for an interrupted poll.
pub fn restart_poll(sys: &Sys, fds: u64, nfds: u32, deadline: Option<Deadline>) -> KResult<u64> {
    poll_until(sys, fds, nfds, deadline)
}

/// Installs a temporary signal mask (ppoll, pselect6): Linux's
/// set_user_sigmask. The old mask goes to `saved_mask`.
fn set_user_sigmask(sys: &Sys, addr: u64, size: u64) -> KResult<()> {
    if addr == 0 {
        return Ok(());
    }
    if size != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let mask: u64 = sys.mm().read(addr)?;
    let mut s = sys.task.signals.lock();
    s.saved_mask = Some(s.blocked);
    s.blocked = mask & !UNBLOCKABLE;
    Ok(())
}

/// Linux's poll_select_finish: the temporary mask ends unless a signal
/// interrupted (the run loop restores it after the handler frame), and the
/// time left is written back where the caller gave a timeout.
fn poll_select_finish(sys: &Sys, timeout: Timeout, addr: u64, timeval: bool, ret: KResult<u64>) -> KResult<u64> {
    if ret != Err(Errno::ERESTARTNOHAND) {
        let mut s = sys.task.signals.lock();
        if let Some(m) = s.saved_mask.take() {
            s.blocked = m;
        }
    }
    if addr == 0 || matches!(timeout, Timeout::Now) {
        return ret;
    }
    let written = if sys.task.personality.load(std::sync::atomic::Ordering::Relaxed) & STICKY_TIMEOUTS != 0 {
        false
    } else {
        let left = timeout.remaining();
        let mm = sys.mm();
        if timeval {
            mm.write(addr, &Timeval { tv_sec: left.as_secs() as i64, tv_usec: left.subsec_micros() as i64 }).is_ok()
        } else {
            mm.write(addr, &Timespec { tv_sec: left.as_secs() as i64, tv_nsec: left.subsec_nanos() as i64 }).is_ok()
        }
    };
    // Without the update the call cannot be restarted with the time left.
    if !written && ret == Err(Errno::ERESTARTNOHAND) {
        return Err(Errno::EINTR);
    }
    ret
}

fn read_timespec_timeout(sys: &Sys, addr: u64) -> KResult<Timeout> {
    if addr == 0 {
        return Ok(Timeout::Never);
    }
    let ts: Timespec = sys.mm().read(addr)?;
    Timeout::from_timespec(ts.tv_sec, ts.tv_nsec)
}

fn sys_ppoll(sys: &mut Sys) -> KResult<u64> {
    let (fds, nfds, ts_addr, mask_addr, mask_size) = (sys.arg(0), sys.arg_u32(1), sys.arg(2), sys.arg(3), sys.arg(4));
    let timeout = read_timespec_timeout(sys, ts_addr)?;
    set_user_sigmask(sys, mask_addr, mask_size)?;
    let ret = do_sys_poll(sys, fds, nfds, timeout);
    poll_select_finish(sys, timeout, ts_addr, false, ret)
}

// ---- select and pselect6 ----

/// The fd table's capacity as select sees it (Linux's fdt->max_fds: at
/// least 64, grown in powers of two).
fn max_fds(task: &Task) -> usize {
    let top = task.files().fds().last().map_or(0, |&fd| fd as usize + 1);
    top.next_power_of_two().max(64)
}

/// Linux's core_sys_select: `n` clamped to the table, the three sets read,
/// EBADF for a set bit naming no open fd, then the wait.
fn core_sys_select(sys: &Sys, n: i32, addrs: [u64; 3], timeout: Timeout) -> KResult<u64> {
    if n < 0 {
        return Err(Errno::EINVAL);
    }
    let task = sys.task;
    let n = (n as usize).min(max_fds(task));
    let words = n.div_ceil(64);
    let mm = sys.mm();
    let mut sets = [vec![0u64; words], vec![0u64; words], vec![0u64; words]];
    for (set, &addr) in sets.iter_mut().zip(addrs.iter()) {
        if addr != 0 && words > 0 {
            let raw = mm.read_bytes(addr, words * 8)?;
            for (w, chunk) in set.iter_mut().zip(raw.chunks_exact(8)) {
                *w = u64::from_ne_bytes(chunk.try_into().unwrap_or([0; 8]));
            }
            // Bits at or past n are not looked at.
            if n % 64 != 0 {
                set[words - 1] &= (1u64 << (n % 64)) - 1;
            }
        }
    }
    // (fd, which sets ask for it, file).
    let mut entries: Vec<(usize, [bool; 3], Option<Arc<File>>)> = Vec::new();
    {
        let files = task.files();
        for fd in 0..n {
            let (w, b) = (fd / 64, 1u64 << (fd % 64));
            let want = [sets[0][w] & b != 0, sets[1][w] & b != 0, sets[2][w] & b != 0];
            if !want.iter().any(|&x| x) {
                continue;
            }
            let file = files.get(fd as i32).map_err(|_| Errno::EBADF)?;
            // Unlike poll, select polls O_PATH files like any other
            // (they answer with the default mask).
            entries.push((fd, want, Some(file)));
        }
    }
    let files: Vec<Arc<File>> = entries.iter().filter_map(|e| e.2.clone()).collect();
    let scan = || -> (usize, [Vec<u64>; 3]) {
        let mut res = [vec![0u64; words], vec![0u64; words], vec![0u64; words]];
        let mut count = 0;
        for (fd, want, file) in &entries {
            let Some(f) = file else { continue };
            let mask = f.ops.poll(f);
            let (w, b) = (fd / 64, 1u64 << (fd % 64));
            for (k, set) in [POLLIN_SET, POLLOUT_SET, POLLEX_SET].iter().enumerate() {
                if want[k] && mask & set != 0 {
                    res[k][w] |= b;
                    count += 1;
                }
            }
        }
        (count, res)
    };
    let found = wait_ready(&files, &[], timeout, || {
        let (count, res) = scan();
        (count > 0).then_some((count, res))
    })?;
    let (count, res) = match found {
        Some(r) => r,
        None => {
            // Nothing ready: a pending signal still makes it EINTR-ish,
            // even for a zero timeout (Linux: core_sys_select).
            if task.signal_pending() {
                return Err(Errno::ERESTARTNOHAND);
            }
            (0, [vec![0u64; words], vec![0u64; words], vec![0u64; words]])
        }
    };
    for (set, &addr) in res.iter().zip(addrs.iter()) {
        if addr != 0 && words > 0 {
            let bytes: Vec<u8> = set.iter().flat_map(|w| w.to_ne_bytes()).collect();
            mm.write_bytes(addr, &bytes)?;
        }
    }
    Ok(count as u64)
}

fn sys_select(sys: &mut Sys) -> KResult<u64> {
    let tv_addr = sys.arg(4);
    let timeout = if tv_addr != 0 {
        let tv: Timeval = sys.mm().read(tv_addr)?;
        if tv.tv_sec < 0 || tv.tv_usec < 0 {
            return Err(Errno::EINVAL);
        }
        // select accepts tv_usec of a second or more and carries it over;
        // a carry that overflows tv_sec is a negative time (EINVAL), as in
        // Linux's kern_select.
        Timeout::from_timespec(tv.tv_sec.wrapping_add(tv.tv_usec / 1_000_000), (tv.tv_usec % 1_000_000) * 1000)?
    } else {
        Timeout::Never
    };
    let ret = core_sys_select(sys, sys.arg_i32(0), [sys.arg(1), sys.arg(2), sys.arg(3)], timeout);
    poll_select_finish(sys, timeout, tv_addr, true, ret)
}

fn sys_pselect6(sys: &mut Sys) -> KResult<u64> {
    let (ts_addr, pack_addr) = (sys.arg(4), sys.arg(5));
    // The sixth argument is { const sigset_t *ss; size_t ss_len; }.
    let (mask_addr, mask_size) = if pack_addr != 0 {
        let pack: [u64; 2] = sys.mm().read(pack_addr)?;
        (pack[0], pack[1])
    } else {
        (0, 0)
    };
    let timeout = read_timespec_timeout(sys, ts_addr)?;
    set_user_sigmask(sys, mask_addr, mask_size)?;
    let ret = core_sys_select(sys, sys.arg_i32(0), [sys.arg(1), sys.arg(2), sys.arg(3)], timeout);
    poll_select_finish(sys, timeout, ts_addr, false, ret)
}

// ---- epoll ----

/// `struct epoll_event` is packed on x86-64: u32 events, u64 data.
const EPOLL_EVENT_SIZE: usize = 12;
/// Linux's EP_MAX_EVENTS: INT_MAX / sizeof(struct epoll_event).
const EP_MAX_EVENTS: i32 = i32::MAX / EPOLL_EVENT_SIZE as i32;
/// The end of the user address range (access_ok).
const USER_END: u64 = 0x7fff_ffff_f000;

fn install_epoll(sys: &Sys, cloexec: bool) -> KResult<u64> {
    let file = crate::fs::epoll::create_epoll();
    let limit = sys.task.rlimit(RLIMIT_NOFILE).cur;
    Ok(sys.task.files().install(file, cloexec, 0, limit)? as u64)
}

fn sys_epoll_create(sys: &mut Sys) -> KResult<u64> {
    if sys.arg_i32(0) <= 0 {
        return Err(Errno::EINVAL);
    }
    install_epoll(sys, false)
}

fn sys_epoll_create1(sys: &mut Sys) -> KResult<u64> {
    let flags = sys.arg_u32(0);
    if flags & !O_CLOEXEC != 0 {
        return Err(Errno::EINVAL);
    }
    install_epoll(sys, flags & O_CLOEXEC != 0)
}

fn epoll_of(file: &File) -> Option<&EventPoll> {
    file.ops.as_any().and_then(|a| a.downcast_ref::<EventPoll>())
}

/// epoll_ctl in Linux's order: EFAULT for the event, EBADF for either fd,
/// EPERM for a file without poll, EINVAL for a non-epoll or self target and
/// misused EPOLLEXCLUSIVE, then ELOOP/EEXIST/ENOENT from the instance.
fn sys_epoll_ctl(sys: &mut Sys) -> KResult<u64> {
    let (epfd, op, fd, event_addr) = (sys.arg_i32(0), sys.arg_i32(1), sys.arg_i32(2), sys.arg(3));
    let has_event = op != EPOLL_CTL_DEL;
    let (events, data) = if has_event {
        let raw: [u8; EPOLL_EVENT_SIZE] = sys.mm().read(event_addr)?;
        let events = u32::from_ne_bytes([raw[0], raw[1], raw[2], raw[3]]);
        let data = u64::from_ne_bytes(raw[4..12].try_into().unwrap_or([0; 8]));
        (events, data)
    } else {
        (0, 0)
    };
    let (ep_file, target) = {
        let files = sys.task.files();
        (files.get(epfd)?, files.get(fd)?)
    };
    if target.flags() & O_PATH != 0 || ep_file.flags() & O_PATH != 0 {
        return Err(Errno::EBADF);
    }
    if !target.ops.can_poll() {
        return Err(Errno::EPERM);
    }
    let ep = epoll_of(&ep_file).ok_or(Errno::EINVAL)?;
    if Arc::ptr_eq(&ep_file, &target) {
        return Err(Errno::EINVAL);
    }
    if has_event && events & EPOLLEXCLUSIVE != 0 {
        if op == EPOLL_CTL_MOD || (op == EPOLL_CTL_ADD && (epoll_of(&target).is_some() || events & !EPOLLEXCLUSIVE_OK_BITS != 0)) {
            return Err(Errno::EINVAL);
        }
    }
    if !matches!(op, EPOLL_CTL_ADD | EPOLL_CTL_DEL | EPOLL_CTL_MOD) {
        return Err(Errno::EINVAL);
    }
    ep.ctl(op, fd, &target, (events, data))?;
    Ok(0)
}

/// Linux's do_epoll_wait and ep_poll: EINVAL for maxevents, EFAULT for the
/// buffer, EBADF/EINVAL for epfd; a signal ends the wait with EINTR (epoll
/// is never restarted).
fn do_epoll_wait(sys: &Sys, epfd: i32, addr: u64, maxevents: i32, timeout: Timeout) -> KResult<u64> {
    if maxevents <= 0 || maxevents > EP_MAX_EVENTS {
        return Err(Errno::EINVAL);
    }
    let len = maxevents as u64 * EPOLL_EVENT_SIZE as u64;
    if addr.checked_add(len).is_none_or(|end| end > USER_END) {
        return Err(Errno::EFAULT);
    }
    let file = sys.task.files().get(epfd)?;
    let ep = epoll_of(&file).ok_or(Errno::EINVAL)?;
    let max = maxevents as usize;
    // The instance's queue hears of every watched file and of epoll_ctl;
    // only files without a wait queue (the host console) need a re-poll.
    let deadline = match timeout {
        Timeout::Now => None,
        t => Some(t.deadline()),
    };
    let events = loop {
        let Some(deadline) = deadline else { break ep.collect(max) };
        let tick = ep.has_unqueued_items().then(|| Instant::now() + REPOLL_INTERVAL);
        let until = match (tick, deadline) {
            (Some(t), Some(d)) => Some(t.min(d)),
            (t, d) => t.or(d),
        };
        let found = wait_any(&[ep.waiters()], until, || {
            let ready = ep.collect(max);
            Ok((!ready.is_empty()).then_some(ready))
        });
        match found {
            Ok(ready) => break ready,
            Err(Errno::ETIMEDOUT) if deadline.is_none_or(|d| Instant::now() < d) => continue,
            Err(Errno::ETIMEDOUT) => break Vec::new(),
            Err(Errno::ERESTARTSYS) => return Err(Errno::EINTR),
            Err(e) => return Err(e),
        }
    };
    let mut raw = Vec::with_capacity(events.len() * EPOLL_EVENT_SIZE);
    for (ev, data) in &events {
        raw.extend_from_slice(&ev.to_ne_bytes());
        raw.extend_from_slice(&data.to_ne_bytes());
    }
    if !raw.is_empty() {
        sys.mm().write_bytes(addr, &raw)?;
    }
    Ok(events.len() as u64)
}

fn ms_timeout(ms: i32) -> Timeout {
    if ms < 0 { Timeout::Never } else { Timeout::from_duration(Duration::from_millis(ms as u64)) }
}

fn sys_epoll_wait(sys: &mut Sys) -> KResult<u64> {
    do_epoll_wait(sys, sys.arg_i32(0), sys.arg(1), sys.arg_i32(2), ms_timeout(sys.arg_i32(3)))
}

/// epoll_pwait/epoll_pwait2: the temporary mask stays for the handler when
/// a signal interrupted (EINTR), else it ends here.
fn epoll_pwait_common(sys: &Sys, timeout: Timeout, mask_addr: u64, mask_size: u64) -> KResult<u64> {
    set_user_sigmask(sys, mask_addr, mask_size)?;
    let ret = do_epoll_wait(sys, sys.arg_i32(0), sys.arg(1), sys.arg_i32(2), timeout);
    if ret != Err(Errno::EINTR) {
        let mut s = sys.task.signals.lock();
        if let Some(m) = s.saved_mask.take() {
            s.blocked = m;
        }
    }
    ret
}

fn sys_epoll_pwait(sys: &mut Sys) -> KResult<u64> {
    epoll_pwait_common(sys, ms_timeout(sys.arg_i32(3)), sys.arg(4), sys.arg(5))
}

fn sys_epoll_pwait2(sys: &mut Sys) -> KResult<u64> {
    let timeout = read_timespec_timeout(sys, sys.arg(3))?;
    epoll_pwait_common(sys, timeout, sys.arg(4), sys.arg(5))
}
