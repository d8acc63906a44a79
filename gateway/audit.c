/*
 * audit.c: audit records and the per-worker batcher that commits them
 * before answers leave (docs/audit.md).
 *
 * The router marks a request as audited (gw_audit_begin) once its node is
 * known.  Its answer then does not go to the socket: gw_req_reply hands it
 * to gw_audit_hold, which builds the record's canonical text and queues the
 * answer.  When no append is in flight, the queue is flushed from the loop
 * as one call of gw.audit_append(records) -- one statement, one transaction
 * -- and whatever arrives meanwhile waits for the next one: group commit
 * that grows with load.  On commit the held answers are written in order;
 * on any failure each is replaced by a 503 and no data is sent.  Appends
 * run on a connection of their own (one per worker), so a record never
 * queues behind registry queries, nor they behind it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include <event2/event.h>
#include <openssl/evp.h>

#include "gateway/audit.h"
#include "gateway/gw.h"
#include "gateway/patient_flow.h"
#include "gateway/server.h"

/* At most this many records in one append; the rest wait for the next. */
#define AUDIT_BATCH_MAX 256

/* Status recorded for a request whose client left before its answer. */
#define AUDIT_STATUS_CLIENT_GONE 499

/*
 * On the batcher's own connection.  Each argument is one text of the
 * batch's elements joined by AUDIT_SEP, split by string_to_array: an
 * array literal would need every quote of a canonical record escaped here
 * and unescaped by array_in, which cost PostgreSQL 2.7 us per 1.3 kB
 * record against 0.45 us for the split.  A canonical text, a time and a
 * FHIR id are printable ASCII, so the separator never occurs in them; a
 * patient that is not a plain FHIR id goes as AUDIT_NO_PATIENT ('*' is
 * not an id character), which the split makes NULL.
 */
#define AUDIT_SEP '\x1e'
#define AUDIT_NO_PATIENT "*"
static const struct gw_db_statement append_statements[] = {
	{ .name = "gw_audit_append", .nparams = 3,
	    .sql = "select gw.audit_append("
		"string_to_array($1::text, E'\\x1e'), "
		"string_to_array($2::text, E'\\x1e'), "
		"string_to_array($3::text, E'\\x1e', '" AUDIT_NO_PATIENT "'))" },
	{ .name = NULL },
};

/* On the worker's pool: GET AuditEvent (audit_event.c). */
const struct gw_db_statement gw_audit_statements[] = {
	{ .name = "gw_audit_events", .nparams = 5, .sql =
	    "select a.seq::text, a.canonical, count(*) over ()"
	    " from gw.audit a where a.patient_logical_id = $1"
	    " and ($2::timestamptz is null or a.recorded_at >= $2::timestamptz)"
	    " and ($3::timestamptz is null or a.recorded_at < $3::timestamptz)"
	    " order by a.seq limit $4::integer offset $5::integer" },
	{ .name = "gw_audit_event", .nparams = 1, .sql =
	    "select a.seq::text, a.canonical, a.patient_logical_id"
	    " from gw.audit a where a.seq = $1::bigint" },
	{ .name = NULL },
};

TAILQ_HEAD(entry_queue, gw_audit_entry);

struct gw_audit_entry {
	TAILQ_ENTRY(gw_audit_entry) link;
	struct gw_req *req;
	struct gw_node node; /* copied at admission: the connection may go */
	char *types[GW_AUDIT_MAX_TYPES];
	int ntypes;
	char *ids[GW_AUDIT_MAX_IDS];
	int nids;
	long count;
	/* The held answer. */
	int status;
	char *content_type;
	struct gw_body body;
	char *extra;
	char *canonical;
	size_t canonical_len;
	/* The record's two indexed columns, handed to gw.audit_append beside
	 * it (013): its time, and its patient's logical id when that is a
	 * plain FHIR id ("" otherwise: the database reads it from canonical). */
	char time[40];
	char patient[GW_LOGICAL_ID_MAX + 8];
};

struct gw_audit {
	struct gw_worker *worker;
	struct gw_db *db;	     /* one connection, appends only */
	bool closing;		     /* being freed: append nothing more */
	struct entry_queue queue;    /* waiting for the next append */
	struct entry_queue inflight; /* in the append under way */
	bool busy;
	struct event *kick;
};

/* --- canonical text ----------------------------------------------------- */

struct buf {
	char *p;
	size_t len, cap;
};

