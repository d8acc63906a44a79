/*
 * audit_event.c: GET /fhir/AuditEvent?patient={id}[&date=..][&_count=]
 * [&_offset=], who accessed a patient's data, as FHIR R4 AuditEvents.
 *
 * The router lets in nodes with role auditor or patient-portal (a portal
 * only for patients of its own country).  Records are read in chain order
 * (seq), so paging by offset is stable while new records are appended, and
 * rendered from their canonical text -- what the chain vouches for -- after
 * the IHE Basic Audit Log Patterns: the node as the client (Source Role
 * ID), this gateway as the server (Destination Role ID), the practitioner
 * as the requesting user, the patient and each returned resource as
 * entities, the query and the X-Request-Id as entities of their own.  The
 * read itself is audited like any other (route flag audit).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "gateway/audit.h"
#include "gateway/gw.h"
#include "gateway/patient_flow.h"
#include "gateway/search_param.h"
#include "gateway/server.h"

#define COUNT_DEFAULT 20
#define COUNT_MAX 100
#define OFFSET_MAX 100000
#define DATE_PARAMS_MAX 2

#define CS_EVENT_TYPE "http://terminology.hl7.org/CodeSystem/audit-event-type"
#define CS_INTERACTION "http://hl7.org/fhir/restful-interaction"
#define CS_DCM "http://dicom.nema.org/resources/ontology/DCM"
#define CS_PARTICIPATION "http://terminology.hl7.org/CodeSystem/" \
	"v3-ParticipationType"
#define CS_ROLE_CLASS "http://terminology.hl7.org/CodeSystem/v3-RoleClass"
#define CS_SOURCE_TYPE "http://terminology.hl7.org/CodeSystem/" \
	"security-source-type"
#define CS_ENTITY_TYPE "http://terminology.hl7.org/CodeSystem/" \
	"audit-entity-type"
#define CS_OBJECT_ROLE "http://terminology.hl7.org/CodeSystem/object-role"
#define CS_ACT_REASON "http://terminology.hl7.org/CodeSystem/v3-ActReason"
#define CS_BALP_ENTITY "https://profiles.ihe.net/ITI/BALP/CodeSystem/" \
	"BasicAuditEntityType"
#define NODE_KEY_SYSTEM "urn:fhirgw:node-key-sha256"

/* --- rendering ---------------------------------------------------------- */

static const char *
str(const cJSON *obj, const char *path)
{
	const cJSON *v = obj;
	char key[32];

	/* path: "a" or "a.b" */
	while (v != NULL && *path != '\0') {
		size_t n = strcspn(path, ".");

		if (n >= sizeof(key))
			return "";
		memcpy(key, path, n);
		key[n] = '\0';
		v = cJSON_GetObjectItemCaseSensitive(v, key);
		path += n + (path[n] == '.');
	}
	return cJSON_IsString(v) ? v->valuestring : "";
}

static cJSON *
coding(const char *system, const char *code, const char *display)
{
	return gw_fhir_coding(system, code, display);
}

static cJSON *
concept(const char *system, const char *code, const char *display)
{
	return gw_fhir_codeable(coding(system, code, display), NULL);
}

/* An Identifier from "system|value" (or a bare value). */
static cJSON *
identifier(const char *text, const char *default_system)
{
	cJSON *id = cJSON_CreateObject();
	const char *bar = strchr(text, '|');

	if (bar != NULL) {
		char *system = gw_strndup(text, (size_t)(bar - text));

		GW_FHIR_ADD_STRING(id, "system", system);
		free(system);
		text = bar + 1;
	} else {
		GW_FHIR_ADD_STRING(id, "system", default_system);
	}
	GW_FHIR_ADD_STRING(id, "value", text);
	return id;
}

static cJSON *
purpose_of_use(const char *purpose)
{
	enum gw_purpose p;
	cJSON *arr = cJSON_CreateArray();

	/* A code we know is a v3 ActReason; anything else stays text. */
	if (gw_purpose_parse(purpose, &p) == GW_OK)
		cJSON_AddItemToArray(arr, concept(CS_ACT_REASON, purpose,
		    NULL));
	else
		cJSON_AddItemToArray(arr, gw_fhir_codeable(NULL, purpose));
	return arr;
}

