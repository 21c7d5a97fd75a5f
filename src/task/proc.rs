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

    fn content(&self, file: PidFile) -> Vec<u8> {
        crate::task::proc_files::content(&self.0, file).unwrap_or_else(|| pid_content(&self.0.system, &self.0, file))
    }

    fn write(&self, file: PidFile, data: &[u8]) -> KResult<usize> {
        crate::task::proc_files::write(&self.0, file, data)
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

/// The task's state letter as Linux's task_state_array: T while parked
/// for a group stop, S while sleeping in the kernel, R otherwise (running
/// guest code or on its way in or out of the kernel).
fn state_char(task: &Task) -> char {
    let process = &task.process;
    if matches!(process.state().lifecycle, crate::task::process::Lifecycle::Zombie { .. }) {
        return 'Z';
    }
    if task.sleeper.is_sleeping() {
        if process.is_stopped() && !process.group_stop_pending_for(task) {
            return 'T';
        }
        return 'S';
    }
    'R'
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
            // In pages: size resident shared text lib(0) data dt(0).
            let c = crate::task::proc_files::mem_counts(task);
            let pages = |b: u64| b / PAGE_SIZE;
            let rss = c.rss_anon + c.rss_file + c.rss_shmem;
            let _ = writeln!(s, "{} {} {} {} 0 {} 0", pages(c.total), pages(rss), pages(c.rss_file + c.rss_shmem), pages(c.exe), pages(c.data + c.stack));
        }
        PidFile::Stat => {
            let c = crate::task::proc_files::mem_counts(task);
            let rss = (c.rss_anon + c.rss_file + c.rss_shmem) / PAGE_SIZE;
            let (start_stack, arg_start, arg_end, env_start, env_end, brk_start) = {
                let mm = task.mm();
                let st = mm.lock();
                (st.start_stack, st.arg_start, st.arg_end, st.env_start, st.env_end, st.brk_start)
            };
            let start_ticks = task.start_time_ns / (1_000_000_000 / USER_HZ);
            let ticks = |ns: u64| ns / (1_000_000_000 / USER_HZ);
            let (utime, stime) = crate::task::cpu_times(task);
            let (cutime, cstime) = {
                let st = task.process.state();
                (st.children_user_ns, st.children_system_ns)
            };
            let (blocked, pending) = {
                let sig = task.signals.lock();
                (sig.blocked, sig.pending.set | task.process.shared_pending.lock().set)
            };
            let (ign, cgt) = signal_sets(task);
            let (tty_nr, tpgid) = crate::tty::proc_stat_tty(task.sid());
            let sched = *task.sched.lock();
            // Linux's task_prio: -1 - rt_priority for real-time tasks, -101
            // for deadline ones, 20 + nice otherwise.
            let priority = match sched.policy {
                crate::task::sched::SCHED_DEADLINE => -101,
                p if crate::task::sched::rt_policy(p) => -1 - sched.rt_priority as i64,
                _ => 20 + sched.nice as i64,
            };
            let rsslim = task.rlimit(crate::abi::resource::RLIMIT_RSS).cur;
            let exit_signal = task.process.exit_signal.load(std::sync::atomic::Ordering::Relaxed);
            let _ = writeln!(
                s,
                "{} ({comm}) {} {} {} {} {tty_nr} {tpgid} 4194304 0 0 0 0 {} {} {} {} {priority} {} {} 0 {start_ticks} {} {rss} {rsslim} {} {} {start_stack} 0 0 {pending} {blocked} {ign} {cgt} 0 0 0 {exit_signal} {} {} {} 0 0 0 0 0 {brk_start} {arg_start} {arg_end} {env_start} {env_end} 0",
                task.tid(),
                state_char(task),
                task.ppid(),
                task.pgid(),
                task.sid(),
                ticks(utime),
                ticks(stime),
                ticks(cutime),
                ticks(cstime),
                sched.nice,
                thread_count(system, task),
                c.total,
                c.start_code,
                c.end_code,
                crate::platform::host::system::current_cpu(),
                sched.rt_priority,
                sched.policy,
            );
        }
        PidFile::Status => {
            let c = task.creds();
            let m = crate::task::proc_files::mem_counts(task);
            let kb = |b: u64| b >> 10;
            let (vm_kb, rss_kb) = (kb(m.total), kb(m.rss_anon + m.rss_file + m.rss_shmem));
            let umask = task.fs().umask;
            let (blocked, own_pending) = {
                let sig = task.signals.lock();
                (sig.blocked, sig.pending.set)
            };
            let shared_pending = task.process.shared_pending.lock().set;
            let sigq = task.rlimit(crate::abi::resource::RLIMIT_SIGPENDING).cur;
            let (ign, cgt) = signal_sets(task);
            let groups: Vec<String> = c.groups.iter().map(|g| g.to_string()).collect();
            let state = match state_char(task) {
                'R' => "R (running)",
                'T' => "T (stopped)",
                'Z' => "Z (zombie)",
                _ => "S (sleeping)",
            };
            let ncpu = crate::platform::host::system::cpu_count();
            let _ = write!(
                s,
                "Name:\t{comm}\nUmask:\t{umask:04o}\nState:\t{state}\nTgid:\t{tgid}\nNgid:\t0\nPid:\t{tid}\nPPid:\t{ppid}\nTracerPid:\t0\n\
                 Uid:\t{}\t{}\t{}\t{}\nGid:\t{}\t{}\t{}\t{}\nFDSize:\t{fdsize}\nGroups:\t{groups} \n\
                 NStgid:\t{tgid}\nNSpid:\t{tid}\nNSpgid:\t{pgid}\nNSsid:\t{sid}\nKthread:\t0\n\
                 VmPeak:\t{vm_kb:>8} kB\nVmSize:\t{vm_kb:>8} kB\nVmLck:\t{lck:>8} kB\nVmPin:\t{z:>8} kB\nVmHWM:\t{rss_kb:>8} kB\nVmRSS:\t{rss_kb:>8} kB\n\
                 RssAnon:\t{anon:>8} kB\nRssFile:\t{file:>8} kB\nRssShmem:\t{shmem:>8} kB\nVmData:\t{data:>8} kB\nVmStk:\t{stk:>8} kB\nVmExe:\t{exe:>8} kB\n\
                 VmLib:\t{lib:>8} kB\nVmPTE:\t{z:>8} kB\nVmSwap:\t{z:>8} kB\nHugetlbPages:\t{z:>8} kB\nCoreDumping:\t0\nTHP_enabled:\t1\n\
                 untag_mask:\t0xffffffffffffffff\nThreads:\t{threads}\nSigQ:\t0/{sigq}\nSigPnd:\t{own_pending:016x}\nShdPnd:\t{shared_pending:016x}\n\
                 SigBlk:\t{blocked:016x}\nSigIgn:\t{ign:016x}\nSigCgt:\t{cgt:016x}\nCapInh:\t{inh:016x}\nCapPrm:\t{prm:016x}\nCapEff:\t{eff:016x}\n\
                 CapBnd:\t{bnd:016x}\nCapAmb:\t{amb:016x}\nNoNewPrivs:\t{nnp}\nSeccomp:\t0\nSeccomp_filters:\t0\nCpus_allowed:\t{cpus:x}\n\
                 Cpus_allowed_list:\t0-{last_cpu}\nMems_allowed:\t{mems}\nMems_allowed_list:\t0\nvoluntary_ctxt_switches:\t0\nnonvoluntary_ctxt_switches:\t0\n",
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
                lck = kb(m.locked),
                z = 0u64,
                anon = kb(m.rss_anon),
                file = kb(m.rss_file),
                shmem = kb(m.rss_shmem),
                data = kb(m.data),
                stk = kb(m.stack),
                exe = kb(m.exe),
                lib = kb(m.lib),
                mems = format!("{}00000001", "00000000,".repeat(31)),
                inh = c.caps.inheritable,
                prm = c.caps.permitted,
                eff = c.caps.effective,
                bnd = c.caps.bounding,
                amb = c.caps.ambient,
                nnp = task.no_new_privs.load(std::sync::atomic::Ordering::Relaxed) as u8,
                cpus = (1u64 << ncpu.min(63)) - 1,
                last_cpu = ncpu - 1,
            );
        }
        // Generated by proc_files.
        _ => return Vec::new(),
    }
    s.into_bytes()
}

