//! What /proc shows of processes: the task layer's side of procfs. The
//! filesystem (fs/procfs) asks through `ProcessView` and `ProcTask`; the
//! per-process files (stat, status, maps, ...) are generated here from the
//! task's own state.

use std::sync::Arc;

use crate::abi::mman::{MAP_SHARED, PROT_EXEC, PROT_READ, PROT_WRITE};
use crate::abi::{KResult, PAGE_SIZE};
use crate::fs::file::File;
use crate::fs::path::{MountTable, Path};
use crate::fs::procfs::{PidFile, ProcTask, ProcessView, USER_HZ, mountinfo_content, mounts_content};
use crate::fs::{dev_major, dev_minor};
use crate::mm::vma::Backing;
use crate::task::Task;
use crate::task::system::System;

impl ProcessView for System {
    fn process_ids(&self) -> Vec<i32> {
        self.live_tasks().iter().filter(|t| t.tid() == t.tgid).map(|t| t.tid()).collect()
    }

    fn thread_ids(&self, tgid: i32) -> Vec<i32> {
        self.live_tasks().iter().filter(|t| t.tgid == tgid).map(|t| t.tid()).collect()
    }

    fn task(&self, tid: i32) -> Option<Arc<dyn ProcTask>> {
        System::task(self, tid).map(|t| Arc::new(ProcEntry(t)) as Arc<dyn ProcTask>)
    }

    fn task_counts(&self) -> (usize, i32) {
        let tasks = self.live_tasks();
        (tasks.len(), tasks.iter().map(|t| t.tid()).max().unwrap_or(1))
    }

    fn root(&self) -> Option<Path> {
        self.root.lock().clone()
    }

    fn mounts(&self) -> &MountTable {
        &self.mounts
    }
}

/// A task seen through /proc.
struct ProcEntry(Arc<Task>);

impl ProcTask for ProcEntry {
    fn tid(&self) -> i32 {
        self.0.tid()
    }

    fn tgid(&self) -> i32 {
        self.0.tgid
    }

    fn owner(&self) -> (u32, u32) {
        let c = self.0.creds();
        (c.euid, c.egid)
    }

    fn file(&self, fd: i32) -> KResult<(Arc<File>, bool)> {
        let files = self.0.files();
        let e = files.entry(fd)?;
        Ok((e.file.clone(), e.cloexec))
    }

    fn fds(&self) -> Vec<i32> {
        self.0.files().fds()
    }

    fn cwd(&self) -> Path {
        self.0.fs().cwd.clone()
    }

    fn root(&self) -> Path {
        self.0.fs().root.clone()
    }

    fn exe(&self) -> Vec<u8> {
        self.0.exe.lock().clone()
    }

    fn set_comm(&self, name: &[u8]) {
        self.0.set_comm(name);
    }

    fn content(&self, file: PidFile) -> Vec<u8> {
        pid_content(&self.0.system, &self.0, file)
    }
}

fn read_guest_range(task: &Task, start: u64, end: u64) -> Vec<u8> {
    if end <= start || end - start > 1 << 24 {
        return Vec::new();
    }
    task.mm().read_bytes(start, (end - start) as usize).unwrap_or_default()
}

/// Threads in `task`'s thread group.
fn thread_count(system: &System, task: &Task) -> usize {
    system.live_tasks().iter().filter(|t| t.tgid == task.tgid).count().max(1)
}

/// 'S' while the task sleeps in the kernel, 'R' otherwise (running guest
/// code or a system call).
fn state_char(task: &Task) -> char {
    if task.sleeper.is_asleep() { 'S' } else { 'R' }
}

