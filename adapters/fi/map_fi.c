/*
 * map_fi.c: native fi_rekisteri rows (row_to_json) to FHIR R4 resources.
 * One function per kind, chosen from a table; each reads the row's fields,
 * refuses rows that lack what the resource requires, and builds the
 * resource close to the FI Base Patient and IPS 2.0 profiles.  Native dates
 * are copied when they are FHIR dates; timestamps are rewritten in UTC
 * ("...Z") so that any session time zone yields a valid FHIR dateTime.
 * Ids: Patient/fi-<fhir_tunniste>; clinical resources fi-<row id>.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "adapters/adapter.h"
#include "adapters/common/category.h"
#include "adapters/fi/adapter_fi.h"
#include "gateway/gw.h"

#define FI_PROFILE_PATIENT                                                     \
	"https://hl7.fi/fhir/finnish-base-profiles/StructureDefinition/"       \
	"fi-base-patient"
#define FI_EXT_MUNICIPALITY                                                    \
	"https://hl7.fi/fhir/finnish-base-profiles/StructureDefinition/"       \
	"municipality-code"
#define FI_SYSTEM_MUNICIPALITY "urn:oid:1.2.246.537.6.21.2003"
#define FI_SYSTEM_VNR "urn:oid:1.2.246.537.6.55"
#define FI_SYSTEM_LAB "urn:oid:1.2.246.537.6.3.2006"
#define IPS_PROFILE(name) "http://hl7.org/fhir/uv/ips/StructureDefinition/" name
#define SYSTEM_ATC "http://www.whocc.no/atc"
#define SYSTEM_ICD10 "http://hl7.org/fhir/sid/icd-10"
#define SYSTEM_LOINC "http://loinc.org"
#define SYSTEM_SNOMED "http://snomed.info/sct"
#define SYSTEM_UCUM "http://unitsofmeasure.org"
#define SYSTEM_BCP47 "urn:ietf:bcp:47"
#define TERMINOLOGY "http://terminology.hl7.org/CodeSystem/"

/* "YYYY-MM-DDThh:mm:ss.fffffffffZ" and room to spare. */
#define DATETIME_MAX 40

/* ---- reading native fields ---- */

/* A non-empty string member, or NULL. */
static const char *
field_str(const cJSON *doc, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, name);

	if (!cJSON_IsString(v) || v->valuestring[0] == '\0')
		return NULL;
	return v->valuestring;
}

/* A finite number member into *out; false if absent or not a number. */
static bool
field_num(const cJSON *doc, const char *name, double *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, name);

	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
		return false;
	*out = v->valuedouble;
	return true;
}

/*
 * A positive integer member (bigint ids arrive as JSON numbers, exact below
 * 2^53) into *out.  GW_OK or GW_ERR.
 */
