//! Filesystem change notification (Linux's fs/notify, "fsnotify"): marks
//! that inotify watches and dnotify requests put on inodes, keyed by
//! (dev, ino), and one call per VFS event that hands the event to the
//! marks on the inode and, for an event on an entry of a directory, to the
//! marks on the directory too, with the entry's name (parent first, as
//! Linux's fsnotify_parent). With no mark anywhere every call returns at
//! once (an atomic count), so the hooks cost nothing. dnotify (F_NOTIFY)
//! lives here as well: a mark that sends SIGIO to the directory file's
//! owner. Called by fs::namei, fs::io, `File`'s drop, close_fd and the
//! attribute system calls; marks are called with no table lock held.
//!
//! Not modelled: IN_DELETE_SELF of a file still open when its last name
//! goes comes at once (Linux waits for the last close); IN_UNMOUNT; exec
//! opens and xattr changes generate no events.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, Weak};

use crate::abi::event::{
    IN_ACCESS, IN_ATTRIB, IN_CLOSE_NOWRITE, IN_CLOSE_WRITE, IN_CREATE, IN_DELETE, IN_DELETE_SELF, IN_ISDIR, IN_MODIFY, IN_MOVE_SELF, IN_MOVED_FROM,
    IN_MOVED_TO, IN_OPEN,
};
use crate::abi::fcntl::{DN_ACCESS, DN_ATTRIB, DN_CREATE, DN_DELETE, DN_MODIFY, DN_MULTISHOT, DN_RENAME, O_PATH};
use crate::abi::signal::POLL_MSG;
use crate::abi::{Errno, KResult};
use crate::fs::fasync::{FileOwner, send_sigio};
use crate::fs::file::File;
use crate::fs::inode::InodeRef;
use crate::fs::path::Path;

/// An inode's identity.
pub type Key = (u64, u64);

/// A rename seen from the old directory (Linux's internal FS_RENAME):
/// dnotify's DN_RENAME; inotify has no such event.
pub const FS_RENAME: u32 = 0x1000_0000;

/// Something that wants to hear of events on an inode.
pub trait Mark: Send + Sync {
    /// The events wanted (IN_* bits, FS_RENAME).
    fn mask(&self) -> u32;
    /// An event, with IN_ISDIR when its subject is a directory; `name` is
    /// the entry for an event on an entry of this mark's directory.
    fn event(&self, mask: u32, cookie: u32, name: Option<&[u8]>);
    /// Whether the mark stays after an event: false once it is done
    /// (IN_ONESHOT, dnotify without DN_MULTISHOT) and must go.
    fn stays(&self) -> bool {
        true
    }
    /// The inode is gone and so is the mark (inotify queues IN_IGNORED).
    fn gone(&self) {}
}

/// How many marks exist: zero is the fast path of every hook.
static MARKS: AtomicUsize = AtomicUsize::new(0);

fn table() -> &'static Mutex<HashMap<Key, Vec<Arc<dyn Mark>>>> {
    static TABLE: OnceLock<Mutex<HashMap<Key, Vec<Arc<dyn Mark>>>>> = OnceLock::new();
    TABLE.get_or_init(Default::default)
}

fn same(a: &Arc<dyn Mark>, b: &Arc<dyn Mark>) -> bool {
    std::ptr::eq(Arc::as_ptr(a) as *const (), Arc::as_ptr(b) as *const ())
}

pub fn add_mark(key: Key, mark: Arc<dyn Mark>) {
    table().lock().entry(key).or_default().push(mark);
    MARKS.fetch_add(1, Ordering::Relaxed);
}

/// Takes `mark` off `key`; false if it was not there.
pub fn remove_mark(key: Key, mark: &Arc<dyn Mark>) -> bool {
    let mut t = table().lock();
    let Some(list) = t.get_mut(&key) else { return false };
    let Some(i) = list.iter().position(|m| same(m, mark)) else { return false };
    list.remove(i);
    if list.is_empty() {
        t.remove(&key);
    }
    MARKS.fetch_sub(1, Ordering::Relaxed);
    true
}

fn active() -> bool {
    MARKS.load(Ordering::Relaxed) > 0
}

fn marks_on(key: Key) -> Vec<Arc<dyn Mark>> {
    table().lock().get(&key).cloned().unwrap_or_default()
}

/// Hands an event to the marks on `key` that want it.
fn deliver(key: Key, mask: u32, cookie: u32, name: Option<&[u8]>) {
    let kind = mask & !IN_ISDIR;
    for m in marks_on(key) {
        if m.mask() & kind != 0 {
            m.event(mask, cookie, name);
            if !m.stays() {
                remove_mark(key, &m);
            }
        }
    }
}

fn key_of(inode: &InodeRef) -> Option<(Key, bool)> {
    let md = inode.metadata().ok()?;
    Some(((md.dev, md.ino), md.is_dir()))
}

