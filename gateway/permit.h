/*
 * permit.h: data permits for secondary use (DESIGN.md §7,
 * docs/export.md).  `fhirgw permit-add` records one in gw.data_permit with
 * a fresh random secret (the pseudonymisation key), which never leaves the
 * database: nothing here prints or returns it.
 */
#ifndef GW_PERMIT_H
#define GW_PERMIT_H

#include "gateway/config.h"

#define GW_PERMIT_SECRET_LEN 32

/* What the operator gives permit-add; NULL for an option not given. */
struct gw_permit_spec {
	const char *id; /* required */
	const char *project;
	const char *nodes;       /* required: NAME[,NAME...] or key hashes */
	const char *types;       /* required: Condition,Observation,... */
	const char *country;     /* cohort criterion: data holder country */
	const char *icd10;       /* cohort criterion: E11,I10 (prefixes) */
	const char *members;     /* explicit cohort: SYSTEM|ID[,SYSTEM|ID...] */
	const char *birth_years; /* cohort criterion: FROM-TO */
	const char *valid_days;  /* validity from now, days (default 365) */
	const char *precision;   /* "year" (default) or "month" */
};

/*
 * Check spec and insert the permit on a blocking owner connection
 * (database.migrate_conninfo).  Resource types must be ones the gateway
 * serves.  Prints the permit id only.  GW_OK or GW_ERR with the reason
 * logged.
 */
int gw_permit_add(
    const struct gw_config *cfg, const struct gw_permit_spec *spec);

/*
 * "A,B,C" -> "{A,B,C}" (a PostgreSQL text[] literal) into out, every item
 * checked against [A-Za-z0-9|:/._-] so no quoting is ever needed.
 * GW_OK, or GW_ERR on an empty item, a bad character or no room.
 */
int gw_permit_array(const char *list, char *out, size_t outsz);

#endif
