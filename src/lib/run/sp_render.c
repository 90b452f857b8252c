/* sp_render: a pipe's SQL as the engine runs it — every node's template
 * rendered with the run's parameters, the nodes composed into one
 * statement, other pipes read as tables inlined — and the search for the
 * node ClickHouse refuses.  Shared by runs, loads (materialized views,
 * copies), endpoints, ad-hoc queries and `check`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_buf.h"
#include "sp_engine.h"
#include "sp_error.h"
#include "sp_model.h"
#include "sp_render.h"
#include "sp_sql.h"
#include "sp_template.h"
#include "sp_banned.h"

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
            return sp_error_set_pipe(err, nm, SP_EDEF, 0,
                                     "pipe '%s' reads itself through other pipes (%s)", nm,
                                     path);
        }
    if (x->chain->depth >= PIPE_DEPTH_MAX)
        return sp_error_set_pipe(err, x->pipe->name, SP_EDEF, 0,
                                 "pipe '%s': pipes read pipes more than %d deep", x->pipe->name,
                                 PIPE_DEPTH_MAX);
    if (other->nnodes == 0)
        return sp_error_set_pipe(err, x->pipe->name, SP_EDEF, 0,
                                 "pipe '%s' reads pipe '%s', which has no node", x->pipe->name,
                                 nm);
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
        return sp_error_set_pipe(err, pipe->name, SP_EDEF, 0,
                                 "pipe '%s': pipes read pipes more than %d deep", pipe->name,
                                 PIPE_DEPTH_MAX);
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
            sp_where where;
            sp_where_at(&where, pipe->path, pipe->name, n->sql_line, "SQL");
            rc = sp_template_render_ex(n->sql, params, nparams, where.text, tflags, &b, st,
                                       err);
            if (rc)
                sp_error_locate(err, where.path, where.line, where.key);
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
                sp_where where;
                sp_where_at(&where, pipe->path, pipe->name, n->sql_line, "SQL");
                sp_error_prefix(err, "%s", where.text);
                sp_error_locate(err, where.path, where.line, where.key);
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
