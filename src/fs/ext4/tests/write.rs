//! Workloads through the engine's API on fresh images, each ending with a
//! clean unmount, the host's `e2fsck -fn` and debugfs reading bytes back.

use std::collections::BTreeMap;

use super::*;
use crate::fs::ext4::inode::{S_IFBLK, S_IFCHR, S_IFIFO, S_IFREG, S_IFSOCK, make_dev};

const REG: u32 = S_IFREG | 0o644;

fn create(fs: &Ext4, dir: u32, name: &str, data: &[u8]) -> u32 {
    let a = fs.create(dir, name.as_bytes(), REG, 1000, 1000, 0).unwrap_or_else(|e| panic!("create {name}: {e:?}"));
    if !data.is_empty() {
        assert_eq!(fs.write(a.ino, 0, data).unwrap(), data.len());
    }
    a.ino
}

/// Files the workload leaves, path -> contents, checked afterwards.
type Expect = BTreeMap<String, Vec<u8>>;

fn workload(fs: &Ext4, rng: &mut Rng, expect: &mut Expect) {
    let root = fs.root();
    // A directory big enough to need an htree with several levels of leaves.
    let many = fs.mkdir(root, b"many", 0o755, 0, 0).unwrap().ino;
    for i in 0..1200 {
        let name = format!("file-number-{i:05}-with-padding-to-fill-leaves");
        let data = format!("contents of {i}\n").into_bytes();
        create(fs, many, &name, &data);
        expect.insert(format!("/many/{name}"), data);
    }
    // Every name is still found (through the index once it exists).
    for i in (0..1200).step_by(7) {
        let name = format!("file-number-{i:05}-with-padding-to-fill-leaves");
        fs.lookup(many, name.as_bytes()).unwrap();
    }
    assert_eq!(names(fs, many).len(), 1202);
    // Delete half of them.
    for i in (0..1200).step_by(2) {
        let name = format!("file-number-{i:05}-with-padding-to-fill-leaves");
        let ino = fs.lookup(many, name.as_bytes()).unwrap();
        fs.unlink(many, name.as_bytes()).unwrap();
        fs.evict(ino).unwrap();
        expect.remove(&format!("/many/{name}"));
    }
    assert_eq!(fs.lookup(many, b"file-number-00000-with-padding-to-fill-leaves"), Err(Errno::ENOENT));
    // Deep directories.
    let mut d = root;
    let mut path = String::new();
    for level in 0..24 {
        let name = format!("d{level}");
        d = fs.mkdir(d, name.as_bytes(), 0o700, 0, 0).unwrap().ino;
        path.push('/');
        path.push_str(&name);
    }
    create(fs, d, "bottom", b"at the bottom\n");
    expect.insert(format!("{path}/bottom"), b"at the bottom\n".to_vec());
    // A file written in uneven chunks, then overwritten in the middle.
    let mut big = rng.bytes(2_500_000);
    let f = create(fs, root, "chunks", &[]);
    let mut off = 0;
    while off < big.len() {
        let n = (rng.below(70_000) as usize + 1).min(big.len() - off);
        assert_eq!(fs.write(f, off as u64, &big[off..off + n]).unwrap(), n);
        off += n;
    }
    let patch = rng.bytes(10_000);
    fs.write(f, 777_777, &patch).unwrap();
    big[777_777..787_777].copy_from_slice(&patch);
    expect.insert("/chunks".into(), big.clone());
    // Sparse files, one past 4 GiB.
    let sp = create(fs, root, "sparse", &[]);
    fs.write(sp, 0, b"head").unwrap();
    fs.write(sp, 1 << 20, b"middle").unwrap();
    fs.write(sp, (5u64 << 30) + 3, b"far").unwrap();
    let a = fs.getattr(sp).unwrap();
    assert_eq!(a.size, (5u64 << 30) + 6);
    assert!(a.blocks < 64, "sparse file holds {} sectors", a.blocks);
    let mut buf = [0u8; 8];
    fs.read(sp, (5u64 << 30) + 1, &mut buf).unwrap();
    assert_eq!(&buf[..5], b"\0\0far");
    // Truncation: shrink into a block, then grow again (the tail reads zero).
    let t = create(fs, root, "trunc", &big[..300_000]);
    fs.truncate(t, 100_001).unwrap();
    fs.truncate(t, 150_000).unwrap();
    let mut tdata = big[..100_001].to_vec();
    tdata.resize(150_000, 0);
    assert_eq!(read_all(fs, t), tdata);
    expect.insert("/trunc".into(), tdata);
    let z = create(fs, root, "zeroed", &big[..50_000]);
    fs.truncate(z, 0).unwrap();
    expect.insert("/zeroed".into(), vec![]);
    // Links.
    let target = create(fs, root, "target", b"linked data\n");
    fs.link(target, many, b"hardlink").unwrap();
    assert_eq!(fs.getattr(target).unwrap().nlink, 2);
    expect.insert("/target".into(), b"linked data\n".to_vec());
    expect.insert("/many/hardlink".into(), b"linked data\n".to_vec());
    fs.symlink(root, b"fast", b"target", 0, 0).unwrap();
    let long: Vec<u8> = b"long/".repeat(40);
    let slow = fs.symlink(root, b"slow", &long, 0, 0).unwrap();
    assert_eq!(fs.readlink(slow.ino).unwrap(), long);
    // Special files.
    fs.create(root, b"fifo", S_IFIFO | 0o600, 0, 0, 0).unwrap();
    fs.create(root, b"sock", S_IFSOCK | 0o600, 0, 0, 0).unwrap();
    let c = fs.create(root, b"null", S_IFCHR | 0o666, 0, 0, make_dev(1, 3)).unwrap();
    assert_eq!(c.rdev, make_dev(1, 3));
    let b = fs.create(root, b"disk", S_IFBLK | 0o660, 0, 6, make_dev(259, 70000)).unwrap();
    assert_eq!(fs.getattr(b.ino).unwrap().rdev, make_dev(259, 70000));
    // Renames: within a directory, across, over a file, a directory over an empty one.
    fs.rename(root, b"chunks", many, b"chunks-moved", 0).unwrap();
    let data = expect.remove("/chunks").unwrap();
    expect.insert("/many/chunks-moved".into(), data);
    fs.rename(many, b"chunks-moved", root, b"trunc", 0).unwrap();
    let data = expect.remove("/many/chunks-moved").unwrap();
    expect.insert("/trunc".into(), data);
    fs.evict(t).unwrap();
    let d1 = fs.mkdir(root, b"mvdir", 0o755, 0, 0).unwrap().ino;
    create(fs, d1, "inside", b"inside\n");
    fs.mkdir(many, b"empty", 0o755, 0, 0).unwrap();
    fs.rename(root, b"mvdir", many, b"empty", 0).unwrap();
    expect.insert("/many/empty/inside".into(), b"inside\n".to_vec());
    assert_eq!(walk(fs, "/many/empty/..").unwrap(), many);
    // Extended attributes: small (in the inode), large (in a block), an ACL.
    fs.setxattr(target, b"user.small", b"v", 0).unwrap();
    fs.setxattr(target, b"user.large", &vec![7u8; 1500.min(fs.geometry.block_size as usize - 200)], 0).unwrap();
    let mut acl = 2u32.to_le_bytes().to_vec();
    for (tag, perm, id) in [(1u16, 6u16, u32::MAX), (2, 4, 1000), (4, 4, u32::MAX), (0x10, 4, u32::MAX), (0x20, 4, u32::MAX)] {
        acl.extend_from_slice(&tag.to_le_bytes());
        acl.extend_from_slice(&perm.to_le_bytes());
        acl.extend_from_slice(&id.to_le_bytes());
    }
    fs.setxattr(target, b"system.posix_acl_access", &acl, 0).unwrap();
    assert_eq!(fs.getxattr(target, b"system.posix_acl_access").unwrap(), acl);
    assert_eq!(fs.getxattr(target, b"user.small").unwrap(), b"v");
    assert_eq!(fs.getxattr(target, b"user.none"), Err(Errno::ENODATA));
    assert_eq!(fs.setxattr(target, b"user.small", b"w", XATTR_CREATE), Err(Errno::EEXIST));
    let mut listed = fs.listxattr(target).unwrap();
    listed.sort();
    assert_eq!(listed, vec![b"system.posix_acl_access".to_vec(), b"user.large".to_vec(), b"user.small".to_vec()]);
    // rmdir of a non-empty directory fails; of an empty one works.
    assert_eq!(fs.rmdir(root, b"many"), Err(Errno::ENOTEMPTY));
    fs.mkdir(root, b"gone", 0o755, 0, 0).unwrap();
    let gone = walk(fs, "/gone").unwrap();
    fs.rmdir(root, b"gone").unwrap();
    fs.evict(gone).unwrap();
}

