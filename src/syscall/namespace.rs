//! Names in the tree: mkdir, mknod, unlink, rmdir, rename, link, symlink,
//! readlink. The checks and the work are in fs::namei.

use crate::abi::fcntl::{AT_EMPTY_PATH, AT_FDCWD, AT_REMOVEDIR, AT_SYMLINK_FOLLOW};
use crate::abi::stat::{S_IFLNK, S_IFMT};
use crate::abi::{Errno, KResult};
use crate::fs::make_dev;
use crate::fs::namei::{self};
use crate::syscall::args::*;
use crate::syscall::{Sys, SyscallDef};
use crate::syscalls;

pub const SYSCALLS: &[SyscallDef] = syscalls![
    __NR_mkdir => sys_mkdir,
    __NR_mkdirat => sys_mkdirat,
    __NR_mknod => sys_mknod,
    __NR_mknodat => sys_mknodat,
    __NR_unlink => sys_unlink,
    __NR_unlinkat => sys_unlinkat,
    __NR_rmdir => sys_rmdir,
    __NR_rename => sys_rename,
    __NR_renameat => sys_renameat,
    __NR_renameat2 => sys_renameat2,
    __NR_link => sys_link,
    __NR_linkat => sys_linkat,
    __NR_symlink => sys_symlink,
    __NR_symlinkat => sys_symlinkat,
    __NR_readlink => sys_readlink,
    __NR_readlinkat => sys_readlinkat,
];

fn sys_mkdir(sys: &mut Sys) -> KResult<u64> {
    let path = sys.read_path(sys.arg(0))?;
    namei::mkdir(&**sys.task, AT_FDCWD, &path, sys.arg_u32(1)).map(|_| 0)
}

fn sys_mkdirat(sys: &mut Sys) -> KResult<u64> {
    let path = sys.read_path(sys.arg(1))?;
    namei::mkdir(&**sys.task, sys.arg_i32(0), &path, sys.arg_u32(2)).map(|_| 0)
}

/// Linux's new_decode_dev for the 32-bit dev_t of mknod.
fn decode_dev(dev: u32) -> u64 {
    let major = (dev & 0xfff00) >> 8;
    let minor = (dev & 0xff) | ((dev >> 12) & 0xfff00);
    make_dev(major, minor)
}

fn sys_mknod(sys: &mut Sys) -> KResult<u64> {
    let path = sys.read_path(sys.arg(0))?;
    namei::mknod(&**sys.task, AT_FDCWD, &path, sys.arg_u32(1), decode_dev(sys.arg_u32(2))).map(|_| 0)
}

fn sys_mknodat(sys: &mut Sys) -> KResult<u64> {
    let path = sys.read_path(sys.arg(1))?;
    namei::mknod(&**sys.task, sys.arg_i32(0), &path, sys.arg_u32(2), decode_dev(sys.arg_u32(3))).map(|_| 0)
}

fn sys_unlink(sys: &mut Sys) -> KResult<u64> {
    let path = sys.read_path(sys.arg(0))?;
    namei::unlink(&**sys.task, AT_FDCWD, &path).map(|_| 0)
}

fn sys_unlinkat(sys: &mut Sys) -> KResult<u64> {
    let flags = sys.arg_u32(2);
    if flags & !AT_REMOVEDIR != 0 {
        return Err(Errno::EINVAL);
    }
    let path = sys.read_path(sys.arg(1))?;
    if flags & AT_REMOVEDIR != 0 {
        namei::rmdir(&**sys.task, sys.arg_i32(0), &path).map(|_| 0)
    } else {
        namei::unlink(&**sys.task, sys.arg_i32(0), &path).map(|_| 0)
    }
}

fn sys_rmdir(sys: &mut Sys) -> KResult<u64> {
    let path = sys.read_path(sys.arg(0))?;
    namei::rmdir(&**sys.task, AT_FDCWD, &path).map(|_| 0)
}

