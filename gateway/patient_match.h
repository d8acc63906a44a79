/*
 * patient_match.h: demographic traits on a Patient search.  A search by
 * national identifier may also name the person (family, given, birthdate,
 * gender); the registry's record must then agree with every trait given,
 * or the search finds no one.  Names are compared folded: case and
 * diacritics do not count ("Hætta" = "haetta", "Iŋgá" = "Inga",
 * "Näkkäläjärvi" = "NAKKALAJARVI"), hyphens, apostrophes and spaces inside
 * a name neither.
 */
#ifndef GW_PATIENT_MATCH_H
#define GW_PATIENT_MATCH_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

/* The traits of a search; NULL: not given. */
struct gw_traits {
	const char *family;
	const char *given;     /* one or more given names, space-separated */
	const char *birthdate; /* YYYY, YYYY-MM or YYYY-MM-DD, "eq" allowed */
	const char *gender;    /* male | female | other | unknown */
};

/* True when any trait is given. */
bool gw_traits_any(const struct gw_traits *t);

/*
 * Check the traits' syntax.  GW_OK, or GW_ERR with *why set to a static
 * reason for the 400 (a comparator other than eq, a malformed date, an
 * unknown gender, an empty value, a comma: OR-lists are not supported).
 */
int gw_traits_check(const struct gw_traits *t, const char **why);

/*
 * True when the FHIR Patient agrees with every given trait: family equals
 * a name's family, each given name equals some given name, birthDate
 * lies in the given date at its precision, gender is equal.  patient is
 * borrowed; NULL never matches.
 */
bool gw_traits_match(const struct gw_traits *t, const cJSON *patient);

/*
 * Fold UTF-8 s for comparison into out: lowercase, Latin letters with
 * diacritics (Latin-1 and Latin Extended-A, and combining marks) to their
 * base letters (æ -> ae, ß -> ss, ŋ -> n, đ -> d, ŧ -> t), '-', '\'',
 * U+2019 and spaces dropped; other characters kept as they are.  Always
 * NUL-terminates; returns GW_ERR if out was too small (out then holds a
 * truncated fold) or s is not valid UTF-8.
 */
int gw_fold(const char *s, char *out, size_t outsz);

#endif
