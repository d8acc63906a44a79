/*
 * db.c: a per-worker pool of non-blocking libpq connections on the
 * worker's event loop.
 *
 * Each connection is a small state machine: DOWN -> CONNECTING (driven by
 * PQconnectPoll) -> PREPARING (DB_SESSION_SETUP, the statement timeout,
 * one PQsendPrepare per statement, then the LISTENs) -> IDLE <-> BUSY.
 * Queries wait in one FIFO per pool and are handed to the connection with
 * the fewest in flight.
 *
 * A ready connection is in libpq's pipeline mode: up to DB_PIPELINE_DEPTH
 * queries are sent without waiting for the one before.  A query that
 * writes is followed by its own Sync, so it runs in its own implicit
 * transaction and an error ends only that query.  Read-only queries
 * (gw_db_statement.read_only) sent to a busy connection in one turn of the
 * loop share one Sync: they reach the server in one write and run in one
 * implicit transaction (each SELECT still takes its own snapshot), which
 * spares the backend a transaction and a ReadyForQuery per query
 * (docs/benchmarks.md).  Each is followed by a Flush, so its answer is not
 * held back until the group's Sync.  The Sync goes at once to an idle
 * connection, after the answers of one connection have been taken (the
 * queries sent in answer to them), and otherwise when the turn's callbacks
 * are done (sync_cb).  An error in one of them makes the server skip the
 * rest of its group; those are sent again, not failed.  Answers come back
 * in order.  Under load the
 * backend finds the next query already in its socket buffer instead of
 * sleeping a round trip between queries, which costs it less CPU per
 * query.  Every statement runs under
 * statement_timeout: with answers in order, a query stuck on a lock would
 * otherwise hold up the ones behind it, and the requests waiting for them,
 * for as long as the lock is held.
 *
 * Queries of a batchable statement (gw_db_statement.batchable) are held
 * to the end of the turn, and those of one statement go as one batch
 * (db_batch.h, release_held).
 *
 * When a connection breaks, every query in flight on it fails, and when no
 * connection is usable every waiting query fails at once (the caller
 * answers 503 instead of hanging); reconnects back off exponentially up to
 * a few seconds.
 */
#include <assert.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/event.h>

#include "gateway/db.h"
#include "gateway/db_batch.h"
#include "gateway/gw.h"

#define DB_MAX_QUEUE 4096
#define DB_BACKOFF_MIN_MS 50
#define DB_BACKOFF_MAX_MS 2000
#define DB_QUEUE_DEADLINE_MS 5000
/* Queries in flight on one connection.  A few suffice for the backend to
 * find the next one waiting; more would only let one slow query hold up
 * those behind it while another connection idles. */
#define DB_PIPELINE_DEPTH 4
/* Read-only queries under one Sync at most.  It also keeps a group's
 * messages far below libpq's 64 kB output threshold, so none of them
 * leaves before its Sync is queued behind it (take_answers relies on it). */
#define DB_GROUP_MAX 16

/*
 * Run first on every connection.
 *
 * What the gateway commits (audit records before the answer they describe
 * leaves, consent rules, export jobs) must survive a crash of PostgreSQL.
 * A cluster whose operator turned synchronous_commit off acknowledges
 * commits it may still lose, so such a session is raised to "on"; any
 * other value (local, remote_write, remote_apply) already flushes locally
 * and is left as configured.  Read-only transactions write no commit
 * record, so reads pay nothing.
 *
 * Registry rows arrive as record text (gateway/row.h), where dates and
 * timestamps are written in the session's DateStyle: ISO is the one the
 * adapters read ("2024-05-01", "2024-05-01 10:00:00+00"), whatever the
 * cluster's default.
 */
#define DB_SESSION_SETUP                                                      \
	"SELECT set_config('datestyle', 'ISO, YMD', false), "                 \
	"CASE WHEN current_setting('synchronous_commit') = 'off' "           \
	"THEN set_config('synchronous_commit', 'on', false) END"

#define DB_MAX_LISTEN 4

enum db_state {
	DB_DOWN,
	DB_CONNECTING,
	DB_PREPARING,
	DB_IDLE,
	DB_BUSY,
};

TAILQ_HEAD(db_queue, db_query);

struct db_query {
	TAILQ_ENTRY(db_query) link;
	struct gw_db *db;
	const struct gw_db_statement *stmt;
	int nparams;
	char **values;
	gw_db_cb cb; /* NULL once cancelled */
	void *arg;
	struct timeval queued;
	PGresult *result;
	char *error;
	bool sync_after; /* a Sync follows it: its answer ends with one */
	bool solo;	 /* skipped in a group once: its own Sync now */
	/* A batch (db_batch.h) runs its statement's twin for its members,
	 * queries of the statement that wait for their part of its answer
	 * (linked by their own `link`). */
	struct db_queue members;
	int nmembers;
};

