/*
 * test_format.c: the hand-written number formatting of the hot path
 * (gw_fmt_int, gw_fmt_digits in gateway/gw.c) writes what printf would, and
 * gw_map_datetime, which uses it, converts PostgreSQL timestamps to FHIR
 * instants in UTC.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "adapters/common/map_common.h"
#include "gateway/gw.h"

static void
check_int(long long v)
{
	char got[GW_INT_TEXT + 8], want[64];
	char *end;

	memset(got, 'x', sizeof(got));
	end = gw_fmt_int(got, v);
	snprintf(want, sizeof(want), "%lld", v);
	CU_ASSERT_STRING_EQUAL(got, want);
	CU_ASSERT_PTR_EQUAL(end, got + strlen(want));
	CU_ASSERT_EQUAL(got[strlen(want) + 1], 'x'); /* nothing past the NUL */
}

static void
test_int_like_printf(void)
{
	static const long long fixed[] = { 0, 1, 9, 10, -1, -10, 99, 100,
		123456789, -987654321, 1000000000000LL, LLONG_MAX, LLONG_MIN,
		LLONG_MIN + 1 };
	unsigned long long x = 88172645463325252ULL; /* xorshift64 */

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		check_int(fixed[i]);
	for (int i = 0; i < 10000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		/* Every magnitude: shift away a random number of bits. */
		check_int((long long)(x >> (x % 64)) * (i % 2 ? -1 : 1));
	}
}

static void
test_digits_fixed_width(void)
{
	char buf[32];

	CU_ASSERT_PTR_EQUAL(gw_fmt_digits(buf, 7, 2), buf + 2);
	CU_ASSERT_STRING_EQUAL(buf, "07");
	gw_fmt_digits(buf, 2024, 4);
	CU_ASSERT_STRING_EQUAL(buf, "2024");
	gw_fmt_digits(buf, 1, 4);
	CU_ASSERT_STRING_EQUAL(buf, "0001");
	gw_fmt_digits(buf, 0, 1);
	CU_ASSERT_STRING_EQUAL(buf, "0");
	/* A field has its width: a larger value keeps its last digits. */
	gw_fmt_digits(buf, 12345, 3);
	CU_ASSERT_STRING_EQUAL(buf, "345");
	gw_fmt_digits(buf, ULLONG_MAX, 20);
	CU_ASSERT_STRING_EQUAL(buf, "18446744073709551615");
}

/* Expected values computed independently (Python's datetime). */
static const struct {
	const char *in, *want;
} instants[] = {
	{ "2024-03-05 14:07:09+02", "2024-03-05T12:07:09Z" },
	{ "2024-03-05 00:30:00.123456+02", "2024-03-04T22:30:00.123456Z" },
	{ "2024-03-05T23:59:59-05:30", "2024-03-06T05:29:59Z" },
	{ "2024-12-31 23:00:00-01", "2025-01-01T00:00:00Z" },
	{ "0001-01-01 01:00:00+01", "0001-01-01T00:00:00Z" },
	{ "9999-12-31 23:59:59Z", "9999-12-31T23:59:59Z" },
	{ "2024-02-29 12:00:00.5+00:00:30", "2024-02-29T11:59:30.5Z" },
	{ "2023-03-01 00:00:00+01", "2023-02-28T23:00:00Z" },
	{ "2024-03-05 10:00:00.000000001Z", "2024-03-05T10:00:00.000000001Z" },
	{ "2024-03-05", "2024-03-05" },
};

static void
test_datetime_to_utc(void)
{
	char out[64];

	for (size_t i = 0; i < sizeof(instants) / sizeof(instants[0]); i++) {
		memset(out, 0, sizeof(out));
		CU_ASSERT_EQUAL(gw_map_datetime(instants[i].in, out,
		    sizeof(out)), GW_OK);
		CU_ASSERT_STRING_EQUAL(out, instants[i].want);
	}
}

static void
test_datetime_refusals(void)
{
	static const char *bad[] = { "", "infinity", "2024-03-05 25:00:00Z",
		"2024-03-05 12:00:00", "2024-03-05 12:00:00.Z",
		"2024-03-05 12:00:00.1234567890Z", "2024-03-05 12:00:00+2",
		"2024-03-05 12:00:00Zjunk", "0001-01-01 00:30:00+01",
		"9999-12-31 23:30:00-01" };
	/* Exactly the room "YYYY-MM-DDThh:mm:ss.ffZ" needs, and one less. */
	const char *in = "2024-03-05 12:00:00.25Z";
	char out[24];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(gw_map_datetime(bad[i], out, sizeof(out)),
		    GW_ERR);
	CU_ASSERT_EQUAL(gw_map_datetime(NULL, out, sizeof(out)), GW_ERR);
	CU_ASSERT_EQUAL(gw_map_datetime(in, out, 24), GW_OK);
	CU_ASSERT_STRING_EQUAL(out, "2024-03-05T12:00:00.25Z");
	CU_ASSERT_EQUAL(gw_map_datetime(in, out, 23), GW_ERR);
}

CU_TestInfo test_format_cases[] = {
	{ "gw_fmt_int writes what printf writes", test_int_like_printf },
	{ "gw_fmt_digits fills its width", test_digits_fixed_width },
	{ "timestamps become UTC instants", test_datetime_to_utc },
	{ "bad timestamps and short buffers are refused",
	    test_datetime_refusals },
	CU_TEST_INFO_NULL,
};
