//! Socket system calls (Linux's net/socket.c and net/core/scm.c): socket,
//! socketpair, bind, listen, accept(4), connect, getsockname, getpeername,
//! sendto, recvfrom, sendmsg, recvmsg, sendmmsg, recvmmsg, shutdown,
//! setsockopt, getsockopt. Decodes addresses, message headers and control
//! messages in Linux's order, turns SCM_RIGHTS fds into files for the
//! sender and files back into fds for the receiver (the fd table is the
//! task layer's), and calls net/ for everything else.

use std::sync::Arc;

use crate::abi::socket::*;
use crate::abi::{Errno, KResult, Timespec};
use crate::fs::file::File;
use crate::mm::uaccess::UserBuffers;
use crate::net::{OptVal, Received, Scm, SendMsg, Socket};
use crate::syscall::args::*;
use crate::syscall::{Sys, SyscallDef};
use crate::syscalls;
use crate::task::Task;

pub const SYSCALLS: &[SyscallDef] = syscalls![
    __NR_socket => sys_socket,
    __NR_socketpair => sys_socketpair,
    __NR_bind => sys_bind,
    __NR_listen => sys_listen,
    __NR_accept => sys_accept,
    __NR_accept4 => sys_accept4,
    __NR_connect => sys_connect,
    __NR_getsockname => sys_getsockname,
    __NR_getpeername => sys_getpeername,
    __NR_sendto => sys_sendto,
    __NR_recvfrom => sys_recvfrom,
    __NR_sendmsg => sys_sendmsg,
    __NR_recvmsg => sys_recvmsg,
    __NR_sendmmsg => sys_sendmmsg,
    __NR_recvmmsg => sys_recvmmsg,
    __NR_shutdown => sys_shutdown,
    __NR_setsockopt => sys_setsockopt,
    __NR_getsockopt => sys_getsockopt,
];

// ---- argument decoding ----

/// The file of a socket fd: EBADF (O_PATH files too), then ENOTSOCK.
fn socket_file(sys: &Sys, fd: i32) -> KResult<Arc<File>> {
    let file = io_file(sys.task, fd)?;
    crate::net::socket_of(&file)?;
    Ok(file)
}

fn socket(file: &File) -> &Arc<dyn Socket> {
    // socket_file checked that this is a socket.
    crate::net::socket_of(file).unwrap_or_else(|_| unreachable!("checked by socket_file"))
}

/// Linux's move_addr_to_kernel: EINVAL outside [0, sizeof(sockaddr_storage)].
fn read_sockaddr(sys: &Sys, addr: u64, len: i32) -> KResult<Vec<u8>> {
    if len < 0 || len as usize > SOCKADDR_STORAGE_SIZE {
        return Err(Errno::EINVAL);
    }
    if len == 0 {
        return Ok(Vec::new());
    }
    sys.mm().read_bytes(addr, len as usize)
}

/// Linux's move_addr_to_user: copies as much of `kaddr` as the caller's
/// length allows and reports the full length.
fn put_sockaddr(sys: &Sys, kaddr: &[u8], uaddr: u64, ulen: u64) -> KResult<()> {
    let mm = sys.mm();
    let len: i32 = mm.read(ulen)?;
    let len = len.min(kaddr.len() as i32);
    if len < 0 {
        return Err(Errno::EINVAL);
    }
    if len > 0 {
        mm.write_bytes(uaddr, &kaddr[..len as usize])?;
    }
    mm.write(ulen, &(kaddr.len() as i32))
}

/// The two lowest free fds (socketpair reserves them before it makes
/// anything, so EMFILE and EFAULT come first).
fn reserve_fds(task: &Task, n: usize) -> KResult<Vec<i32>> {
    let limit = nofile_limit(task);
    let used = task.files().fds();
    let mut free = Vec::with_capacity(n);
    let mut fd = 0i32;
    while free.len() < n {
        if fd as u64 >= limit {
            return Err(Errno::EMFILE);
        }
        if used.binary_search(&fd).is_err() {
            free.push(fd);
        }
        fd += 1;
    }
    Ok(free)
}

