/*
 * adapter_se.c: the Swedish adapter.  Owns the personnummer and
 * samordningsnummer identifier systems (each under its electronichealth.se
 * URI, written on output, and its OID, accepted on input; every form is
 * normalised to 12 digits before the look-up), the SQL that reads the
 * se_register schema (deploy/migrations/300_se_registry.sql) in the shared
 * shapes of adapters/common/sql_common.h, and the patient identity of a
 * patient row.  Mapping lives in map_se.c, the synthetic registry in
 * seed_se.c, number rules in personnummer.c.
 */
#include <string.h>

#include "adapters/adapter.h"
#include "adapters/common/map_common.h"
#include "adapters/common/sql_common.h"
#include "adapters/se/adapter_se.h"
#include "adapters/se/personnummer.h"
#include "gateway/gw.h"

#define SE_SCHEMA "se_register"
/* Only hypersensitivity signals are allergies (see the migration). */
#define SE_ALLERGY_ONLY " AND r.signaltyp = 'överkänslighet'"
#define SE_READ(kind, cond)                                                    \
	GW_SQL_READ(kind, SE_SCHEMA, kind, "patient", "patient_id", cond)
#define SE_SEARCH(kind, date, cond)                                            \
	GW_SQL_SEARCH(kind, SE_SCHEMA, kind, "patient_id", date, "andrad", cond)
#define SE_SECTION(kind, date, n, cond)                                        \
	GW_SQL_SECTION(kind, SE_SCHEMA, kind, "patient_id", date, n, cond)

static const struct gw_id_system se_ids[] = {
    {.system = ADAPTER_SE_PNR_SYSTEM,
        .emit = true,
        .valid = adapter_se_personnummer_valid,
        .normalize = adapter_se_normalize},
    {.system = ADAPTER_SE_SAM_SYSTEM,
        .emit = true,
        .valid = adapter_se_samordningsnummer_valid,
        .normalize = adapter_se_normalize},
    {.system = ADAPTER_SE_PNR_OID,
        .emit = false,
        .valid = adapter_se_personnummer_valid,
        .normalize = adapter_se_normalize},
    {.system = ADAPTER_SE_SAM_OID,
        .emit = false,
        .valid = adapter_se_samordningsnummer_valid,
        .normalize = adapter_se_normalize},
    {.system = NULL},
};

int
adapter_se_patient_identity(const struct gw_row *doc, struct gw_patient *p)
{
	const char *type = gw_map_str(doc, "personid_typ");
	const char *system = NULL;

	if (type != NULL && strcmp(type, "personnummer") == 0)
		system = ADAPTER_SE_PNR_SYSTEM;
	else if (type != NULL && strcmp(type, "samordningsnummer") == 0)
		system = ADAPTER_SE_SAM_SYSTEM;
	return gw_map_identity(
	    &adapter_se, doc, "fhir_id", "personid", system, p);
}

/* clang-format off */
const struct gw_adapter adapter_se = {
	.abi = GW_ADAPTER_ABI,
	.country = "SE",
	.id_prefix = "se",
	.ids = se_ids,

	/* Either system of a kind of number finds it; $2 is already the
	 * 12-digit form (se_ids' normalize). */
	.sql_patient_by_identifier =
	    "SELECT 'patient'::text AS kind, row_to_json(p)::text AS doc "
	    "FROM se_register.patient p "
	    "WHERE p.personid = $2::text "
	    "AND ((p.personid_typ = 'personnummer' AND $1::text IN ('"
	    ADAPTER_SE_PNR_SYSTEM "', '" ADAPTER_SE_PNR_OID "')) "
	    "OR (p.personid_typ = 'samordningsnummer' AND $1::text IN ('"
	    ADAPTER_SE_SAM_SYSTEM "', '" ADAPTER_SE_SAM_OID "')))",

	.sql_read = {
		[GW_RT_PATIENT] = GW_SQL_READ_PATIENT("patient", SE_SCHEMA,
		    "patient", "fhir_id"),
		[GW_RT_CONDITION] = SE_READ("diagnos", ""),
		[GW_RT_ALLERGY_INTOLERANCE] = SE_READ("uppmarksamhetssignal",
		    SE_ALLERGY_ONLY),
		[GW_RT_MEDICATION_STATEMENT] = SE_READ("lakemedel", ""),
		[GW_RT_IMMUNIZATION] = SE_READ("vaccination", ""),
		[GW_RT_OBSERVATION] = SE_READ("labbsvar", ""),
	},

	.sql_search = {
		[GW_RT_PATIENT] = NULL,
		[GW_RT_CONDITION] = SE_SEARCH("diagnos", "diagnosdatum", ""),
		[GW_RT_ALLERGY_INTOLERANCE] = SE_SEARCH("uppmarksamhetssignal",
		    "registrerad", SE_ALLERGY_ONLY),
		[GW_RT_MEDICATION_STATEMENT] = SE_SEARCH("lakemedel",
		    "startdatum", ""),
		[GW_RT_IMMUNIZATION] = SE_SEARCH("vaccination",
		    "vaccinationsdatum", ""),
		[GW_RT_OBSERVATION] = SE_SEARCH("labbsvar", "provtagning", ""),
	},

	.sql_summary = GW_SQL_SUMMARY(
	    GW_SQL_SUMMARY_PATIENT("patient", SE_SCHEMA, "patient", "fhir_id"),
	    SE_SECTION("uppmarksamhetssignal", "registrerad", "1",
	        SE_ALLERGY_ONLY),
	    SE_SECTION("diagnos", "diagnosdatum", "2", ""),
	    SE_SECTION("lakemedel", "startdatum", "3", ""),
	    SE_SECTION("vaccination", "vaccinationsdatum", "4", ""),
	    SE_SECTION("labbsvar", "provtagning", "5", "")),

	.sql_export = GW_SQL_EXPORT(
	    GW_SQL_EXPORT_PATIENTS("patient", SE_SCHEMA, "patient", "andrad"),
	    GW_SQL_EXPORT_ROWS("diagnos", SE_SCHEMA, "diagnos",
	        "patient_id", "andrad", "1", ""),
	    GW_SQL_EXPORT_ROWS("uppmarksamhetssignal", SE_SCHEMA, "uppmarksamhetssignal",
	        "patient_id", "andrad", "2", SE_ALLERGY_ONLY),
	    GW_SQL_EXPORT_ROWS("lakemedel", SE_SCHEMA, "lakemedel",
	        "patient_id", "andrad", "3", ""),
	    GW_SQL_EXPORT_ROWS("vaccination", SE_SCHEMA, "vaccination",
	        "patient_id", "andrad", "4", ""),
	    GW_SQL_EXPORT_ROWS("labbsvar", SE_SCHEMA, "labbsvar",
	        "patient_id", "andrad", "5", "")),

	.patient_identity = adapter_se_patient_identity,
	.map = adapter_se_map,
	.seed = adapter_se_seed,
};
/* clang-format on */
