"""Cross-border relay (issue #6, docs/relay.md): three gateways, FI, NO and
SE, each with its own database in one cluster, each holding its own
country and relaying the other two over mutual TLS with the `peer` node
certificate (role peer-gateway at every gateway) and a pinned server key.

A national node asks its own gateway about a patient of another country;
the holder decides consent for the ORIGIN country, audits and answers; the
answer comes back unchanged but for the links pointing at the gateway the
node talks to.  Then the failures: holder stopped (502), hung (504), an
unpinned key (502), the circuit breaker (503 + Retry-After), and the
refusals: origin headers from a node that is not a peer gateway, a relayed
request that would be relayed again, a country neither held nor relayed."""

import copy
import json
import os
import signal
import socket
import ssl
import threading
import time
import unittest
import uuid

import harness
from harness import (FI_HETU_SYSTEM, GatewayTestCase, Pki, sql_literal,
                     sql_text_array, validate_r4)

NO_FNR = "urn:oid:2.16.578.1.12.4.1.4.1"
N = 30
NODES = dict(harness.DEFAULT_NODES)
NODES["peer"] = ("FI", "peer-gateway")
COUNTRIES = ("FI", "NO", "SE")
DB = {cc: "fhirgw_" + cc.lower() for cc in COUNTRIES}

SERVERS = CLUSTER = None
GW = {}


def setUpModule():
    global SERVERS, CLUSTER
    SERVERS = harness.ModuleServers()
    CLUSTER = SERVERS.cluster
    with SERVERS.starting():
        pki = Pki.get()
        for cc in COUNTRIES:
            GW[cc] = SERVERS.gateway(pki, patients=N, nodes=NODES,
                                     countries=(cc.lower(),), dbname=DB[cc],
                                     country=cc, local_countries=[cc])
            GW[cc].reserve_ports()
        for cc in COUNTRIES:
            GW[cc].peers = {o: GW[o].peer_entry() for o in COUNTRIES if o != cc}
        for cc in COUNTRIES:
            GW[cc].start()
        psql("SE", harness.SE_PERMIT_TREATMENT_SQL)


def tearDownModule():
    SERVERS.stop()


def psql(cc, sql):
    return CLUSTER.psql(sql, db=DB[cc])


def rows(cc, sql):
    return CLUSTER.rows(sql, db=DB[cc])


def fi_patients():
    return harness.patients(CLUSTER, db=DB["FI"])


def fi_patient_with_conditions(n_min, skip=()):
    for hetu, pid in CLUSTER.rows(
            "select h.hetu, 'fi-' || h.fhir_tunniste from fi_rekisteri.henkilo h"
            " where (select count(*) from fi_rekisteri.diagnoosi d"
            " where d.henkilo_id = h.id) >= %d order by h.id" % n_min, db=DB["FI"]):
        if hetu not in skip:
            return hetu, pid
    raise AssertionError("no Finnish test patient with %d conditions" % n_min)


def add_rule(cc, system, national_id, decision, recipients=()):
    return int(psql(cc,
        "insert into gw.consent_rule (patient_system, patient_id, decision, "
        "recipient_countries) values (%s, %s, %s, %s) returning id"
        % (sql_literal(system), sql_literal(national_id), sql_literal(decision),
           sql_text_array(recipients))).strip())


# Patients each test uses for itself, so that consent rules do not meet.
_used = set()


def fresh_fi_patient():
    for hetu, pid in fi_patients():
        if hetu not in _used and not rows("FI", "select 1 from gw.consent_rule "
                                          "where patient_id = %s" % sql_literal(hetu)):
            _used.add(hetu)
            return hetu, pid
    raise AssertionError("out of Finnish test patients")


def request_id():
    return "relay-test-" + uuid.uuid4().hex


def rebased(text, base):
    return text.replace(base, "BASE")


def comparable(doc, base):
    """A $summary or searchset with what is per request or per gateway
    taken out: the base URL, Bundle id/identifier/timestamp, the
    Composition's id and date (and its fullUrl), searchset links."""
    doc = copy.deepcopy(doc)
    for k in ("id", "identifier", "timestamp", "meta"):
        doc.pop(k, None)
    for link in doc.get("link", []):
        link["url"] = rebased(link["url"], base)
    for e in doc.get("entry", []):
        e["fullUrl"] = rebased(e["fullUrl"], base)
        r = e.get("resource", {})
        if r.get("resourceType") == "Composition":
            r.pop("id", None)
            r.pop("date", None)
            e.pop("fullUrl", None)
    return doc


