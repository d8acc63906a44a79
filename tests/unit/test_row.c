/*
 * test_row.c: the reader of registry rows -- column lists and records as
 * PostgreSQL's record_out writes them -- against rows PostgreSQL 15 wrote,
 * against the grammar (what it must refuse), and against its own writer
 * for random values (what it reads back must be what was written).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "adapters/common/map_common.h"
#include "gateway/gw.h"
#include "gateway/json_scan.h"
#include "gateway/row.h"
#include "tests/unit/json_path.h"

static struct gw_row_columns cols;

static int
parse(struct gw_row *row, const char *list, const char *rec)
{
	CU_ASSERT_EQUAL_FATAL(gw_row_columns_parse(&cols, list), GW_OK);
	return gw_row_parse(row, &cols, rec, strlen(rec));
}

static void
assert_field(const struct gw_row *row, const char *name,
    enum gw_row_kind kind, const char *text)
{
	const struct gw_row_field *f = gw_row_get(row, name);

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(f->kind, kind);
	CU_ASSERT_STRING_EQUAL(f->text, text);
}

/* Lists of plain names split; anything a statement could not write
 * unquoted, or a name twice, is refused. */
static void
test_columns(void)
{
	static const char *const bad[] = {"", " ", ",", "a,", ",a", "a,,b",
	    "A", "1a", "a b", "a;b", "a,a", "a, b, a", "\"a\"", "a.b",
	    "a-b"};
	char many[GW_ROW_COLUMNS_MAX * 8 + 16] = "c0";

	CU_ASSERT_EQUAL_FATAL(gw_row_columns_parse(&cols,
	    "id, henkilo_id,icd10 ,  erä,_x9"), GW_OK);
	CU_ASSERT_EQUAL_FATAL(cols.n, 5);
	CU_ASSERT_STRING_EQUAL(cols.name[0], "id");
	CU_ASSERT_STRING_EQUAL(cols.name[1], "henkilo_id");
	CU_ASSERT_STRING_EQUAL(cols.name[2], "icd10");
	CU_ASSERT_STRING_EQUAL(cols.name[3], "erä");
	CU_ASSERT_STRING_EQUAL(cols.name[4], "_x9");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (gw_row_columns_parse(&cols, bad[i]) != GW_ERR)
			fprintf(stderr, "\naccepted %s\n", bad[i]);
		CU_ASSERT_EQUAL(gw_row_columns_parse(&cols, bad[i]), GW_ERR);
		CU_ASSERT_EQUAL(cols.n, 0);
	}
	for (int i = 1; i < GW_ROW_COLUMNS_MAX; i++)
		sprintf(many + strlen(many), ",c%d", i);
	CU_ASSERT_EQUAL(gw_row_columns_parse(&cols, many), GW_OK);
	CU_ASSERT_EQUAL(cols.n, GW_ROW_COLUMNS_MAX);
	strcat(many, ",one_more");
	CU_ASSERT_EQUAL(gw_row_columns_parse(&cols, many), GW_ERR);
}

/* Rows as PostgreSQL 15 wrote them (psql, DateStyle ISO): a Finnish
 * diagnosis, and one value of each kind record_out quotes. */
