/*
 * handlers_patient.c: the patient-data routes: Patient search by national
 * identifier, Patient read, clinical search by patient with paging, and
 * clinical read.  Each is a short chain of steps on patient_flow.c; $summary
 * lives in ips.c.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "gateway/gw.h"
#include "gateway/json_out.h"
#include "gateway/patient_flow.h"
#include "gateway/registry_read.h"
#include "gateway/patient_match.h"
#include "gateway/search_param.h"

#define COUNT_DEFAULT 20
#define COUNT_MAX 100
#define OFFSET_MAX 100000
/* A search filtered by token (category, code) reads up to this many of the
 * patient's rows of the type and pages through the matches here: the
 * tokens are on the FHIR codings, which the registry does not hold. */
#define TOKEN_SCAN_MAX 1000
/* The FHIR system of AllergyIntolerance.category, a plain code. */
#define ALLERGY_CATEGORY_SYSTEM \
	"http://hl7.org/fhir/allergy-intolerance-category"

/* The room reserved at once for one resource's text (most are 0.5-2 kB),
 * instead of a doubling from 256 bytes. */
#define HELD_RESOURCE_TEXT 4096

static const char *
base_url(const struct gw_req *req)
{
	return req->worker->server->cfg->public_base_url;
}

static const char *
break_glass_header(const struct gw_req *req)
{
	return req->decision.break_glass ? "X-Break-Glass: true\r\n" : NULL;
}

/* --- Patient?identifier=system|value ----------------------------------- */

/* The demographic traits a Patient search names (patient_match.h). */
static struct gw_traits
search_traits(const struct gw_req *req)
{
	const struct gw_traits t = {
		.family = gw_req_param(req, "family"),
		.given = gw_req_param(req, "given"),
		.birthdate = gw_req_param(req, "birthdate"),
		.gender = gw_req_param(req, "gender"),
	};

	return t;
}

static void
patient_search_permitted(struct gw_req *req)
{
	cJSON *bundle = gw_fhir_bundle_new("searchset");
	const struct gw_map_ctx ctx = { .patient = &req->patient };
	const struct gw_traits traits = search_traits(req);
	cJSON *patient = gw_adapter_map_tree(req->adapter, req->held_kind,
	    &req->held, &ctx, NULL);

	/* Demographic traits the registry does not agree with: no match.
	 * Checked only after a permit, so a patient who denied access gets
	 * the same 403 whatever traits are named: they cannot be probed. */
	if (patient != NULL && !gw_traits_match(&traits, patient)) {
		cJSON_Delete(patient);
		patient = NULL;
	}
	cJSON_AddNumberToObject(bundle, "total", patient != NULL);
	if (patient != NULL)
		gw_fhir_bundle_add(bundle, base_url(req), patient, "match");
	gw_req_reply_json(req, 200, bundle, break_glass_header(req));
}

static void
patient_found(const PGresult *res, const char *error, void *arg)
{
	struct gw_req *req = arg;
	cJSON *bundle;

	if (!gw_req_query_ok(req, res, error, "patient search failed",
	    "registry unavailable"))
		return;
	if (PQntuples(res) == 0) {
		bundle = gw_fhir_bundle_new("searchset");
		cJSON_AddNumberToObject(bundle, "total", 0);
		gw_req_reply_json(req, 200, bundle, NULL);
		return;
	}
	if (!gw_flow_hold_patient(req, res))
		return;
	gw_flow_decide(req, patient_search_permitted);
}

void
gw_handle_patient_search(struct gw_req *req)
{
	static const char *const allowed[] = { "identifier", "family", "given",
		"birthdate", "gender", NULL };
	const struct gw_traits traits = search_traits(req);
	const char *ident = gw_req_param(req, "identifier");
	const char *why = NULL;
	const struct gw_id_system *idsys = NULL;
	const char *bar, *params[2];
	char system[128], name[64], value[64];

	if (!gw_flow_only_params(req, allowed))
		return;
	if (gw_traits_check(&traits, &why) != GW_OK) {
		gw_req_reply_error(req, 400, "invalid", "%s", why);
		return;
	}
	if (ident == NULL || (bar = strchr(ident, '|')) == NULL ||
	    bar == ident || bar[1] == '\0' ||
	    (size_t)(bar - ident) >= sizeof(system)) {
		gw_req_reply_error(req, 400, "required",
		    "identifier=SYSTEM|VALUE is required");
		return;
	}
	memcpy(system, ident, (size_t)(bar - ident));
	system[bar - ident] = '\0';
	req->adapter = gw_adapter_by_system(system, &idsys);
	if (req->adapter == NULL) {
		gw_req_reply_error(req, 404, "not-found",
		    "identifier system %s is not served by this gateway",
		    system);
		return;
	}
	if (!idsys->valid(bar + 1)) {
		gw_req_reply_error(req, 400, "invalid",
		    "%s is not a valid identifier of %s (check digits, date)",
		    bar + 1, system);
		return;
	}
	/* The registry's form of the value (a Swedish 10-digit number as
	 * its 12 digits); the adapter's statement gets nothing else. */
	if (idsys->normalize != NULL &&
	    idsys->normalize(bar + 1, value, sizeof(value)) != GW_OK) {
		gw_req_reply_error(req, 400, "invalid",
		    "%s is not a valid identifier of %s", bar + 1, system);
		return;
	}
	params[0] = system;
	params[1] = idsys->normalize != NULL ? value : bar + 1;
	gw_flow_statement_name(req->adapter, "patient_by_identifier", -1,
	    name, sizeof(name));
	req->pending = true;
	gw_db_query(req->worker->db, name, 2, params, patient_found, req);
}

