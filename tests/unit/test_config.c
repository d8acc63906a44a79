/*
 * test_config.c: config validation: defaults, relative paths, and that
 * every malformed or unknown setting is refused rather than defaulted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "gateway/config.h"
#include "gateway/relay.h"

static char dir[64];

static const char *
make_dir(void)
{
	FILE *f;
	char path[128];

	if (dir[0] == '\0') {
		snprintf(dir, sizeof(dir), "/tmp/fhirgw-config-XXXXXX");
		if (mkdtemp(dir) == NULL)
			return NULL;
		snprintf(path, sizeof(path), "%s/id.key", dir);
		f = fopen(path, "w");
		fputs("0123456789abcdef0123456789abcdef", f);
		fclose(f);
		snprintf(path, sizeof(path), "%s/short.key", dir);
		f = fopen(path, "w");
		fputs("too short", f);
		fclose(f);
	}
	return dir;
}

/* The suite's cleanup (unit_main.c): the directory make_dir() made, and
 * its two keys. */
int test_config_cleanup(void);

int
test_config_cleanup(void)
{
	char path[128];

	if (dir[0] == '\0')
		return 0;
	snprintf(path, sizeof(path), "%s/id.key", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/short.key", dir);
	unlink(path);
	rmdir(dir);
	dir[0] = '\0';
	return 0;
}

#define BASE                                                               \
	"\"country\":\"FI\",\"listen\":\"127.0.0.1:8443\","                \
	"\"database\":{\"conninfo\":\"dbname=x\"},"                        \
	"\"tls\":{\"cert\":\"s.crt\",\"key\":\"s.key\","                   \
	"\"client_ca\":\"/etc/ca.crt\"},\"id_key_file\":\"id.key\""

static struct gw_config *
parse(const char *extra)
{
	char json[2048];

	snprintf(json, sizeof(json), "{" BASE "%s}", extra);
	return gw_config_parse(json, make_dir());
}

static void
test_minimal_defaults(void)
{
	struct gw_config *c = parse("");
	char expect[128];

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_STRING_EQUAL(c->country, "FI");
	CU_ASSERT_EQUAL(c->listen_port, 8443);
	CU_ASSERT_STRING_EQUAL(c->admin_host, "127.0.0.1");
	CU_ASSERT_EQUAL(c->admin_port, 8080);
	CU_ASSERT_TRUE(c->workers >= 1);
	CU_ASSERT_EQUAL(c->db_pool_size, 2);
	CU_ASSERT_EQUAL(c->db_statement_timeout_ms, 5000);
	CU_ASSERT_EQUAL(c->limits.http.max_request_line, 8192);
	CU_ASSERT_STRING_EQUAL(c->public_base_url,
	    "https://localhost:8443/fhir");
	snprintf(expect, sizeof(expect), "%s/s.crt", dir);
	CU_ASSERT_STRING_EQUAL(c->tls_cert, expect);
	CU_ASSERT_STRING_EQUAL(c->tls_client_ca, "/etc/ca.crt");
	CU_ASSERT_PTR_NULL(c->tls_crl);
	CU_ASSERT_EQUAL(c->id_key_len, 32);
	/* Without migrate_conninfo the tools use the runtime conninfo. */
	CU_ASSERT_STRING_EQUAL(c->db_migrate_conninfo, "dbname=x");
	gw_config_free(c);
}

/* The owner's conninfo for migrate, seed, node-add and audit-verify. */
static void
test_migrate_conninfo(void)
{
	static const char *const bad[] = { "\"\"", "5", "[\"x\"]" };
	char json[1024];
	struct gw_config *c;

	snprintf(json, sizeof(json), "{\"country\":\"FI\",\"listen\":"
	    "\"127.0.0.1:8443\",\"database\":{\"conninfo\":\"user=app\","
	    "\"migrate_conninfo\":\"user=owner\"},\"tls\":{\"cert\":\"s\","
	    "\"key\":\"k\",\"client_ca\":\"c\"},\"id_key_file\":\"id.key\"}");
	c = gw_config_parse(json, make_dir());
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_STRING_EQUAL(c->db_conninfo, "user=app");
	CU_ASSERT_STRING_EQUAL(c->db_migrate_conninfo, "user=owner");
	gw_config_free(c);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(json, sizeof(json), "{\"country\":\"FI\",\"listen\":"
		    "\"127.0.0.1:8443\",\"database\":{\"conninfo\":\"u\","
		    "\"migrate_conninfo\":%s},\"tls\":{\"cert\":\"s\","
		    "\"key\":\"k\",\"client_ca\":\"c\"},"
		    "\"id_key_file\":\"id.key\"}", bad[i]);
		c = gw_config_parse(json, make_dir());
		CU_ASSERT_PTR_NULL(c);
		gw_config_free(c);
	}
}

