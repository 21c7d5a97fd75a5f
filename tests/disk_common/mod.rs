//! Helpers for the disk tests: ext4 images made by the host's mkfs.ext4
//! from a directory (busybox and the guest programs inside), runs of
//! vkernel booted from them, the host's e2fsck and debugfs as judges, and
//! native runs in a scratch directory as an unprivileged user.
#![allow(dead_code)]

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use crate::common::{self, Input, Link, Outcome};

pub const NOBODY: u32 = 65534;

/// An e2fsprogs tool by name (they live in sbin).
pub fn tool(name: &str) -> PathBuf {
    for d in ["/usr/sbin", "/sbin", "/usr/bin", "/bin"] {
        let p = Path::new(d).join(name);
        if p.exists() {
            return p;
        }
    }
    PathBuf::from(name)
}

/// Whether the host tools are here; in CI (CI=true) their absence fails.
pub fn have_tools(test: &str) -> bool {
    if ["mkfs.ext4", "e2fsck", "debugfs"].iter().all(|t| tool(t).exists()) && Path::new(common::BUSYBOX).exists() {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("e2fsprogs or busybox missing in CI: .ci/run must install them");
    }
    eprintln!("SKIPPED {test}: needs e2fsprogs and busybox-static");
    false
}

/// A directory every user can enter (the build tree may not be), in
/// /var/tmp (the guest's /tmp is its own tmpfs), removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(tag: &str) -> Scratch {
        let base = PathBuf::from("/var/tmp/vk-disk-tests");
        fs::create_dir_all(&base).expect("create /var/tmp/vk-disk-tests");
        let _ = fs::set_permissions(&base, fs::Permissions::from_mode(0o755));
        let dir = base.join(common::unique_name(tag));
        fs::create_dir_all(&dir).expect("create a scratch directory");
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        Scratch(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::thread::panicking() && std::env::var_os("VK_KEEP_SCRATCH").is_some() {
            eprintln!("kept {}", self.0.display());
            return;
        }
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Scratch directories of test runs that are gone (a static one is never
/// dropped): their names carry the pid after the tag.
fn remove_stale_scratch() {
    for entry in fs::read_dir("/var/tmp/vk-disk-tests").into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(pid) = name.split('-').nth(1)
            && pid.parse::<u32>().is_ok()
            && !Path::new(&format!("/proc/{pid}")).exists()
        {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// A static guest program, copied where every user can run it.
pub fn program(name: &str) -> PathBuf {
    static DIR: OnceLock<Scratch> = OnceLock::new();
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let dir = DIR.get_or_init(|| {
        remove_stale_scratch();
        Scratch::new("bin")
    });
    let built = common::build(name, Link::Static);
    let dst = dir.path(name);
    if !dst.exists() {
        let tmp = dir.path(&format!("{name}.partial-{}", std::process::id()));
        fs::copy(&built, &tmp).expect("copy the guest program");
        fs::set_permissions(&tmp, fs::Permissions::from_mode(0o755)).unwrap();
        fs::rename(&tmp, &dst).unwrap();
    }
    dst
}

/// A root tree: busybox (with sh) and the named guest programs in /bin,
/// an empty /work, and `extra` files copied to their paths.
pub fn rootfs(into: &Path, programs: &[&str], extra: &[(&Path, &str)]) {
    let bin = into.join("bin");
    fs::create_dir_all(&bin).unwrap();
    fs::copy(common::BUSYBOX, bin.join("busybox")).unwrap();
    for applet in ["sh", "tar", "sync", "true", "cat", "ls"] {
        symlink("busybox", bin.join(applet)).unwrap();
    }
    for p in programs {
        fs::copy(program(p), bin.join(p)).unwrap();
    }
    fs::create_dir_all(into.join("work")).unwrap();
    for (src, dst) in extra {
        let to = into.join(dst.trim_start_matches('/'));
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        fs::copy(src, to).unwrap();
    }
}

/// mkfs.ext4 `args` over a new `size` image holding `from`.
pub fn mkfs(image: &Path, args: &[&str], size: &str, from: Option<&Path>) {
    let mut c = Command::new(tool("mkfs.ext4"));
    c.arg("-q").arg("-F").args(args);
    if let Some(d) = from {
        c.arg("-d").arg(d);
    }
    let out = c.arg(image).arg(size).output().expect("run mkfs.ext4");
    assert!(out.status.success(), "mkfs.ext4 {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// e2fsck with `flag` ("-fn" or "-fy"): (exit status, output).
pub fn e2fsck(image: &Path, flag: &str) -> (i32, String) {
    let out = Command::new(tool("e2fsck")).arg(flag).arg(image).output().expect("run e2fsck");
    (common::status_code(out.status), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

pub fn assert_fsck_clean(image: &Path, what: &str) {
    let (status, text) = e2fsck(image, "-fn");
    assert_eq!(status, 0, "e2fsck -fn after {what} is not clean:\n{text}");
}

/// debugfs -R `request` on the image: its stdout.
pub fn debugfs(image: &Path, request: &str) -> Vec<u8> {
    let out = Command::new(tool("debugfs")).arg("-R").arg(request).arg(image).output().expect("run debugfs");
    out.stdout
}

/// `vkernel -m RAM -r IMAGE... -- ARGS`, with the fixed test environment.
pub fn vkernel_on(images: &[&Path], ram: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(common::VKERNEL);
    cmd.args(["-m", ram]);
    for i in images {
        cmd.arg("-r").arg(i);
    }
    cmd.arg("--").args(args).env_clear().envs(common::guest_env()).current_dir("/");
    cmd
}

pub fn run(cmd: Command, timeout: Duration) -> Outcome {
    common::run_with(cmd, &Input::Null, timeout)
}

/// A directory the native run may write (owned by nobody when we are root).
pub fn native_dir(scratch: &Scratch, name: &str) -> PathBuf {
    let dir = scratch.path(name);
    fs::create_dir_all(&dir).unwrap();
    if common::is_root() {
        std::os::unix::fs::chown(&dir, Some(NOBODY), Some(NOBODY)).unwrap();
    }
    dir
}

/// `program args` natively, as nobody when we are root (the native run
/// writes only in its scratch directory).
pub fn native(program: &Path, args: &[&str]) -> Command {
    let mut cmd = if common::is_root() {
        let mut c = Command::new("setpriv");
        c.args([format!("--reuid={NOBODY}"), format!("--regid={NOBODY}"), "--clear-groups".to_string(), "--".to_string()]).arg(program);
        c
    } else {
        Command::new(program)
    };
    cmd.args(args).env_clear().envs(common::guest_env()).current_dir("/");
    cmd
}

/// A small deterministic PRNG (xorshift64*).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// A tree of `files` files (sizes 0..20 KiB, a few modes) in nested
/// directories, with some symlinks and hard links, for tar.
pub fn make_tree(dir: &Path, files: usize, seed: u64) {
    let mut rng = Rng(seed);
    for i in 0..files {
        let sub = dir.join(format!("g{:02}/h{}", i % 23, i % 5));
        fs::create_dir_all(&sub).unwrap();
        let size = match i % 10 {
            0 => 0,
            1..=6 => rng.below(4096) as usize,
            _ => rng.below(20_000) as usize,
        };
        let data: Vec<u8> = (0..size).map(|_| rng.next() as u8).collect();
        let path = sub.join(format!("file-{i:05}"));
        fs::write(&path, &data).unwrap();
        let mode = [0o644, 0o600, 0o755, 0o640][i % 4];
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
        if i % 97 == 0 {
            symlink(format!("file-{i:05}"), sub.join(format!("link-{i:05}"))).unwrap();
        }
        if i % 131 == 0 {
            fs::hard_link(&path, sub.join(format!("hard-{i:05}"))).unwrap();
        }
    }
}

/// busybox tar -c of `dir`'s contents.
pub fn tar(dir: &Path, out: &Path) {
    let st = Command::new(common::BUSYBOX).args(["tar", "-c", "-f"]).arg(out).arg("-C").arg(dir).arg(".").status().expect("run busybox tar");
    assert!(st.success(), "tar -c failed");
    fs::set_permissions(out, fs::Permissions::from_mode(0o644)).unwrap();
}
