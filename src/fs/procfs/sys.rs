//! /proc/sys: the kernel settings programs read (glibc's sysconf, Python,
//! gcc, make, systemd tools), in Linux's formats. Writable entries are the
//! guest kernel's own settings (`sched::sysctl`): guest root changes the
//! guest's view, never the host's. Permission is Linux's sysctl test_perm:
//! the entry's mode, owner bits for euid 0 and other bits for everyone
//! else, so even root cannot write a read-only entry.

use crate::abi::{Errno, KResult};
use crate::sched::sysctl;

/// How an entry's value reads and writes.
#[derive(Clone, Copy)]
enum Value {
    Int(fn() -> i64),
    /// An integer the guest may set (proc_dointvec, with Linux's bounds).
    IntSet(fn() -> i64, fn(i64) -> KResult<()>),
    Text(fn() -> Vec<u8>),
    /// A string the guest may set, at most `max` bytes (proc_dostring).
    TextSet(fn() -> Vec<u8>, fn(&[u8]), usize),
}

struct Entry {
    path: &'static str,
    value: Value,
}

fn guest_ram_pages() -> i64 {
    crate::mm::frame::guest_ram().total_frames() as i64
}

fn host_release() -> Vec<u8> {
    crate::platform::host::system::kernel_release().0
}

fn host_version() -> Vec<u8> {
    crate::platform::host::system::kernel_release().1
}

/// The pid numbers vkernel hands out wrap at this (see task::System).
pub const PID_MAX: i64 = 4_194_304;

fn set_bool(value: i64, store: fn(u32)) -> KResult<()> {
    if !(0..=1).contains(&value) {
        return Err(Errno::EINVAL);
    }
    store(value as u32);
    Ok(())
}

static ENTRIES: &[Entry] = &[
    Entry { path: "fs/file-max", value: Value::Int(|| (guest_ram_pages() * 4 / 10).max(8192)) },
    Entry { path: "fs/file-nr", value: Value::Text(|| format!("0\t0\t{}\n", (guest_ram_pages() * 4 / 10).max(8192)).into_bytes()) },
    Entry { path: "fs/nr_open", value: Value::Int(|| 1 << 20) },
    Entry { path: "fs/pipe-max-size", value: Value::Int(|| 1 << 20) },
    Entry { path: "fs/pipe-user-pages-hard", value: Value::Int(|| 0) },
    Entry { path: "fs/pipe-user-pages-soft", value: Value::Int(|| 16384) },
    Entry { path: "fs/protected_hardlinks", value: Value::Int(|| 0) },
    Entry { path: "fs/protected_symlinks", value: Value::Int(|| 0) },
    Entry { path: "kernel/cap_last_cap", value: Value::Int(|| crate::sched::cred::last_cap() as i64) },
    Entry { path: "kernel/core_pattern", value: Value::TextSet(sysctl::core_pattern, sysctl::set_core_pattern, sysctl::CORENAME_MAX_SIZE - 1) },
    Entry {
        path: "kernel/core_uses_pid",
        value: Value::IntSet(
            || sysctl::core_uses_pid() as i64,
            |v| {
                sysctl::set_core_uses_pid(v as u32);
                Ok(())
            },
        ),
    },
    Entry { path: "kernel/dmesg_restrict", value: Value::IntSet(|| sysctl::dmesg_restrict() as i64, |v| set_bool(v, sysctl::set_dmesg_restrict)) },
    Entry { path: "kernel/domainname", value: Value::TextSet(sysctl::domainname, sysctl::set_domainname, sysctl::UTS_NAME_LEN) },
    Entry { path: "kernel/hostname", value: Value::TextSet(sysctl::hostname, sysctl::set_hostname, sysctl::UTS_NAME_LEN) },
    Entry { path: "kernel/ngroups_max", value: Value::Int(|| crate::abi::limits::NGROUPS_MAX as i64) },
    Entry { path: "kernel/osrelease", value: Value::Text(host_release) },
    Entry { path: "kernel/ostype", value: Value::Text(|| b"Linux".to_vec()) },
    Entry { path: "kernel/overflowgid", value: Value::Int(|| 65534) },
    Entry { path: "kernel/overflowuid", value: Value::Int(|| 65534) },
    Entry { path: "kernel/pid_max", value: Value::Int(|| PID_MAX) },
    Entry { path: "kernel/printk", value: Value::Text(|| b"4\t4\t1\t7".to_vec()) },
    Entry { path: "kernel/random/boot_id", value: Value::Text(|| sysctl::uuid_text(sysctl::boot_id()).into_bytes()) },
    Entry { path: "kernel/random/entropy_avail", value: Value::Int(|| 256) },
    Entry { path: "kernel/random/poolsize", value: Value::Int(|| 256) },
    Entry {
        path: "kernel/random/uuid",
        value: Value::Text(|| {
            let mut b = [0u8; 16];
            let _ = crate::platform::host::system::fill_random(&mut b);
            sysctl::uuid_text(b).into_bytes()
        }),
    },
    Entry {
        path: "kernel/randomize_va_space",
        value: Value::IntSet(
            || sysctl::randomize_va_space() as i64,
            |v| {
                sysctl::set_randomize_va_space(v as u32);
                Ok(())
            },
        ),
    },
    // Linux's default: RAM / (8 * THREAD_SIZE), THREAD_SIZE 16 KiB.
    Entry { path: "kernel/threads-max", value: Value::Int(|| (guest_ram_pages() / 32).clamp(20, 0x3fff_ffff)) },
    Entry { path: "kernel/version", value: Value::Text(host_version) },
    Entry { path: "vm/max_map_count", value: Value::Int(|| 65530) },
    Entry {
        path: "vm/memfd_noexec",
        value: Value::IntSet(
            || sysctl::memfd_noexec() as i64,
            |v| {
                if !(0..=2).contains(&v) {
                    return Err(Errno::EINVAL);
                }
                sysctl::set_memfd_noexec(v as u32);
                Ok(())
            },
        ),
    },
    Entry { path: "vm/overcommit_memory", value: Value::Int(|| 0) },
    Entry { path: "vm/overcommit_ratio", value: Value::Int(|| 50) },
];

