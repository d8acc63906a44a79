/*
 * config.c: JSON config file -> struct gw_config.  Every key is checked
 * (unknown keys are errors, so a typo never silently falls back to a
 * default) and every relative path is made absolute against the config
 * file's directory, so the gateway can be started from anywhere.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "adapters/adapter.h"
#include "gateway/config.h"
#include "gateway/gw.h"
#include "gateway/relay.h"

#define ID_KEY_MIN 32
#define ID_KEY_MAX 1024
#define CONFIG_MAX (1024 * 1024)

struct parse {
	const char *dir;
	int errors;
};

static void
problem(struct parse *p, const char *what, const char *why)
{
	gw_error("config: %s: %s", what, why);
	p->errors++;
}

/* Absolute path of value, relative to the config file's directory. */
static char *
resolve_path(struct parse *p, const char *value)
{
	size_t n;
	char *out;

	if (value[0] == '/')
		return gw_strdup(value);
	n = strlen(p->dir) + 1 + strlen(value) + 1;
	out = gw_malloc(n);
	snprintf(out, n, "%s/%s", p->dir, value);
	return out;
}

static const char *
get_string(struct parse *p, const cJSON *obj, const char *key, bool required)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (v == NULL || cJSON_IsNull(v)) {
		if (required)
			problem(p, key, "required");
		return NULL;
	}
	if (!cJSON_IsString(v) || v->valuestring[0] == '\0') {
		problem(p, key, "must be a non-empty string");
		return NULL;
	}
	return v->valuestring;
}

static int
get_int(struct parse *p, const cJSON *obj, const char *key, int def, int min,
    int max)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (v == NULL)
		return def;
	if (!cJSON_IsNumber(v) || v->valuedouble != (double)(int)v->valuedouble ||
	    v->valuedouble < min || v->valuedouble > max) {
		char why[96];

		snprintf(why, sizeof(why), "must be an integer in %d..%d", min,
		    max);
		problem(p, key, why);
		return def;
	}
	return (int)v->valuedouble;
}

/* Refuse keys we do not know: a misspelt limit must not pass silently. */
static void
check_keys(struct parse *p, const cJSON *obj, const char *where,
    const char *const *known)
{
	const cJSON *item;

	cJSON_ArrayForEach(item, obj) {
		bool ok = false;

		for (size_t i = 0; known[i] != NULL; i++)
			if (strcmp(item->string, known[i]) == 0)
				ok = true;
		/* cJSON keeps duplicates and finds the first: refuse them. */
		for (const cJSON *prev = obj->child; prev != item;
		     prev = prev->next)
			if (strcmp(prev->string, item->string) == 0)
				ok = false;
		if (!ok) {
			char what[160];

			snprintf(what, sizeof(what), "%s%s", where,
			    item->string);
			problem(p, what, "unknown key");
		}
	}
}

static int
split_host_port(struct parse *p, const char *key, const char *value,
    char **host, int *port)
{
	const char *colon = strrchr(value, ':');
	long n;

	if (colon == NULL || colon == value ||
	    gw_parse_long(colon + 1, 1, 65535, &n) != GW_OK) {
		problem(p, key, "must be HOST:PORT");
		return GW_ERR;
	}
	*host = gw_strndup(value, (size_t)(colon - value));
	*port = (int)n;
	return GW_OK;
}

