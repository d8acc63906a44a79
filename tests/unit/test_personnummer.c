/*
 * test_personnummer.c: the Swedish adapter without a database.
 * Personnummer and samordningsnummer validation against vectors computed
 * from the rule (Luhn over the last ten digits), the 12-digit and 10-digit
 * forms and the "+" century on a fixed day, normalisation, the shared
 * check-digit helpers, the mapping of every native kind to FHIR, patient
 * identity and the adapter table with its input-only systems.
 */
#include <string.h>

#include <CUnit/CUnit.h>
#include <cjson/cJSON.h>

#include "adapters/adapter.h"
#include "adapters/common/category.h"
#include "adapters/common/checkdigit.h"
#include "adapters/common/civil.h"
#include "adapters/se/adapter_se.h"
#include "adapters/se/personnummer.h"
#include "gateway/gw.h"
#include "tests/unit/json_path.h"

extern CU_TestInfo test_personnummer_cases[];

#define TOKEN "abcdefghijklmnopqrstuvwxyz"
#define LOGICAL "se-" TOKEN

/* The day the 10-digit forms below are read on. */
#define TY 2026
#define TM 11
#define TD 23

static int
parse(const char *s, struct adapter_se_ident *id)
{
	return adapter_se_ident_parse_on(s, TY, TM, TD, id);
}

/* ---- check digits ---- */

static void
test_check_digits(void)
{
	static const int w[3] = {1, 2, 3};

	/* Luhn: the classic 7992739871 -> 3; the fixture's core. */
	CU_ASSERT_EQUAL(gw_check_luhn("7992739871", 10), 3);
	CU_ASSERT_EQUAL(gw_check_luhn("610118280", 9), 3);
	CU_ASSERT_EQUAL(gw_check_luhn("0", 1), 0);
	CU_ASSERT_EQUAL(gw_check_luhn("12a", 3), GW_ERR);
	CU_ASSERT_EQUAL(gw_check_luhn("", 0), GW_ERR);
	/* mod 11: 11 - (1*1 + 2*2 + 3*3 = 14) mod 11 = 8; a remainder of 0
	 * gives 0; a remainder of 1 gives no digit. */
	CU_ASSERT_EQUAL(gw_check_mod11("123", w, 3), 8);
	CU_ASSERT_EQUAL(gw_check_mod11("000", w, 3), 0);
	CU_ASSERT_EQUAL(gw_check_mod11("100", w, 3), GW_ERR);
	CU_ASSERT_EQUAL(gw_check_mod11("1x0", w, 3), GW_ERR);
	/* mod 31: 010190999 mod 31 = 28 ('W' in the HETU alphabet). */
	CU_ASSERT_EQUAL(gw_check_mod31("010190999", 9), 28);
	CU_ASSERT_EQUAL(gw_check_mod31("31", 2), 0);
	CU_ASSERT_EQUAL(gw_check_mod31("-1", 2), GW_ERR);
}

/* ---- numbers ---- */

static const struct vector {
	const char *in, *twelve;
	enum adapter_se_kind kind;
	int year, month, day, sex;
} valid[] = {
    /* The project's fixtures: an Inera test person, a samordningsnummer. */
    {"196101182803", "196101182803", ADAPTER_SE_PERSONNUMMER, 1961, 1, 18, 2},
    {"198001612392", "198001612392", ADAPTER_SE_SAMORDNINGSNUMMER, 1980, 1, 1,
        1},
    /* Tolvan Tolvansson, and his 10-digit forms. */
    {"191212121212", "191212121212", ADAPTER_SE_PERSONNUMMER, 1912, 12, 12, 1},
    {"19121212-1212", "191212121212", ADAPTER_SE_PERSONNUMMER, 1912, 12, 12, 1},
    {"121212+1212", "191212121212", ADAPTER_SE_PERSONNUMMER, 1912, 12, 12, 1},
    {"121212-1212", "201212121212", ADAPTER_SE_PERSONNUMMER, 2012, 12, 12, 1},
    {"610118-2803", "196101182803", ADAPTER_SE_PERSONNUMMER, 1961, 1, 18, 2},
    {"800161-2392", "198001612392", ADAPTER_SE_SAMORDNINGSNUMMER, 1980, 1, 1,
        1},
    /* Born on the reading day: "-" and 0 years; the day after a century
     * ago: "-" and 99 years; exactly a century ago: "+". */
    {"261123-1230", "202611231230", ADAPTER_SE_PERSONNUMMER, 2026, 11, 23, 1},
    {"261124-1239", "192611241239", ADAPTER_SE_PERSONNUMMER, 1926, 11, 24, 1},
    {"261123+1230", "192611231230", ADAPTER_SE_PERSONNUMMER, 1926, 11, 23, 1},
    {"261124+1239", "182611241239", ADAPTER_SE_PERSONNUMMER, 1826, 11, 24, 1},
    /* 29 February: 2000 and 1904 are leap years. */
    {"000229-1235", "200002291235", ADAPTER_SE_PERSONNUMMER, 2000, 2, 29, 1},
    {"040229+1231", "190402291231", ADAPTER_SE_PERSONNUMMER, 1904, 2, 29, 1},
    {"000229-1243", "200002291243", ADAPTER_SE_PERSONNUMMER, 2000, 2, 29, 2},
    /* A samordningsnummer on the last day of a month. */
    {"850675-9656", "198506759656", ADAPTER_SE_SAMORDNINGSNUMMER, 1985, 6, 15,
        1},
    {"198506159659", "198506159659", ADAPTER_SE_PERSONNUMMER, 1985, 6, 15, 1},
};

