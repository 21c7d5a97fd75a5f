//! The only place where the host runs guest code. A `Platform` hands each
//! kernel thread a `Context`; `Context::switch` applies the address space's
//! queued host changes, loads the task's registers, runs the guest until
//! something needs the kernel, and says what that was.

pub mod host;
pub mod ptrace;
pub mod seccomp;
pub mod spawn;
pub mod stub_common;

use std::sync::Arc;

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

/// A change the host must make to a stub's mappings before the guest
/// runs again: map a range of the guest-RAM memfd at a guest address,
/// map a host file there (MAP_SHARED, from `offset` of the file), unmap a
/// range, or change the protection of a range the host maps wholly
/// (fork's write-protection: mprotect; a backend may unmap instead).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostOp {
    Map { addr: u64, len: u64, prot: u32, offset: u64 },
    MapFile { addr: u64, len: u64, prot: u32, offset: u64, file: HostFile },
    Unmap { addr: u64, len: u64 },
    Protect { addr: u64, len: u64, prot: u32 },
}

/// A host file a stub maps itself (a shared mapping of a `--share` file
/// or of the host view), so that the guest, vkernel's own reads and
/// writes and host processes all see the host's one page cache. Opened
/// with the access the mapping may use; the platform hands the stub a
/// duplicate for the one mmap and closes it after.
#[derive(Clone)]
pub struct HostFile(pub Arc<host::files::HostFd>);

impl PartialEq for HostFile {
    fn eq(&self, other: &HostFile) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for HostFile {}

impl std::fmt::Debug for HostFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HostFile(fd {})", self.0.raw())
    }
}

/// Host changes an address space queued, and the guest-RAM frames that
/// may be reused only once those changes are applied (so a stale host
/// mapping can never expose a reused frame).
#[derive(Default)]
pub struct HostChanges {
    pub ops: Vec<HostOp>,
    pub deferred_frees: Vec<u32>,
}

/// A guest address space as the platform sees it: a source of host
/// mapping changes. Its own page table (in mm) is the truth; the host's
/// mappings are a cache the platform may drop and rebuild at any time.
/// Several host threads (the guest's threads) may run it at once: the
/// platform holds `host_sync` from `take_host_changes` until
/// `host_changes_applied`, so no thread resumes the guest between another
/// thread's taking of changes and their application.
pub trait AddressSpace: Send + Sync {
    /// A number no other address space has, for as long as this one lives.
    fn id(&self) -> u64;
    fn host_sync(&self) -> &parking_lot::Mutex<()>;
    fn take_host_changes(&self) -> HostChanges;
    /// The changes taken were applied (or the host mappings dropped).
    fn host_changes_applied(&self, changes: HostChanges);
    /// Counts applications of host changes; a fault seen by a thread that
    /// resumed the guest before the latest one may be stale.
    fn host_generation(&self) -> u64;
    /// Records `owner` (a host pid) as the host address space running this
    /// one and returns the previous owner.
    fn set_host_owner(&self, owner: u64) -> u64;
    /// Every host mapping is gone; pages are mapped again on fault.
    fn forget_host_mappings(&self);
    /// A system call trapped from the `mov $nr, %eax; syscall` at `site`
    /// (seven bytes before the trap's return address): the space counts
    /// it and, when the site traps often and can be rewritten, rewrites
    /// it to jump through `table` (see mm/patch.rs); the host runs the
    /// new code once the queued changes are applied.
    fn syscall_trapped(&self, _site: u64, _nr: u32, _table: &SyscallTable) {}
    /// The site and system call number of `table` entry `entry`.
    fn patched_site(&self, _entry: u32) -> Option<(u64, u32)> {
        None
    }
    /// The system call number of the patched site at `site`.
    fn patched_site_at(&self, _site: u64) -> Option<u32> {
        None
    }
}

/// Bytes of a patchable system call site: `mov $nr, %eax` (5) and
/// `syscall` (2).
pub const SITE_LEN: u64 = 7;

/// A platform's table for patched system call sites: `entries` code
/// pointers at guest address `addr` (below 2 GiB, so a seven-byte
/// `jmp *addr+8k` reaches it), `len` bytes of guest RAM at memfd offset
/// `offset`, mapped read-only into every address space that has a
/// patched site.
#[derive(Clone, Copy, Debug)]
pub struct SyscallTable {
    pub addr: u64,
    pub len: u64,
    pub offset: u64,
    pub entries: u32,
}

/// Guest RAM as the platform sees it: the host memfd stubs map, and pages
/// the platform borrows for itself (a stub's ops page). The frame
/// allocator in mm implements it.
pub trait GuestMemory: Send + Sync {
    fn ram(&self) -> &host::ram::GuestRam;
    /// A zeroed page of guest RAM; its offset in the memfd.
    fn alloc_page(&self) -> Option<u64>;
    fn free_page(&self, offset: u64);
    /// `1 << order` zeroed, contiguous pages; the offset of the first.
    fn alloc_pages(&self, order: usize) -> Option<u64>;
    /// Frees `count` pages from `offset` (from `alloc_pages`).
    fn free_pages(&self, offset: u64, count: usize) {
        for i in 0..count as u64 {
            self.free_page(offset + i * 4096);
        }
    }
}

