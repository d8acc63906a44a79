/*
 * test_http.c: the "http" suite: the request parser and the response
 * writer.
 *
 * Each refusal the parser promises is a row with the exact status it must
 * answer.  Valid requests are also fed one byte short at every length, to
 * show that a prefix is never refused and never allocates.  Inputs are
 * written as literals with their length, so that they may hold NULs.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <event2/buffer.h>

#include "gateway/gw.h"
#include "gateway/http.h"

/* A string literal as the (pointer, length) pair the parser takes. */
#define LIT(s) (s), (sizeof(s) - 1)

/* Assert cond, reporting what as the failed condition. */
#define CHECK_CASE(cond, what)                                               \
	CU_assertImplementation((cond) ? CU_TRUE : CU_FALSE, __LINE__,       \
	    (what), __FILE__, "", CU_FALSE)

struct bad_case {
	const char *what;
	const char *input;
	size_t len;
	int status;
};

extern CU_TestInfo test_http_cases[];

static const struct gw_http_limits test_limits = {
	.max_request_line = 256,
	.max_header_bytes = 2048,
	.max_body = 1024,
};

static bool
is_zeroed(const struct gw_http_request *req)
{
	size_t i;

	for (i = 0; i < GW_HTTP_MAX_HEADERS; i++)
		if (req->headers[i].name != NULL ||
		    req->headers[i].value != NULL)
			return false;
	return req->method == 0 && req->method_name == NULL &&
	    req->target == NULL && req->path == NULL && req->query == NULL &&
	    req->minor_version == 0 && req->nheaders == 0 &&
	    req->body == NULL && req->body_len == 0 && !req->keep_alive &&
	    req->storage == NULL;
}

/* Parse with lim; the result must be INVALID.  Returns the status or -1. */
static int
refusal_lim(const char *buf, size_t len, const struct gw_http_limits *lim)
{
	struct gw_http_request req;
	size_t consumed = 99;
	int status = 0;

	if (gw_http_parse(buf, len, lim, &req, &consumed, &status) !=
	    GW_HTTP_INVALID) {
		gw_http_request_free(&req);
		return -1;
	}
	if (!is_zeroed(&req) || consumed != 0)
		return -2;
	return status;
}

static int
refusal(const char *buf, size_t len)
{
	return refusal_lim(buf, len, &test_limits);
}

static void
check_bad_cases(const struct bad_case *cases, size_t n)
{
	char what[160];
	size_t i;
	int got;

	for (i = 0; i < n; i++) {
		got = refusal(cases[i].input, cases[i].len);
		snprintf(what, sizeof(what), "%s: want %d, got %d",
		    cases[i].what, cases[i].status, got);
		CHECK_CASE(got == cases[i].status, what);
	}
}

/* Parse a request that must be accepted whole; fills *req. */
static bool
accepted_lim(const char *buf, size_t len, const struct gw_http_limits *lim,
    struct gw_http_request *req)
{
	size_t consumed = 0;
	int status = -1;

	if (gw_http_parse(buf, len, lim, req, &consumed, &status) !=
	    GW_HTTP_DONE)
		return false;
	return consumed == len && status == 0;
}

static bool
accepted(const char *buf, size_t len, struct gw_http_request *req)
{
	return accepted_lim(buf, len, &test_limits, req);
}

static void
test_simple_get(void)
{
	static const char in[] = "GET /Patient/123?_format=json HTTP/1.1\r\n"
				 "Host: gw.example\r\n"
				 "Accept: application/fhir+json\r\n"
				 "\r\n";
	struct gw_http_request req;
	size_t consumed = 0;
	int status = -1;

	CU_ASSERT_EQUAL_FATAL(gw_http_parse(in, sizeof(in) - 1, &test_limits,
				  &req, &consumed, &status),
	    GW_HTTP_DONE);
	CU_ASSERT_EQUAL(consumed, sizeof(in) - 1);
	CU_ASSERT_EQUAL(status, 0);
	CU_ASSERT_EQUAL(req.method, GW_HTTP_GET);
	CU_ASSERT_STRING_EQUAL(req.method_name, "GET");
	CU_ASSERT_STRING_EQUAL(req.target, "/Patient/123?_format=json");
	CU_ASSERT_STRING_EQUAL(req.path, "/Patient/123");
	CU_ASSERT_STRING_EQUAL(req.query, "_format=json");
	CU_ASSERT_EQUAL(req.minor_version, 1);
	CU_ASSERT_EQUAL_FATAL(req.nheaders, 2);
	CU_ASSERT_STRING_EQUAL(req.headers[0].name, "Host");
	CU_ASSERT_STRING_EQUAL(req.headers[0].value, "gw.example");
	CU_ASSERT_STRING_EQUAL(req.headers[1].name, "Accept");
	CU_ASSERT_STRING_EQUAL(req.headers[1].value, "application/fhir+json");
	CU_ASSERT_PTR_NULL(req.body);
	CU_ASSERT_EQUAL(req.body_len, 0);
	CU_ASSERT_TRUE(req.keep_alive);
	CU_ASSERT_PTR_NOT_NULL(req.storage);
	gw_http_request_free(&req);
	CU_ASSERT_TRUE(is_zeroed(&req));
	/* Freeing a zeroed request is harmless. */
	gw_http_request_free(&req);
	CU_ASSERT_TRUE(is_zeroed(&req));
}

static void
test_target_split(void)
{
	struct gw_http_request req;

	CU_ASSERT_FATAL(accepted(LIT("GET /a/b HTTP/1.1\r\nHost: x\r\n\r\n"),
	    &req));
	CU_ASSERT_STRING_EQUAL(req.path, "/a/b");
	CU_ASSERT_STRING_EQUAL(req.query, "");
	gw_http_request_free(&req);

	CU_ASSERT_FATAL(accepted(LIT("GET /a? HTTP/1.1\r\nHost: x\r\n\r\n"),
	    &req));
	CU_ASSERT_STRING_EQUAL(req.target, "/a?");
	CU_ASSERT_STRING_EQUAL(req.path, "/a");
	CU_ASSERT_STRING_EQUAL(req.query, "");
	gw_http_request_free(&req);

	/* Nothing is decoded; only the first '?' splits. */
	CU_ASSERT_FATAL(accepted(LIT("GET /%41%2F?x=%20&y=?z HTTP/1.1\r\n"
				     "Host: x\r\n\r\n"),
	    &req));
	CU_ASSERT_STRING_EQUAL(req.target, "/%41%2F?x=%20&y=?z");
	CU_ASSERT_STRING_EQUAL(req.path, "/%41%2F");
	CU_ASSERT_STRING_EQUAL(req.query, "x=%20&y=?z");
	gw_http_request_free(&req);
}

