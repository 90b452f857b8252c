/* sp_run: one run of a sink pipe, start to end.
 *
 *   definition -> sinkcfg (overrides, connection, secrets)
 *   nodes -> templates rendered with the params -> composed SQL
 *   engine query --(schema, batches)--> sink open/write -> finish | abort
 *
 * Whatever happens, the run result says what was delivered. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "sp_buf.h"
#include "sp_engine.h"
#include "sp_error.h"
#include "sp_date.h"
#include "sp_format.h"
#include "sp_journal.h"
#include "sp_model.h"
#include "sp_recover.h"
#include "sp_sink.h"
#include "sp_sql.h"
#include "sp_render.h"
#include "sp_template.h"
#include "sp_uuid.h"
#include "sp_time.h"
#include "sp_clock.h"
#include "sp_opts.h"
#include "sp_banned.h"

/* ------------------------------------------------------------- utilities */

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int sp_parse_time(const char *s, int64_t *out, sp_error *err)
{
    int y, mo, d, h = 0, mi = 0, sec = 0;
    size_t n = s ? strlen(s) : 0;
    const char *p = s;
    if (n < 10 || digits(p, 4, &y) || p[4] != '-' || digits(p + 5, 2, &mo) || p[7] != '-' ||
        digits(p + 8, 2, &d))
        goto bad;
    p += 10;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (digits(p, 2, &h) || p[2] != ':' || digits(p + 3, 2, &mi))
            goto bad;
        p += 5;
        if (*p == ':') {
            if (digits(p + 1, 2, &sec))
                goto bad;
            p += 3;
            if (*p == '.') { /* fractions are dropped: runs have second precision */
                p++;
                while (*p >= '0' && *p <= '9')
                    p++;
            }
        }
        int off = 0;
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int oh, om;
            int sign = *p == '-' ? -1 : 1;
            if (digits(p + 1, 2, &oh))
                goto bad;
            p += 3;
            if (*p == ':')
                p++;
            if (digits(p, 2, &om))
                goto bad;
            p += 2;
            off = sign * (oh * 3600 + om * 60);
        }
        if (*p)
            goto bad;
        if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
            goto bad;
        *out = sp_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
        return 0;
    }
    if (*p || mo < 1 || mo > 12 || d < 1 || d > 31)
        goto bad;
    *out = sp_days_from_civil(y, mo, d) * 86400;
    return 0;
bad:
    return sp_error_set(err, SP_EINVAL, 0,
                        "'%s' is not a time (expected ISO 8601 such as "
                        "2026-11-25T02:00:00Z or 2026-11-25)",
                        s ? s : "");
}

/* ------------------------------------------------- the Kafka dry-run sink */

/* Until Kafka delivery lands, Kafka pipes can be previewed: the messages a
 * run would produce (the NDJSON line of each row, without the newline). */
typedef struct preview_sink {
    sp_sink base;
    const sp_sink_ctx *ctx;
    const sp_schema *schema;
    sp_buf text;
    size_t kept;
    uint64_t rows;
    uint64_t bytes;
} preview_sink;

static int pv_open(sp_sink **out, const sp_sink_ctx *ctx, const sp_schema *s, sp_error *err);
static int pv_write(sp_sink *k, const sp_batch *b, sp_error *err);
static int pv_finish(sp_sink *k, sp_run_result *res, sp_error *err);
static void pv_abort(sp_sink *k, sp_run_result *res);
static void pv_free(sp_sink *k);

static const sp_sink_vt preview_vt = { "kafka-preview", pv_open, pv_write, pv_finish,
                                       pv_abort, pv_free };

static int pv_open(sp_sink **out, const sp_sink_ctx *ctx, const sp_schema *s, sp_error *err)
{
    preview_sink *k = calloc(1, sizeof *k);
    if (!k)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    k->base.vt = &preview_vt;
    k->ctx = ctx;
    k->schema = s;
    sp_buf_init(&k->text, 64u << 20);
    *out = &k->base;
    return 0;
}

static int pv_write(sp_sink *base, const sp_batch *b, sp_error *err)
{
    preview_sink *k = (preview_sink *)base;
    if (sp_cancelled(k->ctx->cancel))
        return sp_error_set(err, SP_ECANCELLED, 0, "cancelled");
    sp_buf line = SP_BUF_INIT(64u << 20);
    for (size_t i = 0; i < b->nrows; i++) {
        sp_buf_reset(&line);
        int rc = sp_format_ndjson.row(&line, k->schema, b, i, err);
        if (rc) {
            sp_buf_release(&line);
            return rc;
        }
        k->bytes += line.len ? line.len - 1 : 0;
        if (k->kept < k->ctx->preview_rows) {
            rc = sp_buf_add(&k->text, line.data, line.len, err);
            if (rc) {
                sp_buf_release(&line);
                return rc;
            }
            k->kept++;
        }
    }
    sp_buf_release(&line);
    k->rows += b->nrows;
    return 0;
}

