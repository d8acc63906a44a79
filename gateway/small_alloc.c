/*
 * small_alloc.c: size-classed slabs for the small blocks of cJSON, OpenSSL
 * and libevent (see small_alloc.h for why).
 *
 * The slabs are carved, 64 KiB at a time, out of one range of address space
 * reserved at the first need and committed slab by slab.  A block therefore
 * needs no header: whether a pointer is the pool's is a range check, and its
 * size class is written once at the start of its 64 KiB-aligned slab, which
 * serves that class only.  A 64-byte cJSON node fills one cache line, not
 * parts of two, and a 24-byte OpenSSL BIGNUM takes 24 bytes, not glibc's 32.
 *
 * Free blocks wait on per-thread stacks of pointers, one per class, not on
 * lists linked through the blocks: popping a list has to load the block to
 * find the next one, and a block that went cold in a Bundle of thousands of
 * nodes makes every allocation wait for memory (perf put the pool's two
 * functions at 11.5 % of a $summary's gateway CPU that way).  A stack is a
 * few hot cache lines, and neither malloc nor free touches the block.
 *
 * A free pushes the block onto the calling thread's stack, whichever thread
 * allocated it.  When the range is used up, or cannot be reserved or
 * committed, blocks come from malloc; a pointer outside the range goes back
 * to free().  Slabs are never returned to the system.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <cjson/cJSON.h>
#include <event2/event.h>
#include <openssl/crypto.h>

#include "gateway/gw.h"
#include "gateway/small_alloc.h"

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

#define SLAB_BYTES ((size_t)64 * 1024)
/* Address space only: 4 GiB of slabs is far beyond any working set (a
 * $summary's tree is a few hundred KiB), and costs nothing until used. */
#define RANGE_BYTES ((size_t)4 << 30)
/* The slab's class sits in its first cache line; blocks start after it,
 * so a 64-byte class is line-aligned. */
#define SLAB_HEAD 64u

/*
 * Classes 8 bytes apart up to 64, where nearly all of OpenSSL's blocks of an
 * idle connection lie (24- and 32-byte BIGNUMs and ASN.1 strings, 56-byte
 * locks); 32 apart from 256 to 1024, where a connection's other
 * long-lived blocks lie (the AES-GCM contexts, the
 * session, the stream and connection state).  Kept out of glibc's heap,
 * those no longer pin the holes that each handshake's freed buffers leave
 * between them (4.4 MB of free heap at 10,000 idle connections).
 *
 * Alignment: blocks start 64 bytes into a 64 KiB slab, so a class that is a
 * multiple of 16 hands out 16-aligned blocks, and the others (8, 24, 40, 56)
 * 8-aligned ones.  That is all malloc owes: an object needing 16 has a size
 * that is a multiple of 16, and every such request is served by a class
 * that is one.
 */
static const uint32_t class_size[] = {8, 16, 24, 32, 40, 48, 56, 64, 80, 96,
    112, 128, 160, 192, 224, 256,
    288, 320, 352, 384, 416, 448, 480, 512, 544, 576, 608, 640, 672, 704,
    736, 768, 800, 832, 864, 896, 928, 960, 992, 1024};
#define NCLASSES (sizeof(class_size) / sizeof(class_size[0]))
#define FIRST_32_APART 16 /* the class of 288 */
_Static_assert(GW_SMALL_MAX == 1024, "the largest class is the limit");

struct slab_head {
	uint32_t class;
};

/* Free blocks of one class on one thread. */
struct free_stack {
	void **v;
	size_t n, cap;
};

static _Thread_local struct free_stack free_blocks[NCLASSES];
static _Thread_local char *bump[NCLASSES], *bump_end[NCLASSES];

static pthread_once_t range_once = PTHREAD_ONCE_INIT;
/* Until a range is reserved (or when none could be), a start that no user
 * pointer lies within RANGE_BYTES of, so that the range check in
 * gw_small_free needs no test of its own for "no range". */
#define NO_RANGE ((char *)(UINTPTR_MAX - RANGE_BYTES))
static char *range = NO_RANGE;
static atomic_size_t range_used;

/* The smallest class of at least 8 * u bytes, for u = 0..32: a table
 * because cJSON allocates thousands of blocks per answer
 * (test_small_alloc.c checks class_of against class_size). */
static const unsigned char class_of_units[33] = {
	0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 8, 9, 9, 10, 10, 11, 11,
	12, 12, 12, 12, 13, 13, 13, 13, 14, 14, 14, 14, 15, 15, 15, 15,
};

/* The smallest class holding n bytes; n <= GW_SMALL_MAX. */
static unsigned
class_of(size_t n)
{
	if (n <= 256)
		return class_of_units[(n + 7) / 8];
	return FIRST_32_APART + (unsigned)((n - 257) / 32);
}

unsigned
gw_small_alloc_class_bytes(size_t n)
{
	return n <= GW_SMALL_MAX ? class_size[class_of(n)] : 0;
}

static void
reserve_range(void)
{
	/* One slab more than the range, to align its start to a slab. */
	void *p = mmap(NULL, RANGE_BYTES + SLAB_BYTES, PROT_NONE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED) {
		gw_warn("small_alloc: no address range for slabs (%s); small "
			"blocks come from malloc", strerror(errno));
		return;
	}
	range = (char *)(((uintptr_t)p + SLAB_BYTES - 1) & ~(SLAB_BYTES - 1));
}

/* The slow paths are kept out of line, so that the fast ones save no
 * registers. */

/* A block of class c from a new slab, which becomes this thread's to
 * carve; from malloc when the range is used up or the system refuses the
 * memory. */
