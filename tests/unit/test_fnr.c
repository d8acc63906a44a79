/*
 * test_fnr.c: the Norwegian adapter without a database.  Fødselsnummer and
 * D-nummer validation against vectors computed from the rule (two mod-11
 * control digits, the century from the individual number, synthetic
 * months + 40 and + 80), the generator and the seeder's guarantee behind
 * it, ICPC-2 sensitive categories and classification by system, the
 * mapping of every native kind to FHIR, patient identity and the adapter
 * table.
 */
#include <string.h>

#include <CUnit/CUnit.h>
#include <cjson/cJSON.h>

#include "adapters/adapter.h"
#include "adapters/common/category.h"
#include "adapters/common/checkdigit.h"
#include "adapters/common/civil.h"
#include "adapters/no/adapter_no.h"
#include "adapters/no/fnr.h"
#include "gateway/gw.h"
#include "tests/unit/json_path.h"

extern CU_TestInfo test_fnr_cases[];

#define TOKEN "abcdefghijklmnopqrstuvwxyz"
#define LOGICAL "no-" TOKEN

/* Control digits computed independently of the code under test (k1 with
 * weights 3 7 6 1 8 9 4 5 2, k2 with 5 4 3 2 7 6 5 4 3 2, 11 -> 0). */
static const struct vector {
	const char *number;
	enum adapter_no_kind kind;
	int synthetic, year, month, day, individual;
} valid[] = {
    {"15038512363", ADAPTER_NO_FNR, 0, 1985, 3, 15, 123},
    {"15438512346", ADAPTER_NO_FNR, 40, 1985, 3, 15, 123},
    {"15838512329", ADAPTER_NO_FNR, 80, 1985, 3, 15, 123},
    {"55038512357", ADAPTER_NO_DNR, 0, 1985, 3, 15, 123},
    {"55438512410", ADAPTER_NO_DNR, 40, 1985, 3, 15, 124},
    {"55838512312", ADAPTER_NO_DNR, 80, 1985, 3, 15, 123},
    {"01410000012", ADAPTER_NO_FNR, 40, 1900, 1, 1, 0},
    {"41010000023", ADAPTER_NO_DNR, 0, 1900, 1, 1, 0},
    {"01010000110", ADAPTER_NO_FNR, 0, 1900, 1, 1, 1},
    /* 1800s: 500-749 with years 54-99. */
    {"31129974063", ADAPTER_NO_FNR, 0, 1899, 12, 31, 740},
    {"31929974029", ADAPTER_NO_FNR, 80, 1899, 12, 31, 740},
    {"71529974110", ADAPTER_NO_DNR, 40, 1899, 12, 31, 741},
    {"01015450068", ADAPTER_NO_FNR, 0, 1854, 1, 1, 500},
    {"41815450017", ADAPTER_NO_DNR, 80, 1854, 1, 1, 500},
    /* 2000s: 500-999 with years 00-39. */
    {"29020050088", ADAPTER_NO_FNR, 0, 2000, 2, 29, 500},
    {"69820050037", ADAPTER_NO_DNR, 80, 2000, 2, 29, 500},
    {"31123999188", ADAPTER_NO_FNR, 0, 2039, 12, 31, 991},
    {"71923999056", ADAPTER_NO_DNR, 80, 2039, 12, 31, 990},
    /* 900-999 with years 40-99: the 1900s again. */
    {"01064090077", ADAPTER_NO_FNR, 0, 1940, 6, 1, 900},
    {"41464090043", ADAPTER_NO_DNR, 40, 1940, 6, 1, 900},
    {"31129999066", ADAPTER_NO_FNR, 0, 1999, 12, 31, 990},
    {"71129999130", ADAPTER_NO_DNR, 0, 1999, 12, 31, 991},
    {"29020401093", ADAPTER_NO_FNR, 0, 1904, 2, 29, 10},
    {"69420401140", ADAPTER_NO_DNR, 40, 1904, 2, 29, 11},
    {"29822461253", ADAPTER_NO_FNR, 80, 2024, 2, 29, 612},
    {"69022461281", ADAPTER_NO_DNR, 0, 2024, 2, 29, 612},
    /* The project's synthetic fixtures (Tenor-style, month + 80). */
    {"21830550469", ADAPTER_NO_FNR, 80, 2005, 3, 21, 504},
    {"41818526219", ADAPTER_NO_DNR, 80, 1985, 1, 1, 262},
};

