"""FHIR Consent management (role consent-admin) and its effect on the
decision point: create, read, search, replace, revoke; strict validation
with nothing stored on refusal; history kept; exclusions of sensitive
categories from read, search pages and $summary."""

import json
import unittest

import harness
from harness import FI_HETU_SYSTEM, GatewayTestCase, Pki, q

SERVERS = CLUSTER = GW = None
FHIR_JSON = {"Content-Type": "application/fhir+json"}


def setUpModule():
    global SERVERS, CLUSTER, GW
    SERVERS = harness.ModuleServers()
    CLUSTER = SERVERS.cluster
    with SERVERS.starting():
        GW = SERVERS.gateway(Pki.get(), patients=30)
        GW.start()


def tearDownModule():
    SERVERS.stop()


def patient(index):
    """(hetu, logical id) of the seeded patient with this 0-based index."""
    return harness.patients(CLUSTER)[index]


def consent(hetu=None, ref=None, decision="deny", purposes=(), countries=(),
            exclude=(), period=None, scope="patient-privacy", override=None):
    prov = {"type": decision}
    if period:
        prov["period"] = period
    if purposes:
        prov["purpose"] = [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason",
                            "code": p} for p in purposes]
    if countries:
        prov["actor"] = [{
            "role": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                 "v3-ParticipationType", "code": "IRCP"}]},
            "reference": {"identifier": {"system": "urn:iso:std:iso:3166", "value": c}}}
            for c in countries]
    if exclude:
        prov["provision"] = [{"type": "deny", "securityLabel": [
            {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": l}
            for l in exclude]}]
    c = {"resourceType": "Consent", "status": "active",
         "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope",
                               "code": scope}]},
         "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
         "patient": ({"reference": "Patient/" + ref} if ref else
                     {"identifier": {"system": FI_HETU_SYSTEM, "value": hetu}}),
         "provision": prov}
    if override is not None:
        c["extension"] = [{"url": "urn:fhirgw:consent:emergency-override",
                           "valueBoolean": override}]
    return c


def rule_rows():
    return int(CLUSTER.psql("select count(*) from gw.consent_rule").strip())


