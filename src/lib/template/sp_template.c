/* sp_template: Tinybird's template language (see sp_template.h and
 * docs/templates.md).  The text is compiled once into a tree of chunks
 * (text, `{{ }}`, if/for/while/set/try…) whose expressions are parsed by
 * sp_template_expr, then executed with the run's parameters.  Text outside
 * tags is copied as is; values leave `{{ }}` only as SQL literals or
 * escaped identifiers (sp_template_val). */
#include "sp_template.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_error.h"
#include "sp_template_int.h"
#include "sp_banned.h"

int sp_template_is_templated(const char *src)
{
    return src && (strstr(src, "{{") || strstr(src, "{%"));
}

enum { C_TEXT, C_LIT, C_EXPR, C_IF, C_BRANCH, C_FOR, C_WHILE, C_SET, C_BREAK, C_CONTINUE, C_TRY };

typedef struct tchunk {
    uint8_t kind;
    uint8_t op;       /* C_SET: 0 for '=', else OP_ADD/OP_SUB/OP_MUL/… */
    uint32_t a, b;    /* C_TEXT: [a, b); C_LIT: literal a ("{{", "{%", "{#");
                         C_EXPR/C_BRANCH/C_WHILE/C_SET: expression a; C_FOR: iterable a */
    uint32_t ea, eb;  /* C_EXPR: the expression's text */
    uint32_t kids, nkids; /* C_FOR/C_SET targets; C_TRY: `as` name */
    uint32_t body, next, els, fin;
    uint32_t pos;
} tchunk;

typedef struct tprog {
    tchunk *v;
    size_t n, cap;
    uint32_t root;
} tprog;

typedef struct cctx { /* compiling */
    tctx *c;
    tprog *pg;
    size_t n; /* template length */
    int depth;
    int loops; /* loops around the block being parsed */
} cctx;

/* ------------------------------------------------------------- compiling */

static int chunk_new(cctx *k, int kind, size_t pos, uint32_t *id)
{
    tprog *pg = k->pg;
    if (sp__tgrow(k->c, (void **)&pg->v, &pg->cap, pg->n + 2, sizeof *pg->v))
        return k->c->rc;
    if (!pg->n) {
        memset(&pg->v[0], 0, sizeof pg->v[0]);
        pg->n = 1;
    }
    memset(&pg->v[pg->n], 0, sizeof pg->v[0]);
    pg->v[pg->n].kind = (uint8_t)kind;
    pg->v[pg->n].pos = (uint32_t)pos;
    *id = (uint32_t)pg->n++;
    return 0;
}

#define CH(k, id) (&(k)->pg->v[id])

typedef struct tag {
    char kind; /* '{', '%', '#' */
    size_t start, a, b, end;
} tag;

static int syntax(tctx *c, size_t pos, const char *what)
{
    return sp__tfail(c, SP_EDEF, (uint32_t)pos, "%s", what);
}

/* the next tag at or after i: 0 none, 1 found, <0 error.  `{{!`, `{%!`,
 * `{#!` are Tornado's escapes for a literal `{{`, `{%`, `{#`. */
static int next_tag(cctx *k, size_t i, tag *t, int *literal)
{
    const char *src = k->c->src;
    *literal = 0;
    for (; i + 1 < k->n; i++) {
        if (src[i] != '{' || (src[i + 1] != '{' && src[i + 1] != '%' && src[i + 1] != '#'))
            continue;
        char kind = src[i + 1];
        t->kind = kind;
        t->start = i;
        if (i + 2 < k->n && src[i + 2] == '!') {
            *literal = 1;
            t->end = i + 3;
            return 1;
        }
        char close = kind == '{' ? '}' : kind;
        size_t j = i + 2;
        char q = 0;
        for (; j + 1 < k->n; j++) {
            if (q) { /* quoted strings inside expressions */
                if (src[j] == '\\')
                    j++;
                else if (src[j] == q)
                    q = 0;
                continue;
            }
            if (kind != '#' && (src[j] == '\'' || src[j] == '"')) {
                q = src[j];
                continue;
            }
            if (src[j] == close && src[j + 1] == '}')
                break;
        }
        if (j + 1 >= k->n)
            return syntax(k->c, i, kind == '{' ? "unclosed '{{'" : kind == '%' ? "unclosed '{%'"
                                                                              : "unclosed '{#'");
        t->a = i + 2;
        t->b = j;
        t->end = j + 2;
        return 1;
    }
    return 0;
}

/* the statement word of a {% %} tag and where its argument starts */
static size_t stmt_word(cctx *k, const tag *t, const char **w, size_t *rest)
{
    const char *src = k->c->src;
    size_t i = t->a;
    while (i < t->b && isspace((unsigned char)src[i]))
        i++;
    *w = src + i;
    size_t s = i;
    while (i < t->b && (isalnum((unsigned char)src[i]) || src[i] == '_'))
        i++;
    *rest = i;
    return i - s;
}

