/*
 * test_hetu.c: the Finnish adapter without a database.  HETU validation
 * against vectors computed from the rule (not copied from public examples,
 * several of which are wrong), the generator, the sensitive-category
 * ranges, the mapping of every native kind to FHIR, patient identity and
 * logical-id tokens.
 */
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <cjson/cJSON.h>

#include "adapters/adapter.h"
#include "adapters/common/category.h"
#include "adapters/fi/adapter_fi.h"
#include "adapters/fi/hetu.h"
#include "gateway/fhir.h"
#include "gateway/gw.h"
#include "tests/unit/json_path.h"

extern CU_TestInfo test_hetu_cases[];

#define TOKEN "abcdefghijklmnopqrstuvwxyz"
#define LOGICAL "fi-" TOKEN

/* ---- HETU ---- */

static void
test_valid_every_sign(void)
{
	/* Check characters computed as "0123456789ABCDEFHJKLMNPRSTUVWXY"
	 * [DDMMYYZZZ mod 31]. */
	static const char *const valid[] = {
	    "311299+902A", /* 1800s */
	    "150385-1230",
	    "120456-002F",
	    "010100-002H", /* 1900s */
	    "010190Y999W",
	    "010101X950B",
	    "010170W900J",
	    "121212V931J",
	    "050505U9772",
	    "250810A999C",
	    "010100A002H",
	    "290224A9483", /* 2000s */
	    "290224B901K",
	    "310123C9114",
	    "280219D963M",
	    "010125E9994",
	    "300624F902F",
	    "010100+002H",
	    "290200A906J",
	};

	for (size_t i = 0; i < GW_ARRAY_LEN(valid); i++)
		CU_ASSERT_TRUE(adapter_fi_hetu_valid(valid[i]));
}

static void
test_every_wrong_check_char(void)
{
	static const char alphabet[] = "0123456789ABCDEFHJKLMNPRSTUVWXY";
	char id[] = "010190Y999W";
	int valid = 0;

	for (const char *c = alphabet; *c != '\0'; c++) {
		id[10] = *c;
		if (adapter_fi_hetu_valid(id)) {
			valid++;
			CU_ASSERT_EQUAL(*c, 'W');
		}
	}
	CU_ASSERT_EQUAL(valid, 1);
	/* Letters left out of the alphabet are never check characters. */
	for (const char *c = "GIOQZ"; *c != '\0'; c++) {
		id[10] = *c;
		CU_ASSERT_FALSE(adapter_fi_hetu_valid(id));
	}
}

static void
test_impossible_dates(void)
{
	/* Right check characters, impossible dates. */
	CU_ASSERT_FALSE(adapter_fi_hetu_valid("310299-905B")); /* 31 Feb */
	CU_ASSERT_FALSE(adapter_fi_hetu_valid("310499-905Y")); /* 31 Apr */
	CU_ASSERT_FALSE(adapter_fi_hetu_valid("000199-905J")); /* day 0 */
	CU_ASSERT_FALSE(adapter_fi_hetu_valid("011399-905V")); /* month 13 */
	/* 29 Feb by full year from the sign. */
	CU_ASSERT_FALSE(adapter_fi_hetu_valid("290223A905E")); /* 2023 */
	CU_ASSERT_TRUE(adapter_fi_hetu_valid("290224A9483"));  /* 2024 */
	CU_ASSERT_TRUE(adapter_fi_hetu_valid("290200A906J"));  /* 2000 */
	CU_ASSERT_FALSE(adapter_fi_hetu_valid("290200-906J")); /* 1900 */
	CU_ASSERT_FALSE(adapter_fi_hetu_valid("290200+906J")); /* 1800 */
}

static void
test_individual_number(void)
{
	CU_ASSERT_FALSE(adapter_fi_hetu_valid("150385-0001")); /* 000 */
	CU_ASSERT_FALSE(adapter_fi_hetu_valid("150385-0012")); /* 001 */
	CU_ASSERT_TRUE(adapter_fi_hetu_valid("120456-002F"));  /* 002 */
	CU_ASSERT_TRUE(adapter_fi_hetu_valid("010190Y999W"));  /* 999 */
}

static void
test_shape(void)
{
	CU_ASSERT_FALSE(adapter_fi_hetu_valid(NULL));
	CU_ASSERT_FALSE(adapter_fi_hetu_valid(""));
	CU_ASSERT_FALSE(adapter_fi_hetu_valid("010190Y999"));
	CU_ASSERT_FALSE(adapter_fi_hetu_valid("010190Y999WW"));
	CU_ASSERT_FALSE(adapter_fi_hetu_valid("010190Y999W\n"));
	CU_ASSERT_FALSE(adapter_fi_hetu_valid(" 010190Y999W"));
	CU_ASSERT_FALSE(adapter_fi_hetu_valid("010190 999W"));
	CU_ASSERT_FALSE(adapter_fi_hetu_valid("010190G999W")); /* sign */
	CU_ASSERT_FALSE(adapter_fi_hetu_valid("0101a0Y999W"));
	CU_ASSERT_FALSE(adapter_fi_hetu_valid("010190Y9x9W"));
	/* Lowercase sign or check character. */
	CU_ASSERT_FALSE(adapter_fi_hetu_valid("010190y999W"));
	CU_ASSERT_FALSE(adapter_fi_hetu_valid("250810A999c"));
	CU_ASSERT_FALSE(adapter_fi_hetu_valid("121212V931j"));
}

