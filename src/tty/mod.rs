//! Terminals. `Tty` is the core the console and pseudo-terminals share
//! (Linux's tty_io.c and tty_jobctrl.c): the line discipline, the
//! controlling-terminal registry (a tty records its session and foreground
//! process group), job control and the terminal ioctls. `console` is
//! vkernel's own stdin/stdout, `pty` the /dev/ptmx pairs. A tty's state lock
//! is a leaf: signals are sent, host writes made and other kernel tables
//! read only after it is released.

pub mod console;
pub mod ldisc;
pub mod pty;

/// Registers the terminal drivers: /dev/tty, /dev/console and /dev/ptmx
/// (5:0-2) and the pty slaves (136:x). Called once at boot.
pub fn register_devices() {
    use crate::fs::chrdev;
    chrdev::register(5, 0..=2, Arc::new(TerminalDevices));
    chrdev::register(136, 0..=u32::MAX, Arc::new(pty::SlaveDevices));
}

/// /dev/tty, /dev/console and /dev/ptmx.
struct TerminalDevices;

impl crate::fs::chrdev::CharDevice for TerminalDevices {
    fn open(&self, minor: u32, flags: u32) -> KResult<Arc<dyn FileOps>> {
        match minor {
            0 => console::open_tty(flags),
            1 => console::open_console(flags),
            2 => pty::open_master(flags),
            _ => Err(Errno::ENXIO),
        }
    }
}

use parking_lot::{Mutex, MutexGuard};
use std::collections::VecDeque;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use crate::abi::fcntl::O_NOCTTY;
use crate::abi::ioctl::{
    FIONREAD, TCFLSH, TCGETS, TCSBRK, TCSBRKP, TCSETS, TCSETSF, TCSETSW, TCXONC, TIOCEXCL, TIOCGDEV, TIOCGETD, TIOCGPGRP, TIOCGSID, TIOCGWINSZ, TIOCNOTTY,
    TIOCNXCL, TIOCOUTQ, TIOCSCTTY, TIOCSETD, TIOCSPGRP, TIOCSTI, TIOCSWINSZ,
};
use crate::abi::poll::{POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM};
use crate::abi::signal::POLL_IN;
use crate::abi::signal::{SIGCONT, SIGHUP, SIGTTIN, SIGTTOU, SIGWINCH};
use crate::abi::termios::{ICANON, TCIFLUSH, TCIOFF, TCIOFLUSH, TCION, TCOFLUSH, TCOOFF, TCOON, VMIN, VSTART, VSTOP, VTIME};
use crate::abi::{Errno, KResult, Termios, Winsize};
use crate::fs::fasync::{FasyncList, FileOwner, OwnerKind};
use crate::fs::file::{File, FileOps};
use crate::sched::CurrentTask;
use crate::sched::processes::processes;
use crate::sched::wait::{WaitQueue, wait_any};
use ldisc::LineDiscipline;

/// Device bytes the line discipline has not taken yet (Linux's tty flip
/// buffers are limited to 64 KiB).
const INPUT_LIMIT: usize = 65536;
/// Slave output a pty master has not read yet.
const OUTPUT_LIMIT: usize = 65536;
/// Linux's WAKEUP_CHARS: a pty slave polls writable with this much room.
const WAKEUP_CHARS: usize = 256;

/// Whether a long write stops between steps: Linux's iterate_tty_write
/// checks signal_pending after every chunk, so a signal ends even a write
/// that never has to wait (canonical input that overflows is discarded
/// rather than blocking).
fn signal_pending() -> bool {
    crate::sched::current().is_some_and(|t| t.signal_pending())
}

/// What is behind a tty.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// The host terminal: output goes to host fd `out_fd`, input comes
    /// from console's reader thread.
    Console { out_fd: i32 },
    /// The slave side of pty `index`; output is queued for the master.
    Pty { index: u32 },
}

