//! iso9660: CD-ROM images, read-only, as Linux's isofs shows them: Rock
//! Ridge (names, modes, owners, link counts, symlinks, device nodes, times,
//! relocated deep directories) when present, else Joliet names, else
//! plain ISO names; multi-extent files. It reads through a `BlockDevice`
//! and never writes. A damaged image is EINVAL at mount (no volume
//! descriptor) and EIO afterwards, never a panic; every walk is bounded.
//!
//! Mount options: norock, nojoliet, map=normal|off, uid=, gid=, mode=,
//! dmode= (the last four apply where Rock Ridge gives no owner or mode;
//! without them files are r-x for all and directories too, as on Linux).

mod dir;
mod rock;

use std::sync::{Arc, OnceLock};

use crate::abi::stat::{S_IFBLK, S_IFCHR, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG};
use crate::abi::{Errno, KResult, StatFs};
use crate::block::BlockDevice;
use crate::fs::fstype::{self, FileSystemType, MountRequest, SuperBlock};
use crate::fs::inode::{DirEntry, Inode, InodeRef, Metadata, dtype_of_mode};
use dir::{FLAG_ASSOCIATED, FLAG_DIRECTORY, FLAG_MULTI_EXTENT, both_u16, both_u32};
use rock::RockInfo;

/// statfs f_type (Linux's ISOFS_SUPER_MAGIC).
pub const ISOFS_SUPER_MAGIC: i64 = 0x9660;

/// Volume descriptors start at byte 32 KiB whatever the block size.
const DESCRIPTORS_AT: u64 = 16 * 2048;
/// How many volume descriptors are looked at before giving up.
const MAX_DESCRIPTORS: u64 = 64;
/// A directory larger than this is taken as damage (real ones are KiBs).
const MAX_DIRECTORY: u32 = 64 << 20;
/// Extents of one multi-extent file.
const MAX_EXTENTS: usize = 4096;

struct Options {
    rock: bool,
    joliet: bool,
    lower: bool,
    uid: u32,
    gid: u32,
    fmode: u32,
    dmode: u32,
}

fn parse_options(s: &str) -> KResult<Options> {
    let mut o = Options { rock: true, joliet: true, lower: true, uid: 0, gid: 0, fmode: 0o555, dmode: 0o555 };
    for (name, value) in fstype::options(s) {
        let num = |radix: u32| value.and_then(|v| u32::from_str_radix(v, radix).ok()).ok_or(Errno::EINVAL);
        match name {
            "norock" => o.rock = false,
            "nojoliet" => o.joliet = false,
            "map" => match value {
                Some("normal" | "n") => o.lower = true,
                Some("off" | "o") => o.lower = false,
                _ => return Err(Errno::EINVAL),
            },
            "uid" => o.uid = num(10)?,
            "gid" => o.gid = num(10)?,
            "mode" => o.fmode = num(8)? & 0o7777,
            "dmode" => o.dmode = num(8)? & 0o7777,
            _ => return Err(Errno::EINVAL),
        }
    }
    Ok(o)
}

/// One mounted image.
struct IsoFs {
    device: Arc<dyn BlockDevice>,
    dev: u64,
    block_size: u32,
    volume_blocks: u32,
    /// Skip bytes before Rock Ridge entries (SP), when Rock Ridge is used.
    rock_skip: Option<usize>,
    joliet: bool,
    options: Options,
}

/// The type `fstype` registers.
pub fn filesystem_type() -> FileSystemType {
    FileSystemType { name: "iso9660", requires_device: true, mount, probe: Some(probe) }
}

fn probe(device: &dyn BlockDevice) -> bool {
    let mut vd = [0u8; 6];
    device.read_at(DESCRIPTORS_AT, &mut vd).is_ok() && &vd[1..6] == b"CD001"
}

fn mount(req: &MountRequest<'_>) -> KResult<Arc<SuperBlock>> {
    let device = req.device.clone().ok_or(Errno::ENOTBLK)?;
    let options = parse_options(req.options)?;
    let (fs, root_record) = IsoFs::open(device, req.dev.unwrap_or_else(crate::fs::new_anon_dev), options)?;
    let root_extent = dir::record(&root_record.raw).map_err(|_| Errno::EINVAL)?.extent;
    let root = IsoInode::directory_at(&fs, root_extent, None).map_err(|_| Errno::EINVAL)?;
    let mut shown = Vec::new();
    if !fs.options.rock {
        shown.push("norock");
    }
    if !fs.options.joliet {
        shown.push("nojoliet");
    }
    // The filesystem cannot write: the superblock is read-only whatever
    // the flags said (/proc/mounts shows "ro").
    Ok(SuperBlock::new(Arc::new(root), "iso9660", true, shown.join(","), None))
}

