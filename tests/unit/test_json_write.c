/*
 * test_json_write.c: gw_json_write against cJSON's own printer, on the
 * public fixtures, on numbers at the edges of cJSON's rules and on strings
 * with every byte that needs escaping; and on random trees.  The text
 * writer of json_out.h against gw_json_write, on the same trees replayed
 * member by member.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <cjson/cJSON.h>

#include "gateway/gw.h"
#include "gateway/json_out.h"
#include "gateway/json_write.h"

/* The two printers agree on item; reports the first difference. */
static void
assert_same_as_cjson(const cJSON *item, const char *what)
{
	char *expected = cJSON_PrintUnformatted(item);
	struct gw_jbuf b = { 0 };

	CU_ASSERT_PTR_NOT_NULL_FATAL(expected);
	gw_json_write(&b, item);
	if (strcmp(expected, b.p) != 0 || b.len != strlen(expected)) {
		size_t i = 0;

		while (expected[i] != '\0' && expected[i] == b.p[i])
			i++;
		fprintf(stderr, "\n%s: differs at byte %zu: cJSON %.40s | ours "
		    "%.40s\n", what, i, expected + i, b.p + i);
		CU_FAIL("gw_json_write differs from cJSON_PrintUnformatted");
	}
	free(b.p);
	cJSON_free(expected);
}

static void
test_fixtures(void)
{
	static const char *const names[] = {
		"fi-example-patient.json", "fi-synthetic-patient.json",
		"ips-bundle-minimal.json", "ips-bundle-no-info.json",
		"eps-bundle-null-entry.json",
		"fi-medicationrequestesim1-bad-types.json",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char path[512], *text;
		cJSON *doc;

		snprintf(path, sizeof(path), "%s/tests/fixtures/%s",
		    GW_SOURCE_DIR, names[i]);
		text = gw_read_file(path, 1 << 20, NULL);
		CU_ASSERT_PTR_NOT_NULL_FATAL(text);
		doc = cJSON_Parse(text);
		CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
		assert_same_as_cjson(doc, names[i]);
		cJSON_Delete(doc);
		free(text);
	}
}

static void
test_numbers(void)
{
	static const double values[] = {
		0, -0.0, 1, -1, 0.1, 1.0 / 3, 2.5, 1e-7, 123456789012345678.0,
		2147483647.0, 2147483648.0, -2147483648.0, -2147483649.0,
		1e300, -1e-300, DBL_MAX, DBL_MIN, 5e-324, 36.6, 7.25, 0.3,
		4.35, 1234.5678, 99.99999999999999, 999999999999999.0,
		1e15, -999999999999999.0, 1e16, 123456.0, -42.0, 1e21,
	};
	cJSON *arr = cJSON_CreateArray();

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
		cJSON_AddItemToArray(arr, cJSON_CreateNumber(values[i]));
	cJSON_AddItemToArray(arr, cJSON_CreateNumber(NAN));
	cJSON_AddItemToArray(arr, cJSON_CreateNumber(INFINITY));
	cJSON_AddItemToArray(arr, cJSON_CreateNumber(-INFINITY));
	assert_same_as_cjson(arr, "numbers");
	cJSON_Delete(arr);
}

/* Decimals of every short form, as a registry writes measurements, and
 * random doubles: the shortcuts for whole numbers and short decimals
 * write what cJSON's printf and scanf write. */
static void
test_random_numbers(void)
{
	static const double scale[] = { 1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7,
		1e8, 1e9, 1e10, 1e11 };
	unsigned seed = 36;
	cJSON *arr = cJSON_CreateArray();

	for (int i = 0; i < 20000; i++) {
		unsigned long long n = ((unsigned long long)rand_r(&seed) << 31 |
		    (unsigned long long)rand_r(&seed)) % 1000000000000000ULL;
		double d;

		switch (i % 4) {
		case 0: /* a few digits: 36.6, 0.25, 1234.5 */
			d = (double)(n % 100000) / scale[rand_r(&seed) % 7];
			break;
		case 1: /* up to 15 digits, up to 11 decimals */
			d = (double)(n >> (rand_r(&seed) % 40)) /
			    scale[rand_r(&seed) % 12];
			break;
		case 2: /* any bits at all */
			memcpy(&d, &n, sizeof(d));
			if (isnan(d) || isinf(d))
				d = 0.5;
			break;
		default: /* around the edges of the shortcut */
			d = (double)(n % 100) * 1e-6 + 1e-4 *
			    (rand_r(&seed) % 3);
			break;
		}
		cJSON_AddItemToArray(arr, cJSON_CreateNumber(
		    rand_r(&seed) & 1 ? d : -d));
	}
	assert_same_as_cjson(arr, "random numbers");
	cJSON_Delete(arr);
}

