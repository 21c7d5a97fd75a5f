//! devpts: /dev/pts, one character device node per pty whose master is
//! open (136:N, named N) and `ptmx` (5:2). The pty driver adds a node when
//! a master opens and removes it when the master closes; opening a node
//! reaches the driver by number. There is one instance, mounted by boot at
//! /dev/pts with Linux's default options (mode=600, ptmxmode=000).

use parking_lot::Mutex;
use std::any::Any;
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use crate::abi::stat::{S_IFCHR, S_IFDIR};
use crate::abi::statfs::DEVPTS_MAGIC;
use crate::abi::{Errno, KResult, StatFs, Timespec};
use crate::fs::inode::{DirEntry, Inode, InodeRef, Metadata, SetAttr};
use crate::fs::path::{MountTable, Path, WalkContext, walk};
use crate::fs::{make_dev, new_anon_dev, now};

/// A slave node's permissions (grantpt changes them).
#[derive(Clone, Copy)]
struct Slave {
    mode: u32,
    uid: u32,
    gid: u32,
}

/// The slave nodes that exist: one per pty whose master is open.
static SLAVES: Mutex<BTreeMap<u32, Slave>> = Mutex::new(BTreeMap::new());

/// A pty master opened: /dev/pts/`index` appears, owned by the opener.
pub fn add_slave(index: u32, uid: u32, gid: u32, mode: u32) {
    SLAVES.lock().insert(index, Slave { mode, uid, gid });
}

/// The master closed: the node goes.
pub fn remove_slave(index: u32) {
    SLAVES.lock().remove(&index);
}

fn slave(index: u32) -> KResult<Slave> {
    SLAVES.lock().get(&index).copied().ok_or(Errno::ENOENT)
}

const ROOT_INO: u64 = 1;
const PTMX_INO: u64 = 2;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Node {
    Root,
    Ptmx,
    Slave(u32),
}

struct DevPts {
    dev: u64,
    mounted: Timespec,
}

fn instance() -> &'static DevPts {
    static FS: OnceLock<DevPts> = OnceLock::new();
    FS.get_or_init(|| DevPts { dev: new_anon_dev(), mounted: now() })
}

pub struct DevPtsInode {
    node: Node,
}

/// The devpts root, for boot to mount at /dev/pts.
pub fn new_devpts() -> InodeRef {
    Arc::new(DevPtsInode { node: Node::Root })
}

/// The slave node of pty `index`, with its path when the caller's root
/// reaches /dev/pts/N (for /proc/<pid>/fd and ttyname).
pub fn slave_path(root: &Path, mounts: &MountTable, index: u32) -> (InodeRef, Option<Path>) {
    let search = |_: &dyn Inode, _: &Metadata| Ok(());
    let cx = WalkContext { mounts, root, start: root, may_search: &search };
    match walk(&cx, format!("/dev/pts/{index}").as_bytes(), true) {
        Ok(p) if p.inode().as_any().downcast_ref::<DevPtsInode>().is_some_and(|i| i.node == Node::Slave(index)) => (p.inode().clone(), Some(p)),
        _ => (Arc::new(DevPtsInode { node: Node::Slave(index) }), None),
    }
}

fn ino_of(node: Node) -> u64 {
    match node {
        Node::Root => ROOT_INO,
        Node::Ptmx => PTMX_INO,
        // Linux: the slave inode number is its index + 3.
        Node::Slave(n) => n as u64 + 3,
    }
}

impl Inode for DevPtsInode {
    fn metadata(&self) -> KResult<Metadata> {
        let fs = instance();
        let (mode, nlink, uid, gid, rdev) = match self.node {
            Node::Root => (S_IFDIR | 0o755, 2, 0, 0, 0),
            Node::Ptmx => (S_IFCHR, 1, 0, 0, make_dev(5, 2)),
            Node::Slave(n) => {
                let st = slave(n)?;
                (S_IFCHR | st.mode, 1, st.uid, st.gid, make_dev(136, n))
            }
        };
        Ok(Metadata {
            dev: fs.dev,
            ino: ino_of(self.node),
            mode,
            nlink,
            uid,
            gid,
            rdev,
            size: 0,
            blksize: 1024,
            blocks: 0,
            atime: fs.mounted,
            mtime: fs.mounted,
            ctime: fs.mounted,
        })
    }

