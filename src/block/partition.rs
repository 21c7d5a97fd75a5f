//! Partition tables: GPT and MBR (with extended/logical partitions), read as
//! Linux's block/partitions/efi.c and msdos.c read them, and `Slice`, a
//! partition as a block device of its own. Everything read from the disk
//! is checked before use and every walk is bounded; a damaged table gives
//! fewer partitions, never a panic.
//!
//! Why not the `gpt` and `mbrman` crates: both want a `Read + Seek` (gpt
//! also `Write`) handle and a mutable owner, both have `unwrap`/slice
//! indexing on disk-derived values outside their tests (a guest's disk can
//! hold anything), and neither follows Linux's rules that decide which
//! partitions a guest sees (a GPT wins only behind a protective MBR, the
//! backup header is used when the primary is damaged, entries keep their
//! slot numbers, logical partitions start at 5, the third and fourth EBR
//! slots are skipped when they point outside, a partition past the end is
//! truncated). Those rules fit in the 250 lines below.

use std::sync::Arc;

use super::BlockDevice;
use crate::abi::{Errno, KResult};

/// One partition: its number (vda<number>), first sector and length, both
/// in 512-byte sectors as Linux's `start` and `size` in sysfs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PartitionEntry {
    pub number: u32,
    pub start: u64,
    pub sectors: u64,
}

/// Linux's limit on partitions per disk (DISK_MAX_PARTS).
pub const MAX_PARTITIONS: u32 = 256;

/// The partitions of `disk`, whose logical sector size is `sector_size`.
/// An unreadable or absent table is no partitions (Linux logs and goes on).
pub fn scan(disk: &dyn BlockDevice, sector_size: u32) -> Vec<PartitionEntry> {
    let mut parts = match scan_gpt(disk, sector_size) {
        Some(p) => p,
        None => scan_mbr(disk, sector_size).unwrap_or_default(),
    };
    // Linux's check.c: a partition past the end of the disk is truncated,
    // one starting past it dropped.
    let capacity = disk.size() / 512;
    parts.retain(|p| p.start < capacity && p.sectors > 0);
    for p in &mut parts {
        p.sectors = p.sectors.min(capacity - p.start);
    }
    parts.retain(|p| p.number < MAX_PARTITIONS);
    parts.sort_by_key(|p| p.number);
    parts
}

fn read_sector(disk: &dyn BlockDevice, lba: u64, sector_size: u32) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; sector_size as usize];
    disk.read_at(lba.checked_mul(sector_size as u64)?, &mut buf).ok()?;
    Some(buf)
}

fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}
fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}
fn le64(b: &[u8], at: usize) -> u64 {
    let mut x = [0u8; 8];
    x.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(x)
}

// ---- MBR ----

const MBR_SIGNATURE: u16 = 0xaa55;
const MBR_TABLE: usize = 446;
const GPT_PROTECTIVE: u8 = 0xee;
/// Linux's loop bound on EBR chains.
const MAX_LOGICAL: u32 = 100;

#[derive(Clone, Copy)]
struct MbrEntry {
    boot: u8,
    kind: u8,
    start: u32,
    sectors: u32,
}

fn mbr_entries(sector: &[u8]) -> Option<[MbrEntry; 4]> {
    if sector.len() < 512 || le16(sector, 510) != MBR_SIGNATURE {
        return None;
    }
    let e = |i: usize| {
        let b = &sector[MBR_TABLE + 16 * i..MBR_TABLE + 16 * (i + 1)];
        MbrEntry { boot: b[0], kind: b[4], start: le32(b, 8), sectors: le32(b, 12) }
    };
    Some([e(0), e(1), e(2), e(3)])
}

fn is_extended(kind: u8) -> bool {
    matches!(kind, 0x05 | 0x0f | 0x85)
}

/// Sector size in 512-byte units (MBR fields count logical sectors).
fn unit(sector_size: u32) -> u64 {
    (sector_size / 512).max(1) as u64
}