fn install(task: &Task, file: Arc<File>, cloexec: bool) -> KResult<i32> {
    let limit = nofile_limit(task);
    task.files().install(file, cloexec, 0, limit)
}

/// SOCK_CLOEXEC and SOCK_NONBLOCK from socket(2)'s type argument; EINVAL
/// for any other flag bit.
fn type_flags(ty: u32) -> KResult<(u32, u32)> {
    let flags = ty & !SOCK_TYPE_MASK;
    if flags & !(SOCK_CLOEXEC | SOCK_NONBLOCK) != 0 {
        return Err(Errno::EINVAL);
    }
    Ok((ty & SOCK_TYPE_MASK, flags))
}

// ---- creating and naming ----

fn sys_socket(sys: &mut Sys) -> KResult<u64> {
    let (family, ty, protocol) = (sys.arg_i32(0), sys.arg_u32(1), sys.arg_i32(2));
    let (ty, flags) = type_flags(ty)?;
    let sock = crate::net::create(family, ty, protocol)?;
    let file = crate::net::socket_file(sock, flags);
    Ok(install(sys.task, file, flags & SOCK_CLOEXEC != 0)? as u64)
}

fn sys_socketpair(sys: &mut Sys) -> KResult<u64> {
    let (family, ty, protocol, usv) = (sys.arg_i32(0), sys.arg_u32(1), sys.arg_i32(2), sys.arg(3));
    let (ty, flags) = type_flags(ty)?;
    let task = sys.task;
    let fds = reserve_fds(task, 2)?;
    sys.mm().write(usv, &[fds[0], fds[1]])?;
    let (a, b) = crate::net::create_pair(family, ty, protocol)?;
    let cloexec = flags & SOCK_CLOEXEC != 0;
    let (fa, fb) = (crate::net::socket_file(a, flags), crate::net::socket_file(b, flags));
    let replaced = {
        let mut files = task.files();
        (files.put(fds[0], fa, cloexec), files.put(fds[1], fb, cloexec))
    };
    drop(replaced);
    Ok(0)
}

fn sys_bind(sys: &mut Sys) -> KResult<u64> {
    let file = socket_file(sys, sys.arg_i32(0))?;
    let addr = read_sockaddr(sys, sys.arg(1), sys.arg_i32(2))?;
    socket(&file).bind(&**sys.task, &addr)?;
    Ok(0)
}

fn sys_listen(sys: &mut Sys) -> KResult<u64> {
    let file = socket_file(sys, sys.arg_i32(0))?;
    let somaxconn = crate::net::limits().somaxconn;
    // Linux compares as unsigned: a negative backlog is the maximum.
    let backlog = sys.arg_i32(1);
    let backlog = if backlog as u32 > somaxconn as u32 { somaxconn } else { backlog };
    socket(&file).listen(backlog)?;
    Ok(0)
}

fn do_accept(sys: &Sys, flags: u32) -> KResult<u64> {
    if flags & !(SOCK_CLOEXEC | SOCK_NONBLOCK) != 0 {
        return Err(Errno::EINVAL);
    }
    let (fd, uaddr, ulen) = (sys.arg_i32(0), sys.arg(1), sys.arg(2));
    let task = sys.task;
    let file = io_file(task, fd)?;
    reserve_fds(task, 1)?;
    let sock = crate::net::socket_of(&file)?;
    let new = sock.accept(file.nonblocking())?;
    let name = if uaddr != 0 { Some(new.getname(true).map_err(|_| Errno::ECONNABORTED)?) } else { None };
    let newfile = crate::net::socket_file(new, flags);
    if let Some(name) = name {
        // The connection is gone if the address cannot be written.
        put_sockaddr(sys, &name, uaddr, ulen)?;
    }
    Ok(install(task, newfile, flags & SOCK_CLOEXEC != 0)? as u64)
}

fn sys_accept(sys: &mut Sys) -> KResult<u64> {
    do_accept(sys, 0)
}

fn sys_accept4(sys: &mut Sys) -> KResult<u64> {
    do_accept(sys, sys.arg_u32(3))
}

