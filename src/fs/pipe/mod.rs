//! Pipes and FIFOs (Linux's fs/pipe.c): a ring of page-sized buffers shared
//! by every open end, pipe_read/pipe_write's blocking and merging rules,
//! packet mode, and FIFO opens that wait for a partner. Touches guest
//! memory only to copy a read out before consuming it (under the reader
//! lock, never the state lock), and never holds a lock while blocking or
//! signalling. Called by syscall/pipe.rs (pipe2), by
//! `File::open_path` for FIFO nodes, and by fcntl/ioctl/poll through `FileOps`.

use parking_lot::{Mutex, MutexGuard};
use std::any::Any;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, Weak};

use crate::abi::fcntl::{O_ACCMODE, O_DIRECT, O_NONBLOCK, O_RDONLY, O_RDWR, O_WRONLY};
use crate::abi::ioctl::FIONREAD;
use crate::abi::poll::{POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM};
use crate::abi::signal::SIGPIPE;
use crate::abi::signal::{POLL_IN, POLL_OUT};
use crate::abi::stat::S_IFIFO;
use crate::abi::statfs::PIPEFS_MAGIC;
use crate::abi::{Errno, KResult, PAGE_SIZE, StatFs};
use crate::fs::fasync::FasyncList;
use crate::fs::file::{File, FileOps};
use crate::fs::inode::{Inode, InodeRef, Metadata, SetAttr};
use crate::fs::new_anon_dev;
use crate::mm::uaccess::UserBuffers;
use crate::sched::CurrentTask;
use crate::sched::wait::{WaitQueue, wait_any};

const PAGE: usize = PAGE_SIZE as usize;
/// Buffers in a new pipe: 16 pages, 64 KiB (Linux's PIPE_DEF_BUFFERS).
pub const PIPE_DEF_BUFFERS: usize = 16;
/// /proc/sys/fs/pipe-max-size: how far F_SETPIPE_SZ may grow a pipe
/// without CAP_SYS_RESOURCE.
pub const PIPE_MAX_SIZE: u32 = 1 << 20;

/// One buffer of the ring: at most a page of data, of which `data[offset..]`
/// is still unread.
struct Slot {
    data: Vec<u8>,
    offset: usize,
    /// Written in packet mode (O_DIRECT): read as one unit, never merged.
    packet: bool,
}

impl Slot {
    fn len(&self) -> usize {
        self.data.len() - self.offset
    }
}

/// The ring of buffers. Capacity is counted in buffers, not bytes, as in
/// Linux: a pipe full of one-byte packets is as full as one of pages.
pub struct PipeBuffer {
    slots: VecDeque<Slot>,
    max_slots: usize,
}

