/*
 * category.c: code ranges that mark a record as sensitive, per
 * classification, read from profiles/categories.json at start-up.  The
 * ranges are rows of {first, last, category} on the three-character
 * category code (letter + two digits), first match wins; a code is scanned
 * for every three-character category it contains, so dual (asterisk/dagger)
 * codes and national suffixes are covered.  Which classification applies is
 * decided by the coding's system (the file's "systems" lists).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/common/category.h"
#include "adapters/common/datafile.h"
#include "gateway/gw.h"

/* The categories consent rules can exclude (adapter.h, DESIGN.md §5); a
 * range must name one of them, and lookups return these static strings. */
static const char *const known_categories[] = {
    "mental-health",
    "sexual-health",
    "genetic",
    "substance-abuse",
};

struct code_range {
	char first[4];        /* inclusive, "F00" */
	char last[4];         /* inclusive, "F09" */
	const char *category; /* one of known_categories */
};

struct classification {
	char *name;
	struct code_range *ranges;
	size_t nranges;
};

struct system_class {
	char *system;
	size_t classification; /* index into classifications */
};

struct gw_categories {
	struct classification *classifications;
	size_t nclassifications;
	struct system_class *systems;
	size_t nsystems;
};

static struct gw_categories *installed;

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

/* "A00".."Z99", upper case, as the file must write a range end. */
static bool
is_category_code(const char *s)
{
	return s != NULL && strlen(s) == 3 && s[0] >= 'A' && s[0] <= 'Z' &&
	       is_digit(s[1]) && is_digit(s[2]);
}

static const char *
known_category(const char *name)
{
	for (size_t i = 0; name != NULL && i < GW_ARRAY_LEN(known_categories);
	     i++)
		if (strcmp(known_categories[i], name) == 0)
			return known_categories[i];
	return NULL;
}

void
gw_categories_free(struct gw_categories *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nclassifications; i++) {
		free(c->classifications[i].name);
		free(c->classifications[i].ranges);
	}
	for (size_t i = 0; i < c->nsystems; i++)
		free(c->systems[i].system);
	free(c->classifications);
	free(c->systems);
	free(c);
}

/* Read one classification's ranges into cl.  GW_OK or GW_ERR (logged). */
static int
load_ranges(struct classification *cl, const cJSON *ranges, const char *path)
{
	static const char *const known[] = {
	    "first", "last", "category", "note", NULL};
	const cJSON *r;
	size_t n = 0;

	if (!cJSON_IsArray(ranges) || cJSON_GetArraySize(ranges) == 0) {
		gw_error("%s: %s: \"ranges\" must be a non-empty array", path,
		    cl->name);
		return GW_ERR;
	}
	cl->ranges =
	    gw_calloc((size_t)cJSON_GetArraySize(ranges), sizeof(*cl->ranges));
	cJSON_ArrayForEach(r, ranges)
	{
		const char *first = gw_datafile_str(r, "first");
		const char *last = gw_datafile_str(r, "last");
		const char *cat =
		    known_category(gw_datafile_str(r, "category"));

		if (!cJSON_IsObject(r) ||
		    !gw_datafile_known(r, known, path, cl->name))
			return GW_ERR;
		if (!is_category_code(first) || !is_category_code(last) ||
		    strcmp(first, last) > 0) {
			gw_error("%s: %s: a range needs \"first\" <= \"last\", "
			         "each a letter and two digits (A00-Z99)",
			    path, cl->name);
			return GW_ERR;
		}
		if (cat == NULL) {
			gw_error("%s: %s %s-%s: \"category\" must be one of "
			         "mental-health, sexual-health, genetic, "
			         "substance-abuse",
			    path, cl->name, first, last);
			return GW_ERR;
		}
		for (size_t i = 0; i < n; i++)
			if (strcmp(cl->ranges[i].first, first) == 0 &&
			    strcmp(cl->ranges[i].last, last) == 0) {
				gw_error("%s: %s: range %s-%s written twice",
				    path, cl->name, first, last);
				return GW_ERR;
			}
		memcpy(cl->ranges[n].first, first, 4);
		memcpy(cl->ranges[n].last, last, 4);
		cl->ranges[n].category = cat;
		cl->nranges = ++n;
	}
	return GW_OK;
}

