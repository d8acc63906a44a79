/*
 * latency.h: how long answers take, as a Prometheus histogram per route
 * (DESIGN.md section 2, metrics).  Each worker keeps its own counts without
 * locks; /metrics adds them up.  A request is timed from the moment its
 * head was parsed to the moment its answer was handed to the socket: the
 * consent decision, the registry, the audit commit and any relay included.
 */
#ifndef GW_LATENCY_H
#define GW_LATENCY_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Routes counted separately; one more slot takes requests that matched
 * no route (404, 405, 501) and the admin listener's. */
#define GW_LATENCY_ROUTES 32
#define GW_LATENCY_BUCKETS 14

struct gw_latency {
	atomic_ulong bucket[GW_LATENCY_ROUTES + 1][GW_LATENCY_BUCKETS];
	atomic_ulong count[GW_LATENCY_ROUTES + 1];
	atomic_ulong sum_us[GW_LATENCY_ROUTES + 1];
};

/* Microseconds on the monotonic clock. */
uint64_t gw_latency_now_us(void);

/* Count one answer of route (0..GW_LATENCY_ROUTES - 1, or -1 for none)
 * that took us microseconds.  Only the worker that owns l calls this. */
void gw_latency_observe(struct gw_latency *l, int route, uint64_t us);

/*
 * Append the histogram over n workers' counts to out (at most cap bytes;
 * returns what it needed, like snprintf).  label(route, buf, size) names a
 * route (-1: none) for the route="..." label; routes never answered are
 * left out.
 */
size_t gw_latency_print(const struct gw_latency *const *l, int n,
    void (*label)(int route, char *buf, size_t size), char *out, size_t cap);

#endif