fn sys_connect(sys: &mut Sys) -> KResult<u64> {
    // Linux copies the address in before it checks that the fd is a socket.
    let file = io_file(sys.task, sys.arg_i32(0))?;
    let addr = read_sockaddr(sys, sys.arg(1), sys.arg_i32(2))?;
    let sock = crate::net::socket_of(&file)?;
    sock.connect(&**sys.task, &addr, file.nonblocking())?;
    Ok(0)
}

fn getname(sys: &Sys, peer: bool) -> KResult<u64> {
    let file = socket_file(sys, sys.arg_i32(0))?;
    let name = socket(&file).getname(peer)?;
    put_sockaddr(sys, &name, sys.arg(1), sys.arg(2))?;
    Ok(0)
}

fn sys_getsockname(sys: &mut Sys) -> KResult<u64> {
    getname(sys, false)
}

fn sys_getpeername(sys: &mut Sys) -> KResult<u64> {
    getname(sys, true)
}

fn sys_shutdown(sys: &mut Sys) -> KResult<u64> {
    let file = socket_file(sys, sys.arg_i32(0))?;
    socket(&file).shutdown(sys.arg_i32(1))?;
    Ok(0)
}

// ---- options ----

fn sys_setsockopt(sys: &mut Sys) -> KResult<u64> {
    let (fd, level, name, optval, optlen) = (sys.arg_i32(0), sys.arg_i32(1), sys.arg_i32(2), sys.arg(3), sys.arg_i32(4));
    if optlen < 0 {
        return Err(Errno::EINVAL);
    }
    let file = socket_file(sys, fd)?;
    let mm = sys.mm();
    let read = |n: usize| mm.read_bytes(optval, n);
    socket(&file).setsockopt(level, name, &OptVal { len: optlen as usize, read: &read })?;
    Ok(0)
}

fn sys_getsockopt(sys: &mut Sys) -> KResult<u64> {
    let (fd, level, name, optval, optlen) = (sys.arg_i32(0), sys.arg_i32(1), sys.arg_i32(2), sys.arg(3), sys.arg(4));
    let file = socket_file(sys, fd)?;
    let sock = socket(&file);
    if level != SOL_SOCKET {
        return sock.getsockopt(level, name, 0).map(|_| 0);
    }
    let mm = sys.mm();
    let len: i32 = mm.read(optlen)?;
    if len < 0 {
        return Err(Errno::EINVAL);
    }
    let value = sock.getsockopt(level, name, len as usize)?;
    mm.write_bytes(optval, &value)?;
    mm.write(optlen, &(value.len() as i32))?;
    Ok(0)
}

// ---- control messages ----

fn word<const N: usize>(b: &[u8], at: usize) -> [u8; N] {
    let mut w = [0u8; N];
    w.copy_from_slice(&b[at..at + N]);
    w
}

/// Linux's scm_check_creds: a sender may claim only its own pid and ids
/// (any, with CAP_SYS_ADMIN, CAP_SETUID and CAP_SETGID); the pid must exist.
fn check_creds(task: &Task, c: &Ucred) -> KResult<()> {
    if c.uid == u32::MAX || c.gid == u32::MAX {
        return Err(Errno::EINVAL);
    }
    let me = task.creds();
    let root = me.euid == 0;
    let pid_ok = c.pid == task.tgid || root;
    let uid_ok = [me.uid, me.euid, me.suid].contains(&c.uid) || root;
    let gid_ok = [me.gid, me.egid, me.sgid].contains(&c.gid) || root;
    if !(pid_ok && uid_ok && gid_ok) {
        return Err(Errno::EPERM);
    }
    if c.pid != task.tgid && task.system.task(c.pid).is_none() && task.system.process(c.pid).is_none() {
        return Err(Errno::ESRCH);
    }
    Ok(())
}