static int word_is(const char *w, size_t n, const char *s)
{
    return n == strlen(s) && !memcmp(w, s, n);
}

static int is_blank(cctx *k, size_t a, size_t b)
{
    for (size_t i = a; i < b; i++)
        if (!isspace((unsigned char)k->c->src[i]))
            return 0;
    return 1;
}

/* parse a block from *i until a tag in `stops` (e.g. "elif else end");
 * *first receives the first chunk, *stop_tag the stopping tag (its word in
 * *stop_word), or the end of text when none of stops is NULL. */
static int parse_block(cctx *k, size_t *i, const char *const *stops, uint32_t *first, tag *stop_tag,
                       const char **stop_word, size_t *stop_len);

static int append(cctx *k, uint32_t *first, uint32_t *last, uint32_t id)
{
    if (*last)
        CH(k, *last)->next = id;
    else
        *first = id;
    *last = id;
    return 0;
}

static int unknown_stmt(cctx *k, const tag *t, const char *w, size_t wl)
{
    char msg[120];
    if (word_is(w, wl, "import") || word_is(w, wl, "from"))
        snprintf(msg, sizeof msg, "import is forbidden");
    else if (!wl)
        snprintf(msg, sizeof msg, "empty block tag ({%% %%})");
    else
        snprintf(msg, sizeof msg, "'{%% %.*s %%}' is not supported", (int)(wl > 20 ? 20 : wl), w);
    return sp__tfail(k->c, word_is(w, wl, "import") || word_is(w, wl, "from") || !wl ? SP_EDEF
                                                                                     : SP_EUNSUPPORTED,
                     (uint32_t)t->start, "%s", msg);
}

static int parse_if(cctx *k, const tag *t, size_t rest, size_t *i, uint32_t *out)
{
    static const char *const stops[] = { "elif", "else", "end", "endif", NULL };
    uint32_t id, last = 0;
    int rc = chunk_new(k, C_IF, t->start, &id);
    tag cur = *t;
    size_t cur_rest = rest;
    int is_else = 0;
    while (!rc) {
        uint32_t br;
        if ((rc = chunk_new(k, C_BRANCH, cur.start, &br)))
            break;
        if (!is_else) {
            if (is_blank(k, cur_rest, cur.b)) {
                rc = syntax(k->c, cur.start, "'{% if %}' needs a condition");
                break;
            }
            uint32_t cond;
            if ((rc = sp__texpr_parse(k->c, cur_rest, cur.b, &cond)))
                break;
            CH(k, br)->a = cond;
        }
        if (last)
            CH(k, last)->next = br;
        else
            CH(k, id)->body = br;
        last = br;
        tag st;
        const char *w = NULL;
        size_t wl = 0;
        uint32_t body = 0;
        if ((rc = parse_block(k, i, stops, &body, &st, &w, &wl)))
            break;
        CH(k, br)->body = body;
        if (!w) {
            rc = syntax(k->c, t->start, "'{% if %}' without '{% end %}'");
            break;
        }
        if (word_is(w, wl, "end") || word_is(w, wl, "endif"))
            break;
        if (is_else) {
            rc = syntax(k->c, st.start, "'{% elif %}' or '{% else %}' after '{% else %}'");
            break;
        }
        is_else = word_is(w, wl, "else");
        if (is_else && !is_blank(k, (size_t)(w - k->c->src) + wl, st.b)) {
            rc = syntax(k->c, st.start, "'{% else %}' takes no condition");
            break;
        }
        cur = st;
        cur_rest = (size_t)(w - k->c->src) + wl;
    }
    *out = id;
    return rc;
}

/* for/while bodies with an optional {% else %} */
static int parse_loop_body(cctx *k, uint32_t id, const tag *t, size_t *i)
{
    static const char *const stops[] = { "else", "end", NULL };
    static const char *const ends[] = { "end", NULL };
    tag st;
    const char *w = NULL;
    size_t wl = 0;
    uint32_t body = 0;
    k->loops++;
    int rc = parse_block(k, i, stops, &body, &st, &w, &wl);
    k->loops--;
    if (rc)
        return rc;
    CH(k, id)->body = body;
    if (w && word_is(w, wl, "else")) {
        uint32_t els = 0;
        if ((rc = parse_block(k, i, ends, &els, &st, &w, &wl)))
            return rc;
        CH(k, id)->els = els;
    }
    if (!w)
        return syntax(k->c, t->start, "a loop without '{% end %}'");
    return 0;
}

/* a for/set chunk with its targets parsed from rest; *stop: after them */
static int targets_chunk(cctx *k, int kind, const tag *t, size_t rest, uint32_t *id, size_t *stop)
{
    uint32_t kids, nkids;
    int rc = chunk_new(k, kind, t->start, id);
    if (!rc)
        rc = sp__texpr_parse_targets(k->c, rest, t->b, &kids, &nkids, stop);
    if (!rc) {
        CH(k, *id)->kids = kids;
        CH(k, *id)->nkids = nkids;
    }
    return rc;
}

