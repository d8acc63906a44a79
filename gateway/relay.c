/*
 * relay.c: see relay.h.  A connection is CONNECTING (TCP + TLS, under the
 * connect deadline), IDLE in its peer's pool, or BUSY with one call (under
 * the response deadline).  Calls wait in one FIFO per peer; a finished call
 * hands its connection to the next.  Besides the deadlines of its
 * connection, each call has one of its own, connect + response timeout from
 * gw_relay_send(), that bounds the wait for a connection and the retry
 * too, so a caller always has an answer by then.  Every path
 * that ends a call goes through call_fail() or the answer in read_cb(),
 * every path that ends a connection through conn_close().  Failures found
 * outside a loop callback (breaker open, queue full, no socket) are answered
 * from the loop through the relay's `done` queue, so a caller is never
 * called back from inside gw_relay_send().
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "gateway/gw.h"
#include "gateway/relay.h"
#include "gateway/stream.h"

#define BREAKER_FAILURES 3
#define BREAKER_COOLDOWN_S 10
#define IDLE_CLOSE_S 30
#define MAX_QUEUE 1024
#define MAX_ADDRS 4

/* What a peer may send back: a large $summary is tens of KB; 16 MB leaves
 * room for big searchsets and still bounds memory per call. */
static const struct gw_http_limits response_limits = {
	.max_request_line = 8192,
	.max_header_bytes = 65536,
	.max_body = 16 * 1024 * 1024,
};

/* A peer's addresses, resolved once at start-up. */
struct peer_addrs {
	struct sockaddr_storage ss[MAX_ADDRS];
	socklen_t len[MAX_ADDRS];
	int n;
	bool ip_literal; /* the URL names an address, not a host name */
};

struct gw_relay_peers {
	const struct gw_peer *peers;
	SSL_CTX **ctx;
	struct peer_addrs *addrs;
	int n;
};

enum conn_state { RC_CONNECTING, RC_IDLE, RC_BUSY };

struct relay_call {
	TAILQ_ENTRY(relay_call) link;
	struct peer_state *ps;
	enum gw_http_method method;
	char *request; /* the whole request head */
	gw_relay_cb cb;
	void *arg;
	struct event *deadline; /* the call's own, from gw_relay_send */
	struct relay_conn *conn; /* the connection carrying it, or NULL */
	bool queued;
	bool retried;
	bool want_fresh; /* the retry must not reuse a connection */
	/* For calls answered from the done queue. */
	int status;
	int retry_after; /* seconds, for 503s */
	char why[160];
};

TAILQ_HEAD(call_queue, relay_call);

struct relay_conn;
LIST_HEAD(conn_list, relay_conn);

struct peer_state {
	struct gw_relay *relay;
	const struct gw_peer *peer;
	/* The TLS material, this worker's copy: a reload replaces it here
	 * (gw_relay_reload) while the peer's place stays in peer. */
	SSL_CTX *ctx;		/* a reference */
	char pin[GW_KEY_HASH_LEN];
	struct peer_addrs addrs;
	unsigned gen;		/* bumped by each reload */
	int addr; /* the address to connect to next */
	struct conn_list conns;
	int nconns;
	struct call_queue queue;
	int nqueued;
	int failures; /* consecutive */
	time_t open_until;
};

struct relay_conn {
	LIST_ENTRY(relay_conn) link;
	struct peer_state *ps;
	struct gw_stream *stream; /* the client side of TLS (stream.c) */
	struct event *timer;
	enum conn_state state;
	unsigned gen;	   /* the peer_state's gen it was opened under */
	bool got_bytes;	   /* the current call has seen response bytes */
	struct relay_call *call;
};

struct gw_relay {
	struct event_base *base;
	struct peer_state *ps;
	int n;
	struct call_queue done; /* calls answered from the loop */
	struct event *done_ev;
};

static void dispatch(struct peer_state *ps);

