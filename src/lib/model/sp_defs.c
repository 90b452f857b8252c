/* sp_defs: the storage of definitions, below everything else in model/:
 * key lists, the "path:line: KEY" locator, the *_free functions and the
 * name accessors of connections, datasources and pipes (declared in
 * sp_model.h and sinkpipe.h).  The key table (sp_keys), the validators
 * (sp_model), the parser (sp_datafile), the C constructors (sp_sdk) and the
 * project (sp_project) build on it; it calls none of them. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_error.h"
#include "sp_model.h"
#include "sp_banned.h"

/* ------------------------------------------------------------- kvlist */

int sp_kvlist_add(sp_kvlist *l, const char *key, const char *value, int line)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        sp_kv *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return SP_ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    char *k = strdup(key), *val = strdup(value ? value : "");
    if (!k || !val) {
        free(k);
        free(val);
        return SP_ENOMEM;
    }
    l->v[l->n++] = (sp_kv){ k, val, line };
    return 0;
}

int sp_kvlist_set(sp_kvlist *l, const char *key, const char *value, int line)
{
    for (size_t i = 0; i < l->n; i++) {
        if (strcmp(l->v[i].key, key) == 0) {
            char *val = strdup(value ? value : "");
            if (!val)
                return SP_ENOMEM;
            free(l->v[i].value);
            l->v[i].value = val;
            l->v[i].line = line;
            return 0;
        }
    }
    return sp_kvlist_add(l, key, value, line);
}

const sp_kv *sp_kvlist_find(const sp_kvlist *l, const char *key)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].key, key) == 0)
            return &l->v[i];
    return NULL;
}

const char *sp_kvlist_get(const sp_kvlist *l, const char *key)
{
    const sp_kv *kv = sp_kvlist_find(l, key);
    return kv ? kv->value : NULL;
}

void sp_kvlist_remove(sp_kvlist *l, const char *key)
{
    for (size_t i = 0; i < l->n; i++) {
        if (strcmp(l->v[i].key, key) == 0) {
            free(l->v[i].key);
            free(l->v[i].value);
            memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof l->v[0]);
            l->n--;
            return;
        }
    }
}

void sp_kvlist_release(sp_kvlist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].key);
        free(l->v[i].value);
    }
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

void sp_model_where(char *buf, size_t n, const char *path, const char *name, int line,
                    const char *key)
{
    const char *sep = key && *key ? ": " : "";
    if (!key)
        key = "";
    if (path && line <= 0) /* something missing from the file: its first line */
        line = 1;
    if (path && line > 0)
        snprintf(buf, n, "%s:%d%s%s", path, line, sep, key);
    else if (path)
        snprintf(buf, n, "%s%s%s", path, sep, key);
    else
        snprintf(buf, n, "%s%s%s", name ? name : "?", sep, key);
}

void sp_where_at(sp_where *w, const char *path, const char *name, int line, const char *key)
{
    sp_model_where(w->text, sizeof w->text, path, name, line, key);
    w->path = path;
    w->line = path && line <= 0 ? 1 : line;
    w->key = key;
}

int sp_where_vset(sp_error *err, const sp_where *w, int code, const char *fmt, va_list ap)
{
    if (!err || err->code)
        return code;
    char reason[4 * sizeof err->msg];
    vsnprintf(reason, sizeof reason, fmt, ap);
    sp_error_set(err, code, 0, "%s: %s", w->text, reason);
    sp_error_locate(err, w->path, w->line, w->key);
    return code;
}

int sp_where_set(sp_error *err, const sp_where *w, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sp_where_vset(err, w, code, fmt, ap);
    va_end(ap);
    return code;
}

/* ------------------------------------------------------------ lifecycle */

void sp_token_defs_free(sp_token *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(t[i].name);
        free(t[i].scope);
    }
    free(t);
}

void sp_connection_free(sp_connection *c)
{
    if (!c)
        return;
    free(c->name);
    free(c->path);
    sp_kvlist_release(&c->keys);
    free(c);
}

void sp_pipe_free(sp_pipe *p)
{
    if (!p)
        return;
    free(p->name);
    free(p->path);
    free(p->description);
    for (size_t i = 0; i < p->nnodes; i++) {
        free(p->nodes[i].name);
        free(p->nodes[i].description);
        free(p->nodes[i].sql);
    }
    free(p->nodes);
    sp_kvlist_release(&p->keys);
    sp_token_defs_free(p->tokens, p->ntokens);
    free(p);
}

void sp_datasource_free(sp_datasource *d)
{
    if (!d)
        return;
    free(d->name);
    free(d->path);
    free(d->description);
    for (size_t i = 0; i < d->ncols; i++) {
        free(d->cols[i].name);
        free(d->cols[i].type);
        free(d->cols[i].jsonpath);
        free(d->cols[i].default_expr);
        free(d->cols[i].codec);
    }
    free(d->cols);
    sp_kvlist_release(&d->keys);
    sp_token_defs_free(d->tokens, d->ntokens);
    free(d);
}

/* ------------------------------------------------------------ accessors */

const char *sp_pipe_name(const sp_pipe *p)
{
    return p->name;
}

const char *sp_datasource_name(const sp_datasource *d)
{
    return d->name;
}

const char *sp_connection_name(const sp_connection *c)
{
    return c->name;
}
