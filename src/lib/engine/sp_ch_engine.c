/* sp_ch_engine: the SQL helpers the parts of the ClickHouse engine share
 * (sp_ch_engine.h): statements read whole, table names, DESCRIBE of a
 * SELECT and the INSERT … SELECT of its columns (materialized views'
 * populate, copies), inserts of formatted rows, drop, swap. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "sp_ch_engine.h"
#include "sp_ch_tsv.h"
#include "sp_ch_text.h"
#include "sp_banned.h"

int sp_ch_engine_exec(sp_ch_engine *e, const char *sql, sp_buf *out, sp_error *err)
{
    return sp_ch_engine_exec_as(e, sql, NULL, NULL, out, err);
}

int sp_ch_engine_exec_as(sp_ch_engine *e, const char *sql, const char *qid,
                         atomic_int *cancel, sp_buf *out, sp_error *err)
{
    sp_ch_stmt st = { 0 };
    st.sql = sql;
    st.len = strlen(sql);
    st.format = "TabSeparated";
    st.query_id = qid;
    st.cancel = cancel;
    st.on_chunk = out ? sp_buf_add_cb : NULL;
    st.ud = out;
    return e->conn->vt->run(e->conn, &st, err);
}

int sp_ch_engine_ref(sp_ch_engine *e, sp_buf *q, const char *table, sp_error *err)
{
    int rc = 0;
    if (e->database) {
        rc = sp_ch_quote_ident(q, e->database, err);
        if (!rc)
            rc = sp_buf_addch(q, '.', err);
    }
    return rc ? rc : sp_ch_quote_ident(q, table, err);
}

int sp_ch_engine_layout(sp_ch_engine *e, const char *table, sp_buf *out, sp_error *err)
{
    sp_buf q = SP_BUF_INIT(SP_CH_SQL_MAX);
    int rc = sp_buf_adds(&q, "SELECT name, type FROM system.columns WHERE database = ", err);
    if (!rc)
        rc = sp_ch_engine_db_name(e, &q, err);
    if (!rc)
        rc = sp_buf_adds(&q, " AND table = ", err);
    if (!rc)
        rc = sp_ch_quote_string(&q, table, strlen(table), err);
    if (!rc)
        rc = sp_ch_engine_exec(e, q.data, out, err);
    sp_buf_release(&q);
    return rc;
}

int sp_ch_engine_db_name(sp_ch_engine *e, sp_buf *q, sp_error *err)
{
    return e->database ? sp_ch_quote_string(q, e->database, strlen(e->database), err)
                       : sp_buf_adds(q, "currentDatabase()", err);
}

int sp_ch_engine_add_ref(sp_ch_engine *e, sp_buf *q, const char *text, const char *table,
                         sp_error *err)
{
    int rc = sp_buf_adds(q, text, err);
    return rc ? rc : sp_ch_engine_ref(e, q, table, err);
}

int sp_ch_engine_from_system(sp_ch_engine *e, sp_buf *q, const char *from, sp_error *err)
{
    int rc = sp_buf_adds(q, "(SELECT engine FROM system.databases WHERE name = ", err);
    if (!rc)
        rc = sp_ch_engine_db_name(e, q, err);
    if (!rc)
        rc = sp_buf_addf(q, err, ") FROM system.%s WHERE database = ", from);
    return rc ? rc : sp_ch_engine_db_name(e, q, err);
}

int sp_ch_engine_insert(sp_ch_engine *e, const char *table, const char *fmt, const char *data,
                        size_t len, sp_error *err)
{
    sp_buf q = SP_BUF_INIT(1 << 20);
    int rc = sp_ch_engine_add_ref(e, &q, "INSERT INTO ", table, err);
    if (!rc) {
        sp_ch_stmt st = { 0 };
        st.sql = q.data;
        st.len = q.len;
        st.format = fmt;
        st.data = data ? data : "";
        st.datalen = len;
        rc = e->conn->vt->run(e->conn, &st, err);
    }
    sp_buf_release(&q);
    return rc;
}

int sp_ch_engine_drop(sp_ch_engine *e, const char *table, int sync, sp_error *err)
{
    sp_buf q = SP_BUF_INIT(1 << 16);
    int rc = sp_ch_engine_add_ref(e, &q, "DROP TABLE IF EXISTS ", table, err);
    if (!rc && sync)
        rc = sp_buf_adds(&q, " SYNC", err);
    if (!rc)
        rc = sp_ch_engine_exec(e, q.data, NULL, err);
    sp_buf_release(&q);
    return rc;
}

/* swap tables a and b in one step: EXCHANGE where the database can
 * (Atomic), else a three-name RENAME, which ClickHouse runs under one lock */
