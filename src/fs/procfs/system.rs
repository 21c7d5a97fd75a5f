//! The system-wide files of /proc: meminfo, cpuinfo, uptime, loadavg,
//! stat, version, filesystems, and the mount tables.

use crate::abi::PAGE_SIZE;
use std::sync::Arc;

use crate::fs::path::{MNT_NOATIME, MNT_NODEV, MNT_NODIRATIME, MNT_NOEXEC, MNT_NOSUID, MNT_NOSYMFOLLOW, MNT_READONLY, MNT_RELATIME, Mount, MountTable, Path};
use crate::fs::procfs::{Global, ProcessView};
use crate::fs::{dev_major, dev_minor};

/// Clock ticks per second as /proc reports times (USER_HZ).
pub const USER_HZ: u64 = 100;

fn kb_line(out: &mut String, name: &str, kb: u64) {
    use std::fmt::Write;
    let label = format!("{name}:");
    let _ = writeln!(out, "{label:<16}{kb:>8} kB");
}

fn host_release() -> String {
    String::from_utf8_lossy(&crate::platform::host::system::kernel_release().0).into_owned()
}

fn cpu_count() -> usize {
    crate::platform::host::system::cpu_count()
}

pub fn global_content(view: &dyn ProcessView, g: Global) -> Vec<u8> {
    use std::fmt::Write;
    let mut s = String::new();
    let uptime_ns = crate::sched::clock::monotonic_ns();
    match g {
        Global::Meminfo => {
            let ram = crate::mm::frame::guest_ram();
            let total = ram.total_frames() * (PAGE_SIZE / 1024);
            let free = ram.free_frame_count() * (PAGE_SIZE / 1024);
            for (name, v) in [
                ("MemTotal", total),
                ("MemFree", free),
                ("MemAvailable", free),
                ("Buffers", 0),
                ("Cached", 0),
                ("SwapCached", 0),
                ("Active", 0),
                ("Inactive", 0),
                ("SwapTotal", 0),
                ("SwapFree", 0),
                ("Dirty", 0),
                ("Writeback", 0),
                ("AnonPages", total.saturating_sub(free)),
                ("Mapped", 0),
                ("Shmem", 0),
                ("Slab", 0),
                ("CommitLimit", total),
                ("Committed_AS", total.saturating_sub(free)),
                ("VmallocTotal", 34359738367),
                ("VmallocUsed", 0),
                ("VmallocChunk", 0),
                ("HugePages_Total", 0),
            ] {
                if name.starts_with("HugePages") {
                    let _ = writeln!(s, "{:<16}{v:>8}", format!("{name}:"));
                } else {
                    kb_line(&mut s, name, v);
                }
            }
            kb_line(&mut s, "Hugepagesize", 2048);
        }
        Global::Cpuinfo => return crate::platform::host::system::cpuinfo(),
        Global::Uptime => {
            let cs = uptime_ns / 10_000_000;
            let idle = cs * cpu_count() as u64;
            let _ = writeln!(s, "{}.{:02} {}.{:02}", cs / 100, cs % 100, idle / 100, idle % 100);
        }
        Global::Partitions => {
            // Linux's show_partition: 1 KiB blocks.
            s.push_str("major minor  #blocks  name\n\n");
            for n in crate::fs::blkdev::all_nodes() {
                let _ = writeln!(s, "{:4}  {:7} {:10} {}", n.major, n.minor, n.device.size() / 1024, n.name);
            }
        }
        Global::Filesystems => {
            s.push_str(&crate::fs::fstype::proc_filesystems());
        }
        Global::Loadavg => {
            let (count, last) = view.task_counts();
            let _ = writeln!(s, "0.00 0.00 0.00 1/{count} {last}");
        }
        Global::Stat => {
            let ticks = uptime_ns / (1_000_000_000 / USER_HZ);
            let _ = writeln!(s, "cpu  0 0 0 {} 0 0 0 0 0 0", ticks * cpu_count() as u64);
            for i in 0..cpu_count() {
                let _ = writeln!(s, "cpu{i} 0 0 0 {ticks} 0 0 0 0 0 0");
            }
            let btime = (crate::sched::clock::boot_realtime_ns() / 1_000_000_000) as i64;
            let _ = writeln!(
                s,
                "intr 0\nctxt 0\nbtime {btime}\nprocesses {}\nprocs_running 1\nprocs_blocked 0\nsoftirq 0 0 0 0 0 0 0 0 0 0 0",
                view.task_counts().0
            );
        }
        Global::Version => {
            let _ = writeln!(s, "Linux version {} (vkernel) #1 SMP PREEMPT_DYNAMIC", host_release());
        }
    }
    s.into_bytes()
}

