//! The task a kernel thread runs, as the layers below the task layer see
//! it: enough to sleep interruptibly, check permissions, reach guest
//! memory, and raise the signals a subsystem owes the caller (SIGPIPE,
//! SIGXFSZ, SIGTTOU). The task layer implements `CurrentTask` and installs
//! it when a kernel thread starts running a task.

use std::cell::RefCell;
use std::sync::{Arc, Weak};

use crate::abi::Rlimit;
use crate::mm::Mm;
use crate::sched::Creds;
use crate::sched::wait::{Sleeper, WaitQueue};

pub trait CurrentTask: Send + Sync {
    fn tid(&self) -> i32;
    fn tgid(&self) -> i32;
    fn pgid(&self) -> i32;
    fn sid(&self) -> i32;
    fn creds(&self) -> Creds;
    fn mm(&self) -> Arc<Mm>;
    fn rlimit(&self, resource: usize) -> Rlimit;
    /// Where this task's kernel thread sleeps.
    fn sleeper(&self) -> &Arc<Sleeper>;
    /// A signal is deliverable, or the task is being killed: every
    /// interruptible wait ends.
    fn signal_pending(&self) -> bool;
    /// SIGKILL is pending: even uninterruptible-by-signal waits end.
    fn fatal_signal_pending(&self) -> bool;
    /// Is `sig` blocked by this task, or ignored by its process?
    fn signal_blocked_or_ignored(&self, sig: i32) -> bool;
    /// Sends `sig` to this task alone, from the kernel on the task's own
    /// behalf (Linux's send_sig(sig, current, 0): SI_USER from itself).
    fn send_signal_to_self(&self, sig: i32);
    /// Takes the lowest-numbered signal in `mask` pending for this task
    /// (its own first, then its process's) whether blocked or not, as a
    /// guest siginfo (signalfd's read; Linux's dequeue_signal).
    fn dequeue_signal(&self, mask: u64) -> Option<[u8; 128]>;
    /// The signals pending for this task or its process (signalfd's poll).
    fn pending_signals(&self) -> u64;
}

/// Woken whenever a signal is queued for any task, so that pollers of a
/// signalfd (which may sleep on behalf of another task, through epoll)
/// look again. Linux keeps one such queue per signal-handler table; one
/// for the machine costs a spurious re-poll at most.
pub fn signal_queued() -> &'static WaitQueue {
    static QUEUE: WaitQueue = WaitQueue::new();
    &QUEUE
}

thread_local! {
    static CURRENT: RefCell<Option<Weak<dyn CurrentTask>>> = const { RefCell::new(None) };
}

/// Records the task this kernel thread runs.
pub fn set_current(task: Weak<dyn CurrentTask>) {
    CURRENT.with(|c| *c.borrow_mut() = Some(task));
}

/// The task the calling kernel thread runs, if any (None at boot and on
/// vkernel's own service threads).
pub fn current() -> Option<Arc<dyn CurrentTask>> {
    CURRENT.with(|c| c.borrow().as_ref().and_then(|w| w.upgrade()))
}
