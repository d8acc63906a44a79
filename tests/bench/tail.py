#!/usr/bin/env python3
"""tests/bench/tail.py: where a latency tail comes from, round by round.

run.sh gives one p99 per round; when one round in several is far above the rest, this
shows when it happens and beside what.  One gateway (`workers: 1`, pinned to the first
CPU, the load generator on the second) over a new cluster, then --rounds rounds of
--requests `$summary` (or --patient reads) at --connections keep-alive connections.  For
each round it prints the wall-clock span, the client's p50/p99 (tests/bench/mtls_load.c)
and the gateway's own count of answers over 10, 25 and 50 ms (the difference of its
/metrics histogram before and after the round), then PostgreSQL's log lines of autovacuum
runs and checkpoints (`log_autovacuum_min_duration = 0`, `log_checkpoints = on`) with
their times.  --pg KEY=VALUE (repeatable) sets a cluster setting before the load, to
compare one setting against another:

  python3 tests/bench/tail.py --rounds 24
  python3 tests/bench/tail.py --rounds 24 --pg wal_init_zero=on

docs/benchmarks.md ("where the c=64 tail came from") has what it found.  Like run.sh it
stops what it started by pid, however it ends.  The cluster starts with bench.py's
settings (wal_init_zero = off); --pg overrides them.
"""

import argparse
import datetime
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402  (also puts tests/integration on sys.path)
from bench import harness  # noqa: E402


def slow_answers(gw, route_word):
    """Cumulative counts per histogram bound (seconds, as text) of the routes whose
    label contains route_word, summed over routes."""
    _status, _headers, body = gw.admin_get("/metrics")
    counts = {}
    for line in body.decode("utf-8", "replace").splitlines():
        if "_bucket{" not in line or route_word not in line:
            continue
        m = re.search(r'le="([^"]+)"\}\s+(\d+)', line)
        if m:
            counts[m.group(1)] = counts.get(m.group(1), 0) + int(m.group(2))
    return counts


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", default=os.path.join(harness.SOURCE_DIR, "build", "fhirgw"))
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--requests", type=int, default=30000, help="per round")
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--patient", action="store_true", help="GET Patient/{id}, not $summary")
    ap.add_argument("--pg", action="append", default=[], metavar="KEY=VALUE")
    a = ap.parse_args()
    logging = [("log_autovacuum_min_duration", "0"), ("log_checkpoints", "on"),
               ("log_line_prefix", "%m [%p] ")]
    tuned = {"wal_init_zero": "off"}
    for kv in a.pg:
        k, sep, v = kv.partition("=")
        if not sep or not re.match(r"^[a-z_]+$", k):
            ap.error("--pg takes KEY=VALUE, e.g. wal_init_zero=on")
        tuned[k] = v
    cpus = sorted(os.sched_getaffinity(0))
    server_cpu, client_cpu = (cpus[0], cpus[1]) if len(cpus) >= 2 else (None, None)

    tmp = tempfile.mkdtemp(prefix="fhirgw-tail-")
    cluster = harness.Cluster()
    gw = None
    try:
        for k, v in logging + list(tuned.items()):
            cluster.psql("alter system set %s = '%s'" % (k, v.replace("'", "''")),
                         db="postgres")
        cluster.psql("select pg_reload_conf()", db="postgres")
        pki = harness.Pki.get()
        gw = harness.Gateway(cluster, pki, patients=1000, workers=1)
        gw.bin = os.path.abspath(a.bin)
        gw.start()
        size, pid, pem, load = bench.load_target(cluster, gw, pki, tmp)
        path = "/fhir/Patient/%s%s" % (pid, "" if a.patient else "/$summary")
        url = "https://127.0.0.1:%d%s" % (gw.port, path)
        if server_cpu is not None:
            bench._pin_pid_tree(gw.proc.pid, server_cpu)
        word = "Patient" if a.patient else "summary"
        print("# %s, c=%d, %d x %d requests; $summary %d bytes; cluster: %s"
              % (path, a.connections, a.rounds, a.requests, size,
                 ", ".join("%s=%s" % kv for kv in tuned.items())))
        bench.run_mtls_load(load, url, a.connections, 2000, True, pem, client_cpu)
        print("| round | from | to | req/s | p50 ms | p99 ms | gateway: over 10 ms | 25 ms | 50 ms |")
        print("|---:|---|---|---:|---:|---:|---:|---:|---:|")
        for r in range(a.rounds):
            before = slow_answers(gw, word)
            t0 = datetime.datetime.utcnow()
            out = bench.run_mtls_load(load, url, a.connections, a.requests, True, pem,
                                      client_cpu)
            t1 = datetime.datetime.utcnow()
            after = slow_answers(gw, word)
            d = {k: after[k] - before.get(k, 0) for k in after}
            total = d.get("+Inf", 0)
            over = [total - d.get(b, total) for b in ("0.01", "0.025", "0.05")]
            print("| %d | %s | %s | %.0f | %.2f | %.2f | %d | %d | %d |"
                  % (r + 1, t0.strftime("%H:%M:%S.%f")[:-3], t1.strftime("%H:%M:%S.%f")[:-3],
                     out["rps"], out.get("p50_ms") or 0, out["p99_ms"] or 0, *over),
                  flush=True)
        print("\nPostgreSQL (UTC):")
        with open(cluster.log, errors="replace") as f:
            for line in f:
                if "automatic vacuum" in line or "automatic analyze" in line \
                        or "checkpoint" in line:
                    print("  " + line.rstrip()[:160])
        return 0
    finally:
        if gw is not None:
            gw.cleanup()
        cluster.cleanup()
        subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    sys.exit(main())
