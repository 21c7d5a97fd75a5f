//! Guest memory as system calls reach it: `Mm::read::<T>`, `Mm::write`,
//! `read_bytes`/`write_bytes` and `read_cstring` (in mm/mod.rs) for single
//! objects, and here the user-range check and `UserBuffers`, the scattered
//! buffer of read/write/readv/writev/sendmsg. Every access translates
//! through vkernel's page table and gives EFAULT where the guest itself
//! would fault.

use std::sync::Arc;

use crate::abi::uio::IOV_MAX;
use crate::abi::{Errno, Iovec, KResult, PAGE_SIZE, Pod};
use crate::mm::Mm;
use crate::mm::frame::{Frame, PhysMemory};
use crate::mm::vma::Backing;

/// The end of the user address range (Linux's TASK_SIZE_MAX): access_ok
/// fails above it.
pub const USER_END: u64 = 0x7fff_ffff_f000;
/// Linux caps one read or write at MAX_RW_COUNT bytes.
pub const MAX_RW_COUNT: usize = 0x7fff_f000;

/// Linux's access_ok: the range lies in the user half. An empty range
/// must start there too (write(fd, kernel address, 0) is EFAULT).
pub fn access_ok(addr: u64, len: usize) -> KResult<()> {
    match addr.checked_add(len as u64) {
        Some(end) if end <= USER_END => Ok(()),
        _ => Err(Errno::EFAULT),
    }
}

/// Guest memory as one virtual buffer made of (address, length) pieces.
pub struct UserBuffers {
    mm: Arc<Mm>,
    segs: Vec<(u64, usize)>,
    total: usize,
    /// The count the caller asked for, before the MAX_RW_COUNT cap: what
    /// rw_verify_area checks against the file position.
    requested: usize,
}

impl UserBuffers {
    /// read/write's buffer of `len` bytes at `addr`: access_ok on the
    /// whole count first (EFAULT for a count that reaches past user
    /// space, as Linux's vfs_read/vfs_write), then capped at MAX_RW_COUNT.
    pub fn single(mm: Arc<Mm>, addr: u64, len: usize) -> KResult<UserBuffers> {
        access_ok(addr, len)?;
        let capped = len.min(MAX_RW_COUNT);
        Ok(UserBuffers { mm, segs: vec![(addr, capped)], total: capped, requested: len })
    }

    /// A socket call's buffer (send/sendto/recv/recvfrom): capped at
    /// MAX_RW_COUNT first and then checked, as Linux's import_ubuf.
    pub fn import(mm: Arc<Mm>, addr: u64, len: usize) -> KResult<UserBuffers> {
        let len = len.min(MAX_RW_COUNT);
        access_ok(addr, len)?;
        Ok(UserBuffers { mm, segs: vec![(addr, len)], total: len, requested: len })
    }

    /// An iovec array of `count` entries at `addr`: EINVAL for a bad count
    /// or length, EFAULT for a bad array or buffer; the total is capped at
    /// MAX_RW_COUNT as Linux's rw_copy_check_uvector does.
    pub fn iovec(mm: Arc<Mm>, addr: u64, count: i32) -> KResult<UserBuffers> {
        if !(0..=IOV_MAX).contains(&count) {
            return Err(Errno::EINVAL);
        }
        let raw = mm.read_bytes(addr, count as usize * size_of::<Iovec>())?;
        let iovs: Vec<Iovec> = raw
            .chunks_exact(size_of::<Iovec>())
            .map(|chunk| {
                let mut iov = Iovec::default();
                iov.as_bytes_mut().copy_from_slice(chunk);
                iov
            })
            .collect();
        // Every length is checked before any address (iovec_from_user,
        // then __import_iovec), and each address over its whole length.
        if iovs.iter().any(|iov| iov.len > isize::MAX as u64) {
            return Err(Errno::EINVAL);
        }
        let mut segs = Vec::with_capacity(iovs.len());
        let mut total: usize = 0;
        for iov in iovs {
            access_ok(iov.base, iov.len as usize)?;
            let len = (iov.len as usize).min(MAX_RW_COUNT - total);
            total += len;
            if len > 0 {
                segs.push((iov.base, len));
            }
        }
        Ok(UserBuffers { mm, segs, total, requested: total })
    }

