//! Namespace operations by inode number: lookup, create (files, FIFOs,
//! sockets, devices), mkdir, symlink (fast and slow), link, unlink, rmdir,
//! rename with NOREPLACE and EXCHANGE, readlink, truncate and setattr.
//! Link counts follow Linux (dir_nlink: a directory past 65000 links counts
//! 1), and every step that can fail for want of space runs before the steps
//! that cannot be undone.

use super::dir::{NAME_MAX, ftype_of_mode};
use super::extent::{Extent, init_root};
use super::fs::Inner;
use super::inode::*;
use super::{Attr, EUCLEAN, KResult, SetAttr};
use crate::abi::Errno;

pub const LINK_MAX: u16 = 65000;
pub const RENAME_NOREPLACE: u32 = 1;
pub const RENAME_EXCHANGE: u32 = 2;

fn check_name(name: &[u8]) -> KResult<()> {
    if name.is_empty() {
        return Err(Errno::ENOENT);
    }
    if name.len() > NAME_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    if name.contains(&b'/') || name.contains(&0) {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

fn is_dot(name: &[u8]) -> bool {
    name == b"." || name == b".."
}

impl Inner {
    fn read_dir_inode(&mut self, ino: u32) -> KResult<DiskInode> {
        let d = self.read_inode(ino)?;
        if !d.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        Ok(d)
    }

    pub fn lookup(&mut self, dir: u32, name: &[u8]) -> KResult<u32> {
        let d = self.read_dir_inode(dir)?;
        if name.len() > NAME_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        match self.dir_find(dir, &d, name)? {
            Some((ino, _, _, _)) => {
                if ino == 0 || ino > self.g.inodes_count {
                    return Err(EUCLEAN);
                }
                // Linux: "deleted inode referenced" is corruption.
                let child = self.read_inode(ino)?;
                if child.links() == 0 || child.mode() == 0 {
                    return Err(EUCLEAN);
                }
                Ok(ino)
            }
            None => Err(Errno::ENOENT),
        }
    }

    /// A new inode's record, ready for its type-specific setup.
    fn new_inode(&mut self, parent: u32, mode: u32, uid: u32, gid: u32) -> KResult<(u32, DiskInode)> {
        let is_dir = mode & S_IFMT == S_IFDIR;
        let ino = self.alloc_inode(parent, is_dir)?;
        let mut i = self.blank_inode();
        i.set_mode(mode);
        i.set_uid(uid);
        i.set_gid(gid);
        i.set_links(if is_dir { 2 } else { 1 });
        let now = self.now();
        for t in [Time::Access, Time::Change, Time::Modify, Time::Create] {
            i.set_time(t, now);
        }
        let generation = self.new_generation();
        super::layout::w32(&mut i.raw, I_GENERATION, generation);
        if self.g.has_extents() && matches!(mode & S_IFMT, S_IFREG | S_IFDIR | S_IFLNK) {
            i.set_flags(FL_EXTENTS);
            init_root(i.i_block_mut());
        }
        Ok((ino, i))
    }

    /// Undoes `new_inode` when a later step failed.
    fn discard_inode(&mut self, ino: u32, i: &mut DiskInode) -> KResult<()> {
        i.set_links(0);
        let now = self.now();
        i.set_dtime(now.tv_sec as u32);
        self.write_inode(ino, i)?;
        self.free_inode(ino, i.is_dir())
    }

    fn prepare_entry(&mut self, dir: u32, name: &[u8]) -> KResult<DiskInode> {
        check_name(name)?;
        let d = self.read_dir_inode(dir)?;
        if d.links() == 0 {
            return Err(Errno::ENOENT);
        }
        if is_dot(name) || self.dir_find(dir, &d, name)?.is_some() {
            return Err(Errno::EEXIST);
        }
        Ok(d)
    }

    fn touch_dir(&mut self, dir: u32, d: &mut DiskInode) -> KResult<()> {
        let now = self.now();
        d.set_time(Time::Modify, now);
        d.set_time(Time::Change, now);
        self.write_inode(dir, d)
    }

    pub fn create(&mut self, dir: u32, name: &[u8], mode: u32, uid: u32, gid: u32, rdev: u64) -> KResult<Attr> {
        let ft = mode & S_IFMT;
        let mode = if ft == 0 { mode | S_IFREG } else { mode };
        if !matches!(mode & S_IFMT, S_IFREG | S_IFIFO | S_IFSOCK | S_IFCHR | S_IFBLK) {
            return Err(Errno::EINVAL);
        }
        let mut d = self.prepare_entry(dir, name)?;
        let (ino, mut i) = self.new_inode(dir, mode, uid, gid)?;
        if matches!(mode & S_IFMT, S_IFCHR | S_IFBLK) {
            i.set_rdev(rdev);
        }
        self.write_inode(ino, &i)?;
        if let Err(e) = self.dir_add(dir, &mut d, name, ino, ftype_of_mode(mode)) {
            self.discard_inode(ino, &mut i)?;
            self.write_inode(dir, &d)?;
            return Err(e);
        }
        self.touch_dir(dir, &mut d)?;
        self.getattr(ino)
    }

    fn inc_dir_links(&self, d: &mut DiskInode) -> KResult<()> {
        let n = d.links();
        if n == 1 && self.g.has_dir_nlink() {
            return Ok(());
        }
        if n >= LINK_MAX {
            if !self.g.has_dir_nlink() {
                return Err(Errno::EMLINK);
            }
            d.set_links(1);
        } else {
            d.set_links(n + 1);
        }
        Ok(())
    }

    fn dec_dir_links(&self, d: &mut DiskInode) {
        // Linux's ext4_dec_count: a directory never drops below 2, and one
        // that overflowed to 1 stays there.
        if d.links() > 2 {
            d.set_links(d.links() - 1);
        }
    }

    pub fn mkdir(&mut self, dir: u32, name: &[u8], mode: u32, uid: u32, gid: u32) -> KResult<Attr> {
        let mut d = self.prepare_entry(dir, name)?;
        if d.links() >= LINK_MAX && !self.g.has_dir_nlink() {
            return Err(Errno::EMLINK);
        }
        let (ino, mut i) = self.new_inode(dir, S_IFDIR | (mode & 0o7777), uid, gid)?;
        if let Err(e) = self.dir_init(ino, &mut i, dir) {
            self.discard_inode(ino, &mut i)?;
            return Err(e);
        }
        self.write_inode(ino, &i)?;
        if let Err(e) = self.dir_add(dir, &mut d, name, ino, 2) {
            self.map_remove(ino, &mut i, 0, u64::MAX)?;
            self.discard_inode(ino, &mut i)?;
            self.write_inode(dir, &d)?;
            return Err(e);
        }
        self.inc_dir_links(&mut d)?;
        self.touch_dir(dir, &mut d)?;
        self.getattr(ino)
    }

    pub fn symlink(&mut self, dir: u32, name: &[u8], target: &[u8], uid: u32, gid: u32) -> KResult<Attr> {
        if target.is_empty() {
            return Err(Errno::ENOENT);
        }
        if target.len() >= self.g.bs() {
            return Err(Errno::ENAMETOOLONG);
        }
        let mut d = self.prepare_entry(dir, name)?;
        let (ino, mut i) = self.new_inode(dir, S_IFLNK | 0o777, uid, gid)?;
        if target.len() < I_BLOCK_LEN {
            // Fast symlink: the target lives in i_block, no extent tree.
            i.set_flags(i.flags() & !FL_EXTENTS);
            let b = i.i_block_mut();
            b.fill(0);
            b[..target.len()].copy_from_slice(target);
        } else {
            let goal = self.inode_goal(ino);
            let (p, _) = match self.alloc_blocks(goal, 1, false) {
                Ok(r) => r,
                Err(e) => {
                    self.discard_inode(ino, &mut i)?;
                    return Err(e);
                }
            };
            self.inode_add_blocks(&mut i, 1)?;
            if i.has_flag(FL_EXTENTS) {
                self.ext_insert(ino, &mut i, Extent { lblk: 0, len: 1, pblk: p, unwritten: false })?;
            } else {
                self.map_set_indirect(ino, &mut i, 0, p)?;
            }
            let b = self.cache.get_new(p)?;
            b[..target.len()].copy_from_slice(target);
        }
        i.set_size(target.len() as u64);
        self.write_inode(ino, &i)?;
        if let Err(e) = self.dir_add(dir, &mut d, name, ino, 7) {
            self.release_blocks(ino, &mut i)?;
            self.discard_inode(ino, &mut i)?;
            self.write_inode(dir, &d)?;
            return Err(e);
        }
        self.touch_dir(dir, &mut d)?;
        self.getattr(ino)
    }

    /// Whether a symlink keeps its target in i_block.
    pub fn is_fast_symlink(&self, i: &DiskInode) -> bool {
        let xattr = if i.file_acl() != 0 { self.g.block_size as u64 / 512 } else { 0 };
        i.is_symlink() && i.sectors(self.g.block_size).saturating_sub(xattr) == 0
    }

    pub fn readlink(&mut self, ino: u32) -> KResult<Vec<u8>> {
        let i = self.read_inode(ino)?;
        if !i.is_symlink() {
            return Err(Errno::EINVAL);
        }
        let size = i.size() as usize;
        if self.is_inline(&i) {
            return self.inline_bytes(&i)?.get(..size).map(|s| s.to_vec()).ok_or(EUCLEAN);
        }
        if self.is_fast_symlink(&i) {
            if size >= I_BLOCK_LEN {
                return Err(EUCLEAN);
            }
            return Ok(i.i_block()[..size].to_vec());
        }
        if size >= self.g.bs() || size == 0 {
            return Err(EUCLEAN);
        }
        let m = self.map_lookup(ino, &i, 0, 1)?;
        if m.pblk == 0 {
            return Err(EUCLEAN);
        }
        Ok(self.cache.get(m.pblk)?[..size].to_vec())
    }

    pub fn link(&mut self, ino: u32, dir: u32, name: &[u8]) -> KResult<()> {
        let mut i = self.read_inode(ino)?;
        if i.is_dir() {
            return Err(Errno::EPERM);
        }
        if i.links() == 0 {
            return Err(Errno::ENOENT);
        }
        if i.links() >= LINK_MAX {
            return Err(Errno::EMLINK);
        }
        let mut d = self.prepare_entry(dir, name)?;
        self.dir_add(dir, &mut d, name, ino, ftype_of_mode(i.mode()))?;
        i.set_links(i.links() + 1);
        let now = self.now();
        i.set_time(Time::Change, now);
        self.write_inode(ino, &i)?;
        self.touch_dir(dir, &mut d)
    }

    pub fn unlink(&mut self, dir: u32, name: &[u8]) -> KResult<()> {
        check_name(name)?;
        let mut d = self.read_dir_inode(dir)?;
        if is_dot(name) {
            return Err(Errno::EISDIR);
        }
        let (child, _, lblk, off) = self.dir_find(dir, &d, name)?.ok_or(Errno::ENOENT)?;
        let mut c = self.read_inode(child)?;
        if c.is_dir() {
            return Err(Errno::EISDIR);
        }
        self.dir_remove_at(dir, &d, lblk, off)?;
        self.drop_link(child, &mut c)?;
        self.touch_dir(dir, &mut d)
    }

    /// One name fewer for a non-directory; at zero links it becomes an orphan.
    fn drop_link(&mut self, ino: u32, c: &mut DiskInode) -> KResult<()> {
        let n = c.links();
        c.set_links(n.saturating_sub(1));
        let now = self.now();
        c.set_time(Time::Change, now);
        if c.links() == 0 {
            self.orphan_add(ino, c)?;
        }
        self.write_inode(ino, c)
    }

    pub fn rmdir(&mut self, dir: u32, name: &[u8]) -> KResult<()> {
        check_name(name)?;
        if name == b"." {
            return Err(Errno::EINVAL);
        }
        if name == b".." {
            return Err(Errno::ENOTEMPTY);
        }
        let mut d = self.read_dir_inode(dir)?;
        let (child, _, lblk, off) = self.dir_find(dir, &d, name)?.ok_or(Errno::ENOENT)?;
        let mut c = self.read_inode(child)?;
        if !c.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        if !self.dir_is_empty(child, &c)? {
            return Err(Errno::ENOTEMPTY);
        }
        self.dir_remove_at(dir, &d, lblk, off)?;
        c.set_links(0);
        let now = self.now();
        c.set_time(Time::Change, now);
        self.orphan_add(child, &mut c)?;
        self.write_inode(child, &c)?;
        self.dec_dir_links(&mut d);
        self.touch_dir(dir, &mut d)
    }

    /// Whether `anc` is `ino` or one of its ancestors (walking `..`).
    fn is_ancestor(&mut self, anc: u32, mut ino: u32) -> KResult<bool> {
        for _ in 0..self.g.inodes_count.min(1 << 16) {
            if ino == anc {
                return Ok(true);
            }
            if ino == ROOT_INO {
                return Ok(false);
            }
            let d = self.read_dir_inode(ino)?;
            ino = match self.dir_find(ino, &d, b"..")? {
                Some((p, _, _, _)) => p,
                None => return Err(EUCLEAN),
            };
        }
        Err(EUCLEAN)
    }

    fn set_dotdot(&mut self, dir: u32, parent: u32) -> KResult<()> {
        let d = self.read_dir_inode(dir)?;
        let (_, _, lblk, off) = self.dir_find(dir, &d, b"..")?.ok_or(EUCLEAN)?;
        self.dir_set_at(dir, &d, lblk, off, parent, 2)
    }

    pub fn rename(&mut self, odir: u32, oname: &[u8], ndir: u32, nname: &[u8], flags: u32) -> KResult<()> {
        if flags & !(RENAME_NOREPLACE | RENAME_EXCHANGE) != 0 || flags == RENAME_NOREPLACE | RENAME_EXCHANGE {
            return Err(Errno::EINVAL);
        }
        check_name(oname)?;
        check_name(nname)?;
        if is_dot(oname) || is_dot(nname) {
            return Err(Errno::EBUSY);
        }
        let od = self.read_dir_inode(odir)?;
        let nd = self.read_dir_inode(ndir)?;
        if nd.links() == 0 {
            return Err(Errno::ENOENT);
        }
        let (src, _, _, _) = self.dir_find(odir, &od, oname)?.ok_or(Errno::ENOENT)?;
        let s = self.read_inode(src)?;
        let target = self.dir_find(ndir, &nd, nname)?;
        if flags & RENAME_EXCHANGE != 0 {
            let (tgt, _, _, _) = target.ok_or(Errno::ENOENT)?;
            return self.rename_exchange(odir, oname, src, ndir, nname, tgt);
        }
        if let Some((tgt, _, _, _)) = target {
            if flags & RENAME_NOREPLACE != 0 {
                return Err(Errno::EEXIST);
            }
            if tgt == src {
                return Ok(());
            }
        }
        if s.is_dir() && odir != ndir && self.is_ancestor(src, ndir)? {
            return Err(Errno::EINVAL);
        }
        let now = self.now();
        let ftype = ftype_of_mode(s.mode());
        match target {
            Some((tgt, _, tlblk, toff)) => {
                let mut t = self.read_inode(tgt)?;
                if s.is_dir() {
                    if !t.is_dir() {
                        return Err(Errno::ENOTDIR);
                    }
                    if !self.dir_is_empty(tgt, &t)? {
                        return Err(Errno::ENOTEMPTY);
                    }
                } else if t.is_dir() {
                    return Err(Errno::EISDIR);
                }
                self.dir_set_at(ndir, &nd, tlblk, toff, src, ftype)?;
                if t.is_dir() {
                    t.set_links(0);
                    t.set_time(Time::Change, now);
                    self.orphan_add(tgt, &mut t)?;
                    self.write_inode(tgt, &t)?;
                    let mut nd = self.read_inode(ndir)?;
                    self.dec_dir_links(&mut nd);
                    self.write_inode(ndir, &nd)?;
                } else {
                    self.drop_link(tgt, &mut t)?;
                }
                if s.is_dir() && odir != ndir {
                    let mut nd = self.read_inode(ndir)?;
                    self.inc_dir_links(&mut nd)?;
                    self.write_inode(ndir, &nd)?;
                }
            }
            None => {
                let mut nd = self.read_inode(ndir)?;
                if s.is_dir() && odir != ndir {
                    let mut probe = nd.clone();
                    self.inc_dir_links(&mut probe)?;
                }
                self.dir_add(ndir, &mut nd, nname, src, ftype)?;
                if s.is_dir() && odir != ndir {
                    self.inc_dir_links(&mut nd)?;
                }
                self.write_inode(ndir, &nd)?;
            }
        }
        // The old name may have moved if the insertion split a leaf.
        let od = self.read_inode(odir)?;
        let (_, _, lblk, off) = self.dir_find(odir, &od, oname)?.ok_or(EUCLEAN)?;
        self.dir_remove_at(odir, &od, lblk, off)?;
        if s.is_dir() && odir != ndir {
            self.set_dotdot(src, ndir)?;
            let mut od = self.read_inode(odir)?;
            self.dec_dir_links(&mut od);
            self.write_inode(odir, &od)?;
        }
        let mut s = self.read_inode(src)?;
        s.set_time(Time::Change, now);
        self.write_inode(src, &s)?;
        for d in [odir, ndir] {
            let mut di = self.read_inode(d)?;
            self.touch_dir(d, &mut di)?;
        }
        Ok(())
    }

    fn rename_exchange(&mut self, odir: u32, oname: &[u8], src: u32, ndir: u32, nname: &[u8], tgt: u32) -> KResult<()> {
        if src == tgt {
            return Ok(());
        }
        let s = self.read_inode(src)?;
        let t = self.read_inode(tgt)?;
        if odir != ndir {
            if s.is_dir() && self.is_ancestor(src, ndir)? {
                return Err(Errno::EINVAL);
            }
            if t.is_dir() && self.is_ancestor(tgt, odir)? {
                return Err(Errno::EINVAL);
            }
        }
        let od = self.read_inode(odir)?;
        let (_, _, l1, o1) = self.dir_find(odir, &od, oname)?.ok_or(EUCLEAN)?;
        self.dir_set_at(odir, &od, l1, o1, tgt, ftype_of_mode(t.mode()))?;
        let nd = self.read_inode(ndir)?;
        let (_, _, l2, o2) = self.dir_find(ndir, &nd, nname)?.ok_or(EUCLEAN)?;
        self.dir_set_at(ndir, &nd, l2, o2, src, ftype_of_mode(s.mode()))?;
        if odir != ndir && s.is_dir() != t.is_dir() {
            let (from, to) = if s.is_dir() { (odir, ndir) } else { (ndir, odir) };
            let mut f = self.read_inode(from)?;
            self.dec_dir_links(&mut f);
            self.write_inode(from, &f)?;
            let mut tdir = self.read_inode(to)?;
            self.inc_dir_links(&mut tdir)?;
            self.write_inode(to, &tdir)?;
        }
        if odir != ndir {
            if s.is_dir() {
                self.set_dotdot(src, ndir)?;
            }
            if t.is_dir() {
                self.set_dotdot(tgt, odir)?;
            }
        }
        let now = self.now();
        for ino in [src, tgt] {
            let mut i = self.read_inode(ino)?;
            i.set_time(Time::Change, now);
            self.write_inode(ino, &i)?;
        }
        for d in [odir, ndir] {
            let mut di = self.read_inode(d)?;
            self.touch_dir(d, &mut di)?;
        }
        Ok(())
    }

    pub fn truncate(&mut self, ino: u32, size: u64) -> KResult<()> {
        let mut i = self.read_inode(ino)?;
        if i.is_dir() {
            return Err(Errno::EISDIR);
        }
        if !i.is_reg() {
            return Err(Errno::EINVAL);
        }
        self.truncate_inode(ino, &mut i, size)?;
        let now = self.now();
        i.set_time(Time::Modify, now);
        i.set_time(Time::Change, now);
        self.write_inode(ino, &i)
    }

    pub fn setattr(&mut self, ino: u32, a: &SetAttr) -> KResult<Attr> {
        if let Some(size) = a.size {
            self.truncate(ino, size)?;
        }
        let mut i = self.read_inode(ino)?;
        if let Some(m) = a.mode {
            i.set_mode((i.mode() & S_IFMT) | (m & 0o7777));
        }
        if let Some(u) = a.uid {
            i.set_uid(u);
        }
        if let Some(g) = a.gid {
            i.set_gid(g);
        }
        if let Some(t) = a.atime {
            i.set_time(Time::Access, t);
        }
        if let Some(t) = a.mtime {
            i.set_time(Time::Modify, t);
        }
        let ctime = a.ctime.unwrap_or_else(|| self.now());
        i.set_time(Time::Change, ctime);
        self.write_inode(ino, &i)?;
        self.getattr(ino)
    }

    pub fn set_inode_flags(&mut self, ino: u32, flags: u32) -> KResult<Attr> {
        // Linux's EXT4_FL_USER_MODIFIABLE.
        const MODIFIABLE: u32 = 0x604B_C0FF;
        let mut i = self.read_inode(ino)?;
        i.set_flags((i.flags() & !MODIFIABLE) | (flags & MODIFIABLE));
        let now = self.now();
        i.set_time(Time::Change, now);
        self.write_inode(ino, &i)?;
        self.getattr(ino)
    }

    /// Frees an inode's data, tree and xattr blocks.
    pub fn release_blocks(&mut self, ino: u32, i: &mut DiskInode) -> KResult<()> {
        let has_map = matches!(i.file_type(), S_IFREG | S_IFDIR) || (i.is_symlink() && !self.is_fast_symlink(i));
        if has_map {
            self.map_remove(ino, i, 0, u64::MAX)?;
            if i.has_flag(FL_EXTENTS) {
                init_root(i.i_block_mut());
            }
        }
        self.xattr_release(ino, i)?;
        i.set_size(0);
        Ok(())
    }

    /// The last holder let go: an inode without links is freed.
    pub fn evict(&mut self, ino: u32) -> KResult<()> {
        let mut i = self.read_inode(ino)?;
        if i.links() > 0 || i.mode() == 0 {
            return Ok(());
        }
        self.orphan_remove(ino)?;
        self.release_blocks(ino, &mut i)?;
        let now = self.now();
        i.set_dtime(now.tv_sec as u32);
        self.write_inode(ino, &i)?;
        self.free_inode(ino, i.is_dir())
    }
}
