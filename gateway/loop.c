/*
 * loop.c: the running server: one worker thread per core, each with its own
 * event_base, its own SO_REUSEPORT listener (the kernel spreads new
 * connections) and its own database pool, so the request path takes no
 * lock.  The main thread only waits for signals: SIGHUP reloads the TLS
 * material (reload.c), SIGTERM/SIGINT stop the workers.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <event2/thread.h>

#include "gateway/export.h"
#include "gateway/gw.h"
#include "gateway/patient_flow.h"
#include "gateway/profile.h"
#include "gateway/reload.h"
#include "gateway/replica_watch.h"
#include "gateway/server.h"
#include "gateway/throttle.h"

struct gw_profiles *gw_output_profiles;

/* Gateway statements plus, for each adapter, its SQL under derived names
 * (the patient-loading ones with the consent generation appended); names
 * and SQL are owned by the table.  registry_only: what a replica's pool
 * runs (registry_read.c, replica_watch.c). */
static struct gw_db_statement *
collect_statements(bool registry_only)
{
	size_t cap = 16, n = 0;
	struct gw_db_statement *all = gw_calloc(cap, sizeof(*all));
	const struct gw_db_statement *fixed[] = { gw_router_statements,
		gw_consent_statements, gw_consent_api_statements,
		gw_audit_statements, gw_export_statements,
		gw_replica_watch_statements };

#define ADD(nm, sq, np, ro, batch)                                          \
	do {                                                                \
		if (n + 2 > cap) {                                          \
			cap *= 2;                                           \
			all = gw_realloc(all, cap * sizeof(*all));          \
		}                                                           \
		all[n].name = (nm);                                         \
		all[n].sql = (sq);                                          \
		all[n].nparams = (np);                                      \
		all[n].read_only = (ro);                                    \
		all[n].batchable = (batch);                                 \
		n++;                                                        \
	} while (0)

	for (size_t f = 0; f < GW_ARRAY_LEN(fixed); f++) {
		/* A replica's pool runs the adapters' statements and the lag
		 * watch's, nothing else. */
		if (registry_only && fixed[f] != gw_replica_watch_statements)
			continue;
		for (const struct gw_db_statement *s = fixed[f];
		     s->name != NULL; s++)
			ADD(gw_strdup(s->name), gw_strdup(s->sql),
			    s->nparams, s->read_only, s->batchable);
	}
	/* An adapter's statements read its registry and nothing else
	 * (adapters/adapter.h), so they may share a Sync (db.h). */
	for (size_t i = 0; gw_adapters[i] != NULL; i++) {
		const struct gw_adapter *a = gw_adapters[i];
		char name[64];

		gw_flow_statement_name(a, "patient_by_identifier", -1, name,
		    sizeof(name));
		ADD(gw_strdup(name),
		    gw_flow_wrap_generation(a->sql_patient_by_identifier), 2,
		    true, false);
		gw_flow_statement_name(a, "summary", -1, name, sizeof(name));
		ADD(gw_strdup(name), gw_flow_wrap_generation(a->sql_summary),
		    1, true, true);
		for (int t = 0; t < GW_RT_COUNT; t++) {
			gw_flow_statement_name(a, "read", t, name, sizeof(name));
			ADD(gw_strdup(name),
			    gw_flow_wrap_generation(a->sql_read[t]), 1, true,
			    true);
			if (a->sql_search[t] != NULL) {
				gw_flow_statement_name(a, "search", t, name,
				    sizeof(name));
				ADD(gw_strdup(name),
				    gw_strdup(a->sql_search[t]), 5, true,
				    false);
			}
		}
	}
#undef ADD
	all[n].name = NULL;
	return all;
}

static void
free_statements(struct gw_db_statement *all)
{
	for (size_t i = 0; all != NULL && all[i].name != NULL; i++) {
		free((void *)(uintptr_t)all[i].name);
		free((void *)(uintptr_t)all[i].sql);
	}
	free(all);
}

