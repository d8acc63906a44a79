/*
 * fuzz_http_response.c: the response parser the relay uses on what a peer
 * gateway sends back: pipelined parsing under production and tiny limits,
 * for GET and HEAD; every DONE result must be consistent with its input.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "gateway/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
run(const char *buf, size_t len, enum gw_http_method m,
    const struct gw_http_limits *lim)
{
	while (len > 0) {
		struct gw_http_response r;
		size_t used = 0;
		int status = 0;

		if (gw_http_parse_response(buf, len, m, lim, &r, &used,
			&status) != GW_HTTP_DONE)
			return;
		if (used == 0 || used > len || r.status < 100 ||
		    r.status > 999 || r.body_len > lim->max_body ||
		    (r.body != NULL && strlen(r.body) > r.body_len))
			__builtin_trap();
		gw_http_response_free(&r);
		buf += used;
		len -= used;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct gw_http_limits big = { 8192, 32768, 1 << 20 };
	static const struct gw_http_limits tiny = { 32, 64, 16 };

	run((const char *)data, size, GW_HTTP_GET, &big);
	run((const char *)data, size, GW_HTTP_HEAD, &big);
	run((const char *)data, size, GW_HTTP_GET, &tiny);
	return 0;
}
