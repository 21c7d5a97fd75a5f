//! /proc/PID/ns: the namespaces a task is in. vkernel has one instance of
//! each (no namespace can be created), numbered as Linux numbers its
//! initial namespaces; each link opens an nsfs file, which setns accepts
//! (a task can only "join" the namespace it is already in).

use std::any::Any;
use std::sync::{Arc, OnceLock};

use crate::abi::sched::{CLONE_NEWCGROUP, CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWTIME, CLONE_NEWUSER, CLONE_NEWUTS};
use crate::abi::stat::S_IFREG;
use crate::abi::{KResult, StatFs};
use crate::fs::inode::{Inode, InodeRef, Metadata};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Namespace {
    Cgroup,
    Ipc,
    Mnt,
    Net,
    Pid,
    PidForChildren,
    Time,
    TimeForChildren,
    User,
    Uts,
}

/// The entries of /proc/PID/ns, in Linux's (alphabetical) order.
pub const ALL: &[(&str, Namespace)] = &[
    ("cgroup", Namespace::Cgroup),
    ("ipc", Namespace::Ipc),
    ("mnt", Namespace::Mnt),
    ("net", Namespace::Net),
    ("pid", Namespace::Pid),
    ("pid_for_children", Namespace::PidForChildren),
    ("time", Namespace::Time),
    ("time_for_children", Namespace::TimeForChildren),
    ("user", Namespace::User),
    ("uts", Namespace::Uts),
];

impl Namespace {
    /// The name readlink shows ("uts:[4026531838]" names "uts").
    fn kind(self) -> &'static str {
        match self {
            Namespace::Cgroup => "cgroup",
            Namespace::Ipc => "ipc",
            Namespace::Mnt => "mnt",
            Namespace::Net => "net",
            Namespace::Pid | Namespace::PidForChildren => "pid",
            Namespace::Time | Namespace::TimeForChildren => "time",
            Namespace::User => "user",
            Namespace::Uts => "uts",
        }
    }

    /// Linux's numbers for its initial namespaces (PROC_*_INIT_INO; the
    /// mount and network namespaces take the first dynamic ones).
    pub fn inode(self) -> u64 {
        match self {
            Namespace::Ipc => 0xEFFF_FFFF,
            Namespace::Uts => 0xEFFF_FFFE,
            Namespace::User => 0xEFFF_FFFD,
            Namespace::Pid | Namespace::PidForChildren => 0xEFFF_FFFC,
            Namespace::Cgroup => 0xEFFF_FFFB,
            Namespace::Time | Namespace::TimeForChildren => 0xEFFF_FFFA,
            Namespace::Mnt => 0xF000_0001,
            Namespace::Net => 0xF000_0000,
        }
    }

    /// The CLONE_NEW* flag setns names this namespace by.
    pub fn clone_flag(self) -> u64 {
        match self {
            Namespace::Cgroup => CLONE_NEWCGROUP,
            Namespace::Ipc => CLONE_NEWIPC,
            Namespace::Mnt => CLONE_NEWNS,
            Namespace::Net => CLONE_NEWNET,
            Namespace::Pid | Namespace::PidForChildren => CLONE_NEWPID,
            Namespace::Time | Namespace::TimeForChildren => CLONE_NEWTIME,
            Namespace::User => CLONE_NEWUSER,
            Namespace::Uts => CLONE_NEWUTS,
        }
    }

    pub fn link_text(self) -> Vec<u8> {
        format!("{}:[{}]", self.kind(), self.inode()).into_bytes()
    }
}

/// An open namespace (nsfs): what a /proc/PID/ns link leads to.
pub struct NsInode {
    pub namespace: Namespace,
    dev: u64,
}

fn nsfs_dev() -> u64 {
    static DEV: OnceLock<u64> = OnceLock::new();
    *DEV.get_or_init(crate::fs::new_anon_dev)
}

pub fn inode(namespace: Namespace) -> InodeRef {
    Arc::new(NsInode { namespace, dev: nsfs_dev() })
}

/// The namespace an open file stands for, if it is one.
pub fn namespace_of(inode: &InodeRef) -> Option<Namespace> {
    inode.as_any().downcast_ref::<NsInode>().map(|n| n.namespace)
}

impl Inode for NsInode {
    fn metadata(&self) -> KResult<Metadata> {
        let t = crate::fs::now();
        Ok(Metadata {
            dev: self.dev,
            ino: self.namespace.inode(),
            mode: S_IFREG | 0o444,
            nlink: 1,
            uid: 0,
            gid: 0,
            rdev: 0,
            size: 0,
            blksize: 4096,
            blocks: 0,
            atime: t,
            mtime: t,
            ctime: t,
        })
    }

    fn statfs(&self) -> KResult<StatFs> {
        // NSFS_MAGIC
        Ok(StatFs { f_type: 0x6e73_6673, f_bsize: 4096, f_namelen: 255, f_frsize: 4096, ..Default::default() })
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn link_name(&self) -> Option<Vec<u8>> {
        Some(self.namespace.link_text())
    }
}