static const char *
method_name(enum gw_http_method m)
{
	switch (m) {
	case GW_HTTP_GET:
		return "GET";
	case GW_HTTP_HEAD:
		return "HEAD";
	case GW_HTTP_POST:
		return "POST";
	case GW_HTTP_PUT:
		return "PUT";
	case GW_HTTP_DELETE:
		return "DELETE";
	default:
		return NULL;
	}
}

static void
call_free(struct relay_call *call)
{
	gw_free_zero(call->request, strlen(call->request));
	event_free(call->deadline);
	free(call);
}

static int
seconds_left(const struct peer_state *ps)
{
	time_t now = time(NULL);

	return ps->open_until > now ? (int)(ps->open_until - now) : 1;
}

/* A failure that is the peer's: count it toward the breaker. */
static void
count_failure(struct peer_state *ps)
{
	if (++ps->failures >= BREAKER_FAILURES) {
		ps->open_until = time(NULL) + BREAKER_COOLDOWN_S;
		gw_warn("relay: peer %s failed %d times; skipped for %d s",
		    ps->peer->country, ps->failures, BREAKER_COOLDOWN_S);
	}
}

/* Finish a call that got no answer, from a loop callback.  504s and 502s
 * count toward the breaker unless told otherwise; 503s (breaker, shutdown)
 * are not the peer's doing. */
static void
call_fail(struct peer_state *ps, struct relay_call *call, int status,
    const char *why, bool count)
{
	int retry_after = 0;

	if (count && status != 503)
		count_failure(ps);
	if (status == 503)
		retry_after = seconds_left(ps);
	call->cb(status, NULL, why, retry_after, call->arg);
	call_free(call);
}

/* Answer a call from the loop, not from the current stack. */
static void
call_defer(struct gw_relay *r, struct relay_call *call, int status,
    int retry_after, const char *why)
{
	call->status = status;
	call->retry_after = retry_after;
	gw_strlcpy(call->why, why, sizeof(call->why));
	event_del(call->deadline);
	TAILQ_INSERT_TAIL(&r->done, call, link);
	event_active(r->done_ev, 0, 0);
}

static void
enqueue(struct peer_state *ps, struct relay_call *call, bool head)
{
	if (head)
		TAILQ_INSERT_HEAD(&ps->queue, call, link);
	else
		TAILQ_INSERT_TAIL(&ps->queue, call, link);
	ps->nqueued++;
	call->queued = true;
}

static void
dequeue(struct peer_state *ps, struct relay_call *call)
{
	TAILQ_REMOVE(&ps->queue, call, link);
	ps->nqueued--;
	call->queued = false;
}

static void conn_failed(struct relay_conn *c, int status, const char *why);

/* The call's own deadline passed: on a connection, that connection is
 * failed like any hung one; waiting for a connection (all busy with a
 * slow peer), the call alone is, without counting toward the breaker --
 * the calls holding the connections count already. */
static void
call_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct relay_call *call = arg;
	struct peer_state *ps = call->ps;

	(void)fd;
	(void)what;
	if (call->conn != NULL) {
		call->retried = true;
		conn_failed(call->conn, 504, "peer did not answer in time");
		return;
	}
	if (call->queued)
		dequeue(ps, call);
	call_fail(ps, call, 504, "no connection to the peer came free in time",
	    false);
}

static void
conn_close(struct relay_conn *c)
{
	struct peer_state *ps = c->ps;

	LIST_REMOVE(c, link);
	ps->nconns--;
	event_free(c->timer);
	gw_stream_free(c->stream);
	free(c);
}

/* A call failed on connection c: retry a GET once on a fresh connection
 * when nothing of an answer arrived, else fail it; close c either way. */
static void
conn_failed(struct relay_conn *c, int status, const char *why)
{
	struct peer_state *ps = c->ps;
	struct relay_call *call = c->call;
	bool got_bytes = c->got_bytes;

	/* A connection that never came up may be an address that does not
	 * answer (localhost as ::1 and 127.0.0.1): try the next one. */
	if (c->state == RC_CONNECTING && ps->addrs.n > 1)
		ps->addr = (ps->addr + 1) % ps->addrs.n;
	c->call = NULL;
	if (call != NULL)
		call->conn = NULL;
	conn_close(c);
	if (call == NULL)
		return;
	if (status == 502 && call->method == GW_HTTP_GET && !call->retried &&
	    !got_bytes) {
		call->retried = true;
		call->want_fresh = true;
		enqueue(ps, call, true);
		dispatch(ps);
		return;
	}
	call_fail(ps, call, status, why, true);
	dispatch(ps);
}

