/*
 * replica_watch.h: is a worker's replica recent enough to read from?
 *
 * database.replica_max_lag_ms bounds how old a registry read may be.  A
 * replica's lag cannot be read from the replica alone (on a quiet primary
 * the last replayed commit gets old while nothing is missing), so each
 * worker samples, every GW_REPLICA_TICK_MS, the primary's WAL insert
 * position and the replica's replay position.  The replica is fresh when
 * it has replayed at least what the primary had inserted max_lag ago: it
 * misses nothing older than that.  While it is not, registry_read.c sends
 * everything to the primary.
 */
#ifndef GW_REPLICA_WATCH_H
#define GW_REPLICA_WATCH_H

#include <stdbool.h>

#include "gateway/db.h"

#define GW_REPLICA_TICK_MS 250

struct gw_worker;
struct gw_replica_watch;

/* The two statements the watch runs (prepared on both pools). */
extern const struct gw_db_statement gw_replica_watch_statements[];

/* Start sampling on w's loop (w->db and w->replica set); max_lag_ms > 0.
 * Free it after both pools (their last answers come to it). */
struct gw_replica_watch *gw_replica_watch_new(
    struct gw_worker *w, int max_lag_ms);
void gw_replica_watch_free(struct gw_replica_watch *rw);

/* Within max_lag at the last sample.  False before the first samples. */
bool gw_replica_fresh(const struct gw_replica_watch *rw);

#endif
