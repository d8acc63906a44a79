/*
 * test_terminology.c: the adapters' code data in profiles/ (terminology
 * maps and sensitive-data categories): the real files of the source tree
 * load and say what they should; malformed or duplicate data is refused;
 * the shared builders keep the original coding beside its translation and
 * count what they cannot translate.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "adapters/adapter.h"
#include "adapters/common/category.h"
#include "adapters/common/map_common.h"
#include "adapters/common/terminology.h"
#include "gateway/gw.h"
#include "tests/unit/json_path.h"

#define TERMINOLOGY_DIR GW_SOURCE_DIR "/profiles/terminology"
#define CATEGORIES_FILE GW_SOURCE_DIR "/profiles/categories.json"

/* ---- scratch files ---- */

static char scratch[64];

/* A fresh empty directory for one case. */
static const char *
scratch_dir(void)
{
	snprintf(scratch, sizeof(scratch), "/tmp/fhirgw-term-XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(scratch));
	return scratch;
}

static void
write_file(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
}

static void
remove_dir(const char *dir, const char *const *names)
{
	char path[256];

	for (size_t i = 0; names[i] != NULL; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

/* Does a terminology directory holding these files load? */
static bool
terminology_loads(const char *a, const char *b)
{
	static const char *const names[] = {"a.json", "b.json", NULL};
	const char *dir = scratch_dir();
	struct gw_terminology *t;

	write_file(dir, "a.json", a);
	if (b != NULL)
		write_file(dir, "b.json", b);
	t = gw_terminology_load(dir);
	remove_dir(dir, names);
	gw_terminology_free(t);
	return t != NULL;
}

/* Does a categories file with this text load? */
static bool
categories_load(const char *text)
{
	static const char *const names[] = {"categories.json", NULL};
	const char *dir = scratch_dir();
	char path[256];
	struct gw_categories *c;

	write_file(dir, "categories.json", text);
	snprintf(path, sizeof(path), "%s/categories.json", dir);
	c = gw_categories_load(path);
	remove_dir(dir, names);
	gw_categories_free(c);
	return c != NULL;
}

/* ---- terminology: loading ---- */

#define MAP_HEAD                                                               \
	"{\"maps\": [{\"element\": \"Condition.code\", \"from\": "             \
	"[\"urn:x:a\"], \"to\": \"http://snomed.info/sct\", \"entries\": ["
#define ENTRY_F32                                                              \
	"{\"code\": \"F32\", \"target\": \"35489007\", \"display\": "          \
	"\"Depressive disorder\"}"

static void
test_terminology_real_files(void)
{
	struct gw_terminology *t = gw_terminology_load(TERMINOLOGY_DIR);

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	/* ICD-10 15 codes x 3 systems, ICPC-2 11 x 2, KSH97-P 5 x 2
	 * targets, laboratory 13 x 3 countries, allergens 3. */
	CU_ASSERT_EQUAL(gw_terminology_entries(t), 45 + 22 + 10 + 39 + 3);
	/* icd-10 WHO, NO, SE; icpc-2 WHO, NO; KSH97-P; three laboratory
	 * systems; ATC. */
	CU_ASSERT_EQUAL(gw_terminology_sources(t), 10);
	gw_terminology_free(t);
}

static void
test_terminology_valid_minimal(void)
{
	CU_ASSERT_TRUE(terminology_loads(MAP_HEAD ENTRY_F32 "]}]}", NULL));
	/* The same code to two target systems is two translations. */
	CU_ASSERT_TRUE(terminology_loads(MAP_HEAD ENTRY_F32 "]}]}",
	    "{\"maps\": [{\"element\": \"Condition.code\", \"from\": "
	    "[\"urn:x:a\"], \"to\": \"http://hl7.org/fhir/sid/icd-10\", "
	    "\"entries\": [{\"code\": \"F32\", \"target\": \"F32\", "
	    "\"display\": \"Depressive episode\"}]}]}"));
	/* The same code for another element is another map. */
	CU_ASSERT_TRUE(terminology_loads(MAP_HEAD ENTRY_F32 "]}]}",
	    "{\"maps\": [{\"element\": \"AllergyIntolerance.code\", "
	    "\"from\": [\"urn:x:a\"], \"to\": \"http://snomed.info/sct\", "
	    "\"entries\": [" ENTRY_F32 "]}]}"));
}

static void
test_terminology_malformed(void)
{
	CU_ASSERT_FALSE(terminology_loads("{\"maps\": [", NULL));
	CU_ASSERT_FALSE(terminology_loads("[]", NULL));
	CU_ASSERT_FALSE(terminology_loads("{\"maps\": []}", NULL));
	CU_ASSERT_FALSE(
	    terminology_loads(MAP_HEAD ENTRY_F32 "]}], \"version\": 2}", NULL));
	/* An unknown element, member, or a missing display. */
	CU_ASSERT_FALSE(terminology_loads(
	    "{\"maps\": [{\"element\": \"Condition.cod\", \"from\": "
	    "[\"urn:x:a\"], \"to\": \"urn:x:b\", \"entries\": [" ENTRY_F32
	    "]}]}",
	    NULL));
	CU_ASSERT_FALSE(terminology_loads(MAP_HEAD
	    "{\"code\": \"F32\", \"target\": \"35489007\", \"display\": "
	    "\"x\", \"comment\": \"y\"}]}]}",
	    NULL));
	CU_ASSERT_FALSE(terminology_loads(MAP_HEAD
	    "{\"code\": \"F32\", \"target\": \"35489007\"}]}]}",
	    NULL));
	CU_ASSERT_FALSE(terminology_loads(
	    "{\"maps\": [{\"element\": \"Condition.code\", \"from\": "
	    "\"urn:x:a\", \"to\": \"urn:x:b\", \"entries\": []}]}",
	    NULL));
	/* A source system becomes a metric label: no quotes. */
	CU_ASSERT_FALSE(terminology_loads(
	    "{\"maps\": [{\"element\": \"Condition.code\", \"from\": "
	    "[\"urn:x:\\\"a\"], \"to\": \"urn:x:b\", \"entries\": [" ENTRY_F32
	    "]}]}",
	    NULL));
	CU_ASSERT_PTR_NULL(gw_terminology_load("/nonexistent/terminology"));
}

static void
test_terminology_duplicates(void)
{
	/* In one map, across maps of one file, across files. */
	CU_ASSERT_FALSE(
	    terminology_loads(MAP_HEAD ENTRY_F32 "," ENTRY_F32 "]}]}", NULL));
	CU_ASSERT_FALSE(terminology_loads(MAP_HEAD ENTRY_F32
	    "]}, {\"element\": \"Condition.code\", \"from\": [\"urn:x:a\"], "
	    "\"to\": \"http://snomed.info/sct\", \"entries\": [{\"code\": "
	    "\"F32\", \"target\": \"74732009\", \"display\": \"Mental "
	    "disorder\"}]}]}",
	    NULL));
	CU_ASSERT_FALSE(terminology_loads(
	    MAP_HEAD ENTRY_F32 "]}]}", MAP_HEAD ENTRY_F32 "]}]}"));
}

/* ---- terminology: look-ups ---- */

static void
test_terminology_lookup(void)
{
	const struct gw_terminology *t = gw_terminology_installed();
	const struct gw_term_target *tg;
	int src;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(gw_terminology_lookup(t, GW_TERM_CONDITION,
	                    GW_SYSTEM_ICD10_WHO, "F32.9", &tg, &src),
	    1);
	CU_ASSERT_STRING_EQUAL(tg[0].system, GW_SYSTEM_SNOMED);
	CU_ASSERT_STRING_EQUAL(tg[0].code, "35489007");
	CU_ASSERT_STRING_EQUAL(tg[0].display, "Depressive disorder");
	/* Norway's Volven edition shares the WHO codes. */
	CU_ASSERT_EQUAL(gw_terminology_lookup(t, GW_TERM_CONDITION,
	                    GW_SYSTEM_ICD10_NO, "I48.9", &tg, NULL),
	    1);
	CU_ASSERT_STRING_EQUAL(tg[0].code, "49436004");
	/* KSH97-P: the ICD-10 category it groups and SNOMED CT. */
	CU_ASSERT_EQUAL(gw_terminology_lookup(t, GW_TERM_CONDITION,
	                    GW_SYSTEM_KSH97P, "F32-P", &tg, NULL),
	    2);
	CU_ASSERT_STRING_EQUAL(tg[0].system, GW_SYSTEM_ICD10_WHO);
	CU_ASSERT_STRING_EQUAL(tg[0].code, "F32");
	CU_ASSERT_STRING_EQUAL(tg[1].system, GW_SYSTEM_SNOMED);
	CU_ASSERT_EQUAL(gw_terminology_lookup(t, GW_TERM_CONDITION,
	                    GW_SYSTEM_ICPC2_NO, "P76", &tg, NULL),
	    1);
	CU_ASSERT_EQUAL(gw_terminology_lookup(t, GW_TERM_OBSERVATION,
	                    "urn:oid:1.2.246.537.6.3.2006", "3222", &tg, NULL),
	    1);
	CU_ASSERT_STRING_EQUAL(tg[0].system, GW_SYSTEM_LOINC);
	CU_ASSERT_STRING_EQUAL(tg[0].code, "3016-3");
	CU_ASSERT_EQUAL(gw_terminology_lookup(t, GW_TERM_ALLERGY, GW_SYSTEM_ATC,
	                    "J01CA04", &tg, NULL),
	    1);
	CU_ASSERT_STRING_EQUAL(tg[0].code, "372687004");

	/* A mapped system without this code: 0 and a source to count. */
	CU_ASSERT_EQUAL(gw_terminology_lookup(t, GW_TERM_CONDITION,
	                    GW_SYSTEM_ICD10_WHO, "S52.5", &tg, &src),
	    0);
	CU_ASSERT(src >= 0);
	CU_ASSERT_PTR_NULL(tg);
	/* Codes are exact: no case folding, no prefix match. */
	CU_ASSERT_EQUAL(gw_terminology_lookup(t, GW_TERM_CONDITION,
	                    GW_SYSTEM_ICD10_WHO, "f32.9", &tg, NULL),
	    0);
	CU_ASSERT_EQUAL(gw_terminology_lookup(t, GW_TERM_CONDITION,
	                    GW_SYSTEM_ICD10_WHO, "F32", &tg, NULL),
	    0);
	/* ATC has a map for allergies only: a medicine is not counted. */
	CU_ASSERT_EQUAL(gw_terminology_lookup(t, GW_TERM_CONDITION,
	                    GW_SYSTEM_ATC, "J01CA04", &tg, &src),
	    -1);
	CU_ASSERT_EQUAL(src, -1);
	CU_ASSERT_EQUAL(gw_terminology_lookup(t, GW_TERM_IMMUNIZATION,
	                    GW_SYSTEM_ATC, "J07BX03", &tg, NULL),
	    -1);
	CU_ASSERT_EQUAL(gw_terminology_lookup(t, GW_TERM_CONDITION,
	                    "http://example.org/x", "F32.9", &tg, NULL),
	    -1);
	CU_ASSERT_EQUAL(gw_terminology_lookup(
	                    t, GW_TERM_CONDITION, NULL, "F32.9", &tg, NULL),
	    -1);
}

static void
test_terminology_metrics(void)
{
	struct gw_terminology *t = gw_terminology_load(TERMINOLOGY_DIR);
	const struct gw_term_target *tg;
	char text[4096], small[8];
	size_t need;
	int src;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(gw_terminology_lookup(t, GW_TERM_CONDITION,
	                    GW_SYSTEM_ICPC2_WHO, "Z99", &tg, &src),
	    0);
	gw_terminology_count_unmapped(t, src);
	gw_terminology_count_unmapped(t, src);
	gw_terminology_count_unmapped(t, -1); /* ignored */
	CU_ASSERT_EQUAL(gw_terminology_unmapped(t, GW_SYSTEM_ICPC2_WHO), 2);
	CU_ASSERT_EQUAL(gw_terminology_unmapped(t, GW_SYSTEM_ICD10_WHO), 0);
	need = gw_terminology_metrics(t, text, sizeof(text));
	CU_ASSERT(need > 0 && need < sizeof(text));
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(text, "# TYPE fhirgw_terminology_unmapped_total counter\n"));
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(text, "fhirgw_terminology_unmapped_total{system=\""
	                 "http://hl7.org/fhir/sid/icpc-2\"} 2\n"));
	/* Too small a buffer: truncated, terminated, the need told. */
	CU_ASSERT_EQUAL(gw_terminology_metrics(t, small, sizeof(small)), need);
	CU_ASSERT_EQUAL(strlen(small), sizeof(small) - 1);
	gw_terminology_free(t);
}

/* ---- the builders: original and translated codings ---- */

static const struct gw_patient patient = {
    .logical_id = "fi-aaaa",
    .registry_key = "7",
};
static const struct gw_map_ctx ctx = {.patient = &patient};

/* A builder's resource as a tree (NULL when refused), and the same call
 * written as text, which must be the tree printed. */
#define BUILT(call, rc_var, tree_var)                                          \
	do {                                                                   \
		struct gw_jbuf text_ = {0}, printed_ = {0};                    \
		struct gw_jout o = gw_jout_text(&text_);                       \
		struct gw_mapped m = {.category = NULL};                       \
		int text_rc_ = (call);                                         \
		o = gw_jout_tree_builder();                                    \
		rc_var = (call);                                               \
		tree_var = rc_var == GW_OK ? gw_jout_take_tree(&o) : NULL;     \
		CU_ASSERT_EQUAL(text_rc_, rc_var);                             \
		if (tree_var != NULL) {                                        \
			gw_json_write(&printed_, tree_var);                    \
			CU_ASSERT_STRING_EQUAL(text_.p, printed_.p);           \
		}                                                              \
		last_category = m.category;                                    \
		free(text_.p);                                                 \
		free(printed_.p);                                              \
	} while (0)

static const char *last_category;

static cJSON *
condition(const struct gw_map_condition *c, const char **category)
{
	cJSON *r;
	int rc;

	BUILT(gw_map_condition(c, &ctx, &o, &m), rc, r);
	if (category != NULL)
		*category = rc == GW_OK ? last_category : NULL;
	return r;
}

static cJSON *
observation(const struct gw_map_observation *mo)
{
	cJSON *r;
	int rc;

	BUILT(gw_map_observation(mo, &ctx, &o, &m), rc, r);
	return r;
}

static cJSON *
allergy(const struct gw_map_allergy *a)
{
	cJSON *r;
	int rc;

	BUILT(gw_map_allergy(a, &ctx, &o, &m), rc, r);
	return r;
}

static void
test_translated_condition(void)
{
	struct gw_map_condition c = {
	    .row = {.prefix = "fi", .id = 1, .owner = 7},
	    .clinical_status = "active",
	    .code = {{GW_SYSTEM_ICD10_WHO, "F32.9",
	        "Masennustila, määrittämätön"}},
	};
	const char *category = NULL;
	cJSON *r = condition(&c, &category);

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	ASSERT_STR(r, "code.coding.0.system", GW_SYSTEM_ICD10_WHO);
	ASSERT_STR(r, "code.coding.0.display", "Masennustila, määrittämätön");
	ASSERT_STR(r, "code.coding.1.system", GW_SYSTEM_SNOMED);
	ASSERT_STR(r, "code.coding.1.code", "35489007");
	ASSERT_STR(r, "code.coding.1.display", "Depressive disorder");
	/* The category comes from the original code, as before. */
	CU_ASSERT_STRING_EQUAL(category, "mental-health");
	cJSON_Delete(r);

	/* Norway: two national codings reach the same SNOMED CT concept
	 * once. */
	c.code[0] = (struct gw_map_coding){GW_SYSTEM_ICPC2_WHO, "P76", "Dep"};
	c.code[1] = (struct gw_map_coding){GW_SYSTEM_ICPC2_NO, "P76", "Dep"};
	r = condition(&c, &category);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItem(
	                    cJSON_GetObjectItem(r, "code"), "coding")),
	    3);
	ASSERT_STR(r, "code.coding.2.code", "35489007");
	cJSON_Delete(r);
}

