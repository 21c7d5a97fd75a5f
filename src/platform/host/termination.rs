//! vkernel's own SIGTERM: blocked in every thread from the start of boot
//! and taken by one thread with sigwait, so a clean shutdown runs as
//! ordinary code (writing disks back) rather than in a signal handler.

/// Blocks SIGTERM in the calling thread; threads it starts inherit the
/// mask. Call first thing at boot, before any other thread exists.
pub fn block_sigterm() {
    // SAFETY: sigset operations on a local set, then pthread_sigmask of
    // the calling thread; no memory is shared.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
}

/// Waits until SIGTERM is sent to vkernel (it must be blocked).
pub fn wait_sigterm() {
    loop {
        // SAFETY: sigwait with a local set and a local result.
        let (rc, sig) = unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGTERM);
            let mut sig = 0;
            (libc::sigwait(&set, &mut sig), sig)
        };
        if rc == 0 && sig == libc::SIGTERM {
            return;
        }
    }
}

/// Ends vkernel by SIGTERM's default action, as if no one had caught it.
pub fn die_of_sigterm() -> ! {
    // SAFETY: resetting SIGTERM's action to the default, unblocking it in
    // this thread and raising it; the default action ends the process.
    unsafe {
        libc::signal(libc::SIGTERM, libc::SIG_DFL);
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        libc::raise(libc::SIGTERM);
    }
    std::process::exit(128 + libc::SIGTERM)
}