static void
test_valid_vectors(void)
{
	for (size_t i = 0; i < GW_ARRAY_LEN(valid); i++) {
		const struct vector *v = &valid[i];
		struct adapter_no_ident id;

		CU_ASSERT_EQUAL_FATAL(
		    adapter_no_ident_parse(v->number, &id), GW_OK);
		CU_ASSERT_EQUAL(id.kind, v->kind);
		CU_ASSERT_EQUAL(id.synthetic, v->synthetic);
		CU_ASSERT(id.year == v->year && id.month == v->month &&
		          id.day == v->day);
		CU_ASSERT_EQUAL(id.individual, v->individual);
		CU_ASSERT_EQUAL(id.sex, v->individual % 10 % 2 ? 1 : 2);
		CU_ASSERT_EQUAL(
		    adapter_no_fnr_valid(v->number), v->kind == ADAPTER_NO_FNR);
		CU_ASSERT_EQUAL(
		    adapter_no_dnr_valid(v->number), v->kind == ADAPTER_NO_DNR);
	}
}

static void
test_every_wrong_control_digit(void)
{
	for (size_t i = 0; i < GW_ARRAY_LEN(valid); i++) {
		char n[12];
		int ok1 = 0, ok2 = 0;

		for (char d = '0'; d <= '9'; d++) {
			gw_strlcpy(n, valid[i].number, sizeof(n));
			n[9] = d;
			if (adapter_no_ident_parse(
			        n, &(struct adapter_no_ident){0}) == GW_OK)
				ok1++;
			gw_strlcpy(n, valid[i].number, sizeof(n));
			n[10] = d;
			if (adapter_no_ident_parse(
			        n, &(struct adapter_no_ident){0}) == GW_OK)
				ok2++;
		}
		/* Only the right digit passes, in either place. */
		CU_ASSERT_EQUAL(ok1, 1);
		CU_ASSERT_EQUAL(ok2, 1);
	}
}

static void
test_first_control_digit_ten(void)
{
	static const int w1[9] = {3, 7, 6, 1, 8, 9, 4, 5, 2};
	/* 150385 + individual 008, 010, 023: the weighted sum leaves
	 * remainder 1, so k1 would be 10 and no such number exists. */
	static const char *const prefixes[] = {
	    "150385008", "150385010", "150385023"};

	for (size_t i = 0; i < GW_ARRAY_LEN(prefixes); i++) {
		char n[12];
		int ok = 0;

		CU_ASSERT_EQUAL(gw_check_mod11(prefixes[i], w1, 9), GW_ERR);
		memcpy(n, prefixes[i], 9);
		n[11] = '\0';
		for (int a = 0; a < 10; a++) {
			for (int b = 0; b < 10; b++) {
				n[9] = (char)('0' + a);
				n[10] = (char)('0' + b);
				ok += adapter_no_fnr_valid(n);
			}
		}
		CU_ASSERT_EQUAL(ok, 0);
	}
	{
		char out[12] = "x";

		CU_ASSERT_EQUAL(adapter_no_ident_make(
		                    ADAPTER_NO_FNR, 0, 1985, 3, 15, 8, out),
		    GW_ERR);
		CU_ASSERT_STRING_EQUAL(out, "");
		/* 150385 003: k1 is 9, but k2 would be 10. */
		CU_ASSERT_EQUAL(adapter_no_ident_make(
		                    ADAPTER_NO_FNR, 0, 1985, 3, 15, 3, out),
		    GW_ERR);
	}
}

static void
test_impossible_dates(void)
{
	/* Right control digits, impossible dates or centuries. */
	static const char *const bad[] = {
	    "31028510015", /* 31 Feb */
	    "30028510086", /* 30 Feb */
	    "29020010027", /* 29 Feb 1900 (individual < 500) */
	    "29022360130", /* 29 Feb 2023 */
	    "31048510186", /* 31 Apr */
	    "00018510073", /* day 0 */
	    "32018510064", /* day 32 */
	    "01008510012", /* month 0 */
	    "01138510030", /* month 13 */
	    "01538510013", /* month 53 (41 + 12) */
	    "01938510187", /* month 93 (81 + 12) */
	    "01208510009", /* month 20 */
	    "01608510091", /* month 60 */
	    "72018510058", /* D-nummer day 72 */
	    "40018510067", /* day 40 */
	    "01018580051", /* individual 750-899 with year 40-99 */
	    "01014560013", /* individual 500-749 with year 40-53 */
	    "31024095188", /* 31 Feb 1940 */
	};

	for (size_t i = 0; i < GW_ARRAY_LEN(bad); i++) {
		CU_ASSERT_FALSE(adapter_no_fnr_valid(bad[i]));
		CU_ASSERT_FALSE(adapter_no_dnr_valid(bad[i]));
	}
}