fn scan_mbr(disk: &dyn BlockDevice, sector_size: u32) -> Option<Vec<PartitionEntry>> {
    let sector = read_sector(disk, 0, sector_size)?;
    let entries = mbr_entries(&sector)?;
    // msdos.c: a boot indicator other than 0 or 0x80 means this is not a
    // partition table (a FAT boot sector, say); a protective entry means GPT.
    if entries.iter().any(|e| e.boot != 0 && e.boot != 0x80) || entries.iter().any(|e| e.kind == GPT_PROTECTIVE) {
        return None;
    }
    let u = unit(sector_size);
    let mut parts = Vec::new();
    let mut next_logical = 5;
    for (slot, e) in entries.iter().enumerate() {
        if e.sectors == 0 {
            continue;
        }
        let start = e.start as u64 * u;
        let sectors = e.sectors as u64 * u;
        let number = slot as u32 + 1;
        if is_extended(e.kind) {
            // Linux shows the extended partition as 2 sectors (room for a
            // boot loader, none for a filesystem), then its logical ones.
            parts.push(PartitionEntry { number, start, sectors: sectors.min(2.max(u)) });
            scan_extended(disk, sector_size, e.start as u64, e.sectors as u64, &mut next_logical, &mut parts);
        } else {
            parts.push(PartitionEntry { number, start, sectors });
        }
    }
    Some(parts)
}

/// Follows the EBR chain of the extended partition at `base` (logical
/// sectors): each EBR holds one logical partition (relative to that EBR)
/// and a link to the next EBR (relative to `base`).
fn scan_extended(disk: &dyn BlockDevice, sector_size: u32, base: u64, base_len: u64, next: &mut u32, parts: &mut Vec<PartitionEntry>) {
    let u = unit(sector_size);
    let mut this = base;
    let mut this_len = base_len;
    for _ in 0..MAX_LOGICAL {
        if *next >= MAX_PARTITIONS {
            return;
        }
        let Some(sector) = read_sector(disk, this, sector_size) else { return };
        let Some(entries) = mbr_entries(&sector) else { return };
        for (i, e) in entries.iter().enumerate() {
            if e.sectors == 0 || is_extended(e.kind) {
                continue;
            }
            // msdos.c: the 3rd and 4th entries sometimes hold garbage.
            if i >= 2 && (e.start as u64 + e.sectors as u64 > this_len || e.start as u64 > this_len) {
                continue;
            }
            let start = (this + e.start as u64) * u;
            parts.push(PartitionEntry { number: *next, start, sectors: e.sectors as u64 * u });
            *next += 1;
        }
        let Some(link) = entries.iter().find(|e| e.sectors != 0 && is_extended(e.kind)) else { return };
        let Some(following) = base.checked_add(link.start as u64) else { return };
        if following == this {
            return;
        }
        this = following;
        this_len = link.sectors as u64;
    }
}

// ---- GPT ----

const GPT_SIGNATURE: &[u8; 8] = b"EFI PART";
const GPT_ENTRY_SIZE: u32 = 128;
/// More entries than any real table holds; bounds the entry-array read.
const GPT_MAX_ENTRIES: u32 = 1024;

