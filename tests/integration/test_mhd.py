"""Document access the IHE MHD way (issue #3, docs/api.md): Find Document
References [ITI-67], GET DocumentReference?patient=&type=http://loinc.org|60591-5,
lists the patient summary as one DocumentReference whose attachment URL is
the absolute URL of Patient/{id}/$summary; following it (Retrieve Document
[ITI-68]) gives the IPS document.

One gateway holds Finland, Norway and Sweden (20 synthetic patients each);
a second one holds Norway only and relays Finland to the first, for the
relay case.  Consent is decided exactly as for $summary, before the
filters apply; every request leaves one audit record.  Every resource and
Bundle that comes back is validated against the R4 JSON schema."""

import copy
import json
import unittest
import uuid

import harness
from harness import (FI_HETU_SYSTEM, GatewayTestCase, Pki, q, sql_literal,
                     validate_r4)

N = 20
LOINC = "http://loinc.org"
PS_TYPE = LOINC + "|60591-5"
PRIORITY = ("http://hl7.eu/fhir/health-data-api/CodeSystem/"
            "eehrxf-document-priority-category-cs")
FORMAT_SYSTEM = "http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode"
MHD_MINIMAL = ("https://profiles.ihe.net/ITI/MHD/StructureDefinition/"
               "IHE.MHD.Minimal.DocumentReference")
NODES = dict(harness.DEFAULT_NODES)
NODES["peer"] = ("FI", "peer-gateway")

# Per country: the patient table, its token column and a national node.
COUNTRIES = {
    "fi": ("fi_rekisteri.henkilo", "fhir_tunniste", "fi"),
    "no": ("no_register.pasient", "fhir_id", "no"),
    "se": ("se_register.patient", "fhir_id", "se"),
}

SERVERS = CLUSTER = GW = RELAY = None


def setUpModule():
    global SERVERS, CLUSTER, GW, RELAY
    SERVERS = harness.ModuleServers()
    CLUSTER = SERVERS.cluster
    with SERVERS.starting():
        pki = Pki.get()
        GW = SERVERS.gateway(pki, patients=N, nodes=NODES, countries=("fi", "no", "se"))
        GW.reserve_ports()
        RELAY = SERVERS.gateway(pki, patients=0, dbname="fhirgw_relay", country="NO",
                                local_countries=["NO"], peers={"FI": GW.peer_entry()})
        GW.start()
        RELAY.start()
        CLUSTER.psql(harness.SE_PERMIT_TREATMENT_SQL)


def tearDownModule():
    SERVERS.stop()


def patient_id(cc, index=0):
    table, token, _ = COUNTRIES[cc]
    tok, = CLUSTER.rows("select %s from %s order by id offset %d limit 1"
                        % (token, table, index))[0]
    return "%s-%s" % (cc, tok)


# Finnish patients each test takes for itself (consent rules, audit).
_taken = [N - 1]


def take_fi_patient():
    hetu, pid = harness.patients(CLUSTER)[_taken[0]]
    _taken[0] -= 1
    return hetu, pid


def find_path(pid, type_=PS_TYPE, extra=""):
    path = "/fhir/DocumentReference?patient=" + q(pid)
    if type_ is not None:
        path += "&type=" + q(type_)
    return path + extra


def master_uuid(pid):
    """The documented masterIdentifier: a name-based UUID (version 5, URL
    namespace) of the summary's base-relative URL."""
    return "urn:uuid:%s" % uuid.uuid5(uuid.NAMESPACE_URL, "Patient/%s/$summary" % pid)


def codes(concept):
    return {(c.get("system"), c.get("code")) for c in (concept or {}).get("coding") or []}


def without_date(resource):
    r = copy.deepcopy(resource)
    r.pop("date", None)
    return r


def add_rule(hetu, decision="deny", emergency_override=False):
    return int(CLUSTER.psql(
        "insert into gw.consent_rule (patient_system, patient_id, decision,"
        " emergency_override) values (%s, %s, %s, %s) returning id"
        % (sql_literal(FI_HETU_SYSTEM), sql_literal(hetu), sql_literal(decision),
           "true" if emergency_override else "false")).strip())


