//! Credential system calls: set*uid, set*gid, setgroups, with the rules of
//! Linux's kernel/sys.c. Capabilities follow the effective uid: euid 0 holds
//! CAP_SETUID and CAP_SETGID.

use crate::abi::limits::NGROUPS_MAX;
use crate::sched::Creds;
use crate::syscalls;

use crate::abi::{Errno, KResult};
use crate::syscall::{Sys, SyscallDef};

pub const SYSCALLS: &[SyscallDef] = syscalls![
    __NR_getuid => sys_getuid,
    __NR_geteuid => sys_geteuid,
    __NR_getgid => sys_getgid,
    __NR_getegid => sys_getegid,
    __NR_getresuid => sys_getresuid,
    __NR_getresgid => sys_getresgid,
    __NR_getgroups => sys_getgroups,
    __NR_setuid => sys_setuid,
    __NR_setgid => sys_setgid,
    __NR_setreuid => sys_setreuid,
    __NR_setregid => sys_setregid,
    __NR_setresuid => sys_setresuid,
    __NR_setresgid => sys_setresgid,
    __NR_setfsuid => sys_setfsuid,
    __NR_setfsgid => sys_setfsgid,
    __NR_setgroups => sys_setgroups,
];

const KEEP: u32 = u32::MAX;

/// Which of a task's ids a credential call changes: (real, effective, saved, fs).
struct Ids {
    real: u32,
    effective: u32,
    saved: u32,
    fs: u32,
}

fn uids(c: &Creds) -> Ids {
    Ids { real: c.uid, effective: c.euid, saved: c.suid, fs: c.fsuid }
}

fn gids(c: &Creds) -> Ids {
    Ids { real: c.gid, effective: c.egid, saved: c.sgid, fs: c.fsgid }
}

fn store_uids(c: &mut Creds, ids: Ids) {
    (c.uid, c.euid, c.suid, c.fsuid) = (ids.real, ids.effective, ids.saved, ids.fs);
}

fn store_gids(c: &mut Creds, ids: Ids) {
    (c.gid, c.egid, c.sgid, c.fsgid) = (ids.real, ids.effective, ids.saved, ids.fs);
}

/// Applies `change` to the uid or gid set under the credentials lock.
fn update(sys: &Sys, user: bool, change: impl FnOnce(&mut Ids, bool) -> KResult<()>) -> KResult<u64> {
    let mut creds = sys.task.creds.lock();
    let privileged = creds.euid == 0;
    let mut ids = if user { uids(&creds) } else { gids(&creds) };
    change(&mut ids, privileged)?;
    if user {
        store_uids(&mut creds, ids)
    } else {
        store_gids(&mut creds, ids)
    }
    Ok(0)
}

fn set_id(sys: &Sys, user: bool, id: u32) -> KResult<u64> {
    if id == KEEP {
        return Err(Errno::EINVAL);
    }
    update(sys, user, |ids, privileged| {
        if privileged {
            (ids.real, ids.effective, ids.saved, ids.fs) = (id, id, id, id);
        } else if id == ids.real || id == ids.saved {
            (ids.effective, ids.fs) = (id, id);
        } else {
            return Err(Errno::EPERM);
        }
        Ok(())
    })
}

fn set_re_id(sys: &Sys, user: bool, r: u32, e: u32) -> KResult<u64> {
    update(sys, user, |ids, privileged| {
        let old_real = ids.real;
        if r != KEEP && !privileged && r != ids.real && r != ids.effective {
            return Err(Errno::EPERM);
        }
        if e != KEEP && !privileged && e != ids.real && e != ids.effective && e != ids.saved {
            return Err(Errno::EPERM);
        }
        if r != KEEP {
            ids.real = r;
        }
        if e != KEEP {
            ids.effective = e;
        }
        if r != KEEP || (e != KEEP && e != old_real) {
            ids.saved = ids.effective;
        }
        ids.fs = ids.effective;
        Ok(())
    })
}

fn set_res_id(sys: &Sys, user: bool, r: u32, e: u32, s: u32) -> KResult<u64> {
    update(sys, user, |ids, privileged| {
        let allowed = |x: u32| x == KEEP || privileged || x == ids.real || x == ids.effective || x == ids.saved;
        if !allowed(r) || !allowed(e) || !allowed(s) {
            return Err(Errno::EPERM);
        }
        if r != KEEP {
            ids.real = r;
        }
        if e != KEEP {
            ids.effective = e;
        }
        if s != KEEP {
            ids.saved = s;
        }
        ids.fs = ids.effective;
        Ok(())
    })
}