class Relay(GatewayTestCase):
    def get(self, via, node, path, headers=None, **kw):
        return GW[via].get(node, path, headers=headers, **kw)

    def test_summary_through_no_equals_direct(self):
        """NO node -> NO gateway -> FI gateway: the IPS document is what FI
        gives the NO node directly, links pointing at the NO gateway."""
        _, pid = fresh_fi_patient()
        path = "/fhir/Patient/%s/$summary" % pid
        relayed = self.get("NO", "no", path)
        direct = self.get("FI", "no", path)
        self.assertOk(relayed, "Bundle")
        self.assertOk(direct, "Bundle")
        validate_r4(relayed.json)
        self.assertEqual(relayed.headers.get("content-type"),
                         direct.headers.get("content-type"))
        for e in relayed.json["entry"]:
            self.assertTrue(e["fullUrl"].startswith(GW["NO"].base_url + "/"), e["fullUrl"])
        self.assertEqual(comparable(relayed.json, GW["NO"].base_url),
                         comparable(direct.json, GW["FI"].base_url))
        self.assertNotIn(GW["FI"].base_url, relayed.body.decode())

    def test_patient_read_and_type_read_relayed(self):
        """Patient/{id} and {Type}/{id} go to the holder by the id's prefix."""
        hetu, pid = fi_patient_with_conditions(1, skip=_used)
        _used.add(hetu)
        relayed = self.get("SE", "se", "/fhir/Patient/" + pid)
        direct = self.get("FI", "se", "/fhir/Patient/" + pid)
        self.assertOk(relayed, "Patient")
        self.assertEqual(relayed.body, direct.body)  # byte for byte
        cond = self.get("FI", "se", "/fhir/Condition?patient=" + pid).json
        cid = cond["entry"][0]["resource"]["id"]
        r = self.get("SE", "se", "/fhir/Condition/" + cid)
        self.assertOk(r, "Condition")
        self.assertEqual(r.body, self.get("FI", "se", "/fhir/Condition/" + cid).body)

    def test_search_by_fodselsnummer_se_to_no(self):
        """SE node -> SE gateway -> NO gateway: Patient search by
        fødselsnummer (the identifier system names the holder)."""
        fnr, = rows("NO", "select folkeregisterident from no_register.pasient "
                    "where identtype = 'fnr' order by id limit 1")[0]
        path = "/fhir/Patient?identifier=%s" % harness.q(NO_FNR + "|" + fnr)
        relayed = self.get("SE", "se", path)
        direct = self.get("NO", "se", path)
        doc = self.assertOk(relayed, "Bundle")
        validate_r4(doc)
        self.assertEqual(doc.get("total"), 1, self.describe(relayed))
        self.assertTrue(doc["entry"][0]["fullUrl"].startswith(GW["SE"].base_url + "/"))
        self.assertEqual(comparable(doc, GW["SE"].base_url),
                         comparable(direct.json, GW["NO"].base_url))
        idents = doc["entry"][0]["resource"]["identifier"]
        self.assertIn(fnr, [i.get("value") for i in idents])

    def test_consent_deny_at_holder(self):
        """The holder's deny comes back as its 403, naming its rule."""
        hetu, pid = fresh_fi_patient()
        rule = add_rule("FI", FI_HETU_SYSTEM, hetu, "deny")
        r = self.get("NO", "no", "/fhir/Patient/%s/$summary" % pid)
        self.assertOutcome(r, 403, "forbidden", "consent_rule/%d" % rule)

    def test_holder_decides_for_origin_country(self):
        """A deny for recipients in Norway at FI: the NO node through the
        NO gateway is refused, the SE node through the SE gateway is not --
        although both arrive at FI as the same peer-gateway node."""
        hetu, pid = fresh_fi_patient()
        rule = add_rule("FI", FI_HETU_SYSTEM, hetu, "deny", recipients=["NO"])
        path = "/fhir/Patient/%s/$summary" % pid
        self.assertOutcome(self.get("NO", "no", path), 403, "forbidden",
                           "consent_rule/%d" % rule)
        self.assertOk(self.get("SE", "se", path), "Bundle")
        # And the peer's own registered country (FI) is not what counts.
        self.assertOutcome(self.get("FI", "peer", path,
                                    headers={"X-Origin-Country": "NO"}),
                           403, "forbidden", "consent_rule/%d" % rule)

    def test_origin_headers_refused_from_other_nodes(self):
        """X-Origin-* from a node without the role peer-gateway: 400 (it
        could otherwise choose the country consent is decided for)."""
        hetu, pid = fresh_fi_patient()
        add_rule("FI", FI_HETU_SYSTEM, hetu, "deny", recipients=["NO"])
        path = "/fhir/Patient/%s/$summary" % pid
        for hdrs in ({"X-Origin-Country": "SE"}, {"X-Origin-Node": "se"},
                     {"X-Origin-Country": "SE", "X-Origin-Node": "se"}):
            r = self.get("FI", "no", path, headers=hdrs)
            self.assertOutcome(r, 400, "invalid", "peer-gateway")
        # A peer gateway must say for whom it asks.
        self.assertOutcome(self.get("FI", "peer", path), 400, "required",
                           "X-Origin-Country")
        self.assertOutcome(self.get("FI", "peer", path,
                                    headers={"X-Origin-Country": "sweden"}),
                           400, "invalid", "X-Origin-Country")

    def test_relayed_request_is_not_relayed_again(self):
        """A peer gateway asking NO about a Finnish patient: NO would relay
        to FI; a relayed request never is (no loops between gateways)."""
        _, pid = fresh_fi_patient()
        r = self.get("NO", "peer", "/fhir/Patient/%s/$summary" % pid,
                     headers={"X-Origin-Country": "SE", "X-Origin-Node": "se"})
        self.assertOutcome(r, 404, "not-found", "never relayed again")

    def test_both_gateways_audit(self):
        """One record at the relaying gateway (what went where), one at the
        holder (its decision, for the origin node), by X-Request-Id."""
        _, pid = fresh_fi_patient()
        rid = request_id()
        r = self.get("NO", "no", "/fhir/Patient/%s/$summary" % pid,
                     headers={"X-Request-Id": rid,
                              "X-Requesting-Practitioner": "urn:oid:2.16.578.1.12.4.1.4.4|9144889"})
        self.assertOk(r, "Bundle")
        q = ("select node_name, node_country, decision, rule, status, returned_count,"
             " replace(practitioner, '|', '!'), patient_logical_id from gw.audit_record"
             " where request_id = %s"
             % sql_literal(rid))
        at_no, at_fi = rows("NO", q), rows("FI", q)
        self.assertEqual(len(at_no), 1, at_no)
        self.assertEqual(len(at_fi), 1, at_fi)
        name, country, decision, rule, status, count, pract, logical = at_no[0]
        self.assertEqual((name, country, decision, rule, status),
                         ("no", "NO", "relay", "peer/FI", "200"))
        self.assertEqual(int(count), len(r.json["entry"]) + 1)
        self.assertEqual(logical, pid)
        name, country, decision, rule, status, count, pract2, logical = at_fi[0]
        self.assertEqual((name, country, decision, status), ("no via peer", "NO",
                                                             "permit", "200"))
        self.assertEqual(rule, "consent_default/FI/TREAT")
        self.assertEqual(pract2, pract)
        self.assertEqual(logical, pid)
        for cc in ("NO", "FI"):
            out = GW[cc].cli("audit-verify", "-c", "{config}").stdout.decode()
            self.assertIn("chain intact", out)

    def test_request_id_made_up_when_the_client_sent_none(self):
        """Without X-Request-Id the relaying gateway makes one: it goes to
        the holder, back to the client, and into both audit records."""
        _, pid = fresh_fi_patient()
        r = self.get("NO", "no", "/fhir/Patient/%s/$summary" % pid)
        self.assertOk(r, "Bundle")
        rid = r.headers.get("x-request-id", "")
        self.assertRegex(rid, r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                              r"[0-9a-f]{12}$")
        q = ("select decision, patient_logical_id from gw.audit_record"
             " where request_id = %s" % sql_literal(rid))
        self.assertEqual(rows("NO", q), [("relay", pid)])
        self.assertEqual(rows("FI", q), [("permit", pid)])
        # One the client sent is passed on as it was, and not echoed.
        mine = request_id()
        r = self.get("NO", "no", "/fhir/Patient/%s/$summary" % pid,
                     headers={"X-Request-Id": mine})
        self.assertOk(r, "Bundle")
        self.assertNotIn("x-request-id", r.headers)
        q = "select count(*) from gw.audit_record where request_id = %s" % sql_literal(mine)
        self.assertEqual(rows("NO", q), [("1",)])
        self.assertEqual(rows("FI", q), [("1",)])

    def test_paging_links_point_at_the_relaying_gateway(self):
        """A relayed searchset's links name the NO gateway; following them
        there pages on through the holder."""
        hetu, pid = fi_patient_with_conditions(3, skip=_used)
        _used.add(hetu)
        first = self.get("NO", "no", "/fhir/Condition?patient=%s&_count=1" % pid)
        doc = self.assertOk(first, "Bundle")
        links = {l["relation"]: l["url"] for l in doc["link"]}
        self.assertIn("next", links)
        for url in links.values():
            self.assertTrue(url.startswith(GW["NO"].base_url + "/"), url)
        seen = [e["resource"]["id"] for e in doc["entry"]]
        url = links["next"]
        while url:
            page = self.get("NO", "no", GW["NO"].path_of(url))
            pdoc = self.assertOk(page, "Bundle")
            direct = self.get("FI", "no", GW["FI"].path_of(
                url.replace(GW["NO"].base_url, GW["FI"].base_url)))
            self.assertEqual(comparable(pdoc, GW["NO"].base_url),
                             comparable(direct.json, GW["FI"].base_url))
            seen += [e["resource"]["id"] for e in pdoc.get("entry", [])]
            url = {l["relation"]: l["url"] for l in pdoc["link"]}.get("next")
        total = self.get("FI", "no", "/fhir/Condition?patient=%s&_count=100" % pid).json
        self.assertEqual(seen, [e["resource"]["id"] for e in total["entry"]])

    def test_break_glass_header_passed_back(self):
        """ETREAT overriding a deny: the holder's X-Break-Glass reaches the
        client through the relay."""
        hetu, pid = fresh_fi_patient()
        psql("FI", "insert into gw.consent_rule (patient_system, patient_id, decision,"
             " emergency_override) values (%s, %s, 'deny', true)"
             % (sql_literal(FI_HETU_SYSTEM), sql_literal(hetu)))
        r = self.get("NO", "no", "/fhir/Patient/%s/$summary" % pid, purpose="ETREAT",
                     headers={"X-Emergency-Reason": "unconscious"})
        self.assertOk(r, "Bundle")
        self.assertEqual(r.headers.get("x-break-glass"), "true")

    def test_holder_errors_come_back_unchanged(self):
        """An unknown id or a bad identifier: the holder's own 404 / 400."""
        r = self.get("NO", "no", "/fhir/Patient/fi-aaaaaaaaaaaaaaaaaaaaaaaaaa")
        direct = self.get("FI", "no", "/fhir/Patient/fi-aaaaaaaaaaaaaaaaaaaaaaaaaa")
        self.assertOutcome(r, 404)
        self.assertEqual(r.body, direct.body)
        bad = "/fhir/Patient?identifier=%s" % harness.q(NO_FNR + "|01010112345")
        self.assertOutcome(self.get("FI", "fi", bad), 400, "invalid")

    def test_metrics_count_relayed(self):
        _, pid = fresh_fi_patient()
        self.assertOk(self.get("SE", "se", "/fhir/Patient/" + pid), "Patient")
        status, _, body = GW["SE"].admin_get("/metrics")
        self.assertEqual(status, 200)
        line = [l for l in body.decode().splitlines()
                if l.startswith("fhirgw_relayed_total ")]
        self.assertTrue(line and int(line[0].split()[1]) >= 1, body)


