/*
 * patient_match.c: demographic traits of a Patient search against the
 * registry's Patient (see patient_match.h).  Names are folded code point by
 * code point: a table of ranges sends the Latin letters with diacritics
 * that Nordic names use (Latin-1, Latin Extended-A, the Skolt Sámi letters
 * of Extended-B) to their base letters; combining marks and name
 * punctuation are dropped.  The match runs on the FHIR Patient the adapter
 * made, so it is the same for every country.
 */
#include <stdint.h>
#include <string.h>

#include "gateway/gw.h"
#include "gateway/patient_match.h"

#define NAME_MAX_BYTES 256

/* Code points [first, last] fold to `to`; NULL to: dropped. */
static const struct fold_range {
	uint32_t first, last;
	const char *to;
} fold_ranges[] = {
    {0x00C0, 0x00C5, "a"},
    {0x00C6, 0x00C6, "ae"},
    {0x00C7, 0x00C7, "c"},
    {0x00C8, 0x00CB, "e"},
    {0x00CC, 0x00CF, "i"},
    {0x00D0, 0x00D0, "d"},
    {0x00D1, 0x00D1, "n"},
    {0x00D2, 0x00D6, "o"},
    {0x00D8, 0x00D8, "o"},
    {0x00D9, 0x00DC, "u"},
    {0x00DD, 0x00DD, "y"},
    {0x00DE, 0x00DE, "th"},
    {0x00DF, 0x00DF, "ss"},
    {0x00E0, 0x00E5, "a"},
    {0x00E6, 0x00E6, "ae"},
    {0x00E7, 0x00E7, "c"},
    {0x00E8, 0x00EB, "e"},
    {0x00EC, 0x00EF, "i"},
    {0x00F0, 0x00F0, "d"},
    {0x00F1, 0x00F1, "n"},
    {0x00F2, 0x00F6, "o"},
    {0x00F8, 0x00F8, "o"},
    {0x00F9, 0x00FC, "u"},
    {0x00FD, 0x00FD, "y"},
    {0x00FE, 0x00FE, "th"},
    {0x00FF, 0x00FF, "y"},
    {0x0100, 0x0105, "a"},
    {0x0106, 0x010D, "c"},
    {0x010E, 0x0111, "d"},
    {0x0112, 0x011B, "e"},
    {0x011C, 0x0123, "g"},
    {0x0124, 0x0127, "h"},
    {0x0128, 0x0131, "i"},
    {0x0132, 0x0133, "ij"},
    {0x0134, 0x0135, "j"},
    {0x0136, 0x0138, "k"},
    {0x0139, 0x0142, "l"},
    {0x0143, 0x014B, "n"},
    {0x014C, 0x0151, "o"},
    {0x0152, 0x0153, "oe"},
    {0x0154, 0x0159, "r"},
    {0x015A, 0x0161, "s"},
    {0x0162, 0x0167, "t"},
    {0x0168, 0x0173, "u"},
    {0x0174, 0x0175, "w"},
    {0x0176, 0x0178, "y"},
    {0x0179, 0x017E, "z"},
    {0x017F, 0x017F, "s"},
    /* Skolt Sámi: ʒ ǯ ǥ ǧ ǩ. */
    {0x01B7, 0x01B7, "z"},
    {0x0292, 0x0292, "z"},
    {0x01E4, 0x01E7, "g"},
    {0x01E8, 0x01E9, "k"},
    {0x01EE, 0x01EF, "z"},
    /* Combining diacritical marks (decomposed input), and name
     * punctuation: right single quotation mark. */
    {0x0300, 0x036F, NULL},
    {0x2019, 0x2019, NULL},
};

/* Decode one UTF-8 code point at s into *cp; its length, or 0 if s does
 * not start with a well-formed sequence. */