static void
test_valid_forms(void)
{
	for (size_t i = 0; i < GW_ARRAY_LEN(valid); i++) {
		const struct vector *v = &valid[i];
		struct adapter_se_ident id;

		CU_ASSERT_EQUAL_FATAL(parse(v->in, &id), GW_OK);
		CU_ASSERT_STRING_EQUAL(id.twelve, v->twelve);
		CU_ASSERT_EQUAL(id.kind, v->kind);
		CU_ASSERT(id.year == v->year && id.month == v->month &&
		          id.day == v->day);
		CU_ASSERT_EQUAL(id.sex, v->sex);
	}
	/* Today's reading agrees for the 12-digit forms. */
	CU_ASSERT_TRUE(adapter_se_personnummer_valid("196101182803"));
	CU_ASSERT_FALSE(adapter_se_samordningsnummer_valid("196101182803"));
	CU_ASSERT_TRUE(adapter_se_samordningsnummer_valid("198001612392"));
	CU_ASSERT_FALSE(adapter_se_personnummer_valid("198001612392"));
	CU_ASSERT_TRUE(adapter_se_personnummer_valid("19121212-1212"));
	CU_ASSERT_TRUE(adapter_se_personnummer_valid("121212+1212"));
}

static void
test_every_wrong_check_digit(void)
{
	for (size_t i = 0; i < GW_ARRAY_LEN(valid); i++) {
		char s[16];
		size_t last = strlen(valid[i].in) - 1;
		int ok = 0;
		struct adapter_se_ident id;

		for (char d = '0'; d <= '9'; d++) {
			gw_strlcpy(s, valid[i].in, sizeof(s));
			s[last] = d;
			ok += parse(s, &id) == GW_OK;
		}
		CU_ASSERT_EQUAL(ok, 1);
	}
}

static void
test_impossible(void)
{
	static const char *const bad[] = {
	    "199002301234", /* 30 Feb (any check digit: date first) */
	    "199002301235", "199002301236", "199002301237",
	    "000229+1235",  /* 29 Feb 1900 */
	    "220631-1231",  /* 31 Jun */
	    "871350-1230",  /* month 13 */
	    "990101-0000",  /* birth number 000 */
	    "199001001234", /* day 0 */
	    "199001321230", /* day 32 */
	    "199001601234", /* day 60: samordningsnummer of day 0 */
	    "199001921234", /* day 92: samordningsnummer of day 32 */
	    "179912311234", /* before 1800 */
	    "210012311234", /* after 2099 */
	};
	struct adapter_se_ident id;

	for (size_t i = 0; i < GW_ARRAY_LEN(bad); i++)
		CU_ASSERT_EQUAL(parse(bad[i], &id), GW_ERR);
}

static void
test_shape(void)
{
	static const char *const bad[] = {
	    "",
	    "19610118280",
	    "1961011828033",
	    "196101182803 ",
	    " 196101182803",
	    "6101182803", /* 10 digits without a separator */
	    "610118 2803",
	    "610118/2803",
	    "19610118+2803", /* "+" needs 10 */
	    "196101182a03",
	    "61-0118-2803",
	    "6101182803-",
	    "1961-01-18-2803",
	};
	struct adapter_se_ident id;

	for (size_t i = 0; i < GW_ARRAY_LEN(bad); i++)
		CU_ASSERT_EQUAL(parse(bad[i], &id), GW_ERR);
	CU_ASSERT_EQUAL(parse(NULL, &id), GW_ERR);
	CU_ASSERT_FALSE(adapter_se_personnummer_valid(NULL));
}

