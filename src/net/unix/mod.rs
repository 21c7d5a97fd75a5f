//! AF_UNIX sockets (Linux's net/unix/af_unix.c): stream, datagram and
//! seqpacket sockets, socketpair, names in the filesystem and in the
//! abstract namespace (names.rs), connection-oriented calls (stream.rs),
//! datagrams (dgram.rs), and what messages carry (scm.rs). Called through
//! `net::Socket` by syscall/socket.rs and through `SocketFile` by the VFS.
//! Never touches guest memory, blocks, drops a queued message (which may
//! close files) or sends a signal while holding a socket's state lock.

mod dgram;
mod names;
pub mod scm;
mod stream;

use parking_lot::{Mutex, MutexGuard};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicI32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::Instant;

use crate::abi::poll::{POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDHUP, POLLRDNORM, POLLWRBAND, POLLWRNORM};
use crate::abi::socket::*;
use crate::abi::{Errno, KResult};
use crate::fs::inode::InodeRef;
use crate::fs::lookup::FsCaller;
use crate::fs::path::Path;
use crate::net::{DataSink, OptArg, OptVal, Received, SendMsg, SockOptions, Socket, SocketInode, Timeo, opt_bytes, ucred_bytes};
use crate::sched::CurrentTask;
use crate::sched::wait::{WaitQueue, wait_any};
use scm::{Skb, SkbCreds};

/// Linux's sk_shutdown bits.
const RCV_SHUTDOWN: u8 = 1;
const SEND_SHUTDOWN: u8 = 2;
const SHUTDOWN_MASK: u8 = 3;

/// Linux's sk_state values a unix socket takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SkState {
    /// TCP_CLOSE: not connected (or a datagram socket's peer went).
    Close,
    Listen,
    Established,
}

/// The state a socket's lock protects (Linux's unix_state_lock and the
/// receive queue lock, as one).
struct UnixState {
    state: SkState,
    shutdown: u8,
    /// sk_err: reported once by the next call that looks.
    err: Option<Errno>,
    /// SOCK_DEAD: the socket was released.
    dead: bool,
    /// sk_socket: a connection not yet accepted has no file.
    has_file: bool,
    peer: Option<Arc<UnixSocket>>,
    /// The bound (or, for an accepted socket, inherited) address.
    addr: Option<Arc<Vec<u8>>>,
    /// The name-table entry this socket owns (not an inherited address).
    binding: Option<names::Binding>,
    /// The filesystem node of a path binding.
    path: Option<Path>,
    queue: VecDeque<Skb>,
    /// A listener's connections not yet accepted (Linux keeps them on the
    /// receive queue).
    pending: VecDeque<Arc<UnixSocket>>,
    /// sk_max_ack_backlog: the listen backlog, or net.unix.max_dgram_qlen.
    max_ack_backlog: usize,
    /// SO_PEERCRED (None: pid 0, uid and gid -1).
    peercred: Option<Ucred>,
    opts: SockOptions,
    /// Bumped for every buffer queued: a stream reader sleeps until it moves.
    enqueued: u64,
    /// Datagram senders (and pollers) waiting for room in this socket's
    /// queue (Linux's peer_wait relay).
    peer_waiters: Vec<Weak<UnixSocket>>,
}

impl UnixState {
    /// Linux's sock_error: the pending error, cleared.
    fn take_err(&mut self) -> Option<Errno> {
        self.err.take()
    }

    /// Linux's unix_recvq_full: more queued than the backlog allows.
    fn recvq_full(&self) -> bool {
        let len = if self.state == SkState::Listen { self.pending.len() } else { self.queue.len() };
        len > self.max_ack_backlog
    }
}

/// One AF_UNIX socket (Linux's unix_sock).
pub struct UnixSocket {
    /// SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET.
    kind: u32,
    me: Weak<UnixSocket>,
    inode: Arc<SocketInode>,
    state: Mutex<UnixState>,
    /// Serialises readers (Linux's iolock); held across the copy to guest
    /// memory, released while waiting.
    iolock: Mutex<()>,
    /// Serialises bind and autobind (Linux's bindlock).
    bindlock: Mutex<()>,
    /// Woken on every change: data in or out, connections, shutdown, close.
    queue: WaitQueue,
    events: AtomicU64,
    /// sk_wmem_alloc: the memory of this socket's sent, unread buffers.
    wmem: AtomicUsize,
    /// A copy of the send buffer size for `write_space`, which runs
    /// without the state lock.
    sndbuf: AtomicI32,
}

