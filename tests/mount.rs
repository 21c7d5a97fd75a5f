//! mount(2) and umount2(2) from inside the guest. A native run would need
//! CAP_SYS_ADMIN on the host and would change the host's mounts, so the
//! guest program's answers are compared with Linux's documented ones (the
//! errno of each case, /proc/self/mountinfo fields). Userland mount tools
//! run on top: util-linux `mount -a` with an fstab, `mount` without a type
//! (libblkid's probe), busybox `mount -a` from /etc/fstab in its own root.

mod common;

use common::{Input, Link, Outcome};
use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn vkernel(args: &[&str], program: &Path, prog_args: &[&str]) -> Outcome {
    common::run_vkernel_with(args, program, prog_args, &Input::Null)
}

fn small_iso(dir: &Path) -> PathBuf {
    let tree = dir.join("iso-tree");
    fs::create_dir_all(tree.join("sub")).unwrap();
    fs::write(tree.join("sub/file"), b"from the cd\n").unwrap();
    let iso = dir.join("cd.iso");
    let st = Command::new("xorriso").args(["-as", "mkisofs", "-quiet", "-R", "-o", s(&iso), s(&tree)]).stderr(Stdio::null()).status();
    assert!(st.unwrap().success());
    iso
}

fn blank(dir: &Path) -> PathBuf {
    let p = dir.join("blank.img");
    fs::File::create(&p).unwrap().set_len(8 << 20).unwrap();
    p
}

/// What Linux answers for each step of tests/guest/mount_ops.c.
const EXPECTED: &str = "\
unknown type: -1 ENODEV
no type: -1 EINVAL
missing target: -1 ENOENT
target under a file: -1 ENOTDIR
source not a block device: -1 ENOTBLK
missing source: -1 ENOENT
bad superblock: -1 EINVAL
bad tmpfs option: -1 EINVAL
read-write CD-ROM: -1 EACCES
MS_NOUSER: -1 EINVAL
umount not a mount point: -1 EINVAL
umount bad flags: -1 EINVAL
umount missing: -1 ENOENT
mount tmpfs: 0
mountinfo /tmp/m: / rw,nosuid,nodev,relatime - tmpfs scratch rw,size=1024k,mode=750
in /proc/mounts: yes
in /proc/self/mounts: yes
statfs: 0
statfs flags: 0x1026
stat mount root: 0
mount root mode: 750
write on tmpfs: 17
exec on tmpfs: 7
mknod: 0
open a device on nodev: -1 EACCES
umount with a file open: -1 EBUSY
chdir in: 0
umount with cwd inside: -1 EBUSY
chdir out: 0
umount with a mapping: -1 EBUSY
copy a program: 0
umount while a program runs from it: -1 EBUSY
remount ro: 0
write after remount ro: -1 EROFS
mountinfo /tmp/m: / ro,nosuid,nodev,relatime - tmpfs scratch ro,size=1024k,mode=750
remount rw noexec: 0
exec on noexec: 126
mmap PROT_EXEC on noexec is EPERM: yes
mmap PROT_READ on noexec works: yes
remount rw: 0
remount of a non-root: -1 EINVAL
mount inner: 0
bind: 0
plain bind hides the inner mount: yes
mountinfo /tmp/b: /sub rw,relatime - tmpfs scratch rw,size=1024k,mode=750
umount bind: 0
rbind: 0
recursive bind shows it: yes
mountinfo /tmp/b/inner: / rw,relatime - tmpfs inner rw
remount bind ro: 0
write through the ro bind: -1 EROFS
write through the original: 0
the bind sees it: yes
umount with a mount below: -1 EBUSY
make private: 0
lazy umount: 0
gone from mountinfo: yes
lazy umount while open: 0
write to the detached file: 3
expire: first call marks: -1 EAGAIN
expire with detach: -1 EINVAL
umount tmpfs: 0
the mount point is empty again: yes
mount to move: 0
mount below it: 0
move beneath itself: -1 ELOOP
move a non-mount: -1 EINVAL
move: 0
moved: yes
mountinfo /tmp/mv2: / rw,relatime - tmpfs mv rw
mountinfo /tmp/mv2/in: / rw,relatime - tmpfs below rw
write to a file opened before the move: 1
umount below: 0
umount moved: 0
mount iso9660: 0
mountinfo /tmp/cd: / ro,relatime - iso9660 /dev/sr0 ro
exclusive open of a mounted device: -1 EBUSY
remount rw: -1 EACCES
mount it again (shared superblock): 0
umount one: 0
umount iso9660: 0
exclusive open after umount: ok
mount as nobody: -1 EPERM
umount as nobody: -1 EPERM
failures: 0
";

