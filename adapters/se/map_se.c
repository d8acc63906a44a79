/*
 * map_se.c: native se_register rows (records of their columns) to FHIR R4 resources.
 * One function per kind reads the row's Swedish fields and status words
 * and hands plain values to the shared builders of
 * adapters/common/map_common.c.  The Patient follows SEBasePatient (the
 * folkbokföringsadress flag, the tilltalsnamn as a usual name, the Sámi
 * name of the municipality as a translation of address.district).  Ids:
 * Patient/se-<fhir_id>; clinical resources se-<row id>.
 */
#include <string.h>

#include "adapters/adapter.h"
#include "adapters/common/map_common.h"
#include "adapters/se/adapter_se.h"
#include "gateway/gw.h"

#define SE_PROFILE_PATIENT                                                     \
	"http://hl7.se/fhir/ig/base/StructureDefinition/SEBasePatient"
#define SE_EXT_ADDRESS_PERSON                                                  \
	"http://hl7.se/fhir/ig/base/StructureDefinition/"                      \
	"SEBaseAddressPersonExtension"
#define SE_SNOMED_EDITION "http://snomed.info/sct/45991000052106"
#define SE_FOLKBOKFORINGSADRESS "63381000052101"
/* NPU (IUPAC/IFCC) analysis codes. */
#define SE_SYSTEM_NPU "urn:oid:1.2.208.176.2.1"

/* The registry's change time of every row: meta.lastUpdated. */
#define SE_CHANGED "andrad"
#define SE_OWNER "patient_id"

/* ---- patient -> Patient ---- */

static const struct gw_map_word genders[] = {
    {"M", "male"},
    {"K", "female"},
    {NULL, NULL},
};

/* The address kind of SE Base: folkbokföringsadress (the population
 * register's address). */
static void
write_address_person(struct gw_jout *o)
{
	gw_jout_object(o);
	GW_JOUT_STRING(o, "url", SE_EXT_ADDRESS_PERSON);
	GW_JOUT_OBJECT(o, "valueCodeableConcept");
	GW_JOUT_ARRAY(o, "coding");
	gw_jout_object(o);
	GW_JOUT_STRING(o, "system", GW_SYSTEM_SNOMED);
	GW_JOUT_STRING(o, "code", SE_FOLKBOKFORINGSADRESS);
	GW_JOUT_STRING(o, "display", "folkbokföringsadress");
	GW_JOUT_STRING(o, "version", SE_SNOMED_EDITION);
	gw_jout_end_object(o);
	gw_jout_end_array(o);
	gw_jout_end_object(o);
	gw_jout_end_object(o);
}

static int
map_patient(const struct gw_row *doc, const struct gw_map_ctx *ctx,
    struct gw_jout *out, struct gw_mapped *mapped)
{
	const char *type = gw_map_str(doc, "personid_typ");
	struct gw_map_patient p = {
	    .changed = gw_map_str(doc, SE_CHANGED),
	    .prefix = adapter_se.id_prefix,
	    .token = gw_map_str(doc, "fhir_id"),
	    .profile = SE_PROFILE_PATIENT,
	    .id_value = gw_map_str(doc, "personid"),
	    .id_type = "NNSWE",
	    .family = gw_map_str(doc, "efternamn"),
	    .given = gw_map_str(doc, "fornamn"),
	    .nickname = gw_map_str(doc, "tilltalsnamn"),
	    .gender = gw_map_word(genders, gw_map_str(doc, "kon")),
	    .birth_date = gw_map_str(doc, "fodelsedatum"),
	    .deceased = gw_map_str(doc, "avliden_datum"),
	    .phone = gw_map_str(doc, "telefon"),
	    .line = gw_map_str(doc, "gatuadress"),
	    .postal = gw_map_str(doc, "postnummer"),
	    .city = gw_map_str(doc, "postort"),
	    .address_country = "SE",
	    .address_extension = write_address_person,
	    .municipality_at = GW_MUNI_DISTRICT,
	    .municipality = {NULL, gw_map_str(doc, "kommunkod"),
	        gw_map_str(doc, "kommun")},
	    .district_lang = gw_map_str(doc, "kommun_samiskt_sprak"),
	    .district_translation = gw_map_str(doc, "kommun_samiskt_namn"),
	    .language = gw_map_str(doc, "sprak"),
	};

