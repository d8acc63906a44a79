/*
 * stream.h: a connection's byte stream -- a non-blocking socket, optionally
 * under an OpenSSL session (the server side of a node's connection, or the
 * client side of a relay connection to a peer) -- with an input and an
 * output evbuffer, driven by the worker's event loop.
 *
 * Why not libevent's OpenSSL bufferevent: it writes only from the loop's
 * next turn (its flush is an empty stub in 2.1), so every answer cost an
 * epoll_ctl to arm EPOLLOUT, a wakeup and an epoll_ctl to disarm it, and it
 * cannot use OpenSSL's read-ahead (it stalls on records read ahead).  This
 * stream writes an answer at once, all its TLS records in one sendmsg(2),
 * arms EPOLLOUT only when the socket is full, and reads a request's TLS
 * record in one recv(2).
 *
 * Callbacks run only from the loop, never from inside a stream call, and a
 * callback may free its stream.
 */
#ifndef GW_STREAM_H
#define GW_STREAM_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/ssl.h>

struct gw_stream;

enum gw_stream_event {
	GW_STREAM_CONNECTED, /* the TLS handshake completed (TLS only) */
	GW_STREAM_EOF,   /* the peer closed (with or without close_notify) */
	GW_STREAM_ERROR, /* a socket or TLS error; nothing more will pass */
};

struct gw_stream_callbacks {
	/* New bytes in the input buffer. */
	void (*read)(struct gw_stream *s, void *arg);
	/* The output buffer drained after the socket had been full (may be
	 * NULL). */
	void (*drained)(struct gw_stream *s, void *arg);
	void (*event)(
	    struct gw_stream *s, enum gw_stream_event what, void *arg);
};

/*
 * A stream over the connected socket fd, which it owns from now on.  With
 * ssl, a server-side TLS session whose handshake starts on the first
 * readable event; without, plain bytes.  NULL when out of memory (fd is
 * then closed, ssl freed).
 */
struct gw_stream *gw_stream_new(struct event_base *base, evutil_socket_t fd,
    SSL *ssl, const struct gw_stream_callbacks *cb, void *arg);

/*
 * The client side: fd is a non-blocking socket whose connect(2) returned
 * connect_errno (0 or EINPROGRESS while under way; anything else is
 * reported as GW_STREAM_ERROR from the loop); ssl a client session set up
 * by the caller (SNI, host check), whose handshake starts once the socket
 * is connected.  Takes fd and ssl as gw_stream_new does.
 */
struct gw_stream *gw_stream_connect(struct event_base *base,
    evutil_socket_t fd, SSL *ssl, int connect_errno,
    const struct gw_stream_callbacks *cb, void *arg);

/* Why the stream ended (after GW_STREAM_ERROR or _EOF): OpenSSL's reason
 * ("certificate verify failed"), the system's ("Connection refused") or
 * "connection closed", into buf; returns buf. */
const char *gw_stream_error(struct gw_stream *s, char *buf, size_t len);

/* Closes the socket and frees the TLS session and both buffers.  Safe
 * from inside the stream's own callbacks. */
void gw_stream_free(struct gw_stream *s);

/* The input and output buffers, made again if they were released. */
struct evbuffer *gw_stream_input(struct gw_stream *s);
struct evbuffer *gw_stream_output(struct gw_stream *s);

/* Bytes not yet handed to the socket (the output buffer, and TLS records
 * written but not sent), without making a released buffer again. */
size_t gw_stream_output_length(const struct gw_stream *s);

/*
 * Free the buffers that are empty (what an idle keep-alive connection
 * holds: 2 x 144 bytes of its 20 kB); the next byte read, or the next
 * gw_stream_input or gw_stream_output, makes them again.  A pointer the
 * caller kept from either is no longer valid.
 */
void gw_stream_release_buffers(struct gw_stream *s);
SSL *gw_stream_ssl(struct gw_stream *s);

/* What the peer has not taken yet: bytes not handed to the socket, and bytes
 * in the socket's send queue (SIOCOUTQ: TLS records sent but not yet
 * acknowledged, or not sent).  The kernel reports room again only when
 * half its queue has gone, so a slow reader's progress shows here long
 * before the stream writes again. */
void gw_stream_unsent(struct gw_stream *s, size_t *ours, size_t *kernel);

/* Stop reading while the input holds this many bytes (0: no bound). */
void gw_stream_set_input_limit(struct gw_stream *s, size_t limit);

/* After the input was consumed: read again if the limit had paused it. */
void gw_stream_input_consumed(struct gw_stream *s);

/* Read nothing more from the peer (an answer with Connection: close). */
void gw_stream_stop_reading(struct gw_stream *s);

/*
 * Write the output now, as far as the socket takes it; the rest goes when
 * it becomes writable.  An error is reported through the event callback
 * from the loop, not here.
 */
void gw_stream_flush(struct gw_stream *s);

#endif
