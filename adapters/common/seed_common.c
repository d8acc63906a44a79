/*
 * seed_common.c: PRNG streams, COPY text-format streaming and the seeding
 * driver shared by the country seeders (see seed_common.h).  The COPY
 * buffer is the only allocation; its size bounds memory whatever the
 * number of people, and it is wiped before it is freed (it held synthetic
 * but person-shaped data).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "adapters/common/civil.h"
#include "adapters/common/seed_common.h"
#include "gateway/gw.h"

#define COPY_BUF ((size_t)1024 * 1024)
#define COPY_FLUSH (COPY_BUF - (size_t)16 * 1024)
#define PROGRESS_EVERY 100000L

/* ---- randomness ---- */

uint64_t
gw_seed_rng_next(struct gw_seed_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void
gw_seed_rng_init(
    struct gw_seed_rng *r, uint64_t base, long index, unsigned stream)
{
	r->s = base ^ ((uint64_t)index * 0xd1342543de82ef95ULL) ^
	       ((uint64_t)stream << 40);
	(void)gw_seed_rng_next(r);
}

long
gw_seed_below(struct gw_seed_rng *r, long n)
{
	return (long)((gw_seed_rng_next(r) >> 11) % (uint64_t)n);
}

bool
gw_seed_permille(struct gw_seed_rng *r, int permille)
{
	return gw_seed_below(r, 1000) < permille;
}

long
gw_seed_range(struct gw_seed_rng *r, long lo, long hi)
{
	return hi <= lo ? lo : lo + gw_seed_below(r, hi - lo + 1);
}

long
gw_seed_weighted(
    struct gw_seed_rng *r, long n, int (*weight)(long i, int group), int group)
{
	long total = 0, x;

	for (long i = 0; i < n; i++)
		total += weight(i, group);
	if (total <= 0)
		return 0;
	x = gw_seed_below(r, total);
	for (long i = 0; i < n; i++) {
		x -= weight(i, group);
		if (x < 0)
			return i;
	}
	return 0;
}

int
gw_seed_given_names(struct gw_seed_rng *r, const char *const *pool, long npool,
    const char *picked[3], char *out, size_t outsz)
{
	int ngiven = 0, want;
	size_t len = 0;

	want = gw_seed_permille(r, 200) ? 1 : gw_seed_permille(r, 750) ? 2 : 3;
	for (int tries = 0; ngiven < want && tries < 10; tries++) {
		const char *g = pool[gw_seed_below(r, npool)];
		bool dup = false;

		for (int j = 0; j < ngiven; j++)
			dup = dup || strcmp(picked[j], g) == 0;
		if (!dup)
			picked[ngiven++] = g;
	}
	out[0] = '\0';
	for (int j = 0; j < ngiven; j++) {
		int n = snprintf(
		    out + len, outsz - len, "%s%s", j ? " " : "", picked[j]);

		if (n > 0 && (size_t)n < outsz - len)
			len += (size_t)n;
	}
	return ngiven;
}

long
gw_seed_years(long n)
{
	return n * 36525 / 100;
}

/* ---- COPY streaming ---- */

static void
copy_flush(struct gw_seed_copy *c)
{
	/* After a failure the buffer is only emptied: the stream is dead. */
	if (!c->failed && c->len > 0 &&
	    PQputCopyData(c->conn, c->buf, (int)c->len) != 1) {
		gw_error("%s: COPY: %s", c->who, PQerrorMessage(c->conn));
		c->failed = true;
	}
	c->len = 0;
}

void
gw_seed_put(struct gw_seed_copy *c, const char *s)
{
	size_t need = (s ? strlen(s) * 2 : 2) + 2;

	if (c->len + need > COPY_BUF)
		copy_flush(c);
	if (need > COPY_BUF) {
		c->failed = true;
		return;
	}
	if (!c->first)
		c->buf[c->len++] = '\t';
	c->first = false;
	if (s == NULL) {
		c->buf[c->len++] = '\\';
		c->buf[c->len++] = 'N';
		return;
	}
	for (; *s != '\0'; s++) {
		char e = 0;

		switch (*s) {
		case '\\':
			e = '\\';
			break;
		case '\t':
			e = 't';
			break;
		case '\n':
			e = 'n';
			break;
		case '\r':
			e = 'r';
			break;
		default:
			break;
		}
		if (e != 0) {
			c->buf[c->len++] = '\\';
			c->buf[c->len++] = e;
		} else {
			c->buf[c->len++] = *s;
		}
	}
}

void
gw_seed_putf(struct gw_seed_copy *c, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	gw_seed_put(c, tmp);
}

static void
fmt_date(long days, char out[11])
{
	long y;
	int m, d;

	gw_civil_from_days(days, &y, &m, &d);
	/* Digits by hand: this runs for every date of every row. */
	out[0] = (char)('0' + y / 1000 % 10);
	out[1] = (char)('0' + y / 100 % 10);
	out[2] = (char)('0' + y / 10 % 10);
	out[3] = (char)('0' + y % 10);
	out[4] = '-';
	out[5] = (char)('0' + m / 10);
	out[6] = (char)('0' + m % 10);
	out[7] = '-';
	out[8] = (char)('0' + d / 10);
	out[9] = (char)('0' + d % 10);
	out[10] = '\0';
}

void
gw_seed_put_date(struct gw_seed_copy *c, long days)
{
	char buf[11];

	if (days == GW_SEED_NO_DAY) {
		gw_seed_put(c, NULL);
		return;
	}
	fmt_date(days, buf);
	gw_seed_put(c, buf);
}

void
gw_seed_put_timestamp(struct gw_seed_copy *c, long days, long secs)
{
	char date[11], buf[32];

	fmt_date(days, date);
	snprintf(buf, sizeof(buf), "%s %02ld:%02ld:%02ld+00", date,
	    secs / 3600 % 24, secs / 60 % 60, secs % 60);
	gw_seed_put(c, buf);
}

void
gw_seed_put_scaled(struct gw_seed_copy *c, long v, int decimals)
{
	static const long pow10[] = {1, 10, 100, 1000};
	long div, mag = v < 0 ? -v : v;

	if (decimals < 0 || decimals > 3)
		decimals = 0;
	div = pow10[decimals];
	if (decimals == 0)
		gw_seed_putf(c, "%ld", v);
	else
		gw_seed_putf(c, "%s%ld.%0*ld", v < 0 ? "-" : "", mag / div,
		    decimals, mag % div);
}

void
gw_seed_put_limit(struct gw_seed_copy *c, long v, int decimals)
{
	if (v < 0)
		gw_seed_put(c, NULL);
	else
		gw_seed_put_scaled(c, v, decimals);
}

void
gw_seed_row_end(struct gw_seed_copy *c)
{
	if (c->len + 1 > COPY_BUF)
		copy_flush(c);
	c->buf[c->len++] = '\n';
	c->first = true;
	c->rows++;
	if (c->len >= COPY_FLUSH)
		copy_flush(c);
}

/* ---- the driver ---- */

static int
exec(PGconn *conn, const char *who, const char *sql)
{
	PGresult *res = PQexec(conn, sql);
	ExecStatusType st = PQresultStatus(res);
	int rc = GW_OK;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		gw_error("%s: %s: %s", who, sql, PQerrorMessage(conn));
		rc = GW_ERR;
	}
	PQclear(res);
	return rc;
}

