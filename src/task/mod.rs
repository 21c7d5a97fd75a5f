//! Tasks: a guest thread with its registers, address space, files, fs
//! context, credentials and signal state, driven by one kernel thread.
//! Lock order: never hold a task lock while calling into `Mm` or the VFS
//! except `files`/`fs`, which are leaves (see docs/architecture.md).

pub mod access;
pub mod coredump;
pub mod cpu_clock;
pub mod exec;
pub mod exit;
pub mod fork;
pub mod futex;
pub mod itimer;
pub mod limits;
pub mod oom;
pub mod pidfd;
pub mod posix_timer;
pub mod proc;
pub mod proc_files;
pub mod process;
pub mod sched;
pub mod session;
pub mod system;
pub mod wait;

use parking_lot::Mutex;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};

use crate::abi::resource::RLIM_NLIMITS;
use crate::abi::signal::SIGKILL;
use crate::abi::{Rlimit, Sigaltstack};
use crate::fs::FsContext;
use crate::fs::file::FdTable;
use crate::mm::Mm;
use crate::signal::SignalActions;
use crate::task::system::System;

pub use crate::sched::Creds;

/// What restart_syscall resumes (Linux's restart_block): a call that was
/// interrupted with ERESTART_RESTARTBLOCK continues with its original
/// deadline after a stop or a signal without a handler.
#[derive(Clone, Copy, Debug)]
pub enum RestartBlock {
    /// A relative sleep (nanosleep, clock_nanosleep) until `deadline`; the
    /// time left goes to `rem_addr` when interrupted again.
    Sleep { deadline: crate::sched::time::Deadline, rem_addr: u64 },
    /// A futex wait with a timeout (Linux's futex_wait_restart).
    /// `realtime`: the deadline is that CLOCK_REALTIME time (it moves when
    /// the clock is set).
    FutexWait { uaddr: u64, val: u32, bitset: u32, deadline: crate::sched::time::Deadline, realtime: Option<i128>, private: bool },
    /// poll(2) on `nfds` entries at `fds` until `deadline` (None: no
    /// timeout), as Linux's do_restart_poll.
    Poll { fds: u64, nfds: u32, deadline: Option<crate::sched::time::Deadline> },
}

/// Per-task signal state: the blocked mask, signals pending for this task
/// alone, and the alternate stack.
#[derive(Clone, Default)]
pub struct TaskSignals {
    pub blocked: u64,
    /// The mask rt_sigtimedwait unblocked its set from, while it waits
    /// (Linux's real_blocked): a signal blocked there is never dropped as
    /// ignored, even though `blocked` lets it through to wake the waiter.
    pub real_blocked: u64,
    pub pending: crate::signal::SigPending,
    pub altstack: Sigaltstack,
    /// The mask to restore after a handler runs for rt_sigsuspend/pselect.
    pub saved_mask: Option<u64>,
    /// The address of the last fault, for the SIGSEGV frame's cr2.
    pub fault_addr: u64,
}