def audit_records(request_id):
    out = CLUSTER.psql(
        "select coalesce(json_agg(json_build_object('status', status, 'decision',"
        " decision, 'rule', rule, 'operation', operation, 'patient_logical_id',"
        " patient_logical_id, 'returned_types', returned_types, 'returned_ids',"
        " returned_ids) order by seq), '[]') from gw.audit_record where request_id = %s"
        % sql_literal(request_id))
    return json.loads(out)


class MhdCase(GatewayTestCase):
    def find(self, pid, node="fi", gw=None, **kw):
        """Find Document References; returns the searchset (validated)."""
        b = self.assertOk((gw or GW).get(node, find_path(pid, **kw)), "Bundle")
        validate_r4(b)
        self.assertEqual(b.get("type"), "searchset")
        return b

    def only_docref(self, bundle):
        self.assertEqual(bundle.get("total"), 1, bundle)
        entries = bundle.get("entry") or []
        self.assertEqual(len(entries), 1, bundle)
        self.assertEqual(entries[0].get("search", {}).get("mode"), "match")
        dr = entries[0]["resource"]
        self.assertEqual(dr.get("resourceType"), "DocumentReference")
        return entries[0], dr

    def assertEmpty(self, bundle):
        self.assertEqual(bundle.get("total"), 0, bundle)
        self.assertEqual(bundle.get("entry") or [], [])


