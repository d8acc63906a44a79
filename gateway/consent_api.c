/*
 * consent_api.c: FHIR Consent management for nodes with role
 * consent-admin: create, replace, read, search by patient, revoke.
 *
 * Every write names its patient (by logical id or national identifier);
 * the patient is resolved in its home registry first, so a rule is always
 * stored under the identifier the decision point will look up.  A PUT
 * revokes the current version and inserts the new one in one statement;
 * DELETE revokes.  Nothing is ever deleted, and the NOTIFY triggers of
 * migration 020 tell every worker's cache.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/consent_fhir.h"
#include "gateway/gw.h"
#include "gateway/patient_flow.h"

#define INSERT_VALUES                                                      \
	" (patient_system, patient_id, scope, decision, purposes,"         \
	" recipient_countries, excluded_categories, valid_from, valid_to," \
	" emergency_override, source_consent_id)"

const struct gw_db_statement gw_consent_api_statements[] = {
	{ .name = "gw_consent_insert", .nparams = 10, .sql =
	    "insert into gw.consent_rule" INSERT_VALUES
	    " values ($1, $2, $3, $4, $5::text[], $6::text[], $7::text[],"
	    " $8::timestamptz, $9::timestamptz, $10::boolean,"
	    " gen_random_uuid()::text)"
	    " returning " GW_CONSENT_COLUMNS },
	{ .name = "gw_consent_replace", .nparams = 11, .sql =
	    "with old as (update gw.consent_rule set revoked_at = now()"
	    " where source_consent_id = $11 and revoked_at is null"
	    " returning id)"
	    " insert into gw.consent_rule" INSERT_VALUES
	    " select $1, $2, $3, $4, $5::text[], $6::text[], $7::text[],"
	    " $8::timestamptz, $9::timestamptz, $10::boolean, $11"
	    " where exists (select 1 from old)"
	    " returning " GW_CONSENT_COLUMNS },
	{ .name = "gw_consent_get", .nparams = 1, .sql =
	    "select " GW_CONSENT_COLUMNS " from gw.consent_rule"
	    " where source_consent_id = $1 order by id desc limit 1" },
	{ .name = "gw_consent_by_patient", .nparams = 2, .sql =
	    "select " GW_CONSENT_COLUMNS " from (select distinct on"
	    " (source_consent_id) * from gw.consent_rule"
	    " where patient_system = $1 and patient_id = $2"
	    " order by source_consent_id, id desc) latest"
	    " order by created_at, source_consent_id limit 1000" },
	{ .name = "gw_consent_revoke", .nparams = 1, .sql =
	    "with upd as (update gw.consent_rule set revoked_at = now()"
	    " where source_consent_id = $1 and revoked_at is null"
	    " returning id)"
	    " select (select count(*) from upd)::text,"
	    " (select count(*) from gw.consent_rule"
	    "  where source_consent_id = $1)::text" },
	{ .name = NULL },
};

/* Per-request state beyond struct gw_req: what was parsed from the body
 * while the patient is being resolved. */
struct consent_op {
	struct gw_consent_input in;
	bool replace;
};

static const char *
base_url(const struct gw_req *req)
{
	return req->worker->server->cfg->public_base_url;
}

static bool
json_body(struct gw_req *req)
{
	const char *ct = gw_http_header(&req->http, "Content-Type");

	if (ct == NULL || (strncmp(ct, "application/fhir+json", 21) != 0 &&
	    strncmp(ct, "application/json", 16) != 0)) {
		gw_req_reply_error(req, 415, NULL,
		    "Content-Type must be application/fhir+json");
		return false;
	}
	if (req->http.body == NULL || req->http.body_len == 0) {
		gw_req_reply_error(req, 400, "required", "a Consent body is "
		    "required");
		return false;
	}
	return true;
}

