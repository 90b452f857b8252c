/* sp_ch_load: the ClickHouse engine's loads: appended rows and rejected
 * rows of one load through staging tables, committed (partitions attached)
 * or abandoned as a whole; Parquet/formatted loads; replace; the staging
 * tables of dead processes dropped at the next open. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sp_buf.h"
#include "sp_ch_engine.h"
#include "sp_ch_load.h"
#include "sp_ch_rowbin.h"
#include "sp_ch_tsv.h"
#include "sp_date.h"
#include "sp_uuid.h"
#include "sp_banned.h"

#define STAGE_MARK "__sp_load_"
#define OLD_COPY_PREFIX "_sp_copy_" /* before copies staged as loads */
#define STAGE_STALE_S (24 * 3600) /* a server's leftover staging tables */

int sp_ch_load_stage_create(sp_ch_engine *e, sp_ch_stage *st, int any, sp_error *err)
{
    sp_buf q = SP_BUF_INIT(1 << 16), ans = SP_BUF_INIT(SP_CH_SMALL_MAX);
    int rc = sp_buf_adds(&q, "SELECT engine, length(dependencies_table), ", err);
    if (!rc)
        rc = sp_ch_engine_from_system(e, &q, "tables", err);
    if (!rc)
        rc = sp_buf_adds(&q, " AND name = ", err);
    if (!rc)
        rc = sp_ch_quote_string(&q, st->table, strlen(st->table), err);
    if (!rc)
        rc = sp_ch_engine_exec(e, q.data, &ans, err);
    /* engine \t views \t the database's engine */
    char engine[128] = "", dbengine[128] = "";
    long views = 0;
    if (!rc && ans.len) {
        const char *f = ans.data;
        size_t n = strcspn(f, "\t\n");
        snprintf(engine, sizeof engine, "%.*s", (int)(n < 127 ? n : 127), f);
        if (f[n] == '\t') {
            char *end = NULL;
            views = strtol(f + n + 1, &end, 10);
            if (end && *end == '\t')
                snprintf(dbengine, sizeof dbengine, "%.*s", (int)strcspn(end + 1, "\r\n"),
                         end + 1);
        }
    }
    size_t el = strlen(engine);
    int stageable = el >= 9 && !strcmp(engine + el - 9, "MergeTree") &&
                    strncmp(engine, "Replicated", 10) != 0;
    if (!rc && (stageable || any)) {
        char id[40], name[700];
        sp_uuid4(id);
        snprintf(name, sizeof name, "%s" STAGE_MARK "%lld_%.8s%.4s", st->table,
                 (long long)time(NULL), id, id + 9);
        st->sync = !strcmp(dbengine, "Atomic");
        st->views = views > 0;
        sp_buf_reset(&q);
        rc = sp_ch_engine_add_ref(e, &q, "CREATE TABLE ", name, err);
        if (!rc)
            rc = sp_ch_engine_add_ref(e, &q, " AS ", st->table, err);
        if (!rc)
            rc = sp_ch_engine_exec(e, q.data, NULL, err);
        if (!rc && !(st->stage = strdup(name)))
            rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    }
    if (rc && !any) /* a copy's error is the statement's */
        sp_error_prefix(err, "cannot stage the load of '%s'", st->table);
    sp_buf_release(&q);
    sp_buf_release(&ans);
    return rc;
}

/* attach every partition of the staging table to the real table; when
 * materialized views read the table (an attach does not feed them), one
 * INSERT … SELECT of the staged rows instead */
static int stage_move(sp_ch_engine *e, const sp_ch_stage *st, sp_error *err)
{
    sp_buf q = SP_BUF_INIT(1 << 16), parts = SP_BUF_INIT(SP_CH_SMALL_MAX);
    int rc = 0;
    if (st->views) {
        rc = sp_ch_engine_add_ref(e, &q, "INSERT INTO ", st->table, err);
        if (!rc)
            rc = sp_ch_engine_add_ref(e, &q, " SELECT * FROM ", st->stage, err);
        if (!rc)
            rc = sp_ch_engine_exec(e, q.data, NULL, err);
        sp_buf_release(&q);
        return rc;
    }
    rc = sp_buf_adds(&q, "SELECT DISTINCT partition_id, ", err);
    if (!rc)
        rc = sp_ch_engine_from_system(e, &q, "parts", err);
    if (!rc)
        rc = sp_buf_adds(&q, " AND table = ", err);
    if (!rc)
        rc = sp_ch_quote_string(&q, st->stage, strlen(st->stage), err);
    if (!rc)
        rc = sp_buf_adds(&q, " AND active ORDER BY partition_id", err);
    if (!rc)
        rc = sp_ch_engine_exec(e, q.data, &parts, err);
    size_t moved = 0;
    for (size_t i = 0; !rc && i < parts.len;) {
        size_t n = strcspn(parts.data + i, "\n");
        sp_buf_reset(&q);
        rc = sp_ch_engine_add_ref(e, &q, "ALTER TABLE ", st->table, err);
        if (!rc)
            rc = sp_buf_adds(&q, " ATTACH PARTITION ID ", err);
        if (!rc)
            rc = sp_ch_quote_string(&q, parts.data + i, strcspn(parts.data + i, "\t"), err);
        if (!rc)
            rc = sp_ch_engine_add_ref(e, &q, " FROM ", st->stage, err);
        if (!rc)
            rc = sp_ch_engine_exec(e, q.data, NULL, err);
        moved += !rc;
        i += n + 1;
    }
    if (rc && moved)
        sp_error_prefix(err, "'%s': %zu of the load's partitions were stored, then", st->table,
                        moved);
    sp_buf_release(&q);
    sp_buf_release(&parts);
    return rc;
}

