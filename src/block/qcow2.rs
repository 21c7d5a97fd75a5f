//! A qcow2 image file as a block device. The format (clusters, L1/L2
//! tables, refcounts, backing chains) is the `imago` crate's, reached
//! through `platform::host::image::Qcow2Image`; this only adapts it to
//! `BlockDevice`. Writes land in the top image, never in a backing file.

use std::path::Path;
use std::sync::Arc;

use super::BlockDevice;
use crate::abi::KResult;
use crate::platform::host::image::Qcow2Image;

pub struct Qcow2 {
    image: Qcow2Image,
}

impl Qcow2 {
    /// Opens (and locks) the image at `path`; the error is a sentence.
    pub fn open(path: &Path, read_only: bool) -> Result<Arc<Qcow2>, String> {
        Ok(Arc::new(Qcow2 { image: Qcow2Image::open(path, read_only)? }))
    }
}

impl BlockDevice for Qcow2 {
    fn size(&self) -> u64 {
        self.image.size()
    }
    fn read_at(&self, off: u64, buf: &mut [u8]) -> KResult<()> {
        self.image.read_at(off, buf)
    }
    fn write_at(&self, off: u64, buf: &[u8]) -> KResult<()> {
        self.image.write_at(off, buf)
    }
    fn discard(&self, off: u64, len: u64) -> KResult<()> {
        self.image.discard(off, len)
    }
    fn flush(&self) -> KResult<()> {
        self.image.sync()
    }
    fn read_only(&self) -> bool {
        self.image.read_only()
    }
}
