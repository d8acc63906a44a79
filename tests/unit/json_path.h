/*
 * json_path.h: test helpers shared by the adapter mapping suites: read a
 * string out of a FHIR tree by a dotted path ("name.0.given.1"; numbers
 * index arrays) and assert on it; hand a native row built as a cJSON
 * object to an adapter.
 */
#ifndef GW_TEST_JSON_PATH_H
#define GW_TEST_JSON_PATH_H

#include <CUnit/CUnit.h>
#include <cjson/cJSON.h>

#include "adapters/adapter.h"
#include "gateway/row.h"

/* doc, a flat object of a native row's columns, as the gateway reads a
 * registry row: written as record_out would write ROW(<its keys>)::text
 * (booleans as t and f) and parsed by gw_row_parse against its keys, into
 * a row this helper keeps until its next call.  Fails the test (fatally)
 * if doc is not a flat object of names the parser takes. */
const struct gw_row *test_row_of(const cJSON *doc);

/* text as record_out writes a value that is not NULL (quoted when empty
 * or holding a quote, a backslash, a parenthesis, a comma or white space;
 * each quote and backslash inside doubled), appended at out[*len] of a
 * buffer of cap bytes. */
void test_record_value(char *out, size_t cap, size_t *len, const char *text);

/*
 * a's mapping of doc as a tree (caller frees; NULL if a cannot map it),
 * with its type and sensitive category in *rtype and *category.  The
 * same mapping is also written as text, which must be byte for byte the
 * tree printed (and absent exactly when the tree is): every mapping the
 * suites check checks both writers of json_out.h.
 */
cJSON *test_map(const struct gw_adapter *a, const char *kind,
    const struct gw_row *doc, const struct gw_map_ctx *ctx,
    enum gw_rtype *rtype, const char **category);

/* The string at path below root, or NULL if absent or not a string. */
const char *test_json_str_at(const cJSON *root, const char *path);

#define ASSERT_STR(root, path, want)                                         \
	do {                                                                 \
		const char *got_ = test_json_str_at((root), (path));         \
		CU_ASSERT_PTR_NOT_NULL(got_);                                \
		if (got_ != NULL) {                                          \
			CU_ASSERT_STRING_EQUAL(got_, (want));                \
		}                                                            \
	} while (0)

#endif
