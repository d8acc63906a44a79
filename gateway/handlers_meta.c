/*
 * handlers_meta.c: what describes the gateway rather than a patient: the
 * CapabilityStatement on the FHIR listener, and health, readiness and
 * Prometheus metrics on the admin listener.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/gw.h"
#include "gateway/json_write.h"
#include "gateway/replica_watch.h"
#include "gateway/server.h"

static cJSON *
interaction_list(const char *const *codes)
{
	cJSON *arr = cJSON_CreateArray();

	for (size_t i = 0; codes[i] != NULL; i++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "code", codes[i]);
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

static void
add_search_param(cJSON *res, const char *name, const char *type)
{
	cJSON *arr = cJSON_GetObjectItemCaseSensitive(res, "searchParam");
	cJSON *p = cJSON_CreateObject();

	if (arr == NULL)
		arr = cJSON_AddArrayToObject(res, "searchParam");
	cJSON_AddStringToObject(p, "name", name);
	cJSON_AddStringToObject(p, "type", type);
	cJSON_AddItemToArray(arr, p);
}

/* resource.operation: one operation, named as in its URL after '$'. */
static void
add_operation(cJSON *res, const char *name, const char *definition)
{
	cJSON *op = cJSON_CreateObject();

	cJSON_AddStringToObject(op, "name", name);
	cJSON_AddStringToObject(op, "definition", definition);
	cJSON_AddItemToArray(cJSON_AddArrayToObject(res, "operation"), op);
}

/* Only what really works is listed: read and search-type on the six
 * types, the parameters the handlers accept, $summary, the summary as an
 * IHE MHD DocumentReference, the audit trail, consent management, and
 * Bulk Data export from a data permit (a Group that is only exported). */
