/*
 * hetu.c: henkilötunnus rules.  A code is DDMMYY, a century sign, a
 * three-digit individual number and a check character picked from a
 * 31-letter alphabet by (DDMMYYZZZ as an integer) mod 31.  The century signs
 * of the 2023 reform (Y X W V U for the 1900s, B C D E F for the 2000s)
 * exist to give more individual numbers per birth date, so a sign is part
 * of the identity and is compared as written, never mapped to "-" or "A".
 */
#include <stdbool.h>
#include <string.h>

#include "adapters/common/checkdigit.h"
#include "adapters/common/civil.h"
#include "adapters/fi/hetu.h"
#include "gateway/gw.h"

#define CHECK_ALPHABET "0123456789ABCDEFHJKLMNPRSTUVWXY"

/* Century signs, one row per century; the first sign is the classic one. */
static const struct century {
	int base;
	const char *signs;
} centuries[] = {
    {1800, "+"},
    {1900, "-YXWVU"},
    {2000, "ABCDEF"},
};

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
two_digits(const char *s)
{
	return (s[0] - '0') * 10 + (s[1] - '0');
}

/* The century of a sign character, or NULL. */
static const struct century *
century_of(char sign)
{
	if (sign == '\0')
		return NULL;
	for (size_t i = 0; i < GW_ARRAY_LEN(centuries); i++)
		if (strchr(centuries[i].signs, sign) != NULL)
			return &centuries[i];
	return NULL;
}

/* The check character of DDMMYY (6 digits) and ZZZ (3 digits): the
 * nine digits as one number, mod 31, indexes the alphabet. */
static char
check_char(const char *ddmmyy, const char *zzz)
{
	char n[9];
	int r;

	memcpy(n, ddmmyy, 6);
	memcpy(n + 6, zzz, 3);
	r = gw_check_mod31(n, sizeof(n));
	return r < 0 ? '\0' : CHECK_ALPHABET[r];
}

bool
adapter_fi_hetu_valid(const char *s)
{
	const struct century *c;
	int individual;

	if (s == NULL ||
	    strnlen(s, ADAPTER_FI_HETU_LEN + 1) != ADAPTER_FI_HETU_LEN)
		return false;
	for (int i = 0; i < 10; i++) {
		if (i == 6)
			continue;
		if (!is_digit(s[i]))
			return false;
	}
	if ((c = century_of(s[6])) == NULL)
		return false;
	if (!gw_civil_valid(
	        c->base + two_digits(s + 4), two_digits(s + 2), two_digits(s)))
		return false;
	individual = (s[7] - '0') * 100 + two_digits(s + 8);
	if (individual < 2)
		return false;
	return s[10] == check_char(s, s + 7);
}

int
adapter_fi_hetu_make(int year, int month, int day, int individual,
    int sign_variant, char out[12])
{
	const struct century *c = NULL;

	out[0] = '\0';
	for (size_t i = 0; i < GW_ARRAY_LEN(centuries); i++)
		if (year >= centuries[i].base && year < centuries[i].base + 100)
			c = &centuries[i];
	if (c == NULL || !gw_civil_valid(year, month, day) || individual < 2 ||
	    individual > 999 || sign_variant < 0 ||
	    (size_t)sign_variant >= strlen(c->signs))
		return GW_ERR;
	out[0] = (char)('0' + day / 10);
	out[1] = (char)('0' + day % 10);
	out[2] = (char)('0' + month / 10);
	out[3] = (char)('0' + month % 10);
	out[4] = (char)('0' + (year % 100) / 10);
	out[5] = (char)('0' + year % 10);
	out[6] = c->signs[sign_variant];
	out[7] = (char)('0' + individual / 100);
	out[8] = (char)('0' + (individual / 10) % 10);
	out[9] = (char)('0' + individual % 10);
	out[10] = check_char(out, out + 7);
	out[11] = '\0';
	return GW_OK;
}

int
adapter_fi_hetu_birthdate(const char *hetu, int *y, int *m, int *d)
{
	if (!adapter_fi_hetu_valid(hetu))
		return GW_ERR;
	*y = century_of(hetu[6])->base + two_digits(hetu + 4);
	*m = two_digits(hetu + 2);
	*d = two_digits(hetu);
	return GW_OK;
}

int
adapter_fi_hetu_sex(const char *hetu)
{
	if (!adapter_fi_hetu_valid(hetu))
		return GW_ERR;
	return (hetu[9] - '0') % 2 == 1 ? 1 : 2;
}
