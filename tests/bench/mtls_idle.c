/*
 * mtls_idle.c: hold many idle keep-alive mutual-TLS connections open against a
 * server, for the idle-connection row of the fhirgw benchmark (DESIGN.md
 * section 9: 10,000 idle keep-alive mTLS connections in under 200 MB RSS, new
 * requests still served).
 *
 * One thread, epoll, non-blocking OpenSSL, the client certificate and framing
 * of mtls_load.c (mtls_common.c).  It opens N connections, at most P at a time
 * in progress; on each it completes a full handshake (no resumption) and one
 * keep-alive HTTP/1.1 request, so that every connection is a real kept-alive
 * one, then leaves it idle.  Then it prints "READY" and obeys one-line commands
 * on stdin, so that the driver (tests/bench/bench.py) can measure the server
 * meanwhile:
 *
 *   status   print "STATUS open=... closed_by_peer=..." (idle connections the
 * server closed are noticed at once: every idle connection waits for EPOLLIN)
 *   reuse    send one more request on every open connection, P at a time, and
 * print "REUSE ok=... failed=... non2xx=... seconds=... p50_ms=... p99_ms=..."
 *   close    (or end of input) close every connection with a close_notify,
 * print the "RESULT ..." line and exit
 *
 * usage: mtls_idle -N COUNT [-p PARALLEL] -E CERTKEY.pem [-H 'Name: value']...
 * [-s SECS] https://127.0.0.1:PORT/PATH -p   connections in progress at once
 * while opening (default 64) -s   timeout of one connection's handshake and
 * request, or of one reuse, in s (30) Lines printed: "OPEN idle=... failed=...
 * seconds=... rate=..." then "READY" once all N were tried.  Exit status: 0
 * when every connection opened and was still open at the end, 1 otherwise, 2 on
 * usage or setup errors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mtls_common.h"

enum state {
	S_UNUSED, /* not opened yet, or closed */
	S_CONNECTING,
	S_HANDSHAKE,
	S_WRITING,
	S_READING,
	S_IDLE, /* kept alive, waiting */
};

struct conn {
	struct mt_sock s;
	enum state st;
	double t_start;
	size_t wpos;
	struct mt_resp resp;
};

static struct {
	long count;
	int parallel;
	double timeout;
	const char *pem;
	struct mt_target tgt;
	char *req;
	size_t req_len;
} opt = {.count = 1, .parallel = 64, .timeout = 30.0};

/* Counters of the phase running (open, reuse) and of the whole run. */
static struct {
	long in_progress, ok, failed, non2xx;
	long connect_err, tls_err, read_err, proto_err, timeouts;
	long idle, closed_by_peer;
	double *lat;
	long nlat;
	char proto[64], cipher[128];
} st;

static SSL_CTX *ctx;
static int ep;
static struct conn *conns;

static void
set_events(struct conn *c, uint32_t ev)
{
	mt_sock_set_events(&c->s, ep, c, ev);
}

static void
conn_close(struct conn *c, bool polite)
{
	mt_sock_close(&c->s, polite);
	if (c->st == S_IDLE)
		st.idle--;
	c->st = S_UNUSED;
}

/* The connection or its request failed: count it under counter and close it. */
static void
conn_fail(struct conn *c, long *counter)
{
	(*counter)++;
	st.failed++;
	st.in_progress--;
	conn_close(c, false);
}

static void
conn_open(struct conn *c)
{
	int r = mt_sock_open(&c->s, ep, ctx, &opt.tgt, c);

	st.in_progress++;
	c->t_start = mt_now();
	c->wpos = 0;
	mt_resp_reset(&c->resp);
	if (r > 0)
		c->st = S_HANDSHAKE;
	else if (r == 0)
		c->st = S_CONNECTING;
	else
		conn_fail(c, &st.connect_err);
}

static void
request_done(struct conn *c)
{
	st.in_progress--;
	if (st.lat != NULL)
		st.lat[st.nlat++] = mt_now() - c->t_start;
	if (c->resp.status >= 200 && c->resp.status < 300) {
		st.ok++;
	} else {
		st.non2xx++;
		st.failed++;
	}
	if (c->resp.server_close) {
		conn_close(c, true);
		return;
	}
	c->st = S_IDLE;
	st.idle++;
	set_events(c, EPOLLIN); /* notice a close by the server at once */
}

