/*
 * server.h: the pieces of a running gateway that the connection, router and
 * handler files share: the server, its workers, connections and requests.
 *
 * Ownership: a worker owns its connections; a connection owns at most one
 * request in flight (pipelined requests wait, unparsed, in its input
 * buffer, which answers them in order for free).  A request whose
 * connection went away while a database query was pending is orphaned
 * (req->conn == NULL) and freed when that query completes.  An answer
 * held until its audit record commits (audit.c) counts as pending too.
 */
#ifndef GW_SERVER_H
#define GW_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include <cjson/cJSON.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include "adapters/adapter.h"
#include "gateway/audit.h"
#include "gateway/config.h"
#include "gateway/consent.h"
#include "gateway/db.h"
#include "gateway/http.h"
#include "gateway/latency.h"
#include "gateway/relay.h"
#include "gateway/tls.h"

struct gw_server;
struct gw_stream;

/* Counters a worker keeps without locks; /metrics sums them. */
struct gw_counters {
	atomic_ulong requests;
	atomic_ulong status_2xx;
	atomic_ulong status_4xx;
	atomic_ulong status_5xx;
	atomic_ulong tls_refused;
	atomic_ulong consent_deny;
	atomic_ulong break_glass;
	atomic_ulong relayed;	     /* requests sent on to a peer gateway */
	atomic_ulong relay_failed;   /* of those, answered 502/503/504 here */
	atomic_ulong throttled;	     /* answered 429: the node over its rate */
	atomic_ulong replica_reads;  /* registry statements the replica ran */
	atomic_ulong replica_fallbacks; /* sent to the primary instead */
	atomic_long connections;
};

struct gw_worker {
	int id;
	struct gw_server *server;
	struct event_base *base;
	struct evconnlistener *listener;
	struct evconnlistener *admin; /* worker 0 only */
	struct gw_db *db;
	struct gw_db *replica;	/* registry reads (registry_read.c), or NULL */
	struct gw_replica_watch *replica_watch; /* its lag, or NULL: no bound */
	struct gw_audit *audit; /* audit.c: this worker's record batcher */
	struct gw_consent_cache *consent; /* this worker's decisions */
	struct gw_relay *relay;	/* relay.c: this worker's peer pools */
	SSL_CTX *ssl_ctx;	/* new connections' context (a reference);
				   replaced by a reload, on this thread */
	struct gw_limits limits; /* the config's, as of the last reload */
	pthread_t thread;
	struct gw_counters counters;
	struct gw_latency latency; /* answer times by route, /metrics */
	struct gw_conn *conns; /* every open connection, for shutdown */
	struct gw_row row;     /* scratch for mapping rows one at a time */
};

struct gw_server {
	struct gw_config *cfg;
	char *config_path;   /* absolute: re-read on SIGHUP (reload.c) */
	struct gw_db_statement *statements; /* gateway's + adapters' */
	struct gw_db_statement *registry_statements; /* adapters' alone */
	struct gw_relay_peers *relay_peers; /* client contexts of the peers */
	struct gw_throttle *throttle;	    /* per-node rates, all workers */
	int nworkers;
	struct gw_worker *workers;
	atomic_bool stopping;
};

enum gw_node_state {
	GW_NODE_UNKNOWN,  /* not looked up yet */
	GW_NODE_LOOKUP,	  /* query in flight */
	GW_NODE_KNOWN,	  /* registered and active */
	GW_NODE_REFUSED,  /* not registered or inactive */
};

struct gw_node {
	char key_hash[GW_KEY_HASH_LEN];
	char name[64];
	char country[3];
	unsigned roles;	 /* bits of router.c's role table */
	int requests_per_s; /* the registry's rate for it; -1: the config's */
};

struct gw_conn {
	struct gw_worker *worker;
	struct gw_stream *stream;
	bool admin;	  /* plain HTTP admin connection */
	bool tls_ok;	  /* handshake done */
	bool closing;	  /* close once the output is flushed */
	bool http10;	  /* the current request is HTTP/1.0 */
	enum gw_node_state node_state;
	struct gw_node node;
	struct gw_req *req; /* in flight */
	struct gw_conn *prev, *next; /* the worker's list */
};

/* Up to this many `name=value` pairs in a query string. */
#define GW_MAX_PARAMS 16

