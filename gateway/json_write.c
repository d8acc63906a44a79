/*
 * json_write.c: the compact JSON writer (see json_write.h).
 */
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/gw.h"
#include "gateway/json_scan.h"
#include "gateway/json_write.h"

void
gw_jbuf_grow(struct gw_jbuf *b, size_t n)
{
	size_t cap;

	if (b->len + n + 1 <= b->cap)
		return;
	cap = b->cap ? b->cap : 256;
	while (b->len + n + 1 > cap)
		cap *= 2;
	b->p = gw_realloc(b->p, cap);
	b->cap = cap;
}

static inline void
put(struct gw_jbuf *b, const char *s, size_t n)
{
	gw_jbuf_reserve(b, n);
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static inline void
put_char(struct gw_jbuf *b, char c)
{
	gw_jbuf_reserve(b, 1);
	b->p[b->len++] = c;
	b->p[b->len] = '\0';
}

/* The escaped form of a byte gw_json_next_special stops at. */
static void
put_escaped(struct gw_jbuf *b, unsigned char c)
{
	char esc[8];

	switch (c) {
	case '"': put(b, "\\\"", 2); break;
	case '\\': put(b, "\\\\", 2); break;
	case '\b': put(b, "\\b", 2); break;
	case '\f': put(b, "\\f", 2); break;
	case '\n': put(b, "\\n", 2); break;
	case '\r': put(b, "\\r", 2); break;
	case '\t': put(b, "\\t", 2); break;
	default:
		snprintf(esc, sizeof(esc), "\\u%04x", c);
		put(b, esc, 6);
		break;
	}
}

/* Almost every string needs no escape: one scan finds its end (the NUL is
 * one of the bytes gw_json_next_special stops at) and it is copied with its quotes in one
 * reservation; the first byte that needs an escape sends the rest down the
 * slow path. */
void
gw_json_write_string(struct gw_jbuf *b, const char *s)
{
	const unsigned char *u = (const unsigned char *)(s != NULL ? s : "");
	const unsigned char *p = u;
	size_t n;
	char *out;

	p = gw_json_next_special(u);
	n = (size_t)(p - u);
	gw_jbuf_reserve(b, n + 2);
	out = b->p + b->len;
	*out++ = '"';
	memcpy(out, u, n);
	b->len += 1 + n;
	while (*p != '\0') {
		const unsigned char *run;

		put_escaped(b, *p++);
		run = p;
		p = gw_json_next_special(p);
		put(b, (const char *)run, (size_t)(p - run));
	}
	gw_jbuf_reserve(b, 1);
	b->p[b->len++] = '"';
	b->p[b->len] = '\0';
}

static bool
same_double(double a, double b)
{
	double larger = fabs(a) > fabs(b) ? fabs(a) : fabs(b);

	return fabs(a - b) <= larger * DBL_EPSILON;
}

/*
 * The short decimal of d, when it has one, into out (at least 24 bytes);
 * the end of the text, or NULL.  A decimal of at most 15 significant
 * digits and 9 decimals whose nearest double is d: "%1.15g" writes
 * exactly its digits (a double's error is far below the 15th), they read
 * back as d, and %g leaves out trailing zeros and, from 1e-4 up, the
 * exponent.  It is found as the first k at which d * 10^k is a whole
 * number below 10^15 that, divided by 10^k, gives d again: the decimals
 * of a registry's measurements (36.6, 5.3, 0.25) take no printf and no
 * scanf, which cost a thousand instructions each.
 */
static char *
fmt_short_decimal(char *out, double d)
{
	static const double scale[] = { 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7,
		1e8, 1e9 };
	double a = fabs(d);

	if (!(a >= 1e-4 && a < 1e15))
		return NULL;
	for (int k = 0; k < (int)(sizeof(scale) / sizeof(scale[0])); k++) {
		double m = a * scale[k];
		unsigned long long whole, unit, frac;
		int digits = k + 1;
		char *o = out;

		if (m >= 1e15)
			return NULL;
		if (m != floor(m) || m / scale[k] != a)
			continue;
		unit = (unsigned long long)scale[k];
		whole = (unsigned long long)m / unit;
		frac = (unsigned long long)m % unit;
		/* %g writes no trailing zeros. */
		while (digits > 0 && frac % 10 == 0) {
			frac /= 10;
			digits--;
		}
		if (digits == 0)
			return NULL; /* a whole number: not this path's */
		if (d < 0)
			*o++ = '-';
		o = gw_fmt_int(o, (long long)whole);
		*o++ = '.';
		return gw_fmt_digits(o, frac, digits);
	}
	return NULL;
}

/*
 * cJSON 1.7.15 writes every number with "%1.15g", or "%1.17g" when that
 * does not read back; NaN and infinities as null.  Integers of up to 15
 * digits come out of "%1.15g" as plain digits, and short decimals as
 * theirs (fmt_short_decimal), so both take shortcuts that skip printf and
 * scanf (-0 keeps the slow path: it prints as "-0").
 */
void
gw_json_write_number(struct gw_jbuf *b, double d)
{
	double back;
	char text[32], *end;
	int n;

	if (isnan(d) || isinf(d)) {
		put(b, "null", 4);
		return;
	}
	if (d == floor(d) && fabs(d) < 1e15 && !(d == 0 && signbit(d))) {
		put(b, text, (size_t)(gw_fmt_int(text, (long long)d) - text));
		return;
	}
	if ((end = fmt_short_decimal(text, d)) != NULL) {
		put(b, text, (size_t)(end - text));
		return;
	}
	n = snprintf(text, sizeof(text), "%1.15g", d);
	if (sscanf(text, "%lg", &back) != 1 || !same_double(back, d))
		n = snprintf(text, sizeof(text), "%1.17g", d);
	put(b, text, (size_t)n);
}

void
gw_json_write(struct gw_jbuf *b, const cJSON *item)
{
	const cJSON *child;

	switch (item->type & 0xff) {
	case cJSON_NULL:
		put(b, "null", 4);
		return;
	case cJSON_False:
		put(b, "false", 5);
		return;
	case cJSON_True:
		put(b, "true", 4);
		return;
	case cJSON_Number:
		/* A decimal that keeps its source's text (gw_jout_decimal). */
		if (item->valuestring != NULL)
			put(b, item->valuestring, strlen(item->valuestring));
		else
			gw_json_write_number(b, item->valuedouble);
		return;
	case cJSON_Raw:
		if (item->valuestring != NULL)
			put(b, item->valuestring, strlen(item->valuestring));
		return;
	case cJSON_String:
		gw_json_write_string(b, item->valuestring);
		return;
	case cJSON_Array:
		put_char(b, '[');
		for (child = item->child; child != NULL; child = child->next) {
			gw_json_write(b, child);
			if (child->next != NULL)
				put_char(b, ',');
		}
		put_char(b, ']');
		return;
	case cJSON_Object:
		put_char(b, '{');
		for (child = item->child; child != NULL; child = child->next) {
			gw_json_write_string(b, child->string);
			put_char(b, ':');
			gw_json_write(b, child);
			if (child->next != NULL)
				put_char(b, ',');
		}
		put_char(b, '}');
		return;
	default:
		/* cJSON_Invalid: cJSON prints nothing and fails; a tree we
		 * built never holds one. */
		gw_fatal("gw_json_write: invalid cJSON item");
	}
}