static void
test_methods(void)
{
	static const struct {
		const char *line;
		enum gw_http_method method;
		const char *name;
	} cases[] = {
		{ "GET / HTTP/1.1\r\n", GW_HTTP_GET, "GET" },
		{ "HEAD / HTTP/1.1\r\n", GW_HTTP_HEAD, "HEAD" },
		{ "POST / HTTP/1.1\r\n", GW_HTTP_POST, "POST" },
		{ "PUT / HTTP/1.1\r\n", GW_HTTP_PUT, "PUT" },
		{ "DELETE / HTTP/1.1\r\n", GW_HTTP_DELETE, "DELETE" },
		{ "OPTIONS / HTTP/1.1\r\n", GW_HTTP_OPTIONS, "OPTIONS" },
		{ "PATCH / HTTP/1.1\r\n", GW_HTTP_PATCH, "PATCH" },
		{ "PROPFIND / HTTP/1.1\r\n", GW_HTTP_OTHER, "PROPFIND" },
		{ "get / HTTP/1.1\r\n", GW_HTTP_OTHER, "get" },
		{ "GETS / HTTP/1.1\r\n", GW_HTTP_OTHER, "GETS" },
		{ "X-!#$%&'*+.^_`|~9 / HTTP/1.1\r\n", GW_HTTP_OTHER,
		    "X-!#$%&'*+.^_`|~9" },
	};
	struct gw_http_request req;
	char buf[128];
	size_t i;
	int n;

	for (i = 0; i < GW_ARRAY_LEN(cases); i++) {
		n = snprintf(buf, sizeof(buf), "%sHost: x\r\n\r\n",
		    cases[i].line);
		CU_ASSERT_FATAL(n > 0 && (size_t)n < sizeof(buf));
		CHECK_CASE(accepted(buf, (size_t)n, &req), cases[i].name);
		if (req.storage == NULL)
			continue;
		CHECK_CASE(req.method == cases[i].method, cases[i].name);
		CHECK_CASE(strcmp(req.method_name, cases[i].name) == 0,
		    cases[i].name);
		gw_http_request_free(&req);
	}
}

static void
test_pipelined(void)
{
	static const char in[] = "GET /one HTTP/1.1\r\nHost: x\r\n\r\n"
				 "POST /two HTTP/1.1\r\nHost: x\r\n"
				 "Content-Length: 3\r\n\r\nabc"
				 "GET /three HTTP/1.1\r\n";
	struct gw_http_request req;
	size_t consumed, off = 0;
	int status;

	CU_ASSERT_EQUAL_FATAL(gw_http_parse(in, sizeof(in) - 1, &test_limits,
				  &req, &consumed, &status),
	    GW_HTTP_DONE);
	CU_ASSERT_EQUAL(consumed, 30);
	CU_ASSERT_STRING_EQUAL(req.path, "/one");
	gw_http_request_free(&req);
	off += consumed;

	CU_ASSERT_EQUAL_FATAL(gw_http_parse(in + off, sizeof(in) - 1 - off,
				  &test_limits, &req, &consumed, &status),
	    GW_HTTP_DONE);
	CU_ASSERT_EQUAL(consumed, 53);
	CU_ASSERT_STRING_EQUAL(req.path, "/two");
	CU_ASSERT_EQUAL(req.body_len, 3);
	CU_ASSERT_STRING_EQUAL(req.body, "abc");
	gw_http_request_free(&req);
	off += consumed;

	CU_ASSERT_EQUAL(gw_http_parse(in + off, sizeof(in) - 1 - off,
			    &test_limits, &req, &consumed, &status),
	    GW_HTTP_NEED_MORE);
	CU_ASSERT_EQUAL(consumed, 0);
	CU_ASSERT_TRUE(is_zeroed(&req));
}

static void
test_need_more_every_split(void)
{
	static const char *const valid[] = {
		"GET /a?b=c HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n",
		"GET / HTTP/1.0\r\n\r\n",
		"POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
		("POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
		 "\r\n5\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n"
		 "0\r\nX-Trailer: t\r\n\r\n"),
		("PUT /q HTTP/1.1\r\nHost:x\r\nTransfer-Encoding: chunked\r\n"
		 "\r\n0\r\n\r\n"),
	};
	static const char next[] = "GET /next HTTP/1.1\r\n";
	struct gw_http_request req;
	char buf[512], what[64];
	size_t i, n, cut, consumed;
	int status;

	for (i = 0; i < GW_ARRAY_LEN(valid); i++) {
		n = strlen(valid[i]);
		CU_ASSERT_FATAL(n + sizeof(next) <= sizeof(buf));
		memcpy(buf, valid[i], n);
		memcpy(buf + n, next, sizeof(next));
		for (cut = 0; cut < n; cut++) {
			snprintf(what, sizeof(what), "request %zu cut at %zu",
			    i, cut);
			status = -1;
			consumed = 99;
			CHECK_CASE(gw_http_parse(buf, cut, &test_limits, &req,
				       &consumed, &status) == GW_HTTP_NEED_MORE,
			    what);
			CHECK_CASE(is_zeroed(&req) && consumed == 0 &&
				status == 0,
			    what);
			gw_http_request_free(&req);
		}
		/* Whole, and whole with the next request behind it. */
		snprintf(what, sizeof(what), "request %zu whole", i);
		CHECK_CASE(gw_http_parse(buf, n, &test_limits, &req, &consumed,
			       &status) == GW_HTTP_DONE && consumed == n,
		    what);
		gw_http_request_free(&req);
		CHECK_CASE(gw_http_parse(buf, n + sizeof(next) - 1,
			       &test_limits, &req, &consumed,
			       &status) == GW_HTTP_DONE && consumed == n,
		    what);
		gw_http_request_free(&req);
	}
}

static void
test_bad_request_line(void)
{
	static const struct bad_case cases[] = {
		{ "empty line first", LIT("\r\nGET / HTTP/1.1\r\n"), 400 },
		{ "leading space", LIT(" GET / HTTP/1.1\r\n"), 400 },
		{ "separator in method", LIT("GE(T / HTTP/1.1\r\n"), 400 },
		{ "NUL in method", LIT("G\0T / HTTP/1.1\r\n"), 400 },
		{ "two spaces", LIT("GET  / HTTP/1.1\r\n"), 400 },
		{ "space before version", LIT("GET /  HTTP/1.1\r\n"), 400 },
		{ "tab separator", LIT("GET\t/ HTTP/1.1\r\n"), 400 },
		{ "trailing space", LIT("GET / HTTP/1.1 \r\n"), 400 },
		{ "no target", LIT("GET HTTP/1.1\r\n"), 400 },
		{ "no version", LIT("GET /\r\n"), 400 },
		{ "method only", LIT("GET\r\n"), 400 },
		{ "asterisk form", LIT("OPTIONS * HTTP/1.1\r\n"), 400 },
		{ "absolute form", LIT("GET http://a/ HTTP/1.1\r\n"), 400 },
		{ "authority form", LIT("CONNECT a:443 HTTP/1.1\r\n"), 400 },
		{ "fragment", LIT("GET /a#b HTTP/1.1\r\n"), 400 },
		{ "CTL in target", LIT("GET /a\x01 HTTP/1.1\r\n"), 400 },
		{ "DEL in target", LIT("GET /a\x7f HTTP/1.1\r\n"), 400 },
		{ "non-ASCII target", LIT("GET /\xc3\xa4 HTTP/1.1\r\n"), 400 },
		{ "NUL in target", LIT("GET /\0 HTTP/1.1\r\n"), 400 },
		{ "lower-case name", LIT("GET / http/1.1\r\n"), 400 },
		{ "short version", LIT("GET / HTTP/1\r\n"), 400 },
		{ "long version", LIT("GET / HTTP/1.10\r\n"), 400 },
		{ "version junk", LIT("GET / HTTP/1.1x\r\n"), 400 },
		{ "bad version digit", LIT("GET / HTTP/1.x\r\n"), 400 },
		{ "no version dot", LIT("GET / HTTP/11\r\n"), 400 },
		{ "HTTP/2.0", LIT("GET / HTTP/2.0\r\n\r\n"), 505 },
		{ "HTTP/1.2", LIT("GET / HTTP/1.2\r\nHost: x\r\n\r\n"), 505 },
		{ "HTTP/0.9", LIT("GET / HTTP/0.9\r\n"), 505 },
		{ "HTTP/3.1", LIT("GET / HTTP/3.1\r\n"), 505 },
		{ "bare LF", LIT("GET / HTTP/1.1\nHost: x\n\n"), 400 },
		{ "CR without LF",
		    LIT("GET / HTTP/1.1\rHost: x\r\n\r\n"), 400 },
		{ "early junk", LIT("\x16\x03\x01"), 400 },
		{ "early bad target", LIT("GET x"), 400 },
		{ "early bad version", LIT("GET / HTTX"), 400 },
	};

	check_bad_cases(cases, GW_ARRAY_LEN(cases));
}

