//! Credential system calls: set*uid, set*gid, setgroups, capget, capset
//! and the capability prctls, with the rules and check order of Linux's
//! kernel/sys.c, kernel/capability.c and security/commoncap.c. The guest's
//! capabilities decide (CAP_SETUID, CAP_SETGID, CAP_SETPCAP), and uid
//! changes move them as Linux does (see `sched::cred`).

use crate::abi::capability::{
    CAP_SETGID, CAP_SETPCAP, CAP_SETUID, CapUserData, CapUserHeader, LINUX_CAPABILITY_VERSION_1, LINUX_CAPABILITY_VERSION_2, LINUX_CAPABILITY_VERSION_3,
    SECURE_ALL_BITS, SECURE_ALL_LOCKS, SECURE_KEEP_CAPS, SECURE_KEEP_CAPS_LOCKED, SECURE_NO_CAP_AMBIENT_RAISE,
};
use crate::abi::limits::NGROUPS_MAX;
use crate::sched::Creds;
use crate::sched::cred::{all_capabilities, cap_bit, cap_valid};
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
    __NR_capget => sys_capget,
    __NR_capset => sys_capset,
];

/// -1: "leave this id alone" (and never a valid id).
const KEEP: u32 = u32::MAX;

/// The uid or gid half of a task's credentials.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    User,
    Group,
}

/// One set of ids a credential call changes: (real, effective, saved, fs).
#[derive(Clone, Copy, PartialEq, Eq)]
struct Ids {
    real: u32,
    effective: u32,
    saved: u32,
    fs: u32,
}

fn ids(c: &Creds, kind: Kind) -> Ids {
    match kind {
        Kind::User => Ids { real: c.uid, effective: c.euid, saved: c.suid, fs: c.fsuid },
        Kind::Group => Ids { real: c.gid, effective: c.egid, saved: c.sgid, fs: c.fsgid },
    }
}

fn store(c: &mut Creds, kind: Kind, ids: Ids) {
    match kind {
        Kind::User => (c.uid, c.euid, c.suid, c.fsuid) = (ids.real, ids.effective, ids.saved, ids.fs),
        Kind::Group => (c.gid, c.egid, c.sgid, c.fsgid) = (ids.real, ids.effective, ids.saved, ids.fs),
    }
}

/// The capability that lets a task set any id of `kind`.
fn setid_cap(kind: Kind) -> u32 {
    match kind {
        Kind::User => CAP_SETUID,
        Kind::Group => CAP_SETGID,
    }
}

/// Applies `change` to the uid or gid set under the credentials lock, then
/// lets the capabilities follow a uid change.
fn update(sys: &Sys, kind: Kind, change: impl FnOnce(&mut Ids, bool) -> KResult<()>) -> KResult<u64> {
    let mut creds = sys.task.creds.lock();
    let old = creds.clone();
    let privileged = old.capable(setid_cap(kind));
    let mut new_ids = ids(&old, kind);
    change(&mut new_ids, privileged)?;
    store(&mut creds, kind, new_ids);
    if kind == Kind::User {
        creds.fix_caps_after_setuid(&old);
    }
    committed(sys, &old, &creds);
    let real_user_changed = kind == Kind::User && creds.uid != old.uid;
    drop(creds);
    if real_user_changed {
        crate::task::limits::setuid_nproc_mark(sys.task);
    }
    Ok(0)
}

/// Linux's commit_creds: a change of effective or filesystem ids, or of
/// capabilities beyond the old ones, makes the process non-dumpable
/// (suid_dumpable 0) until its next exec.
fn committed(sys: &Sys, old: &Creds, new: &Creds) {
    let ids_changed = old.euid != new.euid || old.egid != new.egid || old.fsuid != new.fsuid || old.fsgid != new.fsgid;
    if ids_changed || new.caps.permitted & !old.caps.permitted != 0 {
        sys.task.process.limits.dumpable.store(false, std::sync::atomic::Ordering::Relaxed);
    }
}

