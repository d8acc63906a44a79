/*
 * sql_common.h: the SQL shapes every registry adapter prepares, as macros
 * over string literals (schema, table and column names are the country's
 * own; the statements are assembled at compile time).  They follow the
 * row contract of adapters/adapter.h: (kind, doc[, total | patient_doc]).
 *
 * Ids in SQL: logical ids and registry keys arrive as text from the
 * network or the gateway.  A numeric key is cast only inside a CASE whose
 * guard accepts canonical decimal (no sign, no leading zero, at most 18
 * digits, so it always fits a bigint), so a junk id matches no row instead
 * of raising an SQL error, and "fi-007" is not an alias of "fi-7".
 *
 * `cond` arguments are extra conditions on the clinical row r, "" or
 * " AND r.col = 'x'": a native table that also holds rows of another kind
 * (a Swedish warning signal that is not an allergy) keeps those out of
 * every statement alike.
 */
#ifndef GW_ADAPTER_SQL_COMMON_H
#define GW_ADAPTER_SQL_COMMON_H

/* The SQL is laid out by hand, clause per line. */
/* clang-format off */

/* The bigint of text parameter P, or NULL when P is not canonical. */
#define GW_SQL_KEY(p)                                                         \
	"(CASE WHEN " p "::text ~ '^[1-9][0-9]{0,17}$' THEN " p               \
	"::text::bigint END)"

/* Read the patient row whose token column equals $1 (kind, doc,
 * patient_doc = doc). */
#define GW_SQL_READ_PATIENT(kind, schema, table, token)                       \
	"SELECT '" kind "'::text AS kind, s.j AS doc, s.j AS patient_doc "    \
	"FROM (SELECT row_to_json(h)::text AS j "                             \
	"FROM " schema "." table " h "                                        \
	"WHERE h." token " = $1::text) s"

/* Read one clinical row by id, with its owner (kind, doc, patient_doc). */
#define GW_SQL_READ(kind, schema, table, owner_table, owner, cond)           \
	"SELECT '" kind "'::text AS kind, row_to_json(r)::text AS doc, "      \
	"row_to_json(h)::text AS patient_doc "                                \
	"FROM " schema "." table " r "                                        \
	"JOIN " schema "." owner_table " h ON h.id = r." owner " "            \
	"WHERE r.id = " GW_SQL_KEY("$1") cond

/*
 * One patient's rows of a table, newest first (ties by id: a stable order
 * for paging), with the match count before LIMIT/OFFSET.  $4 and $5 bound
 * the row's change time (the changed column) to [$4, $5), each an instant
 * or "" for no bound: _lastUpdated.
 */
#define GW_SQL_SEARCH(kind, schema, table, owner, date, changed, cond)        \
	"SELECT '" kind "'::text AS kind, row_to_json(r)::text AS doc, "      \
	"count(*) OVER () AS total "                                          \
	"FROM " schema "." table " r "                                        \
	"WHERE r." owner " = " GW_SQL_KEY("$1") cond " "                      \
	"AND ($4::text = '' OR r." changed " >= $4::text::timestamptz) "      \
	"AND ($5::text = '' OR r." changed " < $5::text::timestamptz) "       \
	"ORDER BY r." date " DESC NULLS LAST, r.id DESC "                     \
	"LIMIT $2::text::bigint OFFSET $3::text::bigint"

/*
 * The patient summary in one statement: $1 is the patient's token (the
 * logical id without "<prefix>-"); the rows are the patient's own row
 * first, then every IPS section's rows, (kind, doc).  No row: no such
 * patient.  One statement instead of a patient read followed by a
 * section query saves the database a statement and the request a round
 * trip; the sections are read before the consent decision but nothing
 * leaves the gateway before it permits (gateway/ips.c).
 *
 * GW_SQL_SUMMARY_PATIENT names the patient table and its token column.
 * Each GW_SQL_SECTION is a patient's newest GW_SQL_SUMMARY_LIMIT rows of
 * a table, n the section's place.  The bound keeps one $summary response
 * (and the gateway's memory for it) finite whatever the registry holds;
 * 100 rows per section is far beyond what a patient summary is meant to
 * show.
 */