/// Linux's __scm_send over the control buffer: every header must fit
/// (EINVAL); SOL_SOCKET headers must be SCM_RIGHTS (at most SCM_MAX_FD
/// fds in all, each open: EBADF) or SCM_CREDENTIALS; other levels are
/// skipped. Overflow-safe for any cmsg_len a guest writes.
fn decode_scm(task: &Task, ctl: &[u8]) -> KResult<Scm> {
    let mut scm = Scm::default();
    let mut off = 0usize;
    while ctl.len() >= CMSG_HDR_SIZE && off <= ctl.len() - CMSG_HDR_SIZE {
        let cmsg_len = u64::from_ne_bytes(word(ctl, off));
        let level = i32::from_ne_bytes(word(ctl, off + 8));
        let ty = i32::from_ne_bytes(word(ctl, off + 12));
        if cmsg_len < CMSG_HDR_SIZE as u64 || cmsg_len > (ctl.len() - off) as u64 {
            return Err(Errno::EINVAL);
        }
        let len = cmsg_len as usize;
        let data = &ctl[off + CMSG_HDR_SIZE..off + len];
        if level == SOL_SOCKET {
            match ty {
                SCM_RIGHTS => {
                    let num = data.len() / 4;
                    if num > 0 {
                        if num > SCM_MAX_FD || scm.rights.len() + num > SCM_MAX_FD {
                            return Err(Errno::EINVAL);
                        }
                        let files = task.files();
                        for i in 0..num {
                            let fd = i32::from_ne_bytes(word(data, 4 * i));
                            // Any open file, O_PATH ones too (fget_raw).
                            scm.rights.push(files.get(fd)?);
                        }
                    }
                }
                SCM_CREDENTIALS => {
                    if len != cmsg_len_of::<Ucred>() {
                        return Err(Errno::EINVAL);
                    }
                    let c = Ucred { pid: i32::from_ne_bytes(word(data, 0)), uid: u32::from_ne_bytes(word(data, 4)), gid: u32::from_ne_bytes(word(data, 8)) };
                    check_creds(task, &c)?;
                    scm.creds = Some(c);
                }
                _ => return Err(Errno::EINVAL),
            }
        }
        // CMSG_NXTHDR: the next header must fit whole.
        let Some(next) = cmsg_align(cmsg_len).and_then(|a| (off as u64).checked_add(a)) else { break };
        if next.saturating_add(CMSG_HDR_SIZE as u64) > ctl.len() as u64 {
            break;
        }
        off = next as usize;
    }
    Ok(scm)
}

const fn cmsg_len_of<T>() -> usize {
    cmsg_len(size_of::<T>())
}

/// The receiver's control buffer as recvmsg fills it (Linux's put_cmsg
/// and scm_detach_fds).
struct ControlOut {
    addr: u64,
    len: u64,
    flags: u32,
}

impl ControlOut {
    fn advance(&mut self, space: usize) {
        let n = (space as u64).min(self.len);
        self.addr += n;
        self.len -= n;
    }

    /// put_cmsg: a truncated message sets MSG_CTRUNC; a fault loses it.
    fn put(&mut self, sys: &Sys, level: i32, ty: i32, data: &[u8]) {
        if self.addr == 0 || self.len < CMSG_HDR_SIZE as u64 {
            self.flags |= MSG_CTRUNC;
            return;
        }
        let mut cmlen = cmsg_len(data.len()) as u64;
        if self.len < cmlen {
            self.flags |= MSG_CTRUNC;
            cmlen = self.len;
        }
        let hdr = CmsgHdr { cmsg_len: cmlen, cmsg_level: level, cmsg_type: ty };
        let mm = sys.mm();
        if mm.write(self.addr, &hdr).is_err() || mm.write_bytes(self.addr + CMSG_HDR_SIZE as u64, &data[..cmlen as usize - CMSG_HDR_SIZE]).is_err() {
            return;
        }
        self.advance(cmsg_space(data.len()));
    }

