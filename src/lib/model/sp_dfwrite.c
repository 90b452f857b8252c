/* sp_dfwrite: definitions back to datafiles, byte for byte what
 * `tinybird generate` (@tinybirdco/sdk 0.0.84) writes: 4-space indented
 * blocks, values unquoted (ENGINE keys quoted), sections separated by one
 * blank line, no trailing newline. */
#include <string.h>

#include "sp_error.h"
#include "sp_keys.h"
#include "sp_model.h"
#include "sp_banned.h"

/* nl: a newline before everything but the first line */
static int nl(sp_buf *o, sp_error *err)
{
    return o->len ? sp_buf_addch(o, '\n', err) : 0;
}

/* block: `KEY >` then every line of body indented by 4 spaces */
static int block(sp_buf *o, const char *key, const char *body, sp_error *err)
{
    int rc = nl(o, err);
    rc = rc ? rc : sp_buf_addf(o, err, "%s >", key);
    const char *s = body ? body : "";
    while (!rc) {
        size_t n = strcspn(s, "\n");
        rc = sp_buf_addf(o, err, "\n    %.*s", (int)n, s);
        if (!s[n])
            break;
        s += n + 1;
    }
    return rc;
}

/* indented: append s with every line after the first indented by 4 spaces,
 * so that a value spanning lines stays inside its block */
static int indented(sp_buf *o, const char *s, sp_error *err)
{
    int rc = 0;
    for (;;) {
        size_t n = strcspn(s, "\n");
        rc = sp_buf_add(o, s, n, err);
        if (rc || !s[n])
            return rc;
        if ((rc = sp_buf_adds(o, "\n    ", err)))
            return rc;
        s += n + 1;
    }
}

/* column_name: bare when it is a plain identifier, else in backticks (the
 * parser reads a backticked name up to the next backtick) */
static int column_name(sp_buf *o, const char *name, sp_error *err)
{
    int plain = *name != '\0';
    for (const char *p = name; *p && plain; p++)
        plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                (*p >= '0' && *p <= '9') || *p == '_' || (*p & 0x80) || *p == '`';
    if (plain)
        return sp_buf_adds(o, name, err);
    int rc = sp_buf_addch(o, '`', err);
    rc = rc ? rc : indented(o, name, err);
    return rc ? rc : sp_buf_addch(o, '`', err);
}

static int kv_line(sp_buf *o, const sp_keydef *d, const char *key, const char *value,
                   sp_error *err)
{
    if ((d && (d->flags & SP_K_BLOCK)) || strchr(value, '\n'))
        return block(o, key, value, err);
    int rc = nl(o, err);
    if (rc)
        return rc;
    if (d && (d->flags & SP_K_QUOTE) && !(strcmp(key, "ENGINE") == 0 && strcmp(value, "Null") == 0))
        return sp_buf_addf(o, err, "%s \"%s\"", key, value);
    /* the parser strips surrounding blanks and one pair of matching quotes:
     * quote a value that would lose either */
    size_t n = strlen(value);
    if (n && (value[0] == ' ' || value[0] == '\t' || value[n - 1] == ' ' ||
              value[n - 1] == '\t' ||
              (n >= 2 && (value[0] == '"' || value[0] == '\'') && value[n - 1] == value[0])))
        return sp_buf_addf(o, err, "%s \"%s\"", key, value);
    return sp_buf_addf(o, err, "%s %s", key, value);
}

/* keys_in_group: write the keys of l that belong to group g of t, in table
 * order (aliases written under their canonical name); *first: a blank line
 * is due before the first one */
static int keys_in_group(sp_buf *o, const sp_keytable *t, const sp_kvlist *l, int g,
                         int blank_first, sp_error *err)
{
    int rc = 0, wrote = 0;
    for (size_t k = 0; k < t->n && !rc; k++) {
        const sp_keydef *d = &t->keys[k];
        if (d->group != g || d->alias_of)
            continue;
        for (size_t i = 0; i < l->n && !rc; i++) {
            const sp_kv *kv = &l->v[i];
            if (strcmp(sp_keys_canonical(t, kv->key), d->key) != 0)
                continue;
            if (!wrote && blank_first && o->len)
                rc = sp_buf_addch(o, '\n', err);
            wrote = 1;
            const char *v = kv->value;
            if (strcmp(d->key, "EXPORT_STRATEGY") == 0 && strcmp(v, "truncate") == 0)
                v = "replace";
            if (!rc)
                rc = kv_line(o, d, d->key, v, err);
        }
    }
    return rc;
}

static int tokens(sp_buf *o, const sp_token *t, size_t n, sp_error *err)
{
    int rc = 0;
    if (n && o->len)
        rc = sp_buf_addch(o, '\n', err);
    for (size_t i = 0; i < n && !rc; i++) {
        rc = nl(o, err);
        rc = rc ? rc : sp_buf_addf(o, err, "TOKEN %s %s", t[i].name, t[i].scope);
    }
    return rc;
}

static const char *conn_type_name(sp_conn_type t)
{
    return t == SP_CONN_KAFKA ? "kafka" : t == SP_CONN_S3 ? "s3" : "gcs";
}

