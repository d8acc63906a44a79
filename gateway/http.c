/*
 * http.c: the strict HTTP/1.1 request parser and the response writer.
 *
 * gw_http_parse() makes one left-to-right pass over the bytes it is given
 * and keeps nothing between calls: on NEED_MORE the caller comes back with
 * a longer buffer and the pass starts again.  The limits are applied to
 * what is there, so that pass is bounded.  Every check fires at the first
 * byte that decides it, so a prefix of a request is refused only when the
 * whole request would be.  Nothing is allocated until the whole request,
 * body included, has been seen and judged valid; then the head, a copy of
 * the target (for path and query) and the decoded body go into one
 * allocation that gw_http_request_free() wipes and frees.
 *
 * Where the RFCs allow leniency we refuse: empty lines before the
 * request-line, chunk extensions and any transfer coding but a lone
 * "chunked" are answered with 400.  The parser itself never answers 501:
 * a well-formed method we do not serve comes back DONE as GW_HTTP_OTHER.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "gateway/gw.h"
#include "gateway/http.h"

/* 16 hex digits cover any 64-bit size; more can only be padding. */
#define HTTP_CHUNK_DIGITS_MAX 16

/* The storage a request owns; its size is kept so that it can be wiped. */
struct http_storage {
	size_t size;
	char data[];
};

/* A header field line, as offsets into the caller's buffer. */
struct field_span {
	size_t name;
	size_t name_len;
	size_t value; /* OWS trimmed */
	size_t value_len;
};

/* What the pass over the head found. */
struct head {
	size_t method_len;
	size_t target; /* offset of the request-target */
	size_t target_len;
	int minor_version;
	struct field_span fields[GW_HTTP_MAX_HEADERS];
	size_t nfields;
	size_t end; /* offset just past the empty line */
};

/* How the message is framed and what the connection does afterwards. */
struct framing {
	bool chunked;
	size_t content_length; /* when !chunked; 0 if absent */
	bool keep_alive;
};

static const struct {
	const char *name;
	enum gw_http_method method;
} http_methods[] = {
	{ "GET", GW_HTTP_GET },
	{ "HEAD", GW_HTTP_HEAD },
	{ "POST", GW_HTTP_POST },
	{ "PUT", GW_HTTP_PUT },
	{ "DELETE", GW_HTTP_DELETE },
	{ "OPTIONS", GW_HTTP_OPTIONS },
	{ "PATCH", GW_HTTP_PATCH },
};

static const struct {
	int status;
	const char *reason;
} http_reasons[] = {
	{ 100, "Continue" },
	{ 200, "OK" },
	{ 201, "Created" },
	{ 202, "Accepted" },
	{ 204, "No Content" },
	{ 301, "Moved Permanently" },
	{ 304, "Not Modified" },
	{ 400, "Bad Request" },
	{ 401, "Unauthorized" },
	{ 403, "Forbidden" },
	{ 404, "Not Found" },
	{ 405, "Method Not Allowed" },
	{ 406, "Not Acceptable" },
	{ 408, "Request Timeout" },
	{ 409, "Conflict" },
	{ 410, "Gone" },
	{ 411, "Length Required" },
	{ 412, "Precondition Failed" },
	{ 413, "Content Too Large" },
	{ 414, "URI Too Long" },
	{ 415, "Unsupported Media Type" },
	{ 422, "Unprocessable Content" },
	{ 429, "Too Many Requests" },
	{ 431, "Request Header Fields Too Large" },
	{ 500, "Internal Server Error" },
	{ 501, "Not Implemented" },
	{ 502, "Bad Gateway" },
	{ 503, "Service Unavailable" },
	{ 504, "Gateway Timeout" },
	{ 505, "HTTP Version Not Supported" },
};

/* RFC 9110 tchar. */
static bool
is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Origin-form target bytes: visible ASCII, no fragment. */
static bool
is_target_char(unsigned char c)
{
	return c >= 0x21 && c <= 0x7e && c != '#';
}

/* field-vchar, SP, HTAB; obs-text (0x80-0xff) included. */
static bool
is_field_char(unsigned char c)
{
	return c == ' ' || c == '\t' || (c >= 0x21 && c != 0x7f);
}

static bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static unsigned char
ascii_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* ASCII case-insensitive comparison of s[0..n) with the string lit. */
static bool
span_equals(const char *s, size_t n, const char *lit)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (lit[i] == '\0' ||
		    ascii_lower((unsigned char)s[i]) !=
			ascii_lower((unsigned char)lit[i]))
			return false;
	}
	return lit[n] == '\0';
}

