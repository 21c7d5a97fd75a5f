//! The task loop: one kernel thread drives one guest task, switching into
//! the guest and servicing what comes back (system calls, faults, signals),
//! and delivering signals before each return to the guest.

use parking_lot::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use crate::abi::Errno;
use crate::abi::resource::RLIMIT_CORE;
use crate::abi::signal::{BUS_ADRERR, CLD_STOPPED, SA_NODEFER, SA_RESETHAND, SA_RESTART, SEGV_ACCERR, SEGV_MAPERR, SIG_DFL, SIG_IGN, SIGBUS, SIGKILL, SIGSEGV};
use crate::abi::unistd::NR_RESTART_SYSCALL;
use crate::mm::FaultError;
use crate::mm::oom::OomOutcome;
use crate::platform::{Context, Event, Regs};
use crate::sched::panic;
use crate::sched::wait::wait_any;
use crate::signal::{self, DefaultAction, SigInfo, frame};
use crate::syscall::{self, Exit};
use crate::task::Task;
use crate::task::exit::{self as task_exit, Ending, status_signaled};

/// How a task ended, as wait status and shells see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    Exited(i32),
    Signaled(i32),
}

impl ExitStatus {
    /// The status a shell reports: the code, or 128 + signal.
    pub fn shell_code(self) -> i32 {
        match self {
            ExitStatus::Exited(c) => c & 0xff,
            ExitStatus::Signaled(s) => 128 + s,
        }
    }

    fn from_wait_status(status: i32) -> ExitStatus {
        if status & 0x7f == 0 { ExitStatus::Exited((status >> 8) & 0xff) } else { ExitStatus::Signaled(status & 0x7f) }
    }
}

/// An address space as the platform sees it.
fn space(mm: &Arc<crate::mm::Mm>) -> Arc<dyn crate::platform::AddressSpace> {
    mm.clone()
}

/// PID 1's kernel thread, started as soon as the platform exists: it makes
/// its context and a ready host address space (a stub's fork and exec)
/// while boot goes on, then runs the task it is sent until it exits. None
/// when boot gave up before sending one.
pub fn spawn_init_thread() -> std::io::Result<(mpsc::Sender<(Arc<Task>, Regs)>, std::thread::JoinHandle<Option<ExitStatus>>)> {
    let (tx, rx) = mpsc::channel::<(Arc<Task>, Regs)>();
    let thread = std::thread::Builder::new().name("vkernel-task-1".into()).spawn(move || {
        pin_if_wanted();
        let mut context = crate::kernel::platform().new_context();
        context.prepare();
        let (task, regs) = rx.recv().ok()?;
        Some(run_on(context.as_mut(), task, regs, None))
    })?;
    Ok((tx, thread))
}

/// Pins the calling kernel thread to a CPU if the platform wants it.
fn pin_if_wanted() {
    if crate::kernel::platform().pin_kernel_threads() {
        crate::platform::pin_kernel_thread();
    }
}

/// A task waiting for a kernel thread.
pub struct Job {
    pub task: Arc<Task>,
    pub regs: Regs,
    pub xstate: Option<Vec<u8>>,
    /// For a task sharing a running address space: the host thread made
    /// for it, which the kernel thread running it adopts.
    pub seed: Option<crate::platform::ThreadSeed>,
}

/// Idle kernel threads, each with a platform context and a ready host
/// address space, so fork does not wait for a thread and a stub.
#[derive(Default)]
pub struct Workers {
    idle: Mutex<Vec<mpsc::Sender<Job>>>,
}

fn workers() -> &'static Workers {
    static WORKERS: std::sync::OnceLock<Workers> = std::sync::OnceLock::new();
    WORKERS.get_or_init(Workers::default)
}

/// Idle kernel threads kept around; more exit when their task ends.
const MAX_IDLE_WORKERS: usize = 4;
/// How long a task whose fault found no memory waits for the OOM killer's
/// victim before it faults again.
const OOM_RETRY: Duration = Duration::from_millis(10);

/// How often an idle kernel thread lets go of host threads of address
/// spaces that have gone.
const IDLE_TIDY_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

impl Workers {
    /// Runs `job` on an idle kernel thread, or a new one.
    pub fn start(job: Job) {
        let mut job = Some(job);
        loop {
            let idle = workers().idle.lock().pop();
            let Some(tx) = idle else { break };
            match tx.send(job.take().expect("job present")) {
                Ok(()) => break,
                Err(mpsc::SendError(j)) => job = Some(j),
            }
        }
        if let Some(j) = job {
            spawn_worker(Some(j));
        }
        // Keep one warm thread ready for the next fork.
        if workers().idle.lock().is_empty() {
            spawn_worker(None);
        }
    }
}

