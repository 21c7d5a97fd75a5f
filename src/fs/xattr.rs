//! Extended attributes on behalf of a task: Linux's xattr_permission and
//! its order of errors (fs/xattr.c, security/commoncap.c); filesystems only
//! store values (`Inode::getxattr` and friends). Syscall handlers decode
//! names and buffers and call these.

use crate::abi::stat::{S_IFDIR, S_IFMT, S_IFREG, S_ISVTX};
use crate::abi::xattr::{security_prefix, system_prefix, trusted_prefix, user_prefix};
use crate::abi::{Errno, KResult};
use crate::fs::inode::Metadata;
use crate::fs::lookup::{FsCaller, MAY_READ, MAY_WRITE, may_access};
use crate::fs::path::Path;
use crate::sched::Creds;

/// Linux's xattr_permission for `name` on an inode with `md`.
fn permission(creds: &Creds, md: &Metadata, name: &[u8], write: bool) -> KResult<()> {
    // security.* and system.* are left to the filesystem and the
    // capability module.
    if name.starts_with(security_prefix()) || name.starts_with(system_prefix()) {
        return Ok(());
    }
    if name.starts_with(trusted_prefix()) {
        if !creds.is_root() {
            return Err(if write { Errno::EPERM } else { Errno::ENODATA });
        }
        return Ok(());
    }
    if name.starts_with(user_prefix()) {
        let ftype = md.mode & S_IFMT;
        if ftype != S_IFREG && ftype != S_IFDIR {
            return Err(if write { Errno::EPERM } else { Errno::ENODATA });
        }
        if ftype == S_IFDIR && md.mode & S_ISVTX != 0 && write && !creds.is_root() && creds.fsuid != md.uid {
            return Err(Errno::EPERM);
        }
    }
    may_access(creds, md, if write { MAY_WRITE } else { MAY_READ })
}

/// getxattr: the value of `name`.
pub fn get(task: &dyn FsCaller, path: &Path, name: &[u8]) -> KResult<Vec<u8>> {
    let md = path.metadata()?;
    permission(&task.creds(), &md, name, false)?;
    path.inode().getxattr(name)
}

/// listxattr: the names, each NUL-terminated (no permission is needed;
/// trusted.* shows only to the privileged, as tmpfs's simple_xattr_list).
pub fn list(task: &dyn FsCaller, path: &Path) -> KResult<Vec<u8>> {
    let root = task.creds().is_root();
    let mut out = Vec::new();
    for name in path.inode().listxattr()? {
        if !root && name.starts_with(trusted_prefix()) {
            continue;
        }
        out.extend_from_slice(&name);
        out.push(0);
    }
    Ok(out)
}

/// Checks shared by setxattr and removexattr: EROFS, then permission, then
/// the capability module's rule for security.* (CAP_SYS_ADMIN).
fn may_change(task: &dyn FsCaller, path: &Path, name: &[u8]) -> KResult<()> {
    if path.mount.read_only() {
        return Err(Errno::EROFS);
    }
    let creds = task.creds();
    permission(&creds, &path.metadata()?, name, true)?;
    if name.starts_with(security_prefix()) && !creds.is_root() {
        return Err(Errno::EPERM);
    }
    Ok(())
}

pub fn set(task: &dyn FsCaller, path: &Path, name: &[u8], value: &[u8], flags: u32) -> KResult<()> {
    may_change(task, path, name)?;
    path.inode().setxattr(name, value, flags)
}

pub fn remove(task: &dyn FsCaller, path: &Path, name: &[u8]) -> KResult<()> {
    may_change(task, path, name)?;
    path.inode().removexattr(name)
}

/// The namespaces a filesystem storing arbitrary attributes accepts
/// (system.* holds ACLs, which vkernel does not implement).
pub fn stored_namespace(name: &[u8]) -> bool {
    [user_prefix(), trusted_prefix(), security_prefix()].iter().any(|p| name.starts_with(p) && name.len() > p.len())
}
