//! What a task shares with others: unshare, setns and kcmp, with Linux's
//! checks in Linux's order. vkernel has one instance of each namespace and
//! creates none: unshare of a namespace is EPERM without CAP_SYS_ADMIN and
//! EINVAL with it (a kernel built without that namespace), and setns can
//! only "join" the namespace the task is in.

use std::sync::{Arc, OnceLock};

use crate::abi::capability::{CAP_SYS_ADMIN, CAP_SYS_CHROOT};
use crate::abi::sched::{
    CLONE_FILES, CLONE_FS, CLONE_NEWCGROUP, CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWTIME, CLONE_NEWUSER, CLONE_NEWUTS, CLONE_SIGHAND,
    CLONE_SYSVSEM, CLONE_THREAD, CLONE_VM,
};
use crate::abi::{Errno, KResult};
use crate::fs::procfs::{Namespace, namespace_of};
use crate::syscall::{Sys, SyscallDef};
use crate::syscalls;
use crate::task::Task;
use crate::task::access::{self, ptrace_may_access};

pub const SYSCALLS: &[SyscallDef] = syscalls![
    __NR_unshare => sys_unshare,
    __NR_setns => sys_setns,
    __NR_kcmp => sys_kcmp,
];

const NAMESPACES: u64 = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWCGROUP | CLONE_NEWTIME;

fn sys_unshare(sys: &mut Sys) -> KResult<u64> {
    let mut flags = sys.arg(0);
    // Linux's ksys_unshare widens the request first.
    if flags & CLONE_NEWUSER != 0 {
        flags |= CLONE_THREAD | CLONE_FS;
    }
    if flags & CLONE_VM != 0 {
        flags |= CLONE_SIGHAND;
    }
    if flags & CLONE_SIGHAND != 0 {
        flags |= CLONE_THREAD;
    }
    if flags & CLONE_NEWNS != 0 {
        flags |= CLONE_FS;
    }
    let known = CLONE_THREAD | CLONE_FS | CLONE_SIGHAND | CLONE_VM | CLONE_FILES | CLONE_SYSVSEM | CLONE_NEWUSER | NAMESPACES;
    if flags & !known != 0 {
        return Err(Errno::EINVAL);
    }
    let task = sys.task;
    // The thread group, the handlers and the address space cannot be
    // unshared; asking is fine when nothing shares them.
    if flags & (CLONE_THREAD | CLONE_SIGHAND | CLONE_VM) != 0 && task.process.thread_count() > 1 {
        return Err(Errno::EINVAL);
    }
    if flags & (CLONE_SIGHAND | CLONE_VM) != 0 && Arc::strong_count(&task.sigactions_table()) > 2 {
        return Err(Errno::EINVAL);
    }
    if flags & CLONE_NEWUSER != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & NAMESPACES != 0 {
        return Err(if task.creds().capable(CAP_SYS_ADMIN) { Errno::EINVAL } else { Errno::EPERM });
    }
    if flags & CLONE_FS != 0 {
        task.unshare_fs();
    }
    if flags & CLONE_FILES != 0 {
        task.unshare_files();
    }
    // CLONE_SYSVSEM detaches from System V semaphore undo lists; vkernel
    // has no System V semaphores, so there is none to leave.
    Ok(0)
}

/// Linux's setns: the fd must be an nsfs file (a pidfd names no
/// namespace here); `nstype` 0 or the file's own type; then the
/// namespace's install rules.
fn sys_setns(sys: &mut Sys) -> KResult<u64> {
    let (fd, nstype) = (sys.arg_i32(0), sys.arg_i32(1) as u32 as u64);
    let file = sys.task.files().get(fd)?;
    let ns = namespace_of(&file.inode).ok_or(Errno::EINVAL)?;
    if nstype != 0 && nstype != ns.clone_flag() {
        return Err(Errno::EINVAL);
    }
    let creds = sys.task.creds();
    match ns {
        // Joining the user namespace one is in is refused outright.
        Namespace::User => Err(Errno::EINVAL),
        Namespace::Time | Namespace::TimeForChildren if sys.task.process.thread_count() > 1 => Err(Errno::EUSERS),
        _ if !creds.capable(CAP_SYS_ADMIN) => Err(Errno::EPERM),
        Namespace::Mnt => {
            if !creds.capable(CAP_SYS_CHROOT) {
                return Err(Errno::EPERM);
            }
            if sys.task.fs_is_shared() {
                return Err(Errno::EINVAL);
            }
            // Entering a mount namespace starts at its root.
            let root = sys.task.system.root();
            let mut fs = sys.task.fs();
            fs.root = root.clone();
            fs.cwd = root;
            Ok(0)
        }
        _ => Ok(0),
    }
}

