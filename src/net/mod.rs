//! Sockets (Linux's net/socket.c and net/core/sock.c): the `Socket` trait
//! an address family implements, the socket file and its sockfs inode, the
//! SOL_SOCKET options every socket keeps, socket timeouts, and the data and
//! control types sendmsg/recvmsg exchange with the system call layer.
//! Never names the task layer: fds become files (and back) in
//! syscall/socket.rs. Families: `unix` (AF_UNIX); every other family is
//! EAFNOSUPPORT.

pub mod unix;

use parking_lot::Mutex;
use std::any::Any;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use crate::abi::fcntl::{O_NONBLOCK, O_RDWR};
use crate::abi::socket::*;
use crate::abi::stat::S_IFSOCK;
use crate::abi::statfs::SOCKFS_MAGIC;
use crate::abi::{Errno, KResult, PAGE_SIZE, StatFs, Timeval};
use crate::fs::file::{File, FileOps};
use crate::fs::inode::{Inode, InodeRef, Metadata, SetAttr};
use crate::fs::lookup::FsCaller;
use crate::fs::new_anon_dev;
use crate::mm::uaccess::UserBuffers;
use crate::sched::CurrentTask;
use crate::sched::wait::WaitQueue;

// ---- limits ----

/// The network sysctls sockets obey, read from the host once so that a
/// guest sees the numbers a native program would (Linux's defaults when
/// the host's cannot be read).
pub struct NetLimits {
    /// net.core.wmem_default / rmem_default: a new socket's buffers.
    pub wmem_default: i32,
    pub rmem_default: i32,
    /// net.core.wmem_max / rmem_max: what SO_SNDBUF/SO_RCVBUF may ask.
    pub wmem_max: i32,
    pub rmem_max: i32,
    /// net.core.somaxconn: the largest listen backlog.
    pub somaxconn: i32,
    /// net.core.optmem_max: the largest control buffer sendmsg copies.
    pub optmem_max: usize,
    /// net.unix.max_dgram_qlen: datagrams a receiver queues from senders
    /// it is not connected back to.
    pub max_dgram_qlen: usize,
}

pub fn limits() -> &'static NetLimits {
    static LIMITS: OnceLock<NetLimits> = OnceLock::new();
    LIMITS.get_or_init(|| {
        use crate::platform::host::system::net_sysctl;
        let int = |name: &str, default: i64| net_sysctl(name).unwrap_or(default).clamp(0, i32::MAX as i64);
        NetLimits {
            wmem_default: int("core/wmem_default", 212_992) as i32,
            rmem_default: int("core/rmem_default", 212_992) as i32,
            wmem_max: int("core/wmem_max", 212_992) as i32,
            rmem_max: int("core/rmem_max", 212_992) as i32,
            somaxconn: int("core/somaxconn", 4096) as i32,
            optmem_max: int("core/optmem_max", 131_072) as usize,
            max_dgram_qlen: int("unix/max_dgram_qlen", 10) as usize,
        }
    })
}

/// Linux's SOCK_MIN_SNDBUF and SOCK_MIN_RCVBUF (2 and 1 times
/// TCP_SKB_MIN_TRUESIZE on x86-64).
pub const SOCK_MIN_SNDBUF: i32 = 4608;
pub const SOCK_MIN_RCVBUF: i32 = 2304;

// ---- timeouts ----

/// The clock tick socket timeouts are counted in (the host's CONFIG_HZ
/// on common distribution kernels): SO_RCVTIMEO rounds up to it and
/// reads back in whole ticks, as on Linux.
pub const HZ: i64 = 250;
const USEC_PER_SEC: i64 = 1_000_000;
/// Linux's MAX_SCHEDULE_TIMEOUT: no timeout.
const MAX_SCHEDULE_TIMEOUT: i64 = i64::MAX;

/// A socket timeout as Linux keeps it: ticks, where 0 means "do not
/// wait" and MAX_SCHEDULE_TIMEOUT means "no timeout".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeo(i64);