static void
parse_limits(struct parse *p, const cJSON *limits, struct gw_config *cfg)
{
	struct gw_limits *lim = &cfg->limits;
	static const char *const known[] = { "max_request_line",
		"max_header_bytes", "max_body", "header_timeout_ms",
		"idle_timeout_ms", "max_connections", "node_requests_per_s",
		"node_burst_s", NULL };

	if (limits != NULL && !cJSON_IsObject(limits)) {
		problem(p, "limits", "must be an object");
		return;
	}
	check_keys(p, limits, "limits.", known);
	lim->http.max_request_line = (size_t)get_int(p, limits,
	    "max_request_line", 8192, 64, 65536);
	lim->http.max_header_bytes = (size_t)get_int(p, limits,
	    "max_header_bytes", 32768, 256, 1048576);
	lim->http.max_body = (size_t)get_int(p, limits, "max_body", 1048576, 0,
	    64 * 1048576);
	lim->header_timeout_ms = get_int(p, limits, "header_timeout_ms", 10000,
	    100, 600000);
	lim->idle_timeout_ms = get_int(p, limits, "idle_timeout_ms", 60000, 100,
	    3600000);
	lim->max_connections = get_int(p, limits, "max_connections", 20000, 1,
	    1000000);
	lim->node_requests_per_s = get_int(p, limits, "node_requests_per_s",
	    1000, 0, 1000000);
	lim->node_burst_s = get_int(p, limits, "node_burst_s", 2, 1, 3600);
}

static void
parse_tls(struct parse *p, const cJSON *tls, struct gw_config *cfg)
{
	static const char *const known[] = { "cert", "key", "client_ca",
		"crl", NULL };
	const char *s;

	if (!cJSON_IsObject(tls)) {
		problem(p, "tls", "required object");
		return;
	}
	check_keys(p, tls, "tls.", known);
	if ((s = get_string(p, tls, "cert", true)) != NULL)
		cfg->tls_cert = resolve_path(p, s);
	if ((s = get_string(p, tls, "key", true)) != NULL)
		cfg->tls_key = resolve_path(p, s);
	if ((s = get_string(p, tls, "client_ca", true)) != NULL)
		cfg->tls_client_ca = resolve_path(p, s);
	if ((s = get_string(p, tls, "crl", false)) != NULL)
		cfg->tls_crl = resolve_path(p, s);
}

static void
parse_database(struct parse *p, const cJSON *db, struct gw_config *cfg)
{
	static const char *const known[] = { "conninfo", "migrate_conninfo",
		"pool_size", "statement_timeout_ms", "replica_conninfo",
		"replica_pool_size", "replica_max_lag_ms", NULL };
	const char *s;

	if (!cJSON_IsObject(db)) {
		problem(p, "database", "required object");
		return;
	}
	check_keys(p, db, "database.", known);
	if ((s = get_string(p, db, "conninfo", true)) != NULL)
		cfg->db_conninfo = gw_strdup(s);
	if ((s = get_string(p, db, "migrate_conninfo", false)) != NULL)
		cfg->db_migrate_conninfo = gw_strdup(s);
	else if (cfg->db_conninfo != NULL)
		cfg->db_migrate_conninfo = gw_strdup(cfg->db_conninfo);
	cfg->db_pool_size = get_int(p, db, "pool_size", 2, 1, 64);
	cfg->db_statement_timeout_ms = get_int(p, db, "statement_timeout_ms",
	    5000, 0, 600000);
	if ((s = get_string(p, db, "replica_conninfo", false)) != NULL)
		cfg->db_replica_conninfo = gw_strdup(s);
	cfg->db_replica_pool_size = get_int(p, db, "replica_pool_size",
	    cfg->db_pool_size, 1, 64);
	cfg->db_replica_max_lag_ms = get_int(p, db, "replica_max_lag_ms",
	    5000, 0, 3600000);
}

static void
load_id_key(struct parse *p, const char *path, struct gw_config *cfg)
{
	size_t len = 0;
	char *key = gw_read_file(path, ID_KEY_MAX, &len);

	if (key == NULL) {
		problem(p, "id_key_file", strerror(errno ? errno : EINVAL));
		return;
	}
	if (len < ID_KEY_MIN) {
		problem(p, "id_key_file", "must hold at least 32 bytes");
		gw_free_zero(key, len + 1);
		return;
	}
	cfg->id_key = (unsigned char *)key;
	cfg->id_key_len = len;
}

