//! Dentries, mounts and the path walk (Linux's namei): components, `.` and
//! `..`, symlinks (40 at most), mount crossing in both directions.
//! A directory's dentry remembers its looked-up children (weakly), so a
//! name names one dentry while anyone holds it: rename moves that dentry
//! and unlink marks it, and every cwd, open file and /proc link that holds
//! it follows. Identity is still an inode's (dev, ino).

use parking_lot::{Mutex, RwLock};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use crate::abi::limits::{NAME_MAX, PATH_MAX};
use crate::abi::stat::{S_IFDIR, S_IFLNK, S_IFMT};
use crate::abi::{Errno, KResult};
use crate::fs::fstype::SuperBlock;
use crate::fs::inode::{Inode, InodeRef, Metadata};

const MAX_SYMLINKS: u32 = 40;

/// A name in a directory, with the chain up to its filesystem's root.
pub struct Dentry {
    place: RwLock<Place>,
    pub inode: InodeRef,
    /// Children looked up through this dentry, by name; dead entries are
    /// swept as the map grows.
    children: Mutex<Children<Dentry>>,
}

/// Where a dentry is: rename changes it, unlink or rmdir ends it.
struct Place {
    name: Vec<u8>,
    parent: Option<Arc<Dentry>>,
    unlinked: bool,
}

/// Live objects by name, held weakly (a dentry's children, a share
/// directory's inodes); dead entries are swept as the map doubles.
pub struct Children<T> {
    by_name: HashMap<Vec<u8>, Weak<T>>,
    /// The map's size after the last sweep of dead entries.
    swept: usize,
}

impl<T> Default for Children<T> {
    fn default() -> Self {
        Children { by_name: HashMap::new(), swept: 0 }
    }
}

/// The same inode (one object, or one the filesystem says is the same);
/// a filesystem that can tell neither gets a new dentry per lookup.
fn same_object(a: &InodeRef, b: &InodeRef) -> bool {
    std::ptr::addr_eq(Arc::as_ptr(a), Arc::as_ptr(b)) || a.same_inode(b)
}

impl Dentry {
    pub fn root(inode: InodeRef) -> Arc<Dentry> {
        Dentry::detached(b"/", None, inode)
    }

    /// A dentry in no directory's cache (a root, an O_TMPFILE, a memfd).
    pub fn detached(name: &[u8], parent: Option<Arc<Dentry>>, inode: InodeRef) -> Arc<Dentry> {
        Arc::new(Dentry { place: RwLock::new(Place { name: name.to_vec(), parent, unlinked: false }), inode, children: Default::default() })
    }

    /// The dentry for `name` in `parent` holding `inode`: the cached one
    /// when it holds the same inode, else a new one that replaces it.
    pub fn child(parent: &Arc<Dentry>, name: &[u8], inode: InodeRef) -> Arc<Dentry> {
        let mut children = parent.children.lock();
        if let Some(d) = children.get(name) {
            if same_object(&d.inode, &inode) {
                return d;
            }
        }
        let d = Dentry::detached(name, Some(parent.clone()), inode);
        children.insert(name, &d);
        d
    }

    pub fn name(&self) -> Vec<u8> {
        self.place.read().name.clone()
    }

    pub fn parent(&self) -> Option<Arc<Dentry>> {
        self.place.read().parent.clone()
    }

    /// Its name was removed (Linux's d_unlinked): /proc shows " (deleted)"
    /// and getcwd answers ENOENT.
    pub fn is_unlinked(&self) -> bool {
        self.place.read().unlinked
    }

    pub fn mark_unlinked(&self) {
        self.place.write().unlinked = true;
    }

    /// `name` left `dir` (unlink, rmdir, or replaced by a rename).
    pub fn removed(dir: &Arc<Dentry>, name: &[u8]) {
        let gone = dir.children.lock().take(name);
        if let Some(d) = gone {
            d.mark_unlinked();
        }
    }

    /// A rename moved `old_name` in `old_dir` to `new_name` in `new_dir`
    /// (`exchange`: and the other way round); whatever it replaced is
    /// unlinked.
    pub fn renamed(old_dir: &Arc<Dentry>, old_name: &[u8], new_dir: &Arc<Dentry>, new_name: &[u8], exchange: bool) {
        // One directory's lock at a time: no lock order between them.
        let source = old_dir.children.lock().take(old_name);
        let target = new_dir.children.lock().take(new_name);
        if let Some(s) = &source {
            s.move_to(new_dir, new_name);
        }
        match target {
            Some(t) if exchange => t.move_to(old_dir, old_name),
            Some(t) => t.mark_unlinked(),
            None => {}
        }
    }

