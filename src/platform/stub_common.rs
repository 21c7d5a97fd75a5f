//! What the two platforms' stubs share: where they live in every guest
//! address space, the start of their code (stub_common.s, included by
//! both stub.s files), the layout of a batched host call, and the seccomp
//! filter that lets only the stub's code page make its few host calls.

/// Where build.rs links both stubs.
pub const STUB_BASE: u64 = crate::platform::STUB_REGION_START;
/// The stub's code page (its second ELF segment).
pub const STUB_CODE: u64 = STUB_BASE + 0x1000;
/// `syscall; int3` for calls injected with ptrace (stub_common.s).
pub const SYSCALL_SITE: u64 = STUB_CODE + 0x10;
/// The page of vkernel's orders to the stub (read-only in the stub).
pub const OPS_ADDR: u64 = STUB_BASE + 0x10000;
/// The highest user address on x86-64 with 4-level paging.
pub const USER_TOP: u64 = 0x7fff_ffff_f000;
/// The fd number of the guest-RAM memfd inside every stub.
pub const STUB_MEMFD: i32 = crate::platform::spawn::STUB_MEMFD;
/// Bytes per batched host call: nr + six arguments.
pub const OP_SIZE: usize = 56;

#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SockFilter {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

pub const LD_W_ABS: u16 = 0x20;
pub const JEQ_K: u16 = 0x15;
pub const JGE_K: u16 = 0x35;
pub const RET_K: u16 = 0x06;
pub const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
pub const SECCOMP_RET_KILL_PROCESS: u32 = 0x8000_0000;
pub const SECCOMP_RET_TRAP: u32 = 0x0003_0000;
pub const SECCOMP_RET_ALLOW: u32 = 0x7fff_0000;

/// A filter that lets `allowed` through when made from the stub's code
/// page (x86-64 ABI only) and answers everything else with `otherwise`.
pub fn code_page_filter(allowed: &[u32], otherwise: u32) -> Vec<SockFilter> {
    let f = |code, jt, jf, k| SockFilter { code, jt, jf, k };
    let lo = STUB_CODE as u32;
    let hi = (STUB_CODE >> 32) as u32;
    // Layout: 0..=6 checks, 7 load nr, 8..8+n compares, then the refusal
    // and ALLOW.
    let n = allowed.len() as u8;
    let refuse = 8 + n;
    let mut prog = vec![
        f(LD_W_ABS, 0, 0, 4),
        f(JEQ_K, 0, refuse - 2, AUDIT_ARCH_X86_64),
        f(LD_W_ABS, 0, 0, 12),
        f(JEQ_K, 0, refuse - 4, hi),
        f(LD_W_ABS, 0, 0, 8),
        f(JGE_K, 0, refuse - 6, lo),
        f(JGE_K, refuse - 7, 0, lo + 0x1000),
        f(LD_W_ABS, 0, 0, 0),
    ];
    for (i, nr) in allowed.iter().enumerate() {
        let here = 8 + i as u8;
        prog.push(f(JEQ_K, refuse - here, 0, *nr));
    }
    prog.push(f(RET_K, 0, 0, otherwise));
    prog.push(f(RET_K, 0, 0, SECCOMP_RET_ALLOW));
    prog
}

/// The fd number a host file sent to a stub gets there: the lowest free
/// one, which each map frees first (the stub holds nothing below
/// STUB_MEMFD, and no guest thread may open anything).
const RECEIVED_FD: u64 = 0;

/// The layout of a stub's receive area (a page the stub may write): the
/// msghdr recvmsg reads and updates, its one iovec, the byte it carries,
/// and room for one SCM_RIGHTS message.
mod recv {
    pub const MSGHDR: usize = 0;
    pub const IOVEC: usize = 64;
    pub const BYTE: usize = 96;
    pub const CONTROL: usize = 128;
    pub const CONTROL_LEN: usize = 64;
    pub const SIZE: usize = 256;
}

/// Bytes of a receive area (see `write_receive_area`).
pub const RECEIVE_AREA_SIZE: usize = recv::SIZE;

