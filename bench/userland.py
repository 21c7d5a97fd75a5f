#!/usr/bin/env python3
"""Real-userland benchmarks, native vs vkernel, measured in one run.

Called by bench/userland.sh with a scratch directory (holding the thread
benchmark and a copy of vkernel) and the repetition counts. Prints one
section per benchmark with medians and ratios, and a summary table.
Writing runs (make, gcc) run as uid 65534 when root, in the scratch tree.
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C", "LC_ALL": "C", "TZ": "UTC", "TERM": "dumb"}


class Failed(Exception):
    pass


def as_user():
    return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"] if os.getuid() == 0 else []


def run(cmd, cwd=None, timeout=600, env=None):
    """Wall seconds and stdout of cmd; Failed on a non-zero exit."""
    start = time.perf_counter()
    try:
        p = subprocess.run(cmd, cwd=cwd, env=env or ENV, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise Failed(f"{' '.join(cmd)}: timed out after {timeout} s")
    wall = time.perf_counter() - start
    if p.returncode != 0:
        raise Failed(f"{' '.join(cmd)}: exit status {p.returncode}; stderr: {p.stderr.strip()[-400:]}")
    return wall, p.stdout


def inner_wall(out):
    m = re.search(r"wall=([0-9.]+)", out)
    if not m:
        raise Failed(f"no wall= in {out!r}")
    return float(m.group(1))


def median(xs):
    return statistics.median(xs)


def ms(s):
    return f"{s * 1e3:.1f} ms" if s < 10 else f"{s:.1f} s"


def report(results, name, nat, virt, note=""):
    print(f"   native  {ms(nat):>10}")
    print(f"   vkernel {ms(virt):>10}")
    print(f"   ratio   {virt / nat:9.2f}x {note}")
    results.append((name, ms(nat), ms(virt), f"{virt / nat:.2f}x"))


def bench_startup(args, results):
    for name, cmd in (("python3 -c pass", ["/usr/bin/python3", "-c", "pass"]), ("bash -c true", ["/bin/bash", "-c", "true"])):
        print(f"== start-up: {name}, wall time (median of {args.startup_reps})")
        run(cmd)
        run([args.vkernel, "--"] + cmd)
        nat = median([run(cmd)[0] for _ in range(args.startup_reps)])
        virt = median([run([args.vkernel, "--"] + cmd)[0] for _ in range(args.startup_reps)])
        report(results, f"start-up: {name}", nat, virt)


def make_project(root):
    """The 12-file C project of tests/userland/make.sh, in root/proj."""
    src, inc = os.path.join(root, "proj/src"), os.path.join(root, "proj/include")
    os.makedirs(src, exist_ok=True)
    os.makedirs(inc, exist_ok=True)
    header = ["#ifndef PARTS_H", "#define PARTS_H", "#define SCALE 3"]
    for i in range(1, 12):
        header.append(f"long part{i}(long x);")
        with open(os.path.join(src, f"part{i}.c"), "w") as f:
            f.write(
                f'#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n#include "parts.h"\n'
                f"static long helper{i}(long x) {{ long s = 0; for (long k = 0; k < x; k++) s += (k * {i}) % 7; return s; }}\n"
                f"long part{i}(long x) {{ return helper{i}(x) * SCALE + {i}; }}\n"
            )
    header.append("#endif")
    with open(os.path.join(inc, "parts.h"), "w") as f:
        f.write("\n".join(header) + "\n")
    calls = ", ".join(f"part{i}" for i in range(1, 12))
    with open(os.path.join(src, "main.c"), "w") as f:
        f.write(
            '#include <stdio.h>\n#include "parts.h"\n'
            f"static long (*parts[])(long) = {{ {calls} }};\n"
            "int main(void) { long s = 0; for (unsigned i = 0; i < 11; i++) s += parts[i](1000 + i); printf(\"%ld\\n\", s); return 0; }\n"
        )
    with open(os.path.join(root, "proj/Makefile"), "w") as f:
        f.write(
            "CFLAGS = -O2 -Wall -Iinclude\nSRCS = $(wildcard src/*.c)\nOBJS = $(SRCS:src/%.c=build/%.o)\n"
            "app: $(OBJS)\n\t$(CC) -o $@ $^\nbuild/%.o: src/%.c include/parts.h | build\n\t$(CC) $(CFLAGS) -c $< -o $@\n"
            "build:\n\tmkdir -p build\nclean:\n\trm -rf build app\n"
        )
    subprocess.run(["chmod", "-R", "a+rwX", root], check=True)


def bench_build(args, results):
    root = os.path.join(args.scratch, "build")
    make_project(root)
    proj = os.path.join(root, "proj")
    user = as_user()
    native_make = user + ["/usr/bin/make", "-s", "-j2", "-C", proj]
    # Under vkernel the tree is seen through the overlay: its writes never
    # reach the host, so every run starts from the same clean tree.
    vk_make = user + [args.vkernel, "--", "/usr/bin/make", "-s", "-j2", "-C", proj]
    clean = user + ["/usr/bin/make", "-s", "-C", proj, "clean"]
    print(f"== make -j2 of a 12-file C project, wall time (median of {args.build_reps})")
    nat, virt = [], []
    run(clean)
    run(vk_make)
    for _ in range(args.build_reps):
        # The host tree is clean here: vkernel's build stays in its overlay.
        virt.append(run(vk_make)[0])
        nat.append(run(native_make)[0])
        run(clean)
    report(results, "make -j2, 12 C files", median(nat), median(virt))

    print(f"== gcc -O2 -c of one file (the C program of tests/userland/gcc.sh), wall time (median of {args.build_reps})")
    one = os.path.join(root, "one")
    os.makedirs(one, exist_ok=True)
    with open(os.path.join(one, "hello.c"), "w") as f:
        f.write(
            "#include <math.h>\n#include <pthread.h>\n#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n"
            "static long total; static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;\n"
            "static void *add(void *arg) { for (long i = 0; i < 100000; i++) { pthread_mutex_lock(&lock); total += (long)arg; pthread_mutex_unlock(&lock); } return NULL; }\n"
            "int main(int argc, char **argv) { pthread_t t[4]; for (long i = 0; i < 4; i++) pthread_create(&t[i], NULL, add, (void *)(i + 1));\n"
            "  for (int i = 0; i < 4; i++) pthread_join(t[i], NULL); printf(\"%s %ld %f\\n\", argv[0], total, sqrt(argc)); return 0; }\n"
        )
    subprocess.run(["chmod", "-R", "a+rwX", one], check=True)
    out = os.path.join(one, "hello.o")
    gcc = ["/usr/bin/gcc", "-O2", "-c", os.path.join(one, "hello.c"), "-o", out]
    run(user + gcc)
    run(user + [args.vkernel, "--"] + gcc)
    nat = median([run(user + gcc)[0] for _ in range(args.build_reps)])
    virt = median([run(user + [args.vkernel, "--"] + gcc)[0] for _ in range(args.build_reps)])
    report(results, "gcc -O2 -c, one file", nat, virt)


def bench_threads(args, results):
    prog = os.path.join(args.scratch, "threads")
    n = args.thread_reps
    print(f"== 4 threads contending on one mutex, 4 x {args.mutex_iters} lock/unlock, timed inside (median of {n})")
    cmd = [prog, "mutex", "4", str(args.mutex_iters)]
    nat = median([inner_wall(run(cmd)[1]) for _ in range(n)])
    virt = median([inner_wall(run([args.vkernel, "--"] + cmd)[1]) for _ in range(n)])
    report(results, "4 threads on a mutex", nat, virt)

    print(f"== 2 CPU-bound threads vs one thread's two runs, timed inside (median of {n})")
    for label, prefix in (("native", []), ("vkernel", [args.vkernel, "--"])):
        one = median([inner_wall(run(prefix + [prog, "cpu", "1", str(args.cpu_iters)])[1]) for _ in range(n)])
        two = median([inner_wall(run(prefix + [prog, "cpu", "2", str(args.cpu_iters)])[1]) for _ in range(n)])
        print(f"   {label:7} one thread {one:6.3f} s, two threads {two:6.3f} s: {two / (2 * one):.2f} of two serial runs (1 CPU: 1.00, 2 CPUs: 0.50)")
        results.append((f"2 CPU-bound threads, {label}", f"1 thread {one:.2f} s", f"2 threads {two:.2f} s", f"{two / (2 * one):.2f} of serial"))


def kib(pid, path, key):
    try:
        with open(f"/proc/{pid}/{path}") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def stubs_of(pid):
    kids = set()
    for task in os.listdir(f"/proc/{pid}/task") if os.path.isdir(f"/proc/{pid}/task") else []:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as f:
                kids.update(int(x) for x in f.read().split())
        except OSError:
            pass
    return sorted(kids)


def bench_memory(args, results):
    n = args.instances
    print(f"== host memory of {n} idle `vkernel -m 64m -- sh` (vkernel + its stubs, summed, per instance)")
    procs = []
    try:
        for _ in range(n):
            procs.append(subprocess.Popen([args.vkernel, "-m", "64m", "--", "/bin/sh"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not all(stubs_of(p.pid) for p in procs):
            time.sleep(0.2)
        time.sleep(2)  # let the shells reach their read()
        dead = [p for p in procs if p.poll() is not None]
        if dead:
            raise Failed(f"{len(dead)} vkernel instance(s) exited early")
        tot = {"rss": 0, "shmem": 0, "pss": 0, "pss_shmem": 0, "procs": 0}
        for p in procs:
            for pid in [p.pid] + stubs_of(p.pid):
                tot["procs"] += 1
                tot["rss"] += kib(pid, "status", "VmRSS")
                tot["shmem"] += kib(pid, "status", "RssShmem")
                tot["pss"] += kib(pid, "smaps_rollup", "Pss")
                tot["pss_shmem"] += kib(pid, "smaps_rollup", "Pss_Shmem")
    finally:
        for p in procs:
            p.kill()
        for p in procs:
            p.wait()
    per = {k: v / n / 1024 for k, v in tot.items()}
    print(f"   {tot['procs']} host processes ({tot['procs'] / n:.1f} per instance)")
    print(f"   RSS {per['rss']:6.2f} MiB per instance, of which guest RAM (RssShmem) {per['shmem']:.2f} MiB: {per['rss'] - per['shmem']:.2f} MiB beyond guest pages")
    print(f"   PSS {per['pss']:6.2f} MiB per instance, of which guest RAM {per['pss_shmem']:.2f} MiB: {per['pss'] - per['pss_shmem']:.2f} MiB beyond guest pages")
    results.append((f"host memory, {n} idle -m 64m sh", "-", f"PSS {per['pss']:.2f} MiB each", f"{per['pss'] - per['pss_shmem']:.2f} MiB beyond guest pages"))


BENCHES = {"startup": bench_startup, "build": bench_build, "threads": bench_threads, "memory": bench_memory}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scratch", required=True)
    ap.add_argument("--vkernel", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", default=",".join(BENCHES))
    args = ap.parse_args()
    q = args.quick
    args.startup_reps = 5 if q else 20
    args.build_reps = 2 if q else 5
    args.thread_reps = 3 if q else 5
    args.mutex_iters = 50000 if q else 200000
    args.cpu_iters = 100_000_000 if q else 400_000_000
    args.instances = 20
    results, failures = [], []
    for name in args.only.split(","):
        if name not in BENCHES:
            print(f"bench/userland.py: unknown benchmark {name!r} (known: {', '.join(BENCHES)})", file=sys.stderr)
            return 2
        try:
            BENCHES[name](args, results)
        except Failed as e:
            print(f"   FAILED: {e}")
            failures.append(name)
        print()
    print("== summary")
    w = max((len(r[0]) for r in results), default=10)
    print(f"   {'benchmark':{w}}  {'native':>16}  {'vkernel':>18}  ratio")
    for r in results:
        print(f"   {r[0]:{w}}  {r[1]:>16}  {r[2]:>18}  {r[3]}")
    if failures:
        print(f"   failed: {', '.join(failures)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