static void
accept_tls(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *addr, int socklen, void *arg)
{
	struct gw_worker *w = arg;
	const struct gw_server *s = w->server;
	long per_worker = w->limits.max_connections / s->nworkers + 1;

	(void)l;
	(void)addr;
	(void)socklen;
	if (atomic_load(&w->counters.connections) >= per_worker) {
		/* Over the cap: refuse before spending a handshake. */
		evutil_closesocket(fd);
		return;
	}
	/* Answers are written whole; waiting for more data (Nagle) against
	 * the client's delayed ACK would cost ~40 ms per response. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	gw_conn_accept_tls(w, fd);
}

static void
accept_admin(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *addr, int socklen, void *arg)
{
	(void)l;
	(void)addr;
	(void)socklen;
	gw_conn_accept_admin(arg, fd);
}

static void
listener_resume(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	evconnlistener_enable(arg);
}

/* Out of descriptors: pause accepting for a moment instead of spinning on
 * a listener that stays readable. */
static void
accept_error(struct evconnlistener *l, void *arg)
{
	struct gw_worker *w = arg;
	int err = EVUTIL_SOCKET_ERROR();
	struct timeval tv = { 1, 0 };

	gw_warn("worker %d: accept: %s", w->id,
	    evutil_socket_error_to_string(err));
	if (err == EMFILE || err == ENFILE || err == ENOBUFS ||
	    err == ENOMEM) {
		evconnlistener_disable(l);
		event_base_once(w->base, -1, EV_TIMEOUT, listener_resume, l,
		    &tv);
	}
}

static struct evconnlistener *
listen_on(struct gw_worker *w, const char *host, int port,
    evconnlistener_cb cb, bool reuseport)
{
	struct sockaddr_storage ss;
	int sslen = sizeof(ss);
	char addr[300];
	unsigned flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
	    LEV_OPT_CLOSE_ON_EXEC | (reuseport ? LEV_OPT_REUSEABLE_PORT : 0);
	struct evconnlistener *l;

	snprintf(addr, sizeof(addr), strchr(host, ':') ? "[%s]:%d" : "%s:%d",
	    host, port);
	memset(&ss, 0, sizeof(ss));
	if (evutil_parse_sockaddr_port(addr, (struct sockaddr *)&ss,
		&sslen) != 0) {
		gw_error("cannot parse listen address %s", addr);
		return NULL;
	}
	l = evconnlistener_new_bind(w->base, cb, w, flags, 1024,
	    (struct sockaddr *)&ss, sslen);
	if (l == NULL) {
		gw_error("cannot listen on %s: %s", addr,
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		return NULL;
	}
	evconnlistener_set_error_cb(l, accept_error);
	return l;
}

static void *
worker_main(void *arg)
{
	struct gw_worker *w = arg;

	event_base_dispatch(w->base);
	return NULL;
}

static int
worker_init(struct gw_server *s, struct gw_worker *w, int id, SSL_CTX *ctx)
{
	const struct gw_config *cfg = s->cfg;
	char name[32];

	w->id = id;
	w->server = s;
	SSL_CTX_up_ref(ctx);
	w->ssl_ctx = ctx;
	w->limits = cfg->limits;
	w->base = event_base_new();
	if (w->base == NULL)
		return GW_ERR;
	snprintf(name, sizeof(name), "fhirgw pool %d", id);
	w->db = gw_db_new(w->base, cfg->db_conninfo, cfg->db_pool_size,
	    s->statements, name, cfg->db_statement_timeout_ms);
	if (cfg->db_replica_conninfo != NULL) {
		snprintf(name, sizeof(name), "fhirgw replica %d", id);
		w->replica = gw_db_new(w->base, cfg->db_replica_conninfo,
		    cfg->db_replica_pool_size, s->registry_statements, name,
		    cfg->db_statement_timeout_ms);
		if (cfg->db_replica_max_lag_ms > 0)
			w->replica_watch = gw_replica_watch_new(w,
			    cfg->db_replica_max_lag_ms);
	}
	w->consent = gw_consent_cache_new(w->db);
	w->audit = gw_audit_new(w);
	w->relay = gw_relay_new(w->base, s->relay_peers);
	w->listener = listen_on(w, cfg->listen_host, cfg->listen_port,
	    accept_tls, true);
	if (w->listener == NULL)
		return GW_ERR;
	if (id == 0) {
		w->admin = listen_on(w, cfg->admin_host, cfg->admin_port,
		    accept_admin, false);
		if (w->admin == NULL)
			return GW_ERR;
	}
	return GW_OK;
}

static void
worker_free(struct gw_worker *w)
{
	gw_conn_close_all(w);
	/* Calls still open are answered 503 to their orphaned requests,
	 * which are recorded (the audit batcher is still there) and freed. */
	gw_relay_free(w->relay);
	if (w->listener != NULL)
		evconnlistener_free(w->listener);
	if (w->admin != NULL)
		evconnlistener_free(w->admin);
	/* The replica's pool first: what it still owes is answered with an
	 * error then, while the primary's pool is there (registry_read.c
	 * asks no pool once the server is stopping). */
	if (w->replica != NULL)
		gw_db_free(w->replica);
	gw_db_free(w->db);
	gw_replica_watch_free(w->replica_watch); /* after the pools */
	gw_consent_cache_free(w->consent);
	gw_audit_free(w->audit); /* after the pool: no append is left */
	SSL_CTX_free(w->ssl_ctx); /* after the connections that use it */
	gw_row_free(&w->row);
	if (w->base != NULL)
		event_base_free(w->base);
}

int
gw_server_run(struct gw_config *cfg, const char *config_path)
{
	struct gw_server s = { .cfg = cfg };
	char abs[PATH_MAX];
	SSL_CTX *ctx;
	sigset_t sigs;
	int sig = 0, rc = GW_ERR, started = 0;

	if (evthread_use_pthreads() != 0)
		gw_fatal("libevent without pthreads support");
	if (gw_adapters_check() != GW_OK || gw_router_check() != GW_OK)
		return GW_ERR;
	/* A reload reads the same file wherever the process is then. */
	s.config_path = gw_strdup(realpath(config_path, abs) != NULL ? abs :
	    config_path);
	ctx = gw_tls_server_ctx(cfg);
	if (ctx == NULL) {
		free(s.config_path);
		return GW_ERR;
	}
#ifdef GW_VALIDATE_OUTPUT
	gw_output_profiles = gw_profiles_load(GW_SOURCE_DIR "/profiles");
	if (gw_output_profiles == NULL) {
		SSL_CTX_free(ctx);
		free(s.config_path);
		return GW_ERR;
	}
	gw_warn("test build: every emitted resource is checked against"
	    " profiles/");
#endif
	s.relay_peers = gw_relay_peers_new(cfg->peers, cfg->npeers);
	if (s.relay_peers == NULL)
		goto out;
	s.throttle = gw_throttle_new();
	s.statements = collect_statements(false);
	s.registry_statements = cfg->db_replica_conninfo != NULL ?
	    collect_statements(true) : NULL;
	s.nworkers = cfg->workers;
	s.workers = gw_calloc((size_t)s.nworkers, sizeof(*s.workers));

	/* Workers inherit this mask; only the main thread takes signals, and
	 * a peer closing a socket never kills us with SIGPIPE. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	for (int i = 0; i < s.nworkers; i++)
		if (worker_init(&s, &s.workers[i], i, ctx) != GW_OK)
			goto out;
	for (int i = 0; i < s.nworkers; i++, started++)
		if (pthread_create(&s.workers[i].thread, NULL, worker_main,
			&s.workers[i]) != 0)
			goto out;
	/* The export runner shares the signal mask: only sigwait below
	 * takes SIGTERM, then stops it. */
	if (cfg->export_runner && gw_export_thread_start(cfg) != GW_OK)
		goto out;
#ifdef GW_BENCH_NO_AUDIT
	gw_warn("BENCHMARK BUILD (FHIRGW_BENCH_NO_AUDIT): requests are NOT"
	    " audited; never run this binary in production");
#endif
	gw_info("fhirgw serving %s on %s:%d (admin %s:%d), %d workers",
	    cfg->country, cfg->listen_host, cfg->listen_port, cfg->admin_host,
	    cfg->admin_port, s.nworkers);
	for (int i = 0; i < cfg->nlocal_countries; i++)
		gw_info("country %s: local", cfg->local_countries[i]);
	for (int i = 0; i < cfg->npeers; i++)
		gw_info("country %s: relayed to %s", cfg->peers[i].country,
		    cfg->peers[i].url);
	for (;;) {
		if (sigwait(&sigs, &sig) != 0)
			break;
		if (sig != SIGHUP)
			break;
		gw_reload(&s);
	}
	gw_info("signal %d: stopping", sig);
	rc = GW_OK;
out:
	atomic_store(&s.stopping, true);
	gw_export_thread_stop();
	for (int i = 0; i < started; i++) {
		event_base_loopbreak(s.workers[i].base);
		pthread_join(s.workers[i].thread, NULL);
	}
	for (int i = 0; i < s.nworkers; i++)
		worker_free(&s.workers[i]);
	free(s.workers);
	free_statements(s.statements);
	free_statements(s.registry_statements);
	gw_relay_peers_free(s.relay_peers);
	gw_throttle_free(s.throttle);
	SSL_CTX_free(ctx);
	free(s.config_path);
	gw_profiles_free(gw_output_profiles);
	gw_output_profiles = NULL;
	return rc;
}