static void
test_shape(void)
{
	CU_ASSERT_FALSE(adapter_no_fnr_valid(NULL));
	CU_ASSERT_FALSE(adapter_no_fnr_valid(""));
	CU_ASSERT_FALSE(adapter_no_fnr_valid("1503851236"));
	CU_ASSERT_FALSE(adapter_no_fnr_valid("150385123633"));
	CU_ASSERT_FALSE(adapter_no_fnr_valid("15038512363\n"));
	CU_ASSERT_FALSE(adapter_no_fnr_valid(" 15038512363"));
	CU_ASSERT_FALSE(adapter_no_fnr_valid("150385 12363"));
	CU_ASSERT_FALSE(adapter_no_fnr_valid("150385-12363"));
	CU_ASSERT_FALSE(adapter_no_fnr_valid("1503851236a"));
	CU_ASSERT_FALSE(adapter_no_dnr_valid(NULL));
	/* Each system takes only its own kind of number. */
	CU_ASSERT_TRUE(adapter_no_fnr_valid("21830550469"));
	CU_ASSERT_FALSE(adapter_no_dnr_valid("21830550469"));
	CU_ASSERT_TRUE(adapter_no_dnr_valid("41818526219"));
	CU_ASSERT_FALSE(adapter_no_fnr_valid("41818526219"));
}

static void
test_generator(void)
{
	char out[12];
	int checked = 0;

	CU_ASSERT_EQUAL(
	    adapter_no_ident_make(ADAPTER_NO_FNR, 80, 2005, 3, 21, 504, out),
	    GW_OK);
	CU_ASSERT_STRING_EQUAL(out, "21830550469");
	CU_ASSERT_EQUAL(
	    adapter_no_ident_make(ADAPTER_NO_DNR, 80, 1985, 1, 1, 262, out),
	    GW_OK);
	CU_ASSERT_STRING_EQUAL(out, "41818526219");
	/* Round trips wherever a number exists. */
	for (int year = 1854; year <= 2039; year += 5) {
		for (int ind = 0; ind <= 999; ind += 37) {
			for (int syn = 0; syn <= 80; syn += 40) {
				struct adapter_no_ident id;
				int month = 1 + (year + ind) % 12;
				int day = 1 + (year * 3 + ind) % 28;

				if (adapter_no_ident_make(ADAPTER_NO_DNR, syn,
				        year, month, day, ind, out) != GW_OK)
					continue;
				CU_ASSERT_EQUAL_FATAL(
				    adapter_no_ident_parse(out, &id), GW_OK);
				CU_ASSERT(id.year == year &&
				          id.month == month && id.day == day &&
				          id.individual == ind &&
				          id.synthetic == syn &&
				          id.kind == ADAPTER_NO_DNR);
				checked++;
			}
		}
	}
	CU_ASSERT(checked > 300);
	/* Refused: a century the individual number does not give, dates,
	 * offsets, kinds. */
	CU_ASSERT_EQUAL(
	    adapter_no_ident_make(ADAPTER_NO_FNR, 0, 1985, 3, 15, 600, out),
	    GW_ERR);
	CU_ASSERT_EQUAL(
	    adapter_no_ident_make(ADAPTER_NO_FNR, 0, 2010, 3, 15, 123, out),
	    GW_ERR);
	CU_ASSERT_EQUAL(
	    adapter_no_ident_make(ADAPTER_NO_FNR, 0, 2023, 2, 29, 600, out),
	    GW_ERR);
	CU_ASSERT_EQUAL(
	    adapter_no_ident_make(ADAPTER_NO_FNR, 20, 1985, 3, 15, 123, out),
	    GW_ERR);
	CU_ASSERT_EQUAL(
	    adapter_no_ident_make(0, 0, 1985, 3, 15, 123, out), GW_ERR);
	CU_ASSERT_EQUAL(
	    adapter_no_ident_make(ADAPTER_NO_FNR, 0, 1985, 3, 15, 1000, out),
	    GW_ERR);
}

/*
 * The seeder (seed_no.c) relies on this: for any birth date and first two
 * individual digits, at least three of the five last digits of either
 * parity give a number that exists.
 */
