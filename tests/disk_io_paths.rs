//! The page cache's data paths on an ext4 image (tests/guest/disk_io_paths.c):
//! large reads straight from the image and small ones through the cache,
//! over holes and dirty pages, scattered and faulting buffers, a file's own
//! mapping as its I/O buffer, O_APPEND, all as Linux answers them on its own
//! ext4 (a scratch directory in /var/tmp, run there as nobody).

mod common;
mod disk_common;

use disk_common::*;
use std::time::Duration;

#[test]
fn ext4_reads_and_writes_through_pinned_buffers_match_linux() {
    if !have_tools("disk_io_paths") {
        return;
    }
    let s = Scratch::new("io-paths");
    let root = s.path("root");
    rootfs(&root, &["disk_io_paths"], &[]);
    let image = s.path("disk.img");
    mkfs(&image, &[], "64M", Some(&root));
    let dir = native_dir(&s, "native");
    let native = run(native(&program("disk_io_paths"), &[dir.to_str().unwrap()]), Duration::from_secs(30));
    let vk = run(vkernel_on(&[&image], "256m", &["/bin/disk_io_paths", "/work"]), Duration::from_secs(60));
    assert_fsck_clean(&image, "the data-path run");
    common::assert_same(&native, &vk);
}
