/*
 * connection.c: one client connection on a worker's loop, from accept to
 * close.
 *
 * TLS connections are streams (stream.c) over OpenSSL that demand a client
 * certificate; the admin listener is plain TCP on loopback.  Both feed the
 * same strict parser: one request at a time is dispatched, and the next
 * pipelined request is parsed only after the previous answer was queued, so
 * answers leave in order and a client that does not read its answers stops
 * being read (output high-water mark).  Every connection has exactly one
 * teardown path, conn_close(), which takes the reason for the log.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event_struct.h>

#include "gateway/fhir.h"
#include "gateway/gw.h"
#include "gateway/profile.h"
#include "gateway/server.h"
#include "gateway/stream.h"

/* Stop parsing new requests while this much output is unsent. */
#define OUTPUT_HIGH_WATER (4 * 1024 * 1024)

enum deadline_kind {
	DEADLINE_NONE,
	DEADLINE_HEADER, /* handshake or a partial request */
	DEADLINE_IDLE,	 /* between requests */
	DEADLINE_SEND,	 /* an answer waits for a reader that takes none */
};

/*
 * One event per connection besides its socket's: the timer of its
 * deadline, which also carries the deferred parse of a pipelined request
 * (gw_req_deliver activates it with EV_READ; a timeout fires with
 * EV_TIMEOUT).  Either way the event has left the loop when its callback
 * runs, so the callback starts from no deadline.
 */
struct conn_state {
	struct gw_conn conn;
	struct event timer;
	enum deadline_kind deadline_kind;
	/* DEADLINE_SEND: what the reader had not taken when it was armed */
	size_t unsent_ours, unsent_kernel;
};

static void process_input(struct gw_conn *c);

static struct conn_state *
state_of(struct gw_conn *c)
{
	return (struct conn_state *)c;
}

static void
conn_close(struct gw_conn *c, const char *reason)
{
	struct conn_state *cs = state_of(c);

	if (c->req != NULL) {
		/* A query still pending will find the request orphaned and
		 * free it; otherwise it is ours to free. */
		c->req->conn = NULL;
		if (!c->req->pending)
			gw_req_free(c->req);
		c->req = NULL;
	}
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		c->worker->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	event_del(&cs->timer);
	atomic_fetch_sub(&c->worker->counters.connections, 1);
	/* A clean end after our answer says so (close_notify), so clients
	 * can tell it from truncation; the output is already flushed. */
	if (c->tls_ok && !c->admin && c->closing &&
	    strcmp(reason, "done") == 0)
		SSL_shutdown(gw_stream_ssl(c->stream));
	gw_stream_free(c->stream);
	free(cs);
}

static void
arm_deadline(struct gw_conn *c, enum deadline_kind kind)
{
	struct conn_state *cs = state_of(c);
	const struct gw_limits *lim = &c->worker->limits;
	int ms;
	struct timeval tv;

	if (cs->deadline_kind == kind)
		return;
	cs->deadline_kind = kind;
	if (kind == DEADLINE_NONE) {
		event_del(&cs->timer);
		return;
	}
	/* What the reader has not taken yet, for timer_cb to compare. */
	if (kind == DEADLINE_SEND)
		gw_stream_unsent(c->stream, &cs->unsent_ours, &cs->unsent_kernel);
	/* A reader that takes nothing of an answer is as idle as one that
	 * sends nothing. */
	ms = kind == DEADLINE_HEADER ? lim->header_timeout_ms :
	    lim->idle_timeout_ms;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	event_add(&cs->timer, &tv);
}

static bool
output_waits(struct gw_conn *c)
{
	return gw_stream_output_length(c->stream) > 0;
}

/* Write a complete response; the connection decides what happens next. */
static void
write_response(struct gw_conn *c, int status, const char *content_type,
    struct gw_body body, const char *extra, bool keep_alive)
{
	struct evbuffer *out = gw_stream_output(c->stream);
	struct gw_counters *k = &c->worker->counters;
	char both[1024];

	/* HTTP/1.0 clients keep a connection only when told so. */
	if (c->http10 && keep_alive) {
		snprintf(both, sizeof(both), "Connection: keep-alive\r\n%s",
		    extra != NULL ? extra : "");
		extra = both;
	}
	gw_http_write_response_in_place(out, status, content_type, extra, body,
	    keep_alive);
	atomic_fetch_add(&k->requests, 1);
	if (status < 300)
		atomic_fetch_add(&k->status_2xx, 1);
	else if (status < 500)
		atomic_fetch_add(&k->status_4xx, 1);
	else
		atomic_fetch_add(&k->status_5xx, 1);
	if (!keep_alive) {
		c->closing = true;
		gw_stream_stop_reading(c->stream);
	}
	/* Now, not on the loop's next turn: most answers leave in this one
	 * write, and the socket is watched for room only when it is full. */
	gw_stream_flush(c->stream);
	/* What the socket did not take must be read: the deadline closes a
	 * reader that took none of it (timer_cb). */
	if (output_waits(c))
		arm_deadline(c, DEADLINE_SEND);
}