static void
written(const PGresult *res, const char *error, void *arg)
{
	struct gw_req *req = arg;
	struct consent_op *op = req->ctx;
	char location[512];
	cJSON *consent;

	if (!gw_req_query_ok(req, res, error, "consent write failed",
	    "consent store unavailable; nothing was stored"))
		return;
	if (PQntuples(res) != 1) {
		gw_req_reply_error(req, 404, NULL, "no such Consent");
		return;
	}
	consent = gw_consent_to_fhir(res, 0);
	snprintf(location, sizeof(location), "Location: %s/Consent/%s\r\n",
	    base_url(req), PQgetvalue(res, 0, 0));
	gw_req_reply_json(req, op->replace ? 200 : 201, consent, location);
}

static void
store(struct gw_req *req)
{
	struct consent_op *op = req->ctx;
	const struct gw_consent_input *in = &op->in;
	char purposes[128], countries[64], excluded[256];
	const char *params[11] = {
		req->patient.system, req->patient.national_id,
		in->research ? "research" : "treatment",
		in->permit ? "permit" : "deny", purposes, countries, excluded,
		in->valid_from[0] ? in->valid_from : NULL,
		in->valid_to[0] ? in->valid_to : NULL,
		in->emergency_override ? "true" : "false",
		req->path_args[0],
	};

	gw_consent_array_literal(in->purposes[0], sizeof(in->purposes[0]),
	    in->npurposes, purposes, sizeof(purposes));
	gw_consent_array_literal(in->countries[0], sizeof(in->countries[0]),
	    in->ncountries, countries, sizeof(countries));
	gw_consent_array_literal(in->excluded[0], sizeof(in->excluded[0]),
	    in->nexcluded, excluded, sizeof(excluded));
	req->pending = true;
	gw_db_query(req->worker->db, op->replace ? "gw_consent_replace" :
	    "gw_consent_insert", op->replace ? 11 : 10, params, written, req);
}

static void
listed(const PGresult *res, const char *error, void *arg)
{
	struct gw_req *req = arg;
	cJSON *bundle;

	if (!gw_req_query_ok(req, res, error, "consent search failed",
	    "consent store unavailable"))
		return;
	bundle = gw_fhir_bundle_new("searchset");
	cJSON_AddNumberToObject(bundle, "total", PQntuples(res));
	for (int i = 0; i < PQntuples(res); i++)
		gw_fhir_bundle_add(bundle, base_url(req),
		    gw_consent_to_fhir(res, i), "match");
	gw_req_reply_json(req, 200, bundle, NULL);
}

static void
search_resolved(struct gw_req *req)
{
	const char *params[2] = { req->patient.system,
		req->patient.national_id };

	req->pending = true;
	gw_db_query(req->worker->db, "gw_consent_by_patient", 2, params,
	    listed, req);
}

/* Resolve the patient a Consent names, then continue with store(). */
static void
resolve_and_store(struct gw_req *req)
{
	struct consent_op *op = req->ctx;
	const struct gw_id_system *idsys = NULL;
	const char *params[2];
	char name[64];

	if (op->in.patient_ref[0] != '\0') {
		gw_flow_resolve_patient(req, op->in.patient_ref, store);
		return;
	}
	req->adapter = gw_adapter_by_system(op->in.patient_system, &idsys);
	/* Consent is kept by the data holder: not for relayed countries. */
	if (req->adapter == NULL ||
	    !gw_config_is_local(req->worker->server->cfg,
		req->adapter->country)) {
		gw_req_reply_error(req, 422, "not-found", "identifier system "
		    "%s is not served here", op->in.patient_system);
		return;
	}
	if (!idsys->valid(op->in.patient_value)) {
		gw_req_reply_error(req, 422, "invalid", "%s is not a valid "
		    "identifier of its system", op->in.patient_value);
		return;
	}
	params[0] = op->in.patient_system;
	params[1] = op->in.patient_value;
	gw_flow_statement_name(req->adapter, "patient_by_identifier", -1, name,
	    sizeof(name));
	gw_flow_resolve_by(req, name, params, 2, store);
}