const KCMP_FILE: i32 = 0;
const KCMP_VM: i32 = 1;
const KCMP_FILES: i32 = 2;
const KCMP_FS: i32 = 3;
const KCMP_SIGHAND: i32 = 4;
const KCMP_IO: i32 = 5;
const KCMP_SYSVSEM: i32 = 6;
const KCMP_EPOLL_TFD: i32 = 7;

/// Linux's kcmp_ptr: 0 when equal, else 1 or 2 by an order of the objects
/// scrambled with per-boot random cookies, so no address leaks.
fn compare<T: ?Sized>(a: *const T, b: *const T, kind: i32) -> u64 {
    static COOKIES: OnceLock<[(u64, u64); 8]> = OnceLock::new();
    let cookies = COOKIES.get_or_init(|| {
        let mut raw = [0u8; 128];
        let _ = crate::platform::host::system::fill_random(&mut raw);
        let word = |i: usize| u64::from_ne_bytes(raw[i * 8..i * 8 + 8].try_into().unwrap_or([0; 8]));
        std::array::from_fn(|k| (word(2 * k), word(2 * k + 1) | 1))
    });
    let (xor, mul) = cookies[kind as usize & 7];
    let key = |p: *const T| (p as *const u8 as u64 ^ xor).wrapping_mul(mul);
    match key(a).cmp(&key(b)) {
        std::cmp::Ordering::Equal => 0,
        std::cmp::Ordering::Less => 1,
        std::cmp::Ordering::Greater => 2,
    }
}

fn sys_kcmp(sys: &mut Sys) -> KResult<u64> {
    let (pid1, pid2, kind, idx1, idx2) = (sys.arg_i32(0), sys.arg_i32(1), sys.arg_i32(2), sys.arg(3), sys.arg(4));
    let system = &sys.task.system;
    let (t1, t2) = match (system.task(pid1), system.task(pid2)) {
        (Some(a), Some(b)) => (a, b),
        _ => return Err(Errno::ESRCH),
    };
    if !ptrace_may_access(sys.task, &t1, access::Creds::Real) || !ptrace_may_access(sys.task, &t2, access::Creds::Real) {
        return Err(Errno::EPERM);
    }
    let file_of = |t: &Task, fd: u64| i32::try_from(fd).ok().and_then(|fd| t.files().get(fd).ok());
    Ok(match kind {
        KCMP_FILE => match (file_of(&t1, idx1), file_of(&t2, idx2)) {
            (Some(a), Some(b)) => compare(Arc::as_ptr(&a), Arc::as_ptr(&b), kind),
            _ => return Err(Errno::EBADF),
        },
        KCMP_VM => compare(Arc::as_ptr(&t1.mm()), Arc::as_ptr(&t2.mm()), kind),
        KCMP_FILES => compare(Arc::as_ptr(&t1.files_table()), Arc::as_ptr(&t2.files_table()), kind),
        KCMP_FS => compare(Arc::as_ptr(&t1.fs_context()), Arc::as_ptr(&t2.fs_context()), kind),
        KCMP_SIGHAND => compare(Arc::as_ptr(&t1.sigactions_table()), Arc::as_ptr(&t2.sigactions_table()), kind),
        // No task has an I/O context or a System V undo list: both are
        // "none", which compares equal.
        KCMP_IO | KCMP_SYSVSEM => 0,
        // Comparing with a file in an epoll set is not offered (as without
        // CONFIG_EPOLL).
        KCMP_EPOLL_TFD => return Err(Errno::EOPNOTSUPP),
        _ => return Err(Errno::EINVAL),
    })
}