pub struct TtyState {
    pub ldisc: LineDiscipline,
    /// Device bytes waiting for room in the line discipline.
    input: VecDeque<u8>,
    pub winsize: Winsize,
    /// The session this is the controlling terminal of (0: none).
    pub session: i32,
    /// The foreground process group (0: none).
    pub pgrp: i32,
    /// Hung up (master closed, host terminal gone): reads 0, writes EIO.
    pub hung_up: bool,
    /// Pty: slave output for the master to read.
    pub to_master: VecDeque<u8>,
    pub master_open: bool,
    /// Pty: open slave files.
    pub slave_opens: usize,
    /// Pty: every slave file was closed (Linux's TTY_OTHER_CLOSED on the
    /// master): master reads give EIO once drained.
    pub slave_closed: bool,
    /// Pty: slave opens fail with EIO until unlockpt.
    pub locked: bool,
}

pub struct Tty {
    pub backend: Backend,
    state: Mutex<TtyState>,
    /// Woken on every change console or slave readers, writers and pollers
    /// wait for (input, output room, termios, hangup).
    pub wait: WaitQueue,
    /// Woken on every change pty master readers, writers and pollers wait for.
    pub master_wait: WaitQueue,
    /// Keeps host writes of one console in order (echo against output).
    output_lock: Mutex<()>,
    /// O_ASYNC console or slave files (SIGIO when input is readable) and
    /// O_ASYNC master files (SIGIO when slave output is readable).
    pub fasync: FasyncList,
    pub master_fasync: FasyncList,
}

/// Every live tty, for the controlling-terminal lookup by session.
static TTYS: Mutex<Vec<Weak<Tty>>> = Mutex::new(Vec::new());

fn all_ttys() -> Vec<Arc<Tty>> {
    let mut list = TTYS.lock();
    list.retain(|w| w.strong_count() > 0);
    list.iter().filter_map(|w| w.upgrade()).collect()
}

/// The controlling terminal of session `sid`.
pub fn controlling_tty(sid: i32) -> Option<Arc<Tty>> {
    if sid <= 0 {
        return None;
    }
    all_ttys().into_iter().find(|t| t.lock().session == sid)
}

/// For /proc/<pid>/stat: the controlling terminal's device number (Linux's
/// old encoding, major << 8 | minor) and foreground process group (-1).
pub fn proc_stat_tty(sid: i32) -> (u32, i32) {
    match controlling_tty(sid) {
        Some(t) => {
            let (major, minor) = t.device();
            let pgrp = t.lock().pgrp;
            ((minor & 0xff) | (major << 8) | ((minor & !0xff) << 12), if pgrp > 0 { pgrp } else { -1 })
        }
        None => (0, -1),
    }
}

/// Hook for the exit path: the leader of session `sid` exited. Its
/// terminal's foreground process group gets SIGHUP and the terminal is
/// free for another session (Linux: disassociate_ctty(1)).
pub fn session_leader_exited(sid: i32) {
    if let Some(tty) = controlling_tty(sid) {
        let pgrp = {
            let mut st = tty.lock();
            let pgrp = st.pgrp;
            st.session = 0;
            st.pgrp = 0;
            pgrp
        };
        tty.signal_group(pgrp, &[SIGHUP]);
    }
}

fn session_alive(sid: i32) -> bool {
    processes().is_some_and(|p| p.session_alive(sid))
}

impl Tty {
    pub fn new(backend: Backend, termios: Termios, winsize: Winsize) -> Arc<Tty> {
        let tty = Arc::new(Tty {
            backend,
            state: Mutex::new(TtyState {
                ldisc: LineDiscipline::new(termios),
                input: VecDeque::new(),
                winsize,
                session: 0,
                pgrp: 0,
                hung_up: false,
                to_master: VecDeque::new(),
                master_open: false,
                slave_opens: 0,
                slave_closed: false,
                locked: true,
            }),
            wait: WaitQueue::new(),
            master_wait: WaitQueue::new(),
            output_lock: Mutex::new(()),
            fasync: FasyncList::new(),
            master_fasync: FasyncList::new(),
        });
        TTYS.lock().push(Arc::downgrade(&tty));
        tty
    }

