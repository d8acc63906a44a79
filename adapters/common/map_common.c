/*
 * map_common.c: FHIR R4 resources from fields a country adapter has
 * already read out of its registry row (see map_common.h).  One builder
 * per resource type, close to the IPS 2.0 profiles; each clinical builder
 * first checks that the row belongs to the patient of the request (a row
 * of someone else never goes out under this patient) and refuses values
 * that would make invalid FHIR.  Native dates are copied when they are
 * FHIR dates; timestamps are rewritten in UTC so that any session time
 * zone yields a valid dateTime.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/adapter.h"
#include "adapters/common/category.h"
#include "adapters/common/civil.h"
#include "adapters/common/map_common.h"
#include "adapters/common/terminology.h"
#include "gateway/gw.h"

#define EXT_TRANSLATION "http://hl7.org/fhir/StructureDefinition/translation"

/* ---- reading native fields ---- */

/* s is a number as RFC 8259 writes one: -?(0|[1-9][0-9]*)(.[0-9]+)?
 * ([eE][+-]?[0-9]+)?, which is also how PostgreSQL writes every finite
 * value of its number types. */
static bool
json_number(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (*s >= '0' && *s <= '9')
			s++;
	else
		return false;
	if (*s == '.') {
		if (*++s < '0' || *s > '9')
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (*s < '0' || *s > '9')
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return *s == '\0';
}

const char *
gw_map_str(const struct gw_row *doc, const char *name)
{
	const struct gw_row_field *v = gw_row_get(doc, name);

	if (v == NULL || v->kind != GW_ROW_TEXT || v->text[0] == '\0')
		return NULL;
	return v->text;
}

bool
gw_map_num(const struct gw_row *doc, const char *name, double *out)
{
	const struct gw_row_field *v = gw_row_get(doc, name);
	double d;

	/* A number column's text (integer, numeric, double precision) in
	 * the strict JSON form only, so "NaN", "Infinity", " 1" or "0x10"
	 * are refused rather than read; one too large for a double is not
	 * finite. */
	if (v == NULL || v->kind != GW_ROW_TEXT || !json_number(v->text))
		return false;
	d = strtod(v->text, NULL);
	if (!isfinite(d))
		return false;
	*out = d;
	return true;
}

int
gw_map_key(const struct gw_row *doc, const char *name, long long *out)
{
	const struct gw_row_field *f = gw_row_get(doc, name);
	const char *p;
	long long k = 0;
	double v;

	if (f == NULL || f->kind != GW_ROW_TEXT)
		return GW_ERR;
	/* Every row has two keys, and PostgreSQL writes a bigint as plain
	 * digits: those are read here, not by strtod (2 % of a $summary's
	 * instructions).  Sixteen digits reach past 2^53; any other form
	 * ("1e3", "12.0") takes the general path below. */
	for (p = f->text; *p >= '0' && *p <= '9' && p - f->text < 16; p++)
		k = k * 10 + (*p - '0');
	if (*p == '\0' && p != f->text) {
		if (k < 1 || k > 9007199254740992LL)
			return GW_ERR;
		*out = k;
		return GW_OK;
	}
	if (!gw_map_num(doc, name, &v) || v < 1 || v > 9007199254740992.0 ||
	    v != (double)(long long)v)
		return GW_ERR;
	*out = (long long)v;
	return GW_OK;
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

/* Parse "YYYY-MM-DD" at s (a valid date, year 0001-9999); GW_OK/GW_ERR. */
static int
parse_date(const char *s, long *y, int *m, int *d)
{
	if (!digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' ||
	    !digits(s + 8, 2))
		return GW_ERR;
	*y = num(s, 4);
	*m = num(s + 5, 2);
	*d = num(s + 8, 2);
	if (*y < 1 || !gw_civil_valid(*y, *m, *d))
		return GW_ERR;
	return GW_OK;
}

/* A native date "YYYY-MM-DD" copied as a FHIR date into out[11]. */
static int
fhir_date(const char *in, char out[11])
{
	long y;
	int m, d;

	if (in == NULL || strlen(in) != 10 || parse_date(in, &y, &m, &d))
		return GW_ERR;
	memcpy(out, in, 10);
	out[10] = '\0';
	return GW_OK;
}

int
gw_map_datetime(const char *in, char *out, size_t outsz)
{
	const char *p, *frac = NULL;
	char *o;
	size_t fraclen = 0;
	long y, days, secs, off = 0;
	int m, d, hh, mi, ss;

	if (in == NULL)
		return GW_ERR;
	if (strlen(in) == 10) {
		if (outsz < 11)
			return GW_ERR;
		return fhir_date(in, out);
	}
	if (parse_date(in, &y, &m, &d) != GW_OK ||
	    (in[10] != 'T' && in[10] != ' ') || !digits(in + 11, 2) ||
	    in[13] != ':' || !digits(in + 14, 2) || in[16] != ':' ||
	    !digits(in + 17, 2))
		return GW_ERR;
	hh = num(in + 11, 2);
	mi = num(in + 14, 2);
	ss = num(in + 17, 2);
	if (hh > 23 || mi > 59 || ss > 59)
		return GW_ERR;
	p = in + 19;
	if (*p == '.') {
		frac = ++p;
		while (*p >= '0' && *p <= '9')
			p++;
		fraclen = (size_t)(p - frac);
		if (fraclen == 0 || fraclen > 9)
			return GW_ERR;
	}
	if (*p == 'Z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1;

		p++;
		if (!digits(p, 2))
			return GW_ERR;
		off = num(p, 2) * 3600L;
		p += 2;
		if (*p == ':' && digits(p + 1, 2)) {
			off += num(p + 1, 2) * 60L;
			p += 3;
			if (*p == ':' && digits(p + 1, 2)) {
				off += num(p + 1, 2);
				p += 3;
			}
		}
		off *= sign;
	} else {
		return GW_ERR;
	}
	if (*p != '\0')
		return GW_ERR;
	secs = hh * 3600L + mi * 60L + ss - off;
	days = gw_civil_days(y, m, d) +
	       (secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400));
	secs -= (days - gw_civil_days(y, m, d)) * 86400;
	gw_civil_from_days(days, &y, &m, &d);
	if (y < 1 || y > 9999)
		return GW_ERR;
	/* "YYYY-MM-DDThh:mm:ss[.f]Z": formatted by hand, as this runs for
	 * every dated row of every answer. */
	if (outsz < 21 + (fraclen ? 1 + fraclen : 0))
		return GW_ERR;
	o = gw_fmt_digits(out, (unsigned long long)y, 4);
	*o++ = '-';
	o = gw_fmt_digits(o, (unsigned long long)m, 2);
	*o++ = '-';
	o = gw_fmt_digits(o, (unsigned long long)d, 2);
	*o++ = 'T';
	o = gw_fmt_digits(o, (unsigned long long)(secs / 3600), 2);
	*o++ = ':';
	o = gw_fmt_digits(o, (unsigned long long)(secs / 60 % 60), 2);
	*o++ = ':';
	o = gw_fmt_digits(o, (unsigned long long)(secs % 60), 2);
	if (fraclen) {
		*o++ = '.';
		memcpy(o, frac, fraclen);
		o += fraclen;
	}
	*o++ = 'Z';
	*o = '\0';
	return GW_OK;
}

/* Add a date or dateTime member converted from a native value, when the
 * value is present; GW_ERR if present but not convertible. */
static int
add_datetime(cJSON *obj, const char *name, const char *in)
{
	char buf[GW_MAP_DATETIME_MAX];

	if (in == NULL || in[0] == '\0')
		return GW_OK;
	if (gw_map_datetime(in, buf, sizeof(buf)) != GW_OK)
		return GW_ERR;
	/* name is a literal at every call (GW_JSON_ADD's rule). */
	gw_json_add_const(obj, name, cJSON_CreateString(buf));
	return GW_OK;
}

bool
gw_map_is_atc(const char *code)
{
	return code != NULL && strlen(code) == 7 && code[0] >= 'A' &&
	       code[0] <= 'Z' && digits(code + 1, 2) && code[3] >= 'A' &&
	       code[3] <= 'Z' && code[4] >= 'A' && code[4] <= 'Z' &&
	       digits(code + 5, 2);
}

bool
gw_map_is_sctid(const char *code)
{
	size_t n = code != NULL ? strlen(code) : 0;

	return n >= 6 && n <= 18 && code[0] != '0' && digits(code, (int)n);
}

bool
gw_map_is_token(const char *s)
{
	if (s == NULL || *s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '2' && *s <= '7')))
			return false;
	return true;
}