fn pid_content(system: &System, task: &Arc<Task>, f: PidFile) -> Vec<u8> {
    use std::fmt::Write;
    let mut s = String::new();
    let comm = String::from_utf8_lossy(&task.comm()).into_owned();
    match f {
        PidFile::Cmdline => {
            let (start, end) = {
                let mm = task.mm();
                let st = mm.lock();
                (st.arg_start, st.arg_end)
            };
            return read_guest_range(task, start, end);
        }
        PidFile::Environ => {
            let (start, end) = {
                let mm = task.mm();
                let st = mm.lock();
                (st.env_start, st.env_end)
            };
            return read_guest_range(task, start, end);
        }
        PidFile::Comm => {
            let _ = writeln!(s, "{comm}");
        }
        PidFile::Maps => return maps_content(task),
        PidFile::Mounts => {
            let root = task.fs().root.clone();
            return mounts_content(&system.mounts, &root);
        }
        PidFile::Mountinfo => {
            let root = task.fs().root.clone();
            return mountinfo_content(&system.mounts, &root);
        }
        PidFile::Statm => {
            let mm = task.mm();
            let _ = writeln!(s, "{} {} 0 0 0 0 0", mm.total_vm_pages(), mm.resident_pages());
        }
        PidFile::Stat => {
            let mm = task.mm();
            let (vsize, rss) = (mm.total_vm_pages() * PAGE_SIZE, mm.resident_pages());
            let (start_stack, arg_start, arg_end, env_start, env_end, brk_start) = {
                let st = mm.lock();
                (st.stack_top, st.arg_start, st.arg_end, st.env_start, st.env_end, st.brk_start)
            };
            let start_ticks = task.start_time_ns / (1_000_000_000 / USER_HZ);
            let blocked = task.signals.lock().blocked;
            let (ign, cgt) = signal_sets(task);
            let (tty_nr, tpgid) = crate::tty::proc_stat_tty(task.sid());
            let _ = writeln!(
                s,
                "{} ({comm}) {} {} {} {} {tty_nr} {tpgid} 4194304 0 0 0 0 0 0 0 0 20 0 {} 0 {start_ticks} {vsize} {rss} 18446744073709551615 0 0 {start_stack} 0 0 0 {blocked} {ign} {cgt} 0 0 0 17 0 0 0 0 0 0 0 0 {brk_start} {arg_start} {arg_end} {env_start} {env_end} 0",
                task.tid(),
                state_char(task),
                task.ppid(),
                task.pgid(),
                task.sid(),
                thread_count(system, task),
            );
        }
        PidFile::Status => {
            let c = task.creds();
            let mm = task.mm();
            let (vm_kb, rss_kb) = (mm.total_vm_pages() * 4, mm.resident_pages() * 4);
            let umask = task.fs().umask;
            let blocked = task.signals.lock().blocked;
            let (ign, cgt) = signal_sets(task);
            let groups: Vec<String> = c.groups.iter().map(|g| g.to_string()).collect();
            let state = match state_char(task) {
                'R' => "R (running)",
                _ => "S (sleeping)",
            };
            let ncpu = crate::platform::host::system::cpu_count();
            let _ = write!(
                s,
                "Name:\t{comm}\nUmask:\t{umask:04o}\nState:\t{state}\nTgid:\t{tgid}\nNgid:\t0\nPid:\t{tid}\nPPid:\t{ppid}\nTracerPid:\t0\n\
                 Uid:\t{}\t{}\t{}\t{}\nGid:\t{}\t{}\t{}\t{}\nFDSize:\t{fdsize}\nGroups:\t{groups} \n\
                 NStgid:\t{tgid}\nNSpid:\t{tid}\nNSpgid:\t{pgid}\nNSsid:\t{sid}\n\
                 VmPeak:\t{vm_kb:>8} kB\nVmSize:\t{vm_kb:>8} kB\nVmLck:\t{z:>8} kB\nVmPin:\t{z:>8} kB\nVmHWM:\t{rss_kb:>8} kB\nVmRSS:\t{rss_kb:>8} kB\n\
                 RssAnon:\t{rss_kb:>8} kB\nRssFile:\t{z:>8} kB\nRssShmem:\t{z:>8} kB\nVmData:\t{z:>8} kB\nVmStk:\t{z:>8} kB\nVmExe:\t{z:>8} kB\n\
                 VmLib:\t{z:>8} kB\nVmPTE:\t{z:>8} kB\nVmSwap:\t{z:>8} kB\nThreads:\t{threads}\nSigQ:\t0/63498\nSigPnd:\t{z:016x}\nShdPnd:\t{z:016x}\n\
                 SigBlk:\t{blocked:016x}\nSigIgn:\t{ign:016x}\nSigCgt:\t{cgt:016x}\nCapInh:\t{z:016x}\nCapPrm:\t{caps:016x}\nCapEff:\t{caps:016x}\n\
                 CapBnd:\t000001ffffffffff\nCapAmb:\t{z:016x}\nNoNewPrivs:\t0\nSeccomp:\t0\nCpus_allowed:\t{cpus:x}\nCpus_allowed_list:\t0-{last_cpu}\n\
                 voluntary_ctxt_switches:\t0\nnonvoluntary_ctxt_switches:\t0\n",
                c.uid,
                c.euid,
                c.suid,
                c.fsuid,
                c.gid,
                c.egid,
                c.sgid,
                c.fsgid,
                tgid = task.tgid,
                tid = task.tid(),
                ppid = task.ppid(),
                pgid = task.pgid(),
                sid = task.sid(),
                fdsize = task.files().fds().last().map(|&f| ((f as u32 + 1).next_power_of_two()).max(64)).unwrap_or(64),
                groups = groups.join(" "),
                threads = thread_count(system, task),
                z = 0u64,
                caps = if c.euid == 0 { 0x1ff_ffff_ffffu64 } else { 0 },
                cpus = (1u64 << ncpu.min(63)) - 1,
                last_cpu = ncpu - 1,
            );
        }
    }
    s.into_bytes()
}