    pub fn lock(&self) -> MutexGuard<'_, TtyState> {
        self.state.lock()
    }

    /// (major, minor): 5:1 for the console, 136:N for pty slaves.
    pub fn device(&self) -> (u32, u32) {
        match self.backend {
            Backend::Console { .. } => (5, 1),
            Backend::Pty { index } => (136, index),
        }
    }

    fn wake(&self) {
        self.wait.wake_all();
        self.master_wait.wake_all();
    }

    /// Sends `signals` to process group `pgrp` (the tty's own signals: ^C,
    /// SIGWINCH, hangups).
    fn signal_group(&self, pgrp: i32, signals: &[i32]) {
        if pgrp <= 0 || signals.is_empty() {
            return;
        }
        let Some(procs) = processes() else { return };
        for &sig in signals {
            procs.signal_group(pgrp, sig);
        }
    }

    /// Ends an operation: echo goes to the device (the master's queue, or
    /// the host after the lock is dropped, with `host` output after it),
    /// waiters are woken and `signals` go to the foreground process group.
    fn finish(&self, mut st: MutexGuard<'_, TtyState>, host: Vec<u8>, signals: Vec<i32>) {
        let echo = st.ldisc.take_echo();
        let pgrp = st.pgrp;
        let readable = st.ldisc.poll_readable();
        match self.backend {
            Backend::Pty { .. } => {
                // Echoes nobody reads are dropped once the master's queue
                // is full (Linux keeps a small echo buffer and discards
                // from it on overrun), so input never waits for them.
                let room = OUTPUT_LIMIT.saturating_sub(st.to_master.len());
                st.to_master.extend(echo.into_iter().take(room));
                drop(st);
            }
            Backend::Console { out_fd } => {
                let out = if echo.is_empty() { host } else { [echo, host].concat() };
                if out.is_empty() {
                    drop(st);
                } else {
                    let order = self.output_lock.lock();
                    drop(st);
                    console::write_host(out_fd, &out);
                    drop(order);
                }
            }
        }
        self.wake();
        // n_tty tells O_ASYNC readers whenever input is readable; the
        // master's reader hears of slave output the same way.
        if readable {
            self.fasync.kill(POLL_IN);
        }
        if matches!(self.backend, Backend::Pty { .. }) && !self.lock().to_master.is_empty() {
            self.master_fasync.kill(POLL_IN);
        }
        self.signal_group(pgrp, &signals);
    }

    /// Linux's __tty_fasync: O_ASYNC on or off for a file of this tty; on
    /// makes the foreground process group (or else the caller) the file's
    /// owner.
    pub fn set_fasync(&self, file: &Arc<File>, fd: i32, on: bool, master: bool) {
        if on {
            let pgrp = if master { 0 } else { self.lock().pgrp };
            if let Some(me) = crate::sched::current() {
                let creds = me.creds();
                let (kind, id) = if pgrp > 0 { (OwnerKind::Group, pgrp) } else { (OwnerKind::Process, me.tgid()) };
                file.set_owner(FileOwner { kind, id, signum: file.owner().signum, uid: creds.uid, euid: creds.euid });
            }
        }
        if master { &self.master_fasync } else { &self.fasync }.update(file, fd, on);
    }

    /// Bytes from the device (the keyboard, a pty master's write) through
    /// input processing. Returns how many were taken (0 when full).
    pub fn receive(&self, bytes: &[u8]) -> usize {
        let mut st = self.lock();
        let n = bytes.len().min(INPUT_LIMIT.saturating_sub(st.input.len()));
        st.input.extend(&bytes[..n]);
        let signals = st.process_input();
        self.finish(st, Vec::new(), signals);
        n
    }

    /// The device went away (the host terminal closed): readers see EOF.
    pub fn hangup(&self) {
        self.lock().hung_up = true;
        self.wake();
    }

    pub fn set_winsize(&self, w: Winsize) {
        let (changed, pgrp) = {
            let mut st = self.lock();
            let changed = st.winsize != w;
            st.winsize = w;
            (changed, st.pgrp)
        };
        if changed {
            self.signal_group(pgrp, &[SIGWINCH]);
        }
    }

    /// Blocks (unless `nonblock`) on `queue` until `ready` gives a value.
    fn wait_for<T>(&self, queue: &WaitQueue, nonblock: bool, deadline: Option<Instant>, mut ready: impl FnMut() -> Option<T>) -> KResult<T> {
        if nonblock {
            return ready().ok_or(Errno::EAGAIN);
        }
        wait_any(&[queue], deadline, || Ok(ready()))
    }

    /// Linux's __tty_check_change: a process of a background group touching
    /// its controlling terminal gets `sig` (SIGTTIN for reads, SIGTTOU for
    /// writes under TOSTOP and for changes) and the call restarts once it
    /// is continued; EIO when it ignores SIGTTIN or its group is orphaned.
    fn job_control(&self, task: &dyn CurrentTask, sig: i32) -> KResult<()> {
        let (session, pgrp) = {
            let st = self.lock();
            (st.session, st.pgrp)
        };
        let mine = task.pgid();
        if session == 0 || task.sid() != session || pgrp == 0 || mine == pgrp {
            return Ok(());
        }
        if task.signal_blocked_or_ignored(sig) {
            return if sig == SIGTTIN { Err(Errno::EIO) } else { Ok(()) };
        }
        let Some(procs) = processes() else { return Ok(()) };
        if procs.is_orphaned_group(mine) {
            return Err(Errno::EIO);
        }
        procs.signal_group(mine, sig);
        Err(Errno::ERESTARTSYS)
    }

    // ---- the console or slave side ----

    /// A new open file on the console or slave side. A session leader
    /// without a controlling terminal acquires this one unless O_NOCTTY
    /// (Linux: tty_open_proc_set_tty).
    pub fn open_slave(self: &Arc<Tty>, flags: u32, may_acquire: bool) -> TtyFile {
        {
            let mut st = self.lock();
            st.slave_opens += 1;
            st.slave_closed = false;
        }
        if may_acquire && flags & O_NOCTTY == 0 {
            if let Some(task) = crate::sched::current() {
                self.acquire(&*task, false);
            }
        }
        TtyFile { tty: self.clone() }
    }

    /// Makes this the controlling terminal of `task`'s session if the task
    /// leads a session without one and the tty is free (or `steal`).
    fn acquire(&self, task: &dyn CurrentTask, steal: bool) -> bool {
        let sid = task.sid();
        if sid != task.tgid() || controlling_tty(sid).is_some() {
            return false;
        }
        let owner = self.lock().session;
        if owner != 0 && owner != sid && !steal && session_alive(owner) {
            return false;
        }
        let mut st = self.lock();
        if st.session != owner || st.hung_up {
            return false;
        }
        st.session = sid;
        st.pgrp = task.pgid();
        true
    }

    fn slave_file_closed(&self) {
        let mut st = self.lock();
        st.slave_opens = st.slave_opens.saturating_sub(1);
        if st.slave_opens == 0 {
            st.slave_closed = true;
        }
        drop(st);
        self.wake();
    }

    /// Linux's n_tty_read with VMIN/VTIME.
    pub fn read(&self, file: &File, buf: &mut [u8]) -> KResult<usize> {
        if let Some(task) = crate::sched::current() {
            self.job_control(&*task, SIGTTIN)?;
        }
        // A file of a hung-up tty reads end of file; a read that was
        // waiting when the hangup came fails with EIO (Linux: n_tty_read
        // sees TTY_OTHER_CLOSED, later reads reach hung_up_tty_read).
        if buf.is_empty() || self.lock().hung_up {
            return Ok(0);
        }
        let nonblock = file.nonblocking();
        let termios = self.lock().ldisc.termios();
        if termios.c_lflag & ICANON != 0 {
            return self.wait_for(&self.wait, nonblock, None, || {
                let mut st = self.lock();
                if st.ldisc.input_available(1) {
                    let n = st.ldisc.read(buf);
                    let signals = st.process_input();
                    self.finish(st, Vec::new(), signals);
                    Some(Ok(n))
                } else if st.hung_up {
                    Some(Err(Errno::EIO))
                } else {
                    None
                }
            })?;
        }
        let (vmin, vtime) = (termios.c_cc[VMIN] as usize, termios.c_cc[VTIME] as u64);
        let timer = Duration::from_millis(vtime * 100);
        let minimum = vmin.clamp(1, buf.len());
        // VMIN 0: VTIME bounds the whole read; VMIN > 0: VTIME is the gap
        // allowed between bytes once the first has come.
        let mut deadline = (vmin == 0 && vtime > 0).then(|| Instant::now() + timer);
        let once = vmin == 0 && vtime == 0;
        let mut done = 0;
        loop {
            let step = self.wait_for(&self.wait, nonblock || once, deadline, || {
                let mut st = self.lock();
                let n = st.ldisc.read(&mut buf[done..]);
                if n > 0 {
                    let signals = st.process_input();
                    self.finish(st, Vec::new(), signals);
                    Some(Ok(n))
                } else if st.hung_up {
                    Some(Err(Errno::EIO))
                } else {
                    None
                }
            });
            match step.and_then(|r| r) {
                Ok(n) => done += n,
                Err(Errno::EAGAIN) if once => return Ok(done),
                Err(Errno::ETIMEDOUT) => return Ok(done),
                Err(e) => return if done > 0 { Ok(done) } else { Err(e) },
            }
            if done >= minimum || done == buf.len() || once {
                return Ok(done);
            }
            if vtime > 0 {
                deadline = Some(Instant::now() + timer);
            }
        }
    }

    /// Linux's n_tty_write: output processing, blocking while output is
    /// stopped or the master's queue is full.
    pub fn write(&self, file: &File, data: &[u8]) -> KResult<usize> {
        if let Some(task) = crate::sched::current() {
            if self.lock().ldisc.tostop() {
                self.job_control(&*task, SIGTTOU)?;
            }
        }
        let nonblock = file.nonblocking();
        let mut written = 0;
        while written < data.len() {
            let step = self.wait_for(&self.wait, nonblock, None, || {
                let mut st = self.lock();
                if st.hung_up {
                    return Some(Err(Errno::EIO));
                }
                if st.ldisc.stopped {
                    return None;
                }
                let room = match self.backend {
                    Backend::Console { .. } => usize::MAX,
                    Backend::Pty { .. } => OUTPUT_LIMIT.saturating_sub(st.to_master.len()),
                };
                if room == 0 {
                    return None;
                }
                let chunk = &data[written..][..room.min(data.len() - written)];
                let out = st.ldisc.process_output(chunk);
                match self.backend {
                    Backend::Pty { .. } => {
                        st.to_master.extend(out);
                        self.finish(st, Vec::new(), Vec::new());
                    }
                    Backend::Console { .. } => self.finish(st, out, Vec::new()),
                }
                Some(Ok(chunk.len()))
            });
            match step {
                Ok(Ok(n)) => written += n,
                Ok(Err(e)) | Err(e) => return if written > 0 { Ok(written) } else { Err(e) },
            }
            if written < data.len() && signal_pending() {
                return Ok(written);
            }
        }
        Ok(written)
    }

    pub fn poll_slave(&self) -> u16 {
        let st = self.lock();
        if st.hung_up {
            return POLLIN | POLLOUT | POLLERR | POLLHUP | POLLRDNORM | POLLWRNORM;
        }
        let mut r = 0;
        if st.ldisc.poll_readable() {
            r |= POLLIN | POLLRDNORM;
        }
        let room = match self.backend {
            Backend::Console { .. } => true,
            Backend::Pty { .. } => st.to_master.len() + WAKEUP_CHARS <= OUTPUT_LIMIT,
        };
        if room && !st.ldisc.stopped {
            r |= POLLOUT | POLLWRNORM;
        }
        r
    }

    // ---- the pty master side ----

    pub fn master_read(&self, file: &File, buf: &mut [u8]) -> KResult<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.wait_for(&self.master_wait, file.nonblocking(), None, || {
            let mut st = self.lock();
            if !st.to_master.is_empty() {
                let n = buf.len().min(st.to_master.len());
                for (d, s) in buf.iter_mut().zip(st.to_master.drain(..n)) {
                    *d = s;
                }
                drop(st);
                self.wake();
                Some(Ok(n))
            } else if st.slave_closed {
                Some(Err(Errno::EIO))
            } else {
                None
            }
        })?
    }

    pub fn master_write(&self, file: &File, data: &[u8]) -> KResult<usize> {
        let nonblock = file.nonblocking();
        let mut written = 0;
        while written < data.len() {
            let step = self.wait_for(&self.master_wait, nonblock, None, || {
                let n = self.receive(&data[written..]);
                (n > 0).then_some(n)
            });
            match step {
                Ok(n) => written += n,
                Err(e) => return if written > 0 { Ok(written) } else { Err(e) },
            }
            if written < data.len() && signal_pending() {
                return Ok(written);
            }
        }
        Ok(written)
    }

    pub fn poll_master(&self) -> u16 {
        let st = self.lock();
        let mut r = 0;
        if !st.to_master.is_empty() {
            r |= POLLIN | POLLRDNORM;
        }
        if st.slave_closed {
            r |= POLLHUP;
        }
        if st.input.len() < INPUT_LIMIT {
            r |= POLLOUT | POLLWRNORM;
        }
        r
    }

    /// The master's last file closed: the slave hangs up, its session
    /// leader gets SIGHUP and SIGCONT (Linux: pty_close, tty_vhangup).
    fn master_closed(&self) {
        if let Backend::Pty { index } = self.backend {
            crate::fs::devpts::remove_slave(index);
        }
        let session = {
            let mut st = self.lock();
            st.master_open = false;
            st.hung_up = true;
            let session = st.session;
            st.session = 0;
            st.pgrp = 0;
            session
        };
        // Signal before waking: a woken reader checks the hangup before
        // pending signals (EIO, as in n_tty_read), and the SIGHUP is then
        // already there for its return to user mode.
        if session > 0 {
            if let Some(procs) = processes() {
                procs.signal_session_leader(session, SIGHUP);
                procs.signal_session_leader(session, SIGCONT);
            }
        }
        self.wake();
    }

    // ---- ioctls ----

    /// Terminal ioctls on either side; on the master, the termios, window
    /// size and job-control requests act on the slave as in Linux.
    pub fn ioctl(self: &Arc<Tty>, file: &File, task: &dyn CurrentTask, cmd: u32, arg: u64, master: bool) -> KResult<u64> {
        if !master && self.lock().hung_up {
            return Err(if cmd == TIOCSPGRP { Errno::ENOTTY } else { Errno::EIO });
        }
        let mm = task.mm();
        match cmd {
            TCGETS => {
                let t = self.lock().ldisc.termios();
                mm.write(arg, &t)?;
                Ok(0)
            }
            TCSETS | TCSETSW | TCSETSF => {
                let t: Termios = mm.read(arg)?;
                self.job_control(task, SIGTTOU)?;
                let mut st = self.lock();
                if cmd == TCSETSF {
                    st.flush_input();
                }
                st.ldisc.set_termios(t);
                let signals = st.process_input();
                self.finish(st, Vec::new(), signals);
                Ok(0)
            }
            TIOCGWINSZ => {
                let w = self.lock().winsize;
                mm.write(arg, &w)?;
                Ok(0)
            }
            TIOCSWINSZ => {
                let w: Winsize = mm.read(arg)?;
                self.set_winsize(w);
                Ok(0)
            }
            FIONREAD => {
                let st = self.lock();
                let n = if master { st.to_master.len() } else { st.ldisc.readable() };
                drop(st);
                mm.write(arg, &(n.min(i32::MAX as usize) as i32))?;
                Ok(0)
            }
            TIOCOUTQ => {
                let n = if master { 0 } else { self.lock().to_master.len() };
                mm.write(arg, &(n as i32))?;
                Ok(0)
            }
            TCFLSH => {
                if !master {
                    self.job_control(task, SIGTTOU)?;
                }
                let (input, output) = match arg {
                    TCIFLUSH => (true, false),
                    TCOFLUSH => (false, true),
                    TCIOFLUSH => (true, true),
                    _ => return Err(Errno::EINVAL),
                };
                // The master's input is the slave's output and vice versa.
                let (slave_in, master_in) = if master { (output, input) } else { (input, output) };
                let mut st = self.lock();
                if slave_in {
                    st.flush_input();
                }
                if master_in {
                    st.to_master.clear();
                }
                drop(st);
                self.wake();
                Ok(0)
            }
            TCXONC => {
                if !master {
                    self.job_control(task, SIGTTOU)?;
                }
                let mut st = self.lock();
                match arg {
                    TCOOFF => st.ldisc.stopped = true,
                    TCOON => st.ldisc.stopped = false,
                    TCIOFF | TCION => {
                        let c = st.ldisc.termios().c_cc[if arg == TCIOFF { VSTOP } else { VSTART }];
                        if c != 0 {
                            let out = st.ldisc.process_output(&[c]);
                            if let Backend::Pty { .. } = self.backend {
                                st.to_master.extend(out);
                            }
                        }
                    }
                    _ => return Err(Errno::EINVAL),
                }
                drop(st);
                self.wake();
                Ok(0)
            }
            TCSBRK | TCSBRKP => Ok(0),
            TIOCEXCL | TIOCNXCL => Ok(0),
            TIOCGETD => {
                mm.write(arg, &0i32)?;
                Ok(0)
            }
            TIOCSETD => {
                let d: i32 = mm.read(arg)?;
                if d == 0 { Ok(0) } else { Err(Errno::EINVAL) }
            }
            TIOCGDEV => {
                let (major, minor) = self.device();
                let dev = (minor & 0xff) | (major << 8) | ((minor & !0xff) << 12);
                mm.write(arg, &dev)?;
                Ok(0)
            }
            TIOCSTI => {
                // Linux: only into one's own controlling terminal, or with
                // CAP_SYS_ADMIN.
                if self.lock().session != task.sid() && task.creds().euid != 0 {
                    return Err(Errno::EPERM);
                }
                let c: u8 = mm.read(arg)?;
                self.receive(&[c]);
                Ok(0)
            }
            TIOCSCTTY => self.tiocsctty(file, task, arg),
            TIOCNOTTY => {
                let sid = task.sid();
                if self.lock().session != sid || sid == 0 {
                    return Err(Errno::ENOTTY);
                }
                // Only a session leader gives the terminal up for its whole
                // session; vkernel keeps no per-process ctty, so another
                // member's TIOCNOTTY changes nothing.
                if sid == task.tgid() {
                    let pgrp = {
                        let mut st = self.lock();
                        let pgrp = st.pgrp;
                        st.session = 0;
                        st.pgrp = 0;
                        pgrp
                    };
                    self.signal_group(pgrp, &[SIGHUP, SIGCONT]);
                }
                Ok(0)
            }
            TIOCGPGRP => {
                let st = self.lock();
                if !master && st.session != task.sid() {
                    return Err(Errno::ENOTTY);
                }
                let pgrp = st.pgrp;
                drop(st);
                mm.write(arg, &pgrp)?;
                Ok(0)
            }
            TIOCSPGRP => self.tiocspgrp(task, arg),
            TIOCGSID => {
                let st = self.lock();
                if (!master && st.session != task.sid()) || st.session == 0 {
                    return Err(Errno::ENOTTY);
                }
                let sid = st.session;
                drop(st);
                mm.write(arg, &sid)?;
                Ok(0)
            }
            _ if master => pty::master_ioctl(self, task, cmd, arg),
            _ => Err(Errno::ENOTTY),
        }
    }

    /// Linux's tiocsctty.
    fn tiocsctty(&self, file: &File, task: &dyn CurrentTask, arg: u64) -> KResult<u64> {
        let sid = task.sid();
        if sid == task.tgid() && self.lock().session == sid {
            return Ok(0);
        }
        if sid != task.tgid() || controlling_tty(sid).is_some() {
            return Err(Errno::EPERM);
        }
        let root = task.creds().euid == 0;
        let owner = self.lock().session;
        if owner != 0 && session_alive(owner) && !(arg == 1 && root) {
            return Err(Errno::EPERM);
        }
        if !file.readable() && !root {
            return Err(Errno::EPERM);
        }
        if self.acquire(task, true) { Ok(0) } else { Err(Errno::EPERM) }
    }

    /// Linux's tiocspgrp.
    fn tiocspgrp(&self, task: &dyn CurrentTask, arg: u64) -> KResult<u64> {
        let sid = task.sid();
        if self.lock().session != sid || sid == 0 {
            return Err(Errno::ENOTTY);
        }
        self.job_control(task, SIGTTOU)?;
        let pgrp: i32 = task.mm().read(arg)?;
        if pgrp < 0 {
            return Err(Errno::EINVAL);
        }
        // A group whose members have all exited but are not yet reaped
        // still exists (a short job the shell has not waited for).
        let Some(group_sid) = processes().and_then(|p| p.group_session(pgrp)) else { return Err(Errno::ESRCH) };
        if group_sid != sid {
            return Err(Errno::EPERM);
        }
        self.lock().pgrp = pgrp;
        Ok(0)
    }
}