    /// scm_detach_fds: installs as many fds as fit (MSG_CMSG_CLOEXEC sets
    /// close-on-exec) and sets MSG_CTRUNC when some did not; the files
    /// that got no fd are closed.
    fn put_rights(&mut self, sys: &Sys, files: Vec<Arc<File>>, cloexec: bool) {
        let task = sys.task;
        let mm = sys.mm();
        let fdmax = if self.addr == 0 || self.len <= CMSG_HDR_SIZE as u64 { 0 } else { ((self.len - CMSG_HDR_SIZE as u64) / 4) as usize };
        let fdmax = fdmax.min(files.len());
        let count = files.len();
        let mut installed = 0usize;
        let data = self.addr + CMSG_HDR_SIZE as u64;
        let mut rest = files.into_iter();
        for file in rest.by_ref().take(fdmax) {
            let Ok(fd) = install(task, file, cloexec) else { break };
            if mm.write(data + 4 * installed as u64, &fd).is_err() {
                let gone = task.files().remove(fd);
                drop(gone);
                break;
            }
            installed += 1;
        }
        drop(rest);
        if installed > 0 {
            let hdr = CmsgHdr { cmsg_len: cmsg_len(4 * installed) as u64, cmsg_level: SOL_SOCKET, cmsg_type: SCM_RIGHTS };
            if mm.write(self.addr, &hdr).is_ok() {
                self.advance(cmsg_space(4 * installed));
            }
        }
        if installed < count || (count > 0 && fdmax == 0) {
            self.flags |= MSG_CTRUNC;
        }
    }
}

// ---- sending and receiving ----

fn sys_sendto(sys: &mut Sys) -> KResult<u64> {
    let (fd, buf, len, flags, addr, addrlen) = (sys.arg_i32(0), sys.arg(1), sys.arg(2) as usize, sys.arg_u32(3), sys.arg(4), sys.arg_i32(5));
    let bufs = UserBuffers::import(sys.mm(), buf, len)?;
    let file = socket_file(sys, fd)?;
    let name = if addr != 0 { read_sockaddr(sys, addr, addrlen)? } else { Vec::new() };
    let flags = if file.nonblocking() { flags | MSG_DONTWAIT } else { flags };
    let mut no_control = || Ok(Scm::default());
    let msg = SendMsg { data: &bufs, name: (!name.is_empty()).then_some(&name[..]), flags, scm: &mut no_control, caller: Some(&**sys.task) };
    Ok(socket(&file).sendmsg(msg)? as u64)
}

fn sys_recvfrom(sys: &mut Sys) -> KResult<u64> {
    let (fd, buf, len, flags, addr, addrlen) = (sys.arg_i32(0), sys.arg(1), sys.arg(2) as usize, sys.arg_u32(3), sys.arg(4), sys.arg(5));
    let mut bufs = UserBuffers::import(sys.mm(), buf, len)?;
    let file = socket_file(sys, fd)?;
    let flags = if file.nonblocking() { flags | MSG_DONTWAIT } else { flags };
    let r = socket(&file).recvmsg(&mut bufs, flags, addr != 0)?;
    // No control buffer: files sent along are closed.
    drop(r.rights);
    if addr != 0 {
        put_sockaddr(sys, &r.name, addr, addrlen)?;
    }
    Ok(r.len as u64)
}

/// A user msghdr read and checked as Linux's copy_msghdr_from_user does:
/// EFAULT, EINVAL for a negative name length (a longer one is cut to
/// sockaddr_storage), EMSGSIZE for too many iovecs, then the iovecs.
struct MsgHeader {
    hdr: MsgHdr,
    namelen: usize,
    bufs: UserBuffers,
}

fn read_msghdr(sys: &Sys, addr: u64) -> KResult<MsgHeader> {
    let mm = sys.mm();
    let hdr: MsgHdr = mm.read(addr)?;
    let namelen = if hdr.msg_name == 0 { 0 } else { hdr.msg_namelen };
    if namelen < 0 {
        return Err(Errno::EINVAL);
    }
    let namelen = (namelen as usize).min(SOCKADDR_STORAGE_SIZE);
    if hdr.msg_iovlen > crate::abi::uio::IOV_MAX as u64 {
        return Err(Errno::EMSGSIZE);
    }
    let bufs = UserBuffers::iovec(mm, hdr.msg_iov, hdr.msg_iovlen as i32)?;
    Ok(MsgHeader { hdr, namelen, bufs })
}

