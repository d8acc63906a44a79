/*
 * map_fi.c: native fi_rekisteri rows (records of their columns) to FHIR R4 resources.
 * One function per kind reads the row's Finnish fields and status words
 * and hands plain values to the shared builders of
 * adapters/common/map_common.c, which own the resource shapes (FI Base
 * Patient, IPS 2.0).  Ids: Patient/fi-<fhir_tunniste>; clinical resources
 * fi-<row id>.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "adapters/adapter.h"
#include "adapters/common/map_common.h"
#include "adapters/fi/adapter_fi.h"
#include "gateway/gw.h"

#define FI_PROFILE_PATIENT                                                     \
	"https://hl7.fi/fhir/finnish-base-profiles/StructureDefinition/"       \
	"fi-base-patient"
#define FI_EXT_MUNICIPALITY                                                    \
	"https://hl7.fi/fhir/finnish-base-profiles/StructureDefinition/"       \
	"municipality-code"
#define FI_SYSTEM_MUNICIPALITY "urn:oid:1.2.246.537.6.21.2003"
#define FI_SYSTEM_VNR "urn:oid:1.2.246.537.6.55"
#define FI_SYSTEM_LAB "urn:oid:1.2.246.537.6.3.2006"

/* The registry's change time of every row: meta.lastUpdated. */
#define FI_CHANGED "muutettu"
#define FI_OWNER "henkilo_id"

/* ---- henkilo -> Patient ---- */

static int
map_henkilo(const struct gw_row *doc, const struct gw_map_ctx *ctx,
    struct gw_jout *out, struct gw_mapped *mapped)
{
	const char *sex = gw_map_str(doc, "sukupuoli");
	struct gw_map_patient p = {
	    .changed = gw_map_str(doc, FI_CHANGED),
	    .prefix = adapter_fi.id_prefix,
	    .token = gw_map_str(doc, "fhir_tunniste"),
	    .profile = FI_PROFILE_PATIENT,
	    .id_system = ADAPTER_FI_HETU_SYSTEM,
	    .id_value = gw_map_str(doc, "hetu"),
	    .id_type = "NNFIN",
	    .family = gw_map_str(doc, "sukunimi"),
	    .given = gw_map_str(doc, "etunimet"),
	    .nickname = gw_map_str(doc, "kutsumanimi"),
	    .birth_date = gw_map_str(doc, "syntymaaika"),
	    .deceased = gw_map_str(doc, "kuolinpaiva"),
	    .phone = gw_map_str(doc, "puhelin"),
	    .line = gw_map_str(doc, "lahiosoite"),
	    .postal = gw_map_str(doc, "postinumero"),
	    .city = gw_map_str(doc, "postitoimipaikka"),
	    .address_country = "FI",
	    .municipality_at = GW_MUNI_EXTENSION,
	    .municipality_url = FI_EXT_MUNICIPALITY,
	    .municipality = {FI_SYSTEM_MUNICIPALITY,
	        gw_map_str(doc, "kotikunta"),
	        gw_map_str(doc, "kotikunta_nimi")},
	    .language = gw_map_str(doc, "aidinkieli"),
	};

	(void)ctx;
	/* Finnish registry coding: 1 male, 2 female. */
	if (sex != NULL)
		p.gender = strcmp(sex, "1") == 0   ? "male"
		           : strcmp(sex, "2") == 0 ? "female"
		                                   : "unknown";
	return gw_map_patient(&p, out, mapped);
}

/* ---- diagnoosi -> Condition ---- */

static const struct gw_map_word diagnosis_states[] = {
    {"aktiivinen", "active"},
    {"ratkaistu", "resolved"},
    {NULL, NULL},
};

static int
map_diagnoosi(const struct gw_row *doc, const struct gw_map_ctx *ctx,
    struct gw_jout *out, struct gw_mapped *mapped)
{
	const char *name = gw_map_str(doc, "nimi_fi");
	struct gw_map_condition c = {
	    .clinical_status =
	        gw_map_word(diagnosis_states, gw_map_str(doc, "tila")),
	    .code = {{GW_SYSTEM_ICD10_WHO, gw_map_str(doc, "icd10"), name}},
	    .text = name,
	    .onset = gw_map_str(doc, "todettu"),
	    .recorded = gw_map_str(doc, "kirjattu"),
	};

	if (gw_map_row_read(doc, adapter_fi.id_prefix, FI_OWNER, FI_CHANGED, &c.row) !=
	    GW_OK)
		return GW_ERR;
	return gw_map_condition(&c, ctx, out, mapped);
}

/* ---- laakitys -> MedicationStatement ---- */

static const struct gw_map_word medication_states[] = {
    {"aktiivinen", "active"},
    {"lopetettu", "completed"},
    {"keskeytetty", "stopped"},
    {NULL, NULL},
};

static int
map_laakitys(const struct gw_row *doc, const struct gw_map_ctx *ctx,
    struct gw_jout *out, struct gw_mapped *mapped)
{
	struct gw_map_medication m = {
	    .status = gw_map_word(medication_states, gw_map_str(doc, "tila")),
	    .atc = gw_map_str(doc, "atc"),
	    .product_system = FI_SYSTEM_VNR,
	    .product_code = gw_map_str(doc, "vnr"),
	    .product = gw_map_str(doc, "valmiste"),
	    .strength = gw_map_str(doc, "vahvuus"),
	    .start = gw_map_str(doc, "aloitettu"),
	    .end = gw_map_str(doc, "lopetettu"),
	    .dosage = gw_map_str(doc, "annostus"),
	};

