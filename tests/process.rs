//! Processes, signals and pipes (issue 3): guest programs from
//! `tests/guest/{proc,sig,pipe}_*.c`, each built static and static-PIE, run
//! natively and under vkernel with identical stdout, stderr and exit status.
//!
//! Under vkernel the program is PID 1, natively it is not, so each program
//! does its signal and process work in forked children and the top process
//! only orchestrates (see `tests/guest/proc.h`).
//!

mod common;

use common::{Input, Link};

fn check(_test: &str, program: &str, link: Link, args: &[&str]) {
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
guest_test!(sigkill_to_a_process_ends_vfork_and_stop_waits, "proc_kill_waits");
guest_test!(process_vm_rw_kcmp_unshare_and_setns_follow_linux, "proc_share");
guest_test!(rlimit_cpu_sigxcpu_then_sigkill_inherited_prlimit_of_another_process_and_nproc, "proc_limits");

// Signals.
guest_test!(siginfo_masks_pending_rt_order_resethand_nodefer_sigsuspend_sigtimedwait, "sig_deliver");
guest_test!(faults_give_siginfo_altstack_recovers_and_handlers_edit_context, "sig_faults");
guest_test!(restart_vs_eintr_timers_alarm_nanosleep_and_pause, "sig_interrupt");

// File locks.
guest_test!(setlkw_ofd_and_flock_waits_end_for_signals_kill_and_edeadlk, "lock_wait");

// Pipes, FIFOs and poll.
guest_test!(pipes_capacity_nonblocking_sigpipe_eof_and_packet_mode, "pipe_basic");
guest_test!(pipe_buf_writes_stay_atomic_with_concurrent_writers, "pipe_atomic");
guest_test!(fifos_open_blocking_and_data_across_fork, "pipe_fifo");
guest_test!(poll_select_ppoll_pselect_on_pipes, "pipe_poll");

/// Init semantics, checked under vkernel only (natively the program is not
/// PID 1, so there is nothing to compare with): a signal without a handler
/// sent to PID 1 from inside is ignored, even SIGKILL and SIGSTOP; a
/// handled one is delivered; when PID 1 exits every other guest process is
/// killed and vkernel exits with PID 1's status. (Not SIGINT: `sh -c`
/// catches it itself and exits 130.)
mod init_semantics {
    use super::common::{self, BUSYBOX, Input};
    use std::time::Duration;

    fn vk_sh(test: &str, script: &str) -> Option<common::Outcome> {
        if !common::have_busybox(test) {
            return None;
        }
        Some(common::run_vkernel(BUSYBOX, &["sh", "-c", script], &Input::Null))
    }

    #[test]
    fn pid_1_ignores_unhandled_signals_and_gets_handled_ones() {
        let script = "echo pid=$$ ppid=$PPID; kill -TERM $$; kill -HUP $$; kill -USR2 $$; echo survived; \
                      trap 'echo caught USR1' USR1; kill -USR1 $$; kill -KILL $$; echo survived KILL; kill -STOP $$; echo survived STOP; exit 7";
        let Some(out) = vk_sh("pid_1_ignores_unhandled_signals_and_gets_handled_ones", script) else { return };
        assert!(!out.timed_out, "timed out; stdout so far:\n{}", out.stdout_str());
        assert_eq!(out.stdout_str(), "pid=1 ppid=0\nsurvived\ncaught USR1\nsurvived KILL\nsurvived STOP\n", "stderr: {}", out.stderr_str());
        assert_eq!(out.status, 7, "stderr: {}", out.stderr_str());
    }

    #[test]
    fn when_pid_1_exits_every_guest_process_is_killed() {
        let script = "(sleep 100 &); sleep 100 & (trap '' TERM HUP; sleep 100) & echo started; sleep 0.3; exit 5";
        let Some(out) = vk_sh("when_pid_1_exits_every_guest_process_is_killed", script) else { return };
        assert!(!out.timed_out, "vkernel did not exit when PID 1 did; stdout:\n{}", out.stdout_str());
        assert_eq!(out.stdout_str(), "started\n", "stderr: {}", out.stderr_str());
        assert_eq!(out.status, 5, "stderr: {}", out.stderr_str());
        assert!(out.elapsed < Duration::from_secs(10), "vkernel took {:?} to exit after PID 1 did", out.elapsed);
    }
}