static int parse_for(cctx *k, const tag *t, size_t rest, size_t *i, uint32_t *out)
{
    uint32_t id, iter;
    size_t stop;
    int rc = targets_chunk(k, C_FOR, t, rest, &id, &stop);
    if (rc)
        return rc;
    const char *src = k->c->src;
    if (stop + 2 > t->b || memcmp(src + stop, "in", 2) ||
        (stop + 2 < t->b && !isspace((unsigned char)src[stop + 2]) && src[stop + 2] != '('))
        return syntax(k->c, t->start, "'{% for x in … %}' expected");
    if ((rc = sp__texpr_parse(k->c, stop + 2, t->b, &iter)))
        return rc;
    CH(k, id)->a = iter;
    *out = id;
    return parse_loop_body(k, id, t, i);
}

static int parse_set(cctx *k, const tag *t, size_t rest, uint32_t *out)
{
    uint32_t id, e;
    size_t stop;
    int rc = targets_chunk(k, C_SET, t, rest, &id, &stop);
    if (rc)
        return rc;
    uint32_t nkids = CH(k, id)->nkids;
    const char *src = k->c->src;
    int op = 0;
    if (stop + 1 < t->b && src[stop + 1] == '=' && strchr("+-*/%", src[stop])) {
        op = src[stop] == '+' ? OP_ADD : src[stop] == '-' ? OP_SUB : src[stop] == '*' ? OP_MUL
           : src[stop] == '/' ? OP_DIV : OP_MOD;
        stop++;
        if (nkids != 1)
            return syntax(k->c, t->start, "an augmented '{% set %}' takes one name");
    }
    if (stop >= t->b || src[stop] != '=' || (stop + 1 < t->b && src[stop + 1] == '='))
        return syntax(k->c, t->start, "'{% set name = value %}' expected");
    if ((rc = sp__texpr_parse(k->c, stop + 1, t->b, &e)))
        return rc;
    CH(k, id)->a = e;
    CH(k, id)->op = (uint8_t)op;
    *out = id;
    return 0;
}

static int parse_try(cctx *k, const tag *t, size_t *i, uint32_t *out)
{
    static const char *const stops[] = { "except", "finally", "end", NULL };
    uint32_t id;
    int rc = chunk_new(k, C_TRY, t->start, &id);
    tag st;
    const char *w = NULL;
    size_t wl = 0;
    uint32_t body = 0;
    if (rc || (rc = parse_block(k, i, stops, &body, &st, &w, &wl)))
        return rc;
    CH(k, id)->body = body;
    *out = id;
    int seen_except = 0;
    while (w && !word_is(w, wl, "end")) {
        const char *src = k->c->src;
        if (word_is(w, wl, "except")) {
            if (seen_except)
                return syntax(k->c, st.start, "one '{% except %}' per '{% try %}'");
            seen_except = 1;
            /* `except`, `except Name`, `except Name as e`: every error is caught */
            size_t r = (size_t)(w - src) + wl, e = st.b;
            const char *as = NULL;
            for (size_t p = r; p + 3 < e; p++)
                if (isspace((unsigned char)src[p]) && src[p + 1] == 'a' && src[p + 2] == 's' &&
                    isspace((unsigned char)src[p + 3]))
                    as = src + p + 4;
            if (as) {
                size_t stop;
                uint32_t kids, nk;
                if ((rc = sp__texpr_parse_targets(k->c, (size_t)(as - src), e, &kids, &nk, &stop)))
                    return rc;
                if (nk != 1 || stop < e)
                    return syntax(k->c, st.start, "'{% except … as name %}' takes one name");
                CH(k, id)->kids = kids;
                CH(k, id)->nkids = 1;
            }
            uint32_t els = 0;
            if ((rc = parse_block(k, i, stops, &els, &st, &w, &wl)))
                return rc;
            CH(k, id)->els = els;
            continue;
        }
        static const char *const ends[] = { "end", NULL };
        uint32_t fin = 0;
        if ((rc = parse_block(k, i, ends, &fin, &st, &w, &wl)))
            return rc;
        CH(k, id)->fin = fin;
    }
    if (!w)
        return syntax(k->c, t->start, "'{% try %}' without '{% end %}'");
    if (!seen_except && !CH(k, id)->fin)
        return syntax(k->c, t->start, "'{% try %}' needs '{% except %}' or '{% finally %}'");
    return 0;
}

