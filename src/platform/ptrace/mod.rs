//! The ptrace platform. Each guest address space is a stub process traced
//! by the kernel thread that created it; guest code runs under
//! PTRACE_SYSEMU so the host skips every guest system call. Host mappings
//! are changed by running the stub's batch loop over an ops page.

pub mod stub;

use std::collections::HashMap;
use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Weak};

use crate::platform::{AddressSpace, Context, Event, GuestMemory, HostOp, Interrupt, Platform, Regs, STUB_REGION_START};
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
    fn new_context(&self) -> Box<dyn Context> {
        use std::os::fd::AsRawFd;
        Box::new(PtraceContext {
            memory: self.memory.clone(),
            stub_elf: self.stub_elf.as_raw_fd(),
            stubs: HashMap::new(),
            spare: Vec::new(),
            kick: Arc::new(Kick { pid: AtomicI32::new(0) }),
        })
    }
}

struct Kick {
    /// The stub currently running guest code for this context, or 0.
    pid: AtomicI32,
}

impl Interrupt for Kick {
    fn interrupt(&self) {
        let pid = self.pid.load(Ordering::Acquire);
        if pid > 0 {
            // SAFETY: sending a signal to a stub process we created; a stale
            // pid is a child of ours (not yet reaped) so it cannot be reused.
            unsafe { libc::syscall(libc::SYS_tgkill, pid, pid, KICK_SIGNAL) };
        }
    }
}

/// A stub process: one guest address space on the host.
struct Stub {
    pid: i32,
    space: Weak<dyn AddressSpace>,
    /// Offset in guest RAM of the page the batch loop reads its ops from.
    ops_page: u64,
    /// The registers the stopped host thread holds, when vkernel knows them
    /// exactly: after a guest stop, until an injected call changes them.
    host_regs: Option<Regs>,
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
            return host.rax == regs.rax || ptrace(libc::PTRACE_POKEUSER, stub.pid, RAX_OFFSET, regs.rax) == 0;
        }
    }
    set_regs(stub.pid, regs)
}

struct PtraceContext {
    memory: Arc<dyn GuestMemory>,
    stub_elf: i32,
    stubs: HashMap<u64, Stub>,
    /// Stubs no address space uses, kept for the next one (exec, the next
    /// task of a pooled kernel thread): creating a stub costs a host fork
    /// and exec, emptying one costs a single munmap.
    spare: Vec<Stub>,
    kick: Arc<Kick>,
}

/// Spare stubs kept per kernel thread.
const MAX_SPARE_STUBS: usize = 2;

// SAFETY: all host calls below are plain syscalls on pids we created; the
// structures passed are owned locals.
fn ptrace(req: libc::c_uint, pid: i32, addr: u64, data: u64) -> i64 {
    unsafe { libc::ptrace(req, pid, addr as *mut libc::c_void, data as *mut libc::c_void) }
}

fn wait_stub(pid: i32) -> i32 {
    let mut status = 0;
    loop {
        // SAFETY: waiting for our own traced child; status is a local.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::__WALL | libc::__WNOTHREAD) };
        if r == pid {
            return status;
        }
        if r < 0 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return -1;
        }
    }
}

fn get_regs(pid: i32) -> Option<Regs> {
    // SAFETY: Regs is plain data; PTRACE_GETREGS fills it.
    let mut regs: Regs = unsafe { std::mem::zeroed() };
    (ptrace(libc::PTRACE_GETREGS, pid, 0, &mut regs as *mut Regs as u64) == 0).then_some(regs)
}

fn set_regs(pid: i32, regs: &Regs) -> bool {
    ptrace(libc::PTRACE_SETREGS, pid, 0, regs as *const Regs as u64) == 0
}

impl Stub {
    /// Runs one host system call inside the stub.
    fn inject(&self, template: &Regs, nr: i64, args: [u64; 6]) -> Result<i64, ()> {
        let mut r = *template;
        r.rip = SYSCALL_SITE;
        r.rax = nr as u64;
        r.orig_rax = u64::MAX;
        (r.rdi, r.rsi, r.rdx, r.r10, r.r8, r.r9) = (args[0], args[1], args[2], args[3], args[4], args[5]);
        self.run_until_trap(&r).map(|r| r.rax as i64)
    }

    /// Runs the stub from `regs` until its int3.
    fn run_until_trap(&self, regs: &Regs) -> Result<Regs, ()> {
        if !set_regs(self.pid, regs) || ptrace(libc::PTRACE_CONT, self.pid, 0, 0) != 0 {
            return Err(());
        }
        loop {
            let status = wait_stub(self.pid);
            if status == -1 || !libc::WIFSTOPPED(status) {
                return Err(());
            }
            if libc::WSTOPSIG(status) == libc::SIGTRAP {
                return get_regs(self.pid).ok_or(());
            }
            // A stray signal (a kick): drop it and go on.
            if ptrace(libc::PTRACE_CONT, self.pid, 0, 0) != 0 {
                return Err(());
            }
        }
    }

