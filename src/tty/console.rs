//! The console device: guest fds 0-2 at boot, backed by vkernel's fds 0-2.

use std::sync::Arc;

use crate::abi::{Errno, KResult};
use crate::fs::file::{File, FileOps};

/// One of vkernel's own standard fds as a guest file.
pub struct ConsoleFile {
    pub host_fd: i32,
}

impl FileOps for ConsoleFile {
    fn read(&self, _file: &File, buf: &mut [u8], _pos: &mut u64) -> KResult<usize> {
        loop {
            // SAFETY: reading into a live buffer from our own fd.
            let n = unsafe { libc::read(self.host_fd, buf.as_mut_ptr() as *mut libc::c_void, buf.len()) };
            if n >= 0 {
                return Ok(n as usize);
            }
            let e = Errno::last_host();
            if e != Errno::EINTR {
                return Err(e);
            }
        }
    }

    fn write(&self, _file: &File, buf: &[u8], _pos: &mut u64) -> KResult<usize> {
        loop {
            // SAFETY: writing a live buffer to our own fd.
            let n = unsafe { libc::write(self.host_fd, buf.as_ptr() as *const libc::c_void, buf.len()) };
            if n >= 0 {
                return Ok(n as usize);
            }
            let e = Errno::last_host();
            if e != Errno::EINTR {
                return Err(e);
            }
        }
    }

    fn seekable(&self) -> bool {
        false
    }

    fn is_stream(&self) -> bool {
        true
    }
}

pub fn console_file(host_fd: i32, inode: crate::fs::inode::InodeRef, flags: u32) -> Arc<File> {
    File::new(inode, None, Arc::new(ConsoleFile { host_fd }), flags)
}
