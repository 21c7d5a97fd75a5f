//! The seccomp platform. Guest threads run free in their stub process:
//! a seccomp filter turns every guest system call into SIGSYS, and the
//! stub's signal handler (stub.s) parks the thread in its slot — a 32 KiB
//! block of guest RAM both sides map — with the kernel's signal frame on
//! the slot's alternate stack. vkernel reads the registers from that
//! frame, services the event, writes the next registers into it and
//! answers; the stub returns to the guest with rt_sigreturn. Both sides
//! spin briefly before they sleep on the slot's state word (a futex).
//!
//! Host mappings are changed by the stub process's mapper thread, which
//! executes batches vkernel writes into a page the stub cannot write;
//! only it may call mmap, under its own filter, so a guest that jumps into
//! stub code can make no host call but waiting and returning. That a
//! batch is done vkernel learns from a byte of guest RAM no stub can write,
//! which only the mapper writes (with pwrite on the memfd): everything the
//! stub can write, a guest thread can write too. A batch of only new mappings for a
//! fault is awaited by the answered thread's handler instead of vkernel
//! (see `StubProcess::post_maps`). ptrace is
//! used only to set a new stub up (by the factory thread, whose death —
//! vkernel's — kills every stub through PR_SET_PDEATHSIG).

pub mod frame;
pub mod stats;
pub mod stub;

use parking_lot::{Condvar, Mutex};
use std::collections::HashMap;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering, fence};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use crate::platform::ptrace::{NoSpace, get_regs, inject_syscall, ptrace, set_regs, wait_stub};
use crate::platform::stub_common::{Batch, CLOSE_OPENED, batches};
use crate::platform::{
    AddressSpace, Context, Event, GuestMemory, HostChanges, HostFile, HostOp, Interrupt, Platform, Regs, SITE_LEN, STUB_REGION_START, SyscallTable, ThreadSeed,
};
use frame::Frame;
use stub::*;

/// The host signal that interrupts a running guest thread.
pub const KICK_SIGNAL: i32 = libc::SIGUSR1;

/// Host signals the stub's handler reports.
const HANDLED_SIGNALS: [i32; 7] = [libc::SIGSYS, libc::SIGSEGV, libc::SIGBUS, libc::SIGFPE, libc::SIGILL, libc::SIGTRAP, KICK_SIGNAL];

/// Flags of the clone that makes a guest host thread (and the mapper).
const THREAD_FLAGS: u64 = (libc::CLONE_VM | libc::CLONE_FS | libc::CLONE_FILES | libc::CLONE_SIGHAND | libc::CLONE_THREAD | libc::CLONE_SYSVSEM) as u64;

/// Stub processes the factories keep ready.
const READY_STUBS: usize = 2;
/// Threads that make stub processes.
const FACTORIES: usize = 2;

/// How long vkernel spins for an event before it sleeps, at most and at
/// least; in between it follows what it measures.
const MAX_SPIN: Duration = Duration::from_micros(50);
const MIN_SPIN: Duration = Duration::from_micros(2);

/// A sleeping wait on a stub checks that the stub still lives this often.
const LIVENESS_INTERVAL: Duration = Duration::from_millis(200);

/// pause instructions the stub spins for an answer before it sleeps (when
/// its kernel thread is on another CPU).
const STUB_SPIN: u32 = 2000;
/// ...and the mapper for its next order.
const MAPPER_SPIN: u32 = 1000;

pub struct SeccompPlatform {
    shared: Arc<Shared>,
}

/// Where a guest thread, its kernel thread and its stub's mapper run.
/// On a VM, waking a thread on an idle CPU costs tens of microseconds (the
/// virtual CPU is halted), and a hand-off that sleeps pays that twice; a
/// wake on the waker's own CPU is an enqueue. So by default the three
/// share one CPU and every hand-off sleeps at once (spinning there would
/// only keep the other side from running), and a thread that makes calls
/// in quick succession is spread: its kernel thread on another CPU, both
/// sides spinning, until its calls come far apart again.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Placement {
    /// Each guest thread with its kernel thread and mapper (pinned).
    Local,
    /// Left to the host, with spinning hand-offs.
    Spread,
    /// Local, spread while calls come quickly (the default).
    Adaptive,
}

/// Contexts in `switch` now: guest threads that run or are being served
/// (not blocked in the kernel).
static RUNNING: AtomicUsize = AtomicUsize::new(0);

/// Counts a context in `switch` while it lives.
struct Running;

