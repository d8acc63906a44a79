/*
 * mtls_load.c: a small HTTP/1.1-over-mutual-TLS load generator for the fhirgw benchmarks.
 *
 * Why it exists: ApacheBench speaks HTTP/1.0 and, with -k, keeps a connection only if the
 * response says "keep-alive".  A server that answers HTTP/1.1 and keeps the connection
 * open without saying so (legal for HTTP/1.1, but not what an HTTP/1.0 client can rely
 * on) makes `ab -k` wait for a close that never comes.  This client sends HTTP/1.1
 * requests, frames responses by Content-Length and so measures such a server and nginx
 * the same way.  tests/bench/bench.py uses it when the gateway fails its keep-alive probe
 * (or with --client mtls_load).
 *
 * One thread, epoll, non-blocking OpenSSL; like ab: -c connections, -n requests in all,
 * no server certificate verification, no TLS session resumption (every new connection is
 * a full handshake).  Latency of a request: from its first byte written (or from the
 * connect() of the new connection it needed) to its last response byte.
 *
 * usage: mtls_load -c CONC -n TOTAL [-k] -E CERTKEY.pem [-H 'Name: value']... [-s SECS]
 *                  https://127.0.0.1:PORT/PATH
 *   -k   keep-alive (HTTP/1.1 persistent connections); without it every request carries
 *        "Connection: close" and gets a new connection and a full TLS handshake
 *   -E   client certificate chain and key in one PEM file
 *   -s   per-request timeout in seconds (default 10)
 * Output: a few human-readable lines, then one line starting "RESULT " with key=value pairs
 * (complete, non2xx, failed, ..., rps, p50_ms, p90_ms, p99_ms, max_ms).
 * Exit status: 0 if every request got a complete response, 1 if some failed, 2 on usage
 * or setup errors.
 *
 * URL, TLS context, request bytes and response framing are shared with mtls_idle.c
 * (mtls_common.c): cc -O2 mtls_load.c mtls_common.c -lssl -lcrypto -lm.
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


enum state { S_IDLE, S_CONNECTING, S_HANDSHAKE, S_WRITING, S_READING };

struct conn {
	struct mt_sock s;	/* socket, SSL, epoll interest */
	enum state st;
	bool reused;		/* this request runs on a connection that served one */
	int served;		/* responses on this connection */
	double t_start;		/* request (or its connection) start, seconds */
	size_t wpos;		/* bytes of the request written */
	struct mt_resp resp;	/* the response being received */
};

static struct {
	int conc;
	long total;
	bool keepalive;
	double timeout;
	const char *pem;
	struct mt_target tgt;
	char *req;
	size_t req_len;
} opt = { .conc = 1, .total = 1, .timeout = 10.0 };

static struct {
	long started, done, ok2xx, non2xx, failed;
	long connect_err, tls_err, read_err, timeouts, proto_err, reconnects;
	long length_mismatch, keepalive_reqs, connections;
	long long body_bytes, head_bytes, doc_len;
	double *lat;
	char proto[64], cipher[128];
} st = { .doc_len = -1 };

static SSL_CTX *ctx;
static int ep;

static void
usage(void)
{
	fprintf(stderr, "usage: mtls_load -c CONC -n TOTAL [-k] -E CERTKEY.pem "
	    "[-H 'Name: value']... [-s SECS] https://127.0.0.1:PORT/PATH\n");
	exit(2);
}

static void
set_events(struct conn *c, uint32_t ev)
{
	mt_sock_set_events(&c->s, ep, c, ev);
}

static void
drop(struct conn *c, bool polite)
{
	mt_sock_close(&c->s, polite);
	c->st = S_IDLE;
	c->served = 0;
}

static void
reset_response(struct conn *c)
{
	c->wpos = 0;
	mt_resp_reset(&c->resp);
}

/* Open a new connection for the current request. */
static void
open_conn(struct conn *c)
{
	int r = mt_sock_open(&c->s, ep, ctx, &opt.tgt, c);

	st.connections++;
	c->served = 0;
	if (r > 0) {
		c->st = S_HANDSHAKE;
	} else if (r == 0) {
		c->st = S_CONNECTING;
	} else {
		st.connect_err++;
		c->st = S_CONNECTING;	/* reported as failure by the caller's drive */
		drop(c, false);
	}
}

/* Start the next request on c, if any remain (the caller drives c). */
static void
next_request(struct conn *c)
{
	if (st.started >= opt.total) {
		if (c->s.fd >= 0)
			drop(c, true);
		return;
	}
	st.started++;
	reset_response(c);
	c->t_start = mt_now();
	if (c->s.fd >= 0 && c->st == S_IDLE) {
		c->reused = true;
		c->st = S_WRITING;
	} else {
		c->reused = false;
		open_conn(c);
		if (c->s.fd < 0) {	/* connect() failed at once */
			st.failed++;
			st.done++;
		}
	}
}

