# python3: threads, concurrent.futures, subprocess, multiprocessing pools
# (fork, forkserver and spawn), asyncio (tasks, subprocesses, unix
# streams), sqlite3 databases in the working directory (rollback journal
# and WAL, whose -shm file is a shared mapping), and socket.socketpair.
set -eu
cat > work.py <<'PY'
import asyncio, concurrent.futures as cf, hashlib, multiprocessing as mp
import os, queue, signal, socket, sqlite3, subprocess, sys, threading, time

def square(x):
    return x * x

def digest(n):
    return hashlib.sha256(str(n).encode() * 1000).hexdigest()[:8]

def threads():
    q = queue.Queue()
    def work(n):
        q.put(sum(range(n)))
    ts = [threading.Thread(target=work, args=(1000 * i,)) for i in range(16)]
    for t in ts: t.start()
    for t in ts: t.join()
    print("threads:", sum(q.get() for _ in ts))
    lock, cond, state = threading.Lock(), threading.Condition(), {"n": 0, "turn": 0}
    def inc():
        for _ in range(10000):
            with lock:
                state["n"] += 1
    ts = [threading.Thread(target=inc) for _ in range(4)]
    for t in ts: t.start()
    for t in ts: t.join()
    print("locked counter:", state["n"])
    out = []
    def pingpong(me):
        for i in range(50):
            with cond:
                cond.wait_for(lambda: state["turn"] == me)
                out.append(me)
                state["turn"] = 1 - me
                cond.notify_all()
    ts = [threading.Thread(target=pingpong, args=(m,)) for m in (0, 1)]
    for t in ts: t.start()
    for t in ts: t.join()
    print("condition ping-pong:", "".join(map(str, out[:8])), len(out))
    b = threading.Barrier(3)
    r = []
    ts = [threading.Thread(target=lambda: r.append(b.wait() >= 0)) for _ in range(3)]
    for t in ts: t.start()
    for t in ts: t.join()
    print("barrier:", r)
    local = threading.local()
    def tls(v):
        local.v = v
        time.sleep(0.01)
        q.put(local.v == v)
    ts = [threading.Thread(target=tls, args=(i,)) for i in range(8)]
    for t in ts: t.start()
    for t in ts: t.join()
    print("thread-local:", all(q.get() for _ in ts))
    ev = threading.Event()
    threading.Timer(0.05, ev.set).start()
    print("timer:", ev.wait(10), "sem:", threading.BoundedSemaphore(2).acquire(timeout=1))

def futures():
    with cf.ThreadPoolExecutor(4) as ex:
        print("thread pool:", sum(ex.map(square, range(1000))))
        fs = [ex.submit(digest, i) for i in range(20)]
        print("as_completed:", sorted(f.result() for f in cf.as_completed(fs))[:3])
    with cf.ProcessPoolExecutor(2) as ex:
        print("process pool:", list(ex.map(digest, range(5))))

def subprocesses():
    r = subprocess.run(["sh", "-c", "echo out; echo err >&2; exit 3"], capture_output=True, text=True)
    print("run:", r.returncode, repr(r.stdout), repr(r.stderr))
    print("check_output:", subprocess.check_output(["sort", "-r"], input=b"a\nc\nb\n"))
    p = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    out, _ = p.communicate(b"x" * 200000)
    print("communicate:", len(out), p.returncode)
    try:
        subprocess.run(["sleep", "10"], timeout=0.2)
    except subprocess.TimeoutExpired:
        print("timeout expired")
    p = subprocess.Popen(["sleep", "10"]); p.send_signal(signal.SIGTERM)
    print("killed:", p.wait())
    r = subprocess.run("echo $((6 * 7)) | tr 4 x", shell=True, capture_output=True)
    print("shell:", r.stdout)
    print("pass_fds:", subprocess.run(["ls", "/proc/self/fd"], capture_output=True, text=True, close_fds=True).stdout.split())
    print("missing:", end=" ")
    try:
        subprocess.run(["/nonexistent/program"])
    except FileNotFoundError as e:
        print(e.errno)

