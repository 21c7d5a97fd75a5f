//! Credentials: Linux's struct cred, without capabilities (uid 0 has them
//! all inside the guest, and none on the host).

/// User and group identities.
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
}

impl Creds {
    /// The identity vkernel itself runs with (PID 1 starts with it).
    pub fn from_host() -> Creds {
        let (uid, gid, euid, egid, groups) = crate::platform::host::system::identity();
        Creds { uid, euid, suid: euid, fsuid: euid, gid, egid, sgid: egid, fsgid: egid, groups }
    }

    pub fn is_root(&self) -> bool {
        self.fsuid == 0
    }

    pub fn in_group(&self, gid: u32) -> bool {
        self.fsgid == gid || self.groups.contains(&gid)
    }
}