/// setfsuid/setfsgid return the old value and never fail.
fn set_fs_id(sys: &Sys, user: bool, id: u32) -> KResult<u64> {
    let mut creds = sys.task.creds.lock();
    let privileged = creds.euid == 0;
    let mut ids = if user { uids(&creds) } else { gids(&creds) };
    let old = ids.fs;
    if id != KEEP && (privileged || id == ids.real || id == ids.effective || id == ids.saved || id == ids.fs) {
        ids.fs = id;
        if user { store_uids(&mut creds, ids) } else { store_gids(&mut creds, ids) }
    }
    Ok(old as u64)
}

fn sys_setuid(sys: &mut Sys) -> KResult<u64> {
    set_id(sys, true, sys.arg_u32(0))
}

fn sys_setgid(sys: &mut Sys) -> KResult<u64> {
    set_id(sys, false, sys.arg_u32(0))
}

fn sys_setreuid(sys: &mut Sys) -> KResult<u64> {
    set_re_id(sys, true, sys.arg_u32(0), sys.arg_u32(1))
}

fn sys_setregid(sys: &mut Sys) -> KResult<u64> {
    set_re_id(sys, false, sys.arg_u32(0), sys.arg_u32(1))
}

fn sys_setresuid(sys: &mut Sys) -> KResult<u64> {
    set_res_id(sys, true, sys.arg_u32(0), sys.arg_u32(1), sys.arg_u32(2))
}

fn sys_setresgid(sys: &mut Sys) -> KResult<u64> {
    set_res_id(sys, false, sys.arg_u32(0), sys.arg_u32(1), sys.arg_u32(2))
}

fn sys_setfsuid(sys: &mut Sys) -> KResult<u64> {
    set_fs_id(sys, true, sys.arg_u32(0))
}

fn sys_setfsgid(sys: &mut Sys) -> KResult<u64> {
    set_fs_id(sys, false, sys.arg_u32(0))
}

fn sys_setgroups(sys: &mut Sys) -> KResult<u64> {
    let (size, list) = (sys.arg_i32(0), sys.arg(1));
    if size < 0 || size as usize > NGROUPS_MAX {
        return Err(Errno::EINVAL);
    }
    if sys.task.creds().euid != 0 {
        return Err(Errno::EPERM);
    }
    let bytes = sys.mm().read_bytes(list, size as usize * 4)?;
    let mut groups: Vec<u32> = bytes.chunks_exact(4).map(|c| u32::from_ne_bytes([c[0], c[1], c[2], c[3]])).collect();
    groups.sort_unstable();
    sys.task.creds.lock().groups = groups;
    Ok(0)
}

fn sys_getuid(sys: &mut Sys) -> KResult<u64> {
    Ok(sys.task.creds().uid as u64)
}

fn sys_geteuid(sys: &mut Sys) -> KResult<u64> {
    Ok(sys.task.creds().euid as u64)
}

fn sys_getgid(sys: &mut Sys) -> KResult<u64> {
    Ok(sys.task.creds().gid as u64)
}

fn sys_getegid(sys: &mut Sys) -> KResult<u64> {
    Ok(sys.task.creds().egid as u64)
}

fn sys_getresuid(sys: &mut Sys) -> KResult<u64> {
    let c = sys.task.creds();
    let mm = sys.mm();
    mm.write(sys.arg(0), &c.uid)?;
    mm.write(sys.arg(1), &c.euid)?;
    mm.write(sys.arg(2), &c.suid)?;
    Ok(0)
}

fn sys_getresgid(sys: &mut Sys) -> KResult<u64> {
    let c = sys.task.creds();
    let mm = sys.mm();
    mm.write(sys.arg(0), &c.gid)?;
    mm.write(sys.arg(1), &c.egid)?;
    mm.write(sys.arg(2), &c.sgid)?;
    Ok(0)
}

fn sys_getgroups(sys: &mut Sys) -> KResult<u64> {
    let size = sys.arg_i32(0);
    let groups = sys.task.creds().groups;
    if size < 0 {
        return Err(Errno::EINVAL);
    }
    if size == 0 {
        return Ok(groups.len() as u64);
    }
    if (size as usize) < groups.len() {
        return Err(Errno::EINVAL);
    }
    let bytes: Vec<u8> = groups.iter().flat_map(|g| g.to_ne_bytes()).collect();
    sys.mm().write_bytes(sys.arg(1), &bytes)?;
    Ok(groups.len() as u64)
}
