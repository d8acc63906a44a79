/*
 * token.c: opaque logical-id tokens.  A token is a keyed hash of the
 * national identifier, so ids are stable for the holder (who has the key)
 * and reveal nothing to anyone else; the country is hashed in so equal
 * numbers in two countries never share a token.
 */
#include <string.h>

#include <openssl/evp.h>
#include <openssl/params.h>

#include "adapters/adapter.h"
#include "gateway/gw.h"

#define TOKEN_CHARS 26 /* 130 bits of base32 */

int
gw_adapter_token(const unsigned char *key, size_t key_len,
    const char *country, const char *national_id, char *out, size_t outsz)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
	static char digest[] = "SHA256";
	unsigned char mac[EVP_MAX_MD_SIZE];
	EVP_MAC *evp_mac = NULL;
	EVP_MAC_CTX *ctx = NULL;
	OSSL_PARAM params[2];
	size_t out_len = 0;
	int rc = GW_ERR;

	if (outsz < TOKEN_CHARS + 1)
		return GW_ERR;
	evp_mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (evp_mac == NULL)
		goto err;
	ctx = EVP_MAC_CTX_new(evp_mac);
	if (ctx == NULL)
		goto err;
	params[0] = OSSL_PARAM_construct_utf8_string("digest", digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (!EVP_MAC_init(ctx, key, key_len, params) ||
	    !EVP_MAC_update(ctx, (const unsigned char *)country,
		strlen(country)) ||
	    !EVP_MAC_update(ctx, (const unsigned char *)"|", 1) ||
	    !EVP_MAC_update(ctx, (const unsigned char *)national_id,
		strlen(national_id)) ||
	    !EVP_MAC_final(ctx, mac, &out_len, sizeof(mac)))
		goto err;
	/* Take 5 bits at a time from the front of the MAC. */
	for (int i = 0; i < TOKEN_CHARS; i++) {
		int bit = i * 5, byte = bit / 8, shift = bit % 8;
		unsigned v = (unsigned)mac[byte] << 8 | mac[byte + 1];
		out[i] = alphabet[(v >> (11 - shift)) & 31];
	}
	out[TOKEN_CHARS] = '\0';
	rc = GW_OK;
err:
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(evp_mac);
	return rc;
}
