//! Connections (Linux's unix_listen, unix_stream_connect, unix_accept) and
//! the byte stream of SOCK_STREAM (unix_stream_sendmsg and
//! unix_stream_read_generic): a connect makes the server's end at once
//! and queues it on the listener (blocking while the backlog is full);
//! a send is cut into buffers charged to the sender, waiting while its
//! send buffer is full; a read takes what is there, never joins buffers
//! from different writers when the reader wants credentials, and stops
//! after a buffer that carried files.

use std::sync::Arc;

use crate::abi::signal::SIGPIPE;
use crate::abi::socket::*;
use crate::abi::{Errno, KResult};
use crate::fs::lookup::FsCaller;
use crate::net::unix::scm::{STREAM_FRAGS, STREAM_HEAD, ScmRights, Skb, SkbCreds, drop_files, stream_layout, truesize};
use crate::net::unix::{RCV_SHUTDOWN, SEND_SHUTDOWN, SkState, UnixSocket, names, peercred_now, privileged, scm_creds_now, sock_wait};
use crate::net::{DataSink, Received, SendMsg, Timeo};

/// Linux's unix_listen.
pub fn listen(sock: &UnixSocket, backlog: i32) -> KResult<()> {
    if !sock.is_connection() {
        return Err(Errno::EOPNOTSUPP);
    }
    let cred = peercred_now();
    let mut st = sock.state.lock();
    if st.addr.is_none() {
        return Err(Errno::EINVAL);
    }
    if st.state != SkState::Close && st.state != SkState::Listen {
        return Err(Errno::EINVAL);
    }
    let backlog = backlog.max(0) as usize;
    let grew = backlog > st.max_ack_backlog;
    st.max_ack_backlog = backlog;
    st.state = SkState::Listen;
    // Connecting sockets take these as their SO_PEERCRED.
    st.peercred = cred;
    drop(st);
    if grew {
        sock.wake();
    }
    Ok(())
}

/// Linux's unix_stream_connect (also for SOCK_SEQPACKET).
pub fn connect(sock: &UnixSocket, caller: &dyn FsCaller, addr: &[u8], nonblock: bool) -> KResult<()> {
    names::validate(addr)?;
    let passcred = {
        let st = sock.state.lock();
        st.opts.passcred || st.opts.passpidfd
    };
    if passcred && sock.state.lock().addr.is_none() {
        names::autobind(sock)?;
    }
    let (_, sndtimeo) = sock.timeouts();
    let mut timeo = if nonblock { Timeo::NOW } else { sndtimeo };
    let deadline = timeo.deadline();
    let cred = peercred_now();
    let me = sock.arc();
    // The server's end of the connection, made now (Linux allocates it
    // before looking the listener up).
    let server = UnixSocket::new(sock.kind, false);
    loop {
        let other = names::find_other(Some(caller), addr, sock.kind)?;
        let mut ost = other.state.lock();
        if ost.dead {
            continue;
        }
        if ost.state != SkState::Listen || ost.shutdown & RCV_SHUTDOWN != 0 {
            return Err(Errno::ECONNREFUSED);
        }
        if ost.recvq_full() {
            drop(ost);
            if timeo.is_now() {
                return Err(Errno::EAGAIN);
            }
            // Wait for room in the backlog, then look the name up again.
            let r = sock_wait(&[&other.queue], timeo, deadline, || {
                let ost = other.state.lock();
                Ok((ost.dead || ost.shutdown & RCV_SHUTDOWN != 0 || !ost.recvq_full()).then_some(()))
            });
            match r {
                Ok(()) => {}
                // The timeout is used up: one more look, then EAGAIN.
                Err(Errno::EAGAIN) => timeo = Timeo::NOW,
                Err(e) => return Err(e),
            }
            continue;
        }
        if std::ptr::eq(&*other, sock) {
            // A listener connecting to itself (Linux rejects it by its state).
            return Err(Errno::EINVAL);
        }
        let mut st = sock.state.lock();
        if st.state != SkState::Close {
            return Err(if st.state == SkState::Established { Errno::EISCONN } else { Errno::EINVAL });
        }
        {
            let mut sst = server.state.lock();
            sst.peer = Some(me.clone());
            sst.state = SkState::Established;
            sst.peercred = cred;
            // The accepted socket inherits the listener's SO_PASSCRED
            // family of flags and its address.
            sst.opts.passcred = ost.opts.passcred;
            sst.opts.passpidfd = ost.opts.passpidfd;
            sst.opts.passsec = ost.opts.passsec;
            sst.opts.passrights = ost.opts.passrights;
            sst.addr = ost.addr.clone();
        }
        st.peercred = ost.peercred;
        st.state = SkState::Established;
        st.peer = Some(server.clone());
        drop(st);
        ost.pending.push_back(server);
        drop(ost);
        other.data_ready();
        sock.wake();
        return Ok(());
    }
}

