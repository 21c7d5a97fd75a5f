//! The guest ABI: Linux x86-64 types and constants as a guest sees them.
//! Constants sit in one submodule per uapi header family (`fcntl`, `signal`,
//! `mman`...) and come from `linux-raw-sys`; the few it lacks are written
//! there, naming their Linux header. This module adds the `Pod` marker that
//! lets typed user-memory accessors copy these structs as bytes.

pub mod auxvec;
pub mod capability;
pub mod errno;
pub mod event;
pub mod fcntl;
pub mod futex;
pub mod ioctl;
pub mod limits;
pub mod mman;
pub mod mount;
pub mod personality;
pub mod poll;
pub mod prctl;
pub mod random;
pub mod resource;
pub mod sched;
pub mod signal;
pub mod socket;
pub mod stat;
pub mod statfs;
pub mod syscall_names;
pub mod termios;
pub mod time;
pub mod uio;
pub mod unistd;
pub mod wait;
pub mod xattr;

pub use errno::{Errno, KResult};

/// Plain old data: every bit pattern is valid and the type has no padding
/// that could leak kernel memory when copied out. bytemuck's derive checks
/// both at compile time for the `#[repr(C)]` guest ABI structs; this trait
/// only adds the byte views the user-memory accessors use.
pub trait Pod: bytemuck::Pod {
    fn new_zeroed() -> Self {
        bytemuck::Zeroable::zeroed()
    }
    fn as_bytes(&self) -> &[u8] {
        bytemuck::bytes_of(self)
    }
    fn as_bytes_mut(&mut self) -> &mut [u8] {
        bytemuck::bytes_of_mut(self)
    }
}

impl<T: bytemuck::Pod> Pod for T {}

/// `struct stat` (x86-64 layout, 144 bytes).
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Stat {
    pub st_dev: u64,
    pub st_ino: u64,
    pub st_nlink: u64,
    pub st_mode: u32,
    pub st_uid: u32,
    pub st_gid: u32,
    pub pad0: u32,
    pub st_rdev: u64,
    pub st_size: i64,
    pub st_blksize: i64,
    pub st_blocks: i64,
    pub st_atime: Timespec,
    pub st_mtime: Timespec,
    pub st_ctime: Timespec,
    pub reserved: [i64; 3],
}

#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq, PartialOrd, Ord, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Timespec {
    pub tv_sec: i64,
    pub tv_nsec: i64,
}

#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Timeval {
    pub tv_sec: i64,
    pub tv_usec: i64,
}

#[repr(C)]
#[derive(Clone, Copy, Default, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Itimerval {
    pub it_interval: Timeval,
    pub it_value: Timeval,
}

/// `struct itimerspec` (timerfd_settime, timer_settime).
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Itimerspec {
    pub it_interval: Timespec,
    pub it_value: Timespec,
}

#[repr(C)]
#[derive(Clone, Copy, Default, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Timezone {
    pub tz_minuteswest: i32,
    pub tz_dsttime: i32,
}

#[repr(C)]
#[derive(Clone, Copy, Default, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub struct StatxTimestamp {
    pub tv_sec: i64,
    pub tv_nsec: u32,
    pub reserved: i32,
}

/// `struct statx` (256 bytes).
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Statx {
    pub stx_mask: u32,
    pub stx_blksize: u32,
    pub stx_attributes: u64,
    pub stx_nlink: u32,
    pub stx_uid: u32,
    pub stx_gid: u32,
    pub stx_mode: u16,
    pub spare0: u16,
    pub stx_ino: u64,
    pub stx_size: u64,
    pub stx_blocks: u64,
    pub stx_attributes_mask: u64,
    pub stx_atime: StatxTimestamp,
    pub stx_btime: StatxTimestamp,
    pub stx_ctime: StatxTimestamp,
    pub stx_mtime: StatxTimestamp,
    pub stx_rdev_major: u32,
    pub stx_rdev_minor: u32,
    pub stx_dev_major: u32,
    pub stx_dev_minor: u32,
    pub spare2: [u64; 14],
}

/// `struct statfs` (x86-64, 120 bytes).
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub struct StatFs {
    pub f_type: i64,
    pub f_bsize: i64,
    pub f_blocks: u64,
    pub f_bfree: u64,
    pub f_bavail: u64,
    pub f_files: u64,
    pub f_ffree: u64,
    pub f_fsid: [i32; 2],
    pub f_namelen: i64,
    pub f_frsize: i64,
    pub f_flags: i64,
    pub f_spare: [i64; 4],
}

#[repr(C)]
#[derive(Clone, Copy, Default, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Iovec {
    pub base: u64,
    pub len: u64,
}

