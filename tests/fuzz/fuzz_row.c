/*
 * fuzz_row.c: gw_row_parse, the reader of registry rows, on any bytes.
 * Whatever it accepts, cJSON must read as the same object: the same names
 * in the same order, the same kinds, strings byte for byte and numbers as
 * the same double.  (cJSON accepts more -- nesting, trailing bytes -- and
 * that direction is not checked.)  A row is parsed twice into one
 * gw_row, so the reuse of its buffers runs too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "gateway/gw.h"
#include "gateway/row.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_same(const struct gw_row *row, const char *text, size_t size)
{
	cJSON *doc = cJSON_ParseWithLength(text, size), *v;
	int i = 0;

	if (!cJSON_IsObject(doc))
		__builtin_trap();
	cJSON_ArrayForEach(v, doc)
	{
		const struct gw_row_field *f;

		if (i >= row->n)
			__builtin_trap();
		f = &row->field[i++];
		if (strcmp(f->name, v->string) != 0)
			__builtin_trap();
		switch (f->kind) {
		case GW_ROW_STRING:
			if (!cJSON_IsString(v) ||
			    strcmp(f->text, v->valuestring) != 0)
				__builtin_trap();
			break;
		case GW_ROW_NUMBER:
			if (!cJSON_IsNumber(v) ||
			    strtod(f->text, NULL) != v->valuedouble)
				__builtin_trap();
			break;
		case GW_ROW_TRUE:
			if (!cJSON_IsTrue(v))
				__builtin_trap();
			break;
		case GW_ROW_FALSE:
			if (!cJSON_IsFalse(v))
				__builtin_trap();
			break;
		case GW_ROW_NULL:
			if (!cJSON_IsNull(v))
				__builtin_trap();
			break;
		}
	}
	if (i != row->n)
		__builtin_trap();
	cJSON_Delete(doc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gw_row row;
	/* An exact copy, so reads past size are caught. */
	char *text = malloc(size ? size : 1);

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	for (int pass = 0; pass < 2; pass++) {
		if (gw_row_parse(&row, text, size) == GW_OK)
			check_same(&row, text, size);
		else if (row.n != 0)
			__builtin_trap();
	}
	free(text);
	return 0;
}
