"""The independent R4 validator itself: it must reject broken resources,
so that a passing validation in the other tests means something.  Needs no
gateway and no database."""

import os
import subprocess
import sys
import unittest

import harness
from harness import validate_r4


class TestValidator(unittest.TestCase):
    def setUp(self):
        # Without the schema every "rejected" test below would pass for the
        # wrong reason: fail here instead.
        harness._r4_schema()

    def assertRejected(self, resource):
        with self.assertRaises(AssertionError) as cm:
            validate_r4(resource)
        msg = str(cm.exception)
        self.assertTrue("not valid FHIR R4" in msg or "not an R4 resource type" in msg,
                        "rejected for another reason: %s" % msg)

    def test_valid_patient_accepted(self):
        validate_r4({
            "resourceType": "Patient",
            "id": "fi-abc",
            "identifier": [{"system": harness.FI_HETU_SYSTEM, "value": "010190Y999W"}],
            "name": [{"family": "Mäkinen", "given": ["Matti"]}],
            "gender": "male",
            "birthDate": "1990-01-01",
        })

    def test_gender_number_rejected(self):
        self.assertRejected({"resourceType": "Patient", "id": "x", "gender": 5})

    def test_unknown_gender_code_rejected(self):
        self.assertRejected({"resourceType": "Patient", "id": "x", "gender": "mies"})

    def test_unknown_element_rejected(self):
        self.assertRejected({"resourceType": "Patient", "id": "x", "hetu": "010190Y999W"})

    def test_bad_date_rejected(self):
        self.assertRejected({"resourceType": "Patient", "id": "x", "birthDate": "1.1.1990"})

    def test_unknown_resource_type_rejected(self):
        self.assertRejected({"resourceType": "Henkilo", "id": "x"})

    def test_missing_resource_type_rejected(self):
        self.assertRejected({"id": "x", "gender": "male"})

    def test_composition_missing_required_rejected(self):
        # Composition.type and .author are required (1..1 / 1..*).
        self.assertRejected({"resourceType": "Composition", "status": "final",
                             "date": "2024-01-01", "title": "x"})

    def test_invalid_resource_inside_bundle_rejected(self):
        self.assertRejected({"resourceType": "Bundle", "type": "searchset", "total": 1,
                             "entry": [{"fullUrl": "https://localhost/fhir/Patient/x",
                                        "resource": {"resourceType": "Patient", "id": "x",
                                                     "gender": 5}}]})

    def test_unknown_resource_type_inside_bundle_rejected(self):
        # The schema's own ResourceList lets {"resourceType": "Nope"} through.
        self.assertRejected({"resourceType": "Bundle", "type": "searchset",
                             "entry": [{"resource": {"resourceType": "Nope", "id": "x"}}]})

    def test_invalid_contained_resource_rejected(self):
        self.assertRejected({"resourceType": "Condition", "id": "c",
                             "subject": {"reference": "#p"},
                             "contained": [{"resourceType": "Patient", "id": "p",
                                            "gender": "mies"}]})

    def test_valid_bundle_accepted(self):
        validate_r4({"resourceType": "Bundle", "type": "searchset", "total": 1,
                     "entry": [{"fullUrl": "https://localhost/fhir/Patient/x",
                                "resource": {"resourceType": "Patient", "id": "x",
                                             "gender": "female"}}]})


class TestValidatorNeedsSchema(unittest.TestCase):
    def test_missing_schema_fails_not_skips(self):
        # Without FHIRGW_R4_SCHEMA validate_r4 must fail loudly.
        env = {k: v for k, v in os.environ.items() if k != "FHIRGW_R4_SCHEMA"}
        env["PYTHONPATH"] = os.path.dirname(os.path.abspath(harness.__file__))
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        code = ("import harness\n"
                "try:\n"
                "    harness.validate_r4({'resourceType': 'Patient', 'id': 'x'})\n"
                "except AssertionError as e:\n"
                "    print('FAILED:', e); raise SystemExit(3)\n"
                "raise SystemExit(0)\n")
        p = subprocess.run([sys.executable, "-c", code], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(p.returncode, 3, p.stdout + p.stderr)
        self.assertIn(b"FHIRGW_R4_SCHEMA", p.stdout)


if __name__ == "__main__":
    unittest.main()