static void
test_unmapped_condition_counted(void)
{
	const struct gw_terminology *t = gw_terminology_installed();
	unsigned long before = gw_terminology_unmapped(t, GW_SYSTEM_ICD10_NO);
	unsigned long who = gw_terminology_unmapped(t, GW_SYSTEM_ICD10_WHO);
	struct gw_map_condition c = {
	    .row = {.prefix = "fi", .id = 1, .owner = 7},
	    .clinical_status = "active",
	    .code = {{GW_SYSTEM_ICD10_NO, "S52.5", "Brudd"},
	        {GW_SYSTEM_ICD10_WHO, "S52.5", "Brudd"}},
	};
	struct gw_jout o = gw_jout_tree_builder();
	struct gw_mapped m;
	cJSON *r;

	/* Built once (condition() builds twice, as text and as a tree). */
	CU_ASSERT_EQUAL_FATAL(gw_map_condition(&c, &ctx, &o, &m), GW_OK);
	r = gw_jout_take_tree(&o);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItem(
	                    cJSON_GetObjectItem(r, "code"), "coding")),
	    2);
	/* Once per concept, under its first mapped system. */
	CU_ASSERT_EQUAL(
	    gw_terminology_unmapped(t, GW_SYSTEM_ICD10_NO), before + 1);
	CU_ASSERT_EQUAL(gw_terminology_unmapped(t, GW_SYSTEM_ICD10_WHO), who);
	cJSON_Delete(r);
}

