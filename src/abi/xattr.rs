//! Extended attributes (Linux: include/uapi/linux/xattr.h): setxattr flags
//! and the namespace prefixes, without linux-raw-sys's trailing NULs.

use linux_raw_sys::general;

pub const XATTR_CREATE: u32 = general::XATTR_CREATE;
pub const XATTR_REPLACE: u32 = general::XATTR_REPLACE;

fn prefix(p: &'static [u8]) -> &'static [u8] {
    p.strip_suffix(b"\0").unwrap_or(p)
}

pub fn security_prefix() -> &'static [u8] {
    prefix(general::XATTR_SECURITY_PREFIX)
}
pub fn system_prefix() -> &'static [u8] {
    prefix(general::XATTR_SYSTEM_PREFIX)
}
pub fn trusted_prefix() -> &'static [u8] {
    prefix(general::XATTR_TRUSTED_PREFIX)
}
pub fn user_prefix() -> &'static [u8] {
    prefix(general::XATTR_USER_PREFIX)
}

#[cfg(test)]
mod tests {
    #[test]
    fn prefixes_end_with_a_dot() {
        assert_eq!(super::user_prefix(), b"user.");
        assert_eq!(super::trusted_prefix(), b"trusted.");
        assert_eq!(super::security_prefix(), b"security.");
        assert_eq!(super::system_prefix(), b"system.");
    }
}