static cJSON *
capability_statement(const struct gw_config *cfg)
{
	static const char *const interactions[] = { "read", "search-type",
		NULL };
	cJSON *cs = cJSON_CreateObject(), *rest, *resources, *impl, *sw;
	cJSON *formats, *security;
	char now[32];

	gw_fhir_now(now, sizeof(now));
	cJSON_AddStringToObject(cs, "resourceType", "CapabilityStatement");
	cJSON_AddStringToObject(cs, "status", "active");
	cJSON_AddStringToObject(cs, "date", now);
	cJSON_AddStringToObject(cs, "kind", "instance");
	sw = cJSON_AddObjectToObject(cs, "software");
	cJSON_AddStringToObject(sw, "name", "fhirgw");
	cJSON_AddStringToObject(sw, "version", "0.1.0");
	impl = cJSON_AddObjectToObject(cs, "implementation");
	cJSON_AddStringToObject(impl, "description",
	    "fhirgw cross-border health data gateway");
	cJSON_AddStringToObject(impl, "url", cfg->public_base_url);
	cJSON_AddStringToObject(cs, "fhirVersion", "4.0.1");
	/* Bulk Data clients look for this before they try $export. */
	cJSON_AddItemToArray(cJSON_AddArrayToObject(cs, "instantiates"),
	    cJSON_CreateString(
	    "http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data"));
	formats = cJSON_AddArrayToObject(cs, "format");
	cJSON_AddItemToArray(formats, cJSON_CreateString("application/fhir+json"));
	cJSON_AddItemToArray(formats, cJSON_CreateString("json"));
	rest = cJSON_AddArrayToObject(cs, "rest");
	{
		cJSON *server = cJSON_CreateObject();

		cJSON_AddStringToObject(server, "mode", "server");
		security = cJSON_AddObjectToObject(server, "security");
		cJSON_AddStringToObject(security, "description",
		    "Mutual TLS: nodes are identified by their certificate's "
		    "public key; X-Purpose-Of-Use is required for patient "
		    "data; consent is decided per request.");
		resources = cJSON_AddArrayToObject(server, "resource");
		for (int t = 0; t < GW_RT_COUNT; t++) {
			cJSON *r = cJSON_CreateObject();

			cJSON_AddStringToObject(r, "type", gw_fhir_type_name(t));
			cJSON_AddItemToObject(r, "interaction",
			    interaction_list(interactions));
			if (t == GW_RT_PATIENT) {
				add_search_param(r, "identifier", "token");
				/* Demographic traits, only with identifier. */
				add_search_param(r, "family", "string");
				add_search_param(r, "given", "string");
				add_search_param(r, "birthdate", "date");
				add_search_param(r, "gender", "token");
				add_operation(r, "summary",
				    "http://hl7.org/fhir/uv/ips/"
				    "OperationDefinition/summary");
			} else {
				add_search_param(r, "patient", "reference");
				add_search_param(r, "_count", "number");
				add_search_param(r, "_lastUpdated", "date");
				if (t == GW_RT_IMMUNIZATION) {
					add_search_param(r, "vaccine-code",
					    "token");
				} else {
					add_search_param(r, "category",
					    "token");
					add_search_param(r, "code", "token");
				}
			}
			cJSON_AddItemToArray(resources, r);
		}
		{
			/* The summary's DocumentReference (handlers_docref.c):
			 * tokens match its one type, status and category. */
			cJSON *r = cJSON_CreateObject();

			cJSON_AddStringToObject(r, "type", "DocumentReference");
			cJSON_AddItemToArray(cJSON_AddArrayToObject(r,
			    "supportedProfile"), cJSON_CreateString(
			    "https://profiles.ihe.net/ITI/MHD/StructureDefinition/"
			    "IHE.MHD.Minimal.DocumentReference"));
			cJSON_AddItemToObject(r, "interaction",
			    interaction_list(interactions));
			add_search_param(r, "patient", "reference");
			add_search_param(r, "type", "token");
			add_search_param(r, "status", "token");
			add_search_param(r, "category", "token");
			cJSON_AddItemToArray(resources, r);
		}
		{
			/* The audit trail (audit_event.c). */
			cJSON *r = cJSON_CreateObject();

			cJSON_AddStringToObject(r, "type", "AuditEvent");
			cJSON_AddItemToObject(r, "interaction",
			    interaction_list(interactions));
			add_search_param(r, "patient", "reference");
			add_search_param(r, "date", "date");
			add_search_param(r, "_count", "number");
			cJSON_AddItemToArray(resources, r);
		}
		{
			/* Consent management (consent_api.c). */
			static const char *const crud[] = { "read", "create",
				"update", "delete", "search-type", NULL };
			cJSON *r = cJSON_CreateObject();

			cJSON_AddStringToObject(r, "type", "Consent");
			cJSON_AddItemToObject(r, "interaction",
			    interaction_list(crud));
			add_search_param(r, "patient", "reference");
			cJSON_AddItemToArray(resources, r);
		}
		{
			/* Group/{permit}/$export (export_api.c): the Group is a
			 * data permit, exported but not readable. */
			cJSON *r = cJSON_CreateObject();

			cJSON_AddStringToObject(r, "type", "Group");
			cJSON_AddStringToObject(r, "documentation",
			    "The id of a Group is a data permit; the Group itself "
			    "is not served, only its export.");
			add_operation(r, "export",
			    "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/"
			    "group-export");
			cJSON_AddItemToArray(resources, r);
		}
		cJSON_AddItemToArray(rest, server);
	}
	return cs;
}

void
gw_handle_metadata(struct gw_req *req)
{
	gw_req_reply_json(req, 200,
	    capability_statement(req->worker->server->cfg), NULL);
}

/* Append to the metrics text as it is written: every write makes its own
 * room (gw_jbuf_reserve), so a new counter can never run past the buffer. */
static void __attribute__((format(printf, 2, 3)))
text_printf(struct gw_jbuf *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= t->cap - t->len) {
		gw_jbuf_reserve(t, (size_t)n);
		va_start(ap, fmt);
		vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
	}
	t->len += (size_t)n;
}