	(void)ctx;
	if (type != NULL && strcmp(type, "personnummer") == 0)
		p.id_system = ADAPTER_SE_PNR_SYSTEM;
	else if (type != NULL && strcmp(type, "samordningsnummer") == 0)
		p.id_system = ADAPTER_SE_SAM_SYSTEM;
	return gw_map_patient(&p, out, mapped);
}

/* ---- diagnos -> Condition ---- */

static const struct gw_map_word diagnosis_states[] = {
    {"aktuell", "active"},
    {"avslutad", "resolved"},
    {NULL, NULL},
};

static const struct gw_map_word classifications[] = {
    {"ICD-10-SE", GW_SYSTEM_ICD10_SE},
    {"KSH97-P", GW_SYSTEM_KSH97P},
    {NULL, NULL},
};

static int
map_diagnos(const struct gw_row *doc, const struct gw_map_ctx *ctx,
    struct gw_jout *out, struct gw_mapped *mapped)
{
	const char *name = gw_map_str(doc, "benamning");
	struct gw_map_condition c = {
	    .clinical_status =
	        gw_map_word(diagnosis_states, gw_map_str(doc, "status")),
	    .code = {{gw_map_word(classifications, gw_map_str(doc, "kodverk")),
	        gw_map_str(doc, "kod"), name}},
	    .text = name,
	    .onset = gw_map_str(doc, "diagnosdatum"),
	    .recorded = gw_map_str(doc, "registrerad"),
	};

	if (gw_map_row_read(doc, adapter_se.id_prefix, SE_OWNER, SE_CHANGED, &c.row) !=
	    GW_OK)
		return GW_ERR;
	return gw_map_condition(&c, ctx, out, mapped);
}

/* ---- lakemedel -> MedicationStatement ---- */

static const struct gw_map_word medication_states[] = {
    {"aktuell", "active"},
    {"avslutad", "completed"},
    {"utsatt", "stopped"},
    {NULL, NULL},
};

static int
map_lakemedel(const struct gw_row *doc, const struct gw_map_ctx *ctx,
    struct gw_jout *out, struct gw_mapped *mapped)
{
	struct gw_map_medication m = {
	    .status = gw_map_word(medication_states, gw_map_str(doc, "status")),
	    .atc = gw_map_str(doc, "atc"),
	    .product = gw_map_str(doc, "lakemedelsnamn"),
	    .strength = gw_map_str(doc, "styrka"),
	    .start = gw_map_str(doc, "startdatum"),
	    .end = gw_map_str(doc, "slutdatum"),
	    .dosage = gw_map_str(doc, "dosering"),
	};

	if (gw_map_row_read(doc, adapter_se.id_prefix, SE_OWNER, SE_CHANGED, &m.row) !=
	    GW_OK)
		return GW_ERR;
	return gw_map_medication(&m, ctx, out, mapped);
}

/* ---- uppmarksamhetssignal -> AllergyIntolerance ---- */

static const struct gw_map_word severities[] = {
    {"lindrig", "mild"},
    {"måttlig", "moderate"},
    {"allvarlig", "severe"},
    {NULL, NULL},
};

static const struct gw_map_word criticalities[] = {
    {"låg", "low"},
    {"hög", "high"},
    {"ej bedömbar", "unable-to-assess"},
    {NULL, NULL},
};

static const struct gw_map_word certainties[] = {
    {"bekräftad", "confirmed"},
    {"misstänkt", "unconfirmed"},
    {NULL, NULL},
};

