/*
 * stream.c: a connection's bytes, plain or under TLS (our server side for
 * clients, our client side for the relay's peers), between a non-blocking
 * socket and two evbuffers (stream.h says why this is not libevent's
 * OpenSSL bufferevent).  The evbuffers exist while bytes pass: an idle
 * connection releases them (gw_stream_release_buffers).
 *
 * Two persistent events share the socket: the read event is always armed
 * (unless the input bound or the caller paused it), the write event (made
 * at its first need) only while the socket is full or OpenSSL needs it
 * writable to go on reading (a TLS 1.3 KeyUpdate).  OpenSSL writes to and
 * reads from the socket itself; with read-ahead on, one read(2) takes a
 * whole request record, and a read loop runs until OpenSSL holds nothing
 * more, because the kernel will not report bytes OpenSSL already took off
 * the socket.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event_struct.h>
#include <openssl/err.h>

#include "gateway/gw.h"
#include "gateway/stream.h"

/* Plaintext read per call: one TLS record's worth. */
#define READ_CHUNK 16384

/* Bytes handed to one SSL_write or send(); contiguous, so it may cost a
 * copy when the output holds several answers. */
#define WRITE_CHUNK 65536

struct gw_stream {
	struct event rev;
	/* Made the first time the socket is watched for room (write_event):
	 * most connections never fill theirs, and an idle one then holds no
	 * second event. */
	struct event *wev;
	/* NULL while released (gw_stream_release_buffers); made again by the
	 * next byte either way. */
	struct evbuffer *in, *out;
	SSL *ssl; /* NULL: plain */
	evutil_socket_t fd;
	const struct gw_stream_callbacks *cb;
	void *arg;
	size_t input_limit;
	int busy; /* on_io frames on the stack */
	bool connected;
	bool tcp_connecting;   /* client: connect(2) not finished yet */
	bool reading;          /* rev armed */
	bool writing;          /* wev armed */
	bool out_blocked;      /* the socket took less than we had */
	bool stopped;          /* the caller reads no more */
	bool paused;           /* the input reached its limit */
	bool read_wants_write; /* SSL_read waits for a writable socket */
	bool write_wants_read; /* SSL_write waits for a readable one */
	bool failed;           /* an error waits to be reported */
	bool freed;            /* free once off the stack */
	/* Why it ended, for gw_stream_error: OpenSSL's reason, or errno. */
	unsigned long ssl_error;
	int sys_errno;
};

enum io_result { IO_OK, IO_EOF, IO_ERROR };

static void on_io(evutil_socket_t fd, short what, void *arg);

static void
set_event(struct event *ev, bool *armed, bool on)
{
	if (on && !*armed)
		event_add(ev, NULL);
	else if (!on && *armed)
		event_del(ev);
	*armed = on;
}

/* The buffer in *b, made first if it was released. */
static struct evbuffer *
buffer(struct evbuffer **b)
{
	if (*b == NULL && (*b = evbuffer_new()) == NULL)
		gw_fatal("out of memory for a stream buffer");
	return *b;
}

static size_t
length(const struct evbuffer *b)
{
	return b != NULL ? evbuffer_get_length(b) : 0;
}

static struct event *
write_event(struct gw_stream *s)
{
	if (s->wev == NULL && (s->wev = event_new(event_get_base(&s->rev),
	    s->fd, EV_WRITE | EV_PERSIST, on_io, s)) == NULL)
		gw_fatal("out of memory for a stream's write event");
	return s->wev;
}

static void
update_writing(struct gw_stream *s)
{
	bool on = !s->freed && (s->out_blocked || s->read_wants_write ||
	    s->tcp_connecting);

	if (on || s->writing)
		set_event(write_event(s), &s->writing, on);
}

static void
update_reading(struct gw_stream *s)
{
	set_event(&s->rev, &s->reading, !s->freed && !s->stopped && !s->paused);
}

/* What an SSL_ERROR_SSL or _SYSCALL means: a peer that vanished without
 * close_notify is an end like any other (requests carry their own
 * framing), anything else an error. */
