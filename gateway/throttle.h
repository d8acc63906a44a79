/*
 * throttle.h: per-node request rates (DESIGN.md section 4: 429).  One token
 * bucket per node key, shared by every worker, so a node that spreads its
 * connections over the workers gets the same rate as one that does not,
 * and updated without a lock.  A bucket holds rate x burst_s requests and
 * refills at rate per second.  Each gateway process keeps its own: behind
 * a load balancer, n instances let a node through n times.
 */
#ifndef GW_THROTTLE_H
#define GW_THROTTLE_H

struct gw_throttle;

struct gw_throttle *gw_throttle_new(void);
void gw_throttle_free(struct gw_throttle *t);

/*
 * Take one request from the bucket of key (a node's key hash) that holds
 * rate x burst_s requests and refills at rate per second.  0: go ahead;
 * otherwise the whole seconds (>= 1) after which one will be there.
 * Thread-safe and lock-free but for a key's first request, which claims
 * its bucket.
 */
int gw_throttle_take(struct gw_throttle *t, const char *key, double rate,
    double burst_s);

#endif