fn spawn_worker(first: Option<Job>) {
    let spawned = std::thread::Builder::new().name("vkernel-worker".into()).spawn(move || {
        pin_if_wanted();
        let mut context = crate::kernel::platform().new_context();
        let (tx, rx) = mpsc::channel::<Job>();
        let mut next = first;
        loop {
            let job = match next.take() {
                Some(j) => j,
                None => {
                    context.prepare();
                    {
                        // A thread that still traces host threads of live
                        // address spaces must stay: its exit would kill them.
                        let mut idle = workers().idle.lock();
                        if idle.len() >= MAX_IDLE_WORKERS && context.parked() == 0 {
                            return;
                        }
                        idle.push(tx.clone());
                    }
                    match idle_wait(context.as_mut(), &rx) {
                        Some(j) => j,
                        None => return,
                    }
                }
            };
            let Job { task, regs, xstate, seed } = job;
            if let Some(seed) = seed {
                if !context.adopt_thread(&space(&task.mm()), seed) {
                    // No host thread: the task cannot run; it dies as if
                    // killed before it started.
                    task_exit::exit_task(&task, Ending::Group(status_signaled(SIGKILL, false)));
                    continue;
                }
            }
            run_on(context.as_mut(), task, regs, xstate);
            context.release_all();
        }
    });
    if spawned.is_err() {
        eprintln!("vkernel: cannot start a kernel thread");
    }
}

/// Waits for the next job, tidying up the host side now and then. None
/// when the pool is shutting this thread down.
fn idle_wait(context: &mut dyn Context, rx: &mpsc::Receiver<Job>) -> Option<Job> {
    loop {
        match rx.recv_timeout(IDLE_TIDY_INTERVAL) {
            Ok(j) => return Some(j),
            Err(mpsc::RecvTimeoutError::Timeout) => context.prepare(),
            Err(mpsc::RecvTimeoutError::Disconnected) => return None,
        }
    }
}

/// A system call number that panics on purpose (tests of the panic
/// policy; set at boot from VKERNEL_TEST_PANIC_SYSCALL).
pub static PANIC_ON_SYSCALL: AtomicU64 = AtomicU64::new(u64::MAX);

/// What a task's kernel thread is doing, for the report of a panic.
#[derive(Clone, Copy)]
enum Activity {
    Running,
    Syscall { nr: u64, args: [u64; 6] },
}

/// Runs `task` on this kernel thread with `context` until it exits.
fn run_on(context: &mut dyn Context, task: Arc<Task>, mut regs: Regs, xstate: Option<Vec<u8>>) -> ExitStatus {
    crate::task::set_current(&task);
    task.cpu.lock().start_on_this_thread();
    *task.interrupter.lock() = Some(context.interrupter());
    if let Some(x) = xstate {
        context.set_extended_state(&space(&task.mm()), &x);
    }
    let mut restart: Option<Errno> = None;
    let mut counts = (0u64, 0u64);
    let mut activity = Activity::Running;
    // The affinity setting the context placed its host threads by (none
    // yet: the first switch places them).
    let mut placed = None;
    let ending = loop {
        match panic::guarded(|| step(context, &task, &mut regs, &mut restart, &mut counts, &mut activity, &mut placed)) {
            Ok(Some(ending)) => break ending,
            Ok(None) => {}
            Err(msg) => {
                // The panic policy (sched/panic.rs): report, then kill the
                // process as the OOM killer would.
                let what = match activity {
                    Activity::Syscall { nr, args } => format!(
                        "system call {}({:#x}, {:#x}, {:#x}, {:#x}, {:#x}, {:#x})",
                        crate::abi::syscall_names::name(nr),
                        args[0],
                        args[1],
                        args[2],
                        args[3],
                        args[4],
                        args[5]
                    ),
                    Activity::Running => "the run loop".to_string(),
                };
                panic::report(&format!("{what} of pid {} ({})", task.tgid, String::from_utf8_lossy(&task.comm())), &msg);
                eprintln!("vkernel: killed process {} ({}) after an internal error", task.tgid, String::from_utf8_lossy(&task.comm()));
                activity = Activity::Running;
                restart = None;
                signal::force_on_task(&task, SigInfo::kernel(SIGKILL));
            }
        }
    };
    *task.interrupter.lock() = None;
    if task.system.config.verbose {
        eprintln!("vkernel: task {} of pid {} exits: {} system calls, {} faults", task.tid(), task.tgid, counts.0, counts.1);
    }
    let status = match panic::guarded(|| task_exit::exit_task(&task, ending)) {
        Ok(status) => status,
        Err(msg) => {
            let status = match ending {
                Ending::Thread(s) | Ending::Group(s) => s,
            };
            panic::report(&format!("the exit of task {} of pid {}", task.tid(), task.tgid), &msg);
            task_exit::exit_after_error(&task, status);
            status
        }
    };
    ExitStatus::from_wait_status(status)
}

