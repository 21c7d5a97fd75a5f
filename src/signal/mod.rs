//! Signal state and sending: dispositions (shared by CLONE_SIGHAND), pending
//! sets (per task and per process), `siginfo`, and the rules for which
//! signals are dropped at send time. Delivery to handlers (frames,
//! sigreturn) lives in `frame.rs` and the run loop.

pub mod frame;

use std::collections::VecDeque;
use std::sync::Arc;

use crate::abi::signal::{
    NSIG, SI_KERNEL, SI_USER, SIG_DFL, SIG_IGN, SIGABRT, SIGBUS, SIGCHLD, SIGCONT, SIGFPE, SIGILL, SIGKILL, SIGQUIT, SIGRTMIN, SIGSEGV, SIGSTOP, SIGSYS,
    SIGTRAP, SIGTSTP, SIGTTIN, SIGTTOU, SIGURG, SIGWINCH, SIGXCPU, SIGXFSZ,
};
use crate::abi::{Errno, KResult, KSigaction};
use crate::task::Task;
use crate::task::system::System as Kernel;

/// The mask bit of signal `sig` (1-based).
pub fn sigbit(sig: i32) -> u64 {
    1u64 << (sig - 1)
}

/// Signals that can be neither caught, blocked nor ignored.
pub const UNBLOCKABLE: u64 = (1 << (SIGKILL - 1)) | (1 << (SIGSTOP - 1));
/// Signals whose default action stops the process.
pub const STOP_SIGNALS: u64 = (1 << (SIGSTOP - 1)) | (1 << (SIGTSTP - 1)) | (1 << (SIGTTIN - 1)) | (1 << (SIGTTOU - 1));

/// What a signal does when its handler is SIG_DFL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultAction {
    Terminate,
    CoreDump,
    Stop,
    Continue,
    Ignore,
}

pub fn default_action(sig: i32) -> DefaultAction {
    match sig {
        SIGCHLD | SIGURG | SIGWINCH => DefaultAction::Ignore,
        SIGCONT => DefaultAction::Continue,
        SIGSTOP | SIGTSTP | SIGTTIN | SIGTTOU => DefaultAction::Stop,
        SIGQUIT | SIGILL | SIGTRAP | SIGABRT | SIGBUS | SIGFPE | SIGSEGV | SIGXCPU | SIGXFSZ | SIGSYS => DefaultAction::CoreDump,
        _ => DefaultAction::Terminate,
    }
}

/// A `siginfo_t` (128 bytes) in the guest's layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SigInfo {
    pub bytes: [u8; 128],
}

impl SigInfo {
    pub fn new(signo: i32, code: i32) -> SigInfo {
        let mut s = SigInfo { bytes: [0; 128] };
        s.put_i32(0, signo);
        s.put_i32(8, code);
        s
    }

    /// A signal the kernel itself sends (SI_KERNEL).
    pub fn kernel(signo: i32) -> SigInfo {
        SigInfo::new(signo, SI_KERNEL)
    }

    /// kill(2) and friends: the sender's pid and real uid.
    pub fn user(signo: i32, code: i32, pid: i32, uid: u32) -> SigInfo {
        let mut s = SigInfo::new(signo, code);
        s.put_i32(16, pid);
        s.put_i32(20, uid as i32);
        s
    }

    /// A fault (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP) at `addr`.
    pub fn fault(signo: i32, code: i32, addr: u64) -> SigInfo {
        let mut s = SigInfo::new(signo, code);
        s.bytes[16..24].copy_from_slice(&addr.to_ne_bytes());
        s
    }

    /// SIGCHLD about a child: pid, uid, status, user and system ticks.
    pub fn child(code: i32, pid: i32, uid: u32, status: i32, utime: i64, stime: i64) -> SigInfo {
        let mut s = SigInfo::user(SIGCHLD, code, pid, uid);
        s.put_i32(24, status);
        s.bytes[32..40].copy_from_slice(&utime.to_ne_bytes());
        s.bytes[40..48].copy_from_slice(&stime.to_ne_bytes());
        s
    }

    /// A POSIX timer's signal (SI_TIMER): the timer id, the overrun count
    /// and the sigevent's value.
    pub fn timer(signo: i32, timer_id: i32, overrun: i32, value: u64) -> SigInfo {
        let mut s = SigInfo::new(signo, crate::abi::signal::SI_TIMER);
        s.put_i32(16, timer_id);
        s.put_i32(20, overrun);
        s.bytes[24..32].copy_from_slice(&value.to_ne_bytes());
        s
    }

    fn put_i32(&mut self, at: usize, v: i32) {
        self.bytes[at..at + 4].copy_from_slice(&v.to_ne_bytes());
    }

    pub fn signo(&self) -> i32 {
        i32::from_ne_bytes([self.bytes[0], self.bytes[1], self.bytes[2], self.bytes[3]])
    }

