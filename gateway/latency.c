/*
 * latency.c: the per-route answer-time histograms of latency.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "gateway/gw.h"
#include "gateway/latency.h"

/* Upper bounds in microseconds: a Patient read is about a millisecond, a
 * relayed $summary tens of them, a timed-out relay seconds. */
static const uint64_t bounds_us[GW_LATENCY_BUCKETS] = { 500, 1000, 2500,
	5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000,
	5000000, 10000000 };

uint64_t
gw_latency_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void
gw_latency_observe(struct gw_latency *l, int route, uint64_t us)
{
	int r = route >= 0 && route < GW_LATENCY_ROUTES ? route :
	    GW_LATENCY_ROUTES;

	/* Cumulative buckets, as Prometheus wants them: le="x" counts every
	 * answer at most x. */
	for (int b = 0; b < GW_LATENCY_BUCKETS; b++)
		if (us <= bounds_us[b])
			atomic_fetch_add_explicit(&l->bucket[r][b], 1,
			    memory_order_relaxed);
	atomic_fetch_add_explicit(&l->count[r], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&l->sum_us[r], us, memory_order_relaxed);
}

/* Append like snprintf at out + *n, within cap; *n grows by what the text
 * needs, so the caller can tell it did not fit. */
static void __attribute__((format(printf, 4, 5)))
put(char *out, size_t cap, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(out + (*n < cap ? *n : cap), *n < cap ? cap - *n : 0,
	    fmt, ap);
	va_end(ap);
	if (k > 0)
		*n += (size_t)k;
}

#define METRIC "fhirgw_request_duration_seconds"

static void
print_route(const struct gw_latency *const *l, int nworkers, int r,
    const char *name, char *out, size_t cap, size_t *n)
{
	unsigned long count = 0, sum_us = 0;

	for (int w = 0; w < nworkers; w++) {
		count += atomic_load(&l[w]->count[r]);
		sum_us += atomic_load(&l[w]->sum_us[r]);
	}
	if (count == 0)
		return;
	for (int b = 0; b < GW_LATENCY_BUCKETS; b++) {
		unsigned long v = 0;

		for (int w = 0; w < nworkers; w++)
			v += atomic_load(&l[w]->bucket[r][b]);
		put(out, cap, n, METRIC "_bucket{route=\"%s\",le=\"%g\"} %lu\n",
		    name, (double)bounds_us[b] / 1e6, v);
	}
	put(out, cap, n, METRIC "_bucket{route=\"%s\",le=\"+Inf\"} %lu\n",
	    name, count);
	put(out, cap, n, METRIC "_sum{route=\"%s\"} %.6f\n", name,
	    (double)sum_us / 1e6);
	put(out, cap, n, METRIC "_count{route=\"%s\"} %lu\n", name, count);
}

size_t
gw_latency_print(const struct gw_latency *const *l, int n,
    void (*label)(int route, char *buf, size_t size), char *out, size_t cap)
{
	size_t used = 0;
	char name[128];

	put(out, cap, &used, "# HELP " METRIC " From a request's head parsed"
	    " to its answer written, by route\n# TYPE " METRIC " histogram\n");
	for (int r = 0; r <= GW_LATENCY_ROUTES; r++) {
		label(r < GW_LATENCY_ROUTES ? r : -1, name, sizeof(name));
		print_route(l, n, r, name, out, cap, &used);
	}
	return used;
}
