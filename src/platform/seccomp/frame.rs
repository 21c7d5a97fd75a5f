//! The host signal frame a stub thread parks in: the kernel's `ucontext`
//! on the slot's alternate stack, which vkernel reads the guest's
//! registers from and writes the next ones into before the stub's
//! rt_sigreturn. The frame lives in memory guest threads can write, so
//! everything here is copied out once and checked, never trusted.

use crate::platform::Regs;

/// Offsets in the x86-64 `struct ucontext` (uc_mcontext at 40, the
/// sigcontext registers in this order, uc_sigmask after reserved1).
mod uc {
    pub const MCONTEXT: usize = 40;
    pub const R8: usize = MCONTEXT;
    pub const EFLAGS: usize = MCONTEXT + 17 * 8;
    pub const SEGMENTS: usize = MCONTEXT + 18 * 8;
    pub const FPSTATE: usize = MCONTEXT + 23 * 8;
    pub const SIGMASK: usize = MCONTEXT + 32 * 8;
    /// Bytes of the ucontext vkernel reads and writes.
    pub const SIZE: usize = SIGMASK + 8;
}

const USER_CS: u64 = 0x33;
const USER_SS: u64 = 0x2b;

/// The XSAVE area: the software-reserved bytes of the legacy area carry
/// `struct _fpx_sw_bytes` (magic, sizes, features) in signal frames.
const SW_BYTES: usize = 464;
const FP_XSTATE_MAGIC1: u32 = 0x4650_5853;
const FP_XSTATE_MAGIC2: u32 = 0x4650_5845;
const XSAVE_HEADER: usize = 512;
/// The legacy area plus the XSAVE header.
const XSAVE_MIN: usize = 576;

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_ne_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn put_u64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_ne_bytes());
}

/// The gregs of a sigcontext, in its order, as `Regs` fields.
fn sigcontext_order(r: &mut Regs) -> [&mut u64; 17] {
    [
        &mut r.r8, &mut r.r9, &mut r.r10, &mut r.r11, &mut r.r12, &mut r.r13, &mut r.r14, &mut r.r15, &mut r.rdi, &mut r.rsi, &mut r.rbp, &mut r.rbx,
        &mut r.rdx, &mut r.rax, &mut r.rcx, &mut r.rsp, &mut r.rip,
    ]
}

/// A frame located and copied out of a slot.
pub struct Frame {
    /// Where the ucontext starts, as an offset in the slot.
    pub uc_offset: usize,
    pub uc: Vec<u8>,
}

impl Frame {
    /// Copies the ucontext at guest address `uc_addr` out of `slot` (the
    /// slot's bytes, mapped at `slot_addr` in the stub). None when the
    /// address is not inside the slot's alternate stack.
    pub fn locate(slot: &[u8], slot_addr: u64, stack_start: u64, uc_addr: u64) -> Option<Frame> {
        let off = uc_addr.checked_sub(slot_addr)?;
        if off < stack_start || off % 8 != 0 || off as usize + uc::SIZE > slot.len() {
            return None;
        }
        let uc_offset = off as usize;
        Some(Frame { uc_offset, uc: slot[uc_offset..uc_offset + uc::SIZE].to_vec() })
    }

    /// The guest registers in the frame (without fs/gs bases, which the
    /// frame does not hold).
    pub fn regs(&self) -> Regs {
        let mut r = crate::platform::initial_regs();
        for (i, slot) in sigcontext_order(&mut r).into_iter().enumerate() {
            *slot = u64_at(&self.uc, uc::R8 + i * 8);
        }
        r.eflags = u64_at(&self.uc, uc::EFLAGS);
        let seg = u64_at(&self.uc, uc::SEGMENTS);
        r.cs = seg & 0xffff;
        r.ss = (seg >> 48) & 0xffff;
        r.orig_rax = u64::MAX;
        r
    }

