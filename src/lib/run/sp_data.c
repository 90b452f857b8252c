/* sp_data: the project's engine, loading data and ad-hoc queries.
 *
 * The engine is opened on first use — the one SINKPIPE_ENGINE names in the
 * engine registry (sp_engines.h: embedded ClickHouse in
 * <project>/.sinkpipe/clickhouse/, or a ClickHouse server) — and every
 * datasource of the project is ensured (table + quarantine). */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "sp_buf.h"
#include "sp_ch_local.h"
#include "sp_engine.h"
#include "sp_engines.h"
#include "sp_env.h"
#include "sp_error.h"
#include "sp_format.h"
#include "sp_ingest.h"
#include "sp_keys.h"
#include "sp_model.h"
#include "sp_oplog.h"
#include "sp_render.h"
#include "sp_sql.h"
#include "sp_banned.h"

#define SP_DATA_CHUNK (1u << 20)

int sp_project_engine_share(sp_project *p, struct sp_ch_local **out, sp_error *err)
{
    *out = NULL;
    sp_engine *e = NULL;
    int rc = sp_project_engine(p, &e, err);
    if (rc || strcmp(e->vt->name, "embedded") != 0)
        return rc;
    char dir[PATH_MAX], sock[PATH_MAX + 32];
    if (!realpath(p->dir ? p->dir : ".", dir))
        return sp_error_set(err, SP_EIO, 0, "cannot resolve '%s': %s", p->dir ? p->dir : ".",
                            strerror(errno));
    snprintf(sock, sizeof sock, "%s/.sinkpipe/engine.sock", dir);
    return sp_ch_local_start(sock, out, err);
}

void sp_project_engine_unshare(sp_project *p, struct sp_ch_local *l)
{
    if (!l)
        return;
    sp_ch_local_stop(l);
    char sock[PATH_MAX + 32];
    if (sp_engine_sock_path(p, sock, sizeof sock))
        unlink(sock);
}

/* the tables a view reads that are targets of other views: it comes after
 * them (populating a view feeds the views downstream that exist) */
typedef struct mv_reads {
    const sp_mview *v;
    size_t n;
    size_t self;
    int after; /* reads the target of a view not placed yet */
    const unsigned char *placed;
} mv_reads;

static int mv_read(void *ud, const char *name, size_t len, sp_error *err)
{
    (void)err;
    mv_reads *r = ud;
    for (size_t i = 0; i < r->n; i++)
        if (i != r->self && !r->placed[i] && strlen(r->v[i].target) == len &&
            !memcmp(r->v[i].target, name, len))
            r->after = 1;
    return 0;
}

