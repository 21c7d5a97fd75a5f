//! busybox `sh -c` scripts run natively and under vkernel
//! (`vkernel -- /bin/busybox sh -c SCRIPT`): stdout, stderr and the exit
//! status must be identical. Each script is deterministic: no pids, times
//! or temporary names reach the output, background jobs write to files
//! that are read after `wait`. Scratch files go to a `mktemp -d` directory
//! under /tmp (vkernel's own tmpfs in the guest) that the script removes.
//!
//! Under vkernel the shell is PID 1, so `$$` is 1 and a signal without a
//! trap sent to `$$` is ignored (init semantics); the scripts only signal
//! `$$` when a trap is set, and use a nested `sh -c` when they need a shell
//! that dies of a signal.
//!

mod common;

use common::{BUSYBOX, Input};

/// Run `busybox sh -c script` both ways and compare.
fn sh(test: &str, script: &str) {
    if !common::have_busybox(test) {
        return;
    }
    let native = common::run_native(BUSYBOX, &["sh", "-c", script], &Input::Null);
    // VK_SELFCHECK=1 compares two native runs: checks that a script is
    // deterministic, without vkernel.
    let vk = if std::env::var_os("VK_SELFCHECK").is_some() {
        common::run_native(BUSYBOX, &["sh", "-c", script], &Input::Null)
    } else {
        common::run_vkernel(BUSYBOX, &["sh", "-c", script], &Input::Null)
    };
    common::assert_same(&native, &vk);
}

/// A scratch directory for the script, removed at the end. `$d` names it;
/// the script runs inside it.
fn in_tmp(body: &str) -> String {
    format!("d=$(mktemp -d /tmp/vk-shell.XXXXXX) || exit 99\ncd \"$d\" || exit 98\n{body}\ncd / && rm -rf \"$d\"\n")
}

#[test]
fn pipelines_pass_data_and_report_the_last_status() {
    sh(
        "pipelines_pass_data_and_report_the_last_status",
        r#"
seq 1 100000 | sort -rn | head -3
echo a b c d | tr ' ' '\n' | wc -l
seq 1 500 | cat | cat | cat | cat | cat | cat | cat | md5sum
false | true; echo "false|true: $?"
true | false; echo "true|false: $?"
set -o pipefail
false | true; echo "pipefail false|true: $?"
(exit 3) | (exit 0) | true; echo "pipefail 3|0|0: $?"
set +o pipefail
! true; echo "! true: $?"
! false | false; echo "! false|false: $?"
yes | head -n 4
yes hello | head -c 100000 | wc -c
seq 1 3 | while read n; do echo "line $n"; done
echo done
"#,
    );
}

#[test]
fn subshells_keep_their_changes_to_themselves() {
    sh(
        "subshells_keep_their_changes_to_themselves",
        r#"
x=outer
(x=inner; echo "in: $x"); echo "out: $x"
(cd /etc && pwd); pwd
(exit 7); echo "subshell exit: $?"
( (exit 4) ); echo "nested: $?"
(echo one; echo two) | wc -l
( trap 'echo sub-exit' EXIT; echo in-sub )
f() { echo "function in subshell: $1"; return 5; }
(f arg); echo "status $?"
{ echo group1; echo group2; } | cat
umask 022; (umask 077; umask); umask
(ulimit -n 64; ulimit -n)
ulimit -n >/dev/null && echo "ulimit restored"
"#,
    );
}

#[test]
fn command_substitution_captures_output_and_status() {
    sh(
        "command_substitution_captures_output_and_status",
        r#"
echo "[$(echo hi)]"
echo "[$(echo $(echo $(echo deep)))]"
echo "[`echo backticks`]"
x=$(printf 'a\n\n\n'); echo "[$x] trailing newlines stripped"
n=$(seq 1 20000 | wc -l); echo "lines: $n"
big=$(seq 1 5000); echo "${#big} characters"
y=$(exit 5); echo "status of the substitution: $?"
z=$(echo out; echo err >&2); echo "stdout only: $z"
i=0; s=0
while [ $i -lt 200 ]; do s=$((s + $(echo $i))); i=$((i + 1)); done
echo "sum of 200 substitutions: $s"
echo "$(cd /etc; pwd) but still in $(pwd)"
"#,
    );
}

#[test]
fn here_documents_expand_or_not_as_quoted() {
    sh(
        "here_documents_expand_or_not_as_quoted",
        "name=world\n\
cat <<EOF\n\
hello $name\n\
sum $((2 + 3))\n\
cmd $(echo substituted)\n\
EOF\n\
cat <<'EOF'\n\
not $name expanded $(nor this)\n\
EOF\n\
cat <<-EOF\n\
\tleading tabs removed\n\
\tEOF\n\
while read a b; do echo \"a=$a b=$b\"; done <<EOF\n\
1 one\n\
2 two\n\
EOF\n\
cat <<A; cat <<B\n\
first\n\
A\n\
second\n\
B\n\
wc -c <<EOF\n\
$(seq 1 3000)\n\
EOF\n",
    );
}

