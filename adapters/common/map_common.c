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

const char *
gw_map_decimal(const struct gw_row *doc, const char *name)
{
	const struct gw_row_field *v = gw_row_get(doc, name);

	/* A number column's text (integer, numeric, double precision) in
	 * the strict JSON form only, so "NaN", "Infinity", " 1" or "0x10"
	 * are refused rather than read; one too large for a double is not
	 * finite, and refused too, so that a client reading it as a double
	 * gets a number. */
	if (v == NULL || v->kind != GW_ROW_TEXT || !json_number(v->text) ||
	    !isfinite(strtod(v->text, NULL)))
		return NULL;
	return v->text;
}

bool
gw_map_num(const struct gw_row *doc, const char *name, double *out)
{
	const char *text = gw_map_decimal(doc, name);

	if (text == NULL)
		return false;
	*out = strtod(text, NULL);
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

/* A date or dateTime member converted from a native value, when the value
 * is present; GW_ERR if present but not convertible.  The key is a
 * literal (WRITE_DATETIME), as json_out.h wants it. */
static int
write_datetime(struct gw_jout *o, const char *key_text, size_t n,
    const char *key, const char *in)
{
	char buf[GW_MAP_DATETIME_MAX];

	if (in == NULL || in[0] == '\0')
		return GW_OK;
	if (gw_map_datetime(in, buf, sizeof(buf)) != GW_OK)
		return GW_ERR;
	gw_jout_key(o, key_text, n, key);
	gw_jout_string(o, buf);
	return GW_OK;
}
#define WRITE_DATETIME(o, key, in)                                             \
	write_datetime((o), "\"" key "\":", sizeof("\"" key "\":") - 1,       \
	    "" key "", (in))

/* Present: non-NULL and not empty. */
static bool
present(const char *s)
{
	return s != NULL && s[0] != '\0';
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

/* Open the resource's object and write {"resourceType": type, "id": id,
 * "meta": {"lastUpdated": changed, "profile": [profile]}}'s members;
 * lastUpdated only for a changed that is a timestamp (an instant needs
 * the time).  The caller writes the rest and closes the object. */
static void
begin_resource(struct gw_jout *o, const char *type, const char *id,
    const char *profile, const char *changed)
{
	char instant[40];

	gw_jout_object(o);
	GW_JOUT_STRING(o, "resourceType", type);
	GW_JOUT_STRING(o, "id", id);
	GW_JOUT_OBJECT(o, "meta");
	if (changed != NULL && strlen(changed) > 10 &&
	    gw_map_datetime(changed, instant, sizeof(instant)) == GW_OK)
		GW_JOUT_STRING(o, "lastUpdated", instant);
	GW_JOUT_ARRAY(o, "profile");
	gw_jout_string(o, profile);
	gw_jout_end_array(o);
	gw_jout_end_object(o);
}

/* A status CodeableConcept from an HL7 terminology code system (a
 * literal name). */
#define WRITE_STATUS(o, codesystem, code)                                      \
	gw_fhir_write_codeable((o), GW_TERMINOLOGY codesystem, (code), NULL,   \
	    NULL)

/* The codings of a CodeableConcept, gathered before it is written: a
 * translation may add a display to a coding already there. */
#define CONCEPT_CODINGS 16
struct concept {
	struct gw_map_coding coding[CONCEPT_CODINGS];
	int n;
	bool overflow; /* more codings than fit: the resource is refused */
};

static void
add_coding(struct concept *c, const char *system, const char *code,
    const char *display)
{
	if (c->n == CONCEPT_CODINGS) {
		c->overflow = true;
		return;
	}
	c->coding[c->n++] = (struct gw_map_coding){ system, code, display };
}

/* Add one translation to the concept: appended with its English display,
 * unless the concept already has a coding of that system (the registry's
 * own LOINC, or the same translation reached from a second national
 * coding): the same code then gets the display if it has none, and a
 * different code is left as the registry wrote it. */
static void
add_translation(struct concept *c, const struct gw_term_target *tg)
{
	for (int i = 0; i < c->n; i++) {
		struct gw_map_coding *k = &c->coding[i];

		if (!present(k->system) || strcmp(k->system, tg->system) != 0)
			continue;
		if (present(k->code) && strcmp(k->code, tg->code) == 0 &&
		    !present(k->display))
			k->display = tg->display;
		return;
	}
	add_coding(c, tg->system, tg->code, tg->display);
}

/*
 * Translate the national codings of a concept (the n codings, system NULL
 * ends them early) for element with the installed maps
 * (profiles/terminology): every translation is added beside the original
 * codings.  A concept with a coding of a mapped system and no translation
 * at all stays as it is and is counted once, under the first such system.
 */
static void
translate(struct concept *concept, enum gw_term_element element,
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

/* {"coding": [...], "text": text}: the array only when there are
 * codings, text only when present. */
static void
write_concept(struct gw_jout *o, const struct concept *c, const char *text)
{
	gw_jout_object(o);
	if (c->n > 0) {
		GW_JOUT_ARRAY(o, "coding");
		for (int i = 0; i < c->n; i++)
			gw_fhir_write_coding(o, c->coding[i].system,
			    c->coding[i].code, c->coding[i].display);
		gw_jout_end_array(o);
	}
	GW_JOUT_OPT_STRING(o, "text", text);
	gw_jout_end_object(o);
}

/* A UCUM Quantity. */
static void
write_quantity(struct gw_jout *o, const char *value, const char *ucum)
{
	gw_jout_object(o);
	GW_JOUT_DECIMAL(o, "value", value);
	GW_JOUT_STRING(o, "unit", ucum);
	GW_JOUT_STRING(o, "system", GW_SYSTEM_UCUM);
	GW_JOUT_STRING(o, "code", ucum);
	gw_jout_end_object(o);
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

/* A builder's end: what it wrote stays on GW_OK and is undone on
 * GW_ERR, so that o is as it was at mark (taken before the builder ran:
 * in a statement of its own, since the order in which a call's arguments
 * are evaluated is unspecified). */
static int
finish(struct gw_jout *o, struct gw_jout_mark mark, int rc)
{
	if (rc != GW_OK)
		gw_jout_rollback(o, mark);
	return rc;
}

/* ---- Patient ---- */

/* Split space-separated given names into a "given" array. */
static void
write_given(struct gw_jout *o, const char *names)
{
	const char *p = names;

	GW_JOUT_ARRAY(o, "given");
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
		gw_jout_string(o, one);
		gw_free_zero(one, (size_t)(end - p) + 1);
		p = end;
	}
	gw_jout_end_array(o);
}

static void
write_coding_extension(struct gw_jout *o, const char *url,
    const struct gw_map_coding *c, bool display)
{
	gw_jout_object(o);
	GW_JOUT_STRING(o, "url", url);
	GW_JOUT_KEY(o, "valueCoding");
	gw_fhir_write_coding(o, c->system, c->code,
	    display ? c->display : NULL);
	gw_jout_end_object(o);
}

static void
write_translation_extension(struct gw_jout *o, const char *lang,
    const char *content)
{
	gw_jout_object(o);
	GW_JOUT_STRING(o, "url", EXT_TRANSLATION);
	GW_JOUT_ARRAY(o, "extension");
	gw_jout_object(o);
	GW_JOUT_STRING(o, "url", "lang");
	GW_JOUT_STRING(o, "valueCode", lang);
	gw_jout_end_object(o);
	gw_jout_object(o);
	GW_JOUT_STRING(o, "url", "content");
	GW_JOUT_STRING(o, "valueString", content);
	gw_jout_end_object(o);
	gw_jout_end_array(o);
	gw_jout_end_object(o);
}

/* The home address, when the registry has one. */
static void
write_address(struct gw_jout *o, const struct gw_map_patient *p)
{
	bool district = p->municipality_at == GW_MUNI_DISTRICT &&
	                p->municipality.display != NULL;
	bool muni_code = p->municipality_url != NULL &&
	                 p->municipality.system != NULL &&
	                 p->municipality.code != NULL;
	bool translation = p->district_lang != NULL &&
	                   p->district_translation != NULL;

	if (p->line == NULL && p->postal == NULL && p->city == NULL &&
	    !district)
		return;
	GW_JOUT_ARRAY(o, "address");
	gw_jout_object(o);
	if (p->address_extension != NULL) {
		GW_JOUT_ARRAY(o, "extension");
		p->address_extension(o);
		gw_jout_end_array(o);
	}
	GW_JOUT_STRING(o, "use", "home");
	if (p->line != NULL) {
		GW_JOUT_ARRAY(o, "line");
		gw_jout_string(o, p->line);
		gw_jout_end_array(o);
	}
	GW_JOUT_OPT_STRING(o, "city", p->city);
	if (district) {
		GW_JOUT_STRING(o, "district", p->municipality.display);
		if (muni_code || translation) {
			GW_JOUT_OBJECT(o, "_district");
			GW_JOUT_ARRAY(o, "extension");
			if (muni_code)
				write_coding_extension(o, p->municipality_url,
				    &p->municipality, false);
			if (translation)
				write_translation_extension(o,
				    p->district_lang, p->district_translation);
			gw_jout_end_array(o);
			gw_jout_end_object(o);
		}
	}
	GW_JOUT_OPT_STRING(o, "postalCode", p->postal);
	GW_JOUT_OPT_STRING(o, "country", p->address_country);
	gw_jout_end_object(o);
	gw_jout_end_array(o);
}

static int
write_patient(const struct gw_map_patient *p, struct gw_jout *o,
    struct gw_mapped *m)
{
	char text[256];

	if (p->id_system == NULL || p->id_value == NULL ||
	    !gw_map_is_token(p->token) || p->prefix == NULL ||
	    p->profile == NULL || !present(p->birth_date))
		return GW_ERR;
	if (gw_concat(m->id, sizeof(m->id), p->prefix, "-", p->token,
		(char *)NULL) != GW_OK || strlen(m->id) > 64)
		return GW_ERR;
	begin_resource(o, "Patient", m->id, p->profile, p->changed);

	if (p->municipality_at == GW_MUNI_EXTENSION &&
	    p->municipality.code != NULL && p->municipality_url != NULL) {
		GW_JOUT_ARRAY(o, "extension");
		write_coding_extension(o, p->municipality_url,
		    &p->municipality, true);
		gw_jout_end_array(o);
	}

	GW_JOUT_ARRAY(o, "identifier");
	gw_jout_object(o);
	GW_JOUT_STRING(o, "use", "official");
	if (p->id_type != NULL) {
		GW_JOUT_KEY(o, "type");
		WRITE_STATUS(o, "v2-0203", p->id_type);
	}
	GW_JOUT_STRING(o, "system", p->id_system);
	GW_JOUT_STRING(o, "value", p->id_value);
	gw_jout_end_object(o);
	gw_jout_end_array(o);

	GW_JOUT_KEY(o, "active");
	gw_jout_bool(o, true);

	if (p->family != NULL || p->given != NULL) {
		GW_JOUT_ARRAY(o, "name");
		gw_jout_object(o);
		GW_JOUT_STRING(o, "use", "official");
		gw_concat(text, sizeof(text), p->given ? p->given : "",
		    p->given && p->family ? " " : "",
		    p->family ? p->family : "", NULL);
		GW_JOUT_STRING(o, "text", text);
		GW_JOUT_OPT_STRING(o, "family", p->family);
		if (p->given != NULL)
			write_given(o, p->given);
		gw_jout_end_object(o);
		if (p->nickname != NULL) {
			gw_jout_object(o);
			GW_JOUT_STRING(o, "use", "usual");
			GW_JOUT_OPT_STRING(o, "family", p->family);
			write_given(o, p->nickname);
			gw_jout_end_object(o);
		}
		gw_jout_end_array(o);
	}

	if (p->phone != NULL) {
		GW_JOUT_ARRAY(o, "telecom");
		gw_jout_object(o);
		GW_JOUT_STRING(o, "system", "phone");
		GW_JOUT_STRING(o, "value", p->phone);
		gw_jout_end_object(o);
		gw_jout_end_array(o);
	}

	GW_JOUT_OPT_STRING(o, "gender", p->gender);
	if (WRITE_DATETIME(o, "birthDate", p->birth_date) != GW_OK ||
	    WRITE_DATETIME(o, "deceasedDateTime", p->deceased) != GW_OK)
		return GW_ERR;

	write_address(o, p);

	if (p->language != NULL) {
		GW_JOUT_ARRAY(o, "communication");
		gw_jout_object(o);
		GW_JOUT_KEY(o, "language");
		gw_fhir_write_codeable(o, GW_SYSTEM_BCP47, p->language, NULL,
		    NULL);
		gw_jout_end_object(o);
		gw_jout_end_array(o);
	}
	gw_jout_end_object(o);
	return GW_OK;
}

int
gw_map_patient(const struct gw_map_patient *p, struct gw_jout *o,
    struct gw_mapped *m)
{
	struct gw_jout_mark mark = gw_jout_mark(o);

	return finish(o, mark, write_patient(p, o, m));
}

/* ---- Condition ---- */

static int
write_condition(const struct gw_map_condition *c,
    const struct gw_map_ctx *ctx, struct gw_jout *o, struct gw_mapped *m)
{
	const char *subject;
	struct concept concept = { .n = 0 };

	if ((subject = clinical_frame(&c->row, ctx, m->id, sizeof(m->id))) ==
	        NULL ||
	    c->clinical_status == NULL || c->code[0].system == NULL ||
	    c->code[0].code == NULL)
		return GW_ERR;
	add_coding(&concept, c->code[0].system, c->code[0].code,
	    c->code[0].display);
	for (int i = 1; i < GW_MAP_CODINGS && c->code[i].system != NULL; i++)
		if (c->code[i].code != NULL)
			add_coding(&concept, c->code[i].system,
			    c->code[i].code, c->code[i].display);
	translate(&concept, GW_TERM_CONDITION, c->code, GW_MAP_CODINGS);
	if (concept.overflow)
		return GW_ERR;

	begin_resource(o, "Condition", m->id,
	    GW_IPS_PROFILE("Condition-uv-ips"), c->row.changed);
	GW_JOUT_KEY(o, "clinicalStatus");
	WRITE_STATUS(o, "condition-clinical", c->clinical_status);
	GW_JOUT_KEY(o, "verificationStatus");
	WRITE_STATUS(o, "condition-ver-status", "confirmed");
	GW_JOUT_ARRAY(o, "category");
	gw_fhir_write_codeable(o, GW_TERMINOLOGY "condition-category",
	    "problem-list-item", "Problem List Item", NULL);
	gw_jout_end_array(o);
	GW_JOUT_KEY(o, "code");
	write_concept(o, &concept, c->text);
	GW_JOUT_KEY(o, "subject");
	gw_fhir_write_reference(o, "Patient", subject);
	if (WRITE_DATETIME(o, "onsetDateTime", c->onset) != GW_OK ||
	    WRITE_DATETIME(o, "recordedDate", c->recorded) != GW_OK)
		return GW_ERR;
	gw_jout_end_object(o);
	/* Every coding is looked at: a sensitive code in any system makes the
	 * record sensitive (fail secure). */
	m->category = NULL;
	for (int i = 0; i < GW_MAP_CODINGS && c->code[i].system != NULL &&
	     m->category == NULL; i++)
		m->category = gw_category_of_coding(c->code[i].system,
		    c->code[i].code);
	return GW_OK;
}

int
gw_map_condition(const struct gw_map_condition *c,
    const struct gw_map_ctx *ctx, struct gw_jout *o, struct gw_mapped *m)
{
	struct gw_jout_mark mark = gw_jout_mark(o);

	return finish(o, mark, write_condition(c, ctx, o, m));
}

/* ---- MedicationStatement ---- */

static int
write_medication(const struct gw_map_medication *med,
    const struct gw_map_ctx *ctx, struct gw_jout *o, struct gw_mapped *m)
{
	const char *subject;
	char text[256];
	struct concept concept = { .n = 0 };

	if ((subject = clinical_frame(&med->row, ctx, m->id,
	         sizeof(m->id))) == NULL ||
	    !gw_map_is_atc(med->atc) || med->status == NULL ||
	    !present(med->start))
		return GW_ERR;
	gw_concat(text, sizeof(text), med->product ? med->product : med->atc,
	    med->strength ? " " : "", med->strength ? med->strength : "",
	    NULL);
	add_coding(&concept, GW_SYSTEM_ATC, med->atc, NULL);
	if (med->product_system != NULL && med->product_code != NULL)
		add_coding(&concept, med->product_system, med->product_code,
		    text);

	begin_resource(o, "MedicationStatement", m->id,
	    GW_IPS_PROFILE("MedicationStatement-uv-ips"), med->row.changed);
	GW_JOUT_STRING(o, "status", med->status);
	GW_JOUT_KEY(o, "medicationCodeableConcept");
	write_concept(o, &concept, text);
	GW_JOUT_KEY(o, "subject");
	gw_fhir_write_reference(o, "Patient", subject);
	GW_JOUT_OBJECT(o, "effectivePeriod");
	if (WRITE_DATETIME(o, "start", med->start) != GW_OK ||
	    WRITE_DATETIME(o, "end", med->end) != GW_OK)
		return GW_ERR;
	gw_jout_end_object(o);
	if (med->dosage != NULL) {
		GW_JOUT_ARRAY(o, "dosage");
		gw_jout_object(o);
		GW_JOUT_STRING(o, "text", med->dosage);
		gw_jout_end_object(o);
		gw_jout_end_array(o);
	}
	gw_jout_end_object(o);
	return GW_OK;
}

int
gw_map_medication(const struct gw_map_medication *med,
    const struct gw_map_ctx *ctx, struct gw_jout *o, struct gw_mapped *m)
{
	struct gw_jout_mark mark = gw_jout_mark(o);

	return finish(o, mark, write_medication(med, ctx, o, m));
}

/* ---- AllergyIntolerance ---- */

static int
write_allergy(const struct gw_map_allergy *a, const struct gw_map_ctx *ctx,
    struct gw_jout *o, struct gw_mapped *m)
{
	const char *subject;
	struct concept concept = { .n = 0 };
	bool medicine;

	if ((subject = clinical_frame(&a->row, ctx, m->id, sizeof(m->id))) ==
	        NULL ||
	    a->code == NULL)
		return GW_ERR;
	/* A medicine is named by its ATC code, anything else by SNOMED CT. */
	medicine = gw_map_is_atc(a->code);
	if (medicine)
		add_coding(&concept, GW_SYSTEM_ATC, a->code, a->agent);
	else if (gw_map_is_sctid(a->code))
		add_coding(&concept, GW_SYSTEM_SNOMED, a->code, NULL);
	else
		return GW_ERR;
	translate(&concept, GW_TERM_ALLERGY,
	    &(struct gw_map_coding){
	        medicine ? GW_SYSTEM_ATC : GW_SYSTEM_SNOMED, a->code, a->agent},
	    1);
	if (concept.overflow)
		return GW_ERR;

	begin_resource(o, "AllergyIntolerance", m->id,
	    GW_IPS_PROFILE("AllergyIntolerance-uv-ips"), a->row.changed);
	GW_JOUT_KEY(o, "clinicalStatus");
	WRITE_STATUS(o, "allergyintolerance-clinical", "active");
	GW_JOUT_KEY(o, "verificationStatus");
	WRITE_STATUS(o, "allergyintolerance-verification",
	    a->verification ? a->verification : "confirmed");
	GW_JOUT_STRING(o, "type", a->type ? a->type : "allergy");
	if (medicine) {
		GW_JOUT_ARRAY(o, "category");
		gw_jout_string(o, "medication");
		gw_jout_end_array(o);
	}
	if (a->criticality != NULL)
		GW_JOUT_STRING(o, "criticality", a->criticality);
	GW_JOUT_KEY(o, "code");
	write_concept(o, &concept, a->agent);
	GW_JOUT_KEY(o, "patient");
	gw_fhir_write_reference(o, "Patient", subject);
	if (WRITE_DATETIME(o, "onsetDateTime", a->onset) != GW_OK)
		return GW_ERR;
	if (a->reaction != NULL) {
		GW_JOUT_ARRAY(o, "reaction");
		gw_jout_object(o);
		GW_JOUT_ARRAY(o, "manifestation");
		gw_fhir_write_codeable(o, NULL, NULL, NULL, a->reaction);
		gw_jout_end_array(o);
		if (a->severity != NULL)
			GW_JOUT_STRING(o, "severity", a->severity);
		gw_jout_end_object(o);
		gw_jout_end_array(o);
	}
	gw_jout_end_object(o);
	return GW_OK;
}

int
gw_map_allergy(const struct gw_map_allergy *a, const struct gw_map_ctx *ctx,
    struct gw_jout *o, struct gw_mapped *m)
{
	struct gw_jout_mark mark = gw_jout_mark(o);

	return finish(o, mark, write_allergy(a, ctx, o, m));
}

/* ---- Immunization ---- */

static int
write_immunization(const struct gw_map_immunization *v,
    const struct gw_map_ctx *ctx, struct gw_jout *o, struct gw_mapped *m)
{
	const char *subject;
	struct concept concept = { .n = 0 };

	if ((subject = clinical_frame(&v->row, ctx, m->id, sizeof(m->id))) ==
	        NULL ||
	    !gw_map_is_atc(v->atc) || !present(v->date))
		return GW_ERR;
	add_coding(&concept, GW_SYSTEM_ATC, v->atc, NULL);
	translate(&concept, GW_TERM_IMMUNIZATION,
	    &(struct gw_map_coding){GW_SYSTEM_ATC, v->atc, v->name}, 1);
	if (concept.overflow)
		return GW_ERR;

	begin_resource(o, "Immunization", m->id,
	    GW_IPS_PROFILE("Immunization-uv-ips"), v->row.changed);
	GW_JOUT_STRING(o, "status", "completed");
	GW_JOUT_KEY(o, "vaccineCode");
	write_concept(o, &concept, v->name);
	GW_JOUT_KEY(o, "patient");
	gw_fhir_write_reference(o, "Patient", subject);
	if (WRITE_DATETIME(o, "occurrenceDateTime", v->date) != GW_OK)
		return GW_ERR;
	GW_JOUT_OPT_STRING(o, "lotNumber", v->lot);
	/* doseNumberPositiveInt is required inside protocolApplied: leave the
	 * element out when the registry has no usable dose number. */
	if (v->has_dose && v->dose >= 1 && v->dose <= 2147483647.0 &&
	    v->dose == (double)(long)v->dose) {
		GW_JOUT_ARRAY(o, "protocolApplied");
		gw_jout_object(o);
		GW_JOUT_NUMBER(o, "doseNumberPositiveInt", v->dose);
		gw_jout_end_object(o);
		gw_jout_end_array(o);
	}
	gw_jout_end_object(o);
	return GW_OK;
}

int
gw_map_immunization(const struct gw_map_immunization *v,
    const struct gw_map_ctx *ctx, struct gw_jout *o, struct gw_mapped *m)
{
	struct gw_jout_mark mark = gw_jout_mark(o);

	return finish(o, mark, write_immunization(v, ctx, o, m));
}

/* ---- Observation ---- */

static int
write_observation(const struct gw_map_observation *mo,
    const struct gw_map_ctx *ctx, struct gw_jout *o, struct gw_mapped *m)
{
	const char *subject;
	struct concept concept = { .n = 0 };

	if ((subject = clinical_frame(&mo->row, ctx, m->id, sizeof(m->id))) ==
	        NULL ||
	    mo->local.system == NULL || mo->local.code == NULL ||
	    mo->unit == NULL || mo->value == NULL ||
	    !present(mo->effective))
		return GW_ERR;
	if (mo->loinc != NULL)
		add_coding(&concept, GW_SYSTEM_LOINC, mo->loinc, NULL);
	add_coding(&concept, mo->local.system, mo->local.code,
	    mo->local.display);
	translate(&concept, GW_TERM_OBSERVATION, &mo->local, 1);
	if (concept.overflow)
		return GW_ERR;

	begin_resource(o, "Observation", m->id,
	    GW_IPS_PROFILE("Observation-results-laboratory-pathology-uv-ips"),
	    mo->row.changed);
	GW_JOUT_STRING(o, "status", "final");
	GW_JOUT_ARRAY(o, "category");
	gw_fhir_write_codeable(o, GW_TERMINOLOGY "observation-category",
	    "laboratory", "Laboratory", NULL);
	gw_jout_end_array(o);
	GW_JOUT_KEY(o, "code");
	write_concept(o, &concept, mo->text);
	GW_JOUT_KEY(o, "subject");
	gw_fhir_write_reference(o, "Patient", subject);
	if (WRITE_DATETIME(o, "effectiveDateTime", mo->effective) != GW_OK)
		return GW_ERR;
	GW_JOUT_KEY(o, "valueQuantity");
	write_quantity(o, mo->value, mo->unit);
	if (mo->low != NULL || mo->high != NULL) {
		GW_JOUT_ARRAY(o, "referenceRange");
		gw_jout_object(o);
		if (mo->low != NULL) {
			GW_JOUT_KEY(o, "low");
			write_quantity(o, mo->low, mo->unit);
		}
		if (mo->high != NULL) {
			GW_JOUT_KEY(o, "high");
			write_quantity(o, mo->high, mo->unit);
		}
		gw_jout_end_object(o);
		gw_jout_end_array(o);
	}
	gw_jout_end_object(o);
	return GW_OK;
}

int
gw_map_observation(const struct gw_map_observation *mo,
    const struct gw_map_ctx *ctx, struct gw_jout *o, struct gw_mapped *m)
{
	struct gw_jout_mark mark = gw_jout_mark(o);

	return finish(o, mark, write_observation(mo, ctx, o, m));
}

/* ---- dispatch ---- */

int
gw_map_dispatch(const struct gw_map_kind *kinds, size_t nkinds,
    const char *kind, const struct gw_row *doc, const struct gw_map_ctx *ctx,
    struct gw_jout *o, struct gw_mapped *m)
{
	m->category = NULL;
	m->id[0] = '\0';
	if (kind == NULL || doc == NULL)
		return GW_ERR;
	for (size_t i = 0; i < nkinds; i++) {
		if (strcmp(kind, kinds[i].kind) != 0)
			continue;
		m->type = kinds[i].rtype;
		return kinds[i].map(doc, ctx, o, m);
	}
	return GW_ERR;
}