/// The caller's identity as SO_PEERCRED records it (tgid, euid, egid).
fn peercred_now() -> Option<Ucred> {
    crate::sched::current().map(|t| {
        let c = t.creds();
        Ucred { pid: t.tgid(), uid: c.euid, gid: c.egid }
    })
}

/// The caller's identity as a message carries it (tgid, uid, gid).
fn scm_creds_now() -> SkbCreds {
    match crate::sched::current() {
        Some(t) => {
            let c = t.creds();
            SkbCreds { pid: t.tgid(), uid: c.uid, gid: c.gid }
        }
        None => SkbCreds::NONE,
    }
}

/// The caller holds the capabilities root has (CAP_NET_ADMIN, CAP_SYS_RESOURCE).
fn privileged() -> bool {
    crate::sched::current().is_some_and(|t| t.creds().euid == 0)
}

/// Sleeps on `queues` until `ready` answers, as a socket waits: a signal
/// is `timeo.intr_errno()` (restartable only without a timeout), the
/// deadline passing is EAGAIN.
fn sock_wait<T>(queues: &[&WaitQueue], timeo: Timeo, deadline: Option<Instant>, ready: impl FnMut() -> KResult<Option<T>>) -> KResult<T> {
    match wait_any(queues, deadline, ready) {
        Err(Errno::ERESTARTSYS) => Err(timeo.intr_errno()),
        Err(Errno::ETIMEDOUT) => Err(Errno::EAGAIN),
        r => r,
    }
}

/// Locks two sockets' states in address order (Linux's
/// unix_state_double_lock); `a` and `b` must differ.
fn lock_both<'a>(a: &'a UnixSocket, b: &'a UnixSocket) -> (MutexGuard<'a, UnixState>, MutexGuard<'a, UnixState>) {
    if (a as *const UnixSocket) < (b as *const UnixSocket) {
        let ga = a.state.lock();
        let gb = b.state.lock();
        (ga, gb)
    } else {
        let gb = b.state.lock();
        let ga = a.state.lock();
        (ga, gb)
    }
}

impl UnixSocket {
    fn new(kind: u32, has_file: bool) -> Arc<UnixSocket> {
        let opts = SockOptions::default();
        let sndbuf = opts.sndbuf;
        Arc::new_cyclic(|me| UnixSocket {
            kind,
            me: me.clone(),
            inode: SocketInode::new(),
            state: Mutex::new(UnixState {
                state: SkState::Close,
                shutdown: 0,
                err: None,
                dead: false,
                has_file,
                peer: None,
                addr: None,
                binding: None,
                path: None,
                queue: VecDeque::new(),
                pending: VecDeque::new(),
                max_ack_backlog: crate::net::limits().max_dgram_qlen,
                peercred: None,
                opts,
                enqueued: 0,
                peer_waiters: Vec::new(),
            }),
            iolock: Mutex::new(()),
            bindlock: Mutex::new(()),
            queue: WaitQueue::new(),
            events: AtomicU64::new(0),
            wmem: AtomicUsize::new(0),
            sndbuf: AtomicI32::new(sndbuf),
        })
    }

    fn arc(&self) -> Arc<UnixSocket> {
        // A method runs on a socket someone holds, so the upgrade succeeds.
        self.me.upgrade().unwrap_or_else(|| unreachable!("a unix socket method ran on a dropped socket"))
    }

    /// Linux's unix_create: EPROTONOSUPPORT for a protocol other than 0 or
    /// PF_UNIX, ESOCKTNOSUPPORT for a type unix sockets lack; SOCK_RAW is
    /// taken as SOCK_DGRAM.
    pub fn create(sock_type: u32, protocol: i32) -> KResult<Arc<UnixSocket>> {
        if protocol != 0 && protocol != AF_UNIX as i32 {
            return Err(Errno::EPROTONOSUPPORT);
        }
        let kind = match sock_type {
            SOCK_STREAM | SOCK_DGRAM | SOCK_SEQPACKET => sock_type,
            SOCK_RAW => SOCK_DGRAM,
            _ => return Err(Errno::ESOCKTNOSUPPORT),
        };
        Ok(UnixSocket::new(kind, true))
    }