#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Rlimit {
    pub cur: u64,
    pub max: u64,
}

#[repr(C)]
#[derive(Clone, Copy, Default, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Rusage {
    pub ru_utime: Timeval,
    pub ru_stime: Timeval,
    pub rest: [i64; 14],
}

#[repr(C)]
#[derive(Clone, Copy, Default, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Tms {
    pub tms_utime: i64,
    pub tms_stime: i64,
    pub tms_cutime: i64,
    pub tms_cstime: i64,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Utsname {
    pub sysname: [u8; 65],
    pub nodename: [u8; 65],
    pub release: [u8; 65],
    pub version: [u8; 65],
    pub machine: [u8; 65],
    pub domainname: [u8; 65],
}

/// `struct sysinfo` (x86-64, 112 bytes).
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Sysinfo {
    pub uptime: i64,
    pub loads: [u64; 3],
    pub totalram: u64,
    pub freeram: u64,
    pub sharedram: u64,
    pub bufferram: u64,
    pub totalswap: u64,
    pub freeswap: u64,
    pub procs: u16,
    pub pad: [u16; 3],
    pub totalhigh: u64,
    pub freehigh: u64,
    pub mem_unit: u32,
    pub pad2: [u8; 4],
}

/// `stack_t`.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Sigaltstack {
    pub ss_sp: u64,
    pub ss_flags: i32,
    pub pad: i32,
    pub ss_size: u64,
}

/// Kernel `struct termios` as used by TCGETS/TCSETS (36 bytes).
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Termios {
    pub c_iflag: u32,
    pub c_oflag: u32,
    pub c_cflag: u32,
    pub c_lflag: u32,
    pub c_line: u8,
    pub c_cc: [u8; 19],
}

#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Winsize {
    pub ws_row: u16,
    pub ws_col: u16,
    pub ws_xpixel: u16,
    pub ws_ypixel: u16,
}

const _: () = {
    assert!(size_of::<Stat>() == 144);
    assert!(size_of::<Statx>() == 256);
    assert!(size_of::<StatFs>() == 120);
    assert!(size_of::<Sysinfo>() == 112);
    assert!(size_of::<Rusage>() == 144);
    assert!(size_of::<Termios>() == 36);
    assert!(size_of::<Utsname>() == 390);
};

/// Guest kernel `struct k_sigaction` for rt_sigaction (x86-64 layout).
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct KSigaction {
    pub handler: u64,
    pub flags: u64,
    pub restorer: u64,
    pub mask: u64,
}

/// Page size of the guest (x86-64 base pages).
pub const PAGE_SIZE: u64 = 4096;

pub fn page_align_down(x: u64) -> u64 {
    x & !(PAGE_SIZE - 1)
}

/// Rounds up to a page boundary; `None` when that overflows.
pub fn page_align_up(x: u64) -> Option<u64> {
    x.checked_add(PAGE_SIZE - 1).map(|v| v & !(PAGE_SIZE - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sample of the values vkernel once typed by hand, chosen where taking
    /// them from linux-raw-sys needs a cast that could change sign or width.
    #[test]
    fn abi_constants_keep_linux_values_and_signedness() {
        assert_eq!(fcntl::AT_FDCWD, -100);
        assert_eq!(fcntl::O_TMPFILE, 0o20200000);
        assert_eq!(fcntl::F_UNLCK, 2i16);
        assert_eq!(signal::NSIG, 64);
        assert_eq!(signal::SIGSET_SIZE, 8);
        assert_eq!(signal::SI_QUEUE, -1);
        assert_eq!(signal::SI_TKILL, -6);
        assert_eq!(signal::SS_AUTODISARM, i32::MIN);
        assert_eq!(signal::SA_RESETHAND, 0x8000_0000u64);
        assert_eq!(sched::CLONE_IO, 0x8000_0000u64);
        assert_eq!(resource::RLIM_INFINITY, u64::MAX);
        assert_eq!(resource::RUSAGE_CHILDREN, -1);
        assert_eq!(wait::WCLONE, 0x8000_0000u32);
        assert_eq!(stat::UTIME_NOW, (1 << 30) - 1);
        assert_eq!(statfs::PROC_SUPER_MAGIC, 0x9fa0i64);
        assert_eq!(poll::EPOLLET, 1 << 31);
        assert_eq!(ioctl::TIOCGPTN, 0x8004_5430);
        assert_eq!(unistd::NR_RESTART_SYSCALL, 219);
        assert_eq!(Errno::ENOENT.0, 2);
        assert_eq!(Errno::ENOPKG.name(), "ENOPKG");
        assert_eq!(Errno::ERESTARTSYS.0, 512);
    }
}
