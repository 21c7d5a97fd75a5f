//! The one kernel error type: a Linux errno. Handlers return `KResult<T>`;
//! the syscall dispatcher turns an `Err(Errno)` into `-errno` for the guest.
//! The numbers come from linux-raw-sys.

// The errno table is Linux's list; not every value is produced yet.
#![allow(dead_code)]

use std::fmt;

/// A Linux error number as the guest sees it (positive, e.g. `ENOENT` = 2).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Errno(pub i32);

pub type KResult<T> = Result<T, Errno>;

macro_rules! errnos {
    (uapi: $($name:ident),* ; internal: $($iname:ident = $ival:expr),* $(,)?) => {
        impl Errno {
            $(pub const $name: Errno = Errno(linux_raw_sys::errno::$name as i32);)*
            $(pub const $iname: Errno = Errno($ival);)*

            /// The symbolic name, for logs.
            pub fn name(self) -> &'static str {
                match self {
                    $(Self::$name => stringify!($name),)*
                    $(Self::$iname => stringify!($iname),)*
                    _ => "E?",
                }
            }
        }
    };
}

errnos! {
    uapi:
    EPERM, ENOENT, ESRCH, EINTR, EIO, ENXIO, E2BIG, ENOEXEC, EBADF, ECHILD, EAGAIN, ENOMEM, EACCES,
    EFAULT, ENOTBLK, EBUSY, EEXIST, EXDEV, ENODEV, ENOTDIR, EISDIR, EINVAL, ENFILE, EMFILE, ENOTTY,
    ETXTBSY, EFBIG, ENOSPC, ESPIPE, EROFS, EMLINK, EPIPE, EDOM, ERANGE, EDEADLK, ENAMETOOLONG,
    ENOLCK, ENOSYS, ENOTEMPTY, ELOOP, ENOMSG, EIDRM, ENODATA, ETIME, ENOPKG, ELIBBAD, EOVERFLOW,
    EBADFD, EILSEQ, ENOTSOCK, EDESTADDRREQ, EMSGSIZE, EPROTOTYPE, ENOPROTOOPT, EPROTONOSUPPORT,
    EOPNOTSUPP, EAFNOSUPPORT, EADDRINUSE, EADDRNOTAVAIL, ENETUNREACH, ECONNABORTED, ECONNRESET,
    ENOBUFS, EISCONN, ENOTCONN, ETIMEDOUT, ECONNREFUSED, EALREADY, EINPROGRESS, ESTALE, EDQUOT,
    ECANCELED, ESOCKTNOSUPPORT, ETOOMANYREFS, EPFNOSUPPORT, EUSERS;
    // Kernel-internal restart codes; never seen by a guest and not in the uapi
    // headers (Linux: include/linux/errno.h).
    internal:
    ERESTARTSYS = 512, ERESTARTNOINTR = 513, ERESTARTNOHAND = 514, ERESTART_RESTARTBLOCK = 516,
}

impl Errno {
    /// EWOULDBLOCK is EAGAIN on Linux.
    pub const EWOULDBLOCK: Errno = Errno::EAGAIN;
    pub const ENOTSUP: Errno = Errno::EOPNOTSUPP;

    /// Maps a host error (from a host call vkernel made) to the guest errno.
    /// Linux-on-Linux, so the numbers are the same.
    pub fn from_host(err: std::io::Error) -> Errno {
        Errno(err.raw_os_error().unwrap_or(Errno::EIO.0))
    }

    /// The errno of the last failed host call.
    pub fn last_host() -> Errno {
        Errno::from_host(std::io::Error::last_os_error())
    }
}

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.name(), self.0)
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}
