#!/usr/bin/env bash
# Block device throughput: dd of 256 MiB to /dev/vda (with fsync) and back,
# under vkernel (-r on a raw image, and on a qcow2 image), against the same
# dd on a regular file natively. Prints the median of 5 runs (MB/s) and the
# ratio to native. Usage: bench/blockdev.sh [VKERNEL] (default: the release
# build). Scratch files go to $TMPDIR_BENCH (default /var/tmp).
set -euo pipefail

VK=${1:-$(dirname "$0")/../target/release/vkernel}
DIR=$(mktemp -d "${TMPDIR_BENCH:-/var/tmp}/vk-bench-blockdev.XXXXXX")
trap 'rm -rf "$DIR"' EXIT
MIB=256
RUNS=5

# dd's summary line "... copied, S s, ..." -> MB/s.
rate() { awk -v mib="$MIB" '/copied/ { for (i = 1; i <= NF; i++) if ($(i + 1) == "s,") print mib * 1.048576 / $i }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

write_cmd="dd if=/dev/zero of=TARGET bs=1M count=$MIB conv=fsync,notrunc 2>&1"
read_cmd="dd if=TARGET of=/dev/null bs=1M count=$MIB 2>&1"

measure() { # label, runner (native|raw|qcow2)
    local w=() r=()
    for _ in $(seq $RUNS); do
        case $2 in
        native)
            w+=("$(sh -c "${write_cmd//TARGET/$DIR/native.bin}" | rate)")
            r+=("$(sh -c "${read_cmd//TARGET/$DIR/native.bin}" | rate)")
            ;;
        raw | qcow2)
            local img=$DIR/disk.raw
            [ "$2" = qcow2 ] && img=$DIR/disk.qcow2
            local out
            out=$("$VK" --root / -r "$img" -- /bin/sh -c "${write_cmd//TARGET//dev/vda}; ${read_cmd//TARGET//dev/vda}")
            w+=("$(echo "$out" | sed -n 1,3p | rate)")
            r+=("$(echo "$out" | sed -n 4,6p | rate)")
            ;;
        esac
    done
    printf '%s %s %s\n' "$1" "$(printf '%s\n' "${w[@]}" | median)" "$(printf '%s\n' "${r[@]}" | median)"
}

truncate -s $((MIB + 16))M "$DIR/native.bin" "$DIR/disk.raw"
qemu-img create -q -f qcow2 "$DIR/disk.qcow2" $((MIB + 16))M
results=$(
    measure native native
    measure raw raw
    measure qcow2 qcow2
)
native_w=$(echo "$results" | awk '$1 == "native" { print $2 }')
native_r=$(echo "$results" | awk '$1 == "native" { print $3 }')
echo "block device dd, $MIB MiB, median of $RUNS (MB/s; ratio to native)"
echo "$results" | awk -v nw="$native_w" -v nr="$native_r" \
    '{ printf "  %-7s write+fsync %8.0f (%.2fx)   read %8.0f (%.2fx)\n", $1, $2, $2 / nw, $3, $3 / nr }'
