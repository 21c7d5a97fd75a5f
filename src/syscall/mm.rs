//! Memory system calls: brk, mmap, munmap, mprotect, mremap, madvise,
//! msync (the mlock family and mincore are in mlock.rs).

use crate::abi::fcntl::O_PATH;
use crate::abi::mman::{
    MADV_REMOVE, MAP_32BIT, MAP_ANONYMOUS, MAP_DENYWRITE, MAP_EXECUTABLE, MAP_FIXED, MAP_GROWSDOWN, MAP_HUGETLB, MAP_LOCKED, MAP_NONBLOCK, MAP_NORESERVE,
    MAP_POPULATE, MAP_PRIVATE, MAP_SHARED, MAP_SHARED_VALIDATE, MAP_STACK, MAP_TYPE, MS_ASYNC, MS_INVALIDATE, MS_SYNC, PROT_EXEC, PROT_READ, PROT_WRITE,
};
use crate::abi::stat::{S_IFBLK, S_IFCHR, S_IFMT, S_IFREG, S_IFSOCK};
use crate::abi::statfs::ST_NOEXEC;
use crate::abi::{Errno, KResult, PAGE_SIZE};
use std::sync::Arc;

use crate::fs::file::{File, MAX_FILE_OFFSET};
use crate::fs::inode::MappedInode;
use crate::mm::map::{MapRequest, RemovalTarget};
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
];

fn sys_brk(sys: &mut Sys) -> KResult<u64> {
    Ok(sys.mm().lock().set_brk(sys.arg(0)))
}

/// Linux's LEGACY_MAP_MASK: what every file's mmap takes; with
/// MAP_SHARED_VALIDATE anything else is EOPNOTSUPP (MAP_FIXED_NOREPLACE
/// and MAP_SYNC included). Bits 26-31 are the MAP_HUGE_* size encodings
/// and MAP_UNINITIALIZED.
const LEGACY_MAP_MASK: u32 = MAP_SHARED
    | MAP_PRIVATE
    | MAP_FIXED
    | MAP_ANONYMOUS
    | MAP_DENYWRITE
    | MAP_EXECUTABLE
    | MAP_GROWSDOWN
    | MAP_LOCKED
    | MAP_NORESERVE
    | MAP_POPULATE
    | MAP_NONBLOCK
    | MAP_STACK
    | MAP_HUGETLB
    | MAP_32BIT
    | (0x1f << 26);

