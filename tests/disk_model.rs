//! Model-based test of the ext4 filesystem through the whole kernel: a
//! seeded random sequence of file operations (tests/guest/disk_model.c)
//! runs under vkernel on an image and natively on a host scratch directory
//! as an unprivileged user; the operation logs and the final trees must be
//! identical, and the image must pass the host's e2fsck -fn. One image
//! runs with little guest RAM so the page cache must evict and write back
//! under pressure. More seeds: VK_DISK_MODEL_SEEDS=1-200 (bench/disk_model.sh).

mod common;
mod disk_common;

use disk_common::*;
use std::time::Duration;

fn seeds(default: &[u64]) -> Vec<u64> {
    let Ok(spec) = std::env::var("VK_DISK_MODEL_SEEDS") else { return default.to_vec() };
    match spec.split_once('-') {
        Some((a, b)) => (a.parse().unwrap()..=b.parse().unwrap()).collect(),
        None => spec.split(',').map(|s| s.parse().unwrap()).collect(),
    }
}

fn ops() -> u32 {
    std::env::var("VK_DISK_MODEL_OPS").ok().and_then(|v| v.parse().ok()).unwrap_or(300)
}

fn model_on(label: &str, mkfs_args: &[&str], ram: &str, seeds: &[u64], ops: u32) {
    if !have_tools(label) {
        return;
    }
    let s = Scratch::new(label);
    let root = s.path("root");
    rootfs(&root, &["disk_model"], &[]);
    let image = s.path("disk.img");
    // Room for every seed's tree (a full disk would make the runs differ).
    mkfs(&image, mkfs_args, &format!("{}M", 64 + seeds.len() as u32 * ops / 20), Some(&root));
    let ops = ops.to_string();
    let mut native_out = String::new();
    let mut script = String::new();
    for seed in seeds {
        let dir = native_dir(&s, &format!("native-{seed}"));
        let out = run(native(&program("disk_model"), &[&seed.to_string(), &ops, dir.to_str().unwrap()]), Duration::from_secs(60));
        assert_eq!(out.status, 0, "native seed {seed}: {}", out.stderr_str());
        native_out.push_str(&format!("== seed {seed}\n{}", out.stdout_str()));
        script.push_str(&format!("echo '== seed {seed}'; mkdir /work/s{seed} && /bin/disk_model {seed} {ops} /work/s{seed} || exit 1; "));
    }
    let vk = run(vkernel_on(&[&image], ram, &["/bin/sh", "-c", &script]), Duration::from_secs(60 + 10 * seeds.len() as u64));
    assert!(!vk.timed_out, "vkernel timed out on {label}");
    let native = common::Outcome {
        stdout: native_out.into_bytes(),
        stderr: Vec::new(),
        status: 0,
        timed_out: false,
        elapsed: Duration::ZERO,
        command: format!("disk_model natively, seeds {seeds:?}"),
    };
    common::assert_same(&native, &vk);
    assert_fsck_clean(&image, &format!("the model run on {label}"));
}

#[test]
fn random_operations_on_ext4_match_native() {
    model_on("model-4k", &["-b", "4096"], "256m", &seeds(&[1, 2, 3, 4]), ops());
}

#[test]
fn random_operations_with_little_memory_match_native() {
    // 12 MiB of guest RAM: the files written outgrow the page cache.
    model_on("model-1k-small-ram", &["-b", "1024"], "12m", &seeds(&[5, 6]), ops() * 2);
}
