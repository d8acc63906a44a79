/*
 * audit_verify.c: `fhirgw audit-verify -c CONFIG`, the check of the audit
 * chain (docs/audit.md).
 *
 * One read-only, repeatable-read transaction on a blocking connection (the
 * migrate conninfo: the owner, not the gateway's role) reads the head row
 * and then walks gw.audit in seq order through a cursor, a page at a time,
 * so memory stays constant however long the chain.  For each record it
 * recomputes the hash here, in C, from the stored canonical text -- the
 * database's own functions are not trusted for the verdict -- and checks
 * that seq has no gap, that prev_hash is the previous record's hash, and
 * that every column still says what the canonical text says.  Finally the
 * head must name the last record.  The first broken link is reported with
 * its position in the chain.
 *
 * --anchor SEQ:HASH is a head printed by an earlier run and kept outside
 * the database.  The chain's hash at SEQ commits to every record up to
 * it, so if the walk does not reach that hash there, records up to SEQ
 * were rewritten -- even by someone who recomputed every later hash and
 * the head, which the chain alone cannot show.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "gateway/audit.h"
#include "gateway/db.h"
#include "gateway/gw.h"

#define PAGE_ROWS 1000

/* The columns that repeat a field of the canonical text (012_audit_slim.sql
 * keeps only those that queries select on). */
static const struct column_check {
	const char *column;
	const char *sql; /* the column as text, in a fixed format */
	const char *path; /* string in the canonical text: "a" or "a.b" */
} columns[] = {
	{ "recorded_at", "to_char(recorded_at at time zone 'UTC',"
	    " 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')", "time" },
	{ "patient_logical_id", "patient_logical_id", "patient.logical" },
};

/* Fixed columns of the walk before the checked ones. */
enum { COL_SEQ, COL_PREV, COL_HASH, COL_CANONICAL, COL_FIRST_CHECKED };

static const cJSON *
lookup(const cJSON *obj, const char *path)
{
	const char *dot = strchr(path, '.');
	char key[32];

	if (dot == NULL)
		return cJSON_GetObjectItemCaseSensitive(obj, path);
	if ((size_t)(dot - path) >= sizeof(key))
		return NULL;
	memcpy(key, path, (size_t)(dot - path));
	key[dot - path] = '\0';
	return cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(obj, key), dot + 1);
}

static bool
column_matches(const struct column_check *c, const cJSON *rec,
    const char *value)
{
	const cJSON *v = lookup(rec, c->path);

	return cJSON_IsString(v) && strcmp(v->valuestring, value) == 0;
}

static bool
hex32(const char *hex, unsigned char out[GW_AUDIT_HASH_LEN])
{
	static const char digits[] = "0123456789abcdef";

	if (strlen(hex) != 2 * (size_t)GW_AUDIT_HASH_LEN)
		return false;
	for (size_t i = 0; i < 2 * (size_t)GW_AUDIT_HASH_LEN; i++) {
		const char *d = strchr(digits, hex[i]);

		if (d == NULL || hex[i] == '\0')
			return false;
		if (i % 2 == 0)
			out[i / 2] = (unsigned char)((d - digits) << 4);
		else
			out[i / 2] |= (unsigned char)(d - digits);
	}
	return true;
}

