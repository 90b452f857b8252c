/* sp_api_data: rows into datasources through the daemon (docs/serve.md):
 * POST /v0/events?name={ds} (NDJSON appended, grouped with concurrent
 * calls by sp_ingest_group), POST /v0/datasources?name=&mode=&format= (a
 * CSV, NDJSON or Parquet file appended or replacing the datasource's rows;
 * the file as a multipart form or the body) and POST
 * /v0/datasources/{ds}/truncate, /delete. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sp_api_int.h"
#include "sp_serve_int.h"
#include "sp_error.h"
#include "sp_ingest.h"
#include "sp_ingest_group.h"
#include "sp_model.h"
#include "sp_multipart.h"
#include "sp_uuid.h"
#include "sp_banned.h"

/* the status of a failed append (Events and Datasource API), which stored
 * nothing (sp_ingest_group): rows ClickHouse refused are the caller's
 * (4xx), an engine that failed or cannot be reached is ours (500, 503
 * when a retry may succeed) */
static int ingest_status(int rc, const sp_error *err)
{
    int st = sp__api_code_status(rc);
    if (err->retriable)
        return 503;
    if (st == 500 && rc != SP_EIO && rc != SP_EENGINE && rc != SP_ENOMEM)
        return 400;
    return st;
}

/* the datasource a call names (ds: ?name= or the path's), which the token
 * needs `scope` on; NULL after answering 400 (no name), 403 (no access to
 * `what`) or 404 */
static const sp_datasource *target(sp__api_call *c, const char *ds, const char *scope,
                                   const char *what)
{
    if (!ds || !*ds) {
        sp__api_fail(c, 400, "name: the datasource is required (?name=DATASOURCE)");
        return NULL;
    }
    if (!sp__api_allowed(c, scope, ds)) {
        sp__api_forbid(c, what);
        return NULL;
    }
    const sp_datasource *d = sp_project_find_datasource(c->s->p, ds);
    if (!d)
        sp__api_fail(c, 404, "datasource '%s' not found", ds);
    return d;
}

/* the answer of a load into datasource ds (Tinybird's import answer) */
static void answer_import(sp__api_call *c, const char *ds, const sp_append_result *res)
{
    char id[40];
    sp_uuid4(id);
    sp_api_json(c->resp, 200,
                json_pack("{s:s,s:s,s:{s:s,s:s},s:I,s:I,s:I,s:I,s:b}", "id", id, "import_id",
                          id, "datasource", "id", ds, "name", ds, "successful_rows",
                          (json_int_t)res->rows_loaded, "quarantined_rows",
                          (json_int_t)res->rows_quarantined, "quarantine_rows",
                          (json_int_t)res->rows_quarantined, "invalid_lines", (json_int_t)0,
                          "error", 0));
}

/* POST /v0/events?name={ds}: NDJSON rows appended */
void sp__api_events(sp__api_call *c, const char *seg, const char *tail)
{
    (void)seg;
    (void)tail;
    const char *ds = sp_http_query(c->req, "name");
    const sp_datasource *d = target(c, ds, "APPEND", "this datasource");
    if (!d)
        return;
    size_t len;
    const char *body = sp_http_body(c->req, &len);
    sp_error err = SP_ERROR_INIT;
    sp_append_result res = { 0, 0, 0 };
    /* validated here, stored together with concurrent calls' rows (the
     * definitions stay steady: the read lock is held) */
    int rc = sp_ingest_group_append(c->s->group, d, SP_INGEST_NDJSON, body, len,
                                    (int64_t)time(NULL), &res, &err);
    if (rc) {
        sp__api_fail(c, ingest_status(rc, &err), "%s", err.msg);
        return;
    }
    sp_api_json(c->resp, 200,
                json_pack("{s:I,s:I}", "successful_rows", (json_int_t)res.rows_loaded,
                          "quarantined_rows", (json_int_t)res.rows_quarantined));
}

typedef struct upload {
    const char *data;
    size_t len;
    const char *filename;
    char field[64];
    int files;
} upload;

static int take_file(void *ud, const sp_part *p, sp_error *err)
{
    (void)err;
    upload *u = ud;
    /* the SDK sends the file as field `csv` whatever its format; curl -F
     * users name it csv or ndjson: the first part with a file name, or
     * named csv/ndjson */
    if (!*p->filename && strcmp(p->name, "csv") != 0 && strcmp(p->name, "ndjson") != 0)
        return 0;
    if (u->files++ == 0) {
        u->data = p->data;
        u->len = p->len;
        u->filename = p->filename;
        snprintf(u->field, sizeof u->field, "%s", p->name);
    }
    return 0;
}

