//! procfs on /proc: per-process directories, the `self` link, fd magic
//! links, and system files (meminfo, cpuinfo, mounts, ...). File contents
//! are generated at open time, a snapshot as Linux's seq files give. The
//! processes come from a `ProcessView` the task layer installs at boot (fs
//! never names the task layer); "who is asking" (for /proc/self and paths
//! relative to the reader's root) is `sched::current()`.

mod ns;
mod sys;
mod system;

use parking_lot::Mutex;
use std::any::Any;
use std::sync::{Arc, OnceLock};

use crate::abi::fcntl::{O_ACCMODE, O_CLOEXEC, O_RDWR, O_WRONLY, SEEK_CUR, SEEK_SET};
use crate::abi::stat::{S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK};
use crate::abi::statfs::PROC_SUPER_MAGIC;
use crate::abi::{Errno, KResult, PAGE_SIZE, StatFs, Timespec};
use crate::fs::file::{File, FileOps, generic_llseek};
use crate::fs::inode::{DirEntry, Inode, InodeRef, Metadata};
use crate::fs::path::{Mount, MountTable, Path};
use crate::fs::{new_anon_dev, now};
pub use ns::{Namespace, namespace_of};
pub use system::{USER_HZ, mountinfo_content, mounts_content};

/// Offsets at or above this in /proc's root are process directories.
const PID_OFFSET_BASE: u64 = 1 << 20;

/// The processes /proc shows, as the task layer offers them.
pub trait ProcessView: Send + Sync {
    /// Live thread groups, by id.
    fn process_ids(&self) -> Vec<i32>;
    /// The live threads of group `tgid`.
    fn thread_ids(&self, tgid: i32) -> Vec<i32>;
    /// The live task `tid` (a thread id; /proc/<tid> works for threads too).
    fn task(&self, tid: i32) -> Option<Arc<dyn ProcTask>>;
    /// (live tasks, the highest task id), for loadavg and stat.
    fn task_counts(&self) -> (usize, i32);
    /// The root of the mount tree (paths for readers that are no task).
    fn root(&self) -> Option<Path>;
    fn mounts(&self) -> &MountTable;
}

/// One task as /proc shows it.
pub trait ProcTask: Send + Sync {
    fn tid(&self) -> i32;
    fn tgid(&self) -> i32;
    /// The owner of its /proc entries: (euid, egid).
    fn owner(&self) -> (u32, u32);
    /// Open file `fd` and its close-on-exec flag.
    fn file(&self, fd: i32) -> KResult<(Arc<File>, bool)>;
    fn fds(&self) -> Vec<i32>;
    fn cwd(&self) -> Path;
    fn root(&self) -> Path;
    fn exe(&self) -> Vec<u8>;
    /// The contents of a per-process file.
    fn content(&self, file: PidFile) -> Vec<u8>;
    /// A write to one of the writable per-process files (comm,
    /// oom_score_adj, oom_adj, coredump_filter).
    fn write(&self, file: PidFile, data: &[u8]) -> KResult<usize>;
}

static VIEW: OnceLock<Arc<dyn ProcessView>> = OnceLock::new();

/// Installs the processes /proc shows (once, at boot).
pub fn install_view(view: Arc<dyn ProcessView>) {
    let _ = VIEW.set(view);
}

