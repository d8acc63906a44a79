/*
 * throttle.c: the per-node rates of throttle.h without a lock on the
 * request path (DESIGN.md section 8).
 *
 * Each node has one 64-bit word, its theoretical arrival time (the generic
 * cell rate algorithm, GCRA): a request at `now` is let through when
 * now >= tat - tau, and moves tat to max(tat, now) + T, where T = 1/rate and
 * tau = (bucket size - 1) x T.  That is a token bucket of rate x burst_s
 * requests kept in one word, so a compare-and-swap updates it.
 *
 * The words live in a fixed open-addressing table.  A slot is claimed once,
 * under a mutex, the first time its node asks (a node's key never moves or
 * changes after that); every later request finds it with plain atomic
 * loads.  The table holds GW_THROTTLE_NODES registered nodes; a node past
 * that is not limited, and the log says so once.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/gw.h"
#include "gateway/throttle.h"
#include "gateway/tls.h"

/* A power of two, at most half used: 2048 nodes, about 360 kB. */
#define SLOTS 4096
#define GW_THROTTLE_NODES (SLOTS / 2)

#define NS_PER_S 1000000000ULL

struct slot {
	atomic_bool used;	   /* key is written and final */
	char key[GW_KEY_HASH_LEN];
	_Atomic uint64_t tat;	   /* theoretical arrival time, ns */
};

struct gw_throttle {
	pthread_mutex_t claim; /* only to claim a slot */
	size_t nused;
	atomic_bool full_logged;
	struct slot *slots; /* untouched pages cost no memory */
};

struct gw_throttle *
gw_throttle_new(void)
{
	struct gw_throttle *t = gw_calloc(1, sizeof(*t));

	pthread_mutex_init(&t->claim, NULL);
	t->slots = gw_calloc(SLOTS, sizeof(*t->slots));
	return t;
}

void
gw_throttle_free(struct gw_throttle *t)
{
	if (t == NULL)
		return;
	pthread_mutex_destroy(&t->claim);
	free(t->slots);
	free(t);
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* The key's slot, or the first free one on its probe path (NULL: the
 * table is full).  Lock-free: a used slot's key never changes. */
static struct slot *
probe(struct gw_throttle *t, const char *key)
{
	/* The keys are SHA-256 hex already: any mixing will do. */
	size_t i = (size_t)gw_fnv1a(key) & (SLOTS - 1);

	for (size_t n = 0; n < SLOTS; n++, i = (i + 1) & (SLOTS - 1)) {
		struct slot *s = &t->slots[i];

		if (!atomic_load_explicit(&s->used, memory_order_acquire) ||
		    strcmp(s->key, key) == 0)
			return s;
	}
	return NULL;
}

/* The node's slot, claimed on its first request. */
static struct slot *
slot_of(struct gw_throttle *t, const char *key)
{
	struct slot *s = probe(t, key);

	if (s != NULL && atomic_load_explicit(&s->used, memory_order_acquire))
		return s;
	pthread_mutex_lock(&t->claim);
	/* Another worker may have claimed it (or the free slot) meanwhile. */
	s = probe(t, key);
	if (s != NULL && !atomic_load_explicit(&s->used,
	    memory_order_relaxed)) {
		if (t->nused >= GW_THROTTLE_NODES) {
			s = NULL;
		} else {
			gw_strlcpy(s->key, key, sizeof(s->key));
			atomic_store_explicit(&s->tat, 0, memory_order_relaxed);
			atomic_store_explicit(&s->used, true,
			    memory_order_release);
			t->nused++;
		}
	}
	pthread_mutex_unlock(&t->claim);
	if (s == NULL && !atomic_exchange(&t->full_logged, true))
		gw_warn("throttle: more than %d nodes asked; the others are"
		    " not limited", GW_THROTTLE_NODES);
	return s;
}

int
gw_throttle_take(struct gw_throttle *t, const char *key, double rate,
    double burst_s)
{
	uint64_t now = now_ns(), step, tau, tat, next;
	double size = rate * burst_s;
	struct slot *s = slot_of(t, key);

	if (s == NULL)
		return 0;
	step = (uint64_t)((double)NS_PER_S / rate);
	if (step == 0)
		step = 1;
	tau = size > 1.0 ? (uint64_t)((size - 1.0) * (double)step) : 0;
	tat = atomic_load_explicit(&s->tat, memory_order_relaxed);
	do {
		if (tat > now + tau) {
			/* Empty: one comes back when now reaches tat - tau. */
			uint64_t wait = tat - tau - now;

			return (int)((wait + NS_PER_S - 1) / NS_PER_S);
		}
		next = (tat > now ? tat : now) + step;
	} while (!atomic_compare_exchange_weak_explicit(&s->tat, &tat, next,
	    memory_order_relaxed, memory_order_relaxed));
	return 0;
}
