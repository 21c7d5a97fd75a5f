//! mount(2) and umount2(2) as Linux's fs/namespace.c does them: new mounts
//! of a registered filesystem type (`fstype`), bind mounts (recursive with
//! MS_REC), remounts of a superblock or of one mount's flags, propagation
//! types, and unmounting with EBUSY for a mount in use or MNT_DETACH.
//! syscall/mount.rs decodes the arguments; everything else is here.

use std::sync::Arc;

use crate::abi::mount::*;
use crate::abi::stat::{S_IFBLK, S_IFMT};
use crate::abi::{Errno, KResult};
use crate::fs::fstype::{self, SuperBlock};
use crate::fs::lookup::{FsCaller, resolve_at};
use crate::fs::path::{Dentry, MNT_NOATIME, MNT_NODEV, MNT_NODIRATIME, MNT_NOEXEC, MNT_NOSUID, MNT_NOSYMFOLLOW, MNT_READONLY, MNT_RELATIME, Mount, Path};

/// The atime bits a remount keeps unless it names one.
const MNT_ATIME_MASK: u32 = MNT_NOATIME | MNT_NODIRATIME | MNT_RELATIME;

/// Flags only mount(2)'s superblock part takes (Linux's SB_* subset).
const SB_FLAGS: u64 = MS_RDONLY | MS_SYNCHRONOUS | MS_MANDLOCK | MS_DIRSYNC | MS_SILENT | MS_POSIXACL | MS_LAZYTIME | MS_I_VERSION;

/// CAP_SYS_ADMIN: uid 0 has every capability inside the guest.
fn may_mount(task: &dyn FsCaller) -> KResult<()> {
    if task.creds().euid == 0 { Ok(()) } else { Err(Errno::EPERM) }
}

/// The MNT_* flags mount(2)'s MS_* flags ask for (path_mount).
fn mount_flags(flags: u64) -> u32 {
    let mut m = 0;
    if flags & MS_NOATIME == 0 {
        m |= MNT_RELATIME;
    }
    for (ms, mnt) in [
        (MS_NOSUID, MNT_NOSUID),
        (MS_NODEV, MNT_NODEV),
        (MS_NOEXEC, MNT_NOEXEC),
        (MS_NOATIME, MNT_NOATIME),
        (MS_NODIRATIME, MNT_NODIRATIME),
        (MS_RDONLY, MNT_READONLY),
        (MS_NOSYMFOLLOW, MNT_NOSYMFOLLOW),
    ] {
        if flags & ms != 0 {
            m |= mnt;
        }
    }
    if flags & MS_STRICTATIME != 0 {
        m &= !(MNT_RELATIME | MNT_NOATIME);
    }
    m
}

/// Is `path` the root of its mount (Linux: path_mounted)?
fn is_mount_root(path: &Path) -> bool {
    Arc::ptr_eq(&path.dentry, &path.mount.root)
}

