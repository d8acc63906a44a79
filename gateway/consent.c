/*
 * consent.c: evaluation of consent rules (DESIGN.md §5) and the query that
 * feeds it.
 *
 * Matching: a rule applies when its purposes list names the purpose
 * (ETREAT also matches rules about TREAT: an emergency is treatment) or,
 * when the list is empty, when its scope fits the purpose (TREAT and ETREAT
 * are treatment, HRESCH and PUBHLTH research); and when its recipient
 * countries are empty or name the requester's country.  Specificity is the number of those lists that
 * are non-empty; the most specific applicable rules win, and among equally
 * specific ones a deny beats a permit.  With no applicable rule the
 * national default decides, and with no default the answer is deny.
 * ETREAT with a stated reason turns a deny into a break-glass permit only
 * where the deciding rule allows emergency override.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "gateway/consent.h"
#include "gateway/gw.h"

static const char *const purpose_names[] = {
	[GW_PURPOSE_TREAT] = "TREAT",
	[GW_PURPOSE_ETREAT] = "ETREAT",
	[GW_PURPOSE_HRESCH] = "HRESCH",
	[GW_PURPOSE_PUBHLTH] = "PUBHLTH",
};

int
gw_purpose_parse(const char *s, enum gw_purpose *out)
{
	for (size_t i = 0; i < GW_ARRAY_LEN(purpose_names); i++) {
		if (strcmp(s, purpose_names[i]) == 0) {
			*out = (enum gw_purpose)i;
			return GW_OK;
		}
	}
	return GW_ERR;
}

const char *
gw_purpose_name(enum gw_purpose p)
{
	return purpose_names[p];
}

static bool
is_research(enum gw_purpose p)
{
	return p == GW_PURPOSE_HRESCH || p == GW_PURPOSE_PUBHLTH;
}

/* A rule that names purposes applies to exactly those; one that names
 * none applies to every purpose of its scope. */
static bool
purpose_matches(const struct gw_consent_rule *r, enum gw_purpose p)
{
	if (r->npurposes == 0)
		return r->research_scope == is_research(p);
	for (int i = 0; i < r->npurposes; i++) {
		if (strcmp(r->purposes[i], purpose_names[p]) == 0)
			return true;
		if (p == GW_PURPOSE_ETREAT &&
		    strcmp(r->purposes[i], "TREAT") == 0)
			return true;
	}
	return false;
}

static bool
country_matches(const struct gw_consent_rule *r, const char *country)
{
	if (r->ncountries == 0)
		return true;
	for (int i = 0; i < r->ncountries; i++)
		if (country != NULL && strcmp(r->countries[i], country) == 0)
			return true;
	return false;
}

static void
add_excluded(struct gw_consent_decision *d, const char *cat)
{
	if (gw_consent_excludes(d, cat) || d->nexcluded == GW_CONSENT_CODES)
		return;
	gw_strlcpy(d->excluded[d->nexcluded++], cat, sizeof(d->excluded[0]));
}

void
gw_consent_evaluate(const struct gw_consent_rule *rules, int nrules,
    const struct gw_consent_rule *national_default,
    const struct gw_consent_request *req, struct gw_consent_decision *out)
{
	const struct gw_consent_rule *winner = NULL;
	int best = -1;

	memset(out, 0, sizeof(*out));
	for (int i = 0; i < nrules; i++) {
		const struct gw_consent_rule *r = &rules[i];
		int spec;

		if (!purpose_matches(r, req->purpose) ||
		    !country_matches(r, req->recipient_country))
			continue;
		spec = (r->npurposes > 0) + (r->ncountries > 0);
		if (spec > best || (spec == best && !r->permit &&
		    winner->permit)) {
			winner = r;
			best = spec;
		}
	}
	if (winner == NULL && national_default != NULL &&
	    purpose_matches(national_default, req->purpose))
		winner = national_default;
	if (winner == NULL) {
		/* Fail closed: no rule and no default. */
		out->permit = false;
		snprintf(out->rule, sizeof(out->rule), "consent_default/none");
		return;
	}
	gw_strlcpy(out->rule, winner->ref, sizeof(out->rule));
	out->permit = winner->permit;
	if (out->permit) {
		/* Every applicable permit of the winning specificity adds its
		 * exclusions: withholding more is the safe side. */
		for (int i = 0; i < nrules; i++) {
			const struct gw_consent_rule *r = &rules[i];

			if (!r->permit || !purpose_matches(r, req->purpose) ||
			    !country_matches(r, req->recipient_country) ||
			    (r->npurposes > 0) + (r->ncountries > 0) != best)
				continue;
			for (int j = 0; j < r->nexcluded; j++)
				add_excluded(out, r->excluded[j]);
		}
		for (int j = 0; j < winner->nexcluded; j++)
			add_excluded(out, winner->excluded[j]);
		return;
	}
	if (req->purpose == GW_PURPOSE_ETREAT && req->emergency_reason &&
	    winner->emergency_override) {
		out->permit = true;
		out->break_glass = true;
	}
}

