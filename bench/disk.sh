#!/usr/bin/env bash
# Disk benchmarks: vkernel booted from an ext4 image (-r) against the same
# work on the host's filesystem, natively, in one run. Prints medians and
# ratios:
#   sequential write (with fsync) and read of 512 MiB   (target >= 50% of native)
#   create, stat and unlink 5,000 files                  (target <= 3x native)
#   untar of a large tree (the host's Python stdlib)
#   boot from an ext4 root image to /bin/true, median of 10 (target <= 50 ms)
# usage: bench/disk.sh [--reps N] [--mib N] [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."
reps=3
mib=512
build=1
while [ $# -gt 0 ]; do
    case "$1" in
        --reps) reps=${2:?}; shift 2 ;;
        --mib) mib=${2:?}; shift 2 ;;
        --no-build) build=0; shift ;;
        -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
        *) echo "bench/disk.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
    esac
done
for t in mkfs.ext4 python3 busybox; do
    command -v "$t" >/dev/null || [ -x "/sbin/$t" ] || { echo "bench/disk.sh: needs $t" >&2; exit 1; }
done
[ "$build" = 1 ] && cargo build --release --quiet
vk=$PWD/target/release/vkernel
work=$(mktemp -d /var/tmp/vk-disk-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
cc -O2 -static -Wall -o "$work/disk_io" bench/disk_io.c
cc -O2 -static -nostdlib -fno-stack-protector -o "$work/true" bench/true.c

# The root tree: busybox, the benchmark program, a tiny /bin/true, and a
# tarball of the host's Python standard library.
stdlib=$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')
root=$work/root
mkdir -p "$root/bin" "$root/data" "$root/work"
cp "$(command -v busybox)" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cp "$work/disk_io" "$work/true" "$root/bin/"
tar -C "$(dirname "$stdlib")" -cf "$root/data/stdlib.tar" --exclude=__pycache__ "$(basename "$stdlib")"
tarsize=$(du -m "$root/data/stdlib.tar" | cut -f1)
tarfiles=$(tar -tf "$root/data/stdlib.tar" | wc -l)
image=$work/disk.img
mkfs.ext4 -q -F -d "$root" "$image" 4G
native=$work/native
mkdir -p "$native"

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
secs() { sed -n 's/.*seconds=\([0-9.]*\).*/\1/p'; }
on_vk() { "$vk" -m 1g -r "$image" -- "$@"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

echo "host: $(uname -sr), $(nproc) CPU(s); image: ext4 4 GiB (4 KiB blocks) in $(df -T /var/tmp | awk 'NR==2 {print $2}') on the host"
echo

echo "== sequential write of $mib MiB + fsync, then read (median of $reps)"
nw=(); vw=(); nr=(); vr=()
for _ in $(seq "$reps"); do
    rm -f "$native/big"
    nw+=("$("$work/disk_io" write "$native/big" "$mib" | secs)")
    nr+=("$("$work/disk_io" read "$native/big" | secs)")
    # A new file on both sides (the native one was removed above).
    vw+=("$(on_vk /bin/sh -c "rm -f /work/big && /bin/disk_io write /work/big $mib" | secs)")
    # A fresh boot: the guest's page cache is cold (the host's is not).
    vr+=("$(on_vk /bin/disk_io read /work/big | secs)")
done
nwm=$(printf '%s\n' "${nw[@]}" | median); vwm=$(printf '%s\n' "${vw[@]}" | median)
nrm=$(printf '%s\n' "${nr[@]}" | median); vrm=$(printf '%s\n' "${vr[@]}" | median)
echo "   write   native $(awk -v s="$nwm" -v m="$mib" 'BEGIN {printf "%7.0f MiB/s", m / s}')   vkernel $(awk -v s="$vwm" -v m="$mib" 'BEGIN {printf "%7.0f MiB/s", m / s}')   vkernel/native $(ratio "$nwm" "$vwm")  (target >= 0.50)"
echo "   read    native $(awk -v s="$nrm" -v m="$mib" 'BEGIN {printf "%7.0f MiB/s", m / s}')   vkernel $(awk -v s="$vrm" -v m="$mib" 'BEGIN {printf "%7.0f MiB/s", m / s}')   vkernel/native $(ratio "$nrm" "$vrm")  (target >= 0.50)"
rm -f "$native/big"
on_vk /bin/sh -c 'rm -f /work/big' >/dev/null

echo "== create, stat, unlink 5,000 files (median of $reps)"
nm=(); vm=()
for _ in $(seq "$reps"); do
    mkdir -p "$native/meta"
    nm+=("$("$work/disk_io" meta "$native/meta" 5000 | secs)")
    vm+=("$(on_vk /bin/sh -c 'mkdir -p /work/meta && /bin/disk_io meta /work/meta 5000' | secs)")
done
nmm=$(printf '%s\n' "${nm[@]}" | median); vmm=$(printf '%s\n' "${vm[@]}" | median)
echo "   native $(awk -v s="$nmm" 'BEGIN {printf "%8.1f ms", s * 1000}')   vkernel $(awk -v s="$vmm" 'BEGIN {printf "%8.1f ms", s * 1000}')   vkernel/native $(ratio "$vmm" "$nmm")x  (target <= 3x)"

echo "== untar the Python standard library ($tarfiles entries, $tarsize MiB; median of $reps)"
nu=(); vu=()
for i in $(seq "$reps"); do
    mkdir -p "$native/u$i"
    nu+=("$("$work/disk_io" run "$(command -v busybox)" tar -xf "$root/data/stdlib.tar" -C "$native/u$i" | secs)")
    vu+=("$(on_vk /bin/sh -c "mkdir -p /work/u$i && /bin/disk_io run /bin/busybox tar -xf /data/stdlib.tar -C /work/u$i" | secs)")
done
num=$(printf '%s\n' "${nu[@]}" | median); vum=$(printf '%s\n' "${vu[@]}" | median)
echo "   native $(awk -v s="$num" 'BEGIN {printf "%8.1f ms", s * 1000}')   vkernel $(awk -v s="$vum" 'BEGIN {printf "%8.1f ms", s * 1000}')   vkernel/native $(ratio "$vum" "$num")x"

echo "== boot from the ext4 image to /bin/true (median of 10)"
boots=()
for _ in $(seq 10); do
    t0=$(date +%s.%N)
    on_vk /bin/true
    t1=$(date +%s.%N)
    boots+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')")
done
bm=$(printf '%s\n' "${boots[@]}" | median)
echo "   vkernel -r image -- /bin/true $(awk -v s="$bm" 'BEGIN {printf "%6.1f ms", s * 1000}')  (target <= 50 ms)"

e2fsck -fn "$image" >/dev/null 2>&1 && echo "(image checks clean with e2fsck -fn afterwards)" || echo "WARNING: e2fsck -fn found problems in the image"
