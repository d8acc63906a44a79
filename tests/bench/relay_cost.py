#!/usr/bin/env python3
"""tests/bench/relay_cost.py: what relaying costs GET Patient/{id}/$summary (docs/relay.md).

Two gateways over one PostgreSQL cluster, each with its own database, both `workers: 1`:

  FI   the holder: database fhirgw_fi, Finland local, seeded with --patients patients
  NO   the relaying gateway: database fhirgw_no, Norway local, Finland relayed to FI over
       mutual TLS (the `peer` certificate, FI's server key pinned, default pool of 8)

The Norwegian node asks for the same Finnish patient's $summary directly at FI ("direct") and
through NO ("relayed"): the same consent decision (for Norway), the same document, plus one
hop, the relaying gateway's parse and rebase of the Bundle and its own audit record.  Both
gateways are pinned to the same CPU, so the relayed rate counts the CPU of both; the load
generator (tests/bench/mtls_load.c, through bench.py's helpers, imported, not copied) runs on
the other.  Rounds alternate the order (ABBA...); results are medians, the ratio is the median
of per-round ratios, "added" the difference of median latencies.

  cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build build -j2
  python3 tests/bench/relay_cost.py [--patients 1000] [--rounds 6] [--seconds 3] [--conc 1,16]
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

NODES = dict(harness.DEFAULT_NODES)
NODES["peer"] = ("FI", "peer-gateway")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--patients", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--seconds", type=float, default=3.0, help="length of one run")
    ap.add_argument("--conc", default="1,16", help="concurrencies (1,16)")
    a = ap.parse_args()
    conc = [int(c) for c in a.conc.split(",")]
    cpus = sorted(os.sched_getaffinity(0))
    server_cpu, client_cpu = (cpus[0], cpus[1]) if len(cpus) > 1 else (None, None)

    tmp = tempfile.mkdtemp(prefix="fhirgw-relaycost-")
    cluster = harness.Cluster()
    gws = {}
    try:
        pki = harness.Pki.get()
        fi = harness.Gateway(cluster, pki, patients=a.patients, workers=1, nodes=NODES,
                             dbname="fhirgw_fi", country="FI", local_countries=["FI"])
        no = harness.Gateway(cluster, pki, patients=0, workers=1, nodes=NODES,
                             countries=("no",), dbname="fhirgw_no", country="NO",
                             local_countries=["NO"])
        gws = {"direct": fi, "relayed": no}
        fi.reserve_ports()
        no.peers = {"FI": fi.peer_entry()}
        fi.start()
        no.start()
        for gw in gws.values():
            if server_cpu is not None:
                bench._pin_pid_tree(gw.proc.pid, server_cpu)

        # The median-sized $summary among the first 41 patients, as bench.py picks it.
        sized = bench.sized_summaries(cluster, fi, node="no", db="fhirgw_fi")
        size, pid = sized[len(sized) // 2]
        path = "/fhir/Patient/%s/$summary" % pid
        relayed = no.get("no", path)
        if relayed.status != 200:
            raise SystemExit("relayed $summary: %d %r" % (relayed.status, relayed.body[:300]))
        print("# patient %s, $summary %d bytes direct, %d relayed; gateways pinned to cpu %s,"
              " client cpu %s" % (pid, size, len(relayed.body), server_cpu, client_cpu))

        crt, key = pki.node("no")
        pem = os.path.join(tmp, "no.pem")
        with open(pem, "w") as f:
            f.write(open(crt).read() + open(key).read())
        load = bench.build_mtls_load(tmp)

        def run(gw, c, n):
            r = bench.run_mtls_load(load, "https://127.0.0.1:%d%s" % (gw.port, path), c, n,
                                    True, pem, client_cpu)
            if r["complete"] != n or r["non2xx"] or r["failed"]:
                raise SystemExit("%s: %d of %d complete, %d non-2xx, %d failed"
                                 % (gw.base_url, r["complete"], n, r["non2xx"], r["failed"]))
            return r

        counts = {}
        for c in conc:
            rates = [run(gw, c, 300 * c if c < 8 else 1000)["rps"] for gw in gws.values()]
            counts[c] = max(300, int(min(rates) * a.seconds))
        results = {(name, c): [] for name in gws for c in conc}
        names = list(gws)
        for rnd in range(a.rounds):
            order = names if rnd % 2 == 0 else names[::-1]
            for c in conc:
                line = []
                for name in order:
                    r = run(gws[name], c, counts[c])
                    results[(name, c)].append(r)
                    line.append("%s %6.0f req/s p50 %6.2f p99 %6.2f ms"
                                % (name, r["rps"], r["p50_ms"], r["p99_ms"]))
                print("# round %d c=%-3d %s" % (rnd + 1, c, " | ".join(line)))

        print()
        print("| $summary, keep-alive | c | direct req/s | relayed req/s | relayed/direct"
              " (min-max) | p50 / p99 ms direct | p50 / p99 ms relayed | added p50 / p99 ms |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for c in conc:
            d, rl = results[("direct", c)], results[("relayed", c)]
            ratios = [x["rps"] / y["rps"] for x, y in zip(rl, d)]

            def med(rs, k):
                return statistics.median(r[k] for r in rs)
            print("| %d bytes | %d | %.0f | %.0f | %.3f (%.3f-%.3f) | %.2f / %.2f | %.2f / %.2f"
                  " | %.2f / %.2f |"
                  % (size, c, med(d, "rps"), med(rl, "rps"), statistics.median(ratios),
                     min(ratios), max(ratios), med(d, "p50_ms"), med(d, "p99_ms"),
                     med(rl, "p50_ms"), med(rl, "p99_ms"),
                     med(rl, "p50_ms") - med(d, "p50_ms"),
                     med(rl, "p99_ms") - med(d, "p99_ms")))
        print()
        sent = sum(r["complete"] for c in conc for r in results[("relayed", c)])
        at_no = int(cluster.psql("select count(*) from gw.audit_record where rule = 'peer/FI'",
                                 db="fhirgw_no").strip())
        at_fi = int(cluster.psql("select count(*) from gw.audit_record where node_name ="
                                 " 'no via peer'", db="fhirgw_fi").strip())
        print("relayed requests: %d in the runs; audit records: %d at NO (relay), %d at FI"
              " (decision for the origin node)" % (sent, at_no, at_fi))
        _, _, body = no.admin_get("/metrics")
        for line in body.decode().splitlines():
            if line.startswith(("fhirgw_relayed_total", "fhirgw_relay_failed_total")):
                print(line)
        return 0
    finally:
        for gw in gws.values():
            gw.cleanup()
        cluster.cleanup()


if __name__ == "__main__":
    sys.exit(main())