static void
test_fixture_codes(void)
{
	/* FI Base example patientesim1 carries a wrong check character. */
	CU_ASSERT_FALSE(adapter_fi_hetu_valid("250810A999Y"));
	CU_ASSERT_TRUE(adapter_fi_hetu_valid("250810A999C"));
	/* The project's synthetic patient, 2023 sign Y. */
	CU_ASSERT_TRUE(adapter_fi_hetu_valid("010190Y999W"));
}

static void
test_birthdate_and_sex(void)
{
	int y = 0, m = 0, d = 0;

	CU_ASSERT_EQUAL(
	    adapter_fi_hetu_birthdate("010190Y999W", &y, &m, &d), GW_OK);
	CU_ASSERT(y == 1990 && m == 1 && d == 1);
	CU_ASSERT_EQUAL(
	    adapter_fi_hetu_birthdate("311299+902A", &y, &m, &d), GW_OK);
	CU_ASSERT(y == 1899 && m == 12 && d == 31);
	CU_ASSERT_EQUAL(
	    adapter_fi_hetu_birthdate("300624F902F", &y, &m, &d), GW_OK);
	CU_ASSERT(y == 2024 && m == 6 && d == 30);
	y = 7;
	CU_ASSERT_EQUAL(
	    adapter_fi_hetu_birthdate("250810A999Y", &y, &m, &d), GW_ERR);
	CU_ASSERT_EQUAL(y, 7);
	CU_ASSERT_EQUAL(adapter_fi_hetu_sex("010190Y999W"), 1); /* 999 odd */
	CU_ASSERT_EQUAL(adapter_fi_hetu_sex("120456-002F"), 2); /* 002 even */
	CU_ASSERT_EQUAL(adapter_fi_hetu_sex("250810A999Y"), GW_ERR);
}

static void
test_generator_round_trip(void)
{
	static const char *const signs[] = {"+", "-YXWVU", "ABCDEF"};
	char out[12];
	int checked = 0;

	for (int year = 1800; year <= 2099; year += 7) {
		const char *s = signs[(year - 1800) / 100];

		for (int v = 0; s[v] != '\0'; v++) {
			for (int ind = 2; ind <= 999; ind += 97) {
				int month = 1 + (year + ind) % 12;
				int day = 1 + (year * 3 + ind) % 28;
				int y, m, d;

				CU_ASSERT_EQUAL_FATAL(
				    adapter_fi_hetu_make(
				        year, month, day, ind, v, out),
				    GW_OK);
				CU_ASSERT_TRUE(adapter_fi_hetu_valid(out));
				CU_ASSERT_EQUAL(out[6], s[v]);
				CU_ASSERT_EQUAL(
				    adapter_fi_hetu_birthdate(out, &y, &m, &d),
				    GW_OK);
				CU_ASSERT(y == year && m == month && d == day);
				CU_ASSERT_EQUAL(
				    adapter_fi_hetu_sex(out), ind % 2 ? 1 : 2);
				checked++;
			}
		}
	}
	CU_ASSERT(checked > 500);
	CU_ASSERT_EQUAL(adapter_fi_hetu_make(1990, 1, 1, 999, 1, out), GW_OK);
	CU_ASSERT_STRING_EQUAL(out, "010190Y999W");
	CU_ASSERT_EQUAL(adapter_fi_hetu_make(2024, 2, 29, 948, 0, out), GW_OK);
	CU_ASSERT_STRING_EQUAL(out, "290224A9483");
	/* Refused: out of range years, dates, numbers, variants. */
	CU_ASSERT_EQUAL(adapter_fi_hetu_make(1799, 1, 1, 900, 0, out), GW_ERR);
	CU_ASSERT_STRING_EQUAL(out, "");
	CU_ASSERT_EQUAL(adapter_fi_hetu_make(2100, 1, 1, 900, 0, out), GW_ERR);
	CU_ASSERT_EQUAL(adapter_fi_hetu_make(2023, 2, 29, 900, 0, out), GW_ERR);
	CU_ASSERT_EQUAL(adapter_fi_hetu_make(1990, 4, 31, 900, 0, out), GW_ERR);
	CU_ASSERT_EQUAL(adapter_fi_hetu_make(1990, 1, 1, 1, 0, out), GW_ERR);
	CU_ASSERT_EQUAL(adapter_fi_hetu_make(1990, 1, 1, 1000, 0, out), GW_ERR);
	CU_ASSERT_EQUAL(adapter_fi_hetu_make(1990, 1, 1, 900, 6, out), GW_ERR);
	CU_ASSERT_EQUAL(adapter_fi_hetu_make(1850, 1, 1, 900, 1, out), GW_ERR);
	CU_ASSERT_EQUAL(adapter_fi_hetu_make(1990, 1, 1, 900, -1, out), GW_ERR);
}

/* ---- sensitive categories ---- */

