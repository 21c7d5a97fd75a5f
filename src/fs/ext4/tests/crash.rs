//! Crash consistency: a power cut after a random number of device writes
//! (or after N commits), then recovery — by our replay and, separately, by
//! e2fsprogs' — must give a clean filesystem whose contents are a state the
//! workload passed through no earlier than its last completed fsync.

use std::collections::BTreeMap;
use std::process::Command;

use super::*;
use crate::block::PowerCut;
use crate::fs::ext4::inode::S_IFREG;

type State = BTreeMap<String, Vec<u8>>;

/// A state's fingerprint, so the history need not hold copies of it.
fn print(s: &State) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

fn state_of(fs: &Ext4, dir: u32) -> State {
    let mut out = State::new();
    for (name, ino, _) in names(fs, dir) {
        if name == b"." || name == b".." {
            continue;
        }
        out.insert(String::from_utf8(name).unwrap(), read_all(fs, ino));
    }
    out
}

/// e2fsck -fy replays our journal with e2fsprogs' own recovery; the result
/// must then check clean.
fn e2fsprogs_recovers(image: &[u8]) -> Vec<u8> {
    let s = Scratch::new("fsy");
    let img = s.0.join("img");
    std::fs::write(&img, image).unwrap();
    let out = Command::new(tool("e2fsck")).arg("-fy").arg(&img).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let fixed_only_journal = !text.contains("Fix? yes") && !text.contains("Clear? yes") && !text.contains("Salvage? yes");
    assert!(out.status.code().unwrap_or(8) <= 1 && fixed_only_journal, "e2fsck -fy on the crashed image:\n{text}");
    let fixed = std::fs::read(&img).unwrap();
    assert_clean(&fixed, "e2fsprogs' journal recovery");
    fixed
}

/// Runs the workload with the power cut after `cut_after` device writes;
/// returns whether the cut happened.
fn crash_once(base: &[u8], seed: u64, cut_after: u64, steps: u32) -> bool {
    crash_once_with(base, seed, cut_after, steps, 8192)
}

fn crash_once_with(base: &[u8], seed: u64, cut_after: u64, steps: u32, cache_blocks: usize) -> bool {
    let mem = disk(base.to_vec());
    let cut = PowerCut::new(mem.clone());
    let dev: Arc<dyn BlockDevice> = cut.clone();
    let fs = Ext4::mount_with(dev, MountOptions { cache_blocks, ..Default::default() }).unwrap();
    let root = fs.root();
    let d = fs.mkdir(root, b"d", 0o755, 0, 0).unwrap().ino;
    fs.fsync(d, false).unwrap();
    let mut rng = Rng(seed);
    let mut model = State::new();
    let mut history = vec![print(&model)];
    let mut durable = 0usize;
    let mut next = 0u32;
    cut.arm(cut_after);
    for _ in 0..steps {
        if cut.is_cut() && rng.below(4) == 0 {
            break;
        }
        let r = rng.below(10);
        let ok = (|| -> KResult<()> {
            if r < 5 || model.is_empty() {
                let name = format!("f{next}");
                next += 1;
                let len = rng.below(40_000) as usize;
                let data = rng.bytes(len);
                let ino = fs.create(d, name.as_bytes(), S_IFREG | 0o644, 0, 0, 0)?.ino;
                model.insert(name.clone(), vec![]);
                history.push(print(&model));
                if len > 0 {
                    fs.write(ino, 0, &data)?;
                    model.insert(name, data);
                    history.push(print(&model));
                }
            } else if r < 7 {
                let keys: Vec<String> = model.keys().cloned().collect();
                let from = keys[rng.below(keys.len() as u64) as usize].clone();
                let to = if rng.below(2) == 0 { keys[rng.below(keys.len() as u64) as usize].clone() } else { format!("r{}", rng.below(1000)) };
                let victim = if to != from { fs.lookup(d, to.as_bytes()).ok() } else { None };
                fs.rename(d, from.as_bytes(), d, to.as_bytes(), 0)?;
                if let Some(v) = victim {
                    fs.evict(v)?;
                }
                let data = model.remove(&from).unwrap();
                model.insert(to, data);
                history.push(print(&model));
            } else if r < 8 {
                let keys: Vec<String> = model.keys().cloned().collect();
                let name = keys[rng.below(keys.len() as u64) as usize].clone();
                let ino = fs.lookup(d, name.as_bytes())?;
                fs.unlink(d, name.as_bytes())?;
                fs.evict(ino)?;
                model.remove(&name);
                history.push(print(&model));
            } else {
                fs.fsync(d, false)?;
                if !cut.is_cut() {
                    durable = history.len() - 1;
                }
            }
            Ok(())
        })();
        if ok.is_err() {
            // Only a dead disk may make the workload fail.
            assert!(cut.is_cut(), "workload failed before the power cut: {ok:?}");
            break;
        }
    }
    let was_cut = cut.is_cut();
    drop(fs);
    let crashed = mem.snapshot();
    let theirs = MemDisk::from_bytes(e2fsprogs_recovers(&crashed), true);
    let dev: Arc<dyn BlockDevice> = theirs;
    let fs = Ext4::mount(dev, true).unwrap();
    let dd = walk(&fs, "/d").unwrap();
    assert!(history[durable..].contains(&print(&state_of(&fs, dd))), "seed {seed} cut {cut_after}: e2fsprogs recovered an unexpected state");
    drop(fs);
    let after = disk(crashed);
    let fs = mount(&after);
    let d = walk(&fs, "/d").unwrap();
    let state = state_of(&fs, d);
    assert!(
        history[durable..].contains(&print(&state)),
        "seed {seed} cut {cut_after}: recovered {:?} is no state since the last fsync",
        state.iter().map(|(k, v)| (k.clone(), v.len())).collect::<Vec<_>>()
    );
    fs.unmount().unwrap();
    assert_clean(&after.snapshot(), &format!("recovery (seed {seed}, cut after {cut_after} writes)"));
    was_cut
}

