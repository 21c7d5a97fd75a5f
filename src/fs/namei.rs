//! VFS operations on behalf of a task: open, create, remove, rename and
//! attribute changes, with Linux's permission checks and its order of
//! errors (fs/namei.c, fs/open.c, fs/attr.c). Syscall handlers decode
//! arguments and call these; filesystems see only already-checked requests.

use std::sync::Arc;

use crate::abi::event::{IN_ACCESS, IN_ATTRIB, IN_MODIFY};
use crate::abi::fcntl::{
    O_ACCMODE, O_CLOEXEC, O_CREAT, O_DIRECTORY, O_EXCL, O_LARGEFILE, O_NOCTTY, O_NOFOLLOW, O_PATH, O_RDONLY, O_RDWR, O_TMPFILE, O_TRUNC, O_WRONLY,
    RENAME_EXCHANGE, RENAME_NOREPLACE, RENAME_WHITEOUT,
};
use crate::abi::stat::{S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK, S_ISGID, S_ISUID, S_ISVTX};
use crate::abi::{Errno, KResult, Timespec};
use crate::fs::file::File;
use crate::fs::inode::{Inode, InodeRef, Metadata, SetAttr};
use crate::fs::lookup::{FsCaller, MAY_EXEC, MAY_READ, MAY_WRITE, may_access, resolve_at, resolve_parent_at};
use crate::fs::path::{Dentry, Path};
use crate::fs::posix_acl::InitialAcls;
use crate::fs::xattr::ACL_ACCESS;
use crate::fs::{notify, now};
use crate::sched::Creds;

/// The kind of the last component `walk_parent` reported.
enum Last {
    Normal,
    Dot,
    DotDot,
    Root,
}

fn last_kind(name: &[u8]) -> Last {
    match name {
        b"." => Last::Dot,
        b".." => Last::DotDot,
        b"/" => Last::Root,
        _ => Last::Normal,
    }
}

/// A path for `name` in `dir` holding `inode` (no mount can be on it).
pub fn child_path(dir: &Path, name: &[u8], inode: InodeRef) -> Path {
    Path { mount: dir.mount.clone(), dentry: Dentry::child(&dir.dentry, name, inode) }
}

/// The entry `name` in `dir`, without following or crossing mounts.
fn lookup_child(dir: &Path, name: &[u8]) -> KResult<Option<Path>> {
    match dir.inode().lookup(name) {
        Ok(inode) => Ok(Some(child_path(dir, name, inode))),
        Err(Errno::ENOENT) => Ok(None),
        Err(e) => Err(e),
    }
}

fn check_writable(path: &Path) -> KResult<()> {
    if path.mount.read_only() { Err(Errno::EROFS) } else { Ok(()) }
}

fn is_mountpoint(task: &dyn FsCaller, path: &Path) -> bool {
    task.mounts().is_mountpoint(path)
}

/// Linux's may_delete: write+search on the directory, and the sticky bit
/// limits removal to the owner of the entry or of the directory.
fn may_delete(creds: &Creds, dir: &Path, victim: &Metadata) -> KResult<()> {
    let dir_inode = dir.inode();
    let dir = dir.metadata()?;
    may_access(creds, &**dir_inode, &dir, MAY_WRITE | MAY_EXEC)?;
    if dir.mode & S_ISVTX != 0 && !creds.is_root() && creds.fsuid != dir.uid && creds.fsuid != victim.uid {
        return Err(Errno::EPERM);
    }
    Ok(())
}

/// Owner and group for a new inode: the creator's fsuid, and fsgid or the
/// directory's group when it is set-group-ID (BSD semantics).
fn new_owner(creds: &Creds, dir: &Metadata) -> (u32, u32) {
    (creds.fsuid, if dir.mode & S_ISGID != 0 { dir.gid } else { creds.fsgid })
}

/// Creates `name` in `dir` after the checks every creating call shares
/// (EEXIST, EROFS, EACCES in Linux's order). `mode` carries the type and
/// the caller's permission bits, before the umask or the directory's
/// default ACL (`inherit_acls`) masks them.
fn create_in(task: &dyn FsCaller, dir: &Path, name: &[u8], mode: u32, rdev: u64) -> KResult<Path> {
    if lookup_child(dir, name)?.is_some() {
        return Err(Errno::EEXIST);
    }
    check_writable(dir)?;
    let creds = task.creds();
    let dmd = dir.metadata()?;
    may_access(&creds, &**dir.inode(), &dmd, MAY_WRITE | MAY_EXEC)?;
    let (uid, gid) = new_owner(&creds, &dmd);
    let (mut mode, acls) = inherit_acls(task, &**dir.inode(), mode)?;
    if mode & S_IFMT == S_IFDIR && dmd.mode & S_ISGID != 0 {
        mode |= S_ISGID;
    }
    let inode = dir.inode().create_with_acls(name, mode, rdev, uid, gid, &acls)?;
    Ok(child_path(dir, name, inode))
}