static void
test_category_icd10(void)
{
	static const struct {
		const char *code, *category;
	} cases[] = {
	    {"F00", "mental-health"},
	    {"F05.1", "mental-health"},
	    {"F09", "mental-health"},
	    {"F10", "substance-abuse"},
	    {"F10.2", "substance-abuse"},
	    {"F19.9", "substance-abuse"},
	    {"F20", "mental-health"},
	    {"F32.9", "mental-health"},
	    {"F329", "mental-health"},
	    {"F99", "mental-health"},
	    {"f32.9", "mental-health"},
	    {"A50", "sexual-health"},
	    {"A56.0", "sexual-health"},
	    {"A64", "sexual-health"},
	    {"B20", "sexual-health"},
	    {"B24", "sexual-health"},
	    {"A49.9", NULL},
	    {"A65", NULL},
	    {"B19", NULL},
	    {"B25", NULL},
	    {"E11.9", NULL},
	    {"I10", NULL},
	    {"G30", NULL},
	    {"", NULL},
	    {"F", NULL},
	    {"F3", NULL},
	    /* Dual codes: every part counts. */
	    {"E11.4+G63.2*", NULL},
	    {"G62.1*F10.2+", "substance-abuse"},
	    {"XF32", NULL},
	};

	for (size_t i = 0; i < GW_ARRAY_LEN(cases); i++) {
		const char *got = gw_category_of_icd10(cases[i].code);

		if (cases[i].category == NULL) {
			CU_ASSERT_PTR_NULL(got);
		} else {
			CU_ASSERT(
			    got != NULL && strcmp(got, cases[i].category) == 0);
		}
	}
	CU_ASSERT_PTR_NULL(gw_category_of_icd10(NULL));
}

/* ---- mapping ---- */

static cJSON *
henkilo_doc(void)
{
	cJSON *d = cJSON_CreateObject();

	cJSON_AddNumberToObject(d, "id", 42);
	cJSON_AddStringToObject(d, "hetu", "010190Y999W");
	cJSON_AddStringToObject(d, "fhir_tunniste", TOKEN);
	cJSON_AddStringToObject(d, "sukunimi", "Näkkäläjärvi");
	cJSON_AddStringToObject(d, "etunimet", "Máret Anna-Liisa");
	cJSON_AddStringToObject(d, "kutsumanimi", "Máret");
	cJSON_AddStringToObject(d, "sukupuoli", "2");
	cJSON_AddStringToObject(d, "syntymaaika", "1990-01-01");
	cJSON_AddStringToObject(d, "kotikunta", "148");
	cJSON_AddStringToObject(d, "kotikunta_nimi", "Inari");
	cJSON_AddStringToObject(d, "lahiosoite", "Ivalontie 5 A 3");
	cJSON_AddStringToObject(d, "postinumero", "99800");
	cJSON_AddStringToObject(d, "postitoimipaikka", "Ivalo");
	cJSON_AddStringToObject(d, "puhelin", "+358401234567");
	cJSON_AddStringToObject(d, "aidinkieli", "se");
	cJSON_AddNullToObject(d, "kuolinpaiva");
	cJSON_AddStringToObject(d, "muutettu", "2024-03-01T10:00:00+00:00");
	return d;
}

static const cJSON *
item_at(const cJSON *root, const char *a, const char *b)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(root, a);

	return b == NULL ? x : cJSON_GetObjectItemCaseSensitive(x, b);
}

/* The patient every clinical mapping below belongs to. */
static struct gw_patient owner;
static struct gw_map_ctx owner_ctx = {.patient = &owner};

static void
fill_owner(void)
{
	cJSON *d = henkilo_doc();

	CU_ASSERT_EQUAL_FATAL(adapter_fi.patient_identity(
	    test_row_of(d), &owner), GW_OK);
	cJSON_Delete(d);
}

static void
test_patient_identity(void)
{
	struct gw_patient p;
	cJSON *d = henkilo_doc();

	CU_ASSERT_EQUAL(adapter_fi.patient_identity(test_row_of(d), &p), GW_OK);
	CU_ASSERT_PTR_EQUAL(p.adapter, &adapter_fi);
	CU_ASSERT_STRING_EQUAL(p.logical_id, LOGICAL);
	CU_ASSERT_STRING_EQUAL(p.system, "urn:oid:1.2.246.21");
	CU_ASSERT_STRING_EQUAL(p.national_id, "010190Y999W");
	CU_ASSERT_STRING_EQUAL(p.registry_key, "42");
	cJSON_DeleteItemFromObject(d, "id");
	CU_ASSERT_EQUAL(adapter_fi.patient_identity(
	    test_row_of(d), &p), GW_ERR);
	CU_ASSERT_STRING_EQUAL(p.logical_id, "");
	cJSON_AddStringToObject(d, "id", "42x"); /* not a registry key */
	CU_ASSERT_EQUAL(adapter_fi.patient_identity(
	    test_row_of(d), &p), GW_ERR);
	cJSON_Delete(d);
}

