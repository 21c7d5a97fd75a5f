//! vkernel's vDSO: tests/guest/vdso.c finds it through AT_SYSINFO_EHDR,
//! calls every function and compares it with the system calls, natively and
//! under vkernel (static, static-PIE, dynamic glibc, static musl), with the
//! TSC and without; a loop of clock reads makes no system call (counted by
//! `-v`); `--vdso off` leaves it out.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Input, Link};

fn compare_vdso(bin: &Path) {
    let native = common::compare(bin, &[], &Input::Null);
    assert_eq!(native.status, 0, "vdso fails its own checks natively:\n{}", native.stdout_str());
}

#[test]
fn vdso_functions_match_their_system_calls_static() {
    compare_vdso(&common::build("vdso", Link::Static));
}

#[test]
fn vdso_functions_match_their_system_calls_static_pie() {
    compare_vdso(&common::build("vdso", Link::StaticPie));
}

#[test]
fn vdso_functions_match_their_system_calls_dynamic_glibc() {
    compare_vdso(&common::build("vdso", Link::Dynamic));
}

/// tests/guest/vdso.c built static with musl-gcc, or None (skipped) where
/// musl-tools is not installed; in CI it must be.
fn build_musl() -> Option<PathBuf> {
    if Command::new("musl-gcc").arg("--version").output().is_err() {
        assert!(std::env::var_os("CI").is_none(), "musl-gcc is missing in CI: .ci/run must install musl-tools");
        eprintln!("SKIPPED: musl-gcc not found (apt-get install musl-tools)");
        return None;
    }
    let dir = common::scratch_dir().join("guest-bin");
    std::fs::create_dir_all(&dir).expect("create the guest binary directory");
    let out = dir.join(common::unique_name("vdso.musl"));
    let src = common::repo_dir().join("tests/guest/vdso.c");
    let result = Command::new("musl-gcc")
        .args(["-O1", "-Wall", "-g0", "-static", "-I"])
        .arg(common::repo_dir().join("tests/guest"))
        .arg("-o")
        .arg(&out)
        .arg(&src)
        .output()
        .expect("run musl-gcc");
    assert!(result.status.success(), "musl-gcc failed:\n{}", String::from_utf8_lossy(&result.stderr));
    Some(out)
}

#[test]
fn vdso_functions_match_their_system_calls_musl() {
    if let Some(bin) = build_musl() {
        compare_vdso(&bin);
        let _ = std::fs::remove_file(bin);
    }
}

/// Without a usable TSC the page says so and every function makes the
/// system call: the answers stay the same.
#[test]
fn vdso_without_the_tsc_answers_through_system_calls() {
    let bin = common::build("vdso", Link::Static);
    let native = common::run_native(&bin, &[], &Input::Null);
    let mut cmd = common::vkernel_command(&bin, &[]);
    cmd.env("VKERNEL_TEST_NO_TSC", "1");
    let vk = common::run_with(cmd, &Input::Null, common::TIMEOUT);
    common::assert_same(&native, &vk);
}

/// What `vkernel -v OPTIONS` says about a run of `bin args`: its stderr,
/// and the number of system calls task 1 made.
fn verbose_run(options: &[&str], bin: &Path, args: &[&str]) -> (String, u64) {
    let mut all = vec!["-v"];
    all.extend_from_slice(options);
    let out = common::run_vkernel_with(&all, bin, args, &Input::Null);
    let stderr = out.stderr_str();
    assert_eq!(out.status, 0, "{} {args:?} under vkernel failed:\n{stderr}", bin.display());
    let count = stderr
        .lines()
        .find_map(|l| l.strip_prefix("vkernel: task 1 of pid 1 exits: "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no exit line from -v:\n{stderr}"));
    (stderr, count)
}

/// 170,000 rounds of six clock reads (clock_gettime of four clocks,
/// gettimeofday, time): over a million calls, and no more system calls than
/// a run that makes none.
fn million_reads_make_no_system_call(bin: &Path) {
    let (stderr, base) = verbose_run(&[], bin, &["loop", "0"]);
    if !stderr.contains("vDSO clocks from the TSC") {
        assert!(stderr.contains("vDSO clocks by system call"), "-v says how the clocks are read:\n{stderr}");
        eprintln!("SKIPPED: this host's TSC cannot be used, so the vDSO makes system calls:\n{stderr}");
        return;
    }
    let (_, looped) = verbose_run(&[], bin, &["loop", "170000"]);
    assert!(looped <= base + 5, "a million clock reads made {} system calls ({looped} against {base})", looped.saturating_sub(base));
    // The count is real: without the vDSO the same loop traps every time.
    let (_, trapped) = verbose_run(&["--vdso", "off"], bin, &["loop", "1000"]);
    assert!(trapped >= base + 6000, "--vdso off: 6000 clock reads made only {} system calls", trapped.saturating_sub(base));
}

#[test]
fn a_million_clock_reads_make_no_system_call_static() {
    million_reads_make_no_system_call(&common::build("vdso", Link::Static));
}

#[test]
fn a_million_clock_reads_make_no_system_call_dynamic_glibc() {
    million_reads_make_no_system_call(&common::build("vdso", Link::Dynamic));
}

#[test]
fn a_million_clock_reads_make_no_system_call_musl() {
    if let Some(bin) = build_musl() {
        million_reads_make_no_system_call(&bin);
        let _ = std::fs::remove_file(bin);
    }
}

#[test]
fn vdso_off_maps_none_and_the_libc_falls_back() {
    let bin = common::build("vdso", Link::Dynamic);
    let out = common::run_vkernel_with(&["--vdso", "off"], &bin, &["fallback"], &Input::Null);
    assert_eq!(out.status, 0, "{}{}", out.stdout_str(), out.stderr_str());
    assert!(out.stdout_str().contains("AT_SYSINFO_EHDR is 0: yes"));
}

#[test]
fn kernel_env_vdso_0_is_vdso_off() {
    let bin = common::build("vdso", Link::Static);
    let out = common::run_vkernel_with(&["-e", "vdso=0"], &bin, &["fallback"], &Input::Null);
    assert_eq!(out.status, 0, "{}{}", out.stdout_str(), out.stderr_str());
    let out = Command::new(common::VKERNEL).args(["-e", "vdso=maybe", "/bin/true"]).output().expect("run vkernel");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 1);
}

#[test]
fn vdso_switch_rejects_other_values_in_one_line() {
    let out = Command::new(common::VKERNEL).args(["--vdso", "maybe", "/bin/true"]).output().expect("run vkernel");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains("--vdso") && stderr.contains("on nor off"), "{stderr}");
}
