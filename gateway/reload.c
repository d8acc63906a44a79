/*
 * reload.c: SIGHUP.  The main thread reads the config file again, builds
 * the new TLS contexts whole, and hands them to each worker as a job on
 * the worker's own loop, so nothing on the request path takes a lock or
 * sees a context change under it.  It waits until every worker has taken
 * them, then frees what the workers copied or referenced.
 */
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/x509.h>

#include "gateway/gw.h"
#include "gateway/reload.h"
#include "gateway/relay.h"
#include "gateway/server.h"
#include "gateway/tls.h"

struct reload {
	SSL_CTX *server;	      /* a reference, dropped at the end */
	struct gw_limits limits;
	struct gw_relay_peers *peers; /* NULL: the relay half is kept */
	pthread_mutex_t lock;
	pthread_cond_t done;
	int pending; /* workers still to take it */
	int closed;  /* connections whose certificate no longer verifies */
};

struct reload_job {
	struct reload *r;
	struct gw_worker *w;
};

static bool
same_str(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* The peers are the same places, in the same order: only then can each
 * worker's pools take the new material in place. */
static bool
same_peers(const struct gw_config *a, const struct gw_config *b)
{
	if (a->npeers != b->npeers)
		return false;
	for (int i = 0; i < a->npeers; i++) {
		const struct gw_peer *p = &a->peers[i], *q = &b->peers[i];

		if (strcmp(p->country, q->country) != 0 ||
		    strcmp(p->url, q->url) != 0 ||
		    p->connect_timeout_ms != q->connect_timeout_ms ||
		    p->response_timeout_ms != q->response_timeout_ms ||
		    p->max_connections != q->max_connections)
			return false;
	}
	return true;
}

/* Log every setting that differs between the running config and the file
 * and only takes effect at a restart. */
static void
name_restart_only_changes(const struct gw_config *a, const struct gw_config *b)
{
	bool locals = a->nlocal_countries == b->nlocal_countries;

	for (int i = 0; locals && i < a->nlocal_countries; i++)
		locals = strcmp(a->local_countries[i], b->local_countries[i]) ==
		    0;
#define CHANGED(cond, key)                                                  \
	do {                                                                \
		if (cond)                                                   \
			gw_warn("SIGHUP: %s changed; it takes effect at the" \
			    " next restart", key);                          \
	} while (0)
	CHANGED(!same_str(a->country, b->country), "country");
	CHANGED(!same_str(a->listen_host, b->listen_host) ||
	    a->listen_port != b->listen_port, "listen");
	CHANGED(!same_str(a->admin_host, b->admin_host) ||
	    a->admin_port != b->admin_port, "admin_listen");
	CHANGED(a->workers != b->workers, "workers");
	CHANGED(!same_str(a->public_base_url, b->public_base_url),
	    "public_base_url");
	CHANGED(!same_str(a->db_conninfo, b->db_conninfo) ||
	    a->db_pool_size != b->db_pool_size ||
	    a->db_statement_timeout_ms != b->db_statement_timeout_ms ||
	    !same_str(a->db_replica_conninfo, b->db_replica_conninfo) ||
	    a->db_replica_pool_size != b->db_replica_pool_size ||
	    a->db_replica_max_lag_ms != b->db_replica_max_lag_ms,
	    "database");
	CHANGED(a->id_key_len != b->id_key_len ||
	    memcmp(a->id_key, b->id_key, a->id_key_len) != 0, "id_key_file");
	CHANGED(!same_str(a->profiles_dir, b->profiles_dir), "profiles_dir");
	CHANGED(!locals, "local_countries");
	CHANGED(!same_peers(a, b),
	    "peers (a country, URL, timeout or connection cap; their"
	    " certificates, keys, CAs and pins were not reloaded either)");
	CHANGED(!same_str(a->export_dir, b->export_dir) ||
	    a->export_file_ttl_s != b->export_file_ttl_s ||
	    a->export_runner != b->export_runner ||
	    a->export_batch_patients != b->export_batch_patients, "export");
#undef CHANGED
}

/* On worker w's loop: take the new material, then check what is open. */
static void
apply(evutil_socket_t fd, short what, void *arg)
{
	struct reload_job *job = arg;
	struct reload *r = job->r;
	struct gw_worker *w = job->w;
	int closed;

	(void)fd;
	(void)what;
	SSL_CTX_up_ref(r->server);
	SSL_CTX_free(w->ssl_ctx);
	w->ssl_ctx = r->server;
	w->limits = r->limits;
	if (r->peers != NULL)
		gw_relay_reload(w->relay, r->peers);
	closed = gw_conn_recheck_all(w, w->ssl_ctx);
	pthread_mutex_lock(&r->lock);
	r->closed += closed;
	if (--r->pending == 0)
		pthread_cond_signal(&r->done);
	pthread_mutex_unlock(&r->lock);
}

/* "CN=..., valid until ..." of the context's certificate, for the log. */
static void
describe_certificate(SSL_CTX *ctx, char *out, size_t len)
{
	X509 *cert = SSL_CTX_get0_certificate(ctx);
	BIO *bio = BIO_new(BIO_s_mem());
	char *text = NULL;
	long n;

	gw_strlcpy(out, "?", len);
	if (cert == NULL || bio == NULL) {
		BIO_free(bio);
		return;
	}
	X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0,
	    XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB);
	BIO_puts(bio, ", valid until ");
	ASN1_TIME_print(bio, X509_get0_notAfter(cert));
	n = BIO_get_mem_data(bio, &text);
	if (n > 0 && (size_t)n < len) {
		memcpy(out, text, (size_t)n);
		out[n] = '\0';
	}
	BIO_free(bio);
}

