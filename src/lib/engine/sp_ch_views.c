/* sp_ch_views: the ClickHouse engine's materialized views: one view per
 * materialized pipe (its name a hash of target and SQL, so a changed
 * definition is a new view), stale ones dropped, new ones checked against
 * their target and populated when the target was empty. */
#include <stdlib.h>
#include <string.h>

#include "sp_buf.h"
#include "sp_ch_ddl.h"
#include "sp_ch_engine.h"
#include "sp_ch_views.h"
#include "sp_banned.h"

#define MV_PREFIX "_sp_mv_"

/* the view of a pipe: _sp_mv_<pipe>_<hash of target and SQL>, so a changed
 * definition is a new name */
static int mv_name(const sp_mview *v, sp_buf *out, sp_error *err)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *c = v->target; *c; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211ULL;
    h = (h ^ '\n') * 1099511628211ULL;
    for (const char *c = v->sql; *c; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211ULL;
    return sp_buf_addf(out, err, MV_PREFIX "%s_%012llx", v->pipe,
                       (unsigned long long)(h & 0xffffffffffffULL));
}

/* 1 when `line` (a name from the listing) is a view of pipe (any version) */
static int mv_of(const char *name, const char *pipe)
{
    size_t pl = strlen(pipe), ml = strlen(MV_PREFIX);
    return !strncmp(name, MV_PREFIX, ml) && !strncmp(name + ml, pipe, pl) &&
           name[ml + pl] == '_' && strlen(name + ml + pl + 1) == 12;
}

/* the output columns of v's SQL ("name\ttype\t…" lines), checked as pipe
 * SQL is (one reading statement, no external access: it runs on every
 * insert) */
static int mv_describe(sp_ch_engine *e, const sp_mview *v, sp_buf *desc, sp_error *err)
{
    int rc = sp_ch_engine_describe(e, v->sql, strlen(v->sql), desc, err);
    if (rc)
        sp_error_prefix(err, "%s: SQL", v->where);
    return rc;
}

/* every output column of v's SQL (desc) is a column of its target */
static int mv_check_columns(sp_ch_engine *e, const sp_mview *v, const sp_buf *desc,
                            sp_error *err)
{
    sp_buf have = SP_BUF_INIT(SP_CH_SMALL_MAX);
    int rc = sp_ch_engine_layout(e, v->target, &have, err);
    if (!rc && have.len == 0)
        rc = sp_error_set(err, SP_EDEF, 0, "%s: DATASOURCE: datasource '%s' does not exist",
                          v->where, v->target);
    const char *p = desc->data ? desc->data : "", *end = p + desc->len;
    while (!rc && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *tab = memchr(p, '\t', (size_t)((nl ? nl : end) - p));
        size_t n = (size_t)((tab ? tab : nl ? nl : end) - p);
        int found = 0;
        const char *h = have.data ? have.data : "", *hend = h + have.len;
        while (h < hend && !found) {
            const char *hn = memchr(h, '\t', (size_t)(hend - h));
            if (!hn)
                break;
            found = (size_t)(hn - h) == n && !memcmp(h, p, n);
            const char *nx = memchr(hn, '\n', (size_t)(hend - hn));
            h = nx ? nx + 1 : hend;
        }
        if (!found)
            rc = sp_error_set(err, SP_EDEF, 0,
                              "%s: SQL: column '%.*s' is not a column of datasource '%s'",
                              v->where, (int)n, p, v->target);
        p = nl ? nl + 1 : end;
    }
    sp_buf_release(&have);
    return rc;
}

/* INSERT INTO target (columns of the SQL) SELECT … : a new view's rows from
 * what the tables it reads already hold */
static int mv_populate(sp_ch_engine *e, const sp_mview *v, const sp_buf *desc, sp_error *err)
{
    int rc = sp_ch_engine_insert_select(e, v->target, desc, v->sql, strlen(v->sql), NULL, NULL,
                                        err);
    if (rc)
        sp_error_prefix(err, "%s: populating datasource '%s'", v->where, v->target);
    return rc;
}

