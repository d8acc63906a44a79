/*
 * test_small_alloc.c: the pool behind cJSON and OpenSSL keeps every block's
 * bytes, reuses freed blocks, hands large requests to malloc, grows blocks
 * as realloc does, accepts blocks freed on another thread, aligns blocks as
 * malloc must, and leaves printed documents byte-identical.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <cjson/cJSON.h>

#include "gateway/fhir.h"
#include "gateway/small_alloc.h"

/* Every size from 0 to past the pool's limit, filled with its own pattern,
 * then checked after all are allocated (no two blocks overlap). */
static void
test_sizes_do_not_overlap(void)
{
	enum { N = GW_SMALL_MAX + 64 };
	unsigned char *blocks[N + 1];

	for (size_t n = 0; n <= N; n++) {
		blocks[n] = gw_small_malloc(n);
		CU_ASSERT_PTR_NOT_NULL_FATAL(blocks[n]);
		CU_ASSERT_EQUAL((uintptr_t)blocks[n] % 8, 0);
		memset(blocks[n], (int)(n & 0xff), n);
	}
	for (size_t n = 0; n <= N; n++) {
		size_t bad = 0;

		for (size_t i = 0; i < n; i++)
			bad += blocks[n][i] != (unsigned char)(n & 0xff);
		CU_ASSERT_EQUAL(bad, 0);
		gw_small_free(blocks[n]);
	}
	gw_small_free(NULL);
}

/* A cJSON node (64 bytes) fills one cache line instead of straddling two,
 * and pool blocks carry no header: blocks of a class lie a class apart. */
static void
test_nodes_fill_a_line(void)
{
	unsigned char *p[64];

	for (int i = 0; i < 64; i++) {
		p[i] = gw_small_malloc(sizeof(cJSON));
		CU_ASSERT_EQUAL((uintptr_t)p[i] % 64, 0);
	}
	for (int i = 1; i < 64; i++)
		if (p[i] > p[i - 1] && p[i] - p[i - 1] < 4096)
			CU_ASSERT(p[i] - p[i - 1] >= 64);
	for (int i = 0; i < 64; i++)
		gw_small_free(p[i]);
}

/* A freed small block is what the next request of its class gets, so a
 * steady state allocates no new slabs. */
static void
test_freed_blocks_are_reused(void)
{
	void *a = gw_small_malloc(40), *b;
	size_t before;

	gw_small_free(a);
	b = gw_small_malloc(40);
	CU_ASSERT_PTR_EQUAL(a, b);
	gw_small_free(b);

	before = gw_small_alloc_slab_bytes();
	for (int round = 0; round < 100; round++) {
		void *p[500];

		for (int i = 0; i < 500; i++)
			p[i] = gw_small_malloc((size_t)(i % 200) + 1);
		for (int i = 0; i < 500; i++)
			gw_small_free(p[i]);
	}
	/* The first round may need slabs; the other 99 reuse them. */
	CU_ASSERT(gw_small_alloc_slab_bytes() - before <= 2u * 64u * 1024u);
}

struct handoff {
	void *blocks[1000];
};

static void *
free_elsewhere(void *arg)
{
	struct handoff *h = arg;

	for (int i = 0; i < 1000; i++)
		gw_small_free(h->blocks[i]);
	/* and this thread can allocate from what it was given */
	for (int i = 0; i < 1000; i++) {
		h->blocks[i] = gw_small_malloc(64);
		memset(h->blocks[i], 0x5a, 64);
	}
	return NULL;
}

static void
test_free_on_another_thread(void)
{
	struct handoff h;
	pthread_t t;

	for (int i = 0; i < 1000; i++) {
		h.blocks[i] = gw_small_malloc((size_t)(i % 300));
		memset(h.blocks[i], 0xa5, (size_t)(i % 300));
	}
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, free_elsewhere, &h), 0);
	pthread_join(t, NULL);
	for (int i = 0; i < 1000; i++) {
		CU_ASSERT_EQUAL(((unsigned char *)h.blocks[i])[63], 0x5a);
		gw_small_free(h.blocks[i]);
	}
}

/* A document built and printed through the hooks round-trips exactly, and
 * gw_fhir_print's copy (free()-able) equals the scratch text. */
