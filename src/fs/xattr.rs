//! Extended attributes on behalf of a task: Linux's order of checks (EROFS,
//! fs/xattr.c xattr_permission, the capability module's rule for
//! security.*, then the name's handler) and the POSIX ACL handler
//! (fs/posix_acl.c: ACLs validated, an access ACL rewrites the mode, as
//! posix_acl_update_mode does). Filesystems only store values
//! (`Inode::getxattr` and friends). Syscall handlers decode names and
//! buffers and call these; the overlay's copy-up goes to the inodes
//! directly and takes whatever the upper layer stores.

use crate::abi::stat::{S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, S_ISGID, S_ISVTX};
use crate::abi::xattr::{security_prefix, system_prefix, trusted_prefix, user_prefix};
use crate::abi::{Errno, KResult};
use crate::fs::inode::{Metadata, SetAttr};
use crate::fs::lookup::{FsCaller, MAY_READ, MAY_WRITE, may_access};
use crate::fs::path::Path;
use crate::sched::Creds;

pub const ACL_ACCESS: &[u8] = b"system.posix_acl_access";
pub const ACL_DEFAULT: &[u8] = b"system.posix_acl_default";

const ACL_USER_OBJ: u16 = 0x01;
const ACL_USER: u16 = 0x02;
const ACL_GROUP_OBJ: u16 = 0x04;
const ACL_GROUP: u16 = 0x08;
const ACL_MASK: u16 = 0x10;
const ACL_OTHER: u16 = 0x20;
const ACL_XATTR_VERSION: u32 = 2;

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
fn permission(creds: &Creds, md: &Metadata, name: &[u8], write: bool) -> KResult<()> {
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
    may_access(creds, md, if write { MAY_WRITE } else { MAY_READ })
}

/// getxattr: the value of `name`.
pub fn get(task: &dyn FsCaller, path: &Path, name: &[u8]) -> KResult<Vec<u8>> {
    let md = path.metadata()?;
    permission(&task.creds(), &md, name, false)?;
    handler(name)?;
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
    permission(&creds, &md, name, true)?;
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

/// One ACL entry of the VFS xattr form.
#[derive(Clone, Copy)]
struct AclEntry {
    tag: u16,
    perm: u16,
    id: u32,
}

/// Parses and checks an ACL (posix_acl_from_xattr + posix_acl_valid):
/// tags in order, one each of USER_OBJ, GROUP_OBJ and OTHER, a MASK when
/// there are named entries, named ids ascending. An empty list is None.
fn parse_acl(value: &[u8]) -> KResult<Option<Vec<AclEntry>>> {
    if value.len() < 4 || (value.len() - 4) % 8 != 0 {
        return Err(Errno::EINVAL);
    }
    if u32::from_le_bytes([value[0], value[1], value[2], value[3]]) != ACL_XATTR_VERSION {
        return Err(Errno::EOPNOTSUPP);
    }
    let entries: Vec<AclEntry> = value[4..]
        .chunks_exact(8)
        .map(|e| AclEntry { tag: u16::from_le_bytes([e[0], e[1]]), perm: u16::from_le_bytes([e[2], e[3]]), id: u32::from_le_bytes([e[4], e[5], e[6], e[7]]) })
        .collect();
    if entries.is_empty() {
        return Ok(None);
    }
    let mut last_tag = 0u16;
    let mut last_id: Option<u32> = None;
    let (mut user_obj, mut group_obj, mut other, mut mask, mut named) = (0, 0, 0, 0, 0);
    for e in &entries {
        if e.perm & !7 != 0 || e.tag < last_tag {
            return Err(Errno::EINVAL);
        }
        if e.tag != last_tag {
            last_id = None;
        }
        match e.tag {
            ACL_USER_OBJ => user_obj += 1,
            ACL_GROUP_OBJ => group_obj += 1,
            ACL_OTHER => other += 1,
            ACL_MASK => mask += 1,
            ACL_USER | ACL_GROUP => {
                if last_id.is_some_and(|l| e.id <= l) {
                    return Err(Errno::EINVAL);
                }
                last_id = Some(e.id);
                named += 1;
            }
            _ => return Err(Errno::EINVAL),
        }
        last_tag = e.tag;
    }
    if user_obj != 1 || group_obj != 1 || other != 1 || mask > 1 || (named > 0 && mask == 0) {
        return Err(Errno::EINVAL);
    }
    Ok(Some(entries))
}

/// The mode an ACL implies, and whether the mode says all the ACL does
/// (posix_acl_equiv_mode).
fn acl_mode(entries: &[AclEntry]) -> (u32, bool) {
    let (mut mode, mut mask, mut equiv) = (0u32, None, true);
    for e in entries {
        let p = e.perm as u32;
        match e.tag {
            ACL_USER_OBJ => mode |= p << 6,
            ACL_GROUP_OBJ => mode |= p << 3,
            ACL_OTHER => mode |= p,
            ACL_MASK => {
                mask = Some(p);
                equiv = false;
            }
            _ => equiv = false,
        }
    }
    if let Some(m) = mask {
        mode = (mode & !0o070) | (m << 3);
    }
    (mode, equiv)
}

/// system.posix_acl_access / _default: owner only; a default ACL only on
/// directories; an access ACL the mode fully expresses is not stored, and
/// any access ACL rewrites the permission bits.
fn set_acl(task: &dyn FsCaller, path: &Path, md: &Metadata, name: &[u8], value: Option<&[u8]>) -> KResult<()> {
    if md.mode & S_IFMT == S_IFLNK {
        return Err(Errno::EOPNOTSUPP);
    }
    if !owner_or_root(&task.creds(), md) {
        return Err(Errno::EPERM);
    }
    let entries = match value {
        Some(v) => parse_acl(v)?,
        None => None,
    };
    let inode = path.inode();
    if name == ACL_DEFAULT && md.mode & S_IFMT != S_IFDIR {
        return if entries.is_some() { Err(Errno::EACCES) } else { Ok(()) };
    }
    let Some(entries) = entries else {
        return match inode.removexattr(name) {
            Err(Errno::ENODATA) if value.is_some() => Ok(()),
            r => r,
        };
    };
    if name == ACL_ACCESS {
        let (bits, equiv) = acl_mode(&entries);
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
            inode.setxattr(name, value.unwrap_or_default(), 0)?;
        }
        return inode.setattr(&SetAttr { mode: Some(mode), ..Default::default() });
    }
    inode.setxattr(name, value.unwrap_or_default(), 0)
}