/*
 * After an answer that ends the connection: close once it has left.  The
 * stream usually sends it at once; when the socket was full, drained_cb
 * closes instead.
 */
static void
close_if_sent(struct gw_conn *c)
{
	if (c->closing && !output_waits(c))
		conn_close(c, "done");
}

/* An error before a request was dispatched (framing, deadline): answered
 * as an OperationOutcome, then the connection closes. */
static void
write_early_error(struct gw_conn *c, int status, const char *code,
    const char *diagnostics)
{
	cJSON *oo = gw_fhir_outcome("error", code, diagnostics);

	write_response(c, status, "application/fhir+json; charset=utf-8",
	    gw_fhir_print_body(oo), NULL, false);
	cJSON_Delete(oo);
	close_if_sent(c);
}

/* The one place an answer goes out: audited requests are held by the
 * audit batcher until their record is committed, which then delivers. */
void
gw_req_reply(struct gw_req *req, int status, const char *content_type,
    struct gw_body body, const char *extra_headers)
{
	if (req->audit != NULL) {
		gw_audit_hold(req, status, content_type, body, extra_headers);
		return;
	}
	gw_req_deliver(req, status, content_type, body, extra_headers);
}

void
gw_req_deliver(struct gw_req *req, int status, const char *content_type,
    struct gw_body body, const char *extra_headers)
{
	struct gw_conn *c = req->conn;
	struct conn_state *cs;

	if (c == NULL) {
		gw_body_free(&body);
		gw_req_free(req);
		return;
	}
	cs = state_of(c);
	write_response(c, status, content_type, body, extra_headers,
	    req->http.keep_alive);
	if (!c->admin)
		gw_latency_observe(&c->worker->latency,
		    gw_router_route_index(req->route),
		    gw_latency_now_us() - req->started_us);
	c->req = NULL;
	gw_req_free(req);
	if (c->closing) {
		close_if_sent(c);
		return;
	}
	/* Parse the next pipelined request from the loop, not from here:
	 * the handler that replied may still be on the stack. */
	event_active(&cs->timer, EV_READ, 0);
}

#ifdef GW_VALIDATE_OUTPUT
/* Test builds check everything they emit against profiles/: a successful
 * answer that violates them becomes a 500 OperationOutcome naming the
 * violation (returned; body is left to the caller), so the tests see it.
 * NULL when body passes. */
static cJSON *
profile_violation(int status, const cJSON *body)
{
	cJSON *issues, *oo;
	char *why;

	if (status >= 300 || gw_output_profiles == NULL)
		return NULL;
	issues = cJSON_CreateArray();
	if (gw_profiles_validate(gw_output_profiles, body, issues) == 0) {
		cJSON_Delete(issues);
		return NULL;
	}
	why = gw_fhir_print(issues);
	gw_error("emitted resource violates profiles: %s", why);
	free(why);
	oo = cJSON_CreateObject();
	cJSON_AddStringToObject(oo, "resourceType", "OperationOutcome");
	cJSON_AddItemToObject(oo, "issue", issues);
	return oo;
}
#endif

void
gw_req_reply_json(struct gw_req *req, int status, cJSON *body,
    const char *extra_headers)
{
	struct gw_body text;

#ifdef GW_VALIDATE_OUTPUT
	cJSON *violation = profile_violation(status, body);

	if (violation != NULL) {
		cJSON_Delete(body);
		body = violation;
		status = 500;
	}
#endif
	if (req->audit != NULL)
		gw_audit_note_returned(req, body);
	text = gw_fhir_print_body(body);
	cJSON_Delete(body);
	gw_req_reply(req, status, "application/fhir+json; charset=utf-8", text,
	    extra_headers);
}

