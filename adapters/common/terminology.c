/*
 * terminology.c: the translation maps of profiles/terminology/NAME.json.
 *
 * Loading reads every file (in name order), turns each entry of each map
 * into one row per source system, sorts the rows by (element, source,
 * code, target system) and refuses duplicates.  Rows with the same
 * (element, source, code) form a group whose targets are contiguous; an
 * open-addressing hash table (FNV-1a, linear probing, at most half full)
 * finds a group.  A lookup finds the source system among the few loaded
 * ones, hashes the code and compares: no allocation.  The parsed documents
 * stay alive and own every string.  Unmapped counters are atomics, one per
 * source system.
 */
#include <dirent.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/common/datafile.h"
#include "adapters/common/terminology.h"
#include "gateway/gw.h"

static const char *const element_names[GW_TERM_ELEMENTS] = {
    [GW_TERM_CONDITION] = "Condition.code",
    [GW_TERM_OBSERVATION] = "Observation.code",
    [GW_TERM_ALLERGY] = "AllergyIntolerance.code",
    [GW_TERM_IMMUNIZATION] = "Immunization.vaccineCode",
};

struct source {
	const char *system;
	bool element[GW_TERM_ELEMENTS]; /* has a map for this element */
	atomic_ulong unmapped;
};

struct row {
	int element, source;
	const char *code;
	struct gw_term_target target;
	const char *file; /* for messages */
};

struct group {
	int element, source;
	const char *code;
	size_t first, n; /* into targets */
	uint64_t hash;
};

struct gw_terminology {
	cJSON **docs;
	char **files; /* the path of each doc, for messages */
	size_t ndocs;
	struct source *sources;
	size_t nsources;
	struct row *rows; /* while loading */
	size_t nrows;
	struct gw_term_target *targets; /* sorted like rows */
	struct group *groups;
	size_t ngroups;
	size_t *slots; /* group index + 1; 0: empty */
	size_t nslots; /* a power of two */
};

static struct gw_terminology *installed;

static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static uint64_t
key_hash(int element, int source, const char *code)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	unsigned char head[2] = {(unsigned char)element, (unsigned char)source};

	h = fnv(h, head, sizeof(head));
	return fnv(h, code, strlen(code));
}

void
gw_terminology_free(struct gw_terminology *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->ndocs; i++) {
		cJSON_Delete(t->docs[i]);
		free(t->files[i]);
	}
	free(t->docs);
	free(t->files);
	free(t->sources);
	free(t->rows);
	free(t->targets);
	free(t->groups);
	free(t->slots);
	free(t);
}

/* A metric label value needs no escaping: refuse what would. */
static bool
label_safe(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20 ||
		    *s == 0x7f)
			return false;
	return true;
}

static int
source_index(struct gw_terminology *t, const char *system)
{
	for (size_t i = 0; i < t->nsources; i++)
		if (strcmp(t->sources[i].system, system) == 0)
			return (int)i;
	t->sources =
	    gw_realloc(t->sources, (t->nsources + 1) * sizeof(*t->sources));
	memset(&t->sources[t->nsources], 0, sizeof(*t->sources));
	t->sources[t->nsources].system = system;
	atomic_init(&t->sources[t->nsources].unmapped, 0);
	return (int)t->nsources++;
}

static int
element_of(const char *name)
{
	for (int i = 0; name != NULL && i < GW_TERM_ELEMENTS; i++)
		if (strcmp(element_names[i], name) == 0)
			return i;
	return -1;
}

/* One map of a file into rows.  GW_OK or GW_ERR (logged). */
static int
load_map(struct gw_terminology *t, const cJSON *map, const char *path)
{
	static const char *const known[] = {
	    "element", "from", "to", "entries", "description", NULL};
	static const char *const entry_known[] = {
	    "code", "name", "target", "display", NULL};
	const cJSON *from = cJSON_GetObjectItemCaseSensitive(map, "from");
	const cJSON *entries = cJSON_GetObjectItemCaseSensitive(map, "entries");
	const char *to = gw_datafile_str(map, "to");
	int element = element_of(gw_datafile_str(map, "element"));
	const cJSON *s, *e;

	if (!cJSON_IsObject(map) || !gw_datafile_known(map, known, path, "map"))
		return GW_ERR;
	if (element < 0) {
		gw_error("%s: a map needs an \"element\" of Condition.code, "
		         "Observation.code, AllergyIntolerance.code or "
		         "Immunization.vaccineCode",
		    path);
		return GW_ERR;
	}
	if (to == NULL || !cJSON_IsArray(from) ||
	    cJSON_GetArraySize(from) == 0 || !cJSON_IsArray(entries)) {
		gw_error(
		    "%s: a map needs \"from\" (systems), \"to\" (a system) "
		    "and \"entries\"",
		    path);
		return GW_ERR;
	}
	cJSON_ArrayForEach(s, from)
	{
		int src;

		if (!cJSON_IsString(s) || s->valuestring[0] == '\0' ||
		    !label_safe(s->valuestring)) {
			gw_error("%s: a source system must be a non-empty "
			         "string without quotes, backslashes or "
			         "control characters",
			    path);
			return GW_ERR;
		}
		src = source_index(t, s->valuestring);
		t->sources[src].element[element] = true;
		cJSON_ArrayForEach(e, entries)
		{
			const char *code = gw_datafile_str(e, "code");
			const char *target = gw_datafile_str(e, "target");
			const char *display = gw_datafile_str(e, "display");

			if (!cJSON_IsObject(e) ||
			    !gw_datafile_known(e, entry_known, path, "entry"))
				return GW_ERR;
			if (code == NULL || target == NULL || display == NULL) {
				gw_error("%s: an entry needs \"code\", "
				         "\"target\" and \"display\"",
				    path);
				return GW_ERR;
			}
			t->rows = gw_realloc(
			    t->rows, (t->nrows + 1) * sizeof(*t->rows));
			t->rows[t->nrows++] = (struct row){
			    .element = element,
			    .source = src,
			    .code = code,
			    .target = {to, target, display},
			    .file = path,
			};
		}
	}
	return GW_OK;
}

