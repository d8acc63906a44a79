"""harness.py: what the integration tests share.

The tests drive the real `fhirgw` binary over real mutual TLS against a
throwaway PostgreSQL cluster; nothing is mocked.  This module owns:

  Cluster   a PostgreSQL cluster in a fresh /tmp directory, unix socket only
  Standby   a streaming hot standby of a Cluster (database.replica_conninfo)
  Pki       the development PKI from deploy/pki.sh, made once per process
  Gateway   config.json + migrate + seed + node-add + `fhirgw serve`
  clients   tls_context(), Gateway.get(), Client (keep-alive), RawConn / raw()
            (bytes over TLS), try_tls() (refused handshakes), parse_responses()
  data      patients(cluster), validate_r4(resource)
  GatewayTestCase  unittest.TestCase with OperationOutcome assertions that
            prints the gateway's log when a test fails

Everything started here is stopped by its owner, by an atexit hook and, for
PostgreSQL, by a watchdog process that outlives a SIGKILLed test runner.

Environment:
  FHIRGW_BIN         the fhirgw binary (default: <source>/build/fhirgw)
  FHIRGW_SOURCE_DIR  the repository root (default: two levels above this file)
  FHIRGW_R4_SCHEMA   the FHIR R4 JSON schema (fhir.schema.json); required by
                     validate_r4, which fails without it
  FHIRGW_PG_BINDIR   PostgreSQL server binaries (default: PostgreSQL 15's)
  FHIRGW_KEEP_TMP    set to 1 to keep the temporary directories for autopsy
"""

import atexit
import collections
import contextlib
import ctypes
import glob
import http.client
import json
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.abspath(
    os.environ.get("FHIRGW_SOURCE_DIR") or os.path.join(HERE, "..", ".."))

FI_HETU_SYSTEM = "urn:oid:1.2.246.21"
PURPOSE_HEADER = "X-Purpose-Of-Use"
KEEP_TMP = os.environ.get("FHIRGW_KEEP_TMP") == "1"

# Node certificates registered by default: name -> (country, roles).
# `expired` is registered on purpose: its refusal must come from TLS, not
# from the node registry.  `unknown`, `rogue` are never registered.
DEFAULT_NODES = {
    "fi": ("FI", "treatment"),
    "no": ("NO", "treatment"),
    "se": ("SE", "treatment"),
    "admin": ("FI", "consent-admin"),
    "auditor": ("FI", "auditor"),
    "expired": ("FI", "treatment"),
}

# The documented defaults (docs/configuration.md); written out in full so
# that a config parser that wants every key still starts.  One exception:
# the per-node rate is lifted (0), since tests and the benchmark send
# thousands of requests a second as one node; test_routes.TestThrottle
# sets it.
DEFAULT_LIMITS = {
    "max_request_line": 8192,
    "max_header_bytes": 32768,
    "max_body": 1048576,
    "header_timeout_ms": 10000,
    "idle_timeout_ms": 60000,
    "max_connections": 20000,
    "node_requests_per_s": 0,
    "node_burst_s": 2,
}


class HarnessError(Exception):
    """The test environment could not be set up (not a gateway verdict)."""


# --------------------------------------------------------------------------
# Process hygiene

_cleanups = []  # callables, run last-in first-out at exit
_cleanup_lock = threading.Lock()


def _register_cleanup(fn):
    with _cleanup_lock:
        _cleanups.append(fn)


def _unregister_cleanup(fn):
    with _cleanup_lock:
        try:
            _cleanups.remove(fn)
        except ValueError:
            pass


@atexit.register
def _run_cleanups():
    while True:
        with _cleanup_lock:
            if not _cleanups:
                return
            fn = _cleanups.pop()
        try:
            fn()
        except Exception as e:  # keep going: clean up everything else
            sys.stderr.write("harness cleanup: %r\n" % (e,))


def _on_sigterm(signum, frame):
    # SIGTERM (a CTest timeout, a CI cancel): stop the gateways and
    # PostgreSQL now and leave.  An exception would only fail the current
    # test (unittest catches SystemExit) and run the rest.
    signal.signal(signum, signal.SIG_DFL)
    sys.stderr.write("harness: signal %d, cleaning up\n" % signum)
    _run_cleanups()
    os._exit(128 + signum)


if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
    signal.signal(signal.SIGTERM, _on_sigterm)


def _clean_env(extra=None):
    """os.environ without libpq's PG* variables, which would silently
    redirect a connection away from the throwaway cluster."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["PGCLIENTENCODING"] = "UTF8"
    if extra:
        env.update(extra)
    return env


def _die_with_parent():
    """preexec_fn: SIGKILL the child when the test process dies, even by
    SIGKILL (Linux PR_SET_PDEATHSIG)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def _after_death(shell):
    """Run a shell snippet once this process is gone, however it died
    (SIGKILL included): a detached watcher, backgrounded inside sh so that
    it is nobody's child here."""
    script = "while kill -0 %d 2>/dev/null; do sleep 1; done; %s" % (os.getpid(), shell)
    subprocess.run(["/bin/sh", "-c", "( %s ) </dev/null >/dev/null 2>&1 &" % script],
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, start_new_session=True, check=True)


def remove_after_death(path):
    if not KEEP_TMP:
        _after_death("rm -rf %s" % _shquote(path))


def _tail(path, lines=60):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        return "(no log: %s)" % e
    text = data.decode("utf-8", "replace").splitlines()
    return "\n".join(text[-lines:])


def _run(cmd, what, timeout=120, env=None, cwd=None, input=None):
    """Run cmd; return CompletedProcess or raise HarnessError with output."""
    try:
        p = subprocess.run(cmd, input=input, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout,
                           env=env if env is not None else _clean_env(),
                           cwd=cwd)
    except FileNotFoundError as e:
        raise HarnessError("%s: %s not found (%s)" % (what, cmd[0], e))
    except subprocess.TimeoutExpired as e:
        raise HarnessError("%s: timed out after %ss: %s\n%s%s" % (
            what, timeout, " ".join(map(str, cmd)),
            (e.stdout or b"").decode("utf-8", "replace"),
            (e.stderr or b"").decode("utf-8", "replace")))
    if p.returncode != 0:
        raise HarnessError("%s failed (exit %d): %s\n--- stdout\n%s\n--- stderr\n%s"
                           % (what, p.returncode, " ".join(map(str, cmd)),
                              p.stdout.decode("utf-8", "replace"),
                              p.stderr.decode("utf-8", "replace")))
    return p


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------
# PostgreSQL

def _pg_bindir():
    env = os.environ.get("FHIRGW_PG_BINDIR")
    if env:
        return env
    if os.path.exists("/usr/lib/postgresql/15/bin/initdb"):
        return "/usr/lib/postgresql/15/bin"
    found = shutil.which("initdb")
    if found:
        return os.path.dirname(os.path.realpath(found))

    def version(path):
        m = re.search(r"/postgresql/(\d+)/", path)
        return int(m.group(1)) if m else 0
    cands = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version)
    if cands:
        return cands[-1]
    raise HarnessError("PostgreSQL server binaries not found (install "
                       "postgresql-15 or set FHIRGW_PG_BINDIR)")