pub struct Task {
    /// Changes once at most: a non-leader thread that execs takes the
    /// thread group's id (see `exec::de_thread`).
    tid: AtomicI32,
    pub tgid: i32,
    pub system: Arc<System>,
    pub process: Arc<process::Process>,
    /// Where this task's kernel thread sleeps when blocked.
    pub sleeper: Arc<crate::sched::wait::Sleeper>,
    /// Interrupts the guest while it runs (set by the run loop).
    pub interrupter: Mutex<Option<Arc<dyn crate::platform::Interrupt>>>,
    mm: Mutex<Arc<Mm>>,
    /// The fd table, shared by CLONE_FILES; replaced when the task stops
    /// sharing it (exec, unshare) or exits.
    files: Mutex<Arc<Mutex<FdTable>>>,
    /// The fs context (root, cwd, umask), shared by CLONE_FS; replaced
    /// when the task stops sharing it (unshare(CLONE_FS)).
    fs: Mutex<Arc<Mutex<FsContext>>>,
    pub creds: Mutex<Creds>,
    /// The signal handler table, shared by CLONE_SIGHAND (every thread of
    /// a process); replaced by a private copy at exec.
    sigactions: Mutex<Arc<Mutex<SignalActions>>>,
    pub signals: Mutex<TaskSignals>,
    pub rlimits: Arc<Mutex<[Rlimit; RLIM_NLIMITS]>>,
    pub comm: Mutex<[u8; 16]>,
    pub exe: Mutex<Vec<u8>>,
    pub clear_child_tid: AtomicU64,
    /// Address after the last `syscall` instruction seen (see dispatch).
    pub last_syscall_site: AtomicU64,
    pub robust_list: AtomicU64,
    /// PR_SET_PDEATHSIG: the signal sent when the parent dies.
    pub pdeath_signal: AtomicI32,
    pub no_new_privs: std::sync::atomic::AtomicBool,
    pub personality: std::sync::atomic::AtomicU32,
    /// sched_setaffinity's mask: bit n set = may run on host CPU n
    /// (always within the CPUs vkernel may use).
    pub affinity: Mutex<Vec<u64>>,
    /// Which setting of `affinity` this is (0: the initial all-CPUs mask;
    /// each sched_setaffinity takes a number no task had): a kernel thread
    /// places the task's host threads again when it changes.
    pub affinity_setting: AtomicU64,
    /// The group stop (`Process` stop number) this thread last parked for.
    pub stop_parked: std::sync::atomic::AtomicU64,
    /// CPU time accounting (see `CpuAccount`).
    pub cpu: Mutex<CpuAccount>,
    /// Guest CPU time counters for getrusage/times, in nanoseconds.
    pub start_time_ns: u64,
    /// The task has called execve since it was forked (setpgid: EACCES).
    pub exe_done_since_fork: std::sync::atomic::AtomicBool,
    /// set*uid found the new real user over RLIMIT_NPROC (Linux's
    /// PF_NPROC_EXCEEDED): execve checks again (see `limits`).
    pub nproc_exceeded: std::sync::atomic::AtomicBool,
    /// Set for a vfork child until it execs or exits (the parent waits).
    pub vfork_done: Mutex<Option<Arc<fork::VforkDone>>>,
    /// What restart_syscall resumes after an ERESTART_RESTARTBLOCK.
    pub restart_block: Mutex<Option<RestartBlock>>,
    /// Scheduling policy, priorities and nice value (see `task::sched`).
    pub sched: Mutex<sched::SchedParams>,
}

impl Task {
    pub fn mm(&self) -> Arc<Mm> {
        self.mm.lock().clone()
    }

    pub fn set_mm(&self, mm: Arc<Mm>) -> Arc<Mm> {
        std::mem::replace(&mut *self.mm.lock(), mm)
    }

