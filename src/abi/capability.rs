//! Capabilities and securebits (Linux: include/uapi/linux/capability.h,
//! include/uapi/linux/securebits.h).

// Linux's table; not every value is used yet.
#![allow(dead_code)]

use linux_raw_sys::general;

pub const CAP_CHOWN: u32 = general::CAP_CHOWN;
pub const CAP_DAC_OVERRIDE: u32 = general::CAP_DAC_OVERRIDE;
pub const CAP_DAC_READ_SEARCH: u32 = general::CAP_DAC_READ_SEARCH;
pub const CAP_FOWNER: u32 = general::CAP_FOWNER;
pub const CAP_FSETID: u32 = general::CAP_FSETID;
pub const CAP_KILL: u32 = general::CAP_KILL;
pub const CAP_SETGID: u32 = general::CAP_SETGID;
pub const CAP_SETUID: u32 = general::CAP_SETUID;
pub const CAP_SETPCAP: u32 = general::CAP_SETPCAP;
pub const CAP_LINUX_IMMUTABLE: u32 = general::CAP_LINUX_IMMUTABLE;
pub const CAP_NET_BIND_SERVICE: u32 = general::CAP_NET_BIND_SERVICE;
pub const CAP_IPC_LOCK: u32 = general::CAP_IPC_LOCK;
pub const CAP_SYS_CHROOT: u32 = general::CAP_SYS_CHROOT;
pub const CAP_SYS_PTRACE: u32 = general::CAP_SYS_PTRACE;
pub const CAP_SYS_PACCT: u32 = general::CAP_SYS_PACCT;
pub const CAP_SYS_ADMIN: u32 = general::CAP_SYS_ADMIN;
pub const CAP_SYS_NICE: u32 = general::CAP_SYS_NICE;
pub const CAP_SYS_RESOURCE: u32 = general::CAP_SYS_RESOURCE;
pub const CAP_SYS_TIME: u32 = general::CAP_SYS_TIME;
pub const CAP_MKNOD: u32 = general::CAP_MKNOD;
pub const CAP_MAC_OVERRIDE: u32 = general::CAP_MAC_OVERRIDE;
pub const CAP_SYSLOG: u32 = general::CAP_SYSLOG;
pub const CAP_LAST_CAP: u32 = general::CAP_LAST_CAP;

pub const LINUX_CAPABILITY_VERSION_1: u32 = general::_LINUX_CAPABILITY_VERSION_1;
pub const LINUX_CAPABILITY_VERSION_2: u32 = general::_LINUX_CAPABILITY_VERSION_2;
pub const LINUX_CAPABILITY_VERSION_3: u32 = general::_LINUX_CAPABILITY_VERSION_3;

/// `struct __user_cap_header_struct`.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub struct CapUserHeader {
    pub version: u32,
    pub pid: i32,
}

/// `struct __user_cap_data_struct`: one 32-bit word of each set.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub struct CapUserData {
    pub effective: u32,
    pub permitted: u32,
    pub inheritable: u32,
}

// securebits.h: each bit and its lock (the bit above it).
pub const SECURE_NOROOT: u32 = 0;
pub const SECURE_NO_SETUID_FIXUP: u32 = 2;
pub const SECURE_KEEP_CAPS: u32 = 4;
pub const SECURE_NO_CAP_AMBIENT_RAISE: u32 = 6;
/// SECBIT_NOROOT | SECBIT_NO_SETUID_FIXUP | SECBIT_KEEP_CAPS | SECBIT_NO_CAP_AMBIENT_RAISE.
pub const SECURE_ALL_BITS: u32 = 0x55;
pub const SECURE_ALL_LOCKS: u32 = SECURE_ALL_BITS << 1;
pub const SECURE_KEEP_CAPS_LOCKED: u32 = 5;
