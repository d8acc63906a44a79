"""Export throughput and memory (docs/export.md): seed N Finnish patients,
queue one export of every type under a permit, run it with `fhirgw
export-worker` under /usr/bin/time -v, and print resources, wall and CPU
time, resources per CPU-second and peak RSS.  Never asserted on time.

    FHIRGW_BIN=build/fhirgw python3 tests/bench/export_bench.py [PATIENTS]
"""

import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
import harness  # noqa: E402

TYPES = ("Patient,Condition,AllergyIntolerance,MedicationStatement,"
         "Immunization,Observation")


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    cluster = harness.Cluster()
    gw = None
    try:
        t0 = time.monotonic()
        gw = harness.Gateway(cluster, harness.Pki.get(), patients=n,
                             nodes={"research": ("SE", "research")},
                             config_extra={"export": {"runner": False}})
        gw.start()
        print("seeded %d patients in %.0f s" % (n, time.monotonic() - t0))
        gw.cli("permit-add", "-c", "{config}", "--id", "P-bench", "--node",
               "research", "--types", TYPES, "--country", "FI")
        r = gw.get("research", "/fhir/Group/P-bench/$export",
                   headers={"Prefer": "respond-async"}, purpose=None)
        assert r.status == 202, r
        job = r.headers["content-location"].rsplit("/", 1)[1]
        log = os.path.join(gw.dir, "time.log")
        t0 = time.monotonic()
        p = subprocess.Popen(["/usr/bin/time", "-v", "-o", log, gw.bin,
                              "export-worker", "-c", gw.config_path],
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        while cluster.rows("select state from gw.export_job where id = '%s'"
                           % job)[0][0] != "done":
            time.sleep(0.05)
        wall = time.monotonic() - t0
        # SIGTERM to the worker itself (time(1) then writes its report).
        with open("/proc/%d/task/%d/children" % (p.pid, p.pid)) as f:
            for child in f.read().split():
                os.kill(int(child), signal.SIGTERM)
        p.wait(30)
        lines = int(cluster.rows("select coalesce(sum(lines), 0) from"
                                 " gw.export_file where job = '%s'" % job)[0][0])
        text = open(log).read()
        user = float(re.search(r"User time \(seconds\): ([\d.]+)", text)[1])
        sys_ = float(re.search(r"System time \(seconds\): ([\d.]+)", text)[1])
        rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)",
                            text)[1])
        print("patients %d, resources %d, wall %.1f s (incl. <=0.5 s poll),"
              " worker CPU %.1f s user + %.1f s sys" % (n, lines, wall, user,
                                                        sys_))
        print("%.0f resources/s wall, %.0f resources per worker CPU-second,"
              " peak RSS %d MiB" % (lines / wall, lines / (user + sys_),
                                    rss // 1024))
    finally:
        if gw is not None:
            gw.stop()
            gw.cleanup()
        cluster.cleanup()


if __name__ == "__main__":
    main()