static void
test_translated_observation(void)
{
	struct gw_map_observation o = {
	    .row = {.prefix = "fi", .id = 2, .owner = 7},
	    .local = {"urn:oid:1.2.246.537.6.3.2006", "3222",
	        "P-TSH Tyreotropiini"},
	    .effective = "2024-03-01",
	    .value = "2.1",
	    .unit = "m[IU]/L",
	};
	cJSON *r = observation(&o);

	/* No LOINC in the registry: the map gives it. */
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	ASSERT_STR(r, "code.coding.0.code", "3222");
	ASSERT_STR(r, "code.coding.0.display", "P-TSH Tyreotropiini");
	ASSERT_STR(r, "code.coding.1.system", GW_SYSTEM_LOINC);
	ASSERT_STR(r, "code.coding.1.code", "3016-3");
	ASSERT_STR(r, "code.coding.1.display",
	    "Thyrotropin [Units/volume] in Serum or Plasma");
	cJSON_Delete(r);

	/* The registry's LOINC is kept, gets the display, not repeated. */
	o.local.code = "2143";
	o.loinc = "14682-9";
	r = observation(&o);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItem(
	                    cJSON_GetObjectItem(r, "code"), "coding")),
	    2);
	ASSERT_STR(r, "code.coding.0.code", "14682-9");
	ASSERT_STR(r, "code.coding.0.display",
	    "Creatinine [Moles/volume] in Serum or Plasma");
	cJSON_Delete(r);

	/* A registry LOINC that differs from the map wins as written. */
	o.loinc = "2160-0";
	r = observation(&o);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItem(
	                    cJSON_GetObjectItem(r, "code"), "coding")),
	    2);
	ASSERT_STR(r, "code.coding.0.code", "2160-0");
	cJSON_Delete(r);
}