static double
seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	       (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Stream one table's rows for npatients people. */
static int
copy_table(struct gw_seed_copy *c, const struct gw_seed_plan *plan,
    const struct gw_seed_table *t, long npatients, void *person)
{
	PGresult *res;
	int rc = GW_OK;

	res = PQexec(c->conn, t->copy_sql);
	if (PQresultStatus(res) != PGRES_COPY_IN) {
		gw_error(
		    "%s: %s: %s", plan->who, t->name, PQerrorMessage(c->conn));
		PQclear(res);
		return GW_ERR;
	}
	PQclear(res);
	c->len = 0;
	c->rows = 0;
	c->first = true;
	c->failed = false;
	for (long i = 0; i < npatients && !c->failed; i++) {
		plan->person(i, person, plan->arg);
		t->rows(c, person, plan->arg);
		if ((i + 1) % PROGRESS_EVERY == 0)
			gw_info("%s: %s: %ld/%ld people", plan->who, t->name,
			    i + 1, npatients);
	}
	copy_flush(c);
	if (PQputCopyEnd(c->conn, c->failed ? "fhirgw seed aborted" : NULL) !=
	    1) {
		gw_error(
		    "%s: %s: %s", plan->who, t->name, PQerrorMessage(c->conn));
		rc = GW_ERR;
	}
	while ((res = PQgetResult(c->conn)) != NULL) {
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			gw_error("%s: %s: %s", plan->who, t->name,
			    PQresultErrorMessage(res));
			rc = GW_ERR;
		}
		PQclear(res);
	}
	if (c->failed)
		rc = GW_ERR;
	if (rc == GW_OK)
		gw_info("%s: %s: %ld rows", plan->who, t->name, c->rows);
	return rc;
}

int
gw_seed_run(PGconn *conn, const struct gw_seed_plan *plan, long npatients)
{
	struct gw_seed_copy c = {.conn = conn, .who = plan->who};
	void *person = NULL;
	struct timespec t0;
	bool own_tx;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	gw_info("%s: %ld patients", plan->who, npatients);
	/* All or nothing; COPY FREEZE needs the TRUNCATE in the same
	 * transaction.  Inside a caller's transaction we join it. */
	own_tx = PQtransactionStatus(conn) == PQTRANS_IDLE;
	if (own_tx && exec(conn, plan->who, "BEGIN") != GW_OK)
		return GW_ERR;
	if (exec(conn, plan->who, "SET LOCAL client_encoding TO 'UTF8'") !=
	        GW_OK ||
	    exec(conn, plan->who, plan->truncate_sql) != GW_OK)
		goto err;
	c.buf = gw_malloc(COPY_BUF);
	person = gw_calloc(1, plan->person_size);
	for (size_t i = 0; i < plan->ntables; i++)
		if (copy_table(&c, plan, &plan->tables[i], npatients, person) !=
		    GW_OK)
			goto err;
	if (plan->analyze_sql != NULL &&
	    exec(conn, plan->who, plan->analyze_sql) != GW_OK)
		goto err;
	if (own_tx && exec(conn, plan->who, "COMMIT") != GW_OK)
		goto err;
	gw_free_zero(c.buf, COPY_BUF);
	gw_free_zero(person, plan->person_size);
	gw_info("%s: done in %.1f s", plan->who, seconds_since(&t0));
	return GW_OK;
err:
	if (own_tx && PQtransactionStatus(conn) != PQTRANS_IDLE)
		PQclear(PQexec(conn, "ROLLBACK"));
	if (c.buf != NULL)
		gw_free_zero(c.buf, COPY_BUF);
	if (person != NULL)
		gw_free_zero(person, plan->person_size);
	return GW_ERR;
}
