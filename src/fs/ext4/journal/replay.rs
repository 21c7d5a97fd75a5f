//! Journal recovery at mount: three passes over the log as jbd2 makes them
//! (find the last committed transaction; collect revokes; write the logged
//! blocks home, skipping revoked ones and those whose checksum fails). Every
//! loop is bounded by the log length; a torn or corrupt block ends the log.

use std::collections::HashMap;

use super::*;
use crate::block::BlockDevice;

/// One tag of a descriptor block.
struct Tag {
    blocknr: u64,
    flags: u32,
    csum: u32,
}

fn parse_tags(j: &Journal, block: &[u8]) -> KResult<Vec<Tag>> {
    let tb = j.tag_bytes();
    let end = j.bs - j.tail_bytes();
    let mut off = 12;
    let mut out = Vec::new();
    while off + tb <= end {
        let blocknr_lo = b32(block, off) as u64;
        let (flags, hi, csum) = if j.csum_v3() {
            (b32(block, off + 4), b32(block, off + 8) as u64, b32(block, off + 12))
        } else {
            let flags = b32(block, off + 4) & 0xffff;
            let csum = b32(block, off + 4) >> 16;
            let hi = if j.is_64() { b32(block, off + 8) as u64 } else { 0 };
            (flags, hi, csum)
        };
        let blocknr = if j.is_64() { blocknr_lo | hi << 32 } else { blocknr_lo };
        out.push(Tag { blocknr, flags, csum });
        off += tb;
        if flags & TAG_SAME_UUID == 0 {
            off += 16;
        }
        if flags & TAG_LAST != 0 {
            return Ok(out);
        }
    }
    // A descriptor must end with a LAST tag; without one it is torn.
    Err(EUCLEAN)
}

enum Event<'a> {
    Data { seq: u32, tag: &'a Tag, data: &'a [u8] },
    Revoke { seq: u32, blocks: Vec<u64> },
}

/// Walks committed transactions from the log start; returns the first
/// sequence number that did not commit.
fn walk(dev: &dyn BlockDevice, j: &Journal, end_seq: Option<u32>, on: &mut dyn FnMut(Event<'_>) -> KResult<()>) -> KResult<u32> {
    let mut pos = b32(&j.sb, JS_START);
    let mut seq = b32(&j.sb, JS_SEQUENCE);
    let mut block = vec![0u8; j.bs];
    let mut data = vec![0u8; j.bs];
    let mut steps = 0u64;
    let read = |pos: u32, buf: &mut [u8]| -> KResult<()> { dev.read_at(j.pblk(pos)? * j.bs as u64, buf) };
    loop {
        steps += 1;
        if steps > 2 * j.maxlen as u64 + 8 {
            return Ok(seq);
        }
        if end_seq.is_some_and(|e| seq == e) {
            return Ok(seq);
        }
        if read(pos, &mut block).is_err() {
            return Ok(seq);
        }
        if b32(&block, 0) != JBD2_MAGIC || b32(&block, 8) != seq {
            return Ok(seq);
        }
        match b32(&block, 4) {
            BT_DESCRIPTOR => {
                if j.has_csum() && j.block_tail_csum(&block) != b32(&block, j.bs - 4) {
                    return Ok(seq);
                }
                let Ok(tags) = parse_tags(j, &block) else { return Ok(seq) };
                let mut p = j.advance(pos, 1);
                for tag in &tags {
                    if end_seq.is_some() {
                        read(p, &mut data)?;
                        on(Event::Data { seq, tag, data: &data })?;
                    }
                    p = j.advance(p, 1);
                }
                pos = p;
            }
            BT_COMMIT => {
                if j.has_csum() && j.commit_csum(&block) != b32(&block, 16) {
                    return Ok(seq);
                }
                seq = seq.wrapping_add(1);
                pos = j.advance(pos, 1);
            }
            BT_REVOKE => {
                if j.has_csum() && j.block_tail_csum(&block) != b32(&block, j.bs - 4) {
                    return Ok(seq);
                }
                let count = (b32(&block, 12) as usize).min(j.bs - j.tail_bytes());
                let rec = if j.is_64() { 8 } else { 4 };
                let mut blocks = Vec::new();
                let mut off = 16;
                while off + rec <= count {
                    blocks.push(if rec == 8 { b64(&block, off) } else { b32(&block, off) as u64 });
                    off += rec;
                }
                if end_seq.is_some() {
                    on(Event::Revoke { seq, blocks })?;
                }
                pos = j.advance(pos, 1);
            }
            _ => return Ok(seq),
        }
    }
}

/// Replays the log onto the filesystem; returns the next sequence number.
/// `blocks_count` bounds the home locations written.
pub fn recover(dev: &dyn BlockDevice, j: &Journal, blocks_count: u64) -> KResult<u32> {
    let end = walk(dev, j, None, &mut |_| Ok(()))?;
    let start_seq = b32(&j.sb, JS_SEQUENCE);
    if end == start_seq {
        return Ok(end);
    }
    let mut revoked: HashMap<u64, u32> = HashMap::new();
    walk(dev, j, Some(end), &mut |ev| {
        if let Event::Revoke { seq, blocks } = ev {
            for b in blocks {
                let e = revoked.entry(b).or_insert(seq);
                if seq.wrapping_sub(*e) as i32 > 0 {
                    *e = seq;
                }
            }
        }
        Ok(())
    })?;
    walk(dev, j, Some(end), &mut |ev| {
        if let Event::Data { seq, tag, data } = ev {
            if revoked.get(&tag.blocknr).is_some_and(|&r| r.wrapping_sub(seq) as i32 >= 0) {
                return Ok(());
            }
            if tag.blocknr >= blocks_count {
                return Ok(());
            }
            if j.has_csum() {
                let c = j.tag_csum(seq, data);
                let ok = if j.csum_v3() { c == tag.csum } else { c & 0xffff == tag.csum };
                if !ok {
                    return Ok(());
                }
            }
            let mut out = data.to_vec();
            if tag.flags & TAG_ESCAPE != 0 {
                bw32(&mut out, 0, JBD2_MAGIC);
            }
            dev.write_at(tag.blocknr * j.bs as u64, &out)?;
        }
        Ok(())
    })?;
    dev.flush()?;
    Ok(end)
}
