//! Signal state: dispositions (shared by a thread group), masks and the
//! alternate stack. Delivery with real frames comes with the process work;
//! for now faults are fatal and state is recorded exactly.

use crate::abi::KSigaction;

pub const NSIG: usize = 64;
pub const SIGKILL: i32 = 9;
pub const SIGSTOP: i32 = 19;
pub const SIGSEGV: i32 = 11;
pub const SIGBUS: i32 = 7;

pub const SA_NOCLDSTOP: u64 = 0x1;
pub const SA_NOCLDWAIT: u64 = 0x2;
pub const SA_SIGINFO: u64 = 0x4;
pub const SA_RESTORER: u64 = 0x0400_0000;
pub const SA_ONSTACK: u64 = 0x0800_0000;
pub const SA_RESTART: u64 = 0x1000_0000;
pub const SA_NODEFER: u64 = 0x4000_0000;
pub const SA_RESETHAND: u64 = 0x8000_0000;

pub const SS_ONSTACK: i32 = 1;
pub const SS_DISABLE: i32 = 2;
pub const SS_AUTODISARM: i32 = 1 << 31;
pub const MINSIGSTKSZ: u64 = 2048;

/// The mask bit of signal `sig` (1-based).
pub fn sigbit(sig: i32) -> u64 {
    1u64 << (sig - 1)
}

/// Signals that can be neither caught, blocked nor ignored.
pub const UNBLOCKABLE: u64 = (1 << (SIGKILL - 1)) | (1 << (SIGSTOP - 1));

/// A thread group's signal dispositions.
#[derive(Clone)]
pub struct SignalActions {
    pub actions: [KSigaction; NSIG],
}

impl Default for SignalActions {
    fn default() -> Self {
        SignalActions { actions: [KSigaction::default(); NSIG] }
    }
}

impl SignalActions {
    /// execve: caught signals go back to default; ignored stay ignored.
    pub fn reset_for_exec(&mut self) {
        for a in self.actions.iter_mut() {
            if a.handler != 1 {
                *a = KSigaction::default();
            } else {
                a.flags = 0;
                a.mask = 0;
                a.restorer = 0;
            }
        }
    }
}
