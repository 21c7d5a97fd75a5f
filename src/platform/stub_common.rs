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

/// The fd number a host file a stub maps gets there while it maps it:
/// the lowest free one, which each map frees first (the stub holds
/// nothing below STUB_MEMFD, and no guest thread may open anything).
const OPENED_FD: u64 = 0;

/// Closes what a failed host-file map left open (run after clearing a
/// stub's mappings; never fails).
pub const CLOSE_OPENED: [u64; 7] = [libc::SYS_close_range as u64, OPENED_FD, OPENED_FD, 0, 0, 0, 0];

/// Bytes of a stub's read-only page for the paths its batch opens (the
/// end of the ops page on ptrace, of the shared page on seccomp).
pub const PATHS_SIZE: usize = 512;
/// Bytes per path ("/proc/<pid>/fd/<n>" and its NUL).
const PATH_SLOT: usize = 32;

/// One batch as a stub runs it: host calls (nr + six arguments each) and
/// the paths its host-file maps open, for `PATHS_SIZE` bytes of a page
/// the stub reads (slot k at `k * 32`).
#[derive(Default)]
pub struct Batch {
    pub calls: Vec<[u64; 7]>,
    pub paths: Vec<Vec<u8>>,
}

impl Batch {
    /// Writes the paths into the PATHS_SIZE bytes of `area`.
    pub fn write_paths(&self, area: &mut [u8]) {
        for (k, path) in self.paths.iter().enumerate() {
            let slot = &mut area[k * PATH_SLOT..(k + 1) * PATH_SLOT];
            slot.fill(0);
            slot[..path.len()].copy_from_slice(path);
        }
    }
}

/// Splits host changes into batches of at most `max_calls` host calls.
/// A host file's map takes four: free the fd it will get, open the file
/// through vkernel's own fd in /proc (`/proc/<vkernel>/fd/<n>`, with the
/// access vkernel's fd has), map it, close it. So no stub ever holds a
/// host file but while it maps it, nor any way to receive one. The paths
/// lie at `paths_addr` in the stub, in a page it cannot write.
pub fn batches(ops: &[crate::platform::HostOp], max_calls: usize, paths_addr: u64) -> Vec<Batch> {
    use crate::platform::HostOp;
    let shared_fixed = (libc::MAP_SHARED | libc::MAP_FIXED) as u64;
    let mut out = vec![Batch::default()];
    for op in ops {
        let need = if matches!(op, HostOp::MapFile { .. }) { 4 } else { 1 };
        let full = out.last().is_some_and(|b| b.calls.len() + need > max_calls || (need == 4 && (b.paths.len() + 1) * PATH_SLOT > PATHS_SIZE));
        if full {
            out.push(Batch::default());
        }
        let Some(batch) = out.last_mut() else { break };
        match op {
            HostOp::Map { addr, len, prot, offset } => {
                batch.calls.push([libc::SYS_mmap as u64, *addr, *len, *prot as u64, shared_fixed, STUB_MEMFD as u64, *offset])
            }
            HostOp::MapFile { addr, len, prot, offset, file } => {
                let path_at = paths_addr + (batch.paths.len() * PATH_SLOT) as u64;
                batch.paths.push(format!("/proc/{}/fd/{}", proc_pid(), file.0.raw()).into_bytes());
                let access = (file.0.access_mode() | libc::O_CLOEXEC) as u64;
                batch.calls.push(CLOSE_OPENED);
                batch.calls.push([libc::SYS_openat as u64, libc::AT_FDCWD as u64, path_at, access, 0, 0, 0]);
                batch.calls.push([libc::SYS_mmap as u64, *addr, *len, *prot as u64, shared_fixed, OPENED_FD, *offset]);
                batch.calls.push([libc::SYS_close as u64, OPENED_FD, 0, 0, 0, 0, 0]);
            }
            HostOp::Unmap { addr, len } => batch.calls.push([libc::SYS_munmap as u64, *addr, *len, 0, 0, 0, 0]),
            HostOp::Protect { addr, len, prot } => batch.calls.push([libc::SYS_mprotect as u64, *addr, *len, *prot as u64, 0, 0, 0]),
        }
    }
    out
}

/// vkernel's pid as the /proc its stubs see names it (read from
/// /proc/self, which also holds inside a pid namespace with its own /proc).
fn proc_pid() -> u32 {
    static PID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *PID.get_or_init(|| std::fs::read_link("/proc/self").ok().and_then(|p| p.to_str().and_then(|s| s.parse().ok())).unwrap_or_else(std::process::id))
}

/// Whether stubs can open vkernel's fds through /proc (so host files can
/// be mapped by the host): /proc shows vkernel's own fds.
pub fn host_files_mappable() -> bool {
    static OK: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *OK.get_or_init(|| std::fs::read_dir(format!("/proc/{}/fd", proc_pid())).is_ok())
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
