/*
 * adapter_no.c: the Norwegian adapter.  Owns the fødselsnummer and
 * D-nummer identifier systems, the SQL that reads the no_register schema
 * (deploy/migrations/200_no_registry.sql) in the shared shapes of
 * adapters/common/sql_common.h, and the patient identity of a pasient row.
 * Mapping lives in map_no.c, the synthetic registry in seed_no.c, number
 * rules in fnr.c.
 */
#include <string.h>

#include "adapters/adapter.h"
#include "adapters/common/map_common.h"
#include "adapters/common/sql_common.h"
#include "adapters/no/adapter_no.h"
#include "adapters/no/fnr.h"
#include "gateway/gw.h"

#define NO_SCHEMA "no_register"
#define NO_READ(kind)                                                          \
	GW_SQL_READ(kind, NO_SCHEMA, kind, "pasient", "pasient_id", "")
#define NO_SEARCH(kind, date)                                                  \
	GW_SQL_SEARCH(kind, NO_SCHEMA, kind, "pasient_id", date, "endret", "")
#define NO_SECTION(kind, date, n)                                              \
	GW_SQL_SECTION(kind, NO_SCHEMA, kind, "pasient_id", date, n, "")

/* Each system validates only its own kind of number: a D-nummer under the
 * fødselsnummer system is a 400, not a silent alias. */
static const struct gw_id_system no_ids[] = {
    {.system = ADAPTER_NO_FNR_SYSTEM,
        .emit = true,
        .valid = adapter_no_fnr_valid},
    {.system = ADAPTER_NO_DNR_SYSTEM,
        .emit = true,
        .valid = adapter_no_dnr_valid},
    {.system = NULL},
};

int
adapter_no_patient_identity(const struct gw_row *doc, struct gw_patient *p)
{
	const char *type = gw_map_str(doc, "identtype");
	const char *system = NULL;

	if (type != NULL && strcmp(type, "fnr") == 0)
		system = ADAPTER_NO_FNR_SYSTEM;
	else if (type != NULL && strcmp(type, "dnr") == 0)
		system = ADAPTER_NO_DNR_SYSTEM;
	return gw_map_identity(
	    &adapter_no, doc, "fhir_id", "folkeregisterident", system, p);
}

/* clang-format off */
const struct gw_adapter adapter_no = {
	.abi = GW_ADAPTER_ABI,
	.country = "NO",
	.id_prefix = "no",
	.ids = no_ids,

	/* The system names the kind of number; the value is matched as
	 * written (11 digits, nothing to normalise). */
	.sql_patient_by_identifier =
	    "SELECT 'pasient'::text AS kind, row_to_json(p)::text AS doc "
	    "FROM no_register.pasient p "
	    "WHERE p.folkeregisterident = $2::text "
	    "AND ((p.identtype = 'fnr' AND $1::text = '"
	    ADAPTER_NO_FNR_SYSTEM "') "
	    "OR (p.identtype = 'dnr' AND $1::text = '"
	    ADAPTER_NO_DNR_SYSTEM "'))",

	.sql_read = {
		[GW_RT_PATIENT] = GW_SQL_READ_PATIENT("pasient", NO_SCHEMA,
		    "pasient", "fhir_id"),
		[GW_RT_CONDITION] = NO_READ("diagnose"),
		[GW_RT_ALLERGY_INTOLERANCE] = NO_READ("kritisk_informasjon"),
		[GW_RT_MEDICATION_STATEMENT] = NO_READ("legemiddel"),
		[GW_RT_IMMUNIZATION] = NO_READ("vaksine"),
		[GW_RT_OBSERVATION] = NO_READ("provesvar"),
	},

	.sql_search = {
		[GW_RT_PATIENT] = NULL,
		[GW_RT_CONDITION] = NO_SEARCH("diagnose", "diagnosedato"),
		[GW_RT_ALLERGY_INTOLERANCE] = NO_SEARCH("kritisk_informasjon",
		    "registrert_dato"),
		[GW_RT_MEDICATION_STATEMENT] = NO_SEARCH("legemiddel",
		    "startdato"),
		[GW_RT_IMMUNIZATION] = NO_SEARCH("vaksine",
		    "vaksinasjonsdato"),
		[GW_RT_OBSERVATION] = NO_SEARCH("provesvar", "provetaking"),
	},

	.sql_summary = GW_SQL_SUMMARY(
	    GW_SQL_SUMMARY_PATIENT("pasient", NO_SCHEMA, "pasient", "fhir_id"),
	    NO_SECTION("kritisk_informasjon", "registrert_dato", "1"),
	    NO_SECTION("diagnose", "diagnosedato", "2"),
	    NO_SECTION("legemiddel", "startdato", "3"),
	    NO_SECTION("vaksine", "vaksinasjonsdato", "4"),
	    NO_SECTION("provesvar", "provetaking", "5")),

	.sql_export = GW_SQL_EXPORT(
	    GW_SQL_EXPORT_PATIENTS("pasient", NO_SCHEMA, "pasient", "endret"),
	    GW_SQL_EXPORT_ROWS("diagnose", NO_SCHEMA, "diagnose",
	        "pasient_id", "endret", "1", ""),
	    GW_SQL_EXPORT_ROWS("kritisk_informasjon", NO_SCHEMA, "kritisk_informasjon",
	        "pasient_id", "endret", "2", ""),
	    GW_SQL_EXPORT_ROWS("legemiddel", NO_SCHEMA, "legemiddel",
	        "pasient_id", "endret", "3", ""),
	    GW_SQL_EXPORT_ROWS("vaksine", NO_SCHEMA, "vaksine",
	        "pasient_id", "endret", "4", ""),
	    GW_SQL_EXPORT_ROWS("provesvar", NO_SCHEMA, "provesvar",
	        "pasient_id", "endret", "5", "")),

	.patient_identity = adapter_no_patient_identity,
	.map = adapter_no_map,
	.seed = adapter_no_seed,
};
/* clang-format on */
