/* sp_ingest_colbuf: column builders of the ingest batches (see
 * sp_ingest_int.h): typed value arrays, NULL flags, list offsets and
 * children, grown by doubling and truncated to roll a failed row back. */
#include <stdlib.h>
#include <string.h>

#include "sp_error.h"
#include "sp_ingest_int.h"
#include "sp_ch_escape.h"
#include "sp_banned.h"

#define SP_ENOMEM_SET(err) sp_error_set((err), SP_ENOMEM, 0, "out of memory")

/* ---------------------------------------------------------- builders */

static sp__storage storage_of(sp_kind k)
{
    switch (k) {
    case SP_T_BOOL: case SP_T_UINT8: case SP_T_UINT16: case SP_T_UINT32: case SP_T_UINT64:
        return SP__ST_U64;
    case SP_T_INT8: case SP_T_INT16: case SP_T_INT32: case SP_T_INT64:
    case SP_T_DATE: case SP_T_DATE32: case SP_T_DATETIME: case SP_T_DATETIME64:
        return SP__ST_I64;
    case SP_T_FLOAT32: case SP_T_FLOAT64:
        return SP__ST_F64;
    case SP_T_ARRAY: case SP_T_MAP:
        return SP__ST_LIST;
    case SP_T_TUPLE:
        return SP__ST_TUPLE;
    default:
        return SP__ST_STR;
    }
}

size_t sp__colbuf_elem_size(const sp__colbuf *cb)
{
    switch (cb->st) {
    case SP__ST_STR: return sizeof(sp_str);
    case SP__ST_LIST: case SP__ST_TUPLE: return 0;
    default: return 8;
    }
}

/* enum body: 'a' = 1, 'b' = 2 */
static int parse_enum(sp__colbuf *cb, const char *body, sp_error *err)
{
    const char *s = body;
    while (*s) {
        while (*s == ' ' || *s == ',' || *s == '\n' || *s == '\t')
            s++;
        if (!*s)
            break;
        if (*s != '\'')
            return 0; /* not understood: no validation */
        sp_buf name = SP_BUF_INIT(4096);
        int rc = sp_ch_unquote(&s, s + strlen(s), &name, NULL);
        if (rc) {
            sp_buf_release(&name);
            return rc == SP_EDATA ? 0 : SP_ENOMEM_SET(err); /* unterminated: no validation */
        }
        while (*s == ' ' || *s == '=')
            s++;
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s)
            v = (long)cb->nenum + 1;
        s = end;
        char **nn = realloc(cb->enum_names, (cb->nenum + 1) * sizeof(*nn));
        long *nv = nn ? realloc(cb->enum_vals, (cb->nenum + 1) * sizeof(*nv)) : NULL;
        if (nn)
            cb->enum_names = nn;
        if (nv)
            cb->enum_vals = nv;
        char *str = nv ? sp_buf_detach(&name) : NULL;
        if (!str) {
            sp_buf_release(&name);
            return SP_ENOMEM_SET(err);
        }
        cb->enum_names[cb->nenum] = str;
        cb->enum_vals[cb->nenum] = v;
        cb->nenum++;
    }
    return 0;
}

