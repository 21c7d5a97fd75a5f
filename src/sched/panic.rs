//! The panic policy. A bug in vkernel must never leave a guest task lost
//! and vkernel hung: a panic in a task's kernel thread is caught, reported
//! once on stderr with what the thread was doing (the system call and its
//! arguments), and the guest process it served is killed as the OOM killer
//! would kill it (SIGKILL, which ends its waits and wakes its waiters and
//! parent; when it was PID 1, vkernel exits with 137). Shared kernel
//! threads (timers, the console reader) catch each piece of work and go
//! on. Locks are parking_lot locks, released while unwinding, so nothing
//! waits forever on a lock whose holder panicked.

use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, catch_unwind};

thread_local! {
    /// Set while a thread runs guarded work: its panics are reported by the
    /// guard, not by the hook.
    static GUARDED: Cell<bool> = const { Cell::new(false) };
    /// The message and place of the last panic on this thread.
    static LAST: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Installs the panic hook (once, at boot): it records each panic for the
/// guard that catches it, and leaves the printing to the guard; panics
/// outside any guard are printed as usual after `before` runs (it puts the
/// host terminal back).
pub fn install_hook(before: fn()) {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let msg = payload.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| payload.downcast_ref::<String>().cloned()).unwrap_or_default();
        let place = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        LAST.with(|l| *l.borrow_mut() = Some(format!("{msg}{place}")));
        if !GUARDED.with(|g| g.get()) {
            before();
            default_hook(info);
        }
    }));
}

/// Runs `work`, catching a panic: Err carries the panic's message.
pub fn guarded<R>(work: impl FnOnce() -> R) -> Result<R, String> {
    let outer = GUARDED.with(|g| g.replace(true));
    let r = catch_unwind(AssertUnwindSafe(work));
    GUARDED.with(|g| g.set(outer));
    r.map_err(|_| LAST.with(|l| l.borrow_mut().take()).unwrap_or_else(|| "unknown panic".into()))
}

/// Reports a caught panic: one line, what was being done and what went wrong.
pub fn report(context: &str, message: &str) {
    eprintln!("vkernel: internal error in {context}: {message}");
}
