//! Extended attributes: names and buffers decoded in Linux's order (the
//! name before the path, the fd before the name), sizes checked as
//! fs/xattr.c does; the permission rules and the storage are the VFS's
//! (`fs::xattr`) and the filesystem's.

use crate::abi::fcntl::AT_FDCWD;
use crate::abi::limits::{XATTR_LIST_MAX, XATTR_NAME_MAX, XATTR_SIZE_MAX};
use crate::abi::xattr::{XATTR_CREATE, XATTR_REPLACE};
use crate::abi::{Errno, KResult};
use crate::fs::lookup::resolve_at;
use crate::fs::path::Path;
use crate::fs::xattr;
use crate::syscall::args::*;
use crate::syscall::{Sys, SyscallDef};
use crate::syscalls;

pub const SYSCALLS: &[SyscallDef] = syscalls![
    __NR_getxattr => sys_getxattr,
    __NR_lgetxattr => sys_lgetxattr,
    __NR_fgetxattr => sys_fgetxattr,
    __NR_listxattr => sys_listxattr,
    __NR_llistxattr => sys_llistxattr,
    __NR_flistxattr => sys_flistxattr,
    __NR_setxattr => sys_setxattr,
    __NR_lsetxattr => sys_lsetxattr,
    __NR_fsetxattr => sys_fsetxattr,
    __NR_removexattr => sys_removexattr,
    __NR_lremovexattr => sys_lremovexattr,
    __NR_fremovexattr => sys_fremovexattr,
];

/// Linux's import_xattr_name: ERANGE for an empty or overlong name.
fn xattr_name(sys: &Sys, addr: u64) -> KResult<Vec<u8>> {
    let name = sys.mm().read_cstring(addr, XATTR_NAME_MAX).map_err(|e| if e == Errno::ENAMETOOLONG { Errno::ERANGE } else { e })?;
    if name.is_empty() {
        return Err(Errno::ERANGE);
    }
    Ok(name)
}

fn xattr_target(sys: &Sys, path_addr: u64, follow: bool) -> KResult<Path> {
    let path = sys.read_path(path_addr)?;
    resolve_at(&**sys.task, AT_FDCWD, &path, follow, false)
}

/// Copies a value or name list out: its size when `size` is 0, ERANGE
/// when it does not fit.
fn copy_out(sys: &Sys, data: &[u8], addr: u64, size: u64, max: u64) -> KResult<u64> {
    if size == 0 {
        if data.len() as u64 > max {
            return Err(Errno::E2BIG);
        }
        return Ok(data.len() as u64);
    }
    if data.len() as u64 > size.min(max) {
        return Err(if data.len() as u64 > max { Errno::E2BIG } else { Errno::ERANGE });
    }
    sys.mm().write_bytes(addr, data)?;
    Ok(data.len() as u64)
}

fn getxattr_path(sys: &mut Sys, follow: bool) -> KResult<u64> {
    let name = xattr_name(sys, sys.arg(1))?;
    let p = xattr_target(sys, sys.arg(0), follow)?;
    let value = xattr::get(&**sys.task, &p, &name)?;
    copy_out(sys, &value, sys.arg(2), sys.arg(3), XATTR_SIZE_MAX)
}

fn sys_getxattr(sys: &mut Sys) -> KResult<u64> {
    getxattr_path(sys, true)
}

fn sys_lgetxattr(sys: &mut Sys) -> KResult<u64> {
    getxattr_path(sys, false)
}

fn sys_fgetxattr(sys: &mut Sys) -> KResult<u64> {
    let file = io_file(sys.task, sys.arg_i32(0))?;
    let name = xattr_name(sys, sys.arg(1))?;
    let value = xattr::get(&**sys.task, &fd_path(&file), &name)?;
    copy_out(sys, &value, sys.arg(2), sys.arg(3), XATTR_SIZE_MAX)
}

fn listxattr_at(sys: &Sys, p: &Path) -> KResult<u64> {
    let names = xattr::list(&**sys.task, p)?;
    copy_out(sys, &names, sys.arg(1), sys.arg(2), XATTR_LIST_MAX)
}

fn sys_listxattr(sys: &mut Sys) -> KResult<u64> {
    let p = xattr_target(sys, sys.arg(0), true)?;
    listxattr_at(sys, &p)
}

fn sys_llistxattr(sys: &mut Sys) -> KResult<u64> {
    let p = xattr_target(sys, sys.arg(0), false)?;
    listxattr_at(sys, &p)
}

fn sys_flistxattr(sys: &mut Sys) -> KResult<u64> {
    let file = io_file(sys.task, sys.arg_i32(0))?;
    listxattr_at(sys, &fd_path(&file))
}

/// Linux's setxattr_copy: flags, then the name, then the value's size and
/// bytes. Returns (name, value, flags).
fn setxattr_args(sys: &Sys) -> KResult<(Vec<u8>, Vec<u8>, u32)> {
    let (size, flags) = (sys.arg(3), sys.arg_u32(4));
    if flags & !(XATTR_CREATE | XATTR_REPLACE) != 0 {
        return Err(Errno::EINVAL);
    }
    let name = xattr_name(sys, sys.arg(1))?;
    if size > XATTR_SIZE_MAX {
        return Err(Errno::E2BIG);
    }
    let value = if size == 0 { Vec::new() } else { sys.mm().read_bytes(sys.arg(2), size as usize)? };
    Ok((name, value, flags))
}

fn setxattr_path(sys: &mut Sys, follow: bool) -> KResult<u64> {
    let (name, value, flags) = setxattr_args(sys)?;
    let p = xattr_target(sys, sys.arg(0), follow)?;
    xattr::set(&**sys.task, &p, &name, &value, flags).map(|_| 0)
}

fn sys_setxattr(sys: &mut Sys) -> KResult<u64> {
    setxattr_path(sys, true)
}

fn sys_lsetxattr(sys: &mut Sys) -> KResult<u64> {
    setxattr_path(sys, false)
}

fn sys_fsetxattr(sys: &mut Sys) -> KResult<u64> {
    let file = io_file(sys.task, sys.arg_i32(0))?;
    let (name, value, flags) = setxattr_args(sys)?;
    xattr::set(&**sys.task, &fd_path(&file), &name, &value, flags).map(|_| 0)
}

fn removexattr_path(sys: &mut Sys, follow: bool) -> KResult<u64> {
    let name = xattr_name(sys, sys.arg(1))?;
    let p = xattr_target(sys, sys.arg(0), follow)?;
    xattr::remove(&**sys.task, &p, &name).map(|_| 0)
}

fn sys_removexattr(sys: &mut Sys) -> KResult<u64> {
    removexattr_path(sys, true)
}

fn sys_lremovexattr(sys: &mut Sys) -> KResult<u64> {
    removexattr_path(sys, false)
}

fn sys_fremovexattr(sys: &mut Sys) -> KResult<u64> {
    let file = io_file(sys.task, sys.arg_i32(0))?;
    let name = xattr_name(sys, sys.arg(1))?;
    xattr::remove(&**sys.task, &fd_path(&file), &name).map(|_| 0)
}
