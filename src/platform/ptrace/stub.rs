//! The stub program: its image, its fixed addresses and its seccomp filter.

/// The assembled stub (see stub.s and build.rs).
pub static STUB_ELF: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/stub.elf"));

pub use crate::platform::stub_common::{OP_SIZE, OPS_ADDR, STUB_BASE, STUB_CODE, STUB_MEMFD, SYSCALL_SITE, SockFilter, USER_TOP};
use crate::platform::stub_common::{SECCOMP_RET_KILL_PROCESS, code_page_filter};

/// The batch loop (rbx = ops, r12 = count).
pub const BATCH_ENTRY: u64 = STUB_CODE + 0x20;
/// `syscall` for clone: the parent traps, the new thread spins.
pub const CLONE_SITE: u64 = STUB_CODE + 0x60;
/// End of the stub's mappings.
pub const STUB_END: u64 = OPS_ADDR + 0x1000;
/// Operations per batch (the ops page but for the paths at its end; 64,
/// as many as a rewarmed address space asks for at once).
pub const MAX_OPS: usize = (4096 - crate::platform::stub_common::PATHS_SIZE) / OP_SIZE;

/// The stub's filter: only mmap, munmap and mprotect (with the open and
/// close of a host file it maps), clone (a new host thread) and exit
/// (a host thread leaving), only from the stub's code page; anything else
/// kills the stub. Guest system calls never get
/// here (PTRACE_SYSEMU skips them before seccomp runs); this is the wall
/// behind that one.
pub fn seccomp_filter() -> Vec<SockFilter> {
    let allowed = [
        libc::SYS_mmap as u32,
        libc::SYS_munmap as u32,
        libc::SYS_mprotect as u32,
        libc::SYS_clone as u32,
        libc::SYS_exit as u32,
        libc::SYS_openat as u32,
        libc::SYS_close as u32,
        libc::SYS_close_range as u32,
    ];
    code_page_filter(&allowed, SECCOMP_RET_KILL_PROCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::stub_common::{JEQ_K, JGE_K, SECCOMP_RET_ALLOW};

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
