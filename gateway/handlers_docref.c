/*
 * handlers_docref.c: document access the IHE MHD way.  Find Document
 * References [ITI-67], GET DocumentReference?patient=&type=&status=
 * &category=, lists the patient summary as one DocumentReference whose
 * content[0].attachment.url is the absolute URL of Patient/{id}/$summary;
 * following it is Retrieve Document [ITI-68].  GET DocumentReference/{id}
 * reads that DocumentReference again.  Nothing is stored: the summary is
 * an on-demand document (no size, no hash), so the DocumentReference is
 * derived from the patient alone -- id "<patient id>-ips", masterIdentifier
 * a name-based UUID of "Patient/<patient id>/$summary" -- and the same
 * patient always gets the same one.  The patient is loaded and consent
 * decided exactly as for $summary (patient_flow.c) before the filters are
 * applied, so a denied patient is the same 403 whatever the filters say.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "gateway/gw.h"
#include "gateway/patient_flow.h"
#include "gateway/search_param.h"

#define LOINC "http://loinc.org"
#define PS_CODE "60591-5"
#define PS_DISPLAY "Patient summary Document"
/* HL7 Europe EU Health Data API: the EHDS priority categories. */
#define PRIORITY_SYSTEM "http://hl7.eu/fhir/health-data-api/CodeSystem/" \
	"eehrxf-document-priority-category-cs"
#define PRIORITY_CODE "Patient-Summaries"
#define STATUS_SYSTEM "http://hl7.org/fhir/document-reference-status"
#define FORMAT_SYSTEM "http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/" \
	"formatcode"
#define FORMAT_CODE "urn:ihe:pcc:ips:2020"
#define MHD_MINIMAL "https://profiles.ihe.net/ITI/MHD/StructureDefinition/" \
	"IHE.MHD.Minimal.DocumentReference"
/* DocumentReference.id = patient's logical id + this. */
#define ID_SUFFIX "-ips"

/* The token parameters understood, each with the one value the patient
 * summary's DocumentReference has for it. */
static const struct filter {
	const char *param;
	const char *system;
	const char *code;
} filters[] = {
	{ "type", LOINC, PS_CODE },
	{ "status", STATUS_SYSTEM, "current" },
	{ "category", PRIORITY_SYSTEM, PRIORITY_CODE },
};

/* Check the token filters; answer 400 on a malformed one.  *hit: every
 * filter given matches the patient summary. */
static int
filters_checked(struct gw_req *req, bool *hit)
{
	*hit = true;
	for (size_t i = 0; i < GW_ARRAY_LEN(filters); i++) {
		const char *v = gw_req_param(req, filters[i].param);
		enum gw_token_match m;

		if (v == NULL)
			continue;
		m = gw_search_token_match(v, filters[i].system, filters[i].code);
		if (m == GW_TOKEN_INVALID) {
			gw_req_reply_error(req, 400, "invalid",
			    "%s must be a token: [system|]code[,...]",
			    filters[i].param);
			return GW_ERR;
		}
		*hit = *hit && m == GW_TOKEN_HIT;
	}
	return GW_OK;
}

/* Name-based UUID (RFC 4122 version 5, SHA-1) of name in the URL
 * namespace: the same name always gives the same UUID. */
static void
uuid5_url(const char *name, char out[37])
{
	static const unsigned char ns_url[16] = { 0x6b, 0xa7, 0xb8, 0x11,
		0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4,
		0x30, 0xc8 };
	unsigned char md[EVP_MAX_MD_SIZE], *b = md;
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, ns_url, sizeof(ns_url)) != 1 ||
	    EVP_DigestUpdate(ctx, name, strlen(name)) != 1 ||
	    EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen < 16)
		gw_fatal("SHA-1 unavailable for a document identifier");
	EVP_MD_CTX_free(ctx);
	gw_fhir_uuid_text(b, 5, out);
}

static const char *
break_glass_header(const struct gw_req *req)
{
	return req->decision.break_glass ? "X-Break-Glass: true\r\n" : NULL;
}

/*
 * The DocumentReference of req->patient's summary (caller frees).  The
 * author and custodian is the data holder gateway, named as in the
 * summary's Composition.author (ips.c); it is contained because this
 * gateway serves no Organization to refer to.
 */
