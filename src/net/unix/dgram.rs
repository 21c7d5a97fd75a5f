//! Datagrams (Linux's unix_dgram_connect, unix_dgram_sendmsg and
//! __unix_dgram_recvmsg), which SOCK_SEQPACKET also uses for its data: a
//! message is one buffer, read whole (the rest is cut off, MSG_TRUNC); a
//! receiver not connected back to the sender queues at most
//! net.unix.max_dgram_qlen messages, and its readers wake the senders
//! waiting for room.

use std::sync::Arc;

use crate::abi::socket::*;
use crate::abi::{Errno, KResult};
use crate::fs::lookup::FsCaller;
use crate::net::unix::scm::{ScmRights, Skb, SkbCreds, dgram_layout, drop_files, truesize};
use crate::net::unix::stream::wait_for_wmem;
use crate::net::unix::{RCV_SHUTDOWN, SkState, UnixSocket, lock_both, names, privileged, scm_creds_now, sock_wait};
use crate::net::{DataSink, Received, SendMsg, Timeo};

fn same(a: &UnixSocket, b: &UnixSocket) -> bool {
    std::ptr::eq(a, b)
}

fn peer_is(st: &crate::net::unix::UnixState, sock: &UnixSocket) -> bool {
    st.peer.as_deref().is_some_and(|p| same(p, sock))
}

/// Linux's unix_may_send: `other` takes messages from anyone unless it is
/// connected to someone else.
fn may_send(sock: &UnixSocket, other_st: &crate::net::unix::UnixState) -> bool {
    other_st.peer.is_none() || peer_is(other_st, sock)
}

/// Linux's unix_dgram_disconnected: a socket whose peer changed drops
/// what the old peer sent it; if the old peer was connected back, it
/// learns of it (ECONNRESET).
fn disconnected(sock: &UnixSocket, old: &UnixSocket) {
    let dropped = std::mem::take(&mut sock.state.lock().queue);
    if dropped.is_empty() {
        return;
    }
    sock.wake_peer_waiters();
    if !same(sock, old) {
        let mut ost = old.state.lock();
        if !ost.dead && peer_is(&ost, sock) {
            ost.err = Some(Errno::ECONNRESET);
            drop(ost);
            old.wake();
        }
    }
    drop(dropped);
}

/// Linux's unix_dgram_connect: connect to (or with AF_UNSPEC, disconnect
/// from) a datagram socket; both ends count as connected.
pub fn connect(sock: &UnixSocket, caller: &dyn FsCaller, addr: &[u8]) -> KResult<()> {
    if addr.len() < 2 {
        return Err(Errno::EINVAL);
    }
    let other = if u16::from_ne_bytes([addr[0], addr[1]]) != AF_UNSPEC as u16 {
        names::validate(addr)?;
        let passcred = {
            let st = sock.state.lock();
            (st.opts.passcred || st.opts.passpidfd) && st.addr.is_none()
        };
        if passcred {
            names::autobind(sock)?;
        }
        loop {
            let other = names::find_other(Some(caller), addr, sock.kind)?;
            if same(&other, sock) {
                let mut st = sock.state.lock();
                if st.dead {
                    continue;
                }
                if !may_send(sock, &st) {
                    return Err(Errno::EPERM);
                }
                st.state = SkState::Established;
                break Some(other);
            }
            {
                let (mut st, mut ost) = lock_both(sock, &other);
                if ost.dead {
                    continue;
                }
                if !may_send(sock, &ost) {
                    return Err(Errno::EPERM);
                }
                st.state = SkState::Established;
                ost.state = SkState::Established;
            }
            break Some(other);
        }
    } else {
        None
    };
    let old = {
        let mut st = sock.state.lock();
        let old = std::mem::replace(&mut st.peer, other.clone());
        if old.is_some() && other.is_none() {
            st.state = SkState::Close;
        }
        old
    };
    if let Some(old) = old {
        old.state.lock().peer_waiters.retain(|w| !std::ptr::eq(w.as_ptr(), sock));
        sock.wake();
        if other.as_ref().is_none_or(|o| !Arc::ptr_eq(o, &old)) {
            disconnected(sock, &old);
            let mut ost = old.state.lock();
            if ost.peer.is_none() {
                ost.state = SkState::Close;
            }
        }
    }
    Ok(())
}

