/* sp_api_query: queries on the daemon's engine (docs/serve.md): GET
 * /v0/pipes/{pipe}.json|.csv|.ndjson (an endpoint pipe's result, `q` a
 * query on top of it) and GET|POST /v0/sql (the query API); the answer is
 * Tinybird's JSON document (meta, data, rows, statistics) or CSV/NDJSON as
 * a sink writes them, at most SQL_RESULT_MAX bytes. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sp_api_int.h"
#include "sp_serve_int.h"
#include "sp_batch.h"
#include "sp_buf.h"
#include "sp_error.h"
#include "sp_format.h"
#include "sp_model.h"
#include "sp_render.h"
#include "sp_sql.h"
#include "sp_type.h"
#include "sp_clock.h"
#include "sp_banned.h"

#define SQL_RESULT_MAX (64u << 20)

typedef struct sqlq {
    sp_buf data;
    json_t *meta;
    const sp_schema *schema;
    uint64_t rows;
    const sp_format *fmt; /* csv/ndjson as a sink writes them; NULL: JSON rows */
} sqlq;

static int q_schema(void *ud, const sp_schema *s, sp_error *err)
{
    sqlq *q = ud;
    q->schema = s;
    for (size_t i = 0; i < s->ncols; i++) {
        sp_buf t = SP_BUF_INIT(1u << 16);
        int rc = sp_type_format(s->types[i], &t, err);
        if (rc) {
            sp_buf_release(&t);
            return rc;
        }
        json_array_append_new(q->meta, json_pack("{s:s,s:s}", "name", s->names[i], "type",
                                                 t.data ? t.data : ""));
        sp_buf_release(&t);
    }
    return 0;
}

static int q_batch(void *ud, const sp_batch *b, sp_error *err)
{
    sqlq *q = ud;
    if (q->fmt) {
        if (!q->rows && q->fmt->header) {
            int rc = q->fmt->header(&q->data, q->schema, err);
            if (rc)
                return rc;
        }
        q->rows += b->nrows;
        return b->nrows ? q->fmt->rows(&q->data, q->schema, b, 0, b->nrows, err) : 0;
    }
    for (size_t i = 0; i < b->nrows; i++) {
        if (q->rows && sp_buf_addch(&q->data, ',', err))
            return SP_ETOOBIG;
        int rc = sp_format_ndjson.row(&q->data, q->schema, b, i, err);
        if (rc)
            return rc;
        if (q->data.len && q->data.data[q->data.len - 1] == '\n')
            q->data.data[--q->data.len] = '\0';
        q->rows++;
    }
    return 0;
}


/* the answer of a query: Tinybird's (ClickHouse's) JSON document — meta,
 * data, rows, rows_before_limit_at_least (we know no more than the rows
 * returned: "at least" holds), statistics — or the csv/ndjson bytes */
static void answer_rows(sp__api_call *c, sqlq *q, double t0, const sp_query_stats *st)
{
    double elapsed = sp_clock_mono_s() - t0;
    if (q->fmt) {
        /* an empty result still has its header */
        if (!q->rows && q->fmt->header && q->schema &&
            q->fmt->header(&q->data, q->schema, NULL)) {
            sp_buf_release(&q->data);
            json_decref(q->meta);
            sp__api_fail(c, 413, "result too large");
            return;
        }
        json_decref(q->meta);
        sp__api_answer_buf(c, q->fmt->content_type, &q->data);
        return;
    }
    char *meta = json_dumps(q->meta, JSON_COMPACT);
    json_decref(q->meta);
    sp_buf out = SP_BUF_INIT(SQL_RESULT_MAX + (1u << 20));
    int rc = sp_buf_addf(&out, NULL, "{\"meta\":%s,\"data\":[", meta ? meta : "[]");
    free(meta);
    if (!rc && q->data.len)
        rc = sp_buf_add(&out, q->data.data, q->data.len, NULL);
    if (!rc)
        rc = sp_buf_addf(&out, NULL,
                         "],\"rows\":%llu,\"rows_before_limit_at_least\":%llu,"
                         "\"statistics\":{\"elapsed\":%.6f,\"rows_read\":%llu,"
                         "\"bytes_read\":%llu}}",
                         (unsigned long long)q->rows, (unsigned long long)q->rows, elapsed,
                         (unsigned long long)st->read_rows, (unsigned long long)st->read_bytes);
    sp_buf_release(&q->data);
    if (rc) {
        sp_buf_release(&out);
        sp__api_fail(c, 413, "result too large");
        return;
    }
    sp__api_answer_buf(c, "application/json", &out);
}

/* run sql (already rendered and composed) on the daemon's engine and answer */
static void run_and_answer(sp__api_call *c, const char *sql, sqlq *q)
{
    sp_error err = SP_ERROR_INIT;
    sp_engine *e = NULL;
    double t0 = sp_clock_mono_s();
    pthread_rwlock_unlock(&c->s->defs);
    int rc = sp_serve_engine_acquire(c->s, "", &e, &err);
    sp_query_stats st = { 0, 0, 0 };
    if (!rc) {
        sp_query_opts qo = { 0, NULL, NULL, 0, 0 };
        rc = e->vt->query(e, sql, &qo, q_schema, q_batch, q, &st, &err);
        sp_serve_engine_release(c->s);
    }
    pthread_rwlock_rdlock(&c->s->defs);
    if (rc) {
        sp_buf_release(&q->data);
        json_decref(q->meta);
        sp__api_fail(c,
                     rc == SP_ETOOBIG                      ? 413
                     : rc == SP_EENGINE || rc == SP_ESQL ? 400
                                                         : sp__api_code_status(rc),
                     "%s", err.msg);
        return;
    }
    answer_rows(c, q, t0, &st);
}

