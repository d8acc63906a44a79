/*
 * export.c: the export runner (docs/export.md).  One blocking connection
 * (and one to the replica for registry rows, export_reader.c);
 * one job at a time, taken with FOR UPDATE SKIP LOCKED (a queued job, or a
 * running one whose runner stopped beating for GW_EXPORT_STALE_S), so any
 * number of runners in any number of processes share the queue.
 *
 * A job walks each local registry the permit covers in registry key order,
 * export.batch_patients per statement (memory stays constant).  Each
 * patient's rows are mapped with the adapter, kept only if the patient is
 * in the permit's cohort and the consent decision (the same
 * gw_consent_evaluate every read uses, purpose HRESCH, the permit standing
 * in for the national default) permits, pseudonymised (pseudo.c) and
 * appended to one buffer per type.  A batch becomes one file per type,
 * written as .part, fsynced and renamed; then one transaction records the
 * files and the job's new position, and only if this runner still holds
 * the job.  A runner killed anywhere before that commit leaves a position
 * from which the same files are written again with the same names, so a
 * resumed job has no duplicates and no gaps.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <openssl/crypto.h>

#include "adapters/adapter.h"
#include "gateway/consent.h"
#include "gateway/export.h"
#include "gateway/export_reader.h"
#include "gateway/fhir.h"
#include "gateway/gw.h"
#include "gateway/pseudo.h"

#define MAX_ICD 32
#define MAX_RULES 64
#define ICD10_SYSTEM "http://hl7.org/fhir/sid/icd-10"

struct permit {
	char id[72];
	unsigned char secret[256];
	size_t secret_len;
	char *members;   /* "{a,b}" text[] literal, searched whole */
	char country[3]; /* "" = any local registry */
	char icd[MAX_ICD][16];
	int nicd;
	long year_from, year_to; /* 0 = unbounded */
	bool criteria;           /* country, icd or years given */
	enum gw_pseudo_precision precision;
	char node_country[3]; /* the requester's: the consent recipient */
};

struct job {
	char id[40];
	char owner[64];
	bool wanted[GW_RT_COUNT];
	char after[64]; /* "CC:key", "" = from the start */
	char since[64]; /* _since as PostgreSQL wrote it, "" = none */
	long next_file;
};

struct out_buf {
	char *p;
	size_t len, cap;
	long lines;
};

/* One patient's mapped rows while the batch is read. */
struct patient_rows {
	bool open;
	struct gw_patient p;
	cJSON *resources; /* [{r, t, c, f}]: f = changed after _since */
};

struct runner {
	const struct gw_config *cfg;
	PGconn *conn;
	struct gw_export_reader reader; /* registry rows: replica or conn */
	char owner[64];
	atomic_bool *stop;
	long exported, excluded;
};

static void
buf_add(struct out_buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = gw_realloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static PGresult *
exec(struct runner *run, const char *sql, int n, const char *const *params)
{
	return PQexecParams(run->conn, sql, n, NULL, params, NULL, NULL, 0);
}

int
gw_export_remove_job_dir(const char *dir, const char *job)
{
	char path[1024], file[1300];
	DIR *d;
	struct dirent *e;
	int rc = GW_OK;

	if (!gw_export_is_job_id(job))
		return GW_ERR;
	snprintf(path, sizeof(path), "%s/%s", dir, job);
	if ((d = opendir(path)) == NULL)
		return errno == ENOENT ? GW_OK : GW_ERR;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(file, sizeof(file), "%s/%s", path, e->d_name);
		if (unlink(file) != 0 && errno != ENOENT)
			rc = GW_ERR;
	}
	closedir(d);
	if (rmdir(path) != 0 && errno != ENOENT)
		rc = GW_ERR;
	if (rc != GW_OK)
		gw_warn("export: could not remove %s", path);
	return rc;
}