const char *
gw_map_word(const struct gw_map_word *words, const char *native)
{
	if (native == NULL)
		return NULL;
	for (; words->native != NULL; words++)
		if (strcmp(words->native, native) == 0)
			return words->fhir;
	return NULL;
}

int
gw_map_identity(const struct gw_adapter *a, const struct gw_row *doc,
    const char *token_field, const char *national_field, const char *system,
    struct gw_patient *p)
{
	const char *token = gw_map_str(doc, token_field);
	const char *national = gw_map_str(doc, national_field);
	long long key;

	memset(p, 0, sizeof(*p));
	if (a == NULL || token == NULL || national == NULL || system == NULL ||
	    gw_map_key(doc, "id", &key) != GW_OK)
		goto err;
	p->adapter = a;
	if (gw_concat(p->logical_id, sizeof(p->logical_id), a->id_prefix, "-",
		token, (char *)NULL) != GW_OK)
		goto err;
	if (gw_strlcpy(p->system, system, sizeof(p->system)) != GW_OK ||
	    gw_strlcpy(p->national_id, national, sizeof(p->national_id)) !=
	        GW_OK)
		goto err;
	_Static_assert(sizeof(p->registry_key) >= GW_INT_TEXT,
	    "a registry key holds any long long");
	gw_fmt_int(p->registry_key, key);
	return GW_OK;
err:
	memset(p, 0, sizeof(*p));
	return GW_ERR;
}