static int parse_block(cctx *k, size_t *i, const char *const *stops, uint32_t *first, tag *stop_tag,
                       const char **stop_word, size_t *stop_len)
{
    uint32_t last = 0;
    *first = 0;
    *stop_word = NULL;
    *stop_len = 0;
    if (++k->depth > 64)
        return syntax(k->c, *i, "blocks nested too deeply");
    int rc = 0;
    const char *src = k->c->src;
    while (!rc && *i < k->n) {
        tag t;
        int literal;
        int f = next_tag(k, *i, &t, &literal);
        if (f < 0) {
            rc = f;
            break;
        }
        size_t text_end = f ? t.start : k->n;
        uint32_t id;
        if (text_end > *i) {
            if ((rc = chunk_new(k, C_TEXT, *i, &id)))
                break;
            CH(k, id)->a = (uint32_t)*i;
            CH(k, id)->b = (uint32_t)text_end;
            append(k, first, &last, id);
        }
        if (!f) {
            *i = k->n;
            break;
        }
        *i = t.end;
        if (literal) {
            if ((rc = chunk_new(k, C_LIT, t.start, &id)))
                break;
            CH(k, id)->a = (uint32_t)t.kind;
            append(k, first, &last, id);
            continue;
        }
        if (t.kind == '#')
            continue;
        if (t.kind == '{') {
            if (is_blank(k, t.a, t.b)) {
                rc = syntax(k->c, t.start, "empty expression ({{ }})");
                break;
            }
            uint32_t e;
            if ((rc = sp__texpr_parse(k->c, t.a, t.b, &e)) || (rc = chunk_new(k, C_EXPR, t.start, &id)))
                break;
            CH(k, id)->a = e;
            CH(k, id)->ea = (uint32_t)t.a;
            CH(k, id)->eb = (uint32_t)t.b;
            append(k, first, &last, id);
            continue;
        }
        const char *w;
        size_t rest, wl = stmt_word(k, &t, &w, &rest);
        for (int s = 0; stops && stops[s]; s++)
            if (word_is(w, wl, stops[s])) {
                *stop_tag = t;
                *stop_word = w;
                *stop_len = wl;
                k->depth--;
                return 0;
            }
        id = 0;
        if (word_is(w, wl, "if"))
            rc = parse_if(k, &t, rest, i, &id);
        else if (word_is(w, wl, "for"))
            rc = parse_for(k, &t, rest, i, &id);
        else if (word_is(w, wl, "while")) {
            uint32_t cond;
            if (!(rc = chunk_new(k, C_WHILE, t.start, &id)) &&
                !(rc = sp__texpr_parse(k->c, rest, t.b, &cond))) {
                CH(k, id)->a = cond;
                rc = parse_loop_body(k, id, &t, i);
            }
        } else if (word_is(w, wl, "set"))
            rc = parse_set(k, &t, rest, &id);
        else if (word_is(w, wl, "try"))
            rc = parse_try(k, &t, i, &id);
        else if (word_is(w, wl, "break") || word_is(w, wl, "continue")) {
            if (!is_blank(k, rest, t.b))
                rc = syntax(k->c, t.start, "'{% break %}'/'{% continue %}' take nothing");
            else if (!k->loops)
                rc = syntax(k->c, t.start, "'{% break %}'/'{% continue %}' outside a loop");
            else
                rc = chunk_new(k, w[0] == 'b' ? C_BREAK : C_CONTINUE, t.start, &id);
        } else if (word_is(w, wl, "raw")) { /* {% raw expr %}: as {{ expr }} */
            uint32_t e;
            if (!(rc = sp__texpr_parse(k->c, rest, t.b, &e)) && !(rc = chunk_new(k, C_EXPR, t.start, &id))) {
                CH(k, id)->a = e;
                CH(k, id)->ea = (uint32_t)rest;
                CH(k, id)->eb = (uint32_t)t.b;
            }
        } else if (word_is(w, wl, "comment")) {
            continue;
        } else if (word_is(w, wl, "elif") || word_is(w, wl, "else") || word_is(w, wl, "end") ||
                   word_is(w, wl, "endif") || word_is(w, wl, "except") || word_is(w, wl, "finally")) {
            char msg[80];
            snprintf(msg, sizeof msg, "'{%% %.*s %%}' without its opening block", (int)wl, w);
            rc = syntax(k->c, t.start, msg);
        } else {
            rc = unknown_stmt(k, &t, w, wl);
        }
        if (!rc && id)
            append(k, first, &last, id);
        (void)src;
    }
    k->depth--;
    return rc;
}

/* compile src into pg; the leading "%" of a .pipe node (alone on its line
 * or before the SQL: `% SELECT …`) is dropped */
static int compile(tctx *c, tprog *pg)
{
    cctx k = { c, pg, strlen(c->src), 0, 0 };
    size_t i = 0, j = 0;
    while (j < k.n && (c->src[j] == ' ' || c->src[j] == '\t' || c->src[j] == '\n' || c->src[j] == '\r'))
        j++;
    if (j < k.n && c->src[j] == '%' &&
        (j + 1 == k.n || c->src[j + 1] == '\n' || c->src[j + 1] == '\r' || c->src[j + 1] == ' ' ||
         c->src[j + 1] == '\t'))
        i = j + 1;
    tag st;
    const char *w;
    size_t wl;
    return parse_block(&k, &i, NULL, &pg->root, &st, &w, &wl);
}

