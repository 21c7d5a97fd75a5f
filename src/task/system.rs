//! The machine-wide state tasks share: the task and process tables with
//! pid allocation, futexes, the mount tree, the UTS names, guest RAM and
//! the kernel's own settings. One `System` per vkernel process; every task
//! holds it.

use parking_lot::Mutex;
use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Weak};

use crate::fs::path::{MountTable, Path};
use crate::mm::frame::PhysMemory;
use crate::task::Task;
use crate::task::process::{Lifecycle, Process};

pub struct Config {
    pub memory: u64,
    pub verbose: bool,
}

pub struct System {
    pub config: Config,
    pub phys: Arc<PhysMemory>,
    pub mounts: MountTable,
    /// The root of the mount tree, where PID 1 starts.
    pub root: Mutex<Option<Path>>,
    pub tasks: Mutex<BTreeMap<i32, Weak<Task>>>,
    /// Every process from fork until it is reaped (zombies included).
    pub processes: Mutex<BTreeMap<i32, Arc<Process>>>,
    last_pid: Mutex<i32>,
    pub futexes: crate::task::futex::FutexTable,
    unimplemented_logged: Mutex<HashSet<u64>>,
}

impl System {
    pub fn new(config: Config, phys: Arc<PhysMemory>) -> Arc<System> {
        crate::sched::clock::start();
        Arc::new(System {
            config,
            phys,
            mounts: MountTable::new(),
            root: Mutex::new(None),
            tasks: Mutex::new(BTreeMap::new()),
            processes: Mutex::new(BTreeMap::new()),
            last_pid: Mutex::new(1),
            futexes: Default::default(),
            unimplemented_logged: Mutex::new(HashSet::new()),
        })
    }

    pub fn root(&self) -> Path {
        self.root.lock().clone().expect("root mounted at boot")
    }

    pub fn task(&self, tid: i32) -> Option<Arc<Task>> {
        self.tasks.lock().get(&tid).and_then(|w| w.upgrade())
    }

    /// Adds a new task (and, for a leader, its process) to the tables.
    pub fn register(&self, task: &Arc<Task>) {
        self.tasks.lock().insert(task.tid(), Arc::downgrade(task));
        if task.tid() == task.tgid {
            self.processes.lock().insert(task.tgid, task.process.clone());
        }
    }

    /// The next free process id (Linux wraps at pid_max, 4194304 on 64-bit,
    /// skipping ids still in use by tasks, processes or groups).
    pub fn alloc_pid(&self) -> Option<i32> {
        const PID_MAX: i32 = 4_194_304;
        let mut last = self.last_pid.lock();
        let tasks = self.tasks.lock();
        let procs = self.processes.lock();
        let in_use = |p: i32| tasks.contains_key(&p) || procs.contains_key(&p) || procs.values().any(|q| q.pgid() == p || q.sid() == p);
        let mut candidate = *last;
        for _ in 0..PID_MAX {
            candidate = if candidate >= PID_MAX - 1 { 300 } else { candidate + 1 };
            if !in_use(candidate) {
                *last = candidate;
                return Some(candidate);
            }
        }
        None
    }

    /// Takes `pid` as the next id if it is free (clone3's set_tid):
    /// EEXIST when in use, EINVAL beyond pid_max.
    pub fn claim_pid(&self, pid: i32) -> crate::abi::KResult<i32> {
        const PID_MAX: i32 = 4_194_304;
        if pid <= 0 || pid >= PID_MAX {
            return Err(crate::abi::Errno::EINVAL);
        }
        let _last = self.last_pid.lock();
        let tasks = self.tasks.lock();
        let procs = self.processes.lock();
        if tasks.contains_key(&pid) || procs.contains_key(&pid) || procs.values().any(|q| q.pgid() == pid || q.sid() == pid) {
            return Err(crate::abi::Errno::EEXIST);
        }
        Ok(pid)
    }

