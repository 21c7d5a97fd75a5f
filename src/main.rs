//! vkernel: a Linux-compatible kernel that runs as an ordinary process and
//! hosts unmodified x86-64 Linux programs as its guests. This file is the
//! command line, boot and shutdown; see docs/architecture.md for the rest.

mod abi;
mod block;
mod fs;
mod kernel;
mod mm;
mod net;
mod platform;
mod sched;
mod signal;
mod syscall;
mod task;
mod tty;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// Run a Linux program, or a whole Linux userland, inside a virtual kernel.
#[derive(Parser, Debug)]
#[command(name = "vkernel", version, about, long_about = None, trailing_var_arg = true)]
struct Options {
    /// Guest RAM: bytes, or with a K, M or G suffix (e.g. 64m, 1G); the
    /// host spends only what the guest touches
    #[arg(short = 'm', long = "memory", value_name = "SIZE", default_value = "1G", value_parser = parse_size)]
    memory: u64,

    /// Host directory the guest's / shows (default: the host's /, unless a
    /// -r disk or a -c CD-ROM alone is the root); guest writes go to a
    /// copy-on-write layer in guest RAM, never to the host
    #[arg(long = "root", value_name = "DIR")]
    root: Option<PathBuf>,

    /// A disk image, read-write, as /dev/vda, /dev/vdb, ... (raw or qcow2;
    /// repeatable, at most 16)
    #[arg(short = 'r', value_name = "FILE")]
    disks: Vec<PathBuf>,

    /// A CD-ROM image, read-only, as /dev/sr0, /dev/sr1, ... (repeatable)
    #[arg(short = 'c', value_name = "FILE")]
    cdroms: Vec<PathBuf>,

    /// Kernel environment NAME=VALUE, e.g. root=/dev/vda1 (repeatable)
    #[arg(short = 'e', value_name = "NAME=VALUE", value_parser = parse_kernel_env)]
    kernel_env: Vec<(String, String)>,

    /// Show the root read-only instead (writes outside /tmp are EROFS; a
    /// disk root is mounted read-only)
    #[arg(long = "read-only")]
    read_only: bool,

    /// Mount host directory HOST read-write at GUEST (read-only with :ro);
    /// repeatable
    #[arg(long = "share", value_name = "HOST:GUEST[:ro]", value_parser = parse_share)]
    shares: Vec<kernel::boot::Share>,

    /// Write vkernel's own process id to FILE
    #[arg(short = 'p', long = "pidfile", value_name = "FILE")]
    pidfile: Option<PathBuf>,

    /// Verbose: log unimplemented system calls and guest faults to stderr
    #[arg(short = 'v', long = "verbose")]
    verbose: bool,

    /// Map vkernel's vDSO into guests (on), so they read the clocks without
    /// a system call, or not (off, or -e vdso=0: no AT_SYSINFO_EHDR, every
    /// clock read traps)
    #[arg(long = "vdso", value_name = "on|off", default_value = "on", action = clap::ArgAction::Set, value_parser = parse_on_off)]
    vdso: bool,
    /// How guest code runs: seccomp (seccomp traps over shared memory, the
    /// default where the host allows it) or ptrace (the fallback). Without
    /// it, the VKERNEL_PLATFORM environment variable may name one
    #[arg(long = "platform", value_name = "ptrace|seccomp", value_parser = parse_platform)]
    platform: Option<platform::PlatformChoice>,

    /// The program to run as guest PID 1, and its arguments
    #[arg(value_name = "PROGRAM", required = true, num_args = 1..)]
    command: Vec<OsString>,
}

/// Smallest guest RAM that can hold a program and its page tables' frames.
const MIN_MEMORY: u64 = 4 << 20;

fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (digits, mult) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let mult = match c.to_ascii_lowercase() {
                'k' => 1u64 << 10,
                'm' => 1 << 20,
                'g' => 1 << 30,
                't' => 1 << 40,
                _ => return Err(format!("'{s}' has an unknown unit '{c}': use a number of bytes or a K, M or G suffix (e.g. 64m)")),
            };
            (&s[..i], mult)
        }
        _ => (s, 1),
    };
    let n: u64 = digits.parse().map_err(|_| format!("'{s}' is not a size: use a number of bytes or a K, M or G suffix (e.g. 64m)"))?;
    let bytes = n.checked_mul(mult).ok_or_else(|| format!("'{s}' is too large"))?;
    if bytes < MIN_MEMORY {
        return Err(format!("'{s}' is too small: the guest needs at least 4m of memory"));
    }
    if bytes > 1 << 44 {
        return Err(format!("'{s}' is too large: at most 16T"));
    }
    Ok(bytes & !(abi::PAGE_SIZE - 1))
}

fn parse_platform(s: &str) -> Result<platform::PlatformChoice, String> {
    match s {
        "ptrace" => Ok(platform::PlatformChoice::Ptrace),
        "seccomp" => Ok(platform::PlatformChoice::Seccomp),
        _ => Err(format!("unknown platform '{s}' (use ptrace or seccomp)")),
    }
}

