//! Terminal modes: `termios` flag bits, `c_cc` indices and the
//! `tcflow`/`tcflush` arguments (Linux: include/uapi/asm-generic/termbits.h,
//! include/uapi/asm-generic/termbits-common.h).

// Linux's table; not every value is used yet.
#![allow(dead_code)]

use linux_raw_sys::general;

// `c_iflag`
pub const IGNBRK: u32 = general::IGNBRK;
pub const BRKINT: u32 = general::BRKINT;
pub const PARMRK: u32 = general::PARMRK;
pub const ISTRIP: u32 = general::ISTRIP;
pub const INLCR: u32 = general::INLCR;
pub const IGNCR: u32 = general::IGNCR;
pub const ICRNL: u32 = general::ICRNL;
pub const IUCLC: u32 = general::IUCLC;
pub const IXON: u32 = general::IXON;
pub const IXANY: u32 = general::IXANY;
pub const IUTF8: u32 = general::IUTF8;

// `c_oflag`
pub const OPOST: u32 = general::OPOST;
pub const OLCUC: u32 = general::OLCUC;
pub const ONLCR: u32 = general::ONLCR;
pub const OCRNL: u32 = general::OCRNL;
pub const ONOCR: u32 = general::ONOCR;
pub const ONLRET: u32 = general::ONLRET;
pub const TABDLY: u32 = general::TABDLY;
pub const XTABS: u32 = general::XTABS;

// `c_cflag`
pub const B38400: u32 = general::B38400;
pub const CSIZE: u32 = general::CSIZE;
pub const CS8: u32 = general::CS8;
pub const CREAD: u32 = general::CREAD;
pub const PARENB: u32 = general::PARENB;
pub const HUPCL: u32 = general::HUPCL;

// `c_lflag`
pub const ISIG: u32 = general::ISIG;
pub const ICANON: u32 = general::ICANON;
pub const ECHO: u32 = general::ECHO;
pub const ECHOE: u32 = general::ECHOE;
pub const ECHOK: u32 = general::ECHOK;
pub const ECHONL: u32 = general::ECHONL;
pub const NOFLSH: u32 = general::NOFLSH;
pub const TOSTOP: u32 = general::TOSTOP;
pub const ECHOCTL: u32 = general::ECHOCTL;
pub const ECHOPRT: u32 = general::ECHOPRT;
pub const ECHOKE: u32 = general::ECHOKE;
pub const IEXTEN: u32 = general::IEXTEN;

// `c_cc` indices
pub const VINTR: usize = general::VINTR as usize;
pub const VQUIT: usize = general::VQUIT as usize;
pub const VERASE: usize = general::VERASE as usize;
pub const VKILL: usize = general::VKILL as usize;
pub const VEOF: usize = general::VEOF as usize;
pub const VTIME: usize = general::VTIME as usize;
pub const VMIN: usize = general::VMIN as usize;
pub const VSTART: usize = general::VSTART as usize;
pub const VSTOP: usize = general::VSTOP as usize;
pub const VSUSP: usize = general::VSUSP as usize;
pub const VEOL: usize = general::VEOL as usize;
pub const VREPRINT: usize = general::VREPRINT as usize;
pub const VWERASE: usize = general::VWERASE as usize;
pub const VLNEXT: usize = general::VLNEXT as usize;
pub const VEOL2: usize = general::VEOL2 as usize;

// `tcflow` and `tcflush` arguments
pub const TCOOFF: u64 = general::TCOOFF as u64;
pub const TCOON: u64 = general::TCOON as u64;
pub const TCIOFF: u64 = general::TCIOFF as u64;
pub const TCION: u64 = general::TCION as u64;
pub const TCIFLUSH: u64 = general::TCIFLUSH as u64;
pub const TCOFLUSH: u64 = general::TCOFLUSH as u64;
pub const TCIOFLUSH: u64 = general::TCIOFLUSH as u64;
