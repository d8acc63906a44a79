/*
 * main.c: the command line.  serve runs the gateway; migrate, seed,
 * node-add, permit-add, export-worker and audit-verify are the operator's
 * blocking tools (docs/configuration.md).  They connect with
 * database.migrate_conninfo (the owner role); serve and export-worker with
 * database.conninfo (the runtime role).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adapters/adapter.h"
#include "gateway/audit.h"
#include "gateway/config.h"
#include "gateway/db.h"
#include "gateway/export.h"
#include "gateway/fhir.h"
#include "gateway/gw.h"
#include "gateway/small_alloc.h"
#include "gateway/migrate.h"
#include "gateway/permit.h"
#include "gateway/profile.h"
#include "gateway/server.h"

#define VALIDATE_MAX (64 * 1024 * 1024)

static void
usage(void)
{
	fprintf(stderr,
	    "usage: fhirgw serve -c CONFIG [-n]\n"
	    "       fhirgw migrate -c CONFIG\n"
	    "       fhirgw seed -c CONFIG --country CC --patients N\n"
	    "       fhirgw node-add -c CONFIG --cert PEM --name NAME"
	    " --country CC --roles ROLE[,ROLE...]\n"
	    "           [--rate N|default]\n"
	    "       fhirgw permit-add -c CONFIG --id ID --node NAME[,NAME...]"
	    " --types T[,T...]\n"
	    "           [--project P] [--country CC] [--icd10 E11,I10]"
	    " [--members SYSTEM|ID,...]\n"
	    "           [--birth-years FROM-TO] [--valid-days N]"
	    " [--precision year|month]\n"
	    "       fhirgw export-worker -c CONFIG\n"
	    "       fhirgw audit-verify -c CONFIG [--anchor SEQ:HASH]\n"
	    "       fhirgw validate FILE... [--profiles DIR]\n");
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
	conn = gw_db_connect_blocking(cfg->db_migrate_conninfo, "fhirgw seed");
	if (conn == NULL)
		return GW_ERR;
	rc = a->seed(conn, patients, cfg->id_key, cfg->id_key_len);
	PQfinish(conn);
	return rc;
}

/*
 * fhirgw validate FILE... [--profiles DIR]: check FHIR JSON files against
 * profiles/ and print one OperationOutcome per file.  0 all valid, 1 not.
 */
static int
cmd_validate(int argc, char **argv)
{
	const char *dir = option(argc, argv, "--profiles");
	struct gw_profiles *p = gw_profiles_load(dir ? dir :
	    GW_SOURCE_DIR "/profiles");
	int bad_files = 0, files = 0;

	if (p == NULL)
		return 2;
	for (int i = 2; i < argc; i++) {
		char *text, *out;
		size_t len;
		cJSON *oo, *issues;

		if (strcmp(argv[i], "--profiles") == 0) {
			i++;
			continue;
		}
		files++;
		if ((text = gw_read_file(argv[i], VALIDATE_MAX, &len)) == NULL &&
		    errno != EFBIG) {
			gw_error("validate: cannot open %s", argv[i]);
			bad_files++;
			continue;
		}
		oo = gw_fhir_outcome("information", "informational", argv[i]);
		issues = cJSON_GetObjectItem(oo, "issue");
		/* text NULL: larger than VALIDATE_MAX, a failure too */
		if (text == NULL ||
		    gw_profiles_validate_text(p, text, len, issues) > 0) {
			cJSON_DeleteItemFromArray(issues, 0);
			bad_files++;
		}
		out = cJSON_Print(oo);
		printf("%s\n", out);
		cJSON_free(out);
		cJSON_Delete(oo);
		free(text);
	}
	gw_profiles_free(p);
	if (files == 0)
		usage();
	return bad_files == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	const char *cmd, *path;
	struct gw_config *cfg;
	int rc = GW_ERR;

	gw_heap_init();
	gw_small_alloc_init(); /* before the first cJSON or OpenSSL call */
	if (argc < 2)
		usage();
	cmd = argv[1];
	if (strcmp(cmd, "validate") == 0)
		return cmd_validate(argc, argv);
	path = option(argc, argv, "-c");
	if (path == NULL)
		usage();
	cfg = gw_config_load(path);
	if (cfg == NULL)
		return strcmp(cmd, "audit-verify") == 0 ? 2 : 1;
	if (strcmp(cmd, "audit-verify") == 0) {
		/* 0 intact, 1 broken, 2 could not check. */
		rc = gw_audit_verify(cfg, option(argc, argv, "--anchor"));
		gw_config_free(cfg);
		return rc;
	}
	/* serve and export-worker map registry rows: without the code data
	 * (profiles_dir) consent exclusions would mean nothing, so neither
	 * starts; serve -n checks the files too. */
	if ((strcmp(cmd, "serve") == 0 || strcmp(cmd, "export-worker") == 0) &&
	    gw_adapters_load_data(cfg->profiles_dir) != GW_OK) {
		gw_config_free(cfg);
		return 1;
	}
	if (strcmp(cmd, "serve") == 0) {
		if (option(argc, argv, "-n") != NULL) {
			rc = gw_adapters_check();
			if (rc == GW_OK) {
				/* Peers' certificates, keys and hosts too. */
				struct gw_relay_peers *rp = gw_relay_peers_new(
				    cfg->peers, cfg->npeers);

				rc = rp != NULL ? GW_OK : GW_ERR;
				gw_relay_peers_free(rp);
			}
			if (rc == GW_OK)
				printf("configuration ok\n");
		} else {
			rc = gw_server_run(cfg, path);
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
		const char *rate = option(argc, argv, "--rate");

		if (cert == NULL || name == NULL || country == NULL ||
		    roles == NULL)
			usage();
		rc = gw_node_add(cfg, cert, name, country, roles, rate);
	} else if (strcmp(cmd, "export-worker") == 0) {
		rc = gw_export_worker_main(cfg);
	} else if (strcmp(cmd, "permit-add") == 0) {
		struct gw_permit_spec spec = {
			.id = option(argc, argv, "--id"),
			.project = option(argc, argv, "--project"),
			.nodes = option(argc, argv, "--node"),
			.types = option(argc, argv, "--types"),
			.country = option(argc, argv, "--country"),
			.icd10 = option(argc, argv, "--icd10"),
			.members = option(argc, argv, "--members"),
			.birth_years = option(argc, argv, "--birth-years"),
			.valid_days = option(argc, argv, "--valid-days"),
			.precision = option(argc, argv, "--precision"),
		};

		rc = gw_permit_add(cfg, &spec);
	} else {
		usage();
	}
	gw_adapters_free_data();
	gw_config_free(cfg);
	return rc == GW_OK ? 0 : 1;
}
