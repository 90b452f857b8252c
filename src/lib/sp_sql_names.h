/* sp_sql_names: the ClickHouse column-name printer shared by
 * sp_sql_names.c (select list, literals) and sp_sql_nameexpr.c
 * (expressions).  Internal. */
#ifndef SP_SQL_NAMES_H
#define SP_SQL_NAMES_H

#include "sp_sql_int.h"

#define NAME_MAX_LEN (1u << 16)
#define NP_MAX_DEPTH 64

/* the parser over the significant tokens of [i, b) */
typedef struct np {
    const rw *c;
    size_t i, b;
    int bad; /* a form this printer does not reproduce (or out of memory) */
    int depth;
} np;

static inline void adv(np *p)
{
    p->i = nx(p->c, p->i + 1, p->b);
}

static inline int at_op(const np *p, const char *op)
{
    return p->i < p->b && op_is(p->c, p->i, op);
}

static inline int at_kw(const np *p, const char *w)
{
    return p->i < p->b && p->c->t[p->i].kind == SP_TOK_IDENT && kw(p->c, p->i, w);
}

static inline void add(np *p, sp_buf *o, const char *s, size_t n)
{
    if (!p->bad && sp_buf_add(o, s, n, NULL) != 0)
        p->bad = 1;
}

static inline void adds(np *p, sp_buf *o, const char *s)
{
    add(p, o, s, strlen(s));
}

static inline void add_tok(np *p, sp_buf *o, size_t i)
{
    add(p, o, p->c->s + p->c->t[i].off, p->c->t[i].len);
}

/* o = fn(o, r) */
static inline void wrap2(np *p, sp_buf *o, const char *fn, const sp_buf *r)
{
    sp_buf n = SP_BUF_INIT(NAME_MAX_LEN);
    adds(p, &n, fn);
    adds(p, &n, "(");
    add(p, &n, o->data ? o->data : "", o->len);
    adds(p, &n, ", ");
    add(p, &n, r->data ? r->data : "", r->len);
    adds(p, &n, ")");
    sp_buf_release(o);
    *o = n;
}

/* o = fn(o) */
static inline void wrap1(np *p, sp_buf *o, const char *fn)
{
    sp_buf n = SP_BUF_INIT(NAME_MAX_LEN);
    adds(p, &n, fn);
    adds(p, &n, "(");
    add(p, &n, o->data ? o->data : "", o->len);
    adds(p, &n, ")");
    sp_buf_release(o);
    *o = n;
}

/* literals as ClickHouse prints them in a name (sp_sql_names.c): the
 * NUMBER token at i (negated when neg), the 'string' token at i, the
 * quoted identifier at i */
void sp__name_number(np *p, sp_buf *o, size_t i, int neg);
void sp__name_string(np *p, sp_buf *o, size_t i);
void sp__name_qident(np *p, sp_buf *o, size_t i);
/* the expression at p->i (stopping at the first token it cannot take)
 * printed into the empty buffer o; *lit: it is a literal
 * (sp_sql_nameexpr.c) */
void sp__name_expr(np *p, sp_buf *o, int *lit);

#endif
