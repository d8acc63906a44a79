/*
 * fhir.c: FHIR R4 JSON building blocks on cJSON.  Everything here builds
 * trees; serialisation is one cJSON_PrintUnformatted at the edge.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/fhir.h"
#include "gateway/gw.h"
#include "gateway/json_write.h"

static const char *const type_names[GW_RT_COUNT] = {
	[GW_RT_PATIENT] = "Patient",
	[GW_RT_CONDITION] = "Condition",
	[GW_RT_ALLERGY_INTOLERANCE] = "AllergyIntolerance",
	[GW_RT_MEDICATION_STATEMENT] = "MedicationStatement",
	[GW_RT_IMMUNIZATION] = "Immunization",
	[GW_RT_OBSERVATION] = "Observation",
};

const char *
gw_fhir_type_name(enum gw_rtype t)
{
	if ((int)t < 0 || t >= GW_RT_COUNT)
		return NULL;
	return type_names[t];
}

int
gw_fhir_type_from_name(const char *name, enum gw_rtype *out)
{
	for (int i = 0; i < GW_RT_COUNT; i++) {
		if (strcmp(name, type_names[i]) == 0) {
			*out = (enum gw_rtype)i;
			return GW_OK;
		}
	}
	return GW_ERR;
}

void
gw_fhir_add_string(cJSON *obj, const char *name, const char *value)
{
	if (value != NULL && value[0] != '\0')
		cJSON_AddStringToObject(obj, name, value);
}

cJSON *
gw_fhir_coding(const char *system, const char *code, const char *display)
{
	cJSON *c = cJSON_CreateObject();

	gw_fhir_add_string(c, "system", system);
	gw_fhir_add_string(c, "code", code);
	gw_fhir_add_string(c, "display", display);
	return c;
}

cJSON *
gw_fhir_codeable(cJSON *coding, const char *text)
{
	cJSON *cc = cJSON_CreateObject();

	if (coding != NULL) {
		cJSON *arr = cJSON_AddArrayToObject(cc, "coding");
		cJSON_AddItemToArray(arr, coding);
	}
	gw_fhir_add_string(cc, "text", text);
	return cc;
}

cJSON *
gw_fhir_reference(const char *type, const char *id)
{
	char ref[160];
	cJSON *r = cJSON_CreateObject();

	gw_concat(ref, sizeof(ref), type, "/", id, (char *)NULL);
	cJSON_AddStringToObject(r, "reference", ref);
	return r;
}

cJSON *
gw_fhir_outcome(const char *severity, const char *code,
    const char *diagnostics)
{
	cJSON *oo = cJSON_CreateObject();
	cJSON *issues, *issue;

	cJSON_AddStringToObject(oo, "resourceType", "OperationOutcome");
	issues = cJSON_AddArrayToObject(oo, "issue");
	issue = cJSON_CreateObject();
	cJSON_AddStringToObject(issue, "severity", severity);
	cJSON_AddStringToObject(issue, "code", code);
	gw_fhir_add_string(issue, "diagnostics", diagnostics);
	cJSON_AddItemToArray(issues, issue);
	return oo;
}

cJSON *
gw_fhir_bundle_new(const char *type)
{
	cJSON *b = cJSON_CreateObject();

	cJSON_AddStringToObject(b, "resourceType", "Bundle");
	cJSON_AddStringToObject(b, "type", type);
	return b;
}

int
gw_fhir_bundle_add(cJSON *bundle, const char *base, cJSON *resource,
    const char *search_mode)
{
	const cJSON *rt = cJSON_GetObjectItemCaseSensitive(resource,
	    "resourceType");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(resource, "id");
	cJSON *entries, *entry;
	char url[512];

	if (!cJSON_IsString(rt) || !cJSON_IsString(id)) {
		cJSON_Delete(resource);
		return GW_ERR;
	}
	entries = cJSON_GetObjectItemCaseSensitive(bundle, "entry");
	if (entries == NULL)
		entries = cJSON_AddArrayToObject(bundle, "entry");
	entry = cJSON_CreateObject();
	gw_concat(url, sizeof(url), base, "/", rt->valuestring, "/",
	    id->valuestring, (char *)NULL);
	cJSON_AddStringToObject(entry, "fullUrl", url);
	cJSON_AddItemToObject(entry, "resource", resource);
	if (search_mode != NULL) {
		cJSON *search = cJSON_AddObjectToObject(entry, "search");
		cJSON_AddStringToObject(search, "mode", search_mode);
	}
	cJSON_AddItemToArray(entries, entry);
	return GW_OK;
}

/* This thread's print buffer: it grows to the largest document printed
 * and is reused, so printing allocates nothing in the steady state. */
static _Thread_local struct gw_jbuf scratch;
/* Frees a thread's buffer when the thread exits. */
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void
scratch_key_create(void)
{
	if (pthread_key_create(&scratch_key, free) != 0)
		gw_fatal("pthread_key_create failed");
}

char *
gw_fhir_print_scratch(const cJSON *json, size_t *len)
{
	char *before = scratch.p;

	scratch.len = 0;
	gw_json_write(&scratch, json);
	if (scratch.p != before) {
		pthread_once(&scratch_once, scratch_key_create);
		pthread_setspecific(scratch_key, scratch.p);
	}
	*len = scratch.len;
	return scratch.p;
}

char *
gw_fhir_print(const cJSON *json)
{
	size_t len;
	const char *text = gw_fhir_print_scratch(json, &len);
	char *s = gw_malloc(len + 1);

	memcpy(s, text, len + 1);
	return s;
}

void
gw_fhir_uuid_text(unsigned char b[16], int version, char out[37])
{
	b[6] = (unsigned char)((b[6] & 0x0f) | (version << 4));
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37,
	    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10],
	    b[11], b[12], b[13], b[14], b[15]);
}

void
gw_fhir_now(char *buf, size_t bufsz)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(buf, bufsz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
