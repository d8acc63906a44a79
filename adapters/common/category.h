/*
 * category.h: sensitive-data categories of clinical codes, shared by every
 * country adapter so that consent exclusions mean the same thing
 * everywhere (DESIGN.md §5).
 */
#ifndef GW_ADAPTER_CATEGORY_H
#define GW_ADAPTER_CATEGORY_H

/*
 * The sensitive category of an ICD-10 code ("F32.9", "F329", "B20", or a
 * Finnish dual code such as "G63.2*E11.4+"): "mental-health" (F00-F09,
 * F20-F99), "substance-abuse" (F10-F19), "sexual-health" (A50-A64 sexually
 * transmitted infections, B20-B24 HIV disease), or NULL when no part of the
 * code falls in a sensitive range.  Every code part of a dual code is
 * looked at and the first sensitive one decides, so a sensitive code
 * cannot hide behind a harmless one.  The letter is matched in either case
 * (fail secure).  code is borrowed and may be NULL; the result is a static
 * string.
 */
const char *gw_category_of_icd10(const char *code);

#endif
