/*
 * unit_main.c: the CUnit runner.  Every module's suite is one row of the
 * table; `unit_tests NAME` runs that suite (one CTest entry each), with no
 * argument every suite runs.
 */
#include <stdio.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "adapters/adapter.h"

#include "gateway/small_alloc.h"

extern CU_TestInfo test_http_cases[];
extern CU_TestInfo test_hetu_cases[];
extern CU_TestInfo test_patient_match_cases[];
extern CU_TestInfo test_fnr_cases[];
extern CU_TestInfo test_personnummer_cases[];
extern CU_TestInfo test_consent_cases[];
extern CU_TestInfo test_config_cases[];
int test_config_cleanup(void);
extern CU_TestInfo test_audit_cases[];
extern CU_TestInfo test_profile_cases[];
extern CU_TestInfo test_pseudo_cases[];
extern CU_TestInfo test_terminology_cases[];
extern CU_TestInfo test_small_alloc_cases[];
extern CU_TestInfo test_json_write_cases[];
extern CU_TestInfo test_format_cases[];
extern CU_TestInfo test_throttle_cases[];
extern CU_TestInfo test_row_cases[];
extern CU_TestInfo test_db_batch_cases[];

static CU_SuiteInfo suites[] = {
	{ .pName = "http", .pTests = test_http_cases },
	{ .pName = "hetu", .pTests = test_hetu_cases },
	{ .pName = "match", .pTests = test_patient_match_cases },
	{ .pName = "fnr", .pTests = test_fnr_cases },
	{ .pName = "personnummer", .pTests = test_personnummer_cases },
	{ .pName = "consent", .pTests = test_consent_cases },
	{ .pName = "config", .pCleanupFunc = test_config_cleanup,
	    .pTests = test_config_cases },
	{ .pName = "audit", .pTests = test_audit_cases },
	{ .pName = "profile", .pTests = test_profile_cases },
	{ .pName = "pseudo", .pTests = test_pseudo_cases },
	{ .pName = "terminology", .pTests = test_terminology_cases },
	{ .pName = "small_alloc", .pTests = test_small_alloc_cases },
	{ .pName = "json_write", .pTests = test_json_write_cases },
	{ .pName = "format", .pTests = test_format_cases },
	{ .pName = "throttle", .pTests = test_throttle_cases },
	{ .pName = "row", .pTests = test_row_cases },
	{ .pName = "db_batch", .pTests = test_db_batch_cases },
	CU_SUITE_INFO_NULL,
};

int
main(int argc, char **argv)
{
	CU_SuiteInfo one[2] = { CU_SUITE_INFO_NULL, CU_SUITE_INFO_NULL };
	CU_SuiteInfo *run = suites;
	unsigned failures;

	/* As in fhirgw: every suite runs on the allocator the gateway uses. */
	gw_small_alloc_init();

	if (argc > 1) {
		for (size_t i = 0; suites[i].pName != NULL; i++)
			if (strcmp(suites[i].pName, argv[1]) == 0)
				one[0] = suites[i];
		if (one[0].pName == NULL) {
			fprintf(stderr, "no suite %s\n", argv[1]);
			return 2;
		}
		run = one;
	}
	/* The real code data of the source tree, as the gateway loads it:
	 * the adapters' mapping and categories depend on it. */
	if (gw_adapters_load_data(GW_SOURCE_DIR "/profiles") != 0)
		return 2;
	if (CU_initialize_registry() != CUE_SUCCESS ||
	    CU_register_suites(run) != CUE_SUCCESS)
		return 2;
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failures = CU_get_number_of_failures();
	/* An empty run must not pass for a green one. */
	if (CU_get_number_of_tests_run() == 0)
		failures = 1;
	CU_cleanup_registry();
	gw_adapters_free_data();
	return failures == 0 ? 0 : 1;
}
