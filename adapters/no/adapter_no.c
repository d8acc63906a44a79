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
/* Every column of each table, in the table's order: a doc's fields
 * (adapters/adapter.h).  map_no.c reads them by these names. */
#define NO_COLS_pasient                                                        \
	"id, folkeregisterident, identtype, fhir_id, fornavn, "                \
	"mellomnavn, etternavn, kjonn, fodselsdato, kommunenummer, "           \
	"kommunenavn, adresse, postnummer, poststed, telefon, "                \
	"sprak, dodsdato, endret"
#define NO_COLS_kritisk_informasjon                                            \
	"id, pasient_id, type, agens_kode, agens_tekst, reaksjon, "            \
	"alvorlighet, kritikalitet, sikkerhet, registrert_dato, "              \
	"endret"
#define NO_COLS_diagnose                                                       \
	"id, pasient_id, kodeverk, kode, tekst, status, "                      \
	"diagnosedato, registrert, endret"
#define NO_COLS_legemiddel                                                     \
	"id, pasient_id, atc, preparat, styrke, dosering, "                    \
	"startdato, sluttdato, status, endret"
#define NO_COLS_vaksine                                                        \
	"id, pasient_id, atc, vaksinenavn, vaksinasjonsdato, "                 \
	"dosenummer, batchnummer, endret"
#define NO_COLS_provesvar                                                      \
	"id, pasient_id, analysekode, analysenavn, loinc, "                    \
	"resultat, enhet, referanse_nedre, referanse_ovre, "                   \
	"provetaking, endret"

#define NO_READ(t)                                                             \
	GW_SQL_READ(#t, NO_SCHEMA, #t, NO_COLS_##t, "pasient",                 \
	    NO_COLS_pasient, "pasient_id", "")
#define NO_SEARCH(t, date)                                                     \
	GW_SQL_SEARCH(                                                         \
	    #t, NO_SCHEMA, #t, NO_COLS_##t, "pasient_id", date, "endret", "")
#define NO_SECTION(t, date, n)                                                 \
	GW_SQL_SECTION(                                                        \
	    #t, NO_SCHEMA, #t, NO_COLS_##t, "pasient_id", date, n, "")
#define NO_EXPORT_ROWS(t, n)                                                   \
	GW_SQL_EXPORT_ROWS(                                                    \
	    #t, NO_SCHEMA, #t, NO_COLS_##t, "pasient_id", "endret", n, "")

static const struct gw_native_table no_tables[] = {
    {"pasient", NO_COLS_pasient},
    {"kritisk_informasjon", NO_COLS_kritisk_informasjon},
    {"diagnose", NO_COLS_diagnose},
    {"legemiddel", NO_COLS_legemiddel},
    {"vaksine", NO_COLS_vaksine},
    {"provesvar", NO_COLS_provesvar},
    {NULL, NULL},
};

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
	.tables = no_tables,

	/* The system names the kind of number; the value is matched as
	 * written (11 digits, nothing to normalise). */
	.sql_patient_by_identifier =
	    "SELECT 'pasient'::text AS kind, " GW_SQL_DOC(NO_COLS_pasient)
	    " AS doc "
	    "FROM no_register.pasient p "
	    "WHERE p.folkeregisterident = $2::text "
	    "AND ((p.identtype = 'fnr' AND $1::text = '"
	    ADAPTER_NO_FNR_SYSTEM "') "
	    "OR (p.identtype = 'dnr' AND $1::text = '"
	    ADAPTER_NO_DNR_SYSTEM "'))",

	.sql_read = {
		[GW_RT_PATIENT] = GW_SQL_READ_PATIENT("pasient", NO_SCHEMA,
		    "pasient", NO_COLS_pasient, "fhir_id"),
		[GW_RT_CONDITION] = NO_READ(diagnose),
		[GW_RT_ALLERGY_INTOLERANCE] = NO_READ(kritisk_informasjon),
		[GW_RT_MEDICATION_STATEMENT] = NO_READ(legemiddel),
		[GW_RT_IMMUNIZATION] = NO_READ(vaksine),
		[GW_RT_OBSERVATION] = NO_READ(provesvar),
	},

	.sql_search = {
		[GW_RT_PATIENT] = NULL,
		[GW_RT_CONDITION] = NO_SEARCH(diagnose, "diagnosedato"),
		[GW_RT_ALLERGY_INTOLERANCE] = NO_SEARCH(kritisk_informasjon,
		    "registrert_dato"),
		[GW_RT_MEDICATION_STATEMENT] = NO_SEARCH(legemiddel,
		    "startdato"),
		[GW_RT_IMMUNIZATION] = NO_SEARCH(vaksine,
		    "vaksinasjonsdato"),
		[GW_RT_OBSERVATION] = NO_SEARCH(provesvar, "provetaking"),
	},

	.sql_summary = GW_SQL_SUMMARY(
	    GW_SQL_SUMMARY_PATIENT("pasient", NO_SCHEMA, "pasient",
	        NO_COLS_pasient, "fhir_id"),
	    NO_SECTION(kritisk_informasjon, "registrert_dato", "1"),
	    NO_SECTION(diagnose, "diagnosedato", "2"),
	    NO_SECTION(legemiddel, "startdato", "3"),
	    NO_SECTION(vaksine, "vaksinasjonsdato", "4"),
	    NO_SECTION(provesvar, "provetaking", "5")),

	.sql_export = GW_SQL_EXPORT(
	    GW_SQL_EXPORT_PATIENTS("pasient", NO_SCHEMA, "pasient",
	        NO_COLS_pasient, "endret"),
	    NO_EXPORT_ROWS(diagnose, "1"),
	    NO_EXPORT_ROWS(kritisk_informasjon, "2"),
	    NO_EXPORT_ROWS(legemiddel, "3"),
	    NO_EXPORT_ROWS(vaksine, "4"),
	    NO_EXPORT_ROWS(provesvar, "5")),

	.patient_identity = adapter_no_patient_identity,
	.map = adapter_no_map,
	.seed = adapter_no_seed,
};
/* clang-format on */