static void
test_translated_allergy(void)
{
	struct gw_map_allergy a = {
	    .row = {.prefix = "fi", .id = 3, .owner = 7},
	    .code = "J01CA04",
	    .agent = "amoksisilliini",
	};
	cJSON *r = allergy(&a);

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	ASSERT_STR(r, "code.coding.0.system", GW_SYSTEM_ATC);
	ASSERT_STR(r, "code.coding.0.display", "amoksisilliini");
	ASSERT_STR(r, "code.coding.1.system", GW_SYSTEM_SNOMED);
	ASSERT_STR(r, "code.coding.1.code", "372687004");
	ASSERT_STR(r, "code.coding.1.display", "Amoxicillin");
	cJSON_Delete(r);
}

/* ---- categories ---- */

#define CAT_HEAD                                                               \
	"{\"classifications\": [{\"name\": \"ICD-10\", \"systems\": "          \
	"[\"urn:x:icd\"], \"ranges\": ["

static void
test_categories_real_file(void)
{
	struct gw_categories *c = gw_categories_load(CATEGORIES_FILE);

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	/* The semantics of the former C tables, from the file. */
	CU_ASSERT_STRING_EQUAL(
	    gw_categories_of(c, GW_SYSTEM_ICD10_WHO, "F32.9"), "mental-health");
	CU_ASSERT_STRING_EQUAL(
	    gw_categories_of(c, GW_SYSTEM_ICD10_WHO, "f10.2"),
	    "substance-abuse");
	/* Dual codes: the sensitive part decides, wherever it is. */
	CU_ASSERT_STRING_EQUAL(
	    gw_categories_of(c, GW_SYSTEM_ICD10_WHO, "G63.2*F10.2"),
	    "substance-abuse");
	CU_ASSERT_STRING_EQUAL(
	    gw_categories_of(c, GW_SYSTEM_KSH97P, "B20-P"), "sexual-health");
	/* First match wins: P15 is substance abuse, not chapter P. */
	CU_ASSERT_STRING_EQUAL(
	    gw_categories_of(c, GW_SYSTEM_ICPC2_NO, "P15"), "substance-abuse");
	CU_ASSERT_STRING_EQUAL(
	    gw_categories_of(c, GW_SYSTEM_ICPC2_WHO, "P76"), "mental-health");
	/* The system decides the classification. */
	CU_ASSERT_PTR_NULL(gw_categories_of(c, GW_SYSTEM_ICD10_SE, "P76"));
	CU_ASSERT_PTR_NULL(gw_categories_of(c, GW_SYSTEM_ICPC2_NO, "F32"));
	CU_ASSERT_PTR_NULL(gw_categories_of(c, GW_SYSTEM_SNOMED, "F32"));
	CU_ASSERT_PTR_NULL(gw_categories_of(c, NULL, "F32"));
	CU_ASSERT_PTR_NULL(gw_categories_of(c, GW_SYSTEM_ICD10_WHO, NULL));
	/* The installed table is the same file. */
	CU_ASSERT_STRING_EQUAL(
	    gw_category_of_coding(GW_SYSTEM_ICD10_NO, "A56.0"),
	    "sexual-health");
	gw_categories_free(c);
}