/// Linux's ___sys_sendmsg: returns the bytes sent and the bytes offered.
fn do_sendmsg(sys: &Sys, file: &File, msg: u64, flags: u32, allowed: u32) -> KResult<(usize, usize)> {
    let MsgHeader { hdr, namelen, bufs } = read_msghdr(sys, msg)?;
    let mm = sys.mm();
    let name = if namelen > 0 { mm.read_bytes(hdr.msg_name, namelen)? } else { Vec::new() };
    if hdr.msg_controllen > i32::MAX as u64 {
        return Err(Errno::ENOBUFS);
    }
    let mut flags = flags | (hdr.msg_flags & allowed);
    let ctl_len = hdr.msg_controllen as usize;
    // Beyond the 36 bytes Linux keeps on its stack, the buffer comes from
    // the socket's option memory (net.core.optmem_max).
    if ctl_len > 36 && ctl_len >= crate::net::limits().optmem_max {
        return Err(Errno::ENOBUFS);
    }
    let ctl = if ctl_len > 0 { mm.read_bytes(hdr.msg_control, ctl_len)? } else { Vec::new() };
    if file.nonblocking() {
        flags |= MSG_DONTWAIT;
    }
    let task = sys.task;
    let mut scm = || decode_scm(task, &ctl);
    let total = bufs.len();
    let msg = SendMsg { data: &bufs, name: (!name.is_empty()).then_some(&name[..]), flags, scm: &mut scm, caller: Some(&**task) };
    let sent = socket(file).sendmsg(msg)?;
    Ok((sent, total))
}

/// Linux's ___sys_recvmsg: the data, then the source address, msg_flags
/// and the control buffer's used length written back.
fn do_recvmsg(sys: &Sys, file: &File, msg: u64, flags: u32) -> KResult<usize> {
    let MsgHeader { hdr, mut bufs, .. } = read_msghdr(sys, msg)?;
    let out_flags = flags & MSG_CMSG_CLOEXEC;
    let recv_flags = if file.nonblocking() { flags | MSG_DONTWAIT } else { flags };
    let r: Received = socket(file).recvmsg(&mut bufs, recv_flags, hdr.msg_name != 0)?;
    if hdr.msg_name != 0 {
        put_sockaddr(sys, &r.name, hdr.msg_name, msg + MSGHDR_NAMELEN_OFFSET)?;
    }
    let mut ctl = ControlOut { addr: hdr.msg_control, len: hdr.msg_controllen, flags: r.flags | out_flags };
    if hdr.msg_control == 0 {
        if r.creds.is_some() || r.rights.is_some() {
            ctl.flags |= MSG_CTRUNC;
        }
        drop(r.rights);
    } else {
        if let Some(c) = r.creds {
            let bytes = crate::net::ucred_bytes(&c);
            ctl.put(sys, SOL_SOCKET, SCM_CREDENTIALS, &bytes);
        }
        if let Some(files) = r.rights {
            ctl.put_rights(sys, files, flags & MSG_CMSG_CLOEXEC != 0);
        }
    }
    let mm = sys.mm();
    mm.write(msg + MSGHDR_FLAGS_OFFSET, &ctl.flags)?;
    mm.write(msg + MSGHDR_CONTROLLEN_OFFSET, &(ctl.addr - hdr.msg_control))?;
    Ok(r.len)
}

fn sys_sendmsg(sys: &mut Sys) -> KResult<u64> {
    let (fd, msg, flags) = (sys.arg_i32(0), sys.arg(1), sys.arg_u32(2));
    if flags & MSG_CMSG_COMPAT != 0 {
        return Err(Errno::EINVAL);
    }
    let file = socket_file(sys, fd)?;
    Ok(do_sendmsg(sys, &file, msg, flags, 0)?.0 as u64)
}

fn sys_recvmsg(sys: &mut Sys) -> KResult<u64> {
    let (fd, msg, flags) = (sys.arg_i32(0), sys.arg(1), sys.arg_u32(2));
    if flags & MSG_CMSG_COMPAT != 0 {
        return Err(Errno::EINVAL);
    }
    let file = socket_file(sys, fd)?;
    Ok(do_recvmsg(sys, &file, msg, flags)? as u64)
}