/* ------------------------------------------------------------- executing */

enum { CTL_NONE, CTL_BREAK, CTL_CONTINUE };

typedef struct xctx {
    tctx *c;
    tprog *pg;
    sp_buf *out;
} xctx;

static int exec_list(xctx *x, uint32_t id, int *ctl);

static int exec_expr(xctx *x, const tchunk *ch)
{
    tctx *c = x->c;
    tv v;
    int rc = sp__texpr_eval(c, ch->a, &v);
    if (rc)
        return rc;
    size_t a = ch->ea, b = ch->eb;
    while (a < b && isspace((unsigned char)c->src[a]))
        a++;
    while (b > a && isspace((unsigned char)c->src[b - 1]))
        b--;
    char what[32]; /* the message shows 20 characters and "..." */
    snprintf(what, sizeof what, "%.*s", (int)(b - a > 30 ? 30 : b - a), c->src + a);
    rc = sp__tv_sql(c, &v, x->out, what, ch->pos);
    sp__tv_drop(&v);
    return rc;
}

static int exec_loop(xctx *x, const tchunk *ch, int *ctl)
{
    tctx *c = x->c;
    int rc = 0, broke = 0;
    if (ch->kind == C_FOR) {
        tv it;
        tv *items;
        size_t n;
        if ((rc = sp__texpr_eval(c, ch->a, &it)))
            return rc;
        rc = sp__titer(c, &it, &items, &n, ch->pos);
        sp__tv_drop(&it);
        if (rc)
            return rc;
        for (size_t i = 0; i < n && !rc; i++) {
            int inner = CTL_NONE;
            if ((rc = sp__texpr_assign(c, ch->kids, ch->nkids, &items[i], ch->pos)) ||
                (rc = exec_list(x, ch->body, &inner)))
                break;
            if (inner == CTL_BREAK) {
                broke = 1;
                break;
            }
        }
        sp__titems_free(items, n);
    } else {
        for (;;) {
            tv cond;
            if ((rc = sp__tstep(c, 1, ch->pos)) || (rc = sp__texpr_eval(c, ch->a, &cond)))
                break;
            int t = sp__tv_truthy(&cond);
            sp__tv_drop(&cond);
            if (!t)
                break;
            int inner = CTL_NONE;
            if ((rc = exec_list(x, ch->body, &inner)))
                break;
            if (inner == CTL_BREAK) {
                broke = 1;
                break;
            }
        }
    }
    if (!rc && !broke && ch->els)
        rc = exec_list(x, ch->els, ctl);
    return rc;
}

static int exec_set(xctx *x, const tchunk *ch)
{
    tctx *c = x->c;
    tv v;
    int rc = sp__texpr_eval(c, ch->a, &v);
    if (rc)
        return rc;
    if (ch->op) {
        tv cur, res;
        uint32_t name = c->ast->kids[ch->kids];
        if (!(rc = sp__texpr_eval(c, name, &cur))) {
            rc = sp__texpr_binop(c, ch->op, &cur, &v, &res, ch->pos);
            sp__tv_drop(&cur);
            sp__tv_drop(&v);
            if (rc)
                return rc;
            v = res;
        }
    }
    if (!rc)
        rc = sp__texpr_assign(c, ch->kids, ch->nkids, &v, ch->pos);
    sp__tv_drop(&v);
    return rc;
}

static int exec_try(xctx *x, const tchunk *ch, int *ctl)
{
    tctx *c = x->c;
    size_t mark = x->out->len;
    int rc = exec_list(x, ch->body, ctl);
    if (rc && rc != SP_ENOMEM && rc != SP_ETOOBIG && (ch->els || ch->nkids)) {
        /* caught: the try block's output is dropped and the error forgotten */
        char msg[sizeof c->err->msg];
        snprintf(msg, sizeof msg, "%s", c->err ? c->err->msg : "");
        x->out->len = mark;
        if (x->out->data)
            x->out->data[mark] = '\0';
        if (c->err)
            *c->err = (sp_error)SP_ERROR_INIT;
        if (c->status) {
            free(c->status->body);
            memset(c->status, 0, sizeof *c->status);
        }
        c->rc = 0;
        rc = 0;
        if (ch->nkids) {
            tv m;
            if (!(rc = sp__tv_strz(c, msg, &m))) {
                rc = sp__texpr_assign(c, ch->kids, 1, &m, ch->pos);
                sp__tv_drop(&m);
            }
        }
        if (!rc)
            rc = exec_list(x, ch->els, ctl);
    }
    if (!rc && ch->fin)
        rc = exec_list(x, ch->fin, ctl);
    return rc;
}