static void
arm(struct relay_conn *c, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	event_add(c->timer, &tv);
}

static void
start_call(struct relay_conn *c, struct relay_call *call)
{
	c->call = call;
	call->conn = c;
	c->state = RC_BUSY;
	c->got_bytes = false;
	evbuffer_add(gw_stream_output(c->stream), call->request,
	    strlen(call->request));
	gw_stream_flush(c->stream);
	arm(c, c->ps->peer->response_timeout_ms);
}

static void
read_cb(struct gw_stream *s, void *arg)
{
	struct relay_conn *c = arg;
	struct peer_state *ps = c->ps;
	struct evbuffer *in = gw_stream_input(s);
	struct gw_http_response resp;
	struct relay_call *call = c->call;
	size_t len, used = 0;
	enum gw_http_parse_result r;
	int st = 0;

	if (call == NULL) {
		/* Bytes on an idle connection: the peer is confused. */
		conn_close(c);
		return;
	}
	for (;;) {
		len = evbuffer_get_length(in);
		c->got_bytes = c->got_bytes || len > 0;
		r = gw_http_parse_response((const char *)evbuffer_pullup(in, -1),
		    len, call->method, &response_limits, &resp, &used, &st);
		if (r == GW_HTTP_NEED_MORE)
			return;
		if (r == GW_HTTP_INVALID) {
			conn_failed(c, 502, "invalid response from peer");
			return;
		}
		evbuffer_drain(in, used);
		if (resp.status >= 200)
			break;
		/* An interim answer (1xx): the final one follows. */
		gw_http_response_free(&resp);
	}
	event_del(c->timer);
	c->call = NULL;
	call->conn = NULL;
	event_del(call->deadline);
	ps->failures = 0;
	call->cb(resp.status, &resp, NULL, 0, call->arg);
	call_free(call);
	/* A connection opened before a reload is not pooled again: the next
	 * call goes out with the new certificate, CA and pin. */
	if (resp.keep_alive && evbuffer_get_length(in) == 0 &&
	    c->gen == ps->gen) {
		c->state = RC_IDLE;
		arm(c, IDLE_CLOSE_S * 1000);
	} else {
		conn_close(c);
	}
	gw_http_response_free(&resp);
	dispatch(ps);
}

/* The peer must be who we pinned, not merely someone our CA signed. */
static bool
pinned(struct relay_conn *c)
{
	SSL *ssl = gw_stream_ssl(c->stream);
	char hash[GW_KEY_HASH_LEN];

	return gw_tls_peer_key_hash(ssl, hash) == GW_OK &&
	    strcmp(hash, c->ps->pin) == 0;
}

static void
event_cb(struct gw_stream *s, enum gw_stream_event what, void *arg)
{
	struct relay_conn *c = arg;
	struct peer_state *ps = c->ps;
	char why[160], reason[120];

	if (what == GW_STREAM_CONNECTED) {
		struct relay_call *call;

		event_del(c->timer);
		if (!pinned(c)) {
			gw_warn("relay: peer %s presented an unpinned key",
			    ps->peer->country);
			/* Not retried: a wrong key will be wrong again.  The
			 * address answered, so it is not the one to blame. */
			if (c->call != NULL)
				c->call->retried = true;
			c->state = RC_BUSY;
			conn_failed(c, 502, "peer key does not match its pin");
			return;
		}
		call = c->call;
		if (call != NULL) {
			c->call = NULL;
			start_call(c, call);
		} else if (c->gen != ps->gen) {
			conn_close(c);
			dispatch(ps);
		} else {
			c->state = RC_IDLE;
			arm(c, IDLE_CLOSE_S * 1000);
			dispatch(ps);
		}
		return;
	}
	if (c->state == RC_IDLE) {
		conn_close(c); /* the peer closed a pooled connection */
		return;
	}
	snprintf(why, sizeof(why), "peer %s: %s", ps->peer->country,
	    gw_stream_error(s, reason, sizeof(reason)));
	conn_failed(c, 502, why);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct relay_conn *c = arg;

	(void)fd;
	(void)what;
	if (c->state == RC_IDLE) {
		conn_close(c);
		return;
	}
	/* A hung peer is not retried: it would double the wait. */
	if (c->call != NULL)
		c->call->retried = true;
	conn_failed(c, 504, c->state == RC_CONNECTING ?
	    "peer did not accept the connection in time" :
	    "peer did not answer in time");
}

