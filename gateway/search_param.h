/*
 * search_param.h: FHIR search parameter values shared by the search routes
 * (docs/api.md): date prefixes as instant ranges, tokens against codings,
 * and query values written back into paging links.
 */
#ifndef GW_SEARCH_PARAM_H
#define GW_SEARCH_PARAM_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

/*
 * A FHIR date search value ("ge2025-01-31", "lt2025-01-31T10:00:00Z", ...)
 * as the half-open UTC range of instants it admits, in microseconds since
 * the epoch: [*lo, *hi) (LLONG_MIN / LLONG_MAX where open).  Prefixes eq
 * (default), ge, gt, le, lt; precision year, month, day, minute or second
 * (fractions too); a time needs a zone, a date is a UTC day.  GW_OK or
 * GW_ERR.
 */
int gw_search_date_range(const char *value, long long *lo, long long *hi);

/* Microseconds since the epoch as "YYYY-MM-DDThh:mm:ss.ffffffZ" (a
 * timestamptz literal and a FHIR instant). */
void gw_search_format_instant(long long us, char *out, size_t outsz);

enum gw_token_match { GW_TOKEN_INVALID, GW_TOKEN_MISS, GW_TOKEN_HIT };

/*
 * A FHIR token search value against one coding: "code" (any system),
 * "system|code", "system|" (any code of the system), "|code" (a coding
 * without a system); alternatives separated by ','.  system may be NULL
 * (no system).  An empty alternative, or a lone "|", is invalid.
 */
enum gw_token_match gw_search_token_match(const char *value,
    const char *system, const char *code);

/* Is value a well-formed token list? */
bool gw_search_token_valid(const char *value);

/* Does any coding of a CodeableConcept match the token list value? */
bool gw_search_concept_matches(const char *value, const cJSON *concept);

/* Append value to url percent-encoded (RFC 3986 unreserved kept), as far
 * as urlsz allows. */
void gw_search_append_query_value(char *url, size_t urlsz, const char *value);

#endif
