/*
 * map_no.c: native no_register rows (records of their columns) to FHIR R4 resources.
 * One function per kind reads the row's Norwegian fields and status words
 * and hands plain values to the shared builders of
 * adapters/common/map_common.c.  The Patient follows no-basis-Patient
 * (municipality code on address.district, the official-address flag);
 * diagnoses carry the kodeverk's international and Volven systems.  Ids:
 * Patient/no-<fhir_id>; clinical resources no-<row id>.
 */
#include <stdio.h>
#include <string.h>

#include "adapters/adapter.h"
#include "adapters/common/map_common.h"
#include "adapters/no/adapter_no.h"
#include "gateway/gw.h"

#define NO_PROFILE_PATIENT                                                     \
	"http://hl7.no/fhir/StructureDefinition/no-basis-Patient"
#define NO_EXT_MUNICIPALITY                                                    \
	"http://hl7.no/fhir/StructureDefinition/no-basis-municipalitycode"
#define NO_EXT_ADDRESS_OFFICIAL                                                \
	"http://hl7.no/fhir/StructureDefinition/no-basis-address-official"
#define NO_SYSTEM_MUNICIPALITY                                                 \
	"https://register.geonorge.no/subregister/sosi-kodelister/kartverket/" \
	"kommunenummer-alle"
/* Norsk laboratoriekodeverk (Volven 7280). */
#define NO_SYSTEM_NLK "urn:oid:2.16.578.1.12.4.1.1.7280"

/* The registry's change time of every row: meta.lastUpdated. */
#define NO_CHANGED "endret"
#define NO_OWNER "pasient_id"

/* ---- pasient -> Patient ---- */

static const struct gw_map_word genders[] = {
    {"mann", "male"},
    {"kvinne", "female"},
    {"ukjent", "unknown"},
    {NULL, NULL},
};

/* The folkeregister address is the official one. */
static void
write_official_address(struct gw_jout *o)
{
	gw_jout_object(o);
	GW_JOUT_STRING(o, "url", NO_EXT_ADDRESS_OFFICIAL);
	GW_JOUT_KEY(o, "valueBoolean");
	gw_jout_bool(o, true);
	gw_jout_end_object(o);
}

static int
map_pasient(const struct gw_row *doc, const struct gw_map_ctx *ctx,
    struct gw_jout *out, struct gw_mapped *mapped)
{
	const char *type = gw_map_str(doc, "identtype");
	const char *fornavn = gw_map_str(doc, "fornavn");
	const char *mellomnavn = gw_map_str(doc, "mellomnavn");
	char given[256];
	struct gw_map_patient p = {
	    .changed = gw_map_str(doc, NO_CHANGED),
	    .prefix = adapter_no.id_prefix,
	    .token = gw_map_str(doc, "fhir_id"),
	    .profile = NO_PROFILE_PATIENT,
	    .id_value = gw_map_str(doc, "folkeregisterident"),
	    .id_type = "NNNOR",
	    .family = gw_map_str(doc, "etternavn"),
	    .gender = gw_map_word(genders, gw_map_str(doc, "kjonn")),
	    .birth_date = gw_map_str(doc, "fodselsdato"),
	    .deceased = gw_map_str(doc, "dodsdato"),
	    .phone = gw_map_str(doc, "telefon"),
	    .line = gw_map_str(doc, "adresse"),
	    .postal = gw_map_str(doc, "postnummer"),
	    .city = gw_map_str(doc, "poststed"),
	    .address_country = "NO",
	    .address_extension = write_official_address,
	    .municipality_at = GW_MUNI_DISTRICT,
	    .municipality_url = NO_EXT_MUNICIPALITY,
	    .municipality = {NO_SYSTEM_MUNICIPALITY,
	        gw_map_str(doc, "kommunenummer"),
	        gw_map_str(doc, "kommunenavn")},
	    .language = gw_map_str(doc, "sprak"),
	};

	(void)ctx;
	if (type != NULL && strcmp(type, "fnr") == 0)
		p.id_system = ADAPTER_NO_FNR_SYSTEM;
	else if (type != NULL && strcmp(type, "dnr") == 0)
		p.id_system = ADAPTER_NO_DNR_SYSTEM;
	/* A middle name (mellomnavn) is written after the given names. */
	if (fornavn != NULL) {
		snprintf(given, sizeof(given), "%s%s%s", fornavn,
		    mellomnavn ? " " : "", mellomnavn ? mellomnavn : "");
		p.given = given;
	}
	return gw_map_patient(&p, out, mapped);
}

