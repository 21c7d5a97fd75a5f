//! The overlay over a tmpfs standing in for the host tree: every change
//! shows in the overlay and never in the lower layer.

use super::*;
use crate::abi::stat::{S_IFLNK, S_IFREG};
use crate::fs::tmpfs::new_tmpfs;

fn file(dir: &InodeRef, name: &str, data: &[u8]) -> InodeRef {
    let f = dir.create(name.as_bytes(), S_IFREG | 0o644, 0, 0, 0).unwrap();
    f.write_at(0, data).unwrap();
    f
}

fn mkdir(dir: &InodeRef, name: &str) -> InodeRef {
    dir.create(name.as_bytes(), S_IFDIR | 0o755, 0, 0, 0).unwrap()
}

fn read_all(f: &InodeRef) -> Vec<u8> {
    let mut buf = vec![0u8; f.metadata().unwrap().size as usize];
    let n = f.read_at(0, &mut buf).unwrap();
    buf.truncate(n);
    buf
}

fn names(dir: &InodeRef) -> Vec<String> {
    let mut out = Vec::new();
    dir.readdir(0, &mut |e| {
        out.push(String::from_utf8_lossy(e.name).into_owned());
        true
    })
    .unwrap();
    out.sort();
    out
}

fn walk(root: &InodeRef, path: &str) -> KResult<InodeRef> {
    let mut cur = root.clone();
    for c in path.split('/').filter(|c| !c.is_empty()) {
        cur = cur.lookup(c.as_bytes())?;
    }
    Ok(cur)
}

/// A lower tree: /etc/passwd, /etc/hosts, /usr/bin/tool, /usr/share/doc/a/readme, /empty.
fn lower() -> InodeRef {
    let l = new_tmpfs(1 << 24, 0o755, 0, 0);
    let etc = mkdir(&l, "etc");
    file(&etc, "passwd", b"root:x:0:0\n");
    file(&etc, "hosts", b"127.0.0.1 localhost\n");
    let usr = mkdir(&l, "usr");
    let bin = mkdir(&usr, "bin");
    let tool = file(&bin, "tool", b"#!/bin/sh\n");
    tool.setattr(&SetAttr { mode: Some(0o755), ..Default::default() }).unwrap();
    let share = mkdir(&usr, "share");
    let doc = mkdir(&share, "doc");
    let a = mkdir(&doc, "a");
    file(&a, "readme", b"read me\n");
    mkdir(&l, "empty");
    l
}

fn overlay(l: &InodeRef) -> InodeRef {
    new_overlay(l.clone(), 1 << 24).unwrap()
}

#[test]
fn writes_copy_up_and_leave_the_lower_file_alone() {
    let l = lower();
    let o = overlay(&l);
    let passwd = walk(&o, "etc/passwd").unwrap();
    let before = passwd.metadata().unwrap();
    let reader = walk(&o, "etc/passwd").unwrap();
    passwd.write_at(0, b"ROOT").unwrap();
    assert_eq!(read_all(&passwd), b"ROOT:x:0:0\n");
    // A handle taken before the copy-up reads the new data, as Linux's overlayfs.
    assert_eq!(read_all(&reader), b"ROOT:x:0:0\n");
    assert_eq!(read_all(&walk(&l, "etc/passwd").unwrap()), b"root:x:0:0\n");
    let after = passwd.metadata().unwrap();
    assert_eq!((after.dev, after.ino, after.mode), (before.dev, before.ino, before.mode));
    assert_eq!(walk(&o, "etc/passwd").unwrap().metadata().unwrap().ino, before.ino);
}

#[test]
fn chmod_chown_and_times_copy_up_metadata_with_the_data() {
    let l = lower();
    let o = overlay(&l);
    let tool = walk(&o, "usr/bin/tool").unwrap();
    let before = tool.metadata().unwrap();
    tool.setattr(&SetAttr { mode: Some(0o700), uid: Some(5), ..Default::default() }).unwrap();
    let md = tool.metadata().unwrap();
    assert_eq!((md.mode & 0o7777, md.uid, md.mtime), (0o700, 5, before.mtime));
    assert_eq!(read_all(&tool), b"#!/bin/sh\n");
    assert_eq!(walk(&l, "usr/bin/tool").unwrap().metadata().unwrap().mode & 0o7777, 0o755);
    // The copied-up parents keep their times.
    assert_eq!(walk(&o, "usr/bin").unwrap().metadata().unwrap().mtime, walk(&l, "usr/bin").unwrap().metadata().unwrap().mtime);
}