/// (ignored, caught) signal sets of a task's thread group.
fn signal_sets(task: &Task) -> (u64, u64) {
    let actions = task.sigactions();
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
    let mm = task.mm();
    let st = mm.lock();
    let mut s = String::new();
    for vma in st.vmas.values() {
        s.push_str(&vma_line(vma));
        s.push('\n');
    }
    s.into_bytes()
}

/// A VMA's line in /proc/<pid>/maps (and the header of its smaps entry).
pub(crate) fn vma_line(vma: &crate::mm::vma::Vma) -> String {
    let perms = format!(
        "{}{}{}{}",
        if vma.prot & PROT_READ != 0 { 'r' } else { '-' },
        if vma.prot & PROT_WRITE != 0 { 'w' } else { '-' },
        if vma.prot & PROT_EXEC != 0 { 'x' } else { '-' },
        if vma.flags & MAP_SHARED != 0 { 's' } else { 'p' },
    );
    let (offset, dev, ino, name): (u64, u64, u64, Vec<u8>) = match &vma.backing {
        // [vvar] and [vdso] show as Linux's special mappings do.
        _ if crate::mm::vdso::is_special(vma) => (0, 0, 0, vma.label.as_bytes().to_vec()),
        Backing::File { offset, name, dev, ino, .. } => (*offset, *dev, *ino, name.clone()),
        // A file's shared mapping names the file, as Linux's show_map_vma.
        Backing::Shared { pgoff, file: Some(f), .. } if let (Some(name), Ok((dev, ino, ..))) = (f.maps_name(), f.version()) => {
            (pgoff * PAGE_SIZE, dev, ino, name)
        }
        Backing::Shared { pgoff, .. } => (pgoff * PAGE_SIZE, 1, 0, b"/dev/zero (deleted)".to_vec()),
        Backing::HostFile { file, offset, dev, ino, .. } => (*offset, *dev, *ino, file.maps_name().unwrap_or_default()),
        _ => (0, 0, 0, vma.label.as_bytes().to_vec()),
    };
    let name = if name.is_empty() { vma.label.as_bytes().to_vec() } else { name };
    let line = format!("{:08x}-{:08x} {perms} {offset:08x} {:02x}:{:02x} {ino} ", vma.start, vma.end, dev_major(dev), dev_minor(dev));
    if name.is_empty() {
        line
    } else {
        // Linux pads the name to column 73 (seq_pad).
        format!("{line:<73}{}", String::from_utf8_lossy(&name))
    }
}