static int exec_list(xctx *x, uint32_t id, int *ctl)
{
    tctx *c = x->c;
    int rc = 0;
    if (++c->depth > 200) {
        c->depth--;
        return sp__tfail(c, SP_EDEF, UINT32_MAX, "template: blocks nested too deeply");
    }
    for (; id && !rc && *ctl == CTL_NONE; id = x->pg->v[id].next) {
        const tchunk *ch = &x->pg->v[id];
        if ((rc = sp__tstep(c, 1, ch->pos)))
            break;
        switch (ch->kind) {
        case C_TEXT: rc = sp_buf_add(x->out, c->src + ch->a, ch->b - ch->a, c->err); break;
        case C_LIT: rc = sp_buf_add(x->out, ch->a == '{' ? "{{" : ch->a == '%' ? "{%" : "{#", 2, c->err); break;
        case C_EXPR: rc = exec_expr(x, ch); break;
        case C_IF:
            for (uint32_t br = ch->body; br && !rc; br = x->pg->v[br].next) {
                const tchunk *b = &x->pg->v[br];
                int t = 1;
                if (b->a) {
                    tv cond;
                    if ((rc = sp__texpr_eval(c, b->a, &cond)))
                        break;
                    t = sp__tv_truthy(&cond);
                    sp__tv_drop(&cond);
                }
                if (t) {
                    rc = exec_list(x, b->body, ctl);
                    break;
                }
            }
            break;
        case C_FOR:
        case C_WHILE: rc = exec_loop(x, ch, ctl); break;
        case C_SET: rc = exec_set(x, ch); break;
        case C_BREAK: *ctl = CTL_BREAK; break;
        case C_CONTINUE: *ctl = CTL_CONTINUE; break;
        case C_TRY: rc = exec_try(x, ch, ctl); break;
        default: break;
        }
        if (rc && !c->rc) /* a buffer error (ceiling) */
            c->rc = rc;
    }
    c->depth--;
    return rc ? rc : c->rc;
}

/* ------------------------------------------------------ declared params */

static int is_builtin(const char *s, size_t n)
{
    static const char *const names[] = { "len", "str", "int", "float", "abs", "round", "range",
                                         "list", "tuple", "sorted", "reversed", "enumerate", "zip",
                                         "min", "max", "sum", "any", "all", "repr", NULL };
    for (int k = 0; names[k]; k++)
        if (strlen(names[k]) == n && !memcmp(names[k], s, n))
            return 1;
    return 0;
}

typedef struct pnode {
    uint32_t pos, id;
} pnode;

static int pnode_cmp(const void *a, const void *b)
{
    const pnode *x = a, *y = b;
    return x->pos != y->pos ? (x->pos < y->pos ? -1 : 1) : (x->id < y->id ? -1 : x->id > y->id);
}

typedef struct pcol {
    sp_tparam *v;
    int *typed;
    size_t n, cap;
} pcol;

/* the text of a constant argument (Python str()), or NULL */
static char *const_text(tctx *c, uint32_t id)
{
    if (!id)
        return NULL;
    const tnode *nd = &c->ast->v[id];
    int neg = 0;
    if (nd->kind == N_UNARY && nd->op == '-' && c->ast->v[nd->a].kind == N_CONST) {
        neg = 1;
        nd = &c->ast->v[nd->a];
    }
    if (nd->kind != N_CONST || nd->val.kind == TV_NONE)
        return NULL;
    sp_buf b = SP_BUF_INIT((size_t)1 << 20);
    if (neg)
        sp_buf_addch(&b, '-', NULL);
    if (sp__tv_pystr(c, &nd->val, &b, 0)) {
        sp_buf_release(&b);
        return NULL;
    }
    char *s = b.data ? sp_buf_detach(&b) : strndup("", 0);
    sp_buf_release(&b);
    return s;
}

static int pcol_add(tctx *c, pcol *pc, const char *name, size_t nl, const char *type, char *def,
                    char *desc, int required, int typed)
{
    for (size_t i = 0; i < pc->n; i++) {
        sp_tparam *t = &pc->v[i];
        if (strlen(t->name) != nl || memcmp(t->name, name, nl))
            continue;
        if (typed && !pc->typed[i]) {
            char *ty = strdup(type);
            if (!ty) {
                free(def);
                free(desc);
                return sp__toom(c);
            }
            free(t->type);
            t->type = ty;
            pc->typed[i] = 1;
        }
        if (!t->default_val && def) {
            t->default_val = def;
            def = NULL;
        }
        if (!t->description && desc) {
            t->description = desc;
            desc = NULL;
        }
        t->required |= required;
        free(def);
        free(desc);
        return 0;
    }
    size_t cap1 = pc->cap, cap2 = pc->cap;
    if (sp__tgrow(c, (void **)&pc->v, &cap1, pc->n + 1, sizeof *pc->v) ||
        sp__tgrow(c, (void **)&pc->typed, &cap2, pc->n + 1, sizeof *pc->typed)) {
        free(def);
        free(desc);
        return c->rc;
    }
    pc->cap = cap1 < cap2 ? cap1 : cap2;
    sp_tparam *t = &pc->v[pc->n];
    memset(t, 0, sizeof *t);
    t->name = strndup(name, nl);
    t->type = strdup(type);
    t->default_val = def;
    t->description = desc;
    t->required = required;
    pc->typed[pc->n] = typed;
    pc->n++;
    if (!t->name || !t->type)
        return sp__toom(c);
    return 0;
}

