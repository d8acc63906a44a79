"""Queries pipelined on one database connection (gateway/db.c): with one
worker and one pooled connection, concurrent requests put several queries
in flight on it at once, and the read-only ones of one loop turn share a
Sync; reads of one statement that find the connection busy go as one
batched statement (gateway/db_batch.h), whose rows are sorted out to the
requests.  Each answer must reach the request that asked, exactly as it
reads when its statement runs alone, and when the
connection dies every query in flight on it fails at once (503, DESIGN.md
section 5), after which the pool reconnects.  A query stuck on a lock ends
at database.statement_timeout_ms, not when the lock does, and the reads
that shared its Sync are sent again, not failed.
"""

import os
import re
import signal
import subprocess
import threading
import time
import unittest

import harness
from harness import GatewayTestCase, Pki

SERVERS = CLUSTER = GW = GW_TIMEOUT = None
PATIENTS = []
THREADS = 12
ANSWER_WITHIN = 10  # s: a request whose query died must not hang
RECOVER_WITHIN = 15  # s
STATEMENT_TIMEOUT_MS = 1000  # GW_TIMEOUT's


def database(timeout_ms):
    return {"database": {"conninfo": CLUSTER.conninfo_for("fhirgw"),
                         "migrate_conninfo": CLUSTER.conninfo_for("fhirgw", owner=True),
                         "pool_size": 1, "statement_timeout_ms": timeout_ms}}


def setUpModule():
    global SERVERS, CLUSTER, GW, GW_TIMEOUT, PATIENTS
    SERVERS = harness.ModuleServers()
    CLUSTER = SERVERS.cluster
    with SERVERS.starting():
        # No timeout here: a query stuck on a lock stays stuck until the
        # test ends it.
        GW = SERVERS.gateway(Pki.get(), patients=THREADS, workers=1,
                             config_extra=database(0))
        GW.start()
        GW_TIMEOUT = SERVERS.gateway(Pki.get(), workers=1, provision=False,
                                     id_key=GW.id_key,
                                     config_extra=database(STATEMENT_TIMEOUT_MS))
        GW_TIMEOUT.start()
        PATIENTS = harness.patients(CLUSTER)[:THREADS]


def tearDownModule():
    SERVERS.stop()


def db_counter(name, gw=None):
    status, _, body = (gw or GW).admin_get("/metrics")
    assert status == 200, status
    m = re.search(rb"^fhirgw_db_" + name.encode() + rb"_total (\d+)$", body, re.M)
    assert m, "no fhirgw_db_%s_total in /metrics" % name
    return int(m.group(1))


def pipelined_total():
    return db_counter("pipelined")


def in_flight_total():
    """Queries sent behind another on a busy connection, counting each
    query of a batch (a batch of n is one statement, n queries)."""
    return db_counter("pipelined") + db_counter("batched") - db_counter("batches")


def summary_entries(body):
    """A $summary's entries after the Composition: what the registry rows
    made (the Bundle's id, time and Composition are new each time)."""
    return body["entry"][1:]


