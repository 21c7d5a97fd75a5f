#!/usr/bin/env python3
"""vkernel benchmarks against native, measured in one run.

Called by bench/run.sh with the directory of built benchmark programs and the
vkernel binary. Prints one section per benchmark with medians and ratios,
and a summary table at the end. A benchmark whose vkernel run fails is
reported as such; the others still run.
"""

import argparse
import os
import select
import statistics
import subprocess
import sys
import time

MIB = 1024 * 1024


def run(cmd, timeout=120):
    """Run cmd, return (wall seconds, exit status, stdout, stderr)."""
    start = time.perf_counter()
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, text=True)
    return time.perf_counter() - start, p.returncode, p.stdout, p.stderr


def field(text, name):
    """The float after 'name=' in text."""
    for word in text.split():
        if word.startswith(name + "="):
            return float(word.split("=", 1)[1])
    raise ValueError(f"no {name}= in output: {text!r}")


class Failed(Exception):
    pass


def checked(cmd, what, timeout=120):
    try:
        wall, status, out, err = run(cmd, timeout)
    except subprocess.TimeoutExpired:
        raise Failed(f"{what}: timed out after {timeout} s")
    if status != 0:
        raise Failed(f"{what}: exit status {status}; stderr: {err.strip()[:300]}")
    return wall, out


def median_of(n, fn):
    return statistics.median(fn() for _ in range(n))


# ---------------------------------------------------------------- benchmarks


def bench_syscall(args, vk, results):
    prog = os.path.join(args.bin, "getppid")
    for mode, label in (([], "getppid round trip"), (["libc"], "getppid via glibc (patchable site)")):
        print("== syscall round trip: %s x 100,000 (median of %d)" % (label, args.reps))
        argv = [prog, "100000"] + mode
        nat = median_of(args.reps, lambda: field(checked(argv, "native getppid")[1], "ns_per_call"))
        virt = median_of(args.reps, lambda: field(checked(vk + ["--"] + argv, "vkernel getppid")[1], "ns_per_call"))
        print(f"   native  {nat:10.1f} ns/call")
        print(f"   vkernel {virt:10.1f} ns/call")
        print(f"   ratio   {virt / nat:10.1f}x   (target <= 15x, <= 5x patched)")
        results.append((label, f"{nat:.0f} ns", f"{virt:.0f} ns", f"{virt / nat:.1f}x"))


def bench_clock(args, vk, results):
    print("== clock_gettime(CLOCK_MONOTONIC) through the libc x 1,000,000 (median of %d)" % args.reps)
    prog = os.path.join(args.bin, "clock")
    nat = median_of(args.reps, lambda: field(checked([prog], "native clock")[1], "ns_per_call"))
    virt = median_of(args.reps, lambda: field(checked(vk + ["--", prog], "vkernel clock")[1], "ns_per_call"))
    # Without the vDSO every read traps: what the vDSO saves.
    trap = median_of(args.reps, lambda: field(checked(vk + ["--vdso", "off", "--", prog, "20000"], "vkernel --vdso off clock")[1], "ns_per_call"))
    print(f"   native            {nat:10.2f} ns/call")
    print(f"   vkernel           {virt:10.2f} ns/call")
    print(f"   vkernel vdso=off  {trap:10.2f} ns/call")
    print(f"   ratio   {virt / nat:10.2f}x   (target <= 1.5x; {trap / nat:.0f}x without the vDSO)")
    results.append(("clock_gettime (vDSO)", f"{nat:.1f} ns", f"{virt:.1f} ns", f"{virt / nat:.2f}x"))


def bench_startup(args, vk, results):
    n = args.startup_reps
    print(f"== start-up: tiny static program, wall time (median of {n})")
    prog = os.path.join(args.bin, "true")
    nat = median_of(n, lambda: checked([prog], "native true")[0])
    virt = median_of(n, lambda: checked(vk + ["--", prog], "vkernel true")[0])
    print(f"   native  {nat * 1e3:10.2f} ms")
    print(f"   vkernel {virt * 1e3:10.2f} ms")
    print(f"   ratio   {virt / nat:10.1f}x")
    results.append(("start-up (exit only)", f"{nat * 1e3:.2f} ms", f"{virt * 1e3:.2f} ms", f"{virt / nat:.1f}x"))


