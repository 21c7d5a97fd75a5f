//! Extended attributes: the get/set/list/remove families by path, by path
//! without following a final symlink, and by fd. Names and sizes are
//! checked here as Linux does; namespaces and permissions in `fs::xattr`.

use crate::abi::fcntl::AT_FDCWD;
use crate::abi::limits::{XATTR_NAME_MAX, XATTR_SIZE_MAX};
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

/// Linux's XATTR_LIST_MAX: the most a listxattr result holds.
const XATTR_LIST_MAX: usize = 65536;

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

/// Copies a value or name list out: size 0 asks for the length; a buffer
/// too small is ERANGE.
fn copy_out(sys: &Sys, data: &[u8], addr: u64, size: u64) -> KResult<u64> {
    if size == 0 {
        return Ok(data.len() as u64);
    }
    if (data.len() as u64) > size {
        return Err(Errno::ERANGE);
    }
    sys.mm().write_bytes(addr, data)?;
    Ok(data.len() as u64)
}

fn getxattr_common(sys: &Sys, p: &Path, name_addr: u64, value: u64, size: u64) -> KResult<u64> {
    let name = xattr_name(sys, name_addr)?;
    let v = xattr::get(&**sys.task, p, &name)?;
    // Linux clamps the buffer to XATTR_SIZE_MAX (a value is never larger).
    copy_out(sys, &v, value, size.min(XATTR_SIZE_MAX))
}

fn sys_getxattr(sys: &mut Sys) -> KResult<u64> {
    let p = xattr_target(sys, sys.arg(0), true)?;
    getxattr_common(sys, &p, sys.arg(1), sys.arg(2), sys.arg(3))
}

fn sys_lgetxattr(sys: &mut Sys) -> KResult<u64> {
    let p = xattr_target(sys, sys.arg(0), false)?;
    getxattr_common(sys, &p, sys.arg(1), sys.arg(2), sys.arg(3))
}

fn sys_fgetxattr(sys: &mut Sys) -> KResult<u64> {
    let file = io_file(sys.task, sys.arg_i32(0))?;
    getxattr_common(sys, &fd_path(&file), sys.arg(1), sys.arg(2), sys.arg(3))
}

fn listxattr_common(sys: &Sys, p: &Path, list: u64, size: u64) -> KResult<u64> {
    let names = xattr::list(&**sys.task, p)?;
    if names.len() > XATTR_LIST_MAX {
        return Err(Errno::E2BIG);
    }
    copy_out(sys, &names, list, size.min(XATTR_LIST_MAX as u64))
}

fn sys_listxattr(sys: &mut Sys) -> KResult<u64> {
    let p = xattr_target(sys, sys.arg(0), true)?;
    listxattr_common(sys, &p, sys.arg(1), sys.arg(2))
}

fn sys_llistxattr(sys: &mut Sys) -> KResult<u64> {
    let p = xattr_target(sys, sys.arg(0), false)?;
    listxattr_common(sys, &p, sys.arg(1), sys.arg(2))
}

fn sys_flistxattr(sys: &mut Sys) -> KResult<u64> {
    let file = io_file(sys.task, sys.arg_i32(0))?;
    listxattr_common(sys, &fd_path(&file), sys.arg(1), sys.arg(2))
}

fn setxattr_common(sys: &Sys, p: &Path, name_addr: u64, value: u64, size: u64, flags: u32) -> KResult<u64> {
    if flags & !3 != 0 {
        return Err(Errno::EINVAL);
    }
    let name = xattr_name(sys, name_addr)?;
    if size > XATTR_SIZE_MAX {
        return Err(Errno::E2BIG);
    }
    let data = if size == 0 { Vec::new() } else { sys.mm().read_bytes(value, size as usize)? };
    xattr::set(&**sys.task, p, &name, &data, flags).map(|_| 0)
}

fn sys_setxattr(sys: &mut Sys) -> KResult<u64> {
    let p = xattr_target(sys, sys.arg(0), true)?;
    setxattr_common(sys, &p, sys.arg(1), sys.arg(2), sys.arg(3), sys.arg_u32(4))
}

fn sys_lsetxattr(sys: &mut Sys) -> KResult<u64> {
    let p = xattr_target(sys, sys.arg(0), false)?;
    setxattr_common(sys, &p, sys.arg(1), sys.arg(2), sys.arg(3), sys.arg_u32(4))
}

fn sys_fsetxattr(sys: &mut Sys) -> KResult<u64> {
    let file = io_file(sys.task, sys.arg_i32(0))?;
    setxattr_common(sys, &fd_path(&file), sys.arg(1), sys.arg(2), sys.arg(3), sys.arg_u32(4))
}

fn removexattr_common(sys: &Sys, p: &Path, name_addr: u64) -> KResult<u64> {
    let name = xattr_name(sys, name_addr)?;
    xattr::remove(&**sys.task, p, &name).map(|_| 0)
}

fn sys_removexattr(sys: &mut Sys) -> KResult<u64> {
    let p = xattr_target(sys, sys.arg(0), true)?;
    removexattr_common(sys, &p, sys.arg(1))
}

fn sys_lremovexattr(sys: &mut Sys) -> KResult<u64> {
    let p = xattr_target(sys, sys.arg(0), false)?;
    removexattr_common(sys, &p, sys.arg(1))
}

fn sys_fremovexattr(sys: &mut Sys) -> KResult<u64> {
    let file = io_file(sys.task, sys.arg_i32(0))?;
    removexattr_common(sys, &fd_path(&file), sys.arg(1))
}
