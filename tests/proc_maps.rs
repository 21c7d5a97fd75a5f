//! /proc/<pid>/maps for shared mappings (tests/guest/maps_shared.c): a
//! MAP_SHARED file mapping names its file (path, device, inode; " (deleted)"
//! once unlinked) as Linux shows it, on tmpfs and on an ext4 image, compared
//! with the same program run natively (as nobody, in a scratch directory).

mod common;
mod disk_common;

use disk_common::*;
use std::time::Duration;

#[test]
fn shared_file_mappings_show_their_file_in_proc_maps_on_tmpfs() {
    let program = program("maps_shared");
    let s = Scratch::new("maps");
    let dir = native_dir(&s, "native");
    let native = run(native(&program, &[dir.to_str().unwrap()]), Duration::from_secs(30));
    let vk = common::run_vkernel_with(&[], &program, &["/tmp"], &common::Input::Null);
    common::assert_same(&native, &vk);
}

#[test]
fn shared_file_mappings_show_their_file_in_proc_maps_on_ext4() {
    if !have_tools("maps_shared") {
        return;
    }
    let s = Scratch::new("maps-ext4");
    let root = s.path("root");
    rootfs(&root, &["maps_shared"], &[]);
    let image = s.path("disk.img");
    mkfs(&image, &[], "32M", Some(&root));
    let dir = native_dir(&s, "native");
    let native = run(native(&program("maps_shared"), &[dir.to_str().unwrap()]), Duration::from_secs(30));
    let vk = run(vkernel_on(&[&image], "256m", &["/bin/maps_shared", "/work"]), Duration::from_secs(60));
    common::assert_same(&native, &vk);
}