struct db_conn {
	struct gw_db *db;
	PGconn *pg;
	struct event *io;
	struct event *retry;
	enum db_state state;
	int prep_next;	/* next step of PREPARING: 0 the durability setting,
			 * 1 the timeout, then statements, then LISTENs */
	bool want_write;
	int backoff_ms;
	bool listener;	/* the one connection that LISTENs */
	struct db_queue inflight; /* sent, answered in this order */
	int ninflight;
	bool head_ended;	/* the head's results are in, its Sync next */
	int open_group;		/* read-only queries sent since the last Sync */
	/* Syncs sent after every query of their group had been answered
	 * (a Flush lets answers come before the Sync): their
	 * PGRES_PIPELINE_SYNC comes before any answer still in flight. */
	int bare_syncs;
	PGresult *prep_error;
};

struct db_listen {
	char *channel;
	gw_db_notify_cb cb;
	void *arg;
};

struct gw_db {
	struct event_base *base;
	char *conninfo;
	char *name; /* fallback_application_name */
	int statement_timeout_ms;
	/* The caller's statements (names and texts borrowed), then from
	 * index ngiven the twins of the batchable ones (names and texts
	 * owned); twin[i], i < ngiven, is the index of statement i's twin,
	 * or -1. */
	struct gw_db_statement *statements;
	int nstatements, ngiven;
	int *twin;
	int size;
	struct db_conn *conns;
	struct db_queue queue;
	int queued;
	struct db_queue done; /* failed fast, completed from a timer */
	/* Queries of batchable statements, released at the end of the
	 * loop's turn (release_held). */
	struct db_queue held;
	int nheld;
	struct event *done_ev;
	struct event *sync_ev; /* end the open groups (sync_cb) */
	bool sync_pending;
	struct event *sweep;
	struct db_listen listens[DB_MAX_LISTEN];
	int nlistens;
	atomic_int ready; /* connections IDLE or BUSY; read by /readyz */
	/* For /metrics: see struct gw_db_counts. */
	atomic_ulong pipelined, sent, syncs, resent, batched, batches;
};

static void conn_io(evutil_socket_t fd, short what, void *arg);
static void conn_start(struct db_conn *c);
static void dispatch(struct gw_db *db);
static void release_held(struct gw_db *db);
static void end_groups(struct gw_db *db);

static const struct gw_db_statement *
find_statement(const struct gw_db *db, const char *name)
{
	for (int i = 0; i < db->nstatements; i++)
		if (strcmp(db->statements[i].name, name) == 0)
			return &db->statements[i];
	return NULL;
}

static void
query_free(struct db_query *q)
{
	assert(q->nmembers == 0);
	for (int i = 0; i < q->nparams; i++)
		free(q->values[i]);
	free(q->values);
	PQclear(q->result);
	free(q->error);
	free(q);
}

static void done_cb(evutil_socket_t fd, short what, void *arg);

/*
 * Hand each member of batch b its part of b's answer, or b's error, and
 * complete them.  They go through the pool's done list, where
 * gw_db_cancel still finds them: a member's callback may free another
 * member's owner.
 */
static void
complete_batch(struct db_query *b)
{
	PGresult *parts[GW_DB_BATCH_MAX];
	const char *error = b->error;
	struct gw_db *db = b->db;
	struct db_query *m;
	int i = b->nmembers;

	if (error == NULL && (b->result == NULL ||
		gw_db_batch_split(b->result, parts, b->nmembers) != 0))
		error = "batched answer out of shape";
	while ((m = TAILQ_LAST(&b->members, db_queue)) != NULL) {
		TAILQ_REMOVE(&b->members, m, link);
		i--;
		if (error != NULL)
			m->error = gw_strdup(error);
		else
			m->result = parts[i];
		TAILQ_INSERT_HEAD(&db->done, m, link);
	}
	b->nmembers = 0;
	query_free(b);
	done_cb(-1, 0, db);
}

/* Run the callback (if still wanted) and free the query. */
static void
query_complete(struct db_query *q)
{
	if (q->nmembers > 0) {
		complete_batch(q);
		return;
	}
	if (q->cb != NULL) {
		if (q->error == NULL && q->result != NULL)
			q->cb(q->result, NULL, q->arg);
		else
			q->cb(NULL, q->error ? q->error : "no result", q->arg);
	}
	query_free(q);
}

/* Fail q later from the loop (callbacks never run inside gw_db_query). */
static void
query_fail_later(struct gw_db *db, struct db_query *q, const char *why)
{
	if (q->error == NULL)
		q->error = gw_strdup(why);
	TAILQ_INSERT_TAIL(&db->done, q, link);
	event_active(db->done_ev, 0, 0);
}

static void
done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gw_db *db = arg;
	struct db_query *q;

	(void)fd;
	(void)what;
	while ((q = TAILQ_FIRST(&db->done)) != NULL) {
		TAILQ_REMOVE(&db->done, q, link);
		query_complete(q);
	}
}

