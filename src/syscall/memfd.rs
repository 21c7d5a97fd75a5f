//! memfd_create: an anonymous regular file on a kernel-internal tmpfs
//! (Linux's shm_mnt), unlinked from birth, named "/memfd:NAME (deleted)"
//! in /proc; and F_GET_SEALS/F_ADD_SEALS, which fcntl hands here. The
//! seals live on the tmpfs inode, which enforces them (as shmem does);
//! this file only picks a memfd's first seals and checks fcntl's arguments.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use crate::abi::fcntl::{F_ALL_SEALS, F_SEAL_EXEC, F_SEAL_SEAL};
use crate::abi::stat::S_IFREG;
use crate::abi::{Errno, KResult};
use crate::fs::file::File;
use crate::fs::inode::InodeRef;
use crate::fs::path::{Dentry, Mount, Path};
use crate::syscall::args::nofile_limit;
use crate::syscall::{Sys, SyscallDef};
use crate::syscalls;

pub const SYSCALLS: &[SyscallDef] = syscalls![
    __NR_memfd_create => sys_memfd_create,
];

// include/uapi/linux/memfd.h
const MFD_CLOEXEC: u32 = 0x1;
const MFD_ALLOW_SEALING: u32 = 0x2;
const MFD_HUGETLB: u32 = 0x4;
const MFD_NOEXEC_SEAL: u32 = 0x8;
const MFD_EXEC: u32 = 0x10;
const MFD_ALL_FLAGS: u32 = MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB | MFD_NOEXEC_SEAL | MFD_EXEC;
const MFD_HUGE_MASK: u32 = 0x3f << 26;
/// NAME_MAX minus the "memfd:" prefix (Linux's MFD_NAME_MAX_LEN).
const MFD_NAME_MAX_LEN: usize = 255 - 6;

/// The internal tmpfs every memfd lives on, and its mount (never in any
/// task's mount table).
fn memfd_mount() -> &'static Arc<Mount> {
    static MOUNT: OnceLock<Arc<Mount>> = OnceLock::new();
    MOUNT.get_or_init(|| {
        // No size limit of its own: guest RAM is the limit, as for shm_mnt.
        Mount::detached(crate::fs::tmpfs::new_tmpfs(u64::MAX / 2, 0o1777, 0, 0), "tmpfs")
    })
}

/// F_GET_SEALS: the seals of a memfd or any other tmpfs file (those carry
/// F_SEAL_SEAL from birth, as shmem files do); EINVAL for other files.
pub fn get_seals(file: &File) -> KResult<u64> {
    file.inode.seals().map(u64::from).ok_or(Errno::EINVAL)
}

/// F_ADD_SEALS in Linux's order (memfd_add_seals): a file not open for
/// writing is EPERM, unknown seals EINVAL, a file that cannot carry seals
/// EINVAL; the rest (F_SEAL_SEAL's EPERM, F_SEAL_WRITE's EBUSY) is the
/// filesystem's. `seals` is what fcntl's unsigned int argument holds.
pub fn add_seals(file: &File, seals: u32) -> KResult<u64> {
    if !file.writable() {
        return Err(Errno::EPERM);
    }
    if seals & !F_ALL_SEALS != 0 {
        return Err(Errno::EINVAL);
    }
    file.inode.add_seals(seals)?;
    Ok(0)
}

/// memfd_create in Linux's order: flags (EINVAL), vm.memfd_noexec
/// (sanitize_flags: a memfd made with neither MFD_EXEC nor MFD_NOEXEC_SEAL
/// is MFD_EXEC's at 0, MFD_NOEXEC_SEAL's from 1; at 2 anything but
/// MFD_NOEXEC_SEAL is EACCES), then the name (EFAULT, EINVAL when too
/// long).
fn sys_memfd_create(sys: &mut Sys) -> KResult<u64> {
    let (name_addr, mut flags) = (sys.arg(0), sys.arg_u32(1));
    let allowed = if flags & MFD_HUGETLB != 0 { MFD_ALL_FLAGS | MFD_HUGE_MASK } else { MFD_ALL_FLAGS };
    if flags & !allowed != 0 || (flags & MFD_EXEC != 0 && flags & MFD_NOEXEC_SEAL != 0) {
        return Err(Errno::EINVAL);
    }
    let noexec = crate::sched::sysctl::memfd_noexec();
    if flags & (MFD_EXEC | MFD_NOEXEC_SEAL) == 0 {
        flags |= if noexec >= 1 { MFD_NOEXEC_SEAL } else { MFD_EXEC };
    }
    if flags & MFD_NOEXEC_SEAL == 0 && noexec >= 2 {
        return Err(Errno::EACCES);
    }
    let name = match sys.mm().read_cstring(name_addr, MFD_NAME_MAX_LEN) {
        Err(Errno::ENAMETOOLONG) => return Err(Errno::EINVAL),
        other => other?,
    };
    // Huge pages: none are reserved (vm.nr_hugepages is 0).
    if flags & MFD_HUGETLB != 0 {
        return Err(Errno::EINVAL);
    }
    // Mode 0777 whatever the umask (shmem_file_setup); MFD_NOEXEC_SEAL
    // takes the exec bits away for good and leaves sealing open, as
    // MFD_ALLOW_SEALING does; without either the seals are sealed.
    let (mode, seals) = if flags & MFD_NOEXEC_SEAL != 0 {
        (0o666, F_SEAL_EXEC)
    } else if flags & MFD_ALLOW_SEALING != 0 {
        (0o777, 0)
    } else {
        (0o777, F_SEAL_SEAL)
    };
    let creds = sys.task.creds();
    let mount = memfd_mount();
    let root = Path { mount: mount.clone(), dentry: mount.root.clone() };
    // A unique entry, unlinked at once: the inode lives while it is open
    // or mapped.
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let entry = format!("memfd-{}", NEXT.fetch_add(1, Ordering::Relaxed)).into_bytes();
    let inode: InodeRef = root.inode().create(&entry, S_IFREG | mode, 0, creds.fsuid, creds.fsgid)?;
    root.inode().unlink(&entry)?;
    crate::fs::tmpfs::set_initial_seals(&inode, seals)?;
    let mut shown = b"memfd:".to_vec();
    shown.extend_from_slice(&name);
    let path = Path { mount: mount.clone(), dentry: Dentry::detached(&shown, Some(mount.root.clone()), inode) };
    let file = File::open_path(path, crate::abi::fcntl::O_RDWR | crate::abi::fcntl::O_LARGEFILE)?;
    let limit = nofile_limit(sys.task);
    Ok(sys.task.files().install(file, flags & MFD_CLOEXEC != 0, 0, limit)? as u64)
}
