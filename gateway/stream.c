/*
 * stream.c: a connection's bytes, plain or under TLS (our server side for
 * clients, our client side for the relay's peers), between a non-blocking
 * socket and two evbuffers (stream.h says why this is not libevent's
 * OpenSSL bufferevent).  The evbuffers exist while bytes pass: an idle
 * connection releases them (gw_stream_release_buffers).
 *
 * Two persistent events share the socket: the read event is always armed
 * (unless the input bound or the caller paused it), the write event (made
 * at its first need) only while the socket is full.  Under TLS, OpenSSL
 * reads from the socket through the stream's BIO; with read-ahead on, one
 * recv(2) takes a whole request record, and a read loop runs until OpenSSL
 * holds nothing more, because the kernel will not report bytes OpenSSL
 * already took off the socket.  OpenSSL's writes (records, handshake
 * flights, alerts) go to the stream's wire buffer instead, which the stream
 * sends with one sendmsg(2) after each OpenSSL call: an answer of several
 * records (a $summary is two) leaves in one system call and one TCP push,
 * not one per record.
 */
#include <errno.h>
#include <pthread.h>
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

/* TLS: no more output is encrypted while the wire holds this much that
 * the socket has not taken (a reader that stalls holds at most this and
 * one chunk of records). */
#define WIRE_MARK 65536

/* Pieces of the wire handed to one sendmsg. */
#define WIRE_IOVECS 16

/* The worker's scratch for records: a chunk's four full ones and more. */
#define SCRATCH_SIZE (WRITE_CHUNK + 8192)

struct gw_stream {
	struct event rev;
	/* Made the first time the socket is watched for room (write_event):
	 * most connections never fill theirs, and an idle one then holds no
	 * second event. */
	struct event *wev;
	/* NULL while released (gw_stream_release_buffers); made again by the
	 * next byte either way.  wire: TLS records OpenSSL wrote that the
	 * socket did not take at once (the scratch below holds them until
	 * then). */
	struct evbuffer *in, *out, *wire;
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
	bool write_wants_read; /* SSL_write waits for a readable socket */
	bool in_eof;           /* recv(2) saw the peer's end (BIO_eof) */
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
	bool on = !s->freed && (s->out_blocked || s->tcp_connecting);

	if (on || s->writing)
		set_event(write_event(s), &s->writing, on);
}

static void
update_reading(struct gw_stream *s)
{
	set_event(&s->rev, &s->reading, !s->freed && !s->stopped && !s->paused);
}

/*
 * Where OpenSSL's records go first: a buffer of the worker thread's, sent
 * from right after the OpenSSL call that wrote them (send_wire), so that an
 * answer's records cost one copy and no allocation.  Only what the socket
 * does not take moves to the stream's wire; a stream's records are in
 * the scratch only while its wire is empty (bio_write writes behind
 * records waiting there, and every move to the wire empties the scratch
 * first), so the scratch's go first.  Every OpenSSL call of a
 * stream is followed by its send_wire, so the scratch holds one stream's
 * records at a time; should another stream's call come first (a stream
 * freed from inside a callback sends at the callback's end), the owner's
 * records move to its wire, in order.
 */
static _Thread_local struct {
	struct gw_stream *owner; /* whose records; none while len is 0 */
	size_t len;
	unsigned char buf[SCRATCH_SIZE];
} scratch;

/* Records of s in the scratch. */
static size_t
scratch_held(const struct gw_stream *s)
{
	return scratch.owner == s ? scratch.len : 0;
}

/* Move the scratch's records to their stream's wire; false when out of
 * memory. */
static bool
scratch_to_wire(void)
{
	struct gw_stream *o = scratch.owner;
	size_t len = scratch.len;

	scratch.len = 0;
	scratch.owner = NULL;
	return len == 0 || evbuffer_add(buffer(&o->wire), scratch.buf, len) == 0;
}

