/* sp_sql_now: the run's logical time in a statement (see sp_sql.h). */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>

#include "sp_error.h"
#include "sp_sql.h"
#include "sp_sql_lex.h"
#include "sp_banned.h"

static size_t next_tok(const sp_tok *t, size_t n, size_t i)
{
    while (i < n && (t[i].kind == SP_TOK_WS || t[i].kind == SP_TOK_COMMENT))
        i++;
    return i;
}

static int tok_op(const char *src, const sp_tok *t, char c)
{
    return t->kind == SP_TOK_OP && t->len == 1 && src[t->off] == c;
}

/* now() / today() / yesterday() -> constants of the logical time, named as
 * ClickHouse names the call; a trailing ';' and FORMAT clause are dropped */
int sp_sql_logical_time(const char *sql, int64_t now_unix, sp_buf *out, sp_error *err)
{
    sp_tok *t = NULL;
    size_t n = 0;
    int rc = sp_sql_lex(sql, strlen(sql), &t, &n, err);
    if (rc)
        return rc;
    time_t tt = (time_t)now_unix;
    struct tm tm;
    if (!gmtime_r(&tt, &tm)) {
        free(t);
        return sp_error_set(err, SP_EINVAL, 0, "logical time %lld is out of range",
                            (long long)now_unix);
    }
    time_t yt = tt - 86400;
    struct tm ym;
    gmtime_r(&yt, &ym);
    /* the end: a trailing ';' and a trailing FORMAT <name> go (sinkpipe
     * reads the result in its own format) */
    size_t sig[3] = { n, n, n }; /* the last three significant tokens */
    for (size_t i = 0; i < n; i++)
        if (t[i].kind != SP_TOK_WS && t[i].kind != SP_TOK_COMMENT) {
            sig[0] = sig[1];
            sig[1] = sig[2];
            sig[2] = i;
        }
    size_t stop = n; /* tokens from here on are not sent */
    int k = 2;
    if (sig[k] < n && tok_op(sql, &t[sig[k]], ';'))
        stop = sig[k--];
    if (k >= 1 && sig[k] < n && sig[k - 1] < n && t[sig[k]].kind == SP_TOK_IDENT &&
        sp_tok_is(sql, &t[sig[k - 1]], "FORMAT"))
        stop = sig[k - 1];
    size_t prev = n; /* previous significant token */
    for (size_t i = 0; i < n && !rc; i++) {
        if (i >= stop)
            break;
        int kind = 0;
        if (t[i].kind == SP_TOK_IDENT &&
            !(prev < n && tok_op(sql, &t[prev], '.'))) {
            if (sp_tok_is(sql, &t[i], "now"))
                kind = 1;
            else if (sp_tok_is(sql, &t[i], "today"))
                kind = 2;
            else if (sp_tok_is(sql, &t[i], "yesterday"))
                kind = 3;
        }
        size_t a = kind ? next_tok(t, n, i + 1) : n;
        size_t b = a < n ? next_tok(t, n, a + 1) : n;
        if (kind && a < n && b < n && tok_op(sql, &t[a], '(') && tok_op(sql, &t[b], ')')) {
            const struct tm *m = kind == 3 ? &ym : &tm;
            if (kind == 1)
                rc = sp_buf_addf(out, err,
                                 "(toDateTime('%04d-%02d-%02d %02d:%02d:%02d') AS `%.*s()`)",
                                 m->tm_year + 1900, m->tm_mon + 1, m->tm_mday, m->tm_hour,
                                 m->tm_min, m->tm_sec, (int)t[i].len, sql + t[i].off);
            else
                rc = sp_buf_addf(out, err, "(toDate('%04d-%02d-%02d') AS `%.*s()`)",
                                 m->tm_year + 1900, m->tm_mon + 1, m->tm_mday, (int)t[i].len,
                                 sql + t[i].off);
            prev = b;
            i = b;
            continue;
        }
        rc = sp_buf_add(out, sql + t[i].off, t[i].len, err);
        if (t[i].kind != SP_TOK_WS && t[i].kind != SP_TOK_COMMENT)
            prev = i;
    }
    free(t);
    return rc;
}