static size_t
min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* Offset of the first CR or LF in buf[off..end), or end. */
static size_t
find_eol(const char *buf, size_t off, size_t end)
{
	size_t i;

	for (i = off; i < end; i++)
		if (buf[i] == '\r' || buf[i] == '\n')
			break;
	return i;
}

/*
 * Judge how the line whose content ends at eol is terminated.  The line
 * belongs to a block that starts at base and may hold max bytes; only
 * bytes before wend (base + max at most) were searched.  Returns DONE when
 * a CRLF ends the line within the block, NEED_MORE, or INVALID with
 * *status set to over_status as soon as the block cannot fit any more
 * (even before its end is seen), or to 400 for a bare LF or a CR without
 * LF.
 */
static enum gw_http_parse_result
end_line(const char *buf, size_t len, size_t eol, size_t wend, size_t base,
    size_t max, int over_status, int *status)
{
	if (eol == wend) {
		/* Whatever comes next, this line still needs its CRLF. */
		if (wend - base + 2 > max) {
			*status = over_status;
			return GW_HTTP_INVALID;
		}
		return GW_HTTP_NEED_MORE;
	}
	if (buf[eol] == '\n') {
		*status = 400;
		return GW_HTTP_INVALID;
	}
	if (eol - base + 2 > max) {
		*status = over_status;
		return GW_HTTP_INVALID;
	}
	if (eol + 1 == len)
		return GW_HTTP_NEED_MORE;
	if (buf[eol + 1] != '\n') {
		*status = 400;
		return GW_HTTP_INVALID;
	}
	return GW_HTTP_DONE;
}

/*
 * Check the request-line content s[0..n) and fill the request-line part
 * of *h.  When complete is false s is only a prefix and only what is there
 * is judged.  Returns 0, or the status to answer (400, 505).
 */
static int
check_request_line(const char *s, size_t n, bool complete, struct head *h)
{
	static const char name[] = "HTTP/";
	enum { METHOD, TARGET, VERSION } state = METHOD;
	size_t i, start = 0, k;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (state) {
		case METHOD:
			if (c == ' ' && i > 0) {
				h->method_len = i;
				state = TARGET;
				start = i + 1;
			} else if (!is_tchar(c))
				return 400;
			break;
		case TARGET:
			if (i == start) {
				if (c != '/')
					return 400;
			} else if (c == ' ') {
				h->target = start;
				h->target_len = i - start;
				state = VERSION;
				start = i + 1;
			} else if (!is_target_char(c))
				return 400;
			break;
		case VERSION:
			/* HTTP-version = "HTTP/" DIGIT "." DIGIT */
			k = i - start;
			if (k < 5) {
				if (c != (unsigned char)name[k])
					return 400;
			} else if (k == 5 || k == 7) {
				if (!is_digit(c))
					return 400;
			} else if (k == 6) {
				if (c != '.')
					return 400;
			} else
				return 400;
			break;
		}
	}
	if (!complete)
		return 0;
	if (state != VERSION || n - start != 8)
		return 400;
	/* Well-formed but not 1.0 or 1.1: a version we do not speak. */
	if (s[start + 5] != '1' || (s[start + 7] != '0' && s[start + 7] != '1'))
		return 505;
	h->minor_version = s[start + 7] - '0';
	return 0;
}

/*
 * Check the field-line content s[0..n): a token, a colon (no whitespace
 * before it, which also refuses obs-fold) and field characters.  When
 * complete is false s is a prefix.  On success *colon is the colon's
 * offset (complete lines only).  Returns 0 or 400.
 */
static int
check_field_line(const char *s, size_t n, bool complete, size_t *colon)
{
	bool in_value = false;
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (in_value) {
			if (!is_field_char(c))
				return 400;
		} else if (c == ':' && i > 0) {
			*colon = i;
			in_value = true;
		} else if (!is_tchar(c))
			return 400;
	}
	if (complete && !in_value)
		return 400;
	return 0;
}

/*
 * Walk the field lines of a block (the header section or a trailer
 * section) starting at base, up to and including its empty line, which
 * must end within max bytes of base (over_status otherwise).  Fields are
 * recorded in h when h is non-NULL; more than GW_HTTP_MAX_HEADERS of them
 * is a 431.  On DONE *end is the offset past the empty line.
 */
