//! Extended attributes on behalf of a task: Linux's order of checks (EROFS,
//! fs/xattr.c xattr_permission, the capability module's rule for
//! security.*, then the name's handler) and the POSIX ACL handler
//! (fs/posix_acl.c: ACLs validated by fs/posix_acl.rs, an access ACL
//! rewrites the mode, as posix_acl_update_mode does). Filesystems only store values
//! (`Inode::getxattr` and friends). Syscall handlers decode names and
//! buffers and call these; the overlay's copy-up goes to the inodes
//! directly and takes whatever the upper layer stores.

use crate::abi::stat::{S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, S_ISGID, S_ISVTX};
use crate::abi::xattr::{security_prefix, system_prefix, trusted_prefix, user_prefix};
use crate::abi::{Errno, KResult};
use crate::fs::inode::{Inode, Metadata, SetAttr};
use crate::fs::lookup::{FsCaller, MAY_READ, MAY_WRITE, may_access};
use crate::fs::path::Path;
use crate::fs::posix_acl::PosixAcl;
use crate::sched::Creds;

pub const ACL_ACCESS: &[u8] = b"system.posix_acl_access";
pub const ACL_DEFAULT: &[u8] = b"system.posix_acl_default";

/// The handlers Linux's filesystems register: user.*, trusted.*,
/// security.* and the two POSIX ACL names.
enum Handler {
    Stored,
    Acl,
}

/// Linux's xattr_resolve_name: EOPNOTSUPP for a name no handler takes
/// (system.* other than the ACLs, names without a known prefix), EINVAL
/// for a bare prefix.
fn handler(name: &[u8]) -> KResult<Handler> {
    if name == ACL_ACCESS || name == ACL_DEFAULT {
        return Ok(Handler::Acl);
    }
    for prefix in [user_prefix(), trusted_prefix(), security_prefix()] {
        if let Some(rest) = name.strip_prefix(prefix) {
            return if rest.is_empty() { Err(Errno::EINVAL) } else { Ok(Handler::Stored) };
        }
    }
    Err(Errno::EOPNOTSUPP)
}

/// The namespaces a filesystem storing arbitrary attributes accepts
/// (the ACL names go through the VFS's ACL handler first).
pub fn stored_namespace(name: &[u8]) -> bool {
    matches!(handler(name), Ok(Handler::Stored))
}

fn owner_or_root(creds: &Creds, md: &Metadata) -> bool {
    creds.is_root() || creds.fsuid == md.uid
}

/// Linux's xattr_permission for `name` on an inode with `md`.
fn permission(creds: &Creds, inode: &dyn Inode, md: &Metadata, name: &[u8], write: bool) -> KResult<()> {
    // security.* and system.* are left to the capability module and the
    // handlers.
    if name.starts_with(security_prefix()) || name.starts_with(system_prefix()) {
        return Ok(());
    }
    let denied = if write { Errno::EPERM } else { Errno::ENODATA };
    if name.starts_with(trusted_prefix()) {
        return if creds.is_root() { Ok(()) } else { Err(denied) };
    }
    if name.starts_with(user_prefix()) {
        let ftype = md.mode & S_IFMT;
        if ftype != S_IFREG && ftype != S_IFDIR {
            return Err(denied);
        }
        if ftype == S_IFDIR && md.mode & S_ISVTX != 0 && write && !owner_or_root(creds, md) {
            return Err(Errno::EPERM);
        }
    }
    may_access(creds, inode, md, if write { MAY_WRITE } else { MAY_READ })
}

/// getxattr: the value of `name`.
pub fn get(task: &dyn FsCaller, path: &Path, name: &[u8]) -> KResult<Vec<u8>> {
    let md = path.metadata()?;
    permission(&task.creds(), &**path.inode(), &md, name, false)?;
    // A symlink has no ACLs (posix_acl_xattr_get).
    if let Handler::Acl = handler(name)?
        && md.mode & S_IFMT == S_IFLNK
    {
        return Err(Errno::EOPNOTSUPP);
    }
    path.inode().getxattr(name)
}

