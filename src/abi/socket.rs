//! Sockets: address families, socket types, `SOL_SOCKET` options, message
//! flags, control-message types and the structures `sendmsg`/`recvmsg`
//! pass (Linux: include/linux/socket.h, include/uapi/asm-generic/socket.h,
//! include/uapi/linux/un.h, include/linux/net.h, include/net/scm.h).

// Linux's table; not every value is used yet.
#![allow(dead_code)]

use linux_raw_sys::net;

pub const AF_UNSPEC: u32 = net::AF_UNSPEC;
pub const AF_UNIX: u32 = net::AF_UNIX;
pub const AF_INET: u32 = net::AF_INET;
pub const AF_INET6: u32 = net::AF_INET6;
pub const AF_NETLINK: u32 = net::AF_NETLINK;
/// One past the largest address family (Linux's AF_MAX, NPROTO).
pub const AF_MAX: u32 = net::AF_MAX;

pub const SOCK_STREAM: u32 = net::SOCK_STREAM;
pub const SOCK_DGRAM: u32 = net::SOCK_DGRAM;
pub const SOCK_RAW: u32 = net::SOCK_RAW;
pub const SOCK_RDM: u32 = net::SOCK_RDM;
pub const SOCK_SEQPACKET: u32 = net::SOCK_SEQPACKET;
// Not in linux-raw-sys; from include/linux/net.h.
/// One past the largest socket type.
pub const SOCK_MAX: u32 = 11;
/// The bits of socket(2)'s type argument that are the type; the others
/// are flags.
pub const SOCK_TYPE_MASK: u32 = 0xf;
pub const SOCK_CLOEXEC: u32 = crate::abi::fcntl::O_CLOEXEC;
pub const SOCK_NONBLOCK: u32 = crate::abi::fcntl::O_NONBLOCK;

pub const SOL_SOCKET: i32 = net::SOL_SOCKET as i32;

pub const SO_DEBUG: i32 = net::SO_DEBUG as i32;
pub const SO_REUSEADDR: i32 = net::SO_REUSEADDR as i32;
pub const SO_TYPE: i32 = net::SO_TYPE as i32;
pub const SO_ERROR: i32 = net::SO_ERROR as i32;
pub const SO_DONTROUTE: i32 = net::SO_DONTROUTE as i32;
pub const SO_BROADCAST: i32 = net::SO_BROADCAST as i32;
pub const SO_SNDBUF: i32 = net::SO_SNDBUF as i32;
pub const SO_RCVBUF: i32 = net::SO_RCVBUF as i32;
pub const SO_SNDBUFFORCE: i32 = net::SO_SNDBUFFORCE as i32;
pub const SO_RCVBUFFORCE: i32 = net::SO_RCVBUFFORCE as i32;
pub const SO_KEEPALIVE: i32 = net::SO_KEEPALIVE as i32;
pub const SO_OOBINLINE: i32 = net::SO_OOBINLINE as i32;
pub const SO_NO_CHECK: i32 = net::SO_NO_CHECK as i32;
pub const SO_PRIORITY: i32 = net::SO_PRIORITY as i32;
pub const SO_LINGER: i32 = net::SO_LINGER as i32;
pub const SO_BSDCOMPAT: i32 = net::SO_BSDCOMPAT as i32;
pub const SO_REUSEPORT: i32 = net::SO_REUSEPORT as i32;
pub const SO_PASSCRED: i32 = net::SO_PASSCRED as i32;
pub const SO_PEERCRED: i32 = net::SO_PEERCRED as i32;
pub const SO_RCVLOWAT: i32 = net::SO_RCVLOWAT as i32;
pub const SO_SNDLOWAT: i32 = net::SO_SNDLOWAT as i32;
pub const SO_RCVTIMEO_OLD: i32 = net::SO_RCVTIMEO_OLD as i32;
pub const SO_SNDTIMEO_OLD: i32 = net::SO_SNDTIMEO_OLD as i32;
pub const SO_RCVTIMEO_NEW: i32 = net::SO_RCVTIMEO_NEW as i32;
pub const SO_SNDTIMEO_NEW: i32 = net::SO_SNDTIMEO_NEW as i32;
pub const SO_PEERNAME: i32 = net::SO_PEERNAME as i32;
pub const SO_ACCEPTCONN: i32 = net::SO_ACCEPTCONN as i32;
pub const SO_PEERSEC: i32 = net::SO_PEERSEC as i32;
pub const SO_PASSSEC: i32 = net::SO_PASSSEC as i32;
pub const SO_MARK: i32 = net::SO_MARK as i32;
pub const SO_PROTOCOL: i32 = net::SO_PROTOCOL as i32;
pub const SO_DOMAIN: i32 = net::SO_DOMAIN as i32;
pub const SO_PEEK_OFF: i32 = net::SO_PEEK_OFF as i32;
pub const SO_PASSPIDFD: i32 = net::SO_PASSPIDFD as i32;
pub const SO_PEERPIDFD: i32 = net::SO_PEERPIDFD as i32;
pub const SO_PASSRIGHTS: i32 = net::SO_PASSRIGHTS as i32;
pub const SO_BINDTODEVICE: i32 = net::SO_BINDTODEVICE as i32;