    /// Linux's unix_socketpair: two sockets joined back to back, each with
    /// the creator as its peer's credentials.
    pub fn pair(sock_type: u32, protocol: i32) -> KResult<(Arc<UnixSocket>, Arc<UnixSocket>)> {
        let a = UnixSocket::create(sock_type, protocol)?;
        let b = UnixSocket::create(sock_type, protocol)?;
        let cred = peercred_now();
        for (x, y) in [(&a, &b), (&b, &a)] {
            let mut st = x.state.lock();
            st.peer = Some(y.clone());
            st.peercred = cred;
            st.state = SkState::Established;
        }
        Ok((a, b))
    }

    fn is_connection(&self) -> bool {
        self.kind == SOCK_STREAM || self.kind == SOCK_SEQPACKET
    }

    /// Tells waiters (readers, writers, pollers, connectors, accepters)
    /// that the state changed.
    fn wake(&self) {
        self.events.fetch_add(1, Ordering::Relaxed);
        self.queue.wake_all();
    }

    /// Linux's unix_write_space: writers and pollers wake once a quarter of
    /// the send buffer is free.
    fn write_space(&self) {
        let sndbuf = self.sndbuf.load(Ordering::Relaxed).max(0) as usize;
        if self.wmem.load(Ordering::Relaxed).saturating_mul(4) <= sndbuf {
            self.wake();
        }
    }

    /// Linux's unix_writable.
    fn writable(&self, st: &UnixState) -> bool {
        st.state != SkState::Listen && self.wmem.load(Ordering::Relaxed).saturating_mul(4) <= st.opts.sndbuf.max(0) as usize
    }

    /// Wakes the datagram senders waiting for room here (our queue shrank
    /// or we went away).
    fn wake_peer_waiters(&self) {
        let waiters = std::mem::take(&mut self.state.lock().peer_waiters);
        for w in waiters.iter().filter_map(Weak::upgrade) {
            w.wake();
        }
        self.wake();
    }

    /// Linux's unix_dgram_peer_wake_me: if the peer's queue (`other_st`) is
    /// full and it lives, `self` is woken when it drains; true when `self`
    /// must wait.
    fn peer_wake_me(&self, other_st: &mut UnixState) -> bool {
        if other_st.recvq_full() && !other_st.dead {
            if !other_st.peer_waiters.iter().any(|w| std::ptr::eq(w.as_ptr(), self)) {
                other_st.peer_waiters.push(self.me.clone());
            }
            return true;
        }
        false
    }

    /// Linux's unix_release_sock: the socket goes; a connected peer sees
    /// end of file (and ECONNRESET if it had sent data nobody read, or was
    /// never accepted); queued messages and connections are dropped.
    fn release_sock(&self, embryo: bool) {
        let (peer, queue, pending, binding) = {
            let mut st = self.state.lock();
            if st.dead {
                return;
            }
            st.dead = true;
            st.shutdown = SHUTDOWN_MASK;
            let was_listener = st.state == SkState::Listen;
            st.state = SkState::Close;
            let unread = !st.queue.is_empty();
            let peer = st.peer.take().map(|p| (p, unread));
            st.path = None;
            let queue = std::mem::take(&mut st.queue);
            let pending = if was_listener { std::mem::take(&mut st.pending) } else { VecDeque::new() };
            (peer, queue, pending, st.binding.take())
        };
        if let Some(b) = binding {
            names::unbind(&b, self);
        }
        self.wake_peer_waiters();
        if let Some((peer, unread)) = peer {
            if self.is_connection() {
                {
                    let mut pst = peer.state.lock();
                    pst.shutdown = SHUTDOWN_MASK;
                    if unread || embryo {
                        pst.err = Some(Errno::ECONNRESET);
                    }
                }
                peer.wake();
            }
            peer.state.lock().peer_waiters.retain(|w| !std::ptr::eq(w.as_ptr(), self));
        }
        for conn in pending {
            conn.release_sock(true);
        }
        drop(queue);
    }

