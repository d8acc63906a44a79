/*
 * registry_read.c: registry statements on the replica, with the primary's
 * consent generation (see registry_read.h).
 *
 * A statement sent to the replica is one `struct call`.  It waits for at
 * most two answers: the rows (from the replica, or from the primary when
 * the replica failed) and, for a patient statement, the primary's
 * generation.  Whichever comes first is kept; the caller's callback runs
 * once, with both.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/gw.h"
#include "gateway/registry_read.h"
#include "gateway/replica_watch.h"

/* Parameters the adapters' statements take at most (search: 5). */
#define CALL_MAX_PARAMS 8

struct call {
	struct gw_req *req;
	gw_db_cb cb;
	char name[64];
	int nparams;
	char *values[CALL_MAX_PARAMS];
	bool with_generation;
	bool on_primary; /* the rows are asked of the primary now */
	int outstanding; /* answers still to come */
	PGresult *rows;  /* the rows, kept until the generation came */
	char *rows_error;
	long long generation; /* the primary's */
	char *gen_error;
};

static void
call_free(struct call *c)
{
	for (int i = 0; i < c->nparams; i++)
		if (c->values[i] != NULL) /* a patient's id, a search */
			gw_free_zero(c->values[i], strlen(c->values[i]));
	PQclear(c->rows);
	free(c->rows_error);
	free(c->gen_error);
	free(c);
}

/* Both answers are in: hand the rows to the caller, then forget them. */
static void
deliver(struct call *c, const PGresult *res, const char *error)
{
	struct gw_req *req = c->req;

	if (c->with_generation && !c->on_primary && error == NULL) {
		if (c->gen_error != NULL) {
			res = NULL;
			error = c->gen_error;
		} else {
			req->gen_from_primary = true;
			req->primary_gen = c->generation;
		}
	}
	c->cb(res, error, req); /* may free an orphaned req */
	call_free(c);
}

static void rows_done(const PGresult *res, const char *error, void *arg);

/* The rows from the primary instead; false when it cannot be asked. */
static bool
ask_primary(struct call *c)
{
	struct gw_worker *w = c->req->worker;

	/* A stopping worker frees its pools, the primary's too. */
	if (atomic_load(&w->server->stopping))
		return false;
	c->on_primary = true;
	atomic_fetch_add(&w->counters.replica_fallbacks, 1);
	return gw_db_query(w->db, c->name, c->nparams,
	           (const char *const *)c->values, rows_done, c) == GW_OK;
}

static void
rows_done(const PGresult *res, const char *error, void *arg)
{
	struct call *c = arg;

	/* A recovery conflict, a lost connection, a timeout there: the
	 * primary still has the rows.  Its own statement carries its own
	 * generation. */
	if (res == NULL && !c->on_primary) {
		gw_warn("registry replica: %s: %s; asking the primary", c->name,
		    error);
		if (ask_primary(c))
			return;
	}
	if (!c->on_primary && res != NULL)
		atomic_fetch_add(&c->req->worker->counters.replica_reads, 1);
	if (--c->outstanding == 0) {
		deliver(c, res, error);
		return;
	}
	if (res == NULL)
		c->rows_error = gw_strdup(error);
	else if ((c->rows = PQcopyResult(
	              res, PG_COPYRES_ATTRS | PG_COPYRES_TUPLES)) == NULL)
		c->rows_error = gw_strdup("out of memory copying rows");
}

static void
generation_done(const PGresult *res, const char *error, void *arg)
{
	struct call *c = arg;
	long v;

	if (res == NULL)
		c->gen_error = gw_strdup(error);
	else if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0) ||
	         gw_parse_long(PQgetvalue(res, 0, 0), 0, LONG_MAX, &v) != GW_OK)
		c->gen_error = gw_strdup("no consent generation");
	else
		c->generation = v;
	if (--c->outstanding == 0)
		deliver(c, c->rows, c->rows_error);
}

void
gw_registry_query(struct gw_req *req, const char *name, int nparams,
    const char *const *values, bool with_generation, gw_db_cb cb)
{
	struct gw_worker *w = req->worker;
	struct call *c;

	req->gen_from_primary = false;
	if (w->replica == NULL) {
		gw_db_query(w->db, name, nparams, values, cb, req);
		return;
	}
	if (!gw_db_ready(w->replica) ||
	    (w->replica_watch != NULL && !gw_replica_fresh(w->replica_watch)) ||
	    nparams > CALL_MAX_PARAMS || strlen(name) >= sizeof(c->name)) {
		atomic_fetch_add(&w->counters.replica_fallbacks, 1);
		gw_db_query(w->db, name, nparams, values, cb, req);
		return;
	}
	c = gw_calloc(1, sizeof(*c));
	c->req = req;
	c->cb = cb;
	gw_strlcpy(c->name, name, sizeof(c->name));
	c->nparams = nparams;
	for (int i = 0; i < nparams; i++)
		c->values[i] = values[i] != NULL ? gw_strdup(values[i]) : NULL;
	c->with_generation = with_generation;
	c->outstanding = with_generation ? 2 : 1;
	if (gw_db_query(w->replica, c->name, nparams,
	        (const char *const *)c->values, rows_done, c) != GW_OK) {
		/* Not prepared there (the two lists disagree): nothing was
		 * sent, so the primary's pool answers, as without a replica. */
		call_free(c);
		atomic_fetch_add(&w->counters.replica_fallbacks, 1);
		gw_db_query(w->db, name, nparams, values, cb, req);
		return;
	}
	if (with_generation && gw_db_query(w->db, "gw_consent_generation", 0,
	                           NULL, generation_done, c) != GW_OK) {
		c->gen_error = gw_strdup("consent generation not prepared");
		c->outstanding--; /* the rows still come, later */
	}
}
