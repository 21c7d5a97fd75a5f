//! File control: `open` flags, `fcntl` commands, `*at` flags, `flock`,
//! `lseek` whence values and `renameat2` flags (Linux: include/uapi/asm-generic/fcntl.h,
//! include/uapi/linux/fcntl.h, include/uapi/linux/fs.h, include/uapi/linux/falloc.h).
//! Values come from linux-raw-sys; only the few it lacks are written here.

// Linux's table; not every value is used yet.
#![allow(dead_code)]

use linux_raw_sys::general;

pub const O_ACCMODE: u32 = general::O_ACCMODE;
pub const O_RDONLY: u32 = general::O_RDONLY;
pub const O_WRONLY: u32 = general::O_WRONLY;
pub const O_RDWR: u32 = general::O_RDWR;
pub const O_CREAT: u32 = general::O_CREAT;
pub const O_EXCL: u32 = general::O_EXCL;
pub const O_NOCTTY: u32 = general::O_NOCTTY;
pub const O_TRUNC: u32 = general::O_TRUNC;
pub const O_APPEND: u32 = general::O_APPEND;
pub const O_NONBLOCK: u32 = general::O_NONBLOCK;
pub const O_NDELAY: u32 = general::O_NDELAY;
pub const O_DSYNC: u32 = general::O_DSYNC;
/// Linux spells it `FASYNC`; glibc calls it `O_ASYNC`.
pub const O_ASYNC: u32 = general::FASYNC;
pub const O_DIRECT: u32 = general::O_DIRECT;
pub const O_LARGEFILE: u32 = general::O_LARGEFILE;
pub const O_DIRECTORY: u32 = general::O_DIRECTORY;
pub const O_NOFOLLOW: u32 = general::O_NOFOLLOW;
pub const O_NOATIME: u32 = general::O_NOATIME;
pub const O_CLOEXEC: u32 = general::O_CLOEXEC;
pub const O_SYNC: u32 = general::O_SYNC;
pub const O_PATH: u32 = general::O_PATH;
pub const O_TMPFILE: u32 = general::O_TMPFILE;
// Not in linux-raw-sys; from include/uapi/linux/watch_queue.h.
/// `pipe2` asking for a watch-queue pipe: shares `O_EXCL`'s bit.
pub const O_NOTIFICATION_PIPE: u32 = O_EXCL;

pub const F_DUPFD: u32 = general::F_DUPFD;
pub const F_GETFD: u32 = general::F_GETFD;
pub const F_SETFD: u32 = general::F_SETFD;
pub const F_GETFL: u32 = general::F_GETFL;
pub const F_SETFL: u32 = general::F_SETFL;
pub const F_GETLK: u32 = general::F_GETLK;
pub const F_SETLK: u32 = general::F_SETLK;
pub const F_SETLKW: u32 = general::F_SETLKW;
pub const F_SETOWN: u32 = general::F_SETOWN;
pub const F_GETOWN: u32 = general::F_GETOWN;
pub const F_SETSIG: u32 = general::F_SETSIG;
pub const F_GETSIG: u32 = general::F_GETSIG;
pub const F_NOTIFY: u32 = general::F_NOTIFY;
pub const F_OWNER_TID: i32 = general::F_OWNER_TID as i32;
pub const F_OWNER_PID: i32 = general::F_OWNER_PID as i32;
pub const F_OWNER_PGRP: i32 = general::F_OWNER_PGRP as i32;
/// dnotify events (F_NOTIFY).
pub const DN_ACCESS: u32 = general::DN_ACCESS;
pub const DN_MODIFY: u32 = general::DN_MODIFY;
pub const DN_CREATE: u32 = general::DN_CREATE;
pub const DN_DELETE: u32 = general::DN_DELETE;
pub const DN_RENAME: u32 = general::DN_RENAME;
pub const DN_ATTRIB: u32 = general::DN_ATTRIB;
pub const DN_MULTISHOT: u32 = general::DN_MULTISHOT;
pub const F_SETOWN_EX: u32 = general::F_SETOWN_EX;
pub const F_GETOWN_EX: u32 = general::F_GETOWN_EX;
pub const F_OFD_GETLK: u32 = general::F_OFD_GETLK;
pub const F_OFD_SETLK: u32 = general::F_OFD_SETLK;
pub const F_OFD_SETLKW: u32 = general::F_OFD_SETLKW;
pub const F_SETLEASE: u32 = general::F_SETLEASE;
pub const F_GETLEASE: u32 = general::F_GETLEASE;
pub const F_DUPFD_QUERY: u32 = general::F_DUPFD_QUERY;
pub const F_DUPFD_CLOEXEC: u32 = general::F_DUPFD_CLOEXEC;
pub const F_SETPIPE_SZ: u32 = general::F_SETPIPE_SZ;
pub const F_GETPIPE_SZ: u32 = general::F_GETPIPE_SZ;
pub const F_GET_SEALS: u32 = general::F_GET_SEALS;
pub const F_ADD_SEALS: u32 = general::F_ADD_SEALS;
pub const F_SEAL_SEAL: u32 = general::F_SEAL_SEAL;
pub const F_SEAL_SHRINK: u32 = general::F_SEAL_SHRINK;
pub const F_SEAL_GROW: u32 = general::F_SEAL_GROW;
pub const F_SEAL_WRITE: u32 = general::F_SEAL_WRITE;
pub const F_SEAL_FUTURE_WRITE: u32 = general::F_SEAL_FUTURE_WRITE;
pub const F_SEAL_EXEC: u32 = general::F_SEAL_EXEC;
/// Every seal Linux knows (mm/memfd.c's F_ALL_SEALS).
pub const F_ALL_SEALS: u32 = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE | F_SEAL_EXEC;
pub const FD_CLOEXEC: u64 = general::FD_CLOEXEC as u64;