/// Linux's unix_accept: the next connection, waiting (SO_RCVTIMEO) unless
/// non-blocking.
pub fn accept(sock: &UnixSocket, nonblock: bool) -> KResult<Arc<UnixSocket>> {
    if !sock.is_connection() {
        return Err(Errno::EOPNOTSUPP);
    }
    let (rcvtimeo, _) = sock.timeouts();
    let timeo = if nonblock { Timeo::NOW } else { rcvtimeo };
    let deadline = timeo.deadline();
    let conn = sock_wait(&[&sock.queue], timeo, deadline, || {
        let mut st = sock.state.lock();
        if st.state != SkState::Listen {
            return Err(Errno::EINVAL);
        }
        if let Some(e) = st.take_err() {
            return Err(e);
        }
        if let Some(c) = st.pending.pop_front() {
            return Ok(Some(c));
        }
        // A listener shut down for reading accepts nothing more.
        if st.shutdown & RCV_SHUTDOWN != 0 {
            return Err(Errno::EINVAL);
        }
        if timeo.is_now() {
            return Err(Errno::EAGAIN);
        }
        Ok(None)
    })?;
    // Connectors waiting for room in the backlog may go on.
    sock.wake();
    conn.state.lock().has_file = true;
    conn.inode.set_owner_to_caller();
    Ok(conn)
}

/// Sends SIGPIPE to the caller unless MSG_NOSIGNAL.
fn sigpipe(flags: u32) {
    if flags & MSG_NOSIGNAL == 0 {
        if let Some(t) = crate::sched::current() {
            t.send_signal_to_self(SIGPIPE);
        }
    }
}

/// Linux's sock_alloc_send_pskb wait: room in the send buffer. The
/// sender's pending error, then SEND_SHUTDOWN (EPIPE, no signal), then
/// EAGAIN or a wait (SO_SNDTIMEO, started afresh for every buffer).
pub fn wait_for_wmem(sock: &UnixSocket, nonblock: bool) -> KResult<()> {
    let sndtimeo = sock.state.lock().opts.sndtimeo;
    let timeo = if nonblock { Timeo::NOW } else { sndtimeo };
    let deadline = timeo.deadline();
    sock_wait(&[&sock.queue], timeo, deadline, || {
        let mut st = sock.state.lock();
        if let Some(e) = st.take_err() {
            return Err(e);
        }
        if st.shutdown & SEND_SHUTDOWN != 0 {
            return Err(Errno::EPIPE);
        }
        if sock.wmem.load(std::sync::atomic::Ordering::Relaxed) < st.opts.sndbuf.max(0) as usize {
            return Ok(Some(()));
        }
        if timeo.is_now() {
            return Err(Errno::EAGAIN);
        }
        Ok(None)
    })
}