static bool
any_usable(const struct gw_db *db)
{
	for (int i = 0; i < db->size; i++) {
		enum db_state s = db->conns[i].state;

		if (s == DB_IDLE || s == DB_BUSY || s == DB_PREPARING ||
		    s == DB_CONNECTING)
			return true;
	}
	return false;
}

static void
fail_queue(struct gw_db *db, const char *why)
{
	struct db_query *q;

	while ((q = TAILQ_FIRST(&db->queue)) != NULL) {
		TAILQ_REMOVE(&db->queue, q, link);
		db->queued--;
		query_fail_later(db, q, why);
	}
	while ((q = TAILQ_FIRST(&db->held)) != NULL) {
		TAILQ_REMOVE(&db->held, q, link);
		db->nheld--;
		query_fail_later(db, q, why);
	}
}

static void
set_io(struct db_conn *c, bool want_write)
{
	short what = EV_READ | EV_PERSIST | (want_write ? EV_WRITE : 0);

	if (c->io != NULL && c->want_write == want_write &&
	    event_get_fd(c->io) == PQsocket(c->pg))
		return;
	if (c->io != NULL)
		event_free(c->io);
	c->io = event_new(c->db->base, PQsocket(c->pg), what, conn_io, c);
	c->want_write = want_write;
	event_add(c->io, NULL);
}

static void
fail_inflight(struct db_conn *c, const char *why)
{
	struct db_query *q;

	while ((q = TAILQ_FIRST(&c->inflight)) != NULL) {
		TAILQ_REMOVE(&c->inflight, q, link);
		query_fail_later(c->db, q, why);
	}
	c->ninflight = 0;
	c->head_ended = false;
	c->open_group = 0;
	c->bare_syncs = 0;
}

static void
conn_down(struct db_conn *c, const char *why_given)
{
	struct gw_db *db = c->db;
	bool was_ready = c->state == DB_IDLE || c->state == DB_BUSY;
	struct timeval tv;
	char why[256];

	/* why_given is often PQerrorMessage(c->pg), which PQfinish frees. */
	gw_strlcpy(why, why_given, sizeof(why));
	if (c->state != DB_DOWN && c->state != DB_CONNECTING)
		gw_warn("db: connection lost: %s", why);
	if (was_ready)
		atomic_fetch_sub(&db->ready, 1);
	if (c->io != NULL) {
		event_free(c->io);
		c->io = NULL;
	}
	if (c->pg != NULL) {
		PQfinish(c->pg);
		c->pg = NULL;
	}
	PQclear(c->prep_error);
	c->prep_error = NULL;
	fail_inflight(c, why);
	c->state = DB_DOWN;
	if (!any_usable(db))
		fail_queue(db, why);
	if (c->listener) {
		for (int i = 0; i < db->nlistens; i++)
			db->listens[i].cb(NULL, NULL, db->listens[i].arg);
	}
	c->backoff_ms = c->backoff_ms == 0 ? DB_BACKOFF_MIN_MS :
	    c->backoff_ms * 2;
	if (c->backoff_ms > DB_BACKOFF_MAX_MS)
		c->backoff_ms = DB_BACKOFF_MAX_MS;
	tv.tv_sec = c->backoff_ms / 1000;
	tv.tv_usec = (c->backoff_ms % 1000) * 1000;
	evtimer_add(c->retry, &tv);
}

static void
retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	conn_start(arg);
}

/*
 * Connect to conninfo (a keyword string or a URI) with name as the
 * fallback_application_name: a name set in conninfo still wins.
 */
static PGconn *
connect_params(const char *conninfo, const char *name, bool blocking)
{
	const char *const keys[] = { "dbname", "fallback_application_name",
		NULL };
	const char *const values[] = { conninfo, name, NULL };

	return blocking ? PQconnectdbParams(keys, values, 1) :
	    PQconnectStartParams(keys, values, 1);
}

static void
conn_start(struct db_conn *c)
{
	c->pg = connect_params(c->db->conninfo, c->db->name, false);
	if (c->pg == NULL || PQstatus(c->pg) == CONNECTION_BAD) {
		conn_down(c, c->pg ? PQerrorMessage(c->pg) : "out of memory");
		return;
	}
	c->state = DB_CONNECTING;
	/* PQconnectPoll starts by wanting to write (the connect). */
	set_io(c, true);
}

/* Send DB_SESSION_SETUP, the statement timeout, then the next statement
 * to prepare, then the next LISTEN; becomes IDLE when all are done. */
