//! Tests against real images: the host's mkfs.ext4 builds them (from a
//! populated directory), the engine reads and changes them in memory, and
//! the host's e2fsck and debugfs judge the result.

mod crash;
mod fuzz;
mod read;
mod vfs;
mod write;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use super::*;
use crate::block::{BlockDevice, MemDisk};

/// A scratch directory removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(tag: &str) -> Scratch {
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!("vk-ext4-{}-{}-{}", std::process::id(), tag, N.fetch_add(1, Ordering::Relaxed)));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Scratch(p)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn tool(name: &str) -> PathBuf {
    for d in ["/usr/sbin", "/sbin", "/usr/bin", "/bin"] {
        let p = Path::new(d).join(name);
        if p.exists() {
            return p;
        }
    }
    PathBuf::from(name)
}

/// mkfs.ext4 `args` over a `size` image, populated from `from`; the image bytes.
pub fn mkfs(args: &[&str], size: &str, from: Option<&Path>) -> Vec<u8> {
    let s = Scratch::new("mkfs");
    let img = s.0.join("img");
    let mut c = Command::new(tool("mkfs.ext4"));
    c.arg("-q").arg("-F").args(args).env("MKE2FS_CONFIG", "/etc/mke2fs.conf");
    if let Some(d) = from {
        c.arg("-d").arg(d);
    }
    let out = c.arg(&img).arg(size).output().expect("mkfs.ext4 runs");
    assert!(out.status.success(), "mkfs.ext4 {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    std::fs::read(&img).unwrap()
}

/// e2fsck -fn: (clean?, its output).
pub fn fsck(image: &[u8]) -> (bool, String) {
    let s = Scratch::new("fsck");
    let img = s.0.join("img");
    std::fs::write(&img, image).unwrap();
    let out = Command::new(tool("e2fsck")).arg("-fn").arg(&img).output().expect("e2fsck runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

pub fn assert_clean(image: &[u8], what: &str) {
    let (ok, text) = fsck(image);
    assert!(ok, "e2fsck after {what}:\n{text}");
}

/// debugfs -R "cat PATH".
pub fn debugfs_cat(image: &[u8], path: &str) -> Vec<u8> {
    let s = Scratch::new("debugfs");
    let img = s.0.join("img");
    std::fs::write(&img, image).unwrap();
    let out = Command::new(tool("debugfs")).arg("-R").arg(format!("cat {path}")).arg(&img).output().expect("debugfs runs");
    out.stdout
}

pub fn disk(image: Vec<u8>) -> Arc<MemDisk> {
    MemDisk::from_bytes(image, false)
}

pub fn mount(d: &Arc<MemDisk>) -> Arc<Ext4> {
    let dev: Arc<dyn BlockDevice> = d.clone();
    Ext4::mount(dev, false).expect("mount")
}

/// Resolves an absolute path (no symlink following).
pub fn walk(fs: &Ext4, path: &str) -> KResult<u32> {
    let mut ino = fs.root();
    for part in path.split('/').filter(|p| !p.is_empty()) {
        ino = fs.lookup(ino, part.as_bytes())?;
    }
    Ok(ino)
}

pub fn read_all(fs: &Ext4, ino: u32) -> Vec<u8> {
    let size = fs.getattr(ino).unwrap().size as usize;
    let mut buf = vec![0u8; size];
    let n = fs.read(ino, 0, &mut buf).unwrap();
    assert_eq!(n, size);
    buf
}

pub fn names(fs: &Ext4, dir: u32) -> Vec<(Vec<u8>, u32, u8)> {
    let mut out = Vec::new();
    fs.readdir(dir, 0, &mut |e| {
        out.push((e.name.to_vec(), e.ino, e.dtype));
        true
    })
    .unwrap();
    out
}

/// A small deterministic PRNG (xorshift64*), for data and fuzzing.
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
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}
