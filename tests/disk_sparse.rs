//! Sparse files (tests/guest/disk_sparse.c): lseek SEEK_DATA/SEEK_HOLE
//! and fallocate PUNCH_HOLE on tmpfs and on an ext4 image (4 KiB blocks)
//! give what Linux gives on its own tmpfs (/dev/shm) and ext4 (a scratch
//! directory in /var/tmp), run there as nobody. Where the host's directory
//! is not that filesystem, the comparison is skipped.

mod common;
mod disk_common;

use disk_common::*;
use std::fs;
use std::path::Path;
use std::time::Duration;

fn fs_line(out: &common::Outcome) -> String {
    out.stdout_str().lines().next().unwrap_or("").to_string()
}

#[test]
fn seek_data_hole_and_punch_hole_on_tmpfs_match_linux() {
    let program = program("disk_sparse");
    // A scratch directory on the host's tmpfs for the native run.
    let dir = Path::new("/dev/shm").join(common::unique_name("vk-sparse"));
    if fs::create_dir(&dir).is_err() {
        eprintln!("SKIPPED: no /dev/shm to compare with");
        return;
    }
    if common::is_root() {
        std::os::unix::fs::chown(&dir, Some(NOBODY), Some(NOBODY)).unwrap();
    }
    let native = run(native(&program, &[dir.to_str().unwrap(), "tmpfs"]), Duration::from_secs(30));
    let _ = fs::remove_dir_all(&dir);
    if fs_line(&native) != "fs: tmpfs" {
        eprintln!("SKIPPED: /dev/shm is not tmpfs here");
        return;
    }
    let vk = common::run_vkernel_with(&[], &program, &["/tmp", "tmpfs"], &common::Input::Null);
    common::assert_same(&native, &vk);
}

#[test]
fn seek_data_hole_and_punch_hole_on_ext4_match_linux() {
    if !have_tools("disk_sparse") {
        return;
    }
    let s = Scratch::new("sparse");
    let root = s.path("root");
    rootfs(&root, &["disk_sparse"], &[]);
    let image = s.path("disk.img");
    mkfs(&image, &["-b", "4096"], "64M", Some(&root));
    let native_base = native_dir(&s, "native");
    let native = run(native(&program("disk_sparse"), &[native_base.to_str().unwrap(), "ext4"]), Duration::from_secs(30));
    let vk = run(vkernel_on(&[&image], "256m", &["/bin/disk_sparse", "/work", "ext4"]), Duration::from_secs(60));
    assert_fsck_clean(&image, "the sparse-file run");
    if fs_line(&native) != "fs: ext4" {
        eprintln!("SKIPPED the comparison: /var/tmp is not ext4 here");
        assert_eq!(vk.status, 0, "{}", vk.stdout_str());
        return;
    }
    common::assert_same(&native, &vk);
}