/// One trip through the guest and back: deliver signals, run the guest,
/// service what stopped it. Some(status) when the task ends.
fn step(
    context: &mut dyn Context,
    task: &Arc<Task>,
    regs: &mut Regs,
    restart: &mut Option<Errno>,
    counts: &mut (u64, u64),
    activity: &mut Activity,
    placed: &mut Option<u64>,
) -> Option<Ending> {
    let verbose = task.system.config.verbose;
    if let Some(ending) = deliver_signals(task, regs, context, restart) {
        return Some(ending);
    }
    let setting = task.affinity_setting.load(std::sync::atomic::Ordering::Acquire);
    if *placed != Some(setting) {
        context.set_cpus(&crate::task::affinity_cpus(task));
        *placed = Some(setting);
    }
    let mm = task.mm();
    let event = context.switch(&space(&mm), regs);
    if let Some((tgid, tid)) = context.host_thread(mm.id) {
        task.cpu.lock().switch_stub(tgid, tid);
    }
    match event {
        Event::Syscall => {
            counts.0 += 1;
            let old_mm = mm.id;
            let nr = regs.orig_rax as u32 as u64;
            *activity = Activity::Syscall { nr, args: [regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9] };
            if nr == PANIC_ON_SYSCALL.load(Ordering::Relaxed) {
                panic!("injected panic (VKERNEL_TEST_PANIC_SYSCALL={nr})");
            }
            let outcome = syscall::dispatch(task, regs);
            *activity = Activity::Running;
            match outcome.exit {
                Some(Exit::Group(code)) => return Some(Ending::Group(task_exit::status_exited(code))),
                Some(Exit::Thread(code)) => return Some(Ending::Thread(task_exit::status_exited(code))),
                None => {}
            }
            if let Some(new) = outcome.spawn {
                if let Err(e) = start_child(task, context, &mm, new) {
                    regs.rax = (-(e.0 as i64)) as u64;
                }
            }
            if let Some(x) = outcome.xstate {
                if !context.set_extended_state(&space(&task.mm()), &x) {
                    signal::force_on_task(task, SigInfo::kernel(SIGSEGV));
                }
            }
            let rax = regs.rax as i64;
            if (-516..=-512).contains(&rax) {
                *restart = Some(Errno(-rax as i32));
            }
            // After execve the old address space's stub can go.
            if task.mm().id != old_mm {
                drop(mm);
                context.release(old_mm);
            }
        }
        Event::Fault { addr, generation } => {
            counts.1 += 1;
            if let Err(e) = mm.handle_fault(addr, generation) {
                if verbose {
                    eprintln!("vkernel: pid {} fault at {addr:#x} rip {:#x}: {e:?}", task.tgid, regs.rip);
                }
                let info = match e {
                    FaultError::MapErr => SigInfo::fault(SIGSEGV, SEGV_MAPERR, addr),
                    FaultError::AccErr => SigInfo::fault(SIGSEGV, SEGV_ACCERR, addr),
                    FaultError::Bus => SigInfo::fault(SIGBUS, BUS_ADRERR, addr),
                    FaultError::OutOfMemory => match crate::mm::oom::out_of_memory() {
                        // Someone is dying to free memory: wait a moment
                        // (a signal or a kill ends the wait) and fault again.
                        OomOutcome::Retry => {
                            let _ = wait_any(&[], Some(Instant::now() + OOM_RETRY), || Ok(None::<()>));
                            return None;
                        }
                        OomOutcome::NoVictim => {
                            eprintln!(
                                "vkernel: Out of memory and no killable processes: killed process {} ({})",
                                task.tgid,
                                String::from_utf8_lossy(&task.comm())
                            );
                            SigInfo::kernel(SIGKILL)
                        }
                    },
                };
                task.signals.lock().fault_addr = addr;
                signal::force_on_task(task, info);
            }
        }
        Event::Signal { signo, code, addr } => {
            if verbose {
                eprintln!("vkernel: pid {} signal {signo} at rip {:#x}", task.tgid, regs.rip);
            }
            signal::force_on_task(task, SigInfo::fault(signo, code, addr));
        }
        Event::Interrupted => {}
        Event::Lost => return Some(Ending::Group(status_signaled(SIGKILL, false))),
    }
    None
}