static int pv_finish(sp_sink *base, sp_run_result *res, sp_error *err)
{
    preview_sink *k = (preview_sink *)base;
    char uri[1024];
    snprintf(uri, sizeof uri, "kafka://%s/%s", k->ctx->cfg->connection_name,
             k->ctx->cfg->topic ? k->ctx->cfg->topic : "");
    if (sp_run_result_add_object(res, uri, k->bytes, k->rows))
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    free(res->preview);
    res->preview = sp_buf_detach(&k->text);
    return 0;
}

static void pv_abort(sp_sink *k, sp_run_result *res)
{
    (void)k;
    (void)res;
}

static void pv_free(sp_sink *base)
{
    preview_sink *k = (preview_sink *)base;
    sp_buf_release(&k->text);
    free(k);
}

/* ------------------------------------------------------------------ a run */

typedef struct run_ctx {
    const sp_sink_vt *vt;
    sp_sink_ctx sctx;
    sp_sink *sink;
    sp_error *err;
    uint64_t rows;
} run_ctx;

static int on_schema(void *ud, const sp_schema *s, sp_error *err)
{
    run_ctx *r = ud;
    return r->vt->open(&r->sink, &r->sctx, s, err);
}

static int on_batch(void *ud, const sp_batch *b, sp_error *err)
{
    run_ctx *r = ud;
    r->rows += b->nrows;
    return r->vt->write(r->sink, b, err);
}


/* a copy pipe: its result into TARGET_DATASOURCE, appended or replacing
 * (COPY_MODE), by the engine in one step */
static int run_copy(sp_project *p, const sp_pipe *pipe, const struct sp_run_opts *o,
                    sp_run_result *res, sp_error *err)
{
    const char *target = sp_kvlist_get(&pipe->keys, "TARGET_DATASOURCE");
    const char *mode = sp_kvlist_get(&pipe->keys, "COPY_MODE");
    if (!target || !sp_project_find_datasource(p, target))
        return sp_error_set_pipe(err, pipe->name, SP_EDEF, 0,
                                 "pipe '%s': TARGET_DATASOURCE: unknown datasource '%s'",
                                 pipe->name, target ? target : "");
    if (o->format || o->file_template || o->compression || o->strategy || o->max_file_size ||
        o->max_file_rows)
        return sp_error_set_pipe(err, pipe->name, SP_EINVAL, 0,
                            "pipe '%s' is a copy pipe: format, file_template, compression, "
                            "strategy and the file bounds are for sinks",
                            pipe->name);
    res->service = strdup("copy");
    sp_buf sql = SP_BUF_INIT(64u << 20);
    int rc = sp_pipe_render_sql(p, pipe, o->params, o->nparams, &sql, err);
    if (!rc)
        res->sql = strdup(sql.data ? sql.data : "");
    sp_engine *e = NULL;
    if (!rc)
        rc = sp_project_engine(p, &e, err);
    if (!rc && !e->vt->copy)
        rc = sp_error_set(err, SP_EUNSUPPORTED, 0, "the %s engine cannot run copy pipes",
                          e->vt->name);
    if (!rc && !o->dry_run) {
        sp_query_opts qo = { o->now_unix ? o->now_unix : (int64_t)time(NULL), o->cancel,
                             res->job_id, 0, 0 };
        uint64_t rows = 0;
        rc = e->vt->copy(e, target, sql.data, mode && !strcasecmp(mode, "replace"), &qo, &rows,
                         err);
        res->written_rows = rows;
        if (rc == SP_ESQL && pipe->nnodes > 1) {
            long k = sp_pipe_failing_node(e, p, pipe, o->params, o->nparams, qo.now_unix);
            if (k >= 0) {
                sp_error_prefix(err, "pipe '%s', node '%s'", pipe->name, pipe->nodes[k].name);
                sp_error_name_pipe(err, pipe->name);
            }
        }
    }
    if (!rc) {
        res->objects = calloc(1, sizeof *res->objects);
        if (res->objects) {
            size_t n = strlen(target) + 16;
            res->objects[0].uri = malloc(n);
            if (res->objects[0].uri)
                snprintf(res->objects[0].uri, n, "datasource:%s", target);
            res->objects[0].rows = res->written_rows;
            res->nobjects = 1;
        }
    }
    sp_buf_release(&sql);
    return rc;
}

