/*
 * replica_watch.c: the replica's lag, from the two positions (see
 * replica_watch.h).
 *
 * samples[] is a ring of (time, primary insert position), one per tick,
 * long enough to reach max_lag back.  A tick sends the two queries at
 * once and does nothing while either is still out, so a slow database
 * slows the sampling, not the loop.
 */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "gateway/gw.h"
#include "gateway/latency.h"
#include "gateway/replica_watch.h"
#include "gateway/server.h"

const struct gw_db_statement gw_replica_watch_statements[] = {
    {.name = "gw_wal_insert_lsn",
        .nparams = 0,
        .sql = "select pg_current_wal_insert_lsn()::text"},
    /* A replica that was promoted (or the primary named as replica) has
     * everything it has written. */
    {.name = "gw_wal_replay_lsn",
        .nparams = 0,
        .sql = "select (case when pg_is_in_recovery() then"
               " pg_last_wal_replay_lsn() else pg_current_wal_insert_lsn()"
               " end)::text"},
    {.name = NULL},
};

struct sample {
	uint64_t at_ms;
	uint64_t lsn;
};

struct gw_replica_watch {
	struct gw_worker *w;
	struct event *tick;
	uint64_t max_lag_ms;
	struct sample *samples; /* ring */
	int nsamples, next, filled;
	int out;              /* queries still to answer this tick */
	uint64_t replica_lsn; /* this tick's, 0: none */
	atomic_bool fresh;    /* /metrics reads it from worker 0 */
};

/* "16/B374D848" -> 0x16B374D848; 0 when it is not an LSN. */
static uint64_t
parse_lsn(const char *s)
{
	char *end;
	unsigned long long hi, lo;

	hi = strtoull(s, &end, 16);
	if (end == s || *end != '/')
		return 0;
	s = end + 1;
	lo = strtoull(s, &end, 16);
	if (end == s || *end != '\0' || lo > UINT32_MAX)
		return 0;
	return ((uint64_t)hi << 32) | lo;
}

static uint64_t
lsn_of(const PGresult *res)
{
	if (res == NULL || PQntuples(res) != 1 || PQgetisnull(res, 0, 0))
		return 0;
	return parse_lsn(PQgetvalue(res, 0, 0));
}

/* The primary's position max_lag ago: the newest sample at least that
 * old, or (early on) the oldest there is. */
static uint64_t
target(const struct gw_replica_watch *rw, uint64_t now)
{
	uint64_t best = 0;
	bool found = false;
	int oldest = rw->filled < rw->nsamples ? 0 : rw->next;

	for (int i = 0; i < rw->filled; i++) {
		const struct sample *s =
		    &rw->samples[(oldest + i) % rw->nsamples];

		if (s->at_ms + rw->max_lag_ms <= now) {
			best = s->lsn;
			found = true;
		} else if (!found) {
			return s->lsn;
		}
	}
	return best;
}

static void
judge(struct gw_replica_watch *rw)
{
	bool was = atomic_load(&rw->fresh), now;

	now = rw->replica_lsn != 0 && rw->filled > 0 &&
	      rw->replica_lsn >= target(rw, gw_latency_now_us() / 1000);
	atomic_store(&rw->fresh, now);
	/* One worker speaks for all: they see the same two servers. */
	if (rw->w->id != 0 || was == now ||
	    atomic_load(&rw->w->server->stopping))
		return;
	if (now)
		gw_info("registry replica within %" PRIu64 " ms:"
		        " reading from it",
		    rw->max_lag_ms);
	else
		gw_warn("registry replica more than %" PRIu64 " ms behind (or"
		        " not answering): reading from the primary",
		    rw->max_lag_ms);
}

static void
primary_done(const PGresult *res, const char *error, void *arg)
{
	struct gw_replica_watch *rw = arg;
	uint64_t lsn = lsn_of(res);

	(void)error;
	if (lsn != 0) {
		rw->samples[rw->next] = (struct sample){
		    .at_ms = gw_latency_now_us() / 1000, .lsn = lsn};
		rw->next = (rw->next + 1) % rw->nsamples;
		if (rw->filled < rw->nsamples)
			rw->filled++;
	}
	if (--rw->out == 0)
		judge(rw);
}

static void
replica_done(const PGresult *res, const char *error, void *arg)
{
	struct gw_replica_watch *rw = arg;

	(void)error;
	rw->replica_lsn = lsn_of(res);
	if (--rw->out == 0)
		judge(rw);
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct gw_replica_watch *rw = arg;

	(void)fd;
	(void)what;
	if (rw->out > 0)
		return;
	/* The primary is sampled even while the replica is away, so that a
	 * replica coming back is measured against where the primary is now,
	 * not where it was when the replica left.  The primary first: the
	 * replica's answer is then compared with a target at least as old
	 * as itself. */
	rw->replica_lsn = 0;
	rw->out = gw_db_ready(rw->w->replica) ? 2 : 1;
	gw_db_query(rw->w->db, "gw_wal_insert_lsn", 0, NULL, primary_done, rw);
	if (rw->out == 2)
		gw_db_query(rw->w->replica, "gw_wal_replay_lsn", 0, NULL,
		    replica_done, rw);
}

struct gw_replica_watch *
gw_replica_watch_new(struct gw_worker *w, int max_lag_ms)
{
	struct gw_replica_watch *rw = gw_calloc(1, sizeof(*rw));
	static const struct timeval every = {0, GW_REPLICA_TICK_MS * 1000};

	rw->w = w;
	atomic_init(&rw->fresh, false);
	rw->max_lag_ms = (uint64_t)max_lag_ms;
	rw->nsamples = max_lag_ms / GW_REPLICA_TICK_MS + 2;
	rw->samples = gw_calloc((size_t)rw->nsamples, sizeof(*rw->samples));
	rw->tick = event_new(w->base, -1, EV_PERSIST, on_tick, rw);
	if (rw->tick == NULL || event_add(rw->tick, &every) != 0)
		gw_fatal("replica watch: cannot arm its timer");
	return rw;
}

void
gw_replica_watch_free(struct gw_replica_watch *rw)
{
	if (rw == NULL)
		return;
	event_free(rw->tick);
	free(rw->samples);
	free(rw);
}

bool
gw_replica_fresh(const struct gw_replica_watch *rw)
{
	return rw != NULL && atomic_load(&rw->fresh);
}
