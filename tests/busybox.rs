//! Busybox applets run natively and under vkernel must print the same bytes
//! and exit the same way. Inputs are fixture files written at test time into
//! cargo's scratch directory (the guest sees them through the read-only root).
//! Busybox cannot fork under vkernel yet, so every test is a single applet.

mod common;

use common::{BUSYBOX, Input};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Fixture tree, built once per test run.
fn fixtures() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = common::scratch_dir().join("busybox-fixtures");
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("tree/sub/deeper")).unwrap();
        let mut words = String::new();
        let names = ["pear", "apple", "fig", "apple", "kiwi", "banana", "fig", "fig", "cherry"];
        for (i, w) in names.iter().cycle().take(200).enumerate() {
            words.push_str(&format!("{w} {} line{i}\n", (i * 37) % 101));
        }
        fs::write(dir.join("words.txt"), &words).unwrap();
        let mut sorted: Vec<&str> = names.to_vec();
        sorted.sort_unstable();
        fs::write(dir.join("sorted.txt"), sorted.join("\n") + "\n").unwrap();
        let binary: Vec<u8> = (0..5000u32).map(|i| (i * 7 + i / 256) as u8).collect();
        fs::write(dir.join("binary.bin"), &binary).unwrap();
        fs::write(dir.join("tree/a.txt"), "alpha\n").unwrap();
        fs::write(dir.join("tree/b.txt"), "bravo\nbravo\n").unwrap();
        fs::write(dir.join("tree/sub/c.txt"), "charlie\n").unwrap();
        fs::write(dir.join("tree/sub/deeper/d.dat"), [0u8, 1, 2, 3]).unwrap();
        fs::write(dir.join("tree/empty"), "").unwrap();
        std::os::unix::fs::symlink("a.txt", dir.join("tree/link-to-a")).unwrap();
        fs::write(dir.join("other.txt"), "alpha\nbeta\ngamma\n").unwrap();
        fs::write(dir.join("other2.txt"), "alpha\nBETA\ngamma\n").unwrap();
        dir
    })
}

fn fx(rel: &str) -> String {
    fixtures().join(rel).to_string_lossy().into_owned()
}

/// Compare `busybox ARGS` natively and under vkernel; false if skipped.
fn bb(test: &str, args: &[&str]) -> bool {
    bb_in(test, args, &Input::Null)
}

fn bb_in(test: &str, args: &[&str], input: &Input) -> bool {
    if !common::have_busybox(test) {
        return false;
    }
    common::compare(BUSYBOX, args, input);
    true
}

/// Compare with stdout lines sorted: for applets whose output order is the
/// directory's readdir order, which Linux does not define.
fn bb_sorted(test: &str, args: &[&str]) -> bool {
    if !common::have_busybox(test) {
        return false;
    }
    let native = common::run_native(BUSYBOX, args, &Input::Null);
    let vk = common::run_vkernel(BUSYBOX, args, &Input::Null);
    common::assert_same_with(&native, &vk, |out| {
        let text = String::from_utf8_lossy(out);
        let mut lines: Vec<&str> = text.lines().collect();
        lines.sort_unstable();
        lines.join("\n").into_bytes()
    });
    true
}

fn stdin_file(rel: &str) -> Input {
    Input::File(fixtures().join(rel))
}

#[test]
fn ls_la_of_a_tree_matches() {
    bb("ls_la_of_a_tree_matches", &["ls", "-la", &fx("tree")]);
}

#[test]
fn ls_lar_recursive_matches() {
    bb("ls_lar_recursive_matches", &["ls", "-laR", &fx("tree")]);
}

#[test]
fn ls_la_etc_matches() {
    bb("ls_la_etc_matches", &["ls", "-la", "/etc"]);
}

#[test]
fn ls_of_missing_file_fails_the_same_way() {
    bb("ls_of_missing_file_fails_the_same_way", &["ls", "/nonexistent-vk-path"]);
}

#[test]
fn cat_file_matches() {
    bb("cat_file_matches", &["cat", &fx("words.txt"), &fx("binary.bin")]);
}

#[test]
fn cat_stdin_matches() {
    bb_in("cat_stdin_matches", &["cat"], &stdin_file("words.txt"));
}

#[test]
fn cat_large_binary_matches() {
    bb("cat_large_binary_matches", &["cat", BUSYBOX]);
}

#[test]
fn wc_file_and_stdin_match() {
    bb("wc_file_and_stdin_match", &["wc", &fx("words.txt"), &fx("binary.bin")]);
    bb_in("wc_file_and_stdin_match", &["wc", "-l"], &stdin_file("words.txt"));
}

#[test]
fn sort_variants_match() {
    bb("sort_variants_match", &["sort", &fx("words.txt")]);
    bb("sort_variants_match", &["sort", "-k2,2n", "-r", &fx("words.txt")]);
    bb_in("sort_variants_match", &["sort", "-u"], &stdin_file("words.txt"));
}