int sp__colbuf_init(sp__colbuf *cb, const sp_type *t, sp_error *err)
{
    memset(cb, 0, sizeof(*cb));
    cb->type = t;
    cb->st = storage_of(t->kind);
    sp_buf tn = SP_BUF_INIT(4096);
    int rc = sp_type_format(t, &tn, err);
    if (rc)
        return rc;
    cb->tname = sp_buf_detach(&tn);
    if (!cb->tname)
        return SP_ENOMEM_SET(err);
    if (t->kind == SP_T_NOTHING)
        return sp_error_set(err, SP_EUNSUPPORTED, 0, "type '%s' cannot be stored", cb->tname);
    if ((t->kind == SP_T_ENUM8 || t->kind == SP_T_ENUM16) && t->enum_body)
        if ((rc = parse_enum(cb, t->enum_body, err)))
            return rc;
    const sp_type *kids[2];
    const sp_type *const *kv = kids;
    if (t->kind == SP_T_ARRAY) {
        kids[0] = t->elem;
        cb->nchild = 1;
    } else if (t->kind == SP_T_MAP) {
        kids[0] = t->key;
        kids[1] = t->elem;
        cb->nchild = 2;
    } else if (t->kind == SP_T_TUPLE) {
        kv = (const sp_type *const *)t->elems;
        cb->nchild = t->nelems;
    }
    if (cb->nchild) {
        cb->child = calloc(cb->nchild, sizeof(*cb->child));
        cb->childcols = calloc(cb->nchild, sizeof(*cb->childcols));
        if (!cb->child || !cb->childcols)
            return SP_ENOMEM_SET(err);
        for (size_t i = 0; i < cb->nchild; i++) {
            if (!kv[i])
                return sp_error_set(err, SP_EINTERNAL, 0, "type '%s' lacks an element type",
                                    cb->tname);
            if ((rc = sp__colbuf_init(&cb->child[i], kv[i], err)))
                return rc;
        }
    }
    if (cb->st == SP__ST_LIST) {
        cb->offsets = calloc(1, sizeof(uint64_t));
        if (!cb->offsets)
            return SP_ENOMEM_SET(err);
    }
    return 0;
}

void sp__colbuf_release(sp__colbuf *cb)
{
    for (size_t i = 0; cb->child && i < cb->nchild; i++)
        sp__colbuf_release(&cb->child[i]);
    for (size_t i = 0; i < cb->nenum; i++)
        free(cb->enum_names[i]);
    free(cb->enum_names);
    free(cb->enum_vals);
    free(cb->child);
    free(cb->childcols);
    free(cb->tname);
    free(cb->vals);
    free(cb->nulls);
    free(cb->offsets);
    memset(cb, 0, sizeof(*cb));
}

int sp__colbuf_ensure(sp__colbuf *cb, sp_error *err)
{
    if (cb->n < cb->cap)
        return 0;
    size_t cap = cb->cap ? cb->cap * 2 : 64;
    size_t es = sp__colbuf_elem_size(cb);
    if (es) {
        void *v = realloc(cb->vals, cap * es);
        if (!v)
            return SP_ENOMEM_SET(err);
        cb->vals = v;
    }
    uint8_t *nu = realloc(cb->nulls, cap);
    if (!nu)
        return SP_ENOMEM_SET(err);
    cb->nulls = nu;
    if (cb->st == SP__ST_LIST) {
        uint64_t *o = realloc(cb->offsets, (cap + 1) * sizeof(*o));
        if (!o)
            return SP_ENOMEM_SET(err);
        cb->offsets = o;
    }
    cb->cap = cap;
    return 0;
}

void sp__colbuf_truncate(sp__colbuf *cb, size_t n)
{
    /* children first: a failed row may have pushed elements without its
     * own value (cb->n == n) */
    if (n > cb->n)
        return;
    if (cb->st == SP__ST_LIST)
        for (size_t i = 0; i < cb->nchild; i++)
            sp__colbuf_truncate(&cb->child[i], (size_t)cb->offsets[n]);
    if (cb->st == SP__ST_TUPLE)
        for (size_t i = 0; i < cb->nchild; i++)
            sp__colbuf_truncate(&cb->child[i], n);
    for (size_t i = n; i < cb->n; i++)
        cb->nnull -= cb->nulls[i];
    cb->n = n;
}

void sp__colbuf_view(sp__colbuf *cb, sp_column *col)
{
    memset(col, 0, sizeof(*col));
    col->type = cb->type;
    col->nulls = cb->nnull ? cb->nulls : NULL;
    col->v.i64 = cb->vals;
    col->offsets = cb->offsets;
    for (size_t i = 0; i < cb->nchild; i++)
        sp__colbuf_view(&cb->child[i], &cb->childcols[i]);
    col->child = cb->nchild ? cb->childcols : NULL;
    col->nchild = cb->nchild;
}

size_t sp__colbuf_bytes(const sp__colbuf *cb)
{
    size_t b = cb->cap * (sp__colbuf_elem_size(cb) + 1 + (cb->offsets ? 8 : 0));
    for (size_t i = 0; i < cb->nchild; i++)
        b += sp__colbuf_bytes(&cb->child[i]);
    return b;
}

