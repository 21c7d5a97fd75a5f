//! fcntl and flock: fd flags, status flags, record and OFD locks (decoded
//! here, kept by fs::lock), pipe sizes and the rest of fcntl's commands.

use std::sync::Arc;

use crate::abi::fcntl::{
    F_ADD_SEALS, F_DUPFD, F_DUPFD_CLOEXEC, F_DUPFD_QUERY, F_GET_SEALS, F_GETFD, F_GETFL, F_GETLEASE, F_GETLK, F_GETOWN, F_GETOWN_EX, F_GETPIPE_SZ, F_GETSIG,
    F_NOTIFY, F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW, F_OWNER_PGRP, F_OWNER_PID, F_OWNER_TID, F_RDLCK, F_SETFD, F_SETFL, F_SETLEASE, F_SETLK, F_SETLKW,
    F_SETOWN, F_SETOWN_EX, F_SETPIPE_SZ, F_SETSIG, F_UNLCK, F_WRLCK, FD_CLOEXEC, O_PATH, SEEK_SET,
};
use crate::abi::signal::NSIG;
use crate::abi::{Errno, KResult};
use crate::fs::fasync::{self, FileOwner, OwnerKind};
use crate::fs::file::File;
use crate::fs::lock;
use crate::syscall::args::*;
use crate::syscall::{Sys, SyscallDef};
use crate::syscalls;

pub const SYSCALLS: &[SyscallDef] = syscalls![
    __NR_fcntl => sys_fcntl,
    __NR_flock => sys_flock,
];

/// `struct flock` (x86-64, 32 bytes).
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, bytemuck::Pod, bytemuck::Zeroable)]
struct Flock {
    l_type: i16,
    l_whence: i16,
    pad0: i32,
    l_start: i64,
    l_len: i64,
    l_pid: i32,
    pad1: i32,
}

fn sys_fcntl(sys: &mut Sys) -> KResult<u64> {
    let (fd, cmd, arg) = (sys.arg_i32(0), sys.arg_u32(1), sys.arg(2));
    let task = sys.task;
    let file = file_of(task, fd)?;
    match cmd {
        F_DUPFD | F_DUPFD_CLOEXEC => {
            let limit = nofile_limit(task);
            if arg >= limit || arg > i32::MAX as u64 {
                return Err(Errno::EINVAL);
            }
            Ok(task.files().install(file, cmd == F_DUPFD_CLOEXEC, arg as i32, limit)? as u64)
        }
        F_GETFD => Ok(if task.files().entry(fd)?.cloexec { FD_CLOEXEC } else { 0 }),
        F_SETFD => {
            task.files().entry_mut(fd)?.cloexec = arg & FD_CLOEXEC != 0;
            Ok(0)
        }
        F_GETFL => Ok(file.flags() as u64),
        F_SETFL => {
            if file.flags() & O_PATH != 0 {
                return Err(Errno::EBADF);
            }
            // setfl: O_DIRECT only where direct I/O exists (regular
            // files; pipes take it as packet mode); O_ASYNC only sticks to
            // files with a fasync operation, which regular files and
            // directories lack.
            let mut flags = arg as u32;
            let mode = file.metadata()?.mode & crate::abi::stat::S_IFMT;
            if flags & crate::abi::fcntl::O_DIRECT != 0 && !matches!(mode, crate::abi::stat::S_IFREG | crate::abi::stat::S_IFIFO) {
                return Err(Errno::EINVAL);
            }
            if matches!(mode, crate::abi::stat::S_IFREG | crate::abi::stat::S_IFDIR) {
                flags &= !crate::abi::fcntl::O_ASYNC;
            }
            fasync::set_status_flags(&file, fd, flags)?;
            Ok(0)
        }
        F_GETLK | F_SETLK | F_SETLKW | F_OFD_GETLK | F_OFD_SETLK | F_OFD_SETLKW => record_lock(sys, &file, cmd, arg),
        F_GETOWN | F_SETOWN | F_GETOWN_EX | F_SETOWN_EX | F_GETSIG | F_SETSIG | F_NOTIFY | F_GET_SEALS | F_ADD_SEALS if file.flags() & O_PATH != 0 => {
            Err(Errno::EBADF)
        }
        F_GETOWN => {
            let owner = file.owner();
            // A group owner reads back negative (which glibc's wrapper
            // tells from an error through F_GETOWN_EX).
            Ok(if owner.kind == OwnerKind::Group { (-(owner.id as i64)) as u64 } else { owner.id as u64 })
        }
        F_SETOWN => {
            let who = arg as i32;
            if who == i32::MIN {
                return Err(Errno::EINVAL);
            }
            let (kind, id) = if who < 0 { (OwnerKind::Group, -who) } else { (OwnerKind::Process, who) };
            set_owner(sys, &file, kind, id)?;
            Ok(0)
        }
        F_GETOWN_EX => {
            let owner = file.owner();
            let kind = match owner.kind {
                OwnerKind::Thread => F_OWNER_TID,
                OwnerKind::Process => F_OWNER_PID,
                OwnerKind::Group => F_OWNER_PGRP,
            };
            put(sys, arg, &[kind, owner.id])?;
            Ok(0)
        }
        F_SETOWN_EX => {
            let [kind, id] = sys.mm().read::<[i32; 2]>(arg)?;
            let kind = match kind {
                F_OWNER_TID => OwnerKind::Thread,
                F_OWNER_PID => OwnerKind::Process,
                F_OWNER_PGRP => OwnerKind::Group,
                _ => return Err(Errno::EINVAL),
            };
            set_owner(sys, &file, kind, id)?;
            Ok(0)
        }
        F_GETSIG => Ok(file.owner().signum as u64),
        F_SETSIG => {
            // Linux's valid_signal: 0 (plain SIGIO) up to _NSIG.
            if arg > NSIG as u64 {
                return Err(Errno::EINVAL);
            }
            let mut owner = file.owner();
            owner.signum = arg as i32;
            file.set_owner(owner);
            Ok(0)
        }
        F_NOTIFY => {
            crate::fs::notify::dnotify(&file, fd, task.tgid, arg as u32, fcntl_owner(sys))?;
            Ok(0)
        }
        F_GETLEASE => Ok(F_UNLCK as u64),
        F_DUPFD_QUERY => {
            let other = file_of(task, arg as i32)?;
            Ok(Arc::ptr_eq(&file, &other) as u64)
        }
        F_SETPIPE_SZ | F_GETPIPE_SZ => {
            let pipe = file.ops.pipe().ok_or(Errno::EBADF)?;
            if cmd == F_GETPIPE_SZ {
                return Ok(pipe.size() as u64);
            }
            // Linux takes the size as an unsigned int; CAP_SYS_RESOURCE
            // lifts the pipe-max-size limit.
            Ok(pipe.set_size(arg as u32, task.creds().euid == 0)? as u64)
        }
        F_GET_SEALS => crate::syscall::memfd::get_seals(&file),
        F_ADD_SEALS => crate::syscall::memfd::add_seals(&file, arg as u32),
        F_SETLEASE => Err(Errno::EINVAL),
        _ => Err(Errno::EINVAL),
    }
}

