//! fork/vfork/clone: a new task with a copy or a share, per the clone
//! flags, of the parent's address space, files, fs context and signal
//! handlers. CLONE_THREAD makes a thread of the caller's process; without
//! it the task leads a new process (vfork and CLONE_VM processes share the
//! address space).

use parking_lot::Mutex;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};

use crate::abi::sched::{
    CLONE_CHILD_CLEARTID, CLONE_CHILD_SETTID, CLONE_CLEAR_SIGHAND, CLONE_FILES, CLONE_FS, CLONE_NEWCGROUP, CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS,
    CLONE_NEWPID, CLONE_NEWUSER, CLONE_NEWUTS, CLONE_PARENT, CLONE_PARENT_SETTID, CLONE_PIDFD, CLONE_SETTLS, CLONE_SIGHAND, CLONE_THREAD, CLONE_VFORK,
    CLONE_VM, CSIGNAL,
};
use crate::abi::signal::NSIG;
use crate::abi::{Errno, KResult};
use crate::platform::Regs;
use crate::task::process::Process;
use crate::task::{Task, TaskSignals};

const NAMESPACE_FLAGS: u64 = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET;

/// Completion a vfork parent waits on.
pub struct VforkDone {
    done: AtomicBool,
    parent: std::sync::Weak<Task>,
}

impl VforkDone {
    pub fn complete(&self) {
        self.done.store(true, Ordering::Release);
        if let Some(p) = self.parent.upgrade() {
            p.sleeper.wake();
        }
    }

    pub fn is_done(&self) -> bool {
        self.done.load(Ordering::Acquire)
    }
}

/// clone(2)'s arguments.
pub struct CloneArgs {
    pub flags: u64,
    pub stack: u64,
    pub parent_tid: u64,
    pub child_tid: u64,
    pub tls: u64,
}

/// A child ready to run: the run loop gives it the parent's FPU state and
/// starts its kernel thread.
pub struct NewTask {
    pub task: Arc<Task>,
    pub regs: Regs,
    pub vfork: Option<Arc<VforkDone>>,
    /// It runs in its parent's address space at the same time as the
    /// parent (a thread or a CLONE_VM process): the platform gives it a
    /// host thread in the same host address space.
    pub shares_space: bool,
}

/// Undoes a clone whose child could not be started (no host thread for
/// it): the child leaves the tables as if it had never been.
pub fn abandon(child: &Arc<Task>) {
    let process = &child.process;
    process.remove_thread(child);
    child.system.tasks.lock().remove(&child.tid());
    if process.tgid == child.tid() {
        if let Some(parent) = process.parent() {
            parent.children.lock().retain(|c| !Arc::ptr_eq(c, process));
        }
        child.system.processes.lock().remove(&process.tgid);
    }
}

/// Creates the child task and process. `regs` are the parent's registers
/// at the system call.
pub fn clone_process(parent: &Arc<Task>, args: &CloneArgs, regs: &Regs) -> KResult<NewTask> {
    clone_process_with(parent, args, regs, None)
}

