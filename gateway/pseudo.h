/*
 * pseudo.h: pseudonymisation of mapped FHIR resources for secondary use
 * (DESIGN.md §7, docs/export.md).  Pure functions: no I/O, no globals.
 *
 * A patient's pseudonym is lowercase base32 (26 characters) of
 * HMAC-SHA256(permit secret, system || "|" || national id); every other
 * resource id is re-keyed the same way from (type, live id), so nothing in
 * an export links back to the live API or across permits.
 */
#ifndef GW_PSEUDO_H
#define GW_PSEUDO_H

#include <stddef.h>

#include <cjson/cJSON.h>

#define GW_PSEUDONYM_LEN 26
#define GW_PSEUDO_SYSTEM_PREFIX "urn:fhirgw:pseudonym:"

enum gw_pseudo_precision {
	GW_PSEUDO_YEAR,  /* "1987" */
	GW_PSEUDO_MONTH, /* "1987-03" */
};

struct gw_pseudo_ctx {
	const unsigned char *secret; /* the permit's key (borrowed) */
	size_t secret_len;
	const char *permit_id; /* names the pseudonym system */
	const char *pseudonym; /* the owning patient's pseudonym */
	enum gw_pseudo_precision precision;
};

/* The pseudonym of (system, national_id) under secret into out (at least
 * GW_PSEUDONYM_LEN + 1 bytes).  GW_OK or GW_ERR. */
int gw_pseudo_patient(const unsigned char *secret, size_t secret_len,
    const char *system, const char *national_id, char *out, size_t outsz);

/*
 * Rewrite resource r (borrowed, changed in place) for export: ids and
 * references re-keyed (Patient -> ctx->pseudonym), identity and contact
 * elements removed (name, telecom, address, photo, contact, identifier
 * other than the pseudonym, extensions, link, generalPractitioner,
 * managingOrganization, meta, reference displays), free text removed
 * (narrative, note, comment, valueString, any `text` outside a
 * CodeableConcept), instants removed (issued) and every date and dateTime
 * reduced to ctx->precision; objects and arrays left empty are removed.
 * GW_OK, or GW_ERR when r is not a resource
 * (r must then be discarded, never exported).
 */
int gw_pseudo_resource(cJSON *r, const struct gw_pseudo_ctx *ctx);

/* Reduce one FHIR date/dateTime string to precision into out: GW_OK, or
 * GW_ERR when in is not one. */
int gw_pseudo_date(const char *in, enum gw_pseudo_precision precision,
    char *out, size_t outsz);

#endif