int sp_connection_write(const sp_connection *c, sp_buf *out, sp_error *err)
{
    const sp_keytable *t = sp_keys_for_conn(c->type);
    int rc = nl(out, err);
    rc = rc ? rc : sp_buf_addf(out, err, "TYPE %s", conn_type_name(c->type));
    for (size_t i = 0; i < c->keys.n && !rc; i++)
        rc = kv_line(out, sp_keys_find(t, c->keys.v[i].key), c->keys.v[i].key,
                     c->keys.v[i].value, err);
    return rc;
}

int sp_datasource_write(const sp_datasource *d, sp_buf *out, sp_error *err)
{
    const sp_keytable *t = &sp_keys_datasource;
    int rc = 0;
    if (d->description && *d->description) {
        rc = block(out, "DESCRIPTION", d->description, err);
        rc = rc ? rc : sp_buf_addch(out, '\n', err);
    }
    rc = rc ? rc : nl(out, err);
    rc = rc ? rc : sp_buf_adds(out, "SCHEMA >", err);
    for (size_t i = 0; i < d->ncols && !rc; i++) {
        const sp_column_def *c = &d->cols[i];
        /* a field may span lines (a type or expression written over
         * several): continuation lines stay indented inside the block */
        rc = sp_buf_adds(out, "\n    ", err);
        rc = rc ? rc : column_name(out, c->name, err);
        rc = rc ? rc : sp_buf_addch(out, ' ', err);
        rc = rc ? rc : indented(out, c->type, err);
        rc = rc ? rc : sp_buf_adds(out, c->jsonpath ? " `json:" : " `json:$.", err);
        rc = rc ? rc : indented(out, c->jsonpath ? c->jsonpath : c->name, err);
        rc = rc ? rc : sp_buf_addch(out, '`', err);
        if (!rc && c->default_expr) {
            rc = sp_buf_adds(out, " DEFAULT ", err);
            rc = rc ? rc : indented(out, c->default_expr, err);
        }
        if (!rc && c->codec) {
            rc = sp_buf_adds(out, " CODEC(", err);
            rc = rc ? rc : indented(out, c->codec, err);
            rc = rc ? rc : sp_buf_addch(out, ')', err);
        }
        if (!rc && i + 1 < d->ncols)
            rc = sp_buf_addch(out, ',', err);
    }
    rc = rc ? rc : sp_buf_addch(out, '\n', err);
    if (!rc && !sp_kvlist_find(&d->keys, "ENGINE"))
        rc = kv_line(out, sp_keys_find(t, "ENGINE"), "ENGINE", "MergeTree", err);
    rc = rc ? rc : keys_in_group(out, t, &d->keys, 1, 0, err);
    for (int g = 2; g <= 6 && !rc; g++)
        rc = keys_in_group(out, t, &d->keys, g, 1, err);
    rc = rc ? rc : tokens(out, d->tokens, d->ntokens, err);
    rc = rc ? rc : keys_in_group(out, t, &d->keys, 8, 1, err);
    return rc;
}

static const char *pipe_type_name(sp_pipe_type t)
{
    switch (t) {
    case SP_PIPE_SINK: return "sink";
    case SP_PIPE_ENDPOINT: return "endpoint";
    case SP_PIPE_COPY: return "COPY";
    case SP_PIPE_MATERIALIZED: return "MATERIALIZED";
    case SP_PIPE_DEFAULT: break;
    }
    return NULL;
}

int sp_pipe_write(const sp_pipe *p, sp_buf *out, sp_error *err)
{
    int rc = 0;
    if (p->description && *p->description) {
        rc = block(out, "DESCRIPTION", p->description, err);
        rc = rc ? rc : sp_buf_addch(out, '\n', err);
    }
    for (size_t i = 0; i < p->nnodes && !rc; i++) {
        const sp_node *n = &p->nodes[i];
        if (i > 0)
            rc = sp_buf_addch(out, '\n', err);
        rc = rc ? rc : nl(out, err);
        rc = rc ? rc : sp_buf_addf(out, err, "NODE %s", n->name);
        if (!rc && n->description && *n->description)
            rc = block(out, "DESCRIPTION", n->description, err);
        if (rc)
            break;
        if (n->templated) {
            size_t len = strlen(n->sql ? n->sql : "");
            char *sql = NULL;
            sp_buf tmp = SP_BUF_INIT(SP_BUF_DEFAULT_MAX);
            rc = sp_buf_adds(&tmp, "%", err);
            rc = rc ? rc : (len ? sp_buf_addch(&tmp, '\n', err) : 0);
            rc = rc ? rc : sp_buf_add(&tmp, n->sql ? n->sql : "", len, err);
            sql = tmp.data;
            rc = rc ? rc : block(out, "SQL", sql, err);
            sp_buf_release(&tmp);
        } else {
            rc = block(out, "SQL", n->sql, err);
        }
    }
    const char *tn = pipe_type_name(p->type);
    if (!rc && (tn || p->keys.n)) {
        if (out->len)
            rc = sp_buf_addch(out, '\n', err);
        if (!rc && tn) {
            rc = nl(out, err);
            rc = rc ? rc : sp_buf_addf(out, err, "TYPE %s", tn);
        }
        rc = rc ? rc : keys_in_group(out, &sp_keys_pipe, &p->keys, 0, 0, err);
    }
    rc = rc ? rc : tokens(out, p->tokens, p->ntokens, err);
    return rc;
}
