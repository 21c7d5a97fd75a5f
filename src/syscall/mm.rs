//! Memory system calls: brk, mmap, munmap, mprotect, mremap, madvise,
//! msync, mlock family.

use crate::abi::fcntl::O_PATH;
use crate::abi::mman::{
    MAP_ANONYMOUS, MAP_DENYWRITE, MAP_EXECUTABLE, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_GROWSDOWN, MAP_HUGETLB, MAP_LOCKED, MAP_NONBLOCK, MAP_NORESERVE,
    MAP_POPULATE, MAP_PRIVATE, MAP_SHARED, MAP_SHARED_VALIDATE, MAP_STACK, MAP_SYNC, MAP_TYPE, MCL_CURRENT, MCL_FUTURE, MCL_ONFAULT, MS_ASYNC, MS_INVALIDATE,
    MS_SYNC, PROT_EXEC, PROT_GROWSDOWN, PROT_GROWSUP, PROT_READ, PROT_WRITE,
};
use crate::abi::stat::{S_IFCHR, S_IFMT, S_IFREG};
use crate::abi::{Errno, KResult, PAGE_SIZE};
use std::sync::Arc;

use crate::fs::inode::MappedInode;
use crate::mm::map::MapRequest;
use crate::mm::vma::*;
use crate::syscall::{Sys, SyscallDef};
use crate::syscalls;

pub const SYSCALLS: &[SyscallDef] = syscalls![
    __NR_brk => sys_brk,
    __NR_mmap => sys_mmap,
    __NR_munmap => sys_munmap,
    __NR_mprotect => sys_mprotect,
    __NR_mremap => sys_mremap,
    __NR_madvise => sys_madvise,
    __NR_msync => sys_msync,
    __NR_mlock => sys_mlock,
    __NR_munlock => sys_mlock,
    __NR_mlockall => sys_mlockall,
    __NR_munlockall => sys_munlockall,
];

fn sys_brk(sys: &mut Sys) -> KResult<u64> {
    Ok(sys.mm().lock().set_brk(sys.arg(0)))
}

/// Flags mmap accepts; with MAP_SHARED_VALIDATE anything else is EOPNOTSUPP.
const KNOWN_FLAGS: u32 = MAP_TYPE
    | MAP_FIXED
    | MAP_ANONYMOUS
    | MAP_GROWSDOWN
    | MAP_DENYWRITE
    | MAP_EXECUTABLE
    | MAP_LOCKED
    | MAP_NORESERVE
    | MAP_POPULATE
    | MAP_NONBLOCK
    | MAP_STACK
    | MAP_HUGETLB
    | MAP_FIXED_NOREPLACE;

fn sys_mmap(sys: &mut Sys) -> KResult<u64> {
    let (addr, len, prot, flags, fd, offset) = (sys.arg(0), sys.arg(1), sys.arg_u32(2), sys.arg_u32(3), sys.arg_i32(4), sys.arg(5));
    if len == 0 || offset % PAGE_SIZE != 0 {
        return Err(Errno::EINVAL);
    }
    let map_type = flags & MAP_TYPE;
    if !matches!(map_type, MAP_SHARED | MAP_PRIVATE | MAP_SHARED_VALIDATE) {
        return Err(Errno::EINVAL);
    }
    if map_type == MAP_SHARED_VALIDATE && flags & !(KNOWN_FLAGS | MAP_SYNC) != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    if prot & !(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_GROWSDOWN | PROT_GROWSUP) != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & MAP_HUGETLB != 0 {
        // No huge pages are reserved in the guest.
        return Err(Errno::ENOMEM);
    }
    if offset.checked_add(crate::abi::page_align_up(len).ok_or(Errno::ENOMEM)?).is_none() {
        return Err(Errno::EOVERFLOW);
    }
    let shared = map_type != MAP_PRIVATE;
    let mm = sys.mm();
    let backing = if flags & MAP_ANONYMOUS != 0 {
        anonymous_backing(sys, shared, len, prot, flags)?
    } else {
        let file = sys.task.files().get(fd)?;
        let md = file.metadata()?;
        if file.flags() & O_PATH != 0 {
            return Err(Errno::EBADF);
        }
        if !file.readable() {
            return Err(Errno::EACCES);
        }
        if shared && prot & PROT_WRITE != 0 && !file.writable() {
            return Err(Errno::EACCES);
        }
        // No executable mappings of files on a noexec mount (do_mmap).
        if prot & PROT_EXEC != 0 && file.path.as_ref().is_some_and(|p| p.mount.noexec()) {
            return Err(Errno::EPERM);
        }
        match md.mode & S_IFMT {
            // /dev/zero maps as anonymous memory.
            S_IFCHR if md.rdev == crate::fs::make_dev(1, 5) => anonymous_backing(sys, shared, len, prot, flags)?,
            // Files with a page cache in guest RAM (tmpfs) share its frames.
            S_IFREG if shared && file.inode.page_cache().is_some() => {
                let memory = file.inode.page_cache().ok_or(Errno::ENODEV)?;
                Backing::Shared { memory, pgoff: offset / PAGE_SIZE }
            }
            // Without one (the read-only host view), a shared mapping that
            // cannot write behaves as a private copy; host-side changes
            // made later are not seen.
            S_IFREG if !shared || prot & PROT_WRITE == 0 => {
                let name = file.path.as_ref().map(|p| p.to_bytes(&sys.task.fs().root)).unwrap_or_default();
                let data: Arc<dyn FileData> = Arc::new(MappedInode(file.inode.clone(), file.path.as_ref().map(|p| p.mount.clone())));
                let cache = if file.inode.page_cache().is_some() { None } else { crate::mm::vma::file_cache(&*data) };
                Backing::File { file: data, offset, file_end: u64::MAX, name, dev: md.dev, ino: md.ino, cache }
            }
            _ => return Err(Errno::ENODEV),
        }
    };
    if let Backing::Shared { memory, .. } = &backing {
        memory.add_mapper(&mm);
    }
    mm.map(MapRequest { addr, len, prot: prot & (PROT_READ | PROT_WRITE | PROT_EXEC), flags, backing, label: "" })
}

