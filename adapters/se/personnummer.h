/*
 * personnummer.h: Swedish personal identity numbers.  The personnummer is
 * the birth date, a three-digit birth number (odd last digit: male) and a
 * Luhn check digit over the last ten digits; a samordningsnummer
 * (coordination number) adds 60 to the day.  Written with 12 digits
 * (YYYYMMDDNNNC), or with 10 and a separator (YYMMDD-NNNC) where "+"
 * instead of "-" says the person is 100 or older, so the century of a
 * 10-digit form depends on today's date.  The registry and the FHIR output
 * use the 12 digits; input may use any of the forms.
 */
#ifndef GW_ADAPTER_SE_PERSONNUMMER_H
#define GW_ADAPTER_SE_PERSONNUMMER_H

#include <stdbool.h>
#include <stddef.h>

/* Length of the 12-digit form without the NUL. */
#define ADAPTER_SE_PNR_LEN 12

enum adapter_se_kind {
	ADAPTER_SE_PERSONNUMMER = 1,
	ADAPTER_SE_SAMORDNINGSNUMMER = 2, /* day + 60 */
};

/* A parsed number. */
struct adapter_se_ident {
	enum adapter_se_kind kind;
	int year, month, day; /* birth date (day without the 60) */
	int birth_number;     /* 001-999 */
	int sex;              /* 1 male (odd), 2 female */
	char twelve[ADAPTER_SE_PNR_LEN + 1]; /* YYYYMMDDNNNC */
};

/*
 * Parse s, one of YYYYMMDDNNNC, YYYYMMDD-NNNC, YYMMDD-NNNC or YYMMDD+NNNC,
 * as on the day ty-tm-td (which decides the century of the 10-digit forms:
 * "-" the latest birth date not after that day, "+" a hundred years
 * before it).  Valid: digits where digits belong, a year of 1800-2099, a
 * real calendar date (day 61-91 for a samordningsnummer), a birth number
 * other than 000 and the right Luhn digit.  GW_OK with *out filled, or
 * GW_ERR (out untouched).  s borrowed; NULL is invalid.
 */
int adapter_se_ident_parse_on(
    const char *s, long ty, int tm, int td, struct adapter_se_ident *out);

/* adapter_se_ident_parse_on() as of today (UTC). */
int adapter_se_ident_parse(const char *s, struct adapter_se_ident *out);

/* A valid personnummer in any accepted form (not a samordningsnummer). */
bool adapter_se_personnummer_valid(const char *s);

/* A valid samordningsnummer in any accepted form. */
bool adapter_se_samordningsnummer_valid(const char *s);

/* The 12-digit form of a valid number into out (at least 13 bytes):
 * GW_OK, or GW_ERR if s is not valid or out too small. */
int adapter_se_normalize(const char *s, char *out, size_t outsz);

/*
 * Build the 12-digit number of kind, birth date and birth number (1-999)
 * into out (13 bytes).  GW_OK, or GW_ERR (out then "") for an impossible
 * date, a year outside 1800-2099, a birth number out of range or an
 * unknown kind.
 */
int adapter_se_ident_make(enum adapter_se_kind kind, int year, int month,
    int day, int birth_number, char out[ADAPTER_SE_PNR_LEN + 1]);

#endif