static void
write_consent(struct gw_req *req, bool replace)
{
	struct consent_op *op;
	char err[256];
	int status;

	if (!json_body(req))
		return;
	op = gw_calloc(1, sizeof(*op));
	req->ctx = op;
	op->replace = replace;
	status = gw_consent_from_fhir(req->http.body, req->http.body_len,
	    &op->in, err, sizeof(err));
	if (status != 0) {
		gw_req_reply_error(req, status, status == 422 ?
		    "business-rule" : "invalid", "%s", err);
		return;
	}
	if (replace && op->in.id[0] != '\0' &&
	    strcmp(op->in.id, req->path_args[0]) != 0) {
		gw_req_reply_error(req, 400, "invalid", "Consent.id %s does "
		    "not match the URL", op->in.id);
		return;
	}
	if (!replace && op->in.id[0] != '\0') {
		gw_req_reply_error(req, 400, "invalid", "POST must not carry "
		    "an id; the server assigns it");
		return;
	}
	resolve_and_store(req);
}

void
gw_handle_consent_create(struct gw_req *req)
{
	write_consent(req, false);
}

void
gw_handle_consent_update(struct gw_req *req)
{
	if (!gw_flow_valid_id(req->path_args[0])) {
		gw_req_reply_error(req, 400, "invalid", "malformed id");
		return;
	}
	write_consent(req, true);
}

static void
one_read(const PGresult *res, const char *error, void *arg)
{
	struct gw_req *req = arg;

	if (!gw_req_query_ok(req, res, error, "consent read failed",
	    "consent store unavailable"))
		return;
	if (PQntuples(res) != 1) {
		gw_req_reply_error(req, 404, NULL, "no such Consent");
		return;
	}
	gw_req_reply_json(req, 200, gw_consent_to_fhir(res, 0), NULL);
}

void
gw_handle_consent_read(struct gw_req *req)
{
	const char *params[1] = { req->path_args[0] };

	if (!gw_flow_valid_id(req->path_args[0])) {
		gw_req_reply_error(req, 400, "invalid", "malformed id");
		return;
	}
	req->pending = true;
	gw_db_query(req->worker->db, "gw_consent_get", 1, params, one_read,
	    req);
}

void
gw_handle_consent_search(struct gw_req *req)
{
	const char *patient = gw_req_param(req, "patient");

	for (int i = 0; i < req->nparams; i++) {
		if (strcmp(req->params[i].name, "patient") != 0 &&
		    strcmp(req->params[i].name, "_format") != 0) {
			gw_req_reply_error(req, 400, "not-supported",
			    "unknown search parameter %s",
			    req->params[i].name);
			return;
		}
	}
	if (patient == NULL) {
		gw_req_reply_error(req, 400, "required", "patient is required");
		return;
	}
	if (strncmp(patient, "Patient/", 8) == 0)
		patient += 8;
	gw_flow_resolve_patient(req, patient, search_resolved);
}

static void
revoked(const PGresult *res, const char *error, void *arg)
{
	struct gw_req *req = arg;

	if (!gw_req_query_ok(req, res, error, "consent revoke failed",
	    "consent store unavailable; nothing was revoked"))
		return;
	/* Revoking an already revoked Consent is not an error (DELETE is
	 * idempotent); an unknown one is. */
	if (strcmp(PQgetvalue(res, 0, 1), "0") == 0) {
		gw_req_reply_error(req, 404, NULL, "no such Consent");
		return;
	}
	gw_req_reply(req, 204, NULL, gw_body_text(NULL, 0), NULL);
}

void
gw_handle_consent_delete(struct gw_req *req)
{
	const char *params[1] = { req->path_args[0] };

	if (!gw_flow_valid_id(req->path_args[0])) {
		gw_req_reply_error(req, 400, "invalid", "malformed id");
		return;
	}
	req->pending = true;
	gw_db_query(req->worker->db, "gw_consent_revoke", 1, params, revoked,
	    req);
}