impl Timeo {
    pub const NEVER: Timeo = Timeo(MAX_SCHEDULE_TIMEOUT);
    pub const NOW: Timeo = Timeo(0);

    /// Linux's sock_set_timeout: EDOM for a bad tv_usec; a negative
    /// tv_sec is a zero timeout (the call never waits); {0, 0} is none.
    pub fn from_timeval(tv: &Timeval) -> KResult<Timeo> {
        if tv.tv_usec < 0 || tv.tv_usec >= USEC_PER_SEC {
            return Err(Errno::EDOM);
        }
        if tv.tv_sec < 0 {
            return Ok(Timeo::NOW);
        }
        if (tv.tv_sec != 0 || tv.tv_usec != 0) && tv.tv_sec < MAX_SCHEDULE_TIMEOUT / HZ - 1 {
            let per_tick = USEC_PER_SEC / HZ;
            return Ok(Timeo(tv.tv_sec * HZ + (tv.tv_usec + per_tick - 1) / per_tick));
        }
        Ok(Timeo::NEVER)
    }

    /// Linux's sock_get_timeout.
    pub fn to_timeval(self) -> Timeval {
        if self == Timeo::NEVER {
            return Timeval { tv_sec: 0, tv_usec: 0 };
        }
        Timeval { tv_sec: self.0 / HZ, tv_usec: (self.0 % HZ) * USEC_PER_SEC / HZ }
    }

    pub fn is_now(self) -> bool {
        self.0 == 0
    }

    /// When a wait that starts now ends (None: never).
    pub fn deadline(self) -> Option<Instant> {
        if self == Timeo::NEVER {
            return None;
        }
        crate::sched::time::Deadline::after_ns(self.0.saturating_mul(1_000_000_000 / HZ)).instant()
    }

    /// Linux's sock_intr_errno: a wait without a timeout may be restarted
    /// (SA_RESTART); one with a timeout fails with EINTR.
    pub fn intr_errno(self) -> Errno {
        if self == Timeo::NEVER { Errno::ERESTARTSYS } else { Errno::EINTR }
    }
}

// ---- options ----

/// The SOL_SOCKET options every socket keeps (Linux's fields of struct
/// sock that sk_setsockopt/sk_getsockopt manage).
#[derive(Clone, Debug)]
pub struct SockOptions {
    pub sndbuf: i32,
    pub rcvbuf: i32,
    pub rcvtimeo: Timeo,
    pub sndtimeo: Timeo,
    pub rcvlowat: i32,
    /// SO_PEEK_OFF; -1 when off.
    pub peek_off: i32,
    pub passcred: bool,
    pub passpidfd: bool,
    pub passsec: bool,
    pub passrights: bool,
    pub debug: bool,
    pub reuseaddr: bool,
    pub keepalive: bool,
    pub broadcast: bool,
    pub dontroute: bool,
    pub oobinline: bool,
    pub no_check: bool,
    pub priority: i32,
    /// SO_LINGER: on, seconds.
    pub linger: (bool, i32),
}

impl Default for SockOptions {
    fn default() -> SockOptions {
        let l = limits();
        SockOptions {
            sndbuf: l.wmem_default,
            rcvbuf: l.rmem_default,
            rcvtimeo: Timeo::NEVER,
            sndtimeo: Timeo::NEVER,
            rcvlowat: 1,
            peek_off: -1,
            passcred: false,
            passpidfd: false,
            passsec: false,
            passrights: true,
            debug: false,
            reuseaddr: false,
            keepalive: false,
            broadcast: false,
            dontroute: false,
            oobinline: false,
            no_check: false,
            priority: 0,
            linger: (false, 0),
        }
    }
}

/// A setsockopt value in guest memory: `len` bytes, read on demand (Linux
/// copies only as much as the option needs, so EFAULT depends on it).
pub struct OptVal<'a> {
    pub len: usize,
    pub read: &'a dyn Fn(usize) -> KResult<Vec<u8>>,
}