int sp_project_ensure_views(sp_project *p, sp_engine *e, sp_error *err)
{
    size_t n = 0;
    for (size_t i = 0; i < p->npipes; i++)
        n += p->pipes[i]->type == SP_PIPE_MATERIALIZED;
    if (n && !e->vt->ensure_views)
        return sp_error_set(err, SP_EUNSUPPORTED, 0,
                            "the %s engine has no materialized views", e->vt->name);
    if (!e->vt->ensure_views)
        return 0;
    sp_mview *v = calloc(n ? n : 1, sizeof *v), *ordered = calloc(n ? n : 1, sizeof *v);
    char **sqls = calloc(n ? n : 1, sizeof *sqls), **wheres = calloc(n ? n : 1, sizeof *wheres);
    unsigned char *placed = calloc(n ? n : 1, 1);
    int rc = (!v || !ordered || !sqls || !wheres || !placed)
                 ? sp_error_set(err, SP_ENOMEM, 0, "out of memory")
                 : 0;
    size_t k = 0;
    for (size_t i = 0; i < p->npipes && !rc; i++) {
        const sp_pipe *pi = p->pipes[i];
        if (pi->type != SP_PIPE_MATERIALIZED)
            continue;
        sp_buf sql = SP_BUF_INIT(64u << 20);
        rc = sp_pipe_render_sql(p, pi, NULL, 0, &sql, err);
        sqls[k] = rc ? NULL : sp_buf_detach(&sql);
        sp_buf_release(&sql);
        char where[1024];
        sp_model_where(where, sizeof where, pi->path, pi->name, pi->type_line, "TYPE");
        /* "path:line" without the key: the pipe */
        char *colon = strrchr(where, ':');
        if (colon && colon != where && !strcmp(colon, ": TYPE"))
            *colon = '\0';
        wheres[k] = strdup(where);
        if (!rc && (!sqls[k] || !wheres[k]))
            rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory");
        if (!rc) {
            v[k].pipe = pi->name;
            v[k].target = sp_kvlist_get(&pi->keys, "DATASOURCE");
            v[k].sql = sqls[k];
            v[k].where = wheres[k];
            v[k].engine_keys = sp_kvlist_find(&pi->keys, "ENGINE") &&
                                       !sp_project_find_datasource(p, v[k].target)
                                   ? &pi->keys
                                   : NULL;
        }
        k++;
    }
    /* views reading other views' targets after them (a cycle keeps file order) */
    for (size_t m = 0; m < n && !rc; m++) {
        size_t pick = SIZE_MAX;
        for (size_t i = 0; i < n && pick == SIZE_MAX && !rc; i++) {
            if (placed[i])
                continue;
            mv_reads r = { v, n, i, 0, placed };
            rc = sp_sql_table_refs(v[i].sql, mv_read, &r, err);
            if (!r.after)
                pick = i;
        }
        for (size_t i = 0; i < n && pick == SIZE_MAX; i++)
            if (!placed[i])
                pick = i;
        if (!rc) {
            placed[pick] = 1;
            ordered[m] = v[pick];
        }
    }
    if (!rc)
        rc = e->vt->ensure_views(e, ordered, n, err);
    for (size_t i = 0; i < n; i++) {
        if (sqls)
            free(sqls[i]);
        if (wheres)
            free(wheres[i]);
    }
    free(sqls);
    free(wheres);
    free(v);
    free(ordered);
    free(placed);
    return rc;
}

/* the engine attached to a project (sp_model.h: the model only frees it) */
static sp_engine *attached(const sp_project *p)
{
    return p->att;
}

static void engine_free(void *e)
{
    sp_engine *eng = e;
    eng->vt->close(eng);
}

static void attach(sp_project *p, sp_engine *e)
{
    p->att = e;
    p->att_free = e ? engine_free : NULL;
}

int sp_project_engine_adopt(sp_project *to, sp_project *from, sp_error *err)
{
    if (!from || !attached(from) || attached(to))
        return 0;
    sp_engine *e = attached(from);
    attach(to, e);
    attach(from, NULL);
    for (size_t i = 0; i < to->ndss; i++) {
        int rc = e->vt->ensure_datasource(e, to->dss[i], err);
        if (rc)
            return rc;
    }
    return sp_project_ensure_views(to, e, err);
}

/* open the engine the project's settings name (the registry, sp_engines.h);
 * extra: a further handle on the data this process already uses */
static int open_engine(sp_project *p, int extra, sp_engine **out, sp_error *err)
{
    *out = NULL;
    const sp_env *env = NULL;
    const sp_engine_backend *b = NULL;
    int rc = sp_project_env(p, &env, err);
    if (!rc)
        rc = sp_engine_backend_for(env, &b, err);
    return rc ? rc : b->open(p, env, extra, out, err);
}

int sp_project_engine_extra(sp_project *p, sp_engine **out, sp_error *err)
{
    *out = NULL;
    if (!attached(p))
        return sp_error_set(err, SP_EINVAL, 0, "the project's engine is not open");
    return open_engine(p, 1, out, err);
}

int sp_project_engine(sp_project *p, sp_engine **out, sp_error *err)
{
    if (attached(p)) {
        *out = attached(p);
        return 0;
    }
    sp_engine *e = NULL;
    int rc = open_engine(p, 0, &e, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < p->ndss; i++) {
        rc = e->vt->ensure_datasource(e, p->dss[i], err);
        if (rc) {
            e->vt->close(e);
            return rc;
        }
    }
    rc = sp_project_ensure_views(p, e, err);
    if (rc) {
        e->vt->close(e);
        return rc;
    }
    attach(p, e);
    *out = e;
    return 0;
}

