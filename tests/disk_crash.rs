//! The crash test: a guest writes, fsyncs and renames numbered files in a
//! loop (tests/guest/disk_crash.c) while vkernel is killed with SIGKILL at
//! a random moment, 20 times. Each time the host's e2fsck -fy must need no
//! more than a journal replay and orphan cleanup (no fix, clear or
//! salvage), then check clean (on the other runs vkernel's own replay at
//! the next boot recovers it); and booting the image again, every file
//! whose fsync had returned must be there with its full contents.

mod common;
mod disk_common;

use disk_common::*;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const RUNS: u64 = 20;

/// Boots the image with the writer and kills vkernel `after` the first
/// durable file; returns the last file reported durable.
fn crash_once(image: &std::path::Path, after: Duration) -> Option<i64> {
    let mut cmd = vkernel_on(&[image], "64m", &["/bin/disk_crash", "write", "/work/crash"]);
    cmd.stdout(Stdio::piped()).stderr(Stdio::inherit()).stdin(Stdio::null());
    let mut child = cmd.spawn().expect("spawn vkernel");
    let last = Arc::new(Mutex::new(None::<i64>));
    let started = Arc::new(Mutex::new(None::<Instant>));
    let other = Arc::new(Mutex::new(String::new()));
    let reader = {
        let (last, started, other) = (last.clone(), started.clone(), other.clone());
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if let Some(n) = line.strip_prefix("done ").and_then(|n| n.parse().ok()) {
                    *last.lock().unwrap() = Some(n);
                    started.lock().unwrap().get_or_insert_with(Instant::now);
                } else {
                    other.lock().unwrap().push_str(&format!("{line}\n"));
                }
            }
        })
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let since = *started.lock().unwrap();
        if since.is_some_and(|t| t.elapsed() >= after) || Instant::now() > deadline {
            break;
        }
        if let Ok(Some(status)) = child.try_wait() {
            std::thread::sleep(Duration::from_millis(50));
            panic!("the writer ended by itself ({status}): {}", other.lock().unwrap());
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    // SIGKILL: vkernel gets no chance to write anything back.
    let _ = child.kill();
    let _ = child.wait();
    reader.join().unwrap();
    let l = *last.lock().unwrap();
    l
}

#[test]
fn sigkill_at_random_moments_loses_no_fsynced_file() {
    if !have_tools("crash") {
        return;
    }
    let s = Scratch::new("crash");
    let root = s.path("root");
    rootfs(&root, &["disk_crash"], &[]);
    std::fs::create_dir_all(root.join("work/crash")).unwrap();
    let image = s.path("disk.img");
    mkfs(&image, &["-b", "4096"], "128M", Some(&root));
    let seed = std::env::var("VK_CRASH_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(0x5eed);
    let mut rng = Rng(seed);
    let mut total_files = 0;
    for run in 0..RUNS {
        let after = Duration::from_millis(20 + rng.below(600));
        eprintln!("run {run}: kill {after:?} after the first durable file");
        let last = crash_once(&image, after).unwrap_or_else(|| panic!("run {run}: the writer reported nothing"));
        let what = format!("run {run} (seed {seed:#x}, killed {after:?} in, last durable f{last:06})");
        if run % 2 == 0 {
            // The host's recovery first, then the files.
            let (status, text) = e2fsck(&image, "-fy");
            let only_replay = !text.contains("Fix? yes") && !text.contains("Clear? yes") && !text.contains("Salvage? yes");
            assert!(status <= 1 && only_replay, "{what}: e2fsck -fy needed more than a journal replay and orphan cleanup:\n{text}");
            assert!(text.contains("recovering journal"), "{what}: the crashed image had nothing to recover:\n{text}");
            assert_fsck_clean(&image, &what);
        }
        // Odd runs: vkernel's own replay at mount, then e2fsck -fn after
        // its clean unmount.
        let check = run_check(&image, last);
        assert_eq!(check.status, 0, "{what}:\n{}{}", check.stdout_str(), check.stderr_str());
        assert_fsck_clean(&image, &format!("{what}, checked"));
        total_files = last;
    }
    assert!(total_files > RUNS as i64, "the writer made too little progress ({total_files} files)");
    eprintln!("{RUNS} crashes, {} durable files kept", total_files + 1);
}

fn run_check(image: &std::path::Path, last: i64) -> common::Outcome {
    run(vkernel_on(&[image], "64m", &["/bin/disk_crash", "check", "/work/crash", &last.to_string()]), Duration::from_secs(30))
}
