/*
 * db_batch.h: one statement for several requests' reads (gateway/db.c).
 *
 * PostgreSQL spends most of a small read setting up and tearing down its
 * plan: a $summary's seven-branch plan costs about as much to start as to
 * run for one patient, and a Patient read's cost is almost all set-up
 * (docs/benchmarks.md).  A read-only statement of one parameter can
 * therefore be declared batchable: the pool prepares a twin of it that
 * takes the parameters joined into one text, runs the statement once per
 * element inside one plan, and tags each row with its element's place,
 * 1-based:
 *
 *   select a.gw_n, q.* from string_to_table($1::text, E'\x1e')
 *       with ordinality as a(gw_p, gw_n)
 *       cross join lateral (<statement, $1 -> a.gw_p>) q
 *
 * Not unnest($1::text[]): the planner estimates unnest's rows from the
 * array it is given, so a custom plan for two elements always looked far
 * cheaper than the generic plan, and PostgreSQL planned the statement
 * again at every execution (it cost more than batching saved).
 * string_to_table is estimated at 1,000 rows either way, so the generic
 * plan is kept as for any other prepared statement.
 *
 * A nested loop over a LATERAL subquery gives each element's rows in the
 * order the statement itself gives them (the subquery is scanned once per
 * element and its rows pass through unchanged); the split keeps that order
 * and only sorts rows out by gw_n.  tests/integration/test_db_pipeline.py
 * compares batched answers with single ones byte for byte.
 */
#ifndef GW_DB_BATCH_H
#define GW_DB_BATCH_H

#include <libpq-fe.h>
#include <stdbool.h>

/* At most this many queries in one batch: a batch is one statement, and
 * its first request waits for the last element's rows. */
#define GW_DB_BATCH_MAX 16

/*
 * The twin of a batchable statement's SQL (caller frees): the statement
 * must use its one parameter as "$1" only (never "$1" inside a literal).
 * NULL if sql does not mention $1.
 */
char *gw_db_batch_sql(const char *sql);

/* Joins a batch's parameters (the record separator: a patient token or
 * a registry key never holds it). */
#define GW_DB_BATCH_SEP '\x1e'

/* Can value be one of a batch's parameters?  Not NULL, not empty (the
 * split of "" is no element at all) and without GW_DB_BATCH_SEP; a query
 * with another value goes alone. */
bool gw_db_batch_value_ok(const char *value);

/* The twin's parameter (caller frees): values, each gw_db_batch_value_ok,
 * joined by GW_DB_BATCH_SEP. */
char *gw_db_batch_param(const char *const *values, int n);

/*
 * Sort the rows of a twin's result out into nparts results with the
 * statement's own columns (the first, gw_n, dropped), each
 * PGRES_TUPLES_OK and owned by the caller, rows in their order in res.
 * Returns 0, or -1 (nothing in parts) when res is not a twin's answer or a
 * row's gw_n is not 1..nparts.
 */
int gw_db_batch_split(const PGresult *res, PGresult **parts, int nparts);

#endif
