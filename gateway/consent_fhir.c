/*
 * consent_fhir.c: the FHIR face of consent rules.
 *
 * One Consent is one rule: scope (patient-privacy or treatment -> treatment,
 * research -> research), provision.type (permit/deny), provision.period,
 * provision.purpose (v3 ActReason), provision.actor with role IRCP and an
 * ISO 3166 country identifier (recipient countries), and, on a permit,
 * nested deny provisions carrying security labels (the excluded sensitive
 * categories).  An extension says whether emergency access may override a
 * deny.  Everything else is refused, because a rule we store must be
 * exactly the rule we enforce.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/consent_fhir.h"
#include "gateway/fhir.h"
#include "gateway/gw.h"

#define SCOPE_SYSTEM "http://terminology.hl7.org/CodeSystem/consentscope"
#define REASON_SYSTEM "http://terminology.hl7.org/CodeSystem/v3-ActReason"
#define ACTCODE_SYSTEM "http://terminology.hl7.org/CodeSystem/v3-ActCode"
#define PARTICIPATION_SYSTEM \
	"http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
#define COUNTRY_SYSTEM "urn:iso:std:iso:3166"
#define OVERRIDE_URL "urn:fhirgw:consent:emergency-override"

static const struct {
	const char *label;
	const char *category;
} labels[] = {
	{ "PSY", "mental-health" },
	{ "SEX", "sexual-health" },
	{ "GDIS", "genetic" },
	{ "ETH", "substance-abuse" },
};

const char *
gw_consent_category_of_label(const char *code)
{
	for (size_t i = 0; i < GW_ARRAY_LEN(labels); i++)
		if (strcmp(labels[i].label, code) == 0)
			return labels[i].category;
	return NULL;
}

const char *
gw_consent_label_of_category(const char *category)
{
	for (size_t i = 0; i < GW_ARRAY_LEN(labels); i++)
		if (strcmp(labels[i].category, category) == 0)
			return labels[i].label;
	return NULL;
}

struct parse {
	char *err;
	size_t errsz;
	int status; /* first problem wins */
};

static bool
fail(struct parse *p, int status, const char *fmt, const char *arg)
{
	if (p->status == 0) {
		p->status = status;
		snprintf(p->err, p->errsz, fmt, arg);
	}
	return false;
}

/* Refuse duplicate keys anywhere: cJSON keeps both and finds the first,
 * which would let a client hide a second value from a reviewer. */
static bool
no_duplicates(struct parse *p, const cJSON *node)
{
	for (const cJSON *c = node->child; c != NULL; c = c->next) {
		if (cJSON_IsObject(node))
			for (const cJSON *d = c->next; d != NULL; d = d->next)
				if (strcmp(c->string, d->string) == 0)
					return fail(p, 400,
					    "duplicate JSON key \"%s\"",
					    c->string);
		if (!no_duplicates(p, c))
			return false;
	}
	return true;
}

static bool
only_keys(struct parse *p, const cJSON *obj, const char *where,
    const char *const *known)
{
	char what[160];

	if (!cJSON_IsObject(obj))
		return fail(p, 400, "%s must be a JSON object", where);
	for (const cJSON *c = obj->child; c != NULL; c = c->next) {
		bool ok = false;

		for (size_t i = 0; known[i] != NULL && !ok; i++)
			ok = strcmp(c->string, known[i]) == 0;
		if (!ok) {
			snprintf(what, sizeof(what), "%s.%s", where, c->string);
			return fail(p, 400, "unknown or unsupported element %s",
			    what);
		}
	}
	return true;
}

static const char *
string_at(struct parse *p, const cJSON *obj, const char *key,
    const char *where)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	char what[160];

	if (v == NULL)
		return NULL;
	if (!cJSON_IsString(v) || v->valuestring[0] == '\0') {
		snprintf(what, sizeof(what), "%s.%s", where, key);
		fail(p, 400, "%s must be a non-empty string", what);
		return NULL;
	}
	return v->valuestring;
}

static const cJSON *
array_at(struct parse *p, const cJSON *obj, const char *key,
    const char *where)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	char what[160];

	if (v == NULL)
		return NULL;
	if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0) {
		snprintf(what, sizeof(what), "%s.%s", where, key);
		fail(p, 400, "%s must be a non-empty array", what);
		return NULL;
	}
	return v;
}