static int
map_uppmarksamhetssignal(const struct gw_row *doc, const struct gw_map_ctx *ctx,
    struct gw_jout *out, struct gw_mapped *mapped)
{
	const char *type = gw_map_str(doc, "signaltyp");
	const char *grad = gw_map_str(doc, "allvarlighetsgrad");
	const char *kritikalitet = gw_map_str(doc, "kritikalitet");
	const char *visshet = gw_map_str(doc, "visshetsgrad");
	struct gw_map_allergy a = {
	    .code = gw_map_str(doc, "agens_kod"),
	    .agent = gw_map_str(doc, "agens_namn"),
	    .verification = gw_map_word(certainties, visshet),
	    .severity = gw_map_word(severities, grad),
	    .criticality = gw_map_word(criticalities, kritikalitet),
	    .reaction = gw_map_str(doc, "reaktion"),
	    .onset = gw_map_str(doc, "registrerad"),
	};

	/* Other warning signals are not allergies; an undefined word is an
	 * error, not "absent". */
	if (type == NULL || strcmp(type, "överkänslighet") != 0 ||
	    (visshet != NULL && a.verification == NULL) ||
	    (grad != NULL && a.severity == NULL) ||
	    (kritikalitet != NULL && a.criticality == NULL))
		return GW_ERR;
	if (gw_map_row_read(doc, adapter_se.id_prefix, SE_OWNER, SE_CHANGED, &a.row) !=
	    GW_OK)
		return GW_ERR;
	return gw_map_allergy(&a, ctx, out, mapped);
}

/* ---- vaccination -> Immunization ---- */

static int
map_vaccination(const struct gw_row *doc, const struct gw_map_ctx *ctx,
    struct gw_jout *out, struct gw_mapped *mapped)
{
	struct gw_map_immunization v = {
	    .atc = gw_map_str(doc, "atc"),
	    .name = gw_map_str(doc, "vaccinnamn"),
	    .date = gw_map_str(doc, "vaccinationsdatum"),
	    .lot = gw_map_str(doc, "batchnummer"),
	};

	v.has_dose = gw_map_num(doc, "dosnummer", &v.dose);
	if (gw_map_row_read(doc, adapter_se.id_prefix, SE_OWNER, SE_CHANGED, &v.row) !=
	    GW_OK)
		return GW_ERR;
	return gw_map_immunization(&v, ctx, out, mapped);
}

/* ---- labbsvar -> Observation ---- */

static int
map_labbsvar(const struct gw_row *doc, const struct gw_map_ctx *ctx,
    struct gw_jout *out, struct gw_mapped *mapped)
{
	const char *name = gw_map_str(doc, "analysnamn");
	struct gw_map_observation o = {
	    .loinc = gw_map_str(doc, "loinc"),
	    .local = {SE_SYSTEM_NPU, gw_map_str(doc, "analyskod"), name},
	    .text = name,
	    .effective = gw_map_str(doc, "provtagning"),
	    .unit = gw_map_str(doc, "enhet"),
	    .value = gw_map_decimal(doc, "resultat"),
	    .low = gw_map_decimal(doc, "ref_lag"),
	    .high = gw_map_decimal(doc, "ref_hog"),
	};

	if (gw_map_row_read(doc, adapter_se.id_prefix, SE_OWNER, SE_CHANGED, &o.row) !=
	    GW_OK)
		return GW_ERR;
	return gw_map_observation(&o, ctx, out, mapped);
}

/* ---- dispatch ---- */

static const struct gw_map_kind se_kinds[] = {
    {"patient", GW_RT_PATIENT, map_patient},
    {"diagnos", GW_RT_CONDITION, map_diagnos},
    {"lakemedel", GW_RT_MEDICATION_STATEMENT, map_lakemedel},
    {"uppmarksamhetssignal", GW_RT_ALLERGY_INTOLERANCE,
        map_uppmarksamhetssignal},
    {"vaccination", GW_RT_IMMUNIZATION, map_vaccination},
    {"labbsvar", GW_RT_OBSERVATION, map_labbsvar},
};

int
adapter_se_map(const char *kind, const struct gw_row *doc,
    const struct gw_map_ctx *ctx, struct gw_jout *out, struct gw_mapped *mapped)
{
	return gw_map_dispatch(se_kinds, GW_ARRAY_LEN(se_kinds), kind, doc, ctx, out,
	    mapped);
}