static void
buf_grow(struct buf *b, size_t more)
{
	if (b->len + more + 1 <= b->cap)
		return;
	while (b->len + more + 1 > b->cap)
		b->cap = b->cap ? b->cap * 2 : 512;
	b->p = gw_realloc(b->p, b->cap);
}

static void
buf_add(struct buf *b, const char *s, size_t n)
{
	buf_grow(b, n);
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
buf_puts(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static void
buf_u16(struct buf *b, unsigned cp)
{
	char esc[8];

	snprintf(esc, sizeof(esc), "\\u%04x", cp & 0xffff);
	buf_add(b, esc, 6);
}

/* Decode one UTF-8 character at s[0..n); returns its length and sets *cp,
 * or 0 if s does not start with a well-formed character (overlong forms,
 * surrogates and values above U+10FFFF are not well-formed). */
static size_t
utf8_decode(const unsigned char *s, size_t n, unsigned *cp)
{
	unsigned c = s[0], lo = 0x80, hi = 0xbf;
	size_t len;

	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		*cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		*cp = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		*cp = c & 0x07;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		unsigned cc = s[i];

		if (cc < (i == 1 ? lo : 0x80) || cc > (i == 1 ? hi : 0xbf))
			return 0;
		*cp = (*cp << 6) | (cc & 0x3f);
	}
	return len;
}

/* A JSON string of at most GW_AUDIT_FIELD_MAX bytes of s, in printable
 * ASCII only. */
static void
put_string(struct buf *b, const char *s)
{
	const unsigned char *u = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)u);

	if (n > GW_AUDIT_FIELD_MAX)
		n = GW_AUDIT_FIELD_MAX;
	buf_add(b, "\"", 1);
	for (size_t i = 0; i < n;) {
		unsigned c = u[i], cp;
		size_t len;

		if (c == '"' || c == '\\') {
			char esc[2] = { '\\', (char)c };

			buf_add(b, esc, 2);
			i++;
		} else if (c >= 0x20 && c < 0x7f) {
			/* a run of plain characters in one copy */
			size_t run = 1;

			while (i + run < n && u[i + run] >= 0x20 &&
			    u[i + run] < 0x7f && u[i + run] != '"' &&
			    u[i + run] != '\\')
				run++;
			buf_add(b, (const char *)&u[i], run);
			i += run;
		} else if (c < 0x80) {
			buf_u16(b, c); /* control characters, DEL */
			i++;
		} else if ((len = utf8_decode(u + i, n - i, &cp)) == 0) {
			buf_u16(b, 0xfffd);
			i++;
		} else {
			if (cp >= 0x10000) {
				cp -= 0x10000;
				buf_u16(b, 0xd800 + (cp >> 10));
				buf_u16(b, 0xdc00 + (cp & 0x3ff));
			} else {
				buf_u16(b, cp);
			}
			i += len;
		}
	}
	buf_add(b, "\"", 1);
}

static void
put_key_string(struct buf *b, const char *key, const char *value)
{
	buf_puts(b, key);
	put_string(b, value);
}

static void
put_array(struct buf *b, const char *const *items, int n)
{
	buf_add(b, "[", 1);
	for (int i = 0; i < n; i++) {
		if (i > 0)
			buf_add(b, ",", 1);
		put_string(b, items[i]);
	}
	buf_add(b, "]", 1);
}

char *
gw_audit_canonical(const struct gw_audit_record *r, size_t *len)
{
	struct buf b = { 0 };
	char num[32];

	buf_grow(&b, 1024); /* a $summary's record, without a realloc */
	buf_puts(&b, "{\"v\":1");
	put_key_string(&b, ",\"time\":", r->time);
	put_key_string(&b, ",\"node\":{\"key\":", r->node_key);
	put_key_string(&b, ",\"name\":", r->node_name);
	put_key_string(&b, ",\"country\":", r->node_country);
	put_key_string(&b, "},\"practitioner\":", r->practitioner);
	put_key_string(&b, ",\"organization\":", r->organization);
	put_key_string(&b, ",\"purpose\":", r->purpose);
	put_key_string(&b, ",\"patient\":{\"system\":", r->patient_system);
	put_key_string(&b, ",\"id\":", r->patient_id);
	put_key_string(&b, ",\"logical\":", r->patient_logical);
	put_key_string(&b, "},\"request\":", r->request);
	put_key_string(&b, ",\"operation\":", r->operation);
	buf_puts(&b, ",\"returned\":{\"types\":");
	put_array(&b, r->types, r->ntypes);
	buf_puts(&b, ",\"ids\":");
	put_array(&b, r->ids, r->nids);
	buf_puts(&b, ",\"count\":");
	gw_fmt_int(num, r->count);
	buf_puts(&b, num);
	buf_puts(&b, "}");
	put_key_string(&b, ",\"decision\":", r->decision);
	put_key_string(&b, ",\"rule\":", r->rule);
	buf_puts(&b, r->break_glass ? ",\"break_glass\":true" :
	    ",\"break_glass\":false");
	put_key_string(&b, ",\"emergency_reason\":", r->emergency_reason);
	put_key_string(&b, ",\"request_id\":", r->request_id);
	put_key_string(&b, ",\"traceparent\":", r->traceparent);
	buf_puts(&b, ",\"status\":");
	gw_fmt_int(num, r->status);
	buf_puts(&b, num);
	buf_puts(&b, "}");
	*len = b.len;
	return b.p;
}

