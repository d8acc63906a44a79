/*
 * relay.h: the outbound mutual-TLS client that carries a request to the
 * fhirgw of the patient's home country (DESIGN.md §1).
 *
 * Per worker and peer, a small pool of keep-alive connections on the
 * worker's loop.  The peer's chain is verified against the configured CA,
 * its name against the URL's host, and its public key against a pinned
 * SHA-256; we present our own client certificate.  Every call has a
 * connect and a response deadline and a bounded response size; no
 * redirects are followed.  A GET that fails before any answer arrived is
 * retried once on a fresh connection.  A peer that fails three calls in a
 * row is skipped for a cool-down (circuit breaker).
 */
#ifndef GW_RELAY_H
#define GW_RELAY_H

#include <stdbool.h>

#include "gateway/http.h"
#include "gateway/tls.h"

struct event_base;

/* One peer gateway as configured. */
struct gw_peer {
	char country[3];
	char *url;	 /* "https://host:port/fhir" as configured */
	char *host;	 /* for SNI, name verification and Host: */
	int port;
	char *base_path; /* "/fhir" */
	char *cert;	 /* our client certificate and key for this peer */
	char *key;
	char *ca;	 /* CA that issued the peer's server certificate */
	char pin[GW_KEY_HASH_LEN]; /* SHA-256 of its public key, hex */
	int connect_timeout_ms;
	int response_timeout_ms;
	int max_connections; /* per worker */
};

/* The process-wide half: one client SSL_CTX per peer. */
struct gw_relay_peers;

/* Build contexts for n peers (borrowed for the result's lifetime) and
 * resolve their hosts (once, here: never on a worker's loop); NULL with the
 * reason logged on unreadable keys or certificates or an unresolvable
 * host. */
struct gw_relay_peers *gw_relay_peers_new(const struct gw_peer *peers, int n);
void gw_relay_peers_free(struct gw_relay_peers *p);

/* The peer for a country, or NULL when it is not relayed. */
const struct gw_peer *gw_relay_peer(const struct gw_relay_peers *p,
    const char *country);

/* The per-worker half: pools and breakers. */
struct gw_relay;

struct gw_relay *gw_relay_new(struct event_base *base,
    const struct gw_relay_peers *peers);

/* Fail every call still open (503), close every connection, free. */
void gw_relay_free(struct gw_relay *r);

/*
 * A reload (reload.c): take p's client contexts, pins and addresses for
 * the same peers in the same order (p is borrowed; the contexts are
 * referenced).  Idle connections close at once, busy ones after their
 * call, and each peer's breaker is reset.  On r's loop thread.
 */
void gw_relay_reload(struct gw_relay *r, const struct gw_relay_peers *p);

/*
 * Completion of a call.  On an answer from the peer, status is its HTTP
 * status and resp the parsed response (borrowed for the callback).
 * Otherwise resp is NULL, status is 502 (refused, reset, TLS failure,
 * unpinned key, invalid or oversized response), 504 (a deadline passed)
 * or 503 (breaker open, or shutting down; retry_after then says in how
 * many seconds to try again), and error says why.
 */
typedef void (*gw_relay_cb)(int status, const struct gw_http_response *resp,
    const char *error, int retry_after, void *arg);

/*
 * Send method target (below the peer's base path, e.g.
 * "/Patient/fi-x/$summary?a=b") with extra header lines (CRLF-terminated,
 * may be NULL; the caller has checked them for CR/LF injection) to the peer
 * of country.  cb is called exactly once, from the loop, never inside this
 * call.  GW_ERR if no such peer or the method cannot be relayed (cb not
 * called).  Whatever happens (waiting for a free connection, connecting,
 * a retry, the answer), cb has been called within the peer's
 * connect_timeout_ms + response_timeout_ms (else with 504).
 */
int gw_relay_send(struct gw_relay *r, const char *country,
    enum gw_http_method method, const char *target, const char *headers,
    gw_relay_cb cb, void *arg);

#endif
