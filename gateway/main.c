/*
 * main.c: the command line.  serve runs the gateway; migrate, seed and
 * node-add are the operator's blocking tools (docs/configuration.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adapters/adapter.h"
#include "gateway/config.h"
#include "gateway/db.h"
#include "gateway/gw.h"
#include "gateway/migrate.h"
#include "gateway/server.h"

static void
usage(void)
{
	fprintf(stderr,
	    "usage: fhirgw serve -c CONFIG [-n]\n"
	    "       fhirgw migrate -c CONFIG\n"
	    "       fhirgw seed -c CONFIG --country CC --patients N\n"
	    "       fhirgw node-add -c CONFIG --cert PEM --name NAME"
	    " --country CC --roles ROLE[,ROLE...]\n");
	exit(1);
}

/* Options are "-c FILE", "--name VALUE" pairs and the flag "-n". */
static const char *
option(int argc, char **argv, const char *name)
{
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], name) != 0)
			continue;
		if (strcmp(name, "-n") == 0)
			return "";
		if (i + 1 >= argc)
			usage();
		return argv[i + 1];
	}
	return NULL;
}

static int
cmd_seed(const struct gw_config *cfg, const char *country, const char *n)
{
	char cc[3] = { 0 };
	const struct gw_adapter *a;
	PGconn *conn;
	long patients;
	int rc;

	if (country == NULL || strlen(country) != 2 || n == NULL ||
	    gw_parse_long(n, 1, 100000000, &patients) != GW_OK)
		usage();
	cc[0] = (char)(country[0] & ~0x20);
	cc[1] = (char)(country[1] & ~0x20);
	a = gw_adapter_by_country(cc);
	if (a == NULL || a->seed == NULL) {
		gw_error("seed: no adapter for %s in this build", cc);
		return GW_ERR;
	}
	conn = gw_db_connect_blocking(cfg->db_conninfo);
	if (conn == NULL)
		return GW_ERR;
	rc = a->seed(conn, patients, cfg->id_key, cfg->id_key_len);
	PQfinish(conn);
	return rc;
}

int
main(int argc, char **argv)
{
	const char *cmd, *path;
	struct gw_config *cfg;
	int rc = GW_ERR;

	if (argc < 2)
		usage();
	cmd = argv[1];
	path = option(argc, argv, "-c");
	if (path == NULL)
		usage();
	cfg = gw_config_load(path);
	if (cfg == NULL)
		return 1;
	if (strcmp(cmd, "serve") == 0) {
		if (option(argc, argv, "-n") != NULL) {
			rc = gw_adapters_check();
			if (rc == GW_OK)
				printf("configuration ok\n");
		} else {
			rc = gw_server_run(cfg);
		}
	} else if (strcmp(cmd, "migrate") == 0) {
		rc = gw_migrate(cfg);
	} else if (strcmp(cmd, "seed") == 0) {
		rc = cmd_seed(cfg, option(argc, argv, "--country"),
		    option(argc, argv, "--patients"));
	} else if (strcmp(cmd, "node-add") == 0) {
		const char *cert = option(argc, argv, "--cert");
		const char *name = option(argc, argv, "--name");
		const char *country = option(argc, argv, "--country");
		const char *roles = option(argc, argv, "--roles");

		if (cert == NULL || name == NULL || country == NULL ||
		    roles == NULL)
			usage();
		rc = gw_node_add(cfg, cert, name, country, roles);
	} else {
		usage();
	}
	gw_config_free(cfg);
	return rc == GW_OK ? 0 : 1;
}