int
gw_map_row_read(const struct gw_row *doc, const char *prefix, const char *owner_field,
    const char *changed_field, struct gw_map_row *row)
{
	memset(row, 0, sizeof(*row));
	row->prefix = prefix;
	row->changed = gw_map_str(doc, changed_field);
	if (gw_map_key(doc, "id", &row->id) != GW_OK ||
	    gw_map_key(doc, owner_field, &row->owner) != GW_OK)
		return GW_ERR;
	return GW_OK;
}

/* ---- building blocks ---- */

/* {"resourceType": type, "id": id, "meta": {"lastUpdated": changed,
 * "profile": [profile]}}; lastUpdated only for a changed that is a
 * timestamp (an instant needs the time). */
static cJSON *
resource_new(const char *type, const char *id, const char *profile,
    const char *changed)
{
	cJSON *r = cJSON_CreateObject();
	cJSON *meta, *profiles;
	char instant[40];

	GW_JSON_ADD_STRING(r, "resourceType", type);
	GW_JSON_ADD_STRING(r, "id", id);
	meta = GW_JSON_ADD_OBJECT(r, "meta");
	if (changed != NULL && strlen(changed) > 10 &&
	    gw_map_datetime(changed, instant, sizeof(instant)) == GW_OK)
		GW_JSON_ADD_STRING(meta, "lastUpdated", instant);
	profiles = GW_JSON_ADD_ARRAY(meta, "profile");
	cJSON_AddItemToArray(profiles, cJSON_CreateString(profile));
	return r;
}

/* A status CodeableConcept from an HL7 terminology code system. */
static cJSON *
status_concept(const char *codesystem, const char *code)
{
	char system[128];

	gw_concat(system, sizeof(system), GW_TERMINOLOGY, codesystem, NULL);
	return gw_fhir_codeable(gw_fhir_coding(system, code, NULL), NULL);
}

/* Append coding to concept.coding (creating the array). */
static void
add_coding(cJSON *concept, cJSON *coding)
{
	cJSON *arr = cJSON_GetObjectItemCaseSensitive(concept, "coding");

	if (arr == NULL)
		arr = GW_JSON_ADD_ARRAY(concept, "coding");
	cJSON_AddItemToArray(arr, coding);
}

/* Add one translation to concept: appended with its English display,
 * unless the concept already has a coding of that system (the registry's
 * own LOINC, or the same translation reached from a second national
 * coding): the same code then gets the display if it has none, and a
 * different code is left as the registry wrote it. */
static void
add_translation(cJSON *concept, const struct gw_term_target *tg)
{
	cJSON *arr = cJSON_GetObjectItemCaseSensitive(concept, "coding");
	cJSON *c;

	cJSON_ArrayForEach(c, arr)
	{
		const char *system = cJSON_GetStringValue(
		    cJSON_GetObjectItemCaseSensitive(c, "system"));
		const char *code = cJSON_GetStringValue(
		    cJSON_GetObjectItemCaseSensitive(c, "code"));

		if (system == NULL || strcmp(system, tg->system) != 0)
			continue;
		if (code != NULL && strcmp(code, tg->code) == 0 &&
		    cJSON_GetObjectItemCaseSensitive(c, "display") == NULL)
			GW_JSON_ADD_STRING(c, "display", tg->display);
		return;
	}
	add_coding(concept, gw_fhir_coding(tg->system, tg->code, tg->display));
}

