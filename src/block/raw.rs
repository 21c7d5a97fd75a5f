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
    fn discard(&self, off: u64, len: u64) -> KResult<()> {
        self.image.punch_hole(off, len)
    }
    fn flush(&self) -> KResult<()> {
        self.image.sync_data()
    }
    fn read_only(&self) -> bool {
        self.image.read_only()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::Errno;

    #[test]
    fn host_image_reads_writes_vectored_and_locks_writers_out() {
        let dir = std::env::temp_dir().join(format!("vk-raw-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("img");
        std::fs::write(&path, vec![0u8; 1 << 20]).unwrap();
        {
            let img = RawImage::open(&path, false).unwrap();
            assert_eq!(img.size(), 1 << 20);
            let a = vec![1u8; 4096];
            let b = vec![2u8; 8192];
            img.write_vectored_at(4096, &[&a, &b]).unwrap();
            img.flush().unwrap();
            let mut x = vec![0u8; 4096];
            let mut y = vec![0u8; 8192];
            img.read_vectored_at(4096, &mut [&mut x, &mut y]).unwrap();
            assert_eq!((x, y), (a, b));
            let mut past = [0u8; 2];
            assert_eq!(img.read_at((1 << 20) - 1, &mut past), Err(Errno::EIO));
            // A second writer is refused while the first holds the image.
            assert_eq!(RawImage::open(&path, false).err(), Some(Errno::EBUSY));
        }
        let ro = RawImage::open(&path, true).unwrap();
        assert!(ro.read_only());
        assert_eq!(ro.write_at(0, &[1]), Err(Errno::EROFS));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
