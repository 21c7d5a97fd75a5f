//! Anonymous-inode files (Linux's fs/anon_inodes.c and the files built on
//! it): eventfd, timerfd, signalfd and inotify instances, each a `FileOps`
//! with exact readiness (a wait queue woken on every change and an event
//! count for edge-triggered epoll). They share one inode on anon_inodefs.
//! Called by syscall/event.rs; never names the task layer (signalfd reaches
//! the caller's signals through `sched::CurrentTask`).

pub mod eventfd;
pub mod inotify;
pub mod signalfd;
pub mod timerfd;

use std::any::Any;
use std::sync::{Arc, OnceLock};

use crate::abi::statfs::ANON_INODE_FS_MAGIC;
use crate::abi::{Errno, KResult, PAGE_SIZE, StatFs};
use crate::fs::file::{File, FileOps};
use crate::fs::inode::{Inode, InodeRef, Metadata};
use crate::fs::{new_anon_dev, now};

/// The inode every anonymous file reports: one shared inode number on
/// anon_inodefs, mode 0600 with no file type bits, and the name
/// /proc/<pid>/fd shows ("anon_inode:[eventfd]").
pub struct AnonInode {
    link: String,
    mode: u32,
}

fn anon_inodefs() -> (u64, crate::abi::Timespec) {
    static FS: OnceLock<(u64, crate::abi::Timespec)> = OnceLock::new();
    *FS.get_or_init(|| (new_anon_dev(), now()))
}

impl Inode for AnonInode {
    fn metadata(&self) -> KResult<Metadata> {
        let (dev, t) = anon_inodefs();
        Ok(Metadata { dev, ino: 1, mode: self.mode, nlink: 1, blksize: PAGE_SIZE, atime: t, mtime: t, ctime: t, ..Default::default() })
    }

    fn statfs(&self) -> KResult<StatFs> {
        Ok(StatFs { f_type: ANON_INODE_FS_MAGIC, f_bsize: PAGE_SIZE as i64, f_namelen: 255, f_frsize: PAGE_SIZE as i64, ..Default::default() })
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn link_name(&self) -> Option<Vec<u8>> {
        Some(self.link.as_bytes().to_vec())
    }
}

/// A cached inode per name, so every eventfd shares one inode object.
fn shared_inode(name: &'static str) -> InodeRef {
    static INODES: OnceLock<parking_lot::Mutex<Vec<(&'static str, InodeRef)>>> = OnceLock::new();
    let mut inodes = INODES.get_or_init(Default::default).lock();
    if let Some((_, i)) = inodes.iter().find(|(n, _)| *n == name) {
        return i.clone();
    }
    // inotify's name has no brackets and a pidfd's mode is 0700, as on Linux.
    let (link, mode) = match name {
        "inotify" => ("anon_inode:inotify".to_string(), 0o600),
        "pidfd" => ("anon_inode:[pidfd]".to_string(), 0o700),
        _ => (format!("anon_inode:[{name}]"), 0o600),
    };
    let inode: InodeRef = Arc::new(AnonInode { link, mode });
    inodes.push((name, inode.clone()));
    inode
}

/// A new anonymous file named `name` (Linux's anon_inode_getfile).
pub fn anon_file(name: &'static str, ops: Arc<dyn FileOps>, flags: u32) -> Arc<File> {
    File::new(shared_inode(name), None, ops, flags)
}

/// The `FileOps` behind `file` if it is of type `T` (an eventfd for
/// eventfd's callers, a timerfd for timerfd_settime).
pub fn ops_of<T: 'static>(file: &File) -> KResult<&T> {
    file.ops.as_any().and_then(|a| a.downcast_ref::<T>()).ok_or(Errno::EINVAL)
}

/// Reads a u64 from the front of a write buffer (eventfd, TFD_IOC_SET_TICKS).
fn u64_from(buf: &[u8]) -> KResult<u64> {
    let bytes: [u8; 8] = buf.get(..8).and_then(|b| b.try_into().ok()).ok_or(Errno::EINVAL)?;
    Ok(u64::from_ne_bytes(bytes))
}
