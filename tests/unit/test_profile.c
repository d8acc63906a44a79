/*
 * test_profile.c: the profile validator against public examples (valid ones
 * pass, the broken ones their README names fail, each for its reason) and
 * against small resources that break one rule at a time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "gateway/gw.h"
#include "gateway/profile.h"

static struct gw_profiles *profiles;

static struct gw_profiles *
get_profiles(void)
{
	if (profiles == NULL)
		profiles = gw_profiles_load(GW_SOURCE_DIR "/profiles");
	return profiles;
}

static char *
fixture(const char *name, size_t *len)
{
	char path[512];
	FILE *f;
	char *buf = gw_malloc(1 << 20);

	snprintf(path, sizeof(path), "%s/tests/fixtures/%s", GW_SOURCE_DIR,
	    name);
	f = fopen(path, "rb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	*len = fread(buf, 1, (1 << 20) - 1, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

/* Violations of a fixture; *diag collects their diagnostics. */
static int
violations(const char *name, char *diag, size_t diagsz)
{
	size_t len;
	char *text = fixture(name, &len);
	cJSON *issues = cJSON_CreateArray(), *i;
	int bad = gw_profiles_validate_text(get_profiles(), text, len, issues);

	diag[0] = '\0';
	cJSON_ArrayForEach(i, issues) {
		const cJSON *d = cJSON_GetObjectItem(i, "diagnostics");
		size_t used = strlen(diag);

		snprintf(diag + used, diagsz - used, "%s; ", d->valuestring);
	}
	cJSON_Delete(issues);
	free(text);
	return bad;
}

static void
test_profiles_load(void)
{
	CU_ASSERT_PTR_NOT_NULL(get_profiles());
	CU_ASSERT_PTR_NULL(gw_profiles_load("/nonexistent"));
}

static void
test_valid_examples_pass(void)
{
	char diag[4096];

	CU_ASSERT_EQUAL(violations("ips-bundle-minimal.json", diag,
	    sizeof(diag)), 0);
	CU_ASSERT_EQUAL(violations("ips-bundle-no-info.json", diag,
	    sizeof(diag)), 0);
	CU_ASSERT_EQUAL(violations("fi-synthetic-patient.json", diag,
	    sizeof(diag)), 0);
}

static void
test_broken_examples_fail_for_their_reason(void)
{
	char diag[8192];

	CU_ASSERT(violations("eps-bundle-null-entry.json", diag,
	    sizeof(diag)) > 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(diag, "null is not allowed"));
	CU_ASSERT(violations("fi-patientesim1-bad-hetu.json", diag,
	    sizeof(diag)) == 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(diag, "check digits"));
	CU_ASSERT(violations("fi-medicationrequestesim1-bad-types.json", diag,
	    sizeof(diag)) > 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(diag, "wrong JSON type"));
	CU_ASSERT_PTR_NOT_NULL(strstr(diag, "must be an array"));
	CU_ASSERT(violations("fi-example-patient.json", diag,
	    sizeof(diag)) > 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(diag, "birthDate"));
}

static void
test_eps_without_null_passes(void)
{
	size_t len;
	char *text = fixture("eps-bundle-null-entry.json", &len);
	cJSON *doc = cJSON_Parse(text), *issues = cJSON_CreateArray();
	cJSON *entries = cJSON_GetObjectItem(doc, "entry");

	CU_ASSERT_TRUE_FATAL(cJSON_IsNull(cJSON_GetArrayItem(entries, 2)));
	cJSON_DeleteItemFromArray(entries, 2);
	CU_ASSERT_EQUAL(gw_profiles_validate(get_profiles(), doc, issues), 0);
	cJSON_Delete(issues);
	cJSON_Delete(doc);
	free(text);
}

static int
check(const char *json)
{
	cJSON *issues = cJSON_CreateArray();
	int bad = gw_profiles_validate_text(get_profiles(), json, strlen(json),
	    issues);

	cJSON_Delete(issues);
	return bad;
}

static void
test_one_rule_at_a_time(void)
{
	static const char good[] = "{\"resourceType\":\"Condition\",\"id\":"
	    "\"c1\",\"clinicalStatus\":{\"coding\":[{\"system\":\"http://"
	    "terminology.hl7.org/CodeSystem/condition-clinical\",\"code\":"
	    "\"active\"}]},\"code\":{\"coding\":[{\"system\":\"http://hl7.org/"
	    "fhir/sid/icd-10\",\"code\":\"E11\"}]},\"subject\":{\"reference\":"
	    "\"Patient/fi-x\"}}";

	CU_ASSERT_EQUAL(check(good), 0);
	/* no subject */
	CU_ASSERT(check("{\"resourceType\":\"Condition\",\"code\":{\"coding\":"
	    "[{\"system\":\"http://hl7.org/fhir/sid/icd-10\",\"code\":\"E11\"}"
	    "]}}") > 0);
	/* a code system the profile does not bind */
	CU_ASSERT(check("{\"resourceType\":\"Condition\",\"code\":{\"coding\":"
	    "[{\"system\":\"http://example.org\",\"code\":\"E11\"}]},"
	    "\"subject\":{\"reference\":\"Patient/x\"}}") > 0);
	/* a clinical status outside the value set */
	CU_ASSERT(check("{\"resourceType\":\"Condition\",\"clinicalStatus\":{"
	    "\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/"
	    "condition-clinical\",\"code\":\"bogus\"}]},\"code\":{\"coding\":"
	    "[{\"system\":\"http://hl7.org/fhir/sid/icd-10\",\"code\":\"E11\"}"
	    "]},\"subject\":{\"reference\":\"Patient/x\"}}") > 0);
	/* a document without identifier and timestamp */
	CU_ASSERT(check("{\"resourceType\":\"Bundle\",\"type\":\"document\","
	    "\"entry\":[{\"fullUrl\":\"urn:x\",\"resource\":" "{\"resourceType\""
	    ":\"Basic\"}}]}") >= 2);
	/* Elements single in one place, repeating in another. */
	CU_ASSERT_EQUAL(check("{\"resourceType\":\"CapabilityStatement\","
	    "\"rest\":[{\"security\":{\"description\":\"mTLS\"},"
	    "\"resource\":[{\"profile\":\"http://x\"}]}]}"), 0);
	CU_ASSERT(check("{\"resourceType\":\"Basic\",\"code\":{\"coding\":"
	    "{\"code\":\"x\"}}}") == 1);
	CU_ASSERT(check("not json") == 1);
	CU_ASSERT(check("{\"id\":\"x\"}") == 1);
}

static void
test_cleanup(void)
{
	gw_profiles_free(profiles);
	profiles = NULL;
}

CU_TestInfo test_profile_cases[] = {
	{ "profiles load", test_profiles_load },
	{ "valid public examples pass", test_valid_examples_pass },
	{ "broken examples fail for their reason",
	    test_broken_examples_fail_for_their_reason },
	{ "EPS without its null entry passes", test_eps_without_null_passes },
	{ "one rule at a time", test_one_rule_at_a_time },
	{ "cleanup", test_cleanup },
	CU_TEST_INFO_NULL,
};