static enum gw_http_parse_result
walk_fields(const char *buf, size_t len, size_t base, size_t max,
    int over_status, struct head *h, size_t *end, int *status)
{
	enum gw_http_parse_result r;
	size_t pos = base, wend, eol, colon = 0, v, vend;
	bool complete;
	int st;

	wend = base + min_size(len - base, max);
	for (;;) {
		eol = find_eol(buf, pos, wend);
		complete = eol < wend && buf[eol] == '\r';
		if (!complete || eol > pos) {
			st = check_field_line(buf + pos, eol - pos, complete,
			    &colon);
			if (st != 0) {
				*status = st;
				return GW_HTTP_INVALID;
			}
		}
		r = end_line(buf, len, eol, wend, base, max, over_status,
		    status);
		if (r != GW_HTTP_DONE)
			return r;
		if (eol == pos) {
			*end = eol + 2;
			return GW_HTTP_DONE;
		}
		if (h != NULL) {
			if (h->nfields == GW_HTTP_MAX_HEADERS) {
				*status = 431;
				return GW_HTTP_INVALID;
			}
			v = pos + colon + 1;
			vend = eol;
			while (v < vend && (buf[v] == ' ' || buf[v] == '\t'))
				v++;
			while (vend > v &&
			    (buf[vend - 1] == ' ' || buf[vend - 1] == '\t'))
				vend--;
			h->fields[h->nfields].name = pos;
			h->fields[h->nfields].name_len = colon;
			h->fields[h->nfields].value = v;
			h->fields[h->nfields].value_len = vend - v;
			h->nfields++;
		}
		pos = eol + 2;
	}
}

/* Find, check and record the request-line and the header section. */
static enum gw_http_parse_result
walk_head(const char *buf, size_t len, const struct gw_http_limits *lim,
    struct head *h, int *status)
{
	enum gw_http_parse_result r;
	size_t wend, eol;
	bool complete;
	int st;

	wend = min_size(len, lim->max_request_line);
	eol = find_eol(buf, 0, wend);
	complete = eol < wend && buf[eol] == '\r';
	if ((st = check_request_line(buf, eol, complete, h)) != 0) {
		*status = st;
		return GW_HTTP_INVALID;
	}
	r = end_line(buf, len, eol, wend, 0, lim->max_request_line, 414,
	    status);
	if (r != GW_HTTP_DONE)
		return r;
	return walk_fields(buf, len, eol + 2, lim->max_header_bytes, 431, h,
	    &h->end, status);
}

/* Note the "close" and "keep-alive" options of a Connection value. */
static void
connection_options(const char *s, size_t n, bool *saw_close,
    bool *saw_keep_alive)
{
	size_t i = 0, start, end;

	while (i < n) {
		while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == ','))
			i++;
		start = i;
		while (i < n && s[i] != ',')
			i++;
		end = i;
		while (end > start && (s[end - 1] == ' ' || s[end - 1] == '\t'))
			end--;
		if (span_equals(s + start, end - start, "close"))
			*saw_close = true;
		else if (span_equals(s + start, end - start, "keep-alive"))
			*saw_keep_alive = true;
	}
}

/*
 * Decide framing and persistence from the recorded fields.  Returns 0 or
 * the status to answer: 400 for anything that could be read two ways,
 * 413 for a declared length over the limit.
 */
static int
frame(const char *buf, const struct head *h,
    const struct gw_http_limits *lim, struct framing *f)
{
	const struct field_span *cl = NULL, *te = NULL;
	size_t i, nhost = 0, length = 0;
	bool saw_close = false, saw_keep_alive = false;

	for (i = 0; i < h->nfields; i++) {
		const struct field_span *fs = &h->fields[i];
		const char *name = buf + fs->name;

		if (span_equals(name, fs->name_len, "host")) {
			if (++nhost > 1)
				return 400;
		} else if (span_equals(name, fs->name_len, "content-length")) {
			if (cl != NULL)
				return 400;
			cl = fs;
		} else if (span_equals(name, fs->name_len,
			       "transfer-encoding")) {
			if (te != NULL)
				return 400;
			te = fs;
		} else if (span_equals(name, fs->name_len, "connection"))
			connection_options(buf + fs->value, fs->value_len,
			    &saw_close, &saw_keep_alive);
	}
	if (cl != NULL) {
		/* 1*DIGIT and nothing else: no sign, no list, no space. */
		if (cl->value_len == 0)
			return 400;
		for (i = 0; i < cl->value_len; i++) {
			unsigned char c = (unsigned char)buf[cl->value + i];

			if (!is_digit(c))
				return 400;
			if (length > (SIZE_MAX - (size_t)(c - '0')) / 10)
				return 400;
			length = length * 10 + (size_t)(c - '0');
		}
	}
	if (te != NULL) {
		if (!span_equals(buf + te->value, te->value_len, "chunked") ||
		    cl != NULL || h->minor_version == 0)
			return 400;
	}
	if (h->minor_version == 1 && nhost == 0)
		return 400;
	if (length > lim->max_body)
		return 413;
	f->chunked = te != NULL;
	f->content_length = length;
	if (h->minor_version == 1)
		f->keep_alive = !saw_close;
	else
		f->keep_alive = saw_keep_alive && !saw_close;
	return 0;
}