fn crash_profile(args: &[&str], seeds: u64) {
    let base = mkfs(args, "32M", None);
    let mut rng = Rng(1234);
    let mut cuts = 0;
    for seed in 1..=seeds {
        let at = rng.below(260);
        cuts += crash_once(&base, seed, at, 160) as u32;
    }
    assert!(cuts > 0, "no run was cut");
}

#[test]
fn power_cuts_on_ext4_1k_recover_to_an_fsynced_state() {
    crash_profile(&["-J", "size=1"], 10);
}

#[test]
fn power_cuts_on_ext4_4k_recover_to_an_fsynced_state() {
    crash_profile(&["-b", "4096"], 6);
}

#[test]
fn power_cuts_on_ext3_recover_to_an_fsynced_state() {
    crash_profile(&["-t", "ext3"], 6);
}

#[test]
fn commit_budget_hook_stops_writing_after_n_commits() {
    let base = mkfs(&[], "16M", None);
    for budget in [1, 3, 6] {
        let d = disk(base.clone());
        let fs = mount(&d);
        let root = fs.root();
        let mut last_ok = 0;
        fs.set_commit_budget(Some(budget));
        for i in 0..10 {
            let f = fs.create(root, format!("f{i}").as_bytes(), S_IFREG | 0o600, 0, 0, 0);
            let Ok(f) = f else { break };
            if fs.write(f.ino, 0, &[i as u8; 3000]).is_err() || fs.fsync(f.ino, false).is_err() {
                break;
            }
            last_ok = i + 1;
        }
        drop(fs);
        let image = d.snapshot();
        let _ = e2fsprogs_recovers(&image);
        let d2 = disk(image);
        let fs = mount(&d2);
        for i in 0..last_ok {
            let ino = fs.lookup(root, format!("f{i}").as_bytes()).unwrap();
            assert_eq!(read_all(&fs, ino), vec![i as u8; 3000]);
        }
        fs.unmount().unwrap();
        assert_clean(&d2.snapshot(), "commit budget");
    }
}