static void
test_normalize(void)
{
	char out[16];

	CU_ASSERT_EQUAL(
	    adapter_se_normalize("121212+1212", out, sizeof(out)), GW_OK);
	CU_ASSERT_STRING_EQUAL(out, "191212121212");
	CU_ASSERT_EQUAL(
	    adapter_se_normalize("19121212-1212", out, sizeof(out)), GW_OK);
	CU_ASSERT_STRING_EQUAL(out, "191212121212");
	CU_ASSERT_EQUAL(
	    adapter_se_normalize("800161-2392", out, sizeof(out)), GW_OK);
	CU_ASSERT_STRING_EQUAL(out, "198001612392");
	CU_ASSERT_EQUAL(
	    adapter_se_normalize("121212+1213", out, sizeof(out)), GW_ERR);
	CU_ASSERT_EQUAL(adapter_se_normalize("121212+1212", out, 12), GW_ERR);
}

static void
test_generator(void)
{
	char out[13];
	int checked = 0;

	CU_ASSERT_EQUAL(adapter_se_ident_make(
	                    ADAPTER_SE_PERSONNUMMER, 1961, 1, 18, 280, out),
	    GW_OK);
	CU_ASSERT_STRING_EQUAL(out, "196101182803");
	CU_ASSERT_EQUAL(adapter_se_ident_make(
	                    ADAPTER_SE_SAMORDNINGSNUMMER, 1980, 1, 1, 239, out),
	    GW_OK);
	CU_ASSERT_STRING_EQUAL(out, "198001612392");
	for (int year = 1800; year <= 2099; year += 7) {
		for (int bn = 1; bn <= 999; bn += 71) {
			struct adapter_se_ident id;
			int month = 1 + (year + bn) % 12;
			int day = 1 + (year * 3 + bn) % 28;

			CU_ASSERT_EQUAL_FATAL(
			    adapter_se_ident_make(ADAPTER_SE_SAMORDNINGSNUMMER,
			        year, month, day, bn, out),
			    GW_OK);
			CU_ASSERT_EQUAL_FATAL(parse(out, &id), GW_OK);
			CU_ASSERT(id.year == year && id.month == month &&
			          id.day == day && id.birth_number == bn &&
			          id.kind == ADAPTER_SE_SAMORDNINGSNUMMER);
			checked++;
		}
	}
	CU_ASSERT(checked > 500);
	CU_ASSERT_EQUAL(adapter_se_ident_make(
	                    ADAPTER_SE_PERSONNUMMER, 2023, 2, 29, 123, out),
	    GW_ERR);
	CU_ASSERT_STRING_EQUAL(out, "");
	CU_ASSERT_EQUAL(
	    adapter_se_ident_make(ADAPTER_SE_PERSONNUMMER, 1990, 1, 1, 0, out),
	    GW_ERR);
	CU_ASSERT_EQUAL(adapter_se_ident_make(
	                    ADAPTER_SE_PERSONNUMMER, 1799, 12, 31, 1, out),
	    GW_ERR);
	CU_ASSERT_EQUAL(adapter_se_ident_make(0, 1990, 1, 1, 1, out), GW_ERR);
}

/* ---- mapping ---- */

static cJSON *
patient_doc(void)
{
	cJSON *d = cJSON_CreateObject();

	cJSON_AddNumberToObject(d, "id", 42);
	cJSON_AddStringToObject(d, "personid", "196101182803");
	cJSON_AddStringToObject(d, "personid_typ", "personnummer");
	cJSON_AddStringToObject(d, "fhir_id", TOKEN);
	cJSON_AddStringToObject(d, "fornamn", "Sunná Máret");
	cJSON_AddStringToObject(d, "tilltalsnamn", "Máret");
	cJSON_AddStringToObject(d, "efternamn", "Kuoljok");
	cJSON_AddStringToObject(d, "kon", "K");
	cJSON_AddStringToObject(d, "fodelsedatum", "1961-01-18");
	cJSON_AddStringToObject(d, "kommunkod", "2510");
	cJSON_AddStringToObject(d, "kommun", "Jokkmokk");
	cJSON_AddStringToObject(d, "kommun_samiskt_namn", "Jåhkåmåhkke");
	cJSON_AddStringToObject(d, "kommun_samiskt_sprak", "smj");
	cJSON_AddStringToObject(d, "gatuadress", "Storgatan 12");
	cJSON_AddStringToObject(d, "postnummer", "96231");
	cJSON_AddStringToObject(d, "postort", "Jokkmokk");
	cJSON_AddStringToObject(d, "telefon", "+46701234567");
	cJSON_AddStringToObject(d, "sprak", "smj");
	cJSON_AddNullToObject(d, "avliden_datum");
	return d;
}