static enum io_result
tls_failure(struct gw_stream *s, int err)
{
	unsigned long e = ERR_peek_error();
	enum io_result r = IO_ERROR;

	if (s->ssl_error == 0 && s->sys_errno == 0) {
		s->ssl_error = ERR_peek_last_error();
		s->sys_errno = errno;
	}
	if (err == SSL_ERROR_ZERO_RETURN ||
	    (err == SSL_ERROR_SYSCALL && e == 0 && errno == 0) ||
	    (err == SSL_ERROR_SSL &&
	        ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING))
		r = IO_EOF;
	/* This connection's errors must not reach another's checks. */
	ERR_clear_error();
	return r;
}

static enum io_result
handshake(struct gw_stream *s)
{
	int r, err;

	ERR_clear_error();
	errno = 0;
	r = SSL_do_handshake(s->ssl);
	if (r == 1) {
		s->connected = true;
		s->out_blocked = false;
		update_writing(s);
		return IO_OK;
	}
	err = SSL_get_error(s->ssl, r);
	if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
		s->out_blocked = err == SSL_ERROR_WANT_WRITE;
		update_writing(s);
		return IO_OK;
	}
	return tls_failure(s, err);
}

/* One read; > 0 bytes, 0 nothing now, -1 with *end set. */
static int
read_some(struct gw_stream *s, char *buf, size_t len, enum io_result *end)
{
	ssize_t n;
	int err;

	if (s->ssl == NULL) {
		do
			n = recv(s->fd, buf, len, 0);
		while (n < 0 && errno == EINTR);
		if (n > 0)
			return (int)n;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0)
			s->sys_errno = errno;
		*end = n == 0 ? IO_EOF : IO_ERROR;
		return -1;
	}
	ERR_clear_error();
	errno = 0;
	n = SSL_read(s->ssl, buf, (int)len);
	if (n > 0) {
		s->read_wants_write = false;
		return (int)n;
	}
	err = SSL_get_error(s->ssl, (int)n);
	if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
		s->read_wants_write = err == SSL_ERROR_WANT_WRITE;
		update_writing(s);
		return 0;
	}
	*end = tls_failure(s, err);
	return -1;
}

/* Read what the socket (and OpenSSL) holds into the input; *got says
 * whether anything arrived. */
static enum io_result
read_in(struct gw_stream *s, bool *got)
{
	char buf[READ_CHUNK];
	enum io_result end = IO_OK;
	int n;

	for (;;) {
		if (s->input_limit > 0 && length(s->in) >= s->input_limit) {
			s->paused = true;
			update_reading(s);
			return IO_OK;
		}
		n = read_some(s, buf, sizeof(buf), &end);
		if (n < 0)
			return end;
		if (n == 0)
			return IO_OK;
		if (evbuffer_add(buffer(&s->in), buf, (size_t)n) != 0)
			return IO_ERROR;
		*got = true;
		/* Plain: a short read emptied the socket.  TLS: the kernel
		 * will not signal what OpenSSL has already read ahead. */
		if (s->ssl == NULL ? (size_t)n < sizeof(buf)
		                   : !SSL_has_pending(s->ssl))
			return IO_OK;
	}
}

/* One write of len bytes; > 0 written, 0 the socket is full, -1 error. */
static int
write_some(struct gw_stream *s, const void *p, size_t len)
{
	ssize_t n;
	int err;

	if (s->ssl == NULL) {
		do
			n = send(s->fd, p, len, MSG_NOSIGNAL);
		while (n < 0 && errno == EINTR);
		if (n >= 0)
			return (int)n;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		s->sys_errno = errno;
		return -1;
	}
	ERR_clear_error();
	errno = 0; /* what tls_failure reads must be this call's */
	n = SSL_write(s->ssl, p, (int)len);
	if (n > 0) {
		s->write_wants_read = false;
		return (int)n;
	}
	err = SSL_get_error(s->ssl, (int)n);
	if (err == SSL_ERROR_WANT_WRITE)
		return 0;
	if (err == SSL_ERROR_WANT_READ) {
		s->write_wants_read = true;
		return 0;
	}
	tls_failure(s, err);
	return -1;
}

/*
 * Write the output until it is empty or the socket full.  After a "full",
 * OpenSSL wants the same bytes again, or more: the output only grows until
 * drained, so the next chunk starts where this one did and is no shorter.
 */
