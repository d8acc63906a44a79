/*
 * gw.c: the helpers every part of fhirgw shares.
 *
 * Allocation wrappers abort on exhaustion (the policy is written down in
 * gw.h) and never return NULL, not even for a zero size.  The string
 * helpers refuse to guess: gw_strlcpy says when it truncated and
 * gw_parse_long takes a whole decimal number or nothing.  gw_log writes one
 * line per call to stderr with a UTC timestamp; control characters in the
 * message are replaced so that client data cannot forge log lines.
 */
#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/gw.h"

#define GW_LOG_LINE_MAX 2048

static void
oom(size_t n)
{
	/* No allocation here: stderr is unbuffered. */
	fprintf(stderr, "fhirgw: out of memory allocating %zu bytes\n", n);
	abort();
}

/*
 * Allocate n bytes.  Never returns NULL: aborts when memory is exhausted.
 * A zero size allocates one byte so that the result is a unique pointer.
 * Caller frees.
 */
void *
gw_malloc(size_t n)
{
	void *p;

	if (n == 0)
		n = 1;
	if ((p = malloc(n)) == NULL)
		oom(n);
	return p;
}

/*
 * Allocate a zeroed array of n elements of size bytes.  Aborts on
 * exhaustion and on a product that does not fit in size_t.  Caller frees.
 */
void *
gw_calloc(size_t n, size_t size)
{
	void *p;

	if (n == 0 || size == 0)
		n = size = 1;
	if ((p = calloc(n, size)) == NULL)
		oom(size != 0 && n > SIZE_MAX / size ? SIZE_MAX : n * size);
	return p;
}

/*
 * Resize p (which may be NULL) to n bytes.  Aborts on exhaustion; p is then
 * not freed, but the process is gone anyway.  Takes p, caller frees the
 * result.
 */
void *
gw_realloc(void *p, size_t n)
{
	void *np;

	if (n == 0)
		n = 1;
	if ((np = realloc(p, n)) == NULL)
		oom(n);
	return np;
}

/* Copy the string s.  Aborts on exhaustion.  Borrows s, caller frees. */
char *
gw_strdup(const char *s)
{
	size_t n = strlen(s);
	char *p;

	p = gw_malloc(n + 1);
	memcpy(p, s, n + 1);
	return p;
}

/*
 * Copy at most n bytes of s (less if s ends first) and NUL-terminate.
 * Aborts on exhaustion.  Borrows s, caller frees.
 */