/* Read one classification and its systems into c.  GW_OK or GW_ERR. */
static int
load_classification(
    struct gw_categories *c, const cJSON *obj, size_t index, const char *path)
{
	static const char *const known[] = {
	    "name", "systems", "ranges", "description", NULL};
	struct classification *cl = &c->classifications[index];
	const char *name = gw_datafile_str(obj, "name");
	const cJSON *systems = cJSON_GetObjectItemCaseSensitive(obj, "systems");
	const cJSON *s;

	if (!cJSON_IsObject(obj) ||
	    !gw_datafile_known(obj, known, path, "classification"))
		return GW_ERR;
	if (name == NULL) {
		gw_error("%s: a classification needs a \"name\"", path);
		return GW_ERR;
	}
	for (size_t i = 0; i < index; i++)
		if (strcmp(c->classifications[i].name, name) == 0) {
			gw_error(
			    "%s: classification %s written twice", path, name);
			return GW_ERR;
		}
	cl->name = gw_strdup(name);
	c->nclassifications = index + 1;
	if (!cJSON_IsArray(systems) || cJSON_GetArraySize(systems) == 0) {
		gw_error("%s: %s: \"systems\" must be a non-empty array", path,
		    name);
		return GW_ERR;
	}
	cJSON_ArrayForEach(s, systems)
	{
		if (!cJSON_IsString(s) || s->valuestring[0] == '\0') {
			gw_error("%s: %s: a system must be a non-empty string",
			    path, name);
			return GW_ERR;
		}
		for (size_t i = 0; i < c->nsystems; i++)
			if (strcmp(c->systems[i].system, s->valuestring) == 0) {
				gw_error("%s: system %s is named twice", path,
				    s->valuestring);
				return GW_ERR;
			}
		c->systems = gw_realloc(
		    c->systems, (c->nsystems + 1) * sizeof(*c->systems));
		c->systems[c->nsystems].system = gw_strdup(s->valuestring);
		c->systems[c->nsystems].classification = index;
		c->nsystems++;
	}
	return load_ranges(
	    cl, cJSON_GetObjectItemCaseSensitive(obj, "ranges"), path);
}

struct gw_categories *
gw_categories_load(const char *path)
{
	static const char *const known[] = {
	    "description", "classifications", NULL};
	cJSON *doc = gw_datafile_read(path);
	const cJSON *list, *obj;
	struct gw_categories *c;
	size_t i = 0;

	if (doc == NULL)
		return NULL;
	c = gw_calloc(1, sizeof(*c));
	list = cJSON_GetObjectItemCaseSensitive(doc, "classifications");
	if (!gw_datafile_known(doc, known, path, "(top)"))
		goto err;
	if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) == 0) {
		gw_error(
		    "%s: \"classifications\" must be a non-empty array", path);
		goto err;
	}
	c->classifications = gw_calloc(
	    (size_t)cJSON_GetArraySize(list), sizeof(*c->classifications));
	cJSON_ArrayForEach(obj, list)
	{
		if (load_classification(c, obj, i++, path) != GW_OK)
			goto err;
	}
	cJSON_Delete(doc);
	return c;
err:
	gw_error("%s: sensitive categories not loaded", path);
	cJSON_Delete(doc);
	gw_categories_free(c);
	return NULL;
}

void
gw_categories_install(struct gw_categories *c)
{
	gw_categories_free(installed);
	installed = c;
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
gw_categories_of(
    const struct gw_categories *c, const char *system, const char *code)
{
	if (system == NULL)
		return NULL;
	for (size_t i = 0; i < c->nsystems; i++)
		if (strcmp(c->systems[i].system, system) == 0)
			return scan(
			    &c->classifications[c->systems[i].classification],
			    code);
	return NULL;
}

/* The installed table; its absence is a broken start-up (category.h). */
static const struct gw_categories *
table(void)
{
	if (installed == NULL) {
		gw_error("sensitive categories used before "
		         "profiles/categories.json was loaded");
		abort();
	}
	return installed;
}

const char *
gw_category_of_icd10(const char *code)
{
	return gw_categories_of(table(), GW_SYSTEM_ICD10_WHO, code);
}

const char *
gw_category_of_icpc2(const char *code)
{
	return gw_categories_of(table(), GW_SYSTEM_ICPC2_WHO, code);
}

const char *
gw_category_of_coding(const char *system, const char *code)
{
	return gw_categories_of(table(), system, code);
}
