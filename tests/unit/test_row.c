/*
 * test_row.c: gw_row_parse, the reader of registry rows, against the
 * grammar (what it must refuse) and against cJSON (what it accepts must
 * read the same: names, kinds, strings byte for byte, numbers as the same
 * double).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <cjson/cJSON.h>

#include "adapters/common/map_common.h"
#include "gateway/gw.h"
#include "gateway/json_scan.h"
#include "gateway/row.h"

static int
parse(struct gw_row *row, const char *json)
{
	return gw_row_parse(row, json, strlen(json));
}

/* row and cJSON's reading of json agree field by field. */
static void
assert_same_as_cjson(const struct gw_row *row, const char *json)
{
	cJSON *doc = cJSON_Parse(json), *v;
	int i = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	CU_ASSERT_TRUE(cJSON_IsObject(doc));
	cJSON_ArrayForEach(v, doc)
	{
		const struct gw_row_field *f;

		CU_ASSERT_FATAL(i < row->n);
		f = &row->field[i++];
		CU_ASSERT_STRING_EQUAL(f->name, v->string);
		switch (f->kind) {
		case GW_ROW_STRING:
			CU_ASSERT_TRUE(cJSON_IsString(v));
			if (cJSON_IsString(v))
				CU_ASSERT_STRING_EQUAL(f->text, v->valuestring);
			break;
		case GW_ROW_NUMBER:
			CU_ASSERT_TRUE(cJSON_IsNumber(v));
			CU_ASSERT_EQUAL(strtod(f->text, NULL), v->valuedouble);
			break;
		case GW_ROW_TRUE: CU_ASSERT_TRUE(cJSON_IsTrue(v)); break;
		case GW_ROW_FALSE: CU_ASSERT_TRUE(cJSON_IsFalse(v)); break;
		case GW_ROW_NULL: CU_ASSERT_TRUE(cJSON_IsNull(v)); break;
		}
	}
	CU_ASSERT_EQUAL(i, row->n);
	cJSON_Delete(doc);
}

/* A row as PostgreSQL 15's row_to_json writes one of the Finnish
 * registry (timestamps with offsets, numerics, nulls, UTF-8). */
static void
test_registry_row(void)
{
	static const char json[] =
	    "{\"id\":12,\"henkilo_id\":3,\"icd10\":\"F32.9\","
	    "\"nimi_fi\":\"Masennustila, määrittämätön\",\"tila\":\"aktiivinen\","
	    "\"todettu\":\"2021-03-04\",\"kirjattu\":null,"
	    "\"muutettu\":\"2026-11-24T10:00:00.123456+02:00\","
	    "\"tulos\":5.25,\"viitevali_ala\":-1e-3,\"salainen\":false}";
	struct gw_row row = { 0 };
	const struct gw_row_field *f;

	CU_ASSERT_EQUAL_FATAL(parse(&row, json), GW_OK);
	CU_ASSERT_EQUAL(row.n, 11);
	assert_same_as_cjson(&row, json);
	f = gw_row_get(&row, "nimi_fi");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(f->kind, GW_ROW_STRING);
	CU_ASSERT_STRING_EQUAL(f->text, "Masennustila, määrittämätön");
	f = gw_row_get(&row, "kirjattu");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(f->kind, GW_ROW_NULL);
	CU_ASSERT_STRING_EQUAL(f->text, "");
	f = gw_row_get(&row, "tulos");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_STRING_EQUAL(f->text, "5.25");
	CU_ASSERT_PTR_NULL(gw_row_get(&row, "nimi"));
	CU_ASSERT_PTR_NULL(gw_row_get(&row, ""));
	gw_row_free(&row);
	CU_ASSERT_PTR_NULL(row.text);
	CU_ASSERT_EQUAL(row.n, 0);
}

/* Every escape, surrogate pairs, whitespace everywhere the grammar
 * allows it, the empty object, duplicate names (the first one wins, as
 * cJSON's lookup finds the first). */
