/*
 * adapter_fi.h: the pieces of the Finnish adapter that live in separate
 * files (mapping, seeding) and the adapter itself, for adapter_fi.c and
 * the unit tests.  The gateway sees only `adapter_fi` through
 * adapters/adapter.h and the registration table.
 */
#ifndef GW_ADAPTER_FI_H
#define GW_ADAPTER_FI_H

#include <stddef.h>

#include "adapters/adapter.h"

/* FHIR identifier system of the HETU. */
#define ADAPTER_FI_HETU_SYSTEM "urn:oid:1.2.246.21"

extern const struct gw_adapter adapter_fi;

/*
 * Fill *p from a native henkilo doc (a record of fi_rekisteri.henkilo):
 * logical_id "fi-" + fhir_tunniste, system urn:oid:1.2.246.21, national_id
 * the HETU as written, registry_key henkilo.id in decimal.  doc borrowed.
 * GW_OK, or GW_ERR when a field is missing or does not fit (*p is then
 * zeroed).
 */
int adapter_fi_patient_identity(const struct gw_row *doc, struct gw_patient *p);

/*
 * Map one native row to FHIR R4 (the gateway's map() hook; see adapter.h).
 * kind is the table name ("henkilo", "diagnoosi", "laakitys", "allergia",
 * "rokotus", "laboratoriotulos").  Clinical kinds need ctx->patient (the
 * owner: subject reference, and a row of another person is refused).
 * Returns a new resource (caller frees) or NULL for an unknown kind, a
 * missing required field or a value that cannot be written as valid FHIR.
 * *category is set only for Conditions with a sensitive ICD-10 code.
 */
int adapter_fi_map(const char *kind, const struct gw_row *doc,
    const struct gw_map_ctx *ctx, struct gw_jout *out, struct gw_mapped *mapped);

/*
 * The seed() hook: replace the fi_rekisteri tables with npatients
 * deterministic synthetic persons and their records, streamed with COPY
 * (constant memory).  conn is a blocking connection, borrowed.  GW_OK or
 * GW_ERR with the reason logged.
 */
int adapter_fi_seed(PGconn *conn, long npatients, const unsigned char *id_key,
    size_t id_key_len);

#endif