/// A setsockopt value as read from the guest: the int every option
/// starts with, and the larger structures a few take (Linux's
/// sk_setsockopt copies them before taking the socket lock; so does this).
pub struct OptArg {
    pub int: i32,
    pub linger: Option<(i32, i32)>,
    pub timeval: Option<Timeval>,
    /// SO_BINDTODEVICE's interface name.
    pub device: Option<Vec<u8>>,
}

impl OptArg {
    /// Reads what option `name` needs, in Linux's order of errors: EINVAL
    /// for a value shorter than an int, EFAULT, then the structure's own
    /// size (EINVAL) and copy (EFAULT).
    pub fn read(name: i32, val: &OptVal<'_>) -> KResult<OptArg> {
        if name == SO_BINDTODEVICE {
            let device = (val.read)(val.len.min(16))?;
            return Ok(OptArg { int: 0, linger: None, timeval: None, device: Some(device) });
        }
        if val.len < 4 {
            return Err(Errno::EINVAL);
        }
        let b = (val.read)(4)?;
        let int = i32::from_ne_bytes([b[0], b[1], b[2], b[3]]);
        let mut arg = OptArg { int, linger: None, timeval: None, device: None };
        match name {
            SO_LINGER => {
                if val.len < 8 {
                    return Err(Errno::EINVAL);
                }
                let b = (val.read)(8)?;
                arg.linger = Some((i32::from_ne_bytes([b[0], b[1], b[2], b[3]]), i32::from_ne_bytes([b[4], b[5], b[6], b[7]])));
            }
            SO_RCVTIMEO_OLD | SO_RCVTIMEO_NEW | SO_SNDTIMEO_OLD | SO_SNDTIMEO_NEW => {
                if val.len < size_of::<Timeval>() {
                    return Err(Errno::EINVAL);
                }
                let b = (val.read)(16)?;
                let word = |i: usize| i64::from_ne_bytes([b[i], b[i + 1], b[i + 2], b[i + 3], b[i + 4], b[i + 5], b[i + 6], b[i + 7]]);
                arg.timeval = Some(Timeval { tv_sec: word(0), tv_usec: word(8) });
            }
            _ => {}
        }
        Ok(arg)
    }
}

/// What getsockopt copies out: the value truncated to the caller's length
/// (Linux: "if (len > lv) len = lv").
pub fn opt_bytes(value: &[u8], len: usize) -> Vec<u8> {
    value[..value.len().min(len)].to_vec()
}

fn int_bytes(v: i32) -> Vec<u8> {
    v.to_ne_bytes().to_vec()
}

