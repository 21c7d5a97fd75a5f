//! wait4 and waitid: decode which children and what to wait for, let
//! task::wait find the report, and copy it out.

use crate::abi::wait::{P_ALL, P_PGID, P_PID, P_PIDFD, WALL, WCLONE, WCONTINUED, WEXITED, WNOHANG, WNOTHREAD, WNOWAIT, WSTOPPED, WUNTRACED};
use crate::abi::{Errno, KResult, Rusage, Timeval};
use crate::signal::SigInfo;
use crate::syscall::{Sys, SyscallDef};
use crate::syscalls;
use crate::task::wait::{Which, do_wait};

pub const SYSCALLS: &[SyscallDef] = syscalls![
    __NR_wait4 => sys_wait4,
    __NR_waitid => sys_waitid,
];

fn timeval(ns: u64) -> Timeval {
    Timeval { tv_sec: (ns / 1_000_000_000) as i64, tv_usec: ((ns % 1_000_000_000) / 1000) as i64 }
}

fn sys_wait4(sys: &mut Sys) -> KResult<u64> {
    let (pid, status_addr, options, rusage_addr) = (sys.arg_i32(0), sys.arg(1), sys.arg_u32(2), sys.arg(3));
    if options & !(WNOHANG | WUNTRACED | WCONTINUED | WNOTHREAD | WALL | WCLONE) != 0 {
        return Err(Errno::EINVAL);
    }
    // -INT_MIN is not defined (Linux: kernel_wait4).
    if pid == i32::MIN {
        return Err(Errno::ESRCH);
    }
    let which = match pid {
        -1 => Which::Any,
        0 => Which::Group(sys.task.process.pgid()),
        p if p < -1 => Which::Group(-p),
        p => Which::Pid(p),
    };
    let Some(r) = do_wait(sys.task, which, options | WEXITED)? else { return Ok(0) };
    let mm = sys.mm();
    if status_addr != 0 {
        mm.write(status_addr, &r.status)?;
    }
    if rusage_addr != 0 {
        let ru = Rusage { ru_utime: timeval(r.user_ns), ru_stime: timeval(r.system_ns), ..Default::default() };
        mm.write(rusage_addr, &ru)?;
    }
    Ok(r.pid as u64)
}

fn sys_waitid(sys: &mut Sys) -> KResult<u64> {
    let (idtype, id, info_addr, options, rusage_addr) = (sys.arg_u32(0), sys.arg_i32(1), sys.arg(2), sys.arg_u32(3), sys.arg(4));
    if options & !(WNOHANG | WNOWAIT | WEXITED | WSTOPPED | WCONTINUED | WNOTHREAD | WALL | WCLONE) != 0 || options & (WEXITED | WSTOPPED | WCONTINUED) == 0 {
        return Err(Errno::EINVAL);
    }
    let mut nonblocking_pidfd = false;
    let which = match idtype {
        P_ALL => Which::Any,
        P_PID if id > 0 => Which::Pid(id),
        P_PGID if id > 0 => Which::Group(id),
        P_PGID if id == 0 => Which::Group(sys.task.process.pgid()),
        P_PIDFD if id >= 0 => {
            let file = sys.task.files().get(id)?;
            let pidfd = crate::task::pidfd::of(&file)?;
            nonblocking_pidfd = file.nonblocking();
            Which::Process(pidfd.process.clone())
        }
        _ => return Err(Errno::EINVAL),
    };
    // A pidfd opened with PIDFD_NONBLOCK makes the wait WNOHANG, and
    // "nothing yet" EAGAIN (Linux's kernel_waitid).
    let wnohang = if nonblocking_pidfd { WNOHANG } else { 0 };
    let report = do_wait(sys.task, which, options | wnohang)?;
    if report.is_none() && nonblocking_pidfd && options & WNOHANG == 0 {
        return Err(Errno::EAGAIN);
    }
    let mm = sys.mm();
    if info_addr != 0 {
        let info = match &report {
            Some(r) => SigInfo::child(r.code, r.pid, r.uid, r.field, (r.user_ns / 10_000_000) as i64, (r.system_ns / 10_000_000) as i64),
            // WNOHANG with nothing to report: si_pid (and si_signo) zero.
            None => SigInfo { bytes: [0; 128] },
        };
        mm.write_bytes(info_addr, &info.bytes)?;
    }
    if rusage_addr != 0 {
        let ru = match &report {
            Some(r) => Rusage { ru_utime: timeval(r.user_ns), ru_stime: timeval(r.system_ns), ..Default::default() },
            None => Rusage::default(),
        };
        mm.write(rusage_addr, &ru)?;
    }
    Ok(0)
}