/// mmap in Linux's order (sys_mmap, ksys_mmap_pgoff, do_mmap): EINVAL for
/// an unaligned offset, EBADF for the fd of a file mapping, EINVAL for no
/// length, ENOMEM for one that wraps, the address checks, then the
/// mapping type and the file's access. Unknown prot bits are ignored.
fn sys_mmap(sys: &mut Sys) -> KResult<u64> {
    let (addr, len, prot, flags, fd, offset) = (sys.arg(0), sys.arg(1), sys.arg_u32(2), sys.arg_u32(3), sys.arg_i32(4), sys.arg(5));
    if offset % PAGE_SIZE != 0 {
        return Err(Errno::EINVAL);
    }
    let file = if flags & MAP_ANONYMOUS == 0 {
        let file = sys.task.files().get(fd)?;
        if file.flags() & O_PATH != 0 {
            return Err(Errno::EBADF);
        }
        if flags & MAP_HUGETLB != 0 {
            // Only hugetlbfs files take MAP_HUGETLB.
            return Err(Errno::EINVAL);
        }
        Some(file)
    } else {
        if flags & MAP_HUGETLB != 0 && len != 0 {
            // No huge pages are reserved in the guest.
            return Err(Errno::ENOMEM);
        }
        None
    };
    if len == 0 {
        return Err(Errno::EINVAL);
    }
    let aligned = crate::abi::page_align_up(len).ok_or(Errno::ENOMEM)?;
    let mm = sys.mm();
    mm.lock().check_map_address(addr, len, flags)?;
    let map_type = flags & MAP_TYPE;
    let grows = flags & MAP_GROWSDOWN != 0;
    // A shared mapping of a file opened read-only stays read-only; one
    // through a file open for writing asks the file (its seals) below.
    let (mut no_maywrite, seal_check) = match &file {
        Some(f) if map_type != MAP_PRIVATE && !f.writable() => (VMA_NO_MAYWRITE, None),
        Some(f) if map_type != MAP_PRIVATE => (0, Some(f.inode.clone())),
        _ => (0, None),
    };
    let backing = match file {
        None => match map_type {
            MAP_SHARED if grows => return Err(Errno::EINVAL),
            MAP_SHARED | MAP_PRIVATE => anonymous_backing(sys, map_type == MAP_SHARED, len, prot, flags)?,
            // MAP_SHARED_VALIDATE is for files; MAP_DROPPABLE is not offered
            // (EINVAL, as before Linux 6.11).
            _ => return Err(Errno::EINVAL),
        },
        Some(file) => {
            let md = file.metadata()?;
            // file_mmap_ok: regular files end at the largest offset, other
            // files only may not wrap.
            let max = if matches!(md.mode & S_IFMT, S_IFREG | S_IFBLK | S_IFSOCK) { MAX_FILE_OFFSET } else { u64::MAX };
            if aligned > max || offset / PAGE_SIZE > (max - aligned) / PAGE_SIZE {
                return Err(Errno::EOVERFLOW);
            }
            let shared = match map_type {
                MAP_SHARED | MAP_SHARED_VALIDATE => {
                    // MAP_SHARED drops what it does not know; with
                    // MAP_SHARED_VALIDATE anything unknown (MAP_SYNC on a
                    // file without DAX) is EOPNOTSUPP.
                    if map_type == MAP_SHARED_VALIDATE && flags & !LEGACY_MAP_MASK != 0 {
                        return Err(Errno::EOPNOTSUPP);
                    }
                    if prot & PROT_WRITE != 0 && !file.writable() {
                        return Err(Errno::EACCES);
                    }
                    true
                }
                MAP_PRIVATE => false,
                _ => return Err(Errno::EINVAL),
            };
            if !file.readable() {
                return Err(Errno::EACCES);
            }
            // No executable mappings of files on a noexec mount.
            if prot & PROT_EXEC != 0 && file.path.as_ref().is_some_and(|p| p.mount.noexec()) {
                return Err(Errno::EPERM);
            }
            if !mappable(&md) {
                return Err(Errno::ENODEV);
            }
            if grows {
                return Err(Errno::EINVAL);
            }
            file_backing(sys, &file, &md, shared, len, prot, flags, offset)?
        }
    };
    crate::syscall::mlock::may_map_locked(sys, flags, len)?;
    if let Some(memory) = backing.page_cache() {
        memory.add_mapper(&mm);
    }
    let mut st = mm.lock();
    // Asked under the address-space lock: F_ADD_SEALS(F_SEAL_WRITE) first
    // makes this fail, then looks for writable mappings under each
    // mapper's lock, so it sees this one or this one fails.
    if let Some(inode) = seal_check
        && !inode.shared_mapping_may_write(prot & PROT_WRITE != 0)?
    {
        no_maywrite = VMA_NO_MAYWRITE;
    }
    let mapped = st.map(MapRequest {
        addr,
        len,
        prot: prot & (PROT_READ | PROT_WRITE | PROT_EXEC),
        flags: (flags & !VMA_NO_MAYWRITE) | no_maywrite,
        backing,
        label: "",
    })?;
    drop(st);
    crate::syscall::mlock::mapped(sys, flags, mapped, len);
    Ok(mapped)
}

/// Whether a file has an mmap operation at all (ENODEV otherwise): regular
/// files and /dev/zero; not pipes, sockets, ttys, directories or /dev/null.
fn mappable(md: &crate::fs::inode::Metadata) -> bool {
    match md.mode & S_IFMT {
        S_IFREG => true,
        S_IFCHR => md.rdev == crate::fs::make_dev(1, 5),
        _ => false,
    }
}

/// The backing of a file mapping that passed mmap's checks.
#[allow(clippy::too_many_arguments)]
fn file_backing(sys: &Sys, file: &Arc<File>, md: &crate::fs::inode::Metadata, shared: bool, len: u64, prot: u32, flags: u32, offset: u64) -> KResult<Backing> {
    // What a file mapping holds: the inode and the path it was mapped by
    // (its mount stays busy), and the name /proc/<pid>/maps shows.
    let name = || file.path.as_ref().map(|p| p.to_bytes(&sys.task.fs().root)).unwrap_or_default();
    let inode = || MappedInode(file.inode.clone(), file.path.clone());
    let shared_file = || -> Arc<dyn FileData> { Arc::new(crate::fs::inode::MappedSharedFile { inode: inode(), name: name() }) };
    Ok(match md.mode & S_IFMT {
        // /dev/zero maps as anonymous memory.
        S_IFCHR if md.rdev == crate::fs::make_dev(1, 5) => anonymous_backing(sys, shared, len, prot, flags)?,
        // Files with a page cache in guest RAM (tmpfs, ext4) share its
        // frames.
        S_IFREG if shared && let Some(memory) = file.inode.page_cache() => Backing::Shared { memory, pgoff: offset / PAGE_SIZE, file: Some(shared_file()) },
        // Host files (shares, the host view) are mapped by the host
        // itself, one page cache with the host's processes, where stubs
        // can open vkernel's fds through /proc.
        S_IFREG
            if shared
                && crate::platform::stub_common::host_files_mappable()
                && let Some(host) = file.inode.host_file(file.writable())? =>
        {
            host.0.check_mappable(prot, offset)?;
            let noexec = file.path.as_ref().is_some_and(|p| p.mount.noexec()) || host.0.statfs()?.f_flags & ST_NOEXEC != 0;
            Backing::HostFile { file: shared_file(), host, offset, dev: md.dev, ino: md.ino, mapped: false, may_exec: !noexec }
        }
        // Anything else without a page cache gets private copies.
        S_IFREG if !shared || prot & PROT_WRITE == 0 => {
            let data: Arc<dyn FileData> = Arc::new(inode());
            let cache = crate::mm::vma::private_file_cache(file.inode.page_cache(), &*data);
            Backing::File { file: data, offset, file_end: u64::MAX, name: name(), dev: md.dev, ino: md.ino, cache }
        }
        _ => return Err(Errno::ENODEV),
    })
}

