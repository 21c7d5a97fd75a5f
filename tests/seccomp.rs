//! Attacks on the seccomp platform from inside the guest (issue 10): a
//! guest that jumps into the stub, writes its read-only pages, rewrites its
//! shared slots while another thread traps, or signals itself during
//! hand-offs gets a signal or is killed — never a vkernel panic, a hang,
//! or a host call made on its behalf. The guest's parent survives each.

mod common;

use common::{Input, Link};

/// Runs guest program `name` on the seccomp platform; None (and a
/// message) when this host cannot start it.
fn run_on_seccomp(name: &str) -> Option<common::Outcome> {
    let bin = common::build(name, Link::Static);
    let out = common::run_vkernel_with(&["--platform", "seccomp"], &bin, &[], &Input::Null);
    if out.status != 0 && out.stderr_str().contains("seccomp") && out.stdout.is_empty() {
        eprintln!("skipped: this host has no seccomp platform: {}", out.stderr_str());
        return None;
    }
    Some(out)
}

#[test]
fn attacks_on_the_stub_kill_or_signal_the_attacker_only() {
    let Some(out) = run_on_seccomp("seccomp_attacks") else { return };
    let stderr = out.stderr_str();
    assert!(!out.timed_out, "timed out; stdout:\n{}", out.stdout_str());
    assert!(!stderr.contains("panicked"), "vkernel panicked: {stderr}");
    let expected = [
        "jump to the handler: killed by signal 11",
        "jump into the middle of the handler: killed by signal 11",
        "getpid at the stub's syscall site: killed by signal 11",
        "exit at the stub's syscall site: killed by signal 9",
        "write to the stub code: killed by signal 11",
        "write to the ops page: killed by signal 11",
        "signals during hand-offs: exited 0",
        "signals during patched hand-offs: exited 0",
        "the fast entry with a bad entry: killed by signal 11",
        "the slow path with a bad entry: killed by signal 11",
        "write to the syscall table: killed by signal 11",
        "jump into the fast return: killed by signal 11",
        "jump into a trampoline: killed by signal 11",
    ];
    let stdout = out.stdout_str();
    let lines: Vec<&str> = stdout.lines().collect();
    for want in expected {
        assert!(lines.contains(&want), "missing {want:?} in:\n{stdout}\nstderr: {stderr}");
    }
    // Garbage in the slots may end the attacker in several ways; each is
    // a clean end of that process alone.
    let scribbles: Vec<&&str> = lines.iter().filter(|l| l.starts_with("scribble over the slots: ")).collect();
    assert_eq!(scribbles.len(), 3, "{stdout}");
    let patched = lines.iter().filter(|l| l.starts_with("scribble over the slots during patched calls: ")).count();
    assert_eq!(patched, 3, "{stdout}");
    assert_eq!(lines.last(), Some(&"the guest lives on: 1"), "{stdout}\nstderr: {stderr}");
    assert_eq!(out.status, 0, "{stdout}\nstderr: {stderr}");
}