int sp_ch_views_ensure(sp_engine *base, const sp_mview *v, size_t n, sp_error *err)
{
    sp_ch_engine *e = (sp_ch_engine *)base;
    sp_buf list = SP_BUF_INIT(SP_CH_SMALL_MAX), q = SP_BUF_INIT(SP_CH_SQL_MAX);
    sp_buf name = SP_BUF_INIT(4096);
    int rc = sp_buf_adds(&q, "SELECT name FROM system.tables WHERE database = ", err);
    if (!rc)
        rc = sp_ch_engine_db_name(e, &q, err);
    if (!rc)
        rc = sp_buf_adds(&q, " AND substring(name, 1, 7) = '" MV_PREFIX "'", err);
    if (!rc)
        rc = sp_ch_engine_exec(e, q.data, &list, err);
    /* the listing as NUL-separated names */
    for (size_t i = 0; !rc && i < list.len; i++)
        if (list.data[i] == '\n')
            list.data[i] = '\0';
    const char *lend = list.data ? list.data + list.len : NULL;
    /* drop what is no longer wanted: stale versions and removed pipes */
    for (const char *l = list.data; !rc && l && l < lend; l += strlen(l) + 1) {
        int keep = 0;
        for (size_t i = 0; i < n && !keep && !rc; i++) {
            sp_buf_reset(&name);
            rc = mv_name(&v[i], &name, err);
            keep = !rc && !strcmp(name.data, l);
        }
        if (rc || keep || !*l)
            continue;
        rc = sp_ch_engine_drop(e, l, 0, err);
    }
    /* a new view is populated when its target held no rows before this
     * pass (so a re-created view never counts rows twice, and several new
     * views into one new target all populate) */
    unsigned char *empty = calloc(n ? n : 1, 1);
    if (!rc && !empty)
        rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    for (size_t i = 0; i < n && !rc; i++) {
        sp_buf cnt = SP_BUF_INIT(SP_CH_SMALL_MAX);
        sp_buf_reset(&q);
        rc = sp_buf_adds(&q, "SELECT count() FROM (SELECT 1 FROM ", err);
        if (!rc)
            rc = sp_ch_engine_ref(e, &q, v[i].target, err);
        if (!rc)
            rc = sp_buf_adds(&q, " LIMIT 1)", err);
        /* a target that does not exist is the DATASOURCE error below */
        sp_error cerr = SP_ERROR_INIT;
        if (!rc && sp_ch_engine_exec(e, q.data, &cnt, &cerr) == 0)
            empty[i] = cnt.data && cnt.data[0] == '0';
        sp_buf_release(&cnt);
    }
    for (size_t i = 0; i < n && !rc; i++) {
        sp_buf_reset(&name);
        rc = mv_name(&v[i], &name, err);
        int exists = 0, earlier = 0;
        for (const char *l = list.data; !rc && l && l < lend; l += strlen(l) + 1) {
            if (!strcmp(l, name.data))
                exists = 1;
            else if (mv_of(l, v[i].pipe))
                earlier = 1;
        }
        if (rc || exists)
            continue;
        sp_buf desc = SP_BUF_INIT(SP_CH_SMALL_MAX);
        rc = mv_describe(e, &v[i], &desc, err);
        if (!rc && v[i].engine_keys) {
            /* the older form: the pipe's ENGINE keys make the target, with
             * the columns of its SQL, when it does not exist yet */
            sp_buf have = SP_BUF_INIT(SP_CH_SMALL_MAX);
            rc = sp_ch_engine_layout(e, v[i].target, &have, err);
            if (!rc && have.len == 0) {
                sp_buf_reset(&q);
                rc = sp_buf_adds(&q, "CREATE TABLE IF NOT EXISTS ", err);
                if (!rc)
                    rc = sp_ch_engine_ref(e, &q, v[i].target, err);
                if (!rc)
                    rc = sp_ch_ddl_engine_clause(v[i].engine_keys, &q, err);
                if (!rc)
                    rc = sp_buf_addf(&q, err, " AS SELECT * FROM (%s\n) LIMIT 0", v[i].sql);
                if (!rc && (rc = sp_ch_engine_exec(e, q.data, NULL, err)) != 0)
                    sp_error_prefix(err, "%s: cannot create datasource '%s' from the pipe's "
                                         "ENGINE keys",
                                    v[i].where, v[i].target);
                if (!rc)
                    empty[i] = 1;
            }
            sp_buf_release(&have);
        }
        if (!rc)
            rc = mv_check_columns(e, &v[i], &desc, err);
        sp_buf_reset(&q);
        if (!rc)
            rc = sp_buf_adds(&q, "CREATE MATERIALIZED VIEW IF NOT EXISTS ", err);
        if (!rc)
            rc = sp_ch_engine_ref(e, &q, name.data, err);
        if (!rc)
            rc = sp_buf_adds(&q, " TO ", err);
        if (!rc)
            rc = sp_ch_engine_ref(e, &q, v[i].target, err);
        if (!rc)
            rc = sp_buf_addf(&q, err, " AS %s", v[i].sql);
        if (!rc) {
            rc = sp_ch_engine_exec(e, q.data, NULL, err);
            if (rc)
                sp_error_prefix(err, "%s: cannot create the materialized view", v[i].where);
        }
        if (!rc && !earlier && empty[i])
            rc = mv_populate(e, &v[i], &desc, err);
        sp_buf_release(&desc);
    }
    free(empty);
    sp_buf_release(&list);
    sp_buf_release(&q);
    sp_buf_release(&name);
    return rc;
}