/* drop the staging table: at once (SYNC) after a load that went through;
 * after a failed one chDB may still hold the table for the abandoned
 * insert stream, and DROP … SYNC would wait for it: the database drops it
 * in the background */
void sp_ch_load_stage_release(sp_ch_engine *e, sp_ch_stage *st, int committed)
{
    if (st->stage) {
        sp_error ignore = SP_ERROR_INIT;
        sp_ch_engine_drop(e, st->stage, st->sync && committed, &ignore);
    }
    free(st->stage);
    free(st->table);
    memset(st, 0, sizeof *st);
}

/* end the open load: commit (its staging tables attached) or abandon */
int sp_ch_load_end(sp_ch_engine *e, int commit, sp_error *err)
{
    if (!e->load_ds)
        return 0;
    int rc = 0;
    if (e->ins) {
        if (commit && e->insbuf.len)
            rc = e->conn->vt->insert_push(e->conn, e->ins, e->insbuf.data, e->insbuf.len, err);
        int crc = e->conn->vt->insert_close(e->conn, e->ins, commit && !rc, rc ? NULL : err);
        rc = rc ? rc : crc;
        e->ins = NULL;
    }
    sp_buf_reset(&e->insbuf);
    /* the rejected rows first: should the rows' move fail, a retry adds
     * rejected rows twice rather than rows */
    if (commit && !rc && e->qrows.stage)
        rc = stage_move(e, &e->qrows, err);
    if (commit && !rc && e->rows.stage)
        rc = stage_move(e, &e->rows, err);
    if (rc)
        sp_error_prefix(err, "datasource '%s': append", e->load_ds);
    sp_ch_load_stage_release(e, &e->rows, commit && !rc);
    sp_ch_load_stage_release(e, &e->qrows, commit && !rc);
    free(e->load_ds);
    e->load_ds = NULL;
    return rc;
}

/* where the load of `ds` puts its rows (q = 0) or rejected rows (q = 1):
 * the load is opened, and another datasource's committed, as needed */
static int load_target(sp_ch_engine *e, const char *ds, int q, const char **out, sp_error *err)
{
    int rc = 0;
    if (e->load_ds && strcmp(e->load_ds, ds) != 0)
        rc = sp_ch_load_end(e, 1, err);
    if (!rc && !e->load_ds && !(e->load_ds = strdup(ds)))
        rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    sp_ch_stage *st = q ? &e->qrows : &e->rows;
    if (!rc && !st->table) {
        char name[600];
        snprintf(name, sizeof name, q ? "%s_quarantine" : "%s", ds);
        if (!(st->table = strdup(name)))
            rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory");
        if (!rc)
            rc = sp_ch_load_stage_create(e, st, 0, err);
    }
    *out = rc ? NULL : st->stage ? st->stage : st->table;
    return rc;
}

int sp_ch_load_flush(sp_engine *base, int commit, sp_error *err)
{
    return sp_ch_load_end((sp_ch_engine *)base, commit, err);
}

int sp_ch_load_formatted(sp_engine *base, const char *ds, const char *format,
                         const char *data, size_t len, uint64_t *rows, sp_error *err)
{
    sp_ch_engine *e = (sp_ch_engine *)base;
    const char *table = NULL;
    *rows = 0;
    int rc = load_target(e, ds, 0, &table, err);
    if (!rc && !e->rows.stage)
        rc = sp_error_set(err, SP_EUNSUPPORTED, 0,
                          "a %s load needs a MergeTree-family table", format);
    if (!rc)
        rc = sp_ch_engine_insert(e, table, format, data, len, err);
    sp_buf q = SP_BUF_INIT(1 << 16), out = SP_BUF_INIT(SP_CH_SMALL_MAX);
    if (!rc)
        rc = sp_ch_engine_add_ref(e, &q, "SELECT count() FROM ", table, err);
    if (!rc)
        rc = sp_ch_engine_exec(e, q.data, &out, err);
    if (!rc)
        *rows = strtoull(out.data ? out.data : "0", NULL, 10);
    sp_buf_release(&q);
    sp_buf_release(&out);
    if (rc)
        sp_error_prefix(err, "datasource '%s': %s", ds, format);
    return rc;
}