static cJSON *
agent(cJSON *type, cJSON *who, bool requestor)
{
	cJSON *a = cJSON_CreateObject();

	cJSON_AddItemToObject(a, "type", type);
	cJSON_AddItemToObject(a, "who", who);
	cJSON_AddBoolToObject(a, "requestor", requestor);
	return a;
}

static void
add_detail(cJSON *entity, const char *type, const char *value)
{
	cJSON *arr, *d;

	if (value == NULL || value[0] == '\0')
		return;
	arr = cJSON_GetObjectItemCaseSensitive(entity, "detail");
	if (arr == NULL)
		arr = cJSON_AddArrayToObject(entity, "detail");
	d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "type", type);
	cJSON_AddStringToObject(d, "valueString", value);
	cJSON_AddItemToArray(arr, d);
}

static cJSON *
entity(const char *type_system, const char *type_code, const char *type_disp,
    const char *role_code, const char *role_disp)
{
	cJSON *e = cJSON_CreateObject();

	cJSON_AddItemToObject(e, "type", coding(type_system, type_code,
	    type_disp));
	if (role_code != NULL)
		cJSON_AddItemToObject(e, "role", coding(CS_OBJECT_ROLE,
		    role_code, role_disp));
	return e;
}

static char *
base64(const char *s)
{
	size_t n = strlen(s);
	char *out = gw_malloc(4 * ((n + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s,
	    (int)n);
	return out;
}

static cJSON *
outcome_of(int status)
{
	return cJSON_CreateString(status < 400 ? "0" : status < 500 ? "4" :
	    "8");
}

cJSON *
gw_audit_event_from_canonical(const char *canonical, long long seq,
    const char *observer_country)
{
	cJSON *rec = cJSON_Parse(canonical), *ev, *agents, *entities, *e;
	const cJSON *status, *returned, *id;
	const char *op, *request, *target;
	char text[GW_AUDIT_FIELD_MAX * 2 + 128], observer[64], num[32];
	long long count;
	bool relayed;

	status = cJSON_GetObjectItemCaseSensitive(rec, "status");
	returned = cJSON_GetObjectItemCaseSensitive(rec, "returned");
	if (!cJSON_IsObject(rec) || !cJSON_IsNumber(status) ||
	    !cJSON_IsObject(returned)) {
		cJSON_Delete(rec);
		return NULL;
	}
	op = str(rec, "operation");
	request = str(rec, "request");
	snprintf(observer, sizeof(observer), "fhirgw %s", observer_country);

	ev = cJSON_CreateObject();
	cJSON_AddStringToObject(ev, "resourceType", "AuditEvent");
	snprintf(num, sizeof(num), "%lld", seq);
	cJSON_AddStringToObject(ev, "id", num);
	cJSON_AddItemToObject(ev, "type", coding(CS_EVENT_TYPE, "rest",
	    "Restful Operation"));
	cJSON_AddItemToArray(cJSON_AddArrayToObject(ev, "subtype"),
	    op[0] == '$' ? coding(CS_INTERACTION, "operation", op) :
	    coding(CS_INTERACTION, op, NULL));
	cJSON_AddStringToObject(ev, "action",
	    strcmp(op, "read") == 0 ? "R" : strcmp(op, "create") == 0 ? "C" :
	    strcmp(op, "update") == 0 ? "U" : strcmp(op, "delete") == 0 ? "D" :
	    "E");
	cJSON_AddStringToObject(ev, "recorded", str(rec, "time"));
	cJSON_AddItemToObject(ev, "outcome", outcome_of(status->valueint));
	/* A relayed request (docs/relay.md): rule "peer/CC" names where. */
	relayed = strcmp(str(rec, "decision"), "relay") == 0;
	snprintf(text, sizeof(text), "HTTP %d%s%s%s%s%s", status->valueint,
	    relayed ? "; relayed to " : str(rec, "decision")[0] ?
	    "; consent " : "", relayed ? "" : str(rec, "decision"),
	    !relayed && str(rec, "rule")[0] ? " by " : "", str(rec, "rule"),
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec,
	    "break_glass")) ? "; break-glass" : "");
	cJSON_AddStringToObject(ev, "outcomeDesc", text);
	if (str(rec, "purpose")[0] != '\0')
		cJSON_AddItemToObject(ev, "purposeOfEvent",
		    purpose_of_use(str(rec, "purpose")));

	/* Agents: the calling node (client), this gateway (server), the
	 * practitioner on whose behalf it called, their organisation. */
	agents = cJSON_AddArrayToObject(ev, "agent");
	{
		cJSON *who = cJSON_CreateObject();

		cJSON_AddItemToObject(who, "identifier",
		    identifier(str(rec, "node.key"), NODE_KEY_SYSTEM));
		snprintf(text, sizeof(text), "%s (%s)", str(rec, "node.name"),
		    str(rec, "node.country"));
		cJSON_AddStringToObject(who, "display", text);
		cJSON_AddItemToArray(agents, agent(gw_fhir_codeable(coding(
		    CS_DCM, "110153", "Source Role ID"), NULL), who, false));
		who = cJSON_CreateObject();
		cJSON_AddStringToObject(who, "display", observer);
		cJSON_AddItemToArray(agents, agent(gw_fhir_codeable(coding(
		    CS_DCM, "110152", "Destination Role ID"), NULL), who,
		    false));
	}
	if (str(rec, "practitioner")[0] != '\0') {
		cJSON *who = cJSON_CreateObject(), *a;

		cJSON_AddItemToObject(who, "identifier",
		    identifier(str(rec, "practitioner"), NULL));
		a = agent(concept(CS_PARTICIPATION, "IRCP",
		    "information recipient"), who, true);
		if (str(rec, "purpose")[0] != '\0')
			cJSON_AddItemToObject(a, "purposeOfUse",
			    purpose_of_use(str(rec, "purpose")));
		cJSON_AddItemToArray(agents, a);
	}
	if (str(rec, "organization")[0] != '\0') {
		cJSON *who = cJSON_CreateObject();

		cJSON_AddItemToObject(who, "identifier",
		    identifier(str(rec, "organization"), NULL));
		cJSON_AddItemToArray(agents, agent(concept(CS_ROLE_CLASS,
		    "PROV", "healthcare provider"), who, false));
	}
	{
		cJSON *src = cJSON_AddObjectToObject(ev, "source");

		cJSON_AddStringToObject(src, "site", observer_country);
		cJSON_AddItemToObject(src, "observer", cJSON_CreateObject());
		cJSON_AddStringToObject(cJSON_GetObjectItemCaseSensitive(src,
		    "observer"), "display", observer);
		cJSON_AddItemToArray(cJSON_AddArrayToObject(src, "type"),
		    coding(CS_SOURCE_TYPE, "4", "Application Server"));
	}

	entities = cJSON_CreateArray();
	if (str(rec, "patient.logical")[0] != '\0' ||
	    str(rec, "patient.id")[0] != '\0') {
		cJSON *what = cJSON_CreateObject();

		e = entity(CS_ENTITY_TYPE, "1", "Person", "1", "Patient");
		if (str(rec, "patient.logical")[0] != '\0') {
			snprintf(text, sizeof(text), "Patient/%s",
			    str(rec, "patient.logical"));
			cJSON_AddStringToObject(what, "reference", text);
		}
		if (str(rec, "patient.id")[0] != '\0') {
			cJSON *ident = cJSON_CreateObject();

			GW_FHIR_ADD_STRING(ident, "system",
			    str(rec, "patient.system"));
			cJSON_AddStringToObject(ident, "value",
			    str(rec, "patient.id"));
			cJSON_AddItemToObject(what, "identifier", ident);
		}
		cJSON_AddItemToObject(e, "what", what);
		add_detail(e, "consent-decision", str(rec, "decision"));
		add_detail(e, "consent-rule", str(rec, "rule"));
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec,
		    "break_glass")))
			add_detail(e, "break-glass", "true");
		add_detail(e, "emergency-reason", str(rec, "emergency_reason"));
		cJSON_AddItemToArray(entities, e);
	}
	cJSON_ArrayForEach(id, cJSON_GetObjectItemCaseSensitive(returned,
	    "ids")) {
		if (!cJSON_IsString(id))
			continue;
		cJSON *what = cJSON_CreateObject();

		cJSON_AddStringToObject(what, "reference", id->valuestring);
		e = entity(CS_ENTITY_TYPE, "2", "System Object", "4",
		    "Domain Resource");
		cJSON_AddItemToObject(e, "what", what);
		cJSON_AddItemToArray(entities, e);
	}
	/* The request itself: a query entity for searches and operations
	 * (its target, base64), with how much it returned. */
	target = strchr(request, ' ');
	target = target != NULL ? target + 1 : request;
	if (strcmp(op, "read") != 0 && target[0] != '\0') {
		char *q = base64(target);

		e = entity(CS_ENTITY_TYPE, "2", "System Object", "24", "Query");
		cJSON_AddStringToObject(e, "description", request);
		cJSON_AddStringToObject(e, "query", q);
		free(q);
		count = (long long)cJSON_GetNumberValue(
		    cJSON_GetObjectItemCaseSensitive(returned, "count"));
		snprintf(num, sizeof(num), "%lld", count);
		add_detail(e, "returned-count", num);
		cJSON_AddItemToArray(entities, e);
	}
	if (str(rec, "request_id")[0] != '\0' ||
	    str(rec, "traceparent")[0] != '\0') {
		e = entity(CS_BALP_ENTITY, "XrequestId",
		    "transport specific unique identifier where http "
		    "X-Request-Id is used", NULL, NULL);
		if (str(rec, "request_id")[0] != '\0') {
			cJSON *what = cJSON_CreateObject();

			cJSON_AddItemToObject(what, "identifier",
			    identifier(str(rec, "request_id"), NULL));
			cJSON_AddItemToObject(e, "what", what);
		}
		add_detail(e, "traceparent", str(rec, "traceparent"));
		cJSON_AddItemToArray(entities, e);
	}
	if (cJSON_GetArraySize(entities) > 0)
		cJSON_AddItemToObject(ev, "entity", entities);
	else
		cJSON_Delete(entities);
	cJSON_Delete(rec);
	return ev;
}

