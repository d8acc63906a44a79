/*
 * audit.h: the tamper-evident audit trail (DESIGN.md section 6,
 * docs/audit.md).
 *
 * Every request that touches patient data gets one record in gw.audit
 * before its answer is written to the socket.  A record is a canonical text
 * (gw_audit_canonical); PostgreSQL chains it as hash = SHA-256(prev_hash ||
 * canonical) inside gw.audit_append(), which appends a whole batch in one
 * statement (group commit).  Each worker has one batcher: answers of
 * audited requests are held until their batch commits and replaced by a 503
 * when it does not.
 */
#ifndef GW_AUDIT_H
#define GW_AUDIT_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "gateway/config.h"
#include "gateway/db.h"

struct gw_req;
struct gw_worker;
struct gw_audit;
struct gw_audit_entry;

/* Bounds of one record's "returned" list: the ids of the first
 * GW_AUDIT_MAX_IDS resources (and the count of all), up to
 * GW_AUDIT_MAX_TYPES distinct resource types. */
#define GW_AUDIT_MAX_IDS 100
#define GW_AUDIT_MAX_TYPES 16
/* Longest text kept of one client-supplied field (headers, target);
 * longer values are cut. */
#define GW_AUDIT_FIELD_MAX 512

#define GW_AUDIT_HASH_LEN 32

/* One record as it is hashed.  Strings are borrowed; NULL is written as
 * "".  The canonical form has every key, always in this order. */
struct gw_audit_record {
	const char *time; /* UTC, microseconds: 2025-01-31T12:00:00.123456Z */
	const char *node_key;	  /* SHA-256 of the node's public key, hex */
	const char *node_name;
	const char *node_country;
	const char *practitioner; /* X-Requesting-Practitioner */
	const char *organization; /* X-Requesting-Organization */
	const char *purpose;	  /* X-Purpose-Of-Use as sent */
	const char *patient_system;
	const char *patient_id;	  /* national identifier */
	const char *patient_logical; /* "fi-..." */
	const char *request;	  /* "GET /fhir/Patient/fi-.../$summary" */
	const char *operation;	  /* read, search-type, $summary, ... */
	const char *const *types; /* distinct resource types returned */
	int ntypes;
	const char *const *ids;	  /* "Type/id" of the first returned */
	int nids;
	long count;		  /* resources returned in all */
	const char *decision;	  /* permit, deny or "" (none reached) */
	const char *rule;	  /* the rule that decided */
	bool break_glass;
	const char *emergency_reason; /* X-Emergency-Reason */
	const char *request_id;	  /* X-Request-Id */
	const char *traceparent;
	int status;		  /* HTTP status of the answer */
};

/*
 * The canonical text of a record: JSON with a fixed key order, no
 * whitespace, and only printable ASCII (every other character is a \u
 * escape; bytes that are not UTF-8 become U+FFFD), so the same record
 * always gives the same bytes, whatever a database or terminal does with
 * encodings.  Strings longer than GW_AUDIT_FIELD_MAX bytes are cut.
 * Returns a new NUL-terminated string (caller frees) and its length.
 */
char *gw_audit_canonical(const struct gw_audit_record *r, size_t *len);

/* hash = SHA-256(prev || canonical[0..len)); the chain rule. */
void gw_audit_chain_hash(const unsigned char prev[GW_AUDIT_HASH_LEN],
    const char *canonical, size_t len, unsigned char out[GW_AUDIT_HASH_LEN]);

/* The statements of GET AuditEvent, for the worker's pool. */
extern const struct gw_db_statement gw_audit_statements[];

/* A worker's batcher, with a database connection of its own for appends
 * (call on the worker before its loop runs). */
struct gw_audit *gw_audit_new(struct gw_worker *w);

/* Free the batcher after the worker's connections and pool: answers still
 * held are dropped (their clients are gone by then). */
void gw_audit_free(struct gw_audit *a);

/* True when the batcher's connection is up (for /readyz). */
bool gw_audit_ready(const struct gw_audit *a);

/*
 * Mark req as audited: from now on its answer is recorded before it is
 * written.  The router calls this once the node is known and before any
 * check of the route's own (roles, purpose), for routes with patient_data
 * or audit set.
 */
void gw_audit_begin(struct gw_req *req);

/* Note what an audited JSON answer returns (resource types and ids);
 * borrows body. */
void gw_audit_note_returned(struct gw_req *req, const cJSON *body);

/*
 * The same for an answer written as text (json_out.h), one resource at a
 * time in the order the answer holds them, as gw_audit_note_returned
 * walks a tree: forget what was noted, then note a Bundle that has an id,
 * then each entry's resource.  id may be NULL (a searchset Bundle).  Both
 * do nothing for a request that is not audited.
 */
void gw_audit_forget_returned(struct gw_req *req);
void gw_audit_note_resource(struct gw_req *req, const char *type,
    const char *id);

/*
 * Hold the answer of an audited request until its record commits, then
 * write it (gw_req_deliver), or a 503 instead if the record could not be
 * written.  Takes body.mem and the request; copies content_type and
 * extra_headers.
 */
void gw_audit_hold(struct gw_req *req, int status, const char *content_type,
    struct gw_body body, const char *extra_headers);

/* An audited request whose client went away before it was answered: write
 * its record (status 499, nothing returned) and then free it.  Takes req. */
void gw_audit_orphaned(struct gw_req *req);

/* Free an entry (gw_req_free does). */
void gw_audit_entry_free(struct gw_audit_entry *e);

/* --- audit_event.c ------------------------------------------------------ */

/* An AuditEvent (R4, IHE BALP patterns) from a stored record's canonical
 * text; NULL if the text is not a record.  Caller frees. */
cJSON *gw_audit_event_from_canonical(const char *canonical, long long seq,
    const char *observer_country);

/* --- audit_verify.c ----------------------------------------------------- */

/*
 * `fhirgw audit-verify`: walk gw.audit in seq order on a blocking
 * connection (cfg's migrate conninfo, a cursor: constant memory) and check
 * every link, every hash, that the columns still say what the canonical
 * text says, and that the head row matches the last record; with anchor
 * ("SEQ:HASH" from an earlier run's ok line, or NULL), also that the chain
 * reaches that hash at that seq.  Prints the verdict (the first broken
 * link with its position).  Returns the exit status: 0 intact, 1 broken,
 * 2 could not check (e.g. database down, a malformed anchor).
 */
int gw_audit_verify(const struct gw_config *cfg, const char *anchor);

#endif