/// Starts a new task on its own kernel thread with the parent's FPU
/// state (a task sharing the address space gets a host thread in it
/// first); a vfork parent then waits until the child execs or exits.
fn start_child(parent: &Arc<Task>, context: &mut dyn Context, mm: &Arc<crate::mm::Mm>, new: crate::task::fork::NewTask) -> Result<(), Errno> {
    let xstate = context.extended_state(&space(mm));
    let crate::task::fork::NewTask { task: child, regs, vfork, shares_space } = new;
    let seed = if shares_space {
        match context.spawn_thread(&space(mm)) {
            Some(seed) => Some(seed),
            None => {
                crate::task::fork::abandon(&child);
                return Err(Errno::EAGAIN);
            }
        }
    } else {
        None
    };
    Workers::start(Job { task: child, regs, xstate, seed });
    if let Some(done) = vfork {
        // Killable only, as in Linux.
        parent.sleeper.block_until(|| done.is_done() || parent.sigkill_pending());
    }
    Ok(())
}

/// Before a core dump: kills the other threads of the process and waits
/// until each has left its registers and gone (a kill of this thread ends
/// the wait; the core then has what was collected).
fn stop_others_for_core(task: &Arc<Task>, sig: i32) -> Vec<crate::task::coredump::ThreadState> {
    let process = &task.process;
    if process.thread_count() <= 1 || task.rlimit(RLIMIT_CORE).cur < crate::abi::PAGE_SIZE {
        return Vec::new();
    }
    process.begin_core_collection();
    process.start_group_exit(task, status_signaled(sig, false));
    let _ = crate::sched::wait::wait_killable(&process.thread_exited, || Ok((process.thread_count() <= 1).then_some(())));
    process.take_core_states()
}

/// Takes the next deliverable signal: this task's own first, then the
/// process's.
fn dequeue(task: &Task) -> Option<SigInfo> {
    let mut s = task.signals.lock();
    let blocked = s.blocked & !signal::UNBLOCKABLE;
    if let Some(info) = s.pending.take(blocked) {
        return Some(info);
    }
    task.process.shared_pending.lock().take(blocked)
}