/* database.statement_timeout_ms: 0 (PostgreSQL's own) up to ten minutes. */
static void
test_statement_timeout(void)
{
	static const struct {
		const char *value;
		int want; /* -1: refused */
	} cases[] = {
		{ "250", 250 }, { "0", 0 }, { "600000", 600000 },
		{ "-1", -1 }, { "600001", -1 }, { "\"5000\"", -1 }, { "1.5", -1 },
	};
	char json[1024];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct gw_config *c;

		snprintf(json, sizeof(json), "{\"country\":\"FI\",\"listen\":"
		    "\"127.0.0.1:8443\",\"database\":{\"conninfo\":\"u\","
		    "\"statement_timeout_ms\":%s},\"tls\":{\"cert\":\"s\","
		    "\"key\":\"k\",\"client_ca\":\"c\"},"
		    "\"id_key_file\":\"id.key\"}", cases[i].value);
		c = gw_config_parse(json, make_dir());
		if (cases[i].want < 0) {
			CU_ASSERT_PTR_NULL(c);
		} else {
			CU_ASSERT_PTR_NOT_NULL_FATAL(c);
			CU_ASSERT_EQUAL(c->db_statement_timeout_ms, cases[i].want);
		}
		gw_config_free(c);
	}
}

/* database.replica_conninfo: none by default; its pool as large as the
 * primary's unless replica_pool_size says. */
static void
test_replica_conninfo(void)
{
	static const char *const bad[] = {
		"\"replica_conninfo\":\"\"", "\"replica_conninfo\":5",
		"\"replica_conninfo\":\"r\",\"replica_pool_size\":0",
		"\"replica_conninfo\":\"r\",\"replica_pool_size\":65",
		"\"replica_conninfo\":\"r\",\"replica_max_lag_ms\":-1",
		"\"replica_conninfo\":\"r\",\"replica_max_lag_ms\":3600001",
	};
	char json[1024];
	struct gw_config *c = parse("");

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_PTR_NULL(c->db_replica_conninfo);
	gw_config_free(c);
	snprintf(json, sizeof(json), "{\"country\":\"FI\",\"listen\":"
	    "\"127.0.0.1:8443\",\"database\":{\"conninfo\":\"u\","
	    "\"pool_size\":5,\"replica_conninfo\":\"host=standby\"},"
	    "\"tls\":{\"cert\":\"s\",\"key\":\"k\",\"client_ca\":\"c\"},"
	    "\"id_key_file\":\"id.key\"}");
	c = gw_config_parse(json, make_dir());
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_STRING_EQUAL(c->db_replica_conninfo, "host=standby");
	CU_ASSERT_EQUAL(c->db_replica_pool_size, 5);
	CU_ASSERT_EQUAL(c->db_replica_max_lag_ms, 5000);
	gw_config_free(c);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(json, sizeof(json), "{\"country\":\"FI\",\"listen\":"
		    "\"127.0.0.1:8443\",\"database\":{\"conninfo\":\"u\",%s},"
		    "\"tls\":{\"cert\":\"s\",\"key\":\"k\",\"client_ca\":"
		    "\"c\"},\"id_key_file\":\"id.key\"}", bad[i]);
		c = gw_config_parse(json, make_dir());
		CU_ASSERT_PTR_NULL(c);
		gw_config_free(c);
	}
}

static void
test_limits_and_base_url(void)
{
	struct gw_config *c = parse(",\"limits\":{\"max_body\":1024,"
	    "\"header_timeout_ms\":500},\"public_base_url\":"
	    "\"https://gw.example/fhir/\",\"workers\":3");

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->limits.http.max_body, 1024);
	CU_ASSERT_EQUAL(c->limits.header_timeout_ms, 500);
	CU_ASSERT_EQUAL(c->workers, 3);
	CU_ASSERT_STRING_EQUAL(c->public_base_url, "https://gw.example/fhir");
	gw_config_free(c);
}

