//! System administration calls a guest root may make about its own
//! kernel: sethostname, setdomainname, syslog (the guest's kernel log) and
//! acct. Guest root changes the guest's view only; without the capability
//! the answer is Linux's EPERM.

use crate::abi::capability::{CAP_SYS_ADMIN, CAP_SYS_PACCT, CAP_SYSLOG};
use crate::abi::{Errno, KResult};
use crate::sched::{klog, sysctl};
use crate::syscall::{Sys, SyscallDef};
use crate::syscalls;

pub const SYSCALLS: &[SyscallDef] = syscalls![
    __NR_sethostname => sys_sethostname,
    __NR_setdomainname => sys_setdomainname,
    __NR_syslog => sys_syslog,
    __NR_acct => sys_acct,
];

/// Linux checks CAP_SYS_ADMIN, then the length (an int, at most 64), then
/// copies the name.
fn read_uts_name(sys: &Sys) -> KResult<Vec<u8>> {
    let (addr, len) = (sys.arg(0), sys.arg_i32(1));
    if !sys.task.creds().capable(CAP_SYS_ADMIN) {
        return Err(Errno::EPERM);
    }
    if len < 0 || len as usize > sysctl::UTS_NAME_LEN {
        return Err(Errno::EINVAL);
    }
    sys.mm().read_bytes(addr, len as usize)
}

fn sys_sethostname(sys: &mut Sys) -> KResult<u64> {
    sysctl::set_hostname(&read_uts_name(sys)?);
    Ok(0)
}

fn sys_setdomainname(sys: &mut Sys) -> KResult<u64> {
    sysctl::set_domainname(&read_uts_name(sys)?);
    Ok(0)
}

const SYSLOG_ACTION_CLOSE: i32 = 0;
const SYSLOG_ACTION_OPEN: i32 = 1;
const SYSLOG_ACTION_READ: i32 = 2;
const SYSLOG_ACTION_READ_ALL: i32 = 3;
const SYSLOG_ACTION_READ_CLEAR: i32 = 4;
const SYSLOG_ACTION_CLEAR: i32 = 5;
const SYSLOG_ACTION_CONSOLE_OFF: i32 = 6;
const SYSLOG_ACTION_CONSOLE_ON: i32 = 7;
const SYSLOG_ACTION_CONSOLE_LEVEL: i32 = 8;
const SYSLOG_ACTION_SIZE_UNREAD: i32 = 9;
const SYSLOG_ACTION_SIZE_BUFFER: i32 = 10;

/// Linux's do_syslog: reading all and the buffer size are open to anyone
/// unless kernel.dmesg_restrict; everything else (unknown actions too)
/// needs CAP_SYSLOG (or, historically, CAP_SYS_ADMIN). The console
/// actions change nothing a guest can see: the log goes to no console.
fn sys_syslog(sys: &mut Sys) -> KResult<u64> {
    let (action, buf, len) = (sys.arg_i32(0), sys.arg(1), sys.arg_i32(2));
    let open_to_all = !sysctl::dmesg_restrict() && matches!(action, SYSLOG_ACTION_READ_ALL | SYSLOG_ACTION_SIZE_BUFFER);
    let creds = sys.task.creds();
    if !open_to_all && !creds.capable(CAP_SYSLOG) && !creds.capable(CAP_SYS_ADMIN) {
        return Err(Errno::EPERM);
    }
    let checked_buffer = || -> KResult<usize> {
        if buf == 0 || len < 0 {
            return Err(Errno::EINVAL);
        }
        crate::mm::uaccess::access_ok(buf, len as usize)?;
        Ok(len as usize)
    };
    match action {
        SYSLOG_ACTION_CLOSE | SYSLOG_ACTION_OPEN | SYSLOG_ACTION_CONSOLE_OFF | SYSLOG_ACTION_CONSOLE_ON => Ok(0),
        SYSLOG_ACTION_READ => {
            let len = checked_buffer()?;
            if len == 0 {
                return Ok(0);
            }
            crate::sched::wait::wait_any(&[klog::readers()], None, || Ok((klog::unread() > 0).then_some(())))?;
            let data = klog::take_unread(len);
            sys.mm().write_bytes(buf, &data)?;
            Ok(data.len() as u64)
        }
        SYSLOG_ACTION_READ_ALL | SYSLOG_ACTION_READ_CLEAR => {
            let len = checked_buffer()?;
            if len == 0 {
                return Ok(0);
            }
            let data = klog::tail(len);
            sys.mm().write_bytes(buf, &data)?;
            if action == SYSLOG_ACTION_READ_CLEAR {
                klog::clear();
            }
            Ok(data.len() as u64)
        }
        SYSLOG_ACTION_CLEAR => {
            klog::clear();
            Ok(0)
        }
        SYSLOG_ACTION_CONSOLE_LEVEL => {
            if !(1..=8).contains(&len) {
                return Err(Errno::EINVAL);
            }
            Ok(0)
        }
        SYSLOG_ACTION_SIZE_UNREAD => Ok(klog::unread() as u64),
        SYSLOG_ACTION_SIZE_BUFFER => Ok(klog::LOG_BUF_LEN as u64),
        _ => Err(Errno::EINVAL),
    }
}

/// Process accounting: CAP_SYS_PACCT decides first; turning accounting
/// off (NULL) succeeds, as it is never on. vkernel writes no accounting
/// records, so naming a file is ENOSYS rather than a silent success.
fn sys_acct(sys: &mut Sys) -> KResult<u64> {
    if !sys.task.creds().capable(CAP_SYS_PACCT) {
        return Err(Errno::EPERM);
    }
    if sys.arg(0) == 0 {
        return Ok(0);
    }
    sys.read_path(sys.arg(0))?;
    Err(Errno::ENOSYS)
}