def _pg_tool(bindir, name):
    path = os.path.join(bindir, name)
    if os.path.exists(path):
        return path
    found = shutil.which(name)
    if found:
        return found
    raise HarnessError("%s not found in %s or on PATH" % (name, bindir))


class Cluster:
    """A throwaway PostgreSQL cluster reachable only by a unix socket in its
    own directory (so clusters never collide on a port).

    Usable as a context manager; an atexit hook and a watchdog process stop
    it even when the tests fail or the runner is killed."""

    PORT = 5432

    def __init__(self):
        self.bindir = _pg_bindir()
        self.initdb = _pg_tool(self.bindir, "initdb")
        self.pg_ctl = _pg_tool(self.bindir, "pg_ctl")
        self.psql_bin = _pg_tool(self.bindir, "psql")
        self.as_root = os.geteuid() == 0
        self.dir = tempfile.mkdtemp(prefix="fhirgw-pg-", dir="/tmp")
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "postgresql.log")
        self.running = False
        self._closed = False
        _register_cleanup(self.cleanup)
        try:
            os.chmod(self.dir, 0o755)
            if self.as_root:
                try:
                    pw = pwd.getpwnam("postgres")
                except KeyError:
                    raise HarnessError("running as root but there is no "
                                       "'postgres' user to run PostgreSQL")
                os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            self._watchdog()
            self._create()
        except BaseException:
            self.cleanup()
            raise

    def _create(self):
        self._as_owner([self.initdb, "-D", self.data, "-A", "trust",
                        "-U", "postgres", "-E", "UTF8", "--locale=C",
                        "--no-sync"], "initdb")
        self.start()
        # The owner (runs migrations, owns every object) and the
        # runtime role the gateway serves as (docs/audit.md, Roles).
        self.psql("create role fhirgw login createrole; "
                  "create role fhirgw_app login", db="postgres")
        self.psql("create database fhirgw owner fhirgw", db="postgres")

    # -- process control

    def _as_owner(self, cmd, what, timeout=120):
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--"] + cmd
        return _run(cmd, what, timeout=timeout, cwd=self.dir)

    def _watchdog(self):
        """Stop the cluster and remove its directory once this process is
        gone, however it died."""
        runas = "runuser -u postgres -- " if self.as_root else ""
        rm = "" if KEEP_TMP else 'rm -rf "$D"'
        _after_death(
            'D=%s; if [ -f "$D/data/postmaster.pid" ]; then '
            '%s%s -D "$D/data" -m immediate -w -t 20 stop >/dev/null 2>&1; fi; %s'
            % (_shquote(self.dir), runas, _shquote(self.pg_ctl), rm))

    def start(self):
        """Start (or restart after stop()) the server and wait until it
        accepts connections."""
        if self.running:
            return
        opts = ("-c listen_addresses='' -k %s -p %d -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off "
                "-c max_connections=100" % (self.dir, self.PORT))
        try:
            self._as_owner([self.pg_ctl, "-D", self.data, "-l", self.log,
                            "-o", opts, "-w", "-t", "60", "start"],
                           "pg_ctl start", timeout=90)
        except HarnessError as e:
            raise HarnessError("%s\n--- postgresql.log\n%s" % (e, _tail(self.log)))
        self.running = True

    def stop(self):
        """Stop the server (fast shutdown: sessions are terminated)."""
        if not os.path.exists(os.path.join(self.data, "postmaster.pid")):
            self.running = False
            return
        try:
            self._as_owner([self.pg_ctl, "-D", self.data, "-m", "fast", "-w",
                            "-t", "30", "stop"], "pg_ctl stop", timeout=45)
        except HarnessError:
            self._kill_postmaster()
        self.running = False

    def _kill_postmaster(self):
        pidfile = os.path.join(self.data, "postmaster.pid")
        try:
            with open(pidfile) as f:
                pid = int(f.readline().strip())
        except (OSError, ValueError):
            return
        for sig, wait in ((signal.SIGQUIT, 5), (signal.SIGKILL, 5)):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                return
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    return
                time.sleep(0.1)

    def cleanup(self):
        if self._closed:
            return
        self._closed = True
        _unregister_cleanup(self.cleanup)
        try:
            self.stop()
        finally:
            if not KEEP_TMP:
                shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()
        return False

    # -- use

    @property
    def conninfo(self):
        """The gateway's runtime role (fhirgw_app): database.conninfo."""
        return self.conninfo_for("fhirgw")

    @property
    def owner_conninfo(self):
        """The owner role (fhirgw): database.migrate_conninfo."""
        return self.conninfo_for("fhirgw", owner=True)

    def conninfo_for(self, dbname, owner=False):
        """conninfo of database dbname, as the owner or the runtime role."""
        return "host=%s port=%d dbname=%s user=%s" % (
            self.dir, self.PORT, dbname, "fhirgw" if owner else "fhirgw_app")

    def create_database(self, dbname):
        """Another database owned by fhirgw in this cluster (for gateways
        that each need their own, e.g. one per country); no-op if it
        exists."""
        if not re.match(r"^[a-z_][a-z0-9_]*$", dbname):
            raise HarnessError("bad database name %r" % dbname)
        if not self.psql("select 1 from pg_database where datname = %s"
                         % sql_literal(dbname), db="postgres").strip():
            self.psql("create database %s owner fhirgw" % dbname, db="postgres")

    def psql(self, sql, user="postgres", db="fhirgw", timeout=60):
        """Run sql (one or more statements, ON_ERROR_STOP) and return psql's
        unaligned, tuples-only stdout as text (fields separated by '|')."""
        cmd = [self.psql_bin, "-h", self.dir, "-p", str(self.PORT), "-U", user,
               "-d", db, "-At", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", "-"]
        p = _run(cmd, "psql", timeout=timeout, input=sql.encode("utf-8"))
        return p.stdout.decode("utf-8")

    def rows(self, sql, user="postgres", db="fhirgw"):
        """sql's result as a list of tuples of text (NULL -> '')."""
        out = self.psql(sql, user=user, db=db)
        return [tuple(line.split("|")) for line in out.splitlines() if line != ""]


class Standby(Cluster):
    """A hot standby of a running Cluster: a base backup of it (roles,
    databases, seeded registries) that keeps replaying its WAL by streaming
    replication, read-only, in its own directory and socket.  What the
    gateway's database.replica_conninfo points at (docs/operations.md)."""

    def __init__(self, primary):
        self.primary = primary
        super().__init__()

    def _create(self):
        basebackup = _pg_tool(self.bindir, "pg_basebackup")
        self._as_owner([basebackup, "-D", self.data, "-h", self.primary.dir,
                        "-p", str(self.primary.PORT), "-U", "postgres", "-R",
                        "-X", "stream", "--checkpoint=fast", "--no-sync"],
                       "pg_basebackup")
        self.start()

    def pause_replay(self):
        """Stop applying the primary's changes (they are still received)."""
        self.psql("select pg_wal_replay_pause()", db="postgres")
        deadline = time.monotonic() + 20
        while self.psql("select pg_get_wal_replay_pause_state()",
                        db="postgres").strip() != "paused":
            if time.monotonic() > deadline:
                raise HarnessError("standby replay did not pause")
            time.sleep(0.05)

    def resume_replay(self):
        self.psql("select pg_wal_replay_resume()", db="postgres")

    def catch_up(self, timeout=20):
        """Wait until everything the primary committed so far is replayed."""
        target = self.primary.psql("select pg_current_wal_insert_lsn()", db="postgres").strip()
        deadline = time.monotonic() + timeout
        while self.psql("select pg_last_wal_replay_lsn() >= %s::pg_lsn"
                        % sql_literal(target), db="postgres").strip() != "t":
            if time.monotonic() > deadline:
                raise HarnessError("standby did not replay up to %s" % target)
            time.sleep(0.05)


def _shquote(s):
    return "'" + str(s).replace("'", "'\\''") + "'"


def sql_literal(s):
    """A PostgreSQL string literal (standard_conforming_strings is on)."""
    if s is None:
        return "NULL"
    return "'" + str(s).replace("'", "''") + "'"


def sql_text_array(items):
    return "ARRAY[%s]::text[]" % ", ".join(sql_literal(i) for i in items) \
        if items else "'{}'::text[]"


# --------------------------------------------------------------------------
# PKI

class Pki:
    """The development PKI of deploy/pki.sh, generated once per process into
    a temporary directory.  Use Pki.get()."""

    NODES = ("fi", "no", "se", "admin", "auditor", "portal", "research",
             "peer", "unknown", "expired", "rogue")
    _instance = None
    _lock = threading.Lock()

    @classmethod
    def get(cls):
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def __init__(self):
        script = os.path.join(SOURCE_DIR, "deploy", "pki.sh")
        if not os.path.exists(script):
            raise HarnessError("deploy/pki.sh not found at %s (set "
                               "FHIRGW_SOURCE_DIR to the repository root)" % script)
        self.tmp = tempfile.mkdtemp(prefix="fhirgw-pki-", dir="/tmp")
        remove_after_death(self.tmp)
        if not KEEP_TMP:
            _register_cleanup(lambda: shutil.rmtree(self.tmp, ignore_errors=True))
        self.dir = os.path.join(self.tmp, "pki")
        _run(["bash", script, self.dir], "deploy/pki.sh", timeout=120)
        missing = [p for p in [self.ca, self.ca_key, self.server_crt,
                               self.server_key, self.crl]
                   + [f for n in self.NODES for f in self.node(n)]
                   if not os.path.exists(p)]
        if missing:
            raise HarnessError("deploy/pki.sh did not produce: %s" % ", ".join(missing))

    @property
    def ca(self):
        return os.path.join(self.dir, "ca.crt")

    @property
    def ca_key(self):
        return os.path.join(self.dir, "ca.key")

    @property
    def server(self):
        return (self.server_crt, self.server_key)

    @property
    def server_crt(self):
        return os.path.join(self.dir, "server.crt")

    @property
    def server_key(self):
        return os.path.join(self.dir, "server.key")

    @property
    def crl(self):
        return os.path.join(self.dir, "crl.pem")

    def key_hash(self, cert):
        """Hex SHA-256 of a certificate's public key (DER
        SubjectPublicKeyInfo): how the gateway names nodes and pins peers."""
        pub = _run(["openssl", "x509", "-in", cert, "-noout", "-pubkey"],
                   "openssl x509 -pubkey").stdout
        der = _run(["openssl", "pkey", "-pubin", "-outform", "DER"],
                   "openssl pkey", input=pub).stdout
        import hashlib
        return hashlib.sha256(der).hexdigest()

    def node(self, name):
        """(cert, key) paths of a node certificate."""
        base = os.path.join(self.dir, "nodes", name)
        return (base + ".crt", base + ".key")

    def issue_server(self, out_dir, name="server"):
        """A new server certificate and key from the CA, like deploy/pki.sh's
        (CN and SAN localhost, 127.0.0.1), in out_dir/NAME.crt and .key.
        Returns (cert, key)."""
        crt, key = (os.path.join(out_dir, name + ext) for ext in (".crt", ".key"))
        ext = os.path.join(out_dir, name + ".ext")
        with open(ext, "w") as f:
            f.write("[leaf]\nbasicConstraints = critical,CA:FALSE\n"
                    "keyUsage = critical,digitalSignature\n"
                    "extendedKeyUsage = serverAuth\n"
                    "subjectAltName = DNS:localhost,IP:127.0.0.1\n")
        _run(["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout",
              "-out", key], "openssl ecparam")
        csr = _run(["openssl", "req", "-new", "-key", key, "-subj",
                    "/C=FI/O=Aurora dev/CN=localhost"], "openssl req").stdout
        _run(["openssl", "x509", "-req", "-CA", self.ca, "-CAkey", self.ca_key,
              "-CAcreateserial", "-CAserial", os.path.join(out_dir, name + ".srl"),
              "-days", "30", "-extfile", ext, "-extensions", "leaf", "-out", crt],
             "openssl x509 -req", input=csr)
        return crt, key

    def make_crl(self, revoke, out_dir):
        """A CRL signed by the CA that revokes the given node certificates
        (names); written to out_dir/crl.pem with a throwaway `openssl ca`
        database.  Returns its path."""
        db = os.path.join(out_dir, "ca-db")
        os.makedirs(db, exist_ok=True)
        open(os.path.join(db, "index.txt"), "w").close()
        with open(os.path.join(db, "crlnumber"), "w") as f:
            f.write("1000\n")
        cnf = os.path.join(db, "ca.cnf")
        with open(cnf, "w") as f:
            f.write("[ca]\ndefault_ca = c\n[c]\n"
                    "database = %s/index.txt\ncrlnumber = %s/crlnumber\n"
                    "default_md = sha256\ndefault_crl_days = 30\n" % (db, db))
        base = ["openssl", "ca", "-batch", "-config", cnf, "-cert", self.ca,
                "-keyfile", self.ca_key]
        for name in revoke:
            _run(base + ["-revoke", self.node(name)[0]], "openssl ca -revoke %s" % name)
        out = os.path.join(out_dir, "crl.pem")
        _run(base + ["-gencrl", "-out", out], "openssl ca -gencrl")
        return out


# --------------------------------------------------------------------------
# TLS clients

Response = collections.namedtuple("Response", "status headers body json")
Response.__doc__ = ("status int, headers dict (lowercase names), body bytes, "
                    "json: the parsed body or None")


def tls_context(node, pki=None, minimum=ssl.TLSVersion.TLSv1_2, maximum=None):
    """Client context: verifies the server against ca.crt for 'localhost'
    and presents the node's certificate.  node: a name from Pki.NODES, a
    (cert, key) tuple, or None for no client certificate."""
    pki = pki or Pki.get()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if minimum is not None and minimum < ssl.TLSVersion.TLSv1_2:
        # OpenSSL 3 refuses TLS < 1.2 at its default security level, on
        # the client too: allow it so that the *server* is what refuses.
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    with _quiet_deprecation():
        ctx.minimum_version = minimum
        if maximum is not None:
            ctx.maximum_version = maximum
    ctx.check_hostname = True
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(pki.ca)
    if node is not None:
        crt, key = pki.node(node) if isinstance(node, str) else node
        ctx.load_cert_chain(crt, key)
    return ctx


class _quiet_deprecation:
    """TLSVersion.TLSv1/TLSv1_1 warn on use; the TLS tests need them."""

    def __enter__(self):
        import warnings
        self._cm = warnings.catch_warnings()
        self._cm.__enter__()
        warnings.simplefilter("ignore", DeprecationWarning)

    def __exit__(self, *exc):
        return self._cm.__exit__(*exc)


def _tls_connect(port, ctx, timeout, rcvbuf=None):
    """rcvbuf: a receive buffer this small (set before connecting, so the
    window is small from the start)."""
    if rcvbuf is None:
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    else:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.settimeout(timeout)
        try:
            sock.connect(("127.0.0.1", port))
        except BaseException:
            sock.close()
            raise
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return ctx.wrap_socket(sock, server_hostname="localhost")
    except BaseException:
        sock.close()
        raise


class _HTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to 127.0.0.1 with SNI and certificate name 'localhost' (the
    gateway listens on IPv4 loopback; 'localhost' may resolve to ::1)."""

    def __init__(self, port, ctx, timeout):
        super().__init__("localhost", port, timeout=timeout, context=ctx)
        self._gw_ctx = ctx
        self._gw_port = port
        self.connects = 0

    def connect(self):
        self.sock = _tls_connect(self._gw_port, self._gw_ctx, self.timeout)
        self.connects += 1


def _headers_dict(items):
    d = {}
    for k, v in items:
        k = k.lower()
        d[k] = d[k] + ", " + v if k in d else v
    return d


def _maybe_json(body):
    if not body:
        return None
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


def _request_headers(headers, purpose):
    h = {}
    if purpose is not None:
        h[PURPOSE_HEADER] = purpose
    if headers:
        for k, v in headers.items():
            # A caller's None removes a default header.
            for existing in [e for e in h if e.lower() == k.lower()]:
                del h[existing]
            if v is not None:
                h[k] = v
    return h


def _do_request(conn, method, path, body, headers, purpose):
    h = _request_headers(headers, purpose)
    if body is not None and isinstance(body, str):
        body = body.encode("utf-8")
    conn.request(method, path, body=body, headers=h)
    r = conn.getresponse()
    data = r.read()
    return Response(r.status, _headers_dict(r.getheaders()), data, _maybe_json(data)), r


def request(port, node, method, path, body=None, headers=None, purpose="TREAT",
            timeout=10, pki=None):
    """One request on a fresh connection; returns Response.  purpose: the
    X-Purpose-Of-Use header (None: not sent); headers: extra headers (a
    value of None removes a default one)."""
    conn = _HTTPSConnection(port, tls_context(node, pki), timeout)
    try:
        resp, _ = _do_request(conn, method, path, body, headers, purpose)
        return resp
    finally:
        conn.close()


def get(port, node, path, headers=None, purpose="TREAT", timeout=10, pki=None):
    return request(port, node, "GET", path, headers=headers, purpose=purpose,
                   timeout=timeout, pki=pki)


class Client:
    """Keep-alive client: one TLS connection reused for several requests.
    `connects` counts TLS connections made (1 while the server keeps the
    connection open); `closed_by_server` tells whether the last response
    ended the connection."""

    def __init__(self, port, node, timeout=10, pki=None, ctx=None):
        self.conn = _HTTPSConnection(port, ctx or tls_context(node, pki), timeout)
        self.closed_by_server = False

    @property
    def connects(self):
        return self.conn.connects

    def request(self, method, path, body=None, headers=None, purpose="TREAT"):
        resp, r = _do_request(self.conn, method, path, body, headers, purpose)
        self.closed_by_server = r.will_close
        return resp

    def get(self, path, headers=None, purpose="TREAT"):
        return self.request("GET", path, headers=headers, purpose=purpose)

    def close(self):
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


_CLOSED_ERRORS = (ssl.SSLError, ConnectionError, BrokenPipeError, EOFError)


class RawConn:
    """Raw bytes over one TLS connection (for framing tests)."""

    def __init__(self, port, node, timeout=5, pki=None, ctx=None, rcvbuf=None):
        self.sock = _tls_connect(port, ctx or tls_context(node, pki), timeout,
                                 rcvbuf)
        self.buf = b""
        self.closed = False

    def send(self, data):
        self.sock.sendall(data)

    def _recv(self, deadline):
        """Read what arrives before deadline into buf.  Returns False on
        timeout, True when data came; sets closed on EOF/reset."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            return False
        except ssl.SSLWantReadError:
            return True
        except _CLOSED_ERRORS:
            self.closed = True
            return False
        if not chunk:
            self.closed = True
            return False
        self.buf += chunk
        return True

    def read_until_closed(self, timeout=5):
        """Read until the server closes or timeout passes.  Returns
        (all bytes read so far, closed)."""
        deadline = time.monotonic() + timeout
        while not self.closed and self._recv(deadline):
            pass
        return self.buf, self.closed

    def read_responses(self, n, timeout=5, head=False):
        """Read until n complete responses are buffered; return them (and
        keep any further bytes buffered).  Raises AssertionError on timeout
        or close before that."""
        deadline = time.monotonic() + timeout
        while True:
            resps, pos = _parse_prefix(self.buf, head=head, limit=n,
                                       eof=self.closed)
            if len(resps) >= n:
                self.buf = self.buf[pos:]
                return resps
            if self.closed or not self._recv(deadline):
                if self.closed:
                    resps, pos = _parse_prefix(self.buf, head=head, limit=n, eof=True)
                    if len(resps) >= n:
                        self.buf = self.buf[pos:]
                        return resps
                raise AssertionError(
                    "expected %d response(s), got %d before %s; bytes: %r"
                    % (n, len(resps), "close" if self.closed else "timeout",
                       self.buf[:2000]))

    def is_open(self, wait=0.3):
        """True if the server has not closed the connection (nothing more
        may arrive within `wait` seconds)."""
        deadline = time.monotonic() + wait
        while not self.closed and self._recv(deadline):
            pass
        return not self.closed

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def raw(port, node, data, read_timeout=5, pki=None):
    """Send data over a fresh TLS connection, read until the server closes
    or read_timeout passes; return the bytes received."""
    with RawConn(port, node, timeout=read_timeout, pki=pki) as c:
        c.send(data)
        out, _ = c.read_until_closed(read_timeout)
        return out


TlsAttempt = collections.namedtuple("TlsAttempt", "handshake_ok data error closed")


class BioTls:
    """A TLS client over memory BIOs on a plain socket, for tests that
    decide when each flight leaves: after handshake() the client's last
    flight (its certificate and Finished) waits in `out`, unsent."""

    def __init__(self, port, node, pki=None, timeout=5):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.inc, self.out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = tls_context(node, pki).wrap_bio(self.inc, self.out,
                                                   server_hostname="localhost")

    def handshake(self):
        while True:
            try:
                self.tls.do_handshake()
                return
            except ssl.SSLWantReadError:
                self.sock.sendall(self.out.read())
                data = self.sock.recv(65536)
                if not data:
                    raise AssertionError("closed during the handshake")
                self.inc.write(data)

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def try_tls(port, ctx, request=b"GET /fhir/metadata HTTP/1.1\r\nHost: localhost\r\n"
            b"X-Purpose-Of-Use: TREAT\r\n\r\n", timeout=5):
    """Connect, handshake, send request, read until close or timeout.

    Returns TlsAttempt(handshake_ok, data: application bytes received,
    error: the exception that ended it or None, closed: the connection
    ended (refused, reset or EOF) rather than timing out).  With TLS 1.3 a
    refused client certificate is often only seen on the first read."""
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    except OSError as e:
        return TlsAttempt(False, b"", e, True)
    with sock:
        try:
            tls = ctx.wrap_socket(sock, server_hostname="localhost")
        except socket.timeout as e:
            return TlsAttempt(False, b"", e, False)
        except (ssl.SSLError, OSError) as e:
            return TlsAttempt(False, b"", e, True)
        with tls:
            return _after_handshake(tls, request, timeout)


def _after_handshake(tls, request, timeout):
    data = b""
    try:
        tls.sendall(request)
    except socket.timeout as e:
        return TlsAttempt(True, b"", e, False)
    except (ssl.SSLError, OSError):
        pass  # keep reading: an alert or a response may still be there
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return TlsAttempt(True, data, None, False)
        tls.settimeout(remaining)
        try:
            chunk = tls.recv(65536)
        except socket.timeout as e:
            return TlsAttempt(True, data, e, False)
        except (ssl.SSLError, OSError) as e:
            return TlsAttempt(True, data, e, True)
        if not chunk:
            return TlsAttempt(True, data, None, True)
        data += chunk


# --------------------------------------------------------------------------
# HTTP response parsing (for pipelined / raw responses)

def _parse_one(data, pos, head=False, eof=True):
    """Parse one response starting at pos.  Returns (Response, newpos) or
    None if incomplete.  eof: data is all the connection will send (a body
    without Content-Length runs to its end).  Raises ValueError if it is
    not HTTP."""
    end = data.find(b"\r\n\r\n", pos)
    if end < 0:
        if len(data) - pos >= 5 and not data.startswith(b"HTTP/", pos):
            raise ValueError("not an HTTP response: %r" % data[pos:pos + 200])
        return None
    head_lines = data[pos:end].split(b"\r\n")
    m = re.match(rb"HTTP/1\.[01] (\d{3})(?: .*)?$", head_lines[0])
    if not m:
        raise ValueError("bad status line: %r" % head_lines[0])
    status = int(m.group(1))
    items = []
    for line in head_lines[1:]:
        name, sep, value = line.partition(b":")
        if not sep:
            raise ValueError("bad header line: %r" % line)
        items.append((name.decode("latin-1").strip(), value.decode("latin-1").strip()))
    headers = _headers_dict(items)
    body_start = end + 4
    if head or status in (204, 304) or 100 <= status < 200:
        return Response(status, headers, b"", None), body_start
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body, p = b"", body_start
        while True:
            le = data.find(b"\r\n", p)
            if le < 0:
                return None
            size = int(data[p:le].split(b";")[0], 16)
            p = le + 2
            if size == 0:
                te = data.find(b"\r\n\r\n", p - 2)
                if te < 0:
                    return None
                return Response(status, headers, body, _maybe_json(body)), te + 4
            if len(data) < p + size + 2:
                return None
            body += data[p:p + size]
            p += size + 2
    if "content-length" in headers:
        n = int(headers["content-length"])
        if len(data) < body_start + n:
            return None
        body = data[body_start:body_start + n]
        return Response(status, headers, body, _maybe_json(body)), body_start + n
    # No framing: the body runs to the end of the connection.
    if not eof:
        return None
    body = data[body_start:]
    return Response(status, headers, body, _maybe_json(body)), len(data)


def _parse_prefix(data, head=False, limit=None, eof=False):
    out, pos = [], 0
    while pos < len(data) and (limit is None or len(out) < limit):
        r = _parse_one(data, pos, head, eof)
        if r is None:
            break
        out.append(r[0])
        pos = r[1]
    return out, pos


def parse_responses_partial(data, head=False, limit=None, eof=True):
    """Complete responses at the front of data and the unparsed rest."""
    out, pos = _parse_prefix(data, head, limit, eof)
    return out, data[pos:]


def parse_responses(data, head=False):
    """Split pipelined HTTP/1.1 responses (by Content-Length, or chunked).
    Raises ValueError if bytes are left that are not a complete response."""
    out, rest = parse_responses_partial(data, head)
    if rest:
        raise ValueError("incomplete or trailing bytes after %d response(s): %r"
                         % (len(out), rest[:300]))
    return out


# --------------------------------------------------------------------------
# The gateway

_active_gateways = []


class Gateway:
    """One `fhirgw serve` process with its own config, key and log in a
    temporary directory, on free ports, over the given cluster.

    provision=True runs migrate, seed (patients, in each of `countries`:
    default only "fi") and node-add for `nodes` before serving; a second
    gateway over the same database passes provision=False and the first
    one's id_key.

    Federation (docs/relay.md): `dbname` picks (and creates) its own
    database in the cluster, `country` and `local_countries` what it
    holds, `peers` {COUNTRY: config entry} (see peer_entry()) what it
    relays; reserve_ports() fixes its ports before start() so that peers
    can name it first."""

    def __init__(self, cluster, pki=None, *, patients=50, limits=None, crl=None,
                 workers=2, id_key=None, provision=True, nodes=None,
                 config_extra=None, start_timeout=20, countries=("fi",),
                 dbname="fhirgw", country="FI", local_countries=None, peers=None,
                 replica=None):
        self.bin = os.environ.get("FHIRGW_BIN") or os.path.join(SOURCE_DIR, "build", "fhirgw")
        if not (os.path.isfile(self.bin) and os.access(self.bin, os.X_OK)):
            raise HarnessError("fhirgw binary not found or not executable: %s "
                               "(set FHIRGW_BIN)" % self.bin)
        self.cluster = cluster
        self.pki = pki or Pki.get()
        self.patients = patients
        self.countries = tuple(countries)
        self.dbname = dbname
        self.country = country
        self.local_countries = local_countries
        self.peers = peers
        self.replica = replica  # a Standby: database.replica_conninfo
        self.replica_options = {}  # more database.replica_* keys
        self._fixed_ports = False
        self.limits = dict(DEFAULT_LIMITS)
        self.limits.update(limits or {})
        self.crl = crl
        self.workers = workers
        self.id_key = id_key if id_key is not None else os.urandom(32)
        self.provision = provision
        self.nodes = DEFAULT_NODES if nodes is None else nodes
        self.config_extra = config_extra or {}
        self.start_timeout = start_timeout
        self.dir = tempfile.mkdtemp(prefix="fhirgw-gw-", dir="/tmp")
        remove_after_death(self.dir)
        self.config_path = os.path.join(self.dir, "config.json")
        self.log_path = os.path.join(self.dir, "fhirgw.log")
        self.proc = None
        self.port = self.admin_port = None
        self._provisioned = False
        self._closed = False
        _register_cleanup(self.cleanup)
        key_path = os.path.join(self.dir, "id.key")
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(self.id_key)

    # -- configuration

    @property
    def base_url(self):
        return "https://localhost:%d/fhir" % self.port

    def reserve_ports(self):
        """Pick this gateway's ports now and keep them (a peer's config
        names them before this gateway starts); returns base_url."""
        if not self._fixed_ports:
            self.port, self.admin_port = free_port(), free_port()
            while self.admin_port == self.port:
                self.admin_port = free_port()
            self._fixed_ports = True
        return self.base_url

    def peer_entry(self, node="peer", **overrides):
        """The `peers` config entry another gateway uses to relay to this
        one: our URL, the client certificate of `node`, the CA, and the pin
        of our server key; keys in overrides replace or add."""
        self.reserve_ports()
        crt, key = self.pki.node(node)
        entry = {"url": self.base_url, "cert": crt, "key": key, "ca": self.pki.ca,
                 "pin_sha256": self.pki.key_hash(self.pki.server_crt)}
        entry.update(overrides)
        return entry

    def _write_config(self):
        if not self._fixed_ports:
            self.port, self.admin_port = free_port(), free_port()
            while self.admin_port == self.port:
                self.admin_port = free_port()
        cfg = {
            "country": self.country,
            "listen": "127.0.0.1:%d" % self.port,
            "admin_listen": "127.0.0.1:%d" % self.admin_port,
            "workers": self.workers,
            "public_base_url": self.base_url,
            "database": {"conninfo": self.cluster.conninfo_for(self.dbname),
                         "migrate_conninfo": self.cluster.conninfo_for(self.dbname,
                                                                       owner=True),
                         "pool_size": 2},
            "tls": {"cert": self.pki.server_crt, "key": self.pki.server_key,
                    "client_ca": self.pki.ca, "crl": self.crl},
            "id_key_file": "id.key",
            "migrations_dir": os.path.join(SOURCE_DIR, "deploy", "migrations"),
            "limits": self.limits,
        }
        if self.replica is not None:
            cfg["database"]["replica_conninfo"] = self.replica.conninfo_for(self.dbname)
            cfg["database"].update(self.replica_options)
        if self.local_countries is not None:
            cfg["local_countries"] = list(self.local_countries)
        if self.peers:
            cfg["peers"] = self.peers
        cfg.update(self.config_extra)
        with open(self.config_path, "w") as f:
            json.dump(cfg, f, indent=2)

    def cli(self, *args, timeout=120, check=True):
        """Run `fhirgw ARGS...` (config path substituted for '{config}');
        returns CompletedProcess; raises HarnessError on failure if check."""
        cmd = [self.bin] + [a.replace("{config}", self.config_path) for a in args]
        if check:
            return _run(cmd, "fhirgw " + args[0], timeout=timeout, cwd=self.dir)
        return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=timeout, env=_clean_env(), cwd=self.dir)

    def _provision(self):
        if self.dbname != "fhirgw":
            self.cluster.create_database(self.dbname)
        self.cli("migrate", "-c", "{config}")
        if self.patients:
            for country in self.countries:
                self.cli("seed", "-c", "{config}", "--country", country,
                         "--patients", str(self.patients), timeout=300)
        for name, (country, roles) in self.nodes.items():
            self.register_node(name, country, roles)
        self._provisioned = True

    def register_node(self, name, country, roles):
        crt, _ = self.pki.node(name)
        self.cli("node-add", "-c", "{config}", "--cert", crt, "--name", name,
                 "--country", country, "--roles", roles)

    # -- process

    def start(self):
        """Write the config, provision (first time), start `serve` and wait
        until /healthz and /readyz answer 200."""
        if self.proc is not None:
            return
        last = None
        for _ in range(3):
            self._write_config()
            if self.provision and not self._provisioned:
                self._provision()
            mark = self.log_mark()
            try:
                self._launch()
                return
            except HarnessError as e:
                last = e
                log = self.log_since(mark, 200).lower()
                if self._fixed_ports or ("in use" not in log
                                         and "eaddrinuse" not in log):
                    raise
                # A port was taken between picking and binding: try others.
        raise last

    def _launch(self):
        logf = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(
                [self.bin, "serve", "-c", self.config_path], cwd=self.dir,
                stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                env=_clean_env(), preexec_fn=_die_with_parent)
        finally:
            logf.close()
        _active_gateways.append(self)
        deadline = time.monotonic() + self.start_timeout
        for path in ("/healthz", "/readyz"):
            while True:
                if self.proc.poll() is not None:
                    code = self.proc.returncode
                    self._forget()
                    raise HarnessError("fhirgw serve exited with %s while starting\n"
                                       "--- log tail (%s)\n%s"
                                       % (code, self.log_path, _tail(self.log_path)))
                try:
                    status, _, _ = self.admin_get(path, timeout=1)
                    if status == 200:
                        break
                except (OSError, http.client.HTTPException):
                    pass
                if time.monotonic() > deadline:
                    self._kill()
                    raise HarnessError("fhirgw serve: GET %s != 200 within %ss\n"
                                       "--- log tail (%s)\n%s"
                                       % (path, self.start_timeout, self.log_path,
                                          _tail(self.log_path)))
                time.sleep(0.1)

    def _forget(self):
        if self in _active_gateways:
            _active_gateways.remove(self)
        self.proc = None

    def _kill(self):
        if self.proc is not None:
            try:
                self.proc.kill()
                self.proc.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self._forget()

    def stop(self):
        """SIGTERM, SIGKILL after 5 s.  Raises AssertionError if the gateway
        had to be killed, exited non-zero, or logged a sanitizer report."""
        if self.proc is None:
            return None
        proc = self.proc
        killed = False
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                killed = True
                proc.kill()
                proc.wait(5)
        self._forget()
        code = proc.returncode
        problems = []
        if killed:
            problems.append("did not exit within 5 s of SIGTERM (killed)")
        elif code != 0:
            problems.append("exited with status %s after SIGTERM" % code)
        log = _tail(self.log_path, 100000)
        for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:",
                       "ThreadSanitizer"):
            if marker in log:
                problems.append("log contains a sanitizer report (%s)" % marker)
                break
        if problems:
            raise AssertionError("fhirgw serve: %s\n--- log tail (%s)\n%s"
                                 % ("; ".join(problems), self.log_path,
                                    _tail(self.log_path)))
        return code

    def cleanup(self):
        if self._closed:
            return
        self._closed = True
        _unregister_cleanup(self.cleanup)
        try:
            if self.proc is not None:
                try:
                    self.stop()
                except AssertionError as e:
                    sys.stderr.write("%s\n" % e)
        finally:
            self._kill()
            if not KEEP_TMP:
                shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.cleanup()
        return False

    # -- logs

    def log_mark(self):
        try:
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def log_since(self, mark, lines=80):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(mark)
                text = f.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return ""
        return "\n".join(text[-lines:])

    def edit_config(self, change):
        """Rewrite the config file the running gateway was started with:
        change(dict) edits it in place (for a reload)."""
        with open(self.config_path) as f:
            cfg = json.load(f)
        change(cfg)
        tmp = self.config_path + ".new"
        with open(tmp, "w") as f:
            json.dump(cfg, f, indent=2)
        os.replace(tmp, self.config_path)

    def reload(self, timeout=10):
        """SIGHUP; wait until the gateway says it reloaded or refused to.
        Returns what it logged meanwhile."""
        mark = self.log_mark()
        self.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + timeout
        while True:
            text = self.log_since(mark, 200)
            if "SIGHUP: reloaded" in text or "SIGHUP: not reloaded" in text:
                return text
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise HarnessError("fhirgw serve: no reload verdict within %ss "
                                   "of SIGHUP\n--- log\n%s" % (timeout, text))
            time.sleep(0.05)

    def log_tail(self, lines=60):
        return _tail(self.log_path, lines)

    # -- clients

    def admin_get(self, path, timeout=5):
        """Plain HTTP GET on the admin listener: (status, headers, body)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.admin_port, timeout=timeout)
        try:
            conn.request("GET", path)
            r = conn.getresponse()
            return r.status, _headers_dict(r.getheaders()), r.read()
        finally:
            conn.close()

    def request(self, node, method, path, body=None, headers=None, purpose="TREAT",
                timeout=10):
        return request(self.port, node, method, path, body=body, headers=headers,
                       purpose=purpose, timeout=timeout, pki=self.pki)

    def get(self, node, path, headers=None, purpose="TREAT", timeout=10):
        """GET on a fresh mTLS connection: Response(status, headers, body, json)."""
        return get(self.port, node, path, headers=headers, purpose=purpose,
                   timeout=timeout, pki=self.pki)

    def client(self, node, timeout=10):
        return Client(self.port, node, timeout=timeout, pki=self.pki)

    def raw(self, node, data, read_timeout=5):
        return raw(self.port, node, data, read_timeout=read_timeout, pki=self.pki)

    def raw_conn(self, node, timeout=5, rcvbuf=None):
        return RawConn(self.port, node, timeout=timeout, pki=self.pki,
                       rcvbuf=rcvbuf)

    def path_of(self, url):
        """The path and query of an absolute link the gateway wrote, after
        checking it lies under public_base_url."""
        if not url.startswith(self.base_url + "/"):
            raise AssertionError("link %r is not under public_base_url %s"
                                 % (url, self.base_url))
        u = urllib.parse.urlsplit(url)
        return u.path + ("?" + u.query if u.query else "")


# --------------------------------------------------------------------------
# A test module's servers

class ModuleServers:
    """The cluster and gateways of one test module, so that setUpModule and
    tearDownModule need not each spell out who is cleaned up when:

        SERVERS = harness.ModuleServers()
        with SERVERS.starting():
            GW = SERVERS.gateway(Pki.get(), patients=20)
            GW.start()
        ...
        SERVERS.stop()            # in tearDownModule

    If the block raises, every gateway made so far and the cluster are
    cleaned up and the error goes on (unittest then skips tearDownModule)."""

    def __init__(self):
        self.cluster = Cluster()
        self.gateways = []
        self.standbys = []

    def gateway(self, *args, **kwargs):
        """A Gateway on this module's cluster, stopped and cleaned up with it."""
        gw = Gateway(self.cluster, *args, **kwargs)
        self.gateways.append(gw)
        return gw

    def standby(self):
        """A Standby of this module's cluster, stopped after the gateways."""
        sb = Standby(self.cluster)
        self.standbys.append(sb)
        return sb

    @contextlib.contextmanager
    def starting(self):
        try:
            yield self
        except BaseException:
            self.cleanup()
            raise

    def stop(self):
        """Stop the gateways (last made first), then clean everything up."""
        try:
            for gw in reversed(self.gateways):
                gw.stop()
        finally:
            self.cleanup()

    def cleanup(self):
        for gw in reversed(self.gateways):
            gw.cleanup()
        for sb in self.standbys:
            sb.cleanup()
        self.cluster.cleanup()