void
gw_audit_chain_hash(const unsigned char prev[GW_AUDIT_HASH_LEN],
    const char *canonical, size_t len, unsigned char out[GW_AUDIT_HASH_LEN])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int n = 0;

	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, prev, GW_AUDIT_HASH_LEN) != 1 ||
	    EVP_DigestUpdate(ctx, canonical, len) != 1 ||
	    EVP_DigestFinal_ex(ctx, out, &n) != 1 || n != GW_AUDIT_HASH_LEN)
		gw_fatal("SHA-256 unavailable");
	EVP_MD_CTX_free(ctx);
}

/* --- what a request is about ------------------------------------------ */

static void
utc_now(char *out, size_t outsz)
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(out, outsz, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, outsz - n, ".%06dZ", (int)(ts.tv_nsec / 1000) %
	    1000000);
}

/*
 * The FHIR interaction of a route, from its pattern: the operation's name
 * ("$summary") when the last segment is one, otherwise by method and by how
 * many segments follow "/fhir": one is the type level (search-type, create),
 * two an instance (read, update, delete).
 */
static const char *
operation_of(const struct gw_route *route)
{
	const char *last = strrchr(route->pattern, '/');
	int segments = 0;

	for (const char *p = route->pattern + strlen("/fhir"); *p; p++)
		segments += *p == '/';
	if (last != NULL && last[1] == '$')
		return last + 1;
	switch (route->method) {
	case GW_HTTP_GET:
		return segments <= 1 ? "search-type" : "read";
	case GW_HTTP_POST:
		return "create";
	case GW_HTTP_PUT:
		return "update";
	case GW_HTTP_DELETE:
		return "delete";
	default:
		return route->pattern;
	}
}

static const char *
header(const struct gw_req *req, const char *name)
{
	const char *v = gw_http_header(&req->http, name);

	return v != NULL ? v : "";
}

struct patient_ref {
	char system[128];
	char id[GW_AUDIT_FIELD_MAX + 1];
	char logical[GW_LOGICAL_ID_MAX + 8];
};

/* The patient as identified, or else as the request named them. */
static void
patient_of(const struct gw_req *req, struct patient_ref *p)
{
	const char *v;

	memset(p, 0, sizeof(*p));
	if (req->patient.logical_id[0] != '\0') {
		gw_strlcpy(p->system, req->patient.system, sizeof(p->system));
		gw_strlcpy(p->id, req->patient.national_id, sizeof(p->id));
		gw_strlcpy(p->logical, req->patient.logical_id,
		    sizeof(p->logical));
		return;
	}
	if ((v = gw_req_param(req, "patient")) != NULL) {
		if (strncmp(v, "Patient/", 8) == 0)
			v += 8;
		gw_strlcpy(p->logical, v, sizeof(p->logical));
	} else if ((v = gw_req_param(req, "identifier")) != NULL) {
		const char *bar = strchr(v, '|');

		if (bar != NULL && (size_t)(bar - v) < sizeof(p->system)) {
			memcpy(p->system, v, (size_t)(bar - v));
			p->system[bar - v] = '\0';
			v = bar + 1;
		}
		gw_strlcpy(p->id, v, sizeof(p->id));
	} else if (req->route != NULL &&
	    strncmp(req->route->pattern, "/fhir/Patient/{}", 16) == 0 &&
	    req->path_args[0] != NULL) {
		gw_strlcpy(p->logical, req->path_args[0], sizeof(p->logical));
	}
}

