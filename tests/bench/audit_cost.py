#!/usr/bin/env python3
"""tests/bench/audit_cost.py: what the audit trail costs GET Patient/{id}/$summary (or
GET Patient/{id}, with --resource patient).

Two gateways over one PostgreSQL, both `workers: 1`, pinned to the same CPU (only one is
loaded at a time), the load generator on the other:

  --with BIN     a normal build (every request is audited: one record, group commit,
                 the answer held until it commits)
  --without BIN  the same sources built with -DFHIRGW_BENCH_NO_AUDIT=ON (the audit hook
                 compiled out; that binary says so in its log and is never shipped)

Rounds alternate the order (ABBA...), so drift on a shared machine hits both sides alike;
the result is the median of per-round ratios.  The load generator is tests/bench/mtls_load.c
(HTTP/1.1 keep-alive over mutual TLS), through bench.py's helpers (imported, not copied).
Each run also reads the CPU time of every PostgreSQL process from /proc, so the table has
the database's CPU per request on both sides: the difference is what the audit costs the
database.  At the end it counts the records the audited gateway wrote and the transactions
they took (group commit: records per append), and checks that the comparison build wrote none.

  cmake -S . -B build-bench-audit -DCMAKE_BUILD_TYPE=RelWithDebInfo
  cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFHIRGW_BENCH_NO_AUDIT=ON
  cmake --build build-bench-audit -j2 && cmake --build build-bench -j2
  python3 tests/bench/audit_cost.py --with build-bench-audit/fhirgw --without build-bench/fhirgw
"""

import argparse
import os
import statistics
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402  (also puts tests/integration on sys.path)
from bench import harness  # noqa: E402


def cluster_postmaster(cluster):
    with open(os.path.join(cluster.data, "postmaster.pid")) as f:
        return int(f.readline())