void
gw_req_reply_json_text(struct gw_req *req, int status, struct gw_body body,
    const char *extra_headers)
{
#ifdef GW_VALIDATE_OUTPUT
	/* What was written is read back as the tree a client would parse. */
	cJSON *tree = cJSON_ParseWithLength(body.mem + body.room, body.len);
	cJSON *violation = tree == NULL ? NULL : profile_violation(status, tree);

	if (tree == NULL)
		gw_fatal("a JSON answer written as text does not parse");
	cJSON_Delete(tree);
	if (violation != NULL) {
		gw_body_free(&body);
		gw_req_reply_json(req, 500, violation, NULL);
		return;
	}
#endif
	gw_req_reply(req, status, "application/fhir+json; charset=utf-8", body,
	    extra_headers);
}

static const char *
code_for_status(int status)
{
	switch (status) {
	case 403:
		return "forbidden";
	case 404:
		return "not-found";
	case 405:
	case 406:
	case 415:
	case 501:
		return "not-supported";
	case 408:
	case 504:
		return "timeout";
	case 413:
	case 414:
	case 431:
		return "too-costly";
	case 429:
		return "throttled";
	case 503:
		return "transient";
	case 500:
	case 502:
		return "exception";
	default:
		return "invalid";
	}
}

void
gw_req_reply_error(struct gw_req *req, int status, const char *code,
    const char *fmt, ...)
{
	char diagnostics[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(diagnostics, sizeof(diagnostics), fmt, ap);
	va_end(ap);
	gw_req_reply_json(req, status, gw_fhir_outcome("error",
	    code != NULL ? code : code_for_status(status), diagnostics), NULL);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gw_conn *c = arg;
	struct conn_state *cs = state_of(c);
	enum deadline_kind kind = cs->deadline_kind;

	(void)fd;
	/* Running this event took any timeout away, even one that a read armed
	 * while a deferred parse waited in the loop: process_input arms the
	 * deadline again from none. */
	cs->deadline_kind = DEADLINE_NONE;
	if (what & EV_READ) {
		process_input(c);
		return;
	}
	if (kind == DEADLINE_SEND) {
		size_t ours, kernel;

		/* A reader that took some, however slowly, gets another
		 * period; one that took nothing for a whole one is let go. */
		gw_stream_unsent(c->stream, &ours, &kernel);
		if (ours < cs->unsent_ours || kernel < cs->unsent_kernel)
			arm_deadline(c, DEADLINE_SEND);
		else
			conn_close(c, "send deadline");
		return;
	}
	if (c->req != NULL || c->closing)
		return;
	if (kind == DEADLINE_HEADER && c->tls_ok &&
	    evbuffer_get_length(gw_stream_input(c->stream)) > 0) {
		write_early_error(c, 408, "timeout",
		    "request not complete within the header deadline");
		return;
	}
	conn_close(c, "deadline");
}

/* What one request may occupy in the input: chunked framing may cost more
 * bytes than the body it carries; the parser enforces the real limits,
 * this only bounds the copy and the buffering. */
static size_t
input_bound(const struct gw_limits *lim)
{
	return lim->http.max_request_line + lim->http.max_header_bytes +
	    2 * lim->http.max_body + 4096;
}

static void
process_input(struct gw_conn *c)
{
	const struct gw_limits *lim = &c->worker->limits;
	struct evbuffer *in = gw_stream_input(c->stream);
	size_t cap = input_bound(lim);
	size_t len, consumed = 0;
	unsigned char *data;
	struct gw_req *req;
	int status = 400;
	enum gw_http_parse_result r;

	if (c->req != NULL || c->closing || !c->tls_ok)
		return;
	if (gw_stream_output_length(c->stream) > OUTPUT_HIGH_WATER) {
		arm_deadline(c, DEADLINE_SEND);
		return; /* drained_cb resumes */
	}
	len = evbuffer_get_length(in);
	if (len == 0) {
		if (output_waits(c)) {
			arm_deadline(c, DEADLINE_SEND);
			return;
		}
		arm_deadline(c, DEADLINE_IDLE);
		/* Idle: what may wait here for minutes holds no buffers. */
		gw_stream_release_buffers(c->stream);
		return;
	}
	if (len > cap)
		len = cap;
	data = evbuffer_pullup(in, (ev_ssize_t)len);
	req = gw_calloc(1, sizeof(*req));
	r = gw_http_parse((const char *)data, len, &lim->http, &req->http,
	    &consumed, &status);
	if (r == GW_HTTP_NEED_MORE) {
		free(req);
		arm_deadline(c, DEADLINE_HEADER);
		return;
	}
	arm_deadline(c, DEADLINE_NONE);
	if (r == GW_HTTP_INVALID) {
		free(req);
		write_early_error(c, status, code_for_status(status),
		    "malformed or over-limit HTTP request");
		return;
	}
	evbuffer_drain(in, consumed);
	gw_stream_input_consumed(c->stream);
	c->http10 = req->http.minor_version == 0;
	req->started_us = gw_latency_now_us();
	req->conn = c;
	req->worker = c->worker;
	c->req = req;
	if (c->admin)
		gw_admin_dispatch(req);
	else
		gw_router_dispatch(req);
}

static void
read_cb(struct gw_stream *s, void *arg)
{
	(void)s;
	process_input(arg);
}

static void
drained_cb(struct gw_stream *s, void *arg)
{
	struct gw_conn *c = arg;

	(void)s;
	if (c->closing) {
		conn_close(c, "done");
		return;
	}
	process_input(c);
}

static void
event_cb(struct gw_stream *s, enum gw_stream_event what, void *arg)
{
	struct gw_conn *c = arg;

	if (what == GW_STREAM_CONNECTED) {
		SSL *ssl = gw_stream_ssl(s);

		/* A handshake that began before a reload was verified with
		 * the old CA and CRL: check it against the new ones. */
		if (gw_tls_peer_key_hash(ssl, c->node.key_hash) != GW_OK ||
		    (SSL_get_SSL_CTX(ssl) != c->worker->ssl_ctx &&
			gw_tls_recheck_peer(ssl, c->worker->ssl_ctx) !=
			    GW_OK)) {
			atomic_fetch_add(&c->worker->counters.tls_refused, 1);
			conn_close(c, "no verified client certificate");
			return;
		}
		c->tls_ok = true;
		process_input(c);
		return;
	}
	if (!c->tls_ok && !c->admin)
		atomic_fetch_add(&c->worker->counters.tls_refused, 1);
	conn_close(c, what == GW_STREAM_EOF ? "eof" : "error");
}

static const struct gw_stream_callbacks conn_callbacks = {
	.read = read_cb,
	.drained = drained_cb,
	.event = event_cb,
};

/* A connection on socket fd, under TLS session ssl unless admin; takes
 * both, whatever happens. */
static void
conn_new(struct gw_worker *w, evutil_socket_t fd, SSL *ssl, bool admin)
{
	struct conn_state *cs = gw_calloc(1, sizeof(*cs));
	struct gw_conn *c = &cs->conn;

	c->stream = gw_stream_new(w->base, fd, ssl, &conn_callbacks, c);
	if (c->stream == NULL) {
		free(cs);
		return;
	}
	c->worker = w;
	c->admin = admin;
	c->tls_ok = admin;
	event_assign(&cs->timer, w->base, -1, 0, timer_cb, c);
	atomic_fetch_add(&w->counters.connections, 1);
	c->next = w->conns;
	if (w->conns != NULL)
		w->conns->prev = c;
	w->conns = c;
	/* Bound what one connection may buffer before we parse it. */
	gw_stream_set_input_limit(c->stream, input_bound(&w->limits));
	arm_deadline(c, DEADLINE_HEADER);
}

void
gw_conn_accept_tls(struct gw_worker *w, evutil_socket_t fd)
{
	SSL *ssl = SSL_new(w->ssl_ctx);

	if (ssl == NULL) {
		evutil_closesocket(fd);
		return;
	}
	conn_new(w, fd, ssl, false);
}

void
gw_conn_accept_admin(struct gw_worker *w, evutil_socket_t fd)
{
	conn_new(w, fd, NULL, true);
}

int
gw_conn_recheck_all(struct gw_worker *w, SSL_CTX *ctx)
{
	struct gw_conn *c, *next;
	int closed = 0;

	for (c = w->conns; c != NULL; c = next) {
		next = c->next;
		if (c->admin || !c->tls_ok)
			continue; /* event_cb checks handshakes still going */
		if (gw_tls_recheck_peer(gw_stream_ssl(c->stream), ctx) !=
		    GW_OK) {
			gw_info("closing a connection of node key %s: its"
			    " certificate no longer verifies", c->node.key_hash);
			conn_close(c, "certificate no longer valid");
			closed++;
			continue;
		}
		/* Look the node up again on its next request: a reload is
		 * also how an operator makes a deactivated node's open
		 * connections feel it.  A lookup in flight reads the
		 * registry as it is now anyway. */
		if (c->node_state == GW_NODE_KNOWN ||
		    c->node_state == GW_NODE_REFUSED)
			c->node_state = GW_NODE_UNKNOWN;
	}
	return closed;
}

void
gw_conn_close_all(struct gw_worker *w)
{
	while (w->conns != NULL)
		conn_close(w->conns, "shutdown");
}