#[test]
fn traps_run_for_usr1_int_term_and_exit() {
    // Trapped signals have a handler, so they reach the shell even as PID 1.
    sh(
        "traps_run_for_usr1_int_term_and_exit",
        r#"
trap 'echo EXIT trap' EXIT
trap 'echo got USR1' USR1
kill -USR1 $$
echo after USR1
trap 'echo got INT' INT
kill -INT $$
echo survived INT
trap 'echo got TERM; n=$((n + 1))' TERM
n=0; kill -TERM $$; kill -TERM $$; echo "TERM count $n"
trap - USR1
trap
trap '' USR2
kill -USR2 $$
echo ignored USR2
sh -c 'trap "echo inner EXIT" EXIT; echo inner body'
sh -c 'trap "echo inner USR1; exit 9" USR1; kill -USR1 $$; echo not reached'; echo "inner status $?"
sh -c 'kill -TERM $$; echo not reached'; echo "untrapped TERM: $?"
sh -c 'kill -KILL $$'; echo "KILL: $?"
sh -c 'trap "" TERM; kill -TERM $$; echo TERM ignored inside'
(trap 'echo subshell USR2' USR2; kill -USR2 $(sh -c 'echo $PPID'); echo subshell done) 2>/dev/null || true
echo end
"#,
    );
}

#[test]
fn background_jobs_and_wait_report_statuses() {
    sh(
        "background_jobs_and_wait_report_statuses",
        &in_tmp(
            r#"
(sleep 0.2; echo slow > a) &
p1=$!
(echo fast > b) &
p2=$!
wait $p2; echo "fast: $?"
wait $p1; echo "slow: $?"
cat a b
(exit 7) & wait $!; echo "exit 7 in background: $?"
sh -c 'kill -TERM $$' & wait $! 2>/dev/null; echo "killed by TERM: $?"
for i in 1 2 3 4 5 6 7 8; do (echo job$i > out.$i) & done
wait
cat out.1 out.2 out.3 out.4 out.5 out.6 out.7 out.8
wait; echo "wait with no jobs: $?"
sleep 0.1 & sleep 0.1 & sleep 0.1 & wait; echo "three sleeps waited"
wait 99999 2>/dev/null; echo "wait for a non-child: $?"
"#,
        ),
    );
}

#[test]
fn kill_terminates_jobs_with_the_right_status() {
    sh(
        "kill_terminates_jobs_with_the_right_status",
        r#"
# Whether the shell prints "Terminated" etc. for a background job killed
# while `wait` runs depends on timing: those messages go to /dev/null.
exec 3>&2 2>/dev/null
sleep 10 & p=$!
kill -0 $p && echo "alive"
kill $p; wait $p; echo "after kill: $?"
kill -0 $p 2>/dev/null || echo "gone"
sleep 10 & p=$!; kill -9 $p; wait $p; echo "after kill -9: $?"
sleep 10 & p=$!; kill -s ALRM $p; wait $p; echo "after kill -s ALRM: $?"
sleep 10 & p=$!; kill -USR1 $p; wait $p; echo "after kill -USR1: $?"
sleep 10 & p=$!; kill -HUP $p; wait $p; echo "after kill -HUP: $?"
exec 2>&3 3>&-
kill -l | head -3
kill -l 15; kill -l 9
kill -NOSUCH 1 2>/dev/null; echo "bad signal name: $?"
busybox kill -0 999999 2>/dev/null; echo "kill of a missing pid: $?"
"#,
    );
}

#[test]
fn timeout_kills_slow_commands_and_passes_fast_ones() {
    sh(
        "timeout_kills_slow_commands_and_passes_fast_ones",
        r#"
timeout 1 sleep 10; echo "timed out: $?"
timeout 5 true; echo "fast true: $?"
timeout 5 sh -c 'exit 3'; echo "fast exit 3: $?"
timeout -s KILL 1 sleep 10; echo "timed out with KILL: $?"
timeout -s INT 1 sh -c 'trap "echo got INT; exit 4" INT; sleep 5 & wait'; echo "trapped INT: $?"
"#,
    );
}

#[test]
fn xargs_batches_arguments() {
    sh(
        "xargs_batches_arguments",
        r#"
seq 1 20 | xargs -n 3 echo
printf 'a\nb\nc\n' | xargs -I{} echo item-{}
printf 'x y\nz\n' | xargs echo
seq 1 5 | xargs -n 1 sh -c 'echo $(( $0 * $0 ))'
echo | xargs -r echo should-not-print; echo "-r with empty input: $?"
seq 1 3 | xargs sh -c 'exit 1'; echo "command failed: $?"
seq 1 3 | xargs -n 1 sh -c 'exit 255'; echo "exit 255 stops xargs: $?"
seq 1 2000 | xargs echo | wc -w
"#,
    );
}