/*
 * Translate the national codings of concept (the n codings, system NULL
 * ends them early) for element with the installed maps
 * (profiles/terminology): every translation is added beside the original
 * codings.  A concept with a coding of a mapped system and no translation
 * at all stays as it is and is counted once, under the first such system.
 */
static void
translate(cJSON *concept, enum gw_term_element element,
    const struct gw_map_coding *codings, int n)
{
	const struct gw_terminology *t = gw_terminology_installed();
	bool translated = false;
	int unmapped = -1;

	if (t == NULL)
		return;
	for (int i = 0; i < n && codings[i].system != NULL; i++) {
		const struct gw_term_target *tg;
		int src, k;

		k = gw_terminology_lookup(
		    t, element, codings[i].system, codings[i].code, &tg, &src);
		if (k == 0 && unmapped < 0)
			unmapped = src;
		for (int j = 0; j < k; j++)
			add_translation(concept, &tg[j]);
		translated = translated || k > 0;
	}
	if (!translated && unmapped >= 0)
		gw_terminology_count_unmapped(t, unmapped);
}

/* A UCUM Quantity. */
static cJSON *
quantity(double value, const char *ucum)
{
	cJSON *q = cJSON_CreateObject();

	GW_JSON_ADD_NUMBER(q, "value", value);
	GW_JSON_ADD_STRING(q, "unit", ucum);
	GW_JSON_ADD_STRING(q, "system", GW_SYSTEM_UCUM);
	GW_JSON_ADD_STRING(q, "code", ucum);
	return q;
}

/*
 * The frame of a clinical resource: the row must belong to ctx's patient.
 * Writes "<prefix>-<id>" into id and returns the owner's logical id, or
 * NULL.
 */
static const char *
clinical_frame(const struct gw_map_row *row, const struct gw_map_ctx *ctx,
    char *id, size_t idsz)
{
	const struct gw_patient *p;
	char key[GW_INT_TEXT], num[GW_INT_TEXT];

	if (ctx == NULL || (p = ctx->patient) == NULL ||
	    p->logical_id[0] == '\0' || row->prefix == NULL || row->id < 1 ||
	    row->owner < 1)
		return NULL;
	/* A row of someone else must never go out under this patient. */
	gw_fmt_int(key, row->owner);
	if (p->registry_key[0] != '\0' && strcmp(key, p->registry_key) != 0)
		return NULL;
	gw_fmt_int(num, row->id);
	if (gw_concat(id, idsz, row->prefix, "-", num, NULL) != GW_OK)
		return NULL;
	return p->logical_id;
}

/* ---- Patient ---- */

/* Split space-separated given names into a "given" array. */
static void
add_given(cJSON *name, const char *names)
{
	cJSON *given = GW_JSON_ADD_ARRAY(name, "given");
	const char *p = names;

	while (*p != '\0') {
		const char *end;
		char *one;

		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		end = strchr(p, ' ');
		if (end == NULL)
			end = p + strlen(p);
		one = gw_strndup(p, (size_t)(end - p));
		cJSON_AddItemToArray(given, cJSON_CreateString(one));
		gw_free_zero(one, (size_t)(end - p) + 1);
		p = end;
	}
}

static cJSON *
coding_extension(const char *url, const struct gw_map_coding *c, bool display)
{
	cJSON *ext = cJSON_CreateObject();

	GW_JSON_ADD_STRING(ext, "url", url);
	GW_JSON_ADD(ext, "valueCoding",
	    gw_fhir_coding(c->system, c->code, display ? c->display : NULL));
	return ext;
}

static cJSON *
translation_extension(const char *lang, const char *content)
{
	cJSON *ext = cJSON_CreateObject();
	cJSON *parts = cJSON_CreateArray();
	cJSON *part;

	GW_JSON_ADD_STRING(ext, "url", EXT_TRANSLATION);
	part = cJSON_CreateObject();
	GW_JSON_ADD_STRING(part, "url", "lang");
	GW_JSON_ADD_STRING(part, "valueCode", lang);
	cJSON_AddItemToArray(parts, part);
	part = cJSON_CreateObject();
	GW_JSON_ADD_STRING(part, "url", "content");
	GW_JSON_ADD_STRING(part, "valueString", content);
	cJSON_AddItemToArray(parts, part);
	GW_JSON_ADD(ext, "extension", parts);
	return ext;
}

/* The home address, or NULL when the registry has none.  Takes
 * p->address_extension in every case. */
