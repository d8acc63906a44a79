/*
 * fhir.c: FHIR R4 JSON building blocks: on cJSON trees, and the same
 * shapes written in order (json_out.h); the print buffers of answers.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "gateway/fhir.h"
#include "gateway/gw.h"
#include "gateway/json_out.h"
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

cJSON *
gw_json_add_const(cJSON *obj, const char *key, cJSON *item)
{
	if (item == NULL)
		return NULL;
	if (!cJSON_AddItemToObjectCS(obj, key, item)) {
		cJSON_Delete(item);
		return NULL;
	}
	return item;
}

void
gw_fhir_add_string_const(cJSON *obj, const char *key, const char *value)
{
	if (value != NULL && value[0] != '\0')
		gw_json_add_const(obj, key, cJSON_CreateString(value));
}

cJSON *
gw_fhir_coding(const char *system, const char *code, const char *display)
{
	cJSON *c = cJSON_CreateObject();

	GW_FHIR_ADD_STRING(c, "system", system);
	GW_FHIR_ADD_STRING(c, "code", code);
	GW_FHIR_ADD_STRING(c, "display", display);
	return c;
}

cJSON *
gw_fhir_codeable(cJSON *coding, const char *text)
{
	cJSON *cc = cJSON_CreateObject();

	if (coding != NULL) {
		cJSON *arr = GW_JSON_ADD_ARRAY(cc, "coding");
		cJSON_AddItemToArray(arr, coding);
	}
	GW_FHIR_ADD_STRING(cc, "text", text);
	return cc;
}

/* "type/id", a reference's text, into ref (cut short if it must be). */
static void
reference_text(char ref[160], const char *type, const char *id)
{
	gw_concat(ref, 160, type, "/", id, (char *)NULL);
}

/* base/type/id, an entry's fullUrl, into url (cut short if it must be). */
static void
full_url(char url[512], const char *base, const char *type, const char *id)
{
	gw_concat(url, 512, base, "/", type, "/", id, (char *)NULL);
}

cJSON *
gw_fhir_reference(const char *type, const char *id)
{
	char ref[160];
	cJSON *r = cJSON_CreateObject();

	reference_text(ref, type, id);
	GW_JSON_ADD_STRING(r, "reference", ref);
	return r;
}

void
gw_fhir_write_coding(struct gw_jout *o, const char *system, const char *code,
    const char *display)
{
	gw_jout_object(o);
	GW_JOUT_OPT_STRING(o, "system", system);
	GW_JOUT_OPT_STRING(o, "code", code);
	GW_JOUT_OPT_STRING(o, "display", display);
	gw_jout_end_object(o);
}

void
gw_fhir_write_codeable(struct gw_jout *o, const char *system,
    const char *code, const char *display, const char *text)
{
	gw_jout_object(o);
	if (system != NULL || code != NULL) {
		GW_JOUT_ARRAY(o, "coding");
		gw_fhir_write_coding(o, system, code, display);
		gw_jout_end_array(o);
	}
	GW_JOUT_OPT_STRING(o, "text", text);
	gw_jout_end_object(o);
}

void
gw_fhir_write_reference(struct gw_jout *o, const char *type, const char *id)
{
	char ref[160];

	reference_text(ref, type, id);
	gw_jout_object(o);
	GW_JOUT_STRING(o, "reference", ref);
	gw_jout_end_object(o);
}

void
gw_fhir_write_entry_start(struct gw_jout *o, const char *base,
    const char *type, const char *id)
{
	char url[512];

	full_url(url, base, type, id);
	gw_jout_object(o);
	GW_JOUT_STRING(o, "fullUrl", url);
	GW_JOUT_KEY(o, "resource");
}

cJSON *
gw_fhir_outcome(const char *severity, const char *code,
    const char *diagnostics)
{
	cJSON *oo = cJSON_CreateObject();
	cJSON *issues, *issue;

	GW_JSON_ADD_STRING(oo, "resourceType", "OperationOutcome");
	issues = GW_JSON_ADD_ARRAY(oo, "issue");
	issue = cJSON_CreateObject();
	GW_JSON_ADD_STRING(issue, "severity", severity);
	GW_JSON_ADD_STRING(issue, "code", code);
	GW_FHIR_ADD_STRING(issue, "diagnostics", diagnostics);
	cJSON_AddItemToArray(issues, issue);
	return oo;
}