int sp_ch_load_replace(sp_engine *base, const char *ds, sp_error *err)
{
    sp_ch_engine *e = (sp_ch_engine *)base;
    const char *tgt = NULL;
    /* the rows' staging table, empty when nothing was appended */
    int rc = load_target(e, ds, 0, &tgt, err);
    if (!rc && !e->rows.stage)
        rc = sp_error_set(err, SP_EUNSUPPORTED, 0,
                          "datasource '%s': replace needs a MergeTree-family table", ds);
    if (rc) {
        sp_ch_load_end(e, 0, NULL);
        return rc;
    }
    if (e->ins) {
        if (e->insbuf.len)
            rc = e->conn->vt->insert_push(e->conn, e->ins, e->insbuf.data, e->insbuf.len, err);
        int crc = e->conn->vt->insert_close(e->conn, e->ins, !rc, rc ? NULL : err);
        rc = rc ? rc : crc;
        e->ins = NULL;
        sp_buf_reset(&e->insbuf);
    }
    if (!rc && e->qrows.stage)
        rc = stage_move(e, &e->qrows, err);
    /* the staging table takes the table's place; the old rows, now in the
     * staging table, are dropped with it */
    if (!rc)
        rc = sp_ch_engine_swap(e, e->rows.table, e->rows.stage, err);
    if (rc)
        sp_error_prefix(err, "datasource '%s': replace", ds);
    sp_ch_load_stage_release(e, &e->rows, !rc);
    sp_ch_load_stage_release(e, &e->qrows, !rc);
    free(e->load_ds);
    e->load_ds = NULL;
    return rc;
}

/* RowBinary rows of the load of `ds`: stream = 1, streamed into one insert
 * where the transport can (each push of chDB's insert stream costs a round
 * trip); else one insert of these rows */
static int load_rows(sp_ch_engine *e, const char *ds, const char *data, size_t len, int stream,
                     sp_error *err)
{
    const char *table = NULL;
    int rc = load_target(e, ds, 0, &table, err);
    if (!rc && (!stream || !e->conn->vt->insert_open))
        return sp_ch_engine_insert(e, table, "RowBinary", data, len, err);
    if (!rc && !e->ins) {
        sp_buf q = SP_BUF_INIT(1 << 20);
        rc = sp_ch_engine_add_ref(e, &q, "INSERT INTO ", table, err);
        if (!rc)
            rc = e->conn->vt->insert_open(e->conn, q.data, q.len, "RowBinary", &e->ins, err);
        sp_buf_release(&q);
    }
    if (!rc)
        rc = sp_buf_add(&e->insbuf, data, len, err);
    if (!rc && e->insbuf.len >= SP_CH_INS_PUSH) {
        rc = e->conn->vt->insert_push(e->conn, e->ins, e->insbuf.data, e->insbuf.len, err);
        sp_buf_reset(&e->insbuf);
    }
    return rc;
}

/* TabSeparated rows of <ds>_quarantine, in the load of `ds` */
static int load_qrows(sp_ch_engine *e, const char *ds, const char *data, size_t len, sp_error *err)
{
    const char *table = NULL;
    int rc = load_target(e, ds, 1, &table, err);
    return rc ? rc : sp_ch_engine_insert(e, table, "TabSeparated", data, len, err);
}

int sp_ch_load_append(sp_engine *base, const sp_datasource *ds, const sp_schema *s,
                      const sp_batch *b, sp_error *err)
{
    sp_ch_engine *e = (sp_ch_engine *)base;
    if (!b->nrows)
        return 0;
    sp_buf rows = SP_BUF_INIT(SP_BUF_DEFAULT_MAX);
    int rc = sp_ch_rowbin_rows(&rows, s, b, 0, b->nrows, err);
    if (!rc)
        rc = load_rows(e, ds->name, rows.data, rows.len, 1, err);
    if (rc)
        sp_error_prefix(err, "datasource '%s': append", ds->name);
    sp_buf_release(&rows);
    return rc;
}

