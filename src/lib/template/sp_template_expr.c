/* sp_template_expr: the expressions of Tinybird's templates, a Python
 * subset (see sp_template_int.h, docs/templates.md): a recursive-descent
 * parser that builds a tree (tast) once per template, with Python's
 * precedence, literals and error positions.  sp_template_eval.c walks the
 * tree. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_error.h"
#include "sp_template_int.h"
#include "sp_banned.h"

/* ================================================================ parsing */

typedef struct pctx {
    tctx *c;
    const char *s;
    size_t p, b;
    int depth;
} pctx;

static int perr(pctx *x, size_t pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int perr(pctx *x, size_t pos, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return sp__tfail(x->c, SP_EDEF, (uint32_t)pos, "%s", msg);
}

static void ws(pctx *x)
{
    while (x->p < x->b && (isspace((unsigned char)x->s[x->p]) ||
                           (x->s[x->p] == '\\' && x->p + 1 < x->b && x->s[x->p + 1] == '\n')))
        x->p += x->s[x->p] == '\\' ? 2 : 1;
}

static int is_id0(char ch)
{
    return isalpha((unsigned char)ch) || ch == '_';
}

static int is_id(char ch)
{
    return isalnum((unsigned char)ch) || ch == '_';
}

static size_t ident_len(pctx *x)
{
    ws(x);
    size_t i = x->p;
    if (i < x->b && is_id0(x->s[i]))
        while (i < x->b && is_id(x->s[i]))
            i++;
    return i - x->p;
}

static int peek_kw(pctx *x, const char *w)
{
    size_t n = ident_len(x);
    return n == strlen(w) && !memcmp(x->s + x->p, w, n);
}

static int accept_kw(pctx *x, const char *w)
{
    if (!peek_kw(x, w))
        return 0;
    x->p += strlen(w);
    return 1;
}

/* an operator: op must not be followed by any char of `notnext` */
static int peek_op(pctx *x, const char *op, const char *notnext)
{
    ws(x);
    size_t n = strlen(op);
    if (x->p + n > x->b || memcmp(x->s + x->p, op, n))
        return 0;
    if (notnext && x->p + n < x->b && strchr(notnext, x->s[x->p + n]))
        return 0;
    return 1;
}

static int accept_op(pctx *x, const char *op, const char *notnext)
{
    if (!peek_op(x, op, notnext))
        return 0;
    x->p += strlen(op);
    return 1;
}

static int node_new(pctx *x, int kind, size_t pos, uint32_t *id)
{
    tast *a = x->c->ast;
    if (sp__tgrow(x->c, (void **)&a->v, &a->cap, a->n + 2, sizeof *a->v))
        return x->c->rc;
    if (a->n == 0) { /* node 0 means "none" */
        memset(&a->v[0], 0, sizeof a->v[0]);
        a->n = 1;
    }
    tnode *nd = &a->v[a->n];
    memset(nd, 0, sizeof *nd);
    nd->kind = (uint8_t)kind;
    nd->pos = (uint32_t)pos;
    nd->end = (uint32_t)x->p;
    *id = (uint32_t)a->n++;
    return 0;
}

#define ND(x, id) (&(x)->c->ast->v[id])

/* kids are collected in a scratch list, then appended contiguously */
typedef struct kidv {
    uint32_t *v;
    size_t n, cap;
} kidv;

static int kid_push(pctx *x, kidv *k, uint32_t id)
{
    if (sp__tgrow(x->c, (void **)&k->v, &k->cap, k->n + 1, sizeof *k->v))
        return x->c->rc;
    k->v[k->n++] = id;
    return 0;
}

static int kids_commit(pctx *x, kidv *k, uint32_t node)
{
    tast *a = x->c->ast;
    if (sp__tgrow(x->c, (void **)&a->kids, &a->capk, a->nk + k->n, sizeof *a->kids)) {
        free(k->v);
        return x->c->rc;
    }
    if (k->n)
        memcpy(a->kids + a->nk, k->v, k->n * sizeof *k->v);
    ND(x, node)->kids = (uint32_t)a->nk;
    ND(x, node)->nkids = (uint32_t)k->n;
    a->nk += k->n;
    free(k->v);
    k->v = NULL;
    return 0;
}

static int p_test(pctx *x, uint32_t *out);
static int p_or(pctx *x, uint32_t *out);

static int reserved_name(pctx *x, size_t pos, size_t n)
{
    if ((n == 6 && !memcmp(x->s + pos, "format", 6)) || (n == 1 && x->s[pos] == 'q'))
        return sp__tfail(x->c, SP_EDEF, (uint32_t)pos,
                         "\"%.*s\" can not be used as a variable name (Tinybird reserves it)",
                         (int)n, x->s + pos);
    return 0;
}

/* a Python string literal (prefixes r/R, triple quotes, escapes) */
static int p_string(pctx *x, sp_buf *b)
{
    int raw = 0;
    if (x->s[x->p] == 'r' || x->s[x->p] == 'R') {
        raw = 1;
        x->p++;
    }
    char q = x->s[x->p];
    size_t start = x->p;
    int triple = x->p + 2 < x->b && x->s[x->p + 1] == q && x->s[x->p + 2] == q;
    x->p += triple ? 3 : 1;
    for (;;) {
        if (x->p >= x->b)
            return perr(x, start, "unterminated string%s", "");
        char ch = x->s[x->p];
        if (ch == q && (!triple || (x->p + 2 < x->b && x->s[x->p + 1] == q && x->s[x->p + 2] == q))) {
            x->p += triple ? 3 : 1;
            return 0;
        }
        if (ch == '\n' && !triple)
            return perr(x, start, "unterminated string%s", "");
        x->p++;
        int rc = 0;
        if (ch == '\\' && x->p < x->b) {
            char e = x->s[x->p++];
            if (raw) {
                rc = sp_buf_addch(b, '\\', x->c->err);
                if (!rc)
                    rc = sp_buf_addch(b, e, x->c->err);
            } else if (e == '\n') {
                rc = 0;
            } else if (e == 'x' || e == 'u' || e == 'U') {
                int nd = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                unsigned long cp = 0;
                for (int k = 0; k < nd; k++, x->p++) {
                    if (x->p >= x->b || !isxdigit((unsigned char)x->s[x->p]))
                        return perr(x, start, "bad \\%s escape in a string", e == 'x' ? "x" : "u");
                    char h = x->s[x->p];
                    cp = cp * 16 + (unsigned long)(isdigit((unsigned char)h) ? h - '0'
                                                                          : tolower((unsigned char)h) - 'a' + 10);
                }
                if (cp > 0x10FFFF)
                    return perr(x, start, "bad \\U escape in a string%s", "");
                char u[4];
                size_t un = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
                if (un == 1)
                    u[0] = (char)cp;
                else if (un == 2)
                    u[0] = (char)(0xC0 | (cp >> 6)), u[1] = (char)(0x80 | (cp & 0x3F));
                else if (un == 3)
                    u[0] = (char)(0xE0 | (cp >> 12)), u[1] = (char)(0x80 | ((cp >> 6) & 0x3F)),
                    u[2] = (char)(0x80 | (cp & 0x3F));
                else
                    u[0] = (char)(0xF0 | (cp >> 18)), u[1] = (char)(0x80 | ((cp >> 12) & 0x3F)),
                    u[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), u[3] = (char)(0x80 | (cp & 0x3F));
                rc = sp_buf_add(b, u, un, x->c->err);
            } else {
                const char *from = "ntr0abfv\\'\"";
                const char *to = "\n\t\r\0\a\b\f\v\\'\"";
                const char *k = strchr(from, e);
                if (k && e)
                    rc = sp_buf_addch(b, to[k - from], x->c->err);
                else {
                    rc = sp_buf_addch(b, '\\', x->c->err);
                    if (!rc)
                        rc = sp_buf_addch(b, e, x->c->err);
                }
            }
        } else {
            rc = sp_buf_addch(b, ch, x->c->err);
        }
        if (rc)
            return x->c->rc = x->c->rc ? x->c->rc : rc;
    }
}

static int p_number(pctx *x, uint32_t *out)
{
    size_t st = x->p;
    const char *s = x->s;
    int isf = 0;
    while (x->p < x->b && (isdigit((unsigned char)s[x->p]) || s[x->p] == '_'))
        x->p++;
    if (x->p < x->b && s[x->p] == '.') {
        isf = 1;
        x->p++;
        while (x->p < x->b && isdigit((unsigned char)s[x->p]))
            x->p++;
    }
    if (x->p < x->b && (s[x->p] == 'e' || s[x->p] == 'E')) {
        size_t save = x->p++;
        if (x->p < x->b && (s[x->p] == '+' || s[x->p] == '-'))
            x->p++;
        if (x->p < x->b && isdigit((unsigned char)s[x->p])) {
            isf = 1;
            while (x->p < x->b && isdigit((unsigned char)s[x->p]))
                x->p++;
        } else {
            x->p = save;
        }
    }
    if (x->p < x->b && is_id(s[x->p]))
        return perr(x, st, "invalid number%s", "");
    char num[80];
    size_t k = 0;
    for (size_t i = st; i < x->p && k + 1 < sizeof num; i++)
        if (s[i] != '_')
            num[k++] = s[i];
    num[k] = '\0';
    int rc = node_new(x, N_CONST, st, out);
    if (rc)
        return rc;
    errno = 0;
    if (isf) {
        ND(x, *out)->val = sp__tv_float(strtod(num, NULL));
    } else {
        long long v = strtoll(num, NULL, 10);
        if (errno)
            return perr(x, st, "integer %s is too large", num);
        ND(x, *out)->val = sp__tv_int(v);
    }
    return 0;
}

/* call arguments after '(' */
static int p_args(pctx *x, uint32_t call)
{
    kidv k = { 0 };
    int rc = 0;
    while (!rc && !accept_op(x, ")", NULL)) {
        if (k.n && !accept_op(x, ",", NULL)) {
            rc = perr(x, x->p, "',' or ')' expected in a call%s", "");
            break;
        }
        if (accept_op(x, ")", NULL)) /* trailing comma */
            break;
        if (peek_op(x, "*", NULL)) {
            rc = perr(x, x->p, "*args and **kwargs are not supported%s", "");
            break;
        }
        size_t il = ident_len(x), save = x->p;
        uint32_t arg = 0;
        if (il) {
            x->p += il;
            if (accept_op(x, "=", "=")) {
                uint32_t v;
                if ((rc = p_test(x, &v)) || (rc = node_new(x, N_KW, save, &arg)))
                    break;
                ND(x, arg)->name = (uint32_t)save;
                ND(x, arg)->namelen = (uint32_t)il;
                ND(x, arg)->a = v;
                ND(x, arg)->end = (uint32_t)x->p;
                rc = kid_push(x, &k, arg);
                continue;
            }
            x->p = save;
        }
        if (!(rc = p_test(x, &arg)))
            rc = kid_push(x, &k, arg);
    }
    if (rc) {
        free(k.v);
        return rc;
    }
    return kids_commit(x, &k, call);
}

/* the elements of a list/tuple/dict display up to `close` */
static int p_display(pctx *x, uint32_t node, const char *close, int dict, uint32_t first)
{
    kidv k = { 0 };
    int rc = first ? kid_push(x, &k, first) : 0;
    while (!rc && !accept_op(x, close, NULL)) {
        if (k.n) {
            if (!accept_op(x, ",", NULL)) {
                rc = perr(x, x->p, "',' or '%s' expected", close);
                break;
            }
            if (accept_op(x, close, NULL))
                break;
        }
        uint32_t e;
        if ((rc = p_test(x, &e)) || (rc = kid_push(x, &k, e)))
            break;
        if (dict) {
            if (!accept_op(x, ":", NULL)) {
                rc = perr(x, x->p, "':' expected in a dict%s", "");
                break;
            }
            if ((rc = p_test(x, &e)) || (rc = kid_push(x, &k, e)))
                break;
        }
    }
    if (rc) {
        free(k.v);
        return rc;
    }
    return kids_commit(x, &k, node);
}

int sp__texpr_parse_targets(tctx *c, size_t a, size_t b, uint32_t *kids, uint32_t *nkids,
                            size_t *stop);

static int p_atom(pctx *x, uint32_t *out)
{
    ws(x);
    size_t st = x->p;
    if (x->p >= x->b)
        return perr(x, st, "expression expected%s", "");
    char ch = x->s[x->p];
    int rc;
    if (ch == '(') {
        x->p++;
        if (accept_op(x, ")", NULL))
            return node_new(x, N_TUPLE, st, out);
        uint32_t first;
        if ((rc = p_test(x, &first)))
            return rc;
        if (accept_op(x, ")", NULL)) {
            *out = first;
            return 0;
        }
        if (!peek_op(x, ",", NULL))
            return perr(x, x->p, "')' expected%s", "");
        if ((rc = node_new(x, N_TUPLE, st, out)))
            return rc;
        return p_display(x, *out, ")", 0, first);
    }
    if (ch == '[') {
        x->p++;
        if ((rc = node_new(x, N_LIST, st, out)))
            return rc;
        if (accept_op(x, "]", NULL))
            return 0;
        uint32_t first;
        if ((rc = p_test(x, &first)))
            return rc;
        if (accept_kw(x, "for")) { /* [expr for targets in iterable if cond] */
            size_t tstart = x->p, stop;
            uint32_t k, nk, it, cond = 0;
            if ((rc = sp__texpr_parse_targets(x->c, tstart, x->b, &k, &nk, &stop)))
                return rc;
            x->p = stop;
            if (!accept_kw(x, "in"))
                return perr(x, x->p, "'in' expected in a comprehension%s", "");
            if ((rc = p_or(x, &it)))
                return rc;
            if (accept_kw(x, "if") && (rc = p_or(x, &cond)))
                return rc;
            if (!accept_op(x, "]", NULL))
                return perr(x, x->p, "']' expected%s", "");
            tnode *nd = ND(x, *out);
            nd->kind = N_COMP;
            nd->a = first;
            nd->b = it;
            nd->c = cond;
            nd->kids = k;
            nd->nkids = nk;
            nd->end = (uint32_t)x->p;
            return 0;
        }
        return p_display(x, *out, "]", 0, first);
    }
    if (ch == '{') {
        x->p++;
        if ((rc = node_new(x, N_DICT, st, out)))
            return rc;
        return p_display(x, *out, "}", 1, 0);
    }
    if (isdigit((unsigned char)ch) || (ch == '.' && x->p + 1 < x->b && isdigit((unsigned char)x->s[x->p + 1])))
        return p_number(x, out);
    if (ch == '\'' || ch == '"' ||
        ((ch == 'r' || ch == 'R') && x->p + 1 < x->b && (x->s[x->p + 1] == '\'' || x->s[x->p + 1] == '"'))) {
        sp_buf b = SP_BUF_INIT((size_t)16 << 20);
        rc = 0;
        do { /* adjacent literals concatenate */
            rc = p_string(x, &b);
            ws(x);
        } while (!rc && x->p < x->b &&
                 (x->s[x->p] == '\'' || x->s[x->p] == '"' ||
                  ((x->s[x->p] == 'r' || x->s[x->p] == 'R') && x->p + 1 < x->b &&
                   (x->s[x->p + 1] == '\'' || x->s[x->p + 1] == '"'))));
        if (!rc && !(rc = node_new(x, N_CONST, st, out)))
            rc = sp__tv_str(x->c, b.data ? b.data : "", b.len, &ND(x, *out)->val);
        sp_buf_release(&b);
        return rc;
    }
    size_t n = ident_len(x);
    if (n) {
        if ((n == 1 && (ch == 'f' || ch == 'b')) && x->p + 1 < x->b &&
            (x->s[x->p + 1] == '\'' || x->s[x->p + 1] == '"'))
            return perr(x, st, "%s-strings are not supported", ch == 'f' ? "f" : "byte");
        static const char *const kws[] = { "and", "or", "not", "in", "is", "if", "else", "for",
                                           "lambda", "import", "yield", "await", "def", "class",
                                           "return", "del", "global", "with", "from", "as", NULL };
        for (int k = 0; kws[k]; k++)
            if (strlen(kws[k]) == n && !memcmp(x->s + st, kws[k], n))
                return perr(x, st, "unexpected '%s'", kws[k]);
        if ((rc = node_new(x, N_CONST, st, out)))
            return rc;
        x->p += n;
        tnode *nd = ND(x, *out);
        nd->end = (uint32_t)x->p;
        if (n == 4 && !memcmp(x->s + st, "True", 4))
            nd->val = sp__tv_bool(1);
        else if (n == 5 && !memcmp(x->s + st, "False", 5))
            nd->val = sp__tv_bool(0);
        else if (n == 4 && !memcmp(x->s + st, "None", 4))
            nd->val = sp__tv_none();
        else {
            if (n > 2 && x->s[st] == '_' && x->s[st + 1] == '_')
                return perr(x, st, "names starting with '__' are not allowed%s", "");
            nd->kind = N_NAME;
            nd->name = (uint32_t)st;
            nd->namelen = (uint32_t)n;
            return reserved_name(x, st, n);
        }
        return 0;
    }
    char tok[8];
    snprintf(tok, sizeof tok, "%c", ch);
    return perr(x, st, "unexpected '%s'", tok);
}

static int p_postfix(pctx *x, uint32_t *out)
{
    int rc = p_atom(x, out);
    while (!rc) {
        size_t st = ND(x, *out)->pos;
        uint32_t id;
        if (accept_op(x, "(", NULL)) {
            if ((rc = node_new(x, N_CALL, st, &id)))
                break;
            ND(x, id)->a = *out;
            rc = p_args(x, id);
            ND(x, id)->end = (uint32_t)x->p;
            *out = id;
        } else if (accept_op(x, "[", NULL)) {
            uint32_t parts[3] = { 0, 0, 0 };
            int slice = 0;
            for (int k = 0; k < 3 && !rc; k++) {
                ws(x);
                if (!peek_op(x, ":", NULL) && !peek_op(x, "]", NULL))
                    rc = p_test(x, &parts[k]);
                if (rc || !accept_op(x, ":", NULL))
                    break;
                slice = 1;
            }
            if (rc)
                break;
            if (!accept_op(x, "]", NULL)) {
                rc = perr(x, x->p, "']' expected%s", "");
                break;
            }
            if ((rc = node_new(x, slice ? N_SLICE : N_INDEX, st, &id)))
                break;
            tnode *nd = ND(x, id);
            nd->a = *out;
            if (slice) {
                kidv k = { 0 };
                for (int j = 0; j < 3 && !rc; j++)
                    rc = kid_push(x, &k, parts[j]);
                if (rc || (rc = kids_commit(x, &k, id))) {
                    free(k.v);
                    break;
                }
            } else {
                nd->b = parts[0];
                if (!parts[0]) {
                    rc = perr(x, st, "empty subscript%s", "");
                    break;
                }
            }
            *out = id;
        } else if (accept_op(x, ".", NULL)) {
            size_t n = ident_len(x);
            if (!n) {
                rc = perr(x, x->p, "a name is expected after '.'%s", "");
                break;
            }
            if (x->s[x->p] == '_')
                return perr(x, x->p, "attributes starting with '_' are not allowed%s", "");
            if ((rc = node_new(x, N_ATTR, st, &id)))
                break;
            ND(x, id)->a = *out;
            ND(x, id)->name = (uint32_t)x->p;
            ND(x, id)->namelen = (uint32_t)n;
            x->p += n;
            ND(x, id)->end = (uint32_t)x->p;
            *out = id;
        } else {
            break;
        }
    }
    return rc;
}

static int binnode(pctx *x, int kind, int op, uint32_t l, uint32_t r, uint32_t *out)
{
    int rc = node_new(x, kind, ND(x, l)->pos, out);
    if (!rc) {
        ND(x, *out)->op = (uint8_t)op;
        ND(x, *out)->a = l;
        ND(x, *out)->b = r;
    }
    return rc;
}

static int p_factor(pctx *x, uint32_t *out)
{
    if (++x->depth > 200)
        return perr(x, x->p, "expression nested too deeply%s", "");
    ws(x);
    size_t st = x->p;
    int rc;
    char op = 0;
    if (accept_op(x, "-", NULL))
        op = '-';
    else if (accept_op(x, "+", NULL))
        op = '+';
    else if (accept_op(x, "~", NULL))
        op = '~';
    if (op) {
        uint32_t a;
        if (!(rc = p_factor(x, &a)) && !(rc = node_new(x, N_UNARY, st, out))) {
            ND(x, *out)->op = (uint8_t)op;
            ND(x, *out)->a = a;
        }
    } else {
        rc = p_postfix(x, out);
        if (!rc && peek_op(x, "**", NULL))
            rc = perr(x, x->p, "Invalid BinOp: Pow() (Tinybird does not allow '**')%s", "");
    }
    x->depth--;
    return rc;
}

static int p_term(pctx *x, uint32_t *out)
{
    int rc = p_factor(x, out);
    while (!rc) {
        int op = accept_op(x, "//", "=") ? OP_FLOORDIV
               : accept_op(x, "*", "*=") ? OP_MUL
               : accept_op(x, "/", "=")  ? OP_DIV
               : accept_op(x, "%", "=")  ? OP_MOD : 0;
        if (!op)
            break;
        uint32_t r;
        if (!(rc = p_factor(x, &r)))
            rc = binnode(x, N_BIN, op, *out, r, out);
    }
    return rc;
}

static int p_arith(pctx *x, uint32_t *out)
{
    int rc = p_term(x, out);
    while (!rc) {
        int op = accept_op(x, "+", "=") ? OP_ADD : accept_op(x, "-", "=") ? OP_SUB : 0;
        if (!op)
            break;
        uint32_t r;
        if (!(rc = p_term(x, &r)))
            rc = binnode(x, N_BIN, op, *out, r, out);
    }
    return rc;
}

static int p_bits(pctx *x, uint32_t *out)
{
    int rc = p_arith(x, out);
    while (!rc) {
        if (peek_op(x, "<<", NULL) || peek_op(x, ">>", NULL))
            return perr(x, x->p, "shift operators are not supported%s", "");
        int op = accept_op(x, "&", "=") ? OP_BITAND : accept_op(x, "|", "=") ? OP_BITOR
               : accept_op(x, "^", "=") ? OP_BITXOR : 0;
        if (!op)
            break;
        uint32_t r;
        if (!(rc = p_arith(x, &r)))
            rc = binnode(x, N_BIN, op, *out, r, out);
    }
    return rc;
}

static int p_cmp(pctx *x, uint32_t *out)
{
    uint32_t first;
    int rc = p_bits(x, &first);
    if (rc)
        return rc;
    kidv k = { 0 };
    for (;;) {
        int op = accept_op(x, "==", NULL) ? OP_EQ
               : accept_op(x, "!=", NULL) ? OP_NE
               : accept_op(x, "<=", NULL) ? OP_LE
               : accept_op(x, ">=", NULL) ? OP_GE
               : accept_op(x, "<", "<")   ? OP_LT
               : accept_op(x, ">", ">")   ? OP_GT
               : accept_kw(x, "in")       ? OP_IN : 0;
        if (!op && peek_kw(x, "not")) {
            size_t save = x->p;
            x->p += 3;
            if (accept_kw(x, "in"))
                op = OP_NOTIN;
            else
                x->p = save;
        }
        if (!op && accept_kw(x, "is"))
            op = accept_kw(x, "not") ? OP_ISNOT : OP_IS;
        if (!op)
            break;
        uint32_t r;
        if (!k.n && (rc = kid_push(x, &k, first)))
            break;
        if ((rc = kid_push(x, &k, (uint32_t)op)) || (rc = p_bits(x, &r)) || (rc = kid_push(x, &k, r)))
            break;
    }
    if (rc || !k.n) {
        free(k.v);
        *out = first;
        return rc;
    }
    if ((rc = node_new(x, N_CMP, ND(x, first)->pos, out))) {
        free(k.v);
        return rc;
    }
    return kids_commit(x, &k, *out);
}

static int p_not(pctx *x, uint32_t *out)
{
    ws(x);
    size_t st = x->p;
    if (peek_kw(x, "not")) {
        x->p += 3;
        uint32_t a;
        int rc = p_not(x, &a);
        if (!rc && !(rc = node_new(x, N_NOT, st, out)))
            ND(x, *out)->a = a;
        return rc;
    }
    return p_cmp(x, out);
}

static int p_and(pctx *x, uint32_t *out)
{
    int rc = p_not(x, out);
    while (!rc && accept_kw(x, "and")) {
        uint32_t r;
        if (!(rc = p_not(x, &r)))
            rc = binnode(x, N_AND, 0, *out, r, out);
    }
    return rc;
}

static int p_or(pctx *x, uint32_t *out)
{
    int rc = p_and(x, out);
    while (!rc && accept_kw(x, "or")) {
        uint32_t r;
        if (!(rc = p_and(x, &r)))
            rc = binnode(x, N_OR, 0, *out, r, out);
    }
    return rc;
}

static int p_test(pctx *x, uint32_t *out)
{
    if (++x->depth > 200)
        return perr(x, x->p, "expression nested too deeply%s", "");
    int rc = p_or(x, out);
    if (!rc && accept_kw(x, "if")) {
        uint32_t cond, other, id;
        if (!(rc = p_or(x, &cond))) {
            if (!accept_kw(x, "else"))
                rc = perr(x, x->p, "'else' expected%s", "");
            else if (!(rc = p_test(x, &other)) && !(rc = node_new(x, N_IFE, ND(x, *out)->pos, &id))) {
                ND(x, id)->a = *out;
                ND(x, id)->b = cond;
                ND(x, id)->c = other;
                *out = id;
            }
        }
    }
    x->depth--;
    return rc;
}

int sp__texpr_parse(tctx *c, size_t a, size_t b, uint32_t *root)
{
    pctx x = { c, c->src, a, b, 0 };
    uint32_t first;
    int rc = p_test(&x, &first);
    if (!rc && peek_op(&x, ",", NULL)) { /* a bare tuple: x, y */
        uint32_t id;
        kidv k = { 0 };
        if ((rc = node_new(&x, N_TUPLE, ND(&x, first)->pos, &id)) || (rc = kid_push(&x, &k, first))) {
            free(k.v);
            return rc;
        }
        while (!rc && accept_op(&x, ",", NULL)) {
            ws(&x);
            if (x.p >= x.b)
                break;
            uint32_t e;
            if (!(rc = p_test(&x, &e)))
                rc = kid_push(&x, &k, e);
        }
        if (rc) {
            free(k.v);
            return rc;
        }
        if ((rc = kids_commit(&x, &k, id)))
            return rc;
        first = id;
    }
    if (rc)
        return rc;
    ws(&x);
    if (x.p < x.b) {
        char tok[8];
        snprintf(tok, sizeof tok, "%c", x.s[x.p]);
        return perr(&x, x.p, "unexpected '%s' after the expression", tok);
    }
    *root = first;
    return 0;
}

/* for/set targets: name | name, name | (name, name) — stops before `in`/`=` */
int sp__texpr_parse_targets(tctx *c, size_t a, size_t b, uint32_t *kids, uint32_t *nkids,
                            size_t *stop)
{
    pctx x = { c, c->src, a, b, 0 };
    kidv k = { 0 };
    int paren = accept_op(&x, "(", NULL), rc = 0;
    for (;;) {
        size_t n = ident_len(&x);
        if (!n || peek_kw(&x, "in")) {
            rc = perr(&x, x.p, "a variable name is expected%s", "");
            break;
        }
        uint32_t id;
        if ((rc = reserved_name(&x, x.p, n)) || (rc = node_new(&x, N_NAME, x.p, &id)))
            break;
        ND(&x, id)->name = (uint32_t)x.p;
        ND(&x, id)->namelen = (uint32_t)n;
        x.p += n;
        if ((rc = kid_push(&x, &k, id)))
            break;
        if (!accept_op(&x, ",", NULL))
            break;
        ws(&x);
        if (peek_kw(&x, "in") || peek_op(&x, ")", NULL))
            break;
    }
    if (!rc && paren && !accept_op(&x, ")", NULL))
        rc = perr(&x, x.p, "')' expected%s", "");
    if (rc) {
        free(k.v);
        return rc;
    }
    uint32_t holder;
    if ((rc = node_new(&x, N_TUPLE, a, &holder)) || (rc = kids_commit(&x, &k, holder)))
        return rc;
    *kids = ND(&x, holder)->kids;
    *nkids = ND(&x, holder)->nkids;
    ws(&x);
    *stop = x.p;
    return 0;
}

void sp__tast_free(tast *a)
{
    for (size_t i = 0; i < a->n; i++)
        if (a->v[i].kind == N_CONST)
            sp__tv_drop(&a->v[i].val);
    free(a->v);
    free(a->kids);
    memset(a, 0, sizeof *a);
}
