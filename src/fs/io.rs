//! The VFS's data path between open files and guest memory (Linux's
//! vfs_read/vfs_write/do_splice_direct): read and write through a file's
//! position or at an offset, in chunks, and the kernel-buffer copy engine
//! behind sendfile and copy_file_range. The file-position lock is held for
//! the whole call, guest copies included, as Linux's f_pos_lock is. Data
//! moved is an IN_ACCESS or IN_MODIFY for fs::notify.

use crate::abi::fcntl::O_DSYNC;
use crate::abi::stat::{S_IFMT, S_IFREG};
use crate::abi::{Errno, KResult};
use crate::fs::file::File;
use crate::mm::uaccess::UserBuffers;

/// Bytes moved per step of a large read, write or copy.
pub const IO_CHUNK: usize = 1 << 20;

/// Reads and writes of at least this many bytes pin the caller's pages
/// (`read_pinned`, `write_pinned`); smaller ones copy through the page
/// cache's pieces or a kernel buffer, which costs less than the probing
/// and pinning for a few pages.
const PINNED_MIN: usize = 64 << 10;

/// Linux's rw_verify_area: EINVAL for a count that is negative as an
/// ssize_t, and for a position (None for streams, which have none) that is
/// negative or that the count would carry past the largest offset.
pub fn verify_area(pos: Option<u64>, count: usize) -> KResult<()> {
    if count > isize::MAX as usize {
        return Err(Errno::EINVAL);
    }
    if let Some(pos) = pos {
        if (pos as i64) < 0 || (pos as i64).checked_add(count as i64).is_none() {
            return Err(Errno::EINVAL);
        }
    }
    Ok(())
}

/// Whether a long transfer stops after a step. A kill always ends it;
/// other signals end it unless only regular files take part, whose data
/// paths Linux cuts short only for a fatal signal (filemap_read,
/// generic_perform_write), while devices, ttys and pipes check
/// signal_pending between steps (read_iter_zero, iterate_tty_write).
fn interrupted(files: &[&File]) -> bool {
    let Some(task) = crate::sched::current() else { return false };
    if task.fatal_signal_pending() {
        return true;
    }
    task.signal_pending() && !files.iter().all(|f| f.metadata().is_ok_and(|md| md.mode & S_IFMT == S_IFREG))
}

/// read/readv/pread: chunked for regular files (the whole count, short
/// only at EOF), one step for streams. A copy fault after progress ends
/// the call with what was copied; the file position counts only that.
pub fn read_into(file: &File, bufs: &UserBuffers, offset: Option<u64>) -> KResult<usize> {
    let n = read_into_inner(file, bufs, offset)?;
    if n > 0 {
        crate::fs::notify::access(file);
    }
    Ok(n)
}

fn read_into_inner(file: &File, bufs: &UserBuffers, offset: Option<u64>) -> KResult<usize> {
    if !file.readable() {
        return Err(Errno::EBADF);
    }
    let stream = file.ops.is_stream() || !file.ops.seekable();
    let mut pos_guard = if offset.is_none() && !stream { Some(file.pos.lock()) } else { None };
    verify_area(offset.or(pos_guard.as_deref().copied()), bufs.requested())?;
    if let Some(r) = file.ops.read_to_user(file, bufs) {
        return r;
    }
    if !stream
        && bufs.len() >= PINNED_MIN
        && let Some(r) = read_pinned(file, bufs, offset, pos_guard.as_deref_mut())
    {
        return r;
    }
    if !stream {
        // A page cache hands its pages over without a kernel buffer.
        let pos = offset.unwrap_or_else(|| pos_guard.as_deref().copied().unwrap_or(0));
        let mut copied = 0usize;
        // A fault part way counts what was copied up to it (Linux's
        // copy_to_user is byte-exact), not just whole pieces.
        let direct = file.ops.read_pieces(file, pos, bufs.len(), &mut |piece| {
            let n = bufs.copy_out_upto(copied, piece);
            copied += n;
            if n < piece.len() { Err(Errno::EFAULT) } else { Ok(()) }
        });
        if let Some(r) = direct {
            let n = match r {
                Ok(n) => n.max(copied),
                Err(_) if copied > 0 => copied,
                Err(e) => return Err(e),
            };
            if let Some(g) = pos_guard.as_mut() {
                **g = pos + n as u64;
            }
            return Ok(n);
        }
    }
    let mut done = 0usize;
    loop {
        if done > 0 && interrupted(&[file]) {
            return Ok(done);
        }
        let chunk = (bufs.len() - done).min(IO_CHUNK);
        let mut data = vec![0u8; chunk];
        let mut pos = match (offset, pos_guard.as_ref()) {
            (Some(off), _) => off + done as u64,
            (None, Some(g)) => **g,
            (None, None) => 0,
        };
        let before = pos;
        let r = if offset.is_some() { file.ops.pread(file, &mut data, pos) } else { file.ops.read(file, &mut data, &mut pos) };
        let n = match r {
            Ok(n) => n,
            Err(e) if done == 0 => return Err(e),
            Err(_) => return Ok(done),
        };
        if !stream {
            // A regular file's read counts the bytes copied before a fault.
            let k = bufs.copy_out_upto(done, &data[..n]);
            if k < n {
                if let Some(g) = pos_guard.as_mut() {
                    **g = before + k as u64;
                }
                return if done + k == 0 { Err(Errno::EFAULT) } else { Ok(done + k) };
            }
        } else if bufs.copy_out(done, &data[..n]).is_err() {
            return if done == 0 { Err(Errno::EFAULT) } else { Ok(done) };
        }
        if let Some(g) = pos_guard.as_mut() {
            **g = pos;
        }
        done += n;
        if stream || n < chunk || done == bufs.len() {
            return Ok(done);
        }
    }
}

