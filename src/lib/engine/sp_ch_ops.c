/* sp_ch_ops: the ClickHouse engine's operations on a datasource's rows:
 * copies (a pipe's SQL into a staging table, then appended or swapped in
 * in one step), truncate, delete (a mutation, waited for). */
#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "sp_buf.h"
#include "sp_ch_engine.h"
#include "sp_ch_load.h"
#include "sp_ch_ops.h"
#include "sp_sql.h"
#include "sp_banned.h"

int sp_ch_ops_copy(sp_engine *base, const char *target, const char *sql, int replace,
                   const sp_query_opts *o, uint64_t *rows, sp_error *err)
{
    sp_ch_engine *e = (sp_ch_engine *)base;
    *rows = 0;
    atomic_store(&e->interrupted, 0);
    int64_t now = o && o->now_unix ? o->now_unix : (int64_t)time(NULL);
    char qid[sizeof e->qid];
    sp_ch_engine_query_id(e, o, qid, sizeof qid);
    sp_buf body = SP_BUF_INIT(SP_CH_SQL_MAX), q = SP_BUF_INIT(SP_CH_SQL_MAX);
    sp_buf cols = SP_BUF_INIT(SP_CH_SMALL_MAX), out = SP_BUF_INIT(SP_CH_SMALL_MAX);
    int rc = sp_sql_logical_time(sql, now, &body, err);
    /* checked as pipe SQL (one reading statement without external access);
     * its columns are the ones the copy inserts */
    if (!rc)
        rc = sp_ch_engine_describe(e, body.data ? body.data : "", body.len, &cols, err);
    /* the staging table (a load's, sp_ch_load.h): the copy is made there,
     * then moved in one step */
    sp_ch_stage st = { 0 };
    if (!rc && !(st.table = strdup(target)))
        rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    if (!rc)
        rc = sp_ch_load_stage_create(e, &st, 1, err);
    if (!rc) {
        sp_ch_engine_running(e, qid);
        rc = sp_ch_engine_insert_select(e, st.stage, &cols, body.data, body.len, qid,
                                        o ? o->cancel : NULL, err);
        sp_ch_engine_running(e, NULL);
        if (!rc && ((o && sp_cancelled(o->cancel)) || atomic_load(&e->interrupted)))
            rc = sp_error_set(err, SP_ECANCELLED, 0, "copy cancelled");
    }
    if (!rc)
        rc = sp_ch_engine_add_ref(e, &q, "SELECT count() FROM ", st.stage, err);
    if (!rc)
        rc = sp_ch_engine_exec(e, q.data, &out, err);
    if (!rc) {
        char *endp = NULL;
        unsigned long long v = strtoull(out.data ? out.data : "", &endp, 10);
        if (!out.data || endp == out.data)
            rc = sp_error_set(err, SP_EENGINE, 0, "copy: cannot count the rows copied");
        *rows = v;
    }
    sp_buf_reset(&q);
    if (!rc && replace) {
        /* one step; the staging table then holds the old rows, dropped below */
        rc = sp_ch_engine_swap(e, target, st.stage, err);
    } else if (!rc) {
        /* one insert into the target: views reading it see the rows */
        rc = sp_ch_engine_add_ref(e, &q, "INSERT INTO ", target, err);
        if (!rc)
            rc = sp_ch_engine_add_ref(e, &q, " SELECT * FROM ", st.stage, err);
        if (!rc)
            rc = sp_ch_engine_exec_as(e, q.data, qid, NULL, NULL, err);
    }
    sp_ch_load_stage_release(e, &st, !rc);
    if (rc == SP_ECANCELLED || atomic_load(&e->interrupted)) {
        sp_error_clear(err);
        rc = sp_error_set(err, SP_ECANCELLED, 0, "copy cancelled");
    }
    sp_buf_release(&body);
    sp_buf_release(&cols);
    sp_buf_release(&q);
    sp_buf_release(&out);
    return rc;
}

int sp_ch_ops_truncate(sp_engine *base, const char *ds, sp_error *err)
{
    sp_ch_engine *e = (sp_ch_engine *)base;
    sp_buf q = SP_BUF_INIT(SP_CH_SMALL_MAX);
    int rc = sp_buf_adds(&q, "TRUNCATE TABLE ", err);
    if (!rc)
        rc = sp_ch_engine_ref(e, &q, ds, err);
    if (!rc)
        rc = sp_ch_engine_exec(e, q.data, NULL, err);
    sp_buf_release(&q);
    return rc;
}