/// Linux's posix_acl_create: under a directory with a default ACL, a new
/// inode's mode is masked by that ACL (not by the umask) and it starts
/// with an access ACL made from it unless the mode says it all; a new
/// directory inherits the default ACL too. Elsewhere the umask applies.
fn inherit_acls(task: &dyn FsCaller, dir: &dyn Inode, mode: u32) -> KResult<(u32, InitialAcls)> {
    let Some(default) = dir.default_acl()? else {
        return Ok((mode & !umask(task), InitialAcls::default()));
    };
    let (access, mode) = default.create_masq(mode);
    let default = if mode & S_IFMT == S_IFDIR { Some(default) } else { None };
    Ok((mode, InitialAcls { access: access.map(Arc::new), default }))
}

fn umask(task: &dyn FsCaller) -> u32 {
    task.fs().umask
}

// ---- open ----

/// open/openat/creat: resolves, creates if asked, checks and opens.
pub fn open(task: &dyn FsCaller, dirfd: i32, path: &[u8], flags: u32, mode: u32) -> KResult<Arc<File>> {
    if flags & O_PATH != 0 {
        let flags = flags & (O_DIRECTORY | O_NOFOLLOW | O_PATH | O_CLOEXEC);
        let p = resolve_at(task, dirfd, path, flags & O_NOFOLLOW == 0, false)?;
        if flags & O_DIRECTORY != 0 && !p.metadata()?.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        return File::open_path(p, flags);
    }
    if flags & O_TMPFILE == O_TMPFILE {
        return open_tmpfile(task, dirfd, path, flags, mode);
    }
    if flags & (O_CREAT | O_DIRECTORY) == O_CREAT | O_DIRECTORY {
        return Err(Errno::EINVAL);
    }
    let acc = flags & O_ACCMODE;
    let mut created = false;
    let mut created_in: Option<(Path, Vec<u8>)> = None;
    let p = if flags & O_CREAT != 0 {
        let (dir, name, trailing_slash) = resolve_parent_at(task, dirfd, path)?;
        // open_last_lookups: O_CREAT with a trailing slash is EISDIR
        // whether or not the name exists.
        if !matches!(last_kind(&name), Last::Normal) || trailing_slash {
            return Err(Errno::EISDIR);
        }
        match lookup_child(&dir, &name)? {
            Some(_) => {
                if flags & O_EXCL != 0 {
                    return Err(Errno::EEXIST);
                }
                // Follow a final symlink and cross mounts like any open.
                resolve_at(task, dirfd, path, flags & O_NOFOLLOW == 0, false)?
            }
            None => {
                let mode = S_IFREG | (mode & 0o7777);
                created = true;
                let p = create_in(task, &dir, &name, mode, 0)?;
                created_in = Some((dir, name));
                p
            }
        }
    } else {
        resolve_at(task, dirfd, path, flags & O_NOFOLLOW == 0, false)?
    };
    let md = p.metadata()?;
    let ftype = md.mode & S_IFMT;
    if ftype == S_IFLNK {
        return Err(Errno::ELOOP);
    }
    if flags & O_DIRECTORY != 0 && ftype != S_IFDIR {
        return Err(Errno::ENOTDIR);
    }
    let wants_write = acc == O_WRONLY || acc == O_RDWR || flags & O_TRUNC != 0;
    if ftype == S_IFDIR && (wants_write || flags & O_CREAT != 0) {
        return Err(Errno::EISDIR);
    }
    if !created {
        if wants_write && matches!(ftype, S_IFREG | S_IFDIR) {
            check_writable(&p)?;
        }
        let creds = task.creds();
        let mut mask = match acc {
            O_RDONLY => MAY_READ,
            O_WRONLY => MAY_WRITE,
            _ => MAY_READ | MAY_WRITE,
        };
        if flags & O_TRUNC != 0 {
            mask |= MAY_WRITE;
        }
        may_access(&creds, &**p.inode(), &md, mask)?;
    }
    if let Some((dir, name)) = &created_in {
        notify::created(dir, name, false);
    }
    if flags & O_TRUNC != 0 && ftype == S_IFREG && !created && md.size != 0 {
        p.inode().setattr(&SetAttr { size: Some(0), ..Default::default() })?;
        notify::path_event(&p, IN_MODIFY);
    } else if flags & O_TRUNC != 0 && ftype == S_IFREG && !created {
        // Linux updates the times on O_TRUNC even of an empty file.
        let t = now();
        p.inode().setattr(&SetAttr { mtime: Some(t), ..Default::default() })?;
        notify::path_event(&p, IN_MODIFY);
    }
    // O_NOCTTY reaches the driver (a tty decides whether to become the
    // controlling terminal); File::new drops it from the stored flags.
    // O_EXCL without O_CREAT asks a block device for exclusive use.
    let excl = if ftype == S_IFBLK && flags & O_CREAT == 0 { flags & O_EXCL } else { 0 };
    let stored = (flags & !(O_CREAT | O_EXCL | O_TRUNC | O_CLOEXEC)) | O_LARGEFILE | excl;
    let file = File::open_path(p, stored)?;
    notify::opened(&file);
    Ok(file)
}