static enum io_result
write_out(struct gw_stream *s)
{
	size_t len;

	while ((len = length(s->out)) > 0) {
		size_t n = len < WRITE_CHUNK ? len : WRITE_CHUNK;
		unsigned char *p = evbuffer_pullup(s->out, (ev_ssize_t)n);
		int w;

		if (p == NULL)
			return IO_ERROR;
		w = write_some(s, p, n);
		if (w < 0)
			return IO_ERROR;
		if (w == 0) {
			s->out_blocked = !s->write_wants_read;
			update_writing(s);
			return IO_OK;
		}
		evbuffer_drain(s->out, (size_t)w);
	}
	s->out_blocked = false;
	update_writing(s);
	return IO_OK;
}

static void
destroy(struct gw_stream *s)
{
	event_del(&s->rev);
	if (s->wev != NULL)
		event_free(s->wev);
	if (s->ssl != NULL)
		SSL_free(s->ssl);
	evutil_closesocket(s->fd);
	if (s->in != NULL)
		evbuffer_free(s->in);
	if (s->out != NULL)
		evbuffer_free(s->out);
	free(s);
}

/* Report an end (IO_EOF or IO_ERROR); the callback usually frees the
 * stream. */
static void
report(struct gw_stream *s, enum io_result end)
{
	enum gw_stream_event what =
	    end == IO_EOF ? GW_STREAM_EOF : GW_STREAM_ERROR;

	s->failed = false;
	s->stopped = true;
	s->out_blocked = s->read_wants_write = false;
	update_reading(s);
	update_writing(s);
	s->cb->event(s, what, s->arg);
}

static void
step(struct gw_stream *s, short what)
{
	enum io_result r;
	bool got = false;

	if (s->failed) {
		report(s, IO_ERROR);
		return;
	}
	if (s->tcp_connecting) {
		int err = 0;
		socklen_t len = sizeof(err);

		if (!(what & EV_WRITE))
			return;
		if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
			err = errno;
		if (err != 0) {
			s->sys_errno = err;
			report(s, IO_ERROR);
			return;
		}
		s->tcp_connecting = false;
		update_writing(s);
	}
	if (!s->connected) {
		r = handshake(s);
		if (r != IO_OK) {
			report(s, r);
			return;
		}
		if (!s->connected)
			return;
		s->cb->event(s, GW_STREAM_CONNECTED, s->arg);
		if (s->freed)
			return;
		/* The first request may have come with the Finished, and an
		 * answer may wait (none does today). */
		what |= EV_READ;
		if (length(s->out) > 0)
			what |= EV_WRITE;
	}
	if ((what & EV_WRITE) || ((what & EV_READ) && s->write_wants_read)) {
		bool had = length(s->out) > 0;

		if (write_out(s) != IO_OK) {
			report(s, IO_ERROR);
			return;
		}
		if (had && length(s->out) == 0 &&
		    s->cb->drained != NULL) {
			s->cb->drained(s, s->arg);
			if (s->freed)
				return;
		}
	}
	if (((what & EV_READ) || ((what & EV_WRITE) && s->read_wants_write)) &&
	    s->reading) {
		r = read_in(s, &got);
		if (got) {
			s->cb->read(s, s->arg);
			if (s->freed)
				return;
		}
		if (r != IO_OK)
			report(s, r);
	}
}

static void
on_io(evutil_socket_t fd, short what, void *arg)
{
	struct gw_stream *s = arg;

	(void)fd;
	s->busy++;
	step(s, what);
	if (--s->busy == 0 && s->freed)
		destroy(s);
}

static struct gw_stream *
stream_new(struct event_base *base, evutil_socket_t fd, SSL *ssl,
    bool client, const struct gw_stream_callbacks *cb, void *arg)
{
	struct gw_stream *s = calloc(1, sizeof(*s));

	/* The buffers come with the first bytes (buffer()). */
	if (s == NULL || (ssl != NULL && SSL_set_fd(ssl, (int)fd) != 1)) {
		free(s);
		if (ssl != NULL)
			SSL_free(ssl);
		evutil_closesocket(fd);
		return NULL;
	}
	s->fd = fd;
	s->ssl = ssl;
	s->cb = cb;
	s->arg = arg;
	s->connected = ssl == NULL;
	if (ssl != NULL) {
		if (client)
			SSL_set_connect_state(ssl);
		else
			SSL_set_accept_state(ssl);
		SSL_set_read_ahead(ssl, 1);
		SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE |
		                      SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	}
	event_assign(&s->rev, base, fd, EV_READ | EV_PERSIST, on_io, s);
	return s;
}

