/*
 * adapter.h: what a country adapter gives the gateway.
 *
 * An adapter is data plus a few pure functions: the identifier systems it
 * owns (with their validators), the SQL that reads its national registry
 * (prepared by the gateway on every pooled connection and run
 * asynchronously on the worker's loop), and the mapping from a native
 * registry row to a FHIR R4 resource.  The gateway owns all I/O, consent
 * and assembly (Bundles, the IPS document), so that every country goes
 * through the same, single asynchronous path.
 *
 * Row contract of every data statement: column 0 `kind` is the native
 * record kind (e.g. "henkilo", "diagnoosi"), one of the adapter's
 * `tables`; column 1 `doc` is the native row as ROW(<columns>)::text with
 * that table's column list (GW_SQL_DOC in adapters/common/sql_common.h),
 * which the gateway reads with gw_row_parse against the same list.  Search
 * statements add column 2 `total` (the match count before paging); read
 * statements add column 2 `patient_doc`, the native patient row owning the
 * resource (a doc of tables[0]), so consent can be decided before the
 * resource leaves.
 */
#ifndef GW_ADAPTER_H
#define GW_ADAPTER_H

#include <stdbool.h>
#include <stddef.h>

#include "gateway/db.h"
#include "gateway/fhir.h"
#include "gateway/json_out.h"
#include "gateway/row.h"

#define GW_ADAPTER_ABI 6 /* 2: sql_export takes _since, returns fresh;
			    3: sql_search takes a change-time range;
			    4: rows are read as struct gw_row, not cJSON;
			    5: docs are record text of listed columns;
			    6: map writes to a struct gw_jout */

/* Room for "fi-" + a 26-character token and the NUL. */
#define GW_LOGICAL_ID_MAX 64

/*
 * An identifier system an adapter owns.  Several systems may name the same
 * identifier (a Swedish personnummer under its http and its OID system):
 * each is listed, the one written on output with emit = true, and the
 * adapter's patient_by_identifier statement accepts them all.
 */
struct gw_id_system {
	const char *system;	     /* FHIR Identifier.system */
	bool emit;		     /* the system written on output */
	bool (*valid)(const char *value); /* check digits, dates, shape */
	/*
	 * The form the registry stores, for a value valid() accepted, into
	 * out (e.g. a 10-digit personnummer as its 12 digits): GW_OK or
	 * GW_ERR.  NULL: the value is looked up exactly as written.
	 */
	int (*normalize)(const char *value, char *out, size_t outsz);
};

/* A patient as its registry knows it, filled by patient_identity(). */
struct gw_patient {
	const struct gw_adapter *adapter;
	char logical_id[GW_LOGICAL_ID_MAX]; /* "fi-<token>" */
	char system[96];		    /* identifier system emitted */
	char national_id[32];		    /* HETU, fødselsnummer, ... */
	char registry_key[32];		    /* $1 of search/summary statements */
};

/* What a mapping function may need besides the row. */
struct gw_map_ctx {
	const struct gw_patient *patient; /* owner of the row */
};

/* What a mapping tells besides the resource it wrote. */
struct gw_mapped {
	enum gw_rtype type;	    /* the resource's type */
	const char *category;	    /* its sensitive category, or NULL */
	char id[GW_LOGICAL_ID_MAX]; /* its id */
};

/* A native table the statements read: its kind (column 0 of a data row)
 * and its columns as the statements list them in the doc, a literal of
 * unquoted names ("id, henkilo_id, icd10"; gateway/row.h). */
struct gw_native_table {
	const char *kind;
	const char *columns;
};

struct gw_adapter {
	int abi;		 /* GW_ADAPTER_ABI */
	const char *country;	 /* ISO 3166 alpha-2: "FI" */
	const char *id_prefix;	 /* logical id prefix: "fi" */
	const struct gw_id_system *ids; /* terminated by {NULL} */
	/* Every table whose rows the statements return, the patient's
	 * first; terminated by {NULL}. */
	const struct gw_native_table *tables;

	/* Every statement below is a SELECT that changes nothing: the gateway
	 * runs several of them under one Sync, in one implicit transaction
	 * (gateway/db.h, read_only), where a write could be rolled back by
	 * another query's error.  sql_read and sql_summary are also run
	 * for several requests at once, inside a LATERAL subquery with $1
	 * replaced by each element (gateway/db_batch.h): they use their
	 * parameter only as "$1", never inside a literal, and give their
	 * rows in their ORDER BY's order. */

