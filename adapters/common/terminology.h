/*
 * terminology.h: translation of national codes to the international code
 * systems the IPS profiles bind (SNOMED CT, ICD-10, LOINC), as data: the
 * maps are profiles/terminology/NAME.json, read once at start-up into a hash
 * table that every worker thread reads without locks.  The builders of
 * map_common.c keep the original coding and add the translated one (with
 * its English display) to the same CodeableConcept; a code of a mapped
 * system that has no translation stays as it is and is counted per system
 * (fhirgw_terminology_unmapped_total on /metrics).
 */
#ifndef GW_ADAPTER_TERMINOLOGY_H
#define GW_ADAPTER_TERMINOLOGY_H

#include <stdbool.h>
#include <stddef.h>

/* The coded elements a map is written for ("element" in the files): the
 * same code may mean a substance in one and a product in another. */
enum gw_term_element {
	GW_TERM_CONDITION,    /* "Condition.code" */
	GW_TERM_OBSERVATION,  /* "Observation.code" */
	GW_TERM_ALLERGY,      /* "AllergyIntolerance.code" */
	GW_TERM_IMMUNIZATION, /* "Immunization.vaccineCode" */
	GW_TERM_ELEMENTS
};

/* One translation: the coding to add. */
struct gw_term_target {
	const char *system, *code, *display; /* display: English */
};

struct gw_terminology;

/*
 * Read every *.json in dir (profiles/terminology), in name order.  Refused
 * (NULL, the reason logged): a directory that cannot be read, a malformed
 * file, an unknown member or element, an entry without code, target or
 * display, a source system with a quote, backslash or control character
 * (it becomes a metric label), and the same (element, source system, code,
 * target system) written twice, in one file or across files.  An empty
 * directory is a valid, empty set of maps.  Caller frees with
 * gw_terminology_free.
 */
struct gw_terminology *gw_terminology_load(const char *dir);
void gw_terminology_free(struct gw_terminology *t);

/* Entries and source systems loaded (for logs and tests). */
size_t gw_terminology_entries(const struct gw_terminology *t);
size_t gw_terminology_sources(const struct gw_terminology *t);

/*
 * The translations of code in system for element: *out points at n
 * consecutive targets (owned by t), n returned.  0: system has a map for
 * element but not this code (the caller counts it, see below); -1: system
 * has no map for element (nothing to count).  *source, when not NULL, is
 * set to the system's index for gw_terminology_count_unmapped.  No
 * allocation; t, system and code are borrowed.
 */
int gw_terminology_lookup(const struct gw_terminology *t,
    enum gw_term_element element, const char *system, const char *code,
    const struct gw_term_target **out, int *source);

/* Count one code of source (from gw_terminology_lookup) that had no
 * translation.  Atomic: any worker thread may call it. */
void gw_terminology_count_unmapped(const struct gw_terminology *t, int source);

/* The unmapped count of a source system (0 if t does not map it). */
unsigned long gw_terminology_unmapped(
    const struct gw_terminology *t, const char *system);

/*
 * Prometheus text of the counters (one fhirgw_terminology_unmapped_total
 * line per source system) into out of size cap, always NUL-terminated when
 * cap > 0.  Returns the length the whole text needs, as snprintf does.
 */
size_t gw_terminology_metrics(
    const struct gw_terminology *t, char *out, size_t cap);

/* Make t the process's maps (takes t; frees the ones installed before; NULL
 * uninstalls).  Start-up only, before any worker thread runs. */
void gw_terminology_install(struct gw_terminology *t);

/* The installed maps, or NULL (then nothing is translated). */
const struct gw_terminology *gw_terminology_installed(void);

#endif