    /// The total length.
    pub fn len(&self) -> usize {
        self.total
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// The count before the MAX_RW_COUNT cap.
    pub fn requested(&self) -> usize {
        self.requested
    }

    /// Copies `data` to the virtual buffer at `start`.
    pub fn copy_out(&self, start: usize, data: &[u8]) -> KResult<()> {
        let (mut at, mut done) = (0usize, 0usize);
        for &(addr, len) in &self.segs {
            if done == data.len() {
                break;
            }
            let seg_end = at + len;
            if seg_end > start + done {
                let off = start + done - at;
                let n = (len - off).min(data.len() - done);
                self.mm.write_bytes(addr + off as u64, &data[done..done + n])?;
                done += n;
            }
            at = seg_end;
        }
        Ok(())
    }

    /// Copies `len` bytes of the virtual buffer from `start`.
    pub fn copy_in(&self, start: usize, len: usize) -> KResult<Vec<u8>> {
        let mut out = Vec::with_capacity(len);
        let mut at = 0usize;
        for &(addr, seg_len) in &self.segs {
            if out.len() == len {
                break;
            }
            let seg_end = at + seg_len;
            let want = start + out.len();
            if seg_end > want {
                let off = want - at;
                let n = (seg_len - off).min(len - out.len());
                // Appended straight from guest RAM: no zeroed buffer first.
                self.mm.read_bytes_append(addr + off as u64, n, &mut out)?;
            }
            at = seg_end;
        }
        Ok(out)
    }

    /// Copies as much of `data` to the virtual buffer at `start` as it
    /// can before a fault (as Linux's copy_to_user does); returns the bytes
    /// copied.
    pub fn copy_out_upto(&self, start: usize, data: &[u8]) -> usize {
        let mut done = 0;
        while done < data.len() {
            let Some(addr) = self.address_of(start + done) else { break };
            let n = ((PAGE_SIZE - addr % PAGE_SIZE) as usize).min(data.len() - done).min(self.segment_left(start + done));
            if self.mm.write_bytes(addr, &data[done..done + n]).is_err() {
                break;
            }
            done += n;
        }
        done
    }

    /// Copies up to `len` bytes of the virtual buffer from `start`, stopping
    /// at the first page that faults (as Linux's copy_from_user does).
    pub fn copy_in_upto(&self, start: usize, len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len);
        while out.len() < len {
            let Some(addr) = self.address_of(start + out.len()) else { break };
            let n = ((PAGE_SIZE - addr % PAGE_SIZE) as usize).min(len - out.len()).min(self.segment_left(start + out.len()));
            if self.mm.read_bytes_append(addr, n, &mut out).is_err() {
                break;
            }
        }
        out
    }

    /// The guest address of byte `at` of the virtual buffer.
    fn address_of(&self, at: usize) -> Option<u64> {
        let mut base = 0usize;
        for &(addr, len) in &self.segs {
            if at < base + len {
                return Some(addr + (at - base) as u64);
            }
            base += len;
        }
        None
    }

    /// Bytes from byte `at` to the end of its segment.
    fn segment_left(&self, at: usize) -> usize {
        let mut base = 0usize;
        for &(_, len) in &self.segs {
            if at < base + len {
                return base + len - at;
            }
            base += len;
        }
        0
    }

    /// Whether any of the buffer lies in a shared mapping of a file with a
    /// store: a read into such pages must dirty each one as it copies (a
    /// pinned page written back meanwhile would lose the read's data), so
    /// it takes the buffered path, which does.
    pub fn in_shared_file_mapping(&self) -> bool {
        self.any_mapping(|b| matches!(b, Backing::Shared { memory, .. } if memory.has_store()))
    }