pub struct ProcFs {
    dev: u64,
    boot_time: Timespec,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Global {
    Meminfo,
    Cpuinfo,
    Uptime,
    Filesystems,
    Partitions,
    Loadavg,
    Stat,
    Version,
}

const GLOBALS: &[(&str, Global)] = &[
    ("cpuinfo", Global::Cpuinfo),
    ("filesystems", Global::Filesystems),
    ("loadavg", Global::Loadavg),
    ("meminfo", Global::Meminfo),
    ("partitions", Global::Partitions),
    ("stat", Global::Stat),
    ("uptime", Global::Uptime),
    ("version", Global::Version),
];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PidFile {
    Stat,
    Status,
    Cmdline,
    Environ,
    Maps,
    Comm,
    Statm,
    Mounts,
    Mountinfo,
    Auxv,
    Cgroup,
    CoredumpFilter,
    Io,
    Limits,
    Loginuid,
    OomAdj,
    OomScore,
    OomScoreAdj,
    Personality,
    Sched,
    Schedstat,
    Sessionid,
    Smaps,
    SmapsRollup,
    Wchan,
}

impl PidFile {
    /// Permission bits, as Linux's tgid_base_stuff gives them.
    fn mode(self) -> u32 {
        match self {
            PidFile::Environ | PidFile::Auxv | PidFile::Io | PidFile::Personality => 0o400,
            PidFile::Comm | PidFile::CoredumpFilter | PidFile::Loginuid | PidFile::OomAdj | PidFile::OomScoreAdj | PidFile::Sched => 0o644,
            _ => 0o444,
        }
    }

    /// Writes go to the task (ProcTask::write).
    fn writable(self) -> bool {
        matches!(self, PidFile::Comm | PidFile::CoredumpFilter | PidFile::OomAdj | PidFile::OomScoreAdj)
    }
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
    NsDir,
}

impl PidEntry {
    /// The node of this entry of process (or thread) `pid`'s directory.
    fn node(&self, pid: i32) -> Node {
        match self {
            PidEntry::File(f) => Node::PidFile(pid, *f),
            PidEntry::Link(l) => Node::PidLink(pid, *l),
            PidEntry::FdDir => Node::FdDir(pid),
            PidEntry::FdInfoDir => Node::FdInfoDir(pid),
            PidEntry::TaskDir => Node::TaskDir(pid),
            PidEntry::NsDir => Node::NsDir(pid),
        }
    }
}

const PID_ENTRIES: &[(&str, PidEntry)] = &[
    ("auxv", PidEntry::File(PidFile::Auxv)),
    ("cgroup", PidEntry::File(PidFile::Cgroup)),
    ("cmdline", PidEntry::File(PidFile::Cmdline)),
    ("comm", PidEntry::File(PidFile::Comm)),
    ("coredump_filter", PidEntry::File(PidFile::CoredumpFilter)),
    ("cwd", PidEntry::Link(PidLink::Cwd)),
    ("environ", PidEntry::File(PidFile::Environ)),
    ("exe", PidEntry::Link(PidLink::Exe)),
    ("fd", PidEntry::FdDir),
    ("fdinfo", PidEntry::FdInfoDir),
    ("io", PidEntry::File(PidFile::Io)),
    ("limits", PidEntry::File(PidFile::Limits)),
    ("loginuid", PidEntry::File(PidFile::Loginuid)),
    ("maps", PidEntry::File(PidFile::Maps)),
    ("mountinfo", PidEntry::File(PidFile::Mountinfo)),
    ("mounts", PidEntry::File(PidFile::Mounts)),
    ("ns", PidEntry::NsDir),
    ("oom_adj", PidEntry::File(PidFile::OomAdj)),
    ("oom_score", PidEntry::File(PidFile::OomScore)),
    ("oom_score_adj", PidEntry::File(PidFile::OomScoreAdj)),
    ("personality", PidEntry::File(PidFile::Personality)),
    ("root", PidEntry::Link(PidLink::Root)),
    ("sched", PidEntry::File(PidFile::Sched)),
    ("schedstat", PidEntry::File(PidFile::Schedstat)),
    ("sessionid", PidEntry::File(PidFile::Sessionid)),
    ("smaps", PidEntry::File(PidFile::Smaps)),
    ("smaps_rollup", PidEntry::File(PidFile::SmapsRollup)),
    ("stat", PidEntry::File(PidFile::Stat)),
    ("statm", PidEntry::File(PidFile::Statm)),
    ("status", PidEntry::File(PidFile::Status)),
    ("task", PidEntry::TaskDir),
    ("wchan", PidEntry::File(PidFile::Wchan)),
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
    /// /proc/<pid>/task/<tid>: the thread's own files, as /proc/<tid>
    /// has them but without "task" (Linux's tid_base_stuff), and not a
    /// directory pidfd_send_signal takes (proc_tid_base_operations).
    ThreadDir(i32, i32),
    /// /proc/<pid>/ns and its links.
    NsDir(i32),
    NsLink(i32, Namespace),
    /// /proc/sys and below.
    Sys(sys::SysNode),
}

pub struct ProcInode {
    fs: Arc<ProcFs>,
    node: Node,
}

/// A new procfs; returns its root directory.
pub fn new_procfs() -> InodeRef {
    let fs = Arc::new(ProcFs { dev: new_anon_dev(), boot_time: now() });
    Arc::new(ProcInode { fs, node: Node::Root })
}

/// The pid a /proc/<pid> directory names (also /proc/<tid> of a thread
/// that is not its group's leader, which a lookup finds though readdir
/// does not list it): pidfd_send_signal takes such an fd as a pidfd
/// (Linux's tgid_pidfd_to_pid), but not /proc/<pid>/task/<tid>.
pub fn pid_dir_pid(inode: &InodeRef) -> Option<i32> {
    match inode.as_any().downcast_ref::<ProcInode>()?.node {
        Node::PidDir(pid) => Some(pid),
        _ => None,
    }
}

fn view() -> KResult<&'static Arc<dyn ProcessView>> {
    VIEW.get().ok_or(Errno::ENOENT)
}

