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
use crate::abi::resource::RLIMIT_NOFILE;
use crate::abi::termios::{B38400, CREAD, CS8};
use crate::abi::{Errno, KResult, Winsize};
use crate::fs::file::{File, FileOps};
use crate::task::Task;
use crate::task::wait::WaitQueue;
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

/// Indices of the ptys whose masters are open, for readdir.
pub fn indices() -> Vec<u32> {
    let ptys: Vec<(u32, Arc<Tty>)> = PTYS.lock().iter().filter_map(|(&i, w)| Some((i, w.upgrade()?))).collect();
    ptys.into_iter().filter(|(_, t)| t.lock().master_open).map(|(i, _)| i).collect()
}

/// /dev/ptmx: a new pair with a locked slave owned by the caller.
pub fn open_master(_flags: u32) -> KResult<Arc<dyn FileOps>> {
    let task = crate::task::current().ok_or(Errno::ENXIO)?;
    let creds = task.creds();
    let mut ptys = PTYS.lock();
    ptys.retain(|_, w| w.strong_count() > 0);
    let index = (0..PTY_MAX).find(|i| !ptys.contains_key(i)).ok_or(Errno::ENOSPC)?;
    // A slave starts from tty_std_termios with B38400 CS8 CREAD (Linux:
    // unix98_pty_init).
    let mut termios = std_termios();
    termios.c_cflag = B38400 | CS8 | CREAD;
    let tty = Tty::new(Backend::Pty { index }, &task.kernel, termios, Winsize::default());
    {
        let mut st = tty.lock();
        st.master_open = true;
        // devpts without gid= and mode= options: the opener's ids, 0600.
        st.uid = creds.fsuid;
        st.gid = creds.fsgid;
        st.mode = 0o600;
    }
    ptys.insert(index, Arc::downgrade(&tty));
    Ok(Arc::new(PtyMaster { tty }))
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
pub fn master_ioctl(tty: &Arc<Tty>, task: &Task, cmd: u32, arg: u64) -> KResult<u64> {
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
        TIOCGPTPEER => open_peer(task, index, arg as u32),
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

/// TIOCGPTPEER: opens the slave through devpts and installs it as a new
/// fd of the caller (Linux: ptm_open_peer).
fn open_peer(task: &Task, index: u32, flags: u32) -> KResult<u64> {
    if flags & !(O_ACCMODE | O_NOCTTY | O_NONBLOCK | O_CLOEXEC | O_LARGEFILE) != 0 {
        return Err(Errno::EINVAL);
    }
    let ops = open_slave(index, flags)?;
    let (inode, path) = crate::fs::devpts::slave_path(task, index);
    let file = File::new(inode, path, ops, (flags & !O_NOCTTY) | O_LARGEFILE);
    let limit = task.rlimit(RLIMIT_NOFILE).cur;
    Ok(task.files().install(file, flags & O_CLOEXEC != 0, 0, limit)? as u64)
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
    fn ioctl_task(&self, file: &File, task: &Task, cmd: u32, arg: u64) -> KResult<u64> {
        self.tty.ioctl(file, task, cmd, arg, true)
    }
    fn poll(&self, _file: &File) -> u16 {
        self.tty.poll_master()
    }
    fn wait_queue(&self) -> Option<&WaitQueue> {
        Some(&self.tty.master_wait)
    }
    fn size(&self, _file: &File) -> KResult<u64> {
        Ok(0)
    }
}