class TestFind(MhdCase):
    def test_each_country_lists_its_summary(self):
        """One DocumentReference per country; its attachment URL is the
        $summary document of the same patient."""
        for cc, (_, _, node) in COUNTRIES.items():
            with self.subTest(country=cc):
                pid = patient_id(cc)
                b = self.find(pid, node=node)
                entry, dr = self.only_docref(b)
                self.assertEqual(entry.get("fullUrl"),
                                 "%s/DocumentReference/%s" % (GW.base_url, dr.get("id")))
                self.check_docref(dr, pid, cc)
                url = dr["content"][0]["attachment"]["url"]
                self.assertEqual(url, "%s/Patient/%s/$summary" % (GW.base_url, pid))
                doc = self.assertOk(GW.get(node, GW.path_of(url)), "Bundle")
                validate_r4(doc)
                self.assertEqual(doc.get("type"), "document")
                comp = doc["entry"][0]["resource"]
                self.assertEqual(comp.get("resourceType"), "Composition")
                self.assertIn((LOINC, "60591-5"), codes(comp.get("type")))
                self.assertEqual(comp["subject"]["reference"], "Patient/" + pid)

    def check_docref(self, dr, pid, cc):
        validate_r4(dr)
        self.assertEqual(dr.get("id"), pid + "-ips")
        self.assertIn(MHD_MINIMAL, dr.get("meta", {}).get("profile") or [])
        self.assertEqual(dr.get("status"), "current")
        self.assertNotIn("docStatus", dr)
        self.assertEqual(codes(dr.get("type")), {(LOINC, "60591-5")})
        self.assertEqual(len(dr.get("category") or []), 1)
        self.assertEqual(codes(dr["category"][0]), {(PRIORITY, "Patient-Summaries")})
        self.assertEqual(dr.get("subject"), {"reference": "Patient/" + pid})
        self.assertTrue(dr.get("date"))
        self.assertEqual(dr.get("masterIdentifier"),
                         {"use": "usual", "system": "urn:ietf:rfc:3986",
                          "value": master_uuid(pid)})
        content = dr.get("content") or []
        self.assertEqual(len(content), 1)
        att = content[0].get("attachment") or {}
        self.assertEqual(att.get("contentType"), "application/fhir+json")
        # An on-demand document: no size, no hash, no inline data.
        for absent in ("size", "hash", "data"):
            self.assertNotIn(absent, att)
        self.assertEqual((content[0].get("format") or {}).get("code"), "urn:ihe:pcc:ips:2020")
        self.assertEqual((content[0].get("format") or {}).get("system"), FORMAT_SYSTEM)
        # Author and custodian: the data holder gateway, contained.
        contained = {"#" + c["id"]: c for c in dr.get("contained") or []}
        refs = [a.get("reference") for a in dr.get("author") or []]
        refs.append((dr.get("custodian") or {}).get("reference"))
        for ref in refs:
            self.assertIn(ref, contained)
            self.assertEqual(contained[ref].get("resourceType"), "Organization")
            self.assertIn(cc.upper(), contained[ref].get("name", ""))

    def test_patient_reference_form(self):
        pid = patient_id("fi", 1)
        _, bare = self.only_docref(self.find(pid))
        _, ref = self.only_docref(self.find("Patient/" + pid))
        self.assertEqual(without_date(bare), without_date(ref))

    def test_token_forms_that_match(self):
        """The type as system|code, bare code (any system), system| (any
        code), in a list; status and category as MHD and the EU Health Data
        API send them; no type at all."""
        pid = patient_id("no", 1)
        for type_, extra in ((PS_TYPE, "&status=current"),
                             ("60591-5", ""),
                             (LOINC + "|", ""),
                             (LOINC + "|11502-2," + PS_TYPE, ""),
                             (PS_TYPE, "&status=" + q("http://hl7.org/fhir/"
                                                     "document-reference-status|current")),
                             (PS_TYPE, "&category=" + q(PRIORITY + "|Patient-Summaries")),
                             (PS_TYPE, "&category=Patient-Summaries&status=current"),
                             (None, "")):
            with self.subTest(type=type_, extra=extra):
                self.only_docref(self.find(pid, node="no", type_=type_, extra=extra))

    def test_other_documents_empty(self):
        """Only the patient summary exists: any other type, status or
        category is an empty searchset (200)."""
        pid = patient_id("fi", 2)
        for type_, extra in ((LOINC + "|11502-2", ""),
                             ("http://snomed.info/sct|60591-5", ""),
                             ("|60591-5", ""),
                             ("18842-5", ""),
                             (PS_TYPE, "&status=superseded"),
                             (PS_TYPE, "&status=entered-in-error"),
                             (PS_TYPE, "&category=" + q(PRIORITY + "|Medical-Imaging"))):
            with self.subTest(type=type_, extra=extra):
                b = self.find(pid, type_=type_, extra=extra)
                self.assertEmpty(b)
                self.assertTrue(any(l.get("relation") == "self" for l in b.get("link") or []))

    def test_stable_and_readable(self):
        """The same patient always gets the same DocumentReference, and
        DocumentReference/{id} reads it."""
        pid = patient_id("se", 1)
        _, first = self.only_docref(self.find(pid, node="se"))
        _, again = self.only_docref(self.find(pid, node="se"))
        self.assertEqual(without_date(first), without_date(again))
        r = GW.get("se", "/fhir/DocumentReference/" + first["id"])
        read = self.assertOk(r, "DocumentReference")
        validate_r4(read)
        self.assertEqual(without_date(read), without_date(first))

    def test_break_glass_like_summary(self):
        """ETREAT over a deny that allows it: listed, with X-Break-Glass, as
        $summary is."""
        hetu, pid = take_fi_patient()
        add_rule(hetu, "deny", emergency_override=True)
        hdrs = {"X-Emergency-Reason": "unconscious on arrival"}
        r = GW.get("fi", find_path(pid), purpose="ETREAT", headers=hdrs)
        self.only_docref(self.assertOk(r, "Bundle"))
        self.assertEqual(r.headers.get("x-break-glass"), "true")
        s = GW.get("fi", "/fhir/Patient/%s/$summary" % pid, purpose="ETREAT", headers=hdrs)
        self.assertOk(s, "Bundle")
        self.assertEqual(s.headers.get("x-break-glass"), "true")


