//! Machine-wide kernel settings a guest reads and, as guest root, changes:
//! the UTS names (sethostname, setdomainname), core_pattern and
//! core_uses_pid, randomize_va_space. They are the guest kernel's own: a
//! change here never reaches the host. /proc/sys shows and writes them;
//! each subsystem reads the one it obeys (uname, the core dump writer,
//! exec's address-space layout).

use parking_lot::Mutex;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

/// __NEW_UTS_LEN: names are at most 64 bytes.
pub const UTS_NAME_LEN: usize = 64;

/// Linux's CORENAME_MAX_SIZE: core_pattern is at most 127 bytes.
pub const CORENAME_MAX_SIZE: usize = 128;

pub struct Sysctl {
    hostname: Mutex<Vec<u8>>,
    domainname: Mutex<Vec<u8>>,
    core_pattern: Mutex<Vec<u8>>,
    core_uses_pid: AtomicU32,
    randomize_va_space: AtomicU32,
    dmesg_restrict: AtomicU32,
    memfd_noexec: AtomicU32,
    boot_id: [u8; 16],
}

fn sysctl() -> &'static Sysctl {
    static SYSCTL: OnceLock<Sysctl> = OnceLock::new();
    SYSCTL.get_or_init(|| {
        let mut boot_id = [0u8; 16];
        let _ = crate::platform::host::system::fill_random(&mut boot_id);
        Sysctl {
            hostname: Mutex::new(crate::platform::host::system::hostname()),
            domainname: Mutex::new(b"(none)".to_vec()),
            core_pattern: Mutex::new(b"core".to_vec()),
            core_uses_pid: AtomicU32::new(0),
            randomize_va_space: AtomicU32::new(2),
            // As the host is configured, so that syslog answers a user as
            // it would natively.
            dmesg_restrict: AtomicU32::new(crate::platform::host::system::kernel_sysctl("dmesg_restrict").unwrap_or(1) as u32),
            // Linux's default (MEMFD_NOEXEC_SCOPE_EXEC); the guest is its
            // own initial pid namespace, so it starts from 0 whatever the host's.
            memfd_noexec: AtomicU32::new(0),
            boot_id,
        }
    })
}

/// vm.memfd_noexec: 0, a memfd made with neither MFD_EXEC nor
/// MFD_NOEXEC_SEAL is MFD_EXEC's; 1, it is MFD_NOEXEC_SEAL's; 2, and
/// MFD_EXEC is refused.
pub fn memfd_noexec() -> u32 {
    sysctl().memfd_noexec.load(Ordering::Relaxed)
}

pub fn set_memfd_noexec(value: u32) {
    sysctl().memfd_noexec.store(value, Ordering::Relaxed)
}

pub fn hostname() -> Vec<u8> {
    sysctl().hostname.lock().clone()
}

/// Callers check the length (EINVAL past UTS_NAME_LEN) and CAP_SYS_ADMIN.
pub fn set_hostname(name: &[u8]) {
    *sysctl().hostname.lock() = name.to_vec();
}

pub fn domainname() -> Vec<u8> {
    sysctl().domainname.lock().clone()
}

pub fn set_domainname(name: &[u8]) {
    *sysctl().domainname.lock() = name.to_vec();
}

pub fn core_pattern() -> Vec<u8> {
    sysctl().core_pattern.lock().clone()
}

pub fn set_core_pattern(pattern: &[u8]) {
    *sysctl().core_pattern.lock() = pattern.to_vec();
}

pub fn core_uses_pid() -> bool {
    sysctl().core_uses_pid.load(Ordering::Relaxed) != 0
}

pub fn set_core_uses_pid(value: u32) {
    sysctl().core_uses_pid.store(value, Ordering::Relaxed)
}

/// 0: no randomisation; 1: stack, mmap base, vDSO and PIE base; 2: the
/// heap (brk) as well (Linux's default).
pub fn randomize_va_space() -> u32 {
    sysctl().randomize_va_space.load(Ordering::Relaxed)
}

pub fn set_randomize_va_space(value: u32) {
    sysctl().randomize_va_space.store(value, Ordering::Relaxed)
}

/// Only CAP_SYSLOG may read the kernel log (kernel.dmesg_restrict).
pub fn dmesg_restrict() -> bool {
    sysctl().dmesg_restrict.load(Ordering::Relaxed) != 0
}

pub fn set_dmesg_restrict(value: u32) {
    sysctl().dmesg_restrict.store(value, Ordering::Relaxed)
}

/// This boot's random id (/proc/sys/kernel/random/boot_id).
pub fn boot_id() -> [u8; 16] {
    sysctl().boot_id
}

/// A random version 4 UUID in Linux's text form.
pub fn uuid_text(mut bytes: [u8; 16]) -> String {
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{}-{}-{}-{}", hex[..4].concat(), hex[4..6].concat(), hex[6..8].concat(), hex[8..10].concat(), hex[10..].concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_have_linux_form() {
        let u = uuid_text([0xff; 16]);
        assert_eq!(u, "ffffffff-ffff-4fff-bfff-ffffffffffff");
        assert_eq!(u.len(), 36);
    }
}
