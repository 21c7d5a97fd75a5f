//! sysfs, minimal: the block devices as Linux lays them out, for the tools
//! that read them (lsblk, fdisk, blkid, mkfs): /sys/block/<disk> and
//! /sys/class/block/<dev> and /sys/dev/block/<major>:<minor> link to
//! /sys/devices/virtual/block/<disk>[/<partition>], which hold dev, size,
//! ro, removable, range, start, partition, uevent and queue/ limits. Every
//! read is generated from fs::blkdev's nodes, so a re-read partition table
//! shows at once. Read-only: opening a file for writing is EACCES, as
//! kernfs answers for an attribute without a store method.

use std::sync::Arc;

use crate::abi::stat::{S_IFDIR, S_IFLNK, S_IFMT, S_IFREG};
use crate::abi::{Errno, KResult, StatFs, Timespec};
use crate::block::registry::{BlockNode, DiskKind};
use crate::fs::file::FileOps;
use crate::fs::inode::{DirEntry, Inode, InodeRef, Metadata};

/// statfs f_type (Linux's SYSFS_MAGIC).
const SYSFS_MAGIC: i64 = 0x6265_6572;

enum Kind {
    Dir(Vec<(String, u8)>),
    File(Vec<u8>),
    Link(String),
}

const DT_DIR: u8 = 4;
const DT_REG: u8 = 8;
const DT_LNK: u8 = 10;

fn dirs(names: &[&str]) -> Kind {
    Kind::Dir(names.iter().map(|n| (n.to_string(), DT_DIR)).collect())
}

fn nodes() -> Vec<Arc<BlockNode>> {
    crate::fs::blkdev::all_nodes()
}

/// `vda` or `vda/vda1`: where a node lives below devices/virtual/block.
fn device_path(n: &BlockNode) -> String {
    if n.partition == 0 { n.name.clone() } else { format!("{}/{}", n.disk_name, n.name) }
}

fn line(v: impl std::fmt::Display) -> Kind {
    Kind::File(format!("{v}\n").into_bytes())
}

const DISK_ATTRS: &[&str] = &["alignment_offset", "dev", "discard_alignment", "ext_range", "hidden", "range", "removable", "ro", "size", "uevent"];
const PART_ATTRS: &[&str] = &["alignment_offset", "dev", "discard_alignment", "partition", "ro", "size", "start", "uevent"];
const QUEUE_ATTRS: &[&str] = &[
    "discard_granularity",
    "discard_max_bytes",
    "hw_sector_size",
    "logical_block_size",
    "max_sectors_kb",
    "minimum_io_size",
    "nr_requests",
    "optimal_io_size",
    "physical_block_size",
    "read_ahead_kb",
    "rotational",
    "scheduler",
    "zoned",
];

fn attribute(n: &BlockNode, attr: &str) -> Option<Kind> {
    let disk = n.partition == 0;
    Some(match attr {
        "dev" => line(format!("{}:{}", n.major, n.minor)),
        "size" => line(n.sectors()),
        "ro" => line(n.read_only() as u8),
        "alignment_offset" | "discard_alignment" => line(0),
        "uevent" => {
            let kind = if disk { "disk".to_string() } else { format!("partition\nPARTN={}", n.partition) };
            Kind::File(format!("MAJOR={}\nMINOR={}\nDEVNAME={}\nDEVTYPE={kind}\n", n.major, n.minor, n.name).into_bytes())
        }
        "removable" if disk => line((n.kind == DiskKind::Cdrom) as u8),
        "hidden" if disk => line(0),
        "range" if disk => line(if n.kind == DiskKind::Cdrom { 1 } else { crate::block::registry::VIRTIO_MINORS }),
        "ext_range" if disk => line(if n.kind == DiskKind::Cdrom { 1 } else { crate::block::partition::MAX_PARTITIONS }),
        "start" if !disk => line(n.start_sector),
        "partition" if !disk => line(n.partition),
        _ => return None,
    })
}

fn queue_attribute(n: &BlockNode, attr: &str) -> Option<Kind> {
    let cd = n.kind == DiskKind::Cdrom;
    Some(match attr {
        "logical_block_size" | "hw_sector_size" => line(n.logical_block_size),
        "physical_block_size" | "minimum_io_size" => line(n.physical_block_size),
        "optimal_io_size" => line(0),
        // Disks take BLKDISCARD (holes in the image); CD-ROMs do not.
        "discard_granularity" => line(if cd { 0 } else { 512 }),
        "discard_max_bytes" => line(if cd { 0 } else { 1u64 << 30 }),
        "max_sectors_kb" => line(1024),
        "nr_requests" => line(256),
        "read_ahead_kb" => line(128),
        "rotational" => line(1),
        "scheduler" => line("[none]"),
        "zoned" => line("none"),
        _ => return None,
    })
}

fn file_list(names: &[&str]) -> Vec<(String, u8)> {
    names.iter().map(|n| (n.to_string(), DT_REG)).collect()
}