static bool
digits(const char *s, int n)
{
	for (int i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static int
num(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

/*
 * A FHIR dateTime we can enforce: YYYY-MM-DD (midnight UTC) or
 * YYYY-MM-DDThh:mm:ss[.fff](Z|+hh:mm|-hh:mm), a real calendar date.
 * Written to out as PostgreSQL timestamptz text.
 */
static bool
parse_datetime(struct parse *p, const char *s, const char *where, char *out,
    size_t outsz)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
		30, 31 };
	size_t n = strlen(s);
	int y, m, d;
	const char *t;

	if (n < 10 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) ||
	    s[7] != '-' || !digits(s + 8, 2))
		return fail(p, 400, "%s is not a FHIR dateTime", where);
	y = num(s, 4);
	m = num(s + 5, 2);
	d = num(s + 8, 2);
	if (y < 1900 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1] ||
	    (m == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 ||
	    y % 400 == 0))))
		return fail(p, 400, "%s is not a calendar date", where);
	if (n == 10) {
		snprintf(out, outsz, "%.10sT00:00:00Z", s);
		return true;
	}
	t = s + 10;
	if (t[0] != 'T' || strlen(t) < 10 || !digits(t + 1, 2) ||
	    t[3] != ':' || !digits(t + 4, 2) || t[6] != ':' ||
	    !digits(t + 7, 2) || num(t + 1, 2) > 23 || num(t + 4, 2) > 59 ||
	    num(t + 7, 2) > 60)
		return fail(p, 400, "%s has an invalid time", where);
	t += 9;
	if (*t == '.') {
		t++;
		if (*t < '0' || *t > '9')
			return fail(p, 400, "%s has invalid fractions", where);
		while (*t >= '0' && *t <= '9')
			t++;
	}
	if (!(strcmp(t, "Z") == 0 || ((t[0] == '+' || t[0] == '-') &&
	    strlen(t) == 6 && digits(t + 1, 2) && t[3] == ':' &&
	    digits(t + 4, 2) && num(t + 1, 2) <= 14 && num(t + 4, 2) <= 59)))
		return fail(p, 400, "%s needs a time zone (Z or +hh:mm)",
		    where);
	if (n >= outsz)
		return fail(p, 400, "%s is too long", where);
	gw_strlcpy(out, s, outsz);
	return true;
}

static bool
coding_is(struct parse *p, const cJSON *coding, const char *where,
    const char *system, const char **code)
{
	static const char *const keys[] = { "system", "code", "display",
		"version", NULL };
	const char *sys;

	if (!only_keys(p, coding, where, keys))
		return false;
	sys = string_at(p, coding, "system", where);
	*code = string_at(p, coding, "code", where);
	if (p->status != 0)
		return false;
	if (sys == NULL || *code == NULL || strcmp(sys, system) != 0)
		return fail(p, 422, "%s must be a Coding from the expected "
		    "system", where);
	return true;
}

static bool
parse_scope(struct parse *p, const cJSON *root, struct gw_consent_input *in)
{
	static const char *const cc_keys[] = { "coding", "text", NULL };
	const cJSON *scope = cJSON_GetObjectItemCaseSensitive(root, "scope");
	const cJSON *codings, *c;
	const char *code;

	if (scope == NULL)
		return fail(p, 400, "%s is required", "Consent.scope");
	if (!only_keys(p, scope, "Consent.scope", cc_keys) ||
	    (codings = array_at(p, scope, "coding", "Consent.scope")) == NULL)
		return fail(p, 400, "%s needs a coding", "Consent.scope");
	c = cJSON_GetArrayItem(codings, 0);
	if (cJSON_GetArraySize(codings) != 1 ||
	    !coding_is(p, c, "Consent.scope.coding", SCOPE_SYSTEM, &code))
		return fail(p, 422, "%s must be one consentscope coding",
		    "Consent.scope");
	if (strcmp(code, "research") == 0)
		in->research = true;
	else if (strcmp(code, "patient-privacy") != 0 &&
	    strcmp(code, "treatment") != 0)
		return fail(p, 422, "scope %s is not supported", code);
	return true;
}