static size_t
utf8_decode(const unsigned char *s, uint32_t *cp)
{
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xC2 && s[0] <= 0xDF && (s[1] & 0xC0) == 0x80) {
		*cp = (uint32_t)(s[0] & 0x1F) << 6 | (s[1] & 0x3F);
		return 2;
	}
	if (s[0] >= 0xE0 && s[0] <= 0xEF && (s[1] & 0xC0) == 0x80 &&
	    (s[2] & 0xC0) == 0x80) {
		*cp = (uint32_t)(s[0] & 0x0F) << 12 |
		      (uint32_t)(s[1] & 0x3F) << 6 | (s[2] & 0x3F);
		/* Overlong forms and surrogates are not UTF-8. */
		return *cp < 0x800 || (*cp >= 0xD800 && *cp <= 0xDFFF) ? 0 : 3;
	}
	if (s[0] >= 0xF0 && s[0] <= 0xF4 && (s[1] & 0xC0) == 0x80 &&
	    (s[2] & 0xC0) == 0x80 && (s[3] & 0xC0) == 0x80) {
		*cp = (uint32_t)(s[0] & 0x07) << 18 |
		      (uint32_t)(s[1] & 0x3F) << 12 |
		      (uint32_t)(s[2] & 0x3F) << 6 | (s[3] & 0x3F);
		return *cp < 0x10000 || *cp > 0x10FFFF ? 0 : 4;
	}
	return 0;
}

int
gw_fold(const char *s, char *out, size_t outsz)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = 0;

	if (outsz == 0)
		return GW_ERR;
	out[0] = '\0';
	while (*p != '\0') {
		const struct fold_range *r = NULL;
		const char *to;
		char one[2];
		uint32_t cp;
		size_t n = utf8_decode(p, &cp), tolen;

		if (n == 0)
			return GW_ERR;
		for (size_t i = 0; i < GW_ARRAY_LEN(fold_ranges) && r == NULL;
		     i++)
			if (cp >= fold_ranges[i].first &&
			    cp <= fold_ranges[i].last)
				r = &fold_ranges[i];
		if (r != NULL) {
			to = r->to;
			tolen = to != NULL ? strlen(to) : 0;
		} else if (cp == '-' || cp == '\'' || cp == ' ' || cp == '\t') {
			to = NULL;
			tolen = 0;
		} else if (cp < 0x80) {
			one[0] = (char)(cp >= 'A' && cp <= 'Z' ? cp - 'A' + 'a'
			                                       : cp);
			one[1] = '\0';
			to = one;
			tolen = 1;
		} else {
			/* Kept as written. */
			to = (const char *)p;
			tolen = n;
		}
		if (len + tolen + 1 > outsz)
			return GW_ERR;
		if (tolen > 0)
			memcpy(out + len, to, tolen);
		len += tolen;
		out[len] = '\0';
		p += n;
	}
	return GW_OK;
}

bool
gw_traits_any(const struct gw_traits *t)
{
	return t->family != NULL || t->given != NULL || t->birthdate != NULL ||
	       t->gender != NULL;
}

static bool
digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* The date of a birthdate parameter without its "eq", or NULL if it is
 * not YYYY, YYYY-MM or YYYY-MM-DD. */
static const char *
date_value(const char *v)
{
	size_t n;

	if (strncmp(v, "eq", 2) == 0)
		v += 2;
	n = strlen(v);
	if (n < 4 || !digits(v, 4))
		return NULL;
	if (n == 4)
		return v;
	if (n == 7 && v[4] == '-' && digits(v + 5, 2))
		return v;
	if (n == 10 && v[4] == '-' && digits(v + 5, 2) && v[7] == '-' &&
	    digits(v + 8, 2))
		return v;
	return NULL;
}

