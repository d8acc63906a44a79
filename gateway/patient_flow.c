/*
 * patient_flow.c: the steps every patient-data route shares, in order:
 * find the adapter from the id's prefix, load the patient from its
 * registry, ask the consent decision point, then continue with the route's
 * own step (req->next).  Nothing about the patient is sent before the
 * decision is a permit.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/gw.h"
#include "gateway/patient_flow.h"

/* Statement names are derived, so adapters only supply SQL. */
void
gw_flow_statement_name(const struct gw_adapter *a, const char *op, int type,
    char *out, size_t outsz)
{
	char n[GW_INT_TEXT];

	gw_fmt_int(n, type);
	gw_concat(out, outsz, a->id_prefix, "_", op, type >= 0 ? "_" : "",
	    type >= 0 ? n : "", (char *)NULL);
}

const struct gw_adapter *
gw_flow_adapter_of(const char *logical_id, const char **rest)
{
	const char *dash = strchr(logical_id, '-');
	const struct gw_adapter *a;

	if (dash == NULL || dash == logical_id || dash[1] == '\0')
		return NULL;
	a = gw_adapter_by_prefix(logical_id, (size_t)(dash - logical_id));
	if (a != NULL && rest != NULL)
		*rest = dash + 1;
	return a;
}

bool
gw_flow_valid_id(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = id[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.'))
			return false;
	}
	return true;
}

bool
gw_flow_only_params(struct gw_req *req, const char *const *allowed)
{
	for (int i = 0; i < req->nparams; i++) {
		const char *name = req->params[i].name;
		bool ok = strcmp(name, "_format") == 0, repeats = false;

		for (size_t j = 0; allowed[j] != NULL && !ok; j++) {
			size_t n = strlen(allowed[j]);

			repeats = n > 0 && allowed[j][n - 1] == '*';
			ok = strncmp(name, allowed[j], n - repeats) == 0 &&
			    name[n - repeats] == '\0';
		}
		for (int k = 0; k < i && ok && !repeats; k++)
			if (strcmp(req->params[k].name,
			    req->params[i].name) == 0) {
				gw_req_reply_error(req, 400, "invalid",
				    "repeated search parameter %s",
				    req->params[i].name);
				return false;
			}
		if (!ok) {
			gw_req_reply_error(req, 400, "not-supported",
			    "unknown search parameter %s",
			    req->params[i].name);
			return false;
		}
	}
	return true;
}

const char *
gw_flow_patient_param(struct gw_req *req)
{
	const char *patient = gw_req_param(req, "patient");

	if (patient == NULL) {
		gw_req_reply_error(req, 400, "required",
		    "search by patient is required");
		return NULL;
	}
	if (strncmp(patient, "Patient/", 8) == 0)
		patient += 8;
	return patient;
}

/* Row's doc column read into the worker's scratch row (the resource
 * mapped from it copies what it keeps, so the next row may overwrite it);
 * NULL, logged, if it is not a record of its kind's columns. */
static const struct gw_row *
scratch_doc(struct gw_req *req, const PGresult *res, int row, int doc_col)
{
	struct gw_row *doc = &req->worker->row;
	const char *kind = PQgetvalue(res, row, 0);
	const struct gw_row_columns *cols =
	    gw_adapter_columns(req->adapter, kind);

	if (cols == NULL || gw_row_parse(doc, cols,
	    PQgetvalue(res, row, doc_col),
	    (size_t)PQgetlength(res, row, doc_col)) != GW_OK) {
		gw_warn("%s: registry row of kind %s is not a record of its "
		    "columns", req->adapter->country, kind);
		return NULL;
	}
	return doc;
}

int
gw_flow_write_row(struct gw_req *req, const PGresult *res, int row,
    int doc_col, struct gw_jout *o, struct gw_mapped *m)
{
	const struct gw_map_ctx ctx = { .patient = &req->patient };
	const struct gw_row *doc = scratch_doc(req, res, row, doc_col);
	const char *kind = PQgetvalue(res, row, 0);

	if (doc == NULL)
		return GW_ERR;
	if (req->adapter->map(kind, doc, &ctx, o, m) != GW_OK) {
		gw_warn("%s: unmappable %s row skipped", req->adapter->country,
		    kind);
		return GW_ERR;
	}
	return GW_OK;
}

cJSON *
gw_flow_map_row(struct gw_req *req, const PGresult *res, int row, int doc_col,
    enum gw_rtype *rtype, const char **category)
{
	struct gw_jout o = gw_jout_tree_builder();
	struct gw_mapped m;

	*category = NULL;
	if (gw_flow_write_row(req, res, row, doc_col, &o, &m) != GW_OK)
		return NULL;
	*rtype = m.type;
	*category = m.category;
	return gw_jout_take_tree(&o);
}

char *
gw_flow_wrap_generation(const char *sql)
{
	static const char fmt[] = "select q.*, (select value::text from"
	    " gw.consent_generation) from (%s) q";
	size_t n = strlen(fmt) + strlen(sql);
	char *out = gw_malloc(n);

	snprintf(out, n, fmt, sql);
	return out;
}

void
gw_flow_note_generation(struct gw_req *req, const PGresult *res)
{
	long v;
	int last = PQnfields(res) - 1;

	if (req->gen_from_primary) {
		/* The rows came from a replica: see registry_read.h. */
		req->consent_gen = req->primary_gen;
		req->gen_from_primary = false;
		return;
	}
	req->consent_gen = -1;
	if (PQntuples(res) > 0 && last > 0 && !PQgetisnull(res, 0, last) &&
	    gw_parse_long(PQgetvalue(res, 0, last), 0, LONG_MAX, &v) == GW_OK)
		req->consent_gen = v;
}

