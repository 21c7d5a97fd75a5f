//! The VFS glue over real images: files through the page cache, names,
//! link counts, unlinked-but-open files, truncation, holes, a full disk,
//! xattrs and shared mappings; each ends with a clean unmount judged by
//! the host's e2fsck and debugfs.

use std::sync::Arc;

use super::*;
use crate::abi::PAGE_SIZE;
use crate::abi::stat::{S_IFDIR, S_IFIFO, S_IFREG};
use crate::fs::ext4::vfs::{self, Ext4Fs};
use crate::fs::inode::{InodeRef, SetAttr as VfsSetAttr};

fn vmount(d: &Arc<MemDisk>) -> (Arc<Ext4Fs>, InodeRef) {
    let dev: Arc<dyn BlockDevice> = d.clone();
    vfs::mount(dev, crate::fs::make_dev(254, 0), false, "ext4").expect("mount")
}

fn file(dir: &InodeRef, name: &str) -> InodeRef {
    dir.create(name.as_bytes(), S_IFREG | 0o644, 0, 1000, 1000).unwrap_or_else(|e| panic!("create {name}: {e:?}"))
}

fn read_all(f: &InodeRef) -> Vec<u8> {
    let size = f.metadata().unwrap().size as usize;
    let mut buf = vec![0u8; size];
    let mut done = 0;
    while done < size {
        let n = f.read_at(done as u64, &mut buf[done..]).unwrap();
        assert!(n > 0, "short read at {done} of {size}");
        done += n;
    }
    buf
}

fn write_chunks(f: &InodeRef, off: u64, data: &[u8], chunk: usize) {
    for (i, c) in data.chunks(chunk).enumerate() {
        assert_eq!(f.write_at(off + (i * chunk) as u64, c).unwrap(), c.len());
    }
}

fn finish(fs: &Arc<Ext4Fs>, d: &Arc<MemDisk>, what: &str) -> Vec<u8> {
    fs.unmount().unwrap();
    let image = d.snapshot();
    assert_clean(&image, what);
    image
}

#[test]
fn file_data_goes_through_the_page_cache_to_the_disk() {
    for (args, size) in [(&["-b", "4096"][..], "64M"), (&["-b", "1024"][..], "32M"), (&["-t", "ext2", "-b", "1024"][..], "32M")] {
        let d = disk(mkfs(args, size, None));
        let (fs, root) = vmount(&d);
        let mut rng = Rng(7);
        let data = rng.bytes(3 * 1024 * 1024 + 123);
        let f = file(&root, "big");
        write_chunks(&f, 0, &data, 65536 + 17);
        assert_eq!(f.metadata().unwrap().size, data.len() as u64);
        assert_eq!(read_all(&f), data);
        // Overwrite in the middle after a writeback, partial pages both ends.
        f.sync().unwrap();
        let patch = rng.bytes(10_000);
        f.write_at(500_001, &patch).unwrap();
        let mut expect = data.clone();
        expect[500_001..510_001].copy_from_slice(&patch);
        assert_eq!(read_all(&f), expect);
        // A fresh look at the file (no live cache) reads the disk.
        let small = file(&root, "small");
        small.write_at(0, b"hello").unwrap();
        drop((f, small));
        let image = finish(&fs, &d, &format!("page cache writes {args:?}"));
        assert_eq!(debugfs_cat(&image, "/big"), expect, "{args:?}");
        assert_eq!(debugfs_cat(&image, "/small"), b"hello");
        let (fs, root) = vmount(&MemDisk::from_bytes(image, false));
        assert_eq!(read_all(&root.lookup(b"big").unwrap()), expect);
        fs.unmount().unwrap();
    }
}

#[test]
fn an_unlinked_open_file_lives_until_its_last_user_goes() {
    let d = disk(mkfs(&["-b", "4096"], "32M", None));
    let (fs, root) = vmount(&d);
    let free_before = root.statfs().unwrap().f_bfree;
    let f = file(&root, "tmp");
    f.write_at(0, &vec![9u8; 1 << 20]).unwrap();
    f.sync().unwrap();
    root.unlink(b"tmp").unwrap();
    assert_eq!(root.lookup(b"tmp").err(), Some(Errno::ENOENT));
    assert_eq!(f.metadata().unwrap().nlink, 0);
    assert_eq!(read_all(&f)[12345], 9);
    assert!(root.statfs().unwrap().f_bfree < free_before - 200, "blocks held while open");
    drop(f);
    fs.engine.sync_fs().unwrap();
    assert!(root.statfs().unwrap().f_bfree >= free_before - 2, "blocks freed by the last close");
    finish(&fs, &d, "unlink while open");
}

