/*
 * router.c: from a parsed request to a handler.
 *
 * Routes are rows of {method, pattern, handler}; "{}" in a pattern captures
 * one path segment.  Before a handler runs, the router settles everything
 * that is the same for every route: the path exists (404) and takes this
 * method (405), the client accepts JSON (406), the query string is well
 * formed (400), the node behind the certificate is registered (403), and
 * for patient data that it has the treatment role and states a purpose.
 * Then, for patient data, it finds the country holding the patient's data
 * (the id's prefix or the identifier's system): a local adapter runs the
 * route's handler, a peer gateway gets the request relayed
 * (handlers_relay.c), any other country is a 404 (docs/relay.md).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/gw.h"
#include "gateway/server.h"
#include "gateway/throttle.h"

#define TREATMENT "treatment"
#define CONSENT_ADMIN "consent-admin"
#define PEER_GATEWAY "peer-gateway"
#define RESEARCH "research"
/* Patient data: national nodes, and peer gateways relaying for theirs. */
#define PATIENT_DATA_ROLES TREATMENT "," PEER_GATEWAY

/* Specific patterns before the generic "/fhir/{}" rows. */
static const struct gw_route routes[] = {
	{ .method = GW_HTTP_GET, .pattern = "/fhir/metadata",
	    .handler = gw_handle_metadata },
	{ .method = GW_HTTP_GET, .pattern = "/fhir/Patient",
	    .handler = gw_handle_patient_search, .roles = PATIENT_DATA_ROLES,
	    .patient_data = true, .home = GW_HOME_IDENTIFIER },
	{ .method = GW_HTTP_GET, .pattern = "/fhir/Patient/{}/$summary",
	    .handler = gw_handle_summary, .roles = PATIENT_DATA_ROLES,
	    .patient_data = true, .home = GW_HOME_PATH_ID },
	{ .method = GW_HTTP_GET, .pattern = "/fhir/Patient/{}",
	    .handler = gw_handle_patient_read, .roles = PATIENT_DATA_ROLES,
	    .patient_data = true, .home = GW_HOME_PATH_ID },
	/* IHE MHD: the summary as a DocumentReference (handlers_docref.c). */
	{ .method = GW_HTTP_GET, .pattern = "/fhir/DocumentReference",
	    .handler = gw_handle_docref_search, .roles = PATIENT_DATA_ROLES,
	    .patient_data = true, .home = GW_HOME_PATIENT_PARAM },
	{ .method = GW_HTTP_GET, .pattern = "/fhir/DocumentReference/{}",
	    .handler = gw_handle_docref_read, .roles = PATIENT_DATA_ROLES,
	    .patient_data = true, .home = GW_HOME_PATH_ID },
	{ .method = GW_HTTP_POST, .pattern = "/fhir/Consent",
	    .handler = gw_handle_consent_create, .roles = CONSENT_ADMIN },
	{ .method = GW_HTTP_GET, .pattern = "/fhir/Consent",
	    .handler = gw_handle_consent_search, .roles = CONSENT_ADMIN },
	{ .method = GW_HTTP_GET, .pattern = "/fhir/Consent/{}",
	    .handler = gw_handle_consent_read, .roles = CONSENT_ADMIN },
	{ .method = GW_HTTP_PUT, .pattern = "/fhir/Consent/{}",
	    .handler = gw_handle_consent_update, .roles = CONSENT_ADMIN },
	{ .method = GW_HTTP_DELETE, .pattern = "/fhir/Consent/{}",
	    .handler = gw_handle_consent_delete, .roles = CONSENT_ADMIN },
	/* Secondary use: the data permit, not a purpose header, is the
	 * authority (docs/export.md); every call is audited. */
	{ .method = GW_HTTP_GET, .pattern = "/fhir/Group/{}/$export",
	    .handler = gw_handle_export_kickoff, .roles = RESEARCH,
	    .audit = true },
	{ .method = GW_HTTP_GET, .pattern = "/fhir/$export-status/{}",
	    .handler = gw_handle_export_status, .roles = RESEARCH,
	    .audit = true },
	{ .method = GW_HTTP_DELETE, .pattern = "/fhir/$export-status/{}",
	    .handler = gw_handle_export_cancel, .roles = RESEARCH,
	    .audit = true },
	{ .method = GW_HTTP_GET, .pattern = "/fhir/$export-file/{}/{}",
	    .handler = gw_handle_export_file, .roles = RESEARCH,
	    .audit = true },
	{ .method = GW_HTTP_GET, .pattern = "/fhir/AuditEvent",
	    .handler = gw_handle_audit_search,
	    .roles = "auditor,patient-portal", .audit = true },
	{ .method = GW_HTTP_GET, .pattern = "/fhir/AuditEvent/{}",
	    .handler = gw_handle_audit_read,
	    .roles = "auditor,patient-portal", .audit = true },
	{ .method = GW_HTTP_GET, .pattern = "/fhir/{}",
	    .handler = gw_handle_type_search, .roles = PATIENT_DATA_ROLES,
	    .patient_data = true, .typed = true,
	    .home = GW_HOME_PATIENT_PARAM },
	{ .method = GW_HTTP_GET, .pattern = "/fhir/{}/{}",
	    .handler = gw_handle_type_read, .roles = PATIENT_DATA_ROLES,
	    .patient_data = true, .typed = true, .home = GW_HOME_PATH_ID2 },
};

