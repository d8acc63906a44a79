/*
 * migrate.c: `fhirgw migrate` and `fhirgw node-add`.  Both run before or
 * beside the server on a blocking connection; neither is on a request path.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>

#include "gateway/db.h"
#include "gateway/gw.h"
#include "gateway/migrate.h"
#include "gateway/tls.h"

#define MAX_MIGRATIONS 256
#define MIGRATION_MAX_BYTES (8 * 1024 * 1024)
#define MIGRATION_LOCK 7203551 /* advisory lock id: "fhirgw" migrations */

struct migration {
	long version;
	char name[256];
};

static int
by_version(const void *a, const void *b)
{
	const struct migration *x = a, *y = b;

	return (x->version > y->version) - (x->version < y->version);
}

/* NNN_name.sql -> version NNN; GW_ERR for any other file name. */
static int
parse_name(const char *file, long *version)
{
	const char *us = strchr(file, '_');
	size_t n = strlen(file);
	char digits[16];

	if (us == NULL || us == file || (size_t)(us - file) >= sizeof(digits) ||
	    n < 5 || strcmp(file + n - 4, ".sql") != 0)
		return GW_ERR;
	memcpy(digits, file, (size_t)(us - file));
	digits[us - file] = '\0';
	return gw_parse_long(digits, 1, 999999, version);
}

static int
list_migrations(const char *dir, struct migration *out, int *count)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL) {
		gw_error("migrate: cannot open %s", dir);
		return GW_ERR;
	}
	while ((e = readdir(d)) != NULL) {
		long v;

		if (e->d_name[0] == '.' || parse_name(e->d_name, &v) != GW_OK)
			continue;
		if (n == MAX_MIGRATIONS) {
			closedir(d);
			return GW_ERR;
		}
		out[n].version = v;
		gw_strlcpy(out[n].name, e->d_name, sizeof(out[n].name));
		n++;
	}
	closedir(d);
	qsort(out, (size_t)n, sizeof(*out), by_version);
	for (int i = 1; i < n; i++) {
		if (out[i].version == out[i - 1].version) {
			gw_error("migrate: %s and %s share a version",
			    out[i - 1].name, out[i].name);
			return GW_ERR;
		}
	}
	*count = n;
	return GW_OK;
}

static bool
applied(PGconn *conn, long version)
{
	char v[24];
	const char *params[1] = { v };
	PGresult *r;
	bool yes;

	snprintf(v, sizeof(v), "%ld", version);
	r = PQexecParams(conn,
	    "select 1 from public.fhirgw_migration where version = $1", 1,
	    NULL, params, NULL, NULL, 0);
	yes = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
	PQclear(r);
	return yes;
}

static int
apply_one(PGconn *conn, const char *dir, const struct migration *m)
{
	char path[1024], v[24];
	const char *params[2] = { v, m->name };
	char *sql;
	PGresult *r;
	int rc = GW_ERR;

	snprintf(path, sizeof(path), "%s/%s", dir, m->name);
	snprintf(v, sizeof(v), "%ld", m->version);
	if ((sql = gw_read_file(path, MIGRATION_MAX_BYTES, NULL)) == NULL) {
		gw_error("migrate: cannot read %s", path);
		return GW_ERR;
	}
	if (gw_db_exec_blocking(conn, "begin") != GW_OK)
		goto out;
	if (gw_db_exec_blocking(conn, sql) != GW_OK) {
		gw_error("migrate: %s failed; nothing of it was applied",
		    m->name);
		gw_db_exec_blocking(conn, "rollback");
		goto out;
	}
	r = PQexecParams(conn,
	    "insert into public.fhirgw_migration (version, name) values ($1, $2)",
	    2, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		gw_error("migrate: %s", PQresultErrorMessage(r));
		PQclear(r);
		gw_db_exec_blocking(conn, "rollback");
		goto out;
	}
	PQclear(r);
	rc = gw_db_exec_blocking(conn, "commit");
	if (rc == GW_OK)
		gw_info("migrate: applied %s", m->name);
out:
	free(sql);
	return rc;
}

