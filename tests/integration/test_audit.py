"""The audit trail (DESIGN.md section 6, docs/audit.md).

One gateway (2 workers) over one cluster.  Every request a test sends
carries its own X-Request-Id, so its records are found by that id and
counted exactly: one per request that reached a patient-data route (or
GET AuditEvent), none for anything refused before (unknown route, unknown
node, framing).  Tampering is done in SQL as the owner role and undone
before the test ends, so `fhirgw audit-verify` must see an intact chain at
the start of every test.
"""

import json
import os
import re
import shutil
import tempfile
import threading
import time
import unittest
import uuid

import harness
from harness import FI_HETU_SYSTEM, GatewayTestCase, Pki, q, sql_literal, validate_r4

SERVERS = CLUSTER = GW = None
PATIENTS = []  # (hetu, logical id)

# A Swedish patient portal: may not read Finnish patients' audit.
SE_PORTAL = "peer"


def setUpModule():
    global SERVERS, CLUSTER, GW, PATIENTS
    SERVERS = harness.ModuleServers()
    CLUSTER = SERVERS.cluster
    with SERVERS.starting():
        GW = SERVERS.gateway(Pki.get(), patients=20, workers=2)
        GW.start()
        GW.register_node("portal", "FI", "patient-portal")
        GW.register_node(SE_PORTAL, "SE", "patient-portal")
        PATIENTS = harness.patients(CLUSTER)


def tearDownModule():
    SERVERS.stop()


_next_patient = [0]


def take_patient():
    """A patient no other test uses (so its audit is this test's)."""
    p = PATIENTS[_next_patient[0]]
    _next_patient[0] += 1
    return p


def rid(tag="r"):
    return "%s-%s" % (tag, uuid.uuid4().hex)


def records(where):
    """Audit rows (dicts of a few columns) matching a SQL condition."""
    out = CLUSTER.psql(
        "select coalesce(json_agg(json_build_object('seq', seq, 'status', status,"
        " 'request_id', request_id, 'decision', decision, 'rule', rule,"
        " 'operation', operation, 'purpose', purpose, 'patient_logical_id',"
        " patient_logical_id, 'patient_national_id', patient_national_id,"
        " 'returned_types', returned_types, 'returned_ids', returned_ids,"
        " 'returned_count', returned_count, 'break_glass', break_glass,"
        " 'emergency_reason', emergency_reason, 'practitioner', practitioner,"
        " 'organization', organization, 'traceparent', traceparent,"
        " 'node_name', node_name, 'node_country', node_country, 'request', request)"
        " order by seq), '[]') from gw.audit_record where %s" % where)
    return json.loads(out)


def by_request_id(request_id):
    return records("request_id = %s" % sql_literal(request_id))


def verify(config=None, anchor=None):
    """Run fhirgw audit-verify: (exit status, stdout + stderr)."""
    extra = ("--anchor", anchor) if anchor is not None else ()
    p = GW.cli("audit-verify", "-c", config or "{config}", *extra, check=False)
    return p.returncode, (p.stdout + p.stderr).decode("utf-8", "replace")


def as_owner(sql):
    """Tamper as the owner role (what a DBA could do)."""
    return CLUSTER.psql("set role fhirgw;\n" + sql)


def add_rule(hetu, decision="deny", emergency_override=False):
    out = CLUSTER.psql(
        "insert into gw.consent_rule (patient_system, patient_id, decision,"
        " emergency_override) values (%s, %s, %s, %s) returning id"
        % (sql_literal(FI_HETU_SYSTEM), sql_literal(hetu), sql_literal(decision),
           "true" if emergency_override else "false"))
    return int(out.strip())


class AuditCase(GatewayTestCase):
    def setUp(self):
        code, out = verify()
        self.assertEqual(code, 0, "chain not intact before the test: %s" % out)

    def tearDown(self):
        code, out = verify()
        self.assertEqual(code, 0, "chain not intact after the test: %s" % out)