static cJSON *
summary_docref(const struct gw_req *req)
{
	const char *base = req->worker->server->cfg->public_base_url;
	const char *pid = req->patient.logical_id;
	char id[GW_LOGICAL_ID_MAX + sizeof(ID_SUFFIX)];
	char doc[GW_LOGICAL_ID_MAX + 32], uuid[37], urn[48], now[32];
	char org_id[48], org_ref[56], org_name[96], div[256], *url;
	cJSON *dr, *org, *content, *att, *meta;
	size_t n;

	snprintf(id, sizeof(id), "%s%s", pid, ID_SUFFIX);
	snprintf(doc, sizeof(doc), "Patient/%s/$summary", pid);
	uuid5_url(doc, uuid);
	snprintf(urn, sizeof(urn), "urn:uuid:%s", uuid);
	n = strlen(base) + strlen(doc) + 2;
	url = gw_malloc(n);
	snprintf(url, n, "%s/%s", base, doc);
	gw_fhir_now(now, sizeof(now));
	snprintf(org_id, sizeof(org_id), "fhirgw-%s", req->adapter->id_prefix);
	snprintf(org_name, sizeof(org_name), "fhirgw %s data holder gateway",
	    req->adapter->country);
	snprintf(div, sizeof(div), "<div xmlns=\"http://www.w3.org/1999/xhtml\">"
	    "Patient summary of Patient/%s, assembled on request</div>", pid);

	dr = cJSON_CreateObject();
	cJSON_AddStringToObject(dr, "resourceType", "DocumentReference");
	cJSON_AddStringToObject(dr, "id", id);
	meta = cJSON_AddObjectToObject(dr, "meta");
	cJSON_AddItemToArray(cJSON_AddArrayToObject(meta, "profile"),
	    cJSON_CreateString(MHD_MINIMAL));
	{
		cJSON *text = cJSON_AddObjectToObject(dr, "text");

		cJSON_AddStringToObject(text, "status", "generated");
		cJSON_AddStringToObject(text, "div", div);
	}
	org = cJSON_CreateObject();
	cJSON_AddStringToObject(org, "resourceType", "Organization");
	cJSON_AddStringToObject(org, "id", org_id);
	cJSON_AddStringToObject(org, "name", org_name);
	cJSON_AddItemToArray(cJSON_AddArrayToObject(dr, "contained"), org);
	{
		cJSON *mi = cJSON_AddObjectToObject(dr, "masterIdentifier");

		cJSON_AddStringToObject(mi, "use", "usual");
		cJSON_AddStringToObject(mi, "system", "urn:ietf:rfc:3986");
		cJSON_AddStringToObject(mi, "value", urn);
	}
	cJSON_AddStringToObject(dr, "status", "current");
	cJSON_AddItemToObject(dr, "type", gw_fhir_codeable(
	    gw_fhir_coding(LOINC, PS_CODE, PS_DISPLAY), NULL));
	cJSON_AddItemToArray(cJSON_AddArrayToObject(dr, "category"),
	    gw_fhir_codeable(gw_fhir_coding(PRIORITY_SYSTEM, PRIORITY_CODE,
	    NULL), NULL));
	cJSON_AddItemToObject(dr, "subject", gw_fhir_reference("Patient", pid));
	cJSON_AddStringToObject(dr, "date", now);
	snprintf(org_ref, sizeof(org_ref), "#%s", org_id);
	{
		cJSON *ref = cJSON_CreateObject();

		cJSON_AddStringToObject(ref, "reference", org_ref);
		cJSON_AddItemToArray(cJSON_AddArrayToObject(dr, "author"), ref);
		ref = cJSON_CreateObject();
		cJSON_AddStringToObject(ref, "reference", org_ref);
		cJSON_AddItemToObject(dr, "custodian", ref);
	}
	cJSON_AddStringToObject(dr, "description",
	    "International Patient Summary, assembled from the national"
	    " registry when retrieved");
	content = cJSON_CreateObject();
	att = cJSON_AddObjectToObject(content, "attachment");
	cJSON_AddStringToObject(att, "contentType", "application/fhir+json");
	cJSON_AddStringToObject(att, "url", url);
	cJSON_AddStringToObject(att, "title", "International Patient Summary");
	cJSON_AddItemToObject(content, "format", gw_fhir_coding(FORMAT_SYSTEM,
	    FORMAT_CODE, "PCC IPS"));
	cJSON_AddItemToArray(cJSON_AddArrayToObject(dr, "content"), content);
	free(url);
	return dr;
}

/* --- DocumentReference?patient=&type=&status=&category= ----------------- */

static void
docref_search_permitted(struct gw_req *req)
{
	const char *base = req->worker->server->cfg->public_base_url;
	cJSON *bundle = gw_fhir_bundle_new("searchset"), *link;
	bool hit = false;
	size_t n;
	char *self;

	/* Checked before the patient was loaded: cannot fail now. */
	(void)filters_checked(req, &hit);
	cJSON_AddNumberToObject(bundle, "total", hit);
	/* The search as asked, below our base (the route matched /fhir/). */
	n = strlen(base) + strlen(req->http.target) + 1;
	self = gw_malloc(n);
	snprintf(self, n, "%s%s", base, req->http.target + strlen("/fhir"));
	link = cJSON_CreateObject();
	cJSON_AddStringToObject(link, "relation", "self");
	cJSON_AddStringToObject(link, "url", self);
	cJSON_AddItemToArray(cJSON_AddArrayToObject(bundle, "link"), link);
	free(self);
	if (hit)
		gw_fhir_bundle_add(bundle, base, summary_docref(req), "match");
	gw_req_reply_json(req, 200, bundle, break_glass_header(req));
}

void
gw_handle_docref_search(struct gw_req *req)
{
	static const char *const allowed[] = { "patient", "type", "status",
		"category", NULL };
	const char *patient;
	bool hit;

	if (!gw_flow_only_params(req, allowed) ||
	    filters_checked(req, &hit) != GW_OK)
		return;
	if ((patient = gw_flow_patient_param(req)) == NULL)
		return;
	gw_flow_load_patient(req, patient, docref_search_permitted);
}

/* --- DocumentReference/{id} --------------------------------------------- */

static void
docref_read_permitted(struct gw_req *req)
{
	gw_req_reply_json(req, 200, summary_docref(req),
	    break_glass_header(req));
}

void
gw_handle_docref_read(struct gw_req *req)
{
	static const char *const none[] = { NULL };
	const char *id = req->path_args[0];
	char patient[GW_LOGICAL_ID_MAX];
	size_t n = strlen(id), m = strlen(ID_SUFFIX);

	if (!gw_flow_only_params(req, none))
		return;
	if (!gw_flow_valid_id(id)) {
		gw_req_reply_error(req, 400, "invalid", "malformed id");
		return;
	}
	/* Only the summaries' DocumentReferences exist. */
	if (n <= m || n - m >= sizeof(patient) ||
	    strcmp(id + n - m, ID_SUFFIX) != 0) {
		gw_req_reply_error(req, 404, "not-found", "no such resource");
		return;
	}
	memcpy(patient, id, n - m);
	patient[n - m] = '\0';
	gw_flow_load_patient(req, patient, docref_read_permitted);
}
