/* sp_template: Tinybird's template language (see sp_template.h and
 * docs/templates.md).  Text outside tags is copied as is; `{{ expr }}`
 * renders a value as a ClickHouse SQL literal; `{% if %}…{% elif %}…
 * {% else %}…{% end %}` chooses text; `{# … #}` is a comment.  Parameter
 * values are never pasted raw: every value goes out as a checked number, a
 * quoted and escaped string, or a validated identifier. */
#include "sp_template.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sp_error.h"
#include "sp_template_int.h"

int sp_template_is_templated(const char *src)
{
    return src && (strstr(src, "{{") || strstr(src, "{%"));
}

/* 1-based line of offset off */
static int line_of(const char *src, size_t off)
{
    int line = 1;
    for (size_t i = 0; i < off && src[i]; i++)
        if (src[i] == '\n')
            line++;
    return line;
}

static int syntax(sp_error *err, const char *where, const char *src, size_t off,
                  const char *what)
{
    return sp_error_set(err, SP_EDEF, 0, "%s%stemplate line %d: %s", where ? where : "",
                        where ? ": " : "", line_of(src, off), what);
}

/* one tag: kind '{' for {{ }}, '%' for {% %}; body [a, b) */
typedef struct tag {
    char kind;
    size_t start, a, b, end;
} tag;

/* find the next tag at or after i; 0 if none, 1 found, <0 error */
static int next_tag(const char *src, size_t n, size_t i, tag *t, const char *where,
                    sp_error *err)
{
    for (; i + 1 < n; i++) {
        if (src[i] != '{' || (src[i + 1] != '{' && src[i + 1] != '%' && src[i + 1] != '#'))
            continue;
        char k = src[i + 1];
        char close = k == '{' ? '}' : k;
        size_t j = i + 2;
        char q = 0;
        for (; j + 1 < n; j++) {
            if (q) { /* skip quoted strings inside expressions */
                if (src[j] == '\\')
                    j++;
                else if (src[j] == q)
                    q = 0;
                continue;
            }
            if (k != '#' && (src[j] == '\'' || src[j] == '"')) {
                q = src[j];
                continue;
            }
            if (src[j] == close && src[j + 1] == '}')
                break;
        }
        if (j + 1 >= n)
            return syntax(err, where, src, i,
                          k == '{' ? "unclosed '{{'" : k == '%' ? "unclosed '{%'" : "unclosed '{#'");
        t->kind = k;
        t->start = i;
        t->a = i + 2;
        t->b = j;
        t->end = j + 2;
        return 1;
    }
    return 0;
}

/* the first word of a {% %} body */
static size_t stmt_word(const char *src, const tag *t, const char **w)
{
    size_t i = t->a;
    while (i < t->b && isspace((unsigned char)src[i]))
        i++;
    *w = src + i;
    size_t s = i;
    while (i < t->b && (isalnum((unsigned char)src[i]) || src[i] == '_'))
        i++;
    return i - s;
}

static int word_is(const char *w, size_t n, const char *s)
{
    return n == strlen(s) && memcmp(w, s, n) == 0;
}

/* render [i, n) until a block end at the same level; *stop receives the
 * position of the stopping tag (elif/else/end) or n.  emit = 0 skips text. */
typedef struct rctx {
    const char *src;
    size_t n;
    const sp_param *params;
    size_t nparams;
    const char *where;
    sp_buf *out;
    sp_error *err;
    int depth;
    sp__tcollect *collect; /* declarations mode (sp_template_params) */
} rctx;

static int render_block(rctx *c, size_t i, int emit, size_t *stop, tag *stop_tag);

/* an if-chain starting at tag t (already known to be `if`); *after = end */
static int render_if(rctx *c, const tag *t, int emit, size_t *after)
{
    int taken = 0, rc;
    tag cur = *t;
    for (;;) {
        const char *w;
        size_t wl = stmt_word(c->src, &cur, &w);
        int is_else = word_is(w, wl, "else"), truth = is_else;
        if (!is_else && (c->collect || (emit && !taken))) {
            size_t cond_a = (size_t)(w - c->src) + wl;
            rc = sp__texpr_truth(c->src, cond_a, cur.b, c->params, c->nparams, c->where, &truth,
                                 c->collect, c->err);
            if (rc)
                return rc;
        }
        int run = emit && !taken && truth;
        if (run)
            taken = 1;
        size_t stop;
        tag st;
        if ((rc = render_block(c, cur.end, run, &stop, &st)))
            return rc;
        if (stop >= c->n)
            return syntax(c->err, c->where, c->src, t->start, "'{% if %}' without '{% end %}'");
        const char *sw;
        size_t swl = stmt_word(c->src, &st, &sw);
        if (word_is(sw, swl, "end") || word_is(sw, swl, "endif")) {
            *after = st.end;
            return 0;
        }
        if (is_else)
            return syntax(c->err, c->where, c->src, st.start,
                          "'{% elif %}' or '{% else %}' after '{% else %}'");
        cur = st;
    }
}