def bench_cpu(args, vk, results):
    print("== CPU-bound loop without syscalls (median of %d)" % args.reps)
    prog = os.path.join(args.bin, "cpu")
    rounds = str(args.cpu_rounds)

    def one(cmd, what):
        wall, out = checked(cmd, what)
        return field(out, "ns") / 1e9, wall

    nat = [one([prog, rounds], "native cpu") for _ in range(args.reps)]
    virt = [one(vk + ["--", prog, rounds], "vkernel cpu") for _ in range(args.reps)]
    n_in, v_in = statistics.median(x[0] for x in nat), statistics.median(x[0] for x in virt)
    n_wall, v_wall = statistics.median(x[1] for x in nat), statistics.median(x[1] for x in virt)
    print(f"   native  {n_in:8.3f} s compute  {n_wall:8.3f} s wall")
    print(f"   vkernel {v_in:8.3f} s compute  {v_wall:8.3f} s wall")
    print(f"   ratio   {v_in / n_in:8.3f}x compute (target 1.00)  {v_wall / n_wall:8.3f}x wall")
    results.append(("CPU-bound loop", f"{n_in:.3f} s", f"{v_in:.3f} s", f"{v_in / n_in:.3f}x"))


def status_kib(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def stubs_of(pid):
    kids = set()
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{task}/children") as f:
                    kids.update(int(x) for x in f.read().split())
            except OSError:
                pass
    except OSError:
        pass
    return sorted(kids)


def footprint(pid):
    """(anon+file KiB, shmem KiB, process count) of vkernel plus its stubs."""
    procs = [pid] + stubs_of(pid)
    own = sum(status_kib(p, "RssAnon") + status_kib(p, "RssFile") for p in procs)
    shmem = sum(status_kib(p, "RssShmem") for p in procs)
    return own, shmem, len(procs)


class Guest:
    """A vkernel whose guest prints progress lines on stdout."""

    def __init__(self, cmd):
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def wait_line(self, want, timeout=60):
        deadline = time.monotonic() + timeout
        buf = b""
        while time.monotonic() < deadline:
            r, _, _ = select.select([self.p.stdout], [], [], 0.1)
            if r:
                ch = os.read(self.p.stdout.fileno(), 1)
                if not ch:
                    break
                buf += ch
                if buf.endswith(b"\n"):
                    if buf.strip() == want.encode():
                        return
                    buf = b""
        self.kill()
        err = self.p.stderr.read().decode(errors="replace").strip()[:300]
        raise Failed(f"guest never printed {want!r} (status {self.p.poll()}; stderr: {err})")

    def send(self, line):
        self.p.stdin.write(line.encode())
        self.p.stdin.flush()

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()


def bench_memory_idle(args, vk_bin, results):
    print("== host memory of an idle guest with -m 1G")
    g = Guest([vk_bin, "-m", "1G", "--", os.path.join(args.bin, "idle"), "3"])
    try:
        g.wait_line("ready")
        time.sleep(1.0)
        own, shmem, procs = footprint(g.p.pid)
    finally:
        g.kill()
    if procs == 1:
        print("   warning: vkernel has no stub child process")
    print(f"   vkernel + {procs - 1} stub(s): RssAnon+RssFile {own / 1024:7.1f} MiB   (guest RAM, RssShmem: {shmem / 1024:.1f} MiB)")
    print("   first target: <= 8 MiB beyond guest-resident pages")
    results.append(("host memory, idle -m 1G", "-", f"{own / 1024:.1f} MiB", "-"))


def bench_memory_giveback(args, vk_bin, results):
    mib = args.touch_mib
    print(f"== guest touches {mib} MiB, munmaps it: does RssShmem fall back within 1 s?")
    g = Guest([vk_bin, "-m", "1G", "--", os.path.join(args.bin, "touch"), str(mib), "3"])
    try:
        g.wait_line("ready")
        time.sleep(0.5)
        _, before, _ = footprint(g.p.pid)
        g.wait_line("touched", timeout=120)
        _, peak, _ = footprint(g.p.pid)
        g.send("go\n")
        g.wait_line("freed")
        freed_at = time.monotonic()
        # "Back" = within 10% of what was touched above the starting point.
        goal = before + (peak - before) * 0.1
        dropped_after = None
        now_kib = peak
        while time.monotonic() - freed_at < 2.0:
            _, now_kib, _ = footprint(g.p.pid)
            if now_kib <= goal:
                dropped_after = time.monotonic() - freed_at
                break
            time.sleep(0.01)
    finally:
        g.kill()
    print(f"   RssShmem before {before / 1024:7.1f} MiB, after touching {peak / 1024:7.1f} MiB, after munmap {now_kib / 1024:7.1f} MiB")
    if peak - before < mib * 1024 * 0.5:
        verdict = f"unknown (touching raised RssShmem by only {(peak - before) / 1024:.0f} MiB)"
    elif dropped_after is None:
        verdict = "NO (still high after 2 s)"
    else:
        verdict = f"{'yes' if dropped_after <= 1.0 else 'NO'} ({dropped_after * 1e3:.0f} ms)"
    print(f"   fell back within 1 s: {verdict}")
    results.append((f"give back {mib} MiB after munmap", "-", verdict, "-"))


BUSYBOX = "/bin/busybox"


def bench_spawn(args, vk, results, label, target, argv):
    n = args.spawns
    print(f"== fork+exec+wait of {label}: {n} in a loop, timed inside (median of {args.reps})")
    prog = os.path.join(args.bin, "spawn")
    cmd = [prog, str(n)] + argv
    nat = median_of(args.reps, lambda: field(checked(cmd, f"native spawn {label}")[1], "us_per_spawn"))
    virt = median_of(args.reps, lambda: field(checked(vk + ["--"] + cmd, f"vkernel spawn {label}")[1], "us_per_spawn"))
    print(f"   native  {nat:10.1f} us per fork+exec+wait")
    print(f"   vkernel {virt:10.1f} us per fork+exec+wait")
    print(f"   ratio   {virt / nat:10.1f}x   (target <= {target}x)")
    results.append((f"fork+exec+wait {label}", f"{nat:.0f} us", f"{virt:.0f} us", f"{virt / nat:.1f}x"))


def bench_spawn_tiny(args, vk, results):
    bench_spawn(args, vk, results, "tiny static", 5, [os.path.join(args.bin, "true")])


def bench_spawn_busybox(args, vk, results):
    need_busybox()
    bench_spawn(args, vk, results, "busybox true", 5, [BUSYBOX, "true"])


def bench_spawn_dynamic(args, vk, results):
    """exec of a dynamic binary: ld.so, libc, relocations."""
    bench_spawn(args, vk, results, "dynamic /bin/true", 2.5, ["/bin/true"])


def bench_bigmem(args, vk, results):
    mib, forks = 100, 20
    print(f"== {mib} MiB of anonymous memory: first touch, then fork+exit+wait of the process x {forks} (median of {args.reps})")
    prog = os.path.join(args.bin, "bigmem")
    cmd = [prog, str(mib), str(forks)]
    nat = [checked(cmd, "native bigmem")[1] for _ in range(args.reps)]
    virt = [checked(vk + ["--"] + cmd, "vkernel bigmem")[1] for _ in range(args.reps)]
    n_touch, v_touch = (statistics.median(field(o, "touch_ms") for o in runs) for runs in (nat, virt))
    n_fork, v_fork = (statistics.median(field(o, "fork_us") for o in runs) for runs in (nat, virt))
    print(f"   native  {n_touch:8.1f} ms first touch   {n_fork:8.1f} us per fork")
    print(f"   vkernel {v_touch:8.1f} ms first touch   {v_fork:8.1f} us per fork")
    print(f"   ratio   {v_touch / n_touch:8.1f}x               {v_fork / n_fork:8.1f}x")
    results.append((f"first touch of {mib} MiB", f"{n_touch:.1f} ms", f"{v_touch:.1f} ms", f"{v_touch / n_touch:.1f}x"))
    results.append((f"fork+exit+wait of a {mib} MiB process", f"{n_fork:.0f} us", f"{v_fork:.0f} us", f"{v_fork / n_fork:.1f}x"))


def need_busybox():
    if not os.path.exists(BUSYBOX):
        raise Failed(f"{BUSYBOX} missing (apt-get install busybox-static)")


def shell_wall(args, vk, script, what):
    """Median wall time of `busybox sh -c script`, natively and under vkernel."""
    cmd = [BUSYBOX, "sh", "-c", script]
    nat = median_of(args.shell_reps, lambda: checked(cmd, f"native {what}", timeout=300)[0])
    virt = median_of(args.shell_reps, lambda: checked(vk + ["--"] + cmd, f"vkernel {what}", timeout=300)[0])
    return nat, virt


def bench_pipeline(args, vk, results):
    need_busybox()
    count = args.pipe_mib * 16  # 64 KiB blocks
    script = f"dd if=/dev/zero bs=64k count={count} 2>/dev/null | cat > /dev/null"
    print(f"== pipeline throughput: busybox sh -c '{script}' (median of {args.shell_reps})")
    nat, virt = shell_wall(args, vk, script, "pipeline")
    n_rate, v_rate = args.pipe_mib / nat, args.pipe_mib / virt
    print(f"   native  {n_rate:10.0f} MiB/s ({nat:.2f} s)")
    print(f"   vkernel {v_rate:10.0f} MiB/s ({virt:.2f} s, including start-up)")
    print(f"   ratio   {n_rate / v_rate:10.1f}x slower")
    results.append(("pipeline dd | cat", f"{n_rate:.0f} MiB/s", f"{v_rate:.0f} MiB/s", f"{n_rate / v_rate:.1f}x"))


def bench_shell(args, vk, results):
    need_busybox()
    n = args.substitutions
    script = f'i=0; while [ $i -lt {n} ]; do x=$(echo $i); i=$((i + 1)); done; [ "$x" = {n - 1} ]'
    print(f"== shell workload: {n} $(...) substitutions in a busybox sh loop (median of {args.shell_reps})")
    nat, virt = shell_wall(args, vk, script, "shell loop")
    print(f"   native  {nat * 1e3:10.1f} ms ({nat / n * 1e6:.0f} us per substitution)")
    print(f"   vkernel {virt * 1e3:10.1f} ms ({virt / n * 1e6:.0f} us per substitution)")
    print(f"   ratio   {virt / nat:10.1f}x")
    results.append((f"sh: {n} $(...) substitutions", f"{nat * 1e3:.0f} ms", f"{virt * 1e3:.0f} ms", f"{virt / nat:.1f}x"))


# ---------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="directory of built benchmark programs")
    ap.add_argument("--vkernel", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", help="comma-separated benchmark names to run (default: all)")
    ap.add_argument("--platform", default="seccomp,ptrace", help="comma-separated vkernel backends to measure, each in turn (default: seccomp,ptrace)")
    args = ap.parse_args()
    args.reps = 3 if args.quick else 7
    args.startup_reps = 5 if args.quick else 20
    args.cpu_rounds = 5000 if args.quick else 20000
    args.touch_mib = 500
    args.spawns = 50 if args.quick else 200
    args.shell_reps = 1 if args.quick else 3
    args.pipe_mib = 256 if args.quick else 1024
    args.substitutions = 1000
    vk = [args.vkernel, "-m", "256m"]

    results = []
    failures = 0
    platforms = [p for p in args.platform.split(",") if p]
    # vkernel reads VKERNEL_PLATFORM when --platform is not given, which
    # reaches every command below (the memory benchmarks build their own).
    benches = [(p, *b) for p in platforms for b in [
        ("syscall", bench_syscall, vk),
        ("clock", bench_clock, vk),
        ("startup", bench_startup, vk),
        ("cpu", bench_cpu, vk),
        ("memory-idle", bench_memory_idle, args.vkernel),
        ("memory-giveback", bench_memory_giveback, args.vkernel),
        ("spawn-tiny", bench_spawn_tiny, vk),
        ("spawn-busybox", bench_spawn_busybox, vk),
        ("spawn-dynamic", bench_spawn_dynamic, vk),
        ("bigmem", bench_bigmem, vk),
        ("pipeline", bench_pipeline, vk),
        ("shell-loop", bench_shell, vk),
    ]]
    for platform, name, fn, with_vk in benches:
        if args.only and name not in args.only.split(","):
            continue
        os.environ["VKERNEL_PLATFORM"] = platform
        print(f"-- on the {platform} platform")
        start = len(results)
        try:
            fn(args, with_vk, results)
        except Failed as e:
            failures += 1
            print(f"   FAILED: {e}")
            results.append((name, "-", "FAILED", "-"))
        if len(platforms) > 1:
            results[start:] = [(f"{n} [{platform}]", *rest) for n, *rest in results[start:]]
        print()

    print("== summary (one run, same machine)")
    print(f"   {'benchmark':44} {'native':>12} {'vkernel':>22} {'ratio':>8}")
    for name, nat, virt, ratio in results:
        print(f"   {name:44} {nat:>12} {virt:>22} {ratio:>8}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
