//! Dentries, mounts and the path walk (Linux's namei): components, `.` and
//! `..`, symlinks (40 at most), mount crossing in both directions.
//! Dentries are not cached yet: a walk builds the chain it needs, and
//! identity is an inode's (dev, ino).

use parking_lot::RwLock;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::abi::limits::{NAME_MAX, PATH_MAX};
use crate::abi::stat::{S_IFDIR, S_IFLNK, S_IFMT};
use crate::abi::{Errno, KResult};
use crate::fs::inode::{InodeRef, Metadata};

const MAX_SYMLINKS: u32 = 40;

/// A name in a directory, with the chain up to its filesystem's root.
pub struct Dentry {
    pub name: Vec<u8>,
    pub parent: Option<Arc<Dentry>>,
    pub inode: InodeRef,
}

impl Dentry {
    pub fn root(inode: InodeRef) -> Arc<Dentry> {
        Arc::new(Dentry { name: b"/".to_vec(), parent: None, inode })
    }
}

/// A filesystem attached somewhere in the tree.
pub struct Mount {
    pub id: u64,
    pub root: Arc<Dentry>,
    /// Where it is attached: the parent mount and the dentry covered.
    pub mountpoint: Option<(Arc<Mount>, Arc<Dentry>)>,
    /// (dev, ino) of the covered directory, for fast crossing checks.
    pub covers: Option<(u64, u64, u64)>,
    pub fstype: &'static str,
    pub source: String,
    pub read_only: bool,
    /// Filesystem options /proc/mounts shows after rw/ro (e.g. an
    /// overlay's lowerdir=...), or empty.
    pub options: String,
}

/// A place in the tree: a dentry within a mount.
#[derive(Clone)]
pub struct Path {
    pub mount: Arc<Mount>,
    pub dentry: Arc<Dentry>,
}

impl Path {
    pub fn inode(&self) -> &InodeRef {
        &self.dentry.inode
    }

    pub fn metadata(&self) -> KResult<Metadata> {
        self.dentry.inode.metadata()
    }

    /// The absolute path as seen from `root` (for getcwd and /proc links).
    pub fn to_bytes(&self, root: &Path) -> Vec<u8> {
        let mut parts: Vec<&[u8]> = Vec::new();
        let mut mount = self.mount.clone();
        let mut dentry = self.dentry.clone();
        let mut chain: Vec<Arc<Dentry>> = Vec::new();
        loop {
            if Arc::ptr_eq(&mount, &root.mount) && same_dentry(&dentry, &root.dentry) {
                break;
            }
            match &dentry.parent {
                Some(parent) => {
                    chain.push(dentry.clone());
                    dentry = parent.clone();
                }
                None => match &mount.mountpoint {
                    Some((parent_mount, covered)) => {
                        let (m, d) = (parent_mount.clone(), covered.clone());
                        mount = m;
                        dentry = d;
                    }
                    None => break,
                },
            }
        }
        for d in chain.iter().rev() {
            parts.push(&d.name);
        }
        if parts.is_empty() {
            return b"/".to_vec();
        }
        let mut out = Vec::new();
        for p in parts {
            out.push(b'/');
            out.extend_from_slice(p);
        }
        out
    }
}

fn same_dentry(a: &Arc<Dentry>, b: &Arc<Dentry>) -> bool {
    if Arc::ptr_eq(a, b) {
        return true;
    }
    match (a.inode.metadata(), b.inode.metadata()) {
        (Ok(x), Ok(y)) => x.dev == y.dev && x.ino == y.ino,
        _ => false,
    }
}

/// The kernel's mount table.
pub struct MountTable {
    mounts: RwLock<Vec<Arc<Mount>>>,
    next_id: AtomicU64,
}

impl MountTable {
    pub fn new() -> MountTable {
        MountTable { mounts: RwLock::new(Vec::new()), next_id: AtomicU64::new(1) }
    }

    /// Mounts a filesystem whose root is `root`; `at` = None makes it the
    /// root mount.
    pub fn mount(&self, root: InodeRef, at: Option<&Path>, fstype: &'static str, source: &str, read_only: bool) -> KResult<Arc<Mount>> {
        self.mount_with_options(root, at, fstype, source, read_only, "")
    }

    /// `mount` with filesystem options for /proc/mounts.
    pub fn mount_with_options(
        &self,
        root: InodeRef,
        at: Option<&Path>,
        fstype: &'static str,
        source: &str,
        read_only: bool,
        options: &str,
    ) -> KResult<Arc<Mount>> {
        let covers = match at {
            Some(p) => {
                let md = p.metadata()?;
                if !md.is_dir() {
                    return Err(Errno::ENOTDIR);
                }
                Some((p.mount.id, md.dev, md.ino))
            }
            None => None,
        };
        let mount = Arc::new(Mount {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            root: Dentry::root(root),
            mountpoint: at.map(|p| (p.mount.clone(), p.dentry.clone())),
            covers,
            fstype,
            source: source.to_string(),
            read_only,
            options: options.to_string(),
        });
        self.mounts.write().push(mount.clone());
        Ok(mount)
    }

    pub fn all(&self) -> Vec<Arc<Mount>> {
        self.mounts.read().clone()
    }

    /// The mount stacked on (mount, dev, ino), newest first, if any.
    fn mounted_on(&self, mount_id: u64, md: &Metadata) -> Option<Arc<Mount>> {
        let mounts = self.mounts.read();
        mounts.iter().rev().find(|m| m.covers == Some((mount_id, md.dev, md.ino))).cloned()
    }

    /// Is something mounted on `path` (EBUSY for rmdir, rename, unlink)?
    pub fn is_mountpoint(&self, path: &Path) -> bool {
        match path.metadata() {
            Ok(md) => self.mounted_on(path.mount.id, &md).is_some(),
            Err(_) => false,
        }
    }

