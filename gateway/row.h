/*
 * row.h: a registry row as the adapters read it.
 *
 * Registry statements return each native row as row_to_json(r)::text: one
 * flat JSON object, column name to string, number, boolean or null.  A
 * general parser (cJSON) builds a tree of it, two allocations per value,
 * only for the adapter to look up a dozen names and drop it; for a
 * $summary that parse was a fifth of the gateway's instructions.
 * gw_row_parse reads the flat object into buffers the row keeps and
 * reuses: each name and value unescaped and NUL-terminated, and a table of
 * fields.  It accepts exactly a JSON object of scalar values; anything else
 * (a nested object or array, bad JSON) is refused, never half-read.
 */
#ifndef GW_ROW_H
#define GW_ROW_H

#include <stdbool.h>
#include <stddef.h>

enum gw_row_kind {
	GW_ROW_NULL,
	GW_ROW_FALSE,
	GW_ROW_TRUE,
	GW_ROW_NUMBER,
	GW_ROW_STRING,
};

struct gw_row_field {
	const char *name;
	/* A string unescaped, a number as its JSON text; "" otherwise. */
	const char *text;
	enum gw_row_kind kind;
};

/* Zeroed is empty and ready to parse into. */
struct gw_row {
	char *text; /* the names and values, each NUL-terminated */
	size_t text_cap;
	struct gw_row_field *field;
	int n, field_cap;
};

/*
 * Parse json[0..len) (no NUL needed) into row, replacing what it held and
 * reusing its buffers.  GW_OK, or GW_ERR with row empty when json is not
 * one JSON object of scalar values (strings with a \u0000 escape
 * included: a C string cannot hold it).  Names and strings are copied
 * byte for byte apart from escapes; UTF-8 is not checked (PostgreSQL's
 * text is valid UTF-8).
 */
int gw_row_parse(struct gw_row *row, const char *json, size_t len);

/* The first field named name, or NULL.  Borrowed from row. */
const struct gw_row_field *gw_row_get(const struct gw_row *row,
    const char *name);

/* Free row's buffers (wiped: rows hold patient data); row is left empty. */
void gw_row_free(struct gw_row *row);

#endif