static void
prepare_next(struct db_conn *c)
{
	struct gw_db *db = c->db;
	int i = c->prep_next++ - 2;
	int ok;

	if (i == -2) {
		ok = PQsendQuery(c->pg, DB_SESSION_SETUP);
	} else if (i == -1) {
		char sql[64];

		if (db->statement_timeout_ms == 0) {
			prepare_next(c);
			return;
		}
		snprintf(sql, sizeof(sql), "SET statement_timeout = %d",
		    db->statement_timeout_ms);
		ok = PQsendQuery(c->pg, sql);
	} else if (i < db->nstatements) {
		const struct gw_db_statement *s = &db->statements[i];

		ok = PQsendPrepare(c->pg, s->name, s->sql, s->nparams, NULL);
	} else if (c->listener && i < db->nstatements + db->nlistens) {
		char *chan = PQescapeIdentifier(c->pg,
		    db->listens[i - db->nstatements].channel,
		    strlen(db->listens[i - db->nstatements].channel));
		char sql[160];

		if (chan == NULL) {
			conn_down(c, PQerrorMessage(c->pg));
			return;
		}
		snprintf(sql, sizeof(sql), "LISTEN %s", chan);
		PQfreemem(chan);
		ok = PQsendQuery(c->pg, sql);
	} else {
		if (PQenterPipelineMode(c->pg) != 1) {
			conn_down(c, PQerrorMessage(c->pg));
			return;
		}
		c->state = DB_IDLE;
		c->backoff_ms = 0;
		atomic_fetch_add(&db->ready, 1);
		if (c->listener) {
			/* Anything may have changed while we were away. */
			for (int j = 0; j < db->nlistens; j++)
				db->listens[j].cb(NULL, NULL,
				    db->listens[j].arg);
		}
		dispatch(db);
		return;
	}
	if (!ok) {
		conn_down(c, PQerrorMessage(c->pg));
		return;
	}
	set_io(c, PQflush(c->pg) == 1);
}

static void
poll_connect(struct db_conn *c)
{
	switch (PQconnectPoll(c->pg)) {
	case PGRES_POLLING_READING:
		set_io(c, false);
		break;
	case PGRES_POLLING_WRITING:
		set_io(c, true);
		break;
	case PGRES_POLLING_OK:
		if (PQsetnonblocking(c->pg, 1) != 0) {
			conn_down(c, PQerrorMessage(c->pg));
			return;
		}
		c->state = DB_PREPARING;
		c->prep_next = 0;
		prepare_next(c);
		break;
	default:
		conn_down(c, PQerrorMessage(c->pg));
		break;
	}
}

static void
deliver_notifies(struct db_conn *c)
{
	struct gw_db *db = c->db;
	PGnotify *n;

	while ((n = PQnotifies(c->pg)) != NULL) {
		for (int i = 0; i < db->nlistens; i++)
			if (strcmp(db->listens[i].channel, n->relname) == 0)
				db->listens[i].cb(n->relname, n->extra,
				    db->listens[i].arg);
		PQfreemem(n);
	}
}

/* Collect results until the current command is complete.  Returns true
 * when it is (and *first holds its first result, owned by the caller). */
static bool
collect(struct db_conn *c, PGresult **first)
{
	PGresult *r;

	while (!PQisBusy(c->pg)) {
		r = PQgetResult(c->pg);
		if (r == NULL)
			return true;
		if (*first == NULL)
			*first = r;
		else
			PQclear(r);
	}
	return false;
}

/* Complete q with its result; a result that is not a success is its
 * error. */
static void
finish_query(struct db_query *q)
{
	ExecStatusType st =
	    q->result ? PQresultStatus(q->result) : PGRES_FATAL_ERROR;

	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		const char *msg =
		    q->result ? PQresultErrorMessage(q->result) : "no result";

		q->error = gw_strdup(msg[0] ? msg : "query failed");
	}
	query_complete(q);
}

/* Idle once nothing is owed: no query in flight, no Sync to send or to
 * be answered. */
static void
settle(struct db_conn *c)
{
	if (c->ninflight == 0 && c->open_group == 0 && c->bare_syncs == 0)
		c->state = DB_IDLE;
}

/* Send q again from the head of the queue: the server skipped it after
 * an error in another query of its group.  Alone this time, so that its
 * fate is its own: a group of queries stuck on one lock ends each at the
 * statement timeout once, not one by one. */
static void
requeue(struct gw_db *db, struct db_query *q)
{
	struct db_query *m;

	if (q->nmembers > 0) {
		/* The batch is gone; its members go back one by one, in
		 * their order. */
		while ((m = TAILQ_LAST(&q->members, db_queue)) != NULL) {
			TAILQ_REMOVE(&q->members, m, link);
			q->nmembers--;
			requeue(db, m);
		}
		query_free(q);
		return;
	}
	PQclear(q->result);
	q->result = NULL;
	q->solo = true;
	atomic_fetch_add(&db->resent, 1);
	TAILQ_INSERT_HEAD(&db->queue, q, link);
	db->queued++;
}

/* Take the PGRES_PIPELINE_SYNC that must come next: 1 taken, 0 not in
 * yet, -1 something else came and the connection is down. */
static int
take_sync(struct db_conn *c)
{
	PGresult *r;

	if (PQisBusy(c->pg))
		return 0;
	r = PQgetResult(c->pg);
	if (r == NULL || PQresultStatus(r) != PGRES_PIPELINE_SYNC) {
		PQclear(r);
		conn_down(c, "answers out of step with the pipeline");
		return -1;
	}
	PQclear(r);
	return 1;
}

