//! `--share HOST:GUEST[:ro]`: a host directory in the guest, read-write or
//! read-only, confined to HOST. Guest changes land on the host with the
//! host's owners and modes; host-side changes show in the guest; `:ro`
//! is EROFS; and no `..`, symlink (planted by the guest or by the host) or
//! host process swapping a directory for a symlink while the guest writes
//! makes a write land outside HOST. Under vkernel only: natively these
//! programs would write to the host.

mod common;

use common::{Input, Link};
use std::collections::BTreeSet;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// A host directory for one test, removed when dropped.
struct HostDir(PathBuf);

impl HostDir {
    fn new(prefix: &str) -> HostDir {
        let dir = common::scratch_dir().join(common::unique_name(prefix));
        fs::create_dir_all(&dir).expect("create test directory");
        HostDir(dir)
    }
}

impl Drop for HostDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Every name below `dir` (relative), for "nothing new appeared here".
fn names_below(dir: &Path) -> BTreeSet<PathBuf> {
    fn visit(root: &Path, dir: &Path, out: &mut BTreeSet<PathBuf>) {
        let Ok(entries) = fs::read_dir(dir) else { return };
        for e in entries.flatten() {
            let p = e.path();
            out.insert(p.strip_prefix(root).unwrap().to_path_buf());
            if fs::symlink_metadata(&p).map(|m| m.is_dir()).unwrap_or(false) {
                visit(root, &p, out);
            }
        }
    }
    let mut out = BTreeSet::new();
    visit(dir, dir, &mut out);
    out
}

fn share_arg(host: &Path, guest: &str, suffix: &str) -> String {
    format!("{}:{guest}{suffix}", host.display())
}

#[test]
fn guest_changes_land_on_the_host_with_the_hosts_owners_and_modes() {
    let bin = common::build_in("sandbox", "share", Link::Static);
    let base = HostDir::new("vk-share-ops");
    let host = base.0.join("share");
    fs::create_dir_all(host.join("gone")).unwrap();
    fs::write(host.join("doomed"), "bye\n").unwrap();
    fs::write(host.join("existing"), "host data\n").unwrap();
    let arg = share_arg(&host, "/data", "");
    let out = common::run_vkernel_with(&["--share", &arg], &bin, &["ops"], &Input::Null);
    assert_eq!(out.status, 0, "guest checks failed:\n{}\n{}", out.stdout_str(), out.stderr_str());
    let me = fs::metadata(&base.0).unwrap();
    let new = fs::symlink_metadata(host.join("new.txt")).unwrap();
    assert_eq!(fs::read_to_string(host.join("new.txt")).unwrap(), "from the guest\nmore\n");
    assert_eq!((new.mode() & 0o7777, new.uid(), new.nlink()), (0o640, me.uid(), 2));
    assert_eq!(fs::read_to_string(host.join("moved/deeper/f")).unwrap(), "deep\n");
    assert_eq!(fs::metadata(host.join("moved")).unwrap().mode() & 0o7777, 0o750);
    assert_eq!(fs::read_link(host.join("sym")).unwrap(), Path::new("new.txt"));
    assert!(fs::symlink_metadata(host.join("fifo")).unwrap().file_type().is_fifo_like());
    assert!(!host.join("doomed").exists() && !host.join("gone").exists() && !host.join("sub").exists() && !host.join("dev").exists());
    assert_eq!(fs::metadata(host.join("existing")).unwrap().mtime(), 1_100_000_000);
    assert!(out.stdout_str().contains("new.txt mode 0640 size 20 nlink 2\n"), "{}", out.stdout_str());
}

/// `is_fifo` through the Unix extension, spelled for readability above.
trait FifoLike {
    fn is_fifo_like(&self) -> bool;
}

impl FifoLike for fs::FileType {
    fn is_fifo_like(&self) -> bool {
        std::os::unix::fs::FileTypeExt::is_fifo(self)
    }
}

