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
/* Every column of each table, in the table's order: a doc's fields
 * (adapters/adapter.h).  map_se.c reads them by these names. */
#define SE_COLS_patient                                                        \
	"id, personid, personid_typ, fhir_id, fornamn, "                       \
	"tilltalsnamn, efternamn, kon, fodelsedatum, kommunkod, "              \
	"kommun, kommun_samiskt_namn, kommun_samiskt_sprak, "                  \
	"gatuadress, postnummer, postort, telefon, sprak, "                    \
	"avliden_datum, andrad"
#define SE_COLS_uppmarksamhetssignal                                           \
	"id, patient_id, signaltyp, agens_kod, agens_namn, "                   \
	"reaktion, allvarlighetsgrad, kritikalitet, visshetsgrad, "            \
	"beskrivning, registrerad, andrad"
#define SE_COLS_diagnos                                                        \
	"id, patient_id, kodverk, kod, benamning, status, "                    \
	"diagnosdatum, registrerad, andrad"
#define SE_COLS_lakemedel                                                      \
	"id, patient_id, atc, lakemedelsnamn, styrka, dosering, "              \
	"startdatum, slutdatum, status, andrad"
#define SE_COLS_vaccination                                                    \
	"id, patient_id, atc, vaccinnamn, vaccinationsdatum, "                 \
	"dosnummer, batchnummer, andrad"
#define SE_COLS_labbsvar                                                       \
	"id, patient_id, analyskod, analysnamn, loinc, resultat, "             \
	"enhet, ref_lag, ref_hog, provtagning, andrad"

#define SE_READ(t, cond)                                                       \
	GW_SQL_READ(#t, SE_SCHEMA, #t, SE_COLS_##t, "patient",                 \
	    SE_COLS_patient, "patient_id", cond)
#define SE_SEARCH(t, date, cond)                                               \
	GW_SQL_SEARCH(#t, SE_SCHEMA, #t, SE_COLS_##t, "patient_id", date,      \
	    "andrad", cond)
#define SE_SECTION(t, date, n, cond)                                           \
	GW_SQL_SECTION(                                                        \
	    #t, SE_SCHEMA, #t, SE_COLS_##t, "patient_id", date, n, cond)
#define SE_EXPORT_ROWS(t, n, cond)                                             \
	GW_SQL_EXPORT_ROWS(                                                    \
	    #t, SE_SCHEMA, #t, SE_COLS_##t, "patient_id", "andrad", n, cond)

static const struct gw_native_table se_tables[] = {
    {"patient", SE_COLS_patient},
    {"uppmarksamhetssignal", SE_COLS_uppmarksamhetssignal},
    {"diagnos", SE_COLS_diagnos},
    {"lakemedel", SE_COLS_lakemedel},
    {"vaccination", SE_COLS_vaccination},
    {"labbsvar", SE_COLS_labbsvar},
    {NULL, NULL},
};

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
	.tables = se_tables,

	/* Either system of a kind of number finds it; $2 is already the
	 * 12-digit form (se_ids' normalize). */
	.sql_patient_by_identifier =
	    "SELECT 'patient'::text AS kind, " GW_SQL_DOC(SE_COLS_patient)
	    " AS doc "
	    "FROM se_register.patient p "
	    "WHERE p.personid = $2::text "
	    "AND ((p.personid_typ = 'personnummer' AND $1::text IN ('"
	    ADAPTER_SE_PNR_SYSTEM "', '" ADAPTER_SE_PNR_OID "')) "
	    "OR (p.personid_typ = 'samordningsnummer' AND $1::text IN ('"
	    ADAPTER_SE_SAM_SYSTEM "', '" ADAPTER_SE_SAM_OID "')))",

	.sql_read = {
		[GW_RT_PATIENT] = GW_SQL_READ_PATIENT("patient", SE_SCHEMA,
		    "patient", SE_COLS_patient, "fhir_id"),
		[GW_RT_CONDITION] = SE_READ(diagnos, ""),
		[GW_RT_ALLERGY_INTOLERANCE] = SE_READ(uppmarksamhetssignal,
		    SE_ALLERGY_ONLY),
		[GW_RT_MEDICATION_STATEMENT] = SE_READ(lakemedel, ""),
		[GW_RT_IMMUNIZATION] = SE_READ(vaccination, ""),
		[GW_RT_OBSERVATION] = SE_READ(labbsvar, ""),
	},

	.sql_search = {
		[GW_RT_PATIENT] = NULL,
		[GW_RT_CONDITION] = SE_SEARCH(diagnos, "diagnosdatum", ""),
		[GW_RT_ALLERGY_INTOLERANCE] = SE_SEARCH(uppmarksamhetssignal,
		    "registrerad", SE_ALLERGY_ONLY),
		[GW_RT_MEDICATION_STATEMENT] = SE_SEARCH(lakemedel,
		    "startdatum", ""),
		[GW_RT_IMMUNIZATION] = SE_SEARCH(vaccination,
		    "vaccinationsdatum", ""),
		[GW_RT_OBSERVATION] = SE_SEARCH(labbsvar, "provtagning", ""),
	},

	.sql_summary = GW_SQL_SUMMARY(
	    GW_SQL_SUMMARY_PATIENT("patient", SE_SCHEMA, "patient",
	        SE_COLS_patient, "fhir_id"),
	    SE_SECTION(uppmarksamhetssignal, "registrerad", "1",
	        SE_ALLERGY_ONLY),
	    SE_SECTION(diagnos, "diagnosdatum", "2", ""),
	    SE_SECTION(lakemedel, "startdatum", "3", ""),
	    SE_SECTION(vaccination, "vaccinationsdatum", "4", ""),
	    SE_SECTION(labbsvar, "provtagning", "5", "")),

	.sql_export = GW_SQL_EXPORT(
	    GW_SQL_EXPORT_PATIENTS("patient", SE_SCHEMA, "patient",
	        SE_COLS_patient, "andrad"),
	    SE_EXPORT_ROWS(diagnos, "1", ""),
	    SE_EXPORT_ROWS(uppmarksamhetssignal, "2", SE_ALLERGY_ONLY),
	    SE_EXPORT_ROWS(lakemedel, "3", ""),
	    SE_EXPORT_ROWS(vaccination, "4", ""),
	    SE_EXPORT_ROWS(labbsvar, "5", "")),

	.patient_identity = adapter_se_patient_identity,
	.map = adapter_se_map,
	.seed = adapter_se_seed,
};
/* clang-format on */