/// The owner F_NOTIFY and a process-wide F_SETOWN record: the calling
/// process, with the caller's credentials.
fn fcntl_owner(sys: &Sys) -> FileOwner {
    let creds = sys.task.creds();
    FileOwner { kind: OwnerKind::Process, id: sys.task.tgid, signum: 0, uid: creds.uid, euid: creds.euid }
}

/// F_SETOWN and F_SETOWN_EX: ESRCH for an id no thread, process or group
/// has (0 clears the owner); the signal chosen by F_SETSIG stays.
fn set_owner(sys: &Sys, file: &File, kind: OwnerKind, id: i32) -> KResult<()> {
    let system = &sys.task.system;
    if id != 0 {
        let exists = match kind {
            OwnerKind::Thread => system.task(id).is_some(),
            OwnerKind::Process => system.task(id).is_some() || system.process(id).is_some(),
            OwnerKind::Group => !system.process_group(id).is_empty() || system.task(id).is_some(),
        };
        if id < 0 || !exists {
            return Err(Errno::ESRCH);
        }
    }
    let creds = sys.task.creds();
    let signum = file.owner().signum;
    file.set_owner(FileOwner { kind, id, signum, uid: creds.uid, euid: creds.euid });
    Ok(())
}

/// fcntl record locks (POSIX per process, OFD per open file).
fn record_lock(sys: &Sys, file: &Arc<File>, cmd: u32, arg: u64) -> KResult<u64> {
    if file.flags() & O_PATH != 0 {
        return Err(Errno::EBADF);
    }
    let mut fl: Flock = sys.mm().read(arg)?;
    let ofd = matches!(cmd, F_OFD_GETLK | F_OFD_SETLK | F_OFD_SETLKW);
    if ofd && fl.l_pid != 0 {
        return Err(Errno::EINVAL);
    }
    if !matches!(fl.l_type, F_RDLCK | F_WRLCK | F_UNLCK) {
        return Err(Errno::EINVAL);
    }
    let pos = *file.pos.lock();
    let (start, end) = lock::record_range(fl.l_whence, fl.l_start, fl.l_len, pos, || Ok(file.metadata()?.size))?;
    let md = file.metadata()?;
    let key = (md.dev, md.ino);
    let tgid = sys.task.tgid;
    let owner = if ofd { lock::Owner::File(Arc::as_ptr(file) as usize) } else { lock::Owner::Process(tgid) };
    if matches!(cmd, F_GETLK | F_OFD_GETLK) {
        match lock::test(key, owner, fl.l_type == F_WRLCK, start, end) {
            Some(l) => {
                fl.l_type = if l.write { F_WRLCK } else { F_RDLCK };
                fl.l_whence = SEEK_SET as i16;
                fl.l_start = l.start as i64;
                fl.l_len = if l.end == u64::MAX { 0 } else { (l.end - l.start) as i64 };
                fl.l_pid = l.pid;
            }
            None => fl.l_type = F_UNLCK,
        }
        put(sys, arg, &fl)?;
        return Ok(0);
    }
    if fl.l_type == F_RDLCK && !file.readable() || fl.l_type == F_WRLCK && !file.writable() {
        return Err(Errno::EBADF);
    }
    let pid = if ofd { -1 } else { tgid };
    lock::set(key, owner, pid, fl.l_type, start, end, matches!(cmd, F_SETLKW | F_OFD_SETLKW)).map(|_| 0)
}

/// Linux's retired LOCK_MAND bit: flock warns and succeeds.
const LOCK_MAND: u32 = 32;

/// flock checks the operation before the fd, as Linux's does.
fn sys_flock(sys: &mut Sys) -> KResult<u64> {
    let (fd, op) = (sys.arg_i32(0), sys.arg_u32(1));
    if op & LOCK_MAND != 0 {
        return Ok(0);
    }
    if !matches!(op & !crate::abi::fcntl::LOCK_NB, crate::abi::fcntl::LOCK_SH | crate::abi::fcntl::LOCK_EX | crate::abi::fcntl::LOCK_UN) {
        return Err(Errno::EINVAL);
    }
    let file = io_file(sys.task, fd)?;
    let md = file.metadata()?;
    lock::flock((md.dev, md.ino), Arc::as_ptr(&file) as usize, op).map(|_| 0)
}