/* a typed call's argument by keyword, or by position */
static uint32_t call_arg(tctx *c, const tnode *call, const char *kw, size_t posn)
{
    size_t p = 0;
    for (uint32_t i = 0; i < call->nkids; i++) {
        const tnode *a = &c->ast->v[c->ast->kids[call->kids + i]];
        if (a->kind == N_KW) {
            if (strlen(kw) == a->namelen && !memcmp(c->src + a->name, kw, a->namelen))
                return a->a;
        } else if (p++ == posn) {
            return c->ast->kids[call->kids + i];
        }
    }
    return 0;
}

/* walk every expression of the program: typed declarations, bare names */
static int collect_params(tctx *c, tprog *pg, pcol *pc, int arrays_only)
{
    tast *ast = c->ast;
    /* names assigned by set/for/except are variables, not parameters */
    uint8_t *local = calloc(ast->n ? ast->n : 1, 1), *skip = calloc(ast->n ? ast->n : 1, 1);
    pnode *order = calloc(ast->n ? ast->n : 1, sizeof *order);
    int rc = local && skip && order ? 0 : sp__toom(c);
    for (size_t i = 1; !rc && i < pg->n; i++)
        if (pg->v[i].kind == C_FOR || pg->v[i].kind == C_SET || pg->v[i].kind == C_TRY)
            for (uint32_t j = 0; j < pg->v[i].nkids; j++)
                local[ast->kids[pg->v[i].kids + j]] = 1;
    for (size_t i = 1; !rc && i < ast->n; i++)
        if (ast->v[i].kind == N_COMP)
            for (uint32_t j = 0; j < ast->v[i].nkids; j++)
                local[ast->kids[ast->v[i].kids + j]] = 1;
    /* the assigned names, once each */
    uint32_t *locals = NULL;
    size_t nlocals = 0, caplocals = 0;
    for (size_t i = 1; !rc && i < ast->n; i++) {
        if (!local[i])
            continue;
        size_t k = 0;
        for (; k < nlocals; k++)
            if (ast->v[locals[k]].namelen == ast->v[i].namelen &&
                !memcmp(c->src + ast->v[locals[k]].name, c->src + ast->v[i].name, ast->v[i].namelen))
                break;
        if (k == nlocals && !(rc = sp__tgrow(c, (void **)&locals, &caplocals, nlocals + 1, sizeof *locals)))
            locals[nlocals++] = (uint32_t)i;
    }
    size_t no = 0;
    for (size_t i = 1; !rc && i < ast->n; i++) {
        const tnode *nd = &ast->v[i];
        if (nd->kind == N_CALL && ast->v[nd->a].kind == N_NAME)
            skip[nd->a] = 1;
        if (nd->kind == N_CALL || nd->kind == N_NAME)
            order[no++] = (pnode){ nd->pos, (uint32_t)i };
    }
    if (!rc)
        qsort(order, no, sizeof *order, pnode_cmp);
    for (size_t o = 0; !rc && o < no; o++) {
        const tnode *nd = &ast->v[order[o].id];
        if (nd->kind == N_CALL) {
            const tnode *fn = &ast->v[nd->a];
            if (fn->kind != N_NAME || !sp__tis_typed(c->src + fn->name, fn->namelen))
                continue;
            uint32_t x = call_arg(c, nd, "x", 0);
            if (!x || ast->v[x].kind != N_NAME || local[x])
                continue;
            const tnode *xn = &ast->v[x];
            int is_array = fn->namelen == 5 && !memcmp(c->src + fn->name, "Array", 5);
            char type[64];
            char *et = is_array ? const_text(c, call_arg(c, nd, "_type", 1)) : NULL;
            if (is_array)
                snprintf(type, sizeof type, "Array(%s)", et ? et : "String");
            else
                snprintf(type, sizeof type, "%.*s", (int)fn->namelen, c->src + fn->name);
            if (arrays_only) {
                /* the first typed declaration of a name decides */
                int seen = 0;
                for (size_t k = 0; k < pc->n; k++)
                    seen |= strlen(pc->v[k].name) == xn->namelen &&
                            !memcmp(pc->v[k].name, c->src + xn->name, xn->namelen);
                if (!seen && is_array) {
                    tarr *na = realloc(c->arrays, (c->narrays + 1) * sizeof *na);
                    if (!na) {
                        free(et);
                        rc = sp__toom(c);
                        break;
                    }
                    c->arrays = na;
                    na[c->narrays].name = strndup(c->src + xn->name, xn->namelen);
                    na[c->narrays].etype = et ? et : strdup("String");
                    et = NULL;
                    if (!na[c->narrays].name || !na[c->narrays].etype) {
                        free(na[c->narrays].name);
                        free(na[c->narrays].etype);
                        rc = sp__toom(c);
                        break;
                    }
                    c->narrays++;
                }
                free(et);
                if (!seen)
                    rc = pcol_add(c, pc, c->src + xn->name, xn->namelen, type, NULL, NULL, 0, 1);
                continue;
            }
            free(et);
            char *def = const_text(c, call_arg(c, nd, "default", is_array ? 2 : 1));
            char *desc = const_text(c, call_arg(c, nd, "description", is_array ? 5 : 4));
            uint32_t req = call_arg(c, nd, "required", is_array ? 4 : 3);
            int required = req && ast->v[req].kind == N_CONST && sp__tv_truthy(&ast->v[req].val);
            skip[x] = 1;
            rc = pcol_add(c, pc, c->src + xn->name, xn->namelen, type, def, desc, required, 1);
        } else if (!arrays_only && !skip[order[o].id] && !local[order[o].id]) {
            const char *nm = c->src + nd->name;
            int is_local = 0;
            for (size_t k = 0; k < nlocals && !is_local; k++)
                is_local = ast->v[locals[k]].namelen == nd->namelen &&
                           !memcmp(c->src + ast->v[locals[k]].name, nm, nd->namelen);
            if (is_local || sp__tis_function(nm, nd->namelen) || is_builtin(nm, nd->namelen))
                continue;
            rc = pcol_add(c, pc, nm, nd->namelen, "String", NULL, NULL, 0, 0);
        }
    }
    free(local);
    free(skip);
    free(order);
    free(locals);
    return rc;
}