static int
field_id(const cJSON *doc, const char *name, long long *out)
{
	double v;

	if (!field_num(doc, name, &v) || v < 1 || v > 9007199254740992.0 ||
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

static bool
leap_year(long y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
month_days(long y, int m)
{
	static const int mdays[12] = {
	    31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && leap_year(y) ? 29 : mdays[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static long
days_from_civil(long y, int m, int d)
{
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(long z, long *y, int *m, int *d)
{
	long era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
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
	if (*y < 1 || *m < 1 || *m > 12 || *d < 1 || *d > month_days(*y, *m))
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

/*
 * A native date or timestamp as a FHIR dateTime into out (DATETIME_MAX):
 * dates are copied; "YYYY-MM-DD[T ]hh:mm:ss[.f...](Z|+hh[:mm[:ss]])" is
 * rewritten in UTC with its fraction kept ("2024-03-01T08:00:00Z").  The
 * conversion also removes offsets with seconds (old local mean times),
 * which FHIR cannot express.  GW_ERR on anything else ("infinity", BC).
 */
static int
fhir_datetime(const char *in, char *out, size_t outsz)
{
	const char *p, *frac = NULL;
	size_t fraclen = 0;
	long y, days, secs, off = 0;
	int m, d, hh, mi, ss, n;

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
	days = days_from_civil(y, m, d) +
	       (secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400));
	secs -= (days - days_from_civil(y, m, d)) * 86400;
	civil_from_days(days, &y, &m, &d);
	if (y < 1 || y > 9999)
		return GW_ERR;
	n = snprintf(out, outsz, "%04ld-%02d-%02dT%02ld:%02ld:%02ld%s%.*sZ", y,
	    m, d, secs / 3600, secs / 60 % 60, secs % 60, fraclen ? "." : "",
	    (int)fraclen, frac ? frac : "");
	if (n < 0 || (size_t)n >= outsz)
		return GW_ERR;
	return GW_OK;
}

/* Add a date or dateTime member converted from a native field, when the
 * field is present and valid; GW_ERR if present but invalid. */
static int
add_datetime(cJSON *obj, const char *name, const cJSON *doc, const char *field)
{
	const char *in = field_str(doc, field);
	char buf[DATETIME_MAX];

	if (in == NULL)
		return GW_OK;
	if (fhir_datetime(in, buf, sizeof(buf)) != GW_OK)
		return GW_ERR;
	cJSON_AddStringToObject(obj, name, buf);
	return GW_OK;
}

/* ---- building resources ---- */

/* {"resourceType": type, "id": id, "meta": {"profile": [profile]}}. */
static cJSON *
resource_new(const char *type, const char *id, const char *profile)
{
	cJSON *r = cJSON_CreateObject();
	cJSON *meta, *profiles;

	cJSON_AddStringToObject(r, "resourceType", type);
	cJSON_AddStringToObject(r, "id", id);
	meta = cJSON_AddObjectToObject(r, "meta");
	profiles = cJSON_AddArrayToObject(meta, "profile");
	cJSON_AddItemToArray(profiles, cJSON_CreateString(profile));
	return r;
}

/* A status CodeableConcept from an HL7 terminology code system. */
static cJSON *
status_concept(const char *codesystem, const char *code)
{
	char system[128];

	snprintf(system, sizeof(system), TERMINOLOGY "%s", codesystem);
	return gw_fhir_codeable(gw_fhir_coding(system, code, NULL), NULL);
}

/* Append coding to concept.coding (creating the array). */
static void
add_coding(cJSON *concept, cJSON *coding)
{
	cJSON *arr = cJSON_GetObjectItemCaseSensitive(concept, "coding");

	if (arr == NULL)
		arr = cJSON_AddArrayToObject(concept, "coding");
	cJSON_AddItemToArray(arr, coding);
}

/* A UCUM Quantity. */
static cJSON *
quantity(double value, const char *ucum)
{
	cJSON *q = cJSON_CreateObject();

	cJSON_AddNumberToObject(q, "value", value);
	cJSON_AddStringToObject(q, "unit", ucum);
	cJSON_AddStringToObject(q, "system", SYSTEM_UCUM);
	cJSON_AddStringToObject(q, "code", ucum);
	return q;
}

/* An ATC code has the shape A10BA02 (and J07BB02 for vaccines). */
static bool
is_atc(const char *code)
{
	return strlen(code) == 7 && code[0] >= 'A' && code[0] <= 'Z' &&
	       digits(code + 1, 2) && code[3] >= 'A' && code[3] <= 'Z' &&
	       code[4] >= 'A' && code[4] <= 'Z' && digits(code + 5, 2);
}

/* A SNOMED CT concept id: 6-18 digits, no leading zero. */
static bool
is_sctid(const char *code)
{
	size_t n = strlen(code);

	return n >= 6 && n <= 18 && code[0] != '0' && digits(code, (int)n);
}

/*
 * The common frame of a clinical resource: the row id gives "fi-<id>", the
 * row must belong to ctx's patient.  Writes the id into id and returns the
 * owner's logical id, or NULL.
 */
static const char *
clinical_frame(
    const cJSON *doc, const struct gw_map_ctx *ctx, char *id, size_t idsz)
{
	const struct gw_patient *p;
	long long row, owner;
	char key[32];
	int n;

	if (ctx == NULL || (p = ctx->patient) == NULL ||
	    p->logical_id[0] == '\0')
		return NULL;
	if (field_id(doc, "id", &row) != GW_OK ||
	    field_id(doc, "henkilo_id", &owner) != GW_OK)
		return NULL;
	/* A row of someone else must never go out under this patient. */
	snprintf(key, sizeof(key), "%lld", owner);
	if (p->registry_key[0] != '\0' && strcmp(key, p->registry_key) != 0)
		return NULL;
	n = snprintf(id, idsz, "%s-%lld", adapter_fi.id_prefix, row);
	if (n < 0 || (size_t)n >= idsz)
		return NULL;
	return p->logical_id;
}

/* ---- henkilo -> Patient ---- */

static bool
token_chars(const char *s)
{
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '2' && *s <= '7')))
			return false;
	return true;
}

/* Split space-separated given names into a "given" array. */
static void
add_given(cJSON *name, const char *names)
{
	cJSON *given = cJSON_AddArrayToObject(name, "given");
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
map_henkilo(
    const cJSON *doc, const struct gw_map_ctx *ctx, const char **category)
{
	const char *token = field_str(doc, "fhir_tunniste");
	const char *hetu = field_str(doc, "hetu");
	const char *family = field_str(doc, "sukunimi");
	const char *given = field_str(doc, "etunimet");
	const char *nick = field_str(doc, "kutsumanimi");
	const char *sex = field_str(doc, "sukupuoli");
	const char *kunta = field_str(doc, "kotikunta");
	const char *kieli = field_str(doc, "aidinkieli");
	const char *phone = field_str(doc, "puhelin");
	const char *line = field_str(doc, "lahiosoite");
	const char *postal = field_str(doc, "postinumero");
	const char *city = field_str(doc, "postitoimipaikka");
	char id[GW_LOGICAL_ID_MAX], text[256];
	cJSON *r, *arr, *obj, *name;
	int n;

	(void)ctx;
	(void)category;
	if (token == NULL || hetu == NULL || !token_chars(token))
		return NULL;
	n = snprintf(id, sizeof(id), "%s-%s", adapter_fi.id_prefix, token);
	if (n < 0 || (size_t)n >= sizeof(id) || n > 64)
		return NULL;
	r = resource_new("Patient", id, FI_PROFILE_PATIENT);

	if (kunta != NULL) {
		arr = cJSON_AddArrayToObject(r, "extension");
		obj = cJSON_CreateObject();
		cJSON_AddStringToObject(obj, "url", FI_EXT_MUNICIPALITY);
		cJSON_AddItemToObject(obj, "valueCoding",
		    gw_fhir_coding(FI_SYSTEM_MUNICIPALITY, kunta,
		        field_str(doc, "kotikunta_nimi")));
		cJSON_AddItemToArray(arr, obj);
	}

	arr = cJSON_AddArrayToObject(r, "identifier");
	obj = cJSON_CreateObject();
	cJSON_AddStringToObject(obj, "use", "official");
	cJSON_AddItemToObject(obj, "type",
	    gw_fhir_codeable(
	        gw_fhir_coding(TERMINOLOGY "v2-0203", "NNFIN", NULL), NULL));
	cJSON_AddStringToObject(obj, "system", ADAPTER_FI_HETU_SYSTEM);
	cJSON_AddStringToObject(obj, "value", hetu);
	cJSON_AddItemToArray(arr, obj);

	cJSON_AddBoolToObject(r, "active", 1);

	if (family != NULL || given != NULL) {
		arr = cJSON_AddArrayToObject(r, "name");
		name = cJSON_CreateObject();
		cJSON_AddStringToObject(name, "use", "official");
		snprintf(text, sizeof(text), "%s%s%s", given ? given : "",
		    given && family ? " " : "", family ? family : "");
		cJSON_AddStringToObject(name, "text", text);
		gw_fhir_add_string(name, "family", family);
		if (given != NULL)
			add_given(name, given);
		cJSON_AddItemToArray(arr, name);
		if (nick != NULL) {
			name = cJSON_CreateObject();
			cJSON_AddStringToObject(name, "use", "usual");
			gw_fhir_add_string(name, "family", family);
			add_given(name, nick);
			cJSON_AddItemToArray(arr, name);
		}
	}

	if (phone != NULL) {
		arr = cJSON_AddArrayToObject(r, "telecom");
		obj = cJSON_CreateObject();
		cJSON_AddStringToObject(obj, "system", "phone");
		cJSON_AddStringToObject(obj, "value", phone);
		cJSON_AddItemToArray(arr, obj);
	}

	/* Finnish registry coding: 1 male, 2 female. */
	if (sex != NULL)
		cJSON_AddStringToObject(r, "gender",
		    strcmp(sex, "1") == 0   ? "male"
		    : strcmp(sex, "2") == 0 ? "female"
		                            : "unknown");
	if (add_datetime(r, "birthDate", doc, "syntymaaika") != GW_OK ||
	    cJSON_GetObjectItemCaseSensitive(r, "birthDate") == NULL)
		goto err;
	if (add_datetime(r, "deceasedDateTime", doc, "kuolinpaiva") != GW_OK)
		goto err;

	if (line != NULL || postal != NULL || city != NULL) {
		arr = cJSON_AddArrayToObject(r, "address");
		obj = cJSON_CreateObject();
		cJSON_AddStringToObject(obj, "use", "home");
		if (line != NULL) {
			cJSON *lines = cJSON_AddArrayToObject(obj, "line");

			cJSON_AddItemToArray(lines, cJSON_CreateString(line));
		}
		gw_fhir_add_string(obj, "city", city);
		gw_fhir_add_string(obj, "postalCode", postal);
		cJSON_AddStringToObject(obj, "country", "FI");
		cJSON_AddItemToArray(arr, obj);
	}

	if (kieli != NULL) {
		arr = cJSON_AddArrayToObject(r, "communication");
		obj = cJSON_CreateObject();
		cJSON_AddItemToObject(obj, "language",
		    gw_fhir_codeable(
		        gw_fhir_coding(SYSTEM_BCP47, kieli, NULL), NULL));
		cJSON_AddItemToArray(arr, obj);
	}
	return r;
err:
	cJSON_Delete(r);
	return NULL;
}

/* ---- diagnoosi -> Condition ---- */

static cJSON *
map_diagnoosi(
    const cJSON *doc, const struct gw_map_ctx *ctx, const char **category)
{
	const char *code = field_str(doc, "icd10");
	const char *name = field_str(doc, "nimi_fi");
	const char *tila = field_str(doc, "tila");
	const char *subject, *clinical;
	char id[GW_LOGICAL_ID_MAX];
	cJSON *r, *arr;

	if ((subject = clinical_frame(doc, ctx, id, sizeof(id))) == NULL ||
	    code == NULL || tila == NULL)
		return NULL;
	if (strcmp(tila, "aktiivinen") == 0)
		clinical = "active";
	else if (strcmp(tila, "ratkaistu") == 0)
		clinical = "resolved";
	else
		return NULL;
	r = resource_new("Condition", id, IPS_PROFILE("Condition-uv-ips"));
	cJSON_AddItemToObject(r, "clinicalStatus",
	    status_concept("condition-clinical", clinical));
	cJSON_AddItemToObject(r, "verificationStatus",
	    status_concept("condition-ver-status", "confirmed"));
	arr = cJSON_AddArrayToObject(r, "category");
	cJSON_AddItemToArray(arr,
	    gw_fhir_codeable(gw_fhir_coding(TERMINOLOGY "condition-category",
	                         "problem-list-item", "Problem List Item"),
	        NULL));
	cJSON_AddItemToObject(r, "code",
	    gw_fhir_codeable(gw_fhir_coding(SYSTEM_ICD10, code, name), name));
	cJSON_AddItemToObject(
	    r, "subject", gw_fhir_reference("Patient", subject));
	if (add_datetime(r, "onsetDateTime", doc, "todettu") != GW_OK ||
	    add_datetime(r, "recordedDate", doc, "kirjattu") != GW_OK) {
		cJSON_Delete(r);
		return NULL;
	}
	*category = gw_category_of_icd10(code);
	return r;
}

/* ---- laakitys -> MedicationStatement ---- */

static cJSON *
map_laakitys(
    const cJSON *doc, const struct gw_map_ctx *ctx, const char **category)
{
	const char *atc = field_str(doc, "atc");
	const char *vnr = field_str(doc, "vnr");
	const char *product = field_str(doc, "valmiste");
	const char *strength = field_str(doc, "vahvuus");
	const char *dose = field_str(doc, "annostus");
	const char *tila = field_str(doc, "tila");
	const char *subject, *status;
	char id[GW_LOGICAL_ID_MAX], text[256];
	cJSON *r, *med, *period;

	(void)category;
	if ((subject = clinical_frame(doc, ctx, id, sizeof(id))) == NULL ||
	    atc == NULL || !is_atc(atc) || tila == NULL)
		return NULL;
	if (strcmp(tila, "aktiivinen") == 0)
		status = "active";
	else if (strcmp(tila, "lopetettu") == 0)
		status = "completed";
	else if (strcmp(tila, "keskeytetty") == 0)
		status = "stopped";
	else
		return NULL;
	snprintf(text, sizeof(text), "%s%s%s", product ? product : atc,
	    strength ? " " : "", strength ? strength : "");
	r = resource_new("MedicationStatement", id,
	    IPS_PROFILE("MedicationStatement-uv-ips"));
	cJSON_AddStringToObject(r, "status", status);
	med = gw_fhir_codeable(gw_fhir_coding(SYSTEM_ATC, atc, NULL), text);
	if (vnr != NULL)
		add_coding(med, gw_fhir_coding(FI_SYSTEM_VNR, vnr, text));
	cJSON_AddItemToObject(r, "medicationCodeableConcept", med);
	cJSON_AddItemToObject(
	    r, "subject", gw_fhir_reference("Patient", subject));
	period = cJSON_AddObjectToObject(r, "effectivePeriod");
	if (add_datetime(period, "start", doc, "aloitettu") != GW_OK ||
	    add_datetime(period, "end", doc, "lopetettu") != GW_OK ||
	    cJSON_GetObjectItemCaseSensitive(period, "start") == NULL) {
		cJSON_Delete(r);
		return NULL;
	}
	if (dose != NULL) {
		cJSON *arr = cJSON_AddArrayToObject(r, "dosage");
		cJSON *dosage = cJSON_CreateObject();

		cJSON_AddStringToObject(dosage, "text", dose);
		cJSON_AddItemToArray(arr, dosage);
	}
	return r;
}

/* ---- allergia -> AllergyIntolerance ---- */

static cJSON *
map_allergia(
    const cJSON *doc, const struct gw_map_ctx *ctx, const char **category)
{
	const char *code = field_str(doc, "aiheuttaja_koodi");
	const char *agent = field_str(doc, "aiheuttaja_nimi");
	const char *reaction = field_str(doc, "reaktio");
	const char *vakavuus = field_str(doc, "vakavuus");
	const char *kriittisyys = field_str(doc, "kriittisyys");
	const char *subject, *severity = NULL, *criticality = NULL;
	char id[GW_LOGICAL_ID_MAX];
	cJSON *r, *concept, *arr;

	(void)category;
	if ((subject = clinical_frame(doc, ctx, id, sizeof(id))) == NULL ||
	    code == NULL)
		return NULL;
	if (vakavuus != NULL) {
		if (strcmp(vakavuus, "lievä") == 0)
			severity = "mild";
		else if (strcmp(vakavuus, "kohtalainen") == 0)
			severity = "moderate";
		else if (strcmp(vakavuus, "vakava") == 0)
			severity = "severe";
		else
			return NULL;
	}
	if (kriittisyys != NULL) {
		if (strcmp(kriittisyys, "matala") == 0)
			criticality = "low";
		else if (strcmp(kriittisyys, "korkea") == 0)
			criticality = "high";
		else if (strcmp(kriittisyys, "ei arvioitavissa") == 0)
			criticality = "unable-to-assess";
		else
			return NULL;
	}
	if (is_atc(code))
	concept =
	    gw_fhir_codeable(gw_fhir_coding(SYSTEM_ATC, code, agent), agent);
	else if (is_sctid(code)) concept =
	    gw_fhir_codeable(gw_fhir_coding(SYSTEM_SNOMED, code, NULL), agent);
	else return NULL;

	r = resource_new(
	    "AllergyIntolerance", id, IPS_PROFILE("AllergyIntolerance-uv-ips"));
	cJSON_AddItemToObject(r, "clinicalStatus",
	    status_concept("allergyintolerance-clinical", "active"));
	cJSON_AddItemToObject(r, "verificationStatus",
	    status_concept("allergyintolerance-verification", "confirmed"));
	cJSON_AddStringToObject(r, "type", "allergy");
	if (is_atc(code)) {
		arr = cJSON_AddArrayToObject(r, "category");
		cJSON_AddItemToArray(arr, cJSON_CreateString("medication"));
	}
	if (criticality != NULL)
		cJSON_AddStringToObject(r, "criticality", criticality);
	cJSON_AddItemToObject(r, "code", concept);
	cJSON_AddItemToObject(
	    r, "patient", gw_fhir_reference("Patient", subject));
	if (add_datetime(r, "onsetDateTime", doc, "todettu") != GW_OK) {
		cJSON_Delete(r);
		return NULL;
	}
	if (reaction != NULL) {
		cJSON *rx = cJSON_CreateObject();
		cJSON *manifestations =
		    cJSON_AddArrayToObject(rx, "manifestation");

		cJSON_AddItemToArray(
		    manifestations, gw_fhir_codeable(NULL, reaction));
		if (severity != NULL)
			cJSON_AddStringToObject(rx, "severity", severity);
		arr = cJSON_AddArrayToObject(r, "reaction");
		cJSON_AddItemToArray(arr, rx);
	}
	return r;
}

/* ---- rokotus -> Immunization ---- */

static cJSON *
map_rokotus(
    const cJSON *doc, const struct gw_map_ctx *ctx, const char **category)
{
	const char *atc = field_str(doc, "rokote_atc");
	const char *name = field_str(doc, "rokote_nimi");
	const char *lot = field_str(doc, "erä");
	const char *subject;
	char id[GW_LOGICAL_ID_MAX];
	double dose;
	cJSON *r;

	(void)category;
	if ((subject = clinical_frame(doc, ctx, id, sizeof(id))) == NULL ||
	    atc == NULL || !is_atc(atc))
		return NULL;
	r = resource_new(
	    "Immunization", id, IPS_PROFILE("Immunization-uv-ips"));
	cJSON_AddStringToObject(r, "status", "completed");
	cJSON_AddItemToObject(r, "vaccineCode",
	    gw_fhir_codeable(gw_fhir_coding(SYSTEM_ATC, atc, NULL), name));
	cJSON_AddItemToObject(
	    r, "patient", gw_fhir_reference("Patient", subject));
	if (add_datetime(r, "occurrenceDateTime", doc, "annettu") != GW_OK ||
	    cJSON_GetObjectItemCaseSensitive(r, "occurrenceDateTime") == NULL) {
		cJSON_Delete(r);
		return NULL;
	}
	gw_fhir_add_string(r, "lotNumber", lot);
	/* doseNumberPositiveInt is required inside protocolApplied: leave the
	 * element out when the registry has no usable dose number. */
	if (field_num(doc, "annos_nro", &dose) && dose >= 1 &&
	    dose <= 2147483647.0 && dose == (double)(long)dose) {
		cJSON *arr = cJSON_AddArrayToObject(r, "protocolApplied");
		cJSON *pa = cJSON_CreateObject();

		cJSON_AddNumberToObject(pa, "doseNumberPositiveInt", dose);
		cJSON_AddItemToArray(arr, pa);
	}
	return r;
}

/* ---- laboratoriotulos -> Observation ---- */

static cJSON *
map_laboratoriotulos(
    const cJSON *doc, const struct gw_map_ctx *ctx, const char **category)
{
	const char *code = field_str(doc, "tutkimus_koodi");
	const char *abbr = field_str(doc, "tutkimus_lyhenne");
	const char *name = field_str(doc, "tutkimus_nimi");
	const char *loinc = field_str(doc, "loinc");
	const char *unit = field_str(doc, "yksikko");
	const char *subject;
	char id[GW_LOGICAL_ID_MAX], display[256];
	double value, low, high;
	bool has_low, has_high;
	cJSON *r, *arr, *concept;

	(void)category;
	if ((subject = clinical_frame(doc, ctx, id, sizeof(id))) == NULL ||
	    code == NULL || unit == NULL || !field_num(doc, "tulos", &value))
		return NULL;
	snprintf(display, sizeof(display), "%s%s%s", abbr ? abbr : "",
	    abbr && name ? " " : "", name ? name : "");
	r = resource_new("Observation", id,
	    IPS_PROFILE("Observation-results-laboratory-pathology-uv-ips"));
	cJSON_AddStringToObject(r, "status", "final");
	arr = cJSON_AddArrayToObject(r, "category");
	cJSON_AddItemToArray(arr,
	    gw_fhir_codeable(gw_fhir_coding(TERMINOLOGY "observation-category",
	                         "laboratory", "Laboratory"),
	        NULL));
	concept = cJSON_CreateObject();
	if (loinc != NULL)
		add_coding(concept, gw_fhir_coding(SYSTEM_LOINC, loinc, NULL));
	add_coding(concept,
	    gw_fhir_coding(FI_SYSTEM_LAB, code, display[0] ? display : NULL));
	gw_fhir_add_string(concept, "text", abbr ? abbr : name);
	cJSON_AddItemToObject(r, "code", concept);
	cJSON_AddItemToObject(
	    r, "subject", gw_fhir_reference("Patient", subject));
	if (add_datetime(r, "effectiveDateTime", doc, "otettu") != GW_OK ||
	    cJSON_GetObjectItemCaseSensitive(r, "effectiveDateTime") == NULL) {
		cJSON_Delete(r);
		return NULL;
	}
	cJSON_AddItemToObject(r, "valueQuantity", quantity(value, unit));
	has_low = field_num(doc, "viitevali_ala", &low);
	has_high = field_num(doc, "viitevali_yla", &high);
	if (has_low || has_high) {
		cJSON *rr = cJSON_CreateObject();

		if (has_low)
			cJSON_AddItemToObject(rr, "low", quantity(low, unit));
		if (has_high)
			cJSON_AddItemToObject(rr, "high", quantity(high, unit));
		arr = cJSON_AddArrayToObject(r, "referenceRange");
		cJSON_AddItemToArray(arr, rr);
	}
	return r;
}

/* ---- dispatch ---- */

static const struct fi_mapping {
	const char *kind;
	enum gw_rtype rtype;
	cJSON *(*map)(const cJSON *, const struct gw_map_ctx *, const char **);
} fi_mappings[] = {
    {"henkilo", GW_RT_PATIENT, map_henkilo},
    {"diagnoosi", GW_RT_CONDITION, map_diagnoosi},
    {"laakitys", GW_RT_MEDICATION_STATEMENT, map_laakitys},
    {"allergia", GW_RT_ALLERGY_INTOLERANCE, map_allergia},
    {"rokotus", GW_RT_IMMUNIZATION, map_rokotus},
    {"laboratoriotulos", GW_RT_OBSERVATION, map_laboratoriotulos},
};

cJSON *
adapter_fi_map(const char *kind, const cJSON *doc, const struct gw_map_ctx *ctx,
    enum gw_rtype *rtype, const char **category)
{
	const char *cat = NULL;

	if (category != NULL)
		*category = NULL;
	if (kind == NULL || !cJSON_IsObject(doc))
		return NULL;
	for (size_t i = 0; i < GW_ARRAY_LEN(fi_mappings); i++) {
		const struct fi_mapping *m = &fi_mappings[i];
		cJSON *r;

		if (strcmp(kind, m->kind) != 0)
			continue;
		if ((r = m->map(doc, ctx, &cat)) == NULL)
			return NULL;
		if (rtype != NULL)
			*rtype = m->rtype;
		if (category != NULL)
			*category = cat;
		return r;
	}
	return NULL;
}
