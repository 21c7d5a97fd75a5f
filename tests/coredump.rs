//! Core dumps: a guest killed by SIGSEGV with RLIMIT_CORE set leaves an
//! ELF core file in its working directory (here a --share of a host
//! scratch directory) that the host's gdb reads: the backtrace with its
//! arguments, a global, a heap string and argv must be what the program
//! (tests/guest/core_crash.c) put there. Without a limit, or with one
//! below a page, there is no core and the status says so. A native run
//! cannot be the reference: where a host's core goes depends on its
//! core_pattern.

mod common;

use std::fs;
use std::process::Command;

use common::{Input, Link};

/// core_crash built static with debug information (the shared builder
/// leaves it out), so gdb can name arguments and variables.
fn debug_binary(link: &str) -> std::path::PathBuf {
    debug_build("core_crash", link)
}

fn debug_build(program: &str, link: &str) -> std::path::PathBuf {
    let out = common::scratch_dir().join(format!("{program}.debug{}.{}", link.replace(' ', ""), std::process::id()));
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/guest/{program}.c"));
    let r = Command::new("cc").args(["-g", "-O0"]).args(link.split_whitespace()).arg("-o").arg(&out).arg(&src).output().expect("run cc");
    assert!(r.status.success(), "cc failed: {}", String::from_utf8_lossy(&r.stderr));
    out
}

/// Runs core_crash with `limit` under vkernel in a fresh shared scratch
/// directory; returns the directory, the guest's exit status as the shell
/// saw it and the shell's stderr.
fn crash_under_vkernel(bin: &std::path::Path, limit: &str) -> (std::path::PathBuf, String, String) {
    let dir = common::fresh_scratch("core");
    let share = format!("{}:/cd", dir.display());
    let script = format!("cd /cd && {} {limit} one two; echo status=$?", bin.display());
    let out = common::run_vkernel_with(&["--share", &share], "/bin/sh", &["-c", &script], &Input::Null);
    assert!(!out.timed_out, "vkernel timed out:\n{}", out.stderr_str());
    (dir, out.stdout_str(), out.stderr_str())
}

#[test]
fn sigsegv_leaves_a_core_that_gdb_reads_static() {
    core_that_gdb_reads("-static");
}

/// A dynamic PIE: gdb relocates it from the core's auxiliary vector.
#[test]
fn sigsegv_leaves_a_core_that_gdb_reads_dynamic_pie() {
    core_that_gdb_reads("-pie -fPIE");
}

fn core_that_gdb_reads(link: &str) {
    if !common::have_tool("gdb") {
        return;
    }
    let bin = debug_binary(link);
    let (dir, stdout, stderr) = crash_under_vkernel(&bin, "inf");
    assert!(stdout.contains("status=139"), "stdout: {stdout}\nstderr: {stderr}");
    assert!(stderr.contains("core dumped"), "the shell should report a core: {stderr}");
    let core = dir.join("core");
    let bytes = fs::read(&core).expect("a core file in the working directory");
    assert_eq!(&bytes[..4], b"\x7fELF");
    assert_eq!(u16::from_le_bytes([bytes[16], bytes[17]]), 4, "ET_CORE");
    let gdb = Command::new("gdb")
        .args([
            "-batch",
            "-nx",
            "-ex",
            "bt",
            "-ex",
            "p/x marker",
            "-ex",
            "frame 4",
            "-ex",
            "p heap",
            "-ex",
            "p argc",
            "-ex",
            "p argv[3]",
            "-ex",
            "info signals SIGSEGV",
        ])
        .arg(&bin)
        .arg(&core)
        .output()
        .expect("run gdb");
    let text = String::from_utf8_lossy(&gdb.stdout).to_string() + &String::from_utf8_lossy(&gdb.stderr);
    for want in [
        "Program terminated with signal SIGSEGV",
        "#0 ",
        "depth (n=0, heap=",
        "in depth (n=3, heap=",
        "in main (argc=4, argv=",
        "= 0x12345678",
        "\"heap-marker-string\"",
        "= 4",
        "\"two\"",
    ] {
        assert!(text.contains(want), "gdb's answer lacks {want:?}:\n{text}");
    }
    let _ = fs::remove_dir_all(&dir);
    let _ = fs::remove_file(&bin);
}

#[test]
fn no_core_without_a_limit_of_a_page() {
    for limit in ["0", "1000"] {
        let (dir, stdout, stderr) = crash_under_vkernel(&common::build("core_crash", Link::Static), limit);
        assert!(stdout.contains("status=139"), "limit {limit}: stdout: {stdout}\nstderr: {stderr}");
        assert!(!stderr.contains("core dumped"), "limit {limit}: no core, yet: {stderr}");
        assert!(!dir.join("core").exists(), "limit {limit}: a core file was written");
        let _ = fs::remove_dir_all(&dir);
    }
}

#[test]
fn a_core_past_its_limit_is_not_reported_dumped() {
    // Larger than the headers, smaller than the memory to dump.
    let (dir, stdout, stderr) = crash_under_vkernel(&common::build("core_crash", Link::Static), "20000");
    assert!(stdout.contains("status=139"), "stdout: {stdout}\nstderr: {stderr}");
    assert!(!stderr.contains("core dumped"), "a truncated core is not a dump: {stderr}");
    let size = fs::metadata(dir.join("core")).map(|m| m.len()).unwrap_or(0);
    assert!(size <= 20000, "the core file ({size} bytes) passes RLIMIT_CORE");
    let _ = fs::remove_dir_all(&dir);
}

/// A threaded process's core holds every thread (NT_PRSTATUS each): gdb
/// lists all three, the one blocked in read and the one spinning where
/// they were, beside the crashing main thread (tests/guest/core_threads.c).
#[test]
fn a_threaded_crash_dumps_every_thread() {
    if !common::have_tool("gdb") {
        return;
    }
    let bin = debug_build("core_threads", "-static");
    let dir = common::fresh_scratch("core-threads");
    let share = format!("{}:/cd", dir.display());
    let script = format!("cd /cd && {}; echo status=$?", bin.display());
    let out = common::run_vkernel_with(&["--share", &share], "/bin/sh", &["-c", &script], &Input::Null);
    assert!(!out.timed_out, "vkernel timed out:\n{}", out.stderr_str());
    assert!(out.stdout_str().contains("status=139"), "stdout: {}\nstderr: {}", out.stdout_str(), out.stderr_str());
    let core = dir.join("core");
    let gdb = Command::new("gdb").args(["-batch", "-nx", "-ex", "info threads", "-ex", "thread apply all bt"]).arg(&bin).arg(&core).output().expect("run gdb");
    let text = String::from_utf8_lossy(&gdb.stdout).to_string() + &String::from_utf8_lossy(&gdb.stderr);
    for want in ["Program terminated with signal SIGSEGV", "Thread 3 ", "Thread 2 ", "Thread 1 ", "main () at", "in reading_thread", "spinning_thread"] {
        assert!(text.contains(want), "gdb's answer lacks {want:?}:\n{text}");
    }
    let _ = fs::remove_dir_all(&dir);
    let _ = fs::remove_file(&bin);
}
