"""HTTP/1.1 framing over TLS, byte by byte (client certificate: fi).

The gateway runs with max_body 1024, header_timeout_ms 1000,
idle_timeout_ms 2000 and max_header_bytes 8192 (so every oversized request fits in one TLS record
and is read whole before the gateway answers and closes; a close with
unread bytes would reset the connection and could eat the answer).
"""

import socket
import ssl
import time
import unittest

import harness
from harness import GatewayTestCase, Pki, parse_responses

SERVERS = CLUSTER = GW = None
LIMITS = {"max_body": 1024, "header_timeout_ms": 1000, "idle_timeout_ms": 2000,
          "max_header_bytes": 8192, "max_request_line": 8192}
HOST = b"Host: localhost\r\n"
GET_METADATA = b"GET /fhir/metadata HTTP/1.1\r\n" + HOST + b"\r\n"


def setUpModule():
    global SERVERS, CLUSTER, GW
    SERVERS = harness.ModuleServers()
    CLUSTER = SERVERS.cluster
    with SERVERS.starting():
        GW = SERVERS.gateway(Pki.get(), patients=5, limits=LIMITS)
        GW.start()


def tearDownModule():
    SERVERS.stop()


class FramingCase(GatewayTestCase):
    def exchange(self, data, timeout=5):
        """Send data on a fresh connection; read until close or timeout.
        Returns (responses, closed)."""
        with GW.raw_conn("fi") as c:
            c.send(data)
            buf, closed = c.read_until_closed(timeout)
        try:
            return parse_responses(buf), closed
        except ValueError as e:
            self.fail("unparsable answer: %s" % e)

    def assertRejected(self, data, status, outcome=True):
        """Exactly one response with `status` (an OperationOutcome when a
        request line was read), then the connection closed."""
        resps, closed = self.exchange(data)
        self.assertEqual(len(resps), 1, "expected one %d response, got %r"
                         % (status, [(r.status, r.body[:200]) for r in resps]))
        if outcome:
            self.assertOutcome(resps[0], status)
        else:
            self.assertStatus(resps[0], status)
        self.assertTrue(closed, "connection not closed after %d" % status)
        return resps[0]


def post(headers, body=b""):
    return (b"POST /fhir/Patient HTTP/1.1\r\n" + HOST
            + b"Content-Type: application/fhir+json\r\n" + headers + b"\r\n" + body)


class TestAmbiguousFraming(FramingCase):
    def test_bare_lf_line_endings_rejected(self):
        self.assertRejected(b"GET /fhir/metadata HTTP/1.1\nHost: localhost\n\n", 400,
                            outcome=False)

    def test_bare_lf_in_header_block_rejected(self):
        self.assertRejected(b"GET /fhir/metadata HTTP/1.1\r\nHost: localhost\n"
                            b"X-Test: a\r\n\r\n", 400)

    def test_obs_fold_rejected(self):
        self.assertRejected(b"GET /fhir/metadata HTTP/1.1\r\n" + HOST
                            + b"X-Test: a\r\n  folded\r\n\r\n", 400)

    def test_content_length_with_transfer_encoding_rejected(self):
        self.assertRejected(post(b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
                                 b"0\r\n\r\n"), 400)

    def test_duplicate_content_length_rejected(self):
        self.assertRejected(post(b"Content-Length: 2\r\nContent-Length: 2\r\n", b"{}"), 400)

    def test_conflicting_content_length_rejected(self):
        self.assertRejected(post(b"Content-Length: 2\r\nContent-Length: 3\r\n", b"{} "), 400)

    def test_negative_content_length_rejected(self):
        self.assertRejected(post(b"Content-Length: -1\r\n"), 400)

    def test_list_content_length_rejected(self):
        self.assertRejected(post(b"Content-Length: 1,1\r\n", b"{"), 400)

    def test_non_numeric_content_length_rejected(self):
        self.assertRejected(post(b"Content-Length: abc\r\n"), 400)