class NotServed(GatewayTestCase):
    """A national deployment without peers: other countries are 404."""

    def test_country_neither_local_nor_peered(self):
        gw = harness.Gateway(CLUSTER, Pki.get(), provision=False, dbname=DB["FI"],
                             id_key=GW["FI"].id_key, local_countries=["FI"])
        try:
            gw.start()
            no_id, = rows("NO", "select 'no-' || fhir_id from no_register.pasient"
                          " order by id limit 1")[0]
            for path in ("/fhir/Patient/%s/$summary" % no_id, "/fhir/Patient/" + no_id,
                         "/fhir/Condition?patient=" + no_id,
                         "/fhir/Patient?identifier=%s" % harness.q(NO_FNR + "|01010112345")):
                self.assertOutcome(gw.get("fi", path), 404, "not-found",
                                   "neither held by this gateway")
            _, pid = fi_patients()[0]
            self.assertOk(gw.get("fi", "/fhir/Patient/" + pid), "Patient")
        finally:
            gw.cleanup()


class Failures(GatewayTestCase):
    """A holder that fails, seen through a relaying gateway of its own
    (one worker, so one circuit breaker), against a second FI gateway
    process over the FI database that can be stopped or frozen."""

    def pair(self, **peer):
        holder = harness.Gateway(CLUSTER, Pki.get(), provision=False, dbname=DB["FI"],
                                 id_key=GW["FI"].id_key, country="FI",
                                 local_countries=["FI"], workers=1)
        holder.reserve_ports()
        entry = holder.peer_entry(**peer)
        relay = harness.Gateway(CLUSTER, Pki.get(), provision=False, dbname=DB["NO"],
                                id_key=GW["NO"].id_key, country="NO",
                                local_countries=["NO"], workers=1,
                                peers={"FI": entry})
        self.addCleanup(relay.cleanup)
        self.addCleanup(holder.cleanup)
        holder.start()
        relay.start()
        return holder, relay

    def summary(self, relay, pid, timeout=20):
        t0 = time.monotonic()
        r = relay.get("no", "/fhir/Patient/%s/$summary" % pid, timeout=timeout)
        return r, time.monotonic() - t0

    def test_holder_stopped_502(self):
        holder, relay = self.pair(connect_timeout_ms=1000)
        _, pid = fi_patients()[0]
        holder.stop()
        r, took = self.summary(relay, pid)
        self.assertOutcome(r, 502, "exception", "relay to the FI gateway")
        self.assertLess(took, 3.0)

    def test_breaker_opens_after_three_failures(self):
        holder, relay = self.pair(connect_timeout_ms=1000)
        _, pid = fi_patients()[0]
        holder.stop()
        for _ in range(3):
            r, _ = self.summary(relay, pid)
            self.assertOutcome(r, 502)
        r, took = self.summary(relay, pid)
        self.assertOutcome(r, 503, "transient", "skipped after repeated failures")
        retry = int(r.headers.get("retry-after", "0"))
        self.assertTrue(1 <= retry <= 10, r.headers)
        self.assertLess(took, 1.0)  # not even tried
        # Recorded like any other answer.
        n = rows("NO", "select count(*) from gw.audit_record where status = 503"
                 " and rule = 'peer/FI'")[0][0]
        self.assertGreaterEqual(int(n), 1)

    def test_holder_hung_504(self):
        holder, relay = self.pair(connect_timeout_ms=700, response_timeout_ms=700)
        _, pid = fi_patients()[0]
        self.assertOk(self.summary(relay, pid)[0], "Bundle")  # a pooled connection
        os.kill(holder.proc.pid, signal.SIGSTOP)
        try:
            r, took = self.summary(relay, pid)
            self.assertOutcome(r, 504, "timeout", "did not answer in time")
            self.assertLess(took, 3.0)
            self.assertGreaterEqual(took, 0.6)
            # A fresh connection to a frozen holder: the connect deadline.
            r, took = self.summary(relay, pid)
            self.assertOutcome(r, 504, "timeout")
            self.assertLess(took, 3.0)
        finally:
            os.kill(holder.proc.pid, signal.SIGCONT)
        r, _ = self.summary(relay, pid)
        self.assertOk(r, "Bundle")  # two failures: the breaker is still closed

    def test_unpinned_key_refused(self):
        wrong = Pki.get().key_hash(Pki.get().ca)
        holder, relay = self.pair(pin_sha256=wrong)
        _, pid = fi_patients()[0]
        r, _ = self.summary(relay, pid)
        self.assertOutcome(r, 502, "exception", "pin")
        self.assertIn("unpinned", relay.log_tail(20))

    def test_pin_and_breaker_follow_a_reload(self):
        """SIGHUP gives the relay its peers' new pins: the pooled connection
        goes, a wrong pin is refused on the next call, three refusals open
        the breaker, and the right pin (another reload) closes it again."""
        holder, relay = self.pair()
        _, pid = fi_patients()[0]
        self.assertOk(self.summary(relay, pid)[0], "Bundle")  # a pooled connection
        good = holder.peer_entry()["pin_sha256"]
        wrong = Pki.get().key_hash(Pki.get().ca)

        relay.edit_config(lambda c: c["peers"]["FI"].update(pin_sha256=wrong))
        log = relay.reload()
        self.assertIn("peers' client certificates, CAs and pins too", log)
        for _ in range(3):
            self.assertOutcome(self.summary(relay, pid)[0], 502, "exception", "pin")
        self.assertOutcome(self.summary(relay, pid)[0], 503, "transient")

        relay.edit_config(lambda c: c["peers"]["FI"].update(pin_sha256=good))
        relay.reload()
        self.assertOk(self.summary(relay, pid)[0], "Bundle")

        # A changed URL is not taken: the pools stay where they are.
        relay.edit_config(lambda c: c["peers"]["FI"].update(
            url="https://localhost:1/fhir"))
        log = relay.reload()
        self.assertIn("peers (a country, URL", log)
        self.assertIn("peers kept as they were", log)
        self.assertOk(self.summary(relay, pid)[0], "Bundle")