static int ends_with_ci(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcasecmp(s + a - b, suf);
}

/* POST /v0/datasources?name=&mode=append|replace&format=csv|ndjson: the
 * body is a multipart form with the file (the SDK, curl -F), or the rows
 * themselves */
void sp__api_datasources(sp__api_call *c, const char *seg, const char *tail)
{
    (void)seg;
    (void)tail;
    const char *ds = sp_http_query(c->req, "name");
    const char *mode = sp_http_query(c->req, "mode");
    const char *format = sp_http_query(c->req, "format");
    if (!mode)
        mode = "append";
    /* (a missing name is answered first, by target()) */
    if (ds && *ds && strcmp(mode, "append") != 0 && strcmp(mode, "replace") != 0) {
        sp__api_fail(c, 400, "mode: '%s' is not one of append, replace (sinkpipe creates "
                                     "datasources from datafiles, not with mode=create)",
                             mode);
        return;
    }
    int append = !strcmp(mode, "append");
    const sp_datasource *d =
        target(c, ds, append ? "APPEND" : "CREATE",
               append ? "this datasource" : "replacing this datasource (CREATE scope)");
    if (!d)
        return;
    size_t len;
    const char *body = sp_http_body(c->req, &len);
    const char *ct = sp_http_header(c->req, "Content-Type");
    upload u = { body, len, "", "", 0 };
    char boundary[80];
    sp_error err = SP_ERROR_INIT;
    if (ct && !strncasecmp(ct, "application/x-www-form-urlencoded", 33) && len >= 4 &&
        !strncmp(body, "url=", 4)) {
        sp__api_fail(c, 400,
                     "url: importing from a URL is not supported by sinkpipe (send the file "
                     "as multipart/form-data, or the rows as the body)");
        return;
    }
    if (sp_multipart_boundary(ct, boundary, sizeof boundary)) {
        u.data = NULL;
        u.len = 0;
        if (sp_multipart_each(boundary, body, len, take_file, &u, &err)) {
            sp__api_fail(c, 400, "%s", err.msg);
            return;
        }
        if (u.files != 1) {
            sp__api_fail(c, 400,
                         "the form must hold exactly one file (field csv or ndjson), it has %d",
                         u.files);
            return;
        }
    }
    /* the format: ?format=, else the file's extension, else the field */
    if (!format && u.filename && *u.filename)
        format = ends_with_ci(u.filename, ".parquet") ? "parquet"
                 : ends_with_ci(u.filename, ".csv")   ? "csv"
                 : ends_with_ci(u.filename, ".ndjson") || ends_with_ci(u.filename, ".jsonl") ||
                         ends_with_ci(u.filename, ".json")
                     ? "ndjson"
                     : NULL;
    if (!format && *u.field)
        format = !strcmp(u.field, "ndjson") ? "ndjson" : "csv";
    if (!format)
        format = "csv";
    sp_ingest_format fmt = SP_INGEST_CSV;
    int parquet = !strcmp(format, "parquet");
    if (!strcmp(format, "csv")) {
        fmt = SP_INGEST_CSV;
    } else if (!strcmp(format, "ndjson")) {
        fmt = SP_INGEST_NDJSON;
    } else if (!parquet) {
        sp__api_fail(c, 400, "format: '%s' is not one of csv, ndjson, parquet", format);
        return;
    }
    if (!strcmp(mode, "replace") || parquet) {
        /* a load of its own on the daemon's engine, swapped in at the end
         * (replace) or committed (a Parquet file, which ClickHouse reads) */
        sp_engine *e = NULL;
        sp_append_result res = { 0, 0, 0 };
        pthread_rwlock_unlock(&c->s->defs);
        int rc = sp_serve_engine_acquire(c->s, "", &e, &err);
        pthread_rwlock_rdlock(&c->s->defs);
        d = rc ? NULL : sp_project_find_datasource(c->s->p, ds);
        if (!rc && !d)
            rc = sp_error_set(&err, SP_ENOTFOUND, 0, "datasource '%s' not found", ds);
        if (!rc && !e->vt->replace)
            rc = sp_error_set(&err, SP_EUNSUPPORTED, 0, "the %s engine cannot replace",
                              e->vt->name);
        if (!rc && parquet && !e->vt->load_formatted)
            rc = sp_error_set(&err, SP_EUNSUPPORTED, 0, "the %s engine cannot load Parquet",
                              e->vt->name);
        sp_ingest *in = NULL;
        if (!rc && parquet) {
            /* ClickHouse reads Parquet itself: columns by name, converted */
            uint64_t n = 0;
            rc = e->vt->load_formatted(e, ds, "Parquet", u.data ? u.data : "", u.len, &n, &err);
            res.rows_in = res.rows_loaded = n;
        } else if (!rc) {
            rc = sp_ingest_new(e, d, fmt, (int64_t)time(NULL), &in, &err);
            if (!rc)
                rc = sp_ingest_feed(in, u.data ? u.data : "", u.len, &err);
            if (!rc)
                rc = sp_ingest_finish(in, &res, &err);
        }
        if (!rc)
            rc = !strcmp(mode, "replace") ? e->vt->replace(e, ds, &err)
                                          : e->vt->flush(e, 1, &err);
        else if (e && e->vt->flush)
            e->vt->flush(e, 0, NULL);
        sp_ingest_free(in);
        if (e)
            sp_serve_engine_release(c->s);
        if (rc) {
            sp__api_fail(c, rc == SP_EDATA || rc == SP_ESQL ? 400 : sp__api_code_status(rc),
                         "%s", err.msg);
            return;
        }
        answer_import(c, ds, &res);
        return;
    }
    sp_append_result res = { 0, 0, 0 };
    int rc = sp_ingest_group_append(c->s->group, d, fmt, u.data ? u.data : "", u.len,
                                    (int64_t)time(NULL), &res, &err);
    if (rc) {
        sp__api_fail(c, ingest_status(rc, &err), "%s", err.msg);
        return;
    }
    answer_import(c, ds, &res);
}

