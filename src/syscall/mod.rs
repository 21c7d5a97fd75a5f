//! System call dispatch: one table from number to handler, assembled from
//! the per-family tables (fs.rs, mm.rs, ...). A handler decodes its
//! arguments, rejects invalid ones, and calls the subsystem that owns the
//! work; the dispatcher turns `Err(errno)` into `-errno` in rax.

pub mod admin;
pub mod args;
pub mod attr;
pub mod clone;
pub mod copy;
pub mod creds;
pub mod dir;
pub mod event;
pub mod exec;
pub mod fcntl;
pub mod futex;
pub mod info;
pub mod ioctl;
pub mod membarrier;
pub mod memfd;
pub mod mlock;
pub mod mm;
pub mod mount;
pub mod namespace;
pub mod open;
pub mod pipe;
pub mod poll;
pub mod process;
pub mod process_vm;
pub mod read_write;
pub mod resource;
pub mod sched;
pub mod session;
pub mod sharing;
pub mod signal;
pub mod socket;
pub mod stat;
pub mod sync;
pub mod time;
pub mod timer;
pub mod wait;
pub mod xattr;

use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};

use crate::abi::limits::PATH_MAX;
use crate::abi::{Errno, KResult};
use crate::mm::Mm;
use crate::platform::Regs;
use crate::task::Task;

/// How a task leaves the run loop after a system call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// exit(status): the calling thread ends.
    Thread(i32),
    /// exit_group(status): every thread of the process ends.
    Group(i32),
}

/// What the run loop must do after a system call.
pub struct Outcome {
    pub exit: Option<Exit>,
    /// FPU state to load (rt_sigreturn).
    pub xstate: Option<Vec<u8>>,
    /// A child to start (fork, vfork, clone).
    pub spawn: Option<crate::task::fork::NewTask>,
}

/// One system call in progress.
pub struct Sys<'a> {
    pub task: &'a Arc<Task>,
    pub regs: &'a mut Regs,
    pub args: [u64; 6],
    /// Set by exit/exit_group.
    pub exit: Option<Exit>,
    /// Set by handlers that load new registers (execve, rt_sigreturn):
    /// the dispatcher must not overwrite rax.
    pub regs_replaced: bool,
    /// FPU state for the run loop to load (rt_sigreturn).
    pub xstate: Option<Vec<u8>>,
    /// A child created by fork/clone, for the run loop to start.
    pub spawn: Option<crate::task::fork::NewTask>,
}

impl Sys<'_> {
    pub fn mm(&self) -> Arc<Mm> {
        self.task.mm()
    }

    pub fn arg(&self, i: usize) -> u64 {
        self.args[i]
    }

    /// An `int` argument (Linux truncates to 32 bits).
    pub fn arg_i32(&self, i: usize) -> i32 {
        self.args[i] as i32
    }

    pub fn arg_u32(&self, i: usize) -> u32 {
        self.args[i] as u32
    }

    /// A path argument: EFAULT for a bad pointer, ENAMETOOLONG past
    /// PATH_MAX, ENOENT when empty (callers allowing AT_EMPTY_PATH use
    /// `read_path_allow_empty`).
    pub fn read_path(&self, addr: u64) -> KResult<Vec<u8>> {
        let p = self.read_path_allow_empty(addr)?;
        if p.is_empty() {
            return Err(Errno::ENOENT);
        }
        Ok(p)
    }

    pub fn read_path_allow_empty(&self, addr: u64) -> KResult<Vec<u8>> {
        self.mm().read_cstring(addr, PATH_MAX - 1)
    }
}

pub type Handler = fn(&mut Sys) -> KResult<u64>;

pub struct SyscallDef {
    pub nr: u32,
    pub name: &'static str,
    pub handler: Handler,
}

/// Builds a family's table: `syscalls![__NR_read => sys_read, ...]`.
#[macro_export]
macro_rules! syscalls {
    ($($nr:ident => $handler:path),* $(,)?) => {
        &[$(
            $crate::syscall::SyscallDef {
                nr: linux_raw_sys::general::$nr,
                name: stringify!($nr),
                handler: $handler,
            },
        )*]
    };
}

const TABLE_SIZE: usize = 512;