/* --- the route ---------------------------------------------------------- */

/* The search as the request states it (checked by the handler). */
struct audit_search {
	const char *patient; /* without "Patient/" */
	const char *dates[DATE_PARAMS_MAX];
	int ndates;
};

static void
search_of(const struct gw_req *req, struct audit_search *s)
{
	memset(s, 0, sizeof(*s));
	for (int i = 0; i < req->nparams; i++) {
		const char *name = req->params[i].name;

		if (strcmp(name, "patient") == 0) {
			s->patient = req->params[i].value;
			if (strncmp(s->patient, "Patient/", 8) == 0)
				s->patient += 8;
		} else if (strcmp(name, "date") == 0 &&
		    s->ndates < DATE_PARAMS_MAX) {
			s->dates[s->ndates++] = req->params[i].value;
		}
	}
}

static void
add_link(cJSON *links, const char *relation, const struct gw_req *req,
    const struct audit_search *s, long offset)
{
	cJSON *link = cJSON_CreateObject();
	char url[1024];

	snprintf(url, sizeof(url), "%s/AuditEvent?patient=",
	    req->worker->server->cfg->public_base_url);
	gw_search_append_query_value(url, sizeof(url), s->patient);
	for (int i = 0; i < s->ndates; i++) {
		gw_strlcpy(url + strlen(url), "&date=",
		    sizeof(url) - strlen(url));
		gw_search_append_query_value(url, sizeof(url), s->dates[i]);
	}
	snprintf(url + strlen(url), sizeof(url) - strlen(url),
	    "&_count=%ld&_offset=%ld", req->count, offset);
	cJSON_AddStringToObject(link, "relation", relation);
	cJSON_AddStringToObject(link, "url", url);
	cJSON_AddItemToArray(links, link);
}