def wait_stopped(pid):
    """Until every thread of pid has taken its SIGSTOP (which arrives
    asynchronously)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        states = []
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                states.append(f.read().rsplit(")", 1)[1].split()[0])
        if all(st == "T" for st in states):
            return
        time.sleep(0.01)
    raise AssertionError("pid %d did not stop" % pid)


def in_parallel(fn, n):
    """Run fn(i) on n threads at once; returns (results by i, errors)."""
    results, errors = [None] * n, []
    start = threading.Barrier(n)

    def run(i):
        try:
            start.wait(10)
            results[i] = fn(i)
        except Exception as e:  # reported by the caller
            errors.append("%d: %r" % (i, e))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results, errors


class TestPipelinedQueries(GatewayTestCase):
    ROUNDS = 15

    def test_each_answer_reaches_its_request(self):
        """Every thread asks for its own patient over and over; a reply
        with another patient's id would be an answer delivered to the
        wrong query."""
        # Each patient's answers one request at a time: the connection is
        # idle, so each statement runs alone.
        alone = {}
        for _, pid in PATIENTS:
            patient = GW.get("fi", "/fhir/Patient/" + pid)
            summary = GW.get("fi", "/fhir/Patient/%s/$summary" % pid)
            self.assertOk(patient, "Patient")
            self.assertOk(summary, "Bundle")
            alone[pid] = (patient.body, summary_entries(summary.json))
        before = pipelined_total()
        queries, syncs = db_counter("queries"), db_counter("syncs")
        batched, batches = db_counter("batched"), db_counter("batches")

        def ask(i):
            hetu, pid = PATIENTS[i]
            seen = []
            with GW.client("fi", timeout=30) as c:
                for n in range(self.ROUNDS):
                    path = ("/fhir/Patient/%s/$summary" % pid if n % 3 == 0
                            else "/fhir/Patient/" + pid)
                    r = c.get(path)
                    if r.status != 200:
                        same = False
                    elif path.endswith("$summary"):
                        same = summary_entries(r.json) == alone[pid][1]
                    else:
                        same = r.body == alone[pid][0]
                    seen.append((r.status, same, hetu.encode() in r.body))
            return seen

        results, errors = in_parallel(ask, THREADS)
        self.assertEqual(errors, [])
        for i, seen in enumerate(results):
            pid = PATIENTS[i][1]
            self.assertEqual(seen, [(200, True, True)] * self.ROUNDS,
                             "thread %d (%s): not the answer its statement"
                             " gives alone" % (i, pid))
        self.assertGreater(pipelined_total() - before, 0,
                           "no query was sent behind another: the test proved nothing")
        # Reads that found the connection busy were answered together.
        batched, batches = db_counter("batched") - batched, db_counter("batches") - batches
        self.assertGreater(batches, 0, "no two reads went as one statement")
        self.assertGreater(batched, batches)
        # Registry reads arriving together shared Syncs: fewer Syncs than
        # statements (each request also wrote nothing through this pool).
        queries, syncs = db_counter("queries") - queries, db_counter("syncs") - syncs
        self.assertGreaterEqual(queries + batched - batches, THREADS * self.ROUNDS)
        self.assertLess(syncs, queries, "no two reads shared a Sync")
        # Every group got its Sync: a group whose reads were all answered
        # (each has a Flush) before its Sync left would leave the pool's
        # backend idle in its transaction, holding its locks.
        busy = "select count(*) from pg_stat_activity where application_name =" \
               " 'fhirgw pool 0' and state <> 'idle'"
        deadline = time.monotonic() + 5
        while CLUSTER.psql(busy).strip() != "0" and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(CLUSTER.psql(busy).strip(), "0", "a pool backend is left in a transaction")


class TestOneTurnOneBatch(GatewayTestCase):
    def test_reads_of_one_turn_go_as_one_batch_to_an_idle_pool(self):
        """Reads that the worker takes in one loop turn go to PostgreSQL as
        one batch, even with every connection idle: each read sent alone
        would cost its backend a plan of its own (db.h).  The gateway is
        stopped while the requests arrive, so that one turn takes them all;
        each answer must still be its own patient."""
        n = 4
        pids = [pid for _, pid in PATIENTS[:n]]
        for pid in pids:  # consent decisions cached: the reads are all
            self.assertOk(GW_TIMEOUT.get("fi", "/fhir/Patient/" + pid), "Patient")
        clients = [GW_TIMEOUT.client("fi", timeout=ANSWER_WITHIN + 20) for _ in range(n)]
        for c in clients:
            self.addCleanup(c.close)
            self.assertEqual(c.get("/fhir/metadata").status, 200)
        batched = db_counter("batched", GW_TIMEOUT)
        batches = db_counter("batches", GW_TIMEOUT)
        results = [None] * n

        def ask(i):
            r = clients[i].get("/fhir/Patient/" + pids[i])
            results[i] = (r.status, r.json.get("id") if r.status == 200 else None)

        threads = [threading.Thread(target=ask, args=(i,)) for i in range(n)]
        GW_TIMEOUT.proc.send_signal(signal.SIGSTOP)
        try:
            wait_stopped(GW_TIMEOUT.proc.pid)
            for t in threads:
                t.start()
            time.sleep(0.3)  # every request in its socket
        finally:
            GW_TIMEOUT.proc.send_signal(signal.SIGCONT)
        for t in threads:
            t.join(ANSWER_WITHIN + 30)
        self.assertEqual(results, [(200, pid) for pid in pids])
        self.assertEqual((db_counter("batched", GW_TIMEOUT) - batched,
                          db_counter("batches", GW_TIMEOUT) - batches), (n, 1),
                         "(reads batched, batches): the turn's reads did not go as one")


class LockMixin:
    def hold_lock(self):
        """A session that holds the Finnish patient table locked: the
        gateway's reads of it wait in PostgreSQL until it ends."""
        cmd = [CLUSTER.psql_bin, "-h", CLUSTER.dir, "-p", str(CLUSTER.PORT), "-U", "postgres",
               "-d", "fhirgw", "-X", "-q", "-v", "ON_ERROR_STOP=1"]
        p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        self.addCleanup(self.release, p)
        p.stdin.write(b"BEGIN; LOCK TABLE fi_rekisteri.henkilo IN ACCESS EXCLUSIVE MODE;\n")
        p.stdin.flush()
        self.wait_for("select count(*) from pg_locks where relation ="
                      " 'fi_rekisteri.henkilo'::regclass and granted and mode = 'AccessExclusiveLock'",
                      "1")
        return p

    @staticmethod
    def release(p):
        if p.poll() is None:
            p.stdin.write(b"ROLLBACK;\n")
            p.stdin.close()
            p.wait(10)

    def wait_for(self, sql, want, within=ANSWER_WITHIN):
        deadline = time.monotonic() + within
        got = None
        while time.monotonic() < deadline:
            got = CLUSTER.psql(sql).strip()
            if got == want:
                return
            time.sleep(0.05)
        self.fail("%s: %r, not %r, within %ds" % (sql, got, want, within))