const struct gw_db_statement gw_router_statements[] = {
	{ .name = "gw_node_by_key", .nparams = 1, .read_only = true, .sql =
	    "select name, country, array_to_string(roles, ','), active::text,"
	    " coalesce(requests_per_s::text, '')"
	    " from gw.node where key_sha256 = $1" },
	{ .name = NULL },
};

/*
 * Percent-decode s[0..len) into a new string.  '+' stays '+': FHIR values
 * such as a HETU's century sign contain it, and FHIR search follows RFC
 * 3986, not HTML forms.  NULL on a bad escape or an encoded NUL.
 */
static char *
percent_decode(const char *s, size_t len)
{
	char *out = gw_malloc(len + 1), *o = out;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '%') {
			int hi, lo;

			if (i + 2 >= len)
				goto err;
			hi = gw_hex_value((unsigned char)s[i + 1]);
			lo = gw_hex_value((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				goto err;
			*o++ = (char)(hi << 4 | lo);
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
err:
	free(out);
	return NULL;
}

/* Match path against pattern, capturing "{}" segments.  A capture never
 * spans a '/' and is never empty. */
static bool
match(const char *pattern, const char *path, const char *caps[2],
    size_t caplen[2])
{
	int n = 0;

	while (*pattern != '\0') {
		if (pattern[0] == '{' && pattern[1] == '}') {
			const char *start = path;

			while (*path != '\0' && *path != '/')
				path++;
			if (path == start || n == 2)
				return false;
			caps[n] = start;
			caplen[n++] = (size_t)(path - start);
			pattern += 2;
			continue;
		}
		if (*pattern++ != *path++)
			return false;
	}
	return *path == '\0';
}

static int
parse_query(struct gw_req *req)
{
	const char *q = req->http.query;

	while (*q != '\0') {
		const char *amp = strchr(q, '&');
		size_t len = amp ? (size_t)(amp - q) : strlen(q);
		const char *eq = memchr(q, '=', len);
		struct gw_param *p;

		if (len == 0) {
			q += 1;
			continue;
		}
		if (req->nparams == GW_MAX_PARAMS || eq == NULL || eq == q)
			return GW_ERR;
		p = &req->params[req->nparams];
		p->name = percent_decode(q, (size_t)(eq - q));
		p->value = percent_decode(eq + 1, len - (size_t)(eq - q) - 1);
		req->nparams++;
		if (p->name == NULL || p->value == NULL)
			return GW_ERR;
		q += len + (amp != NULL);
	}
	return GW_OK;
}

const char *
gw_req_param(const struct gw_req *req, const char *name)
{
	for (int i = 0; i < req->nparams; i++)
		if (strcmp(req->params[i].name, name) == 0)
			return req->params[i].value;
	return NULL;
}

void
gw_req_free(struct gw_req *req)
{
	gw_http_request_free(&req->http);
	for (int i = 0; i < 2; i++)
		free(req->path_args[i]);
	for (int i = 0; i < req->nparams; i++) {
		free(req->params[i].name);
		free(req->params[i].value);
	}
	gw_row_free(&req->held);
	gw_free_zero(req->held_text.p, req->held_text.cap);
	free(req->ctx);
	gw_audit_entry_free(req->audit);
	/* The patient's national id and key were on this request. */
	gw_free_zero(req, sizeof(*req));
}

bool
gw_req_gone(struct gw_req *req)
{
	req->pending = false;
	if (req->conn != NULL)
		return false;
	if (req->audit != NULL)
		gw_audit_orphaned(req); /* recorded, then freed */
	else
		gw_req_free(req);
	return true;
}

bool
gw_req_query_ok(struct gw_req *req, const PGresult *res, const char *error,
    const char *what, const char *unavailable)
{
	if (gw_req_gone(req))
		return false;
	if (res == NULL) {
		gw_warn("%s: %s", what, error);
		gw_req_reply_error(req, 503, NULL, "%s", unavailable);
		return false;
	}
	return true;
}

/* Does the Accept header (or _format) allow a JSON answer? */
static bool
accepts_json(const struct gw_req *req)
{
	const char *fmt = gw_req_param(req, "_format");
	const char *accept = gw_http_header(&req->http, "Accept");

	if (fmt != NULL)
		return strcmp(fmt, "json") == 0 ||
		    strcmp(fmt, "application/json") == 0 ||
		    strcmp(fmt, "application/fhir+json") == 0;
	if (accept == NULL || accept[0] == '\0')
		return true;
	return strstr(accept, "json") != NULL || strstr(accept, "*/*") ||
	    strstr(accept, "application/*") != NULL;
}

/* The roles a node can hold and a route can ask for (docs/api.md); a node
 * keeps its roles as bits of this table. */
static const char *const role_names[] = { TREATMENT, CONSENT_ADMIN,
	"auditor", "patient-portal", RESEARCH, PEER_GATEWAY };

static unsigned
role_bit(const char *name, size_t n)
{
	for (size_t i = 0; i < GW_ARRAY_LEN(role_names); i++)
		if (strlen(role_names[i]) == n &&
		    memcmp(role_names[i], name, n) == 0)
			return 1u << i;
	return 0;
}

/* The bits of a comma-separated list; *unknown counts names not in the
 * table (they grant nothing). */
static unsigned
role_bits(const char *list, int *unknown)
{
	unsigned bits = 0;

	for (const char *p = list; *p != '\0';) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		unsigned b = role_bit(p, len);

		if (b == 0 && len > 0 && unknown != NULL)
			(*unknown)++;
		bits |= b;
		p += len + (comma != NULL);
	}
	return bits;
}

/* Each route's roles as bits, filled once by gw_router_check() before the
 * workers start (all zero, so nothing passes, until then). */
static unsigned route_roles[GW_LATENCY_ROUTES];

bool
gw_node_has_role(const struct gw_node *node, const char *role)
{
	return (node->roles & role_bit(role, strlen(role))) != 0;
}

static void route_checked(struct gw_req *req);

static bool
is_country_code(const char *s)
{
	return s != NULL && strlen(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' &&
	    s[1] >= 'A' && s[1] <= 'Z';
}

/*
 * X-Origin-Country and X-Origin-Node name the node a peer gateway relays
 * for; only a node with the role peer-gateway may send them (anyone else
 * could otherwise pick the country its consent is decided for), and a
 * peer gateway must send the country on patient data.  Copies them into
 * the request; GW_ERR after answering 400.
 */
static int
origin_checked(struct gw_req *req)
{
	const struct gw_node *node = &req->conn->node;
	const char *cc = gw_http_header(&req->http, "X-Origin-Country");
	const char *name = gw_http_header(&req->http, "X-Origin-Node");
	bool peer = gw_node_has_role(node, PEER_GATEWAY);

	if (cc == NULL && name == NULL) {
		if (!peer || !req->route->patient_data)
			return GW_OK;
		gw_req_reply_error(req, 400, "required",
		    "a peer gateway must name the requesting node's country"
		    " in X-Origin-Country");
		return GW_ERR;
	}
	if (!peer) {
		gw_req_reply_error(req, 400, "invalid",
		    "X-Origin-Country and X-Origin-Node are accepted only from"
		    " nodes with the role peer-gateway; node %s has not",
		    node->name);
		return GW_ERR;
	}
	if (gw_http_header_count(&req->http, "X-Origin-Country") != 1 ||
	    gw_http_header_count(&req->http, "X-Origin-Node") > 1 ||
	    !is_country_code(cc)) {
		gw_req_reply_error(req, 400, "invalid",
		    "X-Origin-Country must be given once, as a country code"
		    " (two capital letters)");
		return GW_ERR;
	}
	gw_strlcpy(req->origin_country, cc, sizeof(req->origin_country));
	if (name != NULL)
		gw_strlcpy(req->origin_node, name, sizeof(req->origin_node));
	return GW_OK;
}

/* The country of a logical id's prefix ("fi-..." -> FI): a compiled
 * adapter's, else a peer's whose code is the prefix in lower case (a
 * country relayed without an adapter in this build).  NULL if none. */
static const char *
country_of_id(const struct gw_config *cfg, const char *id)
{
	const char *dash;
	const struct gw_adapter *a;

	if (strncmp(id, "Patient/", 8) == 0)
		id += 8;
	dash = strchr(id, '-');
	if (dash == NULL || dash == id)
		return NULL;
	a = gw_adapter_by_prefix(id, (size_t)(dash - id));
	if (a != NULL)
		return a->country;
	if (dash - id == 2)
		for (int i = 0; i < cfg->npeers; i++)
			if (tolower((unsigned char)cfg->peers[i].country[0]) ==
			    id[0] &&
			    tolower((unsigned char)cfg->peers[i].country[1]) ==
			    id[1])
				return cfg->peers[i].country;
	return NULL;
}

/* The country holding the data a patient-data request names, or NULL when
 * it names none we know (the handler then answers as it would anyway). */
static const char *
home_country(const struct gw_req *req)
{
	const struct gw_config *cfg = req->worker->server->cfg;
	const char *v, *bar;
	char system[128];
	const struct gw_adapter *a;

	switch (req->route->home) {
	case GW_HOME_PATH_ID:
		return country_of_id(cfg, req->path_args[0]);
	case GW_HOME_PATH_ID2:
		return country_of_id(cfg, req->path_args[1]);
	case GW_HOME_PATIENT_PARAM:
		v = gw_req_param(req, "patient");
		return v != NULL ? country_of_id(cfg, v) : NULL;
	case GW_HOME_IDENTIFIER:
		v = gw_req_param(req, "identifier");
		if (v == NULL || (bar = strchr(v, '|')) == NULL ||
		    (size_t)(bar - v) >= sizeof(system))
			return NULL;
		memcpy(system, v, (size_t)(bar - v));
		system[bar - v] = '\0';
		a = gw_adapter_by_system(system, NULL);
		return a != NULL ? a->country : NULL;
	case GW_HOME_NONE:
	default:
		return NULL;
	}
}

/* Run the route's handler when the data is local, relay it when a peer
 * holds it, refuse it otherwise. */
static void
route_home(struct gw_req *req)
{
	const struct gw_config *cfg = req->worker->server->cfg;
	const char *cc = req->route->patient_data ? home_country(req) : NULL;
	const struct gw_peer *peer;

	if (cc == NULL || gw_config_is_local(cfg, cc)) {
		req->route->handler(req);
		return;
	}
	peer = gw_config_peer(cfg, cc);
	if (peer == NULL) {
		gw_req_reply_error(req, 404, "not-found",
		    "patient data of country %s is neither held by this"
		    " gateway (%s) nor relayed to a peer", cc, cfg->country);
		return;
	}
	if (gw_node_has_role(&req->conn->node, PEER_GATEWAY)) {
		/* Two gateways that each think the other holds a country
		 * must not bounce a request between them. */
		gw_req_reply_error(req, 404, "not-found",
		    "patient data of country %s is not held by this gateway"
		    " (%s), and a request relayed by a peer gateway is never"
		    " relayed again", cc, cfg->country);
		return;
	}
	req->relay_peer = peer;
	gw_handle_relay(req);
}

/* The registry's row (gw_node_by_key) into node, its key already there. */
static void
node_read(struct gw_node *node, const PGresult *res)
{
	long rate = -1;
	int unknown = 0;

	gw_strlcpy(node->name, PQgetvalue(res, 0, 0), sizeof(node->name));
	gw_strlcpy(node->country, PQgetvalue(res, 0, 1), sizeof(node->country));
	node->roles = role_bits(PQgetvalue(res, 0, 2), &unknown);
	if (unknown > 0)
		gw_warn("node %s: %d role(s) in the registry that grant nothing"
		    " here: %s", node->name, unknown, PQgetvalue(res, 0, 2));
	if (PQgetvalue(res, 0, 4)[0] != '\0')
		gw_parse_long(PQgetvalue(res, 0, 4), 0, 1000000, &rate);
	node->requests_per_s = (int)rate;
}

static void
node_loaded(const PGresult *res, const char *error, void *arg)
{
	struct gw_req *req = arg;
	struct gw_conn *c;

	if (gw_req_gone(req))
		return;
	c = req->conn;
	if (res == NULL) {
		c->node_state = GW_NODE_UNKNOWN;
		gw_warn("node lookup failed: %s", error);
		gw_req_reply_error(req, 503, NULL,
		    "node registry unavailable; try again");
		return;
	}
	if (PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 3), "true") == 0) {
		node_read(&c->node, res);
		c->node_state = GW_NODE_KNOWN;
	} else {
		c->node_state = GW_NODE_REFUSED;
		gw_info("refused unregistered node key %s", c->node.key_hash);
	}
	route_checked(req);
}

