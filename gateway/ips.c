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
#include "gateway/json_out.h"
#include "gateway/patient_flow.h"
#include "gateway/registry_read.h"

#define LOINC "http://loinc.org"

/* The room reserved for each row's resource text (a $summary's are
 * 0.5-1.2 kB; the buffer grows if they need more). */
#define HELD_ROW_TEXT 1024

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

/* {"status":"generated","div":...} around text. */
static void
write_narrative(struct gw_jout *o, const char *text)
{
	char div[256];

	gw_concat(div, sizeof(div), "<div xmlns=\"http://www.w3.org/1999/xhtml\">",
	    text, "</div>", (char *)NULL);
	gw_jout_object(o);
	GW_JOUT_STRING(o, "status", "generated");
	GW_JOUT_STRING(o, "div", div);
	gw_jout_end_object(o);
}

/*
 * The mapped rows between the registry's answer and the consent decision:
 * each resource written as JSON text into req->held_text (rows are
 * mapped while the answer is at hand, and the answer does not outlive its
 * callback), where it starts and ends, its type, id and sensitive
 * category; `kept` is set once the decision is known.  Row 0 is the
 * patient, mapped after the decision.
 */
struct summary_held {
	int n;
	struct {
		size_t at, len;
		struct gw_mapped m;
		bool kept; /* the decision lets it out */
	} row[];
};

/* One section of the Composition: its entries are the kept resources of
 * its type, in the registry's order. */
static void
write_section(struct gw_jout *o, const struct ips_section *s,
    const struct summary_held *held)
{
	const char *type = gw_fhir_type_name(s->type);
	char text[96], count[GW_INT_TEXT];
	int n = 0;

	for (int i = 1; i < held->n; i++)
		n += held->row[i].kept && held->row[i].m.type == s->type;
	gw_jout_object(o);
	GW_JOUT_STRING(o, "title", s->title);
	GW_JOUT_KEY(o, "code");
	gw_fhir_write_codeable(o, LOINC, s->code, s->display, NULL);
	gw_fmt_int(count, n);
	gw_concat(text, sizeof(text), s->title, ": ", count,
	    n == 1 ? " entry" : " entries", (char *)NULL);
	GW_JOUT_KEY(o, "text");
	write_narrative(o, text);
	if (n > 0) {
		GW_JOUT_ARRAY(o, "entry");
		for (int i = 1; i < held->n; i++)
			if (held->row[i].kept && held->row[i].m.type == s->type)
				gw_fhir_write_reference(o, type,
				    held->row[i].m.id);
		gw_jout_end_array(o);
	} else {
		GW_JOUT_KEY(o, "emptyReason");
		gw_fhir_write_codeable(o, "http://terminology.hl7.org/"
		    "CodeSystem/list-empty-reason", "unavailable", "Unavailable",
		    NULL);
	}
	gw_jout_end_object(o);
}

/* One Bundle entry, {"fullUrl":base/type/id,"resource":...}, noted for
 * the audit record: the caller writes the resource and closes the
 * entry. */
static void
begin_entry(struct gw_req *req, struct gw_jout *o, const char *type,
    const char *id)
{
	gw_fhir_write_entry_start(o, req->worker->server->cfg->public_base_url,
	    type, id);
	gw_audit_note_resource(req, type, id);
}

/* The entry of held row i, its text copied as it was written. */
static void
write_held_entry(struct gw_req *req, struct gw_jout *o, int i)
{
	const struct summary_held *held = req->ctx;

	begin_entry(req, o, gw_fhir_type_name(held->row[i].m.type),
	    held->row[i].m.id);
	gw_jout_raw(o, req->held_text.p + held->row[i].at, held->row[i].len);
	gw_jout_end_object(o);
}

static void
write_composition(struct gw_req *req, struct gw_jout *o, const char *uuid,
    const char *now, const char *org_id)
{
	const struct summary_held *held = req->ctx;

	begin_entry(req, o, "Composition", uuid);
	gw_jout_object(o);
	GW_JOUT_STRING(o, "resourceType", "Composition");
	GW_JOUT_STRING(o, "id", uuid);
	GW_JOUT_KEY(o, "text");
	write_narrative(o, "International Patient Summary");
	GW_JOUT_STRING(o, "status", "final");
	GW_JOUT_KEY(o, "type");
	gw_fhir_write_codeable(o, LOINC, "60591-5", "Patient summary Document",
	    NULL);
	GW_JOUT_KEY(o, "subject");
	gw_fhir_write_reference(o, "Patient", req->patient.logical_id);
	GW_JOUT_STRING(o, "date", now);
	GW_JOUT_ARRAY(o, "author");
	gw_fhir_write_reference(o, "Organization", org_id);
	gw_jout_end_array(o);
	GW_JOUT_STRING(o, "title", "International Patient Summary");
	GW_JOUT_ARRAY(o, "section");
	for (size_t i = 0; i < GW_ARRAY_LEN(sections); i++)
		write_section(o, &sections[i], held);
	gw_jout_end_array(o);
	gw_jout_end_object(o); /* the Composition */
	gw_jout_end_object(o); /* its entry */
}

