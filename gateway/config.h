/*
 * config.h: the gateway's configuration, read from one JSON file and
 * validated as a whole before anything starts (see docs/configuration.md).
 */
#ifndef GW_CONFIG_H
#define GW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "gateway/http.h"

struct gw_peer; /* relay.h */

/* Countries a config can name as local (compiled adapters are fewer). */
#define GW_MAX_COUNTRIES 16

/* What bounds a client ("limits" in the file): each worker keeps a copy,
 * which a reload replaces (reload.c), so it reads them without a lock. */
struct gw_limits {
	struct gw_http_limits http;
	int header_timeout_ms;
	int idle_timeout_ms;
	int max_connections;
	int node_requests_per_s; /* per node, unless the registry says; 0 off */
	int node_burst_s;	 /* a node's bucket holds rate x this */
};

struct gw_config {
	char *country;	     /* "FI" */
	char *listen_host;   /* "127.0.0.1" */
	int listen_port;
	char *admin_host;
	int admin_port;
	int workers;	     /* resolved: >= 1 */
	char *public_base_url; /* no trailing slash, ends in "/fhir" */
	char *db_conninfo;	     /* serve: the runtime role (fhirgw_app) */
	char *db_migrate_conninfo; /* migrate, seed, node-add, audit-verify:
				      the owner; default db_conninfo */
	int db_pool_size;
	int db_statement_timeout_ms; /* serve's pools; 0 = PostgreSQL's own */
	char *db_replica_conninfo; /* registry reads (registry_read.c); NULL:
				      everything on db_conninfo */
	int db_replica_pool_size;
	int db_replica_max_lag_ms; /* older registry reads go to the primary;
				      0: no bound */
	char *tls_cert;
	char *tls_key;
	char *tls_client_ca;
	char *tls_crl;	     /* NULL when not configured */
	unsigned char *id_key; /* secret, wiped on free */
	size_t id_key_len;
	char *migrations_dir;
	char *profiles_dir;  /* categories.json, terminology/ (adapters) */
	struct gw_limits limits;
	/* Where patient data lives (docs/relay.md): the countries served from
	 * a compiled adapter here (resolved: the configured list, or every
	 * compiled adapter without a peer), and the peer gateways that hold
	 * the others.  A country in neither is refused (404). */
	char local_countries[GW_MAX_COUNTRIES][3];
	int nlocal_countries;
	struct gw_peer *peers;
	int npeers;
	/* Secondary use (docs/export.md). */
	char *export_dir;	/* NDJSON files, one directory per job */
	int export_file_ttl_s;	/* a done job's files are removed after */
	bool export_runner;	/* serve runs jobs in a thread of its own */
	int export_batch_patients; /* registry patients per file set */
};

/* Is country served from a local adapter / relayed to a peer? */
bool gw_config_is_local(const struct gw_config *cfg, const char *country);
const struct gw_peer *gw_config_peer(const struct gw_config *cfg,
    const char *country);

/*
 * Read and validate the config file at path.  Returns a new config (free
 * with gw_config_free) or NULL with every problem logged.
 */
struct gw_config *gw_config_load(const char *path);

/* Parse a config from JSON text; dir resolves relative paths.  The id key
 * file is read too.  Returns NULL with problems logged. */
struct gw_config *gw_config_parse(const char *json, const char *dir);

void gw_config_free(struct gw_config *cfg);

#endif
