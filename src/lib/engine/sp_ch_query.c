/* sp_ch_query: the ClickHouse engine's reading path: a statement with the
 * logical time (now()/today()/yesterday() replaced by constants of the
 * run's time) streamed back in batches (memory: one batch) as
 * TabSeparatedWithNamesAndTypes (sp_ch_tsv) or, embedded, Native
 * (sp_ch_native) when DESCRIBE finds every column readable from it, else
 * RowBinaryWithNamesAndTypes (sp_ch_rbread); scalar expressions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sp_buf.h"
#include "sp_ch_engine.h"
#include "sp_ch_native.h"
#include "sp_ch_query.h"
#include "sp_ch_rbread.h"
#include "sp_ch_tsv.h"
#include "sp_sql.h"
#include "sp_type.h"
#include "sp_banned.h"

#define BATCH_ROWS 2048
#define FORMAT_TSV "TabSeparatedWithNamesAndTypes"

int sp_ch_query_eval(sp_engine *base, const char *expr, int64_t now_unix, char **out,
                     sp_error *err)
{
    sp_ch_engine *e = (sp_ch_engine *)base;
    *out = NULL;
    sp_buf sql = SP_BUF_INIT(SP_CH_SQL_MAX), q = SP_BUF_INIT(SP_CH_SQL_MAX);
    sp_buf ans = SP_BUF_INIT(SP_CH_SMALL_MAX);
    int rc = sp_buf_addf(&sql, err, "SELECT toString((%s))", expr);
    if (!rc)
        rc = sp_sql_logical_time(sql.data, now_unix ? now_unix : (int64_t)time(NULL), &q, err);
    if (!rc)
        rc = sp_ch_engine_exec(e, q.data, &ans, err);
    if (rc) {
        sp_error_prefix(err, "expression '%.200s'", expr);
    } else {
        while (ans.len && ans.data[ans.len - 1] == '\n')
            ans.data[--ans.len] = '\0';
        if (memchr(ans.data ? ans.data : "", '\n', ans.len)) {
            rc = sp_error_set(err, SP_ESQL, 0, "expression '%.200s': not a single value", expr);
        } else if (!(ans.len == 2 && !memcmp(ans.data, "\\N", 2))) {
            sp_buf v = SP_BUF_INIT(SP_CH_SMALL_MAX);
            rc = sp_ch_unescape(ans.data ? ans.data : "", ans.len, &v, err);
            if (!rc && !(*out = sp_buf_detach(&v)))
                rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory");
            sp_buf_release(&v);
        }
    }
    sp_buf_release(&sql);
    sp_buf_release(&q);
    sp_buf_release(&ans);
    return rc;
}

typedef struct qctx {
    int schema_seen; /* on_schema was called */
    sp_schema_fn on_schema;
    sp_batch_fn on_batch;
    void *ud;
    atomic_int *cancel;
    sp_query_stats *stats;
} qctx;

static int q_schema(void *ud, const sp_schema *s, sp_error *err)
{
    qctx *q = ud;
    q->schema_seen = 1;
    return q->on_schema ? q->on_schema(q->ud, s, err) : 0;
}

static int q_batch(void *ud, const sp_batch *b, sp_error *err)
{
    qctx *q = ud;
    if (sp_cancelled(q->cancel))
        return sp_error_set(err, SP_ECANCELLED, 0, "query cancelled");
    if (q->stats)
        q->stats->result_rows += b->nrows;
    return q->on_batch ? q->on_batch(q->ud, b, err) : 0;
}

typedef struct qread {
    sp_ch_tsv *rd;   /* TabSeparatedWithNamesAndTypes, or */
    sp_ch_rb *rb;    /* RowBinaryWithNamesAndTypes, or */
    sp_ch_nat *nat;  /* Native (both embedded) */
    int docs; /* each chunk is a whole document */
} qread;

enum { READ_TSV, READ_ROWBINARY, READ_NATIVE };