#[test]
fn a_read_only_share_is_erofs_and_reads_the_host() {
    if !common::have_busybox("a_read_only_share_is_erofs_and_reads_the_host") {
        return;
    }
    let base = HostDir::new("vk-share-ro");
    fs::write(base.0.join("file"), "read me\n").unwrap();
    let arg = share_arg(&base.0, "/ro", ":ro");
    let script = "cat /ro/file; echo x > /ro/file; echo x > /ro/new; mkdir /ro/d; rm /ro/file; touch /ro/file; head -n 3 /proc/mounts | tail -n 0; grep ' /ro ' /proc/mounts | cut -d' ' -f2-4";
    let out = common::run_vkernel_with(&["--share", &arg], common::BUSYBOX, &["sh", "-c", script], &Input::Null);
    assert_eq!(out.stdout_str(), "read me\n/ro hostfs ro,relatime\n");
    let errors: Vec<&str> = out.stderr_str().leak().lines().collect();
    assert_eq!(errors.len(), 5, "stderr: {}", out.stderr_str());
    assert!(errors.iter().all(|l| l.contains("Read-only file system")), "stderr: {}", out.stderr_str());
    assert_eq!(names_below(&base.0), ["file"].iter().map(PathBuf::from).collect());
    assert_eq!(fs::read_to_string(base.0.join("file")).unwrap(), "read me\n");
}

#[test]
fn dot_dot_and_symlinks_planted_by_the_guest_or_the_host_never_lead_writes_outside() {
    let bin = common::build_in("sandbox", "share", Link::Static);
    let base = HostDir::new("vk-share-escape");
    let (host, outside) = (base.0.join("share"), base.0.join("outside"));
    fs::create_dir_all(&host).unwrap();
    fs::create_dir_all(&outside).unwrap();
    fs::write(outside.join("precious"), "outside\n").unwrap();
    std::os::unix::fs::symlink(&outside, host.join("hostabs")).unwrap();
    std::os::unix::fs::symlink("../outside", host.join("hostrel")).unwrap();
    std::os::unix::fs::symlink(outside.join("precious"), host.join("hostfile")).unwrap();
    let name = common::unique_name("vk-escaped");
    let before_base = names_below(&base.0);
    let arg = share_arg(&host, "/data", "");
    let out = common::run_vkernel_with(&["--share", &arg], &bin, &["escape", &name, outside.to_str().unwrap()], &Input::Null);

    let root_file = PathBuf::from(format!("/{name}"));
    let escaped_root = root_file.exists();
    let _ = fs::remove_file(&root_file);
    assert!(!escaped_root, "a write through .. reached the host's /");
    assert_eq!(fs::read_to_string(outside.join("precious")).unwrap(), "outside\n", "the host file behind a symlink changed");
    let mut expected = before_base;
    for planted in ["share/abs", "share/rel", "share/root"] {
        expected.insert(PathBuf::from(planted));
    }
    let after = names_below(&base.0);
    let new: Vec<_> = after.difference(&expected).collect();
    // Only the guest's own symlinks and the file it renamed inside the share may be new.
    assert!(new.iter().all(|p| p.starts_with("share")), "guest writes landed outside the share: {new:?}");
    assert!(outside.read_dir().unwrap().count() == 1, "new files in the host's outside directory");
    assert_eq!(out.status, 0, "guest checks failed:\n{}\n{}", out.stdout_str(), out.stderr_str());
    let text = out.stdout_str();
    assert!(text.contains("through the host's absolute symlink: written (in the guest)"), "{text}");
    assert!(text.contains("O_NOFOLLOW on the host's symlink: ELOOP"), "{text}");
}