/// Linux's unix_stream_sendmsg.
pub fn sendmsg(sock: &UnixSocket, msg: SendMsg<'_>) -> KResult<usize> {
    let scm = (msg.scm)()?;
    if msg.flags & MSG_OOB != 0 {
        // Out-of-band data is not offered.
        return Err(Errno::EOPNOTSUPP);
    }
    let (other, passcred, sndbuf) = {
        let st = sock.state.lock();
        if msg.name.is_some() {
            return Err(if st.state == SkState::Established { Errno::EISCONN } else { Errno::EOPNOTSUPP });
        }
        let other = st.peer.clone().ok_or(Errno::ENOTCONN)?;
        if st.shutdown & SEND_SHUTDOWN != 0 {
            drop(st);
            sigpipe(msg.flags);
            return Err(Errno::EPIPE);
        }
        (other, st.opts.passcred || st.opts.passpidfd, st.opts.sndbuf)
    };
    let me = sock.arc();
    let len = msg.data.len();
    let nonblock = msg.flags & MSG_DONTWAIT != 0;
    let mut rights = (!scm.rights.is_empty()).then_some(scm.rights);
    let mut sent = 0usize;
    let creds = scm.creds.map(|c| SkbCreds { pid: c.pid, uid: c.uid, gid: c.gid });
    while sent < len {
        // Keep two buffers in the pipe, and fall back to order-0 pages.
        let cap = ((sndbuf >> 1) - 64).max(1) as usize;
        let size = (len - sent).min(cap).min(STREAM_HEAD + STREAM_FRAGS);
        if let Err(e) = wait_for_wmem(sock, nonblock) {
            return if sent > 0 { Ok(sent) } else { Err(e) };
        }
        let (head, frags) = stream_layout(size);
        let mut skb = Skb::new(&me, truesize(head, frags));
        // Only the first buffer carries the files.
        if let Some(files) = rights.take() {
            let task = crate::sched::current();
            let (user, limit) = task.map(|t| (t.creds().uid, t.rlimit(crate::abi::resource::RLIMIT_NOFILE).cur)).unwrap_or((0, u64::MAX));
            match ScmRights::attach(files, user, limit, privileged()) {
                Ok(r) => skb.rights = Some(r),
                Err((e, files)) => {
                    drop(skb);
                    drop_files(files);
                    return if sent > 0 { Ok(sent) } else { Err(e) };
                }
            }
        }
        skb.creds = match creds {
            Some(c) => c,
            None => {
                let other_passcred = {
                    let ost = other.state.lock();
                    ost.opts.passcred || ost.opts.passpidfd || !ost.has_file
                };
                if passcred || other_passcred { scm_creds_now() } else { SkbCreds::NONE }
            }
        };
        match msg.data.read(sent, size) {
            Ok(d) => skb.data = d,
            Err(e) => {
                drop(skb);
                return if sent > 0 { Ok(sent) } else { Err(e) };
            }
        }
        let mut ost = other.state.lock();
        if ost.dead || ost.shutdown & RCV_SHUTDOWN != 0 {
            drop(ost);
            drop(skb);
            if sent == 0 {
                sigpipe(msg.flags);
            }
            return if sent > 0 { Ok(sent) } else { Err(Errno::EPIPE) };
        }
        if skb.has_rights() && !ost.opts.passrights {
            drop(ost);
            drop(skb);
            return if sent > 0 { Ok(sent) } else { Err(Errno::EPERM) };
        }
        ost.queue.push_back(skb);
        ost.enqueued += 1;
        drop(ost);
        other.data_ready();
        sent += size;
    }
    if let Some(files) = rights {
        // A zero-length send carries no files (Linux sends no buffer).
        drop_files(files);
    }
    Ok(sent)
}