/* Advance c as far as it goes without blocking. */
static void
drive(struct conn *c)
{
	for (;;) {
		switch (c->st) {
		case S_UNUSED:
		case S_IDLE:
			return;
		case S_CONNECTING:
			switch (mt_sock_connect_step(&c->s)) {
			case MT_STEP_DONE:
				c->st = S_HANDSHAKE;
				break;
			case MT_STEP_WAIT:
				return;
			default:
				conn_fail(c, &st.connect_err);
				return;
			}
			break;
		case S_HANDSHAKE:
			switch (mt_sock_handshake_step(&c->s, ep, c)) {
			case MT_STEP_DONE:
				mt_note_tls(c->s.ssl, st.proto, sizeof(st.proto),
				    st.cipher, sizeof(st.cipher));
				c->st = S_WRITING;
				break;
			case MT_STEP_WAIT:
				return;
			default:
				conn_fail(c, &st.tls_err);
				return;
			}
			break;
		case S_WRITING:
			switch (mt_sock_write_step(&c->s, ep, c, opt.req,
			    opt.req_len, &c->wpos)) {
			case MT_STEP_DONE:
				c->st = S_READING;
				set_events(c, EPOLLIN);
				break;
			case MT_STEP_WAIT:
				return;
			default:
				conn_fail(c, &st.tls_err);
				return;
			}
			break;
		case S_READING:
			switch (mt_sock_read_step(&c->s, ep, c, &c->resp)) {
			case MT_STEP_DONE:
				request_done(c);
				return;
			case MT_STEP_WAIT:
				return;
			case MT_STEP_PROTO:
				conn_fail(c, &st.proto_err);
				return;
			case MT_STEP_FAIL:
				conn_fail(c, &st.read_err);
				return;
			}
			break;
		}
	}
}

/* An idle connection became readable: a close by the server (or a late TLS 1.3
 * session ticket, which is read and ignored). */
static void
idle_event(struct conn *c)
{
	char b[512];
	int r;

	ERR_clear_error();
	r = SSL_read(c->s.ssl, b, sizeof(b));
	if (r <= 0 && SSL_get_error(c->s.ssl, r) == SSL_ERROR_WANT_READ)
		return;
	st.closed_by_peer++;
	conn_close(c, false);
}

/* Handle the events of one epoll_wait; stdin_line gets a command line if one
 * came. */
static bool
poll_once(int timeout_ms, char *line, size_t linesz, bool *eof)
{
	struct epoll_event evs[512];
	int n = epoll_wait(ep, evs, 512, timeout_ms), k;
	bool got = false;

	if (n < 0 && errno != EINTR)
		mt_die("epoll_wait: %s", strerror(errno));
	for (k = 0; k < n; k++) {
		struct conn *c = evs[k].data.ptr;

		if (c == NULL) { /* stdin */
			if (fgets(line, (int)linesz, stdin) == NULL)
				*eof = true;
			else
				got = true;
			continue;
		}
		if (c->s.fd < 0)
			continue;
		if (c->st == S_IDLE)
			idle_event(c);
		else
			drive(c);
	}
	return got;
}

/* Time out requests in progress for longer than -s. */
static void
check_timeouts(void)
{
	double t = mt_now();

	for (long i = 0; i < opt.count; i++) {
		struct conn *c = &conns[i];
		if (c->s.fd >= 0 && c->st != S_IDLE && c->st != S_UNUSED &&
		    t - c->t_start > opt.timeout)
			conn_fail(c, &st.timeouts);
	}
}

static double
pct(double p)
{
	return mt_percentile_ms(st.lat, st.nlat, p);
}

static void
reset_phase(void)
{
	st.ok = st.failed = st.non2xx = 0;
	st.connect_err = st.tls_err = st.read_err = st.proto_err = st.timeouts =
	    0;
	st.nlat = 0;
}

/* Open all N connections, P at a time, each with one request. */
static void
open_all(void)
{
	long next = 0;
	double t0 = mt_now(), el;
	char line[256];
	bool eof = false;

	reset_phase();
	while (next < opt.count || st.in_progress > 0) {
		while (next < opt.count && st.in_progress < opt.parallel) {
			conn_open(&conns[next]);
			drive(&conns[next]);
			next++;
		}
		(void)poll_once(100, line, sizeof(line), &eof);
		check_timeouts();
	}
	el = mt_now() - t0;
	qsort(st.lat, (size_t)st.nlat, sizeof(double), mt_cmp_double);
	printf(
	    "OPEN idle=%ld failed=%ld non2xx=%ld connect_err=%ld tls_err=%ld "
	    "read_err=%ld proto_err=%ld timeouts=%ld closed_by_peer=%ld "
	    "seconds=%.3f "
	    "rate=%.1f p50_ms=%.3f p99_ms=%.3f proto=%s cipher=%s\n",
	    st.idle, st.failed, st.non2xx, st.connect_err, st.tls_err,
	    st.read_err, st.proto_err, st.timeouts, st.closed_by_peer, el,
	    el > 0 ? (double)st.ok / el : 0.0, pct(50), pct(99),
	    st.proto[0] ? st.proto : "-", st.cipher[0] ? st.cipher : "-");
	printf("READY\n");
	fflush(stdout);
}