static void
test_bad_headers(void)
{
	static const struct bad_case cases[] = {
		{ "bare LF", LIT("GET / HTTP/1.1\r\nHost: x\n\r\n"), 400 },
		{ "bare LF at end",
		    LIT("GET / HTTP/1.1\r\nHost: x\r\n\n"), 400 },
		{ "CR without LF",
		    LIT("GET / HTTP/1.1\r\nHost: x\rA: b\r\n\r\n"), 400 },
		{ "CR in value", LIT("GET / HTTP/1.1\r\nHost: x\r\rA: b\r\n"),
		    400 },
		{ "obs-fold SP",
		    LIT("GET / HTTP/1.1\r\nHost: x\r\nA: b\r\n c\r\n\r\n"),
		    400 },
		{ "obs-fold HT",
		    LIT("GET / HTTP/1.1\r\nHost: x\r\nA: b\r\n\tc\r\n\r\n"),
		    400 },
		{ "space before colon",
		    LIT("GET / HTTP/1.1\r\nHost : x\r\n\r\n"), 400 },
		{ "tab before colon",
		    LIT("GET / HTTP/1.1\r\nHost\t: x\r\n\r\n"),
		    400 },
		{ "space in name", LIT("GET / HTTP/1.1\r\nHo st: x\r\n\r\n"),
		    400 },
		{ "empty name", LIT("GET / HTTP/1.1\r\n: x\r\n\r\n"), 400 },
		{ "no colon", LIT("GET / HTTP/1.1\r\nHost\r\n\r\n"), 400 },
		{ "separator in name",
		    LIT("GET / HTTP/1.1\r\nHo(st: x\r\n\r\n"), 400 },
		{ "non-ASCII name",
		    LIT("GET / HTTP/1.1\r\nH\xc3\xa4: x\r\n\r\n"),
		    400 },
		{ "NUL in value", LIT("GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n"),
		    400 },
		{ "CTL in value", LIT("GET / HTTP/1.1\r\nHost: a\x01\r\n\r\n"),
		    400 },
		{ "ESC in value", LIT("GET / HTTP/1.1\r\nHost: a\x1b\r\n\r\n"),
		    400 },
		{ "DEL in value", LIT("GET / HTTP/1.1\r\nHost: a\x7f\r\n\r\n"),
		    400 },
		{ "early bad name", LIT("GET / HTTP/1.1\r\nHo st"), 400 },
		{ "early NUL in value",
		    LIT("GET / HTTP/1.1\r\nHost: \0"), 400 },
	};
	struct gw_http_request req;

	check_bad_cases(cases, GW_ARRAY_LEN(cases));

	/* HT and SP inside a value and obs-text are fine; OWS is trimmed. */
	CU_ASSERT_FATAL(accepted(LIT("GET / HTTP/1.1\r\nHost:x\r\n"
				     "A: \t a\tb c \t \r\n"
				     "B: caf\xc3\xa9\r\n"
				     "C:\r\n"
				     "D:   \r\n\r\n"),
	    &req));
	CU_ASSERT_EQUAL_FATAL(req.nheaders, 5);
	CU_ASSERT_STRING_EQUAL(req.headers[0].value, "x");
	CU_ASSERT_STRING_EQUAL(req.headers[1].value, "a\tb c");
	CU_ASSERT_STRING_EQUAL(req.headers[2].value, "caf\xc3\xa9");
	CU_ASSERT_STRING_EQUAL(req.headers[3].value, "");
	CU_ASSERT_STRING_EQUAL(req.headers[4].name, "D");
	CU_ASSERT_STRING_EQUAL(req.headers[4].value, "");
	gw_http_request_free(&req);
}

static void
test_host(void)
{
	static const struct bad_case cases[] = {
		{ "1.1 without Host", LIT("GET / HTTP/1.1\r\nA: b\r\n\r\n"),
		    400 },
		{ "two Host",
		    LIT("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"),
		    400 },
		{ "two Host, mixed case",
		    LIT("GET / HTTP/1.1\r\nHost: a\r\nhOST: b\r\n\r\n"), 400 },
		{ "1.0 with two Host",
		    LIT("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n"), 400 },
	};
	struct gw_http_request req;

	check_bad_cases(cases, GW_ARRAY_LEN(cases));
	CU_ASSERT_FATAL(accepted(LIT("GET / HTTP/1.0\r\n\r\n"), &req));
	CU_ASSERT_EQUAL(req.minor_version, 0);
	CU_ASSERT_EQUAL(req.nheaders, 0);
	gw_http_request_free(&req);
	CU_ASSERT_FATAL(accepted(LIT("GET / HTTP/1.1\r\nhost: a\r\n\r\n"),
	    &req));
	CU_ASSERT_STRING_EQUAL(gw_http_header(&req, "Host"), "a");
	gw_http_request_free(&req);
}

