/*
 * pseudo.c: turn a mapped FHIR resource into its research-extract form.
 *
 * The rewrite walks the whole tree once, so an element added to a mapping
 * later is handled by its name wherever it sits: identity and free-text
 * elements are removed by name, dates are coarsened by name, references
 * are re-keyed.  Removal is the default for anything that may carry a
 * person's words or whereabouts (every extension goes, valueString goes):
 * an extract that lacks a field can be widened by a reviewed change, one
 * that leaked cannot be recalled.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "adapters/adapter.h"
#include "gateway/gw.h"
#include "gateway/pseudo.h"

/* Removed wherever they appear. */
static const char *const drop_always[] = {
    "name",
    "telecom",
    "address",
    "photo",
    "contact",
    "note",
    "comment",
    "extension",
    "modifierExtension",
    "link",
    "generalPractitioner",
    "managingOrganization",
    "valueString",
    "issued",
    "meta",
    "contained",
    "patientInstruction",
    "identifier",
};

/* Dates by name: these keys, and any key ending in "Date" or
 * "DateTime" (birthDate, onsetDateTime, recordedDate, ...). */
static const char *const date_keys[] = {
    "date",
    "start",
    "end",
    "authoredOn",
    "dateAsserted",
    "lastOccurrence",
    "recorded",
    "occurrenceDateTime",
};

int
gw_pseudo_patient(const unsigned char *secret, size_t secret_len,
    const char *system, const char *national_id, char *out, size_t outsz)
{
	if (secret == NULL || secret_len == 0 || system == NULL ||
	    national_id == NULL || *national_id == '\0')
		return GW_ERR;
	return gw_adapter_token(
	    secret, secret_len, system, national_id, out, outsz);
}

static bool
all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

int
gw_pseudo_date(
    const char *in, enum gw_pseudo_precision precision, char *out, size_t outsz)
{
	size_t n = strlen(in), keep;

	/* YYYY, YYYY-MM, YYYY-MM-DD, YYYY-MM-DDThh:mm:ss[...] */
	if (n < 4 || !all_digits(in, 4))
		return GW_ERR;
	if (n > 4 && (n < 7 || in[4] != '-' || !all_digits(in + 5, 2)))
		return GW_ERR;
	if (n > 7 && (n < 10 || in[7] != '-' || !all_digits(in + 8, 2)))
		return GW_ERR;
	if (n > 10 && in[10] != 'T')
		return GW_ERR;
	keep = precision == GW_PSEUDO_MONTH && n >= 7 ? 7 : 4;
	if (outsz < keep + 1)
		return GW_ERR;
	memcpy(out, in, keep);
	out[keep] = '\0';
	return GW_OK;
}

static bool
in_list(const char *key, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(key, list[i]) == 0)
			return true;
	return false;
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static bool
is_date_key(const char *key)
{
	return in_list(key, date_keys, GW_ARRAY_LEN(date_keys)) ||
	       ends_with(key, "Date") || ends_with(key, "DateTime");
}

/* "Type/id" -> "Type/<re-keyed id>", Patient -> the pseudonym. */
static int
rekey_reference(cJSON *ref, const struct gw_pseudo_ctx *ctx)
{
	char type[64], token[GW_PSEUDONYM_LEN + 1], out[128];
	const char *slash = strchr(ref->valuestring, '/');
	size_t tn;

	if (slash == NULL || slash == ref->valuestring ||
	    (tn = (size_t)(slash - ref->valuestring)) >= sizeof(type) ||
	    strchr(slash + 1, '/') != NULL || slash[1] == '\0')
		return GW_ERR;
	memcpy(type, ref->valuestring, tn);
	type[tn] = '\0';
	if (strcmp(type, "Patient") == 0)
		snprintf(out, sizeof(out), "Patient/%s", ctx->pseudonym);
	else if (gw_adapter_token(ctx->secret, ctx->secret_len, type, slash + 1,
	             token, sizeof(token)) != GW_OK)
		return GW_ERR;
	else
		snprintf(out, sizeof(out), "%s/%s", type, token);
	return cJSON_SetValuestring(ref, out) == NULL ? GW_ERR : GW_OK;
}

static int walk(cJSON *node, const struct gw_pseudo_ctx *ctx);

