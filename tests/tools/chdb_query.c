/* chdb_query: run one query on an embedded ClickHouse data folder and print
 * ClickHouse's own answer, byte for byte.  It is the independent reference of
 * tests/e2e/tinybird_corpus.sh: it uses none of sinkpipe's engine code, only
 * chDB's C API (libchdb.so, loaded with dlopen), so what it prints is what
 * ClickHouse itself writes for the query in the given format.
 *
 *   chdb_query --path DIR [--database sinkpipe] --format FMT [--now UNIX]
 *              [--setting NAME=VALUE]... SQL
 *
 * Opens DIR with chdb_connect ("--path=DIR", "--session_timezone=UTC", and
 * "--NAME=VALUE" for each --setting), runs `USE <database>`, runs SQL with
 * chdb_query_n in FMT (e.g. CSVWithNames, JSONEachRow) and writes the raw
 * result to stdout.  On failure: the error on stderr, exit status 1 (2 for
 * bad usage).
 *
 * --now UNIX: the SQL is run as ClickHouse would run it at that time.
 * ClickHouse's clock cannot be set (no setting; libfaketime reaches today()
 * but not now()), so the calls `now()`, `today()` and `yesterday()` (any
 * case, no arguments, not after a `.`, outside strings, quoted names and
 * comments) are replaced by constants named as ClickHouse names the call:
 * `(toDateTime(UNIX) AS `now()`)`, `(toDate(toDateTime(UNIX)) AS `today()`)`,
 * `(toDate(toDateTime(UNIX)) - 1 AS `yesterday()`)`.  Nothing else is
 * changed (now64(), now('tz') read the clock).  This scanner is this tool's
 * own, written from ClickHouse's lexical rules, not sinkpipe's.  Without
 * --now the SQL is run exactly as given.
 *
 * The library is found as sinkpipe finds it: $SINKPIPE_LIBCHDB, else the
 * build's default (SP_LIBCHDB_DEFAULT, the copy in third_party/chdb/), else
 * "libchdb.so" through the dynamic loader.  chDB locks a folder to one
 * process: run this while no sinkpipe process holds DIR. */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifndef SP_LIBCHDB_DEFAULT
#define SP_LIBCHDB_DEFAULT "libchdb.so"
#endif

/* chDB's C API (chdb.h, 26.7): opaque handles, the few calls used here */
typedef struct chdb_result_ chdb_result;
typedef struct chdb_connection_ *chdb_connection;

static struct {
    const char *(*version)(void);
    void (*set_signal_handlers_enabled)(int);
    chdb_connection *(*connect)(int, char **);
    void (*close_conn)(chdb_connection *);
    chdb_result *(*query_n)(chdb_connection, const char *, size_t, const char *, size_t);
    void (*destroy_query_result)(chdb_result *);
    char *(*result_buffer)(chdb_result *);
    size_t (*result_length)(chdb_result *);
    const char *(*result_error)(chdb_result *);
} api;

static void usage(void)
{
    fprintf(stderr, "usage: chdb_query --path DIR [--database NAME] --format FMT [--now UNIX] "
                    "[--setting NAME=VALUE]... SQL\n");
    exit(2);
}

