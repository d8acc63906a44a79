/*
 * row.c: the reader of registry rows (see row.h).
 *
 * One pass over the input writes every name and value into row->text,
 * which is sized before the pass so that the pointers handed out never
 * move: a string's unescaped bytes and its NUL never take more room than
 * the string with its quotes, nor a number and its NUL more than the
 * number and the byte after it (a ',', '}' or space of the object; an
 * input that ends after the number is refused, but its NUL still fits in
 * the one byte the buffer keeps past the input's length).
 */
#include <stdlib.h>
#include <string.h>

#include "gateway/gw.h"
#include "gateway/json_scan.h"
#include "gateway/row.h"

struct reader {
	const char *p, *end;
	char *out;
};

static void
skip_space(struct reader *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' ||
	    *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

/* Consume c if it is next. */
static bool
take(struct reader *r, char c)
{
	if (r->p < r->end && *r->p == c) {
		r->p++;
		return true;
	}
	return false;
}

static int
hex4(const char *p, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		int d = gw_hex_value((unsigned char)p[i]);

		if (d < 0)
			return GW_ERR;
		v = v << 4 | (unsigned)d;
	}
	*out = v;
	return GW_OK;
}

/* Code point cp (1..0x10ffff, no surrogate) as UTF-8. */
static void
put_utf8(struct reader *r, unsigned cp)
{
	char *o = r->out;

	if (cp < 0x80) {
		*o++ = (char)cp;
	} else if (cp < 0x800) {
		*o++ = (char)(0xc0 | (cp >> 6));
		*o++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*o++ = (char)(0xe0 | (cp >> 12));
		*o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*o++ = (char)(0xf0 | (cp >> 18));
		*o++ = (char)(0x80 | ((cp >> 12) & 0x3f));
		*o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	}
	r->out = o;
}

/* The XXXX of a \uXXXX escape at r->p, with the low half that must follow
 * a high surrogate.  Six bytes become at most three, twelve at most four. */
static int
read_unicode(struct reader *r)
{
	unsigned cp, low;

	if (r->end - r->p < 4 || hex4(r->p, &cp) != GW_OK)
		return GW_ERR;
	r->p += 4;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return GW_ERR;
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (r->end - r->p < 6 || r->p[0] != '\\' || r->p[1] != 'u' ||
		    hex4(r->p + 2, &low) != GW_OK || low < 0xdc00 ||
		    low > 0xdfff)
			return GW_ERR;
		r->p += 6;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
	}
	if (cp == 0)
		return GW_ERR;
	put_utf8(r, cp);
	return GW_OK;
}

/* The string whose opening quote is at r->p, unescaped and NUL-terminated
 * at r->out; NULL if it is not a JSON string. */
static const char *
read_string(struct reader *r)
{
	const char *start = r->out;

	r->p++;
	for (;;) {
		const char *run = r->p;

		/* Most of a row is plain text: copy it in runs, up to a
		 * byte a string cannot hold as it is (RFC 8259). */
		r->p = gw_json_next_special_before(r->p, r->end);
		memcpy(r->out, run, (size_t)(r->p - run));
		r->out += r->p - run;
		if (r->p == r->end)
			return NULL;
		if (take(r, '"')) {
			*r->out++ = '\0';
			return start;
		}
		if (!take(r, '\\') || r->p == r->end)
			return NULL; /* a raw control character, or a lone \ */
		switch (*r->p++) {
		case '"': *r->out++ = '"'; break;
		case '\\': *r->out++ = '\\'; break;
		case '/': *r->out++ = '/'; break;
		case 'b': *r->out++ = '\b'; break;
		case 'f': *r->out++ = '\f'; break;
		case 'n': *r->out++ = '\n'; break;
		case 'r': *r->out++ = '\r'; break;
		case 't': *r->out++ = '\t'; break;
		case 'u':
			if (read_unicode(r) != GW_OK)
				return NULL;
			break;
		default:
			return NULL;
		}
	}
}

static bool
digit_at(const struct reader *r, const char *p)
{
	return p < r->end && *p >= '0' && *p <= '9';
}

/* A JSON number at r->p, copied as it is and NUL-terminated; NULL if the
 * text there is not one (RFC 8259: no leading zeros, no bare '.', no '+'). */
static const char *
read_number(struct reader *r)
{
	const char *p = r->p, *start = r->out;

	if (p < r->end && *p == '-')
		p++;
	if (!digit_at(r, p))
		return NULL;
	if (*p == '0')
		p++;
	else
		while (digit_at(r, p))
			p++;
	if (p < r->end && *p == '.') {
		if (!digit_at(r, ++p))
			return NULL;
		while (digit_at(r, p))
			p++;
	}
	if (p < r->end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < r->end && (*p == '+' || *p == '-'))
			p++;
		if (!digit_at(r, p))
			return NULL;
		while (digit_at(r, p))
			p++;
	}
	memcpy(r->out, r->p, (size_t)(p - r->p));
	r->out += p - r->p;
	*r->out++ = '\0';
	r->p = p;
	return start;
}

/* Consume the literal word if it is next. */
static bool
take_word(struct reader *r, const char *word, size_t n)
{
	if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
		return false;
	r->p += n;
	return true;
}

/* The value at r->p into f; GW_ERR for anything but a scalar. */
static int
read_value(struct reader *r, struct gw_row_field *f)
{
	f->text = "";
	if (r->p == r->end)
		return GW_ERR;
	switch (*r->p) {
	case '"':
		f->kind = GW_ROW_STRING;
		f->text = read_string(r);
		return f->text != NULL ? GW_OK : GW_ERR;
	case 't':
		f->kind = GW_ROW_TRUE;
		return take_word(r, "true", 4) ? GW_OK : GW_ERR;
	case 'f':
		f->kind = GW_ROW_FALSE;
		return take_word(r, "false", 5) ? GW_OK : GW_ERR;
	case 'n':
		f->kind = GW_ROW_NULL;
		return take_word(r, "null", 4) ? GW_OK : GW_ERR;
	default:
		f->kind = GW_ROW_NUMBER;
		f->text = read_number(r);
		return f->text != NULL ? GW_OK : GW_ERR;
	}
}

static void
add_field(struct gw_row *row, const struct gw_row_field *f)
{
	if (row->n == row->field_cap) {
		row->field_cap = row->field_cap ? 2 * row->field_cap : 32;
		row->field = gw_realloc(row->field,
		    (size_t)row->field_cap * sizeof(row->field[0]));
	}
	row->field[row->n++] = *f;
}

int
gw_row_parse(struct gw_row *row, const char *json, size_t len)
{
	struct reader r = { .p = json, .end = json + len };

	row->n = 0;
	if (len >= row->text_cap) {
		if (row->text != NULL)
			gw_free_zero(row->text, row->text_cap);
		row->text_cap = len + 1;
		row->text = gw_malloc(row->text_cap);
	}
	r.out = row->text;
	skip_space(&r);
	if (!take(&r, '{'))
		goto err;
	skip_space(&r);
	if (!take(&r, '}')) {
		for (;;) {
			struct gw_row_field f;

			if (r.p == r.end || *r.p != '"' ||
			    (f.name = read_string(&r)) == NULL)
				goto err;
			skip_space(&r);
			if (!take(&r, ':'))
				goto err;
			skip_space(&r);
			if (read_value(&r, &f) != GW_OK)
				goto err;
			add_field(row, &f);
			skip_space(&r);
			if (take(&r, '}'))
				break;
			if (!take(&r, ','))
				goto err;
			skip_space(&r);
		}
	}
	skip_space(&r);
	if (r.p != r.end)
		goto err;
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
