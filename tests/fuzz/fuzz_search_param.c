/*
 * fuzz_search_param.c: the search values a client writes into a query
 * (gateway/search_param.c): dates with prefixes as instant ranges, token
 * lists against codings, and values encoded back into links.  The input is
 * split at its first NUL into a value and a coding ("system|code").
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/search_param.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *value = malloc(size + 1), *system, *code, *bar, link[96];
	char instant[40];
	long long lo, hi;

	if (value == NULL)
		return 0;
	memcpy(value, data, size);
	value[size] = '\0';
	/* After the value's NUL (if any): the coding it is matched against. */
	system = value + strlen(value) + (strlen(value) < size ? 1 : 0);
	bar = strchr(system, '|');
	code = bar != NULL ? bar + 1 : system;
	if (bar != NULL)
		*bar = '\0';

	if (gw_search_date_range(value, &lo, &hi) == 0) {
		/* A range admits something, and its ends print. */
		if (lo >= hi)
			__builtin_trap();
		if (lo != LLONG_MIN)
			gw_search_format_instant(lo, instant, sizeof(instant));
		if (hi != LLONG_MAX)
			gw_search_format_instant(hi, instant, sizeof(instant));
	}
	if (gw_search_token_valid(value)) {
		if (gw_search_token_match(value, bar != NULL ? system : NULL,
			code) == GW_TOKEN_INVALID)
			__builtin_trap();
	}
	/* Encoded into a small link: always terminated, never past it. */
	memcpy(link, "https://x/fhir/Condition?code=", 31);
	gw_search_append_query_value(link, sizeof(link), value);
	if (strlen(link) >= sizeof(link))
		__builtin_trap();
	free(value);
	return 0;
}