static cJSON *
patient_address(const struct gw_map_patient *p)
{
	cJSON *ext = p->address_extension, *obj, *arr;
	bool district = p->municipality_at == GW_MUNI_DISTRICT &&
	                p->municipality.display != NULL;

	if (p->line == NULL && p->postal == NULL && p->city == NULL &&
	    !district) {
		cJSON_Delete(ext);
		return NULL;
	}
	obj = cJSON_CreateObject();
	if (ext != NULL)
		cJSON_AddItemToArray(
		    GW_JSON_ADD_ARRAY(obj, "extension"), ext);
	GW_JSON_ADD_STRING(obj, "use", "home");
	if (p->line != NULL)
		cJSON_AddItemToArray(GW_JSON_ADD_ARRAY(obj, "line"),
		    cJSON_CreateString(p->line));
	GW_FHIR_ADD_STRING(obj, "city", p->city);
	if (district) {
		GW_JSON_ADD_STRING(
		    obj, "district", p->municipality.display);
		arr = cJSON_CreateArray();
		if (p->municipality_url != NULL &&
		    p->municipality.system != NULL &&
		    p->municipality.code != NULL)
			cJSON_AddItemToArray(
			    arr, coding_extension(p->municipality_url,
			             &p->municipality, false));
		if (p->district_lang != NULL && p->district_translation != NULL)
			cJSON_AddItemToArray(
			    arr, translation_extension(p->district_lang,
			             p->district_translation));
		if (cJSON_GetArraySize(arr) > 0)
			GW_JSON_ADD(
			    GW_JSON_ADD_OBJECT(obj, "_district"),
			    "extension", arr);
		else
			cJSON_Delete(arr);
	}
	GW_FHIR_ADD_STRING(obj, "postalCode", p->postal);
	GW_FHIR_ADD_STRING(obj, "country", p->address_country);
	return obj;
}

cJSON *
gw_map_patient(const struct gw_map_patient *p)
{
	char id[GW_LOGICAL_ID_MAX], text[256];
	cJSON *r, *arr, *obj, *name, *address;

	if (p->id_system == NULL || p->id_value == NULL ||
	    !gw_map_is_token(p->token) || p->prefix == NULL ||
	    p->profile == NULL) {
		cJSON_Delete(p->address_extension);
		return NULL;
	}
	if (gw_concat(id, sizeof(id), p->prefix, "-", p->token,
		(char *)NULL) != GW_OK || strlen(id) > 64) {
		cJSON_Delete(p->address_extension);
		return NULL;
	}
	r = resource_new("Patient", id, p->profile, p->changed);

	if (p->municipality_at == GW_MUNI_EXTENSION &&
	    p->municipality.code != NULL && p->municipality_url != NULL)
		cJSON_AddItemToArray(GW_JSON_ADD_ARRAY(r, "extension"),
		    coding_extension(
		        p->municipality_url, &p->municipality, true));

	arr = GW_JSON_ADD_ARRAY(r, "identifier");
	obj = cJSON_CreateObject();
	GW_JSON_ADD_STRING(obj, "use", "official");
	if (p->id_type != NULL)
		GW_JSON_ADD(obj, "type",
		    gw_fhir_codeable(gw_fhir_coding(GW_TERMINOLOGY "v2-0203",
		                         p->id_type, NULL),
		        NULL));
	GW_JSON_ADD_STRING(obj, "system", p->id_system);
	GW_JSON_ADD_STRING(obj, "value", p->id_value);
	cJSON_AddItemToArray(arr, obj);

	GW_JSON_ADD(r, "active", cJSON_CreateTrue());

	if (p->family != NULL || p->given != NULL) {
		arr = GW_JSON_ADD_ARRAY(r, "name");
		name = cJSON_CreateObject();
		GW_JSON_ADD_STRING(name, "use", "official");
		gw_concat(text, sizeof(text), p->given ? p->given : "",
		    p->given && p->family ? " " : "",
		    p->family ? p->family : "", NULL);
		GW_JSON_ADD_STRING(name, "text", text);
		GW_FHIR_ADD_STRING(name, "family", p->family);
		if (p->given != NULL)
			add_given(name, p->given);
		cJSON_AddItemToArray(arr, name);
		if (p->nickname != NULL) {
			name = cJSON_CreateObject();
			GW_JSON_ADD_STRING(name, "use", "usual");
			GW_FHIR_ADD_STRING(name, "family", p->family);
			add_given(name, p->nickname);
			cJSON_AddItemToArray(arr, name);
		}
	}

	if (p->phone != NULL) {
		obj = cJSON_CreateObject();
		GW_JSON_ADD_STRING(obj, "system", "phone");
		GW_JSON_ADD_STRING(obj, "value", p->phone);
		cJSON_AddItemToArray(GW_JSON_ADD_ARRAY(r, "telecom"), obj);
	}

	GW_FHIR_ADD_STRING(r, "gender", p->gender);
	if (add_datetime(r, "birthDate", p->birth_date) != GW_OK ||
	    cJSON_GetObjectItemCaseSensitive(r, "birthDate") == NULL)
		goto err;
	if (add_datetime(r, "deceasedDateTime", p->deceased) != GW_OK)
		goto err;

	if ((address = patient_address(p)) != NULL)
		cJSON_AddItemToArray(
		    GW_JSON_ADD_ARRAY(r, "address"), address);

	if (p->language != NULL) {
		obj = cJSON_CreateObject();
		GW_JSON_ADD(obj, "language",
		    gw_fhir_codeable(
		        gw_fhir_coding(GW_SYSTEM_BCP47, p->language, NULL),
		        NULL));
		cJSON_AddItemToArray(
		    GW_JSON_ADD_ARRAY(r, "communication"), obj);
	}
	return r;
err:
	cJSON_Delete(p->address_extension);
	cJSON_Delete(r);
	return NULL;
}

