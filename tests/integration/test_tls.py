"""Mutual TLS: who gets in.

Refused means: the handshake fails, or the connection is closed, before a
single byte of HTTP comes back.  With TLS 1.3 the server's verdict on the
client certificate arrives after the client thinks the handshake is done,
so every attempt also sends a request and reads: nothing may come back.
"""

import os
import shutil
import socket
import ssl
import tempfile
import threading
import unittest

import harness
from harness import GatewayTestCase, Pki, tls_context, try_tls

SERVERS = CLUSTER = GW = None


def setUpModule():
    global SERVERS, CLUSTER, GW
    SERVERS = harness.ModuleServers()
    CLUSTER = SERVERS.cluster
    with SERVERS.starting():
        GW = SERVERS.gateway(Pki.get(), patients=5)
        GW.start()


def tearDownModule():
    SERVERS.stop()


class RefusalMixin:
    def assertRefused(self, port, ctx, what):
        a = try_tls(port, ctx)
        self.assertEqual(a.data, b"", "%s: the gateway answered over TLS (%d bytes): %r"
                         % (what, len(a.data), a.data[:300]))
        self.assertTrue(a.closed, "%s: the connection was neither refused nor closed "
                        "within 5 s (handshake_ok=%s, error=%r)"
                        % (what, a.handshake_ok, a.error))
        return a


class TestClientCertificates(RefusalMixin, GatewayTestCase):
    def test_no_client_certificate_refused(self):
        self.assertRefused(GW.port, tls_context(None), "no client certificate")

    def test_rogue_ca_certificate_refused(self):
        self.assertRefused(GW.port, tls_context("rogue"), "certificate of another CA")

    def test_expired_certificate_refused(self):
        # `expired` is registered as a treatment node: TLS must refuse it.
        self.assertRefused(GW.port, tls_context("expired"), "expired certificate")

    def test_unregistered_node_forbidden(self):
        r = GW.get("unknown", "/fhir/metadata")
        self.assertOutcome(r, 403, code="forbidden")

    def test_unregistered_node_forbidden_on_patient_route(self):
        pid = harness.patients(CLUSTER)[0][1]
        r = GW.get("unknown", "/fhir/Patient/" + pid)
        self.assertOutcome(r, 403, code="forbidden")
        self.assertNotIn(pid.encode(), r.body)

    def test_registered_node_gets_capability_statement(self):
        r = GW.get("fi", "/fhir/metadata")
        cs = self.assertOk(r, "CapabilityStatement")
        self.assertEqual(cs.get("fhirVersion"), "4.0.1")
        harness.validate_r4(cs)

    def test_other_national_node_accepted(self):
        # The `no` node is accepted here; TestCrl shows a CRL refuses it.
        r = GW.get("no", "/fhir/metadata")
        self.assertOk(r, "CapabilityStatement")


class TestResumption(GatewayTestCase):
    """The gateway issues one TLS 1.3 ticket per handshake (tls.c): a node
    resumes with it, is identified as after a full handshake, and gets a
    ticket again on the resumed connection."""

    def exchange(self, ctx, session=None):
        sock = socket.create_connection(("127.0.0.1", GW.port), timeout=10)
        tls = ctx.wrap_socket(sock, server_hostname="localhost", session=session)
        try:
            tls.sendall(b"GET /fhir/metadata HTTP/1.1\r\nHost: localhost\r\n"
                        b"Connection: close\r\n\r\n")
            data = b""
            while True:
                chunk = tls.recv(65536)
                if not chunk:
                    break
                data += chunk
            return tls.session, tls.session_reused, data
        finally:
            tls.close()

    def test_node_resumes_and_is_identified(self):
        # /fhir/metadata answers 200 only to a registered node.
        ctx = tls_context("fi", maximum=ssl.TLSVersion.TLSv1_3)
        session, reused, data = self.exchange(ctx)
        self.assertFalse(reused)
        self.assertTrue(data.startswith(b"HTTP/1.1 200"), data[:200])
        for _ in range(2):
            session, reused, data = self.exchange(ctx, session)
            self.assertTrue(reused, "the connection did not resume")
            self.assertTrue(data.startswith(b"HTTP/1.1 200"), data[:200])

    def test_resumed_unregistered_node_still_forbidden(self):
        ctx = tls_context("unknown", maximum=ssl.TLSVersion.TLSv1_3)
        session, _, data = self.exchange(ctx)
        self.assertTrue(data.startswith(b"HTTP/1.1 403"), data[:200])
        _, reused, data = self.exchange(ctx, session)
        self.assertTrue(reused, "the connection did not resume")
        self.assertTrue(data.startswith(b"HTTP/1.1 403"), data[:200])


class _OldTlsCanary:
    """A local TLS server that accepts old protocol versions, to prove the
    client context really offers them (else a 'refused' would be our own
    client refusing)."""

    def __init__(self, pki):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        with harness._quiet_deprecation():
            self.ctx.minimum_version = ssl.TLSVersion.TLSv1
        self.ctx.load_cert_chain(pki.server_crt, pki.server_key)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.sock.settimeout(5)
        self.port = self.sock.getsockname()[1]
        self.version = None
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        try:
            conn.settimeout(5)
            tls = self.ctx.wrap_socket(conn, server_side=True)
            self.version = tls.version()
            tls.close()
        except (OSError, ssl.SSLError):
            conn.close()

    def close(self):
        self.thread.join(6)
        self.sock.close()