fn isdir(is_dir: bool) -> u32 {
    if is_dir { IN_ISDIR } else { 0 }
}

/// The inode is gone: IN_DELETE_SELF (never with IN_ISDIR, as Linux
/// reports it), then every mark on it goes.
fn inode_gone(key: Key) {
    deliver(key, IN_DELETE_SELF, 0, None);
    let marks = table().lock().remove(&key).unwrap_or_default();
    MARKS.fetch_sub(marks.len(), Ordering::Relaxed);
    for m in marks {
        m.gone();
    }
}

/// An event on the inode at `path` (IN_ACCESS, IN_MODIFY, IN_ATTRIB,
/// IN_OPEN, IN_CLOSE_*): its directory's marks hear of it with the
/// entry's name, then its own.
pub fn path_event(path: &Path, mask: u32) {
    if !active() {
        return;
    }
    let Some((key, is_dir)) = key_of(path.inode()) else { return };
    let mask = mask | isdir(is_dir);
    if let Some((parent, _)) = path.dentry.parent().and_then(|p| key_of(&p.inode)) {
        deliver(parent, mask, 0, Some(&path.dentry.name()));
    }
    deliver(key, mask, 0, None);
}

fn file_event(file: &File, mask: u32) {
    if !active() || file.flags() & O_PATH != 0 {
        return;
    }
    if let Some(path) = &file.path {
        path_event(path, mask);
    }
}

/// Data was read from `file` (read, pread, sendfile's source, getdents).
pub fn access(file: &File) {
    file_event(file, IN_ACCESS);
}

/// Data was written to `file` (or its size changed through it).
pub fn modify(file: &File) {
    file_event(file, IN_MODIFY);
}

/// `file` was opened.
pub fn opened(file: &File) {
    file_event(file, IN_OPEN);
}

/// The last reference to `file` went.
pub fn closed(file: &File) {
    file_event(file, if file.writable() { IN_CLOSE_WRITE } else { IN_CLOSE_NOWRITE });
}

/// `name` was made in `dir` (open O_CREAT, mkdir, mknod, symlink).
pub fn created(dir: &Path, name: &[u8], is_dir: bool) {
    if !active() {
        return;
    }
    if let Some((key, _)) = key_of(dir.inode()) {
        deliver(key, IN_CREATE | isdir(is_dir), 0, Some(name));
    }
}

/// link(2) made `name` in `dir` for `inode`: its link count changed
/// (IN_ATTRIB), then the directory's IN_CREATE (Linux's fsnotify_link).
pub fn linked(dir: &Path, name: &[u8], inode: &InodeRef) {
    if !active() {
        return;
    }
    if let Some((key, is_dir)) = key_of(inode) {
        deliver(key, IN_ATTRIB | isdir(is_dir), 0, None);
    }
    created(dir, name, false);
}

/// What `removed` and `moved` need of an inode that lost a name.
#[derive(Clone, Copy)]
pub struct Victim {
    pub key: Key,
    pub is_dir: bool,
    /// That was its last name: the inode is gone.
    pub gone: bool,
}

/// `name` was removed from `dir` (unlink, rmdir): an unlinked file's link
/// count changed (IN_ATTRIB), a gone inode gets IN_DELETE_SELF and loses
/// its marks, then the directory's IN_DELETE (Linux's d_delete_notify).
pub fn removed(dir: &Path, name: &[u8], victim: Victim) {
    if !active() {
        return;
    }
    if !victim.is_dir {
        deliver(victim.key, IN_ATTRIB, 0, None);
    }
    if victim.gone {
        inode_gone(victim.key);
    }
    if let Some((key, _)) = key_of(dir.inode()) {
        deliver(key, IN_DELETE | isdir(victim.is_dir), 0, Some(name));
    }
}

/// A rename: IN_MOVED_FROM and IN_MOVED_TO with one cookie, a replaced
/// target's IN_ATTRIB, the source's IN_MOVE_SELF, then a replaced target
/// that lost its last name goes (Linux's fsnotify_move, then the dput).
pub fn moved(old_dir: &Path, old_name: &[u8], new_dir: &Path, new_name: &[u8], source: Victim, replaced: Option<Victim>) {
    if !active() {
        return;
    }
    static COOKIE: AtomicU32 = AtomicU32::new(0);
    let cookie = COOKIE.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
    let flag = isdir(source.is_dir);
    if let (Some((old, _)), Some((new, _))) = (key_of(old_dir.inode()), key_of(new_dir.inode())) {
        deliver(old, FS_RENAME | flag, 0, Some(old_name));
        deliver(old, IN_MOVED_FROM | flag, cookie, Some(old_name));
        deliver(new, IN_MOVED_TO | flag, cookie, Some(new_name));
    }
    if let Some(t) = replaced {
        deliver(t.key, IN_ATTRIB | isdir(t.is_dir), 0, None);
    }
    deliver(source.key, IN_MOVE_SELF, 0, None);
    if let Some(t) = replaced.filter(|t| t.gone) {
        inode_gone(t.key);
    }
}