#[test]
fn an_open_unlinked_file_is_freed_by_the_next_mount() {
    let d = disk(mkfs(&["-b", "4096"], "16M", None));
    let fs = mount(&d);
    let root = fs.root();
    let f = fs.create(root, b"tmp", S_IFREG | 0o600, 0, 0, 0).unwrap().ino;
    fs.write(f, 0, &vec![1u8; 200_000]).unwrap();
    fs.unlink(root, b"tmp").unwrap();
    // Still readable through the open inode.
    let mut b = [0u8; 4];
    fs.read(f, 1000, &mut b).unwrap();
    assert_eq!(b, [1; 4]);
    fs.sync_fs().unwrap();
    let free_before = fs.statfs().unwrap().blocks_free;
    drop(fs);
    let image = d.snapshot();
    let d2 = disk(image);
    let fs = mount(&d2);
    assert!(fs.statfs().unwrap().blocks_free > free_before);
    fs.unmount().unwrap();
    assert_clean(&d2.snapshot(), "orphan cleanup at mount");
}

#[test]
fn power_cuts_after_the_log_wrapped_recover_to_an_fsynced_state() {
    // A 1024-block log and hundreds of commits: the log is checkpointed
    // and wraps several times before the cut.
    let base = mkfs(&["-J", "size=1"], "32M", None);
    let mut rng = Rng(77);
    for seed in 100..104 {
        let at = 700 + rng.below(500);
        assert!(crash_once(&base, seed, at, 1500), "seed {seed} was not cut");
    }
}

#[test]
fn a_dirty_journal_on_a_read_only_device_refuses_to_mount() {
    let d = disk(mkfs(&[], "16M", None));
    let fs = mount(&d);
    fs.create(fs.root(), b"x", S_IFREG | 0o644, 0, 0, 0).unwrap();
    fs.fsync(fs.root(), false).unwrap();
    drop(fs);
    let ro = MemDisk::from_bytes(d.snapshot(), true);
    let dev: Arc<dyn BlockDevice> = ro;
    assert_eq!(Ext4::mount(dev, true).err(), Some(Errno::EROFS));
    // A writable device is recovered even for a read-only mount (as Linux).
    let dev: Arc<dyn BlockDevice> = d.clone();
    let fs = Ext4::mount(dev, true).unwrap();
    fs.lookup(fs.root(), b"x").unwrap();
    drop(fs);
    assert_clean(&d.snapshot(), "replay by a read-only mount");
}

#[test]
fn periodic_commit_makes_idle_changes_durable() {
    let d = disk(mkfs(&[], "16M", None));
    let dev: Arc<dyn BlockDevice> = d.clone();
    let opts = MountOptions { commit_interval: std::time::Duration::from_millis(10), ..Default::default() };
    let fs = Ext4::mount_with(dev, opts).unwrap();
    let f = fs.create(fs.root(), b"idle", S_IFREG | 0o644, 0, 0, 0).unwrap().ino;
    fs.write(f, 0, b"written, never fsynced").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    fs.periodic_commit().unwrap();
    drop(fs);
    let d2 = disk(d.snapshot());
    let fs = mount(&d2);
    let f = fs.lookup(fs.root(), b"idle").unwrap();
    assert_eq!(read_all(&fs, f), b"written, never fsynced");
}