fn anonymous_backing(sys: &Sys, shared: bool, len: u64, prot: u32, flags: u32) -> KResult<Backing> {
    let phys = &sys.task.system.phys;
    // Linux's heuristic overcommit refuses a single private writable
    // mapping larger than all of RAM, unless it asked for no reservation.
    if !shared && prot & PROT_WRITE != 0 && flags & MAP_NORESERVE == 0 && len > phys.total_frames() * PAGE_SIZE {
        return Err(Errno::ENOMEM);
    }
    Ok(if shared { Backing::Shared { memory: SharedMemory::new(phys.clone()), pgoff: 0 } } else { Backing::Anonymous })
}

fn sys_munmap(sys: &mut Sys) -> KResult<u64> {
    sys.mm().unmap(sys.arg(0), sys.arg(1))?;
    Ok(0)
}

fn sys_mprotect(sys: &mut Sys) -> KResult<u64> {
    sys.mm().lock().protect(sys.arg(0), sys.arg(1), sys.arg_u32(2))?;
    Ok(0)
}

fn sys_mremap(sys: &mut Sys) -> KResult<u64> {
    sys.mm().lock().remap(sys.arg(0), sys.arg(1), sys.arg(2), sys.arg_u32(3), sys.arg(4))
}

fn sys_madvise(sys: &mut Sys) -> KResult<u64> {
    sys.mm().lock().advise(sys.arg(0), sys.arg(1), sys.arg_u32(2))?;
    Ok(0)
}

fn sys_msync(sys: &mut Sys) -> KResult<u64> {
    let (addr, len, flags) = (sys.arg(0), sys.arg(1), sys.arg_u32(2));
    if addr % PAGE_SIZE != 0 || flags & !(MS_ASYNC | MS_INVALIDATE | MS_SYNC) != 0 || flags & (MS_ASYNC | MS_SYNC) == MS_ASYNC | MS_SYNC {
        return Err(Errno::EINVAL);
    }
    let end = addr.checked_add(crate::abi::page_align_up(len).ok_or(Errno::ENOMEM)?).ok_or(Errno::ENOMEM)?;
    // Every mapping we support keeps its data in guest RAM: nothing to
    // write back, but the range must be mapped.
    let mm = sys.mm();
    let st = mm.lock();
    let mut cursor = addr;
    while cursor < end {
        match st.find_vma(cursor) {
            Some(v) => cursor = v.end,
            None => return Err(Errno::ENOMEM),
        }
    }
    Ok(0)
}

/// Guest memory is never swapped, so locking only has to validate.
fn sys_mlock(sys: &mut Sys) -> KResult<u64> {
    let (addr, len) = (sys.arg(0), sys.arg(1));
    let start = crate::abi::page_align_down(addr);
    let end = addr.checked_add(len).and_then(crate::abi::page_align_up).ok_or(Errno::ENOMEM)?;
    let mm = sys.mm();
    let st = mm.lock();
    let mut cursor = start;
    while cursor < end {
        match st.find_vma(cursor) {
            Some(v) => cursor = v.end,
            None => return Err(Errno::ENOMEM),
        }
    }
    Ok(0)
}

fn sys_mlockall(sys: &mut Sys) -> KResult<u64> {
    let flags = sys.arg_u32(0);
    if flags == 0 || flags & !(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) != 0 || flags == MCL_ONFAULT {
        return Err(Errno::EINVAL);
    }
    Ok(0)
}

fn sys_munlockall(_sys: &mut Sys) -> KResult<u64> {
    Ok(0)
}
