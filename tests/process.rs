//! Processes, signals and pipes (issue 3): guest programs from
//! `tests/guest/{proc,sig,pipe}_*.c`, each built static and static-PIE, run
//! natively and under vkernel with identical stdout, stderr and exit status.
//!
//! Under vkernel the program is PID 1, natively it is not, so each program
//! does its signal and process work in forked children and the top process
//! only orchestrates (see `tests/guest/proc.h`).
//!
//! Gated: these run only with `VK_ISSUE3_TESTS=1` while the features land.

mod common;

use common::{Input, Link};

fn check(test: &str, program: &str, link: Link, args: &[&str]) {
    if !common::issue3_enabled(test) {
        return;
    }
    let bin = common::build(program, link);
    let native = common::compare(&bin, args, &Input::Null);
    assert_eq!(native.status, 0, "{program} fails its own checks natively:\n{}", native.stdout_str());
}

/// One module per behaviour, a test per link mode.
macro_rules! guest_test {
    ($behaviour:ident, $program:literal $(, $arg:literal)* $(,)?) => {
        mod $behaviour {
            use super::*;

            #[test]
            fn static_() {
                check(concat!(stringify!($behaviour), "::static_"), $program, Link::Static, &[$($arg),*]);
            }

            #[test]
            fn static_pie() {
                check(concat!(stringify!($behaviour), "::static_pie"), $program, Link::StaticPie, &[$($arg),*]);
            }
        }
    };
}

// Processes.
guest_test!(fork_trees_cow_memory_exit_codes_64_children_vfork_clone, "proc_fork");
guest_test!(wait_statuses_for_every_signal_stop_continue_waitid_zombies_sigchld, "proc_wait");
guest_test!(exec_errors_scripts_cloexec_and_signal_state_across_exec, "proc_exec");
guest_test!(sessions_groups_group_kill_orphans_subreaper_pdeathsig, "proc_groups");

// Signals.
guest_test!(siginfo_masks_pending_rt_order_resethand_nodefer_sigsuspend_sigtimedwait, "sig_deliver");
guest_test!(faults_give_siginfo_altstack_recovers_and_handlers_edit_context, "sig_faults");
guest_test!(restart_vs_eintr_timers_alarm_nanosleep_and_pause, "sig_interrupt");

// Pipes, FIFOs and poll.
guest_test!(pipes_capacity_nonblocking_sigpipe_eof_and_packet_mode, "pipe_basic");
guest_test!(pipe_buf_writes_stay_atomic_with_concurrent_writers, "pipe_atomic");
guest_test!(fifos_open_blocking_and_data_across_fork, "pipe_fifo");
guest_test!(poll_select_ppoll_pselect_on_pipes, "pipe_poll");
