//! Readiness events for `poll`/`select` and `epoll`
//! (Linux: include/uapi/asm-generic/poll.h, include/uapi/linux/eventpoll.h).

// Linux's table; not every value is used yet.
#![allow(dead_code)]

use linux_raw_sys::general;

pub const POLLIN: u16 = general::POLLIN as u16;
pub const POLLPRI: u16 = general::POLLPRI as u16;
pub const POLLOUT: u16 = general::POLLOUT as u16;
pub const POLLERR: u16 = general::POLLERR as u16;
pub const POLLHUP: u16 = general::POLLHUP as u16;
pub const POLLNVAL: u16 = general::POLLNVAL as u16;
pub const POLLRDNORM: u16 = general::POLLRDNORM as u16;
pub const POLLRDBAND: u16 = general::POLLRDBAND as u16;
pub const POLLWRNORM: u16 = general::POLLWRNORM as u16;
pub const POLLWRBAND: u16 = general::POLLWRBAND as u16;

pub const EPOLLIN: u32 = general::EPOLLIN;
pub const EPOLLOUT: u32 = general::EPOLLOUT;
pub const EPOLLERR: u32 = general::EPOLLERR;
pub const EPOLLHUP: u32 = general::EPOLLHUP;
pub const EPOLLEXCLUSIVE: u32 = general::EPOLLEXCLUSIVE;
pub const EPOLLWAKEUP: u32 = general::EPOLLWAKEUP;
pub const EPOLLONESHOT: u32 = general::EPOLLONESHOT;
pub const EPOLLET: u32 = general::EPOLLET;

pub const EPOLL_CTL_ADD: i32 = general::EPOLL_CTL_ADD as i32;
pub const EPOLL_CTL_DEL: i32 = general::EPOLL_CTL_DEL as i32;
pub const EPOLL_CTL_MOD: i32 = general::EPOLL_CTL_MOD as i32;

/// The peer shut down writing (sockets; Linux: include/uapi/asm-generic/poll.h).
pub const POLLRDHUP: u16 = general::POLLRDHUP as u16;
