"""Terminology maps and sensitive categories as data (profiles/): one gateway
serving Finland, Norway and Sweden. For every country the $summary of the
fixed patient 0 carries the national coding beside its translation (SNOMED CT
for diagnoses, LOINC for laboratory results) with the English display on the
translated coding, and still passes the R4 schema and the profile validator
(`fhirgw validate`; test builds also check every emitted resource). A
diagnosis with a code no map knows goes out as it is and increments
fhirgw_terminology_unmapped_total on /metrics. A missing or malformed
categories.json keeps the gateway from starting."""

import json
import os
import re
import shutil
import tempfile
import unittest

import harness
from harness import GatewayTestCase, Pki, validate_r4

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
N = 10

COUNTRIES = {
    # country: (schema, patient table, token column, national diagnosis
    # system of the type 2 diabetes of patient 0, its code)
    "fi": ("fi_rekisteri", "henkilo", "fhir_tunniste", ICD10, "E11.9"),
    "no": ("no_register", "pasient", "fhir_id", "http://hl7.org/fhir/sid/icpc-2", "T90"),
    "se": ("se_register", "patient", "fhir_id", "urn:oid:1.2.752.116.1.1.1.1.3", "E11.9"),
}
LAB_SYSTEMS = {
    "fi": "urn:oid:1.2.246.537.6.3.2006",
    "no": "urn:oid:2.16.578.1.12.4.1.1.7280",
    "se": "urn:oid:1.2.208.176.2.1",
}

SERVERS = CLUSTER = GW = None


def setUpModule():
    global SERVERS, CLUSTER, GW
    SERVERS = harness.ModuleServers()
    CLUSTER = SERVERS.cluster
    with SERVERS.starting():
        GW = SERVERS.gateway(Pki.get(), patients=N,
                             countries=("fi", "no", "se"))
        GW.start()
        CLUSTER.psql(harness.SE_PERMIT_TREATMENT_SQL)


def tearDownModule():
    SERVERS.stop()


def logical_id(cc, index):
    schema, table, token, _, _ = COUNTRIES[cc]
    return CLUSTER.rows("select '%s-' || %s from %s.%s where id = %d"
                        % (cc, token, schema, table, index + 1))[0][0]


def codings(resource, element):
    return (resource.get(element) or {}).get("coding") or []


def unmapped(system):
    status, _, body = GW.admin_get("/metrics")
    if status != 200:
        raise AssertionError("/metrics: %d" % status)
    m = re.search(r'^fhirgw_terminology_unmapped_total\{system="%s"\} (\d+)$'
                  % re.escape(system), body.decode(), re.M)
    if m is None:
        raise AssertionError("no unmapped counter for %s in /metrics" % system)
    return int(m.group(1))


class SummaryTranslations(GatewayTestCase):
    def check_country(self, cc):
        _, _, _, dx_system, dx_code = COUNTRIES[cc]
        resp = GW.get(cc, "/fhir/Patient/%s/$summary" % logical_id(cc, 0))
        b = self.assertOk(resp, "Bundle")
        validate_r4(b)
        resources = [e["resource"] for e in b.get("entry") or []]
        for r in resources:
            validate_r4(r)

        # The diabetes of patient 0: national coding (national display)
        # and SNOMED CT (English display) in one CodeableConcept.
        diabetes = [r for r in resources if r["resourceType"] == "Condition" and
                    any(c.get("system") == dx_system and c.get("code") == dx_code
                        for c in codings(r, "code"))]
        self.assertEqual(len(diabetes), 1, [codings(r, "code") for r in resources
                                            if r["resourceType"] == "Condition"])
        cs = codings(diabetes[0], "code")
        original = [c for c in cs if c.get("system") == dx_system][0]
        self.assertTrue(original.get("display"))
        self.assertIn({"system": SNOMED, "code": "44054006",
                       "display": "Type 2 diabetes mellitus"}, cs)
        # Every translated diagnosis keeps its original first.
        for r in resources:
            if r["resourceType"] != "Condition":
                continue
            cs = codings(r, "code")
            self.assertNotEqual(cs[0].get("system"), SNOMED)
            for c in cs:
                if c.get("system") == SNOMED:
                    self.assertTrue(c.get("display"), cs)

        # Every laboratory code of the seeders is mapped: each result has
        # its national coding and a LOINC coding with the English name.
        labs = [r for r in resources if r["resourceType"] == "Observation"]
        self.assertTrue(labs, "patient 0 has no laboratory results")
        for r in labs:
            cs = codings(r, "code")
            self.assertTrue(any(c.get("system") == LAB_SYSTEMS[cc] for c in cs), cs)
            loinc = [c for c in cs if c.get("system") == LOINC]
            self.assertEqual(len(loinc), 1, cs)
            self.assertTrue(loinc[0].get("display"), cs)

        # The profile validator accepts the document as emitted.
        path = os.path.join(GW.dir, "summary-%s.json" % cc)
        with open(path, "w") as f:
            json.dump(b, f)
        out = GW.cli("validate", path, check=False)
        self.assertEqual(out.returncode, 0, out.stdout.decode()[-2000:])

    def test_fi(self):
        self.check_country("fi")

    def test_no(self):
        self.check_country("no")

    def test_se(self):
        self.check_country("se")