/// O_TMPFILE: an unnamed regular file in a directory (created, then
/// unlinked before anyone can see it).
fn open_tmpfile(task: &dyn FsCaller, dirfd: i32, path: &[u8], flags: u32, mode: u32) -> KResult<Arc<File>> {
    let acc = flags & O_ACCMODE;
    if acc != O_WRONLY && acc != O_RDWR {
        return Err(Errno::EINVAL);
    }
    let dir = resolve_at(task, dirfd, path, true, false)?;
    if !dir.metadata()?.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    check_writable(&dir)?;
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let name = format!(".vkernel-tmpfile-{}", NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)).into_bytes();
    let p = create_in(task, &dir, &name, S_IFREG | (mode & 0o7777), 0)?;
    dir.inode().unlink(&name)?;
    let ino = p.metadata()?.ino;
    let dentry = Dentry::detached(format!("#{ino}").as_bytes(), Some(dir.dentry.clone()), p.inode().clone());
    dentry.mark_unlinked();
    let p = Path { mount: dir.mount.clone(), dentry };
    let stored = (flags & !(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC | O_DIRECTORY)) | O_LARGEFILE;
    File::open_path(p, stored)
}

// ---- creating names ----

pub fn mkdir(task: &dyn FsCaller, dirfd: i32, path: &[u8], mode: u32) -> KResult<()> {
    let (dir, name, _) = resolve_parent_at(task, dirfd, path)?;
    if !matches!(last_kind(&name), Last::Normal) {
        return Err(Errno::EEXIST);
    }
    create_in(task, &dir, &name, S_IFDIR | (mode & 0o1777), 0)?;
    notify::created(&dir, &name, true);
    Ok(())
}

/// mknod: `dev` is already in vkernel's encoding.
/// mknod/mknodat (and bind(2) of a unix socket, which needs the new
/// node's identity): the path of the node made.
pub fn mknod(task: &dyn FsCaller, dirfd: i32, path: &[u8], mode: u32, dev: u64) -> KResult<Path> {
    let ftype = match mode & S_IFMT {
        0 | S_IFREG => S_IFREG,
        t @ (S_IFCHR | S_IFBLK | S_IFIFO | S_IFSOCK) => t,
        S_IFDIR => return Err(Errno::EPERM),
        _ => return Err(Errno::EINVAL),
    };
    let (dir, name, trailing_slash) = resolve_parent_at(task, dirfd, path)?;
    if !matches!(last_kind(&name), Last::Normal) {
        return Err(Errno::EEXIST);
    }
    if trailing_slash && lookup_child(&dir, &name)?.is_none() {
        return Err(Errno::ENOENT);
    }
    if matches!(ftype, S_IFCHR | S_IFBLK) && !task.creds().is_root() {
        if lookup_child(&dir, &name)?.is_some() {
            return Err(Errno::EEXIST);
        }
        return Err(Errno::EPERM);
    }
    let rdev = if matches!(ftype, S_IFCHR | S_IFBLK) { dev } else { 0 };
    let node = create_in(task, &dir, &name, ftype | (mode & 0o7777), rdev)?;
    notify::created(&dir, &name, false);
    Ok(node)
}

