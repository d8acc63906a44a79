#!/usr/bin/env python3
"""tests/bench/statement_cost.py: PostgreSQL's CPU per execution of the gateway's statements,
and of variants of them, under pgbench, in alternating rounds.

run.sh and alternate.py measure the database's CPU per request, with everything a request
brings (the round trips, the audit, the consent generation); this measures one statement
alone, as the backend executes it, so two shapes of it can be told apart by a few microseconds.

One new cluster with the benchmark's seed (1,000 Finnish patients by default), a gateway
started once so that its migrations run and it prepares every statement (the cluster logs
each Parse, which is where the texts are read from, exactly as the gateway sends them), then
stopped. Each variant is either the name of a gateway statement (`fi_summary`,
`fi_read_0`, ..., as gw_flow_statement_name writes them) or a file of SQL; `$1` in either
becomes the benchmark patient's token (the logical id without "fi-"), so statements of one
parameter (the summary, a Patient read) run as they are. Each round runs every variant in turn
(the order flipping every round) with `pgbench -M prepared -c 1 -t N` pinned to the last CPU,
and reads the CPU time that the cluster's processes spent from /proc (the postmaster's
children's included, so a backend that has exited is counted). Medians come last.

  python3 tests/bench/statement_cost.py fi_summary my_summary.sql
  python3 tests/bench/statement_cost.py --setup indexes.sql fi_summary --rounds 5
  python3 tests/bench/statement_cost.py --print fi_summary     # the text, to edit a variant

--setup runs a file of SQL (as the superuser) after the gateway has stopped and before the
rounds: a second copy of some tables with other indexes, say, for a variant to read
(docs/benchmarks.md has measurements made this way). Like run.sh it stops what it started,
however it ends.
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import alternate  # noqa: E402
import bench  # noqa: E402  (also puts tests/integration on sys.path)
from bench import harness  # noqa: E402

PARSE = re.compile(r"parse (\w+): (.*)$")


def settled_cpu(cluster):
    """cluster_cpu once the backend of a pgbench run that just ended has been reaped (its
    time moves into the postmaster's children's only then): read until it stops moving."""
    last = alternate.cluster_cpu(cluster, reaped=True)
    for _ in range(40):
        time.sleep(0.1)
        now = alternate.cluster_cpu(cluster, reaped=True)
        if now == last:
            return now
        last = now
    return last


def prepared_statements(cluster):
    """{name: sql} of every statement the gateway prepared, from the cluster's log."""
    found = {}
    with open(cluster.log, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = PARSE.search(line.rstrip("\n"))
            if m:
                found[m.group(1)] = m.group(2)
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("variants", nargs="+", metavar="NAME|FILE",
                    help="a gateway statement's name or a file of SQL; the first is the "
                         "reference")
    ap.add_argument("--setup", metavar="FILE", help="SQL run once before the rounds")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--executions", type=int, default=20000, help="per variant and round")
    ap.add_argument("--patients", type=int, default=1000)
    ap.add_argument("--print", action="store_true",
                    help="print the variants' SQL (with the token) and stop")
    a = ap.parse_args()
    cpus = sorted(os.sched_getaffinity(0))

    tmp = tempfile.mkdtemp(prefix="fhirgw-statement-cost-")
    os.chmod(tmp, 0o755)
    cluster = harness.Cluster()
    gw = None
    try:
        cluster.psql("alter system set wal_init_zero = 'off'", db="postgres")
        cluster.psql("alter system set log_min_duration_statement = 0", db="postgres")
        cluster.psql("select pg_reload_conf()", db="postgres")
        pki = harness.Pki.get()
        gw = harness.Gateway(cluster, pki, patients=a.patients, workers=1)
        gw.start()
        _size, pid, _pem, _load = bench.load_target(cluster, gw, pki, tmp)
        gw.stop()
        cluster.psql("alter system reset log_min_duration_statement", db="postgres")
        cluster.psql("select pg_reload_conf()", db="postgres")
        statements = prepared_statements(cluster)
        token = pid.split("-", 1)[1]

        scripts = []
        for v in a.variants:
            if os.path.exists(v):
                with open(v, encoding="utf-8") as f:
                    sql = f.read().strip().rstrip(";")
            elif v in statements:
                sql = statements[v]
            else:
                raise SystemExit("%s: neither a file nor a statement the gateway prepared "
                                 "(it prepared: %s)" % (v, ", ".join(sorted(statements))))
            sql = sql.replace("$1", harness.sql_literal(token))
            if re.search(r"\$\d", sql):
                raise SystemExit("%s: parameters other than $1 need a file with values" % v)
            if a.print:
                print("-- %s\n%s;\n" % (v, sql))
                continue
            path = os.path.join(tmp, "variant%d.sql" % len(scripts))
            with open(path, "w", encoding="utf-8") as f:
                f.write(sql + ";\n")
            os.chmod(path, 0o644)
            scripts.append((v, path))
        if a.print:
            return 0
        if a.setup:
            with open(a.setup, encoding="utf-8") as f:
                cluster.psql(f.read())

        pgbench = os.path.join(os.path.dirname(cluster.initdb), "pgbench")
        cmd0 = (["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else [])
        cmd0 += ["taskset", "-c", str(cpus[-1]), pgbench, "-h", cluster.dir, "-p",
                 str(cluster.PORT), "-U", "postgres", "-d", "fhirgw", "-n", "-M", "prepared",
                 "-c", "1", "-t", str(a.executions)]
        print("# patient fi-%s, %d rounds of %d executions per variant, backend CPU per "
              "execution (us)" % (token, a.rounds, a.executions))
        print("| round | " + " | ".join(v for v, _ in scripts) + " |")
        print("|---:|" + "---:|" * len(scripts))
        us = {v: [] for v, _ in scripts}
        for r in range(a.rounds):
            order = scripts if r % 2 == 0 else list(reversed(scripts))
            for v, path in order:
                c0 = settled_cpu(cluster)
                out = subprocess.run(cmd0 + ["-f", path], capture_output=True, text=True)
                c1 = settled_cpu(cluster)
                if out.returncode != 0:
                    raise SystemExit("pgbench failed on %s:\n%s" % (v, out.stderr[-2000:]))
                us[v].append((c1 - c0) / a.executions * 1e6)
            print("| %d | " % (r + 1) + " | ".join("%.1f" % us[v][-1] for v, _ in scripts)
                  + " |", flush=True)
        ref = statistics.median(us[scripts[0][0]])
        print("\n| variant | median us | of the first |\n|---|---:|---:|")
        for v, _ in scripts:
            m = statistics.median(us[v])
            print("| %s | %.1f | %.3f |" % (v, m, m / ref))
        return 0
    finally:
        if gw is not None:
            gw.cleanup()
        cluster.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