/*
 * Take every answer libpq has whole.  In pipeline mode a query's answer is
 * its results up to NULL (collect), then, for the last query before a Sync,
 * the PGRES_PIPELINE_SYNC of that Sync; only then is it complete and the
 * next in flight begins.  A query of an open group has not left yet (its
 * messages wait in libpq for the group's Sync), so no answer can start
 * before sync_after is settled.  A callback may send queries (onto this
 * connection too) or take the connection down, so the state is checked on
 * every turn.
 */
static void
take_answers(struct db_conn *c)
{
	while (c->state == DB_BUSY) {
		struct db_query *q = TAILQ_FIRST(&c->inflight);

		if (c->bare_syncs > 0) {
			if (take_sync(c) <= 0)
				return;
			c->bare_syncs--;
			settle(c);
			continue;
		}
		/* Busy only for an open group whose queries are answered:
		 * its Sync has not gone yet. */
		if (q == NULL)
			return;
		if (!c->head_ended) {
			if (!collect(c, &q->result))
				return;
			c->head_ended = true;
		}
		if (q->sync_after && take_sync(c) <= 0)
			return;
		c->head_ended = false;
		TAILQ_REMOVE(&c->inflight, q, link);
		c->ninflight--;
		settle(c);
		if (q->stmt->read_only && q->result != NULL &&
		    PQresultStatus(q->result) == PGRES_PIPELINE_ABORTED)
			requeue(c->db, q);
		else
			finish_query(q);
	}
}

static void
on_readable(struct db_conn *c)
{
	struct gw_db *db = c->db;

	if (PQconsumeInput(c->pg) == 0) {
		conn_down(c, PQerrorMessage(c->pg));
		return;
	}
	deliver_notifies(c);
	if (c->state == DB_PREPARING) {
		if (!collect(c, &c->prep_error))
			return;
		if (c->prep_error != NULL &&
		    PQresultStatus(c->prep_error) != PGRES_COMMAND_OK &&
		    PQresultStatus(c->prep_error) != PGRES_TUPLES_OK) {
			gw_error("db: preparing statements failed: %s",
			    PQresultErrorMessage(c->prep_error));
			conn_down(c, "statement preparation failed");
			return;
		}
		PQclear(c->prep_error);
		c->prep_error = NULL;
		prepare_next(c);
		return;
	}
	take_answers(c);
	release_held(db);
	dispatch(db);
	/* Queries sent in answer to answers leave now, as one group: the
	 * rest of the turn (building answers) may be long, and the backend
	 * that just answered would idle through it. */
	end_groups(db);
}

static void
conn_io(evutil_socket_t fd, short what, void *arg)
{
	struct db_conn *c = arg;

	(void)fd;
	if (c->state == DB_CONNECTING) {
		poll_connect(c);
		return;
	}
	if (what & EV_WRITE) {
		int f = PQflush(c->pg);

		if (f < 0) {
			conn_down(c, PQerrorMessage(c->pg));
			return;
		}
		set_io(c, f == 1);
	}
	if (what & EV_READ)
		on_readable(c);
}

/* Queue a Sync behind the last query sent on c, and send what waits. */
static void
send_sync(struct db_conn *c)
{
	struct db_query *last = TAILQ_LAST(&c->inflight, db_queue);

	/* The last query in flight, if any, is the group's last: the ones
	 * before it were sent before it, and answers come in order. */
	c->open_group = 0;
	if (last != NULL)
		last->sync_after = true;
	else
		c->bare_syncs++;
	atomic_fetch_add(&c->db->syncs, 1);
	if (PQpipelineSync(c->pg) != 1) {
		conn_down(c, PQerrorMessage(c->pg));
		return;
	}
	set_io(c, PQflush(c->pg) == 1);
}

/* Every open group gets its Sync. */
static void
end_groups(struct gw_db *db)
{
	for (int i = 0; i < db->size; i++) {
		struct db_conn *c = &db->conns[i];

		if (c->state == DB_BUSY && c->open_group > 0)
			send_sync(c);
	}
}

/* End of the loop's turn. */
static void
sync_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gw_db *db = arg;

	(void)fd;
	(void)what;
	db->sync_pending = false;
	release_held(db);
	dispatch(db);
	end_groups(db);
}

/* Have sync_cb run once the loop's turn has run its other callbacks. */
static void
end_turn_soon(struct gw_db *db)
{
	if (!db->sync_pending) {
		db->sync_pending = true;
		event_active(db->sync_ev, 0, 0);
	}
}