    /// A message arrived: readers and pollers wake.
    fn data_ready(&self) {
        self.wake();
    }

    fn timeouts(&self) -> (Timeo, Timeo) {
        let st = self.state.lock();
        (st.opts.rcvtimeo, st.opts.sndtimeo)
    }
}

impl Socket for UnixSocket {
    fn family(&self) -> i32 {
        AF_UNIX as i32
    }

    fn sock_type(&self) -> i32 {
        self.kind as i32
    }

    fn inode(&self) -> InodeRef {
        self.inode.clone()
    }

    fn bind(&self, caller: &dyn FsCaller, addr: &[u8]) -> KResult<()> {
        names::bind(self, caller, addr)
    }

    fn connect(&self, caller: &dyn FsCaller, addr: &[u8], nonblock: bool) -> KResult<()> {
        if self.is_connection() { stream::connect(self, caller, addr, nonblock) } else { dgram::connect(self, caller, addr) }
    }

    fn listen(&self, backlog: i32) -> KResult<()> {
        stream::listen(self, backlog)
    }

    fn accept(&self, nonblock: bool) -> KResult<Arc<dyn Socket>> {
        let s = stream::accept(self, nonblock)?;
        Ok(s)
    }

    /// Linux's unix_getname: an unbound socket's name is the family alone.
    fn getname(&self, peer: bool) -> KResult<Vec<u8>> {
        let addr = if peer {
            let p = self.state.lock().peer.clone().ok_or(Errno::ENOTCONN)?;
            p.state.lock().addr.clone()
        } else {
            self.state.lock().addr.clone()
        };
        Ok(match addr {
            Some(a) => a.to_vec(),
            None => (AF_UNIX as u16).to_ne_bytes().to_vec(),
        })
    }

    /// Linux's unix_shutdown: the peer of a connection sees the mirror
    /// image (our SHUT_WR is its end of file). Not an error unconnected.
    fn shutdown(&self, how: i32) -> KResult<()> {
        if !(SHUT_RD..=SHUT_RDWR).contains(&how) {
            return Err(Errno::EINVAL);
        }
        let mode = (how + 1) as u8;
        let peer = {
            let mut st = self.state.lock();
            st.shutdown |= mode;
            st.peer.clone()
        };
        self.wake();
        if let Some(peer) = peer.filter(|_| self.is_connection()) {
            let mut peer_mode = 0;
            if mode & RCV_SHUTDOWN != 0 {
                peer_mode |= SEND_SHUTDOWN;
            }
            if mode & SEND_SHUTDOWN != 0 {
                peer_mode |= RCV_SHUTDOWN;
            }
            peer.state.lock().shutdown |= peer_mode;
            peer.wake();
        }
        Ok(())
    }

    fn sendmsg(&self, msg: SendMsg<'_>) -> KResult<usize> {
        match self.kind {
            SOCK_STREAM => stream::sendmsg(self, msg),
            SOCK_SEQPACKET => {
                // Linux's unix_seqpacket_sendmsg: the error, then the
                // connection, then as a datagram to the peer.
                let mut st = self.state.lock();
                if let Some(e) = st.take_err() {
                    return Err(e);
                }
                if st.state != SkState::Established {
                    return Err(Errno::ENOTCONN);
                }
                drop(st);
                dgram::sendmsg(self, SendMsg { name: None, ..msg })
            }
            _ => dgram::sendmsg(self, msg),
        }
    }

    fn recvmsg(&self, out: &mut dyn DataSink, flags: u32, want_name: bool) -> KResult<Received> {
        match self.kind {
            SOCK_STREAM => stream::recvmsg(self, out, flags, want_name),
            SOCK_SEQPACKET => {
                if self.state.lock().state != SkState::Established {
                    return Err(Errno::ENOTCONN);
                }
                dgram::recvmsg(self, out, flags, want_name)
            }
            _ => dgram::recvmsg(self, out, flags, want_name),
        }
    }

    fn setsockopt(&self, level: i32, name: i32, val: &OptVal<'_>) -> KResult<()> {
        if level != SOL_SOCKET {
            return Err(Errno::EOPNOTSUPP);
        }
        let arg = OptArg::read(name, val)?;
        let privileged = privileged();
        let mut st = self.state.lock();
        let sndbuf_changed = st.opts.set(name, &arg, privileged)?;
        self.sndbuf.store(st.opts.sndbuf, Ordering::Relaxed);
        drop(st);
        if sndbuf_changed {
            self.write_space();
        }
        Ok(())
    }

