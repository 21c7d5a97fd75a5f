//! Credentials: Linux's struct cred — user and group ids, supplementary
//! groups, the five capability sets and the securebits — and the rules
//! that tie capabilities to ids (security/commoncap.c): leaving uid 0
//! clears them, an fsuid change moves the filesystem capabilities, execve
//! recomputes them. Capabilities are the guest's own: guest root holds them
//! inside the guest and has none on the host. PID 1 starts with the ids and
//! capability sets vkernel itself runs with.

use crate::abi::capability::*;

/// The five capability sets (Linux's cap_effective, cap_permitted,
/// cap_inheritable, cap_bset, cap_ambient), one bit per capability.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Capabilities {
    pub effective: u64,
    pub permitted: u64,
    pub inheritable: u64,
    pub bounding: u64,
    pub ambient: u64,
}

/// User and group identities, capabilities and securebits.
#[derive(Clone, Debug)]
pub struct Creds {
    pub uid: u32,
    pub euid: u32,
    pub suid: u32,
    pub fsuid: u32,
    pub gid: u32,
    pub egid: u32,
    pub sgid: u32,
    pub fsgid: u32,
    pub groups: Vec<u32>,
    pub caps: Capabilities,
    /// SECBIT_* flags (prctl PR_SET_SECUREBITS, PR_SET_KEEPCAPS).
    pub securebits: u32,
}

/// The capability a bit stands for.
pub const fn cap_bit(cap: u32) -> u64 {
    1u64 << cap
}

/// Every capability this kernel knows (CAP_LAST_CAP and below).
pub fn all_capabilities() -> u64 {
    let last = last_cap();
    if last >= 63 { u64::MAX } else { (1u64 << (last + 1)) - 1 }
}

/// The highest capability number (/proc/sys/kernel/cap_last_cap): the
/// host's, so capability masks read as they do natively.
pub fn last_cap() -> u32 {
    static LAST: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *LAST.get_or_init(|| crate::platform::host::system::cap_last_cap().unwrap_or(CAP_LAST_CAP).clamp(CAP_LAST_CAP, 63))
}

/// Linux's cap_valid.
pub fn cap_valid(cap: u64) -> bool {
    cap <= last_cap() as u64
}

/// The capabilities fsuid 0 stands for (Linux's CAP_FS_SET): dropped from
/// the effective set when fsuid leaves 0, raised again from the permitted
/// set when it returns.
pub const FS_CAPABILITIES: u64 = cap_bit(CAP_CHOWN)
    | cap_bit(CAP_MKNOD)
    | cap_bit(CAP_DAC_OVERRIDE)
    | cap_bit(CAP_DAC_READ_SEARCH)
    | cap_bit(CAP_FOWNER)
    | cap_bit(CAP_FSETID)
    | cap_bit(CAP_MAC_OVERRIDE)
    | cap_bit(CAP_LINUX_IMMUTABLE);

impl Creds {
    /// The identity vkernel itself runs with (PID 1 starts with it).
    pub fn from_host() -> Creds {
        let (uid, gid, euid, egid, groups) = crate::platform::host::system::identity();
        let host = crate::platform::host::system::capabilities();
        let valid = all_capabilities();
        let caps = Capabilities {
            effective: host.effective & valid,
            permitted: host.permitted & valid,
            inheritable: host.inheritable & valid,
            bounding: host.bounding & valid,
            ambient: host.ambient & valid,
        };
        Creds { uid, euid, suid: euid, fsuid: euid, gid, egid, sgid: egid, fsgid: egid, groups, caps, securebits: host.securebits }
    }

    /// Linux's capable(cap): is `cap` in the effective set?
    pub fn capable(&self, cap: u32) -> bool {
        cap < 64 && self.caps.effective & cap_bit(cap) != 0
    }

    /// Does the filesystem let this caller override permission bits (Linux:
    /// CAP_DAC_OVERRIDE, which fsuid 0 holds unless it was dropped)?
    pub fn is_root(&self) -> bool {
        self.capable(CAP_DAC_OVERRIDE)
    }

    pub fn in_group(&self, gid: u32) -> bool {
        self.fsgid == gid || self.groups.contains(&gid)
    }

    pub fn secure(&self, bit: u32) -> bool {
        self.securebits & (1 << bit) != 0
    }

    /// Linux's cap_emulate_setxuid, after setuid/setreuid/setresuid moved
    /// the real, effective and saved uids from `old`: leaving uid 0 in all
    /// three drops every capability (unless SECBIT_KEEP_CAPS keeps the
    /// permitted ones), leaving euid 0 clears the effective set, and
    /// regaining euid 0 raises it to the permitted set.
    pub fn fix_caps_after_setuid(&mut self, old: &Creds) {
        if self.secure(SECURE_NO_SETUID_FIXUP) {
            return;
        }
        let had_root = old.uid == 0 || old.euid == 0 || old.suid == 0;
        let has_root = self.uid == 0 || self.euid == 0 || self.suid == 0;
        if had_root && !has_root {
            if !self.secure(SECURE_KEEP_CAPS) {
                self.caps.permitted = 0;
                self.caps.effective = 0;
            }
            self.caps.ambient = 0;
        }
        if old.euid == 0 && self.euid != 0 {
            self.caps.effective = 0;
        }
        if old.euid != 0 && self.euid == 0 {
            self.caps.effective = self.caps.permitted;
        }
    }