static void
test_refusals(void)
{
	static const char *const bad[] = {
		",\"lissten\":\"x\"",			/* unknown key */
		",\"limits\":{\"max_bdy\":5}",		/* unknown limit */
		",\"limits\":{\"max_body\":-1}",	/* out of range */
		",\"limits\":{\"max_body\":1.5}",	/* not an integer */
		",\"workers\":\"2\"",			/* wrong type */
		",\"admin_listen\":\"8080\"",		/* no host */
		",\"admin_listen\":\"h:99999\"",	/* bad port */
		",\"id_key_file\":\"short.key\"",	/* duplicate key, short */
	};
	char json[1024];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct gw_config *c = parse(bad[i]);

		CU_ASSERT_PTR_NULL(c);
		gw_config_free(c);
	}
	CU_ASSERT_PTR_NULL(gw_config_parse("[]", make_dir()));
	CU_ASSERT_PTR_NULL(gw_config_parse("{", make_dir()));
	snprintf(json, sizeof(json), "{\"country\":\"fi\"}");
	CU_ASSERT_PTR_NULL(gw_config_parse(json, make_dir()));
}

/* --- relay: local_countries and peers (docs/relay.md) ------------------- */

#define PIN "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"
#define PEER(cc, url, more)                                                \
	"\"" cc "\":{\"url\":\"" url "\",\"cert\":\"c.crt\","           \
	"\"key\":\"c.key\",\"ca\":\"/etc/peer-ca.crt\","                \
	"\"pin_sha256\":\"" PIN "\"" more "}"

static void
test_local_by_default(void)
{
	struct gw_config *c = parse("");

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	/* Every compiled adapter, no peer. */
	CU_ASSERT_EQUAL(c->nlocal_countries, 3);
	CU_ASSERT_TRUE(gw_config_is_local(c, "FI"));
	CU_ASSERT_TRUE(gw_config_is_local(c, "NO"));
	CU_ASSERT_TRUE(gw_config_is_local(c, "SE"));
	CU_ASSERT_FALSE(gw_config_is_local(c, "DK"));
	CU_ASSERT_EQUAL(c->npeers, 0);
	CU_ASSERT_PTR_NULL(gw_config_peer(c, "NO"));
	gw_config_free(c);
}

static void
test_peers(void)
{
	struct gw_config *c = parse(",\"peers\":{"
	    PEER("NO", "https://no.example:9444/fhir/", "")
	    "," PEER("SE", "https://[::1]/base",
		",\"connect_timeout_ms\":500,\"response_timeout_ms\":700,"
		"\"max_connections\":2") "}");
	const struct gw_peer *no, *se;
	char path[128];

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	/* A peered country is relayed, the other adapters stay local. */
	CU_ASSERT_EQUAL(c->nlocal_countries, 1);
	CU_ASSERT_TRUE(gw_config_is_local(c, "FI"));
	CU_ASSERT_FALSE(gw_config_is_local(c, "NO"));
	no = gw_config_peer(c, "NO");
	se = gw_config_peer(c, "SE");
	CU_ASSERT_PTR_NOT_NULL_FATAL(no);
	CU_ASSERT_PTR_NOT_NULL_FATAL(se);
	CU_ASSERT_STRING_EQUAL(no->url, "https://no.example:9444/fhir");
	CU_ASSERT_STRING_EQUAL(no->host, "no.example");
	CU_ASSERT_EQUAL(no->port, 9444);
	CU_ASSERT_STRING_EQUAL(no->base_path, "/fhir");
	snprintf(path, sizeof(path), "%s/c.crt", make_dir());
	CU_ASSERT_STRING_EQUAL(no->cert, path);
	CU_ASSERT_STRING_EQUAL(no->ca, "/etc/peer-ca.crt");
	/* Kept in lower case, as key hashes are computed. */
	CU_ASSERT_STRING_EQUAL(no->pin, "0123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdef");
	CU_ASSERT_EQUAL(no->connect_timeout_ms, 2000);
	CU_ASSERT_EQUAL(no->response_timeout_ms, 10000);
	CU_ASSERT_EQUAL(no->max_connections, 8);
	CU_ASSERT_STRING_EQUAL(se->host, "::1");
	CU_ASSERT_EQUAL(se->port, 443);
	CU_ASSERT_STRING_EQUAL(se->base_path, "/base");
	CU_ASSERT_EQUAL(se->connect_timeout_ms, 500);
	CU_ASSERT_EQUAL(se->response_timeout_ms, 700);
	CU_ASSERT_EQUAL(se->max_connections, 2);
	gw_config_free(c);

	/* A national deployment: one local, others peered, the rest 404. */
	c = parse(",\"local_countries\":[\"FI\"],\"peers\":{"
	    PEER("SE", "https://se.example", "") "}");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->nlocal_countries, 1);
	CU_ASSERT_FALSE(gw_config_is_local(c, "NO"));
	CU_ASSERT_PTR_NULL(gw_config_peer(c, "NO"));
	CU_ASSERT_STRING_EQUAL(gw_config_peer(c, "SE")->base_path, "");
	gw_config_free(c);
}