/* --- Patient/{id} ------------------------------------------------------- */

/* The Patient is written as text straight into the answer's body. */
static void
patient_read_permitted(struct gw_req *req)
{
	const struct gw_map_ctx ctx = { .patient = &req->patient };
	struct gw_jout o = gw_jout_text(gw_fhir_body_open());
	struct gw_mapped m;
	int rc = req->adapter->map(req->held_kind, &req->held, &ctx, &o, &m);
	struct gw_body body = gw_fhir_body_close();

	if (rc != GW_OK) {
		gw_body_free(&body);
		gw_req_reply_error(req, 500, NULL, "patient not mappable");
		return;
	}
	gw_audit_forget_returned(req);
	gw_audit_note_resource(req, gw_fhir_type_name(m.type), m.id);
	gw_req_reply_json_text(req, 200, body, break_glass_header(req));
}

void
gw_handle_patient_read(struct gw_req *req)
{
	static const char *const none[] = { NULL };

	if (!gw_flow_only_params(req, none))
		return;
	gw_flow_load_patient(req, req->path_args[0], patient_read_permitted);
}

/* --- {Type}?patient={id}[&filters]&_count=&_offset= --------------------- */

/* A clinical search's filters beyond the patient (docs/api.md): request
 * values are borrowed from the request's parameters. */
struct search_filters {
	const char *category; /* token list, or NULL */
	const char *code;     /* code, or vaccine-code for Immunization */
	char from[40];	      /* _lastUpdated: [from, before) as instants, */
	char before[40];      /* "" where open */
};

static const char *
code_param(enum gw_rtype t)
{
	return t == GW_RT_IMMUNIZATION ? "vaccine-code" : "code";
}

static bool
is_filter(const struct gw_req *req, const char *name)
{
	return strcmp(name, "category") == 0 ||
	    strcmp(name, code_param(req->rtype)) == 0 ||
	    strcmp(name, "_lastUpdated") == 0;
}

/* The URL of a page of this search at offset (caller frees). */
static char *
link_url(const struct gw_req *req, long offset)
{
	size_t cap = strlen(base_url(req)) + strlen(req->patient.logical_id) +
	    96;
	char *url, tail[64];

	/* Sized for the filters percent-encoded (3 bytes a byte at most): a
	 * link cut short would page with another filter. */
	for (int i = 0; i < req->nparams; i++)
		if (is_filter(req, req->params[i].name))
			cap += strlen(req->params[i].name) + 2 +
			    3 * strlen(req->params[i].value);
	url = gw_malloc(cap);
	snprintf(url, cap, "%s/%s?patient=%s", base_url(req),
	    gw_fhir_type_name(req->rtype), req->patient.logical_id);
	/* The filters as the client wrote them (decoded, encoded again). */
	for (int i = 0; i < req->nparams; i++) {
		if (!is_filter(req, req->params[i].name))
			continue;
		gw_concat(url + strlen(url), cap - strlen(url), "&",
		    req->params[i].name, "=", NULL);
		gw_search_append_query_value(url, cap, req->params[i].value);
	}
	snprintf(tail, sizeof(tail), "&_count=%ld&_offset=%ld", req->count,
	    offset);
	gw_strlcpy(url + strlen(url), tail, cap - strlen(url));
	return url;
}

static void
append_link(cJSON *links, const char *relation, const struct gw_req *req,
    long offset)
{
	cJSON *link = cJSON_CreateObject();
	char *url = link_url(req, offset);

	cJSON_AddStringToObject(link, "relation", relation);
	cJSON_AddStringToObject(link, "url", url);
	cJSON_AddItemToArray(links, link);
	free(url);
}