class TestErrors(MhdCase):
    def setUp(self):
        self.pid = patient_id("fi", 3)

    def test_missing_patient_400(self):
        self.assertOutcome(GW.get("fi", "/fhir/DocumentReference?type=" + q(PS_TYPE)),
                           400, "required")

    def test_malformed_patient_400(self):
        for bad in ("", "Patient/", "fi-!!", "fi-abc/def", "https://x.example/Patient/fi-a"):
            with self.subTest(patient=bad):
                self.assertOutcome(GW.get("fi", find_path(bad)), 400)

    def test_unknown_patient_404(self):
        self.assertOutcome(GW.get("fi", find_path("fi-" + "a" * 26)), 404)
        self.assertOutcome(GW.get("fi", find_path("xx-123")), 404)

    def test_unknown_or_repeated_parameter_400(self):
        for extra in ("&colour=blue", "&type=" + q(PS_TYPE), "&type:text=summary",
                      "&_count=10", "&patient.identifier=" + q(FI_HETU_SYSTEM + "|x")):
            with self.subTest(extra=extra):
                self.assertOutcome(GW.get("fi", find_path(self.pid, extra=extra)), 400)

    def test_malformed_token_400(self):
        for type_ in ("", "|", "60591-5,", ",60591-5", "a,,b"):
            with self.subTest(type=type_):
                self.assertOutcome(GW.get("fi", find_path(self.pid, type_=type_)),
                                   400, "invalid")
        self.assertOutcome(GW.get("fi", find_path(self.pid, extra="&status=")), 400)

    def test_read_errors(self):
        self.assertOutcome(GW.get("fi", "/fhir/DocumentReference/" + self.pid), 404)
        self.assertOutcome(GW.get("fi", "/fhir/DocumentReference/fi-%s-ips" % ("a" * 26)),
                           404)
        self.assertOutcome(GW.get("fi", "/fhir/DocumentReference/-ips"), 404)
        self.assertOutcome(GW.get("fi", "/fhir/DocumentReference/bad!id"), 400)
        self.assertOutcome(GW.get("fi", "/fhir/DocumentReference/%s-ips?colour=blue"
                                  % self.pid), 400)

    def test_purpose_and_role_required(self):
        self.assertOutcome(GW.get("fi", find_path(self.pid), purpose=None), 400)
        r = GW.get("admin", find_path(self.pid))
        self.assertOutcome(r, 403, "forbidden")
        self.assertNotIn(b"$summary", r.body)

    def test_other_methods_405(self):
        r = GW.request("fi", "POST", "/fhir/DocumentReference", body=b"{}",
                       headers={"Content-Type": "application/fhir+json"})
        self.assertOutcome(r, 405)


class TestConsent(MhdCase):
    def test_deny_answers_as_summary(self):
        """A denied patient: the same 403 OperationOutcome as $summary,
        whatever type is asked for, on search and read."""
        hetu, pid = take_fi_patient()
        rule = add_rule(hetu, "deny")
        summary = GW.get("fi", "/fhir/Patient/%s/$summary" % pid)
        self.assertOutcome(summary, 403, "forbidden", "consent_rule/%d" % rule)
        for path in (find_path(pid), find_path(pid, type_=LOINC + "|11502-2"),
                     find_path("Patient/" + pid, type_=None),
                     "/fhir/DocumentReference/%s-ips" % pid):
            with self.subTest(path=path):
                r = GW.get("fi", path)
                self.assertOutcome(r, 403, "forbidden", "consent_rule/%d" % rule)
                self.assertEqual(r.json, summary.json)
                self.assertNotIn(pid.encode() + b"/$summary", r.body)