#[test]
fn a_host_process_swapping_a_directory_for_a_symlink_cannot_redirect_guest_writes() {
    let bin = common::build_in("sandbox", "share", Link::Static);
    let base = HostDir::new("vk-share-race");
    let (host, outside) = (base.0.join("share"), base.0.join("outside"));
    fs::create_dir_all(host.join("d")).unwrap();
    fs::create_dir_all(&outside).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let swapper = {
        let (stop, host, outside) = (stop.clone(), host.clone(), outside.clone());
        std::thread::spawn(move || {
            let (d, tmp) = (host.join("d"), host.join("d.away"));
            let mut swaps = 0u64;
            while !stop.load(Ordering::Relaxed) {
                // A directory for a while, then a symlink for a while: the
                // guest meets both, and the moments in between.
                if fs::rename(&d, &tmp).is_ok() {
                    let _ = std::os::unix::fs::symlink(&outside, &d);
                    std::thread::sleep(Duration::from_micros(50 + swaps % 200));
                    let _ = fs::remove_file(&d);
                    let _ = fs::rename(&tmp, &d);
                    swaps += 1;
                }
                std::thread::sleep(Duration::from_micros(50 + swaps * 7 % 200));
            }
            swaps
        })
    };
    let arg = share_arg(&host, "/data", "");
    let out = common::run_vkernel_with(&["--share", &arg], &bin, &["race", "2"], &Input::Null);
    stop.store(true, Ordering::Relaxed);
    let swaps = swapper.join().unwrap();
    let landed_outside: Vec<_> = names_below(&outside).into_iter().collect();
    assert!(landed_outside.is_empty(), "guest writes landed outside the share: {landed_outside:?}");
    assert!(swaps > 10, "the host swapped only {swaps} times");
    assert_eq!(out.status, 0, "{}\n{}", out.stdout_str(), out.stderr_str());
    // The writes that went through the share are on the host, in d (or d.away mid-swap).
    let inside = names_below(&host).len();
    assert!(inside > 10, "few guest writes reached the share ({inside}): {}", out.stdout_str());
}

#[test]
fn host_side_changes_show_in_the_guest() {
    let bin = common::build_in("sandbox", "share", Link::Static);
    let base = HostDir::new("vk-share-watch");
    fs::write(base.0.join("grow"), "1234\n").unwrap();
    let arg = share_arg(&base.0, "/data", "");
    let mut cmd = common::vkernel_command_with(&["--share", &arg], &bin, &["watch"]);
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let ready = line == "ready";
        seen.push(line);
        if ready {
            break;
        }
    }
    std::thread::sleep(Duration::from_millis(50));
    fs::OpenOptions::new().append(true).open(base.0.join("grow")).unwrap().write_all(b"more\n").unwrap();
    fs::set_permissions(base.0.join("grow"), fs::Permissions::from_mode(0o600)).unwrap();
    fs::write(base.0.join("appeared"), "").unwrap();
    seen.extend(lines.map_while(Result::ok));
    let status = child.wait().unwrap();
    assert_eq!(seen.join("\n"), "grow size 5\nready\ngrow size now 10\nit reads: 1234\nmore\nappeared: yes\nchmod by the host shows: ok\nfailures: 0");
    assert!(status.success());
}

#[test]
fn a_missing_mount_point_is_made_in_the_overlay_not_on_the_host() {
    if !common::have_busybox("a_missing_mount_point_is_made_in_the_overlay_not_on_the_host") {
        return;
    }
    let base = HostDir::new("vk-share-mp");
    fs::write(base.0.join("f"), "shared\n").unwrap();
    let point = format!("/{}/deep/er", common::unique_name("vk-share-point"));
    let arg = share_arg(&base.0, &point, "");
    let out = common::run_vkernel_with(&["--share", &arg], common::BUSYBOX, &["cat", &format!("{point}/f")], &Input::Null);
    let top = PathBuf::from(point.split('/').take(2).collect::<Vec<_>>().join("/"));
    let made = top.exists();
    let _ = fs::remove_dir_all(&top);
    assert!(!made, "the mount point was made on the host");
    assert_eq!(out.stdout_str(), "shared\n", "stderr: {}", out.stderr_str());
}

#[test]
fn bad_share_options_are_one_line_and_exit_2() {
    let base = HostDir::new("vk-share-cli");
    fs::write(base.0.join("file"), "").unwrap();
    let dir = base.0.to_str().unwrap();
    let cases = [
        format!("{dir}/missing:/data"),
        format!("{dir}:data"),
        format!("{dir}:/data:rx"),
        format!("{dir}/file:/data"),
        format!(":/data"),
        format!("{dir}:/"),
        format!("{dir}:/a/../b"),
        dir.to_string(),
    ];
    for case in cases {
        let mut cmd = crate::common::vkernel();
        cmd.args(["--share", &case, "--", "/bin/true"]).env_clear().envs(common::guest_env());
        let out = common::run_with(cmd, &Input::Null, common::TIMEOUT);
        assert_eq!(out.status, 2, "--share {case}: stderr {}", out.stderr_str());
        assert_eq!(out.stderr_str().trim_end().lines().count(), 1, "--share {case}: {}", out.stderr_str());
    }
    // A share needs its mount point to exist in a read-only root.
    let arg = format!("{dir}:/{}", common::unique_name("vk-nonexistent"));
    let mut cmd = crate::common::vkernel();
    cmd.args(["--read-only", "--share", &arg, "--", "/bin/true"]).env_clear().envs(common::guest_env());
    let out = common::run_with(cmd, &Input::Null, common::TIMEOUT);
    assert_ne!(out.status, 0);
    assert_eq!(out.stderr_str().trim_end().lines().count(), 1, "{}", out.stderr_str());
}

