//! ISO 9660 images built by the host's xorriso read back identically in
//! the guest: a manifest (names, types, modes, owners, sizes, times,
//! symlink targets, device numbers, checksums) of the mounted CD-ROM must
//! equal the same manifest of the source tree taken natively. Also Joliet
//! names without Rock Ridge (xorriso always writes Rock Ridge too, so the
//! mount says norock), and booting from a CD-ROM alone.

mod common;

use common::{Input, Outcome};
use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Prints one line per object below $1, sorted: path, type, mode, owner,
/// size (not for directories), mtime, ctime, then target, device or md5.
const MANIFEST: &str = r#"cd "$1" && find . -mindepth 1 | LC_ALL=C sort | while IFS= read -r p; do
  if [ -L "$p" ]; then echo "$p l $(stat -c '%a %u:%g %s %Y' "$p") -> $(readlink "$p")"
  elif [ -d "$p" ]; then echo "$p d $(stat -c '%a %u:%g %Y %Z' "$p")"
  elif [ -b "$p" ] || [ -c "$p" ]; then echo "$p $(stat -c '%F %a %u:%g %t:%T %Y %Z' "$p")"
  elif [ -p "$p" ]; then echo "$p p $(stat -c '%a %u:%g %Y %Z' "$p")"
  else echo "$p f $(stat -c '%a %u:%g %s %Y %Z' "$p") $(md5sum < "$p" | cut -d' ' -f1)"; fi
done"#;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn xorriso(tree: &Path, iso: &Path, args: &[&str]) {
    let st = Command::new("xorriso").args(["-as", "mkisofs", "-quiet"]).args(args).arg("-o").arg(iso).arg(tree).stderr(Stdio::null()).status();
    assert!(st.unwrap().success(), "xorriso failed");
}

fn vkernel(args: &[&str], script: &str) -> Outcome {
    common::run_vkernel_with(args, "/bin/sh", &["-c", script], &Input::Null)
}

/// A tree with what Rock Ridge carries: odd names, modes, owners, deep
/// directories (relocated by plain ISO rules), long and unicode names,
/// fast and long symlinks, a sparse-looking large file, FIFOs and (as
/// root) device nodes.
fn fixture(dir: &Path) -> PathBuf {
    let tree = dir.join("tree");
    fs::create_dir_all(tree.join("docs/nested")).unwrap();
    fs::write(tree.join("README"), b"read me\n").unwrap();
    fs::write(tree.join("with space & symbols;1.txt"), b"spaces\n").unwrap();
    fs::write(tree.join("Größe-ünïcode.txt"), "unicode\n").unwrap();
    fs::write(tree.join(format!("{}.long", "n".repeat(120))), b"long name\n").unwrap();
    fs::write(tree.join("empty"), b"").unwrap();
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i.wrapping_mul(2654435761) >> 24) as u8).collect();
    fs::write(tree.join("docs/big.bin"), &big).unwrap();
    fs::write(tree.join("docs/nested/exec.sh"), b"#!/bin/sh\necho hi\n").unwrap();
    fs::set_permissions(tree.join("docs/nested/exec.sh"), fs::Permissions::from_mode(0o4751)).unwrap();
    fs::write(tree.join("private"), b"secret\n").unwrap();
    fs::set_permissions(tree.join("private"), fs::Permissions::from_mode(0o600)).unwrap();
    fs::set_permissions(tree.join("docs"), fs::Permissions::from_mode(0o2750)).unwrap();
    symlink("docs/nested/exec.sh", tree.join("link")).unwrap();
    // Longer than one SL entry; no trailing slash (Rock Ridge writers drop it).
    symlink(format!("/{}end", "very-long-target/".repeat(20)), tree.join("longlink")).unwrap();
    symlink("../..", tree.join("docs/nested/up")).unwrap();
    let mut deep = tree.join("deep");
    for i in 1..=12 {
        deep = deep.join(format!("level{i}"));
    }
    fs::create_dir_all(&deep).unwrap();
    fs::write(deep.join("bottom.txt"), b"at the bottom\n").unwrap();
    let _ = Command::new("mkfifo").arg(tree.join("fifo")).status();
    if common::is_root() {
        let _ = Command::new("mknod").arg(tree.join("null-dev")).args(["c", "1", "3"]).status();
        let _ = Command::new("mknod").arg(tree.join("disk-dev")).args(["b", "8", "17"]).status();
        let _ = Command::new("chown").args(["1234:5678", s(&tree.join("README"))]).status();
    }
    // Times the image keeps (seconds; ISO 9660 has no finer resolution).
    let _ = Command::new("touch").args(["-h", "-d", "2001-02-03 04:05:06 UTC"]).arg(tree.join("link")).status();
    let _ = Command::new("touch").args(["-d", "1999-12-31 23:59:59 UTC"]).arg(tree.join("README")).status();
    tree
}