/// Linux's unix_stream_read_generic.
pub fn recvmsg(sock: &UnixSocket, out: &mut dyn DataSink, flags: u32, want_name: bool) -> KResult<Received> {
    if sock.state.lock().state != SkState::Established {
        return Err(Errno::EINVAL);
    }
    if flags & MSG_OOB != 0 {
        // No out-of-band byte is ever queued (Linux: unix_stream_recv_urg).
        return Err(Errno::EINVAL);
    }
    let peek = flags & MSG_PEEK != 0;
    let mut size = out.len();
    let (rcvtimeo, rcvlowat, passcred) = {
        let st = sock.state.lock();
        (st.opts.rcvtimeo, st.opts.rcvlowat, st.opts.passcred || st.opts.passpidfd)
    };
    let target = {
        let t = if flags & MSG_WAITALL != 0 { size } else { (rcvlowat.max(0) as usize).min(size) };
        t.max(1)
    };
    let timeo = if flags & MSG_DONTWAIT != 0 { Timeo::NOW } else { rcvtimeo };
    let deadline = timeo.deadline();
    let mut received = Received::default();
    let mut scm_creds: Option<SkbCreds> = None;
    let mut copied = 0usize;
    let mut err: Option<Errno> = None;
    let mut freed: Vec<Skb> = Vec::new();
    'redo: loop {
        let io = sock.iolock.lock();
        let mut skip = {
            let st = sock.state.lock();
            if peek { st.opts.peek_off.max(0) as usize } else { 0 }
        };
        // The index of the buffer being read (with MSG_PEEK, later ones).
        let mut index = 0usize;
        loop {
            let mut st = sock.state.lock();
            if st.dead {
                err = Some(Errno::ECONNRESET);
                break;
            }
            // Skip what MSG_PEEK with SO_PEEK_OFF passes over.
            while let Some(skb) = st.queue.get(index) {
                if skip < skb.len() {
                    break;
                }
                skip -= skb.len();
                index += 1;
            }
            let Some(skb) = st.queue.get(index) else {
                if copied >= target {
                    break;
                }
                if let Some(e) = st.take_err() {
                    err = Some(e);
                    break;
                }
                if st.shutdown & RCV_SHUTDOWN != 0 {
                    break;
                }
                if timeo.is_now() {
                    err = Some(Errno::EAGAIN);
                    break;
                }
                let seen = st.enqueued;
                drop(st);
                drop(io);
                let r = sock_wait(&[&sock.queue], timeo, deadline, || {
                    let st = sock.state.lock();
                    Ok((st.enqueued != seen || st.err.is_some() || st.shutdown & RCV_SHUTDOWN != 0 || st.dead).then_some(()))
                });
                match r {
                    Ok(()) => continue 'redo,
                    Err(Errno::EAGAIN) => {
                        // Timed out: one more look finds nothing and says EAGAIN.
                        let st = sock.state.lock();
                        if st.queue.len() <= index && st.err.is_none() && st.shutdown & RCV_SHUTDOWN == 0 {
                            err = Some(Errno::EAGAIN);
                            break 'redo;
                        }
                        continue 'redo;
                    }
                    Err(e) => {
                        err = Some(e);
                        // Files received earlier in this call are dropped,
                        // as Linux's scm_destroy does.
                        if let Some(files) = received.rights.take() {
                            drop_files(files);
                        }
                        break 'redo;
                    }
                }
            };
            // Never glue buffers from different writers for a reader that
            // wants their credentials.
            if let Some(c) = scm_creds {
                if c != skb.creds {
                    break;
                }
            } else if passcred {
                scm_creds = Some(skb.creds);
            }
            let chunk = (skb.len() - skip).min(size);
            let start = skb.consumed + skip;
            let bytes = skb.data[start..start + chunk].to_vec();
            let sender = skb.sender.clone();
            drop(st);
            if want_name && received.name.is_empty() {
                if let Some(a) = sender.state.lock().addr.clone() {
                    received.name = a.to_vec();
                }
            }
            drop(sender);
            if out.write(copied, &bytes).is_err() {
                if copied == 0 {
                    err = Some(Errno::EFAULT);
                }
                break;
            }
            copied += chunk;
            size -= chunk;
            let mut st = sock.state.lock();
            if st.opts.peek_off >= 0 {
                let off = st.opts.peek_off as usize;
                st.opts.peek_off = if peek { off.saturating_add(chunk).min(i32::MAX as usize) } else { off.saturating_sub(chunk) } as i32;
            }
            let Some(skb) = st.queue.get_mut(index) else { break };
            if !peek {
                skb.consumed += chunk;
                if let Some(r) = skb.rights.take() {
                    received.rights = Some(r.detach());
                }
                if skb.len() > 0 {
                    break;
                }
                if let Some(done) = st.queue.remove(index) {
                    freed.push(done);
                }
                if received.rights.is_some() {
                    break;
                }
            } else {
                if let Some(r) = &skb.rights {
                    received.rights = Some(r.peek());
                    break;
                }
                skip = 0;
                index += 1;
                if st.queue.get(index).is_none() {
                    break;
                }
            }
            if size == 0 {
                break;
            }
        }
        break;
    }
    drop(freed);
    if passcred {
        // Linux's cookie starts zeroed: pid 0, uid and gid 0 when nothing was read.
        received.creds = Some(scm_creds.unwrap_or(SkbCreds { pid: 0, uid: 0, gid: 0 }).to_ucred());
    }
    if copied > 0 {
        received.len = copied;
        return Ok(received);
    }
    match err {
        Some(e) => {
            if let Some(files) = received.rights.take() {
                drop_files(files);
            }
            Err(e)
        }
        None => Ok(received),
    }
}