static void
write_link(struct gw_jout *o, const char *relation, const struct gw_req *req,
    long offset)
{
	char *url = link_url(req, offset);

	gw_jout_object(o);
	GW_JOUT_STRING(o, "relation", relation);
	GW_JOUT_STRING(o, "url", url);
	gw_jout_end_object(o);
	free(url);
}

/* Does the mapped resource's category (an array of CodeableConcepts, one
 * CodeableConcept, or AllergyIntolerance's plain codes) match? */
static bool
category_matches(const char *value, const cJSON *r)
{
	const cJSON *cat = cJSON_GetObjectItemCaseSensitive(r, "category");
	const cJSON *c;

	if (cJSON_IsObject(cat))
		return gw_search_concept_matches(value, cat);
	cJSON_ArrayForEach(c, cat) {
		if (cJSON_IsString(c) ? gw_search_token_match(value,
		    ALLERGY_CATEGORY_SYSTEM, c->valuestring) == GW_TOKEN_HIT :
		    gw_search_concept_matches(value, c))
			return true;
	}
	return false;
}

static bool
tokens_match(const struct search_filters *f, enum gw_rtype t,
    const cJSON *r)
{
	const char *field = t == GW_RT_MEDICATION_STATEMENT ?
	    "medicationCodeableConcept" : t == GW_RT_IMMUNIZATION ?
	    "vaccineCode" : "code";

	if (f->category != NULL && !category_matches(f->category, r))
		return false;
	return f->code == NULL || gw_search_concept_matches(f->code,
	    cJSON_GetObjectItemCaseSensitive(r, field));
}

/* The row as a resource of the searched type that consent lets out, or
 * NULL. */
static cJSON *
permitted_row(struct gw_req *req, const PGresult *res, int i)
{
	enum gw_rtype t;
	const char *category;
	cJSON *r = gw_flow_map_row(req, res, i, 1, &t, &category);

	if (r != NULL && (t != req->rtype ||
	    gw_consent_excludes(&req->decision, category))) {
		cJSON_Delete(r);
		r = NULL;
	}
	return r;
}

/*
 * Paged by the registry: the page's rows, and the registry's total.
 * Nothing here reads a resource back, so the searchset is written as text
 * straight into the answer's body: each row is mapped into the request's
 * held text (its id goes in the entry before it) and copied in when
 * consent lets it out.
 */
static void
reply_page_from_registry(struct gw_req *req, const PGresult *res)
{
	long total = 0;
	int n = PQntuples(res), entries = 0;
	struct gw_jout o;

	if (n > 0)
		gw_parse_long(PQgetvalue(res, 0, 2), 0, 1L << 40, &total);
	gw_audit_forget_returned(req);
	/* Room for one resource's text at once, reused row after row. */
	gw_jbuf_reserve(&req->held_text, HELD_RESOURCE_TEXT);
	o = gw_jout_text(gw_fhir_body_open());
	gw_jout_object(&o);
	GW_JOUT_STRING(&o, "resourceType", "Bundle");
	GW_JOUT_STRING(&o, "type", "searchset");
	/* With categories withheld the total would reveal how many were
	 * removed, so it is left out (it is optional in a searchset). */
	if (req->decision.nexcluded == 0 && (n > 0 || req->offset == 0))
		GW_JOUT_NUMBER(&o, "total", (double)total);
	GW_JOUT_ARRAY(&o, "link");
	write_link(&o, "self", req, req->offset);
	if (req->offset + n < total)
		write_link(&o, "next", req, req->offset + req->count);
	gw_jout_end_array(&o);
	for (int i = 0; i < n; i++) {
		struct gw_jout held = gw_jout_text(&req->held_text);
		struct gw_mapped m;
		const char *type;

		req->held_text.len = 0;
		if (gw_flow_write_row(req, res, i, 1, &held, &m) != GW_OK ||
		    m.type != req->rtype ||
		    gw_consent_excludes(&req->decision, m.category))
			continue;
		if (entries++ == 0)
			GW_JOUT_ARRAY(&o, "entry");
		type = gw_fhir_type_name(m.type);
		gw_fhir_write_entry_start(&o, base_url(req), type, m.id);
		gw_jout_raw(&o, req->held_text.p, req->held_text.len);
		GW_JOUT_OBJECT(&o, "search");
		GW_JOUT_STRING(&o, "mode", "match");
		gw_jout_end_object(&o);
		gw_jout_end_object(&o);
		gw_audit_note_resource(req, type, m.id);
	}
	if (entries > 0)
		gw_jout_end_array(&o);
	gw_jout_end_object(&o);
	gw_req_reply_json_text(req, 200, gw_fhir_body_close(),
	    break_glass_header(req));
}

