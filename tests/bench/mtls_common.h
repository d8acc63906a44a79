/*
 * mtls_common.h: what the benchmark clients mtls_load.c and mtls_idle.c share:
 * the target URL, the client SSL_CTX, the request bytes and an HTTP/1.1
 * response framer. Both are single-threaded epoll clients over non-blocking
 * OpenSSL; this file holds what does not depend on how each schedules its
 * connections: the socket, and the steps of one exchange (connect, handshake,
 * write the request, read the response), each going as far as it can without
 * blocking.
 */
#ifndef MTLS_COMMON_H
#define MTLS_COMMON_H

#include <netinet/in.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest response head kept (the servers measured send 110-240 bytes). */
#define MT_HEAD_MAX 8192
#define MT_MAX_HEADERS 16

struct mt_target {
	char host[64];
	int port;
	char path[4096];
	struct sockaddr_in addr;
};

/* One response being received: head collected, then the body counted. */
struct mt_resp {
	char head[MT_HEAD_MAX];
	size_t head_len;
	bool head_done;
	int status;
	long long clen; /* Content-Length, -1 unknown */
	long long body_got;
	bool server_close; /* response said Connection: close */
};

/* A non-blocking TLS client socket in an epoll set; ev is the interest now
 * registered.  The epoll data pointer is the owner (the tool's connection). */
struct mt_sock {
	int fd;
	SSL *ssl;
	uint32_t ev;
};

/* Program name for messages ("mtls_load"); set by main(). */
extern const char *mt_progname;

/* Monotonic time in seconds. */
double mt_now(void);

/* Print "PROG: message" and the OpenSSL error queue to stderr; exit 2. */
void mt_die(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

/* Parse https://127.x.y.z:PORT/PATH into t; dies on anything else (a numeric
 * loopback address and an explicit port are required). */
void mt_parse_url(const char *url, struct mt_target *t);

/* A TLS client context with the certificate chain and key of pem (one file), no
 * server verification, no session resumption (every connection is a full
 * handshake).  Dies on failure. */
SSL_CTX *mt_client_ctx(const char *pem);

/* The request "GET path HTTP/1.1" with Host, the given extra header lines, and
 * "Connection: close" unless keepalive; *len gets its length.  Caller frees. */
char *mt_request(const struct mt_target *t, bool keepalive,
    const char *const *headers, int nheaders, size_t *len);

/* Make r ready for the next response. */
void mt_resp_reset(struct mt_resp *r);

/* Feed n received bytes to r.  Returns 1 when the response is complete
 * (exactly: bytes beyond its Content-Length are an error), 0 when more is
 * needed, -1 on a protocol error (bad head, no Content-Length, chunked, too
 * long a head). */
int mt_resp_consume(struct mt_resp *r, const char *buf, size_t n);

/* Open s to t: a non-blocking socket with TCP_NODELAY, an SSL in connect
 * state from ctx, registered in ep for EPOLLOUT with owner as its data, and
 * the connect started.  Returns 1 when connected at once, 0 while the
 * connect is in progress, -1 when it failed (errno set; s closed).  Dies
 * when no socket, SSL or epoll registration can be had. */
int mt_sock_open(struct mt_sock *s, int ep, SSL_CTX *ctx,
    const struct mt_target *t, void *owner);

/* Register interest ev for s (a no-op when it is already registered). */
void mt_sock_set_events(struct mt_sock *s, int ep, void *owner, uint32_t ev);

/* After an SSL call on s failed with SSL_get_error() err: when OpenSSL only
 * waits for the socket (WANT_READ, WANT_WRITE), register that interest and
 * return true; false for a real failure. */
bool mt_sock_wait(struct mt_sock *s, int ep, void *owner, int err);

/* What one step of a connection's exchange came to: finished, waiting for
 * the socket (interest registered), failed (the connect, TLS, or EOF), or a
 * response that breaks HTTP framing. */
enum mt_step { MT_STEP_DONE, MT_STEP_WAIT, MT_STEP_FAIL, MT_STEP_PROTO };

/* Has s's non-blocking connect finished?  DONE, WAIT or FAIL. */
enum mt_step mt_sock_connect_step(struct mt_sock *s);

/* Run the TLS handshake as far as it goes without blocking. */
enum mt_step mt_sock_handshake_step(struct mt_sock *s, int ep, void *owner);

/* Write buf[*pos..len) as far as it goes; DONE once all of it is written. */
enum mt_step mt_sock_write_step(struct mt_sock *s, int ep, void *owner,
    const char *buf, size_t len, size_t *pos);

/* Read into r as far as it goes; DONE once the response is complete. */
enum mt_step mt_sock_read_step(struct mt_sock *s, int ep, void *owner,
    struct mt_resp *r);

/* The protocol and cipher of ssl's session into proto and cipher, when
 * proto is still empty (the first connection of a run names them). */
void mt_note_tls(SSL *ssl, char *proto, size_t proto_size, char *cipher,
    size_t cipher_size);

/* Free s's SSL (sending one close_notify first when polite) and close its
 * socket, which also leaves the epoll set. */
void mt_sock_close(struct mt_sock *s, bool polite);

/* The p-th percentile (0 < p <= 100, nearest rank) of the n sorted
 * latencies v in seconds, in milliseconds; NAN when n is 0. */
double mt_percentile_ms(const double *v, long n, double p);

/* qsort comparator for doubles, ascending. */
int mt_cmp_double(const void *a, const void *b);

/* Raise RLIMIT_NOFILE so that at least want descriptors can be open (raising
 * the hard limit too when privileged).  Returns the soft limit now in force. */
long mt_raise_nofile(long want);

#endif