static void
events_loaded(const PGresult *res, const char *error, void *arg)
{
	struct gw_req *req = arg;
	const struct gw_config *cfg;
	struct audit_search s;
	cJSON *bundle, *links;
	long total = 0;
	int n;

	if (!gw_req_query_ok(req, res, error, "audit search failed",
	    "audit store unavailable"))
		return;
	cfg = req->worker->server->cfg;
	search_of(req, &s);
	n = PQntuples(res);
	bundle = gw_fhir_bundle_new("searchset");
	if (n > 0)
		gw_parse_long(PQgetvalue(res, 0, 2), 0, LONG_MAX, &total);
	if (n > 0 || req->offset == 0)
		cJSON_AddNumberToObject(bundle, "total", (double)total);
	links = cJSON_AddArrayToObject(bundle, "link");
	add_link(links, "self", req, &s, req->offset);
	if (req->offset + n < total)
		add_link(links, "next", req, &s, req->offset + req->count);
	for (int i = 0; i < n; i++) {
		long seq = 0;
		cJSON *ev;

		gw_parse_long(PQgetvalue(res, i, 0), 1, LONG_MAX, &seq);
		ev = gw_audit_event_from_canonical(PQgetvalue(res, i, 1), seq,
		    cfg->country);
		if (ev == NULL) {
			gw_warn("audit record %ld is not a record", seq);
			continue;
		}
		gw_fhir_bundle_add(bundle, cfg->public_base_url, ev, "match");
	}
	gw_req_reply_json(req, 200, bundle, NULL);
}

