//! process_vm_readv and process_vm_writev: copying between the caller's
//! memory and another process's, with Linux's checks in Linux's order
//! (flags, the local iovecs, the remote iovecs, the target, then
//! ptrace_may_access in attach mode, whose EACCES is EPERM here).

use crate::abi::uio::IOV_MAX;
use crate::abi::{Errno, Iovec, KResult, Pod};
use crate::mm::uaccess::UserBuffers;
use crate::syscall::{Sys, SyscallDef};
use crate::syscalls;
use crate::task::access::{self, ptrace_may_access};

pub const SYSCALLS: &[SyscallDef] = syscalls![
    __NR_process_vm_readv => sys_process_vm_readv,
    __NR_process_vm_writev => sys_process_vm_writev,
];

/// The remote side's iovecs (Linux's iovec_from_user: no address check,
/// they are in the other process).
fn remote_iovecs(sys: &Sys, addr: u64, count: u64) -> KResult<Vec<(u64, u64)>> {
    if count > IOV_MAX as u64 {
        return Err(Errno::EINVAL);
    }
    let raw = sys.mm().read_bytes(addr, count as usize * size_of::<Iovec>())?;
    let mut out = Vec::with_capacity(count as usize);
    for chunk in raw.chunks_exact(size_of::<Iovec>()) {
        let mut iov = Iovec::default();
        iov.as_bytes_mut().copy_from_slice(chunk);
        if iov.len > isize::MAX as u64 {
            return Err(Errno::EINVAL);
        }
        out.push((iov.base, iov.len));
    }
    Ok(out)
}

fn process_vm_rw(sys: &Sys, write: bool) -> KResult<u64> {
    let (pid, lvec, liovcnt, rvec, riovcnt, flags) = (sys.arg_i32(0), sys.arg(1), sys.arg(2), sys.arg(3), sys.arg(4), sys.arg(5));
    if flags != 0 {
        return Err(Errno::EINVAL);
    }
    if liovcnt > IOV_MAX as u64 {
        return Err(Errno::EINVAL);
    }
    let local = UserBuffers::iovec(sys.mm(), lvec, liovcnt as i32)?;
    if local.is_empty() {
        return Ok(0);
    }
    let remote = remote_iovecs(sys, rvec, riovcnt)?;
    if remote.iter().all(|&(_, len)| len == 0) {
        return Ok(0);
    }
    let target = sys.task.system.task(pid).ok_or(Errno::ESRCH)?;
    let mm = target.mm();
    if mm.id != sys.mm().id && !ptrace_may_access(sys.task, &target, access::Creds::Real) {
        return Err(Errno::EPERM);
    }
    access::process_vm_copy(&local, &remote, &mm, write)
}

fn sys_process_vm_readv(sys: &mut Sys) -> KResult<u64> {
    process_vm_rw(sys, false)
}

fn sys_process_vm_writev(sys: &mut Sys) -> KResult<u64> {
    process_vm_rw(sys, true)
}
