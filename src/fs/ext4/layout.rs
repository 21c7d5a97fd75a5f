//! Little- and big-endian field access on raw on-disk structures. Out-of-range
//! offsets read as zero and writes to them are dropped, so a short or
//! corrupt buffer can never make the engine panic; callers validate sizes.

pub fn r8(b: &[u8], o: usize) -> u8 {
    b.get(o).copied().unwrap_or(0)
}

pub fn r16(b: &[u8], o: usize) -> u16 {
    match b.get(o..o + 2) {
        Some(s) => u16::from_le_bytes([s[0], s[1]]),
        None => 0,
    }
}

pub fn r32(b: &[u8], o: usize) -> u32 {
    match b.get(o..o + 4) {
        Some(s) => u32::from_le_bytes([s[0], s[1], s[2], s[3]]),
        None => 0,
    }
}

pub fn r64(b: &[u8], o: usize) -> u64 {
    r32(b, o) as u64 | (r32(b, o + 4) as u64) << 32
}

pub fn w8(b: &mut [u8], o: usize, v: u8) {
    if let Some(x) = b.get_mut(o) {
        *x = v;
    }
}

pub fn w16(b: &mut [u8], o: usize, v: u16) {
    if let Some(s) = b.get_mut(o..o + 2) {
        s.copy_from_slice(&v.to_le_bytes());
    }
}

pub fn w32(b: &mut [u8], o: usize, v: u32) {
    if let Some(s) = b.get_mut(o..o + 4) {
        s.copy_from_slice(&v.to_le_bytes());
    }
}

pub fn w64(b: &mut [u8], o: usize, v: u64) {
    w32(b, o, v as u32);
    w32(b, o + 4, (v >> 32) as u32);
}

/// Big-endian (jbd2 structures).
pub fn b32(b: &[u8], o: usize) -> u32 {
    match b.get(o..o + 4) {
        Some(s) => u32::from_be_bytes([s[0], s[1], s[2], s[3]]),
        None => 0,
    }
}

pub fn b64(b: &[u8], o: usize) -> u64 {
    (b32(b, o) as u64) << 32 | b32(b, o + 4) as u64
}

pub fn bw32(b: &mut [u8], o: usize, v: u32) {
    if let Some(s) = b.get_mut(o..o + 4) {
        s.copy_from_slice(&v.to_be_bytes());
    }
}

pub fn bw64(b: &mut [u8], o: usize, v: u64) {
    bw32(b, o, (v >> 32) as u32);
    bw32(b, o + 4, v as u32);
}

/// Bit `i` of a bitmap (little-endian bit order, as ext4 stores them).
pub fn test_bit(b: &[u8], i: usize) -> bool {
    b.get(i / 8).is_some_and(|x| x & (1 << (i % 8)) != 0)
}

pub fn set_bit(b: &mut [u8], i: usize, on: bool) {
    if let Some(x) = b.get_mut(i / 8) {
        if on {
            *x |= 1 << (i % 8);
        } else {
            *x &= !(1 << (i % 8));
        }
    }
}