class ConsentApi(GatewayTestCase):
    def post(self, body, node="admin", headers=FHIR_JSON):
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        return GW.request(node, "POST", "/fhir/Consent", body=data, headers=headers,
                          purpose=None)

    def test_create_read_search_replace_revoke(self):
        hetu, pid = patient(5)
        self.assertOk(GW.get("fi", "/fhir/Patient/" + pid), "Patient")

        r = self.post(consent(hetu=hetu))
        self.assertEqual(r.status, 201, self.describe(r))
        cid = r.json["id"]
        self.assertTrue(r.headers["location"].endswith("/Consent/" + cid))
        self.assertEqual(r.json["status"], "active")
        self.assertEqual(r.json["provision"]["type"], "deny")
        harness.validate_r4(r.json)
        # Effective for the very next request.
        self.assertOutcome(GW.get("fi", "/fhir/Patient/" + pid), 403, "forbidden")

        got = GW.request("admin", "GET", "/fhir/Consent/" + cid, purpose=None)
        self.assertOk(got, "Consent")
        self.assertEqual(got.json["patient"]["identifier"]["value"], hetu)

        found = GW.request("admin", "GET", "/fhir/Consent?patient=" + pid, purpose=None)
        self.assertOk(found, "Bundle")
        self.assertEqual([e["resource"]["id"] for e in found.json["entry"]], [cid])
        harness.validate_r4(found.json)

        # Replace with a permit for SE only: SE reads, NO falls back to the
        # default (permit for FI patients' treatment).
        new = consent(hetu=hetu, decision="deny", countries=["NO"])
        new["id"] = cid
        r = GW.request("admin", "PUT", "/fhir/Consent/" + cid, body=json.dumps(new),
                       headers=FHIR_JSON, purpose=None)
        self.assertOk(r, "Consent")
        self.assertEqual(r.json["id"], cid)
        self.assertOk(GW.get("fi", "/fhir/Patient/" + pid), "Patient")
        self.assertOutcome(GW.get("no", "/fhir/Patient/" + pid), 403, "forbidden")
        # History: the first version is revoked, not gone.
        self.assertEqual(CLUSTER.psql(
            "select count(*), count(revoked_at) from gw.consent_rule where "
            "source_consent_id = '%s'" % cid).strip(), "2|1")

        r = GW.request("admin", "DELETE", "/fhir/Consent/" + cid, purpose=None)
        self.assertEqual(r.status, 204, self.describe(r))
        self.assertOk(GW.get("no", "/fhir/Patient/" + pid), "Patient")
        got = GW.request("admin", "GET", "/fhir/Consent/" + cid, purpose=None)
        self.assertEqual(got.json["status"], "inactive")
        # Revoking again is fine; an unknown id is not.
        self.assertEqual(GW.request("admin", "DELETE", "/fhir/Consent/" + cid,
                                    purpose=None).status, 204)
        self.assertOutcome(GW.request("admin", "DELETE", "/fhir/Consent/nope-123",
                                      purpose=None), 404)

    def test_by_reference(self):
        hetu, pid = patient(6)
        r = self.post(consent(ref=pid))
        self.assertEqual(r.status, 201, self.describe(r))
        self.assertEqual(r.json["patient"]["identifier"]["value"], hetu)
        self.assertOutcome(GW.get("fi", "/fhir/Patient/" + pid), 403, "forbidden")

    def test_exclusion_hides_category_everywhere(self):
        hetu, pid = patient(1)  # the seed gives patient 1 a depression (F32.9)
        before = GW.get("fi", "/fhir/Condition?patient=%s&_count=100" % pid)
        self.assertOk(before, "Bundle")
        psy = [e["resource"] for e in before.json.get("entry", [])
               if e["resource"]["code"]["coding"][0]["code"].startswith("F3")]
        self.assertTrue(psy, "patient 1 should have a depression diagnosis")
        psy_id = psy[0]["id"]

        r = self.post(consent(hetu=hetu, decision="permit", exclude=["PSY"]))
        self.assertEqual(r.status, 201, self.describe(r))

        after = GW.get("fi", "/fhir/Condition?patient=%s&_count=100" % pid)
        self.assertOk(after, "Bundle")
        ids = [e["resource"]["id"] for e in after.json.get("entry", [])]
        self.assertNotIn(psy_id, ids)
        self.assertNotIn("total", after.json)  # would reveal what was removed
        # Every page, one by one.
        seen, path = [], "/fhir/Condition?patient=%s&_count=1" % pid
        while path:
            page = GW.get("fi", path)
            self.assertOk(page, "Bundle")
            seen += [e["resource"]["id"] for e in page.json.get("entry", [])]
            nxt = [l["url"] for l in page.json.get("link", []) if l["relation"] == "next"]
            path = GW.path_of(nxt[0]) if nxt else None
        self.assertNotIn(psy_id, seen)
        self.assertEqual(sorted(seen), sorted(ids))
        # A direct read answers as if absent.
        self.assertOutcome(GW.get("fi", "/fhir/Condition/" + psy_id), 404)
        summary = GW.get("fi", "/fhir/Patient/%s/$summary" % pid)
        self.assertOk(summary, "Bundle")
        ids = {e["resource"]["id"] for e in summary.json["entry"]}
        self.assertIn(pid, ids)
        self.assertNotIn(psy_id, ids)
        text = json.dumps(summary.json)
        self.assertNotIn('"Condition/%s"' % psy_id, text)
        self.assertNotIn('"F32', text)

    def test_refusals_store_nothing(self):
        hetu, _ = patient(7)
        good = consent(hetu=hetu)
        before = rule_rows()
        cases = []
        c = dict(good, foo=1)
        cases.append((c, 400, "unknown element"))
        c = json.loads(json.dumps(good))
        c["provision"]["type"] = 5
        cases.append((c, 400, "wrong type"))
        c = json.loads(json.dumps(good))
        c["provision"]["period"] = {"start": "2025-02-30"}
        cases.append((c, 400, "impossible date"))
        c = json.loads(json.dumps(good))
        c["provision"]["period"] = {"start": "2025-01-01T10:00:00"}
        cases.append((c, 400, "time without zone"))
        c = dict(good, status="draft")
        cases.append((c, 422, "status other than active"))
        c = consent(hetu=hetu, decision="deny", exclude=["PSY"])
        cases.append((c, 422, "nested provision under a deny"))
        c = consent(hetu=hetu, exclude=["XYZ"], decision="permit")
        cases.append((c, 422, "unknown security label"))
        c = json.loads(json.dumps(good))
        c["provision"]["purpose"] = [{"system": "http://terminology.hl7.org/CodeSystem/"
                                      "v3-ActReason", "code": "COVERAGE"}]
        cases.append((c, 422, "unsupported purpose"))
        c = consent(hetu=hetu[:-1] + ("A" if hetu[-1] != "A" else "B"))
        cases.append((c, 422, "bad check character"))
        c = dict(good, id="client-chosen")
        cases.append((c, 400, "id on create"))
        for body, status, why in cases:
            with self.subTest(why=why):
                self.assertOutcome(self.post(body), status)
        dup = json.dumps(good)[:-1] + ', "status": "active"}'
        self.assertOutcome(self.post(dup), 400)
        self.assertOutcome(self.post("not json"), 400)
        self.assertOutcome(self.post(json.dumps(good), headers={
            "Content-Type": "application/fhir+xml"}), 415)
        self.assertEqual(rule_rows(), before, "a refused Consent left rows behind")

    def test_role_required(self):
        hetu, _ = patient(8)
        self.assertOutcome(self.post(consent(hetu=hetu), node="fi"), 403, "forbidden")
        self.assertOutcome(GW.request("fi", "GET", "/fhir/Consent/x", purpose=None),
                           403, "forbidden")

    def test_put_unknown_is_404(self):
        hetu, _ = patient(9)
        c = consent(hetu=hetu)
        r = GW.request("admin", "PUT", "/fhir/Consent/does-not-exist", body=json.dumps(c),
                       headers=FHIR_JSON, purpose=None)
        self.assertOutcome(r, 404)


if __name__ == "__main__":
    unittest.main()
