//! Shutdown: when PID 1 exits, or vkernel gets SIGTERM, every guest
//! process is killed, every dirty page is written back and every disk
//! filesystem is synced and unmounted cleanly (the host's e2fsck -fn finds
//! nothing to fix), then vkernel exits. Runs once; a second caller waits
//! for the first.

use parking_lot::Mutex;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::abi::signal::SIGKILL;
use crate::task::process::Lifecycle;
use crate::task::system::System;

/// How long killed guest processes get to finish their system calls.
const KILL_GRACE: Duration = Duration::from_secs(2);

static DONE: Mutex<bool> = Mutex::new(false);

/// Starts the thread that turns SIGTERM to vkernel into a clean shutdown
/// (SIGTERM is blocked in every thread from the start of boot).
pub fn handle_sigterm(system: &Arc<System>) {
    let system = system.clone();
    let _ = std::thread::Builder::new().name("vkernel-sigterm".into()).spawn(move || {
        crate::platform::host::termination::wait_sigterm();
        run(&system);
        crate::tty::console::restore_host_terminal();
        crate::platform::host::termination::die_of_sigterm();
    });
}

/// The shutdown sequence (idempotent).
pub fn run(system: &Arc<System>) {
    let mut done = DONE.lock();
    if *done {
        return;
    }
    kill_guests(system);
    // Errors here have no one to go to but the person at the console.
    if let Err(e) = crate::mm::page_cache::write_back_everything() {
        eprintln!("vkernel: shutdown: writing back cached file data: {e}");
    }
    for sb in crate::fs::fstype::device_superblocks() {
        let _ = sb.sync();
    }
    for (dev, e) in crate::fs::ext4::vfs::unmount_all() {
        eprintln!("vkernel: shutdown: unmounting the filesystem on {}:{}: {e}", crate::fs::dev_major(dev), crate::fs::dev_minor(dev));
    }
    *done = true;
}

/// SIGKILL to every guest process, then a short wait for them to end
/// (their writes finish first; what they would write later is lost, as at
/// a power-off).
fn kill_guests(system: &Arc<System>) {
    let Some(processes) = crate::sched::processes::processes() else { return };
    let alive = || -> Vec<i32> {
        // Process states are never taken under the process table's lock.
        let all: Vec<(i32, Arc<crate::task::process::Process>)> = system.processes.lock().iter().map(|(&pid, p)| (pid, p.clone())).collect();
        all.into_iter().filter(|(_, p)| !matches!(p.state().lifecycle, Lifecycle::Zombie { .. })).map(|(pid, _)| pid).collect()
    };
    let pids = alive();
    for &pid in &pids {
        processes.signal_process(pid, SIGKILL);
    }
    let deadline = Instant::now() + KILL_GRACE;
    while !alive().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
}
