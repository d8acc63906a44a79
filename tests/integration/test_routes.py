"""The FHIR routes of docs/api.md against a seeded Finnish registry (50
synthetic patients), client certificate `fi` (role treatment) unless a test
says otherwise.  Every resource and Bundle that comes back is validated
against the R4 JSON schema."""

import re
import time
import unittest
import urllib.parse

import harness
from harness import FI_HETU_SYSTEM, GatewayTestCase, Pki, q, validate_r4

SERVERS = CLUSTER = GW = None
PATIENTS = []  # (hetu, logical id) by henkilo.id

# Searchable clinical types and the registry table behind each.
TYPES = {
    "Condition": "diagnoosi",
    "AllergyIntolerance": "allergia",
    "MedicationStatement": "laakitys",
    "Immunization": "rokotus",
    "Observation": "laboratoriotulos",
}
# IPS sections (LOINC) and the resource types their entries may point at.
SECTIONS = {
    "48765-2": {"AllergyIntolerance"},
    "11450-4": {"Condition"},
    "10160-0": {"MedicationStatement", "MedicationRequest"},
    "11369-6": {"Immunization"},
    "30954-2": {"Observation", "DiagnosticReport"},
}
LOINC = "http://loinc.org"
HETU_CHECK_CHARS = "0123456789ABCDEFHJKLMNPRSTUVWXY"


def hetu_check(ddmmyy, zzz):
    """The HETU check character of DDMMYY and individual number ZZZ."""
    return HETU_CHECK_CHARS[int(ddmmyy + zzz) % 31]


def identifier_query(system, value):
    return "/fhir/Patient?identifier=" + q(system + "|" + value)


def setUpModule():
    global SERVERS, CLUSTER, GW, PATIENTS
    SERVERS = harness.ModuleServers()
    CLUSTER = SERVERS.cluster
    with SERVERS.starting():
        GW = SERVERS.gateway(Pki.get(), patients=50)
        GW.start()
        PATIENTS = harness.patients(CLUSTER)
        if len(PATIENTS) != 50:
            raise harness.HarnessError("seed --patients 50 left %d patients" % len(PATIENTS))


def tearDownModule():
    SERVERS.stop()