static void
test_map_patient(void)
{
	enum gw_rtype rt = GW_RT_COUNT;
	const char *cat = "x";
	cJSON *d = henkilo_doc(), *r;
	const cJSON *given;

	r = test_map(&adapter_fi, "henkilo", test_row_of(d), NULL, &rt, &cat);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(rt, GW_RT_PATIENT);
	CU_ASSERT_PTR_NULL(cat);
	ASSERT_STR(r, "resourceType", "Patient");
	ASSERT_STR(r, "id", LOGICAL);
	ASSERT_STR(r, "meta.profile.0",
	    "https://hl7.fi/fhir/"
	    "finnish-base-profiles/StructureDefinition/fi-base-patient");
	ASSERT_STR(r, "identifier.0.system", "urn:oid:1.2.246.21");
	ASSERT_STR(r, "identifier.0.value", "010190Y999W");
	ASSERT_STR(r, "identifier.0.use", "official");
	ASSERT_STR(r, "name.0.use", "official");
	ASSERT_STR(r, "name.0.family", "Näkkäläjärvi");
	ASSERT_STR(r, "name.0.given.0", "Máret");
	ASSERT_STR(r, "name.0.given.1", "Anna-Liisa");
	given = item_at(
	    cJSON_GetArrayItem(item_at(r, "name", NULL), 0), "given", NULL);
	CU_ASSERT_EQUAL(cJSON_GetArraySize(given), 2);
	ASSERT_STR(r, "gender", "female");
	ASSERT_STR(r, "birthDate", "1990-01-01");
	CU_ASSERT_PTR_NULL(item_at(r, "deceasedDateTime", NULL));
	ASSERT_STR(r, "extension.0.url",
	    "https://hl7.fi/fhir/"
	    "finnish-base-profiles/StructureDefinition/municipality-code");
	ASSERT_STR(r, "extension.0.valueCoding.system",
	    "urn:oid:1.2.246.537.6.21.2003");
	ASSERT_STR(r, "extension.0.valueCoding.code", "148");
	ASSERT_STR(r, "extension.0.valueCoding.display", "Inari");
	ASSERT_STR(r, "address.0.line.0", "Ivalontie 5 A 3");
	ASSERT_STR(r, "address.0.postalCode", "99800");
	ASSERT_STR(r, "address.0.city", "Ivalo");
	ASSERT_STR(r, "address.0.country", "FI");
	ASSERT_STR(r, "telecom.0.system", "phone");
	ASSERT_STR(r, "telecom.0.value", "+358401234567");
	ASSERT_STR(
	    r, "communication.0.language.coding.0.system", "urn:ietf:bcp:47");
	ASSERT_STR(r, "communication.0.language.coding.0.code", "se");
	cJSON_Delete(r);

	/* 1 is male; a death date becomes deceasedDateTime. */
	cJSON_ReplaceItemInObject(d, "sukupuoli", cJSON_CreateString("1"));
	cJSON_ReplaceItemInObject(
	    d, "kuolinpaiva", cJSON_CreateString("2020-05-17"));
	r = test_map(&adapter_fi, "henkilo", test_row_of(d), NULL, &rt, &cat);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	ASSERT_STR(r, "gender", "male");
	ASSERT_STR(r, "deceasedDateTime", "2020-05-17");
	cJSON_Delete(r);

	/* No HETU, no Patient; a token that is not one, no Patient. */
	cJSON_ReplaceItemInObject(
	    d, "fhir_tunniste", cJSON_CreateString("../x"));
	CU_ASSERT_PTR_NULL(test_map(&adapter_fi, "henkilo",
	    test_row_of(d), NULL, &rt, &cat));
	cJSON_ReplaceItemInObject(
	    d, "fhir_tunniste", cJSON_CreateString(TOKEN));
	cJSON_DeleteItemFromObject(d, "hetu");
	CU_ASSERT_PTR_NULL(test_map(&adapter_fi, "henkilo",
	    test_row_of(d), NULL, &rt, &cat));
	cJSON_Delete(d);
}

static cJSON *
diagnoosi_doc(const char *icd10, const char *tila)
{
	cJSON *d = cJSON_CreateObject();

	cJSON_AddNumberToObject(d, "id", 7);
	cJSON_AddNumberToObject(d, "henkilo_id", 42);
	cJSON_AddStringToObject(d, "icd10", icd10);
	cJSON_AddStringToObject(d, "nimi_fi", "Masennustila, määrittämätön");
	cJSON_AddStringToObject(d, "tila", tila);
	cJSON_AddStringToObject(d, "pysyvyys", "pysyvä");
	cJSON_AddStringToObject(d, "todettu", "2019-04-02");
	cJSON_AddStringToObject(d, "kirjattu", "2024-03-01T10:00:00+02:00");
	return d;
}

static void
test_map_condition(void)
{
	enum gw_rtype rt = GW_RT_COUNT;
	const char *cat = NULL;
	cJSON *d = diagnoosi_doc("F32.9", "aktiivinen"), *r;
	struct gw_patient other;

	fill_owner();
	r = test_map(&adapter_fi, "diagnoosi", test_row_of(d), &owner_ctx, &rt, &cat);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(rt, GW_RT_CONDITION);
	CU_ASSERT(cat != NULL && strcmp(cat, "mental-health") == 0);
	ASSERT_STR(r, "resourceType", "Condition");
	ASSERT_STR(r, "id", "fi-7");
	ASSERT_STR(r, "subject.reference", "Patient/" LOGICAL);
	ASSERT_STR(r, "code.coding.0.system", "http://hl7.org/fhir/sid/icd-10");
	ASSERT_STR(r, "code.coding.0.code", "F32.9");
	ASSERT_STR(r, "code.text", "Masennustila, määrittämätön");
	ASSERT_STR(r, "clinicalStatus.coding.0.code", "active");
	ASSERT_STR(r, "clinicalStatus.coding.0.system",
	    "http://terminology.hl7.org/CodeSystem/condition-clinical");
	ASSERT_STR(r, "verificationStatus.coding.0.code", "confirmed");
	ASSERT_STR(r, "category.0.coding.0.code", "problem-list-item");
	ASSERT_STR(r, "onsetDateTime", "2019-04-02");
	/* Timestamps come out in UTC. */
	ASSERT_STR(r, "recordedDate", "2024-03-01T08:00:00Z");
	cJSON_Delete(r);
	cJSON_Delete(d);

	d = diagnoosi_doc("E11.9", "ratkaistu");
	cat = "x";
	r = test_map(&adapter_fi, "diagnoosi", test_row_of(d), &owner_ctx, &rt, &cat);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_PTR_NULL(cat);
	ASSERT_STR(r, "clinicalStatus.coding.0.code", "resolved");
	cJSON_Delete(r);
	cJSON_Delete(d);

	d = diagnoosi_doc("F10.2", "aktiivinen");
	r = test_map(&adapter_fi, "diagnoosi", test_row_of(d), &owner_ctx, &rt, &cat);
	CU_ASSERT(cat != NULL && strcmp(cat, "substance-abuse") == 0);
	cJSON_Delete(r);
	cJSON_Delete(d);

	d = diagnoosi_doc("B20", "aktiivinen");
	r = test_map(&adapter_fi, "diagnoosi", test_row_of(d), &owner_ctx, &rt, &cat);
	CU_ASSERT(cat != NULL && strcmp(cat, "sexual-health") == 0);
	cJSON_Delete(r);
	cJSON_Delete(d);

	/* Unknown status, no owner, someone else's row: nothing. */
	d = diagnoosi_doc("E11.9", "epäselvä");
	CU_ASSERT_PTR_NULL(
	    test_map(&adapter_fi, "diagnoosi", test_row_of(d), &owner_ctx, &rt, &cat));
	cJSON_Delete(d);
	d = diagnoosi_doc("E11.9", "aktiivinen");
	CU_ASSERT_PTR_NULL(test_map(&adapter_fi, "diagnoosi",
	    test_row_of(d), NULL, &rt, &cat));
	other = owner;
	gw_strlcpy(other.registry_key, "43", sizeof(other.registry_key));
	{
		struct gw_map_ctx ctx = {.patient = &other};

		CU_ASSERT_PTR_NULL(
		    test_map(&adapter_fi, "diagnoosi",
		    test_row_of(d), &ctx, &rt, &cat));
	}
	cJSON_Delete(d);
}

