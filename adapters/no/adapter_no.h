/*
 * adapter_no.h: the pieces of the Norwegian adapter that live in separate
 * files (mapping, seeding) and the adapter itself, for adapter_no.c and
 * the unit tests.  The gateway sees only `adapter_no` through
 * adapters/adapter.h and the registration table.
 */
#ifndef GW_ADAPTER_NO_H
#define GW_ADAPTER_NO_H

#include <stddef.h>

#include "adapters/adapter.h"

/* FHIR identifier systems of the fødselsnummer and the D-nummer. */
#define ADAPTER_NO_FNR_SYSTEM "urn:oid:2.16.578.1.12.4.1.4.1"
#define ADAPTER_NO_DNR_SYSTEM "urn:oid:2.16.578.1.12.4.1.4.2"

extern const struct gw_adapter adapter_no;

/*
 * Fill *p from a native pasient doc (a record of no_register.pasient):
 * logical_id "no-" + fhir_id, system the fødselsnummer or D-nummer system
 * (from identtype), national_id the number, registry_key pasient.id in
 * decimal.  doc borrowed.  GW_OK, or GW_ERR when a field is missing or
 * does not fit (*p is then zeroed).
 */
int adapter_no_patient_identity(const struct gw_row *doc, struct gw_patient *p);

/*
 * Map one native row to FHIR R4 (the gateway's map() hook; see adapter.h).
 * kind is the table name ("pasient", "diagnose", "legemiddel",
 * "kritisk_informasjon", "vaksine", "provesvar").  Clinical kinds need
 * ctx->patient (the owner).  Returns a new resource (caller frees) or NULL.
 * *category is set for Conditions with a sensitive ICD-10 or ICPC-2 code.
 */
int adapter_no_map(const char *kind, const struct gw_row *doc,
    const struct gw_map_ctx *ctx, struct gw_jout *out, struct gw_mapped *mapped);

/*
 * The seed() hook: replace the no_register tables with npatients
 * deterministic synthetic persons (Tenor-style numbers only) and their
 * records, streamed with COPY.  GW_OK or GW_ERR with the reason logged.
 */
int adapter_no_seed(PGconn *conn, long npatients, const unsigned char *id_key,
    size_t id_key_len);

#endif