static bool
is_country_code(const char *s)
{
	return strlen(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' &&
	    s[1] <= 'Z';
}

/* --- where patient data lives: local_countries and peers ---------------- */

/*
 * "https://HOST[:PORT][/PATH]" into peer->url (without trailing slashes),
 * host, port (443) and base_path ("" or "/fhir").  No user info, query or
 * fragment; HOST is a DNS name, an IPv4 address or a [bracketed] IPv6
 * address.  GW_OK or GW_ERR.
 */
static int
parse_peer_url(const char *url, struct gw_peer *peer)
{
	const char *h, *end, *path;
	size_t n = strlen(url);
	long port = 443;

	while (n > 0 && url[n - 1] == '/')
		n--;
	if (strncmp(url, "https://", 8) != 0 || n <= 8)
		return GW_ERR;
	for (size_t i = 0; i < n; i++)
		if (url[i] <= ' ' || url[i] >= 0x7f || url[i] == '?' ||
		    url[i] == '#' || url[i] == '@' || url[i] == '\\')
			return GW_ERR;
	h = url + 8;
	if (*h == '[') {
		end = memchr(h, ']', (size_t)(url + n - h));
		if (end == NULL || end == h + 1)
			return GW_ERR;
		peer->host = gw_strndup(h + 1, (size_t)(end - h - 1));
		end++;
	} else {
		end = h;
		while (end < url + n && *end != ':' && *end != '/') {
			if (!((*end >= 'a' && *end <= 'z') ||
			    (*end >= 'A' && *end <= 'Z') ||
			    (*end >= '0' && *end <= '9') || *end == '.' ||
			    *end == '-'))
				return GW_ERR;
			end++;
		}
		if (end == h)
			return GW_ERR;
		peer->host = gw_strndup(h, (size_t)(end - h));
	}
	path = end;
	if (*end == ':') {
		char digits[8];
		size_t d;

		path = end + 1;
		while (path < url + n && *path != '/')
			path++;
		d = (size_t)(path - end - 1);
		if (d == 0 || d >= sizeof(digits))
			return GW_ERR;
		memcpy(digits, end + 1, d);
		digits[d] = '\0';
		if (gw_parse_long(digits, 1, 65535, &port) != GW_OK)
			return GW_ERR;
	} else if (end < url + n && *end != '/') {
		return GW_ERR;
	}
	peer->port = (int)port;
	peer->base_path = gw_strndup(path, (size_t)(url + n - path));
	peer->url = gw_strndup(url, n);
	return GW_OK;
}

/* 64 hex digits, kept in lowercase as gw_tls_key_hash writes them. */
static int
parse_pin(const char *s, char out[GW_KEY_HASH_LEN])
{
	if (strlen(s) != GW_KEY_HASH_LEN - 1)
		return GW_ERR;
	for (size_t i = 0; i < GW_KEY_HASH_LEN - 1; i++) {
		char c = s[i];

		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return GW_ERR;
		out[i] = c;
	}
	out[GW_KEY_HASH_LEN - 1] = '\0';
	return GW_OK;
}

static void
parse_peer(struct parse *p, const char *country, const cJSON *obj,
    struct gw_peer *peer)
{
	static const char *const known[] = { "url", "cert", "key", "ca",
		"pin_sha256", "connect_timeout_ms", "response_timeout_ms",
		"max_connections", NULL };
	char where[32];
	const char *s;

	snprintf(where, sizeof(where), "peers.%s.", country);
	gw_strlcpy(peer->country, country, sizeof(peer->country));
	if (!cJSON_IsObject(obj)) {
		problem(p, where, "must be an object");
		return;
	}
	check_keys(p, obj, where, known);
	if ((s = get_string(p, obj, "url", true)) != NULL &&
	    parse_peer_url(s, peer) != GW_OK)
		problem(p, where, "url must be https://HOST[:PORT][/PATH]");
	if ((s = get_string(p, obj, "cert", true)) != NULL)
		peer->cert = resolve_path(p, s);
	if ((s = get_string(p, obj, "key", true)) != NULL)
		peer->key = resolve_path(p, s);
	if ((s = get_string(p, obj, "ca", true)) != NULL)
		peer->ca = resolve_path(p, s);
	if ((s = get_string(p, obj, "pin_sha256", true)) != NULL &&
	    parse_pin(s, peer->pin) != GW_OK)
		problem(p, where, "pin_sha256 must be 64 hex digits (SHA-256 "
		    "of the peer's public key)");
	peer->connect_timeout_ms = get_int(p, obj, "connect_timeout_ms", 2000,
	    10, 60000);
	peer->response_timeout_ms = get_int(p, obj, "response_timeout_ms",
	    10000, 10, 600000);
	peer->max_connections = get_int(p, obj, "max_connections", 8, 1,
	    1024);
}

static void
parse_peers(struct parse *p, const cJSON *peers, struct gw_config *cfg)
{
	const cJSON *item;
	int n;

	if (peers == NULL || cJSON_IsNull(peers))
		return;
	if (!cJSON_IsObject(peers)) {
		problem(p, "peers", "must be an object of COUNTRY: {url, ...}");
		return;
	}
	n = cJSON_GetArraySize(peers);
	if (n > GW_MAX_COUNTRIES) {
		problem(p, "peers", "too many");
		return;
	}
	cfg->peers = gw_calloc((size_t)(n > 0 ? n : 1), sizeof(*cfg->peers));
	cJSON_ArrayForEach(item, peers) {
		char what[32];

		snprintf(what, sizeof(what), "peers.%s", item->string);
		if (!is_country_code(item->string)) {
			problem(p, what, "key must be a country code (two "
			    "capital letters)");
			continue;
		}
		if (gw_config_peer(cfg, item->string) != NULL) {
			problem(p, what, "given twice");
			continue;
		}
		if (cfg->country != NULL &&
		    strcmp(cfg->country, item->string) == 0) {
			problem(p, what, "this gateway's own country is never "
			    "relayed");
			continue;
		}
		parse_peer(p, item->string, item, &cfg->peers[cfg->npeers++]);
	}
}

/* local_countries, or by default every compiled adapter without a peer. */
static void
parse_local(struct parse *p, const cJSON *local, struct gw_config *cfg)
{
	const cJSON *item;

	if (local == NULL || cJSON_IsNull(local)) {
		for (size_t i = 0; gw_adapters[i] != NULL &&
		     cfg->nlocal_countries < GW_MAX_COUNTRIES; i++)
			if (gw_config_peer(cfg, gw_adapters[i]->country) == NULL)
				gw_strlcpy(cfg->local_countries[
				    cfg->nlocal_countries++],
				    gw_adapters[i]->country, 3);
		return;
	}
	if (!cJSON_IsArray(local)) {
		problem(p, "local_countries", "must be an array of country "
		    "codes");
		return;
	}
	cJSON_ArrayForEach(item, local) {
		const char *cc = cJSON_IsString(item) ? item->valuestring : "";
		char what[48];

		snprintf(what, sizeof(what), "local_countries: %.8s", cc);
		if (!is_country_code(cc)) {
			problem(p, what, "not a country code (two capital "
			    "letters)");
		} else if (gw_adapter_by_country(cc) == NULL) {
			problem(p, what, "no adapter for it in this build");
		} else if (gw_config_is_local(cfg, cc)) {
			problem(p, what, "given twice");
		} else if (gw_config_peer(cfg, cc) != NULL) {
			problem(p, what, "also in peers: a country is either "
			    "local or relayed");
		} else if (cfg->nlocal_countries == GW_MAX_COUNTRIES) {
			problem(p, what, "too many");
		} else {
			gw_strlcpy(cfg->local_countries[
			    cfg->nlocal_countries++], cc, 3);
		}
	}
}

/* export: {dir, file_ttl_s, runner, batch_patients} (docs/export.md). */
static void
parse_export(struct parse *p, const cJSON *ex, struct gw_config *cfg)
{
	static const char *const known[] = { "dir", "file_ttl_s", "runner",
		"batch_patients", NULL };
	const cJSON *runner;
	const char *s;

	if (ex != NULL && !cJSON_IsObject(ex)) {
		problem(p, "export", "must be an object");
		return;
	}
	check_keys(p, ex, "export.", known);
	s = ex != NULL ? get_string(p, ex, "dir", false) : NULL;
	cfg->export_dir = resolve_path(p, s != NULL ? s : "export");
	cfg->export_file_ttl_s = get_int(p, ex, "file_ttl_s", 3600, 1,
	    7 * 24 * 3600);
	cfg->export_batch_patients = get_int(p, ex, "batch_patients", 500, 1,
	    100000);
	cfg->export_runner = true;
	runner = ex != NULL ? cJSON_GetObjectItemCaseSensitive(ex, "runner") :
	    NULL;
	if (runner != NULL) {
		if (!cJSON_IsBool(runner))
			problem(p, "export.runner", "must be true or false");
		else
			cfg->export_runner = cJSON_IsTrue(runner);
	}
}

bool
gw_config_is_local(const struct gw_config *cfg, const char *country)
{
	for (int i = 0; i < cfg->nlocal_countries; i++)
		if (strcmp(cfg->local_countries[i], country) == 0)
			return true;
	return false;
}

const struct gw_peer *
gw_config_peer(const struct gw_config *cfg, const char *country)
{
	for (int i = 0; i < cfg->npeers; i++)
		if (strcmp(cfg->peers[i].country, country) == 0)
			return &cfg->peers[i];
	return NULL;
}

struct gw_config *
gw_config_parse(const char *json, const char *dir)
{
	static const char *const known[] = { "country", "listen",
		"admin_listen", "workers", "public_base_url", "database", "tls",
		"id_key_file", "migrations_dir", "profiles_dir", "limits",
		"local_countries", "peers", "export", NULL };
	struct parse p = { .dir = dir };
	struct gw_config *cfg = gw_calloc(1, sizeof(*cfg));
	cJSON *root = cJSON_Parse(json);
	const char *s;
	long ncpu;

	if (!cJSON_IsObject(root)) {
		problem(&p, "file", "not a JSON object");
		goto done;
	}
	check_keys(&p, root, "", known);
	if ((s = get_string(&p, root, "country", true)) != NULL) {
		if (is_country_code(s))
			cfg->country = gw_strdup(s);
		else
			problem(&p, "country", "must be two capital letters");
	}
	if ((s = get_string(&p, root, "listen", true)) != NULL)
		split_host_port(&p, "listen", s, &cfg->listen_host,
		    &cfg->listen_port);
	s = get_string(&p, root, "admin_listen", false);
	split_host_port(&p, "admin_listen", s ? s : "127.0.0.1:8080",
	    &cfg->admin_host, &cfg->admin_port);
	cfg->workers = get_int(&p, root, "workers", 0, 0, 256);
	if (cfg->workers == 0) {
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		cfg->workers = ncpu > 0 ? (int)ncpu : 1;
	}
	if ((s = get_string(&p, root, "public_base_url", false)) != NULL) {
		size_t n = strlen(s);

		while (n > 0 && s[n - 1] == '/')
			n--;
		cfg->public_base_url = gw_strndup(s, n);
	} else if (cfg->listen_host != NULL) {
		char buf[300];

		snprintf(buf, sizeof(buf), "https://%s:%d/fhir",
		    strcmp(cfg->listen_host, "127.0.0.1") == 0 ?
			"localhost" : cfg->listen_host, cfg->listen_port);
		cfg->public_base_url = gw_strdup(buf);
	}
	parse_database(&p, cJSON_GetObjectItemCaseSensitive(root, "database"),
	    cfg);
	parse_tls(&p, cJSON_GetObjectItemCaseSensitive(root, "tls"), cfg);
	if ((s = get_string(&p, root, "id_key_file", true)) != NULL) {
		char *path = resolve_path(&p, s);

		load_id_key(&p, path, cfg);
		free(path);
	}
	if ((s = get_string(&p, root, "migrations_dir", false)) != NULL)
		cfg->migrations_dir = resolve_path(&p, s);
	else
		cfg->migrations_dir = gw_strdup(GW_SOURCE_DIR
		    "/deploy/migrations");
	if ((s = get_string(&p, root, "profiles_dir", false)) != NULL)
		cfg->profiles_dir = resolve_path(&p, s);
	else
		cfg->profiles_dir = gw_strdup(GW_SOURCE_DIR "/profiles");
	parse_limits(&p, cJSON_GetObjectItemCaseSensitive(root, "limits"),
	    cfg);
	parse_peers(&p, cJSON_GetObjectItemCaseSensitive(root, "peers"), cfg);
	parse_local(&p, cJSON_GetObjectItemCaseSensitive(root,
	    "local_countries"), cfg);
	parse_export(&p, cJSON_GetObjectItemCaseSensitive(root, "export"),
	    cfg);
done:
	cJSON_Delete(root);
	if (p.errors > 0) {
		gw_config_free(cfg);
		return NULL;
	}
	return cfg;
}

struct gw_config *
gw_config_load(const char *path)
{
	char *json = gw_read_file(path, CONFIG_MAX, NULL);
	char *dir, *slash;
	struct gw_config *cfg;
	char cwd[PATH_MAX];

	if (json == NULL) {
		gw_error("config: %s: %s", path, strerror(errno ? errno : EFBIG));
		return NULL;
	}
	slash = strrchr(path, '/');
	if (slash != NULL)
		dir = gw_strndup(path, (size_t)(slash - path));
	else
		dir = gw_strdup(getcwd(cwd, sizeof(cwd)) ? cwd : ".");
	if (dir[0] != '/' && getcwd(cwd, sizeof(cwd)) != NULL) {
		size_t n = strlen(cwd) + 1 + strlen(dir) + 1;
		char *abs = gw_malloc(n);

		snprintf(abs, n, "%s/%s", cwd, dir);
		free(dir);
		dir = abs;
	}
	cfg = gw_config_parse(json, dir);
	free(dir);
	free(json);
	return cfg;
}

void
gw_config_free(struct gw_config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->country);
	free(cfg->listen_host);
	free(cfg->admin_host);
	free(cfg->public_base_url);
	if (cfg->db_conninfo != NULL)
		gw_free_zero(cfg->db_conninfo, strlen(cfg->db_conninfo));
	if (cfg->db_migrate_conninfo != NULL)
		gw_free_zero(cfg->db_migrate_conninfo,
		    strlen(cfg->db_migrate_conninfo));
	if (cfg->db_replica_conninfo != NULL)
		gw_free_zero(cfg->db_replica_conninfo,
		    strlen(cfg->db_replica_conninfo));
	free(cfg->tls_cert);
	free(cfg->tls_key);
	free(cfg->tls_client_ca);
	free(cfg->tls_crl);
	if (cfg->id_key != NULL)
		gw_free_zero(cfg->id_key, cfg->id_key_len + 1);
	free(cfg->migrations_dir);
	free(cfg->profiles_dir);
	free(cfg->export_dir);
	for (int i = 0; i < cfg->npeers; i++) {
		free(cfg->peers[i].url);
		free(cfg->peers[i].host);
		free(cfg->peers[i].base_path);
		free(cfg->peers[i].cert);
		free(cfg->peers[i].key);
		free(cfg->peers[i].ca);
	}
	free(cfg->peers);
	free(cfg);
}