#[test]
fn find_exec_runs_commands_on_matches() {
    sh(
        "find_exec_runs_commands_on_matches",
        &in_tmp(
            r#"
mkdir -p t/sub/deeper t/other
echo alpha > t/a.txt
echo bravo bravo > t/sub/b.txt
echo charlie > t/sub/deeper/c.txt
printf 'x' > t/other/d.dat
find t -type f -name '*.txt' -exec wc -c {} \; | sort
find t -type f -exec echo found {} + | tr ' ' '\n' | sort
find t -type d | sort
find t -name '*.dat' -exec sh -c 'echo "$1 has $(wc -c < "$1") byte(s)"' sh {} \;
find t -type f -exec grep -l bravo {} \;
find t -newer t/a.txt -name nothing; echo "find status: $?"
"#,
        ),
    );
}

#[test]
fn tar_and_gzip_round_trip_through_pipes() {
    sh(
        "tar_and_gzip_round_trip_through_pipes",
        &in_tmp(
            r#"
mkdir -p src/sub
seq 1 20000 > src/numbers
echo hello > src/sub/hello
dd if=/dev/zero bs=1024 count=300 2>/dev/null | tr '\0' 'z' > src/sub/zeds
ln -s hello src/sub/link
tar cf - src | gzip -c > archive.tgz
gzip -t archive.tgz && echo "gzip -t ok"
mkdir out
gzip -dc archive.tgz | (cd out && tar xf -)
diff -r src out/src && echo "trees identical"
readlink out/src/sub/link
cat src/numbers | gzip -9 | gzip -dc | md5sum
md5sum < src/numbers
tar cf - src | tar tf - | sort
tar czf a2.tgz src && tar xzf a2.tgz -O src/sub/hello
"#,
        ),
    );
}

#[test]
fn set_e_stops_at_the_first_unchecked_failure() {
    sh(
        "set_e_stops_at_the_first_unchecked_failure",
        r#"
sh -c 'set -e; echo before; false; echo not reached'; echo "status $?"
sh -c 'set -e; false || echo "|| is checked"; if false; then :; fi; while false; do :; done; ! true; echo "still running"'; echo "status $?"
sh -c 'set -e; (false); echo not reached'; echo "subshell failure: $?"
sh -c 'set -e; x=$(false); echo not reached'; echo "assignment from a failing substitution: $?"
sh -c 'set -e; f() { false; echo in f; }; f || echo "f failed"; echo after'; echo "status $?"
sh -c 'set -e; true | false; echo not reached'; echo "pipeline: $?"
sh -c 'set -e; false | true; echo "only the last stage counts"'; echo "status $?"
sh -c 'set -eu; echo $undefined_variable; echo not reached' 2>/dev/null; echo "set -u: $?"
"#,
    );
}

#[test]
fn exit_statuses_of_commands_and_signals() {
    sh(
        "exit_statuses_of_commands_and_signals",
        r#"
sh -c 'exit 300'; echo "exit 300: $?"
sh -c 'exit 255'; echo "exit 255: $?"
sh -c 'exit -1' 2>/dev/null; echo "exit -1: $?"
nonexistent-vk-command 2>/dev/null; echo "not found: $?"
/etc/passwd 2>/dev/null; echo "not executable: $?"
/etc 2>/dev/null; echo "a directory: $?"
sh -c 'kill -SEGV $$'; echo "SEGV: $?"
sh -c 'kill -ABRT $$'; echo "ABRT: $?"
sh -c 'kill -PIPE $$'; echo "PIPE: $?"
sh -c 'kill -QUIT $$'; echo "QUIT: $?"
sh -c 'exec false'; echo "exec false: $?"
sh -c 'exec echo replaced; echo not reached'
sh -c 'sh -c "sh -c \"exit 42\""'; echo "three levels: $?"
false; echo "false: $?"; true; echo "true: $?"
sh -c 'return 3' 2>/dev/null; echo "return outside a function: $?"
exit 17
"#,
    );
}

#[test]
fn redirections_and_file_descriptors() {
    sh(
        "redirections_and_file_descriptors",
        &in_tmp(
            r#"
echo one > f; echo two >> f; cat f
exec 3> g; echo via-fd-3 >&3; exec 3>&-; cat g
exec 4< f; read line <&4; echo "read from fd 4: $line"; exec 4<&-
{ echo to-stderr >&2; echo to-stdout; } 2>&1 | sort
ls /nonexistent-vk 2> err; echo "ls status $?"; wc -l < err
echo data | { read x; echo "got $x"; }
cat < /dev/null; echo "empty input ok"
echo x > /dev/null; echo "to /dev/null ok"
set -C; echo y > f 2>/dev/null || echo "noclobber refused"; set +C
"#,
        ),
    );
}

#[test]
fn the_issue_example_pipeline() {
    sh("the_issue_example_pipeline", "seq 1 100000 | sort -rn | head -3");
}
