//! Event and IPC APIs: the guest programs `tests/guest/event_*.c` (eventfd,
//! timerfd, signalfd, POSIX timers and CPU clocks, pidfds, inotify and
//! dnotify, splice/tee/vmsplice, SIGIO), each built static and dynamic
//! (plain `cc`, run through the host's ld.so), run natively and under
//! vkernel with identical stdout, stderr and exit status.
//!
//! Under vkernel the program is PID 1, so signal and process work happens
//! in forked children (`section` in `tests/guest/proc.h`); files go in a
//! scratch directory under /tmp (the guest's own tmpfs). Timing checks are
//! generous: the machines are loaded two-core VMs.

mod common;

use common::{Input, Link};

fn check(program: &str, link: Link, args: &[&str]) {
    let bin = common::build(program, link);
    let native = common::compare(&bin, args, &Input::Null);
    assert_eq!(native.status, 0, "{program} fails its own checks natively:\n{}", native.stdout_str());
}

/// One module per behaviour, a test per link mode.
macro_rules! event_test {
    ($behaviour:ident, $program:literal $(, $arg:literal)* $(,)?) => {
        mod $behaviour {
            use super::*;

            #[test]
            fn static_() {
                check($program, Link::Static, &[$($arg),*]);
            }

            #[test]
            fn dynamic() {
                check($program, Link::Dynamic, &[$($arg),*]);
            }
        }
    };
}

event_test!(eventfd_counter_semaphore_blocking_and_epoll_edge_nested_exclusive, "event_eventfd");
event_test!(timerfd_one_shot_periodic_abstime_cancel_on_set_blocking_and_epoll, "event_timerfd");
event_test!(signalfd_reads_kill_sigqueue_sigchld_many_at_once_and_wakes_pollers, "event_signalfd");
event_test!(posix_timers_signal_thread_id_none_overruns_abstime_fork_exec_and_cpu_clocks, "event_posix_timers");
event_test!(pidfd_open_poll_waitid_send_signal_and_getfd, "event_pidfd");
event_test!(inotify_events_cookies_self_events_flags_reading_and_dnotify_sigio, "event_inotify");
event_test!(splice_tee_vmsplice_between_files_and_pipes, "event_splice");
event_test!(sigio_owners_f_setsig_from_pipes_and_ptys, "event_sigio");