/* TLS records of s not yet handed to the socket. */
static size_t
unsent_records(const struct gw_stream *s)
{
	return length(s->wire) + scratch_held(s);
}

/* Bytes not yet handed to the socket. */
static size_t
pending(const struct gw_stream *s)
{
	return length(s->out) + unsent_records(s);
}

/*
 * The stream's BIO, under every TLS session.  Reads are the socket's, as
 * through OpenSSL's socket BIO (a retry when it is empty, BIO_eof at the
 * peer's end); writes go to the scratch (to the wire behind records already
 * waiting there) and always succeed, and the stream sends them after each
 * OpenSSL call (send_wire), so OpenSSL never waits for a writable socket.
 */
static int
bio_read(BIO *b, char *data, int len)
{
	struct gw_stream *s = BIO_get_data(b);
	ssize_t n;

	BIO_clear_retry_flags(b);
	do
		n = recv(s->fd, data, (size_t)len, 0);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		return (int)n;
	if (n == 0)
		s->in_eof = true;
	else if (errno == EAGAIN || errno == EWOULDBLOCK)
		BIO_set_retry_read(b);
	return n == 0 ? 0 : -1;
}

static int
bio_write(BIO *b, const char *data, int len)
{
	struct gw_stream *s = BIO_get_data(b);
	size_t n = (size_t)len;

	BIO_clear_retry_flags(b);
	if (length(s->wire) == 0 &&
	    (scratch.len == 0 || scratch.owner == s) &&
	    n <= sizeof(scratch.buf) - scratch.len) {
		memcpy(scratch.buf + scratch.len, data, n);
		scratch.len += n;
		scratch.owner = s;
		return len;
	}
	if (!scratch_to_wire())
		return -1;
	return evbuffer_add(buffer(&s->wire), data, n) == 0 ? len : -1;
}

static long
bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct gw_stream *s = BIO_get_data(b);

	(void)num;
	(void)ptr;
	switch (cmd) {
	case BIO_CTRL_FLUSH: /* the stream sends after the call */
		return 1;
	case BIO_CTRL_EOF:
		return s->in_eof;
	case BIO_CTRL_WPENDING:
		return (long)unsent_records(s);
	default:
		return 0;
	}
}

static BIO_METHOD *bio_method;

static void
make_bio_method(void)
{
	int type = BIO_get_new_index();

	if (type == -1 ||
	    (bio_method = BIO_meth_new(type | BIO_TYPE_SOURCE_SINK,
	        "fhirgw stream")) == NULL ||
	    BIO_meth_set_read(bio_method, bio_read) != 1 ||
	    BIO_meth_set_write(bio_method, bio_write) != 1 ||
	    BIO_meth_set_ctrl(bio_method, bio_ctrl) != 1)
		gw_fatal("cannot make the stream's BIO method");
}

/* A BIO of the stream's for its TLS session; NULL when out of memory. */
static BIO *
stream_bio(struct gw_stream *s)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	BIO *b;

	pthread_once(&once, make_bio_method);
	if ((b = BIO_new(bio_method)) == NULL)
		return NULL;
	BIO_set_data(b, s);
	BIO_set_init(b, 1);
	return b;
}

/* One sendmsg of k pieces: the bytes sent, 0 when the socket is full, -1
 * on an error (kept in s for gw_stream_error). */
static ssize_t
send_pieces(struct gw_stream *s, struct iovec *iov, int k)
{
	struct msghdr m;
	ssize_t n;

	memset(&m, 0, sizeof(m));
	m.msg_iov = iov;
	m.msg_iovlen = (size_t)k;
	do
		n = sendmsg(s->fd, &m, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n >= 0)
		return n;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return 0;
	if (s->sys_errno == 0 && s->ssl_error == 0)
		s->sys_errno = errno;
	return -1;
}

/* The scratch's records of s (its wire is empty while it has any there):
 * 1 all went, 0 the socket took part (the rest moved to the wire), -1 an
 * error. */