static bool
parse_patient(struct parse *p, const cJSON *root, struct gw_consent_input *in)
{
	static const char *const ref_keys[] = { "reference", "identifier",
		"display", NULL };
	static const char *const id_keys[] = { "system", "value", "use",
		NULL };
	const cJSON *pat = cJSON_GetObjectItemCaseSensitive(root, "patient");
	const cJSON *ident;
	const char *ref;

	if (pat == NULL)
		return fail(p, 400, "%s is required", "Consent.patient");
	if (!only_keys(p, pat, "Consent.patient", ref_keys))
		return false;
	ref = string_at(p, pat, "reference", "Consent.patient");
	ident = cJSON_GetObjectItemCaseSensitive(pat, "identifier");
	if (p->status != 0)
		return false;
	if (ref != NULL) {
		if (strncmp(ref, "Patient/", 8) != 0 || strlen(ref + 8) == 0 ||
		    strlen(ref + 8) >= sizeof(in->patient_ref))
			return fail(p, 422, "%s must be Patient/<id>",
			    "Consent.patient.reference");
		gw_strlcpy(in->patient_ref, ref + 8, sizeof(in->patient_ref));
		return true;
	}
	if (ident != NULL) {
		const char *sys, *val;

		if (!only_keys(p, ident, "Consent.patient.identifier",
			id_keys))
			return false;
		sys = string_at(p, ident, "system",
		    "Consent.patient.identifier");
		val = string_at(p, ident, "value",
		    "Consent.patient.identifier");
		if (sys == NULL || val == NULL ||
		    strlen(sys) >= sizeof(in->patient_system) ||
		    strlen(val) >= sizeof(in->patient_value))
			return fail(p, 400, "%s needs system and value",
			    "Consent.patient.identifier");
		gw_strlcpy(in->patient_system, sys, sizeof(in->patient_system));
		gw_strlcpy(in->patient_value, val, sizeof(in->patient_value));
		return true;
	}
	return fail(p, 422, "%s needs a reference or an identifier",
	    "Consent.patient");
}

static bool
parse_purposes(struct parse *p, const cJSON *prov, struct gw_consent_input *in)
{
	const cJSON *arr = array_at(p, prov, "purpose", "Consent.provision");
	const cJSON *c;

	if (arr == NULL)
		return p->status == 0;
	cJSON_ArrayForEach(c, arr) {
		const char *code;
		enum gw_purpose purpose;

		if (!coding_is(p, c, "Consent.provision.purpose", REASON_SYSTEM,
			&code))
			return false;
		if (gw_purpose_parse(code, &purpose) != GW_OK)
			return fail(p, 422, "purpose %s is not supported",
			    code);
		if (in->npurposes == GW_CONSENT_CODES)
			return fail(p, 422, "%s: too many", "purpose");
		gw_strlcpy(in->purposes[in->npurposes++], code,
		    sizeof(in->purposes[0]));
	}
	return true;
}

static bool
parse_actors(struct parse *p, const cJSON *prov, struct gw_consent_input *in)
{
	static const char *const actor_keys[] = { "role", "reference", NULL };
	static const char *const ref_keys[] = { "identifier", "display",
		NULL };
	static const char *const id_keys[] = { "system", "value", NULL };
	static const char *const cc_keys[] = { "coding", "text", NULL };
	const cJSON *arr = array_at(p, prov, "actor", "Consent.provision");
	const cJSON *a;

	if (arr == NULL)
		return p->status == 0;
	cJSON_ArrayForEach(a, arr) {
		const cJSON *role, *ref, *ident, *codings;
		const char *code, *sys, *val;

		if (!only_keys(p, a, "Consent.provision.actor", actor_keys))
			return false;
		role = cJSON_GetObjectItemCaseSensitive(a, "role");
		ref = cJSON_GetObjectItemCaseSensitive(a, "reference");
		if (role == NULL || ref == NULL)
			return fail(p, 400, "%s needs role and reference",
			    "Consent.provision.actor");
		if (!only_keys(p, role, "Consent.provision.actor.role",
			cc_keys) ||
		    (codings = array_at(p, role, "coding",
			"Consent.provision.actor.role")) == NULL ||
		    !coding_is(p, cJSON_GetArrayItem(codings, 0),
			"Consent.provision.actor.role.coding",
			PARTICIPATION_SYSTEM, &code))
			return fail(p, 422, "%s must be IRCP",
			    "Consent.provision.actor.role");
		if (strcmp(code, "IRCP") != 0)
			return fail(p, 422, "actor role %s is not supported",
			    code);
		if (!only_keys(p, ref, "Consent.provision.actor.reference",
			ref_keys))
			return false;
		ident = cJSON_GetObjectItemCaseSensitive(ref, "identifier");
		if (ident == NULL || !only_keys(p, ident,
			"Consent.provision.actor.reference.identifier",
			id_keys))
			return fail(p, 422, "%s must identify a country",
			    "Consent.provision.actor.reference");
		sys = string_at(p, ident, "system", "actor identifier");
		val = string_at(p, ident, "value", "actor identifier");
		if (sys == NULL || val == NULL || strcmp(sys,
		    COUNTRY_SYSTEM) != 0 || strlen(val) != 2 ||
		    val[0] < 'A' || val[0] > 'Z' || val[1] < 'A' ||
		    val[1] > 'Z')
			return fail(p, 422, "%s must be an ISO 3166 alpha-2 "
			    "country", "Consent.provision.actor");
		if (in->ncountries == GW_CONSENT_CODES)
			return fail(p, 422, "%s: too many", "actor");
		gw_strlcpy(in->countries[in->ncountries++], val,
		    sizeof(in->countries[0]));
	}
	return true;
}