struct Table {
    entries: Vec<Option<(&'static str, Handler)>>,
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut entries: Vec<Option<(&'static str, Handler)>> = vec![None; TABLE_SIZE];
        for family in [
            admin::SYSCALLS,
            creds::SYSCALLS,
            attr::SYSCALLS,
            clone::SYSCALLS,
            exec::SYSCALLS,
            resource::SYSCALLS,
            sched::SYSCALLS,
            session::SYSCALLS,
            copy::SYSCALLS,
            dir::SYSCALLS,
            event::SYSCALLS,
            fcntl::SYSCALLS,
            ioctl::SYSCALLS,
            namespace::SYSCALLS,
            open::SYSCALLS,
            read_write::SYSCALLS,
            stat::SYSCALLS,
            sync::SYSCALLS,
            xattr::SYSCALLS,
            futex::SYSCALLS,
            membarrier::SYSCALLS,
            memfd::SYSCALLS,
            mm::SYSCALLS,
            mlock::SYSCALLS,
            mount::SYSCALLS,
            pipe::SYSCALLS,
            poll::SYSCALLS,
            process::SYSCALLS,
            process_vm::SYSCALLS,
            sharing::SYSCALLS,
            signal::SYSCALLS,
            socket::SYSCALLS,
            time::SYSCALLS,
            timer::SYSCALLS,
            wait::SYSCALLS,
            info::SYSCALLS,
        ] {
            for def in family {
                assert!(entries[def.nr as usize].is_none(), "system call {} registered twice", def.name);
                entries[def.nr as usize] = Some((def.name.trim_start_matches("__NR_"), def.handler));
            }
        }
        Table { entries }
    })
}

/// Services the system call in `regs` (number in orig_rax, arguments in
/// rdi rsi rdx r10 r8 r9) and puts the result in rax.
/// Calls whose service takes long even when nothing blocks (a new
/// address space, a new process, the end of one): the guest thread
/// waiting for the answer need not spin for it.
fn takes_long(nr: u64) -> bool {
    use linux_raw_sys::general::*;
    matches!(nr as u32, __NR_execve | __NR_execveat | __NR_clone | __NR_clone3 | __NR_fork | __NR_vfork | __NR_exit | __NR_exit_group)
}

pub fn dispatch(task: &Arc<Task>, regs: &mut Regs) -> Outcome {
    // Linux takes the number as an int (do_syscall_64): the high half of
    // rax does not count.
    let nr = regs.orig_rax as u32 as u64;
    // `int 0x80` (the 32-bit ABI) also stops as a system call; it is not
    // offered (as on a kernel without IA32 emulation).
    // The last site seen to hold `syscall` is remembered, so a loop around
    // one libc wrapper pays for the check once.
    if task.last_syscall_site.load(Ordering::Relaxed) != regs.rip {
        match task.mm().read::<[u8; 2]>(regs.rip.wrapping_sub(2)) {
            Ok([0xcd, 0x80]) => {
                regs.rax = (-(Errno::ENOSYS.0 as i64)) as u64;
                return Outcome { exit: None, xstate: None, spawn: None };
            }
            Ok([0x0f, 0x05]) => task.last_syscall_site.store(regs.rip, Ordering::Relaxed),
            _ => {}
        }
    }
    let args = [regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9];
    let entry = table().entries.get(nr as usize).copied().flatten();
    let Some((_name, handler)) = entry else {
        task.system.log_unimplemented(nr, crate::abi::syscall_names::name(nr));
        regs.rax = (-(Errno::ENOSYS.0 as i64)) as u64;
        return Outcome { exit: None, xstate: None, spawn: None };
    };
    if takes_long(nr) {
        crate::platform::answer_takes_long();
    }
    let mut sys = Sys { task, regs, args, exit: None, regs_replaced: false, xstate: None, spawn: None };
    let result = handler(&mut sys);
    let (exit, replaced, xstate, spawn) = (sys.exit, sys.regs_replaced, sys.xstate.take(), sys.spawn.take());
    if !replaced {
        regs.rax = match result {
            Ok(v) => v,
            Err(e) => {
                if e == Errno::ENOSYS {
                    task.system.log_unimplemented(nr, _name);
                }
                (-(e.0 as i64)) as u64
            }
        };
    }
    Outcome { exit, xstate, spawn }
}
