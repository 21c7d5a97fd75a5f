//! POSIX ACLs (Linux's fs/posix_acl.c): the parsed form of the
//! system.posix_acl_access / _default xattrs and what the VFS does with
//! it: validation, the check generic_permission makes with an access ACL,
//! the ACL a chmod leaves and the ones a new inode inherits. Filesystems
//! that store ACLs keep them parsed (tmpfs) or in an `AclCache` (ext4,
//! hostfs), so a permission check reads no xattr; they hand them out
//! through `Inode::access_acl` / `default_acl`. Called by fs/lookup.rs,
//! fs/namei.rs and fs/xattr.rs; never changes an inode itself.

use std::sync::Arc;

use parking_lot::Mutex;

use crate::abi::{Errno, KResult};
use crate::fs::inode::Metadata;
use crate::sched::Creds;

// include/uapi/linux/posix_acl.h and posix_acl_xattr.h.
pub const ACL_USER_OBJ: u16 = 0x01;
pub const ACL_USER: u16 = 0x02;
pub const ACL_GROUP_OBJ: u16 = 0x04;
pub const ACL_GROUP: u16 = 0x08;
pub const ACL_MASK: u16 = 0x10;
pub const ACL_OTHER: u16 = 0x20;
const ACL_UNDEFINED_ID: u32 = u32::MAX;
const ACL_XATTR_VERSION: u32 = 2;
const S_IRWXUGO: u32 = 0o777;

/// One entry: a tag, its rwx bits and (for ACL_USER / ACL_GROUP) the id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AclEntry {
    pub tag: u16,
    pub perm: u16,
    pub id: u32,
}

/// A valid ACL (posix_acl_valid holds): entries in tag order, one each of
/// USER_OBJ, GROUP_OBJ and OTHER, a MASK when there are named entries.
/// Named entries are kept in the order given: Linux no longer requires
/// ascending ids (nor unique ones), and the first match decides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PosixAcl {
    entries: Vec<AclEntry>,
}

/// The ACLs a new inode starts with (posix_acl_create): an access ACL
/// when the inherited one says more than the mode, and for a directory the
/// parent's default ACL.
#[derive(Clone, Debug, Default)]
pub struct InitialAcls {
    pub access: Option<Arc<PosixAcl>>,
    pub default: Option<Arc<PosixAcl>>,
}

impl InitialAcls {
    pub fn is_empty(&self) -> bool {
        self.access.is_none() && self.default.is_none()
    }
}

impl PosixAcl {
    /// Parses and checks the xattr form (`parse`, then `validate`).
    pub fn from_xattr(value: &[u8]) -> KResult<Option<PosixAcl>> {
        let acl = PosixAcl::parse(value)?;
        if let Some(acl) = &acl {
            acl.validate()?;
        }
        Ok(acl)
    }

    /// Parses the xattr form (posix_acl_from_xattr): EOPNOTSUPP for
    /// another version, EINVAL for a torn entry, an unknown tag or a named
    /// entry with the undefined id. An empty list is None (no ACL). The
    /// entries' order and perms are `validate`'s business.
    pub fn parse(value: &[u8]) -> KResult<Option<PosixAcl>> {
        if value.len() < 4 || !(value.len() - 4).is_multiple_of(8) {
            return Err(Errno::EINVAL);
        }
        if u32::from_le_bytes([value[0], value[1], value[2], value[3]]) != ACL_XATTR_VERSION {
            return Err(Errno::EOPNOTSUPP);
        }
        let mut entries = Vec::with_capacity((value.len() - 4) / 8);
        for e in value[4..].chunks_exact(8) {
            let tag = u16::from_le_bytes([e[0], e[1]]);
            let perm = u16::from_le_bytes([e[2], e[3]]);
            let id = match tag {
                // The id of a named entry must be a valid uid/gid
                // (make_kuid of -1 fails); the others' ids are ignored.
                ACL_USER | ACL_GROUP => match u32::from_le_bytes([e[4], e[5], e[6], e[7]]) {
                    ACL_UNDEFINED_ID => return Err(Errno::EINVAL),
                    id => id,
                },
                ACL_USER_OBJ | ACL_GROUP_OBJ | ACL_MASK | ACL_OTHER => ACL_UNDEFINED_ID,
                _ => return Err(Errno::EINVAL),
            };
            entries.push(AclEntry { tag, perm, id });
        }
        if entries.is_empty() {
            return Ok(None);
        }
        Ok(Some(PosixAcl { entries }))
    }

