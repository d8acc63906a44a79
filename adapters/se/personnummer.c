/*
 * personnummer.c: personnummer and samordningsnummer rules.  Every input
 * form is first brought to its ten-digit core YYMMDDNNNC and a full year;
 * the Luhn digit (adapters/common/checkdigit.c) is checked over the core,
 * never over the century digits, which is why the 12-digit and the
 * 10-digit forms of one person agree.
 */
#include <stdbool.h>
#include <string.h>

#include "adapters/common/checkdigit.h"
#include "adapters/common/civil.h"
#include "adapters/se/personnummer.h"
#include "gateway/gw.h"

static bool
digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static int
two(const char *s)
{
	return (s[0] - '0') * 10 + (s[1] - '0');
}

/* -1, 0, 1 as y1-m1-d1 is before, on or after y2-m2-d2. */
static int
date_cmp(long y1, int m1, int d1, long y2, int m2, int d2)
{
	if (y1 != y2)
		return y1 < y2 ? -1 : 1;
	if (m1 != m2)
		return m1 < m2 ? -1 : 1;
	if (d1 != d2)
		return d1 < d2 ? -1 : 1;
	return 0;
}

int
adapter_se_ident_parse_on(
    const char *s, long ty, int tm, int td, struct adapter_se_ident *out)
{
	struct adapter_se_ident id = {0};
	char core[10];
	size_t len;
	long year;
	int mm, dd, check;

	if (s == NULL)
		return GW_ERR;
	len = strnlen(s, 14);
	if (len == 12 && digits(s, 12)) {
		year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + two(s + 2);
		memcpy(core, s + 2, 10);
	} else if (len == 13 && digits(s, 8) && s[8] == '-' &&
	           digits(s + 9, 4)) {
		year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + two(s + 2);
		memcpy(core, s + 2, 6);
		memcpy(core + 6, s + 9, 4);
	} else if (len == 11 && digits(s, 6) && (s[6] == '-' || s[6] == '+') &&
	           digits(s + 7, 4)) {
		int yy = two(s);

		memcpy(core, s, 6);
		memcpy(core + 6, s + 7, 4);
		mm = two(s + 2);
		dd = two(s + 4);
		if (dd > 60)
			dd -= 60;
		/* The latest year ending in yy whose date is not after the
		 * given day; "+": a century before. */
		year = ty - ((ty - yy) % 100 + 100) % 100;
		if (date_cmp(year, mm, dd, ty, tm, td) > 0)
			year -= 100;
		if (s[6] == '+')
			year -= 100;
	} else {
		return GW_ERR;
	}
	mm = two(core + 2);
	dd = two(core + 4);
	if (dd >= 61 && dd <= 91) {
		id.kind = ADAPTER_SE_SAMORDNINGSNUMMER;
		dd -= 60;
	} else {
		id.kind = ADAPTER_SE_PERSONNUMMER;
	}
	if (year < 1800 || year > 2099 || !gw_civil_valid(year, mm, dd))
		return GW_ERR;
	id.birth_number = (core[6] - '0') * 100 + two(core + 7);
	if (id.birth_number == 0)
		return GW_ERR;
	check = gw_check_luhn(core, 9);
	if (check < 0 || core[9] - '0' != check)
		return GW_ERR;
	id.year = (int)year;
	id.month = mm;
	id.day = dd;
	id.sex = (core[8] - '0') % 2 == 1 ? 1 : 2;
	id.twelve[0] = (char)('0' + year / 1000);
	id.twelve[1] = (char)('0' + year / 100 % 10);
	memcpy(id.twelve + 2, core, 10);
	id.twelve[ADAPTER_SE_PNR_LEN] = '\0';
	*out = id;
	return GW_OK;
}

int
adapter_se_ident_parse(const char *s, struct adapter_se_ident *out)
{
	long y;
	int m, d;

	gw_civil_today(&y, &m, &d);
	return adapter_se_ident_parse_on(s, y, m, d, out);
}

bool
adapter_se_personnummer_valid(const char *s)
{
	struct adapter_se_ident id;

	return adapter_se_ident_parse(s, &id) == GW_OK &&
	       id.kind == ADAPTER_SE_PERSONNUMMER;
}

bool
adapter_se_samordningsnummer_valid(const char *s)
{
	struct adapter_se_ident id;

	return adapter_se_ident_parse(s, &id) == GW_OK &&
	       id.kind == ADAPTER_SE_SAMORDNINGSNUMMER;
}

int
adapter_se_normalize(const char *s, char *out, size_t outsz)
{
	struct adapter_se_ident id;

	if (adapter_se_ident_parse(s, &id) != GW_OK)
		return GW_ERR;
	return gw_strlcpy(out, id.twelve, outsz);
}

static void
put2(char *out, int v)
{
	out[0] = (char)('0' + v / 10 % 10);
	out[1] = (char)('0' + v % 10);
}

int
adapter_se_ident_make(enum adapter_se_kind kind, int year, int month, int day,
    int birth_number, char out[ADAPTER_SE_PNR_LEN + 1])
{
	int check;

	out[0] = '\0';
	if ((kind != ADAPTER_SE_PERSONNUMMER &&
	        kind != ADAPTER_SE_SAMORDNINGSNUMMER) ||
	    year < 1800 || year > 2099 || !gw_civil_valid(year, month, day) ||
	    birth_number < 1 || birth_number > 999)
		return GW_ERR;
	put2(out, year / 100);
	put2(out + 2, year % 100);
	put2(out + 4, month);
	put2(out + 6, day + (kind == ADAPTER_SE_SAMORDNINGSNUMMER ? 60 : 0));
	out[8] = (char)('0' + birth_number / 100);
	put2(out + 9, birth_number % 100);
	check = gw_check_luhn(out + 2, 9);
	if (check < 0) {
		out[0] = '\0';
		return GW_ERR;
	}
	out[11] = (char)('0' + check);
	out[12] = '\0';
	return GW_OK;
}
