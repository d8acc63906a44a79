/*
 * http.h: a strict HTTP/1.1 request parser and a response writer.
 *
 * The parser works on a contiguous byte range (the caller pulls up its
 * evbuffer) and is pure: no I/O, no allocation beyond the request it fills,
 * so it can be fuzzed directly.  It refuses anything ambiguous instead of
 * guessing: bare LF, obs-fold, Content-Length together with
 * Transfer-Encoding, duplicate or malformed Content-Length, transfer codings
 * other than "chunked", whitespace before the colon, control characters.
 */
#ifndef GW_HTTP_H
#define GW_HTTP_H

#include <stdbool.h>
#include <stddef.h>

struct evbuffer;

#define GW_HTTP_MAX_HEADERS 64

struct gw_http_limits {
	size_t max_request_line; /* bytes incl. CRLF; over -> 414 */
	size_t max_header_bytes; /* header block after the request line; 431 */
	size_t max_body;	 /* decoded body bytes; over -> 413 */
};

enum gw_http_method {
	GW_HTTP_GET,
	GW_HTTP_HEAD,
	GW_HTTP_POST,
	GW_HTTP_PUT,
	GW_HTTP_DELETE,
	GW_HTTP_OPTIONS,
	GW_HTTP_PATCH,
	GW_HTTP_OTHER, /* a syntactically valid token we do not serve: 501 */
};

struct gw_http_header {
	const char *name; /* NUL-terminated, points into req->storage */
	const char *value; /* NUL-terminated, OWS trimmed */
};

struct gw_http_request {
	enum gw_http_method method;
	const char *method_name; /* as sent */
	const char *target;	 /* request-target as sent (origin-form) */
	const char *path;	 /* target up to '?', not percent-decoded */
	const char *query;	 /* after '?', or "" */
	int minor_version;	 /* 0 or 1 */
	struct gw_http_header headers[GW_HTTP_MAX_HEADERS];
	size_t nheaders;
	char *body;	 /* decoded body, NUL-terminated; NULL if none */
	size_t body_len;
	bool keep_alive; /* after this request the connection stays open */
	char *storage;	 /* owns every string above */
};

enum gw_http_parse_result {
	GW_HTTP_DONE = 0,
	GW_HTTP_NEED_MORE = 1,
	GW_HTTP_INVALID = 2,
};

/*
 * Parse one request from buf[0..len).  On GW_HTTP_DONE, *req is filled
 * (caller frees with gw_http_request_free) and *consumed says how many
 * bytes the request used, so pipelined requests can follow.  On
 * GW_HTTP_NEED_MORE nothing is allocated; the caller waits for more bytes
 * (the limits are already checked against what is there, so a caller that
 * keeps getting NEED_MORE has a bounded buffer).  On GW_HTTP_INVALID,
 * *status is the HTTP status to answer (400, 413, 414, 431, 501, 505) and
 * the connection must be closed after the answer.
 */
enum gw_http_parse_result gw_http_parse(const char *buf, size_t len,
    const struct gw_http_limits *lim, struct gw_http_request *req,
    size_t *consumed, int *status);

/* Free what gw_http_parse allocated; the struct itself is the caller's. */
void gw_http_request_free(struct gw_http_request *req);

/* Case-insensitive header lookup; first match or NULL. */
const char *gw_http_header(const struct gw_http_request *req,
    const char *name);

/* Number of headers with this name (to refuse duplicates that matter). */
size_t gw_http_header_count(const struct gw_http_request *req,
    const char *name);

/* A response from a peer (the relay's side of HTTP). */
struct gw_http_response {
	int status;
	struct gw_http_header headers[GW_HTTP_MAX_HEADERS];
	size_t nheaders;
	char *body;	 /* decoded, NUL-terminated; NULL if empty */
	size_t body_len;
	bool keep_alive; /* the peer keeps the connection */
	char *storage;	 /* owns every string above */
};

/*
 * Parse one response to a request with method `method` from buf[0..len),
 * as strictly as requests: a status line "HTTP/1.x DDD reason", header
 * fields, and a body framed by Content-Length or chunked (a body that runs
 * to the close of the connection is refused: we could not tell it from a
 * truncation).  No body after HEAD, 1xx, 204 or 304.  Limits as for
 * requests (max_request_line bounds the status line).  Same results and
 * ownership as gw_http_parse; free with gw_http_response_free.
 */
enum gw_http_parse_result gw_http_parse_response(const char *buf, size_t len,
    enum gw_http_method method, const struct gw_http_limits *lim,
    struct gw_http_response *resp, size_t *consumed, int *status);

void gw_http_response_free(struct gw_http_response *resp);

/* Case-insensitive header lookup in a response; first match or NULL. */
const char *gw_http_response_header(const struct gw_http_response *resp,
    const char *name);

/* The reason phrase of a status code ("Not Found"), "Unknown" if none. */
const char *gw_http_reason(int status);

/*
 * Append a whole response to out: status line, Date-less minimal headers
 * (Content-Type if given, Content-Length, Connection: close when
 * !keep_alive), extra_headers verbatim (each line CRLF-terminated, may be
 * NULL), then body.  Returns GW_OK or GW_ERR.
 */
int gw_http_write_response(struct evbuffer *out, int status,
    const char *content_type, const char *extra_headers, const char *body,
    size_t body_len, bool keep_alive);

struct evbuffer_file_segment;

/*
 * An answer's body in a malloc'd block that keeps room before it for the
 * response's head: the body is mem[room .. room + len).  The JSON answers
 * are printed this way (gw_fhir_print_body), so that their head is written
 * into the room and head and body leave as one block, without being copied
 * into the output (docs/architecture.md).
 *
 * Or a file's first len bytes (gw_body_file, mem NULL): an export file is
 * mapped, not read, so the pages it occupies are the kernel's page cache,
 * read as the peer takes them and given back under memory pressure,
 * however large the file and however many are being downloaded.
 */
struct gw_body {
	char *mem; /* NULL: no body in memory */
	size_t room, len;
	struct evbuffer_file_segment *file;
};

/* A body in a plain malloc'd string (or NULL, 0), without room. */
static inline struct gw_body
gw_body_text(char *s, size_t len)
{
	return (struct gw_body){.mem = s, .room = 0, .len = len};
}

/* The body is file, len bytes long (libevent's segment, which the body
 * now owns). */
static inline struct gw_body
gw_body_file(struct evbuffer_file_segment *file, size_t len)
{
	return (struct gw_body){.len = len, .file = file};
}

/* Let go of a body that will not be sent (wiped: it may hold patient
 * data); *b is left empty. */
void gw_body_free(struct gw_body *b);

/* Room that covers the head of any answer but one with long extra
 * headers (those take gw_http_write_response's copy). */
#define GW_HTTP_HEAD_ROOM 512

/*
 * As gw_http_write_response, but takes body.mem: the head is written into
 * its room and the block is handed to out by reference, freed once sent.
 * A head that does not fit is copied with the body instead.  A file body
 * follows the head as the file's segment.  The body is out's or freed in
 * every case, GW_ERR included.
 */
int gw_http_write_response_in_place(struct evbuffer *out, int status,
    const char *content_type, const char *extra_headers,
    struct gw_body body, bool keep_alive);

#endif
