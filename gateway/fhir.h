/*
 * fhir.h: FHIR R4 JSON helpers shared by the gateway and the country
 * adapters: resource types; Coding, CodeableConcept, Reference and Bundle
 * entry shapes, as cJSON trees and written in order (json_out.h);
 * OperationOutcome; the print buffers of answers.
 */
#ifndef GW_FHIR_H
#define GW_FHIR_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "gateway/http.h"

struct gw_jbuf;
struct gw_jout;

/* The resource types an adapter serves. */
enum gw_rtype {
	GW_RT_PATIENT,
	GW_RT_CONDITION,
	GW_RT_ALLERGY_INTOLERANCE,
	GW_RT_MEDICATION_STATEMENT,
	GW_RT_IMMUNIZATION,
	GW_RT_OBSERVATION,
	GW_RT_COUNT
};

/* "Patient", "Condition", ...; NULL if out of range. */
const char *gw_fhir_type_name(enum gw_rtype t);

/* Resource type from its name; GW_OK or GW_ERR if not served. */
int gw_fhir_type_from_name(const char *name, enum gw_rtype *out);

/* {"system":..,"code":..,"display":..}; display may be NULL. Caller frees. */
cJSON *gw_fhir_coding(const char *system, const char *code,
    const char *display);

/* {"coding":[coding],"text":text}; takes coding (may be NULL), text may be
 * NULL.  Caller frees. */
cJSON *gw_fhir_codeable(cJSON *coding, const char *text);

/* {"reference": "Type/id"}.  Caller frees. */
cJSON *gw_fhir_reference(const char *type, const char *id);

/* The same three written as one value at o (json_out.h): a coding; a
 * CodeableConcept of one coding (none when system and code are NULL) and
 * text; a reference.  Parts that are NULL or empty are left out, as the
 * tree builders leave them. */
void gw_fhir_write_coding(struct gw_jout *o, const char *system,
    const char *code, const char *display);
void gw_fhir_write_codeable(struct gw_jout *o, const char *system,
    const char *code, const char *display, const char *text);
void gw_fhir_write_reference(struct gw_jout *o, const char *type,
    const char *id);

/* Open a Bundle entry at o and write {"fullUrl": base/type/id,
 * "resource": up to the resource, which the caller writes before the
 * rest of the entry and its close (gw_fhir_bundle_add's shape, as text). */
void gw_fhir_write_entry_start(struct gw_jout *o, const char *base,
    const char *type, const char *id);

/*
 * Members under literal keys.  cJSON copies every key it is given unless it
 * is told the key is constant; FHIR element names are string literals, so
 * these hand cJSON the literal itself (pasting "" to it refuses anything
 * but a literal at compile time), which saves an allocation, a copy and a
 * free per member: a third of a resource's allocations.  Each evaluates
 * to the added item, or NULL when item is NULL (nothing is added), as
 * cJSON_Add*ToObject do.
 */
cJSON *gw_json_add_const(cJSON *obj, const char *key, cJSON *item);
#define GW_JSON_ADD(obj, key, item) gw_json_add_const((obj), "" key "", (item))
#define GW_JSON_ADD_STRING(obj, key, s)                                        \
	GW_JSON_ADD(obj, key, cJSON_CreateString(s))
#define GW_JSON_ADD_NUMBER(obj, key, n)                                        \
	GW_JSON_ADD(obj, key, cJSON_CreateNumber(n))
#define GW_JSON_ADD_OBJECT(obj, key) GW_JSON_ADD(obj, key, cJSON_CreateObject())
#define GW_JSON_ADD_ARRAY(obj, key) GW_JSON_ADD(obj, key, cJSON_CreateArray())

/* Add a string member under a literal key only when value is non-NULL
 * and non-empty. */
void gw_fhir_add_string_const(cJSON *obj, const char *key, const char *value);
#define GW_FHIR_ADD_STRING(obj, key, value)                                    \
	gw_fhir_add_string_const((obj), "" key "", (value))

/*
 * An OperationOutcome with one issue.  severity: "error" | "fatal" |
 * "warning" | "information"; code: an IssueType code ("invalid",
 * "forbidden", "not-found", "exception", ...).  Caller frees.
 */
cJSON *gw_fhir_outcome(const char *severity, const char *code,
    const char *diagnostics);

/* A new Bundle of the given type ("searchset", "document"); caller frees. */
cJSON *gw_fhir_bundle_new(const char *type);

/*
 * Append resource (taken) to bundle.entry with fullUrl base/Type/id and,
 * when search_mode is non-NULL, search.mode.  Returns GW_OK or GW_ERR if
 * the resource has no resourceType or id (then it is freed).
 */
int gw_fhir_bundle_add(cJSON *bundle, const char *base, cJSON *resource,
    const char *search_mode);

/* Print compactly into a new string (caller frees with free()). */
char *gw_fhir_print(const cJSON *json);

/*
 * Print compactly as an answer's body, with GW_HTTP_HEAD_ROOM before it
 * for the response's head (http.h).  A large document is printed where it
 * stays: the thread's print buffer becomes the body (trimmed to size) and
 * the thread starts a new one; a small one is copied out.  Caller owns
 * .mem (free()).
 */
struct gw_body gw_fhir_print_body(const cJSON *json);

/*
 * The same for a body written as text (json_out.h): open returns this
 * thread's print buffer with the head room taken, for the body to be
 * appended to; close hands it over as gw_fhir_print_body does.  Nothing
 * else may print on the thread in between.
 */
struct gw_jbuf *gw_fhir_body_open(void);
struct gw_body gw_fhir_body_close(void);

/*
 * Print compactly into this thread's reusable buffer and set *len: the text
 * is valid until the thread's next print.  For callers that copy it at once
 * (into an evbuffer, a file buffer).
 */
char *gw_fhir_print_scratch(const cJSON *json, size_t *len);

/*
 * The RFC 4122 text form of the 16 bytes b ("8-4-4-4-12" lowercase hex)
 * into out, after setting b's version (4 random, 5 name-based) and
 * variant bits.
 */
void gw_fhir_uuid_text(unsigned char b[16], int version, char out[37]);

/* A random (version 4) UUID into out, from this thread's pool of random
 * bytes: for ids that must not collide, not for secrets. */
void gw_fhir_uuid4(char out[37]);

/* Current UTC time as an R4 instant with seconds, "2026-11-23T16:00:00Z",
 * into buf (at least 21 bytes). */
void gw_fhir_now(char *buf, size_t bufsz);

#endif