/// Linux's unix_dgram_sendmsg (and, through unix_seqpacket_sendmsg, a
/// seqpacket socket's sends to its peer).
pub fn sendmsg(sock: &UnixSocket, msg: SendMsg<'_>) -> KResult<usize> {
    let scm = (msg.scm)()?;
    if msg.flags & MSG_OOB != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    if let Some(name) = msg.name {
        names::validate(name)?;
    }
    let (passcred, bound, sndbuf, sndtimeo) = {
        let st = sock.state.lock();
        (st.opts.passcred || st.opts.passpidfd, st.addr.is_some(), st.opts.sndbuf, st.opts.sndtimeo)
    };
    if passcred && !bound {
        names::autobind(sock)?;
    }
    let len = msg.data.len();
    if len as i64 > sndbuf as i64 - 32 {
        return Err(Errno::EMSGSIZE);
    }
    let nonblock = msg.flags & MSG_DONTWAIT != 0;
    wait_for_wmem(sock, nonblock)?;
    let me = sock.arc();
    let (head, frags) = dgram_layout(len);
    let mut skb = Skb::new(&me, truesize(head, frags));
    if !scm.rights.is_empty() {
        let task = crate::sched::current();
        let (user, limit) = task.map(|t| (t.creds().uid, t.rlimit(crate::abi::resource::RLIMIT_NOFILE).cur)).unwrap_or((0, u64::MAX));
        match ScmRights::attach(scm.rights, user, limit, privileged()) {
            Ok(r) => skb.rights = Some(r),
            Err((e, files)) => {
                drop(skb);
                drop_files(files);
                return Err(e);
            }
        }
    }
    if let Some(c) = scm.creds {
        skb.creds = SkbCreds { pid: c.pid, uid: c.uid, gid: c.gid };
    }
    skb.data = msg.data.read(0, len)?;
    let mut timeo = if nonblock { Timeo::NOW } else { sndtimeo };
    let mut deadline = timeo.deadline();
    let mut other = match msg.name {
        Some(name) => names::find_other(msg.caller, name, sock.kind)?,
        None => sock.state.lock().peer.clone().ok_or(Errno::ENOTCONN)?,
    };
    if skb.creds.pid == 0 && scm.creds.is_none() {
        // Linux's unix_maybe_add_creds: either end asked for credentials,
        // or the receiver has no file yet.
        let theirs = {
            let ost = other.state.lock();
            ost.opts.passcred || ost.opts.passpidfd || !ost.has_file
        };
        if passcred || theirs {
            skb.creds = scm_creds_now();
        }
    }
    loop {
        let our_peer_is_other = peer_is(&sock.state.lock(), &other);
        let mut ost = other.state.lock();
        if !may_send(sock, &ost) {
            return Err(Errno::EPERM);
        }
        if ost.dead {
            drop(ost);
            if sock.kind == SOCK_SEQPACKET {
                return Err(Errno::EPIPE);
            }
            let was_peer = {
                let mut st = sock.state.lock();
                if peer_is(&st, &other) {
                    st.peer = None;
                    st.state = SkState::Close;
                    true
                } else {
                    false
                }
            };
            if was_peer {
                sock.wake();
                disconnected(sock, &other);
                return Err(Errno::ECONNREFUSED);
            }
            let Some(name) = msg.name else { return Err(Errno::ECONNRESET) };
            other = names::find_other(msg.caller, name, sock.kind)?;
            continue;
        }
        if ost.shutdown & RCV_SHUTDOWN != 0 {
            return Err(Errno::EPIPE);
        }
        if skb.has_rights() && !ost.opts.passrights {
            return Err(Errno::EPERM);
        }
        if !same(&other, sock) && !peer_is(&ost, sock) && ost.recvq_full() {
            if !timeo.is_now() {
                drop(ost);
                let r = sock_wait(&[&other.queue], timeo, deadline, || {
                    let ost = other.state.lock();
                    Ok((ost.dead || ost.shutdown & RCV_SHUTDOWN != 0 || !ost.recvq_full()).then_some(()))
                });
                match r {
                    Ok(()) => {}
                    Err(Errno::EAGAIN) => {
                        timeo = Timeo::NOW;
                        deadline = None;
                    }
                    Err(e) => return Err(e),
                }
                continue;
            }
            if !our_peer_is_other || sock.peer_wake_me(&mut ost) {
                return Err(Errno::EAGAIN);
            }
        }
        ost.queue.push_back(skb);
        ost.enqueued += 1;
        drop(ost);
        other.data_ready();
        return Ok(len);
    }
}