void sp_project_engine_close(sp_project *p)
{
    if (p && attached(p)) {
        sp_engine *e = attached(p);
        attach(p, NULL);
        e->vt->close(e);
    }
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int pick_format(const char *name, const char *format, sp_ingest_format *out,
                       sp_error *err)
{
    if (format && *format) {
        if (!strcmp(format, "ndjson") || !strcmp(format, "json") || !strcmp(format, "jsonl")) {
            *out = SP_INGEST_NDJSON;
            return 0;
        }
        if (!strcmp(format, "csv")) {
            *out = SP_INGEST_CSV;
            return 0;
        }
        return sp_error_set(err, SP_EINVAL, 0,
                            "unknown input format '%s' (expected ndjson, csv)", format);
    }
    char base[4096];
    snprintf(base, sizeof base, "%s", name);
    if (ends_with(base, ".gz"))
        base[strlen(base) - 3] = '\0';
    if (ends_with(base, ".ndjson") || ends_with(base, ".jsonl") || ends_with(base, ".json")) {
        *out = SP_INGEST_NDJSON;
        return 0;
    }
    if (ends_with(base, ".csv")) {
        *out = SP_INGEST_CSV;
        return 0;
    }
    return sp_error_set(err, SP_EINVAL, 0,
                        "'%s': cannot tell the format from the name (expected .ndjson, "
                        ".jsonl, .json or .csv, optionally .gz; or give the format)",
                        name);
}

static int start_ingest(sp_project *p, const char *dsname, sp_ingest_format fmt,
                        sp_ingest **in, sp_error *err)
{
    const sp_datasource *ds = sp_project_find_datasource(p, dsname);
    if (!ds)
        return sp_error_set(err, SP_ENOTFOUND, 0, "unknown datasource '%s'", dsname);
    sp_engine *e;
    int rc = sp_project_engine(p, &e, err);
    if (rc)
        return rc;
    return sp_ingest_new(e, ds, fmt, (int64_t)time(NULL), in, err);
}

/* the load's rows and rejected rows are stored all or nothing: committed
 * when the load succeeded, abandoned when it failed; a failed load stored
 * nothing, and its counts say so (rows_in stays: what was read) */
static int end_load(sp_project *p, int rc, sp_append_result *r, sp_error *err)
{
    sp_engine *e = attached(p);
    if (e && e->vt->flush) {
        int frc = e->vt->flush(e, rc == 0, rc ? NULL : err);
        rc = rc ? rc : frc;
    }
    if (rc) {
        r->rows_loaded = 0;
        r->rows_quarantined = 0;
    }
    return rc;
}

static void add_result(sp_append_result *res, const sp_append_result *r)
{
    if (!res)
        return;
    res->rows_in += r->rows_in;
    res->rows_loaded += r->rows_loaded;
    res->rows_quarantined += r->rows_quarantined;
}

int sp_append_file(sp_project *p, const char *ds, const char *path, const char *format,
                   sp_append_result *res, sp_error *err)
{
    sp_ingest_format fmt;
    int rc = pick_format(path, format, &fmt, err);
    if (rc)
        return rc;
    /* gzopen reads gzip and plain files alike */
    gzFile f = gzopen(path, "rb");
    if (!f)
        return sp_error_set(err, SP_EIO, 0, "cannot open '%s': %s", path,
                            errno ? strerror(errno) : "out of memory");
    gzbuffer(f, 256 * 1024);
    sp_ingest *in = NULL;
    rc = start_ingest(p, ds, fmt, &in, err);
    char *chunk = rc ? NULL : malloc(SP_DATA_CHUNK);
    if (!rc && !chunk)
        rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    while (!rc) {
        int n = gzread(f, chunk, SP_DATA_CHUNK);
        if (n < 0) {
            int zerr;
            const char *msg = gzerror(f, &zerr);
            rc = sp_error_set(err, SP_EIO, 0, "cannot read '%s': %s", path,
                              zerr == Z_ERRNO ? strerror(errno) : msg);
            break;
        }
        if (n == 0) {
            /* a gzip stream cut short ends like a file, with an error */
            int zerr = Z_OK;
            const char *msg = gzerror(f, &zerr);
            if (zerr != Z_OK)
                rc = sp_error_set(err, SP_EIO, 0, "cannot read '%s': %s", path,
                                  zerr == Z_BUF_ERROR ? "unexpected end of file (the gzip "
                                                        "data is cut short)"
                                                      : msg);
            break;
        }
        rc = sp_ingest_feed(in, chunk, (size_t)n, err);
    }
    sp_append_result r = { 0, 0, 0 };
    if (!rc)
        rc = sp_ingest_finish(in, &r, err);
    rc = end_load(p, rc, &r, err);
    if (rc)
        sp_error_prefix(err, "%s", path);
    add_result(res, &r);
    sp_ingest_free(in);
    free(chunk);
    gzclose(f);
    return rc;
}

int sp_append_mem(sp_project *p, const char *ds, const char *data, size_t len,
                  const char *format, sp_append_result *res, sp_error *err)
{
    sp_ingest_format fmt;
    int rc = pick_format("(memory)", format ? format : "ndjson", &fmt, err);
    sp_ingest *in = NULL;
    if (!rc)
        rc = start_ingest(p, ds, fmt, &in, err);
    if (!rc)
        rc = sp_ingest_feed(in, data, len, err);
    sp_append_result r = { 0, 0, 0 };
    if (!rc)
        rc = sp_ingest_finish(in, &r, err);
    rc = end_load(p, rc, &r, err);
    add_result(res, &r);
    sp_ingest_free(in);
    return rc;
}

/* ---------------------------------------------------------------- sp_query */

typedef struct query_ctx {
    const sp_format *fmt;
    sp_fmt_writer *fw; /* stateful formats (parquet) */
    const sp_schema *schema;
    sp_buf out;
    sp_write_fn write;
    void *ud;
    uint64_t rows;
} query_ctx;

static int q_flush(query_ctx *q, sp_error *err)
{
    if (q->out.len == 0)
        return 0;
    int rc = q->write(q->ud, q->out.data, q->out.len);
    sp_buf_reset(&q->out);
    if (rc)
        return sp_error_set(err, rc, 0, "output write failed");
    return 0;
}

static int q_schema(void *ud, const sp_schema *s, sp_error *err)
{
    query_ctx *q = ud;
    q->schema = s;
    int rc = q->fmt->header(&q->out, s, err);
    if (!rc && q->fmt->w_open)
        rc = q->fmt->w_open(&q->fw, s, NULL, err);
    return rc;
}

static int q_batch(void *ud, const sp_batch *b, sp_error *err)
{
    query_ctx *q = ud;
    int rc = q->fw ? q->fmt->w_rows(q->fw, b, 0, b->nrows, &q->out, err)
                   : q->fmt->rows(&q->out, q->schema, b, 0, b->nrows, err);
    q->rows += b->nrows;
    if (!rc && q->out.len >= SP_DATA_CHUNK)
        rc = q_flush(q, err);
    return rc;
}

int sp_query(sp_project *p, const char *sql, const char *format, int64_t now_unix,
             sp_write_fn out, void *ud, uint64_t *rows, sp_error *err)
{
    const sp_format *fmt = sp_format_find(format ? format : "csv");
    if (!fmt)
        return sp_error_set(err, SP_EINVAL, 0, "unknown format '%s' (expected %s)", format,
                            sp_format_names());
    sp_engine *e;
    int rc = sp_project_engine(p, &e, err);
    if (rc)
        return rc;
    /* the project's pipes read by name, as Tinybird's query API allows */
    sp_buf composed = SP_BUF_INIT(64u << 20);
    rc = sp_query_render_sql(p, sql, NULL, 0, &composed, err);
    query_ctx q = { fmt, NULL, NULL, SP_BUF_INIT(256u << 20), out, ud, 0 };
    sp_query_opts o = { now_unix ? now_unix : (int64_t)time(NULL), NULL, NULL, 0, 0 };
    sp_query_stats st = { 0, 0, 0 };
    if (!rc)
        rc = e->vt->query(e, composed.data ? composed.data : "", &o, q_schema, q_batch, &q, &st,
                          err);
    sp_buf_release(&composed);
    if (!rc && q.fw) /* the last row group and the footer */
        rc = fmt->w_finish(q.fw, &q.out, err);
    if (!rc)
        rc = q_flush(&q, err);
    if (q.fw)
        fmt->w_free(q.fw);
    sp_buf_release(&q.out);
    if (rows)
        *rows = q.rows;
    return rc;
}