static void
send_query(struct db_conn *c, struct db_query *q)
{
	struct gw_db *db = c->db;
	bool grouped = q->stmt->read_only && !q->solo;

	/* A query that writes never joins a group: the open one ends
	 * first. */
	if (!grouped && c->open_group > 0) {
		send_sync(c);
		if (c->state != DB_BUSY) {
			TAILQ_INSERT_HEAD(&db->queue, q, link);
			db->queued++;
			return;
		}
	}
	if (c->ninflight > 0)
		atomic_fetch_add(&db->pipelined, 1);
	TAILQ_INSERT_TAIL(&c->inflight, q, link);
	c->ninflight++;
	c->state = DB_BUSY;
	q->sync_after = false;
	if (PQsendQueryPrepared(c->pg, q->stmt->name, q->nparams,
		(const char *const *)q->values, NULL, NULL, 0) != 1) {
		conn_down(c, PQerrorMessage(c->pg));
		return;
	}
	/* The server flushes each query's results as they are done, not
	 * at the group's Sync: the first answer of a group must not wait
	 * for the others to run. */
	if (grouped && PQsendFlushRequest(c->pg) != 1) {
		conn_down(c, PQerrorMessage(c->pg));
		return;
	}
	atomic_fetch_add(&db->sent, 1);
	/* A connection with nothing else in flight has an idle backend: the
	 * query leaves now rather than wait for the end of the turn. */
	if (!grouped || c->ninflight == 1 ||
	    ++c->open_group >= DB_GROUP_MAX) {
		send_sync(c);
		return;
	}
	/* The Sync waits for the turn's other callbacks, which may send
	 * more reads. */
	end_turn_soon(db);
}

/* The ready connection with the fewest queries in flight, below the
 * depth; the first such on a tie. */
static struct db_conn *
least_busy(struct gw_db *db)
{
	struct db_conn *best = NULL;

	for (int k = 0; k < db->size; k++) {
		struct db_conn *c = &db->conns[k];

		if (c->state != DB_IDLE && c->state != DB_BUSY)
			continue;
		if (c->ninflight >= DB_PIPELINE_DEPTH)
			continue;
		if (best == NULL || c->ninflight < best->ninflight)
			best = c;
	}
	return best;
}

static void
dispatch(struct gw_db *db)
{
	struct db_conn *c;

	while (!TAILQ_EMPTY(&db->queue) && (c = least_busy(db)) != NULL) {
		struct db_query *q = TAILQ_FIRST(&db->queue);

		TAILQ_REMOVE(&db->queue, q, link);
		db->queued--;
		send_query(c, q);
	}
}

static void
enqueue(struct gw_db *db, struct db_query *q)
{
	TAILQ_INSERT_TAIL(&db->queue, q, link);
	db->queued++;
}

/* A batch of q's statement's twin, q its first member. */
static struct db_query *
batch_new(struct gw_db *db, struct db_query *q)
{
	struct db_query *b = gw_calloc(1, sizeof(*b));

	b->db = db;
	b->stmt = &db->statements[db->twin[q->stmt - db->statements]];
	b->nparams = 1;
	b->queued = q->queued;
	TAILQ_INIT(&b->members);
	TAILQ_INSERT_TAIL(&b->members, q, link);
	b->nmembers = 1;
	return b;
}

/* The batch's one parameter: its members' parameters, joined. */
static void
batch_seal(struct gw_db *db, struct db_query *b)
{
	const char *values[GW_DB_BATCH_MAX];
	struct db_query *m;
	int n = 0;

	TAILQ_FOREACH(m, &b->members, link)
		values[n++] = m->values[0];
	b->values = gw_calloc(1, sizeof(char *));
	b->values[0] = gw_db_batch_param(values, n);
	atomic_fetch_add(&db->batches, 1);
	atomic_fetch_add(&db->batched, (unsigned long)n);
}

/*
 * The end of a turn (or of a connection's answers) for the queries held
 * in it: those of one statement go to the queue as one batch
 * (GW_DB_BATCH_MAX at most each), a query alone as itself, in the order
 * their first query came.  To a busy connection they leave when they
 * would have left unbatched: a pipelined read waits in libpq for its
 * group's Sync at the turn's end anyway.
 */
static void
release_held(struct gw_db *db)
{
	struct db_query *q;

	while ((q = TAILQ_FIRST(&db->held)) != NULL) {
		struct db_query *b = NULL, *m, *next;

		TAILQ_REMOVE(&db->held, q, link);
		db->nheld--;
		if (!any_usable(db)) {
			query_fail_later(db, q, "database unavailable");
			continue;
		}
		for (m = TAILQ_FIRST(&db->held); m != NULL &&
		     (b == NULL || b->nmembers < GW_DB_BATCH_MAX); m = next) {
			next = TAILQ_NEXT(m, link);
			if (m->stmt != q->stmt)
				continue;
			if (b == NULL)
				b = batch_new(db, q);
			TAILQ_REMOVE(&db->held, m, link);
			db->nheld--;
			TAILQ_INSERT_TAIL(&b->members, m, link);
			b->nmembers++;
		}
		if (b != NULL)
			batch_seal(db, b);
		enqueue(db, b != NULL ? b : q);
	}
}

/* Fail queries that waited too long for a connection (server hung or
 * still coming up): a client gets 503 instead of a hang. */