/* POST /v0/datasources/{ds}/truncate, /delete (delete_condition=, dry_run=) */
void sp__api_datasource_op(sp__api_call *c, const char *ds, const char *op)
{
    if (!target(c, ds, "CREATE", "truncating or deleting rows of this datasource (CREATE scope)"))
        return;
    size_t len;
    const char *body = sp_http_body(c->req, &len);
    char *cond = NULL, *dry = NULL;
    if (!strcmp(op, "delete")) {
        int nul = 0;
        cond = sp__api_form_field(body, "delete_condition", &nul);
        dry = sp__api_form_field(body, "dry_run", &nul);
        if (nul) {
            free(cond);
            free(dry);
            sp__api_fail(c, 400, "delete_condition, dry_run: a NUL byte (%%00) is not allowed");
            return;
        }
        if (!cond && sp_http_query(c->req, "delete_condition"))
            cond = strdup(sp_http_query(c->req, "delete_condition"));
        if (!dry && sp_http_query(c->req, "dry_run"))
            dry = strdup(sp_http_query(c->req, "dry_run"));
        if (!cond || !cond[strspn(cond, " \t\r\n")]) {
            free(cond);
            free(dry);
            sp__api_fail(c, 400, "delete_condition: required (a SQL condition on the datasource's "
                                 "columns)");
            return;
        }
    }
    sp_error err = SP_ERROR_INIT;
    sp_engine *e = NULL;
    pthread_rwlock_unlock(&c->s->defs);
    int rc = sp_serve_engine_acquire(c->s, "", &e, &err);
    uint64_t rows = 0;
    int dry_run = dry && (!strcmp(dry, "true") || !strcmp(dry, "1"));
    if (!rc) {
        if (!strcmp(op, "truncate"))
            rc = e->vt->truncate ? e->vt->truncate(e, ds, &err)
                                 : sp_error_set(&err, SP_EUNSUPPORTED, 0, "no truncate");
        else
            rc = e->vt->delete_rows ? e->vt->delete_rows(e, ds, cond, dry_run, &rows, &err)
                                    : sp_error_set(&err, SP_EUNSUPPORTED, 0, "no delete");
        sp_serve_engine_release(c->s);
    }
    pthread_rwlock_rdlock(&c->s->defs);
    free(cond);
    free(dry);
    if (rc) {
        sp__api_fail(c, rc == SP_ESQL || rc == SP_EINVAL ? 400 : sp__api_code_status(rc), "%s",
                     err.msg);
        return;
    }
    if (!strcmp(op, "truncate")) {
        sp_api_json(c->resp, 200, json_pack("{s:s}", "status", "done"));
        return;
    }
    char id[40];
    sp_uuid4(id);
    sp_api_json(c->resp, 200,
                json_pack("{s:s,s:s,s:s,s:s,s:I,s:b}", "id", id, "job_id", id, "delete_id", id,
                          "status", "done", "rows_to_be_deleted", (json_int_t)rows, "dry_run",
                          dry_run));
}
