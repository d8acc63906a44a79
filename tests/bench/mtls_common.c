/*
 * mtls_common.c: target URL, client SSL_CTX, request bytes, response framing
 * and the descriptor limit for the benchmark clients (mtls_common.h). Responses
 * are framed by Content-Length only: the servers measured (fhirgw, nginx
 * serving a file) always send it, and anything else is reported as a protocol
 * error rather than guessed at.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "mtls_common.h"

const char *mt_progname = "mtls";

double
mt_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void
mt_die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s: ", mt_progname);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	ERR_print_errors_fp(stderr);
	exit(2);
}

void
mt_parse_url(const char *url, struct mt_target *t)
{
	const char *p, *slash, *colon;
	size_t hl;

	memset(t, 0, sizeof(*t));
	if (strncmp(url, "https://", 8) != 0)
		mt_die("only https:// URLs: %s", url);
	p = url + 8;
	slash = strchr(p, '/');
	if (slash == NULL)
		slash = p + strlen(p);
	colon = memchr(p, ':', (size_t)(slash - p));
	if (colon == NULL)
		mt_die("the URL needs an explicit port: %s", url);
	hl = (size_t)(colon - p);
	if (hl == 0 || hl >= sizeof(t->host))
		mt_die("bad host in %s", url);
	memcpy(t->host, p, hl);
	t->host[hl] = '\0';
	t->port = (int)strtol(colon + 1, NULL, 10);
	if (t->port <= 0 || t->port > 65535)
		mt_die("bad port in %s", url);
	snprintf(t->path, sizeof(t->path), "%s", *slash ? slash : "/");
	t->addr.sin_family = AF_INET;
	t->addr.sin_port = htons((uint16_t)t->port);
	if (inet_pton(AF_INET, t->host, &t->addr.sin_addr) != 1)
		mt_die("host must be a numeric IPv4 address: %s", t->host);
	if ((ntohl(t->addr.sin_addr.s_addr) >> 24) != 127)
		mt_die("refusing a non-loopback address: %s", t->host);
}

SSL_CTX *
mt_client_ctx(const char *pem)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL)
		mt_die("SSL_CTX_new");
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (SSL_CTX_use_certificate_chain_file(ctx, pem) != 1)
		mt_die("cannot load the certificate chain from %s", pem);
	if (SSL_CTX_use_PrivateKey_file(ctx, pem, SSL_FILETYPE_PEM) != 1)
		mt_die("cannot load the private key from %s", pem);
	if (SSL_CTX_check_private_key(ctx) != 1)
		mt_die("certificate and key in %s do not match", pem);
	return ctx;
}

char *
mt_request(const struct mt_target *t, bool keepalive,
    const char *const *headers, int nheaders, size_t *len)
{
	size_t cap = strlen(t->path) + 256, n;
	char *req;
	int i;

	for (i = 0; i < nheaders; i++)
		cap += strlen(headers[i]) + 2;
	req = malloc(cap);
	if (req == NULL)
		mt_die("out of memory");
	n = (size_t)snprintf(req, cap,
	    "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: %s\r\nAccept: "
	    "*/*\r\n%s",
	    t->path, t->host, t->port, mt_progname,
	    keepalive ? "" : "Connection: close\r\n");
	for (i = 0; i < nheaders; i++)
		n += (size_t)snprintf(req + n, cap - n, "%s\r\n", headers[i]);
	n += (size_t)snprintf(req + n, cap - n, "\r\n");
	*len = n;
	return req;
}

void
mt_resp_reset(struct mt_resp *r)
{
	r->head_len = 0;
	r->head_done = false;
	r->status = 0;
	r->clen = -1;
	r->body_got = 0;
	r->server_close = false;
}