int sp_run(sp_project *p, const char *pipe_name, const struct sp_run_opts *opts,
           sp_run_result *res, sp_error *err)
{
    struct sp_run_opts ol;
    const struct sp_run_opts *o = &ol;
    double t0 = sp_clock_mono_s();
    memset(res, 0, sizeof *res);
    int orc = sp_opts_load(&ol, sizeof ol, opts, "sp_run_opts", err);
    if (orc)
        return orc;
    if (o->job_id && *o->job_id)
        snprintf(res->job_id, sizeof res->job_id, "%s", o->job_id);
    else
        sp_uuid4(res->job_id);
    res->pipe = strdup(pipe_name ? pipe_name : "");

    const sp_pipe *pipe = sp_project_find_pipe(p, pipe_name);
    if (!pipe)
        return sp_error_set(err, SP_ENOTFOUND, 0, "unknown pipe '%s'", pipe_name);
    if (pipe->type != SP_PIPE_SINK && pipe->type != SP_PIPE_COPY)
        return sp_error_set(err, SP_EDEF, 0,
                            "pipe '%s' is not a sink or copy pipe (TYPE sink, TYPE copy)",
                            pipe_name);
    if (pipe->nnodes == 0)
        return sp_error_set(err, SP_EDEF, 0, "pipe '%s' has no node", pipe_name);
    if (pipe->type == SP_PIPE_COPY) {
        int crc = run_copy(p, pipe, o, res, err);
        if (crc && err && !err->pipe[0]) {
            sp_error_prefix(err, "pipe '%s'", pipe_name);
            sp_error_name_pipe(err, pipe_name);
        }
        res->elapsed_s = sp_clock_mono_s() - t0;
        return crc;
    }

    sp_sinkcfg cfg;
    memset(&cfg, 0, sizeof cfg);
    int rc = sp_sinkcfg_build(p, pipe, o, &cfg, err);
    if (rc)
        return rc;
    const sp_sink_vt *svt = NULL;
    rc = sp_sink_for(&cfg, &svt, err);
    if (rc) {
        sp_sinkcfg_release(&cfg);
        return rc;
    }
    res->service = strdup(svt->service(&cfg));

    sp_buf sql = SP_BUF_INIT(64u << 20);
    run_ctx r;
    memset(&r, 0, sizeof r);
    rc = sp_pipe_render_sql(p, pipe, o->params, o->nparams, &sql, err);
    if (!rc)
        res->sql = strdup(sql.data ? sql.data : "");
    if (!rc) /* a sink that has no dry run of its own: a preview of the rows */
        r.vt = o->dry_run && !svt->dry_run ? &preview_vt : svt;

    sp_engine *e = NULL;
    sp_journal *jn = NULL;
    if (!rc && !o->dry_run) {
        /* what dead runs left goes first (never fails the run: a leftover
         * that cannot be undone now is kept for the next time); then this
         * run's own journal, before anything is started */
        (void)sp_recover_dead_runs(p, NULL, NULL);
        sp_journal_run jr = { res->job_id, pipe_name, cfg.connection_name, cfg.bucket_uri };
        rc = sp_journal_open(sp_project_dir(p), &jr, &jn, err);
    }
    if (!rc)
        rc = sp_project_engine(p, &e, err);
    if (!rc) {
        r.sctx.journal = jn;
        r.sctx.cfg = &cfg;
        r.sctx.job_id = res->job_id;
        r.sctx.now_unix = o->now_unix ? o->now_unix : (int64_t)time(NULL);
        r.sctx.params = o->params;
        r.sctx.nparams = o->nparams;
        r.sctx.dry_run = o->dry_run;
        r.sctx.preview_rows = o->preview_rows ? o->preview_rows : 10;
        r.sctx.cancel = o->cancel;
        r.err = err;
        sp_query_opts qo = { r.sctx.now_unix, o->cancel, res->job_id, 0, 0 };
        sp_query_stats st = { 0, 0, 0 };
        rc = e->vt->query(e, sql.data, &qo, on_schema, on_batch, &r, &st, err);
        res->read_rows = st.read_rows;
        res->read_bytes = st.read_bytes;
        if (rc == SP_ESQL && !r.sink && pipe->nnodes > 1) {
            /* the query failed before its first row: say in which node */
            long k = sp_pipe_failing_node(e, p, pipe, o->params, o->nparams, r.sctx.now_unix);
            if (k >= 0) {
                sp_error_prefix(err, "pipe '%s', node '%s'", pipe_name, pipe->nodes[k].name);
                sp_error_name_pipe(err, pipe_name);
            }
        }
        if (!rc && !r.sink) /* the engine gave no schema: nothing to deliver */
            rc = sp_error_set(err, SP_EINTERNAL, 0, "query returned no result description");
        if (!rc)
            rc = r.vt->finish(r.sink, res, err);
        else if (r.sink)
            r.vt->abort(r.sink, res);
        if (r.sink)
            r.vt->free(r.sink);
    }
    sp_journal_close(jn);
    if (rc && err && !err->pipe[0]) { /* named once, by whoever knew first */
        sp_error_prefix(err, "pipe '%s'", pipe_name);
        sp_error_name_pipe(err, pipe_name);
    }
    sp_buf_release(&sql);
    sp_sinkcfg_release(&cfg);
    res->elapsed_s = sp_clock_mono_s() - t0;
    return rc;
}
