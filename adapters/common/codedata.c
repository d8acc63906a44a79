/*
 * codedata.c: the code data every adapter shares, loaded from profiles/ at
 * start-up (adapter.h): the sensitive-data categories (categories.json,
 * required: consent depends on them) and the translation maps
 * (terminology/NAME.json).  Both are installed once, before any worker thread
 * starts, and only read afterwards.
 */
#include <stdio.h>

#include "adapters/adapter.h"
#include "adapters/common/category.h"
#include "adapters/common/terminology.h"
#include "gateway/gw.h"

int
gw_adapters_load_data(const char *dir)
{
	char path[1024];
	struct gw_categories *categories;
	struct gw_terminology *terminology;
	int n;

	n = snprintf(path, sizeof(path), "%s/categories.json", dir);
	if (n < 0 || (size_t)n >= sizeof(path) ||
	    (categories = gw_categories_load(path)) == NULL) {
		gw_error("cannot start without the sensitive-data categories "
		         "of %s/categories.json: consent exclusions depend on "
		         "them",
		    dir);
		return GW_ERR;
	}
	n = snprintf(path, sizeof(path), "%s/terminology", dir);
	if (n < 0 || (size_t)n >= sizeof(path) ||
	    (terminology = gw_terminology_load(path)) == NULL) {
		gw_error("cannot start without valid terminology maps in "
		         "%s/terminology",
		    dir);
		gw_categories_free(categories);
		return GW_ERR;
	}
	gw_categories_install(categories);
	gw_terminology_install(terminology);
	gw_info("code data from %s: %zu terminology entries over %zu source "
	        "systems",
	    dir, gw_terminology_entries(terminology),
	    gw_terminology_sources(terminology));
	return GW_OK;
}

void
gw_adapters_free_data(void)
{
	gw_categories_install(NULL);
	gw_terminology_install(NULL);
}

size_t
gw_adapters_metrics(char *out, size_t cap)
{
	return gw_terminology_metrics(gw_terminology_installed(), out, cap);
}
