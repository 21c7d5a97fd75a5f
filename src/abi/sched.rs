//! `clone` flags (Linux: include/uapi/linux/sched.h).

// Linux's table; not every value is used yet.
#![allow(dead_code)]

use linux_raw_sys::general;

pub const CSIGNAL: u64 = general::CSIGNAL as u64;
pub const CLONE_VM: u64 = general::CLONE_VM as u64;
pub const CLONE_FS: u64 = general::CLONE_FS as u64;
pub const CLONE_FILES: u64 = general::CLONE_FILES as u64;
pub const CLONE_SIGHAND: u64 = general::CLONE_SIGHAND as u64;
pub const CLONE_PIDFD: u64 = general::CLONE_PIDFD as u64;
pub const CLONE_PTRACE: u64 = general::CLONE_PTRACE as u64;
pub const CLONE_VFORK: u64 = general::CLONE_VFORK as u64;
pub const CLONE_PARENT: u64 = general::CLONE_PARENT as u64;
pub const CLONE_THREAD: u64 = general::CLONE_THREAD as u64;
pub const CLONE_NEWNS: u64 = general::CLONE_NEWNS as u64;
pub const CLONE_SYSVSEM: u64 = general::CLONE_SYSVSEM as u64;
pub const CLONE_SETTLS: u64 = general::CLONE_SETTLS as u64;
pub const CLONE_PARENT_SETTID: u64 = general::CLONE_PARENT_SETTID as u64;
pub const CLONE_CHILD_CLEARTID: u64 = general::CLONE_CHILD_CLEARTID as u64;
pub const CLONE_DETACHED: u64 = general::CLONE_DETACHED as u64;
pub const CLONE_UNTRACED: u64 = general::CLONE_UNTRACED as u64;
pub const CLONE_CHILD_SETTID: u64 = general::CLONE_CHILD_SETTID as u64;
pub const CLONE_NEWCGROUP: u64 = general::CLONE_NEWCGROUP as u64;
pub const CLONE_NEWUTS: u64 = general::CLONE_NEWUTS as u64;
pub const CLONE_NEWIPC: u64 = general::CLONE_NEWIPC as u64;
pub const CLONE_NEWUSER: u64 = general::CLONE_NEWUSER as u64;
pub const CLONE_NEWPID: u64 = general::CLONE_NEWPID as u64;
pub const CLONE_NEWNET: u64 = general::CLONE_NEWNET as u64;
pub const CLONE_IO: u64 = general::CLONE_IO as u64;

/// `struct sched_attr` (include/uapi/linux/sched/types.h), 56 bytes with
/// the utilisation clamps (SCHED_ATTR_SIZE_VER1).
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub struct SchedAttr {
    pub size: u32,
    pub sched_policy: u32,
    pub sched_flags: u64,
    pub sched_nice: i32,
    pub sched_priority: u32,
    pub sched_runtime: u64,
    pub sched_deadline: u64,
    pub sched_period: u64,
    pub sched_util_min: u32,
    pub sched_util_max: u32,
}

pub const SCHED_ATTR_SIZE_VER0: u32 = 48;
pub const SCHED_ATTR_SIZE_VER1: u32 = 56;
pub const SCHED_RESET_ON_FORK: u32 = general::SCHED_RESET_ON_FORK;
pub const SCHED_FLAG_RESET_ON_FORK: u64 = general::SCHED_FLAG_RESET_ON_FORK as u64;
pub const SCHED_FLAG_KEEP_POLICY: u64 = general::SCHED_FLAG_KEEP_POLICY as u64;
pub const SCHED_FLAG_KEEP_PARAMS: u64 = general::SCHED_FLAG_KEEP_PARAMS as u64;
pub const SCHED_FLAG_UTIL_CLAMP: u64 = general::SCHED_FLAG_UTIL_CLAMP as u64;
pub const SCHED_FLAG_ALL: u64 = general::SCHED_FLAG_ALL as u64;

pub const PRIO_PROCESS: i32 = 0;
pub const PRIO_PGRP: i32 = 1;
pub const PRIO_USER: i32 = 2;

/// clone3's `struct clone_args` (sizes CLONE_ARGS_SIZE_VER0..2).
pub const CLONE_ARGS_SIZE_VER0: usize = general::CLONE_ARGS_SIZE_VER0 as usize;
pub const CLONE_ARGS_SIZE_VER2: usize = general::CLONE_ARGS_SIZE_VER2 as usize;
pub const CLONE_CLEAR_SIGHAND: u64 = general::CLONE_CLEAR_SIGHAND as u64;
pub const CLONE_INTO_CGROUP: u64 = general::CLONE_INTO_CGROUP as u64;

/// membarrier(2) commands (Linux: include/uapi/linux/membarrier.h).
pub mod membarrier {
    use linux_raw_sys::general::membarrier_cmd as cmd;
    pub const QUERY: u32 = cmd::MEMBARRIER_CMD_QUERY as u32;
    pub const GLOBAL: u32 = cmd::MEMBARRIER_CMD_GLOBAL as u32;
    pub const GLOBAL_EXPEDITED: u32 = cmd::MEMBARRIER_CMD_GLOBAL_EXPEDITED as u32;
    pub const REGISTER_GLOBAL_EXPEDITED: u32 = cmd::MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED as u32;
    pub const PRIVATE_EXPEDITED: u32 = cmd::MEMBARRIER_CMD_PRIVATE_EXPEDITED as u32;
    pub const REGISTER_PRIVATE_EXPEDITED: u32 = cmd::MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED as u32;
    pub const PRIVATE_EXPEDITED_SYNC_CORE: u32 = cmd::MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE as u32;
    pub const REGISTER_PRIVATE_EXPEDITED_SYNC_CORE: u32 = cmd::MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE as u32;
    pub const PRIVATE_EXPEDITED_RSEQ: u32 = cmd::MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ as u32;
    pub const REGISTER_PRIVATE_EXPEDITED_RSEQ: u32 = cmd::MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ as u32;
    pub const GET_REGISTRATIONS: u32 = cmd::MEMBARRIER_CMD_GET_REGISTRATIONS as u32;
}

/// CLONE_NEWTIME: a namespace flag for unshare and setns only (it shares
/// its bit with CSIGNAL in clone's flags).
pub const CLONE_NEWTIME: u64 = 0x80;