static void
test_seeder_always_finds_a_number(void)
{
	long first = gw_civil_days(1925, 1, 1),
	     last = gw_civil_days(2024, 12, 31);
	int worst = 10;

	for (long day = first; day <= last; day += 7) {
		long y;
		int m, d;

		gw_civil_from_days(day, &y, &m, &d);
		for (int prefix = 0; prefix < 50; prefix++) {
			for (int parity = 0; parity < 2; parity++) {
				int ok = 0;

				for (int k = 0; k < 5; k++) {
					char out[12];
					int ind = (y >= 2000 ? 500 : 0) +
					          prefix * 10 + 2 * k + parity;

					ok += adapter_no_ident_make(
					          ADAPTER_NO_FNR, 80, (int)y, m,
					          d, ind, out) == GW_OK;
				}
				if (ok < worst)
					worst = ok;
			}
		}
	}
	CU_ASSERT(worst >= 3);
}

/* ---- categories ---- */

static void
test_category_icpc2(void)
{
	static const struct {
		const char *code, *category;
	} cases[] = {
	    {"P76", "mental-health"},
	    {"P74", "mental-health"},
	    {"p76", "mental-health"},
	    {"P76.00", "mental-health"},
	    {"P01", "mental-health"},
	    {"P99", "mental-health"},
	    {"P15", "substance-abuse"},
	    {"P16", "substance-abuse"},
	    {"P17", "substance-abuse"},
	    {"P18", "substance-abuse"},
	    {"P19", "substance-abuse"},
	    {"B90", "sexual-health"},
	    {"X70", "sexual-health"},
	    {"X71", "sexual-health"},
	    {"X92", "sexual-health"},
	    {"Y70", "sexual-health"},
	    {"Y72", "sexual-health"},
	    {"Y76", "sexual-health"},
	    {"T90", NULL},
	    {"K86", NULL},
	    {"R74", NULL},
	    {"X74", NULL},
	    {"Y73", NULL},
	    {"B89", NULL},
	    {"", NULL},
	};

	for (size_t i = 0; i < GW_ARRAY_LEN(cases); i++) {
		const char *got = gw_category_of_icpc2(cases[i].code);

		if (cases[i].category == NULL) {
			CU_ASSERT_PTR_NULL(got);
		} else {
			CU_ASSERT(
			    got != NULL && strcmp(got, cases[i].category) == 0);
		}
	}
	CU_ASSERT_PTR_NULL(gw_category_of_icpc2(NULL));
}

static void
test_category_by_system(void)
{
	/* The same letters mean different things: ICD-10 P07 is perinatal,
	 * ICPC-2 P07 psychological (reduced sexual desire). */
	CU_ASSERT_PTR_NULL(gw_category_of_coding(GW_SYSTEM_ICD10_NO, "P07.3"));
	CU_ASSERT_STRING_EQUAL(
	    gw_category_of_coding(GW_SYSTEM_ICPC2_NO, "P07"), "mental-health");
	CU_ASSERT_STRING_EQUAL(
	    gw_category_of_coding(GW_SYSTEM_ICPC2_WHO, "P15"),
	    "substance-abuse");
	CU_ASSERT_STRING_EQUAL(
	    gw_category_of_coding(GW_SYSTEM_ICD10_WHO, "F32.9"),
	    "mental-health");
	CU_ASSERT_STRING_EQUAL(
	    gw_category_of_coding(GW_SYSTEM_ICD10_SE, "B20"), "sexual-health");
	CU_ASSERT_STRING_EQUAL(
	    gw_category_of_coding(GW_SYSTEM_KSH97P, "F32-P"), "mental-health");
	/* ICD-10 F32 is not an ICPC-2 code; B90 is not ICD-10 HIV. */
	CU_ASSERT_PTR_NULL(gw_category_of_coding(GW_SYSTEM_ICPC2_NO, "F32"));
	CU_ASSERT_PTR_NULL(gw_category_of_coding(GW_SYSTEM_ICD10_NO, "B90"));
	CU_ASSERT_PTR_NULL(
	    gw_category_of_coding("http://example.org/x", "F32"));
	CU_ASSERT_PTR_NULL(gw_category_of_coding(NULL, "F32"));
}

/* ---- mapping ---- */