static int load(void)
{
    const char *want = getenv("SINKPIPE_LIBCHDB");
    if (!want || !*want)
        want = SP_LIBCHDB_DEFAULT;
    void *h = dlopen(want, RTLD_NOW | RTLD_LOCAL);
    if (!h && strcmp(want, "libchdb.so") != 0)
        h = dlopen("libchdb.so", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        fprintf(stderr, "chdb_query: cannot load libchdb.so (%s): %s\n", want,
                why ? why : "not found");
        return -1;
    }
    struct {
        void **slot;
        const char *name;
    } syms[] = {
        { (void **)&api.version, "chdb_version" },
        { (void **)&api.set_signal_handlers_enabled, "chdb_set_signal_handlers_enabled" },
        { (void **)&api.connect, "chdb_connect" },
        { (void **)&api.close_conn, "chdb_close_conn" },
        { (void **)&api.query_n, "chdb_query_n" },
        { (void **)&api.destroy_query_result, "chdb_destroy_query_result" },
        { (void **)&api.result_buffer, "chdb_result_buffer" },
        { (void **)&api.result_length, "chdb_result_length" },
        { (void **)&api.result_error, "chdb_result_error" },
    };
    for (size_t i = 0; i < sizeof syms / sizeof *syms; i++) {
        *syms[i].slot = dlsym(h, syms[i].name);
        if (!*syms[i].slot) {
            fprintf(stderr, "chdb_query: %s has no %s\n", want, syms[i].name);
            return -1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------ --now */

typedef struct outbuf {
    char *p;
    size_t len, cap;
} outbuf;

static void put(outbuf *o, const char *s, size_t n)
{
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 256;
        while (o->len + n + 1 > cap)
            cap *= 2;
        char *np = realloc(o->p, cap);
        if (!np) {
            fprintf(stderr, "chdb_query: out of memory\n");
            exit(1);
        }
        o->p = np;
        o->cap = cap;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = '\0';
}

static int ident_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int ident_char(char c)
{
    return ident_start(c) || (c >= '0' && c <= '9');
}

/* the end of a quoted token starting at s[i] (its quote q): backslash
 * escapes, and the quote doubled */
static size_t quoted_end(const char *s, size_t n, size_t i, char q)
{
    for (i++; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n)
            i++;
        else if (s[i] == q) {
            if (i + 1 < n && s[i + 1] == q)
                i++;
            else
                return i + 1;
        }
    }
    return n;
}

/* now() / today() / yesterday() -> constants of `now` (see the top) */
static char *logical_time(const char *s, long long now)
{
    outbuf o = { 0 };
    size_t n = strlen(s), i = 0;
    char prev = 0; /* the previous significant character */
    while (i < n) {
        size_t j = i;
        char c = s[i];
        if (c == '\'' || c == '"' || c == '`') {
            j = quoted_end(s, n, i, c);
        } else if (c == '-' && i + 1 < n && s[i + 1] == '-') {
            while (j < n && s[j] != '\n')
                j++;
        } else if (c == '#' && i + 1 < n && (s[i + 1] == ' ' || s[i + 1] == '!')) {
            while (j < n && s[j] != '\n')
                j++;
        } else if (c == '/' && i + 1 < n && s[i + 1] == '*') {
            const char *e = strstr(s + i + 2, "*/");
            j = e ? (size_t)(e - s) + 2 : n;
        } else if (c == '$' && i + 1 < n && s[i + 1] == '$') {
            const char *e = strstr(s + i + 2, "$$");
            j = e ? (size_t)(e - s) + 2 : n;
        } else if (c >= '0' && c <= '9') {
            while (j < n && (ident_char(s[j]) || s[j] == '.'))
                j++;
        } else if (ident_start(c)) {
            while (j < n && ident_char(s[j]))
                j++;
            size_t k = j;
            while (k < n && (s[k] == ' ' || s[k] == '\t' || s[k] == '\n' || s[k] == '\r'))
                k++;
            size_t open = k;
            if (k < n && s[k] == '(')
                for (k++; k < n && (s[k] == ' ' || s[k] == '\t' || s[k] == '\n' || s[k] == '\r');)
                    k++;
            int call = open < n && s[open] == '(' && k < n && s[k] == ')';
            size_t len = j - i;
            int kind = 0;
            if (call && prev != '.') {
                if (len == 3 && !strncasecmp(s + i, "now", 3))
                    kind = 1;
                else if (len == 5 && !strncasecmp(s + i, "today", 5))
                    kind = 2;
                else if (len == 9 && !strncasecmp(s + i, "yesterday", 9))
                    kind = 3;
            }
            if (kind) {
                char head[96];
                snprintf(head, sizeof head, kind == 1 ? "(toDateTime(%lld) AS `"
                                            : kind == 2 ? "(toDate(toDateTime(%lld)) AS `"
                                                        : "(toDate(toDateTime(%lld)) - 1 AS `",
                         now);
                put(&o, head, strlen(head));
                put(&o, s + i, len);
                put(&o, "()`)", 4);
                i = k + 1;
                prev = ')';
                continue;
            }
        } else {
            j = i + 1;
        }
        if (j <= i)
            j = i + 1;
        put(&o, s + i, j - i);
        if (!(c == ' ' || c == '\t' || c == '\n' || c == '\r') &&
            !(c == '-' && i + 1 < n && s[i + 1] == '-') && !(c == '/' && s[i + 1] == '*') &&
            !(c == '#'))
            prev = s[j - 1];
        i = j;
    }
    if (!o.p)
        put(&o, "", 0);
    return o.p;
}

/* one statement; its answer to `out` when not NULL.  0 or -1 (error printed) */
static int run(chdb_connection c, const char *sql, const char *fmt, FILE *out)
{
    chdb_result *r = api.query_n(c, sql, strlen(sql), fmt, strlen(fmt));
    if (!r) {
        fprintf(stderr, "chdb_query: no answer to: %s\n", sql);
        return -1;
    }
    int rc = 0;
    const char *e = api.result_error(r);
    if (e) {
        fprintf(stderr, "%s%s", e, *e && e[strlen(e) - 1] == '\n' ? "" : "\n");
        rc = -1;
    } else if (out) {
        size_t n = api.result_length(r);
        const char *b = api.result_buffer(r);
        if (n && fwrite(b, 1, n, out) != n) {
            perror("chdb_query: stdout");
            rc = -1;
        }
    }
    api.destroy_query_result(r);
    return rc;
}

int main(int argc, char **argv)
{
    const char *path = NULL, *db = "sinkpipe", *fmt = NULL, *sql = NULL;
    char *extra[32];
    int nextra = 0, has_now = 0;
    long long now = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--path") && v)
            path = argv[++i];
        else if (!strcmp(a, "--database") && v)
            db = argv[++i];
        else if (!strcmp(a, "--format") && v)
            fmt = argv[++i];
        else if (!strcmp(a, "--now") && v) {
            char *end;
            now = strtoll(v, &end, 10);
            if (!*v || *end || now < 0 || now > 4294967295LL) {
                fprintf(stderr, "chdb_query: --now: '%s' is not a Unix time (0..4294967295)\n",
                        v);
                return 2;
            }
            has_now = 1;
            i++;
        } else if (!strcmp(a, "--setting") && v && nextra < 32) {
            if (!strchr(v, '='))
                usage();
            size_t n = strlen(v) + 3;
            extra[nextra] = malloc(n);
            if (!extra[nextra])
                return 1;
            snprintf(extra[nextra++], n, "--%s", v);
            i++;
        } else if (a[0] == '-' && a[1] == '-' && strcmp(a, "--") != 0)
            usage();
        else if (!sql)
            sql = !strcmp(a, "--") && v ? argv[++i] : a;
        else
            usage();
    }
    if (!path || !fmt || !sql)
        usage();
    for (const char *p = db; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_')) {
            fprintf(stderr, "chdb_query: --database: '%s' is not a plain name\n", db);
            return 2;
        }

    char *rewritten = has_now ? logical_time(sql, now) : NULL;
    if (rewritten)
        sql = rewritten;
    if (getenv("CHDB_QUERY_SHOW_SQL"))
        fprintf(stderr, "%s\n", sql);

    if (load())
        return 1;
    api.set_signal_handlers_enabled(0);

    char pathopt[4200];
    snprintf(pathopt, sizeof pathopt, "--path=%s", path);
    char *cargv[40];
    int cargc = 0;
    cargv[cargc++] = "chdb_query";
    cargv[cargc++] = pathopt;
    cargv[cargc++] = "--session_timezone=UTC";
    for (int i = 0; i < nextra; i++)
        cargv[cargc++] = extra[i];
    cargv[cargc] = NULL;
    chdb_connection *c = api.connect(cargc, cargv);
    if (!c || !*c) {
        fprintf(stderr, "chdb_query: cannot open %s with chdb_connect\n", path);
        return 1;
    }
    char use[128];
    snprintf(use, sizeof use, "USE `%s`", db);
    int rc = run(*c, use, "TabSeparated", NULL);
    if (!rc)
        rc = run(*c, sql, fmt, stdout);
    if (fflush(stdout) != 0)
        rc = -1;
    api.close_conn(c);
    for (int i = 0; i < nextra; i++)
        free(extra[i]);
    free(rewritten);
    return rc ? 1 : 0;
}
