/*
 * migrate.h: versioned schema migrations and node registration, the
 * blocking administrative commands of the command line.
 */
#ifndef GW_MIGRATE_H
#define GW_MIGRATE_H

#include "gateway/config.h"

/*
 * Apply every NNN_name.sql in cfg->migrations_dir that is not yet recorded
 * in public.fhirgw_migration, in version order, each in its own
 * transaction, under an advisory lock so that two instances starting
 * together do not race.  GW_OK or GW_ERR.
 */
int gw_migrate(const struct gw_config *cfg);

/* Register or update the node whose certificate is in cert_path.  rate:
 * its own requests per second ("0" unlimited), "default" for the
 * configured one, NULL to keep what it has (the configured one for a new
 * node).  Prints the key hash.  GW_OK or GW_ERR. */
int gw_node_add(const struct gw_config *cfg, const char *cert_path,
    const char *name, const char *country, const char *roles,
    const char *rate);

#endif
