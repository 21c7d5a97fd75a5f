//! ioctl: the generic requests every fd answers (FIOCLEX, FIONBIO, FIONREAD
//! on files, ...), then the file's own driver.

use crate::abi::KResult;
use crate::abi::fcntl::{O_ASYNC, O_CLOEXEC, O_NONBLOCK};
use crate::abi::ioctl::{FIGETBSZ, FIOASYNC, FIOCLEX, FIONBIO, FIONCLEX, FIONREAD, FIOQSIZE, TIOCGPTPEER};
use crate::abi::stat::{S_IFDIR, S_IFLNK, S_IFMT, S_IFREG};
use crate::syscall::args::*;
use crate::syscall::{Sys, SyscallDef};
use crate::syscalls;

pub const SYSCALLS: &[SyscallDef] = syscalls![
    __NR_ioctl => sys_ioctl,
];

fn sys_ioctl(sys: &mut Sys) -> KResult<u64> {
    let (fd, cmd, arg) = (sys.arg_i32(0), sys.arg_u32(1), sys.arg(2));
    let task = sys.task;
    let file = io_file(task, fd)?;
    match cmd {
        FIOCLEX | FIONCLEX => {
            task.files().entry_mut(fd)?.cloexec = cmd == FIOCLEX;
            Ok(0)
        }
        FIONBIO | FIOASYNC => {
            let on: i32 = sys.mm().read(arg)?;
            let bit = if cmd == FIONBIO { O_NONBLOCK } else { O_ASYNC };
            let flags = file.flags();
            crate::fs::fasync::set_status_flags(&file, fd, if on != 0 { flags | bit } else { flags & !bit })?;
            Ok(0)
        }
        _ => {
            let md = file.metadata()?;
            let ftype = md.mode & S_IFMT;
            match cmd {
                FIONREAD if ftype == S_IFREG => {
                    let pos = *file.pos.lock();
                    let avail = md.size.saturating_sub(pos).min(i32::MAX as u64) as i32;
                    put(sys, arg, &avail)?;
                    Ok(0)
                }
                FIGETBSZ if ftype == S_IFREG || ftype == S_IFDIR => {
                    put(sys, arg, &(md.blksize as i32))?;
                    Ok(0)
                }
                FIOQSIZE if matches!(ftype, S_IFREG | S_IFDIR | S_IFLNK) => {
                    put(sys, arg, &(md.size as i64))?;
                    Ok(0)
                }
                TIOCGPTPEER => {
                    let root = task.fs().root.clone();
                    let flags = arg as u32;
                    let peer = crate::tty::pty::open_peer(&file, &root, &task.system.mounts, flags)?;
                    let limit = nofile_limit(task);
                    Ok(task.files().install(peer, flags & O_CLOEXEC != 0, 0, limit)? as u64)
                }
                _ => file.ops.ioctl(&file, &**task, cmd, arg),
            }
        }
    }
}