impl SockOptions {
    /// Linux's sk_setsockopt for the options every socket keeps (the
    /// protocol answered SO_TYPE and the like before). `privileged`:
    /// CAP_NET_ADMIN (and CAP_NET_RAW). Returns whether the send buffer
    /// changed, so that blocked writers are woken.
    pub fn set(&mut self, name: i32, arg: &OptArg, privileged: bool) -> KResult<bool> {
        if let Some(device) = &arg.device {
            // No network devices: an empty name unbinds, anything else
            // names a device that does not exist.
            if !privileged {
                return Err(Errno::EPERM);
            }
            return if device.first().is_none_or(|&c| c == 0) { Ok(false) } else { Err(Errno::ENODEV) };
        }
        let v = arg.int;
        let on = v != 0;
        match name {
            SO_TYPE | SO_PROTOCOL | SO_DOMAIN | SO_ERROR => return Err(Errno::ENOPROTOOPT),
            SO_DEBUG if on && !privileged => return Err(Errno::EACCES),
            SO_DEBUG => self.debug = on,
            SO_REUSEADDR => self.reuseaddr = on,
            // Linux 6.9+: only inet sockets share ports.
            SO_REUSEPORT if on => return Err(Errno::EOPNOTSUPP),
            SO_REUSEPORT => {}
            SO_DONTROUTE => self.dontroute = on,
            SO_BROADCAST => self.broadcast = on,
            SO_SNDBUF => {
                self.set_sndbuf((v as u32).min(limits().wmem_max as u32) as i64);
                return Ok(true);
            }
            SO_SNDBUFFORCE if !privileged => return Err(Errno::EPERM),
            SO_SNDBUFFORCE => {
                self.set_sndbuf(v.max(0) as i64);
                return Ok(true);
            }
            SO_RCVBUF => self.set_rcvbuf((v as u32).min(limits().rmem_max as u32) as i64),
            SO_RCVBUFFORCE if !privileged => return Err(Errno::EPERM),
            SO_RCVBUFFORCE => self.set_rcvbuf(v.max(0) as i64),
            SO_KEEPALIVE => self.keepalive = on,
            SO_OOBINLINE => self.oobinline = on,
            SO_NO_CHECK => self.no_check = on,
            SO_PRIORITY if !(0..=6).contains(&v) && !privileged => return Err(Errno::EPERM),
            SO_PRIORITY => self.priority = v,
            SO_LINGER => {
                let (onoff, secs) = arg.linger.unwrap_or((0, 0));
                self.linger = if onoff == 0 { (false, self.linger.1) } else { (true, secs.max(0)) };
            }
            SO_BSDCOMPAT => {}
            SO_PASSCRED => self.passcred = on,
            SO_PASSPIDFD => self.passpidfd = on,
            SO_PASSSEC => self.passsec = on,
            SO_PASSRIGHTS => self.passrights = on,
            SO_RCVLOWAT => {
                let v = if v < 0 { i32::MAX } else { v };
                self.rcvlowat = if v == 0 { 1 } else { v };
            }
            SO_RCVTIMEO_OLD | SO_RCVTIMEO_NEW => self.rcvtimeo = Timeo::from_timeval(&arg.timeval.unwrap_or_default())?,
            SO_SNDTIMEO_OLD | SO_SNDTIMEO_NEW => self.sndtimeo = Timeo::from_timeval(&arg.timeval.unwrap_or_default())?,
            SO_PEEK_OFF => self.peek_off = v,
            SO_MARK if !privileged => return Err(Errno::EPERM),
            SO_MARK => {}
            _ => return Err(Errno::ENOPROTOOPT),
        }
        Ok(false)
    }

    /// Linux doubles the size asked for (for struct sk_buff overhead) and
    /// keeps it within [SOCK_MIN_SNDBUF, INT_MAX].
    fn set_sndbuf(&mut self, v: i64) {
        let v = v.min(i32::MAX as i64 / 2);
        self.sndbuf = (v * 2).max(SOCK_MIN_SNDBUF as i64) as i32;
    }

    fn set_rcvbuf(&mut self, v: i64) {
        let v = v.min(i32::MAX as i64 / 2);
        self.rcvbuf = (v * 2).max(SOCK_MIN_RCVBUF as i64) as i32;
    }

    /// Linux's sk_getsockopt for the stored options: the value before
    /// truncation to the caller's length; None for options the protocol
    /// answers or that do not exist.
    pub fn get(&self, name: i32) -> Option<Vec<u8>> {
        let b = |v: bool| int_bytes(v as i32);
        Some(match name {
            SO_DEBUG => b(self.debug),
            SO_DONTROUTE => b(self.dontroute),
            SO_BROADCAST => b(self.broadcast),
            SO_SNDBUF => int_bytes(self.sndbuf),
            SO_RCVBUF => int_bytes(self.rcvbuf),
            SO_REUSEADDR => b(self.reuseaddr),
            SO_REUSEPORT => b(false),
            SO_KEEPALIVE => b(self.keepalive),
            SO_OOBINLINE => b(self.oobinline),
            SO_NO_CHECK => b(self.no_check),
            SO_PRIORITY => int_bytes(self.priority),
            SO_LINGER => {
                let mut v = int_bytes(self.linger.0 as i32);
                v.extend_from_slice(&self.linger.1.to_ne_bytes());
                v
            }
            SO_BSDCOMPAT => int_bytes(0),
            SO_RCVTIMEO_OLD | SO_RCVTIMEO_NEW => timeval_bytes(self.rcvtimeo.to_timeval()),
            SO_SNDTIMEO_OLD | SO_SNDTIMEO_NEW => timeval_bytes(self.sndtimeo.to_timeval()),
            SO_RCVLOWAT => int_bytes(self.rcvlowat),
            SO_SNDLOWAT => int_bytes(1),
            SO_PASSCRED => b(self.passcred),
            SO_PASSPIDFD => b(self.passpidfd),
            SO_PASSSEC => b(self.passsec),
            SO_PASSRIGHTS => b(self.passrights),
            SO_PEEK_OFF => int_bytes(self.peek_off),
            SO_MARK => int_bytes(0),
            _ => return None,
        })
    }
}