fn anonymous_backing(sys: &Sys, shared: bool, len: u64, prot: u32, flags: u32) -> KResult<Backing> {
    let phys = &sys.task.system.phys;
    // Linux's heuristic overcommit refuses a single private writable
    // mapping larger than all of RAM, unless it asked for no reservation.
    if !shared && prot & PROT_WRITE != 0 && flags & MAP_NORESERVE == 0 && len > phys.total_frames() * PAGE_SIZE {
        return Err(Errno::ENOMEM);
    }
    Ok(if shared { Backing::Shared { memory: crate::mm::page_cache::PageCache::new(phys.clone()), pgoff: 0, file: None } } else { Backing::Anonymous })
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
    let (old, old_len, new_len) = (sys.arg(0), sys.arg(1), sys.arg(2));
    let locked = crate::syscall::mlock::may_remap_locked(sys, old, old_len, new_len)?;
    let addr = sys.mm().lock().remap(old, old_len, new_len, sys.arg_u32(3), sys.arg(4))?;
    if locked {
        crate::syscall::mlock::mapped(sys, MAP_LOCKED, addr, new_len);
    }
    Ok(addr)
}

fn sys_madvise(sys: &mut Sys) -> KResult<u64> {
    if sys.arg_u32(2) == MADV_REMOVE {
        return madvise_remove(sys);
    }
    sys.mm().lock().advise(sys.arg(0), sys.arg(1), sys.arg_u32(2))?;
    Ok(0)
}

/// MADV_REMOVE: each VMA's part of the range becomes a hole in the file
/// or shared memory it maps, punched in order with the address-space lock
/// released; the walk's own error (a refusing VMA, a gap) comes after the
/// holes before it were punched, as Linux's madvise walk returns it.
fn madvise_remove(sys: &mut Sys) -> KResult<u64> {
    let (holes, walk) = sys.mm().lock().removals(sys.arg(0), sys.arg(1));
    for hole in holes {
        match hole.target {
            RemovalTarget::File(file) => file.punch_hole(hole.offset, hole.len)?,
            RemovalTarget::Memory(memory) => memory.punch(hole.offset / PAGE_SIZE, (hole.offset + hole.len) / PAGE_SIZE),
        }
    }
    walk?;
    Ok(0)
}

fn sys_msync(sys: &mut Sys) -> KResult<u64> {
    let (addr, len, flags) = (sys.arg(0), sys.arg(1), sys.arg_u32(2));
    if addr % PAGE_SIZE != 0 || flags & !(MS_ASYNC | MS_INVALIDATE | MS_SYNC) != 0 || flags & (MS_ASYNC | MS_SYNC) == MS_ASYNC | MS_SYNC {
        return Err(Errno::EINVAL);
    }
    let end = addr.checked_add(crate::abi::page_align_up(len).ok_or(Errno::ENOMEM)?).ok_or(Errno::ENOMEM)?;
    // The range must be mapped; MS_SYNC writes shared file pages in it
    // back and makes them durable (MS_ASYNC: dirty pages are already
    // tracked, as on Linux); a host file's shared mapping is the host's
    // page cache, which its fdatasync writes.
    let mm = sys.mm();
    let mut to_sync = Vec::new();
    let mut host_files = Vec::new();
    {
        let st = mm.lock();
        let mut cursor = addr;
        while cursor < end {
            match st.find_vma(cursor) {
                Some(v) => {
                    if let Backing::Shared { memory, pgoff, .. } = &v.backing
                        && flags & MS_SYNC != 0
                        && memory.has_store()
                    {
                        let from = pgoff + (cursor.max(v.start) - v.start) / PAGE_SIZE;
                        let to = pgoff + (end.min(v.end) - v.start).div_ceil(PAGE_SIZE);
                        to_sync.push((memory.clone(), from, to));
                    }
                    if let Backing::HostFile { host, .. } = &v.backing
                        && flags & MS_SYNC != 0
                    {
                        host_files.push(host.clone());
                    }
                    cursor = v.end;
                }
                None => return Err(Errno::ENOMEM),
            }
        }
    }
    for (memory, from, to) in to_sync {
        memory.sync_range(from, to)?;
    }
    for host in host_files {
        host.0.sync(true)?;
    }
    Ok(0)
}