    /// Writes `regs` into the frame in `slot` for the stub's rt_sigreturn:
    /// every general register, rip, rsp, flags, the code and stack
    /// segments, and an empty signal mask (guest code runs with no host
    /// signal blocked). The FPU state pointer and flags stay the kernel's.
    pub fn store_regs(&self, slot: &mut [u8], regs: &Regs) {
        let mut uc = self.uc.clone();
        let mut r = *regs;
        for (i, v) in sigcontext_order(&mut r).into_iter().enumerate() {
            put_u64(&mut uc, uc::R8 + i * 8, *v);
        }
        put_u64(&mut uc, uc::EFLAGS, regs.eflags);
        // Guests run 64-bit user code only: the code and stack segments
        // are always the host's user ones, whatever the registers say.
        let seg = u64_at(&uc, uc::SEGMENTS);
        let seg = (seg & 0x0000_ffff_ffff_0000) | USER_CS | (USER_SS << 48);
        put_u64(&mut uc, uc::SEGMENTS, seg);
        put_u64(&mut uc, uc::SIGMASK, 0);
        // The FPU pointer is the kernel's, as first read (a guest thread
        // may have changed it in the shared copy since).
        put_u64(&mut uc, uc::FPSTATE, u64_at(&self.uc, uc::FPSTATE));
        slot[self.uc_offset..self.uc_offset + uc::SIZE].copy_from_slice(&uc);
    }

    /// Where the frame's XSAVE area lies in the slot and how big it is,
    /// when its pointer and software bytes make sense.
    fn xstate_range(&self, slot: &[u8], slot_addr: u64, stack_start: u64) -> Option<(usize, usize)> {
        let ptr = u64_at(&self.uc, uc::FPSTATE);
        let off = ptr.checked_sub(slot_addr)?;
        if off < stack_start || off % 64 != 0 || off as usize + XSAVE_MIN > slot.len() {
            return None;
        }
        let off = off as usize;
        let area = &slot[off..];
        if u32_at(area, SW_BYTES) != FP_XSTATE_MAGIC1 {
            // A legacy-only frame: the 512-byte FXSAVE image.
            return Some((off, 512));
        }
        let size = u32_at(area, SW_BYTES + 16) as usize;
        if !(XSAVE_MIN..=slot.len() - off - 4).contains(&size) || u32_at(area, size) != FP_XSTATE_MAGIC2 {
            return None;
        }
        Some((off, size))
    }

    /// The guest's FPU/vector state (XSAVE standard format).
    pub fn xstate(&self, slot: &[u8], slot_addr: u64, stack_start: u64) -> Option<Vec<u8>> {
        let (off, size) = self.xstate_range(slot, slot_addr, stack_start)?;
        let mut x = slot[off..off + size].to_vec();
        // ptrace's NT_X86_XSTATE layout, which core files and the rest of
        // vkernel expect: the software-reserved bytes hold only XCR0 (the
        // frame's feature mask), not the signal frame's magic and sizes.
        if size >= XSAVE_MIN {
            let features = u64_at(&x, SW_BYTES + 8);
            x[SW_BYTES..512].fill(0);
            put_u64(&mut x, SW_BYTES, features);
        }
        Some(x)
    }

    /// Loads FPU/vector state into the frame: the image's registers and
    /// XSAVE header, keeping the frame's own software bytes and the
    /// features it was built for. False when the frame has no room.
    pub fn set_xstate(&self, slot: &mut [u8], slot_addr: u64, stack_start: u64, state: &[u8]) -> bool {
        let Some((off, size)) = self.xstate_range(slot, slot_addr, stack_start) else { return false };
        if state.len() < 512 {
            return false;
        }
        let area = &mut slot[off..off + size];
        let sw: Vec<u8> = area[SW_BYTES..512].to_vec();
        let n = state.len().min(size);
        area[..n].copy_from_slice(&state[..n]);
        area[SW_BYTES..512].copy_from_slice(&sw);
        if size >= XSAVE_MIN {
            // Only the features the frame carries may be marked present.
            let features = u64_at(&sw, 8);
            let bv = u64_at(area, XSAVE_HEADER) & features;
            put_u64(area, XSAVE_HEADER, bv);
            if n < XSAVE_MIN {
                area[XSAVE_HEADER..XSAVE_MIN].fill(0);
            }
        }
        true
    }