/* Paged here: every row of the type was read (at most TOKEN_SCAN_MAX);
 * the matches that consent lets out are counted and the page cut from
 * them, so the total is exact and reveals nothing withheld. */
static void
page_from_matches(struct gw_req *req, const PGresult *res, cJSON *bundle)
{
	const struct search_filters *f = req->ctx;
	cJSON *links, *page = cJSON_CreateArray();
	long matches = 0;
	int n = PQntuples(res);

	for (int i = 0; i < n; i++) {
		cJSON *r = permitted_row(req, res, i);

		if (r == NULL || !tokens_match(f, req->rtype, r)) {
			cJSON_Delete(r);
			continue;
		}
		if (matches >= req->offset && matches < req->offset + req->count)
			cJSON_AddItemToArray(page, r);
		else
			cJSON_Delete(r);
		matches++;
	}
	cJSON_AddNumberToObject(bundle, "total", (double)matches);
	links = cJSON_AddArrayToObject(bundle, "link");
	append_link(links, "self", req, req->offset);
	if (req->offset + req->count < matches)
		append_link(links, "next", req, req->offset + req->count);
	while (cJSON_GetArraySize(page) > 0)
		gw_fhir_bundle_add(bundle, base_url(req),
		    cJSON_DetachItemFromArray(page, 0), "match");
	cJSON_Delete(page);
}

static void
search_rows(const PGresult *res, const char *error, void *arg)
{
	struct gw_req *req = arg;
	const struct search_filters *f;
	cJSON *bundle;
	long total = 0;

	if (!gw_req_query_ok(req, res, error, "search failed",
	    "registry unavailable"))
		return;
	f = req->ctx;
	if (f->category == NULL && f->code == NULL) {
		reply_page_from_registry(req, res);
		return;
	}
	if (PQntuples(res) > 0)
		gw_parse_long(PQgetvalue(res, 0, 2), 0, 1L << 40, &total);
	if (total > TOKEN_SCAN_MAX) {
		gw_req_reply_error(req, 400, "too-costly",
		    "the patient has %ld %s resources; filtering by"
		    " category or code reads at most %d: narrow the"
		    " search with _lastUpdated", total,
		    gw_fhir_type_name(req->rtype), TOKEN_SCAN_MAX);
		return;
	}
	bundle = gw_fhir_bundle_new("searchset");
	page_from_matches(req, res, bundle);
	gw_req_reply_json(req, 200, bundle, break_glass_header(req));
}

static void
search_permitted(struct gw_req *req)
{
	const struct search_filters *f = req->ctx;
	bool tokens = f->category != NULL || f->code != NULL;
	char name[64], limit[24], offset[24];
	const char *params[5] = { req->patient.registry_key, limit, offset,
		f->from, f->before };

	snprintf(limit, sizeof(limit), "%ld",
	    tokens ? (long)TOKEN_SCAN_MAX : req->count);
	snprintf(offset, sizeof(offset), "%ld", tokens ? 0L : req->offset);
	gw_flow_statement_name(req->adapter, "search", (int)req->rtype, name,
	    sizeof(name));
	req->pending = true;
	gw_registry_query(req, name, 5, params, false, search_rows);
}

static int
paging_param(struct gw_req *req, const char *name, long def, long min,
    long max, long *out)
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

/* The filters of req into a new req->ctx; 400 answered and GW_ERR on a
 * malformed one. */
static int
search_filters_parsed(struct gw_req *req)
{
	struct search_filters *f = gw_calloc(1, sizeof(*f));
	long long lo = LLONG_MIN, hi = LLONG_MAX;
	const char *tokens[2];

	req->ctx = f;
	f->category = gw_req_param(req, "category");
	f->code = gw_req_param(req, code_param(req->rtype));
	tokens[0] = f->category;
	tokens[1] = f->code;
	for (int i = 0; i < 2; i++)
		if (tokens[i] != NULL && !gw_search_token_valid(tokens[i])) {
			gw_req_reply_error(req, 400, "invalid",
			    "%s must be a token: [system|]code[,...]",
			    i == 0 ? "category" : code_param(req->rtype));
			return GW_ERR;
		}
	for (int i = 0; i < req->nparams; i++) {
		long long l, h;

		if (strcmp(req->params[i].name, "_lastUpdated") != 0)
			continue;
		if (gw_search_date_range(req->params[i].value, &l, &h) !=
		    GW_OK) {
			gw_req_reply_error(req, 400, "invalid",
			    "_lastUpdated must be [eq|ge|gt|le|lt]YYYY[-MM[-DD"
			    "[Thh:mm[:ss[.f]](Z|+hh:mm)]]]");
			return GW_ERR;
		}
		lo = l > lo ? l : lo;
		hi = h < hi ? h : hi;
	}
	if (lo != LLONG_MIN)
		gw_search_format_instant(lo, f->from, sizeof(f->from));
	if (hi != LLONG_MAX)
		gw_search_format_instant(hi, f->before, sizeof(f->before));
	return GW_OK;
}

