//! Guest programs from `tests/guest/*.c`, each built static and static-PIE,
//! run natively and under vkernel: stdout, stderr and exit status must be
//! identical. Plus the command-line contract of the vkernel binary itself.

mod common;

use common::{Input, Link};

/// Build `program` with `link`, run it both ways with `args`, compare.
fn check(program: &str, link: Link, args: &[&str]) {
    let bin = common::build(program, link);
    let native = common::compare(&bin, args, &Input::Null);
    // A guest program's own checks must pass natively, or the test itself is
    // wrong for this host; the fault programs exit non-zero on purpose.
    if program != "faults" {
        assert_eq!(native.status, 0, "{program} fails its own checks natively:\n{}", native.stdout_str());
    }
}

/// One test module per behaviour, with a test per link mode:
/// `<behaviour>::static_` and `<behaviour>::static_pie`.
macro_rules! guest_test {
    ($behaviour:ident, $program:literal $(, $arg:literal)* $(,)?) => {
        mod $behaviour {
            use super::*;

            #[test]
            fn static_() {
                check($program, Link::Static, &[$($arg),*]);
            }

            #[test]
            fn static_pie() {
                check($program, Link::StaticPie, &[$($arg),*]);
            }
        }
    };
}

guest_test!(startup_argv_envp_and_auxv_match_native, "startup", "one", "two words", "", "ümlaut", "-m", "--flag=x",);
guest_test!(brk_grows_shrinks_and_rezeroes_freed_pages, "mem_brk");
guest_test!(anonymous_mmap_munmap_mprotect_madvise_and_their_errors, "mem_mmap");
guest_test!(mremap_grows_shrinks_moves_and_fixes, "mem_mremap");
guest_test!(large_allocations_are_zeroed_and_checksum_like_native, "mem_large");
guest_test!(file_io_read_write_seek_dup_fcntl_close_range, "files_io");
guest_test!(file_metadata_stat_statx_chmod_utimens_access_statfs, "files_meta");
guest_test!(directories_links_renames_and_path_errors, "files_dir");
guest_test!(names_follow_renames_and_removals_of_open_files_and_cwd, "dentry_names");
guest_test!(dev_null_zero_full_random_and_fd_links, "devices");
guest_test!(proc_self_describes_the_process, "procfs", "arg1", "arg 2");
guest_test!(bad_pointers_get_efault_and_unknown_syscalls_enosys, "bad_pointers");
guest_test!(fpu_sse_avx_state_survives_syscalls, "fpu");
guest_test!(general_registers_flags_and_fs_gs_survive_syscalls, "registers");
guest_test!(clocks_advance_and_sleeps_last_long_enough, "clocks");
guest_test!(identity_rlimits_getrandom_affinity_prctl, "identity");
guest_test!(signal_actions_masks_and_altstack_round_trip, "signal_state");
guest_test!(sigtimedwait_takes_a_blocked_signal_arriving_while_it_waits, "sigwait_blocked");
guest_test!(capability_sets_move_like_commoncap_through_setuid_and_exec, "creds_caps");
guest_test!(proc_pid_and_proc_sys_files_match_native, "proc_files");
guest_test!(proc_files_read_after_exec_and_rewind_show_the_present, "proc_reread");
guest_test!(mlock_mlockall_mincore_and_address_space_limits, "mem_lock");
guest_test!(memfd_create_files_names_flags_and_seals, "mem_memfd");
guest_test!(memfd_seals_hold_on_every_write_resize_map_and_chmod_path, "mem_memfd_seals");
guest_test!(file_mappings_on_tmpfs_share_cow_and_sigbus_like_native, "mem_filemap", "/tmp");
guest_test!(file_mappings_on_the_overlay_share_cow_and_sigbus_like_native, "mem_filemap", "/var/tmp");
guest_test!(posix_acls_on_tmpfs_decide_access_follow_chmod_and_are_inherited, "files_acl", "/tmp");
guest_test!(posix_acls_on_the_overlay_decide_access_follow_chmod_and_are_inherited, "files_acl", "/var/tmp");
guest_test!(madv_remove_punches_holes_in_tmpfs_files_and_refuses_like_linux, "mem_madv_remove", "/tmp");
guest_test!(madv_remove_punches_holes_in_dev_shm_files_and_refuses_like_linux, "mem_madv_remove", "/dev/shm");
guest_test!(madv_remove_punches_holes_in_overlay_files_and_refuses_like_linux, "mem_madv_remove", "/var/tmp");

