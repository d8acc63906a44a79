/*
 * test_pseudo.c: pseudonymisation for research extracts, on resources the
 * Finnish mapping really produces (no database): pseudonyms are stable per
 * permit secret and differ across secrets, identity, contact and free text
 * are gone from the serialised output, dates are coarsened, references and
 * ids are re-keyed.
 */
#include <string.h>

#include <CUnit/CUnit.h>
#include <cjson/cJSON.h>

#include "adapters/adapter.h"
#include "adapters/fi/adapter_fi.h"
#include "gateway/gw.h"
#include "gateway/pseudo.h"
#include "tests/unit/json_path.h"

extern CU_TestInfo test_pseudo_cases[];

#define HETU "010190Y999W"
#define HETU_SYSTEM "urn:oid:1.2.246.21"

static const unsigned char secret_a[32] = "permit-a-secret-0123456789abcde";
static const unsigned char secret_b[32] = "permit-b-secret-0123456789abcde";

static cJSON *
henkilo_doc(void)
{
	cJSON *d = cJSON_CreateObject();

	cJSON_AddNumberToObject(d, "id", 42);
	cJSON_AddStringToObject(d, "hetu", HETU);
	cJSON_AddStringToObject(
	    d, "fhir_tunniste", "abcdefghijklmnopqrstuvwxyz");
	cJSON_AddStringToObject(d, "sukunimi", "Näkkäläjärvi");
	cJSON_AddStringToObject(d, "etunimet", "Máret Anna-Liisa");
	cJSON_AddStringToObject(d, "kutsumanimi", "Máret");
	cJSON_AddStringToObject(d, "sukupuoli", "2");
	cJSON_AddStringToObject(d, "syntymaaika", "1990-01-17");
	cJSON_AddStringToObject(d, "kotikunta", "148");
	cJSON_AddStringToObject(d, "kotikunta_nimi", "Inari");
	cJSON_AddStringToObject(d, "lahiosoite", "Ivalontie 5 A 3");
	cJSON_AddStringToObject(d, "postinumero", "99800");
	cJSON_AddStringToObject(d, "postitoimipaikka", "Ivalo");
	cJSON_AddStringToObject(d, "puhelin", "+358401234567");
	cJSON_AddStringToObject(d, "aidinkieli", "se");
	cJSON_AddStringToObject(d, "kuolinpaiva", "2024-02-29");
	cJSON_AddStringToObject(d, "muutettu", "2024-03-01T10:00:00+00:00");
	return d;
}

static struct gw_patient owner;
static struct gw_map_ctx owner_ctx = {.patient = &owner};
static char pseudonym_a[GW_PSEUDONYM_LEN + 1];

static struct gw_pseudo_ctx
ctx_a(enum gw_pseudo_precision precision)
{
	struct gw_pseudo_ctx c = {
	    .secret = secret_a,
	    .secret_len = sizeof(secret_a),
	    .permit_id = "P-1",
	    .pseudonym = pseudonym_a,
	    .precision = precision,
	};

	return c;
}

static void
setup(void)
{
	cJSON *d = henkilo_doc();

	CU_ASSERT_EQUAL_FATAL(adapter_fi.patient_identity(
	    test_row_of(d), &owner), GW_OK);
	cJSON_Delete(d);
	CU_ASSERT_EQUAL_FATAL(
	    gw_pseudo_patient(secret_a, sizeof(secret_a), HETU_SYSTEM, HETU,
	        pseudonym_a, sizeof(pseudonym_a)),
	    GW_OK);
}

/* Map a native row and pseudonymise it; the caller frees the text. */
static char *
export_text(const char *kind, cJSON *doc, enum gw_pseudo_precision prec)
{
	enum gw_rtype rt;
	const char *cat;
	struct gw_pseudo_ctx c = ctx_a(prec);
	cJSON *r = test_map(&adapter_fi, kind,
	    test_row_of(doc), &owner_ctx, &rt, &cat);
	char *text;

	cJSON_Delete(doc);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL_FATAL(gw_pseudo_resource(r, &c), GW_OK);
	text = cJSON_PrintUnformatted(r);
	cJSON_Delete(r);
	return text;
}