    /// The fsuid moved from `old_fsuid` (setfsuid): the filesystem
    /// capabilities follow it.
    pub fn fix_caps_after_setfsuid(&mut self, old_fsuid: u32) {
        if self.secure(SECURE_NO_SETUID_FIXUP) {
            return;
        }
        if old_fsuid == 0 && self.fsuid != 0 {
            self.caps.effective &= !FS_CAPABILITIES;
        }
        if old_fsuid != 0 && self.fsuid == 0 {
            self.caps.effective |= self.caps.permitted & FS_CAPABILITIES;
        }
    }

    /// The capabilities a program starts with after execve (Linux's
    /// cap_bprm_creds_from_file for a file without file capabilities or
    /// set-id bits): root (real or effective, unless SECBIT_NOROOT) gets its
    /// bounding and inheritable sets as permitted, effective only for
    /// euid 0; anyone else keeps only the ambient set. SECBIT_KEEP_CAPS
    /// ends at exec.
    pub fn apply_exec(&mut self) {
        let mut permitted = 0;
        let mut effective_from_file = false;
        if !self.secure(SECURE_NOROOT) {
            if self.euid == 0 || self.uid == 0 {
                permitted = self.caps.bounding | self.caps.inheritable;
            }
            effective_from_file = self.euid == 0;
        }
        self.suid = self.euid;
        self.fsuid = self.euid;
        self.sgid = self.egid;
        self.fsgid = self.egid;
        self.caps.permitted = permitted | self.caps.ambient;
        self.caps.effective = if effective_from_file { self.caps.permitted } else { self.caps.ambient };
        self.securebits &= !(1 << SECURE_KEEP_CAPS);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> Creds {
        let all = all_capabilities();
        Creds {
            uid: 0,
            euid: 0,
            suid: 0,
            fsuid: 0,
            gid: 0,
            egid: 0,
            sgid: 0,
            fsgid: 0,
            groups: Vec::new(),
            caps: Capabilities { effective: all, permitted: all, inheritable: 0, bounding: all, ambient: 0 },
            securebits: 0,
        }
    }

    #[test]
    fn leaving_uid_zero_drops_capabilities_unless_kept() {
        let old = root();
        let mut new = old.clone();
        (new.uid, new.euid, new.suid) = (1000, 1000, 1000);
        new.fix_caps_after_setuid(&old);
        assert_eq!((new.caps.permitted, new.caps.effective), (0, 0));

        let mut old = root();
        old.securebits = 1 << SECURE_KEEP_CAPS;
        let mut new = old.clone();
        (new.uid, new.euid, new.suid) = (1000, 1000, 1000);
        new.fix_caps_after_setuid(&old);
        assert_eq!(new.caps.permitted, all_capabilities());
        assert_eq!(new.caps.effective, 0, "the effective set goes with euid 0 even with keep-caps");
    }

    #[test]
    fn euid_round_trip_restores_effective() {
        let old = root();
        let mut mid = old.clone();
        mid.euid = 1000;
        mid.fix_caps_after_setuid(&old);
        assert_eq!(mid.caps.effective, 0);
        assert_eq!(mid.caps.permitted, all_capabilities());
        let mut back = mid.clone();
        back.euid = 0;
        back.fix_caps_after_setuid(&mid);
        assert_eq!(back.caps.effective, all_capabilities());
    }

    #[test]
    fn fsuid_moves_only_filesystem_capabilities() {
        let mut c = root();
        c.fsuid = 1000;
        c.fix_caps_after_setfsuid(0);
        assert!(!c.capable(CAP_DAC_OVERRIDE) && !c.capable(CAP_CHOWN));
        assert!(c.capable(CAP_SYS_ADMIN) && c.capable(CAP_KILL));
        c.fsuid = 0;
        c.fix_caps_after_setfsuid(1000);
        assert!(c.capable(CAP_DAC_OVERRIDE));
    }

    #[test]
    fn exec_gives_root_its_bounding_set_and_others_their_ambient_set() {
        let mut c = root();
        c.caps.effective = 0;
        c.caps.permitted = 0;
        c.caps.bounding &= !cap_bit(CAP_SYS_TIME);
        c.apply_exec();
        assert!(c.capable(CAP_SYS_ADMIN) && !c.capable(CAP_SYS_TIME));

        let mut u = root();
        (u.uid, u.euid, u.suid, u.fsuid) = (1000, 1000, 1000, 1000);
        u.caps.ambient = cap_bit(CAP_NET_BIND_SERVICE);
        u.apply_exec();
        assert_eq!(u.caps.effective, cap_bit(CAP_NET_BIND_SERVICE));
        assert_eq!(u.caps.permitted, cap_bit(CAP_NET_BIND_SERVICE));
    }
}