struct gw_param {
	char *name;  /* percent-decoded */
	char *value; /* percent-decoded */
};

struct gw_req {
	struct gw_conn *conn; /* NULL when orphaned */
	struct gw_worker *worker;
	struct gw_http_request http;
	uint64_t started_us;	/* head parsed (gw_latency_now_us) */
	const struct gw_route *route;
	char *path_args[2];	/* the route's {captures}, decoded */
	struct gw_param params[GW_MAX_PARAMS];
	int nparams;
	bool pending;		/* a database query is in flight */
	enum gw_purpose purpose;
	bool emergency;		/* X-Emergency-Reason given */
	const struct gw_adapter *adapter;
	struct gw_patient patient;
	enum gw_rtype rtype;
	struct gw_consent_decision decision;
	long count, offset;	/* paging */
	struct gw_row held;	/* the patient's native registry row */
	char held_kind[32];	/* and its native kind */
	/* Resources mapped while the registry's answer was at hand, awaiting
	 * the consent decision: their JSON text (wiped when freed), and for a
	 * read, the one resource's type, id and sensitive category. */
	struct gw_jbuf held_text;
	struct gw_mapped held_mapped;
	void (*next)(struct gw_req *req); /* continuation after consent */
	void *ctx;		/* a handler's own state, freed with the request */
	bool no_decision;	/* resolve the patient only (consent admin) */
	long long consent_gen;	/* gw.consent_generation read with the patient */
	bool gen_from_primary;	/* registry_read.c: the rows came from the */
	long long primary_gen;	/* replica; the primary's generation */
	int missing_status;	/* answer when the patient is unknown */
	struct gw_audit_entry *audit; /* audit.c: recorded before answered */
	/* Relay (docs/relay.md).  On a request from a peer gateway: the
	 * requesting node behind it (X-Origin-Country, X-Origin-Node), for
	 * the consent decision and the audit record.  On a request this
	 * gateway relays: the peer that holds the patient's data. */
	char origin_country[3];
	char origin_node[64];
	const struct gw_peer *relay_peer;
	/* A relayed request whose client sent no X-Request-Id gets one
	 * here: it goes to the holder and into both audit records, so the
	 * two can be joined.  Empty otherwise. */
	char request_id[37];
};

typedef void (*gw_route_fn)(struct gw_req *req);

/* Where a patient-data route names its patient: the router finds from it
 * the country holding the data, before the handler runs, and relays the
 * request when a peer gateway holds it (docs/relay.md). */
enum gw_route_home {
	GW_HOME_NONE,
	GW_HOME_PATH_ID,	/* the first capture: Patient/{id} */
	GW_HOME_PATH_ID2,	/* the second capture: {Type}/{id} */
	GW_HOME_PATIENT_PARAM,	/* ?patient={id} or Patient/{id} */
	GW_HOME_IDENTIFIER,	/* ?identifier=SYSTEM|VALUE */
};

struct gw_route {
	enum gw_http_method method;
	const char *pattern; /* "/fhir/Patient/{}/$summary" */
	gw_route_fn handler;
	const char *roles;   /* any one of these (comma-separated); NULL: any
				registered node */
	bool patient_data;   /* clinical data: a purpose is required */
	bool typed;	     /* first capture must be a served clinical type */
	bool audit;	     /* audited although not patient_data */
	enum gw_route_home home; /* patient_data: where the patient is named */
};

/* The profiles every emitted resource is checked against in test builds
 * (GW_VALIDATE_OUTPUT); NULL otherwise.  Read-only while serving. */
extern struct gw_profiles *gw_output_profiles;

/* Start listeners and workers; blocks until SIGTERM/SIGINT, reloading the
 * TLS material from config_path on SIGHUP (reload.c).  GW_OK or GW_ERR
 * (start-up failure, logged). */
int gw_server_run(struct gw_config *cfg, const char *config_path);

/* connection.c: answer and continue.  The reply functions take body.mem
 * (gw_body_text() wraps a plain malloc'd string). */
void gw_req_reply(struct gw_req *req, int status, const char *content_type,
    struct gw_body body, const char *extra_headers);
/* Write an answer now, bypassing the audit (audit.c, once the request's
 * record is committed).  Takes body.mem and the request. */