#[test]
fn uniq_counts_match() {
    bb("uniq_counts_match", &["uniq", "-c", &fx("sorted.txt")]);
}

#[test]
fn sed_substitute_and_print_range_match() {
    bb("sed_substitute_and_print_range_match", &["sed", "s/fig/FIG/g; s/[0-9]\\+/<&>/", &fx("words.txt")]);
    bb("sed_substitute_and_print_range_match", &["sed", "-n", "10,20p", &fx("words.txt")]);
}

#[test]
fn awk_sums_and_fields_match() {
    bb("awk_sums_and_fields_match", &["awk", "{ s += $2; n[$1]++ } END { print s; for (k in n) c++; print c, NR }", &fx("words.txt")]);
    bb("awk_sums_and_fields_match", &["awk", "-F", " ", "$2 > 90 { print $3, length($0) }", &fx("words.txt")]);
}

#[test]
fn grep_variants_match() {
    bb("grep_variants_match", &["grep", "-n", "apple", &fx("words.txt")]);
    bb("grep_variants_match", &["grep", "-c", "-E", "fig|kiwi", &fx("words.txt")]);
    bb("grep_variants_match", &["grep", "-r", "bravo", &fx("tree")]);
}

#[test]
fn grep_without_match_exits_1() {
    bb("grep_without_match_exits_1", &["grep", "no-such-word", &fx("words.txt")]);
}

#[test]
fn checksums_match() {
    bb("checksums_match", &["md5sum", &fx("words.txt"), &fx("binary.bin"), BUSYBOX]);
    bb("checksums_match", &["sha1sum", &fx("binary.bin")]);
    bb("checksums_match", &["sha256sum", &fx("words.txt"), BUSYBOX]);
    bb("checksums_match", &["sha512sum", &fx("binary.bin")]);
    bb_in("checksums_match", &["sha256sum"], &stdin_file("binary.bin"));
}

#[test]
fn find_lists_the_same_tree() {
    bb_sorted("find_lists_the_same_tree", &["find", &fx("tree")]);
    bb_sorted("find_lists_the_same_tree", &["find", &fx("tree"), "-name", "*.txt", "-type", "f"]);
    bb_sorted("find_lists_the_same_tree", &["find", &fx("tree"), "-type", "l"]);
}

#[test]
fn stat_formats_match() {
    bb("stat_formats_match", &["stat", "-c", "%n %s %a %A %U %G %F %h %Y", &fx("words.txt"), &fx("tree"), &fx("tree/link-to-a"), BUSYBOX]);
    bb("stat_formats_match", &["stat", "-L", "-c", "%n %s %F", &fx("tree/link-to-a")]);
    bb("stat_formats_match", &["stat", "-c", "%n %F %t,%T", "/dev/null", "/dev/zero"]);
}

#[test]
fn date_year_matches() {
    bb("date_year_matches", &["date", "+%Y"]);
    bb("date_year_matches", &["date", "-u", "-d", "@1234567890", "+%Y-%m-%d %H:%M:%S"]);
}

#[test]
fn uname_matches() {
    // `uname -a` would also need vkernel to report the host's nodename,
    // release and version; these fields are the stable part.
    bb("uname_matches", &["uname", "-s", "-m", "-o"]);
}

/// The full `uname -a` also needs vkernel to report the host's nodename,
/// release, version and machine, as a guest on this host would see them.
#[test]
fn uname_a_matches_the_host() {
    bb("uname_a_matches_the_host", &["uname", "-a"]);
}

#[test]
fn head_and_tail_match() {
    bb("head_and_tail_match", &["head", "-n", "3", &fx("words.txt")]);
    bb("head_and_tail_match", &["head", "-c", "100", &fx("binary.bin")]);
    bb("head_and_tail_match", &["tail", "-n", "2", &fx("words.txt")]);
    bb("head_and_tail_match", &["tail", "-c", "50", &fx("binary.bin")]);
    bb_in("head_and_tail_match", &["tail", "-n", "5"], &stdin_file("words.txt"));
}

#[test]
fn od_hexdump_xxd_match() {
    bb("od_hexdump_xxd_match", &["od", "-A", "x", "-t", "x1z", "-v", &fx("binary.bin")]);
    bb("od_hexdump_xxd_match", &["hexdump", "-C", &fx("binary.bin")]);
    bb("od_hexdump_xxd_match", &["xxd", &fx("tree/sub/deeper/d.dat")]);
    bb("od_hexdump_xxd_match", &["od", "-A", "d", "-t", "x8", "-N", "64", "/dev/zero"]);
}