    fn statfs(&self) -> KResult<StatFs> {
        Ok(StatFs { f_type: DEVPTS_MAGIC, f_bsize: 4096, f_namelen: 255, f_frsize: 4096, ..Default::default() })
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn lookup(&self, name: &[u8]) -> KResult<InodeRef> {
        if self.node != Node::Root {
            return Err(Errno::ENOTDIR);
        }
        if name == b"ptmx" {
            return Ok(Arc::new(DevPtsInode { node: Node::Ptmx }));
        }
        let index = std::str::from_utf8(name).ok().filter(|s| !s.starts_with('0') || s.len() == 1).and_then(|s| s.parse::<u32>().ok()).ok_or(Errno::ENOENT)?;
        slave(index)?;
        Ok(Arc::new(DevPtsInode { node: Node::Slave(index) }))
    }

    fn create(&self, _name: &[u8], _mode: u32, _rdev: u64, _uid: u32, _gid: u32) -> KResult<InodeRef> {
        if self.node == Node::Root { Err(Errno::EACCES) } else { Err(Errno::ENOTDIR) }
    }

    fn readdir(&self, offset: u64, sink: &mut dyn FnMut(DirEntry<'_>) -> bool) -> KResult<()> {
        if self.node != Node::Root {
            return Err(Errno::ENOTDIR);
        }
        // Offsets: 0 ".", 1 "..", 2 "ptmx", then 3 + index.
        let fixed: [(&[u8], u64, u8); 3] = [(b".", ROOT_INO, 4), (b"..", ROOT_INO, 4), (b"ptmx", PTMX_INO, 2)];
        for (i, &(name, ino, dtype)) in fixed.iter().enumerate() {
            if offset <= i as u64 && !sink(DirEntry { ino, dtype, name, next_offset: i as u64 + 1 }) {
                return Ok(());
            }
        }
        let indices: Vec<u32> = SLAVES.lock().keys().copied().collect();
        for index in indices {
            let cookie = index as u64 + 3;
            if cookie < offset {
                continue;
            }
            let name = index.to_string();
            if !sink(DirEntry { ino: cookie, dtype: 2, name: name.as_bytes(), next_offset: cookie + 1 }) {
                break;
            }
        }
        Ok(())
    }

    /// chmod/chown of a slave node (grantpt); the root and ptmx keep theirs.
    fn setattr(&self, attr: &SetAttr) -> KResult<()> {
        let Node::Slave(n) = self.node else { return Err(Errno::EPERM) };
        let mut slaves = SLAVES.lock();
        let st = slaves.get_mut(&n).ok_or(Errno::ENOENT)?;
        if let Some(mode) = attr.mode {
            st.mode = mode & 0o7777;
        }
        if let Some(uid) = attr.uid {
            st.uid = uid;
        }
        if let Some(gid) = attr.gid {
            st.gid = gid;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devpts_root_lists_ptmx_and_rejects_unknown_names() {
        let root = new_devpts();
        let mut names = Vec::new();
        root.readdir(0, &mut |e| {
            names.push(String::from_utf8_lossy(e.name).into_owned());
            true
        })
        .unwrap();
        assert_eq!(&names[..3], [".", "..", "ptmx"]);
        let ptmx = root.lookup(b"ptmx").unwrap().metadata().unwrap();
        assert_eq!((crate::fs::dev_major(ptmx.rdev), crate::fs::dev_minor(ptmx.rdev), ptmx.mode), (5, 2, S_IFCHR));
        assert_eq!(root.lookup(b"4000").err(), Some(Errno::ENOENT));
        assert_eq!(root.lookup(b"01").err(), Some(Errno::ENOENT));
        assert_eq!(root.statfs().unwrap().f_type, DEVPTS_MAGIC);
    }
}
