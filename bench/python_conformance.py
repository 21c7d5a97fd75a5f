#!/usr/bin/env python3
"""Per-case results of `python3 -m test -v MODULE` logs, native vs vkernel.

    python_conformance.py --logs DIR [--docs FILE] MODULE...
    python_conformance.py --hung LOG

Reads DIR/native/MODULE.log and DIR/vkernel/MODULE.log, or for a package
of tests its submodules' DIR/*/MODULE.SUB.log (written by
bench/python_conformance.sh), prints a table per module and the share of
natively passing cases that also pass under vkernel, and with --docs
replaces the generated part of FILE (between the python-conformance
markers) with the same table and the list of cases lost under vkernel.

--hung prints the case a log's run hung in (regrtest's --timeout ended
it), for the script to try again without it; nothing if it did not hang.

A case is a test method, named by its id (test.test_os.FileTests.test_read).
It passes when unittest printed `ok` or `expected failure` for it and no
subtest of it failed. Cases lost to AF_INET/AF_INET6 (vkernel answers
EAFNOSUPPORT until it has a network stack) are counted apart: their
traceback or output names errno 97 / EAFNOSUPPORT, or their skip reason
names IPv4, IPv6 or AF_INET, or they are in AF_INET_SILENT or fail as
AF_INET_SILENT_TRACE says (each checked by hand).
"""

import argparse
import re
import sys
from collections import OrderedDict
from pathlib import Path

# "test_read (test.test_os.FileTests.test_read)" and the same indented for a
# subtest, with " [msg] (params)" after it; also "setUpClass (test.x.Class)".
HEADER = re.compile(r"^( {2})?(\w+) \(((?:\w+\.)*\w+)\)(.*)$")
STATUS = re.compile(r"^(ok|FAIL|ERROR|expected failure|unexpected success|skipped(?: .*)?)$")
REPORT = re.compile(r"^(FAIL|ERROR): (\w+) \(((?:\w+\.)*\w+)\)")
# test_concurrent_futures prints each case's time before its status.
DURATION = re.compile(r"^\d+\.\d+s ")
FIXTURES = {"setUpClass", "tearDownClass", "setUpModule", "tearDownModule"}
AF_INET_TRACE = re.compile(r"\[Errno 97\]|Address family not supported|EAFNOSUPPORT")
AF_INET_SKIP = re.compile(r"IPv4|IPv6|IPV6|ipv6|AF_INET|inet_pton|inet6")
# Cases that lose AF_INET without saying so, each checked by reading the test:
# asyncio's create_server skips a family the kernel does not support, so a
# server on HOSTv4 comes up with no socket at all.
AF_INET_SILENT = [
    re.compile(r"^test\.test_os\.TestSendfile\."),  # asyncSetUp: start_server(host=HOSTv4), then server.sockets[0]
    # setUp's UDP syslog server failed on AF_INET, so tearDown finds none.
    re.compile(r"^test\.test_logging\.SysLogHandlerTest\.test_udp_reconnection$"),
    # test_multiprocessing_fork hangs in tearDownModule (docs/compatibility.md),
    # so its failure report is never printed; each of these, run alone,
    # fails on errno 97 (socket.socket(), Listener(family='AF_INET'),
    # create_server((HOST, 0)), managers at (HOST, 0)).
    re.compile(
        r"^test\.test_multiprocessing_fork\.(TestCloseFds\.test_closefd|TestTimeouts\.test_timeout|TestWait\.test_wait_socket(_slow)?"
        r"|With\w+TestManagerRestart\.test_rapid_restart|WithProcessesTestListener\.test_multiple_bind"
        r"|WithProcessesTestListenerClient\.(test_issue16955|test_listener_client))$"
    ),
]
# The same seen in a traceback: a server on 127.0.0.1/0.0.0.0 with no
# socket (test_events' create_server and _make_ssl_server, test_ssl's
# start_server, test_server, test_buffered_proto), or test_events'
# create_datagram_endpoint_sock finding no family of getaddrinfo('127.0.0.1')
# that makes a socket. Never for a case named for unix sockets.
AF_INET_SILENT_TRACE = re.compile(
    r"(server|srv)\.sockets\[0\]|len\(server\.sockets\), 1\)|assertTrue\(srv_socks\)|fail\('Can not create socket\.'\)"
)

PASS = {"ok", "expected failure"}
WORSE = ["ok", "expected failure", "skipped", "unexpected success", "FAIL", "ERROR"]