/// The directory and name for a new non-directory entry (symlink, link),
/// checked in Linux's order: EEXIST for "."/".." or an existing name, then
/// ENOENT for a trailing slash, then EROFS.
fn parent_for_new_name(task: &dyn FsCaller, dirfd: i32, path: &[u8]) -> KResult<(Path, Vec<u8>)> {
    let (dir, name, trailing_slash) = resolve_parent_at(task, dirfd, path)?;
    if !matches!(last_kind(&name), Last::Normal) {
        return Err(Errno::EEXIST);
    }
    if lookup_child(&dir, &name)?.is_some() {
        return Err(Errno::EEXIST);
    }
    if trailing_slash {
        return Err(Errno::ENOENT);
    }
    check_writable(&dir)?;
    Ok((dir, name))
}

pub fn symlink(task: &dyn FsCaller, target: &[u8], dirfd: i32, path: &[u8]) -> KResult<()> {
    let (dir, name) = parent_for_new_name(task, dirfd, path)?;
    let creds = task.creds();
    let dmd = dir.metadata()?;
    may_access(&creds, &**dir.inode(), &dmd, MAY_WRITE | MAY_EXEC)?;
    let (uid, gid) = new_owner(&creds, &dmd);
    dir.inode().symlink(&name, target, uid, gid)?;
    notify::created(&dir, &name, false);
    Ok(())
}

/// link/linkat: `follow` is AT_SYMLINK_FOLLOW; `old` may be the result of
/// AT_EMPTY_PATH resolution already.
pub fn link(task: &dyn FsCaller, old: &Path, newdirfd: i32, new: &[u8]) -> KResult<()> {
    let (dir, name) = parent_for_new_name(task, newdirfd, new)?;
    if !Arc::ptr_eq(&old.mount, &dir.mount) {
        return Err(Errno::EXDEV);
    }
    let creds = task.creds();
    may_access(&creds, &**dir.inode(), &dir.metadata()?, MAY_WRITE | MAY_EXEC)?;
    let md = old.metadata()?;
    if md.is_dir() {
        return Err(Errno::EPERM);
    }
    // fs.protected_hardlinks (on by default): only the owner, or someone
    // who may read and write a plain file, may link it.
    if !creds.is_root() && creds.fsuid != md.uid {
        let plain = md.mode & S_IFMT == S_IFREG && md.mode & S_ISUID == 0 && md.mode & (S_ISGID | 0o010) != (S_ISGID | 0o010);
        if !plain || may_access(&creds, &**old.inode(), &md, MAY_READ | MAY_WRITE).is_err() {
            return Err(Errno::EPERM);
        }
    }
    dir.inode().link(&name, old.inode())?;
    notify::linked(&dir, &name, old.inode());
    Ok(())
}

// ---- removing names ----

pub fn unlink(task: &dyn FsCaller, dirfd: i32, path: &[u8]) -> KResult<()> {
    let (dir, name, trailing_slash) = resolve_parent_at(task, dirfd, path)?;
    if !matches!(last_kind(&name), Last::Normal) {
        return Err(Errno::EISDIR);
    }
    check_writable(&dir)?;
    let victim = lookup_child(&dir, &name)?.ok_or(Errno::ENOENT)?;
    let vmd = victim.metadata()?;
    if trailing_slash {
        return Err(if vmd.is_dir() { Errno::EISDIR } else { Errno::ENOTDIR });
    }
    may_delete(&task.creds(), &dir, &vmd)?;
    if vmd.is_dir() {
        return Err(Errno::EISDIR);
    }
    if is_mountpoint(task, &victim) {
        return Err(Errno::EBUSY);
    }
    dir.inode().unlink(&name)?;
    Dentry::removed(&dir.dentry, &name);
    notify::removed(&dir, &name, lost_name(&victim, &vmd));
    Ok(())
}

/// What notify needs of an inode that just lost a name.
fn lost_name(victim: &Path, md: &Metadata) -> notify::Victim {
    let gone = md.is_dir() || victim.metadata().map_or(true, |m| m.nlink == 0);
    notify::Victim { key: (md.dev, md.ino), is_dir: md.is_dir(), gone }
}

