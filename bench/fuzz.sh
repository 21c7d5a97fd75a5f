#!/usr/bin/env bash
# A fuzz campaign: tests/fuzz/syscall_fuzz.c under target/release/vkernel
# for many seeds, one run at a time; reports every failing seed with the
# command that reproduces it.
#   bench/fuzz.sh [--seeds FIRST-LAST] [--calls N] [--workers N] [--seconds N]
#                 [--avoid-known] [--flags 'FUZZ FLAGS'] [--out DIR] [--no-build]
# Defaults: seeds 1-100, 20000 calls per seed, 4 workers, 60 s per seed.
# --avoid-known passes -t -s futex,futex_waitv,futex_wait (see
# tests/FUZZ_FINDINGS.md) to look past the findings not fixed yet.
# A run fails on a vkernel panic ("panicked" or "internal error" on
# stderr, exit 70/101) or
# crash (an abort, a fatal signal), a hang
# (vkernel still running 30 s after the guest's limit), a process the kernel
# lost (the fuzzer's FUZZ HANG lines), a vkernel-stub left running, or a
# change in the canary directory the guest is pointed at. Logs stay in DIR
# (default target/fuzz/runs; stderr only for failing seeds); the summary is
# DIR/summary.
# The fuzzer only ever runs under vkernel: never run the binary by hand on
# the host (it refuses to, but do not try).
set -uo pipefail

cd "$(dirname "$0")/.."
first=1 last=100 calls=20000 workers=4 seconds=60 build=1
flags=()
out=target/fuzz/runs
while [ $# -gt 0 ]; do
    arg=$1
    shift
    case "$arg" in
        --seeds) range=${1:?--seeds needs FIRST-LAST}; shift; first=${range%-*}; last=${range#*-} ;;
        --calls) calls=${1:?}; shift ;;
        --workers) workers=${1:?}; shift ;;
        --seconds) seconds=${1:?}; shift ;;
        --avoid-known) flags+=(-t -s futex,futex_waitv,futex_wait) ;;
        --flags) read -r -a more <<<"${1:?}"; flags+=("${more[@]}"); shift ;;
        --out) out=${1:?}; shift ;;
        --no-build) build=0 ;;
        -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
        *) echo "bench/fuzz.sh: unknown option $arg (try --help)" >&2; exit 2 ;;
    esac
done

if [ "$build" = 1 ]; then
    cargo build --release --quiet || exit 1
fi
vkernel=${VKERNEL:-$PWD/target/release/vkernel}
[ -x "$vkernel" ] || { echo "bench/fuzz.sh: $vkernel missing: run cargo build --release" >&2; exit 1; }
mkdir -p target/fuzz "$out"
fuzz=$PWD/target/fuzz/syscall_fuzz
cc -O1 -Wall -g0 -static -o "$fuzz" tests/fuzz/syscall_fuzz.c || exit 1
case "$fuzz" in
    /tmp/*|/dev/shm/*) echo "bench/fuzz.sh: $fuzz is under /tmp, which the guest cannot see; use a checkout elsewhere" >&2; exit 1 ;;
esac

# A scratch directory the guest sees through its copy-on-write root: its cwd and a canary
# tree (-p) the fuzzer throws paths at. Neither may change.
# It stays after the campaign so that the reproduce commands work as shown.
case "$out" in /*) ;; *) out=$PWD/$out ;; esac
scratch=$out/scratch
case "$scratch" in
    /tmp/*|/dev/shm/*) echo "bench/fuzz.sh: $scratch is under /tmp, which the guest cannot see; use --out elsewhere" >&2; exit 1 ;;
esac
rm -rf "$scratch"
mkdir -p "$scratch/cwd" "$scratch/canary/sub"
echo "canary data" >"$scratch/canary/file"
echo "inner canary" >"$scratch/canary/sub/inner"
ln -s file "$scratch/canary/link"
echo "in the guest's cwd" >"$scratch/cwd/cwd-file"
snapshot() { (cd "$scratch" && find . -printf '%p %m %s %T@ %l\n' | sort && find . -type f -exec sha1sum {} + | sort); }
canary_before=$(snapshot)

# Live vkernel-stub processes whose parent is not a vkernel (orphans).
orphan_stubs() {
    local p ppid
    for p in /proc/[0-9]*; do
        [ "$({ tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null)" = "vkernel-stub " ] || continue
        ppid=$(awk '/^PPid:/ {print $2}' "$p/status" 2>/dev/null)
        [ -n "$ppid" ] || continue
        case "$(readlink "/proc/$ppid/exe" 2>/dev/null)" in
            */vkernel) ;;
            *) echo "${p#/proc/}" ;;
        esac
    done
}