static char *
build_canonical(struct gw_req *req, struct gw_audit_entry *e, size_t *len)
{
	const struct gw_consent_decision *d = &req->decision;
	struct patient_ref p;
	char now[40], *request, *out, relay_rule[16];
	char via[sizeof(req->origin_node) + sizeof(e->node.name) + 8];
	size_t rlen = strlen(req->http.method_name) + 1 +
	    strlen(req->http.target) + 1;
	struct gw_audit_record r = {
		.time = now,
		.node_key = e->node.key_hash,
		.node_name = e->node.name,
		.node_country = e->node.country,
		.practitioner = header(req, "X-Requesting-Practitioner"),
		.organization = header(req, "X-Requesting-Organization"),
		.purpose = header(req, "X-Purpose-Of-Use"),
		.operation = operation_of(req->route),
		.types = (const char *const *)e->types,
		.ntypes = e->ntypes,
		.ids = (const char *const *)e->ids,
		.nids = e->nids,
		.count = e->count,
		.decision = d->rule[0] == '\0' ? "" :
		    d->permit ? "permit" : "deny",
		.rule = d->rule,
		.break_glass = d->break_glass,
		.emergency_reason = header(req, "X-Emergency-Reason"),
		.request_id = req->request_id[0] != '\0' ? req->request_id :
		    header(req, "X-Request-Id"),
		.traceparent = header(req, "traceparent"),
		.status = e->status,
	};

	/* Relayed: the holder decided, this record says to whom it went. */
	if (req->relay_peer != NULL) {
		snprintf(relay_rule, sizeof(relay_rule), "peer/%s",
		    req->relay_peer->country);
		r.decision = "relay";
		r.rule = relay_rule;
	}
	/* From a peer gateway: the node it relayed for, whose country the
	 * consent was decided for; the key stays the peer's. */
	if (req->origin_country[0] != '\0') {
		snprintf(via, sizeof(via), "%s via %s", req->origin_node[0] ?
		    req->origin_node : "?", e->node.name);
		r.node_name = via;
		r.node_country = req->origin_country;
	}
	utc_now(now, sizeof(now));
	patient_of(req, &p);
	r.patient_system = p.system;
	r.patient_id = p.id;
	r.patient_logical = p.logical;
	gw_strlcpy(e->time, now, sizeof(e->time));
	/* Anything but a plain id (a raw search parameter, say) is left to
	 * the database, which then reads it back from the canonical text
	 * exactly as audit-verify will. */
	if (gw_flow_valid_id(p.logical))
		gw_strlcpy(e->patient, p.logical, sizeof(e->patient));
	request = gw_malloc(rlen);
	gw_concat(request, rlen, req->http.method_name, " ", req->http.target,
	    (char *)NULL);
	r.request = request;
	out = gw_audit_canonical(&r, len);
	gw_free_zero(request, rlen); /* may name a national id */
	explicit_bzero(&p, sizeof(p)); /* a national id */
	return out;
}

/* --- entries ------------------------------------------------------------ */

void
gw_audit_begin(struct gw_req *req)
{
#ifdef GW_BENCH_NO_AUDIT
	/* The benchmark's comparison build (CMake FHIRGW_BENCH_NO_AUDIT):
	 * never a production binary; serve says so at start-up. */
	(void)req;
#else
	struct gw_audit_entry *e;

	if (req->audit != NULL || req->conn == NULL)
		return;
	e = gw_calloc(1, sizeof(*e));
	e->req = req;
	e->node = req->conn->node;
	req->audit = e;
#endif
}

static void
forget_returned(struct gw_audit_entry *e)
{
	for (int i = 0; i < e->ntypes; i++)
		free(e->types[i]);
	for (int i = 0; i < e->nids; i++)
		free(e->ids[i]);
	e->ntypes = e->nids = 0;
	e->count = 0;
}

/* One returned resource: its type counted (and listed once), its
 * "Type/id" listed while there is room. */
static void
note_resource(struct gw_audit_entry *e, const char *type, const char *id)
{
	bool known = false;

	e->count++;
	for (int i = 0; i < e->ntypes && !known; i++)
		known = strcmp(e->types[i], type) == 0;
	if (!known && e->ntypes < GW_AUDIT_MAX_TYPES)
		e->types[e->ntypes++] = gw_strdup(type);
	if (id != NULL && e->nids < GW_AUDIT_MAX_IDS) {
		size_t n = strlen(type) + strlen(id) + 2;

		e->ids[e->nids] = gw_malloc(n);
		gw_concat(e->ids[e->nids++], n, type, "/", id, (char *)NULL);
	}
}

