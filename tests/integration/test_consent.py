"""Consent decisions (DESIGN.md section 5, docs/api.md 403).

Rules are written with psql as committed changes to gw.consent_rule, and
the very next request must see them ("a rule change is effective for the
next request"): no sleeps, no cache knowledge (but in TestCacheNotify,
whose subject is the cache).  Every test uses patients no
other test touches, so rules never leak between tests.  Denials are 403
OperationOutcomes whose diagnostics name the deciding rule.
"""

import re
import time
import unittest

import harness
from harness import FI_HETU_SYSTEM, GatewayTestCase, Pki, q, sql_literal, sql_text_array

SERVERS = CLUSTER = GW = None
_free = []  # (hetu, logical id) not yet used by any test


def setUpModule():
    global SERVERS, CLUSTER, GW
    SERVERS = harness.ModuleServers()
    CLUSTER = SERVERS.cluster
    with SERVERS.starting():
        GW = SERVERS.gateway(Pki.get(), patients=50)
        GW.start()
        _free.extend(harness.patients(CLUSTER))
        if len(_free) < 20:
            raise harness.HarnessError("seed left only %d patients" % len(_free))


def tearDownModule():
    SERVERS.stop()


def take_patient(with_table=None):
    """A patient no test has used; with_table: one with rows in that
    registry table."""
    if with_table:
        ids = {r[0] for r in CLUSTER.rows(
            "select h.hetu from fi_rekisteri.henkilo h where exists (select 1 from "
            "fi_rekisteri.%s t where t.henkilo_id = h.id)" % with_table)}
        for i, (hetu, pid) in enumerate(_free):
            if hetu in ids:
                return _free.pop(i)
        raise harness.HarnessError("no unused patient with %s rows" % with_table)
    return _free.pop()


def add_rule(hetu, decision="deny", purposes=(), recipients=(), valid_from="NULL",
             valid_to="NULL", emergency_override=False, revoked_at="NULL"):
    """Insert a consent rule (committed) and return its id.  valid_from,
    valid_to and revoked_at are SQL expressions."""
    out = CLUSTER.psql(
        "insert into gw.consent_rule (patient_system, patient_id, decision, purposes, "
        "recipient_countries, valid_from, valid_to, emergency_override, revoked_at) "
        "values (%s, %s, %s, %s, %s, %s, %s, %s, %s) returning id"
        % (sql_literal(FI_HETU_SYSTEM), sql_literal(hetu), sql_literal(decision),
           sql_text_array(purposes), sql_text_array(recipients), valid_from, valid_to,
           "true" if emergency_override else "false", revoked_at))
    return int(out.strip())


EMERGENCY = {"X-Emergency-Reason": "unconscious on arrival, no relatives reachable"}


class ConsentCase(GatewayTestCase):
    def assertDenied(self, resp, rule, hetu=None):
        """403 OperationOutcome naming `rule` (e.g. consent_rule/12) as a
        whole token, and no patient data."""
        oo = self.assertOutcome(resp, 403)
        diags = " ".join(i.get("diagnostics") or "" for i in oo.get("issue") or [])
        self.assertTrue(re.search(re.escape(rule) + r"(?![0-9A-Za-z])", diags),
                        "diagnostics do not name %s: %s" % (rule, self.describe(resp)))
        if hetu:
            self.assertNotIn(hetu.encode(), resp.body)

    def read_patient(self, pid, node="fi", purpose="TREAT", headers=None):
        return GW.get(node, "/fhir/Patient/" + pid, purpose=purpose, headers=headers)