pub const F_RDLCK: i16 = general::F_RDLCK as i16;
pub const F_WRLCK: i16 = general::F_WRLCK as i16;
pub const F_UNLCK: i16 = general::F_UNLCK as i16;

pub const LOCK_SH: u32 = general::LOCK_SH;
pub const LOCK_EX: u32 = general::LOCK_EX;
pub const LOCK_NB: u32 = general::LOCK_NB;
pub const LOCK_UN: u32 = general::LOCK_UN;

pub const AT_FDCWD: i32 = general::AT_FDCWD;
pub const AT_SYMLINK_NOFOLLOW: u32 = general::AT_SYMLINK_NOFOLLOW;
pub const AT_REMOVEDIR: u32 = general::AT_REMOVEDIR;
pub const AT_SYMLINK_FOLLOW: u32 = general::AT_SYMLINK_FOLLOW;
pub const AT_NO_AUTOMOUNT: u32 = general::AT_NO_AUTOMOUNT;
pub const AT_EMPTY_PATH: u32 = general::AT_EMPTY_PATH;
pub const AT_EACCESS: u32 = general::AT_EACCESS;
pub const AT_STATX_SYNC_TYPE: u32 = general::AT_STATX_SYNC_TYPE;

pub const SEEK_SET: u32 = general::SEEK_SET;
pub const SEEK_CUR: u32 = general::SEEK_CUR;
pub const SEEK_END: u32 = general::SEEK_END;
pub const SEEK_DATA: u32 = general::SEEK_DATA;
pub const SEEK_HOLE: u32 = general::SEEK_HOLE;

pub const RENAME_NOREPLACE: u32 = general::RENAME_NOREPLACE;
pub const RENAME_EXCHANGE: u32 = general::RENAME_EXCHANGE;
pub const RENAME_WHITEOUT: u32 = general::RENAME_WHITEOUT;

pub const FALLOC_FL_KEEP_SIZE: u32 = general::FALLOC_FL_KEEP_SIZE;
pub const FALLOC_FL_PUNCH_HOLE: u32 = general::FALLOC_FL_PUNCH_HOLE;

// Not in linux-raw-sys; from include/uapi/linux/close_range.h.
pub const CLOSE_RANGE_UNSHARE: u32 = 1 << 1;
pub const CLOSE_RANGE_CLOEXEC: u32 = 1 << 2;