/*
 * Walk a chunked body that starts at off.  Sizes are bare hex (no sign, no
 * "0x", at most HTTP_CHUNK_DIGITS_MAX digits) followed directly by CRLF:
 * chunk extensions are refused.  Trailer fields are checked like header
 * fields, bounded by max_header_bytes, and dropped.  When out is non-NULL
 * the data is copied there; the caller sized it from an earlier walk.  On
 * DONE *total is the decoded length and *end the offset past the body.
 */
static enum gw_http_parse_result
walk_chunked(const char *buf, size_t len, size_t off,
    const struct gw_http_limits *lim, char *out, size_t *total, size_t *end,
    int *status)
{
	size_t pos = off, sum = 0, size, room, ndigits;
	int d;

	for (;;) {
		size = 0;
		ndigits = 0;
		for (; pos < len; pos++) {
			if ((d = gw_hex_value((unsigned char)buf[pos])) < 0)
				break;
			if (++ndigits > HTTP_CHUNK_DIGITS_MAX)
				goto bad;
			/* Refuse as soon as the size cannot fit. */
			room = lim->max_body - sum;
			if (size > room / 16)
				goto too_large;
			size *= 16;
			if ((size_t)d > room - size)
				goto too_large;
			size += (size_t)d;
		}
		if (pos == len)
			return GW_HTTP_NEED_MORE;
		if (ndigits == 0 || buf[pos] != '\r')
			goto bad;
		if (pos + 1 == len)
			return GW_HTTP_NEED_MORE;
		if (buf[pos + 1] != '\n')
			goto bad;
		pos += 2;
		if (size == 0)
			break;
		if (len - pos < size)
			return GW_HTTP_NEED_MORE;
		if (out != NULL)
			memcpy(out + sum, buf + pos, size);
		sum += size;
		pos += size;
		if (pos == len)
			return GW_HTTP_NEED_MORE;
		if (buf[pos] != '\r')
			goto bad;
		if (pos + 1 == len)
			return GW_HTTP_NEED_MORE;
		if (buf[pos + 1] != '\n')
			goto bad;
		pos += 2;
	}
	*total = sum;
	return walk_fields(buf, len, pos, lim->max_header_bytes, 431, NULL,
	    end, status);
bad:
	*status = 400;
	return GW_HTTP_INVALID;
too_large:
	*status = 413;
	return GW_HTTP_INVALID;
}

static enum gw_http_method
method_of(const char *s, size_t n)
{
	size_t i;

	/* Methods are case-sensitive: "get" is some other method. */
	for (i = 0; i < GW_ARRAY_LEN(http_methods); i++)
		if (strlen(http_methods[i].name) == n &&
		    memcmp(http_methods[i].name, s, n) == 0)
			return http_methods[i].method;
	return GW_HTTP_OTHER;
}

/*
 * Copy the head, a second copy of the target and the body into one
 * allocation and point the request's strings into it.  Cannot fail.
 */