    pub fn tid(&self) -> i32 {
        self.tid.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub(crate) fn set_tid(&self, tid: i32) {
        self.tid.store(tid, std::sync::atomic::Ordering::Relaxed)
    }

    pub fn files(&self) -> parking_lot::ArcMutexGuard<parking_lot::RawMutex, FdTable> {
        self.files.lock().lock_arc()
    }

    /// The fd table itself (CLONE_FILES shares it).
    pub fn files_table(&self) -> Arc<Mutex<FdTable>> {
        self.files.lock().clone()
    }

    pub fn sigactions(&self) -> parking_lot::ArcMutexGuard<parking_lot::RawMutex, SignalActions> {
        self.sigactions.lock().lock_arc()
    }

    /// The handler table itself (CLONE_SIGHAND shares it).
    pub fn sigactions_table(&self) -> Arc<Mutex<SignalActions>> {
        self.sigactions.lock().clone()
    }

    /// Gives the task a private copy of its handler table if another
    /// process shares it (exec: Linux's unshare_sighand).
    pub fn unshare_sigactions(&self) {
        let mut table = self.sigactions.lock();
        if Arc::strong_count(&table) > 1 {
            let copy = table.lock().clone();
            *table = Arc::new(Mutex::new(copy));
        }
    }

    /// Gives the task a private copy of its fd table if another process
    /// shares it (exec, unshare(CLONE_FILES)).
    pub fn unshare_files(&self) {
        let mut table = self.files.lock();
        if Arc::strong_count(&table) > 1 {
            let copy = table.lock().clone();
            *table = Arc::new(Mutex::new(copy));
        }
    }

    /// Replaces the fd table; returns the old one (closed when its last
    /// sharer lets go).
    pub fn set_files_table(&self, table: Arc<Mutex<FdTable>>) -> Arc<Mutex<FdTable>> {
        std::mem::replace(&mut *self.files.lock(), table)
    }

    pub fn fs(&self) -> parking_lot::ArcMutexGuard<parking_lot::RawMutex, FsContext> {
        self.fs.lock().lock_arc()
    }

    /// The fs context itself (CLONE_FS shares it).
    pub fn fs_context(&self) -> Arc<Mutex<FsContext>> {
        self.fs.lock().clone()
    }

    /// Whether another task shares the fs context (CLONE_FS).
    pub fn fs_is_shared(&self) -> bool {
        Arc::strong_count(&self.fs.lock()) > 1
    }

    /// Gives the task a private copy of its fs context if another task
    /// shares it (unshare(CLONE_FS)).
    pub fn unshare_fs(&self) {
        let mut fs = self.fs.lock();
        if Arc::strong_count(&fs) > 1 {
            let copy = fs.lock().clone();
            *fs = Arc::new(Mutex::new(copy));
        }
    }

    pub fn creds(&self) -> Creds {
        self.creds.lock().clone()
    }

    pub fn rlimit(&self, resource: usize) -> Rlimit {
        self.rlimits.lock()[resource]
    }

    /// The address-space limits the rlimits set (RLIMIT_AS, _DATA, _STACK).
    pub fn vm_limits(&self) -> crate::mm::accounting::VmLimits {
        use crate::abi::resource::{RLIMIT_AS, RLIMIT_DATA, RLIMIT_STACK};
        let l = self.rlimits.lock();
        crate::mm::accounting::VmLimits { address_space: l[RLIMIT_AS].cur, data: l[RLIMIT_DATA].cur, data_max: l[RLIMIT_DATA].max, stack: l[RLIMIT_STACK].cur }
    }

    /// Puts the rlimits into the address space, which checks them itself;
    /// called when the address space or the limits change.
    pub fn sync_vm_limits(&self) {
        let limits = self.vm_limits();
        self.mm().lock().limits = limits;
    }

    pub fn comm(&self) -> Vec<u8> {
        let c = *self.comm.lock();
        c.iter().take_while(|&&b| b != 0).copied().collect()
    }

    pub fn set_comm(&self, name: &[u8]) {
        let mut c = [0u8; 16];
        let n = name.len().min(15);
        c[..n].copy_from_slice(&name[..n]);
        *self.comm.lock() = c;
    }

    /// Creates the first task (PID 1).
    pub fn new_init(system: Arc<System>, mm: Arc<Mm>, fs: FsContext, files: FdTable) -> Arc<Task> {
        let now = crate::sched::clock::monotonic_ns();
        let process = process::Process::new(1, None, 1, 1);
        let task = Arc::new(Task {
            tid: AtomicI32::new(1),
            tgid: 1,
            system: system.clone(),
            process: process.clone(),
            sleeper: Default::default(),
            interrupter: Mutex::new(None),
            mm: Mutex::new(mm),
            files: Mutex::new(Arc::new(Mutex::new(files))),
            fs: Mutex::new(Arc::new(Mutex::new(fs))),
            creds: Mutex::new(Creds::from_host()),
            sigactions: Mutex::new(Arc::new(Mutex::new(SignalActions::default()))),
            signals: Mutex::new(TaskSignals::default()),
            rlimits: Arc::new(Mutex::new(limits::initial())),
            comm: Mutex::new([0; 16]),
            exe: Mutex::new(Vec::new()),
            clear_child_tid: AtomicU64::new(0),
            last_syscall_site: AtomicU64::new(0),
            robust_list: AtomicU64::new(0),
            pdeath_signal: AtomicI32::new(0),
            no_new_privs: std::sync::atomic::AtomicBool::new(false),
            personality: std::sync::atomic::AtomicU32::new(0),
            affinity: Mutex::new(all_cpus_mask()),
            affinity_setting: AtomicU64::new(0),
            stop_parked: std::sync::atomic::AtomicU64::new(0),
            cpu: Mutex::new(CpuAccount::default()),
            start_time_ns: now,
            exe_done_since_fork: std::sync::atomic::AtomicBool::new(false),
            nproc_exceeded: std::sync::atomic::AtomicBool::new(false),
            vfork_done: Mutex::new(None),
            restart_block: Mutex::new(None),
            sched: Mutex::new(Default::default()),
        });
        process.add_thread(&task);
        system.register(&task);
        task
    }

    pub fn ppid(&self) -> i32 {
        self.process.ppid()
    }

    pub fn pgid(&self) -> i32 {
        self.process.pgid()
    }

    pub fn sid(&self) -> i32 {
        self.process.sid()
    }

    /// Is a signal deliverable now (pending and not blocked), or is the
    /// task being killed? Blocking waits end when this turns true.
    pub fn signal_pending(&self) -> bool {
        let s = self.signals.lock();
        let shared = self.process.shared_pending.lock().set;
        (s.pending.set | shared) & !(s.blocked & !crate::signal::UNBLOCKABLE) != 0 || self.process.group_stop_pending_for(self)
    }

    /// Is SIGKILL pending for the task or its process? (Ends the waits
    /// that nothing else may interrupt: job-control stops, vfork.)
    pub fn sigkill_pending(&self) -> bool {
        let bit = crate::signal::sigbit(SIGKILL);
        let own = self.signals.lock().pending.set;
        let shared = self.process.shared_pending.lock().set;
        (own | shared) & bit != 0
    }

    /// A signal was queued: wake the task if it sleeps, interrupt it if it
    /// runs guest code.
    pub fn notify_signal(&self) {
        self.sleeper.wake();
        crate::sched::current::signal_queued().wake_all();
        if let Some(i) = self.interrupter.lock().as_ref() {
            i.interrupt();
        }
    }
}

thread_local! {
    static CURRENT: std::cell::RefCell<Option<std::sync::Weak<Task>>> = const { std::cell::RefCell::new(None) };
}

/// Records the task this kernel thread drives (for /proc/self, logs, and
/// the layers below through `sched::current`).
pub fn set_current(task: &Arc<Task>) {
    CURRENT.with(|c| *c.borrow_mut() = Some(Arc::downgrade(task)));
    let weak: std::sync::Weak<dyn crate::sched::CurrentTask> = Arc::downgrade(task) as std::sync::Weak<dyn crate::sched::CurrentTask>;
    crate::sched::current::set_current(weak);
}

impl crate::sched::CurrentTask for Task {
    fn tid(&self) -> i32 {
        Task::tid(self)
    }
    fn tgid(&self) -> i32 {
        self.tgid
    }
    fn pgid(&self) -> i32 {
        self.process.pgid()
    }
    fn sid(&self) -> i32 {
        self.process.sid()
    }
    fn creds(&self) -> Creds {
        Task::creds(self)
    }
    fn mm(&self) -> Arc<Mm> {
        Task::mm(self)
    }
    fn rlimit(&self, resource: usize) -> Rlimit {
        Task::rlimit(self, resource)
    }
    fn sleeper(&self) -> &Arc<crate::sched::wait::Sleeper> {
        &self.sleeper
    }
    fn signal_pending(&self) -> bool {
        Task::signal_pending(self)
    }
    fn fatal_signal_pending(&self) -> bool {
        self.sigkill_pending()
    }
    fn signal_blocked_or_ignored(&self, sig: i32) -> bool {
        let blocked = self.signals.lock().blocked & crate::signal::sigbit(sig) != 0;
        blocked || self.sigactions().get(sig).handler == crate::abi::signal::SIG_IGN
    }
    fn send_signal_to_self(&self, sig: i32) {
        let Some(me) = current().filter(|t| t.tid() == self.tid()) else { return };
        let uid = me.creds().uid;
        crate::signal::send_to_task(&me, crate::signal::SigInfo::user(sig, crate::abi::signal::SI_USER, me.tgid, uid));
    }
    fn dequeue_signal(&self, mask: u64) -> Option<[u8; 128]> {
        let mut s = self.signals.lock();
        let info = s.pending.take(!mask).or_else(|| self.process.shared_pending.lock().take(!mask));
        info.map(|i| i.bytes)
    }
    fn pending_signals(&self) -> u64 {
        let own = self.signals.lock().pending.set;
        own | self.process.shared_pending.lock().set
    }
}

/// The task the calling kernel thread drives, if any.
pub fn current() -> Option<Arc<Task>> {
    CURRENT.with(|c| c.borrow().as_ref().and_then(|w| w.upgrade()))
}

use crate::platform::host::system::thread_cpu_ns as host_thread_cpu;

/// Where a task's CPU time comes from. Guest code runs in a stub (user
/// time); the kernel thread servicing the task is its system time. Both
/// are reused by later tasks, so each is measured from a base.
#[derive(Default)]
pub struct CpuAccount {
    user_done: u64,
    stub: (i32, i32),
    stub_base: u64,
    kernel_tid: i32,
    kernel_base: u64,
}

impl CpuAccount {
    /// The task starts running on the calling kernel thread.
    pub fn start_on_this_thread(&mut self) {
        self.kernel_tid = crate::platform::host::system::gettid();
        self.kernel_base = host_thread_cpu(self.kernel_tid);
    }