class TestAudit(MhdCase):
    def test_one_record_per_request(self):
        hetu, pid = take_fi_patient()
        cases = []

        def run(path, status, node="fi"):
            rid = "mhd-" + uuid.uuid4().hex
            r = GW.get(node, path, headers={"X-Request-Id": rid})
            self.assertStatus(r, status)
            cases.append((rid, path, status))
            return r

        b = run(find_path(pid), 200)
        dr = b.json["entry"][0]["resource"]
        run(find_path(pid, type_=LOINC + "|11502-2"), 200)
        run("/fhir/DocumentReference/" + dr["id"], 200)
        run(GW.path_of(dr["content"][0]["attachment"]["url"]), 200)
        run(find_path(pid, extra="&colour=blue"), 400)
        rule = add_rule(hetu, "deny")
        run(find_path(pid), 403)

        for rid, path, status in cases:
            with self.subTest(path=path, status=status):
                recs = audit_records(rid)
                self.assertEqual(len(recs), 1, recs)
                self.assertEqual(recs[0]["status"], status)
                self.assertEqual(recs[0]["patient_logical_id"], pid)
        first, empty, read, summary, bad, denied = (audit_records(c[0])[0] for c in cases)
        self.assertEqual((first["operation"], first["decision"]), ("search-type", "permit"))
        self.assertEqual(first["returned_types"], ["DocumentReference"])
        self.assertEqual(first["returned_ids"], ["DocumentReference/" + dr["id"]])
        self.assertEqual(empty["returned_types"], [])
        self.assertEqual((read["operation"], read["decision"]), ("read", "permit"))
        self.assertEqual(summary["operation"], "$summary")
        self.assertEqual(bad["returned_types"], [])
        self.assertEqual((denied["decision"], denied["rule"]),
                         ("deny", "consent_rule/%d" % rule))
        out = GW.cli("audit-verify", "-c", "{config}").stdout.decode()
        self.assertIn("chain intact", out)


class TestRelay(MhdCase):
    def test_find_and_retrieve_through_relay(self):
        """NO node -> NO gateway -> FI gateway: the DocumentReference is
        FI's, its fullUrl and attachment URL point at the NO gateway, and
        following the attachment there retrieves the summary (relayed)."""
        pid = patient_id("fi", 4)
        b = self.find(pid, node="no", gw=RELAY)
        entry, dr = self.only_docref(b)
        self.assertTrue(entry["fullUrl"].startswith(RELAY.base_url + "/"), entry)
        url = dr["content"][0]["attachment"]["url"]
        self.assertEqual(url, "%s/Patient/%s/$summary" % (RELAY.base_url, pid))
        self.assertNotIn(GW.base_url, json.dumps(b))
        _, direct = self.only_docref(self.find(pid, node="no"))
        self.assertEqual(without_date(dr), json.loads(json.dumps(without_date(direct))
                                                      .replace(GW.base_url, RELAY.base_url)))
        doc = self.assertOk(RELAY.get("no", RELAY.path_of(url)), "Bundle")
        self.assertEqual(doc.get("type"), "document")
        validate_r4(doc)
        read = self.assertOk(RELAY.get("no", "/fhir/DocumentReference/" + dr["id"]),
                             "DocumentReference")
        self.assertEqual(read["content"][0]["attachment"]["url"], url)

    def test_deny_through_relay(self):
        hetu, pid = take_fi_patient()
        rule = add_rule(hetu, "deny")
        r = RELAY.get("no", find_path(pid))
        self.assertOutcome(r, 403, "forbidden", "consent_rule/%d" % rule)
        self.assertEqual(r.json, GW.get("no", "/fhir/Patient/%s/$summary" % pid).json)


class TestCapability(MhdCase):
    def test_capability_statement_lists_find_and_read(self):
        cs = self.assertOk(GW.get("fi", "/fhir/metadata"), "CapabilityStatement")
        validate_r4(cs)
        res = [r for rest in cs["rest"] for r in rest["resource"]
               if r["type"] == "DocumentReference"]
        self.assertEqual(len(res), 1)
        self.assertEqual({i["code"] for i in res[0]["interaction"]}, {"read", "search-type"})
        self.assertEqual({p["name"] for p in res[0]["searchParam"]},
                         {"patient", "type", "status", "category"})
        self.assertIn(MHD_MINIMAL, res[0].get("supportedProfile") or [])


if __name__ == "__main__":
    unittest.main()
