//! Event and notification files and POSIX timers: eventfd, timerfd,
//! signalfd, inotify and pidfd flags, `sigevent` notification kinds, and
//! splice flags (Linux: include/uapi/linux/eventfd.h, timerfd.h,
//! signalfd.h, inotify.h, pidfd.h, splice.h, asm-generic/siginfo.h).

// Linux's table; not every value is used yet.
#![allow(dead_code)]

use linux_raw_sys::general;

pub const EFD_SEMAPHORE: u32 = general::EFD_SEMAPHORE;
pub const EFD_CLOEXEC: u32 = general::EFD_CLOEXEC;
pub const EFD_NONBLOCK: u32 = general::EFD_NONBLOCK;

pub const TFD_TIMER_ABSTIME: u32 = general::TFD_TIMER_ABSTIME;
pub const TFD_TIMER_CANCEL_ON_SET: u32 = general::TFD_TIMER_CANCEL_ON_SET;
pub const TFD_CLOEXEC: u32 = general::TFD_CLOEXEC;
pub const TFD_NONBLOCK: u32 = general::TFD_NONBLOCK;
/// The flags timerfd_settime takes (Linux's TFD_SETTIME_FLAGS; the uapi
/// header's value lacks CANCEL_ON_SET).
pub const TFD_SETTIME_FLAGS: u32 = TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET;
pub const TFD_IOC_SET_TICKS: u32 = linux_raw_sys::ioctl::TFD_IOC_SET_TICKS;

// Not in linux-raw-sys; from include/uapi/linux/signalfd.h.
pub const SFD_CLOEXEC: u32 = crate::abi::fcntl::O_CLOEXEC;
pub const SFD_NONBLOCK: u32 = crate::abi::fcntl::O_NONBLOCK;

pub const IN_ACCESS: u32 = general::IN_ACCESS;
pub const IN_MODIFY: u32 = general::IN_MODIFY;
pub const IN_ATTRIB: u32 = general::IN_ATTRIB;
pub const IN_CLOSE_WRITE: u32 = general::IN_CLOSE_WRITE;
pub const IN_CLOSE_NOWRITE: u32 = general::IN_CLOSE_NOWRITE;
pub const IN_OPEN: u32 = general::IN_OPEN;
pub const IN_MOVED_FROM: u32 = general::IN_MOVED_FROM;
pub const IN_MOVED_TO: u32 = general::IN_MOVED_TO;
pub const IN_CREATE: u32 = general::IN_CREATE;
pub const IN_DELETE: u32 = general::IN_DELETE;
pub const IN_DELETE_SELF: u32 = general::IN_DELETE_SELF;
pub const IN_MOVE_SELF: u32 = general::IN_MOVE_SELF;
pub const IN_UNMOUNT: u32 = general::IN_UNMOUNT;
pub const IN_Q_OVERFLOW: u32 = general::IN_Q_OVERFLOW;
pub const IN_IGNORED: u32 = general::IN_IGNORED;
pub const IN_ONLYDIR: u32 = general::IN_ONLYDIR;
pub const IN_DONT_FOLLOW: u32 = general::IN_DONT_FOLLOW;
pub const IN_EXCL_UNLINK: u32 = general::IN_EXCL_UNLINK;
pub const IN_MASK_CREATE: u32 = general::IN_MASK_CREATE;
pub const IN_MASK_ADD: u32 = general::IN_MASK_ADD;
pub const IN_ISDIR: u32 = general::IN_ISDIR;
pub const IN_ONESHOT: u32 = general::IN_ONESHOT;
pub const IN_ALL_EVENTS: u32 = general::IN_ALL_EVENTS;
pub const IN_CLOEXEC: u32 = general::IN_CLOEXEC;
pub const IN_NONBLOCK: u32 = general::IN_NONBLOCK;
/// Every bit inotify_add_watch accepts (Linux's ALL_INOTIFY_BITS).
pub const ALL_INOTIFY_BITS: u32 = IN_ALL_EVENTS
    | IN_UNMOUNT
    | IN_Q_OVERFLOW
    | IN_IGNORED
    | IN_ONLYDIR
    | IN_DONT_FOLLOW
    | IN_EXCL_UNLINK
    | IN_MASK_CREATE
    | IN_MASK_ADD
    | IN_ISDIR
    | IN_ONESHOT;

// Not in linux-raw-sys; from include/uapi/linux/pidfd.h.
pub const PIDFD_NONBLOCK: u32 = crate::abi::fcntl::O_NONBLOCK;
pub const PIDFD_THREAD: u32 = crate::abi::fcntl::O_EXCL;
/// pidfd_send_signal flags (Linux 6.9).
pub const PIDFD_SIGNAL_THREAD: u32 = 1 << 0;
pub const PIDFD_SIGNAL_THREAD_GROUP: u32 = 1 << 1;
pub const PIDFD_SIGNAL_PROCESS_GROUP: u32 = 1 << 2;

pub const SIGEV_SIGNAL: i32 = general::SIGEV_SIGNAL as i32;
pub const SIGEV_NONE: i32 = general::SIGEV_NONE as i32;
pub const SIGEV_THREAD: i32 = general::SIGEV_THREAD as i32;
pub const SIGEV_THREAD_ID: i32 = general::SIGEV_THREAD_ID as i32;

pub const SPLICE_F_MOVE: u32 = general::SPLICE_F_MOVE;
pub const SPLICE_F_NONBLOCK: u32 = general::SPLICE_F_NONBLOCK;
pub const SPLICE_F_MORE: u32 = general::SPLICE_F_MORE;
pub const SPLICE_F_GIFT: u32 = general::SPLICE_F_GIFT;
pub const SPLICE_F_ALL: u32 = SPLICE_F_MOVE | SPLICE_F_NONBLOCK | SPLICE_F_MORE | SPLICE_F_GIFT;

/// `struct sigevent` (64 bytes): the value, the signal, how to notify, and
/// for SIGEV_THREAD_ID the thread.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Sigevent {
    pub sigev_value: u64,
    pub sigev_signo: i32,
    pub sigev_notify: i32,
    pub sigev_notify_thread_id: i32,
    pub pad: [i32; 11],
}
