/*
 * test_db_batch.c: the batch twin's SQL, its parameter and the split of
 * its answer (gateway/db_batch.h).  The answers are PGresults built the
 * way libpq builds them, with the columns a twin returns; that PostgreSQL
 * runs the twin and that each request gets its own rows is tested against
 * a real cluster in tests/integration/test_db_pipeline.py.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "gateway/db_batch.h"
#include "gateway/gw.h"

static void
test_twin_sql(void)
{
	char *sql = gw_db_batch_sql("select $1::text, x from t where "
	    "k = $1 and j = $12 or $1");

	CU_ASSERT_PTR_NOT_NULL_FATAL(sql);
	CU_ASSERT_STRING_EQUAL(sql,
	    "select a.gw_n, q.* from string_to_table($1::text, E'\\x1e')"
	    " with ordinality as a(gw_p, gw_n) cross join lateral ("
	    "select a.gw_p::text, x from t where k = a.gw_p and j = $12 or "
	    "a.gw_p) q");
	free(sql);
	/* No parameter: nothing to batch by. */
	CU_ASSERT_PTR_NULL(gw_db_batch_sql("select 1"));
	CU_ASSERT_PTR_NULL(gw_db_batch_sql("select $10"));
}

static void
test_parameter(void)
{
	const char *const values[] = { "tok1", "", "x\"y\\z" };
	char *joined;

	CU_ASSERT_TRUE(gw_db_batch_value_ok("abc"));
	CU_ASSERT_TRUE(gw_db_batch_value_ok("x\"y\\z,{}"));
	CU_ASSERT_FALSE(gw_db_batch_value_ok(NULL));
	CU_ASSERT_FALSE(gw_db_batch_value_ok(""));
	CU_ASSERT_FALSE(gw_db_batch_value_ok("a\x1e" "b"));
	joined = gw_db_batch_param((const char *const[]){ values[0],
	    values[2], "9" }, 3);
	CU_ASSERT_STRING_EQUAL(joined, "tok1\x1e" "x\"y\\z\x1e" "9");
	free(joined);
	joined = gw_db_batch_param(values, 1);
	CU_ASSERT_STRING_EQUAL(joined, "tok1");
	free(joined);
}

/* A twin's answer: (gw_n, kind, doc) rows as given, doc NULL for "-". */
static PGresult *
answer(const char *first_column, const char *const (*rows)[3], int n)
{
	PGresAttDesc attrs[3] = {
		{ .name = (char *)(uintptr_t)first_column, .typid = 20,
		    .typlen = 8, .atttypmod = -1 },
		{ .name = (char *)(uintptr_t)"kind", .typid = 25, .typlen = -1,
		    .atttypmod = -1 },
		{ .name = (char *)(uintptr_t)"doc", .typid = 25, .typlen = -1,
		    .atttypmod = -1 },
	};
	PGresult *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);

	CU_ASSERT_FATAL(res != NULL && PQsetResultAttrs(res, 3, attrs) != 0);
	for (int r = 0; r < n; r++)
		for (int f = 0; f < 3; f++) {
			bool null = strcmp(rows[r][f], "-") == 0;

			CU_ASSERT_FATAL(PQsetvalue(res, r, f,
			    null ? NULL : (char *)(uintptr_t)rows[r][f],
			    null ? -1 : (int)strlen(rows[r][f])) != 0);
		}
	return res;
}

/* Rows reach the part of their gw_n, in their order, with the statement's
 * own columns; an element without rows gets an empty result. */
static void
test_split(void)
{
	static const char *const rows[][3] = {
		{ "2", "henkilo", "(7,b)" },
		{ "1", "henkilo", "(5,a)" },
		{ "2", "diagnoosi", "(70,b1)" },
		{ "1", "diagnoosi", "-" },
		{ "2", "diagnoosi", "(71,b2)" },
	};
	PGresult *res = answer("gw_n", rows, 5), *parts[3];

	CU_ASSERT_EQUAL_FATAL(gw_db_batch_split(res, parts, 3), 0);
	CU_ASSERT_EQUAL(PQnfields(parts[0]), 2);
	CU_ASSERT_STRING_EQUAL(PQfname(parts[0], 0), "kind");
	CU_ASSERT_STRING_EQUAL(PQfname(parts[0], 1), "doc");
	CU_ASSERT_EQUAL(PQftype(parts[0], 1), 25);
	CU_ASSERT_EQUAL(PQntuples(parts[0]), 2);
	CU_ASSERT_STRING_EQUAL(PQgetvalue(parts[0], 0, 1), "(5,a)");
	CU_ASSERT_STRING_EQUAL(PQgetvalue(parts[0], 1, 0), "diagnoosi");
	CU_ASSERT_TRUE(PQgetisnull(parts[0], 1, 1));
	CU_ASSERT_EQUAL(PQntuples(parts[1]), 3);
	CU_ASSERT_STRING_EQUAL(PQgetvalue(parts[1], 0, 1), "(7,b)");
	CU_ASSERT_STRING_EQUAL(PQgetvalue(parts[1], 1, 1), "(70,b1)");
	CU_ASSERT_STRING_EQUAL(PQgetvalue(parts[1], 2, 1), "(71,b2)");
	CU_ASSERT_EQUAL(PQgetlength(parts[1], 2, 1), 7);
	CU_ASSERT_EQUAL(PQresultStatus(parts[2]), PGRES_TUPLES_OK);
	CU_ASSERT_EQUAL(PQntuples(parts[2]), 0);
	CU_ASSERT_EQUAL(PQnfields(parts[2]), 2);
	for (int i = 0; i < 3; i++)
		PQclear(parts[i]);
	PQclear(res);
}

/* An answer that is not a twin's, or a row of no element, leaves nothing
 * behind: the batch's queries fail instead of getting wrong rows. */
static void
test_split_refused(void)
{
	static const char *const outside[][3] = {
		{ "1", "henkilo", "(5,a)" },
		{ "3", "henkilo", "(7,b)" },
	};
	/* A row whose gw_n is not 1 or 2. */
	static const char *const bad_element[] = { "1x", "0", "-", "",
		"99999999999", "+1" };
	PGresult *parts[2] = { NULL, NULL }, *res;

	res = answer("gw_n", outside, 2);
	CU_ASSERT_EQUAL(gw_db_batch_split(res, parts, 2), -1);
	PQclear(res);
	for (size_t i = 0; i < GW_ARRAY_LEN(bad_element); i++) {
		const char *const row[][3] = { { bad_element[i], "henkilo",
		    "(5,a)" } };

		res = answer("gw_n", row, 1);
		CU_ASSERT_EQUAL(gw_db_batch_split(res, parts, 2), -1);
		PQclear(res);
	}
	/* A statement's own answer, not its twin's. */
	res = answer("kind", outside, 2);
	CU_ASSERT_EQUAL(gw_db_batch_split(res, parts, 2), -1);
	PQclear(res);
	res = PQmakeEmptyPGresult(NULL, PGRES_FATAL_ERROR);
	CU_ASSERT_EQUAL(gw_db_batch_split(res, parts, 2), -1);
	PQclear(res);
	CU_ASSERT_PTR_NULL(parts[0]);
	CU_ASSERT_PTR_NULL(parts[1]);
}

CU_TestInfo test_db_batch_cases[] = {
	{ "twin sql", test_twin_sql },
	{ "parameter", test_parameter },
	{ "split", test_split },
	{ "split refused", test_split_refused },
	CU_TEST_INFO_NULL,
};