static cJSON *
laakitys_doc(bool ended)
{
	cJSON *d = cJSON_CreateObject();

	cJSON_AddNumberToObject(d, "id", 11);
	cJSON_AddNumberToObject(d, "henkilo_id", 42);
	cJSON_AddStringToObject(d, "atc", "C09AA05");
	cJSON_AddStringToObject(d, "vnr", "403048");
	cJSON_AddStringToObject(d, "valmiste", "Cardace");
	cJSON_AddStringToObject(d, "vahvuus", "5 mg");
	cJSON_AddStringToObject(d, "annostus", "1 tabletti kerran päivässä");
	cJSON_AddStringToObject(d, "aloitettu", "2020-01-15");
	if (ended)
		cJSON_AddStringToObject(d, "lopetettu", "2023-06-30");
	else
		cJSON_AddNullToObject(d, "lopetettu");
	cJSON_AddStringToObject(d, "tila", ended ? "lopetettu" : "aktiivinen");
	return d;
}

static void
test_map_medication(void)
{
	enum gw_rtype rt = GW_RT_COUNT;
	const char *cat = "x";
	cJSON *d = laakitys_doc(false), *r;

	fill_owner();
	r = test_map(&adapter_fi, "laakitys", test_row_of(d), &owner_ctx, &rt, &cat);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(rt, GW_RT_MEDICATION_STATEMENT);
	CU_ASSERT_PTR_NULL(cat);
	ASSERT_STR(r, "resourceType", "MedicationStatement");
	ASSERT_STR(r, "id", "fi-11");
	ASSERT_STR(r, "status", "active");
	ASSERT_STR(r, "medicationCodeableConcept.coding.0.system",
	    "http://www.whocc.no/atc");
	ASSERT_STR(r, "medicationCodeableConcept.coding.0.code", "C09AA05");
	ASSERT_STR(r, "medicationCodeableConcept.coding.1.system",
	    "urn:oid:1.2.246.537.6.55");
	ASSERT_STR(r, "medicationCodeableConcept.coding.1.code", "403048");
	ASSERT_STR(r, "medicationCodeableConcept.text", "Cardace 5 mg");
	ASSERT_STR(r, "subject.reference", "Patient/" LOGICAL);
	ASSERT_STR(r, "effectivePeriod.start", "2020-01-15");
	CU_ASSERT_PTR_NULL(item_at(r, "effectivePeriod", "end"));
	ASSERT_STR(r, "dosage.0.text", "1 tabletti kerran päivässä");
	cJSON_Delete(r);
	cJSON_Delete(d);

	d = laakitys_doc(true);
	cJSON_ReplaceItemInObject(d, "vnr", cJSON_CreateNull());
	r = test_map(&adapter_fi, "laakitys", test_row_of(d), &owner_ctx, &rt, &cat);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	ASSERT_STR(r, "status", "completed");
	ASSERT_STR(r, "effectivePeriod.end", "2023-06-30");
	CU_ASSERT_EQUAL(cJSON_GetArraySize(
	                    item_at(r, "medicationCodeableConcept", "coding")),
	    1);
	cJSON_Delete(r);
	/* An ATC code that is not one. */
	cJSON_ReplaceItemInObject(d, "atc", cJSON_CreateString("C09"));
	CU_ASSERT_PTR_NULL(
	    test_map(&adapter_fi, "laakitys", test_row_of(d), &owner_ctx, &rt, &cat));
	cJSON_Delete(d);
}

static cJSON *
allergia_doc(const char *code, const char *name)
{
	cJSON *d = cJSON_CreateObject();

	cJSON_AddNumberToObject(d, "id", 3);
	cJSON_AddNumberToObject(d, "henkilo_id", 42);
	cJSON_AddStringToObject(d, "aiheuttaja_koodi", code);
	cJSON_AddStringToObject(d, "aiheuttaja_nimi", name);
	cJSON_AddStringToObject(d, "reaktio", "anafylaksia");
	cJSON_AddStringToObject(d, "vakavuus", "vakava");
	cJSON_AddStringToObject(d, "kriittisyys", "korkea");
	cJSON_AddStringToObject(d, "todettu", "2001-08-20");
	return d;
}