def references(obj):
    """Every Reference.reference string anywhere in obj."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k == "reference" and isinstance(v, str):
                yield v
            else:
                yield from references(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from references(v)


def link(bundle, relation):
    for ln in bundle.get("link") or []:
        if ln.get("relation") == relation:
            return ln.get("url")
    return None


def without_meta(resource):
    return {k: v for k, v in resource.items() if k != "meta"}


class TestMetadata(GatewayTestCase):
    def test_capability_statement_lists_served_types(self):
        cs = self.assertOk(GW.get("fi", "/fhir/metadata"), "CapabilityStatement")
        self.assertEqual(cs.get("fhirVersion"), "4.0.1")
        validate_r4(cs)
        resources = {r.get("type"): r for rest in cs.get("rest") or []
                     for r in rest.get("resource") or []}
        self.assertEqual(set(resources), {"Patient", "AuditEvent", "DocumentReference",
                                          "Consent", "Group"} | set(TYPES))
        self.assertEqual({i["code"] for i in resources["Consent"]["interaction"]},
                         {"read", "create", "update", "delete", "search-type"})

    def test_capability_statement_announces_bulk_export(self):
        """A Bulk Data client checks metadata before it tries $export."""
        cs = self.assertOk(GW.get("fi", "/fhir/metadata"), "CapabilityStatement")
        self.assertIn("http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data",
                      cs.get("instantiates") or [])
        group = [r for rest in cs["rest"] for r in rest["resource"] if r["type"] == "Group"]
        self.assertEqual(len(group), 1)
        self.assertNotIn("interaction", group[0])  # a permit is exported, not read
        self.assertEqual(group[0].get("operation"),
                         [{"name": "export", "definition": "http://hl7.org/fhir/uv/bulkdata/"
                           "OperationDefinition/group-export"}])


class TestPatient(GatewayTestCase):
    def test_search_by_identifier(self):
        hetu, pid = PATIENTS[0]
        b = self.assertOk(GW.get("fi", identifier_query(FI_HETU_SYSTEM, hetu)), "Bundle")
        validate_r4(b)
        self.assertEqual(b.get("type"), "searchset")
        self.assertEqual(b.get("total"), 1)
        self.assertEqual(len(b.get("entry") or []), 1)
        entry = b["entry"][0]
        self.assertTrue(entry.get("fullUrl"))
        p = entry["resource"]
        self.assertEqual(p.get("resourceType"), "Patient")
        self.assertEqual(p.get("id"), pid)
        self.assertTrue(p["id"].startswith("fi-"))
        self.assertIn(hetu, [i.get("value") for i in p.get("identifier") or []
                             if i.get("system") == FI_HETU_SYSTEM])
        validate_r4(p)

    def test_last_updated_is_the_registry_change_time(self):
        hetu, pid = PATIENTS[1]
        CLUSTER.psql("update fi_rekisteri.henkilo set muutettu ="
                     " '2024-02-29 23:30:00.25-02:00' where hetu = %s" % harness.sql_literal(hetu))
        p = self.assertOk(GW.get("fi", "/fhir/Patient/" + pid), "Patient")
        self.assertEqual(p["meta"].get("lastUpdated"), "2024-03-01T01:30:00.25Z")

    def test_search_by_identifier_literal_pipe(self):
        hetu, pid = next((h, p) for h, p in PATIENTS if "+" not in h)
        b = self.assertOk(GW.get("fi", "/fhir/Patient?identifier=%s|%s"
                                 % (FI_HETU_SYSTEM, hetu)), "Bundle")
        self.assertEqual(b.get("total"), 1)
        self.assertEqual(b["entry"][0]["resource"]["id"], pid)

    def test_search_invalid_check_character_400(self):
        hetu = PATIENTS[0][0]
        i = HETU_CHECK_CHARS.index(hetu[-1])
        bad = hetu[:-1] + HETU_CHECK_CHARS[(i + 1) % 31]
        r = GW.get("fi", identifier_query(FI_HETU_SYSTEM, bad))
        self.assertOutcome(r, 400)

    def test_search_valid_unknown_hetu_empty(self):
        known = {h for h, _ in PATIENTS}
        for zzz in range(900, 1000):
            ddmmyy, z = "010180", "%03d" % zzz
            hetu = ddmmyy + "-" + z + hetu_check(ddmmyy, z)
            if hetu not in known:
                break
        b = self.assertOk(GW.get("fi", identifier_query(FI_HETU_SYSTEM, hetu)), "Bundle")
        validate_r4(b)
        self.assertEqual(b.get("type"), "searchset")
        self.assertEqual(b.get("total"), 0)
        self.assertEqual(b.get("entry") or [], [])

    def test_search_unknown_identifier_system_404(self):
        r = GW.get("fi", identifier_query("http://example.org/fhir/sid/nowhere", "12345"))
        self.assertOutcome(r, 404)

    def test_read(self):
        hetu, pid = PATIENTS[0]
        p = self.assertOk(GW.get("fi", "/fhir/Patient/" + pid), "Patient")
        self.assertEqual(p.get("id"), pid)
        self.assertIn(hetu, [i.get("value") for i in p.get("identifier") or []
                             if i.get("system") == FI_HETU_SYSTEM])
        validate_r4(p)

    def test_read_unknown_id_404(self):
        r = GW.get("fi", "/fhir/Patient/fi-" + "a" * 26)
        self.assertOutcome(r, 404)

    def test_read_unknown_prefix_404(self):
        r = GW.get("fi", "/fhir/Patient/xx-123")
        self.assertOutcome(r, 404)

    def test_utf8_name_matches_registry(self):
        hetu, pid, family, given = self._non_ascii_patient()
        p = self.assertOk(GW.get("fi", "/fhir/Patient/" + pid), "Patient")
        names = p.get("name") or []
        if any(ord(ch) > 127 for ch in family):
            self.assertIn(family, [n.get("family") for n in names])
        else:
            api_given = {g for n in names for g in n.get("given") or []}
            for g in given.split():
                self.assertIn(g, api_given)

    def test_utf8_name_bytes_unescaped(self):
        hetu, pid, family, given = self._non_ascii_patient()
        r = GW.get("fi", "/fhir/Patient/" + pid)
        self.assertOk(r, "Patient")
        self.assertIn("charset=utf-8", r.headers.get("content-type", "").lower()
                      .replace(" ", ""))
        name = family if any(ord(ch) > 127 for ch in family) else \
            next(g for g in given.split() if any(ord(ch) > 127 for ch in g))
        self.assertIn(name.encode("utf-8"), r.body,
                      "the UTF-8 bytes of %r are not in the body" % name)

    def _non_ascii_patient(self):
        rows = CLUSTER.rows("select hetu, 'fi-' || fhir_tunniste, sukunimi, etunimet "
                            "from fi_rekisteri.henkilo order by id")
        for row in rows:
            if any(ord(ch) > 127 for ch in row[2] + row[3]):
                return row
        self.fail("the seed made no patient with a non-ASCII name (of %d)" % len(rows))


class TestSummary(GatewayTestCase):
    @classmethod
    def setUpClass(cls):
        cls.hetu, cls.pid = PATIENTS[0]
        cls.resp = GW.get("fi", "/fhir/Patient/%s/$summary" % cls.pid)
        cls.bundle = cls.resp.json

    def setUp(self):
        self.assertOk(self.resp, "Bundle")

    def entries(self):
        return self.bundle.get("entry") or []

    def test_document_with_composition_first(self):
        self.assertEqual(self.bundle.get("type"), "document")
        self.assertTrue(self.entries(), "empty document")
        self.assertEqual(self.entries()[0].get("resource", {}).get("resourceType"),
                         "Composition")

    def test_document_identifier_and_timestamp(self):
        # R4 invariants bdl-9 and bdl-10.
        ident = self.bundle.get("identifier") or {}
        self.assertTrue(ident.get("system") and ident.get("value"), self.bundle.get("identifier"))
        self.assertTrue(self.bundle.get("timestamp"))

    def test_sections_have_entries(self):
        comp = self.entries()[0]["resource"]
        by_ref = self._index()
        sections = {}
        for s in comp.get("section") or []:
            for c in (s.get("code") or {}).get("coding") or []:
                if c.get("system") == LOINC:
                    sections[c.get("code")] = s
        for code, types in SECTIONS.items():
            with self.subTest(section=code):
                self.assertIn(code, sections, "no section with LOINC %s" % code)
                refs = [e.get("reference") for e in sections[code].get("entry") or []]
                self.assertTrue(refs, "section %s has no entries" % code)
                for ref in refs:
                    self.assertTrue(ref in by_ref, "section %s entry %s not in the Bundle"
                                    % (code, ref))
                    self.assertIn(by_ref[ref].get("resourceType"), types,
                                  "section %s points at %s" % (code, ref))

    def test_every_entry_has_full_url(self):
        for i, e in enumerate(self.entries()):
            self.assertTrue(e.get("fullUrl"), "entry %d has no fullUrl" % i)

    def test_every_reference_resolves_in_bundle(self):
        by_ref = self._index()
        for i, e in enumerate(self.entries()):
            res = e.get("resource") or {}
            contained = {"#" + c.get("id") for c in res.get("contained") or [] if c.get("id")}
            for ref in references(res):
                self.assertTrue(ref in by_ref or ref in contained,
                                "entry %d (%s): reference %r does not resolve in the Bundle"
                                % (i, res.get("resourceType"), ref))

    def test_subject_is_the_patient(self):
        comp = self.entries()[0]["resource"]
        subject = (comp.get("subject") or {}).get("reference")
        target = self._index().get(subject)
        self.assertIsNotNone(target, "Composition.subject %r not in the Bundle" % subject)
        self.assertEqual(target.get("resourceType"), "Patient")
        self.assertEqual(target.get("id"), self.pid)

    def test_bundle_and_resources_validate(self):
        validate_r4(self.bundle)
        for e in self.entries():
            with self.subTest(resource="%s/%s" % (e["resource"].get("resourceType"),
                                                  e["resource"].get("id"))):
                validate_r4(e["resource"])

    def _index(self):
        """Reference string -> resource, by fullUrl and by Type/id."""
        idx = {}
        for e in self.entries():
            res = e.get("resource") or {}
            if e.get("fullUrl"):
                idx[e["fullUrl"]] = res
            if res.get("resourceType") and res.get("id"):
                idx["%s/%s" % (res["resourceType"], res["id"])] = res
        return idx


class TestSearchPaging(GatewayTestCase):
    def _patient_with_most(self, rtype):
        table = TYPES[rtype]
        rows = CLUSTER.rows(
            "select 'fi-' || h.fhir_tunniste, count(*) from fi_rekisteri.%s t "
            "join fi_rekisteri.henkilo h on h.id = t.henkilo_id "
            "group by h.id order by count(*) desc, h.id limit 1" % table)
        self.assertTrue(rows, "the seed made no %s rows" % table)
        return rows[0][0], int(rows[0][1])

    def _paging(self, rtype):
        pid, count = self._patient_with_most(rtype)
        b = self.assertOk(GW.get("fi", "/fhir/%s?patient=%s&_count=1" % (rtype, pid)),
                          "Bundle")
        validate_r4(b)
        self.assertEqual(b.get("type"), "searchset")
        self.assertEqual(b.get("total"), count)
        self.assertTrue(link(b, "self"), "no self link")
        seen = []
        first = None
        pages = 0
        while True:
            pages += 1
            entries = b.get("entry") or []
            self.assertEqual(len(entries), 1, "_count=1 page %d has %d entries"
                             % (pages, len(entries)))
            res = entries[0]["resource"]
            self.assertEqual(res.get("resourceType"), rtype)
            self.assertTrue(entries[0].get("fullUrl"))
            self.assertTrue(any(r == "Patient/" + pid or r.endswith("/Patient/" + pid)
                                for r in references(res)),
                            "%s %s does not point at Patient/%s" % (rtype, res.get("id"), pid))
            validate_r4(res)
            first = first or res
            seen.append(res.get("id"))
            nxt = link(b, "next")
            if len(seen) >= count:
                self.assertIsNone(nxt, "next link on the last page")
                break
            self.assertTrue(nxt, "no next link after %d of %d" % (len(seen), count))
            b = self.assertOk(GW.get("fi", GW.path_of(nxt)), "Bundle")
            self.assertEqual(b.get("total"), count)
            self.assertLess(pages, 100)
        self.assertEqual(len(set(seen)), len(seen), "a page repeated a resource: %s" % seen)
        # Reading a returned resource by id gives the same resource.
        r = self.assertOk(GW.get("fi", "/fhir/%s/%s" % (rtype, first["id"])), rtype)
        self.assertEqual(without_meta(r), without_meta(first))
        if count < 2:
            self.skipTest("no patient has two %s rows: next link not exercised" % rtype)

    def test_condition_paging(self):
        self._paging("Condition")

    def test_allergy_intolerance_paging(self):
        self._paging("AllergyIntolerance")

    def test_medication_statement_paging(self):
        self._paging("MedicationStatement")

    def test_immunization_paging(self):
        self._paging("Immunization")

    def test_observation_paging(self):
        self._paging("Observation")

    def test_count_100_accepted(self):
        pid = PATIENTS[0][1]
        b = self.assertOk(GW.get("fi", "/fhir/Condition?patient=%s&_count=100" % pid), "Bundle")
        self.assertEqual(len(b.get("entry") or []), b.get("total"))
        self.assertIsNone(link(b, "next"))


class TestSearchFilters(GatewayTestCase):
    """category, code (vaccine-code for Immunization) and _lastUpdated on
    the clinical searches: the same resources as filtering the unfiltered
    search by hand, paged by the gateway with the filters in the links."""

    def everything(self, rtype, pid):
        b = self.assertOk(GW.get("fi", "/fhir/%s?patient=%s&_count=100" % (rtype, pid)),
                          "Bundle")
        self.assertEqual(len(b.get("entry") or []), b.get("total"))
        return [e["resource"] for e in b.get("entry") or []]

    def pages(self, path):
        """Follow next links with _count=1; the ids in order and the total."""
        b = self.assertOk(GW.get("fi", path + "&_count=1"), "Bundle")
        validate_r4(b)
        total, ids = b.get("total"), []
        while True:
            ids += [e["resource"]["id"] for e in b.get("entry") or []]
            nxt = link(b, "next")
            if nxt is None:
                break
            self.assertLessEqual(len(ids), total)
            b = self.assertOk(GW.get("fi", GW.path_of(nxt)), "Bundle")
            self.assertEqual(b.get("total"), total)
        self.assertEqual(len(ids), total, "pages gave %s" % ids)
        return ids, total

    def codings(self, concept):
        return [(c.get("system"), c.get("code")) for c in (concept or {}).get("coding", [])]

    def test_code_filter(self):
        pid, _ = TestSearchPaging._patient_with_most(self, "Condition")
        every = self.everything("Condition", pid)
        system, code = self.codings(every[-1]["code"])[0]
        want = [r["id"] for r in every if (system, code) in self.codings(r["code"])]
        ids, total = self.pages("/fhir/Condition?patient=%s&code=%s" % (pid, q(system + "|" + code)))
        self.assertEqual(ids, want)
        # A bare code, a list with a miss in it, the system alone.
        bare, _ = self.pages("/fhir/Condition?patient=%s&code=%s" % (pid, q(code)))
        self.assertEqual(bare, [r["id"] for r in every
                                if code in [c for _, c in self.codings(r["code"])]])
        either, _ = self.pages("/fhir/Condition?patient=%s&code=%s"
                               % (pid, q("no-such-code," + system + "|" + code)))
        self.assertEqual(either, want)
        # A long list survives the paging links whole (about 4 kB encoded).
        long = ",".join("no-such-%d" % i for i in range(300)) + "," + system + "|" + code
        ids, _ = self.pages("/fhir/Condition?patient=%s&code=%s" % (pid, q(long)))
        self.assertEqual(ids, want)
        b = self.assertOk(GW.get("fi", "/fhir/Condition?patient=%s&code=%s&_count=1"
                                 % (pid, q(long))), "Bundle")
        query = urllib.parse.urlsplit(link(b, "self")).query
        self.assertEqual(urllib.parse.parse_qs(query)["code"], [long])
        anyof, _ = self.pages("/fhir/Condition?patient=%s&code=%s" % (pid, q(system + "|")))
        self.assertEqual(anyof, [r["id"] for r in every
                                 if system in [s for s, _ in self.codings(r["code"])]])
        none = self.assertOk(GW.get("fi", "/fhir/Condition?patient=%s&code=%s"
                                    % (pid, q(system + "|no-such-code"))), "Bundle")
        self.assertEqual(none.get("total"), 0)
        self.assertNotIn("entry", none)

    def test_category_filter(self):
        pid, n = TestSearchPaging._patient_with_most(self, "Observation")
        lab = q("http://terminology.hl7.org/CodeSystem/observation-category|laboratory")
        ids, total = self.pages("/fhir/Observation?patient=%s&category=%s" % (pid, lab))
        self.assertEqual(ids, [r["id"] for r in self.everything("Observation", pid)])
        self.assertEqual(total, n)
        vital = self.assertOk(GW.get("fi", "/fhir/Observation?patient=%s&category=vital-signs"
                                     % pid), "Bundle")
        self.assertEqual(vital.get("total"), 0)
        # AllergyIntolerance.category is a plain code with an implied system.
        pid, _ = TestSearchPaging._patient_with_most(self, "AllergyIntolerance")
        every = self.everything("AllergyIntolerance", pid)
        want = [r["id"] for r in every if "medication" in r.get("category", [])]
        for value in ("medication", "http://hl7.org/fhir/allergy-intolerance-category|medication"):
            ids, _ = self.pages("/fhir/AllergyIntolerance?patient=%s&category=%s" % (pid, q(value)))
            self.assertEqual(ids, want)

    def test_vaccine_code_for_immunization(self):
        pid, _ = TestSearchPaging._patient_with_most(self, "Immunization")
        every = self.everything("Immunization", pid)
        system, code = self.codings(every[0]["vaccineCode"])[0]
        ids, _ = self.pages("/fhir/Immunization?patient=%s&vaccine-code=%s"
                            % (pid, q(system + "|" + code)))
        self.assertEqual(ids, [r["id"] for r in every
                               if (system, code) in self.codings(r["vaccineCode"])])
        for param in ("code", "category"):
            self.assertOutcome(GW.get("fi", "/fhir/Immunization?patient=%s&%s=x" % (pid, param)),
                               400, "not-supported", "unknown search parameter " + param)

    def test_last_updated(self):
        pid, n = TestSearchPaging._patient_with_most(self, "MedicationStatement")
        self.assertGreaterEqual(n, 2)
        key = CLUSTER.rows("select id from fi_rekisteri.henkilo where 'fi-' || fhir_tunniste"
                           " = %s" % harness.sql_literal(pid))[0][0]
        every = self.everything("MedicationStatement", pid)
        old = every[-1]["id"].split("-")[1]
        CLUSTER.psql("update fi_rekisteri.laakitys set muutettu = case id when %s then"
                     " '2020-06-15 12:00:00+00'::timestamptz else '2026-01-01 00:00:00+00' end"
                     " where henkilo_id = %s" % (old, key))
        path = "/fhir/MedicationStatement?patient=%s" % pid
        # The change time is the resource's meta.lastUpdated, in UTC.
        stamps = {r["id"]: r["meta"].get("lastUpdated")
                  for r in self.everything("MedicationStatement", pid)}
        self.assertEqual(stamps, {r["id"]: "2020-06-15T12:00:00Z" if r is every[-1]
                                  else "2026-01-01T00:00:00Z" for r in every})
        cases = {"lt2021": [every[-1]["id"]],
                 "ge2021": [r["id"] for r in every[:-1]],
                 "2020-06": [every[-1]["id"]],
                 "eq2020-06-15T12:00:00Z": [every[-1]["id"]],
                 "gt2020-06-15T12:00:00Z": [r["id"] for r in every[:-1]],
                 "2019": []}
        for value, want in cases.items():
            ids, _ = self.pages(path + "&_lastUpdated=" + q(value))
            self.assertEqual(ids, want, value)
        # Two bounds intersect; the links carry both.
        ids, _ = self.pages(path + "&_lastUpdated=ge2020-06-15&_lastUpdated=lt2020-06-16")
        self.assertEqual(ids, [every[-1]["id"]])
        b = self.assertOk(GW.get("fi", path + "&_lastUpdated=ge2020&_count=1"), "Bundle")
        self.assertIn("_lastUpdated=ge2020&", link(b, "next"))
        # With a token filter too.
        system, code = self.codings(every[-1]["medicationCodeableConcept"])[0]
        ids, _ = self.pages(path + "&_lastUpdated=lt2021&code=" + q(system + "|" + code))
        self.assertEqual(ids, [every[-1]["id"]])

    def test_malformed_filters_400(self):
        pid = PATIENTS[0][1]
        for query, what in (("_lastUpdated=ne2020", "_lastUpdated"),
                            ("_lastUpdated=2020-13", "_lastUpdated"),
                            ("_lastUpdated=2020-01-01T10:00", "_lastUpdated"),
                            ("code=", "code"), ("code=%7C", "code"),
                            ("category=a,,b", "category")):
            self.assertOutcome(GW.get("fi", "/fhir/Condition?patient=%s&%s" % (pid, query)),
                               400, "invalid", what)
        self.assertOutcome(GW.get("fi", "/fhir/Condition?patient=%s&code=a&code=b" % pid),
                           400, "invalid", "repeated search parameter code")

    def test_capability_statement_lists_them(self):
        cs = self.assertOk(GW.get("fi", "/fhir/metadata"), "CapabilityStatement")
        params = {r["type"]: {p["name"] for p in r.get("searchParam", [])}
                  for r in cs["rest"][0]["resource"]}
        self.assertLessEqual({"_lastUpdated", "category", "code"}, params["Condition"])
        self.assertLessEqual({"_lastUpdated", "vaccine-code"}, params["Immunization"])
        self.assertNotIn("code", params["Immunization"])


class TestThrottle(GatewayTestCase):
    """limits.node_requests_per_s (gateway/throttle.c): a second gateway
    over the module's database, at 1 request per second with a bucket of
    5, two workers."""

    @classmethod
    def setUpClass(cls):
        cls.gw = harness.Gateway(CLUSTER, GW.pki, id_key=GW.id_key, provision=False,
                                 limits={"node_requests_per_s": 1, "node_burst_s": 5})
        cls.gw.start()

    @classmethod
    def tearDownClass(cls):
        cls.gw.cleanup()

    def test_node_over_its_rate_gets_429(self):
        pid = PATIENTS[2][1]
        before = CLUSTER.rows("select count(*) from gw.audit_record")[0][0]
        # New connections, so the kernel spreads them over both workers:
        # the bucket is the node's, not a worker's.
        t0 = time.monotonic()
        got = [self.gw.get("fi", "/fhir/Patient/" + pid) for _ in range(10)]
        elapsed = time.monotonic() - t0
        statuses = [r.status for r in got]
        ok = statuses.count(200)
        # The bucket's 5, and one more for each second the requests took.
        self.assertEqual(statuses[:5], [200] * 5)
        self.assertLessEqual(ok, 5 + int(elapsed) + 1, (statuses, elapsed))
        self.assertEqual(set(statuses) - {200}, {429}, statuses)
        r = next(r for r in reversed(got) if r.status == 429)
        self.assertOutcome(r, 429, "throttled", "over its rate of 1 requests per second")
        self.assertEqual(r.headers.get("retry-after"), "1")
        # Throttled requests cost no audit record: only the answered ones.
        after = CLUSTER.rows("select count(*) from gw.audit_record")[0][0]
        self.assertEqual(int(after) - int(before), ok)
        # Another node has its own bucket.
        self.assertOk(self.gw.get("se", "/fhir/Patient/" + pid), "Patient")
        # The bucket refills at the rate.
        time.sleep(1.1)
        self.assertOk(self.gw.get("fi", "/fhir/Patient/" + pid), "Patient")
        status, _, body = self.gw.admin_get("/metrics")
        self.assertRegex(body.decode(), r"fhirgw_throttled_total [1-9]")

    def test_node_rate_from_the_registry(self):
        crt, _ = GW.pki.node("no")
        self.gw.cli("node-add", "-c", "{config}", "--cert", crt, "--name", "no",
                    "--country", "NO", "--roles", "treatment", "--rate", "0")
        self.addCleanup(self.gw.cli, "node-add", "-c", "{config}", "--cert", crt,
                        "--name", "no", "--country", "NO", "--roles", "treatment",
                        "--rate", "default")
        statuses = [self.gw.get("no", "/fhir/metadata").status for _ in range(12)]
        self.assertEqual(statuses, [200] * 12)
        # node-add without --rate keeps it; a bad one is refused.
        self.gw.cli("node-add", "-c", "{config}", "--cert", crt, "--name", "no",
                    "--country", "NO", "--roles", "treatment")
        key = GW.pki.key_hash(crt)
        self.assertEqual(CLUSTER.rows("select requests_per_s from gw.node where key_sha256"
                                      " = '%s'" % key), [("0",)])
        r = self.gw.cli("node-add", "-c", "{config}", "--cert", crt, "--name", "no",
                        "--country", "NO", "--roles", "treatment", "--rate", "-1",
                        check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"--rate", r.stderr)


def latency_metrics():
    """{(series, route, le): value} of fhirgw_request_duration_seconds."""
    status, _, body = GW.admin_get("/metrics")
    assert status == 200, status
    out = {}
    for line in body.decode().splitlines():
        m = re.match(r'^(fhirgw_request_duration_seconds_\w+)\{route="([^"]*)"'
                     r'(?:,le="([^"]*)")?\} (\S+)$', line)
        if m:
            out[(m.group(1), m.group(2), m.group(3))] = float(m.group(4))
    return out


class TestLatencyHistogram(GatewayTestCase):
    def test_answers_counted_by_route(self):
        route = "GET /fhir/Patient/{}/$summary"
        before = latency_metrics()
        pid = PATIENTS[3][1]
        with GW.client("fi") as c:
            for _ in range(5):
                self.assertOk(c.get("/fhir/Patient/%s/$summary" % pid), "Bundle")
            self.assertOutcome(c.get("/no/such/path"), 404)
        after = latency_metrics()

        def delta(series, r, le=None):
            key = ("fhirgw_request_duration_seconds_" + series, r, le)
            return after.get(key, 0) - before.get(key, 0)

        self.assertEqual(delta("count", route), 5)
        self.assertEqual(delta("bucket", route, "+Inf"), 5)
        self.assertGreater(delta("sum", route), 0)
        self.assertGreaterEqual(delta("count", "none"), 1)  # matched no route
        # Cumulative: every bucket holds the ones below it.
        les = sorted((float(le), v) for (series, r, le), v in after.items()
                     if series.endswith("_bucket") and r == route and le != "+Inf")
        self.assertEqual(len(les), 14)
        self.assertEqual([v for _, v in les], sorted(v for _, v in les))
        self.assertLessEqual(les[-1][1], after[("fhirgw_request_duration_seconds_bucket",
                                                route, "+Inf")])


class TestRequestErrors(GatewayTestCase):
    def setUp(self):
        self.pid = PATIENTS[0][1]

    def test_missing_purpose_of_use_400(self):
        self.assertOutcome(GW.get("fi", "/fhir/Patient/" + self.pid, purpose=None), 400)

    def test_unknown_purpose_of_use_400(self):
        self.assertOutcome(GW.get("fi", "/fhir/Patient/" + self.pid, purpose="SHOPPING"), 400)

    def test_etreat_without_reason_400(self):
        self.assertOutcome(GW.get("fi", "/fhir/Patient/" + self.pid, purpose="ETREAT"), 400)

    def test_etreat_with_reason_ok(self):
        r = GW.get("fi", "/fhir/Patient/" + self.pid, purpose="ETREAT",
                   headers={"X-Emergency-Reason": "unconscious on arrival"})
        self.assertOk(r, "Patient")

    def test_unknown_search_parameter_400(self):
        r = GW.get("fi", "/fhir/Condition?patient=%s&colour=blue" % self.pid)
        self.assertOutcome(r, 400)

    def test_count_zero_400(self):
        r = GW.get("fi", "/fhir/Condition?patient=%s&_count=0" % self.pid)
        self.assertOutcome(r, 400)

    def test_count_1000_400(self):
        r = GW.get("fi", "/fhir/Condition?patient=%s&_count=1000" % self.pid)
        self.assertOutcome(r, 400)

    def test_count_not_a_number_400(self):
        r = GW.get("fi", "/fhir/Condition?patient=%s&_count=ten" % self.pid)
        self.assertOutcome(r, 400)

    def test_accept_xml_406(self):
        r = GW.get("fi", "/fhir/Patient/" + self.pid, headers={"Accept": "application/fhir+xml"})
        self.assertOutcome(r, 406)

    def test_format_xml_406(self):
        r = GW.get("fi", "/fhir/Patient/%s?_format=xml" % self.pid)
        self.assertOutcome(r, 406)

    def test_accept_json_variants_ok(self):
        for accept in ("application/fhir+json", "application/json", "*/*",
                       "application/fhir+xml;q=0.5, application/fhir+json"):
            with self.subTest(accept=accept):
                r = GW.get("fi", "/fhir/Patient/" + self.pid, headers={"Accept": accept})
                self.assertOk(r, "Patient")

    def test_post_xml_body_refused(self):
        r = GW.request("fi", "POST", "/fhir/Patient",
                       body=b'<Patient xmlns="http://hl7.org/fhir"><gender value="male"/></Patient>',
                       headers={"Content-Type": "application/fhir+xml"})
        self.assertOutcome(r, (405, 415))

    def test_head_on_summary_405(self):
        r = GW.request("fi", "HEAD", "/fhir/Patient/%s/$summary" % self.pid)
        self.assertStatus(r, 405)
        self.assertEqual(r.body, b"")

    def test_put_on_summary_405(self):
        r = GW.request("fi", "PUT", "/fhir/Patient/%s/$summary" % self.pid, body=b"{}",
                       headers={"Content-Type": "application/fhir+json"})
        self.assertOutcome(r, 405)

    def test_unknown_type_404(self):
        self.assertOutcome(GW.get("fi", "/fhir/Foo"), 404)

    def test_path_outside_base_404(self):
        self.assertOutcome(GW.get("fi", "/nothing-here"), 404)

    def test_node_without_treatment_role_403(self):
        r = GW.get("admin", "/fhir/Patient/" + self.pid)
        self.assertOutcome(r, 403, code="forbidden")
        self.assertNotIn(PATIENTS[0][0].encode(), r.body)

    def test_node_without_treatment_role_403_on_search(self):
        hetu = PATIENTS[0][0]
        r = GW.get("auditor", identifier_query(FI_HETU_SYSTEM, hetu))
        self.assertOutcome(r, 403, code="forbidden")

    def test_node_without_treatment_role_gets_metadata(self):
        self.assertOk(GW.get("admin", "/fhir/metadata"), "CapabilityStatement")


if __name__ == "__main__":
    unittest.main()