static void
note(struct gw_audit_entry *e, const cJSON *resource)
{
	const cJSON *rt = cJSON_GetObjectItemCaseSensitive(resource,
	    "resourceType");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(resource, "id");

	if (!cJSON_IsString(rt))
		return;
	note_resource(e, rt->valuestring,
	    cJSON_IsString(id) ? id->valuestring : NULL);
}

void
gw_audit_note_returned(struct gw_req *req, const cJSON *body)
{
	struct gw_audit_entry *e = req->audit;
	const cJSON *rt = cJSON_GetObjectItemCaseSensitive(body,
	    "resourceType");
	const cJSON *entry;

	if (e == NULL || !cJSON_IsString(rt))
		return;
	forget_returned(e);
	if (strcmp(rt->valuestring, "OperationOutcome") == 0)
		return; /* an error returns no data */
	if (strcmp(rt->valuestring, "Bundle") != 0) {
		note(e, body);
		return;
	}
	/* A searchset has no id of its own; a document has. */
	if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(body, "id")))
		note(e, body);
	cJSON_ArrayForEach(entry, cJSON_GetObjectItemCaseSensitive(body,
	    "entry"))
		note(e, cJSON_GetObjectItemCaseSensitive(entry, "resource"));
}

void
gw_audit_forget_returned(struct gw_req *req)
{
	if (req->audit != NULL)
		forget_returned(req->audit);
}

void
gw_audit_note_resource(struct gw_req *req, const char *type, const char *id)
{
	if (req->audit != NULL)
		note_resource(req->audit, type, id);
}

void
gw_audit_entry_free(struct gw_audit_entry *e)
{
	if (e == NULL)
		return;
	forget_returned(e);
	free(e->content_type);
	free(e->extra);
	gw_body_free(&e->body);
	if (e->canonical != NULL)
		gw_free_zero(e->canonical, e->canonical_len);
	gw_free_zero(e, sizeof(*e));
}

/* --- the batcher -------------------------------------------------------- */

static void flush(struct gw_audit *a);

/* Write the held answer (committed) or a 503 instead (not committed), and
 * let go of the request. */
static void
release(struct gw_audit_entry *e, bool committed)
{
	struct gw_req *req = e->req;
	struct gw_body body = e->body;

	/* The request no longer waits for us; its answer is written as
	 * is, never audited again. */
	req->audit = NULL;
	req->pending = false;
	e->body = (struct gw_body){0};
	if (committed) {
		gw_req_deliver(req, e->status, e->content_type, body,
		    e->extra);
	} else {
		gw_body_free(&body);
		gw_req_reply_error(req, 503, "transient",
		    "the audit record could not be written; no data released");
	}
	gw_audit_entry_free(e);
}

static bool
stopping(const struct gw_audit *a)
{
	return a->closing || atomic_load(&a->worker->server->stopping);
}

static void
fail_all(struct entry_queue *q)
{
	struct gw_audit_entry *e;

	while ((e = TAILQ_FIRST(q)) != NULL) {
		TAILQ_REMOVE(q, e, link);
		release(e, false);
	}
}

static void
appended(const PGresult *res, const char *error, void *arg)
{
	struct gw_audit *a = arg;
	struct gw_audit_entry *e;
	bool ok = res != NULL;

	a->busy = false;
	if (!ok)
		gw_warn("audit: append failed, answering 503: %s", error);
	while ((e = TAILQ_FIRST(&a->inflight)) != NULL) {
		TAILQ_REMOVE(&a->inflight, e, link);
		release(e, ok);
	}
	if (stopping(a))
		fail_all(&a->queue);
	else
		flush(a);
}

/* Element i of a joined argument: the separator first unless i is 0. */
static void
put_element(struct buf *b, int i, const char *text, size_t len)
{
	static const char sep = AUDIT_SEP;

	if (i > 0)
		buf_add(b, &sep, 1);
	buf_add(b, text, len);
}

/* gw.audit_append's three arguments, arrays of the same length. */
enum { ARG_TEXTS, ARG_TIMES, ARG_PATIENTS, NARGS };

/* One gw.audit_append call for up to AUDIT_BATCH_MAX queued records: their
 * canonical texts, times and patient ids as three joined texts. */