#[test]
fn truncating_to_zero_copies_no_data() {
    let l = lower();
    let o = overlay(&l);
    let hosts = walk(&o, "etc/hosts").unwrap();
    hosts.setattr(&SetAttr { size: Some(0), ..Default::default() }).unwrap();
    assert_eq!(hosts.metadata().unwrap().size, 0);
    assert_eq!(read_all(&walk(&l, "etc/hosts").unwrap()), b"127.0.0.1 localhost\n");
}

#[test]
fn unlink_whites_out_and_readdir_hides_it() {
    let l = lower();
    let o = overlay(&l);
    let etc = walk(&o, "etc").unwrap();
    etc.unlink(b"passwd").unwrap();
    assert_eq!(etc.lookup(b"passwd").err(), Some(Errno::ENOENT));
    assert_eq!(names(&etc), [".", "..", "hosts"]);
    assert!(walk(&l, "etc/passwd").is_ok());
    assert_eq!(etc.unlink(b"passwd").err(), Some(Errno::ENOENT));
    // A new file of the name replaces the whiteout.
    file(&etc, "passwd", b"new\n");
    assert_eq!(read_all(&walk(&o, "etc/passwd").unwrap()), b"new\n");
    assert_eq!(names(&etc), [".", "..", "hosts", "passwd"]);
    // And an upper-only file goes without a trace.
    file(&etc, "fresh", b"");
    etc.unlink(b"fresh").unwrap();
    assert_eq!(names(&etc), [".", "..", "hosts", "passwd"]);
}

#[test]
fn guest_cannot_make_a_whiteout_or_see_markers() {
    let l = lower();
    let o = overlay(&l);
    assert_eq!(o.create(b"wh", S_IFCHR, 0, 0, 0).err(), Some(Errno::EPERM));
    let etc = walk(&o, "etc").unwrap();
    etc.unlink(b"hosts").unwrap();
    etc.create(b"hosts", S_IFDIR | 0o755, 0, 0, 0).unwrap();
    let d = walk(&o, "etc/hosts").unwrap();
    assert_eq!(d.listxattr().unwrap(), Vec::<Vec<u8>>::new());
    assert_eq!(d.getxattr(OPAQUE).err(), Some(Errno::EOPNOTSUPP));
    assert_eq!(d.setxattr(b"trusted.overlay.redirect", b"/x", 0).err(), Some(Errno::EOPNOTSUPP));
    assert_eq!(names(&o), [".", "..", "empty", "etc", "usr"]);
}

#[test]
fn rmdir_needs_a_merged_empty_directory_and_mkdir_over_it_is_opaque() {
    let l = lower();
    let o = overlay(&l);
    let doc = walk(&o, "usr/share/doc").unwrap();
    assert_eq!(doc.rmdir(b"a").err(), Some(Errno::ENOTEMPTY));
    walk(&o, "usr/share/doc/a").unwrap().unlink(b"readme").unwrap();
    doc.rmdir(b"a").unwrap();
    assert_eq!(doc.lookup(b"a").err(), Some(Errno::ENOENT));
    let a = mkdir(&doc, "a");
    assert_eq!(names(&a), [".", ".."]);
    assert_eq!(walk(&o, "usr/share/doc/a/readme").err(), Some(Errno::ENOENT));
    assert!(walk(&l, "usr/share/doc/a/readme").is_ok());
    // The whole tree can go, and the root lists what is left.
    doc.rmdir(b"a").unwrap();
    walk(&o, "usr/share").unwrap().rmdir(b"doc").unwrap();
    assert_eq!(names(&walk(&o, "usr/share").unwrap()), [".", ".."]);
}