static cJSON *
pasient_doc(void)
{
	cJSON *d = cJSON_CreateObject();

	cJSON_AddNumberToObject(d, "id", 42);
	cJSON_AddStringToObject(d, "folkeregisterident", "21830550469");
	cJSON_AddStringToObject(d, "identtype", "fnr");
	cJSON_AddStringToObject(d, "fhir_id", TOKEN);
	cJSON_AddStringToObject(d, "fornavn", "Iŋgá Máret");
	cJSON_AddStringToObject(d, "mellomnavn", "Sara");
	cJSON_AddStringToObject(d, "etternavn", "Hætta");
	cJSON_AddStringToObject(d, "kjonn", "kvinne");
	cJSON_AddStringToObject(d, "fodselsdato", "2005-03-21");
	cJSON_AddStringToObject(d, "kommunenummer", "5437");
	cJSON_AddStringToObject(d, "kommunenavn", "Kárášjohka - Karasjok");
	cJSON_AddStringToObject(d, "adresse", "Ruoŧŧageaidnu 3");
	cJSON_AddStringToObject(d, "postnummer", "9730");
	cJSON_AddStringToObject(d, "poststed", "Karasjok");
	cJSON_AddStringToObject(d, "telefon", "+4791234567");
	cJSON_AddStringToObject(d, "sprak", "se");
	cJSON_AddNullToObject(d, "dodsdato");
	cJSON_AddStringToObject(d, "endret", "2024-03-01T10:00:00+01:00");
	return d;
}

static struct gw_patient owner;
static struct gw_map_ctx owner_ctx = {.patient = &owner};

static void
fill_owner(void)
{
	cJSON *d = pasient_doc();

	CU_ASSERT_EQUAL_FATAL(adapter_no.patient_identity(
	    test_row_of(d), &owner), GW_OK);
	cJSON_Delete(d);
}

static void
test_patient_identity(void)
{
	struct gw_patient p;
	cJSON *d = pasient_doc();

	CU_ASSERT_EQUAL(adapter_no.patient_identity(test_row_of(d), &p), GW_OK);
	CU_ASSERT_PTR_EQUAL(p.adapter, &adapter_no);
	CU_ASSERT_STRING_EQUAL(p.logical_id, LOGICAL);
	CU_ASSERT_STRING_EQUAL(p.system, ADAPTER_NO_FNR_SYSTEM);
	CU_ASSERT_STRING_EQUAL(p.national_id, "21830550469");
	CU_ASSERT_STRING_EQUAL(p.registry_key, "42");
	cJSON_ReplaceItemInObject(d, "identtype", cJSON_CreateString("dnr"));
	CU_ASSERT_EQUAL(adapter_no.patient_identity(test_row_of(d), &p), GW_OK);
	CU_ASSERT_STRING_EQUAL(p.system, ADAPTER_NO_DNR_SYSTEM);
	cJSON_ReplaceItemInObject(d, "identtype", cJSON_CreateString("hnr"));
	CU_ASSERT_EQUAL(adapter_no.patient_identity(
	    test_row_of(d), &p), GW_ERR);
	CU_ASSERT_STRING_EQUAL(p.logical_id, "");
	cJSON_Delete(d);
}

static void
test_map_patient(void)
{
	enum gw_rtype rt = GW_RT_COUNT;
	const char *cat = "x";
	cJSON *d = pasient_doc(), *r;

	r = test_map(&adapter_no, "pasient", test_row_of(d), NULL, &rt, &cat);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(rt, GW_RT_PATIENT);
	CU_ASSERT_PTR_NULL(cat);
	ASSERT_STR(r, "id", LOGICAL);
	ASSERT_STR(r, "meta.profile.0",
	    "http://hl7.no/fhir/StructureDefinition/no-basis-Patient");
	ASSERT_STR(r, "identifier.0.system", "urn:oid:2.16.578.1.12.4.1.4.1");
	ASSERT_STR(r, "identifier.0.value", "21830550469");
	ASSERT_STR(r, "identifier.0.type.coding.0.code", "NNNOR");
	ASSERT_STR(r, "name.0.family", "Hætta");
	ASSERT_STR(r, "name.0.given.0", "Iŋgá");
	ASSERT_STR(r, "name.0.given.1", "Máret");
	ASSERT_STR(r, "name.0.given.2", "Sara");
	ASSERT_STR(r, "name.0.text", "Iŋgá Máret Sara Hætta");
	ASSERT_STR(r, "gender", "female");
	ASSERT_STR(r, "birthDate", "2005-03-21");
	ASSERT_STR(r, "address.0.line.0", "Ruoŧŧageaidnu 3");
	ASSERT_STR(r, "address.0.district", "Kárášjohka - Karasjok");
	ASSERT_STR(r, "address.0._district.extension.0.url",
	    "http://hl7.no/fhir/StructureDefinition/"
	    "no-basis-municipalitycode");
	ASSERT_STR(
	    r, "address.0._district.extension.0.valueCoding.code", "5437");
	ASSERT_STR(r, "address.0.extension.0.url",
	    "http://hl7.no/fhir/StructureDefinition/no-basis-address-official");
	ASSERT_STR(r, "address.0.postalCode", "9730");
	ASSERT_STR(r, "address.0.city", "Karasjok");
	ASSERT_STR(r, "address.0.country", "NO");
	ASSERT_STR(r, "communication.0.language.coding.0.code", "se");
	cJSON_Delete(r);

	/* A D-nummer goes out under its own system; "mann" is male. */
	cJSON_ReplaceItemInObject(d, "identtype", cJSON_CreateString("dnr"));
	cJSON_ReplaceItemInObject(
	    d, "folkeregisterident", cJSON_CreateString("41818526219"));
	cJSON_ReplaceItemInObject(d, "kjonn", cJSON_CreateString("mann"));
	r = test_map(&adapter_no, "pasient", test_row_of(d), NULL, &rt, &cat);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	ASSERT_STR(r, "identifier.0.system", "urn:oid:2.16.578.1.12.4.1.4.2");
	ASSERT_STR(r, "gender", "male");
	cJSON_Delete(r);
	/* Unknown identity type: no Patient. */
	cJSON_ReplaceItemInObject(d, "identtype", cJSON_CreateString("x"));
	CU_ASSERT_PTR_NULL(test_map(&adapter_no, "pasient",
	    test_row_of(d), NULL, &rt, &cat));
	cJSON_Delete(d);
}

