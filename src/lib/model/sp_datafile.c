/* sp_datafile: parse .connection / .datasource / .pipe text into the model.
 *
 * Lines are `KEY value` (value optionally quoted), `# comments`, blank lines,
 * and `KEY >` blocks whose body is the following lines indented deeper than
 * the key (common indentation removed, trailing blank lines dropped). */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sp_error.h"
#include "sp_keys.h"
#include "sp_model.h"
#include "sp_banned.h"

typedef struct line {
    const char *s; /* start of the line */
    size_t len;    /* without \r\n */
} line;

typedef struct lines {
    line *v;
    size_t n;
} lines;

typedef struct stmt {
    char key[64];
    char *value; /* heap: stripped value or block body */
    int lineno;
    int block;
    int indent;
} stmt;

/* df_error: the definition error "path:line: KEY: reason" (KEY may be
 * NULL), with path, line and key as the error's fields */
static int df_error(sp_error *err, const char *path, int lineno, const char *key,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int df_error(sp_error *err, const char *path, int lineno, const char *key,
                    const char *fmt, ...)
{
    sp_where w;
    sp_where_at(&w, path, NULL, lineno, key);
    va_list ap;
    va_start(ap, fmt);
    sp_where_vset(err, &w, SP_EDEF, fmt, ap);
    va_end(ap);
    return SP_EDEF;
}

static int split_lines(const char *text, size_t len, lines *out)
{
    size_t n = 1;
    for (size_t i = 0; i < len; i++)
        n += text[i] == '\n';
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) { /* a UTF-8 BOM: not text */
        text += 3;
        len -= 3;
    }
    out->v = calloc(n, sizeof *out->v);
    if (!out->v)
        return SP_ENOMEM;
    out->n = 0;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || text[i] == '\n') {
            size_t l = i - start;
            while (l && text[start + l - 1] == '\r') /* CRLF, and stray CRs */
                l--;
            if (i < len || l)
                out->v[out->n++] = (line){ text + start, l };
            start = i + 1;
        }
    }
    return 0;
}

/* no_nul: a NUL byte would silently cut the value holding it (values are C
 * strings), so a datafile with one is rejected, pointing at its line */
static int no_nul(const char *path, const char *text, size_t len, sp_error *err)
{
    const char *z = len ? memchr(text, '\0', len) : NULL;
    if (!z)
        return 0;
    int lineno = 1;
    for (const char *p = text; p < z; p++)
        lineno += *p == '\n';
    return df_error(err, path, lineno, NULL, "NUL byte in the file");
}

static int indent_of(const line *l)
{
    int i = 0;
    while ((size_t)i < l->len && (l->s[i] == ' ' || l->s[i] == '\t'))
        i++;
    return i;
}

static int is_blank(const line *l)
{
    return (size_t)indent_of(l) == l->len;
}

static char *strip_value(const char *s, size_t n)
{
    while (n && (*s == ' ' || *s == '\t' || *s == '\r')) {
        s++;
        n--;
    }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        n--;
    if (n >= 2 && (s[0] == '"' || s[0] == '\'') && s[n - 1] == s[0]) {
        s++;
        n -= 2;
    }
    return strndup(s, n);
}

/* a line at the key's indentation that goes on a SQL block, as Tinybird
 * reads it: SQL (or the template's '%') written from column 0; the block
 * still ends at a line whose first word is a key of the file (`words`, or
 * a key of table t) */
static int sql_goes_on(const line *l, int ind, const sp_keytable *t, const char *const *words)
{
    if (!t || indent_of(l) != ind)
        return 0;
    char w[64];
    size_t k = (size_t)ind, n = 0;
    while (k < l->len && l->s[k] != ' ' && l->s[k] != '\t' && n + 1 < sizeof w)
        w[n++] = (char)toupper((unsigned char)l->s[k++]);
    w[n] = '\0';
    if (l->s[ind] == '#')
        return 0; /* a comment line of the file */
    for (size_t j = 0; words && words[j]; j++)
        if (!strcmp(w, words[j]))
            return 0;
    return !sp_keys_find(t, w);
}

/* next_stmt: the statement at *i (skipping blanks and comments); 1 when one
 * was read, 0 at the end, <0 on error.  t, words (may be NULL): a pipe's
 * keys, so that its SQL blocks may hold lines written from column 0 */
