/*
 * registry.c: the table of compiled-in country adapters and the look-ups
 * the router uses.  Adding a country is one line here plus its folder.
 */
#include <pthread.h>
#include <string.h>

#include "adapters/adapter.h"
#include "gateway/gw.h"

extern const struct gw_adapter adapter_fi;
extern const struct gw_adapter adapter_no;
extern const struct gw_adapter adapter_se;

const struct gw_adapter *const gw_adapters[] = {
	&adapter_fi,
	&adapter_no,
	&adapter_se,
	NULL,
};

#define ADAPTERS_MAX 8
#define TABLES_MAX 8

/* Every adapter's column lists, split once (gw_adapter_columns); a list
 * that does not split stays empty, and gw_adapters_check refuses it. */
static struct gw_row_columns columns[ADAPTERS_MAX][TABLES_MAX];
static pthread_once_t columns_once = PTHREAD_ONCE_INIT;

static void
split_columns(void)
{
	for (size_t i = 0; i < ADAPTERS_MAX && gw_adapters[i] != NULL; i++) {
		const struct gw_native_table *t = gw_adapters[i]->tables;

		for (size_t j = 0; t != NULL && j < TABLES_MAX &&
		     t[j].kind != NULL; j++)
			(void)gw_row_columns_parse(&columns[i][j],
			    t[j].columns);
	}
}

/* Whether a's tables are listed, each once, within the bounds above, and
 * every column list split. */
static bool
tables_ok(size_t i, const struct gw_adapter *a)
{
	size_t n = 0;

	if (i >= ADAPTERS_MAX || a->tables == NULL)
		return false;
	pthread_once(&columns_once, split_columns);
	for (; a->tables[n].kind != NULL; n++) {
		if (n == TABLES_MAX || columns[i][n].n == 0)
			return false;
		for (size_t j = 0; j < n; j++)
			if (strcmp(a->tables[j].kind, a->tables[n].kind) == 0)
				return false;
	}
	return n > 0;
}

const struct gw_row_columns *
gw_adapter_columns(const struct gw_adapter *a, const char *kind)
{
	pthread_once(&columns_once, split_columns);
	for (size_t i = 0; i < ADAPTERS_MAX && gw_adapters[i] != NULL; i++) {
		const struct gw_native_table *t = gw_adapters[i]->tables;

		if (gw_adapters[i] != a || t == NULL)
			continue;
		for (size_t j = 0; j < TABLES_MAX && t[j].kind != NULL; j++)
			if (strcmp(t[j].kind, kind) == 0)
				return columns[i][j].n > 0 ? &columns[i][j] :
				    NULL;
	}
	return NULL;
}

const struct gw_row_columns *
gw_adapter_patient_columns(const struct gw_adapter *a)
{
	return a->tables != NULL && a->tables[0].kind != NULL ?
	    gw_adapter_columns(a, a->tables[0].kind) : NULL;
}

int
gw_adapters_check(void)
{
	for (size_t i = 0; gw_adapters[i] != NULL; i++) {
		const struct gw_adapter *a = gw_adapters[i];

		if (a->abi != GW_ADAPTER_ABI) {
			gw_error("adapter %s: ABI %d, gateway has %d",
			    a->country, a->abi, GW_ADAPTER_ABI);
			return GW_ERR;
		}
		if (a->sql_patient_by_identifier == NULL ||
		    a->sql_summary == NULL || a->sql_export == NULL ||
		    a->map == NULL ||
		    a->patient_identity == NULL || a->ids == NULL ||
		    a->sql_read[GW_RT_PATIENT] == NULL) {
			gw_error("adapter %s: incomplete", a->country);
			return GW_ERR;
		}
		if (!tables_ok(i, a)) {
			gw_error("adapter %s: its tables' column lists are "
			    "missing, repeated or not plain names",
			    a->country);
			return GW_ERR;
		}
		for (int t = GW_RT_CONDITION; t < GW_RT_COUNT; t++) {
			if (a->sql_search[t] == NULL || a->sql_read[t] == NULL) {
				gw_error("adapter %s: no SQL for %s",
				    a->country, gw_fhir_type_name(t));
				return GW_ERR;
			}
		}
		for (size_t j = 0; j < i; j++) {
			const struct gw_adapter *b = gw_adapters[j];

			if (strcmp(a->country, b->country) == 0 ||
			    strcmp(a->id_prefix, b->id_prefix) == 0) {
				gw_error("adapters %s and %s collide",
				    a->country, b->country);
				return GW_ERR;
			}
		}
		/* An identifier system routes to exactly one adapter. */
		for (const struct gw_id_system *s = a->ids; s->system != NULL;
		     s++) {
			const struct gw_id_system *other = NULL;

			if (s->valid == NULL ||
			    gw_adapter_by_system(s->system, &other) != a ||
			    other != s) {
				gw_error("adapter %s: identifier system %s has "
				    "no validator or is claimed twice",
				    a->country, s->system);
				return GW_ERR;
			}
		}
	}
	return GW_OK;
}

cJSON *
gw_adapter_map_tree(const struct gw_adapter *a, const char *kind,
    const struct gw_row *doc, const struct gw_map_ctx *ctx,
    struct gw_mapped *m)
{
	struct gw_jout o = gw_jout_tree_builder();
	struct gw_mapped ignored;

	if (a->map(kind, doc, ctx, &o, m != NULL ? m : &ignored) != GW_OK)
		return NULL;
	return gw_jout_take_tree(&o);
}

const struct gw_adapter *
gw_adapter_by_country(const char *country)
{
	for (size_t i = 0; gw_adapters[i] != NULL; i++)
		if (strcmp(gw_adapters[i]->country, country) == 0)
			return gw_adapters[i];
	return NULL;
}

const struct gw_adapter *
gw_adapter_by_prefix(const char *prefix, size_t prefix_len)
{
	for (size_t i = 0; gw_adapters[i] != NULL; i++) {
		const char *p = gw_adapters[i]->id_prefix;

		if (strlen(p) == prefix_len &&
		    memcmp(p, prefix, prefix_len) == 0)
			return gw_adapters[i];
	}
	return NULL;
}

const struct gw_adapter *
gw_adapter_by_system(const char *system, const struct gw_id_system **id)
{
	for (size_t i = 0; gw_adapters[i] != NULL; i++) {
		for (const struct gw_id_system *s = gw_adapters[i]->ids;
		     s->system != NULL; s++) {
			if (strcmp(s->system, system) == 0) {
				if (id != NULL)
					*id = s;
				return gw_adapters[i];
			}
		}
	}
	return NULL;
}