# --------------------------------------------------------------------------
# Registry data

SE_PERSONNUMMER_SYSTEM = "http://electronichealth.se/identifier/personnummer"
SE_SAMORDNINGSNUMMER_SYSTEM = "http://electronichealth.se/identifier/samordningsnummer"

# Sweden is opt-in for treatment: a permit for every seeded Swedish patient.
SE_PERMIT_TREATMENT_SQL = (
    "insert into gw.consent_rule (patient_system, patient_id, scope, decision, purposes)"
    " select case personid_typ when 'personnummer' then %s else %s end, personid,"
    " 'treatment', 'permit', '{}' from se_register.patient"
    % (sql_literal(SE_PERSONNUMMER_SYSTEM), sql_literal(SE_SAMORDNINGSNUMMER_SYSTEM)))


def patients(cluster, db="fhirgw"):
    """Seeded Finnish patients as (hetu, logical_id), ordered by henkilo.id
    (in database db)."""
    return [(hetu, "fi-" + tok) for hetu, tok in cluster.rows(
        "select hetu, fhir_tunniste from fi_rekisteri.henkilo order by id", db=db)]


def q(s):
    """Percent-encode a query parameter value (':' and '/' kept)."""
    return urllib.parse.quote(s, safe=":/")


# --------------------------------------------------------------------------
# FHIR R4 JSON schema validation