/* One more request on every open connection, at most P in flight: is each one
 * still usable after its idle time?  (Not a burst of N requests at once: a
 * server that sheds such a burst with 503s would be doing its job.) */
static void
reuse_all(void)
{
	double t0 = mt_now(), el;
	long sent = 0, next = 0;
	char line[256];
	bool eof = false;

	reset_phase();
	while (next < opt.count || st.in_progress > 0) {
		while (next < opt.count && st.in_progress < opt.parallel) {
			struct conn *c = &conns[next++];
			if (c->st != S_IDLE)
				continue;
			st.idle--;
			st.in_progress++;
			sent++;
			c->t_start = mt_now();
			c->wpos = 0;
			mt_resp_reset(&c->resp);
			c->st = S_WRITING;
			drive(c);
		}
		(void)poll_once(100, line, sizeof(line), &eof);
		check_timeouts();
	}
	el = mt_now() - t0;
	qsort(st.lat, (size_t)st.nlat, sizeof(double), mt_cmp_double);
	printf("REUSE sent=%ld ok=%ld failed=%ld non2xx=%ld seconds=%.3f "
	       "p50_ms=%.3f "
	       "p99_ms=%.3f max_ms=%.3f open=%ld\n",
	    sent, st.ok, st.failed, st.non2xx, el, pct(50), pct(99), pct(100),
	    st.idle);
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	const char *headers[MT_MAX_HEADERS];
	int nheaders = 0, ch;
	long opened, open_at_end, limit;
	struct epoll_event e = {.events = EPOLLIN, .data.ptr = NULL};
	char line[256];
	bool eof = false;

	mt_progname = "mtls_idle";
	while ((ch = getopt(argc, argv, "N:p:E:H:s:")) != -1) {
		switch (ch) {
		case 'N':
			opt.count = strtol(optarg, NULL, 10);
			break;
		case 'p':
			opt.parallel = (int)strtol(optarg, NULL, 10);
			break;
		case 'E':
			opt.pem = optarg;
			break;
		case 'H':
			if (nheaders == MT_MAX_HEADERS ||
			    strpbrk(optarg, "\r\n") != NULL)
				goto usage;
			headers[nheaders++] = optarg;
			break;
		case 's':
			opt.timeout = strtod(optarg, NULL);
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc - 1 || opt.count < 1 || opt.parallel < 1 ||
	    opt.pem == NULL || opt.timeout <= 0)
		goto usage;
	mt_parse_url(argv[optind], &opt.tgt);
	opt.req = mt_request(&opt.tgt, true, headers, nheaders, &opt.req_len);
	ctx = mt_client_ctx(opt.pem);
	/* Idle client connections need no buffers either. */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	limit = mt_raise_nofile(opt.count + 64);
	if (limit < opt.count + 16)
		mt_die("RLIMIT_NOFILE is %ld, too low for %ld connections",
		    limit, opt.count);
	conns = calloc((size_t)opt.count, sizeof(*conns));
	st.lat = calloc((size_t)opt.count, sizeof(double));
	if (conns == NULL || st.lat == NULL)
		mt_die("out of memory");
	for (long i = 0; i < opt.count; i++)
		conns[i].s.fd = -1;
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		mt_die("epoll_create1: %s", strerror(errno));
	if (epoll_ctl(ep, EPOLL_CTL_ADD, STDIN_FILENO, &e) != 0)
		mt_die("epoll_ctl stdin: %s (stdin must be a pipe or terminal)",
		    strerror(errno));
	setvbuf(stdin, NULL, _IONBF, 0);

	open_all();
	opened = st.idle;
	while (!eof) {
		if (!poll_once(1000, line, sizeof(line), &eof))
			continue;
		if (strncmp(line, "status", 6) == 0) {
			printf("STATUS open=%ld closed_by_peer=%ld\n", st.idle,
			    st.closed_by_peer);
			fflush(stdout);
		} else if (strncmp(line, "reuse", 5) == 0) {
			reuse_all();
		} else if (strncmp(line, "close", 5) == 0) {
			break;
		} else {
			fprintf(stderr, "mtls_idle: unknown command: %s", line);
		}
	}
	open_at_end = st.idle;
	printf("RESULT opened=%ld open_at_end=%ld closed_by_peer=%ld\n", opened,
	    open_at_end, st.closed_by_peer);
	fflush(stdout);
	for (long i = 0; i < opt.count; i++)
		if (conns[i].s.fd >= 0)
			conn_close(&conns[i], true);
	SSL_CTX_free(ctx);
	return (opened == opt.count && open_at_end == opened) ? 0 : 1;
usage:
	fprintf(stderr,
	    "usage: mtls_idle -N COUNT [-p PARALLEL] -E CERTKEY.pem "
	    "[-H 'Name: value']... [-s SECS] https://127.0.0.1:PORT/PATH\n");
	return 2;
}
