/*
 * export_api.c: the FHIR Bulk Data routes of secondary use
 * (docs/export.md): kick-off under a data permit, status and manifest,
 * cancel, and the NDJSON files.  Each is one asynchronous statement; the
 * permit check (the node is named by the permit, the permit is valid now,
 * the types are permitted) is a condition of the INSERT itself, and every
 * job row is read with the requesting node's key in the WHERE clause, so
 * another node's job is indistinguishable from no job (404).  The routes
 * are audited (router.c, `.audit`).  The work is the runner's (export.c).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "gateway/export.h"
#include "gateway/fhir.h"
#include "gateway/gw.h"
#include "gateway/server.h"

#define TYPES_MAX 512

const struct gw_db_statement gw_export_statements[] = {
    /* $1 permit, $2 node key, $3 node name, $4 types ("" = the
     * permit's), $5 since ("" = none), $6 request URL -> (permitted,
     * job id or ''). */
    {.name = "gw_export_kickoff",
        .nparams = 6,
        .sql = "with p as (select id, resource_types from gw.data_permit"
               " where id = $1 and ($2 = any(nodes) or $3 = any(nodes))"
               " and now() >= valid_from and now() < valid_to),"
               " ins as (insert into gw.export_job (permit, node, types, since,"
               " request) select p.id, $2, case when $4 = '' then"
               " p.resource_types else string_to_array($4, ',') end,"
               " nullif($5, '')::timestamptz, $6 from p"
               " where $4 = '' or string_to_array($4, ',') <@ p.resource_types"
               " returning id)"
               " select (select count(*) from p)::text,"
               " coalesce((select id::text from ins), '')"},
    /* $1 job, $2 node key -> state, progress, transaction time, request,
     * error, complete files as JSON [{type, name, count}]. */
    {.name = "gw_export_status",
        .nparams = 2,
        .sql = "select j.state, j.progress,"
               " to_char(j.transaction_time at time zone 'UTC',"
               " 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), j.request,"
               " coalesce(j.error, ''), coalesce((select "
               "json_agg(json_build_object("
               "'type', f.type, 'name', f.name, 'count', f.lines)"
               " order by f.type, split_part(f.name, '.', 2)::integer)"
               " from gw.export_file f where f.job = j.id and f.complete),"
               " '[]')::text from gw.export_job j"
               " where j.id = $1::uuid and j.node = $2"},
    /* $1 job, $2 node key -> the job's id when it was cancelled now or
     * before. */
    {.name = "gw_export_cancel",
        .nparams = 2,
        .sql = "with upd as (update gw.export_job set state = 'cancelled'"
               " where id = $1::uuid and node = $2"
               " and state in ('queued', 'running', 'done') returning id)"
               " select id::text from upd union all"
               " select id::text from gw.export_job where id = $1::uuid"
               " and node = $2 and state = 'cancelled'"},
    /* $1 job, $2 node key, $3 file name -> 1 row if servable. */
    {.name = "gw_export_file",
        .nparams = 3,
        .sql = "select f.name from gw.export_file f join gw.export_job j"
               " on j.id = f.job where f.job = $1::uuid and j.node = $2"
               " and f.name = $3 and f.complete and j.state = 'done'"},
    {.name = NULL},
};