void gw_req_deliver(struct gw_req *req, int status, const char *content_type,
    struct gw_body body, const char *extra_headers);
void gw_req_reply_json(struct gw_req *req, int status, cJSON *body,
    const char *extra_headers);
/* A FHIR JSON answer already written as text (gw_fhir_body_open/close),
 * whose returned resources the caller noted for the audit
 * (gw_audit_note_resource).  Takes body.mem. */
void gw_req_reply_json_text(struct gw_req *req, int status,
    struct gw_body body, const char *extra_headers);
void gw_req_reply_error(struct gw_req *req, int status, const char *code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void gw_conn_accept_tls(struct gw_worker *w, evutil_socket_t fd);
void gw_conn_accept_admin(struct gw_worker *w, evutil_socket_t fd);
/* Re-verify every established TLS connection of w against ctx (a reload's
 * new CA and CRL): close those that fail, and make the others look their
 * node up again on their next request.  On w's thread; the number closed. */
int gw_conn_recheck_all(struct gw_worker *w, SSL_CTX *ctx);
/* Close every connection of a stopped worker (its loop is not running). */
void gw_conn_close_all(struct gw_worker *w);

/* router.c: match and run a parsed request (the request is the router's
 * until it replies). */
void gw_router_dispatch(struct gw_req *req);
/* At start, before the workers: turn the route table's roles into the bits
 * nodes hold, each one a role a node can hold; GW_OK, or GW_ERR with the
 * route logged. */
int gw_router_check(void);
/* A route's place in the table (0..GW_LATENCY_ROUTES - 1), -1 for NULL;
 * and the label /metrics gives a place ("GET /fhir/Patient/{}", "none"). */
int gw_router_route_index(const struct gw_route *route);
void gw_router_route_label(int index, char *buf, size_t size);
void gw_admin_dispatch(struct gw_req *req);
/* The statements the gateway itself prepares. */
extern const struct gw_db_statement gw_router_statements[];
extern const struct gw_db_statement gw_consent_api_statements[];

/* handlers_*.c: the route handlers the table in router.c names. */
void gw_handle_metadata(struct gw_req *req);
void gw_handle_patient_search(struct gw_req *req);
void gw_handle_patient_read(struct gw_req *req);
void gw_handle_summary(struct gw_req *req);
void gw_handle_type_search(struct gw_req *req);
void gw_handle_type_read(struct gw_req *req);
/* handlers_docref.c: the patient summary as an IHE MHD DocumentReference. */
void gw_handle_docref_search(struct gw_req *req);
void gw_handle_docref_read(struct gw_req *req);
void gw_handle_audit_search(struct gw_req *req); /* audit_event.c */
void gw_handle_audit_read(struct gw_req *req);	 /* audit_event.c */
void gw_handle_consent_create(struct gw_req *req);
void gw_handle_consent_search(struct gw_req *req);
void gw_handle_consent_read(struct gw_req *req);
void gw_handle_consent_update(struct gw_req *req);
void gw_handle_consent_delete(struct gw_req *req);
/* export_api.c: Bulk Data export under a data permit (docs/export.md). */
void gw_handle_export_kickoff(struct gw_req *req);
void gw_handle_export_status(struct gw_req *req);
void gw_handle_export_cancel(struct gw_req *req);
void gw_handle_export_file(struct gw_req *req);
/* handlers_relay.c: send the request to req->relay_peer, answer with what
 * the holder answers (links rewritten to public_base_url). */
void gw_handle_relay(struct gw_req *req);

/* Does the node hold this role? */
bool gw_node_has_role(const struct gw_node *node, const char *role);

/* A query parameter's value, or NULL. */
const char *gw_req_param(const struct gw_req *req, const char *name);

/* Free everything the request owns. */
void gw_req_free(struct gw_req *req);

/* True when the request is orphaned; then it has been freed and the
 * caller must return at once. */
bool gw_req_gone(struct gw_req *req);

/*
 * The first step of a request's database callback: false when there is
 * nothing more to do.  Either the request is gone (gw_req_gone), or the
 * query failed: then "what: error" is logged and the client gets a 503
 * whose diagnostics say unavailable (nothing was changed or released).
 */
bool gw_req_query_ok(struct gw_req *req, const PGresult *res,
    const char *error, const char *what, const char *unavailable);

#endif