/// `clone_process` with clone3's extras: a chosen thread id (set_tid,
/// which needs CAP_CHECKPOINT_RESTORE: guest root) and CLONE_CLEAR_SIGHAND.
pub fn clone_process_with(parent: &Arc<Task>, args: &CloneArgs, regs: &Regs, wanted_tid: Option<i32>) -> KResult<NewTask> {
    let flags = args.flags;
    if flags & CLONE_SIGHAND != 0 && flags & CLONE_VM == 0 {
        return Err(Errno::EINVAL);
    }
    if flags & CLONE_THREAD != 0 && flags & CLONE_SIGHAND == 0 {
        return Err(Errno::EINVAL);
    }
    if flags & (CLONE_FS | CLONE_NEWNS) == CLONE_FS | CLONE_NEWNS {
        return Err(Errno::EINVAL);
    }
    if flags & NAMESPACE_FLAGS != 0 {
        // No namespaces in this kernel (as with CONFIG_*_NS off).
        return Err(Errno::EINVAL);
    }
    if flags & CLONE_PIDFD != 0 {
        return Err(Errno::EINVAL);
    }
    let thread = flags & CLONE_THREAD != 0;
    let exit_signal = (flags & CSIGNAL) as i32;
    if exit_signal > NSIG as i32 {
        return Err(Errno::EINVAL);
    }
    // The init process cannot have siblings; a process being killed does
    // not start new tasks (the call restarts, and the kill wins).
    if flags & CLONE_PARENT != 0 && parent.process.is_init() {
        return Err(Errno::EINVAL);
    }
    if parent.process.group_exiting() || parent.sigkill_pending() {
        return Err(Errno::ERESTARTNOINTR);
    }
    let kernel = &parent.system;
    // The child inherits the parent's RLIMIT_NPROC mark, which the check
    // clears for the parent.
    let nproc_exceeded = parent.nproc_exceeded.load(Ordering::Relaxed);
    crate::task::limits::fork_nproc_check(parent)?;
    let pid = match wanted_tid {
        Some(tid) => {
            if parent.creds().euid != 0 {
                return Err(Errno::EPERM);
            }
            kernel.claim_pid(tid)?
        }
        None => kernel.alloc_pid().ok_or(Errno::EAGAIN)?,
    };

    // A thread or a CLONE_VM process shares the address space, and so does
    // vfork (the parent sleeps until the child execs or exits).
    let mm = if flags & CLONE_VM != 0 { parent.mm() } else { parent.mm().fork_copy() };
    let process = if thread {
        parent.process.clone()
    } else {
        let real_parent = if flags & CLONE_PARENT != 0 { parent.process.parent().unwrap_or_else(|| parent.process.clone()) } else { parent.process.clone() };
        let p = Process::new(pid, Some(&real_parent), parent.process.pgid(), parent.process.sid());
        p.set_parent_thread(if flags & CLONE_PARENT != 0 { parent.process.parent_thread() } else { parent.tid() });
        p.limits.inherit(&parent.process.limits);
        // A thread's exit signal is ignored (Linux: threads never signal).
        p.exit_signal.store(exit_signal, Ordering::Relaxed);
        p
    };

    let files = if flags & CLONE_FILES != 0 { parent.files_table() } else { Arc::new(Mutex::new(parent.files().clone())) };
    let fs = if flags & CLONE_FS != 0 { parent.fs_context() } else { Arc::new(Mutex::new(parent.fs().clone())) };
    let sigactions = if flags & CLONE_SIGHAND != 0 {
        parent.sigactions_table()
    } else {
        let mut actions = parent.sigactions().clone();
        if flags & CLONE_CLEAR_SIGHAND != 0 {
            actions.reset_for_exec();
        }
        Arc::new(Mutex::new(actions))
    };
    let parent_signals = parent.signals.lock().clone();
    let signals = TaskSignals { blocked: parent_signals.blocked, altstack: parent_signals.altstack, ..Default::default() };
    let vfork = (flags & CLONE_VFORK != 0).then(|| Arc::new(VforkDone { done: AtomicBool::new(false), parent: Arc::downgrade(parent) }));

    let child = Arc::new(Task {
        tid: AtomicI32::new(pid),
        tgid: process.tgid,
        system: kernel.clone(),
        process: process.clone(),
        sleeper: Default::default(),
        interrupter: Mutex::new(None),
        mm: Mutex::new(mm.clone()),
        files: Mutex::new(files),
        fs: Mutex::new(fs),
        creds: Mutex::new(parent.creds()),
        sigactions: Mutex::new(sigactions),
        signals: Mutex::new(signals),
        // Resource limits belong to the process (Linux's signal_struct).
        rlimits: if thread { parent.rlimits.clone() } else { Arc::new(Mutex::new(*parent.rlimits.lock())) },
        comm: Mutex::new(*parent.comm.lock()),
        exe: Mutex::new(parent.exe.lock().clone()),
        clear_child_tid: AtomicU64::new(if flags & CLONE_CHILD_CLEARTID != 0 { args.child_tid } else { 0 }),
        last_syscall_site: AtomicU64::new(0),
        robust_list: AtomicU64::new(0),
        pdeath_signal: AtomicI32::new(0),
        no_new_privs: AtomicBool::new(parent.no_new_privs.load(Ordering::Relaxed)),
        personality: std::sync::atomic::AtomicU32::new(parent.personality.load(Ordering::Relaxed)),
        affinity: Mutex::new(parent.affinity.lock().clone()),
        affinity_setting: AtomicU64::new(parent.affinity_setting.load(Ordering::Relaxed)),
        stop_parked: std::sync::atomic::AtomicU64::new(0),
        cpu: Mutex::new(Default::default()),
        start_time_ns: crate::sched::clock::monotonic_ns(),
        exe_done_since_fork: AtomicBool::new(false),
        nproc_exceeded: AtomicBool::new(nproc_exceeded),
        vfork_done: Mutex::new(vfork.clone()),
        restart_block: Mutex::new(None),
        sched: Mutex::new(parent.sched.lock().for_child()),
    });

    // Linux writes these before the child exists to anyone else; a bad
    // address fails the clone with EFAULT.
    if flags & CLONE_PARENT_SETTID != 0 {
        parent.mm().write(args.parent_tid, &pid)?;
    }
    if flags & CLONE_CHILD_SETTID != 0 {
        mm.write(args.child_tid, &pid)?;
    }

    let mut child_regs = *regs;
    child_regs.rax = 0;
    child_regs.orig_rax = u64::MAX;
    if args.stack != 0 {
        child_regs.rsp = args.stack;
    }
    if flags & CLONE_SETTLS != 0 {
        child_regs.fs_base = args.tls;
    }

    if !thread {
        if let Some(real_parent) = process.parent() {
            real_parent.children.lock().push(process.clone());
        }
    }
    process.add_thread(&child);
    kernel.register(&child);
    if !thread {
        // A finite RLIMIT_CPU is inherited, and watched per process.
        crate::task::itimer::watch_cpu_limit(&child);
    }
    let shares_space = flags & CLONE_VM != 0 && flags & CLONE_VFORK == 0;
    Ok(NewTask { task: child, regs: child_regs, vfork, shares_space })
}
