/*
 * profile.h: the profile validator.  Checks FHIR resources against the
 * rules in profiles/ (loaded once at start-up, read-only afterwards, so
 * every worker may use them without locks) plus structural checks that hold
 * for every resource; violations are reported as OperationOutcome issues.
 */
#ifndef GW_PROFILE_H
#define GW_PROFILE_H

#include <cjson/cJSON.h>

struct gw_profiles;

/* Load every *.json below dir (one level of subfolders).  NULL with the
 * reason logged on any unreadable or malformed file. */
struct gw_profiles *gw_profiles_load(const char *dir);
void gw_profiles_free(struct gw_profiles *p);

/*
 * Validate resource (a Bundle's entries too, recursively) and append one
 * OperationOutcome issue per violation to issues (a JSON array).  Returns
 * the number of violations (0: valid).
 */
int gw_profiles_validate(const struct gw_profiles *p, const cJSON *resource,
    cJSON *issues);

/* The same for JSON text (a NUL in it, or invalid JSON, is a violation). */
int gw_profiles_validate_text(const struct gw_profiles *p, const char *text,
    size_t len, cJSON *issues);

#endif