/* Parse the complete head in r->head (ends with CRLFCRLF). */
static bool
parse_head(struct mt_resp *r)
{
	char *p = r->head, *end = r->head + r->head_len, *eol;

	if (r->head_len < 12 || strncmp(p, "HTTP/1.", 7) != 0)
		return false;
	r->status = (int)strtol(p + 9, NULL, 10);
	if (r->status < 100 || r->status > 999)
		return false;
	for (;;) {
		eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		if (eol == NULL || eol == p)
			break;
		p = eol + 2;
		if (p >= end || (p[0] == '\r' && p[1] == '\n'))
			break;
		if (strncasecmp(p, "Content-Length:", 15) == 0) {
			r->clen = strtoll(p + 15, NULL, 10);
		} else if (strncasecmp(p, "Transfer-Encoding:", 18) == 0) {
			return false; /* chunked: not needed here, not supported
			               */
		} else if (strncasecmp(p, "Connection:", 11) == 0) {
			char *q = p + 11,
			     *e = memmem(p, (size_t)(end - p), "\r\n", 2);
			while (q < e && (*q == ' ' || *q == '\t'))
				q++;
			if (e - q >= 5 && strncasecmp(q, "close", 5) == 0)
				r->server_close = true;
		}
	}
	return r->clen >= 0;
}

int
mt_resp_consume(struct mt_resp *r, const char *buf, size_t n)
{
	size_t i = 0;

	if (!r->head_done) {
		/* Copy byte by byte until CRLFCRLF: heads are small. */
		for (; i < n; i++) {
			if (r->head_len >= MT_HEAD_MAX - 1)
				return -1;
			r->head[r->head_len++] = buf[i];
			if (r->head_len >= 4 &&
			    memcmp(r->head + r->head_len - 4, "\r\n\r\n", 4) ==
			        0) {
				i++;
				r->head_done = true;
				if (!parse_head(r))
					return -1;
				break;
			}
		}
	}
	if (!r->head_done)
		return 0;
	r->body_got += (long long)(n - i);
	if (r->body_got > r->clen)
		return -1; /* bytes after the response: not expected */
	return r->body_got == r->clen ? 1 : 0;
}

long
mt_raise_nofile(long want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return -1;
	if (rl.rlim_cur != RLIM_INFINITY && (long)rl.rlim_cur < want) {
		if (rl.rlim_max != RLIM_INFINITY && (long)rl.rlim_max < want) {
			struct rlimit hi = {(rlim_t)want, (rlim_t)want};
			if (setrlimit(RLIMIT_NOFILE, &hi) == 0) /* root only */
				return want;
		}
		rl.rlim_cur =
		    rl.rlim_max != RLIM_INFINITY && (long)rl.rlim_max < want
		        ? rl.rlim_max
		        : (rlim_t)want;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			fprintf(stderr, "%s: setrlimit(NOFILE): %s\n",
			    mt_progname, strerror(errno));
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur == RLIM_INFINITY ? want : (long)rl.rlim_cur;
}

int
mt_sock_open(struct mt_sock *s, int ep, SSL_CTX *ctx,
    const struct mt_target *t, void *owner)
{
	int one = 1;
	struct epoll_event e = {.events = EPOLLOUT, .data.ptr = owner};

	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		mt_die("socket: %s (raise the descriptor limit)",
		    strerror(errno));
	setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	s->ssl = SSL_new(ctx);
	if (s->ssl == NULL)
		mt_die("SSL_new");
	SSL_set_fd(s->ssl, s->fd);
	SSL_set_tlsext_host_name(s->ssl, "localhost");
	SSL_set_connect_state(s->ssl);
	s->ev = EPOLLOUT;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &e) != 0)
		mt_die("epoll_ctl ADD: %s", strerror(errno));
	if (connect(s->fd, (const struct sockaddr *)&t->addr,
	        sizeof(t->addr)) == 0)
		return 1;
	if (errno == EINPROGRESS)
		return 0;
	{
		int err = errno;

		mt_sock_close(s, false);
		errno = err;
	}
	return -1;
}