fn scan_gpt(disk: &dyn BlockDevice, sector_size: u32) -> Option<Vec<PartitionEntry>> {
    // efi.c: a GPT counts only behind a valid protective (or hybrid) MBR.
    let mbr = read_sector(disk, 0, sector_size)?;
    let entries = mbr_entries(&mbr)?;
    if !entries.iter().any(|e| e.kind == GPT_PROTECTIVE && e.start == 1) {
        return None;
    }
    let last_lba = (disk.size() / sector_size as u64).checked_sub(1)?;
    let (header, table) = match gpt_header(disk, sector_size, 1, last_lba) {
        Some(h) => h,
        None => {
            let alternate = read_sector(disk, 1, sector_size)
                .filter(|h| &h[..8] == GPT_SIGNATURE)
                .map(|h| le64(&h, 32))
                .filter(|&a| a <= last_lba && a > 1)
                .unwrap_or(last_lba);
            gpt_header(disk, sector_size, alternate, last_lba)?
        }
    };
    let count = le32(&header, 80);
    let mut parts = Vec::new();
    for i in 0..count as usize {
        let e = &table[i * GPT_ENTRY_SIZE as usize..(i + 1) * GPT_ENTRY_SIZE as usize];
        if e[..16].iter().all(|&b| b == 0) {
            continue;
        }
        let (first, last) = (le64(e, 32), le64(e, 40));
        if first > last || last > last_lba {
            continue;
        }
        let u = unit(sector_size);
        parts.push(PartitionEntry { number: i as u32 + 1, start: first * u, sectors: (last - first + 1) * u });
    }
    Some(parts)
}

/// A GPT header at `lba` and its entry array, if both check out (efi.c's
/// is_gpt_valid: signature, sizes, header and array CRCs, its own LBA,
/// usable range on the disk).
fn gpt_header(disk: &dyn BlockDevice, sector_size: u32, lba: u64, last_lba: u64) -> Option<(Vec<u8>, Vec<u8>)> {
    let mut h = read_sector(disk, lba, sector_size)?;
    if &h[..8] != GPT_SIGNATURE {
        return None;
    }
    let header_size = le32(&h, 12) as usize;
    if header_size < 92 || header_size > h.len() {
        return None;
    }
    let crc = le32(&h, 16);
    h[16..20].fill(0);
    if crc32_ieee(&h[..header_size]) != crc {
        return None;
    }
    h[16..20].copy_from_slice(&crc.to_le_bytes());
    let (my_lba, first_usable, last_usable, entries_lba) = (le64(&h, 24), le64(&h, 40), le64(&h, 48), le64(&h, 72));
    let (count, entry_size, array_crc) = (le32(&h, 80), le32(&h, 84), le32(&h, 88));
    if my_lba != lba || first_usable > last_usable || last_usable > last_lba || entry_size != GPT_ENTRY_SIZE || count == 0 || count > GPT_MAX_ENTRIES {
        return None;
    }
    let mut table = vec![0u8; (count * entry_size) as usize];
    disk.read_at(entries_lba.checked_mul(sector_size as u64)?, &mut table).ok()?;
    if crc32_ieee(&table) != array_crc {
        return None;
    }
    Some((h, table))
}