    /// posix_acl_valid's state machine: EINVAL unless the entries are in
    /// order, with known perms, one mask at most and one where needed.
    pub fn validate(&self) -> KResult<()> {
        let mut state = ACL_USER_OBJ;
        let mut needs_mask = false;
        for e in &self.entries {
            if e.perm & !7 != 0 {
                return Err(Errno::EINVAL);
            }
            state = match (e.tag, state) {
                (ACL_USER_OBJ, ACL_USER_OBJ) => ACL_USER,
                (ACL_USER, ACL_USER) | (ACL_GROUP, ACL_GROUP) => {
                    needs_mask = true;
                    state
                }
                (ACL_GROUP_OBJ, ACL_USER) => ACL_GROUP,
                (ACL_MASK, ACL_GROUP) => ACL_OTHER,
                (ACL_OTHER, ACL_OTHER) => 0,
                (ACL_OTHER, ACL_GROUP) if !needs_mask => 0,
                _ => return Err(Errno::EINVAL),
            };
        }
        if state == 0 { Ok(()) } else { Err(Errno::EINVAL) }
    }

    /// The xattr form (posix_acl_to_xattr: unnamed entries carry
    /// ACL_UNDEFINED_ID).
    pub fn to_xattr(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(4 + 8 * self.entries.len());
        out.extend_from_slice(&ACL_XATTR_VERSION.to_le_bytes());
        for e in &self.entries {
            out.extend_from_slice(&e.tag.to_le_bytes());
            out.extend_from_slice(&e.perm.to_le_bytes());
            out.extend_from_slice(&e.id.to_le_bytes());
        }
        out
    }

    #[cfg(test)]
    pub fn entries(&self) -> &[AclEntry] {
        &self.entries
    }

    /// The three entries `mode`'s permission bits say (posix_acl_from_mode).
    #[cfg(test)]
    pub fn from_mode(mode: u32) -> PosixAcl {
        let entry = |tag, perm: u32| AclEntry { tag, perm: (perm & 7) as u16, id: ACL_UNDEFINED_ID };
        PosixAcl { entries: vec![entry(ACL_USER_OBJ, mode >> 6), entry(ACL_GROUP_OBJ, mode >> 3), entry(ACL_OTHER, mode)] }
    }

    /// The permission bits the ACL implies (the mask standing for the
    /// group class), and whether they say all it does
    /// (posix_acl_equiv_mode: no named entries, no mask).
    pub fn equiv_mode(&self) -> (u32, bool) {
        let (mut mode, mut equiv) = (0u32, true);
        for e in &self.entries {
            let p = u32::from(e.perm) & 7;
            match e.tag {
                ACL_USER_OBJ => mode |= p << 6,
                ACL_GROUP_OBJ => mode |= p << 3,
                ACL_OTHER => mode |= p,
                ACL_MASK => {
                    mode = (mode & !0o070) | (p << 3);
                    equiv = false;
                }
                _ => equiv = false,
            }
        }
        (mode, equiv)
    }

