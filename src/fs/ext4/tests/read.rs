//! Reading trees the host populated, on every image profile.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

use super::*;

/// A tree with the shapes worth reading: sizes around block boundaries, a
/// big file, deep and wide directories, links of both kinds, a FIFO.
fn populate(root: &Path) {
    let mut rng = Rng(42);
    std::fs::create_dir_all(root.join("a/b/c/d/e/f")).unwrap();
    for (name, len) in [
        ("empty", 0),
        ("one", 1),
        ("fits-i-block", 50),
        ("needs-system-data", 110),
        ("b1023", 1023),
        ("b1024", 1024),
        ("b4095", 4095),
        ("b4096", 4096),
        ("b4097", 4097),
        ("mid", 100_000),
    ] {
        std::fs::write(root.join(name), rng.bytes(len)).unwrap();
    }
    std::fs::write(root.join("a/b/c/d/e/f/deep.txt"), b"deep file\n").unwrap();
    std::fs::write(root.join("big"), rng.bytes(3 << 20)).unwrap();
    std::fs::create_dir(root.join("wide")).unwrap();
    for i in 0..1500 {
        std::fs::write(root.join(format!("wide/entry-with-a-longish-name-{i:05}")), format!("{i}\n")).unwrap();
    }
    std::os::unix::fs::symlink("b4096", root.join("fastlink")).unwrap();
    let long = "x/".repeat(60) + "target";
    std::os::unix::fs::symlink(&long, root.join("slowlink")).unwrap();
    std::fs::hard_link(root.join("mid"), root.join("mid-hardlink")).unwrap();
    let _ = Command::new("mkfifo").arg(root.join("fifo")).status();
    std::fs::set_permissions(root.join("one"), std::fs::Permissions::from_mode(0o640)).unwrap();
}

fn compare_tree(fs: &Ext4, host: &Path, ino: u32) {
    let mut entries = names(fs, ino);
    entries.retain(|(n, _, _)| n != b"." && n != b".." && n != b"lost+found");
    let mut host_names: Vec<String> = std::fs::read_dir(host).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    host_names.sort();
    let mut ours: Vec<String> = entries.iter().map(|(n, _, _)| String::from_utf8(n.clone()).unwrap()).collect();
    ours.sort();
    assert_eq!(ours, host_names, "entries of {host:?}");
    for (name, child, dtype) in entries {
        let hp = host.join(std::str::from_utf8(&name).unwrap());
        let md = std::fs::symlink_metadata(&hp).unwrap();
        let a = fs.getattr(child).unwrap();
        assert_eq!(fs.lookup(ino, &name).unwrap(), child);
        assert_eq!(a.mode & 0o7777, md.mode() & 0o7777, "{hp:?} mode");
        assert_eq!(a.mode & 0o170000, md.mode() & 0o170000, "{hp:?} type");
        assert_eq!(dtype as u32, (md.mode() & 0o170000) >> 12, "{hp:?} d_type");
        if md.is_dir() {
            compare_tree(fs, &hp, child);
        } else if md.is_symlink() {
            let t = std::fs::read_link(&hp).unwrap();
            assert_eq!(fs.readlink(child).unwrap(), t.as_os_str().as_encoded_bytes(), "{hp:?}");
        } else if md.is_file() {
            assert_eq!(a.size, md.len());
            assert_eq!(read_all(fs, child), std::fs::read(&hp).unwrap(), "{hp:?} contents");
            assert_eq!(a.nlink as u64, md.nlink(), "{hp:?} links");
        }
    }
}

fn check_profile(args: &[&str]) {
    let s = Scratch::new("tree");
    populate(&s.0);
    let image = mkfs(args, "64M", Some(&s.0));
    let d = MemDisk::from_bytes(image, true);
    let dev: Arc<dyn BlockDevice> = d.clone();
    let fs = Ext4::mount(dev, true).unwrap_or_else(|e| panic!("mount {args:?}: {e:?}"));
    compare_tree(&fs, &s.0, fs.root());
    // Reads past the end and in the middle.
    let big = walk(&fs, "/big").unwrap();
    let mut buf = vec![0u8; 10000];
    assert_eq!(fs.read(big, (3 << 20) - 100, &mut buf).unwrap(), 100);
    assert_eq!(fs.read(big, 3 << 20, &mut buf).unwrap(), 0);
    let host = std::fs::read(s.0.join("big")).unwrap();
    assert_eq!(fs.read(big, 12345, &mut buf).unwrap(), 10000);
    assert_eq!(&buf[..], &host[12345..22345]);
    assert_eq!(fs.lookup(fs.root(), b"nope"), Err(Errno::ENOENT));
    let st = fs.statfs().unwrap();
    assert!(st.blocks_free > 0 && st.blocks_free < st.blocks && st.files_free < st.files);
}

#[test]
fn reads_a_populated_ext4_image_with_4k_blocks() {
    check_profile(&["-b", "4096"]);
}

#[test]
fn reads_a_populated_small_ext4_image_with_1k_blocks() {
    check_profile(&[]);
}

#[test]
fn reads_ext4_without_metadata_csum() {
    check_profile(&["-O", "^metadata_csum"]);
}

#[test]
fn reads_ext3_and_ext2_images() {
    check_profile(&["-t", "ext3"]);
    check_profile(&["-t", "ext2"]);
}

#[test]
fn reads_inline_data_images() {
    check_profile(&["-O", "inline_data"]);
}
