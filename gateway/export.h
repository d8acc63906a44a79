/*
 * export.h: secondary-use bulk export (DESIGN.md §7, docs/export.md).
 *
 * export_api.c serves the FHIR Bulk Data kick-off, status, cancel and file
 * routes on the worker loops (asynchronous statements below); export.c is
 * the runner, blocking on its own connection, in a thread of `serve` or
 * in the foreground of `fhirgw export-worker`.  They meet only in
 * PostgreSQL (gw.export_job, gw.export_file) and in the export directory.
 */
#ifndef GW_EXPORT_H
#define GW_EXPORT_H

#include <stdatomic.h>
#include <stdbool.h>

#include "gateway/config.h"
#include "gateway/db.h"

/* A job's heartbeat older than this lets another runner take it over. */
#define GW_EXPORT_STALE_S 30

/* The statements export_api.c runs on the worker pools. */
extern const struct gw_db_statement gw_export_statements[];

/*
 * Run jobs until *stop becomes true: take one (queued, or running with a
 * stale heartbeat), export it file by file, expire old files.  Blocking;
 * connects with database.conninfo.  GW_OK when stopped, GW_ERR if it could
 * never connect.
 */
int gw_export_run(const struct gw_config *cfg, atomic_bool *stop);

/* Start gw_export_run in a thread of its own (serve); stop it with
 * gw_export_thread_stop.  GW_OK or GW_ERR. */
int gw_export_thread_start(const struct gw_config *cfg);
void gw_export_thread_stop(void);

/* `fhirgw export-worker`: gw_export_run in the foreground until SIGTERM or
 * SIGINT.  GW_OK or GW_ERR. */
int gw_export_worker_main(const struct gw_config *cfg);

/* True when s is a canonical lowercase UUID (a job id). */
bool gw_export_is_job_id(const char *s);

/* Remove <dir>/<job>/ and every file in it; GW_OK or GW_ERR (logged). */
int gw_export_remove_job_dir(const char *dir, const char *job);

#endif