static void
append(struct gw_audit *a)
{
	struct buf args[NARGS] = { { 0 } };
	const char *params[NARGS];
	struct gw_audit_entry *e;
	int n = 0;

	buf_grow(&args[ARG_TEXTS], 4096);
	while (n < AUDIT_BATCH_MAX && (e = TAILQ_FIRST(&a->queue)) != NULL) {
		TAILQ_REMOVE(&a->queue, e, link);
		TAILQ_INSERT_TAIL(&a->inflight, e, link);
		put_element(&args[ARG_TEXTS], n, e->canonical,
		    e->canonical_len);
		put_element(&args[ARG_TIMES], n, e->time, strlen(e->time));
		if (e->patient[0] != '\0')
			put_element(&args[ARG_PATIENTS], n, e->patient,
			    strlen(e->patient));
		else
			put_element(&args[ARG_PATIENTS], n, AUDIT_NO_PATIENT,
			    1);
		n++;
	}
	for (int k = 0; k < NARGS; k++)
		params[k] = args[k].p;
	a->busy = true;
	if (gw_db_query(a->db, "gw_audit_append", NARGS, params,
	    appended, a) != GW_OK) {
		a->busy = false;
		fail_all(&a->inflight);
	}
	for (int k = 0; k < NARGS; k++)
		gw_free_zero(args[k].p, args[k].cap);
}

/*
 * Append what is queued, now: whatever arrives meanwhile waits for the
 * next append.  Not waiting for records still being produced costs the
 * database more appends (each about 0.1 ms of CPU besides its records),
 * but an answer held for them idles its client, and on the benchmark
 * machine that waiting lost more req/s than the appends it saved
 * (docs/benchmarks.md, "the audit batcher's wait").
 */
static void
flush(struct gw_audit *a)
{
	if (a->busy || TAILQ_EMPTY(&a->queue))
		return;
	append(a);
}

static void
kick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	flush(arg);
}

struct gw_audit *
gw_audit_new(struct gw_worker *w)
{
	struct gw_audit *a = gw_calloc(1, sizeof(*a));
	char name[32];

	a->worker = w;
	TAILQ_INIT(&a->queue);
	TAILQ_INIT(&a->inflight);
	a->kick = event_new(w->base, -1, 0, kick_cb, a);
	snprintf(name, sizeof(name), "fhirgw audit %d", w->id);
	a->db = gw_db_new(w->base, w->server->cfg->db_conninfo, 1,
	    append_statements, name, w->server->cfg->db_statement_timeout_ms);
	if (a->kick == NULL || a->db == NULL)
		gw_fatal("audit: cannot set up the batcher");
	return a;
}

void
gw_audit_free(struct gw_audit *a)
{
	if (a == NULL)
		return;
	/* Stopping: an append under way fails (its answers become 503s
	 * to clients that are gone), and nothing is appended any more. */
	a->closing = true;
	gw_db_free(a->db);
	a->busy = false;
	fail_all(&a->inflight);
	fail_all(&a->queue);
	event_free(a->kick);
	free(a);
}

bool
gw_audit_ready(const struct gw_audit *a)
{
	return a != NULL && gw_db_ready(a->db);
}

void
gw_audit_hold(struct gw_req *req, int status, const char *content_type,
    struct gw_body body, const char *extra_headers)
{
	struct gw_audit_entry *e = req->audit;
	struct gw_audit *a = req->worker->audit;

	e->status = status;
	e->content_type = content_type ? gw_strdup(content_type) : NULL;
	e->body = body;
	e->extra = extra_headers ? gw_strdup(extra_headers) : NULL;
	e->canonical = build_canonical(req, e, &e->canonical_len);
	/* Held, the request is not the connection's to free if it closes:
	 * it is orphaned and released here. */
	req->pending = true;
	if (a == NULL || stopping(a)) {
		release(e, false);
		return;
	}
	TAILQ_INSERT_TAIL(&a->queue, e, link);
	/* Flush from the loop, after the callbacks already due in this
	 * round: answers finishing together share one transaction. */
	if (!a->busy)
		event_active(a->kick, 0, 0);
}

void
gw_audit_orphaned(struct gw_req *req)
{
	forget_returned(req->audit);
	gw_audit_hold(req, AUDIT_STATUS_CLIENT_GONE, NULL, gw_body_text(NULL, 0),
	    NULL);
}