/// CRC-32 (IEEE 802.3, reflected), as GPT uses.
fn crc32_ieee(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// A partition as a block device: a window `[start, start + len)` (bytes)
/// of its disk.
pub struct Slice {
    disk: Arc<dyn BlockDevice>,
    start: u64,
    len: u64,
}

impl Slice {
    pub fn new(disk: Arc<dyn BlockDevice>, start: u64, len: u64) -> Arc<Slice> {
        Arc::new(Slice { disk, start, len })
    }

    fn place(&self, off: u64, len: usize) -> KResult<u64> {
        match off.checked_add(len as u64) {
            Some(end) if end <= self.len => Ok(self.start + off),
            _ => Err(Errno::EIO),
        }
    }
}

impl BlockDevice for Slice {
    fn size(&self) -> u64 {
        self.len
    }
    fn read_at(&self, off: u64, buf: &mut [u8]) -> KResult<()> {
        self.disk.read_at(self.place(off, buf.len())?, buf)
    }
    fn write_at(&self, off: u64, buf: &[u8]) -> KResult<()> {
        self.disk.write_at(self.place(off, buf.len())?, buf)
    }
    fn read_vectored_at(&self, off: u64, bufs: &mut [&mut [u8]]) -> KResult<()> {
        let total = bufs.iter().map(|b| b.len()).sum();
        self.disk.read_vectored_at(self.place(off, total)?, bufs)
    }
    fn write_vectored_at(&self, off: u64, bufs: &[&[u8]]) -> KResult<()> {
        let total = bufs.iter().map(|b| b.len()).sum();
        self.disk.write_vectored_at(self.place(off, total)?, bufs)
    }
    fn discard(&self, off: u64, len: u64) -> KResult<()> {
        let end = off.checked_add(len).ok_or(Errno::EINVAL)?;
        if end > self.len {
            return Err(Errno::EINVAL);
        }
        self.disk.discard(self.start + off, len)
    }
    fn flush(&self) -> KResult<()> {
        self.disk.flush()
    }
    fn read_only(&self) -> bool {
        self.disk.read_only()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::block::MemDisk;

    fn mbr_entry(disk: &mut [u8], sector: u64, slot: usize, kind: u8, start: u32, sectors: u32) {
        let at = sector as usize * 512 + MBR_TABLE + 16 * slot;
        disk[at + 4] = kind;
        disk[at + 8..at + 12].copy_from_slice(&start.to_le_bytes());
        disk[at + 12..at + 16].copy_from_slice(&sectors.to_le_bytes());
        let sig = sector as usize * 512 + 510;
        disk[sig..sig + 2].copy_from_slice(&MBR_SIGNATURE.to_le_bytes());
    }

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32_ieee(b"123456789"), 0xcbf4_3926);
    }

    #[test]
    fn mbr_primaries_extended_and_logicals_are_numbered_like_linux() {
        let mut d = vec![0u8; 8 << 20];
        mbr_entry(&mut d, 0, 0, 0x83, 2048, 4096);
        mbr_entry(&mut d, 0, 1, 0x05, 8192, 8192);
        // First EBR at 8192: logical at +2048, link to the next EBR at base+4096.
        mbr_entry(&mut d, 8192, 0, 0x83, 2048, 1024);
        mbr_entry(&mut d, 8192, 1, 0x05, 4096, 4096);
        mbr_entry(&mut d, 8192 + 4096, 0, 0x83, 2048, 1024);
        let parts = scan(&*MemDisk::from_bytes(d, true), 512);
        let want = [(1, 2048, 4096), (2, 8192, 2), (5, 10240, 1024), (6, 14336, 1024)];
        assert_eq!(parts.iter().map(|p| (p.number, p.start, p.sectors)).collect::<Vec<_>>(), want);
    }

    #[test]
    fn a_looping_ebr_chain_or_garbage_ends_without_a_panic() {
        let mut d = vec![0u8; 1 << 20];
        mbr_entry(&mut d, 0, 0, 0x0f, 100, 1000);
        mbr_entry(&mut d, 100, 0, 0x83, 1, 10);
        mbr_entry(&mut d, 100, 1, 0x05, 0, 1000);
        let parts = scan(&*MemDisk::from_bytes(d.clone(), true), 512);
        assert_eq!(parts.len(), 2);
        // A boot flag that is neither 0 nor 0x80: not a partition table.
        d[MBR_TABLE] = 0x12;
        assert!(scan(&*MemDisk::from_bytes(d, true), 512).is_empty());
        // Past-the-end partitions are truncated or dropped.
        let mut d = vec![0u8; 1 << 20];
        mbr_entry(&mut d, 0, 0, 0x83, 1000, 100_000);
        mbr_entry(&mut d, 0, 1, 0x83, 5000, 10);
        let parts = scan(&*MemDisk::from_bytes(d, true), 512);
        assert_eq!(parts, vec![PartitionEntry { number: 1, start: 1000, sectors: 2048 - 1000 }]);
    }

    #[test]
    fn random_sectors_never_panic() {
        let mut seed = 0x1234_5678u64;
        for _ in 0..200 {
            let mut d = vec![0u8; 64 * 512];
            for b in d.iter_mut() {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                *b = (seed >> 56) as u8;
            }
            mbr_entry(&mut d, 0, 0, if seed & 1 == 0 { 0xee } else { 0x05 }, 1, 60);
            let _ = scan(&*MemDisk::from_bytes(d, true), 512);
        }
    }
}