static void
fill_request(const char *buf, size_t len, const struct head *h,
    const struct framing *f, const struct gw_http_limits *lim,
    size_t body_len, struct gw_http_request *req)
{
	enum gw_http_parse_result r;
	struct http_storage *st;
	size_t size, i, total, end;
	char *s, *target, *question, *body;
	int status;

	size = h->end + h->target_len + 1 + body_len + 1;
	st = gw_malloc(sizeof(*st) + size);
	st->size = size;
	s = st->data;
	memcpy(s, buf, h->end);

	req->storage = s;
	req->method = method_of(s, h->method_len);
	s[h->method_len] = '\0';
	req->method_name = s;
	s[h->target + h->target_len] = '\0';
	req->target = s + h->target;
	req->minor_version = h->minor_version;

	/* path and query are cut from their own copy of the target. */
	target = s + h->end;
	memcpy(target, buf + h->target, h->target_len);
	target[h->target_len] = '\0';
	req->path = target;
	if ((question = memchr(target, '?', h->target_len)) != NULL) {
		*question = '\0';
		req->query = question + 1;
	} else
		req->query = target + h->target_len;

	/* Each ':' and the byte after each trimmed value become NULs. */
	for (i = 0; i < h->nfields; i++) {
		const struct field_span *fs = &h->fields[i];

		s[fs->name + fs->name_len] = '\0';
		s[fs->value + fs->value_len] = '\0';
		req->headers[i].name = s + fs->name;
		req->headers[i].value = s + fs->value;
	}
	req->nheaders = h->nfields;

	body = target + h->target_len + 1;
	if (f->chunked) {
		/* The first walk succeeded on the same bytes. */
		r = walk_chunked(buf, len, h->end, lim, body, &total, &end,
		    &status);
		assert(r == GW_HTTP_DONE && total == body_len);
		(void)r;
	} else
		memcpy(body, buf + h->end, body_len);
	body[body_len] = '\0';
	req->body = body_len > 0 ? body : NULL;
	req->body_len = body_len;
	req->keep_alive = f->keep_alive;
}

/*
 * Parse one request from buf[0..len); see http.h.  *req is zeroed first
 * and filled only on GW_HTTP_DONE.  The body is NULL when it is empty
 * (no framing, Content-Length: 0, or a lone last-chunk).  Borrows buf and
 * lim; caller frees req's contents with gw_http_request_free().
 */
enum gw_http_parse_result
gw_http_parse(const char *buf, size_t len, const struct gw_http_limits *lim,
    struct gw_http_request *req, size_t *consumed, int *status)
{
	enum gw_http_parse_result r;
	struct framing f;
	struct head h;
	size_t body_len, end;
	int st = 0;

	assert(buf != NULL || len == 0);
	memset(req, 0, sizeof(*req));
	*consumed = 0;
	*status = 0;
	memset(&h, 0, sizeof(h));
	memset(&f, 0, sizeof(f));

	r = walk_head(buf, len, lim, &h, &st);
	if (r != GW_HTTP_DONE)
		goto out;
	if ((st = frame(buf, &h, lim, &f)) != 0) {
		r = GW_HTTP_INVALID;
		goto out;
	}
	if (f.chunked) {
		r = walk_chunked(buf, len, h.end, lim, NULL, &body_len, &end,
		    &st);
		if (r != GW_HTTP_DONE)
			goto out;
	} else {
		body_len = f.content_length;
		if (len - h.end < body_len) {
			r = GW_HTTP_NEED_MORE;
			goto out;
		}
		end = h.end + body_len;
	}
	fill_request(buf, len, &h, &f, lim, body_len, req);
	*consumed = end;
out:
	if (r == GW_HTTP_INVALID)
		*status = st;
	return r;
}

/*
 * Check a status-line "HTTP/1.x DDD reason": returns 0 with *code and
 * *minor set, or 400 (502 to the relay's client: the caller maps it).
 */
static int
check_status_line(const char *s, size_t n, bool complete, int *code,
    int *minor)
{
	static const char proto[] = "HTTP/1.";

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i < 7 ? c != (unsigned char)proto[i] :
		    i == 7 ? (c != '0' && c != '1') :
		    i == 8 || i == 12 ? c != ' ' :
		    i < 12 ? !is_digit(c) :
		    !(c == '\t' || (c >= 0x20 && c != 0x7f)))
			return 400;
	}
	if (!complete)
		return 0;
	if (n < 12 || (n > 12 && s[12] != ' '))
		return 400;
	*minor = s[7] - '0';
	*code = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
	return *code >= 100 ? 0 : 400;
}