/// Linux's __sys_sendmmsg: up to UIO_MAXIOV messages; stops at the first
/// error (reported only if nothing was sent) or short send.
fn sys_sendmmsg(sys: &mut Sys) -> KResult<u64> {
    let (fd, vec, vlen, flags) = (sys.arg_i32(0), sys.arg(1), sys.arg_u32(2), sys.arg_u32(3));
    if flags & MSG_CMSG_COMPAT != 0 {
        return Err(Errno::EINVAL);
    }
    let vlen = vlen.min(crate::abi::uio::IOV_MAX as u32);
    let file = socket_file(sys, fd)?;
    let mut datagrams = 0u32;
    let mut err = None;
    while datagrams < vlen {
        let f = if datagrams == vlen - 1 { flags } else { flags | MSG_BATCH };
        let entry = vec.wrapping_add(datagrams as u64 * MMSGHDR_SIZE);
        match do_sendmsg(sys, &file, entry, f, MSG_EOR) {
            Ok((sent, total)) => {
                if let Err(e) = sys.mm().write(entry.wrapping_add(MMSGHDR_LEN_OFFSET), &(sent as u32)) {
                    err = Some(e);
                    break;
                }
                datagrams += 1;
                if sent < total {
                    break;
                }
            }
            Err(e) => {
                err = Some(e);
                break;
            }
        }
    }
    match (datagrams, err) {
        (0, Some(e)) => Err(e),
        (n, _) => Ok(n as u64),
    }
}

/// Linux's do_recvmmsg: a pending socket error first; the timeout is
/// looked at only between messages; an error after some messages is kept
/// for the next call (SO_ERROR), unless it is EAGAIN.
fn sys_recvmmsg(sys: &mut Sys) -> KResult<u64> {
    let (fd, vec, vlen, mut flags, utimeout) = (sys.arg_i32(0), sys.arg(1), sys.arg_u32(2), sys.arg_u32(3), sys.arg(4));
    if flags & MSG_CMSG_COMPAT != 0 {
        return Err(Errno::EINVAL);
    }
    let mm = sys.mm();
    let mut timeout: Option<Timespec> = if utimeout != 0 { Some(mm.read(utimeout)?) } else { None };
    let end = match &timeout {
        Some(ts) => {
            let ns = crate::sched::time::timespec_ns(ts)?;
            Some(crate::sched::time::Deadline::after_ns(ns))
        }
        None => None,
    };
    let file = socket_file(sys, fd)?;
    let sock = socket(&file);
    if flags & MSG_ERRQUEUE == 0 {
        if let Some(e) = sock.take_error() {
            return Err(e);
        }
    }
    let mut datagrams = 0u32;
    let mut err = None;
    while datagrams < vlen {
        let entry = vec.wrapping_add(datagrams as u64 * MMSGHDR_SIZE);
        match do_recvmsg(sys, &file, entry, flags & !MSG_WAITFORONE) {
            Ok(n) => {
                if let Err(e) = mm.write(entry.wrapping_add(MMSGHDR_LEN_OFFSET), &(n as u32)) {
                    err = Some(e);
                    break;
                }
                datagrams += 1;
            }
            Err(e) => {
                err = Some(e);
                break;
            }
        }
        if flags & MSG_WAITFORONE != 0 {
            flags |= MSG_DONTWAIT;
        }
        if let (Some(end), Some(ts)) = (end, timeout.as_mut()) {
            *ts = crate::sched::time::ns_to_timespec(end.remaining_ns());
            if end.has_passed() || end.remaining_ns() == 0 {
                *ts = Timespec { tv_sec: 0, tv_nsec: 0 };
                break;
            }
        }
    }
    let result = match err {
        None => datagrams,
        Some(e) if datagrams == 0 => return Err(e),
        Some(e) => {
            // Kept for the next call, as Linux's sk_err (restart codes are
            // the kernel's own and never reach a guest this way).
            if e != Errno::EAGAIN && e.0 < Errno::ERESTARTSYS.0 {
                sock.set_error(e);
            }
            datagrams
        }
    };
    if result > 0 {
        if let Some(ts) = timeout {
            mm.write(utimeout, &ts)?;
        }
    }
    Ok(result as u64)
}
