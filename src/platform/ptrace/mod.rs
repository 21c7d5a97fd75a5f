//! The ptrace platform. Each guest address space is a stub process traced
//! by the kernel thread that created it; guest code runs under
//! PTRACE_SYSEMU so the host skips every guest system call. Host mappings
//! are changed by running the stub's batch loop over an ops page.

pub mod stub;

use std::collections::HashMap;
use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};

use crate::platform::stub_common::{CLOSE_OPENED, PATHS_SIZE, batches};
use crate::platform::{AddressSpace, Context, Event, GuestMemory, HostOp, Interrupt, Platform, Regs, STUB_REGION_START, ThreadSeed};
use stub::*;

/// The regset of the XSAVE area (linux/elf.h).
const NT_X86_XSTATE: u64 = 0x202;

/// The host signal used to interrupt a running guest.
pub const KICK_SIGNAL: i32 = libc::SIGUSR1;

pub struct PtracePlatform {
    memory: Arc<dyn GuestMemory>,
    stub_elf: OwnedFd,
}

impl PtracePlatform {
    pub fn new(memory: Arc<dyn GuestMemory>) -> std::io::Result<PtracePlatform> {
        // SAFETY: memfd_create with a valid name; the fd is ours.
        let fd = unsafe { libc::memfd_create(c"vkernel-stub".as_ptr(), libc::MFD_CLOEXEC) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: fd is a fresh descriptor we own.
        let stub_elf = unsafe { OwnedFd::from_raw_fd(fd) };
        let mut written = 0;
        while written < STUB_ELF.len() {
            // SAFETY: writing from a live slice to our own fd.
            let n = unsafe { libc::write(fd, STUB_ELF[written..].as_ptr() as *const libc::c_void, STUB_ELF.len() - written) };
            if n <= 0 {
                return Err(std::io::Error::last_os_error());
            }
            written += n as usize;
        }
        Ok(PtracePlatform { memory, stub_elf })
    }
}

impl Platform for PtracePlatform {
    fn name(&self) -> &'static str {
        "ptrace"
    }

    fn new_context(&self) -> Box<dyn Context> {
        use std::os::fd::AsRawFd;
        Box::new(PtraceContext {
            memory: self.memory.clone(),
            stub_elf: self.stub_elf.as_raw_fd(),
            stubs: HashMap::new(),
            spare: Vec::new(),
            dying: Vec::new(),
            kick: Arc::new(Kick { target: AtomicU64::new(0), pending: AtomicBool::new(false) }),
        })
    }
}

struct Kick {
    /// The host thread running guest code for this context now, as
    /// (tgid << 32 | tid), or 0.
    target: AtomicU64,
    /// An interrupt asked for since the last switch looked: a kick that
    /// comes while no guest code runs (the kernel between its signal check
    /// and the next switch) must still end the next switch.
    pending: AtomicBool,
}

impl Interrupt for Kick {
    fn interrupt(&self) {
        // SeqCst on both sides: either this sees the target set, or the
        // switch that sets it sees `pending`.
        self.pending.store(true, Ordering::SeqCst);
        let t = self.target.load(Ordering::SeqCst);
        if t != 0 {
            let (tgid, tid) = ((t >> 32) as i32, t as u32 as i32);
            // SAFETY: signalling a host thread of a stub process we created;
            // a stale id is a thread of ours not yet reaped, so it cannot be
            // reused by anyone else.
            unsafe { libc::syscall(libc::SYS_tgkill, tgid, tid, KICK_SIGNAL) };
        }
    }
}

/// A stub process: the host side of one guest address space, shared by the
/// host threads every kernel thread running that address space drives.
struct HostProcess {
    tgid: i32,
    /// Offset in guest RAM of the page the batch loop reads its ops from
    /// (one per process: appliers take the address space's `host_sync`).
    ops_page: u64,
    memory: Arc<dyn GuestMemory>,
    /// Live host threads of the process.
    threads: AtomicUsize,
}

impl Drop for HostProcess {
    fn drop(&mut self) {
        self.memory.free_page(self.ops_page);
    }
}

/// One host thread of a stub process, traced by this context's kernel
/// thread.
struct Stub {
    tid: i32,
    process: Arc<HostProcess>,
    space: Weak<dyn AddressSpace>,
    /// The registers the stopped host thread holds, when vkernel knows them
    /// exactly: after a guest stop, until an injected call changes them.
    host_regs: Option<Regs>,
}