static const struct gw_stream_callbacks conn_callbacks = {
	.read = read_cb,
	.event = event_cb,
};

static struct relay_conn *
conn_open(struct peer_state *ps, struct relay_call *call)
{
	struct gw_relay *r = ps->relay;
	const struct peer_addrs *pa = &ps->addrs;
	const struct sockaddr *addr;
	struct relay_conn *c;
	SSL *ssl = SSL_new(ps->ctx);
	evutil_socket_t fd;
	int err = 0;

	if (ssl == NULL)
		return NULL;
	/* The name in the certificate must be the one in the URL (an IP
	 * address is matched as such, and is no SNI name). */
	if (pa->ip_literal) {
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
		    ps->peer->host);
	} else {
		SSL_set_tlsext_host_name(ssl, ps->peer->host);
		SSL_set1_host(ssl, ps->peer->host);
	}
	/* A numeric address: connect() itself, no resolver on the loop.  An
	 * immediate refusal is reported through event_cb from the loop. */
	addr = (const struct sockaddr *)&pa->ss[ps->addr];
	fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd < 0) {
		SSL_free(ssl);
		return NULL;
	}
	/* A request goes out whole; Nagle would hold it for an ACK. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	if (connect(fd, addr, pa->len[ps->addr]) != 0)
		err = errno;
	c = gw_calloc(1, sizeof(*c));
	c->ps = ps;
	c->gen = ps->gen;
	c->stream = gw_stream_connect(r->base, fd, ssl, err, &conn_callbacks,
	    c);
	if (c->stream == NULL) {
		free(c); /* the stream took fd and ssl */
		return NULL;
	}
	c->timer = evtimer_new(r->base, timer_cb, c);
	c->state = RC_CONNECTING;
	LIST_INSERT_HEAD(&ps->conns, c, link);
	ps->nconns++;
	c->call = call;
	call->conn = c;
	arm(c, ps->peer->connect_timeout_ms);
	return c;
}

static void
dispatch(struct peer_state *ps)
{
	struct relay_call *call;
	struct relay_conn *c;

	while ((call = TAILQ_FIRST(&ps->queue)) != NULL) {
		struct relay_conn *idle = NULL;

		if (!call->want_fresh)
			LIST_FOREACH(c, &ps->conns, link)
				if (c->state == RC_IDLE) {
					idle = c;
					break;
				}
		if (idle == NULL && ps->nconns >= ps->peer->max_connections)
			return; /* wait for a connection to come free */
		dequeue(ps, call);
		if (idle != NULL) {
			event_del(idle->timer);
			start_call(idle, call);
		} else if (conn_open(ps, call) == NULL) {
			count_failure(ps);
			call_defer(ps->relay, call, 502, 0,
			    "cannot open a connection to the peer");
		}
	}
}

static void
done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gw_relay *r = arg;
	struct relay_call *call;

	(void)fd;
	(void)what;
	while ((call = TAILQ_FIRST(&r->done)) != NULL) {
		TAILQ_REMOVE(&r->done, call, link);
		call->cb(call->status, NULL, call->why, call->retry_after,
		    call->arg);
		call_free(call);
	}
}