	/* $1 identifier system (one of ids), $2 value (normalized when the
	 * system has normalize) -> 0 or 1 row (kind, doc). */
	const char *sql_patient_by_identifier;
	/* Per type: $1 id without "<prefix>-" -> 0 or 1 row (kind, doc,
	 * patient_doc).  For GW_RT_PATIENT, $1 is the token and patient_doc
	 * repeats doc. */
	const char *sql_read[GW_RT_COUNT];
	/* Per clinical type (GW_RT_PATIENT unused, NULL): $1 registry_key,
	 * $2 limit, $3 offset, $4 and $5 the rows' change time bounds
	 * [$4, $5) as instants ("" = open) -> rows (kind, doc, total), stable
	 * order. */
	const char *sql_search[GW_RT_COUNT];
	/* $1 patient token (as for sql_read[GW_RT_PATIENT]) -> rows (kind,
	 * doc): the patient's own row first, then those of every IPS
	 * section; none if there is no such patient. */
	const char *sql_summary;
	/* Export: $1 registry key after which to start ("" = first), $2
	 * number of patients, $3 the job's _since ("" = none) -> rows (kind,
	 * doc, patient_key, fresh), each patient's own row first, then its
	 * clinical rows, in registry key order; fresh is "true" for a row
	 * changed after $3 (every row when $3 is ""). */
	const char *sql_export;

	/* Fill *p from a native patient doc.  GW_OK or GW_ERR. */
	int (*patient_identity)(const struct gw_row *doc, struct gw_patient *p);

	/*
	 * Map one native row to a FHIR resource, written as one value at out
	 * (json_out.h: text into an answer, or a tree), and fill *m: its
	 * type, id and sensitive-data category ("mental-health",
	 * "sexual-health", "genetic", "substance-abuse") or NULL.  GW_OK, or
	 * GW_ERR if the row cannot be mapped (the gateway logs and skips
	 * it): out is then as it was.
	 */
	int (*map)(const char *kind, const struct gw_row *doc,
	    const struct gw_map_ctx *ctx, struct gw_jout *out,
	    struct gw_mapped *m);

	/*
	 * Write npatients deterministic synthetic patients (and their clinical
	 * records) into the registry on a blocking connection, replacing what
	 * was there.  id_key is the keyed-hash key for logical-id tokens.
	 * Returns GW_OK or GW_ERR (with the reason logged).
	 */
	int (*seed)(PGconn *conn, long npatients, const unsigned char *id_key,
	    size_t id_key_len);
};

/*
 * The opaque logical-id token of a national identifier: lowercase base32
 * (RFC 4648 alphabet, no padding) of the first 130 bits of
 * HMAC-SHA256(key, country || "|" || national_id): 26 characters.  Writes
 * the NUL-terminated token into out (at least 27 bytes).
 */
int gw_adapter_token(const unsigned char *key, size_t key_len,
    const char *country, const char *national_id, char *out, size_t outsz);

/* a->map as a tree (caller frees), for code that reads the resource
 * back; NULL if the row cannot be mapped.  m may be NULL. */
cJSON *gw_adapter_map_tree(const struct gw_adapter *a, const char *kind,
    const struct gw_row *doc, const struct gw_map_ctx *ctx,
    struct gw_mapped *m);

/* The adapter registration table, NULL-terminated. */
extern const struct gw_adapter *const gw_adapters[];

/* Check the table at start-up: ABI, duplicate countries or prefixes,
 * missing statements.  GW_OK or GW_ERR with the reason logged. */
int gw_adapters_check(void);

/*
 * Load the code data every adapter shares from dir (the profiles/ folder,
 * config "profiles_dir"): categories.json (sensitive-data categories) and
 * terminology/NAME.json (translation maps).  Once at start-up, before any
 * worker thread runs; read-only afterwards.  GW_OK, or GW_ERR with the
 * reason logged: the gateway must not serve without them, since consent
 * exclusions depend on the categories.
 */
int gw_adapters_load_data(const char *dir);
void gw_adapters_free_data(void);

/* The adapters' counters as Prometheus text into out (cap bytes, always
 * NUL-terminated when cap > 0); returns the length the text needs, as
 * snprintf does. */
size_t gw_adapters_metrics(char *out, size_t cap);

/*
 * The columns of a's table `kind` (gw_adapters_check splits every list
 * once), or NULL for a kind a does not have.  gw_adapter_patient_columns
 * is tables[0]'s: a patient_doc's.
 */
const struct gw_row_columns *gw_adapter_columns(const struct gw_adapter *a,
    const char *kind);
const struct gw_row_columns *gw_adapter_patient_columns(
    const struct gw_adapter *a);

/* The adapter for a country code, logical-id prefix or identifier system;
 * NULL if none is local. */
const struct gw_adapter *gw_adapter_by_country(const char *country);
const struct gw_adapter *gw_adapter_by_prefix(const char *prefix,
    size_t prefix_len);
const struct gw_adapter *gw_adapter_by_system(const char *system,
    const struct gw_id_system **id);

#endif