pub fn rmdir(task: &dyn FsCaller, dirfd: i32, path: &[u8]) -> KResult<()> {
    let (dir, name, _) = resolve_parent_at(task, dirfd, path)?;
    match last_kind(&name) {
        Last::Dot => return Err(Errno::EINVAL),
        Last::DotDot => return Err(Errno::ENOTEMPTY),
        Last::Root => return Err(Errno::EBUSY),
        Last::Normal => {}
    }
    check_writable(&dir)?;
    let victim = lookup_child(&dir, &name)?.ok_or(Errno::ENOENT)?;
    let vmd = victim.metadata()?;
    may_delete(&task.creds(), &dir, &vmd)?;
    if !vmd.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    if is_mountpoint(task, &victim) {
        return Err(Errno::EBUSY);
    }
    // The root of a task's own tree is busy too.
    let root = task.fs().root.clone();
    if Arc::ptr_eq(&root.mount, &victim.mount) && root.metadata().map(|m| (m.dev, m.ino)) == Ok((vmd.dev, vmd.ino)) {
        return Err(Errno::EBUSY);
    }
    dir.inode().rmdir(&name)?;
    Dentry::removed(&dir.dentry, &name);
    notify::removed(&dir, &name, lost_name(&victim, &vmd));
    Ok(())
}

/// When one parent directory lies below the other: the entry of the upper
/// one that leads down to the lower (Linux's lock_rename trap), as (dev,
/// ino).
fn rename_trap(odir: &Path, ndir: &Path) -> KResult<Option<(u64, u64)>> {
    let id = |d: &crate::fs::path::Dentry| d.inode.metadata().map(|m| (m.dev, m.ino));
    let (o, n) = (id(&odir.dentry)?, id(&ndir.dentry)?);
    if o == n {
        return Ok(None);
    }
    for (lower, upper) in [(&odir.dentry, n), (&ndir.dentry, o)] {
        let mut child = lower.clone();
        while let Some(parent) = child.parent() {
            if id(&parent)? == upper {
                return Ok(Some(id(&child)?));
            }
            child = parent;
        }
    }
    Ok(None)
}

pub fn rename(task: &dyn FsCaller, olddirfd: i32, old: &[u8], newdirfd: i32, new: &[u8], flags: u32) -> KResult<()> {
    if flags & !(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT) != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & RENAME_EXCHANGE != 0 && flags & (RENAME_NOREPLACE | RENAME_WHITEOUT) != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & RENAME_WHITEOUT != 0 {
        // Whiteouts need CAP_MKNOD and an overlay-aware filesystem.
        return Err(if task.creds().is_root() { Errno::EINVAL } else { Errno::EPERM });
    }
    // Both parents first, then the names (do_renameat2).
    let (odir, oname, oslash) = crate::fs::lookup::resolve_parent_at_any_length(task, olddirfd, old)?;
    let (ndir, nname, nslash) = crate::fs::lookup::resolve_parent_at_any_length(task, newdirfd, new)?;
    if !Arc::ptr_eq(&odir.mount, &ndir.mount) {
        return Err(Errno::EXDEV);
    }
    if !matches!(last_kind(&oname), Last::Normal) {
        return Err(Errno::EBUSY);
    }
    if !matches!(last_kind(&nname), Last::Normal) {
        return Err(if flags & RENAME_NOREPLACE != 0 { Errno::EEXIST } else { Errno::EBUSY });
    }
    check_writable(&odir)?;
    crate::fs::path::check_name_length(&oname)?;
    let source = lookup_child(&odir, &oname)?.ok_or(Errno::ENOENT)?;
    let smd = source.metadata()?;
    crate::fs::path::check_name_length(&nname)?;
    let target = lookup_child(&ndir, &nname)?;
    let tmd = match &target {
        Some(t) => Some(t.metadata()?),
        None => None,
    };
    if !smd.is_dir() && (oslash || (nslash && flags & RENAME_EXCHANGE == 0)) {
        return Err(Errno::ENOTDIR);
    }
    if flags & RENAME_EXCHANGE != 0 {
        let tmd = tmd.ok_or(Errno::ENOENT)?;
        if nslash && !tmd.is_dir() {
            return Err(Errno::ENOTDIR);
        }
    } else if tmd.is_some() && flags & RENAME_NOREPLACE != 0 {
        return Err(Errno::EEXIST);
    }
    // lock_rename's trap: the source may not be an ancestor of the target
    // (EINVAL), nor the target of the source (ENOTEMPTY; EINVAL for an
    // exchange).
    if let Some(trap) = rename_trap(&odir, &ndir)? {
        if (smd.dev, smd.ino) == trap {
            return Err(Errno::EINVAL);
        }
        if tmd.as_ref().is_some_and(|t| (t.dev, t.ino) == trap) {
            return Err(if flags & RENAME_EXCHANGE != 0 { Errno::EINVAL } else { Errno::ENOTEMPTY });
        }
    }
    if let Some(tmd) = &tmd {
        if (tmd.dev, tmd.ino) == (smd.dev, smd.ino) {
            return Ok(());
        }
    }
    let creds = task.creds();
    let odmd = odir.metadata()?;
    let ndmd = ndir.metadata()?;
    may_delete(&creds, &odir, &smd)?;
    match &tmd {
        Some(tmd) => may_delete(&creds, &ndir, tmd)?,
        None => may_access(&creds, &**ndir.inode(), &ndmd, MAY_WRITE | MAY_EXEC)?,
    }
    let same_dir = (odmd.dev, odmd.ino) == (ndmd.dev, ndmd.ino);
    // A directory that changes parent rewrites its "..": it must be writable.
    if !same_dir {
        if smd.is_dir() {
            may_access(&creds, &**source.inode(), &smd, MAY_WRITE)?;
        }
        if let Some((target, tmd)) = target.as_ref().zip(tmd.as_ref())
            && flags & RENAME_EXCHANGE != 0
            && tmd.is_dir()
        {
            may_access(&creds, &**target.inode(), tmd, MAY_WRITE)?;
        }
    }
    if is_mountpoint(task, &source) || target.as_ref().is_some_and(|t| is_mountpoint(task, t)) {
        return Err(Errno::EBUSY);
    }
    odir.inode().rename(&oname, ndir.inode(), &nname, flags)?;
    Dentry::renamed(&odir.dentry, &oname, &ndir.dentry, &nname, flags & RENAME_EXCHANGE != 0);
    let moved = notify::Victim { key: (smd.dev, smd.ino), is_dir: smd.is_dir(), gone: false };
    if flags & RENAME_EXCHANGE != 0 {
        // Each moved to the other's place (Linux: two fsnotify_move calls).
        notify::moved(&odir, &oname, &ndir, &nname, moved, None);
        if let Some(tmd) = &tmd {
            let other = notify::Victim { key: (tmd.dev, tmd.ino), is_dir: tmd.is_dir(), gone: false };
            notify::moved(&ndir, &nname, &odir, &oname, other, None);
        }
    } else {
        let replaced = target.as_ref().zip(tmd.as_ref()).map(|(t, md)| lost_name(t, md));
        notify::moved(&odir, &oname, &ndir, &nname, moved, replaced);
    }
    Ok(())
}