enum gw_http_parse_result
gw_http_parse_response(const char *buf, size_t len, enum gw_http_method method,
    const struct gw_http_limits *lim, struct gw_http_response *resp,
    size_t *consumed, int *status)
{
	const struct field_span *cl = NULL, *te = NULL;
	enum gw_http_parse_result r;
	struct http_storage *st;
	struct head h;
	size_t wend, eol, body_len = 0, end, length = 0;
	bool complete, saw_close = false, saw_keep_alive = false, no_body;
	int code = 0, minor = 1, bad;
	char *s, *body;

	memset(resp, 0, sizeof(*resp));
	memset(&h, 0, sizeof(h));
	*consumed = 0;
	*status = 0;
	wend = min_size(len, lim->max_request_line);
	eol = find_eol(buf, 0, wend);
	complete = eol < wend && buf[eol] == '\r';
	if ((bad = check_status_line(buf, eol, complete, &code, &minor)) != 0) {
		*status = bad;
		return GW_HTTP_INVALID;
	}
	r = end_line(buf, len, eol, wend, 0, lim->max_request_line, 400,
	    status);
	if (r != GW_HTTP_DONE)
		return r;
	r = walk_fields(buf, len, eol + 2, lim->max_header_bytes, 431, &h,
	    &h.end, status);
	if (r != GW_HTTP_DONE)
		return r;
	for (size_t i = 0; i < h.nfields; i++) {
		const struct field_span *fs = &h.fields[i];
		const char *name = buf + fs->name;

		if (span_equals(name, fs->name_len, "content-length")) {
			if (cl != NULL)
				goto bad;
			cl = fs;
		} else if (span_equals(name, fs->name_len,
			       "transfer-encoding")) {
			if (te != NULL)
				goto bad;
			te = fs;
		} else if (span_equals(name, fs->name_len, "connection"))
			connection_options(buf + fs->value, fs->value_len,
			    &saw_close, &saw_keep_alive);
	}
	no_body = method == GW_HTTP_HEAD || code < 200 || code == 204 ||
	    code == 304;
	if (cl != NULL) {
		if (cl->value_len == 0)
			goto bad;
		for (size_t i = 0; i < cl->value_len; i++) {
			unsigned char c = (unsigned char)buf[cl->value + i];

			if (!is_digit(c) ||
			    length > (SIZE_MAX - (size_t)(c - '0')) / 10)
				goto bad;
			length = length * 10 + (size_t)(c - '0');
		}
	}
	if (te != NULL && (cl != NULL || minor == 0 ||
	    !span_equals(buf + te->value, te->value_len, "chunked")))
		goto bad;
	if (!no_body && cl == NULL && te == NULL)
		goto bad; /* delimited by close: indistinguishable from cut */
	if (no_body) {
		end = h.end;
	} else if (te != NULL) {
		r = walk_chunked(buf, len, h.end, lim, NULL, &body_len, &end,
		    status);
		if (r != GW_HTTP_DONE)
			return r;
	} else {
		if (length > lim->max_body) {
			*status = 413;
			return GW_HTTP_INVALID;
		}
		body_len = length;
		if (len - h.end < body_len)
			return GW_HTTP_NEED_MORE;
		end = h.end + body_len;
	}
	st = gw_malloc(sizeof(*st) + h.end + body_len + 1);
	st->size = h.end + body_len + 1;
	s = st->data;
	memcpy(s, buf, h.end);
	for (size_t i = 0; i < h.nfields; i++) {
		const struct field_span *fs = &h.fields[i];

		s[fs->name + fs->name_len] = '\0';
		s[fs->value + fs->value_len] = '\0';
		resp->headers[i].name = s + fs->name;
		resp->headers[i].value = s + fs->value;
	}
	resp->nheaders = h.nfields;
	body = s + h.end;
	if (te != NULL && !no_body) {
		size_t total, e2;

		r = walk_chunked(buf, len, h.end, lim, body, &total, &e2,
		    status);
		assert(r == GW_HTTP_DONE && total == body_len);
	} else {
		memcpy(body, buf + h.end, body_len);
	}
	body[body_len] = '\0';
	resp->body = body_len > 0 ? body : NULL;
	resp->body_len = body_len;
	resp->status = code;
	resp->keep_alive = minor == 1 ? !saw_close : saw_keep_alive;
	resp->storage = s;
	*consumed = end;
	return GW_HTTP_DONE;
bad:
	*status = 400;
	return GW_HTTP_INVALID;
}

void
gw_http_response_free(struct gw_http_response *resp)
{
	struct http_storage *st;

	if (resp->storage != NULL) {
		st = (struct http_storage *)(void *)(resp->storage -
		    offsetof(struct http_storage, data));
		gw_free_zero(st, sizeof(*st) + st->size);
	}
	memset(resp, 0, sizeof(*resp));
}

const char *
gw_http_response_header(const struct gw_http_response *resp,
    const char *name)
{
	for (size_t i = 0; i < resp->nheaders; i++)
		if (span_equals(resp->headers[i].name,
		    strlen(resp->headers[i].name), name))
			return resp->headers[i].value;
	return NULL;
}

