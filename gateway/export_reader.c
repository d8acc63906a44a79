/*
 * export_reader.c: the replica or the primary for an export's registry
 * reads (see export_reader.h).
 */
#include <string.h>

#include "gateway/db.h"
#include "gateway/export_reader.h"
#include "gateway/gw.h"

/* How long a job waits for the replica to catch up before it reads from
 * the primary instead, and how long a replica that failed is left alone. */
#define CATCH_UP_WAIT_MS 10000
#define RETRY_S 10

static void
drop_replica(struct gw_export_reader *r, const char *why)
{
	gw_warn("export: replica: %s; reading from the primary", why);
	PQfinish(r->replica);
	r->replica = NULL;
	r->use_replica = false;
	r->retry_at = time(NULL) + RETRY_S;
}

/* Has the replica replayed up to lsn?  A server that is not in recovery
 * (a replica promoted, or the primary named twice) has everything. */
static int
caught_up(struct gw_export_reader *r, const char *lsn)
{
	const char *params[1] = {lsn};
	PGresult *res = PQexecParams(r->replica,
	    "select (not pg_is_in_recovery() or"
	    " pg_last_wal_replay_lsn() >= $1::pg_lsn)::text",
	    1, NULL, params, NULL, NULL, 0);
	int rc = GW_AGAIN;

	if (!gw_db_result_ok(res))
		rc = GW_ERR;
	else if (strcmp(PQgetvalue(res, 0, 0), "true") == 0)
		rc = GW_OK;
	if (rc == GW_ERR)
		drop_replica(r, PQresultErrorMessage(res));
	PQclear(res);
	return rc;
}

void
gw_export_reader_begin(
    struct gw_export_reader *r, PGconn *primary, atomic_bool *stop)
{
	struct timespec pause = {.tv_sec = 0, .tv_nsec = 100 * 1000 * 1000};
	char lsn[64];
	PGresult *res;
	int rc = GW_AGAIN;

	r->use_replica = false;
	if (r->conninfo == NULL)
		return;
	if (r->replica == NULL && time(NULL) >= r->retry_at) {
		r->replica = gw_db_connect_blocking(
		    r->conninfo, "fhirgw export replica");
		if (r->replica == NULL)
			r->retry_at = time(NULL) + RETRY_S;
	}
	if (r->replica == NULL)
		return;
	/* Where the primary has inserted WAL up to, not where it has written
	 * it: an asynchronous commit (a registry's own sessions may use
	 * them) is inserted but perhaps not yet written. */
	res = PQexec(primary, "select pg_current_wal_insert_lsn()::text");
	if (!gw_db_result_ok(res) || PQntuples(res) != 1) {
		PQclear(res);
		return; /* the caller's next statement reports the primary */
	}
	gw_strlcpy(lsn, PQgetvalue(res, 0, 0), sizeof(lsn));
	PQclear(res);
	for (int waited = 0; waited < CATCH_UP_WAIT_MS && !atomic_load(stop);
	     waited += 100) {
		rc = caught_up(r, lsn);
		if (rc != GW_AGAIN)
			break;
		nanosleep(&pause, NULL);
	}
	if (rc == GW_OK)
		r->use_replica = true;
	else if (rc == GW_AGAIN)
		gw_warn("export: replica has not replayed up to %s within %d"
		        " ms; this job reads from the primary",
		    lsn, CATCH_UP_WAIT_MS);
}

PGresult *
gw_export_reader_exec(struct gw_export_reader *r, PGconn *primary,
    const char *sql, int nparams, const char *const *params)
{
	PGresult *res;

	if (r->use_replica && r->replica != NULL) {
		res = PQexecParams(
		    r->replica, sql, nparams, NULL, params, NULL, NULL, 0);
		if (gw_db_result_ok(res))
			return res;
		drop_replica(r, PQresultErrorMessage(res));
		PQclear(res);
	}
	return PQexecParams(primary, sql, nparams, NULL, params, NULL, NULL, 0);
}

void
gw_export_reader_close(struct gw_export_reader *r)
{
	PQfinish(r->replica);
	r->replica = NULL;
	r->use_replica = false;
}