static int
load_file(struct gw_terminology *t, const char *path)
{
	static const char *const known[] = {"description", "maps", NULL};
	cJSON *doc = gw_datafile_read(path);
	const cJSON *maps, *m;

	if (doc == NULL)
		return GW_ERR;
	/* Owned from here: rows point into it. */
	t->docs = gw_realloc(t->docs, (t->ndocs + 1) * sizeof(*t->docs));
	t->files = gw_realloc(t->files, (t->ndocs + 1) * sizeof(*t->files));
	t->docs[t->ndocs] = doc;
	t->files[t->ndocs++] = gw_strdup(path);
	path = t->files[t->ndocs - 1];
	maps = cJSON_GetObjectItemCaseSensitive(doc, "maps");
	if (!gw_datafile_known(doc, known, path, "(top)"))
		return GW_ERR;
	if (!cJSON_IsArray(maps) || cJSON_GetArraySize(maps) == 0) {
		gw_error("%s: \"maps\" must be a non-empty array", path);
		return GW_ERR;
	}
	cJSON_ArrayForEach(m, maps)
	{
		if (load_map(t, m, path) != GW_OK)
			return GW_ERR;
	}
	return GW_OK;
}

static int
row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	int c;

	if (x->element != y->element)
		return x->element < y->element ? -1 : 1;
	if (x->source != y->source)
		return x->source < y->source ? -1 : 1;
	if ((c = strcmp(x->code, y->code)) != 0)
		return c;
	return strcmp(x->target.system, y->target.system);
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool
has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n > m && strcmp(s + n - m, suffix) == 0;
}

/* Sort rows, refuse duplicates, build groups and the hash table. */
static int
build_index(struct gw_terminology *t)
{
	if (t->nrows > 0)
		qsort(t->rows, t->nrows, sizeof(*t->rows), row_cmp);
	t->targets = gw_calloc(t->nrows + 1, sizeof(*t->targets));
	t->groups = gw_calloc(t->nrows + 1, sizeof(*t->groups));
	for (size_t i = 0; i < t->nrows; i++) {
		const struct row *r = &t->rows[i];
		struct group *g =
		    t->ngroups > 0 ? &t->groups[t->ngroups - 1] : NULL;

		if (i > 0 && row_cmp(&t->rows[i - 1], r) == 0) {
			gw_error("%s: %s code %s is mapped to %s twice "
			         "(also in %s)",
			    r->file, t->sources[r->source].system, r->code,
			    r->target.system, t->rows[i - 1].file);
			return GW_ERR;
		}
		t->targets[i] = r->target;
		if (g != NULL && g->element == r->element &&
		    g->source == r->source && strcmp(g->code, r->code) == 0) {
			g->n++;
			continue;
		}
		g = &t->groups[t->ngroups++];
		*g = (struct group){
		    .element = r->element,
		    .source = r->source,
		    .code = r->code,
		    .first = i,
		    .n = 1,
		    .hash = key_hash(r->element, r->source, r->code),
		};
	}
	t->nslots = 16;
	while (t->nslots < 2 * t->ngroups)
		t->nslots *= 2;
	t->slots = gw_calloc(t->nslots, sizeof(*t->slots));
	for (size_t i = 0; i < t->ngroups; i++) {
		size_t at = (size_t)t->groups[i].hash & (t->nslots - 1);

		while (t->slots[at] != 0)
			at = (at + 1) & (t->nslots - 1);
		t->slots[at] = i + 1;
	}
	free(t->rows);
	t->rows = NULL;
	return GW_OK;
}

