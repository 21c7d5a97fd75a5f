//! Memory locking and residency: mlock, mlock2, munlock, mlockall,
//! munlockall, mincore, and MAP_LOCKED for mmap, with Linux's checks
//! (mm/mlock.c, mm/mincore.c). Locking is accounted against
//! RLIMIT_MEMLOCK (CAP_IPC_LOCK lifts it) and shown as VmLck; it has no
//! host effect, as guest memory is never swapped.

use crate::abi::capability::CAP_IPC_LOCK;
use crate::abi::mman::{MAP_LOCKED, MCL_CURRENT, MCL_FUTURE, MCL_ONFAULT};
use crate::abi::resource::RLIMIT_MEMLOCK;
use crate::abi::{Errno, KResult, PAGE_SIZE};
use crate::mm::accounting::page_range;
use crate::syscall::{Sys, SyscallDef};
use crate::syscalls;

pub const SYSCALLS: &[SyscallDef] = syscalls![
    __NR_mlock => sys_mlock,
    __NR_mlock2 => sys_mlock2,
    __NR_munlock => sys_munlock,
    __NR_mlockall => sys_mlockall,
    __NR_munlockall => sys_munlockall,
    __NR_mincore => sys_mincore,
];

/// MLOCK_ONFAULT (include/uapi/asm-generic/mman-common.h).
const MLOCK_ONFAULT: u32 = 1;

/// Linux's can_do_mlock: a non-zero RLIMIT_MEMLOCK or CAP_IPC_LOCK.
fn can_do_mlock(sys: &Sys) -> bool {
    sys.task.rlimit(RLIMIT_MEMLOCK).cur != 0 || sys.task.creds().capable(CAP_IPC_LOCK)
}

/// The pages an (addr, len) request covers, rounded as Linux's
/// PAGE_ALIGN does: wrapping, so a huge length can end below the start
/// (EINVAL from set_locked) or come to nothing.
fn lock_range(addr: u64, len: u64) -> (u64, u64, u64) {
    let start = addr & !(PAGE_SIZE - 1);
    let len = len.wrapping_add(addr - start).wrapping_add(PAGE_SIZE - 1) & !(PAGE_SIZE - 1);
    (start, len, start.wrapping_add(len))
}

/// Linux's do_mlock: the length rounds up to pages (wrapping, as
/// PAGE_ALIGN does), the limit is checked before the range, and pages
/// that cannot be faulted in (PROT_NONE) are ENOMEM once locked.
fn do_mlock(sys: &Sys, addr: u64, len: u64) -> KResult<u64> {
    if !can_do_mlock(sys) {
        return Err(Errno::EPERM);
    }
    let (start, len, end) = lock_range(addr, len);
    let limit = sys.task.rlimit(RLIMIT_MEMLOCK).cur / PAGE_SIZE;
    let privileged = sys.task.creds().capable(CAP_IPC_LOCK);
    let mm = sys.mm();
    let mut st = mm.lock();
    // Pages already locked in the range do not count twice.
    let already = if end > start { st.locked.bytes_in(start, end) } else { 0 };
    let locked = (len / PAGE_SIZE).saturating_add((st.locked.bytes() - already) / PAGE_SIZE);
    if locked > limit && !privileged {
        return Err(Errno::ENOMEM);
    }
    st.set_locked(start, end, true)?;
    if st.has_inaccessible(start, end) {
        return Err(Errno::ENOMEM);
    }
    Ok(0)
}

fn sys_mlock(sys: &mut Sys) -> KResult<u64> {
    do_mlock(sys, sys.arg(0), sys.arg(1))
}

fn sys_mlock2(sys: &mut Sys) -> KResult<u64> {
    if sys.arg_u32(2) & !MLOCK_ONFAULT != 0 {
        return Err(Errno::EINVAL);
    }
    do_mlock(sys, sys.arg(0), sys.arg(1))
}

fn sys_munlock(sys: &mut Sys) -> KResult<u64> {
    let (start, _, end) = lock_range(sys.arg(0), sys.arg(1));
    sys.mm().lock().set_locked(start, end, false)?;
    Ok(0)
}

fn sys_mlockall(sys: &mut Sys) -> KResult<u64> {
    let flags = sys.arg_u32(0);
    if flags == 0 || flags & !(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) != 0 || flags == MCL_ONFAULT {
        return Err(Errno::EINVAL);
    }
    if !can_do_mlock(sys) {
        return Err(Errno::EPERM);
    }
    let limit = sys.task.rlimit(RLIMIT_MEMLOCK).cur;
    let privileged = sys.task.creds().capable(CAP_IPC_LOCK);
    let mm = sys.mm();
    let mut st = mm.lock();
    if flags & MCL_CURRENT != 0 && !privileged {
        let total: u64 = st.vmas.values().map(|v| v.len()).sum();
        if total > limit {
            return Err(Errno::ENOMEM);
        }
    }
    st.locked.future = flags & MCL_FUTURE != 0;
    if flags & MCL_CURRENT != 0 {
        st.lock_all_mappings();
    }
    Ok(0)
}

