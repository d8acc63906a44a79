"""Registry reads on a streaming replica (DESIGN.md section 8;
docs/operations.md, "A read replica").

One primary, one hot standby made from it with pg_basebackup, one gateway
with database.replica_conninfo.  Where a read was answered is told by what
it returns: the standby's replay is paused, the primary's registry row is
changed, and a read that still shows the old value came from the standby.

The tests run in name order (test_1_..., test_5_...) and each first puts the
standby in the state it needs.
"""

import json
import re
import time
import unittest

import harness
from harness import FI_HETU_SYSTEM, GatewayTestCase, Pki, sql_literal

SERVERS = CLUSTER = STANDBY = GW = None
GW_WORKERS = 2
PATIENTS = []
NODES = {"fi": ("FI", "treatment"), "research": ("SE", "research")}
PREFER = {"Prefer": "respond-async", "Accept": "application/fhir+json"}
MAX_LAG_MS = 3000  # a test between pausing the standby and reading is far shorter


def setUpModule():
    global SERVERS, CLUSTER, STANDBY, GW, PATIENTS
    SERVERS = harness.ModuleServers()
    CLUSTER = SERVERS.cluster
    with SERVERS.starting():
        # Provisioned (migrated, seeded) on the primary first; the standby
        # is a copy of that, then the gateway serves over both.
        GW = SERVERS.gateway(Pki.get(), patients=8, nodes=NODES, workers=GW_WORKERS)
        GW.start()
        GW.stop()
        STANDBY = SERVERS.standby()
        GW.replica = STANDBY
        GW.replica_options = {"replica_max_lag_ms": MAX_LAG_MS}
        GW.start()
        PATIENTS = harness.patients(CLUSTER)


def tearDownModule():
    SERVERS.stop()


def metric(name):
    status, _, body = GW.admin_get("/metrics")
    assert status == 200, status
    m = re.search(r"^%s (\d+)$" % re.escape(name), body.decode(), re.M)
    assert m, "%s not in /metrics" % name
    return int(m.group(1))


def set_family(hetu, family):
    CLUSTER.psql("update fi_rekisteri.henkilo set sukunimi = %s, muutettu = now()"
                 " where hetu = %s" % (sql_literal(family), sql_literal(hetu)))


def set_gender(hetu, code):
    CLUSTER.psql("update fi_rekisteri.henkilo set sukupuoli = %s, muutettu = now()"
                 " where hetu = %s" % (sql_literal(code), sql_literal(hetu)))


def set_condition_text(hetu, text):
    CLUSTER.psql("update fi_rekisteri.diagnoosi set nimi_fi = %s where henkilo_id ="
                 " (select id from fi_rekisteri.henkilo where hetu = %s)"
                 % (sql_literal(text), sql_literal(hetu)))


def summary_families(resp):
    return [e["resource"]["name"][0]["family"] for e in resp.json["entry"]
            if e["resource"]["resourceType"] == "Patient"]


def condition_texts(resp):
    return {e["resource"]["code"]["text"] for e in resp.json.get("entry", [])}


def family_of(resp):
    return resp.json["name"][0]["family"]


def wait_replica_connected(within=30, fresh=GW_WORKERS):
    """Until `fresh` workers read from the replica (connected, within the
    lag bound)."""
    deadline = time.monotonic() + within
    while metric("fhirgw_replica_fresh") != fresh:
        if time.monotonic() > deadline:
            raise AssertionError("fhirgw_replica_fresh not %d within %ss"
                                 % (fresh, within))
        time.sleep(0.1)


