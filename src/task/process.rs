//! Processes (thread groups): parent and children, process group and
//! session, the shared pending signals, job-control stop state and the
//! zombie left for wait(). A process lives in the kernel's process table
//! from fork until its parent reaps it.

use parking_lot::{Mutex, MutexGuard};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use crate::abi::signal::{CLD_CONTINUED, SIGCHLD, SIGCONT};
use crate::sched::wait::WaitQueue;
use crate::signal::SigPending;
use crate::task::Task;

pub use crate::task::itimer::{CpuTimer, RealTimer};

/// Where a process is in its life, as wait() reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lifecycle {
    Running,
    /// Stopped by `signal`; `complete` once every thread has parked for
    /// the stop (only then do the parent and wait() hear of it, as with
    /// Linux's group stop); `reported` once a waiter has seen it.
    Stopped {
        signal: i32,
        complete: bool,
        reported: bool,
    },
    /// Dead; `status` is the wait status word.
    Zombie {
        status: i32,
    },
}

pub struct ProcessState {
    pub lifecycle: Lifecycle,
    /// Continued since the last WCONTINUED report.
    pub continued: bool,
    /// CPU time (ns) of the dead, for the parent's rusage.
    pub user_ns: u64,
    pub system_ns: u64,
    /// CPU time of reaped children (RUSAGE_CHILDREN, times()).
    pub children_user_ns: u64,
    pub children_system_ns: u64,
    /// CPU time of the process's threads that have exited.
    pub dead_threads_user_ns: u64,
    pub dead_threads_system_ns: u64,
}

pub struct Process {
    pub tgid: i32,
    parent: Mutex<Weak<Process>>,
    parent_tgid: AtomicI32,
    /// The thread of the parent that is this process's real parent (the
    /// one that forked it, or the one it was handed to): __WNOTHREAD waits
    /// and PR_SET_PDEATHSIG follow the thread, not the process.
    parent_thread: AtomicI32,
    pub children: Mutex<Vec<Arc<Process>>>,
    pgid: AtomicI32,
    sid: AtomicI32,
    pub state: Mutex<ProcessState>,
    pub shared_pending: Mutex<SigPending>,
    /// The signal sent to the parent on exit (SIGCHLD for fork).
    pub exit_signal: AtomicI32,
    /// Woken when a child changes state (wait4 sleeps here).
    pub child_events: WaitQueue,
    pub child_subreaper: AtomicBool,
    /// init's protection from default actions, lifted by a forced fault.
    init_unprotected: AtomicBool,
    pub real_timer: Mutex<Option<RealTimer>>,
    /// [ITIMER_VIRTUAL, ITIMER_PROF], checked by a sampling timer.
    pub cpu_timers: Mutex<[Option<CpuTimer>; 2]>,
    pub cpu_timer_sampling: AtomicBool,
    /// The live threads, oldest (the leader, while it lives) first.
    threads: Mutex<Vec<Weak<Task>>>,
    /// Set when the whole group exits (exit_group, a fatal signal): the
    /// wait status every thread dies with.
    group_exit: Mutex<Option<i32>>,
    /// The thread whose execve is ending the others (0: none).
    exec_tid: AtomicI32,
    /// While a thread dumps core: the registers of the other threads, each
    /// left here as it dies (Linux's core_state).
    core_threads: Mutex<Option<Vec<crate::task::coredump::ThreadState>>>,
    /// Woken when a thread exits (an exec waits for the others to go).
    pub thread_exited: WaitQueue,
    /// OOM adjustment, core-dump filter, dumpability (see `task::limits`).
    pub limits: crate::task::limits::ProcessLimits,
    /// membarrier(2) registrations of the address space (reset by exec).
    pub membarrier_registrations: std::sync::atomic::AtomicU32,
    /// POSIX timers (timer_create).
    pub posix_timers: Mutex<crate::task::posix_timer::PosixTimers>,
    /// Woken when the process exits and when it is reaped (pidfd pollers).
    pub exit_waiters: WaitQueue,
    /// The number of the latest group stop; a thread whose
    /// `Task::stop_parked` differs must still park for it.
    stop_seq: AtomicU64,
    /// A group stop is in force (set with `Lifecycle::Stopped`, cleared by
    /// SIGCONT): read without the state lock by `Task::signal_pending`.
    stop_active: AtomicBool,
}