#[test]
fn rock_ridge_cdrom_reads_back_identically_to_its_source_tree() {
    if !common::have_tool("xorriso") {
        return;
    }
    let dir = common::fresh_scratch("iso-rr");
    let tree = fixture(&dir);
    let iso = dir.join("cd.iso");
    xorriso(&tree, &iso, &["-R", "-J"]);
    let native = common::run_native("/bin/sh", &["-c", MANIFEST, "manifest", s(&tree)], &Input::Null);
    assert_eq!(native.status, 0, "{}", native.stderr_str());
    let script = format!("mkdir -p /tmp/cd && mount -t iso9660 -o ro /dev/sr0 /tmp/cd && set -- /tmp/cd && {MANIFEST}");
    let vk = vkernel(&["--root", "/", "-c", s(&iso)], &script);
    common::assert_same(&native, &vk);
    assert!(native.stdout_str().lines().count() > 25, "{}", native.stdout_str());
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn joliet_names_show_without_rock_ridge() {
    if !common::have_tool("xorriso") {
        return;
    }
    let dir = common::fresh_scratch("iso-joliet");
    let tree = dir.join("tree");
    fs::create_dir_all(tree.join("Mixed Case Dir")).unwrap();
    fs::write(tree.join("Mixed Case Dir/Long File Name.txt"), b"joliet\n").unwrap();
    fs::write(tree.join("Ünïcode.txt"), b"u\n").unwrap();
    let iso = dir.join("j.iso");
    xorriso(&tree, &iso, &["-J"]);
    let out = vkernel(
        &["--root", "/", "-c", s(&iso)],
        "mkdir /tmp/cd && mount -o ro,norock /dev/sr0 /tmp/cd; cd /tmp/cd && find . | LC_ALL=C sort && cat 'Mixed Case Dir/Long File Name.txt' && stat -c '%a %F' 'Ünïcode.txt' && grep /tmp/cd /proc/mounts",
    );
    assert_eq!(out.status, 0, "{}", out.stderr_str());
    assert_eq!(
        out.stdout_str(),
        ".\n./Mixed Case Dir\n./Mixed Case Dir/Long File Name.txt\n./Ünïcode.txt\njoliet\n555 regular file\n/dev/sr0 /tmp/cd iso9660 ro,relatime,norock 0 0\n"
    );
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn a_cdrom_alone_is_the_root() {
    if !common::have_tool("xorriso") || !Path::new(common::BUSYBOX).exists() {
        return;
    }
    let dir = common::fresh_scratch("iso-boot");
    let tree = dir.join("tree");
    for d in ["bin", "dev", "proc", "tmp", "etc"] {
        fs::create_dir_all(tree.join(d)).unwrap();
    }
    fs::copy(common::BUSYBOX, tree.join("bin/busybox")).unwrap();
    symlink("busybox", tree.join("bin/sh")).unwrap();
    fs::write(tree.join("etc/motd"), b"booted from the CD-ROM\n").unwrap();
    let iso = dir.join("boot.iso");
    xorriso(&tree, &iso, &["-R"]);
    let script = "/bin/busybox cat /etc/motd; /bin/busybox grep ' / ' /proc/mounts; /bin/busybox touch /x 2>&1; echo ok > /tmp/t && /bin/busybox cat /tmp/t";
    let out = vkernel(&["-c", s(&iso)], script);
    assert_eq!(out.status, 0, "{}", out.stderr_str());
    assert_eq!(out.stdout_str(), "booted from the CD-ROM\n/dev/sr0 / iso9660 ro,relatime 0 0\ntouch: /x: Read-only file system\nok\n");
    let _ = fs::remove_dir_all(&dir);
}

/// Corrupted images mounted by the guest: every mount, walk and read ends
/// with data or an error (EINVAL at mount, EIO later), and vkernel neither
/// panics nor hangs. 32 images, 16 CD-ROMs per run.
#[test]
fn corrupted_cdroms_mounted_in_the_guest_never_crash_vkernel() {
    if !common::have_tool("xorriso") {
        return;
    }
    let dir = common::fresh_scratch("iso-fuzz");
    let tree = fixture(&dir);
    let iso = dir.join("clean.iso");
    xorriso(&tree, &iso, &["-R", "-J"]);
    let clean = fs::read(&iso).unwrap();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    // Volume descriptors, path tables, directories and Rock Ridge areas
    // are in the first few dozen blocks.
    let meta = clean.len().min(48 * 2048);
    let script = "mkdir /tmp/cd; for n in 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do \
                  if mount -t iso9660 -o ro /dev/sr$n /tmp/cd 2>/dev/null; then \
                  find /tmp/cd -exec stat {} + >/dev/null 2>&1; find /tmp/cd -type f -exec cat {} + >/dev/null 2>&1; \
                  find /tmp/cd -type l -exec readlink {} + >/dev/null 2>&1; umount /tmp/cd || exit 9; echo mounted; \
                  else echo refused; fi; done";
    let mut mounted = 0;
    for round in 0..2 {
        let mut args: Vec<String> = vec!["--root".into(), "/".into()];
        for i in 0..16 {
            let mut img = clean.clone();
            for _ in 0..1 + next() % 12 {
                let at = 16 * 2048 + (next() as usize) % (meta - 16 * 2048);
                img[at] = next() as u8;
            }
            let p = dir.join(format!("bad-{round}-{i}.iso"));
            fs::write(&p, &img).unwrap();
            args.push("-c".into());
            args.push(p.to_str().unwrap().into());
        }
        let args: Vec<&str> = args.iter().map(|a| a.as_str()).collect();
        let out = vkernel(&args, script);
        assert_eq!(out.status, 0, "round {round}: {}\n{}", out.stdout_str(), out.stderr_str());
        assert!(!out.stderr_str().contains("internal error") && !out.timed_out, "{}", out.stderr_str());
        assert_eq!(out.stdout_str().lines().count(), 16);
        mounted += out.stdout_str().lines().filter(|l| *l == "mounted").count();
    }
    assert!(mounted > 0, "no corrupted image mounted: the damage is too coarse to test the walk");
    let _ = fs::remove_dir_all(&dir);
}
