//! The panic policy (docs/architecture.md, sched/panic.rs): a panic in a
//! kernel thread, injected through vkernel's test-only environment hooks,
//! is reported once on stderr with the system call and its arguments, the
//! guest process it served is killed (SIGKILL), everything else goes on,
//! and a panicking kernel timer does not stop the timers of anyone else.
//! vkernel-only: there is nothing to compare natively.

mod common;

use common::{BUSYBOX, Input, Link};

/// sync(2), which nothing else in these scripts calls.
const SYNC_NR: &str = "162";

fn with_env(mut cmd: std::process::Command, key: &str, value: &str) -> std::process::Command {
    cmd.env(key, value);
    cmd
}

fn internal_errors(stderr: &str) -> usize {
    stderr.lines().filter(|l| l.starts_with("vkernel: internal error in")).count()
}

#[test]
fn a_panicking_system_call_kills_only_its_process_and_is_reported_once() {
    if !common::have_busybox("a_panicking_system_call_kills_only_its_process_and_is_reported_once") {
        return;
    }
    let cmd = with_env(common::vkernel_command(BUSYBOX, &["sh", "-c", "sync & wait $!; echo status=$?; echo after"]), "VKERNEL_TEST_PANIC_SYSCALL", SYNC_NR);
    let out = common::run_with(cmd, &Input::Null, common::TIMEOUT);
    let err = out.stderr_str();
    assert!(!out.timed_out, "vkernel hung after the panic; stderr:\n{err}");
    assert_eq!(out.stdout_str(), "status=137\nafter\n", "stderr:\n{err}");
    assert_eq!(out.status, 0, "stderr:\n{err}");
    assert_eq!(internal_errors(&err), 1, "stderr:\n{err}");
    assert!(err.contains("system call sync("), "the report names the call: {err}");
}

#[test]
fn a_panic_in_pid_1_ends_vkernel_as_a_kill_would() {
    if !common::have_busybox("a_panic_in_pid_1_ends_vkernel_as_a_kill_would") {
        return;
    }
    let cmd = with_env(common::vkernel_command(BUSYBOX, &["sync"]), "VKERNEL_TEST_PANIC_SYSCALL", SYNC_NR);
    let out = common::run_with(cmd, &Input::Null, common::TIMEOUT);
    let err = out.stderr_str();
    assert!(!out.timed_out, "vkernel hung; stderr:\n{err}");
    assert_eq!(out.status, 128 + 9, "stderr:\n{err}");
    assert_eq!(internal_errors(&err), 1, "stderr:\n{err}");
}

#[test]
fn timers_still_fire_after_a_timer_callback_panicked() {
    let bin = common::build("alarm_fires", Link::Static);
    let cmd = with_env(common::vkernel_command(&bin, &[]), "VKERNEL_TEST_PANIC_TIMER", "1");
    let out = common::run_with(cmd, &Input::Null, common::TIMEOUT);
    let err = out.stderr_str();
    assert!(!out.timed_out, "vkernel hung; stderr:\n{err}");
    assert_eq!(out.stdout_str(), "alarm fired\n", "stderr:\n{err}");
    assert_eq!(out.status, 0, "stderr:\n{err}");
    assert_eq!(internal_errors(&err), 1, "one report of the timer's panic: {err}");
}
