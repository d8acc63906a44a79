/*
 * json_scan.h: the next byte that a JSON string cannot hold as it is -- a
 * control character, the quote or the backslash -- found 16 bytes at a
 * time.  The JSON writer (json_write.c) looks for it in NUL-terminated
 * strings, the row reader (row.c) in a text with an end; byte by byte, both
 * scans cost about a cycle per byte of every string of a $summary.
 *
 * Both load whole aligned 16-byte blocks, as glibc's strlen does: a block
 * may hold bytes before the start and after the end (the NUL, or the end
 * given), never bytes of another page.  That is not a read AddressSanitizer
 * could tell from an overflow, so these functions are left out of its
 * instrumentation; unit.json_write and unit.row check every byte value at
 * every alignment against a byte-by-byte scan.
 */
#ifndef GW_JSON_SCAN_H
#define GW_JSON_SCAN_H

#include <stdint.h>

#ifdef __SSE2__
#include <emmintrin.h>

/* The special bytes of the aligned block at p, one bit each. */
__attribute__((no_sanitize_address)) static inline unsigned
gw_json_special_bits(const void *p)
{
	const __m128i v = _mm_load_si128((const __m128i *)p);
	/* min(v, 0x1f) == v exactly for the bytes 0x00-0x1f. */
	const __m128i hit = _mm_or_si128(
	    _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
		_mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
	    _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v));

	return (unsigned)_mm_movemask_epi8(hit);
}

/* The first special byte at or after s; the NUL ends every string. */
__attribute__((no_sanitize_address)) static inline const unsigned char *
gw_json_next_special(const unsigned char *s)
{
	uintptr_t skip = (uintptr_t)s & 15;
	const unsigned char *b = s - skip;
	unsigned bits = gw_json_special_bits(b) & (~0u << skip);

	while (bits == 0) {
		b += 16;
		bits = gw_json_special_bits(b);
	}
	return b + __builtin_ctz(bits);
}

/* The first special byte in [s, end), or end if there is none. */
__attribute__((no_sanitize_address)) static inline const char *
gw_json_next_special_before(const char *s, const char *end)
{
	uintptr_t skip = (uintptr_t)s & 15;
	const char *b = s - skip;
	unsigned bits;

	if (s >= end)
		return end;
	bits = gw_json_special_bits(b) & (~0u << skip);
	while (bits == 0) {
		b += 16;
		if (b >= end)
			return end;
		bits = gw_json_special_bits(b);
	}
	b += __builtin_ctz(bits);
	return b < end ? b : end;
}
#else
/* Without SSE2: the same bytes, one at a time. */
static inline int
gw_json_special(unsigned char c)
{
	return c < 0x20 || c == '"' || c == '\\';
}

static inline const unsigned char *
gw_json_next_special(const unsigned char *s)
{
	while (!gw_json_special(*s))
		s++;
	return s;
}

static inline const char *
gw_json_next_special_before(const char *s, const char *end)
{
	while (s < end && !gw_json_special((unsigned char)*s))
		s++;
	return s;
}
#endif

#endif
