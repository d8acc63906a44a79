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
	CU_ASSERT_EQUAL(c->http.max_request_line, 8192);
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

static void
test_limits_and_base_url(void)
{
	struct gw_config *c = parse(",\"limits\":{\"max_body\":1024,"
	    "\"header_timeout_ms\":500},\"public_base_url\":"
	    "\"https://gw.example/fhir/\",\"workers\":3");

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->http.max_body, 1024);
	CU_ASSERT_EQUAL(c->header_timeout_ms, 500);
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
	{ "malformed settings refused", test_refusals },
	{ "missing key file refused", test_missing_key_file },
	CU_TEST_INFO_NULL,
};