int
gw_relay_send(struct gw_relay *r, const char *country,
    enum gw_http_method method, const char *target, const char *headers,
    gw_relay_cb cb, void *arg)
{
	struct peer_state *ps = NULL;
	struct relay_call *call;
	const char *m = method_name(method);
	bool v6 = false;
	size_t n;

	for (int i = 0; i < r->n; i++)
		if (strcmp(r->ps[i].peer->country, country) == 0)
			ps = &r->ps[i];
	if (ps == NULL || m == NULL)
		return GW_ERR;
	v6 = strchr(ps->peer->host, ':') != NULL;
	call = gw_calloc(1, sizeof(*call));
	call->ps = ps;
	call->method = method;
	call->cb = cb;
	call->arg = arg;
	call->deadline = evtimer_new(r->base, call_deadline_cb, call);
	n = strlen(m) + strlen(ps->peer->base_path) + strlen(target) +
	    strlen(ps->peer->host) + (headers ? strlen(headers) : 0) + 64;
	call->request = gw_malloc(n);
	snprintf(call->request, n,
	    v6 ? "%s %s%s HTTP/1.1\r\nHost: [%s]:%d\r\n%s\r\n" :
		 "%s %s%s HTTP/1.1\r\nHost: %s:%d\r\n%s\r\n",
	    m, ps->peer->base_path, target, ps->peer->host, ps->peer->port,
	    headers ? headers : "");
	if (ps->open_until > time(NULL)) {
		call_defer(r, call, 503, seconds_left(ps),
		    "peer skipped after repeated failures");
		return GW_OK;
	}
	if (ps->nqueued >= MAX_QUEUE) {
		call_defer(r, call, 503, 1,
		    "too many calls waiting for the peer");
		return GW_OK;
	}
	{
		int ms = ps->peer->connect_timeout_ms +
		    ps->peer->response_timeout_ms;
		struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

		event_add(call->deadline, &tv);
	}
	enqueue(ps, call, false);
	dispatch(ps);
	return GW_OK;
}

/* Resolve the peer's host once (blocking, at start-up). */
static int
resolve(const struct gw_peer *peer, struct peer_addrs *pa)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res = NULL, *ai;
	unsigned char buf[sizeof(struct in6_addr)];
	char port[16];
	int rc;

	pa->ip_literal = inet_pton(AF_INET, peer->host, buf) == 1 ||
	    inet_pton(AF_INET6, peer->host, buf) == 1;
	snprintf(port, sizeof(port), "%d", peer->port);
	rc = getaddrinfo(peer->host, port, &hints, &res);
	if (rc != 0) {
		gw_error("relay: peer %s: cannot resolve %s: %s", peer->country,
		    peer->host, gai_strerror(rc));
		return GW_ERR;
	}
	for (ai = res; ai != NULL && pa->n < MAX_ADDRS; ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof(pa->ss[0]))
			continue;
		memcpy(&pa->ss[pa->n], ai->ai_addr, ai->ai_addrlen);
		pa->len[pa->n++] = ai->ai_addrlen;
	}
	freeaddrinfo(res);
	if (pa->n == 0) {
		gw_error("relay: peer %s: %s has no usable address",
		    peer->country, peer->host);
		return GW_ERR;
	}
	return GW_OK;
}