class TestReplica(GatewayTestCase):
    def setUp(self):
        if not STANDBY.running:
            STANDBY.start()
        STANDBY.resume_replay()
        STANDBY.catch_up()

    def test_1_summary_and_search_come_from_the_replica(self):
        hetu, pid = PATIENTS[0]
        wait_replica_connected()
        set_family(hetu, "Ennen")
        set_condition_text(hetu, "Ennen")
        STANDBY.catch_up()
        reads = metric("fhirgw_replica_reads_total")
        STANDBY.pause_replay()
        set_family(hetu, "Jalkeen")
        set_condition_text(hetu, "Jalkeen")
        r = GW.get("fi", "/fhir/Patient/%s/$summary" % pid)
        self.assertOk(r, "Bundle")
        self.assertEqual(summary_families(r), ["Ennen"],
                         "the $summary did not come from the (paused) replica")
        r = GW.get("fi", "/fhir/Condition?patient=" + pid)
        self.assertEqual(r.status, 200, self.describe(r))
        self.assertEqual(condition_texts(r), {"Ennen"})
        self.assertEqual(metric("fhirgw_replica_reads_total"), reads + 2)
        # A single-row read stays on the primary (registry_read.h).
        self.assertEqual(family_of(GW.get("fi", "/fhir/Patient/" + pid)), "Jalkeen")
        STANDBY.resume_replay()
        STANDBY.catch_up()
        r = GW.get("fi", "/fhir/Patient/%s/$summary" % pid)
        self.assertEqual(summary_families(r), ["Jalkeen"])
        self.assertEqual(condition_texts(GW.get("fi", "/fhir/Condition?patient=" + pid)),
                         {"Jalkeen"})

    def test_2_consent_is_the_primarys_while_the_replica_lags(self):
        """A deny committed on the primary holds at once, although the
        replica, paused, still has the generation the cached permit was
        made at (registry_read.h).  The rule goes in without its NOTIFY
        (as when another instance's notification is still on its way), so
        only the generation can tell the workers their cache is stale."""
        hetu, pid = PATIENTS[1]
        wait_replica_connected()
        path = "/fhir/Patient/%s/$summary" % pid
        for _ in range(2 * GW.workers):   # a permit, cached on every worker
            self.assertOk(GW.get("fi", path), "Bundle")
        STANDBY.pause_replay()
        rule = int(CLUSTER.psql(
            "begin;"
            " alter table gw.consent_rule disable trigger consent_rule_notify;"
            " insert into gw.consent_rule (patient_system, patient_id, decision,"
            " purposes) values (%s, %s, 'deny', '{}') returning id;"
            " alter table gw.consent_rule enable trigger consent_rule_notify;"
            " commit;" % (sql_literal(FI_HETU_SYSTEM), sql_literal(hetu))).strip())
        try:
            for p in (path, path, "/fhir/Patient/" + pid,
                      "/fhir/Condition?patient=" + pid):
                r = GW.get("fi", p)
                oo = self.assertOutcome(r, 403)
                self.assertIn("consent_rule/%d" % rule, str(oo))
                self.assertNotIn(hetu.encode(), r.body)
        finally:
            CLUSTER.psql("update gw.consent_rule set revoked_at = now() where id = %d" % rule)
        self.assertOk(GW.get("fi", path), "Bundle")

    def test_3_audit_records_go_to_the_primary(self):
        _, pid = PATIENTS[2]
        before = int(CLUSTER.psql("select count(*) from gw.audit").strip())
        STANDBY.pause_replay()
        self.assertOk(GW.get("fi", "/fhir/Patient/%s/$summary" % pid), "Bundle")
        self.assertEqual(int(CLUSTER.psql("select count(*) from gw.audit").strip()),
                         before + 1)

    def test_4_replica_down_reads_from_the_primary(self):
        hetu, pid = PATIENTS[3]
        wait_replica_connected()
        STANDBY.stop()
        set_family(hetu, "Ensisijainen")
        fallbacks = metric("fhirgw_replica_fallbacks_total")
        for _ in range(3):
            r = GW.get("fi", "/fhir/Patient/%s/$summary" % pid)
            self.assertOk(r, "Bundle")
            self.assertEqual(summary_families(r), ["Ensisijainen"])
        r = GW.get("fi", "/fhir/Condition?patient=" + pid)
        self.assertEqual(r.status, 200, self.describe(r))
        self.assertEqual(metric("fhirgw_replica_fallbacks_total"), fallbacks + 4)
        self.assertEqual(GW.admin_get("/readyz")[0], 200)
        # Back: the pools reconnect and reads return to the replica.
        STANDBY.start()
        STANDBY.catch_up()
        wait_replica_connected(within=60)
        reads = metric("fhirgw_replica_reads_total")
        self.assertOk(GW.get("fi", "/fhir/Patient/%s/$summary" % pid), "Bundle")
        self.assertEqual(metric("fhirgw_replica_reads_total"), reads + 1)

    def test_5_export_reads_the_replica_once_caught_up(self):
        """A job waits for the replica to replay what the primary had
        committed when it started; a replica that stays behind is not
        read (its rows would break the promise of transactionTime)."""
        hetu, _ = PATIENTS[4]
        GW.cli("permit-add", "-c", "{config}", "--id", "P-replica", "--node", "research",
               "--types", "Patient", "--members", "%s|%s" % (FI_HETU_SYSTEM, hetu))
        # Pseudonymised output keeps the gender: that is the marker.
        set_gender(hetu, "1")
        STANDBY.catch_up()
        mark = GW.log_mark()
        self.assertEqual(self.exported_genders(), ["male"])
        self.assertEqual(STANDBY.psql(
            "select count(*) from pg_stat_activity where application_name ="
            " 'fhirgw export replica'", db="postgres").strip(), "1")
        self.assertNotIn("reads from the primary", GW.log_since(mark, 100000))
        # Paused: the runner waits for it, then reads the primary.
        STANDBY.pause_replay()
        set_gender(hetu, "2")
        started = time.monotonic()
        self.assertEqual(self.exported_genders(), ["female"])
        self.assertGreaterEqual(time.monotonic() - started, 9)
        self.assertIn("this job reads from the primary", GW.log_since(mark, 100000))

    def exported_genders(self):
        return [json.loads(line)["gender"] for line in self.export().splitlines()]

    def test_6_a_replica_behind_is_not_read(self):
        """database.replica_max_lag_ms: once the replica misses a change
        older than that, reads go to the primary until it catches up."""
        hetu, pid = PATIENTS[5]
        path = "/fhir/Patient/%s/$summary" % pid
        set_family(hetu, "Tuore")
        STANDBY.catch_up()
        wait_replica_connected()
        STANDBY.pause_replay()
        paused = time.monotonic()
        set_family(hetu, "Tuoreempi")
        self.assertEqual(summary_families(GW.get("fi", path)), ["Tuore"])
        self.assertLess(time.monotonic() - paused, MAX_LAG_MS / 1000.0,
                        "too slow to see the replica answer within the bound")
        mark = GW.log_mark()
        wait_replica_connected(within=MAX_LAG_MS / 1000.0 + 5, fresh=0)
        self.assertGreaterEqual(time.monotonic() - paused, MAX_LAG_MS / 1000.0 - 0.3)
        fallbacks = metric("fhirgw_replica_fallbacks_total")
        self.assertEqual(summary_families(GW.get("fi", path)), ["Tuoreempi"])
        self.assertEqual(metric("fhirgw_replica_fallbacks_total"), fallbacks + 1)
        self.assertIn("reading from the primary", GW.log_since(mark, 100000))
        STANDBY.resume_replay()
        wait_replica_connected(within=MAX_LAG_MS / 1000.0 + 5)
        reads = metric("fhirgw_replica_reads_total")
        self.assertEqual(summary_families(GW.get("fi", path)), ["Tuoreempi"])
        self.assertEqual(metric("fhirgw_replica_reads_total"), reads + 1)

    def export(self):
        r = GW.get("research", "/fhir/Group/P-replica/$export?_type=Patient",
                   headers=PREFER, purpose=None)
        self.assertEqual(r.status, 202, self.describe(r))
        status = GW.path_of(r.headers["content-location"])
        deadline = time.monotonic() + 60
        while True:
            r = GW.get("research", status, purpose=None)
            if r.status != 202:
                break
            self.assertLess(time.monotonic(), deadline, "export not done")
            time.sleep(0.2)
        self.assertEqual(r.status, 200, self.describe(r))
        text = ""
        for out in r.json["output"]:
            f = GW.get("research", GW.path_of(out["url"]), purpose=None,
                       headers={"Accept": "application/fhir+ndjson"})
            self.assertEqual(f.status, 200)
            text += f.body.decode()
        return text


if __name__ == "__main__":
    unittest.main()