class TestConnectionLostInFlight(LockMixin, GatewayTestCase):
    def test_every_query_in_flight_fails_and_the_pool_recovers(self):
        _, pid = PATIENTS[0]
        self.assertOk(GW.get("fi", "/fhir/Patient/" + pid), "Patient")  # consent cached
        holder = self.hold_lock()
        before = in_flight_total()
        waiting = "select count(*) from pg_stat_activity where wait_event_type = 'Lock'"

        def ask(i):
            started = time.monotonic()
            r = GW.get("fi", "/fhir/Patient/" + PATIENTS[i % len(PATIENTS)][1],
                       timeout=ANSWER_WITHIN + 20)
            return r, time.monotonic() - started

        answers = []
        asker = threading.Thread(target=lambda: answers.extend(in_parallel(ask, 8)))
        asker.start()
        # The connection's first query waits for the lock; the ones sent
        # behind it wait in its socket buffer.
        self.wait_for(waiting, "1")
        deadline = time.monotonic() + ANSWER_WITHIN
        while in_flight_total() - before < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertGreaterEqual(in_flight_total() - before, 3,
                                "fewer than four queries in flight on the connection")
        CLUSTER.psql("select pg_terminate_backend(pid) from pg_stat_activity"
                     " where wait_event_type = 'Lock'")
        asker.join(ANSWER_WITHIN + 30)
        results, errors = answers
        self.assertEqual(errors, [])
        for r, elapsed in results:
            self.assertOutcome(r, 503)
            self.assertLess(elapsed, ANSWER_WITHIN)
        self.release(holder)
        deadline = time.monotonic() + RECOVER_WITHIN
        while True:
            r = GW.get("fi", "/fhir/Patient/" + pid)
            if r.status == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        self.assertOk(r, "Patient")
        self.assertEqual(r.json["id"], pid)


class TestStatementTimeout(LockMixin, GatewayTestCase):
    def test_a_query_stuck_on_a_lock_fails_at_the_timeout(self):
        """The lock stays held: the queries end by statement_timeout, on a
        connection that stays up and serves as soon as the lock is gone."""
        _, pid = PATIENTS[1]
        self.assertOk(GW_TIMEOUT.get("fi", "/fhir/Patient/" + pid), "Patient")
        mark = GW_TIMEOUT.log_mark()
        holder = self.hold_lock()

        def ask(i):
            started = time.monotonic()
            r = GW_TIMEOUT.get("fi", "/fhir/Patient/" + pid, timeout=ANSWER_WITHIN + 20)
            return r, time.monotonic() - started

        results, errors = in_parallel(ask, 3)
        self.assertEqual(errors, [])
        for r, elapsed in results:
            self.assertOutcome(r, 503)
            self.assertGreater(elapsed, STATEMENT_TIMEOUT_MS / 1000 * 0.9)
            self.assertLess(elapsed, ANSWER_WITHIN)
        self.assertIsNone(holder.poll(), "the lock holder went away: the test proved nothing")
        self.release(holder)
        r = GW_TIMEOUT.get("fi", "/fhir/Patient/" + pid)
        self.assertOk(r, "Patient")
        log = GW_TIMEOUT.log_since(mark)
        self.assertIn("statement timeout", log)
        self.assertNotIn("connection lost", log)


