//! Cursors over scattered buffers (pinned guest pages, in order) for the
//! page cache's copies in and out: `Scatter` fills destinations, `Gather`
//! drains sources. Guest pages may be mapped more than once, so a copy
//! never assumes its two sides are distinct memory.

/// Copies between guest pages that may be the same page: a reader's or
/// writer's buffer may be a mapping of the very file page it moves.
fn copy_maybe_overlapping(to: &mut [u8], from: &[u8]) {
    if to.as_ptr_range().contains(&from.as_ptr()) || from.as_ptr_range().contains(&to.as_ptr()) {
        to.copy_from_slice(&from.to_vec());
    } else {
        to.copy_from_slice(from);
    }
}

/// A cursor over scattered destination buffers.
pub struct Scatter<'a, 'b> {
    bufs: &'a mut [&'b mut [u8]],
    seg: usize,
    off: usize,
}

impl<'a, 'b> Scatter<'a, 'b> {
    pub fn new(bufs: &'a mut [&'b mut [u8]]) -> Self {
        Scatter { bufs, seg: 0, off: 0 }
    }

    /// Copies `src` to the cursor and moves past it (the caller never
    /// puts more than the buffers hold).
    pub fn put(&mut self, mut src: &[u8]) {
        while !src.is_empty() && self.seg < self.bufs.len() {
            let b = &mut self.bufs[self.seg][self.off..];
            let n = b.len().min(src.len());
            copy_maybe_overlapping(&mut b[..n], &src[..n]);
            src = &src[n..];
            self.advance(n);
        }
    }

    fn advance(&mut self, n: usize) {
        self.off += n;
        if self.off == self.bufs[self.seg].len() {
            self.seg += 1;
            self.off = 0;
        }
    }

    /// The next `len` bytes of the buffers as slices; the cursor moves past them.
    pub fn take(&mut self, mut len: usize) -> Vec<&mut [u8]> {
        let mut ranges = Vec::new();
        while len > 0 && self.seg < self.bufs.len() {
            let n = (self.bufs[self.seg].len() - self.off).min(len);
            ranges.push((self.seg, self.off, n));
            len -= n;
            self.advance(n);
        }
        let first = ranges.first().map_or(0, |r| r.0);
        self.bufs.iter_mut().skip(first).zip(ranges).map(|(b, (_, from, n))| &mut b[from..from + n]).collect()
    }
}

/// A cursor over scattered source buffers.
pub struct Gather<'a, 'b> {
    bufs: &'a [&'b [u8]],
    seg: usize,
    off: usize,
}

impl<'a, 'b> Gather<'a, 'b> {
    pub fn new(bufs: &'a [&'b [u8]]) -> Self {
        Gather { bufs, seg: 0, off: 0 }
    }

    /// Fills `dst` from the cursor and moves past what it took.
    pub fn get(&mut self, dst: &mut [u8]) {
        let mut done = 0;
        while done < dst.len() && self.seg < self.bufs.len() {
            let b = &self.bufs[self.seg][self.off..];
            let n = b.len().min(dst.len() - done);
            copy_maybe_overlapping(&mut dst[done..done + n], &b[..n]);
            done += n;
            self.off += n;
            if self.off == self.bufs[self.seg].len() {
                self.seg += 1;
                self.off = 0;
            }
        }
    }
}