// ---- attributes ----

/// Linux's setattr_prepare for chmod: owner or root; the set-group-ID bit
/// drops for a non-member.
pub fn chmod(task: &dyn FsCaller, path: &Path, mode: u32) -> KResult<()> {
    let md = path.metadata()?;
    check_writable(path)?;
    let creds = task.creds();
    if !creds.is_root() && creds.fsuid != md.uid {
        return Err(Errno::EPERM);
    }
    let mut mode = mode & 0o7777;
    if !creds.is_root() && !creds.in_group(md.gid) {
        mode &= !S_ISGID;
    }
    path.inode().setattr(&SetAttr { mode: Some(mode), ..Default::default() })?;
    // posix_acl_chmod: an extended access ACL follows the new mode (the
    // group bits become its mask).
    if md.mode & S_IFMT != S_IFLNK
        && let Some(acl) = path.inode().access_acl()?
    {
        path.inode().setxattr(ACL_ACCESS, &acl.chmod(mode).to_xattr(), 0)?;
    }
    notify::path_event(path, IN_ATTRIB);
    Ok(())
}

/// chown with -1 meaning "unchanged"; clears set-user-ID (and
/// set-group-ID with group execute) on non-directories.
pub fn chown(task: &dyn FsCaller, path: &Path, uid: Option<u32>, gid: Option<u32>) -> KResult<()> {
    let md = path.metadata()?;
    check_writable(path)?;
    let creds = task.creds();
    if !creds.is_root() {
        if uid.is_some_and(|u| u != md.uid) {
            return Err(Errno::EPERM);
        }
        if let Some(g) = gid {
            if g != md.gid && (creds.fsuid != md.uid || !creds.in_group(g)) {
                return Err(Errno::EPERM);
            }
        }
        if (uid.is_some() || gid.is_some()) && creds.fsuid != md.uid && (uid != Some(md.uid) || gid.is_some_and(|g| g != md.gid)) {
            return Err(Errno::EPERM);
        }
    }
    let mut attr = SetAttr { uid, gid, ..Default::default() };
    if md.mode & S_IFMT != S_IFDIR && md.mode & S_IFMT != S_IFLNK {
        let mut mode = md.mode & 0o7777 & !S_ISUID;
        if mode & 0o010 != 0 {
            mode &= !S_ISGID;
        }
        if mode != md.mode & 0o7777 {
            attr.mode = Some(mode);
        }
    }
    path.inode().setattr(&attr)?;
    notify::path_event(path, IN_ATTRIB);
    Ok(())
}