/// The first `n` bytes of the pieces `src` (a write cut short by a limit).
pub fn first_bytes<'a>(src: &[&'a [u8]], n: usize) -> Vec<&'a [u8]> {
    let mut left = n;
    src.iter()
        .map(|s| {
            let take = s.len().min(left);
            left -= take;
            &s[..take]
        })
        .filter(|s| !s.is_empty())
        .collect()
}

/// A read straight into the caller's pages, pinned a chunk at a time, for
/// files that can (a page cache with a store); None: they cannot. A fault
/// in the buffer after progress ends the read short.
fn read_pinned(file: &File, bufs: &UserBuffers, offset: Option<u64>, mut pos: Option<&mut u64>) -> Option<KResult<usize>> {
    // An empty read asks whether the file has the path at all, before any
    // page is pinned.
    let start = offset.or(pos.as_deref().copied()).unwrap_or(0);
    if file.ops.read_into(file, start, &mut [])?.is_err() || bufs.in_shared_file_mapping() || bufs.in_host_file_mapping() {
        return None;
    }
    // Pages past the end are never touched, as Linux copies only data.
    let size = file.ops.size(file).ok()?;
    let mut done = 0usize;
    loop {
        if done > 0 && interrupted(&[file]) {
            break;
        }
        let left = size.saturating_sub(start + done as u64).min(usize::MAX as u64) as usize;
        let chunk = (bufs.len() - done).min(IO_CHUNK).min(left);
        if chunk == 0 {
            // At the end (or an empty read): the buffered path answers.
            if done == 0 {
                return None;
            }
            break;
        }
        let mut pinned = match bufs.pin(done, chunk, true) {
            Ok(p) => p,
            // A bad buffer may still be fine at the end of the file: the
            // buffered path answers as Linux's filemap_read does.
            Err(_) if done == 0 => return None,
            Err(_) => break,
        };
        let got = pinned.len();
        let n = match file.ops.read_into(file, start + done as u64, &mut pinned.slices())? {
            Ok(n) => n,
            Err(e) if done == 0 => return Some(Err(e)),
            Err(_) => break,
        };
        done += n;
        if n < chunk || got < chunk || done == bufs.len() {
            break;
        }
    }
    if let Some(p) = pos.as_deref_mut() {
        *p = start + done as u64;
    }
    Some(Ok(done))
}

/// write/writev/pwrite: the whole buffer unless the file takes less. On a
/// file opened O_SYNC or O_DSYNC the data (and metadata) is durable when
/// the call returns.
pub fn write_from(file: &File, bufs: &UserBuffers, offset: Option<u64>) -> KResult<usize> {
    let n = write_from_inner(file, bufs, offset)?;
    if n > 0 && file.flags() & O_DSYNC != 0 {
        file.ops.fsync(file)?;
    }
    if n > 0 {
        crate::fs::notify::modify(file);
    }
    Ok(n)
}