/* One object: drop, coarsen, re-key its members, then descend. */
static int
walk_object(cJSON *obj, const struct gw_pseudo_ctx *ctx)
{
	bool concept = cJSON_GetObjectItemCaseSensitive(obj, "coding") != NULL;
	bool reference =
	    cJSON_IsString(cJSON_GetObjectItemCaseSensitive(obj, "reference"));
	cJSON *it = obj->child, *next;
	char reduced[8];

	for (; it != NULL; it = next) {
		const char *key = it->string;

		next = it->next;
		if (key == NULL)
			return GW_ERR;
		/* text survives only as a CodeableConcept's label. */
		if (in_list(key, drop_always, GW_ARRAY_LEN(drop_always)) ||
		    (strcmp(key, "text") == 0 && !concept) ||
		    (strcmp(key, "display") == 0 && reference)) {
			cJSON_Delete(cJSON_DetachItemViaPointer(obj, it));
			continue;
		}
		if (strcmp(key, "reference") == 0 && cJSON_IsString(it)) {
			if (rekey_reference(it, ctx) != GW_OK)
				return GW_ERR;
			continue;
		}
		if (cJSON_IsString(it) && is_date_key(key)) {
			/* A date we cannot parse is dropped, not passed on. */
			if (gw_pseudo_date(it->valuestring, ctx->precision,
			        reduced, sizeof(reduced)) != GW_OK)
				cJSON_Delete(
				    cJSON_DetachItemViaPointer(obj, it));
			else if (cJSON_SetValuestring(it, reduced) == NULL)
				return GW_ERR;
			continue;
		}
		if (walk(it, ctx) != GW_OK)
			return GW_ERR;
	}
	return GW_OK;
}

static bool
is_empty(const cJSON *node)
{
	return (cJSON_IsObject(node) || cJSON_IsArray(node)) &&
	       node->child == NULL;
}

/* FHIR JSON has no empty objects or arrays: what removal emptied goes
 * too (a dosage that was only text, a manifestation that was only
 * text). */
static void
prune(cJSON *node)
{
	cJSON *it, *next;

	for (it = node->child; it != NULL; it = next) {
		next = it->next;
		if (cJSON_IsObject(it) || cJSON_IsArray(it))
			prune(it);
		if (is_empty(it))
			cJSON_Delete(cJSON_DetachItemViaPointer(node, it));
	}
}

static int
walk(cJSON *node, const struct gw_pseudo_ctx *ctx)
{
	if (cJSON_IsObject(node))
		return walk_object(node, ctx);
	if (cJSON_IsArray(node))
		for (cJSON *it = node->child; it != NULL; it = it->next)
			if (walk(it, ctx) != GW_OK)
				return GW_ERR;
	return GW_OK;
}

int
gw_pseudo_resource(cJSON *r, const struct gw_pseudo_ctx *ctx)
{
	const cJSON *rt = cJSON_GetObjectItemCaseSensitive(r, "resourceType");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(r, "id");
	char token[GW_PSEUDONYM_LEN + 1], system[160];
	bool patient;
	cJSON *ident;

	if (ctx == NULL || ctx->pseudonym == NULL || ctx->permit_id == NULL ||
	    !cJSON_IsObject(r) || !cJSON_IsString(rt) || !cJSON_IsString(id))
		return GW_ERR;
	patient = strcmp(rt->valuestring, "Patient") == 0;
	if (patient)
		gw_strlcpy(token, ctx->pseudonym, sizeof(token));
	else if (gw_adapter_token(ctx->secret, ctx->secret_len, rt->valuestring,
	             id->valuestring, token, sizeof(token)) != GW_OK)
		return GW_ERR;
	if (walk_object(r, ctx) != GW_OK)
		return GW_ERR;
	prune(r);
	/* The narrative is `text` at the top, gone with the walk; the id is
	 * replaced last so the walk never sees the live one as a date. */
	cJSON_ReplaceItemInObjectCaseSensitive(
	    r, "id", cJSON_CreateString(token));
	if (patient) {
		if ((size_t)snprintf(system, sizeof(system), "%s%s",
		        GW_PSEUDO_SYSTEM_PREFIX,
		        ctx->permit_id) >= sizeof(system))
			return GW_ERR;
		ident = cJSON_CreateObject();
		cJSON_AddStringToObject(ident, "system", system);
		cJSON_AddStringToObject(ident, "value", ctx->pseudonym);
		cJSON_AddItemToArray(
		    cJSON_AddArrayToObject(r, "identifier"), ident);
	}
	return GW_OK;
}