fn timeval_bytes(tv: Timeval) -> Vec<u8> {
    let mut v = tv.tv_sec.to_ne_bytes().to_vec();
    v.extend_from_slice(&tv.tv_usec.to_ne_bytes());
    v
}

/// `struct ucred` bytes.
pub fn ucred_bytes(c: &Ucred) -> Vec<u8> {
    let mut v = c.pid.to_ne_bytes().to_vec();
    v.extend_from_slice(&c.uid.to_ne_bytes());
    v.extend_from_slice(&c.gid.to_ne_bytes());
    v
}

// ---- message data ----

/// Where sent bytes come from: guest buffers (sendmsg) or a kernel buffer
/// (write through the VFS).
pub trait DataSource {
    fn len(&self) -> usize;
    /// `len` bytes from `offset`; EFAULT for a bad guest buffer.
    fn read(&self, offset: usize, len: usize) -> KResult<Vec<u8>>;
}

/// Where received bytes go.
pub trait DataSink {
    fn len(&self) -> usize;
    fn write(&mut self, offset: usize, data: &[u8]) -> KResult<()>;
}

impl DataSource for UserBuffers {
    fn len(&self) -> usize {
        UserBuffers::len(self)
    }
    fn read(&self, offset: usize, len: usize) -> KResult<Vec<u8>> {
        self.copy_in(offset, len)
    }
}

impl DataSink for UserBuffers {
    fn len(&self) -> usize {
        UserBuffers::len(self)
    }
    fn write(&mut self, offset: usize, data: &[u8]) -> KResult<()> {
        self.copy_out(offset, data)
    }
}

struct KernelSource<'a>(&'a [u8]);

impl DataSource for KernelSource<'_> {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn read(&self, offset: usize, len: usize) -> KResult<Vec<u8>> {
        Ok(self.0[offset..offset + len].to_vec())
    }
}

struct KernelSink<'a>(&'a mut [u8]);

impl DataSink for KernelSink<'_> {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn write(&mut self, offset: usize, data: &[u8]) -> KResult<()> {
        self.0[offset..offset + data.len()].copy_from_slice(data);
        Ok(())
    }
}

/// The control data of one send, decoded by the system call layer
/// (Linux's scm_cookie): the files of SCM_RIGHTS and the credentials of
/// SCM_CREDENTIALS (already checked against the sender's).
#[derive(Default)]
pub struct Scm {
    pub rights: Vec<Arc<File>>,
    pub creds: Option<Ucred>,
}

/// One sendmsg as a protocol sees it.
pub struct SendMsg<'a> {
    pub data: &'a dyn DataSource,
    /// The destination (msg_name; None when msg_namelen is 0).
    pub name: Option<&'a [u8]>,
    /// MSG_* flags, MSG_DONTWAIT included for a non-blocking file.
    pub flags: u32,
    /// Decodes the control messages when the protocol reaches the point
    /// where Linux calls scm_send, so its errors come in Linux's order.
    pub scm: &'a mut dyn FnMut() -> KResult<Scm>,
    /// The caller, for resolving a destination path.
    pub caller: Option<&'a dyn FsCaller>,
}

