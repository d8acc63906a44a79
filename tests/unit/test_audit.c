/*
 * test_audit.c: the audit record's canonical text (the bytes the chain
 * hashes, so they must never drift), the chain hash itself, the FHIR date
 * ranges of GET AuditEvent, and the AuditEvent rendered from a record.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "gateway/audit.h"
#include "gateway/search_param.h"

static const char *const some_types[] = { "Bundle", "Condition" };
static const char *const some_ids[] = { "Bundle/b1", "Condition/fi-c1" };

static struct gw_audit_record
sample(void)
{
	struct gw_audit_record r = {
		.time = "2025-01-31T10:20:30.123456Z",
		.node_key = "ab12",
		.node_name = "fi",
		.node_country = "FI",
		.practitioner = "urn:oid:1.2.246.537.26|123",
		.organization = "urn:oid:1.2.246.10|org",
		.purpose = "TREAT",
		.patient_system = "urn:oid:1.2.246.21",
		.patient_id = "010190-123A",
		.patient_logical = "fi-abc",
		.request = "GET /fhir/Patient/fi-abc/$summary",
		.operation = "$summary",
		.types = some_types,
		.ntypes = 2,
		.ids = some_ids,
		.nids = 2,
		.count = 7,
		.decision = "permit",
		.rule = "consent_default/FI/TREAT",
		.break_glass = false,
		.emergency_reason = NULL,
		.request_id = "req-1",
		.traceparent = "00-aa-bb-01",
		.status = 200,
	};

	return r;
}

/* Golden: key order, no whitespace, NULL as "", numbers and booleans bare.
 * Changing this string breaks every existing chain. */
static void
test_canonical_golden(void)
{
	struct gw_audit_record r = sample();
	size_t len = 0;
	char *c = gw_audit_canonical(&r, &len);
	const char *want =
	    "{\"v\":1,\"time\":\"2025-01-31T10:20:30.123456Z\","
	    "\"node\":{\"key\":\"ab12\",\"name\":\"fi\",\"country\":\"FI\"},"
	    "\"practitioner\":\"urn:oid:1.2.246.537.26|123\","
	    "\"organization\":\"urn:oid:1.2.246.10|org\","
	    "\"purpose\":\"TREAT\","
	    "\"patient\":{\"system\":\"urn:oid:1.2.246.21\","
	    "\"id\":\"010190-123A\",\"logical\":\"fi-abc\"},"
	    "\"request\":\"GET /fhir/Patient/fi-abc/$summary\","
	    "\"operation\":\"$summary\","
	    "\"returned\":{\"types\":[\"Bundle\",\"Condition\"],"
	    "\"ids\":[\"Bundle/b1\",\"Condition/fi-c1\"],\"count\":7},"
	    "\"decision\":\"permit\",\"rule\":\"consent_default/FI/TREAT\","
	    "\"break_glass\":false,\"emergency_reason\":\"\","
	    "\"request_id\":\"req-1\",\"traceparent\":\"00-aa-bb-01\","
	    "\"status\":200}";

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_STRING_EQUAL(c, want);
	CU_ASSERT_EQUAL(len, strlen(want));
	free(c);
}

static void
test_canonical_deterministic(void)
{
	struct gw_audit_record r = sample();
	size_t l1, l2;
	char *a = gw_audit_canonical(&r, &l1);
	char *b = gw_audit_canonical(&r, &l2);

	CU_ASSERT_EQUAL(l1, l2);
	CU_ASSERT_EQUAL(memcmp(a, b, l1), 0);
	free(a);
	free(b);
}

static void
test_canonical_empty_record(void)
{
	struct gw_audit_record r = { .status = 499 };
	size_t len;
	char *c = gw_audit_canonical(&r, &len);

	CU_ASSERT_PTR_NOT_NULL(strstr(c, "\"returned\":{\"types\":[],"
	    "\"ids\":[],\"count\":0}"));
	CU_ASSERT_PTR_NOT_NULL(strstr(c, "\"time\":\"\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(c, "\"status\":499}"));
	free(c);
}