bool
gw_export_is_job_id(const char *s)
{
	static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

	if (s == NULL || strlen(s) != sizeof(shape) - 1)
		return false;
	for (size_t i = 0; shape[i] != '\0'; i++) {
		if (shape[i] == '-' ? s[i] != '-'
		                    : !((s[i] >= '0' && s[i] <= '9') ||
		                          (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	}
	return true;
}

static const char *
base_url(const struct gw_req *req)
{
	return req->worker->server->cfg->public_base_url;
}

/* "Condition,Observation": every item a type served here.  An empty list
 * is refused. */
static bool
valid_types(const char *list)
{
	char buf[TYPES_MAX], *save = NULL;
	enum gw_rtype t;
	int n = 0;

	if (gw_strlcpy(buf, list, sizeof(buf)) != GW_OK)
		return false;
	for (char *tok = strtok_r(buf, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save), n++)
		if (gw_fhir_type_from_name(tok, &t) != GW_OK)
			return false;
	return n > 0 && list[strlen(list) - 1] != ',' && list[0] != ',' &&
	       strstr(list, ",,") == NULL;
}

/* YYYY-MM-DD[Thh:mm[:ss[.f]](Z|+hh:mm|-hh:mm)]: an instant PostgreSQL
 * reads the same way. */
static bool
valid_since(const char *s)
{
	size_t n = strlen(s);

	if (n < 10 || n > 35)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strchr("0123456789-:T.Z+", s[i]) == NULL)
			return false;
	return s[4] == '-' && s[7] == '-' && (n == 10 || s[10] == 'T');
}

static void
kicked_off(const PGresult *res, const char *error, void *arg)
{
	struct gw_req *req = arg;
	char headers[512];

	if (!gw_req_query_ok(req, res, error, "export kick-off failed",
	    "export store unavailable"))
		return;
	if (strcmp(PQgetvalue(res, 0, 0), "1") != 0) {
		gw_req_reply_error(req, 403, "forbidden",
		    "no valid data permit "
		    "%s names this node",
		    req->path_args[0]);
		return;
	}
	if (PQgetvalue(res, 0, 1)[0] == '\0') {
		gw_req_reply_error(req, 403, "forbidden",
		    "the data permit does not cover the requested _type");
		return;
	}
	snprintf(headers, sizeof(headers),
	    "Content-Location: %s/$export-status/%s\r\n", base_url(req),
	    PQgetvalue(res, 0, 1));
	gw_req_reply_json(req, 202,
	    gw_fhir_outcome(
	        "information", "informational", "export job accepted"),
	    headers);
}

void
gw_handle_export_kickoff(struct gw_req *req)
{
	const char *prefer = gw_http_header(&req->http, "Prefer");
	const char *types = gw_req_param(req, "_type");
	const char *since = gw_req_param(req, "_since");
	const char *format = gw_req_param(req, "_outputFormat");
	const char *base = base_url(req), *params[6];
	char request[2048];
	size_t n = strlen(base);

	if (prefer == NULL || strstr(prefer, "respond-async") == NULL) {
		gw_req_reply_error(
		    req, 400, "invalid", "$export needs Prefer: respond-async");
		return;
	}
	for (int i = 0; i < req->nparams; i++)
		if (strcmp(req->params[i].name, "_type") != 0 &&
		    strcmp(req->params[i].name, "_since") != 0 &&
		    strcmp(req->params[i].name, "_outputFormat") != 0) {
			gw_req_reply_error(req, 400, "not-supported",
			    "unknown $export parameter %s",
			    req->params[i].name);
			return;
		}
	if (format != NULL && strcmp(format, "application/fhir+ndjson") != 0 &&
	    strcmp(format, "application/ndjson") != 0 &&
	    strcmp(format, "ndjson") != 0) {
		gw_req_reply_error(req, 400, "not-supported",
		    "_outputFormat must be application/fhir+ndjson");
		return;
	}
	if (types != NULL && !valid_types(types)) {
		gw_req_reply_error(req, 400, "invalid",
		    "_type must list resource types served here");
		return;
	}
	if (since != NULL && !valid_since(since)) {
		gw_req_reply_error(req, 400, "invalid",
		    "_since must be an instant (YYYY-MM-DDThh:mm:ssZ)");
		return;
	}
	/* public_base_url ends in "/fhir", the target starts with it. */
	if (n >= 5 && strcmp(base + n - 5, "/fhir") == 0)
		n -= 5;
	snprintf(
	    request, sizeof(request), "%.*s%s", (int)n, base, req->http.target);
	params[0] = req->path_args[0];
	params[1] = req->conn->node.key_hash;
	params[2] = req->conn->node.name;
	params[3] = types != NULL ? types : "";
	params[4] = since != NULL ? since : "";
	params[5] = request;
	req->pending = true;
	gw_db_query(
	    req->worker->db, "gw_export_kickoff", 6, params, kicked_off, req);
}

static cJSON *
manifest(const struct gw_req *req, const PGresult *res)
{
	cJSON *m = cJSON_CreateObject(), *out, *files;
	char url[1024];

	cJSON_AddStringToObject(m, "transactionTime", PQgetvalue(res, 0, 2));
	cJSON_AddStringToObject(m, "request", PQgetvalue(res, 0, 3));
	/* Access control is the mutual TLS client certificate: a file URL
	 * is served only to the node that started the job. */
	cJSON_AddBoolToObject(m, "requiresAccessToken", true);
	out = cJSON_AddArrayToObject(m, "output");
	files = cJSON_Parse(PQgetvalue(res, 0, 5));
	for (cJSON *f = files ? files->child : NULL; f != NULL; f = f->next) {
		cJSON *o = cJSON_CreateObject();

		snprintf(url, sizeof(url), "%s/$export-file/%s/%s",
		    base_url(req), req->path_args[0],
		    cJSON_GetObjectItem(f, "name")->valuestring);
		cJSON_AddStringToObject(
		    o, "type", cJSON_GetObjectItem(f, "type")->valuestring);
		cJSON_AddStringToObject(o, "url", url);
		cJSON_AddNumberToObject(
		    o, "count", cJSON_GetObjectItem(f, "count")->valuedouble);
		cJSON_AddItemToArray(out, o);
	}
	cJSON_Delete(files);
	cJSON_AddArrayToObject(m, "error");
	return m;
}

static void
status_read(const PGresult *res, const char *error, void *arg)
{
	struct gw_req *req = arg;
	const char *state;
	char headers[256], *text;
	cJSON *m;

	if (!gw_req_query_ok(req, res, error, "export status failed",
	    "export store unavailable"))
		return;
	if (PQntuples(res) != 1 ||
	    strcmp((state = PQgetvalue(res, 0, 0)), "cancelled") == 0 ||
	    strcmp(state, "expired") == 0) {
		gw_req_reply_error(req, 404, "not-found", "no such export job");
		return;
	}
	if (strcmp(state, "queued") == 0 || strcmp(state, "running") == 0) {
		/* X-Progress is free text for the client: ours is ours. */
		snprintf(headers, sizeof(headers),
		    "X-Progress: %s %.100s\r\nRetry-After: 2\r\n", state,
		    PQgetvalue(res, 0, 1));
		gw_req_reply(req, 202, NULL, gw_body_text(NULL, 0), headers);
		return;
	}
	if (strcmp(state, "failed") == 0) {
		gw_req_reply_error(req, 500, "exception", "export failed: %s",
		    PQgetvalue(res, 0, 4));
		return;
	}
	m = manifest(req, res);
	text = cJSON_PrintUnformatted(m);
	cJSON_Delete(m);
	gw_req_reply(req, 200, "application/json",
	    gw_body_text(gw_strdup(text), strlen(text)), "Expires: 0\r\n");
	cJSON_free(text);
}

void
gw_handle_export_status(struct gw_req *req)
{
	const char *params[2] = {req->path_args[0], req->conn->node.key_hash};

	if (!gw_export_is_job_id(req->path_args[0])) {
		gw_req_reply_error(req, 404, "not-found", "no such export job");
		return;
	}
	req->pending = true;
	gw_db_query(
	    req->worker->db, "gw_export_status", 2, params, status_read, req);
}

static void
cancelled(const PGresult *res, const char *error, void *arg)
{
	struct gw_req *req = arg;

	if (!gw_req_query_ok(req, res, error, "export cancel failed",
	    "export store unavailable"))
		return;
	if (PQntuples(res) < 1) {
		gw_req_reply_error(req, 404, "not-found", "no such export job");
		return;
	}
	/* A runner still writing sees the state at its next file and
	 * removes what it wrote; what is there now goes at once. */
	gw_export_remove_job_dir(
	    req->worker->server->cfg->export_dir, req->path_args[0]);
	gw_req_reply_json(req, 202,
	    gw_fhir_outcome(
	        "information", "informational", "export job cancelled"),
	    NULL);
}

void
gw_handle_export_cancel(struct gw_req *req)
{
	const char *params[2] = {req->path_args[0], req->conn->node.key_hash};

	if (!gw_export_is_job_id(req->path_args[0])) {
		gw_req_reply_error(req, 404, "not-found", "no such export job");
		return;
	}
	req->pending = true;
	gw_db_query(
	    req->worker->db, "gw_export_cancel", 2, params, cancelled, req);
}

/* "<Type>.<n>.ndjson" and nothing else: the name becomes a path. */
static bool
valid_file_name(const char *s)
{
	const char *dot = strchr(s, '.');
	enum gw_rtype t;
	char type[64];
	long n;
	char num[16];
	size_t tn, nn;

	if (dot == NULL || (tn = (size_t)(dot - s)) >= sizeof(type))
		return false;
	memcpy(type, s, tn);
	type[tn] = '\0';
	if (gw_fhir_type_from_name(type, &t) != GW_OK)
		return false;
	nn = strlen(dot + 1);
	if (nn <= 7 || strcmp(dot + 1 + nn - 7, ".ndjson") != 0 ||
	    nn - 7 >= sizeof(num))
		return false;
	memcpy(num, dot + 1, nn - 7);
	num[nn - 7] = '\0';
	return gw_parse_long(num, 1, 100000000, &n) == GW_OK;
}

static void
file_found(const PGresult *res, const char *error, void *arg)
{
	struct gw_req *req = arg;
	struct evbuffer_file_segment *seg = NULL;
	char path[1024];
	struct stat st;
	int fd;

	if (!gw_req_query_ok(req, res, error, "export file lookup failed",
	    "export store unavailable"))
		return;
	if (PQntuples(res) != 1) {
		gw_req_reply_error(
		    req, 404, "not-found", "no such export file");
		return;
	}
	snprintf(path, sizeof(path), "%s/%s/%s",
	    req->worker->server->cfg->export_dir, req->path_args[0],
	    req->path_args[1]);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		gw_req_reply_error(
		    req, 404, "not-found", "export file expired or removed");
		return;
	}
	if (st.st_size == 0) { /* the runner writes none, and mmap takes none */
		close(fd);
		gw_req_reply(req, 200, "application/fhir+ndjson",
		    gw_body_text(NULL, 0), NULL);
		return;
	}
	/*
	 * Mapped, not read into memory (gateway/http.h): the file is sent
	 * from the page cache as the client takes it.  A mapping would fault
	 * if the file shrank under it; the runner never rewrites a file in
	 * place (it renames a new one over it, and expiry unlinks), so the
	 * mapping keeps the bytes it was made with.  The segment closes fd.
	 */
	seg = evbuffer_file_segment_new(fd, 0, st.st_size,
	    EVBUF_FS_CLOSE_ON_FREE | EVBUF_FS_DISABLE_SENDFILE |
	    EVBUF_FS_DISABLE_LOCKING);
	if (seg == NULL) {
		close(fd);
		gw_req_reply_error(
		    req, 500, "exception", "export file unreadable");
		return;
	}
	gw_req_reply(req, 200, "application/fhir+ndjson",
	    gw_body_file(seg, (size_t)st.st_size), NULL);
}

void
gw_handle_export_file(struct gw_req *req)
{
	const char *params[3] = {
	    req->path_args[0], req->conn->node.key_hash, req->path_args[1]};

	if (!gw_export_is_job_id(req->path_args[0]) ||
	    !valid_file_name(req->path_args[1])) {
		gw_req_reply_error(
		    req, 404, "not-found", "no such export file");
		return;
	}
	req->pending = true;
	gw_db_query(
	    req->worker->db, "gw_export_file", 3, params, file_found, req);
}