static int
send_scratch(struct gw_stream *s)
{
	struct iovec iov = { scratch.buf, scratch.len };
	size_t len = scratch.len;
	ssize_t n = send_pieces(s, &iov, 1);

	scratch.len = 0;
	scratch.owner = NULL;
	if (n < 0)
		return -1;
	if ((size_t)n == len)
		return 1;
	return evbuffer_add(buffer(&s->wire), scratch.buf + n,
	    len - (size_t)n) == 0 ? 0 : -1;
}

/*
 * Send the records of s (the scratch's, the wire's) as far as the socket
 * takes them, in as few sendmsg calls as it allows: 1 all went, 0 the
 * socket is full (the rest waits in the wire for room), -1 an error.
 * errno is left as it was: OpenSSL's error checks after the call this
 * follows read it.
 */
static int
send_wire(struct gw_stream *s)
{
	struct evbuffer_iovec v[WIRE_IOVECS];
	struct iovec iov[WIRE_IOVECS];
	int saved = errno, result = 1;

	if (scratch_held(s) > 0) {
		result = send_scratch(s); /* the wire is empty then */
		errno = saved;
		return result;
	}
	while (length(s->wire) > 0) {
		int k = evbuffer_peek(s->wire, -1, NULL, v, WIRE_IOVECS);
		size_t total = 0;
		ssize_t n;

		if (k > WIRE_IOVECS)
			k = WIRE_IOVECS;
		for (int i = 0; i < k; i++) {
			iov[i].iov_base = v[i].iov_base;
			iov[i].iov_len = v[i].iov_len;
			total += v[i].iov_len;
		}
		n = send_pieces(s, iov, k);
		if (n <= 0) {
			result = (int)n;
			break;
		}
		evbuffer_drain(s->wire, (size_t)n);
		if ((size_t)n < total) {
			result = 0;
			break;
		}
	}
	errno = saved;
	return result;
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
	int r, err, sent;

	ERR_clear_error();
	errno = 0;
	r = SSL_do_handshake(s->ssl);
	err = r == 1 ? SSL_ERROR_NONE : SSL_get_error(s->ssl, r);
	if (err != SSL_ERROR_NONE && err != SSL_ERROR_WANT_READ) {
		enum io_result end = tls_failure(s, err);

		(void)send_wire(s); /* the alert that says why */
		return end;
	}
	sent = send_wire(s); /* our flight */
	if (sent < 0)
		return IO_ERROR;
	s->connected = r == 1;
	s->out_blocked = sent == 0;
	update_writing(s);
	return IO_OK;
}

/* One read; > 0 bytes, 0 nothing now, -1 with *end set. */
static int
read_some(struct gw_stream *s, char *buf, size_t len, enum io_result *end)
{
	ssize_t n;
	int err, sent = 1;

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
	err = n > 0 ? SSL_ERROR_NONE : SSL_get_error(s->ssl, (int)n);
	if (err != SSL_ERROR_NONE && err != SSL_ERROR_WANT_READ) {
		*end = tls_failure(s, err);
		(void)send_wire(s); /* an alert */
		return -1;
	}
	/* What reading made OpenSSL write (a KeyUpdate's answer, say)
	 * leaves now, or when the socket has room. */
	if (unsent_records(s) > 0) {
		sent = send_wire(s);
		if (sent < 0) {
			*end = IO_ERROR;
			return -1;
		}
		if (sent == 0 && !s->out_blocked) {
			s->out_blocked = true;
			update_writing(s);
		}
	}
	return err == SSL_ERROR_NONE ? (int)n : 0;
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
	if (err == SSL_ERROR_WANT_READ) {
		s->write_wants_read = true;
		return 0;
	}
	tls_failure(s, err);
	return -1;
}

/* Hand the output's next chunk to write_some: the bytes it took (drained
 * from the output), 0 none now, -1 an error. */