    /// posix_acl_permission: may `creds` have `want` (MAY_* bits) of an
    /// inode with `md` by this ACL? The owner's entry for the owner; a
    /// named user's entry, masked; else any matching group entry (the
    /// owning group's or a named one) that grants all of `want`, masked,
    /// and EACCES if groups matched but none granted; else other's entry.
    pub fn permission(&self, creds: &Creds, md: &Metadata, want: u32) -> KResult<()> {
        let want = want & 7;
        let mut found_group = false;
        let grants = |perm: u16| u32::from(perm) & want == want;
        let mask = || self.entries.iter().find(|e| e.tag == ACL_MASK).map_or(7, |m| m.perm);
        for e in &self.entries {
            match e.tag {
                ACL_USER_OBJ if creds.fsuid == md.uid => return if grants(e.perm) { Ok(()) } else { Err(Errno::EACCES) },
                ACL_USER if creds.fsuid == e.id => return if grants(e.perm & mask()) { Ok(()) } else { Err(Errno::EACCES) },
                ACL_GROUP_OBJ | ACL_GROUP => {
                    let gid = if e.tag == ACL_GROUP_OBJ { md.gid } else { e.id };
                    if creds.in_group(gid) {
                        found_group = true;
                        if grants(e.perm) {
                            return if grants(e.perm & mask()) { Ok(()) } else { Err(Errno::EACCES) };
                        }
                    }
                }
                ACL_OTHER => {
                    return if !found_group && grants(e.perm) { Ok(()) } else { Err(Errno::EACCES) };
                }
                _ => {}
            }
        }
        // A valid ACL ends with ACL_OTHER.
        Err(Errno::EIO)
    }

    /// The ACL after chmod to `mode` (posix_acl_chmod): the owner's and
    /// other's entries take those bits, the group bits go to the mask when
    /// there is one (the owning group's entry keeps its own), else to the
    /// owning group's entry.
    pub fn chmod(&self, mode: u32) -> PosixAcl {
        let mut acl = self.clone();
        let has_mask = acl.entries.iter().any(|e| e.tag == ACL_MASK);
        for e in &mut acl.entries {
            match e.tag {
                ACL_USER_OBJ => e.perm = ((mode >> 6) & 7) as u16,
                ACL_OTHER => e.perm = (mode & 7) as u16,
                ACL_MASK => e.perm = ((mode >> 3) & 7) as u16,
                ACL_GROUP_OBJ if !has_mask => e.perm = ((mode >> 3) & 7) as u16,
                _ => {}
            }
        }
        acl
    }

    /// A new inode's access ACL from its directory's default ACL, and its
    /// mode (posix_acl_create_masq): the owner's, other's and the mask's
    /// (else the owning group's) entries lose what `mode` lacks, and the
    /// mode loses what they lack. The ACL is None when the result is
    /// equivalent to the mode.
    pub fn create_masq(&self, mode: u32) -> (Option<PosixAcl>, u32) {
        let mut acl = self.clone();
        let mut bits = mode & S_IRWXUGO;
        let mut not_equiv = false;
        let has_mask = acl.entries.iter().any(|e| e.tag == ACL_MASK);
        for e in &mut acl.entries {
            match e.tag {
                ACL_USER_OBJ => {
                    e.perm &= ((bits >> 6) & 7) as u16;
                    bits &= (u32::from(e.perm) << 6) | !0o700;
                }
                ACL_USER | ACL_GROUP => not_equiv = true,
                ACL_OTHER => {
                    e.perm &= (bits & 7) as u16;
                    bits &= u32::from(e.perm) | !0o007;
                }
                ACL_MASK => not_equiv = true,
                _ => {}
            }
        }
        let class = if has_mask { ACL_MASK } else { ACL_GROUP_OBJ };
        if let Some(e) = acl.entries.iter_mut().find(|e| e.tag == class) {
            e.perm &= ((bits >> 3) & 7) as u16;
            bits &= (u32::from(e.perm) << 3) | !0o070;
        }
        let mode = (mode & !S_IRWXUGO) | bits;
        (not_equiv.then_some(acl), mode)
    }
}

/// Where a filesystem that reads ACLs from storage keeps the parsed
/// access ACL between permission checks (Linux's i_acl: not cached yet,
/// none, or the ACL). A fetch that raced with a change is not kept.
#[derive(Default)]
pub struct AclCache {
    /// (generation, cached state: None until fetched).
    state: Mutex<(u64, Option<Option<Arc<PosixAcl>>>)>,
}