// Ways to die or exit: the status must match (128+N for signal N).
guest_test!(null_write_dies_with_sigsegv_139, "faults", "null-write");
guest_test!(null_read_dies_with_sigsegv_139, "faults", "null-read");
guest_test!(kernel_address_read_dies_with_sigsegv_139, "faults", "kernel-read");
guest_test!(noncanonical_read_dies_with_sigsegv_139, "faults", "noncanonical-read");
guest_test!(write_to_readonly_mapping_dies_with_sigsegv_139, "faults", "readonly-write");
guest_test!(access_after_munmap_dies_with_sigsegv_139, "faults", "after-munmap");
guest_test!(executing_a_noexec_page_dies_with_sigsegv_139, "faults", "exec-noexec");
guest_test!(stack_overflow_dies_with_sigsegv_139, "faults", "stack-overflow");
guest_test!(hlt_in_user_mode_dies_with_sigsegv_139, "faults", "hlt");
guest_test!(ud2_dies_with_sigill_132, "faults", "ud2");
guest_test!(int3_dies_with_sigtrap_133, "faults", "int3");
guest_test!(divide_by_zero_dies_with_sigfpe_136, "faults", "divide-by-zero");
guest_test!(exit_42_exits_42, "faults", "exit", "42");
guest_test!(exit_256_exits_0, "faults", "exit", "256");
guest_test!(exit_syscall_of_the_only_thread_ends_the_process, "faults", "exit-syscall", "7");
guest_test!(return_300_from_main_exits_44, "faults", "return", "300");

/// vkernel's /tmp is its own tmpfs: a fault in a hole of a mapped sparse
/// file, then unlink, gives back exactly the space (issue 8's lost space).
#[test]
fn tmpfs_space_returns_after_a_mapped_hole_is_faulted_and_unlinked() {
    let bin = common::build("mem_memfd", Link::Static);
    let out = common::run_vkernel(&bin, &["tmpfs-space"], &Input::Null);
    assert_eq!(out.status, 0, "{}", out.stdout_str());
}

/// vm.memfd_noexec set by guest root changes what memfd_create makes, as
/// natively; the native run is in its own pid namespace (the setting is
/// per pid namespace there, so the host's is never written).
#[test]
fn memfd_noexec_sysctl_sets_memfd_modes_and_seals_like_native() {
    let bin = common::build("mem_memfd_noexec", Link::Static);
    let host_before = std::fs::read_to_string("/proc/sys/vm/memfd_noexec").ok();
    let native = std::process::Command::new("unshare").args(["-pf", "--mount-proc"]).arg(&bin).stdin(std::process::Stdio::null()).output();
    let native = match native {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).into_owned(),
        other => {
            assert!(std::env::var_os("CI").is_none(), "a native run in a new pid namespace failed: {other:?}");
            eprintln!("SKIPPED: no new pid namespace here");
            return;
        }
    };
    assert_eq!(std::fs::read_to_string("/proc/sys/vm/memfd_noexec").ok(), host_before, "the host's setting changed");
    assert!(native.contains("MFD_EXEC: -1 EACCES"), "the native run is not what the test expects: {native}");
    let out = common::run_vkernel(&bin, &[], &Input::Null);
    assert_eq!(out.stdout_str(), native, "stderr: {}", out.stderr_str());
    assert_eq!(out.status, 0);
}

/// Guest root sets the guest's wall clock (vkernel only: natively this
/// would set the host's); the host's clock never moves.
#[test]
fn guest_root_sets_the_guest_clock_and_never_the_hosts() {
    let bin = common::build("clock_set", Link::Static);
    let before = std::time::SystemTime::now();
    let out = common::run_vkernel(&bin, &[], &Input::Null);
    let drift = std::time::SystemTime::now().duration_since(before).expect("the host clock went back");
    assert_eq!(out.status, 0, "{}{}", out.stdout_str(), out.stderr_str());
    assert!(drift < std::time::Duration::from_secs(600), "the host clock moved: {drift:?}");
}

/// The vkernel command line itself.
mod command_line {
    use super::common::{self, Input, Link, VKERNEL};
    use std::process::Command;

    fn vk(args: &[&str]) -> common::Outcome {
        let mut cmd = common::vkernel();
        cmd.args(args).env_clear().envs(common::guest_env()).current_dir("/");
        common::run_with(cmd, &Input::Null, common::TIMEOUT)
    }

    fn assert_one_line_error(out: &common::Outcome, what: &str) {
        assert_ne!(out.status, 0, "{what}: must exit non-zero");
        assert!(!out.timed_out, "{what}: timed out");
        let err = out.stderr_str();
        assert_eq!(err.trim_end().lines().count(), 1, "{what}: expected exactly one line on stderr, got:\n{err}");
    }