static int
paging(struct gw_req *req, const char *name, long def, long min, long max,
    long *out)
{
	const char *v = gw_req_param(req, name);

	*out = def;
	if (v != NULL && gw_parse_long(v, min, max, out) != GW_OK) {
		gw_req_reply_error(req, 400, "invalid",
		    "%s must be an integer in %ld..%ld", name, min, max);
		return GW_ERR;
	}
	return GW_OK;
}

/* Only patient (once), date (at most twice), _count, _offset, _format. */
static bool
params_ok(struct gw_req *req)
{
	static const char *const once[] = { "patient", "_count", "_offset",
		"_format", NULL };

	for (int i = 0; i < req->nparams; i++) {
		const char *name = req->params[i].name;
		int seen = 0;
		bool known = strcmp(name, "date") == 0;

		for (size_t k = 0; once[k] != NULL; k++)
			known = known || strcmp(name, once[k]) == 0;
		if (!known) {
			gw_req_reply_error(req, 400, "not-supported",
			    "unknown search parameter %s", name);
			return false;
		}
		for (int k = 0; k <= i; k++)
			seen += strcmp(req->params[k].name, name) == 0;
		if (seen > (strcmp(name, "date") == 0 ? DATE_PARAMS_MAX : 1)) {
			gw_req_reply_error(req, 400, "invalid",
			    "repeated search parameter %s", name);
			return false;
		}
	}
	return true;
}

/*
 * May this node read the audit of `patient` (a logical id, "" for a
 * request that named none)?  An auditor reads every record; a patient
 * portal speaks for the patients of its own country.  Records the
 * decision for the audit of this read and answers 403 when not.
 */
static bool
may_read_audit_of(struct gw_req *req, const char *patient)
{
	const struct gw_node *node = &req->conn->node;
	bool auditor = gw_node_has_role(node, "auditor");
	const struct gw_adapter *a = gw_flow_adapter_of(patient, NULL);

	if (!auditor && (a == NULL || strcmp(a->country, node->country) != 0)) {
		req->decision.permit = false;
		gw_strlcpy(req->decision.rule, "role/patient-portal",
		    sizeof(req->decision.rule));
		gw_req_reply_error(req, 403, "forbidden",
		    "a patient portal of %s reads only the audit of %s patients",
		    node->country, node->country);
		return false;
	}
	req->decision.permit = true;
	gw_strlcpy(req->decision.rule, auditor ? "role/auditor" :
	    "role/patient-portal", sizeof(req->decision.rule));
	return true;
}