class TestProtocolVersions(RefusalMixin, GatewayTestCase):
    def _old_version_refused(self, version, name):
        ctx = tls_context("fi", minimum=version, maximum=version)
        canary = _OldTlsCanary(GW.pki)
        try:
            try:
                with socket.create_connection(("127.0.0.1", canary.port), timeout=5) as raw:
                    ctx.wrap_socket(raw, server_hostname="localhost").close()
            except (OSError, ssl.SSLError) as e:
                self.skipTest("this OpenSSL cannot speak %s as a client (%r): "
                              "nothing to test" % (name, e))
        finally:
            canary.close()
        self.assertEqual(canary.version, name)
        a = self.assertRefused(GW.port, ctx, name)
        self.assertFalse(a.handshake_ok and a.error is None,
                         "%s handshake completed" % name)

    def test_tls10_refused(self):
        self._old_version_refused(ssl.TLSVersion.TLSv1, "TLSv1")

    def test_tls11_refused(self):
        self._old_version_refused(ssl.TLSVersion.TLSv1_1, "TLSv1.1")


class TestCrl(RefusalMixin, GatewayTestCase):
    """A second gateway over the same database with tls.crl revoking the
    `no` node's certificate."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="fhirgw-crl-", dir="/tmp")
        harness.remove_after_death(cls.tmp)
        cls.gw = None
        try:
            crl = GW.pki.make_crl(["no"], cls.tmp)
            cls.gw = harness.Gateway(CLUSTER, GW.pki, id_key=GW.id_key,
                                     provision=False, crl=crl)
            cls.gw.start()
        except BaseException:
            cls._cleanup()
            raise

    @classmethod
    def _cleanup(cls):
        try:
            if cls.gw is not None:
                cls.gw.cleanup()
        finally:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def tearDownClass(cls):
        try:
            cls.gw.stop()
        finally:
            cls._cleanup()

    def test_revoked_certificate_refused(self):
        self.assertRefused(self.gw.port, tls_context("no"), "revoked certificate")

    def test_unrevoked_certificate_accepted(self):
        r = self.gw.get("fi", "/fhir/metadata")
        self.assertOk(r, "CapabilityStatement")


def server_certificate(port):
    """The DER certificate a new connection to port is shown."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw_sock:
        with tls_context("fi").wrap_socket(raw_sock, server_hostname="localhost") as s:
            return s.getpeercert(binary_form=True)


def der_of(pem_path):
    with open(pem_path) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


METADATA = (b"GET /fhir/metadata HTTP/1.1\r\nHost: localhost\r\n"
            b"X-Purpose-Of-Use: TREAT\r\n\r\n")


