//! What a unix message carries besides its bytes (Linux's unix_skb_parms
//! and scm_fp_list): the sender's credentials, the files of SCM_RIGHTS
//! counted against the sending user while they are in flight
//! (RLIMIT_NOFILE, then ETOOMANYREFS), and each buffer's memory charge on
//! its sender (Linux's skb truesize, so that send buffers fill where a
//! native kernel's do). Files in flight are dropped iteratively, never
//! recursively, so a chain of sockets inside sockets cannot exhaust a
//! kernel thread's stack.

use parking_lot::Mutex;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::abi::socket::Ucred;
use crate::abi::{Errno, PAGE_SIZE};
use crate::fs::file::File;
use crate::net::unix::UnixSocket;

/// An invalid uid or gid (Linux's INVALID_UID), shown as the overflow id.
pub const INVALID_ID: u32 = u32::MAX;
/// Linux's overflowuid/overflowgid.
const OVERFLOW_ID: u32 = 65534;

/// The credentials a message carries (Linux's UNIXCB(skb).pid/uid/gid):
/// pid 0 is "none".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SkbCreds {
    pub pid: i32,
    pub uid: u32,
    pub gid: u32,
}

impl SkbCreds {
    pub const NONE: SkbCreds = SkbCreds { pid: 0, uid: INVALID_ID, gid: INVALID_ID };

    /// As SCM_CREDENTIALS shows them (from_kuid_munged).
    pub fn to_ucred(self) -> Ucred {
        let munge = |id: u32| if id == INVALID_ID { OVERFLOW_ID } else { id };
        Ucred { pid: self.pid, uid: munge(self.uid), gid: munge(self.gid) }
    }
}

/// Files in flight per sending user (Linux's user->unix_inflight).
fn inflight() -> parking_lot::MutexGuard<'static, HashMap<u32, usize>> {
    static INFLIGHT: std::sync::OnceLock<Mutex<HashMap<u32, usize>>> = std::sync::OnceLock::new();
    INFLIGHT.get_or_init(Default::default).lock()
}

/// The files of one SCM_RIGHTS message while it is queued.
pub struct ScmRights {
    files: Vec<Arc<File>>,
    user: u32,
}

impl ScmRights {
    /// Linux's unix_attach_fds: ETOOMANYREFS when `user` already has more
    /// files in flight than `limit` (RLIMIT_NOFILE), unless `privileged`
    /// (CAP_SYS_RESOURCE or CAP_SYS_ADMIN).
    pub fn attach(files: Vec<Arc<File>>, user: u32, limit: u64, privileged: bool) -> Result<ScmRights, (Errno, Vec<Arc<File>>)> {
        let mut table = inflight();
        let count = table.entry(user).or_insert(0);
        if *count as u64 > limit && !privileged {
            drop(table);
            return Err((Errno::ETOOMANYREFS, files));
        }
        *count += files.len();
        Ok(ScmRights { files, user })
    }

    /// MSG_PEEK: the receiver gets its own references (Linux's
    /// scm_fp_dup); the message keeps the originals.
    pub fn peek(&self) -> Vec<Arc<File>> {
        self.files.clone()
    }

    /// The message is received: its files leave flight.
    pub fn detach(mut self) -> Vec<Arc<File>> {
        self.uncount();
        std::mem::take(&mut self.files)
    }

    fn uncount(&mut self) {
        if self.files.is_empty() {
            return;
        }
        let mut table = inflight();
        if let Some(c) = table.get_mut(&self.user) {
            *c = c.saturating_sub(self.files.len());
            if *c == 0 {
                table.remove(&self.user);
            }
        }
    }
}

impl Drop for ScmRights {
    /// Files of a message nobody received (the socket was closed, or the
    /// send failed) are closed.
    fn drop(&mut self) {
        self.uncount();
        drop_files(std::mem::take(&mut self.files));
    }
}

thread_local! {
    /// Files whose dropping was deferred because this kernel thread is
    /// already dropping in-flight files further up its stack.
    static DEFERRED: RefCell<Option<Vec<Arc<File>>>> = const { RefCell::new(None) };
}

/// Drops files that were in flight. Closing one may close a socket whose
/// queue holds more files; those are dropped by the outermost call's loop,
/// not by recursion.
pub fn drop_files(files: Vec<Arc<File>>) {
    if files.is_empty() {
        return;
    }
    let mut files = Some(files);
    let nested = DEFERRED.with(|d| {
        let mut d = d.borrow_mut();
        match d.as_mut() {
            Some(list) => {
                list.extend(files.take().unwrap_or_default());
                true
            }
            None => {
                *d = Some(Vec::new());
                false
            }
        }
    });
    if nested {
        return;
    }
    let mut pending = files.unwrap_or_default();
    while !pending.is_empty() {
        for f in pending.drain(..) {
            drop(f);
        }
        pending = DEFERRED.with(|d| d.borrow_mut().as_mut().map(std::mem::take).unwrap_or_default());
    }
    DEFERRED.with(|d| *d.borrow_mut() = None);
}