_schema_cache = {}


def _r4_schema():
    path = os.environ.get("FHIRGW_R4_SCHEMA")
    if not path:
        raise AssertionError(
            "FHIRGW_R4_SCHEMA is not set: R4 schema validation is required. Point "
            "it at the FHIR R4 JSON schema (fhir.schema.json; tests/run.sh fetches it)")
    if not os.path.isfile(path):
        raise AssertionError("FHIRGW_R4_SCHEMA=%s: no such file (R4 schema "
                             "validation is required; tests/run.sh fetches it)" % path)
    if path not in _schema_cache:
        try:
            import jsonschema
        except ImportError:
            raise AssertionError("python3-jsonschema is not installed: R4 "
                                 "schema validation is required")
        with open(path, encoding="utf-8") as f:
            schema = json.load(f)
        if "definitions" not in schema or "ResourceList" not in schema["definitions"]:
            raise AssertionError("%s does not look like the FHIR R4 JSON schema" % path)
        # Resource types: definitions whose resourceType is a constant (the
        # schema's ResourceList also lets through types without one, e.g.
        # {"resourceType": "Nope"} passes it, so it is not relied upon).
        resource_types = {
            name for name, d in schema["definitions"].items()
            if isinstance(d, dict)
            and (d.get("properties") or {}).get("resourceType", {}).get("const") == name}
        validators = {}
        _schema_cache[path] = (jsonschema, schema, resource_types, validators)
    return _schema_cache[path]