/// What one recvmsg hands back for the system call layer to encode.
#[derive(Default)]
pub struct Received {
    /// The call's result (MSG_TRUNC: the datagram's full length).
    pub len: usize,
    /// Bits for msg_flags (MSG_TRUNC).
    pub flags: u32,
    /// The source address (empty: none, msg_namelen 0).
    pub name: Vec<u8>,
    /// SCM_CREDENTIALS to deliver (the receiver has SO_PASSCRED).
    pub creds: Option<Ucred>,
    /// SCM_RIGHTS to deliver.
    pub rights: Option<Vec<Arc<File>>>,
}

// ---- sockets ----

/// A socket of some family (Linux's proto_ops). Methods answer for the
/// calling task (`sched::current`) where Linux uses `current`.
pub trait Socket: Send + Sync + Any {
    fn family(&self) -> i32;
    fn sock_type(&self) -> i32;
    fn inode(&self) -> InodeRef;
    fn bind(&self, caller: &dyn FsCaller, addr: &[u8]) -> KResult<()>;
    fn connect(&self, caller: &dyn FsCaller, addr: &[u8], nonblock: bool) -> KResult<()>;
    fn listen(&self, backlog: i32) -> KResult<()>;
    fn accept(&self, nonblock: bool) -> KResult<Arc<dyn Socket>>;
    /// The local (or with `peer` the remote) address (Linux's getname).
    fn getname(&self, peer: bool) -> KResult<Vec<u8>>;
    fn shutdown(&self, how: i32) -> KResult<()>;
    fn sendmsg(&self, msg: SendMsg<'_>) -> KResult<usize>;
    fn recvmsg(&self, out: &mut dyn DataSink, flags: u32, want_name: bool) -> KResult<Received>;
    fn setsockopt(&self, level: i32, name: i32, val: &OptVal<'_>) -> KResult<()>;
    /// The bytes getsockopt copies out for a caller's buffer of `len`.
    fn getsockopt(&self, level: i32, name: i32, len: usize) -> KResult<Vec<u8>>;
    fn poll(&self) -> u16;
    fn wait_queue(&self) -> &WaitQueue;
    fn event_count(&self) -> u64;
    fn ioctl(&self, caller: &dyn CurrentTask, cmd: u32, arg: u64) -> KResult<u64>;
    /// Linux's sock_error: takes the pending error.
    fn take_error(&self) -> Option<Errno>;
    /// Records an error for the next call (recvmmsg after a partial batch).
    fn set_error(&self, err: Errno);
    /// The socket's file was closed (Linux's release).
    fn release(&self);
}

/// socket(2) after the flag bits are split off: EAFNOSUPPORT for every
/// family but AF_UNIX (Linux's __sock_create order: family, then type).
pub fn create(family: i32, sock_type: u32, protocol: i32) -> KResult<Arc<dyn Socket>> {
    if family < 0 || family as u32 >= AF_MAX {
        return Err(Errno::EAFNOSUPPORT);
    }
    if sock_type >= SOCK_MAX {
        return Err(Errno::EINVAL);
    }
    match family as u32 {
        AF_UNIX => Ok(unix::UnixSocket::create(sock_type, protocol)?),
        _ => Err(Errno::EAFNOSUPPORT),
    }
}

/// socketpair(2): two connected sockets (EOPNOTSUPP for a family without
/// pairs).
pub fn create_pair(family: i32, sock_type: u32, protocol: i32) -> KResult<(Arc<dyn Socket>, Arc<dyn Socket>)> {
    if family < 0 || family as u32 >= AF_MAX {
        return Err(Errno::EAFNOSUPPORT);
    }
    if sock_type >= SOCK_MAX {
        return Err(Errno::EINVAL);
    }
    match family as u32 {
        AF_UNIX => {
            let (a, b) = unix::UnixSocket::pair(sock_type, protocol)?;
            Ok((a, b))
        }
        _ => Err(Errno::EAFNOSUPPORT),
    }
}

/// The open file of a socket (Linux's socket_file_ops): read and write are
/// recvmsg and sendmsg without addresses or control data.
pub struct SocketFile {
    sock: Arc<dyn Socket>,
}

impl SocketFile {
    pub fn socket(&self) -> &Arc<dyn Socket> {
        &self.sock
    }
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        self.sock.release();
    }
}

/// A file for `sock`; `flags` may hold O_NONBLOCK (SOCK_NONBLOCK).
pub fn socket_file(sock: Arc<dyn Socket>, flags: u32) -> Arc<File> {
    let inode = sock.inode();
    File::new(inode, None, Arc::new(SocketFile { sock }), O_RDWR | (flags & O_NONBLOCK))
}

/// The socket behind a file, if it is one (ENOTSOCK otherwise).
pub fn socket_of(file: &File) -> KResult<&Arc<dyn Socket>> {
    file.ops.as_any().and_then(|a| a.downcast_ref::<SocketFile>()).map(SocketFile::socket).ok_or(Errno::ENOTSOCK)
}

impl FileOps for SocketFile {
    /// Linux's sock_read_iter: a zero-length read returns 0 at once.
    fn read(&self, file: &File, buf: &mut [u8], _pos: &mut u64) -> KResult<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let flags = if file.nonblocking() { MSG_DONTWAIT } else { 0 };
        let r = self.sock.recvmsg(&mut KernelSink(buf), flags, false)?;
        Ok(r.len)
    }