static cJSON *
diagnose_doc(const char *kodeverk, const char *kode, const char *status)
{
	cJSON *d = cJSON_CreateObject();

	cJSON_AddNumberToObject(d, "id", 7);
	cJSON_AddNumberToObject(d, "pasient_id", 42);
	cJSON_AddStringToObject(d, "kodeverk", kodeverk);
	cJSON_AddStringToObject(d, "kode", kode);
	cJSON_AddStringToObject(d, "tekst", "Depresjon");
	cJSON_AddStringToObject(d, "status", status);
	cJSON_AddStringToObject(d, "diagnosedato", "2019-04-02");
	cJSON_AddStringToObject(d, "registrert", "2024-03-01T10:00:00+01:00");
	return d;
}

static void
test_map_condition(void)
{
	static const struct {
		const char *kodeverk, *kode, *status, *clinical, *category;
		const char *system0, *system1;
	} cases[] = {
	    {"ICPC-2", "P76", "aktiv", "active", "mental-health",
	        GW_SYSTEM_ICPC2_WHO, GW_SYSTEM_ICPC2_NO},
	    {"ICPC-2", "P15", "aktiv", "active", "substance-abuse",
	        GW_SYSTEM_ICPC2_WHO, GW_SYSTEM_ICPC2_NO},
	    {"ICD-10", "B20", "aktiv", "active", "sexual-health",
	        GW_SYSTEM_ICD10_WHO, GW_SYSTEM_ICD10_NO},
	    {"ICD-10", "P07.3", "avsluttet", "resolved", NULL,
	        GW_SYSTEM_ICD10_WHO, GW_SYSTEM_ICD10_NO},
	    {"ICPC-2", "T90", "aktiv", "active", NULL, GW_SYSTEM_ICPC2_WHO,
	        GW_SYSTEM_ICPC2_NO},
	};
	enum gw_rtype rt = GW_RT_COUNT;
	const char *cat;
	cJSON *d, *r;

	fill_owner();
	for (size_t i = 0; i < GW_ARRAY_LEN(cases); i++) {
		d = diagnose_doc(
		    cases[i].kodeverk, cases[i].kode, cases[i].status);
		cat = "x";
		r = test_map(&adapter_no, "diagnose",
		    test_row_of(d), &owner_ctx, &rt, &cat);
		CU_ASSERT_PTR_NOT_NULL_FATAL(r);
		CU_ASSERT_EQUAL(rt, GW_RT_CONDITION);
		if (cases[i].category == NULL) {
			CU_ASSERT_PTR_NULL(cat);
		} else {
			CU_ASSERT(
			    cat != NULL && strcmp(cat, cases[i].category) == 0);
		}
		ASSERT_STR(r, "id", "no-7");
		ASSERT_STR(r, "subject.reference", "Patient/" LOGICAL);
		ASSERT_STR(r, "code.coding.0.system", cases[i].system0);
		ASSERT_STR(r, "code.coding.1.system", cases[i].system1);
		ASSERT_STR(r, "code.coding.0.code", cases[i].kode);
		ASSERT_STR(r, "code.coding.1.code", cases[i].kode);
		ASSERT_STR(
		    r, "clinicalStatus.coding.0.code", cases[i].clinical);
		ASSERT_STR(r, "recordedDate", "2024-03-01T09:00:00Z");
		cJSON_Delete(r);
		cJSON_Delete(d);
	}
	/* Unknown kodeverk or status, another patient's row: nothing. */
	d = diagnose_doc("ICD-9", "296", "aktiv");
	CU_ASSERT_PTR_NULL(
	    test_map(&adapter_no, "diagnose", test_row_of(d), &owner_ctx, &rt, &cat));
	cJSON_Delete(d);
	d = diagnose_doc("ICPC-2", "P76", "usikker");
	CU_ASSERT_PTR_NULL(
	    test_map(&adapter_no, "diagnose", test_row_of(d), &owner_ctx, &rt, &cat));
	cJSON_Delete(d);
	d = diagnose_doc("ICPC-2", "P76", "aktiv");
	cJSON_ReplaceItemInObject(d, "pasient_id", cJSON_CreateNumber(43));
	CU_ASSERT_PTR_NULL(
	    test_map(&adapter_no, "diagnose", test_row_of(d), &owner_ctx, &rt, &cat));
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
	cJSON_AddNumberToObject(d, "id", 11);
	cJSON_AddNumberToObject(d, "pasient_id", 42);
	cJSON_AddStringToObject(d, "atc", "C09CA01");
	cJSON_AddStringToObject(d, "preparat", "Cozaar");
	cJSON_AddStringToObject(d, "styrke", "50 mg");
	cJSON_AddStringToObject(d, "dosering", "1 tablett daglig");
	cJSON_AddStringToObject(d, "startdato", "2020-01-15");
	cJSON_AddStringToObject(d, "sluttdato", "2021-01-15");
	cJSON_AddStringToObject(d, "status", "seponert");
	r = test_map(&adapter_no, "legemiddel", test_row_of(d), &owner_ctx, &rt, &cat);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(rt, GW_RT_MEDICATION_STATEMENT);
	ASSERT_STR(r, "status", "stopped");
	ASSERT_STR(r, "medicationCodeableConcept.text", "Cozaar 50 mg");
	ASSERT_STR(r, "medicationCodeableConcept.coding.0.code", "C09CA01");
	ASSERT_STR(r, "effectivePeriod.end", "2021-01-15");
	ASSERT_STR(r, "dosage.0.text", "1 tablett daglig");
	cJSON_Delete(r);
	cJSON_Delete(d);

	d = cJSON_CreateObject();
	cJSON_AddNumberToObject(d, "id", 3);
	cJSON_AddNumberToObject(d, "pasient_id", 42);
	cJSON_AddStringToObject(d, "type", "intoleranse");
	cJSON_AddStringToObject(d, "agens_kode", "M01AE01");
	cJSON_AddStringToObject(d, "agens_tekst", "Ibuprofen");
	cJSON_AddStringToObject(d, "reaksjon", "kvalme");
	cJSON_AddStringToObject(d, "alvorlighet", "lett");
	cJSON_AddStringToObject(d, "kritikalitet", "kan ikke vurderes");
	cJSON_AddStringToObject(d, "sikkerhet", "mistenkt");
	cJSON_AddStringToObject(d, "registrert_dato", "2001-08-20");
	r = test_map(&adapter_no, "kritisk_informasjon",
	    test_row_of(d), &owner_ctx, &rt, &cat);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(rt, GW_RT_ALLERGY_INTOLERANCE);
	ASSERT_STR(r, "type", "intolerance");
	ASSERT_STR(r, "verificationStatus.coding.0.code", "unconfirmed");
	ASSERT_STR(r, "criticality", "unable-to-assess");
	ASSERT_STR(r, "reaction.0.severity", "mild");
	ASSERT_STR(r, "category.0", "medication");
	ASSERT_STR(r, "patient.reference", "Patient/" LOGICAL);
	cJSON_Delete(r);
	cJSON_ReplaceItemInObject(d, "kritikalitet", cJSON_CreateString("høg"));
	CU_ASSERT_PTR_NULL(
	    test_map(&adapter_no, "kritisk_informasjon",
	    test_row_of(d), &owner_ctx, &rt, &cat));
	cJSON_Delete(d);

	d = cJSON_CreateObject();
	cJSON_AddNumberToObject(d, "id", 5);
	cJSON_AddNumberToObject(d, "pasient_id", 42);
	cJSON_AddStringToObject(d, "atc", "J07AJ52");
	cJSON_AddStringToObject(d, "vaksinenavn", "Boostrix");
	cJSON_AddStringToObject(d, "vaksinasjonsdato", "2023-10-20");
	cJSON_AddNumberToObject(d, "dosenummer", 1);
	cJSON_AddStringToObject(d, "batchnummer", "BX0042");
	r = test_map(&adapter_no, "vaksine", test_row_of(d), &owner_ctx, &rt, &cat);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(rt, GW_RT_IMMUNIZATION);
	ASSERT_STR(r, "vaccineCode.coding.0.code", "J07AJ52");
	ASSERT_STR(r, "lotNumber", "BX0042");
	cJSON_Delete(r);
	cJSON_Delete(d);

	d = cJSON_CreateObject();
	cJSON_AddNumberToObject(d, "id", 9);
	cJSON_AddNumberToObject(d, "pasient_id", 42);
	cJSON_AddStringToObject(d, "analysekode", "NPU28309");
	cJSON_AddStringToObject(d, "analysenavn", "B-Hemoglobin");
	cJSON_AddStringToObject(d, "loinc", "718-7");
	cJSON_AddNumberToObject(d, "resultat", 13.4);
	cJSON_AddStringToObject(d, "enhet", "g/dL");
	cJSON_AddNumberToObject(d, "referanse_nedre", 11.7);
	cJSON_AddNullToObject(d, "referanse_ovre");
	cJSON_AddStringToObject(d, "provetaking", "2024-03-01 08:00:00+01");
	r = test_map(&adapter_no, "provesvar", test_row_of(d), &owner_ctx, &rt, &cat);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(rt, GW_RT_OBSERVATION);
	ASSERT_STR(r, "code.coding.0.system", "http://loinc.org");
	ASSERT_STR(r, "code.coding.1.code", "NPU28309");
	ASSERT_STR(r, "code.coding.1.display", "B-Hemoglobin");
	ASSERT_STR(r, "valueQuantity.code", "g/dL");
	ASSERT_STR(r, "effectiveDateTime", "2024-03-01T07:00:00Z");
	CU_ASSERT_PTR_NOT_NULL(test_json_str_at(r, "id"));
	cJSON_Delete(r);
	cJSON_Delete(d);
}