def database_cpu(postmaster):
    """CPU seconds (user + system) of the postmaster and every process under it;
    a backend that exited between two readings is not counted (the gateways keep
    their connections for the whole run)."""
    total = 0.0
    for pid in [postmaster] + bench._descendants(postmaster):
        try:
            total += sum(bench._cpu_seconds(pid))
        except (OSError, ValueError, IndexError):
            pass
    return total


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--with", dest="with_bin", required=True)
    ap.add_argument("--without", dest="without_bin", required=True)
    ap.add_argument("--patients", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--seconds", type=float, default=3.0, help="length of one run")
    ap.add_argument("--conc", default="16,64", help="concurrencies (16,64)")
    ap.add_argument("--resource", choices=("summary", "patient"), default="summary",
                    help="GET Patient/{id}/$summary (default) or GET Patient/{id}")
    a = ap.parse_args()
    conc = [int(c) for c in a.conc.split(",")]
    cpus = sorted(os.sched_getaffinity(0))
    server_cpu, client_cpu = (cpus[0], cpus[1]) if len(cpus) > 1 else (None, None)

    tmp = tempfile.mkdtemp(prefix="fhirgw-auditcost-")
    cluster = harness.Cluster()
    gws = {}
    try:
        pki = harness.Pki.get()
        audited = harness.Gateway(cluster, pki, patients=a.patients, workers=1)
        audited.bin = os.path.abspath(a.with_bin)
        audited.start()
        plain = harness.Gateway(cluster, pki, provision=False, id_key=audited.id_key,
                                workers=1)
        plain.bin = os.path.abspath(a.without_bin)
        plain.start()
        gws = {"with audit": audited, "without audit": plain}
        if "BENCHMARK BUILD" not in plain.log_tail(20):
            raise SystemExit("--without %s is not a FHIRGW_BENCH_NO_AUDIT build" % a.without_bin)
        for gw in gws.values():
            if server_cpu is not None:
                bench._pin_pid_tree(gw.proc.pid, server_cpu)

        # The median-sized $summary among the first 41 patients, as bench.py picks it.
        sized = bench.sized_summaries(cluster, audited)
        size, pid = sized[len(sized) // 2]
        path = "/fhir/Patient/%s%s" % (pid, "/$summary" if a.resource == "summary" else "")
        label = "$summary" if a.resource == "summary" else "Patient"
        if a.resource == "patient":
            with audited.client("fi") as cl:
                size = len(cl.get(path).body)
        print("# patient %s, %s %d bytes; gateways pinned to cpu %s, client cpu %s"
              % (pid, label, size, server_cpu, client_cpu))
        postmaster = cluster_postmaster(cluster)

        crt, key = pki.node("fi")
        pem = os.path.join(tmp, "fi.pem")
        with open(pem, "w") as f:
            f.write(open(crt).read() + open(key).read())
        load = bench.build_mtls_load(tmp)

        def run(gw, c, n):
            db0 = database_cpu(postmaster)
            r = bench.run_mtls_load(load, "https://127.0.0.1:%d%s" % (gw.port, path), c, n,
                                    True, pem, client_cpu)
            r["db_us"] = (database_cpu(postmaster) - db0) * 1e6 / n
            if r["complete"] != n or r["non2xx"] or r["failed"]:
                raise SystemExit("%s: %d of %d complete, %d non-2xx, %d failed"
                                 % (gw.base_url, r["complete"], n, r["non2xx"], r["failed"]))
            return r

        counts = {}
        for c in conc:
            rates = [run(gw, c, 1000)["rps"] for gw in gws.values()]
            counts[c] = max(500, int(min(rates) * a.seconds))
        results = {(name, c): [] for name in gws for c in conc}
        names = list(gws)
        for rnd in range(a.rounds):
            order = names if rnd % 2 == 0 else names[::-1]
            for c in conc:
                line = []
                for name in order:
                    r = run(gws[name], c, counts[c])
                    results[(name, c)].append(r)
                    line.append("%s %6.0f req/s p99 %6.2f ms db %4.0f us/req"
                                % (name, r["rps"], r["p99_ms"], r["db_us"]))
                print("# round %d c=%-3d %s" % (rnd + 1, c, " | ".join(line)))

        print()
        print("| %s, keep-alive | c | with audit req/s | without audit req/s |"
              " with/without (min-max) | p50 / p99 ms with | p50 / p99 ms without |"
              " database CPU us/req with / without |" % label)
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for c in conc:
            w, wo = results[("with audit", c)], results[("without audit", c)]
            ratios = [x["rps"] / y["rps"] for x, y in zip(w, wo)]

            def med(rs, k):
                return statistics.median(r[k] for r in rs)
            print("| %d bytes | %d | %.0f | %.0f | %.3f (%.3f-%.3f) | %.2f / %.2f | %.2f / %.2f"
                  " | %.0f / %.0f |"
                  % (size, c, med(w, "rps"), med(wo, "rps"), statistics.median(ratios),
                     min(ratios), max(ratios), med(w, "p50_ms"), med(w, "p99_ms"),
                     med(wo, "p50_ms"), med(wo, "p99_ms"), med(w, "db_us"), med(wo, "db_us")))
        row = cluster.psql("select count(*), count(distinct xmin::text) from gw.audit"
                           " where canonical::jsonb #>> '{node,name}' = 'fi'").strip()
        records, transactions = map(int, row.split("|"))
        print()
        print("audit: %d records in %d transactions (%.1f records per append)"
              % (records, transactions, records / max(transactions, 1)))
        sent_plain = sum(r["complete"] for c in conc for r in results[("without audit", c)])
        sent_audited = sum(r["complete"] for c in conc for r in results[("with audit", c)])
        if records < sent_audited or records > sent_audited + 41 + 2 + 2 * len(conc) * 1000:
            print("warning: %d records for %d audited requests" % (records, sent_audited))
        print("requests: %d audited, %d to the comparison build (which wrote no record)"
              % (sent_audited, sent_plain))
        code, out = 0, audited.cli("audit-verify", "-c", "{config}").stdout.decode()
        print(out.strip())
        return code
    finally:
        for gw in gws.values():
            gw.cleanup()
        cluster.cleanup()


if __name__ == "__main__":
    sys.exit(main())