/// The directories: /proc/sys itself first.
static DIRS: &[&str] = &["", "fs", "kernel", "kernel/random", "vm"];

/// A node of /proc/sys: a directory or an entry, by index.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SysNode {
    Dir(u16),
    File(u16),
}

pub const ROOT: SysNode = SysNode::Dir(0);

fn dir_path(dir: u16) -> &'static str {
    DIRS.get(dir as usize).copied().unwrap_or("")
}

fn child_path(dir: u16, name: &str) -> String {
    let parent = dir_path(dir);
    if parent.is_empty() { name.to_string() } else { format!("{parent}/{name}") }
}

/// The name of `node` in its directory and where it sits.
fn split(path: &str) -> (&str, &str) {
    path.rsplit_once('/').unwrap_or(("", path))
}

pub fn lookup(dir: u16, name: &[u8]) -> KResult<SysNode> {
    let name = std::str::from_utf8(name).map_err(|_| Errno::ENOENT)?;
    let full = child_path(dir, name);
    if let Some(i) = DIRS.iter().position(|d| *d == full && !d.is_empty()) {
        return Ok(SysNode::Dir(i as u16));
    }
    ENTRIES.iter().position(|e| e.path == full).map(|i| SysNode::File(i as u16)).ok_or(Errno::ENOENT)
}