#[test]
fn names_link_counts_and_rename_flags() {
    let d = disk(mkfs(&["-b", "1024"], "16M", None));
    let (fs, root) = vmount(&d);
    let dir = root.create(b"d", S_IFDIR | 0o755, 0, 0, 0).unwrap();
    assert_eq!(root.metadata().unwrap().nlink, 4, "root: ., .., lost+found, d");
    let f = file(&dir, "f");
    f.write_at(0, b"one").unwrap();
    dir.link(b"g", &f).unwrap();
    assert_eq!(f.metadata().unwrap().nlink, 2);
    let fifo = dir.create(b"fifo", S_IFIFO | 0o600, 0, 0, 0).unwrap();
    assert_eq!(fifo.metadata().unwrap().mode, S_IFIFO | 0o600);
    let l = dir.symlink(b"fast", b"f", 0, 0).unwrap();
    assert_eq!(l.readlink().unwrap(), b"f");
    let long = vec![b'x'; 300];
    assert_eq!(dir.symlink(b"slow", &long, 0, 0).unwrap().readlink().unwrap(), long);
    // Replacing a file with fresh contents writes them first.
    let n = file(&dir, "new");
    n.write_at(0, b"replacement").unwrap();
    dir.rename(b"new", &dir, b"g", 0).unwrap();
    assert_eq!(f.metadata().unwrap().nlink, 1);
    assert_eq!(read_all(&dir.lookup(b"g").unwrap()), b"replacement");
    assert_eq!(dir.rename(b"f", &dir, b"g", crate::abi::fcntl::RENAME_NOREPLACE).err(), Some(Errno::EEXIST));
    dir.rename(b"f", &dir, b"g", crate::abi::fcntl::RENAME_EXCHANGE).unwrap();
    assert_eq!(read_all(&dir.lookup(b"g").unwrap()), b"one");
    let sub = dir.create(b"sub", S_IFDIR | 0o700, 0, 0, 0).unwrap();
    assert_eq!(dir.metadata().unwrap().nlink, 3);
    dir.rename(b"sub", &root, b"moved", 0).unwrap();
    assert_eq!((dir.metadata().unwrap().nlink, root.metadata().unwrap().nlink), (2, 5));
    assert_eq!(sub.metadata().unwrap().nlink, 2);
    root.rmdir(b"moved").unwrap();
    assert_eq!(sub.metadata().unwrap().nlink, 0);
    drop((f, n, l, fifo, sub));
    let image = finish(&fs, &d, "names");
    assert_eq!(debugfs_cat(&image, "/d/f"), b"replacement");
}

#[test]
fn truncation_holes_and_a_file_past_4_gib() {
    let d = disk(mkfs(&["-b", "4096"], "32M", None));
    let (fs, root) = vmount(&d);
    let f = file(&root, "sparse");
    f.write_at(0, &vec![1u8; 10_000]).unwrap();
    f.setattr(&VfsSetAttr { size: Some(5000), ..Default::default() }).unwrap();
    f.setattr(&VfsSetAttr { size: Some(9000), ..Default::default() }).unwrap();
    let back = read_all(&f);
    assert!(back[..5000].iter().all(|&b| b == 1) && back[5000..].iter().all(|&b| b == 0));
    let far = 5u64 << 30;
    f.write_at(far, b"far away").unwrap();
    assert_eq!(f.metadata().unwrap().size, far + 8);
    let mut b = [7u8; 16];
    assert_eq!(f.read_at(far - 8, &mut b).unwrap(), 16);
    assert_eq!(&b, b"\0\0\0\0\0\0\0\0far away");
    f.sync().unwrap();
    assert!(f.metadata().unwrap().blocks <= 64, "sparse: {} sectors", f.metadata().unwrap().blocks);
    // Punch a hole through the middle of the first page.
    f.fallocate(crate::abi::fcntl::FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 100, 200).unwrap();
    let mut b = [7u8; 400];
    f.read_at(0, &mut b).unwrap();
    assert!(b[..100].iter().all(|&x| x == 1) && b[100..300].iter().all(|&x| x == 0) && b[300..].iter().all(|&x| x == 1));
    drop(f);
    let image = finish(&fs, &d, "sparse");
    // (debugfs would print all 5 GiB: read the tail back through a new mount.)
    let (fs, root) = vmount(&MemDisk::from_bytes(image, false));
    let f = root.lookup(b"sparse").unwrap();
    assert_eq!(f.metadata().unwrap().size, far + 8);
    let mut b = [0u8; 8];
    f.read_at(far, &mut b).unwrap();
    assert_eq!(&b, b"far away");
    drop(f);
    fs.unmount().unwrap();
}

use crate::abi::fcntl::FALLOC_FL_KEEP_SIZE;

#[test]
fn a_full_disk_is_enospc_at_write_and_stays_consistent() {
    let d = disk(mkfs(&["-b", "1024"], "8M", None));
    let (fs, root) = vmount(&d);
    let f = file(&root, "fill");
    let chunk = vec![3u8; 256 * 1024];
    let mut written = 0u64;
    let err = loop {
        match f.write_at(written, &chunk) {
            Ok(n) => {
                written += n as u64;
                if n < chunk.len() {
                    break f.write_at(written, &chunk).unwrap_err();
                }
            }
            Err(e) => break e,
        }
    };
    assert_eq!(err, Errno::ENOSPC);
    assert!(written > 4 << 20, "wrote {written}");
    // Everything accepted reaches the disk.
    f.sync().unwrap();
    assert_eq!(f.metadata().unwrap().size, written);
    assert_eq!(root.statfs().unwrap().f_bavail, 0);
    drop(f);
    let image = finish(&fs, &d, "full disk");
    assert_eq!(debugfs_cat(&image, "/fill").len() as u64, written);
}

