//! Boot: guest RAM, the platform, the system tables, the mount tree (at /
//! Boot: guest RAM, the platform, the system tables, the mount tree (at /
//! a disk's filesystem, or an overlay of the host directory under a tmpfs
//! upper layer, or with --read-only the host directory itself read-only;
//! tmpfs on /tmp and /dev/shm, devfs on /dev, devpts on /dev/pts, procfs on
//! /proc, sysfs on /sys, then the --share directories), PID 1's files and
//! program, and its kernel thread; when PID 1 exits, shutdown. Errors are
//! one line for a person and an exit status.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::sync::Arc;

use crate::abi::Errno;
use crate::fs::FsContext;
use crate::fs::inode::InodeRef;
use crate::fs::path::{Path, WalkContext, walk};
use crate::fs::{devfs, devpts, hostfs, overlay, procfs, share, sysfs, tmpfs};
use crate::mm::Mm;
use crate::task::Task;
use crate::task::exec;
use crate::task::system::{Config, System};

/// A host directory to mount in the guest (`--share HOST:GUEST[:ro]`).
#[derive(Clone, Debug)]
pub struct Share {
    pub host: PathBuf,
    /// Absolute, without `.` or `..` components or a trailing slash.
    pub guest: String,
    pub read_only: bool,
}

/// What the command line asks of the machine.
pub struct BootOptions {
    pub memory: u64,
    /// `--root`; None when not given (the host's /).
    pub root: Option<PathBuf>,
    /// `-r` images: read-write disks vda, vdb, ...
    pub disks: Vec<PathBuf>,
    /// `-c` images: read-only CD-ROMs sr0, ...
    pub cdroms: Vec<PathBuf>,
    /// `-e NAME=VALUE` in order (root=, ...).
    pub kernel_env: Vec<(String, String)>,
    /// The host directory itself at /, read-only (no overlay).
    pub read_only: bool,
    pub shares: Vec<Share>,
    pub pidfile: Option<PathBuf>,
    pub verbose: bool,
    /// Map the vDSO into guests (`--vdso`).
    pub vdso: bool,
    /// --platform, or None for the best the host allows.
    pub platform: Option<crate::platform::PlatformChoice>,
    pub command: Vec<OsString>,
}

