/*
 * tls.c: the server SSL_CTX and the peer's key hash.  Verification is
 * OpenSSL's: chain to the configured CA, validity dates, optional CRL; we
 * only add "a certificate is required" and read the key of what passed.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "gateway/gw.h"
#include "gateway/tls.h"

static void
log_ssl_error(const char *what, const char *path)
{
	unsigned long e = ERR_get_error();
	char buf[256];

	ERR_error_string_n(e, buf, sizeof(buf));
	gw_error("tls: %s %s: %s", what, path ? path : "", buf);
	ERR_clear_error();
}

static int
load_crl(SSL_CTX *ctx, const char *path)
{
	X509_STORE *store = SSL_CTX_get_cert_store(ctx);
	X509_LOOKUP *lookup = X509_STORE_add_lookup(store, X509_LOOKUP_file());

	if (lookup == NULL ||
	    X509_load_crl_file(lookup, path, X509_FILETYPE_PEM) <= 0) {
		log_ssl_error("cannot load CRL", path);
		return GW_ERR;
	}
	X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
	return GW_OK;
}

SSL_CTX *
gw_tls_server_ctx(const struct gw_config *cfg)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	STACK_OF(X509_NAME) *names;

	if (ctx == NULL) {
		log_ssl_error("SSL_CTX_new", NULL);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* Renegotiation and compression have no place on this edge. */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (SSL_CTX_use_certificate_chain_file(ctx, cfg->tls_cert) != 1) {
		log_ssl_error("cannot load certificate", cfg->tls_cert);
		goto err;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, cfg->tls_key,
		SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		log_ssl_error("cannot load key", cfg->tls_key);
		goto err;
	}
	if (SSL_CTX_load_verify_locations(ctx, cfg->tls_client_ca, NULL) !=
	    1) {
		log_ssl_error("cannot load client CA", cfg->tls_client_ca);
		goto err;
	}
	names = SSL_load_client_CA_file(cfg->tls_client_ca);
	if (names != NULL)
		SSL_CTX_set_client_CA_list(ctx, names);
	if (cfg->tls_crl != NULL && load_crl(ctx, cfg->tls_crl) != GW_OK)
		goto err;
	SSL_CTX_set_verify(ctx,
	    SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_verify_depth(ctx, 4);
	/*
	 * Resumed sessions keep the verified peer certificate, so a resumed
	 * connection is identified exactly like a full handshake.
	 */
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"fhirgw", 6);
	/*
	 * One TLS 1.3 ticket per handshake, not OpenSSL's two: each ticket
	 * copies the session by encoding and decoding it, client certificate
	 * included, and the two copies were 30 % of a full handshake's
	 * instructions.  One ticket still lets a node resume, and a resumed
	 * connection gets a fresh one.
	 */
	SSL_CTX_set_num_tickets(ctx, 1);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	return ctx;
err:
	SSL_CTX_free(ctx);
	return NULL;
}

int
gw_tls_key_hash(X509 *cert, char *out)
{
	unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	int der_len;

	der_len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
	if (der_len <= 0)
		return GW_ERR;
	if (EVP_Digest(der, (size_t)der_len, md, &md_len, EVP_sha256(),
		NULL) != 1) {
		OPENSSL_free(der);
		return GW_ERR;
	}
	OPENSSL_free(der);
	for (unsigned int i = 0; i < md_len; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return GW_OK;
}

int
gw_tls_recheck_peer(SSL *ssl, SSL_CTX *ctx)
{
	X509 *peer = SSL_get0_peer_certificate(ssl);
	X509_STORE_CTX *vctx;
	int ok;

	if (peer == NULL)
		return GW_ERR;
	vctx = X509_STORE_CTX_new();
	if (vctx == NULL)
		return GW_ERR;
	/* What the handshake checked, now against ctx's store: the chain the
	 * client sent (leaf excluded on the server side), the client-auth
	 * purpose, the depth, and the CRL flag the store carries. */
	ok = X509_STORE_CTX_init(vctx, SSL_CTX_get_cert_store(ctx), peer,
		 SSL_get_peer_cert_chain(ssl)) == 1 &&
	    X509_STORE_CTX_set_default(vctx, "ssl_client") == 1;
	if (ok) {
		X509_VERIFY_PARAM_set_depth(X509_STORE_CTX_get0_param(vctx),
		    SSL_CTX_get_verify_depth(ctx));
		ok = X509_verify_cert(vctx) == 1;
	}
	X509_STORE_CTX_free(vctx);
	ERR_clear_error();
	return ok ? GW_OK : GW_ERR;
}

int
gw_tls_peer_key_hash(SSL *ssl, char *out)
{
	X509 *peer;
	int rc;

	if (SSL_get_verify_result(ssl) != X509_V_OK)
		return GW_ERR;
	peer = SSL_get1_peer_certificate(ssl);
	if (peer == NULL)
		return GW_ERR;
	rc = gw_tls_key_hash(peer, out);
	X509_free(peer);
	return rc;
}