/* Nested provisions: only "deny these sensitive categories" on a permit. */
static bool
parse_exclusions(struct parse *p, const cJSON *prov,
    struct gw_consent_input *in)
{
	static const char *const keys[] = { "type", "securityLabel", NULL };
	const cJSON *arr = array_at(p, prov, "provision", "Consent.provision");
	const cJSON *sub, *label;

	if (arr == NULL)
		return p->status == 0;
	if (!in->permit)
		return fail(p, 422, "%s: nested provisions are only supported "
		    "as exclusions from a permit", "Consent.provision");
	cJSON_ArrayForEach(sub, arr) {
		const char *type;
		const cJSON *labels_arr;

		if (!only_keys(p, sub, "Consent.provision.provision", keys))
			return fail(p, 422, "%s: only type and securityLabel "
			    "are supported", "Consent.provision.provision");
		type = string_at(p, sub, "type", "Consent.provision.provision");
		labels_arr = array_at(p, sub, "securityLabel",
		    "Consent.provision.provision");
		if (type == NULL || strcmp(type, "deny") != 0 ||
		    labels_arr == NULL)
			return fail(p, 422, "%s must be a deny with security "
			    "labels", "Consent.provision.provision");
		cJSON_ArrayForEach(label, labels_arr) {
			const char *code, *cat;

			if (!coding_is(p, label,
				"Consent.provision.provision.securityLabel",
				ACTCODE_SYSTEM, &code))
				return false;
			cat = gw_consent_category_of_label(code);
			if (cat == NULL)
				return fail(p, 422, "security label %s is not "
				    "a supported sensitive category", code);
			if (in->nexcluded == GW_CONSENT_CODES)
				return fail(p, 422, "%s: too many", "labels");
			gw_strlcpy(in->excluded[in->nexcluded++], cat,
			    sizeof(in->excluded[0]));
		}
	}
	return true;
}

static bool
parse_provision(struct parse *p, const cJSON *root,
    struct gw_consent_input *in)
{
	static const char *const keys[] = { "type", "period", "purpose",
		"actor", "provision", NULL };
	static const char *const period_keys[] = { "start", "end", NULL };
	const cJSON *prov = cJSON_GetObjectItemCaseSensitive(root, "provision");
	const cJSON *period;
	const char *type, *s;

	if (prov == NULL)
		return fail(p, 400, "%s is required", "Consent.provision");
	if (!only_keys(p, prov, "Consent.provision", keys))
		return false;
	type = string_at(p, prov, "type", "Consent.provision");
	if (type == NULL)
		return fail(p, 400, "%s is required", "Consent.provision.type");
	if (strcmp(type, "permit") == 0)
		in->permit = true;
	else if (strcmp(type, "deny") != 0)
		return fail(p, 400, "%s must be permit or deny",
		    "Consent.provision.type");
	period = cJSON_GetObjectItemCaseSensitive(prov, "period");
	if (period != NULL) {
		if (!only_keys(p, period, "Consent.provision.period",
			period_keys))
			return false;
		if ((s = string_at(p, period, "start", "period")) != NULL &&
		    !parse_datetime(p, s, "Consent.provision.period.start",
			in->valid_from, sizeof(in->valid_from)))
			return false;
		if ((s = string_at(p, period, "end", "period")) != NULL &&
		    !parse_datetime(p, s, "Consent.provision.period.end",
			in->valid_to, sizeof(in->valid_to)))
			return false;
		if (p->status != 0)
			return false;
	}
	return parse_purposes(p, prov, in) && parse_actors(p, prov, in) &&
	    parse_exclusions(p, prov, in);
}