/// Acts on pending signals before the guest runs again: default actions,
/// stops, or a handler frame. Also settles an interrupted system call
/// (restart or EINTR). Returns how the task ends when it must die.
fn deliver_signals(task: &Arc<Task>, regs: &mut Regs, context: &mut dyn Context, restart: &mut Option<Errno>) -> Option<Ending> {
    loop {
        // A group stop under way holds every thread of the process.
        if task.process.is_stopped() {
            wait_while_stopped(task);
        }
        let Some(info) = dequeue(task) else { break };
        let sig = info.signo();
        if sig == SIGKILL {
            // A sibling dumping core wants this thread's registers.
            let status = status_signaled(SIGKILL, false);
            if task.process.collecting_core() {
                let xstate = context.extended_state(&space(&task.mm())).unwrap_or_default();
                task.process.offer_core_state(crate::task::coredump::ThreadState { task: task.clone(), regs: *regs, xstate });
                // The dumper ends the group; this thread goes alone.
                return Some(Ending::Thread(status));
            }
            // Another thread's exec ends this one alone.
            let exec_tid = task.process.exec_tid();
            if exec_tid != 0 && exec_tid != task.tid() {
                return Some(Ending::Thread(status));
            }
            return Some(Ending::Group(status));
        }
        let action = {
            let mut actions = task.sigactions();
            let a = actions.get(sig);
            if a.handler > SIG_IGN && a.flags & SA_RESETHAND != 0 {
                actions.actions[(sig - 1) as usize].handler = SIG_DFL;
                actions.actions[(sig - 1) as usize].flags &= !SA_RESETHAND;
            }
            a
        };
        match action.handler {
            SIG_IGN => continue,
            // init ignores signals it has no handler for (a blocked one
            // may have been queued and unblocked since).
            SIG_DFL if task.process.is_init() && !task.process.init_protection_lifted() => continue,
            SIG_DFL => match signal::default_action(sig) {
                DefaultAction::Ignore | DefaultAction::Continue => continue,
                DefaultAction::Stop => {
                    if task.process.is_init() {
                        continue;
                    }
                    stop(task, sig);
                    continue;
                }
                DefaultAction::Terminate => return Some(Ending::Group(status_signaled(sig, false))),
                DefaultAction::CoreDump => {
                    let xstate = context.extended_state(&space(&task.mm())).unwrap_or_default();
                    let others = stop_others_for_core(task, sig);
                    let dumped = crate::task::coredump::dump(task, regs, &xstate, sig, &info, &others);
                    task.process.set_group_exit_status(status_signaled(sig, dumped));
                    return Some(Ending::Group(status_signaled(sig, dumped)));
                }
            },
            _ => {
                // A handler runs: an interrupted call fails with EINTR
                // unless it may restart (SA_RESTART) or must (NOINTR).
                if let Some(e) = restart.take() {
                    let restart_it = e == Errno::ERESTARTNOINTR || (e == Errno::ERESTARTSYS && action.flags & SA_RESTART != 0);
                    if restart_it {
                        regs.rax = regs.orig_rax;
                        regs.rip -= 2;
                    } else {
                        regs.rax = (-(Errno::EINTR.0 as i64)) as u64;
                    }
                }
                let mm = task.mm();
                let xstate = context.extended_state(&space(&mm)).unwrap_or_default();
                let (old_mask, mut altstack, fault_addr) = {
                    let mut s = task.signals.lock();
                    let old = s.saved_mask.take().unwrap_or(s.blocked);
                    let fa = if matches!(sig, SIGSEGV | SIGBUS) { std::mem::take(&mut s.fault_addr) } else { 0 };
                    (old, s.altstack, fa)
                };
                if frame::setup(&mm, regs, &info, &action, old_mask, &mut altstack, &xstate, fault_addr).is_err() {
                    // No room for the frame: Linux kills with SIGSEGV.
                    return Some(Ending::Group(status_signaled(SIGSEGV, task.rlimit(RLIMIT_CORE).cur != 0)));
                }
                let mut s = task.signals.lock();
                s.altstack = altstack;
                s.blocked = old_mask | action.mask;
                if action.flags & SA_NODEFER == 0 {
                    s.blocked |= signal::sigbit(sig);
                }
                s.blocked &= !signal::UNBLOCKABLE;
                // Like Linux, keep going: every other deliverable signal
                // gets a frame on top, so the last one taken runs first.
                continue;
            }
        }
    }
    // No handler ran (`restart` is taken when one does): an interrupted
    // call restarts transparently.
    if let Some(e) = restart.take() {
        regs.rip -= 2;
        regs.rax = if e == Errno::ERESTART_RESTARTBLOCK { NR_RESTART_SYSCALL } else { regs.orig_rax };
    }
    // rt_sigsuspend's temporary mask ends when it returns.
    let mut s = task.signals.lock();
    if let Some(m) = s.saved_mask.take() {
        s.blocked = m;
    }
    None
}

/// Job-control stop: a group stop begins; every thread parks for it (see
/// `wait_while_stopped`) until SIGCONT or SIGKILL, and the parent is told
/// when the last one has parked.
fn stop(task: &Arc<Task>, sig: i32) {
    let process = &task.process;
    process.begin_group_stop(&mut process.state(), sig);
    // The other threads stop too: a sleeping one sees a signal pending
    // (the stop) and comes back to the run loop, a running one is
    // interrupted.
    for t in process.threads() {
        if !Arc::ptr_eq(&t, task) {
            t.notify_signal();
        }
    }
}

/// Holds a thread of a stopped process until it is continued or killed.
fn wait_while_stopped(task: &Arc<Task>) {
    let process = &task.process;
    let completed = process.park_for_group_stop(&mut process.state(), task);
    if let Some(sig) = completed {
        task_exit::notify_parent(process, CLD_STOPPED, sig);
    }
    // A new stop begun after a SIGCONT this thread slept through must be
    // parked for afresh (the caller's loop comes back here).
    task.sleeper.block_until(|| task.sigkill_pending() || !process.is_stopped() || process.group_stop_pending_for(task));
}
