/*
 * small_alloc.h: the allocator behind every cJSON tree and every OpenSSL
 * and libevent object.
 *
 * A $summary builds, prints and frees a few thousand small cJSON nodes and
 * strings.  Under glibc's malloc those frees fill the fastbins, and the next
 * request for more than 1 KB (an evbuffer chain, a TLS record, libpq's
 * result) consolidates them all: perf showed malloc and free at 28 % of a
 * worker's cycles.  Blocks up to GW_SMALL_MAX bytes therefore come from
 * slabs of one size class each, with per-thread stacks of free blocks,
 * never returned to the system; larger ones go to malloc.  Any thread may
 * free any block.
 *
 * OpenSSL and libevent allocate through it too.  An idle mTLS connection
 * holds about 140 OpenSSL blocks, most of 24 to 56 bytes (the client
 * certificate's decoded names and key, locks), and glibc puts an 8-byte
 * header on each and rounds it up to 16: about 1.4 kB per connection that
 * the pool's header-less classes, 8 bytes apart, do not spend.  Its blocks
 * of 0.3 to 1 kB (cipher contexts, the session, the connection's own
 * state) come from the pool as well, so that glibc's heap holds little
 * more than the SSL object and each handshake's passing buffers, and the
 * holes those buffers leave are filled again by the next handshake's.
 *
 * Sanitizer builds keep plain malloc and free, so that AddressSanitizer
 * still sees every use after free and every overflow in our cJSON code.
 */
#ifndef GW_SMALL_ALLOC_H
#define GW_SMALL_ALLOC_H

#include <stdbool.h>
#include <stddef.h>

/* Requests up to this many bytes are served from the pool. */
#define GW_SMALL_MAX 1024

/*
 * Route cJSON's, OpenSSL's and libevent's allocations through the pool (or
 * leave malloc in place in sanitizer builds).  Call once, first thing in
 * main(), before any cJSON, OpenSSL or libevent call: a block allocated by
 * one allocator must never reach the other's free.  Returns whether the
 * pool is in use.
 */
bool gw_small_alloc_init(void);

/* The pool's own entry points (what the hooks call); exposed for the unit
 * tests.  gw_small_free(NULL) does nothing.  gw_small_realloc behaves as
 * realloc, except that a size of 0 frees the block and returns NULL (as
 * OpenSSL's own CRYPTO_realloc does). */
void *gw_small_malloc(size_t n);
void gw_small_free(void *p);
void *gw_small_realloc(void *p, size_t n);

/* Bytes held in slabs by the pool in this process (for /metrics). */
size_t gw_small_alloc_slab_bytes(void);

/* The block size that serves a request of n bytes, 0 for a request the
 * pool hands to malloc; for the tests. */
unsigned gw_small_alloc_class_bytes(size_t n);

#endif
