//! CPU-time clocks (Linux's kernel/time/posix-cpu-timers.c, clock side):
//! CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID and the dynamic ids
//! clock_getcpuclockid and pthread_getcpuclockid make
//! (MAKE_PROCESS_CPUCLOCK / MAKE_THREAD_CPUCLOCK: ((~pid) << 3) | clock,
//! bit 2 for a thread). Used by clock_gettime/getres/nanosleep and by POSIX
//! timers on CPU clocks.

use std::sync::Arc;

use crate::abi::time::{
    CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID, CLOCKFD, CLOCKFD_MASK, CPUCLOCK_CLOCK_MASK, CPUCLOCK_MAX, CPUCLOCK_PERTHREAD_MASK, CPUCLOCK_SCHED,
    CPUCLOCK_VIRT,
};
use crate::abi::{Errno, KResult};
use crate::task::Task;
use crate::task::process::{Lifecycle, Process};

/// Whose CPU time a clock counts.
#[derive(Clone)]
pub enum CpuClockTarget {
    Thread(Arc<Task>),
    Process(Arc<Process>),
}

/// A CPU clock: whose time, and which part of it (CPUCLOCK_PROF: user and
/// system; CPUCLOCK_VIRT: user; CPUCLOCK_SCHED: all of it, in ns).
#[derive(Clone)]
pub struct CpuClock {
    pub target: CpuClockTarget,
    pub which: i32,
    /// The clock names the caller's own thread (clock_nanosleep refuses).
    pub own_thread: bool,
}

/// Is `clockid` a CPU clock id (fixed or dynamic, valid or not)?
pub fn is_cpu_clock(clockid: i32) -> bool {
    clockid == CLOCK_PROCESS_CPUTIME_ID || clockid == CLOCK_THREAD_CPUTIME_ID || (clockid < 0 && clockid & CLOCKFD_MASK != CLOCKFD)
}

/// The CPU clock `clockid` names for `caller` (Linux's pid_for_clock):
/// EINVAL for a clock fd id (none exist), a bad clock type, a pid that is
/// no process, or a thread outside the caller's group. `gettime` lets a
/// process clock be named by the caller's own thread id.
pub fn decode(caller: &Arc<Task>, clockid: i32, gettime: bool) -> KResult<CpuClock> {
    let own = |target, which, thread| CpuClock { target, which, own_thread: thread };
    match clockid {
        CLOCK_PROCESS_CPUTIME_ID => return Ok(own(CpuClockTarget::Process(caller.process.clone()), CPUCLOCK_SCHED, false)),
        CLOCK_THREAD_CPUTIME_ID => return Ok(own(CpuClockTarget::Thread(caller.clone()), CPUCLOCK_SCHED, true)),
        id if id >= 0 || id & CLOCKFD_MASK == CLOCKFD => return Err(Errno::EINVAL),
        _ => {}
    }
    let which = clockid & CPUCLOCK_CLOCK_MASK;
    if which >= CPUCLOCK_MAX {
        return Err(Errno::EINVAL);
    }
    let thread = clockid & CPUCLOCK_PERTHREAD_MASK != 0;
    let pid = !(clockid >> 3);
    if pid == 0 {
        return Ok(if thread {
            own(CpuClockTarget::Thread(caller.clone()), which, true)
        } else {
            own(CpuClockTarget::Process(caller.process.clone()), which, false)
        });
    }
    let system = &caller.system;
    if thread {
        let task = system.task(pid).filter(|t| t.tgid == caller.tgid).ok_or(Errno::EINVAL)?;
        let own_thread = task.tid() == caller.tid();
        return Ok(CpuClock { target: CpuClockTarget::Thread(task), which, own_thread });
    }
    if gettime && pid == caller.tid() {
        return Ok(own(CpuClockTarget::Process(caller.process.clone()), which, false));
    }
    let process = system.process(pid).ok_or(Errno::EINVAL)?;
    Ok(CpuClock { target: CpuClockTarget::Process(process), which, own_thread: false })
}

/// (user, system) CPU nanoseconds of a process: its threads that ended
/// and the live ones, or what it had used when it died.
pub fn process_cpu_times(process: &Process) -> (u64, u64) {
    let (mut user, mut system) = {
        let st = process.state();
        if matches!(st.lifecycle, Lifecycle::Zombie { .. }) {
            return (st.user_ns, st.system_ns);
        }
        (st.dead_threads_user_ns, st.dead_threads_system_ns)
    };
    for t in process.threads() {
        let (u, s) = crate::task::cpu_times(&t);
        user = user.saturating_add(u);
        system = system.saturating_add(s);
    }
    (user, system)
}

impl CpuClock {
    /// The clock's reading in nanoseconds.
    pub fn now_ns(&self) -> u64 {
        let (user, system) = match &self.target {
            CpuClockTarget::Thread(t) => crate::task::cpu_times(t),
            CpuClockTarget::Process(p) => process_cpu_times(p),
        };
        if self.which == CPUCLOCK_VIRT { user } else { user.saturating_add(system) }
    }

    /// clock_getres: 1 ns for the scheduler clock, a tick (HZ 250) for
    /// the sampled ones (Linux's posix_cpu_clock_getres).
    pub fn resolution_ns(&self) -> i64 {
        if self.which == CPUCLOCK_SCHED { 1 } else { 4_000_000 }
    }
}
