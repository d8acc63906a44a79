#!/usr/bin/env python3
"""tests/bench/alternate.py: CPU per request of two gateway builds, in alternating rounds.

A change of a few percent in the gateway's own work is lost in run.sh's req/s, which move by
10-20 % between runs on a shared machine; instructions.py counts instructions, which do not
move, but not cache misses or system calls.  This measures CPU time: the builds run side by
side over one new cluster (`workers: 1` each, 1,000 Finnish patients), both pinned to the
first CPU, the load generator (tests/bench/mtls_load.c, keep-alive) on the second.  Each
round loads each build in turn with --requests requests of the benchmark's `$summary` (or
--patient reads) at --connections connections, the order flipping every round, and reads
from /proc the CPU time (user + system) that the gateway and, separately, every process of
the cluster spent on it.  The medians over the rounds, and each build's against the first,
come last, with the pool counters of each gateway's /metrics (queries, Syncs, pipelined, and
the reads sent in batches / the batches; a build without batching shows "-"):

  python3 tests/bench/alternate.py --bins /tmp/before/build/fhirgw build/fhirgw
  python3 tests/bench/alternate.py --bins A B --patient --rounds 8

The cluster is shared, so a build's PostgreSQL time also holds what the other build's audit
records cost autovacuum and checkpoints later; it is a guide, the gateway column the measure.
Like run.sh it stops what it started by pid, however it ends.
"""

import argparse
import os
import re
import shutil
import statistics
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402  (also puts tests/integration on sys.path)
from bench import harness  # noqa: E402


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cluster_cpu(cluster, reaped=False):
    """CPU seconds of the postmaster and every process under it (backends come and go:
    one that exited during a round is missed, so rounds keep their connections open).
    With reaped, also those of the postmaster's children that have exited and been
    reaped (statement_cost.py's pgbench backends, one per run)."""
    with open(os.path.join(cluster.data, "postmaster.pid")) as f:
        postmaster = int(f.readline())
    total = 0.0
    if reaped:
        with open("/proc/%d/stat" % postmaster) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")
    for pid in [postmaster] + list(bench._descendants(postmaster)):
        try:
            total += cpu_seconds(pid)
        except OSError:
            pass
    return total


def pool_counters(gw):
    _status, _headers, body = gw.admin_get("/metrics")
    return {k.decode(): int(v) for k, v in
            re.findall(rb"^fhirgw_db_(\w+)_total (\d+)$", body, re.M)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bins", nargs="+", required=True, metavar="FHIRGW",
                    help="gateway binaries; the first is the reference")
    ap.add_argument("--patient", action="store_true", help="GET Patient/{id}, not $summary")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--requests", type=int, default=0,
                    help="per build and round (20,000 $summary or 60,000 Patient reads)")
    ap.add_argument("--connections", type=int, default=16)
    a = ap.parse_args()
    n = a.requests or (60000 if a.patient else 20000)
    bins = [os.path.abspath(b) for b in a.bins]
    cpus = sorted(os.sched_getaffinity(0))
    server_cpu, client_cpu = (cpus[0], cpus[1]) if len(cpus) >= 2 else (None, None)

    tmp = tempfile.mkdtemp(prefix="fhirgw-alternate-")
    cluster = harness.Cluster()
    gws = []
    try:
        cluster.psql("alter system set wal_init_zero = 'off'", db="postgres")
        cluster.psql("select pg_reload_conf()", db="postgres")
        pki = harness.Pki.get()
        for b in bins:
            gw = harness.Gateway(cluster, pki, patients=1000, workers=1)
            gw.bin = b
            gw.start()
            gws.append(gw)
        size, pid, pem, load = bench.load_target(cluster, gws[0], pki, tmp)
        path = "/fhir/Patient/%s%s" % (pid, "" if a.patient else "/$summary")
        for gw in gws:
            if server_cpu is not None:
                bench._pin_pid_tree(gw.proc.pid, server_cpu)
            bench.run_mtls_load(load, "https://127.0.0.1:%d%s" % (gw.port, path),
                                a.connections, n // 4, True, pem, client_cpu)
        print("# %s ($summary %d bytes), %d rounds of %d requests per build at c=%d"
              % (path, size, a.rounds, n, a.connections))
        print("| round | build | gateway us/req | PostgreSQL us/req | req/s |")
        print("|---:|---|---:|---:|---:|")
        gw_us = {b: [] for b in bins}
        pg_us = {b: [] for b in bins}
        rps = {b: [] for b in bins}
        for r in range(a.rounds):
            order = list(zip(bins, gws))
            if r % 2:
                order.reverse()
            for b, gw in order:
                g0, p0 = cpu_seconds(gw.proc.pid), cluster_cpu(cluster)
                out = bench.run_mtls_load(load, "https://127.0.0.1:%d%s" % (gw.port, path),
                                          a.connections, n, True, pem, client_cpu)
                g1, p1 = cpu_seconds(gw.proc.pid), cluster_cpu(cluster)
                gw_us[b].append((g1 - g0) / n * 1e6)
                pg_us[b].append((p1 - p0) / n * 1e6)
                rps[b].append(out["rps"])
                print("| %d | %s | %.1f | %.1f | %.0f |" % (r + 1, b, gw_us[b][-1],
                                                          pg_us[b][-1], rps[b][-1]), flush=True)
        print("\n| build | gateway us/req | of the first | PostgreSQL us/req | req/s |"
              " lower than the first in rounds | pool: queries / Syncs, pipelined, batched / batches |")
        print("|---|---:|---:|---:|---:|---:|---|")
        ref = statistics.median(gw_us[bins[0]])
        for b, gw in zip(bins, gws):
            m = statistics.median(gw_us[b])
            lower = sum(1 for x, y in zip(gw_us[b], gw_us[bins[0]]) if x < y)
            c = pool_counters(gw)
            print("| %s | %.2f | %.3f | %.1f | %.0f | %s | %s / %s, %s, %s / %s |"
                  % (b, m, m / ref, statistics.median(pg_us[b]), statistics.median(rps[b]),
                     "-" if b == bins[0] else "%d of %d" % (lower, a.rounds),
                     c.get("queries", "?"), c.get("syncs", "?"), c.get("pipelined", "?"),
                     c.get("batched", "-"), c.get("batches", "-")))
        return 0
    finally:
        for gw in gws:
            gw.cleanup()
        cluster.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