    /// Resets the FPU state to its initial values (a fresh program).
    pub fn reset_xstate(&self, slot: &mut [u8], slot_addr: u64, stack_start: u64) {
        let Some((off, size)) = self.xstate_range(slot, slot_addr, stack_start) else { return };
        let area = &mut slot[off..off + size];
        area[..SW_BYTES].fill(0);
        // FCW 0x37f, MXCSR 0x1f80 (with its mask of all bits), the rest 0.
        area[0..2].copy_from_slice(&0x037fu16.to_ne_bytes());
        area[24..28].copy_from_slice(&0x1f80u32.to_ne_bytes());
        area[28..32].copy_from_slice(&0xffffu32.to_ne_bytes());
        if size >= XSAVE_MIN {
            // XSTATE_BV: x87 and SSE present (their init values above).
            area[XSAVE_HEADER..size].fill(0);
            put_u64(area, XSAVE_HEADER, 0b11);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registers_round_trip_and_the_mask_is_cleared() {
        let mut slot = vec![0u8; 0x8000];
        let uc_off = 0x7000;
        let f = Frame::locate(&slot, 0x10000, 4096, 0x10000 + uc_off).unwrap();
        let mut r = crate::platform::initial_regs();
        r.rax = 1;
        r.rip = 0x401000;
        r.rsp = 0x7ffd_0000;
        r.r15 = 15;
        slot[uc_off as usize + uc::SIGMASK..][..8].copy_from_slice(&u64::MAX.to_ne_bytes());
        let f = Frame { uc_offset: f.uc_offset, uc: slot[uc_off as usize..uc_off as usize + uc::SIZE].to_vec() };
        f.store_regs(&mut slot, &r);
        let back = Frame::locate(&slot, 0x10000, 4096, 0x10000 + uc_off).unwrap().regs();
        assert_eq!((back.rax, back.rip, back.rsp, back.r15, back.cs, back.ss), (1, 0x401000, 0x7ffd_0000, 15, 0x33, 0x2b));
        assert_eq!(u64_at(&slot, uc_off as usize + uc::SIGMASK), 0);
    }

    #[test]
    fn frames_outside_the_stack_are_refused() {
        let slot = vec![0u8; 0x8000];
        assert!(Frame::locate(&slot, 0x10000, 4096, 0x10000 + 100).is_none(), "in the control page");
        assert!(Frame::locate(&slot, 0x10000, 4096, 0x10000 + 0x8000 - 8).is_none(), "past the end");
        assert!(Frame::locate(&slot, 0x10000, 4096, 0x1000).is_none(), "below the slot");
        assert!(Frame::locate(&slot, 0x10000, 4096, u64::MAX).is_none());
    }

    #[test]
    fn a_bad_fpu_pointer_gives_no_state() {
        let mut slot = vec![0u8; 0x8000];
        let uc_off = 0x6000usize;
        put_u64(&mut slot, uc_off + uc::FPSTATE, 0x10000 + 0x7000 + 3);
        let f = Frame::locate(&slot, 0x10000, 4096, 0x10000 + uc_off as u64).unwrap();
        assert!(f.xstate(&slot, 0x10000, 4096).is_none());
        put_u64(&mut slot, uc_off + uc::FPSTATE, 0x10000 + 0x7000);
        let f = Frame::locate(&slot, 0x10000, 4096, 0x10000 + uc_off as u64).unwrap();
        assert_eq!(f.xstate(&slot, 0x10000, 4096).map(|x| x.len()), Some(512), "no magic: the legacy image");
    }
}