def _r4_validator(rtype):
    jsonschema, schema, types, validators = _r4_schema()
    v = validators.get(rtype)
    if v is None:
        # The whole schema (for its definitions) rooted at this type: the
        # same verdict as the root oneOf, with messages that say why.
        sub = {k: val for k, val in schema.items() if k not in ("oneOf", "discriminator")}
        sub["$ref"] = "#/definitions/" + rtype
        v = validators[rtype] = jsonschema.Draft6Validator(sub)
    return v


def _nested_resources(obj, path):
    """(path, resource) for each resource inside obj (Bundle entries,
    contained, parameters...), not descending into the ones found."""
    if isinstance(obj, dict):
        items = obj.items()
    elif isinstance(obj, list):
        items = enumerate(obj)
    else:
        return
    for k, v in items:
        if isinstance(v, dict) and "resourceType" in v:
            yield path + [k], v
        elif isinstance(v, (dict, list)):
            yield from _nested_resources(v, path + [k])


def _r4_errors(resource, prefix):
    """[(path, message)] for resource and, each against its own type, every
    resource nested in it."""
    _, _, types, _ = _r4_schema()
    rtype = resource.get("resourceType") if isinstance(resource, dict) else None
    if rtype not in types:
        return [(prefix, "resourceType %r is not an R4 resource type" % (rtype,))]
    out = []
    for e in sorted(_r4_validator(rtype).iter_errors(resource),
                    key=lambda e: [str(p) for p in e.absolute_path]):
        if e.validator == "oneOf" and isinstance(e.instance, dict) \
                and "resourceType" in e.instance:
            continue  # a nested resource: explained below, by its own type
        out.append((prefix + list(e.absolute_path), e.message))
    for path, nested in _nested_resources(resource, []):
        out.extend(_r4_errors(nested, prefix + path))
    return out