impl Process {
    pub fn new(tgid: i32, parent: Option<&Arc<Process>>, pgid: i32, sid: i32) -> Arc<Process> {
        Arc::new(Process {
            tgid,
            parent: Mutex::new(parent.map(Arc::downgrade).unwrap_or_default()),
            parent_tgid: AtomicI32::new(parent.map(|p| p.tgid).unwrap_or(0)),
            parent_thread: AtomicI32::new(parent.map(|p| p.tgid).unwrap_or(0)),
            children: Mutex::new(Vec::new()),
            pgid: AtomicI32::new(pgid),
            sid: AtomicI32::new(sid),
            state: Mutex::new(ProcessState {
                lifecycle: Lifecycle::Running,
                continued: false,
                user_ns: 0,
                system_ns: 0,
                children_user_ns: 0,
                children_system_ns: 0,
                dead_threads_user_ns: 0,
                dead_threads_system_ns: 0,
            }),
            shared_pending: Mutex::new(SigPending::default()),
            exit_signal: AtomicI32::new(SIGCHLD),
            child_events: WaitQueue::new(),
            child_subreaper: AtomicBool::new(false),
            init_unprotected: AtomicBool::new(false),
            real_timer: Mutex::new(None),
            cpu_timers: Mutex::new([None, None]),
            cpu_timer_sampling: AtomicBool::new(false),
            threads: Mutex::new(Vec::new()),
            group_exit: Mutex::new(None),
            exec_tid: AtomicI32::new(0),
            core_threads: Mutex::new(None),
            stop_seq: AtomicU64::new(0),
            stop_active: AtomicBool::new(false),
            thread_exited: WaitQueue::new(),
            limits: Default::default(),
            membarrier_registrations: std::sync::atomic::AtomicU32::new(0),
            posix_timers: Mutex::new(Default::default()),
            exit_waiters: WaitQueue::new(),
        })
    }

    pub fn is_init(&self) -> bool {
        self.tgid == 1
    }

    pub fn init_protection_lifted(&self) -> bool {
        self.init_unprotected.load(Ordering::Relaxed)
    }

    pub fn lift_init_protection(&self) {
        self.init_unprotected.store(true, Ordering::Relaxed);
    }

    pub fn pgid(&self) -> i32 {
        self.pgid.load(Ordering::Relaxed)
    }

    pub fn set_pgid(&self, pgid: i32) {
        self.pgid.store(pgid, Ordering::Relaxed)
    }

    pub fn sid(&self) -> i32 {
        self.sid.load(Ordering::Relaxed)
    }

    pub fn set_sid(&self, sid: i32) {
        self.sid.store(sid, Ordering::Relaxed)
    }

    pub fn ppid(&self) -> i32 {
        self.parent_tgid.load(Ordering::Relaxed)
    }

    pub fn parent(&self) -> Option<Arc<Process>> {
        self.parent.lock().upgrade()
    }

    pub fn set_parent(&self, parent: &Arc<Process>) {
        *self.parent.lock() = Arc::downgrade(parent);
        self.parent_tgid.store(parent.tgid, Ordering::Relaxed);
        let thread = parent.leader().map(|t| t.tid()).unwrap_or(parent.tgid);
        self.parent_thread.store(thread, Ordering::Relaxed);
    }

    /// The tid of the parent's thread that is this process's real parent.
    pub fn parent_thread(&self) -> i32 {
        self.parent_thread.load(Ordering::Relaxed)
    }

    pub fn set_parent_thread(&self, tid: i32) {
        self.parent_thread.store(tid, Ordering::Relaxed);
    }