    fn move_to(self: &Arc<Dentry>, dir: &Arc<Dentry>, name: &[u8]) {
        {
            let mut place = self.place.write();
            place.name = name.to_vec();
            place.parent = Some(dir.clone());
        }
        dir.children.lock().insert(name, self);
    }
}

impl<T> Children<T> {
    pub fn insert(&mut self, name: &[u8], d: &Arc<T>) {
        self.by_name.insert(name.to_vec(), Arc::downgrade(d));
        if self.by_name.len() > 2 * self.swept.max(32) {
            self.by_name.retain(|_, w| w.strong_count() > 0);
            self.swept = self.by_name.len();
        }
    }

    /// The live object named `name`.
    pub fn get(&self, name: &[u8]) -> Option<Arc<T>> {
        self.by_name.get(name).and_then(Weak::upgrade)
    }

    /// Takes `name` out, with its object if it lives.
    pub fn take(&mut self, name: &[u8]) -> Option<Arc<T>> {
        self.by_name.remove(name).and_then(|w| w.upgrade())
    }
}

/// Per-mount flags (Linux's MNT_*), as mount(2) and /proc show them.
pub const MNT_NOSUID: u32 = 0x01;
pub const MNT_NODEV: u32 = 0x02;
pub const MNT_NOEXEC: u32 = 0x04;
pub const MNT_NOATIME: u32 = 0x08;
pub const MNT_NODIRATIME: u32 = 0x10;
pub const MNT_RELATIME: u32 = 0x20;
pub const MNT_READONLY: u32 = 0x40;
pub const MNT_NOSYMFOLLOW: u32 = 0x80;

/// Where a mount sits: the parent mount and the dentry covered, and
/// (parent mount id, dev, ino) of the covered object for fast crossing
/// checks. None for a root.
#[derive(Clone, Default)]
struct Attachment {
    mountpoint: Option<(Arc<Mount>, Arc<Dentry>)>,
    covers: Option<(u64, u64, u64)>,
}

/// A filesystem attached somewhere in the tree (Linux's struct mount).
pub struct Mount {
    pub id: u64,
    /// The directory it shows at its mount point: the filesystem's root,
    /// or for a bind mount the bound subtree (a fresh parentless dentry, so
    /// `..` and path names stop here).
    pub root: Arc<Dentry>,
    /// Where it is attached (MS_MOVE changes it).
    attachment: RwLock<Attachment>,
    pub fstype: &'static str,
    pub source: String,
    /// The filesystem instance, shared with every other mount of it.
    pub sb: Arc<SuperBlock>,
    /// The mount's root within its filesystem ("/" unless a bind mount).
    pub root_path: Vec<u8>,
    flags: AtomicU32,
    /// MNT_EXPIRE's mark (a second expiring umount unmounts).
    expiry: std::sync::atomic::AtomicBool,
}

impl Mount {
    /// A mount in no table (anonymous inodes' private mounts).
    pub fn detached(root: InodeRef, fstype: &'static str) -> Arc<Mount> {
        let sb = SuperBlock::new(root.clone(), fstype, false, String::new(), None);
        Arc::new(Mount {
            id: 0,
            root: Dentry::root(root),
            attachment: RwLock::new(Attachment::default()),
            fstype,
            source: fstype.to_string(),
            sb,
            root_path: b"/".to_vec(),
            flags: AtomicU32::new(MNT_RELATIME),
            expiry: Default::default(),
        })
    }

    pub fn flags(&self) -> u32 {
        self.flags.load(Ordering::Relaxed)
    }

    /// The parent mount and the dentry this mount covers (None: a root).
    pub fn mountpoint(&self) -> Option<(Arc<Mount>, Arc<Dentry>)> {
        self.attachment.read().mountpoint.clone()
    }

    fn covers(&self) -> Option<(u64, u64, u64)> {
        self.attachment.read().covers
    }

    fn parent_id(&self) -> Option<u64> {
        self.attachment.read().mountpoint.as_ref().map(|(p, _)| p.id)
    }