/* ---- Condition ---- */

cJSON *
gw_map_condition(const struct gw_map_condition *c, const struct gw_map_ctx *ctx,
    const char **category)
{
	const char *subject, *cat = NULL;
	char id[GW_LOGICAL_ID_MAX];
	cJSON *r, *concept;

	if ((subject = clinical_frame(&c->row, ctx, id, sizeof(id))) == NULL ||
	    c->clinical_status == NULL || c->code[0].system == NULL ||
	    c->code[0].code == NULL)
		return NULL;
	r = resource_new("Condition", id, GW_IPS_PROFILE("Condition-uv-ips"),
	    c->row.changed);
	GW_JSON_ADD(r, "clinicalStatus",
	    status_concept("condition-clinical", c->clinical_status));
	GW_JSON_ADD(r, "verificationStatus",
	    status_concept("condition-ver-status", "confirmed"));
	cJSON_AddItemToArray(GW_JSON_ADD_ARRAY(r, "category"),
	    gw_fhir_codeable(gw_fhir_coding(GW_TERMINOLOGY "condition-category",
	                         "problem-list-item", "Problem List Item"),
	        NULL));
	concept = gw_fhir_codeable(gw_fhir_coding(c->code[0].system,
	                               c->code[0].code, c->code[0].display),
	    c->text);
	for (int i = 1; i < GW_MAP_CODINGS && c->code[i].system != NULL; i++)
		if (c->code[i].code != NULL)
			add_coding(
			    concept, gw_fhir_coding(c->code[i].system,
			                 c->code[i].code, c->code[i].display));
	translate(concept, GW_TERM_CONDITION, c->code, GW_MAP_CODINGS);
	GW_JSON_ADD(r, "code", concept);
	GW_JSON_ADD(
	    r, "subject", gw_fhir_reference("Patient", subject));
	if (add_datetime(r, "onsetDateTime", c->onset) != GW_OK ||
	    add_datetime(r, "recordedDate", c->recorded) != GW_OK) {
		cJSON_Delete(r);
		return NULL;
	}
	/* Every coding is looked at: a sensitive code in any system makes the
	 * record sensitive (fail secure). */
	for (int i = 0;
	     i < GW_MAP_CODINGS && c->code[i].system != NULL && cat == NULL;
	     i++)
		cat = gw_category_of_coding(c->code[i].system, c->code[i].code);
	if (category != NULL)
		*category = cat;
	return r;
}

/* ---- MedicationStatement ---- */