pub const SHUT_RD: i32 = net::SHUT_RD as i32;
pub const SHUT_WR: i32 = net::SHUT_WR as i32;
pub const SHUT_RDWR: i32 = net::SHUT_RDWR as i32;

pub const MSG_OOB: u32 = net::MSG_OOB;
pub const MSG_PEEK: u32 = net::MSG_PEEK;
pub const MSG_DONTROUTE: u32 = net::MSG_DONTROUTE;
pub const MSG_CTRUNC: u32 = net::MSG_CTRUNC;
pub const MSG_TRUNC: u32 = net::MSG_TRUNC;
pub const MSG_DONTWAIT: u32 = net::MSG_DONTWAIT;
pub const MSG_EOR: u32 = net::MSG_EOR;
pub const MSG_WAITALL: u32 = net::MSG_WAITALL;
pub const MSG_ERRQUEUE: u32 = net::MSG_ERRQUEUE;
pub const MSG_NOSIGNAL: u32 = net::MSG_NOSIGNAL;
pub const MSG_MORE: u32 = net::MSG_MORE;
pub const MSG_CMSG_CLOEXEC: u32 = net::MSG_CMSG_CLOEXEC;
// Not in linux-raw-sys; from include/linux/socket.h.
pub const MSG_WAITFORONE: u32 = 0x10000;
pub const MSG_BATCH: u32 = 0x40000;
pub const MSG_CMSG_COMPAT: u32 = 0x8000_0000;

pub const SCM_RIGHTS: i32 = net::SCM_RIGHTS as i32;
pub const SCM_CREDENTIALS: i32 = net::SCM_CREDENTIALS as i32;
// Not in linux-raw-sys; from include/net/scm.h.
/// The most fds one SCM_RIGHTS message may carry.
pub const SCM_MAX_FD: usize = 253;

/// sizeof(struct sockaddr_un): the family and 108 bytes of path.
pub const SOCKADDR_UN_SIZE: usize = 2 + net::UNIX_PATH_MAX as usize;
/// sizeof(struct sockaddr_storage): the largest address a call copies in.
pub const SOCKADDR_STORAGE_SIZE: usize = 128;

// Not in linux-raw-sys; from include/uapi/linux/sockios.h (equal to the
// tty ioctls FIONREAD and TIOCOUTQ).
pub const SIOCINQ: u32 = crate::abi::ioctl::FIONREAD;
pub const SIOCOUTQ: u32 = crate::abi::ioctl::TIOCOUTQ;

/// `struct ucred` (SO_PEERCRED, SCM_CREDENTIALS).
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Ucred {
    pub pid: i32,
    pub uid: u32,
    pub gid: u32,
}

/// `struct user_msghdr` (x86-64 layout, 56 bytes; the padding is spelled out).
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub struct MsgHdr {
    pub msg_name: u64,
    pub msg_namelen: i32,
    pub pad0: u32,
    pub msg_iov: u64,
    pub msg_iovlen: u64,
    pub msg_control: u64,
    pub msg_controllen: u64,
    pub msg_flags: u32,
    pub pad1: u32,
}

/// Offsets of the fields recvmsg writes back.
pub const MSGHDR_NAMELEN_OFFSET: u64 = 8;
pub const MSGHDR_CONTROLLEN_OFFSET: u64 = 40;
pub const MSGHDR_FLAGS_OFFSET: u64 = 48;

/// `struct mmsghdr`: a msghdr and the byte count of its message (64 bytes).
pub const MMSGHDR_SIZE: u64 = 64;
pub const MMSGHDR_LEN_OFFSET: u64 = 56;

/// `struct cmsghdr` (16 bytes): cmsg_len is a size_t.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub struct CmsgHdr {
    pub cmsg_len: u64,
    pub cmsg_level: i32,
    pub cmsg_type: i32,
}

pub const CMSG_HDR_SIZE: usize = size_of::<CmsgHdr>();

/// CMSG_ALIGN: control messages are aligned to a size_t. None on overflow.
pub fn cmsg_align(len: u64) -> Option<u64> {
    Some(len.checked_add(7)? & !7)
}

/// CMSG_LEN(n): a header and n bytes of data.
pub const fn cmsg_len(n: usize) -> usize {
    CMSG_HDR_SIZE + n
}

/// CMSG_SPACE(n): CMSG_LEN rounded up to the alignment.
pub const fn cmsg_space(n: usize) -> usize {
    CMSG_HDR_SIZE + ((n + 7) & !7)
}