/// Fills a receive area that lives at `addr` in the stub: a msghdr with
/// one one-byte iovec and a control buffer, all inside the area. The
/// guest may scribble it (the page is writable in the stub); a bad value
/// only makes its own next host-file map fail, which is retried.
pub fn write_receive_area(area: &mut [u8], addr: u64) {
    let area = &mut area[..recv::SIZE];
    area.fill(0);
    let mut put = |at: usize, v: u64| area[at..at + 8].copy_from_slice(&v.to_ne_bytes());
    // struct msghdr: name, namelen, iov, iovlen, control, controllen, flags.
    put(recv::MSGHDR + 16, addr + recv::IOVEC as u64);
    put(recv::MSGHDR + 24, 1);
    put(recv::MSGHDR + 32, addr + recv::CONTROL as u64);
    put(recv::MSGHDR + 40, recv::CONTROL_LEN as u64);
    put(recv::IOVEC, addr + recv::BYTE as u64);
    put(recv::IOVEC + 8, 1);
}

/// The host calls of one mapping change, as a stub's batch runs them
/// (nr + six arguments each). A host file's map takes four: free the fd
/// it will get, receive it (sent beforehand on the stub's `FileChannel`),
/// map it, close it (a file that was not sent makes the receive fail with
/// EAGAIN, never wait, so the batch fails and is retried). `receive_area`
/// is where `write_receive_area` put the stub's msghdr.
pub fn host_op_words(op: &crate::platform::HostOp, receive_area: u64, out: &mut Vec<[u64; 7]>) {
    use crate::platform::HostOp;
    let shared_fixed = (libc::MAP_SHARED | libc::MAP_FIXED) as u64;
    match op {
        HostOp::Map { addr, len, prot, offset } => out.push([libc::SYS_mmap as u64, *addr, *len, *prot as u64, shared_fixed, STUB_MEMFD as u64, *offset]),
        HostOp::MapFile { addr, len, prot, offset, .. } => {
            out.push([libc::SYS_close_range as u64, RECEIVED_FD, RECEIVED_FD, 0, 0, 0, 0]);
            out.push([libc::SYS_recvmsg as u64, crate::platform::spawn::STUB_SOCKET as u64, receive_area + recv::MSGHDR as u64, (libc::MSG_CMSG_CLOEXEC | libc::MSG_DONTWAIT) as u64, 0, 0, 0]);
            out.push([libc::SYS_mmap as u64, *addr, *len, *prot as u64, shared_fixed, RECEIVED_FD, *offset]);
            out.push([libc::SYS_close as u64, RECEIVED_FD, 0, 0, 0, 0, 0]);
        }
        HostOp::Unmap { addr, len } => out.push([libc::SYS_munmap as u64, *addr, *len, 0, 0, 0, 0]),
        HostOp::Protect { addr, len, prot } => out.push([libc::SYS_mprotect as u64, *addr, *len, *prot as u64, 0, 0, 0]),
    }
}

/// How host files reach a stub: a datagram socket pair whose one end the
/// stub holds at STUB_SOCKET. vkernel sends each file a batch maps, in
/// order, just before it posts the batch; the batch's recvmsg takes them
/// in the same order. vkernel keeps a handle on the stub's end too, to
/// throw away files a failed batch never took before it sends again.
pub struct FileChannel {
    send: std::os::fd::OwnedFd,
    stub_end: std::os::fd::OwnedFd,
}

impl FileChannel {
    pub fn new() -> std::io::Result<FileChannel> {
        use std::os::fd::FromRawFd;
        let mut fds = [0i32; 2];
        // SAFETY: socketpair writes two fds into the local array.
        if unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0, fds.as_mut_ptr()) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: both fds were just created and are owned by nobody else.
        let (send, stub_end) = unsafe { (std::os::fd::OwnedFd::from_raw_fd(fds[0]), std::os::fd::OwnedFd::from_raw_fd(fds[1])) };
        Ok(FileChannel { send, stub_end })
    }

    /// The fd fork_stub gives the stub as STUB_SOCKET.
    pub fn stub_end(&self) -> i32 {
        use std::os::fd::AsRawFd;
        self.stub_end.as_raw_fd()
    }

    /// Sends the files of `ops`' host-file maps, in order, after throwing
    /// away any an earlier batch left. Stops at the first that cannot be
    /// sent: the batch's receive for it fails, and so the batch.
    pub fn send_files(&self, ops: &[crate::platform::HostOp]) {
        use std::os::fd::AsRawFd;
        let mut first = true;
        for op in ops {
            let crate::platform::HostOp::MapFile { file, .. } = op else { continue };
            if first {
                self.drain();
                first = false;
            }
            if send_fd(self.send.as_raw_fd(), file.0.raw()).is_err() {
                return;
            }
        }
    }

    /// Receives and closes every file waiting at the stub's end.
    fn drain(&self) {
        use std::os::fd::AsRawFd;
        while let Some(fd) = receive_fd(self.stub_end.as_raw_fd()) {
            drop(fd);
        }
    }
}

