/*
 * db_batch.c: the twin statement, its array parameter and the split of its
 * answer (db_batch.h).  Pure functions over text and PGresult; the pool
 * (db.c) decides when queries are batched.
 */
#include <stdbool.h>
#include <string.h>

#include "gateway/db_batch.h"
#include "gateway/gw.h"

#define BATCH_HEAD                                                            \
	"select a.gw_n, q.* from string_to_table($1::text, E'\\x1e')"        \
	" with ordinality as a(gw_p, gw_n) cross join lateral ("
#define BATCH_TAIL ") q"
#define BATCH_ELEMENT "a.gw_p"

/* The next "$1" in s that is not the start of "$10".."$19". */
static const char *
next_param(const char *s)
{
	while ((s = strstr(s, "$1")) != NULL) {
		if (s[2] < '0' || s[2] > '9')
			return s;
		s += 2;
	}
	return NULL;
}

/* Copy n bytes of text to out at *at. */
static void
put(char *out, size_t *at, const char *text, size_t n)
{
	memcpy(out + *at, text, n);
	*at += n;
}

char *
gw_db_batch_sql(const char *sql)
{
	static const char head[] = BATCH_HEAD, element[] = BATCH_ELEMENT,
			  tail[] = BATCH_TAIL;
	size_t uses = 0, at = 0;
	const char *p, *from = sql;
	char *out;

	for (p = next_param(sql); p != NULL; p = next_param(p + 2))
		uses++;
	if (uses == 0)
		return NULL;
	out = gw_malloc(sizeof(head) + strlen(sql) +
	    uses * (sizeof(element) - 1 - 2) + sizeof(tail));
	put(out, &at, head, sizeof(head) - 1);
	for (; (p = next_param(from)) != NULL; from = p + 2) {
		put(out, &at, from, (size_t)(p - from));
		put(out, &at, element, sizeof(element) - 1);
	}
	put(out, &at, from, strlen(from));
	put(out, &at, tail, sizeof(tail)); /* with its NUL */
	return out;
}

bool
gw_db_batch_value_ok(const char *value)
{
	return value != NULL && value[0] != '\0' &&
	    strchr(value, GW_DB_BATCH_SEP) == NULL;
}

char *
gw_db_batch_param(const char *const *values, int n)
{
	size_t len = 1, at = 0;
	char *out;

	for (int i = 0; i < n; i++)
		len += strlen(values[i]) + 1;
	out = gw_malloc(len);
	for (int i = 0; i < n; i++) {
		size_t one = strlen(values[i]);

		if (i > 0)
			out[at++] = GW_DB_BATCH_SEP;
		memcpy(out + at, values[i], one);
		at += one;
	}
	out[at] = '\0';
	return out;
}

/* gw_n of a row: 1..nparts, or 0. */
static int
element_of(const PGresult *res, int row, int nparts)
{
	const char *s = PQgetvalue(res, row, 0);
	int n = 0;

	if (PQgetisnull(res, row, 0) || *s == '\0')
		return 0;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || n > nparts)
			return 0;
		n = n * 10 + (*s - '0');
	}
	return n <= nparts ? n : 0;
}

static void
clear_parts(PGresult **parts, int nparts)
{
	for (int i = 0; i < nparts; i++) {
		PQclear(parts[i]);
		parts[i] = NULL;
	}
}

int
gw_db_batch_split(const PGresult *res, PGresult **parts, int nparts)
{
	int nfields = PQnfields(res), nrows = PQntuples(res);
	PGresAttDesc attrs[32];

	if (PQresultStatus(res) != PGRES_TUPLES_OK || nfields < 2 ||
	    nfields - 1 > (int)GW_ARRAY_LEN(attrs) ||
	    strcmp(PQfname(res, 0), "gw_n") != 0)
		return -1;
	for (int f = 1; f < nfields; f++) {
		attrs[f - 1] = (PGresAttDesc){
			.name = PQfname(res, f),
			.tableid = PQftable(res, f),
			.columnid = PQftablecol(res, f),
			.format = PQfformat(res, f),
			.typid = PQftype(res, f),
			.typlen = PQfsize(res, f),
			.atttypmod = PQfmod(res, f),
		};
	}
	for (int i = 0; i < nparts; i++) {
		parts[i] = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
		if (parts[i] == NULL ||
		    PQsetResultAttrs(parts[i], nfields - 1, attrs) == 0)
			goto err;
	}
	for (int row = 0; row < nrows; row++) {
		int n = element_of(res, row, nparts);
		PGresult *part;
		int to;

		if (n == 0)
			goto err;
		part = parts[n - 1];
		to = PQntuples(part);
		for (int f = 1; f < nfields; f++) {
			bool null = PQgetisnull(res, row, f);

			if (PQsetvalue(part, to, f - 1,
				null ? NULL : PQgetvalue(res, row, f),
				null ? -1 : PQgetlength(res, row, f)) == 0)
				goto err;
		}
	}
	return 0;
err:
	clear_parts(parts, nparts);
	return -1;
}