class TestErrorInAGroup(LockMixin, GatewayTestCase):
    """A $summary stuck on a locked table fails at the statement timeout;
    the Patient reads that shared its Sync were skipped by the server and
    must be sent again (fhirgw_db_resent_total), each answered 200.  The
    gateway is stopped while the requests arrive, so that its worker takes
    them in one loop turn, in order: a search by identifier, whose
    statement is not batchable, so the idle connection sends it at once
    with its own Sync,
    then the $summary and the reads behind it.  Those are batchable and
    held to the turn's end (db.h), where the $summary goes alone and the
    reads as one batch (db_batch.h), under the next Sync: the server skips
    the batch, and its reads are sent again one by one."""
    READERS = 2  # with the search and the $summary: DB_PIPELINE_DEPTH

    def test_reads_sharing_a_failed_sync_are_sent_again(self):
        search_hetu, summary_pid = PATIENTS[4][0], PATIENTS[3][1]
        for _, pid in PATIENTS[:5]:  # consent decisions cached
            self.assertOk(GW_TIMEOUT.get("fi", "/fhir/Patient/" + pid), "Patient")
        resent = db_counter("resent", GW_TIMEOUT)
        batches = db_counter("batches", GW_TIMEOUT)
        cmd = [CLUSTER.psql_bin, "-h", CLUSTER.dir, "-p", str(CLUSTER.PORT), "-U",
               "postgres", "-d", "fhirgw", "-X", "-q", "-v", "ON_ERROR_STOP=1"]
        holder = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        self.addCleanup(self.release, holder)
        holder.stdin.write(b"BEGIN; LOCK TABLE fi_rekisteri.laboratoriotulos"
                           b" IN ACCESS EXCLUSIVE MODE;\n")
        holder.stdin.flush()
        self.wait_for("select count(*) from pg_locks where relation ="
                      " 'fi_rekisteri.laboratoriotulos'::regclass and granted"
                      " and mode = 'AccessExclusiveLock'", "1")
        clients = [GW_TIMEOUT.client("fi", timeout=ANSWER_WITHIN + 20)
                   for _ in range(self.READERS + 2)]
        for c in clients:  # handshakes done before the gateway stops
            self.addCleanup(c.close)
            self.assertEqual(c.get("/fhir/metadata").status, 200)
        paths = (["/fhir/Patient?identifier=urn:oid:1.2.246.21|" + search_hetu,
                  "/fhir/Patient/%s/$summary" % summary_pid] +
                 ["/fhir/Patient/" + pid for _, pid in PATIENTS[:self.READERS]])
        results = [None] * len(paths)

        def ask(i):
            r = clients[i].get(paths[i])
            results[i] = (r.status, r.json.get("type") if i == 0 else
                          r.json.get("id") if r.status == 200 else None)

        threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(paths))]
        GW_TIMEOUT.proc.send_signal(signal.SIGSTOP)
        try:
            wait_stopped(GW_TIMEOUT.proc.pid)
            for t in threads:  # in this order
                t.start()
                time.sleep(0.1)
        finally:
            GW_TIMEOUT.proc.send_signal(signal.SIGCONT)
        for t in threads:
            t.join(ANSWER_WITHIN + 30)
        self.assertEqual(results[0], (200, "searchset"))
        self.assertEqual(results[1], (503, None), "the $summary did not wait for the lock")
        self.assertEqual(results[2:], [(200, pid) for _, pid in PATIENTS[:self.READERS]])
        self.assertGreater(db_counter("resent", GW_TIMEOUT), resent,
                           "no read shared the failed query's Sync: the test proved nothing")
        self.assertEqual(db_counter("batches", GW_TIMEOUT), batches + 1,
                         "the reads behind the $summary did not go as one batch")


class TestConnectionNames(GatewayTestCase):
    def test_pg_stat_activity_names_each_connection(self):
        """A DBA (and tests/bench) tells the gateway's connections apart by
        application_name: the worker's pool, its audit batcher.  Two
        gateways of one worker with one pooled connection each run here."""
        for gw in (GW, GW_TIMEOUT):
            self.assertOk(gw.get("fi", "/fhir/Patient/" + PATIENTS[0][1]), "Patient")
        names = sorted(n for (n,) in CLUSTER.rows(
            "select application_name from pg_stat_activity"
            " where usename = 'fhirgw_app' and application_name like 'fhirgw %'"))
        self.assertEqual([n for n in names if n != "fhirgw export"],
                         ["fhirgw audit 0"] * 2 + ["fhirgw pool 0"] * 2, names)


if __name__ == "__main__":
    unittest.main()