static int q_chunk(void *ud, const char *p, size_t n, sp_error *err)
{
    qread *r = ud;
    if (r->nat)
        return sp_ch_nat_chunk(r->nat, p, n, err);
    if (r->rb)
        return sp_ch_rb_chunk(r->rb, p, n, err);
    int rc = sp_ch_tsv_feed(r->rd, p, n, err);
    if (!rc && r->docs)
        rc = sp_ch_tsv_doc_end(r->rd, err);
    return rc;
}

/* one run of the statement, read as `mode`; desc: the columns DESCRIBE
 * gave (Native: a result without rows sends no block, hence no header) */
static int run_query(sp_ch_engine *e, sp_ch_stmt *st, qctx *qc, int mode, const sp_schema *desc,
                     int *schema_seen, sp_error *err)
{
    qread qr = { NULL, NULL, NULL, (e->conn->vt->flags & SP_CH_DOC_CHUNKS) != 0 };
    int rc = mode == READ_NATIVE
                 ? sp_ch_nat_new(BATCH_ROWS, q_schema, q_batch, qc, &qr.nat, err)
             : mode == READ_ROWBINARY
                 ? sp_ch_rb_new(BATCH_ROWS, q_schema, q_batch, qc, &qr.rb, err)
                 : sp_ch_tsv_new(BATCH_ROWS, q_schema, q_batch, qc, &qr.rd, err);
    if (rc)
        return rc;
    st->format = mode == READ_NATIVE      ? "Native"
                 : mode == READ_ROWBINARY ? "RowBinaryWithNamesAndTypes"
                                          : FORMAT_TSV;
    st->on_chunk = q_chunk;
    st->ud = &qr;
    qc->schema_seen = 0;
    rc = e->conn->vt->run(e->conn, st, err);
    if (!rc) {
        rc = mode == READ_NATIVE      ? sp_ch_nat_finish(qr.nat, err)
             : mode == READ_ROWBINARY ? sp_ch_rb_finish(qr.rb, err)
                                      : sp_ch_tsv_finish(qr.rd, err);
        /* an exception a server appended to a result it had begun */
        if (rc == SP_ESQL && mode == READ_TSV)
            sp_error_prefix(err, "clickhouse");
    }
    if (!rc && !qc->schema_seen && desc)
        rc = q_schema(qc, desc, err);
    *schema_seen = qc->schema_seen;
    sp_ch_nat_free(qr.nat);
    sp_ch_rb_free(qr.rb);
    sp_ch_tsv_free(qr.rd);
    return rc;
}

/* the result's columns from DESCRIBE (<sql>), as ClickHouse names their
 * types (Native output drops a top-level DateTime's zone); NULL when
 * DESCRIBE fails (the query itself will say why) */
static sp_schema *describe(sp_ch_engine *e, const sp_ch_stmt *q)
{
    sp_buf ans = SP_BUF_INIT(SP_CH_SMALL_MAX);
    sp_buf name = SP_BUF_INIT(1 << 20), type = SP_BUF_INIT(1 << 20);
    sp_schema *s = NULL;
    sp_ch_stmt st = *q;
    st.format = "TabSeparated";
    st.on_chunk = sp_buf_add_cb;
    st.ud = &ans;
    st.describe = 1;
    int rc = e->conn->vt->run(e->conn, &st, NULL);
    size_t n = 0;
    for (size_t i = 0; !rc && i < ans.len; i++)
        n += ans.data[i] == '\n';
    if (!rc && n && (s = sp_schema_new(n)) != NULL) {
        const char *p = ans.data, *end = ans.data + ans.len;
        for (size_t i = 0; i < n && !rc; i++) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            const char *t1 = memchr(p, '\t', (size_t)(nl - p));
            const char *t2 = t1 ? memchr(t1 + 1, '\t', (size_t)(nl - t1 - 1)) : NULL;
            sp_buf_reset(&name);
            sp_buf_reset(&type);
            rc = !t1 || sp_ch_unescape(p, (size_t)(t1 - p), &name, NULL) ||
                 sp_ch_unescape(t1 + 1, (size_t)((t2 ? t2 : nl) - t1 - 1), &type, NULL);
            if (!rc && !(s->names[i] = sp_buf_detach(&name)))
                rc = 1;
            if (!rc)
                rc = sp_type_parse(type.data ? type.data : "", &s->types[i], NULL);
            if (!rc && !sp_ch_nat_supported(s->types[i]))
                rc = 1;
            p = nl + 1;
        }
    }
    if (rc || !n) {
        sp_schema_free(s);
        s = NULL;
    }
    sp_buf_release(&ans);
    sp_buf_release(&name);
    sp_buf_release(&type);
    return s;
}