cJSON *
gw_fhir_bundle_new(const char *type)
{
	cJSON *b = cJSON_CreateObject();

	GW_JSON_ADD_STRING(b, "resourceType", "Bundle");
	GW_JSON_ADD_STRING(b, "type", type);
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
	/* Once it has one, "entry" is the bundle's last member, and cJSON
	 * keeps the last member as child->prev: no walk past the others
	 * (they were a strcmp each, 1 % of a $summary's instructions). */
	entries = bundle->child != NULL ? bundle->child->prev : NULL;
	if (entries == NULL || entries->string == NULL ||
	    strcmp(entries->string, "entry") != 0)
		entries = cJSON_GetObjectItemCaseSensitive(bundle, "entry");
	if (entries == NULL)
		entries = GW_JSON_ADD_ARRAY(bundle, "entry");
	entry = cJSON_CreateObject();
	full_url(url, base, rt->valuestring, id->valuestring);
	GW_JSON_ADD_STRING(entry, "fullUrl", url);
	GW_JSON_ADD(entry, "resource", resource);
	if (search_mode != NULL) {
		cJSON *search = GW_JSON_ADD_OBJECT(entry, "search");
		GW_JSON_ADD_STRING(search, "mode", search_mode);
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

/* Tell the thread-exit hook which buffer is the thread's now. */
static void
scratch_moved(void)
{
	pthread_once(&scratch_once, scratch_key_create);
	pthread_setspecific(scratch_key, scratch.p);
}

char *
gw_fhir_print_scratch(const cJSON *json, size_t *len)
{
	char *before = scratch.p;

	scratch.len = 0;
	gw_json_write(&scratch, json);
	if (scratch.p != before)
		scratch_moved();
	*len = scratch.len;
	return scratch.p;
}

/* Below this, a body is copied out of the print buffer (a copy of a few
 * kB costs less than a new buffer); above, the buffer itself is handed
 * over. */
#define BODY_COPY_MAX 4096

/* The size of the last buffer handed over, for the next to start at: no
 * doubling and copying up to it again. */
static _Thread_local size_t handed_over_cap;

/* The print buffer the body is being written into since
 * gw_fhir_body_open, and where it was before (to tell the exit hook when
 * it moved). */
static _Thread_local char *body_before;

struct gw_jbuf *
gw_fhir_body_open(void)
{
	body_before = scratch.p;
	if (scratch.p == NULL && handed_over_cap > 0)
		gw_jbuf_reserve(&scratch, handed_over_cap - 1);
	scratch.len = 0;
	gw_jbuf_reserve(&scratch, GW_HTTP_HEAD_ROOM);
	scratch.len = GW_HTTP_HEAD_ROOM;
	return &scratch;
}

struct gw_body
gw_fhir_body_close(void)
{
	struct gw_body body = {.room = GW_HTTP_HEAD_ROOM};
	char *before = body_before;

	body_before = NULL;
	body.len = scratch.len - body.room;
	if (body.len <= BODY_COPY_MAX) {
		if (scratch.p != before)
			scratch_moved();
		body.mem = gw_malloc(scratch.len + 1);
		memcpy(body.mem + body.room, scratch.p + body.room,
		    body.len + 1);
		return body;
	}
	/* Shrinking in place moves nothing; the tail goes back to malloc. */
	body.mem = realloc(scratch.p, scratch.len + 1);
	if (body.mem == NULL)
		body.mem = scratch.p;
	handed_over_cap = scratch.cap;
	scratch = (struct gw_jbuf){0};
	if (before != NULL)
		scratch_moved();
	return body;
}

struct gw_body
gw_fhir_print_body(const cJSON *json)
{
	gw_json_write(gw_fhir_body_open(), json);
	return gw_fhir_body_close();
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
	/* Dashes after bytes 4, 6, 8 and 10 (RFC 4122's 8-4-4-4-12). */
	for (int i = 0, o = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = "0123456789abcdef"[b[i] >> 4];
		out[o++] = "0123456789abcdef"[b[i] & 0x0f];
	}
	out[36] = '\0';
}

/* RAND_bytes costs about as much for 16 bytes as for 512 (the DRBG's
 * locking and checks are per call: 6,600 instructions, 1 % of a $summary),
 * so each thread draws 512 at a time.  Document and request ids are not
 * secrets. */
void
gw_fhir_uuid4(char out[37])
{
	static _Thread_local unsigned char pool[512];
	static _Thread_local size_t used = sizeof(pool);
	unsigned char b[16];

	if (used + sizeof(b) > sizeof(pool)) {
		if (RAND_bytes(pool, sizeof(pool)) != 1)
			gw_fatal("no randomness for an id");
		used = 0;
	}
	memcpy(b, pool + used, sizeof(b));
	used += sizeof(b);
	gw_fhir_uuid_text(b, 4, out);
}

void
gw_fhir_now(char *buf, size_t bufsz)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(buf, bufsz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
