/*
 * datafile.c: strict reading of the code data files in profiles/ (see
 * datafile.h).  Files are small and read once at start-up.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/common/datafile.h"
#include "gateway/gw.h"

#define DATAFILE_MAX_BYTES (4 * 1024 * 1024)

cJSON *
gw_datafile_read(const char *path)
{
	size_t n;
	char *buf = gw_read_file(path, DATAFILE_MAX_BYTES, &n);
	cJSON *doc;

	if (buf == NULL) {
		if (errno == EFBIG)
			gw_error("%s: larger than %d bytes", path,
			    DATAFILE_MAX_BYTES);
		else
			gw_error("%s: cannot open", path);
		return NULL;
	}
	doc = cJSON_ParseWithLength(buf, n);
	free(buf);
	if (!cJSON_IsObject(doc)) {
		gw_error("%s: not a JSON object", path);
		cJSON_Delete(doc);
		return NULL;
	}
	return doc;
}

bool
gw_datafile_known(const cJSON *obj, const char *const *known, const char *path,
    const char *where)
{
	const cJSON *c;

	for (c = obj->child; c != NULL; c = c->next) {
		bool ok = false;

		for (size_t i = 0; known[i] != NULL && !ok; i++)
			ok = c->string != NULL &&
			     strcmp(c->string, known[i]) == 0;
		if (!ok) {
			gw_error("%s: %s: unknown member %s", path, where,
			    c->string ? c->string : "(none)");
			return false;
		}
	}
	return true;
}

const char *
gw_datafile_str(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (!cJSON_IsString(v) || v->valuestring[0] == '\0')
		return NULL;
	return v->valuestring;
}