static void
test_strings(void)
{
	char every[256];
	cJSON *obj = cJSON_CreateObject();

	for (int i = 1; i < 256; i++)
		every[i - 1] = (char)i;
	every[255] = '\0';
	cJSON_AddStringToObject(obj, "every byte", every);
	cJSON_AddStringToObject(obj, "", "");
	cJSON_AddStringToObject(obj, "k\"e\\y\n", "Sámi: á č đ ŋ š ŧ ž");
	cJSON_AddStringToObject(obj, "quote at end\"", "\\");
	cJSON_AddItemToObject(obj, "raw", cJSON_CreateRaw("{\"a\":1}"));
	cJSON_AddItemToObject(obj, "empty object", cJSON_CreateObject());
	cJSON_AddItemToObject(obj, "empty array", cJSON_CreateArray());
	cJSON_AddItemToObject(obj, "t", cJSON_CreateTrue());
	cJSON_AddItemToObject(obj, "f", cJSON_CreateFalse());
	cJSON_AddItemToObject(obj, "n", cJSON_CreateNull());
	assert_same_as_cjson(obj, "strings");
	cJSON_Delete(obj);
}

/* The writer scans 16-byte aligned blocks: every byte value at every
 * place of strings of every length up to 40, each string starting at
 * another of the 16 alignments, so that the byte lands in every lane, in
 * the block before or after the one holding the NUL, and at both ends.
 * The strings are read in place (a reference, not cJSON's copy), and
 * quotes and control bytes follow the NUL: a scan that ran past the end
 * would print them. */
static void
test_escape_positions(void)
{
	_Alignas(16) char buf[16 + 41 + 32];

	for (int c = 1; c < 256; c++) {
		for (size_t len = 1; len <= 40; len++) {
			for (size_t at = 0; at < len; at++) {
				char *text = buf + (len * 7 + at) % 16;
				cJSON *str;

				memset(buf, '"', sizeof(buf));
				memset(text, 'a', len);
				text[len] = '\0';
				text[len + 1] = '\x01';
				text[at] = (char)c;
				str = cJSON_CreateStringReference(text);
				assert_same_as_cjson(str, "escape position");
				cJSON_Delete(str);
			}
		}
	}
}

/* Random trees from a fixed seed: nesting, every item type, strings
 * with escapes and multi-byte characters. */
static cJSON *
random_item(unsigned *seed, int depth)
{
	static const char *const words[] = {"", "a", "Åland", "\"q\"", "\\",
	    "tab\there", "line\nbreak", "\x01\x1f", "ŋ", "60591-5"};
	int kind = (int)(rand_r(seed) % (depth > 4 ? 5 : 7));
	cJSON *item;

	switch (kind) {
	case 0: return cJSON_CreateNull();
	case 1: return cJSON_CreateBool(rand_r(seed) & 1);
	case 2: return cJSON_CreateNumber((double)(int)rand_r(seed) /
	    (double)(1 + rand_r(seed) % 1000));
	case 3: return cJSON_CreateNumber((double)(rand_r(seed) % 100000));
	case 4: return cJSON_CreateString(words[rand_r(seed) % 10]);
	case 5:
		item = cJSON_CreateArray();
		for (int i = (int)(rand_r(seed) % 5); i > 0; i--)
			cJSON_AddItemToArray(item, random_item(seed, depth + 1));
		return item;
	default:
		item = cJSON_CreateObject();
		for (int i = (int)(rand_r(seed) % 5); i > 0; i--)
			cJSON_AddItemToObject(item, words[rand_r(seed) % 10],
			    random_item(seed, depth + 1));
		return item;
	}
}

static void
test_random_trees(void)
{
	unsigned seed = 20261123;

	for (int i = 0; i < 2000; i++) {
		cJSON *item = random_item(&seed, 0);

		assert_same_as_cjson(item, "random tree");
		cJSON_Delete(item);
	}
}

/* Appending continues where the buffer ends. */
static void
test_appends(void)
{
	struct gw_jbuf b = { 0 };
	cJSON *one = cJSON_CreateNumber(1);

	gw_json_write(&b, one);
	gw_json_write(&b, one);
	CU_ASSERT_STRING_EQUAL(b.p, "11");
	CU_ASSERT_EQUAL(b.len, 2);
	free(b.p);
	cJSON_Delete(one);
}

/*
 * Write item with a writer of json_out.h, as code that knows its shape
 * would: containers opened and closed, each key as its quoted text,
 * strings as values; the rest (numbers, booleans, null) and, where *seed
 * says so, whole subtrees handed over as text written before.
 */