pub fn boot(options: BootOptions) -> Result<u8, (String, u8)> {
    // SIGTERM becomes a clean shutdown (kernel/shutdown.rs): blocked here,
    // before any thread exists, so every thread inherits the mask.
    crate::platform::host::termination::block_sigterm();
    // The clocks' calibration runs while the machine is put together.
    crate::sched::vclock::start();
    // The CPUs vkernel may use, read before any kernel thread pins itself.
    crate::platform::host::system::allowed_cpus();
    // Disk images are opened and locked before anything else, so a bad one
    // is an error before boot; so is a root that cannot be.
    let disks = crate::block::registry::open_at_boot(&options.disks, &options.cdroms).map_err(|e| (e, 2))?;
    register_filesystem_types();
    let root = choose_root(&options, &disks)?;
    if let RootSource::Host(dir) = &root {
        match std::fs::metadata(dir) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Err((format!("--root {}: not a directory", dir.display()), 2)),
            Err(e) => return Err((format!("--root {}: {e}", dir.display()), 2)),
        }
    }
    if let Some(pidfile) = &options.pidfile {
        std::fs::write(pidfile, format!("{}\n", std::process::id())).map_err(|e| (format!("-p {}: {e}", pidfile.display()), 2))?;
    }
    let phys =
        Arc::new(crate::mm::frame::PhysMemory::new(options.memory).map_err(|e| (format!("cannot allocate {} bytes of guest memory: {e}", options.memory), 1))?);
    crate::mm::frame::install_guest_ram(phys.clone());
    if options.vdso {
        crate::mm::vdso::install(&phys).map_err(|e| (format!("cannot put the vDSO in guest memory: {e}"), 1))?;
    }
    return_free_pages_periodically(Arc::downgrade(&phys));
    // The platform starts (the seccomp one makes its first stub process,
    // a millisecond or more) while the machine is put together: no task
    // runs before it is there.
    let platform_memory: Arc<dyn crate::platform::GuestMemory> = phys.clone();
    let choice = options.platform;
    let platform_start = std::thread::Builder::new()
        .name("vkernel-boot".into())
        .spawn(move || crate::platform::create(platform_memory, choice).map_err(|e| e.to_string()))
        .map_err(|e| (format!("cannot start the platform: {e}"), 1))?;
    arm_test_hooks();
    let system = System::new(Config { memory: options.memory, verbose: options.verbose }, phys.clone());
    crate::sched::processes::install(system.clone());
    log_boot(options.memory);
    crate::mm::oom::install(system.clone());
    crate::fs::procfs::install_view(system.clone());
    crate::fs::devfs::register_devices();
    crate::tty::register_devices();
    register_block_devices(disks);
    mount_boot_filesystems(&system, &root, options.read_only, &options.shares).map_err(|e| (e, 1))?;
    super::shutdown::handle_sigterm(&system);

    let root_path = system.root();
    let fs_context = FsContext { root: root_path.clone(), cwd: initial_cwd(&system, &root_path), umask: crate::platform::host::system::umask() };
    let files = crate::tty::console::stdio_fd_table(&root_path, &system.mounts);
    let init = Task::new_init(system.clone(), Mm::new(phys), fs_context, files);
    crate::platform::host::system::raise_open_file_limit();

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

    let (platform, why) = platform_start
        .join()
        .map_err(|_| ("cannot start the platform: it panicked".to_string(), 70))?
        .map_err(|e| (format!("cannot start the platform: {e}"), 1))?;
    if options.verbose {
        eprintln!("vkernel: platform {}: {why}", platform.name());
    }
    // Kernel threads unpinned: each guest thread's host thread is its own
    // and follows the guest's sched_setaffinity.
    let _ = super::PLATFORM.set(platform);
    let (init_job, init_thread) = super::run::spawn_init_thread().map_err(|e| (format!("cannot start a kernel thread: {e}"), 1))?;
    let clocks = crate::sched::vclock::enable();
    if options.verbose {
        if options.vdso {
            eprintln!("vkernel: {clocks}");
        } else {
            eprintln!("vkernel: no vDSO (--vdso off or -e vdso=0): every clock read is a system call");
        }
    }
    init_job.send((init.clone(), regs)).map_err(|_| ("kernel thread panicked".to_string(), 70))?;
    let status = init_thread.join().ok().flatten().ok_or_else(|| ("kernel thread panicked".to_string(), 70));
    if let Some(stats) = options.verbose.then(|| super::PLATFORM.get().and_then(|p| p.stats())).flatten() {
        eprintln!("vkernel: platform {}: {stats}", super::PLATFORM.get().map_or("", |p| p.name()));
    }
    // PID 1 is gone: the machine shuts down (disks written back, unmounted).
    super::shutdown::run(&system);
    Ok(status?.shell_code() as u8)
}