    #[test]
    fn help_exits_zero_and_mentions_m_and_root() {
        let out = vk(&["--help"]);
        assert_eq!(out.status, 0, "--help exit status; stderr: {}", out.stderr_str());
        let text = out.stdout_str() + &out.stderr_str();
        assert!(text.contains("-m"), "--help does not mention -m:\n{text}");
        assert!(text.contains("--root"), "--help does not mention --root:\n{text}");
    }

    #[test]
    fn version_exits_zero_and_prints_a_version() {
        let out = vk(&["--version"]);
        assert_eq!(out.status, 0, "--version exit status");
        let text = out.stdout_str() + &out.stderr_str();
        assert!(!text.trim().is_empty(), "--version printed nothing");
    }

    #[test]
    fn unknown_memory_suffix_is_a_one_line_error() {
        let bin = common::build("faults", Link::Static);
        let out = vk(&["-m", "12q", "--", bin.to_str().unwrap(), "return", "0"]);
        assert_one_line_error(&out, "-m 12q");
    }

    #[test]
    fn memory_too_small_is_a_one_line_error() {
        let bin = common::build("faults", Link::Static);
        let out = vk(&["-m", "4k", "--", bin.to_str().unwrap(), "return", "0"]);
        assert_one_line_error(&out, "-m 4k");
    }

    #[test]
    fn unknown_option_is_a_one_line_error() {
        let bin = common::build("faults", Link::Static);
        let out = vk(&["--no-such-option", "--", bin.to_str().unwrap(), "return", "0"]);
        assert_one_line_error(&out, "--no-such-option");
    }

    #[test]
    fn nonexistent_root_is_an_error() {
        let bin = common::build("faults", Link::Static);
        let out = vk(&["--root", "/nonexistent-vk-root", "--", bin.to_str().unwrap(), "return", "0"]);
        assert_ne!(out.status, 0, "--root /nonexistent must fail");
        assert!(!out.timed_out);
        assert!(!out.stderr.is_empty(), "--root /nonexistent: no message on stderr");
    }

    #[test]
    fn missing_program_exits_127() {
        let out = vk(&["--", "/nonexistent/vk-program"]);
        assert_eq!(out.status, 127, "stderr: {}", out.stderr_str());
    }

    #[test]
    fn no_program_is_an_error() {
        let out = vk(&[]);
        assert_ne!(out.status, 0);
        assert!(!out.timed_out);
    }

    #[test]
    fn memory_sizes_in_every_unit_boot() {
        let bin = common::build("faults", Link::Static);
        let bin = bin.to_str().unwrap();
        for size in ["64m", "64M", "1G", "1g", "268435456", "131072K"] {
            let out = vk(&["-m", size, "--", bin, "return", "5"]);
            assert_eq!(out.status, 5, "-m {size}: exit status; stderr: {}", out.stderr_str());
        }
    }

    #[test]
    fn default_memory_and_no_double_dash_work() {
        let bin = common::build("faults", Link::Static);
        let out = vk(&[bin.to_str().unwrap(), "return", "9"]);
        assert_eq!(out.status, 9, "stderr: {}", out.stderr_str());
        assert_eq!(out.stdout_str(), "about to: return\n");
    }

    #[test]
    fn verbose_flag_keeps_guest_stdout_clean() {
        let bin = common::build("faults", Link::Static);
        let out = vk(&["-v", "--", bin.to_str().unwrap(), "return", "0"]);
        assert_eq!(out.status, 0, "stderr: {}", out.stderr_str());
        assert_eq!(out.stdout_str(), "about to: return\n");
    }

    #[test]
    fn root_directory_becomes_guest_slash() {
        if !common::have_busybox("root_directory_becomes_guest_slash") {
            return;
        }
        let root = common::scratch_dir().join(common::unique_name("vk-root"));
        std::fs::create_dir_all(root.join("bin")).unwrap();
        std::fs::copy(common::BUSYBOX, root.join("bin/busybox")).unwrap();
        std::fs::write(root.join("hello.txt"), "hello from the root\n").unwrap();
        let out = vk(&["--root", root.to_str().unwrap(), "--", "/bin/busybox", "cat", "/hello.txt"]);
        let missing = vk(&["--root", root.to_str().unwrap(), "--", "/bin/busybox", "cat", "/etc/passwd"]);
        let _ = std::fs::remove_dir_all(&root);
        assert_eq!(out.status, 0, "stderr: {}", out.stderr_str());
        assert_eq!(out.stdout_str(), "hello from the root\n");
        assert_ne!(missing.status, 0, "host /etc/passwd visible through --root");
    }
}