static __attribute__((noinline)) void *
carve_new_slab(unsigned c, size_t n)
{
	size_t off;
	char *s;

	pthread_once(&range_once, reserve_range);
	if (range == NO_RANGE)
		return malloc(n);
	off = atomic_fetch_add(&range_used, SLAB_BYTES);
	if (off > RANGE_BYTES - SLAB_BYTES)
		return malloc(n); /* range_used stays past the end */
	s = range + off;
	if (mprotect(s, SLAB_BYTES, PROT_READ | PROT_WRITE) != 0)
		return malloc(n);
	((struct slab_head *)s)->class = c;
	bump[c] = s + SLAB_HEAD + class_size[c];
	bump_end[c] = s + SLAB_BYTES;
	return s + SLAB_HEAD;
}

/* At a thread's exit, its stacks go; the blocks on them stay in their
 * slabs, unused (the gateway's threads live as long as the process). */
static pthread_key_t stacks_key;
static pthread_once_t stacks_once = PTHREAD_ONCE_INIT;

static void
free_stacks(void *unused)
{
	(void)unused;
	for (size_t c = 0; c < NCLASSES; c++) {
		free(free_blocks[c].v);
		free_blocks[c] = (struct free_stack){0};
	}
}

static void
stacks_key_create(void)
{
	if (pthread_key_create(&stacks_key, free_stacks) != 0)
		gw_fatal("pthread_key_create failed");
}

/* Push p onto a full stack, growing it first. */
static __attribute__((noinline)) void
push_grow(struct free_stack *f, void *p)
{
	size_t cap = f->cap > 0 ? 2 * f->cap : 256;
	void **v = realloc(f->v, cap * sizeof(*v));

	/* Out of memory for the stack: the block is lost, which is better
	 * than failing a free. */
	if (v == NULL)
		return;
	if (f->v == NULL) {
		pthread_once(&stacks_once, stacks_key_create);
		pthread_setspecific(stacks_key, free_blocks);
	}
	f->v = v;
	f->cap = cap;
	f->v[f->n++] = p;
}

/*
 * Both entry points are kept whole (noinline): split for inlining into this
 * file's callers, each cost every cJSON block a jump more (1.2 % more
 * instructions per $summary).
 */
__attribute__((noinline)) void *
gw_small_malloc(size_t n)
{
	struct free_stack *f;
	unsigned c;
	char *p;

	/* cJSON's nodes and most strings first, with one test */
	if (n <= 256)
		c = class_of_units[(n + 7) / 8];
	else if (n <= GW_SMALL_MAX)
		c = class_of(n);
	else
		return malloc(n);
	f = &free_blocks[c];
	if (f->n > 0)
		return f->v[--f->n];
	p = bump[c];
	if ((size_t)(bump_end[c] - p) < class_size[c])
		return carve_new_slab(c, n);
	bump[c] = p + class_size[c];
	return p;
}

/* NULL, and every block from malloc, lies outside the range. */
static bool
in_range(const void *p)
{
	return (uintptr_t)p - (uintptr_t)range < RANGE_BYTES;
}

/* The class of a block in the range, read from the start of its slab. */
static uint32_t
class_at(const void *p)
{
	uint32_t c = ((const struct slab_head *)((uintptr_t)p &
	    ~(SLAB_BYTES - 1)))->class;

	if (c >= NCLASSES)
		gw_fatal("small_alloc: %p was not allocated by the pool", p);
	return c;
}

__attribute__((noinline)) void
gw_small_free(void *p)
{
	struct free_stack *f;

	if (!in_range(p)) {
		free(p);
		return;
	}
	f = &free_blocks[class_at(p)];
	if (f->n == f->cap) {
		push_grow(f, p);
		return;
	}
	f->v[f->n++] = p;
}

void *
gw_small_realloc(void *p, size_t n)
{
	size_t have;
	void *q;

	if (p == NULL)
		return gw_small_malloc(n);
	if (n == 0) {
		gw_small_free(p);
		return NULL;
	}
	if (!in_range(p))
		return realloc(p, n);
	/* A block never shrinks: it holds at most 1 kB, and OpenSSL shrinks
	 * only buffers it is about to grow again. */
	have = class_size[class_at(p)];
	if (n <= have)
		return p;
	q = gw_small_malloc(n);
	if (q == NULL)
		return NULL;
	memcpy(q, p, have);
	gw_small_free(p);
	return q;
}

/* OpenSSL's memory functions also pass the caller's file and line. */
static void *
tls_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	return gw_small_malloc(n);
}

static void *
tls_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	return gw_small_realloc(p, n);
}

static void
tls_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	gw_small_free(p);
}

size_t
gw_small_alloc_slab_bytes(void)
{
	size_t used = atomic_load(&range_used);

	return used < RANGE_BYTES ? used : RANGE_BYTES;
}

bool
gw_small_alloc_init(void)
{
	cJSON_Hooks hooks = {gw_small_malloc, gw_small_free};

	if (!POOL_ENABLED)
		return false;
	cJSON_InitHooks(&hooks);
	/* Refused once OpenSSL has allocated anything: then it keeps malloc,
	 * which costs memory, not correctness. */
	if (CRYPTO_set_mem_functions(tls_malloc, tls_realloc, tls_free) != 1)
		gw_warn("small_alloc: OpenSSL had already allocated; its "
			"blocks stay with malloc");
	/* libevent's evbuffers and events: an idle connection gives its
	 * buffers back (gw_stream_release_buffers), and in glibc's heap the
	 * 144-byte holes they left stayed empty, since nothing else of a
	 * connection is that small. */
	event_set_mem_functions(gw_small_malloc, gw_small_realloc,
	    gw_small_free);
	return true;
}
