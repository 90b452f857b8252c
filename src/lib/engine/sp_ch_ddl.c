/* sp_ch_ddl: the ClickHouse engine's tables from the datafiles: CREATE
 * TABLE from SCHEMA (types in ClickHouse's canonical spelling, DEFAULT,
 * CODEC), INDEXES and the ENGINE / ENGINE_* keys, the quarantine table,
 * and an existing table's columns compared with the datafile's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sp_buf.h"
#include "sp_ch_ddl.h"
#include "sp_ch_engine.h"
#include "sp_ch_load.h"
#include "sp_ch_text.h"
#include "sp_ch_tsv.h"
#include "sp_model.h"
#include "sp_type.h"
#include "sp_banned.h"

static int col_canon(const char *type, sp_buf *out, sp_error *err)
{
    sp_type *t = NULL;
    int rc = sp_type_parse(type, &t, err);
    if (!rc)
        rc = sp_type_format(t, out, err);
    sp_type_free(t);
    return rc;
}

/* " ENGINE = …" from ENGINE and ENGINE_* keys (a datasource's, or a
 * materialized pipe's that creates its target) */
int sp_ch_ddl_engine_clause(const sp_kvlist *k, sp_buf *q, sp_error *err)
{
    const char *engine = sp_kvlist_get(k, "ENGINE");
    if (!engine || !*engine)
        engine = "MergeTree";
    int rc = sp_buf_adds(q, " ENGINE = ", err);
    if (!rc && strchr(engine, '(')) {
        rc = sp_buf_adds(q, engine, err); /* written with its parameters */
    } else if (!rc) {
        rc = sp_buf_adds(q, engine, err);
        const char *ver = sp_kvlist_get(k, "ENGINE_VER");
        const char *del = sp_kvlist_get(k, "ENGINE_IS_DELETED");
        const char *sign = sp_kvlist_get(k, "ENGINE_SIGN");
        const char *version = sp_kvlist_get(k, "ENGINE_VERSION");
        const char *sum = sp_kvlist_get(k, "ENGINE_SUMMING_COLUMNS");
        if (!rc && strstr(engine, "Replacing") && ver)
            rc = sp_buf_addf(q, err, "(%s%s%s)", ver, del ? ", " : "", del ? del : "");
        else if (!rc && strstr(engine, "VersionedCollapsing") && sign && version)
            rc = sp_buf_addf(q, err, "(%s, %s)", sign, version);
        else if (!rc && strstr(engine, "Collapsing") && sign)
            rc = sp_buf_addf(q, err, "(%s)", sign);
        else if (!rc && strstr(engine, "Summing") && sum)
            rc = sp_buf_addf(q, err, "((%s))", sum);
        else if (!rc && strstr(engine, "MergeTree"))
            rc = sp_buf_adds(q, "()", err);
    }
    if (rc || !strstr(engine, "MergeTree"))
        return rc;
    static const struct {
        const char *key, *clause;
    } cl[] = {
        { "ENGINE_PARTITION_KEY", " PARTITION BY " },
        { "ENGINE_PRIMARY_KEY", " PRIMARY KEY " },
        { "ENGINE_SAMPLING_KEY", " SAMPLE BY " },
        { "ENGINE_TTL", " TTL " },
        { "ENGINE_SETTINGS", " SETTINGS " },
    };
    const char *order = sp_kvlist_get(k, "ENGINE_SORTING_KEY");
    /* ORDER BY before PRIMARY KEY; PARTITION BY first.  Keys of several
     * expressions ("a, b") need parentheses on older servers; TTL and
     * SETTINGS are lists as they are */
    for (size_t i = 0; !rc && i < 1; i++) {
        const char *v = sp_kvlist_get(k, cl[i].key);
        if (v && *v)
            rc = sp_buf_addf(q, err, strchr(v, ',') ? "%s(%s)" : "%s%s", cl[i].clause, v);
    }
    if (!rc && order && *order)
        rc = sp_buf_addf(q, err, strchr(order, ',') ? " ORDER BY (%s)" : " ORDER BY %s", order);
    else if (!rc)
        rc = sp_buf_adds(q, " ORDER BY tuple()", err);
    for (size_t i = 1; !rc && i < sizeof cl / sizeof *cl; i++) {
        const char *v = sp_kvlist_get(k, cl[i].key);
        int paren = i <= 2 && strchr(v ? v : "", ',');
        if (v && *v)
            rc = sp_buf_addf(q, err, paren ? "%s(%s)" : "%s%s", cl[i].clause, v);
    }
    return rc;
}