    fn write(&self, file: &File, buf: &[u8], _pos: &mut u64) -> KResult<usize> {
        let mut flags = if file.nonblocking() { MSG_DONTWAIT } else { 0 };
        if self.sock.sock_type() == SOCK_SEQPACKET as i32 {
            flags |= MSG_EOR;
        }
        let mut no_control = || Ok(Scm::default());
        self.sock.sendmsg(SendMsg { data: &KernelSource(buf), name: None, flags, scm: &mut no_control, caller: None })
    }

    fn seekable(&self) -> bool {
        false
    }

    fn is_stream(&self) -> bool {
        true
    }

    fn ioctl(&self, _file: &File, caller: &dyn CurrentTask, cmd: u32, arg: u64) -> KResult<u64> {
        self.sock.ioctl(caller, cmd, arg)
    }

    fn poll(&self, _file: &File) -> u16 {
        self.sock.poll()
    }

    fn wait_queue(&self) -> Option<&WaitQueue> {
        Some(self.sock.wait_queue())
    }

    fn event_count(&self) -> Option<u64> {
        Some(self.sock.event_count())
    }

    fn as_any(&self) -> Option<&dyn Any> {
        Some(self)
    }

    fn size(&self, _file: &File) -> KResult<u64> {
        Ok(0)
    }
}

// ---- sockfs ----

fn sockfs_dev() -> u64 {
    static DEV: OnceLock<u64> = OnceLock::new();
    *DEV.get_or_init(new_anon_dev)
}

static NEXT_INO: AtomicU64 = AtomicU64::new(1);

/// A socket's inode on sockfs: S_IFSOCK 0777, owned by its creator,
/// "socket:[ino]" in /proc/<pid>/fd. Its mode is what bind(2) gives the
/// filesystem node it creates (before the umask).
pub struct SocketInode {
    ino: u64,
    attrs: Mutex<crate::fs::inode::PseudoAttrs>,
}

impl SocketInode {
    /// A new inode owned by the calling task's fsuid/fsgid.
    pub fn new() -> Arc<SocketInode> {
        let (uid, gid) = crate::sched::current().map(|t| t.creds()).map(|c| (c.fsuid, c.fsgid)).unwrap_or((0, 0));
        Arc::new(SocketInode { ino: NEXT_INO.fetch_add(1, Ordering::Relaxed), attrs: Mutex::new(crate::fs::inode::PseudoAttrs::new(0o777, uid, gid)) })
    }

    /// The permission bits (fchmod on the socket changes them).
    pub fn mode(&self) -> u32 {
        self.attrs.lock().mode
    }