fn write_from_inner(file: &File, bufs: &UserBuffers, offset: Option<u64>) -> KResult<usize> {
    if !file.writable() {
        return Err(Errno::EBADF);
    }
    let stream = file.ops.is_stream() || !file.ops.seekable();
    let mut pos_guard = if offset.is_none() && !stream { Some(file.pos.lock()) } else { None };
    verify_area(offset.or(pos_guard.as_deref().copied()), bufs.requested())?;
    if file.ops.discards_writes() {
        return Ok(bufs.len());
    }
    if !stream
        && bufs.len() >= PINNED_MIN
        && let Some(r) = write_pinned(file, bufs, offset, pos_guard.as_deref_mut())
    {
        return r;
    }
    let mut done = 0usize;
    loop {
        if done > 0 && interrupted(&[file]) {
            return Ok(done);
        }
        let chunk = (bufs.len() - done).min(IO_CHUNK);
        let data = if stream {
            match bufs.copy_in(done, chunk) {
                Ok(d) => d,
                Err(e) => return if done == 0 { Err(e) } else { Ok(done) },
            }
        } else {
            // A regular file takes the bytes before a fault (a short write,
            // as Linux's generic_perform_write); EFAULT if there are none.
            match bufs.copy_in_upto(done, chunk) {
                d if d.is_empty() && chunk > 0 => return if done == 0 { Err(Errno::EFAULT) } else { Ok(done) },
                d => d,
            }
        };
        let r = match (offset, pos_guard.as_mut()) {
            (Some(off), _) => file.ops.pwrite(file, &data, off + done as u64),
            (None, Some(pos)) => file.ops.write(file, &data, pos),
            (None, None) => {
                let mut p = 0;
                file.ops.write(file, &data, &mut p)
            }
        };
        let n = match r {
            Ok(n) => n,
            Err(e) if done == 0 => return Err(e),
            Err(_) => return Ok(done),
        };
        done += n;
        if n < chunk || done == bufs.len() {
            return Ok(done);
        }
    }
}

/// A write straight from the caller's pages, pinned a chunk at a time, for
/// files that can (a page cache with a store); None: they cannot. A fault
/// in the buffer after progress ends the write short.
fn write_pinned(file: &File, bufs: &UserBuffers, offset: Option<u64>, mut pos: Option<&mut u64>) -> Option<KResult<usize>> {
    let mut at = offset.or(pos.as_deref().copied()).unwrap_or(0);
    // An empty write asks whether the file has the path at all.
    if file.ops.write_gather(file, &[], &mut at.clone())?.is_err() || bufs.in_host_file_mapping() {
        return None;
    }
    let mut done = 0usize;
    loop {
        if done > 0 && interrupted(&[file]) {
            break;
        }
        let chunk = (bufs.len() - done).min(IO_CHUNK);
        let mut pinned = match bufs.pin(done, chunk, false) {
            Ok(p) => p,
            // Nothing pinned: the buffered path gives the error.
            Err(_) if done == 0 => return None,
            Err(_) => break,
        };
        let got = pinned.len();
        let slices = pinned.slices();
        let src: Vec<&[u8]> = slices.iter().map(|s| &**s).collect();
        let n = match file.ops.write_gather(file, &src, &mut at)? {
            Ok(n) => n,
            Err(e) if done == 0 => return Some(Err(e)),
            Err(_) => break,
        };
        done += n;
        if n < got || got < chunk || done == bufs.len() {
            break;
        }
    }
    if let Some(p) = pos.as_deref_mut() {
        *p = at;
    }
    Some(Ok(done))
}

/// Moves up to `count` bytes from `src` to `dst` through a kernel buffer.
/// `in_off` reads at an explicit offset (advanced), else at src's position.
pub fn copy_between(src: &File, dst: &File, count: usize, in_off: Option<&mut u64>, out_off: Option<&mut u64>) -> KResult<usize> {
    let n = copy_between_inner(src, dst, count, in_off, out_off)?;
    if n > 0 {
        crate::fs::notify::access(src);
        crate::fs::notify::modify(dst);
    }
    Ok(n)
}

fn copy_between_inner(src: &File, dst: &File, count: usize, mut in_off: Option<&mut u64>, mut out_off: Option<&mut u64>) -> KResult<usize> {
    let mut done = 0usize;
    let mut buf = vec![0u8; count.min(IO_CHUNK).max(1)];
    while done < count {
        if done > 0 && interrupted(&[src, dst]) {
            break;
        }
        let want = (count - done).min(buf.len());
        let n = match in_off.as_deref_mut() {
            Some(off) => src.ops.pread(src, &mut buf[..want], *off),
            None => {
                let mut pos = src.pos.lock();
                src.ops.read(src, &mut buf[..want], &mut pos)
            }
        };
        let n = match n {
            Ok(n) => n,
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        };
        if n == 0 {
            break;
        }
        let w = match out_off.as_deref_mut() {
            Some(off) => dst.ops.pwrite(dst, &buf[..n], *off),
            None => {
                let mut pos = dst.pos.lock();
                dst.ops.write(dst, &buf[..n], &mut pos)
            }
        };
        let w = match w {
            Ok(w) => w,
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        };
        if let Some(off) = in_off.as_deref_mut() {
            *off += w as u64;
        }
        if let Some(off) = out_off.as_deref_mut() {
            *off += w as u64;
        }
        done += w;
        if w < n {
            // The reader moved past bytes the writer did not take.
            if in_off.is_none() && src.ops.seekable() {
                let mut pos = src.pos.lock();
                *pos = pos.saturating_sub((n - w) as u64);
            }
            break;
        }
        if src.ops.is_stream() && n < want {
            break;
        }
    }
    Ok(done)
}
