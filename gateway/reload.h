/*
 * reload.h: SIGHUP re-reads the config file and applies its TLS material to
 * the running gateway (docs/configuration.md, "Reloading").
 *
 * What reloads: the server certificate and key, the client CA, the CRL,
 * each peer's client certificate, key, CA and pin (and the peer hosts are
 * resolved again), and the limits (request sizes, deadlines, the
 * connection cap, node rates).  The new contexts are built whole first; if
 * anything fails to load, nothing changes.  Each worker then takes them on
 * its own loop: new connections use them at once, every open connection's
 * certificate is checked again against the new CA and CRL (those that fail
 * are closed), and every node is looked up again in the registry on its
 * next request.  Everything else in the file needs a restart; a reload
 * names what changed and leaves it as it runs.
 */
#ifndef GW_RELOAD_H
#define GW_RELOAD_H

struct gw_server;

/* Main thread, with the workers running: reload from s->config_path.
 * Returns once every worker has applied it (or it was refused, logged). */
void gw_reload(struct gw_server *s);

#endif