static int next_stmt(const char *path, const lines *L, size_t *i, stmt *st,
                     const sp_keytable *t, const char *const *words, sp_error *err)
{
    while (*i < L->n) {
        const line *l = &L->v[*i];
        int ind = indent_of(l);
        if ((size_t)ind == l->len || l->s[ind] == '#') {
            (*i)++;
            continue;
        }
        size_t k = (size_t)ind;
        while (k < l->len && l->s[k] != ' ' && l->s[k] != '\t')
            k++;
        size_t klen = k - (size_t)ind;
        st->lineno = (int)*i + 1;
        st->indent = ind;
        st->block = 0;
        if (klen >= sizeof st->key)
            return df_error(err, path, st->lineno, NULL, "key too long: '%.20s...'", l->s + ind);
        for (size_t j = 0; j < klen; j++)
            st->key[j] = (char)toupper((unsigned char)l->s[ind + j]);
        st->key[klen] = '\0';
        const char *v = l->s + k;
        size_t vlen = l->len - k;
        while (vlen && (*v == ' ' || *v == '\t')) {
            v++;
            vlen--;
        }
        while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
            vlen--;
        (*i)++;
        if (vlen == 1 && *v == '>') {
            st->block = 1;
            size_t b = *i, e = *i;
            int sql = !strcmp(st->key, "SQL");
            while (e < L->n && (is_blank(&L->v[e]) || indent_of(&L->v[e]) > ind ||
                                (sql && sql_goes_on(&L->v[e], ind, t, words))))
                e++;
            *i = e;
            while (e > b && is_blank(&L->v[e - 1]))
                e--;
            int common = -1;
            size_t total = 1;
            for (size_t j = b; j < e; j++) {
                total += L->v[j].len + 1;
                if (!is_blank(&L->v[j]) && (common < 0 || indent_of(&L->v[j]) < common))
                    common = indent_of(&L->v[j]);
            }
            char *body = malloc(total), *o = body;
            if (!body)
                return sp_error_set(err, SP_ENOMEM, 0, "%s: out of memory", path);
            for (size_t j = b; j < e; j++) {
                const line *bl = &L->v[j];
                if (j > b)
                    *o++ = '\n';
                if (!is_blank(bl)) {
                    memcpy(o, bl->s + common, bl->len - (size_t)common);
                    o += bl->len - (size_t)common;
                }
            }
            *o = '\0';
            st->value = body;
        } else {
            st->value = strip_value(v, vlen);
            if (!st->value)
                return sp_error_set(err, SP_ENOMEM, 0, "%s: out of memory", path);
        }
        return 1;
    }
    return 0;
}

/* key_in_block: a block (SQL, DESCRIPTION, ...) holds every line indented
 * deeper than its key, so a key line indented like the block's text would
 * silently become SQL or text, and the file lose its meaning (a sink that no
 * longer is one).  A body line at the block's own indentation whose first
 * word is one of the file's keys, written as keys are (upper case), followed
 * by a value or '>', is refused, naming its line.  `words` are the keys the
 * parser handles itself (NODE, SQL, ...); NULL-terminated.  In a block of
 * prose (DESCRIPTION) only keys with a '_' count ("TOKEN usage per day" is
 * a sentence, "EXPORT_SCHEDULE @once" is not); a SCHEMA is left to the
 * column parser, which refuses a key line as a column.  Tinybird's parser
 * reads such a line as part of the block too (a block ends only at a key
 * line that is not indented), where it breaks the SQL: it never meant what
 * it looks like. */
static int key_in_block(const char *path, const stmt *st, const sp_keytable *t,
                        const char *const *words, sp_error *err)
{
    if (!st->block || strcmp(st->key, "SCHEMA") == 0)
        return 0;
    int sql = strcmp(st->key, "SQL") == 0 || strcmp(st->key, "FORWARD_QUERY") == 0;
    int lineno = st->lineno + 1;
    for (const char *l = st->value; *l; lineno++) {
        const char *nl = strchr(l, '\n');
        size_t n = nl ? (size_t)(nl - l) : strlen(l);
        size_t w = 0;
        while (w < n && ((l[w] >= 'A' && l[w] <= 'Z') || l[w] == '_' ||
                         (w && l[w] >= '0' && l[w] <= '9')))
            w++;
        size_t v = w;
        while (v < n && (l[v] == ' ' || l[v] == '\t'))
            v++;
        if (w && w < 64 && v > w && v < n) {
            char key[64];
            memcpy(key, l, w);
            key[w] = '\0';
            int known = sp_keys_find(t, key) != NULL && (sql || memchr(key, '_', w));
            for (size_t k = 0; !known && sql && words[k]; k++)
                known = strcmp(words[k], key) == 0;
            if (known)
                return df_error(err, path, lineno, key,
                                "key line indented inside the %s block of line %d (it "
                                "would be read as part of the block); write it at column 0",
                                st->key, st->lineno);
        }
        if (!nl)
            break;
        l = nl + 1;
    }
    return 0;
}