/// A time argument of utimensat: set now, leave alone, or an explicit value.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TimeArg {
    Now,
    Omit,
    At(Timespec),
}

/// utimensat and friends. Explicit times need ownership; "now" needs
/// ownership or write permission (Linux: inode_owner_or_capable).
pub fn set_times(task: &dyn FsCaller, path: &Path, atime: TimeArg, mtime: TimeArg) -> KResult<()> {
    if atime == TimeArg::Omit && mtime == TimeArg::Omit {
        return Ok(());
    }
    let md = path.metadata()?;
    check_writable(path)?;
    let creds = task.creds();
    let owner = creds.is_root() || creds.fsuid == md.uid;
    if !owner {
        let explicit = matches!(atime, TimeArg::At(_)) || matches!(mtime, TimeArg::At(_)) || atime == TimeArg::Omit || mtime == TimeArg::Omit;
        if explicit {
            return Err(Errno::EPERM);
        }
        may_access(&creds, &**path.inode(), &md, MAY_WRITE)?;
    }
    let t = now();
    let pick = |a: TimeArg| match a {
        TimeArg::Now => Some(t),
        TimeArg::Omit => None,
        TimeArg::At(ts) => Some(ts),
    };
    path.inode().setattr(&SetAttr { atime: pick(atime), mtime: pick(mtime), ..Default::default() })?;
    // Linux's fsnotify_change: both times are an attribute change, one
    // alone an access or a modification.
    let event = match (atime == TimeArg::Omit, mtime == TimeArg::Omit) {
        (false, false) => IN_ATTRIB,
        (false, true) => IN_ACCESS,
        _ => IN_MODIFY,
    };
    notify::path_event(path, event);
    Ok(())
}

/// truncate(2) by path: Linux's vfs_truncate order of errors.
pub fn truncate_path(task: &dyn FsCaller, path: &Path, len: u64) -> KResult<()> {
    let md = path.metadata()?;
    match md.mode & S_IFMT {
        S_IFDIR => return Err(Errno::EISDIR),
        S_IFREG => {}
        _ => return Err(Errno::EINVAL),
    }
    check_writable(path)?;
    may_access(&task.creds(), &**path.inode(), &md, MAY_WRITE)?;
    crate::fs::file::check_new_size(md.size, len)?;
    path.inode().setattr(&SetAttr { size: Some(len), ..Default::default() })?;
    notify::path_event(path, IN_MODIFY);
    Ok(())
}

/// access/faccessat: checks with the real ids unless `effective`.
pub fn access(task: &dyn FsCaller, path: &Path, mode: u32, effective: bool) -> KResult<()> {
    let md = path.metadata()?;
    if mode == 0 {
        return Ok(());
    }
    let mut creds = task.creds();
    if !effective {
        creds.fsuid = creds.uid;
        creds.fsgid = creds.gid;
    }
    if mode & MAY_WRITE != 0 && matches!(md.mode & S_IFMT, S_IFREG | S_IFDIR | S_IFLNK) {
        check_writable(path)?;
    }
    may_access(&creds, &**path.inode(), &md, mode)
}

#[cfg(test)]
mod tests {
    //! Path walks over filesystems built directly: symlinks, "..", mounts.
    use super::*;
    use crate::fs::path::{MountTable, WalkContext, walk, walk_parent};
    use crate::fs::tmpfs::new_tmpfs;

    struct Tree {
        mounts: MountTable,
        root: Path,
    }

    fn tree() -> Tree {
        let mounts = MountTable::new();
        let r = new_tmpfs(1 << 20, 0o755, 0, 0);
        let m = mounts.mount(r, None, "tmpfs", "root", false).unwrap();
        let root = Path { dentry: m.root.clone(), mount: m };
        Tree { mounts, root }
    }

    fn go(t: &Tree, path: &str, follow: bool) -> KResult<Path> {
        let ok = |_: &dyn crate::fs::inode::Inode, _: &Metadata| Ok(());
        let cx = WalkContext { mounts: &t.mounts, root: &t.root, start: &t.root, may_search: &ok };
        walk(&cx, path.as_bytes(), follow)
    }