/* next "name\ttype" line of a layout; 0 at the end */
static int layout_next(const char **p, const char *end, sp_buf *name, sp_buf *type,
                       sp_error *err)
{
    if (*p >= end)
        return 0;
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    if (!nl)
        nl = end;
    const char *tab = memchr(*p, '\t', (size_t)(nl - *p));
    sp_buf_reset(name);
    sp_buf_reset(type);
    if (!tab)
        tab = nl;
    int rc = sp_ch_unescape(*p, (size_t)(tab - *p), name, err);
    if (!rc && tab < nl)
        rc = sp_ch_unescape(tab + 1, (size_t)(nl - tab - 1), type, err);
    *p = nl + 1;
    return rc ? rc : 1;
}

static int compare_layout(const sp_datasource *ds, const sp_buf *have, sp_error *err)
{
    const char *p = have->data, *end = have->data + have->len;
    sp_buf name = SP_BUF_INIT(1 << 20), type = SP_BUF_INIT(1 << 20);
    sp_buf a = SP_BUF_INIT(1 << 20), b = SP_BUF_INIT(1 << 20);
    int rc = 0;
    size_t i = 0;
    for (;; i++) {
        int more = layout_next(&p, end, &name, &type, err);
        if (more < 0) {
            rc = more;
            break;
        }
        if (!more)
            break;
        sp_buf_reset(&a);
        rc = col_canon(type.data ? type.data : "", &a, err);
        if (rc)
            break;
        if (i >= ds->ncols) {
            rc = sp_error_set(err, SP_EDEF, 0,
                              "datasource '%s': table has column %s %s but the datafile does not",
                              ds->name, name.data, a.data);
            break;
        }
        sp_buf_reset(&b);
        rc = col_canon(ds->cols[i].type, &b, err);
        if (rc)
            break;
        if (strcmp(name.data ? name.data : "", ds->cols[i].name) || strcmp(a.data, b.data)) {
            rc = sp_error_set(err, SP_EDEF, 0,
                              "datasource '%s': table has column %s %s but the datafile says "
                              "%s %s (column %zu)",
                              ds->name, name.data, a.data, ds->cols[i].name, b.data, i + 1);
            break;
        }
    }
    if (!rc && i < ds->ncols)
        rc = sp_error_set(err, SP_EDEF, 0,
                          "datasource '%s': table has no column %s but the datafile says so",
                          ds->name, ds->cols[i].name);
    sp_buf_release(&name);
    sp_buf_release(&type);
    sp_buf_release(&a);
    sp_buf_release(&b);
    return rc;
}

/* INDEXES >: one skipping index per line, as Tinybird writes them
 * ("name expr TYPE type GRANULARITY n", optionally "INDEX " first and a
 * trailing comma), each as ", INDEX name expr TYPE type GRANULARITY n" */
static int index_clauses(const sp_datasource *ds, sp_buf *q, sp_error *err)
{
    const sp_kv *kv = sp_kvlist_find(&ds->keys, "INDEXES");
    if (!kv)
        return 0;
    int rc = 0, lineno = kv->line;
    for (const char *p = kv->value; !rc && p && *p; lineno++) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        while (n && (p[0] == ' ' || p[0] == '\t')) {
            p++;
            n--;
        }
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r' || p[n - 1] == ','))
            n--;
        if (n >= 6 && !strncasecmp(p, "INDEX ", 6)) {
            p += 6;
            n -= 6;
        }
        if (n) {
            /* name, then expr up to " TYPE ", type up to " GRANULARITY ", n */
            const char *sp = memchr(p, ' ', n), *type = NULL, *gran = NULL;
            for (size_t i = 0; i + 6 <= n; i++)
                if (!type && !strncasecmp(p + i, " TYPE ", 6))
                    type = p + i;
            for (size_t i = 0; i + 13 <= n; i++)
                if (!strncasecmp(p + i, " GRANULARITY ", 13))
                    gran = p + i;
            int ok = sp && type && gran && sp < type && type + 6 < gran;
            for (const char *g = gran ? gran + 13 : NULL; ok && g < p + n; g++)
                ok = *g >= '0' && *g <= '9';
            ok = ok && gran + 13 < p + n;
            if (!ok) {
                char where[1200];
                sp_model_where(where, sizeof where, ds->path, ds->name,
                               kv->line ? lineno + 1 : 0, "INDEXES");
                return sp_error_set(err, SP_EDEF, 0,
                                    "%s: '%.*s' is not an index (expected: name expr TYPE type "
                                    "GRANULARITY n)",
                                    where, (int)(n > 200 ? 200 : n), p);
            }
            rc = sp_buf_adds(q, ", INDEX ", err);
            if (!rc)
                rc = sp_buf_add(q, p, n, err);
        }
        p = nl ? nl + 1 : NULL;
    }
    return rc;
}