static void
test_content_length(void)
{
	static const struct bad_case cases[] = {
		{ "list",
		    LIT("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n"
			"\r\nhello"),
		    400 },
		{ "duplicate equal",
		    LIT("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
			"content-length: 5\r\n\r\nhello"),
		    400 },
		{ "duplicate different",
		    LIT("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
			"Content-Length: 6\r\n\r\nhello!"),
		    400 },
		{ "plus sign",
		    LIT("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n"
			"\r\nhello"),
		    400 },
		{ "minus sign",
		    LIT("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n"
			"\r\n"),
		    400 },
		{ "empty",
		    LIT("POST / HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n"
			"\r\n"),
		    400 },
		{ "hex",
		    LIT("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x5\r\n"
			"\r\nhello"),
		    400 },
		{ "inner space",
		    LIT("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1 2\r\n"
			"\r\n"),
		    400 },
		{ "fraction",
		    LIT("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5.0\r\n"
			"\r\nhello"),
		    400 },
		{ "overflow",
		    LIT("POST / HTTP/1.1\r\nHost: x\r\n"
			"Content-Length: 99999999999999999999999999\r\n\r\n"),
		    400 },
		{ "over max_body, no body sent",
		    LIT("POST / HTTP/1.1\r\nHost: x\r\n"
			"Content-Length: 1025\r\n\r\n"),
		    413 },
		{ "huge but representable",
		    LIT("POST / HTTP/1.1\r\nHost: x\r\n"
			"Content-Length: 1000000000000\r\n\r\n"),
		    413 },
	};
	struct gw_http_request req;

	check_bad_cases(cases, GW_ARRAY_LEN(cases));

	/* OWS around the number is not part of the value. */
	CU_ASSERT_FATAL(accepted(LIT("POST / HTTP/1.1\r\nHost: x\r\n"
				     "Content-Length: \t 005 \r\n\r\nhello"),
	    &req));
	CU_ASSERT_EQUAL(req.body_len, 5);
	CU_ASSERT_STRING_EQUAL(req.body, "hello");
	gw_http_request_free(&req);

	/* A zero length is no body; what follows is the next request. */
	CU_ASSERT_FATAL(accepted(LIT("POST / HTTP/1.1\r\nHost: x\r\n"
				     "Content-Length: 0\r\n\r\n"),
	    &req));
	CU_ASSERT_PTR_NULL(req.body);
	CU_ASSERT_EQUAL(req.body_len, 0);
	gw_http_request_free(&req);

	/* The body may hold anything, NULs included. */
	CU_ASSERT_FATAL(accepted(LIT("PUT / HTTP/1.1\r\nHost: x\r\n"
				     "Content-Length: 4\r\n\r\na\0\r\n"),
	    &req));
	CU_ASSERT_EQUAL(req.body_len, 4);
	CU_ASSERT_EQUAL(memcmp(req.body, "a\0\r\n", 5), 0);
	gw_http_request_free(&req);
}