/// setuid/setgid: with the capability every id; without it only the
/// effective (and fs) id, to the real or saved one.
fn set_id(sys: &Sys, kind: Kind, id: u32) -> KResult<u64> {
    if id == KEEP {
        return Err(Errno::EINVAL);
    }
    update(sys, kind, |ids, privileged| {
        if privileged {
            (ids.real, ids.saved) = (id, id);
        } else if id != ids.real && id != ids.saved {
            return Err(Errno::EPERM);
        }
        (ids.effective, ids.fs) = (id, id);
        Ok(())
    })
}

fn set_re_id(sys: &Sys, kind: Kind, r: u32, e: u32) -> KResult<u64> {
    update(sys, kind, |ids, privileged| {
        let old = *ids;
        if r != KEEP {
            if !privileged && r != old.real && r != old.effective {
                return Err(Errno::EPERM);
            }
            ids.real = r;
        }
        if e != KEEP {
            if !privileged && e != old.real && e != old.effective && e != old.saved {
                return Err(Errno::EPERM);
            }
            ids.effective = e;
        }
        // The saved id follows the effective one when the real id is set,
        // or the effective id becomes something other than the old real id.
        if r != KEEP || (e != KEEP && e != old.real) {
            ids.saved = ids.effective;
        }
        ids.fs = ids.effective;
        Ok(())
    })
}

