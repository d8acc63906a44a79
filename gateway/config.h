/*
 * config.h: the gateway's configuration, read from one JSON file and
 * validated as a whole before anything starts (see docs/configuration.md).
 */
#ifndef GW_CONFIG_H
#define GW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "gateway/http.h"

struct gw_config {
	char *country;	     /* "FI" */
	char *listen_host;   /* "127.0.0.1" */
	int listen_port;
	char *admin_host;
	int admin_port;
	int workers;	     /* resolved: >= 1 */
	char *public_base_url; /* no trailing slash, ends in "/fhir" */
	char *db_conninfo;
	int db_pool_size;
	char *tls_cert;
	char *tls_key;
	char *tls_client_ca;
	char *tls_crl;	     /* NULL when not configured */
	unsigned char *id_key; /* secret, wiped on free */
	size_t id_key_len;
	char *migrations_dir;
	struct gw_http_limits http;
	int header_timeout_ms;
	int idle_timeout_ms;
	int max_connections;
};

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
