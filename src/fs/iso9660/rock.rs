//! Rock Ridge (RRIP over SUSP): POSIX names, modes, owners, link counts,
//! device numbers, symlinks, time stamps and directory relocation, read
//! from a directory record's System Use area and its continuation areas
//! as Linux's fs/isofs/rock.c reads them. Every length is checked; a
//! malformed entry ends the parse of that record (the record keeps what
//! was read before it), and continuation chains are bounded.

use crate::abi::Timespec;

use super::dir::{both_u32, iso_time};

/// What Rock Ridge says about one directory record.
#[derive(Clone, Debug, Default)]
pub struct RockInfo {
    pub name: Option<Vec<u8>>,
    pub mode: Option<u32>,
    pub nlink: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    /// (major, minor) from PN.
    pub device: Option<(u32, u32)>,
    pub symlink: Option<Vec<u8>>,
    pub ctime: Option<Timespec>,
    pub mtime: Option<Timespec>,
    pub atime: Option<Timespec>,
    /// CL: this entry is a relocated directory living at that block.
    pub child_link: Option<u32>,
    /// RE: this record is the relocated directory itself (hidden).
    pub relocated: bool,
}

/// Linux's RR_MAX_CE_ENTRIES.
const MAX_CONTINUATIONS: usize = 32;
/// Bound on a symlink target or name assembled from pieces.
const MAX_ASSEMBLED: usize = 4096;

/// Reads `len` bytes at `block`*bs+`offset` for a CE continuation.
pub type ReadArea<'a> = dyn FnMut(u32, u32, u32) -> Option<Vec<u8>> + 'a;

/// Parses the System Use area `area` (already past the SP skip bytes).
pub fn parse(area: &[u8], read_area: &mut ReadArea<'_>) -> RockInfo {
    let mut info = RockInfo::default();
    let mut name = Vec::new();
    let mut name_done = false;
    let mut link = Vec::new();
    let mut link_open = false;
    let mut link_seen = false;
    let mut areas = 0;
    let mut current = area.to_vec();
    loop {
        let mut continuation = None;
        let mut pos = 0;
        while pos + 4 <= current.len() {
            let (sig, len) = ([current[pos], current[pos + 1]], current[pos + 2] as usize);
            if len < 4 || pos + len > current.len() {
                break;
            }
            let e = &current[pos..pos + len];
            match &sig {
                b"CE" if len >= 28 => continuation = Some((both_u32(e, 4), both_u32(e, 12), both_u32(e, 20))),
                b"PX" if len >= 36 => {
                    info.mode = Some(both_u32(e, 4));
                    info.nlink = Some(both_u32(e, 12));
                    info.uid = Some(both_u32(e, 20));
                    info.gid = Some(both_u32(e, 28));
                }
                b"PN" if len >= 20 => {
                    let (high, low) = (both_u32(e, 4), both_u32(e, 12));
                    // rock.c: writers with a 32-bit dev_t put it all in low.
                    info.device = Some(if low & !0xff != 0 && high == 0 { (low >> 8, low & 0xff) } else { (high, low) });
                }
                b"NM" if len >= 5 && !name_done => {
                    let flags = e[4];
                    if flags & 0x06 == 0 && name.len() + len - 5 <= MAX_ASSEMBLED {
                        name.extend_from_slice(&e[5..]);
                    }
                    if flags & 0x01 == 0 {
                        name_done = true;
                    }
                }
                b"SL" if len >= 5 => {
                    link_seen = true;
                    let continues = e[4] & 0x01 != 0;
                    let mut c = 5;
                    while c + 2 <= e.len() {
                        let (cflags, clen) = (e[c], e[c + 1] as usize);
                        if c + 2 + clen > e.len() {
                            break;
                        }
                        let text = &e[c + 2..c + 2 + clen];
                        if !link_open && !link.is_empty() && link != b"/" {
                            link.push(b'/');
                        }
                        if cflags & 0x02 != 0 {
                            link.push(b'.');
                        } else if cflags & 0x04 != 0 {
                            link.extend_from_slice(b"..");
                        } else if cflags & 0x08 != 0 {
                            link.clear();
                            link.push(b'/');
                        } else {
                            link.extend_from_slice(text);
                        }
                        link_open = cflags & 0x01 != 0;
                        if link.len() > MAX_ASSEMBLED {
                            link.truncate(MAX_ASSEMBLED);
                        }
                        c += 2 + clen;
                    }
                    if !continues {
                        link_open = false;
                    }
                }
                b"TF" if len >= 5 => {
                    let flags = e[4];
                    let size = if flags & 0x80 != 0 { 17 } else { 7 };
                    let mut t = 5;
                    let mut next = |present: bool| -> Option<Timespec> {
                        if !present || t + size > e.len() {
                            return None;
                        }
                        let ts = iso_time(&e[t..t + size]);
                        t += size;
                        Some(ts)
                    };
                    // rock.c: creation time and attribute time both set ctime.
                    if let Some(c) = next(flags & 0x01 != 0) {
                        info.ctime = Some(c);
                    }
                    info.mtime = next(flags & 0x02 != 0).or(info.mtime);
                    info.atime = next(flags & 0x04 != 0).or(info.atime);
                    if let Some(c) = next(flags & 0x08 != 0) {
                        info.ctime = Some(c);
                    }
                }
                b"CL" if len >= 12 => info.child_link = Some(both_u32(e, 4)),
                b"RE" => info.relocated = true,
                b"ST" => break,
                _ => {}
            }
            pos += len;
        }
        areas += 1;
        match continuation {
            Some((block, offset, len)) if areas <= MAX_CONTINUATIONS && len > 0 => match read_area(block, offset, len) {
                Some(next) => current = next,
                None => break,
            },
            _ => break,
        }
    }
    if !name.is_empty() {
        info.name = Some(name);
    }
    if link_seen {
        info.symlink = Some(link);
    }
    info
}

/// Is there an SP entry (Rock Ridge in use) at the start of the root's
/// "." System Use area? Returns its skip count.
pub fn find_sp(area: &[u8]) -> Option<usize> {
    if area.len() >= 7 && &area[..2] == b"SP" && area[2] >= 7 && area[4] == 0xbe && area[5] == 0xef { Some(area[6] as usize) } else { None }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(sig: &[u8; 2], body: &[u8]) -> Vec<u8> {
        let mut e = vec![sig[0], sig[1], (body.len() + 4) as u8, 1];
        e.extend_from_slice(body);
        e
    }

    #[test]
    fn symlink_components_assemble_like_linux() {
        // "/usr/../lib" split over two components and a root marker.
        let mut body = vec![0u8];
        body.extend_from_slice(&[0x08, 0]);
        body.extend_from_slice(&[0, 3]);
        body.extend_from_slice(b"usr");
        body.extend_from_slice(&[0x04, 0]);
        body.extend_from_slice(&[0, 3]);
        body.extend_from_slice(b"lib");
        let info = parse(&entry(b"SL", &body), &mut |_, _, _| None);
        assert_eq!(info.symlink.as_deref(), Some(&b"/usr/../lib"[..]));
    }

    #[test]
    fn names_continue_and_garbage_stops_the_parse() {
        let mut area = entry(b"NM", b"\x01long");
        area.extend(entry(b"NM", b"\x00name"));
        area.extend([b'P', b'X', 200, 1]);
        let info = parse(&area, &mut |_, _, _| None);
        assert_eq!(info.name.as_deref(), Some(&b"longname"[..]));
        assert_eq!(info.mode, None);
    }
}
