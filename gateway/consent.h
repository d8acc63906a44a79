/*
 * consent.h: the one decision point every path calls before patient data
 * leaves: read, search (every page), $summary (and relay and export as they
 * land).
 *
 * A decision is computed from the patient's own rules and the data holder's
 * national default, both read from PostgreSQL in one query.  The
 * evaluation itself (gw_consent_evaluate) is a pure function so that the
 * rules of DESIGN.md §5 are unit-tested exhaustively.
 */
#ifndef GW_CONSENT_H
#define GW_CONSENT_H

#include <stdbool.h>

#include "gateway/db.h"

enum gw_purpose {
	GW_PURPOSE_TREAT,
	GW_PURPOSE_ETREAT,
	GW_PURPOSE_HRESCH,
	GW_PURPOSE_PUBHLTH,
};

/* Parse an X-Purpose-Of-Use code (v3 ActReason); GW_OK or GW_ERR. */
int gw_purpose_parse(const char *s, enum gw_purpose *out);
const char *gw_purpose_name(enum gw_purpose p);

#define GW_CONSENT_CODES 8

/* One rule as the evaluation sees it (a row of gw.consent_rule, or the
 * national default with is_default set). */
struct gw_consent_rule {
	char ref[64];	/* "consent_rule/17", "consent_default/FI/TREAT" */
	bool is_default;
	bool research_scope;
	bool permit;
	bool emergency_override;
	char purposes[GW_CONSENT_CODES][12];	/* empty: all */
	int npurposes;
	char countries[GW_CONSENT_CODES][3];	/* empty: all */
	int ncountries;
	char excluded[GW_CONSENT_CODES][24];
	int nexcluded;
};

struct gw_consent_request {
	enum gw_purpose purpose;
	const char *recipient_country; /* the requesting node's country */
	bool emergency_reason;	       /* X-Emergency-Reason was given */
};

struct gw_consent_decision {
	bool permit;
	bool break_glass; /* a deny overridden for ETREAT */
	char rule[64];	  /* the rule that decided */
	char excluded[GW_CONSENT_CODES][24]; /* categories to withhold */
	int nexcluded;
};

/*
 * Decide from rules (time-valid, unrevoked; the caller's query filtered
 * those) and the default (may be NULL: no default means deny).  Always
 * fills *out; never fails open.
 */
void gw_consent_evaluate(const struct gw_consent_rule *rules, int nrules,
    const struct gw_consent_rule *national_default,
    const struct gw_consent_request *req, struct gw_consent_decision *out);

/* True if category must be withheld under decision d. */
bool gw_consent_excludes(const struct gw_consent_decision *d,
    const char *category);

/*
 * Completion of gw_consent_decide: ok false means no decision could be made
 * (database error: answer 503); otherwise *d is the decision (borrowed for
 * the callback's duration).
 */
typedef void (*gw_consent_cb)(bool ok, const struct gw_consent_decision *d,
    void *arg);

/* The SQL the decision needs, prepared on every connection.  Its first
 * statement, gw_consent_rules ($1 system, $2 national id, $3 holder
 * country, $4 purpose), is also what the export runner prepares. */
extern const struct gw_db_statement gw_consent_statements[];

/* A row of gw_consent_rules whose column 0 is 'rule' as a rule for
 * gw_consent_evaluate. */
void gw_consent_rule_from_row(const PGresult *res, int row,
    struct gw_consent_rule *r);

/* The NOTIFY channel of rule changes; the payload is "system|national_id"
 * of the patient whose rules changed, or "*" for a national default. */
#define GW_CONSENT_CHANNEL "gw_consent"

/*
 * A worker's decision cache.  Entries live until a NOTIFY names their
 * patient, until the next validity boundary of the patient's rules, or for
 * at most a minute; a database reconnect drops them all (notifications may
 * have been missed).  Not thread-safe: one per worker.
 */
struct gw_consent_cache;

/* A cache on db: LISTENs on GW_CONSENT_CHANNEL (call before the loop
 * runs). */
struct gw_consent_cache *gw_consent_cache_new(struct gw_db *db);
void gw_consent_cache_free(struct gw_consent_cache *cache);

/* Cache counters for /metrics. */
unsigned long gw_consent_cache_hits(const struct gw_consent_cache *cache);
unsigned long gw_consent_cache_misses(const struct gw_consent_cache *cache);

/*
 * Decide for patient (system, national id) held by holder_country, from
 * the cache or asynchronously from the database.  generation is the value
 * of gw.consent_generation read with the patient (migration 021): a cached
 * decision serves only a request that read the same value, so a change
 * committed before the request began is always seen; -1 bypasses the
 * cache.  cb is called exactly once
 * from the loop (never inside this call).  GW_OK, or GW_ERR if the query
 * could not be issued (cb not called).
 */
int gw_consent_decide(struct gw_consent_cache *cache, const char *system,
    const char *national_id, const char *holder_country,
    const struct gw_consent_request *req, long long generation,
    gw_consent_cb cb, void *arg);

#endif
