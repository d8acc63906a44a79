/*
 * row.h: a registry row as the adapters read it.
 *
 * Registry statements return each native row as ROW(<columns>)::text, the
 * column list written out in the statement (adapters/adapter.h): the text
 * PostgreSQL's record_out writes, "(1,Väisänen,"Anna Maria",,2024-05-01)".
 * It carries no names, so the statement's own column list names the
 * fields: a table's columns are split once (gw_row_columns_parse), and
 * every row of it is read against them.  A column dropped from the table
 * makes the statement fail rather than shift a value under another name.
 *
 * Why not row_to_json, which the rows were until 2026-11-25: PostgreSQL
 * looks up every column's type and output function again for every row it
 * writes as JSON.  record_out caches them for the statement: the Finnish
 * $summary statement cost its backend 86 us of CPU with row_to_json and
 * 69 us with ROW(...)::text (docs/benchmarks.md).
 *
 * gw_row_parse reads a row into buffers the row keeps and reuses: each
 * value unquoted and NUL-terminated, a table of fields.  It accepts
 * exactly the form record_out writes (with the column count the list has);
 * anything else is refused, never half-read.
 */
#ifndef GW_ROW_H
#define GW_ROW_H

#include <stdbool.h>
#include <stddef.h>

/* Columns of one table, and the bytes of all their names. */
#define GW_ROW_COLUMNS_MAX 48
#define GW_ROW_COLUMNS_TEXT 1024

enum gw_row_kind {
	GW_ROW_NULL,
	GW_ROW_TEXT, /* every value that is not NULL: its output text */
};

struct gw_row_field {
	const char *name; /* borrowed from the row's columns */
	const char *text; /* the value as PostgreSQL wrote it; "" for NULL */
	enum gw_row_kind kind;
};

/* A table's column names in the order its statements list them. */
struct gw_row_columns {
	const char *name[GW_ROW_COLUMNS_MAX];
	int n;
	char text[GW_ROW_COLUMNS_TEXT];
};

/*
 * Split list, column names separated by commas and optional spaces
 * ("id, henkilo_id, icd10"), into *cols.  Each name must be an unquoted
 * SQL identifier as the statements write it (lowercase ASCII letters,
 * digits after the first byte, '_', or UTF-8 bytes), and none may repeat.
 * GW_OK, or GW_ERR with cols empty.
 */
int gw_row_columns_parse(struct gw_row_columns *cols, const char *list);

/* Zeroed is empty and ready to parse into. */
struct gw_row {
	char *text; /* the values, each NUL-terminated */
	size_t text_cap;
	struct gw_row_field *field;
	int n, field_cap;
};

/*
 * Parse rec[0..len) (no NUL needed), a record as record_out writes it
 * with one value per column of cols, into row, replacing what it held and
 * reusing its buffers.  GW_OK, or GW_ERR with row empty: not a record,
 * another number of values, or a NUL byte (a C string cannot hold it).
 * Values are copied byte for byte apart from their quoting; UTF-8 is not
 * checked (PostgreSQL's text is valid UTF-8).
 */
int gw_row_parse(struct gw_row *row, const struct gw_row_columns *cols,
    const char *rec, size_t len);

/* The field named name, or NULL.  Borrowed from row. */
const struct gw_row_field *gw_row_get(const struct gw_row *row,
    const char *name);

/* Free row's buffers (wiped: rows hold patient data); row is left empty. */
void gw_row_free(struct gw_row *row);

#endif