static char *
metrics_text(const struct gw_server *s, size_t *len)
{
	static const struct {
		const char *name;
		const char *help;
		size_t offset;
	} rows[] = {
		{ "fhirgw_requests_total", "Requests answered",
		    offsetof(struct gw_counters, requests) },
		{ "fhirgw_responses_2xx_total", "2xx answers",
		    offsetof(struct gw_counters, status_2xx) },
		{ "fhirgw_responses_4xx_total", "4xx answers",
		    offsetof(struct gw_counters, status_4xx) },
		{ "fhirgw_responses_5xx_total", "5xx answers",
		    offsetof(struct gw_counters, status_5xx) },
		{ "fhirgw_tls_refused_total", "Connections refused in TLS",
		    offsetof(struct gw_counters, tls_refused) },
		{ "fhirgw_consent_denied_total", "Consent denials",
		    offsetof(struct gw_counters, consent_deny) },
		{ "fhirgw_break_glass_total", "Emergency overrides",
		    offsetof(struct gw_counters, break_glass) },
		{ "fhirgw_relayed_total", "Requests relayed to a peer gateway",
		    offsetof(struct gw_counters, relayed) },
		{ "fhirgw_relay_failed_total", "Relayed requests the peer did "
		    "not answer (502, 503, 504)",
		    offsetof(struct gw_counters, relay_failed) },
		{ "fhirgw_throttled_total", "Requests answered 429: the node "
		    "over its rate", offsetof(struct gw_counters, throttled) },
		{ "fhirgw_replica_reads_total", "Registry statements the "
		    "replica answered", offsetof(struct gw_counters,
			replica_reads) },
		{ "fhirgw_replica_fallbacks_total", "Registry statements sent "
		    "to the primary: the replica was down or failed",
		    offsetof(struct gw_counters, replica_fallbacks) },
	};
	struct gw_jbuf t = { 0 };
	long conns = 0;

	gw_jbuf_reserve(&t, 4096); /* the usual size: one allocation */

	for (size_t i = 0; i < GW_ARRAY_LEN(rows); i++) {
		unsigned long sum = 0;

		for (int w = 0; w < s->nworkers; w++) {
			const char *base = (const char *)&s->workers[w].counters;

			sum += atomic_load((const atomic_ulong *)(const void *)(
			    base + rows[i].offset));
		}
		text_printf(&t,
		    "# HELP %s %s\n# TYPE %s counter\n%s %lu\n", rows[i].name,
		    rows[i].help, rows[i].name, rows[i].name, sum);
	}
	{
		unsigned long hits = 0, misses = 0;

		for (int w = 0; w < s->nworkers; w++) {
			hits += gw_consent_cache_hits(s->workers[w].consent);
			misses += gw_consent_cache_misses(s->workers[w].consent);
		}
		text_printf(&t,
		    "# HELP fhirgw_consent_cache_hits_total Decisions from the "
		    "cache\n# TYPE fhirgw_consent_cache_hits_total counter\n"
		    "fhirgw_consent_cache_hits_total %lu\n"
		    "# HELP fhirgw_consent_cache_misses_total Decisions from "
		    "PostgreSQL\n# TYPE fhirgw_consent_cache_misses_total "
		    "counter\nfhirgw_consent_cache_misses_total %lu\n",
		    hits, misses);
	}
	{
		struct gw_db_counts sum = {0}, one;

		for (int w = 0; w < s->nworkers; w++) {
			gw_db_counts(s->workers[w].db, &one);
			sum.pipelined += one.pipelined;
			sum.queries += one.queries;
			sum.syncs += one.syncs;
			sum.resent += one.resent;
			sum.batched += one.batched;
			sum.batches += one.batches;
		}
		text_printf(&t,
		    "# HELP fhirgw_db_pipelined_total Registry and consent "
		    "queries sent behind another on a busy connection\n"
		    "# TYPE fhirgw_db_pipelined_total counter\n"
		    "fhirgw_db_pipelined_total %lu\n"
		    "# HELP fhirgw_db_queries_total Registry and consent "
		    "queries sent\n"
		    "# TYPE fhirgw_db_queries_total counter\n"
		    "fhirgw_db_queries_total %lu\n"
		    "# HELP fhirgw_db_syncs_total Syncs that ended them "
		    "(read-only queries of one loop turn share one)\n"
		    "# TYPE fhirgw_db_syncs_total counter\n"
		    "fhirgw_db_syncs_total %lu\n"
		    "# HELP fhirgw_db_resent_total Read-only queries sent "
		    "again after an error in another of their Sync\n"
		    "# TYPE fhirgw_db_resent_total counter\n"
		    "fhirgw_db_resent_total %lu\n"
		    "# HELP fhirgw_db_batched_total Registry reads sent "
		    "as one statement with others of their kind\n"
		    "# TYPE fhirgw_db_batched_total counter\n"
		    "fhirgw_db_batched_total %lu\n"
		    "# HELP fhirgw_db_batches_total Those statements\n"
		    "# TYPE fhirgw_db_batches_total counter\n"
		    "fhirgw_db_batches_total %lu\n",
		    sum.pipelined, sum.queries, sum.syncs, sum.resent,
		    sum.batched, sum.batches);
	}
	{
		int up = 0, fresh = 0;

		for (int w = 0; w < s->nworkers; w++) {
			const struct gw_worker *wk = &s->workers[w];
			bool ready = wk->replica != NULL &&
			    gw_db_ready(wk->replica);

			up += ready;
			fresh += ready && (wk->replica_watch == NULL ||
			    gw_replica_fresh(wk->replica_watch));
		}
		text_printf(&t,
		    "# HELP fhirgw_replica_connected Workers with a replica "
		    "connection up (0 when none is configured)\n"
		    "# TYPE fhirgw_replica_connected gauge\n"
		    "fhirgw_replica_connected %d\n"
		    "# HELP fhirgw_replica_fresh Workers reading from the "
		    "replica: connected and within database.replica_max_lag_ms"
		    "\n# TYPE fhirgw_replica_fresh gauge\n"
		    "fhirgw_replica_fresh %d\n", up, fresh);
	}
	for (int w = 0; w < s->nworkers; w++)
		conns += atomic_load(&s->workers[w].counters.connections);
	text_printf(&t,
	    "# HELP fhirgw_connections Open client connections\n"
	    "# TYPE fhirgw_connections gauge\nfhirgw_connections %ld\n",
	    conns);
	{
		const struct gw_latency **lat = gw_calloc(
		    (size_t)(s->nworkers > 0 ? s->nworkers : 1), sizeof(*lat));
		size_t need;

		for (int w = 0; w < s->nworkers; w++)
			lat[w] = &s->workers[w].latency;
		need = gw_latency_print(lat, s->nworkers,
		    gw_router_route_label, t.p + t.len, t.cap - t.len);
		if (need >= t.cap - t.len) {
			gw_jbuf_reserve(&t, need);
			need = gw_latency_print(lat, s->nworkers,
			    gw_router_route_label, t.p + t.len, t.cap - t.len);
		}
		t.len += need;
		free(lat);
	}
	{
		/* The adapters' counters (terminology_unmapped), one line per
		 * mapped code system: grow the buffer to what they need. */
		size_t need = gw_adapters_metrics(t.p + t.len, t.cap - t.len);

		if (need >= t.cap - t.len) {
			gw_jbuf_reserve(&t, need);
			need = gw_adapters_metrics(t.p + t.len, t.cap - t.len);
		}
		t.len += need;
	}
	*len = t.len;
	return t.p;
}