// ---- dnotify ----

/// One F_NOTIFY request: a directory file, the fd it came through and the
/// process that made it (Linux's dnotify_struct).
struct Dnotify {
    file: Weak<File>,
    fd: AtomicU32,
    tgid: i32,
    /// DN_* bits.
    dn_mask: AtomicU32,
}

/// The fsnotify events DN_* bits stand for (Linux's convert_arg).
fn dn_to_fs(dn: u32) -> u32 {
    let mut m = 0;
    if dn & DN_DELETE != 0 {
        m |= IN_DELETE | IN_MOVED_FROM;
    }
    if dn & DN_MODIFY != 0 {
        m |= IN_MODIFY;
    }
    if dn & DN_ACCESS != 0 {
        m |= IN_ACCESS;
    }
    if dn & DN_ATTRIB != 0 {
        m |= IN_ATTRIB;
    }
    if dn & DN_RENAME != 0 {
        m |= FS_RENAME;
    }
    if dn & DN_CREATE != 0 {
        m |= IN_CREATE | IN_MOVED_TO;
    }
    m
}

impl Mark for Dnotify {
    fn mask(&self) -> u32 {
        dn_to_fs(self.dn_mask.load(Ordering::Relaxed))
    }

    fn event(&self, _mask: u32, _cookie: u32, _name: Option<&[u8]>) {
        if let Some(file) = self.file.upgrade() {
            send_sigio(file.owner(), self.fd.load(Ordering::Relaxed) as i32, POLL_MSG);
        }
        if self.dn_mask.load(Ordering::Relaxed) & DN_MULTISHOT == 0 {
            self.dn_mask.store(0, Ordering::Relaxed);
        }
    }

    fn stays(&self) -> bool {
        self.file.strong_count() > 0 && self.dn_mask.load(Ordering::Relaxed) & !DN_MULTISHOT != 0
    }
}

/// fcntl(F_NOTIFY): `arg` DN_* events on the directory open as `file`
/// (through `fd`, in process `tgid`) signal the file's owner, which
/// becomes `owner` unless the file has one. No events (only DN_MULTISHOT,
/// or 0) cancels. A second request by the same process adds its events to
/// the first (Linux's attach_dn). ENOTDIR unless a directory.
pub fn dnotify(file: &Arc<File>, fd: i32, tgid: i32, arg: u32, owner: FileOwner) -> KResult<()> {
    let md = file.metadata()?;
    let key = (md.dev, md.ino);
    if arg & !DN_MULTISHOT == 0 {
        dnotify_flush(file, tgid);
        return Ok(());
    }
    if !md.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    if file.owner().id == 0 {
        file.set_owner(FileOwner { signum: file.owner().signum, ..owner });
    }
    let mut list = DNOTIFY.lock();
    // Requests that fired their one shot, or whose file went, are gone.
    list.retain(|(_, d)| d.stays());
    let existing = list.iter().find(|(k, d)| *k == key && d.tgid == tgid && std::ptr::eq(d.file.as_ptr(), Arc::as_ptr(file)));
    if let Some((_, d)) = existing {
        d.fd.store(fd as u32, Ordering::Relaxed);
        d.dn_mask.fetch_or(arg, Ordering::Relaxed);
        return Ok(());
    }
    let d = Arc::new(Dnotify { file: Arc::downgrade(file), fd: AtomicU32::new(fd as u32), tgid, dn_mask: AtomicU32::new(arg) });
    list.push((key, d.clone()));
    drop(list);
    add_mark(key, d);
    Ok(())
}

/// Every live F_NOTIFY request, to find one again (the mark table holds
/// them as `dyn Mark`).
static DNOTIFY: Mutex<Vec<(Key, Arc<Dnotify>)>> = Mutex::new(Vec::new());

/// Process `tgid` closed an fd of `file`: its F_NOTIFY requests on it go
/// (Linux's dnotify_flush, from filp_close).
pub fn dnotify_flush(file: &File, tgid: i32) {
    if !active() {
        return;
    }
    let gone: Vec<(Key, Arc<Dnotify>)> = {
        let mut list = DNOTIFY.lock();
        let (gone, keep): (Vec<_>, Vec<_>) =
            std::mem::take(&mut *list).into_iter().partition(|(_, d)| d.file.strong_count() == 0 || (d.tgid == tgid && std::ptr::eq(d.file.as_ptr(), file)));
        *list = keep;
        gone
    };
    for (key, d) in gone {
        remove_mark(key, &(d as Arc<dyn Mark>));
    }
}