static void
test_registry_row(void)
{
	struct gw_row row = { 0 };

	CU_ASSERT_EQUAL_FATAL(parse(&row,
	    "id, henkilo_id, icd10, nimi_fi, tila, pysyvyys, todettu, "
	    "kirjattu, muutettu",
	    "(346,364,J06.9,\"Äkillinen ylähengitystieinfektio, "
	    "määrittämätön\",ratkaistu,tilapäinen,2025-05-01,"
	    "\"2025-05-19 05:55:52+00\",\"2026-11-24 23:27:50.095772+00\")"),
	    GW_OK);
	CU_ASSERT_EQUAL(row.n, 9);
	assert_field(&row, "id", GW_ROW_TEXT, "346");
	assert_field(&row, "nimi_fi", GW_ROW_TEXT,
	    "Äkillinen ylähengitystieinfektio, määrittämätön");
	assert_field(&row, "todettu", GW_ROW_TEXT, "2025-05-01");
	assert_field(&row, "muutettu", GW_ROW_TEXT,
	    "2026-11-24 23:27:50.095772+00");
	CU_ASSERT_PTR_NULL(gw_row_get(&row, "nimi"));
	CU_ASSERT_PTR_NULL(gw_row_get(&row, ""));

	/* select ROW(1, '', NULL, 'a"b', E'back\\slash', E'line\nbreak',
	 * '(x)', E'tab\tx', ' lead', 'plain', 'ä,ö', 5.250::numeric,
	 * 'NaN'::numeric, true)::text */
	CU_ASSERT_EQUAL_FATAL(parse(&row,
	    "a, b, c, d, e, f, g, h, i, j, k, l, m, n",
	    "(1,\"\",,\"a\"\"b\",\"back\\\\slash\",\"line\nbreak\",\"(x)\","
	    "\"tab\tx\",\" lead\",plain,\"ä,ö\",5.250,NaN,t)"), GW_OK);
	assert_field(&row, "a", GW_ROW_TEXT, "1");
	assert_field(&row, "b", GW_ROW_TEXT, "");
	assert_field(&row, "c", GW_ROW_NULL, "");
	assert_field(&row, "d", GW_ROW_TEXT, "a\"b");
	assert_field(&row, "e", GW_ROW_TEXT, "back\\slash");
	assert_field(&row, "f", GW_ROW_TEXT, "line\nbreak");
	assert_field(&row, "g", GW_ROW_TEXT, "(x)");
	assert_field(&row, "h", GW_ROW_TEXT, "tab\tx");
	assert_field(&row, "i", GW_ROW_TEXT, " lead");
	assert_field(&row, "j", GW_ROW_TEXT, "plain");
	assert_field(&row, "k", GW_ROW_TEXT, "ä,ö");
	assert_field(&row, "l", GW_ROW_TEXT, "5.250");
	assert_field(&row, "m", GW_ROW_TEXT, "NaN");
	assert_field(&row, "n", GW_ROW_TEXT, "t");

	/* All NULL: nothing between the commas. */
	CU_ASSERT_EQUAL_FATAL(parse(&row, "a, b, c", "(,,)"), GW_OK);
	CU_ASSERT_EQUAL(row.n, 3);
	assert_field(&row, "c", GW_ROW_NULL, "");
	gw_row_free(&row);
	CU_ASSERT_PTR_NULL(row.text);
	CU_ASSERT_EQUAL(row.n, 0);
}

/* What record_out would not have written, or another number of values
 * than the columns, is refused whole, wherever the input stops. */
static void
test_refused(void)
{
	static const char *const bad[] = {
	    "", "(", ")", "()", "(1)", "(1,2,3,4)", "1,2,3", "(1,2,3",
	    "(1,2,3))", "(1,2,3)x", " (1,2,3)", "(1,2,3) ", "((1),2,3)",
	    "(1 ,2,3)", "(a b,2,3)", "(a\tb,2,3)", "(a\\b,2,3)", "(a\"b,2,3)",
	    "(a(,2,3)", "(\"a,2,3)", "(\"a\"b,2,3)", "(\"a\"\"\"\",2,3)",
	    "(\"a\\b\",2,3)", "(\"a\\\",2,3)", "(\"a\",2,3\")", "(1,2,\"3)",
	    "(1,,2,3)",
	};
	struct gw_row row = { 0 };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(&row, "x, y, z", bad[i]) != GW_ERR)
			fprintf(stderr, "\naccepted %s\n", bad[i]);
		CU_ASSERT_EQUAL(parse(&row, "x, y, z", bad[i]), GW_ERR);
		CU_ASSERT_EQUAL(row.n, 0);
	}
	/* Only len bytes are read: a prefix of a good row is refused. */
	CU_ASSERT_EQUAL(gw_row_parse(&row, &cols, "(1,2,3)", 6), GW_ERR);
	CU_ASSERT_EQUAL(gw_row_parse(&row, &cols, "(1,2,3)xyz", 7), GW_OK);
	/* A NUL is not text, quoted or not. */
	CU_ASSERT_EQUAL(gw_row_parse(&row, &cols, "(1,x\0y,3)", 9), GW_ERR);
	CU_ASSERT_EQUAL(gw_row_parse(&row, &cols, "(1,\"x\0y\",3)", 11),
	    GW_ERR);
	/* No columns, no row. */
	cols.n = 0;
	CU_ASSERT_EQUAL(gw_row_parse(&row, &cols, "()", 2), GW_ERR);
	gw_row_free(&row);
}

