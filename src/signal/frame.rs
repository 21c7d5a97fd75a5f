//! The x86-64 signal frame (Linux's struct rt_sigframe): building it on the
//! guest stack before a handler runs, and reading it back in rt_sigreturn.
//!
//! Layout from the frame address `f` (16-byte aligned minus 8):
//!   f+0    pretcode (the sa_restorer the handler returns to)
//!   f+8    ucontext: uc_flags, uc_link, uc_stack (24), uc_mcontext (256),
//!          uc_sigmask (8)
//!   f+312  siginfo (128)
//! The XSAVE image of the FPU/vector state sits above the frame, 64-byte
//! aligned, and uc_mcontext.fpstate points at it.

use crate::abi::signal::{
    FP_XSTATE_MAGIC1, FP_XSTATE_MAGIC2, SA_ONSTACK, SS_AUTODISARM, SS_DISABLE, SS_ONSTACK, UC_FP_XSTATE, UC_SIGCONTEXT_SS, UC_STRICT_RESTORE_SS,
};
use crate::abi::{Errno, KResult, KSigaction, Sigaltstack};
use crate::mm::Mm;
use crate::platform::Regs;
use crate::signal::{SigInfo, UNBLOCKABLE};

const FRAME_SIZE: u64 = 440;
const UC: u64 = 8;
const MCONTEXT: u64 = UC + 40;
/// The user code selectors (Linux's __USER_CS, __USER32_CS).
const USER_CS: u64 = 0x33;
const USER32_CS: u64 = 0x23;
const SIGMASK: u64 = UC + 296;
const INFO: u64 = 312;
/// eflags bits a handler may change through the saved context.
const FIX_EFLAGS: u64 = 0x40000 | 0x800 | 0x400 | 0x100 | 0x80 | 0x40 | 0x10 | 0x4 | 0x1 | 0x10000;

/// The general registers in sigcontext order.
fn sigcontext_words(r: &Regs) -> [u64; 18] {
    [r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, r.rdi, r.rsi, r.rbp, r.rbx, r.rdx, r.rax, r.rcx, r.rsp, r.rip, r.eflags]
}

/// Is `sp` on the alternate stack?
pub fn on_altstack(alt: &Sigaltstack, sp: u64) -> bool {
    alt.ss_size != 0 && sp.wrapping_sub(alt.ss_sp) < alt.ss_size
}

/// Writes the frame for `info` and points `regs` at the handler.
/// `fault_addr` fills cr2 for faults. On EFAULT the caller must kill the
/// task with SIGSEGV, as Linux does when a frame cannot be written.
pub fn setup(
    mm: &Mm,
    regs: &mut Regs,
    info: &SigInfo,
    action: &KSigaction,
    old_mask: u64,
    altstack: &mut Sigaltstack,
    xstate: &[u8],
    fault_addr: u64,
) -> KResult<()> {
    let mut sp = regs.rsp;
    let was_on_alt = on_altstack(altstack, sp);
    let alt_enabled = altstack.ss_size != 0 && altstack.ss_flags & SS_DISABLE == 0;
    let saved_alt = *altstack;
    if action.flags & SA_ONSTACK != 0 && alt_enabled && !was_on_alt {
        sp = altstack.ss_sp + altstack.ss_size;
        if altstack.ss_flags & SS_AUTODISARM != 0 {
            *altstack = Sigaltstack::default();
        }
    } else {
        // Skip the red zone below the interrupted stack pointer.
        sp = sp.wrapping_sub(128);
    }
    let fp_size = xstate.len() as u64 + 4;
    let fp_addr = sp.wrapping_sub(fp_size) & !63;
    let frame = (fp_addr.wrapping_sub(FRAME_SIZE) & !15).wrapping_sub(8);

    let mut fp = xstate.to_vec();
    if fp.len() >= 512 {
        // fx_sw_bytes in the FXSAVE area's software-reserved bytes.
        let xfeatures = if fp.len() >= 520 { u64::from_ne_bytes(fp[512..520].try_into().unwrap_or([0; 8])) } else { 3 };
        fp[464..468].copy_from_slice(&FP_XSTATE_MAGIC1.to_ne_bytes());
        fp[468..472].copy_from_slice(&(fp_size as u32).to_ne_bytes());
        fp[472..480].copy_from_slice(&xfeatures.to_ne_bytes());
        fp[480..484].copy_from_slice(&(xstate.len() as u32).to_ne_bytes());
    }
    fp.extend_from_slice(&FP_XSTATE_MAGIC2.to_ne_bytes());
    mm.write_bytes(fp_addr, &fp)?;

    let mut f = vec![0u8; FRAME_SIZE as usize];
    let mut put = |at: u64, v: u64| f[at as usize..at as usize + 8].copy_from_slice(&v.to_ne_bytes());
    put(0, action.restorer);
    put(UC, UC_FP_XSTATE | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS);
    put(UC + 8, 0);
    put(UC + 16, saved_alt.ss_sp);
    let stack_flags = if was_on_alt {
        SS_ONSTACK
    } else if saved_alt.ss_size == 0 {
        SS_DISABLE
    } else {
        saved_alt.ss_flags
    };
    put(UC + 24, stack_flags as u32 as u64);
    put(UC + 32, saved_alt.ss_size);
    for (i, w) in sigcontext_words(regs).iter().enumerate() {
        put(MCONTEXT + 8 * i as u64, *w);
    }
    let segs = (regs.cs & 0xffff) | ((regs.gs & 0xffff) << 16) | ((regs.fs & 0xffff) << 32) | ((regs.ss & 0xffff) << 48);
    put(MCONTEXT + 144, segs);
    put(MCONTEXT + 152, 0); // err
    put(MCONTEXT + 160, if fault_addr != 0 { 14 } else { 0 }); // trapno
    put(MCONTEXT + 168, old_mask);
    put(MCONTEXT + 176, fault_addr); // cr2
    put(MCONTEXT + 184, fp_addr);
    put(SIGMASK, old_mask);
    f[INFO as usize..].copy_from_slice(&info.bytes);
    mm.write_bytes(frame, &f)?;

    regs.rsp = frame;
    regs.rip = action.handler;
    regs.rdi = info.signo() as u64;
    regs.rsi = frame + INFO;
    regs.rdx = frame + UC;
    regs.rax = 0;
    // The handler starts with DF and TF clear (Linux clears DF|TF|RF).
    regs.eflags &= !(0x400 | 0x100 | 0x10000);
    regs.orig_rax = u64::MAX;
    Ok(())
}