/// listxattr: the names, each NUL-terminated (no permission is needed;
/// trusted.* shows only to the privileged, as simple_xattr_list and
/// ext4_xattr_list_entries do).
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
/// the capability module's rule for security.* (CAP_SYS_ADMIN), then the
/// handler. Returns the handler and the inode's metadata.
fn may_change(task: &dyn FsCaller, path: &Path, name: &[u8]) -> KResult<(Handler, Metadata)> {
    if path.mount.read_only() {
        return Err(Errno::EROFS);
    }
    let creds = task.creds();
    let md = path.metadata()?;
    permission(&creds, &**path.inode(), &md, name, true)?;
    if name.starts_with(security_prefix()) && !creds.is_root() {
        return Err(Errno::EPERM);
    }
    Ok((handler(name)?, md))
}

/// setxattr with XATTR_CREATE / XATTR_REPLACE in `flags`.
pub fn set(task: &dyn FsCaller, path: &Path, name: &[u8], value: &[u8], flags: u32) -> KResult<()> {
    match may_change(task, path, name)? {
        // Linux's ACL handlers ignore XATTR_CREATE/XATTR_REPLACE.
        (Handler::Acl, md) => set_acl(task, path, &md, name, Some(value)),
        (Handler::Stored, _) => path.inode().setxattr(name, value, flags),
    }
}

/// removexattr.
pub fn remove(task: &dyn FsCaller, path: &Path, name: &[u8]) -> KResult<()> {
    match may_change(task, path, name)? {
        (Handler::Acl, md) => set_acl(task, path, &md, name, None),
        (Handler::Stored, _) => path.inode().removexattr(name),
    }
}

/// system.posix_acl_access / _default, in Linux's order (do_set_acl,
/// vfs_set_acl): the value parsed, EOPNOTSUPP on a symlink, a default ACL
/// only on directories (EACCES; removing one elsewhere succeeds), the
/// owner only (EPERM), then the ACL validated. An access ACL the mode
/// fully expresses is not stored, and any access ACL rewrites the
/// permission bits (posix_acl_update_mode). The filesystem gets the ACL in
/// canonical form.
fn set_acl(task: &dyn FsCaller, path: &Path, md: &Metadata, name: &[u8], value: Option<&[u8]>) -> KResult<()> {
    let acl = match value {
        Some(v) => PosixAcl::parse(v)?,
        None => None,
    };
    if md.mode & S_IFMT == S_IFLNK {
        return Err(Errno::EOPNOTSUPP);
    }
    if name == ACL_DEFAULT && md.mode & S_IFMT != S_IFDIR {
        return if acl.is_some() { Err(Errno::EACCES) } else { Ok(()) };
    }
    if !owner_or_root(&task.creds(), md) {
        return Err(Errno::EPERM);
    }
    let inode = path.inode();
    let Some(acl) = acl else {
        // Removing an ACL that is not there is no error (set_acl with
        // NULL, as ext4 and shmem do it).
        return match inode.removexattr(name) {
            Err(Errno::ENODATA) => Ok(()),
            r => r,
        };
    };
    acl.validate()?;
    if name == ACL_ACCESS {
        let (bits, equiv) = acl.equiv_mode();
        let mut mode = (md.mode & 0o7000) | bits;
        let creds = task.creds();
        if !creds.is_root() && !creds.in_group(md.gid) {
            mode &= !S_ISGID;
        }
        if equiv {
            match inode.removexattr(name) {
                Ok(()) | Err(Errno::ENODATA) => {}
                Err(e) => return Err(e),
            }
        } else {
            inode.setxattr(name, &acl.to_xattr(), 0)?;
        }
        return inode.setattr(&SetAttr { mode: Some(mode), ..Default::default() });
    }
    inode.setxattr(name, &acl.to_xattr(), 0)
}
