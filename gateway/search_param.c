/*
 * search_param.c: search parameter values (search_param.h): dates, tokens
 * and query values, shared by the clinical, audit and document searches.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "gateway/gw.h"
#include "gateway/search_param.h"

#define US_PER_SEC 1000000LL

/* --- dates ---------------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static long long
days_from_civil(long long y, int m, int d)
{
	long long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
days_in_month(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
		30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

/* Exactly n digits at *s into *out; advances *s. */
static bool
digits(const char **s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if ((*s)[i] < '0' || (*s)[i] > '9')
			return false;
		v = v * 10 + ((*s)[i] - '0');
	}
	*s += n;
	*out = v;
	return true;
}

static long long
instant(int y, int mo, int d, int h, int mi, int sec)
{
	return ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60 *
	    US_PER_SEC + (long long)sec * US_PER_SEC;
}

int
gw_search_date_range(const char *value, long long *lo, long long *hi)
{
	static const char *const prefixes[] = { "eq", "ge", "gt", "le", "lt" };
	const char *s = value, *prefix = "eq";
	int y, mo = 1, d = 1, h = 0, mi = 0, sec = 0, zh = 0, zm = 0;
	long long start, end, frac = 0, unit = 1;
	int sign = 0;

	for (size_t i = 0; i < GW_ARRAY_LEN(prefixes); i++)
		if (strncmp(s, prefixes[i], 2) == 0)
			prefix = prefixes[i];
	if (s[0] >= 'a' && s[0] <= 'z') {
		if (strncmp(s, prefix, 2) != 0)
			return GW_ERR; /* ne, sa, eb, ap: not supported */
		s += 2;
	}
	if (!digits(&s, 4, &y) || y < 1000)
		return GW_ERR;
	start = instant(y, 1, 1, 0, 0, 0);
	end = instant(y + 1, 1, 1, 0, 0, 0);
	if (*s == '\0')
		goto range;
	if (*s++ != '-' || !digits(&s, 2, &mo) || mo < 1 || mo > 12)
		return GW_ERR;
	start = instant(y, mo, 1, 0, 0, 0);
	end = mo == 12 ? instant(y + 1, 1, 1, 0, 0, 0) :
	    instant(y, mo + 1, 1, 0, 0, 0);
	if (*s == '\0')
		goto range;
	if (*s++ != '-' || !digits(&s, 2, &d) || d < 1 ||
	    d > days_in_month(y, mo))
		return GW_ERR;
	start = instant(y, mo, d, 0, 0, 0);
	end = start + 86400 * US_PER_SEC;
	if (*s == '\0')
		goto range;
	if (*s++ != 'T' || !digits(&s, 2, &h) || h > 23 || *s++ != ':' ||
	    !digits(&s, 2, &mi) || mi > 59)
		return GW_ERR;
	unit = 60 * US_PER_SEC;
	if (*s == ':') {
		s++;
		if (!digits(&s, 2, &sec) || sec > 59)
			return GW_ERR;
		unit = US_PER_SEC;
		if (*s == '.') {
			int n = 0;

			for (s++; *s >= '0' && *s <= '9'; s++, n++) {
				if (n < 6) {
					frac = frac * 10 + (*s - '0');
					unit /= 10;
				}
			}
			if (n == 0)
				return GW_ERR;
			for (int i = n; i < 6; i++)
				frac *= 10;
		}
	}
	/* A time without a zone is ambiguous: refused. */
	if (*s == 'Z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		sign = *s++ == '+' ? 1 : -1;
		if (!digits(&s, 2, &zh) || zh > 14 || *s++ != ':' ||
		    !digits(&s, 2, &zm) || zm > 59)
			return GW_ERR;
	} else {
		return GW_ERR;
	}
	if (*s != '\0')
		return GW_ERR;
	start = instant(y, mo, d, h, mi, sec) + frac -
	    sign * ((long long)zh * 60 + zm) * 60 * US_PER_SEC;
	end = start + unit;
range:
	*lo = LLONG_MIN;
	*hi = LLONG_MAX;
	if (strcmp(prefix, "eq") == 0) {
		*lo = start;
		*hi = end;
	} else if (strcmp(prefix, "ge") == 0) {
		*lo = start;
	} else if (strcmp(prefix, "gt") == 0) {
		*lo = end;
	} else if (strcmp(prefix, "le") == 0) {
		*hi = end;
	} else {
		*hi = start;
	}
	return GW_OK;
}

void
gw_search_format_instant(long long us, char *out, size_t outsz)
{
	time_t secs = (time_t)(us / US_PER_SEC);
	long long frac = us % US_PER_SEC;
	struct tm tm;
	char base[32];

	if (frac < 0) {
		frac += US_PER_SEC;
		secs--;
	}
	gmtime_r(&secs, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, outsz, "%s.%06lldZ", base, frac);
}

/* --- tokens --------------------------------------------------------------- */

enum gw_token_match
gw_search_token_match(const char *value, const char *system,
    const char *code)
{
	enum gw_token_match m = GW_TOKEN_MISS;

	if (system == NULL)
		system = "";

	for (const char *p = value;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		const char *bar = memchr(p, '|', len);

		if (len == 0)
			return GW_TOKEN_INVALID;
		if (bar == NULL) {
			if (strlen(code) == len && memcmp(p, code, len) == 0)
				m = GW_TOKEN_HIT;
		} else {
			size_t slen = (size_t)(bar - p), clen = len - slen - 1;

			if (slen == 0 && clen == 0)
				return GW_TOKEN_INVALID;
			if (slen == strlen(system) &&
			    memcmp(p, system, slen) == 0 && (clen == 0 ||
			    (clen == strlen(code) &&
			    memcmp(bar + 1, code, clen) == 0)))
				m = GW_TOKEN_HIT;
		}
		if (comma == NULL)
			return m;
		p = comma + 1;
	}
}

bool
gw_search_token_valid(const char *value)
{
	return gw_search_token_match(value, "", "") != GW_TOKEN_INVALID;
}

bool
gw_search_concept_matches(const char *value, const cJSON *concept)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(concept,
	    "coding")) {
		const cJSON *sys = cJSON_GetObjectItemCaseSensitive(c, "system");
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(c, "code");

		if (cJSON_IsString(code) &&
		    gw_search_token_match(value, cJSON_IsString(sys) ?
		    sys->valuestring : NULL, code->valuestring) == GW_TOKEN_HIT)
			return true;
	}
	return false;
}

/* --- links ---------------------------------------------------------------- */

void
gw_search_append_query_value(char *url, size_t urlsz, const char *value)
{
	size_t n = strlen(url);

	for (const unsigned char *p = (const unsigned char *)value;
	    *p != '\0' && n + 4 < urlsz; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
		    *p == '_' || *p == '~')
			url[n++] = (char)*p;
		else
			n += (size_t)snprintf(url + n, urlsz - n, "%%%02X",
			    *p);
	}
	url[n] = '\0';
}