class TestDenyRule(ConsentCase):
    """One patient with a deny rule (all purposes, all recipients): every
    path to their data is refused."""

    @classmethod
    def setUpClass(cls):
        cls.hetu, cls.pid = take_patient(with_table="diagnoosi")
        # Before the rule: permitted (and whatever the gateway caches is warm).
        r = GW.get("fi", "/fhir/Condition?patient=%s&_count=1" % cls.pid)
        if r.status != 200 or not (r.json or {}).get("entry"):
            raise AssertionError("before the deny rule, Condition search gave %s: %r"
                                 % (r.status, r.body[:500]))
        cls.condition_id = r.json["entry"][0]["resource"]["id"]
        r = GW.get("fi", "/fhir/Patient/" + cls.pid)
        if r.status != 200:
            raise AssertionError("before the deny rule, Patient read gave %s: %r"
                                 % (r.status, r.body[:500]))
        cls.rule = "consent_rule/%d" % add_rule(cls.hetu, "deny")

    def test_patient_read_denied(self):
        self.assertDenied(self.read_patient(self.pid), self.rule, self.hetu)

    def test_summary_denied(self):
        r = GW.get("fi", "/fhir/Patient/%s/$summary" % self.pid)
        self.assertDenied(r, self.rule, self.hetu)

    def test_condition_search_denied(self):
        r = GW.get("fi", "/fhir/Condition?patient=" + self.pid)
        self.assertDenied(r, self.rule, self.hetu)

    def test_condition_read_denied(self):
        r = GW.get("fi", "/fhir/Condition/" + self.condition_id)
        self.assertDenied(r, self.rule, self.hetu)

    def test_identifier_search_denied(self):
        r = GW.get("fi", "/fhir/Patient?identifier=" + q(FI_HETU_SYSTEM + "|" + self.hetu))
        self.assertDenied(r, self.rule)
        self.assertNotIn(self.pid.encode(), r.body)

    def test_denied_for_other_countries_too(self):
        self.assertDenied(self.read_patient(self.pid, node="no"), self.rule, self.hetu)


class TestRules(ConsentCase):
    def test_permitted_patient_ok(self):
        hetu, pid = take_patient()
        r = self.read_patient(pid)
        p = self.assertOk(r, "Patient")
        self.assertEqual(p.get("id"), pid)
        self.assertNotEqual(r.headers.get("x-break-glass", "").lower(), "true")

    def test_deny_for_research_only_keeps_treatment(self):
        hetu, pid = take_patient()
        add_rule(hetu, "deny", purposes=["HRESCH"])
        self.assertOk(self.read_patient(pid), "Patient")

    def test_deny_for_research_only_names_rule_for_research(self):
        hetu, pid = take_patient()
        rule = add_rule(hetu, "deny", purposes=["HRESCH"])
        self.assertDenied(self.read_patient(pid, purpose="HRESCH"),
                          "consent_rule/%d" % rule, hetu)

    def test_research_default_is_deny(self):
        hetu, pid = take_patient()
        self.assertDenied(self.read_patient(pid, purpose="HRESCH"),
                          "consent_default/FI/HRESCH", hetu)

    def test_public_health_default_is_deny(self):
        hetu, pid = take_patient()
        self.assertDenied(self.read_patient(pid, purpose="PUBHLTH"),
                          "consent_default/FI/PUBHLTH", hetu)

    def test_expired_rule_ignored(self):
        hetu, pid = take_patient()
        add_rule(hetu, "deny", valid_from="now() - interval '10 days'",
                 valid_to="now() - interval '1 day'")
        self.assertOk(self.read_patient(pid), "Patient")

    def test_future_rule_ignored(self):
        hetu, pid = take_patient()
        add_rule(hetu, "deny", valid_from="now() + interval '1 day'")
        self.assertOk(self.read_patient(pid), "Patient")

    def test_rule_within_validity_applies(self):
        hetu, pid = take_patient()
        rule = add_rule(hetu, "deny", valid_from="now() - interval '1 day'",
                        valid_to="now() + interval '1 day'")
        self.assertDenied(self.read_patient(pid), "consent_rule/%d" % rule, hetu)

    def test_revoked_rule_ignored(self):
        hetu, pid = take_patient()
        add_rule(hetu, "deny", revoked_at="now() - interval '1 minute'")
        self.assertOk(self.read_patient(pid), "Patient")

    def test_revoking_rule_takes_effect_on_next_request(self):
        hetu, pid = take_patient()
        rule = add_rule(hetu, "deny")
        self.assertDenied(self.read_patient(pid), "consent_rule/%d" % rule, hetu)
        CLUSTER.psql("update gw.consent_rule set revoked_at = now() where id = %d" % rule)
        self.assertOk(self.read_patient(pid), "Patient")

    def test_deny_for_recipient_no_refuses_no_node(self):
        hetu, pid = take_patient()
        rule = add_rule(hetu, "deny", recipients=["NO"])
        self.assertDenied(self.read_patient(pid, node="no"), "consent_rule/%d" % rule, hetu)

    def test_deny_for_recipient_no_keeps_fi_node(self):
        hetu, pid = take_patient()
        add_rule(hetu, "deny", recipients=["NO"])
        self.assertOk(self.read_patient(pid, node="fi"), "Patient")

    def test_emergency_overrides_deny_that_allows_it(self):
        hetu, pid = take_patient()
        add_rule(hetu, "deny", emergency_override=True)
        r = self.read_patient(pid, purpose="ETREAT", headers=EMERGENCY)
        self.assertOk(r, "Patient")
        self.assertEqual(r.headers.get("x-break-glass", "").lower(), "true",
                         "no X-Break-Glass: true on a break-glass answer: %r" % r.headers)

    def test_treatment_still_denied_by_overridable_rule(self):
        hetu, pid = take_patient()
        rule = add_rule(hetu, "deny", emergency_override=True)
        self.assertDenied(self.read_patient(pid), "consent_rule/%d" % rule, hetu)

    def test_emergency_cannot_override_deny_without_override(self):
        hetu, pid = take_patient()
        rule = add_rule(hetu, "deny", emergency_override=False)
        r = self.read_patient(pid, purpose="ETREAT", headers=EMERGENCY)
        self.assertDenied(r, "consent_rule/%d" % rule, hetu)
        self.assertNotEqual(r.headers.get("x-break-glass", "").lower(), "true")


