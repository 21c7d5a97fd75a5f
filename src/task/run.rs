//! The task loop: one kernel thread drives one guest task, switching into
//! the guest and servicing what comes back (system calls, faults, signals).

use std::sync::Arc;

use crate::mm::FaultError;
use crate::platform::{Event, Regs};
use crate::signal::{SIGBUS, SIGKILL, SIGSEGV};
use crate::syscall::{self, Exit};
use crate::task::Task;

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
}

/// Runs `task` from `regs` until it exits.
pub fn run(task: Arc<Task>, mut regs: Regs) -> ExitStatus {
    crate::task::set_current(&task);
    crate::platform::pin_kernel_thread();
    let mut context = task.kernel.platform.new_context();
    let verbose = task.kernel.config.verbose;
    loop {
        let mm = task.mm();
        let event = context.switch(&mm, &mut regs);
        task.host_pid.store(context.host_pid(mm.id).unwrap_or(0), std::sync::atomic::Ordering::Relaxed);
        match event {
            Event::Syscall => {
                let old_mm = mm.id;
                match syscall::dispatch(&task, &mut regs) {
                    Some(Exit::Group(code)) => return ExitStatus::Exited(code),
                    Some(Exit::Signaled(sig)) => return ExitStatus::Signaled(sig),
                    None => {}
                }
                // After execve the old address space's stub can go.
                let now = task.mm().id;
                if now != old_mm {
                    drop(mm);
                    context.release(old_mm);
                }
            }
            Event::Fault { addr } => {
                if let Err(e) = mm.handle_fault(addr) {
                    let sig = match e {
                        FaultError::MapErr | FaultError::AccErr => SIGSEGV,
                        FaultError::Bus => SIGBUS,
                        FaultError::OutOfMemory => {
                            eprintln!("vkernel: out of memory: killed process {} ({})", task.tgid, String::from_utf8_lossy(&task.comm()));
                            SIGKILL
                        }
                    };
                    if verbose {
                        eprintln!("vkernel: pid {} fault at {addr:#x} rip {:#x}: {e:?}", task.tgid, regs.rip);
                    }
                    return ExitStatus::Signaled(sig);
                }
            }
            Event::Signal { signo, .. } => {
                if verbose {
                    eprintln!("vkernel: pid {} signal {signo} at rip {:#x}", task.tgid, regs.rip);
                }
                return ExitStatus::Signaled(signo);
            }
            Event::Interrupted => {}
            Event::Lost => return ExitStatus::Signaled(SIGKILL),
        }
    }
}
