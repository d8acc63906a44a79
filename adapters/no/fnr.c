/*
 * fnr.c: fødselsnummer and D-nummer rules.  The control digits are
 * weighted mod 11 (adapters/common/checkdigit.c): k1 over the nine digits
 * DDMMYYIII with weights 3 7 6 1 8 9 4 5 2, k2 over those and k1 with
 * weights 5 4 3 2 7 6 5 4 3 2.  The century is not written: it follows
 * from the individual number's range (table below), so a date is checked
 * only after the century is known.
 */
#include <stdbool.h>
#include <string.h>

#include "adapters/common/checkdigit.h"
#include "adapters/common/civil.h"
#include "adapters/no/fnr.h"
#include "gateway/gw.h"

static const int k1_weights[9] = {3, 7, 6, 1, 8, 9, 4, 5, 2};
static const int k2_weights[10] = {5, 4, 3, 2, 7, 6, 5, 4, 3, 2};

/* Individual-number ranges and the centuries they give, first match. */
static const struct century {
	int first, last;       /* individual numbers, inclusive */
	int yy_first, yy_last; /* two-digit years, inclusive */
	int base;
} centuries[] = {
    {0, 499, 0, 99, 1900},
    {500, 749, 54, 99, 1800},
    {500, 999, 0, 39, 2000},
    {900, 999, 40, 99, 1900},
};

/* The full year of two-digit year yy and an individual number, or -1. */
static int
full_year(int yy, int individual)
{
	for (size_t i = 0; i < GW_ARRAY_LEN(centuries); i++) {
		const struct century *c = &centuries[i];

		if (individual >= c->first && individual <= c->last &&
		    yy >= c->yy_first && yy <= c->yy_last)
			return c->base + yy;
	}
	return -1;
}

static int
two(const char *s)
{
	return (s[0] - '0') * 10 + (s[1] - '0');
}

int
adapter_no_ident_parse(const char *s, struct adapter_no_ident *out)
{
	struct adapter_no_ident id = {0};
	int dd, mm, k1, k2, year;

	if (s == NULL ||
	    strnlen(s, ADAPTER_NO_FNR_LEN + 1) != ADAPTER_NO_FNR_LEN)
		return GW_ERR;
	for (int i = 0; i < ADAPTER_NO_FNR_LEN; i++)
		if (s[i] < '0' || s[i] > '9')
			return GW_ERR;
	/* k1 of 10 makes gw_check_mod11 fail: such a number cannot exist. */
	k1 = gw_check_mod11(s, k1_weights, 9);
	k2 = gw_check_mod11(s, k2_weights, 10);
	if (k1 < 0 || k2 < 0 || s[9] - '0' != k1 || s[10] - '0' != k2)
		return GW_ERR;

	dd = two(s);
	mm = two(s + 2);
	if (dd >= 41 && dd <= 71) {
		id.kind = ADAPTER_NO_DNR;
		dd -= 40;
	} else {
		id.kind = ADAPTER_NO_FNR;
	}
	if (mm >= 81 && mm <= 92)
		id.synthetic = 80;
	else if (mm >= 41 && mm <= 52)
		id.synthetic = 40;
	else if (mm < 1 || mm > 12)
		return GW_ERR;
	mm -= id.synthetic;
	id.individual = (s[6] - '0') * 100 + two(s + 7);
	year = full_year(two(s + 4), id.individual);
	if (year < 0 || !gw_civil_valid(year, mm, dd))
		return GW_ERR;
	id.year = year;
	id.month = mm;
	id.day = dd;
	id.sex = (s[8] - '0') % 2 == 1 ? 1 : 2;
	*out = id;
	return GW_OK;
}

bool
adapter_no_fnr_valid(const char *s)
{
	struct adapter_no_ident id;

	return adapter_no_ident_parse(s, &id) == GW_OK &&
	       id.kind == ADAPTER_NO_FNR;
}

bool
adapter_no_dnr_valid(const char *s)
{
	struct adapter_no_ident id;

	return adapter_no_ident_parse(s, &id) == GW_OK &&
	       id.kind == ADAPTER_NO_DNR;
}

static void
put2(char *out, int v)
{
	out[0] = (char)('0' + v / 10 % 10);
	out[1] = (char)('0' + v % 10);
}

int
adapter_no_ident_make(enum adapter_no_kind kind, int synthetic, int year,
    int month, int day, int individual, char out[12])
{
	int k1, k2;

	out[0] = '\0';
	if ((kind != ADAPTER_NO_FNR && kind != ADAPTER_NO_DNR) ||
	    (synthetic != 0 && synthetic != 40 && synthetic != 80) ||
	    !gw_civil_valid(year, month, day) || individual < 0 ||
	    individual > 999 || year < 1800 ||
	    full_year(year % 100, individual) != year)
		return GW_ERR;
	put2(out, day + (kind == ADAPTER_NO_DNR ? 40 : 0));
	put2(out + 2, month + synthetic);
	put2(out + 4, year % 100);
	out[6] = (char)('0' + individual / 100);
	put2(out + 7, individual % 100);
	k1 = gw_check_mod11(out, k1_weights, 9);
	if (k1 < 0) {
		out[0] = '\0';
		return GW_ERR;
	}
	out[9] = (char)('0' + k1);
	k2 = gw_check_mod11(out, k2_weights, 10);
	if (k2 < 0) {
		out[0] = '\0';
		return GW_ERR;
	}
	out[10] = (char)('0' + k2);
	out[11] = '\0';
	return GW_OK;
}
