//! vkernel: a Linux-compatible kernel that runs as an ordinary process and
//! hosts unmodified x86-64 Linux programs as its guests. This file is the
//! command line, boot and shutdown; see docs/architecture.md for the rest.

mod abi;
mod block;
mod fs;
mod kernel;
mod mm;
mod platform;
mod signal;
mod syscall;
mod task;
mod tty;

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;

use abi::Errno;
use kernel::{Config, Kernel};

/// Run a Linux program, or a whole Linux userland, inside a virtual kernel.
#[derive(Parser, Debug)]
#[command(name = "vkernel", version, about, long_about = None, trailing_var_arg = true)]
struct Options {
    /// Guest RAM: bytes, or with a K, M or G suffix (e.g. 64m, 1G)
    #[arg(short = 'm', long = "memory", value_name = "SIZE", default_value = "256m", value_parser = parse_size)]
    memory: u64,

    /// Host directory shown read-only as the guest's / (default: the host's /)
    #[arg(long = "root", value_name = "DIR", default_value = "/")]
    root: PathBuf,

    /// Write vkernel's own process id to FILE
    #[arg(short = 'p', long = "pidfile", value_name = "FILE")]
    pidfile: Option<PathBuf>,

    /// Verbose: log unimplemented system calls and guest faults to stderr
    #[arg(short = 'v', long = "verbose")]
    verbose: bool,

    /// The program to run as guest PID 1, and its arguments
    #[arg(value_name = "PROGRAM", required = true, num_args = 1.., allow_hyphen_values = true)]
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

fn fail(msg: impl std::fmt::Display, code: u8) -> ExitCode {
    eprintln!("vkernel: {msg}");
    ExitCode::from(code)
}

fn main() -> ExitCode {
    let options = match Options::try_parse() {
        Ok(o) => o,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand) {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            // One line for a person: clap's first line without its prefix.
            let text = e.render().to_string();
            let first = text.lines().next().unwrap_or("bad arguments").trim_start_matches("error: ");
            return fail(format!("{first} (see vkernel --help)"), 2);
        }
    };
    // Whatever the guest did to the host terminal is undone on every way
    // out: a normal exit, a boot error, or a panic in a kernel thread.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        tty::console::restore_host_terminal();
        default_hook(info);
    }));
    let result = boot(options);
    tty::console::restore_host_terminal();
    match result {
        Ok(code) => ExitCode::from(code),
        Err((msg, code)) => fail(msg, code),
    }
}

fn boot(options: Options) -> Result<u8, (String, u8)> {
    let root = &options.root;
    match std::fs::metadata(root) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err((format!("--root {}: not a directory", root.display()), 2)),
        Err(e) => return Err((format!("--root {}: {e}", root.display()), 2)),
    }
    if let Some(pidfile) = &options.pidfile {
        std::fs::write(pidfile, format!("{}\n", std::process::id())).map_err(|e| (format!("-p {}: {e}", pidfile.display()), 2))?;
    }
    let phys = Arc::new(mm::frame::PhysMemory::new(options.memory).map_err(|e| (format!("cannot allocate {} bytes of guest memory: {e}", options.memory), 1))?);
    mm::frame::install_guest_ram(phys.clone());
    let platform = platform::create(phys.clone()).map_err(|e| (format!("cannot start the platform: {e}"), 1))?;
    let hostname = hostname();
    let kernel = Kernel::new(Config { memory: options.memory, verbose: options.verbose, hostname }, phys.clone(), platform);
    fs::boot::mount_boot_filesystems(&kernel, root).map_err(|e| (e, 1))?;

    let root_path = kernel.root();
    let fs_context = fs::FsContext { root: root_path.clone(), cwd: initial_cwd(&kernel, &root_path), umask: current_umask() };
    let files = tty::console::stdio_fd_table(&kernel);
    let init = task::Task::new_init(kernel.clone(), mm::Mm::new(phys), fs_context, files);

    let argv: Vec<Vec<u8>> = options.command.iter().map(|a| a.as_bytes().to_vec()).collect();
    let envp: Vec<Vec<u8>> = std::env::vars_os().map(|(k, v)| [k.as_bytes(), b"=", v.as_bytes()].concat()).collect();
    let program = argv[0].clone();
    let image = find_and_load(&init, &program, argv, envp).map_err(|e| {
        let shown = String::from_utf8_lossy(&program).into_owned();
        match e {
            Errno::ENOENT => (format!("{shown}: no such file or directory in the guest's root"), 127),
            Errno::EACCES => (format!("{shown}: permission denied (not an executable regular file)"), 126),
            Errno::ENOEXEC => (format!("{shown}: exec format error (not an x86-64 ELF program or #! script)"), 126),
            other => (format!("{shown}: cannot execute: {other}"), 126),
        }
    })?;
    init.set_mm(image.mm);
    init.set_comm(&image.comm);
    *init.exe.lock() = image.exe_path;
    let regs = image.regs;

    let runner = init.clone();
    let thread = std::thread::Builder::new()
        .name("vkernel-task-1".into())
        .spawn(move || task::run::run(runner, regs, None))
        .map_err(|e| (format!("cannot start a kernel thread: {e}"), 1))?;
    let status = thread.join().map_err(|_| ("kernel thread panicked".to_string(), 70))?;
    Ok(status.shell_code() as u8)
}

/// Resolves PROGRAM like a shell: a name without '/' is searched in PATH.
fn find_and_load(init: &Arc<task::Task>, program: &[u8], argv: Vec<Vec<u8>>, envp: Vec<Vec<u8>>) -> Result<task::exec::Image, Errno> {
    use fs::lookup::AT_FDCWD;
    if program.contains(&b'/') {
        return task::exec::load(init, AT_FDCWD, program, argv, envp, false);
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    let mut first_error = Errno::ENOENT;
    for dir in path.as_bytes().split(|&c| c == b':').filter(|d| !d.is_empty()) {
        let candidate = [dir, b"/", program].concat();
        match task::exec::load(init, AT_FDCWD, &candidate, argv.clone(), envp.clone(), false) {
            Ok(image) => return Ok(image),
            Err(Errno::ENOENT) | Err(Errno::ENOTDIR) => {}
            Err(e) => {
                if first_error == Errno::ENOENT {
                    first_error = e;
                }
            }
        }
    }
    Err(first_error)
}

/// PID 1 starts in vkernel's own working directory when the guest root
/// has it (the host's / by default), else in /.
fn initial_cwd(kernel: &Arc<Kernel>, root: &fs::path::Path) -> fs::path::Path {
    let Ok(cwd) = std::env::current_dir() else { return root.clone() };
    let creds = task::Creds::from_host();
    let search = |md: &fs::inode::Metadata| fs::lookup::may_access(&creds, md, fs::lookup::MAY_EXEC);
    let cx = fs::path::WalkContext { mounts: &kernel.mounts, root, start: root, may_search: &search };
    match fs::path::walk(&cx, cwd.as_os_str().as_bytes(), true) {
        Ok(p) if p.metadata().map(|m| m.is_dir()).unwrap_or(false) => p,
        _ => root.clone(),
    }
}

fn current_umask() -> u32 {
    // SAFETY: umask has no preconditions; we put the old value back.
    unsafe {
        let old = libc::umask(0o022);
        libc::umask(old);
        old
    }
}

fn hostname() -> Vec<u8> {
    let mut buf = [0u8; 65];
    // SAFETY: gethostname into a local buffer of the stated size.
    unsafe { libc::gethostname(buf.as_mut_ptr() as *mut libc::c_char, 64) };
    buf.iter().take_while(|&&c| c != 0).copied().collect()
}