/* The escaped value of one string, as the record carries it. */
static char *
escaped(const char *value)
{
	struct gw_audit_record r = { .practitioner = value };
	size_t len;
	char *c = gw_audit_canonical(&r, &len);
	const char *start = strstr(c, "\"practitioner\":") + 15;
	const char *end = strstr(start, ",\"organization\":");
	char *out = calloc(1, (size_t)(end - start) + 1);

	memcpy(out, start, (size_t)(end - start));
	free(c);
	return out;
}

#define ASSERT_ESCAPED(in, want)                                           \
	do {                                                               \
		char *e_ = escaped(in);                                    \
		CU_ASSERT_STRING_EQUAL(e_, want);                          \
		free(e_);                                                  \
	} while (0)

static void
test_escape_json_specials(void)
{
	ASSERT_ESCAPED("a\"b\\c", "\"a\\\"b\\\\c\"");
	ASSERT_ESCAPED("line\nbreak\ttab\r", "\"line\\u000abreak\\u0009tab"
	    "\\u000d\"");
	ASSERT_ESCAPED("\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"");
	ASSERT_ESCAPED("", "\"\"");
	ASSERT_ESCAPED("plain|text/ok-1.2", "\"plain|text/ok-1.2\"");
}

static void
test_escape_non_ascii(void)
{
	/* ä (2 bytes), € (3 bytes), U+1F600 (4 bytes: surrogate pair). */
	ASSERT_ESCAPED("M\xc3\xa4kinen", "\"M\\u00e4kinen\"");
	ASSERT_ESCAPED("\xe2\x82\xac", "\"\\u20ac\"");
	ASSERT_ESCAPED("\xf0\x9f\x98\x80", "\"\\ud83d\\ude00\"");
}

static void
test_escape_invalid_utf8(void)
{
	/* A lone continuation byte, a truncated sequence, an overlong '/',
	 * an encoded surrogate and a byte never valid: each byte that
	 * starts no character becomes U+FFFD, and the text stays ASCII. */
	ASSERT_ESCAPED("a\x80z", "\"a\\ufffdz\"");
	ASSERT_ESCAPED("\xc3", "\"\\ufffd\"");
	ASSERT_ESCAPED("\xc0\xaf", "\"\\ufffd\\ufffd\"");
	ASSERT_ESCAPED("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");
	ASSERT_ESCAPED("\xff", "\"\\ufffd\"");
}

static void
test_canonical_is_printable_ascii(void)
{
	struct gw_audit_record r = sample();
	size_t len;
	char *c;

	r.emergency_reason = "tajuton \xc3\xa4\n\x01\xff";
	c = gw_audit_canonical(&r, &len);
	for (size_t i = 0; i < len; i++)
		CU_ASSERT(c[i] >= 0x20 && c[i] < 0x7f);
	free(c);
}

static void
test_long_field_cut(void)
{
	char *big = malloc(GW_AUDIT_FIELD_MAX * 3);
	char *e;

	memset(big, 'x', GW_AUDIT_FIELD_MAX * 3 - 1);
	big[GW_AUDIT_FIELD_MAX * 3 - 1] = '\0';
	e = escaped(big);
	CU_ASSERT_EQUAL(strlen(e), GW_AUDIT_FIELD_MAX + 2);
	free(e);
	free(big);
}

static void
hex(const unsigned char *b, char *out)
{
	for (int i = 0; i < GW_AUDIT_HASH_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* Vectors computed independently (Python hashlib). */
static void
test_chain_hash_vectors(void)
{
	unsigned char prev[GW_AUDIT_HASH_LEN] = { 0 }, out[GW_AUDIT_HASH_LEN];
	char h[65];

	gw_audit_chain_hash(prev, "abc", 3, out);
	hex(out, h);
	CU_ASSERT_STRING_EQUAL(h, "365aa7d8f7f9402c4b9434502b4cc89d"
	    "db09fe50d7cd95b493b834c62d5a5370");
	for (int i = 0; i < GW_AUDIT_HASH_LEN; i++)
		prev[i] = (unsigned char)i;
	gw_audit_chain_hash(prev, "{\"v\":1}", 7, out);
	hex(out, h);
	CU_ASSERT_STRING_EQUAL(h, "daf7b5d502870f6c207698c60fe5f043"
	    "0df5ab92a3dd13c5702db4f0b4812946");
}

#define JAN31 1738281600000000LL /* 2025-01-31T00:00:00Z, µs */
#define DAY 86400000000LL

static void
test_date_day(void)
{
	long long lo, hi;

	CU_ASSERT_EQUAL(gw_search_date_range("2025-01-31", &lo, &hi), 0);
	CU_ASSERT_EQUAL(lo, JAN31);
	CU_ASSERT_EQUAL(hi, JAN31 + DAY);
	CU_ASSERT_EQUAL(gw_search_date_range("ge2025-01-31", &lo, &hi), 0);
	CU_ASSERT_EQUAL(lo, JAN31);
	CU_ASSERT_EQUAL(hi, LLONG_MAX);
	CU_ASSERT_EQUAL(gw_search_date_range("le2025-01-31", &lo, &hi), 0);
	CU_ASSERT_EQUAL(lo, LLONG_MIN);
	CU_ASSERT_EQUAL(hi, JAN31 + DAY);
	CU_ASSERT_EQUAL(gw_search_date_range("gt2025-01-31", &lo, &hi), 0);
	CU_ASSERT_EQUAL(lo, JAN31 + DAY);
	CU_ASSERT_EQUAL(gw_search_date_range("lt2025-01-31", &lo, &hi), 0);
	CU_ASSERT_EQUAL(hi, JAN31);
}

static void
test_date_year_month(void)
{
	long long lo, hi;

	CU_ASSERT_EQUAL(gw_search_date_range("2025", &lo, &hi), 0);
	CU_ASSERT_EQUAL(lo, 1735689600000000LL);
	CU_ASSERT_EQUAL(hi, 1767225600000000LL);
	CU_ASSERT_EQUAL(gw_search_date_range("eq2024-02", &lo, &hi), 0);
	CU_ASSERT_EQUAL(lo, 1709164800000000LL - 28 * DAY);
	CU_ASSERT_EQUAL(hi, 1709251200000000LL); /* leap year: 29 days */
	CU_ASSERT_EQUAL(gw_search_date_range("2025-12", &lo, &hi), 0);
	CU_ASSERT_EQUAL(lo, 1764547200000000LL);
	CU_ASSERT_EQUAL(hi, 1767225600000000LL);
}

static void
test_date_time_and_zone(void)
{
	long long lo, hi;

	CU_ASSERT_EQUAL(gw_search_date_range("2025-01-31T10:20Z", &lo, &hi), 0);
	CU_ASSERT_EQUAL(lo, 1738318800000000LL);
	CU_ASSERT_EQUAL(hi, 1738318860000000LL);
	CU_ASSERT_EQUAL(gw_search_date_range("ge2025-01-31T10:20:30.25+02:00",
	    &lo, &hi), 0);
	CU_ASSERT_EQUAL(lo, 1738311630250000LL);
	CU_ASSERT_EQUAL(gw_search_date_range("2025-01-31T10:20:30.25+02:00",
	    &lo, &hi), 0);
	CU_ASSERT_EQUAL(hi - lo, 10000); /* two digits: 1/100 s */
}

static void
test_date_refused(void)
{
	static const char *const bad[] = { "", "ne2025-01-01", "sa2025",
		"2025-13-01", "2025-02-29", "2025-01-32", "2025-1-01",
		"2025-01-31T10:20", "2025-01-31T25:00Z", "2025-01-31T10:20:61Z",
		"2025-01-31 10:20Z", "2025-01-31T10:20+15:00", "25-01-31",
		"2025-01-31Tx", "2025-01-31T10:20:30.Z", "0999", "2025-01-31junk",
		NULL };
	long long lo, hi;

	for (size_t i = 0; bad[i] != NULL; i++) {
		if (gw_search_date_range(bad[i], &lo, &hi) == 0)
			fprintf(stderr, "accepted: %s\n", bad[i]);
		CU_ASSERT_NOT_EQUAL(gw_search_date_range(bad[i], &lo, &hi), 0);
	}
}

static const cJSON *
child(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

static void
test_event_from_record(void)
{
	struct gw_audit_record r = sample();
	size_t len;
	char *c = gw_audit_canonical(&r, &len);
	cJSON *ev = gw_audit_event_from_canonical(c, 42, "FI");
	const cJSON *e;
	int patients = 0, resources = 0, queries = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
	CU_ASSERT_STRING_EQUAL(child(ev, "resourceType")->valuestring,
	    "AuditEvent");
	CU_ASSERT_STRING_EQUAL(child(ev, "id")->valuestring, "42");
	CU_ASSERT_STRING_EQUAL(child(ev, "recorded")->valuestring,
	    "2025-01-31T10:20:30.123456Z");
	CU_ASSERT_STRING_EQUAL(child(ev, "outcome")->valuestring, "0");
	CU_ASSERT_STRING_EQUAL(child(ev, "action")->valuestring, "E");
	CU_ASSERT_EQUAL(cJSON_GetArraySize(child(ev, "agent")), 4);
	cJSON_ArrayForEach(e, child(ev, "entity")) {
		const cJSON *role = child(e, "role");
		const char *code = role ? child(role, "code")->valuestring : "";

		patients += strcmp(code, "1") == 0;
		resources += strcmp(code, "4") == 0;
		queries += strcmp(code, "24") == 0;
	}
	CU_ASSERT_EQUAL(patients, 1);
	CU_ASSERT_EQUAL(resources, 2);
	CU_ASSERT_EQUAL(queries, 1);
	cJSON_Delete(ev);
	free(c);
	CU_ASSERT_PTR_NULL(gw_audit_event_from_canonical("not json", 1, "FI"));
	CU_ASSERT_PTR_NULL(gw_audit_event_from_canonical("{}", 1, "FI"));
}

static void
test_event_outcomes(void)
{
	static const struct {
		int status;
		const char *outcome;
	} cases[] = { { 200, "0" }, { 403, "4" }, { 404, "4" },
		{ 499, "4" }, { 503, "8" } };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct gw_audit_record r = sample();
		size_t len;
		char *c;
		cJSON *ev;

		r.status = cases[i].status;
		r.operation = "read";
		c = gw_audit_canonical(&r, &len);
		ev = gw_audit_event_from_canonical(c, 1, "FI");
		CU_ASSERT_STRING_EQUAL(child(ev, "outcome")->valuestring,
		    cases[i].outcome);
		CU_ASSERT_STRING_EQUAL(child(ev, "action")->valuestring, "R");
		cJSON_Delete(ev);
		free(c);
	}
}

CU_TestInfo test_audit_cases[] = {
	{ "canonical golden", test_canonical_golden },
	{ "canonical deterministic", test_canonical_deterministic },
	{ "canonical empty record", test_canonical_empty_record },
	{ "escape JSON specials", test_escape_json_specials },
	{ "escape non-ASCII", test_escape_non_ascii },
	{ "escape invalid UTF-8", test_escape_invalid_utf8 },
	{ "canonical printable ASCII", test_canonical_is_printable_ascii },
	{ "long field cut", test_long_field_cut },
	{ "chain hash vectors", test_chain_hash_vectors },
	{ "date day", test_date_day },
	{ "date year month", test_date_year_month },
	{ "date time and zone", test_date_time_and_zone },
	{ "date refused", test_date_refused },
	{ "event from record", test_event_from_record },
	{ "event outcomes", test_event_outcomes },
	CU_TEST_INFO_NULL,
};