static void
test_pseudonym(void)
{
	char a1[GW_PSEUDONYM_LEN + 1], a2[GW_PSEUDONYM_LEN + 1],
	    b[GW_PSEUDONYM_LEN + 1], other[GW_PSEUDONYM_LEN + 1], small[8];

	setup();
	CU_ASSERT_EQUAL(gw_pseudo_patient(secret_a, sizeof(secret_a),
	                    HETU_SYSTEM, HETU, a1, sizeof(a1)),
	    GW_OK);
	CU_ASSERT_EQUAL(gw_pseudo_patient(secret_a, sizeof(secret_a),
	                    HETU_SYSTEM, HETU, a2, sizeof(a2)),
	    GW_OK);
	CU_ASSERT_EQUAL(gw_pseudo_patient(secret_b, sizeof(secret_b),
	                    HETU_SYSTEM, HETU, b, sizeof(b)),
	    GW_OK);
	CU_ASSERT_EQUAL(gw_pseudo_patient(secret_a, sizeof(secret_a),
	                    "urn:oid:other", HETU, other, sizeof(other)),
	    GW_OK);
	CU_ASSERT_EQUAL(strlen(a1), GW_PSEUDONYM_LEN);
	CU_ASSERT_STRING_EQUAL(a1, a2);
	CU_ASSERT_STRING_NOT_EQUAL(a1, b);
	CU_ASSERT_STRING_NOT_EQUAL(a1, other);
	/* Not the live logical-id token. */
	CU_ASSERT(strstr(owner.logical_id, a1) == NULL);
	for (const char *p = a1; *p; p++)
		CU_ASSERT((*p >= 'a' && *p <= 'z') || (*p >= '2' && *p <= '7'));
	CU_ASSERT_EQUAL(gw_pseudo_patient(secret_a, sizeof(secret_a),
	                    HETU_SYSTEM, HETU, small, sizeof(small)),
	    GW_ERR);
	CU_ASSERT_EQUAL(
	    gw_pseudo_patient(secret_a, 0, HETU_SYSTEM, HETU, a1, sizeof(a1)),
	    GW_ERR);
	CU_ASSERT_EQUAL(gw_pseudo_patient(secret_a, sizeof(secret_a),
	                    HETU_SYSTEM, "", a1, sizeof(a1)),
	    GW_ERR);
}

static void
test_date(void)
{
	char out[8];

	CU_ASSERT_EQUAL(
	    gw_pseudo_date("1990-01-17", GW_PSEUDO_YEAR, out, sizeof(out)),
	    GW_OK);
	CU_ASSERT_STRING_EQUAL(out, "1990");
	CU_ASSERT_EQUAL(gw_pseudo_date("2024-03-01T10:00:00+02:00",
	                    GW_PSEUDO_MONTH, out, sizeof(out)),
	    GW_OK);
	CU_ASSERT_STRING_EQUAL(out, "2024-03");
	CU_ASSERT_EQUAL(
	    gw_pseudo_date("2024", GW_PSEUDO_MONTH, out, sizeof(out)), GW_OK);
	CU_ASSERT_STRING_EQUAL(out, "2024");
	CU_ASSERT_EQUAL(
	    gw_pseudo_date("2024-3-01", GW_PSEUDO_YEAR, out, sizeof(out)),
	    GW_ERR);
	CU_ASSERT_EQUAL(
	    gw_pseudo_date("1990-01-17 junk", GW_PSEUDO_YEAR, out, sizeof(out)),
	    GW_ERR);
	CU_ASSERT_EQUAL(
	    gw_pseudo_date("abcd", GW_PSEUDO_YEAR, out, sizeof(out)), GW_ERR);
	CU_ASSERT_EQUAL(
	    gw_pseudo_date("1990-01-17", GW_PSEUDO_YEAR, out, 4), GW_ERR);
}