/// mount(2). `source`, `fstype` and `data` are None for NULL pointers.
pub fn mount(task: &dyn FsCaller, source: Option<&[u8]>, target: &[u8], fstype: Option<&[u8]>, flags: u64, data: Option<&[u8]>) -> KResult<()> {
    let target = resolve_at(task, crate::abi::fcntl::AT_FDCWD, target, true, false)?;
    let mut flags = flags;
    if flags & MS_MGC_MSK == MS_MGC_VAL {
        flags &= !MS_MGC_MSK;
    }
    if flags & MS_NOUSER != 0 {
        return Err(Errno::EINVAL);
    }
    may_mount(task)?;
    let mut mnt_flags = mount_flags(flags);
    if flags & MS_REMOUNT != 0 && flags & (MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME) == 0 {
        mnt_flags = (mnt_flags & !MNT_ATIME_MASK) | (target.mount.flags() & MNT_ATIME_MASK);
    }
    let options = data.map(|d| String::from_utf8_lossy(d).into_owned()).unwrap_or_default();
    // A place in a lazily detached tree takes no mounts (check_mnt).
    if !task.mounts().contains(&target.mount) {
        return Err(Errno::EINVAL);
    }
    if flags & (MS_REMOUNT | MS_BIND) == MS_REMOUNT | MS_BIND {
        return reconfigure_mount(task, &target, mnt_flags);
    }
    if flags & MS_REMOUNT != 0 {
        return remount(task, &target, flags & SB_FLAGS, mnt_flags, &options);
    }
    if flags & MS_BIND != 0 {
        return bind(task, source.unwrap_or_default(), &target, flags & MS_REC != 0);
    }
    if flags & (MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE) != 0 {
        return change_type(task, &target, flags);
    }
    if flags & MS_MOVE != 0 {
        return move_mount(task, source.unwrap_or_default(), &target);
    }
    let fstype = fstype.ok_or(Errno::EINVAL)?;
    new_mount(task, source, &target, fstype, flags & SB_FLAGS, mnt_flags, &options)
}

/// A new mount of filesystem type `fstype` (do_new_mount).
fn new_mount(task: &dyn FsCaller, source: Option<&[u8]>, target: &Path, fstype: &[u8], sb_flags: u64, mnt_flags: u32, options: &str) -> KResult<()> {
    let name = std::str::from_utf8(fstype).map_err(|_| Errno::ENODEV)?;
    let t = fstype::find(name).ok_or(Errno::ENODEV)?;
    let source_text = String::from_utf8_lossy(source.unwrap_or(b"none")).into_owned();
    let rdev = if t.requires_device { Some(source_device(task, source)?) } else { None };
    let sb = fstype::get_super(&t, rdev, &source_text, sb_flags, options)?;
    if sb_flags & MS_RDONLY == 0 && sb.read_only() && rdev.is_some() {
        // An existing read-only superblock is not made writable by a
        // second mount (Linux: EBUSY from the fs_context reuse check).
        return Err(Errno::EBUSY);
    }
    attach(task, sb, target, &source_text, mnt_flags)
}

/// The block device a device filesystem's source path names
/// (lookup_bdev): ENOTBLK for anything else, EACCES on a nodev mount.
fn source_device(task: &dyn FsCaller, source: Option<&[u8]>) -> KResult<u64> {
    let source = source.ok_or(Errno::EINVAL)?;
    if source.is_empty() {
        return Err(Errno::ENOENT);
    }
    let p = resolve_at(task, crate::abi::fcntl::AT_FDCWD, source, true, false)?;
    let md = p.metadata()?;
    if md.mode & S_IFMT != S_IFBLK {
        return Err(Errno::ENOTBLK);
    }
    if p.mount.nodev() {
        return Err(Errno::EACCES);
    }
    crate::fs::blkdev::lookup(md.rdev)?;
    Ok(md.rdev)
}

fn attach(task: &dyn FsCaller, sb: Arc<SuperBlock>, target: &Path, source: &str, mnt_flags: u32) -> KResult<()> {
    let root = Dentry::root(sb.root.clone());
    task.mounts().attach(sb, root, b"/".to_vec(), Some(target), source, mnt_flags)?;
    Ok(())
}

/// MS_REMOUNT|MS_BIND: one mount's flags (do_reconfigure_mnt).
fn reconfigure_mount(_task: &dyn FsCaller, target: &Path, mnt_flags: u32) -> KResult<()> {
    if !is_mount_root(target) {
        return Err(Errno::EINVAL);
    }
    target.mount.set_flags(mnt_flags);
    Ok(())
}