cJSON *
gw_map_medication(
    const struct gw_map_medication *m, const struct gw_map_ctx *ctx)
{
	const char *subject;
	char id[GW_LOGICAL_ID_MAX], text[256];
	cJSON *r, *med, *period;

	if ((subject = clinical_frame(&m->row, ctx, id, sizeof(id))) == NULL ||
	    !gw_map_is_atc(m->atc) || m->status == NULL)
		return NULL;
	gw_concat(text, sizeof(text), m->product ? m->product : m->atc,
	    m->strength ? " " : "", m->strength ? m->strength : "", NULL);
	r = resource_new("MedicationStatement", id,
	    GW_IPS_PROFILE("MedicationStatement-uv-ips"), m->row.changed);
	GW_JSON_ADD_STRING(r, "status", m->status);
	med =
	    gw_fhir_codeable(gw_fhir_coding(GW_SYSTEM_ATC, m->atc, NULL), text);
	if (m->product_system != NULL && m->product_code != NULL)
		add_coding(med,
		    gw_fhir_coding(m->product_system, m->product_code, text));
	GW_JSON_ADD(r, "medicationCodeableConcept", med);
	GW_JSON_ADD(
	    r, "subject", gw_fhir_reference("Patient", subject));
	period = GW_JSON_ADD_OBJECT(r, "effectivePeriod");
	if (add_datetime(period, "start", m->start) != GW_OK ||
	    add_datetime(period, "end", m->end) != GW_OK ||
	    cJSON_GetObjectItemCaseSensitive(period, "start") == NULL) {
		cJSON_Delete(r);
		return NULL;
	}
	if (m->dosage != NULL) {
		cJSON *dosage = cJSON_CreateObject();

		GW_JSON_ADD_STRING(dosage, "text", m->dosage);
		cJSON_AddItemToArray(
		    GW_JSON_ADD_ARRAY(r, "dosage"), dosage);
	}
	return r;
}

/* ---- AllergyIntolerance ---- */

cJSON *
gw_map_allergy(const struct gw_map_allergy *a, const struct gw_map_ctx *ctx)
{
	const char *subject;
	char id[GW_LOGICAL_ID_MAX];
	cJSON *r, *concept;
	bool medicine;

	if ((subject = clinical_frame(&a->row, ctx, id, sizeof(id))) == NULL ||
	    a->code == NULL)
		return NULL;
	/* A medicine is named by its ATC code, anything else by SNOMED CT. */
	medicine = gw_map_is_atc(a->code);
	if (medicine)
	concept = gw_fhir_codeable(
	    gw_fhir_coding(GW_SYSTEM_ATC, a->code, a->agent), a->agent);
	else if (gw_map_is_sctid(a->code)) concept = gw_fhir_codeable(
	    gw_fhir_coding(GW_SYSTEM_SNOMED, a->code, NULL), a->agent);
	else return NULL;
	translate(concept, GW_TERM_ALLERGY,
	    &(struct gw_map_coding){
	        medicine ? GW_SYSTEM_ATC : GW_SYSTEM_SNOMED, a->code, a->agent},
	    1);

	r = resource_new("AllergyIntolerance", id,
	    GW_IPS_PROFILE("AllergyIntolerance-uv-ips"), a->row.changed);
	GW_JSON_ADD(r, "clinicalStatus",
	    status_concept("allergyintolerance-clinical", "active"));
	GW_JSON_ADD(r, "verificationStatus",
	    status_concept("allergyintolerance-verification",
	        a->verification ? a->verification : "confirmed"));
	GW_JSON_ADD_STRING(r, "type", a->type ? a->type : "allergy");
	if (medicine)
		cJSON_AddItemToArray(GW_JSON_ADD_ARRAY(r, "category"),
		    cJSON_CreateString("medication"));
	if (a->criticality != NULL)
		GW_JSON_ADD_STRING(r, "criticality", a->criticality);
	GW_JSON_ADD(r, "code", concept);
	GW_JSON_ADD(
	    r, "patient", gw_fhir_reference("Patient", subject));
	if (add_datetime(r, "onsetDateTime", a->onset) != GW_OK) {
		cJSON_Delete(r);
		return NULL;
	}
	if (a->reaction != NULL) {
		cJSON *rx = cJSON_CreateObject();

		cJSON_AddItemToArray(
		    GW_JSON_ADD_ARRAY(rx, "manifestation"),
		    gw_fhir_codeable(NULL, a->reaction));
		if (a->severity != NULL)
			GW_JSON_ADD_STRING(rx, "severity", a->severity);
		cJSON_AddItemToArray(GW_JSON_ADD_ARRAY(r, "reaction"), rx);
	}
	return r;
}

/* ---- Immunization ---- */