void
gw_admin_dispatch(struct gw_req *req)
{
	const struct gw_server *s = req->worker->server;
	const char *path = req->http.path;
	char *body;
	size_t len;

	if (req->http.method != GW_HTTP_GET) {
		gw_req_reply_error(req, 405, NULL, "GET only");
		return;
	}
	if (strcmp(path, "/healthz") == 0) {
		gw_req_reply(req, 200, "text/plain",
		    gw_body_text(gw_strdup("ok\n"), 3), NULL);
	} else if (strcmp(path, "/readyz") == 0) {
		bool ready = req->worker->ssl_ctx != NULL;

		for (int w = 0; w < s->nworkers && ready; w++)
			ready = gw_db_ready(s->workers[w].db) &&
			    gw_audit_ready(s->workers[w].audit);
		if (ready)
			gw_req_reply(req, 200, "text/plain",
			    gw_body_text(gw_strdup("ready\n"), 6), NULL);
		else
			gw_req_reply(req, 503, "text/plain",
			    gw_body_text(gw_strdup("database not reachable\n"),
				23),
			    NULL);
	} else if (strcmp(path, "/metrics") == 0) {
		body = metrics_text(s, &len);
		gw_req_reply(req, 200, "text/plain; version=0.0.4",
		    gw_body_text(body, len), NULL);
	} else {
		gw_req_reply_error(req, 404, NULL, "no such route");
	}
}