/* Random values of every byte but NUL, NULLs among them, written as
 * record_out writes them and read back unchanged, into one reused row. */
static void
test_round_trip(void)
{
	struct gw_row row = { 0 };
	unsigned seed = 20261125;
	static const char alphabet[] = "\"\\(), \t\nab\x01\xc3\xa4";
	size_t wrong = 0;

	CU_ASSERT_EQUAL_FATAL(gw_row_columns_parse(&cols,
	    "c0, c1, c2, c3, c4, c5, c6, c7"), GW_OK);
	for (int round = 0; round < 3000; round++) {
		char values[8][40], rec[8 * 84 + 4];
		bool null[8];
		size_t len = 0;

		rec[len++] = '(';
		for (int c = 0; c < 8; c++) {
			int n = (int)(rand_r(&seed) % 39);

			for (int i = 0; i < n; i++)
				values[c][i] = rand_r(&seed) % 2 ?
				    alphabet[rand_r(&seed) %
				        (sizeof(alphabet) - 1)] :
				    (char)(1 + rand_r(&seed) % 255);
			values[c][n] = '\0';
			null[c] = rand_r(&seed) % 5 == 0;
			if (c > 0)
				rec[len++] = ',';
			if (!null[c])
				test_record_value(rec, sizeof(rec), &len,
				    values[c]);
		}
		rec[len++] = ')';
		if (gw_row_parse(&row, &cols, rec, len) != GW_OK) {
			wrong++;
			continue;
		}
		for (int c = 0; c < 8; c++)
			wrong += null[c] ? row.field[c].kind != GW_ROW_NULL :
			    (row.field[c].kind != GW_ROW_TEXT ||
			    strcmp(row.field[c].text, values[c]) != 0);
	}
	CU_ASSERT_EQUAL(wrong, 0);
	gw_row_free(&row);
}

/* One row reused for rows of every size: a smaller row after a larger
 * one, a larger after a smaller, many fields. */
static void
test_reuse(void)
{
	struct gw_row row = { 0 };
	static struct gw_row_columns many, one;
	char *big = gw_malloc(GW_ROW_COLUMNS_MAX * 600 + 16);
	char list[GW_ROW_COLUMNS_MAX * 8] = "k0";
	size_t n = 0;

	for (int i = 1; i < GW_ROW_COLUMNS_MAX; i++)
		sprintf(list + strlen(list), ", k%d", i);
	CU_ASSERT_EQUAL_FATAL(gw_row_columns_parse(&many, list), GW_OK);
	CU_ASSERT_EQUAL_FATAL(gw_row_columns_parse(&one, "x"), GW_OK);
	big[n++] = '(';
	for (int i = 0; i < GW_ROW_COLUMNS_MAX; i++) {
		n += (size_t)sprintf(big + n, "%s\"v%d ", i ? "," : "", i);
		memset(big + n, 'x', 500);
		n += 500;
		big[n++] = '"';
	}
	big[n++] = ')';
	CU_ASSERT_EQUAL_FATAL(gw_row_parse(&row, &many, big, n), GW_OK);
	CU_ASSERT_EQUAL(row.n, GW_ROW_COLUMNS_MAX);
	CU_ASSERT_EQUAL(strncmp(gw_row_get(&row, "k47")->text, "v47 x", 5), 0);
	CU_ASSERT_EQUAL(strlen(gw_row_get(&row, "k47")->text), 504);
	CU_ASSERT_EQUAL_FATAL(gw_row_parse(&row, &one, "(y)", 3), GW_OK);
	CU_ASSERT_EQUAL(row.n, 1);
	CU_ASSERT_PTR_NULL(gw_row_get(&row, "k0"));
	CU_ASSERT_EQUAL_FATAL(gw_row_parse(&row, &many, big, n), GW_OK);
	CU_ASSERT_EQUAL(strncmp(gw_row_get(&row, "k0")->text, "v0 x", 4), 0);
	free(big);
	gw_row_free(&row);
}