/// `NAME=VALUE` for -e: NAME non-empty, without blanks.
fn parse_kernel_env(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((name, value)) if !name.is_empty() && !name.contains(char::is_whitespace) => Ok((name.to_string(), value.to_string())),
        Some(_) => Err("the name before '=' must be non-empty and without blanks (e.g. -e root=/dev/vda1)".to_string()),
        None => Err("use NAME=VALUE (e.g. -e root=/dev/vda1)".to_string()),
    }
}

fn parse_on_off(s: &str) -> Result<bool, String> {
    match s {
        "on" | "1" => Ok(true),
        "off" | "0" => Ok(false),
        _ => Err(format!("'{s}' is neither on nor off")),
    }
}

/// `HOST:GUEST[:ro|:rw]`: HOST an existing directory, GUEST absolute and
/// without `.` or `..` components.
fn parse_share(s: &str) -> Result<kernel::boot::Share, String> {
    // clap shows the value itself; these say what is wrong with it.
    let parts: Vec<&str> = s.split(':').collect();
    let (host, guest, read_only) = match parts.as_slice() {
        [host, guest] => (*host, *guest, false),
        [host, guest, "ro"] => (*host, *guest, true),
        [host, guest, "rw"] => (*host, *guest, false),
        [_, _, other] => return Err(format!("unknown suffix ':{other}' (use :ro or :rw)")),
        _ => return Err("use HOST:GUEST or HOST:GUEST:ro".to_string()),
    };
    if host.is_empty() {
        return Err("the host directory is missing (HOST:GUEST)".to_string());
    }
    match std::fs::metadata(host) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(format!("{host} is not a directory")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(format!("{host} does not exist")),
        Err(e) => return Err(format!("{host}: {e}")),
    }
    if !guest.starts_with('/') {
        return Err(format!("the guest path '{guest}' must be absolute"));
    }
    if guest.split('/').any(|c| c == "." || c == "..") {
        return Err(format!("the guest path '{guest}' must not contain . or .."));
    }
    let guest = guest.trim_end_matches('/');
    if guest.is_empty() {
        return Err("a share cannot be mounted on / (use --root)".to_string());
    }
    Ok(kernel::boot::Share { host: PathBuf::from(host), guest: guest.to_string(), read_only })
}

fn fail(msg: impl std::fmt::Display, code: u8) -> ExitCode {
    eprintln!("vkernel: {msg}");
    ExitCode::from(code)
}

fn main() -> ExitCode {
    platform::host::system::single_malloc_arena();
    let options = match Options::try_parse() {
        Ok(o) => o,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand) {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            // One line for a person: clap's first line without its prefix,
            // or for an unknown option, its name.
            if e.kind() == ErrorKind::UnknownArgument {
                if let Some(clap::error::ContextValue::String(arg)) = e.get(clap::error::ContextKind::InvalidArg) {
                    return fail(format!("unknown option '{arg}' (see vkernel --help; put -- before a program whose name starts with '-')"), 2);
                }
            }
            let text = e.render().to_string();
            let first = text.lines().next().unwrap_or("bad arguments").trim_start_matches("error: ");
            return fail(format!("{first} (see vkernel --help)"), 2);
        }
    };
    // `-e vdso=0` says what `--vdso off` says, as Linux's vdso=0 boot
    // parameter does; the last word wins.
    let mut vdso = options.vdso;
    for (name, value) in &options.kernel_env {
        if name == "vdso" {
            match parse_on_off(value) {
                Ok(on) => vdso = on,
                Err(e) => return fail(format!("-e vdso={value}: {e} (use vdso=0 or vdso=1)"), 2),
            }
        }
    }
    let platform = match options.platform {
        Some(p) => Some(p),
        None => match std::env::var("VKERNEL_PLATFORM") {
            Ok(v) if !v.is_empty() => match parse_platform(&v) {
                Ok(p) => Some(p),
                Err(e) => return fail(format!("VKERNEL_PLATFORM: {e}"), 2),
            },
            _ => None,
        },
    };
    // Whatever the guest did to the host terminal is undone on every way
    // out: a normal exit, a boot error, or a panic in a kernel thread.
    sched::panic::install_hook(tty::console::restore_host_terminal);
    let result = kernel::boot::boot(kernel::boot::BootOptions {
        memory: options.memory,
        root: options.root,
        disks: options.disks,
        cdroms: options.cdroms,
        kernel_env: options.kernel_env,
        read_only: options.read_only,
        shares: options.shares,
        pidfile: options.pidfile,
        verbose: options.verbose,
        vdso,
        platform,
        command: options.command,
    });
    tty::console::restore_host_terminal();
    match result {
        Ok(code) => ExitCode::from(code),
        Err((msg, code)) => fail(msg, code),
    }
}
