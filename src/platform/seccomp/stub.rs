//! The seccomp stub program: its image, the fixed addresses and layouts
//! it shares with vkernel (see stub.s), and its two seccomp filters.

/// The assembled stub (see stub.s and build.rs).
pub static STUB_ELF: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/seccomp_stub.elf"));

use crate::platform::stub_common::{OP_SIZE, SECCOMP_RET_TRAP, code_page_filter};
pub use crate::platform::stub_common::{OPS_ADDR, STUB_BASE, STUB_CODE, STUB_MEMFD, SYSCALL_SITE, SockFilter, USER_TOP};

/// `syscall` that makes the mapper thread (the child jumps to its loop).
pub const MAPPER_CLONE_SITE: u64 = STUB_CODE + 0x20;
/// `int3` where every guest host thread waits for its first registers.
pub const THREAD_ENTRY: u64 = STUB_CODE + 0x40;
/// rt_sigreturn, the handler's sa_restorer.
pub const RESTORER: u64 = STUB_CODE + 0x50;
/// The signal handler.
pub const HANDLER: u64 = STUB_CODE + 0x80;

/// Patched system call sites (see stub.s `fast_entry` and mm/patch.rs):
/// where trampolines jump, where the thread waits for the answer (kicks
/// before `FAST_ANSWERED` are ignored), where it returns to the guest,
/// the `ud2` that gives vkernel a signal frame, and the trapping
/// `syscall` for a guest whose gs is its own.
pub const FAST_ENTRY: u64 = STUB_CODE + 0x600;
pub const FAST_ANSWERED: u64 = STUB_CODE + 0x740;
pub const FAST_CONVERT: u64 = STUB_CODE + 0x808;
pub const FAST_SLOW: u64 = STUB_CODE + 0x810;
pub const FAST_SLOW_SYSCALL: u64 = STUB_CODE + 0x830;
/// `FAST_SLOW_SYSCALL`'s number: this bit (an x32 number: it always
/// traps), the table entry below it, the saved flags from bit 32.
pub const SLOW_MARK: u64 = 0x4000_0000;
/// The trampolines: entry k at `TRAMPOLINES + k * TRAMPOLINE_SIZE` is
/// `mov $k, %r11d; jmp FAST_ENTRY`. The same pages in every stub.
pub const TRAMPOLINES: u64 = STUB_BASE + 0x20000;
pub const TRAMPOLINE_SIZE: u64 = 16;
/// The syscall table patched sites jump through: entry k holds the
/// address of trampoline k. Below 2 GiB, and with 0x06 in its third byte
/// (see mm/patch.rs `jump`).
pub const SYSCALL_TABLE: u64 = 0x6006_0000;
pub const SYSCALL_ENTRIES: u32 = 4096;

/// The mapper's answers.
pub const MAPPER_ADDR: u64 = STUB_BASE + 0x11000;
/// Filters, signal masks and tunables: read-only in the stub.
pub const SHARED_ADDR: u64 = STUB_BASE + 0x12000;
/// The done byte's page, read-only in the stub (only the mapper's pwrite
/// to the memfd sets the byte).
pub const DONE_ADDR: u64 = STUB_BASE + 0x13000;
/// The first thread slot; slots are `SLOT_SIZE` apart and aligned.
pub const SLOTS_ADDR: u64 = STUB_BASE + 0x100000;
pub const SLOT_SIZE: u64 = 0x8000;
pub const SLOT_PAGES: usize = (SLOT_SIZE / 4096) as usize;
/// How many guest host threads one stub process can hold.
pub const MAX_SLOTS: usize = ((USER_TOP - SLOTS_ADDR) / SLOT_SIZE) as usize;

