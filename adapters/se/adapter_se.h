/*
 * adapter_se.h: the pieces of the Swedish adapter that live in separate
 * files (mapping, seeding) and the adapter itself, for adapter_se.c and
 * the unit tests.  The gateway sees only `adapter_se` through
 * adapters/adapter.h and the registration table.
 */
#ifndef GW_ADAPTER_SE_H
#define GW_ADAPTER_SE_H

#include <stddef.h>

#include "adapters/adapter.h"

/* FHIR identifier systems: written on output ... */
#define ADAPTER_SE_PNR_SYSTEM                                                  \
	"http://electronichealth.se/identifier/personnummer"
#define ADAPTER_SE_SAM_SYSTEM                                                  \
	"http://electronichealth.se/identifier/samordningsnummer"
/* ... and also accepted on input. */
#define ADAPTER_SE_PNR_OID "urn:oid:1.2.752.129.2.1.3.1"
#define ADAPTER_SE_SAM_OID "urn:oid:1.2.752.129.2.1.3.3"

extern const struct gw_adapter adapter_se;

/*
 * Fill *p from a native patient doc (a record of se_register.patient):
 * logical_id "se-" + fhir_id, system the personnummer or samordningsnummer
 * system written on output (from personid_typ), national_id the 12-digit
 * personid, registry_key patient.id in decimal.  doc borrowed.  GW_OK, or
 * GW_ERR (*p zeroed).
 */
int adapter_se_patient_identity(const struct gw_row *doc, struct gw_patient *p);

/*
 * Map one native row to FHIR R4 (the gateway's map() hook; see adapter.h).
 * kind is the table name ("patient", "diagnos", "lakemedel",
 * "uppmarksamhetssignal", "vaccination", "labbsvar"); a warning signal that
 * is not a hypersensitivity is not mapped.  Returns a new resource (caller
 * frees) or NULL.  *category is set for Conditions with a sensitive
 * ICD-10-SE or KSH97-P code.
 */
int adapter_se_map(const char *kind, const struct gw_row *doc,
    const struct gw_map_ctx *ctx, struct gw_jout *out, struct gw_mapped *mapped);

/*
 * The seed() hook: replace the se_register tables with npatients
 * deterministic synthetic persons and their records, streamed with COPY.
 * GW_OK or GW_ERR with the reason logged.
 */
int adapter_se_seed(PGconn *conn, long npatients, const unsigned char *id_key,
    size_t id_key_len);

#endif
