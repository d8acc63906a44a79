/*
 * db.h: asynchronous PostgreSQL for one worker's event loop.
 *
 * Each worker owns a small pool of non-blocking libpq connections driven by
 * its event_base: connect, prepare every registered statement, then run
 * queries one at a time per connection, queueing (bounded) when all are
 * busy.  A lost connection fails its query and every queued one (the caller
 * answers 503), and is re-established with exponential backoff.  Nothing on
 * this path blocks the loop.
 */
#ifndef GW_DB_H
#define GW_DB_H

#include <libpq-fe.h>
#include <stdbool.h>

struct event_base;
struct gw_db;

/* A statement prepared on every connection of every pool. */
struct gw_db_statement {
	const char *name; /* unique across the program */
	const char *sql;
	int nparams; /* all parameters are text */
	/* A SELECT that changes nothing.  Such queries sent in one turn of
	 * the loop share one Sync (db.c): one implicit transaction, one
	 * write to the server and one answer back, instead of one each.
	 * Never set it on a statement that writes: an error in another
	 * query of its group would roll the write back. */
	bool read_only;
	/* A read_only statement of one parameter whose concurrent queries
	 * may be answered by one statement (gateway/db_batch.h): its
	 * queries wait for the end of the loop's turn, and those of one
	 * statement go as one.  Each query still gets its own result,
	 * exactly as its statement alone returns it.  Its SQL uses "$1"
	 * only as the parameter. */
	bool batchable;
};

/*
 * Completion of one query.  On success res is the (single) result with
 * status PGRES_TUPLES_OK or PGRES_COMMAND_OK and error is NULL; otherwise
 * res is NULL and error says why.  The callback borrows res: it is cleared
 * when the callback returns.
 */
typedef void (*gw_db_cb)(const PGresult *res, const char *error, void *arg);

/* Called with every NOTIFY on a LISTENed channel, and with channel NULL
 * after a reconnect (notifications may have been missed). */
typedef void (*gw_db_notify_cb)(const char *channel, const char *payload,
    void *arg);

/*
 * Create a pool of `size` connections on base.  `statements` is a
 * NULL-name-terminated array, borrowed for the pool's lifetime.  `name`
 * is the connections' application_name unless conninfo sets one ("fhirgw
 * pool 0"): what pg_stat_activity shows a DBA, and how the benchmark
 * tells the backends apart.  A statement still running after
 * `statement_timeout_ms` (0: PostgreSQL's setting) is cancelled by the
 * server and its query fails.  Connecting starts at once and proceeds on
 * the loop; returns NULL only on bad arguments.
 */
struct gw_db *gw_db_new(struct event_base *base, const char *conninfo,
    int size, const struct gw_db_statement *statements, const char *name,
    int statement_timeout_ms);

/* Close every connection; pending queries complete with an error first. */
void gw_db_free(struct gw_db *db);

/*
 * Run the prepared statement `name` with text parameters (values borrowed
 * until this call returns).  cb is always called exactly once, later, from
 * the loop (never from inside this call).  Returns GW_OK, or GW_ERR if the
 * statement is unknown (a programming error; cb is not called).
 */
int gw_db_query(struct gw_db *db, const char *name, int nparams,
    const char *const *values, gw_db_cb cb, void *arg);

/* Forget the callback of every pending query with this arg (its owner is
 * going away); the queries still run to completion. */
void gw_db_cancel(struct gw_db *db, void *arg);

/* LISTEN on channel with one connection of the pool (re-issued after every
 * reconnect).  Notifications reach cb from the loop, in the turn their
 * bytes arrive (the connection's socket is always watched for reading).
 * cb borrowed for the pool's lifetime. */
int gw_db_listen(struct gw_db *db, const char *channel, gw_db_notify_cb cb,
    void *arg);

/* Call fn(-1, 0, arg) once from the loop, soon.  GW_OK or GW_ERR. */
int gw_db_defer(struct gw_db *db, void (*fn)(int, short, void *),
    void *arg);

/* True when at least one connection is ready for queries. */
bool gw_db_ready(const struct gw_db *db);

/* What a pool has sent, for /metrics (any thread may read). */
struct gw_db_counts {
	/* Queries sent to a connection that already had one in flight
	 * (pipelined behind it): how often the pool was saturated. */
	unsigned long pipelined;
	/* Queries sent, and the Syncs that ended them: read-only queries
	 * share one, so queries / syncs is the mean group. */
	unsigned long queries, syncs;
	/* Read-only queries the server skipped after an error in another
	 * query of their group, sent again. */
	unsigned long resent;
	/* Queries sent as part of a batch, and the batches (each batch is
	 * one of `queries`; a batch skipped after another query's error
	 * sends its queries again alone, counted in `resent`). */
	unsigned long batched, batches;
};

void gw_db_counts(const struct gw_db *db, struct gw_db_counts *out);

/* Did a blocking statement succeed (rows or a command)?  NULL: no. */
bool gw_db_result_ok(const PGresult *res);

/* Blocking helpers for the command line (migrate, seed): never on a
 * worker.  gw_db_connect_blocking prints the reason and returns NULL on
 * failure. */
PGconn *gw_db_connect_blocking(const char *conninfo, const char *name);

/* Run sql (may hold several statements); GW_OK or GW_ERR with the error
 * logged. */
int gw_db_exec_blocking(PGconn *conn, const char *sql);

#endif