/// A slot's control words (its first page; the rest is the alternate
/// signal stack).
pub mod slot {
    pub const STATE: usize = 0;
    pub const STUB_SLEEPS: usize = 4;
    pub const VK_SLEEPS: usize = 8;
    pub const SIGNO: usize = 12;
    pub const CODE: usize = 16;
    pub const ADDR: usize = 24;
    pub const UC: usize = 32;
    pub const FS: usize = 40;
    pub const GS: usize = 48;
    pub const NEW_FS: usize = 56;
    pub const NEW_GS: usize = 64;
    pub const FLAGS: usize = 72;
    pub const SYSCALL: usize = 76;
    /// With `FLAG_AWAIT_MAPPER`: the mapper request the answered thread
    /// waits for before it returns to the guest.
    pub const AWAIT: usize = 80;
    /// Set by the handler when a kick came while a fast call waited.
    pub const KICKED: usize = 84;
    /// Set by vkernel when serving the event will take long (the task
    /// sleeps in the kernel): the waiting thread sleeps instead of
    /// spinning. Cleared before the answer.
    pub const LONG: usize = 88;
    /// Pauses a thread spins for its answer before it sleeps, less one:
    /// vkernel's choice per thread (0 where it shares the thread's CPU).
    pub const SPIN: usize = 92;
    pub const ALTSTACK: usize = 128;
    /// A fast call's site entry, flags and registers (stub.s F_*).
    pub const F_SITE: usize = 256;
    pub const F_LAHF: usize = 260;
    pub const F_RFLAGS: usize = 264;
    pub const F_RBX: usize = 272;
    pub const F_RBP: usize = 280;
    pub const F_R12: usize = 288;
    pub const F_R13: usize = 296;
    pub const F_R14: usize = 304;
    pub const F_R15: usize = 312;
    pub const F_RDI: usize = 320;
    pub const F_RSI: usize = 328;
    pub const F_RDX: usize = 336;
    pub const F_R10: usize = 344;
    pub const F_R8: usize = 352;
    pub const F_R9: usize = 360;
    pub const F_RSP: usize = 368;
    pub const F_RAX: usize = 376;
    pub const F_RCX: usize = 384;
    pub const F_R11: usize = 392;
    pub const F_RIP: usize = 400;
    /// The alternate stack: from the second page to the slot's end.
    pub const STACK_START: u64 = 4096;

    pub const RUNNING: u32 = 0;
    pub const EVENT: u32 = 1;
    pub const ANSWERED: u32 = 2;
    /// A call from a patched site, its registers in the F_ words.
    pub const FAST: u32 = 3;
    pub const FLAG_SET_BASES: u32 = 1;
    pub const FLAG_EXIT: u32 = 2;
    pub const FLAG_AWAIT_MAPPER: u32 = 4;
    /// To a fast call: trap into a signal frame (at `FAST_CONVERT`).
    pub const FLAG_CONVERT: u32 = 8;
}

/// The OPS page: [0] request number, [8] count, ops of 7 words from [64].
pub mod ops {
    pub const SEQ: usize = 0;
    pub const COUNT: usize = 8;
    pub const FIRST: usize = 64;
    pub const OP_SIZE: usize = super::OP_SIZE;
    pub const MAX: usize = (4096 - FIRST) / OP_SIZE;
}

/// The MAPPER page: hints and results the mapper writes, which guest
/// threads can write too. That a batch is done vkernel learns only from
/// the stub's done byte, a byte of guest RAM no stub can write, which the
/// mapper sets with pwrite on the memfd once the batch's calls returned.
pub mod mapper {
    /// The last request served: the futex vkernel sleeps on.
    pub const DONE: usize = 0;
    pub const LEFT: usize = 16;
    pub const RESULT: usize = 24;
}

/// The SHARED page.
pub mod shared {
    pub const GUEST_PROG: usize = 0;
    pub const MAPPER_PROG: usize = 16;
    pub const ALL_SIGNALS: usize = 32;
    pub const NO_SIGNALS: usize = 40;
    pub const FSGSBASE: usize = 48;
    pub const MAPPER_SPIN: usize = 56;
    /// The guest-RAM offset of the stub's done byte (see `mapper`).
    pub const DONE_OFFSET: usize = 64;
    /// A nonzero byte: what the mapper writes there.
    pub const ONE: usize = 72;
    /// A `struct timespec`: the longest a thread awaiting the mapper
    /// sleeps before it looks again.
    pub const WAIT_TS: usize = 80;
    pub const GUEST_FILTER: usize = 256;
    pub const MAPPER_FILTER: usize = 2048;
    /// The paths the batch's host-file maps open (stub_common::Batch),
    /// after the mapper's filter.
    pub const PATHS: usize = 4096 - crate::platform::stub_common::PATHS_SIZE;
}

/// The system calls a guest thread's own stub code makes: waiting for and
/// waking vkernel, returning to the guest, leaving, setting TLS bases
/// without FSGSBASE. A guest that jumps into the stub can make only these;
/// they reach nothing beyond its own address space.
pub const GUEST_ALLOWED: &[u32] =
    &[libc::SYS_futex as u32, libc::SYS_rt_sigreturn as u32, libc::SYS_exit as u32, libc::SYS_arch_prctl as u32, libc::SYS_sched_yield as u32];