/// MS_REMOUNT: the superblock's flags and options, then the mount's
/// (do_remount).
fn remount(_task: &dyn FsCaller, target: &Path, sb_flags: u64, mnt_flags: u32, options: &str) -> KResult<()> {
    if !is_mount_root(target) {
        return Err(Errno::EINVAL);
    }
    let sb = &target.mount.sb;
    let want_ro = sb_flags & MS_RDONLY != 0;
    if !want_ro && sb.read_only() {
        if let Some(rdev) = sb.block_device() {
            // A write-protected device cannot be remounted read-write.
            if crate::fs::blkdev::lookup(rdev).is_ok_and(|(_, n)| n.read_only()) {
                return Err(Errno::EACCES);
            }
        }
    }
    sb.remount(sb_flags, options)?;
    if want_ro && !sb.read_only() {
        sb.sync()?;
    }
    sb.set_read_only(want_ro);
    target.mount.set_flags(mnt_flags);
    Ok(())
}

/// MS_BIND: `source`'s subtree (with the mounts below it for MS_REC) also
/// at `target` (do_loopback). The new mount keeps the source mount's flags.
fn bind(task: &dyn FsCaller, source: &[u8], target: &Path, recursive: bool) -> KResult<()> {
    let old = resolve_at(task, crate::abi::fcntl::AT_FDCWD, source, true, false)?;
    let mounts = task.mounts();
    if !mounts.contains(&old.mount) || !mounts.contains(&target.mount) {
        return Err(Errno::EINVAL);
    }
    let root_path = root_path_of(&old);
    let top = clone_mount(task, &old.mount, old.dentry.inode.clone(), root_path, target)?;
    if recursive {
        copy_submounts(task, &old, &top)?;
    }
    Ok(())
}

/// The path of `p` within its filesystem (mountinfo's root field).
fn root_path_of(p: &Path) -> Vec<u8> {
    let fs_root = Path { mount: p.mount.clone(), dentry: p.mount.root.clone() };
    let inner = p.to_bytes(&fs_root);
    if p.mount.root_path == b"/" {
        inner
    } else if inner == b"/" {
        p.mount.root_path.clone()
    } else {
        [&p.mount.root_path[..], &inner[..]].concat()
    }
}

fn clone_mount(task: &dyn FsCaller, from: &Mount, inode: crate::fs::inode::InodeRef, root_path: Vec<u8>, at: &Path) -> KResult<Arc<Mount>> {
    let root = Dentry::root(inode);
    task.mounts().attach(from.sb.clone(), root, root_path, Some(at), &from.source, from.flags())
}

/// MS_REC: every mount below `old` is copied onto the same place under
/// the new mount `top` (copy_tree), oldest first.
fn copy_submounts(task: &dyn FsCaller, old: &Path, top: &Arc<Mount>) -> KResult<()> {
    let mounts = task.mounts();
    // Pairs (original mount, its copy), starting with the bound subtree.
    let mut copies: Vec<(Arc<Mount>, Arc<Mount>, Path)> = vec![(old.mount.clone(), top.clone(), old.clone())];
    let mut i = 0;
    while i < copies.len() {
        let (orig, copy, base) = copies[i].clone();
        for child in mounts.children(&orig) {
            let Some((_, covered)) = child.mountpoint() else { continue };
            let covered_path = Path { mount: orig.clone(), dentry: covered.clone() };
            // Only mounts inside the bound subtree come along.
            let Some(rel) = relative_to(&covered_path, &base) else { continue };
            let place = walk_in(task, copy.clone(), &rel)?;
            let new = clone_mount(task, &child, child.root.inode.clone(), child.root_path.clone(), &place)?;
            let child_base = Path { mount: child.clone(), dentry: child.root.clone() };
            copies.push((child, new, child_base));
        }
        i += 1;
    }
    Ok(())
}

/// `p`'s path below `base` (same mount), or None when outside it.
fn relative_to(p: &Path, base: &Path) -> Option<Vec<u8>> {
    let base_root = Path { mount: base.mount.clone(), dentry: base.dentry.clone() };
    p.to_bytes_within(&base_root)
}

