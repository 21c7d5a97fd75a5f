//! Extended attributes: names validated as Linux does; none are stored yet.

use crate::abi::fcntl::AT_FDCWD;
use crate::abi::limits::{XATTR_NAME_MAX, XATTR_SIZE_MAX};
use crate::abi::{Errno, KResult};
use crate::fs::lookup::resolve_at;
use crate::fs::path::Path;
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

fn xattr_name(sys: &Sys, addr: u64) -> KResult<Vec<u8>> {
    let name = sys.mm().read_cstring(addr, XATTR_NAME_MAX).map_err(|e| if e == Errno::ENAMETOOLONG { Errno::ERANGE } else { e })?;
    if name.is_empty() {
        return Err(Errno::ERANGE);
    }
    Ok(name)
}

fn xattr_known_namespace(name: &[u8]) -> bool {
    [&b"user."[..], b"trusted.", b"security.", b"system."].iter().any(|p| name.starts_with(p))
}

fn xattr_target(sys: &Sys, path_addr: u64, follow: bool) -> KResult<Path> {
    let path = sys.read_path(path_addr)?;
    resolve_at(&**sys.task, AT_FDCWD, &path, follow, false)
}

fn getxattr_common(sys: &Sys, name_addr: u64) -> KResult<u64> {
    let name = xattr_name(sys, name_addr)?;
    if !xattr_known_namespace(&name) {
        return Err(Errno::EOPNOTSUPP);
    }
    Err(Errno::ENODATA)
}

fn sys_getxattr(sys: &mut Sys) -> KResult<u64> {
    xattr_target(sys, sys.arg(0), true)?;
    getxattr_common(sys, sys.arg(1))
}

fn sys_lgetxattr(sys: &mut Sys) -> KResult<u64> {
    xattr_target(sys, sys.arg(0), false)?;
    getxattr_common(sys, sys.arg(1))
}

fn sys_fgetxattr(sys: &mut Sys) -> KResult<u64> {
    io_file(sys.task, sys.arg_i32(0))?;
    getxattr_common(sys, sys.arg(1))
}

fn sys_listxattr(sys: &mut Sys) -> KResult<u64> {
    xattr_target(sys, sys.arg(0), true)?;
    Ok(0)
}

fn sys_llistxattr(sys: &mut Sys) -> KResult<u64> {
    xattr_target(sys, sys.arg(0), false)?;
    Ok(0)
}

fn sys_flistxattr(sys: &mut Sys) -> KResult<u64> {
    io_file(sys.task, sys.arg_i32(0))?;
    Ok(0)
}

fn setxattr_common(sys: &Sys, p: &Path, name_addr: u64, size: u64, flags: u32) -> KResult<u64> {
    if flags & !3 != 0 {
        return Err(Errno::EINVAL);
    }
    let name = xattr_name(sys, name_addr)?;
    if size > XATTR_SIZE_MAX {
        return Err(Errno::E2BIG);
    }
    if p.mount.read_only() {
        return Err(Errno::EROFS);
    }
    let _ = name;
    Err(Errno::EOPNOTSUPP)
}

fn sys_setxattr(sys: &mut Sys) -> KResult<u64> {
    let p = xattr_target(sys, sys.arg(0), true)?;
    setxattr_common(sys, &p, sys.arg(1), sys.arg(3), sys.arg_u32(4))
}

fn sys_lsetxattr(sys: &mut Sys) -> KResult<u64> {
    let p = xattr_target(sys, sys.arg(0), false)?;
    setxattr_common(sys, &p, sys.arg(1), sys.arg(3), sys.arg_u32(4))
}

fn sys_fsetxattr(sys: &mut Sys) -> KResult<u64> {
    let file = io_file(sys.task, sys.arg_i32(0))?;
    setxattr_common(sys, &fd_path(&file), sys.arg(1), sys.arg(3), sys.arg_u32(4))
}

fn removexattr_common(sys: &Sys, p: &Path, name_addr: u64) -> KResult<u64> {
    let name = xattr_name(sys, name_addr)?;
    if p.mount.read_only() {
        return Err(Errno::EROFS);
    }
    if !xattr_known_namespace(&name) {
        return Err(Errno::EOPNOTSUPP);
    }
    Err(Errno::ENODATA)
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
