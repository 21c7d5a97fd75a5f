//! procfs on /proc: per-process directories built from live tasks, the
//! `self` link, fd magic links, and system files (meminfo, cpuinfo, mounts,
//! ...). File contents are generated at open time, a snapshot as Linux's
//! seq files give. "Who is asking" (for /proc/self and paths relative to
//! the reader's root) is `crate::task::current()`, set by the run loop.

use std::any::Any;
use std::sync::{Arc, Weak};

use crate::abi::fcntl::{O_ACCMODE, O_CLOEXEC, O_RDWR, O_WRONLY};
use crate::abi::mman::{MAP_SHARED, PROT_EXEC, PROT_READ, PROT_WRITE};
use crate::abi::stat::{S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK};
use crate::abi::statfs::PROC_SUPER_MAGIC;
use crate::abi::{Errno, KResult, PAGE_SIZE, StatFs, Timespec};
use crate::fs::file::{File, FileOps};
use crate::fs::inode::{DirEntry, Inode, InodeRef, Metadata};
use crate::fs::path::{Dentry, Mount, Path};
use crate::fs::{dev_major, dev_minor, new_anon_dev, now};
use crate::kernel::Kernel;
use crate::mm::vma::Backing;
use crate::task::Task;

/// Offsets at or above this in /proc's root are process directories.
const PID_OFFSET_BASE: u64 = 1 << 20;
/// Clock ticks per second as /proc reports times (USER_HZ).
const USER_HZ: u64 = 100;

