/* sp_check: check every pipe's SQL (sinks, endpoints, copies, materialized
 * views, plain pipes) before it runs for real.
 *
 * A throw-away database of the engine (the embedded ClickHouse's; an
 * engine without one, SINKPIPE_ENGINE=clickhouse, uses the project's server
 * and its tables, created when missing: sp_engines.h) gets the project's
 * datasources (empty tables of the same columns and engines) and its materialized views (their SQL checked against
 * their target's columns), and each pipe's SQL — rendered with its template defaults —
 * is run as `SELECT * FROM (<sql>) LIMIT 0`: unknown tables, columns and
 * functions are found at `check` time, not at 3 AM.  Nothing is written and
 * the project's own database is not touched.  Templates render in
 * Tinybird's test mode (sp_template SP_TEMPLATE_CHECK): a parameter takes
 * its default, else a placeholder of its type; a pipe whose SQL still needs
 * a request (column() without default) is skipped. */
#include <stdio.h>
#include <string.h>

#include "sp_engine.h"
#include "sp_engines.h"
#include "sp_env.h"
#include "sp_error.h"
#include "sp_keys_env.h"
#include "sp_render.h"
#include "sp_banned.h"

int sp_project_check_queries(sp_project *p, sp_error *err)
{
    sp_engine *e = NULL;
    const sp_env *env = NULL;
    int rc = sp_project_env(p, &env, err);
    if (rc)
        return rc;
    /* the engine's scratch database, or (an engine without one: a server)
     * the project's engine, where the SQL will run for real and whose
     * missing tables this creates (deploy) */
    const sp_engine_backend *b = NULL;
    rc = sp_engine_backend_for(env, &b, err);
    if (rc)
        return rc;
    int shared = !b->open_scratch;
    if (shared) {
        rc = sp_project_engine(p, &e, err);
        if (rc)
            return rc;
    } else {
        rc = b->open_scratch(env, &e, err);
        if (rc)
            return rc;
        for (size_t i = 0; i < p->ndss && !rc; i++)
            rc = e->vt->ensure_datasource(e, p->dss[i], err);
        if (!rc)
            rc = sp_project_ensure_views(p, e, err);
        if (rc) {
            e->vt->close(e);
            return rc;
        }
    }
    int bad = 0;
    for (size_t i = 0; i < p->npipes; i++) {
        const sp_pipe *pipe = p->pipes[i];
        if (pipe->nnodes == 0)
            continue;
        sp_error perr = SP_ERROR_INIT;
        sp_buf sql = SP_BUF_INIT(64u << 20);
        if (sp_pipe_render_sql_ex(p, pipe, NULL, 0, SP_TEMPLATE_CHECK, NULL, &sql, &perr) != 0) {
            /* rendered as Tinybird checks a pipe: defaults, else
             * placeholders; what still needs a request (column() without
             * default) is skipped */
            if (perr.code != SP_EPARAM) {
                sp_project_add_diag_at(p, perr.path[0] ? perr.path : NULL, perr.line,
                                       perr.key[0] ? perr.key : NULL, perr.code, perr.msg);
                bad++;
            }
            sp_buf_release(&sql);
            continue;
        }
        sp_buf q = SP_BUF_INIT(64u << 20);
        int qrc = sp_buf_addf(&q, &perr, "SELECT * FROM (\n%s\n) AS __sp_check LIMIT 0",
                              sql.data ? sql.data : "");
        sp_query_opts o = { 0 };
        o.now_unix = 1;
        sp_query_stats st = { 0, 0, 0 };
        if (!qrc)
            qrc = e->vt->query(e, q.data, &o, sp_discard_schema, sp_discard_batch, NULL, &st, &perr);
        if (qrc) {
            long k = pipe->nnodes > 1
                         ? sp_pipe_failing_node_ex(e, p, pipe, NULL, 0, SP_TEMPLATE_CHECK, 1)
                         : -1;
            const sp_node *last = &pipe->nodes[k >= 0 ? (size_t)k : pipe->nnodes - 1];
            sp_where where;
            sp_where_at(&where, pipe->path, pipe->name, last->sql_line, "SQL");
            char line[sizeof where.text + sizeof perr.msg + 4];
            snprintf(line, sizeof line, "%s: %s", where.text, perr.msg);
            sp_project_add_diag_at(p, where.path, where.line, where.key, perr.code, line);
            bad++;
        }
        sp_buf_release(&q);
        sp_buf_release(&sql);
    }
    if (!shared)
        e->vt->close(e);
    if (bad)
        return sp_error_set(err, SP_EDEF, 0, "%d pipe%s with SQL errors", bad,
                            bad == 1 ? "" : "s");
    return 0;
}

int sp_project_check_all(sp_project *p, int rc, sp_error *err)
{
    if (sp_project_check_secrets(p, err) && !rc)
        rc = SP_EDEF;
    if (!rc && sp_project_check_queries(p, err))
        rc = SP_EDEF;
    if (!rc && sp_project_check_kafka(p, err))
        rc = SP_EDEF;
    if (!rc && sp_project_check_s3(p, err))
        rc = SP_EDEF;
    return rc;
}