#[test]
fn xattrs_and_acls_round_trip() {
    let d = disk(mkfs(&["-b", "4096"], "16M", None));
    let (fs, root) = vmount(&d);
    let f = file(&root, "x");
    f.setxattr(b"user.note", b"value", 0).unwrap();
    assert_eq!(f.setxattr(b"user.note", b"v", crate::fs::ext4::XATTR_CREATE).err(), Some(Errno::EEXIST));
    assert_eq!(f.getxattr(b"user.note").unwrap(), b"value");
    let acl =
        [2u32.to_le_bytes(), [1, 0, 6, 0], u32::MAX.to_le_bytes(), [4, 0, 4, 0], u32::MAX.to_le_bytes(), [0x20, 0, 4, 0], u32::MAX.to_le_bytes()].concat();
    f.setxattr(b"system.posix_acl_access", &acl, 0).unwrap();
    assert_eq!(f.getxattr(b"system.posix_acl_access").unwrap(), acl);
    let mut names = f.listxattr().unwrap();
    names.sort();
    assert_eq!(names, vec![b"system.posix_acl_access".to_vec(), b"user.note".to_vec()]);
    f.removexattr(b"user.note").unwrap();
    assert_eq!(f.getxattr(b"user.note").err(), Some(Errno::ENODATA));
    drop(f);
    finish(&fs, &d, "xattrs");
}

#[test]
fn shared_mappings_see_writes_and_their_stores_reach_the_disk() {
    use crate::abi::mman::{MAP_SHARED, PROT_READ, PROT_WRITE};
    use crate::mm::map::MapRequest;
    use crate::mm::vma::Backing;
    use crate::mm::{HostOp, Mm};
    use crate::platform::AddressSpace;
    let d = disk(mkfs(&["-b", "4096"], "16M", None));
    let (fs, root) = vmount(&d);
    let f = file(&root, "mapped");
    f.write_at(0, &vec![b'a'; 3 * PAGE_SIZE as usize]).unwrap();
    f.sync().unwrap();
    let cache = f.page_cache().unwrap();
    let mm = Mm::new(crate::mm::frame::guest_ram().clone());
    mm.lock().mmap_base = 0x7000_0000_0000;
    cache.add_mapper(&mm);
    let addr = mm
        .map(MapRequest {
            addr: 0,
            len: 3 * PAGE_SIZE,
            prot: PROT_READ | PROT_WRITE,
            flags: MAP_SHARED,
            backing: Backing::Shared { memory: cache.clone(), pgoff: 0, file: None },
            label: "",
        })
        .unwrap();
    // A read fault maps the clean page read-only...
    mm.handle_fault(addr, mm.host_generation()).unwrap();
    let ops = mm.take_host_changes().ops;
    assert!(ops.iter().any(|op| matches!(op, HostOp::Map { prot, .. } if *prot == PROT_READ)), "{ops:?}");
    // ...and the write fault that follows dirties it and maps it writable.
    mm.handle_fault(addr, mm.host_generation()).unwrap();
    let ops = mm.take_host_changes().ops;
    assert!(ops.iter().any(|op| matches!(op, HostOp::Map { prot, .. } if *prot == PROT_READ | PROT_WRITE)), "{ops:?}");
    assert_eq!(cache.dirty_count(), 1);
    // A kernel store into the mapping (as read(2) into it would be).
    mm.write_bytes(addr + PAGE_SIZE + 10, b"through the mapping").unwrap();
    let mut b = [0u8; 19];
    f.read_at(PAGE_SIZE + 10, &mut b).unwrap();
    assert_eq!(&b, b"through the mapping");
    f.write_at(2 * PAGE_SIZE, b"by write").unwrap();
    assert_eq!(mm.read_bytes(addr + 2 * PAGE_SIZE, 8).unwrap(), b"by write");
    // msync/fsync: writeback write-protects what the mapping may write.
    f.sync().unwrap();
    let ops = mm.take_host_changes().ops;
    assert!(ops.iter().any(|op| matches!(op, HostOp::Unmap { .. })), "{ops:?}");
    assert_eq!(cache.dirty_count(), 0);
    drop(mm);
    drop((f, cache));
    let image = finish(&fs, &d, "mmap");
    let got = debugfs_cat(&image, "/mapped");
    assert_eq!(&got[PAGE_SIZE as usize + 10..PAGE_SIZE as usize + 29], b"through the mapping");
    assert_eq!(&got[2 * PAGE_SIZE as usize..2 * PAGE_SIZE as usize + 8], b"by write");
}
