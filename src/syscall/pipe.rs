//! Pipe system calls: pipe and pipe2. The pipe itself (buffers, blocking,
//! FIFOs, F_SETPIPE_SZ) lives in fs/pipe.rs; this file only decodes
//! arguments and installs the two files.

use crate::abi::fcntl::{O_CLOEXEC, O_DIRECT, O_NONBLOCK, O_NOTIFICATION_PIPE};
use crate::abi::resource::RLIMIT_NOFILE;
use crate::abi::{Errno, KResult};
use crate::syscall::{Sys, SyscallDef};
use crate::syscalls;

pub const SYSCALLS: &[SyscallDef] = syscalls![
    __NR_pipe => sys_pipe,
    __NR_pipe2 => sys_pipe2,
];

fn do_pipe2(sys: &Sys, fds_addr: u64, flags: u32) -> KResult<u64> {
    if flags & !(O_CLOEXEC | O_NONBLOCK | O_DIRECT | O_NOTIFICATION_PIPE) != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & O_NOTIFICATION_PIPE != 0 {
        // Linux's answer for watch queues on a kernel built without them.
        return Err(Errno::ENOPKG);
    }
    let task = sys.task;
    let creds = task.creds();
    let (r, w) = crate::fs::pipe::create_pipe(creds.fsuid, creds.fsgid, flags);
    let cloexec = flags & O_CLOEXEC != 0;
    let limit = task.rlimit(RLIMIT_NOFILE).cur;
    let (rfd, wfd) = {
        let mut files = task.files();
        let rfd = files.install(r, cloexec, 0, limit)?;
        match files.install(w, cloexec, 0, limit) {
            Ok(wfd) => (rfd, wfd),
            Err(e) => {
                let gone = files.remove(rfd);
                drop(files);
                drop(gone);
                return Err(e);
            }
        }
    };
    // Linux installs the fds only after the copy-out succeeds; here they
    // are taken back out on EFAULT.
    if sys.mm().write(fds_addr, &[rfd, wfd]).is_err() {
        let gone = {
            let mut files = task.files();
            (files.remove(rfd), files.remove(wfd))
        };
        drop(gone);
        return Err(Errno::EFAULT);
    }
    Ok(0)
}

fn sys_pipe(sys: &mut Sys) -> KResult<u64> {
    do_pipe2(sys, sys.arg(0), 0)
}

fn sys_pipe2(sys: &mut Sys) -> KResult<u64> {
    do_pipe2(sys, sys.arg(0), sys.arg_u32(1))
}
