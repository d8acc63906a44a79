/*
 * json_alloc.c: size-classed free lists for cJSON's small blocks (see
 * json_alloc.h for why).
 *
 * Every block carries an 8-byte header before the pointer handed out: the
 * size class, or LARGE for a block that came from malloc.  A free pushes the
 * block onto the calling thread's list for its class, whichever thread
 * allocated it; a thread that runs out carves from its current slab, and a
 * new slab is recorded in a global list under a mutex (rare: once per
 * 64 KiB), so that memory stays reachable and can be counted.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "gateway/gw.h"
#include "gateway/json_alloc.h"

#if defined(__SANITIZE_ADDRESS__)
#define POOL_ENABLED 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define POOL_ENABLED 0
#endif
#endif
#ifndef POOL_ENABLED
#define POOL_ENABLED 1
#endif

#define HEADER 8u
#define SLAB_BYTES (64u * 1024u)
#define LARGE UINT64_MAX

/* Block sizes including the header; cJSON's nodes are 64 bytes. */
static const uint32_t class_size[] = {16, 24, 32, 48, 64, 80, 96, 128, 160,
    192, 256};
#define NCLASSES (sizeof(class_size) / sizeof(class_size[0]))

struct free_block {
	struct free_block *next;
};

struct slab {
	struct slab *next;
	/* the blocks follow, 8-byte aligned */
};

static _Thread_local struct free_block *free_list[NCLASSES];
static _Thread_local char *bump, *bump_end;

static pthread_mutex_t slabs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct slab *slabs;
static size_t slab_bytes;

/* The smallest class of at least 8 * u bytes, for u = 0..32: a table
 * because cJSON allocates thousands of blocks per answer
 * (test_json_alloc.c checks it against class_size). */
static const unsigned char class_of_units[33] = {
	0, 0, 0, 1, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 7, 7,
	8, 8, 8, 8, 9, 9, 9, 9, 10, 10, 10, 10, 10, 10, 10, 10,
};
_Static_assert(GW_JSON_SMALL_MAX + HEADER <= 8 * 32,
    "class_of_units must cover every small block");

/* The smallest class holding n bytes plus the header; n <= SMALL_MAX. */
static unsigned
class_of(size_t n)
{
	return class_of_units[(n + HEADER + 7) / 8];
}

unsigned
gw_json_alloc_class_bytes(size_t n)
{
	return n <= GW_JSON_SMALL_MAX ? class_size[class_of(n)] : 0;
}

static char *
carve(uint32_t size)
{
	char *p;

	if (bump == NULL || (size_t)(bump_end - bump) < size) {
		struct slab *s = gw_malloc(SLAB_BYTES);

		pthread_mutex_lock(&slabs_lock);
		s->next = slabs;
		slabs = s;
		slab_bytes += SLAB_BYTES;
		pthread_mutex_unlock(&slabs_lock);
		/* The tail of the old slab (under 256 bytes) is given up. */
		bump = (char *)s + sizeof(*s);
		bump_end = (char *)s + SLAB_BYTES;
	}
	p = bump;
	bump += size;
	return p;
}

void *
gw_json_malloc(size_t n)
{
	uint64_t *h;

	if (n <= GW_JSON_SMALL_MAX) {
		unsigned c = class_of(n);
		struct free_block *b = free_list[c];

		if (b != NULL) {
			free_list[c] = b->next;
			h = (uint64_t *)b;
		} else {
			h = (uint64_t *)carve(class_size[c]);
		}
		*h = c;
		return h + 1;
	}
	if (n > SIZE_MAX - HEADER)
		return NULL;
	h = malloc(n + HEADER);
	if (h == NULL)
		return NULL;
	*h = LARGE;
	return h + 1;
}

void
gw_json_free(void *p)
{
	uint64_t *h, c;
	struct free_block *b;

	if (p == NULL)
		return;
	h = (uint64_t *)p - 1;
	if (*h == LARGE) {
		free(h);
		return;
	}
	c = *h;
	if (c >= NCLASSES) /* not ours: a malloc'd pointer, or corruption */
		gw_fatal("gw_json_free: %p was not allocated by the pool", p);
	b = (struct free_block *)h; /* the link overwrites the header */
	b->next = free_list[c];
	free_list[c] = b;
}

size_t
gw_json_alloc_slab_bytes(void)
{
	size_t n;

	pthread_mutex_lock(&slabs_lock);
	n = slab_bytes;
	pthread_mutex_unlock(&slabs_lock);
	return n;
}

bool
gw_json_alloc_init(void)
{
	cJSON_Hooks hooks = {gw_json_malloc, gw_json_free};

	if (!POOL_ENABLED)
		return false;
	cJSON_InitHooks(&hooks);
	return true;
}
