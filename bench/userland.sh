#!/usr/bin/env bash
# Real-userland benchmarks: native vs target/release/vkernel in the same run.
#   bench/userland.sh [--quick] [--no-build] [--only startup,build,threads,memory]
# python3 -c pass and bash -c true start-up; make -j2 of a 12-file C project
# and one gcc compile; 4 threads on a mutex and 2 CPU-bound threads (wall
# time against one thread's two runs); host memory of 20 idle
# `vkernel -m 64m -- sh`. Prints medians and ratios (bench/userland.py).
set -euo pipefail

cd "$(dirname "$0")/.."
opts=()
build=1
while [ $# -gt 0 ]; do
    arg=$1
    shift
    case "$arg" in
        --quick) opts+=(--quick) ;;
        --no-build) build=0 ;;
        --only) opts+=(--only "${1:?--only needs a list of names}"); shift ;;
        -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
        *) echo "bench/userland.sh: unknown option $arg (try --help)" >&2; exit 2 ;;
    esac
done

if [ "$build" = 1 ]; then
    cargo build --release --quiet
fi
[ -x target/release/vkernel ] || { echo "bench/userland.sh: target/release/vkernel missing: run cargo build --release" >&2; exit 1; }

# Not under /tmp: the guest's /tmp is vkernel's own tmpfs. World-readable,
# so that the writing runs can be uid 65534.
scratch=/var/tmp/vk-bench-userland-$$
rm -rf "$scratch"
mkdir -p "$scratch"
trap 'rm -rf "$scratch"' EXIT
cp target/release/vkernel "$scratch/vkernel"
cc -O2 -Wall -pthread -o "$scratch/threads" bench/threads.c
chmod 755 "$scratch" "$scratch/vkernel" "$scratch/threads"

echo "host: $(uname -sr), $(nproc) CPU(s), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
python3 bench/userland.py --scratch "$scratch" --vkernel "$scratch/vkernel" "${opts[@]}"
