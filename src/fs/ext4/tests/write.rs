//! Workloads through the engine's API on fresh images, each ending with a
//! clean unmount, the host's `e2fsck -fn` and debugfs reading bytes back.

use std::collections::BTreeMap;
use std::process::Command;

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
    assert!(a.blocks <= 16 * fs.geometry.block_size as u64 / 512, "sparse file holds {} sectors", a.blocks);
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
    run_profile_with(args, 8192);
}

fn run_profile_with(args: &[&str], cache_blocks: usize) {
    let size = if args.contains(&"65536") { "256M" } else { "64M" };
    let image = mkfs(args, size, None);
    let d = disk(image);
    let mut expect = Expect::new();
    {
        let dev: Arc<dyn BlockDevice> = d.clone();
        let fs = Ext4::mount_with(dev, MountOptions { cache_blocks, ..Default::default() }).unwrap();
        let mut rng = Rng(7);
        workload(&fs, &mut rng, &mut expect);
        verify(&fs, &expect);
        fs.unmount().unwrap();
    }
    let image = d.snapshot();
    assert_clean(&image, &format!("workload on {args:?}"));
    // An independent reader (it verifies checksums too) sees the same files,
    // where it supports the feature set (it has no meta_bg and wants inodes
    // larger than 128 bytes).
    let small_inodes = args.windows(2).any(|w| w == ["-I", "128"]);
    match ext4_view::Ext4::load(Box::new(image.clone())) {
        _ if small_inodes => {}
        Err(ext4_view::Ext4Error::Incompatible(_)) => {}
        Err(e) => panic!("ext4-view cannot load our image: {e}"),
        Ok(oracle) => {
            for (path, data) in &expect {
                assert_eq!(&oracle.read(path.as_str()).unwrap_or_else(|e| panic!("ext4-view {path}: {e}")), data, "ext4-view {path}");
            }
            assert_eq!(oracle.read_link("/slow").unwrap().as_ref(), &b"long/".repeat(40)[..]);
            // The surviving files, "hardlink", "empty", "." and "..".
            assert_eq!(oracle.read_dir("/many").unwrap().count(), 1200 / 2 + 4);
        }
    }
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

#[test]
fn name_hashes_match_debugfs() {
    use crate::fs::ext4::htree::name_hash;
    let image = mkfs(&[], "8M", None);
    let s = Scratch::new("hash");
    let img = s.0.join("img");
    std::fs::write(&img, &image).unwrap();
    let names: Vec<Vec<u8>> = vec![
        b"a".to_vec(),
        b"hello".to_vec(),
        b"file-number-00042-with-padding-to-fill-leaves".to_vec(),
        "h\u{e9}llo-\u{fc}ml\u{e4}uts".as_bytes().to_vec(),
        b"x".repeat(100),
    ];
    let algs = ["legacy", "half_md4", "tea", "legacy_unsigned", "half_md4_unsigned", "tea_unsigned"];
    let seed_text = "01234567-89ab-cdef-0123-456789abcdef";
    let seed = [0x6745_2301u32, 0xefcd_ab89, 0x6745_2301, 0xefcd_ab89];
    let mut cmds = String::new();
    // debugfs knows only the signed names; numbers reach every version.
    for v in 0..algs.len() {
        for n in &names {
            let n = String::from_utf8(n.clone()).unwrap();
            cmds.push_str(&format!("dx_hash -h {v} {n}\ndx_hash -h {v} -s {seed_text} {n}\n"));
        }
    }
    let script = s.0.join("cmds");
    std::fs::write(&script, cmds).unwrap();
    let out = Command::new(tool("debugfs")).arg("-f").arg(&script).arg(&img).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let got: Vec<(u32, u32)> = text
        .lines()
        .filter(|l| l.starts_with("Hash of"))
        .map(|l| {
            let hex = |s: &str| u32::from_str_radix(s.trim_start_matches("0x").trim_end_matches(')'), 16).unwrap();
            let w: Vec<&str> = l.split_whitespace().collect();
            (hex(w[w.len() - 3]), hex(w[w.len() - 1]))
        })
        .collect();
    assert_eq!(got.len(), algs.len() * names.len() * 2, "{text}");
    let mut k = 0;
    for v in 0..6u8 {
        for n in &names {
            for sd in [[0u32; 4], seed] {
                let (h, m) = name_hash(n, v, &sd).unwrap();
                assert_eq!((h, m), got[k], "{} of {:?} seed {:?}", algs[v as usize], String::from_utf8_lossy(n), sd);
                k += 1;
            }
        }
    }
}

#[test]
fn htree_grows_to_two_levels_on_1k_blocks() {
    let d = disk(mkfs(&[], "32M", None));
    let fs = mount(&d);
    let root = fs.root();
    let dir = fs.mkdir(root, b"huge", 0o755, 0, 0).unwrap().ino;
    let name = |i: u32| format!("{i:06}-{}", "n".repeat(190));
    for i in 0..2600 {
        fs.create(dir, name(i).as_bytes(), REG, 0, 0, 0).unwrap();
    }
    for i in (0..2600).step_by(3) {
        fs.lookup(dir, name(i).as_bytes()).unwrap();
    }
    let mut rng = Rng(99);
    for _ in 0..800 {
        let i = rng.below(2600) as u32;
        if let Ok(ino) = fs.lookup(dir, name(i).as_bytes()) {
            fs.unlink(dir, name(i).as_bytes()).unwrap();
            fs.evict(ino).unwrap();
        }
    }
    let listed = names(&fs, dir).len();
    // Moving the indexed directory rewrites ".." inside its htree root.
    let other = fs.mkdir(root, b"other", 0o755, 0, 0).unwrap().ino;
    fs.rename(root, b"huge", other, b"huge", 0).unwrap();
    assert_eq!(walk(&fs, "/other/huge/..").unwrap(), other);
    fs.rename(other, b"huge", root, b"huge", 0).unwrap();
    fs.unmount().unwrap();
    let image = d.snapshot();
    assert_clean(&image, "2600 long names");
    let s = Scratch::new("htree");
    std::fs::write(s.0.join("img"), &image).unwrap();
    let out = Command::new(tool("debugfs")).arg("-R").arg("htree /huge").arg(s.0.join("img")).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Indirect levels: 1"), "{}", &text[..text.len().min(600)]);
    let fs = mount(&d);
    assert_eq!(names(&fs, dir).len(), listed);
}

#[test]
fn rename_flags_and_errors_follow_linux() {
    let d = disk(mkfs(&["-b", "4096"], "16M", None));
    let fs = mount(&d);
    let root = fs.root();
    let a = create(&fs, root, "a", b"A");
    let b = create(&fs, root, "b", b"B");
    let dir = fs.mkdir(root, b"dir", 0o755, 0, 0).unwrap().ino;
    let sub = fs.mkdir(dir, b"sub", 0o755, 0, 0).unwrap().ino;
    assert_eq!(fs.rename(root, b"a", root, b"b", RENAME_NOREPLACE), Err(Errno::EEXIST));
    assert_eq!(fs.rename(root, b"a", root, b"zz", RENAME_EXCHANGE), Err(Errno::ENOENT));
    assert_eq!(fs.rename(root, b"a", root, b"b", 3), Err(Errno::EINVAL));
    assert_eq!(fs.rename(root, b"dir", sub, b"x", 0), Err(Errno::EINVAL));
    assert_eq!(fs.rename(root, b"a", root, b"dir", 0), Err(Errno::EISDIR));
    assert_eq!(fs.rename(root, b"dir", root, b"a", 0), Err(Errno::ENOTDIR));
    assert_eq!(fs.rename(root, b"nope", root, b"x", 0), Err(Errno::ENOENT));
    fs.rename(root, b"a", root, b"b", RENAME_EXCHANGE).unwrap();
    assert_eq!(fs.lookup(root, b"a").unwrap(), b);
    assert_eq!(fs.lookup(root, b"b").unwrap(), a);
    // Exchange a directory with a file in another directory.
    fs.rename(root, b"a", dir, b"sub", RENAME_EXCHANGE).unwrap();
    assert_eq!(fs.lookup(root, b"a").unwrap(), sub);
    assert_eq!(walk(&fs, "/a/..").unwrap(), root);
    assert_eq!(fs.getattr(dir).unwrap().nlink, 2);
    assert_eq!(fs.getattr(root).unwrap().nlink, 5);
    assert_eq!(fs.create(root, b"a", REG, 0, 0, 0), Err(Errno::EEXIST));
    assert_eq!(fs.create(root, &[b'n'; 256], REG, 0, 0, 0), Err(Errno::ENAMETOOLONG));
    assert_eq!(fs.unlink(root, b"a"), Err(Errno::EISDIR));
    assert_eq!(fs.rmdir(root, b"b"), Err(Errno::ENOTDIR));
    assert_eq!(fs.link(dir, root, b"dirlink"), Err(Errno::EPERM));
    fs.unmount().unwrap();
    assert_clean(&d.snapshot(), "renames");
}

#[test]
fn a_full_disk_gives_enospc_and_recovers_after_deletes() {
    let d = disk(mkfs(&["-b", "4096"], "16M", None));
    let fs = mount(&d);
    let root = fs.root();
    let chunk = vec![0x5au8; 1 << 20];
    let mut files = Vec::new();
    let mut full = false;
    for i in 0..64 {
        let ino = fs.create(root, format!("f{i}").as_bytes(), REG, 0, 0, 0).unwrap().ino;
        files.push(ino);
        let n = fs.write(ino, 0, &chunk).unwrap_or(0);
        if n < chunk.len() {
            assert_eq!(fs.write(ino, n as u64, &chunk[n..]), Err(Errno::ENOSPC));
            full = true;
            break;
        }
    }
    assert!(full, "a 16 MiB filesystem held 64 MiB");
    let st = fs.statfs().unwrap();
    assert_eq!(st.blocks_available, 0);
    // The last reserve is for extent and map blocks writeback needs: as on
    // Linux (ext4_has_free_clusters), a new directory block may not take it.
    assert_eq!(fs.mkdir(root, b"not-now", 0o755, 0, 0).err(), Some(Errno::ENOSPC));
    for (i, ino) in files.iter().enumerate().take(4) {
        fs.unlink(root, format!("f{i}").as_bytes()).unwrap();
        fs.evict(*ino).unwrap();
    }
    let again = fs.create(root, b"again", REG, 0, 0, 0).unwrap().ino;
    assert_eq!(fs.write(again, 0, &chunk).unwrap(), chunk.len());
    fs.unmount().unwrap();
    assert_clean(&d.snapshot(), "filling the disk");
}

#[test]
fn concurrent_operations_from_many_threads_stay_consistent() {
    let d = disk(mkfs(&["-b", "4096"], "64M", None));
    let fs = mount(&d);
    let root = fs.root();
    std::thread::scope(|s| {
        for t in 0..6u32 {
            let fs = &fs;
            s.spawn(move || {
                let dir = fs.mkdir(root, format!("t{t}").as_bytes(), 0o755, 0, 0).unwrap().ino;
                let mut rng = Rng(t as u64 + 1);
                for i in 0..150 {
                    let name = format!("f{i}");
                    let n = rng.below(20_000) as usize;
                    let data = rng.bytes(n);
                    let ino = create(fs, dir, &name, &data);
                    if i % 3 == 0 {
                        fs.rename(dir, name.as_bytes(), root, format!("moved-{t}-{i}").as_bytes(), 0).unwrap();
                    } else if i % 3 == 1 {
                        fs.unlink(dir, name.as_bytes()).unwrap();
                        fs.evict(ino).unwrap();
                    } else {
                        assert_eq!(read_all(fs, ino), data);
                    }
                    if i % 40 == 0 {
                        fs.fsync(ino, false).unwrap();
                    }
                }
            });
        }
    });
    assert_eq!(names(&fs, root).len(), 2 + 1 + 6 + 6 * 50);
    fs.unmount().unwrap();
    assert_clean(&d.snapshot(), "six threads at once");
}

#[test]
fn bulk_work_is_fast_enough() {
    let d = disk(mkfs(&["-b", "4096"], "256M", None));
    let fs = mount(&d);
    let root = fs.root();
    let t = std::time::Instant::now();
    let f = create(&fs, root, "big", &[]);
    let chunk = vec![0xabu8; 1 << 20];
    for i in 0..100u64 {
        fs.write(f, i << 20, &chunk).unwrap();
    }
    let write = t.elapsed();
    let t = std::time::Instant::now();
    let dir = fs.mkdir(root, b"files", 0o755, 0, 0).unwrap().ino;
    for i in 0..5000 {
        create(&fs, dir, &format!("file-{i}"), b"x");
    }
    let creates = t.elapsed();
    let t = std::time::Instant::now();
    let mut buf = vec![0u8; 1 << 20];
    for i in 0..100u64 {
        fs.read(f, i << 20, &mut buf).unwrap();
    }
    let read = t.elapsed();
    eprintln!("100 MiB write {write:?}, 5000 creates {creates:?}, 100 MiB read {read:?}");
    assert!(write.as_secs() < 5 && creates.as_secs() < 5 && read.as_secs() < 5);
    assert!(fs.extents(f).unwrap().len() <= 8, "a sequential file is {} extents", fs.extents(f).unwrap().len());
    fs.unmount().unwrap();
    assert_clean(&d.snapshot(), "bulk work");
}

#[test]
fn readdir_in_chunks_sees_every_old_entry_once_while_the_htree_splits() {
    for args in [&["-b", "4096"][..], &[][..]] {
        let d = disk(mkfs(args, "32M", None));
        let fs = mount(&d);
        let root = fs.root();
        let dir = fs.mkdir(root, b"d", 0o755, 0, 0).unwrap().ino;
        let old: Vec<String> = (0..600).map(|i| format!("old-{i:04}-{}", "o".repeat(40))).collect();
        for n in &old {
            fs.create(dir, n.as_bytes(), REG, 0, 0, 0).unwrap();
        }
        let mut seen: BTreeMap<Vec<u8>, u32> = BTreeMap::new();
        let mut cookie = 0;
        let mut added = 0;
        loop {
            let mut got = 0;
            let mut last = None;
            fs.readdir(dir, cookie, &mut |e| {
                *seen.entry(e.name.to_vec()).or_default() += 1;
                last = Some(e.next_cookie);
                got += 1;
                got < 25
            })
            .unwrap();
            let Some(c) = last else { break };
            cookie = c;
            // Insertions between calls split leaves under the reader.
            for _ in 0..20 {
                fs.create(dir, format!("new-{added:05}-{}", "n".repeat(40)).as_bytes(), REG, 0, 0, 0).unwrap();
                added += 1;
            }
        }
        for n in &old {
            assert_eq!(seen.get(n.as_bytes()), Some(&1), "{n} in {args:?}");
        }
        assert!(seen.values().all(|&c| c == 1), "an entry was returned twice");
        assert_eq!(seen.get(&b"."[..]), Some(&1));
        fs.unmount().unwrap();
        assert_clean(&d.snapshot(), "readdir during inserts");
    }
}

#[test]
fn workload_on_other_mkfs_feature_sets_passes_e2fsck() {
    for args in [
        &["-O", "meta_bg,^resize_inode"][..],
        &["-O", "orphan_file"][..],
        &["-O", "metadata_csum_seed"][..],
        &["-O", "large_dir"][..],
        &["-O", "^has_journal"][..],
        &["-I", "128"][..],
        &["-b", "2048"][..],
        &["-b", "65536"][..],
        &["-O", "^flex_bg,^64bit"][..],
        &["-T", "small", "-O", "uninit_bg,^metadata_csum"][..],
    ] {
        run_profile(args);
    }
}

#[test]
fn map_blocks_reports_holes_and_allocates_for_the_page_cache() {
    let d = disk(mkfs(&["-b", "4096"], "16M", None));
    let fs = mount(&d);
    let f = create(&fs, fs.root(), "m", &[]);
    fs.write(f, 0, &[1u8; 8192]).unwrap();
    fs.write(f, 10 * 4096, &[2u8; 4096]).unwrap();
    let m = fs.map_blocks(f, 0, 16, false).unwrap();
    let shape: Vec<(u64, u64, bool)> = m.iter().map(|m| (m.lblk, m.len, m.pblk != 0)).collect();
    assert_eq!(shape, vec![(0, 2, true), (2, 8, false), (10, 1, true), (11, 5, false)]);
    let mut b = vec![0u8; 4096];
    fs.read_disk_blocks(m[2].pblk, &mut b).unwrap();
    assert_eq!(b, vec![2u8; 4096]);
    // fallocate gives unwritten runs that read as zeros; writes convert them.
    fs.fallocate(f, 12 * 4096, 3 * 4096, false).unwrap();
    let m = fs.map_blocks(f, 12, 3, false).unwrap();
    assert!(m.iter().all(|m| m.pblk != 0 && m.unwritten));
    let mut z = vec![9u8; 3 * 4096];
    fs.read(f, 12 * 4096, &mut z).unwrap();
    assert!(z.iter().all(|&x| x == 0));
    fs.write(f, 13 * 4096 + 100, b"inside").unwrap();
    fs.read(f, 13 * 4096, &mut z[..4096]).unwrap();
    assert_eq!(&z[100..106], b"inside");
    assert!(z[..100].iter().all(|&x| x == 0));
    fs.punch_hole(f, 4096, 4096).unwrap();
    assert_eq!(fs.map_blocks(f, 1, 1, false).unwrap()[0].pblk, 0);
    // Allocating for writeback maps the holes.
    let m = fs.map_blocks(f, 2, 4, true).unwrap();
    assert!(m.iter().all(|m| m.pblk != 0 && !m.unwritten));
    for m in &m {
        let dev_data = vec![3u8; (m.len * 4096) as usize];
        fs.write(f, m.lblk * 4096, &dev_data).unwrap();
    }
    fs.unmount().unwrap();
    assert_clean(&d.snapshot(), "map_blocks, fallocate, punch");
}

#[test]
fn bad_checksums_and_corrupt_structures_give_euclean() {
    let image = mkfs(&["-b", "4096"], "16M", None);
    let d = disk(image.clone());
    let fs = mount(&d);
    let dir = fs.mkdir(fs.root(), b"dir", 0o755, 0, 0).unwrap().ino;
    let f = create(&fs, dir, "file", b"data");
    fs.unmount().unwrap();
    let clean = d.snapshot();
    let geo = fs.geometry;
    drop(fs);
    // A flipped superblock byte: the checksum catches it at mount.
    let mut img = clean.clone();
    img[1024 + 0x30] ^= 0xff;
    let dev: Arc<dyn BlockDevice> = disk(img);
    assert_eq!(Ext4::mount(dev, false).err(), Some(EUCLEAN));
    // A bad magic is not an ext4 filesystem at all.
    let mut img = clean.clone();
    img[1024 + 0x38] = 0;
    let dev: Arc<dyn BlockDevice> = disk(img);
    assert_eq!(Ext4::mount(dev, false).err(), Some(Errno::EINVAL));
    // Find the file's inode record by its generation-independent content:
    // scan inode-sized records for the mode and size we wrote.
    let isz = geo.inode_size as usize;
    let mut found = None;
    for off in (0..clean.len()).step_by(isz) {
        let r = &clean[off..off + isz];
        if u16::from_le_bytes([r[0], r[1]]) == 0o100644 && u32::from_le_bytes([r[4], r[5], r[6], r[7]]) == 4 && r[0x1a] == 1 {
            found = Some(off);
        }
    }
    let at = found.expect("the file's inode record");
    let mut img = clean.clone();
    img[at + 0x10] ^= 1;
    let d_err = disk(img);
    let dev: Arc<dyn BlockDevice> = d_err.clone();
    let fs = Ext4::mount(dev, false).unwrap();
    assert_eq!(fs.getattr(f).err(), Some(EUCLEAN));
    assert_eq!(fs.lookup(dir, b"file").err(), Some(EUCLEAN));
    // After a corruption the filesystem stops writing.
    assert_eq!(fs.write(f, 0, b"x").err(), Some(EUCLEAN));
    assert_eq!(fs.create(dir, b"new", REG, 0, 0, 0).err(), Some(Errno::EROFS));
    drop(fs);
    let on_disk = d_err.snapshot();
    assert_eq!(u16::from_le_bytes([on_disk[1024 + 0x3A], on_disk[1024 + 0x3B]]) & 2, 2, "ERROR_FS recorded");
    // A directory block with a bad tail checksum.
    let m = {
        let dev: Arc<dyn BlockDevice> = disk(clean.clone());
        let fs = Ext4::mount(dev, true).unwrap();
        fs.map_blocks(dir, 0, 1, false).unwrap()[0]
    };
    let mut img = clean.clone();
    img[(m.pblk * 4096) as usize + 30] ^= 0x40;
    let dev: Arc<dyn BlockDevice> = disk(img);
    let fs = Ext4::mount(dev, false).unwrap();
    assert_eq!(fs.lookup(dir, b"file").err(), Some(EUCLEAN));
    let mut n = 0;
    assert_eq!(
        fs.readdir(dir, 0, &mut |_| {
            n += 1;
            true
        })
        .err(),
        Some(EUCLEAN)
    );
}

#[test]
fn running_out_of_inodes_gives_enospc() {
    let d = disk(mkfs(&["-N", "64"], "8M", None));
    let fs = mount(&d);
    let root = fs.root();
    let free = fs.statfs().unwrap().files_free;
    let mut made = 0;
    let err = loop {
        match fs.create(root, format!("i{made}").as_bytes(), REG, 0, 0, 0) {
            Ok(_) => made += 1,
            Err(e) => break e,
        }
    };
    assert_eq!(err, Errno::ENOSPC);
    assert_eq!(made, free);
    assert_eq!(fs.mkdir(root, b"d", 0o755, 0, 0).err(), Some(Errno::ENOSPC));
    assert_eq!(fs.statfs().unwrap().files_free, 0);
    let ino = fs.lookup(root, b"i0").unwrap();
    fs.unlink(root, b"i0").unwrap();
    fs.evict(ino).unwrap();
    fs.mkdir(root, b"d", 0o755, 0, 0).unwrap();
    fs.unmount().unwrap();
    assert_clean(&d.snapshot(), "inode exhaustion");
}

#[test]
fn a_host_image_file_through_raw_image_stays_clean() {
    use crate::block::raw::RawImage;
    let s = Scratch::new("raw");
    let path = s.0.join("disk.img");
    std::fs::write(&path, mkfs(&[], "32M", None)).unwrap();
    let mut expect = Expect::new();
    {
        let dev: Arc<dyn BlockDevice> = RawImage::open(&path, false).unwrap();
        let fs = Ext4::mount(dev, false).unwrap();
        let mut rng = Rng(21);
        workload(&fs, &mut rng, &mut expect);
        let f = walk(&fs, "/target").unwrap();
        let pages = [vec![1u8; 4096], vec![2u8; 4096], vec![3u8; 100]];
        let bufs: Vec<&[u8]> = pages.iter().map(|p| &p[..]).collect();
        assert_eq!(fs.write_vectored(f, 0, &bufs).unwrap(), 8292);
        expect.insert("/target".into(), pages.concat());
        expect.insert("/many/hardlink".into(), pages.concat());
        let a = fs.set_inode_flags(f, 0x10 | 0x80000).unwrap();
        assert_eq!(a.flags & 0x10, 0x10);
        fs.set_inode_flags(f, 0x80000).unwrap();
        fs.unmount().unwrap();
    }
    let image = std::fs::read(&path).unwrap();
    assert_clean(&image, "a workload on a host image file");
    let dev: Arc<dyn BlockDevice> = RawImage::open(&path, true).unwrap();
    let fs = Ext4::mount(dev, true).unwrap();
    verify(&fs, &expect);
}

#[test]
fn a_disk_full_of_data_and_metadata_stays_consistent() {
    for args in [&["-t", "ext3"][..], &[][..], &["-b", "4096"][..]] {
        let d = disk(mkfs(args, "8M", None));
        let fs = mount(&d);
        let root = fs.root();
        let bs = fs.geometry.block_size as u64;
        let links = fs.mkdir(root, b"links", 0o755, 0, 0).unwrap().ino;
        // Fragmented files: every other block, so new blocks need new extents.
        let mut sparse = Vec::new();
        for i in 0..6 {
            let f = create(&fs, root, &format!("s{i}"), &[]);
            for k in 0..200u64 {
                if fs.write(f, k * 2 * bs, &[7u8; 10]).is_err() {
                    break;
                }
            }
            sparse.push(f);
        }
        let pre = create(&fs, root, "prealloc", &[]);
        let _ = fs.fallocate(pre, 0, 64 * bs, false);
        // Fill the data space.
        let fill = create(&fs, root, "fill", &[]);
        let chunk = vec![1u8; 256 * 1024];
        let mut off = 0u64;
        while let Ok(n) = fs.write(fill, off, &chunk) {
            off += n as u64;
            if n < chunk.len() {
                break;
            }
        }
        // Then long-named hard links grow a directory block by block (no
        // inodes needed) until only the metadata reserve is left.
        let mut n = 0;
        loop {
            match fs.link(fill, links, format!("{n:08}{}", "l".repeat(240)).as_bytes()) {
                Ok(()) => n += 1,
                Err(e) => {
                    assert!(e == Errno::ENOSPC || e == Errno::EMLINK, "{e:?}");
                    break;
                }
            }
        }
        assert_eq!(fs.statfs().unwrap().blocks_available, 0, "{args:?}: nothing left but the reserve");
        // Writes that need new tree or indirect blocks (the reserve's
        // purpose), and conversions of unwritten extents, until nothing is left.
        for (i, &f) in sparse.iter().enumerate() {
            for k in 0..50u64 {
                let r = fs.write(f, (k * 2 + 1) * bs + i as u64, b"x");
                assert!(matches!(r, Ok(_) | Err(Errno::ENOSPC)), "{r:?}");
            }
        }
        for k in 0..64u64 {
            let r = fs.write(pre, k * bs + 5, b"in the middle");
            assert!(matches!(r, Ok(_) | Err(Errno::ENOSPC)), "{r:?}");
        }
        fs.unmount().unwrap();
        assert_clean(&d.snapshot(), &format!("a full disk on {args:?}"));
    }
}

#[test]
fn nanosecond_and_post_2038_timestamps_survive_remount() {
    let d = disk(mkfs(&[], "8M", None));
    let fs = mount(&d);
    let f = create(&fs, fs.root(), "t", b"x");
    let mtime = Timespec { tv_sec: 1_700_000_000, tv_nsec: 123_456_789 };
    let atime = Timespec { tv_sec: 5_000_000_000, tv_nsec: 999_999_999 };
    fs.setattr(f, &SetAttr { mtime: Some(mtime), atime: Some(atime), ..Default::default() }).unwrap();
    fs.unmount().unwrap();
    let image = d.snapshot();
    let fs = mount(&d);
    let a = fs.getattr(f).unwrap();
    assert_eq!((a.mtime, a.atime), (mtime, atime));
    assert!(a.crtime.tv_sec > 0);
    // debugfs shows each time as seconds:extra (nanoseconds << 2 | epoch bits).
    let s = Scratch::new("stat");
    std::fs::write(s.0.join("img"), &image).unwrap();
    let out = Command::new(tool("debugfs")).arg("-R").arg("stat /t").arg(s.0.join("img")).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let shown = |t: Timespec| format!("{:#010x}:{:08x}", t.tv_sec as u32, ((t.tv_nsec as u32) << 2) | ((t.tv_sec >> 32) as u32 & 3));
    assert!(text.contains(&format!("mtime: {}", shown(mtime))), "{text}");
    assert!(text.contains(&format!("atime: {}", shown(atime))), "{text}");
}

#[test]
fn workload_with_a_tiny_cache_passes_e2fsck() {
    // 64 blocks: most metadata is evicted and read back, committed blocks
    // go home early.
    run_profile_with(&[], 64);
    run_profile_with(&["-t", "ext3"], 64);
}

#[test]
fn unsupported_write_features_mount_read_only_only() {
    let image = mkfs(&["-O", "fast_commit"], "16M", None);
    let dev: Arc<dyn BlockDevice> = disk(image.clone());
    assert_eq!(Ext4::mount(dev, false).err(), Some(Errno::EROFS));
    let dev: Arc<dyn BlockDevice> = disk(image);
    let fs = Ext4::mount(dev, true).unwrap();
    assert!(names(&fs, fs.root()).len() >= 3);
    assert_eq!(fs.create(fs.root(), b"x", REG, 0, 0, 0).err(), Some(Errno::EROFS));
    // inline_data is read-only too.
    let image = mkfs(&["-O", "inline_data"], "16M", None);
    let dev: Arc<dyn BlockDevice> = disk(image.clone());
    assert_eq!(Ext4::mount(dev, false).err(), Some(Errno::EROFS));
    let dev: Arc<dyn BlockDevice> = disk(image);
    Ext4::mount(dev, true).unwrap();
    // Features we cannot even read are a clear mount error.
    let image = mkfs(&["-O", "encrypt"], "16M", None);
    let dev: Arc<dyn BlockDevice> = disk(image);
    assert_eq!(Ext4::mount(dev, true).err(), Some(Errno::EINVAL));
}

#[test]
fn a_readdir_sink_may_call_back_into_the_filesystem() {
    let d = disk(mkfs(&[], "8M", None));
    let fs = mount(&d);
    let root = fs.root();
    for i in 0..300 {
        create(&fs, root, &format!("f{i}"), b"");
    }
    let mut n = 0;
    fs.readdir(root, 0, &mut |e| {
        fs.getattr(e.ino).unwrap();
        n += 1;
        true
    })
    .unwrap();
    assert_eq!(n, 303);
}
