//! Corrupted images: random bytes flipped in metadata blocks (superblock,
//! descriptors, bitmaps, inode tables, extent and directory blocks, xattr
//! blocks, the journal). Mounting, walking and changing them must end in
//! errors, never a panic, a hang or a runaway allocation.

use std::sync::mpsc;
use std::time::Duration;

use super::*;
use crate::fs::ext4::inode::S_IFREG;

/// An image with every kind of metadata: htree and linear directories, a
/// fragmented file with a deep extent tree, xattrs in inode and block,
/// symlinks, an orphan and a journal with transactions.
fn rich_image(args: &[&str]) -> Vec<u8> {
    let d = disk(mkfs(args, "8M", None));
    let fs = mount(&d);
    let root = fs.root();
    let big = fs.mkdir(root, b"big", 0o755, 0, 0).unwrap().ino;
    for i in 0..300 {
        fs.create(big, format!("entry-{i:04}-{}", "p".repeat(30)).as_bytes(), S_IFREG | 0o644, 0, 0, 0).unwrap();
    }
    let frag = fs.create(root, b"frag", S_IFREG | 0o644, 0, 0, 0).unwrap().ino;
    let other = fs.create(root, b"other", S_IFREG | 0o644, 0, 0, 0).unwrap().ino;
    for i in 0..400u64 {
        fs.write(frag, i * 2 * fs.geometry.block_size as u64, b"fragment").unwrap();
        fs.write(other, i * 100, b"x").unwrap();
    }
    fs.setxattr(frag, b"user.a", b"1", 0).unwrap();
    fs.setxattr(frag, b"user.b", &[9u8; 700], 0).unwrap();
    fs.symlink(root, b"s", b"frag", 0, 0).unwrap();
    fs.symlink(root, b"l", &b"y".repeat(100), 0, 0).unwrap();
    let sub = fs.mkdir(root, b"sub", 0o755, 0, 0).unwrap().ino;
    fs.create(sub, b"f", S_IFREG | 0o644, 0, 0, 0).unwrap();
    fs.unmount().unwrap();
    d.snapshot()
}

/// Walks and changes whatever mounts; the answers do not matter.
fn exercise(image: Vec<u8>) -> bool {
    let d = disk(image);
    let dev: Arc<dyn BlockDevice> = d.clone();
    let fs = match Ext4::mount(dev, false) {
        Ok(fs) => fs,
        Err(Errno::EROFS) => {
            let dev: Arc<dyn BlockDevice> = d.clone();
            match Ext4::mount(dev, true) {
                Ok(fs) => fs,
                Err(_) => return false,
            }
        }
        Err(_) => return false,
    };
    let mut stack = vec![(fs.root(), 0)];
    let mut seen = 0;
    let mut buf = vec![0u8; 1 << 16];
    while let Some((dir, depth)) = stack.pop() {
        let mut kids = Vec::new();
        let _ = fs.readdir(dir, 0, &mut |e| {
            kids.push((e.name.to_vec(), e.ino));
            kids.len() < 2000
        });
        for (name, ino) in kids {
            seen += 1;
            if seen > 3000 || name == b"." || name == b".." {
                continue;
            }
            let _ = fs.lookup(dir, &name);
            let Ok(a) = fs.getattr(ino) else { continue };
            let _ = fs.listxattr(ino);
            let _ = fs.getxattr(ino, b"user.b");
            match a.mode & 0o170000 {
                0o040000 if depth < 8 => stack.push((ino, depth + 1)),
                0o120000 => {
                    let _ = fs.readlink(ino);
                }
                0o100000 => {
                    let _ = fs.read(ino, 0, &mut buf);
                    let _ = fs.read(ino, a.size.saturating_sub(100), &mut buf[..100]);
                    let _ = fs.write(ino, 4096, b"new data");
                    let _ = fs.truncate(ino, a.size / 2);
                }
                _ => {}
            }
        }
    }
    let root = fs.root();
    let _ = fs.create(root, b"fuzz-new", S_IFREG | 0o644, 0, 0, 0).map(|a| fs.write(a.ino, 0, &[1u8; 20000]));
    let _ = fs.mkdir(root, b"fuzz-dir", 0o755, 0, 0);
    if let Ok(big) = fs.lookup(root, b"big") {
        for i in 0..40 {
            let _ = fs.create(big, format!("added-{i}-{}", "q".repeat(40)).as_bytes(), S_IFREG | 0o644, 0, 0, 0);
        }
        let _ = fs.unlink(big, b"entry-0007-pppppppppppppppppppppppppppppp");
        let _ = fs.rename(root, b"sub", big, b"moved", 0);
    }
    let _ = fs.statfs();
    let _ = fs.fsync(root, false);
    let _ = fs.unmount();
    true
}

