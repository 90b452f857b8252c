/* sp_sql_int: the token-pass state shared by sp_sql.c (clauses) and
 * the function and type rewrites.  Internal. */
#ifndef SP_SQL_INT_H
#define SP_SQL_INT_H

#include <stdint.h>
#include <string.h>

#include "sp_buf.h"
#include "sp_error.h"
#include "sp_sql_lex.h"

#define MAX_DEPTH 200
#define MAX_SUBST 64

typedef struct subst {
    const char *name;
    size_t nlen;
    size_t a, b; /* expression tokens */
    int active;
} subst;

typedef struct rw {
    const char *s;
    sp_tok *t;
    size_t n;
    size_t *mate; /* matching bracket index, or SIZE_MAX */
    sp_buf *out;
    sp_error *err;
    int rc;
    int depth;
    subst sub[MAX_SUBST];
    size_t nsub;
} rw;
/* emit tokens [a, b) rewritten (sp_sql.c) */
void sp__sql_emit_range(rw *c, size_t a, size_t b);
/* a function call at i with arguments at o (and a parametric second group
 * at o2 or SIZE_MAX): 1 if rewritten, *next = the token after it
 * (sp_sql.c) */
int sp__sql_rewrite_call(rw *c, size_t i, size_t o, size_t o2, size_t *next);
/* a ClickHouse type at [a, b) as a DuckDB type; the index after it, or a
 * when not a known ClickHouse type (sp_sql.c) */
size_t sp__sql_emit_type(rw *c, size_t a, size_t b);
/* the ClickHouse text [0, end) with ` AS "name"` added after every item of
 * the outermost select list that has no alias and is not a bare column,
 * name being ClickHouse's column name for it (sp_sql_names.c).  out is
 * left empty when nothing is added; 0 or SP_ENOMEM / SP_ETOOBIG. */
int sp__sql_add_names(const rw *c, size_t end, sp_buf *out);

/* ---- helpers ---- */

static inline int is_sig(const sp_tok *t)
{
    return t->kind != SP_TOK_WS && t->kind != SP_TOK_COMMENT;
}

/* next significant token at or after i, below b (b if none) */
static inline size_t nx(const rw *c, size_t i, size_t b)
{
    while (i < b && !is_sig(&c->t[i]))
        i++;
    return i;
}

/* previous significant token before i, at or after a (SIZE_MAX if none) */
static inline size_t pv(const rw *c, size_t i, size_t a)
{
    while (i > a) {
        i--;
        if (is_sig(&c->t[i]))
            return i;
    }
    return SIZE_MAX;
}

static inline int op_is(const rw *c, size_t i, const char *op)
{
    size_t n = strlen(op);
    return i < c->n && c->t[i].kind == SP_TOK_OP && c->t[i].len == n &&
           memcmp(c->s + c->t[i].off, op, n) == 0;
}

static inline int kw(const rw *c, size_t i, const char *w)
{
    return i < c->n && sp_tok_is(c->s, &c->t[i], w);
}

static inline int kw_any(const rw *c, size_t i, const char *const *words)
{
    for (; *words; words++)
        if (kw(c, i, *words))
            return 1;
    return 0;
}

static inline void put(rw *c, const char *p, size_t n)
{
    if (!c->rc)
        c->rc = sp_buf_add(c->out, p, n, c->err);
}

static inline void puts_(rw *c, const char *p)
{
    put(c, p, strlen(p));
}

static inline void put_tok(rw *c, size_t i)
{
    put(c, c->s + c->t[i].off, c->t[i].len);
}

static inline int sp__sql_fail(rw *c, int code, const char *what, size_t i)
{
    if (!c->rc)
        c->rc = sp_error_set(c->err, code, 0, "sql: %s at offset %zu", what,
                             i < c->n ? c->t[i].off : 0);
    return c->rc;
}

static inline int is_open(const rw *c, size_t i)
{
    return op_is(c, i, "(") || op_is(c, i, "[") || op_is(c, i, "{");
}

/* skip a bracketed group starting at i: index after its close, else i + 1 */
static inline size_t skip(const rw *c, size_t i)
{
    if (is_open(c, i) && c->mate[i] != SIZE_MAX)
        return c->mate[i] + 1;
    return i + 1;
}

/* depth-0 positions of commas in [a, b): fills pos, returns count */
static inline size_t split_commas(const rw *c, size_t a, size_t b, size_t *pos, size_t max)
{
    size_t k = 0;
    for (size_t i = a; i < b; i = skip(c, i))
        if (op_is(c, i, ",") && k < max)
            pos[k++] = i;
    return k;
}

#endif