#[test]
fn text_tools_match() {
    bb("text_tools_match", &["seq", "1", "7", "1000"]);
    bb("text_tools_match", &["printf", "%s-%05d-%x\\n", "a", "42", "255"]);
    bb("text_tools_match", &["echo", "-n", "no newline"]);
    bb("text_tools_match", &["expr", "6", "*", "7"]);
    bb("text_tools_match", &["basename", "/a/b/c.txt", ".txt"]);
    bb("text_tools_match", &["dirname", "/a/b/c.txt"]);
    bb("text_tools_match", &["cut", "-d", " ", "-f", "1,3", &fx("words.txt")]);
    bb("text_tools_match", &["nl", &fx("other.txt")]);
    bb("text_tools_match", &["rev", &fx("other.txt")]);
    bb("text_tools_match", &["tac", &fx("other.txt")]);
    bb("text_tools_match", &["base64", &fx("binary.bin")]);
    bb("text_tools_match", &["strings", "-n", "12", &fx("binary.bin")]);
    bb_in("text_tools_match", &["tr", "a-z", "A-Z"], &stdin_file("other.txt"));
}

#[test]
fn cmp_and_diff_report_differences() {
    bb("cmp_and_diff_report_differences", &["cmp", &fx("other.txt"), &fx("other2.txt")]);
    bb("cmp_and_diff_report_differences", &["diff", &fx("other.txt"), &fx("other2.txt")]);
    bb("cmp_and_diff_report_differences", &["cmp", &fx("other.txt"), &fx("other.txt")]);
}

#[test]
fn gzip_and_tar_produce_the_same_bytes() {
    bb("gzip_and_tar_produce_the_same_bytes", &["gzip", "-c", "-9", &fx("words.txt")]);
    bb("gzip_and_tar_produce_the_same_bytes", &["tar", "-cf", "-", "-C", &fx("tree"), "a.txt", "b.txt", "sub/c.txt"]);
}

#[test]
fn environment_identity_and_cwd_match() {
    bb("environment_identity_and_cwd_match", &["env"]);
    bb("environment_identity_and_cwd_match", &["pwd"]);
    bb("environment_identity_and_cwd_match", &["id", "-u"]);
    bb("environment_identity_and_cwd_match", &["id", "-g"]);
    bb("environment_identity_and_cwd_match", &["whoami"]);
    bb("environment_identity_and_cwd_match", &["realpath", BUSYBOX]);
}

#[test]
fn exit_statuses_match() {
    bb("exit_statuses_match", &["true"]);
    bb("exit_statuses_match", &["false"]);
    bb("exit_statuses_match", &["test", "-d", "/etc"]);
    bb("exit_statuses_match", &["test", "-f", "/nonexistent-vk-path"]);
    bb("exit_statuses_match", &["sleep", "0.2"]);
    bb("exit_statuses_match", &["no-such-applet"]);
}

#[test]
fn du_of_a_tree_matches() {
    bb("du_of_a_tree_matches", &["du", "-s", &fx("tree")]);
}

#[test]
fn dd_into_tmp_succeeds_the_same_way() {
    if !common::have_busybox("dd_into_tmp_succeeds_the_same_way") {
        return;
    }
    let target = format!("/tmp/{}", common::unique_name("vk-bb-dd"));
    let args = ["dd", &format!("if={}", fx("words.txt")), &format!("of={target}"), "bs=512"];
    let native = common::run_native(BUSYBOX, &args, &Input::Null);
    let _ = fs::remove_file(&target);
    let vk = common::run_vkernel(BUSYBOX, &args, &Input::Null);
    let leaked = Path::new(&target).exists();
    let _ = fs::remove_file(&target);
    common::assert_same(&native, &vk);
    assert!(!leaked, "guest dd into /tmp reached the host");
}

#[test]
fn tee_into_tmp_echoes_stdin() {
    if !common::have_busybox("tee_into_tmp_echoes_stdin") {
        return;
    }
    let target = format!("/tmp/{}", common::unique_name("vk-bb-tee"));
    let args = ["tee", target.as_str()];
    let input = stdin_file("words.txt");
    let native = common::run_native(BUSYBOX, &args, &input);
    let written = fs::read(&target).ok();
    let _ = fs::remove_file(&target);
    let vk = common::run_vkernel(BUSYBOX, &args, &input);
    let leaked = Path::new(&target).exists();
    let _ = fs::remove_file(&target);
    assert_eq!(written.as_deref(), Some(native.stdout.as_slice()), "native tee wrote something else");
    common::assert_same(&native, &vk);
    assert!(!leaked, "guest tee into /tmp reached the host");
}

#[test]
fn dd_from_dev_zero_and_urandom_to_dev_null() {
    bb("dd_from_dev_zero_and_urandom_to_dev_null", &["dd", "if=/dev/zero", "of=/dev/null", "bs=64k", "count=100"]);
    bb("dd_from_dev_zero_and_urandom_to_dev_null", &["dd", "if=/dev/urandom", "of=/dev/null", "bs=4k", "count=10"]);
}
