/*
 * ips.c: GET Patient/{id}/$summary, the International Patient Summary
 * document.  The adapter returns the patient's native row and those of
 * every section in one query; this file maps them, asks for the consent
 * decision, drops what it withholds, and assembles
 * one document Bundle for every country alike: Composition first (with the
 * five IPS sections, each referencing its entries or saying why it is
 * empty), then the Patient, the authoring Organization and the entries,
 * each with a fullUrl, so every reference resolves inside the Bundle.
 */
#include <stdlib.h>
#include <string.h>

#include "gateway/gw.h"
#include "gateway/patient_flow.h"
#include "gateway/registry_read.h"

#define LOINC "http://loinc.org"

struct ips_section {
	enum gw_rtype type;
	const char *code;
	const char *title;
	const char *display;
};

/* IPS section order and codes (IPS IG, Composition slices). */
static const struct ips_section sections[] = {
	{ GW_RT_ALLERGY_INTOLERANCE, "48765-2", "Allergies and Intolerances",
	    "Allergies and adverse reactions Document" },
	{ GW_RT_CONDITION, "11450-4", "Problem List",
	    "Problem list - Reported" },
	{ GW_RT_MEDICATION_STATEMENT, "10160-0", "Medication Summary",
	    "History of Medication use Narrative" },
	{ GW_RT_IMMUNIZATION, "11369-6", "Immunizations",
	    "History of Immunization Narrative" },
	{ GW_RT_OBSERVATION, "30954-2", "Results",
	    "Relevant diagnostic tests/laboratory data Narrative" },
};

static cJSON *
narrative(const char *text)
{
	cJSON *n = cJSON_CreateObject();
	char div[256];

	gw_concat(div, sizeof(div), "<div xmlns=\"http://www.w3.org/1999/xhtml\">",
	    text, "</div>", (char *)NULL);
	GW_JSON_ADD_STRING(n, "status", "generated");
	GW_JSON_ADD_STRING(n, "div", div);
	return n;
}

static cJSON *
author_organization(const struct gw_req *req, char *id, size_t idsz)
{
	cJSON *org = cJSON_CreateObject();
	char name[96];

	gw_concat(id, idsz, "fhirgw-", req->adapter->id_prefix, (char *)NULL);
	gw_concat(name, sizeof(name), "fhirgw ", req->adapter->country,
	    " data holder gateway", (char *)NULL);
	GW_JSON_ADD_STRING(org, "resourceType", "Organization");
	GW_JSON_ADD_STRING(org, "id", id);
	GW_JSON_ADD_STRING(org, "name", name);
	return org;
}

static cJSON *
section_json(const struct ips_section *s, cJSON *refs)
{
	cJSON *sec = cJSON_CreateObject();
	int n = cJSON_GetArraySize(refs);
	char text[96], count[GW_INT_TEXT];

	GW_JSON_ADD_STRING(sec, "title", s->title);
	GW_JSON_ADD(sec, "code", gw_fhir_codeable(
	    gw_fhir_coding(LOINC, s->code, s->display), NULL));
	gw_fmt_int(count, n);
	gw_concat(text, sizeof(text), s->title, ": ", count,
	    n == 1 ? " entry" : " entries", (char *)NULL);
	GW_JSON_ADD(sec, "text", narrative(text));
	if (n > 0) {
		GW_JSON_ADD(sec, "entry", refs);
	} else {
		cJSON_Delete(refs);
		GW_JSON_ADD(sec, "emptyReason", gw_fhir_codeable(
		    gw_fhir_coding("http://terminology.hl7.org/CodeSystem/"
		    "list-empty-reason", "unavailable", "Unavailable"), NULL));
	}
	return sec;
}

/* The mapped section rows between the registry's answer and the consent
 * decision: the resources in req->held_resource (an array, in the
 * answer's order), their types and sensitive categories here, in
 * req->ctx. */
struct summary_held {
	int n;
	struct {
		enum gw_rtype type;
		const char *category;
	} row[];
};