int sp_ch_ops_delete_rows(sp_engine *base, const char *ds, const char *cond, int dry_run,
                          uint64_t *rows, sp_error *err)
{
    sp_ch_engine *e = (sp_ch_engine *)base;
    *rows = 0;
    sp_buf sel = SP_BUF_INIT(SP_CH_SQL_MAX), q = SP_BUF_INIT(SP_CH_SQL_MAX);
    sp_buf out = SP_BUF_INIT(SP_CH_SMALL_MAX);
    /* the condition is checked as pipe SQL is: one reading statement, no
     * external access; and it must be one expression (its own parentheses) */
    int rc = sp_buf_adds(&sel, "SELECT count() FROM ", err);
    if (!rc)
        rc = sp_ch_engine_ref(e, &sel, ds, err);
    if (!rc)
        rc = sp_buf_addf(&sel, err, " WHERE (%s\n)", cond);
    if (!rc)
        rc = sp_ch_engine_describe(e, sel.data, sel.len, NULL, err);
    int depth = 0, bad = 0;
    for (const char *c = cond; !rc && *c && !bad; c++) {
        /* quotes skipped: a parenthesis in a string is no nesting */
        if (*c == '\'' || *c == '"' || *c == '`') {
            char qc = *c;
            for (c++; *c && *c != qc; c++)
                if (*c == '\\' && c[1])
                    c++;
            if (!*c)
                break;
        } else if (*c == '(') {
            depth++;
        } else if (*c == ')') {
            bad = --depth < 0;
        }
    }
    if (!rc && (bad || depth))
        rc = sp_error_set(err, SP_EINVAL, 0, "delete_condition: unbalanced parentheses");
    if (!rc)
        rc = sp_ch_engine_exec(e, sel.data, &out, err);
    if (!rc) {
        char *endp = NULL;
        *rows = strtoull(out.data ? out.data : "", &endp, 10);
    }
    if (!rc && !dry_run && *rows) {
        rc = sp_buf_adds(&q, "ALTER TABLE ", err);
        if (!rc)
            rc = sp_ch_engine_ref(e, &q, ds, err);
        if (!rc)
            rc = sp_buf_addf(&q, err, " DELETE WHERE (%s\n)", cond);
        if (!rc)
            rc = sp_ch_engine_exec(e, q.data, NULL, err);
        /* a mutation runs in the background: wait until it is done (every
         * server has system.mutations; mutations_sync came later) */
        sp_buf_reset(&q);
        if (!rc)
            rc = sp_buf_adds(&q, "SELECT count() FROM system.mutations WHERE database = ", err);
        if (!rc)
            rc = sp_ch_engine_db_name(e, &q, err);
        if (!rc)
            rc = sp_buf_adds(&q, " AND table = ", err);
        if (!rc)
            rc = sp_ch_quote_string(&q, ds, strlen(ds), err);
        if (!rc)
            rc = sp_buf_adds(&q, " AND is_done = 0", err);
        for (int i = 0; !rc; i++) {
            sp_buf_reset(&out);
            rc = sp_ch_engine_exec(e, q.data, &out, err);
            if (rc || (out.data && out.data[0] == '0'))
                break;
            if (i >= 6000) { /* 10 minutes */
                rc = sp_error_set(err, SP_EBUSY, 1,
                                  "the delete of datasource '%s' is still running after 10 "
                                  "minutes (it goes on in the background)",
                                  ds);
                break;
            }
            struct timespec ts = { 0, 100 * 1000 * 1000 };
            nanosleep(&ts, NULL);
        }
    }
    sp_buf_release(&sel);
    sp_buf_release(&q);
    sp_buf_release(&out);
    return rc;
}

/* drop_empty: out of the way first (RENAME), counted there, dropped when
 * it holds no row; else renamed back: a load that raced the count is
 * never lost */
int sp_ch_ops_drop_empty(sp_engine *base, const char *ds, uint64_t *rows, sp_error *err)
{
    sp_ch_engine *e = (sp_ch_engine *)base;
    *rows = 0;
    char aside[800];
    snprintf(aside, sizeof aside, "%.600s__sp_drop_%lld", ds, (long long)time(NULL));
    sp_buf q = SP_BUF_INIT(SP_CH_SMALL_MAX), ans = SP_BUF_INIT(SP_CH_SMALL_MAX);
    int rc = sp_ch_engine_add_ref(e, &q, "RENAME TABLE ", ds, err);
    if (!rc)
        rc = sp_ch_engine_add_ref(e, &q, " TO ", aside, err);
    if (!rc)
        rc = sp_ch_engine_exec(e, q.data, NULL, err);
    if (rc) {
        sp_buf_release(&q);
        return rc;
    }
    sp_buf_reset(&q);
    rc = sp_ch_engine_add_ref(e, &q, "SELECT count() FROM ", aside, err);
    if (!rc)
        rc = sp_ch_engine_exec(e, q.data, &ans, err);
    if (!rc)
        *rows = strtoull(ans.data ? ans.data : "0", NULL, 10);
    if (!rc && *rows == 0) {
        rc = sp_ch_engine_drop(e, aside, 1, err);
    } else {
        sp_error be = SP_ERROR_INIT;
        sp_buf_reset(&q);
        int brc = sp_ch_engine_add_ref(e, &q, "RENAME TABLE ", aside, &be);
        if (!brc)
            brc = sp_ch_engine_add_ref(e, &q, " TO ", ds, &be);
        if (!brc)
            brc = sp_ch_engine_exec(e, q.data, NULL, &be);
        if (!rc && brc)
            rc = sp_error_set(err, brc, 0, "%s", be.msg);
        else if (!rc)
            rc = sp_error_set(err, SP_EDATA, 0, "datasource '%s' holds %llu rows", ds,
                              (unsigned long long)*rows);
    }
    sp_buf_release(&q);
    sp_buf_release(&ans);
    return rc;
}