/// Why `switch` returned.
#[derive(Clone, Copy, Debug)]
pub enum Event {
    /// The guest made a system call: number in `orig_rax`.
    Syscall,
    /// The guest touched memory the host has not mapped (or not with that
    /// access): SIGSEGV on the host. `generation` is the address space's
    /// host generation when this thread last resumed the guest.
    Fault { addr: u64, generation: u64 },
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
    /// Runs the guest in `space` with `regs` until the next event.
    fn switch(&mut self, space: &Arc<dyn AddressSpace>, regs: &mut Regs) -> Event;
    /// A handle other threads use to interrupt this context's guest.
    fn interrupter(&self) -> Arc<dyn Interrupt>;
    /// The guest's FPU/vector state (XSAVE standard format) in `space`'s
    /// host thread, creating the host side if needed.
    fn extended_state(&mut self, space: &Arc<dyn AddressSpace>) -> Option<Vec<u8>>;
    /// Loads FPU/vector state; false if the host refuses it (bad image).
    fn set_extended_state(&mut self, space: &Arc<dyn AddressSpace>, state: &[u8]) -> bool;
    /// The host thread backing address space `id` on this context, as
    /// (process id, thread id), if one exists.
    fn host_thread(&self, id: u64) -> Option<(i32, i32)>;
    /// Forgets the host side of address space `id` (exec, exit); it may be
    /// kept for reuse.
    fn release(&mut self, id: u64);
    /// Releases every address space (the task on this thread ended).
    fn release_all(&mut self);
    /// Gets a host address space ready in advance, so the next task this
    /// context runs starts without waiting for one; lets go of the host
    /// sides of address spaces that are gone.
    fn prepare(&mut self);
    /// A new host thread in `space`'s host address space for a new guest
    /// thread, made by the context running `space` now (stopped in a
    /// system call); another context adopts it with `adopt_thread`.
    fn spawn_thread(&mut self, space: &Arc<dyn AddressSpace>) -> Option<ThreadSeed>;
    /// Takes over a host thread made by `spawn_thread` as this context's
    /// host side of `space`; false if it is gone.
    fn adopt_thread(&mut self, space: &Arc<dyn AddressSpace>, seed: ThreadSeed) -> bool;
    /// The host CPUs the guest thread may run on (its sched_setaffinity
    /// mask, within vkernel's CPUs; never empty): the context places its
    /// host threads, and itself where it follows them, there.
    fn set_cpus(&mut self, cpus: &[usize]);
    /// Host threads this context keeps for address spaces still alive but
    /// not running here now (their other threads run elsewhere): while
    /// there are any, the kernel thread must not end.
    fn parked(&self) -> usize;
}

/// A host thread made for a new guest thread, on its way to the kernel
/// thread that will run it. Dropping it unadopted disposes of the thread.
pub struct ThreadSeed(pub Box<dyn std::any::Any + Send>);

pub trait Interrupt: Send + Sync {
    /// Makes a running `switch` return `Event::Interrupted` soon; when no
    /// switch runs, the next one returns `Event::Interrupted` (at once or
    /// soon), so a kick between the kernel's signal check and its switch
    /// is never lost. Spurious returns are allowed.
    fn interrupt(&self);
}

pub trait Platform: Send + Sync {
    fn new_context(&self) -> Box<dyn Context>;
    /// Whether each kernel thread should be pinned to one CPU (its guest
    /// threads' host threads follow it).
    fn pin_kernel_threads(&self) -> bool {
        true
    }
    fn name(&self) -> &'static str;
    /// What the platform counted, for `-v` at exit.
    fn stats(&self) -> Option<String> {
        None
    }
}

/// The answer to the guest event the calling kernel thread serves will
/// take long (the task sleeps in the kernel, or the call is a slow one):
/// the guest thread waiting for it, if any, should stop spinning for it.
pub fn answer_takes_long() {
    seccomp::answer_takes_long();
}

/// Which platform to run guests on (`--platform`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlatformChoice {
    Ptrace,
    Seccomp,
}

/// Pins the calling kernel thread to one CPU, chosen round-robin among the
/// CPUs vkernel may use. Stubs it creates inherit the pin: a ptrace round
/// trip between threads on one CPU costs ~10 us, across CPUs ~45 us or more.
pub fn pin_kernel_thread() {
    host::system::pin_to_next_cpu();
}

/// The platform for this boot and why it was chosen: the one asked for,
/// else seccomp where the host allows it (it answers system calls without
/// a ptrace stop), else ptrace.
pub fn create(memory: Arc<dyn GuestMemory>, choice: Option<PlatformChoice>) -> std::io::Result<(Arc<dyn Platform>, String)> {
    match choice {
        Some(PlatformChoice::Ptrace) => Ok((Arc::new(ptrace::PtracePlatform::new(memory)?), "asked for (--platform or VKERNEL_PLATFORM)".into())),
        Some(PlatformChoice::Seccomp) => Ok((Arc::new(seccomp::SeccompPlatform::new(memory)?), "asked for (--platform or VKERNEL_PLATFORM)".into())),
        None => match seccomp::SeccompPlatform::new(memory.clone()) {
            Ok(p) => Ok((Arc::new(p), "the default: this host allows it".into())),
            Err(e) => Ok((Arc::new(ptrace::PtracePlatform::new(memory)?), format!("the fallback: the seccomp platform cannot start here ({e})"))),
        },
    }
}