struct gw_terminology *
gw_terminology_load(const char *dir)
{
	struct gw_terminology *t = gw_calloc(1, sizeof(*t));
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t nnames = 0;
	int rc = GW_OK;

	if (d == NULL) {
		gw_error("terminology: cannot open %s", dir);
		gw_terminology_free(t);
		return NULL;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || !has_suffix(e->d_name, ".json"))
			continue;
		names = gw_realloc(names, (nnames + 1) * sizeof(*names));
		names[nnames++] = gw_strdup(e->d_name);
	}
	closedir(d);
	if (nnames > 0)
		qsort(names, nnames, sizeof(*names), name_cmp);
	for (size_t i = 0; i < nnames; i++) {
		char path[1024];
		int n = snprintf(path, sizeof(path), "%s/%s", dir, names[i]);

		if (rc == GW_OK) {
			if (n < 0 || (size_t)n >= sizeof(path)) {
				gw_error(
				    "terminology: path too long in %s", dir);
				rc = GW_ERR;
			} else {
				rc = load_file(t, path);
			}
		}
		free(names[i]);
	}
	free(names);
	if (rc != GW_OK || build_index(t) != GW_OK) {
		gw_error("terminology: maps in %s not loaded", dir);
		gw_terminology_free(t);
		return NULL;
	}
	return t;
}

size_t
gw_terminology_entries(const struct gw_terminology *t)
{
	size_t n = 0;

	for (size_t i = 0; t != NULL && i < t->ngroups; i++)
		n += t->groups[i].n;
	return n;
}

size_t
gw_terminology_sources(const struct gw_terminology *t)
{
	return t != NULL ? t->nsources : 0;
}

int
gw_terminology_lookup(const struct gw_terminology *t,
    enum gw_term_element element, const char *system, const char *code,
    const struct gw_term_target **out, int *source)
{
	int src = -1;
	size_t at;

	*out = NULL;
	if (source != NULL)
		*source = -1;
	if (t == NULL || system == NULL || code == NULL ||
	    (unsigned)element >= GW_TERM_ELEMENTS)
		return -1;
	for (size_t i = 0; i < t->nsources && src < 0; i++)
		if (t->sources[i].element[element] &&
		    strcmp(t->sources[i].system, system) == 0)
			src = (int)i;
	if (src < 0)
		return -1;
	if (source != NULL)
		*source = src;
	at = (size_t)key_hash((int)element, src, code) & (t->nslots - 1);
	for (; t->slots[at] != 0; at = (at + 1) & (t->nslots - 1)) {
		const struct group *g = &t->groups[t->slots[at] - 1];

		if (g->element == (int)element && g->source == src &&
		    strcmp(g->code, code) == 0) {
			*out = &t->targets[g->first];
			return (int)g->n;
		}
	}
	return 0;
}

void
gw_terminology_count_unmapped(const struct gw_terminology *t, int source)
{
	if (t == NULL || source < 0 || (size_t)source >= t->nsources)
		return;
	/* A counter, not a synchronisation point: relaxed is enough. */
	atomic_fetch_add_explicit(
	    &t->sources[source].unmapped, 1, memory_order_relaxed);
}

unsigned long
gw_terminology_unmapped(const struct gw_terminology *t, const char *system)
{
	for (size_t i = 0; t != NULL && system != NULL && i < t->nsources; i++)
		if (strcmp(t->sources[i].system, system) == 0)
			return atomic_load_explicit(
			    &t->sources[i].unmapped, memory_order_relaxed);
	return 0;
}

size_t
gw_terminology_metrics(const struct gw_terminology *t, char *out, size_t cap)
{
	size_t n = 0;
	int k;

#define APPEND(...)                                                            \
	do {                                                                   \
		k = snprintf(out + (n < cap ? n : cap), n < cap ? cap - n : 0, \
		    __VA_ARGS__);                                              \
		if (k > 0)                                                     \
			n += (size_t)k;                                        \
	} while (0)

	if (cap > 0)
		out[0] = '\0';
	if (t == NULL || t->nsources == 0)
		return 0;
	APPEND("# HELP fhirgw_terminology_unmapped_total Codes of a mapped "
	       "system that had no translation\n"
	       "# TYPE fhirgw_terminology_unmapped_total counter\n");
	for (size_t i = 0; i < t->nsources; i++)
		APPEND("fhirgw_terminology_unmapped_total{system=\"%s\"} %lu\n",
		    t->sources[i].system,
		    atomic_load_explicit(
		        &t->sources[i].unmapped, memory_order_relaxed));
#undef APPEND
	return n;
}

void
gw_terminology_install(struct gw_terminology *t)
{
	gw_terminology_free(installed);
	installed = t;
}

const struct gw_terminology *
gw_terminology_installed(void)
{
	return installed;
}