void
gw_handle_audit_search(struct gw_req *req)
{
	long long lo = LLONG_MIN, hi = LLONG_MAX;
	char lo_text[40], hi_text[40], limit[24], offset[24];
	const char *params[5];
	struct audit_search s;

	if (!params_ok(req) ||
	    paging(req, "_count", COUNT_DEFAULT, 1, COUNT_MAX, &req->count) !=
	    GW_OK ||
	    paging(req, "_offset", 0, 0, OFFSET_MAX, &req->offset) != GW_OK)
		return;
	search_of(req, &s);
	for (int i = 0; i < s.ndates; i++) {
		long long l, h;

		if (gw_search_date_range(s.dates[i], &l, &h) != GW_OK) {
			gw_req_reply_error(req, 400, "invalid",
			    "date must be [eq|ge|gt|le|lt]YYYY[-MM[-DD"
			    "[Thh:mm[:ss[.f]](Z|+hh:mm)]]]");
			return;
		}
		lo = l > lo ? l : lo;
		hi = h < hi ? h : hi;
	}
	if (s.patient == NULL) {
		gw_req_reply_error(req, 400, "required",
		    "search by patient is required");
		return;
	}
	if (!gw_flow_valid_id(s.patient)) {
		gw_req_reply_error(req, 400, "invalid", "malformed id");
		return;
	}
	if (!may_read_audit_of(req, s.patient))
		return;
	params[0] = s.patient;
	params[1] = params[2] = NULL;
	if (lo != LLONG_MIN) {
		gw_search_format_instant(lo, lo_text, sizeof(lo_text));
		params[1] = lo_text;
	}
	if (hi != LLONG_MAX) {
		gw_search_format_instant(hi, hi_text, sizeof(hi_text));
		params[2] = hi_text;
	}
	snprintf(limit, sizeof(limit), "%ld", req->count);
	snprintf(offset, sizeof(offset), "%ld", req->offset);
	params[3] = limit;
	params[4] = offset;
	req->pending = true;
	gw_db_query(req->worker->db, "gw_audit_events", 5, params,
	    events_loaded, req);
}

static void
event_loaded(const PGresult *res, const char *error, void *arg)
{
	struct gw_req *req = arg;
	long seq = 0;
	cJSON *ev;

	if (!gw_req_query_ok(req, res, error, "audit read failed",
	    "audit store unavailable"))
		return;
	if (PQntuples(res) != 1) {
		gw_req_reply_error(req, 404, "not-found", "no AuditEvent %s",
		    req->path_args[0]);
		return;
	}
	/* The audit of this read names the patient whose record it was. */
	gw_strlcpy(req->patient.logical_id, PQgetvalue(res, 0, 2),
	    sizeof(req->patient.logical_id));
	if (!may_read_audit_of(req, req->patient.logical_id))
		return;
	gw_parse_long(PQgetvalue(res, 0, 0), 1, LONG_MAX, &seq);
	ev = gw_audit_event_from_canonical(PQgetvalue(res, 0, 1), seq,
	    req->worker->server->cfg->country);
	if (ev == NULL) {
		gw_warn("audit record %ld is not a record", seq);
		gw_req_reply_error(req, 500, "exception",
		    "audit record %ld cannot be shown", seq);
		return;
	}
	gw_req_reply_json(req, 200, ev, NULL);
}

/* GET /fhir/AuditEvent/{seq}: the id of an AuditEvent is its record's
 * place in the chain, canonical decimal (gw_parse_long takes no sign,
 * space or trailing text; a leading zero is refused here); any other id
 * names none. */
void
gw_handle_audit_read(struct gw_req *req)
{
	const char *id = req->path_args[0];
	const char *params[1] = { id };
	long seq;

	if (id[0] == '0' || gw_parse_long(id, 1, LONG_MAX, &seq) != GW_OK) {
		gw_req_reply_error(req, 404, "not-found", "no AuditEvent %s",
		    id);
		return;
	}
	req->pending = true;
	gw_db_query(req->worker->db, "gw_audit_event", 1, params,
	    event_loaded, req);
}