    /// Applies host mapping changes in batches of MAX_OPS.
    fn apply(&self, memory: &dyn GuestMemory, ops: &[HostOp]) -> Result<(), ()> {
        let Some(template) = get_regs(self.pid) else { return Err(()) };
        for chunk in ops.chunks(MAX_OPS) {
            let page = memory.ram().page(self.ops_page);
            for (i, op) in chunk.iter().enumerate() {
                let words: [u64; 7] = match *op {
                    HostOp::Map { addr, len, prot, offset } => {
                        [libc::SYS_mmap as u64, addr, len, prot as u64, (libc::MAP_SHARED | libc::MAP_FIXED) as u64, STUB_MEMFD as u64, offset]
                    }
                    HostOp::Unmap { addr, len } => [libc::SYS_munmap as u64, addr, len, 0, 0, 0, 0],
                };
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
            let done = self.run_until_trap(&r)?;
            if done.r12 != 0 {
                return Err(());
            }
        }
        Ok(())
    }
}

impl Drop for Stub {
    fn drop(&mut self) {
        // SAFETY: killing and reaping our own child.
        unsafe {
            libc::kill(self.pid, libc::SIGKILL);
        }
        wait_stub(self.pid);
        // The ops page is released by the context, which owns the memory.
    }
}

impl PtraceContext {
    fn stub_for(&mut self, mm: &Arc<dyn AddressSpace>) -> Option<&mut Stub> {
        let id = mm.id();
        if !self.stubs.contains_key(&id) {
            // Reap stubs of address spaces that are gone.
            let dead: Vec<u64> = self.stubs.iter().filter(|(_, s)| s.space.strong_count() == 0).map(|(&k, _)| k).collect();
            for k in dead {
                self.release(k);
            }
            let stub = match self.spare.pop() {
                Some(mut stub) => {
                    // Empty the recycled host address space first.
                    let t = get_regs(stub.pid)?;
                    stub.inject(&t, libc::SYS_munmap, [0, STUB_REGION_START, 0, 0, 0, 0]).ok()?;
                    stub.host_regs = None;
                    stub.space = Arc::downgrade(mm);
                    stub
                }
                None => self.spawn_stub(Some(mm))?,
            };
            // A new host address space holds nothing yet.
            mm.forget_host_mappings();
            mm.set_host_owner(stub.pid as u64);
            self.stubs.insert(id, stub);
        }
        self.stubs.get_mut(&id)
    }

    fn spawn_stub(&self, mm: Option<&Arc<dyn AddressSpace>>) -> Option<Stub> {
        let ops_page = self.memory.alloc_page()?;
        let memfd = self.memory.ram().memfd();
        // SAFETY: getpid has no preconditions.
        let parent = unsafe { libc::getpid() };
        // SAFETY: fork in a threaded process; the child only makes raw
        // system calls (async-signal-safe) before execveat.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // SAFETY: see above; these are raw syscalls with valid arguments.
            unsafe { stub_child(memfd, self.stub_elf, parent) };
        }
        if pid < 0 {
            self.memory.free_page(ops_page);
            return None;
        }
        let space: Weak<dyn AddressSpace> = match mm {
            Some(m) => Arc::downgrade(m),
            None => Weak::<NoSpace>::new(),
        };
        let stub = Stub { pid, space, ops_page, host_regs: None };
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
        if stub.inject(&template, libc::SYS_prctl, [libc::PR_SET_NO_NEW_PRIVS as u64, 1, 0, 0, 0, 0]).ok()? != 0 {
            return None;
        }
        if stub.inject(&template, libc::SYS_seccomp, [libc::SECCOMP_SET_MODE_FILTER as u64, 0, OPS_ADDR, 0, 0, 0]).ok()? != 0 {
            return None;
        }
        page.fill(0);
        Some(stub)
    }
}

