"""The decision matrix of issue #4 through the real gateway: rule states x
purposes (TREAT, ETREAT, HRESCH) x requesting countries (FI, NO, SE) x
(read, search, page 2, $summary).  The expected answer of every cell comes
from an oracle written from DESIGN.md section 5, not from the gateway.

Then: a revocation seen by two gateway instances on one database, and a
database restart after which cached decisions are not trusted."""

import json
import time
import unittest

import harness
from harness import FI_HETU_SYSTEM, GatewayTestCase, Pki, sql_literal, sql_text_array

SERVERS = CLUSTER = GW = None
EMERGENCY = {"X-Emergency-Reason": "unconscious, anaphylaxis suspected"}

# state -> SQL values for one rule (None: no rule at all)
STATES = {
    "none": None,
    "permit": dict(decision="permit"),
    "deny": dict(decision="deny"),
    "deny-override": dict(decision="deny", emergency_override=True),
    "expired-deny": dict(decision="deny", valid_to="now() - interval '1 day'"),
    "revoked-deny": dict(decision="deny", revoked_at="now()"),
    "deny-to-NO": dict(decision="deny", recipients=["NO"]),
    "permit-excl-psy": dict(decision="permit", excluded=["mental-health"]),
}
PURPOSES = ["TREAT", "ETREAT", "HRESCH"]
NODES = {"fi": "FI", "no": "NO", "se": "SE"}


def oracle(state, purpose, country):
    """(permitted, deciding rule kind, break-glass) per DESIGN.md section 5
    and the Finnish national defaults of migration 001 (treatment permitted
    by default, research denied)."""
    default = ("default", purpose != "HRESCH", False)
    rule = STATES[state]
    if rule is None or state in ("expired-deny", "revoked-deny"):
        return default
    if purpose == "HRESCH":
        return default  # a treatment-scope rule does not speak for research
    if rule.get("recipients") and country not in rule["recipients"]:
        return default
    if rule["decision"] == "permit":
        return ("rule", True, False)
    if purpose == "ETREAT" and rule.get("emergency_override"):
        return ("rule", True, True)
    return ("rule", False, False)


def setUpModule():
    global SERVERS, CLUSTER, GW
    SERVERS = harness.ModuleServers()
    CLUSTER = SERVERS.cluster
    with SERVERS.starting():
        GW = SERVERS.gateway(Pki.get(), patients=40)
        GW.start()


def tearDownModule():
    SERVERS.stop()


def add_rule(hetu, decision, recipients=(), excluded=(), valid_to="NULL",
             emergency_override=False, revoked_at="NULL"):
    return int(CLUSTER.psql(
        "insert into gw.consent_rule (patient_system, patient_id, decision, "
        "recipient_countries, excluded_categories, valid_to, emergency_override, "
        "revoked_at) values (%s, %s, %s, %s, %s, %s, %s, %s) returning id"
        % (sql_literal(FI_HETU_SYSTEM), sql_literal(hetu), sql_literal(decision),
           sql_text_array(recipients), sql_text_array(excluded), valid_to,
           "true" if emergency_override else "false", revoked_at)).strip())


def patients_with_conditions(n_min):
    rows = CLUSTER.rows(
        "select h.hetu, 'fi-' || h.fhir_tunniste from fi_rekisteri.henkilo h "
        "where (select count(*) from fi_rekisteri.diagnoosi d where d.henkilo_id = h.id)"
        " >= %d order by h.id" % n_min)
    return [tuple(r) for r in rows]


def psy_condition_ids(hetu):
    return {"fi-%s" % r[0] for r in CLUSTER.rows(
        "select d.id from fi_rekisteri.diagnoosi d join fi_rekisteri.henkilo h on "
        "h.id = d.henkilo_id where h.hetu = %s and d.icd10 like 'F%%' and d.icd10 "
        "not between 'F10' and 'F19.99'" % sql_literal(hetu))}


