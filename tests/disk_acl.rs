//! POSIX ACLs on an ext4 image (tests/guest/files_acl.c): the same
//! program natively in the host's /var/tmp (ext4 here) and under vkernel
//! in /work of a disk it boots from, where ext4 stores the ACLs in its
//! disk form and the VFS does the rest. Where the host's /var/tmp is not
//! ext4 the comparison is skipped (another filesystem may answer
//! differently), but the guest's own checks must pass.

mod common;
mod disk_common;

use disk_common::*;
use std::time::Duration;

#[test]
fn posix_acls_on_ext4_decide_access_follow_chmod_and_are_inherited() {
    if !have_tools("posix_acls_on_ext4") {
        return;
    }
    let s = Scratch::new("acl");
    let root = s.path("root");
    rootfs(&root, &["files_acl"], &[]);
    let image = s.path("disk.img");
    mkfs(&image, &["-b", "1024"], "32M", Some(&root));
    // As root, in the host's /var/tmp (the program makes and removes its
    // own directory there), as the guest tests' native runs do.
    let native = common::run_native(program("files_acl"), &["/var/tmp"], &common::Input::Null);
    let vk = run(vkernel_on(&[&image], "256m", &["/bin/files_acl", "/work"]), Duration::from_secs(60));
    assert_fsck_clean(&image, "the ACL run");
    assert_eq!(vk.status, 0, "files_acl fails its own checks on ext4:\n{}", vk.stdout_str());
    let on_ext4 = std::process::Command::new("stat").args(["-f", "-c", "%T", "/var/tmp"]).output().is_ok_and(|o| o.stdout.starts_with(b"ext2/ext3"));
    if !on_ext4 {
        eprintln!("SKIPPED the comparison: /var/tmp is not ext4 here");
        return;
    }
    common::assert_same(&native, &vk);
}
