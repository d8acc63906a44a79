/*
 * row.c: the reader of registry rows (see row.h).
 *
 * One pass over the record writes every value into row->text, which is
 * sized before the pass so that the pointers handed out never move: a
 * quoted value's bytes and its NUL never take more room than the value
 * with its quotes, nor an unquoted value and its NUL more than the value
 * and the ',' or ')' after it.
 *
 * The form is record_out's (PostgreSQL's src/backend/utils/adt/rowtypes.c):
 * values separated by ',' inside '(' and ')'; NULL is nothing at all; a
 * value is quoted when it is empty or holds a quote, a backslash, a
 * parenthesis, a comma or white space, and inside the quotes each '"' and
 * each '\' is written twice.
 */
#include <stdlib.h>
#include <string.h>

#include "gateway/gw.h"
#include "gateway/json_scan.h"
#include "gateway/row.h"

/* --- column lists --------------------------------------------------- */

static bool
name_byte(unsigned char c, bool first)
{
	return (c >= 'a' && c <= 'z') || c == '_' || c >= 0x80 ||
	       (!first && c >= '0' && c <= '9');
}

int
gw_row_columns_parse(struct gw_row_columns *cols, const char *list)
{
	const char *p = list;
	char *out = cols->text;

	cols->n = 0;
	for (;;) {
		const char *start;
		size_t len;

		while (*p == ' ')
			p++;
		start = p;
		while (*p != '\0' && name_byte((unsigned char)*p, p == start))
			p++;
		len = (size_t)(p - start);
		if (len == 0 || cols->n == GW_ROW_COLUMNS_MAX ||
		    (size_t)(cols->text + sizeof(cols->text) - out) < len + 1)
			goto err;
		memcpy(out, start, len);
		out[len] = '\0';
		for (int i = 0; i < cols->n; i++)
			if (strcmp(cols->name[i], out) == 0)
				goto err;
		cols->name[cols->n++] = out;
		out += len + 1;
		while (*p == ' ')
			p++;
		if (*p == '\0')
			return GW_OK;
		if (*p++ != ',')
			goto err;
	}
err:
	cols->n = 0;
	return GW_ERR;
}

/* --- records -------------------------------------------------------- */

struct reader {
	const char *p, *end;
	char *out;
};

/* The quoted value whose opening quote is at r->p, unquoted and
 * NUL-terminated at r->out; NULL if the quotes do not close as
 * record_out closes them. */
static const char *
read_quoted(struct reader *r)
{
	const char *start = r->out;

	r->p++;
	for (;;) {
		const char *run = r->p;

		/* Copy plain text in runs, up to a quote, a backslash or a
		 * control character (the scan the JSON writer uses). */
		r->p = gw_json_next_special_before(r->p, r->end);
		memcpy(r->out, run, (size_t)(r->p - run));
		r->out += r->p - run;
		if (r->p == r->end)
			return NULL;
		switch (*r->p) {
		case '"':
			if (r->end - r->p >= 2 && r->p[1] == '"') {
				*r->out++ = '"';
				r->p += 2;
				break;
			}
			r->p++;
			*r->out++ = '\0';
			return start;
		case '\\':
			if (r->end - r->p < 2 || r->p[1] != '\\')
				return NULL;
			*r->out++ = '\\';
			r->p += 2;
			break;
		case '\0':
			return NULL;
		default: /* a control character: text may hold one */
			*r->out++ = *r->p++;
			break;
		}
	}
}

/* The unquoted value at r->p, up to the ',' or ')' after it; NULL if it
 * holds a byte that record_out would have quoted. */
static const char *
read_plain(struct reader *r)
{
	const char *start = r->out;
	const char *p = r->p;

	while (p < r->end && *p != ',' && *p != ')') {
		unsigned char c = (unsigned char)*p;

		if (c == '"' || c == '\\' || c == '(' || c == ' ' ||
		    (c >= '\t' && c <= '\r') || c == '\0')
			return NULL;
		p++;
	}
	memcpy(r->out, r->p, (size_t)(p - r->p));
	r->out += p - r->p;
	*r->out++ = '\0';
	r->p = p;
	return start;
}

static void
fields_room(struct gw_row *row, int n)
{
	if (n <= row->field_cap)
		return;
	free(row->field);
	row->field_cap = n;
	row->field = gw_malloc((size_t)n * sizeof(row->field[0]));
}

int
gw_row_parse(struct gw_row *row, const struct gw_row_columns *cols,
    const char *rec, size_t len)
{
	struct reader r = { .p = rec, .end = rec + len };

	row->n = 0;
	if (cols->n < 1)
		return GW_ERR;
	if (len >= row->text_cap) {
		if (row->text != NULL)
			gw_free_zero(row->text, row->text_cap);
		row->text_cap = len + 1;
		row->text = gw_malloc(row->text_cap);
	}
	fields_room(row, cols->n);
	r.out = row->text;
	if (len < 2 || *r.p++ != '(')
		goto err;
	for (int i = 0; i < cols->n; i++) {
		struct gw_row_field *f = &row->field[i];

		f->name = cols->name[i];
		if (r.p == r.end)
			goto err;
		if (*r.p == ',' || *r.p == ')') {
			f->kind = GW_ROW_NULL;
			f->text = "";
		} else {
			f->kind = GW_ROW_TEXT;
			f->text = *r.p == '"' ? read_quoted(&r) : read_plain(&r);
			if (f->text == NULL)
				goto err;
		}
		if (r.p == r.end || *r.p++ != (i + 1 < cols->n ? ',' : ')'))
			goto err;
	}
	if (r.p != r.end)
		goto err;
	row->n = cols->n;
	return GW_OK;
err:
	row->n = 0;
	return GW_ERR;
}

const struct gw_row_field *
gw_row_get(const struct gw_row *row, const char *name)
{
	for (int i = 0; i < row->n; i++)
		if (row->field[i].name[0] == name[0] &&
		    strcmp(row->field[i].name, name) == 0)
			return &row->field[i];
	return NULL;
}

void
gw_row_free(struct gw_row *row)
{
	if (row->text != NULL)
		gw_free_zero(row->text, row->text_cap);
	free(row->field);
	*row = (struct gw_row){ 0 };
}
