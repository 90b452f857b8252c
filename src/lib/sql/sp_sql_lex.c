/* sp_sql_lex: tokenizer for ClickHouse-dialect SQL (see sp_sql_lex.h). */
#include "sp_ascii.h"
#include "sp_sql_lex.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sp_buf.h"
#include "sp_error.h"
#include "sp_banned.h"

static int is_ident_start(unsigned char c)
{
    return isalpha(c) || c == '_' || c >= 0x80;
}

static int is_ident_char(unsigned char c)
{
    return isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}

/* three-, two-character operators, longest first */
static const char *const ops3[] = { "<=>", NULL };
static const char *const ops2[] = { "<=", ">=", "!=", "<>", "==", "||", "::", "->", "=>",
                                    "<<", ">>", NULL };

/* end of a quoted token starting at i (src[i] is the quote); 0 if unterminated */
static size_t quoted_end(const char *s, size_t n, size_t i, char q)
{
    size_t j = i + 1;
    while (j < n) {
        if (s[j] == '\\' && j + 1 < n) {
            j += 2;
            continue;
        }
        if (s[j] == q) {
            if (j + 1 < n && s[j + 1] == q) { /* doubled quote */
                j += 2;
                continue;
            }
            return j + 1;
        }
        j++;
    }
    return 0;
}

/* the length of a heredoc tag `$name$` at s[i] ('$' then letters, digits or
 * '_', then '$'), or 0 */
static size_t heredoc_tag(const char *s, size_t n, size_t i)
{
    size_t j = i + 1;
    while (j < n && (isalnum((unsigned char)s[j]) || s[j] == '_'))
        j++;
    return j < n && s[j] == '$' ? j + 1 - i : 0;
}

int sp_sql_lex(const char *s, size_t n, sp_tok **out, size_t *ntok, sp_error *err)
{
    size_t cap = 64, cnt = 0, i = 0;
    sp_tok *v = malloc(cap * sizeof *v);
    *out = NULL;
    *ntok = 0;
    if (!v)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        sp_tok t = { SP_TOK_OP, i, 1 };
        if (isspace(c)) {
            size_t j = i;
            while (j < n && isspace((unsigned char)s[j]))
                j++;
            t.kind = SP_TOK_WS;
            t.len = j - i;
        } else if (c == '-' && i + 1 < n && s[i + 1] == '-') {
            size_t j = i;
            while (j < n && s[j] != '\n')
                j++;
            t.kind = SP_TOK_COMMENT;
            t.len = j - i;
        } else if (c == '#' && i + 1 < n && (s[i + 1] == ' ' || s[i + 1] == '!')) {
            /* MySQL-style comment, as ClickHouse's lexer reads "# " and "#!" */
            size_t j = i;
            while (j < n && s[j] != '\n')
                j++;
            t.kind = SP_TOK_COMMENT;
            t.len = j - i;
        } else if (c == '$' && heredoc_tag(s, n, i) > 0) {
            /* $tag$ … $tag$ (heredoc string; the tag may be empty) */
            size_t tl = heredoc_tag(s, n, i);
            const char *e = NULL;
            for (size_t j = i + tl; j + tl <= n; j++)
                if (s[j] == '$' && !memcmp(s + j, s + i, tl)) {
                    e = s + j + tl;
                    break;
                }
            if (!e) {
                free(v);
                return sp_error_set(err, SP_EDEF, 0,
                                    "sql: unterminated heredoc string at offset %zu", i);
            }
            t.kind = SP_TOK_STRING;
            t.len = (size_t)(e - s) - i;
        } else if (c == '/' && i + 1 < n && s[i + 1] == '*') {
            const char *e = NULL;
            for (size_t j = i + 2; j + 1 < n; j++)
                if (s[j] == '*' && s[j + 1] == '/') {
                    e = s + j + 2;
                    break;
                }
            if (!e) {
                free(v);
                return sp_error_set(err, SP_EDEF, 0,
                                    "sql: unterminated comment at offset %zu", i);
            }
            t.kind = SP_TOK_COMMENT;
            t.len = (size_t)(e - s) - i;
        } else if (c == '\'' || c == '"' || c == '`') {
            size_t e = quoted_end(s, n, i, (char)c);
            if (!e) {
                free(v);
                return sp_error_set(err, SP_EDEF, 0, "sql: unterminated %s at offset %zu",
                                    c == '\'' ? "string" : "quoted identifier", i);
            }
            t.kind = c == '\'' ? SP_TOK_STRING : SP_TOK_QIDENT;
            t.len = e - i;
        } else if (isdigit(c) || (c == '.' && i + 1 < n && isdigit((unsigned char)s[i + 1]))) {
            size_t j = i;
            if (c == '0' && i + 1 < n && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
                j = i + 2;
                while (j < n && isxdigit((unsigned char)s[j]))
                    j++;
            } else {
                while (j < n && (isdigit((unsigned char)s[j]) || s[j] == '.'))
                    j++;
                if (j < n && (s[j] == 'e' || s[j] == 'E')) {
                    size_t k = j + 1;
                    if (k < n && (s[k] == '+' || s[k] == '-'))
                        k++;
                    if (k < n && isdigit((unsigned char)s[k])) {
                        while (k < n && isdigit((unsigned char)s[k]))
                            k++;
                        j = k;
                    }
                }
            }
            t.kind = SP_TOK_NUMBER;
            t.len = j - i;
        } else if (is_ident_start(c)) {
            size_t j = i;
            while (j < n && is_ident_char((unsigned char)s[j]))
                j++;
            t.kind = SP_TOK_IDENT;
            t.len = j - i;
        } else if (c == '{' && i + 1 < n && is_ident_start((unsigned char)s[i + 1])) {
            /* {name:Type} query parameter, else a plain brace */
            size_t j = i + 1;
            while (j < n && is_ident_char((unsigned char)s[j]))
                j++;
            if (j < n && s[j] == ':') {
                const char *e = memchr(s + j, '}', n - j);
                if (e) {
                    t.kind = SP_TOK_PARAM;
                    t.len = (size_t)(e - s) + 1 - i;
                }
            }
        } else {
            for (int k = 0; ops3[k]; k++)
                if (i + 3 <= n && memcmp(s + i, ops3[k], 3) == 0)
                    t.len = 3;
            if (t.len == 1)
                for (int k = 0; ops2[k]; k++)
                    if (i + 2 <= n && memcmp(s + i, ops2[k], 2) == 0)
                        t.len = 2;
        }
        if (cnt == cap) {
            sp_tok *nv = realloc(v, 2 * cap * sizeof *v);
            if (!nv) {
                free(v);
                return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
            }
            v = nv;
            cap *= 2;
        }
        v[cnt++] = t;
        i += t.len;
    }
    *out = v;
    *ntok = cnt;
    return 0;
}

int sp_tok_is(const char *src, const sp_tok *t, const char *word)
{
    size_t n = strlen(word);
    return t->kind == SP_TOK_IDENT && t->len == n && strncasecmp(src + t->off, word, n) == 0;
}