int sp_engine_quarantine_rows(sp_buf *t, const sp_qrow *rows, size_t n, int64_t now_unix,
                              sp_error *err)
{
    char when[32];
    sp_fmt_datetime(when, now_unix ? now_unix : (int64_t)time(NULL));
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        const sp_qrow *r = &rows[i];
        rc = sp_buf_addf(t, err, "%s\t", when);
        if (!rc)
            rc = r->error ? sp_ch_escape(r->error, strlen(r->error), t, err)
                          : sp_buf_adds(t, "\\N", err);
        if (!rc)
            rc = sp_buf_addch(t, '\t', err);
        if (!rc)
            rc = r->column ? sp_ch_escape(r->column, strlen(r->column), t, err)
                           : sp_buf_adds(t, "\\N", err);
        if (!rc)
            rc = sp_buf_addf(t, err, "\t%llu\t", (unsigned long long)r->lineno);
        if (!rc && r->raw)
            rc = sp_ch_escape(r->raw, r->rawlen, t, err);
        if (!rc)
            rc = sp_buf_addch(t, '\n', err);
    }
    return rc;
}

int sp_ch_load_quarantine(sp_engine *base, const sp_datasource *ds, const sp_qrow *rows,
                          size_t n, int64_t now_unix, sp_error *err)
{
    sp_ch_engine *e = (sp_ch_engine *)base;
    if (!n)
        return 0;
    sp_buf t = SP_BUF_INIT(SP_BUF_DEFAULT_MAX);
    int rc = sp_engine_quarantine_rows(&t, rows, n, now_unix, err);
    if (!rc)
        rc = load_qrows(e, ds->name, t.data, t.len, err);
    if (rc)
        sp_error_prefix(err, "datasource '%s': quarantine", ds->name);
    sp_buf_release(&t);
    return rc;
}

/* rows that one INSERT surely makes one block of (ClickHouse cuts a block at
 * max_insert_block_size rows, 1,048,449 by default, or 256 MiB): a refused
 * value fails it whole, so it needs no staging */
#define ONE_BLOCK_ROWS 65536

int sp_ch_load_raw(sp_engine *base, const char *ds, const char *rows, size_t rowslen,
                   uint64_t nrows, const char *qrows, size_t qlen, uint64_t nqrows,
                   sp_error *err)
{
    sp_ch_engine *e = (sp_ch_engine *)base;
    int rc = sp_ch_load_end(e, 1, err); /* a load left open is its own */
    if (rc)
        return rc;
    /* one table, one block: one plain insert (the Events API's rounds
     * without rejected rows: one statement instead of staging's six) */
    if (!qlen && nrows <= ONE_BLOCK_ROWS)
        return rowslen ? sp_ch_engine_insert(e, ds, "RowBinary", rows, rowslen, err) : 0;
    if (!rowslen && nqrows <= ONE_BLOCK_ROWS) {
        char qname[600];
        snprintf(qname, sizeof qname, "%s_quarantine", ds);
        return qlen ? sp_ch_engine_insert(e, qname, "TabSeparated", qrows, qlen, err) : 0;
    }
    if (!rc && rowslen)
        rc = load_rows(e, ds, rows, rowslen, 0, err);
    if (!rc && qlen)
        rc = load_qrows(e, ds, qrows, qlen, err);
    int erc = sp_ch_load_end(e, !rc, rc ? NULL : err);
    return rc ? rc : erc;
}

/* staging tables that a dead process left (their rows were never stored):
 * an embedded engine is this process's alone, so every one; on a server,
 * those older than a day (other processes may be loading).  Copies staged
 * in `_sp_copy_*` tables before they staged as loads: every one. */
int sp_ch_load_stage_cleanup(sp_ch_engine *e, sp_error *err)
{
    sp_buf q = SP_BUF_INIT(1 << 16), names = SP_BUF_INIT(SP_CH_SMALL_MAX);
    int rc = sp_buf_adds(&q, "SELECT name, ", err);
    if (!rc)
        rc = sp_ch_engine_from_system(e, &q, "tables", err);
    if (!rc)
        rc = sp_buf_adds(&q, " AND (position(name, '" STAGE_MARK "') > 0 OR "
                             "substring(name, 1, 9) = '" OLD_COPY_PREFIX "')", err);
    if (!rc)
        rc = sp_ch_engine_exec(e, q.data, &names, err);
    int local = (e->conn->vt->flags & SP_CH_DOC_CHUNKS) != 0;
    long long now = (long long)time(NULL);
    for (size_t i = 0; !rc && i < names.len;) {
        char *line = names.data + i;
        size_t n = strcspn(line, "\n");
        i += n + 1;
        line[n] = '\0';
        char *tab = strchr(line, '\t');
        if (!tab)
            continue;
        *tab = '\0';
        const char *mark = strstr(line, STAGE_MARK);
        long long t = mark ? strtoll(mark + strlen(STAGE_MARK), NULL, 10) : 0;
        if (local || now - t > STAGE_STALE_S)
            rc = sp_ch_engine_drop(e, line, !strcmp(tab + 1, "Atomic"), err);
    }
    if (rc)
        sp_error_prefix(err, "cannot drop a dead load's staging table");
    sp_buf_release(&q);
    sp_buf_release(&names);
    return rc;
}