void
gw_reload(struct gw_server *s)
{
	struct reload r = { .pending = s->nworkers };
	struct reload_job *jobs;
	struct gw_config *cfg;
	char cert[256];

	gw_info("SIGHUP: reading %s", s->config_path);
	cfg = gw_config_load(s->config_path);
	if (cfg == NULL) {
		gw_error("SIGHUP: not reloaded (the problems are above);"
		    " still serving with what was loaded before");
		return;
	}
	name_restart_only_changes(s->cfg, cfg);
	r.limits = cfg->limits;
	r.server = gw_tls_server_ctx(cfg);
	if (same_peers(s->cfg, cfg) && cfg->npeers > 0) {
		r.peers = gw_relay_peers_new(cfg->peers, cfg->npeers);
		if (r.peers == NULL) {
			SSL_CTX_free(r.server);
			r.server = NULL;
		}
	}
	if (r.server == NULL) {
		gw_error("SIGHUP: not reloaded (the problems are above);"
		    " still serving with what was loaded before");
		gw_config_free(cfg);
		return;
	}
	pthread_mutex_init(&r.lock, NULL);
	pthread_cond_init(&r.done, NULL);
	jobs = gw_calloc((size_t)s->nworkers, sizeof(*jobs));
	for (int i = 0; i < s->nworkers; i++) {
		jobs[i] = (struct reload_job){ &r, &s->workers[i] };
		/* No timeout and no descriptor: run on the loop's next turn,
		 * waking it (the base is thread-safe, loop.c). */
		if (event_base_once(s->workers[i].base, -1, EV_TIMEOUT, apply,
			&jobs[i], NULL) != 0) {
			gw_warn("SIGHUP: worker %d did not take the reload", i);
			pthread_mutex_lock(&r.lock);
			r.pending--;
			pthread_mutex_unlock(&r.lock);
		}
	}
	/* The workers' loops never block, so each takes its job promptly;
	 * what they took is theirs (referenced or copied) once they have. */
	pthread_mutex_lock(&r.lock);
	while (r.pending > 0)
		pthread_cond_wait(&r.done, &r.lock);
	pthread_mutex_unlock(&r.lock);
	describe_certificate(r.server, cert, sizeof(cert));
	gw_info("SIGHUP: reloaded TLS material and limits: server certificate"
	    " %s; %s; %d open connection(s) closed, their certificate no"
	    " longer verifies", cert, r.peers != NULL ? "peers' client certificates,"
	    " CAs and pins too" : s->cfg->npeers > 0 ? "peers kept as they"
	    " were" : "no peers", r.closed);
	free(jobs);
	pthread_cond_destroy(&r.done);
	pthread_mutex_destroy(&r.lock);
	SSL_CTX_free(r.server);
	gw_relay_peers_free(r.peers);
	gw_config_free(cfg);
}