/// The root directory record, as found in a volume descriptor.
struct RootRecord {
    raw: Vec<u8>,
}

impl IsoFs {
    fn open(device: Arc<dyn BlockDevice>, dev: u64, options: Options) -> KResult<(Arc<IsoFs>, RootRecord)> {
        let mut primary: Option<Vec<u8>> = None;
        let mut joliet: Option<Vec<u8>> = None;
        for i in 0..MAX_DESCRIPTORS {
            let mut vd = vec![0u8; 2048];
            device.read_at(DESCRIPTORS_AT + i * 2048, &mut vd).map_err(|_| Errno::EINVAL)?;
            if &vd[1..6] != b"CD001" {
                break;
            }
            match vd[0] {
                1 if primary.is_none() => primary = Some(vd),
                2 if joliet.is_none() && vd[88] == b'%' && vd[89] == b'/' && matches!(vd[90], b'@' | b'C' | b'E') => joliet = Some(vd),
                255 => break,
                _ => {}
            }
        }
        // Linux's "Unable to identify CD-ROM format": not an ISO 9660 image.
        let primary = primary.ok_or(Errno::EINVAL)?;
        let block_size = both_u16(&primary, 128) as u32;
        if !matches!(block_size, 512 | 1024 | 2048) {
            return Err(Errno::EINVAL);
        }
        let volume_blocks = both_u32(&primary, 80);
        let pvd_root = RootRecord { raw: primary[156..190].to_vec() };
        let mut fs = IsoFs { device, dev, block_size, volume_blocks, rock_skip: None, joliet: false, options };
        let root = dir::record(&pvd_root.raw).map_err(|_| Errno::EINVAL)?;
        if root.flags & FLAG_DIRECTORY == 0 {
            return Err(Errno::EINVAL);
        }
        if fs.options.rock {
            // Rock Ridge announces itself in the root's "." record (SP).
            let dot = fs.read_extent_bytes(root.extent, 2048.min(root.size)).map_err(|_| Errno::EINVAL)?;
            if let Ok(r) = dir::record(&dot) {
                fs.rock_skip = rock::find_sp(r.system_use);
            }
        }
        // Rock Ridge wins over Joliet, as on Linux.
        let root_record = match joliet {
            Some(svd) if fs.options.joliet && fs.rock_skip.is_none() => {
                fs.joliet = true;
                RootRecord { raw: svd[156..190].to_vec() }
            }
            _ => pvd_root,
        };
        dir::record(&root_record.raw).map_err(|_| Errno::EINVAL)?;
        Ok((Arc::new(fs), root_record))
    }

    fn read_extent_bytes(&self, block: u32, len: u32) -> KResult<Vec<u8>> {
        let mut buf = vec![0u8; len as usize];
        let off = block as u64 * self.block_size as u64;
        self.device.read_at(off, &mut buf).map_err(|_| Errno::EIO)?;
        Ok(buf)
    }

    /// Rock Ridge data of a record, if Rock Ridge is in use.
    fn rock(&self, system_use: &[u8]) -> Option<RockInfo> {
        let skip = self.rock_skip?;
        let area = system_use.get(skip..).unwrap_or_default();
        let mut read = |block: u32, offset: u32, len: u32| -> Option<Vec<u8>> {
            if len > 2048 || offset >= self.block_size {
                return None;
            }
            let mut buf = vec![0u8; len as usize];
            let at = block as u64 * self.block_size as u64 + offset as u64;
            self.device.read_at(at, &mut buf).ok()?;
            Some(buf)
        };
        Some(rock::parse(area, &mut read))
    }

    fn name_of(&self, raw: &[u8], info: Option<&RockInfo>) -> Vec<u8> {
        if let Some(name) = info.and_then(|i| i.name.clone()) {
            return name;
        }
        if self.joliet { dir::joliet_name(raw) } else { dir::plain_name(raw, self.options.lower) }
    }

    fn statfs(&self) -> StatFs {
        StatFs {
            f_type: ISOFS_SUPER_MAGIC,
            f_bsize: self.block_size as i64,
            f_blocks: self.volume_blocks as u64,
            f_bfree: 0,
            f_bavail: 0,
            f_files: 0,
            f_ffree: 0,
            f_fsid: [(self.dev & 0xffff_ffff) as i32, (self.dev >> 32) as i32],
            f_namelen: 255,
            f_frsize: self.block_size as i64,
            // The VFS adds the mount's flags (ST_RDONLY among them).
            f_flags: 0,
            f_spare: [0; 4],
        }
    }
}

/// A directory entry as parsed: its name and the inode it makes.
struct Entry {
    name: Vec<u8>,
    inode: Arc<IsoInode>,
}

