/*
 * datafile.h: reading the adapters' code data in profiles/ (categories.json,
 * terminology/NAME.json).  Those files decide what is sensitive and how codes
 * are translated, so they are read strictly: a size limit, valid JSON, and
 * no member a reader does not know (a typo fails the start-up instead of
 * silently meaning nothing).
 */
#ifndef GW_ADAPTER_DATAFILE_H
#define GW_ADAPTER_DATAFILE_H

#include <stdbool.h>

#include <cjson/cJSON.h>

/* The JSON document in the file at path (caller frees with cJSON_Delete),
 * or NULL with the reason logged (missing, too large, not JSON, not an
 * object). */
cJSON *gw_datafile_read(const char *path);

/* Are all members of obj (an object) named in known (NULL-terminated)?
 * Logs the first stranger as "<path>: <where>: unknown member NAME". */
bool gw_datafile_known(const cJSON *obj, const char *const *known,
    const char *path, const char *where);

/* A non-empty string member of obj, or NULL. */
const char *gw_datafile_str(const cJSON *obj, const char *name);

#endif
