/*
 * json_write.h: compact serialisation of a cJSON tree, byte for byte what
 * cJSON_PrintUnformatted writes, at a fraction of its cost.
 *
 * cJSON's printer checks and grows its buffer for every token and escapes
 * strings one character at a time; it was 29 % of a worker's instructions
 * for a $summary (callgrind).  This writer sizes nothing twice: plain runs
 * of a string are copied with one memcpy, and the buffer grows by doubling.
 *
 * One extension: a number node that carries text in valuestring (a FHIR
 * decimal as the registry wrote it, gw_jout_decimal) is written as that
 * text; cJSON's printer would write the double ("5.3" for "5.30").
 */
#ifndef GW_JSON_WRITE_H
#define GW_JSON_WRITE_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* A growable byte buffer; p is NUL-terminated after every write. */
struct gw_jbuf {
	char *p;
	size_t len, cap;
};

/* gw_jbuf_reserve's slow path: grow b->p by doubling, from 256 bytes. */
void gw_jbuf_grow(struct gw_jbuf *b, size_t n);

/* Make room in b for n more bytes and a NUL.  Inline: every write of
 * every member asks, and almost always there is room. */
static inline void
gw_jbuf_reserve(struct gw_jbuf *b, size_t n)
{
	if (b->len + n + 1 > b->cap)
		gw_jbuf_grow(b, n);
}

/*
 * Append the compact JSON text of item to b (growing b->p with realloc;
 * b may start zeroed).  Numbers are written as cJSON 1.7.15 writes them:
 * 15 significant digits, or 17 when 15 do not read back as the same double;
 * NaN and infinities as null.  Strings are escaped as cJSON escapes them (", \, and control
 * characters; UTF-8 passes through).
 */
void gw_json_write(struct gw_jbuf *b, const cJSON *item);

/* Append s (NULL: "") to b as a JSON string, quoted and escaped as
 * gw_json_write writes string values and keys. */
void gw_json_write_string(struct gw_jbuf *b, const char *s);

/* Append d to b as gw_json_write writes a number item. */
void gw_json_write_number(struct gw_jbuf *b, double d);

#endif