    /// A connection's inode belongs to the task that accepts it (Linux
    /// allocates it in accept).
    pub fn set_owner_to_caller(&self) {
        if let Some(c) = crate::sched::current().map(|t| t.creds()) {
            let mut a = self.attrs.lock();
            a.uid = c.fsuid;
            a.gid = c.fsgid;
        }
    }
}

impl Inode for SocketInode {
    fn metadata(&self) -> KResult<Metadata> {
        Ok(self.attrs.lock().metadata(sockfs_dev(), self.ino, S_IFSOCK))
    }

    fn statfs(&self) -> KResult<StatFs> {
        Ok(StatFs { f_type: SOCKFS_MAGIC, f_bsize: PAGE_SIZE as i64, f_namelen: 255, f_frsize: PAGE_SIZE as i64, ..Default::default() })
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn setattr(&self, attr: &SetAttr) -> KResult<()> {
        self.attrs.lock().apply(attr);
        Ok(())
    }

    fn link_name(&self) -> Option<Vec<u8>> {
        Some(format!("socket:[{}]", self.ino).into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_round_up_to_ticks_and_read_back_in_ticks() {
        let t = Timeo::from_timeval(&Timeval { tv_sec: 1, tv_usec: 1 }).unwrap();
        assert_eq!(t.to_timeval(), Timeval { tv_sec: 1, tv_usec: 4000 });
        assert_eq!(Timeo::from_timeval(&Timeval { tv_sec: 0, tv_usec: 0 }), Ok(Timeo::NEVER));
        assert_eq!(Timeo::NEVER.to_timeval(), Timeval { tv_sec: 0, tv_usec: 0 });
        assert_eq!(Timeo::from_timeval(&Timeval { tv_sec: -5, tv_usec: 0 }), Ok(Timeo::NOW));
        assert_eq!(Timeo::from_timeval(&Timeval { tv_sec: 0, tv_usec: 1_000_000 }), Err(Errno::EDOM));
        assert_eq!(Timeo::from_timeval(&Timeval { tv_sec: i64::MAX, tv_usec: 999_999 }), Ok(Timeo::NEVER));
        assert_eq!(Timeo::NEVER.intr_errno(), Errno::ERESTARTSYS);
        assert_eq!(t.intr_errno(), Errno::EINTR);
        assert!(Timeo(i64::MAX - 1).deadline().is_none());
    }

    #[test]
    fn buffer_sizes_double_with_linux_minimums() {
        let mut o = SockOptions::default();
        let zero = |n: usize| Ok(vec![0u8; n]);
        let arg = |name, len, read: &dyn Fn(usize) -> KResult<Vec<u8>>| OptArg::read(name, &OptVal { len, read });
        assert_eq!(o.set(SO_SNDBUF, &arg(SO_SNDBUF, 4, &zero).unwrap(), false), Ok(true));
        assert_eq!(o.sndbuf, SOCK_MIN_SNDBUF);
        o.set(SO_RCVBUF, &arg(SO_RCVBUF, 4, &zero).unwrap(), false).unwrap();
        assert_eq!(o.rcvbuf, SOCK_MIN_RCVBUF);
        let big = |_n: usize| Ok(i32::MAX.to_ne_bytes().to_vec());
        o.set(SO_SNDBUFFORCE, &arg(SO_SNDBUFFORCE, 4, &big).unwrap(), true).unwrap();
        assert_eq!(o.sndbuf, i32::MAX - 1);
        assert_eq!(arg(SO_SNDBUF, 3, &zero).err(), Some(Errno::EINVAL));
        assert_eq!(arg(SO_RCVTIMEO_OLD, 8, &zero).err(), Some(Errno::EINVAL));
        assert_eq!(o.set(SO_TYPE, &arg(SO_TYPE, 4, &zero).unwrap(), false), Err(Errno::ENOPROTOOPT));
        assert_eq!(opt_bytes(&o.get(SO_SNDLOWAT).unwrap(), 2), vec![1, 0]);
    }
}