/* GET /v0/pipes/{pipe}.json|.csv|.ndjson: an endpoint's result (TYPE
 * endpoint and plain pipes), its parameters from the query string, `q` a
 * query on top of it (the pipe is the table `_`) */
void sp__api_endpoint(sp__api_call *c, const char *pipe, const char *ext)
{
    const sp_pipe *pi = sp__api_pipe(c, pipe);
    if (!pi)
        return;
    if (pi->type != SP_PIPE_ENDPOINT && pi->type != SP_PIPE_DEFAULT) {
        sp__api_fail(c, 404, "pipe '%s' is not an endpoint (it is a %s pipe)", pipe,
                     pi->type == SP_PIPE_SINK ? "sink" : pi->type == SP_PIPE_COPY ? "copy"
                                                                                  : "materialized");
        return;
    }
    /* json, or a row format of the registry (answers stream row by row) */
    const sp_format *fmt = NULL;
    if (strcmp(ext, "json") != 0 && (!(fmt = sp_format_find(ext)) || !fmt->row)) {
        char names[128];
        sp__api_fail(c, 400, "format '%s' is not one of json, %s", ext,
                     sp_format_row_names(names, sizeof names));
        return;
    }
    sp__api_params pc;
    if (sp__api_params_get(c, &pc))
        return;
    /* `q` is not a pipe parameter */
    size_t k = 0;
    for (size_t i = 0; i < pc.n; i++)
        if (strcmp(pc.v[i].name, "q") != 0)
            pc.v[k++] = pc.v[i];
    pc.n = k;
    sp_buf sql = SP_BUF_INIT(64u << 20);
    sp_error err = SP_ERROR_INIT;
    sp_template_status tst;
    int rc = sp_pipe_render_sql_ex(c->s->p, pi, pc.v, pc.n, 0, &tst, &sql, &err);
    free(pc.v);
    if (rc && tst.http_status && tst.body) { /* custom_error(): its status and body */
        json_t *j = json_loads(tst.body, 0, NULL);
        free(tst.body);
        sp_buf_release(&sql);
        if (j)
            sp_api_json(c->resp, tst.http_status, j);
        else
            sp__api_fail(c, tst.http_status, "%s", err.msg);
        return;
    }
    const char *q = sp_http_query(c->req, "q");
    sp_buf top = SP_BUF_INIT(64u << 20);
    if (!rc && q && *q) {
        const char *names[2] = { "_", NULL };
        const char *sqls[2] = { sql.data ? sql.data : "", q };
        rc = sp_sql_compose(names, sqls, 2, &top, NULL, &err);
    }
    if (rc) {
        sp_buf_release(&sql);
        sp_buf_release(&top);
        int st = tst.http_status ? tst.http_status
                 : rc == SP_EPARAM || rc == SP_EINVAL || rc == SP_EDEF ? 400
                                                                       : sp__api_code_status(rc);
        sp__api_fail(c, st, "%s", err.msg);
        return;
    }
    sqlq res = { SP_BUF_INIT(SQL_RESULT_MAX), json_array(), NULL, 0, fmt };
    run_and_answer(c, q && *q ? top.data : sql.data ? sql.data : "", &res);
    sp_buf_release(&sql);
    sp_buf_release(&top);
}

/* GET|POST /v0/sql: a query (admin token), the project's pipes read by name */
void sp__api_sql(sp__api_call *c, const char *seg, const char *tail)
{
    (void)seg;
    (void)tail;
    if (!c->admin) {
        sp__api_forbid(c, "SQL queries");
        return;
    }
    const char *sql = NULL;
    char *form = NULL;
    int nul = 0;
    if (!strcmp(sp_http_method(c->req), "GET")) {
        sql = sp_http_query(c->req, "q");
    } else {
        size_t len;
        sql = sp_http_body(c->req, &len);
        nul = strlen(sql) != len;
        const char *ct = sp_http_header(c->req, "Content-Type");
        /* a form post (q=…, URL-encoded) or the query as the body */
        if (ct && !strncasecmp(ct, "application/x-www-form-urlencoded", 33) &&
            !strncmp(sql, "q=", 2))
            sql = form = sp__api_form_field(sql, "q", &nul);
        if ((!sql || !*sql) && sp_http_query(c->req, "q"))
            sql = sp_http_query(c->req, "q");
    }
    if (nul) { /* the query would be cut at it */
        free(form);
        sp__api_fail(c, 400, "q: a NUL byte is not allowed in the query");
        return;
    }
    if (!sql || !*sql) {
        free(form);
        sp__api_fail(c, 400, "q: the query is required");
        return;
    }
    /* the project's pipes read by name, as Tinybird's query API allows */
    sp_buf composed = SP_BUF_INIT(64u << 20);
    sp_error err = SP_ERROR_INIT;
    int rc = sp_query_render_sql(c->s->p, sql, NULL, 0, &composed, &err);
    free(form);
    sql = NULL;
    if (rc) {
        sp_buf_release(&composed);
        sp__api_fail(c, sp__api_code_status(rc) == 500 ? 400 : sp__api_code_status(rc), "%s",
                     err.msg);
        return;
    }
    sqlq q = { SP_BUF_INIT(SQL_RESULT_MAX), json_array(), NULL, 0, NULL };
    run_and_answer(c, composed.data ? composed.data : "", &q);
    sp_buf_release(&composed);
}
