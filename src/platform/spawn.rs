//! Creating a stub process: a host vfork-style clone whose child keeps only the
//! guest-RAM memfd, asks to be traced, and executes a stub image from a
//! memfd. Both platforms start their stubs this way.

/// The fd number of the guest-RAM memfd inside every stub.
pub const STUB_MEMFD: i32 = 3;

/// Forks a stub that will exec `stub_elf` (an fd of ours) traced by the
/// calling thread (stopped with SIGTRAP at its first instruction). Returns
/// the child's pid, or -1.
pub fn fork_stub(memfd: i32, stub_elf: i32) -> i32 {
    // The child shares our memory until its exec (CLONE_VM|CLONE_VFORK,
    // this thread waits meanwhile): a fork would copy vkernel's page
    // tables and write-protect its private memory, and every thread of
    // ours would then take a copy-on-write fault per page it writes.
    const STACK_WORDS: usize = 4096;
    let mut stack = vec![0u64; STACK_WORDS];
    let mut args = StubArgs {
        memfd,
        stub_elf,
        // SAFETY: getpid has no preconditions.
        parent: unsafe { libc::getpid() },
    };
    // 16-byte aligned top of the child's stack.
    let top = ((stack.as_mut_ptr() as usize + STACK_WORDS * 8) & !15) as *mut libc::c_void;
    // SAFETY: the child runs `stub_entry` on `stack`, which outlives it
    // (CLONE_VFORK returns only once the child has exec'd or exited), and
    // reads `args` only; it makes raw system calls only.
    unsafe { libc::clone(stub_entry, top, libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD, &mut args as *mut StubArgs as *mut libc::c_void) }
}

struct StubArgs {
    memfd: i32,
    stub_elf: i32,
    parent: i32,
}

extern "C" fn stub_entry(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the StubArgs fork_stub passed, alive while it
    // waits for this child.
    let args = unsafe { &*(arg as *const StubArgs) };
    // SAFETY: this is the freshly cloned child.
    unsafe { stub_child(args.memfd, args.stub_elf, args.parent) }
}

/// The kernel's struct sigaction (what rt_sigaction reads and writes).
#[repr(C)]
struct KernelSigaction {
    handler: usize,
    flags: u64,
    restorer: usize,
    mask: u64,
}

/// The stub child between fork and exec: detach from the terminal, die with
/// the tracer thread, keep only the guest-RAM memfd, ask to be traced, exec.
///
/// # Safety
/// Must be called only in a freshly forked child; never returns.
unsafe fn stub_child(memfd: i32, stub_elf: i32, parent: i32) -> ! {
    // SAFETY: raw system calls with constant or checked arguments.
    unsafe {
        // Our memory is vkernel's until the exec: no handler of vkernel
        // may run here. Caught signals go back to their default (exec
        // would reset them anyway); ignored ones stay ignored.
        let full: libc::sigset_t = {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigfillset(&mut set);
            set
        };
        libc::syscall(libc::SYS_rt_sigprocmask, libc::SIG_SETMASK, &full as *const _, 0usize, 8usize);
        for sig in 1..=64 {
            if sig == libc::SIGKILL || sig == libc::SIGSTOP {
                continue;
            }
            let mut old: KernelSigaction = std::mem::zeroed();
            if libc::syscall(libc::SYS_rt_sigaction, sig, 0usize, &mut old as *mut KernelSigaction, 8usize) == 0
                && old.handler != libc::SIG_DFL
                && old.handler != libc::SIG_IGN
            {
                let dfl = KernelSigaction { handler: libc::SIG_DFL, flags: 0, restorer: 0, mask: 0 };
                libc::syscall(libc::SYS_rt_sigaction, sig, &dfl as *const KernelSigaction, 0usize, 8usize);
            }
        }
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
        let elf_fd = crate::platform::spawn::STUB_MEMFD + 1;
        if high_mem < 0
            || high_elf < 0
            || libc::syscall(libc::SYS_dup3, high_mem, crate::platform::spawn::STUB_MEMFD, 0) < 0
            || libc::syscall(libc::SYS_dup3, high_elf, elf_fd, libc::O_CLOEXEC) < 0
        {
            libc::syscall(libc::SYS_exit_group, 1);
        }
        libc::syscall(libc::SYS_close_range, 0u32, (crate::platform::spawn::STUB_MEMFD - 1) as u32, 0u32);
        libc::syscall(libc::SYS_close_range, (elf_fd + 1) as u32, u32::MAX, 0u32);
        libc::syscall(libc::SYS_ptrace, libc::PTRACE_TRACEME, 0, 0, 0);
        let argv: [*const libc::c_char; 2] = [c"vkernel-stub".as_ptr(), std::ptr::null()];
        let envp: [*const libc::c_char; 1] = [std::ptr::null()];
        libc::syscall(libc::SYS_execveat, elf_fd, c"".as_ptr(), argv.as_ptr(), envp.as_ptr(), libc::AT_EMPTY_PATH);
        libc::syscall(libc::SYS_exit_group, 127);
        unreachable!()
    }
}