static void
test_escapes_and_space(void)
{
	static const char *const ok[] = {
	    "{}",
	    " \t\r\n{ \n}\n ",
	    "{\"a\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}",
	    "{\"\\u00e4\\u00C4\":\"\\u20ac \\ud83d\\ude00 \\u0001\"}",
	    "{ \"a\" : 1 , \"b\" :\"x\"\t,\"c\":true }",
	    "{\"a\":1,\"a\":2}",
	};
	struct gw_row row = { 0 };

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		CU_ASSERT_EQUAL_FATAL(parse(&row, ok[i]), GW_OK);
		assert_same_as_cjson(&row, ok[i]);
	}
	CU_ASSERT_EQUAL_FATAL(parse(&row, "{\"a\":1,\"a\":2}"), GW_OK);
	CU_ASSERT_STRING_EQUAL(gw_row_get(&row, "a")->text, "1");
	CU_ASSERT_EQUAL_FATAL(parse(&row, ok[3]), GW_OK);
	CU_ASSERT_STRING_EQUAL(gw_row_get(&row, "äÄ")->text,
	    "€ \xf0\x9f\x98\x80 \x01");
	gw_row_free(&row);
}

/* Numbers: RFC 8259's grammar exactly, read back by strtod as cJSON
 * reads them. */
static void
test_numbers(void)
{
	static const char *const good[] = {"0", "-0", "7", "-12", "0.5",
	    "1.25e3", "1E+2", "2e-2", "9007199254740993", "1e400",
	    "123456789012345678901234567890"};
	static const char *const bad[] = {"01", "+1", ".5", "1.", "1e",
	    "1e+", "-", "--1", "0x10", "1.2.3", "NaN", "Infinity", "1_000"};
	struct gw_row row = { 0 };
	char json[96];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(json, sizeof(json), "{\"v\":%s}", good[i]);
		CU_ASSERT_EQUAL_FATAL(parse(&row, json), GW_OK);
		CU_ASSERT_EQUAL(row.field[0].kind, GW_ROW_NUMBER);
		CU_ASSERT_STRING_EQUAL(row.field[0].text, good[i]);
		assert_same_as_cjson(&row, json);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(json, sizeof(json), "{\"v\":%s}", bad[i]);
		if (parse(&row, json) != GW_ERR)
			fprintf(stderr, "\naccepted %s\n", json);
		CU_ASSERT_EQUAL(parse(&row, json), GW_ERR);
		CU_ASSERT_EQUAL(row.n, 0);
	}
	gw_row_free(&row);
}

/* What is not one flat object of scalars is refused whole, wherever the
 * input stops. */
static void
test_refused(void)
{
	static const char *const bad[] = {
	    "", " ", "[]", "\"a\"", "1", "null", "{", "}", "{\"a\"}",
	    "{\"a\":}", "{\"a\" 1}", "{\"a\":1,}", "{,\"a\":1}",
	    "{\"a\":1 \"b\":2}", "{a:1}", "{'a':1}", "{\"a\":{}}",
	    "{\"a\":[1]}", "{\"a\":1}x", "{\"a\":1}{}", "{\"a\":tru}",
	    "{\"a\":nul}", "{\"a\":falsey}", "{\"a\":True}",
	    "{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}", "{\"a\":\"\\u12g4\"}",
	    "{\"a\":\"\\ud800\"}", "{\"a\":\"\\ud800\\u0041\"}",
	    "{\"a\":\"\\udc00\"}", "{\"a\":\"\\u0000\"}",
	    "{\"a\":\"tab\there\"}", "{\"a\":\"line\nbreak\"}",
	    "{\"a\":\"open}", "{\"a\":\"\\", "{\"a\":1",
	};
	struct gw_row row = { 0 };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(&row, bad[i]) != GW_ERR)
			fprintf(stderr, "\naccepted %s\n", bad[i]);
		CU_ASSERT_EQUAL(parse(&row, bad[i]), GW_ERR);
		CU_ASSERT_EQUAL(row.n, 0);
	}
	/* Only len bytes are read: a prefix of a good row is refused. */
	CU_ASSERT_EQUAL(gw_row_parse(&row, "{\"a\":12}", 6), GW_ERR);
	CU_ASSERT_EQUAL(gw_row_parse(&row, "{\"a\":12}", 7), GW_ERR);
	CU_ASSERT_EQUAL(gw_row_parse(&row, "{\"a\":12}xyz", 8), GW_OK);
	/* An embedded NUL is not JSON. */
	CU_ASSERT_EQUAL(gw_row_parse(&row, "{\"a\":\"x\0y\"}", 11), GW_ERR);
	gw_row_free(&row);
}

/* One row reused for rows of every size: a smaller row after a larger
 * one, a larger after a smaller, many fields. */