static void
sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gw_db *db = arg;
	struct timeval now, age;
	struct db_query *q;

	(void)fd;
	(void)what;
	event_base_gettimeofday_cached(db->base, &now);
	while ((q = TAILQ_FIRST(&db->queue)) != NULL) {
		timersub(&now, &q->queued, &age);
		if (age.tv_sec * 1000 + age.tv_usec / 1000 <
		    DB_QUEUE_DEADLINE_MS)
			break;
		TAILQ_REMOVE(&db->queue, q, link);
		db->queued--;
		query_fail_later(db, q, "timed out waiting for a connection");
	}
}

/* The pool's statements: a copy of the caller's (their texts borrowed),
 * then a twin for each batchable one (db_batch.h). */
static void
add_statements(struct gw_db *db, const struct gw_db_statement *given)
{
	int n = 0, k;

	while (given != NULL && given[n].name != NULL)
		n++;
	db->statements = gw_calloc((size_t)(2 * n + 1),
	    sizeof(*db->statements));
	db->twin = gw_calloc((size_t)(n + 1), sizeof(*db->twin));
	db->ngiven = n;
	if (n > 0)
		memcpy(db->statements, given, (size_t)n * sizeof(*given));
	k = n;
	for (int i = 0; i < n; i++) {
		struct gw_db_statement *s = &db->statements[i];
		char *sql = NULL, *name;
		size_t len;

		db->twin[i] = -1;
		if (!s->batchable)
			continue;
		if (s->read_only && s->nparams == 1)
			sql = gw_db_batch_sql(s->sql);
		if (sql == NULL) {
			gw_error("db: statement %s cannot be batched", s->name);
			s->batchable = false;
			continue;
		}
		len = strlen(s->name) + sizeof(".batch");
		name = gw_malloc(len);
		snprintf(name, len, "%s.batch", s->name);
		db->statements[k] = (struct gw_db_statement){ .name = name,
			.sql = sql, .nparams = 1, .read_only = true };
		db->twin[i] = k++;
	}
	db->nstatements = k;
}

struct gw_db *
gw_db_new(struct event_base *base, const char *conninfo, int size,
    const struct gw_db_statement *statements, const char *name,
    int statement_timeout_ms)
{
	struct gw_db *db;
	struct timeval tick = { 0, 250000 };

	if (base == NULL || conninfo == NULL || name == NULL || size < 1 ||
	    statement_timeout_ms < 0)
		return NULL;
	db = gw_calloc(1, sizeof(*db));
	db->base = base;
	db->conninfo = gw_strdup(conninfo);
	db->name = gw_strdup(name);
	db->statement_timeout_ms = statement_timeout_ms;
	add_statements(db, statements);
	db->size = size;
	db->conns = gw_calloc((size_t)size, sizeof(*db->conns));
	TAILQ_INIT(&db->queue);
	TAILQ_INIT(&db->done);
	TAILQ_INIT(&db->held);
	atomic_init(&db->ready, 0);
	atomic_init(&db->batched, 0);
	atomic_init(&db->batches, 0);
	atomic_init(&db->pipelined, 0);
	atomic_init(&db->sent, 0);
	atomic_init(&db->syncs, 0);
	atomic_init(&db->resent, 0);
	db->done_ev = event_new(base, -1, 0, done_cb, db);
	db->sync_ev = event_new(base, -1, 0, sync_cb, db);
	db->sweep = event_new(base, -1, EV_PERSIST, sweep_cb, db);
	event_add(db->sweep, &tick);
	for (int i = 0; i < size; i++) {
		struct db_conn *c = &db->conns[i];

		c->db = db;
		c->listener = i == 0;
		TAILQ_INIT(&c->inflight);
		c->retry = evtimer_new(base, retry_cb, c);
		conn_start(c);
	}
	return db;
}

void
gw_db_free(struct gw_db *db)
{
	if (db == NULL)
		return;
	for (int i = 0; i < db->size; i++) {
		struct db_conn *c = &db->conns[i];

		fail_inflight(c, "shutting down");
		if (c->io != NULL)
			event_free(c->io);
		event_free(c->retry);
		PQclear(c->prep_error);
		if (c->pg != NULL)
			PQfinish(c->pg);
	}
	fail_queue(db, "shutting down");
	done_cb(-1, 0, db);
	event_free(db->done_ev);
	event_free(db->sync_ev);
	event_free(db->sweep);
	for (int i = 0; i < db->nlistens; i++)
		free(db->listens[i].channel);
	gw_free_zero(db->conninfo, strlen(db->conninfo));
	free(db->name);
	free(db->conns);
	for (int i = db->ngiven; i < db->nstatements; i++) {
		free((char *)(uintptr_t)db->statements[i].name);
		free((char *)(uintptr_t)db->statements[i].sql);
	}
	free(db->twin);
	free(db->statements);
	free(db);
}

