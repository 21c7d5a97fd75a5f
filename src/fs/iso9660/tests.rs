//! Images made by the host's xorriso (installed by .ci/run), read back
//! through the filesystem; corrupted images never panic or hang.

use super::*;
use crate::block::MemDisk;
use std::path::{Path, PathBuf};
use std::process::Command;

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("vk-iso-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// xorriso -as mkisofs with `args` over `tree`; the image's bytes.
fn make_iso(dir: &Path, tree: &Path, args: &[&str]) -> Vec<u8> {
    let out = dir.join("image.iso");
    let status = Command::new("xorriso")
        .args(["-as", "mkisofs", "-quiet"])
        .args(args)
        .arg("-o")
        .arg(&out)
        .arg(tree)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("run xorriso (apt-get install xorriso)");
    assert!(status.success());
    std::fs::read(&out).unwrap()
}

fn mount_bytes(image: Vec<u8>, options: &str) -> KResult<Arc<SuperBlock>> {
    let disk = MemDisk::from_bytes(image, true);
    mount(&MountRequest { device: Some(disk), dev: Some(crate::fs::make_dev(11, 0)), source: "/dev/sr0", flags: 1, options })
}

fn walk(root: &InodeRef, path: &str) -> InodeRef {
    let mut cur = root.clone();
    for c in path.split('/').filter(|c| !c.is_empty()) {
        cur = cur.lookup(c.as_bytes()).unwrap_or_else(|e| panic!("lookup {c} in {path}: {e}"));
    }
    cur
}

fn names(dir: &InodeRef) -> Vec<String> {
    let mut v = Vec::new();
    dir.readdir(0, &mut |e| {
        v.push(String::from_utf8_lossy(e.name).into_owned());
        true
    })
    .unwrap();
    v.sort();
    v
}

fn fixture(dir: &Path) -> PathBuf {
    use std::os::unix::fs::{PermissionsExt, symlink};
    let tree = dir.join("tree");
    std::fs::create_dir_all(tree.join("sub/deeper")).unwrap();
    std::fs::write(tree.join("Hello World.txt"), b"hello\n").unwrap();
    std::fs::write(tree.join("sub/deeper/data.bin"), (0..70_000u32).map(|i| (i * 7) as u8).collect::<Vec<u8>>()).unwrap();
    std::fs::write(tree.join("script.sh"), b"#!/bin/sh\n").unwrap();
    std::fs::set_permissions(tree.join("script.sh"), std::fs::Permissions::from_mode(0o751)).unwrap();
    symlink("sub/deeper/data.bin", tree.join("link")).unwrap();
    symlink("/absolute/../target", tree.join("abs")).unwrap();
    let mut deep = tree.join("d1");
    for i in 2..=10 {
        deep = deep.join(format!("d{i}"));
    }
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::write(deep.join("bottom"), b"deep").unwrap();
    tree
}

#[test]
fn rock_ridge_image_reads_back_names_modes_links_times_and_data() {
    let dir = scratch("rr");
    let tree = fixture(&dir);
    let image = make_iso(&dir, &tree, &["-R", "-J"]);
    let sb = mount_bytes(image, "").unwrap();
    assert!(sb.read_only());
    let root = sb.root.clone();
    assert_eq!(names(&root), vec![".", "..", "Hello World.txt", "abs", "d1", "link", "script.sh", "sub"]);
    let hello = walk(&root, "Hello World.txt");
    let mut buf = [0u8; 64];
    assert_eq!(hello.read_at(0, &mut buf).unwrap(), 6);
    assert_eq!(&buf[..6], b"hello\n");
    let script = walk(&root, "script.sh").metadata().unwrap();
    assert_eq!(script.mode, S_IFREG | 0o751);
    let host_mtime = std::fs::metadata(tree.join("script.sh")).unwrap();
    use std::os::unix::fs::MetadataExt;
    assert_eq!(script.mtime.tv_sec, host_mtime.mtime());
    assert_eq!(walk(&root, "link").readlink().unwrap(), b"sub/deeper/data.bin");
    assert_eq!(walk(&root, "abs").readlink().unwrap(), b"/absolute/../target");
    let data = walk(&root, "sub/deeper/data.bin");
    let mut all = vec![0u8; 80_000];
    assert_eq!(data.read_at(0, &mut all).unwrap(), 70_000);
    assert_eq!(&all[..70_000], &std::fs::read(tree.join("sub/deeper/data.bin")).unwrap()[..]);
    assert_eq!(data.read_at(69_990, &mut all).unwrap(), 10);
    let bottom = walk(&root, "d1/d2/d3/d4/d5/d6/d7/d8/d9/d10/bottom");
    assert_eq!(bottom.read_at(0, &mut buf).unwrap(), 4);
    assert_eq!(root.statfs().unwrap().f_type, ISOFS_SUPER_MAGIC);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn joliet_names_without_rock_ridge_and_plain_names_without_either() {
    let dir = scratch("joliet");
    let tree = fixture(&dir);
    let image = make_iso(&dir, &tree, &["-J", "-R"]);
    let sb = mount_bytes(image.clone(), "norock").unwrap();
    assert!(names(&sb.root).contains(&"Hello World.txt".to_string()));
    assert_eq!(walk(&sb.root, "script.sh").metadata().unwrap().mode, S_IFREG | 0o555);
    let sb = mount_bytes(image, "norock,nojoliet").unwrap();
    assert!(names(&sb.root).contains(&"hello_wo.txt".to_string()), "{:?}", names(&sb.root));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_blank_or_foreign_device_is_einval_and_bad_options_too() {
    assert_eq!(mount_bytes(vec![0u8; 1 << 20], "").err(), Some(Errno::EINVAL));
    assert_eq!(mount_bytes(vec![0u8; 100], "").err(), Some(Errno::EINVAL));
    assert!(!probe(&*MemDisk::from_bytes(vec![0u8; 1 << 20], true)));
    let dir = scratch("opts");
    let image = make_iso(&dir, &fixture(&dir), &["-R"]);
    assert!(probe(&*MemDisk::from_bytes(image.clone(), true)));
    assert_eq!(mount_bytes(image, "frobnicate").err(), Some(Errno::EINVAL));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Walks every name, reads every file and link; errors are fine.
fn visit(inode: &InodeRef, depth: u32, budget: &mut u32) {
    if depth > 40 || *budget == 0 {
        return;
    }
    *budget -= 1;
    let _ = inode.metadata();
    let _ = inode.readlink();
    let mut buf = vec![0u8; 8192];
    let _ = inode.read_at(0, &mut buf);
    let mut children = Vec::new();
    let _ = inode.readdir(0, &mut |e| {
        if e.name != b"." && e.name != b".." {
            children.push(e.name.to_vec());
        }
        true
    });
    for c in children {
        if let Ok(child) = inode.lookup(&c) {
            visit(&child, depth + 1, budget);
        }
    }
}

#[test]
fn corrupted_images_give_errors_never_a_panic() {
    let dir = scratch("fuzz");
    let image = make_iso(&dir, &fixture(&dir), &["-R", "-J"]);
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    // Metadata lives in the first blocks: volume descriptors, path tables,
    // directories, Rock Ridge areas.
    let meta_end = image.len().min(40 * 2048);
    let (mut mounted, mut refused) = (0, 0);
    for _ in 0..300 {
        let mut img = image.clone();
        for _ in 0..1 + next() % 8 {
            let at = 16 * 2048 + (next() as usize) % (meta_end - 16 * 2048);
            img[at] = next() as u8;
        }
        match mount_bytes(img, "") {
            Ok(sb) => {
                mounted += 1;
                let mut budget = 2000;
                visit(&sb.root, 0, &mut budget);
            }
            Err(e) => {
                assert!(matches!(e, Errno::EINVAL | Errno::EIO | Errno(117)), "{e}");
                refused += 1;
            }
        }
    }
    assert!(mounted > 0 && mounted + refused == 300);
    let _ = std::fs::remove_dir_all(&dir);
}