bool
gw_consent_excludes(const struct gw_consent_decision *d, const char *category)
{
	if (category == NULL)
		return false;
	for (int i = 0; i < d->nexcluded; i++)
		if (strcmp(d->excluded[i], category) == 0)
			return true;
	return false;
}

/*
 * One round trip: the patient's applicable rules (time-valid, unrevoked)
 * and the national default for the purpose, distinguished by `kind`.
 * Lists come comma-joined so the parser stays trivial; codes never contain
 * commas (the CHECKs and the API keep it so).
 */
const struct gw_db_statement gw_consent_statements[] = {
	{ .name = "gw_consent_rules", .nparams = 4, .read_only = true, .sql =
	    "select 'rule', 'consent_rule/' || id, scope, decision,"
	    " array_to_string(purposes, ','),"
	    " array_to_string(recipient_countries, ','),"
	    " array_to_string(excluded_categories, ','),"
	    " emergency_override::text, null"
	    " from gw.consent_rule"
	    " where patient_system = $1 and patient_id = $2"
	    " and revoked_at is null"
	    " and (valid_from is null or valid_from <= now())"
	    " and (valid_to is null or valid_to > now())"
	    " union all"
	    " select 'default', 'consent_default/' || country || '/' || purpose,"
	    " case when purpose in ('HRESCH', 'PUBHLTH') then 'research'"
	    " else 'treatment' end, decision, purpose, '', '',"
	    " emergency_override::text,"
	    /* Seconds until a rule of this patient starts or ends: the
	     * decision may change then without any NOTIFY. */
	    " (select ceil(extract(epoch from min(t) - now()))::bigint::text"
	    "  from (select valid_from t from gw.consent_rule"
	    "   where patient_system = $1 and patient_id = $2"
	    "   and revoked_at is null and valid_from > now()"
	    "   union all select valid_to from gw.consent_rule"
	    "   where patient_system = $1 and patient_id = $2"
	    "   and revoked_at is null and valid_to > now()) b)"
	    " from gw.consent_default where country = $3 and purpose = $4"
	    " order by 1 desc, 2" },
	/* The generation alone, for a request whose registry rows come from
	 * a replica (registry_read.c): a cached decision is exact only
	 * against the primary's generation. */
	{ .name = "gw_consent_generation", .nparams = 0, .read_only = true,
	  .sql =
	    "select value::text from gw.consent_generation" },
	{ .name = NULL },
};

static int
split_codes(const char *list, char *out, size_t width, int max)
{
	int n = 0;

	while (*list != '\0' && n < max) {
		const char *comma = strchr(list, ',');
		size_t len = comma ? (size_t)(comma - list) : strlen(list);

		if (len > 0 && len < width) {
			memcpy(out + (size_t)n * width, list, len);
			out[(size_t)n * width + len] = '\0';
			n++;
		}
		list += len + (comma != NULL);
	}
	return n;
}

static void
row_to_rule(const PGresult *res, int row, struct gw_consent_rule *r)
{
	memset(r, 0, sizeof(*r));
	r->is_default = strcmp(PQgetvalue(res, row, 0), "default") == 0;
	gw_strlcpy(r->ref, PQgetvalue(res, row, 1), sizeof(r->ref));
	r->research_scope = strcmp(PQgetvalue(res, row, 2), "research") == 0;
	r->permit = strcmp(PQgetvalue(res, row, 3), "permit") == 0;
	r->npurposes = split_codes(PQgetvalue(res, row, 4), r->purposes[0],
	    sizeof(r->purposes[0]), GW_CONSENT_CODES);
	r->ncountries = split_codes(PQgetvalue(res, row, 5), r->countries[0],
	    sizeof(r->countries[0]), GW_CONSENT_CODES);
	r->nexcluded = split_codes(PQgetvalue(res, row, 6), r->excluded[0],
	    sizeof(r->excluded[0]), GW_CONSENT_CODES);
	r->emergency_override = strcmp(PQgetvalue(res, row, 7), "true") == 0;
}

