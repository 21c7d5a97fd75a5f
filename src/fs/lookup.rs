//! Path resolution on behalf of a task: `*at` semantics (dirfd, AT_FDCWD,
//! AT_EMPTY_PATH) and permission checks (Linux's generic_permission, with
//! uid 0 holding CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH).

use crate::abi::fcntl::AT_FDCWD;
use crate::abi::stat::{S_IFDIR, S_IFLNK, S_IFMT};
use crate::abi::{Errno, KResult};
use crate::fs::inode::{Inode, Metadata};
use crate::fs::path::{self, Path, WalkContext};
use std::sync::Arc;

use crate::fs::FsContext;
use crate::fs::file::File;
use crate::fs::path::MountTable;
use crate::sched::Creds;

/// The calling task as path resolution sees it: its root, cwd and umask,
/// its open files (for dirfds), its credentials and its mount tree. The
/// task layer implements it.
pub trait FsCaller {
    fn fs(&self) -> parking_lot::ArcMutexGuard<parking_lot::RawMutex, FsContext>;
    fn file(&self, fd: i32) -> KResult<Arc<File>>;
    fn creds(&self) -> Creds;
    fn mounts(&self) -> &MountTable;
}

pub const MAY_EXEC: u32 = 1;
pub const MAY_WRITE: u32 = 2;
pub const MAY_READ: u32 = 4;

/// DAC check of `mask` (MAY_*) against an inode's mode, owner and access
/// ACL (Linux's generic_permission and acl_permission_check): the owner
/// gets the owner bits; with an ACL (consulted only when the group class
/// has some bits, as Linux does) the ACL decides for everyone else;
/// without one, the group or other bits.
pub fn may_access(creds: &Creds, inode: &dyn Inode, md: &Metadata, mask: u32) -> KResult<()> {
    let mode = md.mode;
    if creds.is_root() {
        // Root may do anything except execute a file with no x bit at all.
        if mask & MAY_EXEC != 0 && md.mode & S_IFMT != S_IFDIR && mode & 0o111 == 0 {
            return Err(Errno::EACCES);
        }
        return Ok(());
    }
    let mask = mask & 7;
    if creds.fsuid == md.uid {
        return if (mode >> 6) & mask == mask { Ok(()) } else { Err(Errno::EACCES) };
    }
    if mode & 0o070 != 0
        && mode & S_IFMT != S_IFLNK
        && let Some(acl) = inode.access_acl()?
    {
        return acl.permission(creds, md, mask);
    }
    let bits = if creds.in_group(md.gid) { (mode >> 3) & 7 } else { mode & 7 };
    if bits & mask == mask { Ok(()) } else { Err(Errno::EACCES) }
}

/// The directory a relative path starts from: cwd or the dirfd's directory.
pub fn start_dir(task: &dyn FsCaller, dirfd: i32, path: &[u8]) -> KResult<Path> {
    if path.first() == Some(&b'/') {
        return Ok(task.fs().root.clone());
    }
    if dirfd == AT_FDCWD {
        return Ok(task.fs().cwd.clone());
    }
    let file = task.file(dirfd)?;
    let p = file.path.clone().ok_or(Errno::ENOTDIR)?;
    if !path.is_empty() && !p.metadata()?.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    Ok(p)
}

/// Resolves `path` relative to `dirfd`. With AT_EMPTY_PATH and an empty
/// path, the dirfd's own file is the result.
pub fn resolve_at(task: &dyn FsCaller, dirfd: i32, path: &[u8], follow: bool, empty_ok: bool) -> KResult<Path> {
    if path.is_empty() {
        if !empty_ok {
            return Err(Errno::ENOENT);
        }
        if dirfd == AT_FDCWD {
            return Ok(task.fs().cwd.clone());
        }
        let file = task.file(dirfd)?;
        return file.path.clone().ok_or(Errno::EBADF);
    }
    let start = start_dir(task, dirfd, path)?;
    let root = task.fs().root.clone();
    let creds = task.creds();
    let search = |inode: &dyn Inode, md: &Metadata| may_access(&creds, inode, md, MAY_EXEC);
    let cx = WalkContext { mounts: task.mounts(), root: &root, start: &start, may_search: &search };
    path::walk(&cx, path, follow)
}

/// Resolves all but the last component; returns (directory, last name,
/// path had a trailing slash).
pub fn resolve_parent_at(task: &dyn FsCaller, dirfd: i32, path: &[u8]) -> KResult<(Path, Vec<u8>, bool)> {
    let found = resolve_parent_at_any_length(task, dirfd, path)?;
    path::check_name_length(&found.1)?;
    Ok(found)
}

/// `resolve_parent_at` leaving the last component's length to the caller.
pub fn resolve_parent_at_any_length(task: &dyn FsCaller, dirfd: i32, path: &[u8]) -> KResult<(Path, Vec<u8>, bool)> {
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    let start = start_dir(task, dirfd, path)?;
    let root = task.fs().root.clone();
    let creds = task.creds();
    let search = |inode: &dyn Inode, md: &Metadata| may_access(&creds, inode, md, MAY_EXEC);
    let cx = WalkContext { mounts: task.mounts(), root: &root, start: &start, may_search: &search };
    path::walk_parent_any_length(&cx, path)
}