    fn mkdir(dir: &Path, name: &str) -> Path {
        let inode = dir.inode().create(name.as_bytes(), S_IFDIR | 0o755, 0, 0, 0).unwrap();
        child_path(dir, name.as_bytes(), inode)
    }

    #[test]
    fn walk_follows_symlinks_and_detects_loops() {
        let t = tree();
        let a = mkdir(&t.root, "a");
        mkdir(&a, "b");
        t.root.inode().symlink(b"rel", b"a/b", 0, 0).unwrap();
        t.root.inode().symlink(b"abs", b"/a", 0, 0).unwrap();
        t.root.inode().symlink(b"loop1", b"loop2", 0, 0).unwrap();
        t.root.inode().symlink(b"loop2", b"loop1", 0, 0).unwrap();
        t.root.inode().symlink(b"dangling", b"/nowhere", 0, 0).unwrap();
        assert!(go(&t, "/rel", true).unwrap().metadata().unwrap().is_dir());
        assert_eq!(go(&t, "/rel", false).unwrap().metadata().unwrap().file_type(), S_IFLNK);
        assert_eq!(go(&t, "/rel/", false).unwrap().to_bytes(&t.root), b"/a/b");
        assert_eq!(go(&t, "/abs/b/..", true).unwrap().to_bytes(&t.root), b"/a");
        assert_eq!(go(&t, "/loop1", true).err(), Some(Errno::ELOOP));
        assert_eq!(go(&t, "/loop1/x", false).err(), Some(Errno::ELOOP));
        assert_eq!(go(&t, "/dangling", true).err(), Some(Errno::ENOENT));
        assert!(go(&t, "/dangling", false).is_ok());
        assert_eq!(go(&t, "/../../a/./b", true).unwrap().to_bytes(&t.root), b"/a/b");
    }

    #[test]
    fn walk_crosses_mounts_both_ways() {
        let t = tree();
        let mnt = mkdir(&t.root, "mnt");
        let other = new_tmpfs(1 << 20, 0o755, 0, 0);
        other.create(b"inner", S_IFDIR | 0o755, 0, 0, 0).unwrap();
        t.mounts.mount(other, Some(&mnt), "tmpfs", "other", false).unwrap();
        let inner = go(&t, "/mnt/inner", true).unwrap();
        assert_eq!(inner.to_bytes(&t.root), b"/mnt/inner");
        assert!(t.mounts.is_mountpoint(&mnt));
        assert_eq!(go(&t, "/mnt/inner/../..", true).unwrap().to_bytes(&t.root), b"/");
        let up = go(&t, "/mnt/..", true).unwrap();
        assert!(Arc::ptr_eq(&up.mount, &t.root.mount));
        // The mounted root hides what was under it.
        t.root.inode().lookup(b"mnt").unwrap().create(b"hidden", S_IFREG | 0o644, 0, 0, 0).unwrap();
        assert_eq!(go(&t, "/mnt/hidden", true).err(), Some(Errno::ENOENT));
    }

    #[test]
    fn walk_errors() {
        let t = tree();
        t.root.inode().create(b"file", S_IFREG | 0o644, 0, 0, 0).unwrap();
        assert_eq!(go(&t, "/file/x", true).err(), Some(Errno::ENOTDIR));
        assert_eq!(go(&t, "/file/", true).err(), Some(Errno::ENOTDIR));
        assert_eq!(go(&t, &format!("/{}", "n".repeat(256)), true).err(), Some(Errno::ENAMETOOLONG));
        assert_eq!(go(&t, &"a/".repeat(2100), true).err(), Some(Errno::ENAMETOOLONG));
        let ok = |_: &dyn crate::fs::inode::Inode, _: &Metadata| Ok(());
        let cx = WalkContext { mounts: &t.mounts, root: &t.root, start: &t.root, may_search: &ok };
        let (dir, name, slash) = walk_parent(&cx, b"/file/").unwrap();
        assert_eq!((name.as_slice(), slash), (&b"file"[..], true));
        assert!(dir.metadata().unwrap().is_dir());
        let deny = |_: &dyn crate::fs::inode::Inode, _: &Metadata| Err(Errno::EACCES);
        let cx = WalkContext { mounts: &t.mounts, root: &t.root, start: &t.root, may_search: &deny };
        assert_eq!(walk(&cx, b"/file", true).err(), Some(Errno::EACCES));
    }
}