static void
test_map_allergy(void)
{
	enum gw_rtype rt = GW_RT_COUNT;
	const char *cat = "x";
	cJSON *d = allergia_doc("J01CE02", "fenoksimetyylipenisilliini"), *r;

	fill_owner();
	r = test_map(&adapter_fi, "allergia", test_row_of(d), &owner_ctx, &rt, &cat);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(rt, GW_RT_ALLERGY_INTOLERANCE);
	CU_ASSERT_PTR_NULL(cat);
	ASSERT_STR(r, "resourceType", "AllergyIntolerance");
	ASSERT_STR(r, "id", "fi-3");
	ASSERT_STR(r, "patient.reference", "Patient/" LOGICAL);
	ASSERT_STR(r, "type", "allergy");
	ASSERT_STR(r, "category.0", "medication");
	ASSERT_STR(r, "criticality", "high");
	ASSERT_STR(r, "clinicalStatus.coding.0.code", "active");
	ASSERT_STR(r, "code.coding.0.system", "http://www.whocc.no/atc");
	ASSERT_STR(r, "code.coding.0.code", "J01CE02");
	ASSERT_STR(r, "reaction.0.manifestation.0.text", "anafylaksia");
	ASSERT_STR(r, "reaction.0.severity", "severe");
	ASSERT_STR(r, "onsetDateTime", "2001-08-20");
	cJSON_Delete(r);
	cJSON_Delete(d);

	d = allergia_doc("762952008", "maapähkinä");
	cJSON_ReplaceItemInObject(d, "vakavuus", cJSON_CreateString("lievä"));
	cJSON_ReplaceItemInObject(
	    d, "kriittisyys", cJSON_CreateString("ei arvioitavissa"));
	r = test_map(&adapter_fi, "allergia", test_row_of(d), &owner_ctx, &rt, &cat);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	ASSERT_STR(r, "code.coding.0.system", "http://snomed.info/sct");
	ASSERT_STR(r, "code.text", "maapähkinä");
	ASSERT_STR(r, "reaction.0.severity", "mild");
	ASSERT_STR(r, "criticality", "unable-to-assess");
	CU_ASSERT_PTR_NULL(item_at(r, "category", NULL));
	cJSON_Delete(r);
	cJSON_Delete(d);
}

static void
test_map_immunization(void)
{
	enum gw_rtype rt = GW_RT_COUNT;
	const char *cat = "x";
	cJSON *d = cJSON_CreateObject(), *r;
	const cJSON *dose;

	fill_owner();
	cJSON_AddNumberToObject(d, "id", 5);
	cJSON_AddNumberToObject(d, "henkilo_id", 42);
	cJSON_AddStringToObject(d, "rokote_atc", "J07BB02");
	cJSON_AddStringToObject(d, "rokote_nimi", "Vaxigrip Tetra");
	cJSON_AddStringToObject(d, "annettu", "2023-10-20");
	cJSON_AddNumberToObject(d, "annos_nro", 2);
	cJSON_AddStringToObject(d, "erä", "VT1234");
	r = test_map(&adapter_fi, "rokotus", test_row_of(d), &owner_ctx, &rt, &cat);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(rt, GW_RT_IMMUNIZATION);
	CU_ASSERT_PTR_NULL(cat);
	ASSERT_STR(r, "resourceType", "Immunization");
	ASSERT_STR(r, "id", "fi-5");
	ASSERT_STR(r, "status", "completed");
	ASSERT_STR(r, "vaccineCode.coding.0.system", "http://www.whocc.no/atc");
	ASSERT_STR(r, "vaccineCode.coding.0.code", "J07BB02");
	ASSERT_STR(r, "vaccineCode.text", "Vaxigrip Tetra");
	ASSERT_STR(r, "patient.reference", "Patient/" LOGICAL);
	ASSERT_STR(r, "occurrenceDateTime", "2023-10-20");
	ASSERT_STR(r, "lotNumber", "VT1234");
	dose =
	    item_at(cJSON_GetArrayItem(item_at(r, "protocolApplied", NULL), 0),
	        "doseNumberPositiveInt", NULL);
	CU_ASSERT(cJSON_IsNumber(dose) && dose->valueint == 2);
	cJSON_Delete(r);
	/* Without a date there is no Immunization. */
	cJSON_DeleteItemFromObject(d, "annettu");
	CU_ASSERT_PTR_NULL(test_map(&adapter_fi, "rokotus",
	    test_row_of(d), &owner_ctx, &rt, &cat));
	cJSON_Delete(d);
}

static cJSON *
lab_doc(const char *loinc, const char *otettu)
{
	cJSON *d = cJSON_CreateObject();

	cJSON_AddNumberToObject(d, "id", 9);
	cJSON_AddNumberToObject(d, "henkilo_id", 42);
	cJSON_AddStringToObject(d, "tutkimus_koodi", "2143");
	cJSON_AddStringToObject(d, "tutkimus_lyhenne", "P-Krea");
	cJSON_AddStringToObject(d, "tutkimus_nimi", "Kreatiniini");
	if (loinc != NULL)
		cJSON_AddStringToObject(d, "loinc", loinc);
	else
		cJSON_AddNullToObject(d, "loinc");
	cJSON_AddNumberToObject(d, "tulos", 85.5);
	cJSON_AddStringToObject(d, "yksikko", "umol/L");
	cJSON_AddNumberToObject(d, "viitevali_ala", 50);
	cJSON_AddNumberToObject(d, "viitevali_yla", 90);
	cJSON_AddStringToObject(d, "otettu", otettu);
	return d;
}