/* ----------------------------------------------------------------- the API */

static void ctx_init(tctx *c, tast *ast, tprog *pg, const char *src, sp_error *err)
{
    memset(ast, 0, sizeof *ast);
    memset(pg, 0, sizeof *pg);
    memset(c, 0, sizeof *c);
    c->src = src;
    c->err = err;
    c->ast = ast;
}

static void ctx_release(tctx *c, tprog *pg, tast *ast)
{
    for (size_t i = 0; i < c->nvars; i++) {
        free(c->vars[i].name);
        sp__tv_drop(&c->vars[i].v);
    }
    free(c->vars);
    for (size_t i = 0; i < c->narrays; i++) {
        free(c->arrays[i].name);
        free(c->arrays[i].etype);
    }
    free(c->arrays);
    free(pg->v);
    sp__tast_free(ast);
}

int sp_template_render_ex(const char *src, const sp_param *params, size_t nparams,
                          const char *where, unsigned flags, sp_buf *out,
                          sp_template_status *st, sp_error *err)
{
    tast ast;
    tprog pg;
    tctx c;
    ctx_init(&c, &ast, &pg, src, err);
    c.params = params;
    c.np = nparams;
    c.where = where;
    c.flags = flags;
    c.status = st;
    if (st)
        memset(st, 0, sizeof *st);
    int rc = compile(&c, &pg);
    pcol pc = { 0 };
    if (!rc)
        rc = collect_params(&c, &pg, &pc, 1);
    sp_tparams_free(pc.v, pc.n);
    free(pc.typed);
    if (!rc) {
        xctx x = { &c, &pg, out };
        int ctl = CTL_NONE;
        rc = exec_list(&x, pg.root, &ctl);
    }
    if (rc && st && !st->http_status)
        st->http_status = rc == SP_EPARAM ? 400 : 0;
    ctx_release(&c, &pg, &ast);
    return rc;
}

int sp_template_render(const char *src, const sp_param *params, size_t nparams,
                       const char *where, sp_buf *out, sp_error *err)
{
    return sp_template_render_ex(src, params, nparams, where, 0, out, NULL, err);
}

int sp_template_params(const char *src, sp_tparam **out, size_t *n, sp_error *err)
{
    tast ast;
    tprog pg;
    tctx c;
    ctx_init(&c, &ast, &pg, src, err);
    pcol pc = { 0 };
    int rc = compile(&c, &pg);
    if (!rc)
        rc = collect_params(&c, &pg, &pc, 0);
    ctx_release(&c, &pg, &ast);
    free(pc.typed);
    if (rc) {
        sp_tparams_free(pc.v, pc.n);
        *out = NULL;
        *n = 0;
        return rc;
    }
    *out = pc.v;
    *n = pc.n;
    return 0;
}

void sp_tparams_free(sp_tparam *v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++) {
        free(v[i].name);
        free(v[i].type);
        free(v[i].default_val);
        free(v[i].description);
    }
    free(v);
}