impl Running {
    fn new() -> Running {
        RUNNING.fetch_add(1, Ordering::Relaxed);
        Running
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        RUNNING.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A local thread whose events come this soon after their answers, this
/// many times in a row, is spread.
const QUICK_RUN: Duration = Duration::from_micros(25);
const QUICK_EVENTS: u32 = 32;
/// A spread thread whose events come this late, this many times in a
/// row, goes back to local.
const SLOW_EVENTS: u32 = 2;
/// Events after a move that do not count (they pay for the move).
const SETTLING_EVENTS: u32 = 8;

struct Shared {
    memory: Arc<dyn GuestMemory>,
    stub_elf: OwnedFd,
    fsgsbase: bool,
    placement: Placement,
    /// The syscall table and trampolines for patched sites (None: no
    /// patching, without FSGSBASE or when turned off).
    patching: Option<Patching>,
    ready: Mutex<Ready>,
    /// Signalled when the factories should make more.
    wanted: Condvar,
    /// Signalled when a factory made one, or failed to.
    made: Condvar,
}

/// The factory's stock of stub processes.
#[derive(Default)]
struct Ready {
    stubs: Vec<Arc<StubProcess>>,
    /// Stubs being made now, and contexts waiting for one.
    making: usize,
    waiting: usize,
    /// The factory failed this many times in a row (out of host
    /// processes or memory); past `GIVE_UP_FAILURES` waiters give up.
    failures: u32,
    /// When a stub was last taken (or the first one made).
    last_taken: Option<Instant>,
}

/// The stock is refilled only after this long without a stub taken:
/// making one costs a millisecond or two of CPU in many small steps, and
/// on a small host that would be taken from the very guests starting up
/// (a short-lived program is over before then). A context that finds
/// the stock empty gets its stub made at once.
const REFILL_QUIET: Duration = Duration::from_millis(20);

/// Consecutive failures to make a stub (about a minute of retries) after
/// which a guest that needs one is lost, as under host memory exhaustion.
const GIVE_UP_FAILURES: u32 = 70;

impl SeccompPlatform {
    /// The platform, or why the host does not allow it (checked by making
    /// a first stub).
    pub fn new(memory: Arc<dyn GuestMemory>) -> std::io::Result<SeccompPlatform> {
        // For the test of the fallback to ptrace (a host without seccomp).
        if std::env::var_os("VKERNEL_TEST_NO_SECCOMP").is_some() {
            return Err(std::io::Error::other("VKERNEL_TEST_NO_SECCOMP is set"));
        }
        // SAFETY: memfd_create with a valid name; the fd is ours.
        let fd = unsafe { libc::memfd_create(c"vkernel-seccomp-stub".as_ptr(), libc::MFD_CLOEXEC) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: fd is a fresh descriptor we own.
        let stub_elf = unsafe { OwnedFd::from_raw_fd(fd) };
        crate::platform::host::files::write_all_fd(fd, STUB_ELF)?;
        let fsgsbase = crate::platform::host::system::has_fsgsbase();
        let patching = if fsgsbase && std::env::var_os("VKERNEL_NO_PATCHING").is_none() { Patching::new(memory.as_ref()) } else { None };
        // VKERNEL_SECCOMP_PLACEMENT=local|spread picks one for comparisons.
        let placement = match std::env::var("VKERNEL_SECCOMP_PLACEMENT").as_deref() {
            Ok("local") => Placement::Local,
            Ok("spread") => Placement::Spread,
            _ => Placement::Adaptive,
        };
        let shared = Arc::new(Shared {
            memory,
            stub_elf,
            fsgsbase,
            placement,
            patching,
            ready: Mutex::new(Ready::default()),
            wanted: Condvar::new(),
            made: Condvar::new(),
        });
        let (tx, rx) = std::sync::mpsc::channel();
        let factory_shared = shared.clone();
        std::thread::Builder::new().name("vkernel-stubs".into()).spawn(move || factory(factory_shared, tx))?;
        match rx.recv() {
            Ok(Ok(())) => {
                // More factories make bursts of forks wait less (stub set-up
                // is mostly waiting for the new process to be scheduled).
                for _ in 1..FACTORIES {
                    let (tx, _) = std::sync::mpsc::channel();
                    let factory_shared = shared.clone();
                    std::thread::Builder::new().name("vkernel-stubs".into()).spawn(move || factory(factory_shared, tx))?;
                }
                Ok(SeccompPlatform { shared })
            }
            Ok(Err(e)) => Err(std::io::Error::other(e)),
            Err(_) => Err(std::io::Error::other("the stub factory stopped")),
        }
    }
}

impl Platform for SeccompPlatform {
    fn new_context(&self) -> Box<dyn Context> {
        Box::new(SeccompContext {
            shared: self.shared.clone(),
            threads: HashMap::new(),
            spare: Vec::new(),
            kick: Arc::new(Kick { target: AtomicU64::new(0), pending: AtomicBool::new(false) }),
            spin: MAX_SPIN,
            spread: self.shared.placement == Placement::Spread,
            streak: 0,
            settling: 0,
            cpus: crate::platform::host::system::allowed_cpus().to_vec(),
        })
    }

    fn pin_kernel_threads(&self) -> bool {
        self.shared.placement != Placement::Spread
    }

    fn name(&self) -> &'static str {
        "seccomp"
    }

    fn stats(&self) -> Option<String> {
        Some(stats::report())
    }
}

/// A factory: a thread that lives as long as vkernel and forks stubs (so
/// PR_SET_PDEATHSIG ties them to vkernel's life, not to a worker's) and
/// sets them up, keeping a few ready, more while contexts wait for one.
/// Reports on `started` whether the first one worked.
fn factory(shared: Arc<Shared>, started: std::sync::mpsc::Sender<Result<(), String>>) {
    let mut started = Some(started);
    loop {
        {
            let mut ready = shared.ready.lock();
            loop {
                let stock = ready.stubs.len() + ready.making;
                if stock < ready.waiting || (started.is_some() && stock == 0) {
                    break;
                }
                if stock < READY_STUBS {
                    let quiet = ready.last_taken.map_or(REFILL_QUIET, |t| t.elapsed());
                    if quiet >= REFILL_QUIET {
                        break;
                    }
                    shared.wanted.wait_for(&mut ready, REFILL_QUIET - quiet);
                } else {
                    shared.wanted.wait(&mut ready);
                }
            }
            ready.making += 1;
        }
        let began = Instant::now();
        let made = make_stub(&shared);
        shared.ready.lock().making -= 1;
        match made {
            Ok(stub) => {
                stats::STUBS_MADE.fetch_add(1, Ordering::Relaxed);
                stats::STUBS_MAKE_NS.fetch_add(began.elapsed().as_nanos() as u64, Ordering::Relaxed);
                let mut ready = shared.ready.lock();
                if let Some(s) = started.take() {
                    // The first guest takes this one at once.
                    ready.last_taken = Some(Instant::now());
                    let _ = s.send(Ok(()));
                }
                ready.stubs.push(Arc::new(stub));
                ready.failures = 0;
                shared.made.notify_one();
            }
            Err(e) => {
                if let Some(s) = started.take() {
                    let _ = s.send(Err(e));
                    return;
                }
                // Out of host resources for now: try again later.
                let failures = {
                    let mut ready = shared.ready.lock();
                    ready.failures = ready.failures.saturating_add(1);
                    ready.failures
                };
                shared.made.notify_all();
                std::thread::sleep(Duration::from_millis(10 * failures.min(100) as u64));
            }
        }
    }
}

/// The pages patched sites go through, shared by every stub: the
/// syscall table (read-only at `SYSCALL_TABLE` in address spaces with a
/// patched site, mapped by the space itself) and the trampolines (r-x at
/// `TRAMPOLINES` in every stub).
struct Patching {
    table: SyscallTable,
    trampolines: u64,
}

const TRAMPOLINES_LEN: u64 = SYSCALL_ENTRIES as u64 * TRAMPOLINE_SIZE;

impl Patching {
    fn new(memory: &dyn GuestMemory) -> Option<Patching> {
        let table_len = SYSCALL_ENTRIES as u64 * 8;
        let order = |len: u64| (len / 4096).trailing_zeros() as usize;
        let table_offset = memory.alloc_pages(order(table_len))?;
        let trampolines = memory.alloc_pages(order(TRAMPOLINES_LEN))?;
        let table = memory.ram().bytes(table_offset, table_len as usize);
        let code = memory.ram().bytes(trampolines, TRAMPOLINES_LEN as usize);
        for k in 0..SYSCALL_ENTRIES as usize {
            let at = TRAMPOLINES + k as u64 * TRAMPOLINE_SIZE;
            table[k * 8..k * 8 + 8].copy_from_slice(&at.to_ne_bytes());
            // mov $k, %r11d; jmp FAST_ENTRY; int3 padding.
            let t = &mut code[k * 16..k * 16 + 16];
            t.fill(0xcc);
            t[0..2].copy_from_slice(&[0x41, 0xbb]);
            t[2..6].copy_from_slice(&(k as u32).to_le_bytes());
            t[6] = 0xe9;
            let rel = FAST_ENTRY as i64 - (at as i64 + 11);
            t[7..11].copy_from_slice(&(rel as i32).to_le_bytes());
        }
        Some(Patching { table: SyscallTable { addr: SYSCALL_TABLE, len: table_len, offset: table_offset, entries: SYSCALL_ENTRIES }, trampolines })
    }
}

/// Sees the last batch posted without waiting done; had it failed, the
/// space's host mappings are dropped, so that a fault on a page it should
/// have mapped maps it again rather than being taken for a real one. Err
/// when the stub is gone.
fn take_batch_failure(process: &StubProcess, space: &Arc<dyn AddressSpace>) -> Result<(), ()> {
    if process.take_failure()? {
        let _sync = space.host_sync().lock();
        space.forget_host_mappings();
    }
    Ok(())
}

/// Why no stub process came.
enum NoStub {
    /// The task was interrupted while waiting (a signal, a kill).
    Interrupted,
    /// The host cannot make one (it has run out of processes or memory).
    Exhausted,
}

impl Shared {
    /// A ready stub process. Waits for the factory as long as it takes —
    /// a loaded host makes stubs slowly, and that must only make guests
    /// slower — but ends on `interrupted`, and when the factory keeps
    /// failing.
    fn take_stub(&self, interrupted: &AtomicBool) -> Result<Arc<StubProcess>, NoStub> {
        let mut ready = self.ready.lock();
        ready.last_taken = Some(Instant::now());
        if let Some(s) = ready.stubs.pop() {
            self.wanted.notify_one();
            return Ok(s);
        }
        ready.waiting += 1;
        self.wanted.notify_one();
        let got = loop {
            if let Some(s) = ready.stubs.pop() {
                break Ok(s);
            }
            if interrupted.swap(false, Ordering::AcqRel) {
                break Err(NoStub::Interrupted);
            }
            if ready.failures >= GIVE_UP_FAILURES {
                break Err(NoStub::Exhausted);
            }
            // Interrupt::interrupt cannot reach this condvar: look at the
            // flag now and then.
            self.made.wait_for(&mut ready, Duration::from_millis(20));
        };
        ready.waiting -= 1;
        if got.is_err() {
            // Our stub, when it comes, is someone else's.
            self.made.notify_one();
        }
        got
    }
}

/// One stub process: the host side of a guest address space.
struct StubProcess {
    tgid: i32,
    mapper_tid: i32,
    memory: Arc<dyn GuestMemory>,
    ops_page: u64,
    mapper_page: u64,
    shared_page: u64,
    /// A page of guest RAM no stub can write (mapped read-only at
    /// DONE_ADDR): its first byte is set by this stub's mapper (and
    /// nothing else, through pwrite) when a batch is done.
    done_page: u64,
    /// The mapper spins for its next order, and vkernel for its answers
    /// (placement left to the host); otherwise it shares its threads' CPU.
    mapper_spins: bool,
    /// Guest RAM offset of each slot in use.
    slots: Mutex<Vec<Option<u64>>>,
    /// Host threads parked in their slots that no guest thread uses (a
    /// guest thread ended while its address space lives on); a new guest
    /// thread of the space takes one before a new one is made.
    idle: Mutex<Vec<Seed>>,
    /// The mapper's orders (taken while ordering).
    request: Mutex<Orders>,
    /// A batch was posted that nobody waited for yet (mirrors
    /// `Orders::in_flight`, for the wedge check).
    in_flight: AtomicBool,
}

/// The state of a stub's mapper orders.
#[derive(Default)]
struct Orders {
    /// The last request number given.
    seq: u32,
    /// The last batch was posted without waiting (`post_maps`): it must
    /// be seen done before the ops page is written again or its result
    /// is trusted.
    in_flight: bool,
    /// Such a batch was seen to fail: the stub's guest mappings were
    /// cleared and the space must forget its host mappings
    /// (`take_failure`).
    failed: bool,
    /// Frames that batch replaced: reusable once it is done.
    frees: Option<(Arc<dyn AddressSpace>, Vec<u32>)>,
    /// Host files that batch opens by their fd numbers: open until done.
    files: Vec<HostFile>,
}

/// The munmap of every guest mapping in a stub (followed by CLOSE_OPENED).
const CLEAR_OP: [u64; 7] = [libc::SYS_munmap as u64, 0, STUB_REGION_START, 0, 0, 0, 0];

impl Drop for StubProcess {
    fn drop(&mut self) {
        // SAFETY: killing and reaping a stub process we made; its pages
        // are freed only once it is gone.
        unsafe {
            libc::kill(self.tgid, libc::SIGKILL);
            let mut status = 0;
            libc::waitpid(self.tgid, &mut status, libc::__WALL);
        }
        // No host mapping is left: frames a batch replaced are free.
        if let Some((space, frees)) = self.request.get_mut().frees.take() {
            space.host_changes_applied(HostChanges { ops: Vec::new(), deferred_frees: frees });
        }
        for page in [self.ops_page, self.mapper_page, self.shared_page, self.done_page] {
            self.memory.free_page(page);
        }
        for offset in self.slots.get_mut().iter().flatten() {
            self.memory.free_pages(*offset, SLOT_PAGES);
        }
    }
}

fn slot_addr(slot: usize) -> u64 {
    SLOTS_ADDR + slot as u64 * SLOT_SIZE
}

impl StubProcess {
    fn ram(&self) -> &crate::platform::host::ram::GuestRam {
        self.memory.ram()
    }

    /// A free slot with its memory (zeroed, its alternate stack recorded
    /// in its control page). Not yet mapped in the stub.
    fn alloc_slot(&self) -> Option<(usize, u64)> {
        let mut slots = self.slots.lock();
        let slot = match slots.iter().position(|s| s.is_none()) {
            Some(i) => i,
            None if slots.len() < MAX_SLOTS => {
                slots.push(None);
                slots.len() - 1
            }
            None => return None,
        };
        let offset = self.memory.alloc_pages(SLOT_PAGES.trailing_zeros() as usize)?;
        slots[slot] = Some(offset);
        drop(slots);
        // stack_t { ss_sp, ss_flags, ss_size } for the thread's sigaltstack.
        let ctl = self.ram().bytes(offset, 4096);
        ctl[slot::ALTSTACK..slot::ALTSTACK + 8].copy_from_slice(&(slot_addr(slot) + slot::STACK_START).to_ne_bytes());
        ctl[slot::ALTSTACK + 8..slot::ALTSTACK + 16].fill(0);
        ctl[slot::ALTSTACK + 16..slot::ALTSTACK + 24].copy_from_slice(&(SLOT_SIZE - slot::STACK_START).to_ne_bytes());
        Some((slot, offset))
    }

    fn free_slot(&self, slot: usize) {
        if let Some(offset) = self.slots.lock().get_mut(slot).and_then(|s| s.take()) {
            self.memory.free_pages(offset, SLOT_PAGES);
        }
    }

    /// Has the mapper (or a thread) of this stub died?
    fn thread_alive(&self, tid: i32) -> bool {
        // SAFETY: signal 0 to a thread of our own stub only checks it.
        unsafe { libc::syscall(libc::SYS_tgkill, self.tgid, tid, 0) == 0 }
    }

    /// /proc's status of one of its host threads (empty if gone).
    fn thread_status(&self, tid: i32) -> String {
        std::fs::read_to_string(format!("/proc/{}/task/{tid}/status", self.tgid)).unwrap_or_default()
    }

    /// The futex word a host thread sleeps on now, from /proc's view of
    /// its system call (None when it runs or is in another call).
    fn futex_sleep_addr(&self, tid: i32) -> Option<u64> {
        let call = std::fs::read_to_string(format!("/proc/{}/task/{tid}/syscall", self.tgid)).ok()?;
        let mut fields = call.split_whitespace();
        if fields.next()? != libc::SYS_futex.to_string() {
            return None;
        }
        u64::from_str_radix(fields.next()?.trim_start_matches("0x"), 16).ok()
    }

    /// Does the host thread with this status hold the kick signal blocked
    /// and pending?
    /// Guest code runs with no signal blocked, and the stub's handler
    /// blocks them only while it waits for vkernel: a thread asleep so
    /// while vkernel waits for it is stuck in the stub for good.
    fn wedged(status: &str) -> bool {
        let mask = |field: &str| status.lines().find_map(|l| l.strip_prefix(field)).and_then(|v| u64::from_str_radix(v.trim(), 16).ok()).unwrap_or(0);
        let kick = 1u64 << (KICK_SIGNAL - 1);
        // Asleep, not merely slow to be scheduled on a loaded host.
        let asleep = status.lines().any(|l| l.starts_with("State:") && l.contains("S (sleeping)"));
        asleep && mask("SigBlk:") & kick != 0 && (mask("SigPnd:") | mask("ShdPnd:")) & kick != 0
    }

    /// Writes one batch (at most `ops::MAX` ops) into the ops page, clears
    /// the done byte and wakes the mapper; returns its request number.
    fn post(&self, orders: &mut Orders, chunk: &[[u64; 7]]) -> u32 {
        stats::OPS.fetch_add(chunk.len() as u64, Ordering::Relaxed);
        let page = self.ram().page(self.ops_page);
        page[ops::COUNT..ops::COUNT + 8].copy_from_slice(&(chunk.len() as u64).to_ne_bytes());
        for (i, op) in chunk.iter().enumerate() {
            for (j, w) in op.iter().enumerate() {
                let at = ops::FIRST + i * ops::OP_SIZE + j * 8;
                page[at..at + 8].copy_from_slice(&w.to_ne_bytes());
            }
        }
        orders.seq = orders.seq.wrapping_add(1);
        let done = self.ram().word(self.done_page);
        done.store(0, Ordering::Relaxed);
        let seq = self.ram().word(self.ops_page + ops::SEQ as u64);
        seq.store(orders.seq, Ordering::Release);
        // Always woken, and always waking us: sleep flags in the
        // guest-writable MAPPER page could be forged to leave either
        // side asleep.
        futex_wake(seq);
        orders.seq
    }

    /// Waits until the posted batch is done; Ok(true) when every call in
    /// it succeeded (as the guest-writable answers say), Err when the
    /// mapper is gone.
    fn wait_done(&self) -> Result<bool, ()> {
        let done = self.ram().word(self.done_page);
        let seq = self.ram().word(self.ops_page + ops::SEQ as u64);
        let hint = self.ram().word(self.mapper_page + mapper::DONE as u64);
        let alive = || {
            futex_wake(seq);
            self.thread_alive(self.mapper_tid)
        };
        // Done when the done byte is set (any nonzero byte of it: the
        // mapper writes it only after its last call returned).
        // The mapper shares its threads' CPU unless placement is the host's.
        let spin = if self.mapper_spins { MAX_SPIN } else { Duration::ZERO };
        if !wait_on(done, hint, None, |v| v != 0, spin, alive, &stats::BATCHES) {
            return Err(());
        }
        // Results are guest-writable: a lie about them can only make
        // vkernel redo the guest's own mappings (see clear_mappings).
        let answers = self.ram().page(self.mapper_page);
        let left = u64::from_ne_bytes(answers[mapper::LEFT..mapper::LEFT + 8].try_into().unwrap_or([0; 8]));
        Ok(left == 0)
    }

    /// Sees a batch posted without waiting done (recording whether it
    /// failed); Err when the mapper is gone.
    fn settle(&self, orders: &mut Orders) -> Result<(), ()> {
        if !orders.in_flight {
            return Ok(());
        }
        // The answered thread waited for it before it returned to the
        // guest: usually done by now, and no hand-off is counted.
        let ok = if self.ram().word(self.done_page).load(Ordering::Acquire) != 0 {
            let answers = self.ram().page(self.mapper_page);
            u64::from_ne_bytes(answers[mapper::LEFT..mapper::LEFT + 8].try_into().unwrap_or([0; 8])) == 0
        } else {
            self.wait_done()?
        };
        if !ok {
            // The host refused a mapping (a MAP_FIXED that failed may
            // have left the old one): no frame it replaced is free until
            // every guest mapping is gone.
            self.post(orders, &[CLEAR_OP, CLOSE_OPENED]);
            if self.wait_done().is_err() && !self.thread_alive(self.mapper_tid) {
                return Err(());
            }
            orders.failed = true;
        }
        orders.in_flight = false;
        self.in_flight.store(false, Ordering::Release);
        if let Some((space, frees)) = orders.frees.take() {
            space.host_changes_applied(HostChanges { ops: Vec::new(), deferred_frees: frees });
        }
        orders.files.clear();
        Ok(())
    }

    /// Did a batch posted without waiting fail (the host refused a
    /// mapping)? Then the stub's guest mappings are gone, and the caller
    /// makes the space forget them. Err when the mapper is gone.
    fn take_failure(&self) -> Result<bool, ()> {
        let mut orders = self.request.lock();
        self.settle(&mut orders)?;
        Ok(std::mem::take(&mut orders.failed))
    }

    /// Has the mapper execute `ops` (nr + six arguments each); returns
    /// the last result, or Err when one failed or the stub is gone.
    fn run_ops(&self, ops: &[[u64; 7]]) -> Result<u64, ()> {
        let batches: Vec<Batch> = ops.chunks(ops::MAX).map(|c| Batch { calls: c.to_vec(), paths: Vec::new() }).collect();
        self.run_batches(&batches)
    }

    /// `run_ops` of batches made by `stub_common::batches` (their paths
    /// written with their calls).
    fn run_batches(&self, batches: &[Batch]) -> Result<u64, ()> {
        let mut orders = self.request.lock();
        self.settle(&mut orders)?;
        let mut last = 0;
        for batch in batches {
            batch.write_paths(&mut self.ram().page(self.shared_page)[shared::PATHS..]);
            self.post(&mut orders, &batch.calls);
            if !self.wait_done()? {
                return Err(());
            }
            let answers = self.ram().page(self.mapper_page);
            last = u64::from_ne_bytes(answers[mapper::RESULT..mapper::RESULT + 8].try_into().unwrap_or([0; 8]));
        }
        Ok(last)
    }

    /// Gives the mapper one batch of new mappings (at most `ops::MAX`) and
    /// does not wait: the thread about to be answered waits for the
    /// returned request number in its handler instead, so its fault costs
    /// one hand-off less. Everyone else who orders, resumes a thread or
    /// looks at an event first sees it done (`settle`). Err when the
    /// mapper is gone.
    /// `files` are the host files it opens through vkernel's fds: they
    /// stay open until it is seen done (a number closed and reused before
    /// would open another file).
    fn post_maps(&self, batch: &Batch, files: Vec<HostFile>, frees: Option<(Arc<dyn AddressSpace>, Vec<u32>)>) -> Result<u32, ()> {
        let mut orders = self.request.lock();
        self.settle(&mut orders)?;
        batch.write_paths(&mut self.ram().page(self.shared_page)[shared::PATHS..]);
        let seq = self.post(&mut orders, &batch.calls);
        orders.in_flight = true;
        orders.frees = frees;
        orders.files = files;
        self.in_flight.store(true, Ordering::Release);
        stats::HANDED.fetch_add(1, Ordering::Relaxed);
        Ok(seq)
    }

    /// Has the last batch posted been seen done, or is it done? (A thread
    /// waiting for it in its handler sleeps with the kick blocked and is
    /// not wedged.)
    fn mapper_idle(&self) -> bool {
        !self.in_flight.load(Ordering::Acquire) || self.ram().word(self.done_page).load(Ordering::Acquire) != 0
    }

    /// Unmaps every guest mapping from the stub. Err only when the mapper
    /// is gone: the answer is not looked at (a guest can forge it, and
    /// this munmap cannot fail), so forged answers cannot turn a retry
    /// into a lost guest.
    fn clear_mappings(&self) -> Result<(), ()> {
        match self.run_ops(&[CLEAR_OP, CLOSE_OPENED]) {
            Ok(_) => Ok(()),
            Err(()) if self.thread_alive(self.mapper_tid) => Ok(()),
            Err(()) => Err(()),
        }
    }
}

/// Waits until `pred(word)` holds: spins up to `spin`, then sleeps on the
/// word (announcing it in `sleeps`), checking `alive` now and then. False
/// when `alive` says the other side is gone.
fn wait_for(word: &AtomicU32, sleeps: &AtomicU32, pred: impl Fn(u32) -> bool, spin: Duration, alive: impl Fn() -> bool, tally: &stats::Tally) -> bool {
    wait_on(word, word, Some(sleeps), pred, spin, alive, tally)
}

/// `wait_for` where the condition is on `word` but the other side wakes
/// sleepers through the futex `wake` (changing it before the wake), when
/// `sleeps` says it should, or always.
#[allow(clippy::too_many_arguments)]
fn wait_on(
    word: &AtomicU32,
    wake: &AtomicU32,
    sleeps: Option<&AtomicU32>,
    pred: impl Fn(u32) -> bool,
    spin: Duration,
    alive: impl Fn() -> bool,
    tally: &stats::Tally,
) -> bool {
    let start = Instant::now();
    let mut n = 0u32;
    while !spin.is_zero() {
        if pred(word.load(Ordering::Acquire)) {
            tally.count(false);
            return true;
        }
        std::hint::spin_loop();
        n += 1;
        if n % 64 == 0 {
            if start.elapsed() >= spin {
                break;
            }
            // Another runnable thread on this CPU (perhaps the very one
            // we wait for) gets it; with none, this returns at once.
            if n % 256 == 0 {
                std::thread::yield_now();
            }
        }
    }
    loop {
        let w = wake.load(Ordering::Acquire);
        sleeps.inspect(|s| s.store(1, Ordering::SeqCst));
        fence(Ordering::SeqCst);
        if pred(word.load(Ordering::Acquire)) {
            sleeps.inspect(|s| s.store(0, Ordering::Relaxed));
            tally.count(false);
            return true;
        }
        let woken = futex_wait(wake, w, LIVENESS_INTERVAL);
        sleeps.inspect(|s| s.store(0, Ordering::Relaxed));
        if pred(word.load(Ordering::Acquire)) {
            tally.count(true);
            return true;
        }
        if !woken && !pred(word.load(Ordering::Acquire)) && !alive() {
            return false;
        }
    }
}

fn futex_wake(word: &AtomicU32) {
    // SAFETY: FUTEX_WAKE on a word of guest RAM shared with the stub (not
    // private: the stub is another process).
    unsafe { libc::syscall(libc::SYS_futex, word.as_ptr(), libc::FUTEX_WAKE, 1, 0, 0, 0) };
}

/// Sleeps while `word` holds `expected`, at most `timeout`; false on a
/// timeout.
fn futex_wait(word: &AtomicU32, expected: u32, timeout: Duration) -> bool {
    let ts = libc::timespec { tv_sec: timeout.as_secs() as i64, tv_nsec: timeout.subsec_nanos() as i64 };
    // SAFETY: FUTEX_WAIT on a word of guest RAM with a local timespec.
    let r = unsafe { libc::syscall(libc::SYS_futex, word.as_ptr(), libc::FUTEX_WAIT, expected, &ts as *const libc::timespec, 0, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ETIMEDOUT)
}

/// Forks and sets up a stub process: its pages, handlers, mapper thread
/// and filters; its first thread waits in slot 0 for its first run.
fn make_stub(shared: &Arc<Shared>) -> Result<StubProcess, String> {
    let memory = &shared.memory;
    let page = || memory.alloc_page().ok_or_else(|| "no guest memory for a stub".to_string());
    let (ops_page, mapper_page, shared_page, done_page) = (page()?, page()?, page()?, page()?);
    let pid = crate::platform::spawn::fork_stub(memory.ram().memfd(), shared.stub_elf.as_raw_fd());
    if pid < 0 {
        for p in [ops_page, mapper_page, shared_page, done_page] {
            memory.free_page(p);
        }
        return Err(format!("cannot fork a stub: {}", std::io::Error::last_os_error()));
    }
    let mut process = StubProcess {
        tgid: pid,
        mapper_tid: 0,
        memory: memory.clone(),
        ops_page,
        mapper_page,
        shared_page,
        done_page,
        mapper_spins: shared.placement == Placement::Spread,
        slots: Mutex::new(Vec::new()),
        idle: Mutex::new(Vec::new()),
        request: Mutex::new(Orders::default()),
        in_flight: AtomicBool::new(false),
    };
    // On failure, dropping `process` kills the stub and frees its pages.
    setup_stub(shared, &mut process)?;
    Ok(process)
}

fn setup_stub(shared: &Shared, p: &mut StubProcess) -> Result<(), String> {
    let pid = p.tgid;
    let fail = |what: &str| format!("setting up a seccomp stub: {what}");
    let status = wait_stub(pid);
    if !libc::WIFSTOPPED(status) || libc::WSTOPSIG(status) != libc::SIGTRAP {
        return Err(fail("the stub did not start"));
    }
    if ptrace(libc::PTRACE_SETOPTIONS, pid, 0, libc::PTRACE_O_EXITKILL as u64) != 0 {
        return Err(fail("PTRACE_SETOPTIONS"));
    }
    let t = get_regs(pid).ok_or_else(|| fail("PTRACE_GETREGS"))?;
    let call = |nr: i64, args: [u64; 6]| inject_syscall(pid, SYSCALL_SITE, &t, nr, args).map_err(|_| fail("an injected call"));
    let code_end = STUB_CODE + 0x1000;
    call(libc::SYS_munmap, [0, STUB_BASE, 0, 0, 0, 0])?;
    call(libc::SYS_munmap, [code_end, USER_TOP - code_end, 0, 0, 0, 0])?;

    // The SHARED page: both filters, the signal masks, the tunables.
    write_shared_page(shared, p.ram().page(p.shared_page), p.done_page);
    let (slot0, slot0_offset) = p.alloc_slot().ok_or_else(|| fail("no guest memory for a slot"))?;
    let map = |addr: u64, len: u64, prot: i32, offset: u64| {
        let r = call(libc::SYS_mmap, [addr, len, prot as u64, (libc::MAP_SHARED | libc::MAP_FIXED) as u64, STUB_MEMFD as u64, offset])?;
        if r as u64 != addr { Err(fail("mmap")) } else { Ok(()) }
    };
    map(OPS_ADDR, 4096, libc::PROT_READ, p.ops_page)?;
    map(MAPPER_ADDR, 4096, libc::PROT_READ | libc::PROT_WRITE, p.mapper_page)?;
    map(SHARED_ADDR, 4096, libc::PROT_READ, p.shared_page)?;
    map(DONE_ADDR, 4096, libc::PROT_READ, p.done_page)?;
    map(slot_addr(slot0), SLOT_SIZE, libc::PROT_READ | libc::PROT_WRITE, slot0_offset)?;
    if let Some(patching) = &shared.patching {
        map(TRAMPOLINES, TRAMPOLINES_LEN, libc::PROT_READ | libc::PROT_EXEC, patching.trampolines)?;
    }

    // Handlers: struct kernel_sigaction { handler, flags, restorer, mask }
    // in the OPS page (the kernel reads it; the stub cannot write it).
    let ops = p.ram().page(p.ops_page);
    const SA_RESTORER: u64 = 0x0400_0000;
    let flags = (libc::SA_SIGINFO | libc::SA_ONSTACK) as u64 | SA_RESTORER;
    for (w, v) in [HANDLER, flags, RESTORER, u64::MAX].iter().enumerate() {
        ops[2048 + w * 8..2048 + w * 8 + 8].copy_from_slice(&v.to_ne_bytes());
    }
    for sig in HANDLED_SIGNALS {
        if call(libc::SYS_rt_sigaction, [sig as u64, OPS_ADDR + 2048, 0, 8, 0, 0])? != 0 {
            return Err(fail("rt_sigaction"));
        }
    }
    ops[2048..2080].fill(0);
    if call(libc::SYS_sigaltstack, [slot_addr(slot0) + slot::ALTSTACK as u64, 0, 0, 0, 0, 0])? != 0 {
        return Err(fail("sigaltstack"));
    }
    if call(libc::SYS_prctl, [libc::PR_SET_NO_NEW_PRIVS as u64, 1, 0, 0, 0, 0])? != 0 {
        return Err(fail("PR_SET_NO_NEW_PRIVS"));
    }
    // Guest membarrier(2) reaches every stub through the host's expedited
    // global barrier, which needs this registration.
    const MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED: u64 = 4;
    let _ = call(libc::SYS_membarrier, [MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED, 0, 0, 0, 0, 0]);
    // The mapper thread (it installs its own filter first thing).
    let mapper = inject_syscall(pid, MAPPER_CLONE_SITE, &t, libc::SYS_clone, [THREAD_FLAGS, 0, 0, 0, 0, 0]).map_err(|_| fail("clone"))?;
    if mapper <= 0 {
        return Err(fail("clone of the mapper"));
    }
    p.mapper_tid = mapper as i32;
    // Last, the guest filter on this thread, then let it go to the thread
    // entry, where its int3 parks it in slot 0.
    if call(libc::SYS_seccomp, [libc::SECCOMP_SET_MODE_FILTER as u64, 0, SHARED_ADDR + shared::GUEST_PROG as u64, 0, 0, 0])? != 0 {
        return Err(fail("seccomp"));
    }
    let mut r = t;
    r.rip = THREAD_ENTRY;
    r.orig_rax = u64::MAX;
    if !set_regs(pid, &r) || ptrace(libc::PTRACE_DETACH, pid, 0, 0) != 0 {
        return Err(fail("PTRACE_DETACH"));
    }
    // Wait until it is parked.
    let ram = p.ram();
    let state = ram.word(slot0_offset + slot::STATE as u64);
    let vk_sleeps = ram.word(slot0_offset + slot::VK_SLEEPS as u64);
    if !wait_for(state, vk_sleeps, |v| v == slot::EVENT, MAX_SPIN, || p.thread_alive(pid), &stats::EVENTS) {
        return Err(fail("the first thread never parked"));
    }
    p.idle.lock().push(Seed { slot: slot0, offset: slot0_offset, tid: pid });
    Ok(())
}

/// Writes the SHARED page: the filter programs and their sock_fprogs, the
/// masks, whether FSGSBASE may be used, the spin counts.
fn write_shared_page(shared: &Shared, page: &mut [u8], done_page: u64) {
    let put_prog = |page: &mut [u8], fprog_at: usize, prog_at: usize, prog: &[SockFilter]| {
        page[fprog_at..fprog_at + 2].copy_from_slice(&(prog.len() as u16).to_ne_bytes());
        page[fprog_at + 8..fprog_at + 16].copy_from_slice(&(SHARED_ADDR + prog_at as u64).to_ne_bytes());
        for (i, ins) in prog.iter().enumerate() {
            let at = prog_at + i * 8;
            page[at..at + 2].copy_from_slice(&ins.code.to_ne_bytes());
            page[at + 2] = ins.jt;
            page[at + 3] = ins.jf;
            page[at + 4..at + 8].copy_from_slice(&ins.k.to_ne_bytes());
        }
    };
    put_prog(page, shared::GUEST_PROG, shared::GUEST_FILTER, &filter(GUEST_ALLOWED));
    put_prog(page, shared::MAPPER_PROG, shared::MAPPER_FILTER, &filter(MAPPER_ALLOWED));
    page[shared::ALL_SIGNALS..shared::ALL_SIGNALS + 8].copy_from_slice(&u64::MAX.to_ne_bytes());
    page[shared::NO_SIGNALS..shared::NO_SIGNALS + 8].fill(0);
    page[shared::FSGSBASE..shared::FSGSBASE + 4].copy_from_slice(&(shared.fsgsbase as u32).to_ne_bytes());
    let mapper_spin = if shared.placement == Placement::Spread { MAPPER_SPIN } else { 1 };
    page[shared::MAPPER_SPIN..shared::MAPPER_SPIN + 4].copy_from_slice(&mapper_spin.to_ne_bytes());
    page[shared::DONE_OFFSET..shared::DONE_OFFSET + 8].copy_from_slice(&done_page.to_ne_bytes());
    page[shared::ONE] = 1;
    page[shared::WAIT_TS..shared::WAIT_TS + 8].fill(0);
    page[shared::WAIT_TS + 8..shared::WAIT_TS + 16].copy_from_slice(&10_000_000u64.to_ne_bytes());
}

/// A host thread parked in a slot, not driven by any context.
struct Seed {
    slot: usize,
    offset: u64,
    tid: i32,
}

/// A host thread this context drives for one address space.
struct HostThread {
    process: Arc<StubProcess>,
    slot: usize,
    offset: u64,
    tid: i32,
    space: Weak<dyn AddressSpace>,
    /// The frame it is parked in (after an event, until answered).
    frame: Option<Frame>,
    /// TLS bases when the host has no FSGSBASE (set through arch_prctl).
    fs_base: u64,
    gs_base: u64,
    /// Runs a new program: its FPU state starts clean unless loaded.
    fresh: bool,
    /// Parked at a call from a patched site (registers in the slot's F_
    /// words, no frame).
    fast: bool,
    /// The registers a fast call was last answered with: the thread's
    /// while it returns to the guest (an event on the way back is an
    /// interrupt at those registers).
    answered: Option<Regs>,
}

const SEGV_ACCERR: i32 = 2;

/// Registers as the `syscall` instruction leaves them for system call
/// `nr` returning to `ret` (rcx: the return address, r11: the flags), and
/// as vkernel serves a trapped call (rax: -ENOSYS until answered).
fn syscall_at(r: &mut Regs, ret: u64, nr: u64) {
    r.rip = ret;
    r.rcx = ret;
    r.r11 = r.eflags;
    r.orig_rax = nr;
    r.rax = (-(libc::ENOSYS as i64)) as u64;
}

/// An event from a thread in the stub's patched-site code (a signal
/// frame whose rip is there), in the guest's terms; None for anything
/// else in the stub region.
fn stub_code_event(space: &Arc<dyn AddressSpace>, t: &HostThread, signo: i32, r: &mut Regs) -> Option<Event> {
    let rip = r.rip;
    // Only the kick (and the trap that reports one) is expected in this
    // code; anything else there is a guest that jumped in.
    let kick = signo == KICK_SIGNAL || (signo == libc::SIGILL && rip == FAST_CONVERT);
    // On its way back from an answered fast call (or reporting a kick that
    // came while it waited): interrupted at the registers it was given.
    if kick && (FAST_ANSWERED..=FAST_CONVERT).contains(&rip) {
        *r = t.answered?;
        return Some(Event::Interrupted);
    }
    // The call from a guest whose gs is its own: the entry below
    // SLOW_MARK, the flags it saved from bit 32.
    if signo == libc::SIGSYS && rip == FAST_SLOW_SYSCALL + 2 {
        let (site, nr) = space.patched_site((r.rax & (SLOW_MARK - 1)) as u32)?;
        let lahf = (r.rax >> 32) & 0xffff;
        r.eflags = (r.eflags & !ARITH_FLAGS) | ((lahf >> 8) & 0xd5) | ((lahf & 1) << 11);
        syscall_at(r, site + SITE_LEN, nr as u64);
        return Some(Event::Syscall);
    }
    // Interrupted on the way in, before it saved anything: at the site.
    let entry = if !kick {
        return None;
    } else if (TRAMPOLINES..TRAMPOLINES + TRAMPOLINES_LEN).contains(&rip) {
        (rip - TRAMPOLINES) / TRAMPOLINE_SIZE
    } else if (FAST_SLOW..=FAST_SLOW_SYSCALL).contains(&rip) {
        // The flags are in ax until `shl rax, 32` (at FAST_SLOW + 3).
        let lahf = if rip <= FAST_SLOW + 3 { r.rax & 0xffff } else { (r.rax >> 32) & 0xffff };
        r.eflags = (r.eflags & !ARITH_FLAGS) | ((lahf >> 8) & 0xd5) | ((lahf & 1) << 11);
        r.r11 & 0xffff_ffff
    } else {
        return None;
    };
    let (site, _) = space.patched_site(entry as u32)?;
    r.rip = site;
    Some(Event::Interrupted)
}

/// The arithmetic flags lahf and seto saved (CF PF AF ZF SF, OF).
const ARITH_FLAGS: u64 = 0x8d5;
/// The flags a guest may set (popfq at user level ignores the rest).
const USER_FLAGS: u64 = 0x0025_4dd5;
const TRAP_FLAG: u64 = 0x100;

thread_local! {
    /// The host thread this kernel thread last took an event from (a slot
    /// is freed only with its process, so while the process lives the
    /// offset is that slot's; held weakly so a dead stub is not kept).
    static SERVING: std::cell::RefCell<Option<(Weak<StubProcess>, u64)>> = const { std::cell::RefCell::new(None) };
    /// That thread waits for this kernel thread's answer now.
    static AWAITS_ANSWER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// See `platform::answer_takes_long`: sets the waiting thread's `LONG`
/// word, once per event.
pub fn answer_takes_long() {
    if !AWAITS_ANSWER.replace(false) {
        return;
    }
    SERVING.with_borrow(|s| {
        if let Some((process, offset)) = s.as_ref().and_then(|(p, offset)| Some((p.upgrade()?, *offset))) {
            process.ram().word(offset + slot::LONG as u64).store(1, Ordering::Relaxed);
        }
    });
}

/// This kernel thread lets go of the host thread it served (released).
fn forget_serving() {
    AWAITS_ANSWER.set(false);
    SERVING.set(None);
}

impl HostThread {
    /// Notes that this thread waits for this kernel thread's answer.
    fn note_serving(&self) {
        SERVING.with_borrow_mut(|s| {
            if !matches!(s, Some((p, o)) if std::ptr::eq(p.as_ptr(), Arc::as_ptr(&self.process)) && *o == self.offset) {
                *s = Some((Arc::downgrade(&self.process), self.offset));
            }
        });
        AWAITS_ANSWER.set(true);
    }

    fn slot_bytes(&self) -> &mut [u8] {
        self.process.ram().bytes(self.offset, SLOT_SIZE as usize)
    }

    fn word(&self, at: usize) -> &AtomicU32 {
        self.process.ram().word(self.offset + at as u64)
    }

    fn u64_at(&self, at: usize) -> u64 {
        let b = self.slot_bytes();
        u64::from_ne_bytes(b[at..at + 8].try_into().unwrap_or([0; 8]))
    }

    /// How long to spin for an event that comes soon (the thread runs only
    /// stub code first): not at all when it shares this CPU (its slot's
    /// spin, which vkernel sets, says so).
    fn wait_spin(&self) -> Duration {
        if self.word(slot::SPIN).load(Ordering::Relaxed) == 0 { Duration::ZERO } else { MAX_SPIN }
    }

    /// Waits until the thread is parked with an event, and takes its frame
    /// (or notes a fast call).
    fn park(&mut self, spin: Duration) -> bool {
        if self.frame.is_some() || self.fast {
            return true;
        }
        let (process, tid) = (self.process.clone(), self.tid);
        let own_state = slot_addr(self.slot) + slot::STATE as u64;
        let alive = || {
            if !process.thread_alive(tid) {
                return false;
            }
            let status = process.thread_status(tid);
            if status.lines().any(|l| l.starts_with("State:") && (l.contains("zombie") || l.contains("dead"))) {
                // It left by itself (a guest jumped to the stub's exit).
                return false;
            }
            // A guest thread only ever waits on its own slot's state; one
            // asleep on another slot's has its gs forged to that slot
            // (the fast entry trusts gs) and waits for answers nobody
            // owes it, where a kick is only noted: it too is reached by
            // nothing but a kill.
            let forged = process.futex_sleep_addr(tid).is_some_and(|a| a != own_state && (SLOTS_ADDR..USER_TOP).contains(&a));
            if forged || (StubProcess::wedged(&status) && process.mapper_idle()) {
                // The guest broke its own stub (it rewrote the shared
                // words so that the thread sleeps with every signal
                // blocked): nothing can reach it but a kill.
                // SAFETY: killing a stub process of ours.
                unsafe { libc::kill(process.tgid, libc::SIGKILL) };
                return false;
            }
            true
        };
        let posted = |v| v == slot::EVENT || v == slot::FAST;
        if !wait_for(self.word(slot::STATE), self.word(slot::VK_SLEEPS), posted, spin, alive, &stats::EVENTS) {
            return false;
        }
        if self.word(slot::STATE).load(Ordering::Acquire) == slot::FAST {
            self.fast = true;
            self.note_serving();
            return true;
        }
        let uc = self.u64_at(slot::UC);
        self.frame = Frame::locate(self.slot_bytes(), slot_addr(self.slot), slot::STACK_START, uc);
        if self.frame.is_some() {
            self.note_serving();
        }
        self.frame.is_some()
    }

    /// Gives a thread parked at a fast call a signal frame (for its FPU
    /// state, or an answer the fast return cannot carry): answered with
    /// `FLAG_CONVERT`, it traps at `FAST_CONVERT` with only stub code
    /// run since the call. Its registers are vkernel's to write anyway.
    fn convert(&mut self) -> bool {
        if self.fast {
            self.answer(slot::FLAG_CONVERT);
            if !self.park(self.wait_spin()) {
                return false;
            }
        }
        self.frame.is_some()
    }

    /// The registers of the fast call the thread is parked at, and its
    /// table entry.
    fn fast_regs(&self) -> (u32, Regs) {
        let mut r = crate::platform::initial_regs();
        let fields: [(&mut u64, usize); 14] = [
            (&mut r.rbx, slot::F_RBX),
            (&mut r.rbp, slot::F_RBP),
            (&mut r.r12, slot::F_R12),
            (&mut r.r13, slot::F_R13),
            (&mut r.r14, slot::F_R14),
            (&mut r.r15, slot::F_R15),
            (&mut r.rdi, slot::F_RDI),
            (&mut r.rsi, slot::F_RSI),
            (&mut r.rdx, slot::F_RDX),
            (&mut r.r10, slot::F_R10),
            (&mut r.r8, slot::F_R8),
            (&mut r.r9, slot::F_R9),
            (&mut r.rsp, slot::F_RSP),
            (&mut r.fs_base, slot::FS),
        ];
        for (field, at) in fields {
            *field = self.u64_at(at);
        }
        let lahf = self.word(slot::F_LAHF).load(Ordering::Relaxed) as u64;
        r.eflags = (self.u64_at(slot::F_RFLAGS) & !ARITH_FLAGS) | ((lahf >> 8) & 0xd5) | ((lahf & 1) << 11);
        (self.word(slot::F_SITE).load(Ordering::Relaxed), r)
    }

    /// Answers a fast call: the thread loads `regs` and jumps to their rip.
    fn answer_fast(&mut self, regs: &Regs) {
        let b = self.slot_bytes();
        let fields = [
            (slot::F_RBX, regs.rbx),
            (slot::F_RBP, regs.rbp),
            (slot::F_R12, regs.r12),
            (slot::F_R13, regs.r13),
            (slot::F_R14, regs.r14),
            (slot::F_R15, regs.r15),
            (slot::F_RDI, regs.rdi),
            (slot::F_RSI, regs.rsi),
            (slot::F_RDX, regs.rdx),
            (slot::F_R10, regs.r10),
            (slot::F_R8, regs.r8),
            (slot::F_R9, regs.r9),
            (slot::F_RSP, regs.rsp),
            (slot::F_RAX, regs.rax),
            (slot::F_RCX, regs.rcx),
            (slot::F_R11, regs.r11),
            (slot::F_RIP, regs.rip),
            (slot::F_RFLAGS, (regs.eflags & USER_FLAGS) | 0x2),
        ];
        for (at, v) in fields {
            b[at..at + 8].copy_from_slice(&v.to_ne_bytes());
        }
        self.answered = Some(*regs);
        self.answer(0);
    }

    /// Answers the parked thread: it returns to the guest.
    fn answer(&mut self, flags: u32) {
        self.frame = None;
        self.fast = false;
        AWAITS_ANSWER.set(false);
        self.word(slot::LONG).store(0, Ordering::Relaxed);
        self.word(slot::FLAGS).store(flags, Ordering::Relaxed);
        self.word(slot::STATE).store(slot::ANSWERED, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        let asleep = self.word(slot::STUB_SLEEPS).load(Ordering::Acquire) != 0;
        if asleep {
            futex_wake(self.word(slot::STATE));
        }
        stats::ANSWERS.count(asleep);
    }
}

struct Kick {
    /// The host thread running guest code now, as (tgid << 32 | tid).
    target: AtomicU64,
    /// An interrupt came (seen by waits that run no guest code).
    pending: AtomicBool,
}

impl Interrupt for Kick {
    fn interrupt(&self) {
        self.pending.store(true, Ordering::SeqCst);
        let t = self.target.load(Ordering::SeqCst);
        if t != 0 {
            // SAFETY: signalling a host thread of one of our stubs.
            unsafe { libc::syscall(libc::SYS_tgkill, (t >> 32) as i32, t as u32 as i32, KICK_SIGNAL) };
        }
    }
}

struct SeccompContext {
    shared: Arc<Shared>,
    threads: HashMap<u64, HostThread>,
    /// Single-threaded stub processes whose address space ended, kept for
    /// the next one (emptying one is a single munmap).
    spare: Vec<HostThread>,
    kick: Arc<Kick>,
    /// How long to spin for the next event when spread (adapted to what
    /// is measured).
    spin: Duration,
    /// Spread now (see `Placement`), and the run of quick or slow events
    /// that moves it.
    spread: bool,
    streak: u32,
    /// Events left before the next move is considered.
    settling: u32,
    /// The host CPUs its guest thread may use (`Context::set_cpus`).
    cpus: Vec<usize>,
}

const MAX_SPARE: usize = 2;

impl SeccompContext {
    /// The host thread for `space` on this context, made from a spare or
    /// a new stub process if there is none yet. Waiting for a new one ends
    /// on an interrupt only when `interruptible`.
    fn thread_for(&mut self, space: &Arc<dyn AddressSpace>, interruptible: bool) -> Result<&mut HostThread, NoStub> {
        let id = space.id();
        if !self.threads.contains_key(&id) {
            self.tidy();
            let mut spare = None;
            while let Some(mut t) = self.spare.pop() {
                // A spare whose stub died (killed from outside) is dropped.
                if t.process.clear_mappings().is_ok() {
                    t.space = Arc::downgrade(space);
                    t.fresh = true;
                    stats::SPARES_REUSED.fetch_add(1, Ordering::Relaxed);
                    spare = Some(t);
                    break;
                }
            }
            let t = match spare {
                Some(t) => t,
                None => {
                    let never = AtomicBool::new(false);
                    let began = Instant::now();
                    let process = self.shared.take_stub(if interruptible { &self.kick.pending } else { &never })?;
                    stats::STUBS_TAKEN.fetch_add(1, Ordering::Relaxed);
                    stats::STUBS_WAIT_NS.fetch_add(began.elapsed().as_nanos() as u64, Ordering::Relaxed);
                    // A new stub has its first thread idle in slot 0.
                    let seed = process.idle.lock().pop().ok_or(NoStub::Exhausted)?;
                    HostThread {
                        process,
                        slot: seed.slot,
                        offset: seed.offset,
                        tid: seed.tid,
                        space: Arc::downgrade(space),
                        frame: None,
                        fs_base: 0,
                        gs_base: 0,
                        fresh: true,
                        fast: false,
                        answered: None,
                    }
                }
            };
            space.forget_host_mappings();
            space.set_host_owner(t.process.tgid as u64);
            self.place_with_caller(&t);
            self.threads.insert(id, t);
        }
        self.threads.get_mut(&id).ok_or(NoStub::Exhausted)
    }

    /// Places a host thread this context drives (and its stub's mapper)
    /// as this context's placement says, and tells it how long to spin.
    fn place_with_caller(&self, t: &HostThread) {
        use crate::platform::host::system;
        if self.spread {
            system::set_thread_cpus(t.tid, &self.cpus);
            t.word(slot::SPIN).store(STUB_SPIN, Ordering::Relaxed);
        } else {
            system::pin_like_caller(t.tid);
            system::pin_like_caller(t.process.mapper_tid);
            t.word(slot::SPIN).store(0, Ordering::Relaxed);
        }
    }

    /// How long to spin for an event: as measured when spread, not at all
    /// on the guest thread's own CPU.
    fn event_spin(&self, measured: Duration) -> Duration {
        if self.spread { measured } else { Duration::ZERO }
    }

    /// Moves this context (and the host thread of `id`) between local and
    /// spread as its events say, under adaptive placement: `ran` is how
    /// long the guest ran between its answer and this event.
    fn adapt_placement(&mut self, id: u64, ran: Duration) {
        if self.shared.placement != Placement::Adaptive {
            return;
        }
        if self.settling > 0 {
            // The first events after a move pay for the move.
            self.settling -= 1;
            return;
        }
        // Spread, a thread takes two CPUs: only while the others have
        // no guest that wants one.
        let crowded = RUNNING.load(Ordering::Relaxed) >= crate::platform::host::system::cpu_count();
        let goes_on = if self.spread { ran >= MAX_SPIN || crowded } else { ran < QUICK_RUN && !crowded };
        self.streak = if goes_on { self.streak + 1 } else { 0 };
        if self.streak < if self.spread { SLOW_EVENTS } else { QUICK_EVENTS } {
            return;
        }
        self.streak = 0;
        self.settling = SETTLING_EVENTS;
        self.spread = !self.spread;
        stats::PLACEMENT_MOVES.fetch_add(1, Ordering::Relaxed);
        self.place_self();
        if let Some(t) = self.threads.get(&id) {
            self.place_with_caller(t);
        }
    }

    /// Places this kernel thread: anywhere when spread, else pinned to
    /// one of its guest thread's CPUs.
    fn place_self(&self) {
        use crate::platform::host::system;
        if self.spread {
            // Off the guest thread's CPU first: left to itself the host
            // would keep both spinning on one.
            let here = system::current_cpu() as usize;
            if let Some(&other) = system::allowed_cpus().iter().find(|&&c| c != here) {
                system::set_thread_cpus(0, &[other]);
            }
            system::set_thread_cpus(0, system::allowed_cpus());
        } else {
            system::pin_to_one_of(&self.cpus);
        }
    }

    /// Lets go of threads whose address spaces are gone.
    fn tidy(&mut self) {
        let dead: Vec<u64> = self.threads.iter().filter(|(_, t)| t.space.strong_count() == 0).map(|(&k, _)| k).collect();
        for k in dead {
            self.release(k);
        }
    }

    /// Applies the address space's queued host changes through the mapper.
    /// Returns the host generation and, when the mapper was left to make
    /// new mappings without vkernel waiting, the request the answered
    /// thread must wait for.
    fn apply_changes(space: &Arc<dyn AddressSpace>, t: &HostThread) -> Result<(u64, Option<u32>), ()> {
        let _sync = space.host_sync().lock();
        if t.process.take_failure()? {
            space.forget_host_mappings();
        }
        let tgid = t.process.tgid as u64;
        if space.set_host_owner(tgid) != tgid {
            // Another stub process ran this space (vfork): start empty.
            t.process.clear_mappings()?;
            space.forget_host_mappings();
        }
        let mut changes = space.take_host_changes();
        let mut awaited = None;
        if !changes.ops.is_empty() {
            let batches = batches(&changes.ops, ops::MAX, SHARED_ADDR + shared::PATHS as u64);
            // Only mappings (new ones, or copies replacing copy-on-write
            // ones, which were read-only): no access the page table took
            // away depends on this batch being done, only this thread's
            // next access (it waits in its handler), other threads'
            // resumes and every later order (they settle it first), and
            // the reuse of the frames it replaces (released when it is
            // seen done, by the trusted done byte).
            let maps_only = batches.len() == 1 && changes.ops.iter().all(|op| matches!(op, HostOp::Map { .. } | HostOp::MapFile { .. }));
            if maps_only {
                let frees = std::mem::take(&mut changes.deferred_frees);
                let frees = if frees.is_empty() { None } else { Some((space.clone(), frees)) };
                let files = changes.ops.iter().filter_map(|op| if let HostOp::MapFile { file, .. } = op { Some(file.clone()) } else { None }).collect();
                awaited = Some(t.process.post_maps(&batches[0], files, frees)?);
            } else if t.process.run_batches(&batches).is_err() {
                // The host refused a mapping: drop them all and refault.
                if !t.process.thread_alive(t.process.mapper_tid) {
                    return Err(());
                }
                t.process.clear_mappings()?;
                space.forget_host_mappings();
            }
        }
        space.host_changes_applied(changes);
        Ok((space.host_generation(), awaited))
    }
}

impl Context for SeccompContext {
    fn switch(&mut self, space: &Arc<dyn AddressSpace>, regs: &mut Regs) -> Event {
        let _running = Running::new();
        let fsgsbase = self.shared.fsgsbase;
        let shared = self.shared.clone();
        let patching = shared.patching.as_ref();
        let kick = self.kick.clone();
        let spin = self.event_spin(self.spin);
        let t = match self.thread_for(space, true) {
            Ok(t) => t,
            Err(NoStub::Interrupted) => return Event::Interrupted,
            Err(NoStub::Exhausted) => return Event::Lost,
        };
        if !t.park(t.wait_spin()) {
            return Event::Lost;
        }
        let Ok((generation, awaited)) = Self::apply_changes(space, t) else { return Event::Lost };
        // A fast call is answered the fast way when its return can carry
        // the registers: the guest's gs stays 0 (the slot's, see below),
        // no single-stepping, the FPU state as it is.
        let fast = t.fast && !t.fresh && regs.gs_base == 0 && regs.eflags & TRAP_FLAG == 0;
        if !fast && !t.convert() {
            return Event::Lost;
        }
        let mut flags = 0;
        let mut frame = None;
        if fast {
            // Its new mappings must exist before it returns: no handler
            // waits for them on this path.
            if awaited.is_some() && take_batch_failure(&t.process, space).is_err() {
                return Event::Lost;
            }
        } else {
            let Some(f) = t.frame.take() else { return Event::Lost };
            f.store_regs(t.slot_bytes(), regs);
            if t.fresh {
                f.reset_xstate(t.slot_bytes(), slot_addr(t.slot), slot::STACK_START);
                t.fresh = false;
            }
            if let Some(seq) = awaited {
                flags |= slot::FLAG_AWAIT_MAPPER;
                t.word(slot::AWAIT).store(seq, Ordering::Relaxed);
            }
            frame = Some(f);
        }
        // With patching, a guest gs of 0 is the slot's address on the host:
        // the fast entry finds the slot through it.
        let host_gs = if patching.is_some() && regs.gs_base == 0 { slot_addr(t.slot) } else { regs.gs_base };
        let b = t.slot_bytes();
        b[slot::NEW_FS..slot::NEW_FS + 8].copy_from_slice(&regs.fs_base.to_ne_bytes());
        b[slot::NEW_GS..slot::NEW_GS + 8].copy_from_slice(&host_gs.to_ne_bytes());
        if !fsgsbase && (regs.fs_base != t.fs_base || regs.gs_base != t.gs_base) {
            flags |= slot::FLAG_SET_BASES;
            (t.fs_base, t.gs_base) = (regs.fs_base, regs.gs_base);
        }
        kick.target.store(((t.process.tgid as u64) << 32) | t.tid as u32 as u64, Ordering::SeqCst);
        // An interrupt that came before the target was set found nothing
        // to signal: it left `pending`, and the guest does not run.
        if kick.pending.swap(false, Ordering::SeqCst) {
            kick.target.store(0, Ordering::Release);
            t.frame = frame;
            return Event::Interrupted;
        }
        let answered = Instant::now();
        if fast {
            t.answer_fast(regs);
        } else {
            t.answered = None;
            t.answer(flags);
        }
        let parked = t.park(spin);
        kick.target.store(0, Ordering::Release);
        if !parked {
            return Event::Lost;
        }
        // Spin next time about as long as the guest ran this time, when
        // that was short; barely when it was long.
        let ran = answered.elapsed();
        self.spin = if ran < MAX_SPIN { (ran * 2).clamp(MIN_SPIN * 4, MAX_SPIN) } else { MIN_SPIN };
        self.adapt_placement(space.id(), ran);
        let Some(t) = self.threads.get_mut(&space.id()) else { return Event::Lost };
        // The batch this thread waited for (if any) is done before its
        // event is served.
        if take_batch_failure(&t.process, space).is_err() {
            return Event::Lost;
        }
        if t.fast {
            stats::FAST.fetch_add(1, Ordering::Relaxed);
            let (entry, mut r) = t.fast_regs();
            let event = match space.patched_site(entry) {
                Some((site, nr)) => {
                    syscall_at(&mut r, site + SITE_LEN, nr as u64);
                    Event::Syscall
                }
                // A forged entry: as if the guest jumped into the stub.
                None => {
                    r.rip = FAST_ENTRY;
                    Event::Signal { signo: libc::SIGSEGV, code: SEGV_ACCERR, addr: FAST_ENTRY }
                }
            };
            *regs = r;
            return event;
        }
        let Some(frame) = t.frame.as_ref() else { return Event::Lost };
        let mut r = frame.regs();
        if fsgsbase {
            r.fs_base = t.u64_at(slot::FS);
            r.gs_base = t.u64_at(slot::GS);
            if patching.is_some() && r.gs_base == slot_addr(t.slot) {
                r.gs_base = 0;
            }
        } else {
            (r.fs_base, r.gs_base) = (t.fs_base, t.gs_base);
        }
        let signo = t.word(slot::SIGNO).load(Ordering::Relaxed) as i32;
        let code = t.word(slot::CODE).load(Ordering::Relaxed) as i32;
        let addr = t.u64_at(slot::ADDR);
        const SYS_SECCOMP: i32 = 1;
        let event = match signo {
            _ if r.rip >= STUB_REGION_START => match patching.and_then(|_| stub_code_event(space, t, signo, &mut r)) {
                Some(event) => event,
                // Guest code never runs in the stub region: a guest that
                // jumped into the stub (and trapped or faulted there, or
                // rewrote a frame to return there) gets a SIGSEGV.
                None => Event::Signal { signo: libc::SIGSEGV, code: SEGV_ACCERR, addr: r.rip },
            },
            libc::SIGSYS if code == SYS_SECCOMP => {
                if let Some(p) = patching {
                    if let Some(site) = r.rip.checked_sub(SITE_LEN) {
                        space.syscall_trapped(site, r.rax as u32, &p.table);
                    }
                }
                r.orig_rax = r.rax;
                r.rax = (-(libc::ENOSYS as i64)) as u64;
                Event::Syscall
            }
            // A thread that ran a site's old `mov` and then found it
            // patched (or restarted a call there: rip - 2) traps at the
            // 0x06 where `syscall` was: that system call.
            libc::SIGILL if patching.is_some() && r.rip >= 5 && space.patched_site_at(r.rip - 5).is_some() => {
                let (nr, ret) = (r.rax, r.rip + 2);
                syscall_at(&mut r, ret, nr);
                Event::Syscall
            }
            // A patched site whose table the host does not map (yet, or
            // any more): the same call.
            libc::SIGSEGV
                if patching.is_some()
                    && (SYSCALL_TABLE..SYSCALL_TABLE + SYSCALL_ENTRIES as u64 * 8).contains(&addr)
                    && space.patched_site_at(r.rip).is_some() =>
            {
                let (nr, ret) = (space.patched_site_at(r.rip).unwrap_or(0) as u64, r.rip + SITE_LEN);
                syscall_at(&mut r, ret, nr);
                Event::Syscall
            }
            // A thread that was to wait for its new mappings may have
            // returned before them (a guest that forged the words it
            // waits on): its fault may be stale.
            libc::SIGSEGV if code > 0 => Event::Fault { addr, generation: if awaited.is_some() { u64::MAX } else { generation } },
            libc::SIGTRAP | libc::SIGFPE | libc::SIGILL | libc::SIGBUS | libc::SIGSEGV if code > 0 || signo == libc::SIGTRAP => {
                Event::Signal { signo, code, addr }
            }
            // The kick, or a host signal from outside: not the guest's.
            _ => Event::Interrupted,
        };
        *regs = r;
        event
    }

    fn interrupter(&self) -> Arc<dyn Interrupt> {
        self.kick.clone()
    }

    fn extended_state(&mut self, space: &Arc<dyn AddressSpace>) -> Option<Vec<u8>> {
        let t = self.thread_for(space, false).ok()?;
        if !t.park(t.wait_spin()) || !t.convert() {
            return None;
        }
        let frame = t.frame.as_ref()?;
        frame.xstate(t.slot_bytes(), slot_addr(t.slot), slot::STACK_START)
    }

    fn set_extended_state(&mut self, space: &Arc<dyn AddressSpace>, state: &[u8]) -> bool {
        let Ok(t) = self.thread_for(space, false) else { return false };
        if !t.park(t.wait_spin()) || !t.convert() {
            return false;
        }
        t.fresh = false;
        let slot = slot_addr(t.slot);
        match t.frame.as_ref() {
            Some(frame) => frame.set_xstate(t.slot_bytes(), slot, slot::STACK_START, state),
            None => false,
        }
    }

    fn host_thread(&self, id: u64) -> Option<(i32, i32)> {
        self.threads.get(&id).map(|t| (t.process.tgid, t.tid))
    }

    fn release(&mut self, id: u64) {
        let Some(mut t) = self.threads.remove(&id) else { return };
        let parked = t.park(t.wait_spin());
        forget_serving();
        if !parked {
            return;
        }
        t.frame = None;
        let alive_space = t.space.strong_count() > 0;
        let others = t.process.slots.lock().iter().flatten().count() > 1;
        if alive_space && others {
            // Other guest threads run in this stub: keep the host thread
            // parked for the next new thread of the space.
            t.process.idle.lock().push(Seed { slot: t.slot, offset: t.offset, tid: t.tid });
            return;
        }
        if !others && self.spare.len() < MAX_SPARE && t.process.thread_alive(t.process.mapper_tid) {
            t.space = Weak::<NoSpace>::new();
            self.spare.push(t);
        }
        // Otherwise dropping the last reference kills the stub process.
    }

    fn release_all(&mut self) {
        let ids: Vec<u64> = self.threads.keys().copied().collect();
        for id in ids {
            self.release(id);
        }
    }

    fn prepare(&mut self) {
        self.tidy();
    }

    fn spawn_thread(&mut self, space: &Arc<dyn AddressSpace>) -> Option<ThreadSeed> {
        let process = self.threads.get(&space.id())?.process.clone();
        if let Some(seed) = process.idle.lock().pop() {
            return Some(ThreadSeed(Box::new((process.clone(), seed))));
        }
        let (slot, offset) = process.alloc_slot()?;
        let made = {
            let _sync = space.host_sync().lock();
            process.run_ops(&[
                [
                    libc::SYS_mmap as u64,
                    slot_addr(slot),
                    SLOT_SIZE,
                    (libc::PROT_READ | libc::PROT_WRITE) as u64,
                    (libc::MAP_SHARED | libc::MAP_FIXED) as u64,
                    STUB_MEMFD as u64,
                    offset,
                ],
                [libc::SYS_clone as u64, THREAD_FLAGS, 0, 0, 0, 0, slot_addr(slot)],
            ])
        };
        match made {
            // The tid is guest-writable: it must at least name a thread
            // of this stub other than the mapper.
            Ok(tid) if tid as i64 > 0 && tid as i32 != process.mapper_tid && process.thread_alive(tid as i32) => {
                Some(ThreadSeed(Box::new((process, Seed { slot, offset, tid: tid as i32 }))))
            }
            _ => {
                let _ = process.run_ops(&[[libc::SYS_munmap as u64, slot_addr(slot), SLOT_SIZE, 0, 0, 0, 0]]);
                process.free_slot(slot);
                None
            }
        }
    }

    fn adopt_thread(&mut self, space: &Arc<dyn AddressSpace>, seed: ThreadSeed) -> bool {
        let Ok(b) = seed.0.downcast::<(Arc<StubProcess>, Seed)>() else { return false };
        let (process, seed) = *b;
        if self.threads.contains_key(&space.id()) {
            // This context already drives a host thread of the space: the
            // seed goes back to the idle ones.
            process.idle.lock().push(seed);
            return true;
        }
        let t = HostThread {
            process,
            slot: seed.slot,
            offset: seed.offset,
            tid: seed.tid,
            space: Arc::downgrade(space),
            frame: None,
            fs_base: 0,
            gs_base: 0,
            fresh: true,
            fast: false,
            answered: None,
        };
        self.place_with_caller(&t);
        self.threads.insert(space.id(), t);
        true
    }

    fn set_cpus(&mut self, cpus: &[usize]) {
        if cpus.is_empty() || cpus == self.cpus.as_slice() {
            return;
        }
        self.cpus = cpus.to_vec();
        // Spread with placement left to the host, this kernel thread was
        // never pinned: only its host threads take the mask.
        if self.shared.placement != Placement::Spread {
            self.place_self();
        }
        for t in self.threads.values() {
            self.place_with_caller(t);
        }
    }

    fn parked(&self) -> usize {
        // Host threads are not bound to the kernel thread that drives them.
        0
    }
}