/* gw_map_key and gw_map_num on a value's text: row keys are positive
 * integers exact in a double, whether PostgreSQL writes them as digits
 * (the fast path) or otherwise; a number is a number in JSON's strict
 * form only (numeric's NaN and Infinity are not read). */
static void
test_map_numbers(void)
{
	static const struct {
		const char *rec;
		int rc;
		long long key;
	} keys[] = {
	    {"(42)", GW_OK, 42},
	    {"(1)", GW_OK, 1},
	    {"(9007199254740992)", GW_OK, 9007199254740992LL},
	    {"(9007199254740993)", GW_ERR, 0},
	    {"(12345678901234567)", GW_ERR, 0},
	    {"(0)", GW_ERR, 0},
	    {"(-5)", GW_ERR, 0},
	    {"(1e3)", GW_OK, 1000},
	    {"(12.0)", GW_OK, 12},
	    {"(12.5)", GW_ERR, 0},
	    {"(\" 42\")", GW_ERR, 0},
	    {"(0x2a)", GW_ERR, 0},
	    {"()", GW_ERR, 0},
	};
	static const char *const good[] = {"0", "-0", "7", "-12", "0.5",
	    "5.250", "1.25e3", "1E+2", "2e-2", "-0.001"};
	static const char *const bad[] = {"01", "+1", ".5", "1.", "1e",
	    "1e+", "-", "--1", "0x10", "1.2.3", "NaN", "Infinity",
	    "-Infinity", "1_000", "1e400", "t"};
	struct gw_row row = { 0 };
	char rec[64];
	double d;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		long long key = -1;

		CU_ASSERT_EQUAL_FATAL(parse(&row, "k", keys[i].rec), GW_OK);
		CU_ASSERT_EQUAL(gw_map_key(&row, "k", &key), keys[i].rc);
		if (keys[i].rc == GW_OK)
			CU_ASSERT_EQUAL(key, keys[i].key);
		CU_ASSERT_EQUAL(gw_map_key(&row, "j", &key), GW_ERR);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(rec, sizeof(rec), "(%s)", good[i]);
		CU_ASSERT_EQUAL_FATAL(parse(&row, "v", rec), GW_OK);
		CU_ASSERT_TRUE(gw_map_num(&row, "v", &d));
		CU_ASSERT_EQUAL(d, strtod(good[i], NULL));
		/* A decimal is the registry's own text, trailing zeros and
		 * all. */
		CU_ASSERT_PTR_NOT_NULL_FATAL(gw_map_decimal(&row, "v"));
		CU_ASSERT_STRING_EQUAL(gw_map_decimal(&row, "v"), good[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(rec, sizeof(rec), "(%s)", bad[i]);
		CU_ASSERT_EQUAL_FATAL(parse(&row, "v", rec), GW_OK);
		if (gw_map_num(&row, "v", &d))
			fprintf(stderr, "\nread %s as a number\n", bad[i]);
		CU_ASSERT_FALSE(gw_map_num(&row, "v", &d));
		CU_ASSERT_PTR_NULL(gw_map_decimal(&row, "v"));
	}
	gw_row_free(&row);
}

/* The bounded scan under the reader's quoted runs (json_scan.h) finds what
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
	{ "columns", test_columns },
	{ "registry row", test_registry_row },
	{ "refused", test_refused },
	{ "round trip", test_round_trip },
	{ "reuse", test_reuse },
	{ "map numbers", test_map_numbers },
	CU_TEST_INFO_NULL,
};