fn verify(fs: &Ext4, expect: &Expect) {
    for (path, data) in expect {
        let ino = walk(fs, path).unwrap_or_else(|e| panic!("{path}: {e:?}"));
        assert_eq!(&read_all(fs, ino), data, "{path}");
    }
}

fn run_profile(args: &[&str]) {
    let image = mkfs(args, "64M", None);
    let d = disk(image);
    let mut expect = Expect::new();
    {
        let fs = mount(&d);
        let mut rng = Rng(7);
        workload(&fs, &mut rng, &mut expect);
        verify(&fs, &expect);
        fs.unmount().unwrap();
    }
    let image = d.snapshot();
    assert_clean(&image, &format!("workload on {args:?}"));
    assert_eq!(debugfs_cat(&image, "/target"), b"linked data\n");
    assert_eq!(debugfs_cat(&image, "/many/empty/inside"), b"inside\n");
    assert_eq!(debugfs_cat(&image, "/trunc"), expect["/trunc"]);
    let fs = mount(&d);
    verify(&fs, &expect);
    fs.unmount().unwrap();
}

#[test]
fn workload_on_ext4_with_4k_blocks_passes_e2fsck() {
    run_profile(&["-b", "4096"]);
}

#[test]
fn workload_on_small_ext4_with_1k_blocks_passes_e2fsck() {
    run_profile(&[]);
}

#[test]
fn workload_on_ext4_without_metadata_csum_passes_e2fsck() {
    run_profile(&["-O", "^metadata_csum"]);
}

#[test]
fn workload_on_ext3_passes_e2fsck() {
    run_profile(&["-t", "ext3"]);
}

#[test]
fn workload_on_ext2_passes_e2fsck() {
    run_profile(&["-t", "ext2"]);
}