    /// The task's guest code now runs in host thread `tid` of stub
    /// process `tgid` (its CPU time so far counts from here when that is
    /// a different host thread).
    pub fn switch_stub(&mut self, tgid: i32, tid: i32) {
        if (tgid, tid) == self.stub {
            return;
        }
        self.user_done += stub_cpu(self.stub).saturating_sub(self.stub_base);
        self.stub = (tgid, tid);
        self.stub_base = stub_cpu(self.stub);
    }

    /// The host thread (stub process, thread) the task's guest code last
    /// ran in; zeros before it first ran.
    pub fn stub(&self) -> (i32, i32) {
        self.stub
    }
}

/// CPU time of one stub thread (its own, not its process's: the threads of
/// a guest process share one stub process).
fn stub_cpu((tgid, tid): (i32, i32)) -> u64 {
    crate::platform::host::system::thread_cpu_ns_of(tgid, tid)
}

/// (user, system) CPU nanoseconds of a task so far.
pub fn cpu_times(task: &Task) -> (u64, u64) {
    let a = task.cpu.lock();
    let user = a.user_done + stub_cpu(a.stub).saturating_sub(a.stub_base);
    let system = host_thread_cpu(a.kernel_tid).saturating_sub(a.kernel_base);
    (user, system)
}

/// Sets `task`'s affinity mask (within the CPUs vkernel may use) as a new
/// setting, and has its kernel thread place its host threads by it soon
/// (at its next switch; a running guest is interrupted for it).
pub fn set_affinity(task: &Task, mask: Vec<u64>) {
    static SETTINGS: AtomicU64 = AtomicU64::new(1);
    *task.affinity.lock() = mask;
    task.affinity_setting.store(SETTINGS.fetch_add(1, Ordering::Relaxed), Ordering::Release);
    if let Some(i) = task.interrupter.lock().as_ref() {
        i.interrupt();
    }
}

/// The host CPUs `task` may run on: its affinity mask's.
pub fn affinity_cpus(task: &Task) -> Vec<usize> {
    let mask = task.affinity.lock();
    crate::platform::host::system::allowed_cpus().iter().copied().filter(|&c| mask.get(c / 64).is_some_and(|w| w >> (c % 64) & 1 != 0)).collect()
}

/// The CPU the task's guest code runs on (or last ran on): its host
/// thread's, or the calling kernel thread's before it ran.
pub fn current_cpu(task: &Task) -> u32 {
    let (tgid, tid) = task.cpu.lock().stub();
    crate::platform::host::system::thread_cpu_of(tgid, tid).unwrap_or_else(crate::platform::host::system::current_cpu)
}

/// The affinity mask of every CPU vkernel may use.
pub fn all_cpus_mask() -> Vec<u64> {
    let mut mask = vec![0u64; crate::platform::host::system::possible_cpus().div_ceil(64)];
    for &c in crate::platform::host::system::allowed_cpus() {
        if let Some(w) = mask.get_mut(c / 64) {
            *w |= 1 << (c % 64);
        }
    }
    mask
}

/// (user, system) CPU nanoseconds of the whole process of `task`: its live
/// threads and the ones that have exited.
pub fn process_cpu_times(task: &Task) -> (u64, u64) {
    let (mut user, mut system) = {
        let st = task.process.state();
        (st.dead_threads_user_ns, st.dead_threads_system_ns)
    };
    for t in task.process.threads() {
        let (u, s) = cpu_times(&t);
        user += u;
        system += s;
    }
    (user, system)
}

/// What path resolution needs of the calling task.
impl crate::fs::lookup::FsCaller for Task {
    fn fs(&self) -> parking_lot::ArcMutexGuard<parking_lot::RawMutex, FsContext> {
        Task::fs(self)
    }
    fn file(&self, fd: i32) -> crate::abi::KResult<Arc<crate::fs::file::File>> {
        self.files().get(fd)
    }
    fn creds(&self) -> Creds {
        Task::creds(self)
    }
    fn mounts(&self) -> &crate::fs::path::MountTable {
        &self.system.mounts
    }
}