static struct gw_patient owner;
static struct gw_map_ctx owner_ctx = {.patient = &owner};

static void
fill_owner(void)
{
	cJSON *d = patient_doc();

	CU_ASSERT_EQUAL_FATAL(adapter_se.patient_identity(
	    test_row_of(d), &owner), GW_OK);
	cJSON_Delete(d);
}

static void
test_patient_identity(void)
{
	struct gw_patient p;
	cJSON *d = patient_doc();

	CU_ASSERT_EQUAL(adapter_se.patient_identity(test_row_of(d), &p), GW_OK);
	CU_ASSERT_STRING_EQUAL(p.logical_id, LOGICAL);
	CU_ASSERT_STRING_EQUAL(p.system, ADAPTER_SE_PNR_SYSTEM);
	CU_ASSERT_STRING_EQUAL(p.national_id, "196101182803");
	CU_ASSERT_STRING_EQUAL(p.registry_key, "42");
	cJSON_ReplaceItemInObject(
	    d, "personid_typ", cJSON_CreateString("samordningsnummer"));
	CU_ASSERT_EQUAL(adapter_se.patient_identity(test_row_of(d), &p), GW_OK);
	CU_ASSERT_STRING_EQUAL(p.system, ADAPTER_SE_SAM_SYSTEM);
	cJSON_Delete(d);
}

static void
test_map_patient(void)
{
	enum gw_rtype rt = GW_RT_COUNT;
	const char *cat = "x";
	cJSON *d = patient_doc(), *r;

	r = test_map(&adapter_se, "patient", test_row_of(d), NULL, &rt, &cat);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(rt, GW_RT_PATIENT);
	ASSERT_STR(r, "id", LOGICAL);
	ASSERT_STR(r, "meta.profile.0",
	    "http://hl7.se/fhir/ig/base/StructureDefinition/SEBasePatient");
	ASSERT_STR(r, "identifier.0.system",
	    "http://electronichealth.se/identifier/personnummer");
	ASSERT_STR(r, "identifier.0.value", "196101182803");
	ASSERT_STR(r, "name.0.given.0", "Sunná");
	ASSERT_STR(r, "name.0.given.1", "Máret");
	ASSERT_STR(r, "name.0.family", "Kuoljok");
	ASSERT_STR(r, "name.1.use", "usual");
	ASSERT_STR(r, "name.1.given.0", "Máret");
	ASSERT_STR(r, "gender", "female");
	ASSERT_STR(r, "address.0.district", "Jokkmokk");
	ASSERT_STR(r, "address.0._district.extension.0.url",
	    "http://hl7.org/fhir/StructureDefinition/translation");
	ASSERT_STR(
	    r, "address.0._district.extension.0.extension.0.valueCode", "smj");
	ASSERT_STR(r, "address.0._district.extension.0.extension.1.valueString",
	    "Jåhkåmåhkke");
	ASSERT_STR(r,
	    "address.0.extension.0.valueCodeableConcept.coding.0.code",
	    "63381000052101");
	ASSERT_STR(r, "address.0.country", "SE");
	ASSERT_STR(r, "communication.0.language.coding.0.code", "smj");
	cJSON_Delete(r);
	/* Outside the Sámi area: no translation, no _district. */
	cJSON_DeleteItemFromObject(d, "kommun_samiskt_namn");
	cJSON_DeleteItemFromObject(d, "kommun_samiskt_sprak");
	r = test_map(&adapter_se, "patient", test_row_of(d), NULL, &rt, &cat);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_PTR_NULL(cJSON_GetObjectItem(
	    cJSON_GetArrayItem(cJSON_GetObjectItem(r, "address"), 0),
	    "_district"));
	cJSON_Delete(r);
	cJSON_Delete(d);
}