/* ---- diagnose -> Condition ---- */

static const struct gw_map_word diagnosis_states[] = {
    {"aktiv", "active"},
    {"avsluttet", "resolved"},
    {NULL, NULL},
};

static int
map_diagnose(const struct gw_row *doc, const struct gw_map_ctx *ctx,
    struct gw_jout *out, struct gw_mapped *mapped)
{
	const char *kodeverk = gw_map_str(doc, "kodeverk");
	const char *code = gw_map_str(doc, "kode");
	const char *text = gw_map_str(doc, "tekst");
	struct gw_map_condition c = {
	    .clinical_status =
	        gw_map_word(diagnosis_states, gw_map_str(doc, "status")),
	    .text = text,
	    .onset = gw_map_str(doc, "diagnosedato"),
	    .recorded = gw_map_str(doc, "registrert"),
	};

	/* The international system first, then Volven's. */
	if (kodeverk != NULL && strcmp(kodeverk, "ICD-10") == 0) {
		c.code[0] =
		    (struct gw_map_coding){GW_SYSTEM_ICD10_WHO, code, text};
		c.code[1] =
		    (struct gw_map_coding){GW_SYSTEM_ICD10_NO, code, text};
	} else if (kodeverk != NULL && strcmp(kodeverk, "ICPC-2") == 0) {
		c.code[0] =
		    (struct gw_map_coding){GW_SYSTEM_ICPC2_WHO, code, text};
		c.code[1] =
		    (struct gw_map_coding){GW_SYSTEM_ICPC2_NO, code, text};
	} else {
		return GW_ERR;
	}
	if (gw_map_row_read(doc, adapter_no.id_prefix, NO_OWNER, NO_CHANGED, &c.row) !=
	    GW_OK)
		return GW_ERR;
	return gw_map_condition(&c, ctx, out, mapped);
}

/* ---- legemiddel -> MedicationStatement ---- */

static const struct gw_map_word medication_states[] = {
    {"aktiv", "active"},
    {"avsluttet", "completed"},
    {"seponert", "stopped"},
    {NULL, NULL},
};

static int
map_legemiddel(const struct gw_row *doc, const struct gw_map_ctx *ctx,
    struct gw_jout *out, struct gw_mapped *mapped)
{
	struct gw_map_medication m = {
	    .status = gw_map_word(medication_states, gw_map_str(doc, "status")),
	    .atc = gw_map_str(doc, "atc"),
	    .product = gw_map_str(doc, "preparat"),
	    .strength = gw_map_str(doc, "styrke"),
	    .start = gw_map_str(doc, "startdato"),
	    .end = gw_map_str(doc, "sluttdato"),
	    .dosage = gw_map_str(doc, "dosering"),
	};

	if (gw_map_row_read(doc, adapter_no.id_prefix, NO_OWNER, NO_CHANGED, &m.row) !=
	    GW_OK)
		return GW_ERR;
	return gw_map_medication(&m, ctx, out, mapped);
}

/* ---- kritisk_informasjon -> AllergyIntolerance ---- */

static const struct gw_map_word allergy_types[] = {
    {"allergi", "allergy"},
    {"intoleranse", "intolerance"},
    {NULL, NULL},
};

static const struct gw_map_word severities[] = {
    {"lett", "mild"},
    {"moderat", "moderate"},
    {"alvorlig", "severe"},
    {NULL, NULL},
};

static const struct gw_map_word criticalities[] = {
    {"lav", "low"},
    {"høy", "high"},
    {"kan ikke vurderes", "unable-to-assess"},
    {NULL, NULL},
};

static const struct gw_map_word verifications[] = {
    {"bekreftet", "confirmed"},
    {"mistenkt", "unconfirmed"},
    {NULL, NULL},
};

