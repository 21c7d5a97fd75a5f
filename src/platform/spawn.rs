//! Creating a stub process: a host fork whose child keeps only the
//! guest-RAM memfd, asks to be traced, and executes a stub image from a
//! memfd. Both platforms start their stubs this way.

/// The fd number of the guest-RAM memfd inside every stub.
pub const STUB_MEMFD: i32 = 3;

/// Forks a stub that will exec `stub_elf` (an fd of ours) traced by the
/// calling thread (stopped with SIGTRAP at its first instruction). Returns
/// the child's pid, or -1.
pub fn fork_stub(memfd: i32, stub_elf: i32) -> i32 {
    // SAFETY: getpid has no preconditions.
    let parent = unsafe { libc::getpid() };
    // SAFETY: fork in a threaded process; the child only makes raw
    // system calls (async-signal-safe) before execveat.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // SAFETY: see above; these are raw syscalls with valid arguments.
        unsafe { stub_child(memfd, stub_elf, parent) };
    }
    pid
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