int sp_ch_ddl_ensure(sp_engine *base, const sp_datasource *ds, sp_error *err)
{
    sp_ch_engine *e = (sp_ch_engine *)base;
    if (!ds->ncols)
        return sp_error_set(err, SP_EDEF, 0, "datasource '%s': no columns", ds->name);
    sp_buf have = SP_BUF_INIT(SP_CH_SMALL_MAX), q = SP_BUF_INIT(SP_CH_SQL_MAX);
    int rc = 0;
    if (!e->cleaned) {
        rc = sp_ch_load_stage_cleanup(e, err);
        e->cleaned = !rc;
    }
    if (!rc)
        rc = sp_ch_engine_layout(e, ds->name, &have, err);
    if (!rc && have.len == 0) {
        rc = sp_buf_adds(&q, "CREATE TABLE IF NOT EXISTS ", err);
        if (!rc)
            rc = sp_ch_engine_ref(e, &q, ds->name, err);
        if (!rc)
            rc = sp_buf_adds(&q, " (", err);
        for (size_t i = 0; !rc && i < ds->ncols; i++) {
            if (i)
                rc = sp_buf_adds(&q, ", ", err);
            if (!rc)
                rc = sp_ch_quote_ident(&q, ds->cols[i].name, err);
            if (!rc)
                rc = sp_buf_addch(&q, ' ', err);
            if (!rc)
                rc = col_canon(ds->cols[i].type, &q, err);
            /* the table's own DEFAULT (rows that materialized views and
             * copies insert get it too) and CODEC, as written */
            if (!rc && ds->cols[i].default_expr && *ds->cols[i].default_expr)
                rc = sp_buf_addf(&q, err, " DEFAULT %s", ds->cols[i].default_expr);
            if (!rc && ds->cols[i].codec && *ds->cols[i].codec)
                rc = sp_buf_addf(&q, err, " CODEC(%s)", ds->cols[i].codec);
            if (rc)
                sp_error_prefix(err, "column '%s'", ds->cols[i].name);
        }
        if (!rc)
            rc = index_clauses(ds, &q, err);
        if (!rc)
            rc = sp_buf_addch(&q, ')', err);
        if (!rc)
            rc = sp_ch_ddl_engine_clause(&ds->keys, &q, err);
        if (!rc)
            rc = sp_ch_engine_exec(e, q.data, NULL, err);
        if (rc && ds->path) /* the definition's place: its SCHEMA */
            sp_error_prefix(err, "%s:%d: SCHEMA: datasource '%s': cannot create the table",
                            ds->path, ds->schema_line > 0 ? ds->schema_line : 1, ds->name);
        else if (rc)
            sp_error_prefix(err, "datasource '%s': cannot create the table", ds->name);
    } else if (!rc) {
        rc = compare_layout(ds, &have, err);
    }
    if (!rc) {
        char qname[600];
        snprintf(qname, sizeof qname, "%s_quarantine", ds->name);
        sp_buf_reset(&q);
        rc = sp_buf_adds(&q, "CREATE TABLE IF NOT EXISTS ", err);
        if (!rc)
            rc = sp_ch_engine_ref(e, &q, qname, err);
        if (!rc)
            rc = sp_buf_adds(&q,
                             " (insertion_date DateTime, c__error Nullable(String), "
                             "c__error_column Nullable(String), c__line UInt64, c__raw String) "
                             "ENGINE = MergeTree() ORDER BY insertion_date",
                             err);
        if (!rc)
            rc = sp_ch_engine_exec(e, q.data, NULL, err);
        if (rc)
            sp_error_prefix(err, "datasource '%s': cannot create the quarantine table",
                            ds->name);
    }
    sp_buf_release(&have);
    sp_buf_release(&q);
    return rc;
}
