//! Booting from ext4 images the host's mkfs.ext4 made (4 KiB blocks, 1 KiB
//! blocks, ext2): a filesystem workload (tests/guest/disk_workload.c) runs
//! as PID 1's child on the image and natively in a scratch directory as
//! an unprivileged user; the two manifests must be equal, the host's
//! e2fsck -fn must find nothing after vkernel's clean exit, and the host's
//! debugfs must read the bytes the native run wrote.

mod common;
mod disk_common;

use disk_common::*;
use std::time::Duration;

const FILES: usize = 1200;

fn workload_on(label: &str, mkfs_args: &[&str]) {
    if !have_tools(label) {
        return;
    }
    let s = Scratch::new(label);
    let tree = s.path("tree");
    make_tree(&tree, FILES, 42);
    let tarball = s.path("tree.tar");
    tar(&tree, &tarball);
    let root = s.path("root");
    rootfs(&root, &["disk_workload"], &[(&tarball, "/data/tree.tar")]);
    let image = s.path("disk.img");
    mkfs(&image, mkfs_args, "96M", Some(&root));

    let native_base = native_dir(&s, "native");
    let native_base = native_base.to_str().unwrap();
    let native = run(native(&program("disk_workload"), &[native_base, tarball.to_str().unwrap()]), Duration::from_secs(60));
    assert_eq!(native.status, 0, "native workload failed:\n{}{}", native.stdout_str(), native.stderr_str());
    assert!(native.stdout_str().lines().count() > FILES / 2, "the native tree is too small");

    let vk = run(vkernel_on(&[&image], "256m", &["/bin/disk_workload", "/work", "/data/tree.tar"]), Duration::from_secs(120));
    assert!(!vk.timed_out, "vkernel timed out");
    common::assert_same(&native, &vk);

    assert_fsck_clean(&image, &format!("the workload on {label}"));
    // The host's debugfs reads what the native run wrote (every 25th
    // regular file, and the tree's small special cases).
    let mut files = Vec::new();
    regular_files(std::path::Path::new(native_base), "", &mut files);
    assert!(files.len() > 500, "{} files", files.len());
    for path in files.iter().step_by(25).chain(files.iter().filter(|f| f.starts_with("trunc/") || f.starts_with("deep/"))) {
        let want = std::fs::read(format!("{native_base}/{path}")).unwrap_or_else(|e| panic!("native {path}: {e}"));
        let got = debugfs(&image, &format!("cat /work/{path}"));
        assert!(got == want, "debugfs cat /work/{path} on {label}: {} bytes, native has {}", got.len(), want.len());
    }
    let stat = String::from_utf8_lossy(&debugfs(&image, "stat /work/sparse")).into_owned();
    assert!(stat.contains(&format!("Size: {}", (5u64 << 30) + 12345 + 100)), "sparse file on {label}:\n{stat}");
}

#[test]
fn workload_on_ext4_with_4k_blocks_matches_native() {
    workload_on("ext4-4k", &["-b", "4096"]);
}

#[test]
fn workload_on_ext4_with_1k_blocks_matches_native() {
    workload_on("ext4-1k", &["-b", "1024"]);
}

#[test]
fn workload_on_ext2_matches_native() {
    workload_on("ext2", &["-t", "ext2"]);
}

/// Regular files below `dir` (relative paths, sorted), the sparse file aside.
fn regular_files(dir: &std::path::Path, prefix: &str, out: &mut Vec<String>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = format!("{prefix}{}", e.file_name().to_string_lossy());
        let ft = e.file_type().unwrap();
        if ft.is_dir() {
            regular_files(&e.path(), &format!("{name}/"), out);
        } else if ft.is_file() && name != "sparse" {
            out.push(name);
        }
    }
}

/// A shared mapping of a file on a mounted ext4 disk keeps the mount busy
/// (EBUSY), and after a lazy umount its writes reach the disk when the
/// mapping goes (the filesystem unmounts then, cleanly).
#[test]
fn a_shared_mapping_holds_its_ext4_mount_and_its_writes_survive_a_lazy_umount() {
    if !have_tools("mapped-umount") {
        return;
    }
    if !common::is_root() {
        eprintln!("SKIPPED: the guest needs uid 0 to mount");
        return;
    }
    let s = Scratch::new("mapped-umount");
    let root = s.path("root");
    rootfs(&root, &["disk_mapped_umount"], &[]);
    let image = s.path("root.img");
    mkfs(&image, &[], "32M", Some(&root));
    let data = s.path("data.img");
    mkfs(&data, &[], "32M", None);
    let vk = run(vkernel_on(&[&image, &data], "128m", &["/bin/disk_mapped_umount", "/dev/vdb", "/tmp/m"]), Duration::from_secs(60));
    assert!(!vk.timed_out, "vkernel timed out");
    let want = "mount: 0\nftruncate: 0\numount while mapped: -1 Device or resource busy\nlazy umount: 0\nmunmap: 0\n";
    assert_eq!(vk.stdout_str(), want, "stderr:\n{}", vk.stderr_str());
    assert_fsck_clean(&data, "a lazy umount with a shared mapping");
    let got = debugfs(&data, "cat /mapped");
    assert_eq!(got.len(), 8192);
    assert_eq!(&got[..10], b"first page");
    assert_eq!(&got[4096..4107], b"second page");
}

/// `--read-only` with a disk root mounts it read-only: writes are EROFS
/// and the image is left as mkfs made it (kernel filesystems go where it
/// has directories for them: /proc here, no /sys).
#[test]
fn read_only_disk_root_refuses_writes_and_stays_clean() {
    if !have_tools("ro-root") {
        return;
    }
    let s = Scratch::new("ro-root");
    let root = s.path("root");
    rootfs(&root, &[], &[]);
    for dir in ["proc", "dev", "tmp"] {
        std::fs::create_dir(root.join(dir)).unwrap();
    }
    let image = s.path("root.img");
    mkfs(&image, &[], "32M", Some(&root));
    let before = std::fs::read(&image).unwrap();
    let script = "echo x > /work/new || echo refused; while read dev at type opts rest; do [ \"$at\" = / ] && echo \"$dev $type $opts\"; done < /proc/mounts";
    let mut cmd = std::process::Command::new(common::VKERNEL);
    cmd.args(["-m", "64m", "--read-only", "-r"]).arg(&image).args(["--", "/bin/sh", "-c", script]);
    cmd.env_clear().envs(common::guest_env()).current_dir("/");
    let vk = run(cmd, Duration::from_secs(30));
    assert!(!vk.timed_out, "vkernel timed out");
    assert_eq!(vk.stdout_str(), "refused\n/dev/vda ext4 ro,relatime\n", "stderr:\n{}", vk.stderr_str());
    assert!(vk.stderr_str().contains("Read-only file system"), "stderr:\n{}", vk.stderr_str());
    assert!(std::fs::read(&image).unwrap() == before, "a read-only root changed the image");
}