/*
 * Wipe and free what gw_http_parse() allocated and zero *req.  A zeroed
 * request may be freed again.
 */
void
gw_http_request_free(struct gw_http_request *req)
{
	struct http_storage *st;

	if (req->storage != NULL) {
		st = (struct http_storage *)(void *)(req->storage -
		    offsetof(struct http_storage, data));
		gw_free_zero(st, sizeof(*st) + st->size);
	}
	memset(req, 0, sizeof(*req));
}

/*
 * The value of the first header called name (ASCII case-insensitive), or
 * NULL.  The result points into req's storage.
 */
const char *
gw_http_header(const struct gw_http_request *req, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < req->nheaders; i++)
		if (span_equals(name, n, req->headers[i].name))
			return req->headers[i].value;
	return NULL;
}

/* How many headers are called name (ASCII case-insensitive). */
size_t
gw_http_header_count(const struct gw_http_request *req, const char *name)
{
	size_t i, count = 0, n = strlen(name);

	for (i = 0; i < req->nheaders; i++)
		if (span_equals(name, n, req->headers[i].name))
			count++;
	return count;
}

/* The reason phrase of status, or "Unknown".  A static string. */
const char *
gw_http_reason(int status)
{
	size_t i;

	for (i = 0; i < GW_ARRAY_LEN(http_reasons); i++)
		if (http_reasons[i].status == status)
			return http_reasons[i].reason;
	return "Unknown";
}

/* Each line ends in CRLF, there is no bare CR or LF and no empty line. */
static bool
valid_header_lines(const char *s)
{
	size_t i, line_start = 0;

	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == '\r') {
			if (s[i + 1] != '\n' || i == line_start)
				return false;
			i++;
			line_start = i + 1;
		} else if (s[i] == '\n')
			return false;
	}
	return i == line_start;
}

/* 1xx, 204 and 304 answers have no body and no Content-Length (RFC 9110
 * 8.6). */
static bool
no_content(int status)
{
	return (status >= 100 && status < 200) || status == 204 ||
	    status == 304;
}

/* What the head of a response needs checked before it is written: see
 * gw_http_write_response. */
static bool
valid_response(int status, const char *content_type,
    const char *extra_headers, const char *body, size_t body_len)
{
	if (status < 100 || status > 999)
		return false;
	if (content_type != NULL && strpbrk(content_type, "\r\n") != NULL)
		return false;
	if (extra_headers != NULL && !valid_header_lines(extra_headers))
		return false;
	if (body_len > 0 && (body == NULL || no_content(status)))
		return false;
	return true;
}

/* Append s to the head being written to dst when it fits in cap bytes;
 * *len grows regardless, so that the caller learns the length needed. */
static void
head_put(char *dst, size_t cap, size_t *len, const char *s, size_t n)
{
	if (n <= cap && *len <= cap - n)
		memcpy(dst + *len, s, n);
	*len += n;
}

/*
 * The status line and headers of a valid response, written to dst when
 * they fit in cap bytes (dst may be NULL when cap is 0); returns their
 * length either way.  By hand, not printf: this runs once per answer.
 */
static size_t
format_head(char *dst, size_t cap, int status, const char *content_type,
    const char *extra_headers, size_t body_len, bool keep_alive)
{
	const char *reason = gw_http_reason(status);
	char digits[24];
	char code[3] = {(char)('0' + status / 100),
	    (char)('0' + status / 10 % 10), (char)('0' + status % 10)};
	size_t len = 0;

	head_put(dst, cap, &len, "HTTP/1.1 ", 9);
	head_put(dst, cap, &len, code, 3);
	head_put(dst, cap, &len, " ", 1);
	head_put(dst, cap, &len, reason, strlen(reason));
	head_put(dst, cap, &len, "\r\n", 2);
	if (content_type != NULL) {
		head_put(dst, cap, &len, "Content-Type: ", 14);
		head_put(dst, cap, &len, content_type, strlen(content_type));
		head_put(dst, cap, &len, "\r\n", 2);
	}
	if (!no_content(status)) {
		head_put(dst, cap, &len, "Content-Length: ", 16);
		head_put(dst, cap, &len, digits,
		    (size_t)(gw_fmt_int(digits, (long long)body_len) - digits));
		head_put(dst, cap, &len, "\r\n", 2);
	}
	if (!keep_alive)
		head_put(dst, cap, &len, "Connection: close\r\n", 19);
	if (extra_headers != NULL)
		head_put(dst, cap, &len, extra_headers, strlen(extra_headers));
	head_put(dst, cap, &len, "\r\n", 2);
	return len;
}

