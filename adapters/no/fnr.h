/*
 * fnr.h: Norwegian national identity numbers, DDMMYYIIIKK: fødselsnummer
 * and D-nummer (day + 40), birth date, a three-digit individual number
 * whose range gives the century, and two mod-11 control digits.
 * Synthetic test numbers add 40 (NAV, Helsedirektoratet) or 80 (Skatte-
 * etaten's Tenor) to the month.  Validation, parsing, and generation for
 * the synthetic registry.
 */
#ifndef GW_ADAPTER_NO_FNR_H
#define GW_ADAPTER_NO_FNR_H

#include <stdbool.h>

/* Length of a number without the NUL. */
#define ADAPTER_NO_FNR_LEN 11

/* What kind of number. */
enum adapter_no_kind {
	ADAPTER_NO_FNR = 1, /* fødselsnummer */
	ADAPTER_NO_DNR = 2, /* D-nummer: day + 40 */
};

/* A parsed number. */
struct adapter_no_ident {
	enum adapter_no_kind kind;
	int synthetic; /* month offset: 0, 40 or 80 */
	int year, month, day;
	int individual; /* 000-999 */
	int sex;        /* 1 male (odd third individual digit), 2 female */
};

/*
 * Parse s: exactly 11 digits, both control digits right (a first control
 * digit of 10 means the number cannot exist), a day of 1-31 (fødselsnummer)
 * or 41-71 (D-nummer), a month of 1-12, 41-52 or 81-92, a century from the
 * individual number (000-499: 1900s; 500-749 with year 54-99: 1800s;
 * 500-999 with year 00-39: 2000s; 900-999 with year 40-99: 1900s) and a
 * real calendar date in it.  GW_OK with *out filled, or GW_ERR (out
 * untouched).  s is borrowed; NULL is invalid.
 */
int adapter_no_ident_parse(const char *s, struct adapter_no_ident *out);

/* A valid fødselsnummer (synthetic ones included), not a D-nummer. */
bool adapter_no_fnr_valid(const char *s);

/* A valid D-nummer (synthetic ones included). */
bool adapter_no_dnr_valid(const char *s);

/*
 * Build the number of kind, month offset synthetic (0, 40, 80), birth date
 * and individual number into out (12 bytes, NUL-terminated).  GW_OK, or
 * GW_ERR (out then "") for an impossible date, an individual number
 * outside 0-999 or whose range does not give the year's century, an
 * unknown kind or offset, or a first or second control digit of 10 (no
 * such number exists: the caller picks another individual number).
 */
int adapter_no_ident_make(enum adapter_no_kind kind, int synthetic, int year,
    int month, int day, int individual, char out[12]);

#endif