    pub fn state(&self) -> MutexGuard<'_, ProcessState> {
        self.state.lock()
    }

    /// A live thread to act on for the whole process: the leader while it
    /// lives, else the oldest other thread. None once every thread ended.
    pub fn leader(&self) -> Option<Arc<Task>> {
        self.threads.lock().iter().find_map(|w| w.upgrade())
    }

    /// The live threads, oldest first.
    pub fn threads(&self) -> Vec<Arc<Task>> {
        self.threads.lock().iter().filter_map(|w| w.upgrade()).collect()
    }

    pub fn thread_count(&self) -> usize {
        self.threads.lock().len()
    }

    /// Adds a new thread. One that joins while the group is exiting (a
    /// clone racing an exit_group or a fatal signal) gets the SIGKILL its
    /// siblings got: start_group_exit marks the group before it walks the
    /// threads, so each new thread is either in that walk or sees the mark.
    pub fn add_thread(&self, task: &Arc<Task>) {
        self.threads.lock().push(Arc::downgrade(task));
        if self.group_exiting() {
            task.signals.lock().pending.add(crate::signal::SigInfo::kernel(crate::abi::signal::SIGKILL));
            task.notify_signal();
        }
    }

    /// Takes `task` out of the live threads; returns how many remain (the
    /// one that sees 0 ends the process).
    pub fn remove_thread(&self, task: &Task) -> usize {
        let mut threads = self.threads.lock();
        threads.retain(|w| !std::ptr::eq(w.as_ptr(), task));
        threads.len()
    }

    /// Starts a group exit with wait status `status` unless one is already
    /// under way; every other thread is killed. Returns the status the
    /// group exits with (the first one set).
    pub fn start_group_exit(&self, me: &Task, status: i32) -> i32 {
        let status = *self.group_exit.lock().get_or_insert(status);
        for t in self.threads() {
            if !std::ptr::eq(&*t, me) {
                t.signals.lock().pending.add(crate::signal::SigInfo::kernel(crate::abi::signal::SIGKILL));
                t.notify_signal();
            }
        }
        status
    }

    /// Overrides the group's exit status (a core dump knows only at the
    /// end whether the core was written).
    pub fn set_group_exit_status(&self, status: i32) {
        *self.group_exit.lock() = Some(status);
    }

    /// A thread starts dumping core: the others, as they die, leave their
    /// state for the core file.
    pub fn begin_core_collection(&self) {
        *self.core_threads.lock() = Some(Vec::new());
    }

    pub fn collecting_core(&self) -> bool {
        self.core_threads.lock().is_some()
    }

    /// A dying thread's state, if a core dump is collecting it.
    pub fn offer_core_state(&self, state: crate::task::coredump::ThreadState) {
        if let Some(v) = self.core_threads.lock().as_mut() {
            v.push(state);
        }
    }

    /// The states collected for the core (empty without a collection).
    pub fn take_core_states(&self) -> Vec<crate::task::coredump::ThreadState> {
        self.core_threads.lock().take().unwrap_or_default()
    }

    /// Is the whole group exiting?
    pub fn group_exiting(&self) -> bool {
        self.group_exit.lock().is_some()
    }

    pub fn group_exit_status(&self) -> Option<i32> {
        *self.group_exit.lock()
    }

    /// The thread whose exec is ending the others, if any.
    pub fn exec_tid(&self) -> i32 {
        self.exec_tid.load(Ordering::Acquire)
    }

    /// Marks `tid`'s exec as the one ending the other threads; false if
    /// another thread's exec got there first.
    pub fn claim_exec(&self, tid: i32) -> bool {
        self.exec_tid.compare_exchange(0, tid, Ordering::AcqRel, Ordering::Acquire).is_ok()
    }

    pub fn set_exec_tid(&self, tid: i32) {
        self.exec_tid.store(tid, Ordering::Release)
    }

    pub fn discard_pending(&self, mask: u64) {
        self.shared_pending.lock().discard(mask);
        for t in self.threads() {
            t.signals.lock().pending.discard(mask);
        }
    }

    /// SIGCONT: a stopped process runs again; its parent hears of it
    /// (CLD_CONTINUED) unless it asked not to (SA_NOCLDSTOP).
    pub fn continue_if_stopped(self: &Arc<Process>, _task: &Arc<Task>) {
        let was_stopped = {
            let mut st = self.state();
            if matches!(st.lifecycle, Lifecycle::Stopped { .. }) {
                st.lifecycle = Lifecycle::Running;
                self.stop_active.store(false, Ordering::SeqCst);
                st.continued = true;
                true
            } else {
                false
            }
        };
        if was_stopped {
            for t in self.threads() {
                t.sleeper.wake();
            }
            crate::task::exit::notify_parent(self, CLD_CONTINUED, SIGCONT);
        }
    }

    pub fn is_stopped(&self) -> bool {
        matches!(self.state().lifecycle, Lifecycle::Stopped { .. })
    }

    /// Starts a group stop by `signal` (under the state lock): every
    /// thread must park for it before the parent hears of it.
    pub fn begin_group_stop(&self, st: &mut ProcessState, signal: i32) {
        self.stop_seq.fetch_add(1, Ordering::SeqCst);
        st.lifecycle = Lifecycle::Stopped { signal, complete: false, reported: false };
        st.continued = false;
        self.stop_active.store(true, Ordering::SeqCst);
    }

    /// Does `task` still have to park for a group stop in force? (A
    /// pending signal for its waits, as JOBCTL_STOP_PENDING is on Linux.)
    pub fn group_stop_pending_for(&self, task: &Task) -> bool {
        self.stop_active.load(Ordering::SeqCst) && task.stop_parked.load(Ordering::SeqCst) != self.stop_seq.load(Ordering::SeqCst)
    }

    /// Records that `task` parked for the group stop in force (under the
    /// state lock) and returns the stop signal when that completes the
    /// stop, for the caller to tell the parent once the lock is dropped.
    pub fn park_for_group_stop(&self, st: &mut ProcessState, task: &Task) -> Option<i32> {
        if matches!(st.lifecycle, Lifecycle::Stopped { complete: false, .. }) {
            task.stop_parked.store(self.stop_seq.load(Ordering::SeqCst), Ordering::SeqCst);
        }
        self.complete_group_stop(st)
    }

    /// Completes a group stop once every live thread has parked for it
    /// (also called when a thread that had not exits); returns the stop
    /// signal when this call completed it.
    pub fn complete_group_stop(&self, st: &mut ProcessState) -> Option<i32> {
        let Lifecycle::Stopped { signal, complete: false, reported } = st.lifecycle else { return None };
        let seq = self.stop_seq.load(Ordering::SeqCst);
        if !self.threads().iter().all(|t| t.stop_parked.load(Ordering::SeqCst) == seq) {
            return None;
        }
        st.lifecycle = Lifecycle::Stopped { signal, complete: true, reported };
        Some(signal)
    }
}
