/*
 * category.c: code ranges that mark a record as sensitive, per
 * classification.  The ranges are rows of {first, last, category} on the
 * three-character category code (letter + two digits), first match wins;
 * a code is scanned for every three-character category it contains, so
 * dual (asterisk/dagger) codes and national suffixes are covered.  Which
 * table applies is decided by the coding's system (systems[] below).
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "adapters/common/category.h"
#include "gateway/gw.h"

struct code_range {
	const char *first; /* inclusive, "F00" */
	const char *last;  /* inclusive, "F09" */
	const char *category;
};

static const struct code_range icd10_ranges[] = {
    {"F00", "F09", "mental-health"},   /* organic mental disorders */
    {"F10", "F19", "substance-abuse"}, /* psychoactive substance use */
    {"F20", "F99", "mental-health"},
    {"A50", "A64", "sexual-health"}, /* sexually transmitted infections */
    {"B20", "B24", "sexual-health"}, /* HIV disease */
};

static const struct code_range icpc2_ranges[] = {
    /* P15 chronic and P16 acute alcohol abuse, P17 tobacco abuse, P18
     * medication abuse, P19 drug abuse: before the chapter row. */
    {"P15", "P19", "substance-abuse"},
    {"P00", "P99", "mental-health"}, /* chapter P: psychological */
    {"B90", "B90", "sexual-health"}, /* HIV infection / AIDS */
    {"X70", "X73", "sexual-health"}, /* syphilis, gonorrhoea, candida,
                                        trichomonas (female) */
    {"X90", "X92", "sexual-health"}, /* herpes, condylomata, chlamydia
                                        (female) */
    {"Y70", "Y72", "sexual-health"}, /* syphilis, gonorrhoea, herpes
                                        (male) */
    {"Y76", "Y76", "sexual-health"}, /* condylomata acuminata (male) */
};

struct classification {
	const struct code_range *ranges;
	size_t nranges;
};

static const struct classification icd10 = {
    icd10_ranges, GW_ARRAY_LEN(icd10_ranges)};
static const struct classification icpc2 = {
    icpc2_ranges, GW_ARRAY_LEN(icpc2_ranges)};

static const struct {
	const char *system;
	const struct classification *classification;
} systems[] = {
    {GW_SYSTEM_ICD10_WHO, &icd10},
    {GW_SYSTEM_ICD10_NO, &icd10},
    {GW_SYSTEM_ICD10_SE, &icd10},
    {GW_SYSTEM_KSH97P, &icd10}, /* primary-care grouping of ICD-10 */
    {GW_SYSTEM_ICPC2_WHO, &icpc2},
    {GW_SYSTEM_ICPC2_NO, &icpc2},
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
range_category(const struct classification *cl, const char cat[3])
{
	for (size_t i = 0; i < cl->nranges; i++) {
		const struct code_range *r = &cl->ranges[i];

		if (memcmp(cat, r->first, 3) >= 0 &&
		    memcmp(cat, r->last, 3) <= 0)
			return r->category;
	}
	return NULL;
}

static const char *
scan(const struct classification *cl, const char *code)
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
		if ((found = range_category(cl, cat)) != NULL)
			return found;
	}
	return NULL;
}

const char *
gw_category_of_icd10(const char *code)
{
	return scan(&icd10, code);
}

const char *
gw_category_of_icpc2(const char *code)
{
	return scan(&icpc2, code);
}

const char *
gw_category_of_coding(const char *system, const char *code)
{
	if (system == NULL)
		return NULL;
	for (size_t i = 0; i < GW_ARRAY_LEN(systems); i++)
		if (strcmp(systems[i].system, system) == 0)
			return scan(systems[i].classification, code);
	return NULL;
}