static void
test_documents_round_trip(void)
{
	const char *text = "{\"resourceType\":\"Bundle\",\"entry\":[{\"fullUrl\":"
	    "\"https://x/fhir/Patient/fi-abc\",\"resource\":{\"resourceType\":"
	    "\"Patient\",\"name\":[{\"family\":\"Áilu Čáhppes Đuoŋŧaž\"}],"
	    "\"multipleBirthInteger\":2}}],\"total\":1}";
	cJSON *doc = cJSON_Parse(text);
	char *copy, *scratch;
	size_t len;

	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	scratch = gw_fhir_print_scratch(doc, &len);
	CU_ASSERT_EQUAL(len, strlen(text));
	CU_ASSERT_STRING_EQUAL(scratch, text);
	copy = gw_fhir_print(doc);
	CU_ASSERT_STRING_EQUAL(copy, text);
	free(copy);
	cJSON_Delete(doc);
}

/* A document larger than the first scratch buffer (64 KiB) makes it grow. */
static void
test_large_document_prints(void)
{
	cJSON *arr = cJSON_CreateArray();
	char *s;
	size_t len;

	for (int i = 0; i < 20000; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString("0123456789"));
	s = gw_fhir_print_scratch(arr, &len);
	CU_ASSERT_EQUAL(len, 2 + 20000 * 13 - 1);
	CU_ASSERT_EQUAL(s[0], '[');
	CU_ASSERT_EQUAL(s[len - 1], ']');
	cJSON_Delete(arr);
}

/* Every small request gets the smallest class that holds it; larger ones
 * go to malloc. */
static void
test_smallest_class(void)
{
	static const unsigned sizes[] = { 8, 16, 24, 32, 40, 48, 56, 64, 80, 96,
		112, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448, 480,
		512, 544, 576, 608, 640, 672, 704, 736, 768, 800, 832, 864, 896,
		928, 960, 992, 1024 };

	for (size_t n = 0; n <= GW_SMALL_MAX; n++) {
		unsigned want = 0;

		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
			if (sizes[i] >= n) {
				want = sizes[i];
				break;
			}
		CU_ASSERT_EQUAL(gw_small_alloc_class_bytes(n), want);
	}
	CU_ASSERT_EQUAL(gw_small_alloc_class_bytes(GW_SMALL_MAX + 1), 0);
}

/* Any request whose size is a positive multiple of 16 (the size of every
 * object that needs 16-byte alignment) gets a 16-aligned block; others at
 * least an 8-aligned one. */
static void
test_alignment(void)
{
	void *p[8];

	for (size_t n = 0; n <= GW_SMALL_MAX + 16; n++) {
		for (int i = 0; i < 8; i++) {
			p[i] = gw_small_malloc(n);
			CU_ASSERT_EQUAL((uintptr_t)p[i] %
			    (n > 0 && n % 16 == 0 ? 16 : 8), 0);
		}
		for (int i = 0; i < 8; i++)
			gw_small_free(p[i]);
	}
}

/* gw_small_realloc keeps the bytes while a block grows through the
 * classes into malloc and back, and a size of 0 frees. */
static void
test_realloc_keeps_bytes(void)
{
	unsigned char *p = gw_small_realloc(NULL, 1);
	size_t have = 1;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	p[0] = 0;
	/* 1, 2, 3, ... up past the pool's limit and into malloc's blocks */
	for (size_t n = 2; n <= 3 * GW_SMALL_MAX; n += n / 8 + 1) {
		size_t bad = 0;

		p = gw_small_realloc(p, n);
		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		for (size_t i = 0; i < have; i++)
			bad += p[i] != (unsigned char)i;
		CU_ASSERT_EQUAL(bad, 0);
		for (size_t i = have; i < n; i++)
			p[i] = (unsigned char)i;
		have = n;
	}
	/* shrinking keeps the prefix, and may move a malloc block into... */
	p = gw_small_realloc(p, 40);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	for (size_t i = 0; i < 40; i++)
		CU_ASSERT_EQUAL(p[i], (unsigned char)i);
	/* ...or keep a pool block where it is */
	p = gw_small_realloc(p, 100);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(p[39], 39);
	CU_ASSERT_PTR_EQUAL(gw_small_realloc(p, 0), NULL);
}

CU_TestInfo test_small_alloc_cases[] = {
	{ "alignment", test_alignment },
	{ "realloc keeps bytes", test_realloc_keeps_bytes },
	{ "smallest class", test_smallest_class },
	{ "sizes do not overlap", test_sizes_do_not_overlap },
	{ "nodes fill a cache line", test_nodes_fill_a_line },
	{ "freed blocks are reused", test_freed_blocks_are_reused },
	{ "free on another thread", test_free_on_another_thread },
	{ "documents round trip", test_documents_round_trip },
	{ "large document prints", test_large_document_prints },
	CU_TEST_INFO_NULL,
};
