//! The only place where the host runs guest code. A `Platform` hands each
//! kernel thread a `Context`; `Context::switch` applies the address space's
//! queued host changes, loads the task's registers, runs the guest until
//! something needs the kernel, and says what that was.

pub mod host;
pub mod ptrace;

use std::sync::Arc;

use crate::mm::Mm;
use crate::mm::frame::PhysMemory;

/// Guest general-purpose registers (the host's `user_regs_struct`).
pub type Regs = libc::user_regs_struct;

/// Registers for a fresh user-mode task: 64-bit code and stack
/// segments, interrupts enabled, everything else zero.
pub fn initial_regs() -> Regs {
    // SAFETY: user_regs_struct is plain integers; all-zero is valid.
    let mut r: Regs = unsafe { std::mem::zeroed() };
    r.cs = 0x33;
    r.ss = 0x2b;
    r.eflags = 0x202;
    r
}

/// Start of the region reserved for the stub at the top of every guest
/// address space; guest addresses are below it.
pub const STUB_REGION_START: u64 = 0x7fff_ff00_0000;

/// Why `switch` returned.
#[derive(Clone, Copy, Debug)]
pub enum Event {
    /// The guest made a system call: number in `orig_rax`.
    Syscall,
    /// The guest touched memory the host has not mapped (or not with that
    /// access): SIGSEGV on the host.
    Fault { addr: u64 },
    /// A synchronous signal other than a fault: SIGTRAP (int3), SIGFPE,
    /// SIGILL, SIGBUS; with the host's si_code and si_addr.
    Signal { signo: i32, code: i32, addr: u64 },
    /// The kernel interrupted the guest (a signal or kill for this task).
    Interrupted,
    /// The host side is gone (the stub was killed from outside).
    Lost,
}

/// A kernel thread's handle on the platform.
pub trait Context: Send {
    /// Runs the guest in `mm` with `regs` until the next event.
    fn switch(&mut self, mm: &Arc<Mm>, regs: &mut Regs) -> Event;
    /// A handle other threads use to interrupt this context's guest.
    fn interrupter(&self) -> Arc<dyn Interrupt>;
    /// The guest's FPU/vector state (XSAVE standard format) in `mm`'s
    /// host thread, creating the host side if needed.
    fn extended_state(&mut self, mm: &Arc<Mm>) -> Option<Vec<u8>>;
    /// Loads FPU/vector state; false if the host refuses it (bad image).
    fn set_extended_state(&mut self, mm: &Arc<Mm>, state: &[u8]) -> bool;
    /// The host process id backing `mm`, if one exists.
    fn host_pid(&self, mm_id: u64) -> Option<i32>;
    /// Forgets the host address space for `mm` (exec, exit); the host side
    /// may be kept for reuse.
    fn release(&mut self, mm_id: u64);
    /// Releases every address space (the task on this thread ended).
    fn release_all(&mut self);
    /// Gets a host address space ready in advance, so the next task this
    /// context runs starts without waiting for one.
    fn prepare(&mut self);
}

pub trait Interrupt: Send + Sync {
    /// Makes a running `switch` return `Event::Interrupted` soon; harmless
    /// if the guest is not running.
    fn interrupt(&self);
}

pub trait Platform: Send + Sync {
    fn new_context(&self) -> Box<dyn Context>;
}

/// Pins the calling kernel thread to one CPU, chosen round-robin among the
/// CPUs vkernel may use. Stubs it creates inherit the pin: a ptrace round
/// trip between threads on one CPU costs ~10 us, across CPUs ~45 us or more.
pub fn pin_kernel_thread() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    // SAFETY: cpu_set_t is plain data; sched_{get,set}affinity on ourselves.
    unsafe {
        let mut allowed: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, size_of::<libc::cpu_set_t>(), &mut allowed) != 0 {
            return;
        }
        let cpus: Vec<usize> = (0..libc::CPU_SETSIZE as usize).filter(|&c| libc::CPU_ISSET(c, &allowed)).collect();
        if cpus.is_empty() {
            return;
        }
        let cpu = cpus[NEXT.fetch_add(1, Ordering::Relaxed) % cpus.len()];
        let mut one: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut one);
        libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &one);
    }
}

/// The platform chosen at boot.
pub fn create(phys: Arc<PhysMemory>) -> std::io::Result<Arc<dyn Platform>> {
    Ok(Arc::new(ptrace::PtracePlatform::new(phys)?))
}