class Case:
    def __init__(self, name):
        self.name = name
        self.status = None  # None: started, never finished (hang, crash)
        self.detail = ""  # skip reason or the traceback's last line
        self.trace = ""

    def set(self, status, detail=""):
        kind = "skipped" if status.startswith("skipped") else status
        if kind == "skipped":
            detail = status[len("skipped") :].strip()
        if self.status is None or WORSE.index(kind) > WORSE.index(self.status):
            self.status = kind
            self.detail = detail or self.detail
        elif kind == self.status and detail and not self.detail:
            self.detail = detail

    def passed(self):
        return self.status in PASS


def case_id(name, ident):
    # A fixture's id names its class or module, not a test method.
    return ident + "." + name if name in FIXTURES else ident


def parse(text):
    """Cases by id, in the order they ran, and the log's last lines."""
    cases = OrderedDict()
    lines = text.splitlines()
    pending = None  # the case whose status has not been printed yet
    i = 0
    while i < len(lines):
        line = lines[i]
        report = REPORT.match(line)
        if report and i + 1 < len(lines) and lines[i + 1].startswith("-----"):
            # The failure report: traceback up to the next separator.
            name, ident = report.group(2), report.group(3)
            cid = case_id(name, ident)
            j = i + 2
            trace = []
            while j < len(lines) and not lines[j].startswith("=====") and not lines[j].startswith("-----"):
                trace.append(lines[j])
                j += 1
            case = cases.setdefault(cid, Case(cid))
            last = next((t for t in reversed(trace) if t.strip()), "")
            case.set(report.group(1), last.strip())
            case.trace += "\n".join(trace) + "\n"
            i = j
            continue
        header = HEADER.match(line)
        if header and (header.group(3).endswith("." + header.group(2)) or header.group(2) in FIXTURES):
            name, ident, rest = header.group(2), header.group(3), header.group(4)
            cid = case_id(name, ident)
            case = cases.setdefault(cid, Case(cid))
            subtest = header.group(1) is not None
            status = DURATION.sub("", rest.rsplit(" ... ", 1)[1].strip()) if " ... " in rest else None
            if subtest:
                if status and STATUS.match(status):
                    case.set(status)
            elif status is not None and STATUS.match(status):
                case.set(status)
                pending = None
            else:
                if pending is not None and pending is not case and pending.status is None:
                    pass  # the previous case never finished
                pending = case
            i += 1
            continue
        if pending is not None:
            tail = DURATION.sub("", line.rsplit(" ... ", 1)[1].strip() if " ... " in line else line.strip())
            if STATUS.match(tail):
                pending.set(tail)
                pending = None
            else:
                # What the case printed (a thread's traceback) before its
                # status, or before the run hung in it.
                pending.trace += line + "\n"
        i += 1
    return cases


def ending(text):
    """How a log ended, for cases that never finished."""
    for line in reversed(text.splitlines()[-400:]):
        if line.startswith("Timeout (") or "Fatal Python error" in line:
            return line.strip()
    last = [l for l in text.splitlines() if l.startswith("exit status")]
    return last[-1] if last else "log ends early"


def count(cases):
    c = {"pass": 0, "fail": 0, "error": 0, "skip": 0, "unfinished": 0}
    for case in cases.values():
        if case.passed():
            c["pass"] += 1
        elif case.status in ("FAIL", "unexpected success"):
            c["fail"] += 1
        elif case.status == "ERROR":
            c["error"] += 1
        elif case.status == "skipped":
            c["skip"] += 1
        else:
            c["unfinished"] += 1
    return c


def is_af_inet(case):
    if case is None:
        return False
    if case.status not in PASS and any(p.search(case.name) for p in AF_INET_SILENT):
        return True
    if case.status in ("FAIL", "ERROR") and "unix" not in case.name.lower() and AF_INET_SILENT_TRACE.search(case.trace):
        return True
    if case.status == "skipped":
        return bool(AF_INET_SKIP.search(case.detail) or AF_INET_TRACE.search(case.detail))
    return bool(AF_INET_TRACE.search(case.trace) or AF_INET_TRACE.search(case.detail))


def load(logs, mode, module):
    """Cases of MODULE, from MODULE.log or from its submodules' logs
    (MODULE.sub.log), and how each log ended, by the unit it ran."""
    cases, endings = OrderedDict(), {}
    folder = Path(logs) / mode
    paths = [folder / f"{module}.log"] + sorted(folder.glob(f"{module}.*.log"))
    for path in paths:
        if not path.exists():
            continue
        text = path.read_text(errors="replace")
        endings[path.name[: -len(".log")]] = ending(text)
        cases.update(parse(text))
    return cases, endings


def unit_ending(cid, endings):
    """How the log that should have run case CID ended."""
    best = ""
    for unit in endings:
        if cid.startswith("test." + unit + ".") and len(unit) > len(best):
            best = unit
    return endings[best] if best else "no log"