fn fuzz_profile(args: &'static [&'static str], iterations: u64, seed: u64) {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let base = if args.iter().any(|a| a.contains("inline_data")) {
            // Read-only feature: the host populates the image.
            let s = Scratch::new("fuzztree");
            for d in 0..6 {
                let dir = s.0.join(format!("dir{d}"));
                std::fs::create_dir(&dir).unwrap();
                for f in 0..4 {
                    std::fs::write(dir.join(format!("f{f}")), vec![b'a' + f as u8; 20 * f + 10]).unwrap();
                }
            }
            std::fs::write(s.0.join("spill"), vec![7u8; 5000]).unwrap();
            std::os::unix::fs::symlink("dir0/f1", s.0.join("link")).unwrap();
            mkfs(args, "4M", Some(&s.0))
        } else {
            rich_image(args)
        };
        let metadata = {
            // Learn where the metadata lives by walking the clean image.
            let d = disk(base.clone());
            let dev: Arc<dyn BlockDevice> = d.clone();
            let fs = Ext4::mount(dev, true).unwrap();
            let mut stack = vec![fs.root()];
            while let Some(dir) = stack.pop() {
                let mut kids = Vec::new();
                fs.readdir(dir, 0, &mut |e| {
                    kids.push((e.name.to_vec(), e.ino));
                    true
                })
                .unwrap();
                for (n, ino) in kids {
                    if n != b"." && n != b".." {
                        let a = fs.getattr(ino).unwrap();
                        let _ = fs.listxattr(ino);
                        let _ = fs.extents(ino);
                        if a.mode & 0o170000 == 0o040000 {
                            stack.push(ino);
                        }
                    }
                }
            }
            let mut m = fs.metadata_blocks();
            m.sort_unstable();
            m
        };
        let bs = {
            let d = disk(base.clone());
            let dev: Arc<dyn BlockDevice> = d;
            Ext4::mount(dev, true).unwrap().geometry.block_size as usize
        };
        let mut rng = Rng(seed);
        let mut mounted = 0;
        for _ in 0..iterations {
            let mut img = base.clone();
            for _ in 0..1 + rng.below(8) {
                let blk = metadata[rng.below(metadata.len() as u64) as usize] as usize;
                // Superblock bytes get extra attention.
                let at = if rng.below(8) == 0 { 1024 + rng.below(1024) as usize } else { blk * bs + rng.below(bs as u64) as usize };
                if at < img.len() {
                    img[at] ^= 1 << rng.below(8);
                    if rng.below(3) == 0 {
                        img[at] = rng.next() as u8;
                    }
                }
            }
            mounted += exercise(img) as u64;
        }
        eprintln!("fuzz {args:?}: {mounted} of {iterations} corrupted images mounted");
        // Most flips must get past mount, or the walk tests nothing.
        assert!(mounted * 3 > iterations, "only {mounted} of {iterations} mounted");
        let _ = tx.send(());
    });
    // A hang is a failure too.
    rx.recv_timeout(Duration::from_secs(120)).expect("fuzzing hung or panicked");
}

#[test]
fn corrupted_1k_images_never_panic_or_hang() {
    fuzz_profile(&[], 300, 11);
}

#[test]
fn corrupted_4k_images_never_panic_or_hang() {
    fuzz_profile(&["-b", "4096"], 300, 12);
}

#[test]
fn corrupted_ext3_images_never_panic_or_hang() {
    fuzz_profile(&["-t", "ext3"], 400, 13);
}

#[test]
fn corrupted_images_without_checksums_never_panic_or_hang() {
    fuzz_profile(&["-O", "^metadata_csum"], 600, 14);
}

#[test]
fn corrupted_inline_data_images_never_panic_or_hang() {
    fuzz_profile(&["-O", "inline_data,^metadata_csum"], 300, 15);
}