class TestLimits(FramingCase):
    def test_request_line_over_limit_414(self):
        target = b"/fhir/metadata?x=" + b"a" * 8300
        self.assertRejected(b"GET " + target + b" HTTP/1.1\r\n" + HOST + b"\r\n", 414,
                            outcome=False)

    def test_request_line_at_limit_not_414(self):
        # max_request_line counts the CRLF: 8192 bytes exactly is allowed.
        head, tail = b"GET /fhir/metadata?x=", b" HTTP/1.1\r\n"
        line = head + b"a" * (8192 - len(head) - len(tail)) + tail
        self.assertEqual(len(line), 8192)
        resps, _ = self.exchange(line + HOST + b"Connection: close\r\n\r\n")
        self.assertEqual(len(resps), 1)
        self.assertNotIn(resps[0].status, (414, 431), self.describe(resps[0]))

    def test_header_block_over_limit_431(self):
        pad = b"".join(b"X-Pad-%d: %s\r\n" % (i, b"p" * 1000) for i in range(10))
        self.assertRejected(b"GET /fhir/metadata HTTP/1.1\r\n" + HOST + pad + b"\r\n", 431)

    def test_body_over_limit_413(self):
        body = b'{"resourceType":"Patient","text":"' + b"x" * 2012 + b'"}'
        self.assertEqual(len(body), 2048)
        self.assertRejected(post(b"Content-Length: 2048\r\n", body), 413)

    def test_unknown_method_501(self):
        self.assertRejected(b"BREW /fhir/metadata HTTP/1.1\r\n" + HOST + b"\r\n", 501)

    def test_http2_version_505(self):
        self.assertRejected(b"GET /fhir/metadata HTTP/2.0\r\n" + HOST + b"\r\n", 505)


class TestConnections(FramingCase):
    def test_pipelined_requests_answered_in_order(self):
        with GW.raw_conn("fi") as c:
            c.send(GET_METADATA * 3)
            resps = c.read_responses(3)
            self.assertEqual([r.status for r in resps], [200, 200, 200],
                             [self.describe(r) for r in resps])
            for r in resps:
                self.assertOk(r, "CapabilityStatement")
            self.assertTrue(c.is_open(), "connection closed after pipelined requests")

    def test_pipelined_across_tls_records(self):
        # Three requests in three TLS records sent back to back, one split
        # between two of them: each is answered.  With read-ahead, OpenSSL
        # takes all three records off the socket in one read; the kernel
        # will not report them again, so the stream must keep reading
        # while OpenSSL holds bytes (SSL_has_pending), or stall.
        with GW.raw_conn("fi") as c:
            c.send(GET_METADATA + GET_METADATA[:10])
            c.send(GET_METADATA[10:])
            c.send(GET_METADATA)
            resps = c.read_responses(3)
        self.assertEqual([r.status for r in resps], [200, 200, 200],
                         [self.describe(r) for r in resps])

    def test_pipelined_mixed_statuses_keep_order(self):
        req = (GET_METADATA
               + b"GET /fhir/NoSuchType HTTP/1.1\r\n" + HOST + b"\r\n"
               + GET_METADATA)
        with GW.raw_conn("fi") as c:
            c.send(req)
            resps = c.read_responses(3)
        self.assertEqual([r.status for r in resps], [200, 404, 200],
                         [self.describe(r) for r in resps])
        self.assertOk(resps[0], "CapabilityStatement")
        self.assertOutcome(resps[1], 404)
        self.assertOk(resps[2], "CapabilityStatement")

    def test_keep_alive_two_requests_one_connection(self):
        with GW.raw_conn("fi") as c:
            c.send(GET_METADATA)
            first = c.read_responses(1)[0]
            self.assertOk(first, "CapabilityStatement")
            self.assertNotIn("close", first.headers.get("connection", "").lower())
            self.assertTrue(c.is_open(), "closed after the first request")
            c.send(GET_METADATA)
            second = c.read_responses(1)[0]
            self.assertOk(second, "CapabilityStatement")

    def test_keep_alive_client_reuses_connection(self):
        with GW.client("fi") as cl:
            for _ in range(3):
                self.assertOk(cl.get("/fhir/metadata"), "CapabilityStatement")
            self.assertEqual(cl.connects, 1)

    def test_connection_close_honoured(self):
        with GW.raw_conn("fi") as c:
            c.send(b"GET /fhir/metadata HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n")
            buf, closed = c.read_until_closed(5)
        resps = parse_responses(buf)
        self.assertEqual(len(resps), 1)
        self.assertOk(resps[0], "CapabilityStatement")
        self.assertIn("close", resps[0].headers.get("connection", "").lower())
        self.assertTrue(closed, "connection open after Connection: close")

    def test_header_deadline_closes_slow_request(self):
        with GW.raw_conn("fi") as c:
            c.send(b"GET /fhir/meta")
            start = time.monotonic()
            buf, closed = c.read_until_closed(5)
            elapsed = time.monotonic() - start
        self.assertTrue(closed, "half a request line held the connection open for 5 s "
                        "(header_timeout_ms is 1000)")
        self.assertGreater(elapsed, 0.5, "closed at once, not after the header deadline")
        if buf:
            resps = parse_responses(buf)
            self.assertEqual(len(resps), 1)
            self.assertOutcome(resps[0], 408)

    def test_idle_deadline_after_pipelined_answers(self):
        # The second request is parsed from the loop after the first answer
        # (the connection's timer event carries that deferred parse), and
        # the idle deadline is armed again once both are answered.
        with GW.raw_conn("fi") as c:
            c.send(GET_METADATA + GET_METADATA)
            self.assertEqual([r.status for r in c.read_responses(2)], [200, 200])
            start = time.monotonic()
            buf, closed = c.read_until_closed(10)
            elapsed = time.monotonic() - start
        self.assertTrue(closed, "idle for 10 s with idle_timeout_ms 2000, still open")
        self.assertGreater(elapsed, 1.5, "closed long before the idle deadline")
        self.assertEqual(buf, b"")