class UnmappedCounted(GatewayTestCase):
    def test_unknown_diagnosis_code_counted(self):
        # A registry row with a code no map knows (Q99.9: a chromosome
        # abnormality, neither sensitive nor mapped).
        row = CLUSTER.rows(
            "insert into fi_rekisteri.diagnoosi (henkilo_id, icd10, nimi_fi, "
            "tila, pysyvyys, todettu, kirjattu) values (6, 'Q99.9', "
            "'Kromosomipoikkeavuus, määrittämätön', 'aktiivinen', 'pysyvä', "
            "'2020-01-02', now()) returning id")
        before = unmapped(ICD10)
        r = self.assertOk(GW.get("fi", "/fhir/Condition/fi-%s" % row[0][0]), "Condition")
        validate_r4(r)
        self.assertEqual(codings(r, "code"),
                         [{"system": ICD10, "code": "Q99.9",
                           "display": "Kromosomipoikkeavuus, määrittämätön"}])
        self.assertEqual(unmapped(ICD10), before + 1)
        # A mapped code does not count.
        mapped = CLUSTER.rows(
            "select id from fi_rekisteri.diagnoosi where icd10 = 'E11.9' limit 1")
        self.assertTrue(mapped)
        self.assertOk(GW.get("fi", "/fhir/Condition/fi-%s" % mapped[0][0]), "Condition")
        self.assertEqual(unmapped(ICD10), before + 1)


class CategoriesRequired(GatewayTestCase):
    """Consent depends on categories.json: without it, no start."""

    def serve_with(self, categories, serve=True):
        tmp = tempfile.mkdtemp(prefix="fhirgw-profiles-", dir="/tmp")
        try:
            shutil.copytree(os.path.join(harness.SOURCE_DIR, "profiles", "terminology"),
                            os.path.join(tmp, "terminology"))
            if categories is not None:
                with open(os.path.join(tmp, "categories.json"), "w") as f:
                    f.write(categories)
            gw = harness.Gateway(CLUSTER, Pki.get(), provision=False,
                                 config_extra={"profiles_dir": tmp})
            try:
                gw._write_config()
                check = gw.cli("serve", "-c", "{config}", "-n", check=False)
                if serve:
                    serve = gw.cli("serve", "-c", "{config}", check=False, timeout=30)
            finally:
                gw.cleanup()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return check, serve

    def assertRefused(self, proc, why):
        self.assertEqual(proc.returncode, 1)
        err = proc.stderr.decode()
        self.assertIn("categories.json", err)
        self.assertIn(why, err)

    def test_missing_file(self):
        for proc in self.serve_with(None):
            self.assertRefused(proc, "cannot open")

    def test_malformed_file(self):
        for proc in self.serve_with('{"classifications": [{"name": "ICD-10"'):
            self.assertRefused(proc, "not a JSON object")

    def test_unknown_category(self):
        text = ('{"classifications": [{"name": "ICD-10", "systems": ["%s"], '
                '"ranges": [{"first": "F00", "last": "F99", "category": "mental"}]}]}'
                % ICD10)
        for proc in self.serve_with(text):
            self.assertRefused(proc, '"category" must be one of')

    def test_valid_file_starts(self):
        with open(os.path.join(harness.SOURCE_DIR, "profiles", "categories.json")) as f:
            check, _ = self.serve_with(f.read(), serve=False)
        self.assertEqual(check.returncode, 0, check.stderr.decode()[-2000:])


if __name__ == "__main__":
    unittest.main()
