//! membarrier(2): a memory barrier on every thread of the caller's
//! process (the private commands, after registration) or of the machine.
//! Every guest thread runs in a stub that registered for the host's
//! expedited global barrier, so one host call covers all of them.

use std::sync::atomic::Ordering;

use crate::abi::sched::membarrier::*;
use crate::abi::{Errno, KResult};
use crate::syscall::{Sys, SyscallDef};
use crate::syscalls;

pub const SYSCALLS: &[SyscallDef] = syscalls![
    __NR_membarrier => sys_membarrier,
];

/// The commands offered (MEMBARRIER_CMD_QUERY's answer). The rseq ones
/// are not: rseq itself is not offered.
const SUPPORTED: u32 = GLOBAL
    | GLOBAL_EXPEDITED
    | REGISTER_GLOBAL_EXPEDITED
    | PRIVATE_EXPEDITED
    | REGISTER_PRIVATE_EXPEDITED
    | PRIVATE_EXPEDITED_SYNC_CORE
    | REGISTER_PRIVATE_EXPEDITED_SYNC_CORE
    | GET_REGISTRATIONS;

fn sys_membarrier(sys: &mut Sys) -> KResult<u64> {
    let (cmd, flags) = (sys.arg_u32(0), sys.arg_u32(1));
    if flags != 0 {
        return Err(Errno::EINVAL);
    }
    let registered = &sys.task.process.membarrier_registrations;
    match cmd {
        QUERY => Ok(SUPPORTED as u64),
        GET_REGISTRATIONS => Ok(registered.load(Ordering::Relaxed) as u64),
        REGISTER_GLOBAL_EXPEDITED | REGISTER_PRIVATE_EXPEDITED | REGISTER_PRIVATE_EXPEDITED_SYNC_CORE => {
            registered.fetch_or(cmd, Ordering::Relaxed);
            Ok(0)
        }
        GLOBAL | GLOBAL_EXPEDITED => {
            crate::platform::host::system::membarrier_all_stubs();
            Ok(0)
        }
        PRIVATE_EXPEDITED | PRIVATE_EXPEDITED_SYNC_CORE => {
            // The matching registration must come first (Linux: EPERM).
            let needed = if cmd == PRIVATE_EXPEDITED { REGISTER_PRIVATE_EXPEDITED } else { REGISTER_PRIVATE_EXPEDITED_SYNC_CORE };
            if registered.load(Ordering::Relaxed) & needed == 0 {
                return Err(Errno::EPERM);
            }
            crate::platform::host::system::membarrier_all_stubs();
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}