int
gw_db_query(struct gw_db *db, const char *name, int nparams,
    const char *const *values, gw_db_cb cb, void *arg)
{
	const struct gw_db_statement *stmt = find_statement(db, name);
	struct db_query *q;

	if (stmt == NULL || nparams != stmt->nparams) {
		gw_error("db: unknown statement %s/%d", name, nparams);
		return GW_ERR;
	}
	q = gw_calloc(1, sizeof(*q));
	q->db = db;
	q->stmt = stmt;
	TAILQ_INIT(&q->members);
	q->nparams = nparams;
	q->values = gw_calloc((size_t)(nparams > 0 ? nparams : 1),
	    sizeof(char *));
	for (int i = 0; i < nparams; i++)
		q->values[i] = values[i] ? gw_strdup(values[i]) : NULL;
	q->cb = cb;
	q->arg = arg;
	event_base_gettimeofday_cached(db->base, &q->queued);
	if (!any_usable(db)) {
		query_fail_later(db, q, "database unavailable");
		return GW_OK;
	}
	if (db->queued + db->nheld >= DB_MAX_QUEUE) {
		query_fail_later(db, q, "database queue full");
		return GW_OK;
	}
	/* A batchable query is held to the end of the turn, where the
	 * others of its statement that the turn brings join it
	 * (release_held); alone, it still goes as itself.  Sending it at
	 * once to an idle connection instead saves the rest of the turn, but
	 * at 16 clients half the reads then ran alone, and each costs
	 * PostgreSQL a plan of its own (docs/benchmarks.md). */
	if (stmt->batchable && gw_db_batch_value_ok(q->values[0])) {
		TAILQ_INSERT_TAIL(&db->held, q, link);
		db->nheld++;
		end_turn_soon(db);
		return GW_OK;
	}
	enqueue(db, q);
	dispatch(db);
	return GW_OK;
}

/* Forget the callbacks for arg in a list of queries and their batches'
 * members. */
static void
cancel_in(struct db_queue *list, void *arg)
{
	struct db_query *q, *m;

	TAILQ_FOREACH(q, list, link) {
		if (q->arg == arg)
			q->cb = NULL;
		TAILQ_FOREACH(m, &q->members, link)
			if (m->arg == arg)
				m->cb = NULL;
	}
}

void
gw_db_cancel(struct gw_db *db, void *arg)
{
	cancel_in(&db->queue, arg);
	cancel_in(&db->held, arg);
	cancel_in(&db->done, arg);
	for (int i = 0; i < db->size; i++)
		cancel_in(&db->conns[i].inflight, arg);
}

int
gw_db_listen(struct gw_db *db, const char *channel, gw_db_notify_cb cb,
    void *arg)
{
	if (db->nlistens == DB_MAX_LISTEN)
		return GW_ERR;
	db->listens[db->nlistens].channel = gw_strdup(channel);
	db->listens[db->nlistens].cb = cb;
	db->listens[db->nlistens].arg = arg;
	db->nlistens++;
	/* Connections already up pick it up on their next reconnect; register
	 * listens before the loop runs. */
	return GW_OK;
}

int
gw_db_defer(struct gw_db *db, void (*fn)(int, short, void *), void *arg)
{
	struct timeval now = { 0, 0 };

	return event_base_once(db->base, -1, EV_TIMEOUT, fn, arg, &now) == 0 ?
	    GW_OK : GW_ERR;
}

void
gw_db_counts(const struct gw_db *db, struct gw_db_counts *out)
{
	struct gw_db *d = (struct gw_db *)(uintptr_t)db;

	out->pipelined = atomic_load(&d->pipelined);
	out->queries = atomic_load(&d->sent);
	out->syncs = atomic_load(&d->syncs);
	out->resent = atomic_load(&d->resent);
	out->batched = atomic_load(&d->batched);
	out->batches = atomic_load(&d->batches);
}

bool
gw_db_ready(const struct gw_db *db)
{
	return atomic_load(&((struct gw_db *)(uintptr_t)db)->ready) > 0;
}

bool
gw_db_result_ok(const PGresult *res)
{
	ExecStatusType st = PQresultStatus(res); /* NULL: PGRES_FATAL_ERROR */

	return st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK;
}

PGconn *
gw_db_connect_blocking(const char *conninfo, const char *name)
{
	PGconn *conn = connect_params(conninfo, name, true);

	if (PQstatus(conn) != CONNECTION_OK) {
		gw_error("db: %s", PQerrorMessage(conn));
		PQfinish(conn);
		return NULL;
	}
	if (gw_db_exec_blocking(conn, DB_SESSION_SETUP) != GW_OK) {
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

int
gw_db_exec_blocking(PGconn *conn, const char *sql)
{
	PGresult *r = PQexec(conn, sql);
	int rc = GW_OK;

	if (!gw_db_result_ok(r)) {
		gw_error("db: %s", PQresultErrorMessage(r));
		rc = GW_ERR;
	}
	PQclear(r);
	return rc;
}