void
gw_consent_rule_from_row(const PGresult *res, int row,
    struct gw_consent_rule *r)
{
	row_to_rule(res, row, r);
}

#define MAX_RULES 64
#define CACHE_SLOTS 4096 /* direct-mapped: a collision just evicts */
#define CACHE_TTL_S 60

/* A slot holds a decision while its epoch is the cache's.  Dropping all of
 * them is one increment, not a walk that would also make every page of the
 * table resident (4096 slots, 1.8 MB per worker, flushed at every LISTEN
 * connect). */
struct cache_slot {
	uint64_t epoch; /* 0: never used, or dropped */
	char key[160];	/* system|id|purpose|country|emergency|holder */
	size_t patient_len; /* length of the "system|id" prefix */
	long long generation; /* gw.consent_generation it was decided at */
	time_t expires;
	struct gw_consent_decision d;
};

struct gw_consent_cache {
	struct gw_db *db;
	struct cache_slot *slots; /* untouched pages cost no memory */
	uint64_t epoch;		  /* from 1, never wraps */
	atomic_ulong hits, misses; /* read by /metrics on another thread */
};

static bool
slot_used(const struct gw_consent_cache *cache, const struct cache_slot *s)
{
	return s->epoch == cache->epoch;
}

static void
cache_flush(struct gw_consent_cache *cache)
{
	cache->epoch++;
}

/* NOTIFY payload "system|id" drops that patient's entries; anything else
 * (a default changed, or channel NULL after a reconnect) drops them all. */
static void
cache_notify(const char *channel, const char *payload, void *arg)
{
	struct gw_consent_cache *cache = arg;
	size_t n;

	if (channel == NULL || payload == NULL || strchr(payload, '|') == NULL) {
		cache_flush(cache);
		return;
	}
	n = strlen(payload);
	for (size_t i = 0; i < CACHE_SLOTS; i++) {
		struct cache_slot *s = &cache->slots[i];

		if (slot_used(cache, s) && s->patient_len == n &&
		    memcmp(s->key, payload, n) == 0)
			s->epoch = 0;
	}
}

struct gw_consent_cache *
gw_consent_cache_new(struct gw_db *db)
{
	struct gw_consent_cache *cache = gw_calloc(1, sizeof(*cache));

	cache->db = db;
	cache->slots = gw_calloc(CACHE_SLOTS, sizeof(*cache->slots));
	cache->epoch = 1;
	gw_db_listen(db, GW_CONSENT_CHANNEL, cache_notify, cache);
	return cache;
}

void
gw_consent_cache_free(struct gw_consent_cache *cache)
{
	if (cache == NULL)
		return;
	gw_free_zero(cache->slots, CACHE_SLOTS * sizeof(*cache->slots));
	free(cache);
}

unsigned long
gw_consent_cache_hits(const struct gw_consent_cache *cache)
{
	return atomic_load(&((struct gw_consent_cache *)(uintptr_t)cache)->hits);
}

unsigned long
gw_consent_cache_misses(const struct gw_consent_cache *cache)
{
	return atomic_load(
	    &((struct gw_consent_cache *)(uintptr_t)cache)->misses);
}

struct decide_ctx {
	struct gw_consent_cache *cache;
	struct gw_consent_request req;
	char country[3];
	char key[160];
	size_t patient_len;
	long long generation;
	gw_consent_cb cb;
	void *arg;
	struct gw_consent_decision d; /* for answers from the cache */
};

static void
cache_store(struct decide_ctx *ctx, const struct gw_consent_decision *d,
    long ttl)
{
	struct cache_slot *s = &ctx->cache->slots[gw_fnv1a(ctx->key) %
	    CACHE_SLOTS];

	if (ttl <= 0 || ctx->generation < 0)
		return;
	s->epoch = ctx->cache->epoch;
	s->generation = ctx->generation;
	gw_strlcpy(s->key, ctx->key, sizeof(s->key));
	s->patient_len = ctx->patient_len;
	s->expires = time(NULL) + (ttl < CACHE_TTL_S ? ttl : CACHE_TTL_S);
	s->d = *d;
}

