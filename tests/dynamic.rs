//! Dynamically linked programs (PT_INTERP: the host's ld.so and libc from
//! the read-only root) run natively and under vkernel with identical output.

mod common;

use common::{Input, Link};

fn compare_dynamic(name: &str, args: &[&str]) {
    let bin = common::build(name, Link::Dynamic);
    common::compare(&bin, args, &Input::Null);
}

#[test]
fn dynamic_fpu_state_survives_syscalls() {
    compare_dynamic("fpu", &[]);
}

#[test]
fn dynamic_mmap_semantics_match() {
    compare_dynamic("mem_mmap", &[]);
}

#[test]
fn dynamic_file_io_matches() {
    compare_dynamic("files_io", &[]);
}

#[test]
fn dynamic_clocks_match() {
    compare_dynamic("clocks", &[]);
}

#[test]
fn host_dynamic_echo_runs_through_ld_so() {
    common::compare("/bin/echo", &["hello", "from", "ld.so"], &Input::Null);
}

#[test]
fn host_dynamic_sort_reads_a_file() {
    let file = common::scratch_dir().join(common::unique_name("dyn-sort"));
    std::fs::write(&file, "pear\napple\nfig\n").unwrap();
    common::compare("/usr/bin/sort", &[file.to_str().unwrap()], &Input::Null);
    let _ = std::fs::remove_file(file);
}

#[test]
fn host_python3_computes_when_present() {
    if !std::path::Path::new("/usr/bin/python3").exists() {
        eprintln!("SKIPPED host_python3_computes_when_present: no /usr/bin/python3");
        return;
    }
    common::compare("/usr/bin/python3", &["-S", "-c", "import sys; print(sum(range(1000)), sys.byteorder)"], &Input::Null);
}