static void
test_map_observation(void)
{
	enum gw_rtype rt = GW_RT_COUNT;
	const char *cat = "x";
	cJSON *d = lab_doc("14682-9", "2024-03-01T10:00:00+00:00"), *r;
	const cJSON *value;

	fill_owner();
	r = test_map(&adapter_fi, "laboratoriotulos",
	    test_row_of(d), &owner_ctx, &rt, &cat);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(rt, GW_RT_OBSERVATION);
	CU_ASSERT_PTR_NULL(cat);
	ASSERT_STR(r, "resourceType", "Observation");
	ASSERT_STR(r, "id", "fi-9");
	ASSERT_STR(r, "status", "final");
	ASSERT_STR(r, "category.0.coding.0.code", "laboratory");
	ASSERT_STR(r, "category.0.coding.0.system",
	    "http://terminology.hl7.org/CodeSystem/observation-category");
	ASSERT_STR(r, "code.coding.0.system", "http://loinc.org");
	ASSERT_STR(r, "code.coding.0.code", "14682-9");
	ASSERT_STR(r, "code.coding.1.system", "urn:oid:1.2.246.537.6.3.2006");
	ASSERT_STR(r, "code.coding.1.code", "2143");
	ASSERT_STR(r, "code.coding.1.display", "P-Krea Kreatiniini");
	ASSERT_STR(r, "subject.reference", "Patient/" LOGICAL);
	ASSERT_STR(r, "effectiveDateTime", "2024-03-01T10:00:00Z");
	value = item_at(r, "valueQuantity", "value");
	CU_ASSERT(cJSON_IsNumber(value) && value->valuedouble == 85.5);
	ASSERT_STR(r, "valueQuantity.system", "http://unitsofmeasure.org");
	ASSERT_STR(r, "valueQuantity.code", "umol/L");
	value =
	    item_at(cJSON_GetArrayItem(item_at(r, "referenceRange", NULL), 0),
	        "high", NULL);
	CU_ASSERT(cJSON_IsNumber(cJSON_GetObjectItem(value, "value")));
	cJSON_Delete(r);
	cJSON_Delete(d);

	/* No LOINC in the registry: the national code first, then the
	 * LOINC of profiles/terminology.  An offset with seconds (a local
	 * mean time) is converted, not copied. */
	d = lab_doc(NULL, "1900-01-01T00:00:00+01:39:49");
	r = test_map(&adapter_fi, "laboratoriotulos",
	    test_row_of(d), &owner_ctx, &rt, &cat);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(cJSON_GetArraySize(item_at(r, "code", "coding")), 2);
	ASSERT_STR(r, "code.coding.0.code", "2143");
	ASSERT_STR(r, "code.coding.1.system", "http://loinc.org");
	ASSERT_STR(r, "code.coding.1.code", "14682-9");
	ASSERT_STR(r, "effectiveDateTime", "1899-12-31T22:20:11Z");
	cJSON_Delete(r);
	cJSON_Delete(d);

	d = lab_doc(NULL, "2024-03-01T10:00:00.250-05:30");
	r = test_map(&adapter_fi, "laboratoriotulos",
	    test_row_of(d), &owner_ctx, &rt, &cat);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	ASSERT_STR(r, "effectiveDateTime", "2024-03-01T15:30:00.250Z");
	cJSON_Delete(r);
	cJSON_Delete(d);

	/* A decimal keeps the registry's precision: 85.50 is not 85.5
	 * (FHIR R4 decimal), in the text and in the tree's printing; code
	 * reading the tree still sees the number. */
	d = lab_doc(NULL, "2024-03-01T10:00:00+00:00");
	cJSON_ReplaceItemInObject(d, "tulos", cJSON_CreateString("85.50"));
	cJSON_ReplaceItemInObject(d, "viitevali_ala",
	    cJSON_CreateString("50.0"));
	r = test_map(&adapter_fi, "laboratoriotulos",
	    test_row_of(d), &owner_ctx, &rt, &cat);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	value = item_at(r, "valueQuantity", "value");
	CU_ASSERT(cJSON_IsNumber(value) && value->valuedouble == 85.5);
	{
		char *text = gw_fhir_print(r);

		CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"value\":85.50,"));
		CU_ASSERT_PTR_NOT_NULL(strstr(text,
		    "\"low\":{\"value\":50.0,"));
		CU_ASSERT_PTR_NOT_NULL(strstr(text,
		    "\"high\":{\"value\":90,"));
		free(text);
	}
	cJSON_Delete(r);
	cJSON_Delete(d);

	/* A value that is not a finite number means no Observation. */
	d = lab_doc(NULL, "2024-03-01T10:00:00+00:00");
	cJSON_ReplaceItemInObject(d, "tulos", cJSON_CreateString("NaN"));
	CU_ASSERT_PTR_NULL(
	    test_map(&adapter_fi, "laboratoriotulos",
	    test_row_of(d), &owner_ctx, &rt, &cat));
	cJSON_Delete(d);

	/* A timestamp FHIR cannot carry means no Observation. */
	d = lab_doc(NULL, "infinity");
	CU_ASSERT_PTR_NULL(
	    test_map(&adapter_fi, "laboratoriotulos",
	    test_row_of(d), &owner_ctx, &rt, &cat));
	cJSON_Delete(d);
}

