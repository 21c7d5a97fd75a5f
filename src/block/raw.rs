//! A raw disk image file on the host as a block device. The host calls are
//! `platform::host::image`'s; this only adapts them to `BlockDevice`.

use std::path::Path;
use std::sync::Arc;

use super::BlockDevice;
use crate::abi::KResult;
use crate::platform::host::image::HostImage;

pub struct RawImage {
    image: HostImage,
}

impl RawImage {
    /// Opens (and locks against other writers) the image at `path`.
    pub fn open(path: &Path, read_only: bool) -> KResult<Arc<RawImage>> {
        Ok(Arc::new(RawImage { image: HostImage::open(path, read_only)? }))
    }
}

impl BlockDevice for RawImage {
    fn size(&self) -> u64 {
        self.image.size()
    }
    fn read_at(&self, off: u64, buf: &mut [u8]) -> KResult<()> {
        self.image.read_at(off, buf)
    }
    fn write_at(&self, off: u64, buf: &[u8]) -> KResult<()> {
        self.image.write_at(off, buf)
    }
    fn read_vectored_at(&self, off: u64, bufs: &mut [&mut [u8]]) -> KResult<()> {
        self.image.read_vectored_at(off, bufs)
    }
    fn write_vectored_at(&self, off: u64, bufs: &[&[u8]]) -> KResult<()> {
        self.image.write_vectored_at(off, bufs)
    }
    fn flush(&self) -> KResult<()> {
        self.image.sync_data()
    }
    fn read_only(&self) -> bool {
        self.image.read_only()
    }
}
