#!/usr/bin/env bash
# Python's own test suite natively and under vkernel, per test case.
#   bench/python_conformance.sh [--no-build] [--modules "test_os test_io ..."]
#                               [--only native|vkernel] [--timeout SECS]
#                               [--report-only] [--no-docs]
# Runs each module with `python3 -m test -v` (Debian's libpython3.X-testsuite,
# matching /usr/bin/python3), first natively, then as
# `vkernel -- /bin/sh -c 'python3 -m test ...'` (sh is PID 1, so python is not
# init), both as uid 65534 when run as root, with a scratch HOME, TMPDIR and
# cwd under /var/tmp. Logs go to target/python-conformance/{native,vkernel}/.
# bench/python_conformance.py parses unittest's verbose output per case,
# prints the table and the ratio "cases passing natively that also pass under
# vkernel", and writes it into docs/compatibility.md. --report-only re-parses
# the logs of the last run; --modules re-runs just those modules (the other
# logs stay, and the report covers the default list); --only runs one side. A package of tests (test_asyncio) runs one
# submodule at a time, so that a hang (regrtest's --timeout ends it) loses
# only that submodule; a case that hangs is left out of a second try, so it
# loses only itself (MODULE.retryN.log). The default list takes 30-60
# minutes, so CI does not run it.
set -euo pipefail

cd "$(dirname "$0")/.."
repo=$PWD
modules="test_os test_posix test_subprocess test_threading test_signal test_select test_selectors
test_socket test_asyncio test_multiprocessing_fork test_concurrent_futures test_mmap test_io
test_logging test_queue test_thread test_epoll test_stat test_pty test_unittest"
run_modules=
modes="native vkernel"
timeout=600
build=1
run=1
docs=(--docs docs/compatibility.md)
while [ $# -gt 0 ]; do
    arg=$1
    shift
    case "$arg" in
        --no-build) build=0 ;;
        --modules) run_modules=${1:?--modules needs a list of module names}; shift ;;
        --only)
            modes=${1:?--only needs native or vkernel}; shift
            case "$modes" in native|vkernel) ;; *) echo "bench/python_conformance.sh: --only takes native or vkernel, not $modes" >&2; exit 2 ;; esac ;;
        --timeout) timeout=${1:?--timeout needs seconds}; shift ;;
        --report-only) run=0 ;;
        --no-docs) docs=() ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) echo "bench/python_conformance.sh: unknown option $arg (try --help)" >&2; exit 2 ;;
    esac
done

python=/usr/bin/python3
version=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
testdir=/usr/lib/python$version/test
if [ ! -f "$testdir/test_os.py" ]; then
    echo "bench/python_conformance.sh: $testdir has no tests: apt-get install libpython$version-testsuite" >&2
    exit 1
fi
logs=target/python-conformance

if [ "$run" = 1 ]; then
    if [ "$build" = 1 ]; then
        cargo build --release --quiet
    fi
    [ -x target/release/vkernel ] || { echo "bench/python_conformance.sh: target/release/vkernel missing: run cargo build --release" >&2; exit 1; }
    # A world-readable scratch tree: vkernel's copy, HOME, TMPDIR, cwd.
    scratch=/var/tmp/vk-python-conformance-$$
    rm -rf "$scratch"
    mkdir -p "$scratch"
    trap 'rm -rf "$scratch"' EXIT
    cp target/release/vkernel "$scratch/vkernel"
    chmod 755 "$scratch" "$scratch/vkernel"
    as_user=()
    if [ "$(id -u)" = 0 ]; then
        as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
    fi
    mkdir -p "$logs/native" "$logs/vkernel"
    if [ -z "$run_modules" ]; then
        rm -f "$logs"/native/*.log "$logs"/vkernel/*.log
    fi
    {
        echo "host: $(uname -sr), $(nproc) CPU(s); python $("$python" -c 'import platform; print(platform.python_version())')"
        echo "packages: $(dpkg-query -W -f '${Package} ${Version}\n' "libpython$version-testsuite" "python$version" 2>/dev/null | tr '\n' ';')"
        echo "vkernel: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src || echo '+changes')"
        echo "date: $(date -u +%F)"
    } > "$logs/run.new"
    if [ -n "$run_modules" ] && [ -f "$logs/run.txt" ]; then
        # A re-run of some modules: say so beside the first run's line.
        echo "re-run of $run_modules ($modes): $(sed -n 's/^vkernel: //p' "$logs/run.new"), $(date -u +%F)" >> "$logs/run.txt"
        rm "$logs/run.new"
    else
        mv "$logs/run.new" "$logs/run.txt"
    fi
    cat "$logs/run.txt"
    # Packages of tests run one submodule at a time; the report adds them up.
    units=()
    for module in ${run_modules:-$modules}; do
        if [ -d "$testdir/$module" ]; then
            for f in "$testdir/$module"/test_*.py; do
                units+=("$module.$(basename "$f" .py)")
            done
        else
            units+=("$module")
        fi
    done
    # Each unit natively and then under vkernel, so a partial run compares.
    for module in "${units[@]}"; do
        for mode in $modes; do
            rm -f "$logs/$mode/$module.log" "$logs/$mode/$module".*.log
            for sub in home tmp work; do
                rm -rf "${scratch:?}/$sub"
                mkdir "$scratch/$sub"
                [ "$(id -u)" = 0 ] && chown 65534:65534 "$scratch/$sub"
            done
            prefix=()
            if [ "$mode" = vkernel ]; then
                prefix=("$scratch/vkernel" --)
            fi
            # A case that hangs (regrtest's --timeout ends the unit) is left
            # out of the next try (up to six), so it loses only itself.
            ignored=()
            for try in 1 2 3 4 5 6; do
                log=$logs/$mode/$module.log
                [ "$try" = 1 ] || log=$logs/$mode/$module.retry$try.log
                start=$(date +%s)
                set +e
                (cd "$scratch/work" && timeout -k 10 $((timeout + 60)) "${as_user[@]}" env -i \
                    PATH=/usr/local/bin:/usr/bin:/bin HOME="$scratch/home" TMPDIR="$scratch/tmp" \
                    LANG=C.UTF-8 TZ=UTC TERM=dumb \
                    "${prefix[@]}" /bin/sh -c '"$@"; exit $?' sh \
                    "$python" -m test -v --timeout "$timeout" "${ignored[@]}" "$module" \
                    </dev/null >"$repo/$log" 2>&1)
                status=$?
                set -e
                echo "exit status $status, $(( $(date +%s) - start )) s" >> "$log"
                printf '%-8s %-44s exit %3d %5d s\n' "$mode" "$module" "$status" "$(( $(date +%s) - start ))"
                hung=$("$python" bench/python_conformance.py --hung "$log")
                [ -n "$hung" ] || break
                echo "$mode $module: $hung hung; trying again without it"
                ignored+=(--ignore "$hung")
            done
        done
    done
fi

exec "$python" bench/python_conformance.py --logs "$logs" "${docs[@]}" $modules
