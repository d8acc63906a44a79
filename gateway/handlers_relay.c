/*
 * handlers_relay.c: a patient-data request whose data another country's
 * gateway holds (router.c chose req->relay_peer).  The request goes on to
 * that peer through the worker's pool (relay.c), with the requesting node's
 * context in headers; the holder decides consent, audits and answers.  Its
 * answer comes back as it was -- status, Content-Type, X-Break-Glass,
 * Retry-After, body -- except that in a Bundle the holder's base URL in
 * link[].url and entry[].fullUrl, and in a DocumentReference (alone or in
 * a Bundle) in content[].attachment.url, becomes our public_base_url, so
 * that the client pages on and retrieves documents through this gateway.  A call that got no answer becomes
 * an OperationOutcome: 502 (refused, reset, TLS, pin, invalid answer), 504
 * (a deadline), 503 with Retry-After (circuit breaker open).  This
 * gateway's own audit record says what it relayed to whom (audit.c).  A
 * request without X-Request-Id gets a random one, sent to the holder and
 * back to the client, so the two audit records can always be joined.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/fhir.h"
#include "gateway/gw.h"
#include "gateway/server.h"

/* The context a relayed request carries on, as the client sent it. */
static const char *const forwarded[] = { "X-Purpose-Of-Use",
	"X-Emergency-Reason", "X-Requesting-Practitioner",
	"X-Requesting-Organization", "X-Request-Id", "traceparent", "Accept",
	NULL };

/* What of the holder's answer is passed back besides its body. */
static const char *const passed_back[] = { "X-Break-Glass", "Retry-After",
	NULL };

struct hbuf {
	char *p;
	size_t len, cap;
};

/* Append "name: value\r\n"; values with bytes that could end a header
 * line (or none at all) are left out. */
static void
add_header(struct hbuf *b, const char *name, const char *value)
{
	size_t n;

	if (value == NULL || value[0] == '\0')
		return;
	for (const char *v = value; *v != '\0'; v++)
		if ((unsigned char)*v < 0x20 && *v != '\t')
			return;
	n = strlen(name) + strlen(value) + 4;
	if (b->len + n + 1 > b->cap) {
		while (b->len + n + 1 > b->cap)
			b->cap = b->cap ? b->cap * 2 : 512;
		b->p = gw_realloc(b->p, b->cap);
	}
	b->len += (size_t)snprintf(b->p + b->len, b->cap - b->len,
	    "%s: %s\r\n", name, value);
}

/* A node name from the registry as a header value: printable ASCII. */
static void
header_safe(const char *in, char *out, size_t outsz)
{
	size_t i = 0;

	for (; in[i] != '\0' && i + 1 < outsz; i++)
		out[i] = (in[i] >= 0x20 && in[i] < 0x7f) ? in[i] : '?';
	out[i] = '\0';
}

/* Replace the holder's base at the start of item's string by ours. */
static void
rebase(cJSON *parent, const char *key, const char *from, const char *to)
{
	cJSON *item = cJSON_GetObjectItemCaseSensitive(parent, key);
	size_t n = strlen(from), m;
	const char *s, *rest;
	char *url;

	if (!cJSON_IsString(item))
		return;
	s = item->valuestring;
	if (strncmp(s, from, n) != 0 ||
	    (s[n] != '\0' && s[n] != '/' && s[n] != '?'))
		return;
	rest = s + n;
	m = strlen(to) + strlen(rest) + 1;
	url = gw_malloc(m);
	snprintf(url, m, "%s%s", to, rest);
	cJSON_ReplaceItemInObjectCaseSensitive(parent, key,
	    cJSON_CreateString(url));
	free(url);
}

static bool
is_type(const cJSON *resource, const char *type)
{
	const cJSON *rt = cJSON_GetObjectItemCaseSensitive(resource,
	    "resourceType");

	return cJSON_IsString(rt) && strcmp(rt->valuestring, type) == 0;
}

/* Point a DocumentReference's attachment URLs (the holder's $summary,
 * handlers_docref.c) at this gateway. */
static void
rebase_docref(cJSON *docref, const char *from, const char *to)
{
	cJSON *c, *att;

	if (!is_type(docref, "DocumentReference"))
		return;
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(docref,
	    "content"))
		if (cJSON_IsObject(c) && cJSON_IsObject(att =
		    cJSON_GetObjectItemCaseSensitive(c, "attachment")))
			rebase(att, "url", from, to);
}

/* Point a Bundle's paging links, fullUrls and its DocumentReferences'
 * attachments at this gateway. */
static void
rebase_bundle(cJSON *bundle, const char *from, const char *to)
{
	cJSON *x;

	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(bundle, "link"))
		if (cJSON_IsObject(x))
			rebase(x, "url", from, to);
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(bundle,
	    "entry"))
		if (cJSON_IsObject(x)) {
			rebase(x, "fullUrl", from, to);
			rebase_docref(cJSON_GetObjectItemCaseSensitive(x,
			    "resource"), from, to);
		}
}

