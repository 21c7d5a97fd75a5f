//! Placeholder: filled in by the pipes and polling work.

use crate::syscall::SyscallDef;

pub const SYSCALLS: &[SyscallDef] = &[];