/* Is the node over its request rate (throttle.h)?  Then it is answered
 * 429 with Retry-After, and true. */
static bool
throttled(struct gw_req *req)
{
	const struct gw_node *node = &req->conn->node;
	const struct gw_limits *lim = &req->worker->limits;
	int rate = node->requests_per_s >= 0 ? node->requests_per_s :
	    lim->node_requests_per_s;
	char extra[48], text[160];
	int wait;

	if (rate == 0)
		return false;
	wait = gw_throttle_take(req->worker->server->throttle, node->key_hash,
	    rate, lim->node_burst_s);
	if (wait == 0)
		return false;
	atomic_fetch_add(&req->worker->counters.throttled, 1);
	snprintf(extra, sizeof(extra), "Retry-After: %d\r\n", wait);
	snprintf(text, sizeof(text), "node %s is over its rate of %d requests"
	    " per second; try again in %d s", node->name, rate, wait);
	gw_req_reply_json(req, 429, gw_fhir_outcome("error", "throttled", text),
	    extra);
	return true;
}

/* The node is settled (known or refused); check roles and context, then
 * hand over to the handler. */
static void
route_checked(struct gw_req *req)
{
	struct gw_conn *c = req->conn;
	const char *purpose, *reason;

	if (c->node_state == GW_NODE_UNKNOWN) {
		const char *params[1] = { c->node.key_hash };

		c->node_state = GW_NODE_LOOKUP;
		req->pending = true;
		gw_db_query(req->worker->db, "gw_node_by_key", 1, params,
		    node_loaded, req);
		return;
	}
	if (c->node_state != GW_NODE_KNOWN) {
		gw_req_reply_error(req, 403, "forbidden",
		    "client certificate key is not a registered node");
		return;
	}
	/* Before the audit record: a node over its rate costs no database
	 * work, or a flood would flood the audit chain too. */
	if (throttled(req))
		return;
	/* From here on the request is about someone's data: whatever the
	 * answer, it is recorded before it leaves. */
	if (req->route->patient_data || req->route->audit)
		gw_audit_begin(req);
	if (origin_checked(req) != GW_OK)
		return;
	if (req->route->roles != NULL &&
	    (c->node.roles & route_roles[req->route - routes]) == 0) {
		gw_req_reply_error(req, 403, "forbidden",
		    "node %s lacks role %s", c->node.name, req->route->roles);
		return;
	}
	if (req->route->patient_data) {
		purpose = gw_http_header(&req->http, "X-Purpose-Of-Use");
		if (purpose == NULL ||
		    gw_purpose_parse(purpose, &req->purpose) != GW_OK) {
			gw_req_reply_error(req, 400, "required",
			    "X-Purpose-Of-Use must be one of TREAT, ETREAT,"
			    " HRESCH, PUBHLTH");
			return;
		}
		reason = gw_http_header(&req->http, "X-Emergency-Reason");
		req->emergency = reason != NULL && reason[0] != '\0';
		if (req->purpose == GW_PURPOSE_ETREAT && !req->emergency) {
			gw_req_reply_error(req, 400, "required",
			    "ETREAT requires X-Emergency-Reason");
			return;
		}
	}
	route_home(req);
}