class TestEveryRequestRecordedOnce(AuditCase):
    """A scripted run of permitted, denied and failed requests: exactly one
    record each, none for requests refused before a route took them."""

    def test_scripted_run(self):
        hetu, pid = take_patient()
        denied_hetu, denied_pid = take_patient()
        rule = add_rule(denied_hetu, "deny")
        r = GW.get("fi", "/fhir/Condition?patient=%s&_count=1" % pid)
        self.assertOk(r, "Bundle")
        entries = r.json.get("entry") or []
        condition = entries[0]["resource"]["id"] if entries else "fi-1"

        # (node, path, purpose, extra headers, expected status, audited)
        script = [
            ("fi", "/fhir/Patient/" + pid, "TREAT", {}, 200, True),
            ("fi", "/fhir/Patient/%s/$summary" % pid, "TREAT", {}, 200, True),
            ("fi", "/fhir/Condition?patient=" + pid, "TREAT", {}, 200, True),
            ("fi", "/fhir/Condition/" + condition, "TREAT", {}, (200, 404), True),
            ("fi", "/fhir/Patient?identifier=" + q(FI_HETU_SYSTEM + "|" + hetu), "TREAT",
             {}, 200, True),
            ("no", "/fhir/Patient/" + pid, "TREAT", {}, 200, True),
            # denied by consent
            ("fi", "/fhir/Patient/" + denied_pid, "TREAT", {}, 403, True),
            ("fi", "/fhir/Patient/%s/$summary" % denied_pid, "TREAT", {}, 403, True),
            ("fi", "/fhir/Patient/" + pid, "HRESCH", {}, 403, True),
            # failed at the route: role, purpose, parameters, unknown patient
            ("auditor", "/fhir/Patient/" + pid, "TREAT", {}, 403, True),
            ("fi", "/fhir/Patient/" + pid, None, {}, 400, True),
            ("fi", "/fhir/Patient/" + pid, "ETREAT", {}, 400, True),
            ("fi", "/fhir/Condition?patient=%s&color=red" % pid, "TREAT", {}, 400, True),
            ("fi", "/fhir/Patient/fi-aaaaaaaaaaaaaaaaaaaaaaaaaa", "TREAT", {}, 404, True),
            ("fi", "/fhir/Patient/xx-nobody", "TREAT", {}, 404, True),
            # a patient that is not a plain FHIR id (its column is read back
            # from the record by the database)
            ("fi", "/fhir/Condition?patient=fi-not%2Aan%20id", "TREAT", {}, (400, 404), True),
            # reading the audit is audited too, allowed or not
            ("auditor", "/fhir/AuditEvent?patient=" + pid, None, {}, 200, True),
            ("portal", "/fhir/AuditEvent?patient=" + pid, None, {}, 200, True),
            ("fi", "/fhir/AuditEvent?patient=" + pid, "TREAT", {}, 403, True),
            ("auditor", "/fhir/AuditEvent", None, {}, 400, True),
            # not about anyone's data, or refused before any route: none
            ("fi", "/fhir/metadata", None, {}, 200, False),
            ("fi", "/nothing-here", "TREAT", {}, 404, False),
            ("fi", "/fhir/Patient/" + pid, "TREAT",
             {"Accept": "application/fhir+xml"}, 406, False),
            ("unknown", "/fhir/Patient/" + pid, "TREAT", {}, 403, False),
        ]
        sent = []
        for node, path, purpose, headers, status, audited in script:
            request_id = rid("script")
            h = dict(headers)
            h["X-Request-Id"] = request_id
            resp = GW.get(node, path, purpose=purpose, headers=h)
            self.assertStatus(resp, status)
            # Committed before the answer left: visible at once, no wait.
            recs = by_request_id(request_id)
            self.assertEqual(len(recs), 1 if audited else 0,
                             "%s %s (%s): %d records" % (node, path, resp.status, len(recs)))
            if audited:
                self.assertEqual(recs[0]["status"], resp.status)
            sent.append((request_id, audited, resp.status))
        ids = ", ".join(sql_literal(i) for i, _, _ in sent)
        total = records("request_id in (%s)" % ids)
        self.assertEqual(len(total), sum(1 for _, a, _ in sent if a))
        # The consent denial names its rule; the permit the national default.
        denied = by_request_id(sent[6][0])[0]
        self.assertEqual((denied["decision"], denied["rule"]),
                         ("deny", "consent_rule/%d" % rule))
        self.assertEqual(denied["patient_national_id"], denied_hetu)
        self.assertEqual(denied["returned_count"], 0)
        raw = by_request_id(sent[15][0])[0]
        self.assertEqual(raw["patient_logical_id"], "fi-not*an id")
        permitted = by_request_id(sent[0][0])[0]
        self.assertEqual((permitted["decision"], permitted["rule"]),
                         ("permit", "consent_default/FI/TREAT"))
        self.assertEqual(permitted["returned_ids"], ["Patient/" + pid])

    def test_fields_of_a_record(self):
        hetu, pid = take_patient()
        add_rule(hetu, "deny", emergency_override=True)
        request_id = rid("fields")
        headers = {
            "X-Request-Id": request_id,
            "X-Requesting-Practitioner": "urn:oid:1.2.246.537.26|9876543",
            "X-Requesting-Organization": "urn:oid:1.2.246.10.1234567|HUS",
            "X-Emergency-Reason": "unconscious on arrival",
            "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        }
        r = GW.get("no", "/fhir/Patient/%s/$summary" % pid, purpose="ETREAT",
                   headers=headers)
        self.assertOk(r, "Bundle")
        rec, = by_request_id(request_id)
        self.assertEqual(rec["node_name"], "no")
        self.assertEqual(rec["node_country"], "NO")
        self.assertEqual(rec["purpose"], "ETREAT")
        self.assertEqual(rec["practitioner"], headers["X-Requesting-Practitioner"])
        self.assertEqual(rec["organization"], headers["X-Requesting-Organization"])
        self.assertEqual(rec["traceparent"], headers["traceparent"])
        self.assertTrue(rec["break_glass"])
        self.assertEqual(rec["emergency_reason"], "unconscious on arrival")
        self.assertEqual(rec["operation"], "$summary")
        self.assertEqual(rec["patient_logical_id"], pid)
        self.assertEqual(rec["patient_national_id"], hetu)
        self.assertEqual(rec["decision"], "permit")
        # What was returned: the document and its entries.
        returned = [e["resource"]["resourceType"] + "/" + e["resource"]["id"]
                    for e in r.json["entry"]]
        self.assertEqual(rec["returned_count"], len(returned) + 1)
        self.assertEqual(rec["returned_ids"][0], "Bundle/" + r.json["id"])
        self.assertEqual(rec["returned_ids"][1:], returned[:99])
        self.assertIn("Composition", rec["returned_types"])

    def test_client_gone_still_recorded(self):
        _, pid = take_patient()
        request_id = rid("gone")
        with GW.raw_conn("fi") as c:
            # The first answer makes the node known on this connection;
            # the client then leaves while its $summary is under way.
            c.send(b"GET /fhir/metadata HTTP/1.1\r\nHost: localhost\r\n\r\n")
            c.read_responses(1)
            c.send(("GET /fhir/Patient/%s/$summary HTTP/1.1\r\nHost: localhost\r\n"
                    "X-Purpose-Of-Use: TREAT\r\nX-Request-Id: %s\r\n\r\n"
                    % (pid, request_id)).encode())
        deadline = time.monotonic() + 10
        while not by_request_id(request_id) and time.monotonic() < deadline:
            time.sleep(0.05)
        recs = by_request_id(request_id)
        self.assertEqual(len(recs), 1, recs)
        self.assertIn(recs[0]["status"], (200, 499))


class TestAuditEvent(AuditCase):
    @classmethod
    def setUpClass(cls):
        cls.hetu, cls.pid = take_patient()
        cls.rids = []
        for i in range(5):
            request_id = rid("ae")
            cls.rids.append(request_id)
            r = GW.get("fi", "/fhir/Patient/%s/$summary" % cls.pid, headers={
                "X-Request-Id": request_id,
                "X-Requesting-Practitioner": "urn:oid:1.2.246.537.26|111"})
            if r.status != 200:
                raise AssertionError("$summary gave %s" % r.status)

    def search(self, query="", node="auditor"):
        return GW.get(node, "/fhir/AuditEvent?patient=%s%s" % (self.pid, query),
                      purpose=None)

    def test_bundle_validates_r4(self):
        b = self.assertOk(self.search(), "Bundle")
        validate_r4(b)
        self.assertEqual(b["type"], "searchset")
        self.assertGreaterEqual(b["total"], 5)
        for e in b["entry"]:
            validate_r4(e["resource"])

    def test_balp_shape(self):
        b = self.assertOk(self.search(), "Bundle")
        ev = [e["resource"] for e in b["entry"]
              if any(((x.get("what") or {}).get("identifier") or {}).get("value")
                     == self.rids[0] for x in e["resource"].get("entity", []))]
        self.assertEqual(len(ev), 1, "the record of request %s" % self.rids[0])
        ev = ev[0]
        self.assertEqual(ev["type"]["code"], "rest")
        self.assertEqual(ev["subtype"][0]["code"], "operation")
        self.assertEqual(ev["action"], "E")
        self.assertEqual(ev["outcome"], "0")
        self.assertEqual(ev["purposeOfEvent"][0]["coding"][0]["code"], "TREAT")
        agent_types = [a["type"]["coding"][0]["code"] for a in ev["agent"]]
        self.assertIn("110153", agent_types)  # the node: Source Role ID
        self.assertIn("110152", agent_types)  # this gateway: Destination Role ID
        self.assertIn("IRCP", agent_types)    # the practitioner
        user = [a for a in ev["agent"] if a["requestor"]]
        self.assertEqual(user[0]["who"]["identifier"]["value"], "111")
        roles = [(e.get("role") or {}).get("code") for e in ev["entity"]]
        self.assertEqual(roles.count("1"), 1)  # the patient
        self.assertGreater(roles.count("4"), 1)  # the data returned
        patient = ev["entity"][roles.index("1")]
        self.assertEqual(patient["what"]["reference"], "Patient/" + self.pid)
        self.assertEqual(patient["what"]["identifier"]["value"], self.hetu)

    def test_paging(self):
        first = self.assertOk(self.search("&_count=2"), "Bundle")
        self.assertEqual(len(first["entry"]), 2)
        links = {ln["relation"]: ln["url"] for ln in first["link"]}
        self.assertIn("next", links)
        second = self.assertOk(GW.get("auditor", GW.path_of(links["next"]), purpose=None),
                               "Bundle")
        seen = [e["resource"]["id"] for e in first["entry"] + second["entry"]]
        self.assertEqual(len(seen), len(set(seen)))
        self.assertEqual(sorted(seen, key=int), seen)  # chain order

    def test_date_filter(self):
        today = time.strftime("%Y-%m-%d", time.gmtime())
        b = self.assertOk(self.search("&date=ge" + today), "Bundle")
        self.assertGreaterEqual(b["total"], 5)
        b = self.assertOk(self.search("&date=ge2000-01-01&date=lt2001"), "Bundle")
        self.assertEqual(b["total"], 0)
        b = self.assertOk(self.search("&date=le2000-12-31T10:00:00%2B02:00"), "Bundle")
        self.assertEqual(b["total"], 0)
        self.assertOutcome(self.search("&date=2025-13-01"), 400)
        self.assertOutcome(self.search("&date=ne2025"), 400)

    def test_reading_is_audited(self):
        request_id = rid("read")
        r = GW.get("auditor", "/fhir/AuditEvent?patient=%s&_count=3" % self.pid,
                   purpose=None, headers={"X-Request-Id": request_id})
        b = self.assertOk(r, "Bundle")
        rec, = by_request_id(request_id)
        self.assertEqual(rec["returned_types"], ["AuditEvent"])
        self.assertEqual(rec["returned_ids"],
                         ["AuditEvent/" + e["resource"]["id"] for e in b["entry"]])
        self.assertEqual(rec["patient_logical_id"], self.pid)
        self.assertEqual((rec["decision"], rec["rule"]), ("permit", "role/auditor"))

    def test_portal_of_the_patients_country(self):
        self.assertOk(self.search(node="portal"), "Bundle")

    def test_portal_of_another_country_403(self):
        self.assertOutcome(self.search(node=SE_PORTAL), 403)

    def test_treatment_node_403(self):
        self.assertOutcome(self.search(node="fi"), 403)

    def first_event(self):
        b = self.assertOk(self.search("&_count=1"), "Bundle")
        return b["entry"][0]

    def test_read_by_id(self):
        """A search entry's fullUrl reads back the same AuditEvent."""
        entry = self.first_event()
        r = GW.get("auditor", GW.path_of(entry["fullUrl"]), purpose=None)
        ev = self.assertOk(r, "AuditEvent")
        validate_r4(ev)
        self.assertEqual(ev, entry["resource"])
        self.assertEqual(GW.path_of(entry["fullUrl"]), "/fhir/AuditEvent/" + ev["id"])

    def test_read_unknown_or_malformed_id_404(self):
        for bad in ("999999999999999999", "0", "01", "abc", "1.5", "-1",
                    "9999999999999999999"):
            with self.subTest(id=bad):
                self.assertOutcome(GW.get("auditor", "/fhir/AuditEvent/" + bad,
                                          purpose=None), 404, "not-found")

    def test_read_roles(self):
        path = "/fhir/AuditEvent/" + self.first_event()["resource"]["id"]
        self.assertOk(GW.get("portal", path, purpose=None), "AuditEvent")
        self.assertOutcome(GW.get(SE_PORTAL, path, purpose=None), 403)
        self.assertOutcome(GW.get("fi", path, purpose=None), 403)

    def test_read_is_audited(self):
        ev_id = self.first_event()["resource"]["id"]
        request_id = rid("readone")
        self.assertOk(GW.get("auditor", "/fhir/AuditEvent/" + ev_id, purpose=None,
                             headers={"X-Request-Id": request_id}), "AuditEvent")
        rec, = by_request_id(request_id)
        self.assertEqual(rec["returned_ids"], ["AuditEvent/" + ev_id])
        self.assertEqual(rec["patient_logical_id"], self.pid)
        self.assertEqual((rec["decision"], rec["rule"]), ("permit", "role/auditor"))

    def test_patient_required(self):
        self.assertOutcome(GW.get("auditor", "/fhir/AuditEvent", purpose=None), 400)
        self.assertOutcome(GW.get("auditor", "/fhir/AuditEvent?patient=%s&x=1" % self.pid,
                                  purpose=None), 400)


class TestVerify(AuditCase):
    """audit-verify finds every kind of tampering, at the right position."""

    @classmethod
    def setUpClass(cls):
        _, pid = take_patient()
        for _ in range(6):
            GW.get("fi", "/fhir/Patient/" + pid)

    def chain_end(self):
        return int(CLUSTER.psql("select max(seq) from gw.audit").strip())

    def assertBroken(self, position=None, words=None):
        code, out = verify()
        self.assertEqual(code, 1, out)
        self.assertIn("BROKEN", out)
        if position is not None:
            self.assertIn("at position %d" % position, out)
        if words:
            self.assertIn(words, out)

    def test_intact(self):
        code, out = verify()
        self.assertEqual(code, 0, out)
        self.assertIn("records, chain intact", out)

    def test_edited_canonical(self):
        k = self.chain_end() - 3
        old = CLUSTER.psql("select canonical from gw.audit where seq = %d" % k).rstrip("\n")
        as_owner("update gw.audit set canonical = replace(canonical, '{\"v\":1,',"
                 " '{\"v\":2,') where seq = %d" % k)
        try:
            self.assertBroken(k, "edited")
        finally:
            as_owner("update gw.audit set canonical = %s where seq = %d"
                     % (sql_literal(old), k))

    def test_edited_column(self):
        # Moving a record to another patient would hide it from the first
        # patient's AuditEvents; the canonical text still names them.
        k = self.chain_end() - 2
        old = CLUSTER.psql("select patient_logical_id from gw.audit where seq = %d"
                           % k).strip()
        as_owner("update gw.audit set patient_logical_id = 'fi-somebody-else'"
                 " where seq = %d" % k)
        try:
            self.assertBroken(k, "column patient_logical_id")
        finally:
            as_owner("update gw.audit set patient_logical_id = %s where seq = %d"
                     % (sql_literal(old), k))

    def test_edited_time(self):
        k = self.chain_end() - 1
        as_owner("update gw.audit set recorded_at = recorded_at - interval '1 day'"
                 " where seq = %d" % k)
        try:
            self.assertBroken(k, "column recorded_at")
        finally:
            as_owner("update gw.audit set recorded_at = recorded_at + interval '1 day'"
                     " where seq = %d" % k)

    def test_deleted_record(self):
        k = self.chain_end() - 2
        as_owner("create table gw.audit_saved as select * from gw.audit where seq = %d;"
                 "delete from gw.audit where seq = %d" % (k, k))
        try:
            self.assertBroken(k, "expected seq %d" % k)
        finally:
            as_owner("insert into gw.audit select * from gw.audit_saved;"
                     "drop table gw.audit_saved")

    def test_deleted_last_record(self):
        k = self.chain_end()
        as_owner("create table gw.audit_saved as select * from gw.audit where seq = %d;"
                 "delete from gw.audit where seq = %d" % (k, k))
        try:
            self.assertBroken(k, "deleted at the end")
        finally:
            as_owner("insert into gw.audit select * from gw.audit_saved;"
                     "drop table gw.audit_saved")

    def test_reordered_records(self):
        k = self.chain_end() - 3
        swap = ("update gw.audit set seq = 999999999 where seq = {a};"
                "update gw.audit set seq = {a} where seq = {b};"
                "update gw.audit set seq = {b} where seq = 999999999;")
        as_owner(swap.format(a=k, b=k + 1))
        try:
            self.assertBroken(k, "prev_hash")
        finally:
            as_owner(swap.format(a=k, b=k + 1))

    def test_inserted_record(self):
        # A forger who knows the chain rule appends a well-chained record
        # but cannot move the head without being seen either.
        k = self.chain_end()
        as_owner(
            "insert into gw.audit (seq, recorded_at, patient_logical_id, canonical,"
            " prev_hash, hash) select seq + 1, recorded_at, patient_logical_id, canonical,"
            " hash, sha256(hash || convert_to(canonical, 'UTF8')) from gw.audit"
            " where seq = %d"
            % k)
        try:
            self.assertBroken(k + 1, "outside gw.audit_append")
        finally:
            as_owner("delete from gw.audit where seq = %d" % (k + 1))

    def test_inserted_in_the_middle(self):
        k = self.chain_end() - 1
        as_owner("create table gw.audit_saved as select * from gw.audit where seq >= %d;"
                 "delete from gw.audit where seq >= %d;"
                 "insert into gw.audit (seq, recorded_at, patient_logical_id, canonical,"
                 " prev_hash, hash) select seq + 1, recorded_at, patient_logical_id,"
                 " canonical, prev_hash, hash from gw.audit_saved;"
                 "insert into gw.audit select * from gw.audit_saved where seq = %d;"
                 % (k, k, k))
        try:
            self.assertBroken(k + 1, "prev_hash")
        finally:
            as_owner("delete from gw.audit where seq >= %d;"
                     "insert into gw.audit select * from gw.audit_saved;"
                     "drop table gw.audit_saved" % k)

    def anchor(self):
        code, out = verify()
        self.assertEqual(code, 0, out)
        m = re.search(r"\(anchor (\d+):([0-9a-f]{64})\)", out)
        self.assertIsNotNone(m, out)
        return int(m.group(1)), m.group(2)

    def test_anchor_reveals_a_recomputed_chain(self):
        # The owner edits a record and recomputes every later hash and the
        # head: the chain alone is intact again, the anchor kept from an
        # earlier run is not reached.
        seq, head = self.anchor()
        code, out = verify(anchor="%d:%s" % (seq, head))
        self.assertEqual(code, 0, out)
        self.assertIn("anchor reached", out)
        k = seq - 2
        as_owner(
            "create table gw.audit_saved as select * from gw.audit where seq >= {k};"
            "create table gw.head_saved as select * from gw.audit_head;"
            "update gw.audit set canonical = replace(canonical, '{{\"v\":1,',"
            " '{{\"v\":2,') where seq = {k};"
            "do $$ declare h bytea; r record; begin"
            " select prev_hash into h from gw.audit where seq = {k};"
            " for r in select seq, canonical from gw.audit where seq >= {k} order by seq loop"
            "  h := sha256(h || convert_to(r.canonical, 'UTF8'));"
            "  update gw.audit set hash = h,"
            "   prev_hash = (select a.hash from gw.audit a where a.seq = r.seq - 1)"
            "   where seq = r.seq;"
            " end loop;"
            " update gw.audit_head set hash = h;"
            " end $$;".format(k=k))
        try:
            code, out = verify()
            self.assertEqual(code, 0, "the recomputed chain should pass alone: " + out)
            code, out = verify(anchor="%d:%s" % (seq, head))
            self.assertEqual(code, 1, out)
            self.assertIn("BROKEN at position %d" % seq, out)
            self.assertIn("not the anchored one", out)
        finally:
            as_owner("delete from gw.audit where seq >= %d;"
                     "insert into gw.audit select * from gw.audit_saved;"
                     "update gw.audit_head set hash = (select hash from gw.head_saved);"
                     "drop table gw.audit_saved; drop table gw.head_saved" % k)
        code, out = verify(anchor="%d:%s" % (seq, head))
        self.assertEqual(code, 0, out)

    def test_anchor_past_the_end(self):
        seq, head = self.anchor()
        code, out = verify(anchor="%d:%s" % (seq + 1000, head))
        self.assertEqual(code, 1, out)
        self.assertIn("before the anchored seq %d" % (seq + 1000), out)

    def test_malformed_anchor_is_2(self):
        for bad in ("12", "x:" + "0" * 64, "3:" + "0" * 63, "0:" + "0" * 64,
                    "3:" + "A" * 64):
            code, out = verify(anchor=bad)
            self.assertEqual(code, 2, (bad, out))

    def test_cannot_run_is_2(self):
        with open(GW.config_path) as f:
            cfg = json.load(f)
        cfg["database"]["migrate_conninfo"] = \
            "host=/nonexistent port=1 dbname=fhirgw user=fhirgw connect_timeout=2"
        path = os.path.join(GW.dir, "unreachable.json")
        with open(path, "w") as f:
            json.dump(cfg, f)
        code, out = verify(path)
        self.assertEqual(code, 2, out)


class TestUpgradeFrom011(AuditCase):
    """A database with records written by 011's gw.audit_append(jsonb) keeps
    its chain through 012 (the slim row): audit-verify passes before and
    after, 011's signature still appends, and gw.audit_record shows every
    field of the old records."""

    DB = "fhirgw_upgrade_011"

    def setUp(self):
        super().setUp()
        CLUSTER.create_database(self.DB)
        self.dir = tempfile.mkdtemp(prefix="migrations-", dir=GW.dir)
        src = os.path.join(harness.SOURCE_DIR, "deploy", "migrations")
        self.later = sorted(f for f in os.listdir(src) if f[:4] in ("012_", "013_"))
        for f in os.listdir(src):
            if f not in self.later:
                shutil.copy(os.path.join(src, f), self.dir)
        with open(GW.config_path) as f:
            cfg = json.load(f)
        cfg["database"]["migrate_conninfo"] = CLUSTER.conninfo_for(self.DB, owner=True)
        cfg["migrations_dir"] = self.dir
        self.config = os.path.join(GW.dir, "upgrade.json")
        with open(self.config, "w") as f:
            json.dump(cfg, f)
        self.src = src

    def tearDown(self):
        CLUSTER.psql("drop database if exists %s" % self.DB, db="postgres")
        shutil.rmtree(self.dir, ignore_errors=True)
        super().tearDown()

    def append(self, call, canon):
        return CLUSTER.psql(call % sql_literal(canon), user="fhirgw_app", db=self.DB)

    def test_chain_survives_the_upgrade(self):
        hetu, pid = take_patient()
        self.assertOk(GW.get("fi", "/fhir/Patient/%s/$summary" % pid), "Bundle")
        self.assertOk(GW.get("fi", "/fhir/Patient/" + pid), "Patient")
        real = [row[0] for row in CLUSTER.rows(
            "select canonical from gw.audit order by seq desc limit 4")]
        GW.cli("migrate", "-c", self.config)
        self.assertEqual(CLUSTER.psql(
            "select count(*) from information_schema.columns where table_schema = 'gw'"
            " and table_name = 'audit'", db=self.DB).strip(), "26")
        self.append("select gw.audit_append(%s::jsonb)", json.dumps(real[:2]))
        self.append("select gw.audit_append(%s::jsonb)", json.dumps(real[2:3]))
        code, out = verify(self.config)
        self.assertEqual(code, 0, out)
        self.assertIn("ok: 3 records", out)

        for f in self.later:
            shutil.copy(os.path.join(self.src, f), self.dir)
        GW.cli("migrate", "-c", self.config)
        self.assertEqual(CLUSTER.psql(
            "select string_agg(column_name, ',' order by ordinal_position)"
            " from information_schema.columns where table_schema = 'gw'"
            " and table_name = 'audit'", db=self.DB).strip(),
            "seq,recorded_at,patient_logical_id,canonical,prev_hash,hash")
        code, out = verify(self.config)
        self.assertEqual(code, 0, out)
        self.assertIn("ok: 3 records", out)

        # The new signature and the old one append to the same chain.
        self.append("select gw.audit_append(array[%s])", real[3])
        self.append("select gw.audit_append(%s::jsonb)", json.dumps(real[:1]))
        code, out = verify(self.config)
        self.assertEqual(code, 0, out)
        self.assertIn("ok: 5 records", out)

        # The view gives back every field, from the canonical text.
        got = json.loads(CLUSTER.psql(
            "select row_to_json(r) from gw.audit_record r where seq = 4", db=self.DB))
        rec = json.loads(real[3])
        for column, path in (("node_name", "node.name"), ("purpose", "purpose"),
                             ("patient_national_id", "patient.id"),
                             ("patient_logical_id", "patient.logical"),
                             ("request_id", "request_id"), ("status", "status"),
                             ("returned_types", "returned.types"),
                             ("returned_count", "returned.count"),
                             ("break_glass", "break_glass"), ("decision", "decision")):
            want = rec
            for key in path.split("."):
                want = want[key]
            self.assertEqual(got[column], want, column)
        self.assertEqual(got["canonical"], real[3])

    def test_bad_batches_are_refused(self):
        GW.cli("migrate", "-c", self.config)
        for f in self.later:
            shutil.copy(os.path.join(self.src, f), self.dir)
        GW.cli("migrate", "-c", self.config)
        for call in ("select gw.audit_append(null::text[])",
                     "select gw.audit_append(array[['{}']])",
                     "select gw.audit_append(array['not json'])",
                     "select gw.audit_append(array['{\"v\":1}'])"):
            with self.assertRaises(harness.HarnessError, msg=call):
                CLUSTER.psql(call, user="fhirgw_app", db=self.DB)
        for call in ("select gw.audit_append(array['{}'], array[]::text[], array[null])",
                     "select gw.audit_append(array['{}'], array[null], null::text[])",
                     "select gw.audit_append(array[['{}']], array[[null]], array[[null]])"):
            with self.assertRaises(harness.HarnessError, msg=call):
                CLUSTER.psql(call, user="fhirgw_app", db=self.DB)
        self.assertEqual(CLUSTER.psql("select seq from gw.audit_head", db=self.DB).strip(),
                         "0")

    def test_given_columns(self):
        """013: the gateway hands over recorded_at and the patient id beside each
        record; a NULL is read from the record, and a column that disagrees with
        its record is what audit-verify reports."""
        _, pid = take_patient()
        self.assertOk(GW.get("fi", "/fhir/Patient/" + pid), "Patient")
        canon = CLUSTER.rows("select canonical from gw.audit order by seq desc limit 1")[0][0]
        rec = json.loads(canon)
        for f in self.later:
            shutil.copy(os.path.join(self.src, f), self.dir)
        GW.cli("migrate", "-c", self.config)

        def append(recorded, patient):
            CLUSTER.psql("select gw.audit_append(array[%s], array[%s]::text[],"
                         " array[%s]::text[])" % (sql_literal(canon), recorded, patient),
                         user="fhirgw_app", db=self.DB)
        append(sql_literal(rec["time"]), sql_literal(pid))
        append("null", "null")
        self.append("select gw.audit_append(array[%s])", canon)
        self.assertEqual(CLUSTER.rows(
            "select patient_logical_id, to_char(recorded_at at time zone 'UTC',"
            " 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') from gw.audit order by seq",
            db=self.DB), [(pid, rec["time"])] * 3)
        code, out = verify(self.config)
        self.assertEqual(code, 0, out)
        self.assertIn("ok: 3 records", out)

        append(sql_literal(rec["time"]), sql_literal("fi-somebody-else"))
        code, out = verify(self.config)
        self.assertEqual(code, 1, out)
        self.assertIn("at position 4", out)
        self.assertIn("column patient_logical_id", out)


class TestRuntimeRole(AuditCase):
    """The gateway's role can append only through gw.audit_append and can
    never change or remove a record."""

    def as_app(self, sql):
        with self.assertRaises(harness.HarnessError) as cm:
            CLUSTER.psql(sql, user="fhirgw_app")
        return str(cm.exception)

    def test_no_update(self):
        self.assertIn("permission denied", self.as_app("update gw.audit set canonical = ''"))

    def test_no_delete(self):
        self.assertIn("permission denied", self.as_app("delete from gw.audit"))

    def test_no_truncate(self):
        self.assertIn("permission denied", self.as_app("truncate gw.audit"))

    def test_no_head_update(self):
        self.assertIn("permission denied",
                      self.as_app("update gw.audit_head set seq = 0"))

    def test_no_direct_insert(self):
        err = self.as_app(
            "insert into gw.audit (seq, recorded_at, patient_logical_id, canonical,"
            " prev_hash, hash) select seq + 1000000, recorded_at, patient_logical_id,"
            " canonical, prev_hash, hash from gw.audit limit 1")
        self.assertIn("violates row-level security policy", err)

    def test_no_direct_copy(self):
        # COPY is the other way rows enter a table; the runtime role has
        # INSERT (the append switch), so only the policy stands in its way.
        err = self.as_app("copy gw.audit (seq, recorded_at, patient_logical_id, canonical,"
                          " prev_hash, hash) from stdin")
        self.assertIn("row-level security", err)

    def test_gateway_is_not_the_owner(self):
        with open(GW.config_path) as f:
            cfg = json.load(f)
        self.assertIn("user=fhirgw_app", cfg["database"]["conninfo"])
        owner = CLUSTER.psql("select tableowner from pg_tables where schemaname = 'gw'"
                             " and tablename = 'audit'").strip()
        self.assertEqual(owner, "fhirgw")


class TestAuditUnavailable(AuditCase):
    """INSERT revoked from the gateway's role: 503, and no data leaves."""

    def test_revoked_insert_503_no_data(self):
        hetu, pid = take_patient()
        self.assertOk(GW.get("fi", "/fhir/Patient/%s/$summary" % pid), "Bundle")
        before = int(CLUSTER.psql("select count(*) from gw.audit").strip())
        CLUSTER.psql("revoke insert on gw.audit from fhirgw_app")
        try:
            for path in ("/fhir/Patient/%s/$summary" % pid, "/fhir/Patient/" + pid,
                         "/fhir/Condition?patient=" + pid,
                         "/fhir/Patient?identifier=" + q(FI_HETU_SYSTEM + "|" + hetu)):
                r = GW.get("fi", path)
                self.assertOutcome(r, 503, code="transient")
                self.assertNotIn(hetu.encode(), r.body)
                self.assertNotIn(b"Bundle", r.body)
                self.assertNotIn(b'"Patient"', r.body)
            r = GW.get("auditor", "/fhir/AuditEvent?patient=" + pid, purpose=None)
            self.assertOutcome(r, 503)
            self.assertNotIn(b"AuditEvent", r.body)
        finally:
            CLUSTER.psql("grant insert on gw.audit to fhirgw_app")
        self.assertEqual(int(CLUSTER.psql("select count(*) from gw.audit").strip()), before)
        self.assertOk(GW.get("fi", "/fhir/Patient/%s/$summary" % pid), "Bundle")


class TestDurableBeforeAnswer(AuditCase):
    """The record of an answer is flushed to PostgreSQL's WAL before the
    answer leaves, even on a cluster run with synchronous_commit=off (as the
    test clusters are): the gateway raises its sessions to "on" (gateway/db.c).

    WAL the WAL writer has not flushed yet is read by no one, so the test
    makes the writer lazy (wal_writer_delay 10 s: an asynchronous commit
    then stays unflushed for seconds) and looks, with pg_walinspect, for
    the commit record of the transaction that inserted each answer's audit
    row among the WAL flushed when the answer arrived."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        CLUSTER.psql("create extension if not exists pg_walinspect;"
                     " alter system set wal_writer_delay = '10s';"
                     " select pg_reload_conf();")

    @classmethod
    def tearDownClass(cls):
        CLUSTER.psql("alter system reset wal_writer_delay; select pg_reload_conf();"
                     " drop extension pg_walinspect;")
        super().tearDownClass()

    def flushed_commits(self, since, xid):
        """Commit records of transaction xid in the WAL flushed after LSN since."""
        return int(CLUSTER.psql(
            "select case when pg_current_wal_flush_lsn() > '%s'::pg_lsn then"
            " (select count(*) from pg_get_wal_records_info('%s',"
            " pg_current_wal_flush_lsn()) w where w.resource_manager = 'Transaction'"
            " and w.record_type = 'COMMIT' and w.xid = '%s'::xid) else 0 end"
            % (since, since, xid)).strip())

    def test_commit_flushed_when_answered(self):
        _, pid = take_patient()
        for n in range(4):
            since = CLUSTER.psql("select pg_current_wal_insert_lsn()").strip()
            request_id = rid("durable")
            self.assertOk(GW.get("fi", "/fhir/Patient/" + pid,
                                 headers={"X-Request-Id": request_id}), "Patient")
            # Read before anything else can flush: a psql read writes no WAL.
            xid = CLUSTER.psql(
                "select a.xmin from gw.audit a join gw.audit_record r on r.seq = a.seq"
                " where r.request_id = %s" % sql_literal(request_id)).strip()
            self.assertTrue(xid, "no audit record for request %d" % n)
            self.assertEqual(self.flushed_commits(since, xid), 1,
                             "request %d answered before its audit commit was flushed" % n)


class TestConcurrency(AuditCase):
    """Many parallel requests over both workers: one valid chain, one
    record per request, and records that finished together share a
    transaction (group commit)."""

    THREADS = 16
    PER_THREAD = 25

    def test_parallel_requests_one_chain(self):
        tag = rid("conc")
        targets = [pid for _, pid in PATIENTS[-6:]]
        errors = []
        statuses = []
        lock = threading.Lock()

        def worker(n):
            try:
                with GW.client("fi", timeout=30) as c:
                    for i in range(self.PER_THREAD):
                        pid = targets[(n + i) % len(targets)]
                        path = ("/fhir/Patient/%s/$summary" % pid if i % 2 == 0
                                else "/fhir/Patient/" + pid)
                        r = c.get(path, headers={"X-Request-Id": "%s-%d-%d" % (tag, n, i)})
                        with lock:
                            statuses.append(r.status)
            except Exception as e:  # reported below
                with lock:
                    errors.append(repr(e))

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(self.THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual(errors, [])
        sent = self.THREADS * self.PER_THREAD
        self.assertEqual(statuses, [200] * sent)
        row = CLUSTER.psql(
            "select count(*), count(distinct canonical::jsonb ->> 'request_id'),"
            " count(distinct xmin::text)"
            " from gw.audit where canonical::jsonb ->> 'request_id' like %s"
            % sql_literal(tag + "-%")).strip()
        count, distinct, transactions = map(int, row.split("|"))
        self.assertEqual((count, distinct), (sent, sent))
        note = "%d records in %d transactions" % (count, transactions)
        self.assertLess(transactions, count, "no group commit: " + note)
        gaps = CLUSTER.psql("select count(*) = max(seq) and min(seq) = 1 from gw.audit").strip()
        self.assertEqual(gaps, "t")
        code, out = verify()
        self.assertEqual(code, 0, out)


if __name__ == "__main__":
    unittest.main()
