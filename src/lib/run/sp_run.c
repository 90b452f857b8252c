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
#include "sp_format.h"
#include "sp_journal.h"
#include "sp_model.h"
#include "sp_recover.h"
#include "sp_sink.h"
#include "sp_sql.h"
#include "sp_run.h"
#include "sp_template.h"
#include "sp_uuid.h"

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
    if (k->ctx->cancel && *k->ctx->cancel)
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

int sp_sink_for(const sp_sinkcfg *cfg, const sp_sink_vt **out, sp_error *err)
{
    (void)err; /* every connection type has a sink */
    if (cfg->conn_type == SP_CONN_KAFKA) {
        *out = &sp_sink_kafka;
        return 0;
    }
    *out = &sp_sink_objects;
    return 0;
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

/* pipes read as tables: a FROM/JOIN name that is no node of the pipe and
 * no datasource but another pipe's name is that pipe's result, rendered
 * with the same parameters and inlined like a node (as Tinybird does) */
#define PIPE_DEPTH_MAX 16

typedef struct render_chain {
    const sp_pipe *pipes[PIPE_DEPTH_MAX];
    int depth;
} render_chain;

typedef struct ext_refs {
    const sp_project *proj;
    const sp_pipe *pipe;
    size_t count; /* nodes of `pipe` in scope */
    const sp_param *params;
    size_t nparams;
    unsigned tflags;             /* sp_template flags (SP_TEMPLATE_CHECK) */
    sp_template_status *st;      /* the HTTP answer a template asks for, or NULL */
    render_chain *chain;
    const char **names; /* other pipes referenced, their composed SQL */
    char **sqls;
    size_t n, cap;
} ext_refs;

static int render_nodes(const sp_project *proj, const sp_pipe *pipe, const sp_param *params,
                        size_t nparams, unsigned tflags, sp_template_status *st, size_t count,
                        render_chain *chain, sp_buf *sql, sp_error *err);

static int ext_ref(void *ud, const char *name, size_t len, sp_error *err)
{
    ext_refs *x = ud;
    char nm[512];
    if (len >= sizeof nm)
        return 0;
    memcpy(nm, name, len);
    nm[len] = '\0';
    for (size_t i = 0; i < x->count; i++)
        if (x->pipe->nodes[i].name && !strcmp(x->pipe->nodes[i].name, nm))
            return 0;
    for (size_t i = 0; i < x->n; i++)
        if (!strcmp(x->names[i], nm))
            return 0;
    if (sp_project_find_datasource(x->proj, nm))
        return 0;
    const sp_pipe *other = sp_project_find_pipe(x->proj, nm);
    if (!other)
        return 0; /* a table of ClickHouse's own: it says if it is unknown */
    for (int d = 0; d < x->chain->depth; d++)
        if (x->chain->pipes[d] == other) {
            char path[1024] = "";
            size_t o = 0;
            for (int k = d; k < x->chain->depth && o < sizeof path; k++)
                o += (size_t)snprintf(path + o, sizeof path - o, "%s -> ", x->chain->pipes[k]->name);
            if (o < sizeof path)
                snprintf(path + o, sizeof path - o, "%s", nm);
            return sp_error_set(err, SP_EDEF, 0, "pipe '%s' reads itself through other pipes (%s)",
                                nm, path);
        }
    if (x->chain->depth >= PIPE_DEPTH_MAX)
        return sp_error_set(err, SP_EDEF, 0,
                            "pipe '%s': pipes read pipes more than %d deep", x->pipe->name,
                            PIPE_DEPTH_MAX);
    if (other->nnodes == 0)
        return sp_error_set(err, SP_EDEF, 0, "pipe '%s' reads pipe '%s', which has no node",
                            x->pipe->name, nm);
    if (x->n == x->cap) {
        size_t cap = x->cap ? 2 * x->cap : 4;
        const char **nn = realloc(x->names, cap * sizeof *nn);
        if (nn)
            x->names = nn;
        char **ns = nn ? realloc(x->sqls, cap * sizeof *ns) : NULL;
        if (!nn || !ns)
            return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
        x->sqls = ns;
        x->cap = cap;
    }
    sp_buf b = SP_BUF_INIT(64u << 20);
    int rc = render_nodes(x->proj, other, x->params, x->nparams, x->tflags, x->st, other->nnodes,
                          x->chain, &b, err);
    if (rc) {
        sp_buf_release(&b);
        return rc;
    }
    char *text = sp_buf_detach(&b);
    sp_buf_release(&b);
    if (!text)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    x->names[x->n] = other->name;
    x->sqls[x->n++] = text;
    return 0;
}

/* render the first `count` nodes and compose them into one statement (the
 * last of them is the result), other pipes it reads inlined */
static int render_nodes(const sp_project *proj, const sp_pipe *pipe, const sp_param *params,
                        size_t nparams, unsigned tflags, sp_template_status *st, size_t count,
                        render_chain *chain, sp_buf *sql, sp_error *err)
{
    render_chain top = { { NULL }, 0 };
    if (!chain)
        chain = &top;
    if (chain->depth >= PIPE_DEPTH_MAX)
        return sp_error_set(err, SP_EDEF, 0, "pipe '%s': pipes read pipes more than %d deep",
                            pipe->name, PIPE_DEPTH_MAX);
    chain->pipes[chain->depth++] = pipe;
    ext_refs x = { proj, pipe, count, params, nparams, tflags, st, chain, NULL, NULL, 0, 0 };
    int rc = 0;
    char **rendered = calloc(pipe->nnodes ? pipe->nnodes : 1, sizeof *rendered);
    if (!rendered) {
        rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < count && !rc; i++) {
        const sp_node *n = &pipe->nodes[i];
        sp_buf b = SP_BUF_INIT(64u << 20);
        if (n->templated || sp_template_is_templated(n->sql)) {
            char where[1200];
            sp_model_where(where, sizeof where, pipe->path, pipe->name, n->sql_line,
                           "SQL");
            rc = sp_template_render_ex(n->sql, params, nparams, where, tflags, &b, st, err);
        } else {
            rc = sp_buf_adds(&b, n->sql, err);
        }
        rendered[i] = rc ? NULL : sp_buf_detach(&b);
        sp_buf_release(&b);
        if (!rc && !rendered[i])
            rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory");
        if (!rc && proj)
            rc = sp_sql_table_refs(rendered[i], ext_ref, &x, err);
    }
    if (!rc) {
        /* the pipes read first, then the nodes, which may name them */
        size_t total = x.n + count;
        const char **names = calloc(total ? total : 1, sizeof *names);
        const char **sqls = calloc(total ? total : 1, sizeof *sqls);
        if (!names || !sqls) {
            rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory");
        } else {
            for (size_t i = 0; i < x.n; i++) {
                names[i] = x.names[i];
                sqls[i] = x.sqls[i];
            }
            for (size_t i = 0; i < count; i++) {
                names[x.n + i] = pipe->nodes[i].name;
                sqls[x.n + i] = rendered[i];
            }
            size_t bad;
            rc = sp_sql_compose(names, sqls, total, sql, &bad, err);
            if (rc && bad < total && count) { /* a node, or a pipe one of them reads */
                const sp_node *n = &pipe->nodes[bad >= x.n ? bad - x.n : count - 1];
                char where[1200];
                sp_model_where(where, sizeof where, pipe->path, pipe->name, n->sql_line,
                               "SQL");
                sp_error_prefix(err, "%s", where);
            }
        }
        free(names);
        free(sqls);
    }
out:
    if (rendered)
        for (size_t i = 0; i < pipe->nnodes; i++)
            free(rendered[i]);
    free(rendered);
    for (size_t i = 0; i < x.n; i++)
        free(x.sqls[i]);
    free(x.sqls);
    free(x.names);
    chain->depth--;
    return rc;
}

int sp_pipe_render_sql(const sp_project *proj, const sp_pipe *pipe, const sp_param *params,
                       size_t nparams, sp_buf *sql, sp_error *err)
{
    return render_nodes(proj, pipe, params, nparams, 0, NULL, pipe->nnodes, NULL, sql, err);
}

int sp_pipe_render_sql_ex(const sp_project *proj, const sp_pipe *pipe, const sp_param *params,
                          size_t nparams, unsigned tflags, sp_template_status *st, sp_buf *sql,
                          sp_error *err)
{
    if (st)
        memset(st, 0, sizeof *st);
    return render_nodes(proj, pipe, params, nparams, tflags, st, pipe->nnodes, NULL, sql, err);
}

int sp_query_render_sql(const sp_project *proj, const char *sql, const sp_param *params,
                        size_t nparams, sp_buf *out, sp_error *err)
{
    sp_node node = { NULL, NULL, (char *)sql, 0, 0, 0 };
    sp_pipe query = { 0 };
    query.name = (char *)"";
    query.nodes = &node;
    query.nnodes = 1;
    return render_nodes(proj, &query, params, nparams, 0, NULL, 1, NULL, out, err);
}

int sp_discard_schema(void *ud, const sp_schema *s, sp_error *err)
{
    (void)ud;
    (void)s;
    (void)err;
    return 0;
}

int sp_discard_batch(void *ud, const sp_batch *b, sp_error *err)
{
    (void)ud;
    (void)b;
    (void)err;
    return 0;
}

long sp_pipe_failing_node(sp_engine *e, const sp_project *proj, const sp_pipe *pipe,
                          const sp_param *params, size_t nparams, int64_t now_unix)
{
    return sp_pipe_failing_node_ex(e, proj, pipe, params, nparams, 0, now_unix);
}

long sp_pipe_failing_node_ex(sp_engine *e, const sp_project *proj, const sp_pipe *pipe,
                             const sp_param *params, size_t nparams, unsigned tflags,
                             int64_t now_unix)
{
    for (size_t k = 1; k <= pipe->nnodes; k++) {
        sp_buf sql = SP_BUF_INIT(64u << 20), q = SP_BUF_INIT(64u << 20);
        int rc = render_nodes(proj, pipe, params, nparams, tflags, NULL, k, NULL, &sql, NULL);
        if (!rc)
            rc = sp_buf_addf(&q, NULL, "SELECT * FROM (\n%s\n) AS __sp_node LIMIT 0",
                             sql.data ? sql.data : "");
        sp_query_opts o = { now_unix, NULL, NULL, 0, 0 };
        sp_query_stats st = { 0, 0, 0 };
        if (!rc)
            rc = e->vt->query(e, q.data, &o, sp_discard_schema, sp_discard_batch, NULL, &st, NULL);
        sp_buf_release(&sql);
        sp_buf_release(&q);
        if (rc == SP_ESQL)
            return (long)k - 1;
        if (rc)
            return -1;
    }
    return -1;
}

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* a copy pipe: its result into TARGET_DATASOURCE, appended or replacing
 * (COPY_MODE), by the engine in one step */
static int run_copy(sp_project *p, const sp_pipe *pipe, const struct sp_run_opts *o,
                    sp_run_result *res, sp_error *err)
{
    const char *target = sp_kvlist_get(&pipe->keys, "TARGET_DATASOURCE");
    const char *mode = sp_kvlist_get(&pipe->keys, "COPY_MODE");
    if (!target || !sp_project_find_datasource(p, target))
        return sp_error_set(err, SP_EDEF, 0, "pipe '%s': TARGET_DATASOURCE: unknown datasource '%s'",
                            pipe->name, target ? target : "");
    if (o->format || o->file_template || o->compression || o->strategy || o->max_file_size ||
        o->max_file_rows)
        return sp_error_set(err, SP_EINVAL, 0,
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
            if (k >= 0)
                sp_error_prefix(err, "pipe '%s', node '%s'", pipe->name, pipe->nodes[k].name);
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
    static const struct sp_run_opts defaults;
    const struct sp_run_opts *o = opts ? opts : &defaults;
    double t0 = mono_now();
    memset(res, 0, sizeof *res);
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
        if (crc && err && strncmp(err->msg, "pipe '", 6) != 0)
            sp_error_prefix(err, "pipe '%s'", pipe_name);
        res->elapsed_s = mono_now() - t0;
        return crc;
    }

    sp_sinkcfg cfg;
    memset(&cfg, 0, sizeof cfg);
    int rc = sp_sinkcfg_build(p, pipe, o, &cfg, err);
    if (rc)
        return rc;
    res->service = strdup(cfg.conn_type == SP_CONN_KAFKA ? "kafka"
                          : cfg.conn_type == SP_CONN_GCS ? "gcs"
                          : (cfg.bucket_uri && !strncmp(cfg.bucket_uri, "file://", 7)) ? "file"
                          : "s3");

    sp_buf sql = SP_BUF_INIT(64u << 20);
    run_ctx r;
    memset(&r, 0, sizeof r);
    rc = sp_pipe_render_sql(p, pipe, o->params, o->nparams, &sql, err);
    if (!rc)
        res->sql = strdup(sql.data ? sql.data : "");
    if (!rc && o->dry_run && cfg.conn_type == SP_CONN_KAFKA)
        r.vt = &preview_vt;
    else if (!rc)
        rc = sp_sink_for(&cfg, &r.vt, err);

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
            if (k >= 0)
                sp_error_prefix(err, "pipe '%s', node '%s'", pipe_name, pipe->nodes[k].name);
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
    if (rc && err && strncmp(err->msg, "pipe '", 6) != 0)
        sp_error_prefix(err, "pipe '%s'", pipe_name);
    sp_buf_release(&sql);
    sp_sinkcfg_release(&cfg);
    res->elapsed_s = mono_now() - t0;
    return rc;
}
