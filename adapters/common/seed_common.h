/*
 * seed_common.h: the machinery of the synthetic registries, shared by the
 * country seeders: a counter-based PRNG (one independent stream per person
 * and purpose, so a person is a pure function of its index), COPY FROM
 * STDIN text-format streaming through a fixed buffer, and the driver that
 * writes every table of a country in one transaction with constant memory.
 *
 * A country seeder supplies its catalogues, a function that makes person
 * `index` (everything more than one table needs) and one row writer per
 * table; the driver calls person() and the table's rows() for every index,
 * table after table.
 */
#ifndef GW_ADAPTER_SEED_COMMON_H
#define GW_ADAPTER_SEED_COMMON_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

/* An absent date; days before 1970 are negative, so not -1. */
#define GW_SEED_NO_DAY LONG_MIN

/* ---- randomness ---- */

struct gw_seed_rng {
	uint64_t s;
};

/* The stream of (base, index, stream): splitmix64 seeded from all three. */
void gw_seed_rng_init(
    struct gw_seed_rng *r, uint64_t base, long index, unsigned stream);
uint64_t gw_seed_rng_next(struct gw_seed_rng *r);
/* Uniform in [0, n), n > 0. */
long gw_seed_below(struct gw_seed_rng *r, long n);
/* True with probability permille/1000. */
bool gw_seed_permille(struct gw_seed_rng *r, int permille);
/* Uniform in [lo, hi]; lo when hi < lo. */
long gw_seed_range(struct gw_seed_rng *r, long lo, long hi);

/* An index in [0, n) drawn with probability weight(i, group) / (sum over
 * i); 0 when every weight is zero.  One draw. */
long gw_seed_weighted(
    struct gw_seed_rng *r, long n, int (*weight)(long i, int group), int group);

/*
 * One to three distinct given names from pool (1: 20 %, 2: 60 %, 3: 20 %),
 * joined by spaces into out; picked[] gets them in order.  Returns how
 * many were picked.
 */
int gw_seed_given_names(struct gw_seed_rng *r, const char *const *pool,
    long npool, const char *picked[3], char *out, size_t outsz);

#define GW_SEED_PICK(r, arr)                                                   \
	((arr)[gw_seed_below((r), (long)(sizeof(arr) / sizeof((arr)[0])))])

/* n years in days (365.25 each), for ages and spans. */
long gw_seed_years(long n);

/* ---- COPY streaming ---- */

/* One COPY stream: fields are appended to a fixed buffer and sent in
 * chunks.  After a failure the remaining puts only empty the buffer. */
struct gw_seed_copy {
	PGconn *conn;
	const char *who; /* log prefix: "fi seed" */
	char *buf;
	size_t len;
	bool first; /* next field starts a row */
	bool failed;
	long rows;
};

/* One text-format field, escaped; NULL writes \N. */
void gw_seed_put(struct gw_seed_copy *c, const char *s);
void gw_seed_putf(struct gw_seed_copy *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A date "YYYY-MM-DD" of a day number (years 1000-9999), or \N for
 * GW_SEED_NO_DAY. */
void gw_seed_put_date(struct gw_seed_copy *c, long days);
/* A UTC timestamp: day plus seconds into the day. */
void gw_seed_put_timestamp(struct gw_seed_copy *c, long days, long secs);
/* A scaled integer as a decimal without locale: 1234, 2 -> "12.34"
 * (decimals 0-3). */
void gw_seed_put_scaled(struct gw_seed_copy *c, long v, int decimals);
/* The same, or \N when v is negative (an absent reference limit). */
void gw_seed_put_limit(struct gw_seed_copy *c, long v, int decimals);
/* End the row. */
void gw_seed_row_end(struct gw_seed_copy *c);

/* ---- the driver ---- */

struct gw_seed_table {
	const char *name;     /* for logs */
	const char *copy_sql; /* COPY ... FROM STDIN WITH (FREEZE) */
	void (*rows)(
	    struct gw_seed_copy *c, const void *person, const void *arg);
};

struct gw_seed_plan {
	const char *who;          /* log prefix: "fi seed" */
	const char *truncate_sql; /* empties every table of the registry */
	const char *analyze_sql;  /* run after the COPYs, or NULL */
	const struct gw_seed_table *tables;
	size_t ntables;
	/* Make person index into out (person_size bytes). */
	void (*person)(long index, void *out, const void *arg);
	size_t person_size;
	const void *arg; /* passed to person() and rows() */
};

/*
 * Replace the registry with npatients people: in one transaction (or the
 * caller's, when conn is already in one), TRUNCATE, one COPY per table in
 * order, ANALYZE, COMMIT.  conn is borrowed (blocking).  GW_OK, or GW_ERR
 * with the reason logged and nothing changed.
 */
int gw_seed_run(PGconn *conn, const struct gw_seed_plan *plan, long npatients);

/* The keyed-hash key for logical-id tokens, the usual plan arg. */
struct gw_seed_key {
	const unsigned char *key;
	size_t len;
};

#endif