/// Linux's mangle() for /proc/mounts fields: space, tab, newline, backslash.
fn escape_mount_field(field: &[u8]) -> String {
    let mut out = String::new();
    for &c in field {
        match c {
            b' ' | b'\t' | b'\n' | b'\\' => out.push_str(&format!("\\{c:03o}")),
            _ => out.push(c as char),
        }
    }
    out
}

/// Where `m` is mounted as seen from `root`; None when it lies outside
/// (Linux skips those mounts in /proc/<pid>/mounts).
fn mount_point(m: &Arc<Mount>, root: &Path) -> Option<Vec<u8>> {
    Path { mount: m.clone(), dentry: m.root.clone() }.to_bytes_within(root)
}

/// The per-mount options in Linux's order (show_mnt_opts).
fn mount_flag_options(flags: u32) -> String {
    let mut s = String::new();
    for (bit, name) in [
        (MNT_NOSUID, ",nosuid"),
        (MNT_NODEV, ",nodev"),
        (MNT_NOEXEC, ",noexec"),
        (MNT_NOATIME, ",noatime"),
        (MNT_NODIRATIME, ",nodiratime"),
        (MNT_RELATIME, ",relatime"),
        (MNT_NOSYMFOLLOW, ",nosymfollow"),
    ] {
        if flags & bit != 0 {
            s.push_str(name);
        }
    }
    s
}

fn fs_options(m: &Mount) -> String {
    let o = m.sb.options.read();
    if o.is_empty() { String::new() } else { format!(",{o}") }
}

/// /proc/<pid>/mounts: every mount visible from `root`, oldest first
/// (Linux: show_vfsmnt).
pub fn mounts_content(mounts: &MountTable, root: &Path) -> Vec<u8> {
    let mut s = String::new();
    for m in mounts.all() {
        let Some(point) = mount_point(&m, root) else { continue };
        let rw = if m.read_only() { "ro" } else { "rw" };
        s.push_str(&format!(
            "{} {} {} {rw}{}{} 0 0\n",
            escape_mount_field(m.source.as_bytes()),
            escape_mount_field(&point),
            m.fstype,
            mount_flag_options(m.flags()),
            fs_options(&m)
        ));
    }
    s.into_bytes()
}

/// /proc/<pid>/mountinfo (Linux: show_mountinfo): the mount's own ro/rw
/// and flags before the " - ", the superblock's after it.
pub fn mountinfo_content(mounts: &MountTable, root: &Path) -> Vec<u8> {
    let mut s = String::new();
    for m in mounts.all() {
        let Some(point) = mount_point(&m, root) else { continue };
        let parent_id = m.mountpoint().map(|(p, _)| p.id).unwrap_or(m.id);
        let dev = m.sb.dev;
        let mnt_rw = if m.flags() & MNT_READONLY != 0 { "ro" } else { "rw" };
        let sb_rw = if m.sb.read_only() { "ro" } else { "rw" };
        s.push_str(&format!(
            "{} {parent_id} {}:{} {} {} {mnt_rw}{} - {} {} {sb_rw}{}\n",
            m.id,
            dev_major(dev),
            dev_minor(dev),
            escape_mount_field(&m.root_path),
            escape_mount_field(&point),
            mount_flag_options(m.flags()),
            m.fstype,
            escape_mount_field(m.source.as_bytes()),
            fs_options(&m),
        ));
    }
    s.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_fields_are_escaped() {
        assert_eq!(escape_mount_field(b"a b\\c"), "a\\040b\\134c");
    }

    #[test]
    fn meminfo_lines_are_aligned() {
        let mut s = String::new();
        kb_line(&mut s, "MemTotal", 65536);
        assert_eq!(s, "MemTotal:          65536 kB\n");
    }
}