static void
test_peer_refusals(void)
{
	static const char *const bad[] = {
		/* pin: not 64 hex digits */
		",\"peers\":{\"NO\":{\"url\":\"https://h\",\"cert\":\"c\","
		"\"key\":\"k\",\"ca\":\"a\",\"pin_sha256\":\"abc\"}}",
		",\"peers\":{\"NO\":{\"url\":\"https://h\",\"cert\":\"c\","
		"\"key\":\"k\",\"ca\":\"a\",\"pin_sha256\":\""
		"g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
		"\"}}",
		/* a key missing, an unknown key */
		",\"peers\":{\"NO\":{\"url\":\"https://h\",\"cert\":\"c\","
		"\"key\":\"k\",\"pin_sha256\":\"" PIN "\"}}",
		",\"peers\":{" PEER("NO", "https://h", ",\"pin\":\"x\"") "}",
		/* urls: not https, user info, query, bad port, no host */
		",\"peers\":{" PEER("NO", "http://h/fhir", "") "}",
		",\"peers\":{" PEER("NO", "https://u@h/fhir", "") "}",
		",\"peers\":{" PEER("NO", "https://h/fhir?x=1", "") "}",
		",\"peers\":{" PEER("NO", "https://h:0/fhir", "") "}",
		",\"peers\":{" PEER("NO", "https://h:99999", "") "}",
		",\"peers\":{" PEER("NO", "https:///fhir", "") "}",
		",\"peers\":{" PEER("NO", "https://h x/fhir", "") "}",
		/* limits */
		",\"peers\":{" PEER("NO", "https://h", ",\"max_connections\":0")
		"}",
		",\"peers\":{" PEER("NO", "https://h",
		    ",\"response_timeout_ms\":\"10\"") "}",
		/* countries: not a code, twice, our own, local and peered */
		",\"peers\":{" PEER("no", "https://h", "") "}",
		",\"peers\":{" PEER("NO", "https://h", "") ","
		    PEER("NO", "https://i", "") "}",
		",\"peers\":{" PEER("FI", "https://h", "") "}",
		",\"local_countries\":[\"FI\",\"NO\"],\"peers\":{"
		    PEER("NO", "https://h", "") "}",
		/* local_countries: no adapter, not a code, twice, not a list */
		",\"local_countries\":[\"DK\"]",
		",\"local_countries\":[\"fi\"]",
		",\"local_countries\":[\"FI\",\"FI\"]",
		",\"local_countries\":\"FI\"",
		",\"peers\":[]",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct gw_config *c = parse(bad[i]);

		if (c != NULL)
			fprintf(stderr, "accepted: %s\n", bad[i]);
		CU_ASSERT_PTR_NULL(c);
		gw_config_free(c);
	}
}

static void
test_missing_key_file(void)
{
	char json[1024];

	snprintf(json, sizeof(json), "{" BASE "}");
	json[strlen(json) - 3] = 'x'; /* "id.key" -> "id.kex" */
	CU_ASSERT_PTR_NULL(gw_config_parse(json, make_dir()));
}

CU_TestInfo test_config_cases[] = {
	{ "minimal config and defaults", test_minimal_defaults },
	{ "limits and base url", test_limits_and_base_url },
	{ "migrate conninfo", test_migrate_conninfo },
	{ "statement timeout", test_statement_timeout },
	{ "replica conninfo", test_replica_conninfo },
	{ "malformed settings refused", test_refusals },
	{ "missing key file refused", test_missing_key_file },
	{ "every adapter local by default", test_local_by_default },
	{ "peers and local countries", test_peers },
	{ "malformed peers refused", test_peer_refusals },
	CU_TEST_INFO_NULL,
};
