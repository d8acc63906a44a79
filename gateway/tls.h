/*
 * tls.h: OpenSSL contexts and node identity.
 *
 * The server context demands a client certificate from the configured CA
 * (and checks the CRL when one is configured) on TLS 1.2 and 1.3 only.  A
 * node is identified by the SHA-256 of its certificate's public key, so a
 * node keeps its identity across certificate renewals with the same key and
 * no one is identified by a subject string.
 */
#ifndef GW_TLS_H
#define GW_TLS_H

#include <openssl/ssl.h>

#include "gateway/config.h"

/* 64 hex characters and a NUL. */
#define GW_KEY_HASH_LEN 65

/* Build the server context from cfg; NULL with the reason logged. */
SSL_CTX *gw_tls_server_ctx(const struct gw_config *cfg);

/*
 * Hex SHA-256 of the DER SubjectPublicKeyInfo of cert into out (at least
 * GW_KEY_HASH_LEN bytes).  GW_OK or GW_ERR.
 */
int gw_tls_key_hash(X509 *cert, char *out);

/* The verified peer's key hash of an established connection; GW_ERR if
 * there is no verified peer certificate. */
int gw_tls_peer_key_hash(SSL *ssl, char *out);

/*
 * Does the verified peer of an established connection still pass ctx's
 * verification (its CA, CRL and depth, at this moment)?  For a reload:
 * a certificate revoked, expired or no longer under a trusted CA since
 * its handshake.  GW_OK or GW_ERR; borrows both.
 */
int gw_tls_recheck_peer(SSL *ssl, SSL_CTX *ctx);

#endif