impl PipeBuffer {
    pub fn new(max_slots: usize) -> PipeBuffer {
        PipeBuffer { slots: VecDeque::new(), max_slots }
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    pub fn is_full(&self) -> bool {
        self.slots.len() >= self.max_slots
    }

    /// Unread bytes (FIONREAD).
    pub fn bytes(&self) -> usize {
        self.slots.iter().map(Slot::len).sum()
    }

    /// The capacity in bytes (F_GETPIPE_SZ).
    pub fn size(&self) -> usize {
        self.max_slots * PAGE
    }

    /// The first step of a write into a non-empty pipe: the sub-page part
    /// of the write (its length modulo a page, taken from its front) joins
    /// the last buffer if that is not a packet and has room. Returns the
    /// bytes taken: all or nothing. With `fill` taking whole pages, this is
    /// what makes writes of up to PIPE_BUF (a page) atomic.
    pub fn merge(&mut self, data: &[u8]) -> usize {
        let chars = data.len() % PAGE;
        if chars == 0 {
            return 0;
        }
        match self.slots.back_mut() {
            Some(last) if !last.packet && last.data.len() + chars <= PAGE => {
                last.data.extend_from_slice(&data[..chars]);
                chars
            }
            _ => 0,
        }
    }

    /// Fills free buffers with up to a page of `data` each (one packet
    /// each in packet mode). Returns the bytes taken.
    pub fn fill(&mut self, data: &[u8], packet: bool) -> usize {
        let mut done = 0;
        while done < data.len() && !self.is_full() {
            let n = (data.len() - done).min(PAGE);
            let mut page = Vec::with_capacity(PAGE);
            page.extend_from_slice(&data[done..done + n]);
            self.slots.push_back(Slot { data: page, offset: 0, packet });
            done += n;
        }
        done
    }

    /// Copies out what is there, up to `out.len()`. A packet ends the read
    /// and whatever of it did not fit is discarded.
    pub fn read(&mut self, out: &mut [u8]) -> usize {
        let mut done = 0;
        while done < out.len() {
            let Some(slot) = self.slots.front_mut() else { break };
            let n = slot.len().min(out.len() - done);
            out[done..done + n].copy_from_slice(&slot.data[slot.offset..slot.offset + n]);
            done += n;
            slot.offset += n;
            let packet = slot.packet;
            if packet || slot.len() == 0 {
                self.slots.pop_front();
            }
            if packet {
                break;
            }
        }
        done
    }

    /// What `read` would take for a reader of `max` bytes, without taking
    /// it: one piece per buffer (the last cut to fit), up to the first
    /// packet. `consume` then takes the pieces that were copied out.
    pub fn peek_pieces(&self, max: usize) -> Vec<Vec<u8>> {
        let mut pieces = Vec::new();
        let mut done = 0;
        for slot in &self.slots {
            if done == max {
                break;
            }
            let n = slot.len().min(max - done);
            pieces.push(slot.data[slot.offset..slot.offset + n].to_vec());
            done += n;
            if slot.packet {
                break;
            }
        }
        pieces
    }

    /// Takes the first `pieces` of a `peek_pieces` of `max` bytes as `read`
    /// would have (a packet goes whole, what did not fit discarded).
    pub fn consume(&mut self, pieces: &[Vec<u8>]) {
        for piece in pieces {
            let Some(slot) = self.slots.front_mut() else { return };
            slot.offset += piece.len().min(slot.len());
            if slot.packet || slot.len() == 0 {
                self.slots.pop_front();
            }
        }
    }

    /// Copies out what is there, up to `out.len()`, leaving it (tee).
    pub fn peek(&self, out: &mut [u8]) -> usize {
        let mut done = 0;
        for slot in &self.slots {
            if done == out.len() {
                break;
            }
            let n = slot.len().min(out.len() - done);
            out[done..done + n].copy_from_slice(&slot.data[slot.offset..slot.offset + n]);
            done += n;
        }
        done
    }

    /// Bytes the free buffers can take.
    pub fn room(&self) -> usize {
        self.max_slots.saturating_sub(self.slots.len()) * PAGE
    }

    /// Changes the capacity; EBUSY when more buffers are in use.
    pub fn resize(&mut self, max_slots: usize) -> KResult<()> {
        if self.slots.len() > max_slots {
            return Err(Errno::EBUSY);
        }
        self.max_slots = max_slots;
        Ok(())
    }
}

/// Linux's round_pipe_size: at least a page, a power of two, 0 (invalid)
/// above 2 GiB.
pub fn round_pipe_size(size: u32) -> u32 {
    if size > 1 << 31 {
        0
    } else if (size as usize) < PAGE {
        PAGE as u32
    } else {
        size.next_power_of_two()
    }
}

struct PipeState {
    buf: PipeBuffer,
    readers: u32,
    writers: u32,
    /// Opens for reading/writing so far: a FIFO opener waits for the
    /// other count to move, and poll's POLLHUP waits for a writer to have
    /// come at all (Linux's r_counter/w_counter).
    r_counter: u64,
    w_counter: u64,
}

/// The state every end of one pipe shares (Linux's pipe_inode_info).
pub struct Pipe {
    state: Mutex<PipeState>,
    /// Held by a reader from looking at the data to taking it, across its
    /// copy to guest memory (Linux's pipe->mutex around pipe_read's
    /// copy_page_to_iter); never while sleeping.
    reader: Mutex<()>,
    /// Woken on every change: data in or out, an end opened or closed.
    queue: WaitQueue,
    /// Bumped with every wake-up (edge-triggered epoll).
    events: AtomicU64,
    /// The FIFO's (dev, ino) in the FIFO table; None for pipe(2).
    fifo_key: Option<(u64, u64)>,
    /// O_ASYNC ends: readers hear of data (POLL_IN), writers of room
    /// (POLL_OUT), as Linux's fasync_readers and fasync_writers.
    fasync_readers: FasyncList,
    fasync_writers: FasyncList,
}

/// Pipes of FIFO nodes, by the node's (dev, ino): every opener of one FIFO
/// shares one pipe while any of them keeps it open (Linux's inode->i_pipe).
fn fifos() -> MutexGuard<'static, HashMap<(u64, u64), Weak<Pipe>>> {
    static FIFOS: OnceLock<Mutex<HashMap<(u64, u64), Weak<Pipe>>>> = OnceLock::new();
    FIFOS.get_or_init(Default::default).lock()
}