def validate_r4(resource):
    """Validate a resource (any type, Bundles included) against the R4 JSON
    schema with Draft6Validator; AssertionError listing the errors if not.
    Fails (never skips) when the schema is not available."""
    _r4_schema()
    if not isinstance(resource, dict):
        raise AssertionError("not a JSON object: %r" % (resource,))
    errors = _r4_errors(resource, [])
    if errors:
        lines = ["  at %s: %s" % ("/".join(map(str, p)) or "(root)", m[:300])
                 for p, m in errors[:10]]
        raise AssertionError("%s %s is not valid FHIR R4 (%d error(s)):\n%s"
                             % (resource.get("resourceType"), resource.get("id", ""),
                                len(errors), "\n".join(lines)))


# --------------------------------------------------------------------------
# Test case base

FHIR_JSON = "application/fhir+json"


class GatewayTestCase(unittest.TestCase):
    """TestCase with FHIR assertions; prints what running gateways logged
    during a test that failed."""

    maxDiff = 4000

    def run(self, result=None):
        if result is None:
            return super().run(result)
        marks = [(gw, gw.log_mark()) for gw in list(_active_gateways)]
        before = len(result.failures) + len(result.errors)
        out = super().run(result)
        if len(result.failures) + len(result.errors) > before:
            for gw, mark in marks:
                sys.stderr.write("\n--- %s: gateway log during %s (%s)\n%s\n---\n"
                                 % (self.id(), gw.base_url, gw.log_path,
                                    gw.log_since(mark) or gw.log_tail(30)))
        return out

    def describe(self, resp):
        body = resp.body[:1500].decode("utf-8", "replace") if resp.body else ""
        return "status %s, content-type %r, body: %s" % (
            resp.status, resp.headers.get("content-type"), body)

    def assertStatus(self, resp, status):
        if isinstance(status, int):
            status = (status,)
        self.assertIn(resp.status, status, "expected %s; got %s"
                      % (" or ".join(map(str, status)), self.describe(resp)))

    def assertFhirJson(self, resp):
        ctype = resp.headers.get("content-type", "")
        self.assertTrue(ctype.split(";")[0].strip().lower() == FHIR_JSON,
                        "Content-Type is not %s: %s" % (FHIR_JSON, self.describe(resp)))
        self.assertIsNotNone(resp.json, "body is not JSON: %s" % self.describe(resp))

    def assertOk(self, resp, resource_type=None):
        """200, FHIR JSON, optionally of the given resourceType; returns json."""
        self.assertStatus(resp, 200)
        self.assertFhirJson(resp)
        if resource_type:
            self.assertEqual(resp.json.get("resourceType"), resource_type,
                             self.describe(resp))
        return resp.json

    def assertOutcome(self, resp, status, code=None, diagnostics=None):
        """The response is `status` with an OperationOutcome body (FHIR JSON)
        with at least one issue; code: required issue code; diagnostics: a
        substring some issue's diagnostics must contain."""
        self.assertStatus(resp, status)
        self.assertFhirJson(resp)
        oo = resp.json
        self.assertEqual(oo.get("resourceType"), "OperationOutcome", self.describe(resp))
        issues = oo.get("issue") or []
        self.assertTrue(issues, "OperationOutcome without issue: %s" % self.describe(resp))
        for i in issues:
            self.assertIn(i.get("severity"), ("fatal", "error", "warning", "information"),
                          self.describe(resp))
        if code is not None:
            self.assertIn(code, [i.get("code") for i in issues],
                          "no issue with code %r: %s" % (code, self.describe(resp)))
        if diagnostics is not None:
            self.assertTrue(any(diagnostics in (i.get("diagnostics") or "") for i in issues),
                            "no issue diagnostics naming %r: %s"
                            % (diagnostics, self.describe(resp)))
        return oo