static void
relay_error(struct gw_req *req, int status, int retry_after,
    const char *why)
{
	const struct gw_peer *peer = req->relay_peer;
	struct hbuf extra = { 0 };
	char retry[16];
	cJSON *oo;
	char text[512];

	atomic_fetch_add(&req->worker->counters.relay_failed, 1);
	if (status == 503) {
		snprintf(retry, sizeof(retry), "%d",
		    retry_after > 0 ? retry_after : 1);
		add_header(&extra, "Retry-After", retry);
	}
	add_header(&extra, "X-Request-Id", req->request_id);
	snprintf(text, sizeof(text), "relay to the %s gateway (%s) failed: %s",
	    peer->country, peer->url, why != NULL ? why : "no answer");
	oo = gw_fhir_outcome("error", status == 504 ? "timeout" :
	    status == 503 ? "transient" : "exception", text);
	gw_req_reply_json(req, status, oo, extra.p);
	free(extra.p);
}

/* Parse a whole body as JSON, nothing but whitespace after it. */
static cJSON *
parse_body(const char *body, size_t len)
{
	const char *end = NULL;
	cJSON *json = cJSON_ParseWithLengthOpts(body, len, &end, 0);

	if (json == NULL)
		return NULL;
	for (; end < body + len; end++)
		if (*end != ' ' && *end != '\t' && *end != '\r' &&
		    *end != '\n') {
			cJSON_Delete(json);
			return NULL;
		}
	return json;
}

static void
answer(struct gw_req *req, const struct gw_http_response *resp)
{
	const char *ctype = gw_http_response_header(resp, "Content-Type");
	const struct gw_config *cfg = req->worker->server->cfg;
	struct hbuf extra = { 0 };
	cJSON *json = NULL;
	char *body = NULL;
	size_t len = resp->body_len;

	if (len > 0) {
		json = parse_body(resp->body, len);
		if (json == NULL) {
			relay_error(req, 502, 0, "the peer's answer is not JSON");
			return;
		}
	}
	if (is_type(json, "Bundle") || is_type(json, "DocumentReference")) {
		rebase_bundle(json, req->relay_peer->url,
		    cfg->public_base_url);
		rebase_docref(json, req->relay_peer->url,
		    cfg->public_base_url);
		body = gw_fhir_print(json);
		len = strlen(body);
	} else if (len > 0) {
		/* Anything else goes back byte for byte. */
		body = gw_malloc(len + 1);
		memcpy(body, resp->body, len);
		body[len] = '\0';
	}
	if (json != NULL)
		gw_audit_note_returned(req, json);
	cJSON_Delete(json);
	for (size_t i = 0; passed_back[i] != NULL; i++)
		add_header(&extra, passed_back[i],
		    gw_http_response_header(resp, passed_back[i]));
	add_header(&extra, "X-Request-Id", req->request_id);
	gw_req_reply(req, resp->status, ctype != NULL ? ctype :
	    len > 0 ? "application/fhir+json; charset=utf-8" : NULL,
	    gw_body_text(body, len), extra.p);
	free(extra.p);
}

static void
relayed(int status, const struct gw_http_response *resp, const char *error,
    int retry_after, void *arg)
{
	struct gw_req *req = arg;

	if (gw_req_gone(req))
		return;
	if (resp == NULL) {
		relay_error(req, status, retry_after, error);
		return;
	}
	answer(req, resp);
}

void
gw_handle_relay(struct gw_req *req)
{
	const struct gw_node *node = &req->conn->node;
	const struct gw_peer *peer = req->relay_peer;
	struct hbuf h = { 0 };
	char name[sizeof(node->name)];
	const char *rid;

	/* Who asks, for the holder's consent decision and audit record:
	 * the holder trusts these from a peer gateway only (router.c). */
	add_header(&h, "X-Origin-Country", node->country);
	header_safe(node->name, name, sizeof(name));
	add_header(&h, "X-Origin-Node", name);
	for (size_t i = 0; forwarded[i] != NULL; i++)
		add_header(&h, forwarded[i],
		    gw_http_header(&req->http, forwarded[i]));
	rid = gw_http_header(&req->http, "X-Request-Id");
	if (rid == NULL || rid[0] == '\0') {
		gw_fhir_uuid4(req->request_id);
		add_header(&h, "X-Request-Id", req->request_id);
	}
	atomic_fetch_add(&req->worker->counters.relayed, 1);
	req->pending = true;
	/* The route matched "/fhir/...": the peer gets what follows, with
	 * the query, below its own base path. */
	if (gw_relay_send(req->worker->relay, peer->country, req->http.method,
	    req->http.target + strlen("/fhir"), h.p, relayed, req) != GW_OK) {
		req->pending = false;
		relay_error(req, 502, 0, "no relay to this peer");
	}
	free(h.p);
}
