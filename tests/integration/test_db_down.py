"""PostgreSQL going away and coming back (DESIGN.md section 5: any database
error means no decision: 503, never data).

The tests run in name order (test_1_..., test_2_...) over one gateway and
one cluster; each first puts the database in the state it needs, so any of
them also runs alone.
"""

import http.client
import time
import unittest

import harness
from harness import GatewayTestCase, Pki

SERVERS = CLUSTER = GW = None
PID = HETU = None
ANSWER_WITHIN = 10  # s: a refused request must not hang
RECOVER_WITHIN = 15  # s: after PostgreSQL is back


def setUpModule():
    global SERVERS, CLUSTER, GW, PID, HETU
    SERVERS = harness.ModuleServers()
    CLUSTER = SERVERS.cluster
    with SERVERS.starting():
        GW = SERVERS.gateway(Pki.get(), patients=5)
        GW.start()
        HETU, PID = harness.patients(CLUSTER)[0]


def tearDownModule():
    CLUSTER.start()  # a clean shutdown should not depend on the database
    SERVERS.stop()


def db_down():
    if CLUSTER.running:
        CLUSTER.stop()


def db_up():
    if not CLUSTER.running:
        CLUSTER.start()


class TestDatabaseDown(GatewayTestCase):
    def timed_get(self, path):
        start = time.monotonic()
        try:
            r = GW.get("fi", path, timeout=ANSWER_WITHIN)
        except (OSError, http.client.HTTPException) as e:  # timeouts included
            self.fail("GET %s: no HTTP answer within %ds with PostgreSQL down (%r)"
                      % (path, ANSWER_WITHIN, e))
        return r, time.monotonic() - start

    def assertUnavailable(self, path):
        r, elapsed = self.timed_get(path)
        self.assertOutcome(r, 503)
        self.assertLess(elapsed, ANSWER_WITHIN)
        self.assertNotIn(HETU.encode(), r.body)
        return r

    def poll_admin(self, path, status, within):
        deadline = time.monotonic() + within
        last = None
        while time.monotonic() < deadline:
            try:
                last = GW.admin_get(path, timeout=2)[0]
            except (OSError, http.client.HTTPException) as e:
                last = repr(e)
            if last == status:
                return
            time.sleep(0.2)
        self.fail("GET %s: %r, not %d, within %ds" % (path, last, status, within))

    def test_1_baseline_ok(self):
        db_up()
        self.assertOk(GW.get("fi", "/fhir/Patient/" + PID), "Patient")
        self.poll_admin("/readyz", 200, RECOVER_WITHIN)

    def test_2_patient_read_503_when_db_down(self):
        db_down()
        self.assertUnavailable("/fhir/Patient/" + PID)

    def test_3_summary_503_when_db_down(self):
        db_down()
        self.assertUnavailable("/fhir/Patient/%s/$summary" % PID)

    def test_4_search_503_when_db_down(self):
        db_down()
        self.assertUnavailable("/fhir/Condition?patient=" + PID)

    def test_5_readyz_503_when_db_down(self):
        db_down()
        self.poll_admin("/readyz", 503, ANSWER_WITHIN)

    def test_6_healthz_200_when_db_down(self):
        db_down()
        status, _, _ = GW.admin_get("/healthz")
        self.assertEqual(status, 200)

    def test_7_recovers_when_db_back(self):
        db_down()
        db_up()
        deadline = time.monotonic() + RECOVER_WITHIN
        statuses = []
        while True:
            try:
                r = GW.get("fi", "/fhir/Patient/" + PID, timeout=5)
                statuses.append(r.status)
                if r.status == 200:
                    break
                self.assertOutcome(r, 503)  # until then: refused, never wrong
            except (OSError, http.client.HTTPException) as e:
                statuses.append(repr(e))
            if time.monotonic() > deadline:
                self.fail("no 200 within %ds of PostgreSQL restarting: %s"
                          % (RECOVER_WITHIN, statuses[-10:]))
            time.sleep(0.3)
        self.assertOk(r, "Patient")
        # That answer came from one worker; each reconnects its own pool and
        # audit connection, on its own back-off.  Once /readyz says all are
        # back, every request is served.
        self.poll_admin("/readyz", 200, RECOVER_WITHIN)
        for _ in range(4):  # new connections: both workers
            self.assertOk(GW.get("fi", "/fhir/Patient/%s/$summary" % PID), "Bundle")


if __name__ == "__main__":
    unittest.main()
