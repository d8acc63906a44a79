#!/usr/bin/env python3
"""tests/bench/instructions.py: the gateway's instructions per request, counted by
valgrind's callgrind: a measure of the gateway's own work that the noise of a shared machine
does not move, for comparing two builds step by step (the req/s of tests/bench/run.sh need
rounds and ratios; this needs one run).

  python3 tests/bench/instructions.py [--bin BUILD/fhirgw] [--compare OTHER/fhirgw]
                                      [--requests 400] [--patients 1000]
                                      [--summary-size LO-HI|any]

One PostgreSQL cluster, seeded once (Finland, --patients), and the patient the benchmark uses
(bench.py's choice: the median-sized $summary of 20-35 kB among the first 401; --summary-size
any: the median among the first 41).  Then, for each binary in turn, `fhirgw serve`
(workers 1) runs under callgrind and tests/bench/mtls_load.c sends, over 4 keep-alive
connections: 100 warm-up requests, then --requests counted ones, then 4 more on 4 new
connections (4 counted handshakes).  Counters are zeroed before and dumped after each counted
run, so

  per request   = (I(--requests) - I(4)) / (--requests - 4)
  per handshake = (I(4) - 4 x per request) / 4

for GET Patient/{id} and GET Patient/{id}/$summary.  Everything counted is user-space
instructions of the gateway process (OpenSSL, libpq, libevent and cJSON included; the kernel's
share of a syscall is not).  With --top N it also prints the N functions that spend the most
instructions of their own per keep-alive $summary (with --compare: the N that changed most),
read from the dumps left in the printed directory.  callgrind_annotate attributes these dumps
(taken with callgrind_control from a threaded server) to `clone` only, hence a reader of our own.
"""

import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402  (also puts tests/integration on sys.path)
from bench import harness  # noqa: E402

WARMUP = 100
CONNECTIONS = 4


def dump_total(path):
    """Ir of a callgrind dump ("summary:" line)."""
    with open(path) as f:
        for line in f:
            if line.startswith("summary:"):
                return int(line.split()[1])
    raise SystemExit("%s: no summary line" % path)


def self_costs(path):
    """Instructions of a callgrind dump by function, each function's own (a call's
    inclusive cost, the line after "calls=", is its callee's, not the caller's)."""
    names, cost = {}, collections.Counter()
    fn, after_calls = None, False
    with open(path) as f:
        for line in f:
            m = re.match(r"(c?)fn=\((\d+)\)(?: (.*))?$", line.rstrip("\n"))
            if m:
                if m.group(3):
                    names[m.group(2)] = m.group(3)
                if not m.group(1):
                    fn = names.get(m.group(2), m.group(2))
                continue
            if line.startswith("calls="):
                after_calls = True
            elif line[:1].isdigit() or line[:1] in "+-*":
                if after_calls:
                    after_calls = False
                elif fn is not None:
                    fields = line.split()
                    if len(fields) > 1:
                        cost[fn] += int(fields[1])
    return cost