/// What lives at `parts` under /sys.
fn lookup_path(parts: &[&str]) -> Option<Kind> {
    let all = nodes();
    let find = |name: &str| all.iter().find(|n| n.name == name).cloned();
    Some(match parts {
        [] => dirs(&["block", "bus", "class", "dev", "devices", "fs", "kernel"]),
        ["bus"] | ["fs"] | ["kernel"] => Kind::Dir(Vec::new()),
        ["block"] => Kind::Dir(all.iter().filter(|n| n.partition == 0).map(|n| (n.name.clone(), DT_LNK)).collect()),
        ["block", d] => {
            let n = find(d).filter(|n| n.partition == 0)?;
            Kind::Link(format!("../devices/virtual/block/{}", device_path(&n)))
        }
        ["class"] => dirs(&["block"]),
        ["class", "block"] => Kind::Dir(all.iter().map(|n| (n.name.clone(), DT_LNK)).collect()),
        ["class", "block", d] => Kind::Link(format!("../../devices/virtual/block/{}", device_path(&*find(d)?))),
        ["dev"] => dirs(&["block", "char"]),
        ["dev", "char"] => Kind::Dir(Vec::new()),
        ["dev", "block"] => Kind::Dir(all.iter().map(|n| (format!("{}:{}", n.major, n.minor), DT_LNK)).collect()),
        ["dev", "block", numbers] => {
            let n = all.iter().find(|n| format!("{}:{}", n.major, n.minor) == *numbers)?;
            Kind::Link(format!("../../devices/virtual/block/{}", device_path(n)))
        }
        ["devices"] => dirs(&["system", "virtual"]),
        // The CPU lists glibc's sysconf and get_nprocs_conf read (the
        // host's own: the guest runs on its CPUs).
        ["devices", "system"] => dirs(&["cpu"]),
        ["devices", "system", "cpu"] => {
            let mut entries: Vec<(String, u8)> = (0..crate::platform::host::system::possible_cpus()).map(|n| (format!("cpu{n}"), DT_DIR)).collect();
            entries.extend(file_list(&["online", "possible", "present"]));
            Kind::Dir(entries)
        }
        ["devices", "system", "cpu", list @ ("online" | "possible" | "present")] => Kind::File(crate::platform::host::system::cpu_list(list).into_bytes()),
        ["devices", "system", "cpu", cpu]
            if cpu.strip_prefix("cpu").and_then(|n| n.parse::<usize>().ok()).is_some_and(|n| n < crate::platform::host::system::possible_cpus()) =>
        {
            Kind::Dir(Vec::new())
        }
        ["devices", "virtual"] => dirs(&["block"]),
        ["devices", "virtual", "block"] => Kind::Dir(all.iter().filter(|n| n.partition == 0).map(|n| (n.name.clone(), DT_DIR)).collect()),
        ["devices", "virtual", "block", d, rest @ ..] => {
            let disk = find(d).filter(|n| n.partition == 0)?;
            let partitions: Vec<&Arc<BlockNode>> = all.iter().filter(|n| n.partition != 0 && n.disk_name == disk.name).collect();
            match rest {
                [] => {
                    let mut v = file_list(DISK_ATTRS);
                    v.extend(["holders", "queue", "slaves"].iter().map(|s| (s.to_string(), DT_DIR)));
                    v.extend(partitions.iter().map(|p| (p.name.clone(), DT_DIR)));
                    Kind::Dir(v)
                }
                ["holders"] | ["slaves"] => Kind::Dir(Vec::new()),
                ["queue"] => Kind::Dir(file_list(QUEUE_ATTRS)),
                ["queue", a] => queue_attribute(&disk, a)?,
                [p, rest @ ..] if partitions.iter().any(|x| x.name == *p) => {
                    let part = find(p)?;
                    match rest {
                        [] => {
                            let mut v = file_list(PART_ATTRS);
                            v.push(("holders".to_string(), DT_DIR));
                            Kind::Dir(v)
                        }
                        ["holders"] => Kind::Dir(Vec::new()),
                        [a] => attribute(&part, a)?,
                        _ => return None,
                    }
                }
                [a] => attribute(&disk, a)?,
                _ => return None,
            }
        }
        _ => return None,
    })
}

struct SysFs {
    dev: u64,
    mounted: Timespec,
}

/// One node of /sys, named by its path.
struct SysInode {
    fs: Arc<SysFs>,
    path: Vec<String>,
}

/// A new sysfs instance (boot mounts one on /sys).
pub fn new_sysfs() -> InodeRef {
    Arc::new(SysInode { fs: Arc::new(SysFs { dev: crate::fs::new_anon_dev(), mounted: crate::fs::now() }), path: Vec::new() })
}

/// FNV-1a of the path: stable inode numbers without a table.
fn ino_of(path: &[String]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in path {
        for b in p.bytes().chain(std::iter::once(b'/')) {
            h ^= b as u64;
            h = h.wrapping_mul(0x100_0000_01b3);
        }
    }
    h >> 1 | 1
}