static void
to_hex(const unsigned char in[GW_AUDIT_HASH_LEN], char out[65])
{
	for (size_t i = 0; i < GW_AUDIT_HASH_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", in[i]);
}

struct walk {
	long long position; /* records checked so far */
	unsigned char last[GW_AUDIT_HASH_LEN];
	char why[512];
	long long anchor_seq; /* 0: no anchor */
	unsigned char anchor[GW_AUDIT_HASH_LEN];
};

/* "SEQ:HASH" as printed after "anchor" in an ok line. */
static bool
parse_anchor(const char *text, struct walk *w)
{
	const char *colon = strchr(text, ':');
	char seq[24];
	long v;

	if (colon == NULL || (size_t)(colon - text) >= sizeof(seq))
		return false;
	memcpy(seq, text, (size_t)(colon - text));
	seq[colon - text] = '\0';
	if (gw_parse_long(seq, 1, LONG_MAX, &v) != GW_OK ||
	    !hex32(colon + 1, w->anchor))
		return false;
	w->anchor_seq = v;
	return true;
}

/* Check one row; false with w->why set at the first broken link. */
static bool
check_row(struct walk *w, const PGresult *r, int row)
{
	const char *seq = PQgetvalue(r, row, COL_SEQ);
	const char *canonical = PQgetvalue(r, row, COL_CANONICAL);
	unsigned char prev[GW_AUDIT_HASH_LEN], hash[GW_AUDIT_HASH_LEN];
	unsigned char want[GW_AUDIT_HASH_LEN];
	long long expect = w->position + 1;
	char expect_text[32];
	cJSON *rec;

	snprintf(expect_text, sizeof(expect_text), "%lld", expect);
	if (strcmp(seq, expect_text) != 0) {
		snprintf(w->why, sizeof(w->why), "expected seq %lld, found %s:"
		    " a record was deleted, renumbered or inserted", expect,
		    seq);
		return false;
	}
	if (!hex32(PQgetvalue(r, row, COL_PREV), prev) ||
	    !hex32(PQgetvalue(r, row, COL_HASH), hash)) {
		snprintf(w->why, sizeof(w->why), "hash columns are not "
		    "SHA-256 values");
		return false;
	}
	if (memcmp(prev, w->last, sizeof(prev)) != 0) {
		snprintf(w->why, sizeof(w->why), "prev_hash is not the hash of"
		    " the record before: records were reordered, removed or"
		    " inserted here");
		return false;
	}
	gw_audit_chain_hash(prev, canonical, strlen(canonical), want);
	if (memcmp(want, hash, sizeof(want)) != 0) {
		snprintf(w->why, sizeof(w->why), "hash is not SHA-256(prev_hash"
		    " || canonical): the record was edited");
		return false;
	}
	rec = cJSON_Parse(canonical);
	if (!cJSON_IsObject(rec)) {
		cJSON_Delete(rec);
		snprintf(w->why, sizeof(w->why), "canonical text is not a "
		    "record");
		return false;
	}
	for (size_t i = 0; i < GW_ARRAY_LEN(columns); i++) {
		int col = COL_FIRST_CHECKED + (int)i;

		if (PQgetisnull(r, row, col) ||
		    !column_matches(&columns[i], rec,
		    PQgetvalue(r, row, col))) {
			snprintf(w->why, sizeof(w->why), "column %s differs "
			    "from the canonical record: the row was edited",
			    columns[i].column);
			cJSON_Delete(rec);
			return false;
		}
	}
	cJSON_Delete(rec);
	if (expect == w->anchor_seq &&
	    memcmp(hash, w->anchor, sizeof(hash)) != 0) {
		snprintf(w->why, sizeof(w->why), "the chain is intact but its "
		    "hash here is not the anchored one: records up to this "
		    "seq were rewritten and every later hash recomputed");
		return false;
	}
	memcpy(w->last, hash, sizeof(hash));
	w->position = expect;
	return true;
}

static PGresult *
run(PGconn *conn, const char *sql, ExecStatusType want)
{
	PGresult *r = PQexec(conn, sql);

	if (PQresultStatus(r) != want) {
		fprintf(stderr, "audit-verify: cannot check: %s",
		    PQresultErrorMessage(r));
		PQclear(r);
		return NULL;
	}
	return r;
}

static char *
walk_sql(void)
{
	size_t cap = 4096, n;
	char *sql = gw_malloc(cap);

	n = (size_t)snprintf(sql, cap, "declare audit_walk no scroll cursor for"
	    " select seq::text, encode(prev_hash, 'hex'), encode(hash, 'hex'),"
	    " canonical");
	for (size_t i = 0; i < GW_ARRAY_LEN(columns); i++)
		n += (size_t)snprintf(sql + n, cap - n, ", %s", columns[i].sql);
	snprintf(sql + n, cap - n, " from gw.audit order by gw.audit.seq");
	return sql;
}

int
gw_audit_verify(const struct gw_config *cfg, const char *anchor)
{
	struct walk w = { .position = 0 };
	PGconn *conn;
	PGresult *r = NULL;
	unsigned char head_hash[GW_AUDIT_HASH_LEN];
	long long head_seq = -1;
	char hex[65], fetch[64], *sql;
	int status = 2;
	bool broken = false;

	if (anchor != NULL && !parse_anchor(anchor, &w)) {
		fprintf(stderr, "audit-verify: cannot check: --anchor wants "
		    "SEQ:HASH, a seq and 64 lowercase hex digits\n");
		return 2;
	}
	conn = gw_db_connect_blocking(cfg->db_migrate_conninfo,
	    "fhirgw audit-verify");
	if (conn == NULL) {
		fprintf(stderr, "audit-verify: cannot check: database "
		    "unreachable\n");
		return 2;
	}
	if ((r = run(conn, "set client_encoding to 'UTF8'",
	    PGRES_COMMAND_OK)) == NULL)
		goto out;
	PQclear(r);
	if ((r = run(conn, "begin isolation level repeatable read read only",
	    PGRES_COMMAND_OK)) == NULL)
		goto out;
	PQclear(r);
	if ((r = run(conn, "select seq::text, encode(hash, 'hex')"
	    " from gw.audit_head", PGRES_TUPLES_OK)) == NULL)
		goto out;
	if (PQntuples(r) != 1 || !hex32(PQgetvalue(r, 0, 1), head_hash) ||
	    sscanf(PQgetvalue(r, 0, 0), "%lld", &head_seq) != 1) {
		fprintf(stderr, "audit-verify: cannot check: gw.audit_head "
		    "does not hold one head row\n");
		goto out;
	}
	PQclear(r);
	sql = walk_sql();
	r = run(conn, sql, PGRES_COMMAND_OK);
	free(sql);
	if (r == NULL)
		goto out;
	PQclear(r);
	memset(w.last, 0, sizeof(w.last)); /* the genesis prev_hash */
	snprintf(fetch, sizeof(fetch), "fetch forward %d from audit_walk",
	    PAGE_ROWS);
	for (;;) {
		int n;

		if ((r = run(conn, fetch, PGRES_TUPLES_OK)) == NULL)
			goto out;
		n = PQntuples(r);
		for (int i = 0; i < n && !broken; i++) {
			if (!check_row(&w, r, i)) {
				printf("audit-verify: BROKEN at position %lld "
				    "(seq %s): %s\n", w.position + 1,
				    PQgetvalue(r, i, COL_SEQ), w.why);
				broken = true;
			}
		}
		PQclear(r);
		r = NULL;
		if (broken || n < PAGE_ROWS)
			break;
	}
	if (!broken && w.anchor_seq > w.position) {
		printf("audit-verify: BROKEN at position %lld: the chain ends "
		    "at seq %lld, before the anchored seq %lld: records were "
		    "deleted at the end\n", w.position + 1, w.position,
		    w.anchor_seq);
		broken = true;
	} else if (!broken && head_seq != w.position) {
		printf("audit-verify: BROKEN at position %lld: the head row "
		    "says the chain ends at seq %lld, the records end at seq "
		    "%lld: %s\n", (head_seq > w.position ? w.position :
		    head_seq) + 1, head_seq, w.position,
		    head_seq > w.position ? "records were deleted at the end" :
		    "records were appended outside gw.audit_append");
		broken = true;
	} else if (!broken && memcmp(head_hash, w.last,
	    sizeof(head_hash)) != 0) {
		printf("audit-verify: BROKEN at position %lld: the head hash is"
		    " not the hash of the last record\n", w.position);
		broken = true;
	}
	if (!broken) {
		to_hex(w.last, hex);
		printf("audit-verify: ok: %lld records, chain intact, head "
		    "%s (anchor %lld:%s)%s\n", w.position, hex, w.position, hex,
		    w.anchor_seq > 0 ? ", anchor reached" : "");
	}
	status = broken ? 1 : 0;
out:
	PQclear(r);
	PQfinish(conn);
	return status;
}
