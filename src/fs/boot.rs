//! The mount tree at boot: the host directory read-only at /, tmpfs on
//! /tmp and /dev/shm, devfs on /dev, devpts on /dev/pts, procfs on /proc. Called once by
//! main before PID 1 exists; errors are one line for a person.

use std::sync::Arc;

use crate::fs::inode::InodeRef;
use crate::fs::path::{Path, WalkContext, walk};
use crate::fs::{devfs, devpts, hostfs, procfs, tmpfs};
use crate::kernel::Kernel;

/// Mount points vkernel needs at the root; they read as empty directories
/// when the host tree lacks them.
const MOUNT_POINTS: &[&str] = &["tmp", "dev", "proc"];

pub fn mount_boot_filesystems(kernel: &Arc<Kernel>, root_dir: &std::path::Path) -> Result<(), String> {
    let mounts = &kernel.mounts;
    let host_root = hostfs::HostFs::new_root(root_dir, MOUNT_POINTS)?;
    let source = root_dir.display().to_string();
    let root_mount = mounts.mount(host_root, None, "hostfs", &source, true).map_err(|e| format!("cannot mount {source} at /: {e}"))?;
    let root = Path { dentry: root_mount.root.clone(), mount: root_mount };
    *kernel.root.lock() = Some(root.clone());

    // Linux's tmpfs default: half of RAM.
    let tmpfs_size = kernel.config.memory / 2;
    mount_at(kernel, &root, "/tmp", tmpfs::new_tmpfs(tmpfs_size, 0o1777, 0, 0), "tmpfs", "tmpfs")?;
    let dev = devfs::new_devfs().map_err(|e| format!("cannot build /dev: {e}"))?;
    mount_at(kernel, &root, "/dev", dev, "devtmpfs", "udev")?;
    mount_at(kernel, &root, "/dev/shm", tmpfs::new_tmpfs(tmpfs_size, 0o1777, 0, 0), "tmpfs", "tmpfs")?;
    mount_at(kernel, &root, "/dev/pts", devpts::new_devpts(), "devpts", "devpts")?;
    mount_at(kernel, &root, "/proc", procfs::new_procfs(kernel), "proc", "proc")?;
    Ok(())
}

fn mount_at(kernel: &Kernel, root: &Path, at: &str, fs: InodeRef, fstype: &'static str, source: &str) -> Result<(), String> {
    let search = |_: &crate::fs::inode::Metadata| Ok(());
    let cx = WalkContext { mounts: &kernel.mounts, root, start: root, may_search: &search };
    let place = walk(&cx, at.as_bytes(), true).map_err(|e| format!("cannot mount {fstype} on {at}: {at} in the guest root: {e}"))?;
    kernel.mounts.mount(fs, Some(&place), fstype, source, false).map_err(|e| format!("cannot mount {fstype} on {at}: {e}"))?;
    Ok(())
}