    pub fn code(&self) -> i32 {
        i32::from_ne_bytes([self.bytes[8], self.bytes[9], self.bytes[10], self.bytes[11]])
    }
}

/// Signals waiting for delivery. Standard signals are pending at most once;
/// real-time signals queue every instance, in order.
#[derive(Default, Clone)]
pub struct SigPending {
    pub set: u64,
    queue: VecDeque<SigInfo>,
}

impl SigPending {
    pub fn add(&mut self, info: SigInfo) {
        let sig = info.signo();
        if sig < SIGRTMIN && self.set & sigbit(sig) != 0 {
            return;
        }
        self.set |= sigbit(sig);
        self.queue.push_back(info);
    }

    /// Takes the lowest-numbered pending signal not in `blocked`.
    pub fn take(&mut self, blocked: u64) -> Option<SigInfo> {
        let ready = self.set & !blocked;
        if ready == 0 {
            return None;
        }
        let sig = ready.trailing_zeros() as i32 + 1;
        self.take_signal(sig)
    }

    /// Takes the first queued instance of `sig`.
    pub fn take_signal(&mut self, sig: i32) -> Option<SigInfo> {
        let i = self.queue.iter().position(|s| s.signo() == sig)?;
        let info = self.queue.remove(i)?;
        if !self.queue.iter().any(|s| s.signo() == sig) {
            self.set &= !sigbit(sig);
        }
        Some(info)
    }

    /// The first queued instance `pred` accepts (a POSIX timer finds its
    /// own pending signal to count an overrun in it).
    pub fn find_mut(&mut self, pred: impl Fn(&SigInfo) -> bool) -> Option<&mut SigInfo> {
        self.queue.iter_mut().find(|s| pred(s))
    }

    /// Drops the queued instances `pred` accepts (a deleted or re-armed
    /// POSIX timer's stale signal).
    pub fn remove_matching(&mut self, pred: impl Fn(&SigInfo) -> bool) {
        let before = self.queue.len();
        self.queue.retain(|s| !pred(s));
        if self.queue.len() != before {
            self.set = self.queue.iter().fold(0, |set, s| set | sigbit(s.signo()));
        }
    }

    /// Drops every pending instance of the signals in `mask`.
    pub fn discard(&mut self, mask: u64) {
        self.queue.retain(|s| mask & sigbit(s.signo()) == 0);
        self.set &= !mask;
    }
}

/// A thread group's signal dispositions.
#[derive(Clone)]
pub struct SignalActions {
    pub actions: [KSigaction; NSIG],
}

impl Default for SignalActions {
    fn default() -> Self {
        SignalActions { actions: [KSigaction::default(); NSIG] }
    }
}

impl SignalActions {
    pub fn get(&self, sig: i32) -> KSigaction {
        self.actions[(sig - 1) as usize]
    }

    /// execve: caught signals go back to default; ignored stay ignored.
    pub fn reset_for_exec(&mut self) {
        for a in self.actions.iter_mut() {
            if a.handler != SIG_IGN {
                *a = KSigaction::default();
            } else {
                a.flags = 0;
                a.mask = 0;
                a.restorer = 0;
            }
        }
    }

    /// Would `sig` be dropped at send time (ignored and not blocked)?
    pub fn ignores(&self, sig: i32) -> bool {
        let a = self.get(sig);
        a.handler == SIG_IGN || (a.handler == SIG_DFL && default_action(sig) == DefaultAction::Ignore)
    }
}

pub fn valid_signal(sig: i32) -> KResult<()> {
    if (1..=NSIG as i32).contains(&sig) { Ok(()) } else { Err(Errno::EINVAL) }
}

/// Queues `info` on one task (tkill, faults, SIGPIPE). Drops it when the
/// task ignores it; wakes the task so it notices.
pub fn send_to_task(task: &Arc<Task>, info: SigInfo) {
    let sig = info.signo();
    if !prepare_send(task, sig, false) {
        return;
    }
    task.signals.lock().pending.add(info);
    task.notify_signal();
}

/// Queues `info` on a process (kill): any of its threads may take it.
/// Queues a signal for the whole process of `target` (any of its
/// threads) and wakes a thread that will take it.
pub fn send_to_process(target: &Arc<Task>, info: SigInfo) {
    let sig = info.signo();
    if !prepare_send(target, sig, false) {
        return;
    }
    target.process.shared_pending.lock().add(info);
    complete_signal(target, sig);
}