impl Drop for Pipe {
    fn drop(&mut self) {
        if let Some(key) = self.fifo_key {
            let mut map = fifos();
            if map.get(&key).is_some_and(|w| w.strong_count() == 0) {
                map.remove(&key);
            }
        }
    }
}

impl Pipe {
    fn new(fifo_key: Option<(u64, u64)>, readers: u32, writers: u32) -> Arc<Pipe> {
        Arc::new(Pipe {
            state: Mutex::new(PipeState { buf: PipeBuffer::new(PIPE_DEF_BUFFERS), readers, writers, r_counter: 1, w_counter: 1 }),
            reader: Mutex::new(()),
            queue: WaitQueue::new(),
            events: AtomicU64::new(0),
            fifo_key,
            fasync_readers: FasyncList::new(),
            fasync_writers: FasyncList::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, PipeState> {
        self.state.lock()
    }

    /// Tells waiters (readers, writers, pollers, FIFO openers) that the
    /// state changed.
    fn wake(&self) {
        self.events.fetch_add(1, Ordering::Relaxed);
        self.queue.wake_all();
    }

    /// F_GETPIPE_SZ.
    pub fn size(&self) -> usize {
        self.lock().buf.size()
    }

    /// F_SETPIPE_SZ: the new size in bytes. Growing past PIPE_MAX_SIZE
    /// needs `privileged` (CAP_SYS_RESOURCE); shrinking is always allowed
    /// but EBUSY if the data would not fit. (Per-user page accounting,
    /// pipe-user-pages-soft, is not modelled.)
    pub fn set_size(&self, arg: u32, privileged: bool) -> KResult<usize> {
        let size = round_pipe_size(arg);
        let slots = size as usize / PAGE;
        if slots == 0 {
            return Err(Errno::EINVAL);
        }
        let mut st = self.lock();
        if slots > st.buf.max_slots && size > PIPE_MAX_SIZE && !privileged {
            return Err(Errno::EPERM);
        }
        st.buf.resize(slots)?;
        let new = st.buf.size();
        drop(st);
        self.wake();
        Ok(new)
    }

    /// FIONREAD: unread bytes.
    pub fn available(&self) -> usize {
        self.lock().buf.bytes()
    }

    /// pipe_read: what is there (0 at EOF: no writers); blocks while empty
    /// unless `nonblock` (EAGAIN).
    pub fn read(&self, out: &mut [u8], nonblock: bool) -> KResult<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        let r = wait_any(&[&self.queue], None, || {
            let _reader = self.reader.lock();
            let mut st = self.lock();
            let n = st.buf.read(out);
            if n > 0 {
                drop(st);
                self.wake();
                return Ok(Some(n));
            }
            if st.writers == 0 {
                return Ok(Some(0));
            }
            if nonblock {
                return Err(Errno::EAGAIN);
            }
            Ok(None)
        });
        // Linux's pipe_read tells O_ASYNC writers at the end of every read.
        self.fasync_writers.kill(POLL_OUT);
        r
    }

    /// pipe_read into guest memory: like `read`, but bytes leave the pipe
    /// only once copied out. A buffer whose copy faults stays whole (Linux
    /// advances a buffer only after copy_page_to_iter took all of it), so
    /// a read into a bad buffer is EFAULT and loses nothing; after some
    /// buffers were copied it returns their count.
    pub fn read_to_user(&self, bufs: &UserBuffers, nonblock: bool) -> KResult<usize> {
        if bufs.is_empty() {
            return Ok(0);
        }
        let r = wait_any(&[&self.queue], None, || {
            let _reader = self.reader.lock();
            let st = self.lock();
            if st.buf.is_empty() {
                if st.writers == 0 {
                    return Ok(Some(0));
                }
                if nonblock {
                    return Err(Errno::EAGAIN);
                }
                return Ok(None);
            }
            let pieces = st.buf.peek_pieces(bufs.len());
            drop(st);
            let mut done = 0;
            let mut copied = 0;
            for piece in &pieces {
                if bufs.copy_out(done, piece).is_err() {
                    break;
                }
                done += piece.len();
                copied += 1;
            }
            if copied == 0 {
                return Err(Errno::EFAULT);
            }
            self.lock().buf.consume(&pieces[..copied]);
            self.wake();
            Ok(Some(done))
        });
        self.fasync_writers.kill(POLL_OUT);
        r
    }

    /// pipe_write: all of `data` unless interrupted (then what was
    /// written), O_NONBLOCK and full (EAGAIN if nothing was written), or
    /// the readers go (EPIPE if nothing was written). Returns whether
    /// SIGPIPE is due alongside the result.
    pub fn write(&self, data: &[u8], nonblock: bool, packet: bool) -> (KResult<usize>, bool) {
        if data.is_empty() {
            return (Ok(0), false);
        }
        let mut done = 0usize;
        let mut first = true;
        let mut sigpipe = false;
        let r = wait_any(&[&self.queue], None, || {
            let mut st = self.lock();
            if st.readers == 0 {
                sigpipe = true;
                return if done > 0 { Ok(Some(done)) } else { Err(Errno::EPIPE) };
            }
            let before = done;
            if first {
                first = false;
                done += st.buf.merge(data);
            }
            done += st.buf.fill(&data[done..], packet);
            drop(st);
            if done > before {
                self.wake();
            }
            if done == data.len() {
                return Ok(Some(done));
            }
            if nonblock {
                return if done > 0 { Ok(Some(done)) } else { Err(Errno::EAGAIN) };
            }
            Ok(None)
        });
        let r = match r {
            Err(Errno::ERESTARTSYS) if done > 0 => Ok(done),
            r => r,
        };
        // And pipe_write its O_ASYNC readers at the end of every write.
        self.fasync_readers.kill(POLL_IN);
        (r, sigpipe)
    }

    /// splice's ipipe_prep: waits until there is data (true) or no writer
    /// is left (false: end of file); EAGAIN instead of waiting if
    /// `nonblock`.
    pub fn wait_data(&self, nonblock: bool) -> KResult<bool> {
        wait_any(&[&self.queue], None, || {
            let st = self.lock();
            if !st.buf.is_empty() {
                return Ok(Some(true));
            }
            if st.writers == 0 {
                return Ok(Some(false));
            }
            if nonblock { Err(Errno::EAGAIN) } else { Ok(None) }
        })
    }

    /// splice's wait_for_space: waits until the buffers have room and
    /// returns how much; EPIPE (and SIGPIPE for the caller) without readers.
    pub fn wait_room(&self, nonblock: bool) -> KResult<usize> {
        let r = wait_any(&[&self.queue], None, || {
            let st = self.lock();
            if st.readers == 0 {
                return Err(Errno::EPIPE);
            }
            let room = st.buf.room();
            if room > 0 {
                return Ok(Some(room));
            }
            if nonblock { Err(Errno::EAGAIN) } else { Ok(None) }
        });
        if r == Err(Errno::EPIPE) {
            if let Some(task) = crate::sched::current() {
                task.send_signal_to_self(SIGPIPE);
            }
        }
        r
    }

    /// tee: a copy of up to `out.len()` bytes of what is there.
    pub fn peek(&self, out: &mut [u8]) -> usize {
        self.lock().buf.peek(out)
    }

    /// pipe_poll for an end open for `read` and/or `write`. `hup_after`
    /// is the writer count seen at a non-blocking read-only FIFO open:
    /// POLLHUP waits until a writer has come and gone.
    pub fn poll(&self, read: bool, write: bool, hup_after: u64) -> u16 {
        let st = self.lock();
        let mut mask = 0;
        if read {
            if !st.buf.is_empty() {
                mask |= POLLIN | POLLRDNORM;
            }
            if st.writers == 0 && st.w_counter != hup_after {
                mask |= POLLHUP;
            }
        }
        if write {
            if !st.buf.is_full() {
                mask |= POLLOUT | POLLWRNORM;
            }
            // Linux sets POLLERR for FIFOs too, unlike most Unices.
            if st.readers == 0 {
                mask |= POLLERR;
            }
        }
        mask
    }

    /// Linux's fifo_open: a new end with access `flags`. For a FIFO node
    /// (`is_fifo`), O_RDONLY waits for a writer unless O_NONBLOCK, O_WRONLY
    /// waits for a reader (ENXIO with O_NONBLOCK), O_RDWR never waits.
    /// Re-opening a pipe through /proc/<pid>/fd never waits.
    pub fn open_end(self: &Arc<Self>, flags: u32, is_fifo: bool) -> KResult<PipeEnd> {
        let nonblock = flags & O_NONBLOCK != 0;
        let (read, write) = match flags & O_ACCMODE {
            O_RDONLY => (true, false),
            O_WRONLY => (false, true),
            O_RDWR => (true, true),
            _ => return Err(Errno::EINVAL),
        };
        let mut st = self.lock();
        if write && !read && is_fifo && nonblock && st.readers == 0 {
            return Err(Errno::ENXIO);
        }
        if read {
            st.r_counter += 1;
            st.readers += 1;
        }
        if write {
            st.w_counter += 1;
            st.writers += 1;
        }
        let mut end = PipeEnd { pipe: self.clone(), read, write, hup_after: 0 };
        // What this opener waits for: the other side's open count to move.
        let mut wait_for: Option<(bool, u64)> = None;
        if is_fifo && read && !write && st.writers == 0 {
            if nonblock {
                end.hup_after = st.w_counter;
            } else {
                wait_for = Some((true, st.w_counter));
            }
        }
        if is_fifo && write && !read && st.readers == 0 {
            wait_for = Some((false, st.r_counter));
        }
        drop(st);
        self.wake();
        if let Some((writers, seen)) = wait_for {
            // On a signal `end` drops, which undoes the count (err_rd/err_wr).
            wait_any(&[&self.queue], None, || {
                let st = self.lock();
                let now = if writers { st.w_counter } else { st.r_counter };
                Ok((now != seen).then_some(()))
            })?;
        }
        Ok(end)
    }

    fn release(&self, read: bool, write: bool) {
        let mut st = self.lock();
        if read {
            st.readers -= 1;
        }
        if write {
            st.writers -= 1;
        }
        let one_side_left = (st.readers == 0) != (st.writers == 0);
        drop(st);
        self.wake();
        if one_side_left {
            self.fasync_readers.kill(POLL_IN);
            self.fasync_writers.kill(POLL_OUT);
        }
    }
}

/// One open end of a pipe: the `FileOps` of a pipe or FIFO file. Dropping
/// it (with the last reference to its `File`) closes the end.
pub struct PipeEnd {
    pipe: Arc<Pipe>,
    read: bool,
    write: bool,
    hup_after: u64,
}

impl Drop for PipeEnd {
    fn drop(&mut self) {
        self.pipe.release(self.read, self.write);
    }
}

impl FileOps for PipeEnd {
    fn read(&self, file: &File, buf: &mut [u8], _pos: &mut u64) -> KResult<usize> {
        self.pipe.read(buf, file.nonblocking())
    }

    fn read_to_user(&self, file: &File, bufs: &UserBuffers) -> Option<KResult<usize>> {
        Some(self.pipe.read_to_user(bufs, file.nonblocking()))
    }

    fn write(&self, file: &File, buf: &[u8], _pos: &mut u64) -> KResult<usize> {
        let (r, sigpipe) = self.pipe.write(buf, file.nonblocking(), file.flags() & O_DIRECT != 0);
        if sigpipe {
            if let Some(task) = crate::sched::current() {
                task.send_signal_to_self(SIGPIPE);
            }
        }
        r
    }

    fn seekable(&self) -> bool {
        false
    }

    fn is_stream(&self) -> bool {
        true
    }

    fn ioctl(&self, _file: &File, task: &dyn CurrentTask, cmd: u32, arg: u64) -> KResult<u64> {
        match cmd {
            FIONREAD => {
                let n = self.pipe.available().min(i32::MAX as usize) as i32;
                task.mm().write(arg, &n)?;
                Ok(0)
            }
            _ => Err(Errno::ENOTTY),
        }
    }

    fn poll(&self, _file: &File) -> u16 {
        self.pipe.poll(self.read, self.write, self.hup_after)
    }

    fn wait_queue(&self) -> Option<&WaitQueue> {
        Some(&self.pipe.queue)
    }

    fn event_count(&self) -> Option<u64> {
        Some(self.pipe.events.load(Ordering::Relaxed))
    }

    fn pipe(&self) -> Option<&Pipe> {
        Some(&self.pipe)
    }

    fn fasync(&self, file: &Arc<File>, fd: i32, on: bool) -> KResult<()> {
        if self.read {
            self.pipe.fasync_readers.update(file, fd, on);
        }
        if self.write {
            self.pipe.fasync_writers.update(file, fd, on);
        }
        Ok(())
    }

    fn size(&self, _file: &File) -> KResult<u64> {
        Ok(0)
    }
}

/// Opens a FIFO node: the pipe shared by all its openers, made on first open.
pub fn open_fifo(inode: &InodeRef, flags: u32) -> KResult<Arc<dyn FileOps>> {
    let md = inode.metadata()?;
    let key = (md.dev, md.ino);
    let pipe = {
        let mut map = fifos();
        match map.get(&key).and_then(Weak::upgrade) {
            Some(p) => p,
            None => {
                let p = Pipe::new(Some(key), 0, 0);
                map.insert(key, Arc::downgrade(&p));
                p
            }
        }
    };
    Ok(Arc::new(pipe.open_end(flags, true)?))
}

/// pipefs: the device all pipe(2) inodes report.
fn pipefs_dev() -> u64 {
    static DEV: OnceLock<u64> = OnceLock::new();
    *DEV.get_or_init(new_anon_dev)
}

static NEXT_INO: AtomicU64 = AtomicU64::new(1);

/// The inode of a pipe(2) pipe on pipefs: S_IFIFO, owned by its creator,
/// shown as "pipe:[ino]" in /proc/<pid>/fd.
pub struct PipeInode {
    ino: u64,
    pipe: Weak<Pipe>,
    attrs: Mutex<crate::fs::inode::PseudoAttrs>,
}

impl Inode for PipeInode {
    fn metadata(&self) -> KResult<Metadata> {
        Ok(self.attrs.lock().metadata(pipefs_dev(), self.ino, S_IFIFO))
    }

    fn statfs(&self) -> KResult<StatFs> {
        Ok(StatFs { f_type: PIPEFS_MAGIC, f_bsize: PAGE_SIZE as i64, f_namelen: 255, f_frsize: PAGE_SIZE as i64, ..Default::default() })
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn setattr(&self, attr: &SetAttr) -> KResult<()> {
        self.attrs.lock().apply(attr);
        Ok(())
    }

    /// Opening /proc/<pid>/fd/N of a pipe gives a new end of the same pipe.
    fn open(&self, flags: u32) -> KResult<Option<Arc<dyn FileOps>>> {
        let pipe = self.pipe.upgrade().ok_or(Errno::ENOENT)?;
        Ok(Some(Arc::new(pipe.open_end(flags, false)?)))
    }

    fn link_name(&self) -> Option<Vec<u8>> {
        Some(format!("pipe:[{}]", self.ino).into_bytes())
    }
}

/// pipe2: a new pipe's read and write files. `flags` may hold O_NONBLOCK
/// (both ends) and O_DIRECT (packet mode, the write end).
pub fn create_pipe(uid: u32, gid: u32, flags: u32) -> (Arc<File>, Arc<File>) {
    let pipe = Pipe::new(None, 1, 1);
    let inode: InodeRef = Arc::new(PipeInode {
        ino: NEXT_INO.fetch_add(1, Ordering::Relaxed),
        pipe: Arc::downgrade(&pipe),
        attrs: Mutex::new(crate::fs::inode::PseudoAttrs::new(0o600, uid, gid)),
    });
    let reader = PipeEnd { pipe: pipe.clone(), read: true, write: false, hup_after: 0 };
    let writer = PipeEnd { pipe, read: false, write: true, hup_after: 0 };
    let r = File::new(inode.clone(), None, Arc::new(reader), O_RDONLY | (flags & O_NONBLOCK));
    let w = File::new(inode, None, Arc::new(writer), O_WRONLY | (flags & (O_NONBLOCK | O_DIRECT)));
    (r, w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipe_holds_sixteen_pages_of_small_writes() {
        let mut b = PipeBuffer::new(PIPE_DEF_BUFFERS);
        let mut total = 0;
        loop {
            let taken = if b.is_empty() { 0 } else { b.merge(b"x") };
            let taken = if taken == 0 { b.fill(b"x", false) } else { taken };
            if taken == 0 {
                break;
            }
            total += taken;
        }
        assert_eq!(total, 65536);
        assert_eq!(b.bytes(), 65536);
        assert!(b.is_full());
    }

    #[test]
    fn large_write_fills_capacity_and_stops() {
        let mut b = PipeBuffer::new(PIPE_DEF_BUFFERS);
        let data = vec![7u8; 100_000];
        assert_eq!(b.fill(&data, false), 65536);
        assert!(b.is_full());
        let mut out = vec![0u8; 70_000];
        assert_eq!(b.read(&mut out), 65536);
        assert!(b.is_empty());
    }

    #[test]
    fn small_write_is_all_or_nothing() {
        let mut b = PipeBuffer::new(2);
        b.fill(&[1u8; PAGE], false);
        b.fill(&[2u8; PAGE - 10], false);
        assert!(b.is_full());
        // 100 bytes do not fit in the last buffer's 10 free bytes: nothing is taken.
        assert_eq!(b.merge(&[3u8; 100]), 0);
        assert_eq!(b.fill(&[3u8; 100], false), 0);
        // 10 bytes do.
        assert_eq!(b.merge(&[4u8; 10]), 10);
        assert_eq!(b.bytes(), 2 * PAGE);
    }

    #[test]
    fn merge_takes_the_sub_page_head_of_a_write() {
        let mut b = PipeBuffer::new(PIPE_DEF_BUFFERS);
        b.fill(b"abc", false);
        let data: Vec<u8> = (0..PAGE + 5).map(|i| i as u8).collect();
        assert_eq!(b.merge(&data), 5);
        assert_eq!(b.fill(&data[5..], false), PAGE);
        assert_eq!(b.slots.len(), 2);
        let mut out = vec![0u8; 8];
        assert_eq!(b.read(&mut out), 8);
        assert_eq!(&out, &[b'a', b'b', b'c', 0, 1, 2, 3, 4]);
    }

    #[test]
    fn packets_are_read_one_at_a_time_and_truncated() {
        let mut b = PipeBuffer::new(PIPE_DEF_BUFFERS);
        b.fill(b"hello", true);
        assert_eq!(b.merge(b"world"), 0);
        b.fill(b"world", true);
        let mut out = [0u8; 64];
        assert_eq!(b.read(&mut out), 5);
        assert_eq!(&out[..5], b"hello");
        let mut small = [0u8; 3];
        assert_eq!(b.read(&mut small), 3);
        assert_eq!(&small, b"wor");
        // The rest of the packet is gone.
        assert!(b.is_empty());
    }

    #[test]
    fn packet_writes_split_at_pages() {
        let mut b = PipeBuffer::new(PIPE_DEF_BUFFERS);
        assert_eq!(b.fill(&vec![1u8; PAGE + 1], true), PAGE + 1);
        let mut out = vec![0u8; 2 * PAGE];
        assert_eq!(b.read(&mut out), PAGE);
        assert_eq!(b.read(&mut out), 1);
    }

    #[test]
    fn partial_reads_keep_the_rest() {
        let mut b = PipeBuffer::new(PIPE_DEF_BUFFERS);
        b.fill(b"abcdef", false);
        let mut out = [0u8; 4];
        assert_eq!(b.read(&mut out), 4);
        assert_eq!(b.bytes(), 2);
        assert_eq!(b.merge(b"gh"), 2);
        let mut rest = [0u8; 8];
        assert_eq!(b.read(&mut rest), 4);
        assert_eq!(&rest[..4], b"efgh");
    }

    #[test]
    fn peek_takes_nothing_and_consume_takes_what_was_copied() {
        let mut b = PipeBuffer::new(PIPE_DEF_BUFFERS);
        b.fill(&[1u8; PAGE], false);
        b.fill(b"xyz", false);
        let pieces = b.peek_pieces(PAGE + 2);
        assert_eq!(pieces.iter().map(Vec::len).collect::<Vec<_>>(), [PAGE, 2]);
        assert_eq!(b.bytes(), PAGE + 3);
        // Only the first buffer was copied out: the second stays whole.
        b.consume(&pieces[..1]);
        assert_eq!(b.bytes(), 3);
        let mut out = [0u8; 8];
        assert_eq!(b.read(&mut out), 3);
        assert_eq!(&out[..3], b"xyz");
        // A packet goes whole even when cut short.
        b.fill(b"hello", true);
        b.fill(b"next", true);
        let pieces = b.peek_pieces(2);
        assert_eq!(pieces, [b"he".to_vec()]);
        b.consume(&pieces);
        assert_eq!(b.bytes(), 4);
    }

    #[test]
    fn resize_rounds_and_refuses_to_drop_data() {
        assert_eq!(round_pipe_size(0), 4096);
        assert_eq!(round_pipe_size(4097), 8192);
        assert_eq!(round_pipe_size(1 << 20), 1 << 20);
        assert_eq!(round_pipe_size((1 << 31) + 1), 0);
        let mut b = PipeBuffer::new(PIPE_DEF_BUFFERS);
        b.fill(&vec![0u8; 3 * PAGE], false);
        assert_eq!(b.resize(2), Err(Errno::EBUSY));
        assert_eq!(b.resize(4), Ok(()));
        assert_eq!(b.size(), 4 * PAGE);
    }

    #[test]
    fn set_size_needs_privilege_above_the_maximum() {
        let p = Pipe::new(None, 1, 1);
        assert_eq!(p.size(), 65536);
        assert_eq!(p.set_size(PIPE_MAX_SIZE, false), Ok(1 << 20));
        assert_eq!(p.set_size(PIPE_MAX_SIZE + 1, false), Err(Errno::EPERM));
        assert_eq!(p.set_size(PIPE_MAX_SIZE + 1, true), Ok(2 << 20));
        assert_eq!(p.set_size(1, false), Ok(4096));
    }

    #[test]
    fn closing_ends_gives_eof_and_epipe() {
        let p = Pipe::new(None, 1, 1);
        let mut out = [0u8; 8];
        assert_eq!(p.write(b"hi", false, false), (Ok(2), false));
        p.release(false, true);
        assert_eq!(p.read(&mut out, false), Ok(2));
        assert_eq!(p.read(&mut out, false), Ok(0));
        assert_eq!(p.poll(true, false, 0), POLLHUP);
        let q = Pipe::new(None, 1, 1);
        q.release(true, false);
        assert_eq!(q.write(b"x", false, false), (Err(Errno::EPIPE), true));
        assert_eq!(q.write(b"", false, false), (Ok(0), false));
        assert_eq!(q.poll(false, true, 0), POLLOUT | POLLWRNORM | POLLERR);
    }

    #[test]
    fn nonblocking_ends_say_eagain() {
        let p = Pipe::new(None, 1, 1);
        let mut out = [0u8; 8];
        assert_eq!(p.read(&mut out, true), Err(Errno::EAGAIN));
        let big = vec![0u8; 70_000];
        assert_eq!(p.write(&big, true, false), (Ok(65536), false));
        assert_eq!(p.write(b"x", true, false), (Err(Errno::EAGAIN), false));
    }

    #[test]
    fn fifo_opens_share_one_pipe_and_nonblocking_writer_needs_a_reader() {
        let p = Pipe::new(None, 0, 0);
        assert_eq!(p.open_end(O_WRONLY | O_NONBLOCK, true).err(), Some(Errno::ENXIO));
        let r = p.open_end(O_RDONLY | O_NONBLOCK, true).unwrap();
        // No writer has come yet: no POLLHUP.
        assert_eq!(r.pipe.poll(true, false, r.hup_after), 0);
        let w = p.open_end(O_WRONLY | O_NONBLOCK, true).unwrap();
        drop(w);
        assert_eq!(r.pipe.poll(true, false, r.hup_after), POLLHUP);
        let rw = p.open_end(O_RDWR, true).unwrap();
        assert_eq!(rw.pipe.poll(true, true, 0), POLLOUT | POLLWRNORM);
        assert_eq!(p.open_end(3, true).err(), Some(Errno::EINVAL));
    }
}
