/*
 * consent_fhir.h: FHIR R4 Consent <-> consent rule.  Parsing is strict:
 * unknown elements, wrong JSON types, duplicate keys, invalid dates and
 * provision shapes the engine cannot enforce are refused, so nothing is
 * stored that would be enforced differently from what was written.
 */
#ifndef GW_CONSENT_FHIR_H
#define GW_CONSENT_FHIR_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "gateway/consent.h"

struct gw_consent_input {
	char id[64];			/* Consent.id as sent, or "" */
	char patient_ref[64];		/* "fi-..." from Patient/<id>, or "" */
	char patient_system[128];	/* from patient.identifier, or "" */
	char patient_value[64];
	bool research;
	bool permit;
	bool emergency_override;
	char purposes[GW_CONSENT_CODES][12];
	int npurposes;
	char countries[GW_CONSENT_CODES][3];
	int ncountries;
	char excluded[GW_CONSENT_CODES][24];
	int nexcluded;
	char valid_from[40]; /* timestamptz text, "" when open */
	char valid_to[40];
};

/*
 * Parse a Consent from body[0..len).  Returns 0 on success, or the HTTP
 * status to answer (400 malformed, 422 well-formed but not enforceable)
 * with the reason in err.
 */
int gw_consent_from_fhir(const char *body, size_t len,
    struct gw_consent_input *in, char *err, size_t errsz);

/* Postgres array literal "{A,B}" of n codes (width w) into out. */
void gw_consent_array_literal(const char *codes, size_t w, int n, char *out,
    size_t outsz);

/*
 * The columns every consent statement returns, in this order, and the
 * Consent resource rendered from one such row (caller frees).
 */
#define GW_CONSENT_COLUMNS                                                  \
	"source_consent_id, patient_system, patient_id, scope, decision,"  \
	" array_to_string(purposes, ','),"                                 \
	" array_to_string(recipient_countries, ','),"                      \
	" array_to_string(excluded_categories, ','),"                      \
	" to_char(valid_from at time zone 'UTC',"                          \
	" 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"                              \
	" to_char(valid_to at time zone 'UTC',"                            \
	" 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"                              \
	" emergency_override::text,"                                       \
	" to_char(created_at at time zone 'UTC',"                          \
	" 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"                              \
	" to_char(revoked_at at time zone 'UTC',"                          \
	" 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

cJSON *gw_consent_to_fhir(const PGresult *res, int row);

/* The sensitive category of a v3 ActCode security label, and back; NULL if
 * none. */
const char *gw_consent_category_of_label(const char *code);
const char *gw_consent_label_of_category(const char *category);

#endif