#[test]
fn renames_of_lower_files_and_directories() {
    let l = lower();
    let o = overlay(&l);
    let etc = walk(&o, "etc").unwrap();
    etc.rename(b"passwd", &o, b"passwd.moved", 0).unwrap();
    assert_eq!(read_all(&walk(&o, "passwd.moved").unwrap()), b"root:x:0:0\n");
    assert_eq!(etc.lookup(b"passwd").err(), Some(Errno::ENOENT));
    // A directory with lower contents moves whole (a redirect).
    let share = walk(&o, "usr/share").unwrap();
    let ino = walk(&o, "usr/share/doc").unwrap().metadata().unwrap().ino;
    share.rename(b"doc", &o, b"docs", 0).unwrap();
    drop(share);
    assert_eq!(walk(&o, "usr/share/doc").err(), Some(Errno::ENOENT));
    assert_eq!(read_all(&walk(&o, "docs/a/readme").unwrap()), b"read me\n");
    assert_eq!(walk(&o, "docs").unwrap().metadata().unwrap().ino, ino);
    // Moving it below a new directory and back keeps the contents.
    let n = mkdir(&o, "new");
    o.rename(b"docs", &n, b"d", 0).unwrap();
    assert_eq!(read_all(&walk(&o, "new/d/a/readme").unwrap()), b"read me\n");
    n.rename(b"d", &walk(&o, "usr/share").unwrap(), b"doc", 0).unwrap();
    assert_eq!(read_all(&walk(&o, "usr/share/doc/a/readme").unwrap()), b"read me\n");
    assert_eq!(names(&walk(&o, "usr/share").unwrap()), [".", "..", "doc"]);
    assert_eq!(names(&n), [".", ".."]);
    assert!(walk(&l, "usr/share/doc/a/readme").is_ok());
    assert_eq!(walk(&l, "docs").err(), Some(Errno::ENOENT));
}

#[test]
fn a_renamed_directory_is_found_again_after_its_nodes_are_dropped() {
    let l = lower();
    let o = overlay(&l);
    walk(&o, "usr").unwrap().rename(b"share", &o, b"s", 0).unwrap();
    // Nothing holds the nodes any more: lookups start from the layers.
    assert_eq!(read_all(&walk(&o, "s/doc/a/readme").unwrap()), b"read me\n");
    let fresh = overlay(&l);
    assert!(walk(&fresh, "usr/share").is_ok());
}

#[test]
fn a_directory_replacing_an_empty_lower_one_hides_it() {
    let l = lower();
    let o = overlay(&l);
    let d = mkdir(&o, "d");
    file(&d, "inside", b"x");
    o.rename(b"d", &o, b"empty", 0).unwrap();
    assert_eq!(names(&walk(&o, "empty").unwrap()), [".", "..", "inside"]);
    // A non-empty target is refused, a lower one included.
    assert_eq!(o.rename(b"empty", &walk(&o, "usr/share").unwrap(), b"doc", 0).err(), Some(Errno::ENOTEMPTY));
    assert_eq!(o.rename(b"etc", &o, b"usr", 0).err(), Some(Errno::ENOTEMPTY));
    assert_eq!(o.rename(b"usr", &walk(&o, "usr/bin").unwrap(), b"x", 0).err(), Some(Errno::EINVAL));
}

#[test]
fn rename_exchange_and_noreplace() {
    let l = lower();
    let o = overlay(&l);
    let etc = walk(&o, "etc").unwrap();
    assert_eq!(etc.rename(b"passwd", &etc, b"hosts", RENAME_NOREPLACE).err(), Some(Errno::EEXIST));
    etc.rename(b"passwd", &etc, b"hosts", RENAME_EXCHANGE).unwrap();
    assert_eq!(read_all(&walk(&o, "etc/hosts").unwrap()), b"root:x:0:0\n");
    assert_eq!(read_all(&walk(&o, "etc/passwd").unwrap()), b"127.0.0.1 localhost\n");
    o.rename(b"etc", &o, b"usr", RENAME_EXCHANGE).unwrap();
    assert!(walk(&o, "etc/bin/tool").is_ok());
    assert!(walk(&o, "usr/hosts").is_ok());
    assert_eq!(names(&walk(&o, "etc").unwrap()), [".", "..", "bin", "share"]);
}

#[test]
fn hard_links_to_lower_files_share_one_copy() {
    let l = lower();
    let o = overlay(&l);
    let passwd = walk(&o, "etc/passwd").unwrap();
    let ino = passwd.metadata().unwrap().ino;
    o.link(b"pw", &passwd).unwrap();
    let pw = walk(&o, "pw").unwrap();
    assert_eq!(pw.metadata().unwrap().nlink, 2);
    assert_eq!(pw.metadata().unwrap().ino, ino);
    pw.write_at(0, b"R").unwrap();
    assert_eq!(read_all(&walk(&o, "etc/passwd").unwrap()), b"Root:x:0:0\n");
    assert_eq!(o.link(b"pw", &passwd).err(), Some(Errno::EEXIST));
    assert_eq!(o.link(b"e", &walk(&o, "etc").unwrap()).err(), Some(Errno::EPERM));
}