/// Sends `fd` as one SCM_RIGHTS datagram of one byte.
fn send_fd(socket: i32, fd: i32) -> std::io::Result<()> {
    let mut byte = [0u8; 1];
    let mut iov = libc::iovec { iov_base: byte.as_mut_ptr().cast(), iov_len: 1 };
    let mut control = [0u64; 4];
    // SAFETY: msghdr is plain data; zero is a valid start.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    // SAFETY: CMSG_SPACE only computes a size.
    msg.msg_controllen = unsafe { libc::CMSG_SPACE(4) } as usize;
    // SAFETY: the control buffer (32 bytes) holds one cmsghdr with one
    // int (CMSG_SPACE(4) = 24); the pointers CMSG_* return lie inside it.
    unsafe {
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        (*cmsg).cmsg_level = libc::SOL_SOCKET;
        (*cmsg).cmsg_type = libc::SCM_RIGHTS;
        (*cmsg).cmsg_len = libc::CMSG_LEN(4) as usize;
        std::ptr::write_unaligned(libc::CMSG_DATA(cmsg).cast::<i32>(), fd);
    }
    // SAFETY: `msg` and everything it points to are live locals.
    if unsafe { libc::sendmsg(socket, &msg, libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL) } == 1 { Ok(()) } else { Err(std::io::Error::last_os_error()) }
}

/// Takes one waiting datagram: None when none waits, else the fd it
/// carried (if any).
fn receive_fd(socket: i32) -> Option<Option<std::os::fd::OwnedFd>> {
    use std::os::fd::FromRawFd;
    let mut byte = [0u8; 1];
    let mut iov = libc::iovec { iov_base: byte.as_mut_ptr().cast(), iov_len: 1 };
    let mut control = [0u64; 4];
    // SAFETY: msghdr is plain data; zero is a valid start.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&control);
    // SAFETY: `msg` and everything it points to are live locals.
    if unsafe { libc::recvmsg(socket, &mut msg, libc::MSG_DONTWAIT | libc::MSG_CMSG_CLOEXEC) } < 0 {
        return None;
    }
    // SAFETY: the kernel filled `control` up to msg_controllen; CMSG_*
    // walk only that.
    unsafe {
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        if cmsg.is_null() || (*cmsg).cmsg_level != libc::SOL_SOCKET || (*cmsg).cmsg_type != libc::SCM_RIGHTS {
            return Some(None);
        }
        let fd = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast::<i32>());
        Some(Some(std::os::fd::OwnedFd::from_raw_fd(fd)))
    }
}

/// Runs a filter as the kernel would for (arch, nr, ip): for tests.
#[cfg(test)]
pub fn verdict(prog: &[SockFilter], arch: u32, nr: u32, ip: u64) -> u32 {
    let data = |off: u32| match off {
        0 => nr,
        4 => arch,
        8 => ip as u32,
        12 => (ip >> 32) as u32,
        _ => 0,
    };
    let (mut pc, mut acc) = (0usize, 0u32);
    loop {
        let ins = prog[pc];
        match ins.code {
            LD_W_ABS => acc = data(ins.k),
            JEQ_K => pc += if acc == ins.k { ins.jt } else { ins.jf } as usize,
            JGE_K => pc += if acc >= ins.k { ins.jt } else { ins.jf } as usize,
            RET_K => return ins.k,
            _ => panic!("unknown instruction"),
        }
        pc += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_code_page_gets_through() {
        let prog = code_page_filter(&[1, 2], SECCOMP_RET_KILL_PROCESS);
        assert_eq!(verdict(&prog, AUDIT_ARCH_X86_64, 2, STUB_CODE + 8), SECCOMP_RET_ALLOW);
        assert_eq!(verdict(&prog, AUDIT_ARCH_X86_64, 3, STUB_CODE + 8), SECCOMP_RET_KILL_PROCESS);
        assert_eq!(verdict(&prog, AUDIT_ARCH_X86_64, 1, STUB_CODE - 1), SECCOMP_RET_KILL_PROCESS);
        assert_eq!(verdict(&prog, AUDIT_ARCH_X86_64, 1, STUB_CODE + 0x1000), SECCOMP_RET_KILL_PROCESS);
        assert_eq!(verdict(&prog, AUDIT_ARCH_X86_64, 1, STUB_CODE + (1 << 32)), SECCOMP_RET_KILL_PROCESS);
        assert_eq!(verdict(&prog, 0x4000_0003, 1, STUB_CODE + 8), SECCOMP_RET_KILL_PROCESS, "the i386 ABI is refused");
    }
}