/// (tgid, tid) of the task on whose behalf this kernel thread works.
fn reader() -> Option<(i32, i32)> {
    crate::sched::current().map(|t| (t.tgid(), t.tid()))
}

impl ProcFs {
    /// The live task `pid`.
    fn task(&self, pid: i32) -> KResult<Arc<dyn ProcTask>> {
        view()?.task(pid).ok_or(Errno::ENOENT)
    }

    fn node(self: &Arc<Self>, node: Node) -> InodeRef {
        Arc::new(ProcInode { fs: self.clone(), node })
    }

    /// The root the reader sees paths from.
    fn reader_root(&self) -> Option<Path> {
        let view = view().ok()?;
        match reader().and_then(|(_, tid)| view.task(tid)) {
            Some(t) => Some(t.root()),
            None => view.root(),
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
        Node::ThreadDir(_, t) => pid_ino(t, 2),
        Node::PidFile(p, f) => pid_ino(p, 16 + f as u64),
        Node::PidLink(p, l) => pid_ino(p, 48 + l as u64),
        Node::FdDir(p) => pid_ino(p, 64),
        Node::TaskDir(p) => pid_ino(p, 65),
        Node::FdInfoDir(p) => pid_ino(p, 66),
        Node::NsDir(p) => pid_ino(p, 67),
        Node::NsLink(p, n) => pid_ino(p, 80 + ns::ALL.iter().position(|(_, x)| *x == n).unwrap_or(0) as u64),
        Node::Sys(sys::SysNode::Dir(d)) => 0x1000 + d as u64,
        Node::Sys(sys::SysNode::File(f)) => 0x2000 + f as u64,
        Node::FdInfo(p, fd) => FDINFO | ((p as u32 as u64) << 32) | fd as u32 as u64,
        Node::FdLink(p, fd) => FD | ((p as u32 as u64) << 32) | fd as u32 as u64,
    }
}

impl ProcInode {
    fn pid(&self) -> Option<i32> {
        match self.node {
            Node::PidDir(p)
            | Node::ThreadDir(_, p)
            | Node::PidFile(p, _)
            | Node::PidLink(p, _)
            | Node::FdDir(p)
            | Node::FdLink(p, _)
            | Node::FdInfoDir(p)
            | Node::FdInfo(p, _)
            | Node::TaskDir(p)
            | Node::NsDir(p)
            | Node::NsLink(p, _) => Some(p),
            _ => None,
        }
    }