class Matrix(GatewayTestCase):
    def test_decision_matrix(self):
        candidates = patients_with_conditions(2)
        hetu_psy, pid_psy = harness.patients(CLUSTER)[1]  # depression, by seed
        assigned = {"permit-excl-psy": (hetu_psy, pid_psy)}
        pool = [p for p in candidates if p[0] != hetu_psy]
        for state in STATES:
            if state not in assigned:
                assigned[state] = pool.pop(0)
        rule_ids = {}
        for state, (hetu, _) in assigned.items():
            if STATES[state] is not None:
                rule_ids[state] = add_rule(hetu, **STATES[state])
        self.assertTrue(psy_condition_ids(hetu_psy), "seed patient 1 lost its F32")

        cells = 0
        clients = {n: GW.client(n) for n in NODES}
        try:
            for state, (hetu, pid) in assigned.items():
                hidden = psy_condition_ids(hetu) if state == "permit-excl-psy" else set()
                for purpose in PURPOSES:
                    headers = EMERGENCY if purpose == "ETREAT" else None
                    for node, country in NODES.items():
                        kind, permitted, glass = oracle(state, purpose, country)
                        paths = {
                            "read": "/fhir/Patient/" + pid,
                            "search": "/fhir/Condition?patient=%s&_count=1" % pid,
                            "page2": "/fhir/Condition?patient=%s&_count=1&_offset=1" % pid,
                            "summary": "/fhir/Patient/%s/$summary" % pid,
                        }
                        for op, path in paths.items():
                            with self.subTest(state=state, purpose=purpose, node=node, op=op):
                                r = clients[node].get(path, headers=headers, purpose=purpose)
                                cells += 1
                                self.check(r, kind, permitted, glass, hidden, state,
                                           rule_ids.get(state), purpose)
        finally:
            for c in clients.values():
                c.close()
        self.assertEqual(cells, len(STATES) * len(PURPOSES) * len(NODES) * 4)
        # Four operations per (patient, purpose, country): three come from
        # the cache.
        status, _, body = GW.admin_get("/metrics")
        self.assertEqual(status, 200)
        hits = [l for l in body.decode().splitlines()
                if l.startswith("fhirgw_consent_cache_hits_total ")]
        self.assertTrue(hits and int(hits[0].split()[1]) >= cells // 2,
                        "decision cache unused: %s" % hits)

    def check(self, r, kind, permitted, glass, hidden, state, rule_id, purpose):
        if not permitted:
            self.assertOutcome(r, 403, "forbidden")
            diag = r.json["issue"][0].get("diagnostics", "")
            want = ("consent_rule/%d" % rule_id if kind == "rule"
                    else "consent_default/FI/%s" % ("TREAT" if purpose == "ETREAT"
                                                    else purpose))
            self.assertIn(want, diag)
            self.assertNotIn("name", r.json["issue"][0])
            return
        self.assertEqual(r.status, 200, self.describe(r))
        self.assertEqual(r.headers.get("x-break-glass") == "true", glass,
                         "break-glass header for %s" % state)
        text = json.dumps(r.json)
        for cid in hidden:
            self.assertNotIn('"%s"' % cid, text, "excluded condition leaked")
        if hidden and r.json.get("type") == "searchset":
            self.assertNotIn("total", r.json)


class Instances(GatewayTestCase):
    def test_revocation_seen_by_a_second_instance(self):
        hetu, pid = harness.patients(CLUSTER)[20]
        path = "/fhir/Patient/" + pid
        self.assertOk(GW.get("fi", path), "Patient")  # warm the first cache
        second = harness.Gateway(CLUSTER, Pki.get(), provision=False, id_key=GW.id_key)
        try:
            second.start()
            self.assertOk(second.get("fi", path), "Patient")
            body = {"resourceType": "Consent", "status": "active",
                    "scope": {"coding": [{"system": "http://terminology.hl7.org/"
                                          "CodeSystem/consentscope",
                                          "code": "patient-privacy"}]},
                    "category": [{"text": "privacy"}],
                    "patient": {"reference": "Patient/" + pid},
                    "provision": {"type": "deny"}}
            r = GW.request("admin", "POST", "/fhir/Consent", body=json.dumps(body),
                           headers={"Content-Type": "application/fhir+json"},
                           purpose=None)
            self.assertEqual(r.status, 201, self.describe(r))
            for gw in (GW, second):
                for _ in range(3):  # every worker of each instance
                    self.assertOutcome(gw.get("fi", path), 403, "forbidden")
            r = second.request("admin", "DELETE", "/fhir/Consent/" + r.json["id"],
                               purpose=None)
            self.assertEqual(r.status, 204, self.describe(r))
            for gw in (GW, second):
                for _ in range(3):
                    self.assertOk(gw.get("fi", path), "Patient")
        finally:
            second.stop()
            second.cleanup()


class DatabaseRestart(GatewayTestCase):
    def test_decisions_after_restart_are_fresh(self):
        hetu, pid = harness.patients(CLUSTER)[21]
        path = "/fhir/Patient/" + pid
        self.assertOk(GW.get("fi", path), "Patient")  # cached permit
        CLUSTER.stop()
        try:
            self.assertOutcome(GW.get("fi", path, timeout=15), 503)
        finally:
            CLUSTER.start()
        # Written while the gateway may not yet be listening again: the
        # NOTIFY can be lost, so only a cache flush on reconnect saves us.
        rule = add_rule(hetu, "deny")
        deadline = time.time() + 20
        while True:
            r = GW.get("fi", path, timeout=15)
            if r.status != 503 or time.time() > deadline:
                break
            time.sleep(0.2)
        self.assertOutcome(r, 403, "forbidden")
        self.assertIn("consent_rule/%d" % rule, r.json["issue"][0]["diagnostics"])
        # One worker answering does not mean all are back: leave the
        # gateway as the next test expects it, every worker reconnected.
        deadline = time.time() + 20
        while GW.admin_get("/readyz")[0] != 200 and time.time() < deadline:
            time.sleep(0.1)
        self.assertEqual(GW.admin_get("/readyz")[0], 200)


if __name__ == "__main__":
    unittest.main()
