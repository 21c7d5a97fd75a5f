//! The stub program: its image, its fixed addresses and its seccomp filter.

/// The assembled stub (see stub.s and build.rs).
pub static STUB_ELF: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/stub.elf"));

/// Where build.rs links the stub; equal to `platform::STUB_REGION_START`.
pub const STUB_BASE: u64 = 0x7fff_ff00_0000;
/// The stub's code page (its second ELF segment).
pub const STUB_CODE: u64 = STUB_BASE + 0x1000;
/// `syscall; int3`.
pub const SYSCALL_SITE: u64 = STUB_CODE + 0x10;
/// The batch loop (rbx = ops, r12 = count).
pub const BATCH_ENTRY: u64 = STUB_CODE + 0x20;
/// `syscall` for clone: the parent traps, the new thread spins.
pub const CLONE_SITE: u64 = STUB_CODE + 0x60;
/// The page of operations shared with vkernel (read-only for the stub).
pub const OPS_ADDR: u64 = STUB_BASE + 0x10000;
/// End of the stub's mappings.
pub const STUB_END: u64 = OPS_ADDR + 0x1000;
/// The highest user address on x86-64 with 4-level paging.
pub const USER_TOP: u64 = 0x7fff_ffff_f000;
/// The fd number of the guest-RAM memfd inside the stub.
pub const STUB_MEMFD: i32 = crate::platform::spawn::STUB_MEMFD;
/// Bytes per batched operation: nr + six arguments.
pub const OP_SIZE: usize = 56;
pub const MAX_OPS: usize = 4096 / OP_SIZE;

#[repr(C)]
#[derive(Clone, Copy)]
pub struct SockFilter {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

const LD_W_ABS: u16 = 0x20;
const JEQ_K: u16 = 0x15;
const JGE_K: u16 = 0x35;
const RET_K: u16 = 0x06;
const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
const SECCOMP_RET_KILL_PROCESS: u32 = 0x8000_0000;
const SECCOMP_RET_ALLOW: u32 = 0x7fff_0000;

/// The stub's filter: only mmap, munmap and mprotect, clone (a new host
/// thread) and exit (a host thread leaving), only from the stub's code
/// page; anything else kills the stub. Guest system calls never get
/// here (PTRACE_SYSEMU skips them before seccomp runs); this is the wall
/// behind that one.
pub fn seccomp_filter() -> Vec<SockFilter> {
    let f = |code, jt, jf, k| SockFilter { code, jt, jf, k };
    let lo = STUB_CODE as u32;
    let hi = (STUB_CODE >> 32) as u32;
    let allowed = [libc::SYS_mmap as u32, libc::SYS_munmap as u32, libc::SYS_mprotect as u32, libc::SYS_clone as u32, libc::SYS_exit as u32];
    // Layout: 0..=6 checks, 7 load nr, 8..8+n compares, then KILL, ALLOW.
    let n = allowed.len() as u8;
    let kill = 8 + n; // index of the KILL return
    let mut prog = vec![
        f(LD_W_ABS, 0, 0, 4),
        f(JEQ_K, 0, kill - 2, AUDIT_ARCH_X86_64),
        f(LD_W_ABS, 0, 0, 12),
        f(JEQ_K, 0, kill - 4, hi),
        f(LD_W_ABS, 0, 0, 8),
        f(JGE_K, 0, kill - 6, lo),
        f(JGE_K, kill - 7, 0, lo + 0x1000),
        f(LD_W_ABS, 0, 0, 0),
    ];
    for (i, nr) in allowed.iter().enumerate() {
        let here = 8 + i as u8;
        prog.push(f(JEQ_K, kill + 1 - here - 1, 0, *nr));
    }
    prog.push(f(RET_K, 0, 0, SECCOMP_RET_KILL_PROCESS));
    prog.push(f(RET_K, 0, 0, SECCOMP_RET_ALLOW));
    prog
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stub_is_linked_where_vkernel_jumps() {
        let elf = goblin::elf::Elf::parse(STUB_ELF).unwrap();
        assert_eq!(elf.entry, STUB_CODE);
        assert_eq!(STUB_BASE, crate::platform::STUB_REGION_START);
        // syscall; int3 at the syscall site.
        let text = elf.program_headers.iter().find(|p| p.p_vaddr == STUB_CODE).unwrap();
        let code = &STUB_ELF[text.p_offset as usize..];
        assert_eq!(&code[0x10..0x13], &[0x0f, 0x05, 0xcc]);
    }

    #[test]
    fn filter_jumps_land_on_returns() {
        let prog = seccomp_filter();
        for (i, ins) in prog.iter().enumerate() {
            if ins.code == JEQ_K || ins.code == JGE_K {
                for off in [ins.jt, ins.jf] {
                    assert!(i + 1 + (off as usize) < prog.len());
                }
            }
        }
        let last = prog.len() - 1;
        assert_eq!(prog[last].k, SECCOMP_RET_ALLOW);
        assert_eq!(prog[last - 1].k, SECCOMP_RET_KILL_PROCESS);
        // Every syscall compare jumps to ALLOW on a match.
        for i in 8..last - 1 {
            assert_eq!(i + 1 + prog[i].jt as usize, last);
        }
        // Every check's failure path lands on KILL.
        for i in [1usize, 3, 5] {
            assert_eq!(i + 1 + prog[i].jf as usize, last - 1);
        }
        assert_eq!(6 + 1 + prog[6].jt as usize, last - 1);
    }
}
