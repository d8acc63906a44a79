/*
 * gw.h: what every part of fhirgw shares: return codes, the allocation
 * policy and small string helpers.
 *
 * Allocation policy: gw_malloc() and friends abort the process when memory
 * is exhausted.  A gateway that cannot allocate a few hundred bytes cannot
 * write an audit record or an error either, so failing one request while
 * pretending to be healthy is worse than a clean restart by the supervisor.
 * Sizes a client controls are bounded before anything is allocated.
 */
#ifndef GW_H
#define GW_H

#include <stddef.h>
#include <stdint.h>

#define GW_OK 0
#define GW_ERR -1
#define GW_AGAIN -2

#define GW_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Allocate or abort; never return NULL. */
void *gw_malloc(size_t n);
void *gw_calloc(size_t n, size_t size);
void *gw_realloc(void *p, size_t n);
char *gw_strdup(const char *s);
char *gw_strndup(const char *s, size_t n);

/* Wipe n bytes (not optimised away) and free; for buffers that held
 * patient data or keys. */
void gw_free_zero(void *p, size_t n);

/* Copy src into dst of size dstsz, always NUL-terminating.  Returns GW_ERR
 * if src did not fit (dst then holds a truncated copy). */
int gw_strlcpy(char *dst, const char *src, size_t dstsz);

/* FNV-1a of a NUL-terminated string: for hash tables whose keys are
 * already well mixed or not attacker-chosen (node key hashes, consent
 * cache keys). */
uint64_t gw_fnv1a(const char *s);

/*
 * Fix glibc's heap thresholds for this process; call first in main().
 * Buffers of a few hundred kB (a page of registry rows in libpq, an NDJSON
 * batch) are allocated and freed again and again.  By default glibc maps
 * each one of 128 kB or more with mmap and unmaps it on free, so every
 * time its pages fault in afresh, unless something earlier happened to
 * free a larger mapped block (glibc then raises the threshold on its own).
 * That accident once decided a third of the export worker's CPU time
 * (docs/benchmarks.md).  A no-op where the C library is not glibc.
 */
void gw_heap_init(void);

/*
 * The whole file at path, NUL-terminated (caller frees), its length in
 * *len when len is not NULL; or NULL with errno set: from fopen or fread,
 * or EFBIG when the file holds more than max bytes.  The buffer is zeroed
 * before it is freed on failure (key files are read with this).
 */
char *gw_read_file(const char *path, size_t max, size_t *len);

/*
 * Concatenate the strings that follow dstsz, up to a NULL, into dst: what
 * snprintf(dst, dstsz, "%s%s...") does, without parsing a format (a
 * $summary builds thousands of references and URLs).  GW_OK, or GW_ERR
 * when the result did not fit (dst then holds a truncated copy).
 */
int gw_concat(char *dst, size_t dstsz, ...) __attribute__((sentinel));

/* Room for any long long in decimal, with its sign and the NUL. */
#define GW_INT_TEXT 21

/*
 * v in decimal into out (at least GW_INT_TEXT bytes), NUL-terminated;
 * returns the end (the NUL).  What snprintf("%lld") writes, without
 * parsing a format: a $summary formats thousands of ids and dates.
 */
char *gw_fmt_int(char *out, long long v);

/* v in exactly width digits (1-20), zero-padded on the left, into out
 * (width + 1 bytes), NUL-terminated; returns the end.  Only the last width
 * digits of a larger v are written, as a fixed-width field must be. */
char *gw_fmt_digits(char *out, unsigned long long v, int width);

/* The value of hexadecimal digit c (either case), or -1. */
int gw_hex_value(int c);

/* Parse a whole decimal string into *out within [min, max]; GW_ERR on any
 * junk, overflow or empty input. */
int gw_parse_long(const char *s, long min, long max, long *out);

/* Log a line to stderr with a level prefix; printf-style. */
void gw_log(const char *level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define gw_info(...) gw_log("info", __VA_ARGS__)
#define gw_warn(...) gw_log("warn", __VA_ARGS__)
#define gw_error(...) gw_log("error", __VA_ARGS__)

/* Print a message and exit(1): start-up only, never on the request path. */
void gw_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