int
gw_migrate(const struct gw_config *cfg)
{
	struct migration *list = gw_calloc(MAX_MIGRATIONS, sizeof(*list));
	PGconn *conn = gw_db_connect_blocking(cfg->db_migrate_conninfo,
	    "fhirgw migrate");
	char lock[96];
	int n = 0, rc = GW_ERR, done = 0;

	if (conn == NULL)
		goto out;
	if (list_migrations(cfg->migrations_dir, list, &n) != GW_OK)
		goto out;
	snprintf(lock, sizeof(lock), "select pg_advisory_lock(%d)",
	    MIGRATION_LOCK);
	if (gw_db_exec_blocking(conn, "set client_min_messages = warning") !=
	    GW_OK || gw_db_exec_blocking(conn, lock) != GW_OK ||
	    gw_db_exec_blocking(conn,
		"create table if not exists public.fhirgw_migration ("
		" version bigint primary key, name text not null,"
		" applied_at timestamptz not null default now())") != GW_OK)
		goto out;
	for (int i = 0; i < n; i++) {
		if (applied(conn, list[i].version))
			continue;
		if (apply_one(conn, cfg->migrations_dir, &list[i]) != GW_OK)
			goto out;
		done++;
	}
	gw_info("migrate: %d applied, %d already present", done, n - done);
	rc = GW_OK;
out:
	if (conn != NULL)
		PQfinish(conn);
	free(list);
	return rc;
}

int
gw_node_add(const struct gw_config *cfg, const char *cert_path,
    const char *name, const char *country, const char *roles,
    const char *rate)
{
	FILE *f = fopen(cert_path, "r");
	X509 *cert = NULL;
	char hash[GW_KEY_HASH_LEN], roles_array[512];
	PGconn *conn = NULL;
	PGresult *r;
	int rc = GW_ERR;

	long n;

	if (rate != NULL && strcmp(rate, "default") != 0 &&
	    gw_parse_long(rate, 0, 1000000, &n) != GW_OK) {
		gw_error("node-add: --rate must be 0..1000000 requests per"
		    " second, or default");
		if (f != NULL)
			fclose(f);
		return GW_ERR;
	}
	if (f == NULL) {
		gw_error("node-add: cannot open %s", cert_path);
		return GW_ERR;
	}
	cert = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (cert == NULL || gw_tls_key_hash(cert, hash) != GW_OK) {
		gw_error("node-add: %s is not a PEM certificate", cert_path);
		goto out;
	}
	snprintf(roles_array, sizeof(roles_array), "{%s}", roles);
	conn = gw_db_connect_blocking(cfg->db_migrate_conninfo,
	    "fhirgw node-add");
	if (conn == NULL)
		goto out;
	{
		/* $5: "" keeps the node's rate, "default" clears it. */
		const char *params[5] = { hash, name, country, roles_array,
			rate != NULL ? rate : "" };

		r = PQexecParams(conn,
		    "insert into gw.node (key_sha256, name, country, roles,"
		    " requests_per_s) values ($1, $2, $3, $4::text[],"
		    " case when $5 in ('', 'default') then null"
		    " else $5::integer end)"
		    " on conflict (key_sha256) do update set name = $2,"
		    " country = $3, roles = $4::text[], active = true,"
		    " requests_per_s = case $5 when '' then"
		    " gw.node.requests_per_s when 'default' then null"
		    " else $5::integer end",
		    5, NULL, params, NULL, NULL, 0);
	}
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		gw_error("node-add: %s", PQresultErrorMessage(r));
	else
		rc = GW_OK;
	PQclear(r);
	if (rc == GW_OK)
		printf("%s\n", hash);
out:
	X509_free(cert);
	if (conn != NULL)
		PQfinish(conn);
	return rc;
}