/* Fill req->patient from a parsed native patient row. */
static int
identify(struct gw_req *req, const struct gw_row *doc)
{
	int rc;

	memset(&req->patient, 0, sizeof(req->patient));
	rc = req->adapter->patient_identity(doc, &req->patient);
	req->patient.adapter = req->adapter;
	return rc;
}

int
gw_flow_identify(struct gw_req *req, const char *patient_doc)
{
	struct gw_row *doc = &req->worker->row;
	const struct gw_row_columns *cols =
	    gw_adapter_patient_columns(req->adapter);

	if (cols == NULL ||
	    gw_row_parse(doc, cols, patient_doc, strlen(patient_doc)) != GW_OK)
		return GW_ERR;
	return identify(req, doc);
}

static void
consent_done(bool ok, const struct gw_consent_decision *d, void *arg)
{
	struct gw_req *req = arg;

	if (gw_req_gone(req))
		return;
	if (!ok) {
		gw_req_reply_error(req, 503, NULL,
		    "consent decision unavailable; no data released");
		return;
	}
	req->decision = *d;
	if (!d->permit) {
		atomic_fetch_add(&req->worker->counters.consent_deny, 1);
		gw_req_reply_error(req, 403, "forbidden",
		    "consent denied by %s", d->rule);
		return;
	}
	if (d->break_glass)
		atomic_fetch_add(&req->worker->counters.break_glass, 1);
	req->next(req);
}

void
gw_flow_decide(struct gw_req *req, void (*next)(struct gw_req *))
{
	/* A peer gateway relays for a node of its country: consent is
	 * decided for that node's country (router.c checked the header). */
	const struct gw_consent_request creq = {
		.purpose = req->purpose,
		.recipient_country = req->origin_country[0] != '\0' ?
		    req->origin_country : req->conn->node.country,
		.emergency_reason = req->emergency,
	};

	req->next = next;
	req->pending = true;
	if (gw_consent_decide(req->worker->consent, req->patient.system,
		req->patient.national_id, req->adapter->country, &creq,
		req->consent_gen, consent_done, req) != GW_OK) {
		req->pending = false;
		gw_req_reply_error(req, 500, NULL, "consent query failed");
	}
}

bool
gw_flow_hold_patient(struct gw_req *req, const PGresult *res)
{
	const struct gw_row_columns *cols =
	    gw_adapter_columns(req->adapter, PQgetvalue(res, 0, 0));

	/* The row is kept for the answer itself. */
	if (cols == NULL || gw_row_parse(&req->held, cols,
	    PQgetvalue(res, 0, 1), (size_t)PQgetlength(res, 0, 1)) != GW_OK ||
	    identify(req, &req->held) != GW_OK) {
		gw_row_free(&req->held);
		gw_req_reply_error(req, 500, NULL, "registry row unusable");
		return false;
	}
	gw_flow_note_generation(req, res);
	gw_strlcpy(req->held_kind, PQgetvalue(res, 0, 0),
	    sizeof(req->held_kind));
	return true;
}

static void
patient_loaded(const PGresult *res, const char *error, void *arg)
{
	struct gw_req *req = arg;

	if (!gw_req_query_ok(req, res, error, "patient lookup failed",
	    "registry unavailable"))
		return;
	if (PQntuples(res) == 0) {
		gw_req_reply_error(req, req->missing_status ?
		    req->missing_status : 404, "not-found", "no such patient");
		return;
	}
	if (!gw_flow_hold_patient(req, res))
		return;
	if (req->no_decision)
		req->next(req);
	else
		gw_flow_decide(req, req->next);
}

void
gw_flow_resolve_by(struct gw_req *req, const char *statement,
    const char *const *params, int nparams, void (*next)(struct gw_req *))
{
	req->next = next;
	req->no_decision = true;
	req->missing_status = 422;
	req->pending = true;
	gw_db_query(req->worker->db, statement, nparams, params,
	    patient_loaded, req);
}

void
gw_flow_resolve_patient(struct gw_req *req, const char *logical_id,
    void (*next)(struct gw_req *))
{
	req->no_decision = true;
	gw_flow_load_patient(req, logical_id, next);
}

const char *
gw_flow_local_patient(struct gw_req *req, const char *logical_id)
{
	const char *token = NULL;

	if (!gw_flow_valid_id(logical_id)) {
		gw_req_reply_error(req, 400, "invalid", "malformed id");
		return NULL;
	}
	req->adapter = gw_flow_adapter_of(logical_id, &token);
	if (req->adapter == NULL ||
	    !gw_config_is_local(req->worker->server->cfg,
		req->adapter->country)) {
		gw_req_reply_error(req, 404, NULL,
		    "no local registry for id %s", logical_id);
		return NULL;
	}
	return token;
}

void
gw_flow_load_patient(struct gw_req *req, const char *logical_id,
    void (*next)(struct gw_req *))
{
	const char *token = gw_flow_local_patient(req, logical_id);
	char name[64];

	if (token == NULL)
		return;
	req->next = next;
	gw_flow_statement_name(req->adapter, "read", GW_RT_PATIENT, name,
	    sizeof(name));
	req->pending = true;
	gw_db_query(req->worker->db, name, 1, &token, patient_loaded, req);
}