static bool
parse_extensions(struct parse *p, const cJSON *root,
    struct gw_consent_input *in)
{
	static const char *const keys[] = { "url", "valueBoolean", NULL };
	const cJSON *arr = array_at(p, root, "extension", "Consent");
	const cJSON *e;

	if (arr == NULL)
		return p->status == 0;
	cJSON_ArrayForEach(e, arr) {
		const cJSON *v;
		const char *url;

		if (!only_keys(p, e, "Consent.extension", keys))
			return false;
		url = string_at(p, e, "url", "Consent.extension");
		v = cJSON_GetObjectItemCaseSensitive(e, "valueBoolean");
		if (url == NULL || strcmp(url, OVERRIDE_URL) != 0)
			return fail(p, 422, "extension %s is not supported",
			    url ? url : "without url");
		if (!cJSON_IsBool(v))
			return fail(p, 400, "%s must be a boolean",
			    "Consent.extension.valueBoolean");
		in->emergency_override = cJSON_IsTrue(v);
	}
	return true;
}

int
gw_consent_from_fhir(const char *body, size_t len,
    struct gw_consent_input *in, char *err, size_t errsz)
{
	static const char *const keys[] = { "resourceType", "id", "meta",
		"text", "extension", "status", "scope", "category", "patient",
		"dateTime", "policyRule", "provision", NULL };
	struct parse p = { .err = err, .errsz = errsz };
	cJSON *root = cJSON_ParseWithLength(body, len);
	const char *s;
	const cJSON *cat;

	memset(in, 0, sizeof(*in));
	if (root == NULL) {
		fail(&p, 400, "%s", "body is not valid JSON");
		goto out;
	}
	if (!no_duplicates(&p, root) || !only_keys(&p, root, "Consent", keys))
		goto out;
	s = string_at(&p, root, "resourceType", "Consent");
	if (s == NULL || strcmp(s, "Consent") != 0) {
		fail(&p, 400, "%s", "resourceType must be Consent");
		goto out;
	}
	if ((s = string_at(&p, root, "id", "Consent")) != NULL)
		gw_strlcpy(in->id, s, sizeof(in->id));
	s = string_at(&p, root, "status", "Consent");
	if (s == NULL) {
		fail(&p, 400, "%s is required", "Consent.status");
		goto out;
	}
	if (strcmp(s, "active") != 0) {
		fail(&p, 422, "status %s cannot be stored: write active, "
		    "DELETE to revoke", s);
		goto out;
	}
	cat = cJSON_GetObjectItemCaseSensitive(root, "category");
	if (cat == NULL || !cJSON_IsArray(cat) || cJSON_GetArraySize(cat) == 0) {
		fail(&p, 400, "%s is required (an array)", "Consent.category");
		goto out;
	}
	if ((s = string_at(&p, root, "dateTime", "Consent")) != NULL) {
		char scratch[40];

		parse_datetime(&p, s, "Consent.dateTime", scratch,
		    sizeof(scratch));
	}
	if (p.status != 0)
		goto out;
	if (!parse_scope(&p, root, in) || !parse_patient(&p, root, in) ||
	    !parse_provision(&p, root, in) || !parse_extensions(&p, root, in))
		goto out;
out:
	cJSON_Delete(root);
	return p.status;
}

void
gw_consent_array_literal(const char *codes, size_t w, int n, char *out,
    size_t outsz)
{
	size_t used = 0;

	used += (size_t)snprintf(out, outsz, "{");
	for (int i = 0; i < n && used < outsz; i++)
		used += (size_t)snprintf(out + used, outsz - used, "%s%s",
		    i ? "," : "", codes + (size_t)i * w);
	if (used < outsz)
		snprintf(out + used, outsz - used, "}");
}

/* Call fn for each item of a comma-separated list. */
static void
each_code(const char *list, void (*fn)(cJSON *, const char *), cJSON *dst)
{
	char buf[256], *p = buf;

	gw_strlcpy(buf, list, sizeof(buf));
	while (*p != '\0') {
		char *comma = strchr(p, ',');

		if (comma != NULL)
			*comma = '\0';
		if (*p != '\0')
			fn(dst, p);
		if (comma == NULL)
			break;
		p = comma + 1;
	}
}

static void
add_purpose(cJSON *arr, const char *code)
{
	cJSON_AddItemToArray(arr, gw_fhir_coding(REASON_SYSTEM, code, NULL));
}