static int
write_chunk(struct gw_stream *s)
{
	size_t len = length(s->out);
	size_t n = len < WRITE_CHUNK ? len : WRITE_CHUNK;
	unsigned char *p = evbuffer_pullup(s->out, (ev_ssize_t)n);
	int w;

	if (p == NULL)
		return -1;
	w = write_some(s, p, n);
	if (w > 0)
		evbuffer_drain(s->out, (size_t)w);
	return w;
}

/* Plain: send the output until it is empty or the socket full. */
static enum io_result
write_out_plain(struct gw_stream *s)
{
	while (length(s->out) > 0) {
		int w = write_chunk(s);

		if (w < 0)
			return IO_ERROR;
		if (w == 0) {
			s->out_blocked = true;
			update_writing(s);
			return IO_OK;
		}
	}
	s->out_blocked = false;
	update_writing(s);
	return IO_OK;
}

/*
 * TLS: encrypt the output into the wire while the wire is below its mark,
 * and send the wire, until both are empty or the socket is full.  When
 * SSL_write must read first (write_wants_read), it is called again from
 * the read event; the output only grows meanwhile, so the next chunk
 * starts where this one did and is no shorter, as OpenSSL requires.
 */
static enum io_result
write_out_tls(struct gw_stream *s)
{
	int sent;

	while ((sent = send_wire(s)) > 0) {
		while (length(s->out) > 0 && unsent_records(s) < WIRE_MARK) {
			int w = write_chunk(s);

			if (w < 0) {
				(void)send_wire(s); /* an alert, if any */
				return IO_ERROR;
			}
			if (w == 0)
				break;
		}
		if (unsent_records(s) == 0)
			break;
	}
	if (sent < 0)
		return IO_ERROR;
	s->out_blocked = sent == 0;
	update_writing(s);
	return IO_OK;
}

static enum io_result
write_out(struct gw_stream *s)
{
	return s->ssl != NULL ? write_out_tls(s) : write_out_plain(s);
}

static void
destroy(struct gw_stream *s)
{
	event_del(&s->rev);
	if (s->wev != NULL)
		event_free(s->wev);
	if (s->ssl != NULL) {
		/* What is left, as far as the socket takes it now: a
		 * close_notify (SSL_shutdown), an alert. */
		(void)send_wire(s);
		SSL_free(s->ssl);
	}
	evutil_closesocket(s->fd);
	if (s->in != NULL)
		evbuffer_free(s->in);
	if (s->out != NULL)
		evbuffer_free(s->out);
	if (s->wire != NULL)
		evbuffer_free(s->wire);
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
	s->out_blocked = false;
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
		if (pending(s) > 0)
			what |= EV_WRITE;
	}
	if ((what & EV_WRITE) || ((what & EV_READ) && s->write_wants_read)) {
		bool had = pending(s) > 0;

		if (write_out(s) != IO_OK) {
			report(s, IO_ERROR);
			return;
		}
		if (had && pending(s) == 0 &&
		    s->cb->drained != NULL) {
			s->cb->drained(s, s->arg);
			if (s->freed)
				return;
		}
	}
	if ((what & EV_READ) && s->reading) {
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
	BIO *bio = NULL;

	/* The buffers come with the first bytes (buffer()). */
	if (s != NULL && ssl != NULL && (bio = stream_bio(s)) != NULL)
		SSL_set_bio(ssl, bio, bio); /* one reference for both */
	if (s == NULL || (ssl != NULL && bio == NULL)) {
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
		/* Not partial writes: the wire takes a chunk's records at
		 * once.  The buffer may move between retries (pullup). */
		SSL_set_mode(ssl, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
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
	return pending(s);
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
	if (s->wire != NULL && evbuffer_get_length(s->wire) == 0) {
		evbuffer_free(s->wire);
		s->wire = NULL;
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

	*ours = pending(s);
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
