/*
 * handlers_patient.c: the patient-data routes: Patient search by national
 * identifier, Patient read, clinical search by patient with paging, and
 * clinical read.  Each is a short chain of steps on patient_flow.c; $summary
 * lives in ips.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "gateway/gw.h"
#include "gateway/patient_flow.h"
#include "gateway/patient_match.h"

#define COUNT_DEFAULT 20
#define COUNT_MAX 100
#define OFFSET_MAX 100000

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
	enum gw_rtype t;
	const char *category = NULL;
	cJSON *patient = req->adapter->map(req->held_kind, req->held, &ctx,
	    &t, &category);

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

static void
patient_read_permitted(struct gw_req *req)
{
	const struct gw_map_ctx ctx = { .patient = &req->patient };
	enum gw_rtype t;
	const char *category = NULL;
	cJSON *patient = req->adapter->map(req->held_kind, req->held, &ctx,
	    &t, &category);

	if (patient == NULL) {
		gw_req_reply_error(req, 500, NULL, "patient not mappable");
		return;
	}
	gw_req_reply_json(req, 200, patient, break_glass_header(req));
}

void
gw_handle_patient_read(struct gw_req *req)
{
	static const char *const none[] = { NULL };

	if (!gw_flow_only_params(req, none))
		return;
	gw_flow_load_patient(req, req->path_args[0], patient_read_permitted);
}

/* --- {Type}?patient={id}&_count=&_offset= ------------------------------- */

static void
append_link(cJSON *links, const char *relation, const struct gw_req *req,
    long offset)
{
	cJSON *link = cJSON_CreateObject();
	char url[512];

	snprintf(url, sizeof(url), "%s/%s?patient=%s&_count=%ld&_offset=%ld",
	    base_url(req), gw_fhir_type_name(req->rtype),
	    req->patient.logical_id, req->count, offset);
	cJSON_AddStringToObject(link, "relation", relation);
	cJSON_AddStringToObject(link, "url", url);
	cJSON_AddItemToArray(links, link);
}

static void
search_rows(const PGresult *res, const char *error, void *arg)
{
	struct gw_req *req = arg;
	cJSON *bundle, *links;
	long total = 0;
	int n;

	if (!gw_req_query_ok(req, res, error, "search failed",
	    "registry unavailable"))
		return;
	n = PQntuples(res);
	bundle = gw_fhir_bundle_new("searchset");
	if (n > 0)
		gw_parse_long(PQgetvalue(res, 0, 2), 0, 1L << 40, &total);
	/* With categories withheld the total would reveal how many were
	 * removed, so it is left out (it is optional in a searchset). */
	if (req->decision.nexcluded == 0 && (n > 0 || req->offset == 0))
		cJSON_AddNumberToObject(bundle, "total", (double)total);
	links = cJSON_AddArrayToObject(bundle, "link");
	append_link(links, "self", req, req->offset);
	if (req->offset + n < total)
		append_link(links, "next", req, req->offset + req->count);
	for (int i = 0; i < n; i++) {
		enum gw_rtype t;
		const char *category;
		cJSON *r = gw_flow_map_row(req, res, i, 1, &t, &category);

		if (r == NULL)
			continue;
		if (t != req->rtype || gw_consent_excludes(&req->decision,
		    category)) {
			cJSON_Delete(r);
			continue;
		}
		gw_fhir_bundle_add(bundle, base_url(req), r, "match");
	}
	gw_req_reply_json(req, 200, bundle, break_glass_header(req));
}

static void
search_permitted(struct gw_req *req)
{
	char name[64], limit[24], offset[24];
	const char *params[3] = { req->patient.registry_key, limit, offset };

	snprintf(limit, sizeof(limit), "%ld", req->count);
	snprintf(offset, sizeof(offset), "%ld", req->offset);
	gw_flow_statement_name(req->adapter, "search", (int)req->rtype, name,
	    sizeof(name));
	req->pending = true;
	gw_db_query(req->worker->db, name, 3, params, search_rows, req);
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

void
gw_handle_type_search(struct gw_req *req)
{
	static const char *const allowed[] = { "patient", "_count", "_offset",
		NULL };
	const char *patient;

	/* The router has checked the type (route.typed). */
	if (!gw_flow_only_params(req, allowed) ||
	    paging_param(req, "_count", COUNT_DEFAULT, 1, COUNT_MAX,
		&req->count) != GW_OK ||
	    paging_param(req, "_offset", 0, 0, OFFSET_MAX, &req->offset) !=
		GW_OK)
		return;
	if ((patient = gw_flow_patient_param(req)) == NULL)
		return;
	gw_flow_load_patient(req, patient, search_permitted);
}

/* --- {Type}/{id} -------------------------------------------------------- */

static void
read_permitted(struct gw_req *req)
{
	cJSON *r = req->held_resource;

	req->held_resource = NULL;
	/* Withheld data is answered as absent: a 403 would confirm that the
	 * patient has a record in that category. */
	if (gw_consent_excludes(&req->decision, req->held_category)) {
		cJSON_Delete(r);
		gw_req_reply_error(req, 404, NULL, "no such resource");
		return;
	}
	gw_req_reply_json(req, 200, r, break_glass_header(req));
}

static void
resource_loaded(const PGresult *res, const char *error, void *arg)
{
	struct gw_req *req = arg;
	enum gw_rtype t;

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
	req->held_resource = gw_flow_map_row(req, res, 0, 1, &t,
	    &req->held_category);
	if (req->held_resource == NULL || t != req->rtype) {
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