void
mt_sock_set_events(struct mt_sock *s, int ep, void *owner, uint32_t ev)
{
	struct epoll_event e = {.events = ev, .data.ptr = owner};

	if (s->ev == ev)
		return;
	s->ev = ev;
	if (epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &e) != 0)
		mt_die("epoll_ctl MOD: %s", strerror(errno));
}

bool
mt_sock_wait(struct mt_sock *s, int ep, void *owner, int err)
{
	if (err == SSL_ERROR_WANT_READ)
		mt_sock_set_events(s, ep, owner, EPOLLIN);
	else if (err == SSL_ERROR_WANT_WRITE)
		mt_sock_set_events(s, ep, owner, EPOLLOUT);
	else
		return false;
	return true;
}

enum mt_step
mt_sock_connect_step(struct mt_sock *s)
{
	int soerr = 0;
	socklen_t len = sizeof(soerr);
	struct sockaddr_in peer;
	socklen_t plen = sizeof(peer);

	getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
	if (soerr != 0)
		return MT_STEP_FAIL;
	/* No peer yet: still connecting, EPOLLOUT will say when. */
	if (getpeername(s->fd, (struct sockaddr *)&peer, &plen) != 0)
		return MT_STEP_WAIT;
	return MT_STEP_DONE;
}

enum mt_step
mt_sock_handshake_step(struct mt_sock *s, int ep, void *owner)
{
	int r;

	ERR_clear_error();
	r = SSL_do_handshake(s->ssl);
	if (r == 1)
		return MT_STEP_DONE;
	return mt_sock_wait(s, ep, owner, SSL_get_error(s->ssl, r)) ?
	    MT_STEP_WAIT : MT_STEP_FAIL;
}

enum mt_step
mt_sock_write_step(struct mt_sock *s, int ep, void *owner, const char *buf,
    size_t len, size_t *pos)
{
	while (*pos < len) {
		int r;

		ERR_clear_error();
		r = SSL_write(s->ssl, buf + *pos, (int)(len - *pos));
		if (r <= 0)
			return mt_sock_wait(s, ep, owner, SSL_get_error(s->ssl, r)) ?
			    MT_STEP_WAIT : MT_STEP_FAIL;
		*pos += (size_t)r;
	}
	return MT_STEP_DONE;
}

enum mt_step
mt_sock_read_step(struct mt_sock *s, int ep, void *owner, struct mt_resp *r)
{
	static char buf[65536]; /* the tools are single-threaded */

	for (;;) {
		int n, done;

		ERR_clear_error();
		n = SSL_read(s->ssl, buf, sizeof(buf));
		if (n <= 0)
			return mt_sock_wait(s, ep, owner, SSL_get_error(s->ssl, n)) ?
			    MT_STEP_WAIT : MT_STEP_FAIL;
		done = mt_resp_consume(r, buf, (size_t)n);
		if (done < 0)
			return MT_STEP_PROTO;
		if (done > 0)
			return MT_STEP_DONE;
	}
}

void
mt_note_tls(SSL *ssl, char *proto, size_t proto_size, char *cipher,
    size_t cipher_size)
{
	if (proto[0] != '\0')
		return;
	snprintf(proto, proto_size, "%s", SSL_get_version(ssl));
	snprintf(cipher, cipher_size, "%s",
	    SSL_CIPHER_get_name(SSL_get_current_cipher(ssl)));
}

void
mt_sock_close(struct mt_sock *s, bool polite)
{
	if (s->ssl != NULL) {
		if (polite)
			(void)SSL_shutdown(s->ssl); /* one try: close_notify */
		SSL_free(s->ssl);
		s->ssl = NULL;
	}
	if (s->fd >= 0) {
		close(s->fd); /* also leaves the epoll set */
		s->fd = -1;
	}
}

int
mt_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double
mt_percentile_ms(const double *v, long n, double p)
{
	long i;

	if (n <= 0)
		return NAN;
	i = (long)ceil(p / 100.0 * (double)n) - 1;
	if (i < 0)
		i = 0;
	if (i >= n)
		i = n - 1;
	return v[i] * 1000.0;
}
