//! Pseudo-terminals (Linux's Unix98 ptys, drivers/tty/pty.c): /dev/ptmx
//! opens a new master, /dev/pts/N (devpts) its slave. A pair is one `Tty`
//! with `Backend::Pty`: the slave side is the tty proper; the master reads
//! what the slave writes (after output processing) and writes its input.
//! Called by devfs (ptmx) and devpts; the index table is taken before the
//! tty list, never the other way round.

use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::{Arc, Weak};

use crate::abi::fcntl::{O_ACCMODE, O_CLOEXEC, O_LARGEFILE, O_NOCTTY, O_NONBLOCK};
use crate::abi::ioctl::{TIOCGPTLCK, TIOCGPTN, TIOCGPTPEER, TIOCPKT, TIOCSIG, TIOCSPTLCK};
use crate::abi::termios::{B38400, CREAD, CS8};
use crate::abi::{Errno, KResult, Winsize};
use crate::fs::file::{File, FileOps};
use crate::sched::CurrentTask;
use crate::sched::wait::WaitQueue;
use crate::tty::ldisc::std_termios;
use crate::tty::{Backend, Tty};

/// Linux's default kernel.pty.max.
const PTY_MAX: u32 = 4096;

/// Pty indices in use (a pair keeps its index until both sides are gone).
static PTYS: Mutex<BTreeMap<u32, Weak<Tty>>> = Mutex::new(BTreeMap::new());

/// The pty with slave `index`, while its master is open.
pub fn lookup(index: u32) -> Option<Arc<Tty>> {
    let tty = PTYS.lock().get(&index)?.upgrade()?;
    let open = tty.lock().master_open;
    open.then_some(tty)
}

/// /dev/ptmx: a new pair with a locked slave owned by the caller.
pub fn open_master(_flags: u32) -> KResult<Arc<dyn FileOps>> {
    let task = crate::sched::current().ok_or(Errno::ENXIO)?;
    let creds = task.creds();
    let mut ptys = PTYS.lock();
    ptys.retain(|_, w| w.strong_count() > 0);
    let index = (0..PTY_MAX).find(|i| !ptys.contains_key(i)).ok_or(Errno::ENOSPC)?;
    // A slave starts from tty_std_termios with B38400 CS8 CREAD (Linux:
    // unix98_pty_init).
    let mut termios = std_termios();
    termios.c_cflag = B38400 | CS8 | CREAD;
    let tty = Tty::new(Backend::Pty { index }, termios, Winsize::default());
    tty.lock().master_open = true;
    // devpts without gid= and mode= options: the opener's ids, 0600.
    crate::fs::devpts::add_slave(index, creds.fsuid, creds.fsgid, 0o600);
    ptys.insert(index, Arc::downgrade(&tty));
    Ok(Arc::new(PtyMaster { tty }))
}

/// The pty slaves, 136:N.
pub struct SlaveDevices;

impl crate::fs::chrdev::CharDevice for SlaveDevices {
    fn open(&self, minor: u32, flags: u32) -> KResult<Arc<dyn FileOps>> {
        open_slave(minor, flags)
    }
}

/// /dev/pts/N: EIO while locked or once the master is gone.
pub fn open_slave(index: u32, flags: u32) -> KResult<Arc<dyn FileOps>> {
    let tty = lookup(index).ok_or(Errno::EIO)?;
    {
        let st = tty.lock();
        if st.locked || st.hung_up {
            return Err(Errno::EIO);
        }
    }
    Ok(Arc::new(tty.open_slave(flags, true)))
}

/// The master-only ioctls (Linux: pty_unix98_ioctl).
pub fn master_ioctl(tty: &Arc<Tty>, task: &dyn CurrentTask, cmd: u32, arg: u64) -> KResult<u64> {
    let Backend::Pty { index } = tty.backend else { return Err(Errno::ENOTTY) };
    let mm = task.mm();
    match cmd {
        TIOCGPTN => {
            mm.write(arg, &index)?;
            Ok(0)
        }
        TIOCSPTLCK => {
            let lock: i32 = mm.read(arg)?;
            tty.lock().locked = lock != 0;
            Ok(0)
        }
        TIOCGPTLCK => {
            let locked = tty.lock().locked as i32;
            mm.write(arg, &locked)?;
            Ok(0)
        }
        // The system call layer opens the peer and installs the fd.
        TIOCGPTPEER => Err(Errno::ENOTTY),
        TIOCSIG => {
            let sig = arg as i32;
            if !(1..=64).contains(&sig) {
                return Err(Errno::EINVAL);
            }
            let pgrp = tty.lock().pgrp;
            tty.signal_group(pgrp, &[sig]);
            Ok(0)
        }
        // Packet mode is not implemented; turning it off is harmless.
        TIOCPKT => {
            let on: i32 = mm.read(arg)?;
            if on == 0 { Ok(0) } else { Err(Errno::ENOTTY) }
        }
        _ => Err(Errno::ENOTTY),
    }
}

/// TIOCGPTPEER: the slave of the pty whose master is `master`, opened
/// through devpts as seen from `root` (Linux: ptm_open_peer); ENOTTY when
/// `master` is not a pty master. The caller installs the fd.
pub fn open_peer(master: &File, root: &crate::fs::path::Path, mounts: &crate::fs::path::MountTable, flags: u32) -> KResult<Arc<File>> {
    let tty = master.ops.as_any().and_then(|a| a.downcast_ref::<PtyMaster>()).map(|m| m.tty.clone()).ok_or(Errno::ENOTTY)?;
    let Backend::Pty { index } = tty.backend else { return Err(Errno::ENOTTY) };
    if flags & !(O_ACCMODE | O_NOCTTY | O_NONBLOCK | O_CLOEXEC | O_LARGEFILE) != 0 {
        return Err(Errno::EINVAL);
    }
    let ops = open_slave(index, flags)?;
    let (inode, path) = crate::fs::devpts::slave_path(root, mounts, index);
    Ok(File::new(inode, path, ops, (flags & !O_NOCTTY) | O_LARGEFILE))
}

/// An open pty master.
pub struct PtyMaster {
    pub tty: Arc<Tty>,
}

impl Drop for PtyMaster {
    fn drop(&mut self) {
        self.tty.master_closed();
    }
}

impl FileOps for PtyMaster {
    fn read(&self, file: &File, buf: &mut [u8], _pos: &mut u64) -> KResult<usize> {
        self.tty.master_read(file, buf)
    }
    fn write(&self, file: &File, buf: &[u8], _pos: &mut u64) -> KResult<usize> {
        self.tty.master_write(file, buf)
    }
    fn seekable(&self) -> bool {
        false
    }
    fn is_stream(&self) -> bool {
        true
    }
    fn ioctl(&self, file: &File, task: &dyn CurrentTask, cmd: u32, arg: u64) -> KResult<u64> {
        self.tty.ioctl(file, task, cmd, arg, true)
    }
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
    fn poll(&self, _file: &File) -> u16 {
        self.tty.poll_master()
    }
    fn wait_queue(&self) -> Option<&WaitQueue> {
        Some(&self.tty.master_wait)
    }
    fn fasync(&self, file: &Arc<File>, fd: i32, on: bool) -> KResult<()> {
        self.tty.set_fasync(file, fd, on, true);
        Ok(())
    }
    fn size(&self, _file: &File) -> KResult<u64> {
        Ok(0)
    }
}