/// What `mem_share_mmap DIR kept` leaves in DIR/kept, written only through
/// a shared mapping: two pages and 100 bytes (the stores past the end, in
/// the last page, must not be in the file).
fn kept_bytes() -> Vec<u8> {
    let mut v = vec![b'A'; 4096];
    let text = b"written through a shared mapping\n";
    v[..text.len()].copy_from_slice(text);
    v.extend(std::iter::repeat_n(b'B', 4096));
    v.extend(std::iter::repeat_n(b'C', 100));
    v
}

/// "equal", or where two byte strings first differ, briefly.
fn first_difference(got: &[u8], want: &[u8]) -> String {
    match got.iter().zip(want).position(|(a, b)| a != b) {
        Some(i) => format!("byte {i} is {:?}, want {:?} (sizes {} and {})", got[i] as char, want[i] as char, got.len(), want.len()),
        None if got.len() != want.len() => format!("size {}, want {}", got.len(), want.len()),
        None => "equal".to_string(),
    }
}

#[test]
fn writable_shared_mappings_of_share_files_behave_like_native_and_reach_the_host() {
    let bin = common::build("mem_share_mmap", Link::Static);
    let native_dir = HostDir::new("vk-share-mmap-native");
    let shared = HostDir::new("vk-share-mmap");
    let native = common::run_native(&bin, &[native_dir.0.to_str().unwrap(), "kept"], &Input::Null);
    assert_eq!(native.status, 0, "mem_share_mmap fails its own checks natively:\n{}", native.stdout_str());
    let arg = share_arg(&shared.0, "/data", "");
    let vk = common::run_vkernel_with(&["--share", &arg], &bin, &["/data", "kept"], &Input::Null);
    common::assert_same(&native, &vk);
    let only_kept: BTreeSet<PathBuf> = [PathBuf::from("kept")].into();
    assert_eq!(names_below(&native_dir.0), only_kept, "natively");
    assert_eq!(names_below(&shared.0), only_kept, "the guest's files in the share, afterwards");
    let want = kept_bytes();
    assert_eq!(first_difference(&fs::read(native_dir.0.join("kept")).unwrap(), &want), "equal", "natively");
    let on_host = fs::read(shared.0.join("kept")).unwrap();
    assert_eq!(first_difference(&on_host, &want), "equal", "the host's copy of the file the guest wrote through a mapping");
}

/// A guest whose stdout lines arrive on a channel, so that waiting for one
/// has a timeout; killed when dropped unless it was waited for.
struct Guest {
    child: Option<std::process::Child>,
    lines: std::sync::mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Guest {
    fn spawn(options: &[&str], bin: &Path, args: &[&str], stdin: Stdio) -> Guest {
        let mut cmd = common::vkernel_command_with(options, bin, args);
        cmd.stdin(stdin).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn vkernel");
        let stdout = child.stdout.take().unwrap();
        let (send, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Guest { child: Some(child), lines, seen: Vec::new() }
    }

    /// Lines up to and including `want`; panics with what came instead
    /// when the guest ends or 20 s pass first.
    fn wait_for(&mut self, want: &str) {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let done = line == want;
                    self.seen.push(line);
                    if done {
                        return;
                    }
                }
                Err(_) => {
                    let (status, stderr) = self.finish_now();
                    panic!("the guest never said {want:?}; it said {:?}, exit {status}, stderr {stderr}", self.seen);
                }
            }
        }
    }

    /// Kills the guest if it still runs; its exit status and stderr.
    fn finish_now(&mut self) -> (i32, String) {
        let Some(mut child) = self.child.take() else { return (-1, String::new()) };
        let _ = child.kill();
        let status = child.wait().map(common::status_code).unwrap_or(-1);
        let mut stderr = String::new();
        let _ = std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr);
        (status, stderr)
    }

    /// The rest of the output (the guest gets 30 s to end): every line seen,
    /// the exit status and stderr.
    fn finish(mut self) -> (String, i32, String) {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(_) => break,
            }
        }
        let mut child = self.child.take().unwrap();
        // Its stdout closed: it is exiting, or hung with its stdout closed.
        let exit_by = std::time::Instant::now() + Duration::from_secs(10);
        let status = loop {
            match child.try_wait() {
                Ok(Some(s)) => break common::status_code(s),
                Ok(None) if std::time::Instant::now() < exit_by => std::thread::sleep(Duration::from_millis(10)),
                _ => {
                    let _ = child.kill();
                    self.seen.push("<killed: still running>".to_string());
                    break child.wait().map(common::status_code).unwrap_or(-1);
                }
            }
        };
        let mut stderr = String::new();
        let _ = std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr);
        (self.seen.join("\n"), status, stderr)
    }
}