static void
test_map_clinical(void)
{
	enum gw_rtype rt = GW_RT_COUNT;
	const char *cat = "x";
	cJSON *d, *r;

	fill_owner();
	d = cJSON_CreateObject();
	cJSON_AddNumberToObject(d, "id", 7);
	cJSON_AddNumberToObject(d, "patient_id", 42);
	cJSON_AddStringToObject(d, "kodverk", "KSH97-P");
	cJSON_AddStringToObject(d, "kod", "F32-P");
	cJSON_AddStringToObject(d, "benamning", "Depression");
	cJSON_AddStringToObject(d, "status", "aktuell");
	cJSON_AddStringToObject(d, "diagnosdatum", "2019-04-02");
	r = test_map(&adapter_se, "diagnos", test_row_of(d), &owner_ctx, &rt, &cat);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(rt, GW_RT_CONDITION);
	CU_ASSERT(cat != NULL && strcmp(cat, "mental-health") == 0);
	ASSERT_STR(r, "id", "se-7");
	ASSERT_STR(r, "code.coding.0.system", GW_SYSTEM_KSH97P);
	ASSERT_STR(r, "code.coding.0.code", "F32-P");
	cJSON_Delete(r);
	cJSON_ReplaceItemInObject(
	    d, "kodverk", cJSON_CreateString("ICD-10-SE"));
	cJSON_ReplaceItemInObject(d, "kod", cJSON_CreateString("E11.9"));
	r = test_map(&adapter_se, "diagnos", test_row_of(d), &owner_ctx, &rt, &cat);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_PTR_NULL(cat);
	ASSERT_STR(r, "code.coding.0.system", GW_SYSTEM_ICD10_SE);
	cJSON_Delete(r);
	cJSON_ReplaceItemInObject(d, "kodverk", cJSON_CreateString("ICD-9"));
	CU_ASSERT_PTR_NULL(test_map(&adapter_se, "diagnos",
	    test_row_of(d), &owner_ctx, &rt, &cat));
	cJSON_Delete(d);

	d = cJSON_CreateObject();
	cJSON_AddNumberToObject(d, "id", 3);
	cJSON_AddNumberToObject(d, "patient_id", 42);
	cJSON_AddStringToObject(d, "signaltyp", "överkänslighet");
	cJSON_AddStringToObject(d, "agens_kod", "762952008");
	cJSON_AddStringToObject(d, "agens_namn", "Jordnöt");
	cJSON_AddStringToObject(d, "reaktion", "anafylaxi");
	cJSON_AddStringToObject(d, "allvarlighetsgrad", "allvarlig");
	cJSON_AddStringToObject(d, "kritikalitet", "hög");
	cJSON_AddStringToObject(d, "visshetsgrad", "bekräftad");
	cJSON_AddStringToObject(d, "registrerad", "2001-08-20");
	r = test_map(&adapter_se, "uppmarksamhetssignal",
	    test_row_of(d), &owner_ctx, &rt, &cat);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(rt, GW_RT_ALLERGY_INTOLERANCE);
	ASSERT_STR(r, "code.coding.0.system", "http://snomed.info/sct");
	ASSERT_STR(r, "code.text", "Jordnöt");
	ASSERT_STR(r, "reaction.0.severity", "severe");
	ASSERT_STR(r, "criticality", "high");
	cJSON_Delete(r);
	/* A treatment warning is not an allergy. */
	cJSON_ReplaceItemInObject(
	    d, "signaltyp", cJSON_CreateString("behandling"));
	CU_ASSERT_PTR_NULL(
	    test_map(&adapter_se, "uppmarksamhetssignal",
	    test_row_of(d), &owner_ctx, &rt, &cat));
	cJSON_Delete(d);

	d = cJSON_CreateObject();
	cJSON_AddNumberToObject(d, "id", 11);
	cJSON_AddNumberToObject(d, "patient_id", 42);
	cJSON_AddStringToObject(d, "atc", "C09AA02");
	cJSON_AddStringToObject(d, "lakemedelsnamn", "Enalapril Sandoz");
	cJSON_AddStringToObject(d, "styrka", "10 mg");
	cJSON_AddStringToObject(d, "startdatum", "2020-01-15");
	cJSON_AddStringToObject(d, "status", "aktuell");
	r = test_map(&adapter_se, "lakemedel", test_row_of(d), &owner_ctx, &rt, &cat);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	ASSERT_STR(r, "status", "active");
	ASSERT_STR(
	    r, "medicationCodeableConcept.text", "Enalapril Sandoz 10 mg");
	cJSON_Delete(r);
	cJSON_Delete(d);

	d = cJSON_CreateObject();
	cJSON_AddNumberToObject(d, "id", 5);
	cJSON_AddNumberToObject(d, "patient_id", 42);
	cJSON_AddStringToObject(d, "atc", "J07BB02");
	cJSON_AddStringToObject(d, "vaccinnamn", "Vaxigrip Tetra");
	cJSON_AddStringToObject(d, "vaccinationsdatum", "2023-10-20");
	cJSON_AddNumberToObject(d, "dosnummer", 1);
	r = test_map(&adapter_se, "vaccination",
	    test_row_of(d), &owner_ctx, &rt, &cat);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(rt, GW_RT_IMMUNIZATION);
	cJSON_Delete(r);
	cJSON_Delete(d);

	d = cJSON_CreateObject();
	cJSON_AddNumberToObject(d, "id", 9);
	cJSON_AddNumberToObject(d, "patient_id", 42);
	cJSON_AddStringToObject(d, "analyskod", "NPU19651");
	cJSON_AddStringToObject(d, "analysnamn", "P-ALAT");
	cJSON_AddNullToObject(d, "loinc");
	cJSON_AddNumberToObject(d, "resultat", 0.42);
	cJSON_AddStringToObject(d, "enhet", "ukat/L");
	cJSON_AddNumberToObject(d, "ref_lag", 0.15);
	cJSON_AddNumberToObject(d, "ref_hog", 0.75);
	cJSON_AddStringToObject(d, "provtagning", "2024-03-01T08:00:00+01:00");
	r = test_map(&adapter_se, "labbsvar", test_row_of(d), &owner_ctx, &rt, &cat);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(rt, GW_RT_OBSERVATION);
	ASSERT_STR(r, "code.coding.0.code", "NPU19651");
	ASSERT_STR(r, "valueQuantity.unit", "ukat/L");
	cJSON_Delete(r);
	cJSON_Delete(d);
}