class TestCacheNotify(ConsentCase):
    """The consent triggers' NOTIFY reaches the worker that holds a patient's
    cached decision from its event loop, in the turn it arrives, and drops
    the entry: the next request on the same connection (so the same worker)
    asks the database again.  Exactness never depends on it (the generation
    does that); this is the cache letting go of what changed."""

    def cache_counts(self):
        status, _, body = GW.admin_get("/metrics")
        self.assertEqual(status, 200)
        counts = {}
        for line in body.decode().splitlines():
            for name in ("hits", "misses"):
                if line.startswith("fhirgw_consent_cache_%s_total " % name):
                    counts[name] = int(line.split()[1])
        return counts["hits"], counts["misses"]

    def test_notify_drops_the_cached_decision(self):
        hetu, pid = take_patient()
        path = "/fhir/Patient/" + pid
        with GW.client("fi") as c:
            self.assertOk(c.get(path), "Patient")
            hits, misses = self.cache_counts()
            self.assertOk(c.get(path), "Patient")
            self.assertEqual(self.cache_counts(), (hits + 1, misses),
                             "the second read was not answered from the cache")
            hits += 1
            # A NOTIFY alone, as the rule trigger sends it: no rule and no
            # generation change, so only the notification can cause a miss.
            CLUSTER.psql("select pg_notify('gw_consent', %s)"
                         % sql_literal(FI_HETU_SYSTEM + "|" + hetu))
            deadline = time.monotonic() + 5
            while True:
                self.assertOk(c.get(path), "Patient")
                now = self.cache_counts()
                if now[1] > misses or time.monotonic() > deadline:
                    break
                hits = now[0]
                time.sleep(0.05)
            self.assertEqual(now, (hits, misses + 1),
                             "the NOTIFY did not drop the cached decision")


if __name__ == "__main__":
    unittest.main()