/// Linux's complete_signal: a process-directed signal wakes one thread
/// that does not block it, `target` first; SIGKILL wakes them all. When
/// every thread blocks it, waiters that take it explicitly (sigwait) are
/// woken to look.
fn complete_signal(target: &Arc<Task>, sig: i32) {
    let wants = |t: &Task| t.signals.lock().blocked & sigbit(sig) & !UNBLOCKABLE == 0;
    if sig == SIGKILL {
        for t in target.process.threads() {
            t.notify_signal();
        }
        return;
    }
    if wants(target) {
        target.notify_signal();
        return;
    }
    let threads = target.process.threads();
    match threads.iter().find(|t| wants(t)) {
        Some(t) => t.notify_signal(),
        None => {
            threads.iter().for_each(|t| t.sleeper.wake());
            // signalfd pollers look too (notify_signal does this otherwise).
            crate::sched::current::signal_queued().wake_all();
        }
    }
}

pub fn force_on_task(task: &Arc<Task>, info: SigInfo) {
    let sig = info.signo();
    {
        let mut actions = task.sigactions();
        let blocked = task.signals.lock().blocked & sigbit(sig) != 0;
        let idx = (sig - 1) as usize;
        if blocked || actions.actions[idx].handler == SIG_IGN {
            actions.actions[idx].handler = SIG_DFL;
        }
        task.signals.lock().blocked &= !sigbit(sig);
    }
    task.signals.lock().pending.add(info);
    // A fault the process cannot handle kills even init (Linux clears
    // SIGNAL_UNKILLABLE in force_sig_info_to_task).
    task.process.lift_init_protection();
    task.notify_signal();
}

/// The send-time rules: SIGCONT resumes and drops pending stops, a stop
/// signal drops pending SIGCONT; ignored signals are dropped, and init
/// drops signals it has no handler for. Returns whether to queue it.
fn prepare_send(task: &Arc<Task>, sig: i32, _forced: bool) -> bool {
    let process = &task.process;
    if sig == SIGCONT {
        process.discard_pending(STOP_SIGNALS);
        process.continue_if_stopped(task);
    } else if STOP_SIGNALS & sigbit(sig) != 0 {
        process.discard_pending(sigbit(SIGCONT));
    }
    let actions = task.sigactions();
    let handler = actions.get(sig).handler;
    // Blocked signals are never dropped here: the handler may change
    // before they are unblocked (Linux's sig_ignored), nor those a
    // sigtimedwait waits for.
    let blocked = {
        let s = task.signals.lock();
        (s.blocked | s.real_blocked) & sigbit(sig) & !UNBLOCKABLE != 0
    };
    if blocked {
        return true;
    }
    // init drops what it does not handle, even SIGKILL from inside.
    if process.is_init() && handler == SIG_DFL && !process.init_protection_lifted() {
        return false;
    }
    sig == SIGKILL || !actions.ignores(sig)
}

/// kill(pid, sig) targets: a process, a process group, or everyone.
pub fn kill(kernel: &Arc<Kernel>, sender: &Arc<Task>, pid: i32, sig: i32) -> KResult<()> {
    if sig != 0 {
        valid_signal(sig)?;
    }
    let creds = sender.creds();
    let info = SigInfo::user(sig, SI_USER, sender.tgid, creds.uid);
    let targets: Vec<Arc<Task>> = match pid {
        // A thread id names its process, as in Linux.
        p if p > 0 => match kernel.process_leader(p).or_else(|| kernel.task(p).filter(|t| !t.process.group_exiting())) {
            Some(t) => vec![t],
            // A zombie still exists: signalling it succeeds and does nothing
            // (for the permission check its credentials are gone; allow).
            None if kernel.process(p).is_some() => return Ok(()),
            None => return Err(Errno::ESRCH),
        },
        0 => kernel.process_group(sender.process.pgid()),
        -1 => kernel.all_process_leaders().into_iter().filter(|t| t.tgid != 1 && t.tgid != sender.tgid).collect(),
        p if p == i32::MIN => return Err(Errno::ESRCH),
        p => kernel.process_group(-p),
    };
    if targets.is_empty() {
        return Err(Errno::ESRCH);
    }
    let mut sent = false;
    let mut denied = false;
    for t in targets {
        if !may_signal(&creds, &t, sig) {
            denied = true;
            continue;
        }
        sent = true;
        if sig != 0 {
            send_to_process(&t, info);
        }
    }
    if sent {
        Ok(())
    } else if denied {
        Err(Errno::EPERM)
    } else {
        Err(Errno::ESRCH)
    }
}

/// Linux's kill_ok_by_cred: root, or a real/effective uid match with the
/// target's real or saved uid; SIGCONT within a session is always allowed.
pub fn may_signal(sender: &crate::sched::Creds, target: &Arc<Task>, sig: i32) -> bool {
    if sender.euid == 0 {
        return true;
    }
    let t = target.creds();
    if sender.euid == t.suid || sender.euid == t.uid || sender.uid == t.suid || sender.uid == t.uid {
        return true;
    }
    sig == SIGCONT && crate::task::current().is_some_and(|me| me.process.sid() == target.process.sid())
}
