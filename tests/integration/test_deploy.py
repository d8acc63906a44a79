"""deploy/systemd/fhirgw.service: systemd accepts it, its sandbox is tight,
and the commands it runs work against a real config.

systemd is not running here (nor in CI), so the unit is checked offline:
`systemd-analyze verify` (directives, the binary it starts) and
`systemd-analyze security --offline=yes` (its exposure score).  The system
calls its filter allows were checked against an strace of the gateway
under the integration tests (docs/operations.md)."""

import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import unittest

import harness
from harness import Pki

UNIT = os.path.join(harness.SOURCE_DIR, "deploy", "systemd", "fhirgw.service")
INSTALLED_BIN = "/usr/local/bin/fhirgw"
INSTALLED_CONFIG = "/etc/fhirgw/config.json"


def directives(text):
    """{key: [values]} of the unit's lines."""
    out = {}
    for line in text.splitlines():
        m = re.match(r"^([A-Za-z]+)=(.*)$", line.strip())
        if m:
            out.setdefault(m.group(1), []).append(m.group(2))
    return out


class TestSystemdUnit(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.analyze = shutil.which("systemd-analyze")
        cls.bin = os.environ.get("FHIRGW_BIN") or os.path.join(harness.SOURCE_DIR,
                                                               "build", "fhirgw")
        cls.tmp = tempfile.mkdtemp(prefix="fhirgw-deploy-", dir="/tmp")
        harness.remove_after_death(cls.tmp)
        with open(UNIT) as f:
            cls.text = f.read()
        # The unit as installed, with this build in the binary's place.
        cls.unit = os.path.join(cls.tmp, "fhirgw.service")
        with open(cls.unit, "w") as f:
            f.write(cls.text.replace(INSTALLED_BIN, cls.bin))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def need_systemd(self):
        if self.analyze is None:
            self.skipTest("systemd-analyze is not installed (Debian: systemd)")

    def test_systemd_accepts_it(self):
        self.need_systemd()
        p = subprocess.run([self.analyze, "verify", "--man=no", self.unit],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        out = p.stdout.decode()
        self.assertEqual(p.returncode, 0, out)
        self.assertNotIn("fhirgw.service:", out)  # no warning about a line

    def test_sandbox_exposure_is_low(self):
        self.need_systemd()
        p = subprocess.run([self.analyze, "security", "--offline=yes", "--no-pager",
                            self.unit], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60)
        out = p.stdout.decode()
        m = re.search(r"Overall exposure level for fhirgw\.service: ([0-9.]+)", out)
        self.assertIsNotNone(m, out[-2000:])
        self.assertLessEqual(float(m.group(1)), 2.0, out[-3000:])

    def test_commands_work_on_a_real_config(self):
        d = directives(self.text)
        self.assertEqual(d["ExecReload"], ["/bin/kill -HUP $MAINPID"])  # the reload
        self.assertEqual(d["ExecStart"], [INSTALLED_BIN + " serve -c " + INSTALLED_CONFIG])
        # ExecStartPre, run as written against a config of the dev PKI.
        pki = Pki.get()
        key = os.path.join(self.tmp, "id.key")
        with open(key, "wb") as f:
            f.write(os.urandom(32))
        config = os.path.join(self.tmp, "config.json")
        with open(config, "w") as f:
            json.dump({"country": "FI", "listen": "127.0.0.1:8443",
                       "database": {"conninfo": "host=/nonexistent dbname=fhirgw"},
                       "tls": {"cert": pki.server_crt, "key": pki.server_key,
                               "client_ca": pki.ca},
                       "id_key_file": key}, f)
        pre, = d["ExecStartPre"]
        argv = [a.replace(INSTALLED_BIN, self.bin).replace(INSTALLED_CONFIG, config)
                for a in shlex.split(pre)]
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout.decode())
        self.assertIn(b"configuration ok", p.stdout)
        # And a broken one stops the start.
        os.remove(key)
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=60)
        self.assertNotEqual(p.returncode, 0)


if __name__ == "__main__":
    unittest.main()
