//! Signals: numbers, dispositions, `sigaction` and `sigaltstack` flags,
//! `sigprocmask` how values and `si_code`s (Linux: include/uapi/asm-generic/signal.h,
//! include/uapi/asm-generic/signal-defs.h, include/uapi/asm-generic/siginfo.h,
//! arch/x86/include/uapi/asm/ucontext.h, arch/x86/include/uapi/asm/sigcontext.h).

// Linux's table; not every value is used yet.
#![allow(dead_code)]

use linux_raw_sys::general;

/// The number of signals (Linux: `_NSIG`; linux-raw-sys `NSIG` is the old 32).
pub const NSIG: usize = general::_NSIG as usize;
pub const SIGHUP: i32 = general::SIGHUP as i32;
pub const SIGINT: i32 = general::SIGINT as i32;
pub const SIGQUIT: i32 = general::SIGQUIT as i32;
pub const SIGILL: i32 = general::SIGILL as i32;
pub const SIGTRAP: i32 = general::SIGTRAP as i32;
pub const SIGABRT: i32 = general::SIGABRT as i32;
pub const SIGBUS: i32 = general::SIGBUS as i32;
pub const SIGFPE: i32 = general::SIGFPE as i32;
pub const SIGKILL: i32 = general::SIGKILL as i32;
pub const SIGUSR1: i32 = general::SIGUSR1 as i32;
pub const SIGSEGV: i32 = general::SIGSEGV as i32;
pub const SIGUSR2: i32 = general::SIGUSR2 as i32;
pub const SIGPIPE: i32 = general::SIGPIPE as i32;
pub const SIGALRM: i32 = general::SIGALRM as i32;
pub const SIGTERM: i32 = general::SIGTERM as i32;
pub const SIGSTKFLT: i32 = general::SIGSTKFLT as i32;
pub const SIGCHLD: i32 = general::SIGCHLD as i32;
pub const SIGCONT: i32 = general::SIGCONT as i32;
pub const SIGSTOP: i32 = general::SIGSTOP as i32;
pub const SIGTSTP: i32 = general::SIGTSTP as i32;
pub const SIGTTIN: i32 = general::SIGTTIN as i32;
pub const SIGTTOU: i32 = general::SIGTTOU as i32;
pub const SIGURG: i32 = general::SIGURG as i32;
pub const SIGXCPU: i32 = general::SIGXCPU as i32;
pub const SIGXFSZ: i32 = general::SIGXFSZ as i32;
pub const SIGVTALRM: i32 = general::SIGVTALRM as i32;
pub const SIGPROF: i32 = general::SIGPROF as i32;
pub const SIGWINCH: i32 = general::SIGWINCH as i32;
pub const SIGIO: i32 = general::SIGIO as i32;
pub const SIGPWR: i32 = general::SIGPWR as i32;
pub const SIGSYS: i32 = general::SIGSYS as i32;
pub const SIGRTMIN: i32 = general::SIGRTMIN as i32;
/// The `sigsetsize` the kernel accepts: `sizeof(sigset_t)`, one bit per signal.
pub const SIGSET_SIZE: u64 = (general::_NSIG / 8) as u64;

// Not in linux-raw-sys; from include/uapi/asm-generic/signal-defs.h (a handler pointer there).
pub const SIG_DFL: u64 = 0;
pub const SIG_IGN: u64 = 1;

pub const SIG_BLOCK: i32 = general::SIG_BLOCK as i32;
pub const SIG_UNBLOCK: i32 = general::SIG_UNBLOCK as i32;
pub const SIG_SETMASK: i32 = general::SIG_SETMASK as i32;

pub const SA_NOCLDSTOP: u64 = general::SA_NOCLDSTOP as u64;
pub const SA_NOCLDWAIT: u64 = general::SA_NOCLDWAIT as u64;
pub const SA_SIGINFO: u64 = general::SA_SIGINFO as u64;
pub const SA_RESTORER: u64 = general::SA_RESTORER as u64;
pub const SA_ONSTACK: u64 = general::SA_ONSTACK as u64;
pub const SA_RESTART: u64 = general::SA_RESTART as u64;
pub const SA_NODEFER: u64 = general::SA_NODEFER as u64;
pub const SA_RESETHAND: u64 = general::SA_RESETHAND as u64;

pub const SS_ONSTACK: i32 = general::SS_ONSTACK as i32;
pub const SS_DISABLE: i32 = general::SS_DISABLE as i32;
pub const SS_AUTODISARM: i32 = general::SS_AUTODISARM as i32;
pub const MINSIGSTKSZ: u64 = general::MINSIGSTKSZ as u64;

// `si_code` values
pub const SI_USER: i32 = general::SI_USER as i32;
pub const SI_KERNEL: i32 = general::SI_KERNEL as i32;
pub const SI_QUEUE: i32 = general::SI_QUEUE;
pub const SI_TIMER: i32 = general::SI_TIMER;
pub const SI_TKILL: i32 = general::SI_TKILL;
pub const SI_SIGIO: i32 = general::SI_SIGIO;
/// SIGIO reasons (si_code of SIGPOLL).
pub const POLL_IN: i32 = general::POLL_IN as i32;
pub const POLL_OUT: i32 = general::POLL_OUT as i32;
pub const POLL_MSG: i32 = general::POLL_MSG as i32;
pub const POLL_ERR: i32 = general::POLL_ERR as i32;
pub const POLL_PRI: i32 = general::POLL_PRI as i32;
pub const POLL_HUP: i32 = general::POLL_HUP as i32;
pub const CLD_EXITED: i32 = general::CLD_EXITED as i32;
pub const CLD_KILLED: i32 = general::CLD_KILLED as i32;
pub const CLD_DUMPED: i32 = general::CLD_DUMPED as i32;
pub const CLD_TRAPPED: i32 = general::CLD_TRAPPED as i32;
pub const CLD_STOPPED: i32 = general::CLD_STOPPED as i32;
pub const CLD_CONTINUED: i32 = general::CLD_CONTINUED as i32;
pub const SEGV_MAPERR: i32 = general::SEGV_MAPERR as i32;
pub const SEGV_ACCERR: i32 = general::SEGV_ACCERR as i32;
pub const BUS_ADRERR: i32 = general::BUS_ADRERR as i32;

// Not in linux-raw-sys; from arch/x86/include/uapi/asm/ucontext.h.
pub const UC_FP_XSTATE: u64 = 0x1;
pub const UC_SIGCONTEXT_SS: u64 = 0x2;
pub const UC_STRICT_RESTORE_SS: u64 = 0x4;
// Not in linux-raw-sys; from arch/x86/include/uapi/asm/sigcontext.h.
pub const FP_XSTATE_MAGIC1: u32 = 0x4650_5853;
pub const FP_XSTATE_MAGIC2: u32 = 0x4650_5845;
