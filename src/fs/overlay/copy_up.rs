//! Copy-up: a lower object becomes an upper one with the same data, mode,
//! owner, times and xattrs (Linux: fs/overlayfs/copy_up.c). The copy is
//! built in the work directory without the namespace lock, then renamed
//! into its parent's upper directory under it, so a half-made copy is
//! never seen and a full upper layer fails before anything changes. The
//! node's own lock makes concurrent copy-ups of one object wait for the
//! first.

use std::sync::Arc;

use super::{ORIGIN, OvlInode, encode_origin, is_private};
use crate::abi::fcntl::RENAME_NOREPLACE;
use crate::abi::stat::{S_IFCHR, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG};
use crate::abi::{Errno, KResult};
use crate::fs::inode::{InodeRef, SetAttr};

/// Bytes copied per step; all-zero chunks are left as holes.
const CHUNK: usize = 128 * 1024;

impl OvlInode {
    /// The node's upper inode, copying it (and first its parents) up if it
    /// has none yet; `with_data` false copies a regular file's metadata
    /// only (it is about to be truncated to zero).
    pub(super) fn copy_up(self: &Arc<Self>, with_data: bool) -> KResult<InodeRef> {
        if let Some(u) = self.upper() {
            return Ok(u);
        }
        let Some(parent) = self.state.lock().parent.clone() else {
            // The root's upper directory exists from the start (with the
            // lower root's attributes); it only joins the node now.
            let mut st = self.state.lock();
            return Ok(st.upper.get_or_insert_with(|| self.fs.upper_root.clone()).clone());
        };
        parent.copy_up(true)?;
        let _copying = self.copy_lock.lock();
        let (upper, lower, removed) = {
            let st = self.state.lock();
            (st.upper.clone(), st.lower.clone(), st.removed)
        };
        if let Some(u) = upper {
            return Ok(u);
        }
        if removed {
            return Err(Errno::ENOENT);
        }
        let lower = lower.ok_or(Errno::EIO)?;
        let md = lower.metadata()?;
        let work = &self.fs.work;
        let temp = self.fs.temp_name();
        let is_dir = md.is_dir();
        let copy = match md.mode & S_IFMT {
            S_IFDIR | S_IFREG => work.create(&temp, md.mode, 0, md.uid, md.gid)?,
            S_IFLNK => work.symlink(&temp, &lower.readlink()?, md.uid, md.gid)?,
            // A lower char device 0:0 would read as a whiteout up here.
            S_IFCHR if md.rdev == 0 => return Err(Errno::EPERM),
            _ => work.create(&temp, md.mode, md.rdev, md.uid, md.gid)?,
        };
        let prepared = (|| {
            if md.mode & S_IFMT == S_IFREG && with_data {
                copy_data(&lower, &copy, md.size)?;
            }
            copy_xattrs(&lower, &copy);
            copy.setxattr(ORIGIN, &encode_origin(&md), 0)?;
            copy.setattr(&SetAttr { atime: Some(md.atime), mtime: Some(md.mtime), ..Default::default() })
        })();
        if let Err(e) = prepared {
            self.fs.discard(&temp, is_dir);
            return Err(e);
        }
        let _ns = self.fs.namespace.write();
        let (parent, name, removed) = {
            let st = self.state.lock();
            (st.parent.clone(), st.name.clone(), st.removed)
        };
        let placed = (|| {
            if removed {
                return Err(Errno::ENOENT);
            }
            let pu = parent.and_then(|p| p.upper()).ok_or(Errno::EIO)?;
            // The parent's times stay what the guest saw (Linux restores them too).
            let pmd = pu.metadata()?;
            work.rename(&temp, &pu, &name, RENAME_NOREPLACE)?;
            let _ = pu.setattr(&SetAttr { atime: Some(pmd.atime), mtime: Some(pmd.mtime), ..Default::default() });
            Ok(())
        })();
        if let Err(e) = placed {
            self.fs.discard(&temp, is_dir);
            return Err(e);
        }
        let mut st = self.state.lock();
        st.upper = Some(copy.clone());
        // A non-directory's lower object is only its origin now (recorded);
        // letting it go closes its host fd.
        if !is_dir {
            st.lower = None;
        }
        Ok(copy)
    }
}

fn copy_data(from: &InodeRef, to: &InodeRef, size: u64) -> KResult<()> {
    let mut buf = vec![0u8; CHUNK];
    let mut offset = 0u64;
    while offset < size {
        let want = (size - offset).min(CHUNK as u64) as usize;
        let n = from.read_at(offset, &mut buf[..want])?;
        if n == 0 {
            break;
        }
        if buf[..n].iter().any(|&b| b != 0) {
            let mut done = 0;
            while done < n {
                done += to.write_at(offset + done as u64, &buf[done..n])?;
            }
        }
        offset += n as u64;
    }
    // Trailing holes end where the lower file does.
    to.setattr(&SetAttr { size: Some(size), ..Default::default() })
}

/// Every attribute the upper layer takes, POSIX ACLs included (as
/// ovl_copy_xattr); a lower layer's own overlay markers are left behind.
fn copy_xattrs(from: &InodeRef, to: &InodeRef) {
    for name in from.listxattr().unwrap_or_default() {
        if is_private(&name) {
            continue;
        }
        if let Ok(value) = from.getxattr(&name) {
            let _ = to.setxattr(&name, &value, 0);
        }
    }
}