static int render_block(rctx *c, size_t i, int emit, size_t *stop, tag *stop_tag)
{
    if (++c->depth > 64) {
        c->depth--;
        return syntax(c->err, c->where, c->src, i, "blocks nested too deeply");
    }
    int rc = 0;
    while (i < c->n) {
        tag t;
        int f = next_tag(c->src, c->n, i, &t, c->where, c->err);
        if (f < 0) {
            rc = f;
            break;
        }
        size_t text_end = f ? t.start : c->n;
        if (emit && !c->collect && text_end > i &&
            (rc = sp_buf_add(c->out, c->src + i, text_end - i, c->err)))
            break;
        if (!f) {
            i = c->n;
            break;
        }
        if (t.kind == '#') {
            i = t.end;
            continue;
        }
        if (t.kind == '{') {
            if (emit || c->collect) {
                rc = sp__texpr_render(c->src, t.a, t.b, c->params, c->nparams, c->where,
                                      emit && !c->collect ? c->out : NULL, c->collect, c->err);
                if (rc)
                    break;
            }
            i = t.end;
            continue;
        }
        const char *w;
        size_t wl = stmt_word(c->src, &t, &w);
        if (word_is(w, wl, "if")) {
            size_t after = c->n;
            if ((rc = render_if(c, &t, emit, &after)))
                break;
            i = after;
            continue;
        }
        if (word_is(w, wl, "elif") || word_is(w, wl, "else") || word_is(w, wl, "end") ||
            word_is(w, wl, "endif")) {
            *stop = t.start;
            *stop_tag = t;
            c->depth--;
            return 0;
        }
        if (word_is(w, wl, "for") || word_is(w, wl, "set") || word_is(w, wl, "while")) {
            char msg[64];
            snprintf(msg, sizeof msg, "'{%% %.*s %%}' is not supported", (int)wl, w);
            rc = sp_error_set(c->err, SP_EUNSUPPORTED, 0, "%s%stemplate line %d: %s",
                              c->where ? c->where : "", c->where ? ": " : "",
                              line_of(c->src, t.start), msg);
            break;
        }
        char msg[80];
        snprintf(msg, sizeof msg, "unknown statement '{%% %.*s %%}'", (int)(wl > 20 ? 20 : wl), w);
        rc = syntax(c->err, c->where, c->src, t.start, msg);
        break;
    }
    *stop = c->n;
    c->depth--;
    return rc;
}

static int render_all(rctx *c)
{
    size_t i = 0;
    /* a .pipe node's leading "%" line marks it as templated */
    size_t k = 0;
    while (k < c->n && (c->src[k] == ' ' || c->src[k] == '\t' || c->src[k] == '\n' || c->src[k] == '\r'))
        k++;
    if (k < c->n && c->src[k] == '%' && (k + 1 == c->n || c->src[k + 1] == '\n' || c->src[k + 1] == '\r'))
        i = k + 1;
    size_t stop;
    tag st;
    int rc = render_block(c, i, 1, &stop, &st);
    if (!rc && stop < c->n) {
        const char *w;
        size_t wl = stmt_word(c->src, &st, &w);
        char msg[80];
        snprintf(msg, sizeof msg, "'{%% %.*s %%}' without '{%% if %%}'", (int)(wl > 20 ? 20 : wl), w);
        rc = syntax(c->err, c->where, c->src, stop, msg);
    }
    return rc;
}

int sp_template_render(const char *src, const sp_param *params, size_t nparams,
                       const char *where, sp_buf *out, sp_error *err)
{
    rctx c = { src, strlen(src), params, nparams, where, out, err, 0, NULL };
    return render_all(&c);
}

int sp_template_params(const char *src, sp_tparam **out, size_t *n, sp_error *err)
{
    sp__tcollect col;
    memset(&col, 0, sizeof col);
    sp_buf dummy = SP_BUF_INIT(1);
    rctx c = { src, strlen(src), NULL, 0, NULL, &dummy, err, 0, &col };
    int rc = render_all(&c);
    sp_buf_release(&dummy);
    if (rc) {
        sp_tparams_free(col.v, col.n);
        *out = NULL;
        *n = 0;
        return rc;
    }
    *out = col.v;
    *n = col.n;
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