    /// Process `tgid`, zombies included.
    pub fn process(&self, tgid: i32) -> Option<Arc<Process>> {
        self.processes.lock().get(&tgid).cloned()
    }

    /// The leader task of live process `tgid`.
    pub fn process_leader(&self, tgid: i32) -> Option<Arc<Task>> {
        let p = self.processes.lock().get(&tgid).cloned()?;
        if matches!(p.state().lifecycle, Lifecycle::Zombie { .. }) {
            return None;
        }
        p.leader()
    }

    /// Leaders of every live process in group `pgid`.
    pub fn process_group(&self, pgid: i32) -> Vec<Arc<Task>> {
        self.all_process_leaders().into_iter().filter(|t| t.process.pgid() == pgid).collect()
    }

    /// The session of process group `pgid`, if any process (a zombie not
    /// yet reaped included, as in Linux) is in it.
    pub fn group_session(&self, pgid: i32) -> Option<i32> {
        self.processes.lock().values().find(|p| p.pgid() == pgid).map(|p| p.sid())
    }

    pub fn all_process_leaders(&self) -> Vec<Arc<Task>> {
        let procs: Vec<_> = self.processes.lock().values().cloned().collect();
        procs.iter().filter(|p| !matches!(p.state().lifecycle, Lifecycle::Zombie { .. })).filter_map(|p| p.leader()).collect()
    }

    pub fn live_tasks(&self) -> Vec<Arc<Task>> {
        self.tasks.lock().values().filter_map(|w| w.upgrade()).collect()
    }

    /// Logs an unimplemented system call once per number (with -v).
    pub fn log_unimplemented(&self, nr: u64, name: &str) {
        if self.config.verbose && self.unimplemented_logged.lock().insert(nr) {
            eprintln!("vkernel: unimplemented system call {nr} ({name}): ENOSYS");
        }
    }
}

/// What the layers below see of the process table.
impl crate::sched::processes::Processes for System {
    fn signal_process(&self, pid: i32, sig: i32) {
        if let Some(leader) = self.process_leader(pid) {
            crate::signal::send_to_process(&leader, crate::signal::SigInfo::kernel(sig));
        }
    }

    fn signal_session_leader(&self, sid: i32, sig: i32) {
        if let Some(leader) = self.process_leader(sid).filter(|l| l.process.sid() == sid) {
            crate::signal::send_to_process(&leader, crate::signal::SigInfo::kernel(sig));
        }
    }

    fn signal_group(&self, pgid: i32, sig: i32) {
        for leader in self.process_group(pgid) {
            crate::signal::send_to_process(&leader, crate::signal::SigInfo::kernel(sig));
        }
    }

    fn session_alive(&self, sid: i32) -> bool {
        self.all_process_leaders().iter().any(|t| t.process.sid() == sid)
    }

    fn group_session(&self, pgid: i32) -> Option<i32> {
        System::group_session(self, pgid)
    }

    fn is_orphaned_group(&self, pgid: i32) -> bool {
        crate::task::exit::is_orphaned_group(self, pgid)
    }

    fn send_sigio(&self, target: crate::sched::processes::SigioTarget, uid: u32, euid: u32, info: [u8; 128]) {
        use crate::sched::processes::SigioTarget;
        let may = |t: &Arc<Task>| {
            let c = t.creds();
            euid == 0 || euid == c.suid || euid == c.uid || uid == c.suid || uid == c.uid
        };
        let info = crate::signal::SigInfo { bytes: info };
        match target {
            SigioTarget::Thread(tid) => {
                if let Some(t) = self.task(tid).filter(|t| may(t)) {
                    crate::signal::send_to_task(&t, info);
                }
            }
            SigioTarget::Process(pid) => {
                if let Some(t) = self.process_leader(pid).filter(|t| may(t)) {
                    crate::signal::send_to_process(&t, info);
                }
            }
            SigioTarget::Group(pgid) => {
                for t in self.process_group(pgid).into_iter().filter(|t| may(t)) {
                    crate::signal::send_to_process(&t, info);
                }
            }
        }
    }
}