static void
test_patient(void)
{
	char *text;
	cJSON *r;
	const cJSON *ident;

	setup();
	text = export_text("henkilo", henkilo_doc(), GW_PSEUDO_YEAR);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	/* Nothing identifying survives anywhere in the text. */
	CU_ASSERT(strstr(text, HETU) == NULL);
	CU_ASSERT(strstr(text, "Näkkäläjärvi") == NULL);
	CU_ASSERT(strstr(text, "Máret") == NULL);
	CU_ASSERT(strstr(text, "Ivalo") == NULL);
	CU_ASSERT(strstr(text, "99800") == NULL);
	CU_ASSERT(strstr(text, "358401234567") == NULL);
	CU_ASSERT(strstr(text, "Inari") == NULL);
	CU_ASSERT(strstr(text, "148") == NULL);
	CU_ASSERT(strstr(text, "abcdefghijklmnopqrstuvwxyz") == NULL);
	CU_ASSERT(strstr(text, "1990-01") == NULL);
	CU_ASSERT(strstr(text, "2024-02") == NULL);
	r = cJSON_Parse(text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_STRING_EQUAL(
	    cJSON_GetObjectItem(r, "id")->valuestring, pseudonym_a);
	CU_ASSERT_STRING_EQUAL(
	    cJSON_GetObjectItem(r, "birthDate")->valuestring, "1990");
	CU_ASSERT_STRING_EQUAL(
	    cJSON_GetObjectItem(r, "deceasedDateTime")->valuestring, "2024");
	CU_ASSERT_STRING_EQUAL(
	    cJSON_GetObjectItem(r, "gender")->valuestring, "female");
	ident = cJSON_GetArrayItem(cJSON_GetObjectItem(r, "identifier"), 0);
	CU_ASSERT_EQUAL(
	    cJSON_GetArraySize(cJSON_GetObjectItem(r, "identifier")), 1);
	CU_ASSERT_STRING_EQUAL(
	    cJSON_GetObjectItem(ident, "system")->valuestring,
	    "urn:fhirgw:pseudonym:P-1");
	CU_ASSERT_STRING_EQUAL(
	    cJSON_GetObjectItem(ident, "value")->valuestring, pseudonym_a);
	CU_ASSERT_PTR_NULL(cJSON_GetObjectItem(r, "meta"));
	CU_ASSERT_PTR_NULL(cJSON_GetObjectItem(r, "extension"));
	cJSON_Delete(r);
	cJSON_free(text);

	/* Month precision keeps the month and nothing finer. */
	text = export_text("henkilo", henkilo_doc(), GW_PSEUDO_MONTH);
	CU_ASSERT(strstr(text, "\"birthDate\":\"1990-01\"") != NULL);
	CU_ASSERT(strstr(text, "1990-01-17") == NULL);
	cJSON_free(text);
}

static void
test_clinical(void)
{
	cJSON *d = cJSON_CreateObject(), *r;
	char *text, *again, ref[64];

	setup();
	cJSON_AddNumberToObject(d, "id", 7);
	cJSON_AddNumberToObject(d, "henkilo_id", 42);
	cJSON_AddStringToObject(d, "icd10", "E11.9");
	cJSON_AddStringToObject(d, "nimi_fi", "Tyypin 2 diabetes");
	cJSON_AddStringToObject(d, "tila", "aktiivinen");
	cJSON_AddStringToObject(d, "pysyvyys", "pysyvä");
	cJSON_AddStringToObject(d, "todettu", "2019-04-02");
	cJSON_AddStringToObject(d, "kirjattu", "2024-03-01T10:00:00+02:00");
	again = cJSON_PrintUnformatted(d);
	text = export_text("diagnoosi", d, GW_PSEUDO_YEAR);
	r = cJSON_Parse(text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	snprintf(ref, sizeof(ref), "Patient/%s", pseudonym_a);
	CU_ASSERT_STRING_EQUAL(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(r, "subject"), "reference")
	        ->valuestring,
	    ref);
	/* The id is re-keyed: not the live "fi-7", 26 base32 characters,
	 * and the same on every export under the permit. */
	CU_ASSERT_STRING_NOT_EQUAL(
	    cJSON_GetObjectItem(r, "id")->valuestring, "fi-7");
	CU_ASSERT_EQUAL(strlen(cJSON_GetObjectItem(r, "id")->valuestring),
	    GW_PSEUDONYM_LEN);
	CU_ASSERT_STRING_EQUAL(
	    cJSON_GetObjectItem(r, "onsetDateTime")->valuestring, "2019");
	CU_ASSERT_STRING_EQUAL(
	    cJSON_GetObjectItem(r, "recordedDate")->valuestring, "2024");
	CU_ASSERT(strstr(text, "E11.9") != NULL);
	CU_ASSERT(strstr(text, "abcdefghijklmnopqrstuvwxyz") == NULL);
	cJSON_Delete(r);
	cJSON_free(text);
	text = export_text("diagnoosi", cJSON_Parse(again), GW_PSEUDO_YEAR);
	r = cJSON_Parse(text);
	{
		cJSON *d2 = cJSON_Parse(again), *r2;
		char *t2 = export_text("diagnoosi", d2, GW_PSEUDO_YEAR);

		r2 = cJSON_Parse(t2);
		CU_ASSERT_STRING_EQUAL(
		    cJSON_GetObjectItem(r, "id")->valuestring,
		    cJSON_GetObjectItem(r2, "id")->valuestring);
		cJSON_Delete(r2);
		cJSON_free(t2);
	}
	cJSON_Delete(r);
	cJSON_free(text);
	cJSON_free(again);
}

static void
test_free_text(void)
{
	struct gw_pseudo_ctx c;
	cJSON *r;
	char *text;

	setup();
	c = ctx_a(GW_PSEUDO_YEAR);
	r = cJSON_Parse(
	    "{\"resourceType\":\"Observation\",\"id\":\"fi-9\","
	    "\"text\":{\"status\":\"generated\",\"div\":\"<div>Máret"
	    "</div>\"},\"note\":[{\"text\":\"called her at home\"}],"
	    "\"code\":{\"coding\":[{\"code\":\"1\"}],\"text\":\"HbA1c\"},"
	    "\"valueString\":\"lives alone\",\"issued\":"
	    "\"2024-03-01T10:00:00Z\",\"effectivePeriod\":{\"start\":"
	    "\"2020-01-15\",\"end\":\"2021-06-30T08:00:00Z\"},"
	    "\"dosage\":[{\"text\":\"one tablet at breakfast\"}],"
	    "\"performer\":[{\"reference\":\"Practitioner/77\","
	    "\"display\":\"Dr Virtanen\"}],\"meta\":{\"lastUpdated\":"
	    "\"2024-03-01T10:00:00Z\"},\"authoredOn\":\"nonsense\"}");
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(gw_pseudo_resource(r, &c), GW_OK);
	text = cJSON_PrintUnformatted(r);
	CU_ASSERT(strstr(text, "Máret") == NULL);
	CU_ASSERT(strstr(text, "home") == NULL);
	CU_ASSERT(strstr(text, "alone") == NULL);
	CU_ASSERT(strstr(text, "breakfast") == NULL);
	CU_ASSERT(strstr(text, "Virtanen") == NULL);
	CU_ASSERT(strstr(text, "Practitioner/77") == NULL);
	CU_ASSERT(strstr(text, "Practitioner/") != NULL);
	CU_ASSERT(strstr(text, "nonsense") == NULL);
	CU_ASSERT(strstr(text, "-01") == NULL && strstr(text, "-06") == NULL);
	CU_ASSERT(strstr(text, "\"text\":\"HbA1c\"") != NULL);
	CU_ASSERT(strstr(text, "\"start\":\"2020\"") != NULL);
	CU_ASSERT(strstr(text, "\"end\":\"2021\"") != NULL);
	/* The dosage was only text: no empty object or array is left. */
	CU_ASSERT(strstr(text, "dosage") == NULL);
	CU_ASSERT(strstr(text, "{}") == NULL && strstr(text, "[]") == NULL);
	cJSON_free(text);
	cJSON_Delete(r);

	/* Not a resource: refused. */
	r = cJSON_Parse("{\"id\":\"x\"}");
	CU_ASSERT_EQUAL(gw_pseudo_resource(r, &c), GW_ERR);
	cJSON_Delete(r);
	r = cJSON_Parse("{\"resourceType\":\"Condition\",\"id\":\"fi-1\","
	                "\"subject\":{\"reference\":\"Patient\"}}");
	CU_ASSERT_EQUAL(gw_pseudo_resource(r, &c), GW_ERR);
	cJSON_Delete(r);
}

/* clang-format off */
CU_TestInfo test_pseudo_cases[] = {
    {"pseudonyms: stable per permit, differ across permits", test_pseudonym},
    {"dates reduced to year or month", test_date},
    {"Patient: identity removed, pseudonym identifier", test_patient},
    {"Condition: re-keyed id and subject, coarse dates", test_clinical},
    {"free text, displays, instants and bad dates removed", test_free_text},
    CU_TEST_INFO_NULL,
};
/* clang-format on */