impl TtyState {
    /// Feeds waiting device bytes to the line discipline while it has room.
    fn process_input(&mut self) -> Vec<i32> {
        let mut signals = Vec::new();
        while !self.input.is_empty() {
            let r = self.ldisc.receive(self.input.as_slices().0);
            self.input.drain(..r.consumed);
            signals.extend(r.signals);
            if r.consumed == 0 {
                break;
            }
        }
        signals
    }

    fn flush_input(&mut self) {
        self.input.clear();
        self.ldisc.flush_input();
    }
}

/// An open console or pty slave.
pub struct TtyFile {
    pub tty: Arc<Tty>,
}

impl Drop for TtyFile {
    fn drop(&mut self) {
        self.tty.slave_file_closed();
    }
}

impl FileOps for TtyFile {
    fn read(&self, file: &File, buf: &mut [u8], _pos: &mut u64) -> KResult<usize> {
        self.tty.read(file, buf)
    }
    fn write(&self, file: &File, buf: &[u8], _pos: &mut u64) -> KResult<usize> {
        self.tty.write(file, buf)
    }
    fn seekable(&self) -> bool {
        false
    }
    fn is_stream(&self) -> bool {
        true
    }
    fn ioctl(&self, file: &File, task: &dyn CurrentTask, cmd: u32, arg: u64) -> KResult<u64> {
        self.tty.ioctl(file, task, cmd, arg, false)
    }
    fn poll(&self, _file: &File) -> u16 {
        self.tty.poll_slave()
    }
    fn wait_queue(&self) -> Option<&WaitQueue> {
        Some(&self.tty.wait)
    }
    fn fasync(&self, file: &Arc<File>, fd: i32, on: bool) -> KResult<()> {
        self.tty.set_fasync(file, fd, on, false);
        Ok(())
    }
    fn size(&self, _file: &File) -> KResult<u64> {
        Ok(0)
    }
}