#[test]
fn mount_and_umount_give_linux_answers() {
    if !common::is_root() {
        eprintln!("SKIPPED: the guest needs uid 0 to mount");
        return;
    }
    if !common::have_tool("xorriso") {
        return;
    }
    let dir = common::fresh_scratch("mount-ops");
    let prog = common::build("mount_ops", Link::Static);
    let out = vkernel(&["--root", "/", "-r", s(&blank(&dir)), "-c", s(&small_iso(&dir))], &prog, &[]);
    let got = out.stdout_str();
    if got != EXPECTED {
        panic!("mount_ops differs from Linux's answers (- Linux, + vkernel):\n{}\nstderr:\n{}", common::diff(EXPECTED, &got), out.stderr_str());
    }
    assert_eq!(out.status, 0);
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn util_linux_mount_a_and_untyped_mounts() {
    if !common::is_root() || !common::have_tool("xorriso") {
        return;
    }
    let dir = common::fresh_scratch("mount-a");
    let iso = small_iso(&dir);
    let fstab = dir.join("fstab");
    fs::write(&fstab, "# a comment\n/dev/sr0 /tmp/cd auto ro 0 0\ntmpfs /tmp/t tmpfs size=2m,mode=700,nosuid 0 0\n").unwrap();
    let script = format!(
        "mkdir /tmp/cd /tmp/t /tmp/c2 && mount -a -T {} && grep ' /tmp/' /proc/mounts && cat /tmp/cd/sub/file && \
         mount -o ro /dev/sr0 /tmp/c2 && findmnt -n -o SOURCE,FSTYPE,OPTIONS /tmp/c2 && umount /tmp/c2 /tmp/cd /tmp/t && grep -c ' /tmp/' /proc/mounts",
        s(&fstab)
    );
    let out = vkernel(&["--root", "/", "-c", s(&iso)], Path::new("/bin/sh"), &["-c", &script]);
    assert_eq!(
        out.stdout_str(),
        "/dev/sr0 /tmp/cd iso9660 ro,relatime 0 0\ntmpfs /tmp/t tmpfs rw,nosuid,relatime,size=2048k,mode=700 0 0\nfrom the cd\n/dev/sr0 iso9660 ro,relatime\n0\n",
        "{}",
        out.stderr_str()
    );
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn busybox_mount_a_reads_etc_fstab() {
    if !common::is_root() || !common::have_tool("xorriso") || !Path::new(common::BUSYBOX).exists() {
        return;
    }
    let dir = common::fresh_scratch("mount-bb");
    let iso = small_iso(&dir);
    // A root of its own: busybox, /etc/fstab, mount points.
    let root = dir.join("root");
    for d in ["bin", "etc", "tmp", "dev", "proc", "mnt/cd", "mnt/t"] {
        fs::create_dir_all(root.join(d)).unwrap();
    }
    fs::copy(common::BUSYBOX, root.join("bin/busybox")).unwrap();
    for applet in ["sh", "mount", "umount", "cat", "grep"] {
        symlink("busybox", root.join("bin").join(applet)).unwrap();
    }
    fs::write(root.join("etc/fstab"), "/dev/sr0\t/mnt/cd\tiso9660\tro\t0 0\nnone /mnt/t tmpfs nodev,noexec 0 0\n").unwrap();
    let script = "mount -a && grep /mnt /proc/mounts && cat /mnt/cd/sub/file && umount -a -t tmpfs,iso9660 2>/dev/null; grep -c /mnt /proc/mounts";
    let out = vkernel(&["--root", s(&root), "-c", s(&iso)], Path::new("/bin/sh"), &["-c", script]);
    assert_eq!(
        out.stdout_str(),
        "/dev/sr0 /mnt/cd iso9660 ro,relatime 0 0\nnone /mnt/t tmpfs rw,nodev,noexec,relatime 0 0\nfrom the cd\n0\n",
        "{}",
        out.stderr_str()
    );
    let _ = fs::remove_dir_all(&dir);
}