static void
test_reuse(void)
{
	struct gw_row row = { 0 };
	char *big = gw_malloc(200 * 24 + 16);
	size_t n = 0;

	n += (size_t)sprintf(big + n, "{");
	for (int i = 0; i < 200; i++)
		n += (size_t)sprintf(big + n, "%s\"k%d\":\"v%d\"", i ? "," : "",
		    i, i);
	sprintf(big + n, "}");
	CU_ASSERT_EQUAL_FATAL(parse(&row, big), GW_OK);
	CU_ASSERT_EQUAL(row.n, 200);
	CU_ASSERT_STRING_EQUAL(gw_row_get(&row, "k199")->text, "v199");
	assert_same_as_cjson(&row, big);
	CU_ASSERT_EQUAL_FATAL(parse(&row, "{\"x\":\"y\"}"), GW_OK);
	CU_ASSERT_EQUAL(row.n, 1);
	CU_ASSERT_PTR_NULL(gw_row_get(&row, "k0"));
	CU_ASSERT_EQUAL_FATAL(parse(&row, big), GW_OK);
	CU_ASSERT_STRING_EQUAL(gw_row_get(&row, "k0")->text, "v0");
	free(big);
	gw_row_free(&row);
}

/* gw_map_key: row keys, positive integers exact in a double, whether
 * PostgreSQL writes them as digits (the fast path) or otherwise. */
static void
test_map_key(void)
{
	static const struct {
		const char *json;
		int rc;
		long long key;
	} cases[] = {
	    {"{\"k\":42}", GW_OK, 42},
	    {"{\"k\":1}", GW_OK, 1},
	    {"{\"k\":9007199254740992}", GW_OK, 9007199254740992LL},
	    {"{\"k\":9007199254740993}", GW_ERR, 0},
	    {"{\"k\":12345678901234567}", GW_ERR, 0},
	    {"{\"k\":0}", GW_ERR, 0},
	    {"{\"k\":-5}", GW_ERR, 0},
	    {"{\"k\":1e3}", GW_OK, 1000},
	    {"{\"k\":12.0}", GW_OK, 12},
	    {"{\"k\":12.5}", GW_ERR, 0},
	    {"{\"k\":\"42\"}", GW_ERR, 0},
	    {"{\"k\":null}", GW_ERR, 0},
	    {"{\"j\":42}", GW_ERR, 0},
	};
	struct gw_row row = { 0 };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long long key = -1;

		CU_ASSERT_EQUAL_FATAL(parse(&row, cases[i].json), GW_OK);
		CU_ASSERT_EQUAL(gw_map_key(&row, "k", &key), cases[i].rc);
		if (cases[i].rc == GW_OK)
			CU_ASSERT_EQUAL(key, cases[i].key);
	}
	gw_row_free(&row);
}

/* The bounded scan under the reader's plain runs (json_scan.h) finds what
 * a byte-by-byte scan finds: every byte value, at every place in texts of
 * up to 40 bytes at all 16 alignments, with the end before, at and after
 * it, and special bytes past the end that it must not report. */
static void
test_scan_to_an_end(void)
{
	_Alignas(16) char buf[96];
	size_t wrong = 0;

	for (int v = 0; v < 256; v++)
		for (size_t align = 0; align < 16; align++)
			for (size_t len = 0; len <= 40; len++)
				for (size_t at = 0; at <= len + 1; at++) {
					char *s = buf + align;
					const char *want = s + len;

					memset(buf, 'a', sizeof(buf));
					/* specials just past the end, and in the
					 * block before the start */
					s[len + 1] = '"';
					s[len + 2] = '\\';
					if (align > 0)
						buf[0] = '"';
					if (at < len) {
						s[at] = (char)v;
						if (v < 0x20 || v == '"' || v == '\\')
							want = s + at;
					}
					wrong += gw_json_next_special_before(s,
					    s + len) != want;
				}
	CU_ASSERT_EQUAL(wrong, 0);
}

CU_TestInfo test_row_cases[] = {
	{ "scan to an end", test_scan_to_an_end },
	{ "registry row", test_registry_row },
	{ "escapes and space", test_escapes_and_space },
	{ "numbers", test_numbers },
	{ "refused", test_refused },
	{ "reuse", test_reuse },
	{ "map keys", test_map_key },
	CU_TEST_INFO_NULL,
};
