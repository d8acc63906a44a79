/*
 * hetu.h: the Finnish personal identity code (henkilötunnus, HETU),
 * DDMMYYCZZZQ: birth date, century sign, individual number and a mod-31
 * check character.  Validation, birth date and sex, and generation of
 * test-range codes for the synthetic registry.
 */
#ifndef GW_ADAPTER_FI_HETU_H
#define GW_ADAPTER_FI_HETU_H

#include <stdbool.h>

/* Length of a HETU without the NUL. */
#define ADAPTER_FI_HETU_LEN 11

/*
 * True when s is a well-formed HETU: exactly 11 characters, digits where
 * digits belong, a century sign of "+", "-YXWVU" or "ABCDEF", a real
 * calendar date in that century, an individual number 002-999 (900-999 is
 * the temporary/test range and is accepted) and the right check character
 * (uppercase only).  The sign is never normalised: "010190-..." and
 * "010190Y..." are different people.  s is borrowed; NULL is invalid.
 */
bool adapter_fi_hetu_valid(const char *s);

/*
 * Build the HETU of (year, month, day, individual) into out (12 bytes,
 * NUL-terminated).  sign_variant picks among the century's signs: 1800s
 * only 0 ("+"); 1900s 0-5 ("-", "Y", "X", "W", "V", "U"); 2000s 0-5 ("A",
 * "B", "C", "D", "E", "F").  Returns GW_OK, or GW_ERR (out then holds "")
 * for a year outside 1800-2099, an impossible date, an individual number
 * outside 2-999 or an unknown variant.
 */
int adapter_fi_hetu_make(int year, int month, int day, int individual,
    int sign_variant, char out[12]);

/*
 * The birth date of a valid HETU into *y, *m, *d (full year from the
 * century sign).  GW_OK, or GW_ERR if hetu is not valid (outputs
 * untouched).
 */
int adapter_fi_hetu_birthdate(const char *hetu, int *y, int *m, int *d);

/*
 * Sex from the parity of the individual number, in the registry's coding:
 * 1 (odd, male) or 2 (even, female); GW_ERR if hetu is not valid.
 */
int adapter_fi_hetu_sex(const char *hetu);

#endif