class Counted:
    """`fhirgw serve` under callgrind, from gw's provisioned config."""

    def __init__(self, binary, gw, out_dir, label):
        self.binary, self.gw, self.label = binary, gw, label
        self.prefix = os.path.join(out_dir, "callgrind.%s" % label)
        self.dumps = 0
        self.proc = subprocess.Popen(
            ["valgrind", "--tool=callgrind", "--callgrind-out-file=%s.out" % self.prefix,
             binary, "serve", "-c", gw.config_path],
            cwd=gw.dir, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=open(self.prefix + ".log", "wb"))
        deadline = time.monotonic() + 120
        while True:
            try:
                if gw.admin_get("/readyz", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise SystemExit("%s under callgrind did not become ready (log %s.log)"
                                 % (binary, self.prefix))
            time.sleep(0.5)

    def control(self, flag):
        subprocess.run(["callgrind_control", flag, str(self.proc.pid)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True,
                       timeout=60)

    def count(self, load, url, pem, n):
        """Instructions of n requests on CONNECTIONS new keep-alive connections."""
        self.control("-z")
        r = bench.run_mtls_load(load, url, CONNECTIONS, n, True, pem, None)
        if r["complete"] != n or r["non2xx"] or r["failed"]:
            raise SystemExit("%s: %d of %d complete, %d non-2xx, %d failed"
                             % (url, r["complete"], n, r["non2xx"], r["failed"]))
        self.control("-d")
        self.dumps += 1
        path = "%s.out.%d" % (self.prefix, self.dumps)
        deadline = time.monotonic() + 60
        while not os.path.exists(path) and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(0.5)  # written whole before it is read
        self.last_dump = path
        return dump_total(path)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def print_functions(functions, top):
    """The top functions per keep-alive $summary: one binary's largest, or two binaries'
    largest changes."""
    print()
    if len(functions) == 1:
        print("| function | instructions per keep-alive $summary |")
        print("|---|---:|")
        for k, v in sorted(functions[0].items(), key=lambda kv: -kv[1])[:top]:
            print("| `%s` | %.0f |" % (k, v))
        return
    a, b = functions
    keys = sorted(set(a) | set(b), key=lambda k: -abs(b.get(k, 0) - a.get(k, 0)))
    print("| function | --bin | --compare | change |")
    print("|---|---:|---:|---:|")
    for k in keys[:top]:
        print("| `%s` | %.0f | %.0f | %+.0f |" % (k, a.get(k, 0), b.get(k, 0),
                                               b.get(k, 0) - a.get(k, 0)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", default=os.path.join(harness.SOURCE_DIR, "build", "fhirgw"))
    ap.add_argument("--compare", metavar="BIN", help="a second binary, counted after --bin")
    ap.add_argument("--requests", type=int, default=400)
    ap.add_argument("--patients", type=int, default=1000)
    ap.add_argument("--summary-size", metavar="LO-HI", type=bench._size_range,
                    default=bench.SUMMARY_SIZE, help="as bench.py's (default 20000-35000)")
    ap.add_argument("--top", type=int, default=0, metavar="N",
                    help="also the N functions with the most instructions of their own per "
                         "keep-alive $summary (with --compare: the N that changed most)")
    a = ap.parse_args()
    if a.requests <= CONNECTIONS:
        ap.error("--requests must exceed %d" % CONNECTIONS)
    for tool in ("valgrind", "callgrind_control"):
        if shutil.which(tool) is None:
            raise SystemExit("%s not found: apt-get install valgrind" % tool)
    binaries = [os.path.abspath(a.bin)] + ([os.path.abspath(a.compare)] if a.compare else [])

    out_dir = tempfile.mkdtemp(prefix="fhirgw-instructions-")
    cluster = harness.Cluster()
    gw = None
    try:
        pki = harness.Pki.get()
        gw = harness.Gateway(cluster, pki, patients=a.patients, workers=1)
        gw.bin = binaries[0]
        gw.start()
        size, pid, pem, load = bench.load_target(cluster, gw, pki, out_dir,
                                                 size_range=a.summary_size)
        gw.stop()
        paths = (("GET Patient/{id}", "/fhir/Patient/%s" % pid),
                 ("GET Patient/{id}/$summary", "/fhir/Patient/%s/$summary" % pid))
        print("# patient %s ($summary %d bytes); %d counted requests on %d connections;"
              " dumps in %s" % (pid, size, a.requests, CONNECTIONS, out_dir))

        rows, functions = [], []
        for i, binary in enumerate(binaries):
            run = Counted(binary, gw, out_dir, "bin%d" % (i + 1))
            try:
                for name, path in paths:
                    url = "https://127.0.0.1:%d%s" % (gw.port, path)
                    bench.run_mtls_load(load, url, CONNECTIONS, WARMUP, True, pem, None)
                    many = run.count(load, url, pem, a.requests)
                    many_dump = run.last_dump
                    few = run.count(load, url, pem, CONNECTIONS)
                    per = (many - few) / (a.requests - CONNECTIONS)
                    rows.append((binary, name, per, (few - CONNECTIONS * per) / CONNECTIONS))
                    if a.top > 0 and "$summary" in name:
                        m, f = self_costs(many_dump), self_costs(run.last_dump)
                        functions.append({k: (m[k] - f[k]) / (a.requests - CONNECTIONS)
                                          for k in m})
            finally:
                run.stop()

        print()
        print("| binary | request | instructions per keep-alive request | per handshake |")
        print("|---|---|---:|---:|")
        for binary, name, per, hs in rows:
            print("| %s | %s | %.0f | %.0f |" % (binary, name, per, hs))
        if a.compare:
            print()
            for name, _ in paths:
                per = [r[2] for r in rows if r[1] == name]
                print("%s: --compare / --bin = %.3f" % (name, per[1] / per[0]))
        if functions:
            print_functions(functions, a.top)
        return 0
    finally:
        if gw is not None:
            gw.cleanup()
        cluster.cleanup()


if __name__ == "__main__":
    sys.exit(main())