static void
summary_permitted(struct gw_req *req)
{
	const char *base = req->worker->server->cfg->public_base_url;
	const struct gw_map_ctx ctx = { .patient = &req->patient };
	const struct summary_held *held = req->ctx;
	cJSON *entries[GW_RT_COUNT] = { NULL }, *refs[GW_RT_COUNT] = { NULL };
	cJSON *bundle, *comp, *secs, *patient, *org, *ident, *r;
	char uuid[37], now[32], org_id[64];
	enum gw_rtype t;
	const char *category;

	patient = req->adapter->map(req->held_kind, &req->held, &ctx, &t,
	    &category);
	if (patient == NULL) {
		gw_req_reply_error(req, 500, NULL, "patient not mappable");
		return;
	}
	for (int i = 0; i < GW_RT_COUNT; i++) {
		entries[i] = cJSON_CreateArray();
		refs[i] = cJSON_CreateArray();
	}
	for (int i = 0; i < held->n; i++) {
		const cJSON *id;

		r = cJSON_DetachItemFromArray(req->held_resource, 0);
		t = held->row[i].type;
		if (gw_consent_excludes(&req->decision,
		    held->row[i].category)) {
			cJSON_Delete(r);
			continue;
		}
		id = cJSON_GetObjectItemCaseSensitive(r, "id");
		cJSON_AddItemToArray(refs[t], gw_fhir_reference(
		    gw_fhir_type_name(t), id->valuestring));
		cJSON_AddItemToArray(entries[t], r);
	}

	gw_fhir_now(now, sizeof(now));
	org = author_organization(req, org_id, sizeof(org_id));
	gw_fhir_uuid4(uuid);
	comp = cJSON_CreateObject();
	GW_JSON_ADD_STRING(comp, "resourceType", "Composition");
	GW_JSON_ADD_STRING(comp, "id", uuid);
	GW_JSON_ADD(comp, "text", narrative(
	    "International Patient Summary"));
	GW_JSON_ADD_STRING(comp, "status", "final");
	GW_JSON_ADD(comp, "type", gw_fhir_codeable(
	    gw_fhir_coding(LOINC, "60591-5", "Patient summary Document"),
	    NULL));
	GW_JSON_ADD(comp, "subject", gw_fhir_reference("Patient",
	    req->patient.logical_id));
	GW_JSON_ADD_STRING(comp, "date", now);
	cJSON_AddItemToArray(GW_JSON_ADD_ARRAY(comp, "author"),
	    gw_fhir_reference("Organization", org_id));
	GW_JSON_ADD_STRING(comp, "title", "International Patient Summary");
	secs = GW_JSON_ADD_ARRAY(comp, "section");
	for (size_t i = 0; i < GW_ARRAY_LEN(sections); i++) {
		cJSON_AddItemToArray(secs, section_json(&sections[i],
		    refs[sections[i].type]));
		refs[sections[i].type] = NULL;
	}

	bundle = gw_fhir_bundle_new("document");
	GW_JSON_ADD_STRING(bundle, "id", uuid);
	ident = GW_JSON_ADD_OBJECT(bundle, "identifier");
	GW_JSON_ADD_STRING(ident, "system", "urn:ietf:rfc:3986");
	{
		char urn[48];

		gw_concat(urn, sizeof(urn), "urn:uuid:", uuid, (char *)NULL);
		GW_JSON_ADD_STRING(ident, "value", urn);
	}
	GW_JSON_ADD_STRING(bundle, "timestamp", now);
	gw_fhir_bundle_add(bundle, base, comp, NULL);
	gw_fhir_bundle_add(bundle, base, patient, NULL);
	gw_fhir_bundle_add(bundle, base, org, NULL);
	for (size_t i = 0; i < GW_ARRAY_LEN(sections); i++) {
		cJSON *list = entries[sections[i].type];

		while ((r = cJSON_DetachItemFromArray(list, 0)) != NULL)
			gw_fhir_bundle_add(bundle, base, r, NULL);
	}
	for (int i = 0; i < GW_RT_COUNT; i++) {
		cJSON_Delete(entries[i]);
		cJSON_Delete(refs[i]);
	}
	gw_req_reply_json(req, 200, bundle, req->decision.break_glass ?
	    "X-Break-Glass: true\r\n" : NULL);
}

static void
summary_loaded(const PGresult *res, const char *error, void *arg)
{
	struct gw_req *req = arg;
	struct summary_held *held;
	int rows;

	if (!gw_req_query_ok(req, res, error, "summary failed",
	    "registry unavailable"))
		return;
	rows = PQntuples(res);
	if (rows == 0) {
		gw_req_reply_error(req, 404, "not-found", "no such patient");
		return;
	}
	if (!gw_flow_hold_patient(req, res))
		return;
	/* Mapping before the decision releases nothing: the resources stay
	 * on the request until summary_permitted. */
	held = gw_malloc(sizeof(*held) + (size_t)rows * sizeof(held->row[0]));
	held->n = 0;
	req->ctx = held;
	req->held_resource = cJSON_CreateArray();
	for (int i = 1; i < rows; i++) {
		enum gw_rtype t;
		const char *category;
		cJSON *r = gw_flow_map_row(req, res, i, 1, &t, &category);

		if (r == NULL)
			continue;
		if (t == GW_RT_PATIENT) {
			cJSON_Delete(r);
			continue;
		}
		cJSON_AddItemToArray(req->held_resource, r);
		held->row[held->n].type = t;
		held->row[held->n].category = category;
		held->n++;
	}
	gw_flow_decide(req, summary_permitted);
}

void
gw_handle_summary(struct gw_req *req)
{
	const char *token;
	char name[64];

	for (int i = 0; i < req->nparams; i++) {
		if (strcmp(req->params[i].name, "_format") != 0) {
			gw_req_reply_error(req, 400, "not-supported",
			    "unknown parameter %s", req->params[i].name);
			return;
		}
	}
	token = gw_flow_local_patient(req, req->path_args[0]);
	if (token == NULL)
		return;
	gw_flow_statement_name(req->adapter, "summary", -1, name, sizeof(name));
	req->pending = true;
	gw_registry_query(req, name, 1, &token, true, summary_loaded);
}