static void
test_map_refuses(void)
{
	enum gw_rtype rt = GW_RT_COUNT;
	const char *cat = "x";
	cJSON *d = henkilo_doc();

	CU_ASSERT_PTR_NULL(test_map(&adapter_fi, "potilas",
	    test_row_of(d), NULL, &rt, &cat));
	CU_ASSERT_PTR_NULL(cat);
	CU_ASSERT_PTR_NULL(test_map(&adapter_fi, NULL,
	    test_row_of(d), NULL, &rt, &cat));
	/* A doc that is not a flat object never parses (test_row.c). */
	CU_ASSERT_PTR_NULL(test_map(&adapter_fi, "henkilo", NULL, NULL, &rt, &cat));
	cJSON_Delete(d);
}

/* ---- adapter table and tokens ---- */

static void
test_adapter_table(void)
{
	CU_ASSERT_EQUAL(adapter_fi.abi, GW_ADAPTER_ABI);
	CU_ASSERT_STRING_EQUAL(adapter_fi.country, "FI");
	CU_ASSERT_STRING_EQUAL(adapter_fi.id_prefix, "fi");
	CU_ASSERT_STRING_EQUAL(adapter_fi.ids[0].system, "urn:oid:1.2.246.21");
	CU_ASSERT_TRUE(adapter_fi.ids[0].emit);
	CU_ASSERT_TRUE(adapter_fi.ids[0].valid("010190Y999W"));
	CU_ASSERT_FALSE(adapter_fi.ids[0].valid("250810A999Y"));
	CU_ASSERT_PTR_NULL(adapter_fi.ids[1].system);
	CU_ASSERT_PTR_NOT_NULL(adapter_fi.sql_patient_by_identifier);
	CU_ASSERT_PTR_NOT_NULL(adapter_fi.sql_summary);
	CU_ASSERT_PTR_NOT_NULL(adapter_fi.sql_read[GW_RT_PATIENT]);
	CU_ASSERT_PTR_NULL(adapter_fi.sql_search[GW_RT_PATIENT]);
	for (int t = GW_RT_CONDITION; t < GW_RT_COUNT; t++) {
		CU_ASSERT_PTR_NOT_NULL(adapter_fi.sql_read[t]);
		CU_ASSERT_PTR_NOT_NULL(adapter_fi.sql_search[t]);
		if (adapter_fi.sql_search[t] != NULL) {
			CU_ASSERT_PTR_NOT_NULL(strstr(
			    adapter_fi.sql_search[t], "count(*) OVER ()"));
		}
	}
	CU_ASSERT_PTR_NOT_NULL(adapter_fi.seed);
	CU_ASSERT_PTR_EQUAL(gw_adapter_by_country("FI"), &adapter_fi);
	CU_ASSERT_PTR_EQUAL(
	    gw_adapter_by_system("urn:oid:1.2.246.21", NULL), &adapter_fi);
}

static void
test_token(void)
{
	static const unsigned char key[] = "unit-test-key-0123456789abcdef";
	char a[32], b[32], c[32];

	CU_ASSERT_EQUAL(gw_adapter_token(key, sizeof(key) - 1, "FI",
	                    "010190Y999W", a, sizeof(a)),
	    GW_OK);
	CU_ASSERT_EQUAL(gw_adapter_token(key, sizeof(key) - 1, "FI",
	                    "010190Y999W", b, sizeof(b)),
	    GW_OK);
	CU_ASSERT_STRING_EQUAL(a, b);
	CU_ASSERT_EQUAL(strlen(a), 26);
	CU_ASSERT_EQUAL(strspn(a, "abcdefghijklmnopqrstuvwxyz234567"), 26);
	CU_ASSERT_EQUAL(gw_adapter_token(key, sizeof(key) - 1, "NO",
	                    "010190Y999W", c, sizeof(c)),
	    GW_OK);
	CU_ASSERT_STRING_NOT_EQUAL(a, c);
	/* The sign is part of the identity: another sign, another token. */
	CU_ASSERT_EQUAL(gw_adapter_token(key, sizeof(key) - 1, "FI",
	                    "010190-999W", c, sizeof(c)),
	    GW_OK);
	CU_ASSERT_STRING_NOT_EQUAL(a, c);
	CU_ASSERT_EQUAL(gw_adapter_token(key, sizeof(key) - 2, "FI",
	                    "010190Y999W", c, sizeof(c)),
	    GW_OK);
	CU_ASSERT_STRING_NOT_EQUAL(a, c);
	CU_ASSERT_EQUAL(
	    gw_adapter_token(key, sizeof(key) - 1, "FI", "010190Y999W", c, 26),
	    GW_ERR);
}

CU_TestInfo test_hetu_cases[] = {
    {"valid codes for every century sign", test_valid_every_sign},
    {"every wrong check character", test_every_wrong_check_char},
    {"impossible dates and leap years", test_impossible_dates},
    {"individual numbers 000 and 001", test_individual_number},
    {"length, digits, case", test_shape},
    {"fixture codes", test_fixture_codes},
    {"birth date and sex", test_birthdate_and_sex},
    {"generator round trip", test_generator_round_trip},
    {"ICD-10 sensitive categories", test_category_icd10},
    {"patient identity", test_patient_identity},
    {"map henkilo -> Patient", test_map_patient},
    {"map diagnoosi -> Condition", test_map_condition},
    {"map laakitys -> MedicationStatement", test_map_medication},
    {"map allergia -> AllergyIntolerance", test_map_allergy},
    {"map rokotus -> Immunization", test_map_immunization},
    {"map laboratoriotulos -> Observation", test_map_observation},
    {"map refuses unknown kinds and non-objects", test_map_refuses},
    {"adapter table", test_adapter_table},
    {"logical-id tokens", test_token},
    CU_TEST_INFO_NULL,
};