static void
test_adapter_table(void)
{
	const struct gw_id_system *s = NULL;

	CU_ASSERT_EQUAL(adapter_no.abi, GW_ADAPTER_ABI);
	CU_ASSERT_STRING_EQUAL(adapter_no.country, "NO");
	CU_ASSERT_STRING_EQUAL(adapter_no.id_prefix, "no");
	CU_ASSERT_PTR_EQUAL(gw_adapter_by_country("NO"), &adapter_no);
	CU_ASSERT_PTR_EQUAL(
	    gw_adapter_by_system("urn:oid:2.16.578.1.12.4.1.4.1", &s),
	    &adapter_no);
	CU_ASSERT_TRUE(s->emit);
	CU_ASSERT_TRUE(s->valid("21830550469"));
	CU_ASSERT_PTR_NULL(s->normalize);
	CU_ASSERT_PTR_EQUAL(
	    gw_adapter_by_system("urn:oid:2.16.578.1.12.4.1.4.2", &s),
	    &adapter_no);
	CU_ASSERT_TRUE(s->valid("41818526219"));
	CU_ASSERT_FALSE(s->valid("21830550469"));
	for (int t = GW_RT_CONDITION; t < GW_RT_COUNT; t++) {
		CU_ASSERT_PTR_NOT_NULL(adapter_no.sql_read[t]);
		CU_ASSERT_PTR_NOT_NULL(adapter_no.sql_search[t]);
	}
	CU_ASSERT_PTR_NOT_NULL(adapter_no.seed);
	CU_ASSERT_EQUAL(gw_adapters_check(), GW_OK);
}

CU_TestInfo test_fnr_cases[] = {
    {"valid numbers: every century, synthetic, D-nummer", test_valid_vectors},
    {"every wrong control digit", test_every_wrong_control_digit},
    {"first control digit 10 is impossible", test_first_control_digit_ten},
    {"impossible dates and centuries", test_impossible_dates},
    {"length, digits, kinds", test_shape},
    {"generator round trip", test_generator},
    {"seeder always finds a number", test_seeder_always_finds_a_number},
    {"ICPC-2 sensitive categories", test_category_icpc2},
    {"classification by coding system", test_category_by_system},
    {"patient identity", test_patient_identity},
    {"map pasient -> Patient", test_map_patient},
    {"map diagnose -> Condition", test_map_condition},
    {"map legemiddel, kritisk_informasjon, vaksine, provesvar",
        test_map_clinical},
    {"adapter table", test_adapter_table},
    CU_TEST_INFO_NULL,
};
