//! Directories as a task sees them: getdents, getcwd, chdir, fchdir, chroot.

use crate::abi::fcntl::AT_FDCWD;
use crate::abi::{Errno, KResult};
use crate::fs::lookup::{MAY_EXEC, may_access, resolve_at};
use crate::fs::path::Path;
use crate::mm::uaccess::access_ok;
use crate::syscall::args::*;
use crate::syscall::{Sys, SyscallDef};
use crate::syscalls;
use crate::task::Task;

pub const SYSCALLS: &[SyscallDef] = syscalls![
    __NR_getdents64 => sys_getdents64,
    __NR_getdents => sys_getdents,
    __NR_getcwd => sys_getcwd,
    __NR_chdir => sys_chdir,
    __NR_fchdir => sys_fchdir,
    __NR_chroot => sys_chroot,
];

/// Fills a getdents buffer; `record` lays out one entry (or None if it
/// does not fit). As Linux's iterate_dir and filldir: ENOTDIR before the
/// buffer is looked at, EINVAL when not even one entry fits (a count of
/// 2^31 or more is a negative int there: nothing fits), EFAULT when the
/// entries cannot be written.
fn getdents_common(sys: &Sys, record: &dyn Fn(&mut Vec<u8>, &crate::fs::inode::DirEntry<'_>, usize) -> bool) -> KResult<u64> {
    let (fd, buf, count) = (sys.arg_i32(0), sys.arg(1), sys.arg_u32(2));
    let count = if count > i32::MAX as u32 { 0 } else { count as usize };
    let file = io_file(sys.task, fd)?;
    let mut pos = file.pos.lock();
    let mut out = Vec::new();
    let mut new_pos = *pos;
    let mut too_small = false;
    file.ops.readdir(&file, &mut new_pos, &mut |e| {
        let fits = record(&mut out, &e, count);
        if !fits && out.is_empty() {
            too_small = true;
        }
        fits
    })?;
    // Every directory read is an IN_ACCESS (Linux's iterate_dir).
    crate::fs::notify::access(&file);
    if too_small {
        return Err(Errno::EINVAL);
    }
    if !out.is_empty() {
        access_ok(buf, out.len())?;
        sys.mm().write_bytes(buf, &out)?;
    }
    *pos = new_pos;
    Ok(out.len() as u64)
}

fn sys_getdents64(sys: &mut Sys) -> KResult<u64> {
    getdents_common(sys, &|out, e, count| {
        let reclen = (19 + e.name.len() + 1 + 7) & !7;
        if out.len() + reclen > count {
            return false;
        }
        let start = out.len();
        out.extend_from_slice(&e.ino.to_ne_bytes());
        out.extend_from_slice(&(e.next_offset as i64).to_ne_bytes());
        out.extend_from_slice(&(reclen as u16).to_ne_bytes());
        out.push(e.dtype);
        out.extend_from_slice(e.name);
        out.resize(start + reclen, 0);
        true
    })
}

/// The old getdents: d_type sits in the last byte of the record.
fn sys_getdents(sys: &mut Sys) -> KResult<u64> {
    getdents_common(sys, &|out, e, count| {
        let reclen = (18 + e.name.len() + 2 + 7) & !7;
        if out.len() + reclen > count {
            return false;
        }
        let start = out.len();
        out.extend_from_slice(&e.ino.to_ne_bytes());
        out.extend_from_slice(&(e.next_offset as i64).to_ne_bytes());
        out.extend_from_slice(&(reclen as u16).to_ne_bytes());
        out.extend_from_slice(e.name);
        out.resize(start + reclen, 0);
        out[start + reclen - 1] = e.dtype;
        true
    })
}

fn sys_getcwd(sys: &mut Sys) -> KResult<u64> {
    let (buf, size) = (sys.arg(0), sys.arg(1) as usize);
    let (cwd, root) = {
        let fs = sys.task.fs();
        (fs.cwd.clone(), fs.root.clone())
    };
    // A removed working directory has no name (Linux: ENOENT).
    if cwd.dentry.is_unlinked() || cwd.metadata()?.nlink == 0 {
        return Err(Errno::ENOENT);
    }
    let mut text = cwd.to_bytes(&root);
    text.push(0);
    if text.len() > size {
        return Err(Errno::ERANGE);
    }
    sys.mm().write_bytes(buf, &text)?;
    Ok(text.len() as u64)
}

fn enter_dir(task: &Task, p: &Path) -> KResult<()> {
    let md = p.metadata()?;
    if !md.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    may_access(&task.creds(), &**p.inode(), &md, MAY_EXEC)
}

fn sys_chdir(sys: &mut Sys) -> KResult<u64> {
    let path = sys.read_path(sys.arg(0))?;
    let p = resolve_at(&**sys.task, AT_FDCWD, &path, true, false)?;
    enter_dir(sys.task, &p)?;
    sys.task.fs().cwd = p;
    Ok(0)
}

fn sys_fchdir(sys: &mut Sys) -> KResult<u64> {
    let file = file_of(sys.task, sys.arg_i32(0))?;
    let p = file.path.clone().ok_or(Errno::ENOTDIR)?;
    enter_dir(sys.task, &p)?;
    sys.task.fs().cwd = p;
    Ok(0)
}

fn sys_chroot(sys: &mut Sys) -> KResult<u64> {
    let path = sys.read_path(sys.arg(0))?;
    let p = resolve_at(&**sys.task, AT_FDCWD, &path, true, false)?;
    enter_dir(sys.task, &p)?;
    if !sys.task.creds().is_root() {
        return Err(Errno::EPERM);
    }
    sys.task.fs().root = p;
    Ok(0)
}