static char *name_from_path(const char *path)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    const char *dot = strrchr(b, '.');
    return strndup(b, dot ? (size_t)(dot - b) : strlen(b));
}

static int oom(const char *path, sp_error *err)
{
    return sp_error_set(err, SP_ENOMEM, 0, "%s: out of memory", path);
}

/* parse_token: "name SCOPE" */
static int parse_token(const char *path, stmt *st, const char *dflt_scope, sp_token **tv,
                       size_t *tn, sp_error *err)
{
    const char *s = st->value;
    size_t n = strcspn(s, " \t");
    if (n == 0)
        return df_error(err, path, st->lineno, "TOKEN", "expected 'TOKEN name %s'", dflt_scope);
    const char *sc = s + n;
    while (*sc == ' ' || *sc == '\t')
        sc++;
    sp_token *v = realloc(*tv, (*tn + 1) * sizeof *v);
    if (!v)
        return oom(path, err);
    *tv = v;
    sp_token *t = &v[*tn];
    char *nm = strip_value(s, n);
    char *scope = strip_value(*sc ? sc : dflt_scope, strlen(*sc ? sc : dflt_scope));
    if (!nm || !scope) {
        free(nm);
        free(scope);
        return oom(path, err);
    }
    for (char *p = scope; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    *t = (sp_token){ nm, scope, st->lineno };
    (*tn)++;
    return 0;
}

/* --------------------------------------------------------- connection */

int sp_datafile_parse_connection(const char *path, const char *text, size_t len,
                                 sp_connection **out, sp_error *err)
{
    *out = NULL;
    lines L;
    if (no_nul(path, text, len, err))
        return SP_EDEF;
    if (split_lines(text, len, &L))
        return oom(path, err);
    sp_connection *c = calloc(1, sizeof *c);
    int rc = c ? 0 : oom(path, err);
    if (!rc && (!(c->name = name_from_path(path)) || !(c->path = strdup(path))))
        rc = oom(path, err);
    int have_type = 0;
    size_t i = 0;
    stmt st;
    static const char *const conn_words[] = { "TYPE", "DESCRIPTION", NULL };
    while (!rc && (rc = next_stmt(path, &L, &i, &st, NULL, NULL, err)) == 1) {
        rc = have_type ? key_in_block(path, &st, sp_keys_for_conn(c->type), conn_words, err)
                       : 0;
        if (rc) {
            /* refused; the value is freed below */
        } else if (strcmp(st.key, "TYPE") == 0) {
            if (have_type)
                rc = df_error(err, path, st.lineno, "TYPE", "duplicate key");
            else if (strcasecmp(st.value, "kafka") == 0)
                c->type = SP_CONN_KAFKA;
            else if (strcasecmp(st.value, "s3") == 0 || strcasecmp(st.value, "s3_iamrole") == 0)
                c->type = SP_CONN_S3;
            else if (strcasecmp(st.value, "gcs") == 0)
                c->type = SP_CONN_GCS;
            else
                rc = df_error(err, path, st.lineno, "TYPE",
                              "unknown connection type '%s' (expected kafka, "
                              "s3, gcs)", st.value);
            have_type = 1;
            c->type_line = st.lineno;
        } else if (sp_kvlist_add(&c->keys, st.key, st.value, st.lineno)) {
            rc = oom(path, err);
        }
        free(st.value);
    }
    free(L.v);
    if (!rc && !have_type)
        rc = df_error(err, path, 1, "TYPE",
                      "required key is missing (expected kafka, s3, gcs)");
    if (!rc)
        rc = sp_connection_validate(c, err);
    if (rc) {
        sp_connection_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

/* --------------------------------------------------------- datasource */

/* parse_column: one column definition `name Type [`json:$.p`] [DEFAULT x]
 * [CODEC(...)]` */
static int parse_column(const char *path, const char *s, size_t n, int lineno,
                        sp_column_def *c, sp_error *err)
{
    const char *e = s + n;
    while (s < e && isspace((unsigned char)*s))
        s++;
    while (e > s && isspace((unsigned char)e[-1]))
        e--;
    c->line = lineno;
    const char *p = s;
    if (*p == '`') {
        const char *q = memchr(p + 1, '`', (size_t)(e - p - 1));
        if (!q)
            return df_error(err, path, lineno, "SCHEMA", "unclosed ` in column name");
        c->name = strndup(p + 1, (size_t)(q - p - 1));
        p = q + 1;
    } else {
        while (p < e && !isspace((unsigned char)*p))
            p++;
        c->name = strndup(s, (size_t)(p - s));
    }
    if (!c->name)
        return oom(path, err);
    while (p < e && isspace((unsigned char)*p))
        p++;
    const char *ts = p;
    int depth = 0;
    char q = 0;
    for (; p < e; p++) { /* quotes as parse_schema sees them: ' " ` */
        if (q) {
            if (*p == q)
                q = 0;
        } else if (*p == '\'' || *p == '"' || *p == '`') {
            q = *p;
        } else if (*p == '(') {
            depth++;
        } else if (*p == ')') {
            depth--;
        } else if (depth == 0 && isspace((unsigned char)*p)) {
            break;
        }
    }
    if (p == ts)
        return df_error(err, path, lineno, "SCHEMA", "column '%s' has no type", c->name);
    if (!(c->type = strndup(ts, (size_t)(p - ts))))
        return oom(path, err);
    while (p < e) {
        while (p < e && isspace((unsigned char)*p))
            p++;
        if (p == e)
            break;
        if (*p == '`') {
            const char *qe = memchr(p + 1, '`', (size_t)(e - p - 1));
            if (!qe)
                return df_error(err, path, lineno, "SCHEMA", "column '%s': unclosed `", c->name);
            const char *js = p + 1;
            if (qe - js >= 5 && strncmp(js, "json:", 5) == 0)
                js += 5;
            free(c->jsonpath);
            if (!(c->jsonpath = strndup(js, (size_t)(qe - js))))
                return oom(path, err);
            p = qe + 1;
        } else if (e - p > 7 && strncasecmp(p, "DEFAULT", 7) == 0 && isspace((unsigned char)p[7])) {
            p += 8;
            while (p < e && isspace((unsigned char)*p))
                p++;
            const char *ds = p;
            depth = 0;
            q = 0;
            for (; p < e; p++) {
                if (q) {
                    if (*p == '\\' && p + 1 < e)
                        p++;
                    else if (*p == q)
                        q = 0;
                } else if (*p == '\'' || *p == '"') {
                    q = *p;
                } else if (*p == '(') {
                    depth++;
                } else if (*p == ')') {
                    depth--;
                } else if (depth == 0 && isspace((unsigned char)*p) && e - p > 6 &&
                           strncasecmp(p + 1, "CODEC(", 6) == 0) {
                    break;
                }
            }
            if (q)
                return df_error(err, path, lineno, "SCHEMA",
                                "column '%s': unterminated string in DEFAULT", c->name);
            const char *de = p;
            while (de > ds && isspace((unsigned char)de[-1]))
                de--;
            if (de == ds)
                return df_error(err, path, lineno, "SCHEMA",
                                "column '%s': DEFAULT without an expression", c->name);
            free(c->default_expr);
            if (!(c->default_expr = strndup(ds, (size_t)(de - ds))))
                return oom(path, err);
        } else if (e - p > 6 && strncasecmp(p, "CODEC(", 6) == 0) {
            const char *cs = p + 6;
            depth = 1;
            q = 0;
            for (p = cs; p < e && depth; p++) {
                if (q)
                    q = *p == q ? 0 : q;
                else if (*p == '\'' || *p == '"' || *p == '`')
                    q = *p;
                else
                    depth += *p == '(' ? 1 : *p == ')' ? -1 : 0;
            }
            if (depth || q)
                return df_error(err, path, lineno, "SCHEMA",
                                "column '%s': unbalanced CODEC(", c->name);
            free(c->codec);
            if (!(c->codec = strndup(cs, (size_t)(p - 1 - cs))))
                return oom(path, err);
        } else {
            return df_error(err, path, lineno, "SCHEMA",
                            "column '%s': unexpected '%.*s' (expected "
                            "`json:$.path`, DEFAULT expr or CODEC(...))",
                            c->name, (int)(e - p > 40 ? 40 : e - p), p);
        }
    }
    return 0;
}

/* parse_schema: split the SCHEMA body on commas at depth 0 outside quotes
 * and backticks; `#` comment lines are ignored */
static int parse_schema(const char *path, const char *text, int line0, sp_datasource *d,
                        sp_error *err)
{
    char *body = strdup(text);
    if (!body)
        return oom(path, err);
    /* drop comment lines' text, keep their newlines (for line numbers);
     * blanking them to spaces would leave whitespace the writer cannot
     * reproduce inside a field spanning lines */
    char *w = body;
    for (const char *l = body; *l;) {
        const char *nl = strchr(l, '\n');
        size_t n = nl ? (size_t)(nl - l) : strlen(l);
        if (l[strspn(l, " \t")] != '#') {
            memmove(w, l, n);
            w += n;
        }
        if (!nl)
            break;
        *w++ = '\n';
        l = nl + 1;
    }
    *w = '\0';
    const char *s = body, *start = body;
    int depth = 0, lineno = line0, col_line = -1, rc = 0;
    char q = 0;
    for (;; s++) {
        if (*s == '\0' || (!q && depth == 0 && *s == ',')) {
            const char *a = start;
            while (a < s && isspace((unsigned char)*a))
                a++;
            if (a < s) {
                sp_column_def *v = realloc(d->cols, (d->ncols + 1) * sizeof *v);
                if (!v) {
                    rc = oom(path, err);
                    break;
                }
                d->cols = v;
                memset(&v[d->ncols], 0, sizeof v[0]);
                d->ncols++;
                rc = parse_column(path, a, (size_t)(s - a), col_line > 0 ? col_line : lineno,
                                  &v[d->ncols - 1], err);
                if (rc)
                    break;
            } else if (*s == ',') {
                rc = df_error(err, path, lineno, "SCHEMA", "empty column definition");
                break;
            }
            if (*s == '\0')
                break;
            start = s + 1;
            col_line = -1;
            continue;
        }
        if (*s == '\n') {
            lineno++;
            continue;
        }
        if (col_line < 0 && !isspace((unsigned char)*s))
            col_line = lineno;
        if (q) {
            if (*s == q)
                q = 0;
        } else if (*s == '\'' || *s == '"' || *s == '`') {
            q = *s;
        } else if (*s == '(') {
            depth++;
        } else if (*s == ')') {
            depth--;
        }
    }
    free(body);
    return rc;
}

int sp_datafile_parse_datasource(const char *path, const char *text, size_t len,
                                 sp_datasource **out, sp_error *err)
{
    *out = NULL;
    lines L;
    if (no_nul(path, text, len, err))
        return SP_EDEF;
    if (split_lines(text, len, &L))
        return oom(path, err);
    sp_datasource *d = calloc(1, sizeof *d);
    int rc = d ? 0 : oom(path, err);
    if (!rc && (!(d->name = name_from_path(path)) || !(d->path = strdup(path))))
        rc = oom(path, err);
    size_t i = 0;
    stmt st;
    static const char *const ds_words[] = { "DESCRIPTION", "SCHEMA", "TOKEN", NULL };
    while (!rc && (rc = next_stmt(path, &L, &i, &st, NULL, NULL, err)) == 1) {
        rc = key_in_block(path, &st, &sp_keys_datasource, ds_words, err);
        if (rc) {
            /* refused; the value is freed below */
        } else if (strcmp(st.key, "DESCRIPTION") == 0) {
            free(d->description);
            d->description = st.value;
            st.value = NULL;
        } else if (strcmp(st.key, "SCHEMA") == 0) {
            if (d->schema_line)
                rc = df_error(err, path, st.lineno, "SCHEMA", "duplicate key");
            d->schema_line = st.lineno;
            if (!rc)
                rc = parse_schema(path, st.value, st.block ? st.lineno + 1 : st.lineno, d, err);
        } else if (strcmp(st.key, "TOKEN") == 0) {
            rc = parse_token(path, &st, "APPEND", &d->tokens, &d->ntokens, err);
        } else if (sp_kvlist_add(&d->keys, st.key, st.value, st.lineno)) {
            rc = oom(path, err);
        }
        free(st.value);
    }
    free(L.v);
    if (!rc)
        rc = sp_datasource_validate(d, err);
    if (rc) {
        sp_datasource_free(d);
        return rc;
    }
    *out = d;
    return 0;
}

/* ---------------------------------------------------------------- pipe */

static int pipe_type(const char *v, sp_pipe_type *t)
{
    static const struct {
        const char *name;
        sp_pipe_type t;
    } types[] = { { "sink", SP_PIPE_SINK },       { "endpoint", SP_PIPE_ENDPOINT },
                  { "copy", SP_PIPE_COPY },       { "materialized", SP_PIPE_MATERIALIZED },
                  { "default", SP_PIPE_DEFAULT } };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcasecmp(v, types[i].name) == 0) {
            *t = types[i].t;
            return 0;
        }
    return SP_EDEF;
}

int sp_datafile_parse_pipe(const char *path, const char *text, size_t len, sp_pipe **out,
                           sp_error *err)
{
    *out = NULL;
    lines L;
    if (no_nul(path, text, len, err))
        return SP_EDEF;
    if (split_lines(text, len, &L))
        return oom(path, err);
    sp_pipe *p = calloc(1, sizeof *p);
    int rc = p ? 0 : oom(path, err);
    if (!rc && (!(p->name = name_from_path(path)) || !(p->path = strdup(path))))
        rc = oom(path, err);
    sp_node *cur = NULL;
    int have_type = 0;
    size_t i = 0;
    stmt st;
    static const char *const pipe_words[] = { "NODE", "SQL", "TYPE", "TOKEN", "DESCRIPTION",
                                              NULL };
    while (!rc && (rc = next_stmt(path, &L, &i, &st, &sp_keys_pipe, pipe_words, err)) == 1) {
        rc = key_in_block(path, &st, &sp_keys_pipe, pipe_words, err);
        if (rc) {
            /* refused; the value is freed below */
        } else if (strcmp(st.key, "NODE") == 0) {
            sp_node *v = realloc(p->nodes, (p->nnodes + 1) * sizeof *v);
            if (!v) {
                rc = oom(path, err);
            } else {
                p->nodes = v;
                cur = &v[p->nnodes++];
                memset(cur, 0, sizeof *cur);
                cur->name = st.value;
                cur->line = st.lineno;
                st.value = NULL;
            }
        } else if (strcmp(st.key, "DESCRIPTION") == 0) {
            char **dst = cur ? &cur->description : &p->description;
            free(*dst);
            *dst = st.value;
            st.value = NULL;
        } else if (strcmp(st.key, "SQL") == 0) {
            if (!cur) {
                rc = df_error(err, path, st.lineno, "SQL", "SQL outside a NODE");
            } else if (cur->sql) {
                rc = df_error(err, path, st.lineno, "SQL", "node '%s' already has SQL", cur->name);
            } else {
                char *s = st.value;
                cur->sql_line = st.block ? st.lineno + 1 : st.lineno;
                size_t n = strcspn(s, "\n");
                size_t a = 0;
                while (a < n && (s[a] == ' ' || s[a] == '\t'))
                    a++;
                size_t b = n;
                while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t'))
                    b--;
                if (b == a + 1 && s[a] == '%') {
                    cur->templated = 1;
                    cur->sql_line++;
                    memmove(s, s + n + (s[n] ? 1 : 0), strlen(s + n + (s[n] ? 1 : 0)) + 1);
                }
                cur->sql = s;
                st.value = NULL;
            }
        } else if (strcmp(st.key, "TYPE") == 0) {
            if (have_type)
                rc = df_error(err, path, st.lineno, "TYPE", "duplicate key");
            else if (pipe_type(st.value, &p->type))
                rc = df_error(err, path, st.lineno, "TYPE",
                              "unknown pipe type '%s' (expected sink, "
                              "endpoint, copy, materialized)", st.value);
            have_type = 1;
            p->type_line = st.lineno;
        } else if (strcmp(st.key, "TOKEN") == 0) {
            rc = parse_token(path, &st, "READ", &p->tokens, &p->ntokens, err);
        } else if (sp_kvlist_add(&p->keys, st.key, st.value, st.lineno)) {
            rc = oom(path, err);
        }
        free(st.value);
    }
    free(L.v);
    if (!rc)
        rc = sp_pipe_validate(p, err);
    if (rc) {
        sp_pipe_free(p);
        return rc;
    }
    *out = p;
    return 0;
}
