//! `wait4`/`waitid` options and id types (Linux: include/uapi/linux/wait.h).

// Linux's table; not every value is used yet.
#![allow(dead_code)]

use linux_raw_sys::general;

pub const WNOHANG: u32 = general::WNOHANG;
pub const WUNTRACED: u32 = general::WUNTRACED;
pub const WSTOPPED: u32 = general::WSTOPPED;
pub const WEXITED: u32 = general::WEXITED;
pub const WCONTINUED: u32 = general::WCONTINUED;
pub const WNOWAIT: u32 = general::WNOWAIT;
/// Linux spells it `__WNOTHREAD`.
pub const WNOTHREAD: u32 = general::__WNOTHREAD;
/// Linux spells it `__WALL`.
pub const WALL: u32 = general::__WALL;
/// Linux spells it `__WCLONE`.
pub const WCLONE: u32 = general::__WCLONE;

pub const P_ALL: u32 = general::P_ALL;
pub const P_PID: u32 = general::P_PID;
pub const P_PGID: u32 = general::P_PGID;
pub const P_PIDFD: u32 = general::P_PIDFD;