static void
add_actor(cJSON *arr, const char *country)
{
	cJSON *actor = cJSON_CreateObject(), *ref, *ident;

	cJSON_AddItemToObject(actor, "role", gw_fhir_codeable(
	    gw_fhir_coding(PARTICIPATION_SYSTEM, "IRCP", "information "
	    "recipient"), NULL));
	ref = cJSON_AddObjectToObject(actor, "reference");
	ident = cJSON_AddObjectToObject(ref, "identifier");
	cJSON_AddStringToObject(ident, "system", COUNTRY_SYSTEM);
	cJSON_AddStringToObject(ident, "value", country);
	cJSON_AddItemToArray(arr, actor);
}

static void
add_label(cJSON *arr, const char *category)
{
	const char *label = gw_consent_label_of_category(category);

	if (label != NULL)
		cJSON_AddItemToArray(arr, gw_fhir_coding(ACTCODE_SYSTEM,
		    label, category));
}

cJSON *
gw_consent_to_fhir(const PGresult *res, int row)
{
#define COL(i) PQgetvalue(res, row, (i))
	cJSON *c = cJSON_CreateObject(), *meta, *prov, *ident, *pat;
	bool permit = strcmp(COL(4), "permit") == 0;
	bool revoked = !PQgetisnull(res, row, 12);

	cJSON_AddStringToObject(c, "resourceType", "Consent");
	cJSON_AddStringToObject(c, "id", COL(0));
	meta = cJSON_AddObjectToObject(c, "meta");
	cJSON_AddStringToObject(meta, "lastUpdated", revoked ? COL(12) : COL(11));
	if (strcmp(COL(10), "true") == 0) {
		cJSON *ext = cJSON_AddArrayToObject(c, "extension");
		cJSON *e = cJSON_CreateObject();

		cJSON_AddStringToObject(e, "url", OVERRIDE_URL);
		cJSON_AddBoolToObject(e, "valueBoolean", 1);
		cJSON_AddItemToArray(ext, e);
	}
	cJSON_AddStringToObject(c, "status", revoked ? "inactive" : "active");
	cJSON_AddItemToObject(c, "scope", gw_fhir_codeable(gw_fhir_coding(
	    SCOPE_SYSTEM, strcmp(COL(3), "research") == 0 ? "research" :
	    "patient-privacy", NULL), NULL));
	cJSON_AddItemToArray(cJSON_AddArrayToObject(c, "category"),
	    gw_fhir_codeable(gw_fhir_coding("http://loinc.org", "59284-0",
	    "Patient Consent"), NULL));
	pat = cJSON_AddObjectToObject(c, "patient");
	ident = cJSON_AddObjectToObject(pat, "identifier");
	cJSON_AddStringToObject(ident, "system", COL(1));
	cJSON_AddStringToObject(ident, "value", COL(2));
	cJSON_AddStringToObject(c, "dateTime", COL(11));
	cJSON_AddItemToObject(c, "policyRule", gw_fhir_codeable(gw_fhir_coding(
	    ACTCODE_SYSTEM, permit ? "OPTIN" : "OPTOUT", NULL), NULL));
	prov = cJSON_AddObjectToObject(c, "provision");
	cJSON_AddStringToObject(prov, "type", permit ? "permit" : "deny");
	if (!PQgetisnull(res, row, 8) || !PQgetisnull(res, row, 9)) {
		cJSON *period = cJSON_AddObjectToObject(prov, "period");

		if (!PQgetisnull(res, row, 8))
			cJSON_AddStringToObject(period, "start", COL(8));
		if (!PQgetisnull(res, row, 9))
			cJSON_AddStringToObject(period, "end", COL(9));
	}
	if (COL(6)[0] != '\0')
		each_code(COL(6), add_actor, cJSON_AddArrayToObject(prov,
		    "actor"));
	if (COL(5)[0] != '\0')
		each_code(COL(5), add_purpose, cJSON_AddArrayToObject(prov,
		    "purpose"));
	if (permit && COL(7)[0] != '\0') {
		cJSON *subs = cJSON_AddArrayToObject(prov, "provision");
		cJSON *sub = cJSON_CreateObject();

		cJSON_AddStringToObject(sub, "type", "deny");
		each_code(COL(7), add_label, cJSON_AddArrayToObject(sub,
		    "securityLabel"));
		cJSON_AddItemToArray(subs, sub);
	}
	return c;
#undef COL
}
