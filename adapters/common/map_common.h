/*
 * map_common.h: the FHIR R4 builders every country adapter shares.  A
 * country's map file reads its native row (field names, vocabulary and
 * status words of its own registry), fills one of the small structs below
 * with plain strings and FHIR codes, and calls the builder; the builders
 * own the resource shapes (IPS 2.0 profiles, status concepts, UTC
 * timestamps, the owner check), so the three countries cannot drift apart.
 * The Condition, Observation, AllergyIntolerance and Immunization builders
 * also translate the national codings with the maps of profiles/terminology
 * (terminology.h): the original coding stays, the translation is added to
 * the same CodeableConcept with its English display, and a code of a mapped
 * system without a translation is counted on /metrics.
 *
 * Strings in the structs are borrowed for the call.  Dates and timestamps
 * are the registry's text ("YYYY-MM-DD", or a PostgreSQL timestamptz in
 * the ISO DateStyle the gateway's sessions set, "2024-05-01 10:00:00+00");
 * the builders convert them (gw_map_datetime).
 * A builder writes the resource as one value at o (json_out.h), in the
 * order of its members, sets m->id (and m->category where the type has
 * one), and returns GW_OK; or GW_ERR when a required field is missing or
 * a value cannot be written as valid FHIR, with o as it was.
 */
#ifndef GW_ADAPTER_MAP_COMMON_H
#define GW_ADAPTER_MAP_COMMON_H

#include <stdbool.h>
#include <stddef.h>

#include "adapters/adapter.h"
#include "adapters/common/category.h"

#define GW_SYSTEM_ATC "http://www.whocc.no/atc"
#define GW_SYSTEM_LOINC "http://loinc.org"
#define GW_SYSTEM_SNOMED "http://snomed.info/sct"
#define GW_SYSTEM_UCUM "http://unitsofmeasure.org"
#define GW_SYSTEM_BCP47 "urn:ietf:bcp:47"
#define GW_TERMINOLOGY "http://terminology.hl7.org/CodeSystem/"
#define GW_IPS_PROFILE(name)                                                   \
	"http://hl7.org/fhir/uv/ips/StructureDefinition/" name

/* "YYYY-MM-DDThh:mm:ss.fffffffffZ" and room to spare. */
#define GW_MAP_DATETIME_MAX 40
/* Codings a Condition may carry (the same code in several systems). */
#define GW_MAP_CODINGS 3

/* ---- reading native rows ---- */

/* A non-empty string member of doc, or NULL. */
const char *gw_map_str(const struct gw_row *doc, const char *name);

/* A finite number member into *out; false if absent or not a number. */
bool gw_map_num(const struct gw_row *doc, const char *name, double *out);

/* A finite number member as the registry wrote it ("5.30": a FHIR
 * decimal keeps its precision), or NULL if absent or not a number. */
const char *gw_map_decimal(const struct gw_row *doc, const char *name);

/* A positive integer member (bigint keys arrive as JSON numbers, exact
 * below 2^53) into *out.  GW_OK or GW_ERR. */
int gw_map_key(const struct gw_row *doc, const char *name, long long *out);

/*
 * A native date or timestamp as a FHIR date/dateTime into out: dates
 * "YYYY-MM-DD" are copied; "YYYY-MM-DD[T ]hh:mm:ss[.f...](Z|+hh[:mm[:ss]])"
 * is rewritten in UTC with its fraction kept ("2024-03-01T08:00:00Z"), which
 * also removes offsets with seconds (old local mean times) that FHIR cannot
 * express.  GW_OK, or GW_ERR on anything else ("infinity", BC, junk).
 */
int gw_map_datetime(const char *in, char *out, size_t outsz);

/* The shape of an ATC code: A10BA02. */
bool gw_map_is_atc(const char *code);

/* A SNOMED CT concept id: 6-18 digits, no leading zero. */
bool gw_map_is_sctid(const char *code);

/* A logical-id token: [a-z2-7]+ (lowercase base32). */
bool gw_map_is_token(const char *s);

/* A registry's status word and its FHIR code: tables end with {NULL}. */
struct gw_map_word {
	const char *native, *fhir;
};

/* The FHIR code of native in words, or NULL if native is NULL or not in
 * the table (a word the registry does not define is never guessed). */
const char *gw_map_word(const struct gw_map_word *words, const char *native);

/* ---- patient identity ---- */

/*
 * Fill *p from a native patient doc for adapter a: logical_id
 * "<prefix>-" + the token_field, system as given, national_id the
 * national_field, registry_key the doc's "id" (a positive bigint) in
 * decimal.  doc borrowed.  GW_OK, or GW_ERR when a field is missing or
 * does not fit (*p is then zeroed).
 */
int gw_map_identity(const struct gw_adapter *a, const struct gw_row *doc,
    const char *token_field, const char *national_field, const char *system,
    struct gw_patient *p);

/* ---- the frame of a clinical row ---- */

/* Who a clinical row is and whose it is. */
struct gw_map_row {
	const char *prefix; /* the adapter's id prefix: "fi" */
	long long id;       /* the row's key: resource id "<prefix>-<id>" */
	long long owner;    /* registry key of the patient it belongs to */
	const char *changed; /* native time the row last changed, or NULL:
				meta.lastUpdated */
};

/* Read "id", owner_field and changed_field (the registry's change time,
 * optional) of doc into *row (prefix stored as given).  GW_OK or GW_ERR. */
int gw_map_row_read(const struct gw_row *doc, const char *prefix,
    const char *owner_field, const char *changed_field,
    struct gw_map_row *row);

