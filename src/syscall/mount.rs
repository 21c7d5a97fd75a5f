//! mount and umount2: the strings and flags decoded as Linux's
//! fs/namespace.c copies them; the work is in fs::mount.

use crate::abi::{Errno, KResult, PAGE_SIZE};
use crate::fs::mount;
use crate::syscall::{Sys, SyscallDef};
use crate::syscalls;

pub const SYSCALLS: &[SyscallDef] = syscalls![
    __NR_mount => sys_mount,
    __NR_umount2 => sys_umount2,
];

/// A string argument that may be NULL (copy_mount_string: EINVAL past a
/// page, as strndup_user).
fn optional_string(sys: &Sys, addr: u64) -> KResult<Option<Vec<u8>>> {
    if addr == 0 {
        return Ok(None);
    }
    match sys.mm().read_cstring(addr, PAGE_SIZE as usize - 1) {
        Ok(s) => Ok(Some(s)),
        Err(Errno::ENAMETOOLONG) => Err(Errno::EINVAL),
        Err(e) => Err(e),
    }
}

/// The options page (copy_mount_options): up to a page, cut at its NUL.
fn options_page(sys: &Sys, addr: u64) -> KResult<Option<Vec<u8>>> {
    if addr == 0 {
        return Ok(None);
    }
    match sys.mm().read_cstring(addr, PAGE_SIZE as usize - 1) {
        Ok(s) => Ok(Some(s)),
        Err(Errno::ENAMETOOLONG) => sys.mm().read_bytes(addr, PAGE_SIZE as usize - 1).map(Some),
        Err(e) => Err(e),
    }
}

fn sys_mount(sys: &mut Sys) -> KResult<u64> {
    let (source, target, fstype, flags, data) = (sys.arg(0), sys.arg(1), sys.arg(2), sys.arg(3), sys.arg(4));
    let fstype = optional_string(sys, fstype)?;
    let source = optional_string(sys, source)?;
    let data = options_page(sys, data)?;
    let target = sys.read_path(target)?;
    mount::mount(&**sys.task, source.as_deref(), &target, fstype.as_deref(), flags, data.as_deref()).map(|_| 0)
}

fn sys_umount2(sys: &mut Sys) -> KResult<u64> {
    let flags = sys.arg_u32(1);
    let target = sys.read_path(sys.arg(0))?;
    mount::umount(&**sys.task, &target, flags).map(|_| 0)
}
