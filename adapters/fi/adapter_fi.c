/*
 * adapter_fi.c: the Finnish adapter.  Owns the HETU identifier system, the
 * SQL that reads the fi_rekisteri schema (deploy/migrations/100_fi_registry
 * .sql) following the row contract of adapters/adapter.h, and the patient
 * identity of a henkilo row.  Mapping lives in map_fi.c, the synthetic
 * registry in seed_fi.c, HETU rules in hetu.c.
 *
 * The statements are the shared shapes of adapters/common/sql_common.h
 * over fi_rekisteri's tables (guarded id casts included).
 */
#include "adapters/fi/adapter_fi.h"
#include "adapters/adapter.h"
#include "adapters/common/map_common.h"
#include "adapters/common/sql_common.h"
#include "adapters/fi/hetu.h"
#include "gateway/gw.h"

/* Table names and the columns the shared SQL shapes need. */
#define FI_SCHEMA "fi_rekisteri"

/* Every column of each table, in the table's order: a doc's fields
 * (adapters/adapter.h).  map_fi.c reads them by these names. */
#define FI_COLS_henkilo                                                        \
	"id, hetu, fhir_tunniste, sukunimi, etunimet, kutsumanimi, "           \
	"sukupuoli, syntymaaika, kotikunta, kotikunta_nimi, lahiosoite, "      \
	"postinumero, postitoimipaikka, puhelin, aidinkieli, kuolinpaiva, "    \
	"muutettu"
#define FI_COLS_allergia                                                       \
	"id, henkilo_id, aiheuttaja_koodi, aiheuttaja_nimi, reaktio, "         \
	"vakavuus, kriittisyys, todettu, muutettu"
#define FI_COLS_diagnoosi                                                      \
	"id, henkilo_id, icd10, nimi_fi, tila, pysyvyys, todettu, kirjattu, "  \
	"muutettu"
#define FI_COLS_laakitys                                                       \
	"id, henkilo_id, atc, vnr, valmiste, vahvuus, annostus, aloitettu, "   \
	"lopetettu, tila, muutettu"
#define FI_COLS_rokotus                                                        \
	"id, henkilo_id, rokote_atc, rokote_nimi, annettu, annos_nro, erä, "  \
	"muutettu"
#define FI_COLS_laboratoriotulos                                               \
	"id, henkilo_id, tutkimus_koodi, tutkimus_lyhenne, tutkimus_nimi, "    \
	"loinc, tulos, yksikko, viitevali_ala, viitevali_yla, otettu, "        \
	"muutettu"

#define FI_READ(t)                                                             \
	GW_SQL_READ(#t, FI_SCHEMA, #t, FI_COLS_##t, "henkilo",                 \
	    FI_COLS_henkilo, "henkilo_id", "")
#define FI_SEARCH(t, date)                                                     \
	GW_SQL_SEARCH(#t, FI_SCHEMA, #t, FI_COLS_##t, "henkilo_id", date,      \
	    "muutettu", "")
#define FI_SECTION(t, date, n)                                                 \
	GW_SQL_SECTION(                                                        \
	    #t, FI_SCHEMA, #t, FI_COLS_##t, "henkilo_id", date, n, "")
#define FI_EXPORT_ROWS(t, n)                                                   \
	GW_SQL_EXPORT_ROWS(                                                    \
	    #t, FI_SCHEMA, #t, FI_COLS_##t, "henkilo_id", "muutettu", n, "")

static const struct gw_native_table fi_tables[] = {
    {"henkilo", FI_COLS_henkilo},
    {"allergia", FI_COLS_allergia},
    {"diagnoosi", FI_COLS_diagnoosi},
    {"laakitys", FI_COLS_laakitys},
    {"rokotus", FI_COLS_rokotus},
    {"laboratoriotulos", FI_COLS_laboratoriotulos},
    {NULL, NULL},
};

static const struct gw_id_system fi_ids[] = {
    {.system = ADAPTER_FI_HETU_SYSTEM,
        .emit = true,
        .valid = adapter_fi_hetu_valid},
    {.system = NULL},
};

int
adapter_fi_patient_identity(const struct gw_row *doc, struct gw_patient *p)
{
	return gw_map_identity(&adapter_fi, doc, "fhir_tunniste", "hetu",
	    ADAPTER_FI_HETU_SYSTEM, p);
}

/* clang-format off */
const struct gw_adapter adapter_fi = {
	.abi = GW_ADAPTER_ABI,
	.country = "FI",
	.id_prefix = "fi",
	.ids = fi_ids,
	.tables = fi_tables,

	/* Only the HETU system, and the value exactly as written: the sign
	 * is part of the identity and the check character is uppercase. */
	.sql_patient_by_identifier =
	    "SELECT 'henkilo'::text AS kind, " GW_SQL_DOC(FI_COLS_henkilo)
	    " AS doc "
	    "FROM fi_rekisteri.henkilo h "
	    "WHERE $1::text = '" ADAPTER_FI_HETU_SYSTEM "' "
	    "AND h.hetu = $2::text",

	.sql_read = {
		[GW_RT_PATIENT] = GW_SQL_READ_PATIENT("henkilo", FI_SCHEMA,
		    "henkilo", FI_COLS_henkilo, "fhir_tunniste"),
		[GW_RT_CONDITION] = FI_READ(diagnoosi),
		[GW_RT_ALLERGY_INTOLERANCE] = FI_READ(allergia),
		[GW_RT_MEDICATION_STATEMENT] = FI_READ(laakitys),
		[GW_RT_IMMUNIZATION] = FI_READ(rokotus),
		[GW_RT_OBSERVATION] = FI_READ(laboratoriotulos),
	},

	.sql_search = {
		[GW_RT_PATIENT] = NULL,
		[GW_RT_CONDITION] = FI_SEARCH(diagnoosi, "todettu"),
		[GW_RT_ALLERGY_INTOLERANCE] = FI_SEARCH(allergia, "todettu"),
		[GW_RT_MEDICATION_STATEMENT] = FI_SEARCH(laakitys,
		    "aloitettu"),
		[GW_RT_IMMUNIZATION] = FI_SEARCH(rokotus, "annettu"),
		[GW_RT_OBSERVATION] = FI_SEARCH(laboratoriotulos, "otettu"),
	},

	.sql_summary = GW_SQL_SUMMARY(
	    GW_SQL_SUMMARY_PATIENT("henkilo", FI_SCHEMA, "henkilo",
	        FI_COLS_henkilo, "fhir_tunniste"),
	    FI_SECTION(allergia, "todettu", "1"),
	    FI_SECTION(diagnoosi, "todettu", "2"),
	    FI_SECTION(laakitys, "aloitettu", "3"),
	    FI_SECTION(rokotus, "annettu", "4"),
	    FI_SECTION(laboratoriotulos, "otettu", "5")),

	.sql_export = GW_SQL_EXPORT(
	    GW_SQL_EXPORT_PATIENTS("henkilo", FI_SCHEMA, "henkilo",
	        FI_COLS_henkilo, "muutettu"),
	    FI_EXPORT_ROWS(diagnoosi, "1"),
	    FI_EXPORT_ROWS(allergia, "2"),
	    FI_EXPORT_ROWS(laakitys, "3"),
	    FI_EXPORT_ROWS(rokotus, "4"),
	    FI_EXPORT_ROWS(laboratoriotulos, "5")),

	.patient_identity = adapter_fi_patient_identity,
	.map = adapter_fi_map,
	.seed = adapter_fi_seed,
};
/* clang-format on */