fn set_res_id(sys: &Sys, kind: Kind, r: u32, e: u32, s: u32) -> KResult<u64> {
    update(sys, kind, |ids, privileged| {
        let old = *ids;
        let allowed = |x: u32| x == KEEP || x == old.real || x == old.effective || x == old.saved;
        if !privileged && !(allowed(r) && allowed(e) && allowed(s)) {
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

/// setfsuid/setfsgid return the old fs id and never fail; an id the caller
/// may not take leaves it unchanged.
fn set_fs_id(sys: &Sys, kind: Kind, id: u32) -> KResult<u64> {
    let mut creds = sys.task.creds.lock();
    let mut new_ids = ids(&creds, kind);
    let old = new_ids.fs;
    let may = id == new_ids.real || id == new_ids.effective || id == new_ids.saved || id == new_ids.fs || creds.capable(setid_cap(kind));
    if id != KEEP && may && id != old {
        let before = creds.clone();
        new_ids.fs = id;
        store(&mut creds, kind, new_ids);
        if kind == Kind::User {
            creds.fix_caps_after_setfsuid(old);
        }
        committed(sys, &before, &creds);
    }
    Ok(old as u64)
}

fn sys_setuid(sys: &mut Sys) -> KResult<u64> {
    set_id(sys, Kind::User, sys.arg_u32(0))
}

fn sys_setgid(sys: &mut Sys) -> KResult<u64> {
    set_id(sys, Kind::Group, sys.arg_u32(0))
}

fn sys_setreuid(sys: &mut Sys) -> KResult<u64> {
    set_re_id(sys, Kind::User, sys.arg_u32(0), sys.arg_u32(1))
}

fn sys_setregid(sys: &mut Sys) -> KResult<u64> {
    set_re_id(sys, Kind::Group, sys.arg_u32(0), sys.arg_u32(1))
}

fn sys_setresuid(sys: &mut Sys) -> KResult<u64> {
    set_res_id(sys, Kind::User, sys.arg_u32(0), sys.arg_u32(1), sys.arg_u32(2))
}

fn sys_setresgid(sys: &mut Sys) -> KResult<u64> {
    set_res_id(sys, Kind::Group, sys.arg_u32(0), sys.arg_u32(1), sys.arg_u32(2))
}

fn sys_setfsuid(sys: &mut Sys) -> KResult<u64> {
    set_fs_id(sys, Kind::User, sys.arg_u32(0))
}

fn sys_setfsgid(sys: &mut Sys) -> KResult<u64> {
    set_fs_id(sys, Kind::Group, sys.arg_u32(0))
}

/// Linux checks the capability first, then the size (as unsigned), then
/// reads the list.
fn sys_setgroups(sys: &mut Sys) -> KResult<u64> {
    let (size, list) = (sys.arg_u32(0), sys.arg(1));
    if !sys.task.creds().capable(CAP_SETGID) {
        return Err(Errno::EPERM);
    }
    if size as usize > NGROUPS_MAX {
        return Err(Errno::EINVAL);
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

// ---- capabilities ----

/// Linux's cap_validate_magic: how many 32-bit words each set takes for
/// the header's version; an unknown version is answered with the version
/// the kernel prefers (written back) and EINVAL.
fn cap_words(sys: &Sys, header: u64) -> KResult<usize> {
    let version: u32 = sys.mm().read(header)?;
    match version {
        LINUX_CAPABILITY_VERSION_1 => Ok(1),
        LINUX_CAPABILITY_VERSION_2 | LINUX_CAPABILITY_VERSION_3 => Ok(2),
        _ => {
            sys.mm().write(header, &LINUX_CAPABILITY_VERSION_3)?;
            Err(Errno::EINVAL)
        }
    }
}

fn sys_capget(sys: &mut Sys) -> KResult<u64> {
    let (header, data) = (sys.arg(0), sys.arg(1));
    // A NULL data pointer asks for the preferred version only.
    let words = match cap_words(sys, header) {
        Err(Errno::EINVAL) if data == 0 => return Ok(0),
        Err(e) => return Err(e),
        Ok(_) if data == 0 => return Ok(0),
        Ok(w) => w,
    };
    let h: CapUserHeader = sys.mm().read(header)?;
    if h.pid < 0 {
        return Err(Errno::EINVAL);
    }
    let creds = if h.pid == 0 || h.pid == sys.task.tid() { sys.task.creds() } else { sys.task.system.task(h.pid).ok_or(Errno::ESRCH)?.creds() };
    let c = creds.caps;
    let word = |set: u64, i: usize| (set >> (32 * i)) as u32;
    let out: Vec<u8> = (0..words)
        .flat_map(|i| {
            bytemuck::bytes_of(&CapUserData { effective: word(c.effective, i), permitted: word(c.permitted, i), inheritable: word(c.inheritable, i) }).to_vec()
        })
        .collect();
    sys.mm().write_bytes(data, &out)?;
    Ok(0)
}

fn sys_capset(sys: &mut Sys) -> KResult<u64> {
    let (header, data) = (sys.arg(0), sys.arg(1));
    let words = cap_words(sys, header)?;
    let h: CapUserHeader = sys.mm().read(header)?;
    // Only the caller's own capabilities can change.
    if h.pid != 0 && h.pid != sys.task.tid() {
        return Err(Errno::EPERM);
    }
    let raw = sys.mm().read_bytes(data, words * size_of::<CapUserData>())?;
    let (mut effective, mut permitted, mut inheritable) = (0u64, 0u64, 0u64);
    for (i, chunk) in raw.chunks_exact(size_of::<CapUserData>()).enumerate() {
        let d: CapUserData = bytemuck::pod_read_unaligned(chunk);
        effective |= (d.effective as u64) << (32 * i);
        permitted |= (d.permitted as u64) << (32 * i);
        inheritable |= (d.inheritable as u64) << (32 * i);
    }
    let valid = all_capabilities();
    (effective, permitted, inheritable) = (effective & valid, permitted & valid, inheritable & valid);
    let mut creds = sys.task.creds.lock();
    let old = creds.caps;
    let subset = |a: u64, b: u64| a & !b == 0;
    if !creds.capable(CAP_SETPCAP) && !subset(inheritable, old.inheritable | old.permitted) {
        return Err(Errno::EPERM);
    }
    if !subset(inheritable, old.inheritable | old.bounding) || !subset(permitted, old.permitted) || !subset(effective, permitted) {
        return Err(Errno::EPERM);
    }
    creds.caps.effective = effective;
    creds.caps.permitted = permitted;
    creds.caps.inheritable = inheritable;
    creds.caps.ambient &= permitted & inheritable;
    Ok(0)
}

/// The capability and securebits prctls (Linux's cap_task_prctl); None
/// for any other option.
pub fn capability_prctl(sys: &Sys, option: u32, args: [u64; 4]) -> Option<KResult<u64>> {
    use crate::abi::prctl::{PR_CAP_AMBIENT, PR_CAPBSET_DROP, PR_CAPBSET_READ, PR_GET_KEEPCAPS, PR_GET_SECUREBITS, PR_SET_KEEPCAPS, PR_SET_SECUREBITS};
    use crate::abi::prctl::{PR_CAP_AMBIENT_CLEAR_ALL, PR_CAP_AMBIENT_IS_SET, PR_CAP_AMBIENT_LOWER, PR_CAP_AMBIENT_RAISE};
    let [arg2, arg3, arg4, arg5] = args;
    let task = sys.task;
    Some(match option {
        PR_CAPBSET_READ => {
            if !cap_valid(arg2) {
                return Some(Err(Errno::EINVAL));
            }
            Ok((task.creds().caps.bounding & cap_bit(arg2 as u32) != 0) as u64)
        }
        PR_CAPBSET_DROP => {
            let mut creds = task.creds.lock();
            if !creds.capable(CAP_SETPCAP) {
                return Some(Err(Errno::EPERM));
            }
            if !cap_valid(arg2) {
                return Some(Err(Errno::EINVAL));
            }
            creds.caps.bounding &= !cap_bit(arg2 as u32);
            Ok(0)
        }
        PR_GET_SECUREBITS => Ok(task.creds().securebits as u64),
        PR_SET_SECUREBITS => {
            let mut creds = task.creds.lock();
            let old = creds.securebits as u64;
            let locks = SECURE_ALL_LOCKS as u64;
            let changes_locked = ((old & locks) >> 1) & (old ^ arg2) != 0;
            let unlocks = old & locks & !arg2 != 0;
            let unknown = arg2 & !((SECURE_ALL_LOCKS | SECURE_ALL_BITS) as u64) != 0;
            if changes_locked || unlocks || unknown || !creds.capable(CAP_SETPCAP) {
                return Some(Err(Errno::EPERM));
            }
            creds.securebits = arg2 as u32;
            Ok(0)
        }
        PR_GET_KEEPCAPS => Ok(task.creds().secure(SECURE_KEEP_CAPS) as u64),
        PR_SET_KEEPCAPS => {
            if arg2 > 1 {
                return Some(Err(Errno::EINVAL));
            }
            let mut creds = task.creds.lock();
            if creds.secure(SECURE_KEEP_CAPS_LOCKED) {
                return Some(Err(Errno::EPERM));
            }
            if arg2 == 1 {
                creds.securebits |= 1 << SECURE_KEEP_CAPS;
            } else {
                creds.securebits &= !(1 << SECURE_KEEP_CAPS);
            }
            Ok(0)
        }
        PR_CAP_AMBIENT => {
            let mut creds = task.creds.lock();
            if arg2 == PR_CAP_AMBIENT_CLEAR_ALL as u64 {
                if arg3 | arg4 | arg5 != 0 {
                    return Some(Err(Errno::EINVAL));
                }
                creds.caps.ambient = 0;
                return Some(Ok(0));
            }
            if !cap_valid(arg3) || arg4 | arg5 != 0 {
                return Some(Err(Errno::EINVAL));
            }
            let bit = cap_bit(arg3 as u32);
            match arg2 as u32 {
                PR_CAP_AMBIENT_IS_SET => Ok((creds.caps.ambient & bit != 0) as u64),
                PR_CAP_AMBIENT_RAISE => {
                    if creds.caps.permitted & bit == 0 || creds.caps.inheritable & bit == 0 || creds.secure(SECURE_NO_CAP_AMBIENT_RAISE) {
                        return Some(Err(Errno::EPERM));
                    }
                    creds.caps.ambient |= bit;
                    Ok(0)
                }
                PR_CAP_AMBIENT_LOWER => {
                    creds.caps.ambient &= !bit;
                    Ok(0)
                }
                _ => Err(Errno::EINVAL),
            }
        }
        _ => return None,
    })
}
