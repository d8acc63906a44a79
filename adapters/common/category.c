/*
 * category.c: ICD-10 code ranges that mark a record as sensitive.  The
 * ranges are rows of {first, last, category} on the three-character
 * category code (letter + two digits); a code is scanned for every
 * three-character category it contains, so dual (asterisk/dagger) codes
 * are covered.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "adapters/common/category.h"
#include "gateway/gw.h"

static const struct icd10_range {
	const char *first; /* inclusive, "F00" */
	const char *last;  /* inclusive, "F09" */
	const char *category;
} icd10_ranges[] = {
    {"F00", "F09", "mental-health"},   /* organic mental disorders */
    {"F10", "F19", "substance-abuse"}, /* psychoactive substance use */
    {"F20", "F99", "mental-health"},
    {"A50", "A64", "sexual-health"}, /* sexually transmitted infections */
    {"B20", "B24", "sexual-health"}, /* HIV disease */
};

static bool
is_alpha(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The category of one three-character code (uppercased), or NULL. */
static const char *
range_category(const char cat[3])
{
	for (size_t i = 0; i < GW_ARRAY_LEN(icd10_ranges); i++) {
		const struct icd10_range *r = &icd10_ranges[i];

		if (memcmp(cat, r->first, 3) >= 0 &&
		    memcmp(cat, r->last, 3) <= 0)
			return r->category;
	}
	return NULL;
}

const char *
gw_category_of_icd10(const char *code)
{
	if (code == NULL)
		return NULL;
	for (size_t i = 0; code[i] != '\0'; i++) {
		char cat[3];
		const char *found;

		/* A code part starts with a letter that does not continue a
		 * word, followed by two digits. */
		if (!is_alpha(code[i]) || !is_digit(code[i + 1]) ||
		    !is_digit(code[i + 2]))
			continue;
		if (i > 0 && (is_alpha(code[i - 1]) || is_digit(code[i - 1])))
			continue;
		cat[0] = (char)(code[i] >= 'a' ? code[i] - 'a' + 'A' : code[i]);
		cat[1] = code[i + 1];
		cat[2] = code[i + 2];
		if ((found = range_category(cat)) != NULL)
			return found;
	}
	return NULL;
}