    pub fn set_flags(&self, flags: u32) {
        self.flags.store(flags, Ordering::Relaxed);
    }

    /// Marks the mount for MNT_EXPIRE; returns whether it was marked before.
    pub fn mark_expiry(&self) -> bool {
        self.expiry.swap(true, Ordering::Relaxed)
    }

    /// Writes are EROFS: the mount or its filesystem is read-only.
    pub fn read_only(&self) -> bool {
        self.flags() & MNT_READONLY != 0 || self.sb.read_only()
    }

    /// statfs's f_flags for this mount (Linux: calculate_f_flags).
    pub fn statfs_flags(&self) -> i64 {
        use crate::abi::statfs::{ST_NODEV, ST_NOEXEC, ST_NOSUID, ST_RDONLY, ST_RELATIME, ST_VALID};
        const ST_NOATIME: i64 = 0x400;
        const ST_NODIRATIME: i64 = 0x800;
        const ST_NOSYMFOLLOW: i64 = 0x2000;
        let mut f = ST_VALID;
        for (mnt, st) in [
            (MNT_NOSUID, ST_NOSUID),
            (MNT_NODEV, ST_NODEV),
            (MNT_NOEXEC, ST_NOEXEC),
            (MNT_NOATIME, ST_NOATIME),
            (MNT_NODIRATIME, ST_NODIRATIME),
            (MNT_RELATIME, ST_RELATIME),
            (MNT_NOSYMFOLLOW, ST_NOSYMFOLLOW),
        ] {
            if self.flags() & mnt != 0 {
                f |= st;
            }
        }
        if self.read_only() {
            f |= ST_RDONLY;
        }
        f
    }

    pub fn noexec(&self) -> bool {
        self.flags() & MNT_NOEXEC != 0
    }