#[test]
fn revoked_metadata_blocks_are_not_replayed_over_reused_data() {
    let d = disk(mkfs(&["-J", "size=1"], "12M", None));
    let fs = mount(&d);
    let root = fs.root();
    // Directory blocks (and their inode table blocks) enter the log...
    for i in 0..60 {
        let dir = fs.mkdir(root, format!("d{i}").as_bytes(), 0o755, 0, 0).unwrap().ino;
        fs.create(dir, b"f", S_IFREG | 0o644, 0, 0, 0).unwrap();
    }
    fs.fsync(root, false).unwrap();
    // ...are freed (and revoked)...
    for i in 0..60 {
        let name = format!("d{i}");
        let dir = fs.lookup(root, name.as_bytes()).unwrap();
        let f = fs.lookup(dir, b"f").unwrap();
        fs.unlink(dir, b"f").unwrap();
        fs.evict(f).unwrap();
        fs.rmdir(root, name.as_bytes()).unwrap();
        fs.evict(dir).unwrap();
    }
    fs.fsync(root, false).unwrap();
    // ...and reused as file data: fill the disk.
    let big = fs.create(root, b"fill", S_IFREG | 0o644, 0, 0, 0).unwrap().ino;
    let mut rng = Rng(5);
    let mut data = Vec::new();
    loop {
        let chunk = rng.bytes(64 * 1024);
        match fs.write(big, data.len() as u64, &chunk) {
            Ok(n) if n == chunk.len() => data.extend_from_slice(&chunk),
            Ok(n) => {
                data.extend_from_slice(&chunk[..n]);
                break;
            }
            Err(_) => break,
        }
    }
    fs.fsync(big, false).unwrap();
    drop(fs);
    let crashed = d.snapshot();
    for image in [crashed.clone(), e2fsprogs_recovers(&crashed)] {
        let d2 = disk(image);
        let fs = mount(&d2);
        let f = fs.lookup(fs.root(), b"fill").unwrap();
        assert!(read_all(&fs, f) == data, "replay wrote old metadata over reused data");
        fs.unmount().unwrap();
        assert_clean(&d2.snapshot(), "revokes");
    }
}

/// Transactions written by e2fsprogs (debugfs's journal writer), with and
/// without checksums: our replay applies the logged blocks and honours
/// the revoke of a later transaction.
#[test]
fn replays_journals_written_by_e2fsprogs() {
    for (args, open) in [(&[][..], "jo -c"), (&["-t", "ext3"][..], "jo"), (&["-b", "4096"][..], "jo -c")] {
        let image = mkfs(args, "16M", None);
        let bs = {
            let dev: Arc<dyn BlockDevice> = MemDisk::from_bytes(image.clone(), true);
            Ext4::mount(dev, true).unwrap().geometry.block_size as usize
        };
        let s = Scratch::new("jw");
        let img = s.0.join("img");
        std::fs::write(&img, &image).unwrap();
        let mut rng = Rng(3);
        let a = rng.bytes(2 * bs);
        let b = rng.bytes(bs);
        std::fs::write(s.0.join("a"), &a).unwrap();
        std::fs::write(s.0.join("b"), &b).unwrap();
        let (b1, b2, b3) = (3000, 3002, 3004);
        let script =
            format!("{open}\njw -b {b1},{b2} {}\njc\n{open}\njw -r {b2}\njc\n{open}\njw -b {b3} {}\njc\n", s.0.join("a").display(), s.0.join("b").display());
        std::fs::write(s.0.join("cmds"), script).unwrap();
        let out = Command::new(tool("debugfs")).arg("-w").arg("-f").arg(s.0.join("cmds")).arg(&img).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let logged = std::fs::read(&img).unwrap();
        let d = disk(logged);
        let fs = mount(&d);
        fs.unmount().unwrap();
        let after = d.snapshot();
        let block = |n: usize| &after[n * bs..(n + 1) * bs];
        assert_eq!(block(b1), &a[..bs], "{args:?}: first logged block");
        assert_eq!(block(b2), &image[b2 * bs..(b2 + 1) * bs], "{args:?}: a revoked block was replayed");
        assert_eq!(block(b3), &b[..], "{args:?}: third transaction");
        assert_clean(&after, "replaying debugfs's transactions");
    }
}