impl SysInode {
    fn kind(&self) -> KResult<Kind> {
        let parts: Vec<&str> = self.path.iter().map(|s| s.as_str()).collect();
        lookup_path(&parts).ok_or(Errno::ENOENT)
    }
}

impl Inode for SysInode {
    fn metadata(&self) -> KResult<Metadata> {
        let (mode, size, nlink) = match self.kind()? {
            Kind::Dir(_) => (S_IFDIR | 0o755, 0, 2),
            Kind::File(_) => (S_IFREG | 0o444, 4096, 1),
            Kind::Link(t) => (S_IFLNK | 0o777, t.len() as u64, 1),
        };
        let t = self.fs.mounted;
        Ok(Metadata {
            dev: self.fs.dev,
            ino: ino_of(&self.path),
            mode,
            nlink,
            uid: 0,
            gid: 0,
            rdev: 0,
            size,
            blksize: 4096,
            blocks: 0,
            atime: t,
            mtime: t,
            ctime: t,
        })
    }

    fn statfs(&self) -> KResult<StatFs> {
        Ok(StatFs { f_type: SYSFS_MAGIC, f_bsize: 4096, f_namelen: 255, f_frsize: 4096, ..Default::default() })
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn lookup(&self, name: &[u8]) -> KResult<InodeRef> {
        let Kind::Dir(entries) = self.kind()? else { return Err(Errno::ENOTDIR) };
        let name = std::str::from_utf8(name).map_err(|_| Errno::ENOENT)?;
        if !entries.iter().any(|(n, _)| n == name) {
            return Err(Errno::ENOENT);
        }
        let mut path = self.path.clone();
        path.push(name.to_string());
        Ok(Arc::new(SysInode { fs: self.fs.clone(), path }))
    }

    fn readdir(&self, offset: u64, sink: &mut dyn FnMut(DirEntry<'_>) -> bool) -> KResult<()> {
        let Kind::Dir(entries) = self.kind()? else { return Err(Errno::ENOTDIR) };
        let me = ino_of(&self.path);
        let parent = ino_of(&self.path[..self.path.len().saturating_sub(1)]);
        let mut all: Vec<(u64, u8, Vec<u8>)> = vec![(me, DT_DIR, b".".to_vec()), (parent, DT_DIR, b"..".to_vec())];
        for (name, dtype) in entries {
            let mut p = self.path.clone();
            p.push(name.clone());
            all.push((ino_of(&p), dtype, name.into_bytes()));
        }
        for (i, (ino, dtype, name)) in all.iter().enumerate().skip(offset as usize) {
            if !sink(DirEntry { ino: *ino, dtype: *dtype, name, next_offset: i as u64 + 1 }) {
                break;
            }
        }
        Ok(())
    }

    fn readlink(&self) -> KResult<Vec<u8>> {
        match self.kind()? {
            Kind::Link(t) => Ok(t.into_bytes()),
            _ => Err(Errno::EINVAL),
        }
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> KResult<usize> {
        match self.kind()? {
            Kind::File(data) => {
                let start = (offset as usize).min(data.len());
                let n = buf.len().min(data.len() - start);
                buf[..n].copy_from_slice(&data[start..start + n]);
                Ok(n)
            }
            Kind::Dir(_) => Err(Errno::EISDIR),
            Kind::Link(_) => Err(Errno::EINVAL),
        }
    }

    /// kernfs keeps attribute changes in memory only; a truncation (from
    /// O_TRUNC) is accepted so that the open itself answers EACCES.
    fn setattr(&self, attr: &crate::fs::inode::SetAttr) -> KResult<()> {
        if attr.mode.is_some() || attr.uid.is_some() || attr.gid.is_some() { Err(Errno::EPERM) } else { Ok(()) }
    }

    fn open(&self, flags: u32) -> KResult<Option<Arc<dyn FileOps>>> {
        use crate::abi::fcntl::{O_ACCMODE, O_RDONLY};
        let md = self.metadata()?;
        if md.mode & S_IFMT == S_IFREG && flags & O_ACCMODE != O_RDONLY {
            return Err(Errno::EACCES);
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_top_level_lists_and_missing_disks_are_enoent() {
        let root = new_sysfs();
        let mut names = Vec::new();
        root.readdir(0, &mut |e| {
            names.push(String::from_utf8_lossy(e.name).into_owned());
            true
        })
        .unwrap();
        assert!(names.contains(&"block".to_string()) && names.contains(&"devices".to_string()));
        let block = root.lookup(b"block").unwrap();
        assert_eq!(block.lookup(b"nosuchdisk").err(), Some(Errno::ENOENT));
        assert_eq!(root.lookup(b"dev").unwrap().lookup(b"block").unwrap().metadata().unwrap().mode & S_IFMT, S_IFDIR);
    }
}