impl AclCache {
    /// The cached ACL, or `fetch`'s (the raw xattr, None when absent),
    /// kept for next time.
    pub fn get(&self, fetch: impl FnOnce() -> KResult<Option<Vec<u8>>>) -> KResult<Option<Arc<PosixAcl>>> {
        let generation = {
            let st = self.state.lock();
            if let Some(cached) = &st.1 {
                return Ok(cached.clone());
            }
            st.0
        };
        // Stored ACLs were valid when set; a damaged one reads as EIO.
        let acl = match fetch()? {
            Some(v) => PosixAcl::from_xattr(&v).map_err(|_| Errno::EIO)?.map(Arc::new),
            None => None,
        };
        let mut st = self.state.lock();
        if st.0 == generation {
            st.1 = Some(acl.clone());
        }
        Ok(acl)
    }

    /// The stored ACL changed (or may have): fetch it again next time.
    pub fn forget(&self) {
        let mut st = self.state.lock();
        st.0 += 1;
        st.1 = None;
    }
}

/// The xattr of `name` as `AclCache::get` wants it: ENODATA (and a
/// filesystem without the name, EOPNOTSUPP) is no ACL.
pub fn stored(value: KResult<Vec<u8>>) -> KResult<Option<Vec<u8>>> {
    match value {
        Ok(v) => Ok(Some(v)),
        Err(Errno::ENODATA | Errno::EOPNOTSUPP) => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acl(entries: &[(u16, u16, u32)]) -> Vec<u8> {
        let mut v = ACL_XATTR_VERSION.to_le_bytes().to_vec();
        for &(tag, perm, id) in entries {
            v.extend_from_slice(&tag.to_le_bytes());
            v.extend_from_slice(&perm.to_le_bytes());
            v.extend_from_slice(&id.to_le_bytes());
        }
        v
    }

    fn creds(uid: u32, gid: u32, groups: &[u32]) -> Creds {
        let (fsuid, fsgid, groups) = (uid, gid, groups.to_vec());
        let caps = crate::sched::cred::Capabilities::default();
        Creds { uid, euid: uid, suid: uid, fsuid, gid, egid: gid, sgid: gid, fsgid, groups, caps, securebits: 0 }
    }

    fn md(uid: u32, gid: u32) -> Metadata {
        Metadata { uid, gid, mode: 0o100770, ..Default::default() }
    }

    #[test]
    fn validation_follows_posix_acl_valid() {
        let base = [(ACL_USER_OBJ, 7, 0), (ACL_GROUP_OBJ, 5, 0), (ACL_OTHER, 0, 0)];
        assert!(PosixAcl::from_xattr(&acl(&base)).unwrap().is_some());
        assert_eq!(PosixAcl::from_xattr(&acl(&[])).unwrap(), None);
        // Named entries need a mask; tags in order; ids in any order.
        let no_mask = [(ACL_USER_OBJ, 7, 0), (ACL_USER, 5, 10), (ACL_GROUP_OBJ, 5, 0), (ACL_OTHER, 0, 0)];
        assert_eq!(PosixAcl::from_xattr(&acl(&no_mask)).err(), Some(Errno::EINVAL));
        let dup = [(ACL_USER_OBJ, 7, 0), (ACL_USER, 5, 10), (ACL_USER, 5, 10), (ACL_GROUP_OBJ, 5, 0), (ACL_MASK, 7, 0), (ACL_OTHER, 0, 0)];
        assert!(PosixAcl::from_xattr(&acl(&dup)).unwrap().is_some());
        let two_masks = [(ACL_USER_OBJ, 7, 0), (ACL_GROUP_OBJ, 5, 0), (ACL_MASK, 7, 0), (ACL_MASK, 7, 0), (ACL_OTHER, 0, 0)];
        assert_eq!(PosixAcl::from_xattr(&acl(&two_masks)).err(), Some(Errno::EINVAL));
        let undefined = [(ACL_USER_OBJ, 7, 0), (ACL_USER, 5, u32::MAX), (ACL_GROUP_OBJ, 5, 0), (ACL_MASK, 7, 0), (ACL_OTHER, 0, 0)];
        assert_eq!(PosixAcl::from_xattr(&acl(&undefined)).err(), Some(Errno::EINVAL));
        let order = [(ACL_GROUP_OBJ, 5, 0), (ACL_USER_OBJ, 7, 0), (ACL_OTHER, 0, 0)];
        assert_eq!(PosixAcl::from_xattr(&acl(&order)).err(), Some(Errno::EINVAL));
        assert_eq!(PosixAcl::from_xattr(&acl(&[(ACL_USER_OBJ, 8, 0), (ACL_GROUP_OBJ, 5, 0), (ACL_OTHER, 0, 0)])).err(), Some(Errno::EINVAL));
        let mut v = acl(&base);
        v[0] = 1;
        assert_eq!(PosixAcl::from_xattr(&v).err(), Some(Errno::EOPNOTSUPP));
        // Unnamed entries read back with the undefined id.
        let out = PosixAcl::from_xattr(&acl(&base)).unwrap().unwrap().to_xattr();
        assert_eq!(out, acl(&[(ACL_USER_OBJ, 7, u32::MAX), (ACL_GROUP_OBJ, 5, u32::MAX), (ACL_OTHER, 0, u32::MAX)]));
    }

    #[test]
    fn permission_goes_owner_named_user_groups_other() {
        let a = PosixAcl::from_xattr(&acl(&[
            (ACL_USER_OBJ, 6, 0),
            (ACL_USER, 7, 100),
            (ACL_USER, 4, 101),
            (ACL_GROUP_OBJ, 4, 0),
            (ACL_GROUP, 2, 200),
            (ACL_MASK, 6, 0),
            (ACL_OTHER, 1, 0),
        ]))
        .unwrap()
        .unwrap();
        let m = md(1, 50);
        // The owner's entry, unmasked.
        assert_eq!(a.permission(&creds(1, 9, &[]), &m, 6), Ok(()));
        // A named user's entry is masked (no x), whatever its groups say.
        assert_eq!(a.permission(&creds(100, 50, &[]), &m, 6), Ok(()));
        assert_eq!(a.permission(&creds(100, 9, &[]), &m, 1), Err(Errno::EACCES));
        assert_eq!(a.permission(&creds(101, 200, &[]), &m, 2), Err(Errno::EACCES));
        // Any matching group entry that grants all; else EACCES, not other's.
        assert_eq!(a.permission(&creds(5, 50, &[200]), &m, 4), Ok(()));
        assert_eq!(a.permission(&creds(5, 50, &[200]), &m, 2), Ok(()));
        assert_eq!(a.permission(&creds(5, 50, &[200]), &m, 6), Err(Errno::EACCES));
        assert_eq!(a.permission(&creds(5, 50, &[]), &m, 1), Err(Errno::EACCES));
        // Other's entry.
        assert_eq!(a.permission(&creds(5, 9, &[]), &m, 1), Ok(()));
        assert_eq!(a.permission(&creds(5, 9, &[]), &m, 4), Err(Errno::EACCES));
    }

    #[test]
    fn chmod_sets_the_mask_and_create_masks_by_the_mode() {
        let a = PosixAcl::from_xattr(&acl(&[(ACL_USER_OBJ, 7, 0), (ACL_USER, 7, 100), (ACL_GROUP_OBJ, 5, 0), (ACL_MASK, 7, 0), (ACL_OTHER, 5, 0)]))
            .unwrap()
            .unwrap();
        let c = a.chmod(0o640);
        let perms: Vec<u16> = c.entries().iter().map(|e| e.perm).collect();
        assert_eq!(perms, [6, 7, 5, 4, 0]);
        assert_eq!(c.equiv_mode(), (0o640, false));
        let plain = PosixAcl::from_mode(0o755).chmod(0o640);
        assert_eq!(plain.equiv_mode(), (0o640, true));
        // A new file asking 0666 under that default ACL.
        let (access, mode) = a.create_masq(0o100666);
        assert_eq!(mode, 0o100664);
        let perms: Vec<u16> = access.unwrap().entries().iter().map(|e| e.perm).collect();
        assert_eq!(perms, [6, 7, 5, 6, 4]);
        let (access, mode) = PosixAcl::from_mode(0o750).create_masq(0o40777);
        assert_eq!((access, mode), (None, 0o40750));
    }
}