const PAGE: usize = PAGE_SIZE as usize;

/// The memory a buffer of `header` linear bytes and `frags` paged bytes
/// charges its sender (Linux's skb->truesize on x86-64: the head is
/// SKB_DATA_ALIGN'ed, followed by struct skb_shared_info (320 bytes), and
/// kmalloc'ed in a power of two of at least 512; struct sk_buff adds 256;
/// fragments are whole pages).
pub fn truesize(header: usize, frags: usize) -> usize {
    let head = ((header + 63) & !63) + 320;
    head.next_power_of_two().max(512) + 256 + frags.div_ceil(PAGE) * PAGE
}

/// Linux's SKB_MAX_ALLOC: the largest linear part of a datagram.
const SKB_MAX_ALLOC: usize = (PAGE << 2) - 320;
/// MAX_SKB_FRAGS (17) pages.
const MAX_FRAG_BYTES: usize = 17 * PAGE;
/// SKB_MAX_HEAD(0): the linear part of a stream buffer.
pub const STREAM_HEAD: usize = PAGE - 320;
/// UNIX_SKB_FRAGS_SZ: the paged part of a stream buffer.
pub const STREAM_FRAGS: usize = 32768;

/// How unix_dgram_sendmsg splits a datagram of `len` bytes into (linear,
/// paged) parts.
pub fn dgram_layout(len: usize) -> (usize, usize) {
    if len <= SKB_MAX_ALLOC {
        return (len, 0);
    }
    let frags = (len - SKB_MAX_ALLOC).min(MAX_FRAG_BYTES).div_ceil(PAGE) * PAGE;
    (len - frags, frags)
}

/// How unix_stream_sendmsg splits one buffer of `size` bytes.
pub fn stream_layout(size: usize) -> (usize, usize) {
    let frags = size.saturating_sub(STREAM_HEAD).div_ceil(PAGE) * PAGE;
    let frags = frags.min(size);
    (size - frags, frags)
}

/// One queued message (Linux's sk_buff on a receive queue).
pub struct Skb {
    pub data: Vec<u8>,
    /// Bytes of a stream buffer already read.
    pub consumed: usize,
    /// The sending socket: charged for the buffer, and its address is the
    /// message's source.
    pub sender: Arc<UnixSocket>,
    truesize: usize,
    pub creds: SkbCreds,
    pub rights: Option<ScmRights>,
}

impl Skb {
    /// A buffer charged to `sender` (the charge is what the send waited
    /// for room for).
    pub fn new(sender: &Arc<UnixSocket>, truesize: usize) -> Skb {
        sender.wmem.fetch_add(truesize, Ordering::Relaxed);
        Skb { data: Vec::new(), consumed: 0, sender: sender.clone(), truesize, creds: SkbCreds::NONE, rights: None }
    }

    /// Unread bytes.
    pub fn len(&self) -> usize {
        self.data.len() - self.consumed
    }

    /// Files in the message (for SO_PASSRIGHTS and the stream read's
    /// "stop after a message with files").
    pub fn has_rights(&self) -> bool {
        self.rights.is_some()
    }
}

impl Drop for Skb {
    /// The buffer is freed: its sender may write again (Linux's
    /// sock_wfree). Never dropped under a socket's state lock.
    fn drop(&mut self) {
        self.sender.wmem.fetch_sub(self.truesize, Ordering::Relaxed);
        self.sender.write_space();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The values SIOCOUTQ shows on a Linux 6.18 host after one send of
    /// each size.
    #[test]
    fn truesize_matches_linux() {
        let dgram = |len: usize| {
            let (h, f) = dgram_layout(len);
            truesize(h, f)
        };
        assert_eq!(dgram(0), 768);
        assert_eq!(dgram(192), 768);
        assert_eq!(dgram(193), 1280);
        assert_eq!(dgram(1729), 4352);
        assert_eq!(dgram(7873), 16640);
        assert_eq!(dgram(16065), 20736);
        assert_eq!(dgram(65249), 69888);
        assert_eq!(dgram(85729), 102656);
        assert_eq!(dgram(200417), 332032);
        let stream = |len: usize| {
            let (h, f) = stream_layout(len);
            truesize(h, f)
        };
        assert_eq!(stream(1), 768);
        assert_eq!(stream(3777), 4864);
        assert_eq!(stream(4289), 5376);
        assert_eq!(stream(7873), 8960);
        assert_eq!(stream(9921), 12544);
        assert_eq!(stream(36544), 37120);
    }

    #[test]
    fn creds_without_a_sender_show_the_overflow_ids() {
        assert_eq!(SkbCreds::NONE.to_ucred(), Ucred { pid: 0, uid: 65534, gid: 65534 });
    }
}
