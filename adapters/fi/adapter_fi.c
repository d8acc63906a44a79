/*
 * adapter_fi.c: the Finnish adapter.  Owns the HETU identifier system, the
 * SQL that reads the fi_rekisteri schema (deploy/migrations/100_fi_registry
 * .sql) following the row contract of adapters/adapter.h, and the patient
 * identity of a henkilo row.  Mapping lives in map_fi.c, the synthetic
 * registry in seed_fi.c, HETU rules in hetu.c.
 *
 * Ids in SQL: logical ids and registry keys arrive as text from the
 * network or the gateway.  A numeric key is cast only inside a CASE whose
 * guard accepts canonical decimal (no sign, no leading zero, at most 18
 * digits, so it always fits a bigint), so a junk id matches no row instead
 * of raising an SQL error, and "fi-007" is not an alias of "fi-7".
 */
#include <stdio.h>
#include <string.h>

#include "adapters/adapter.h"
#include "adapters/fi/adapter_fi.h"
#include "adapters/fi/hetu.h"
#include "gateway/gw.h"

/* The SQL below is laid out by hand, clause per line. */
/* clang-format off */
/* The bigint of text parameter P, or NULL when P is not canonical. */
#define FI_KEY(p)                                                             \
	"(CASE WHEN " p "::text ~ '^[1-9][0-9]{0,17}$' THEN " p               \
	"::text::bigint END)"

/* Read one clinical row by id, with its owner (kind, doc, patient_doc). */
#define FI_READ(kind, table)                                                  \
	"SELECT '" kind "'::text AS kind, row_to_json(r)::text AS doc, "      \
	"row_to_json(h)::text AS patient_doc "                                \
	"FROM fi_rekisteri." table " r "                                      \
	"JOIN fi_rekisteri.henkilo h ON h.id = r.henkilo_id "                 \
	"WHERE r.id = " FI_KEY("$1")

/*
 * One person's rows of a table, newest first (ties by id: a stable order
 * for paging), with the match count before LIMIT/OFFSET.
 */
#define FI_SEARCH(kind, table, date)                                          \
	"SELECT '" kind "'::text AS kind, row_to_json(r)::text AS doc, "      \
	"count(*) OVER () AS total "                                          \
	"FROM fi_rekisteri." table " r "                                      \
	"WHERE r.henkilo_id = " FI_KEY("$1") " "                              \
	"ORDER BY r." date " DESC NULLS LAST, r.id DESC "                     \
	"LIMIT $2::text::bigint OFFSET $3::text::bigint"

/*
 * One IPS section of the summary: a person's newest FI_SUMMARY_LIMIT rows
 * of a table.  The bound keeps one $summary response (and the gateway's
 * memory for it) finite whatever the registry holds; 100 rows per section
 * is far beyond what a patient summary is meant to show.
 */
#define FI_SUMMARY_LIMIT "100"
#define FI_SECTION(kind, table, date, n)                                      \
	"(SELECT '" kind "'::text AS kind, row_to_json(r)::text AS doc, "     \
	n " AS osio, r." date "::timestamptz AS pvm, r.id "                   \
	"FROM fi_rekisteri." table " r "                                      \
	"WHERE r.henkilo_id = " FI_KEY("$1") " "                              \
	"ORDER BY r." date " DESC NULLS LAST, r.id DESC "                     \
	"LIMIT " FI_SUMMARY_LIMIT ")"
/* clang-format on */

static const struct gw_id_system fi_ids[] = {
    {.system = ADAPTER_FI_HETU_SYSTEM,
        .emit = true,
        .valid = adapter_fi_hetu_valid},
    {.system = NULL},
};