/// (name, node) of each entry of `dir`, subdirectories first.
pub fn list(dir: u16) -> Vec<(&'static str, SysNode)> {
    let me = dir_path(dir);
    let mut out: Vec<(&'static str, SysNode)> = Vec::new();
    for (i, d) in DIRS.iter().enumerate().skip(1) {
        let (parent, name) = split(d);
        if parent == me {
            out.push((name, SysNode::Dir(i as u16)));
        }
    }
    for (i, e) in ENTRIES.iter().enumerate() {
        let (parent, name) = split(e.path);
        if parent == me {
            out.push((name, SysNode::File(i as u16)));
        }
    }
    out
}

/// The parent directory of `node`.
pub fn parent(node: SysNode) -> Option<SysNode> {
    let path = match node {
        SysNode::Dir(0) => return None,
        SysNode::Dir(d) => dir_path(d),
        SysNode::File(f) => ENTRIES.get(f as usize)?.path,
    };
    let (parent, _) = split(path);
    DIRS.iter().position(|d| *d == parent).map(|i| SysNode::Dir(i as u16))
}

/// Permission bits: 0644 for what the guest may set, 0444 otherwise.
pub fn mode(node: SysNode) -> u32 {
    match node {
        SysNode::Dir(_) => 0o555,
        SysNode::File(f) => match ENTRIES.get(f as usize).map(|e| e.value) {
            Some(Value::IntSet(..)) | Some(Value::TextSet(..)) => 0o644,
            _ => 0o444,
        },
    }
}

/// Linux's sysctl test_perm for an open with access `want` (MAY_READ,
/// MAY_WRITE bits): root is judged by the owner bits, others by the rest.
pub fn may_open(node: SysNode, euid: u32, want: u32) -> KResult<()> {
    let mode = mode(node);
    let bits = if euid == 0 { (mode >> 6) & 7 } else { mode & 7 };
    if want & !bits & 7 == 0 { Ok(()) } else { Err(Errno::EACCES) }
}

/// The text an entry reads as (newline-terminated).
pub fn read(file: u16) -> KResult<Vec<u8>> {
    let entry = ENTRIES.get(file as usize).ok_or(Errno::ENOENT)?;
    let mut out = match entry.value {
        Value::Int(get) | Value::IntSet(get, _) => get().to_string().into_bytes(),
        Value::Text(get) | Value::TextSet(get, _, _) => get(),
    };
    if out.last() != Some(&b'\n') {
        out.push(b'\n');
    }
    Ok(out)
}

/// Linux's proc_get_long: optional blanks, an optional sign, digits, then
/// only blanks or a newline.
fn parse_int(data: &[u8]) -> KResult<i64> {
    let text = std::str::from_utf8(data).map_err(|_| Errno::EINVAL)?;
    let text = text.trim_start_matches([' ', '\t', '\n']);
    let end = text.find([' ', '\t', '\n']).unwrap_or(text.len());
    if !text[end..].trim().is_empty() {
        return Err(Errno::EINVAL);
    }
    text[..end].parse::<i64>().ok().filter(|v| i32::try_from(*v).is_ok()).ok_or(Errno::EINVAL)
}

/// Writes `data` to an entry (the whole value, from offset 0).
pub fn write(file: u16, data: &[u8]) -> KResult<usize> {
    let entry = ENTRIES.get(file as usize).ok_or(Errno::ENOENT)?;
    match entry.value {
        Value::IntSet(_, set) => set(parse_int(data)?)?,
        Value::TextSet(_, set, max) => {
            // proc_dostring: up to the first newline or NUL, at most `max`.
            let end = data.iter().position(|&c| c == b'\n' || c == 0).unwrap_or(data.len()).min(max);
            set(&data[..end]);
        }
        _ => return Err(Errno::EACCES),
    }
    Ok(data.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tree_resolves_both_ways() {
        let kernel = lookup(0, b"kernel").unwrap();
        let SysNode::Dir(k) = kernel else { panic!("kernel is a directory") };
        let random = lookup(k, b"random").unwrap();
        assert_eq!(parent(random), Some(kernel));
        let SysNode::Dir(r) = random else { panic!("random is a directory") };
        let boot_id = lookup(r, b"boot_id").unwrap();
        assert_eq!(parent(boot_id), Some(random));
        assert_eq!(lookup(k, b"nonesuch"), Err(Errno::ENOENT));
        assert!(list(0).iter().any(|(n, _)| *n == "vm"));
        assert!(list(k).iter().any(|(n, _)| *n == "hostname"));
    }

    #[test]
    fn integers_parse_like_proc_dointvec() {
        assert_eq!(parse_int(b"2\n"), Ok(2));
        assert_eq!(parse_int(b"  -1 "), Ok(-1));
        assert_eq!(parse_int(b"1x"), Err(Errno::EINVAL));
        assert_eq!(parse_int(b""), Err(Errno::EINVAL));
        assert_eq!(parse_int(b"99999999999"), Err(Errno::EINVAL));
    }

    #[test]
    fn read_only_entries_refuse_root_too() {
        let SysNode::Dir(k) = lookup(0, b"kernel").unwrap() else { panic!() };
        let ostype = lookup(k, b"ostype").unwrap();
        assert_eq!(may_open(ostype, 0, 2), Err(Errno::EACCES));
        assert_eq!(may_open(ostype, 1000, 4), Ok(()));
        let hostname = lookup(k, b"hostname").unwrap();
        assert_eq!(may_open(hostname, 0, 6), Ok(()));
        assert_eq!(may_open(hostname, 1000, 2), Err(Errno::EACCES));
    }
}
