/*
 * registry_read.h: where a registry statement runs.
 *
 * With database.replica_conninfo set, each worker keeps a second pool on a
 * streaming replica (DESIGN.md section 8) for the registry statements that
 * cost the database most: a $summary (the patient and five sections) and
 * a search page.  What must be current stays on the primary: nodes,
 * consent rules, the audit chain, export bookkeeping.  So do the
 * single-row reads (a patient, a resource by id): each carries the consent
 * generation, which would have to be read from the primary anyway, at
 * about the same cost as the row (measured: a Patient read's primary CPU
 * did not go down with them on the replica, and the gateway's went up).
 *
 * The consent cache is exact because a patient statement returns
 * gw.consent_generation beside the patient (docs/consent.md).  A replica
 * may lag, so its generation is not used: a $summary sent to the replica
 * goes out together with a one-row read of the primary's generation, and
 * the request's decision is checked against that.  A search needs none:
 * its patient was loaded from the primary, and decided, before.
 *
 * When the replica pool has no connection up, or is further behind than
 * database.replica_max_lag_ms (replica_watch.h), or a statement fails
 * there (a recovery conflict, a lost connection), the statement runs on
 * the primary: a replica adds capacity, never a way to fail.  /metrics counts
 * both paths.
 */
#ifndef GW_REGISTRY_READ_H
#define GW_REGISTRY_READ_H

#include <stdbool.h>

#include "gateway/db.h"
#include "gateway/server.h"

/*
 * Run the adapter statement `name` for req on the replica, or on the
 * primary as gw_db_query() would: cb is called exactly once, later, from
 * the loop, with res borrowed.  with_generation: the statement is a
 * patient statement (gw_flow_wrap_generation), whose last column
 * gw_flow_note_generation() reads; when the rows come from the replica it
 * reads the primary's generation instead.
 */
void gw_registry_query(struct gw_req *req, const char *name, int nparams,
    const char *const *values, bool with_generation, gw_db_cb cb);

#endif