def compare(logs, modules):
    rows, lost = [], OrderedDict()
    for module in modules:
        native, _ = load(logs, "native", module)
        vk, vk_endings = load(logs, "vkernel", module)
        row = {"module": module, "native": count(native), "vkernel": count(vk)}
        both = inet = 0
        lost[module] = []
        for cid, case in native.items():
            if not case.passed():
                continue
            other = vk.get(cid)
            if other is not None and other.passed():
                both += 1
            elif is_af_inet(other):
                inet += 1
            else:
                if other is None:
                    why = "not run: " + unit_ending(cid, vk_endings)
                elif other.status is None:
                    why = "never finished: " + unit_ending(cid, vk_endings)
                else:
                    why = f"{other.status}: {other.detail}" if other.detail else other.status
                lost[module].append((cid, why))
        row.update(native_pass=row["native"]["pass"], both=both, inet=inet)
        rows.append(row)
    return rows, lost


def ratio(a, b):
    return f"{100.0 * a / b:.1f}%" if b else "n/a"


def table(rows):
    out = [
        "| module | native pass / fail / error / skip | vkernel pass / fail / error / skip | native passes kept | lost to AF_INET | kept, AF_INET aside |",
        "|---|---|---|---|---|---|",
    ]

    def cell(c):
        s = f"{c['pass']} / {c['fail']} / {c['error']} / {c['skip']}"
        return s + (f" (+{c['unfinished']} unfinished)" if c["unfinished"] else "")

    for r in rows:
        out.append(
            f"| {r['module']} | {cell(r['native'])} | {cell(r['vkernel'])} | {r['both']} of {r['native_pass']} ({ratio(r['both'], r['native_pass'])}) "
            f"| {r['inet']} | {ratio(r['both'], r['native_pass'] - r['inet'])} |"
        )
    tn = sum(r["native_pass"] for r in rows)
    tb = sum(r["both"] for r in rows)
    ti = sum(r["inet"] for r in rows)
    total = {k: sum(r[m][k] for r in rows) for m in ("native",) for k in ("pass", "fail", "error", "skip", "unfinished")}
    totvk = {k: sum(r["vkernel"][k] for r in rows) for k in ("pass", "fail", "error", "skip", "unfinished")}
    out.append(f"| **all** | {cell(total)} | {cell(totvk)} | {tb} of {tn} ({ratio(tb, tn)}) | {ti} | {ratio(tb, tn - ti)} |")
    summary = (
        f"Cases that pass natively that also pass under vkernel: {tb} of {tn} = {ratio(tb, tn)}; "
        f"with the {ti} AF_INET/AF_INET6 cases aside: {tb} of {tn - ti} = {ratio(tb, tn - ti)}."
    )
    return "\n".join(out), summary


def lost_list(lost):
    out = []
    for module, cases in lost.items():
        if not cases:
            continue
        out.append(f"- **{module}** ({len(cases)})")
        for cid, why in cases:
            why = why.replace("|", "\\|").replace("`", "'")
            if len(why) > 160:
                why = why[:157] + "..."
            out.append(f"  - `{cid}`: {why}")
    return "\n".join(out) if out else "None."


BEGIN = "<!-- python-conformance:begin (generated by bench/python_conformance.sh) -->"
END = "<!-- python-conformance:end -->"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--logs")
    ap.add_argument("--docs")
    ap.add_argument("--hung")
    ap.add_argument("modules", nargs="*")
    args = ap.parse_args()
    if args.hung:
        text = Path(args.hung).read_text(errors="replace")
        if ending(text).startswith("Timeout ("):
            unfinished = [cid for cid, case in parse(text).items() if case.status is None]
            if unfinished:
                print(unfinished[-1])
        return 0
    if not args.logs or not args.modules:
        ap.error("--logs and at least one MODULE are needed")
    rows, lost = compare(args.logs, args.modules)
    tab, summary = table(rows)
    print(tab)
    print()
    print(summary)
    if not args.docs:
        return 0
    run = Path(args.logs) / "run.txt"
    about = run.read_text().strip().splitlines() if run.exists() else []
    section = "\n".join(
        [
            BEGIN,
            "",
            "Run: " + "; ".join(about) + ".",
            "",
            tab,
            "",
            summary,
            "",
            "Cases that pass natively and not under vkernel (AF_INET/AF_INET6 cases not listed):",
            "",
            lost_list(lost),
            "",
            END,
        ]
    )
    docs = Path(args.docs)
    text = docs.read_text() if docs.exists() else ""
    if BEGIN in text and END in text:
        text = text[: text.index(BEGIN)] + section + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip("\n") + ("\n\n" if text else "") + section + "\n"
    docs.write_text(text)
    print(f"wrote {docs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