int sp_ch_engine_swap(sp_ch_engine *e, const char *a, const char *b, sp_error *err)
{
    sp_buf q = SP_BUF_INIT(1 << 16);
    int rc = sp_ch_engine_add_ref(e, &q, "EXCHANGE TABLES ", a, err);
    if (!rc)
        rc = sp_ch_engine_add_ref(e, &q, " AND ", b, err);
    sp_error xe = SP_ERROR_INIT;
    int xrc = rc ? rc : sp_ch_engine_exec(e, q.data, NULL, &xe);
    if (!rc && xrc == SP_ESQL) {
        char tmp[800];
        snprintf(tmp, sizeof tmp, "%.600s_swap", b);
        sp_buf_reset(&q);
        rc = sp_ch_engine_add_ref(e, &q, "RENAME TABLE ", a, err);
        if (!rc)
            rc = sp_ch_engine_add_ref(e, &q, " TO ", tmp, err);
        if (!rc)
            rc = sp_ch_engine_add_ref(e, &q, ", ", b, err);
        if (!rc)
            rc = sp_ch_engine_add_ref(e, &q, " TO ", a, err);
        if (!rc)
            rc = sp_ch_engine_add_ref(e, &q, ", ", tmp, err);
        if (!rc)
            rc = sp_ch_engine_add_ref(e, &q, " TO ", b, err);
        if (!rc)
            rc = sp_ch_engine_exec(e, q.data, NULL, err);
    } else if (!rc && xrc) {
        rc = sp_error_set(err, xrc, sp_error_flag(&xe), "%s", xe.msg);
    }
    sp_buf_release(&q);
    return rc;
}

int sp_ch_engine_describe(sp_ch_engine *e, const char *sql, size_t len, sp_buf *out,
                          sp_error *err)
{
    sp_ch_stmt st = { 0 };
    st.sql = sql;
    st.len = len;
    st.format = "TabSeparated";
    st.read_only = 1;
    st.describe = 1;
    st.on_chunk = out ? sp_buf_add_cb : NULL;
    st.ud = out;
    return e->conn->vt->run(e->conn, &st, err);
}

int sp_ch_engine_insert_select(sp_ch_engine *e, const char *table, const sp_buf *desc,
                               const char *sql, size_t len, const char *qid,
                               atomic_int *cancel, sp_error *err)
{
    sp_buf q = SP_BUF_INIT(SP_CH_SQL_MAX);
    int rc = sp_ch_engine_add_ref(e, &q, "INSERT INTO ", table, err);
    if (!rc)
        rc = sp_buf_adds(&q, " (", err);
    const char *p = desc->data ? desc->data : "", *end = p + desc->len;
    for (int first = 1; !rc && p < end; first = 0) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *tab = memchr(p, '\t', (size_t)((nl ? nl : end) - p));
        char col[1024];
        size_t n = (size_t)((tab ? tab : nl ? nl : end) - p);
        snprintf(col, sizeof col, "%.*s", (int)(n < sizeof col ? n : sizeof col - 1), p);
        if (!first)
            rc = sp_buf_adds(&q, ", ", err);
        if (!rc)
            rc = sp_ch_quote_ident(&q, col, err);
        p = nl ? nl + 1 : end;
    }
    if (!rc)
        rc = sp_buf_adds(&q, ") SELECT * FROM (\n", err);
    if (!rc)
        rc = sp_buf_add(&q, sql ? sql : "", len, err);
    if (!rc)
        rc = sp_buf_adds(&q, "\n)", err);
    if (!rc)
        rc = sp_ch_engine_exec_as(e, q.data, qid, cancel, NULL, err);
    sp_buf_release(&q);
    return rc;
}

void sp_ch_engine_query_id(sp_ch_engine *e, const sp_query_opts *o, char *out, size_t n)
{
    if (o && o->query_id && *o->query_id)
        snprintf(out, n, "%s", o->query_id);
    else
        snprintf(out, n, "sinkpipe-%lld-%ld-%lu", (long long)time(NULL), (long)getpid(),
                 ++e->seq);
}

void sp_ch_engine_running(sp_ch_engine *e, const char *qid)
{
    pthread_mutex_lock(&e->mu);
    snprintf(e->qid, sizeof e->qid, "%s", qid ? qid : "");
    pthread_mutex_unlock(&e->mu);
}
