/*
 * category.h: sensitive-data categories of clinical codes, shared by every
 * country adapter so that consent exclusions mean the same thing
 * everywhere (DESIGN.md §5): ICD-10 (every national edition) and ICPC-2
 * (Norwegian primary care).  The code ranges are data
 * (profiles/categories.json), not C tables.
 */
#ifndef GW_ADAPTER_CATEGORY_H
#define GW_ADAPTER_CATEGORY_H

/* Diagnosis classifications whose codes are classified here.  The
 * national OIDs are the ones the registries carry (Volven 7110/7170 in
 * Norway; Socialstyrelsen's ICD-10-SE and KSH97-P in Sweden). */
#define GW_SYSTEM_ICD10_WHO "http://hl7.org/fhir/sid/icd-10"
#define GW_SYSTEM_ICD10_NO "urn:oid:2.16.578.1.12.4.1.1.7110"
#define GW_SYSTEM_ICD10_SE "urn:oid:1.2.752.116.1.1.1.1.3"
#define GW_SYSTEM_KSH97P "urn:oid:1.2.752.116.1.1.1.1.1"
#define GW_SYSTEM_ICPC2_WHO "http://hl7.org/fhir/sid/icpc-2"
#define GW_SYSTEM_ICPC2_NO "urn:oid:2.16.578.1.12.4.1.1.7170"

/*
 * The table of ranges, as profiles/categories.json writes it: which coding
 * systems use which classification, and per classification the ranges of
 * three-character categories (letter + two digits) with their sensitive
 * category, first match wins.  Loaded once at start-up and read-only
 * afterwards, so every worker thread reads it without locks.
 */
struct gw_categories;

/*
 * Read and check the file at path.  Refused (NULL, the reason logged): a
 * missing or malformed file, an unknown member, a classification without
 * systems or ranges, a range that is not "A00".."Z99" with first <= last,
 * a category the consent engine does not know, a system named twice, a
 * range written twice.  Caller frees with gw_categories_free.
 */
struct gw_categories *gw_categories_load(const char *path);
void gw_categories_free(struct gw_categories *c);

/* The category of code under the classification system uses in c (see
 * gw_category_of_coding), or NULL. */
const char *gw_categories_of(
    const struct gw_categories *c, const char *system, const char *code);

/* Make c the table the functions below use (takes c; frees the one
 * installed before; NULL uninstalls).  Start-up only, before any worker
 * thread runs. */
void gw_categories_install(struct gw_categories *c);

/*
 * The functions below read the installed table.  Without one they abort
 * the process: classifying nothing would let sensitive records out, and
 * the gateway refuses to start without the file, so this is a broken
 * start-up, never a request's fault.
 */

/*
 * The sensitive category of an ICD-10 code ("F32.9", "F329", "B20", or a
 * Finnish dual code such as "G63.2*E11.4+"), by the classification of the
 * WHO ICD-10 system: with the shipped table "mental-health" (F00-F09,
 * F20-F99), "substance-abuse" (F10-F19), "sexual-health" (A50-A64 sexually
 * transmitted infections, B20-B24 HIV disease), or NULL when no part of the
 * code falls in a sensitive range.  Every code part of a dual code is
 * looked at and the first sensitive one decides, so a sensitive code
 * cannot hide behind a harmless one.  The letter is matched in either case
 * (fail secure).  code is borrowed and may be NULL; the result is a static
 * string.
 */
const char *gw_category_of_icd10(const char *code);

/*
 * The sensitive category of an ICPC-2 code ("P76", "p76", "X70", or
 * Norwegian "P76.00"), by the classification of the WHO ICPC-2 system:
 * with the shipped table "substance-abuse" (P15-P19: alcohol, tobacco,
 * medication and drug abuse), "mental-health" (the rest of chapter P,
 * psychological), "sexual-health" (B90 HIV, and the sexually transmitted
 * infections X70-X73, X90-X92, Y70-Y72, Y76), or NULL.  Every code part is
 * scanned as for ICD-10.  code is borrowed and may be NULL; the result is a
 * static string.
 */
const char *gw_category_of_icpc2(const char *code);

/*
 * The sensitive category of a coding: the classification is chosen by the
 * coding's system (the ICD-10 family: WHO, Norwegian and Swedish editions,
 * KSH97-P; ICPC-2: international and Norwegian), never guessed from the
 * code's shape, since the same letter-and-digits mean different things in
 * ICD-10 and ICPC-2 (ICD-10 P-codes are perinatal, ICPC-2 P-codes
 * psychological).  NULL for a system without sensitive ranges.
 */
const char *gw_category_of_coding(const char *system, const char *code);

#endif