/// Walks `rel` inside mount `m` without crossing into other mounts' roots
/// above it (for placing copies).
fn walk_in(task: &dyn FsCaller, m: Arc<Mount>, rel: &[u8]) -> KResult<Path> {
    let root = Path { dentry: m.root.clone(), mount: m };
    let search = |_: &dyn crate::fs::inode::Inode, _: &crate::fs::inode::Metadata| Ok(());
    let cx = crate::fs::path::WalkContext { mounts: task.mounts(), root: &root, start: &root, may_search: &search };
    crate::fs::path::walk(&cx, rel, false)
}

/// MS_SHARED/PRIVATE/SLAVE/UNBINDABLE: vkernel has one mount namespace
/// and no propagation between mounts, so every mount already behaves as
/// a private one; the call checks its arguments as do_change_type does.
fn change_type(_task: &dyn FsCaller, target: &Path, flags: u64) -> KResult<()> {
    if !is_mount_root(target) {
        return Err(Errno::EINVAL);
    }
    let kinds = flags & (MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE);
    if kinds.count_ones() != 1 || flags & !(kinds | MS_REC | MS_SILENT) != 0 {
        return Err(Errno::EINVAL);
    }
    if kinds == MS_SHARED || kinds == MS_SLAVE {
        // Shared and slave mounts need propagation, which vkernel lacks.
        return Err(Errno::EINVAL);
    }
    Ok(())
}

/// MS_MOVE: the mount at `source` (a mount root), with everything below
/// it, moves onto `target` (do_move_mount); its id and open files stay.
fn move_mount(task: &dyn FsCaller, source: &[u8], target: &Path) -> KResult<()> {
    let old = resolve_at(task, crate::abi::fcntl::AT_FDCWD, source, true, false)?;
    if !is_mount_root(&old) {
        return Err(Errno::EINVAL);
    }
    task.mounts().move_mount(&old.mount, target)
}

/// umount2(2) (ksys_umount, can_umount, do_umount).
pub fn umount(task: &dyn FsCaller, target: &[u8], flags: u32) -> KResult<()> {
    if flags & !(MNT_FORCE | MNT_DETACH | MNT_EXPIRE | UMOUNT_NOFOLLOW) != 0 {
        return Err(Errno::EINVAL);
    }
    let path = resolve_at(task, crate::abi::fcntl::AT_FDCWD, target, flags & UMOUNT_NOFOLLOW == 0, false)?;
    may_mount(task)?;
    if !is_mount_root(&path) || !task.mounts().contains(&path.mount) {
        return Err(Errno::EINVAL);
    }
    let mount = path.mount.clone();
    drop(path);
    let is_root = Arc::ptr_eq(&mount, &task.fs().root.mount);
    if flags & MNT_EXPIRE != 0 {
        if is_root || flags & (MNT_FORCE | MNT_DETACH) != 0 {
            return Err(Errno::EINVAL);
        }
        if in_use(&mount) {
            return Err(Errno::EBUSY);
        }
        if !mount.mark_expiry() {
            return Err(Errno::EAGAIN);
        }
    }
    if is_root && flags & MNT_DETACH == 0 {
        return Err(Errno::EBUSY);
    }
    let mounts = task.mounts();
    if flags & MNT_DETACH == 0 && (!mounts.children(&mount).is_empty() || in_use(&mount)) {
        return Err(Errno::EBUSY);
    }
    let gone = mounts.detach_tree(&mount);
    let sb = mount.sb.clone();
    drop(gone);
    drop(mount);
    // Linux syncs a filesystem whose last mount went; a busy superblock
    // (another mount of it, or a lazily detached one still in use) stays.
    if flags & MNT_DETACH == 0 {
        sb.sync()?;
    }
    Ok(())
}

/// References to `mount` beyond the table's and the caller's one:
/// open files, working directories, mapped files (propagate_mount_busy).
fn in_use(mount: &Arc<Mount>) -> bool {
    Arc::strong_count(mount) > 2
}