static void
test_categories_refused(void)
{
	CU_ASSERT_TRUE(categories_load(
	    CAT_HEAD "{\"first\": \"F00\", \"last\": \"F99\", \"category\": "
	             "\"mental-health\"}]}]}"));
	CU_ASSERT_PTR_NULL(gw_categories_load("/nonexistent/categories.json"));
	CU_ASSERT_FALSE(categories_load("{\"classifications\": ["));
	CU_ASSERT_FALSE(categories_load("{\"classifications\": []}"));
	CU_ASSERT_FALSE(categories_load(CAT_HEAD "]}]}"));
	/* Range ends: letter + two digits, upper case, in order. */
	CU_ASSERT_FALSE(categories_load(
	    CAT_HEAD "{\"first\": \"F0\", \"last\": \"F99\", \"category\": "
	             "\"mental-health\"}]}]}"));
	CU_ASSERT_FALSE(categories_load(
	    CAT_HEAD "{\"first\": \"f00\", \"last\": \"F99\", \"category\": "
	             "\"mental-health\"}]}]}"));
	CU_ASSERT_FALSE(categories_load(
	    CAT_HEAD "{\"first\": \"F99\", \"last\": \"F00\", \"category\": "
	             "\"mental-health\"}]}]}"));
	/* A category consent does not know, or a typo in a member. */
	CU_ASSERT_FALSE(categories_load(
	    CAT_HEAD "{\"first\": \"F00\", \"last\": \"F99\", \"category\": "
	             "\"mental\"}]}]}"));
	CU_ASSERT_FALSE(categories_load(
	    CAT_HEAD "{\"first\": \"F00\", \"lats\": \"F99\", \"category\": "
	             "\"mental-health\"}]}]}"));
	/* Duplicates: a range, a system, a classification. */
	CU_ASSERT_FALSE(categories_load(CAT_HEAD
	    "{\"first\": \"F00\", \"last\": \"F99\", \"category\": "
	    "\"mental-health\"}, {\"first\": \"F00\", \"last\": \"F99\", "
	    "\"category\": \"mental-health\"}]}]}"));
	CU_ASSERT_FALSE(categories_load(CAT_HEAD
	    "{\"first\": \"F00\", \"last\": \"F99\", \"category\": "
	    "\"mental-health\"}]}, {\"name\": \"ICPC-2\", \"systems\": "
	    "[\"urn:x:icd\"], \"ranges\": [{\"first\": \"P00\", \"last\": "
	    "\"P99\", \"category\": \"mental-health\"}]}]}"));
	CU_ASSERT_FALSE(categories_load(CAT_HEAD
	    "{\"first\": \"F00\", \"last\": \"F99\", \"category\": "
	    "\"mental-health\"}]}, {\"name\": \"ICD-10\", \"systems\": "
	    "[\"urn:x:other\"], \"ranges\": [{\"first\": \"P00\", \"last\": "
	    "\"P99\", \"category\": \"mental-health\"}]}]}"));
}

CU_TestInfo test_terminology_cases[] = {
    {"real terminology files load", test_terminology_real_files},
    {"minimal valid maps", test_terminology_valid_minimal},
    {"malformed maps refused", test_terminology_malformed},
    {"duplicate entries refused", test_terminology_duplicates},
    {"look-ups", test_terminology_lookup},
    {"unmapped counters and metrics", test_terminology_metrics},
    {"Condition keeps original beside SNOMED CT", test_translated_condition},
    {"unmapped Condition counted once", test_unmapped_condition_counted},
    {"Observation gets LOINC", test_translated_observation},
    {"AllergyIntolerance gets SNOMED CT", test_translated_allergy},
    {"real categories file", test_categories_real_file},
    {"bad categories files refused", test_categories_refused},
    CU_TEST_INFO_NULL,
};
