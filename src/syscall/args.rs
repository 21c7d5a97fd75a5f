//! Argument decoding the file system call families share: fds to open
//! files, path arguments with AT_EMPTY_PATH, optional ids.

use std::sync::Arc;

use crate::abi::fcntl::{AT_EMPTY_PATH, AT_FDCWD, O_PATH};
use crate::abi::resource::RLIMIT_NOFILE;
use crate::abi::{Errno, KResult, Pod};
use crate::fs::file::File;
use crate::fs::lookup::resolve_at;
use crate::fs::path::Path;
use crate::syscall::Sys;
use crate::task::Task;

pub fn file_of(task: &Task, fd: i32) -> KResult<Arc<File>> {
    task.files().get(fd)
}

/// A file that may do I/O (not O_PATH).
pub fn io_file(task: &Task, fd: i32) -> KResult<Arc<File>> {
    let f = file_of(task, fd)?;
    if f.flags() & O_PATH != 0 {
        return Err(Errno::EBADF);
    }
    Ok(f)
}

pub fn nofile_limit(task: &Task) -> u64 {
    task.rlimit(RLIMIT_NOFILE).cur
}

pub fn put<T: Pod>(sys: &Sys, addr: u64, v: &T) -> KResult<()> {
    sys.mm().write(addr, v)
}

/// An optional uid/gid argument: -1 means "leave alone".
pub fn id_arg(v: u64) -> Option<u32> {
    let v = v as u32;
    if v == u32::MAX { None } else { Some(v) }
}

/// The place an fd refers to, for calls that work on an fd's file as on a
/// path (fchmod, fchown, futimens): anonymous files get a private path.
pub fn fd_path(file: &File) -> Path {
    match &file.path {
        Some(p) => p.clone(),
        None => crate::fs::procfs::anon_path(&file.inode),
    }
}

/// The object `path` names relative to `dirfd`, or with AT_EMPTY_PATH and
/// an empty path the fd itself (any fd, even an anonymous one).
pub fn resolve_or_fd(task: &Task, dirfd: i32, path: &[u8], follow: bool, empty_ok: bool) -> KResult<Path> {
    if path.is_empty() && empty_ok && dirfd != AT_FDCWD {
        return Ok(fd_path(&*file_of(task, dirfd)?));
    }
    resolve_at(task, dirfd, path, follow, empty_ok)
}

/// Reads a path argument that may be NULL or empty with AT_EMPTY_PATH.
pub fn read_path_flags(sys: &Sys, addr: u64, flags: u32) -> KResult<Vec<u8>> {
    if flags & AT_EMPTY_PATH != 0 {
        if addr == 0 {
            return Ok(Vec::new());
        }
        return sys.read_path_allow_empty(addr);
    }
    sys.read_path(addr)
}