/*
 * Append a response to out; see http.h.  1xx, 204 and 304 responses get
 * no Content-Length (RFC 9110 8.6) and must have no body.  Refuses
 * (GW_ERR, nothing appended) a status outside 100-999, a Content-Type with
 * CR or LF, extra_headers that are not whole CRLF-terminated lines, and a
 * NULL body with a length.  GW_ERR after a failed evbuffer append leaves
 * out partly written: close the connection.  Borrows everything.
 */
int
gw_http_write_response(struct evbuffer *out, int status,
    const char *content_type, const char *extra_headers, const char *body,
    size_t body_len, bool keep_alive)
{
	char small[512], *head = small;
	size_t n;
	int rc = GW_OK;

	if (!valid_response(status, content_type, extra_headers, body,
		body_len))
		return GW_ERR;
	n = format_head(small, sizeof(small), status, content_type,
	    extra_headers, body_len, keep_alive);
	if (n > sizeof(small)) {
		head = gw_malloc(n);
		format_head(head, n, status, content_type, extra_headers,
		    body_len, keep_alive);
	}
	/* Head and body in one contiguous chain: the stream hands OpenSSL
	 * contiguous bytes, so two chains would cost a copy to join them for
	 * every answer. */
	if (evbuffer_expand(out, n + body_len) != 0 ||
	    evbuffer_add(out, head, n) != 0 ||
	    (body_len > 0 && evbuffer_add(out, body, body_len) != 0))
		rc = GW_ERR;
	if (head != small)
		free(head);
	return rc;
}

static void
free_answer(const void *data, size_t len, void *mem)
{
	(void)data;
	(void)len;
	free(mem);
}

void
gw_body_free(struct gw_body *b)
{
	if (b->mem != NULL)
		gw_free_zero(b->mem, b->room + b->len);
	if (b->file != NULL)
		evbuffer_file_segment_free(b->file);
	*b = (struct gw_body){0};
}

/* The head, then the file's segment: out keeps the segment until its
 * bytes have gone. */
static int
write_file_response(struct evbuffer *out, int status,
    const char *content_type, const char *extra_headers,
    struct gw_body body, bool keep_alive)
{
	/* Both or neither: a head without its body would leave the client
	 * waiting for bytes that never come. */
	struct evbuffer *both = evbuffer_new();
	int rc = GW_ERR;
	char *head;
	size_t n;

	if (both != NULL &&
	    valid_response(status, content_type, extra_headers, NULL, 0) &&
	    !no_content(status)) {
		n = format_head(NULL, 0, status, content_type, extra_headers,
		    body.len, keep_alive);
		head = gw_malloc(n);
		format_head(head, n, status, content_type, extra_headers,
		    body.len, keep_alive);
		if (evbuffer_add(both, head, n) == 0 &&
		    evbuffer_add_file_segment(both, body.file, 0,
			(ev_off_t)body.len) == 0 &&
		    evbuffer_add_buffer(out, both) == 0)
			rc = GW_OK;
		free(head);
	}
	if (both != NULL)
		evbuffer_free(both);
	evbuffer_file_segment_free(body.file);
	return rc;
}

int
gw_http_write_response_in_place(struct evbuffer *out, int status,
    const char *content_type, const char *extra_headers,
    struct gw_body body, bool keep_alive)
{
	char *content = body.mem != NULL ? body.mem + body.room : NULL;
	size_t n;

	if (body.file != NULL)
		return write_file_response(out, status, content_type,
		    extra_headers, body, keep_alive);

	if (!valid_response(status, content_type, extra_headers, content,
		body.len)) {
		free(body.mem);
		return GW_ERR;
	}
	n = format_head(NULL, 0, status, content_type, extra_headers,
	    body.len, keep_alive);
	if (body.mem == NULL || n > body.room) {
		int rc = gw_http_write_response(out, status, content_type,
		    extra_headers, content, body.len, keep_alive);

		free(body.mem);
		return rc;
	}
	format_head(content - n, n, status, content_type, extra_headers,
	    body.len, keep_alive);
	/* On failure libevent has not taken the block (and has not called
	 * free_answer): it is still ours to free. */
	if (evbuffer_add_reference(out, content - n, n + body.len, free_answer,
		body.mem) != 0) {
		free(body.mem);
		return GW_ERR;
	}
	return GW_OK;
}