char *
gw_strndup(const char *s, size_t n)
{
	char *p;

	n = strnlen(s, n);
	p = gw_malloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/*
 * Wipe n bytes at p so that the compiler cannot drop the stores, then free
 * p.  NULL is allowed.  Takes p.
 */
void
gw_free_zero(void *p, size_t n)
{
	if (p == NULL)
		return;
	explicit_bzero(p, n);
	free(p);
}

/*
 * Copy the string src into dst, which holds dstsz bytes, and always
 * NUL-terminate when dstsz > 0.  Returns GW_OK, or GW_ERR when src did not
 * fit (dst then holds a truncated copy) or dstsz is 0.  Borrows both.
 */
/* Blocks below this come from the heap and are reused; above, mmap. */
#define HEAP_MMAP_THRESHOLD (4 * 1024 * 1024)
/* Free memory at the top of the heap kept for the next buffers. */
#define HEAP_TRIM_THRESHOLD (8 * 1024 * 1024)

void
gw_heap_init(void)
{
#ifdef __GLIBC__
	/* Setting either also turns glibc's own adjustment off, so the
	 * thresholds no longer depend on what was freed first. */
	mallopt(M_MMAP_THRESHOLD, HEAP_MMAP_THRESHOLD);
	mallopt(M_TRIM_THRESHOLD, HEAP_TRIM_THRESHOLD);
#endif
}

char *
gw_read_file(const char *path, size_t max, size_t *len_out)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t len = 0, cap = 4096;
	int err = 0;

	if (f == NULL)
		return NULL;
	buf = gw_malloc(cap + 1);
	for (;;) {
		size_t n;

		if (len == cap) {
			if (cap > max) {
				err = EFBIG;
				break;
			}
			cap *= 2;
			buf = gw_realloc(buf, cap + 1);
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (err == 0 && ferror(f))
		err = EIO;
	if (err == 0 && len > max)
		err = EFBIG;
	fclose(f);
	if (err != 0) {
		gw_free_zero(buf, cap + 1);
		errno = err;
		return NULL;
	}
	buf[len] = '\0';
	if (len_out != NULL)
		*len_out = len;
	return buf;
}

char *
gw_fmt_digits(char *out, unsigned long long v, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		out[i] = (char)('0' + v % 10);
		v /= 10;
	}
	out[width] = '\0';
	return out + width;
}

char *
gw_fmt_int(char *out, long long v)
{
	/* Through unsigned: -LLONG_MIN does not fit a long long. */
	unsigned long long u = v < 0 ? -(unsigned long long)v :
	    (unsigned long long)v;
	char digits[GW_INT_TEXT];
	int n = 0;

	do {
		digits[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*out++ = '-';
	while (n > 0)
		*out++ = digits[--n];
	*out = '\0';
	return out;
}

int
gw_hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
gw_concat(char *dst, size_t dstsz, ...)
{
	va_list ap;
	const char *part;
	size_t len = 0;
	int rc = GW_OK;

	if (dstsz == 0)
		return GW_ERR;
	va_start(ap, dstsz);
	while ((part = va_arg(ap, const char *)) != NULL) {
		size_t n = strlen(part);

		if (n > dstsz - 1 - len) {
			n = dstsz - 1 - len;
			rc = GW_ERR;
		}
		memcpy(dst + len, part, n);
		len += n;
	}
	va_end(ap);
	dst[len] = '\0';
	return rc;
}

uint64_t
gw_fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

int
gw_strlcpy(char *dst, const char *src, size_t dstsz)
{
	size_t n;

	if (dstsz == 0)
		return GW_ERR;
	n = strlen(src);
	if (n < dstsz) {
		memcpy(dst, src, n + 1);
		return GW_OK;
	}
	memcpy(dst, src, dstsz - 1);
	dst[dstsz - 1] = '\0';
	return GW_ERR;
}

/*
 * Parse s as a whole decimal number: an optional '-' and one or more
 * digits, nothing before or after (strtol alone would accept leading
 * space, a '+' and trailing junk).  The result must lie in [min, max].
 * Returns GW_OK with *out set, or GW_ERR with *out untouched.
 */
int
gw_parse_long(const char *s, long min, long max, long *out)
{
	const char *digits;
	char *end;
	long v;

	if (s == NULL)
		return GW_ERR;
	digits = s[0] == '-' ? s + 1 : s;
	if (*digits < '0' || *digits > '9')
		return GW_ERR;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return GW_ERR;
	if (v < min || v > max)
		return GW_ERR;
	*out = v;
	return GW_OK;
}

/* Print msg (which is modified) as one log line at level. */
static void
log_line(const char *level, char *msg)
{
	char stamp[sizeof("YYYY-MM-DDTHH:MM:SSZ")];
	struct tm tm;
	time_t now;
	size_t i;

	now = time(NULL);
	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		gw_strlcpy(stamp, "0000-00-00T00:00:00Z", sizeof(stamp));
	/* A newline from a client would start a forged log line. */
	for (i = 0; msg[i] != '\0'; i++) {
		unsigned char c = (unsigned char)msg[i];

		if (c < 0x20 || c == 0x7f)
			msg[i] = '?';
	}
	/* One stdio call, so that lines from threads do not interleave. */
	fprintf(stderr, "%s %s %s\n", stamp, level, msg);
}

/*
 * Write "<UTC ISO 8601 time> <level> <message>" as one line to stderr.
 * Messages longer than GW_LOG_LINE_MAX are truncated.
 */
void
gw_log(const char *level, const char *fmt, ...)
{
	char msg[GW_LOG_LINE_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		gw_strlcpy(msg, "(unformattable log message)", sizeof(msg));
	log_line(level, msg);
}

/*
 * Log the message at level "fatal" and exit(1).  Start-up only: the
 * request path never ends the process.
 */
void
gw_fatal(const char *fmt, ...)
{
	char msg[GW_LOG_LINE_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		gw_strlcpy(msg, "(unformattable log message)", sizeof(msg));
	log_line("fatal", msg);
	exit(1);
}