/// What a datagram reader's wait ended with.
enum Wake {
    Retry,
    Eof,
}

/// Linux's __unix_dgram_recvmsg (and unix_seqpacket_recvmsg's data).
pub fn recvmsg(sock: &UnixSocket, out: &mut dyn DataSink, flags: u32, want_name: bool) -> KResult<Received> {
    if flags & MSG_OOB != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    let peek = flags & MSG_PEEK != 0;
    let (rcvtimeo, passcred) = {
        let st = sock.state.lock();
        (st.opts.rcvtimeo, st.opts.passcred || st.opts.passpidfd)
    };
    let timeo = if flags & MSG_DONTWAIT != 0 { Timeo::NOW } else { rcvtimeo };
    let deadline = timeo.deadline();
    let seqpacket = sock.kind == SOCK_SEQPACKET;
    // (owned buffer, or a peeked copy: data, skip, sender, creds, files)
    let (io, taken, data, skip, sender, creds, rights) = loop {
        let io = sock.iolock.lock();
        let mut st = sock.state.lock();
        if let Some(e) = st.take_err() {
            return Err(e);
        }
        // MSG_PEEK with SO_PEEK_OFF passes over whole datagrams first.
        let mut skip = if peek { st.opts.peek_off.max(0) as usize } else { 0 };
        let mut index = 0;
        while let Some(s) = st.queue.get(index) {
            if skip == 0 || skip < s.len() {
                break;
            }
            skip -= s.len();
            index += 1;
        }
        if index < st.queue.len() {
            if peek {
                let s = &st.queue[index];
                let data = s.data.clone();
                let got = (None, data, skip.min(s.data.len()), s.sender.clone(), s.creds, s.rights.as_ref().map(ScmRights::peek));
                drop(st);
                break (io, got.0, got.1, got.2, got.3, got.4, got.5);
            }
            let mut s = st.queue.remove(index).unwrap_or_else(|| unreachable!("index is in the queue"));
            drop(st);
            let data = std::mem::take(&mut s.data);
            let (sender, creds) = (s.sender.clone(), s.creds);
            let rights = s.rights.take().map(ScmRights::detach);
            break (io, Some(s), data, 0, sender, creds, rights);
        }
        let seen = st.enqueued;
        drop(st);
        drop(io);
        let nothing = || if seqpacket && sock.state.lock().shutdown & RCV_SHUTDOWN != 0 { Ok(Received::default()) } else { Err(Errno::EAGAIN) };
        if timeo.is_now() {
            return nothing();
        }
        let r = sock_wait(&[&sock.queue], timeo, deadline, || {
            let mut st = sock.state.lock();
            if let Some(e) = st.take_err() {
                return Err(e);
            }
            if st.enqueued != seen {
                return Ok(Some(Wake::Retry));
            }
            if st.shutdown & RCV_SHUTDOWN != 0 {
                return Ok(Some(Wake::Eof));
            }
            if seqpacket && !matches!(st.state, SkState::Established | SkState::Listen) {
                return Err(Errno::ENOTCONN);
            }
            Ok(None)
        });
        match r {
            Ok(Wake::Retry) => continue,
            Ok(Wake::Eof) => return Ok(Received::default()),
            Err(Errno::EAGAIN) => return nothing(),
            Err(e) => return Err(e),
        }
    };
    sock.wake_peer_waiters();
    let mut received = Received::default();
    let full = data.len() - skip;
    let size = out.len();
    if size < full {
        received.flags |= MSG_TRUNC;
    }
    let n = size.min(full);
    if want_name {
        if let Some(a) = sender.state.lock().addr.clone() {
            received.name = a.to_vec();
        }
    }
    drop(sender);
    let copy = out.write(0, &data[skip..skip + n]);
    if copy.is_err() {
        drop(io);
        if let Some(files) = rights {
            drop_files(files);
        }
        drop(taken);
        return Err(Errno::EFAULT);
    }
    {
        let mut st = sock.state.lock();
        if st.opts.peek_off >= 0 {
            let off = st.opts.peek_off as usize;
            st.opts.peek_off = if peek { off.saturating_add(n).min(i32::MAX as usize) } else { off.saturating_sub(data.len()) } as i32;
        }
    }
    drop(io);
    drop(taken);
    if passcred {
        received.creds = Some(creds.to_ucred());
    }
    received.rights = rights;
    received.len = if flags & MSG_TRUNC != 0 { full } else { n };
    Ok(received)
}
