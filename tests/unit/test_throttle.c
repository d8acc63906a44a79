/*
 * test_throttle.c: the per-node buckets of gateway/throttle.c.  Rates of
 * one request per second keep the counts exact unless a test stalls for a
 * whole second.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#include <CUnit/CUnit.h>

#include "gateway/throttle.h"

#define KEY_A "aa00000000000000000000000000000000000000000000000000000000000000"
#define KEY_B "bb00000000000000000000000000000000000000000000000000000000000000"

static void
test_bucket_then_wait(void)
{
	struct gw_throttle *t = gw_throttle_new();

	/* 1 per second, 3 seconds of burst: three at once, then a wait of
	 * about a second, said in whole seconds. */
	for (int i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(gw_throttle_take(t, KEY_A, 1, 3), 0);
	CU_ASSERT_EQUAL(gw_throttle_take(t, KEY_A, 1, 3), 1);
	CU_ASSERT_EQUAL(gw_throttle_take(t, KEY_A, 1, 3), 1);
	/* Another key has its own bucket. */
	CU_ASSERT_EQUAL(gw_throttle_take(t, KEY_B, 1, 3), 0);
	/* A bucket smaller than one request still lets one through. */
	CU_ASSERT_EQUAL(gw_throttle_take(t, "cc", 0.5, 1), 0);
	CU_ASSERT_EQUAL(gw_throttle_take(t, "cc", 0.5, 1), 2);
	gw_throttle_free(t);
}

struct race {
	struct gw_throttle *t;
	atomic_int allowed;
};

static void *
take_many(void *arg)
{
	struct race *r = arg;

	for (int i = 0; i < 5000; i++)
		if (gw_throttle_take(r->t, KEY_A, 1, 100) == 0)
			atomic_fetch_add(&r->allowed, 1);
	return NULL;
}

static void
test_threads_share_one_bucket(void)
{
	struct race r = { .t = gw_throttle_new() };
	pthread_t th[4];

	/* Four workers race on one node's word: the compare-and-swap lets
	 * exactly the bucket's 100 through, not 100 each. */
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, take_many, &r);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	CU_ASSERT_EQUAL(atomic_load(&r.allowed), 100);
	gw_throttle_free(r.t);
}

static void
test_many_keys(void)
{
	struct gw_throttle *t = gw_throttle_new();
	char key[65];
	int allowed = 0;

	/* 2,000 nodes, each with its own slot (the table holds 2,048). */
	for (int i = 0; i < 2000; i++) {
		snprintf(key, sizeof(key), "%064d", i);
		allowed += gw_throttle_take(t, key, 1, 1) == 0;
		allowed += gw_throttle_take(t, key, 1, 1) == 0;
	}
	CU_ASSERT_EQUAL(allowed, 2000);
	gw_throttle_free(t);
}

CU_TestInfo test_throttle_cases[] = {
	{ "a bucket, then whole seconds to wait", test_bucket_then_wait },
	{ "workers share one bucket exactly", test_threads_share_one_bucket },
	{ "every node its own slot", test_many_keys },
	CU_TEST_INFO_NULL,
};
