/*
 * fuzz_row.c: gw_row_parse, the reader of registry rows, on any bytes.
 * The first byte picks how many columns (1 to 8) the rest is read
 * against.  A second reader, written here the plain way (a byte at a
 * time, no scan), must accept exactly what gw_row_parse accepts and read
 * the same values and NULLs; and what both accept, written again with
 * the same quoting, must be the input byte for byte.  A row is parsed
 * into one gw_row again and again, so the reuse of its buffers runs too.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/gw.h"
#include "gateway/row.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define COLS_MAX 8

struct plain_row {
	char *value[COLS_MAX]; /* NULL for a NULL */
	bool quoted[COLS_MAX];
};

static void
plain_free(struct plain_row *r)
{
	for (int i = 0; i < COLS_MAX; i++)
		free(r->value[i]);
	memset(r, 0, sizeof(*r));
}

/* record_out's form, read a byte at a time. */
static bool
plain_parse(const char *rec, size_t len, int n, struct plain_row *r)
{
	size_t p = 0;

	memset(r, 0, sizeof(*r));
	if (len == 0 || rec[p++] != '(')
		return false;
	for (int i = 0; i < n; i++) {
		size_t k = 0;

		if (p >= len)
			return false;
		if (rec[p] != ',' && rec[p] != ')') {
			/* at most one byte of value per byte of input */
			r->value[i] = calloc(1, len + 1);
			if (r->value[i] == NULL)
				abort();
		}
		if (rec[p] == '"') {
			r->quoted[i] = true;
			for (p++;; ) {
				if (p >= len || rec[p] == '\0')
					return false;
				if (rec[p] == '"' || rec[p] == '\\') {
					if (p + 1 < len && rec[p + 1] == rec[p]) {
						r->value[i][k++] = rec[p];
						p += 2;
						continue;
					}
					if (rec[p] == '\\')
						return false;
					p++;
					break;
				}
				r->value[i][k++] = rec[p++];
			}
		} else {
			while (p < len && rec[p] != ',' && rec[p] != ')') {
				if (strchr("\"\\( \t\n\v\f\r", rec[p]) != NULL)
					return false; /* NUL included */
				r->value[i][k++] = rec[p++];
			}
		}
		if (p >= len || rec[p++] != (i + 1 < n ? ',' : ')'))
			return false;
	}
	return p == len;
}

/* r written with the quoting it was read with; *len bytes. */
static char *
plain_write(const struct plain_row *r, int n, size_t *len)
{
	size_t cap = 2 + COLS_MAX, k = 0;
	char *out;

	for (int i = 0; i < n; i++)
		cap += r->value[i] ? 2 * strlen(r->value[i]) + 2 : 0;
	if ((out = malloc(cap)) == NULL)
		abort();
	out[k++] = '(';
	for (int i = 0; i < n; i++) {
		if (i > 0)
			out[k++] = ',';
		if (r->value[i] == NULL)
			continue;
		if (r->quoted[i])
			out[k++] = '"';
		for (const char *v = r->value[i]; *v != '\0'; v++) {
			if (r->quoted[i] && (*v == '"' || *v == '\\'))
				out[k++] = *v;
			out[k++] = *v;
		}
		if (r->quoted[i])
			out[k++] = '"';
	}
	out[k++] = ')';
	*len = k;
	return out;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gw_row row;
	static struct gw_row_columns cols;
	static const char *const lists[COLS_MAX] = {"a", "a, b", "a, b, c",
	    "a, b, c, d", "a, b, c, d, e", "a, b, c, d, e, f",
	    "a, b, c, d, e, f, g", "a, b, c, d, e, f, g, h"};
	struct plain_row plain;
	bool ours, theirs;
	char *rec;
	size_t len;

	if (size == 0)
		return 0;
	if (gw_row_columns_parse(&cols, lists[data[0] % COLS_MAX]) != GW_OK)
		abort();
	/* An exact copy, so reads past size are caught. */
	len = size - 1;
	if ((rec = malloc(len ? len : 1)) == NULL)
		return 0;
	memcpy(rec, data + 1, len);
	ours = gw_row_parse(&row, &cols, rec, len) == GW_OK;
	theirs = plain_parse(rec, len, cols.n, &plain);
	if (ours != theirs || (!ours && row.n != 0))
		__builtin_trap();
	if (ours) {
		char *again;
		size_t alen;

		if (row.n != cols.n)
			__builtin_trap();
		for (int i = 0; i < row.n; i++) {
			const struct gw_row_field *f = &row.field[i];

			if (f->name != cols.name[i] ||
			    (plain.value[i] == NULL) != (f->kind == GW_ROW_NULL) ||
			    strcmp(f->text, plain.value[i] ? plain.value[i] :
			        "") != 0)
				__builtin_trap();
		}
		again = plain_write(&plain, cols.n, &alen);
		if (alen != len || memcmp(again, rec, len) != 0)
			__builtin_trap();
		free(again);
	}
	plain_free(&plain);
	free(rec);
	return 0;
}