/// The flags are checked before the names are read (do_renameat2: an
/// empty or unreadable name shows only when it is looked up).
fn do_rename(sys: &Sys, olddirfd: i32, old: u64, newdirfd: i32, new: u64, flags: u32) -> KResult<u64> {
    use crate::abi::fcntl::{RENAME_EXCHANGE, RENAME_NOREPLACE, RENAME_WHITEOUT};
    if flags & !(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT) != 0 || flags & RENAME_EXCHANGE != 0 && flags & (RENAME_NOREPLACE | RENAME_WHITEOUT) != 0
    {
        return Err(Errno::EINVAL);
    }
    let old = sys.read_path(old)?;
    let new = sys.read_path(new)?;
    namei::rename(&**sys.task, olddirfd, &old, newdirfd, &new, flags).map(|_| 0)
}

fn sys_rename(sys: &mut Sys) -> KResult<u64> {
    do_rename(sys, AT_FDCWD, sys.arg(0), AT_FDCWD, sys.arg(1), 0)
}

fn sys_renameat(sys: &mut Sys) -> KResult<u64> {
    do_rename(sys, sys.arg_i32(0), sys.arg(1), sys.arg_i32(2), sys.arg(3), 0)
}

fn sys_renameat2(sys: &mut Sys) -> KResult<u64> {
    do_rename(sys, sys.arg_i32(0), sys.arg(1), sys.arg_i32(2), sys.arg(3), sys.arg_u32(4))
}

fn do_link(sys: &Sys, olddirfd: i32, old: u64, newdirfd: i32, new: u64, flags: u32) -> KResult<u64> {
    if flags & !(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let old = read_path_flags(sys, old, flags)?;
    let new = sys.read_path(new)?;
    // Linking an fd by AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH.
    if old.is_empty() && !sys.task.creds().is_root() {
        return Err(Errno::ENOENT);
    }
    let src = resolve_or_fd(&**sys.task, olddirfd, &old, flags & AT_SYMLINK_FOLLOW != 0, flags & AT_EMPTY_PATH != 0)?;
    namei::link(&**sys.task, &src, newdirfd, &new).map(|_| 0)
}

fn sys_link(sys: &mut Sys) -> KResult<u64> {
    do_link(sys, AT_FDCWD, sys.arg(0), AT_FDCWD, sys.arg(1), 0)
}

fn sys_linkat(sys: &mut Sys) -> KResult<u64> {
    do_link(sys, sys.arg_i32(0), sys.arg(1), sys.arg_i32(2), sys.arg(3), sys.arg_u32(4))
}

fn sys_symlink(sys: &mut Sys) -> KResult<u64> {
    let target = sys.read_path(sys.arg(0))?;
    let path = sys.read_path(sys.arg(1))?;
    namei::symlink(&**sys.task, &target, AT_FDCWD, &path).map(|_| 0)
}

fn sys_symlinkat(sys: &mut Sys) -> KResult<u64> {
    let target = sys.read_path(sys.arg(0))?;
    let path = sys.read_path(sys.arg(2))?;
    namei::symlink(&**sys.task, &target, sys.arg_i32(1), &path).map(|_| 0)
}

fn do_readlink(sys: &Sys, dirfd: i32, path: u64, buf: u64, size: i32) -> KResult<u64> {
    let path = sys.read_path_allow_empty(path)?;
    if size <= 0 {
        return Err(Errno::EINVAL);
    }
    if path.is_empty() && dirfd == AT_FDCWD {
        return Err(Errno::ENOENT);
    }
    let p = resolve_or_fd(&**sys.task, dirfd, &path, false, true)?;
    if p.metadata()?.mode & S_IFMT != S_IFLNK {
        return Err(Errno::EINVAL);
    }
    let target = p.inode().readlink()?;
    let n = target.len().min(size as usize);
    sys.mm().write_bytes(buf, &target[..n])?;
    Ok(n as u64)
}

fn sys_readlink(sys: &mut Sys) -> KResult<u64> {
    do_readlink(sys, AT_FDCWD, sys.arg(0), sys.arg(1), sys.arg_i32(2))
}

fn sys_readlinkat(sys: &mut Sys) -> KResult<u64> {
    do_readlink(sys, sys.arg_i32(0), sys.arg(1), sys.arg(2), sys.arg_i32(3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mknod_dev_decoding_matches_linux() {
        // makedev(1, 3) in glibc's 32-bit-compatible encoding.
        assert_eq!(decode_dev(0x0103), make_dev(1, 3));
        assert_eq!(decode_dev((0x12 << 8) | 0x34 | (0x56 << 12 << 8)), make_dev(0x12, 0x34 | (0x56 << 8)));
    }
}