static void
test_transfer_encoding(void)
{
	static const struct bad_case cases[] = {
		{ "gzip",
		    LIT("POST / HTTP/1.1\r\nHost: x\r\n"
			"Transfer-Encoding: gzip\r\n\r\n"),
		    400 },
		{ "identity",
		    LIT("POST / HTTP/1.1\r\nHost: x\r\n"
			"Transfer-Encoding: identity\r\n\r\n"),
		    400 },
		{ "chunked twice in a list",
		    LIT("POST / HTTP/1.1\r\nHost: x\r\n"
			"Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n"),
		    400 },
		{ "gzip, chunked",
		    LIT("POST / HTTP/1.1\r\nHost: x\r\n"
			"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"),
		    400 },
		{ "chunked with parameter",
		    LIT("POST / HTTP/1.1\r\nHost: x\r\n"
			"Transfer-Encoding: chunked;q=1\r\n\r\n0\r\n\r\n"),
		    400 },
		{ "empty",
		    LIT("POST / HTTP/1.1\r\nHost: x\r\n"
			"Transfer-Encoding:\r\n\r\n"),
		    400 },
		{ "two headers",
		    LIT("POST / HTTP/1.1\r\nHost: x\r\n"
			"Transfer-Encoding: chunked\r\n"
			"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
		    400 },
		{ "with Content-Length",
		    LIT("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
			"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
		    400 },
		{ "with Content-Length after",
		    LIT("POST / HTTP/1.1\r\nHost: x\r\n"
			"Transfer-Encoding: chunked\r\nContent-Length: 0\r\n"
			"\r\n0\r\n\r\n"),
		    400 },
		{ "with an over-long Content-Length",
		    LIT("POST / HTTP/1.1\r\nHost: x\r\n"
			"Transfer-Encoding: chunked\r\n"
			"Content-Length: 99999\r\n\r\n"),
		    400 },
		{ "in HTTP/1.0",
		    LIT("POST / HTTP/1.0\r\n"
			"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
		    400 },
	};
	struct gw_http_request req;

	check_bad_cases(cases, GW_ARRAY_LEN(cases));
	CU_ASSERT_FATAL(accepted(LIT("POST / HTTP/1.1\r\nHost: x\r\n"
				     "transfer-encoding:  ChunKed \r\n\r\n"
				     "3\r\nabc\r\n0\r\n\r\n"),
	    &req));
	CU_ASSERT_EQUAL(req.body_len, 3);
	CU_ASSERT_STRING_EQUAL(req.body, "abc");
	gw_http_request_free(&req);
}

static void
test_chunked(void)
{
	static const char in[] = "POST /Bundle HTTP/1.1\r\nHost: x\r\n"
				 "Transfer-Encoding: chunked\r\n\r\n"
				 "4\r\nWiki\r\n"
				 "5\r\npedia\r\n"
				 "0E\r\n in\r\n\r\nchunks.\r\n"
				 "000\r\n"
				 "Expires: never\r\nX-Sum: 1\r\n\r\n"
				 "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	struct gw_http_request req;
	size_t consumed;
	int status;

	CU_ASSERT_EQUAL_FATAL(gw_http_parse(in, sizeof(in) - 1, &test_limits,
				  &req, &consumed, &status),
	    GW_HTTP_DONE);
	CU_ASSERT_EQUAL(consumed, sizeof(in) - 1 - 27);
	CU_ASSERT_EQUAL(req.body_len, 23);
	CU_ASSERT_STRING_EQUAL(req.body, "Wikipedia in\r\n\r\nchunks.");
	/* Trailers are dropped, not merged into the headers. */
	CU_ASSERT_EQUAL(req.nheaders, 2);
	CU_ASSERT_PTR_NULL(gw_http_header(&req, "Expires"));
	gw_http_request_free(&req);

	/* A lone last-chunk is an empty body. */
	CU_ASSERT_FATAL(accepted(LIT("POST / HTTP/1.1\r\nHost: x\r\n"
				     "Transfer-Encoding: chunked\r\n\r\n"
				     "0\r\n\r\n"),
	    &req));
	CU_ASSERT_PTR_NULL(req.body);
	CU_ASSERT_EQUAL(req.body_len, 0);
	gw_http_request_free(&req);

	/* Sixteen hex digits is the most a size may have. */
	CU_ASSERT_FATAL(accepted(LIT("POST / HTTP/1.1\r\nHost: x\r\n"
				     "Transfer-Encoding: chunked\r\n\r\n"
				     "0000000000000001\r\nz\r\n0\r\n\r\n"),
	    &req));
	CU_ASSERT_STRING_EQUAL(req.body, "z");
	gw_http_request_free(&req);
}

static void
test_chunked_bad(void)
{
#define CHUNKED_HEAD                                                         \
	"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
	static const struct bad_case cases[] = {
		{ "extension", LIT(CHUNKED_HEAD "3;a=b\r\nabc\r\n0\r\n\r\n"),
		    400 },
		{ "bare extension", LIT(CHUNKED_HEAD "3;\r\nabc\r\n0\r\n\r\n"),
		    400 },
		{ "space after size",
		    LIT(CHUNKED_HEAD "3 \r\nabc\r\n0\r\n\r\n"),
		    400 },
		{ "space before size",
		    LIT(CHUNKED_HEAD " 3\r\nabc\r\n0\r\n\r\n"), 400 },
		{ "plus sign",
		    LIT(CHUNKED_HEAD "+3\r\nabc\r\n0\r\n\r\n"), 400 },
		{ "0x prefix",
		    LIT(CHUNKED_HEAD "0x3\r\nabc\r\n0\r\n\r\n"), 400 },
		{ "no size", LIT(CHUNKED_HEAD "\r\nabc\r\n0\r\n\r\n"), 400 },
		{ "seventeen digits",
		    LIT(CHUNKED_HEAD "00000000000000001\r\na\r\n0\r\n\r\n"),
		    400 },
		{ "LF after size",
		    LIT(CHUNKED_HEAD "3\nabc\r\n0\r\n\r\n"), 400 },
		{ "CR alone after size",
		    LIT(CHUNKED_HEAD "3\rabc\r\n0\r\n\r\n"), 400 },
		{ "data longer than size",
		    LIT(CHUNKED_HEAD "3\r\nabcd\r\n0\r\n\r\n"), 400 },
		{ "LF after data",
		    LIT(CHUNKED_HEAD "3\r\nabc\n0\r\n\r\n"), 400 },
		{ "CR alone after data",
		    LIT(CHUNKED_HEAD "3\r\nabc\rx0\r\n\r\n"), 400 },
		{ "early junk after data", LIT(CHUNKED_HEAD "3\r\nabcX"), 400 },
		{ "trailer obs-fold",
		    LIT(CHUNKED_HEAD "0\r\nA: b\r\n c\r\n\r\n"), 400 },
		{ "trailer without colon", LIT(CHUNKED_HEAD "0\r\nAb\r\n\r\n"),
		    400 },
		{ "trailer bare LF", LIT(CHUNKED_HEAD "0\r\nA: b\n\r\n"), 400 },
		{ "final bare LF", LIT(CHUNKED_HEAD "0\r\n\n"), 400 },
		{ "one chunk over max_body", LIT(CHUNKED_HEAD "401\r\n"), 413 },
		{ "size over max_body before its line ends",
		    LIT(CHUNKED_HEAD "4000"), 413 },
		{ "huge size", LIT(CHUNKED_HEAD "ffffffffffffffff\r\n"), 413 },
	};
#undef CHUNKED_HEAD

	check_bad_cases(cases, GW_ARRAY_LEN(cases));
}

static void
test_keep_alive(void)
{
	static const struct {
		const char *in;
		bool keep_alive;
	} cases[] = {
		{ "GET / HTTP/1.1\r\nHost: x\r\n\r\n", true },
		{ "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		    false },
		{ "GET / HTTP/1.1\r\nHost: x\r\nConnection: CLOSE\r\n\r\n",
		    false },
		{ "GET / HTTP/1.1\r\nHost: x\r\n"
		  "Connection: keep-alive, Close\r\n\r\n",
		    false },
		{ "GET / HTTP/1.1\r\nHost: x\r\nConnection: ,,close ,\r\n\r\n",
		    false },
		{ "GET / HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\n"
		  "Connection: close\r\n\r\n",
		    false },
		{ "GET / HTTP/1.1\r\nHost: x\r\nConnection: closed\r\n\r\n",
		    true },
		{ "GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n",
		    true },
		{ "GET / HTTP/1.0\r\n\r\n", false },
		{ "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true },
		{ "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true },
		{ "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n",
		    false },
		{ "GET / HTTP/1.0\r\nConnection: keep-alives\r\n\r\n", false },
	};
	struct gw_http_request req;
	size_t i;

	for (i = 0; i < GW_ARRAY_LEN(cases); i++) {
		CHECK_CASE(accepted(cases[i].in, strlen(cases[i].in), &req),
		    cases[i].in);
		CHECK_CASE(req.keep_alive == cases[i].keep_alive, cases[i].in);
		gw_http_request_free(&req);
	}
}

static void
test_request_line_limit(void)
{
	/* The line "GET /aaaa HTTP/1.1\r\n" is 20 bytes. */
	static const struct gw_http_limits lim = {
		.max_request_line = 20,
		.max_header_bytes = 100,
		.max_body = 100,
	};
	struct gw_http_request req;
	size_t consumed;
	int status;

	CU_ASSERT_TRUE(accepted_lim(LIT("GET /aaaa HTTP/1.1\r\n"
					"Host: x\r\n\r\n"),
	    &lim, &req));
	gw_http_request_free(&req);
	CU_ASSERT_EQUAL(refusal_lim(LIT("GET /aaaaa HTTP/1.1\r\n"
					"Host: x\r\n\r\n"),
			    &lim),
	    414);
	/* 19 bytes and no CR yet: the line cannot end within 20 bytes. */
	CU_ASSERT_EQUAL(refusal_lim(LIT("GET /aaaaa HTTP/1.1"), &lim), 414);
	CU_ASSERT_EQUAL(refusal_lim(LIT("GET /aaaaaaaaaaaaaaaaaaaaaaaaa"),
			    &lim),
	    414);
	CU_ASSERT_EQUAL(refusal_lim(LIT("GET /aaaaa HTTP/1.1\r"), &lim), 414);
	/* 18 bytes and no CR: a CRLF would still fit. */
	CU_ASSERT_EQUAL(gw_http_parse(LIT("GET /aaaa HTTP/1.1"), &lim, &req,
			    &consumed, &status),
	    GW_HTTP_NEED_MORE);
	CU_ASSERT_EQUAL(gw_http_parse(LIT("GET /aaaa HTTP/1.1\r"), &lim, &req,
			    &consumed, &status),
	    GW_HTTP_NEED_MORE);
}

static void
test_header_bytes_limit(void)
{
	/* "Host: x\r\nA: 1234\r\n\r\n" is 20 bytes. */
	static const struct gw_http_limits lim = {
		.max_request_line = 100,
		.max_header_bytes = 20,
		.max_body = 100,
	};
	struct gw_http_request req;
	size_t consumed;
	int status;

	CU_ASSERT_TRUE(accepted_lim(LIT("GET / HTTP/1.1\r\nHost: x\r\n"
					"A: 1234\r\n\r\n"),
	    &lim, &req));
	gw_http_request_free(&req);
	CU_ASSERT_EQUAL(refusal_lim(LIT("GET / HTTP/1.1\r\nHost: x\r\n"
					"A: 12345\r\n\r\n"),
			    &lim),
	    431);
	/* Before the end is seen. */
	CU_ASSERT_EQUAL(refusal_lim(LIT("GET / HTTP/1.1\r\nHost: x\r\n"
					"A: 12345678901234567890"),
			    &lim),
	    431);
	CU_ASSERT_EQUAL(refusal_lim(LIT("GET / HTTP/1.1\r\nHost: x\r\n"
					"A: 12345\r\n"),
			    &lim),
	    431);
	CU_ASSERT_EQUAL(gw_http_parse(LIT("GET / HTTP/1.1\r\nHost: x\r\n"
					  "A: 1234\r\n"),
			    &lim, &req, &consumed, &status),
	    GW_HTTP_NEED_MORE);
	/* The request line does not count against the header block. */
	CU_ASSERT_TRUE(accepted_lim(LIT("GET /long/enough/to/matter "
					"HTTP/1.1\r\n"
					"Host: x\r\nA: 1234\r\n\r\n"),
	    &lim, &req));
	gw_http_request_free(&req);
}

static void
test_header_count_limit(void)
{
	static const struct gw_http_limits lim = {
		.max_request_line = 100,
		.max_header_bytes = 8192,
		.max_body = 100,
	};
	struct gw_http_request req;
	char buf[4096];
	size_t len, i;
	int n;

	len = (size_t)snprintf(buf, sizeof(buf),
	    "GET / HTTP/1.1\r\nHost: x\r\n");
	for (i = 1; i < GW_HTTP_MAX_HEADERS; i++) {
		n = snprintf(buf + len, sizeof(buf) - len, "X-%zu: v\r\n", i);
		CU_ASSERT_FATAL(n > 0 && (size_t)n < sizeof(buf) - len);
		len += (size_t)n;
	}
	CU_ASSERT_FATAL(len + 32 < sizeof(buf));
	snprintf(buf + len, sizeof(buf) - len, "\r\n");
	CU_ASSERT_FATAL(accepted_lim(buf, len + 2, &lim, &req));
	CU_ASSERT_EQUAL(req.nheaders, GW_HTTP_MAX_HEADERS);
	CU_ASSERT_STRING_EQUAL(req.headers[GW_HTTP_MAX_HEADERS - 1].name,
	    "X-63");
	gw_http_request_free(&req);

	snprintf(buf + len, sizeof(buf) - len, "X-64: v\r\n\r\n");
	CU_ASSERT_EQUAL(refusal_lim(buf, len + 11, &lim), 431);
}

static void
test_body_limit(void)
{
	static const struct gw_http_limits lim = {
		.max_request_line = 100,
		.max_header_bytes = 100,
		.max_body = 10,
	};
	struct gw_http_request req;

	CU_ASSERT_TRUE(accepted_lim(LIT("POST / HTTP/1.1\r\nHost: x\r\n"
					"Content-Length: 10\r\n\r\n0123456789"),
	    &lim, &req));
	CU_ASSERT_EQUAL(req.body_len, 10);
	gw_http_request_free(&req);
	CU_ASSERT_EQUAL(refusal_lim(LIT("POST / HTTP/1.1\r\nHost: x\r\n"
					"Content-Length: 11\r\n\r\n"),
			    &lim),
	    413);

	CU_ASSERT_TRUE(accepted_lim(LIT("POST / HTTP/1.1\r\nHost: x\r\n"
					"Transfer-Encoding: chunked\r\n\r\n"
					"3\r\n012\r\n7\r\n3456789\r\n"
					"0\r\n\r\n"),
	    &lim, &req));
	CU_ASSERT_EQUAL(req.body_len, 10);
	CU_ASSERT_STRING_EQUAL(req.body, "0123456789");
	gw_http_request_free(&req);
	CU_ASSERT_EQUAL(refusal_lim(LIT("POST / HTTP/1.1\r\nHost: x\r\n"
					"Transfer-Encoding: chunked\r\n\r\n"
					"3\r\n012\r\n8\r\n"),
			    &lim),
	    413);
	CU_ASSERT_EQUAL(refusal_lim(LIT("POST / HTTP/1.1\r\nHost: x\r\n"
					"Transfer-Encoding: chunked\r\n\r\n"
					"b\r\n"),
			    &lim),
	    413);
	CU_ASSERT_EQUAL(refusal_lim(LIT("POST / HTTP/1.1\r\nHost: x\r\n"
					"Transfer-Encoding: chunked\r\n\r\n"
					"00b"),
			    &lim),
	    413);
}

static void
test_trailer_limit(void)
{
	/* The header block and the trailer section are each 20 bytes. */
	static const struct gw_http_limits lim = {
		.max_request_line = 100,
		.max_header_bytes = 39,
		.max_body = 100,
	};
	struct gw_http_request req;

	CU_ASSERT_TRUE(accepted_lim(LIT("POST / HTTP/1.1\r\nHost: x\r\n"
					"Transfer-Encoding: chunked\r\n\r\n"
					"0\r\nA: 1234567890123456789012345678"
					"9012\r\n\r\n"),
	    &lim, &req));
	gw_http_request_free(&req);
	CU_ASSERT_EQUAL(refusal_lim(LIT("POST / HTTP/1.1\r\nHost: x\r\n"
					"Transfer-Encoding: chunked\r\n\r\n"
					"0\r\nA: 1234567890123456789012345678"
					"90123\r\n\r\n"),
			    &lim),
	    431);
}

static void
test_bodies_without_framing(void)
{
	static const char in[] = "POST / HTTP/1.1\r\nHost: x\r\n\r\n"
				 "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	struct gw_http_request req;
	size_t consumed;
	int status;

	/* No length and no coding: no body, the rest is the next request. */
	CU_ASSERT_EQUAL_FATAL(gw_http_parse(in, sizeof(in) - 1, &test_limits,
				  &req, &consumed, &status),
	    GW_HTTP_DONE);
	CU_ASSERT_EQUAL(consumed, 28);
	CU_ASSERT_PTR_NULL(req.body);
	gw_http_request_free(&req);

	/* A framed body on a GET is read like any other. */
	CU_ASSERT_FATAL(accepted(LIT("GET / HTTP/1.1\r\nHost: x\r\n"
				     "Content-Length: 2\r\n\r\n{}"),
	    &req));
	CU_ASSERT_EQUAL(req.method, GW_HTTP_GET);
	CU_ASSERT_STRING_EQUAL(req.body, "{}");
	gw_http_request_free(&req);
}

static void
test_header_lookup(void)
{
	struct gw_http_request req;

	CU_ASSERT_FATAL(accepted(LIT("GET / HTTP/1.1\r\nHost: x\r\n"
				     "Accept: a\r\nACCEPT: b\r\n"
				     "X-Forwarded-For: 1\r\n\r\n"),
	    &req));
	CU_ASSERT_STRING_EQUAL(gw_http_header(&req, "accept"), "a");
	CU_ASSERT_STRING_EQUAL(gw_http_header(&req, "Accept"), "a");
	CU_ASSERT_STRING_EQUAL(gw_http_header(&req, "x-forwarded-FOR"), "1");
	CU_ASSERT_PTR_NULL(gw_http_header(&req, "Accep"));
	CU_ASSERT_PTR_NULL(gw_http_header(&req, "Accepts"));
	CU_ASSERT_PTR_NULL(gw_http_header(&req, ""));
	CU_ASSERT_EQUAL(gw_http_header_count(&req, "aCCept"), 2);
	CU_ASSERT_EQUAL(gw_http_header_count(&req, "host"), 1);
	CU_ASSERT_EQUAL(gw_http_header_count(&req, "Cookie"), 0);
	gw_http_request_free(&req);
	CU_ASSERT_PTR_NULL(gw_http_header(&req, "Host"));
	CU_ASSERT_EQUAL(gw_http_header_count(&req, "Host"), 0);
}

static void
test_reason(void)
{
	CU_ASSERT_STRING_EQUAL(gw_http_reason(200), "OK");
	CU_ASSERT_STRING_EQUAL(gw_http_reason(404), "Not Found");
	CU_ASSERT_STRING_EQUAL(gw_http_reason(413), "Content Too Large");
	CU_ASSERT_STRING_EQUAL(gw_http_reason(431),
	    "Request Header Fields Too Large");
	CU_ASSERT_STRING_EQUAL(gw_http_reason(505),
	    "HTTP Version Not Supported");
	CU_ASSERT_STRING_EQUAL(gw_http_reason(299), "Unknown");
	CU_ASSERT_STRING_EQUAL(gw_http_reason(-1), "Unknown");
}

/* out's whole contents equal want (a literal); drains out. */
static bool
buffer_is(struct evbuffer *out, const char *want, size_t want_len)
{
	size_t len = evbuffer_get_length(out);
	bool same;

	same = len == want_len &&
	    (len == 0 || memcmp(evbuffer_pullup(out, -1), want, len) == 0);
	evbuffer_drain(out, len);
	return same;
}

static void
test_write_response(void)
{
	struct evbuffer *out;

	CU_ASSERT_PTR_NOT_NULL_FATAL(out = evbuffer_new());

	CU_ASSERT_EQUAL(gw_http_write_response(out, 200,
			    "application/fhir+json", NULL, "{}", 2, true),
	    GW_OK);
	CU_ASSERT_TRUE(buffer_is(out, LIT("HTTP/1.1 200 OK\r\n"
					  "Content-Type: "
					  "application/fhir+json\r\n"
					  "Content-Length: 2\r\n\r\n{}")));

	CU_ASSERT_EQUAL(gw_http_write_response(out, 404, NULL,
			    "X-A: 1\r\nX-B: 2\r\n", NULL, 0, false),
	    GW_OK);
	CU_ASSERT_TRUE(buffer_is(out, LIT("HTTP/1.1 404 Not Found\r\n"
					  "Content-Length: 0\r\n"
					  "Connection: close\r\n"
					  "X-A: 1\r\nX-B: 2\r\n\r\n")));

	CU_ASSERT_EQUAL(gw_http_write_response(out, 599, "text/plain", "",
			    "a\0b", 3, true),
	    GW_OK);
	CU_ASSERT_TRUE(buffer_is(out, LIT("HTTP/1.1 599 Unknown\r\n"
					  "Content-Type: text/plain\r\n"
					  "Content-Length: 3\r\n\r\na\0b")));

	/* No Content-Length where RFC 9110 forbids one. */
	CU_ASSERT_EQUAL(gw_http_write_response(out, 204, NULL, NULL, NULL, 0,
			    true),
	    GW_OK);
	CU_ASSERT_TRUE(buffer_is(out, LIT("HTTP/1.1 204 No Content\r\n\r\n")));
	CU_ASSERT_EQUAL(gw_http_write_response(out, 304, NULL,
			    "ETag: \"1\"\r\n", NULL, 0, false),
	    GW_OK);
	CU_ASSERT_TRUE(buffer_is(out, LIT("HTTP/1.1 304 Not Modified\r\n"
					  "Connection: close\r\n"
					  "ETag: \"1\"\r\n\r\n")));

	/* Refusals append nothing. */
	CU_ASSERT_EQUAL(gw_http_write_response(out, 200, "text/plain\r\nX: 1",
			    NULL, NULL, 0, true),
	    GW_ERR);
	CU_ASSERT_EQUAL(gw_http_write_response(out, 200, NULL, "X-A: 1", NULL,
			    0, true),
	    GW_ERR);
	CU_ASSERT_EQUAL(gw_http_write_response(out, 200, NULL, "X-A: 1\n",
			    NULL, 0, true),
	    GW_ERR);
	CU_ASSERT_EQUAL(gw_http_write_response(out, 200, NULL,
			    "X-A: 1\r\n\r\nbody", NULL, 0, true),
	    GW_ERR);
	CU_ASSERT_EQUAL(gw_http_write_response(out, 200, NULL, "\r\n", NULL, 0,
			    true),
	    GW_ERR);
	CU_ASSERT_EQUAL(gw_http_write_response(out, 200, NULL, "X\rY\r\n",
			    NULL, 0, true),
	    GW_ERR);
	CU_ASSERT_EQUAL(gw_http_write_response(out, 204, NULL, NULL, "x", 1,
			    true),
	    GW_ERR);
	CU_ASSERT_EQUAL(gw_http_write_response(out, 99, NULL, NULL, NULL, 0,
			    true),
	    GW_ERR);
	CU_ASSERT_EQUAL(gw_http_write_response(out, 1000, NULL, NULL, NULL, 0,
			    true),
	    GW_ERR);
	CU_ASSERT_EQUAL(gw_http_write_response(out, 200, NULL, NULL, NULL, 5,
			    true),
	    GW_ERR);
	CU_ASSERT_EQUAL(evbuffer_get_length(out), 0);

	evbuffer_free(out);
}

/* A body with room for its head, as gw_fhir_print_body makes one. */
static struct gw_body
body_with_room(size_t room, const char *text, size_t len)
{
	struct gw_body b = {.mem = malloc(room + len + 1), .room = room,
	    .len = len};

	memcpy(b.mem + room, text, len);
	b.mem[room + len] = '\0';
	return b;
}

/* The head goes into the body's room and the block into the output as it
 * is: one contiguous piece, the same bytes as the copying writer's.  A
 * head that does not fit takes the copy; a refusal frees the block too
 * (the sanitizer build would report a leak). */
static void
test_write_response_in_place(void)
{
	static const char want[] = "HTTP/1.1 200 OK\r\n"
				   "Content-Type: application/fhir+json\r\n"
				   "Content-Length: 2\r\n"
				   "X-Request-Id: 1\r\n\r\n{}";
	struct evbuffer *out;
	struct evbuffer_iovec v[2];
	struct gw_body b;

	CU_ASSERT_PTR_NOT_NULL_FATAL(out = evbuffer_new());

	b = body_with_room(GW_HTTP_HEAD_ROOM, "{}", 2);
	CU_ASSERT_EQUAL(gw_http_write_response_in_place(out, 200,
			    "application/fhir+json", "X-Request-Id: 1\r\n", b,
			    true),
	    GW_OK);
	CU_ASSERT_EQUAL(evbuffer_peek(out, -1, NULL, v, 2), 1);
	CU_ASSERT_PTR_EQUAL((char *)v[0].iov_base + v[0].iov_len,
	    b.mem + b.room + b.len);
	CU_ASSERT_TRUE(buffer_is(out, want, sizeof(want) - 1));

	/* Two bytes of room: no head fits, so it is copied. */
	b = body_with_room(2, "{}", 2);
	CU_ASSERT_EQUAL(gw_http_write_response_in_place(out, 200,
			    "application/fhir+json", "X-Request-Id: 1\r\n", b,
			    true),
	    GW_OK);
	CU_ASSERT_TRUE(buffer_is(out, want, sizeof(want) - 1));

	/* A head exactly as long as the room still fits. */
	b = body_with_room(sizeof(want) - 3, "{}", 2);
	CU_ASSERT_EQUAL(gw_http_write_response_in_place(out, 200,
			    "application/fhir+json", "X-Request-Id: 1\r\n", b,
			    true),
	    GW_OK);
	CU_ASSERT_EQUAL(evbuffer_peek(out, -1, NULL, v, 2), 1);
	CU_ASSERT_PTR_EQUAL(v[0].iov_base, b.mem);
	CU_ASSERT_TRUE(buffer_is(out, want, sizeof(want) - 1));

	/* No body at all. */
	CU_ASSERT_EQUAL(gw_http_write_response_in_place(out, 204, NULL, NULL,
			    gw_body_text(NULL, 0), true),
	    GW_OK);
	CU_ASSERT_TRUE(buffer_is(out, LIT("HTTP/1.1 204 No Content\r\n\r\n")));

	/* Refused: nothing appended, the block freed. */
	b = body_with_room(GW_HTTP_HEAD_ROOM, "x", 1);
	CU_ASSERT_EQUAL(gw_http_write_response_in_place(out, 204, NULL, NULL,
			    b, true),
	    GW_ERR);
	b = body_with_room(GW_HTTP_HEAD_ROOM, "x", 1);
	CU_ASSERT_EQUAL(gw_http_write_response_in_place(out, 200, NULL,
			    "X-A: 1", b, true),
	    GW_ERR);
	CU_ASSERT_EQUAL(evbuffer_get_length(out), 0);

	evbuffer_free(out);
}

/* --- responses (the relay reads a peer's answers) --------------------- */

static enum gw_http_parse_result
parse_resp(const char *raw, enum gw_http_method m, struct gw_http_response *r,
    size_t *used, int *st)
{
	static const struct gw_http_limits lim = { 8192, 8192, 1024 };

	return gw_http_parse_response(raw, strlen(raw), m, &lim, r, used, st);
}

static void
test_response_ok(void)
{
	static const char raw[] = "HTTP/1.1 200 OK\r\nContent-Type: "
	    "application/fhir+json\r\nContent-Length: 2\r\n\r\n{}"
	    "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
	struct gw_http_response r;
	size_t used;
	int st;

	CU_ASSERT_EQUAL(parse_resp(raw, GW_HTTP_GET, &r, &used, &st),
	    GW_HTTP_DONE);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_EQUAL(r.body_len, 2);
	CU_ASSERT_STRING_EQUAL(r.body, "{}");
	CU_ASSERT_TRUE(r.keep_alive);
	CU_ASSERT_STRING_EQUAL(gw_http_response_header(&r, "content-type"),
	    "application/fhir+json");
	gw_http_response_free(&r);
	CU_ASSERT_EQUAL(parse_resp(raw + used, GW_HTTP_GET, &r, &used, &st),
	    GW_HTTP_DONE);
	CU_ASSERT_EQUAL(r.status, 404);
	CU_ASSERT_PTR_NULL(r.body);
	gw_http_response_free(&r);
}

static void
test_response_chunked_and_empty(void)
{
	struct gw_http_response r;
	size_t used;
	int st;

	CU_ASSERT_EQUAL(parse_resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: "
	    "chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
	    GW_HTTP_GET, &r, &used, &st), GW_HTTP_DONE);
	CU_ASSERT_STRING_EQUAL(r.body, "abc");
	CU_ASSERT_FALSE(r.keep_alive);
	gw_http_response_free(&r);
	CU_ASSERT_EQUAL(parse_resp("HTTP/1.1 204 No Content\r\n\r\n",
	    GW_HTTP_DELETE, &r, &used, &st), GW_HTTP_DONE);
	CU_ASSERT_EQUAL(r.status, 204);
	gw_http_response_free(&r);
	CU_ASSERT_EQUAL(parse_resp("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
	    "\r\n", GW_HTTP_HEAD, &r, &used, &st), GW_HTTP_DONE);
	CU_ASSERT_PTR_NULL(r.body);
	gw_http_response_free(&r);
}

static void
test_response_refusals(void)
{
	static const char *const bad[] = {
		"HTTP/1.1 200 OK\r\n\r\nbody-until-close",
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1"
		"\r\n\r\nx",
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: "
		"chunked\r\n\r\n",
		"HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n",
		"HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 099 X\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"HTTP/1.1 200OK\r\nContent-Length: 0\r\n\r\n",
		"XTTP/1.1 200 OK\r\n",
	};
	struct gw_http_response r;
	size_t used;
	int st;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(parse_resp(bad[i], GW_HTTP_GET, &r, &used, &st),
		    GW_HTTP_INVALID);
		CU_ASSERT_PTR_NULL(r.storage);
	}
	CU_ASSERT_EQUAL(parse_resp("HTTP/1.1 200 OK\r\nContent-Length: 2000"
	    "\r\n\r\n", GW_HTTP_GET, &r, &used, &st), GW_HTTP_INVALID);
	CU_ASSERT_EQUAL(st, 413);
}

static void
test_response_need_more_every_split(void)
{
	static const char raw[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
	    "chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n";
	static const struct gw_http_limits lim = { 8192, 8192, 1024 };
	struct gw_http_response r;
	size_t used;
	int st;

	for (size_t n = 0; n < sizeof(raw) - 1; n++)
		CU_ASSERT_EQUAL(gw_http_parse_response(raw, n, GW_HTTP_GET,
		    &lim, &r, &used, &st), GW_HTTP_NEED_MORE);
	CU_ASSERT_EQUAL(gw_http_parse_response(raw, sizeof(raw) - 1,
	    GW_HTTP_GET, &lim, &r, &used, &st), GW_HTTP_DONE);
	CU_ASSERT_EQUAL(used, sizeof(raw) - 1);
	gw_http_response_free(&r);
}

/* The "http" suite's cases; the runner registers them by suite name. */
CU_TestInfo test_http_cases[] = {
	{ "simple GET", test_simple_get },
	{ "path and query", test_target_split },
	{ "methods", test_methods },
	{ "pipelined requests", test_pipelined },
	{ "NEED_MORE at every split", test_need_more_every_split },
	{ "bad request lines", test_bad_request_line },
	{ "bad header fields", test_bad_headers },
	{ "Host rules", test_host },
	{ "Content-Length", test_content_length },
	{ "Transfer-Encoding", test_transfer_encoding },
	{ "chunked decoding", test_chunked },
	{ "bad chunked bodies", test_chunked_bad },
	{ "keep-alive", test_keep_alive },
	{ "request line limit", test_request_line_limit },
	{ "header bytes limit", test_header_bytes_limit },
	{ "header count limit", test_header_count_limit },
	{ "body limit", test_body_limit },
	{ "trailer limit", test_trailer_limit },
	{ "bodies without framing", test_bodies_without_framing },
	{ "header lookup", test_header_lookup },
	{ "reason phrases", test_reason },
	{ "write_response", test_write_response },
	{ "write_response_in_place", test_write_response_in_place },
	{ "responses", test_response_ok },
	{ "responses: chunked and bodiless", test_response_chunked_and_empty },
	{ "responses: refusals", test_response_refusals },
	{ "responses: NEED_MORE at every split",
	    test_response_need_more_every_split },
	CU_TEST_INFO_NULL,
};
