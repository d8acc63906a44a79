/*
 * fuzz_http.c: libFuzzer target for the HTTP request parser.
 *
 * The input is treated as a connection's bytes: requests are parsed one
 * after another, as a pipelining client would send them, under the
 * production limits and under small ones that make every limit reachable.
 * Besides the sanitizers' checks, the target asserts the parser's
 * promises: what DONE returns is consistent and within the limits, NEED_MORE
 * and INVALID leave nothing behind, and a prefix of the input is never
 * judged differently from the whole (refused only if the whole is, done
 * only with the same length).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/gw.h"
#include "gateway/http.h"

/* Inputs up to this size also get the prefix checks. */
#define FUZZ_PREFIX_MAX 4096
#define FUZZ_PREFIX_CUTS 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct gw_http_limits production_limits = {
	.max_request_line = 8192,
	.max_header_bytes = 32768,
	.max_body = 1 << 20,
};

static const struct gw_http_limits small_limits = {
	.max_request_line = 40,
	.max_header_bytes = 80,
	.max_body = 16,
};

static void
require(int cond)
{
	if (!cond)
		abort();
}

static int
is_zeroed(const struct gw_http_request *req)
{
	size_t i;

	for (i = 0; i < GW_HTTP_MAX_HEADERS; i++)
		if (req->headers[i].name != NULL ||
		    req->headers[i].value != NULL)
			return 0;
	return req->method == 0 && req->method_name == NULL &&
	    req->target == NULL && req->path == NULL && req->query == NULL &&
	    req->minor_version == 0 && req->nheaders == 0 &&
	    req->body == NULL && req->body_len == 0 && !req->keep_alive &&
	    req->storage == NULL;
}

/* Read every string of a parsed request, so that ASan sees each byte. */
static void
check_request(const struct gw_http_request *req,
    const struct gw_http_limits *lim, size_t consumed, size_t avail)
{
	size_t i, target_len;

	require(consumed > 0 && consumed <= avail);
	require(req->storage != NULL);
	require(req->method <= GW_HTTP_OTHER);
	require(req->minor_version == 0 || req->minor_version == 1);
	require(strlen(req->method_name) > 0);
	target_len = strlen(req->target);
	require(target_len > 0 && req->target[0] == '/');
	require(target_len + 2 < lim->max_request_line);
	require(strncmp(req->path, req->target, strlen(req->path)) == 0);
	require(strlen(req->path) + (strchr(req->target, '?') != NULL) +
		strlen(req->query) ==
	    target_len);
	require(req->nheaders <= GW_HTTP_MAX_HEADERS);
	for (i = 0; i < req->nheaders; i++) {
		require(strlen(req->headers[i].name) > 0);
		(void)strlen(req->headers[i].value);
		require(gw_http_header(req, req->headers[i].name) != NULL);
		require(gw_http_header_count(req, req->headers[i].name) > 0);
	}
	require(gw_http_header_count(req, "Content-Length") <= 1);
	require(gw_http_header_count(req, "Transfer-Encoding") <= 1);
	require(gw_http_header_count(req, "Host") <= 1);
	require(req->body_len <= lim->max_body);
	require((req->body == NULL) == (req->body_len == 0));
	if (req->body != NULL)
		require(req->body[req->body_len] == '\0');
}

/* Parse buf[0..len) as pipelined requests until one is not DONE. */
static void
parse_all(const char *buf, size_t len, const struct gw_http_limits *lim)
{
	struct gw_http_request req;
	enum gw_http_parse_result r;
	size_t off = 0, consumed;
	int status;

	while (off < len) {
		r = gw_http_parse(buf + off, len - off, lim, &req, &consumed,
		    &status);
		if (r != GW_HTTP_DONE) {
			require(is_zeroed(&req) && consumed == 0);
			if (r == GW_HTTP_INVALID)
				require(status == 400 || status == 413 ||
				    status == 414 || status == 431 ||
				    status == 505);
			else
				require(r == GW_HTTP_NEED_MORE && status == 0);
			return;
		}
		check_request(&req, lim, consumed, len - off);
		gw_http_request_free(&req);
		require(is_zeroed(&req));
		off += consumed;
	}
}

/* A prefix is never judged differently from the whole. */
static void
check_prefixes(const char *buf, size_t len, const struct gw_http_limits *lim)
{
	struct gw_http_request req;
	enum gw_http_parse_result whole, part;
	size_t whole_consumed, consumed, i, cut;
	int status;

	whole = gw_http_parse(buf, len, lim, &req, &whole_consumed, &status);
	gw_http_request_free(&req);
	for (i = 0; i < FUZZ_PREFIX_CUTS; i++) {
		cut = len * i / FUZZ_PREFIX_CUTS + i % 2;
		if (cut >= len)
			continue;
		part = gw_http_parse(buf, cut, lim, &req, &consumed, &status);
		gw_http_request_free(&req);
		if (part == GW_HTTP_INVALID)
			require(whole == GW_HTTP_INVALID);
		else if (part == GW_HTTP_DONE)
			require(whole == GW_HTTP_DONE &&
			    consumed == whole_consumed);
	}
}

/*
 * libFuzzer entry point: parse the input as a pipelined connection under
 * several limits.  Always returns 0; a broken promise aborts.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct gw_http_limits derived;

	parse_all(buf, size, &production_limits);
	parse_all(buf, size, &small_limits);

	/* Limits that move with the input, to land on every boundary. */
	derived.max_request_line = size % 67;
	derived.max_header_bytes = size % 131;
	derived.max_body = size % 23;
	parse_all(buf, size, &derived);

	if (size <= FUZZ_PREFIX_MAX) {
		check_prefixes(buf, size, &production_limits);
		check_prefixes(buf, size, &small_limits);
	}
	return 0;
}