    /// Follows mounts stacked on `path` down to the topmost.
    fn cross_down(&self, mut path: Path) -> KResult<Path> {
        loop {
            let md = path.metadata()?;
            if md.file_type() != S_IFDIR {
                return Ok(path);
            }
            match self.mounted_on(path.mount.id, &md) {
                Some(m) => path = Path { dentry: m.root.clone(), mount: m },
                None => return Ok(path),
            }
        }
    }
}

/// What the caller of a walk needs besides the path string.
pub struct WalkContext<'a> {
    pub mounts: &'a MountTable,
    pub root: &'a Path,
    /// Where a relative path starts (cwd or a dirfd's directory).
    pub start: &'a Path,
    /// Checks search (x) permission on a directory before entering it.
    pub may_search: &'a dyn Fn(&Metadata) -> KResult<()>,
}

/// Walks `path` to the object it names. `follow_last` follows a final
/// symlink (the opposite of O_NOFOLLOW / AT_SYMLINK_NOFOLLOW).
pub fn walk(cx: &WalkContext<'_>, path: &[u8], follow_last: bool) -> KResult<Path> {
    let mut links = 0;
    walk_inner(cx, path, follow_last, &mut links)
}

/// Walks to the parent directory of `path`'s last component, returning the
/// directory and the last name. A path ending in "/" keeps the name and sets
/// `trailing_slash`; "." and ".." as last components are reported as-is
/// so callers can answer EEXIST/EBUSY/EINVAL the way Linux does.
pub fn walk_parent(cx: &WalkContext<'_>, path: &[u8]) -> KResult<(Path, Vec<u8>, bool)> {
    let found = walk_parent_any_length(cx, path)?;
    check_name_length(&found.1)?;
    Ok(found)
}

/// ENAMETOOLONG for a last component longer than NAME_MAX: Linux finds
/// out only when it looks the name up, after the walk to its parent.
pub fn check_name_length(name: &[u8]) -> KResult<()> {
    if name.len() > NAME_MAX { Err(Errno::ENAMETOOLONG) } else { Ok(()) }
}

/// `walk_parent` without the last component's length check, for rename,
/// which walks to both parents before it looks either name up.
pub fn walk_parent_any_length(cx: &WalkContext<'_>, path: &[u8]) -> KResult<(Path, Vec<u8>, bool)> {
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    let trailing_slash = path.ends_with(b"/");
    let trimmed = trim_trailing_slashes(path);
    let (dir_part, name) = match trimmed.iter().rposition(|&c| c == b'/') {
        Some(i) => (&trimmed[..=i], &trimmed[i + 1..]),
        None => (&b""[..], trimmed),
    };
    if name.is_empty() {
        // The path is "/" (or all slashes): it has no parent entry.
        return Ok((cx.root.clone(), b"/".to_vec(), trailing_slash));
    }
    let dir = if dir_part.is_empty() { cx.start.clone() } else { walk(cx, dir_part, true)? };
    let md = dir.metadata()?;
    if !md.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    (cx.may_search)(&md)?;
    Ok((dir, name.to_vec(), trailing_slash))
}

fn trim_trailing_slashes(path: &[u8]) -> &[u8] {
    let mut end = path.len();
    while end > 1 && path[end - 1] == b'/' {
        end -= 1;
    }
    &path[..end]
}

fn walk_inner(cx: &WalkContext<'_>, path: &[u8], follow_last: bool, links: &mut u32) -> KResult<Path> {
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    if path.len() >= PATH_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    let mut current = if path[0] == b'/' { cx.root.clone() } else { cx.start.clone() };
    let must_be_dir = path.ends_with(b"/");
    let components: Vec<&[u8]> = path.split(|&c| c == b'/').filter(|c| !c.is_empty()).collect();
    for (i, name) in components.iter().enumerate() {
        let last = i + 1 == components.len();
        let md = current.metadata()?;
        if !md.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        (cx.may_search)(&md)?;
        if name.len() > NAME_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        current = match *name {
            b"." => current,
            b".." => step_up(cx, current),
            _ => {
                let inode = current.inode().lookup(name)?;
                let child =
                    Path { mount: current.mount.clone(), dentry: Arc::new(Dentry { name: name.to_vec(), parent: Some(current.dentry.clone()), inode }) };
                let child = cx.mounts.cross_down(child)?;
                let cmd = child.metadata()?;
                if cmd.mode & S_IFMT == S_IFLNK && (!last || follow_last || must_be_dir) {
                    *links += 1;
                    if *links > MAX_SYMLINKS {
                        return Err(Errno::ELOOP);
                    }
                    if let Some(target) = child.inode().magic_link() {
                        target
                    } else {
                        let target = child.inode().readlink()?;
                        let base = WalkContext { mounts: cx.mounts, root: cx.root, start: &current, may_search: cx.may_search };
                        walk_inner(&base, &target, true, links)?
                    }
                } else {
                    child
                }
            }
        };
    }
    if must_be_dir && !current.metadata()?.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    Ok(current)
}

/// `..`: never above the walk's root; across a mount root to the covered
/// directory's parent.
fn step_up(cx: &WalkContext<'_>, mut current: Path) -> Path {
    loop {
        if Arc::ptr_eq(&current.mount, &cx.root.mount) && same_dentry(&current.dentry, &cx.root.dentry) {
            return current;
        }
        if let Some(parent) = &current.dentry.parent {
            return Path { mount: current.mount.clone(), dentry: parent.clone() };
        }
        match &current.mount.mountpoint {
            Some((m, d)) => current = Path { mount: m.clone(), dentry: d.clone() },
            None => return current,
        }
    }
}