/// The mapper's calls: host mappings (and the open and close of a host
/// file it maps), new guest host threads (and what they do before the
/// guest filter is on), the write of the done byte,
/// plus everything the guest threads it makes may need (their filters
/// stack on this one, so pwrite stays the mapper's).
pub const MAPPER_ALLOWED: &[u32] = &[
    libc::SYS_pwrite64 as u32,
    libc::SYS_mmap as u32,
    libc::SYS_munmap as u32,
    libc::SYS_mprotect as u32,
    libc::SYS_madvise as u32,
    libc::SYS_clone as u32,
    libc::SYS_seccomp as u32,
    libc::SYS_sigaltstack as u32,
    libc::SYS_rt_sigprocmask as u32,
    libc::SYS_futex as u32,
    libc::SYS_rt_sigreturn as u32,
    libc::SYS_exit as u32,
    libc::SYS_arch_prctl as u32,
    libc::SYS_sched_yield as u32,
    libc::SYS_openat as u32,
    libc::SYS_close as u32,
    libc::SYS_close_range as u32,
];

/// A filter that lets `allowed` through from the stub's code page and
/// traps everything else (SIGSYS: the guest's system calls, or a stub
/// that went wrong).
pub fn filter(allowed: &[u32]) -> Vec<SockFilter> {
    code_page_filter(allowed, SECCOMP_RET_TRAP)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::stub_common::{AUDIT_ARCH_X86_64, SECCOMP_RET_ALLOW, verdict};

    #[test]
    fn stub_is_linked_where_vkernel_jumps() {
        let elf = goblin::elf::Elf::parse(STUB_ELF).unwrap();
        assert_eq!(elf.entry, STUB_CODE);
        let text = elf.program_headers.iter().find(|p| p.p_vaddr == STUB_CODE).unwrap();
        let code = &STUB_ELF[text.p_offset as usize..];
        assert_eq!(&code[0x10..0x13], &[0x0f, 0x05, 0xcc], "syscall; int3 at the syscall site");
        assert_eq!(&code[0x20..0x22], &[0x0f, 0x05], "syscall at the mapper clone site");
        assert_eq!(code[0x40], 0xcc, "int3 at the thread entry");
        assert!(text.p_filesz <= 0x1000, "the code fits in its page");
        assert_eq!(&code[0x600..0x602], &[0x9f, 0x0f], "lahf; seto al at the fast entry");
        assert_eq!(&code[0x740..0x743], &[0xf7, 0x43, 0x48], "the answer's flags tested at FAST_ANSWERED");
        assert_eq!(&code[0x808..0x80a], &[0x0f, 0x0b], "ud2 at FAST_CONVERT");
        assert_eq!(&code[0x830..0x832], &[0x0f, 0x05], "syscall at FAST_SLOW_SYSCALL");
    }

    #[test]
    fn guest_filter_traps_the_guest_and_lets_the_stub_through() {
        let prog = filter(GUEST_ALLOWED);
        let futex = libc::SYS_futex as u32;
        let mmap = libc::SYS_mmap as u32;
        assert_eq!(verdict(&prog, AUDIT_ARCH_X86_64, futex, HANDLER + 0x30), SECCOMP_RET_ALLOW);
        assert_eq!(verdict(&prog, AUDIT_ARCH_X86_64, futex, 0x400000), SECCOMP_RET_TRAP);
        assert_eq!(verdict(&prog, AUDIT_ARCH_X86_64, mmap, HANDLER + 0x30), SECCOMP_RET_TRAP);
        assert_eq!(verdict(&prog, AUDIT_ARCH_X86_64, futex, STUB_CODE + 0x1000), SECCOMP_RET_TRAP);
        assert_eq!(verdict(&prog, 0x4000_0003, futex, HANDLER + 0x30), SECCOMP_RET_TRAP, "the i386 ABI always traps");
        assert_eq!(verdict(&prog, AUDIT_ARCH_X86_64, futex | 0x4000_0000, HANDLER + 0x30), SECCOMP_RET_TRAP, "x32 numbers trap");
        let mprog = filter(MAPPER_ALLOWED);
        assert!(shared::MAPPER_FILTER + mprog.len() * 8 <= shared::PATHS, "the mapper's filter ends before the paths");
        assert_eq!(verdict(&mprog, AUDIT_ARCH_X86_64, mmap, STUB_CODE + 0x300), SECCOMP_RET_ALLOW);
        assert_eq!(verdict(&mprog, AUDIT_ARCH_X86_64, libc::SYS_write as u32, STUB_CODE + 0x300), SECCOMP_RET_TRAP);
        assert_eq!(verdict(&prog, AUDIT_ARCH_X86_64, libc::SYS_pwrite64 as u32, STUB_CODE + 0x300), SECCOMP_RET_TRAP, "only the mapper sets its done byte");
        for nr in GUEST_ALLOWED {
            assert!(MAPPER_ALLOWED.contains(nr), "the mapper's filter, under every guest thread's, lets the stub's own calls through");
        }
    }
}
