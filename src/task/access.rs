//! Whether one task may inspect or change another (Linux's
//! ptrace_may_access, used by kcmp, process_vm_readv/writev and /proc),
//! and copying between two address spaces for process_vm_readv/writev.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::abi::capability::CAP_SYS_PTRACE;
use crate::abi::{KResult, PAGE_SIZE};
use crate::mm::Mm;
use crate::mm::uaccess::UserBuffers;
use crate::task::Task;

/// Which of the caller's ids count (PTRACE_MODE_FSCREDS or _REALCREDS).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Creds {
    Fs,
    Real,
}

/// Linux's __ptrace_may_access: a thread of the same process always; else
/// every real, effective and saved id of the target must be the caller's
/// (real or fs) id, or the caller holds CAP_SYS_PTRACE; a non-dumpable
/// target needs CAP_SYS_PTRACE; and the caller must hold every capability
/// the target may use (cap_ptrace_access_check).
pub fn ptrace_may_access(caller: &Task, target: &Task, mode: Creds) -> bool {
    if caller.tgid == target.tgid {
        return true;
    }
    let (me, them) = (caller.creds(), target.creds());
    let (uid, gid) = if mode == Creds::Fs { (me.fsuid, me.fsgid) } else { (me.uid, me.gid) };
    let ptrace_cap = me.capable(CAP_SYS_PTRACE);
    let same_ids = [them.uid, them.euid, them.suid].iter().all(|&u| u == uid) && [them.gid, them.egid, them.sgid].iter().all(|&g| g == gid);
    if !same_ids && !ptrace_cap {
        return false;
    }
    if !target.process.limits.dumpable.load(Ordering::Relaxed) && !ptrace_cap {
        return false;
    }
    let mine = if mode == Creds::Fs { me.caps.effective } else { me.caps.permitted };
    them.caps.permitted & !mine == 0 || ptrace_cap
}

/// process_vm_readv/writev between `local` (the caller's buffers) and
/// `remote` ((address, length) pieces of `target`'s address space), in
/// order until either side ends. A fault in the remote address space ends
/// the copy: the bytes copied so far are the answer, EFAULT if none.
pub fn process_vm_copy(local: &UserBuffers, remote: &[(u64, u64)], target: &Arc<Mm>, write: bool) -> KResult<u64> {
    let total = local.len();
    let mut done = 0usize;
    for &(base, len) in remote {
        let mut offset = 0u64;
        while offset < len && done < total {
            let addr = base.wrapping_add(offset);
            // One page of the remote side at a time, as get_user_pages_remote.
            let in_page = (PAGE_SIZE - addr % PAGE_SIZE) as usize;
            let n = in_page.min((len - offset) as usize).min(total - done);
            let step = if write {
                local.copy_in(done, n).and_then(|data| target.write_bytes(addr, &data))
            } else {
                target.read_bytes(addr, n).and_then(|data| local.copy_out(done, &data))
            };
            if let Err(e) = step {
                return if done > 0 { Ok(done as u64) } else { Err(e) };
            }
            done += n;
            offset += n as u64;
        }
        if done == total {
            break;
        }
    }
    Ok(done as u64)
}