int
gw_router_check(void)
{
	for (size_t i = 0; i < GW_ARRAY_LEN(routes); i++) {
		int unknown = 0;

		if (routes[i].roles == NULL)
			continue;
		route_roles[i] = role_bits(routes[i].roles, &unknown);
		if (route_roles[i] == 0 || unknown > 0) {
			gw_error("route %s names a role router.c does not know:"
			    " %s", routes[i].pattern, routes[i].roles);
			return GW_ERR;
		}
	}
	return GW_OK;
}

_Static_assert(GW_ARRAY_LEN(routes) <= GW_LATENCY_ROUTES,
    "more routes than latency.h counts apart");

int
gw_router_route_index(const struct gw_route *route)
{
	return route != NULL ? (int)(route - routes) : -1;
}

void
gw_router_route_label(int index, char *buf, size_t size)
{
	static const char *const methods[] = { [GW_HTTP_GET] = "GET",
		[GW_HTTP_HEAD] = "HEAD", [GW_HTTP_POST] = "POST",
		[GW_HTTP_PUT] = "PUT", [GW_HTTP_DELETE] = "DELETE",
		[GW_HTTP_OPTIONS] = "OPTIONS" };
	const struct gw_route *r;

	if (index < 0 || (size_t)index >= GW_ARRAY_LEN(routes)) {
		gw_strlcpy(buf, "none", size);
		return;
	}
	r = &routes[index];
	snprintf(buf, size, "%s %s", (size_t)r->method < GW_ARRAY_LEN(methods)
	    && methods[r->method] != NULL ? methods[r->method] : "?",
	    r->pattern);
}