/* The authoring Organization: this gateway for its country. */
static void
write_organization(struct gw_req *req, struct gw_jout *o, const char *id)
{
	char name[96];

	gw_concat(name, sizeof(name), "fhirgw ", req->adapter->country,
	    " data holder gateway", (char *)NULL);
	begin_entry(req, o, "Organization", id);
	gw_jout_object(o);
	GW_JOUT_STRING(o, "resourceType", "Organization");
	GW_JOUT_STRING(o, "id", id);
	GW_JOUT_STRING(o, "name", name);
	gw_jout_end_object(o);
	gw_jout_end_object(o);
}

/*
 * The document, written as text straight into the answer's body: the
 * Bundle's own members and the Composition are shapes this code knows,
 * and the resources are the text their mapping wrote, so no tree of any
 * of it is built (docs/architecture.md, "JSON on the hot path").
 */
static void
summary_permitted(struct gw_req *req)
{
	const struct gw_map_ctx ctx = { .patient = &req->patient };
	struct summary_held *held = req->ctx;
	struct gw_jout o = gw_jout_text(&req->held_text);
	char uuid[37], now[32], org_id[64], urn[48];

	held->row[0].at = req->held_text.len;
	if (req->adapter->map(req->held_kind, &req->held, &ctx, &o,
	    &held->row[0].m) != GW_OK) {
		gw_req_reply_error(req, 500, NULL, "patient not mappable");
		return;
	}
	held->row[0].len = req->held_text.len - held->row[0].at;
	for (int i = 1; i < held->n; i++)
		held->row[i].kept = !gw_consent_excludes(&req->decision,
		    held->row[i].m.category);
	gw_fhir_now(now, sizeof(now));
	gw_fhir_uuid4(uuid);
	gw_concat(urn, sizeof(urn), "urn:uuid:", uuid, (char *)NULL);
	gw_concat(org_id, sizeof(org_id), "fhirgw-", req->adapter->id_prefix,
	    (char *)NULL);

	gw_audit_forget_returned(req);
	gw_audit_note_resource(req, "Bundle", uuid);
	o = gw_jout_text(gw_fhir_body_open());
	gw_jout_object(&o);
	GW_JOUT_STRING(&o, "resourceType", "Bundle");
	GW_JOUT_STRING(&o, "type", "document");
	GW_JOUT_STRING(&o, "id", uuid);
	GW_JOUT_OBJECT(&o, "identifier");
	GW_JOUT_STRING(&o, "system", "urn:ietf:rfc:3986");
	GW_JOUT_STRING(&o, "value", urn);
	gw_jout_end_object(&o);
	GW_JOUT_STRING(&o, "timestamp", now);
	GW_JOUT_ARRAY(&o, "entry");
	write_composition(req, &o, uuid, now, org_id);
	write_held_entry(req, &o, 0);
	write_organization(req, &o, org_id);
	for (size_t s = 0; s < GW_ARRAY_LEN(sections); s++)
		for (int i = 1; i < held->n; i++)
			if (held->row[i].kept &&
			    held->row[i].m.type == sections[s].type)
				write_held_entry(req, &o, i);
	gw_jout_end_array(&o);
	gw_jout_end_object(&o);
	gw_req_reply_json_text(req, 200, gw_fhir_body_close(),
	    req->decision.break_glass ? "X-Break-Glass: true\r\n" : NULL);
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
	held = gw_calloc(1, sizeof(*held) +
	    (size_t)rows * sizeof(held->row[0]));
	held->n = 1; /* row 0: the patient, mapped once permitted */
	req->ctx = held;
	/* One allocation for the text in the usual case, not a doubling
	 * from 256 bytes. */
	gw_jbuf_reserve(&req->held_text, (size_t)rows * HELD_ROW_TEXT);
	for (int i = 1; i < rows; i++) {
		struct gw_jout o = gw_jout_text(&req->held_text);
		struct gw_jout_mark mark = gw_jout_mark(&o);

		if (gw_flow_write_row(req, res, i, 1, &o,
		    &held->row[held->n].m) != GW_OK)
			continue;
		if (held->row[held->n].m.type == GW_RT_PATIENT) {
			gw_jout_rollback(&o, mark);
			continue;
		}
		held->row[held->n].at = mark.len;
		held->row[held->n].len = req->held_text.len - mark.len;
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