static void
replay(struct gw_jout *o, const cJSON *item, unsigned *seed)
{
	const cJSON *child;

	if (rand_r(seed) % 4 == 0 || !(cJSON_IsObject(item) ||
	    cJSON_IsArray(item) || cJSON_IsString(item))) {
		struct gw_jbuf text = { 0 };

		gw_json_write(&text, item);
		gw_jout_raw(o, text.p, text.len);
		free(text.p);
		return;
	}
	if (cJSON_IsString(item)) {
		gw_jout_string(o, item->valuestring);
		return;
	}
	if (cJSON_IsArray(item)) {
		gw_jout_array(o);
		cJSON_ArrayForEach(child, item)
			replay(o, child, seed);
		gw_jout_end_array(o);
		return;
	}
	gw_jout_object(o);
	cJSON_ArrayForEach(child, item) {
		struct gw_jbuf key = { 0 };

		gw_json_write_string(&key, child->string);
		gw_jbuf_reserve(&key, 1);
		key.p[key.len++] = ':';
		gw_jout_key(o, key.p, key.len, child->string);
		free(key.p);
		replay(o, child, seed);
	}
	gw_jout_end_object(o);
}

/* Both writers of json_out.h agree with gw_json_write, byte for byte, on
 * random trees replayed call by call: the text writer's text, and the
 * tree writer's tree printed. */
static void
test_text_writer(void)
{
	unsigned seed = 20261125, shape = 7;

	for (int i = 0; i < 2000; i++) {
		cJSON *item = random_item(&seed, 0), *built;
		struct gw_jbuf want = { 0 }, text = { 0 }, again = { 0 };
		struct gw_jout o = gw_jout_text(&text);
		unsigned same = shape;

		gw_json_write(&want, item);
		replay(&o, item, &shape);
		CU_ASSERT_EQUAL(text.len, want.len);
		CU_ASSERT_STRING_EQUAL(text.p, want.p);
		o = gw_jout_tree_builder();
		replay(&o, item, &same);
		built = gw_jout_take_tree(&o);
		CU_ASSERT_PTR_NOT_NULL_FATAL(built);
		gw_json_write(&again, built);
		CU_ASSERT_STRING_EQUAL(again.p, want.p);
		free(want.p);
		free(text.p);
		free(again.p);
		cJSON_Delete(built);
		cJSON_Delete(item);
	}
}

/* A rollback leaves the text as it was at the mark, comma owed and all. */
static void
test_text_writer_rollback(void)
{
	struct gw_jbuf b = { 0 };
	struct gw_jout o = gw_jout_text(&b);
	struct gw_jout_mark mark;

	gw_jout_array(&o);
	gw_jout_string(&o, "kept");
	mark = gw_jout_mark(&o);
	gw_jout_object(&o);
	GW_JOUT_STRING(&o, "dropped", "x");
	gw_jout_rollback(&o, mark);
	gw_jout_string(&o, "next");
	gw_jout_end_array(&o);
	CU_ASSERT_STRING_EQUAL(b.p, "[\"kept\",\"next\"]");
	free(b.p);
}

/* The literal-key members, nested, write exactly the JSON they name. */
static void
test_text_writer_members(void)
{
	struct gw_jbuf b = { 0 };
	struct gw_jout o = gw_jout_text(&b);

	gw_jout_object(&o);
	GW_JOUT_STRING(&o, "resourceType", "Bundle");
	GW_JOUT_OBJECT(&o, "identifier");
	GW_JOUT_STRING(&o, "value", "a\"b");
	gw_jout_end_object(&o);
	GW_JOUT_ARRAY(&o, "entry");
	gw_jout_object(&o);
	gw_jout_end_object(&o);
	gw_jout_number(&o, 2);
	gw_jout_array(&o);
	gw_jout_end_array(&o);
	gw_jout_end_array(&o);
	GW_JOUT_KEY(&o, "total");
	gw_jout_raw(&o, "2", 1);
	gw_jout_end_object(&o);
	CU_ASSERT_STRING_EQUAL(b.p, "{\"resourceType\":\"Bundle\","
	    "\"identifier\":{\"value\":\"a\\\"b\"},"
	    "\"entry\":[{},2,[]],\"total\":2}");
	free(b.p);
}

CU_TestInfo test_json_write_cases[] = {
	{ "fixtures", test_fixtures },
	{ "numbers", test_numbers },
	{ "random numbers", test_random_numbers },
	{ "strings", test_strings },
	{ "escape positions", test_escape_positions },
	{ "random trees", test_random_trees },
	{ "appends", test_appends },
	{ "text writer", test_text_writer },
	{ "text writer members", test_text_writer_members },
	{ "text writer rollback", test_text_writer_rollback },
	CU_TEST_INFO_NULL,
};
