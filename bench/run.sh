#!/usr/bin/env bash
# Benchmarks: native vs target/release/vkernel in the same run.
#   bench/run.sh [--quick] [--no-build] [--only NAME,...] [--platform seccomp,ptrace]
# Builds the release vkernel and the programs in bench/ (cc -static) into
# target/bench/, then runs bench/bench.py, which prints medians and ratios,
# for each vkernel backend in turn (both by default).
set -euo pipefail

cd "$(dirname "$0")/.."
quick=()
only=()
platform=()
build=1
while [ $# -gt 0 ]; do
    arg=$1
    shift
    case "$arg" in
        --quick) quick=(--quick) ;;
        --no-build) build=0 ;;
        --only) only=(--only "${1:?--only needs a list of names}"); shift ;;
        --platform) platform=(--platform "${1:?--platform needs a list of backends}"); shift ;;
        -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
        *) echo "bench/run.sh: unknown option $arg (try --help)" >&2; exit 2 ;;
    esac
done

if [ "$build" = 1 ]; then
    cargo build --release --quiet
fi
vkernel=target/release/vkernel
[ -x "$vkernel" ] || { echo "bench/run.sh: $vkernel missing: run cargo build --release" >&2; exit 1; }

out=target/bench
mkdir -p "$out"
for prog in getppid clock cpu idle touch spawn bigmem; do
    cc -O2 -static -Wall -o "$out/$prog" "bench/$prog.c"
done
cc -O2 -static -nostdlib -fno-stack-protector -Wall -o "$out/true" bench/true.c

echo "host: $(uname -sr), $(nproc) CPU(s), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
echo
exec python3 bench/bench.py --bin "$out" --vkernel "$vkernel" "${quick[@]}" "${only[@]}" "${platform[@]}"
