//! ioctl request numbers: terminals, ptys and generic file ioctls
//! (Linux: include/uapi/asm-generic/ioctls.h, include/uapi/linux/fs.h).

// Linux's table; not every value is used yet.
#![allow(dead_code)]

use linux_raw_sys::ioctl;

pub const TCGETS: u32 = ioctl::TCGETS;
pub const TCSETS: u32 = ioctl::TCSETS;
pub const TCSETSW: u32 = ioctl::TCSETSW;
pub const TCSETSF: u32 = ioctl::TCSETSF;
pub const TCSBRK: u32 = ioctl::TCSBRK;
pub const TCXONC: u32 = ioctl::TCXONC;
pub const TCFLSH: u32 = ioctl::TCFLSH;
pub const TIOCEXCL: u32 = ioctl::TIOCEXCL;
pub const TIOCNXCL: u32 = ioctl::TIOCNXCL;
pub const TIOCSCTTY: u32 = ioctl::TIOCSCTTY;
pub const TIOCGPGRP: u32 = ioctl::TIOCGPGRP;
pub const TIOCSPGRP: u32 = ioctl::TIOCSPGRP;
pub const TIOCOUTQ: u32 = ioctl::TIOCOUTQ;
pub const TIOCSTI: u32 = ioctl::TIOCSTI;
pub const TIOCGWINSZ: u32 = ioctl::TIOCGWINSZ;
pub const TIOCSWINSZ: u32 = ioctl::TIOCSWINSZ;
pub const TIOCPKT: u32 = ioctl::TIOCPKT;
pub const TIOCNOTTY: u32 = ioctl::TIOCNOTTY;
pub const TIOCSETD: u32 = ioctl::TIOCSETD;
pub const TIOCGETD: u32 = ioctl::TIOCGETD;
pub const TCSBRKP: u32 = ioctl::TCSBRKP;
pub const TIOCGSID: u32 = ioctl::TIOCGSID;
pub const TIOCGPTN: u32 = ioctl::TIOCGPTN;
pub const TIOCSPTLCK: u32 = ioctl::TIOCSPTLCK;
pub const TIOCGDEV: u32 = ioctl::TIOCGDEV;
pub const TIOCSIG: u32 = ioctl::TIOCSIG;
pub const TIOCGPTLCK: u32 = ioctl::TIOCGPTLCK;
pub const TIOCGPTPEER: u32 = ioctl::TIOCGPTPEER;

pub const FIONREAD: u32 = ioctl::FIONREAD;
pub const FIONBIO: u32 = ioctl::FIONBIO;
pub const FIONCLEX: u32 = ioctl::FIONCLEX;
pub const FIOCLEX: u32 = ioctl::FIOCLEX;
pub const FIOASYNC: u32 = ioctl::FIOASYNC;
pub const FIOQSIZE: u32 = ioctl::FIOQSIZE;
pub const FIGETBSZ: u32 = ioctl::FIGETBSZ;

// Block devices (include/uapi/linux/fs.h, hdreg.h).
pub const BLKROSET: u32 = ioctl::BLKROSET;
pub const BLKROGET: u32 = ioctl::BLKROGET;
pub const BLKRRPART: u32 = ioctl::BLKRRPART;
pub const BLKGETSIZE: u32 = ioctl::BLKGETSIZE;
pub const BLKFLSBUF: u32 = ioctl::BLKFLSBUF;
pub const BLKRASET: u32 = ioctl::BLKRASET;
pub const BLKRAGET: u32 = ioctl::BLKRAGET;
pub const BLKFRAGET: u32 = ioctl::BLKFRAGET;
pub const BLKSECTGET: u32 = ioctl::BLKSECTGET;
pub const BLKSSZGET: u32 = ioctl::BLKSSZGET;
pub const BLKBSZGET: u32 = ioctl::BLKBSZGET;
pub const BLKBSZSET: u32 = ioctl::BLKBSZSET;
pub const BLKGETSIZE64: u32 = ioctl::BLKGETSIZE64;
pub const BLKDISCARD: u32 = ioctl::BLKDISCARD;
pub const BLKIOMIN: u32 = ioctl::BLKIOMIN;
pub const BLKIOOPT: u32 = ioctl::BLKIOOPT;
pub const BLKALIGNOFF: u32 = ioctl::BLKALIGNOFF;
pub const BLKPBSZGET: u32 = ioctl::BLKPBSZGET;
pub const BLKPG: u32 = ioctl::BLKPG;
pub const BLKDISCARDZEROES: u32 = ioctl::BLKDISCARDZEROES;
pub const BLKSECDISCARD: u32 = ioctl::BLKSECDISCARD;
pub const BLKROTATIONAL: u32 = ioctl::BLKROTATIONAL;
pub const BLKZEROOUT: u32 = ioctl::BLKZEROOUT;
pub const BLKGETDISKSEQ: u32 = ioctl::BLKGETDISKSEQ;
pub const BLKGETZONESZ: u32 = ioctl::BLKGETZONESZ;
pub const BLKGETNRZONES: u32 = ioctl::BLKGETNRZONES;
pub const HDIO_GETGEO: u32 = 0x0301;