int
gw_traits_check(const struct gw_traits *t, const char **why)
{
	static const char *const genders[] = {
	    "male", "female", "other", "unknown"};
	const char *values[] = {t->family, t->given, t->birthdate, t->gender};
	char folded[NAME_MAX_BYTES];

	for (size_t i = 0; i < GW_ARRAY_LEN(values); i++) {
		if (values[i] == NULL)
			continue;
		if (values[i][0] == '\0') {
			*why = "an empty demographic parameter";
			return GW_ERR;
		}
		if (strchr(values[i], ',') != NULL) {
			*why =
			    "OR-lists (a comma) in demographic parameters are "
			    "not supported";
			return GW_ERR;
		}
	}
	if ((t->family != NULL &&
	        gw_fold(t->family, folded, sizeof(folded)) != GW_OK) ||
	    (t->given != NULL &&
	        gw_fold(t->given, folded, sizeof(folded)) != GW_OK)) {
		*why = "a name that is not UTF-8 or is too long";
		return GW_ERR;
	}
	if (t->birthdate != NULL && date_value(t->birthdate) == NULL) {
		*why =
		    "birthdate must be YYYY, YYYY-MM or YYYY-MM-DD (eq only)";
		return GW_ERR;
	}
	if (t->gender != NULL) {
		bool known = false;

		for (size_t i = 0; i < GW_ARRAY_LEN(genders); i++)
			known = known || strcmp(t->gender, genders[i]) == 0;
		if (!known) {
			*why = "gender must be male, female, other or unknown";
			return GW_ERR;
		}
	}
	return GW_OK;
}

/* Folded a equals folded b (both valid and short enough). */
static bool
same_name(const char *a, const char *b)
{
	char fa[NAME_MAX_BYTES], fb[NAME_MAX_BYTES];

	return a != NULL && b != NULL && gw_fold(a, fa, sizeof(fa)) == GW_OK &&
	       gw_fold(b, fb, sizeof(fb)) == GW_OK && fa[0] != '\0' &&
	       strcmp(fa, fb) == 0;
}

static bool
family_matches(const cJSON *names, const char *family)
{
	const cJSON *name;

	cJSON_ArrayForEach(name, names)
	{
		const cJSON *f =
		    cJSON_GetObjectItemCaseSensitive(name, "family");

		if (cJSON_IsString(f) && same_name(f->valuestring, family))
			return true;
	}
	return false;
}

static bool
given_known(const cJSON *names, const char *one)
{
	const cJSON *name, *g;

	cJSON_ArrayForEach(name, names)
	{
		cJSON_ArrayForEach(
		    g, cJSON_GetObjectItemCaseSensitive(name, "given"))
		{
			if (cJSON_IsString(g) && same_name(g->valuestring, one))
				return true;
		}
	}
	return false;
}

/* Every space-separated given name of the query is one of the Patient's. */
static bool
given_matches(const cJSON *names, const char *given)
{
	const char *p = given;
	int seen = 0;

	while (*p != '\0') {
		char one[NAME_MAX_BYTES];
		size_t n;

		while (*p == ' ')
			p++;
		n = strcspn(p, " ");
		if (n == 0)
			break;
		if (n >= sizeof(one))
			return false;
		memcpy(one, p, n);
		one[n] = '\0';
		if (!given_known(names, one))
			return false;
		seen++;
		p += n;
	}
	return seen > 0;
}

bool
gw_traits_match(const struct gw_traits *t, const cJSON *patient)
{
	const cJSON *names, *v;

	if (!cJSON_IsObject(patient))
		return false;
	names = cJSON_GetObjectItemCaseSensitive(patient, "name");
	if (t->family != NULL && !family_matches(names, t->family))
		return false;
	if (t->given != NULL && !given_matches(names, t->given))
		return false;
	if (t->birthdate != NULL) {
		const char *want = date_value(t->birthdate);

		v = cJSON_GetObjectItemCaseSensitive(patient, "birthDate");
		/* The date at the query's precision: 1990 holds 1990-01-01. */
		if (want == NULL || !cJSON_IsString(v) ||
		    strncmp(v->valuestring, want, strlen(want)) != 0 ||
		    (v->valuestring[strlen(want)] != '\0' &&
		        v->valuestring[strlen(want)] != '-'))
			return false;
	}
	if (t->gender != NULL) {
		v = cJSON_GetObjectItemCaseSensitive(patient, "gender");
		if (!cJSON_IsString(v) ||
		    strcmp(v->valuestring, t->gender) != 0)
			return false;
	}
	return true;
}