static void
decide_done(const PGresult *res, const char *error, void *arg)
{
	struct decide_ctx *ctx = arg;
	struct gw_consent_rule *rules = NULL, def;
	struct gw_consent_decision d;
	bool have_default = false;
	long ttl = CACHE_TTL_S;
	int nrules = 0, n;

	if (res == NULL) {
		gw_warn("consent: no decision: %s", error);
		ctx->cb(false, NULL, ctx->arg);
		free(ctx);
		return;
	}
	n = PQntuples(res);
	rules = gw_calloc((size_t)(n > 0 ? n : 1), sizeof(*rules));
	for (int i = 0; i < n && nrules < MAX_RULES; i++) {
		if (strcmp(PQgetvalue(res, i, 0), "default") == 0) {
			row_to_rule(res, i, &def);
			have_default = true;
			if (!PQgetisnull(res, i, 8))
				gw_parse_long(PQgetvalue(res, i, 8), 0,
				    CACHE_TTL_S, &ttl);
		} else {
			row_to_rule(res, i, &rules[nrules++]);
		}
	}
	/* A patient with more rules than we evaluate gets no decision
	 * rather than a partial one. */
	if (n - have_default > MAX_RULES) {
		gw_warn("consent: more than %d rules for one patient",
		    MAX_RULES);
		ctx->cb(false, NULL, ctx->arg);
	} else {
		gw_consent_evaluate(rules, nrules, have_default ? &def : NULL,
		    &ctx->req, &d);
		/* Without a default row the boundary query did not run:
		 * do not cache what we could not bound. */
		cache_store(ctx, &d, have_default ? ttl : 0);
		ctx->cb(true, &d, ctx->arg);
	}
	free(rules);
	gw_free_zero(ctx, sizeof(*ctx));
}

static void
cached_answer(evutil_socket_t fd, short what, void *arg)
{
	struct decide_ctx *ctx = arg;

	(void)fd;
	(void)what;
	ctx->cb(true, &ctx->d, ctx->arg);
	gw_free_zero(ctx, sizeof(*ctx));
}

int
gw_consent_decide(struct gw_consent_cache *cache, const char *system,
    const char *national_id, const char *holder_country,
    const struct gw_consent_request *req, long long generation,
    gw_consent_cb cb, void *arg)
{
	struct decide_ctx *ctx = gw_calloc(1, sizeof(*ctx));
	/* The national default for an emergency is the treatment default:
	 * ETREAT differs only in the override. */
	enum gw_purpose base = req->purpose == GW_PURPOSE_ETREAT ?
	    GW_PURPOSE_TREAT : req->purpose;
	const char *params[4] = { system, national_id, holder_country,
		purpose_names[base] };
	struct cache_slot *slot;
	char emergency[GW_INT_TEXT];

	ctx->cache = cache;
	ctx->req = *req;
	ctx->req.recipient_country = ctx->country;
	gw_strlcpy(ctx->country, req->recipient_country ?
	    req->recipient_country : "", sizeof(ctx->country));
	ctx->cb = cb;
	ctx->arg = arg;
	ctx->generation = generation;
	gw_fmt_int(emergency, req->emergency_reason);
	if (gw_concat(ctx->key, sizeof(ctx->key), system, "|", national_id,
		(char *)NULL) != GW_OK)
		ctx->key[0] = '\0';
	ctx->patient_len = strlen(ctx->key);
	if (ctx->key[0] == '\0' ||
	    gw_concat(ctx->key + ctx->patient_len,
		sizeof(ctx->key) - ctx->patient_len, "|",
		purpose_names[req->purpose], "|", ctx->country, "|", emergency,
		"|", holder_country, (char *)NULL) != GW_OK)
		ctx->key[0] = '\0'; /* too long to cache: always ask */

	slot = &cache->slots[gw_fnv1a(ctx->key) % CACHE_SLOTS];
	if (ctx->key[0] != '\0' && slot_used(cache, slot) &&
	    generation >= 0 && slot->generation == generation &&
	    strcmp(slot->key, ctx->key) == 0 && slot->expires > time(NULL)) {
		atomic_fetch_add(&cache->hits, 1);
		ctx->d = slot->d;
		if (gw_db_defer(cache->db, cached_answer, ctx) != GW_OK) {
			free(ctx);
			return GW_ERR;
		}
		return GW_OK;
	}
	atomic_fetch_add(&cache->misses, 1);
	if (gw_db_query(cache->db, "gw_consent_rules", 4, params, decide_done,
		ctx) != GW_OK) {
		free(ctx);
		return GW_ERR;
	}
	return GW_OK;
}