    /// Whether any of the buffer lies in a shared mapping of a host file:
    /// its pages are the host's, with no frame to pin, so reads and writes
    /// take the buffered path (which copies through the file).
    pub fn in_host_file_mapping(&self) -> bool {
        self.any_mapping(|b| matches!(b, Backing::HostFile { .. }))
    }

    fn any_mapping(&self, pred: impl Fn(&Backing) -> bool) -> bool {
        let st = self.mm.lock();
        self.segs.iter().any(|&(addr, len)| {
            let end = addr.saturating_add(len as u64);
            st.vmas.range(..end).rev().take_while(|(_, v)| v.end > addr).any(|(_, v)| pred(&v.backing))
        })
    }

    /// The guest pages under `len` bytes of the virtual buffer from
    /// `start`, each held by a frame reference (Linux's pin_user_pages),
    /// so a file's data can move straight between them and the page cache
    /// or the disk with no address-space lock held. Pages are faulted in
    /// as a guest access would (`write`: copy-on-write broken, a shared
    /// file page dirtied). A fault after the first page ends the pin
    /// short; at the first page it is EFAULT.
    pub fn pin(&self, start: usize, len: usize, write: bool) -> KResult<PinnedPages> {
        let mut pinned = PinnedPages { phys: self.mm.phys.clone(), pieces: Vec::new(), len: 0 };
        let mut at = 0usize;
        let mut st = self.mm.lock();
        'segs: for &(addr, seg_len) in &self.segs {
            if pinned.len == len {
                break;
            }
            let seg_end = at + seg_len;
            let want = start + pinned.len;
            if seg_end > want {
                let mut va = addr + (want - at) as u64;
                let mut left = (seg_end - want).min(len - pinned.len);
                while left > 0 {
                    let frame = match st.frame_for_access(&self.mm.phys, va, write) {
                        Ok(f) => f,
                        Err(e) if pinned.len == 0 => return Err(e),
                        Err(_) => break 'segs,
                    };
                    self.mm.phys.get(frame);
                    let off = (va % PAGE_SIZE) as usize;
                    let n = (PAGE_SIZE as usize - off).min(left);
                    pinned.pieces.push((frame, off, n));
                    pinned.len += n;
                    va += n as u64;
                    left -= n;
                }
            }
            at = seg_end;
        }
        Ok(pinned)
    }
}

/// Guest pages pinned by `UserBuffers::pin`: pieces of frames, in buffer
/// order; the references go when it drops.
pub struct PinnedPages {
    phys: Arc<PhysMemory>,
    /// (frame, offset in it, length).
    pieces: Vec<(Frame, usize, usize)>,
    len: usize,
}

impl PinnedPages {
    /// The bytes pinned (short of what was asked when the buffer faults).
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The pinned bytes as slices of guest RAM, in buffer order.
    pub fn slices(&mut self) -> Vec<&mut [u8]> {
        let phys = &self.phys;
        self.pieces.iter().map(|&(f, off, n)| &mut phys.frame_bytes(f)[off..off + n]).collect()
    }
}

impl Drop for PinnedPages {
    fn drop(&mut self) {
        self.phys.put_many(self.pieces.iter().map(|p| p.0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_ok_rejects_kernel_and_wrapping_ranges() {
        assert!(access_ok(0x1000, 10).is_ok());
        assert!(access_ok(0xffff_8000_0000_0000, 10).is_err());
        assert!(access_ok(u64::MAX - 1, 10).is_err());
        assert!(access_ok(0xffff_8000_0000_0000, 0).is_err());
        assert!(access_ok(USER_END, 0).is_ok());
        assert!(access_ok(0x1000, usize::MAX).is_err());
    }
}