    fn open_file(&self, pid: i32, fd: i32) -> KResult<Arc<File>> {
        Ok(self.fs.task(pid)?.file(fd)?.0)
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
            Node::PidLink(pid, PidLink::Cwd) => Ok(self.fs.task(pid)?.cwd()),
            Node::PidLink(pid, PidLink::Root) => Ok(self.fs.task(pid)?.root()),
            _ => Err(Errno::EINVAL),
        }
    }
}

/// A path for an open file that has none (pipe, socket, console): a
/// private one-entry mount, so following /proc/<pid>/fd/N reaches it.
pub fn anon_path(inode: &InodeRef) -> Path {
    let mount = Mount::detached(inode.clone(), "anon_inodefs");
    Path { dentry: mount.root.clone(), mount }
}

/// What readlink shows for an open file: its path, " (deleted)" once
/// unlinked, or the type-and-inode name of an anonymous file.
pub fn file_link_text(file: &File, root: Option<&Path>) -> Vec<u8> {
    match (&file.path, root) {
        (Some(p), Some(root)) => p.link_text(root),
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
            Node::PidDir(_) | Node::ThreadDir(..) => (S_IFDIR | 0o555, 3),
            Node::PidFile(_, f) => (S_IFREG | f.mode(), 1),
            Node::NsDir(_) => (S_IFDIR | 0o511, 2),
            Node::NsLink(..) => (S_IFLNK | 0o777, 1),
            Node::Sys(n @ sys::SysNode::Dir(_)) => (S_IFDIR | sys::mode(n), 2),
            Node::Sys(n @ sys::SysNode::File(_)) => (S_IFREG | sys::mode(n), 1),
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
                let (uid, gid) = self.fs.task(pid)?.owner();
                (uid, gid, now())
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
                    b"sys" => return Ok(fs.node(Node::Sys(sys::ROOT))),
                    _ => {}
                }
                if let Some((_, g)) = GLOBALS.iter().find(|(n, _)| n.as_bytes() == name) {
                    return Ok(fs.node(Node::Global(*g)));
                }
                let pid = parse_number(name).ok_or(Errno::ENOENT)?;
                fs.task(pid)?;
                Ok(fs.node(Node::PidDir(pid)))
            }
            Node::PidDir(pid) | Node::ThreadDir(_, pid) => {
                fs.task(pid)?;
                let thread = matches!(self.node, Node::ThreadDir(..));
                let (_, entry) = PID_ENTRIES.iter().find(|(n, e)| n.as_bytes() == name && !(thread && matches!(e, PidEntry::TaskDir))).ok_or(Errno::ENOENT)?;
                Ok(fs.node(entry.node(pid)))
            }
            Node::NsDir(pid) => {
                fs.task(pid)?;
                let (_, n) = ns::ALL.iter().find(|(n, _)| n.as_bytes() == name).ok_or(Errno::ENOENT)?;
                Ok(fs.node(Node::NsLink(pid, *n)))
            }
            Node::Sys(sys::SysNode::Dir(d)) => Ok(fs.node(Node::Sys(sys::lookup(d, name)?))),
            Node::TaskDir(pid) => {
                let tid = parse_number(name).ok_or(Errno::ENOENT)?;
                let leader = fs.task(pid)?;
                if fs.task(tid)?.tgid() != leader.tgid() {
                    return Err(Errno::ENOENT);
                }
                Ok(fs.node(Node::ThreadDir(pid, tid)))
            }
            Node::FdDir(pid) | Node::FdInfoDir(pid) => {
                let fd = parse_number(name).ok_or(Errno::ENOENT)?;
                self.open_file(pid, fd).map_err(|_| Errno::ENOENT)?;
                Ok(fs.node(if matches!(self.node, Node::FdDir(_)) { Node::FdLink(pid, fd) } else { Node::FdInfo(pid, fd) }))
            }
            _ => Err(Errno::ENOTDIR),
        }
    }

    // Nothing is made or removed in /proc. A name a /proc lookup does not
    // find is an error there, not a negative entry, so making one is
    // ENOENT; an existing entry has no unlink, rmdir or rename (EPERM).
    fn create(&self, _name: &[u8], _mode: u32, _rdev: u64, _uid: u32, _gid: u32) -> KResult<InodeRef> {
        self.no_new_entries()
    }

    fn symlink(&self, _name: &[u8], _target: &[u8], _uid: u32, _gid: u32) -> KResult<InodeRef> {
        self.no_new_entries()
    }

    fn link(&self, _name: &[u8], _target: &InodeRef) -> KResult<()> {
        self.no_new_entries().map(|_| ())
    }

    fn unlink(&self, _name: &[u8]) -> KResult<()> {
        self.no_removals()
    }

    fn rmdir(&self, _name: &[u8]) -> KResult<()> {
        self.no_removals()
    }

    fn rename(&self, _old_name: &[u8], _new_dir: &InodeRef, _new_name: &[u8], _flags: u32) -> KResult<()> {
        self.no_removals()
    }

    fn readdir(&self, offset: u64, sink: &mut dyn FnMut(DirEntry<'_>) -> bool) -> KResult<()> {
        let ino = ino_of(self.node);
        let parent_ino = match self.node {
            Node::FdDir(p) | Node::FdInfoDir(p) | Node::TaskDir(p) | Node::NsDir(p) => ino_of(Node::PidDir(p)),
            Node::ThreadDir(p, _) => ino_of(Node::TaskDir(p)),
            Node::Sys(n) => sys::parent(n).map(|p| ino_of(Node::Sys(p))).unwrap_or(1),
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
                fixed.push((b"sys".to_vec(), ino_of(Node::Sys(sys::ROOT)), 4));
                fixed.push((b"thread-self".to_vec(), ino_of(Node::ThreadSelfLink), 10));
            }
            Node::PidDir(pid) | Node::ThreadDir(_, pid) => {
                self.fs.task(pid)?;
                let thread = matches!(self.node, Node::ThreadDir(..));
                for (n, e) in PID_ENTRIES.iter().filter(|(_, e)| !(thread && matches!(e, PidEntry::TaskDir))) {
                    let dtype = match e {
                        PidEntry::File(_) => 8,
                        PidEntry::Link(_) => 10,
                        _ => 4,
                    };
                    fixed.push((n.as_bytes().to_vec(), ino_of(e.node(pid)), dtype));
                }
            }
            Node::NsDir(pid) => {
                self.fs.task(pid)?;
                for (n, x) in ns::ALL {
                    fixed.push((n.as_bytes().to_vec(), ino_of(Node::NsLink(pid, *x)), 10));
                }
            }
            Node::Sys(sys::SysNode::Dir(d)) => {
                for (n, x) in sys::list(d) {
                    fixed.push((n.as_bytes().to_vec(), ino_of(Node::Sys(x)), if matches!(x, sys::SysNode::Dir(_)) { 4 } else { 8 }));
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
                let mut pids = view()?.process_ids();
                pids.sort_unstable();
                (pids, PID_OFFSET_BASE)
            }
            Node::FdDir(pid) | Node::FdInfoDir(pid) => (self.fs.task(pid)?.fds(), fixed.len() as u64),
            Node::TaskDir(pid) => {
                let tgid = self.fs.task(pid)?.tgid();
                let mut tids = view()?.thread_ids(tgid);
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
                Node::TaskDir(pid) => (Node::ThreadDir(pid, n), 4),
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
            Node::SelfLink => Ok(reader().map(|(tgid, _)| tgid).unwrap_or(1).to_string().into_bytes()),
            Node::ThreadSelfLink => {
                let (tgid, tid) = reader().unwrap_or((1, 1));
                Ok(format!("{tgid}/task/{tid}").into_bytes())
            }
            Node::MountsLink => Ok(b"self/mounts".to_vec()),
            Node::PidLink(pid, PidLink::Exe) => {
                let exe = self.fs.task(pid)?.exe();
                if exe.is_empty() { Err(Errno::ENOENT) } else { Ok(exe) }
            }
            Node::PidLink(..) => {
                let path = self.link_path()?;
                let root = self.fs.reader_root().ok_or(Errno::ENOENT)?;
                Ok(path.link_text(&root))
            }
            Node::FdLink(pid, fd) => {
                let file = self.open_file(pid, fd)?;
                Ok(file_link_text(&file, self.fs.reader_root().as_ref()))
            }
            Node::NsLink(pid, n) => {
                self.fs.task(pid)?;
                Ok(n.link_text())
            }
            _ => Err(Errno::EINVAL),
        }
    }

    fn magic_link(&self) -> Option<Path> {
        match self.node {
            Node::FdLink(..) | Node::PidLink(_, PidLink::Cwd) | Node::PidLink(_, PidLink::Root) => self.link_path().ok(),
            Node::NsLink(pid, n) => self.fs.task(pid).ok().map(|_| anon_path(&ns::inode(n))),
            _ => None,
        }
    }

    /// Linux's proc_setattr and proc_sys_setattr: modes and owners are
    /// fixed; a truncation (O_TRUNC of a writable file) is accepted and
    /// changes nothing.
    fn setattr(&self, attr: &crate::fs::inode::SetAttr) -> KResult<()> {
        if attr.mode.is_some() || attr.uid.is_some() || attr.gid.is_some() { Err(Errno::EPERM) } else { Ok(()) }
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
        let writer = match self.node {
            Node::PidFile(pid, f) if f.writable() => Some(Writer::Pid(pid, f)),
            Node::Sys(n @ sys::SysNode::File(f)) => {
                let euid = crate::sched::current().map(|t| t.creds().euid).unwrap_or(0);
                let want = match flags & O_ACCMODE {
                    O_WRONLY => 2,
                    O_RDWR => 6,
                    _ => 4,
                };
                sys::may_open(n, euid, want)?;
                Some(Writer::Sys(f))
            }
            Node::Global(_) | Node::PidFile(..) => None,
            _ => return Ok(None),
        };
        // A process's files are generated at the first read, as Linux's
        // seq_read (the open only needs the process); the others at open,
        // where their errors belong. A write-only open generates nothing.
        let generated = match self.node {
            Node::PidFile(pid, _) => {
                self.fs.task(pid)?;
                Generated { bytes: None, fresh: false }
            }
            _ if flags & O_ACCMODE == O_WRONLY => Generated { bytes: Some(Vec::new()), fresh: true },
            _ => Generated { bytes: Some(self.generate()?), fresh: true },
        };
        let seq = !matches!(self.node, Node::PidFile(_, PidFile::Cmdline | PidFile::Environ));
        let source = ProcInode { fs: self.fs.clone(), node: self.node };
        Ok(Some(Arc::new(SnapshotFile { data: Mutex::new(generated), writer, seq, source })))
    }
}

impl ProcInode {
    fn is_dir(&self) -> bool {
        matches!(self.node, Node::Root | Node::PidDir(_) | Node::ThreadDir(..) | Node::FdDir(_) | Node::FdInfoDir(_) | Node::TaskDir(_))
    }

    fn no_new_entries(&self) -> KResult<InodeRef> {
        Err(if self.is_dir() { Errno::ENOENT } else { Errno::ENOTDIR })
    }

    fn no_removals(&self) -> KResult<()> {
        Err(if self.is_dir() { Errno::EPERM } else { Errno::ENOTDIR })
    }
}

fn parse_number(name: &[u8]) -> Option<i32> {
    if name.is_empty() || name.len() > 10 || !name.iter().all(u8::is_ascii_digit) || (name[0] == b'0' && name.len() > 1) {
        return None;
    }
    std::str::from_utf8(name).ok()?.parse().ok()
}

/// Where a write to an open /proc file goes.
enum Writer {
    Pid(i32, PidFile),
    Sys(u16),
}

/// An open /proc file. A seq_file (all but cmdline and environ) keeps the
/// bytes it generated until a read from offset 0 generates them again
/// (Linux: seq_read after a rewind); cmdline and environ read the
/// process's memory on every read, so an exec since the open shows.
struct SnapshotFile {
    data: Mutex<Generated>,
    writer: Option<Writer>,
    seq: bool,
    source: ProcInode,
}

struct Generated {
    /// None until the first read.
    bytes: Option<Vec<u8>>,
    /// Generated at open and not read from yet.
    fresh: bool,
}

impl FileOps for SnapshotFile {
    fn read(&self, _file: &File, buf: &mut [u8], pos: &mut u64) -> KResult<usize> {
        let mut data = self.data.lock();
        if data.bytes.is_none() || !self.seq || (*pos == 0 && !data.fresh) {
            data.bytes = Some(self.source.generate()?);
        }
        data.fresh = false;
        let bytes = data.bytes.as_deref().unwrap_or_default();
        if *pos >= bytes.len() as u64 {
            return Ok(0);
        }
        let start = *pos as usize;
        let n = (bytes.len() - start).min(buf.len());
        buf[..n].copy_from_slice(&bytes[start..start + n]);
        *pos += n as u64;
        Ok(n)
    }

    fn write(&self, _file: &File, buf: &[u8], _pos: &mut u64) -> KResult<usize> {
        match self.writer {
            Some(Writer::Pid(pid, f)) => self.source.fs.task(pid)?.write(f, buf),
            Some(Writer::Sys(entry)) => sys::write(entry, buf),
            None => Err(Errno::EINVAL),
        }
    }

    fn size(&self, _file: &File) -> KResult<u64> {
        Ok(self.data.lock().bytes.as_ref().map_or(0, Vec::len) as u64)
    }

    /// Linux's seq_lseek: SEEK_SET and SEEK_CUR only (SEEK_END is EINVAL);
    /// cmdline and environ use generic_file_llseek over a size of 0.
    fn llseek(&self, _file: &File, pos: &mut u64, offset: i64, whence: u32) -> KResult<u64> {
        if self.seq && !matches!(whence, SEEK_SET | SEEK_CUR) {
            return Err(Errno::EINVAL);
        }
        let new = generic_llseek(*pos, offset, whence, || Ok(0))?;
        *pos = new;
        Ok(new)
    }
}

// ---- content generation ----

impl ProcInode {
    fn generate(&self) -> KResult<Vec<u8>> {
        match self.node {
            Node::Global(g) => Ok(system::global_content(view()?.as_ref(), g)),
            Node::PidFile(pid, f) => Ok(self.fs.task(pid)?.content(f)),
            Node::Sys(sys::SysNode::File(f)) => sys::read(f),
            Node::FdInfo(pid, fd) => {
                let (file, cloexec) = self.fs.task(pid)?.file(fd)?;
                let pos = *file.pos.lock();
                let flags = file.flags() | if cloexec { O_CLOEXEC } else { 0 };
                let mnt = file.path.as_ref().map(|p| p.mount.id).unwrap_or(0);
                let ino = file.inode.metadata().map(|m| m.ino).unwrap_or(0);
                let extra = file.ops.fdinfo(&file);
                Ok(format!("pos:\t{pos}\nflags:\t0{flags:o}\nmnt_id:\t{mnt}\nino:\t{ino}\n{extra}").into_bytes())
            }
            _ => Err(Errno::EISDIR),
        }
    }
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
            Node::ThreadDir(1, 2),
            Node::TaskDir(1),
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
}