/* The request in flight on c failed; count it and move on. */
static void
fail_request(struct conn *c, long *counter)
{
	(*counter)++;
	st.failed++;
	st.done++;
	drop(c, false);
	if (st.failed > 1000 && st.failed > opt.total / 10) {
		fprintf(stderr, "mtls_load: too many failures (%ld), giving up\n", st.failed);
		return;
	}
	next_request(c);
}

static void
complete_request(struct conn *c)
{
	double t = mt_now() - c->t_start;
	st.lat[st.done - st.failed] = t;	/* successful ones only */
	st.done++;
	if (c->resp.status >= 200 && c->resp.status < 300)
		st.ok2xx++;
	else
		st.non2xx++;
	st.body_bytes += c->resp.body_got;
	st.head_bytes += (long long)c->resp.head_len;
	if (st.doc_len < 0)
		st.doc_len = c->resp.body_got;
	else if (c->resp.body_got != st.doc_len)
		st.length_mismatch++;
	if (c->reused)
		st.keepalive_reqs++;
	c->served++;
	if (!opt.keepalive || c->resp.server_close) {
		drop(c, true);
	} else {
		c->st = S_IDLE;
		set_events(c, EPOLLIN);	/* notice a close while idle */
	}
	next_request(c);	/* the caller goes on driving c */
}

/* The server closed a kept-alive connection before any byte of this
 * request's answer: not a failure, the request goes again on a new one. */
static void
retry_on_new_connection(struct conn *c)
{
	st.reconnects++;
	drop(c, false);
	st.started--;
	next_request(c);
}

/* Advance c as far as it goes without blocking: through as many requests as can
 * complete without waiting (a loop, not recursion). */
static void
drive(struct conn *c)
{
	for (;;) {
		switch (c->st) {
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
				fail_request(c, &st.connect_err);
				break;
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
				fail_request(c, &st.tls_err);
				break;
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
				if (c->reused)
					retry_on_new_connection(c);
				else
					fail_request(c, &st.tls_err);
				break;
			}
			break;
		case S_READING:
			switch (mt_sock_read_step(&c->s, ep, c, &c->resp)) {
			case MT_STEP_DONE:
				complete_request(c);
				break;
			case MT_STEP_WAIT:
				return;
			case MT_STEP_PROTO:
				fail_request(c, &st.proto_err);
				break;
			case MT_STEP_FAIL:
				/* EOF (with or without close_notify) or an error. */
				if (c->reused && c->resp.head_len == 0)
					retry_on_new_connection(c);
				else
					fail_request(c, &st.read_err);
				break;
			}
			break;
		}
	}
}

/* An idle keep-alive connection became readable: EOF or unexpected bytes. */
static void
idle_event(struct conn *c)
{
	char b[256];
	int r;

	ERR_clear_error();
	r = SSL_read(c->s.ssl, b, sizeof(b));
	if (r > 0) {
		st.proto_err++;	/* bytes nobody asked for */
		drop(c, false);
		return;
	}
	if (SSL_get_error(c->s.ssl, r) == SSL_ERROR_WANT_READ)
		return;	/* e.g. a TLS 1.3 session ticket */
	drop(c, false);	/* closed while idle: reconnect on the next request */
}