/// A file, directory, symlink or device on the image.
pub struct IsoInode {
    fs: Arc<IsoFs>,
    md: Metadata,
    /// (first block, bytes) of each extent, in order.
    extents: Vec<(u32, u32)>,
    symlink: Option<Vec<u8>>,
    /// The parent directory's inode number (for ".."), directories only.
    parent_ino: u64,
    entries: OnceLock<KResult<Vec<Entry>>>,
}

/// Linux's isofs_get_ino: the byte position of the record / 32.
fn ino_at(position: u64) -> u64 {
    position >> 5
}

impl IsoInode {
    /// The directory at `block`, from its own "." record (the root, and a
    /// directory a CL entry relocated). A directory's inode is named by its
    /// extent, so every path to it agrees (isofs_normalize_block_and_offset).
    /// `parent_ino` None: its own parent (the root).
    fn directory_at(fs: &Arc<IsoFs>, block: u32, parent_ino: Option<u64>) -> KResult<IsoInode> {
        let dot = fs.read_extent_bytes(block, fs.block_size)?;
        let rec = dir::record(&dot)?;
        if rec.flags & FLAG_DIRECTORY == 0 || rec.extent != block {
            return Err(Errno::EIO);
        }
        let info = fs.rock(rec.system_use);
        let ino = ino_at(block as u64 * fs.block_size as u64);
        IsoInode::build(fs, &rec, info.as_ref(), vec![(block, rec.size)], ino, parent_ino.unwrap_or(ino))
    }

    fn build(fs: &Arc<IsoFs>, r: &dir::Record<'_>, info: Option<&RockInfo>, extents: Vec<(u32, u32)>, ino: u64, parent_ino: u64) -> KResult<IsoInode> {
        let is_dir = r.flags & FLAG_DIRECTORY != 0 || info.is_some_and(|i| i.child_link.is_some());
        let o = &fs.options;
        let mut mode = if is_dir { S_IFDIR | o.dmode } else { S_IFREG | o.fmode };
        let (mut uid, mut gid, mut nlink, mut rdev) = (o.uid, o.gid, if is_dir { 2 } else { 1 }, 0);
        let (mut atime, mut mtime, mut ctime) = (r.date, r.date, r.date);
        let size: u64 = extents.iter().map(|e| e.1 as u64).sum();
        let mut symlink = None;
        if let Some(i) = info {
            if let Some(m) = i.mode {
                // The type comes from Rock Ridge too, but a directory record
                // stays a directory (Linux trusts the record's flag).
                let kind = if is_dir {
                    S_IFDIR
                } else if matches!(m & S_IFMT, S_IFREG | S_IFLNK | S_IFCHR | S_IFBLK | 0o010000 | 0o140000) {
                    m & S_IFMT
                } else {
                    S_IFREG
                };
                mode = kind | (m & 0o7777);
            }
            uid = i.uid.unwrap_or(uid);
            gid = i.gid.unwrap_or(gid);
            nlink = i.nlink.filter(|&n| n > 0).unwrap_or(nlink);
            if let Some((major, minor)) = i.device {
                rdev = crate::fs::make_dev(major, minor);
            }
            atime = i.atime.unwrap_or(atime);
            mtime = i.mtime.unwrap_or(mtime);
            ctime = i.ctime.unwrap_or(ctime);
            if mode & S_IFMT == S_IFLNK {
                symlink = Some(i.symlink.clone().unwrap_or_default());
            }
        }
        let size = if let Some(t) = &symlink { t.len() as u64 } else { size };
        let blocks = extents.iter().map(|e| (e.1 as u64).div_ceil(512)).sum();
        let md = Metadata { dev: fs.dev, ino, mode, nlink: nlink as u64, uid, gid, rdev, size, blksize: fs.block_size as u64, blocks, atime, mtime, ctime };
        Ok(IsoInode { fs: fs.clone(), md, extents, symlink, parent_ino, entries: OnceLock::new() })
    }

    fn entries(&self) -> KResult<&Vec<Entry>> {
        match self.entries.get_or_init(|| self.read_entries()) {
            Ok(e) => Ok(e),
            Err(e) => Err(*e),
        }
    }

