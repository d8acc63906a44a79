/*
 * checkdigit.c: Luhn, weighted mod 11 and mod 31 over ASCII digit runs.
 * Pure functions without allocation; the validators of every country call
 * them with the digits their rules name.
 */
#include <stdbool.h>
#include <stddef.h>

#include "adapters/common/checkdigit.h"
#include "gateway/gw.h"

static bool
all_digits(const char *s, size_t n)
{
	if (s == NULL || n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

int
gw_check_luhn(const char *digits, size_t n)
{
	int sum = 0;

	if (!all_digits(digits, n))
		return GW_ERR;
	/* The rightmost given digit sits next to the check digit, so it is
	 * the one doubled. */
	for (size_t i = 0; i < n; i++) {
		int d = digits[n - 1 - i] - '0';

		if (i % 2 == 0) {
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
	}
	return (10 - sum % 10) % 10;
}

int
gw_check_mod11(const char *digits, const int *weights, size_t n)
{
	int sum = 0, k;

	if (!all_digits(digits, n) || weights == NULL)
		return GW_ERR;
	for (size_t i = 0; i < n; i++)
		sum += (digits[i] - '0') * weights[i];
	k = 11 - sum % 11;
	if (k == 11)
		return 0;
	return k == 10 ? GW_ERR : k;
}

int
gw_check_mod31(const char *digits, size_t n)
{
	int r = 0;

	if (!all_digits(digits, n))
		return GW_ERR;
	for (size_t i = 0; i < n; i++)
		r = (r * 10 + (digits[i] - '0')) % 31;
	return r;
}