class TestTransport(FramingCase):
    """The TLS stream under the parser (gateway/stream.c): what the kernel
    does not report again, and a peer that reads slower than we write."""

    def test_answer_records_then_close_notify(self):
        # An answer of several TLS records (the seed's largest $summary,
        # over 16 kB) that ends the connection: every record arrives, and
        # then the close_notify (SSL_shutdown writes it after the answer
        # has left; the stream sends it before closing the socket), so the
        # client can tell the end from a truncation.
        sizes = {pid: len(GW.get("fi", "/fhir/Patient/%s/$summary" % pid).body)
                 for _, pid in harness.patients(CLUSTER)}
        pid = max(sizes, key=sizes.get)
        self.assertGreater(sizes[pid], 16384, "no $summary of the seed needs two records")
        with harness.BioTls(GW.port, "fi", GW.pki) as b:
            b.handshake()
            sock, tls, obj_in, obj_out = b.sock, b.tls, b.inc, b.out
            tls.write(b"GET /fhir/Patient/%s/$summary HTTP/1.1\r\n" % pid.encode()
                      + HOST + b"X-Purpose-Of-Use: TREAT\r\n"
                      + b"Connection: close\r\n\r\n")
            sock.sendall(obj_out.read())
            buf, end = b"", None
            while end is None:
                try:
                    chunk = tls.read(65536)
                except ssl.SSLWantReadError:
                    data = sock.recv(65536)
                    if data:
                        obj_in.write(data)
                    else:
                        obj_in.write_eof()
                    continue
                except ssl.SSLEOFError:
                    end = "EOF without close_notify"
                    continue
                if chunk:
                    buf += chunk
                else:  # an SSLObject reads b"" after a close_notify
                    end = "close_notify"
        resps = parse_responses(buf)
        self.assertEqual(len(resps), 1, buf[:500])
        self.assertOk(resps[0], "Bundle")
        self.assertEqual(len(resps[0].body), sizes[pid])
        self.assertEqual(end, "close_notify")

    def test_request_in_the_segment_of_the_finished(self):
        # The client's Finished and its first request leave in one TCP
        # segment, so the gateway's handshake reads the request with the
        # Finished.  Nothing more will make the socket readable: unless the
        # stream reads on at once, the request waits forever.
        with harness.BioTls(GW.port, "fi", GW.pki) as b:
            b.handshake()
            sock, tls, obj_in, obj_out = b.sock, b.tls, b.inc, b.out
            tls.write(b"GET /fhir/metadata HTTP/1.1\r\n" + HOST
                      + b"Connection: close\r\n\r\n")
            sock.sendall(obj_out.read())
            buf = b""
            while True:
                try:
                    chunk = tls.read(65536)
                except ssl.SSLWantReadError:
                    data = sock.recv(65536)
                    if not data:
                        break
                    obj_in.write(data)
                    continue
                except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                    break
                if not chunk:
                    break
                buf += chunk
        resps = parse_responses(buf)
        self.assertEqual(len(resps), 1, buf[:500])
        self.assertOk(resps[0], "CapabilityStatement")

    def test_reader_slower_than_the_answers(self):
        # 2,000 pipelined requests (more than the input bound of 22.5 kB)
        # from a client with a 4 kB receive window that reads nothing for a
        # second: the gateway stops reading at the input bound, fills the
        # socket, waits for room, stops parsing at the output high-water
        # mark (4 MB) and resumes each as the client drains.  Every answer
        # arrives whole, in order (every tenth a 404); the last request
        # asks to close, so the client reads to the end and parses once.
        n = 2000
        not_found = b"GET /fhir/NoSuchType HTTP/1.1\r\n" + HOST + b"\r\n"
        reqs = [not_found if i % 10 == 9 else GET_METADATA for i in range(n - 1)]
        reqs.append(b"GET /fhir/metadata HTTP/1.1\r\n" + HOST
                    + b"Connection: close\r\n\r\n")
        with GW.raw_conn("fi", timeout=30, rcvbuf=4096) as c:
            c.send(b"".join(reqs))
            time.sleep(1)
            buf, closed = c.read_until_closed(60)
        self.assertTrue(closed, "not closed after Connection: close")
        resps = parse_responses(buf)
        self.assertEqual([r.status for r in resps],
                         [404 if i % 10 == 9 else 200 for i in range(n - 1)] + [200])
        sizes = {len(r.body) for r in resps if r.status == 200}
        self.assertEqual(len(sizes), 1, "CapabilityStatements of different sizes")
        self.assertGreater(sizes.pop() * (n - n // 10), 4 * 1024 * 1024,
                           "the answers no longer pass the output high-water mark")

    def test_slow_reader_of_long_answers_keeps_its_connection(self):
        # Pipelined requests whose answers (3.9 MB: under the output
        # high-water mark, so all are parsed at once and the input is then
        # empty) a client with a 4 kB receive window reads at 500 kB/s, far
        # longer than idle_timeout_ms (2000).  Its deadline starts again
        # whenever it takes some, so every answer arrives whole.  (Closing
        # once the answers are all with the kernel is allowed: the kernel
        # still delivers them.)
        with GW.raw_conn("fi") as c:
            c.send(GET_METADATA)
            c.is_open(0.5)
            one = len(c.buf)
        self.assertEqual(len(parse_responses(c.buf)), 1)
        n = 3900000 // one
        rate = 500000
        with GW.raw_conn("fi", timeout=30, rcvbuf=4096) as c:
            c.send(GET_METADATA * n)
            start = time.monotonic()
            deadline = start + 60
            while len(c.buf) < n * one and c._recv(deadline):
                time.sleep(max(0.0, start + len(c.buf) / rate - time.monotonic()))
            elapsed = time.monotonic() - start
        self.assertEqual(len(c.buf), n * one, "%d of %d bytes, then %s after %.1f s" % (
            len(c.buf), n * one, "a close" if c.closed else "nothing", elapsed))
        self.assertEqual([r.status for r in parse_responses(c.buf)], [200] * n)

    def test_reader_that_takes_nothing_is_closed(self):
        # Answers of over 4 MB, the last asking to close, for a client with
        # a 4 kB receive window that reads nothing for 5 s: the server gives
        # up on it after idle_timeout_ms (2000) without progress, instead
        # of holding the connection and its output for as long as the
        # client likes.  What it then reads is short of all the answers.
        n = 2000
        reqs = [GET_METADATA] * (n - 1) + [
            b"GET /fhir/metadata HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n"]
        with GW.raw_conn("fi", timeout=30, rcvbuf=4096) as c:
            c.send(b"".join(reqs))
            time.sleep(5)
            buf, closed = c.read_until_closed(20)
        self.assertTrue(closed)
        # (cut anywhere, so the answers' status lines are counted, not parsed)
        self.assertLess(buf.count(b"HTTP/1.1 200 OK\r\n"), n,
                        "every answer reached a reader that took nothing for 5 s")


if __name__ == "__main__":
    unittest.main()
