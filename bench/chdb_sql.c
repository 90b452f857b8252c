/* chdb_sql: run SQL statements in chDB (ClickHouse as a library), the
 * engine sinkpipe embeds, on a storage folder — the peer of bench/run.sh.
 *
 *   chdb_sql [--path DIR] [--database DB] [--format FMT] [--set name=value]...
 *            SQL [SQL...]
 *
 * Loads the same libchdb.so as sinkpipe (dlopen of $SINKPIPE_LIBCHDB, else
 * what the build found: third_party/chdb/libchdb.so), connects with
 * --path=DIR (a project's .sinkpipe/clickhouse; in memory without it) and
 * the settings sinkpipe's engine uses (session_timezone=UTC, …; --set adds
 * more), creates the database DB (default `sinkpipe`) when missing (Atomic,
 * as sinkpipe does), makes it current, then runs each SQL argument in turn.
 * A statement's result (FORMAT FMT, default TabSeparated) goes to stdout.
 * For each statement prints "chdb_sql: <elapsed seconds>" on stderr; on the
 * first error prints it and exits 1.  chDB locks a folder to one process:
 * no sinkpipe command of that project may run meanwhile. */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef SP_LIBCHDB_DEFAULT
#define SP_LIBCHDB_DEFAULT "libchdb.so"
#endif

typedef struct chdb_result_ chdb_result;
typedef struct chdb_connection_ *chdb_connection;

static struct {
    void (*set_signal_handlers_enabled)(int);
    chdb_connection *(*connect)(int, char **);
    void (*close_conn)(chdb_connection *);
    chdb_result *(*query_n)(chdb_connection, const char *, size_t, const char *, size_t);
    void (*destroy_query_result)(chdb_result *);
    char *(*result_buffer)(chdb_result *);
    size_t (*result_length)(chdb_result *);
    const char *(*result_error)(chdb_result *);
} api;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* one statement; its result to stdout when `out` */
static int run(chdb_connection *c, const char *sql, const char *fmt, int out)
{
    chdb_result *r = api.query_n(*c, sql, strlen(sql), fmt, strlen(fmt));
    if (!r) {
        fprintf(stderr, "chdb_sql: no answer to: %.200s\n", sql);
        return 1;
    }
    int rc = 0;
    const char *e = api.result_error(r);
    if (e) {
        fprintf(stderr, "chdb_sql: %s\n  in: %.300s\n", e, sql);
        rc = 1;
    } else if (out) {
        size_t n = api.result_length(r);
        if (n && fwrite(api.result_buffer(r), 1, n, stdout) != n) {
            perror("chdb_sql: stdout");
            rc = 1;
        }
    }
    api.destroy_query_result(r);
    return rc;
}

static int usage(void)
{
    fprintf(stderr, "usage: chdb_sql [--path DIR] [--database DB] [--format FMT] "
                    "[--set name=value]... SQL [SQL...]\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *path = NULL, *db = "sinkpipe", *fmt = "TabSeparated";
    char *cargv[80];
    int cargc = 0;
    static char pathopt[4200];
    cargv[cargc++] = "chdb_sql";
    /* the settings of sinkpipe's embedded engine (sp_engine_clickhouse.c) */
    static char *const base_settings[] = {
        "--session_timezone=UTC",
        "--allow_suspicious_types_in_group_by=1",
        "--allow_suspicious_types_in_order_by=1",
    };
    for (size_t i = 0; i < sizeof base_settings / sizeof *base_settings; i++)
        cargv[cargc++] = base_settings[i];
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--path") && i + 1 < argc)
            path = argv[++i];
        else if (!strcmp(a, "--database") && i + 1 < argc)
            db = argv[++i];
        else if (!strcmp(a, "--format") && i + 1 < argc)
            fmt = argv[++i];
        else if (!strcmp(a, "--set") && i + 1 < argc && cargc < 70) {
            const char *s = argv[++i];
            size_t n = strlen(s) + 3;
            char *o = malloc(n);
            if (!o)
                return 1;
            snprintf(o, n, "--%s", s);
            cargv[cargc++] = o;
        } else if (!strcmp(a, "--"))
            { i++; break; }
        else if (a[0] == '-' && a[1] == '-')
            return usage();
        else
            break;
    }
    if (i >= argc)
        return usage();
    for (const char *p = db; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_')) {
            fprintf(stderr, "chdb_sql: bad database name '%s'\n", db);
            return 2;
        }
    if (path) {
        snprintf(pathopt, sizeof pathopt, "--path=%s", path);
        cargv[cargc++] = pathopt;
    }
    cargv[cargc] = NULL;

    const char *lib = getenv("SINKPIPE_LIBCHDB");
    if (!lib || !*lib)
        lib = SP_LIBCHDB_DEFAULT;
    void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "chdb_sql: cannot load %s: %s\n", lib, dlerror());
        return 1;
    }
    struct {
        void **slot;
        const char *name;
    } syms[] = {
        { (void **)&api.set_signal_handlers_enabled, "chdb_set_signal_handlers_enabled" },
        { (void **)&api.connect, "chdb_connect" },
        { (void **)&api.close_conn, "chdb_close_conn" },
        { (void **)&api.query_n, "chdb_query_n" },
        { (void **)&api.destroy_query_result, "chdb_destroy_query_result" },
        { (void **)&api.result_buffer, "chdb_result_buffer" },
        { (void **)&api.result_length, "chdb_result_length" },
        { (void **)&api.result_error, "chdb_result_error" },
    };
    for (size_t k = 0; k < sizeof syms / sizeof *syms; k++)
        if (!(*syms[k].slot = dlsym(h, syms[k].name))) {
            fprintf(stderr, "chdb_sql: %s has no %s\n", lib, syms[k].name);
            return 1;
        }
    api.set_signal_handlers_enabled(0);

    chdb_connection *c = api.connect(cargc, cargv);
    if (!c) {
        fprintf(stderr, "chdb_sql: cannot connect (path %s)\n", path ? path : ":memory:");
        return 1;
    }
    char q[256];
    snprintf(q, sizeof q, "CREATE DATABASE IF NOT EXISTS `%s` ENGINE = Atomic", db);
    int rc = run(c, q, fmt, 0);
    snprintf(q, sizeof q, "USE `%s`", db);
    if (!rc)
        rc = run(c, q, fmt, 0);
    for (; !rc && i < argc; i++) {
        double t0 = now();
        rc = run(c, argv[i], fmt, 1);
        if (!rc)
            fprintf(stderr, "chdb_sql: %.3f\n", now() - t0);
    }
    fflush(stdout);
    api.close_conn(c);
    return rc;
}