#[test]
fn readdir_merges_without_duplicates_and_numbers_match_stat() {
    let l = lower();
    let o = overlay(&l);
    let etc = walk(&o, "etc").unwrap();
    file(&etc, "new", b"");
    walk(&o, "etc/hosts").unwrap().write_at(0, b"x").unwrap();
    assert_eq!(names(&etc), [".", "..", "hosts", "new", "passwd"]);
    let mut inos = Vec::new();
    etc.readdir(0, &mut |e| {
        inos.push((String::from_utf8_lossy(e.name).into_owned(), e.ino));
        true
    })
    .unwrap();
    for (name, ino) in inos {
        let md = if name == "." {
            etc.metadata()
        } else if name == ".." {
            o.metadata()
        } else {
            etc.lookup(name.as_bytes()).and_then(|i| i.metadata())
        };
        assert_eq!(md.unwrap().ino, ino, "d_ino of {name}");
    }
    // Offsets resume where they stopped.
    let mut first = Vec::new();
    etc.readdir(3, &mut |e| {
        first.push(e.name.to_vec());
        true
    })
    .unwrap();
    assert_eq!(first.len(), 2);
}

#[test]
fn symlinks_and_xattrs_copy_up() {
    let l = lower();
    let lower_file = walk(&l, "etc/passwd").unwrap();
    lower_file.setxattr(b"user.kept", b"yes", 0).unwrap();
    lower_file.setxattr(b"trusted.overlay.opaque", b"y", 0).unwrap();
    walk(&l, "etc").unwrap().symlink(b"link", b"passwd", 0, 0).unwrap();
    let o = overlay(&l);
    let f = walk(&o, "etc/passwd").unwrap();
    assert_eq!(f.listxattr().unwrap(), [b"user.kept".to_vec()]);
    f.setxattr(b"user.new", b"1", 0).unwrap();
    let upper = f.as_any().downcast_ref::<OvlInode>().unwrap().upper().unwrap();
    assert_eq!(upper.getxattr(b"user.kept").unwrap(), b"yes");
    assert_eq!(upper.getxattr(b"trusted.overlay.opaque").err(), Some(Errno::ENODATA));
    assert_eq!(f.listxattr().unwrap(), [b"user.kept".to_vec(), b"user.new".to_vec()]);
    assert_eq!(lower_file.getxattr(b"user.new").err(), Some(Errno::ENODATA));
    let link = walk(&o, "etc/link").unwrap();
    link.setattr(&SetAttr { uid: Some(3), ..Default::default() }).unwrap();
    assert_eq!(link.readlink().unwrap(), b"passwd");
    assert_eq!(link.metadata().unwrap().mode & S_IFMT, S_IFLNK);
    assert_eq!(f.removexattr(b"user.absent").err(), Some(Errno::ENODATA));
}

#[test]
fn a_full_upper_layer_is_enospc_and_changes_nothing() {
    let l = lower();
    let big = file(&l, "big", &vec![7u8; 64 * 1024]);
    drop(big);
    let o = new_overlay(l.clone(), 32 * 1024).unwrap();
    let f = walk(&o, "big").unwrap();
    assert_eq!(f.write_at(0, b"x").err(), Some(Errno::ENOSPC));
    assert_eq!(read_all(&f), vec![7u8; 64 * 1024]);
    assert!(o.statfs().unwrap().f_bfree > 0, "the failed copy is discarded");
    assert_eq!(o.statfs().unwrap().f_type, OVERLAYFS_SUPER_MAGIC);
}

#[test]
fn removed_lower_files_stay_readable_through_held_nodes() {
    let l = lower();
    let o = overlay(&l);
    let hosts = walk(&o, "etc/hosts").unwrap();
    walk(&o, "etc").unwrap().unlink(b"hosts").unwrap();
    assert_eq!(read_all(&hosts), b"127.0.0.1 localhost\n");
    assert_eq!(hosts.write_at(0, b"x").err(), Some(Errno::ENOENT));
}

