/*
 * throttle.h: per-node request rates (DESIGN.md section 4: 429).  One token
 * bucket per node key, shared by every worker, so a node that spreads its
 * connections over the workers gets the same rate as one that does not.
 * A bucket holds rate x burst_s requests and refills at rate per second.
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
 * Thread-safe; a bucket is made on a key's first request.
 */
int gw_throttle_take(struct gw_throttle *t, const char *key, double rate,
    double burst_s);

#endif