static int
map_kritisk_informasjon(const struct gw_row *doc, const struct gw_map_ctx *ctx,
    struct gw_jout *out, struct gw_mapped *mapped)
{
	const char *type = gw_map_str(doc, "type");
	const char *alvorlighet = gw_map_str(doc, "alvorlighet");
	const char *kritikalitet = gw_map_str(doc, "kritikalitet");
	const char *sikkerhet = gw_map_str(doc, "sikkerhet");
	struct gw_map_allergy a = {
	    .code = gw_map_str(doc, "agens_kode"),
	    .agent = gw_map_str(doc, "agens_tekst"),
	    .type = gw_map_word(allergy_types, type),
	    .verification = gw_map_word(verifications, sikkerhet),
	    .severity = gw_map_word(severities, alvorlighet),
	    .criticality = gw_map_word(criticalities, kritikalitet),
	    .reaction = gw_map_str(doc, "reaksjon"),
	    .onset = gw_map_str(doc, "registrert_dato"),
	};

	/* A word the registry does not define is an error, not "absent". */
	if (a.type == NULL || (sikkerhet != NULL && a.verification == NULL) ||
	    (alvorlighet != NULL && a.severity == NULL) ||
	    (kritikalitet != NULL && a.criticality == NULL))
		return GW_ERR;
	if (gw_map_row_read(doc, adapter_no.id_prefix, NO_OWNER, NO_CHANGED, &a.row) !=
	    GW_OK)
		return GW_ERR;
	return gw_map_allergy(&a, ctx, out, mapped);
}

/* ---- vaksine -> Immunization ---- */

static int
map_vaksine(const struct gw_row *doc, const struct gw_map_ctx *ctx,
    struct gw_jout *out, struct gw_mapped *mapped)
{
	struct gw_map_immunization v = {
	    .atc = gw_map_str(doc, "atc"),
	    .name = gw_map_str(doc, "vaksinenavn"),
	    .date = gw_map_str(doc, "vaksinasjonsdato"),
	    .lot = gw_map_str(doc, "batchnummer"),
	};

	v.has_dose = gw_map_num(doc, "dosenummer", &v.dose);
	if (gw_map_row_read(doc, adapter_no.id_prefix, NO_OWNER, NO_CHANGED, &v.row) !=
	    GW_OK)
		return GW_ERR;
	return gw_map_immunization(&v, ctx, out, mapped);
}

/* ---- provesvar -> Observation ---- */

static int
map_provesvar(const struct gw_row *doc, const struct gw_map_ctx *ctx,
    struct gw_jout *out, struct gw_mapped *mapped)
{
	const char *name = gw_map_str(doc, "analysenavn");
	struct gw_map_observation o = {
	    .loinc = gw_map_str(doc, "loinc"),
	    .local = {NO_SYSTEM_NLK, gw_map_str(doc, "analysekode"), name},
	    .text = name,
	    .effective = gw_map_str(doc, "provetaking"),
	    .unit = gw_map_str(doc, "enhet"),
	    .value = gw_map_decimal(doc, "resultat"),
	    .low = gw_map_decimal(doc, "referanse_nedre"),
	    .high = gw_map_decimal(doc, "referanse_ovre"),
	};

	if (gw_map_row_read(doc, adapter_no.id_prefix, NO_OWNER, NO_CHANGED, &o.row) !=
	    GW_OK)
		return GW_ERR;
	return gw_map_observation(&o, ctx, out, mapped);
}

/* ---- dispatch ---- */

static const struct gw_map_kind no_kinds[] = {
    {"pasient", GW_RT_PATIENT, map_pasient},
    {"diagnose", GW_RT_CONDITION, map_diagnose},
    {"legemiddel", GW_RT_MEDICATION_STATEMENT, map_legemiddel},
    {"kritisk_informasjon", GW_RT_ALLERGY_INTOLERANCE, map_kritisk_informasjon},
    {"vaksine", GW_RT_IMMUNIZATION, map_vaksine},
    {"provesvar", GW_RT_OBSERVATION, map_provesvar},
};

int
adapter_no_map(const char *kind, const struct gw_row *doc,
    const struct gw_map_ctx *ctx, struct gw_jout *out, struct gw_mapped *mapped)
{
	return gw_map_dispatch(no_kinds, GW_ARRAY_LEN(no_kinds), kind, doc, ctx, out,
	    mapped);
}