class FakePeer:
    """A scripted peer gateway: TLS with the dev server certificate (so the
    pin holds) on 127.0.0.1.  For the n-th request (from 0) it calls
    script(n, head) -> (bytes to send, then "keep", "close" or "hang").
    Records the request heads it got."""

    def __init__(self, script):
        self.script = script
        self.heads = []
        self.connections = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        pki = Pki.get()
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(pki.server_crt, pki.server_key)
        self.ctx.verify_mode = ssl.CERT_OPTIONAL
        self.ctx.load_verify_locations(pki.ca)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.url = "https://localhost:%d/fhir" % self.port
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self._stop.is_set():
            try:
                raw, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            with self._lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(raw,), daemon=True).start()

    def _serve(self, raw):
        try:
            raw.settimeout(10)
            conn = self.ctx.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            raw.close()
            return
        buf = b""
        try:
            while not self._stop.is_set():
                while b"\r\n\r\n" not in buf:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                head, _, buf = buf.partition(b"\r\n\r\n")
                with self._lock:
                    n = len(self.heads)
                    self.heads.append(head.decode("latin-1"))
                out, then = self.script(n, head.decode("latin-1"))
                if out:
                    conn.sendall(out)
                if then == "close":
                    return
                if then == "hang":
                    self._stop.wait(30)
                    return
        except (ssl.SSLError, OSError):
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def close(self):
        self._stop.set()
        self.sock.close()
        self.thread.join(5)