/* Write b as <dir>/<job>/<name>: .part, fsync, rename, fsync the dir. */
static int
write_file(
    const char *dir, const char *job, const char *name, const struct out_buf *b)
{
	char jobdir[1024], part[1300], final[1300];
	size_t off = 0;
	int fd, dfd;

	snprintf(jobdir, sizeof(jobdir), "%s/%s", dir, job);
	if ((mkdir(dir, 0700) != 0 && errno != EEXIST) ||
	    (mkdir(jobdir, 0700) != 0 && errno != EEXIST)) {
		gw_error("export: mkdir %s: %s", jobdir, strerror(errno));
		return GW_ERR;
	}
	snprintf(part, sizeof(part), "%s/%s.part", jobdir, name);
	snprintf(final, sizeof(final), "%s/%s", jobdir, name);
	fd = open(part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		goto err;
	while (off < b->len) {
		ssize_t n = write(fd, b->p + off, b->len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			goto err;
		}
		off += (size_t)n;
	}
	if (fsync(fd) != 0 || close(fd) != 0 || rename(part, final) != 0)
		goto err;
	if ((dfd = open(jobdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return GW_OK;
err:
	gw_error("export: writing %s: %s", final, strerror(errno));
	unlink(part);
	return GW_ERR;
}

static int
load_permit(struct runner *run, const char *permit_id, const char *node,
    struct permit *pm)
{
	const char *params[2] = {permit_id, node};
	PGresult *r = exec(run,
	    "select encode(p.secret, 'hex'), p.members::text,"
	    " coalesce(p.country, ''), array_to_string(p.icd10_prefixes, ','),"
	    " coalesce(p.birth_year_from, 0)::text,"
	    " coalesce(p.birth_year_to, 0)::text, p.date_precision,"
	    " coalesce((select n.country from gw.node n"
	    " where n.key_sha256 = $2), '')"
	    " from gw.data_permit p where p.id = $1",
	    2, params);
	const char *hex, *icd;
	char *save = NULL, list[MAX_ICD * 16];
	int rc = GW_ERR;

	memset(pm, 0, sizeof(*pm));
	if (!gw_db_result_ok(r) || PQntuples(r) != 1)
		goto out;
	gw_strlcpy(pm->id, permit_id, sizeof(pm->id));
	hex = PQgetvalue(r, 0, 0);
	pm->secret_len = strlen(hex) / 2;
	if (pm->secret_len > sizeof(pm->secret) || pm->secret_len < 32)
		goto out;
	for (size_t i = 0; i < pm->secret_len; i++) {
		unsigned v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			goto out;
		pm->secret[i] = (unsigned char)v;
	}
	pm->members = gw_strdup(PQgetvalue(r, 0, 1));
	gw_strlcpy(pm->country, PQgetvalue(r, 0, 2), sizeof(pm->country));
	icd = PQgetvalue(r, 0, 3);
	gw_strlcpy(list, icd, sizeof(list));
	for (char *t = strtok_r(list, ",", &save);
	     t != NULL && pm->nicd < MAX_ICD; t = strtok_r(NULL, ",", &save))
		gw_strlcpy(pm->icd[pm->nicd++], t, sizeof(pm->icd[0]));
	pm->year_from = atol(PQgetvalue(r, 0, 4));
	pm->year_to = atol(PQgetvalue(r, 0, 5));
	pm->criteria = pm->country[0] != '\0' || pm->nicd > 0 ||
	               pm->year_from > 0 || pm->year_to > 0;
	pm->precision = strcmp(PQgetvalue(r, 0, 6), "month") == 0
	                    ? GW_PSEUDO_MONTH
	                    : GW_PSEUDO_YEAR;
	gw_strlcpy(
	    pm->node_country, PQgetvalue(r, 0, 7), sizeof(pm->node_country));
	rc = pm->node_country[0] != '\0' ? GW_OK : GW_ERR;
out:
	PQclear(r);
	return rc;
}

static void
free_permit(struct permit *pm)
{
	free(pm->members);
	OPENSSL_cleanse(pm->secret, sizeof(pm->secret));
	pm->members = NULL;
}

/* Is "system|id" an item of the {..} literal (items never quoted)? */
static bool
is_member(const struct permit *pm, const struct gw_patient *p)
{
	char item[160];
	const char *s = pm->members;
	size_t n;

	n = (size_t)snprintf(
	    item, sizeof(item), "%s|%s", p->system, p->national_id);
	if (n >= sizeof(item) || s == NULL)
		return false;
	for (const char *hit = strstr(s, item); hit != NULL;
	     hit = strstr(hit + 1, item))
		if ((hit[-1] == '{' || hit[-1] == ',') &&
		    (hit[n] == ',' || hit[n] == '}'))
			return true;
	return false;
}

/* Criteria: every one given holds (the country was settled by the
 * registry walked). */
static bool
meets_criteria(const struct permit *pm, const cJSON *resources)
{
	bool icd = pm->nicd == 0;
	long year = 0;

	for (const cJSON *it = resources->child; it != NULL; it = it->next) {
		const cJSON *r = cJSON_GetObjectItem(it, "r");
		const char *type = cJSON_GetStringValue(
		    cJSON_GetObjectItem(r, "resourceType"));
		const cJSON *coding;

		if (type == NULL)
			continue;
		if (strcmp(type, "Patient") == 0) {
			const char *bd = cJSON_GetStringValue(
			    cJSON_GetObjectItem(r, "birthDate"));

			year = bd != NULL ? atol(bd) : 0;
		}
		if (icd || strcmp(type, "Condition") != 0)
			continue;
		coding = cJSON_GetObjectItem(
		    cJSON_GetObjectItem(r, "code"), "coding");
		for (const cJSON *c = coding ? coding->child : NULL;
		     c != NULL && !icd; c = c->next) {
			const char *sys = cJSON_GetStringValue(
			    cJSON_GetObjectItem(c, "system"));
			const char *code = cJSON_GetStringValue(
			    cJSON_GetObjectItem(c, "code"));

			if (sys == NULL || code == NULL ||
			    strcmp(sys, ICD10_SYSTEM) != 0)
				continue;
			for (int i = 0; i < pm->nicd && !icd; i++)
				icd = strncmp(code, pm->icd[i],
				          strlen(pm->icd[i])) == 0;
		}
	}
	if (!icd)
		return false;
	if (pm->year_from > 0 && year < pm->year_from)
		return false;
	if (pm->year_to > 0 && (year == 0 || year > pm->year_to))
		return false;
	return true;
}

/*
 * The consent decision for research: the patient's own rules as every
 * read sees them, the data permit in place of the national HRESCH default
 * (which is deny).  A rule of the patient's that denies HRESCH, for any or
 * for the requester's country, wins over the permit (DESIGN.md §5
 * specificity: a patient rule is always more specific than a default).
 */
static int
decide(struct runner *run, const struct permit *pm, const char *holder,
    const struct gw_patient *p, struct gw_consent_decision *d)
{
	const char *params[4] = {p->system, p->national_id, holder, "HRESCH"};
	struct gw_consent_rule rules[MAX_RULES], stand_in;
	struct gw_consent_request req = {.purpose = GW_PURPOSE_HRESCH,
	    .recipient_country = pm->node_country};
	PGresult *r;
	int n = 0;

	r = PQexecPrepared(
	    run->conn, "gw_consent_rules", 4, params, NULL, NULL, 0);
	if (!gw_db_result_ok(r)) {
		gw_error("export: consent rules: %s", PQresultErrorMessage(r));
		PQclear(r);
		return GW_ERR;
	}
	for (int i = 0; i < PQntuples(r); i++) {
		if (strcmp(PQgetvalue(r, i, 0), "rule") != 0)
			continue;
		if (n == MAX_RULES) {
			/* More rules than we can weigh: exclude, never guess.
			 */
			PQclear(r);
			memset(d, 0, sizeof(*d));
			return GW_OK;
		}
		gw_consent_rule_from_row(r, i, &rules[n++]);
	}
	PQclear(r);
	memset(&stand_in, 0, sizeof(stand_in));
	/* A label for logs: a long permit id may be cut. */
	snprintf(
	    stand_in.ref, sizeof(stand_in.ref), "data_permit/%.51s", pm->id);
	stand_in.is_default = true;
	stand_in.research_scope = true;
	stand_in.permit = true;
	gw_consent_evaluate(rules, n, &stand_in, &req, d);
	return GW_OK;
}

/* A patient's rows are complete: in the cohort and permitted, they go to
 * the type buffers, pseudonymised. */
static int
flush_patient(struct runner *run, const struct permit *pm,
    const struct gw_adapter *a, const struct job *job, struct patient_rows *pr,
    struct out_buf *bufs)
{
	struct gw_consent_decision d;
	char pseudonym[GW_PSEUDONYM_LEN + 1];
	struct gw_pseudo_ctx ctx = {.secret = pm->secret,
	    .secret_len = pm->secret_len,
	    .permit_id = pm->id,
	    .pseudonym = pseudonym,
	    .precision = pm->precision};
	int rc = GW_OK;

	if (!pr->open)
		return GW_OK;
	pr->open = false;
	if (!is_member(pm, &pr->p) &&
	    (!pm->criteria || !meets_criteria(pm, pr->resources)))
		goto out;
	if (decide(run, pm, a->country, &pr->p, &d) != GW_OK) {
		rc = GW_ERR;
		goto out;
	}
	if (!d.permit) {
		run->excluded++;
		goto out;
	}
	if (gw_pseudo_patient(pm->secret, pm->secret_len, pr->p.system,
	        pr->p.national_id, pseudonym, sizeof(pseudonym)) != GW_OK) {
		rc = GW_ERR;
		goto out;
	}
	for (cJSON *it = pr->resources->child; it != NULL; it = it->next) {
		cJSON *r = cJSON_GetObjectItem(it, "r");
		int t = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(it, "t"));
		const char *cat =
		    cJSON_GetStringValue(cJSON_GetObjectItem(it, "c"));
		char *line;
		size_t n;

		if (t < 0 || t >= GW_RT_COUNT || !job->wanted[t] ||
		    !cJSON_IsTrue(cJSON_GetObjectItem(it, "f")) ||
		    gw_consent_excludes(&d, cat))
			continue;
		if (gw_pseudo_resource(r, &ctx) != GW_OK)
			continue; /* never exported unpseudonymised */
		line = gw_fhir_print_scratch(r, &n);
		buf_add(&bufs[t], line, n);
		buf_add(&bufs[t], "\n", 1);
		bufs[t].lines++;
		run->exported++;
		explicit_bzero(line, n);
	}
out:
	cJSON_Delete(pr->resources);
	pr->resources = NULL;
	return rc;
}

/* Commit the batch's files and the job's new position, if still ours.
 * GW_OK, GW_AGAIN (the job is no longer ours: stop), GW_ERR. */
static int
commit_batch(struct runner *run, struct job *job, const char *after,
    const char *names, const char *types, const char *counts,
    const char *progress)
{
	char next[24];
	const char *params[8];
	PGresult *r;
	int rc;

	snprintf(next, sizeof(next), "%ld", job->next_file);
	params[0] = job->id;
	params[1] = run->owner;
	params[2] = after;
	params[3] = next;
	params[4] = progress;
	params[5] = names;
	params[6] = types;
	params[7] = counts;
	r = exec(run,
	    "with upd as (update gw.export_job set after_key = $3,"
	    " next_file = $4::integer, progress = $5, heartbeat = now()"
	    " where id = $1::uuid and owner = $2 and state = 'running'"
	    " returning id),"
	    " ins as (insert into gw.export_file (job, name, type, lines,"
	    " complete) select upd.id, f.name, f.type, f.lines, true"
	    " from upd, unnest($6::text[], $7::text[], $8::bigint[])"
	    " as f(name, type, lines)"
	    " on conflict (job, name) do nothing returning 1)"
	    " select (select count(*) from upd)::text,"
	    " (select count(*) from ins)::text",
	    8, params);
	if (!gw_db_result_ok(r)) {
		gw_error("export: commit: %s", PQresultErrorMessage(r));
		rc = GW_ERR;
	} else {
		rc = strcmp(PQgetvalue(r, 0, 0), "1") == 0 ? GW_OK : GW_AGAIN;
	}
	PQclear(r);
	return rc;
}

/* One batch of one registry: GW_OK (more may follow), GW_AGAIN (the
 * registry is done), or GW_ERR; *stop_job when the job is not ours. */
static int
run_batch(struct runner *run, const struct permit *pm,
    const struct gw_adapter *a, struct job *job, char *key, size_t keysz,
    bool *stop_job)
{
	char batch[24];
	const char *params[3] = {key, batch, job->since};
	struct out_buf bufs[GW_RT_COUNT];
	struct patient_rows pr = {0};
	struct gw_row doc = {0}; /* each row in turn, in one buffer */
	char names[4096] = "{", types[1024] = "{", counts[512] = "{";
	char after[64], progress[128], last[32] = "";
	PGresult *r;
	int rc = GW_ERR, nt, ci;

	memset(bufs, 0, sizeof(bufs));
	snprintf(batch, sizeof(batch), "%d", run->cfg->export_batch_patients);
	r = gw_export_reader_exec(&run->reader, run->conn, a->sql_export, 3,
	    params);
	if (!gw_db_result_ok(r)) {
		gw_error("export: %s registry: %s", a->country,
		    PQresultErrorMessage(r));
		PQclear(r);
		return GW_ERR;
	}
	nt = PQntuples(r);
	if (nt == 0) {
		PQclear(r);
		return GW_AGAIN;
	}
	for (int i = 0; i < nt; i++) {
		const struct gw_row_columns *cols =
		    gw_adapter_columns(a, PQgetvalue(r, i, 0));
		bool parsed = cols != NULL && gw_row_parse(&doc, cols,
		    PQgetvalue(r, i, 1), (size_t)PQgetlength(r, i, 1)) == GW_OK;
		struct gw_map_ctx mctx = {.patient = &pr.p};
		struct gw_mapped m;
		cJSON *res, *item;

		if (strcmp(PQgetvalue(r, i, 2), last) != 0) {
			if (flush_patient(run, pm, a, job, &pr, bufs) !=
			    GW_OK)
				goto out;
			gw_strlcpy(last, PQgetvalue(r, i, 2), sizeof(last));
			memset(&pr.p, 0, sizeof(pr.p));
			if (!parsed ||
			    a->patient_identity(&doc, &pr.p) != GW_OK) {
				/* No identity, no consent: the patient's rows
				 * are skipped until the next patient. */
				continue;
			}
			pr.open = true;
			pr.resources = cJSON_CreateArray();
		}
		/* A tree: pseudonymisation rewrites the resource. */
		res = parsed && pr.open ? gw_adapter_map_tree(a,
		    PQgetvalue(r, i, 0), &doc, &mctx, &m) : NULL;
		if (res == NULL)
			continue;
		item = cJSON_CreateObject();
		cJSON_AddItemToObject(item, "r", res);
		cJSON_AddNumberToObject(item, "t", m.type);
		/* Old rows still count for the cohort, but are not written. */
		cJSON_AddBoolToObject(
		    item, "f", strcmp(PQgetvalue(r, i, 3), "true") == 0);
		if (m.category != NULL)
			cJSON_AddStringToObject(item, "c", m.category);
		cJSON_AddItemToArray(pr.resources, item);
	}
	if (flush_patient(run, pm, a, job, &pr, bufs) != GW_OK)
		goto out;
	/* Files, in type order, named by the job's file counter. */
	for (int t = 0; t < GW_RT_COUNT; t++) {
		char name[96];
		size_t nl = strlen(names), tl = strlen(types),
		       cl = strlen(counts);

		if (bufs[t].lines == 0)
			continue;
		snprintf(name, sizeof(name), "%s.%ld.ndjson",
		    gw_fhir_type_name((enum gw_rtype)t), job->next_file++);
		if (write_file(run->cfg->export_dir, job->id, name, &bufs[t]) !=
		    GW_OK)
			goto out;
		snprintf(names + nl, sizeof(names) - nl, "%s%s",
		    nl > 1 ? "," : "", name);
		snprintf(types + tl, sizeof(types) - tl, "%s%s",
		    tl > 1 ? "," : "", gw_fhir_type_name((enum gw_rtype)t));
		snprintf(counts + cl, sizeof(counts) - cl, "%s%ld",
		    cl > 1 ? "," : "", bufs[t].lines);
	}
	strcat(names, "}");
	strcat(types, "}");
	strcat(counts, "}");
	snprintf(after, sizeof(after), "%s:%s", a->country, last);
	snprintf(progress, sizeof(progress), "%s registry, after key %s",
	    a->country, last);
	ci = commit_batch(run, job, after, names, types, counts, progress);
	if (ci == GW_AGAIN)
		*stop_job = true;
	if (ci == GW_ERR)
		goto out;
	gw_strlcpy(key, last, keysz);
	rc = GW_OK;
out:
	cJSON_Delete(pr.resources);
	for (int t = 0; t < GW_RT_COUNT; t++)
		if (bufs[t].p != NULL)
			gw_free_zero(bufs[t].p, bufs[t].cap);
	gw_row_free(&doc);
	PQclear(r);
	return rc;
}

static void
finish_job(struct runner *run, const struct job *job, const char *state,
    const char *error)
{
	const char *params[4] = {job->id, run->owner, state, error};
	PGresult *r = exec(run,
	    "update gw.export_job set state = $3, error = nullif($4, ''),"
	    " heartbeat = now(), progress = $3"
	    " where id = $1::uuid and owner = $2 and state = 'running'",
	    4, params);

	PQclear(r);
}

/* Export one job from its position to the end, or until stopped. */
static void
run_job(struct runner *run, struct job *job, const char *permit_id,
    const char *node)
{
	struct permit pm;
	bool stop_job = false, started;
	char cc[3] = "", key[32] = "";
	const char *colon = strchr(job->after, ':');

	if (load_permit(run, permit_id, node, &pm) != GW_OK) {
		finish_job(run, job, "failed", "data permit or node unknown");
		free_permit(&pm);
		return;
	}
	if (colon != NULL && colon - job->after == 2) {
		memcpy(cc, job->after, 2);
		gw_strlcpy(key, colon + 1, sizeof(key));
	}
	/* Registries in table order; those before the position are done. */
	started = cc[0] == '\0';
	for (size_t i = 0; gw_adapters[i] != NULL && !stop_job; i++) {
		const struct gw_adapter *a = gw_adapters[i];
		int rc;

		if (!started && strcmp(a->country, cc) != 0)
			continue;
		if (!started)
			started = true;
		else
			key[0] = '\0';
		if (!gw_config_is_local(run->cfg, a->country) ||
		    (pm.country[0] != '\0' &&
		        strcmp(pm.country, a->country) != 0))
			continue;
		while ((rc = run_batch(run, &pm, a, job, key, sizeof(key),
		            &stop_job)) == GW_OK &&
		       !stop_job) {
			if (atomic_load(run->stop)) {
				free_permit(&pm);
				return; /* resumed from the position */
			}
		}
		if (rc == GW_ERR) {
			finish_job(run, job, "failed", "export failed");
			free_permit(&pm);
			return;
		}
	}
	if (!stop_job)
		finish_job(run, job, "done", "");
	else
		gw_info("export: job %s is no longer ours", job->id);
	free_permit(&pm);
}

/* Remove the files of done jobs past their TTL and of cancelled jobs. */
static void
expire(struct runner *run)
{
	char ttl[24];
	const char *params[1] = {ttl};
	PGresult *r;

	snprintf(ttl, sizeof(ttl), "%d", run->cfg->export_file_ttl_s);
	r = exec(run,
	    "with gone as (update gw.export_job set state = 'expired'"
	    " where state = 'done' and heartbeat < now() -"
	    " make_interval(secs => $1::integer) returning id)"
	    " select id::text from gone union all"
	    " select id::text from gw.export_job where state = 'cancelled'"
	    " and created_at > now() - interval '1 day'",
	    1, params);
	if (gw_db_result_ok(r))
		for (int i = 0; i < PQntuples(r); i++)
			gw_export_remove_job_dir(
			    run->cfg->export_dir, PQgetvalue(r, i, 0));
	PQclear(r);
}

/* Take one job: GW_OK (ran it), GW_AGAIN (none), GW_ERR (database). */
static int
take_job(struct runner *run)
{
	const char *params[2] = {run->owner, "30"};
	struct job job;
	char permit[72], node[72];
	PGresult *r;
	char *save = NULL, types[1024];

	r = exec(run,
	    "update gw.export_job j set state = 'running', owner = $1,"
	    " heartbeat = now() where j.id = (select id from gw.export_job"
	    " where state = 'queued' or (state = 'running' and heartbeat <"
	    " now() - make_interval(secs => $2::integer))"
	    " order by created_at for update skip locked limit 1)"
	    " returning j.id::text, j.permit, j.node,"
	    " array_to_string(j.types, ','), j.after_key, j.next_file::text,"
	    " coalesce(j.since::text, '')",
	    2, params);
	if (!gw_db_result_ok(r)) {
		gw_error("export: taking a job: %s", PQresultErrorMessage(r));
		PQclear(r);
		return GW_ERR;
	}
	if (PQntuples(r) == 0) {
		PQclear(r);
		return GW_AGAIN;
	}
	memset(&job, 0, sizeof(job));
	gw_strlcpy(job.id, PQgetvalue(r, 0, 0), sizeof(job.id));
	gw_strlcpy(permit, PQgetvalue(r, 0, 1), sizeof(permit));
	gw_strlcpy(node, PQgetvalue(r, 0, 2), sizeof(node));
	gw_strlcpy(types, PQgetvalue(r, 0, 3), sizeof(types));
	gw_strlcpy(job.after, PQgetvalue(r, 0, 4), sizeof(job.after));
	job.next_file = atol(PQgetvalue(r, 0, 5));
	gw_strlcpy(job.since, PQgetvalue(r, 0, 6), sizeof(job.since));
	PQclear(r);
	for (char *t = strtok_r(types, ",", &save); t != NULL;
	     t = strtok_r(NULL, ",", &save)) {
		enum gw_rtype rt;

		if (gw_fhir_type_from_name(t, &rt) == GW_OK)
			job.wanted[rt] = true;
	}
	gw_info("export: job %s (permit %s) from position '%s'", job.id, permit,
	    job.after);
	gw_export_reader_begin(&run->reader, run->conn, run->stop);
	run_job(run, &job, permit, node);
	gw_info("export: job %s: %ld resources so far, %ld patients excluded"
	        " by consent",
	    job.id, run->exported, run->excluded);
	return GW_OK;
}

static void
nap(atomic_bool *stop, int ms)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = 100 * 1000 * 1000};

	for (int i = 0; i < ms / 100 && !atomic_load(stop); i++)
		nanosleep(&ts, NULL);
}

int
gw_export_run(const struct gw_config *cfg, atomic_bool *stop)
{
	struct runner run = {.cfg = cfg, .stop = stop,
	    .reader = {.conninfo = cfg->db_replica_conninfo}};
	bool ever = false;

	snprintf(run.owner, sizeof(run.owner), "pid-%ld-%lx", (long)getpid(),
	    (unsigned long)time(NULL));
	while (!atomic_load(stop)) {
		PGresult *r;
		int rc;

		if (run.conn == NULL) {
			run.conn = gw_db_connect_blocking(cfg->db_conninfo,
			    "fhirgw export");
			if (run.conn == NULL) {
				nap(stop, 2000);
				continue;
			}
			r = PQprepare(run.conn, "gw_consent_rules",
			    gw_consent_statements[0].sql, 4, NULL);
			if (!gw_db_result_ok(r)) {
				gw_error("export: %s", PQresultErrorMessage(r));
				PQclear(r);
				PQfinish(run.conn);
				run.conn = NULL;
				nap(stop, 2000);
				continue;
			}
			PQclear(r);
			ever = true;
		}
		expire(&run);
		rc = take_job(&run);
		if (rc == GW_ERR || PQstatus(run.conn) != CONNECTION_OK) {
			PQfinish(run.conn);
			run.conn = NULL;
			nap(stop, 1000);
		} else if (rc == GW_AGAIN) {
			nap(stop, 500);
		}
	}
	if (run.conn != NULL)
		PQfinish(run.conn);
	gw_export_reader_close(&run.reader);
	return ever ? GW_OK : GW_ERR;
}

static pthread_t runner_thread;
static atomic_bool runner_stop;
static bool runner_started;
static const struct gw_config *runner_cfg;

static void *
runner_main(void *arg)
{
	(void)arg;
	gw_export_run(runner_cfg, &runner_stop);
	return NULL;
}

int
gw_export_thread_start(const struct gw_config *cfg)
{
	runner_cfg = cfg;
	atomic_store(&runner_stop, false);
	if (pthread_create(&runner_thread, NULL, runner_main, NULL) != 0)
		return GW_ERR;
	runner_started = true;
	return GW_OK;
}

void
gw_export_thread_stop(void)
{
	if (!runner_started)
		return;
	atomic_store(&runner_stop, true);
	pthread_join(runner_thread, NULL);
	runner_started = false;
}

static atomic_bool worker_stop;

static void
on_signal(int sig)
{
	(void)sig;
	atomic_store(&worker_stop, true);
}

int
gw_export_worker_main(const struct gw_config *cfg)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	gw_info("export-worker: running jobs from %s", cfg->export_dir);
	return gw_export_run(cfg, &worker_stop);
}