impl Stub {
    fn is_leader(&self) -> bool {
        self.tid == self.process.tgid
    }

    /// Alone in its process (the only host thread left).
    fn alone(&self) -> bool {
        self.process.threads.load(Ordering::Acquire) == 1
    }
}

/// A host thread made by `spawn_thread`, not yet adopted.
struct Seed {
    tid: i32,
    process: Arc<HostProcess>,
    adopted: bool,
}

impl Drop for Seed {
    fn drop(&mut self) {
        if !self.adopted {
            // Nobody will run it: take it over just to make it exit.
            if seize(self.tid) {
                let stub = Stub { tid: self.tid, process: self.process.clone(), space: Weak::<NoSpace>::new(), host_regs: None };
                exit_thread(&stub);
            }
            self.process.threads.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// The registers as bytes, for cheap comparison.
fn regs_bytes(r: &Regs) -> &[u8] {
    // SAFETY: user_regs_struct is plain integers without padding.
    unsafe { std::slice::from_raw_parts(r as *const Regs as *const u8, size_of::<Regs>()) }
}

/// Offset of rax in `struct user` for PTRACE_POKEUSER.
const RAX_OFFSET: u64 = 10 * 8;

/// Loads `regs` into the stopped stub thread with as little work as
/// possible: after most system calls only rax differs from what the host
/// holds, and one word is cheaper to write than the whole set.
fn load_regs(stub: &mut Stub, regs: &Regs) -> bool {
    if let Some(host) = &stub.host_regs {
        let mut with_rax = *host;
        with_rax.rax = regs.rax;
        if regs_bytes(&with_rax) == regs_bytes(regs) {
            return host.rax == regs.rax || ptrace(libc::PTRACE_POKEUSER, stub.tid, RAX_OFFSET, regs.rax) == 0;
        }
    }
    set_regs(stub.tid, regs)
}

struct PtraceContext {
    memory: Arc<dyn GuestMemory>,
    stub_elf: i32,
    /// This kernel thread's host thread for each address space it runs or
    /// keeps (parked while other threads of a live address space run
    /// elsewhere).
    stubs: HashMap<u64, Stub>,
    /// Single-threaded stub processes no address space uses, kept for the
    /// next one (exec, the next task of a pooled kernel thread): creating a
    /// stub costs a host fork and exec, emptying one costs a single munmap.
    spare: Vec<Stub>,
    /// Killed stub leaders whose other threads are not all reaped yet (a
    /// traced leader can be waited for only after them).
    dying: Vec<i32>,
    kick: Arc<Kick>,
}

/// Spare stubs kept per kernel thread.
const MAX_SPARE_STUBS: usize = 2;

// SAFETY: all host calls below are plain syscalls on pids we created; the
// structures passed are owned locals.
pub(crate) fn ptrace(req: libc::c_uint, pid: i32, addr: u64, data: u64) -> i64 {
    unsafe { libc::ptrace(req, pid, addr as *mut libc::c_void, data as *mut libc::c_void) }
}

pub(crate) fn wait_stub(pid: i32) -> i32 {
    wait_stub_flags(pid, 0).unwrap_or(-1)
}

/// waitpid on a host thread we trace; None when WNOHANG finds nothing or
/// the wait fails.
fn wait_stub_flags(pid: i32, flags: i32) -> Option<i32> {
    let mut status = 0;
    loop {
        // SAFETY: waiting for our own traced thread; status is a local.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::__WALL | libc::__WNOTHREAD | flags) };
        if r == pid {
            return Some(status);
        }
        if r == 0 {
            return None;
        }
        if r < 0 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return None;
        }
    }
}

/// Takes over a running host thread of one of our stub processes and stops
/// it (PTRACE_SEIZE + PTRACE_INTERRUPT).
fn seize(tid: i32) -> bool {
    let opts = (libc::PTRACE_O_EXITKILL | libc::PTRACE_O_TRACESYSGOOD) as u64;
    if ptrace(libc::PTRACE_SEIZE, tid, 0, opts) != 0 || ptrace(libc::PTRACE_INTERRUPT, tid, 0, 0) != 0 {
        return false;
    }
    let status = wait_stub(tid);
    status != -1 && libc::WIFSTOPPED(status)
}

/// Makes a stopped, traced, non-leader host thread exit (injected exit)
/// and reaps it; a thread already dead is only reaped.
fn exit_thread(stub: &Stub) {
    if let Some(t) = get_regs(stub.tid) {
        let mut r = t;
        r.rip = SYSCALL_SITE;
        r.rax = libc::SYS_exit as u64;
        r.rdi = 0;
        r.orig_rax = u64::MAX;
        if set_regs(stub.tid, &r) {
            ptrace(libc::PTRACE_CONT, stub.tid, 0, 0);
        }
    }
    // The exit (or the death of the whole process) is reported once.
    loop {
        let status = wait_stub(stub.tid);
        if status == -1 || libc::WIFEXITED(status) || libc::WIFSIGNALED(status) {
            return;
        }
        // Stopped by a stray signal on the way out: let it go on.
        if ptrace(libc::PTRACE_CONT, stub.tid, 0, 0) != 0 {
            return;
        }
    }
}

pub(crate) fn get_regs(pid: i32) -> Option<Regs> {
    // SAFETY: Regs is plain data; PTRACE_GETREGS fills it.
    let mut regs: Regs = unsafe { std::mem::zeroed() };
    (ptrace(libc::PTRACE_GETREGS, pid, 0, &mut regs as *mut Regs as u64) == 0).then_some(regs)
}

pub(crate) fn set_regs(pid: i32, regs: &Regs) -> bool {
    ptrace(libc::PTRACE_SETREGS, pid, 0, regs as *const Regs as u64) == 0
}

/// Runs one host system call at `site` (a `syscall` followed by an int3)
/// in stopped, traced host thread `tid`, from `template`'s registers.
/// Stub set-up on both platforms uses it.
pub(crate) fn inject_syscall(tid: i32, site: u64, template: &Regs, nr: i64, args: [u64; 6]) -> Result<i64, ()> {
    let mut r = *template;
    r.rip = site;
    r.rax = nr as u64;
    r.orig_rax = u64::MAX;
    (r.rdi, r.rsi, r.rdx, r.r10, r.r8, r.r9) = (args[0], args[1], args[2], args[3], args[4], args[5]);
    run_until_trap(tid, &r).map(|r| r.rax as i64)
}

/// Runs stopped, traced host thread `tid` from `regs` until its int3.
fn run_until_trap(tid: i32, regs: &Regs) -> Result<Regs, ()> {
    if !set_regs(tid, regs) || ptrace(libc::PTRACE_CONT, tid, 0, 0) != 0 {
        return Err(());
    }
    loop {
        let status = wait_stub(tid);
        if status == -1 || !libc::WIFSTOPPED(status) {
            return Err(());
        }
        if libc::WSTOPSIG(status) == libc::SIGTRAP && (status >> 16) != libc::PTRACE_EVENT_STOP {
            return get_regs(tid).ok_or(());
        }
        // A stray signal (a kick) or a group stop: drop it and go on.
        if ptrace(libc::PTRACE_CONT, tid, 0, 0) != 0 {
            return Err(());
        }
    }
}

impl Stub {
    /// Runs one host system call inside the stub.
    fn inject(&self, template: &Regs, nr: i64, args: [u64; 6]) -> Result<i64, ()> {
        self.inject_at(SYSCALL_SITE, template, nr, args)
    }

    /// Runs one host system call at `site` (a `syscall` followed, on the
    /// caller's path, by an int3).
    fn inject_at(&self, site: u64, template: &Regs, nr: i64, args: [u64; 6]) -> Result<i64, ()> {
        inject_syscall(self.tid, site, template, nr, args)
    }

    /// Applies host mapping changes in batches of MAX_OPS; the registers
    /// the thread holds, when known, save reading them.
    fn apply(&self, memory: &dyn GuestMemory, ops: &[HostOp], known: Option<Regs>) -> Result<(), ()> {
        let Some(template) = known.or_else(|| get_regs(self.tid)) else { return Err(()) };
        for batch in batches(ops, MAX_OPS, OPS_ADDR + (4096 - PATHS_SIZE) as u64) {
            let chunk = &batch.calls;
            let page = memory.ram().page(self.process.ops_page);
            batch.write_paths(&mut page[4096 - PATHS_SIZE..]);
            for (i, words) in chunk.iter().enumerate() {
                for (j, w) in words.iter().enumerate() {
                    let at = i * OP_SIZE + j * 8;
                    page[at..at + 8].copy_from_slice(&w.to_ne_bytes());
                }
            }
            let mut r = template;
            r.rip = BATCH_ENTRY;
            r.rbx = OPS_ADDR;
            r.r12 = chunk.len() as u64;
            r.orig_rax = u64::MAX;
            let done = run_until_trap(self.tid, &r)?;
            if done.r12 != 0 {
                return Err(());
            }
        }
        Ok(())
    }
}

impl PtraceContext {
    fn stub_for(&mut self, mm: &Arc<dyn AddressSpace>) -> Option<&mut Stub> {
        let id = mm.id();
        if !self.stubs.contains_key(&id) {
            self.reap_dead();
            let stub = match self.spare.pop() {
                Some(mut stub) => {
                    // Empty the recycled host address space first.
                    let t = get_regs(stub.tid)?;
                    stub.inject(&t, libc::SYS_munmap, [0, STUB_REGION_START, 0, 0, 0, 0]).ok()?;
                    stub.host_regs = None;
                    stub.space = Arc::downgrade(mm);
                    stub
                }
                None => self.spawn_stub(Some(mm))?,
            };
            // A new host address space holds nothing yet.
            mm.forget_host_mappings();
            mm.set_host_owner(stub.process.tgid as u64);
            self.stubs.insert(id, stub);
        }
        self.stubs.get_mut(&id)
    }

    /// Lets go of the host threads of address spaces that are gone, and
    /// reaps stub leaders killed earlier.
    fn reap_dead(&mut self) {
        let dead: Vec<u64> = self.stubs.iter().filter(|(_, s)| s.space.strong_count() == 0).map(|(&k, _)| k).collect();
        for k in dead {
            if let Some(stub) = self.stubs.remove(&k) {
                self.retire(stub);
            }
        }
        self.dying.retain(|&tid| wait_stub_flags(tid, libc::WNOHANG).is_none());
    }

    /// A host thread this context no longer needs: a single-threaded stub
    /// goes to the spares; a thread of a shared process exits; a leader
    /// kills its process (its other threads are reaped by their tracers).
    fn retire(&mut self, mut stub: Stub) {
        if stub.is_leader() && stub.alone() && self.spare.len() < MAX_SPARE_STUBS {
            stub.space = Weak::<NoSpace>::new();
            self.spare.push(stub);
            return;
        }
        self.dispose(stub);
    }

    fn dispose(&mut self, stub: Stub) {
        if stub.is_leader() {
            // SAFETY: killing a stub process we created.
            unsafe { libc::kill(stub.tid, libc::SIGKILL) };
            if !reap_killed(stub.tid) {
                self.dying.push(stub.tid);
            }
        } else {
            exit_thread(&stub);
        }
        stub.process.threads.fetch_sub(1, Ordering::AcqRel);
    }

    fn spawn_stub(&self, mm: Option<&Arc<dyn AddressSpace>>) -> Option<Stub> {
        let ops_page = self.memory.alloc_page()?;
        let pid = crate::platform::spawn::fork_stub(self.memory.ram().memfd(), self.stub_elf);
        if pid < 0 {
            self.memory.free_page(ops_page);
            return None;
        }
        let space: Weak<dyn AddressSpace> = match mm {
            Some(m) => Arc::downgrade(m),
            None => Weak::<NoSpace>::new(),
        };
        let process = Arc::new(HostProcess { tgid: pid, ops_page, memory: self.memory.clone(), threads: AtomicUsize::new(1) });
        let stub = Stub { tid: pid, process, space, host_regs: None };
        if self.setup_stub(&stub).is_none() {
            // SAFETY: killing a half-made stub process we created.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            reap_killed(pid);
            return None;
        }
        Some(stub)
    }

    /// The stub's first steps under our control: the tracing options, an
    /// empty address space but for the stub, the ops page, no new
    /// privileges, and the seccomp filter.
    fn setup_stub(&self, stub: &Stub) -> Option<()> {
        let (pid, ops_page) = (stub.tid, stub.process.ops_page);
        let status = wait_stub(pid);
        if !libc::WIFSTOPPED(status) || libc::WSTOPSIG(status) != libc::SIGTRAP {
            return None;
        }
        let opts = libc::PTRACE_O_EXITKILL | libc::PTRACE_O_TRACESYSGOOD;
        if ptrace(libc::PTRACE_SETOPTIONS, pid, 0, opts as u64) != 0 {
            return None;
        }
        let template = get_regs(pid)?;
        // Empty the address space but for the stub itself.
        stub.inject(&template, libc::SYS_munmap, [0, STUB_BASE, 0, 0, 0, 0]).ok()?;
        stub.inject(&template, libc::SYS_munmap, [STUB_END, USER_TOP - STUB_END, 0, 0, 0, 0]).ok()?;
        let ops_off = ops_page;
        let r = stub
            .inject(
                &template,
                libc::SYS_mmap,
                [OPS_ADDR, 4096, libc::PROT_READ as u64, (libc::MAP_SHARED | libc::MAP_FIXED) as u64, STUB_MEMFD as u64, ops_off],
            )
            .ok()?;
        if r as u64 != OPS_ADDR {
            return None;
        }
        // The filter program and its sock_fprog go in the ops page.
        let filter = seccomp_filter();
        let page = self.memory.ram().page(ops_page);
        let prog_at = 64usize;
        for (i, ins) in filter.iter().enumerate() {
            let at = prog_at + i * 8;
            page[at..at + 2].copy_from_slice(&ins.code.to_ne_bytes());
            page[at + 2] = ins.jt;
            page[at + 3] = ins.jf;
            page[at + 4..at + 8].copy_from_slice(&ins.k.to_ne_bytes());
        }
        page[0..2].copy_from_slice(&(filter.len() as u16).to_ne_bytes());
        page[8..16].copy_from_slice(&(OPS_ADDR + prog_at as u64).to_ne_bytes());
        // Guest membarrier(2) reaches every stub through the host's
        // expedited global barrier, which needs this registration (a host
        // without it falls back to the slow barrier).
        const MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED: u64 = 4;
        let _ = stub.inject(&template, libc::SYS_membarrier, [MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED, 0, 0, 0, 0, 0]);
        if stub.inject(&template, libc::SYS_prctl, [libc::PR_SET_NO_NEW_PRIVS as u64, 1, 0, 0, 0, 0]).ok()? != 0 {
            return None;
        }
        if stub.inject(&template, libc::SYS_seccomp, [libc::SECCOMP_SET_MODE_FILTER as u64, 0, OPS_ADDR, 0, 0, 0]).ok()? != 0 {
            return None;
        }
        page.fill(0);
        Some(())
    }
}

impl Context for PtraceContext {
    fn switch(&mut self, mm: &Arc<dyn AddressSpace>, regs: &mut Regs) -> Event {
        let memory = self.memory.clone();
        let kick = self.kick.clone();
        let Some(stub) = self.stub_for(mm) else { return Event::Lost };
        let (tgid, tid) = (stub.process.tgid, stub.tid);
        let sync = mm.host_sync().lock();
        // Another stub process ran this address space since we did (a
        // vfork child shares its parent's): our host mappings may be stale,
        // and the changes queued since went to the other one. Start empty.
        if mm.set_host_owner(tgid as u64) != tgid as u64 {
            let Some(t) = get_regs(tid) else { return Event::Lost };
            if stub.inject(&t, libc::SYS_munmap, [0, STUB_REGION_START, 0, 0, 0, 0]).is_err() {
                return Event::Lost;
            }
            stub.host_regs = None;
            mm.forget_host_mappings();
        }
        let changes = mm.take_host_changes();
        let known = if changes.ops.is_empty() { None } else { stub.host_regs.take() };
        if !changes.ops.is_empty() && stub.apply(&*memory, &changes.ops, known).is_err() {
            // The host refused a mapping (e.g. too many host VMAs): the
            // host mappings are only a cache, so drop them all and refault.
            let Some(t) = get_regs(tid) else { return Event::Lost };
            if stub.inject(&t, libc::SYS_munmap, [0, STUB_REGION_START, 0, 0, 0, 0]).is_err() {
                return Event::Lost;
            }
            // A failed host-file map may have left its file open.
            let [nr, args @ ..] = CLOSE_OPENED;
            let _ = stub.inject(&t, nr as i64, args);
            mm.forget_host_mappings();
        }
        mm.host_changes_applied(changes);
        let generation = mm.host_generation();
        drop(sync);
        if !load_regs(stub, regs) {
            return Event::Lost;
        }
        kick.target.store(((tgid as u64) << 32) | tid as u32 as u64, Ordering::SeqCst);
        if kick.pending.swap(false, Ordering::SeqCst) {
            kick.target.store(0, Ordering::SeqCst);
            stub.host_regs = Some(*regs);
            return Event::Interrupted;
        }
        let event = run_guest(tid, regs, generation);
        kick.target.store(0, Ordering::SeqCst);
        if matches!(event, Event::Interrupted) {
            kick.pending.store(false, Ordering::SeqCst);
        }
        stub.host_regs = if matches!(event, Event::Lost) { None } else { Some(*regs) };
        event
    }

    fn interrupter(&self) -> Arc<dyn Interrupt> {
        self.kick.clone()
    }

    fn extended_state(&mut self, mm: &Arc<dyn AddressSpace>) -> Option<Vec<u8>> {
        let stub = self.stub_for(mm)?;
        let mut buf = vec![0u8; 64 * 1024];
        let mut iov = libc::iovec { iov_base: buf.as_mut_ptr() as *mut libc::c_void, iov_len: buf.len() };
        if ptrace(libc::PTRACE_GETREGSET, stub.tid, NT_X86_XSTATE, &mut iov as *mut libc::iovec as u64) != 0 {
            return None;
        }
        buf.truncate(iov.iov_len);
        Some(buf)
    }

    fn set_extended_state(&mut self, mm: &Arc<dyn AddressSpace>, state: &[u8]) -> bool {
        let Some(stub) = self.stub_for(mm) else { return false };
        let mut copy = state.to_vec();
        let mut iov = libc::iovec { iov_base: copy.as_mut_ptr() as *mut libc::c_void, iov_len: copy.len() };
        ptrace(libc::PTRACE_SETREGSET, stub.tid, NT_X86_XSTATE, &mut iov as *mut libc::iovec as u64) == 0
    }

    fn host_thread(&self, id: u64) -> Option<(i32, i32)> {
        self.stubs.get(&id).map(|s| (s.process.tgid, s.tid))
    }

    fn release(&mut self, id: u64) {
        let Some(stub) = self.stubs.remove(&id) else { return };
        // Other threads of a live address space still run in this stub
        // process: keep our host thread parked for the next of them.
        if stub.space.strong_count() > 0 && !stub.alone() {
            self.stubs.insert(id, stub);
            return;
        }
        self.retire(stub);
    }

    fn prepare(&mut self) {
        self.reap_dead();
        if self.spare.is_empty() {
            if let Some(stub) = self.spawn_stub(None) {
                self.spare.push(stub);
            }
        }
    }

    fn release_all(&mut self) {
        let ids: Vec<u64> = self.stubs.keys().copied().collect();
        for id in ids {
            self.release(id);
        }
    }

    fn spawn_thread(&mut self, space: &Arc<dyn AddressSpace>) -> Option<ThreadSeed> {
        const THREAD_FLAGS: u64 = (libc::CLONE_VM | libc::CLONE_FS | libc::CLONE_FILES | libc::CLONE_SIGHAND | libc::CLONE_THREAD | libc::CLONE_SYSVSEM) as u64;
        let stub = self.stub_for(space)?;
        let t = get_regs(stub.tid)?;
        let tid = stub.inject_at(CLONE_SITE, &t, libc::SYS_clone, [THREAD_FLAGS, 0, 0, 0, 0, 0]).ok()?;
        stub.host_regs = None;
        if tid <= 0 {
            return None;
        }
        stub.process.threads.fetch_add(1, Ordering::AcqRel);
        Some(ThreadSeed(Box::new(Seed { tid: tid as i32, process: stub.process.clone(), adopted: false })))
    }

    fn adopt_thread(&mut self, space: &Arc<dyn AddressSpace>, seed: ThreadSeed) -> bool {
        let Ok(mut seed) = seed.0.downcast::<Seed>() else { return false };
        let id = space.id();
        if self.stubs.contains_key(&id) {
            // We kept a host thread of this address space: the new one is
            // not needed (dropping the seed makes it exit).
            return true;
        }
        if !seize(seed.tid) {
            return false;
        }
        // The new host thread inherited the creating thread's CPU; run it
        // where this kernel thread runs (a round trip across CPUs is slow,
        // and two guest threads must be able to use two CPUs).
        crate::platform::host::system::pin_like_caller(seed.tid);
        seed.adopted = true;
        self.stubs.insert(id, Stub { tid: seed.tid, process: seed.process.clone(), space: Arc::downgrade(space), host_regs: None });
        true
    }

    fn set_cpus(&mut self, cpus: &[usize]) {
        use crate::platform::host::system;
        // This kernel thread is pinned, and its stubs with it (a round
        // trip stays on one CPU): all move when its CPU is not allowed.
        if system::pinned_cpu().is_some_and(|c| cpus.contains(&c)) {
            return;
        }
        system::pin_to_one_of(cpus);
        for stub in self.stubs.values().chain(self.spare.iter()) {
            system::pin_like_caller(stub.tid);
        }
    }

    fn parked(&self) -> usize {
        self.stubs.values().filter(|s| s.space.strong_count() > 0).count()
    }
}

impl Drop for PtraceContext {
    fn drop(&mut self) {
        let stubs: Vec<Stub> = self.stubs.drain().map(|(_, s)| s).chain(self.spare.drain(..)).collect();
        for stub in stubs {
            self.dispose(stub);
        }
    }
}

/// Reaps a stub leader just killed; false when it must wait for its other
/// threads (reaped by their own tracers) first.
/// A leader already reaped (its death was seen while it ran) is no child
/// any more: ECHILD ends the wait at once.
fn reap_killed(pid: i32) -> bool {
    for _ in 0..100 {
        let mut status = 0;
        // SAFETY: waiting for our own traced thread; status is a local.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::__WALL | libc::__WNOTHREAD | libc::WNOHANG) };
        if r == pid {
            if libc::WIFEXITED(status) || libc::WIFSIGNALED(status) {
                return true;
            }
            // A stop reported before the kill took effect: go on waiting.
            continue;
        }
        if r < 0 {
            match std::io::Error::last_os_error().raw_os_error() {
                Some(libc::EINTR) => continue,
                _ => return true,
            }
        }
        std::thread::yield_now();
    }
    false
}

/// The address space of a spare stub: none (a `Weak` to nothing needs a
/// concrete type). The seccomp backend's spares use it too.
pub(crate) struct NoSpace;

impl AddressSpace for NoSpace {
    fn id(&self) -> u64 {
        0
    }
    fn host_sync(&self) -> &parking_lot::Mutex<()> {
        static SYNC: parking_lot::Mutex<()> = parking_lot::Mutex::new(());
        &SYNC
    }
    fn host_generation(&self) -> u64 {
        0
    }
    fn take_host_changes(&self) -> crate::platform::HostChanges {
        Default::default()
    }
    fn host_changes_applied(&self, _changes: crate::platform::HostChanges) {}
    fn set_host_owner(&self, _owner: u64) -> u64 {
        0
    }
    fn forget_host_mappings(&self) {}
}

/// Resumes the guest under SYSEMU and waits for the next event.
fn run_guest(pid: i32, regs: &mut Regs, generation: u64) -> Event {
    if ptrace(libc::PTRACE_SYSEMU, pid, 0, 0) != 0 {
        return Event::Lost;
    }
    loop {
        let status = wait_stub(pid);
        if status == -1 || !libc::WIFSTOPPED(status) {
            return Event::Lost;
        }
        let sig = libc::WSTOPSIG(status);
        // A group stop of the stub process (PTRACE_EVENT_STOP): not the
        // guest's business.
        if status >> 16 == libc::PTRACE_EVENT_STOP {
            if ptrace(libc::PTRACE_SYSEMU, pid, 0, 0) != 0 {
                return Event::Lost;
            }
            continue;
        }
        let Some(r) = get_regs(pid) else { return Event::Lost };
        *regs = r;
        if sig == libc::SIGTRAP | 0x80 {
            return Event::Syscall;
        }
        // SAFETY: siginfo_t is plain data filled by PTRACE_GETSIGINFO.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        if ptrace(libc::PTRACE_GETSIGINFO, pid, 0, &mut info as *mut _ as u64) != 0 {
            return Event::Lost;
        }
        // SAFETY: si_addr is valid to read for fault signals.
        let addr = unsafe { info.si_addr() } as u64;
        match sig {
            libc::SIGSEGV if info.si_code > 0 => return Event::Fault { addr, generation },
            libc::SIGTRAP | libc::SIGFPE | libc::SIGILL | libc::SIGBUS | libc::SIGSEGV if info.si_code > 0 || sig == libc::SIGTRAP => {
                return Event::Signal { signo: sig, code: info.si_code, addr };
            }
            KICK_SIGNAL => return Event::Interrupted,
            _ => {
                // Any other host signal (a stray SIGINT, a group stop) is
                // not the guest's business: suppress it and go on.
                if ptrace(libc::PTRACE_SYSEMU, pid, 0, 0) != 0 {
                    return Event::Lost;
                }
            }
        }
    }
}