cJSON *
gw_map_immunization(
    const struct gw_map_immunization *v, const struct gw_map_ctx *ctx)
{
	const char *subject;
	char id[GW_LOGICAL_ID_MAX];
	cJSON *r, *concept;

	if ((subject = clinical_frame(&v->row, ctx, id, sizeof(id))) == NULL ||
	    !gw_map_is_atc(v->atc))
		return NULL;
	r = resource_new("Immunization", id,
	    GW_IPS_PROFILE("Immunization-uv-ips"), v->row.changed);
	GW_JSON_ADD_STRING(r, "status", "completed");
	concept = gw_fhir_codeable(
	    gw_fhir_coding(GW_SYSTEM_ATC, v->atc, NULL), v->name);
	translate(concept, GW_TERM_IMMUNIZATION,
	    &(struct gw_map_coding){GW_SYSTEM_ATC, v->atc, v->name}, 1);
	GW_JSON_ADD(r, "vaccineCode", concept);
	GW_JSON_ADD(
	    r, "patient", gw_fhir_reference("Patient", subject));
	if (add_datetime(r, "occurrenceDateTime", v->date) != GW_OK ||
	    cJSON_GetObjectItemCaseSensitive(r, "occurrenceDateTime") == NULL) {
		cJSON_Delete(r);
		return NULL;
	}
	GW_FHIR_ADD_STRING(r, "lotNumber", v->lot);
	/* doseNumberPositiveInt is required inside protocolApplied: leave the
	 * element out when the registry has no usable dose number. */
	if (v->has_dose && v->dose >= 1 && v->dose <= 2147483647.0 &&
	    v->dose == (double)(long)v->dose) {
		cJSON *pa = cJSON_CreateObject();

		GW_JSON_ADD_NUMBER(pa, "doseNumberPositiveInt", v->dose);
		cJSON_AddItemToArray(
		    GW_JSON_ADD_ARRAY(r, "protocolApplied"), pa);
	}
	return r;
}

/* ---- Observation ---- */

cJSON *
gw_map_observation(
    const struct gw_map_observation *o, const struct gw_map_ctx *ctx)
{
	const char *subject;
	char id[GW_LOGICAL_ID_MAX];
	cJSON *r, *concept;

	if ((subject = clinical_frame(&o->row, ctx, id, sizeof(id))) == NULL ||
	    o->local.system == NULL || o->local.code == NULL ||
	    o->unit == NULL || !isfinite(o->value))
		return NULL;
	r = resource_new("Observation", id,
	    GW_IPS_PROFILE("Observation-results-laboratory-pathology-uv-ips"),
	    o->row.changed);
	GW_JSON_ADD_STRING(r, "status", "final");
	cJSON_AddItemToArray(GW_JSON_ADD_ARRAY(r, "category"),
	    gw_fhir_codeable(
	        gw_fhir_coding(GW_TERMINOLOGY "observation-category",
	            "laboratory", "Laboratory"),
	        NULL));
	concept = cJSON_CreateObject();
	if (o->loinc != NULL)
		add_coding(
		    concept, gw_fhir_coding(GW_SYSTEM_LOINC, o->loinc, NULL));
	add_coding(concept,
	    gw_fhir_coding(o->local.system, o->local.code, o->local.display));
	translate(concept, GW_TERM_OBSERVATION, &o->local, 1);
	GW_FHIR_ADD_STRING(concept, "text", o->text);
	GW_JSON_ADD(r, "code", concept);
	GW_JSON_ADD(
	    r, "subject", gw_fhir_reference("Patient", subject));
	if (add_datetime(r, "effectiveDateTime", o->effective) != GW_OK ||
	    cJSON_GetObjectItemCaseSensitive(r, "effectiveDateTime") == NULL) {
		cJSON_Delete(r);
		return NULL;
	}
	GW_JSON_ADD(r, "valueQuantity", quantity(o->value, o->unit));
	if (o->has_low || o->has_high) {
		cJSON *rr = cJSON_CreateObject();

		if (o->has_low)
			GW_JSON_ADD(
			    rr, "low", quantity(o->low, o->unit));
		if (o->has_high)
			GW_JSON_ADD(
			    rr, "high", quantity(o->high, o->unit));
		cJSON_AddItemToArray(
		    GW_JSON_ADD_ARRAY(r, "referenceRange"), rr);
	}
	return r;
}

/* ---- dispatch ---- */

cJSON *
gw_map_dispatch(const struct gw_map_kind *kinds, size_t nkinds,
    const char *kind, const struct gw_row *doc, const struct gw_map_ctx *ctx,
    enum gw_rtype *rtype, const char **category)
{
	const char *cat = NULL;

	if (category != NULL)
		*category = NULL;
	if (kind == NULL || doc == NULL)
		return NULL;
	for (size_t i = 0; i < nkinds; i++) {
		cJSON *r;

		if (strcmp(kind, kinds[i].kind) != 0)
			continue;
		if ((r = kinds[i].map(doc, ctx, &cat)) == NULL)
			return NULL;
		if (rtype != NULL)
			*rtype = kinds[i].rtype;
		if (category != NULL)
			*category = cat;
		return r;
	}
	return NULL;
}