struct gw_stream *
gw_stream_new(struct event_base *base, evutil_socket_t fd, SSL *ssl,
    const struct gw_stream_callbacks *cb, void *arg)
{
	struct gw_stream *s = stream_new(base, fd, ssl, false, cb, arg);

	if (s != NULL)
		update_reading(s);
	return s;
}

struct gw_stream *
gw_stream_connect(struct event_base *base, evutil_socket_t fd, SSL *ssl,
    int connect_errno, const struct gw_stream_callbacks *cb, void *arg)
{
	struct gw_stream *s = stream_new(base, fd, ssl, true, cb, arg);

	if (s == NULL)
		return NULL;
	if (connect_errno != 0 && connect_errno != EINPROGRESS) {
		/* Refused at once: said from the loop, like any other end. */
		s->sys_errno = connect_errno;
		s->failed = true;
		event_active(write_event(s), EV_WRITE, 1);
		return s;
	}
	/* Writable: connected (or failed, SO_ERROR says); the handshake
	 * starts there with our ClientHello. */
	s->tcp_connecting = true;
	update_writing(s);
	update_reading(s);
	return s;
}

const char *
gw_stream_error(struct gw_stream *s, char *buf, size_t len)
{
	const char *why = NULL;

	if (s->ssl_error != 0)
		why = ERR_reason_error_string(s->ssl_error);
	if (why == NULL && s->sys_errno != 0)
		why = strerror(s->sys_errno);
	gw_strlcpy(buf, why != NULL ? why : "connection closed", len);
	return buf;
}

void
gw_stream_free(struct gw_stream *s)
{
	if (s->busy > 0) {
		s->freed = true;
		update_reading(s);
		update_writing(s);
		return;
	}
	destroy(s);
}

struct evbuffer *
gw_stream_input(struct gw_stream *s)
{
	return buffer(&s->in);
}

struct evbuffer *
gw_stream_output(struct gw_stream *s)
{
	return buffer(&s->out);
}

size_t
gw_stream_output_length(const struct gw_stream *s)
{
	return length(s->out);
}

void
gw_stream_release_buffers(struct gw_stream *s)
{
	if (s->in != NULL && evbuffer_get_length(s->in) == 0) {
		evbuffer_free(s->in);
		s->in = NULL;
	}
	if (s->out != NULL && evbuffer_get_length(s->out) == 0) {
		evbuffer_free(s->out);
		s->out = NULL;
	}
}

SSL *
gw_stream_ssl(struct gw_stream *s)
{
	return s->ssl;
}

void
gw_stream_unsent(struct gw_stream *s, size_t *ours, size_t *kernel)
{
	int queued = 0;

	*ours = length(s->out);
	*kernel = ioctl(s->fd, SIOCOUTQ, &queued) == 0 && queued > 0 ?
	    (size_t)queued : 0;
}

void
gw_stream_set_input_limit(struct gw_stream *s, size_t limit)
{
	s->input_limit = limit;
}

void
gw_stream_input_consumed(struct gw_stream *s)
{
	if (!s->paused || length(s->in) >= s->input_limit)
		return;
	s->paused = false;
	update_reading(s);
	/* OpenSSL may hold records the kernel will not report again. */
	if (s->reading)
		event_active(&s->rev, EV_READ, 1);
}

void
gw_stream_stop_reading(struct gw_stream *s)
{
	s->stopped = true;
	update_reading(s);
}

void
gw_stream_flush(struct gw_stream *s)
{
	if (!s->connected || s->failed || s->freed)
		return;
	if (write_out(s) != IO_OK) {
		/* Reported from the loop: our caller still holds the
		 * connection. */
		s->failed = true;
		event_active(write_event(s), EV_WRITE, 1);
	}
}
