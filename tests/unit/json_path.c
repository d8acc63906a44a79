/*
 * json_path.c: see json_path.h.
 */
#include <string.h>

#include "gateway/gw.h"
#include "tests/unit/json_path.h"

const char *
test_json_str_at(const cJSON *root, const char *path)
{
	char buf[256], *seg, *next;
	const cJSON *cur = root;

	if (gw_strlcpy(buf, path, sizeof(buf)) != GW_OK)
		return NULL;
	for (seg = buf; seg != NULL && cur != NULL; seg = next) {
		next = strchr(seg, '.');
		if (next != NULL)
			*next++ = '\0';
		if (seg[0] >= '0' && seg[0] <= '9') {
			long i;

			if (gw_parse_long(seg, 0, 1000, &i) != GW_OK)
				return NULL;
			cur = cJSON_GetArrayItem(cur, (int)i);
		} else {
			cur = cJSON_GetObjectItemCaseSensitive(cur, seg);
		}
	}
	return cJSON_IsString(cur) ? cur->valuestring : NULL;
}

const struct gw_row *
test_row_of(const cJSON *doc)
{
	static struct gw_row row;
	char *text = cJSON_PrintUnformatted(doc);

	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_EQUAL_FATAL(gw_row_parse(&row, text, strlen(text)), GW_OK);
	cJSON_free(text);
	return &row;
}
