/*
 * throttle.c: the token buckets of throttle.h in one open-addressing table
 * under one mutex.  The table only holds registered nodes (the router asks
 * after the node lookup), so it stays small; a request holds the lock for
 * a hash probe and a few arithmetic operations.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/gw.h"
#include "gateway/throttle.h"
#include "gateway/tls.h"

struct bucket {
	char key[GW_KEY_HASH_LEN]; /* "" = free slot */
	double tokens;
	double at; /* when tokens was right, seconds (monotonic) */
};

struct gw_throttle {
	pthread_mutex_t lock;
	struct bucket *slots;
	size_t cap; /* a power of two */
	size_t used;
};

struct gw_throttle *
gw_throttle_new(void)
{
	struct gw_throttle *t = gw_calloc(1, sizeof(*t));

	pthread_mutex_init(&t->lock, NULL);
	t->cap = 64;
	t->slots = gw_calloc(t->cap, sizeof(*t->slots));
	return t;
}

void
gw_throttle_free(struct gw_throttle *t)
{
	if (t == NULL)
		return;
	pthread_mutex_destroy(&t->lock);
	free(t->slots);
	free(t);
}

static struct bucket *
slot_of(struct bucket *slots, size_t cap, const char *key)
{
	/* The keys are SHA-256 hex already: any mixing will do. */
	size_t i = (size_t)gw_fnv1a(key) & (cap - 1);

	while (slots[i].key[0] != '\0' && strcmp(slots[i].key, key) != 0)
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

/* Keep the table at most half full. */
static void
grow(struct gw_throttle *t)
{
	size_t cap = t->cap * 2;
	struct bucket *slots = gw_calloc(cap, sizeof(*slots));

	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].key[0] != '\0')
			*slot_of(slots, cap, t->slots[i].key) = t->slots[i];
	free(t->slots);
	t->slots = slots;
	t->cap = cap;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
gw_throttle_take(struct gw_throttle *t, const char *key, double rate,
    double burst_s)
{
	double size = fmax(rate * burst_s, 1.0), now = now_s();
	struct bucket *b;
	int wait = 0;

	pthread_mutex_lock(&t->lock);
	b = slot_of(t->slots, t->cap, key);
	if (b->key[0] == '\0') {
		gw_strlcpy(b->key, key, sizeof(b->key));
		b->tokens = size;
		b->at = now;
		if (++t->used * 2 > t->cap) {
			grow(t);
			b = slot_of(t->slots, t->cap, key);
		}
	}
	/* A rate changed by a reload or the registry takes effect here: the
	 * bucket never holds more than its present size. */
	b->tokens = fmin(size, b->tokens + (now - b->at) * rate);
	b->at = now;
	if (b->tokens >= 1.0)
		b->tokens -= 1.0;
	else
		wait = (int)ceil((1.0 - b->tokens) / rate);
	pthread_mutex_unlock(&t->lock);
	return wait > 0 ? wait : 0;
}
