/*
 * json_alloc.h: the allocator behind every cJSON tree.
 *
 * A $summary builds, prints and frees a few thousand small cJSON nodes and
 * strings.  Under glibc's malloc those frees fill the fastbins, and the next
 * request for more than 1 KB (an evbuffer chain, a TLS record, libpq's
 * result) consolidates them all: perf showed malloc and free at 28 % of a
 * worker's cycles.  Blocks up to GW_JSON_SMALL_MAX bytes therefore come from
 * slabs of one size class each, with per-thread stacks of free blocks,
 * never returned to the system; larger ones go to malloc.  Any thread may
 * free any block.
 *
 * Sanitizer builds keep plain malloc and free, so that AddressSanitizer
 * still sees every use after free and every overflow in our cJSON code.
 */
#ifndef GW_JSON_ALLOC_H
#define GW_JSON_ALLOC_H

#include <stdbool.h>
#include <stddef.h>

/* Requests up to this many bytes are served from the pool. */
#define GW_JSON_SMALL_MAX 256

/*
 * Route cJSON's allocations through the pool (or leave malloc in place in
 * sanitizer builds).  Call once, first thing in main(), before any cJSON
 * call: a block allocated by one allocator must never reach the other's
 * free.  Returns whether the pool is in use.
 */
bool gw_json_alloc_init(void);

/* The pool's own entry points (what cJSON's hooks call); exposed for the
 * unit tests.  gw_json_free(NULL) does nothing. */
void *gw_json_malloc(size_t n);
void gw_json_free(void *p);

/* Bytes held in slabs by the pool in this process (for /metrics). */
size_t gw_json_alloc_slab_bytes(void);

/* The block size that serves a request of n bytes, 0 for a request the
 * pool hands to malloc; for the tests. */
unsigned gw_json_alloc_class_bytes(size_t n);

#endif