    /// Parses this directory's records ("." and ".." excluded).
    fn read_entries(&self) -> KResult<Vec<Entry>> {
        let fs = &self.fs;
        let &(extent, size) = self.extents.first().ok_or(Errno::EIO)?;
        if size > MAX_DIRECTORY {
            return Err(Errno::EIO);
        }
        let data = fs.read_extent_bytes(extent, size)?;
        let bs = fs.block_size as usize;
        let base = extent as u64 * bs as u64;
        let mut out = Vec::new();
        let mut pos = 0usize;
        let mut pending: Option<(u64, Vec<(u32, u32)>)> = None;
        while pos < data.len() {
            let len = data[pos] as usize;
            if len == 0 {
                // Records do not cross blocks: the rest of this one is padding.
                pos = (pos / bs + 1) * bs;
                continue;
            }
            let rec = dir::record(&data[pos..])?;
            let position = base + pos as u64;
            pos += len;
            if rec.name == [0] || rec.name == [1] {
                continue;
            }
            // Multi-extent files: every record but the last has the flag;
            // the file is named (and numbered) by its first record.
            if rec.flags & FLAG_MULTI_EXTENT != 0 {
                let p = pending.get_or_insert_with(|| (position, Vec::new()));
                if p.1.len() < MAX_EXTENTS {
                    p.1.push((rec.extent, rec.size));
                }
                continue;
            }
            let (first_pos, mut extents) = pending.take().unwrap_or((position, Vec::new()));
            extents.push((rec.extent, rec.size));
            if rec.flags & FLAG_ASSOCIATED != 0 {
                continue;
            }
            let info = fs.rock(rec.system_use);
            if info.as_ref().is_some_and(|i| i.relocated) {
                continue;
            }
            let name = fs.name_of(rec.name, info.as_ref());
            if name.is_empty() || name == b"." || name == b".." || name.contains(&b'/') {
                continue;
            }
            let relocated_to = info.as_ref().and_then(|i| i.child_link);
            let is_dir = rec.flags & FLAG_DIRECTORY != 0 || relocated_to.is_some();
            let inode = if let Some(block) = relocated_to {
                // CL: the directory's contents (and its "." with the real
                // attributes) live at `block`.
                IsoInode::directory_at(fs, block, Some(self.md.ino))?
            } else {
                let ino = if is_dir { ino_at(rec.extent as u64 * bs as u64) } else { ino_at(first_pos) };
                IsoInode::build(fs, &rec, info.as_ref(), extents, ino, self.md.ino)?
            };
            out.push(Entry { name, inode: Arc::new(inode) });
        }
        Ok(out)
    }
}

impl Inode for IsoInode {
    fn metadata(&self) -> KResult<Metadata> {
        Ok(self.md)
    }

    fn statfs(&self) -> KResult<StatFs> {
        Ok(self.fs.statfs())
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn lookup(&self, name: &[u8]) -> KResult<InodeRef> {
        if !self.md.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        let e = self.entries()?.iter().find(|e| e.name == name).ok_or(Errno::ENOENT)?;
        Ok(e.inode.clone())
    }

    fn readdir(&self, offset: u64, sink: &mut dyn FnMut(DirEntry<'_>) -> bool) -> KResult<()> {
        if !self.md.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        if offset == 0 && !sink(DirEntry { ino: self.md.ino, dtype: 4, name: b".", next_offset: 1 }) {
            return Ok(());
        }
        if offset <= 1 && !sink(DirEntry { ino: self.parent_ino, dtype: 4, name: b"..", next_offset: 2 }) {
            return Ok(());
        }
        for (i, e) in self.entries()?.iter().enumerate().skip(offset.saturating_sub(2) as usize) {
            let md = &e.inode.md;
            if !sink(DirEntry { ino: md.ino, dtype: dtype_of_mode(md.mode), name: &e.name, next_offset: i as u64 + 3 }) {
                break;
            }
        }
        Ok(())
    }

    fn readlink(&self) -> KResult<Vec<u8>> {
        self.symlink.clone().ok_or(Errno::EINVAL)
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> KResult<usize> {
        match self.md.mode & S_IFMT {
            S_IFDIR => return Err(Errno::EISDIR),
            S_IFREG => {}
            _ => return Err(Errno::EINVAL),
        }
        let mut done = 0usize;
        let mut start = 0u64;
        for &(block, len) in &self.extents {
            let end = start + len as u64;
            let pos = offset + done as u64;
            if done < buf.len() && pos < end && pos >= start {
                let n = ((end - pos) as usize).min(buf.len() - done);
                let at = block as u64 * self.fs.block_size as u64 + (pos - start);
                self.fs.device.read_at(at, &mut buf[done..done + n]).map_err(|_| Errno::EIO)?;
                done += n;
            }
            start = end;
        }
        Ok(done)
    }

    fn write_at(&self, _offset: u64, _buf: &[u8]) -> KResult<usize> {
        Err(Errno::EROFS)
    }

    fn create(&self, _name: &[u8], _mode: u32, _rdev: u64, _uid: u32, _gid: u32) -> KResult<InodeRef> {
        if self.md.is_dir() { Err(Errno::EROFS) } else { Err(Errno::ENOTDIR) }
    }

    fn setattr(&self, _attr: &crate::fs::inode::SetAttr) -> KResult<()> {
        Err(Errno::EROFS)
    }
}

#[cfg(test)]
mod tests;