void
gw_router_dispatch(struct gw_req *req)
{
	const char *caps[2] = { NULL, NULL };
	size_t caplen[2] = { 0, 0 };
	bool path_known = false;

	if (req->http.method == GW_HTTP_OTHER) {
		/* We cannot know how such a request is framed beyond its
		 * headers: close after answering. */
		req->http.keep_alive = false;
		gw_req_reply_error(req, 501, NULL, "method %s not implemented",
		    req->http.method_name);
		return;
	}
	for (size_t i = 0; i < GW_ARRAY_LEN(routes); i++) {
		if (!match(routes[i].pattern, req->http.path, caps, caplen))
			continue;
		path_known = true;
		if (routes[i].method == req->http.method) {
			req->route = &routes[i];
			break;
		}
	}
	if (req->route == NULL) {
		if (path_known)
			gw_req_reply_error(req, 405, NULL,
			    "method %s not allowed here",
			    req->http.method_name);
		else
			gw_req_reply_error(req, 404, NULL, "no such route");
		return;
	}
	for (int i = 0; i < 2 && caps[i] != NULL; i++) {
		req->path_args[i] = percent_decode(caps[i], caplen[i]);
		if (req->path_args[i] == NULL) {
			gw_req_reply_error(req, 400, NULL,
			    "bad percent-encoding in path");
			return;
		}
	}
	if (req->route->typed &&
	    (gw_fhir_type_from_name(req->path_args[0], &req->rtype) != GW_OK ||
		req->rtype == GW_RT_PATIENT)) {
		gw_req_reply_error(req, 404, "not-supported",
		    "resource type %s is not served here", req->path_args[0]);
		return;
	}
	if (parse_query(req) != GW_OK) {
		gw_req_reply_error(req, 400, NULL, "malformed query string");
		return;
	}
	if (!accepts_json(req)) {
		gw_req_reply_error(req, 406, NULL,
		    "only application/fhir+json is served");
		return;
	}
	route_checked(req);
}
