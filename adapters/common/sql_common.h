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

/* A row's doc: its columns `cols` ("id, henkilo_id, ...", unqualified, so
 * the query level has the one table in FROM) as one record text
 * (gateway/row.h). */
#define GW_SQL_DOC(cols) "ROW(" cols ")::text"

/* Read the patient row whose token column equals $1 (kind, doc,
 * patient_doc = doc).  OFFSET 0 keeps the subquery from being flattened:
 * flattened, its doc was built and written twice, once per column
 * (a sixth of the statement's cost in PostgreSQL). */
#define GW_SQL_READ_PATIENT(kind, schema, table, cols, token)                 \
	"SELECT '" kind "'::text AS kind, s.j AS doc, s.j AS patient_doc "    \
	"FROM (SELECT " GW_SQL_DOC(cols) " AS j "                             \
	"FROM " schema "." table " h "                                        \
	"WHERE h." token " = $1::text OFFSET 0) s"

/* Read one clinical row by id, with its owner (kind, doc, patient_doc).
 * Each table's doc is made in a subquery of its own, where its columns
 * are the only ones in scope; PostgreSQL flattens both into one join. */
#define GW_SQL_READ(kind, schema, table, cols, owner_table, owner_cols,      \
    owner, cond)                                                              \
	"SELECT '" kind "'::text AS kind, r.doc, h.doc AS patient_doc "       \
	"FROM (SELECT " GW_SQL_DOC(cols) " AS doc, r." owner " AS owner_key " \
	"FROM " schema "." table " r "                                        \
	"WHERE r.id = " GW_SQL_KEY("$1") cond ") r "                          \
	"JOIN (SELECT " GW_SQL_DOC(owner_cols) " AS doc, h.id "               \
	"FROM " schema "." owner_table " h) h ON h.id = r.owner_key"

/*
 * One patient's rows of a table, newest first (ties by id: a stable order
 * for paging), with the match count before LIMIT/OFFSET.  $4 and $5 bound
 * the row's change time (the changed column) to [$4, $5), each an instant
 * or "" for no bound: _lastUpdated.
 */
#define GW_SQL_SEARCH(kind, schema, table, cols, owner, date, changed, cond)  \
	"SELECT '" kind "'::text AS kind, " GW_SQL_DOC(cols) " AS doc, "      \
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
#define GW_SQL_SUMMARY_PATIENT(kind, schema, table, cols, token)              \
	"WITH p AS MATERIALIZED (SELECT h.* FROM " schema "." table " h "    \
	"WHERE h." token " = $1::text) "                                      \
	"SELECT s.kind, s.doc FROM ("                                         \
	"SELECT '" kind "'::text AS kind, " GW_SQL_DOC(cols) " AS doc, "      \
	"0 AS osio, NULL::timestamptz AS pvm, p.id FROM p"
#define GW_SQL_SECTION(kind, schema, table, cols, owner, date, n, cond)       \
	" UNION ALL (SELECT '" kind "'::text, " GW_SQL_DOC(cols) ", "         \
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
#define GW_SQL_EXPORT_PATIENTS(kind, schema, table, cols, changed)            \
	"WITH p AS (SELECT h.* FROM " schema "." table " h "                  \
	"WHERE h.id > coalesce(" GW_SQL_KEY("$1") ", 0) "                     \
	"ORDER BY h.id LIMIT $2::text::bigint) "                              \
	"SELECT s.kind, s.doc, s.pkey::text, s.fresh::text FROM ("            \
	"SELECT '" kind "'::text AS kind, " GW_SQL_DOC(cols) " AS doc, "      \
	"p.id AS pkey, 0 AS n, 0::bigint AS rid, "                            \
	GW_SQL_FRESH("p." changed) " AS fresh FROM p"
#define GW_SQL_EXPORT_ROWS(kind, schema, table, cols, owner, changed, n,     \
    cond)                                                                     \
	" UNION ALL SELECT '" kind "'::text, r.doc, p.id, " n ", r.id, "      \
	GW_SQL_FRESH("r.changed_at") " "                                      \
	"FROM (SELECT " GW_SQL_DOC(cols) " AS doc, r.id, "                    \
	"r." owner " AS owner_key, r." changed " AS changed_at "              \
	"FROM " schema "." table " r WHERE true" cond ") r "                  \
	"JOIN p ON r.owner_key = p.id"
#define GW_SQL_EXPORT(patients, a, b, c, d, e)                                \
	patients a b c d e ") s ORDER BY s.pkey, s.n, s.rid"

/* clang-format on */

#endif