struct gw_relay_peers *
gw_relay_peers_new(const struct gw_peer *peers, int n)
{
	struct gw_relay_peers *p = gw_calloc(1, sizeof(*p));

	p->peers = peers;
	p->n = n;
	p->ctx = gw_calloc((size_t)(n > 0 ? n : 1), sizeof(*p->ctx));
	p->addrs = gw_calloc((size_t)(n > 0 ? n : 1), sizeof(*p->addrs));
	for (int i = 0; i < n; i++) {
		SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

		p->ctx[i] = ctx;
		if (ctx == NULL ||
		    !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
		    SSL_CTX_use_certificate_chain_file(ctx, peers[i].cert) != 1 ||
		    SSL_CTX_use_PrivateKey_file(ctx, peers[i].key,
			SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_check_private_key(ctx) != 1 ||
		    SSL_CTX_load_verify_locations(ctx, peers[i].ca, NULL) != 1) {
			gw_error("relay: peer %s: cannot load our certificate,"
			    " key or its CA", peers[i].country);
			ERR_clear_error();
			gw_relay_peers_free(p);
			return NULL;
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
		/* A peer that closes without close_notify is an end of file,
		 * not a protocol error: what it sent is framed (Content-Length
		 * or chunked), so a cut answer is still caught by the parser. */
		SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
		if (resolve(&peers[i], &p->addrs[i]) != GW_OK) {
			gw_relay_peers_free(p);
			return NULL;
		}
	}
	return p;
}

void
gw_relay_peers_free(struct gw_relay_peers *p)
{
	if (p == NULL)
		return;
	for (int i = 0; i < p->n; i++)
		SSL_CTX_free(p->ctx[i]);
	free(p->ctx);
	free(p->addrs);
	free(p);
}

const struct gw_peer *
gw_relay_peer(const struct gw_relay_peers *p, const char *country)
{
	for (int i = 0; p != NULL && i < p->n; i++)
		if (strcmp(p->peers[i].country, country) == 0)
			return &p->peers[i];
	return NULL;
}

struct gw_relay *
gw_relay_new(struct event_base *base, const struct gw_relay_peers *peers)
{
	struct gw_relay *r = gw_calloc(1, sizeof(*r));

	r->base = base;
	r->n = peers != NULL ? peers->n : 0;
	r->ps = gw_calloc((size_t)(r->n > 0 ? r->n : 1), sizeof(*r->ps));
	TAILQ_INIT(&r->done);
	r->done_ev = event_new(base, -1, 0, done_cb, r);
	for (int i = 0; i < r->n; i++) {
		struct peer_state *ps = &r->ps[i];

		ps->relay = r;
		ps->peer = &peers->peers[i];
		SSL_CTX_up_ref(peers->ctx[i]);
		ps->ctx = peers->ctx[i];
		gw_strlcpy(ps->pin, peers->peers[i].pin, sizeof(ps->pin));
		ps->addrs = peers->addrs[i];
		LIST_INIT(&ps->conns);
		TAILQ_INIT(&ps->queue);
	}
	return r;
}

void
gw_relay_free(struct gw_relay *r)
{
	struct relay_call *call;

	if (r == NULL)
		return;
	for (int i = 0; i < r->n; i++) {
		struct peer_state *ps = &r->ps[i];

		while (!LIST_EMPTY(&ps->conns)) {
			struct relay_conn *c = LIST_FIRST(&ps->conns);

			call = c->call;
			c->call = NULL;
			conn_close(c);
			if (call != NULL) {
				call->conn = NULL;
				call_fail(ps, call, 503, "shutting down",
				    false);
			}
		}
		while ((call = TAILQ_FIRST(&ps->queue)) != NULL) {
			dequeue(ps, call);
			call_fail(ps, call, 503, "shutting down", false);
		}
	}
	done_cb(-1, 0, r);
	event_free(r->done_ev);
	for (int i = 0; i < r->n; i++)
		SSL_CTX_free(r->ps[i].ctx);
	free(r->ps);
	free(r);
}

void
gw_relay_reload(struct gw_relay *r, const struct gw_relay_peers *p)
{
	for (int i = 0; i < r->n && i < p->n; i++) {
		struct peer_state *ps = &r->ps[i];
		struct relay_conn *c, *next;

		SSL_CTX_up_ref(p->ctx[i]);
		SSL_CTX_free(ps->ctx);
		ps->ctx = p->ctx[i];
		gw_strlcpy(ps->pin, p->peers[i].pin, sizeof(ps->pin));
		ps->addrs = p->addrs[i];
		ps->addr = 0;
		ps->gen++;
		/* What failed with the old material may work with the new. */
		ps->failures = 0;
		ps->open_until = 0;
		/* Idle connections go now; busy and connecting ones finish
		 * their call and are not pooled again (c->gen). */
		for (c = LIST_FIRST(&ps->conns); c != NULL; c = next) {
			next = LIST_NEXT(c, link);
			if (c->state == RC_IDLE)
				conn_close(c);
		}
	}
}