#[test]
fn faked_mapper_answers_never_expose_memory_to_another_guest() {
    let Some(out) = run_on_seccomp("seccomp_mapper_attack") else { return };
    let (stdout, stderr) = (out.stdout_str(), out.stderr_str());
    assert!(!out.timed_out, "timed out; stdout:\n{stdout}");
    assert!(!stderr.contains("panicked"), "vkernel panicked: {stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    // The attacker may end any way its attack takes it; the victim sees
    // only its own memory.
    assert!(lines.contains(&"victim: exited 0"), "{stdout}\nstderr: {stderr}");
    assert!(lines.iter().any(|l| l.starts_with("attacker: ")), "{stdout}");
    assert_eq!(lines.last(), Some(&"the guest lives on"), "{stdout}\nstderr: {stderr}");
    assert_eq!(out.status, 0, "{stdout}\nstderr: {stderr}");
}

/// Without --platform, vkernel runs on seccomp where it starts and falls
/// back to ptrace where it does not, saying which and why under -v; asked
/// for by name, a backend that cannot start is a one-line error.
/// A guest thread whose gs names another thread's slot makes patched
/// calls through that slot while its owner does too.
#[test]
fn a_thread_with_another_threads_slot_in_gs_is_killed_or_signalled() {
    let bin = common::build("seccomp_attacks", Link::Static);
    let out = common::run_vkernel_with(&["--platform", "seccomp"], &bin, &["forged-gs"], &Input::Null);
    let stdout = out.stdout_str();
    assert!(!out.timed_out, "timed out; stdout:\n{stdout}");
    assert!(stdout.lines().any(|l| l.starts_with("gs at another thread's slot: ")), "{stdout}");
    assert_eq!(stdout.lines().last(), Some("the guest lives on: 1"), "{stdout}");
}

#[test]
fn the_default_is_seccomp_and_a_host_without_it_falls_back_to_ptrace() {
    let run = |args: &[&str], no_seccomp: bool| {
        let mut cmd = std::process::Command::new(common::VKERNEL);
        cmd.args(args).args(["--", "/bin/true"]).env_remove("VKERNEL_PLATFORM").stdin(std::process::Stdio::null());
        if no_seccomp {
            cmd.env("VKERNEL_TEST_NO_SECCOMP", "1");
        }
        let out = cmd.output().expect("run vkernel");
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (status, stderr) = run(&["-v"], false);
    assert_eq!(status, Some(0), "{stderr}");
    if !stderr.contains("platform seccomp: the default") {
        // This host cannot run seccomp: the fallback must have said why.
        assert!(stderr.contains("platform ptrace: the fallback: the seccomp platform cannot start here"), "{stderr}");
        eprintln!("skipped the seccomp half: this host has no seccomp platform");
    }
    let (status, stderr) = run(&["-v"], true);
    assert_eq!(status, Some(0), "{stderr}");
    assert!(stderr.contains("platform ptrace: the fallback: the seccomp platform cannot start here (VKERNEL_TEST_NO_SECCOMP is set)"), "{stderr}");
    let (status, stderr) = run(&["--platform", "seccomp"], true);
    assert_ne!(status, Some(0), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].contains("cannot start the platform") && lines[0].contains("VKERNEL_TEST_NO_SECCOMP"), "{stderr}");
    let (status, stderr) = run(&["-v", "--platform", "ptrace"], true);
    assert_eq!(status, Some(0), "{stderr}");
    assert!(stderr.contains("platform ptrace: asked for"), "{stderr}");
}

/// Calls in quick succession and far apart, in two threads and pinned to
/// each CPU, answer as natively under every placement of the seccomp
/// platform; the adaptive one (the default) moves its kernel threads
/// between sharing their guest thread's CPU and spreading (counted by -v).
#[test]
fn placements_answer_like_native_and_adaptive_placement_moves() {
    let bin = common::build("placement", Link::Static);
    let native = common::run_native(&bin, &[], &Input::Null);
    assert_eq!(native.status, 0, "placement fails natively:\n{}", native.stdout_str());
    for placement in ["adaptive", "local", "spread"] {
        let mut cmd = common::vkernel_command_with(&["-v", "--platform", "seccomp"], &bin, &[]);
        cmd.env("VKERNEL_SECCOMP_PLACEMENT", placement);
        let out = common::run_with(cmd, &Input::Null, std::time::Duration::from_secs(120));
        let stderr = out.stderr_str();
        if out.status != 0 && stderr.contains("cannot start the platform") {
            eprintln!("skipped: this host has no seccomp platform: {stderr}");
            return;
        }
        assert_eq!(out.stdout_str(), native.stdout_str(), "placement {placement}:\n{stderr}");
        assert_eq!(out.status, 0, "placement {placement}:\n{stderr}");
        let moves: u64 = stderr
            .split("; ")
            .find_map(|part| part.strip_suffix(" placement moves").or_else(|| part.trim_end().strip_suffix(" placement moves")))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("no placement count in -v:\n{stderr}"));
        if placement == "adaptive" {
            assert!(moves >= 2, "quick calls spread and slow ones bring it back: {moves} moves\n{stderr}");
        } else {
            assert_eq!(moves, 0, "placement {placement} never moves\n{stderr}");
        }
    }
}
