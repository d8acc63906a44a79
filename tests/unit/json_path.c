/*
 * json_path.c: see json_path.h.
 */
#include <stdlib.h>
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

void
test_record_value(char *out, size_t cap, size_t *len, const char *text)
{
	bool quote = text[0] == '\0' ||
	    strpbrk(text, "\"\\(), \t\n\v\f\r") != NULL;

	if (quote)
		out[(*len)++] = '"';
	for (const char *c = text; *c != '\0'; c++) {
		CU_ASSERT_FATAL(*len + 4 < cap);
		if (quote && (*c == '"' || *c == '\\'))
			out[(*len)++] = *c;
		out[(*len)++] = *c;
	}
	if (quote)
		out[(*len)++] = '"';
}

/* One value of a test doc as record_out writes it (gateway/row.c). */
static void
put_value(char *out, size_t cap, size_t *len, const cJSON *v)
{
	char *num = NULL;
	const char *text;

	if (cJSON_IsNull(v))
		return;
	if (cJSON_IsBool(v)) {
		text = cJSON_IsTrue(v) ? "t" : "f";
	} else if (cJSON_IsString(v)) {
		text = v->valuestring;
	} else {
		CU_ASSERT_FATAL(cJSON_IsNumber(v));
		num = cJSON_PrintUnformatted(v);
		text = num;
	}
	test_record_value(out, cap, len, text);
	cJSON_free(num);
}

const struct gw_row *
test_row_of(const cJSON *doc)
{
	static struct gw_row row;
	static struct gw_row_columns cols;
	char names[GW_ROW_COLUMNS_TEXT] = "", rec[8192];
	size_t len = 0;
	const cJSON *v;

	CU_ASSERT_FATAL(cJSON_IsObject(doc));
	rec[len++] = '(';
	cJSON_ArrayForEach(v, doc)
	{
		if (v != doc->child) {
			CU_ASSERT_FATAL(strlen(names) + 3 < sizeof(names));
			strcat(names, ", ");
			rec[len++] = ',';
		}
		CU_ASSERT_FATAL(strlen(names) + strlen(v->string) <
		    sizeof(names));
		strcat(names, v->string);
		put_value(rec, sizeof(rec), &len, v);
	}
	rec[len++] = ')';
	CU_ASSERT_EQUAL_FATAL(gw_row_columns_parse(&cols, names), GW_OK);
	CU_ASSERT_EQUAL_FATAL(gw_row_parse(&row, &cols, rec, len), GW_OK);
	return &row;
}

cJSON *
test_map(const struct gw_adapter *a, const char *kind,
    const struct gw_row *doc, const struct gw_map_ctx *ctx,
    enum gw_rtype *rtype, const char **category)
{
	struct gw_jbuf text = { 0 }, printed = { 0 };
	struct gw_jout to = gw_jout_text(&text);
	struct gw_mapped tm, mm;
	int text_rc = a->map(kind, doc, ctx, &to, &tm);
	cJSON *tree = gw_adapter_map_tree(a, kind, doc, ctx, &mm);

	*category = NULL;

	CU_ASSERT_EQUAL(text_rc == GW_OK, tree != NULL);
	if (tree != NULL && text_rc == GW_OK) {
		gw_json_write(&printed, tree);
		CU_ASSERT_STRING_EQUAL(text.p, printed.p);
		CU_ASSERT_STRING_EQUAL(tm.id, mm.id);
		CU_ASSERT_EQUAL(tm.type, mm.type);
		CU_ASSERT_PTR_EQUAL(tm.category, mm.category);
		*rtype = mm.type;
		*category = mm.category;
	} else {
		/* Refused: nothing is left written. */
		CU_ASSERT_EQUAL(text.len, 0);
	}
	free(text.p);
	free(printed.p);
	return tree;
}