#define GW_SQL_SUMMARY_LIMIT "100"
#define GW_SQL_SUMMARY_PATIENT(kind, schema, table, token)                    \
	"WITH p AS MATERIALIZED (SELECT h.* FROM " schema "." table " h "    \
	"WHERE h." token " = $1::text) "                                      \
	"SELECT s.kind, s.doc FROM ("                                         \
	"SELECT '" kind "'::text AS kind, row_to_json(p)::text AS doc, "      \
	"0 AS osio, NULL::timestamptz AS pvm, p.id FROM p"
#define GW_SQL_SECTION(kind, schema, table, owner, date, n, cond)             \
	" UNION ALL (SELECT '" kind "'::text, row_to_json(r)::text, "         \
	n ", r." date "::timestamptz, r.id "                                  \
	"FROM " schema "." table " r "                                        \
	"WHERE r." owner " = (SELECT p.id FROM p)" cond " "                   \
	"ORDER BY r." date " DESC NULLS LAST, r.id DESC "                     \
	"LIMIT " GW_SQL_SUMMARY_LIMIT ")"

/* The patient, then the five IPS sections in order (allergies, problems,
 * medications, immunizations, results), newest first inside a section. */
#define GW_SQL_SUMMARY(patient, allergies, problems, medications,             \
    immunizations, results)                                                   \
	patient allergies problems medications immunizations results          \
	") s ORDER BY s.osio, s.pvm DESC NULLS LAST, s.id DESC"

/*
 * Export (docs/export.md): the next $2 patients after registry key $1
 * ("" = from the start) in key order, each patient's own row first, then
 * its clinical rows: (kind, doc, patient_key, fresh).  LIMIT counts
 * patients, not rows, so a batch always holds whole patients and the
 * runner's position is one key.  `patients` is GW_SQL_EXPORT_PATIENTS(...),
 * each further argument a GW_SQL_EXPORT_ROWS(...) joined with UNION ALL.
 *
 * fresh is "true" when the row changed after the instant $3 (the job's
 * _since; "" = every row is fresh), by the table's change-time column
 * `changed`.  Every row comes back all the same: the cohort's criteria
 * and the patient's identity need the old rows too; the runner writes
 * only fresh ones.
 */
#define GW_SQL_FRESH(col)                                                     \
	"(" col " > coalesce(nullif($3::text, '')::timestamptz, "             \
	"'-infinity'::timestamptz))"
#define GW_SQL_EXPORT_PATIENTS(kind, schema, table, changed)                  \
	"WITH p AS (SELECT h.* FROM " schema "." table " h "                  \
	"WHERE h.id > coalesce(" GW_SQL_KEY("$1") ", 0) "                     \
	"ORDER BY h.id LIMIT $2::text::bigint) "                              \
	"SELECT s.kind, s.doc, s.pkey::text, s.fresh::text FROM ("            \
	"SELECT '" kind "'::text AS kind, row_to_json(p)::text AS doc, "      \
	"p.id AS pkey, 0 AS n, 0::bigint AS rid, "                            \
	GW_SQL_FRESH("p." changed) " AS fresh FROM p"
#define GW_SQL_EXPORT_ROWS(kind, schema, table, owner, changed, n, cond)      \
	" UNION ALL SELECT '" kind "'::text, row_to_json(r)::text, p.id, "    \
	n ", r.id, " GW_SQL_FRESH("r." changed) " FROM " schema "." table     \
	" r JOIN p ON r." owner " = p.id WHERE true" cond
#define GW_SQL_EXPORT(patients, a, b, c, d, e)                                \
	patients a b c d e ") s ORDER BY s.pkey, s.n, s.rid"

/* clang-format on */

#endif
