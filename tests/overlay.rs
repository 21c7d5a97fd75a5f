//! The default root: an overlay of the host tree whose changes stay in the
//! guest. Programs change a fixture tree natively (on a scratch copy) and
//! under vkernel (on the fixture itself, through the overlay) with the same
//! results, and the host tree is byte for byte what it was before (a
//! snapshot of names, types, modes, owners, sizes, mtimes, ctimes, data,
//! link targets and xattrs). Writes to the real /etc and /usr, whole-tree
//! changes under `--root`, a full upper layer (ENOSPC), and the mount
//! table are checked under vkernel only.

mod common;

use common::{Input, Link};
use std::collections::BTreeMap;
use std::ffi::CString;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

unsafe extern "C" {
    fn lsetxattr(path: *const i8, name: *const i8, value: *const u8, size: usize, flags: i32) -> i32;
    fn lgetxattr(path: *const i8, name: *const i8, value: *mut u8, size: usize) -> isize;
    fn llistxattr(path: *const i8, list: *mut i8, size: usize) -> isize;
}

/// A host directory for one test, removed when dropped.
struct HostDir(PathBuf);

impl HostDir {
    fn new(prefix: &str) -> HostDir {
        let dir = common::scratch_dir().join(common::unique_name(prefix));
        fs::create_dir_all(&dir).expect("create test directory");
        HostDir(dir)
    }
}