class TestReload(RefusalMixin, GatewayTestCase):
    """SIGHUP re-reads the TLS material (gateway/reload.c): a gateway of its
    own over the module's database, whose certificate, key and CRL are
    copies in a directory the test rewrites."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="fhirgw-reload-", dir="/tmp")
        harness.remove_after_death(self.tmp)
        self.addCleanup(shutil.rmtree, self.tmp, True)
        pki = GW.pki
        self.crt = os.path.join(self.tmp, "server.crt")
        self.key = os.path.join(self.tmp, "server.key")
        shutil.copy(pki.server_crt, self.crt)
        shutil.copy(pki.server_key, self.key)
        self.crl = pki.make_crl([], self.tmp)
        self.gw = harness.Gateway(
            CLUSTER, pki, id_key=GW.id_key, provision=False,
            config_extra={"tls": {"cert": self.crt, "key": self.key,
                                  "client_ca": pki.ca, "crl": self.crl}})
        self.addCleanup(self.gw.cleanup)
        self.gw.start()

    def metadata_ok(self, conn, what):
        conn.send(METADATA)
        resp, = conn.read_responses(1)
        self.assertEqual(resp.status, 200, what)

    def test_revoked_connection_closed_and_refused_after_reload(self):
        revoked = self.gw.raw_conn("no")
        kept = self.gw.raw_conn("fi")
        self.addCleanup(revoked.close)
        self.addCleanup(kept.close)
        self.metadata_ok(revoked, "no before the reload")
        self.metadata_ok(kept, "fi before the reload")

        GW.pki.make_crl(["no"], self.tmp)  # the same path, now revoking `no`
        log = self.gw.reload()
        self.assertIn("SIGHUP: reloaded", log)
        self.assertIn("1 open connection(s) closed", log)

        data, closed = revoked.read_until_closed(3)
        self.assertTrue(closed, "the revoked node's open connection stayed open")
        self.assertEqual(data, b"")
        self.metadata_ok(kept, "fi on its connection from before the reload")
        self.assertRefused(self.gw.port, tls_context("no"), "revoked after reload")
        self.assertOk(self.gw.get("fi", "/fhir/metadata"), "CapabilityStatement")

    def test_handshake_across_the_reload_checked_again(self):
        # The gateway sent its flight before the reload, the node's
        # certificate arrives after it: the session belongs to the old
        # context, whose CRL passes the certificate; the new CRL revokes it.
        with harness.BioTls(self.gw.port, "no", GW.pki) as b:
            b.handshake()
            sock, tls, obj_in, obj_out = b.sock, b.tls, b.inc, b.out
            # The client is done; its certificate and Finished wait in obj_out.
            GW.pki.make_crl(["no"], self.tmp)
            self.assertIn("SIGHUP: reloaded", self.gw.reload())
            tls.write(METADATA)
            sock.sendall(obj_out.read())
            buf = b""
            while True:
                try:
                    data = sock.recv(65536)
                except (ConnectionResetError, socket.timeout):
                    break
                if not data:
                    break
                obj_in.write(data)
                try:
                    buf += tls.read(65536)
                except (ssl.SSLWantReadError, ssl.SSLError):
                    pass
        self.assertEqual(buf, b"", "the gateway answered a certificate revoked"
                         " during its handshake")

    def test_server_certificate_rotated(self):
        before = server_certificate(self.gw.port)
        self.assertEqual(before, der_of(GW.pki.server_crt))
        old = self.gw.client("fi")
        self.addCleanup(old.close)
        self.assertOk(old.get("/fhir/metadata"), "CapabilityStatement")

        crt, key = GW.pki.issue_server(self.tmp, "next")
        os.replace(crt, self.crt)
        os.replace(key, self.key)
        log = self.gw.reload()
        self.assertIn("SIGHUP: reloaded TLS material and limits: server certificate", log)
        self.assertIn("0 open connection(s) closed", log)

        after = server_certificate(self.gw.port)
        self.assertEqual(after, der_of(self.crt))
        self.assertNotEqual(after, before)
        # The connection from before keeps its session and is served.
        self.assertOk(old.get("/fhir/metadata"), "CapabilityStatement")
        self.assertOk(self.gw.get("fi", "/fhir/metadata"), "CapabilityStatement")

    def test_bad_reload_changes_nothing(self):
        before = server_certificate(self.gw.port)
        # A key that is not the certificate's: the new context cannot be
        # built, so the running one stays.
        _, other_key = GW.pki.issue_server(self.tmp, "other")
        shutil.copy(other_key, self.key)
        log = self.gw.reload()
        self.assertIn("SIGHUP: not reloaded", log)
        self.assertIn("cannot load key", log)
        self.assertEqual(server_certificate(self.gw.port), before)
        self.assertOk(self.gw.get("fi", "/fhir/metadata"), "CapabilityStatement")

        shutil.copy(GW.pki.server_key, self.key)
        with open(self.gw.config_path) as f:
            good = f.read()
        with open(self.gw.config_path, "w") as f:
            f.write(good[:len(good) // 2])
        log = self.gw.reload()
        self.assertIn("SIGHUP: not reloaded", log)
        self.assertOk(self.gw.get("fi", "/fhir/metadata"), "CapabilityStatement")

        with open(self.gw.config_path, "w") as f:
            f.write(good)
        self.gw.edit_config(lambda c: c.update(listen="127.0.0.1:1"))
        log = self.gw.reload()
        self.assertIn("listen changed; it takes effect at the next restart", log)
        self.assertIn("SIGHUP: reloaded", log)
        self.assertOk(self.gw.get("fi", "/fhir/metadata"), "CapabilityStatement")

    def test_limits_reloaded(self):
        def limits(c):
            c["limits"].update(node_requests_per_s=1, node_burst_s=2, max_request_line=200)
        long_path = "/fhir/Patient/" + "x" * 250
        self.assertOutcome(self.gw.get("fi", long_path), 400)  # a malformed id, not 414
        self.gw.edit_config(limits)
        log = self.gw.reload()
        self.assertIn("SIGHUP: reloaded TLS material and limits", log)
        self.assertNotIn("limits changed", log)
        r = self.gw.get("se", long_path)
        self.assertOutcome(r, 414)
        statuses = [self.gw.get("fi", "/fhir/metadata").status for _ in range(4)]
        self.assertEqual(statuses[:2], [200, 200], statuses)
        self.assertIn(429, statuses)

    def test_deactivated_node_refused_on_open_connection_after_reload(self):
        conn = self.gw.raw_conn("se")
        self.addCleanup(conn.close)
        self.metadata_ok(conn, "se before")
        key = GW.pki.key_hash(GW.pki.node("se")[0])
        CLUSTER.psql("update gw.node set active = false where key_sha256 = '%s'" % key)
        self.addCleanup(CLUSTER.psql, "update gw.node set active = true"
                        " where key_sha256 = '%s'" % key)
        self.metadata_ok(conn, "se: the node is looked up once per connection")
        self.gw.reload()
        conn.send(METADATA)
        resp, = conn.read_responses(1)
        self.assertEqual(resp.status, 403)


if __name__ == "__main__":
    unittest.main()
