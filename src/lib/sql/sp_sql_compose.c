/* sp_sql_compose: a pipe's nodes into one statement (see sp_sql.h). */
#include <stdlib.h>
#include <string.h>

#include "sp_error.h"
#include "sp_sql.h"
#include "sp_sql_lex.h"
#include "sp_banned.h"

/* words that start a clause: a node name right after FROM/JOIN is a table
 * reference, not one of these */
static const char *const clause_kw[] = {
    "SELECT", "FROM",  "WHERE", "PREWHERE", "GROUP", "ORDER", "HAVING", "LIMIT", "SETTINGS",
    "FORMAT", "UNION", "JOIN",  "LEFT",     "RIGHT", "INNER", "FULL",   "CROSS", "ON",
    "USING",  "ARRAY", "WINDOW", "QUALIFY", "INTERSECT", "EXCEPT", "OFFSET", "INTO",
    "GLOBAL", "FINAL", "SAMPLE", "ASOF", "SEMI", "ANTI", "OUTER", "PASTE", NULL,
};

static int is_clause_kw(const char *src, const sp_tok *t)
{
    for (int k = 0; clause_kw[k]; k++)
        if (sp_tok_is(src, t, clause_kw[k]))
            return 1;
    return 0;
}

static int tok_equals(const char *s, const sp_tok *t, const char *name)
{
    size_t n = strlen(name);
    if (t->kind == SP_TOK_IDENT)
        return t->len == n && memcmp(s + t->off, name, n) == 0;
    if (t->kind == SP_TOK_QIDENT && t->len == n + 2)
        return memcmp(s + t->off + 1, name, n) == 0;
    return 0;
}

int sp_sql_table_refs(const char *sql, sp_sql_ref_fn fn, void *ud, sp_error *err)
{
    sp_tok *t = NULL;
    size_t nt = 0;
    const char *s = sql ? sql : "";
    int rc = sp_sql_lex(s, strlen(s), &t, &nt, err);
    size_t prev = SIZE_MAX;
    for (size_t k = 0; k < nt && !rc; k++) {
        if (t[k].kind == SP_TOK_WS || t[k].kind == SP_TOK_COMMENT)
            continue;
        if (prev != SIZE_MAX && (sp_tok_is(s, &t[prev], "FROM") || sp_tok_is(s, &t[prev], "JOIN")) &&
            (t[k].kind == SP_TOK_IDENT || t[k].kind == SP_TOK_QIDENT) && !is_clause_kw(s, &t[k])) {
            size_t q = k + 1;
            while (q < nt && (t[q].kind == SP_TOK_WS || t[q].kind == SP_TOK_COMMENT))
                q++;
            /* db.table and table functions name no pipe */
            int qualified = q < nt && t[q].len == 1 && (s[t[q].off] == '.' || s[t[q].off] == '(');
            if (!qualified) {
                const char *name = s + t[k].off;
                size_t len = t[k].len;
                if (t[k].kind == SP_TOK_QIDENT && len >= 2) {
                    name++;
                    len -= 2;
                }
                rc = fn(ud, name, len, err);
            }
        }
        prev = k;
    }
    free(t);
    return rc;
}

int sp_sql_compose(const char *const *names, const char *const *sqls, size_t n, sp_buf *out,
                   size_t *failed, sp_error *err)
{
    if (failed)
        *failed = n ? n - 1 : 0;
    if (n == 0)
        return sp_error_set(err, SP_EINVAL, 0, "pipe has no node");
    char **exp = calloc(n, sizeof *exp);
    if (!exp)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        sp_tok *t = NULL;
        size_t nt = 0;
        sp_buf b = SP_BUF_INIT(out->max);
        const char *s = sqls[i] ? sqls[i] : "";
        rc = sp_sql_lex(s, strlen(s), &t, &nt, err);
        size_t prev = SIZE_MAX;
        for (size_t k = 0; k < nt && !rc; k++) {
            size_t j = SIZE_MAX;
            if (prev != SIZE_MAX && (sp_tok_is(s, &t[prev], "FROM") || sp_tok_is(s, &t[prev], "JOIN")))
                for (size_t m = 0; m < i; m++)
                    if (names[m] && tok_equals(s, &t[k], names[m]))
                        j = m;
            if (j == SIZE_MAX) {
                rc = sp_buf_add(&b, s + t[k].off, t[k].len, err);
            } else {
                size_t q = k + 1;
                while (q < nt && (t[q].kind == SP_TOK_WS || t[q].kind == SP_TOK_COMMENT))
                    q++;
                int aliased = q < nt && (sp_tok_is(s, &t[q], "AS") ||
                                         (t[q].kind == SP_TOK_IDENT &&
                                          !is_clause_kw(s, &t[q])) ||
                                         t[q].kind == SP_TOK_QIDENT);
                rc = sp_buf_adds(&b, "(\n", err);
                if (!rc)
                    rc = sp_buf_adds(&b, exp[j], err);
                if (!rc)
                    rc = sp_buf_adds(&b, "\n)", err);
                if (!rc && !aliased) {
                    rc = sp_buf_adds(&b, " AS ", err);
                    if (!rc)
                        rc = sp_buf_add(&b, s + t[k].off, t[k].len, err);
                }
            }
            if (t[k].kind != SP_TOK_WS && t[k].kind != SP_TOK_COMMENT)
                prev = k;
        }
        free(t);
        if (rc == SP_ETOOBIG) /* fan-in: each reference inlines the node read */
            sp_error_prefix(err, "node '%s': its SQL with the earlier nodes it reads "
                                 "inlined",
                            names[i] ? names[i] : "?");
        if (rc && failed)
            *failed = i;
        /* drop a trailing ';' so the node can be inlined */
        while (!rc && b.len && (b.data[b.len - 1] == ';' || b.data[b.len - 1] == ' ' ||
                                b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\t'))
            b.data[--b.len] = '\0';
        if (!rc) {
            exp[i] = sp_buf_detach(&b);
            if (!exp[i])
                rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory");
        }
        sp_buf_release(&b);
    }
    if (!rc)
        rc = sp_buf_adds(out, exp[n - 1], err);
    for (size_t i = 0; i < n; i++)
        free(exp[i]);
    free(exp);
    return rc;
}