	if (gw_map_row_read(doc, adapter_fi.id_prefix, FI_OWNER, FI_CHANGED, &m.row) !=
	    GW_OK)
		return GW_ERR;
	return gw_map_medication(&m, ctx, out, mapped);
}

/* ---- allergia -> AllergyIntolerance ---- */

static const struct gw_map_word severities[] = {
    {"lievä", "mild"},
    {"kohtalainen", "moderate"},
    {"vakava", "severe"},
    {NULL, NULL},
};

static const struct gw_map_word criticalities[] = {
    {"matala", "low"},
    {"korkea", "high"},
    {"ei arvioitavissa", "unable-to-assess"},
    {NULL, NULL},
};

static int
map_allergia(const struct gw_row *doc, const struct gw_map_ctx *ctx,
    struct gw_jout *out, struct gw_mapped *mapped)
{
	const char *vakavuus = gw_map_str(doc, "vakavuus");
	const char *kriittisyys = gw_map_str(doc, "kriittisyys");
	struct gw_map_allergy a = {
	    .code = gw_map_str(doc, "aiheuttaja_koodi"),
	    .agent = gw_map_str(doc, "aiheuttaja_nimi"),
	    .severity = gw_map_word(severities, vakavuus),
	    .criticality = gw_map_word(criticalities, kriittisyys),
	    .reaction = gw_map_str(doc, "reaktio"),
	    .onset = gw_map_str(doc, "todettu"),
	};

	/* A word the registry does not define is an error, not "absent". */
	if ((vakavuus != NULL && a.severity == NULL) ||
	    (kriittisyys != NULL && a.criticality == NULL))
		return GW_ERR;
	if (gw_map_row_read(doc, adapter_fi.id_prefix, FI_OWNER, FI_CHANGED, &a.row) !=
	    GW_OK)
		return GW_ERR;
	return gw_map_allergy(&a, ctx, out, mapped);
}

/* ---- rokotus -> Immunization ---- */

static int
map_rokotus(const struct gw_row *doc, const struct gw_map_ctx *ctx,
    struct gw_jout *out, struct gw_mapped *mapped)
{
	struct gw_map_immunization v = {
	    .atc = gw_map_str(doc, "rokote_atc"),
	    .name = gw_map_str(doc, "rokote_nimi"),
	    .date = gw_map_str(doc, "annettu"),
	    .lot = gw_map_str(doc, "erä"),
	};

	v.has_dose = gw_map_num(doc, "annos_nro", &v.dose);
	if (gw_map_row_read(doc, adapter_fi.id_prefix, FI_OWNER, FI_CHANGED, &v.row) !=
	    GW_OK)
		return GW_ERR;
	return gw_map_immunization(&v, ctx, out, mapped);
}

/* ---- laboratoriotulos -> Observation ---- */

static int
map_laboratoriotulos(const struct gw_row *doc, const struct gw_map_ctx *ctx,
    struct gw_jout *out, struct gw_mapped *mapped)
{
	const char *abbr = gw_map_str(doc, "tutkimus_lyhenne");
	const char *name = gw_map_str(doc, "tutkimus_nimi");
	char display[256];
	struct gw_map_observation o = {
	    .loinc = gw_map_str(doc, "loinc"),
	    .local = {FI_SYSTEM_LAB, gw_map_str(doc, "tutkimus_koodi"), NULL},
	    .text = abbr ? abbr : name,
	    .effective = gw_map_str(doc, "otettu"),
	    .unit = gw_map_str(doc, "yksikko"),
	    .value = gw_map_decimal(doc, "tulos"),
	    .low = gw_map_decimal(doc, "viitevali_ala"),
	    .high = gw_map_decimal(doc, "viitevali_yla"),
	};

	/* "P-Krea Kreatiniini": the abbreviation Finnish clinicians read
	 * first, then the name. */
	gw_concat(display, sizeof(display), abbr ? abbr : "",
	    abbr && name ? " " : "", name ? name : "", NULL);
	o.local.display = display[0] ? display : NULL;
	if (gw_map_row_read(doc, adapter_fi.id_prefix, FI_OWNER, FI_CHANGED, &o.row) !=
	    GW_OK)
		return GW_ERR;
	return gw_map_observation(&o, ctx, out, mapped);
}

/* ---- dispatch ---- */

static const struct gw_map_kind fi_kinds[] = {
    {"henkilo", GW_RT_PATIENT, map_henkilo},
    {"diagnoosi", GW_RT_CONDITION, map_diagnoosi},
    {"laakitys", GW_RT_MEDICATION_STATEMENT, map_laakitys},
    {"allergia", GW_RT_ALLERGY_INTOLERANCE, map_allergia},
    {"rokotus", GW_RT_IMMUNIZATION, map_rokotus},
    {"laboratoriotulos", GW_RT_OBSERVATION, map_laboratoriotulos},
};

int
adapter_fi_map(const char *kind, const struct gw_row *doc,
    const struct gw_map_ctx *ctx, struct gw_jout *out, struct gw_mapped *mapped)
{
	return gw_map_dispatch(fi_kinds, GW_ARRAY_LEN(fi_kinds), kind, doc, ctx, out,
	    mapped);
}
