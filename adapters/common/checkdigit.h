/*
 * checkdigit.h: the check-digit arithmetic of the Nordic national
 * identifiers, shared by the country adapters: Luhn (Swedish personnummer),
 * weighted mod 11 (Norwegian fødselsnummer) and mod 31 (Finnish HETU).
 * Each works on a run of ASCII digits and knows nothing of dates or
 * layouts; the country's own module says which digits go in.
 */
#ifndef GW_ADAPTER_CHECKDIGIT_H
#define GW_ADAPTER_CHECKDIGIT_H

#include <stddef.h>

/*
 * The Luhn (mod 10) check digit that completes digits[0..n): digits are
 * weighted 2, 1, 2, ... from the left when n is odd, i.e. so that the
 * check digit appended at the end gets weight 1; two-digit products count
 * as the sum of their digits.  Returns 0-9, or GW_ERR if n is 0 or a
 * character is not a digit.  digits is borrowed.
 */
int gw_check_luhn(const char *digits, size_t n);

/*
 * The weighted mod 11 check digit of digits[0..n) with weights[0..n):
 * 11 - (sum of digit * weight) mod 11, where 11 becomes 0.  Returns 0-9,
 * or GW_ERR if the result is 10 (no single digit can be written, so no
 * such number exists), n is 0 or a character is not a digit.
 */
int gw_check_mod11(const char *digits, const int *weights, size_t n);

/*
 * The remainder of the decimal number digits[0..n) divided by 31
 * (computed digit by digit, so any length fits).  Returns 0-30, or GW_ERR
 * if n is 0 or a character is not a digit.
 */
int gw_check_mod31(const char *digits, size_t n);

#endif
