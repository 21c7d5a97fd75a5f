//! Merged directory listings: the upper directory's entries (whiteouts
//! dropped), then the lower directory's that the upper neither has nor
//! hides, each name once. As Linux's ovl_dir_cache, an open directory
//! lists a snapshot taken when it is read from offset 0, and offsets are
//! positions in it, so entries created, removed or copied up while a
//! program walks the directory never show twice.

use parking_lot::Mutex;
use std::collections::HashSet;
use std::sync::Arc;

use super::{Found, OvlInode};
use crate::abi::fcntl::{SEEK_CUR, SEEK_SET};
use crate::abi::stat::S_IFDIR;
use crate::abi::{Errno, KResult};
use crate::fs::file::{File, FileOps};
use crate::fs::inode::{DirEntry, dtype_of_mode};

/// One listed entry: name, inode number, d_type.
pub(super) struct Listed {
    name: Vec<u8>,
    ino: u64,
    dtype: u8,
}

impl OvlInode {
    /// The directory's merged listing now, "." and ".." first.
    pub(super) fn snapshot(self: &Arc<Self>) -> KResult<Vec<Listed>> {
        if !self.is_dir {
            return Err(Errno::ENOTDIR);
        }
        let _ns = self.fs.namespace.read();
        let parent = self.state.lock().parent.clone();
        let own = self.ino()?;
        let up = match &parent {
            Some(p) => p.ino()?,
            None => own,
        };
        let dir_type = dtype_of_mode(S_IFDIR);
        let mut out = vec![Listed { name: b".".to_vec(), ino: own, dtype: dir_type }, Listed { name: b"..".to_vec(), ino: up, dtype: dir_type }];
        let upper_names = self.upper_names()?;
        let mut seen: HashSet<Vec<u8>> = HashSet::new();
        for name in upper_names {
            if let Found::Entry(p) = self.find(&name)? {
                let md = p.upper.as_ref().ok_or(Errno::EIO)?.metadata()?;
                let ino = self.parts_ino(p.upper.as_ref(), p.lower.as_ref(), p.origin, p.is_dir)?;
                out.push(Listed { name: name.clone(), ino, dtype: dtype_of_mode(md.mode) });
            }
            seen.insert(name);
        }
        if let Some(lower) = self.lower() {
            let dev = lower.metadata()?.dev;
            let mut entries = Vec::new();
            lower.readdir(0, &mut |e| {
                if e.name != b"." && e.name != b".." && !seen.contains(e.name) {
                    entries.push((e.name.to_vec(), e.ino, e.dtype));
                }
                true
            })?;
            for (name, ino, dtype) in entries {
                out.push(Listed { name, ino: self.fs.map_lower(dev, ino), dtype });
            }
        }
        Ok(out)
    }
}

/// Sends the entries from position `offset` on.
pub(super) fn emit(entries: &[Listed], offset: u64, sink: &mut dyn FnMut(DirEntry<'_>) -> bool) -> u64 {
    let mut pos = offset;
    for (i, e) in entries.iter().enumerate().skip(offset.min(usize::MAX as u64) as usize) {
        if !sink(DirEntry { ino: e.ino, dtype: e.dtype, name: &e.name, next_offset: i as u64 + 1 }) {
            break;
        }
        pos = i as u64 + 1;
    }
    pos
}

/// An open overlay directory: its snapshot.
pub(super) struct OvlDirFile {
    node: Arc<OvlInode>,
    snapshot: Mutex<Option<Arc<Vec<Listed>>>>,
}

impl OvlDirFile {
    pub(super) fn new(node: Arc<OvlInode>) -> OvlDirFile {
        OvlDirFile { node, snapshot: Mutex::new(None) }
    }
}

impl FileOps for OvlDirFile {
    fn read(&self, _file: &File, _buf: &mut [u8], _pos: &mut u64) -> KResult<usize> {
        Err(Errno::EISDIR)
    }
    fn write(&self, _file: &File, _buf: &[u8], _pos: &mut u64) -> KResult<usize> {
        Err(Errno::EISDIR)
    }
    /// SEEK_SET and SEEK_CUR only, as any directory (Linux: ovl_dir_llseek).
    fn llseek(&self, _file: &File, pos: &mut u64, offset: i64, whence: u32) -> KResult<u64> {
        let new = match whence {
            SEEK_SET => offset as i128,
            SEEK_CUR => *pos as i128 + offset as i128,
            _ => return Err(Errno::EINVAL),
        };
        if new < 0 || new > i64::MAX as i128 {
            return Err(Errno::EINVAL);
        }
        *pos = new as u64;
        Ok(*pos)
    }
    fn readdir(&self, _file: &File, pos: &mut u64, sink: &mut dyn FnMut(DirEntry<'_>) -> bool) -> KResult<()> {
        let snapshot = {
            let mut cached = self.snapshot.lock();
            match cached.as_ref() {
                Some(s) if *pos != 0 => s.clone(),
                _ => {
                    let fresh = Arc::new(self.node.snapshot()?);
                    *cached = Some(fresh.clone());
                    fresh
                }
            }
        };
        *pos = emit(&snapshot, *pos, sink);
        Ok(())
    }
}