    pub fn nodev(&self) -> bool {
        self.flags() & MNT_NODEV != 0
    }
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
        self.path_from(root).0
    }

    /// What a /proc link shows (Linux's d_path): the path from `root`, and
    /// " (deleted)" once its name is gone.
    pub fn link_text(&self, root: &Path) -> Vec<u8> {
        let mut text = self.to_bytes(root);
        let regular_gone = || self.metadata().is_ok_and(|md| md.nlink == 0 && !md.is_dir());
        if self.dentry.is_unlinked() || regular_gone() {
            text.extend_from_slice(b" (deleted)");
        }
        text
    }

    /// The path as seen from `root`, or None when this place is not below
    /// `root` (/proc/<pid>/mounts skips such mounts).
    pub fn to_bytes_within(&self, root: &Path) -> Option<Vec<u8>> {
        let (path, inside) = self.path_from(root);
        inside.then_some(path)
    }

    fn path_from(&self, root: &Path) -> (Vec<u8>, bool) {
        let mut inside = false;
        let mut mount = self.mount.clone();
        let mut dentry = self.dentry.clone();
        let mut chain: Vec<Arc<Dentry>> = Vec::new();
        loop {
            if Arc::ptr_eq(&mount, &root.mount) && same_dentry(&dentry, &root.dentry) {
                inside = true;
                break;
            }
            match dentry.parent() {
                Some(parent) => {
                    chain.push(dentry.clone());
                    dentry = parent;
                }
                None => match &mount.mountpoint() {
                    Some((parent_mount, covered)) => {
                        let (m, d) = (parent_mount.clone(), covered.clone());
                        mount = m;
                        dentry = d;
                    }
                    None => break,
                },
            }
        }
        if chain.is_empty() {
            return (b"/".to_vec(), inside);
        }
        let mut out = Vec::new();
        for d in chain.iter().rev() {
            out.push(b'/');
            out.extend_from_slice(&d.place.read().name);
        }
        (out, inside)
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
        let sb = SuperBlock::new(root, fstype, read_only, options.to_string(), None);
        let root = Dentry::root(sb.root.clone());
        self.attach(sb, root, b"/".to_vec(), at, source, MNT_RELATIME)
    }

    /// Attaches superblock `sb` (its subtree `root`, at `root_path` within
    /// it) on `at`, with per-mount `flags` (MNT_*).
    pub fn attach(&self, sb: Arc<SuperBlock>, root: Arc<Dentry>, root_path: Vec<u8>, at: Option<&Path>, source: &str, flags: u32) -> KResult<Arc<Mount>> {
        let attachment = Self::attachment_at(&root, at)?;
        let mount = Arc::new(Mount {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            root,
            attachment: RwLock::new(attachment),
            fstype: sb.fstype,
            source: source.to_string(),
            sb,
            root_path,
            flags: AtomicU32::new(flags),
            expiry: Default::default(),
        });
        self.mounts.write().push(mount.clone());
        Ok(mount)
    }

    /// Where a mount whose root is `root` attaches on `at`: a directory
    /// covers a directory, a file a file (ENOTDIR otherwise).
    fn attachment_at(root: &Arc<Dentry>, at: Option<&Path>) -> KResult<Attachment> {
        let Some(p) = at else { return Ok(Attachment::default()) };
        let md = p.metadata()?;
        if md.is_dir() != root.inode.metadata()?.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        Ok(Attachment { mountpoint: Some((p.mount.clone(), p.dentry.clone())), covers: Some((p.mount.id, md.dev, md.ino)) })
    }

    /// MS_MOVE: `mount` (with everything below it) now sits on `to`.
    /// EINVAL for a root or a mount not in the table, ELOOP for a place
    /// inside the moved tree (Linux: do_move_mount).
    pub fn move_mount(&self, mount: &Arc<Mount>, to: &Path) -> KResult<()> {
        if mount.mountpoint().is_none() || !self.contains(mount) || !self.contains(&to.mount) {
            return Err(Errno::EINVAL);
        }
        let mut p = Some(to.mount.clone());
        while let Some(m) = p {
            if m.id == mount.id {
                return Err(Errno::ELOOP);
            }
            p = m.mountpoint().map(|(parent, _)| parent);
        }
        let attachment = Self::attachment_at(&mount.root, Some(to))?;
        let _table = self.mounts.write();
        *mount.attachment.write() = attachment;
        Ok(())
    }

    /// Takes `mount` and everything mounted below it out of the tree
    /// (umount, MNT_DETACH); open files keep their mounts alive.
    pub fn detach_tree(&self, mount: &Arc<Mount>) -> Vec<Arc<Mount>> {
        let mut table = self.mounts.write();
        let mut gone: Vec<Arc<Mount>> = vec![mount.clone()];
        let mut i = 0;
        while i < gone.len() {
            let id = gone[i].id;
            for m in table.iter() {
                if m.parent_id() == Some(id) && !gone.iter().any(|g| g.id == m.id) {
                    gone.push(m.clone());
                }
            }
            i += 1;
        }
        table.retain(|m| !gone.iter().any(|g| g.id == m.id));
        gone
    }

    /// Mounts attached directly on `mount`.
    pub fn children(&self, mount: &Mount) -> Vec<Arc<Mount>> {
        self.mounts.read().iter().filter(|m| m.parent_id() == Some(mount.id)).cloned().collect()
    }

    /// Is `mount` still in the table?
    pub fn contains(&self, mount: &Mount) -> bool {
        self.mounts.read().iter().any(|m| m.id == mount.id)
    }

    pub fn all(&self) -> Vec<Arc<Mount>> {
        self.mounts.read().clone()
    }

    /// The mount stacked on (mount, dev, ino), newest first, if any.
    fn mounted_on(&self, mount_id: u64, md: &Metadata) -> Option<Arc<Mount>> {
        let mounts = self.mounts.read();
        mounts.iter().rev().find(|m| m.covers() == Some((mount_id, md.dev, md.ino))).cloned()
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
    pub may_search: &'a dyn Fn(&dyn Inode, &Metadata) -> KResult<()>,
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
#[cfg(test)]
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
    (cx.may_search)(&**dir.inode(), &md)?;
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
        (cx.may_search)(&**current.inode(), &md)?;
        if name.len() > NAME_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        current = match *name {
            b"." => current,
            b".." => step_up(cx, current),
            _ => {
                let inode = current.inode().lookup(name)?;
                let child = Path { mount: current.mount.clone(), dentry: Dentry::child(&current.dentry, name, inode) };
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
        if let Some(parent) = current.dentry.parent() {
            return Path { mount: current.mount.clone(), dentry: parent };
        }
        match current.mount.mountpoint() {
            Some((m, d)) => current = Path { mount: m.clone(), dentry: d.clone() },
            None => return current,
        }
    }
}