    fn getsockopt(&self, level: i32, name: i32, len: usize) -> KResult<Vec<u8>> {
        if level != SOL_SOCKET {
            return Err(Errno::EOPNOTSUPP);
        }
        let int = |v: i32| opt_bytes(&v.to_ne_bytes(), len);
        let mut st = self.state.lock();
        Ok(match name {
            SO_TYPE => int(self.kind as i32),
            SO_PROTOCOL => int(0),
            SO_DOMAIN => int(self.family()),
            SO_ERROR => int(st.take_err().map_or(0, |e| e.0)),
            SO_ACCEPTCONN => int((st.state == SkState::Listen) as i32),
            SO_PEERCRED => {
                let c = st.peercred.unwrap_or(Ucred { pid: 0, uid: u32::MAX, gid: u32::MAX });
                opt_bytes(&ucred_bytes(&c), len)
            }
            SO_PEERNAME => {
                drop(st);
                let name = self.getname(true)?;
                if name.len() < len {
                    return Err(Errno::EINVAL);
                }
                name[..len].to_vec()
            }
            _ => opt_bytes(&st.opts.get(name).ok_or(Errno::ENOPROTOOPT)?, len),
        })
    }

    /// Linux's unix_poll (stream) and unix_dgram_poll (datagram, seqpacket).
    fn poll(&self) -> u16 {
        let st = self.state.lock();
        let mut mask = 0;
        if st.err.is_some() {
            mask |= POLLERR;
        }
        if st.shutdown == SHUTDOWN_MASK {
            mask |= POLLHUP;
        }
        if st.shutdown & RCV_SHUTDOWN != 0 {
            mask |= POLLRDHUP | POLLIN | POLLRDNORM;
        }
        if !st.queue.is_empty() || !st.pending.is_empty() {
            mask |= POLLIN | POLLRDNORM;
        }
        if self.is_connection() && st.state == SkState::Close {
            mask |= POLLHUP;
        }
        let mut writable = self.writable(&st);
        let peer = st.peer.clone();
        drop(st);
        if writable && self.kind != SOCK_STREAM {
            // A datagram peer that is not connected back to us takes only
            // net.unix.max_dgram_qlen messages from us and others.
            if let Some(other) = peer.filter(|p| !std::ptr::eq(&**p, self)) {
                let mut ost = other.state.lock();
                let connected_back = ost.peer.as_ref().is_some_and(|p| std::ptr::eq(&**p, self));
                if !connected_back && self.peer_wake_me(&mut ost) {
                    writable = false;
                }
            }
        }
        if writable {
            mask |= POLLOUT | POLLWRNORM | POLLWRBAND;
        }
        mask
    }

    fn wait_queue(&self) -> &WaitQueue {
        &self.queue
    }

    fn event_count(&self) -> u64 {
        self.events.load(Ordering::Relaxed)
    }

    /// SIOCINQ (FIONREAD) and SIOCOUTQ (Linux's unix_ioctl).
    fn ioctl(&self, caller: &dyn CurrentTask, cmd: u32, arg: u64) -> KResult<u64> {
        let amount = match cmd {
            SIOCOUTQ => self.wmem.load(Ordering::Relaxed),
            SIOCINQ => {
                let st = self.state.lock();
                if st.state == SkState::Listen {
                    return Err(Errno::EINVAL);
                }
                match self.kind {
                    SOCK_DGRAM => st.queue.front().map_or(0, Skb::len),
                    _ => st.queue.iter().map(Skb::len).sum(),
                }
            }
            _ => return Err(Errno::ENOTTY),
        };
        let v = amount.min(i32::MAX as usize) as i32;
        caller.mm().write(arg, &v)?;
        Ok(0)
    }

    fn take_error(&self) -> Option<Errno> {
        self.state.lock().take_err()
    }

    fn set_error(&self, err: Errno) {
        self.state.lock().err = Some(err);
        self.wake();
    }

    fn release(&self) {
        self.release_sock(false);
    }
}