int
main(int argc, char **argv)
{
	const char *headers[MT_MAX_HEADERS];
	int nheaders = 0, ch, i;
	struct conn *conns;
	double t0, elapsed;
	long nok;

	mt_progname = "mtls_load";
	while ((ch = getopt(argc, argv, "c:n:kE:H:s:")) != -1) {
		switch (ch) {
		case 'c': opt.conc = (int)strtol(optarg, NULL, 10); break;
		case 'n': opt.total = strtol(optarg, NULL, 10); break;
		case 'k': opt.keepalive = true; break;
		case 'E': opt.pem = optarg; break;
		case 'H':
			if (nheaders == MT_MAX_HEADERS || strpbrk(optarg, "\r\n") != NULL)
				usage();
			headers[nheaders++] = optarg;
			break;
		case 's': opt.timeout = strtod(optarg, NULL); break;
		default: usage();
		}
	}
	if (optind != argc - 1 || opt.conc < 1 || opt.total < 1 || opt.pem == NULL ||
	    opt.timeout <= 0)
		usage();
	if (opt.conc > opt.total)
		opt.conc = (int)opt.total;
	mt_parse_url(argv[optind], &opt.tgt);
	opt.req = mt_request(&opt.tgt, opt.keepalive, headers, nheaders, &opt.req_len);
	ctx = mt_client_ctx(opt.pem);
	/* c connections, each may be new at any moment, plus a few. */
	if (mt_raise_nofile(opt.conc + 64) < opt.conc + 16)
		mt_die("RLIMIT_NOFILE too low for %d connections", opt.conc);

	st.lat = calloc((size_t)opt.total, sizeof(double));
	conns = calloc((size_t)opt.conc, sizeof(struct conn));
	if (st.lat == NULL || conns == NULL)
		mt_die("out of memory");
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		mt_die("epoll_create1: %s", strerror(errno));

	t0 = mt_now();
	for (i = 0; i < opt.conc; i++) {
		conns[i].s.fd = -1;
		conns[i].st = S_IDLE;
		next_request(&conns[i]);
		drive(&conns[i]);
	}
	while (st.done < opt.total) {
		struct epoll_event evs[256];
		int n = epoll_wait(ep, evs, 256, 100), k;
		double tn;

		if (n < 0 && errno != EINTR)
			mt_die("epoll_wait: %s", strerror(errno));
		for (k = 0; k < n; k++) {
			struct conn *c = evs[k].data.ptr;
			if (c->s.fd < 0)
				continue;
			if (c->st == S_IDLE)
				idle_event(c);
			else
				drive(c);
		}
		if (st.failed > 1000 && st.failed > opt.total / 10)
			break;
		/* Timeouts, and idle connections whose next request never started. */
		tn = mt_now();
		for (i = 0; i < opt.conc; i++) {
			struct conn *c = &conns[i];
			if (c->s.fd >= 0 && c->st != S_IDLE && tn - c->t_start > opt.timeout) {
				fail_request(c, &st.timeouts);
				drive(c);
			} else if (c->s.fd < 0 && c->st == S_IDLE && st.started < opt.total) {
				next_request(c);
				drive(c);
			}
		}
		/* Nothing in flight and nothing left to start: stop. */
		if (st.started >= opt.total) {
			bool busy = false;
			for (i = 0; i < opt.conc; i++)
				if (conns[i].s.fd >= 0 && conns[i].st != S_IDLE)
					busy = true;
			if (!busy)
				break;
		}
	}
	elapsed = mt_now() - t0;
	for (i = 0; i < opt.conc; i++)
		if (conns[i].s.fd >= 0)
			drop(&conns[i], true);

	nok = st.done - st.failed;
	qsort(st.lat, (size_t)nok, sizeof(double), mt_cmp_double);
	printf("Server: %s:%d%s  TLS: %s %s\n", opt.tgt.host, opt.tgt.port, opt.tgt.path,
	    st.proto[0] ? st.proto : "-", st.cipher[0] ? st.cipher : "-");
	printf("Concurrency %d, keep-alive %s: %ld requests in %.3f s = %.2f req/s\n",
	    opt.conc, opt.keepalive ? "on" : "off", st.done, elapsed,
	    elapsed > 0 ? (double)nok / elapsed : 0.0);
	printf("Responses: %ld 2xx, %ld non-2xx; failed %ld; connections %ld\n",
	    st.ok2xx, st.non2xx, st.failed, st.connections);
	printf("Latency ms: p50 %.3f  p90 %.3f  p99 %.3f  max %.3f\n",
	    mt_percentile_ms(st.lat, nok, 50), mt_percentile_ms(st.lat, nok, 90), mt_percentile_ms(st.lat, nok, 99),
	    mt_percentile_ms(st.lat, nok, 100));
	printf("RESULT complete=%ld ok2xx=%ld non2xx=%ld failed=%ld connect_err=%ld "
	    "tls_err=%ld read_err=%ld timeouts=%ld proto_err=%ld reconnects=%ld "
	    "length_mismatch=%ld keepalive_reqs=%ld connections=%ld body_bytes=%lld "
	    "head_bytes=%lld doc_len=%lld elapsed_s=%.6f rps=%.2f p50_ms=%.4f "
	    "p90_ms=%.4f p99_ms=%.4f max_ms=%.4f proto=%s cipher=%s\n",
	    nok, st.ok2xx, st.non2xx, st.failed, st.connect_err, st.tls_err, st.read_err,
	    st.timeouts, st.proto_err, st.reconnects, st.length_mismatch,
	    st.keepalive_reqs, st.connections, st.body_bytes, st.head_bytes, st.doc_len,
	    elapsed, elapsed > 0 ? (double)nok / elapsed : 0.0, mt_percentile_ms(st.lat, nok, 50),
	    mt_percentile_ms(st.lat, nok, 90), mt_percentile_ms(st.lat, nok, 99), mt_percentile_ms(st.lat, nok, 100),
	    st.proto[0] ? st.proto : "-", st.cipher[0] ? st.cipher : "-");
	SSL_CTX_free(ctx);
	return (st.failed > 0 || st.done < opt.total) ? 1 : 0;
}