impl Drop for Guest {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The guest maps `guest_path` MAP_SHARED PROT_READ, reads the byte at 5000
/// and says "ready"; the host then pwrites a new byte there, which the
/// guest's mapping must show within its 10 s of polling.
fn host_write_shows_in_a_read_only_shared_mapping(options: &[&str], host_file: &Path, guest_path: &str) {
    let bin = common::build("mem_share_mmap", Link::Static);
    fs::write(host_file, vec![b'.'; 8192]).unwrap();
    let mut guest = Guest::spawn(options, &bin, &["watch", guest_path, "5000"], Stdio::null());
    guest.wait_for("ready");
    std::thread::sleep(Duration::from_millis(50));
    let file = fs::OpenOptions::new().write(true).open(host_file).unwrap();
    std::os::unix::fs::FileExt::write_at(&file, b"Z", 5000).unwrap();
    drop(file);
    let (seen, status, stderr) = guest.finish();
    assert_eq!(seen, "before: .\nready\nsaw: Z", "stderr: {stderr}");
    assert_eq!(status, 0, "stderr: {stderr}");
}

#[test]
fn a_host_write_shows_in_a_read_only_shared_mapping_of_a_share_file() {
    let base = HostDir::new("vk-share-mmap-watch");
    let arg = share_arg(&base.0, "/data", "");
    host_write_shows_in_a_read_only_shared_mapping(&["--share", &arg], &base.0.join("watched"), "/data/watched");
}

#[test]
fn a_host_write_shows_in_a_shared_mapping_of_a_read_only_share_file() {
    let base = HostDir::new("vk-share-mmap-watch-ro");
    let arg = share_arg(&base.0, "/ro", ":ro");
    host_write_shows_in_a_read_only_shared_mapping(&["--share", &arg], &base.0.join("watched"), "/ro/watched");
}

#[test]
fn a_host_write_shows_in_a_read_only_shared_mapping_of_a_host_root_file() {
    // No share: the guest reaches the scratch file through the root overlay,
    // whose lower layer is the host's file while the guest has not written it.
    let base = HostDir::new("vk-share-mmap-watch-root");
    let file = base.0.join("watched");
    host_write_shows_in_a_read_only_shared_mapping(&[], &file, file.to_str().unwrap());
}

#[test]
fn stores_through_a_shared_mapping_reach_the_host_file_at_msync_and_after_exit() {
    let bin = common::build("mem_share_mmap", Link::Static);
    let base = HostDir::new("vk-share-mmap-store");
    let file = base.0.join("stored");
    fs::write(&file, vec![b'.'; 8192]).unwrap();
    let arg = share_arg(&base.0, "/data", "");
    let mut guest = Guest::spawn(&["--share", &arg], &bin, &["store", "/data/stored", "from the guest"], Stdio::piped());
    guest.wait_for("synced");
    let mut want = vec![b'.'; 8192];
    want[..14].copy_from_slice(b"from the guest");
    want[8192 - 14..].copy_from_slice(b"from the guest");
    // msync(MS_SYNC) returned and the mapping is still there.
    assert_eq!(first_difference(&fs::read(&file).unwrap(), &want), "equal", "the host file after the guest's msync");
    drop(guest.child.as_mut().unwrap().stdin.take());
    let (seen, status, stderr) = guest.finish();
    assert_eq!(seen, "msync MS_SYNC: 0\nsynced\nmunmap: 0\nfailures: 0", "stderr: {stderr}");
    assert_eq!(status, 0, "stderr: {stderr}");
    assert_eq!(first_difference(&fs::read(&file).unwrap(), &want), "equal", "the host file after the guest exited");
    assert_eq!(names_below(&base.0), [PathBuf::from("stored")].into());
}

/// Working below a share directory that the guest renames: the current
/// directory, an fd open on it and every name under it follow the rename,
/// as on a bind mount (a share inode's host path follows renames made
/// through vkernel).
#[test]
fn a_renamed_share_directory_keeps_the_cwd_and_its_contents_reachable() {
    let script = r#"
cd "$1" && mkdir -p ra/b && cd ra/b && echo one > f && exec 7<.
mv "$1/ra" "$1/rc" || exit 1
rel() { sed "s|^$1||"; }
pwd -P | rel "$1"
readlink /proc/self/cwd | rel "$1"
readlink /proc/$$/fd/7 | rel "$1"
cat f
echo two >> f
cat "$1/rc/b/f"
ls
mkdir sub && echo three > sub/g && mv sub sub2 && cat sub2/g
cd .. && mv b b2 && cat b2/f | wc -l
cd / && rm -r "$1/rc" && ls "$1"
"#;
    let native_dir = HostDir::new("vk-share-rename-native");
    let native = common::run_native("/bin/sh", &["-c", script, "sh", native_dir.0.to_str().unwrap()], &Input::Null);
    let guest_dir = HostDir::new("vk-share-rename");
    let arg = share_arg(&guest_dir.0, "/data", "");
    let guest = common::run_vkernel_with(&["--share", &arg], "/bin/sh", &["-c", script, "sh", "/data"], &Input::Null);
    assert_eq!(native.status, 0, "natively: {}{}", native.stdout_str(), native.stderr_str());
    assert!(native.stdout_str().contains("/rc/b\n"), "the script itself is off natively: {}", native.stdout_str());
    assert_eq!(guest.stdout_str(), native.stdout_str(), "stderr under vkernel: {}", guest.stderr_str());
    assert_eq!(guest.status, native.status);
    assert!(names_below(&guest_dir.0).is_empty(), "the guest's files are gone from the host too");
}

/// A share on a host noexec mount (a tmpfs mounted noexec in a private
/// mount namespace): PROT_EXEC of a shared mapping is refused by mmap and
/// by mprotect as natively, and the mapping goes on reading (before, the
/// mprotect succeeded and every fault after it asked the host for a map
/// it refused, for ever).
#[test]
fn shared_mappings_of_a_noexec_host_mount_refuse_exec_like_native() {
    let bin = common::build("mem_share_noexec", Link::Static);
    let dir = HostDir::new("vk-share-noexec");
    let script = r#"mount -t tmpfs -o noexec,size=1m none "$1" && echo data > "$1/f" || exit 99
"$2" "$1/f"; echo "native exit $?"
"$3" -m 256m --share "$1:/x" -- "$2" /x/f; echo "vkernel exit $?""#;
    let out = std::process::Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", script, "sh"])
        .arg(&dir.0)
        .arg(&bin)
        .arg(common::VKERNEL)
        .stdin(Stdio::null())
        .output()
        .expect("run unshare");
    if out.status.code() == Some(99) || !out.status.success() {
        assert!(std::env::var_os("CI").is_none(), "unshare -m with a tmpfs mount failed: {}", String::from_utf8_lossy(&out.stderr));
        eprintln!("SKIPPED: no private mount namespace here");
        return;
    }
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (native, guest) = text.split_once("native exit 0\n").unwrap_or_else(|| panic!("native run failed: {text}"));
    assert!(native.contains("mprotect PROT_READ|PROT_EXEC: -1 EACCES"), "the native run is not what the test expects: {native}");
    assert_eq!(guest, format!("{native}vkernel exit 0\n"), "stderr: {}", String::from_utf8_lossy(&out.stderr));
}