impl Drop for HostDir {
    fn drop(&mut self) {
        let _ = Command::new("chmod").args(["-R", "u+rwx"]).arg(&self.0).status();
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn cpath(p: &Path) -> CString {
    CString::new(p.as_os_str().as_bytes()).unwrap()
}

fn set_xattr(p: &Path, name: &str, value: &[u8]) {
    let (p, n) = (cpath(p), CString::new(name).unwrap());
    // SAFETY: both strings are NUL-terminated and value is live for its length.
    let r = unsafe { lsetxattr(p.as_ptr(), n.as_ptr(), value.as_ptr(), value.len(), 0) };
    assert_eq!(r, 0, "setxattr {name}: {}", std::io::Error::last_os_error());
}

/// A path's xattrs as "name=value" lines, sorted.
fn xattrs(p: &Path) -> Vec<String> {
    let cp = cpath(p);
    let mut list = vec![0u8; 4096];
    // SAFETY: cp is NUL-terminated and list live for its length.
    let n = unsafe { llistxattr(cp.as_ptr(), list.as_mut_ptr() as *mut i8, list.len()) };
    if n <= 0 {
        return Vec::new();
    }
    let mut out: Vec<String> = list[..n as usize]
        .split(|&c| c == 0)
        .filter(|n| !n.is_empty())
        .map(|name| {
            let cn = CString::new(name).unwrap();
            let mut v = vec![0u8; 4096];
            // SAFETY: as above.
            let m = unsafe { lgetxattr(cp.as_ptr(), cn.as_ptr(), v.as_mut_ptr(), v.len()) };
            v.truncate(m.max(0) as usize);
            format!("{}={}", String::from_utf8_lossy(name), String::from_utf8_lossy(&v))
        })
        .collect();
    out.sort();
    out
}

/// Everything about a host tree a change could touch, by relative path.
fn snapshot(root: &Path) -> BTreeMap<PathBuf, String> {
    fn visit(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, String>) {
        let mut entries: Vec<_> = fs::read_dir(dir).unwrap().flatten().map(|e| e.path()).collect();
        entries.sort();
        for p in entries {
            let md = fs::symlink_metadata(&p).unwrap();
            let mut fact = format!(
                "mode {:o} owner {}:{} size {} mtime {}.{} ctime {}.{} ino {} xattrs {:?}",
                md.mode(),
                md.uid(),
                md.gid(),
                md.size(),
                md.mtime(),
                md.mtime_nsec(),
                md.ctime(),
                md.ctime_nsec(),
                md.ino(),
                xattrs(&p)
            );
            if md.file_type().is_symlink() {
                fact += &format!(" -> {}", fs::read_link(&p).unwrap().display());
            } else if md.is_file() {
                let data = fs::read(&p).unwrap();
                let h = data.iter().fold(1469598103934665603u64, |h, &b| (h ^ b as u64).wrapping_mul(1099511628211));
                fact += &format!(" data {h:016x}");
            }
            out.insert(p.strip_prefix(root).unwrap().to_path_buf(), fact);
            if md.is_dir() {
                visit(root, &p, out);
            }
        }
    }
    let mut out = BTreeMap::new();
    visit(root, root, &mut out);
    out
}

fn assert_unchanged(before: &BTreeMap<PathBuf, String>, after: &BTreeMap<PathBuf, String>) {
    if before == after {
        return;
    }
    let mut report = String::from("the host tree changed:\n");
    for (p, f) in before {
        match after.get(p) {
            None => report += &format!("  removed {}\n", p.display()),
            Some(g) if g != f => report += &format!("  changed {}\n    before {f}\n    after  {g}\n", p.display()),
            _ => {}
        }
    }
    for p in after.keys().filter(|p| !before.contains_key(*p)) {
        report += &format!("  added {}\n", p.display());
    }
    panic!("{report}");
}

fn write(p: &Path, data: &[u8], mode: u32) {
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, data).unwrap();
    fs::set_permissions(p, fs::Permissions::from_mode(mode)).unwrap();
}

/// The fixture `tests/guest/overlay_ops.c` changes.
fn build_fixture(root: &Path) {
    write(&root.join("etc/passwd"), b"root:x:0:0:root:/root:/bin/sh\n", 0o644);
    write(&root.join("etc/hosts"), b"127.0.0.1 localhost\n", 0o644);
    write(&root.join("etc/motd"), b"welcome\n", 0o644);
    set_xattr(&root.join("etc/motd"), "user.note", b"hello");
    write(&root.join("usr/bin/tool"), b"#!/bin/sh\necho tool\n", 0o755);
    write(&root.join("usr/share/doc/pkg/README"), b"readme\n", 0o644);
    write(&root.join("usr/share/doc/pkg/COPYING"), b"gpl\n", 0o644);
    write(&root.join("usr/share/doc/other/x"), b"x\n", 0o644);
    fs::create_dir_all(root.join("var/log/empty")).unwrap();
    fs::create_dir_all(root.join("var/spool")).unwrap();
    let data: Vec<u8> = (0..200 * 1024u32).map(|i| (i * 7 % 251) as u8).collect();
    write(&root.join("var/lib/data"), &data, 0o600);
    let sparse = fs::File::create(root.join("data/sparse")).or_else(|_| {
        fs::create_dir_all(root.join("data")).unwrap();
        fs::File::create(root.join("data/sparse"))
    });
    let sparse = sparse.unwrap();
    sparse.set_len(1 << 20).unwrap();
    std::os::unix::fs::FileExt::write_at(&sparse, b"DATA", 512 * 1024).unwrap();
    write(&root.join("links/target"), b"t\n", 0o644);
    std::os::unix::fs::symlink("target", root.join("links/sym")).unwrap();
    for dir in ["many", "many2"] {
        for i in 0..50 {
            write(&root.join(format!("{dir}/f{i:02}")), b"", 0o644);
        }
    }
}

#[test]
fn writes_deletes_renames_links_and_chmod_match_native_and_leave_the_host_tree_alone() {
    let bin = common::build("overlay_ops", Link::Static);
    let fixture = HostDir::new("vk-ovl-fixture");
    let copy = HostDir::new("vk-ovl-native");
    build_fixture(&fixture.0);
    let status = Command::new("cp").args(["-a", "--preserve=all"]).arg(format!("{}/.", fixture.0.display())).arg(&copy.0).status().unwrap();
    assert!(status.success(), "cp -a the fixture");
    let before = snapshot(&fixture.0);

    let native = common::run_native(&bin, &[copy.0.to_str().unwrap()], &Input::Null);
    let vk = common::run_vkernel(&bin, &[fixture.0.to_str().unwrap()], &Input::Null);
    let after = snapshot(&fixture.0);
    assert_unchanged(&before, &after);
    // Both runs print the paths relative to the tree they changed.
    common::assert_same(&native, &vk);
    eprintln!("{}", vk.stdout_str());
    assert_eq!(native.status, 0, "overlay_ops fails its own checks natively:\n{}", native.stdout_str());
}

#[test]
fn writes_to_etc_and_usr_succeed_in_the_guest_and_never_reach_the_host() {
    if !common::have_busybox("writes_to_etc_and_usr_succeed_in_the_guest_and_never_reach_the_host") {
        return;
    }
    let name = common::unique_name("vk-ovl");
    let watched = ["/etc/passwd", "/etc/hosts", "/etc/hostname", "/usr/bin/env"];
    let facts = |p: &str| {
        fs::symlink_metadata(p).map(|m| format!("{:o} {} {} {} {}", m.mode(), m.uid(), m.size(), m.mtime(), m.ctime())).unwrap_or_default()
            + &fs::read(p).map(|d| format!(" {}", d.len())).unwrap_or_default()
    };
    let before: Vec<String> = watched.iter().map(|p| facts(p)).collect();
    let passwd = fs::read("/etc/passwd").unwrap();
    let script = format!(
        "set -e
         echo 'guest:x:1000:1000::/:/bin/sh' >> /etc/passwd
         tail -n 1 /etc/passwd
         echo new > /etc/{name}; cat /etc/{name}
         mkdir -p /usr/{name}/deep/er; echo x > /usr/{name}/deep/er/f; ls /usr/{name}/deep/er
         chmod 600 /etc/hosts; stat -c %a /etc/hosts
         rm /etc/hostname; test ! -e /etc/hostname && echo hostname gone
         mv /usr/bin/env /usr/bin/env.moved; test -x /usr/bin/env.moved && echo env moved
         mv /usr/{name} /{name}; test -f /{name}/deep/er/f && echo tree moved
         touch /usr/bin/newfile; rm -r /{name}
         echo done"
    );
    let out = common::run_vkernel(common::BUSYBOX, &["sh", "-c", &script], &Input::Null);
    let after: Vec<String> = watched.iter().map(|p| facts(p)).collect();
    for p in [format!("/etc/{name}"), format!("/usr/{name}"), format!("/{name}"), "/usr/bin/env.moved".into(), "/usr/bin/newfile".into()] {
        assert!(!Path::new(&p).exists(), "the guest created {p} on the host");
        let _ = fs::remove_dir_all(&p).or_else(|_| fs::remove_file(&p));
    }
    assert_eq!(fs::read("/etc/passwd").unwrap(), passwd, "the host's /etc/passwd changed");
    assert_eq!(before, after, "watched host files changed");
    assert_eq!(out.status, 0, "guest script failed: {}\n{}", out.stdout_str(), out.stderr_str());
    assert_eq!(out.stdout_str(), format!("guest:x:1000:1000::/:/bin/sh\nnew\nf\n600\nhostname gone\nenv moved\ntree moved\ndone\n"));
}

/// A small root tree with busybox, for whole-tree changes.
fn busybox_root(root: &Path) {
    fs::create_dir_all(root.join("bin")).unwrap();
    fs::copy(common::BUSYBOX, root.join("bin/busybox")).unwrap();
    build_fixture(&root.join("srv"));
    write(&root.join("etc/profile"), b"export PS1='$ '\n", 0o644);
}

#[test]
fn whole_tree_changes_under_a_root_dir_leave_it_byte_for_byte_the_same() {
    if !common::have_busybox("whole_tree_changes_under_a_root_dir_leave_it_byte_for_byte_the_same") {
        return;
    }
    let root = HostDir::new("vk-ovl-root");
    busybox_root(&root.0);
    let before = snapshot(&root.0);
    let script = "set -e
        cd /srv
        chmod -R go-rwx . ; chown -R 7:7 usr
        find . -type f | sort | while read f; do echo changed >> \"$f\"; done
        cp -a /srv /srv2; rm -rf /srv/usr /srv/many
        mv /srv/etc /srv/etc2; mv /srv2 /copy; ln /copy/etc/passwd /hardlink
        mkdir -p /new/a/b; echo data > /new/a/b/c
        rm -rf /etc; mkdir /etc; echo fresh > /etc/profile
        ls /srv | tr '\\n' ' '; echo; ls /etc; cat /etc/profile
        find /copy -type f | wc -l
        stat -c '%h %u' /hardlink"
        .to_string();
    let out = common::run_vkernel_with(&["--root", root.0.to_str().unwrap()], "/bin/busybox", &["sh", "-c", &script], &Input::Null);
    let after = snapshot(&root.0);
    assert_unchanged(&before, &after);
    assert_eq!(out.status, 0, "guest script failed: {}\n{}", out.stdout_str(), out.stderr_str());
    assert_eq!(out.stdout_str(), "data etc2 links many2 var \nprofile\nfresh\n110\n2 0\n");
}

#[test]
fn a_full_upper_layer_is_enospc_and_space_comes_back() {
    if !common::have_busybox("a_full_upper_layer_is_enospc_and_space_comes_back") {
        return;
    }
    let root = HostDir::new("vk-ovl-full");
    busybox_root(&root.0);
    // 64 MiB of RAM: the upper layer holds half.
    let script = "dd if=/dev/zero of=/big bs=1M count=40 2>/dev/null; echo dd $?
        rm /big; dd if=/dev/zero of=/big bs=1M count=20 2>/dev/null; echo dd $?
        echo still writable > /srv/etc/motd; cat /srv/etc/motd";
    let mut cmd = common::vkernel();
    cmd.args(["-m", "64m", "--root", root.0.to_str().unwrap(), "--", "/bin/busybox", "sh", "-c", script]);
    cmd.env_clear().envs(common::guest_env()).current_dir("/");
    let out = common::run_with(cmd, &Input::Null, common::TIMEOUT);
    assert_eq!(out.stdout_str(), "dd 1\ndd 0\nstill writable\n", "stderr: {}", out.stderr_str());
}

#[test]
fn proc_mounts_shows_an_overlay_root_and_read_only_keeps_the_host_view() {
    if !common::have_busybox("proc_mounts_shows_an_overlay_root_and_read_only_keeps_the_host_view") {
        return;
    }
    let out = common::run_vkernel(common::BUSYBOX, &["head", "-n", "1", "/proc/mounts"], &Input::Null);
    assert_eq!(out.stdout_str(), "overlay / overlay rw,relatime,lowerdir=/ 0 0\n");
    let out = common::run_vkernel_with(&["--read-only"], common::BUSYBOX, &["head", "-n", "1", "/proc/mounts"], &Input::Null);
    assert_eq!(out.stdout_str(), "/ / hostfs ro,relatime 0 0\n");
    // OVERLAYFS_SUPER_MAGIC
    let out = common::run_vkernel(common::BUSYBOX, &["stat", "-f", "-c", "%t", "/"], &Input::Null);
    assert_eq!(out.stdout_str(), "794c7630\n");
}

/// The host's setfacl and getfacl on the overlay root, natively on a copy
/// of the tree and under vkernel on the tree itself: a lower file's ACL
/// reads through, survives the copy-ups of setfacl, chmod and a write;
/// chmod moves the mask; `-b` and `-k` remove ACLs; a default ACL (one on a
/// lower directory too) is inherited by new files and directories; a
/// named user's entry decides what that user may read. The host tree
/// keeps its own ACLs.
#[test]
fn setfacl_and_getfacl_round_trip_on_the_overlay_and_copy_up_keeps_lower_acls() {
    if !common::have_tool("setfacl") || !common::have_tool("getfacl") {
        return;
    }
    let fixture = HostDir::new("vk-ovl-acl-fixture");
    let copy = HostDir::new("vk-ovl-acl-native");
    let root = &fixture.0;
    write(&root.join("lower"), b"lower data\n", 0o640);
    write(&root.join("written"), b"w\n", 0o644);
    fs::create_dir_all(root.join("ldir")).unwrap();
    fs::set_permissions(root, fs::Permissions::from_mode(0o755)).unwrap();
    let setfacl = |args: &[&str]| {
        let status = Command::new("setfacl").args(args).status().expect("run setfacl");
        assert!(status.success(), "setfacl {args:?}");
    };
    let path = |name: &str| root.join(name).to_str().unwrap().to_string();
    setfacl(&["-m", "u:65534:r-x,g:2000:rw-", &path("lower")]);
    setfacl(&["-m", "u:65534:rw-", &path("written")]);
    setfacl(&["-d", "-m", "u:65534:rwx,o::r-x", &path("ldir")]);
    let status = Command::new("cp").args(["-a", "--preserve=all"]).arg(format!("{}/.", root.display())).arg(&copy.0).status().unwrap();
    assert!(status.success(), "cp -a the fixture");
    let before = snapshot(root);

    let script = r#"
        umask 022
        cd "$1"
        show() { for f in "$@"; do echo "== $f $(stat -c %a "$f")"; getfacl -n -c "$f" 2>&1; done; }
        as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@" >/dev/null 2>&1 && echo allowed || echo denied; }
        show lower written ldir
        echo "nobody reads lower: $(as_nobody cat lower)"
        setfacl -m u:65534:r-- lower; show lower
        chmod 600 lower; show lower
        echo "nobody reads lower at 600: $(as_nobody cat lower)"
        chmod 640 lower; show lower
        echo "nobody reads lower at 640: $(as_nobody cat lower)"
        echo more >> written; show written
        setfacl -b lower; show lower
        echo "nobody reads lower after -b: $(as_nobody cat lower)"
        touch new; setfacl -m u:65534:rwx,g:2000:r-- new; show new
        setfacl -x u:65534 new; show new
        setfacl -m m::r-- new; show new
        setfacl -b new; show new
        mkdir d; setfacl -d -m u:65534:rwx,g::r-x d; show d
        touch d/f; mkdir d/s; mkdir -m 700 d/t; show d/f d/s d/t
        setfacl -k d; show d
        touch d/g; show d/g
        touch ldir/inherit; mkdir ldir/sub; show ldir ldir/inherit ldir/sub
        setfacl -m u:65534:r-x ldir/sub; show ldir/sub
        getfacl -n -R -c -p ldir 2>&1
        echo done
    "#;
    let native = common::run_native("/bin/sh", &["-c", script, "sh", copy.0.to_str().unwrap()], &Input::Null);
    let vk = common::run_vkernel("/bin/sh", &["-c", script, "sh", root.to_str().unwrap()], &Input::Null);
    assert_unchanged(&before, &snapshot(root));
    // getfacl -R -p prints the tree's own path; both runs name theirs.
    let vk_out = vk.stdout_str().replace(&root.display().to_string(), "TREE");
    let native_out = native.stdout_str().replace(&copy.0.display().to_string(), "TREE");
    let normalize = |s: &[u8]| s.to_vec();
    let (mut n, mut v) = (native, vk);
    n.stdout = native_out.into_bytes();
    v.stdout = vk_out.into_bytes();
    common::assert_same_with(&n, &v, normalize);
    assert!(n.stdout_str().ends_with("done\n"), "the script stopped early natively:\n{}", n.stdout_str());
    eprintln!("{}", v.stdout_str());
}