/// The stub child between fork and exec: detach from the terminal, die with
/// the tracer thread, keep only the guest-RAM memfd, ask to be traced, exec.
///
/// # Safety
/// Must be called only in a freshly forked child; never returns.
unsafe fn stub_child(memfd: i32, stub_elf: i32, parent: i32) -> ! {
    // SAFETY: raw system calls with constant or checked arguments.
    unsafe {
        let empty: libc::sigset_t = std::mem::zeroed();
        libc::syscall(libc::SYS_rt_sigprocmask, libc::SIG_SETMASK, &empty as *const _, 0usize, 8usize);
        libc::syscall(libc::SYS_setsid);
        libc::syscall(libc::SYS_prctl, libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
        if libc::syscall(libc::SYS_getppid) as i32 != parent {
            libc::syscall(libc::SYS_exit_group, 1);
        }
        // Move both fds out of the way first: either may already sit at
        // the target numbers, and dup3 refuses equal fds.
        let high_mem = libc::syscall(libc::SYS_fcntl, memfd, libc::F_DUPFD, 1000);
        let high_elf = libc::syscall(libc::SYS_fcntl, stub_elf, libc::F_DUPFD, 1000);
        let elf_fd = STUB_MEMFD + 1;
        if high_mem < 0
            || high_elf < 0
            || libc::syscall(libc::SYS_dup3, high_mem, STUB_MEMFD, 0) < 0
            || libc::syscall(libc::SYS_dup3, high_elf, elf_fd, libc::O_CLOEXEC) < 0
        {
            libc::syscall(libc::SYS_exit_group, 1);
        }
        libc::syscall(libc::SYS_close_range, 0u32, (STUB_MEMFD - 1) as u32, 0u32);
        libc::syscall(libc::SYS_close_range, (elf_fd + 1) as u32, u32::MAX, 0u32);
        libc::syscall(libc::SYS_ptrace, libc::PTRACE_TRACEME, 0, 0, 0);
        let argv: [*const libc::c_char; 2] = [c"vkernel-stub".as_ptr(), std::ptr::null()];
        let envp: [*const libc::c_char; 1] = [std::ptr::null()];
        libc::syscall(libc::SYS_execveat, elf_fd, c"".as_ptr(), argv.as_ptr(), envp.as_ptr(), libc::AT_EMPTY_PATH);
        libc::syscall(libc::SYS_exit_group, 127);
        unreachable!()
    }
}

impl Context for PtraceContext {
    fn switch(&mut self, mm: &Arc<dyn AddressSpace>, regs: &mut Regs) -> Event {
        let memory = self.memory.clone();
        let kick = self.kick.clone();
        let Some(stub) = self.stub_for(mm) else { return Event::Lost };
        let pid = stub.pid;
        // Another stub ran this address space since we did (a vfork child
        // shares its parent's): our host mappings may be stale, and the
        // changes queued since went to the other stub. Start from empty.
        if mm.set_host_owner(pid as u64) != pid as u64 {
            let Some(t) = get_regs(pid) else { return Event::Lost };
            if stub.inject(&t, libc::SYS_munmap, [0, STUB_REGION_START, 0, 0, 0, 0]).is_err() {
                return Event::Lost;
            }
            stub.host_regs = None;
            mm.forget_host_mappings();
        }
        let changes = mm.take_host_changes();
        if !changes.ops.is_empty() {
            stub.host_regs = None;
        }
        if !changes.ops.is_empty() && stub.apply(&*memory, &changes.ops).is_err() {
            // The host refused a mapping (e.g. too many host VMAs): the
            // host mappings are only a cache, so drop them all and refault.
            let Some(t) = get_regs(pid) else { return Event::Lost };
            if stub.inject(&t, libc::SYS_munmap, [0, STUB_REGION_START, 0, 0, 0, 0]).is_err() {
                return Event::Lost;
            }
            mm.forget_host_mappings();
        }
        mm.host_changes_applied(changes);
        if !load_regs(stub, regs) {
            return Event::Lost;
        }
        kick.pid.store(pid, Ordering::Release);
        let event = run_guest(pid, regs);
        kick.pid.store(0, Ordering::Release);
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
        if ptrace(libc::PTRACE_GETREGSET, stub.pid, NT_X86_XSTATE, &mut iov as *mut libc::iovec as u64) != 0 {
            return None;
        }
        buf.truncate(iov.iov_len);
        Some(buf)
    }

    fn set_extended_state(&mut self, mm: &Arc<dyn AddressSpace>, state: &[u8]) -> bool {
        let Some(stub) = self.stub_for(mm) else { return false };
        let mut copy = state.to_vec();
        let mut iov = libc::iovec { iov_base: copy.as_mut_ptr() as *mut libc::c_void, iov_len: copy.len() };
        ptrace(libc::PTRACE_SETREGSET, stub.pid, NT_X86_XSTATE, &mut iov as *mut libc::iovec as u64) == 0
    }

    fn host_pid(&self, mm_id: u64) -> Option<i32> {
        self.stubs.get(&mm_id).map(|s| s.pid)
    }

    fn release(&mut self, mm_id: u64) {
        if let Some(mut stub) = self.stubs.remove(&mm_id) {
            if self.spare.len() < MAX_SPARE_STUBS {
                stub.space = Weak::<NoSpace>::new();
                self.spare.push(stub);
                return;
            }
            let page = stub.ops_page;
            drop(stub);
            self.memory.free_page(page);
        }
    }

    fn prepare(&mut self) {
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
}

impl Drop for PtraceContext {
    fn drop(&mut self) {
        let stubs: Vec<Stub> = self.stubs.drain().map(|(_, s)| s).chain(self.spare.drain(..)).collect();
        for stub in stubs {
            let page = stub.ops_page;
            drop(stub);
            self.memory.free_page(page);
        }
    }
}

/// The address space of a spare stub: none (a `Weak` to nothing needs a
/// concrete type).
struct NoSpace;

impl AddressSpace for NoSpace {
    fn id(&self) -> u64 {
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
fn run_guest(pid: i32, regs: &mut Regs) -> Event {
    if ptrace(libc::PTRACE_SYSEMU, pid, 0, 0) != 0 {
        return Event::Lost;
    }
    loop {
        let status = wait_stub(pid);
        if status == -1 || !libc::WIFSTOPPED(status) {
            return Event::Lost;
        }
        let sig = libc::WSTOPSIG(status);
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
            libc::SIGSEGV if info.si_code > 0 => return Event::Fault { addr },
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