#[test]
fn concurrent_copy_ups_renames_and_listings_stay_consistent() {
    let l = lower();
    for i in 0..20 {
        file(&walk(&l, "etc").unwrap(), &format!("f{i}"), b"lower data");
    }
    for i in 0..5 {
        file(&walk(&l, "etc").unwrap(), &format!("g{i}"), b"");
    }
    let o = overlay(&l);
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let o = o.clone();
            std::thread::spawn(move || {
                for round in 0..200 {
                    let i = (round * 7 + t * 3) % 20;
                    let etc = walk(&o, "etc").unwrap();
                    // Everyone copies up the same files at once.
                    if let Ok(f) = etc.lookup(format!("f{i}").as_bytes()) {
                        // A write through a node another thread removed
                        // meanwhile fails (ENOENT); one that lands reads back
                        // over whole data, never a half-made copy (a file just
                        // made again may still be empty or being written).
                        if f.write_at(0, b"L").is_ok() {
                            let mut buf = [0u8; 10];
                            let n = f.read_at(0, &mut buf).unwrap();
                            assert!(b"Lower data".starts_with(&buf[..n]), "read {:?}", &buf[..n]);
                        }
                    }
                    let mine = format!("t{t}");
                    let _ = o.create(mine.as_bytes(), S_IFDIR | 0o755, 0, 0, 0);
                    let _ = walk(&o, "usr/share").map(|s| s.rename(b"doc", &o, b"doc-moved", 0));
                    let _ = o.rename(b"doc-moved", &walk(&o, "usr/share").unwrap(), b"doc", 0);
                    let listed = names(&etc);
                    let mut unique = listed.clone();
                    unique.dedup();
                    assert_eq!(listed, unique, "a name listed twice");
                    let _ = etc.unlink(format!("g{}", (i + 1) % 5).as_bytes());
                    let _ = etc.create(format!("g{}", (i + 1) % 5).as_bytes(), S_IFREG | 0o644, 0, 0, 0);
                    let _ = etc.unlink(format!("f{}", (round + t) % 20).as_bytes()).and_then(|_| {
                        let f = etc.create(format!("f{}", (round + t) % 20).as_bytes(), S_IFREG | 0o644, 0, 0, 0)?;
                        f.write_at(0, b"Lower data")
                    });
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert!(walk(&o, "usr/share/doc/a/readme").is_ok() || walk(&o, "doc-moved/a/readme").is_ok());
    assert_eq!(read_all(&walk(&l, "etc/f3").unwrap()), b"lower data");
}

/// An ACL in the xattr form: USER_OBJ rw-, USER 65534 r-x, GROUP_OBJ r--,
/// MASK rwx, OTHER ---.
fn named_user_acl() -> Vec<u8> {
    let mut v = 2u32.to_le_bytes().to_vec();
    for (tag, perm, id) in [(1u16, 6u16, u32::MAX), (2, 5, 65534), (4, 4, u32::MAX), (0x10, 7, u32::MAX), (0x20, 0, u32::MAX)] {
        v.extend_from_slice(&tag.to_le_bytes());
        v.extend_from_slice(&perm.to_le_bytes());
        v.extend_from_slice(&id.to_le_bytes());
    }
    v
}

#[test]
fn acls_read_through_and_copy_up_with_the_file() {
    use crate::fs::xattr::{ACL_ACCESS, ACL_DEFAULT};
    let l = lower();
    let lower_file = walk(&l, "etc/passwd").unwrap();
    lower_file.setxattr(ACL_ACCESS, &named_user_acl(), 0).unwrap();
    walk(&l, "etc").unwrap().setxattr(ACL_DEFAULT, &named_user_acl(), 0).unwrap();
    let o = overlay(&l);
    let f = walk(&o, "etc/passwd").unwrap();
    // Before any copy-up: the lower object's.
    assert_eq!(f.getxattr(ACL_ACCESS).unwrap(), named_user_acl());
    assert!(f.access_acl().unwrap().is_some());
    assert!(walk(&o, "etc").unwrap().default_acl().unwrap().is_some());
    // A write copies it up; the copy keeps the ACL, the lower file is untouched.
    f.write_at(0, b"x").unwrap();
    let upper = f.as_any().downcast_ref::<OvlInode>().unwrap().upper().unwrap();
    assert_eq!(upper.getxattr(ACL_ACCESS).unwrap(), named_user_acl());
    assert!(f.listxattr().unwrap().contains(&ACL_ACCESS.to_vec()));
    f.removexattr(ACL_ACCESS).unwrap();
    assert!(f.access_acl().unwrap().is_none());
    assert_eq!(lower_file.getxattr(ACL_ACCESS).unwrap(), named_user_acl());
    // A directory's copy-up keeps its default ACL.
    let etc = walk(&o, "etc").unwrap();
    etc.setattr(&SetAttr { uid: Some(0), ..Default::default() }).unwrap();
    let upper_etc = etc.as_any().downcast_ref::<OvlInode>().unwrap().upper().unwrap();
    assert_eq!(upper_etc.getxattr(ACL_DEFAULT).unwrap(), named_user_acl());
}