/// (ignored, caught) signal sets of a task's thread group.
fn signal_sets(task: &Task) -> (u64, u64) {
    let actions = task.sigactions.lock();
    let (mut ign, mut cgt) = (0u64, 0u64);
    for (i, a) in actions.actions.iter().enumerate() {
        match a.handler {
            0 => {}
            1 => ign |= 1 << i,
            _ => cgt |= 1 << i,
        }
    }
    (ign, cgt)
}

fn maps_content(task: &Task) -> Vec<u8> {
    use std::fmt::Write;
    let mut s = String::new();
    let mm = task.mm();
    let st = mm.lock();
    for vma in st.vmas.values() {
        let perms = format!(
            "{}{}{}{}",
            if vma.prot & PROT_READ != 0 { 'r' } else { '-' },
            if vma.prot & PROT_WRITE != 0 { 'w' } else { '-' },
            if vma.prot & PROT_EXEC != 0 { 'x' } else { '-' },
            if vma.flags & MAP_SHARED != 0 { 's' } else { 'p' },
        );
        let (offset, dev, ino, name): (u64, u64, u64, Vec<u8>) = match &vma.backing {
            Backing::File { offset, name, dev, ino, .. } => (*offset, *dev, *ino, name.clone()),
            Backing::Shared { pgoff, .. } => (pgoff * PAGE_SIZE, 1, 0, b"/dev/zero (deleted)".to_vec()),
            _ => (0, 0, 0, vma.label.as_bytes().to_vec()),
        };
        let name = if name.is_empty() { vma.label.as_bytes().to_vec() } else { name };
        let line = format!("{:08x}-{:08x} {perms} {offset:08x} {:02x}:{:02x} {ino} ", vma.start, vma.end, dev_major(dev), dev_minor(dev));
        if name.is_empty() {
            let _ = writeln!(s, "{line}");
        } else {
            // Linux pads the name to column 73 (seq_pad).
            let _ = writeln!(s, "{line:<73}{}", String::from_utf8_lossy(&name));
        }
    }
    s.into_bytes()
}