summary=$out/summary
: >"$summary"
total_calls=0 failed=0 runs=0
started=$(date +%s)
echo "fuzz campaign: seeds $first-$last, $calls calls each, $workers workers, ${flags[*]:-no extra flags}" | tee -a "$summary"
for seed in $(seq "$first" "$last"); do
    runs=$((runs + 1))
    log=$out/seed-$seed
    args=(-w "$workers" -d "$seconds" -p "$scratch/canary" "${flags[@]}" "$seed" "$calls")
    # stdout through a pipe, and only its last MB kept: a guest may open its
    # console (/proc/1/fd/1) and pwrite into it (on a regular file that lands
    # anywhere in the log) or send it gigabytes (sendfile from a sparse file).
    (cd "$scratch/cwd" && exec timeout -s KILL $((seconds + 30)) "$vkernel" -m 256m -- "$fuzz" "${args[@]}") \
        </dev/null 2> >(tail -c 1000000 >"$log.err") | tail -c 1000000 >"$log.out"
    status=${PIPESTATUS[0]}
    wait ${!:-} 2>/dev/null # the stderr tail
    made=$(sed -n 's/^syscall_fuzz: \([0-9]*\) calls made.*/\1/p' "$log.out")
    total_calls=$((total_calls + ${made:-0}))
    why=()
    if grep -qE 'panicked|internal error' "$log.err" || [ $status = 70 ] || [ $status = 101 ]; then
        where=$(grep -m1 -E -A1 'panicked|internal error' "$log.err" | tr '\n' ' ' | sed 's/thread .vkernel[^ ]* ([0-9]*) //')
        calls_at=$(grep -m1 -E '^ +[0-9]+: vkernel::syscall::' "$log.err" | sed 's/^ *[0-9]*: //')
        why+=("PANIC $where${calls_at:+ in $calls_at}")
    fi
    if [ $status = 137 ]; then
        why+=("HANG: vkernel killed $((seconds + 30)) s after start")
    elif [ $status -gt 128 ] || grep -q -e 'memory allocation of' -e 'fatal runtime error' "$log.err"; then
        why+=("CRASH: vkernel died (exit $status): $(grep -m1 -e 'memory allocation' -e 'fatal runtime' "$log.err")")
    fi
    while read -r line; do why+=("$line"); done < <(grep '^FUZZ HANG' "$log.out")
    if ! grep -q 'FUZZ RESULT: ok' "$log.out" && [ ${#why[@]} = 0 ]; then
        why+=("no FUZZ RESULT: ok (exit $status)")
    fi
    sleep 1
    orphans=$(orphan_stubs | tr '\n' ' ')
    [ -n "$orphans" ] && why+=("LEFT BEHIND: orphaned vkernel-stub $orphans")
    if [ "$(snapshot)" != "$canary_before" ]; then
        why+=("HOST CHANGED: the canary directory differs")
        canary_before=$(snapshot)
    fi
    if [ ${#why[@]} -gt 0 ]; then
        failed=$((failed + 1))
        {
            echo "seed $seed FAILED (exit $status, ${made:-?} calls):"
            for w in "${why[@]}"; do echo "    $w"; done
            echo "    logs: $log.out $log.err"
            echo "    reproduce: cd $scratch/cwd && $vkernel -m 256m -- $fuzz ${args[*]}"
            echo "    trace it:  add -v -w 1 (every call on stderr before it is made)"
        } | tee -a "$summary"
    else
        rm -f "$log.err"
        printf 'seed %s ok (%s calls)\n' "$seed" "${made:-?}"
    fi
done
elapsed=$(($(date +%s) - started))
echo "fuzz campaign done: $runs seeds, $total_calls calls, $failed failing seed(s), ${elapsed} s" | tee -a "$summary"
if [ "$failed" -gt 0 ]; then
    echo "distinct failures:" | tee -a "$summary"
    grep -E '^    (PANIC|CRASH|HANG|FUZZ HANG|LEFT|HOST|no FUZZ)' "$summary" \
        | sed -E 's/worker [0-9]+ generation [0-9]+, after [0-9]+ calls; //; s/(last call [a-z_0-9?]+\(-?[0-9]+\)).*/\1/; s/\(exit [0-9]+, [0-9?]+ calls\)//' \
        | sort | uniq -c | sort -rn | tee -a "$summary"
fi
[ "$failed" = 0 ]
