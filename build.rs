//! Assembles the ptrace stub (src/platform/ptrace/stub.s) into a tiny static
//! ELF linked at the top of the guest address space. vkernel embeds it and
//! executes it from a memfd; see src/platform/ptrace/stub.rs.
use std::{env, path::PathBuf, process::Command};

/// Must equal `STUB_BASE` in src/platform/ptrace/stub.rs.
const STUB_BASE: &str = "0x7fffff000000";

fn main() {
    assemble("src/platform/ptrace/stub.s", "stub.elf");
    assemble("src/platform/seccomp/stub.s", "seccomp_stub.elf");
    println!("cargo:rerun-if-changed=build.rs");
}

/// Assembles one stub into a static ELF at STUB_BASE in OUT_DIR.
fn assemble(source: &str, name: &str) {
    let out = PathBuf::from(env::var("OUT_DIR").unwrap()).join(name);
    let cc = env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let status = Command::new(&cc)
        .args(["-nostdlib", "-static", "-no-pie", "-Wl,--build-id=none", "-Wl,-z,noexecstack", "-Wl,-z,max-page-size=4096"])
        .arg(format!("-Wl,-Ttext-segment={STUB_BASE}"))
        .arg("-o")
        .arg(&out)
        .arg(source)
        .status()
        .expect("running the C compiler to assemble the stub");
    assert!(status.success(), "assembling {source} failed");
    let strip = Command::new("strip").arg(&out).status();
    if let Ok(s) = strip {
        assert!(s.success(), "strip failed");
    }
    println!("cargo:rerun-if-changed={source}");
}
