/*
 * patient_flow.h: shared steps of the patient-data handlers (adapter from
 * id, patient load, consent decision, row mapping).
 */
#ifndef GW_PATIENT_FLOW_H
#define GW_PATIENT_FLOW_H

#include "gateway/server.h"

/* "<prefix>_<op>_<type>" (type < 0: without it). */
void gw_flow_statement_name(const struct gw_adapter *a, const char *op,
    int type, char *out, size_t outsz);

/* The adapter owning a logical id's prefix and the id's rest; NULL if no
 * local adapter has the prefix. */
const struct gw_adapter *gw_flow_adapter_of(const char *logical_id,
    const char **rest);

/* FHIR id syntax: [A-Za-z0-9.-]{1,64}. */
bool gw_flow_valid_id(const char *id);

/* Do the query parameters name only these (NULL-terminated) and _format,
 * each at most once (a name written "name*" may repeat)?  Otherwise answer
 * 400 and return false: a client never mistakes an ignored filter for an
 * applied one. */
bool gw_flow_only_params(struct gw_req *req, const char *const *allowed);

/* The patient a search names with patient={id} or patient=Patient/{id}: the
 * id, or NULL after answering 400 when the parameter is missing. */
const char *gw_flow_patient_param(struct gw_req *req);

/* Map row's doc column with req->adapter, as a tree (new resource, or
 * NULL) for code that reads the resource back. */
cJSON *gw_flow_map_row(struct gw_req *req, const PGresult *res, int row,
    int doc_col, enum gw_rtype *rtype, const char **category);

/* The same written as text at o (json_out.h), for an answer; GW_OK, or
 * GW_ERR (logged) with o as it was. */
int gw_flow_write_row(struct gw_req *req, const PGresult *res, int row,
    int doc_col, struct gw_jout *o, struct gw_mapped *m);

/* Note the consent generation the patient statements append as their
 * last column (see gw_flow_wrap_generation). */
void gw_flow_note_generation(struct gw_req *req, const PGresult *res);

/* The SQL of a patient-loading statement with gw.consent_generation
 * appended as its last column (caller frees). */
char *gw_flow_wrap_generation(const char *sql);

/* Fill req->patient from a native patient doc; GW_OK or GW_ERR. */
int gw_flow_identify(struct gw_req *req, const char *patient_doc);

/* From row 0 of a patient statement's answer (kind, doc, ...,
 * generation): fill req->patient, note the consent generation and keep
 * the native doc in req->held.  False after answering 500 when the row
 * is unusable. */
bool gw_flow_hold_patient(struct gw_req *req, const PGresult *res);

/* Decide consent for req->patient; on permit call next, otherwise answer
 * 403 (deny) or 503 (no decision). */
void gw_flow_decide(struct gw_req *req, void (*next)(struct gw_req *));

/* Check a logical id and find its local adapter (req->adapter): the
 * token the adapter's patient statements take, pointing into logical_id;
 * NULL after answering 400 (malformed) or 404 (no local registry). */
const char *gw_flow_local_patient(struct gw_req *req,
    const char *logical_id);

/* Load the patient with this logical id (404 if none), keep its native doc
 * in req->held, decide consent, then call next. */
void gw_flow_load_patient(struct gw_req *req, const char *logical_id,
    void (*next)(struct gw_req *));

/* Load the patient with this logical id (404 if none) without a consent
 * decision (consent administration), then call next. */
void gw_flow_resolve_patient(struct gw_req *req, const char *logical_id,
    void (*next)(struct gw_req *));

/* The same with an adapter statement already chosen (req->adapter set):
 * 422 if no patient matches. */
void gw_flow_resolve_by(struct gw_req *req, const char *statement,
    const char *const *params, int nparams, void (*next)(struct gw_req *));

#endif