static void
test_adapter_table(void)
{
	static const struct {
		const char *system;
		bool emit, pnr;
	} systems[] = {
	    {"http://electronichealth.se/identifier/personnummer", true, true},
	    {"urn:oid:1.2.752.129.2.1.3.1", false, true},
	    {"http://electronichealth.se/identifier/samordningsnummer", true,
	        false},
	    {"urn:oid:1.2.752.129.2.1.3.3", false, false},
	};
	char out[16];

	CU_ASSERT_STRING_EQUAL(adapter_se.country, "SE");
	CU_ASSERT_STRING_EQUAL(adapter_se.id_prefix, "se");
	for (size_t i = 0; i < GW_ARRAY_LEN(systems); i++) {
		const struct gw_id_system *s = NULL;

		CU_ASSERT_PTR_EQUAL(
		    gw_adapter_by_system(systems[i].system, &s), &adapter_se);
		CU_ASSERT_PTR_NOT_NULL_FATAL(s);
		CU_ASSERT_EQUAL(s->emit, systems[i].emit);
		CU_ASSERT_EQUAL(s->valid("19121212-1212"), systems[i].pnr);
		CU_ASSERT_EQUAL(s->valid("800161-2392"), !systems[i].pnr);
		CU_ASSERT_PTR_NOT_NULL_FATAL(s->normalize);
		CU_ASSERT_EQUAL(
		    s->normalize("121212+1212", out, sizeof(out)), GW_OK);
		CU_ASSERT_STRING_EQUAL(out, "191212121212");
		/* patient_by_identifier accepts every system. */
		CU_ASSERT_PTR_NOT_NULL(strstr(
		    adapter_se.sql_patient_by_identifier, systems[i].system));
	}
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(adapter_se.sql_search[GW_RT_ALLERGY_INTOLERANCE],
	        "överkänslighet"));
	CU_ASSERT_EQUAL(gw_adapters_check(), GW_OK);
}

CU_TestInfo test_personnummer_cases[] = {
    {"Luhn, mod 11, mod 31", test_check_digits},
    {"valid 12- and 10-digit forms, '+' century", test_valid_forms},
    {"every wrong check digit", test_every_wrong_check_digit},
    {"impossible dates, birth number 000", test_impossible},
    {"length, separators, digits", test_shape},
    {"normalise to 12 digits", test_normalize},
    {"generator round trip", test_generator},
    {"patient identity", test_patient_identity},
    {"map patient -> Patient", test_map_patient},
    {"map diagnos, uppmarksamhetssignal, lakemedel, vaccination, labbsvar",
        test_map_clinical},
    {"adapter table and input-only systems", test_adapter_table},
    CU_TEST_INFO_NULL,
};
