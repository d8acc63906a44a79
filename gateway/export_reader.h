/*
 * export_reader.h: where the export runner reads the registries.
 *
 * With database.replica_conninfo set, a job's registry statements run on
 * the replica, so that walking a registry of millions of patients does not
 * load the primary.  The job's transactionTime promises every change
 * committed before it (a client's next `_since`), so a job reads from the
 * replica only once the replica has replayed everything the primary had
 * committed when the runner took the job; otherwise, and whenever the
 * replica fails, it reads from the primary.  Consent, permits and the job's
 * own bookkeeping are always the primary's (export.c).
 */
#ifndef GW_EXPORT_READER_H
#define GW_EXPORT_READER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include <libpq-fe.h>

struct gw_export_reader {
	const char *conninfo; /* the replica's; NULL: the primary only */
	PGconn *replica;      /* connected, or NULL */
	time_t retry_at;      /* no new connection before this */
	bool use_replica;     /* for the current job */
};

/* Before a job: choose the replica when it has caught up with what the
 * primary committed so far (waiting a little for it), else the primary. */
void gw_export_reader_begin(
    struct gw_export_reader *r, PGconn *primary, atomic_bool *stop);

/* Run a registry statement of the current job where begin() chose; a
 * failure on the replica runs it again on the primary.  Caller PQclears. */
PGresult *gw_export_reader_exec(struct gw_export_reader *r, PGconn *primary,
    const char *sql, int nparams, const char *const *params);

void gw_export_reader_close(struct gw_export_reader *r);

#endif