def http_response(status, body=b"", headers=(), content_type="application/fhir+json"):
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
    lines = ["HTTP/1.1 %d X" % status]
    if content_type:
        lines.append("Content-Type: " + content_type)
    lines.append("Content-Length: %d" % len(body))
    lines.extend(headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


PATIENT = {"resourceType": "Patient", "id": "fi-fake"}


class Protocol(GatewayTestCase):
    """What relay.c does with what a peer sends (a fake peer), and a peer
    named by an IP address."""

    def relay_to(self, url, pin=None, **peer):
        pki = Pki.get()
        crt, key = pki.node("peer")
        entry = {"url": url, "cert": crt, "key": key, "ca": pki.ca,
                 "pin_sha256": pin or pki.key_hash(pki.server_crt)}
        entry.update(peer)
        relay = harness.Gateway(CLUSTER, pki, provision=False, dbname=DB["NO"],
                                id_key=GW["NO"].id_key, country="NO",
                                local_countries=["NO"], workers=1,
                                peers={"FI": entry})
        self.addCleanup(relay.cleanup)
        relay.start()
        return relay

    def fake(self, script):
        peer = FakePeer(script)
        self.addCleanup(peer.close)
        return peer

    def test_interim_1xx_is_skipped(self):
        peer = self.fake(lambda n, h: (b"HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n"
                                       + http_response(200, PATIENT), "keep"))
        relay = self.relay_to(peer.url)
        r = relay.get("no", "/fhir/Patient/fi-fake")
        self.assertOk(r, "Patient")
        self.assertEqual(r.json, PATIENT)

    def test_what_is_forwarded(self):
        peer = self.fake(lambda n, h: (http_response(200, PATIENT), "keep"))
        relay = self.relay_to(peer.url)
        rid = request_id()
        r = relay.get("no", "/fhir/Patient/fi-fake?_format=json",
                      headers={"X-Request-Id": rid, "traceparent":
                               "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                               "X-Requesting-Organization": "urn:oid:2.16.578|974633574",
                               "Cookie": "not=forwarded"})
        self.assertOk(r, "Patient")
        head = peer.heads[0].split("\r\n")
        self.assertEqual(head[0], "GET /fhir/Patient/fi-fake?_format=json HTTP/1.1")
        fields = dict(l.split(": ", 1) for l in head[1:])
        self.assertEqual(fields["X-Origin-Country"], "NO")
        self.assertEqual(fields["X-Origin-Node"], "no")
        self.assertEqual(fields["X-Purpose-Of-Use"], "TREAT")
        self.assertEqual(fields["X-Request-Id"], rid)
        self.assertIn("traceparent", fields)
        self.assertIn("X-Requesting-Organization", fields)
        self.assertNotIn("Cookie", fields)
        self.assertEqual(fields["Host"], "localhost:%d" % peer.port)

    def test_framing_errors_are_502(self):
        bodies = {
            "no length": b"HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\n\r\n{}",
            "not json": http_response(200, b"<Patient/>", content_type="application/fhir+xml"),
            "trailing junk": http_response(200, b'{"resourceType":"Patient"} x'),
            "bad status line": b"HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n",
        }
        for what, out in bodies.items():
            with self.subTest(what):
                peer = self.fake(lambda n, h, out=out: (out, "close"))
                relay = self.relay_to(peer.url)
                r = relay.get("no", "/fhir/Patient/fi-fake")
                self.assertOutcome(r, 502, "exception")
                self.assertEqual(len(peer.heads), 1, "retried after bytes came")

    def test_cut_answer_is_502_not_retried(self):
        out = http_response(200, PATIENT)
        peer = self.fake(lambda n, h: (out[:-5], "close"))
        relay = self.relay_to(peer.url)
        self.assertOutcome(relay.get("no", "/fhir/Patient/fi-fake"), 502,
                           "exception", "connection closed")
        self.assertEqual(len(peer.heads), 1)

    def test_get_retried_once_on_a_fresh_connection(self):
        """Closed without a byte (a stale keep-alive connection looks like
        this): one retry on a new connection."""
        peer = self.fake(lambda n, h: (None, "close") if n == 0 else
                         (http_response(200, PATIENT), "keep"))
        relay = self.relay_to(peer.url)
        self.assertOk(relay.get("no", "/fhir/Patient/fi-fake"), "Patient")
        self.assertEqual(len(peer.heads), 2)
        self.assertEqual(peer.connections, 2)
        # Twice without a byte: 502 (one retry only).
        peer2 = self.fake(lambda n, h: (None, "close"))
        relay2 = self.relay_to(peer2.url)
        self.assertOutcome(relay2.get("no", "/fhir/Patient/fi-fake"), 502)
        self.assertEqual(len(peer2.heads), 2)

    def test_connections_are_reused(self):
        peer = self.fake(lambda n, h: (http_response(200, PATIENT), "keep"))
        relay = self.relay_to(peer.url)
        for _ in range(5):
            self.assertOk(relay.get("no", "/fhir/Patient/fi-fake"), "Patient")
        self.assertEqual(len(peer.heads), 5)
        self.assertEqual(peer.connections, 1)

    def test_waiting_for_a_connection_has_a_deadline(self):
        """One connection, a peer that never answers, two clients: the one
        waiting for the connection still has its 504 by connect + response
        timeout, not after the first call's deadline plus its own."""
        peer = self.fake(lambda n, h: (None, "hang"))
        relay = self.relay_to(peer.url, max_connections=1, connect_timeout_ms=500,
                              response_timeout_ms=1500)
        results = []

        def one():
            t0 = time.monotonic()
            r = relay.get("no", "/fhir/Patient/fi-fake", timeout=20)
            results.append((r.status, time.monotonic() - t0))
        threads = [threading.Thread(target=one) for _ in range(2)]
        for t in threads:
            t.start()
            time.sleep(0.1)
        for t in threads:
            t.join(30)
        self.assertEqual(sorted(s for s, _ in results), [504, 504], results)
        self.assertLess(max(t for _, t in results), 2.6, results)

    def test_links_rewritten_only_under_the_peer_base(self):
        base = None

        def script(n, h):
            return http_response(200, {
                "resourceType": "Bundle", "type": "searchset", "total": 2,
                "link": [{"relation": "self", "url": base + "/Condition?patient=fi-x"},
                         {"relation": "next", "url": base + "X/Condition?patient=fi-x"}],
                "entry": [{"fullUrl": base + "/Condition/fi-1",
                           "resource": {"resourceType": "Condition", "id": "fi-1",
                                        "note": [{"text": base + "/Condition/fi-1"}]}},
                          {"fullUrl": "https://elsewhere.example/fhir/Condition/fi-2",
                           "resource": {"resourceType": "Condition", "id": "fi-2"}}]},
                headers=["X-Break-Glass: true", "Retry-After: 7", "Set-Cookie: a=b"]), "keep"
        peer = self.fake(script)
        base = peer.url
        relay = self.relay_to(peer.url)
        r = relay.get("no", "/fhir/Condition?patient=fi-x")
        doc = self.assertOk(r, "Bundle")
        self.assertEqual(doc["link"][0]["url"], relay.base_url + "/Condition?patient=fi-x")
        self.assertEqual(doc["link"][1]["url"], base + "X/Condition?patient=fi-x")
        self.assertEqual(doc["entry"][0]["fullUrl"], relay.base_url + "/Condition/fi-1")
        self.assertEqual(doc["entry"][0]["resource"]["note"][0]["text"],
                         base + "/Condition/fi-1")  # content is not ours to touch
        self.assertEqual(doc["entry"][1]["fullUrl"],
                         "https://elsewhere.example/fhir/Condition/fi-2")
        self.assertEqual(r.headers.get("x-break-glass"), "true")
        self.assertEqual(r.headers.get("retry-after"), "7")
        self.assertNotIn("set-cookie", r.headers)

    def test_client_gone_while_relaying(self):
        """The client leaves while the peer has not answered: the call
        runs out, the orphaned request is recorded (499) and freed."""
        peer = self.fake(lambda n, h: (None, "hang"))
        relay = self.relay_to(peer.url, connect_timeout_ms=300, response_timeout_ms=300)
        rid = request_id()
        with relay.raw_conn("no") as c:
            c.send(("GET /fhir/Patient/fi-fake HTTP/1.1\r\nHost: localhost\r\n"
                    "X-Purpose-Of-Use: TREAT\r\nX-Request-Id: %s\r\n\r\n" % rid).encode())
            deadline = time.monotonic() + 5
            while not peer.heads and time.monotonic() < deadline:
                time.sleep(0.02)
            self.assertTrue(peer.heads, "the request never reached the peer")
        deadline = time.monotonic() + 10
        got = []
        while time.monotonic() < deadline:
            got = rows("NO", "select status, rule from gw.audit_record where request_id = %s"
                       % sql_literal(rid))
            if got:
                break
            time.sleep(0.1)
        self.assertEqual(got, [("499", "peer/FI")])
        self.assertOk(relay.get("no", "/fhir/metadata", purpose=None), "CapabilityStatement")

    def test_stop_with_calls_pending(self):
        """SIGTERM while a relayed call waits for a hung peer: a clean exit
        (harness.stop() fails on a non-zero status or a sanitizer report)."""
        peer = self.fake(lambda n, h: (None, "hang"))
        relay = self.relay_to(peer.url, response_timeout_ms=20000)
        results = []

        def one():
            try:
                results.append(relay.get("no", "/fhir/Patient/fi-fake", timeout=30).status)
            except (OSError, harness.http.client.HTTPException) as e:
                results.append(type(e).__name__)
        t = threading.Thread(target=one)
        t.start()
        deadline = time.monotonic() + 5
        while not peer.heads and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertTrue(peer.heads)
        self.assertEqual(relay.stop(), 0)
        t.join(10)
        self.assertEqual(len(results), 1)
        self.assertNotEqual(results[0], 200)

    def test_untrusted_server_certificate(self):
        """A peer whose certificate our configured CA did not issue: 502
        saying why (OpenSSL's reason, which libevent keeps to itself)."""
        relay = self.relay_to(GW["FI"].base_url, ca=os.path.join(Pki.get().dir, "rogue-ca.crt"))
        _, pid = fi_patients()[0]
        r = relay.get("no", "/fhir/Patient/" + pid)
        self.assertOutcome(r, 502, "exception", "certificate verify failed")

    def test_peer_named_by_ip_address(self):
        """https://127.0.0.1:PORT: the certificate's IP address SAN is
        what is checked (a host name check would refuse it)."""
        relay = self.relay_to("https://127.0.0.1:%d/fhir" % GW["FI"].port)
        _, pid = fi_patients()[0]
        r = relay.get("no", "/fhir/Patient/" + pid)
        self.assertOk(r, "Patient")


if __name__ == "__main__":
    unittest.main()