/// What rt_sigreturn restores besides the registers.
pub struct Restored {
    pub mask: u64,
    pub altstack: Sigaltstack,
    pub xstate: Option<Vec<u8>>,
    /// The frame's code selector is not a user one: the return faults.
    pub bad_selector: bool,
}

/// Reads the frame at `regs.rsp - 8` (the handler's `ret` popped pretcode)
/// back into `regs`.
pub fn restore(mm: &Mm, regs: &mut Regs) -> KResult<Restored> {
    let frame = regs.rsp.wrapping_sub(8);
    let f = mm.read_bytes(frame, FRAME_SIZE as usize)?;
    let get = |at: u64| u64::from_ne_bytes(f[at as usize..at as usize + 8].try_into().unwrap_or([0; 8]));
    let w: Vec<u64> = (0..18).map(|i| get(MCONTEXT + 8 * i)).collect();
    let mut r = *regs;
    (r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15) = (w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]);
    (r.rdi, r.rsi, r.rbp, r.rbx, r.rdx, r.rax, r.rcx, r.rsp, r.rip) = (w[8], w[9], w[10], w[11], w[12], w[13], w[14], w[15], w[16]);
    r.eflags = (regs.eflags & !FIX_EFLAGS) | (w[17] & FIX_EFLAGS);
    // Linux forces the selectors' RPL to 3 (restore_sigcontext); a code
    // selector that is not a user one then faults on the way back to user
    // mode, which the guest sees as SIGSEGV.
    let cs = (get(MCONTEXT + 144) & 0xffff) | 3;
    let bad_selector = cs != USER_CS && cs != USER32_CS;
    if !bad_selector {
        r.cs = cs;
    }
    r.orig_rax = u64::MAX;
    let mask = get(SIGMASK) & !UNBLOCKABLE;
    let altstack = Sigaltstack { ss_sp: get(UC + 16), ss_flags: get(UC + 24) as i32, pad: 0, ss_size: get(UC + 32) };
    let fp_addr = get(MCONTEXT + 184);
    let xstate = if fp_addr == 0 {
        None
    } else {
        let head = mm.read_bytes(fp_addr, 512)?;
        let magic = u32::from_ne_bytes(head[464..468].try_into().unwrap_or([0; 4]));
        let size = u32::from_ne_bytes(head[480..484].try_into().unwrap_or([0; 4])) as usize;
        let len = if magic == FP_XSTATE_MAGIC1 && (512..=64 * 1024).contains(&size) { size } else { 512 };
        if magic == FP_XSTATE_MAGIC1 && size > 64 * 1024 {
            return Err(Errno::EFAULT);
        }
        Some(mm.read_bytes(fp_addr, len)?)
    };
    *regs = r;
    Ok(Restored { mask, altstack, xstate, bad_selector })
}