/// Corrupt logs: a crashed image's journal blocks get random flips; the
/// replay must stop or skip, never panic, and the result must mount or fail.
#[test]
fn corrupted_journals_never_panic_during_replay() {
    let d = disk(mkfs(&["-J", "size=1"], "16M", None));
    let fs = mount(&d);
    let root = fs.root();
    for i in 0..30 {
        let f = fs.create(root, format!("f{i}").as_bytes(), S_IFREG | 0o644, 0, 0, 0).unwrap().ino;
        fs.write(f, 0, &[i as u8; 5000]).unwrap();
        fs.fsync(f, false).unwrap();
    }
    drop(fs);
    let crashed = d.snapshot();
    // The log's blocks are the ones starting with the jbd2 magic.
    let bs = 1024usize;
    let log: Vec<usize> = (0..crashed.len() / bs).filter(|&b| crashed[b * bs..b * bs + 4] == [0xC0, 0x3B, 0x39, 0x98]).collect();
    assert!(log.len() > 30, "found only {} log blocks", log.len());
    let mut rng = Rng(8);
    for _ in 0..200 {
        let mut img = crashed.clone();
        for _ in 0..1 + rng.below(4) {
            let b = log[rng.below(log.len() as u64) as usize];
            let at = b * bs + rng.below(bs as u64) as usize;
            img[at] ^= 1 << rng.below(8);
        }
        let dev: Arc<dyn BlockDevice> = disk(img);
        if let Ok(fs) = Ext4::mount(dev, false) {
            let _ = fs.readdir(fs.root(), 0, &mut |_| true);
            let _ = fs.unmount();
        }
    }
}

#[test]
fn inodes_in_the_orphan_file_are_freed_at_mount() {
    use crate::fs::ext4::csum::crc32c;
    let d = disk(mkfs(&["-b", "4096", "-O", "orphan_file"], "32M", None));
    let fs = mount(&d);
    let root = fs.root();
    let victim = fs.create(root, b"victim", S_IFREG | 0o600, 0, 0, 0).unwrap().ino;
    fs.write(victim, 0, &vec![4u8; 300_000]).unwrap();
    fs.unlink(root, b"victim").unwrap();
    // Everything home and the log empty, so patches below are not replayed over.
    fs.sync_fs().unwrap();
    let image = d.snapshot();
    let sb = &image[1024..2048];
    let oino = u32::from_le_bytes(sb[0x280..0x284].try_into().unwrap());
    assert_ne!(oino, 0, "mkfs made an orphan file");
    let ob = fs.map_blocks(oino, 0, 1, false).unwrap()[0].pblk as usize;
    let generation = fs.getattr(oino).unwrap().generation;
    drop(fs);
    let mut img = image.clone();
    // Move the victim from the classic list to the orphan file.
    img[1024 + 0xE8..1024 + 0xEC].copy_from_slice(&0u32.to_le_bytes());
    let ro = u32::from_le_bytes(img[1024 + 0x64..1024 + 0x68].try_into().unwrap()) | 0x10000;
    img[1024 + 0x64..1024 + 0x68].copy_from_slice(&ro.to_le_bytes());
    let bs = 4096;
    let blk = &mut img[ob * bs..(ob + 1) * bs];
    blk[..4].copy_from_slice(&victim.to_le_bytes());
    // The checksum as the on-disk format defines it, computed here on its own.
    let uuid: [u8; 16] = img[1024 + 0x68..1024 + 0x78].try_into().unwrap();
    let seed = crc32c(!0, &uuid);
    let s = crc32c(crc32c(crc32c(seed, &oino.to_le_bytes()), &generation.to_le_bytes()), &(ob as u64).to_le_bytes());
    let blk = &mut img[ob * bs..(ob + 1) * bs];
    let c = crc32c(s, &blk[..bs - 8]);
    blk[bs - 4..].copy_from_slice(&c.to_le_bytes());
    let c = !crc32c::crc32c(&img[1024..1024 + 0x3FC]);
    img[1024 + 0x3FC..2048].copy_from_slice(&c.to_le_bytes());
    let d2 = disk(img);
    let fs = mount(&d2);
    assert!(fs.getattr(victim).map(|a| a.nlink == 0 && a.blocks == 0).unwrap_or(true));
    fs.unmount().unwrap();
    let out = d2.snapshot();
    assert_eq!(u32::from_le_bytes(out[1024 + 0x64..1024 + 0x68].try_into().unwrap()) & 0x10000, 0, "orphan_present cleared");
    assert_clean(&out, "draining the orphan file");
}

#[test]
fn power_cuts_with_a_tiny_cache_recover_to_an_fsynced_state() {
    let base = mkfs(&["-J", "size=1"], "32M", None);
    let mut rng = Rng(4321);
    for seed in 200..208 {
        let at = 50 + rng.below(400);
        crash_once_with(&base, seed, at, 300, 64);
    }
}
