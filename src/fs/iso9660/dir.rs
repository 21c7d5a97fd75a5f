//! ISO 9660 directory records: fields, dates, and the names Linux shows
//! (plain ISO names lower-cased without ";1", Joliet's UCS-2 as UTF-8,
//! or Rock Ridge's own). A record that does not fit is EIO.

use crate::abi::{Errno, KResult, Timespec};

/// ISO 9660's "both-endian" 32-bit numbers: the little-endian half.
pub fn both_u32(b: &[u8], at: usize) -> u32 {
    match b.get(at..at + 4) {
        Some(x) => u32::from_le_bytes([x[0], x[1], x[2], x[3]]),
        None => 0,
    }
}

pub fn both_u16(b: &[u8], at: usize) -> u16 {
    match b.get(at..at + 2) {
        Some(x) => u16::from_le_bytes([x[0], x[1]]),
        None => 0,
    }
}

/// Days from 1970-01-01 to the given civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

fn to_unix(year: i64, month: i64, day: i64, hour: i64, min: i64, sec: i64, tz: i8) -> i64 {
    let mut t = days_from_civil(year, month.clamp(1, 12), day.clamp(1, 31)) * 86400 + hour * 3600 + min * 60 + sec;
    // Linux's iso_date: offsets past ±13 hours are ignored.
    if (-52..=52).contains(&tz) {
        t -= tz as i64 * 15 * 60;
    }
    t
}

/// A 7-byte directory-record date or a 17-byte "long form" one.
pub fn iso_time(b: &[u8]) -> Timespec {
    if b.len() >= 17 {
        let digits = |r: std::ops::Range<usize>| std::str::from_utf8(&b[r]).ok().and_then(|s| s.parse::<i64>().ok()).unwrap_or(0);
        let (year, month, day) = (digits(0..4), digits(4..6), digits(6..8));
        if year == 0 {
            return Timespec::default();
        }
        let t = to_unix(year, month, day, digits(8..10), digits(10..12), digits(12..14), b[16] as i8);
        return Timespec { tv_sec: t, tv_nsec: digits(14..16) * 10_000_000 };
    }
    if b.len() < 7 || b[..6].iter().all(|&x| x == 0) {
        return Timespec::default();
    }
    let t = to_unix(1900 + b[0] as i64, b[1] as i64, b[2] as i64, b[3] as i64, b[4] as i64, b[5] as i64, b[6] as i8);
    Timespec { tv_sec: t, tv_nsec: 0 }
}

pub const FLAG_DIRECTORY: u8 = 0x02;
pub const FLAG_ASSOCIATED: u8 = 0x04;
pub const FLAG_MULTI_EXTENT: u8 = 0x80;

/// One directory record.
pub struct Record<'a> {
    pub extent: u32,
    pub size: u32,
    pub date: Timespec,
    pub flags: u8,
    pub name: &'a [u8],
    /// The System Use area (Rock Ridge lives here).
    pub system_use: &'a [u8],
}

/// Parses the record at the start of `b` (whose first byte is its length).
pub fn record(b: &[u8]) -> KResult<Record<'_>> {
    let len = *b.first().ok_or(Errno::EIO)? as usize;
    if len < 34 || len > b.len() {
        return Err(Errno::EIO);
    }
    let r = &b[..len];
    let name_len = r[32] as usize;
    if 33 + name_len > len {
        return Err(Errno::EIO);
    }
    // The System Use area starts after the name and its padding byte.
    let su_start = (33 + name_len + (1 - name_len % 2)).min(len);
    Ok(Record {
        extent: both_u32(r, 2),
        size: both_u32(r, 10),
        date: iso_time(&r[18..25]),
        flags: r[25],
        name: &r[33..33 + name_len],
        system_use: &r[su_start..],
    })
}

/// Linux's isofs_name_translate (map=normal): lower case, no ";1" or
/// ".;1", other ';' (and '/') as '.'.
pub fn plain_name(raw: &[u8], lower: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let len = raw.len();
    for (i, &c) in raw.iter().enumerate() {
        if c == 0 {
            break;
        }
        if !lower {
            out.push(c);
            continue;
        }
        if c == b'.' && i + 3 == len && raw[i + 1] == b';' && raw[i + 2] == b'1' {
            break;
        }
        if c == b';' && i + 2 == len && raw[i + 1] == b'1' {
            break;
        }
        out.push(match c {
            b'A'..=b'Z' => c | 0x20,
            b';' | b'/' => b'.',
            _ => c,
        });
    }
    out
}

/// Joliet's UCS-2 big-endian name as UTF-8, without ";1" and trailing dots.
pub fn joliet_name(raw: &[u8]) -> Vec<u8> {
    let units: Vec<u16> = raw.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
    let mut s: String = char::decode_utf16(units).map(|c| c.unwrap_or('\u{fffd}')).map(|c| if c == '/' { '_' } else { c }).collect();
    if s.ends_with(";1") {
        s.truncate(s.len() - 2);
    }
    while s.len() >= 2 && s.ends_with('.') {
        s.pop();
    }
    s.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_are_translated_like_linux() {
        assert_eq!(plain_name(b"README.TXT;1", true), b"readme.txt");
        assert_eq!(plain_name(b"MAKEFILE.;1", true), b"makefile");
        assert_eq!(plain_name(b"A;B;1", true), b"a.b");
        assert_eq!(plain_name(b"README.TXT;1", false), b"README.TXT;1");
    }

    #[test]
    fn joliet_names_decode_ucs2() {
        let raw: Vec<u8> = "Größe.txt;1".encode_utf16().flat_map(|u| u.to_be_bytes()).collect();
        assert_eq!(joliet_name(&raw), "Größe.txt".as_bytes());
    }

    #[test]
    fn dates_convert_with_their_offset() {
        // 2020-01-02 03:04:05 at GMT+1 (4 quarter hours).
        assert_eq!(iso_time(&[120, 1, 2, 3, 4, 5, 4]).tv_sec, 1577934245 - 3600);
        assert_eq!(iso_time(b"2020010203040550\x00").tv_sec, 1577934245);
        assert_eq!(iso_time(&[0; 7]).tv_sec, 0);
    }

    #[test]
    fn short_records_are_eio() {
        assert!(record(&[10; 10]).is_err());
        assert!(record(&[]).is_err());
    }
}