pub struct ProcFs {
    kernel: Weak<Kernel>,
    dev: u64,
    boot_time: Timespec,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Global {
    Meminfo,
    Cpuinfo,
    Uptime,
    Filesystems,
    Loadavg,
    Stat,
    Version,
}

const GLOBALS: &[(&str, Global)] = &[
    ("cpuinfo", Global::Cpuinfo),
    ("filesystems", Global::Filesystems),
    ("loadavg", Global::Loadavg),
    ("meminfo", Global::Meminfo),
    ("stat", Global::Stat),
    ("uptime", Global::Uptime),
    ("version", Global::Version),
];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum PidFile {
    Stat,
    Status,
    Cmdline,
    Environ,
    Maps,
    Comm,
    Statm,
    Mounts,
    Mountinfo,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum PidLink {
    Exe,
    Cwd,
    Root,
}

enum PidEntry {
    File(PidFile),
    Link(PidLink),
    FdDir,
    FdInfoDir,
    TaskDir,
}

const PID_ENTRIES: &[(&str, PidEntry)] = &[
    ("cmdline", PidEntry::File(PidFile::Cmdline)),
    ("comm", PidEntry::File(PidFile::Comm)),
    ("cwd", PidEntry::Link(PidLink::Cwd)),
    ("environ", PidEntry::File(PidFile::Environ)),
    ("exe", PidEntry::Link(PidLink::Exe)),
    ("fd", PidEntry::FdDir),
    ("fdinfo", PidEntry::FdInfoDir),
    ("maps", PidEntry::File(PidFile::Maps)),
    ("mountinfo", PidEntry::File(PidFile::Mountinfo)),
    ("mounts", PidEntry::File(PidFile::Mounts)),
    ("root", PidEntry::Link(PidLink::Root)),
    ("stat", PidEntry::File(PidFile::Stat)),
    ("statm", PidEntry::File(PidFile::Statm)),
    ("status", PidEntry::File(PidFile::Status)),
    ("task", PidEntry::TaskDir),
];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Node {
    Root,
    SelfLink,
    ThreadSelfLink,
    MountsLink,
    Global(Global),
    PidDir(i32),
    PidFile(i32, PidFile),
    PidLink(i32, PidLink),
    FdDir(i32),
    FdLink(i32, i32),
    /// /proc/<pid>/fdinfo and its per-fd files.
    FdInfoDir(i32),
    FdInfo(i32, i32),
    /// /proc/<pid>/task: one directory per thread of the group.
    TaskDir(i32),
}

pub struct ProcInode {
    fs: Arc<ProcFs>,
    node: Node,
}

/// A new procfs for `kernel`; returns its root directory.
pub fn new_procfs(kernel: &Arc<Kernel>) -> InodeRef {
    let fs = Arc::new(ProcFs { kernel: Arc::downgrade(kernel), dev: new_anon_dev(), boot_time: now() });
    Arc::new(ProcInode { fs, node: Node::Root })
}

/// The task on whose behalf this kernel thread works.
fn reader() -> Option<Arc<Task>> {
    crate::task::current()
}

impl ProcFs {
    fn kernel(&self) -> KResult<Arc<Kernel>> {
        self.kernel.upgrade().ok_or(Errno::ENOENT)
    }

    /// The live task `pid` (a thread id; /proc/<tid> works for threads too).
    fn task(&self, pid: i32) -> KResult<Arc<Task>> {
        self.kernel()?.task(pid).ok_or(Errno::ENOENT)
    }

    fn node(self: &Arc<Self>, node: Node) -> InodeRef {
        Arc::new(ProcInode { fs: self.clone(), node })
    }

    /// The root the reader sees paths from.
    fn reader_root(&self) -> Option<Path> {
        match reader() {
            Some(t) => Some(t.fs().root.clone()),
            None => self.kernel().ok().and_then(|k| k.root.lock().clone()),
        }
    }
}

fn ino_of(node: Node) -> u64 {
    const PER_PID: u64 = 1 << 62;
    const FD: u64 = 2 << 62;
    const FDINFO: u64 = 3 << 62;
    let pid_ino = |pid: i32, k: u64| PER_PID | ((pid as u32 as u64) << 16) | k;
    match node {
        Node::Root => 1,
        Node::SelfLink => 2,
        Node::ThreadSelfLink => 3,
        Node::MountsLink => 4,
        Node::Global(g) => 16 + GLOBALS.iter().position(|(_, x)| *x == g).unwrap_or(0) as u64,
        Node::PidDir(p) => pid_ino(p, 1),
        Node::PidFile(p, f) => pid_ino(p, 16 + f as u64),
        Node::PidLink(p, l) => pid_ino(p, 48 + l as u64),
        Node::FdDir(p) => pid_ino(p, 64),
        Node::TaskDir(p) => pid_ino(p, 65),
        Node::FdInfoDir(p) => pid_ino(p, 66),
        Node::FdInfo(p, fd) => FDINFO | ((p as u32 as u64) << 32) | fd as u32 as u64,
        Node::FdLink(p, fd) => FD | ((p as u32 as u64) << 32) | fd as u32 as u64,
    }
}

impl ProcInode {
    fn pid(&self) -> Option<i32> {
        match self.node {
            Node::PidDir(p)
            | Node::PidFile(p, _)
            | Node::PidLink(p, _)
            | Node::FdDir(p)
            | Node::FdLink(p, _)
            | Node::FdInfoDir(p)
            | Node::FdInfo(p, _)
            | Node::TaskDir(p) => Some(p),
            _ => None,
        }
    }

    fn open_file(&self, pid: i32, fd: i32) -> KResult<Arc<File>> {
        self.fs.task(pid)?.files().get(fd)
    }

    /// The place a magic link (fd, cwd, root) points at.
    fn link_path(&self) -> KResult<Path> {
        match self.node {
            Node::FdLink(pid, fd) => {
                let file = self.open_file(pid, fd)?;
                Ok(match &file.path {
                    Some(p) => p.clone(),
                    None => anon_path(&file.inode),
                })
            }
            Node::PidLink(pid, PidLink::Cwd) => Ok(self.fs.task(pid)?.fs().cwd.clone()),
            Node::PidLink(pid, PidLink::Root) => Ok(self.fs.task(pid)?.fs().root.clone()),
            _ => Err(Errno::EINVAL),
        }
    }
}

/// A path for an open file that has none (pipe, socket, console): a
/// private one-entry mount, so following /proc/<pid>/fd/N reaches it.
pub fn anon_path(inode: &InodeRef) -> Path {
    let root = Dentry::root(inode.clone());
    let mount =
        Arc::new(Mount { id: 0, root: root.clone(), mountpoint: None, covers: None, fstype: "anon_inodefs", source: "anon_inodefs".into(), read_only: false });
    Path { mount, dentry: root }
}

/// What readlink shows for an open file: its path, " (deleted)" once
/// unlinked, or the type-and-inode name of an anonymous file.
pub fn file_link_text(file: &File, root: Option<&Path>) -> Vec<u8> {
    match (&file.path, root) {
        (Some(p), Some(root)) => {
            let mut s = p.to_bytes(root);
            if let Ok(md) = p.metadata() {
                if md.nlink == 0 && !md.is_dir() {
                    s.extend_from_slice(b" (deleted)");
                }
            }
            s
        }
        _ => {
            if let Some(name) = file.inode.link_name() {
                return name;
            }
            let md = file.inode.metadata().unwrap_or_default();
            match md.mode & S_IFMT {
                S_IFIFO => format!("pipe:[{}]", md.ino).into_bytes(),
                S_IFSOCK => format!("socket:[{}]", md.ino).into_bytes(),
                _ => b"anon_inode:[unknown]".to_vec(),
            }
        }
    }
}

impl Inode for ProcInode {
    fn metadata(&self) -> KResult<Metadata> {
        let (mode, nlink) = match self.node {
            Node::Root => (S_IFDIR | 0o555, 2),
            Node::SelfLink | Node::ThreadSelfLink | Node::MountsLink => (S_IFLNK | 0o777, 1),
            Node::Global(_) => (S_IFREG | 0o444, 1),
            Node::PidDir(_) => (S_IFDIR | 0o555, 3),
            Node::PidFile(_, PidFile::Environ) => (S_IFREG | 0o400, 1),
            Node::PidFile(_, PidFile::Comm) => (S_IFREG | 0o644, 1),
            Node::PidFile(..) => (S_IFREG | 0o444, 1),
            Node::PidLink(..) => (S_IFLNK | 0o777, 1),
            Node::FdDir(_) => (S_IFDIR | 0o500, 2),
            Node::FdInfoDir(_) => (S_IFDIR | 0o555, 2),
            Node::FdInfo(..) => (S_IFREG | 0o444, 1),
            Node::TaskDir(_) => (S_IFDIR | 0o555, 3),
            Node::FdLink(pid, fd) => {
                let file = self.open_file(pid, fd)?;
                let mut mode = S_IFLNK;
                if file.flags() & O_ACCMODE != O_WRONLY {
                    mode |= 0o500;
                }
                if matches!(file.flags() & O_ACCMODE, O_WRONLY | O_RDWR) {
                    mode |= 0o300;
                }
                (mode, 1)
            }
        };
        let (uid, gid, time) = match self.pid() {
            Some(pid) => {
                let task = self.fs.task(pid)?;
                let c = task.creds();
                (c.euid, c.egid, now())
            }
            None => (0, 0, self.fs.boot_time),
        };
        // Linux gives fd links a size of 64 (proc_fd_instantiate).
        let size = if matches!(self.node, Node::FdLink(..)) { 64 } else { 0 };
        Ok(Metadata {
            dev: self.fs.dev,
            ino: ino_of(self.node),
            mode,
            nlink,
            uid,
            gid,
            rdev: 0,
            size,
            blksize: 1024,
            blocks: 0,
            atime: time,
            mtime: time,
            ctime: time,
        })
    }

    fn statfs(&self) -> KResult<StatFs> {
        Ok(StatFs { f_type: PROC_SUPER_MAGIC, f_bsize: PAGE_SIZE as i64, f_namelen: 255, f_frsize: PAGE_SIZE as i64, ..Default::default() })
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn lookup(&self, name: &[u8]) -> KResult<InodeRef> {
        let fs = &self.fs;
        match self.node {
            Node::Root => {
                match name {
                    b"self" => return Ok(fs.node(Node::SelfLink)),
                    b"thread-self" => return Ok(fs.node(Node::ThreadSelfLink)),
                    b"mounts" => return Ok(fs.node(Node::MountsLink)),
                    _ => {}
                }
                if let Some((_, g)) = GLOBALS.iter().find(|(n, _)| n.as_bytes() == name) {
                    return Ok(fs.node(Node::Global(*g)));
                }
                let pid = parse_number(name).ok_or(Errno::ENOENT)?;
                fs.task(pid)?;
                Ok(fs.node(Node::PidDir(pid)))
            }
            Node::PidDir(pid) => {
                fs.task(pid)?;
                let (_, entry) = PID_ENTRIES.iter().find(|(n, _)| n.as_bytes() == name).ok_or(Errno::ENOENT)?;
                Ok(fs.node(match entry {
                    PidEntry::File(f) => Node::PidFile(pid, *f),
                    PidEntry::Link(l) => Node::PidLink(pid, *l),
                    PidEntry::FdDir => Node::FdDir(pid),
                    PidEntry::FdInfoDir => Node::FdInfoDir(pid),
                    PidEntry::TaskDir => Node::TaskDir(pid),
                }))
            }
            Node::TaskDir(pid) => {
                let tid = parse_number(name).ok_or(Errno::ENOENT)?;
                let leader = fs.task(pid)?;
                if fs.task(tid)?.tgid != leader.tgid {
                    return Err(Errno::ENOENT);
                }
                Ok(fs.node(Node::PidDir(tid)))
            }
            Node::FdDir(pid) | Node::FdInfoDir(pid) => {
                let fd = parse_number(name).ok_or(Errno::ENOENT)?;
                self.open_file(pid, fd).map_err(|_| Errno::ENOENT)?;
                Ok(fs.node(if matches!(self.node, Node::FdDir(_)) { Node::FdLink(pid, fd) } else { Node::FdInfo(pid, fd) }))
            }
            _ => Err(Errno::ENOTDIR),
        }
    }

    fn readdir(&self, offset: u64, sink: &mut dyn FnMut(DirEntry<'_>) -> bool) -> KResult<()> {
        let ino = ino_of(self.node);
        let parent_ino = match self.node {
            Node::FdDir(p) | Node::FdInfoDir(p) | Node::TaskDir(p) => ino_of(Node::PidDir(p)),
            _ => 1,
        };
        let mut fixed: Vec<(Vec<u8>, u64, u8)> = vec![(b".".to_vec(), ino, 4), (b"..".to_vec(), parent_ino, 4)];
        match self.node {
            Node::Root => {
                for (n, g) in GLOBALS {
                    fixed.push((n.as_bytes().to_vec(), ino_of(Node::Global(*g)), 8));
                }
                fixed.push((b"mounts".to_vec(), ino_of(Node::MountsLink), 10));
                fixed.push((b"self".to_vec(), ino_of(Node::SelfLink), 10));
                fixed.push((b"thread-self".to_vec(), ino_of(Node::ThreadSelfLink), 10));
            }
            Node::PidDir(pid) => {
                self.fs.task(pid)?;
                for (n, e) in PID_ENTRIES {
                    let (node, dtype) = match e {
                        PidEntry::File(f) => (Node::PidFile(pid, *f), 8),
                        PidEntry::Link(l) => (Node::PidLink(pid, *l), 10),
                        PidEntry::FdDir => (Node::FdDir(pid), 4),
                        PidEntry::FdInfoDir => (Node::FdInfoDir(pid), 4),
                        PidEntry::TaskDir => (Node::TaskDir(pid), 4),
                    };
                    fixed.push((n.as_bytes().to_vec(), ino_of(node), dtype));
                }
            }
            Node::FdDir(_) | Node::FdInfoDir(_) | Node::TaskDir(_) => {}
            _ => return Err(Errno::ENOTDIR),
        }
        for (i, (name, ino, dtype)) in fixed.iter().enumerate() {
            if (i as u64) < offset {
                continue;
            }
            if !sink(DirEntry { ino: *ino, dtype: *dtype, name, next_offset: i as u64 + 1 }) {
                return Ok(());
            }
        }
        // Numbered entries sort by number, at offsets that stay put.
        let (numbers, base): (Vec<i32>, u64) = match self.node {
            Node::Root => {
                let mut pids: Vec<i32> = self.fs.kernel()?.live_tasks().iter().filter(|t| t.tid == t.tgid).map(|t| t.tid).collect();
                pids.sort_unstable();
                (pids, PID_OFFSET_BASE)
            }
            Node::FdDir(pid) | Node::FdInfoDir(pid) => (self.fs.task(pid)?.files().fds(), fixed.len() as u64),
            Node::TaskDir(pid) => {
                let tgid = self.fs.task(pid)?.tgid;
                let mut tids: Vec<i32> = self.fs.kernel()?.live_tasks().iter().filter(|t| t.tgid == tgid).map(|t| t.tid).collect();
                tids.sort_unstable();
                (tids, fixed.len() as u64)
            }
            _ => (Vec::new(), 0),
        };
        for n in numbers {
            let off = base + n as u64;
            if off < offset {
                continue;
            }
            let (node, dtype) = match self.node {
                Node::Root => (Node::PidDir(n), 4),
                Node::FdDir(pid) => (Node::FdLink(pid, n), 10),
                Node::FdInfoDir(pid) => (Node::FdInfo(pid, n), 8),
                Node::TaskDir(_) => (Node::PidDir(n), 4),
                _ => continue,
            };
            let name = n.to_string();
            if !sink(DirEntry { ino: ino_of(node), dtype, name: name.as_bytes(), next_offset: off + 1 }) {
                return Ok(());
            }
        }
        Ok(())
    }

    fn readlink(&self) -> KResult<Vec<u8>> {
        match self.node {
            Node::SelfLink => Ok(reader().map(|t| t.tgid).unwrap_or(1).to_string().into_bytes()),
            Node::ThreadSelfLink => {
                let t = reader();
                let (tgid, tid) = t.map(|t| (t.tgid, t.tid)).unwrap_or((1, 1));
                Ok(format!("{tgid}/task/{tid}").into_bytes())
            }
            Node::MountsLink => Ok(b"self/mounts".to_vec()),
            Node::PidLink(pid, PidLink::Exe) => {
                let exe = self.fs.task(pid)?.exe.lock().clone();
                if exe.is_empty() { Err(Errno::ENOENT) } else { Ok(exe) }
            }
            Node::PidLink(..) => {
                let path = self.link_path()?;
                let root = self.fs.reader_root().ok_or(Errno::ENOENT)?;
                Ok(path.to_bytes(&root))
            }
            Node::FdLink(pid, fd) => {
                let file = self.open_file(pid, fd)?;
                Ok(file_link_text(&file, self.fs.reader_root().as_ref()))
            }
            _ => Err(Errno::EINVAL),
        }
    }

    fn magic_link(&self) -> Option<Path> {
        match self.node {
            Node::FdLink(..) | Node::PidLink(_, PidLink::Cwd) | Node::PidLink(_, PidLink::Root) => self.link_path().ok(),
            _ => None,
        }
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> KResult<usize> {
        let data = self.generate()?;
        if offset >= data.len() as u64 {
            return Ok(0);
        }
        let n = (data.len() - offset as usize).min(buf.len());
        buf[..n].copy_from_slice(&data[offset as usize..offset as usize + n]);
        Ok(n)
    }

    fn open(&self, flags: u32) -> KResult<Option<Arc<dyn FileOps>>> {
        match self.node {
            Node::Global(_) | Node::PidFile(..) => {
                // Like Linux, a write-only open of comm generates nothing.
                let data = if flags & O_ACCMODE == O_WRONLY { Vec::new() } else { self.generate()? };
                let comm_of = match self.node {
                    Node::PidFile(pid, PidFile::Comm) => Some(pid),
                    _ => None,
                };
                Ok(Some(Arc::new(SnapshotFile { data, comm_of, fs: self.fs.clone() })))
            }
            _ => Ok(None),
        }
    }
}

fn parse_number(name: &[u8]) -> Option<i32> {
    if name.is_empty() || name.len() > 10 || !name.iter().all(u8::is_ascii_digit) || (name[0] == b'0' && name.len() > 1) {
        return None;
    }
    std::str::from_utf8(name).ok()?.parse().ok()
}

/// An open /proc file: the bytes generated at open.
struct SnapshotFile {
    data: Vec<u8>,
    /// /proc/<pid>/comm is writable: it renames the task.
    comm_of: Option<i32>,
    fs: Arc<ProcFs>,
}

impl FileOps for SnapshotFile {
    fn read(&self, _file: &File, buf: &mut [u8], pos: &mut u64) -> KResult<usize> {
        if *pos >= self.data.len() as u64 {
            return Ok(0);
        }
        let start = *pos as usize;
        let n = (self.data.len() - start).min(buf.len());
        buf[..n].copy_from_slice(&self.data[start..start + n]);
        *pos += n as u64;
        Ok(n)
    }

    fn write(&self, _file: &File, buf: &[u8], _pos: &mut u64) -> KResult<usize> {
        let pid = self.comm_of.ok_or(Errno::EINVAL)?;
        let task = self.fs.task(pid)?;
        let name = buf.strip_suffix(b"\n").unwrap_or(buf);
        task.set_comm(name);
        Ok(buf.len())
    }

    fn size(&self, _file: &File) -> KResult<u64> {
        Ok(self.data.len() as u64)
    }
}

// ---- content generation ----

impl ProcInode {
    fn generate(&self) -> KResult<Vec<u8>> {
        let kernel = self.fs.kernel()?;
        match self.node {
            Node::Global(g) => Ok(global_content(&kernel, g, &self.fs)),
            Node::PidFile(pid, f) => {
                let task = self.fs.task(pid)?;
                Ok(pid_content(&kernel, &task, f, &self.fs))
            }
            Node::FdInfo(pid, fd) => {
                let task = self.fs.task(pid)?;
                let (file, cloexec) = {
                    let files = task.files();
                    let e = files.entry(fd)?;
                    (e.file.clone(), e.cloexec)
                };
                let pos = *file.pos.lock();
                let flags = file.flags() | if cloexec { O_CLOEXEC } else { 0 };
                let mnt = file.path.as_ref().map(|p| p.mount.id).unwrap_or(0);
                let ino = file.inode.metadata().map(|m| m.ino).unwrap_or(0);
                Ok(format!("pos:\t{pos}\nflags:\t0{flags:o}\nmnt_id:\t{mnt}\nino:\t{ino}\n").into_bytes())
            }
            _ => Err(Errno::EISDIR),
        }
    }
}

fn kb_line(out: &mut String, name: &str, kb: u64) {
    use std::fmt::Write;
    let label = format!("{name}:");
    let _ = writeln!(out, "{label:<16}{kb:>8} kB");
}

fn host_release() -> String {
    // SAFETY: a zeroed utsname is a valid out-buffer.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: uname into a live local.
    unsafe { libc::uname(&mut u) };
    let bytes: Vec<u8> = u.release.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

fn cpu_count() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

fn global_content(kernel: &Arc<Kernel>, g: Global, fs: &ProcFs) -> Vec<u8> {
    use std::fmt::Write;
    let mut s = String::new();
    let uptime_ns = kernel.monotonic_ns();
    match g {
        Global::Meminfo => {
            let total = kernel.config.memory / 1024;
            let free = kernel.phys.free_frame_count() * (PAGE_SIZE / 1024);
            for (name, v) in [
                ("MemTotal", total),
                ("MemFree", free),
                ("MemAvailable", free),
                ("Buffers", 0),
                ("Cached", 0),
                ("SwapCached", 0),
                ("Active", 0),
                ("Inactive", 0),
                ("SwapTotal", 0),
                ("SwapFree", 0),
                ("Dirty", 0),
                ("Writeback", 0),
                ("AnonPages", total.saturating_sub(free)),
                ("Mapped", 0),
                ("Shmem", 0),
                ("Slab", 0),
                ("CommitLimit", total),
                ("Committed_AS", total.saturating_sub(free)),
                ("VmallocTotal", 34359738367),
                ("VmallocUsed", 0),
                ("VmallocChunk", 0),
                ("HugePages_Total", 0),
            ] {
                if name.starts_with("HugePages") {
                    let _ = writeln!(s, "{:<16}{v:>8}", format!("{name}:"));
                } else {
                    kb_line(&mut s, name, v);
                }
            }
            kb_line(&mut s, "Hugepagesize", 2048);
        }
        Global::Cpuinfo => return std::fs::read("/proc/cpuinfo").unwrap_or_else(|_| b"processor\t: 0\n\n".to_vec()),
        Global::Uptime => {
            let cs = uptime_ns / 10_000_000;
            let idle = cs * cpu_count() as u64;
            let _ = writeln!(s, "{}.{:02} {}.{:02}", cs / 100, cs % 100, idle / 100, idle % 100);
        }
        Global::Filesystems => {
            for (nodev, name) in [(true, "proc"), (true, "tmpfs"), (true, "devtmpfs"), (true, "hostfs")] {
                let _ = writeln!(s, "{}\t{name}", if nodev { "nodev" } else { "" });
            }
        }
        Global::Loadavg => {
            let tasks = kernel.live_tasks();
            let last = tasks.iter().map(|t| t.tid).max().unwrap_or(1);
            let _ = writeln!(s, "0.00 0.00 0.00 1/{} {last}", tasks.len());
        }
        Global::Stat => {
            let ticks = uptime_ns / (1_000_000_000 / USER_HZ);
            let _ = writeln!(s, "cpu  0 0 0 {} 0 0 0 0 0 0", ticks * cpu_count() as u64);
            for i in 0..cpu_count() {
                let _ = writeln!(s, "cpu{i} 0 0 0 {ticks} 0 0 0 0 0 0");
            }
            let btime = (kernel.boot_realtime_ns() / 1_000_000_000) as i64;
            let _ = writeln!(
                s,
                "intr 0\nctxt 0\nbtime {btime}\nprocesses {}\nprocs_running 1\nprocs_blocked 0\nsoftirq 0 0 0 0 0 0 0 0 0 0 0",
                kernel.live_tasks().len()
            );
        }
        Global::Version => {
            let _ = writeln!(s, "Linux version {} (vkernel) #1 SMP PREEMPT_DYNAMIC", host_release());
        }
    }
    let _ = fs;
    s.into_bytes()
}

/// Linux's mangle() for /proc/mounts fields: space, tab, newline, backslash.
fn escape_mount_field(field: &[u8]) -> String {
    let mut out = String::new();
    for &c in field {
        match c {
            b' ' | b'\t' | b'\n' | b'\\' => out.push_str(&format!("\\{c:03o}")),
            _ => out.push(c as char),
        }
    }
    out
}

/// /proc/<pid>/mounts: every mount visible from `root`, oldest first.
pub fn mounts_content(kernel: &Kernel, root: &Path) -> Vec<u8> {
    let mut s = String::new();
    for m in kernel.mounts.all() {
        let point = match &m.mountpoint {
            Some((parent, dentry)) => Path { mount: parent.clone(), dentry: dentry.clone() }.to_bytes(root),
            None => b"/".to_vec(),
        };
        let opts = if m.read_only { "ro,relatime" } else { "rw,relatime" };
        s.push_str(&format!("{} {} {} {opts} 0 0\n", escape_mount_field(m.source.as_bytes()), escape_mount_field(&point), m.fstype));
    }
    s.into_bytes()
}

/// /proc/<pid>/mountinfo (Linux: show_mountinfo).
pub fn mountinfo_content(kernel: &Kernel, root: &Path) -> Vec<u8> {
    let mut s = String::new();
    for m in kernel.mounts.all() {
        let (parent_id, point) = match &m.mountpoint {
            Some((parent, dentry)) => (parent.id, Path { mount: parent.clone(), dentry: dentry.clone() }.to_bytes(root)),
            None => (m.id, b"/".to_vec()),
        };
        let dev = m.root.inode.metadata().map(|md| md.dev).unwrap_or(0);
        let opts = if m.read_only { "ro,relatime" } else { "rw,relatime" };
        let sb = if m.read_only { "ro" } else { "rw" };
        s.push_str(&format!(
            "{} {parent_id} {}:{} / {} {opts} - {} {} {sb}\n",
            m.id,
            dev_major(dev),
            dev_minor(dev),
            escape_mount_field(&point),
            m.fstype,
            escape_mount_field(m.source.as_bytes()),
        ));
    }
    s.into_bytes()
}

fn read_guest_range(task: &Task, start: u64, end: u64) -> Vec<u8> {
    if end <= start || end - start > 1 << 24 {
        return Vec::new();
    }
    task.mm().read_bytes(start, (end - start) as usize).unwrap_or_default()
}

/// Threads in `task`'s thread group.
fn thread_count(kernel: &Kernel, task: &Task) -> usize {
    kernel.live_tasks().iter().filter(|t| t.tgid == task.tgid).count().max(1)
}

fn state_char(task: &Task) -> char {
    match reader() {
        Some(r) if r.tid == task.tid => 'R',
        _ => 'S',
    }
}

fn pid_content(kernel: &Arc<Kernel>, task: &Arc<Task>, f: PidFile, fs: &ProcFs) -> Vec<u8> {
    use std::fmt::Write;
    let mut s = String::new();
    let comm = String::from_utf8_lossy(&task.comm()).into_owned();
    match f {
        PidFile::Cmdline => {
            let (start, end) = {
                let mm = task.mm();
                let st = mm.lock();
                (st.arg_start, st.arg_end)
            };
            return read_guest_range(task, start, end);
        }
        PidFile::Environ => {
            let (start, end) = {
                let mm = task.mm();
                let st = mm.lock();
                (st.env_start, st.env_end)
            };
            return read_guest_range(task, start, end);
        }
        PidFile::Comm => {
            let _ = writeln!(s, "{comm}");
        }
        PidFile::Maps => return maps_content(task),
        PidFile::Mounts => {
            let root = task.fs().root.clone();
            return mounts_content(kernel, &root);
        }
        PidFile::Mountinfo => {
            let root = task.fs().root.clone();
            return mountinfo_content(kernel, &root);
        }
        PidFile::Statm => {
            let mm = task.mm();
            let _ = writeln!(s, "{} {} 0 0 0 0 0", mm.total_vm_pages(), mm.resident_pages());
        }
        PidFile::Stat => {
            let mm = task.mm();
            let (vsize, rss) = (mm.total_vm_pages() * PAGE_SIZE, mm.resident_pages());
            let (start_stack, arg_start, arg_end, env_start, env_end, brk_start) = {
                let st = mm.lock();
                (st.stack_top, st.arg_start, st.arg_end, st.env_start, st.env_end, st.brk_start)
            };
            let start_ticks = task.start_time_ns / (1_000_000_000 / USER_HZ);
            let blocked = task.signals.lock().blocked;
            let (ign, cgt) = signal_sets(task);
            let (tty_nr, tpgid) = crate::tty::proc_stat_tty(task.sid());
            let _ = writeln!(
                s,
                "{} ({comm}) {} {} {} {} {tty_nr} {tpgid} 4194304 0 0 0 0 0 0 0 0 20 0 {} 0 {start_ticks} {vsize} {rss} 18446744073709551615 0 0 {start_stack} 0 0 0 {blocked} {ign} {cgt} 0 0 0 17 0 0 0 0 0 0 0 0 {brk_start} {arg_start} {arg_end} {env_start} {env_end} 0",
                task.tid,
                state_char(task),
                task.ppid(),
                task.pgid(),
                task.sid(),
                thread_count(kernel, task),
            );
        }
        PidFile::Status => {
            let c = task.creds();
            let mm = task.mm();
            let (vm_kb, rss_kb) = (mm.total_vm_pages() * 4, mm.resident_pages() * 4);
            let umask = task.fs().umask;
            let blocked = task.signals.lock().blocked;
            let (ign, cgt) = signal_sets(task);
            let groups: Vec<String> = c.groups.iter().map(|g| g.to_string()).collect();
            let state = match state_char(task) {
                'R' => "R (running)",
                _ => "S (sleeping)",
            };
            let ncpu = cpu_count();
            let _ = write!(
                s,
                "Name:\t{comm}\nUmask:\t{umask:04o}\nState:\t{state}\nTgid:\t{tgid}\nNgid:\t0\nPid:\t{tid}\nPPid:\t{ppid}\nTracerPid:\t0\n\
                 Uid:\t{}\t{}\t{}\t{}\nGid:\t{}\t{}\t{}\t{}\nFDSize:\t{fdsize}\nGroups:\t{groups} \n\
                 NStgid:\t{tgid}\nNSpid:\t{tid}\nNSpgid:\t{pgid}\nNSsid:\t{sid}\n\
                 VmPeak:\t{vm_kb:>8} kB\nVmSize:\t{vm_kb:>8} kB\nVmLck:\t{z:>8} kB\nVmPin:\t{z:>8} kB\nVmHWM:\t{rss_kb:>8} kB\nVmRSS:\t{rss_kb:>8} kB\n\
                 RssAnon:\t{rss_kb:>8} kB\nRssFile:\t{z:>8} kB\nRssShmem:\t{z:>8} kB\nVmData:\t{z:>8} kB\nVmStk:\t{z:>8} kB\nVmExe:\t{z:>8} kB\n\
                 VmLib:\t{z:>8} kB\nVmPTE:\t{z:>8} kB\nVmSwap:\t{z:>8} kB\nThreads:\t{threads}\nSigQ:\t0/63498\nSigPnd:\t{z:016x}\nShdPnd:\t{z:016x}\n\
                 SigBlk:\t{blocked:016x}\nSigIgn:\t{ign:016x}\nSigCgt:\t{cgt:016x}\nCapInh:\t{z:016x}\nCapPrm:\t{caps:016x}\nCapEff:\t{caps:016x}\n\
                 CapBnd:\t000001ffffffffff\nCapAmb:\t{z:016x}\nNoNewPrivs:\t0\nSeccomp:\t0\nCpus_allowed:\t{cpus:x}\nCpus_allowed_list:\t0-{last_cpu}\n\
                 voluntary_ctxt_switches:\t0\nnonvoluntary_ctxt_switches:\t0\n",
                c.uid,
                c.euid,
                c.suid,
                c.fsuid,
                c.gid,
                c.egid,
                c.sgid,
                c.fsgid,
                tgid = task.tgid,
                tid = task.tid,
                ppid = task.ppid(),
                pgid = task.pgid(),
                sid = task.sid(),
                fdsize = task.files().fds().last().map(|&f| ((f as u32 + 1).next_power_of_two()).max(64)).unwrap_or(64),
                groups = groups.join(" "),
                threads = thread_count(kernel, task),
                z = 0u64,
                caps = if c.euid == 0 { 0x1ff_ffff_ffffu64 } else { 0 },
                cpus = (1u64 << ncpu.min(63)) - 1,
                last_cpu = ncpu - 1,
            );
        }
    }
    let _ = fs;
    s.into_bytes()
}

/// (ignored, caught) signal sets of a task's thread group.
fn signal_sets(task: &Task) -> (u64, u64) {
    let actions = task.sigactions.lock();
    let (mut ign, mut cgt) = (0u64, 0u64);
    for (i, a) in actions.actions.iter().enumerate() {
        match a.handler {
            0 => {}
            1 => ign |= 1 << i,
            _ => cgt |= 1 << i,
        }
    }
    (ign, cgt)
}

fn maps_content(task: &Task) -> Vec<u8> {
    use std::fmt::Write;
    let mut s = String::new();
    let mm = task.mm();
    let st = mm.lock();
    for vma in st.vmas.values() {
        let perms = format!(
            "{}{}{}{}",
            if vma.prot & PROT_READ != 0 { 'r' } else { '-' },
            if vma.prot & PROT_WRITE != 0 { 'w' } else { '-' },
            if vma.prot & PROT_EXEC != 0 { 'x' } else { '-' },
            if vma.flags & MAP_SHARED != 0 { 's' } else { 'p' },
        );
        let (offset, dev, ino, name): (u64, u64, u64, Vec<u8>) = match &vma.backing {
            Backing::File { offset, name, dev, ino, .. } => (*offset, *dev, *ino, name.clone()),
            Backing::Shared { pgoff, .. } => (pgoff * PAGE_SIZE, 1, 0, b"/dev/zero (deleted)".to_vec()),
            _ => (0, 0, 0, vma.label.as_bytes().to_vec()),
        };
        let name = if name.is_empty() { vma.label.as_bytes().to_vec() } else { name };
        let line = format!("{:08x}-{:08x} {perms} {offset:08x} {:02x}:{:02x} {ino} ", vma.start, vma.end, dev_major(dev), dev_minor(dev));
        if name.is_empty() {
            let _ = writeln!(s, "{line}");
        } else {
            // Linux pads the name to column 73 (seq_pad).
            let _ = writeln!(s, "{line:<73}{}", String::from_utf8_lossy(&name));
        }
    }
    s.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_number_accepts_only_canonical_decimals() {
        assert_eq!(parse_number(b"12"), Some(12));
        assert_eq!(parse_number(b"012"), None);
        assert_eq!(parse_number(b"1a"), None);
        assert_eq!(parse_number(b""), None);
        assert_eq!(parse_number(b"99999999999"), None);
    }

    #[test]
    fn inode_numbers_are_distinct() {
        let nodes = [
            Node::Root,
            Node::SelfLink,
            Node::PidDir(1),
            Node::PidDir(2),
            Node::PidFile(1, PidFile::Stat),
            Node::PidFile(1, PidFile::Status),
            Node::PidLink(1, PidLink::Exe),
            Node::FdDir(1),
            Node::FdLink(1, 0),
            Node::FdLink(1, 1),
            Node::FdLink(2, 0),
        ];
        let mut inos: Vec<u64> = nodes.iter().map(|&n| ino_of(n)).collect();
        inos.sort_unstable();
        inos.dedup();
        assert_eq!(inos.len(), nodes.len());
    }

    #[test]
    fn mount_fields_are_escaped() {
        assert_eq!(escape_mount_field(b"a b\\c"), "a\\040b\\134c");
    }

    #[test]
    fn meminfo_lines_are_aligned() {
        let mut s = String::new();
        kb_line(&mut s, "MemTotal", 65536);
        assert_eq!(s, "MemTotal:          65536 kB\n");
    }
}
