/*
 * registry.c: the table of compiled-in country adapters and the look-ups
 * the router uses.  Adding a country is one line here plus its folder.
 */
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