/// Resolves PROGRAM like a shell: a name without '/' is searched in PATH.
fn find_and_load(init: &Arc<Task>, program: &[u8], argv: Vec<Vec<u8>>, envp: Vec<Vec<u8>>) -> Result<exec::Image, Errno> {
    use crate::abi::fcntl::AT_FDCWD;
    if program.contains(&b'/') {
        return exec::load(init, AT_FDCWD, program, argv, envp, false);
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    let mut first_error = Errno::ENOENT;
    for dir in path.as_bytes().split(|&c| c == b':').filter(|d| !d.is_empty()) {
        let candidate = [dir, b"/", program].concat();
        match exec::load(init, AT_FDCWD, &candidate, argv.clone(), envp.clone(), false) {
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
fn initial_cwd(system: &Arc<System>, root: &Path) -> Path {
    let Ok(cwd) = std::env::current_dir() else { return root.clone() };
    let creds = crate::sched::Creds::from_host();
    let search =
        |inode: &dyn crate::fs::inode::Inode, md: &crate::fs::inode::Metadata| crate::fs::lookup::may_access(&creds, inode, md, crate::fs::lookup::MAY_EXEC);
    let cx = WalkContext { mounts: &system.mounts, root, start: root, may_search: &search };
    match walk(&cx, cwd.as_os_str().as_bytes(), true) {
        Ok(p) if p.metadata().map(|m| m.is_dir()).unwrap_or(false) => p,
        _ => root.clone(),
    }
}

/// Mount points vkernel needs at the root. A read-only host root shows
/// them as empty directories when the host tree lacks them; an overlay
/// makes them in its upper layer, a writable disk root on the disk.
const MOUNT_POINTS: &[&str] = &["tmp", "dev", "proc", "sys"];

/// Where `/` comes from.
enum RootSource {
    /// A host directory (`--root`, or the host's / by default): under an
    /// overlay, or read-only with --read-only.
    Host(PathBuf),
    /// A filesystem on a disk, a partition or a CD-ROM.
    Device { node: Arc<crate::block::registry::BlockNode>, fstype: crate::fs::fstype::FileSystemType },
}

/// Every filesystem type the machine knows, for mount(2) and the root.
fn register_filesystem_types() {
    crate::fs::fstype::register_builtin();
    crate::fs::ext4::vfs::register();
}

/// Picks the root: `--root DIR`; else the disk or partition `-e
/// root=/dev/NAME` names; else the first `-r` disk (the whole disk, or its
/// first partition holding a filesystem), or without one the first `-c`
/// CD-ROM; else the host's /. A disk that holds nothing bootable is an
/// error before boot.
fn choose_root(options: &BootOptions, disks: &crate::block::registry::Registry) -> Result<RootSource, (String, u8)> {
    use crate::block::registry::DiskKind;
    use crate::fs::fstype::probe;
    let named = options.kernel_env.iter().rev().find(|(k, _)| k == "root").map(|(_, v)| v.as_str());
    if let Some(dir) = &options.root {
        if let Some(name) = named {
            return Err((format!("--root {} and -e root={name} both name the root: give one of them", dir.display()), 2));
        }
        return Ok(RootSource::Host(dir.clone()));
    }
    let nodes = disks.all_nodes();
    if let Some(name) = named {
        let short = name.strip_prefix("/dev/").unwrap_or(name);
        let Some(node) = nodes.iter().find(|n| n.name == short) else {
            let known: Vec<String> = nodes.iter().map(|n| format!("/dev/{}", n.name)).collect();
            let known = if known.is_empty() { "none: give a disk with -r".to_string() } else { known.join(", ") };
            return Err((format!("-e root={name}: no such disk or partition (there are: {known})"), 2));
        };
        let fstype = probe(&*node.device)
            .ok_or_else(|| (format!("-e root={name}: no filesystem vkernel can mount there (it reads ext2, ext3, ext4 and ISO 9660)"), 2))?;
        return Ok(RootSource::Device { node: node.clone(), fstype });
    }
    let first = disks.disks().iter().find(|d| d.node.kind == DiskKind::Virtio).or_else(|| disks.disks().first());
    let Some(disk) = first else { return Ok(RootSource::Host(PathBuf::from("/"))) };
    let candidates = std::iter::once(disk.node.clone()).chain(disk.partitions());
    for node in candidates {
        if let Some(fstype) = probe(&*node.device) {
            return Ok(RootSource::Device { node, fstype });
        }
    }
    let option = if disk.node.kind == DiskKind::Cdrom { "-c" } else { "-r" };
    Err((
        format!(
            "{option} {}: no filesystem to boot from on the disk or its partitions (vkernel reads ext2, ext3, ext4 and ISO 9660: make one with mkfs.ext4, or give --root DIR to use the disk only as /dev/{})",
            disk.image.display(),
            disk.node.name
        ),
        2,
    ))
}

/// Mounts the root filesystem a device holds: read-only with --read-only
/// or on a read-only device (as mount(8) falls back to for one).
fn mount_root_device(
    kernel: &Arc<System>,
    node: &crate::block::registry::BlockNode,
    fstype: &crate::fs::fstype::FileSystemType,
    read_only: bool,
) -> Result<Path, String> {
    use crate::fs::path::{MNT_READONLY, MNT_RELATIME};
    let source = format!("/dev/{}", node.name);
    let (flags, mnt_flags) = if read_only || node.read_only() { (crate::abi::mount::MS_RDONLY, MNT_READONLY | MNT_RELATIME) } else { (0, MNT_RELATIME) };
    let rdev = crate::fs::blkdev::rdev_of(node);
    let sb = crate::fs::fstype::get_super(fstype, Some(rdev), &source, flags, "").map_err(|e| format!("cannot mount {source} ({}) as /: {e}", fstype.name))?;
    let root = crate::fs::path::Dentry::root(sb.root.clone());
    let m = kernel.mounts.attach(sb, root, b"/".to_vec(), None, &source, mnt_flags).map_err(|e| format!("cannot mount {source} as /: {e}"))?;
    Ok(Path { dentry: m.root.clone(), mount: m })
}

/// / from a host directory: an overlay over it, or itself read-only.
fn mount_host_root(kernel: &System, root_dir: &std::path::Path, read_only: bool, tmpfs_size: u64) -> Result<Path, String> {
    let mounts = &kernel.mounts;
    let source = root_dir.display().to_string();
    let root_mount = if read_only {
        let host_root = hostfs::HostFs::new_root(root_dir, MOUNT_POINTS)?;
        mounts.mount(host_root, None, "hostfs", &source, true)
    } else {
        let lower = hostfs::HostFs::new_root(root_dir, &[])?;
        let root = overlay::new_overlay(lower, tmpfs_size).map_err(|e| format!("cannot build the overlay over {source}: {e}"))?;
        let options = format!("lowerdir={}", mount_option(&source));
        mounts.mount_with_options(root, None, "overlay", "overlay", false, &options)
    }
    .map_err(|e| format!("cannot mount {source} at /: {e}"))?;
    Ok(Path { dentry: root_mount.root.clone(), mount: root_mount })
}

/// The root, then the kernel filesystems where the root has directories
/// for them (a writable root gets the missing ones; on a read-only disk
/// such as a CD-ROM a missing one is skipped, as Linux's devtmpfs
/// automount skips a missing /dev), then the shares.
fn mount_boot_filesystems(kernel: &Arc<System>, source: &RootSource, read_only: bool, shares: &[Share]) -> Result<(), String> {
    // Linux's tmpfs default: half of RAM (the overlay's upper layer too).
    let tmpfs_size = kernel.config.memory / 2;
    let root = match source {
        RootSource::Host(root_dir) => mount_host_root(kernel, root_dir, read_only, tmpfs_size)?,
        RootSource::Device { node, fstype } => mount_root_device(kernel, node, fstype, read_only)?,
    };
    *kernel.root.lock() = Some(root.clone());
    if !root.mount.read_only() {
        for point in MOUNT_POINTS {
            make_mount_point(kernel, &root, &format!("/{point}"))?;
        }
    }
    let present = |at: &str| walk_boot(kernel, &root, at).is_ok_and(|p| p.metadata().is_ok_and(|m| m.is_dir()));
    if present("/tmp") {
        mount_at(kernel, &root, "/tmp", tmpfs::new_tmpfs(tmpfs_size, 0o1777, 0, 0), "tmpfs", "tmpfs")?;
    }
    if present("/dev") {
        let dev = devfs::devtmpfs().map_err(|e| format!("cannot build /dev: {e}"))?;
        mount_at(kernel, &root, "/dev", dev, "devtmpfs", "udev")?;
        mount_at(kernel, &root, "/dev/shm", tmpfs::new_tmpfs(tmpfs_size, 0o1777, 0, 0), "tmpfs", "tmpfs")?;
        mount_at(kernel, &root, "/dev/pts", devpts::new_devpts(), "devpts", "devpts")?;
    }
    if present("/proc") {
        mount_at(kernel, &root, "/proc", procfs::new_procfs(), "proc", "proc")?;
    }
    if present("/sys") {
        mount_at(kernel, &root, "/sys", sysfs::new_sysfs(), "sysfs", "sysfs")?;
    }
    for s in shares {
        mount_share(kernel, &root, s)?;
    }
    Ok(())
}

/// /proc/mounts separates options with commas and fields with blanks.
fn mount_option(value: &str) -> String {
    value.chars().map(|c| if matches!(c, ',' | ' ' | '\t' | '\n' | '\\') { format!("\\{:03o}", c as u32) } else { c.to_string() }).collect()
}

fn mount_share(kernel: &System, root: &Path, s: &Share) -> Result<(), String> {
    let what = format!("--share {}:{}", s.host.display(), s.guest);
    let fs = share::ShareFs::new_root(&s.host, !s.read_only).map_err(|e| format!("{what}: {e}"))?;
    make_mount_point(kernel, root, &s.guest).map_err(|e| format!("{what}: {e}"))?;
    let place = walk_boot(kernel, root, &s.guest).map_err(|e| format!("{what}: {} in the guest: {e}", s.guest))?;
    let source = std::fs::canonicalize(&s.host).unwrap_or_else(|_| s.host.clone()).display().to_string();
    kernel.mounts.mount(fs, Some(&place), "hostfs", &source, s.read_only).map_err(|e| format!("{what}: {e}"))?;
    Ok(())
}

fn walk_boot(kernel: &System, root: &Path, at: &str) -> Result<Path, Errno> {
    let search = |_: &dyn crate::fs::inode::Inode, _: &crate::fs::inode::Metadata| Ok(());
    let cx = WalkContext { mounts: &kernel.mounts, root, start: root, may_search: &search };
    walk(&cx, at.as_bytes(), true)
}

/// Makes directory `at` and its parents where they are missing: in the
/// overlay's upper layer or a tmpfs, never on the host (unless `at` lies
/// inside an earlier read-write share).
fn make_mount_point(kernel: &System, root: &Path, at: &str) -> Result<(), String> {
    let mut done = String::new();
    for comp in at.split('/').filter(|c| !c.is_empty()) {
        let parent = walk_boot(kernel, root, if done.is_empty() { "/" } else { &done }).map_err(|e| format!("{done}: {e}"))?;
        done = format!("{done}/{comp}");
        match walk_boot(kernel, root, &done) {
            Ok(p) if p.metadata().is_ok_and(|m| m.is_dir()) => continue,
            Ok(_) => return Err(format!("{done} is not a directory in the guest")),
            Err(Errno::ENOENT) => {}
            Err(e) => return Err(format!("{done}: {e}")),
        }
        if parent.mount.read_only() {
            return Err(format!("{done} does not exist in the read-only root (create it, or drop --read-only)"));
        }
        let mode = crate::abi::stat::S_IFDIR | if done == "/tmp" { 0o1777 } else { 0o755 };
        parent.inode().create(comp.as_bytes(), mode, 0, 0, 0).map_err(|e| format!("cannot create the mount point {done}: {e}"))?;
    }
    Ok(())
}

fn mount_at(kernel: &System, root: &Path, at: &str, fs: InodeRef, fstype: &'static str, source: &str) -> Result<(), String> {
    let place = walk_boot(kernel, root, at).map_err(|e| format!("cannot mount {fstype} on {at}: {at} in the guest root: {e}"))?;
    kernel.mounts.mount(fs, Some(&place), fstype, source, false).map_err(|e| format!("cannot mount {fstype} on {at}: {e}"))?;
    Ok(())
}

/// The disks' majors go to the registry that opened them.
fn register_block_devices(disks: Arc<crate::block::registry::Registry>) {
    use crate::block::registry::{BLOCK_EXT_MAJOR, SCSI_CDROM_MAJOR, VIRTIO_BLK_MAJOR};
    for major in [VIRTIO_BLK_MAJOR, SCSI_CDROM_MAJOR, BLOCK_EXT_MAJOR] {
        crate::fs::blkdev::register(major, disks.clone());
    }
}

/// How soon freed guest pages go back to the host.
const RETURN_FREE_PAGES_EVERY: std::time::Duration = std::time::Duration::from_millis(200);

/// Punches freed guest pages out of the memfd every so often, so vkernel's
/// host footprint follows what the guest uses.
fn return_free_pages_periodically(phys: std::sync::Weak<crate::mm::frame::PhysMemory>) {
    crate::sched::timer::timers().schedule(std::time::Instant::now() + RETURN_FREE_PAGES_EVERY, move || {
        let Some(p) = phys.upgrade() else { return };
        p.return_free_pages();
        return_free_pages_periodically(phys);
    });
}

/// Test-only hooks for the panic policy, from vkernel's own environment
/// (a guest cannot set it): VKERNEL_TEST_PANIC_SYSCALL=<nr> makes that
/// system call panic in the kernel; VKERNEL_TEST_PANIC_TIMER=1 makes one
/// kernel timer callback panic shortly after boot.
fn arm_test_hooks() {
    if let Some(nr) = std::env::var("VKERNEL_TEST_PANIC_SYSCALL").ok().and_then(|v| v.parse::<u64>().ok()) {
        super::run::PANIC_ON_SYSCALL.store(nr, std::sync::atomic::Ordering::Relaxed);
    }
    if std::env::var_os("VKERNEL_TEST_PANIC_TIMER").is_some() {
        crate::sched::timer::timers()
            .schedule(std::time::Instant::now() + std::time::Duration::from_millis(1), || panic!("injected panic (VKERNEL_TEST_PANIC_TIMER)"));
    }
}

/// The first records of the guest's kernel log (what dmesg shows first).
fn log_boot(memory: u64) {
    use crate::sched::klog::{KERN_INFO, KERN_NOTICE, printk};
    let (release, version) = crate::platform::host::system::kernel_release();
    printk(KERN_NOTICE, &format!("Linux version {} (vkernel) {}", String::from_utf8_lossy(&release), String::from_utf8_lossy(&version)));
    printk(KERN_INFO, &format!("vkernel: {} MiB of guest memory, {} CPUs", memory >> 20, crate::platform::host::system::cpu_count()));
}