void
gw_handle_type_search(struct gw_req *req)
{
	/* "_lastUpdated*": may repeat (a lower and an upper bound). */
	static const char *const allowed[] = { "patient", "_count", "_offset",
		"_lastUpdated*", "category", "code", NULL };
	static const char *const allowed_immunization[] = { "patient",
		"_count", "_offset", "_lastUpdated*", "vaccine-code", NULL };
	const char *patient;

	/* The router has checked the type (route.typed). */
	if (!gw_flow_only_params(req, req->rtype == GW_RT_IMMUNIZATION ?
	    allowed_immunization : allowed) ||
	    paging_param(req, "_count", COUNT_DEFAULT, 1, COUNT_MAX,
		&req->count) != GW_OK ||
	    paging_param(req, "_offset", 0, 0, OFFSET_MAX, &req->offset) !=
		GW_OK ||
	    search_filters_parsed(req) != GW_OK)
		return;
	if ((patient = gw_flow_patient_param(req)) == NULL)
		return;
	gw_flow_load_patient(req, patient, search_permitted);
}

/* --- {Type}/{id} -------------------------------------------------------- */

/* The resource, mapped as text when it was read, is copied into the
 * answer's body. */
static void
read_permitted(struct gw_req *req)
{
	struct gw_jout o;

	/* Withheld data is answered as absent: a 403 would confirm that the
	 * patient has a record in that category. */
	if (gw_consent_excludes(&req->decision, req->held_mapped.category)) {
		gw_req_reply_error(req, 404, NULL, "no such resource");
		return;
	}
	o = gw_jout_text(gw_fhir_body_open());
	gw_jout_raw(&o, req->held_text.p, req->held_text.len);
	gw_audit_forget_returned(req);
	gw_audit_note_resource(req, gw_fhir_type_name(req->held_mapped.type),
	    req->held_mapped.id);
	gw_req_reply_json_text(req, 200, gw_fhir_body_close(),
	    break_glass_header(req));
}

static void
resource_loaded(const PGresult *res, const char *error, void *arg)
{
	struct gw_req *req = arg;
	struct gw_jout o = gw_jout_text(&req->held_text);

	if (!gw_req_query_ok(req, res, error, "read failed",
	    "registry unavailable"))
		return;
	if (PQntuples(res) == 0) {
		gw_req_reply_error(req, 404, NULL, "no such resource");
		return;
	}
	if (gw_flow_identify(req, PQgetvalue(res, 0, 2)) != GW_OK) {
		gw_req_reply_error(req, 500, NULL, "registry row unusable");
		return;
	}
	gw_flow_note_generation(req, res);
	gw_jbuf_reserve(&req->held_text, HELD_RESOURCE_TEXT);
	/* Mapped now, while the registry's answer is at hand; nothing
	 * leaves before the decision. */
	if (gw_flow_write_row(req, res, 0, 1, &o, &req->held_mapped) !=
	    GW_OK || req->held_mapped.type != req->rtype) {
		gw_req_reply_error(req, 404, NULL, "no such resource");
		return;
	}
	gw_flow_decide(req, read_permitted);
}

void
gw_handle_type_read(struct gw_req *req)
{
	static const char *const none[] = { NULL };
	const char *rest = NULL;
	char name[64];

	/* The router has checked the type (route.typed). */
	if (!gw_flow_only_params(req, none))
		return;
	if (!gw_flow_valid_id(req->path_args[1])) {
		gw_req_reply_error(req, 400, "invalid", "malformed id");
		return;
	}
	req->adapter = gw_flow_adapter_of(req->path_args[1], &rest);
	if (req->adapter == NULL) {
		gw_req_reply_error(req, 404, NULL, "no local registry for %s",
		    req->path_args[1]);
		return;
	}
	gw_flow_statement_name(req->adapter, "read", (int)req->rtype, name,
	    sizeof(name));
	req->pending = true;
	gw_db_query(req->worker->db, name, 1, &rest, resource_loaded, req);
}