fn sys_munlockall(sys: &mut Sys) -> KResult<u64> {
    let mm = sys.mm();
    let mut st = mm.lock();
    st.locked.future = false;
    st.locked.clear();
    Ok(0)
}

/// MAP_LOCKED, or any mapping after mlockall(MCL_FUTURE), must fit in
/// RLIMIT_MEMLOCK: EPERM without the right to lock at all, EAGAIN past
/// the limit (Linux's do_mmap and mlock_future_ok).
pub fn may_map_locked(sys: &Sys, flags: u32, len: u64) -> KResult<()> {
    let future = sys.mm().lock().locked.future;
    if flags & MAP_LOCKED == 0 && !future {
        return Ok(());
    }
    if flags & MAP_LOCKED != 0 && !can_do_mlock(sys) {
        return Err(Errno::EPERM);
    }
    if sys.task.creds().capable(CAP_IPC_LOCK) {
        return Ok(());
    }
    let locked = sys.mm().lock().locked_bytes() / PAGE_SIZE + crate::abi::page_align_up(len).unwrap_or(u64::MAX) / PAGE_SIZE;
    if locked > sys.task.rlimit(RLIMIT_MEMLOCK).cur / PAGE_SIZE {
        return Err(Errno::EAGAIN);
    }
    Ok(())
}

/// mremap of locked pages (their first page locked, as Linux's VM_LOCKED
/// is per mapping): growth must fit RLIMIT_MEMLOCK (EAGAIN, Linux's
/// vma_to_resize). Returns whether the result is to be locked again.
pub fn may_remap_locked(sys: &Sys, old: u64, old_len: u64, new_len: u64) -> KResult<bool> {
    let start = old & !(PAGE_SIZE - 1);
    let (already, locked) = {
        let mm = sys.mm();
        let st = mm.lock();
        (st.locked_bytes(), st.locked.bytes_in(start, start.saturating_add(PAGE_SIZE)) > 0)
    };
    if !locked {
        return Ok(false);
    }
    let grow = crate::abi::page_align_up(new_len).unwrap_or(u64::MAX).saturating_sub(crate::abi::page_align_up(old_len).unwrap_or(0));
    if grow > 0 && !sys.task.creds().capable(CAP_IPC_LOCK) && already.saturating_add(grow) > sys.task.rlimit(RLIMIT_MEMLOCK).cur {
        return Err(Errno::EAGAIN);
    }
    Ok(true)
}

/// A MAP_LOCKED mapping is locked once made.
pub fn mapped(sys: &Sys, flags: u32, addr: u64, len: u64) {
    if flags & MAP_LOCKED != 0 {
        if let Some((start, end)) = page_range(addr, len) {
            let _ = sys.mm().lock().set_locked(start, end, true);
        }
    }
}

/// Linux's mincore: one byte per page, 1 where the page is resident.
/// The start must be page aligned (EINVAL), the range a user range
/// (ENOMEM), the vector writable (EFAULT), and every page mapped (ENOMEM).
fn sys_mincore(sys: &mut Sys) -> KResult<u64> {
    let (start, len, vec) = (sys.arg(0), sys.arg(1), sys.arg(2));
    if start % PAGE_SIZE != 0 {
        return Err(Errno::EINVAL);
    }
    crate::mm::uaccess::access_ok(start, len as usize).map_err(|_| Errno::ENOMEM)?;
    let pages = len.div_ceil(PAGE_SIZE);
    crate::mm::uaccess::access_ok(vec, pages as usize)?;
    let residency = {
        let mm = sys.mm();
        let st = mm.lock();
        let mut out = Vec::with_capacity(pages as usize);
        let mut addr = start;
        while out.len() < pages as usize {
            let vma = st.find_vma(addr).filter(|v| v.start <= addr).ok_or(Errno::ENOMEM)?;
            // A host file's shared mapping is the host's page cache.
            if let crate::mm::vma::Backing::HostFile { host, offset, .. } = &vma.backing {
                let count = ((vma.end - addr) / PAGE_SIZE).min(pages - out.len() as u64) as usize;
                out.extend(host.0.resident_pages(offset + (addr - vma.start), count).map_err(|_| Errno::ENOMEM)?);
                addr += count as u64 * PAGE_SIZE;
                continue;
            }
            while addr < vma.end && out.len() < pages as usize {
                out.push(st.pages.contains_key(&(addr / PAGE_SIZE)) as u8);
                addr += PAGE_SIZE;
            }
        }
        out
    };
    sys.mm().write_bytes(vec, &residency)?;
    Ok(0)
}