def pools():
    for method in ("fork", "forkserver", "spawn"):
        ctx = mp.get_context(method)
        with ctx.Pool(2) as pool:
            print("pool", method + ":", pool.map(square, range(10)), sum(pool.imap_unordered(square, range(100))))
    q, p = mp.Queue(), mp.Process(target=square, args=(3,))
    p.start(); p.join(); print("process exitcode:", p.exitcode)
    with mp.Manager() as m:
        d = m.dict(); l = m.list(range(3)); d["k"] = sum(l)
        print("manager:", dict(d), list(l))
    a, b = mp.Pipe()
    a.send({"x": [1, 2]}); print("pipe:", b.recv())
    v = mp.Value("i", 0)
    def add(v):
        with v.get_lock():
            v.value += 5
    ps = [mp.Process(target=add, args=(v,)) for _ in range(4)]
    for p in ps: p.start()
    for p in ps: p.join()
    print("shared value:", v.value)

async def amain():
    async def tick(n):
        await asyncio.sleep(0.01 * n)
        return n
    print("gather:", await asyncio.gather(*(tick(n) for n in (3, 1, 2))))
    p = await asyncio.create_subprocess_exec("sh", "-c", "read x; echo got $x", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    out, _ = await p.communicate(b"line\n")
    print("async subprocess:", out, p.returncode)
    async def handle(r, w):
        data = await r.readline()
        w.write(data.upper()); await w.drain(); w.close()
    server = await asyncio.start_unix_server(handle, path="s.sock")
    r, w = await asyncio.open_unix_connection("s.sock")
    w.write(b"hello\n"); await w.drain()
    print("unix stream:", await r.readline())
    w.close(); server.close(); await server.wait_closed()
    try:
        await asyncio.wait_for(asyncio.sleep(10), 0.05)
    except asyncio.TimeoutError:
        print("wait_for timed out")
    loop = asyncio.get_running_loop()
    print("executor:", await loop.run_in_executor(None, square, 12))
    rs, ws = socket.socketpair()
    rs.setblocking(False)
    loop.call_later(0.02, ws.send, b"ready")
    print("sock_recv:", await loop.sock_recv(rs, 10))
    q = asyncio.Queue()
    async def producer():
        for i in range(5): await q.put(i)
        await q.put(None)
    async def consumer():
        got = []
        while (i := await q.get()) is not None: got.append(i)
        return got
    print("queue:", (await asyncio.gather(producer(), consumer()))[1])

def databases():
    for mode in ("delete", "wal"):
        name = f"test-{mode}.db"
        db = sqlite3.connect(name)
        print("journal:", db.execute(f"pragma journal_mode={mode}").fetchone()[0])
        db.execute("create table t (id integer primary key, name text, v real)")
        db.executemany("insert into t (name, v) values (?, ?)", ((f"n{i}", i / 7) for i in range(2000)))
        db.commit()
        other = sqlite3.connect(name)
        print("rows:", other.execute("select count(*), round(sum(v), 3) from t").fetchone())
        db.execute("update t set v = -v where id % 2 = 0")
        print("uncommitted hidden:", other.execute("select count(*) from t where v < 0").fetchone())
        db.commit()
        print("committed seen:", other.execute("select count(*) from t where v < 0").fetchone())
        print("index:", db.execute("create index ix on t(name)").rowcount, db.execute("select id from t where name = 'n1234'").fetchone())
        other.close(); db.close()
    print("files:", sorted(f for f in os.listdir(".") if f.startswith("test-")))
    db = sqlite3.connect(":memory:")
    print("memory:", db.execute("with recursive c(x) as (values(1) union all select x + 1 from c where x < 100) select sum(x) from c").fetchone())

def sockets():
    a, b = socket.socketpair()
    a.sendall(b"x" * 100000); a.shutdown(socket.SHUT_WR)
    n = 0
    while chunk := b.recv(65536): n += len(chunk)
    print("socketpair stream:", n)
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    a.send(b"one"); a.send(b"two"); print("datagrams:", b.recv(10), b.recv(10))
    a, b = socket.socketpair()
    r, w = os.pipe()
    socket.send_fds(a, [b"fd"], [w])
    msg, fds, _, _ = socket.recv_fds(b, 10, 1)
    os.write(fds[0], b"through the passed fd"); os.close(fds[0]); os.close(w)
    print("SCM_RIGHTS:", msg, os.read(r, 100))
    print("peer pid matches:", b.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)[:4] == os.getpid().to_bytes(4, sys.byteorder))

if __name__ == "__main__":
    threads(); futures(); subprocesses(); pools()
    asyncio.run(amain())
    databases(); sockets()
    print("os.cpu_count matches affinity:", os.cpu_count() >= len(os.sched_getaffinity(0)) >= 1)
PY
python3 work.py
echo "exit $?"