int
adapter_fi_patient_identity(const cJSON *doc, struct gw_patient *p)
{
	const cJSON *token =
	    cJSON_GetObjectItemCaseSensitive(doc, "fhir_tunniste");
	const cJSON *hetu = cJSON_GetObjectItemCaseSensitive(doc, "hetu");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(doc, "id");
	int n;

	memset(p, 0, sizeof(*p));
	if (!cJSON_IsString(token) || token->valuestring[0] == '\0' ||
	    !cJSON_IsString(hetu) || hetu->valuestring[0] == '\0' ||
	    !cJSON_IsNumber(id))
		goto err;
	/* bigint arrives as a JSON number; exact below 2^53. */
	if (id->valuedouble < 1 || id->valuedouble > 9007199254740992.0 ||
	    id->valuedouble != (double)(long long)id->valuedouble)
		goto err;
	p->adapter = &adapter_fi;
	n = snprintf(p->logical_id, sizeof(p->logical_id), "%s-%s",
	    adapter_fi.id_prefix, token->valuestring);
	if (n < 0 || (size_t)n >= sizeof(p->logical_id))
		goto err;
	if (gw_strlcpy(p->system, ADAPTER_FI_HETU_SYSTEM, sizeof(p->system)) !=
	        GW_OK ||
	    gw_strlcpy(p->national_id, hetu->valuestring,
	        sizeof(p->national_id)) != GW_OK)
		goto err;
	n = snprintf(p->registry_key, sizeof(p->registry_key), "%lld",
	    (long long)id->valuedouble);
	if (n < 0 || (size_t)n >= sizeof(p->registry_key))
		goto err;
	return GW_OK;
err:
	memset(p, 0, sizeof(*p));
	return GW_ERR;
}

/* clang-format off */
const struct gw_adapter adapter_fi = {
	.abi = GW_ADAPTER_ABI,
	.country = "FI",
	.id_prefix = "fi",
	.ids = fi_ids,

	/* Only the HETU system, and the value exactly as written: the sign
	 * is part of the identity and the check character is uppercase. */
	.sql_patient_by_identifier =
	    "SELECT 'henkilo'::text AS kind, row_to_json(h)::text AS doc "
	    "FROM fi_rekisteri.henkilo h "
	    "WHERE $1::text = '" ADAPTER_FI_HETU_SYSTEM "' "
	    "AND h.hetu = $2::text",

	.sql_read = {
		[GW_RT_PATIENT] =
		    "SELECT 'henkilo'::text AS kind, s.j AS doc, "
		    "s.j AS patient_doc "
		    "FROM (SELECT row_to_json(h)::text AS j "
		    "FROM fi_rekisteri.henkilo h "
		    "WHERE h.fhir_tunniste = $1::text) s",
		[GW_RT_CONDITION] = FI_READ("diagnoosi", "diagnoosi"),
		[GW_RT_ALLERGY_INTOLERANCE] = FI_READ("allergia", "allergia"),
		[GW_RT_MEDICATION_STATEMENT] = FI_READ("laakitys", "laakitys"),
		[GW_RT_IMMUNIZATION] = FI_READ("rokotus", "rokotus"),
		[GW_RT_OBSERVATION] = FI_READ("laboratoriotulos",
		    "laboratoriotulos"),
	},

	.sql_search = {
		[GW_RT_PATIENT] = NULL,
		[GW_RT_CONDITION] = FI_SEARCH("diagnoosi", "diagnoosi",
		    "todettu"),
		[GW_RT_ALLERGY_INTOLERANCE] = FI_SEARCH("allergia", "allergia",
		    "todettu"),
		[GW_RT_MEDICATION_STATEMENT] = FI_SEARCH("laakitys",
		    "laakitys", "aloitettu"),
		[GW_RT_IMMUNIZATION] = FI_SEARCH("rokotus", "rokotus",
		    "annettu"),
		[GW_RT_OBSERVATION] = FI_SEARCH("laboratoriotulos",
		    "laboratoriotulos", "otettu"),
	},

	/* IPS section order: allergies, problems, medications,
	 * immunizations, results; newest first inside a section. */
	.sql_summary =
	    "SELECT s.kind, s.doc FROM ("
	    FI_SECTION("allergia", "allergia", "todettu", "1")
	    " UNION ALL "
	    FI_SECTION("diagnoosi", "diagnoosi", "todettu", "2")
	    " UNION ALL "
	    FI_SECTION("laakitys", "laakitys", "aloitettu", "3")
	    " UNION ALL "
	    FI_SECTION("rokotus", "rokotus", "annettu", "4")
	    " UNION ALL "
	    FI_SECTION("laboratoriotulos", "laboratoriotulos", "otettu", "5")
	    ") s ORDER BY s.osio, s.pvm DESC NULLS LAST, s.id DESC",

	.patient_identity = adapter_fi_patient_identity,
	.map = adapter_fi_map,
	.seed = adapter_fi_seed,
};
/* clang-format on */