/* A coding: system and code required, display optional. */
struct gw_map_coding {
	const char *system, *code, *display;
};

/* ---- Patient ---- */

/* Where the home municipality goes. */
enum gw_map_municipality {
	GW_MUNI_NONE,
	GW_MUNI_EXTENSION, /* Patient.extension (FI Base municipality-code) */
	GW_MUNI_DISTRICT,  /* address.district, code on _district (no-basis) */
};

struct gw_map_patient {
	const char *prefix, *token; /* id "<prefix>-<token>" */
	const char *profile;        /* meta.profile */
	const char *changed;        /* native change time: meta.lastUpdated */
	/* The national identifier, official use; type from v2-0203. */
	const char *id_system, *id_value, *id_type;
	const char *family;
	const char *given;    /* space-separated given names */
	const char *nickname; /* the given name in daily use: a usual name */
	const char *gender;   /* FHIR administrative gender code, or NULL */
	const char *birth_date, *deceased; /* native; birth date required */
	const char *phone;
	const char *line, *postal, *city, *address_country;
	/* Writes the one address.extension, or NULL for none. */
	void (*address_extension)(struct gw_jout *o);
	enum gw_map_municipality municipality_at;
	const char *municipality_url; /* the extension carrying the code */
	struct gw_map_coding municipality;
	/* A translation of the district name (BCP 47 tag and text), or NULL:
	 * e.g. the Sámi name of a Swedish municipality. */
	const char *district_lang, *district_translation;
	const char *language; /* communication language, BCP 47, or NULL */
};

int gw_map_patient(const struct gw_map_patient *p, struct gw_jout *o,
    struct gw_mapped *m);

/* ---- Condition ---- */

struct gw_map_condition {
	struct gw_map_row row;
	const char *clinical_status; /* condition-clinical: "active", ... */
	/* The diagnosis in one or more systems (system NULL ends the list);
	 * every code is classified for sensitive categories. */
	struct gw_map_coding code[GW_MAP_CODINGS];
	const char *text;
	const char *onset, *recorded; /* native, optional */
};

/* m->category: the sensitive category of the first coding that has one
 * (gw_category_of_coding), else NULL. */
int gw_map_condition(const struct gw_map_condition *c,
    const struct gw_map_ctx *ctx, struct gw_jout *o, struct gw_mapped *m);

/* ---- MedicationStatement ---- */

struct gw_map_medication {
	struct gw_map_row row;
	const char *status; /* FHIR: "active", "completed", "stopped" */
	const char *atc;    /* required, ATC shape */
	/* A national product code (VNR, NPL id), or system NULL. */
	const char *product_system, *product_code;
	const char *product, *strength; /* text: "product strength" */
	const char *start, *end;        /* native dates; start required */
	const char *dosage;             /* free text */
};

int gw_map_medication(const struct gw_map_medication *med,
    const struct gw_map_ctx *ctx, struct gw_jout *o, struct gw_mapped *m);

/* ---- AllergyIntolerance ---- */

struct gw_map_allergy {
	struct gw_map_row row;
	const char *code;  /* the agent: ATC (a medicine) or SNOMED CT */
	const char *agent; /* its name */
	const char *type;  /* "allergy" or "intolerance"; NULL: allergy */
	const char *verification; /* FHIR code; NULL: confirmed */
	const char *criticality;  /* FHIR code or NULL */
	const char *reaction;     /* manifestation text or NULL */
	const char *severity;     /* FHIR code or NULL */
	const char *onset;        /* native, optional */
};

int gw_map_allergy(const struct gw_map_allergy *a,
    const struct gw_map_ctx *ctx, struct gw_jout *o, struct gw_mapped *m);

/* ---- Immunization ---- */

struct gw_map_immunization {
	struct gw_map_row row;
	const char *atc;  /* vaccine ATC, required */
	const char *name; /* product name */
	const char *date; /* native, required */
	const char *lot;
	bool has_dose;
	double dose; /* dose number; written only when a positive integer */
};

int gw_map_immunization(const struct gw_map_immunization *v,
    const struct gw_map_ctx *ctx, struct gw_jout *o, struct gw_mapped *m);

/* ---- Observation (laboratory) ---- */

struct gw_map_observation {
	struct gw_map_row row;
	const char *loinc;          /* optional */
	struct gw_map_coding local; /* the national analysis code */
	const char *text;           /* code.text, optional */
	const char *effective;      /* native, required */
	/* Decimals as the registry wrote them (gw_map_decimal): value
	 * required, the reference range's bounds optional (NULL). */
	const char *value, *low, *high;
	const char *unit; /* UCUM, required */
};

int gw_map_observation(const struct gw_map_observation *mo,
    const struct gw_map_ctx *ctx, struct gw_jout *o, struct gw_mapped *m);

/* ---- dispatch ---- */

/* One native kind and its mapping function (the builder's contract). */
struct gw_map_kind {
	const char *kind;
	enum gw_rtype rtype;
	int (*map)(const struct gw_row *doc, const struct gw_map_ctx *ctx,
	    struct gw_jout *o, struct gw_mapped *m);
};

/*
 * The adapter map() hook over a table of kinds: finds kind and maps doc
 * into o, with m->type the kind's and m->category NULL unless the mapping
 * set one.  GW_ERR (o as it was) for an unknown kind, a NULL doc or an
 * unmappable row.
 */
int gw_map_dispatch(const struct gw_map_kind *kinds, size_t nkinds,
    const char *kind, const struct gw_row *doc, const struct gw_map_ctx *ctx,
    struct gw_jout *o, struct gw_mapped *m);

#endif