int sp_ch_query_run(sp_engine *base, const char *sql, const sp_query_opts *o,
                    sp_schema_fn on_schema, sp_batch_fn on_batch, void *ud,
                    sp_query_stats *stats, sp_error *err)
{
    sp_ch_engine *e = (sp_ch_engine *)base;
    if (stats)
        memset(stats, 0, sizeof *stats);
    atomic_store(&e->interrupted, 0);
    int64_t now = o && o->now_unix ? o->now_unix : (int64_t)time(NULL);
    sp_buf body = SP_BUF_INIT(SP_CH_SQL_MAX);
    int rc = sp_sql_logical_time(sql, now, &body, err);
    char qid[sizeof e->qid];
    sp_ch_engine_query_id(e, o, qid, sizeof qid);
    char p_time[64] = "", p_mem[64] = "";
    const char *settings[4];
    size_t np = 0;
    if (o && o->timeout_ms) {
        snprintf(p_time, sizeof p_time, "max_execution_time=%llu",
                 (unsigned long long)((o->timeout_ms + 999) / 1000));
        settings[np++] = p_time;
    }
    if (o && o->max_memory) {
        snprintf(p_mem, sizeof p_mem, "max_memory_usage=%llu", (unsigned long long)o->max_memory);
        settings[np++] = p_mem;
    }
    settings[np] = NULL;
    qctx qc = { 0, on_schema, on_batch, ud, o ? o->cancel : NULL, stats };
    int docs = (e->conn->vt->flags & SP_CH_DOC_CHUNKS) != 0;
    if (!rc) {
        sp_ch_engine_running(e, qid);
        sp_ch_stmt st = { 0 };
        st.sql = body.data ? body.data : "";
        st.len = body.len;
        st.settings = settings;
        st.query_id = qid;
        st.read_only = 1;
        st.cancel = o ? o->cancel : NULL;
        st.timeout_ms = o ? o->timeout_ms : 0;
        /* embedded: RowBinary, read far faster; a result column of a type
         * without a binary reader (Dynamic, AggregateFunction, …) is found
         * in the header, before any row: the query runs again as text */
        int seen = 0;
        /* embedded: Native when DESCRIBE finds every column readable from
         * it (columnar: cheapest to produce and to read), else RowBinary */
        sp_schema *desc = docs ? describe(e, &st) : NULL;
        int mode = desc ? READ_NATIVE : docs ? READ_ROWBINARY : READ_TSV;
        rc = run_query(e, &st, &qc, mode, desc, &seen, err);
        if (rc == SP_EUNSUPPORTED && docs && !seen && !atomic_load(&e->interrupted)) {
            sp_error_clear(err);
            if (stats)
                memset(stats, 0, sizeof *stats);
            rc = run_query(e, &st, &qc, READ_TSV, NULL, &seen, err);
        }
        sp_schema_free(desc);
        sp_ch_engine_running(e, NULL);
        /* a transfer we stopped (cancel, a sink's error) may leave the query
         * running until it notices: kill it */
        if (rc && rc != SP_ESQL && !docs && !atomic_load(&e->interrupted))
            e->conn->vt->kill(e->conn, qid);
        if (rc == SP_ECANCELLED || atomic_load(&e->interrupted)) {
            sp_error_clear(err);
            rc = sp_error_set(err, SP_ECANCELLED, 0, "query cancelled");
        }
    }
    sp_buf_release(&body);
    return rc;
}
