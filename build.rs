//! Assembles the ptrace stub (src/platform/ptrace/stub.s) into a tiny static
//! ELF linked at the top of the guest address space. vkernel embeds it and
//! executes it from a memfd; see src/platform/ptrace/stub.rs.
use std::{env, path::PathBuf, process::Command};

/// Must equal `STUB_BASE` in src/platform/ptrace/stub.rs.
const STUB_BASE: &str = "0x7fffff000000";

fn main() {
    let out = PathBuf::from(env::var("OUT_DIR").unwrap()).join("stub.elf");
    let cc = env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let status = Command::new(&cc)
        .args(["-nostdlib", "-static", "-no-pie", "-Wl,--build-id=none", "-Wl,-z,noexecstack", "-Wl,-z,max-page-size=4096"])
        .arg(format!("-Wl,-Ttext-segment={STUB_BASE}"))
        .arg("-o")
        .arg(&out)
        .arg("src/platform/ptrace/stub.s")
        .status()
        .expect("running the C compiler to assemble the stub");
    assert!(status.success(), "assembling src/platform/ptrace/stub.s failed");
    let strip = Command::new("strip").arg(&out).status();
    if let Ok(s) = strip {
        assert!(s.success(), "strip failed");
    }
    println!("cargo:rerun-if-changed=src/platform/ptrace/stub.s");
    println!("cargo:rerun-if-changed=build.rs");
}
